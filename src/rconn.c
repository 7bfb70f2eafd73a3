/*
 * One connection to a Redis server on hiredis in the supervisor's loop:
 * the glue of a hiredis context to libuv, the handshake, reconnecting
 * with a backoff, a watchdog, and the blocking check at start-up. It
 * knows nothing of queues (redisq.c) nor of units.
 */
#include "config.h"

#ifdef HAVE_HIREDIS

#include <sys/time.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "log.h"
#include "manifest.h"
#include "rconn.h"
#include "rstream.h"
#include "util.h"
#include "xmalloc.h"

/* Reconnection backoff. */
#define RCONN_RETRY_MIN_MS	100
#define RCONN_RETRY_MAX_MS	2000

static void	rconn_lost(struct rconn *, const char *, const char *);

/*
 * Our own glue of a hiredis context to the loop, in place of hiredis's
 * adapters/libuv.h: that one (0.14) ignores the error status of its
 * poll handle, which libuv stops on POLLERR, so a refused connection or
 * a reset socket went unnoticed until the watchdog. On an error, let
 * hiredis find it by trying to read (or to finish connecting).
 */
struct rconn_ev {
	redisAsyncContext	*ac;	/* NULL once hiredis let go */
	uv_poll_t		 poll;
	int			 events;
};

static void	rconn_ev_poll_cb(uv_poll_t *, int, int);

static void
rconn_ev_update(struct rconn_ev *ev)
{
	if (ev->events != 0)
		(void)uv_poll_start(&ev->poll, ev->events, rconn_ev_poll_cb);
	else
		(void)uv_poll_stop(&ev->poll);
}

static void
rconn_ev_poll_cb(uv_poll_t *h, int status, int events)
{
	struct rconn_ev	*ev = h->data;

	if (status < 0)
		events = UV_READABLE | (ev->events & UV_WRITABLE);
	if (ev->ac != NULL && (events & UV_READABLE))
		redisAsyncHandleRead(ev->ac);
	if (ev->ac != NULL && (events & UV_WRITABLE))
		redisAsyncHandleWrite(ev->ac);
	/* libuv stopped the handle on the error: watch again if still ours. */
	if (status < 0 && ev->ac != NULL)
		rconn_ev_update(ev);
}

static void
rconn_ev_add_read(void *arg)
{
	struct rconn_ev	*ev = arg;

	ev->events |= UV_READABLE;
	rconn_ev_update(ev);
}

static void
rconn_ev_del_read(void *arg)
{
	struct rconn_ev	*ev = arg;

	ev->events &= ~UV_READABLE;
	rconn_ev_update(ev);
}

static void
rconn_ev_add_write(void *arg)
{
	struct rconn_ev	*ev = arg;

	ev->events |= UV_WRITABLE;
	rconn_ev_update(ev);
}

static void
rconn_ev_del_write(void *arg)
{
	struct rconn_ev	*ev = arg;

	ev->events &= ~UV_WRITABLE;
	rconn_ev_update(ev);
}

static void
rconn_ev_close_cb(uv_handle_t *h)
{
	free(h->data);
}

/* hiredis frees the context: close the handle; freed from its close. */
static void
rconn_ev_cleanup(void *arg)
{
	struct rconn_ev	*ev = arg;

	ev->ac = NULL;
	uv_close((uv_handle_t *)&ev->poll, rconn_ev_close_cb);
}

/*
 * Watch ac's socket in loop, unreferenced: the supervisor's units keep
 * the loop alive, not this socket. 0, or a negative libuv code.
 */
static int
rconn_ev_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
	struct rconn_ev	*ev;
	int		 error;

	ev = xcalloc(1, sizeof *ev);
	if ((error = uv_poll_init(loop, &ev->poll, ac->c.fd)) != 0) {
		free(ev);
		return error;
	}
	ev->poll.data = ev;
	ev->ac = ac;
	uv_unref((uv_handle_t *)&ev->poll);
	ac->ev.data = ev;
	ac->ev.addRead = rconn_ev_add_read;
	ac->ev.delRead = rconn_ev_del_read;
	ac->ev.addWrite = rconn_ev_add_write;
	ac->ev.delWrite = rconn_ev_del_write;
	ac->ev.cleanup = rconn_ev_cleanup;
	return 0;
}

