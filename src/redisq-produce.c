/*
 * The producing side of a Redis queue: items pushed here wait in an
 * outbox, packed several to a stream entry, and go to the stream in
 * batches of entries (the PUSH script, which adds each entry once
 * however often a batch is sent again), under the
 * queue's capacity and overflow policy; the stream's length is polled
 * while it is full; and the registry of producers says who is live.
 */
#include "config.h"

#ifdef HAVE_HIREDIS

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "log.h"
#include "manifest.h"
#include "redisq.h"
#include "redisq-int.h"
#include "rstream.h"
#include "xmalloc.h"

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
"    if policy == 'drop-newest' and len + extra + n > cap then\n"
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

void
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
	const char		*p = buf_ptr(&rq->ob), *item;
	size_t			 len = buf_used(&rq->ob), off, start, ilen, prev;

	off = rq->closed_bytes;
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
		rq->closed_n += (size_t)n.ms;
		rq->closed_bytes += off - start;
		max -= (size_t)n.ms;
	}
}

/*
 * Send the outbox in batches of entries, a few in flight. Under
 * "block", no more items than the stream has room for: the stream, not
 * this supervisor's memory, is what capacity bounds (other supervisors
 * adding at the same time may pass it by part of a batch).
 */
void
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
		rconn_argv_adds(&a, rq->producing ? "1" : "0");
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
		cmd->flag = rq->producing;
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
	if (rq->reg == RQ_REG_ENDED && rq_has_readers(rq))
		rq_check_end(rq);
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
	if (rq->overflow != QUEUE_BLOCK && (rq->ob_n >= rq->ob_limit ||
	    buf_used(&rq->ob) >= RQ_OUTBOX_BYTES)) {
		rq->dropped++;
		return 0;
	}
	rstream_ns_add(&rq->ob, item, len);
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
	    buf_used(&rq->ob) >= RQ_OUTBOX_BYTES || rq->xlen >= rq->capacity;
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
