/*
 * The control socket server: accepts `pytasking-run ctl` connections on
 * the supervisor's loop, checks the peer's uid, parses one request per
 * connection with ctlproto.c and answers through the supervisor's control
 * interface. Every connection has bounded state freed on close; nothing
 * here blocks, so an idle or hostile peer delays nobody. Knows nothing of
 * the client (ctl.c) or of the manifest's file format.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "buf.h"
#include "control.h"
#include "ctlproto.h"
#include "log.h"
#include "supervisor.h"
#include "wire.h"
#include "xmalloc.h"

/* Bytes read per read(2). */
#define CONTROL_READ_CHUNK	(64 * 1024)
/* Connections served at once; more are answered with an error. */
#define CONTROL_MAX_CONNS	64
/* A peer must send its whole request, and read its reply, in this time. */
#define CONTROL_REQUEST_TIMEOUT_MS	10000
/* Unsent reply bytes before a follower that does not read is cut off. */
#define CONTROL_MAX_BACKLOG	(8 * 1024 * 1024)

enum conn_state {
	CONN_VERSION,		/* waiting for the version line */
	CONN_REQUEST,		/* waiting for the request frame */
	CONN_PUT,		/* pushing items; more frames if streaming */
	CONN_GET,		/* waiting for an item */
	CONN_FOLLOW,		/* sending new lines of a unit */
	CONN_SHUTDOWN,		/* answered; held open until we exit */
};

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	struct control		*ctl;
	uv_pipe_t		 pipe;
	uv_timer_t		 timer;
	int			 handles;	/* open handles */
	enum conn_state		 state;
	struct buf		 in;		/* received, not yet parsed */
	struct buf		 out;		/* frames not yet written */
	size_t			 nwrites;	/* writes in flight */
	int			 reading;
	int			 done;		/* final reply sent: close */
	int			 closing;
	int			 doomed;	/* close soon, from the timer */
	char			*queue;		/* put, get */
	struct ctl_msg		 items;		/* put: items being pushed */
	size_t			 next;		/* put: next item in items */
	int			 stream;	/* put: frames of items follow */
	uint64_t		 nput;
	struct wq_waiter	 waiter;
	void			*follow;	/* supervisor_follow token */
};

struct control {
	uv_loop_t		*loop;
	struct supervisor	*sv;
	uv_pipe_t		 listener;
	int			 listening;	/* listener handle open */
	char			*path;		/* absolute */
	char			*rbuf;		/* shared read buffer */
	int			 closing;
	TAILQ_HEAD(, conn)	 conns;
	size_t			 nconns;
};

struct wreq {
	uv_write_t	 req;
	struct conn	*c;
	char		 data[];
};

static void	conn_process(struct conn *);
static void	conn_read_cb(uv_stream_t *, ssize_t, const uv_buf_t *);

/* Free the control once the listener and every connection are closed. */
static void
control_maybe_free(struct control *ctl)
{
	if (!ctl->closing || ctl->listening || !TAILQ_EMPTY(&ctl->conns))
		return;
	free(ctl->path);
	free(ctl->rbuf);
	free(ctl);
}

static void
conn_close_cb(uv_handle_t *h)
{
	struct conn	*c = h->data;
	struct control	*ctl = c->ctl;

	if (--c->handles > 0)
		return;
	TAILQ_REMOVE(&ctl->conns, c, entry);
	ctl->nconns--;
	buf_release(&c->in);
	buf_release(&c->out);
	ctlproto_msg_release(&c->items);
	free(c->queue);
	free(c);
	control_maybe_free(ctl);
}

/*
 * Close a connection now. Only from our own libuv callbacks: a callback
 * of the supervisor's (a follower's line, a queue waiter) uses conn_doom,
 * so the supervisor never sees an unfollow while it calls its followers.
 */
static void
conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	if (c->reading)
		(void)uv_read_stop((uv_stream_t *)&c->pipe);
	c->reading = 0;
	wqueue_unwait(&c->waiter);
	if (c->follow != NULL) {
		supervisor_unfollow(c->ctl->sv, c->follow);
		c->follow = NULL;
	}
	uv_close((uv_handle_t *)&c->pipe, conn_close_cb);
	uv_close((uv_handle_t *)&c->timer, conn_close_cb);
}

static void	conn_fail(struct conn *, const char *);