/* ------------------------------------------------------------- argv */

void
rconn_argv_init(struct rconn_argv *a)
{
	memset(a, 0, sizeof *a);
}

void
rconn_argv_add(struct rconn_argv *a, const char *p, size_t len)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = xreallocarray(a->v, (size_t)a->cap, sizeof *a->v);
		a->len = xreallocarray(a->len, (size_t)a->cap, sizeof *a->len);
	}
	a->v[a->n] = p;
	a->len[a->n++] = len;
}

void
rconn_argv_adds(struct rconn_argv *a, const char *s)
{
	rconn_argv_add(a, s, strlen(s));
}

void
rconn_argv_addu(struct rconn_argv *a, uint64_t u)
{
	char	*p;

	if (a->nnums == (int)(sizeof a->nums / sizeof a->nums[0]))
		fatalx("rconn_argv_addu: too many numbers");
	p = a->nums[a->nnums++];
	snprintf(p, sizeof a->nums[0], "%llu", (unsigned long long)u);
	rconn_argv_adds(a, p);
}

void
rconn_argv_eval(struct rconn_argv *a, const char *script, int nkeys)
{
	rconn_argv_init(a);
	rconn_argv_adds(a, "EVAL");
	rconn_argv_adds(a, script);
	rconn_argv_addu(a, (uint64_t)nkeys);
}

void
rconn_argv_release(struct rconn_argv *a)
{
	free(a->v);
	free(a->len);
	memset(a, 0, sizeof *a);
}

/* ------------------------------------------------------------ commands */

static uint64_t
rconn_now(const struct rconn *c)
{
	return uv_now(c->loop);
}

/* A command's reply (NULL when the connection went): dispatch, free. */
static void
rconn_cmd_cb(redisAsyncContext *ac, void *r, void *privdata)
{
	struct rconn_cmd	*cmd = privdata;
	struct rconn		*c = cmd->c;

	if (!c->closing) {
		if (cmd->gen == c->gen && c->inflight > 0 &&
		    --c->inflight > 0)
			c->sent_at = rconn_now(c);
		cmd->fn(cmd->arg, cmd, r);
	}
	free(cmd->data);
	free(cmd);
}

struct rconn_cmd *
rconn_send(struct rconn *c, void (*fn)(void *, struct rconn_cmd *,
    redisReply *), void *arg, struct rconn_argv *a)
{
	struct rconn_cmd	*cmd;

	if (c->ac == NULL)
		return NULL;
	cmd = xcalloc(1, sizeof *cmd);
	cmd->c = c;
	cmd->gen = c->gen;
	cmd->fn = fn;
	cmd->arg = arg;
	if (redisAsyncCommandArgv(c->ac, rconn_cmd_cb, cmd, a->n, a->v,
	    a->len) != REDIS_OK) {
		free(cmd);
		return NULL;
	}
	if (c->inflight++ == 0)
		c->sent_at = rconn_now(c);
	return cmd;
}

/* ---------------------------------------------------------- connection */

void
rconn_init(struct rconn *c, uv_loop_t *loop, const struct redis_url *ru,
    const char *what, uint64_t limit, void *arg)
{
	memset(c, 0, sizeof *c);
	c->loop = loop;
	c->ru = ru;
	c->what = what;
	c->limit = limit;
	c->arg = arg;
	if (uv_timer_init(loop, &c->retry) != 0)
		fatalx("uv_timer_init failed");
	c->retry.data = c;
	uv_unref((uv_handle_t *)&c->retry);
}

int
rconn_is_idle(const struct rconn *c)
{
	return c->ac == NULL && !uv_is_active((const uv_handle_t *)&c->retry);
}

static void
rconn_retry_cb(uv_timer_t *t)
{
	struct rconn	*c = t->data;

	if (!c->closing)
		rconn_connect(c);
}

/*
 * The connection is gone (or we let it go): what was in flight on it is
 * forgotten here (its callbacks get NULL), the owner hears of it, and we
 * retry after a backoff.
 */
