/*
 * A queue backed by a Redis stream and its consumer group (issue 8), on
 * hiredis in the supervisor's loop. Items pushed here go to the stream
 * several to an entry, in batches of entries (issue 17); items for local
 * consumers come from the group (XREADGROUP, XAUTOCLAIM) into an inbox
 * ring that the caller owns and reads like any queue, and are
 * acknowledged once taken by a task or read whole by a process, an entry
 * with its last item. Knows nothing of units or YAML: wire.c glues it to
 * pipes and tasks.
 */
#ifndef PYT_REDISQ_H
#define PYT_REDISQ_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "manifest.h"
#include "queue.h"

struct redisq;
/* One consumer that takes items a few at a time and writes them out. */
struct redisq_taker;

struct redisq_cbs {
	/* Items arrived in the inbox, or the end of the stream became known. */
	void	(*readable)(void *);
	/* The queue may no longer be full. */
	void	(*writable)(void *);
};

/*
 * A Redis queue for spec, feeding inbox (borrowed until redisq_free).
 * With check set (start-up), connect now, blocking, retrying until
 * connect_timeout: NULL and an allocated *cause when Redis cannot be
 * reached, refuses the password, is older than 6.2, or holds something
 * else than a stream at the key. Without it, connect in the background
 * and retry for ever. Owner: the caller; free with redisq_free.
 */
struct redisq	*redisq_new(uv_loop_t *, const struct queue_spec *,
		    struct queue *inbox, const struct redisq_cbs *, void *arg,
		    int check, char **cause);
/*
 * Stop: give the inbox back to the stream, flush what producers pushed,
 * mark them ended, then close. Runs on in the loop (at most
 * connect_timeout while Redis is unreachable); the inbox is not touched
 * after this returns, and no callback is called.
 */
void		 redisq_free(struct redisq *);
/* Queue an item for the stream; returns 1 when producers should pause. */
int		 redisq_push(struct redisq *, const void *, size_t);
int		 redisq_is_full(const struct redisq *);
/*
 * The stream has ended for the local consumers: every registered
 * producer has ended and the stream is empty, or the supervisor is
 * shutting down (the inbox is theirs to finish).
 */
int		 redisq_is_ended(const struct redisq *);
/* Local producers became live (1) or all ended for good (0). */
void		 redisq_producers(struct redisq *, int live);
/*
 * Close the queue for every supervisor sharing the stream: once what was
 * pushed here is in the stream, Redis refuses items from any producer,
 * and the end comes once the stream is empty. Refusing the pushes of
 * local producers from now on is the caller's part.
 */
void		 redisq_close(struct redisq *);
/* A local reader waits for items. */
void		 redisq_want(struct redisq *);
/* No local reader waits any more: the last one went without an item. */
void		 redisq_unwant(struct redisq *);
/* The head item of the inbox was taken by a task: acknowledge it. */
void		 redisq_popped(struct redisq *);
/* Stop fetching: the supervisor is shutting down. */
void		 redisq_shutdown(struct redisq *);

/*
 * A taker writing into a pipe: fd its end, rfd the reader's (or -1),
 * both borrowed until redisq_taker_free. Items it takes are acknowledged
 * once the reader has read them whole (FIONREAD on rfd, else on fd).
 */
struct redisq_taker *redisq_taker_new(struct redisq *, int fd, int rfd);
/* The taker closes fd (end of stream). */
void		 redisq_taker_close(struct redisq_taker *);
/* Items still in hand and not closed stay pending, for claim_after. */
void		 redisq_taker_free(struct redisq_taker *);
/* The taker popped the head item of the inbox, bytes long on the wire. */
void		 redisq_take(struct redisq_taker *, size_t bytes);
/* n more bytes were written into fd. */
void		 redisq_written(struct redisq_taker *, size_t n);
/*
 * The last nback items taken went back to the head of the inbox (the
 * reader died): those not yet acknowledged keep their ids.
 */
void		 redisq_untake(struct redisq_taker *, size_t nback);

/* Counters as for a memory queue; depth is what this supervisor holds. */
const struct queue_counters *redisq_counters(struct redisq *);
/* Last known length of the stream. */
uint64_t	 redisq_stream_len(const struct redisq *);

#endif
