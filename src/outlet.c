/*
 * Outlets: a child's stdout or stderr, read in large chunks and split
 * into lines in place, to the console, files and queues; reading stops
 * while a queue under overflow: block is full, or while the console
 * holds all it may (its reader is slow). Knows nothing of inlets;
 * of a queue it touches only the wqueue calls and its torn and split
 * counters.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "lines.h"
#include "log.h"
#include "queue.h"
#include "wire.h"
#include "wire-int.h"
#include "xmalloc.h"

/*
 * A line longer than a queue's item limit is cut into pieces for queues;
 * files get its bytes unchanged, and the console gets it whole, up to
 * this bound on what is held (then in parts of this size).
 */
#define OUTLET_CONSOLE_MAX_LINE	(16 * 1024 * 1024)

static void	outlet_poll_cb(uv_poll_t *, int, int);
static void	outlet_close(struct outlet *, int);
static void	outlet_resume_cb(struct wq_waiter *);
static void	outlet_console_cb(struct console_waiter *);
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
	const char	*whole = line;
	size_t		 i, wlen = len;
	int		 cut = o->lines.cut;

	if (o->line_fn != NULL)
		o->line_fn(o->arg, line, len);
	if (o->console_fd != -1) {
		/* A cut line is held until its end, to reach the console whole. */
		if (cut || buf_used(&o->longline) > 0) {
			buf_add(&o->longline, line, len);
			whole = buf_ptr(&o->longline);
			wlen = buf_used(&o->longline);
		}
		if (!cut || wlen >= OUTLET_CONSOLE_MAX_LINE) {
			log_format_unit_line(&o->console, o->console_fd,
			    o->prefix, o->replica, whole, wlen);
			if (o->console_fn != NULL)
				o->console_fn(o->arg, whole, wlen);
			if (buf_used(&o->longline) > 0)
				buf_release(&o->longline);
		}
	}
	if (o->nfiles > 0) {
		/* The piece of a cut line as it was: no '\n' after it. */
		buf_add(&o->file, line, len);
		if (!cut)
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
		console_write(o->wire->console[o->console_fd],
		    buf_ptr(&o->console), buf_used(&o->console));
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

/*
 * Is there no room for more: a full queue, or a console that holds all
 * it may? Then wait for room (once) and say so.
 */
static int
outlet_wait_room(struct outlet *o)
{
	struct console	*c;
	struct wqueue	*full;

	if ((full = outlet_full_queue(o)) != NULL) {
		wqueue_wait_writable(full, &o->waiter);
		return 1;
	}
	if (o->console_fd != -1 &&
	    console_is_full(c = o->wire->console[o->console_fd])) {
		console_wait(c, &o->cwaiter);
		return 1;
	}
	return 0;
}

/* Feed bytes read; returns how many were taken before a queue filled. */
static size_t
outlet_feed(struct outlet *o, const char *p, size_t n)
{
	uint64_t	split = o->lines.split;
	size_t		i, used;

	used = lines_feed(&o->lines, p, n, outlet_line_cb, o);
	if (o->lines.split != split && o->nqueues > 0) {
		for (i = 0; i < o->nqueues; i++)
			o->queues[i]->split += o->lines.split - split;
		log_warnx("%s: a line longer than %d bytes was split into "
		    "queue items", o->prefix, QUEUE_MAX_ITEM);
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

/* End of file. A detached outlet closes itself: nobody else will. */
static void
outlet_set_eof(struct outlet *o)
{
	if (o->eof)
		return;
	o->eof = 1;
	(void)uv_poll_stop(&o->poll);
	if (o->detached)
		outlet_close(o, o->keep_tail);
	else if (o->eof_fn != NULL)
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
		if (outlet_wait_room(o)) {
			(void)uv_poll_stop(&o->poll);
			o->paused = 1;
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

/* Room again in what paused it: read on, unless something else is full. */
static void
outlet_resume(struct outlet *o)
{
	if (outlet_wait_room(o))
		return;
	o->paused = 0;
	if (uv_poll_start(&o->poll, UV_READABLE, outlet_poll_cb) != 0) {
		log_warnx("%s: cannot poll its output", o->prefix);
		outlet_set_eof(o);
		return;
	}
	outlet_read(o);
}

static void
outlet_resume_cb(struct wq_waiter *w)
{
	outlet_resume(w->arg);
}

static void
outlet_console_cb(struct console_waiter *w)
{
	outlet_resume(w->arg);
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
	o->replica = c->replica;
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
	o->cwaiter.fn = outlet_console_cb;
	o->cwaiter.arg = o;
	lines_init(&o->lines, QUEUE_MAX_ITEM);
	buf_init(&o->held);
	buf_init(&o->console);
	buf_init(&o->longline);
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
	buf_release(&o->longline);
	buf_release(&o->file);
	free(o);
}

/* A detached outlet closed: it produces no more; maybe the last tail. */
static void
outlet_tail_done(struct outlet *o)
{
	struct wire	*w = o->wire;
	size_t		 i;

	for (i = 0; i < o->nqueues; i++)
		wqueue_producer_del(o->queues[i]);
	if (--w->tails == 0 && w->tails_fn != NULL)
		w->tails_fn(w->tails_arg);
}

/*
 * Read what is left without waiting (past full queues: the bound is one
 * pipe's worth and one read), finish the last line, then close and free.
 */
static void
outlet_close(struct outlet *o, int keep_tail)
{
	size_t	dropped, i;
	ssize_t	n;

	wqueue_unwait(&o->waiter);
	console_unwait(&o->cwaiter);
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
	/* A cut line whose end never came: the console gets what there was. */
	if (buf_used(&o->longline) > 0 && o->console_fd != -1) {
		log_format_unit_line(&o->console, o->console_fd, o->prefix,
		    o->replica, buf_ptr(&o->longline), buf_used(&o->longline));
		buf_release(&o->longline);
	}
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
	if (o->detached)
		outlet_tail_done(o);
}

void
outlet_free(struct outlet *o, int keep_tail)
{
	if (o == NULL)
		return;
	outlet_close(o, keep_tail);
}

/*
 * The leader exited; its group may write on. The run it belonged to ends
 * now (a restart does not wait for this tail), so nothing of the run may
 * be called from here on; what the unit keeps of its output (the console
 * observer) still sees the tail's lines until the unit lets go of it
 * (outlet_disown). The poll handle is unreferenced: a detached outlet
 * never keeps the run up; at the end of file, or at wire_free, it
 * closes. Memory stays bounded as before: a full queue still pauses the
 * reading.
 */
void
outlet_detach(struct outlet *o, int keep_tail)
{
	size_t	i;

	if (o == NULL)
		return;
	o->eof_fn = NULL;
	o->line_fn = NULL;
	o->keep_tail = keep_tail;
	o->detached = 1;
	/* Its queues do not end while the tail may still feed them. */
	for (i = 0; i < o->nqueues; i++)
		wqueue_producer_add(o->queues[i]);
	o->wire->tails++;
	if (o->eof) {
		outlet_close(o, keep_tail);
		return;
	}
	uv_unref((uv_handle_t *)&o->poll);
	/* The leader's last words are in the pipe: before its exit is told. */
	if (!o->paused)
		outlet_read(o);
}

void
outlet_disown(struct wire *w, const void *arg)
{
	struct outlet	*o;

	TAILQ_FOREACH(o, &w->outlets, entry)
		if (o->detached && o->arg == arg) {
			o->console_fn = NULL;
			o->arg = NULL;
		}
}

void
outlet_close_tails(struct wire *w)
{
	struct outlet	*o, *next;

	for (o = TAILQ_FIRST(&w->outlets); o != NULL; o = next) {
		next = TAILQ_NEXT(o, entry);
		if (o->detached)
			outlet_close(o, o->keep_tail);
	}
}
