/*
 * Queues backed by a Redis stream and a consumer group, in the
 * supervisor's loop: one concept, the Redis Streams backend of a queue,
 * in one file. Two connections (rconn.c) per queue: one for commands
 * (adding, acknowledging, claiming), one for the blocking reads. It
 * knows the inbox ring it feeds and the pipes its takers write into (to
 * learn what was read), nothing of units or of the YAML; the pure parts
 * (ids, entries, netstrings, the names of keys) are rstream.c's.
 *
 * In order: the tuning and the queue object; its connections; producing
 * (the outbox, PUSH, the registry of producers); consuming (reads,
 * acknowledgements, the end of the stream, the takers); claiming and
 * giving back; closing; the work due once per loop turn; the API.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "buf.h"
#include "log.h"
#include "manifest.h"
#include "queue.h"
#include "redisq.h"
#include "rstream.h"
#include "util.h"
#include "xmalloc.h"

#ifndef HAVE_HIREDIS

/* A build without hiredis: every Redis queue is an error at start-up. */
struct redisq	{ int unused; };
struct redisq_taker { int unused; };

struct redisq *
redisq_new(uv_loop_t *loop, const struct queue_spec *qs, struct queue *inbox,
    const struct redisq_cbs *cbs, void *arg, int check, char **cause)
{
	*cause = xstrdup("this build has no Redis support (it was configured "
	    "--without-redis; install libhiredis-dev and rebuild)");
	return NULL;
}

void redisq_free(struct redisq *rq) { }
int redisq_push(struct redisq *rq, const void *p, size_t n) { return 0; }
int redisq_is_full(const struct redisq *rq) { return 0; }
int redisq_is_ended(const struct redisq *rq) { return 1; }
void redisq_producers(struct redisq *rq, int live) { }
void redisq_close(struct redisq *rq) { }
void redisq_want(struct redisq *rq) { }
void redisq_unwant(struct redisq *rq) { }
void redisq_popped(struct redisq *rq) { }
void redisq_shutdown(struct redisq *rq) { }
struct redisq_taker *redisq_taker_new(struct redisq *rq, int fd, int rfd) { return NULL; }
void redisq_taker_close(struct redisq_taker *t) { }
void redisq_taker_free(struct redisq_taker *t) { }
void redisq_take(struct redisq_taker *t, size_t n) { }
void redisq_written(struct redisq_taker *t, size_t n) { }
void redisq_untake(struct redisq_taker *t, size_t n) { }
const struct queue_counters *redisq_counters(struct redisq *rq) { return NULL; }
uint64_t redisq_stream_len(const struct redisq *rq) { return 0; }

#else

#include <sys/ioctl.h>
#include <sys/queue.h>

#include "rconn.h"

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
/*
 * The stream emptied while producers elsewhere were live: look for the
 * end again after this, doubling up to RQ_BLOCK_MS, since nothing wakes
 * a read when a producer elsewhere says it ended.
 */
#define RQ_ENDCHK_MIN_MS	10
/* The polling of a full stream's length. */
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

/*
 * What the registry of producers says of this supervisor's producers
 * (reg), and what it must say (goal): nothing until a local producer
 * went live, then live while one is, then ended. The goal changes at
 * once, when producers come and go; the registry hears it when the
 * connection can tell it, so that no change is lost however short.
 */
enum rq_reg {
	RQ_REG_NONE,		/* the registry never heard of us */
	RQ_REG_LIVE,
	RQ_REG_ENDED,
};

/*
 * The close (ctl close): the registry holds an ended producer of this
 * name, which makes PUSH refuse every item and STATUS see the end once
 * the stream is empty, in every supervisor sharing the stream. Producer
 * names hold colons; this one cannot be one of them.
 */
#define RQ_CLOSED_FIELD		"closed"

enum rq_mark {
	RQ_MARK_NONE,		/* not closed here */
	RQ_MARK_DUE,		/* closed here; the registry is to be told */
	RQ_MARK_SENT,
	RQ_MARK_SET,		/* the registry says closed */
};

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
	 * Outbox: items not yet added by the server (ob_n), as netstrings.
	 * The head ones are closed into entries (ob; ents: id.ms items,
	 * left bytes), never regrouped, so that a PUSH sent again adds the
	 * same entries; the rest are open (open), closed when a PUSH can
	 * leave. Only open items were never sent: drop-oldest drops those.
	 */
	struct buf		 ob;
	struct buf		 open;
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
	enum rq_reg		 goal;
	enum rq_reg		 reg;
	int			 reg_busy;
	uint64_t		 reg_at;
	enum rq_mark		 mark;

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

static void	rq_schedule(struct redisq *);
static void	rq_check_end(struct redisq *);
static int	rq_taker_check(struct redisq_taker *);
static void	rq_read_check(struct redisq *);
static void	rq_ret_item(struct redisq *, const struct rstream_id *,
		    const void *, size_t);
static void	rq_close(struct redisq *);

static uint64_t
rq_now(const struct redisq *rq)
{
	return uv_now(rq->loop);
}

/* ------------------------------------------------------------ helpers */

/* Append one [u32 length][bytes] record. */
static void
rec_add(struct buf *b, const void *p, size_t len)
{
	uint32_t	n = (uint32_t)len;

	buf_add(b, &n, sizeof n);
	buf_add(b, p, len);
}

/* The record at offset off of b: its bytes and its length; returns size. */
static size_t
rec_at(const struct buf *b, size_t off, const char **p, size_t *len)
{
	uint32_t	n;

	memcpy(&n, buf_ptr(b) + off, sizeof n);
	*p = buf_ptr(b) + off + sizeof n;
	*len = n;
	return sizeof n + n;
}

/* "1.5s" for messages. */
static const char *
rq_dur(uint64_t ms, char *buf, size_t len)
{
	util_format_duration(ms, buf, len);
	return buf;
}

static void
rq_readable(struct redisq *rq)
{
	if (rq->cbs.readable != NULL)
		rq->cbs.readable(rq->arg);
}

static void
rq_writable(struct redisq *rq)
{
	if (rq->cbs.writable != NULL && !redisq_is_full(rq))
		rq->cbs.writable(rq->arg);
}

static size_t
rq_inbox_depth(const struct redisq *rq)
{
	return rq->inbox != NULL ? (size_t)queue_counters(rq->inbox)->depth :
	    0;
}

/*
 * Does anyone here read the queue: a consumer, or a reader waiting that
 * never subscribed (ctl get)? The inbox is a share ring: one ring, which
 * subscriber 0 names whether or not anyone subscribed.
 */
static int
rq_has_readers(const struct redisq *rq)
{
	return rq->inbox != NULL && (queue_nsubscribers(rq->inbox) > 0 ||
	    rq->want);
}

/*
 * Keep the loop alive while a local reader waits for items that may come
 * from elsewhere, and while freed. Not for the outbox: when every unit
 * has ended the loop must end, and redisq_free then hands the rest over,
 * under a deadline, even if the stream is full and nobody consumes.
 */
static void
rq_update_ref(struct redisq *rq)
{
	int	need;

	if (rq->closing)
		return;
	need = rq->freeing || (rq->want && !redisq_is_ended(rq));
	if (need)
		uv_ref((uv_handle_t *)&rq->keep);
	else
		uv_unref((uv_handle_t *)&rq->keep);
}

/* --------------------------------------------------------- connection */

/* Log the first trouble of an outage; later ones are the same story. */
static void
rq_outage(struct redisq *rq, const char *what, const char *why)
{
	if (rq->outage || rq->freeing)
		return;
	rq->outage = 1;
	rq->outage_since = rq_now(rq);
	log_warnx("queue %s: Redis at %s: %s%s%s; producers paused, retrying",
	    rq->name, rq->url, what, why != NULL ? ": " : "",
	    why != NULL ? why : "");
}

/* Both needed connections are up again. */
static void
rq_maybe_restored(struct redisq *rq)
{
	char	d[32];

	if (!rq->outage || !rq->cmd.up || (rq->rd.opened && !rq->rd.up))
		return;
	rq->outage = 0;
	log_info("queue %s: Redis at %s is reachable again after %s",
	    rq->name, rq->url, rq_dur(rq_now(rq) - rq->outage_since, d,
	    sizeof d));
}

/*
 * A connection went: what was in flight on it is sent again on the next
 * one. The scripts make that safe: a batch is added once, an
 * acknowledgement twice is harmless.
 */
static void
rq_conn_lost(struct rconn *c, void *arg, const char *what, const char *why)
{
	struct redisq	*rq = arg;

	if (c == &rq->cmd) {
		rq->sent_n = rq->sent_bytes = rq->sent_ents = 0;
		rq->batches = 0;
		rq->ret_sent = rq->ret_sent_bytes = 0;
		rq->reg_busy = rq->status_busy = rq->claim_busy = 0;
		rq->xlen_busy = rq->group_busy = rq->leave_busy = 0;
		rq->unblock_busy = rq->status_again = 0;
		if (rq->mark == RQ_MARK_SENT)
			rq->mark = RQ_MARK_DUE;
	} else {
		rq->rd_busy = 0;
		if (rq->draining)
			rq_readable(rq);
	}
	rq_outage(rq, what, why);
}

/* A connection is ready (again). */
static void
rq_conn_up(struct rconn *c, void *arg)
{
	struct redisq	*rq = arg;

	if (c == &rq->rd) {
		/* First take back what the server says we hold and we lost. */
		rq->recovering = 1;
		snprintf(rq->rec_id, sizeof rq->rec_id, "0");
	} else
		rq->need_group = 0;
	rq_maybe_restored(rq);
	rq_writable(rq);
	rq_schedule(rq);
}

/*
 * The scripts run atomically in the server. PUSH adds a batch of
 * entries, each of ARGV[i] items packed as netstrings in ARGV[i + 1] (an
 * entry of one item is added as a plain "item" field), the items
 * numbered from ARGV[2] by this producer; an entry whose items the
 * registry says were added already is skipped, so a batch sent again
 * after a lost connection never adds an item twice. KEYS[3] counts the
 * items beyond the first of each entry, so that the stream's length plus
 * it is the number of items, which capacity bounds. PUSH applies the
 * overflow policy and returns the items in the stream and those dropped.
 */