static void
conn_timer_cb(uv_timer_t *t)
{
	struct conn	*c = t->data;

	if (c->doomed) {
		conn_close(c);
		return;
	}
	/* The request did not arrive in time: a slow or idle peer. */
	log_debug("control: a request timed out");
	conn_fail(c, "timed out waiting for a request");
}

/* Close soon, outside of whatever callback we are in. */
static void
conn_doom(struct conn *c)
{
	if (c->closing)
		return;
	c->doomed = 1;
	(void)uv_timer_start(&c->timer, conn_timer_cb, 0, 0);
}

static void
conn_write_cb(uv_write_t *req, int status)
{
	struct wreq	*w = (struct wreq *)req;
	struct conn	*c = w->c;

	free(w);
	c->nwrites--;
	if (c->closing)
		return;
	if (status < 0) {
		log_debug("control: write: %s", uv_strerror(status));
		conn_close(c);
	} else if (c->done && c->nwrites == 0 && buf_used(&c->out) == 0)
		conn_close(c);
}

/* Write what c->out holds. */
static void
conn_flush(struct conn *c)
{
	struct wreq	*w;
	uv_buf_t	 b;
	size_t		 len = buf_used(&c->out);
	int		 error;

	if (c->closing || len == 0)
		return;
	w = xmalloc(sizeof *w + len);
	w->c = c;
	memcpy(w->data, buf_ptr(&c->out), len);
	buf_clear(&c->out);
	b = uv_buf_init(w->data, (unsigned int)len);
	if ((error = uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1,
	    conn_write_cb)) != 0) {
		log_debug("control: write: %s", uv_strerror(error));
		free(w);
		conn_doom(c);
		return;
	}
	c->nwrites++;
}

/* Send the final reply: the connection closes once it is written. */
static void
conn_finish(struct conn *c, struct ctl_frame *fr)
{
	ctlproto_frame_finish(fr, &c->out);
	c->done = 1;
	if (c->reading)
		(void)uv_read_stop((uv_stream_t *)&c->pipe);
	c->reading = 0;
	wqueue_unwait(&c->waiter);
	/* A peer that never reads its reply does not hold a slot forever. */
	c->doomed = 1;
	(void)uv_timer_start(&c->timer, conn_timer_cb,
	    CONTROL_REQUEST_TIMEOUT_MS, 0);
	conn_flush(c);
}

/* Reply with an error and close. */
static void
conn_fail(struct conn *c, const char *msg)
{
	struct ctl_frame	fr;

	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "err");
	ctlproto_frame_adds(&fr, msg);
	conn_finish(c, &fr);
}

/* Reply with *cause (freed) and close. */
static void
conn_fail_cause(struct conn *c, char *cause)
{
	conn_fail(c, cause != NULL ? cause : "failed");
	free(cause);
}

/* Reply "ok" with an optional unit or queue name and close. */
static void
conn_ok(struct conn *c, const char *key, const char *name)
{
	struct ctl_frame	fr;

	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "ok");
	if (key != NULL)
		ctlproto_frame_strs(&fr, key, name);
	conn_finish(c, &fr);
}

static void
conn_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct conn	*c = h->data;

	*b = uv_buf_init(c->ctl->rbuf, CONTROL_READ_CHUNK);
}

static void
conn_read_start(struct conn *c)
{
	int	error;

	if (c->reading || c->closing || c->done)
		return;
	if ((error = uv_read_start((uv_stream_t *)&c->pipe, conn_alloc_cb,
	    conn_read_cb)) != 0) {
		log_debug("control: read: %s", uv_strerror(error));
		conn_doom(c);
		return;
	}
	c->reading = 1;
}

static void
conn_read_pause(struct conn *c)
{
	if (c->reading)
		(void)uv_read_stop((uv_stream_t *)&c->pipe);
	c->reading = 0;
}

