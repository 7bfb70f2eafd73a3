/*
 * Queues at run time: their waiters, the wake-ups and the direct hand-off
 * of an item to the inlet that would take it next. Waiters are called
 * from an idle handle, never from inside a push or pop, so no callback
 * ever runs in the middle of another one's work. Reads and writes no
 * child's pipe (outlet.c and inlet.c do); only the direct hand-off looks
 * into an inlet.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
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

static void	wire_idle_cb(uv_idle_t *);

/* Write all of buf to a blocking or non-blocking fd; -1 with errno. */
int
wire_write_all(int fd, const char *p, size_t len)
{
	struct pollfd	pfd;
	ssize_t		n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		/* Our stdout may be shared and non-blocking: wait for room. */
		pfd.fd = fd;
		pfd.events = POLLOUT;
		(void)poll(&pfd, 1, -1);
	}
	return 0;
}

struct wire *
wire_new(uv_loop_t *loop)
{
	struct wire	*w;

	w = xcalloc(1, sizeof *w);
	w->loop = loop;
	TAILQ_INIT(&w->pending);
	TAILQ_INIT(&w->outlets);
	if (uv_idle_init(loop, &w->idle) != 0)
		fatalx("uv_idle_init failed");
	w->idle.data = w;
	w->rbuf = xmalloc(WIRE_READ_CHUNK);
	return w;
}

static void
wire_close_cb(uv_handle_t *h)
{
	free(h->data);
}

void
wire_free(struct wire *w)
{
	struct wqueue	*wq;
	size_t		 i;

	if (w == NULL)
		return;
	for (i = 0; i < w->nqueues; i++) {
		wq = w->queues[i];
		redisq_free(wq->rq);
		queue_free(wq->q);
		free(wq->name);
		free(wq);
	}
	free(w->queues);
	free(w->rbuf);
	uv_close((uv_handle_t *)&w->idle, wire_close_cb);
}

void
wire_reopen_files(struct wire *w)
{
	struct outlet	*o;
	size_t		 i;

	TAILQ_FOREACH(o, &w->outlets, entry)
		for (i = 0; i < o->nfiles; i++)
			(void)filesink_reopen(o->files[i]);
}

/* Redis queues stop fetching: local consumers finish what is here. */
void
wire_shutdown(struct wire *w)
{
	size_t	i;

	for (i = 0; i < w->nqueues; i++)
		if (w->queues[i]->rq != NULL)
			redisq_shutdown(w->queues[i]->rq);
}

void
wire_open(struct wire *w)
{
	size_t	i;

	w->open = 1;
	for (i = 0; i < w->nqueues; i++)
		wire_schedule(w->queues[i], 0);
}

void
wire_console_line(struct wire *w, int fd, const char *prefix,
    const char *line, size_t len)
{
	struct buf	b;

	buf_init(&b);
	log_format_unit_line(&b, fd, prefix, line, len);
	(void)wire_write_all(fd, buf_ptr(&b), buf_used(&b));
	buf_release(&b);
}

void
wire_print_counters(struct wire *w, FILE *fp)
{
	const struct queue_counters	*c;
	size_t				 i;

	for (i = 0; i < w->nqueues; i++) {
		c = wqueue_counters(w->queues[i]);
		fprintf(fp, "pytasking-run: queue %s: in %llu, out %llu, "
		    "redelivered %llu, dropped %llu, torn %llu, split %llu, "
		    "depth %llu, high-water %llu\n", w->queues[i]->name,
		    (unsigned long long)c->in, (unsigned long long)c->out,
		    (unsigned long long)c->redelivered,
		    (unsigned long long)c->dropped,
		    (unsigned long long)w->queues[i]->torn,
		    (unsigned long long)w->queues[i]->split,
		    (unsigned long long)c->depth,
		    (unsigned long long)c->high_water);
	}
	fflush(fp);
}

uint64_t
wire_items_held(struct wire *w)
{
	uint64_t	n = 0;
	size_t		i;

	for (i = 0; i < w->nqueues; i++)
		n += wqueue_counters(w->queues[i])->depth;
	return n;
}

static void
wq_readable_cb(void *arg)
{
	wire_schedule(arg, 0);
}

static void
wq_writable_cb(void *arg)
{
	wire_schedule(arg, 1);
}

/*
 * backend: redis. At start-up (before wire_open) the server is checked
 * at once and a failure ends the run before any unit starts; a queue
 * added later by a reload connects in the background.
 */
static void
wire_add_redis(struct wire *w, struct wqueue *wq, const struct queue_spec *qs)
{
	static const struct redisq_cbs	 cbs = { wq_readable_cb,
					    wq_writable_cb };
	char				*cause = NULL;

	wq->rq = redisq_new(w->loop, qs, wq->q, &cbs, wq, !w->open, &cause);
	if (wq->rq != NULL)
		return;
	if (!w->open)
		fatalx("queue %s: %s", qs->name, cause);
	log_warnx("queue %s: %s; it stays in memory", qs->name, cause);
	free(cause);
}