static const char rq_lua_push[] =
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"local v = redis.call('HGET', KEYS[2], ARGV[1])\n"
"local exp, last = 0, 0\n"
"if v then\n"
"  local a, b = string.match(v, '^(%d+) (%d+)$')\n"
"  exp, last = tonumber(a) or 0, tonumber(b) or 0\n"
"end\n"
"local first, cap, policy = tonumber(ARGV[2]), tonumber(ARGV[4]), ARGV[5]\n"
"local closed = redis.call('HEXISTS', KEYS[2], '" RQ_CLOSED_FIELD "') == 1\n"
"local len = redis.call('XLEN', KEYS[1])\n"
"local extra = 0\n"
"if len > 0 then extra = tonumber(redis.call('GET', KEYS[3]) or '0') or 0 end\n"
"local dropped, seq, s = 0, last, first\n"
"local function cut(blob, k)\n"
"  local off = 1\n"
"  for _ = 1, k do\n"
"    local c = string.find(blob, ':', off, true)\n"
"    off = c + tonumber(string.sub(blob, off, c - 1)) + 2\n"
"  end\n"
"  return string.sub(blob, 1, off - 1)\n"
"end\n"
"local function add(n, blob)\n"
"  if n == 1 then\n"
"    local c = string.find(blob, ':', 1, true)\n"
"    redis.call('XADD', KEYS[1], '*', 'item', string.sub(blob, c + 1, -2))\n"
"  else\n"
"    redis.call('XADD', KEYS[1], '*', 'n', n, 'items', blob)\n"
"  end\n"
"  len = len + 1\n"
"  extra = extra + n - 1\n"
"end\n"
"for i = 7, #ARGV, 2 do\n"
"  local n, blob = tonumber(ARGV[i]), ARGV[i + 1]\n"
"  if s + n - 1 > last then\n"
"    local k = n\n"
"    if closed then\n"
"      k = 0\n"
"      dropped = dropped + n\n"
"    elseif policy == 'drop-newest' and len + extra + n > cap then\n"
"      k = math.max(cap - len - extra, 0)\n"
"      dropped = dropped + n - k\n"
"      if k > 0 then blob = cut(blob, k) end\n"
"    end\n"
"    if k > 0 then add(k, blob) end\n"
"    while policy == 'drop-oldest' and len + extra > cap do\n"
"      local o = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)\n"
"      if #o == 0 then break end\n"
"      local on, f = 1, o[1][2]\n"
"      for j = 1, #f - 1, 2 do\n"
"        if f[j] == 'n' then on = tonumber(f[j + 1]) or 1 end\n"
"      end\n"
"      redis.call('XDEL', KEYS[1], o[1][1])\n"
"      len = len - 1\n"
"      extra = extra - on + 1\n"
"      dropped = dropped + on\n"
"    end\n"
"    seq = s + n - 1\n"
"  end\n"
"  s = s + n\n"
"end\n"
"if len == 0 or extra < 0 then extra = 0 end\n"
"if extra > 0 then redis.call('SET', KEYS[3], extra)\n"
"else redis.call('DEL', KEYS[3]) end\n"
"if ARGV[6] == '1' then\n"
"  exp = now + tonumber(ARGV[3])\n"
"  redis.call('PERSIST', KEYS[2])\n"
"end\n"
"redis.call('HSET', KEYS[2], ARGV[1], string.format('%d %d', exp, seq))\n"
"return {len + extra, dropped}\n";

/*
 * REG: this producer is live for ARGV[2] ms more (ARGV[3] "live"), or
 * has ended ("end"); the numbering of its items is kept. When no
 * producer is left live, the registry expires after ARGV[2] ms, so that
 * a later run starts afresh.
 */
static const char rq_lua_reg[] =
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"local v = redis.call('HGET', KEYS[1], ARGV[1])\n"
"local seq = 0\n"
"if v then seq = tonumber(string.match(v, ' (%d+)$')) or 0 end\n"
"if ARGV[3] == 'live' then\n"
"  redis.call('HSET', KEYS[1], ARGV[1],\n"
"      string.format('%d %d', now + tonumber(ARGV[2]), seq))\n"
"  redis.call('PERSIST', KEYS[1])\n"
"  return 1\n"
"end\n"
"redis.call('HSET', KEYS[1], ARGV[1], string.format('0 %d', seq))\n"
"local all = redis.call('HGETALL', KEYS[1])\n"
"for i = 2, #all, 2 do\n"
"  if (tonumber(string.match(all[i], '^(%d+)')) or 0) > now then\n"
"    return 1\n"
"  end\n"
"end\n"
"redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
"return 0\n";

/* ----------------------------------------------------------- producing */

static const char *
rq_policy(const struct redisq *rq)
{
	switch (rq->overflow) {
	case QUEUE_DROP_OLDEST:
		return "drop-oldest";
	case QUEUE_DROP_NEWEST:
		return "drop-newest";
	case QUEUE_BLOCK:
		break;
	}
	return "block";
}

static void
rq_high(struct redisq *rq)
{
	uint64_t	d = rq->ob_n + rq_inbox_depth(rq);

	if (d > rq->high_water)
		rq->high_water = d;
}

/* A batch was added: its entries leave the outbox. */
static void
rq_push_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct redisq		*rq = arg;
	struct rstream_ent	 e;
	size_t			 n;

	if (r == NULL || cmd->gen != rq->cmd.gen)
		return;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER) {
		rconn_drop(&rq->cmd, "adding items", r->type ==
		    REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		return;
	}
	rq->batches--;
	for (n = 0; n < cmd->n; n += (size_t)e.id.ms) {
		if (rstream_fifo_pop(&rq->ents, &e) == -1)
			fatalx("queue %s: outbox out of step", rq->name);
		rq->sent_ents--;
		rq->closed_n -= (size_t)e.id.ms;
		rq->closed_bytes -= e.left;
	}
	buf_consume(&rq->ob, cmd->bytes);
	rq->ob_n -= cmd->n;
	rq->sent_n -= cmd->n;
	rq->sent_bytes -= cmd->bytes;
	rq->base_seq += cmd->n;
	rq->xlen = (uint64_t)r->element[0]->integer;
	rq->dropped += (uint64_t)r->element[1]->integer;
	/* The batch told the registry we are live. */
	if (cmd->flag && rq->reg != RQ_REG_ENDED) {
		rq->reg = RQ_REG_LIVE;
		rq->reg_at = rq_now(rq);
	}
	rq_writable(rq);
	rq_schedule(rq);
}

/*
 * Close open items of the outbox into entries, max items at most, each
 * of entry_max items and RQ_ENTRY_BYTES bytes at most (an item larger
 * goes alone). Items are closed only when a PUSH can leave: those that
 * come in while PUSHes are in flight make the next entries larger, and
 * an entry closes as soon as the producers' pipes ran dry for a turn of
 * the loop, with no timer.
 */
static void
rq_close_entries(struct redisq *rq, size_t max)
{
	struct rstream_id	 n;
	const char		*p = buf_ptr(&rq->open), *item;
	size_t			 len = buf_used(&rq->open), off, start, ilen, prev;

	off = 0;
	while (max > 0 && rq->closed_n < rq->ob_n) {
		start = off;
		n.ms = n.seq = 0;
		while (n.ms < rq->entry_max && n.ms < max &&
		    rq->closed_n + n.ms < rq->ob_n) {
			prev = off;
			if (rstream_ns_next(p, len, &off, &item, &ilen) != 0)
				fatalx("queue %s: outbox garbled", rq->name);
			if (n.ms > 0 && off - start > RQ_ENTRY_BYTES) {
				off = prev;
				break;
			}
			n.ms++;
		}
		rstream_fifo_push(&rq->ents, &n, off - start);
		buf_add(&rq->ob, p + start, off - start);
		rq->closed_n += (size_t)n.ms;
		rq->closed_bytes += off - start;
		max -= (size_t)n.ms;
	}
	buf_consume(&rq->open, off);
}

/* Bytes of the outbox, closed and open. */
static size_t
rq_outbox_bytes(const struct redisq *rq)
{
	return buf_used(&rq->ob) + buf_used(&rq->open);
}

/*
 * drop-oldest: make room for one more item by dropping the oldest open
 * ones (items already sent once stay: the stream drops them in turn,
 * once added, if newer ones come). Items in flight do not count against
 * the bound, so a new item always finds room.
 */
static void
rq_drop_oldest(struct redisq *rq)
{
	const char	*item;
	size_t		 off = 0, ilen;

	while (rq->ob_n > rq->closed_n && (rq->ob_n - rq->closed_n >=
	    rq->ob_limit || buf_used(&rq->open) >= RQ_OUTBOX_BYTES)) {
		if (rstream_ns_next(buf_ptr(&rq->open), buf_used(&rq->open),
		    &off, &item, &ilen) != 0)
			fatalx("queue %s: outbox garbled", rq->name);
		buf_consume(&rq->open, off);
		off = 0;
		rq->ob_n--;
		rq->dropped++;
	}
}

/*
 * Send the outbox in batches of entries, a few in flight. Under
 * "block", no more items than the stream has room for: the stream, not
 * this supervisor's memory, is what capacity bounds (other supervisors
 * adding at the same time may pass it by part of a batch).
 */