/* One record of a unit. */
static void
frame_unit(struct buf *out, const struct sv_unit_info *u)
{
	struct ctl_frame	fr;

	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "rec");
	ctlproto_frame_adds(&fr, "units");
	ctlproto_frame_strs(&fr, "kind", u->kind);
	ctlproto_frame_strs(&fr, "name", u->name);
	ctlproto_frame_strs(&fr, "state", u->state != NULL ? u->state : "?");
	if (u->pid > 0)
		ctlproto_frame_int(&fr, "pid", u->pid);
	else
		ctlproto_frame_null(&fr, "pid");
	ctlproto_frame_int(&fr, "restarts", (int64_t)u->restarts);
	ctlproto_frame_int(&fr, "uptime_ms", (int64_t)u->uptime_ms);
	if (u->has_ended && u->last_end != NULL) {
		ctlproto_frame_strs(&fr, "last_exit", u->last_end);
		ctlproto_frame_int(&fr, "exit_status", u->last_status);
	} else {
		ctlproto_frame_null(&fr, "last_exit");
		ctlproto_frame_null(&fr, "exit_status");
	}
	ctlproto_frame_finish(&fr, out);
}

/* One line of a unit's output, as a record. */
static void
conn_line_cb(const char *unit, const char *line, size_t len, void *arg)
{
	struct conn		*c = arg;
	struct ctl_frame	 fr;

	if (c->closing || c->doomed || c->done)
		return;
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "rec");
	ctlproto_frame_adds(&fr, "lines");
	ctlproto_frame_strs(&fr, "unit", unit);
	ctlproto_frame_str(&fr, "line", line, len);
	ctlproto_frame_finish(&fr, &c->out);
	if (c->state == CONN_FOLLOW) {
		/* A follower that does not read loses its connection. */
		if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) >
		    CONTROL_MAX_BACKLOG) {
			log_debug("control: a follower does not read: closed");
			conn_doom(c);
			return;
		}
		conn_flush(c);
	}
}

/* get: answer with an item, the end of the stream, or wait for one. */
static void
conn_get(struct conn *c)
{
	struct ctl_frame	 fr;
	struct wqueue		*wq;
	char			*item, *msg;
	size_t			 len;
	int			 r;

	if ((wq = supervisor_queue(c->ctl->sv, c->queue)) == NULL) {
		msg = xasprintf("no such queue: %s", c->queue);
		conn_fail_cause(c, msg);
		return;
	}
	/*
	 * In share mode every subscriber reads the one ring, so subscriber
	 * 0 is ours as much as anyone's. A broadcast queue has a ring per
	 * subscriber and no way to leave: a reader that comes and goes would
	 * leave a ring behind that fills and blocks the producers.
	 */
	if (wqueue_mode(wq) != QUEUE_SHARE) {
		msg = xasprintf("%s is a broadcast queue: get reads share "
		    "queues only", c->queue);
		conn_fail_cause(c, msg);
		return;
	}
	r = wqueue_pop_copy(wq, 0, &item, &len);
	if (r == 1) {
		c->state = CONN_GET;
		wqueue_wait_readable(wq, &c->waiter);
		return;
	}
	ctlproto_frame_init(&fr);
	if (r == 0) {
		ctlproto_frame_adds(&fr, "ok");
		ctlproto_frame_strs(&fr, "queue", c->queue);
		ctlproto_frame_str(&fr, "item", item, len);
		free(item);
	} else {
		msg = xasprintf("end of stream: %s", c->queue);
		ctlproto_frame_adds(&fr, "err");
		ctlproto_frame_adds(&fr, msg);
		ctlproto_frame_strs(&fr, "queue", c->queue);
		ctlproto_frame_bool(&fr, "end", 1);
		free(msg);
	}
	conn_finish(c, &fr);
}

/*
 * put: push the pending items. Returns 1 when waiting for room (reading
 * paused: the client's writes block, which is the back-pressure) or when
 * the reply was sent, 0 when every item is pushed and more may follow.
 */
static int
conn_put_pump(struct conn *c)
{
	struct ctl_frame	 fr;
	struct wqueue		*wq;

	if ((wq = supervisor_queue(c->ctl->sv, c->queue)) == NULL) {
		conn_fail_cause(c, xasprintf("no such queue: %s", c->queue));
		return 1;
	}
	while (c->next < c->items.n) {
		if (wqueue_is_full(wq)) {
			conn_read_pause(c);
			wqueue_wait_writable(wq, &c->waiter);
			return 1;
		}
		(void)wqueue_push(wq, c->items.f[c->next],
		    c->items.len[c->next]);
		c->next++;
		c->nput++;
	}
	ctlproto_msg_release(&c->items);
	c->next = 0;
	if (c->stream)
		return 0;
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "ok");
	ctlproto_frame_strs(&fr, "queue", c->queue);
	ctlproto_frame_int(&fr, "put", (int64_t)c->nput);
	conn_finish(c, &fr);
	return 1;
}

