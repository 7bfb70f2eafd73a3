/*
 * Who holds a Redis queue's pending entries: taking over those that
 * consumers of a dead supervisor left pending (XAUTOCLAIM), keeping
 * those in hand here ours (XCLAIM, every claim_after/3), and giving
 * items back to the end of the stream (the RETURN script) when freed or
 * when no local consumer takes them.
 */
#include "config.h"

#ifdef HAVE_HIREDIS

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "queue.h"
#include "redisq-int.h"
#include "rstream.h"
#include "xmalloc.h"

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
void
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
void
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
void
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
size_t
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
void
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
void
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

#endif /* HAVE_HIREDIS */
