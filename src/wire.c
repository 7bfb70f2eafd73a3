/*
 * Queues at run time and the pipes that feed and drain them. Outlets read
 * children's output in large chunks and split lines in place; inlets write
 * batches of items into children's stdin and keep a short log of what may
 * still sit unread in the pipe, so a dying consumer loses nothing.
 * Waiters are called from an idle handle, never from inside a push or
 * pop, so no callback ever runs in the middle of another one's work.
 */
#include "config.h"

#include <sys/ioctl.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "lines.h"
#include "log.h"
#include "queue.h"
#include "redisq.h"
#include "wire.h"
#include "xmalloc.h"

/* Bytes read from a pipe per read(2), and reads per wake-up (fairness). */
#define WIRE_READ_CHUNK		(64 * 1024)
#define WIRE_READS_PER_WAKE	8
/* Bytes an inlet takes from its queue before writing them. */
#define WIRE_WRITE_BATCH	(64 * 1024)

TAILQ_HEAD(wq_waiters, wq_waiter);

struct wqueue {
	struct wire		*wire;
	char			*name;
	struct queue		*q;
	enum queue_overflow	 overflow;
	size_t			 producers;
	uint64_t		 torn;		/* torn last lines dropped */
	uint64_t		 split;		/* pieces of over-long lines */
	struct wq_waiters	 readers;
	struct wq_waiters	 writers;
	int			 pending_readers;
	int			 pending_writers;
	int			 pending;	/* in wire->pending */
	TAILQ_ENTRY(wqueue)	 pending_entry;
	/* backend: redis; q is then the inbox of local consumers. */
	struct redisq		*rq;
	struct inlet		*solo;		/* the newest inlet reading us */
	struct inlet		*direct_to;	/* took items directly, unwritten */
};

struct wire {
	uv_loop_t		*loop;
	uv_idle_t		 idle;
	int			 open;
	struct wqueue		**queues;
	size_t			 nqueues;
	TAILQ_HEAD(, wqueue)	 pending;
	TAILQ_HEAD(, outlet)	 outlets;	/* for SIGUSR1 */
	char			*rbuf;		/* shared read buffer */
};

struct outlet {
	struct wire	 *wire;
	uv_poll_t	  poll;
	int		  fd;
	char		 *prefix;
	int		  console_fd;
	struct filesink	**files;
	size_t		  nfiles;
	TAILQ_ENTRY(outlet) entry;	/* in wire->outlets */
	struct wqueue	**queues;
	size_t		  nqueues;
	struct lines	  lines;
	struct buf	  held;		/* read, not fed: a queue filled */
	int		  taking_all;	/* the end: past full queues too */
	struct buf	  console;	/* prefixed lines of this chunk */
	struct buf	  file;		/* plain lines of this chunk */
	struct wq_waiter  waiter;	/* paused on a full queue */
	int		  eof;
	int		  paused;
	void		(*eof_fn)(void *);
	void		(*console_fn)(void *, const char *, size_t);
	void		(*line_fn)(void *, const char *, size_t);
	void		 *arg;
};

struct inlet {
	struct wire	*wire;
	uv_poll_t	 poll;
	int		 fd;		/* -1 once closed */
	int		 rfd;		/* a dup of the child's end, for FIONREAD */
	struct wqueue	*wq;
	size_t		 sub;
	struct wq_waiter waiter;
	struct buf	 log;		/* items taken, each with its '\n' */
	size_t		*lens;		/* item lengths in log, oldest first */
	size_t		 lhead, ltail, lcap;
	size_t		 unwritten;	/* bytes at the end of log not yet written */
	size_t		 pipe_size;
	int		 polling;
	int		 broken;	/* EPIPE: the reader is gone */
	int		 poll_closed;	/* its close callback ran */
	int		 freed;		/* inlet_free ran */
	struct redisq_taker *rtk;	/* redis: ids of items in the log */
};

static void	wire_idle_cb(uv_idle_t *);
static void	wire_schedule(struct wqueue *, int writers);
static void	outlet_poll_cb(uv_poll_t *, int, int);
static void	outlet_resume_cb(struct wq_waiter *);
static void	inlet_poll_cb(uv_poll_t *, int, int);
static void	inlet_wake_cb(struct wq_waiter *);
static void	inlet_pump(struct inlet *);
static void	inlet_poll_close_cb(uv_handle_t *);
static void	inlet_log_add(struct inlet *, const void *, size_t);

/* Write all of buf to a blocking or non-blocking fd; -1 with errno. */
static int
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
static void
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
static void
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

static void
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