/* A queue this connection waits on may be ready. */
static void
conn_waiter_cb(struct wq_waiter *w)
{
	struct conn	*c = w->arg;

	if (c->closing || c->done)
		return;
	if (c->state == CONN_GET)
		conn_get(c);
	else if (c->state == CONN_PUT)
		conn_process(c);
}

static void
conn_list(struct conn *c)
{
	struct sv_unit_info	*units;
	struct ctl_frame	 fr;
	size_t			 n, i;

	n = supervisor_list(c->ctl->sv, &units);
	for (i = 0; i < n; i++)
		frame_unit(&c->out, &units[i]);
	free(units);
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "ok");
	conn_finish(c, &fr);
}

static void
conn_status(struct conn *c, const char *name)
{
	struct sv_unit_info	*units = NULL;
	struct ctl_frame	 fr;
	char			*cause = NULL;
	size_t			 n = 0, i;

	if (supervisor_status(c->ctl->sv, name, &units, &n, &cause) == -1) {
		conn_fail_cause(c, cause);
		return;
	}
	for (i = 0; i < n; i++)
		frame_unit(&c->out, &units[i]);
	free(units);
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "ok");
	conn_finish(c, &fr);
}

static void
conn_queues(struct conn *c)
{
	const struct queue_counters	*k;
	struct wqueue			**qs;	/* borrowed */
	struct ctl_frame		  fr;
	size_t				  n, i;

	n = supervisor_queues(c->ctl->sv, &qs);
	for (i = 0; i < n; i++) {
		k = wqueue_counters(qs[i]);
		ctlproto_frame_init(&fr);
		ctlproto_frame_adds(&fr, "rec");
		ctlproto_frame_adds(&fr, "queues");
		ctlproto_frame_strs(&fr, "name", wqueue_name(qs[i]));
		ctlproto_frame_strs(&fr, "mode",
		    wqueue_mode(qs[i]) == QUEUE_SHARE ? "share" : "broadcast");
		ctlproto_frame_int(&fr, "in", (int64_t)k->in);
		ctlproto_frame_int(&fr, "out", (int64_t)k->out);
		ctlproto_frame_int(&fr, "redelivered",
		    (int64_t)k->redelivered);
		ctlproto_frame_int(&fr, "dropped", (int64_t)k->dropped);
		ctlproto_frame_int(&fr, "depth", (int64_t)k->depth);
		ctlproto_frame_int(&fr, "high_water", (int64_t)k->high_water);
		ctlproto_frame_finish(&fr, &c->out);
	}
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "ok");
	conn_finish(c, &fr);
}

static void
conn_logs(struct conn *c, const char *name, int follow)
{
	struct ctl_frame	 fr;
	char			*cause = NULL;

	if (supervisor_logs(c->ctl->sv, name, conn_line_cb, c, &cause) == -1) {
		buf_clear(&c->out);
		conn_fail_cause(c, cause);
		return;
	}
	if (!follow) {
		ctlproto_frame_init(&fr);
		ctlproto_frame_adds(&fr, "ok");
		conn_finish(c, &fr);
		return;
	}
	/* The recent lines, then every new one: no gap, both on this turn. */
	c->follow = supervisor_follow(c->ctl->sv, name, conn_line_cb, c,
	    &cause);
	if (c->follow == NULL) {
		buf_clear(&c->out);
		conn_fail_cause(c, cause);
		return;
	}
	c->state = CONN_FOLLOW;
	conn_flush(c);
}