static void
rq_send_pushes(struct redisq *rq)
{
	struct rconn_argv	 a;
	struct rconn_cmd	*cmd;
	struct rstream_ent	*e;
	char			(*txt)[24];
	size_t			 n, bytes, room, i, nent;
	uint64_t		 est;

	while (rq->cmd.up && rq->batches < RQ_INFLIGHT &&
	    rq->sent_n < rq->ob_n) {
		room = RQ_BATCH_ITEMS;
		/* Freed: what producers wrote goes in, full or not. */
		if (rq->overflow == QUEUE_BLOCK && !rq->freeing) {
			est = rq->xlen + rq->sent_n;
			if (est >= rq->capacity)
				break;
			if (rq->capacity - est < room)
				room = (size_t)(rq->capacity - est);
		}
		if (rq->closed_n - rq->sent_n < room)
			rq_close_entries(rq, room - (rq->closed_n - rq->sent_n));
		nent = rstream_fifo_len(&rq->ents) - rq->sent_ents;
		if (nent == 0)
			break;
		txt = xreallocarray(NULL, nent, sizeof *txt);
		rconn_argv_eval(&a, rq_lua_push, 3);
		rconn_argv_adds(&a, rq->stream);
		rconn_argv_adds(&a, rq->registry);
		rconn_argv_adds(&a, rq->extra);
		rconn_argv_adds(&a, rq->producer);
		rconn_argv_addu(&a, rq->base_seq + rq->sent_n);
		rconn_argv_addu(&a, rq->claim_after);
		rconn_argv_addu(&a, rq->capacity);
		rconn_argv_adds(&a, rq_policy(rq));
		rconn_argv_adds(&a, rq->goal == RQ_REG_LIVE ? "1" : "0");
		n = bytes = 0;
		for (i = 0; i < nent; i++) {
			e = rstream_fifo_at(&rq->ents, rq->sent_ents + i);
			if (i > 0 && (n + (size_t)e->id.ms > room ||
			    bytes + e->left > RQ_BATCH_BYTES))
				break;
			snprintf(txt[i], sizeof txt[i], "%zu", (size_t)e->id.ms);
			rconn_argv_adds(&a, txt[i]);
			rconn_argv_add(&a, buf_ptr(&rq->ob) + rq->sent_bytes +
			    bytes, e->left);
			n += (size_t)e->id.ms;
			bytes += e->left;
		}
		cmd = rconn_send(&rq->cmd, rq_push_cb, rq, &a);
		rconn_argv_release(&a);
		free(txt);
		if (cmd == NULL)
			break;
		cmd->n = n;
		cmd->bytes = bytes;
		cmd->flag = rq->goal == RQ_REG_LIVE;
		rq->sent_ents += i;
		rq->sent_n += n;
		rq->sent_bytes += bytes;
		rq->batches++;
	}
}

/* LEN: the items in the stream (its entries and their extra items). */
static const char rq_lua_len[] =
"local len = redis.call('XLEN', KEYS[1])\n"
"if len == 0 then return 0 end\n"
"return len + math.max(tonumber(redis.call('GET', KEYS[2]) or '0') or 0, 0)\n";

static void
rq_xlen_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct redisq	*rq = arg;
	rq->xlen_busy = 0;
	if (r == NULL || cmd->gen != rq->cmd.gen)
		return;
	if (r->type == REDIS_REPLY_INTEGER)
		rq->xlen = (uint64_t)r->integer;
	if (rq->xlen >= rq->capacity) {
		rq->poll_ms *= 2;
		if (rq->poll_ms > RQ_POLL_MAX_MS)
			rq->poll_ms = RQ_POLL_MAX_MS;
	} else
		rq->poll_ms = RQ_POLL_MIN_MS;
	rq_writable(rq);
	rq_schedule(rq);
}

static void
rq_poll_cb(uv_timer_t *t)
{
	struct redisq	*rq = t->data;
	struct rconn_argv	 a;

	if (rq->closing || !rq->cmd.up || rq->xlen_busy)
		return;
	rconn_argv_eval(&a, rq_lua_len, 2);
	rconn_argv_adds(&a, rq->stream);
	rconn_argv_adds(&a, rq->extra);
	if (rconn_send(&rq->cmd, rq_xlen_cb, rq, &a) != NULL)
		rq->xlen_busy = 1;
	rconn_argv_release(&a);
}

/*
 * A full stream empties through consumers anywhere: look at its length
 * again while it is full, every millisecond at first (a stream of a
 * few thousand items empties in milliseconds), backing off to 100ms
 * while it stays full.
 */
static void
rq_poll_maybe(struct redisq *rq)
{
	if (rq->overflow != QUEUE_BLOCK || rq->xlen < rq->capacity ||
	    rq->batches > 0 || rq->xlen_busy || rq->freeing ||
	    uv_is_active((uv_handle_t *)&rq->poll))
		return;
	(void)uv_timer_start(&rq->poll, rq_poll_cb, rq->poll_ms, 0);
}

/* Send REG for the registry's field who, live or ended. */
static struct rconn_cmd *
rq_reg_send(struct redisq *rq, const char *who, int live,
    void (*fn)(void *, struct rconn_cmd *, redisReply *))
{
	struct rconn_argv	 a;
	struct rconn_cmd	*cmd;

	rconn_argv_eval(&a, rq_lua_reg, 1);
	rconn_argv_adds(&a, rq->registry);
	rconn_argv_adds(&a, who);
	rconn_argv_addu(&a, rq->claim_after);
	rconn_argv_adds(&a, live ? "live" : "end");
	cmd = rconn_send(&rq->cmd, fn, rq, &a);
	rconn_argv_release(&a);
	return cmd;
}

static void
rq_reg_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct redisq	*rq = arg;
	rq->reg_busy = 0;
	if (r == NULL || cmd->gen != rq->cmd.gen)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		rconn_drop(&rq->cmd, "registering producers", r->str);
		return;
	}
	rq->reg = cmd->flag ? RQ_REG_LIVE : RQ_REG_ENDED;
	if (rq->reg == RQ_REG_ENDED && rq_has_readers(rq))
		rq_check_end(rq);
	rq_schedule(rq);
}

/*
 * The registry of producers: live ones say so every claim_after/3; once
 * the last local producer has ended and everything it pushed is in the
 * stream, say "ended", even if the registry never heard them live (they
 * ended before the connection could say so): consumers anywhere wait
 * for every registered producer to end, and for at least one.
 */
static void
rq_send_reg(struct redisq *rq)
{
	struct rconn_cmd	*cmd;
	int		 live = 0;

	if (rq->reg_busy)
		return;
	switch (rq->goal) {
	case RQ_REG_NONE:
		return;
	case RQ_REG_LIVE:
		if (rq->reg == RQ_REG_LIVE && rq->reg_at != 0 &&
		    rq_now(rq) - rq->reg_at < rq->claim_after / 3)
			return;
		live = 1;
		break;
	case RQ_REG_ENDED:
		if (rq->reg == RQ_REG_ENDED || rq->ob_n > 0 || rq->batches > 0)
			return;
		live = 0;
		break;
	}
	if ((cmd = rq_reg_send(rq, rq->producer, live, rq_reg_cb)) == NULL)
		return;
	cmd->flag = live;
	rq->reg_busy = 1;
	rq->reg_at = rq_now(rq);
}

static void
rq_mark_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct redisq	*rq = arg;

	if (r == NULL || cmd->gen != rq->cmd.gen)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		rconn_drop(&rq->cmd, "closing the queue", r->str);
		return;
	}
	rq->mark = RQ_MARK_SET;
	if (rq_has_readers(rq))
		rq_check_end(rq);
	rq_schedule(rq);
}

/*
 * Tell the registry the queue is closed, once what the producers here
 * pushed before is in the stream: it goes in, what comes later from
 * anywhere is refused. The registry expires as after its last producer
 * ended (at once, claim_after later, when none is live).
 */
static void
rq_send_mark(struct redisq *rq)
{
	if (rq->mark != RQ_MARK_DUE || rq->ob_n > 0 || rq->batches > 0)
		return;
	if (rq_reg_send(rq, RQ_CLOSED_FIELD, 0, rq_mark_cb) != NULL)
		rq->mark = RQ_MARK_SENT;
}

/*
 * STATUS: {items in the stream, producers registered, producers live,
 * 1 if the queue was closed}.
 */
static const char rq_lua_status[] =
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"local len = redis.call('XLEN', KEYS[1])\n"
"if len > 0 then\n"
"  len = len + math.max(tonumber(redis.call('GET', KEYS[3]) or '0') or 0, 0)\n"
"end\n"
"local all = redis.call('HGETALL', KEYS[2])\n"
"local n, live = 0, 0\n"
"for i = 2, #all, 2 do\n"
"  n = n + 1\n"
"  if (tonumber(string.match(all[i], '^(%d+)')) or 0) > now then\n"
"    live = live + 1\n"
"  end\n"
"end\n"
"if n > 0 and live == 0 and redis.call('PTTL', KEYS[2]) == -1 then\n"
"  redis.call('PEXPIRE', KEYS[2], ARGV[1])\n"
"end\n"
"local closed = redis.call('HEXISTS', KEYS[2], '" RQ_CLOSED_FIELD "')\n"
"return {len, n, live, closed}\n";

/*
 * ACK: acknowledge entries (ARGV: the group, then each id with its count
 * of items) and delete them: the stream holds only items not yet done,
 * and its length plus KEYS[2] (the items beyond one an entry) is the
 * queue's depth. An entry deleted already (by drop-oldest, or an
 * acknowledgement sent twice) counts once. Returns the items left.
 */
static const char rq_lua_ack[] =
"local ids = {}\n"
"for i = 2, #ARGV, 2 do ids[#ids + 1] = ARGV[i] end\n"
"redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))\n"
"local extra = tonumber(redis.call('GET', KEYS[2]) or '0') or 0\n"
"for i = 2, #ARGV, 2 do\n"
"  if redis.call('XDEL', KEYS[1], ARGV[i]) == 1 then\n"
"    extra = extra - (tonumber(ARGV[i + 1]) or 1) + 1\n"
"  end\n"
"end\n"
"local len = redis.call('XLEN', KEYS[1])\n"
"if len == 0 or extra < 0 then extra = 0 end\n"
"if extra > 0 then redis.call('SET', KEYS[2], extra)\n"
"else redis.call('DEL', KEYS[2]) end\n"
"return len + extra\n";

/* ----------------------------------------------------------- consuming */

/* Do we hold id already (in the inbox, with a taker, or to acknowledge)? */
static int
rq_holds(struct redisq *rq, const struct rstream_id *id)
{
	return rstream_refs_find(&rq->refs, id) != NULL ||
	    rstream_fifo_has(&rq->acks, id) ||
	    rstream_fifo_has(&rq->acking, id) ||
	    rstream_fifo_has(&rq->ret_ids, id);
}

static void
rq_ack_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct redisq		*rq = arg;
	struct rstream_ent	*ents = cmd->data;
	size_t			 i;

	/* Replies come in the order sent, a lost connection's included. */
	for (i = 0; i < cmd->n; i++)
		(void)rstream_fifo_pop(&rq->acking, NULL);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		for (i = 0; i < cmd->n; i++)
			rstream_fifo_push(&rq->acks, &ents[i].id, ents[i].left);
		if (r != NULL && cmd->gen == rq->cmd.gen)
			rconn_drop(&rq->cmd, "acknowledging items", r->str);
		return;
	}
	if (r->type == REDIS_REPLY_INTEGER)
		rq->xlen = (uint64_t)r->integer;
	if (rq->xlen == 0 && rq_has_readers(rq))
		rq_check_end(rq);
	rq_writable(rq);
	rq_schedule(rq);
}

