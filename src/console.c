/*
 * The console writer. The supervisor's stdout may be a terminal, a pipe,
 * a socket (journald) or a file, shared with whoever started us: its
 * flags are not ours to change. A pipe or a terminal is reopened
 * (/proc/self/fd/N) as an open file of our own, non-blocking, and
 * written when it polls writable; a socket is written with MSG_DONTWAIT
 * and looked at again on a timer; a file takes every write at once.
 * Knows nothing of units or outlets: its feeders are waiters.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "console.h"
#include "log.h"
#include "xmalloc.h"

/* How often a console that cannot be polled is looked at while held. */
#define CONSOLE_RETRY_MS	10

TAILQ_HEAD(console_waiters, console_waiter);

struct console {
	uv_loop_t		*loop;
	int			 fd;		/* where bytes go */
	int			 own_fd;	/* our reopen: polled, closed */
	int			 use_send;	/* a socket: MSG_DONTWAIT */
	struct buf		 out;		/* held: the fd took no more */
	uv_poll_t		 poll;		/* own_fd: writable */
	uv_timer_t		 retry;		/* otherwise: look again */
	uv_timer_t		 stop;		/* after a stop: the reader's time */
	int			 has_poll;
	int			 nhandles;	/* open: retry, stop, poll */
	int			 waiting;	/* poll or retry started */
	int			 stopping;
	int			 broken;	/* dropped: what comes is dropped */
	int			 freed;
	int			 closing;
	size_t			 lost;		/* bytes over CONSOLE_HARD_MAX */
	struct console_waiters	 waiters;
};

static void	console_poll_cb(uv_poll_t *, int, int);
static void	console_retry_cb(uv_timer_t *);

/*
 * An open file of our own for fd when it is a pipe or a terminal that
 * blocks, so that making it non-blocking changes nothing for the others
 * who share fd's (our own stderr messages, the shell that started us).
 */