/* Act on a checked request; m is ours (freed or kept for put). */
static void
conn_dispatch(struct conn *c, struct ctl_msg *m, struct ctl_request *req)
{
	struct supervisor	*sv = c->ctl->sv;
	struct sv_proc_add	 add;
	struct ctl_frame	 fr;
	char			*cause = NULL;
	int			 r = 0;

	switch (req->cmd) {
	case CTL_LIST:
		conn_list(c);
		break;
	case CTL_STATUS:
		conn_status(c, req->name);
		break;
	case CTL_START:
		r = supervisor_start_unit(sv, req->name, &cause);
		break;
	case CTL_STOP:
		r = supervisor_stop_unit(sv, req->name, &cause);
		break;
	case CTL_RESTART:
		r = supervisor_restart_unit(sv, req->name, &cause);
		break;
	case CTL_SIGNAL:
		r = supervisor_signal_unit(sv, req->name, req->sig, &cause);
		break;
	case CTL_REMOVE:
		r = supervisor_remove_unit(sv, req->name, &cause);
		break;
	case CTL_ADD_PROC:
		memset(&add, 0, sizeof add);
		add.name = req->name;
		add.argv = req->args;
		add.restart = req->restart;
		add.stdin_queue = req->stdin_queue;
		add.stdout_queue = req->stdout_queue;
		r = supervisor_add_proc(sv, &add, &cause);
		break;
	case CTL_ADD_TASK:
		r = supervisor_add_task(sv, req->name, req->args, req->nargs,
		    &cause);
		break;
	case CTL_PUT:
	case CTL_PUT_STREAM:
		c->queue = xstrdup(req->name);
		c->state = CONN_PUT;
		c->stream = req->cmd == CTL_PUT_STREAM;
		if (supervisor_queue(sv, c->queue) == NULL) {
			conn_fail_cause(c, xasprintf("no such queue: %s",
			    c->queue));
			break;
		}
		if (!c->stream) {
			/* The items are the request's fields from 2 on. */
			c->items = *m;
			memset(m, 0, sizeof *m);
			c->next = 2;
		}
		break;
	case CTL_GET:
		c->queue = xstrdup(req->name);
		conn_get(c);
		break;
	case CTL_QUEUES:
		conn_queues(c);
		break;
	case CTL_LOGS:
	case CTL_FOLLOW:
		conn_logs(c, req->name, req->cmd == CTL_FOLLOW);
		break;
	case CTL_RELOAD:
		r = supervisor_reload(sv, &cause);
		break;
	case CTL_SHUTDOWN:
		/*
		 * Answer now, then hold the connection open: it closes when
		 * we exit, which tells the client that shutdown is complete.
		 */
		ctlproto_frame_init(&fr);
		ctlproto_frame_adds(&fr, "ok");
		ctlproto_frame_finish(&fr, &c->out);
		conn_flush(c);
		c->state = CONN_SHUTDOWN;
		log_info("shutdown requested by pytasking-run ctl");
		supervisor_shutdown(sv);
		break;
	}
	switch (req->cmd) {
	case CTL_START:
	case CTL_STOP:
	case CTL_RESTART:
	case CTL_SIGNAL:
	case CTL_REMOVE:
	case CTL_ADD_PROC:
	case CTL_ADD_TASK:
		if (r == -1)
			conn_fail_cause(c, cause);
		else
			conn_ok(c, "unit", req->name);
		break;
	case CTL_RELOAD:
		if (r == -1)
			conn_fail_cause(c, cause);
		else
			conn_ok(c, NULL, NULL);
		break;
	default:
		break;
	}
	ctlproto_msg_release(m);
}

/* Parse and act on whatever complete input c->in holds. */
static void
conn_process(struct conn *c)
{
	struct ctl_request	 req;
	struct ctl_msg		 m;
	const char		*errstr;
	char			*cause = NULL, *msg;
	unsigned		 version;
	size_t			 used;
	int			 r;

	while (!c->closing && !c->done) {
		switch (c->state) {
		case CONN_VERSION:
			r = ctlproto_version_parse(buf_ptr(&c->in),
			    buf_used(&c->in), &used, &version, &errstr);
			if (r == 0)
				return;
			if (r == -1) {
				msg = xasprintf("malformed request: %s",
				    errstr);
				conn_fail_cause(c, msg);
				return;
			}
			buf_consume(&c->in, used);
			if (version != CTL_VERSION) {
				msg = xasprintf("protocol version mismatch: "
				    "ctl speaks %u, the supervisor speaks %d",
				    version, CTL_VERSION);
				conn_fail_cause(c, msg);
				return;
			}
			c->state = CONN_REQUEST;
			break;
		case CONN_REQUEST:
			r = ctlproto_frame_parse(buf_ptr(&c->in),
			    buf_used(&c->in), &used, &m, &errstr);
			if (r == 0)
				return;
			if (r == -1) {
				msg = xasprintf("malformed request: %s",
				    errstr);
				conn_fail_cause(c, msg);
				return;
			}
			buf_consume(&c->in, used);
			(void)uv_timer_stop(&c->timer);
			if (ctlproto_request_parse(&m, &req, &cause) == -1) {
				ctlproto_msg_release(&m);
				conn_fail_cause(c, cause);
				return;
			}
			conn_dispatch(c, &m, &req);
			break;
		case CONN_PUT:
			if (c->items.n > 0 && conn_put_pump(c))
				return;
			r = ctlproto_frame_parse(buf_ptr(&c->in),
			    buf_used(&c->in), &used, &m, &errstr);
			if (r == 0) {
				conn_read_start(c);
				return;
			}
			if (r == -1) {
				msg = xasprintf("malformed data: %s", errstr);
				conn_fail_cause(c, msg);
				return;
			}
			buf_consume(&c->in, used);
			if (m.n == 0) {
				/* The empty frame ends the stream. */
				c->stream = 0;
				c->items = m;
				(void)conn_put_pump(c);
				return;
			}
			if (ctlproto_items_check(m.f, m.len, m.n,
			    &errstr) == -1) {
				ctlproto_msg_release(&m);
				conn_fail_cause(c, xasprintf("put: %s",
				    errstr));
				return;
			}
			c->items = m;
			c->next = 0;
			break;
		case CONN_GET:
		case CONN_FOLLOW:
			if (buf_used(&c->in) > 0)
				conn_fail(c, "unexpected data after the "
				    "request");
			return;
		case CONN_SHUTDOWN:
			buf_clear(&c->in);
			return;
		}
	}
}

