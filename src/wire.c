/*
 * Queues at run time: their waiters, the wake-ups, the end of their
 * streams and the direct hand-off of an item to the consumer that would
 * take it next. Waiters are called
 * from an idle handle, never from inside a push or pop, so no callback
 * ever runs in the middle of another one's work. Reads and writes no
 * child's pipe (outlet.c and inlet.c do); a consumer is seen only through
 * its struct wq_consumer_ops.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "console.h"
#include "log.h"
#include "queue.h"
#include "redisq.h"
#include "wire.h"
#include "wire-int.h"
#include "xmalloc.h"

static void	wire_idle_cb(uv_idle_t *);

/* The log's sink: one message of ours into the stderr console. */
static void
wire_log_sink(void *arg, const char *p, size_t len)
{
	console_write(arg, p, len);
}

static void	wqueue_end(struct wqueue *);

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
	/* One console for both when they lead to one pipe: lines stay whole. */
	w->console[STDOUT_FILENO] = console_new(loop, STDOUT_FILENO);
	w->console[STDERR_FILENO] = console_is_same(STDOUT_FILENO,
	    STDERR_FILENO) ? w->console[STDOUT_FILENO] :
	    console_new(loop, STDERR_FILENO);
	/* Our own messages too: in order with the units', never waiting. */
	log_set_sink(wire_log_sink, w->console[STDERR_FILENO]);
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
	/* A tail left open would feed freed queues. */
	if (w->tails > 0)
		fatalx("wire_free: %zu detached outlets still open", w->tails);
	for (i = 0; i < w->nqueues; i++) {
		wq = w->queues[i];
		redisq_free(wq->rq);
		queue_free(wq->q);
		free(wq->name);
		free(wq);
	}
	free(w->queues);
	free(w->rbuf);
	/* Each writes what it holds as its reader takes it, then goes. */
	log_set_sink(NULL, NULL);
	if (w->console[STDERR_FILENO] != w->console[STDOUT_FILENO])
		console_free(w->console[STDERR_FILENO]);
	console_free(w->console[STDOUT_FILENO]);
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

/*
 * Redis queues stop fetching: local consumers finish what is here. A
 * queue fed from outside is closed, so that its consumers drain it and
 * see the end, like the consumers of queues whose producers stopped.
 */
void
wire_shutdown(struct wire *w)
{
	struct wqueue	*wq;
	size_t		 i;

	/* A reader that takes nothing is no longer waited for. */
	console_stop(w->console[STDOUT_FILENO]);
	console_stop(w->console[STDERR_FILENO]);
	for (i = 0; i < w->nqueues; i++) {
		wq = w->queues[i];
		if (wq->rq != NULL)
			redisq_shutdown(wq->rq);
		else if (wqueue_is_fed_outside(wq))
			wqueue_end(wq);
	}
}

void
wire_open(struct wire *w)
{
	size_t	i;

	w->open = 1;
	for (i = 0; i < w->nqueues; i++)
		wire_schedule(w->queues[i], 0);
}

int
wire_console_wait(struct wire *w, int fd, struct console_waiter *cw)
{
	if ((fd != STDOUT_FILENO && fd != STDERR_FILENO) ||
	    !console_is_full(w->console[fd]))
		return 0;
	console_wait(w->console[fd], cw);
	return 1;
}

void
wire_console_line(struct wire *w, int fd, const char *prefix,
    const char *line, size_t len)
{
	struct buf	b;

	if (fd != STDOUT_FILENO && fd != STDERR_FILENO)
		return;
	buf_init(&b);
	log_format_unit_line(&b, fd, prefix, 0, line, len);
	console_write(w->console[fd], buf_ptr(&b), buf_used(&b));
	buf_release(&b);
}

void
wire_print_counters(struct wire *w, FILE *fp)
{
	const struct queue_counters	*c;
	struct wqueue			*wq;
	char				*cons;
	size_t				 i, n;

	for (i = 0; i < w->nqueues; i++) {
		wq = w->queues[i];
		c = wqueue_counters(wq);
		fprintf(fp, "pytasking-run: queue %s: in %llu, out %llu, "
		    "redelivered %llu, dropped %llu, torn %llu, split %llu, "
		    "depth %llu, high-water %llu\n", wq->name,
		    (unsigned long long)c->in, (unsigned long long)c->out,
		    (unsigned long long)c->redelivered,
		    (unsigned long long)c->dropped,
		    (unsigned long long)wq->torn,
		    (unsigned long long)wq->split,
		    (unsigned long long)c->depth,
		    (unsigned long long)c->high_water);
		cons = wqueue_consumers_text(wq, &n);
		fprintf(fp, "pytasking-run: queue %s: %s, producers %zu live "
		    "of %zu%s, consumers %zu%s%s\n", wq->name,
		    wqueue_state(wq), wq->producers, wq->declared,
		    wqueue_is_fed_outside(wq) ? " (fed from outside)" : "",
		    n, n > 0 ? ", in flight " : "", cons);
		free(cons);
	}
	fflush(fp);
}

