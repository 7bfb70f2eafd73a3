/*
 * A named queue's storage: items (byte strings, any bytes but '\n') kept
 * in byte rings rather than one allocation each, with the overflow policy
 * and the counters. Plain data: it knows nothing of pipes, processes or
 * libuv. Callers: wire.c (process stdio), task.c (put/get), supervisor.c.
 *
 * In share mode every subscriber reads the same ring, so each item goes to
 * one of them. In broadcast mode each subscriber has its own ring and a
 * push copies the item into every one.
 */
#ifndef PYT_QUEUE_H
#define PYT_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#define QUEUE_DEFAULT_CAPACITY	1024
/* Items longer than this are split into pieces of this size, counted. */
#define QUEUE_MAX_ITEM		(1024 * 1024)

enum queue_mode {
	QUEUE_SHARE,
	QUEUE_BROADCAST,
};

enum queue_overflow {
	QUEUE_BLOCK,		/* store anyway; the caller pauses producers */
	QUEUE_DROP_OLDEST,
	QUEUE_DROP_NEWEST,
};

enum queue_push_result {
	QUEUE_PUSHED,		/* stored */
	QUEUE_PUSHED_DROPPED,	/* stored, after dropping the oldest item */
	QUEUE_DROPPED,		/* not stored (drop-newest, queue full) */
};

struct queue_counters {
	uint64_t	in;		/* items pushed by producers */
	uint64_t	out;		/* items popped by consumers */
	uint64_t	redelivered;	/* items put back for another try */
	uint64_t	dropped;	/* items lost to a drop-* policy */
	uint64_t	depth;		/* items held now (largest ring) */
	uint64_t	high_water;	/* largest depth seen */
};

struct queue;

/* Owner: the caller; free with queue_free. */
struct queue	*queue_new(size_t capacity, enum queue_mode, enum queue_overflow);
void		 queue_free(struct queue *);
/*
 * Register a reader and return its id. In share mode every id reads the
 * one shared ring. In broadcast mode a new subscriber starts empty: it
 * sees items pushed after it subscribed.
 */
size_t		 queue_subscribe(struct queue *);
size_t		 queue_nsubscribers(const struct queue *);
/* Append one item at the tail, applying the overflow policy. */
enum queue_push_result queue_push(struct queue *, const void *, size_t);
/* True when any ring holds capacity items or more. */
int		 queue_is_full(const struct queue *);
/* Items waiting for this subscriber. */
size_t		 queue_depth(const struct queue *, size_t sub);
/*
 * Borrow the head item of a subscriber's ring, valid until its next pop,
 * push or unshift; -1 if empty.
 */
int		 queue_peek(const struct queue *, size_t sub, const void **,
		    size_t *);
/* Remove the head item (counted as out). */
void		 queue_pop(struct queue *, size_t sub);
/* Count an item refused before it was stored (as dropped). */
void		 queue_count_dropped(struct queue *);
/* Count an item that passed an empty share queue without being stored. */
void		 queue_count_through(struct queue *);
/*
 * Put an item back at the head of a subscriber's ring for redelivery
 * (counted as redelivered, not in). Never dropped, even when full.
 */
void		 queue_unshift(struct queue *, size_t sub, const void *, size_t);
const struct queue_counters *queue_counters(const struct queue *);
enum queue_mode	 queue_mode(const struct queue *);
size_t		 queue_capacity(const struct queue *);
/* Bytes of ring storage held now, over all rings (shrinks when empty). */
size_t		 queue_memory(const struct queue *);

#endif