static void
rconn_lost(struct rconn *c, const char *what, const char *why)
{
	c->ac = NULL;
	c->up = 0;
	c->client_id = 0;
	c->gen++;
	c->inflight = 0;
	if (c->closing)
		return;
	log_debug("%s connection: %s: %s", c->what, what, why != NULL ? why :
	    "");
	if (c->lost_fn != NULL)
		c->lost_fn(c, c->arg, what, why);
	(void)uv_timer_start(&c->retry, rconn_retry_cb, rstream_backoff(
	    c->attempts++, RCONN_RETRY_MIN_MS, RCONN_RETRY_MAX_MS), 0);
}

void
rconn_drop(struct rconn *c, const char *what, const char *why)
{
	redisAsyncContext	*ac = c->ac;
	char			*w = why != NULL ? xstrdup(why) : NULL;

	rconn_lost(c, what, w);
	free(w);
	/* Deferred by hiredis when inside one of this context's callbacks. */
	if (ac != NULL)
		redisAsyncFree(ac);
}

void
rconn_watchdog(struct rconn *c, uint64_t now)
{
	char	d[32], why[64];

	if (c->ac == NULL || c->inflight == 0 || now - c->sent_at <= c->limit)
		return;
	util_format_duration(now - c->sent_at, d, sizeof d);
	snprintf(why, sizeof why, "no answer for %s", d);
	rconn_drop(c, "connection stalled", why);
}

static void
rconn_connect_cb(const redisAsyncContext *ac, int status)
{
	struct rconn	*c = ac->data;

	if (c == NULL || c->ac != ac || status == REDIS_OK)
		return;
	/* hiredis frees the context after this callback. */
	rconn_lost(c, "cannot connect", ac->errstr);
}

static void
rconn_disconnect_cb(const redisAsyncContext *ac, int status)
{
	struct rconn	*c = ac->data;

	if (c == NULL || c->ac != ac)
		return;
	rconn_lost(c, "connection lost", ac->errstr[0] != '\0' ?
	    ac->errstr : "closed by the server");
}

/* A reply to AUTH, SELECT or XGROUP CREATE of a new connection. */
static void
rconn_hs_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct rconn	*c = cmd->c;

	if (r == NULL || cmd->gen != c->gen || r->type != REDIS_REPLY_ERROR ||
	    rstream_classify_error(r->str) == RSTREAM_ERR_BUSYGROUP)
		return;
	rconn_drop(c, "refused", r->str);
}

/* The id of the connection in the server, for CLIENT UNBLOCK. */
static void
rconn_id_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct rconn	*c = cmd->c;

	if (r == NULL || cmd->gen != c->gen)
		return;
	if (r->type == REDIS_REPLY_INTEGER)
		c->client_id = r->integer;
}

/* The PING that ends the handshake: the connection is ready. */
static void
rconn_ready_cb(void *arg, struct rconn_cmd *cmd, redisReply *r)
{
	struct rconn	*c = cmd->c;

	if (r == NULL || cmd->gen != c->gen)
		return;
	if (r->type == REDIS_REPLY_ERROR) {
		rconn_drop(c, "refused", r->str);
		return;
	}
	c->up = 1;
	c->attempts = 0;
	if (c->up_fn != NULL)
		c->up_fn(c, c->arg);
}

/*
 * Open c: hiredis queues AUTH, SELECT, the group's creation (harmless
 * when it exists, needed again after a restart that lost the data) and
 * CLIENT ID until the socket is connected, and the final PING says it is
 * usable.
 */
