/*
 * Private to the Redis queue's own files (redisq.c and redisq-*.c): the
 * queue and taker structs, the tuning constants, and the functions those
 * files call across each other. Only they may include it, and only in a
 * build with hiredis (HAVE_HIREDIS); everyone else uses redisq.h.
 */
#ifndef PYT_REDISQ_INT_H
#define PYT_REDISQ_INT_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "manifest.h"
#include "queue.h"
#include "rconn.h"
#include "redisq.h"
#include "rstream.h"

/*
 * Items fetched ahead for local consumers, at most (and capacity), and
 * their bytes: a fetch asks for as many entries as its estimate of
 * their size leaves room for, so one entry may pass the byte bound.
 */
#define RQ_WINDOW		8192
#define RQ_WINDOW_BYTES		(4 * 1024 * 1024)
/*
 * Items and bytes in one stream entry (and capacity): the unit of
 * delivery, of acknowledgement and of redelivery. An item larger than
 * RQ_ENTRY_BYTES goes alone.
 */
#define RQ_ENTRY_ITEMS		256
#define RQ_ENTRY_BYTES		(64 * 1024)
/* Items and bytes in one PUSH, and PUSHes in flight. */
#define RQ_BATCH_ITEMS		4096
#define RQ_BATCH_BYTES		(1024 * 1024)
#define RQ_INFLIGHT		4
/* Items, and bytes, queued here for the stream before producers pause. */
#define RQ_OUTBOX_MAX		16384
#define RQ_OUTBOX_BYTES		(8 * 1024 * 1024)
/* Looking again at what readers read, while they hold unread items. */
#define RQ_READ_CHECK_MIN_MS	1
#define RQ_READ_CHECK_MAX_MS	64
/* Entries one XAUTOCLAIM takes, at most (it looks at ten times as many). */
#define RQ_CLAIM_COUNT		100
/* Entries in one acknowledgement or refresh. */
#define RQ_ACK_BATCH		1000
/* How long one XREADGROUP blocks in the server (end-of-stream latency). */
#define RQ_BLOCK_MS		500
/* The polling of a full stream's length. */
/*
 * The stream emptied while producers elsewhere were live: look for the
 * end again after this, doubling up to RQ_BLOCK_MS, since nothing wakes
 * a read when a producer elsewhere says it ended.
 */
#define RQ_ENDCHK_MIN_MS	10
#define RQ_POLL_MIN_MS		1
#define RQ_POLL_MAX_MS		100
/* A connection with a command unanswered this long is dropped. */
#define RQ_WATCHDOG_MS		10000
#define RQ_HOST_MAX		256

/*
 * What an item given back asks of the RETURN script, in the left field
 * of ret_ids: 0, add it; RQ_RET_RELEASE(n), add it and acknowledge its
 * entry of n items, the last in hand; RQ_RET_ONLY(n), no item, only
 * acknowledge the entry (its last item was done after others of it were
 * given back, and must not be acknowledged before they are added).
 */
#define RQ_RET_RELEASE(n)	((size_t)(n) * 2)
#define RQ_RET_ONLY(n)		((size_t)(n) * 2 + 1)

enum rq_reg {
	RQ_REG_NONE,		/* the registry never heard of us */
	RQ_REG_LIVE,
	RQ_REG_ENDED,
};

struct redisq;

struct redisq_taker {
	TAILQ_ENTRY(redisq_taker)	 entry;
	struct redisq			*rq;
	int				 fd;	/* to probe, borrowed; or -1 */
	int				 own;	/* fd is the writer's end */
	int				 closed;	/* end of stream sent */
	uint64_t			 written;	/* bytes, in all */
	uint64_t			 read;		/* by the reader */
	struct rstream_fifo		 ids;	/* items not read whole */
};

struct redisq {
	uv_loop_t		*loop;
	char			*name;
	char			*url;		/* shown, password masked */
	struct redis_url	 ru;
	char			*stream;
	char			*group;
	char			*registry;
	char			*extra;		/* items beyond one an entry */
	char			*consumer;
	char			*producer;
	size_t			 capacity;
	enum queue_overflow	 overflow;
	uint64_t		 claim_after;
	uint64_t		 connect_timeout;
	size_t			 window;

	struct queue		*inbox;		/* NULL once freed */
	struct rstream_fifo	 inbox_ids;	/* parallel to inbox items */
	size_t			 inbox_bytes;	/* about: left of inbox_ids */
	size_t			 ent_items;	/* per entry fetched, lately */
	size_t			 ent_bytes;
	TAILQ_HEAD(, redisq_taker) takers;
	struct redisq_cbs	 cbs;
	void			*arg;

	struct rconn		 cmd;
	struct rconn		 rd;