size_t
wire_tails(const struct wire *w)
{
	return w->tails;
}

void
wire_set_tails_fn(struct wire *w, void (*fn)(void *), void *arg)
{
	w->tails_fn = fn;
	w->tails_arg = arg;
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
	wq->prefetch = qs->prefetch;
	wq->declared = qs->producers;
	TAILQ_INIT(&wq->readers);
	TAILQ_INIT(&wq->writers);
	TAILQ_INIT(&wq->consumers);
	TAILQ_INIT(&wq->to_flush);
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
	/* A unit added by ctl that feeds it: no longer fed from outside. */
	wq->unit_fed = 1;
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
 * The direct path. When a local share queue is empty, a consumer waiting
 * for it (or its only consumer, busy writing) would take an item pushed
 * now at its next pump anyway, in the same order and with the same
 * counts: offer it at once, which saves copying it into the ring and out
 * again (about a third of the work per line on a pipe of short lines).
 * Every queue guarantee holds: the order (the queue is empty, so nothing
 * older is passed over), the counters (in and out, as a push and a pop),
 * redelivery (the consumer logs it like any item it took) and the memory
 * bound (a consumer declines beyond one batch or its prefetch). Waiting
 * consumers are offered the item oldest first, and one that takes it goes
 * to the back of the line: with several consumers, items go round them.
 * Not for broadcast (an item goes to every subscriber's ring) nor Redis.
 */
static int
wqueue_push_direct(struct wqueue *wq, const void *item, size_t len)
{
	struct wq_waiter	*w, *taker = NULL;

	if (wq->rq != NULL || queue_mode(wq->q) != QUEUE_SHARE ||
	    queue_counters(wq->q)->depth != 0 || wq->closed)
		return 0;
	TAILQ_FOREACH(w, &wq->readers, entry) {
		/* A task or ctl get waits before: it takes from the ring. */
		if (w->ops == NULL)
			return 0;
		if (w->ops->take(w, item, len)) {
			taker = w;
			TAILQ_REMOVE(&wq->readers, w, entry);
			TAILQ_INSERT_TAIL(&wq->readers, w, entry);
			break;
		}
	}
	if (taker == NULL && queue_nsubscribers(wq->q) == 1 &&
	    (w = TAILQ_FIRST(&wq->consumers)) != NULL && w->on == NULL &&
	    w->ops->take(w, item, len))
		taker = w;
	if (taker == NULL)
		return 0;
	queue_count_through(wq->q);
	if (!taker->flush_pending) {
		taker->flush_pending = 1;
		TAILQ_INSERT_TAIL(&wq->to_flush, taker, fentry);
	}
	/* A waiting reader writes at the idle; a busy one when it can. */
	if (taker->on == wq)
		wire_schedule(wq, 0);
	return 1;
}

/*
 * After an outlet's chunk: let the consumers that took items directly
 * write them now, before the next chunk is read, so that their batches
 * have room again and the next chunk goes direct too. Not inside a push
 * or a pop: between two reads, where the idle would have pumped them a
 * turn later.
 */
void
wqueue_flush_direct(struct wqueue *wq)
{
	struct wq_waiter	*w;

	while ((w = TAILQ_FIRST(&wq->to_flush)) != NULL) {
		TAILQ_REMOVE(&wq->to_flush, w, fentry);
		w->flush_pending = 0;
		w->ops->flush(w);
	}
}

void
wqueue_consumer_add(struct wqueue *wq, struct wq_waiter *w)
{
	w->consumer_of = wq;
	w->flush_pending = 0;
	TAILQ_INSERT_TAIL(&wq->consumers, w, centry);
}

void
wqueue_consumer_del(struct wq_waiter *w)
{
	struct wqueue	*wq = w->consumer_of;

	wqueue_unwait(w);
	if (wq == NULL)
		return;
	if (w->flush_pending)
		TAILQ_REMOVE(&wq->to_flush, w, fentry);
	w->flush_pending = 0;
	TAILQ_REMOVE(&wq->consumers, w, centry);
	w->consumer_of = NULL;
}

size_t
wqueue_nsubscribers(const struct wqueue *wq)
{
	return queue_nsubscribers(wq->q);
}

size_t
wqueue_prefetch(const struct wqueue *wq)
{
	return wq->prefetch;
}

int
wqueue_push(struct wqueue *wq, const void *item, size_t len)
{
	if (wq->closed) {
		queue_count_dropped(wq->q);
		return 0;
	}
	if (wq->rq != NULL)
		return redisq_push(wq->rq, item, len);
	if (wqueue_push_direct(wq, item, len))
		return 0;
	(void)queue_push(wq->q, item, len);
	if (!TAILQ_EMPTY(&wq->readers))
		wire_schedule(wq, 0);
	return wqueue_is_full(wq);
}

/*
 * The end of the stream for one subscriber: nothing left for it, and
 * either the queue was closed or no producer can still produce; for a
 * Redis queue, also the stream has ended (it is empty, and closed or
 * with no producer left anywhere). A queue fed from outside has no
 * producer of ours to wait for: only a close ends it. Nothing ends
 * before wire_open, while autostart producers are still being counted.
 */
static int
wqueue_no_more(const struct wqueue *wq)
{
	if (!wq->wire->open)
		return 0;
	if (!wq->closed && (wq->producers > 0 || wqueue_is_fed_outside(wq)))
		return 0;
	return wq->rq == NULL || redisq_is_ended(wq->rq);
}

int
wqueue_is_ended(const struct wqueue *wq, size_t sub)
{
	return queue_depth(wq->q, sub) == 0 && wqueue_no_more(wq);
}

void
wqueue_respec(struct wqueue *wq, const struct queue_spec *qs)
{
	wq->declared = qs->producers;
	/* A queue that lost its last declared producer may end now. */
	wire_schedule(wq, 0);
}

/* Close a memory queue: no more items; readers see the end once drained. */
static void
wqueue_end(struct wqueue *wq)
{
	if (wq->closed)
		return;
	wq->closed = 1;
	wire_schedule(wq, 0);
	/* Paused producers: their pushes are dropped from now on. */
	wire_schedule(wq, 1);
}

int
wqueue_close(struct wqueue *wq, char **cause)
{
	if (!wq->closed)
		log_info("queue %s: closed", wq->name);
	/* A Redis queue closes for every supervisor sharing its stream. */
	if (wq->rq != NULL)
		redisq_close(wq->rq);
	wqueue_end(wq);
	return 0;
}

int
wqueue_is_closed(const struct wqueue *wq)
{
	return wq->closed;
}

int
wqueue_is_fed_outside(const struct wqueue *wq)
{
	return wq->declared == 0 && !wq->unit_fed && wq->rq == NULL;
}

int
wqueue_is_starved(const struct wqueue *wq)
{
	return wqueue_is_fed_outside(wq) && !wq->closed &&
	    wq->producers == 0 && queue_counters(wq->q)->depth == 0;
}

void
wire_report_open(struct wire *w)
{
	struct wqueue	*wq;
	size_t		 i;

	for (i = 0; i < w->nqueues; i++) {
		wq = w->queues[i];
		if (wq->said_open || !wqueue_is_starved(wq) ||
		    queue_nsubscribers(wq->q) == 0)
			continue;
		wq->said_open = 1;
		log_warnx("%s: open, waiting for producers; close it with "
		    "\"ctl close %s\"", wq->name, wq->name);
	}
}

const char *
wqueue_state(const struct wqueue *wq)
{
	if (queue_counters(wq->q)->depth == 0 && wqueue_no_more(wq))
		return "ended";
	return wq->closed ? "closed" : "open";
}

size_t
wqueue_producers(const struct wqueue *wq)
{
	return wq->producers;
}

size_t
wqueue_declared(const struct wqueue *wq)
{
	return wq->declared;
}

char *
wqueue_consumers_text(const struct wqueue *wq, size_t *count)
{
	const struct wq_waiter	*w;
	struct buf		 b;
	char			 num[32];
	size_t			 n = 0;

	buf_init(&b);
	TAILQ_FOREACH(w, &wq->consumers, centry) {
		if (n++ > 0)
			buf_addc(&b, ' ');
		buf_adds(&b, w->name);
		(void)snprintf(num, sizeof num, ":%zu", w->ops->held(w));
		buf_adds(&b, num);
	}
	*count = n;
	return buf_steal(&b);
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

int
wqueue_unpop(struct wqueue *wq, size_t sub, const void *item, size_t len)
{
	if (wq->rq != NULL)
		return -1;
	queue_unshift(wq->q, sub, item, len);
	wire_schedule(wq, 0);
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
	else {
		TAILQ_REMOVE(&wq->readers, w, entry);
		/* Nobody here waits now: the Redis queue must not either. */
		if (wq->rq != NULL && TAILQ_EMPTY(&wq->readers))
			redisq_unwant(wq->rq);
	}
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

