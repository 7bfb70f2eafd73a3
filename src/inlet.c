/*
 * Inlets: a queue's items written in batches into a child's stdin, with
 * a short log of what may still sit unread in the pipe, so a dying
 * consumer loses nothing: it goes back to the head of the queue. Knows
 * nothing of outlets or of lines read from children.
 */
#include "config.h"

#include <sys/ioctl.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "queue.h"
#include "redisq.h"
#include "wire.h"
#include "wire-int.h"
#include "xmalloc.h"

static void	inlet_poll_cb(uv_poll_t *, int, int);
static void	inlet_poll_close_cb(uv_handle_t *);

static void
inlet_lens_push(struct inlet *in, size_t len)
{
	if (in->ltail == in->lcap) {
		if (in->lhead > 0) {
			memmove(in->lens, in->lens + in->lhead,
			    (in->ltail - in->lhead) * sizeof *in->lens);
			in->ltail -= in->lhead;
			in->lhead = 0;
		} else {
			in->lcap = in->lcap ? in->lcap * 2 : 64;
			in->lens = xreallocarray(in->lens, in->lcap,
			    sizeof *in->lens);
		}
	}
	in->lens[in->ltail++] = len;
}

/*
 * Forget items that must have left the pipe: once more than a pipe's
 * worth of bytes was written after an item, the reader has taken it.
 */
static void
inlet_trim(struct inlet *in)
{
	size_t	written, first, drop = 0;

	written = buf_used(&in->log) - in->unwritten;
	while (in->lhead < in->ltail) {
		first = in->lens[in->lhead] + 1;
		if (written < first || written - first < in->pipe_size)
			break;
		written -= first;
		drop += first;
		in->lhead++;
	}
	if (drop > 0)
		buf_consume(&in->log, drop);
	if (in->lhead == in->ltail)
		in->lhead = in->ltail = 0;
}

/* Append an item and its newline to the log, not yet written. */
void
inlet_log_add(struct inlet *in, const void *p, size_t n)
{
	buf_reserve(&in->log, n + 1);
	memcpy(in->log.data + in->log.len, p, n);
	in->log.data[in->log.len + n] = '\n';
	in->log.len += n + 1;
	inlet_lens_push(in, n);
	in->unwritten += n + 1;
}

/* inlet_fill of a Redis queue: each item taken carries its id along. */
static void
inlet_fill_redis(struct inlet *in)
{
	const void	*p;
	size_t		 n;
	int		 took = 0;

	while (in->unwritten < WIRE_WRITE_BATCH &&
	    queue_peek(in->wq->q, in->sub, &p, &n) == 0) {
		buf_add(&in->log, p, n);
		buf_addc(&in->log, '\n');
		inlet_lens_push(in, n);
		in->unwritten += n + 1;
		queue_pop(in->wq->q, in->sub);
		redisq_take(in->rtk, n + 1);
		took = 1;
	}
	if (took)
		wqueue_popped(in->wq);
}

/* Take items from the queue into the log, up to one batch unwritten. */
static void
inlet_fill(struct inlet *in)
{
	const void	*p;
	size_t		 n;
	int		 took = 0;

	if (in->rtk != NULL) {
		inlet_fill_redis(in);
		return;
	}
	while (in->unwritten < WIRE_WRITE_BATCH &&
	    queue_peek(in->wq->q, in->sub, &p, &n) == 0) {
		inlet_log_add(in, p, n);
		queue_pop(in->wq->q, in->sub);
		took = 1;
	}
	if (took)
		wqueue_popped(in->wq);
}

static void
inlet_close_fd(struct inlet *in)
{
	if (in->fd == -1)
		return;
	/*
	 * The poll handle goes before the descriptor: libuv's stop and
	 * close of a poll handle remove its fd number from epoll, and a
	 * number closed first may already be another handle's (a pidfd, a
	 * new child's pipe), whose events would then never come.
	 */
	uv_close((uv_handle_t *)&in->poll, inlet_poll_close_cb);
	in->polling = 0;
	if (in->rtk != NULL)
		redisq_taker_close(in->rtk);
	(void)close(in->fd);
	in->fd = -1;
}

