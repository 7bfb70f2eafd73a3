/*
 * Private to the wire's own files (wire.c, outlet.c and inlet.c): the
 * queue, wire and outlet structs, the tuning constants, and the functions
 * outlets and inlets call in wire.c (never the other way: wire.c sees an
 * inlet only through struct wq_consumer_ops). Only they may include it;
 * everyone else uses wire.h.
 */
#ifndef PYT_WIRE_INT_H
#define PYT_WIRE_INT_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "console.h"
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
	size_t			 prefetch;	/* the key; 0: not set */
	int			 closed;	/* by ctl close or a task */
	size_t			 declared;	/* units of the manifest feeding it */
	int			 unit_fed;	/* a unit was its producer once */
	int			 said_open;	/* "waiting for producers" said */
	/* Consumers (inlets), and those that took items directly. */
	TAILQ_HEAD(, wq_waiter)	 consumers;
	TAILQ_HEAD(, wq_waiter)	 to_flush;
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
	size_t			 tails;		/* detached outlets still open */
	/* Where unit lines for fd 1 and 2 go; one for both if one place. */
	struct console		*console[3];
	void			(*tails_fn)(void *);
	void			*tails_arg;
};

struct outlet {
	struct wire	 *wire;
	uv_poll_t	  poll;
	int		  fd;
	char		 *prefix;
	unsigned	  replica;
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
	struct console_waiter cwaiter;	/* paused on a full console */
	int		  eof;
	int		  paused;
	int		  detached;	/* its owner let go: reads on to EOF */
	int		  keep_tail;	/* detached: deliver a last partial line */
	void		(*eof_fn)(void *);
	void		(*console_fn)(void *, const char *, size_t);
	void		(*line_fn)(void *, const char *, size_t);
	void		 *arg;
};

/* wire.c: what outlets and inlets call across. */
/* Wake the queue's readers (or writers) from the idle handle, soon. */
void		 wire_schedule(struct wqueue *, int writers);
/* After a pop: wake paused producers once there is room again. */
void		 wqueue_popped(struct wqueue *);
/* After an outlet's chunk: consumers fed directly write it now. */
void		 wqueue_flush_direct(struct wqueue *);

#endif
