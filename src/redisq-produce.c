/*
 * The producing side of a Redis queue: items pushed here wait in an
 * outbox and go to the stream in batches (the PUSH script, which adds
 * each item once however often a batch is sent again), under the
 * queue's capacity and overflow policy; the stream's length is polled
 * while it is full; and the registry of producers says who is live.
 */
#include "config.h"

#ifdef HAVE_HIREDIS

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"
#include "manifest.h"
#include "redisq.h"
#include "redisq-int.h"

/*
 * The scripts run atomically in the server. PUSH adds a batch of items
 * numbered from ARGV[2] by this producer, skipping any number the
 * registry says was added already, so a batch sent again after a lost
 * connection never adds an item twice; it applies the overflow policy
 * and returns the stream's length and the items dropped.
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
"local len = redis.call('XLEN', KEYS[1])\n"
"local dropped, seq = 0, last\n"
"for i = 7, #ARGV do\n"
"  local s = first + i - 7\n"
"  if s > last then\n"
"    if policy == 'drop-newest' and len >= cap then\n"
"      dropped = dropped + 1\n"
"    elseif policy == 'drop-oldest' and len >= cap then\n"
"      redis.call('XADD', KEYS[1], 'MAXLEN', cap, '*', 'item', ARGV[i])\n"
"      dropped = dropped + len + 1 - cap\n"
"      len = cap\n"
"    else\n"
"      redis.call('XADD', KEYS[1], '*', 'item', ARGV[i])\n"
"      len = len + 1\n"
"    end\n"
"    seq = s\n"
"  end\n"
"end\n"
"if ARGV[6] == '1' then\n"
"  exp = now + tonumber(ARGV[3])\n"
"  redis.call('PERSIST', KEYS[2])\n"
"end\n"
"redis.call('HSET', KEYS[2], ARGV[1], string.format('%d %d', exp, seq))\n"
"return {len, dropped}\n";

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

void
rq_high(struct redisq *rq)
{
	uint64_t	d = rq->ob_n + rq_inbox_depth(rq);

	if (d > rq->high_water)
		rq->high_water = d;
}

/* A batch was added: the records leave the outbox. */
static void
rq_push_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct redisq	*rq = arg;
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
 * Send the outbox in batches, a few in flight. Under "block", no more
 * than the stream has room for: the stream's length, not this
 * supervisor's memory, is what capacity bounds.
 */
void
rq_send_pushes(struct redisq *rq)
{
	struct rconn_argv	 a;
	struct rconn_cmd	*cmd;
	const char	*p;
	size_t		 len, n, bytes, room, sz;
	uint64_t	 est;

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
		rconn_argv_eval(&a, rq_lua_push, 2);
		rconn_argv_adds(&a, rq->stream);
		rconn_argv_adds(&a, rq->registry);
		rconn_argv_adds(&a, rq->producer);
		rconn_argv_addu(&a, rq->base_seq + rq->sent_n);
		rconn_argv_addu(&a, rq->claim_after);
		rconn_argv_addu(&a, rq->capacity);
		rconn_argv_adds(&a, rq_policy(rq));
		rconn_argv_adds(&a, rq->producing ? "1" : "0");
		n = bytes = 0;
		while (n < room && rq->sent_n + n < rq->ob_n) {
			sz = rec_at(&rq->ob, rq->sent_bytes + bytes, &p, &len);
			if (n > 0 && bytes + sz > RQ_BATCH_BYTES)
				break;
			rconn_argv_add(&a, p, len);
			bytes += sz;
			n++;
		}
		cmd = rconn_send(&rq->cmd, rq_push_cb, rq, &a);
		rconn_argv_release(&a);
		if (cmd == NULL)
			break;
		cmd->n = n;
		cmd->bytes = bytes;
		cmd->flag = rq->producing;
		rq->sent_n += n;
		rq->sent_bytes += bytes;
		rq->batches++;
	}
}

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
	rconn_argv_init(&a);
	rconn_argv_adds(&a, "XLEN");
	rconn_argv_adds(&a, rq->stream);
	if (rconn_send(&rq->cmd, rq_xlen_cb, rq, &a) != NULL)
		rq->xlen_busy = 1;
	rconn_argv_release(&a);
}

/*
 * A full stream empties through consumers anywhere: look at its length
 * again while it is full, every 10ms at first, backing off to 160ms.
 */
void
rq_poll_maybe(struct redisq *rq)
{
	if (rq->overflow != QUEUE_BLOCK || rq->xlen < rq->capacity ||
	    rq->batches > 0 || rq->xlen_busy || rq->freeing ||
	    uv_is_active((uv_handle_t *)&rq->poll))
		return;
	(void)uv_timer_start(&rq->poll, rq_poll_cb, rq->poll_ms, 0);
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
	rq_schedule(rq);
}

/*
 * The registry of producers: live ones say so every claim_after/3; once
 * the last local producer has ended and everything it pushed is in the
 * stream, say "ended".
 */
void
rq_send_reg(struct redisq *rq)
{
	struct rconn_argv	 a;
	struct rconn_cmd	*cmd;
	int		 live;

	if (rq->reg_busy)
		return;
	if (rq->producing) {
		if (rq->reg == RQ_REG_LIVE && rq->reg_at != 0 &&
		    rq_now(rq) - rq->reg_at < rq->claim_after / 3)
			return;
		live = 1;
	} else {
		if (rq->reg != RQ_REG_LIVE || rq->ob_n > 0 || rq->batches > 0)
			return;
		live = 0;
	}
	rconn_argv_eval(&a, rq_lua_reg, 1);
	rconn_argv_adds(&a, rq->registry);
	rconn_argv_adds(&a, rq->producer);
	rconn_argv_addu(&a, rq->claim_after);
	rconn_argv_adds(&a, live ? "live" : "end");
	cmd = rconn_send(&rq->cmd, rq_reg_cb, rq, &a);
	rconn_argv_release(&a);
	if (cmd == NULL)
		return;
	cmd->flag = live;
	rq->reg_busy = 1;
	rq->reg_at = rq_now(rq);
}

/* ----------------------------------------------------------------- api */

int
redisq_push(struct redisq *rq, const void *item, size_t len)
{
	if (rq->overflow != QUEUE_BLOCK && rq->ob_n >= rq->ob_limit) {
		rq->dropped++;
		return 0;
	}
	rec_add(&rq->ob, item, len);
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
	    rq->xlen >= rq->capacity;
}

void
redisq_producers(struct redisq *rq, int live)
{
	if (rq->producing == live)
		return;
	rq->producing = live;
	rq->reg_at = 0;
	rq_schedule(rq);
}

#endif /* HAVE_HIREDIS */