/* Write what we can; then wait for room, for items, or close at the end. */
void
inlet_pump(struct inlet *in)
{
	const char	*p;
	ssize_t		 n;

	if (in->fd == -1 || in->broken)
		return;
	for (;;) {
		inlet_fill(in);
		if (in->unwritten == 0)
			break;
		p = buf_ptr(&in->log) + buf_used(&in->log) - in->unwritten;
		n = write(in->fd, p, in->unwritten);
		if (n > 0) {
			in->unwritten -= (size_t)n;
			inlet_trim(in);
			/* Redis: an item read whole is acknowledged. */
			if (in->rtk != NULL)
				redisq_written(in->rtk, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			if (!in->polling && uv_poll_start(&in->poll,
			    UV_WRITABLE, inlet_poll_cb) == 0)
				in->polling = 1;
			return;
		}
		/* EPIPE: the reader is gone; keep the log for redelivery. */
		in->broken = 1;
		(void)uv_poll_stop(&in->poll);
		in->polling = 0;
		return;
	}
	if (in->polling) {
		(void)uv_poll_stop(&in->poll);
		in->polling = 0;
	}
	/* All written. End of stream closes the child's stdin. */
	if (wqueue_is_ended(in->wq, in->sub)) {
		inlet_close_fd(in);
		return;
	}
	wqueue_wait_readable(in->wq, &in->waiter);
}

static void
inlet_poll_cb(uv_poll_t *h, int status, int events)
{
	struct inlet	*in = h->data;

	if (status < 0) {
		in->broken = 1;
		(void)uv_poll_stop(&in->poll);
		in->polling = 0;
		return;
	}
	inlet_pump(in);
}

void
inlet_wake_cb(struct wq_waiter *w)
{
	inlet_pump(w->arg);
}

struct inlet *
inlet_new(struct wire *w, int fd, int rfd, struct wqueue *wq, size_t sub)
{
	struct inlet	*in;
	int		 error, sz;

	in = xcalloc(1, sizeof *in);
	in->wire = w;
	in->fd = fd;
	in->rfd = rfd;
	in->wq = wq;
	in->sub = sub;
	wq->solo = in;
	if (wq->rq != NULL)
		in->rtk = redisq_taker_new(wq->rq, fd, rfd);
	in->waiter.fn = inlet_wake_cb;
	in->waiter.arg = in;
	buf_init(&in->log);
	sz = fcntl(fd, F_GETPIPE_SZ);
	in->pipe_size = sz > 0 ? (size_t)sz : 65536;
	if ((error = uv_poll_init(w->loop, &in->poll, fd)) != 0)
		fatalx("uv_poll_init: %s", uv_strerror(error));
	in->poll.data = in;
	wqueue_wait_readable(wq, &in->waiter);
	/*
	 * A consumer started late (autostart: false, a restart) may find
	 * items already waiting, or the stream already ended: no push will
	 * come to wake it, so look once, soon.
	 */
	if (queue_depth(wq->q, sub) > 0 || wqueue_is_ended(wq, sub))
		wire_schedule(wq, 0);
	return in;
}

int
inlet_is_closed(const struct inlet *in)
{
	return in->fd == -1;
}

/*
 * Items taken from the queue that the reader has not read yet: counted
 * as inlet_redeliver would put them back (the unwritten tail of the log
 * and what FIONREAD says is in the pipe; one partly read counts). Read
 * only, for ctl and metrics.
 */
size_t
inlet_in_flight(const struct inlet *in)
{
	size_t	unread = in->unwritten, covered = 0, i, n = 0;
	int	inpipe = 0, probe;

	probe = in->fd != -1 ? in->fd : in->rfd;
	if (probe != -1 && ioctl(probe, FIONREAD, &inpipe) == 0 && inpipe > 0)
		unread += (size_t)inpipe;
	for (i = in->ltail; i > in->lhead && covered < unread; i--, n++)
		covered += in->lens[i - 1] + 1;
	return n;
}

/*
 * Put back, at the head of the queue and in their order, the items whose
 * bytes the reader never took: the unwritten tail of the log plus what
 * FIONREAD says is still in the pipe. An item it had partly read goes
 * back whole: at-least-once.
 */
static void
inlet_redeliver(struct inlet *in)
{
	size_t	 unread = in->unwritten, covered = 0, i, first, off;
	size_t	*starts;
	int	 inpipe = 0, probe;

	/*
	 * Our end may be closed already (end of stream): the dup of the
	 * child's end still tells what it left unread.
	 */
	probe = in->fd != -1 ? in->fd : in->rfd;
	if (probe != -1 && ioctl(probe, FIONREAD, &inpipe) == 0 && inpipe > 0)
		unread += (size_t)inpipe;
	if (unread == 0)
		return;
	for (i = in->ltail; i > in->lhead && covered < unread; i--)
		covered += in->lens[i - 1] + 1;
	first = i;
	/* Offsets of the items to put back, oldest first. */
	starts = xreallocarray(NULL, in->ltail - first, sizeof *starts);
	off = buf_used(&in->log) - covered;
	for (i = first; i < in->ltail; i++) {
		starts[i - first] = off;
		off += in->lens[i] + 1;
	}
	/* Unshift newest first so the oldest ends up at the head. */
	for (i = in->ltail; i > first; i--)
		queue_unshift(in->wq->q, in->sub,
		    buf_ptr(&in->log) + starts[i - 1 - first], in->lens[i - 1]);
	free(starts);
	if (in->rtk != NULL)
		redisq_untake(in->rtk, in->ltail - first);
	wire_schedule(in->wq, 0);
}

static void
inlet_release(struct inlet *in)
{
	buf_release(&in->log);
	free(in->lens);
	free(in);
}

/* The poll handle is closed: free the inlet if its owner let go. */
static void
inlet_poll_close_cb(uv_handle_t *h)
{
	struct inlet	*in = h->data;

	in->poll_closed = 1;
	if (in->freed)
		inlet_release(in);
}

void
inlet_free(struct inlet *in)
{
	if (in == NULL)
		return;
	wqueue_unwait(&in->waiter);
	if (in->wq->solo == in)
		in->wq->solo = NULL;
	if (in->wq->direct_to == in)
		in->wq->direct_to = NULL;
	inlet_redeliver(in);
	redisq_taker_free(in->rtk);
	in->rtk = NULL;
	inlet_close_fd(in);
	if (in->rfd != -1)
		(void)close(in->rfd);
	in->rfd = -1;
	in->freed = 1;
	if (in->poll_closed)
		inlet_release(in);
}