struct wqueue *
wire_add_queue(struct wire *w, const struct queue_spec *qs)
{
	struct wqueue	*wq;

	wq = xcalloc(1, sizeof *wq);
	wq->wire = w;
	wq->name = xstrdup(qs->name);
	/* A Redis queue's ring is the inbox of local consumers: never drops. */
	wq->q = queue_new(qs->capacity, qs->mode, qs->redis ? QUEUE_BLOCK :
	    qs->overflow);
	wq->overflow = qs->overflow;
	TAILQ_INIT(&wq->readers);
	TAILQ_INIT(&wq->writers);
	if (qs->redis)
		wire_add_redis(w, wq, qs);
	w->queues = xreallocarray(w->queues, w->nqueues + 1, sizeof *w->queues);
	w->queues[w->nqueues++] = wq;
	return wq;
}

struct wqueue *
wire_find_queue(struct wire *w, const char *name)
{
	size_t	i;

	for (i = 0; i < w->nqueues; i++)
		if (strcmp(w->queues[i]->name, name) == 0)
			return w->queues[i];
	return NULL;
}

size_t
wire_queues(struct wire *w, struct wqueue ***out)
{
	*out = w->queues;
	return w->nqueues;
}

enum queue_mode
wqueue_mode(const struct wqueue *wq)
{
	return queue_mode(wq->q);
}

const char *
wqueue_name(const struct wqueue *wq)
{
	return wq->name;
}

const struct queue_counters *
wqueue_counters(const struct wqueue *wq)
{
	if (wq->rq != NULL)
		return redisq_counters(wq->rq);
	return queue_counters(wq->q);
}

size_t
wqueue_subscribe(struct wqueue *wq)
{
	return queue_subscribe(wq->q);
}

void
wqueue_producer_add(struct wqueue *wq)
{
	if (wq->producers++ == 0 && wq->rq != NULL)
		redisq_producers(wq->rq, 1);
}

void
wqueue_producer_del(struct wqueue *wq)
{
	if (wq->producers == 0)
		fatalx("queue %s: producer count underflow", wq->name);
	/* The last producer gone may end the stream for idle readers. */
	if (--wq->producers == 0) {
		if (wq->rq != NULL)
			redisq_producers(wq->rq, 0);
		wire_schedule(wq, 0);
	}
}

int
wqueue_is_full(const struct wqueue *wq)
{
	if (wq->rq != NULL)
		return redisq_is_full(wq->rq);
	return wq->overflow == QUEUE_BLOCK && queue_is_full(wq->q);
}

/*
 * The direct path. When a local queue is empty and the first reader
 * waiting on it is an inlet with room in its batch (or its only consumer
 * is an inlet waiting for room in its pipe), that inlet would take an
 * item pushed now at its next pump anyway (inlet_fill), in the same
 * order and with the same counts: hand the item over at once, which
 * saves copying it into the ring and out again (about a third of the
 * work per line on a pipe of short lines). Every queue guarantee holds:
 * the order (the queue is empty, so nothing older is passed over), the
 * counters (in and out, as a push and a pop), redelivery (the item is in
 * the inlet's log like any item it took) and the memory bound (an inlet
 * holds at most one batch unwritten). Share mode only: a broadcast item
 * goes to every subscriber's ring; never for redis queues.
 */
static int
wqueue_push_direct(struct wqueue *wq, const void *item, size_t len)
{
	struct wq_waiter	*w;
	struct inlet		*in;

	if (wq->rq != NULL || queue_mode(wq->q) != QUEUE_SHARE ||
	    queue_counters(wq->q)->depth != 0)
		return 0;
	if ((w = TAILQ_FIRST(&wq->readers)) != NULL && w->fn == inlet_wake_cb)
		in = w->arg;
	else if (wq->solo != NULL && wq->solo->polling &&
	    queue_nsubscribers(wq->q) == 1)
		in = wq->solo;
	else
		return 0;
	if (in->unwritten >= WIRE_WRITE_BATCH || in->fd == -1 || in->broken ||
	    in->rtk != NULL)
		return 0;
	inlet_log_add(in, item, len);
	queue_count_through(wq->q);
	wq->direct_to = in;
	/* A waiting reader pumps at the idle; a polling one when writable. */
	if (w != NULL && w->arg == in)
		wire_schedule(wq, 0);
	return 1;
}

/*
 * After an outlet's chunk: let the inlet that took items directly write
 * them now, before the next chunk is read, so that its batch has room
 * again and the next chunk goes direct too. Not inside a push or a pop:
 * between two reads, where the idle would have pumped it a turn later.
 */
void
wqueue_flush_direct(struct wqueue *wq)
{
	struct inlet	*in = wq->direct_to;

	if (in == NULL)
		return;
	wq->direct_to = NULL;
	inlet_pump(in);
}