static void
conn_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn	*c = s->data;

	if (c->closing)
		return;
	if (n < 0) {
		c->reading = 0;
		(void)uv_read_stop(s);
		/* A client that half-closed mid-request hears why. */
		if (n == UV_EOF && !c->done && buf_used(&c->in) > 0 &&
		    (c->state == CONN_VERSION || c->state == CONN_REQUEST))
			conn_fail(c, "malformed request: truncated");
		else if (!c->done || c->nwrites == 0)
			conn_close(c);
		return;
	}
	if (n == 0 || c->done)
		return;
	buf_add(&c->in, b->base, (size_t)n);
	conn_process(c);
	conn_flush(c);
}

/* The uid of the peer, from the kernel. */
static int
conn_peer_uid(struct conn *c, uid_t *uid)
{
	uv_os_fd_t	fd;
#ifdef SO_PEERCRED
	struct ucred	cr;
	socklen_t	len = sizeof cr;
#else
	gid_t		gid;
#endif

	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0)
		return -1;
#ifdef SO_PEERCRED
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1)
		return -1;
	*uid = cr.uid;
#else
	if (getpeereid(fd, uid, &gid) == -1)
		return -1;
#endif
	return 0;
}

static void
control_connection_cb(uv_stream_t *server, int status)
{
	struct control	*ctl = server->data;
	struct conn	*c;
	char		*msg;
	uid_t		 uid;
	int		 error;

	if (status < 0) {
		log_warnx("control socket: %s", uv_strerror(status));
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->ctl = ctl;
	buf_init(&c->in);
	buf_init(&c->out);
	c->waiter.fn = conn_waiter_cb;
	c->waiter.arg = c;
	if (uv_pipe_init(ctl->loop, &c->pipe, 0) != 0 ||
	    uv_timer_init(ctl->loop, &c->timer) != 0)
		fatalx("control: cannot initialise a connection");
	c->pipe.data = c->timer.data = c;
	c->handles = 2;
	uv_unref((uv_handle_t *)&c->pipe);
	uv_unref((uv_handle_t *)&c->timer);
	TAILQ_INSERT_TAIL(&ctl->conns, c, entry);
	ctl->nconns++;
	if ((error = uv_accept(server, (uv_stream_t *)&c->pipe)) != 0) {
		log_warnx("control socket: accept: %s", uv_strerror(error));
		conn_close(c);
		return;
	}

	ctlproto_version_add(&c->out);
	if (conn_peer_uid(c, &uid) == -1) {
		conn_fail(c, "permission denied: cannot tell who you are");
		return;
	}
	/* Only our own user and root may drive us. */
	if (uid != geteuid() && uid != 0) {
		log_info("control socket: refused a connection of uid %lu",
		    (unsigned long)uid);
		msg = xasprintf("permission denied: uid %lu may not control "
		    "this supervisor", (unsigned long)uid);
		conn_fail_cause(c, msg);
		return;
	}
	if (ctl->nconns > CONTROL_MAX_CONNS) {
		conn_fail(c, "too many control connections");
		return;
	}
	(void)uv_timer_start(&c->timer, conn_timer_cb,
	    CONTROL_REQUEST_TIMEOUT_MS, 0);
	conn_flush(c);
	conn_read_start(c);
}

/* An existing socket at path: 0 when stale and removed, -1 otherwise. */
static int
control_clear_stale(const char *path, char **cause)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd, r, saved;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		*cause = xasprintf("%s exists and is not a socket", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		*cause = xasprintf("socket: %s", strerror(errno));
		return -1;
	}
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	do
		r = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	while (r == -1 && errno == EINTR);
	saved = errno;
	close(fd);
	if (r == 0) {
		*cause = xasprintf("another supervisor is listening on %s",
		    path);
		return -1;
	}
	if (saved != ECONNREFUSED) {
		*cause = xasprintf("%s: %s", path, strerror(saved));
		return -1;
	}
	/* Nobody listens: a supervisor that died left it behind. */
	if (unlink(path) == -1 && errno != ENOENT) {
		*cause = xasprintf("cannot remove stale %s: %s", path,
		    strerror(errno));
		return -1;
	}
	log_debug("removed stale control socket %s", path);
	return 0;
}