/* Acknowledge and delete the entries done here, in batches. */
static void
rq_send_acks(struct redisq *rq)
{
	struct rconn_argv	  a;
	struct rconn_cmd	 *cmd;
	struct rstream_ent	 *ents;
	char			(*txt)[RSTREAM_ID_MAX], (*num)[24];
	size_t			  n, i;

	while (rq->cmd.up && (n = rstream_fifo_len(&rq->acks)) > 0) {
		if (n > RQ_ACK_BATCH)
			n = RQ_ACK_BATCH;
		ents = xreallocarray(NULL, n, sizeof *ents);
		txt = xreallocarray(NULL, n, sizeof *txt);
		num = xreallocarray(NULL, n, sizeof *num);
		rconn_argv_eval(&a, rq_lua_ack, 2);
		rconn_argv_adds(&a, rq->stream);
		rconn_argv_adds(&a, rq->extra);
		rconn_argv_adds(&a, rq->group);
		for (i = 0; i < n; i++) {
			ents[i] = *rstream_fifo_at(&rq->acks, i);
			rstream_id_format(&ents[i].id, txt[i], sizeof txt[i]);
			snprintf(num[i], sizeof num[i], "%zu", ents[i].left);
			rconn_argv_adds(&a, txt[i]);
			rconn_argv_adds(&a, num[i]);
		}
		cmd = rconn_send(&rq->cmd, rq_ack_cb, rq, &a);
		rconn_argv_release(&a);
		free(txt);
		free(num);
		if (cmd == NULL) {
			free(ents);
			break;
		}
		cmd->data = ents;
		cmd->n = n;
		for (i = 0; i < n; i++) {
			(void)rstream_fifo_pop(&rq->acks, NULL);
			rstream_fifo_push(&rq->acking, &ents[i].id, ents[i].left);
		}
	}
}

/*
 * An item with id is done: its entry is acknowledged with its last item
 * (after the items of it given back, if any, are added).
 */
static void
rq_item_done(struct redisq *rq, const struct rstream_id *id)
{
	struct rstream_ref	ref;

	if (rstream_id_is_none(id))
		return;
	switch (rstream_refs_drop(&rq->refs, id, 0, &ref)) {
	case RSTREAM_REF_HELD:
	case RSTREAM_REF_LEAVE:
		break;
	case RSTREAM_REF_DONE:
		if (ref.returning) {
			rec_add(&rq->ret, "", 0);
			rstream_fifo_push(&rq->ret_ids, id, RQ_RET_ONLY(
			    ref.total));
		} else
			rstream_fifo_push(&rq->acks, id, ref.total);
		break;
	case RSTREAM_REF_UNKNOWN:
		rstream_fifo_push(&rq->acks, id, 1);
		break;
	}
}

static void
rq_ack_id(void *arg, const struct rstream_id *id)
{
	rq_item_done(arg, id);
}

/* The value of an entry's field name (len bytes), or NULL. */
static redisReply *
rq_entry_field(redisReply *fields, const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i + 1 < fields->elements; i += 2)
		if (fields->element[i]->type == REDIS_REPLY_STRING &&
		    fields->element[i]->len == len &&
		    memcmp(fields->element[i]->str, name, len) == 0)
			return fields->element[i + 1];
	return NULL;
}

/* One item of entry id for the inbox, or to give back once freed. */
static void
rq_take_item(struct redisq *rq, const struct rstream_id *id, const char *p,
    size_t len)
{
	if (rq->inbox == NULL) {
		rq_ret_item(rq, id, p, len);
		return;
	}
	if (rq_inbox_depth(rq) == 0) {
		rq->last_pop_at = rq_now(rq);
		rq->inbox_bytes = 0;
	}
	(void)queue_push(rq->inbox, p, len);
	rstream_fifo_push(&rq->inbox_ids, id, len + 1);
	rq->inbox_bytes += len + 1;
}

/*
 * The items of one entry (fields f) into the inbox: those of "items"
 * (netstrings, "n" of them), else the "item" field, else the first
 * field; an "items" that is not netstrings is taken whole, as one item.
 * Returns the items taken; *bytes grows by their size.
 */
static size_t
rq_take_entry(struct redisq *rq, const struct rstream_id *id, redisReply *f,
    size_t *bytes)
{
	redisReply	*v, *nf;
	const char	*item, *errstr;
	size_t		 k = 0, off = 0, ilen, total = 1;
	uint64_t	 u;
	char		 num[24];

	if ((v = rq_entry_field(f, "items", 5)) != NULL &&
	    v->type == REDIS_REPLY_STRING) {
		if ((nf = rq_entry_field(f, "n", 1)) != NULL &&
		    nf->type == REDIS_REPLY_STRING && nf->len < sizeof num) {
			memcpy(num, nf->str, nf->len);
			num[nf->len] = '\0';
			if (util_parse_uint(num, 1, SIZE_MAX / 4, &u,
			    &errstr) == 0)
				total = (size_t)u;
		}
		while (rstream_ns_next(v->str, v->len, &off, &item, &ilen) == 0)
			k++;
		if (off != v->len || k == 0) {
			/* Not ours: deliver it as it is, as one item. */
			rstream_refs_add(&rq->refs, id, 1, 1);
			rq_take_item(rq, id, v->str, v->len);
			*bytes += v->len;
			return 1;
		}
		rstream_refs_add(&rq->refs, id, k, total);
		off = 0;
		while (rstream_ns_next(v->str, v->len, &off, &item, &ilen) == 0)
			rq_take_item(rq, id, item, ilen);
		*bytes += v->len;
		return k;
	}
	if ((v = rq_entry_field(f, "item", 4)) == NULL)
		v = f->element[1];
	if (v->type != REDIS_REPLY_STRING) {
		rstream_fifo_push(&rq->acks, id, 1);
		return 0;
	}
	rstream_refs_add(&rq->refs, id, 1, 1);
	rq_take_item(rq, id, v->str, v->len);
	*bytes += v->len;
	return 1;
}

/*
 * Entries of a reply ([[id, [field, value, ...]], ...]) into the inbox;
 * an entry deleted since (no fields) is only acknowledged. With old set
 * (our own pending entries, or claimed ones) skip those already in hand:
 * new entries never are. Once freed, entries go straight back to the
 * stream. *seen counts every entry; returns the items taken, and keeps
 * the size of entries lately fetched, for the next fetch's count: the
 * mean of their items, and the largest of their bytes, forgotten by
 * halves, so that after one large entry the next fetches ask for few.
 */
static size_t
rq_take_entries(struct redisq *rq, redisReply *list, int old, size_t *seen)
{
	struct rstream_id	 id;
	redisReply		*e, *f;
	size_t			 i, n = 0, ents = 0, bytes, most = 0;

	if (list->type != REDIS_REPLY_ARRAY)
		return 0;
	for (i = 0; i < list->elements; i++) {
		e = list->element[i];
		if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 ||
		    e->element[0]->type != REDIS_REPLY_STRING ||
		    rstream_id_parse(e->element[0]->str, e->element[0]->len,
		    &id) == -1)
			continue;
		(*seen)++;
		if (rq->recovering)
			rstream_id_format(&id, rq->rec_id, sizeof rq->rec_id);
		if (old && rq_holds(rq, &id))
			continue;
		f = e->element[1];
		if (f->type != REDIS_REPLY_ARRAY || f->elements < 2) {
			rstream_fifo_push(&rq->acks, &id, 1);
			continue;
		}
		bytes = 0;
		n += rq_take_entry(rq, &id, f, &bytes);
		if (bytes > most)
			most = bytes;
		ents++;
	}
	if (ents > 0) {
		rq->ent_items = (rq->ent_items + (n + ents - 1) / ents + 1) / 2;
		rq->ent_bytes /= 2;
		if (rq->ent_bytes < most)
			rq->ent_bytes = most;
	}
	rq_high(rq);
	return n;
}

static void
rq_endchk_cb(uv_timer_t *h)
{
	struct redisq	*rq = h->data;

	if (!rq->closing)
		rq_check_end(rq);
}

/* Look for the end again soon, less soon each time it was not there. */
static void
rq_endchk_later(struct redisq *rq)
{
	if (rq->closing || uv_is_active((uv_handle_t *)&rq->endchk) ||
	    rq->endchk_ms > RQ_BLOCK_MS)
		return;
	if (uv_timer_start(&rq->endchk, rq_endchk_cb, rq->endchk_ms, 0) != 0)
		fatalx("queue %s: cannot start a timer", rq->name);
	rq->endchk_ms *= 2;
}

static void
rq_status_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct redisq	*rq = arg;
	int		 closed;

	rq->status_busy = 0;
	if (r == NULL || cmd->gen != rq->cmd.gen) {
		rq->status_again = 0;
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 3) {
		rconn_drop(&rq->cmd, "checking the end of the stream",
		    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		return;
	}
	rq->xlen = (uint64_t)r->element[0]->integer;
	closed = r->elements > 3 && r->element[3]->integer != 0;
	if (r->element[0]->integer == 0 && r->element[1]->integer > 0 &&
	    ((r->element[2]->integer == 0 && rq->goal != RQ_REG_LIVE) ||
	    closed) && rq->ob_n == 0 && rq_inbox_depth(rq) == 0) {
		rq->remote_ended = 1;
		rq_readable(rq);
	}
	if (rq->status_again) {
		rq->status_again = 0;
		rq_check_end(rq);
	} else if (!rq->remote_ended && r->element[0]->integer == 0 &&
	    r->element[2]->integer > 0)
		rq_endchk_later(rq);
	else
		rq->endchk_ms = RQ_ENDCHK_MIN_MS;
	rq_writable(rq);
	rq_schedule(rq);
}

/*
 * End of stream across machines: every producer in the registry has
 * ended (or fell silent for claim_after), or the queue was closed, and
 * the stream is empty, which means every item was acknowledged
 * somewhere. Asked when a read found nothing, when an acknowledgement
 * emptied the stream, when the local producers said they ended, and
 * when the registry took the close.
 */