/* ------------------------------------------------------------ outlets */

static struct wqueue	*outlet_full_queue(struct outlet *);

/*
 * One line of the process: to the console, files and queues. Stops the
 * feed once a queue under overflow: block is full, so that it holds no
 * more than its capacity; the rest of the read waits in o->held.
 */
static int
outlet_line_cb(const char *line, size_t len, void *arg)
{
	struct outlet	*o = arg;
	size_t		 i;

	if (o->line_fn != NULL)
		o->line_fn(o->arg, line, len);
	if (o->console_fd != -1) {
		log_format_unit_line(&o->console, o->console_fd, o->prefix,
		    line, len);
		if (o->console_fn != NULL)
			o->console_fn(o->arg, line, len);
	}
	if (o->nfiles > 0) {
		buf_add(&o->file, line, len);
		buf_addc(&o->file, '\n');
	}
	for (i = 0; i < o->nqueues; i++)
		(void)wqueue_push(o->queues[i], line, len);
	return o->nqueues > 0 && !o->taking_all && outlet_full_queue(o) != NULL;
}

/* Write out what one chunk produced for the console and files. */
static void
outlet_flush(struct outlet *o)
{
	size_t	i;

	if (buf_used(&o->console) > 0) {
		(void)wire_write_all(o->console_fd, buf_ptr(&o->console),
		    buf_used(&o->console));
		buf_clear(&o->console);
	}
	if (buf_used(&o->file) > 0) {
		/* The sink logs its own failures, once per outage. */
		for (i = 0; i < o->nfiles; i++)
			(void)filesink_write(o->files[i], buf_ptr(&o->file),
			    buf_used(&o->file));
		buf_clear(&o->file);
	}
}

/* The first full queue this outlet feeds, under the block policy. */
static struct wqueue *
outlet_full_queue(struct outlet *o)
{
	size_t	i;

	for (i = 0; i < o->nqueues; i++)
		if (wqueue_is_full(o->queues[i]))
			return o->queues[i];
	return NULL;
}

/* Feed bytes read; returns how many were taken before a queue filled. */
static size_t
outlet_feed(struct outlet *o, const char *p, size_t n)
{
	uint64_t	split = o->lines.split;
	size_t		i, used;

	used = lines_feed(&o->lines, p, n, outlet_line_cb, o);
	if (o->lines.split != split) {
		for (i = 0; i < o->nqueues; i++)
			o->queues[i]->split += o->lines.split - split;
		log_warnx("%s: a line longer than %d bytes was split",
		    o->prefix, QUEUE_MAX_ITEM);
	}
	outlet_flush(o);
	for (i = 0; i < o->nqueues; i++)
		wqueue_flush_direct(o->queues[i]);
	return used;
}

/* Feed what a full queue held back, as much as there is room for. */
static void
outlet_feed_held(struct outlet *o)
{
	if (buf_used(&o->held) > 0)
		buf_consume(&o->held, outlet_feed(o, buf_ptr(&o->held),
		    buf_used(&o->held)));
}

static void
outlet_set_eof(struct outlet *o)
{
	if (o->eof)
		return;
	o->eof = 1;
	(void)uv_poll_stop(&o->poll);
	if (o->eof_fn != NULL)
		o->eof_fn(o->arg);
}

/*
 * Read until the pipe is empty, a queue fills or we had our share of the
 * loop. Back-pressure: when a queue is full we stop reading, the pipe
 * fills and the producer blocks in write(2).
 */