static void
control_listener_close_cb(uv_handle_t *h)
{
	struct control	*ctl = h->data;

	ctl->listening = 0;
	control_maybe_free(ctl);
}

/* path made absolute, for children that run elsewhere. */
static char *
control_abspath(const char *path)
{
	char	cwd[PATH_MAX];

	if (path[0] == '/' || getcwd(cwd, sizeof cwd) == NULL)
		return xstrdup(path);
	return xasprintf("%s/%s", cwd, path);
}

int
control_start(uv_loop_t *loop, struct supervisor *sv, const char *path,
    const char *manifest, struct control **out, char **cause)
{
	struct sockaddr_un	 sun;
	struct control		*ctl;
	char			*def = NULL;
	mode_t			 mask;
	int			 error;

	*out = NULL;
	if (path == NULL) {
		if ((def = ctlproto_default_path(manifest, 1, cause)) == NULL)
			return -1;
		path = def;
	}
	if (strlen(path) >= sizeof sun.sun_path) {
		*cause = xasprintf("socket path too long (%zu bytes, at most "
		    "%zu): %s", strlen(path), sizeof sun.sun_path - 1, path);
		free(def);
		return -1;
	}
	if (control_clear_stale(path, cause) == -1) {
		free(def);
		return -1;
	}

	ctl = xcalloc(1, sizeof *ctl);
	ctl->loop = loop;
	ctl->sv = sv;
	ctl->path = control_abspath(path);
	ctl->rbuf = xmalloc(CONTROL_READ_CHUNK);
	TAILQ_INIT(&ctl->conns);
	if ((error = uv_pipe_init(loop, &ctl->listener, 0)) != 0)
		fatalx("control: uv_pipe_init: %s", uv_strerror(error));
	ctl->listener.data = ctl;
	ctl->listening = 1;

	/* Created 0600 from the start: no window where others may connect. */
	mask = umask(0177);
	error = uv_pipe_bind(&ctl->listener, path);
	(void)umask(mask);
	if (error == 0) {
		(void)chmod(path, 0600);
		error = uv_listen((uv_stream_t *)&ctl->listener, 64,
		    control_connection_cb);
	}
	if (error != 0) {
		*cause = xasprintf("cannot listen on %s: %s", path,
		    uv_strerror(error));
		free(def);
		control_free(ctl);
		return -1;
	}
	uv_unref((uv_handle_t *)&ctl->listener);
	free(def);
	*out = ctl;
	return 0;
}

const char *
control_path(const struct control *ctl)
{
	return ctl->path;
}

void
control_free(struct control *ctl)
{
	struct conn	*c;

	if (ctl == NULL)
		return;
	ctl->closing = 1;
	/*
	 * The socket file goes first (libuv removes the path it bound when
	 * the handle closes), so a client that sees its connection end, as
	 * after shutdown, finds the socket gone too.
	 */
	uv_close((uv_handle_t *)&ctl->listener, control_listener_close_cb);
	TAILQ_FOREACH(c, &ctl->conns, entry)
		conn_close(c);
}
