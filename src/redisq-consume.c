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
#include "util.h"
#include "xmalloc.h"

/* STATUS: {items in the stream, producers registered, producers live}. */
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
"return {len, n, live}\n";

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
void
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
void
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
size_t
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
	if (r->element[0]->integer == 0 && r->element[1]->integer > 0 &&
	    r->element[2]->integer == 0 && !rq->producing && rq->ob_n == 0 &&
	    rq_inbox_depth(rq) == 0) {
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
 * ended (or fell silent for claim_after) and the stream is empty, which
 * means every item was acknowledged somewhere. Asked when a read found
 * nothing, when an acknowledgement emptied the stream, and when the
 * local producers said they ended.
 */
void
rq_check_end(struct redisq *rq)
{
	struct rconn_argv	 a;

	if (rq->status_busy) {
		/* Things changed since it was asked: ask again after. */
		rq->status_again = 1;
		return;
	}
	if (rq->remote_ended || !rq->cmd.up ||
	    rq->producing || rq->ob_n > 0 || rq_inbox_depth(rq) > 0)
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
size_t
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
void
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
void
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