static void
rq_check_end(struct redisq *rq)
{
	struct rconn_argv	 a;

	if (rq->status_busy) {
		/* Things changed since it was asked: ask again after. */
		rq->status_again = 1;
		return;
	}
	if (rq->remote_ended || !rq->cmd.up || (rq->goal == RQ_REG_LIVE &&
	    rq->mark != RQ_MARK_SET) || rq->ob_n > 0 || rq_inbox_depth(rq) > 0)
		return;
	rconn_argv_eval(&a, rq_lua_status, 3);
	rconn_argv_adds(&a, rq->stream);
	rconn_argv_adds(&a, rq->registry);
	rconn_argv_adds(&a, rq->extra);
	rconn_argv_addu(&a, rq->claim_after);
	if (rconn_send(&rq->cmd, rq_status_cb, rq, &a) != NULL)
		rq->status_busy = 1;
	rconn_argv_release(&a);
}

static void
rq_read_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct redisq	*rq = arg;
	redisReply	*s;
	size_t		 i, n = 0, seen = 0;
	int		 recovering = rq->recovering;

	rq->rd_busy = 0;
	if (r == NULL || cmd->gen != rq->rd.gen) {
		if (rq->draining)
			rq_readable(rq);
		return;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		if (rstream_classify_error(r->str) == RSTREAM_ERR_NOGROUP) {
			/* The server lost the group (restarted empty). */
			rq->need_group = 1;
			rq_schedule(rq);
		} else
			rconn_drop(&rq->rd, "reading items", r->str);
		return;
	}
	if (r->type == REDIS_REPLY_ARRAY)
		for (i = 0; i < r->elements; i++) {
			s = r->element[i];
			if (s->type == REDIS_REPLY_ARRAY && s->elements >= 2)
				n += rq_take_entries(rq, s->element[1],
				    recovering, &seen);
		}
	if (recovering && seen == 0)
		rq->recovering = 0;
	if (n > 0) {
		rq->want = 0;
		rq->endchk_ms = RQ_ENDCHK_MIN_MS;
		rq_readable(rq);
	} else if (!recovering)
		rq_check_end(rq);
	if (rq->draining)
		rq_readable(rq);
	rq_schedule(rq);
}

/*
 * How many entries to ask for: as many as the window has room for in
 * items and in bytes, going by the entries fetched lately; at least one.
 */
static size_t
rq_fetch_count(const struct redisq *rq, size_t depth)
{
	size_t	n, b;

	n = (rq->window - depth) / (rq->ent_items > 0 ? rq->ent_items : 1);
	b = RQ_WINDOW_BYTES > rq->inbox_bytes ? (RQ_WINDOW_BYTES -
	    rq->inbox_bytes) / (rq->ent_bytes > 0 ? rq->ent_bytes : 1) : 0;
	if (b < n)
		n = b;
	return n > 0 ? n : 1;
}

/*
 * Fetch for local consumers, only when one of them waits or takes
 * items, and never more than the window, in items and in bytes: items
 * fetched here are pending under this supervisor's name and nobody else
 * gets them.
 */
static void
rq_fetch(struct redisq *rq)
{
	struct rconn_argv	 a;
	size_t		 depth;

	if (!rq->rd.up || rq->rd_busy || rq->freeing || rq->draining ||
	    rq->remote_ended || rq->need_group || !rq_has_readers(rq))
		return;
	depth = rq_inbox_depth(rq);
	if (depth == 0)
		rq->inbox_bytes = 0;
	if (depth >= rq->window || (depth > rq->window / 2 && !rq->recovering))
		return;
	if (rq->inbox_bytes >= RQ_WINDOW_BYTES / 2 && !rq->recovering)
		return;
	if (!rq->want && !rq->popped && !rq->recovering)
		return;
	rconn_argv_init(&a);
	rconn_argv_adds(&a, "XREADGROUP");
	rconn_argv_adds(&a, "GROUP");
	rconn_argv_adds(&a, rq->group);
	rconn_argv_adds(&a, rq->consumer);
	rconn_argv_adds(&a, "COUNT");
	/* A lone ctl get takes one item; consumers take a window. */
	rconn_argv_addu(&a, queue_nsubscribers(rq->inbox) > 0 ?
	    rq_fetch_count(rq, depth) : 1);
	if (!rq->recovering) {
		rconn_argv_adds(&a, "BLOCK");
		rconn_argv_addu(&a, RQ_BLOCK_MS);
	}
	rconn_argv_adds(&a, "STREAMS");
	rconn_argv_adds(&a, rq->stream);
	rconn_argv_adds(&a, rq->recovering ? rq->rec_id : ">");
	if (rconn_send(&rq->rd, rq_read_cb, rq, &a) != NULL) {
		rq->rd_busy = 1;
		rq->popped = 0;
	}
	rconn_argv_release(&a);
}

static void
rq_group_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct redisq	*rq = arg;
	rq->group_busy = 0;
	if (r == NULL || cmd->gen != rq->cmd.gen)
		return;
	if (r->type == REDIS_REPLY_ERROR &&
	    rstream_classify_error(r->str) != RSTREAM_ERR_BUSYGROUP) {
		rconn_drop(&rq->cmd, "creating the consumer group", r->str);
		return;
	}
	rq->need_group = 0;
	rq_schedule(rq);
}

static void
rq_send_group(struct redisq *rq)
{
	struct rconn_argv	a;

	if (!rq->need_group || rq->group_busy)
		return;
	rconn_argv_init(&a);
	rconn_argv_adds(&a, "XGROUP");
	rconn_argv_adds(&a, "CREATE");
	rconn_argv_adds(&a, rq->stream);
	rconn_argv_adds(&a, rq->group);
	rconn_argv_adds(&a, "0");
	rconn_argv_adds(&a, "MKSTREAM");
	if (rconn_send(&rq->cmd, rq_group_cb, rq, &a) != NULL)
		rq->group_busy = 1;
	rconn_argv_release(&a);
}

static void
rq_unblock_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct redisq	*rq = arg;

	rq->unblock_busy = 0;
}

/*
 * A read blocked in the server while nothing more is to be read (the
 * end was seen, the supervisor stops, or the queue is freed): end it
 * now with CLIENT UNBLOCK, which makes it return nothing, rather than
 * wait out its block of RQ_BLOCK_MS.
 */
static void
rq_unblock(struct redisq *rq)
{
	struct rconn_argv	 a;

	if (!rq->rd_busy || rq->unblock_busy || !rq->cmd.up ||
	    rq->rd.client_id <= 0 || rq->recovering ||
	    !(rq->freeing || rq->draining || rq->remote_ended))
		return;
	rconn_argv_init(&a);
	rconn_argv_adds(&a, "CLIENT");
	rconn_argv_adds(&a, "UNBLOCK");
	rconn_argv_addu(&a, (uint64_t)rq->rd.client_id);
	if (rconn_send(&rq->cmd, rq_unblock_cb, rq, &a) != NULL)
		rq->unblock_busy = 1;
	rconn_argv_release(&a);
}

/*
 * RETURN: items given back go to the end of the stream for anyone.
 * ARGV: the group, then for each item its entry's id (empty when it has
 * none: it came back from a dead consumer's pipe, acknowledged already),
 * what to do with the entry, and the item. An item is added only if its
 * entry is still pending with the group: one that is not was taken over
 * and done by another consumer. The entry is acknowledged and deleted
 * (a count of N items) with its last item in hand here, or with no item
 * (-N) when its last item was done after others were given back.
 */
static const char rq_lua_return[] =
"local extra = tonumber(redis.call('GET', KEYS[2]) or '0') or 0\n"
"local live = {}\n"
"for i = 2, #ARGV, 3 do\n"
"  local id, rel, add = ARGV[i], tonumber(ARGV[i + 1]), true\n"
"  if id ~= '' then\n"
"    if live[id] == nil then\n"
"      live[id] = #redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1) > 0\n"
"    end\n"
"    add = live[id]\n"
"    if rel ~= 0 then\n"
"      redis.call('XACK', KEYS[1], ARGV[1], id)\n"
"      if redis.call('XDEL', KEYS[1], id) == 1 then\n"
"        extra = extra - math.abs(rel) + 1\n"
"      end\n"
"    end\n"
"  end\n"
"  if add and rel >= 0 then\n"
"    redis.call('XADD', KEYS[1], '*', 'item', ARGV[i + 2])\n"
"  end\n"
"end\n"
"local len = redis.call('XLEN', KEYS[1])\n"
"if len == 0 or extra < 0 then extra = 0 end\n"
"if extra > 0 then redis.call('SET', KEYS[2], extra)\n"
"else redis.call('DEL', KEYS[2]) end\n"
"return len + extra\n";

/* ------------------------------------------------------------ claiming */

static void
rq_claim_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct redisq	*rq = arg;
	redisReply	*c;
	size_t		 n, seen = 0;
	char		 d[32];

	rq->claim_busy = 0;
	if (r == NULL || cmd->gen != rq->cmd.gen)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		if (rstream_classify_error(r->str) == RSTREAM_ERR_NOGROUP)
			rq->need_group = 1;
		else
			rconn_drop(&rq->cmd, "claiming items", r->str);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2)
		return;
	c = r->element[0];
	if (c->type == REDIS_REPLY_STRING && c->len < sizeof rq->claim_cursor) {
		memcpy(rq->claim_cursor, c->str, c->len);
		rq->claim_cursor[c->len] = '\0';
	}
	n = rq_take_entries(rq, r->element[1], 1, &seen);
	if (n > 0) {
		rq->claimed += n;
		log_info("queue %s: took over %zu item%s left pending for "
		    "over %s by a consumer that is gone", rq->name, n,
		    n == 1 ? "" : "s", rq_dur(rq->claim_after, d, sizeof d));
		rq->want = 0;
		rq_readable(rq);
	}
	/* Took some and there is more: go on now, not at the next period. */
	if (n > 0 && strcmp(rq->claim_cursor, "0-0") != 0)
		rq->claimed_at = 0;
	rq_schedule(rq);
}

/*
 * Take over items left pending too long by consumers of supervisors
 * that died (XAUTOCLAIM), while local consumers want items.
 */
