/*
 * Queues backed by a Redis stream and a consumer group, in the
 * supervisor's loop. Two connections (rconn.c) per queue: one for
 * commands (adding, acknowledging, claiming), one for the blocking
 * reads. It knows the inbox ring it feeds and the pipes its takers write
 * into (to learn what was read), nothing of units or of the YAML.
 *
 * This file owns the queue object: its life cycle, the build without
 * hiredis, the helpers the other files share, the connections, the work
 * due once per loop turn, and closing. Producing is redisq-produce.c's,
 * consuming and the takers redisq-consume.c's, claiming and giving back
 * redisq-claim.c's; redisq-int.h holds what they share.
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
#ifdef HAVE_HIREDIS
#include "redisq-int.h"
#endif
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
void redisq_want(struct redisq *rq) { }
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

/* LEAVE: forget this consumer when it holds nothing. */
static const char rq_lua_leave[] =
"local p = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])\n"
"if #p == 0 then\n"
"  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])\n"
"end\n"
"return #p\n";

static void	rq_work(struct redisq *);
static void	rq_close(struct redisq *);

uint64_t
rq_now(const struct redisq *rq)
{
	return uv_now(rq->loop);
}

/* ------------------------------------------------------------ helpers */

/* Append one [u32 length][bytes] record. */
void
rec_add(struct buf *b, const void *p, size_t len)
{
	uint32_t	n = (uint32_t)len;

	buf_add(b, &n, sizeof n);
	buf_add(b, p, len);
}

/* The record at offset off of b: its bytes and its length; returns size. */
size_t
rec_at(const struct buf *b, size_t off, const char **p, size_t *len)
{
	uint32_t	n;

	memcpy(&n, buf_ptr(b) + off, sizeof n);
	*p = buf_ptr(b) + off + sizeof n;
	*len = n;
	return sizeof n + n;
}

/* "1.5s" for messages. */
const char *
rq_dur(uint64_t ms, char *buf, size_t len)
{
	util_format_duration(ms, buf, len);
	return buf;
}

void
rq_readable(struct redisq *rq)
{
	if (rq->cbs.readable != NULL)
		rq->cbs.readable(rq->arg);
}

void
rq_writable(struct redisq *rq)
{
	if (rq->cbs.writable != NULL && !redisq_is_full(rq))
		rq->cbs.writable(rq->arg);
}

size_t
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
int
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

/* ------------------------------------------------------------- closing */

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
	    rq->reg == RQ_REG_LIVE)
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
void
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
	rq->producing = 0;
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
	}
	rq->merged.in = rq->pushed;
	rq->merged.redelivered += rq->claimed;
	rq->merged.dropped = rq->dropped;
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

#endif /* HAVE_HIREDIS */
