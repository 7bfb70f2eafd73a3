/*
 * The consuming side of a Redis queue: reading the group (XREADGROUP)
 * into the inbox for local consumers, our own pending entries first
 * after a reconnection; acknowledging what was taken (the ACK script,
 * which trims the stream); the end of the stream across machines; the
 * consumer group; and the takers, which learn from their pipes what a
 * reader has read.
 */
#include "config.h"

#ifdef HAVE_HIREDIS

#include <sys/ioctl.h>
#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "queue.h"
#include "redisq.h"
#include "redisq-int.h"
#include "rstream.h"
#include "xmalloc.h"

/* STATUS: {stream length, producers registered, producers live}. */
static const char rq_lua_status[] =
"local t = redis.call('TIME')\n"
"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
"local len = redis.call('XLEN', KEYS[1])\n"
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
"return {len, n, live}\n";

/*
 * ACK: acknowledge entries, then trim the stream below the oldest entry
 * still pending with the group, or past the last one delivered when
 * none is: everything below was acknowledged. XTRIM MINID drops whole
 * nodes, where XDEL costs microseconds an entry. So the stream holds
 * only items not yet done, and its length is the queue's depth.
 */
static const char rq_lua_ack[] =
"redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))\n"
"local p = redis.call('XPENDING', KEYS[1], ARGV[1])\n"
"local floor = nil\n"
"if p[1] > 0 then\n"
"  floor = p[2]\n"
"else\n"
"  for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do\n"
"    local name, last = nil, nil\n"
"    for i = 1, #g, 2 do\n"
"      if g[i] == 'name' then name = g[i + 1] end\n"
"      if g[i] == 'last-delivered-id' then last = g[i + 1] end\n"
"    end\n"
"    if name == ARGV[1] and last then\n"
"      local ms, seq = string.match(last, '^(%d+)-(%d+)$')\n"
"      if ms then floor = ms .. '-' .. string.format('%d', seq + 1) end\n"
"    end\n"
"  end\n"
"end\n"
"if floor then redis.call('XTRIM', KEYS[1], 'MINID', floor) end\n"
"return redis.call('XLEN', KEYS[1])\n";

/* ----------------------------------------------------------- consuming */

/* Do we hold id already (in the inbox, with a taker, or to acknowledge)? */
static int
rq_holds(struct redisq *rq, const struct rstream_id *id)
{
	struct redisq_taker	*t;

	if (rstream_fifo_has(&rq->inbox_ids, id) ||
	    rstream_fifo_has(&rq->acks, id) ||
	    rstream_fifo_has(&rq->acking, id) ||
	    rstream_fifo_has(&rq->ret_ids, id))
		return 1;
	TAILQ_FOREACH(t, &rq->takers, entry)
		if (rstream_fifo_has(&t->ids, id))
			return 1;
	return 0;
}

static void
rq_ack_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct redisq		*rq = arg;
	struct rstream_id	*ids = cmd->data;
	size_t			 i;

	/* Replies come in the order sent, a lost connection's included. */
	for (i = 0; i < cmd->n; i++)
		(void)rstream_fifo_pop(&rq->acking, NULL);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		for (i = 0; i < cmd->n; i++)
			rstream_fifo_push(&rq->acks, &ids[i], 0);
		if (r != NULL && cmd->gen == rq->cmd.gen)
			rconn_drop(&rq->cmd, "acknowledging items", r->str);
		return;
	}
	if (r->type == REDIS_REPLY_INTEGER)
		rq->xlen = (uint64_t)r->integer;
	rq_writable(rq);
	rq_schedule(rq);
}

/* Acknowledge and delete what local consumers took, in batches. */
void
rq_send_acks(struct redisq *rq)
{
	struct rconn_argv		  a;
	struct rconn_cmd		 *cmd;
	struct rstream_id	 *ids;
	char			(*txt)[RSTREAM_ID_MAX];
	size_t			  n, i;

	while (rq->cmd.up && (n = rstream_fifo_len(&rq->acks)) > 0) {
		if (n > RQ_ACK_BATCH)
			n = RQ_ACK_BATCH;
		ids = xreallocarray(NULL, n, sizeof *ids);
		txt = xreallocarray(NULL, n, sizeof *txt);
		rconn_argv_eval(&a, rq_lua_ack, 1);
		rconn_argv_adds(&a, rq->stream);
		rconn_argv_adds(&a, rq->group);
		for (i = 0; i < n; i++) {
			ids[i] = rstream_fifo_at(&rq->acks, i)->id;
			rstream_id_format(&ids[i], txt[i], sizeof txt[i]);
			rconn_argv_adds(&a, txt[i]);
		}
		cmd = rconn_send(&rq->cmd, rq_ack_cb, rq, &a);
		rconn_argv_release(&a);
		free(txt);
		if (cmd == NULL) {
			free(ids);
			break;
		}
		cmd->data = ids;
		cmd->n = n;
		for (i = 0; i < n; i++) {
			(void)rstream_fifo_pop(&rq->acks, NULL);
			rstream_fifo_push(&rq->acking, &ids[i], 0);
		}
	}
}

static void
rq_ack_id(void *arg, const struct rstream_id *id)
{
	struct redisq	*rq = arg;

	if (!rstream_id_is_none(id))
		rstream_fifo_push(&rq->acks, id, 0);
}

/* The value of an entry's "item" field, else of its first field. */
static redisReply *
rq_entry_item(redisReply *fields)
{
	size_t	i;

	for (i = 0; i + 1 < fields->elements; i += 2)
		if (fields->element[i]->type == REDIS_REPLY_STRING &&
		    fields->element[i]->len == 4 &&
		    memcmp(fields->element[i]->str, "item", 4) == 0)
			return fields->element[i + 1];
	return fields->element[1];
}