static void
rq_claim(struct redisq *rq)
{
	struct rconn_argv	 a;
	uint64_t	 now = rq_now(rq), period;
	size_t		 depth;

	period = rq->claim_after / 4 > 50 ? rq->claim_after / 4 : 50;
	if (rq->claim_busy || rq->freeing || rq->draining ||
	    rq->remote_ended || rq->need_group || !rq_has_readers(rq) ||
	    (rq->claimed_at != 0 && now - rq->claimed_at < period))
		return;
	depth = rq_inbox_depth(rq);
	if (depth > rq->window / 2)
		return;
	if (!rq->want && now - rq->last_pop_at >= rq->claim_after)
		return;
	rconn_argv_init(&a);
	rconn_argv_adds(&a, "XAUTOCLAIM");
	rconn_argv_adds(&a, rq->stream);
	rconn_argv_adds(&a, rq->group);
	rconn_argv_adds(&a, rq->consumer);
	rconn_argv_addu(&a, rq->claim_after);
	rconn_argv_adds(&a, rq->claim_cursor);
	rconn_argv_adds(&a, "COUNT");
	rconn_argv_addu(&a, rq_fetch_count(rq, depth) < RQ_CLAIM_COUNT ?
	    rq_fetch_count(rq, depth) : RQ_CLAIM_COUNT);
	if (rconn_send(&rq->cmd, rq_claim_cb, rq, &a) != NULL) {
		rq->claim_busy = 1;
		rq->claimed_at = now;
	}
	rconn_argv_release(&a);
}

static void
rq_nop_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
}

/* Ids to renew, as text. */
struct rq_ids {
	char	(*txt)[RSTREAM_ID_MAX];
	size_t	  n;
	size_t	  cap;
};

static void
rq_ids_add(void *arg, const struct rstream_id *id)
{
	struct rq_ids	*v = arg;

	if (rstream_id_is_none(id))
		return;
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 256;
		v->txt = xreallocarray(v->txt, v->cap, sizeof *v->txt);
	}
	rstream_id_format(id, v->txt[v->n], sizeof v->txt[0]);
	v->n++;
}

/* Add the ids of fifo (those that have one). */
static void
rq_ids_add_fifo(struct rq_ids *v, struct rstream_fifo *f)
{
	size_t	i;

	for (i = 0; i < rstream_fifo_len(f); i++)
		rq_ids_add(v, &rstream_fifo_at(f, i)->id);
}

/*
 * Entries in hand here (fetched, being written, to acknowledge, to give
 * back) stay ours: claiming them to ourselves every claim_after/3 resets
 * their idle time, so that only a dead supervisor's items are ever taken
 * over.
 */
static void
rq_refresh(struct redisq *rq)
{
	struct rconn_argv	 a;
	struct rq_ids		 v = { NULL, 0, 0 };
	size_t			 i, j, n;
	uint64_t		 now = rq_now(rq);

	if (now - rq->refreshed_at < rq->claim_after / 3)
		return;
	rq->refreshed_at = now;
	rstream_refs_each(&rq->refs, rq_ids_add, &v);
	rq_ids_add_fifo(&v, &rq->acks);
	rq_ids_add_fifo(&v, &rq->ret_ids);
	for (i = 0; i < v.n; i += n) {
		n = v.n - i < RQ_ACK_BATCH ? v.n - i : RQ_ACK_BATCH;
		rconn_argv_init(&a);
		rconn_argv_adds(&a, "XCLAIM");
		rconn_argv_adds(&a, rq->stream);
		rconn_argv_adds(&a, rq->group);
		rconn_argv_adds(&a, rq->consumer);
		rconn_argv_adds(&a, "0");
		for (j = 0; j < n; j++)
			rconn_argv_adds(&a, v.txt[i + j]);
		rconn_argv_adds(&a, "JUSTID");
		(void)rconn_send(&rq->cmd, rq_nop_cb, rq, &a);
		rconn_argv_release(&a);
	}
	free(v.txt);
}

/* --------------------------------------------------------- giving back */

/*
 * An item of entry id (or none) leaves our hands to be given back: with
 * the last item of its entry in hand, the entry is acknowledged with it.
 */
static void
rq_ret_item(struct redisq *rq, const struct rstream_id *id, const void *p,
    size_t len)
{
	struct rstream_ref	 ref, *r;
	size_t			 what = 0;

	rec_add(&rq->ret, p, len);
	if (!rstream_id_is_none(id)) {
		switch (rstream_refs_drop(&rq->refs, id, 0, &ref)) {
		case RSTREAM_REF_HELD:
			if ((r = rstream_refs_find(&rq->refs, id)) != NULL)
				r->returning = 1;
			break;
		case RSTREAM_REF_DONE:
			what = RQ_RET_RELEASE(ref.total);
			break;
		case RSTREAM_REF_LEAVE:
			break;
		case RSTREAM_REF_UNKNOWN:
			what = RQ_RET_RELEASE(1);
			break;
		}
	}
	rstream_fifo_push(&rq->ret_ids, id, what);
}

/* Move the inbox, in order, to the records to give back. */
static size_t
rq_return_inbox(struct redisq *rq)
{
	struct rstream_ent	 e;
	const void		*p;
	size_t			 len, n = 0;

	if (rq->inbox == NULL)
		return 0;
	while (queue_peek(rq->inbox, 0, &p, &len) == 0) {
		if (rstream_fifo_pop(&rq->inbox_ids, &e) == -1)
			fatalx("queue %s: inbox out of step", rq->name);
		rq_ret_item(rq, &e.id, p, len);
		queue_pop(rq->inbox, 0);
		rq->returned++;
		n++;
	}
	rq->inbox_bytes = 0;
	return n;
}

static void
rq_ret_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct redisq	*rq = arg;
	size_t	i;

	if (r == NULL || cmd->gen != rq->cmd.gen)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		rconn_drop(&rq->cmd, "giving items back", r->str);
		return;
	}
	buf_consume(&rq->ret, cmd->bytes);
	for (i = 0; i < cmd->n; i++)
		(void)rstream_fifo_pop(&rq->ret_ids, NULL);
	rq->ret_sent = rq->ret_sent_bytes = 0;
	if (r->type == REDIS_REPLY_INTEGER)
		rq->xlen = (uint64_t)r->integer;
	rq_schedule(rq);
}

/* Give items back to the end of the stream, one batch at a time. */
static void
rq_send_returns(struct redisq *rq)
{
	struct rconn_argv	  a;
	struct rconn_cmd	 *cmd;
	char			(*txt)[RSTREAM_ID_MAX], (*rel)[24];
	struct rstream_ent	 *e;
	const char		 *p;
	size_t			  len, n = 0, bytes = 0, sz, total;

	if (rq->ret_sent > 0 || (total = rstream_fifo_len(&rq->ret_ids)) == 0)
		return;
	if (total > RQ_BATCH_ITEMS)
		total = RQ_BATCH_ITEMS;
	txt = xreallocarray(NULL, total, sizeof *txt);
	rel = xreallocarray(NULL, total, sizeof *rel);
	rconn_argv_eval(&a, rq_lua_return, 2);
	rconn_argv_adds(&a, rq->stream);
	rconn_argv_adds(&a, rq->extra);
	rconn_argv_adds(&a, rq->group);
	while (n < total) {
		sz = rec_at(&rq->ret, bytes, &p, &len);
		if (n > 0 && bytes + sz > RQ_BATCH_BYTES)
			break;
		e = rstream_fifo_at(&rq->ret_ids, n);
		txt[n][0] = '\0';
		if (!rstream_id_is_none(&e->id))
			rstream_id_format(&e->id, txt[n], sizeof txt[n]);
		if (e->left % 2 == 1)
			snprintf(rel[n], sizeof rel[n], "-%zu", e->left / 2);
		else
			snprintf(rel[n], sizeof rel[n], "%zu", e->left / 2);
		rconn_argv_adds(&a, txt[n]);
		rconn_argv_adds(&a, rel[n]);
		rconn_argv_add(&a, p, len);
		bytes += sz;
		n++;
	}
	cmd = rconn_send(&rq->cmd, rq_ret_cb, rq, &a);
	rconn_argv_release(&a);
	free(txt);
	free(rel);
	if (cmd == NULL)
		return;
	cmd->n = n;
	cmd->bytes = bytes;
	rq->ret_sent = n;
	rq->ret_sent_bytes = bytes;
}

/*
 * Items fetched for local consumers that took none of them for
 * claim_after go back to the stream, for consumers elsewhere: a local
 * consumer that died for good must not hold them.
 */
static void
rq_idle_return(struct redisq *rq)
{
	char	d[32];
	size_t	n;

	if (rq->freeing || rq->want || rq_inbox_depth(rq) == 0 ||
	    rq_now(rq) - rq->last_pop_at < rq->claim_after)
		return;
	if ((n = rq_return_inbox(rq)) > 0)
		log_info("queue %s: gave %zu item%s back to the stream: no "
		    "local consumer took any for %s", rq->name, n,
		    n == 1 ? "" : "s", rq_dur(rq->claim_after, d, sizeof d));
}
/* ------------------------------------------------------------- closing */

/* LEAVE: forget this consumer when it holds nothing. */
static const char rq_lua_leave[] =
"local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])\n"
"if #p == 0 then\n"
"  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])\n"
"end\n"
"return #p\n";

static void
rq_leave_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct redisq	*rq = arg;
	rq->leave_busy = 0;
	if (r == NULL || cmd->gen != rq->cmd.gen)
		return;
	rq->left = 1;
	rq_schedule(rq);
}

/* Freed, with everything handed over: forget our consumer and close. */
static void
rq_maybe_finish(struct redisq *rq)
{
	struct rconn_argv	a;

	if (rq->ob_n > 0 || rstream_fifo_len(&rq->acks) > 0 ||
	    rstream_fifo_len(&rq->acking) > 0 ||
	    rstream_fifo_len(&rq->ret_ids) > 0 ||
	    rq->rd_busy || rq->claim_busy || rq->reg_busy || rq->batches > 0 ||
	    rq->reg != rq->goal || rq->mark == RQ_MARK_DUE ||
	    rq->mark == RQ_MARK_SENT)
		return;
	if (!rq->left && rq->rd.opened) {
		if (rq->leave_busy)
			return;
		rconn_argv_eval(&a, rq_lua_leave, 1);
		rconn_argv_adds(&a, rq->stream);
		rconn_argv_adds(&a, rq->group);
		rconn_argv_adds(&a, rq->consumer);
		if (rconn_send(&rq->cmd, rq_leave_cb, rq, &a) != NULL)
			rq->leave_busy = 1;
		rconn_argv_release(&a);
		return;
	}
	rq_close(rq);
}

