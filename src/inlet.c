/*
 * Inlets: a queue's items written in batches into a child's stdin, with
 * a short log of what may still sit unread in the pipe, so a dying
 * consumer loses nothing: it goes back to the head of the queue. With
 * several consumers (or a prefetch key) an inlet holds only a window of
 * items unread, so that each item goes to a consumer ready for it. Knows
 * nothing of outlets; of the queue core it uses the wqueue calls and
 * offers it struct wq_consumer_ops.
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

/*
 * Fair dispatch. An inlet of a queue with several consumers takes a new
 * item only while fewer than its window of items sit unread: in our log
 * not yet written, or in the pipe (FIONREAD: the pipe's size is not
 * trusted). The pipe is cut to one page, one slot of the kernel's, which
 * polls writable only once the child has read all of it: that is how a
 * full window learns that its reader took its items, without a timer.
 * Where the pipe cannot be cut, a timer looks again every
 * INLET_RECHECK_MS. With the prefetch key the window is that many items.
 * Without it the window starts at one and doubles, up to
 * INLET_MAX_WINDOW, each time the child read a full window within
 * INLET_FAST_NS (a filter like wc(1) gets whole batches, so a pool of
 * fast readers keeps the throughput of one), and halves back when it took
 * longer (a worker busy with each item holds one or two: the rest wait
 * in the queue for whichever worker is free). No window grows beyond
 * INLET_LEAD times the smallest of the other consumers' (see
 * inlet_least_window).
 */
#define INLET_FAST_NS		(2 * 1000 * 1000)
#define INLET_LEAD		4
#define INLET_MAX_WINDOW	65536
#define INLET_RECHECK_MS	1

struct inlet {
	struct wire	*wire;
	uv_poll_t	 poll;
	uv_timer_t	 timer;
	int		 nhandles;	/* open: poll, timer */
	int		 fd;		/* -1 once closed */
	int		 rfd;		/* a dup of the child's end, for FIONREAD */
	struct wqueue	*wq;
	size_t		 sub;
	char		*name;
	struct wq_waiter waiter;
	struct buf	 log;		/* items taken, each with its '\n' */
	size_t		*lens;		/* item lengths in log, oldest first */
	size_t		 lhead, ltail, lcap;
	size_t		 unwritten;	/* bytes at the end of log not yet written */
	size_t		 pipe_size;
	int		 polling;
	int		 broken;	/* EPIPE: the reader is gone */
	int		 freed;		/* inlet_free ran */
	struct redisq_taker *rtk;	/* redis: ids of items in the log */
	/* Fair dispatch: see above. */
	int		 fair;
	int		 adaptive;	/* no prefetch key: the window adapts */
	int		 small_pipe;	/* writable only once read whole */
	size_t		 min_window;
	size_t		 window;
	size_t		 held;		/* unread at the last count, plus taken */
	uint64_t	 full_ns;	/* when the window filled; 0: not full */
};

static void	inlet_poll_cb(uv_poll_t *, int, int);
static void	inlet_close_cb(uv_handle_t *);
static void	inlet_pump(struct inlet *);

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
static void
inlet_log_add(struct inlet *in, const void *p, size_t n)
{
	buf_reserve(&in->log, n + 1);
	memcpy(in->log.data + in->log.len, p, n);
	in->log.data[in->log.len + n] = '\n';
	in->log.len += n + 1;
	inlet_lens_push(in, n);
	in->unwritten += n + 1;
	in->held++;
	if (in->fair && in->held >= in->window && in->full_ns == 0)
		in->full_ns = uv_hrtime();
}

/*
 * The smallest window of the queue's other consumers. A window grows to
 * at most INLET_LEAD times that: a reader that started first (or a fast
 * one among busy workers) must not take the whole backlog while the
 * others are still starting; fast readers grow together.
 */
