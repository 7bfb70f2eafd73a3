/*
 * Private to the wire's own files (wire.c, outlet.c and inlet.c): the
 * queue, wire, outlet and inlet structs, the tuning constants, and the
 * functions those files call across each other. Only they may include it;
 * everyone else uses wire.h.
 */
#ifndef PYT_WIRE_INT_H
#define PYT_WIRE_INT_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "filesink.h"
#include "lines.h"
#include "manifest.h"
#include "queue.h"
#include "redisq.h"
#include "wire.h"

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
	struct buf	  longline;	/* console: pieces of a long line */
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

/* wire.c: what outlets and inlets call across. */
/* Write all of buf to fd, waiting for room; -1 with errno. */
int		 wire_write_all(int, const char *, size_t);
/* Wake the queue's readers (or writers) from the idle handle, soon. */
void		 wire_schedule(struct wqueue *, int writers);
/* After a pop: wake paused producers once there is room again. */
void		 wqueue_popped(struct wqueue *);
/* After an outlet's chunk: the inlet fed directly writes it now. */
void		 wqueue_flush_direct(struct wqueue *);

/*
 * inlet.c: what the direct hand-off in wire.c needs of an inlet. A
 * reader whose fn is inlet_wake_cb is an inlet.
 */
void		 inlet_wake_cb(struct wq_waiter *);
/* Append an item and its newline to the log, not yet written. */
void		 inlet_log_add(struct inlet *, const void *, size_t);
/* Write what we can; then wait for room, for items, or close. */
void		 inlet_pump(struct inlet *);

#endif