void
rconn_connect(struct rconn *c)
{
	redisAsyncContext	*ac;
	struct rconn_argv	 a;
	char			*why;
	int			 error;

	if (c->ac != NULL || c->closing)
		return;
	(void)uv_timer_stop(&c->retry);
	c->opened = 1;
	if ((ac = redisAsyncConnect(c->ru->host, (int)c->ru->port)) == NULL)
		fatalx("redisAsyncConnect: out of memory");
	if (ac->err != 0) {
		why = xstrdup(ac->errstr);
		redisAsyncFree(ac);
		rconn_lost(c, "cannot connect", why);
		free(why);
		return;
	}
	ac->data = c;
	if ((error = rconn_ev_attach(ac, c->loop)) != 0) {
		redisAsyncFree(ac);
		rconn_lost(c, "cannot connect", uv_strerror(error));
		return;
	}
	(void)redisAsyncSetConnectCallback(ac, rconn_connect_cb);
	(void)redisAsyncSetDisconnectCallback(ac, rconn_disconnect_cb);
	c->ac = ac;
	c->gen++;
	if (c->ru->password != NULL) {
		rconn_argv_init(&a);
		rconn_argv_adds(&a, "AUTH");
		if (c->ru->user != NULL)
			rconn_argv_adds(&a, c->ru->user);
		rconn_argv_adds(&a, c->ru->password);
		(void)rconn_send(c, rconn_hs_cb, c, &a);
		rconn_argv_release(&a);
	}
	if (c->ru->db != 0) {
		rconn_argv_init(&a);
		rconn_argv_adds(&a, "SELECT");
		rconn_argv_addu(&a, c->ru->db);
		(void)rconn_send(c, rconn_hs_cb, c, &a);
		rconn_argv_release(&a);
	}
	if (c->stream != NULL && c->group != NULL) {
		rconn_argv_init(&a);
		rconn_argv_adds(&a, "XGROUP");
		rconn_argv_adds(&a, "CREATE");
		rconn_argv_adds(&a, c->stream);
		rconn_argv_adds(&a, c->group);
		rconn_argv_adds(&a, "0");
		rconn_argv_adds(&a, "MKSTREAM");
		(void)rconn_send(c, rconn_hs_cb, c, &a);
		rconn_argv_release(&a);
	}
	rconn_argv_init(&a);
	rconn_argv_adds(&a, "CLIENT");
	rconn_argv_adds(&a, "ID");
	(void)rconn_send(c, rconn_id_cb, c, &a);
	rconn_argv_release(&a);
	rconn_argv_init(&a);
	rconn_argv_adds(&a, "PING");
	(void)rconn_send(c, rconn_ready_cb, c, &a);
	rconn_argv_release(&a);
}

static void
rconn_closed_cb(uv_handle_t *h)
{
	struct rconn	*c = h->data;

	if (c->closed_fn != NULL)
		c->closed_fn(c->arg);
}

void
rconn_close(struct rconn *c)
{
	redisAsyncContext	*ac;

	if (c->closing)
		return;
	c->closing = 1;
	if ((ac = c->ac) != NULL) {
		c->ac = NULL;
		c->gen++;
		redisAsyncFree(ac);
	}
	uv_close((uv_handle_t *)&c->retry, rconn_closed_cb);
}

/* ---------------------------------------------------- start-up check */

enum {
	RCONN_CHECK_OK,
	RCONN_CHECK_RETRY,
	RCONN_CHECK_FATAL,
};

/* What the start-up check works on. */
struct rconn_check {
	const struct redis_url	*ru;
	const char		*url;
	const char		*stream;
	const char		*group;
};

/* What one reply of the start-up check means; *msg says why if not OK. */
static int
rconn_check_reply(const struct rconn_check *k, redisContext *ctx,
    redisReply *r, const char *doing, char **msg)
{
	if (r == NULL) {
		*msg = xstrdup(ctx->errstr[0] != '\0' ? ctx->errstr :
		    "no reply");
		return RCONN_CHECK_RETRY;
	}
	if (r->type != REDIS_REPLY_ERROR)
		return RCONN_CHECK_OK;
	switch (rstream_classify_error(r->str)) {
	case RSTREAM_ERR_BUSYGROUP:
		return RCONN_CHECK_OK;
	case RSTREAM_ERR_LOADING:
		*msg = xasprintf("%s: %s", doing, r->str);
		return RCONN_CHECK_RETRY;
	case RSTREAM_ERR_AUTH:
		if (k->ru->password != NULL)
			*msg = xasprintf("Redis at %s refused the password: "
			    "%s", k->url, r->str);
		else
			*msg = xasprintf("Redis at %s wants a password (%s): "
			    "give it in the url, as redis://:PASSWORD@HOST",
			    k->url, r->str);
		return RCONN_CHECK_FATAL;
	case RSTREAM_ERR_WRONGTYPE:
		*msg = xasprintf("the key \"%s\" at %s is not a stream",
		    k->stream, k->url);
		return RCONN_CHECK_FATAL;
	default:
		*msg = xasprintf("Redis at %s: %s: %s", k->url, doing, r->str);
		return RCONN_CHECK_FATAL;
	}
}