	/*
	 * Outbox: items not yet added by the server, as netstrings. The
	 * head ones are closed into entries (ents: id.ms items, left
	 * bytes), never regrouped, so that a PUSH sent again adds the same
	 * entries; the rest are open, closed when a PUSH can leave.
	 */
	struct buf		 ob;
	size_t			 ob_n;
	size_t			 ob_limit;
	struct rstream_fifo	 ents;
	size_t			 closed_n;	/* items in ents */
	size_t			 closed_bytes;
	size_t			 entry_max;	/* items in one entry */
	size_t			 sent_ents;	/* head entries in flight */
	size_t			 sent_n;	/* their items */
	size_t			 sent_bytes;
	size_t			 batches;	/* PUSHes in flight */
	uint64_t		 base_seq;	/* number of the head item */
	uint64_t		 xlen;		/* last known items in the stream */

	/*
	 * Entries in hand, and those done: acks and acking hold entry ids
	 * with their count of items (left), to send and sent.
	 */
	struct rstream_refs	 refs;
	struct rstream_fifo	 acks;
	struct rstream_fifo	 acking;	/* sent, in order, unanswered */
	struct buf		 ret;		/* records like the outbox */
	struct rstream_fifo	 ret_ids;
	size_t			 ret_sent;	/* head records in flight */
	size_t			 ret_sent_bytes;

	/* Producer registry. */
	int			 producing;
	enum rq_reg		 reg;
	int			 reg_busy;
	uint64_t		 reg_at;

	/* Consumer side. */
	int			 want;		/* a reader waits */
	int			 popped;	/* items taken since last fetch */
	int			 rd_busy;
	int			 unblock_busy;
	int			 recovering;	/* reading our own pending ids */
	char			 rec_id[RSTREAM_ID_MAX];
	int			 claim_busy;
	char			 claim_cursor[RSTREAM_ID_MAX];
	int			 status_busy;
	int			 status_again;
	uv_timer_t		 endchk;	/* the end looked for again */
	uint64_t		 endchk_ms;
	int			 xlen_busy;
	int			 need_group;
	int			 group_busy;
	int			 remote_ended;
	int			 draining;
	uint64_t		 last_pop_at;
	uint64_t		 refreshed_at;
	uint64_t		 claimed_at;

	/* Back-pressure: the stream's length is polled only while full. */
	uv_timer_t		 poll;
	uint64_t		 poll_ms;

	uv_timer_t		 rdchk;		/* what readers read */
	uint64_t		 rdchk_ms;
	uv_timer_t		 tick;
	uv_timer_t		 keep;		/* referenced while work is due */
	uv_prepare_t		 prep;
	int			 nhandles;
	int			 freeing;
	int			 left;		/* LEAVE sent */
	int			 leave_busy;
	int			 closing;
	uint64_t		 deadline;

	int			 outage;
	uint64_t		 outage_since;

	uint64_t		 pushed;
	uint64_t		 dropped;
	uint64_t		 claimed;
	uint64_t		 returned;
	uint64_t		 high_water;
	struct queue_counters	 merged;
};

/* redisq.c: the queue object, its connections, its work, closing. */
uint64_t	 rq_now(const struct redisq *);
void		 rec_add(struct buf *, const void *, size_t);
size_t		 rec_at(const struct buf *, size_t, const char **, size_t *);
const char	*rq_dur(uint64_t, char *, size_t);
void		 rq_readable(struct redisq *);
void		 rq_writable(struct redisq *);
size_t		 rq_inbox_depth(const struct redisq *);
int		 rq_has_readers(const struct redisq *);
void		 rq_schedule(struct redisq *);

/* redisq-produce.c: adding items, and the registry of producers. */
void		 rq_high(struct redisq *);
void		 rq_send_pushes(struct redisq *);
void		 rq_poll_maybe(struct redisq *);
void		 rq_send_reg(struct redisq *);

/* redisq-consume.c: reading, acknowledging, the group, the takers. */
void		 rq_send_acks(struct redisq *);
size_t		 rq_take_entries(struct redisq *, redisReply *, int, size_t *);
size_t		 rq_fetch_count(const struct redisq *, size_t);
void		 rq_fetch(struct redisq *);
void		 rq_send_group(struct redisq *);
void		 rq_check_end(struct redisq *);
void		 rq_unblock(struct redisq *);
int		 rq_taker_check(struct redisq_taker *);
void		 rq_item_done(struct redisq *, const struct rstream_id *);
void		 rq_read_check(struct redisq *);

/* redisq-claim.c: claiming, refreshing and giving items back. */
void		 rq_claim(struct redisq *);
void		 rq_refresh(struct redisq *);
size_t		 rq_return_inbox(struct redisq *);
void		 rq_ret_item(struct redisq *, const struct rstream_id *,
		    const void *, size_t);
void		 rq_send_returns(struct redisq *);
void		 rq_idle_return(struct redisq *);

#endif