/* The deadline passed with Redis unreachable: say what is lost, close. */
static void
rq_give_up(struct redisq *rq)
{
	struct rstream_ent	*e;
	size_t			 lost = rq->ob_n, i;

	for (i = 0; i < rstream_fifo_len(&rq->ret_ids); i++) {
		e = rstream_fifo_at(&rq->ret_ids, i);
		if (rstream_id_is_none(&e->id))
			lost++;
	}
	if (lost > 0)
		log_warnx("queue %s: %zu item%s could not be handed to Redis at "
		    "%s before exit, and %s lost", rq->name, lost, lost == 1 ?
		    "" : "s", rq->url, lost == 1 ? "is" : "are");
	if (rq->mark == RQ_MARK_DUE || rq->mark == RQ_MARK_SENT)
		log_warnx("queue %s: its close could not be told to Redis at "
		    "%s before exit", rq->name, rq->url);
	rq_close(rq);
}

static void
rq_destroy(struct redisq *rq)
{
	struct redisq_taker	*t;

	while ((t = TAILQ_FIRST(&rq->takers)) != NULL) {
		TAILQ_REMOVE(&rq->takers, t, entry);
		t->rq = NULL;
	}
	manifest_redis_url_release(&rq->ru);
	free(rq->name);
	free(rq->url);
	free(rq->stream);
	free(rq->group);
	free(rq->registry);
	free(rq->extra);
	free(rq->consumer);
	free(rq->producer);
	buf_release(&rq->ob);
	buf_release(&rq->open);
	rstream_fifo_release(&rq->ents);
	rstream_refs_release(&rq->refs);
	buf_release(&rq->ret);
	rstream_fifo_release(&rq->inbox_ids);
	rstream_fifo_release(&rq->acks);
	rstream_fifo_release(&rq->acking);
	rstream_fifo_release(&rq->ret_ids);
	free(rq);
}

/* One more handle (or connection) closed: the last frees rq. */
static void
rq_closed(void *arg)
{
	struct redisq	*rq = arg;

	if (--rq->nhandles == 0)
		rq_destroy(rq);
}

static void
rq_handle_close_cb(uv_handle_t *h)
{
	rq_closed(h->data);
}

/* Close both connections and every handle; freed from the last close. */
static void
rq_close(struct redisq *rq)
{
	if (rq->closing)
		return;
	rq->closing = 1;
	rq->nhandles = 8;
	rconn_close(&rq->cmd);
	rconn_close(&rq->rd);
	uv_close((uv_handle_t *)&rq->tick, rq_handle_close_cb);
	uv_close((uv_handle_t *)&rq->rdchk, rq_handle_close_cb);
	uv_close((uv_handle_t *)&rq->endchk, rq_handle_close_cb);
	uv_close((uv_handle_t *)&rq->poll, rq_handle_close_cb);
	uv_close((uv_handle_t *)&rq->keep, rq_handle_close_cb);
	uv_close((uv_handle_t *)&rq->prep, rq_handle_close_cb);
}

/* ---------------------------------------------------------------- work */

/* Everything due, in one place: called once per loop turn when needed. */
static void
rq_work(struct redisq *rq)
{
	if (rq->closing)
		return;
	if (rconn_is_idle(&rq->cmd))
		rconn_connect(&rq->cmd);
	if (!rq->freeing && rq_has_readers(rq) && rconn_is_idle(&rq->rd))
		rconn_connect(&rq->rd);
	if (rq->cmd.up) {
		rq_send_group(rq);
		/* Items given back are added before any entry of theirs is
		 * acknowledged: the connection keeps the order. */
		rq_send_returns(rq);
		rq_send_acks(rq);
		rq_send_pushes(rq);
		rq_send_reg(rq);
		rq_send_mark(rq);
		rq_refresh(rq);
		rq_claim(rq);
		rq_poll_maybe(rq);
		rq_unblock(rq);
		if (rq->freeing)
			rq_maybe_finish(rq);
	}
	if (!rq->closing) {
		rq_fetch(rq);
		rq_update_ref(rq);
	}
}

static void
rq_prep_cb(uv_prepare_t *h)
{
	struct redisq	*rq = h->data;

	(void)uv_prepare_stop(h);
	rq_work(rq);
}

/* Run rq_work before the loop next waits, once for everything due. */
static void
rq_schedule(struct redisq *rq)
{
	if (!rq->closing && !uv_is_active((uv_handle_t *)&rq->prep))
		(void)uv_prepare_start(&rq->prep, rq_prep_cb);
}

static void
rq_tick_cb(uv_timer_t *timer)
{
	struct redisq		*rq = timer->data;
	struct redisq_taker	*t;
	uint64_t		 now = rq_now(rq);

	if (rq->closing)
		return;
	rconn_watchdog(&rq->cmd, now);
	rconn_watchdog(&rq->rd, now);
	if (rq->freeing && now >= rq->deadline) {
		rq_give_up(rq);
		return;
	}
	/* Readers that read on while nothing more is written. */
	TAILQ_FOREACH(t, &rq->takers, entry)
		(void)rq_taker_check(t);
	rq_idle_return(rq);
	rq_work(rq);
}

static void
rq_keep_cb(uv_timer_t *t)
{
}

/* ----------------------------------------------------------------- api */

struct redisq *
redisq_new(uv_loop_t *loop, const struct queue_spec *qs, struct queue *inbox,
    const struct redisq_cbs *cbs, void *arg, int check, char **cause)
{
	struct redisq	*rq;
	struct timespec	 ts;
	const char	*errstr;
	char		 host[RQ_HOST_MAX];
	uint64_t	 tick;

	rq = xcalloc(1, sizeof *rq);
	rq->loop = loop;
	rq->name = xstrdup(qs->name);
	rq->url = rstream_url_shown(qs->url != NULL ? qs->url : "");
	if (qs->url == NULL ||
	    manifest_parse_redis_url(qs->url, &rq->ru, &errstr) == -1) {
		*cause = xasprintf("url %s: %s", rq->url, qs->url == NULL ?
		    "missing" : errstr);
		rq_destroy(rq);
		return NULL;
	}
	rq->stream = xstrdup(qs->stream != NULL ? qs->stream : qs->name);
	rq->group = xstrdup(qs->group != NULL ? qs->group : qs->name);
	rq->registry = rstream_registry_key(rq->stream);
	rq->extra = xasprintf("%s:extra", rq->stream);
	if (gethostname(host, sizeof host) == -1)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	rq->consumer = rstream_consumer_name(host, (long)getpid(), qs->name);
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	rq->producer = xasprintf("%s:%lld%03ld", rq->consumer,
	    (long long)ts.tv_sec, ts.tv_nsec / 1000000);
	rq->capacity = qs->capacity;
	rq->overflow = qs->overflow;
	rq->claim_after = qs->claim_after_ms > 0 ? qs->claim_after_ms : 1;
	rq->connect_timeout = qs->connect_timeout_ms;
	rq->window = rq->capacity < RQ_WINDOW ? rq->capacity : RQ_WINDOW;
	rq->ob_limit = rq->capacity < RQ_OUTBOX_MAX ? rq->capacity :
	    RQ_OUTBOX_MAX;
	rq->entry_max = rq->capacity < RQ_ENTRY_ITEMS ? rq->capacity :
	    RQ_ENTRY_ITEMS;
	if (rq->entry_max == 0)
		rq->entry_max = 1;
	/* Until entries were seen: one at first, then twice as many. */
	rq->ent_items = RQ_ENTRY_ITEMS;
	rq->ent_bytes = RQ_WINDOW_BYTES;
	rq->rdchk_ms = RQ_READ_CHECK_MIN_MS;
	rq->endchk_ms = RQ_ENDCHK_MIN_MS;
	rq->base_seq = 1;
	rq->poll_ms = RQ_POLL_MIN_MS;
	snprintf(rq->claim_cursor, sizeof rq->claim_cursor, "0-0");
	rq->inbox = inbox;
	rq->cbs = *cbs;
	rq->arg = arg;
	buf_init(&rq->ob);
	buf_init(&rq->open);
	rstream_fifo_init(&rq->ents);
	rstream_refs_init(&rq->refs);
	buf_init(&rq->ret);
	rstream_fifo_init(&rq->inbox_ids);
	rstream_fifo_init(&rq->acks);
	rstream_fifo_init(&rq->acking);
	rstream_fifo_init(&rq->ret_ids);
	TAILQ_INIT(&rq->takers);
	if (check && rconn_check(&rq->ru, rq->url, rq->connect_timeout,
	    rq->stream, rq->group, cause) == -1) {
		rq_destroy(rq);
		return NULL;
	}

	rconn_init(&rq->cmd, loop, &rq->ru, "commands", RQ_WATCHDOG_MS, rq);
	rconn_init(&rq->rd, loop, &rq->ru, "reads", RQ_WATCHDOG_MS +
	    RQ_BLOCK_MS, rq);
	rq->cmd.stream = rq->stream;
	rq->cmd.group = rq->group;
	rq->cmd.up_fn = rq->rd.up_fn = rq_conn_up;
	rq->cmd.lost_fn = rq->rd.lost_fn = rq_conn_lost;
	rq->cmd.closed_fn = rq->rd.closed_fn = rq_closed;
	if (uv_timer_init(loop, &rq->tick) != 0 ||
	    uv_timer_init(loop, &rq->rdchk) != 0 ||
	    uv_timer_init(loop, &rq->endchk) != 0 ||
	    uv_timer_init(loop, &rq->poll) != 0 ||
	    uv_timer_init(loop, &rq->keep) != 0 ||
	    uv_prepare_init(loop, &rq->prep) != 0)
		fatalx("queue %s: cannot set up its timers", rq->name);
	rq->tick.data = rq->poll.data = rq->keep.data = rq->prep.data = rq;
	rq->rdchk.data = rq->endchk.data = rq;
	uv_unref((uv_handle_t *)&rq->tick);
	uv_unref((uv_handle_t *)&rq->endchk);
	uv_unref((uv_handle_t *)&rq->rdchk);
	uv_unref((uv_handle_t *)&rq->poll);
	uv_unref((uv_handle_t *)&rq->keep);
	uv_unref((uv_handle_t *)&rq->prep);
	tick = rq->claim_after / 4;
	if (tick > 1000)
		tick = 1000;
	if (tick < 20)
		tick = 20;
	(void)uv_timer_start(&rq->tick, rq_tick_cb, tick, tick);
	(void)uv_timer_start(&rq->keep, rq_keep_cb, 3600000, 3600000);
	rconn_connect(&rq->cmd);
	return rq;
}

