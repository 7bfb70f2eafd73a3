/*
 * The data plane: named queues at run time and the glue between them and
 * child pipes. An outlet reads a child's stdout or stderr, splits lines and
 * hands them to the console, files and queues, pausing when a queue is
 * full or the console holds all it may; an inlet writes a queue's items
 * into a child's stdin and puts back what the child never read. Knows nothing of YAML or of units: the
 * supervisor wires runs to queues; tasks use the wqueue calls.
 */
#ifndef PYT_WIRE_H
#define PYT_WIRE_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "filesink.h"
#include "manifest.h"

struct wire;
struct wqueue;
struct outlet;
struct inlet;

struct wq_waiter;

/*
 * What a consumer of a queue offers the queue (an inlet: a child's
 * stdin). take: accept an item pushed into the empty share queue now (1)
 * or decline (0), without writing it; flush: write what take accepted;
 * held: items taken and not yet read by the child (in flight).
 */
struct wq_consumer_ops {
	int		(*take)(struct wq_waiter *, const void *, size_t);
	void		(*flush)(struct wq_waiter *);
	size_t		(*held)(const struct wq_waiter *);
};

/* Someone waiting for a queue to have items (or end), or to have room. */
struct wq_waiter {
	TAILQ_ENTRY(wq_waiter)	 entry;
	struct wqueue		*on;	/* non-NULL while registered */
	int			 writer;
	void			(*fn)(struct wq_waiter *);
	void			*arg;
	/* A consumer only (wqueue_consumer_add); NULL otherwise. */
	const struct wq_consumer_ops *ops;
	const char		*name;		/* borrowed: for listings */
	/* The queue's own: its consumers, and those to flush. */
	TAILQ_ENTRY(wq_waiter)	 centry;
	TAILQ_ENTRY(wq_waiter)	 fentry;
	struct wqueue		*consumer_of;
	int			 flush_pending;
};

/* Owner: the caller. */
struct wire	*wire_new(uv_loop_t *);
/*
 * Frees every queue; outlets and inlets must be freed before, detached
 * outlets closed (outlet_close_tails).
 */
void		 wire_free(struct wire *);
/* Stop deferring end of stream: every autostart producer is registered. */
void		 wire_open(struct wire *);
/*
 * Shutting down: Redis queues stop fetching; local consumers drain;
 * queues fed from outside are closed.
 */
void		 wire_shutdown(struct wire *);
/*
 * One line of a unit that is no replica to fd (1 or 2), as the console
 * shows it; never waits: a console that takes nothing holds it.
 */
void		 wire_console_line(struct wire *, int fd, const char *prefix,
		    const char *line, size_t len);
/*
 * A writer that can wait (a task's echo) waits while the console of fd
 * is full: 1, and cw->fn is called once, from the loop, when it has room;
 * 0 when there is room now.
 */
struct console_waiter;
int		 wire_console_wait(struct wire *, int fd,
		    struct console_waiter *);
/* Reopen every file output of every outlet (SIGUSR1). */
void		 wire_reopen_files(struct wire *);
/* Print every queue's counters (for -v at exit). */
void		 wire_print_counters(struct wire *, FILE *);
/* Items still held in all queues. */
uint64_t	 wire_items_held(struct wire *);
/* Detached outlets still reading (see outlet_detach). */
size_t		 wire_tails(const struct wire *);
/* Call fn(arg) each time the last detached outlet closed. */
void		 wire_set_tails_fn(struct wire *, void (*)(void *), void *);

struct wqueue	*wire_add_queue(struct wire *, const struct queue_spec *);
struct wqueue	*wire_find_queue(struct wire *, const char *);
/* Every queue in the order added; *out borrowed until the next add. */
size_t		 wire_queues(struct wire *, struct wqueue ***out);
const char	*wqueue_name(const struct wqueue *);
enum queue_mode	 wqueue_mode(const struct wqueue *);
const struct queue_counters *wqueue_counters(const struct wqueue *);
/* Torn last lines dropped; producers live now (read-only, for metrics). */
uint64_t	 wqueue_torn(const struct wqueue *);
size_t		 wqueue_producers(const struct wqueue *);
size_t		 wqueue_subscribe(struct wqueue *);
/* A producer became live (running or restarting) / ended for good. */
void		 wqueue_producer_add(struct wqueue *);
void		 wqueue_producer_del(struct wqueue *);
/*
 * How many units of the manifest feed the queue (queue_spec.producers),
 * after a reload. A queue no unit feeds (none in the manifest, none ever
 * live) is fed from outside (ctl put): its stream does not end when no
 * producer is live, only when it is closed.
 */
void		 wqueue_respec(struct wqueue *, const struct queue_spec *);
/*
 * End the stream by hand (ctl close, the close builtin): consumers drain
 * what it holds, then see the end; later pushes are dropped (counted).
 * -1 with *cause for a Redis queue.
 */
int		 wqueue_close(struct wqueue *, char **cause);
int		 wqueue_is_closed(const struct wqueue *);
int		 wqueue_is_fed_outside(const struct wqueue *);
/* Open, fed from outside, empty, no live producer: only put or close help. */
int		 wqueue_is_starved(const struct wqueue *);
/*
 * The run waits on its starved queues: say so, once per queue, with how
 * to end it.
 */