/* One session of the start-up check: password, database, version, group. */
static int
rconn_check_session(const struct rconn_check *k, redisContext *ctx,
    char **msg)
{
	redisReply	*r;
	unsigned	 major, minor;
	int		 res;

	if (k->ru->password != NULL) {
		if (k->ru->user != NULL)
			r = redisCommand(ctx, "AUTH %s %s", k->ru->user,
			    k->ru->password);
		else
			r = redisCommand(ctx, "AUTH %s", k->ru->password);
		res = rconn_check_reply(k, ctx, r, "AUTH", msg);
		freeReplyObject(r);
		if (res != RCONN_CHECK_OK)
			return res;
	}
	if (k->ru->db != 0) {
		r = redisCommand(ctx, "SELECT %u", k->ru->db);
		res = rconn_check_reply(k, ctx, r, "SELECT", msg);
		freeReplyObject(r);
		if (res != RCONN_CHECK_OK)
			return res;
	}
	r = redisCommand(ctx, "INFO server");
	if ((res = rconn_check_reply(k, ctx, r, "INFO", msg)) != RCONN_CHECK_OK) {
		freeReplyObject(r);
		return res;
	}
	if (r->type == REDIS_REPLY_STRING &&
	    rstream_parse_version(r->str, &major, &minor) == 0 &&
	    !rstream_version_ok(major, minor)) {
		*msg = xasprintf("Redis at %s is version %u.%u; backend: redis "
		    "needs 6.2 or later (XAUTOCLAIM)", k->url, major, minor);
		freeReplyObject(r);
		return RCONN_CHECK_FATAL;
	}
	freeReplyObject(r);
	r = redisCommand(ctx, "XGROUP CREATE %s %s 0 MKSTREAM", k->stream,
	    k->group);
	res = rconn_check_reply(k, ctx, r, "XGROUP CREATE", msg);
	freeReplyObject(r);
	return res;
}

/*
 * At start-up, before any unit runs: connect, blocking, retrying with a
 * backoff until timeout_ms, so that a wrong URL or a server that is down
 * fails the run at once with a clear message rather than pausing
 * producers for ever. A refused password or a wrong key fails at once.
 */
int
rconn_check(const struct redis_url *ru, const char *url, uint64_t timeout_ms,
    const char *stream, const char *group, char **cause)
{
	struct rconn_check	 k = { ru, url, stream, group };
	redisContext		*ctx;
	struct timeval		 tv;
	struct timespec		 ts;
	uint64_t		 start, now, tmo, delay;
	unsigned		 attempt = 0;
	char			*msg = NULL, *last = NULL, d[32];
	int			 res;

	start = uv_hrtime() / 1000000;
	for (;;) {
		now = uv_hrtime() / 1000000;
		tmo = start + timeout_ms > now ?
		    start + timeout_ms - now : 0;
		if (tmo < 1000)
			tmo = 1000;
		if (tmo > 5000)
			tmo = 5000;
		tv.tv_sec = (time_t)(tmo / 1000);
		tv.tv_usec = (suseconds_t)(tmo % 1000) * 1000;
		if ((ctx = redisConnectWithTimeout(ru->host,
		    (int)ru->port, tv)) == NULL)
			fatalx("redisConnectWithTimeout: out of memory");
		if (ctx->err != 0) {
			msg = xstrdup(ctx->errstr);
			res = RCONN_CHECK_RETRY;
		} else {
			(void)redisSetTimeout(ctx, tv);
			res = rconn_check_session(&k, ctx, &msg);
		}
		redisFree(ctx);
		if (res == RCONN_CHECK_OK) {
			free(last);
			return 0;
		}
		if (res == RCONN_CHECK_FATAL) {
			free(last);
			*cause = msg;
			return -1;
		}
		free(last);
		last = msg;
		msg = NULL;
		now = uv_hrtime() / 1000000;
		if (now >= start + timeout_ms)
			break;
		delay = rstream_backoff(attempt++, RCONN_RETRY_MIN_MS, 1000);
		if (delay > start + timeout_ms - now)
			delay = start + timeout_ms - now;
		ts.tv_sec = (time_t)(delay / 1000);
		ts.tv_nsec = (long)(delay % 1000) * 1000000;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	*cause = xasprintf("cannot reach Redis at %s within %s: %s", url,
	    (util_format_duration(timeout_ms, d, sizeof d), d), last);
	free(last);
	return -1;
}

#endif /* HAVE_HIREDIS */