static size_t
inlet_least_window(const struct inlet *in)
{
	const struct wq_waiter	*w;
	const struct inlet	*o;
	size_t			 least = INLET_MAX_WINDOW;

	TAILQ_FOREACH(w, &in->wq->consumers, centry) {
		o = w->arg;
		if (o != in && o->fair && o->window < least)
			least = o->window;
	}
	return least;
}

/* Count what the child holds unread; a window it emptied adapts. */
static void
inlet_count(struct inlet *in)
{
	uint64_t	took;

	in->held = inlet_in_flight(in);
	if (in->held > 0 || in->full_ns == 0)
		return;
	took = uv_hrtime() - in->full_ns;
	in->full_ns = 0;
	if (!in->adaptive)
		return;
	if (took < INLET_FAST_NS) {
		if (in->window < INLET_MAX_WINDOW &&
		    in->window < INLET_LEAD * inlet_least_window(in))
			in->window *= 2;
	} else if (in->window / 2 >= in->min_window)
		in->window /= 2;
	else
		in->window = in->min_window;
}

/* May the inlet take one more item now? */
static int
inlet_has_room(const struct inlet *in)
{
	return in->unwritten < WIRE_WRITE_BATCH &&
	    (!in->fair || in->held < in->window);
}

/* inlet_fill of a Redis queue: each item taken carries its id along. */
static void
inlet_fill_redis(struct inlet *in)
{
	const void	*p;
	size_t		 n;
	int		 took = 0;

	while (inlet_has_room(in) &&
	    queue_peek(in->wq->q, in->sub, &p, &n) == 0) {
		inlet_log_add(in, p, n);
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
	while (inlet_has_room(in) &&
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
	uv_close((uv_handle_t *)&in->poll, inlet_close_cb);
	uv_close((uv_handle_t *)&in->timer, inlet_close_cb);
	in->polling = 0;
	if (in->rtk != NULL)
		redisq_taker_close(in->rtk);
	(void)close(in->fd);
	in->fd = -1;
}

static void
inlet_timer_cb(uv_timer_t *t)
{
	inlet_pump(t->data);
}

static void
inlet_poll_stop(struct inlet *in)
{
	if (!in->polling)
		return;
	(void)uv_poll_stop(&in->poll);
	in->polling = 0;
}

/* Wait for room in the pipe (when is_full, for the child to read it all). */
static void
inlet_wait_pipe(struct inlet *in, int is_full)
{
	int	error;

	wqueue_unwait(&in->waiter);
	if (is_full && !in->small_pipe) {
		inlet_poll_stop(in);
		if ((error = uv_timer_start(&in->timer, inlet_timer_cb,
		    INLET_RECHECK_MS, 0)) != 0)
			fatalx("uv_timer_start: %s", uv_strerror(error));
		return;
	}
	if (in->polling)
		return;
	if ((error = uv_poll_start(&in->poll, UV_WRITABLE,
	    inlet_poll_cb)) != 0)
		fatalx("uv_poll_start: %s", uv_strerror(error));
	in->polling = 1;
}

/*
 * Write what we can; then wait for room, for the child to read its
 * window, for items, or close at the end of the stream.
 */
static void
inlet_pump(struct inlet *in)
{
	const char	*p;
	ssize_t		 n;

	if (in->fd == -1 || in->broken)
		return;
	if (in->fair)
		inlet_count(in);
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
			inlet_wait_pipe(in, 0);
			return;
		}
		/* EPIPE: the reader is gone; keep the log for redelivery. */
		in->broken = 1;
		inlet_poll_stop(in);
		return;
	}
	inlet_poll_stop(in);
	/* All written. End of stream closes the child's stdin. */
	if (wqueue_is_ended(in->wq, in->sub)) {
		inlet_close_fd(in);
		return;
	}
	/* A full window: wait for the child to read it. */
	if (!inlet_has_room(in)) {
		inlet_wait_pipe(in, 1);
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
		inlet_poll_stop(in);
		return;
	}
	inlet_pump(in);
}