void		 wire_report_open(struct wire *);
/* "open", "closed" or "ended": the stream's state, for listings. */
const char	*wqueue_state(const struct wqueue *);
/* Units of the manifest that feed it (wqueue_respec). */
size_t		 wqueue_declared(const struct wqueue *);
/*
 * Consumers as "NAME:IN_FLIGHT" words separated by spaces, one per
 * consumer (an inlet) in the order they started; caller frees.
 */
char		*wqueue_consumers_text(const struct wqueue *, size_t *count);
/* Push one item; returns 1 when the queue is now full under "block". */
int		 wqueue_push(struct wqueue *, const void *, size_t);
int		 wqueue_is_full(const struct wqueue *);
/* No live producer and nothing left for this subscriber. */
int		 wqueue_is_ended(const struct wqueue *, size_t sub);
/*
 * Take the next item for sub into *item (caller frees). Returns 0 with an
 * item, 1 when none is there yet, -1 at end of stream.
 */
int		 wqueue_pop_copy(struct wqueue *, size_t sub, char **item,
		    size_t *len);
/*
 * Put an item taken with wqueue_pop_copy back at the head of sub's ring
 * (its taker could not deliver it): counted as redelivered. Memory
 * queues only: 0, or -1 for a Redis queue, whose item is acknowledged.
 */
int		 wqueue_unpop(struct wqueue *, size_t sub, const void *,
		    size_t);
/* Call w->fn once, soon, when sub may have an item or the queue ended. */
void		 wqueue_wait_readable(struct wqueue *, struct wq_waiter *);
/* Call w->fn once, soon, when the queue is no longer full. */
void		 wqueue_wait_writable(struct wqueue *, struct wq_waiter *);
void		 wqueue_unwait(struct wq_waiter *);
/* A consumer starts or stops reading the queue (w->ops set). */
void		 wqueue_consumer_add(struct wqueue *, struct wq_waiter *);
void		 wqueue_consumer_del(struct wq_waiter *);
/* Subscribers of the queue (consumers, tasks reading it). */
size_t		 wqueue_nsubscribers(const struct wqueue *);
/* The queue's prefetch key; 0 when not set. */
size_t		 wqueue_prefetch(const struct wqueue *);

/* Where an outlet's lines go. */
struct outlet_config {
	int		  fd;		/* our end of the child's pipe; owned */
	const char	 *prefix;	/* unit name for the console */
	unsigned	  replica;	/* 1..N for "web.2" (JSON log); 0 */
	int		  console_fd;	/* 1 or 2, or -1 */
	struct filesink	**files;	/* owned, with the array */
	size_t		  nfiles;
	struct wqueue	**queues;
	size_t		  nqueues;
	void		(*eof_fn)(void *);	/* called once at EOF */
	/* Sees every line (readiness by a line); NULL: none. */
	void		(*line_fn)(void *, const char *, size_t);
	/* Sees every line sent to the console (without its newline). */
	void		(*console_fn)(void *, const char *, size_t);
	void		 *arg;
};

struct outlet	*outlet_new(struct wire *, const struct outlet_config *);
int		 outlet_is_eof(const struct outlet *);
/* Stop (NULL) or change the per-line observer. */
void		 outlet_set_line_fn(struct outlet *,
		    void (*)(void *, const char *, size_t));
/*
 * Read what is left without waiting, deliver the unfinished last line
 * (keep_tail) or drop and count it, then close and free.
 */
void		 outlet_free(struct outlet *, int keep_tail);
/*
 * Let go of an outlet whose process (the leader) exited while others of
 * its group may still write: what is in the pipe now is delivered at
 * once; the outlet then reads on by itself, lines still prefixed with
 * the unit's name, until end of file, and frees itself (an unfinished
 * last line delivered as keep_tail says). Of its callbacks only
 * console_fn is called again, until outlet_disown. It counts as a live producer of its queues until it closes.
 * It keeps no loop running: whoever detached it closes it with
 * outlet_close_tails when the run ends; wire_tails counts those open.
 */
void		 outlet_detach(struct outlet *, int keep_tail);
/*
 * arg goes away: the detached outlets that still tell it their console
 * lines (console_fn, which detaching keeps) stop.
 */
void		 outlet_disown(struct wire *, const void *arg);
/*
 * The run ends: every detached outlet still open delivers what is in its
 * pipe now and closes (the wire's tails callback is called as usual).
 */
void		 outlet_close_tails(struct wire *);

/* fd: our end of the child's stdin pipe; owned. */
/*
 * rfd: a dup of the child's end of the pipe (owned; -1 if none), kept so
 * the items a dead consumer left unread are known even after its stdin
 * was closed at the end of the stream.
 */
/* name: the consumer's, for listings; copied. */
struct inlet	*inlet_new(struct wire *, int fd, int rfd, struct wqueue *,
		    size_t sub, const char *name);
/* Close, putting items the child never read back at the queue's head. */
void		 inlet_free(struct inlet *);
int		 inlet_is_closed(const struct inlet *);
/* Items taken from the queue not read by the child yet (read-only). */
size_t		 inlet_in_flight(const struct inlet *);

#endif