void
redisq_free(struct redisq *rq)
{
	if (rq == NULL)
		return;
	uv_update_time(rq->loop);
	rq->cbs.readable = rq->cbs.writable = NULL;
	(void)rq_return_inbox(rq);
	rq->inbox = NULL;
	rq->freeing = 1;
	if (rq->goal == RQ_REG_LIVE)
		rq->goal = RQ_REG_ENDED;
	rq->deadline = rq_now(rq) + (rq->connect_timeout > 1000 ?
	    rq->connect_timeout : 1000);
	rq_work(rq);
}

const struct queue_counters *
redisq_counters(struct redisq *rq)
{
	const struct queue_counters	*c;

	memset(&rq->merged, 0, sizeof rq->merged);
	if (rq->inbox != NULL) {
		c = queue_counters(rq->inbox);
		rq->merged.out = c->out - rq->returned;
		rq->merged.redelivered = c->redelivered;
		rq->merged.depth = c->depth;
		/* Refused by the caller once closed. */
		rq->merged.dropped = c->dropped;
	}
	rq->merged.in = rq->pushed;
	rq->merged.redelivered += rq->claimed;
	rq->merged.dropped += rq->dropped;
	rq->merged.depth += rq->ob_n;
	rq_high(rq);
	rq->merged.high_water = rq->high_water;
	return &rq->merged;
}

uint64_t
redisq_stream_len(const struct redisq *rq)
{
	return rq->xlen;
}

int
redisq_push(struct redisq *rq, const void *item, size_t len)
{
	if (rq->overflow == QUEUE_DROP_OLDEST)
		rq_drop_oldest(rq);
	else if (rq->overflow == QUEUE_DROP_NEWEST && (rq->ob_n >=
	    rq->ob_limit || rq_outbox_bytes(rq) >= RQ_OUTBOX_BYTES)) {
		/* In counts it even when refused, as for a memory queue. */
		rq->pushed++;
		rq->dropped++;
		return 0;
	}
	rstream_ns_add(&rq->open, item, len);
	rq->ob_n++;
	rq->pushed++;
	rq_high(rq);
	rq_schedule(rq);
	return redisq_is_full(rq);
}

int
redisq_is_full(const struct redisq *rq)
{
	if (rq->overflow != QUEUE_BLOCK)
		return 0;
	return !rq->cmd.up || rq->ob_n >= rq->ob_limit ||
	    rq_outbox_bytes(rq) >= RQ_OUTBOX_BYTES || rq->xlen >= rq->capacity;
}

void
redisq_close(struct redisq *rq)
{
	if (rq->mark != RQ_MARK_NONE)
		return;
	rq->mark = RQ_MARK_DUE;
	rq_schedule(rq);
}

void
redisq_producers(struct redisq *rq, int live)
{
	if ((rq->goal == RQ_REG_LIVE) == live)
		return;
	rq->goal = live ? RQ_REG_LIVE : RQ_REG_ENDED;
	rq->reg_at = 0;
	rq_schedule(rq);
}

int
redisq_is_ended(const struct redisq *rq)
{
	return rq->remote_ended || (rq->draining && !rq->rd_busy);
}

void
redisq_want(struct redisq *rq)
{
	rq->want = 1;
	rq_schedule(rq);
}

/*
 * Fetch nothing more for waiting readers, and keep the loop up for them
 * no longer: an item already fetched waits in the inbox, and goes back
 * to the stream after claim_after if no reader comes for it.
 */
void
redisq_unwant(struct redisq *rq)
{
	rq->want = 0;
	rq_schedule(rq);
}

/* An item of bytes left the inbox. */
static void
rq_inbox_less(struct redisq *rq, size_t bytes)
{
	rq->inbox_bytes -= bytes < rq->inbox_bytes ? bytes : rq->inbox_bytes;
}

static void
rq_popped(struct redisq *rq)
{
	rq->popped = 1;
	rq->last_pop_at = rq_now(rq);
	rq_schedule(rq);
}

void
redisq_popped(struct redisq *rq)
{
	struct rstream_ent	e;

	if (rstream_fifo_pop(&rq->inbox_ids, &e) == -1)
		fatalx("queue %s: inbox out of step", rq->name);
	rq_inbox_less(rq, e.left);
	rq_item_done(rq, &e.id);
	rq_popped(rq);
}

void
redisq_shutdown(struct redisq *rq)
{
	rq->draining = 1;
	rq_readable(rq);
	rq_schedule(rq);
}

struct redisq_taker *
redisq_taker_new(struct redisq *rq, int fd, int rfd)
{
	struct redisq_taker	*t;

	t = xcalloc(1, sizeof *t);
	t->rq = rq;
	/* The reader's end outlives ours, closed at the end of stream. */
	t->fd = rfd != -1 ? rfd : fd;
	t->own = rfd == -1;
	rstream_fifo_init(&t->ids);
	TAILQ_INSERT_TAIL(&rq->takers, t, entry);
	return t;
}

/*
 * Acknowledge what the reader has taken from the pipe: the bytes written
 * less those FIONREAD says are still in it. An item merely written is
 * not done: the reader may die (or be killed with a dying supervisor)
 * before reading it, and then it must be delivered again elsewhere.
 * Returns 1 when the reader read something since the last look.
 */
int
rq_taker_check(struct redisq_taker *t)
{
	size_t	before = rstream_fifo_len(&t->ids);
	int	inpipe = 0;

	if (t->fd == -1 || t->rq == NULL || before == 0)
		return 0;
	if (ioctl(t->fd, FIONREAD, &inpipe) == -1 || inpipe < 0)
		return 0;
	if (t->written - (uint64_t)inpipe <= t->read)
		return 0;
	rstream_fifo_written(&t->ids, (size_t)(t->written - (uint64_t)inpipe -
	    t->read), rq_ack_id, t->rq);
	t->read = t->written - (uint64_t)inpipe;
	if (rstream_fifo_len(&t->ids) != before)
		rq_schedule(t->rq);
	return 1;
}

static void
rq_rdchk_cb(uv_timer_t *h)
{
	struct redisq		*rq = h->data;
	struct redisq_taker	*t;
	int			 read = 0;

	if (rq->closing)
		return;
	TAILQ_FOREACH(t, &rq->takers, entry)
		read |= rq_taker_check(t);
	if (read)
		rq->rdchk_ms = RQ_READ_CHECK_MIN_MS;
	else if ((rq->rdchk_ms *= 2) > RQ_READ_CHECK_MAX_MS)
		rq->rdchk_ms = RQ_READ_CHECK_MAX_MS;
	rq_read_check(rq);
}

/*
 * While a reader holds items written and unread, look again soon at what
 * it read, every millisecond at first, backing off while it reads
 * nothing: an item read is acknowledged at once, and no longer counts
 * against the producers, even when nothing more is written to wake us.
 */
void
rq_read_check(struct redisq *rq)
{
	struct redisq_taker	*t;

	if (rq->closing || uv_is_active((uv_handle_t *)&rq->rdchk))
		return;
	TAILQ_FOREACH(t, &rq->takers, entry)
		if (t->fd != -1 && rstream_fifo_len(&t->ids) > 0 &&
		    t->written > t->read)
			break;
	if (t == NULL) {
		rq->rdchk_ms = RQ_READ_CHECK_MIN_MS;
		return;
	}
	if (uv_timer_start(&rq->rdchk, rq_rdchk_cb, rq->rdchk_ms, 0) != 0)
		fatalx("queue %s: cannot start a timer", rq->name);
}

/*
 * The end of the stream was sent. Without a reader's end to probe, what
 * is in the pipe now counts as the reader's, as when it is read.
 */
void
redisq_taker_close(struct redisq_taker *t)
{
	(void)rq_taker_check(t);
	if (t->own) {
		t->fd = -1;
		t->closed = 1;
	}
}

void
redisq_taker_free(struct redisq_taker *t)
{
	struct rstream_ent	e;

	if (t == NULL)
		return;
	if (t->rq != NULL) {
		/*
		 * Items read by now are done. Those left count as delivered
		 * only when the end of stream was sent and nothing can tell
		 * what was read; otherwise they stay pending, for another
		 * consumer after claim_after, with the whole of their
		 * entries (acknowledging those would lose them).
		 */
		(void)rq_taker_check(t);
		while (rstream_fifo_pop(&t->ids, &e) == 0) {
			if (t->closed)
				rq_item_done(t->rq, &e.id);
			else if (!rstream_id_is_none(&e.id))
				(void)rstream_refs_drop(&t->rq->refs, &e.id, 1,
				    NULL);
		}
		rq_schedule(t->rq);
		TAILQ_REMOVE(&t->rq->takers, t, entry);
	}
	rstream_fifo_release(&t->ids);
	free(t);
}

void
redisq_take(struct redisq_taker *t, size_t bytes)
{
	struct redisq		*rq = t->rq;
	struct rstream_ent	 e;

	if (rstream_fifo_pop(&rq->inbox_ids, &e) == -1)
		fatalx("queue %s: inbox out of step", rq->name);
	rq_inbox_less(rq, e.left);
	rstream_fifo_push(&t->ids, &e.id, bytes);
	rq_popped(rq);
}

void
redisq_written(struct redisq_taker *t, size_t n)
{
	t->written += n;
	(void)rq_taker_check(t);
	rq_read_check(t->rq);
}

/*
 * The last nback items taken are back at the head of the inbox, oldest
 * first: those the reader had not read whole. Those still in t keep
 * their ids; any older ones were acknowledged already (read since the
 * last look) and from now on live only here, without an id.
 */
void
redisq_untake(struct redisq_taker *t, size_t nback)
{
	struct redisq		*rq = t->rq;
	struct rstream_ent	 e;
	struct rstream_id	 none = { 0, 0 };
	size_t			 m;

	(void)rq_taker_check(t);
	/* Never more in hand than put back; if so, the oldest were read. */
	while (rstream_fifo_len(&t->ids) > nback) {
		(void)rstream_fifo_pop(&t->ids, &e);
		rq_ack_id(rq, &e.id);
	}
	m = rstream_fifo_len(&t->ids);
	while (rstream_fifo_pop_back(&t->ids, &e) == 0) {
		rstream_fifo_push_front(&rq->inbox_ids, &e.id, e.left);
		rq->inbox_bytes += e.left;
	}
	for (; m < nback; m++)
		rstream_fifo_push_front(&rq->inbox_ids, &none, 0);
	/* Forget the pipe: what comes next is accounted afresh. */
	t->written = t->read = 0;
	rq->last_pop_at = rq_now(rq);
	rq_schedule(rq);
}

#endif /* HAVE_HIREDIS */