static void
inlet_wake_cb(struct wq_waiter *w)
{
	inlet_pump(w->arg);
}

/* wq_consumer_ops: an item pushed into the empty queue, offered to us. */
static int
inlet_take_cb(struct wq_waiter *w, const void *item, size_t len)
{
	struct inlet	*in = w->arg;

	if (in->fd == -1 || in->broken || in->rtk != NULL ||
	    !inlet_has_room(in))
		return 0;
	inlet_log_add(in, item, len);
	return 1;
}

static void
inlet_flush_cb(struct wq_waiter *w)
{
	inlet_pump(w->arg);
}

static size_t
inlet_held_cb(const struct wq_waiter *w)
{
	return inlet_in_flight(w->arg);
}

static const struct wq_consumer_ops inlet_ops = {
	inlet_take_cb, inlet_flush_cb, inlet_held_cb
};

/*
 * Cut the pipe to one page when the queue is to be shared fairly (see
 * above); the window starts at the prefetch key, or one.
 */
static void
inlet_set_fair(struct inlet *in)
{
	long	page;
	int	sz;

	in->fair = 1;
	in->adaptive = in->wq->prefetch == 0;
	in->min_window = in->window = in->adaptive ? 1 : in->wq->prefetch;
	page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		page = 4096;
	(void)fcntl(in->fd, F_SETPIPE_SZ, (int)page);
	sz = fcntl(in->fd, F_GETPIPE_SZ);
	in->small_pipe = sz > 0 && sz <= page;
}

struct inlet *
inlet_new(struct wire *w, int fd, int rfd, struct wqueue *wq, size_t sub,
    const char *name)
{
	struct inlet	*in;
	int		 error, sz;

	in = xcalloc(1, sizeof *in);
	in->wire = w;
	in->fd = fd;
	in->rfd = rfd;
	in->wq = wq;
	in->sub = sub;
	in->name = xstrdup(name);
	if (wq->rq != NULL)
		in->rtk = redisq_taker_new(wq->rq, fd, rfd);
	/* A Redis queue's inbox is shared among its local consumers too. */
	if (queue_mode(wq->q) == QUEUE_SHARE && (wq->prefetch > 0 ||
	    queue_nsubscribers(wq->q) > 1))
		inlet_set_fair(in);
	in->waiter.fn = inlet_wake_cb;
	in->waiter.arg = in;
	in->waiter.ops = &inlet_ops;
	in->waiter.name = in->name;
	buf_init(&in->log);
	sz = fcntl(fd, F_GETPIPE_SZ);
	in->pipe_size = sz > 0 ? (size_t)sz : 65536;
	if ((error = uv_poll_init(w->loop, &in->poll, fd)) != 0)
		fatalx("uv_poll_init: %s", uv_strerror(error));
	in->poll.data = in;
	if ((error = uv_timer_init(w->loop, &in->timer)) != 0)
		fatalx("uv_timer_init: %s", uv_strerror(error));
	in->timer.data = in;
	in->nhandles = 2;
	wqueue_consumer_add(wq, &in->waiter);
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
	free(in->name);
	free(in);
}

/* A handle is closed: free the inlet after the last, if its owner let go. */
static void
inlet_close_cb(uv_handle_t *h)
{
	struct inlet	*in = h->data;

	if (--in->nhandles == 0 && in->freed)
		inlet_release(in);
}

void
inlet_free(struct inlet *in)
{
	if (in == NULL)
		return;
	wqueue_consumer_del(&in->waiter);
	inlet_redeliver(in);
	redisq_taker_free(in->rtk);
	in->rtk = NULL;
	inlet_close_fd(in);
	if (in->rfd != -1)
		(void)close(in->rfd);
	in->rfd = -1;
	in->freed = 1;
	if (in->nhandles == 0)
		inlet_release(in);
}