/*
 * Entries of a reply ([[id, [field, value, ...]], ...]) into the inbox;
 * an entry deleted since (no fields) is only acknowledged. With old set
 * (our own pending entries, or claimed ones) skip those already in hand:
 * new entries never are, and the look is linear. Once freed, entries go
 * straight back to the stream. *seen counts every entry; returns those
 * taken.
 */
size_t
rq_take_entries(struct redisq *rq, redisReply *list, int old, size_t *seen)
{
	struct rstream_id	 id;
	redisReply		*e, *f, *v;
	size_t			 i, n = 0;

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
		if (f->type != REDIS_REPLY_ARRAY || f->elements < 2 ||
		    (v = rq_entry_item(f))->type != REDIS_REPLY_STRING) {
			rstream_fifo_push(&rq->acks, &id, 0);
			continue;
		}
		if (rq->inbox == NULL) {
			rec_add(&rq->ret, v->str, v->len);
			rstream_fifo_push(&rq->ret_ids, &id, 0);
		} else {
			if (rq_inbox_depth(rq) == 0)
				rq->last_pop_at = rq_now(rq);
			(void)queue_push(rq->inbox, v->str, v->len);
			rstream_fifo_push(&rq->inbox_ids, &id, 0);
		}
		n++;
	}
	rq_high(rq);
	return n;
}

static void
rq_status_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct redisq	*rq = arg;
	rq->status_busy = 0;
	if (r == NULL || cmd->gen != rq->cmd.gen)
		return;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 3) {
		rconn_drop(&rq->cmd, "checking the end of the stream",
		    r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
		return;
	}
	rq->xlen = (uint64_t)r->element[0]->integer;
	if (r->element[0]->integer == 0 && r->element[1]->integer > 0 &&
	    r->element[2]->integer == 0 && !rq->producing && rq->ob_n == 0 &&
	    rq_inbox_depth(rq) == 0) {
		rq->remote_ended = 1;
		rq_readable(rq);
	}
	rq_writable(rq);
	rq_schedule(rq);
}

/*
 * End of stream across machines: every producer in the registry has
 * ended (or fell silent for claim_after) and the stream is empty, which
 * means every item was acknowledged somewhere.
 */
static void
rq_check_end(struct redisq *rq)
{
	struct rconn_argv	 a;

	if (rq->remote_ended || rq->status_busy || !rq->cmd.up ||
	    rq->producing || rq->ob_n > 0 || rq_inbox_depth(rq) > 0)
		return;
	rconn_argv_eval(&a, rq_lua_status, 2);
	rconn_argv_adds(&a, rq->stream);
	rconn_argv_adds(&a, rq->registry);
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
		rq_readable(rq);
	} else if (!recovering)
		rq_check_end(rq);
	if (rq->draining)
		rq_readable(rq);
	rq_schedule(rq);
}

/*
 * Fetch for local consumers, only when one of them waits or takes
 * items, and never more than the window: items fetched here are pending
 * under this supervisor's name and nobody else gets them.
 */
void
rq_fetch(struct redisq *rq)
{
	struct rconn_argv	 a;
	size_t		 depth;

	if (!rq->rd.up || rq->rd_busy || rq->freeing || rq->draining ||
	    rq->remote_ended || rq->need_group || !rq_has_readers(rq))
		return;
	depth = rq_inbox_depth(rq);
	if (depth >= rq->window || (depth > rq->window / 2 && !rq->recovering))
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
	    rq->window - depth : 1);
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

void
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

/* ----------------------------------------------------------------- api */

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
	rq_ack_id(rq, &e.id);
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
 */
void
rq_taker_check(struct redisq_taker *t)
{
	size_t	before = rstream_fifo_len(&t->ids);
	int	inpipe = 0;

	if (t->fd == -1 || t->rq == NULL || before == 0)
		return;
	if (ioctl(t->fd, FIONREAD, &inpipe) == -1 || inpipe < 0)
		return;
	if (t->written - (uint64_t)inpipe <= t->read)
		return;
	rstream_fifo_written(&t->ids, (size_t)(t->written - (uint64_t)inpipe -
	    t->read), rq_ack_id, t->rq);
	t->read = t->written - (uint64_t)inpipe;
	if (rstream_fifo_len(&t->ids) != before)
		rq_schedule(t->rq);
}

/*
 * The end of the stream was sent. Without a reader's end to probe, what
 * is in the pipe now counts as the reader's, as when it is read.
 */
void
redisq_taker_close(struct redisq_taker *t)
{
	rq_taker_check(t);
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
		 * consumer after claim_after.
		 */
		rq_taker_check(t);
		while (t->closed && rstream_fifo_pop(&t->ids, &e) == 0)
			rq_ack_id(t->rq, &e.id);
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
	rstream_fifo_push(&t->ids, &e.id, bytes);
	rq_popped(rq);
}

void
redisq_written(struct redisq_taker *t, size_t n)
{
	t->written += n;
	rq_taker_check(t);
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

	rq_taker_check(t);
	/* Never more in hand than put back; if so, the oldest were read. */
	while (rstream_fifo_len(&t->ids) > nback) {
		(void)rstream_fifo_pop(&t->ids, &e);
		rq_ack_id(rq, &e.id);
	}
	m = rstream_fifo_len(&t->ids);
	while (rstream_fifo_pop_back(&t->ids, &e) == 0)
		rstream_fifo_push_front(&rq->inbox_ids, &e.id, 0);
	for (; m < nback; m++)
		rstream_fifo_push_front(&rq->inbox_ids, &none, 0);
	/* Forget the pipe: what comes next is accounted afresh. */
	t->written = t->read = 0;
	rq->last_pop_at = rq_now(rq);
	rq_schedule(rq);
}

#endif /* HAVE_HIREDIS */