static void
console_open(struct console *c, int fd)
{
	struct stat	st;
	char		path[32];
	int		flags, nfd;

	c->fd = fd;
	/* A closed fd: writes fail and are dropped, as they always were. */
	if (fstat(fd, &st) == -1)
		return;
	if (S_ISSOCK(st.st_mode)) {
		c->use_send = 1;
		return;
	}
	if (!S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
		return;
	if ((flags = fcntl(fd, F_GETFL)) != -1 && (flags & O_NONBLOCK))
		return;
	(void)snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	if ((nfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) ==
	    -1) {
		log_debug("console: cannot reopen fd %d: %s; writing to it may "
		    "wait", fd, strerror(errno));
		return;
	}
	c->fd = nfd;
	c->own_fd = 1;
}

struct console *
console_new(uv_loop_t *loop, int fd)
{
	struct console	*c;

	c = xcalloc(1, sizeof *c);
	c->loop = loop;
	buf_init(&c->out);
	TAILQ_INIT(&c->waiters);
	console_open(c, fd);
	if (uv_timer_init(loop, &c->retry) != 0 ||
	    uv_timer_init(loop, &c->stop) != 0)
		fatalx("uv_timer_init failed");
	c->retry.data = c->stop.data = c;
	/* The reader's time after a stop never keeps the loop up alone. */
	uv_unref((uv_handle_t *)&c->stop);
	c->nhandles = 2;
	return c;
}

static void
console_close_cb(uv_handle_t *h)
{
	struct console	*c = h->data;

	if (--c->nhandles > 0)
		return;
	if (c->own_fd)
		(void)close(c->fd);
	buf_release(&c->out);
	free(c);
}

static void
console_close(struct console *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	uv_close((uv_handle_t *)&c->retry, console_close_cb);
	uv_close((uv_handle_t *)&c->stop, console_close_cb);
	if (c->has_poll)
		uv_close((uv_handle_t *)&c->poll, console_close_cb);
}

/*
 * Call every waiter once; they may write and wait again (at the tail).
 * Each is taken off the list only when its turn comes: a callback may
 * unwait another (its unit went), which must then not be called.
 */
static void
console_wake(struct console *c)
{
	struct console_waiter	*w;
	size_t			 n = 0;

	TAILQ_FOREACH(w, &c->waiters, entry)
		n++;
	while (n-- > 0 && (w = TAILQ_FIRST(&c->waiters)) != NULL) {
		TAILQ_REMOVE(&c->waiters, w, entry);
		w->on = NULL;
		w->fn(w);
	}
}

/* Stop waiting for the fd: nothing is held, or nothing will be. */
static void
console_idle(struct console *c)
{
	if (c->waiting) {
		if (c->has_poll)
			(void)uv_poll_stop(&c->poll);
		(void)uv_timer_stop(&c->retry);
		c->waiting = 0;
	}
	(void)uv_timer_stop(&c->stop);
	if (c->freed)
		console_close(c);
}

/*
 * What is held and what comes is dropped; the feeders go on, woken from
 * the loop: a write that fails may be made by one of them, in the middle
 * of its read.
 */
static void
console_break(struct console *c)
{
	c->broken = 1;
	buf_release(&c->out);
	console_idle(c);
	if (!TAILQ_EMPTY(&c->waiters) && !c->closing &&
	    uv_timer_start(&c->retry, console_retry_cb, 0, 0) != 0)
		fatalx("uv_timer_start failed");
}

/*
 * Write as much of p as the fd takes now. A failure other than "no
 * room" (EPIPE: the reader went) drops this and all that comes, as a
 * write to a closed stdout always did. The bytes taken.
 */
static size_t
console_try(struct console *c, const char *p, size_t n)
{
	size_t	done = 0;
	ssize_t	k;

	while (done < n) {
		if (c->use_send)
			k = send(c->fd, p + done, n - done, MSG_DONTWAIT);
		else
			k = write(c->fd, p + done, n - done);
		if (k > 0) {
			done += (size_t)k;
			continue;
		}
		if (k == -1 && errno == EINTR)
			continue;
		if (k == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		console_break(c);
		return n;
	}
	return done;
}

/* After a stop, the reader took nothing in its time: drop what is held. */
static void
console_stop_cb(uv_timer_t *h)
{
	struct console	*c = h->data;

	size_t		 n = buf_used(&c->out);

	if (n == 0)
		return;
	/* Broken first: the message may be bound for this very console. */
	console_break(c);
	log_warnx("console: %zu bytes of output dropped: its reader took "
	    "nothing for %d s after the stop", n, CONSOLE_STOP_WAIT_MS / 1000);
}

/*
 * After a stop, bytes are held and the reader has its time from now: from
 * when they came, or from the last time it took some.
 */
static void
console_arm_stop(struct console *c)
{
	if (!c->stopping || c->broken || buf_used(&c->out) == 0)
		return;
	if (uv_timer_start(&c->stop, console_stop_cb, CONSOLE_STOP_WAIT_MS,
	    0) != 0)
		fatalx("uv_timer_start failed");
}

/* Wait for the fd to take what is held. */
static void
console_wait_fd(struct console *c)
{
	int	error;

	if (c->waiting || c->broken)
		return;
	if (c->own_fd) {
		if (!c->has_poll) {
			if ((error = uv_poll_init(c->loop, &c->poll,
			    c->fd)) != 0) {
				console_break(c);
				log_warnx("console: cannot poll fd %d: %s; its "
				    "output is dropped", c->fd,
				    uv_strerror(error));
				return;
			}
			c->poll.data = c;
			c->has_poll = 1;
			c->nhandles++;
		}
		error = uv_poll_start(&c->poll, UV_WRITABLE, console_poll_cb);
	} else
		error = uv_timer_start(&c->retry, console_retry_cb,
		    CONSOLE_RETRY_MS, CONSOLE_RETRY_MS);
	if (error != 0) {
		console_break(c);
		log_warnx("console: cannot wait for fd %d: %s; its output is "
		    "dropped", c->fd, uv_strerror(error));
		return;
	}
	c->waiting = 1;
}

/* Write what is held, as much as the fd takes; wake feeders at half. */
static void
console_flush(struct console *c)
{
	size_t	k;

	k = console_try(c, buf_ptr(&c->out), buf_used(&c->out));
	if (c->broken)
		return;
	if (k > 0) {
		buf_consume(&c->out, k);
		console_arm_stop(c);
	}
	if (buf_used(&c->out) == 0) {
		/* A burst's megabyte is not kept for ever. */
		buf_release(&c->out);
		console_idle(c);
		if (c->lost > 0) {
			k = c->lost;
			c->lost = 0;
			log_warnx("console: %zu bytes of output dropped: its "
			    "reader was too slow for the supervisor's messages",
			    k);
		}
	}
	if (buf_used(&c->out) <= CONSOLE_MAX / 2)
		console_wake(c);
}

static void
console_poll_cb(uv_poll_t *h, int status, int events)
{
	struct console	*c = h->data;

	/*
	 * A reader that went shows as an error of the poll: the write says
	 * EPIPE, and what comes is dropped as always. Only an error the
	 * write does not explain is said.
	 */
	console_flush(c);
	if (status < 0 && !c->broken && buf_used(&c->out) > 0) {
		console_break(c);
		log_warnx("console: polling fd %d: %s; its output is dropped",
		    c->fd, uv_strerror(status));
	}
}

static void
console_retry_cb(uv_timer_t *h)
{
	struct console	*c = h->data;

	if (c->broken)
		console_wake(c);
	else
		console_flush(c);
}

void
console_write(struct console *c, const char *p, size_t n)
{
	size_t	k;

	if (c->broken || n == 0)
		return;
	/*
	 * Feeders that can wait do so at CONSOLE_MAX; what comes from those
	 * that cannot (our messages) is held up to a bound.
	 */
	if (buf_used(&c->out) + n > CONSOLE_HARD_MAX) {
		c->lost += n;
		return;
	}
	if (buf_used(&c->out) == 0) {
		k = console_try(c, p, n);
		if (c->broken || k == n)
			return;
		p += k;
		n -= k;
		buf_add(&c->out, p, n);
		console_arm_stop(c);
	} else
		buf_add(&c->out, p, n);
	console_wait_fd(c);
}

int
console_is_full(const struct console *c)
{
	return !c->broken && buf_used(&c->out) >= CONSOLE_MAX;
}

void
console_wait(struct console *c, struct console_waiter *w)
{
	console_unwait(w);
	w->on = c;
	TAILQ_INSERT_TAIL(&c->waiters, w, entry);
}

void
console_unwait(struct console_waiter *w)
{
	if (w->on == NULL)
		return;
	TAILQ_REMOVE(&w->on->waiters, w, entry);
	w->on = NULL;
}

void
console_stop(struct console *c)
{
	c->stopping = 1;
	console_arm_stop(c);
}

void
console_free(struct console *c)
{
	if (c == NULL)
		return;
	c->freed = 1;
	c->stopping = 1;
	if (c->broken || buf_used(&c->out) == 0) {
		console_idle(c);
		return;
	}
	console_arm_stop(c);
}

int
console_is_same(int a, int b)
{
	struct stat	sa, sb;

	if (fstat(a, &sa) == -1 || fstat(b, &sb) == -1)
		return 0;
	/* A file takes every write whole: two consoles cannot mix lines. */
	if (S_ISREG(sa.st_mode))
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