int
wqueue_push(struct wqueue *wq, const void *item, size_t len)
{
	if (wq->rq != NULL)
		return redisq_push(wq->rq, item, len);
	if (wqueue_push_direct(wq, item, len))
		return 0;
	(void)queue_push(wq->q, item, len);
	if (!TAILQ_EMPTY(&wq->readers))
		wire_schedule(wq, 0);
	return wqueue_is_full(wq);
}

int
wqueue_is_ended(const struct wqueue *wq, size_t sub)
{
	return wq->wire->open && wq->producers == 0 &&
	    queue_depth(wq->q, sub) == 0 &&
	    (wq->rq == NULL || redisq_is_ended(wq->rq));
}

/* After a pop: wake paused producers once there is room again. */
void
wqueue_popped(struct wqueue *wq)
{
	if (!TAILQ_EMPTY(&wq->writers) && !wqueue_is_full(wq))
		wire_schedule(wq, 1);
}

int
wqueue_pop_copy(struct wqueue *wq, size_t sub, char **item, size_t *len)
{
	const void	*p;
	size_t		 n;

	if (queue_peek(wq->q, sub, &p, &n) == -1)
		return wqueue_is_ended(wq, sub) ? -1 : 1;
	*item = xmalloc(n + 1);
	memcpy(*item, p, n);
	(*item)[n] = '\0';
	*len = n;
	queue_pop(wq->q, sub);
	if (wq->rq != NULL)
		redisq_popped(wq->rq);
	wqueue_popped(wq);
	return 0;
}

static void
wqueue_wait(struct wqueue *wq, struct wq_waiter *w, int writer)
{
	if (w->on != NULL)
		wqueue_unwait(w);
	w->on = wq;
	w->writer = writer;
	if (writer)
		TAILQ_INSERT_TAIL(&wq->writers, w, entry);
	else {
		TAILQ_INSERT_TAIL(&wq->readers, w, entry);
		if (wq->rq != NULL)
			redisq_want(wq->rq);
	}
	/*
	 * Room may already be there: let a writer look again soon. A reader
	 * registers only after finding nothing, so it waits for a push or
	 * the end of the stream.
	 */
	if (writer && !wqueue_is_full(wq))
		wire_schedule(wq, 1);
}

void
wqueue_wait_readable(struct wqueue *wq, struct wq_waiter *w)
{
	wqueue_wait(wq, w, 0);
}

void
wqueue_wait_writable(struct wqueue *wq, struct wq_waiter *w)
{
	wqueue_wait(wq, w, 1);
}

void
wqueue_unwait(struct wq_waiter *w)
{
	struct wqueue	*wq = w->on;

	if (wq == NULL)
		return;
	if (w->writer)
		TAILQ_REMOVE(&wq->writers, w, entry);
	else
		TAILQ_REMOVE(&wq->readers, w, entry);
	w->on = NULL;
}

void
wire_schedule(struct wqueue *wq, int writers)
{
	struct wire	*w = wq->wire;

	/*
	 * Already due (once per push on a busy queue): a queue stays in the
	 * pending list, and the idle handle active, until the idle runs.
	 */
	if (wq->pending && (writers ? wq->pending_writers :
	    wq->pending_readers))
		return;
	if (writers)
		wq->pending_writers = 1;
	else
		wq->pending_readers = 1;
	if (!wq->pending) {
		wq->pending = 1;
		TAILQ_INSERT_TAIL(&w->pending, wq, pending_entry);
	}
	if (!uv_is_active((uv_handle_t *)&w->idle) &&
	    uv_idle_start(&w->idle, wire_idle_cb) != 0)
		fatalx("uv_idle_start failed");
}

/* Call every waiter of one list once; they may register again. */
static void
wire_wake(struct wq_waiters *list)
{
	struct wq_waiters	 woken;
	struct wq_waiter	*w;

	TAILQ_INIT(&woken);
	TAILQ_CONCAT(&woken, list, entry);
	while ((w = TAILQ_FIRST(&woken)) != NULL) {
		TAILQ_REMOVE(&woken, w, entry);
		w->on = NULL;
		w->fn(w);
	}
}

static void
wire_idle_cb(uv_idle_t *h)
{
	struct wire	*w = h->data;
	struct wqueue	*wq;
	int		 readers, writers;

	while ((wq = TAILQ_FIRST(&w->pending)) != NULL) {
		TAILQ_REMOVE(&w->pending, wq, pending_entry);
		wq->pending = 0;
		readers = wq->pending_readers;
		writers = wq->pending_writers;
		wq->pending_readers = wq->pending_writers = 0;
		if (writers && !wqueue_is_full(wq))
			wire_wake(&wq->writers);
		if (readers)
			wire_wake(&wq->readers);
	}
	if (TAILQ_EMPTY(&w->pending))
		(void)uv_idle_stop(h);
}

/* Torn last lines dropped: a counter for metrics. */
uint64_t
wqueue_torn(const struct wqueue *wq)
{
	return wq->torn;
}

/* Producers live now. */
size_t
wqueue_producers(const struct wqueue *wq)
{
	return wq->producers;
}