static void
outlet_read(struct outlet *o)
{
	struct wqueue	*full;
	ssize_t		 n;
	size_t		 used;
	int		 i;

	for (i = 0; i < WIRE_READS_PER_WAKE; i++) {
		/*
		 * What a full queue held back goes first, in order. A feed
		 * stops at a full queue, which may have room again when it
		 * returns (an inlet took items directly): feed on until the
		 * queue is full or nothing is held. Each feed takes a line.
		 */
		while (buf_used(&o->held) > 0 && outlet_full_queue(o) == NULL)
			outlet_feed_held(o);
		if ((full = outlet_full_queue(o)) != NULL) {
			(void)uv_poll_stop(&o->poll);
			o->paused = 1;
			wqueue_wait_writable(full, &o->waiter);
			return;
		}
		n = read(o->fd, o->wire->rbuf, WIRE_READ_CHUNK);
		if (n > 0) {
			used = outlet_feed(o, o->wire->rbuf, (size_t)n);
			if (used < (size_t)n)
				buf_add(&o->held, o->wire->rbuf + used,
				    (size_t)n - used);
			continue;
		}
		if (n == 0) {
			outlet_set_eof(o);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return;
		log_warn("%s: reading its output", o->prefix);
		outlet_set_eof(o);
		return;
	}
}

static void
outlet_poll_cb(uv_poll_t *h, int status, int events)
{
	struct outlet	*o = h->data;

	if (status < 0) {
		log_warnx("%s: polling its output: %s", o->prefix,
		    uv_strerror(status));
		outlet_set_eof(o);
		return;
	}
	outlet_read(o);
}

static void
outlet_resume_cb(struct wq_waiter *w)
{
	struct outlet	*o = w->arg;
	struct wqueue	*full;

	if ((full = outlet_full_queue(o)) != NULL) {
		wqueue_wait_writable(full, &o->waiter);
		return;
	}
	o->paused = 0;
	if (uv_poll_start(&o->poll, UV_READABLE, outlet_poll_cb) != 0) {
		log_warnx("%s: cannot poll its output", o->prefix);
		outlet_set_eof(o);
		return;
	}
	outlet_read(o);
}

struct outlet *
outlet_new(struct wire *w, const struct outlet_config *c)
{
	struct outlet	*o;
	int		 error;

	o = xcalloc(1, sizeof *o);
	o->wire = w;
	o->fd = c->fd;
	o->prefix = xstrdup(c->prefix);
	o->console_fd = c->console_fd;
	o->files = c->files;
	o->nfiles = c->nfiles;
	TAILQ_INSERT_TAIL(&w->outlets, o, entry);
	if (c->nqueues > 0) {
		o->queues = xreallocarray(NULL, c->nqueues, sizeof *o->queues);
		memcpy(o->queues, c->queues, c->nqueues * sizeof *o->queues);
	}
	o->nqueues = c->nqueues;
	o->eof_fn = c->eof_fn;
	o->console_fn = c->console_fn;
	o->line_fn = c->line_fn;
	o->arg = c->arg;
	o->waiter.fn = outlet_resume_cb;
	o->waiter.arg = o;
	lines_init(&o->lines, QUEUE_MAX_ITEM);
	buf_init(&o->held);
	buf_init(&o->console);
	buf_init(&o->file);
	if ((error = uv_poll_init(w->loop, &o->poll, o->fd)) != 0)
		fatalx("uv_poll_init: %s", uv_strerror(error));
	o->poll.data = o;
	if ((error = uv_poll_start(&o->poll, UV_READABLE, outlet_poll_cb)) != 0)
		fatalx("uv_poll_start: %s", uv_strerror(error));
	return o;
}

void
outlet_set_line_fn(struct outlet *o, void (*fn)(void *, const char *, size_t))
{
	o->line_fn = fn;
}

int
outlet_is_eof(const struct outlet *o)
{
	return o->eof;
}

static void
outlet_close_cb(uv_handle_t *h)
{
	struct outlet	*o = h->data;
	size_t		 i;

	(void)close(o->fd);
	for (i = 0; i < o->nfiles; i++)
		filesink_free(o->files[i]);
	free(o->files);
	free(o->queues);
	free(o->prefix);
	lines_release(&o->lines);
	buf_release(&o->held);
	buf_release(&o->console);
	buf_release(&o->file);
	free(o);
}

void
outlet_free(struct outlet *o, int keep_tail)
{
	size_t	dropped, i;
	ssize_t	n;

	if (o == NULL)
		return;
	wqueue_unwait(&o->waiter);
	/*
	 * What is already read or in the pipe was written whole by the
	 * process: take it even past a full queue, the bound is one pipe's
	 * worth and one read.
	 */
	o->taking_all = 1;
	outlet_feed_held(o);
	while (!o->eof) {
		n = read(o->fd, o->wire->rbuf, WIRE_READ_CHUNK);
		if (n > 0)
			(void)outlet_feed(o, o->wire->rbuf, (size_t)n);
		else if (n == -1 && errno == EINTR)
			continue;
		else
			break;
	}
	dropped = lines_finish(&o->lines, keep_tail, outlet_line_cb, o);
	outlet_flush(o);
	if (dropped > 0) {
		for (i = 0; i < o->nqueues; i++)
			o->queues[i]->torn++;
		log_warnx("%s: dropped a torn last line of %zu bytes "
		    "(the process was killed)", o->prefix, dropped);
	}
	o->eof_fn = NULL;
	TAILQ_REMOVE(&o->wire->outlets, o, entry);
	uv_close((uv_handle_t *)&o->poll, outlet_close_cb);
}

/* ------------------------------------------------------------- inlets */

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
static void
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

static void
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
