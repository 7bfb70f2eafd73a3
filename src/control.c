/*
 * The control socket's transport: listens on the supervisor's loop,
 * accepts `pytasking-run ctl` connections, checks the peer's uid and the
 * version line, cuts the input into frames (ctlproto.c) and writes the
 * replies, one write in flight per connection. Each complete frame (the
 * request, then a put stream's frames of items) goes up through the one
 * entry point given to control_listen; what a request does is the
 * commands' (control-cmds.c). Every connection has bounded state freed on
 * close, including what a command holds of the supervisor (a get's item,
 * a follow, a wait); nothing here blocks, so an idle or hostile peer
 * delays nobody. Knows nothing of the client (ctl.c) or of the manifest's
 * file format.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "buf.h"
#include "control.h"
#include "control-int.h"
#include "ctlproto.h"
#include "log.h"
#include "supervisor.h"
#include "util.h"
#include "wire.h"
#include "xmalloc.h"

/* Bytes read per read(2). */
#define CONTROL_READ_CHUNK	(64 * 1024)
/* Connections served at once; more are answered with an error. */
#define CONTROL_MAX_CONNS	64
/*
 * Of those, how many may wait (a get or a put waiting on a queue, a
 * follower): the rest are kept for new requests, so clients that wait
 * can never take the socket away from list, stop or shutdown.
 */
#define CONTROL_MAX_WAITING	48
/* How often a put paused for room looks whether its client is gone. */
#define CONTROL_HANGUP_CHECK_MS	200
/* A peer must send its whole request, and read its reply, in this time. */
#define CONTROL_REQUEST_TIMEOUT_MS	10000

struct wreq {
	uv_write_t	 req;
	struct conn	*c;
	char		 data[];
};

static void	conn_read_cb(uv_stream_t *, ssize_t, const uv_buf_t *);
static void	conn_timer_cb(uv_timer_t *);

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
	free(c->held);
	free(c);
	control_maybe_free(ctl);
}

/*
 * Close a connection now. Only from our own libuv callbacks: a callback
 * of the supervisor's (a follower's line, a queue waiter) uses conn_doom,
 * so the supervisor never sees an unfollow while it calls its followers.
 */
/*
 * A get's item whose reply was not delivered (the write failed, or the
 * connection closed before it was written) goes back to the queue's head.
 */
static void
conn_put_back(struct conn *c)
{
	struct wqueue	*wq;

	if (c->held == NULL)
		return;
	wq = c->queue != NULL ? supervisor_queue(c->ctl->sv, c->queue) : NULL;
	if (wq != NULL && wqueue_unpop(wq, 0, c->held, c->held_len) == 0)
		log_debug("control: get: reply not delivered; the item went "
		    "back to %s", c->queue);
	else
		log_warnx("control: get: reply not delivered; an item of %s "
		    "is lost", c->queue != NULL ? c->queue : "?");
	free(c->held);
	c->held = NULL;
}

/* Count c among the waiting connections; -1 (c answered) if full. */
/* Count c among the waiting connections if there is room: 0, or -1. */
static int
conn_wait_try(struct conn *c)
{
	if (c->waiting)
		return 0;
	if (c->ctl->nwaiting >= CONTROL_MAX_WAITING)
		return -1;
	c->waiting = 1;
	c->ctl->nwaiting++;
	return 0;
}

int
conn_wait_begin(struct conn *c)
{
	if (conn_wait_try(c) == -1) {
		conn_fail_cause(c, xasprintf("too many control connections "
		    "waiting (%d): try again later", CONTROL_MAX_WAITING));
		return -1;
	}
	return 0;
}

void
conn_wait_end(struct conn *c)
{
	if (!c->waiting)
		return;
	c->waiting = 0;
	c->ctl->nwaiting--;
}

static void
conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	conn_wait_end(c);
	conn_put_back(c);
	if (c->reading)
		(void)uv_read_stop((uv_stream_t *)&c->pipe);
	c->reading = 0;
	wqueue_unwait(&c->waiter);
	if (c->follow != NULL) {
		supervisor_unfollow(c->ctl->sv, c->follow);
		c->follow = NULL;
	}
	if (c->wait != NULL) {
		supervisor_wait_cancel(c->ctl->sv, c->wait);
		c->wait = NULL;
	}
	uv_close((uv_handle_t *)&c->pipe, conn_close_cb);
	uv_close((uv_handle_t *)&c->timer, conn_close_cb);
}

static void	conn_fail(struct conn *, const char *);

/*
 * Has the peer closed its end? A put paused for room does not read (that
 * is the back-pressure), so its end of file would not be seen until
 * room came: poll(2) says it now, without reading.
 */
static int
conn_is_hung_up(struct conn *c)
{
	struct pollfd	pfd;
	uv_os_fd_t	fd;

	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0)
		return 1;
	pfd.fd = fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == -1)
		return 0;
	return (pfd.revents & (POLLHUP | POLLERR)) != 0;
}

/* While a put waits for room, look every so often whether its peer left. */
void
conn_watch_hangup(struct conn *c)
{
	int	error;

	if (c->closing || c->done)
		return;
	/* Without it, the hang-up is seen once room comes: said, no more. */
	if ((error = uv_timer_start(&c->timer, conn_timer_cb,
	    CONTROL_HANGUP_CHECK_MS, CONTROL_HANGUP_CHECK_MS)) != 0)
		log_debug("control: hang-up watch: %s", uv_strerror(error));
}

static void
conn_timer_cb(uv_timer_t *t)
{
	struct conn	*c = t->data;

	if (c->doomed) {
		conn_close(c);
		return;
	}
	if (c->state == CONN_ACK) {
		log_debug("control: get: no ack in time; the item goes back "
		    "to %s", c->queue);
		conn_close(c);
		return;
	}
	if (c->state == CONN_PUT) {
		if (c->reading) {
			(void)uv_timer_stop(&c->timer);
			return;
		}
		if (conn_is_hung_up(c)) {
			log_debug("control: a put's client left while it "
			    "waited for room (%llu items put)",
			    (unsigned long long)c->nput);
			conn_close(c);
		}
		return;
	}
	/* The request did not arrive in time: a slow or idle peer. */
	log_debug("control: a request timed out");
	conn_fail(c, "timed out waiting for a request");
}

/* Close soon, outside of whatever callback we are in. */
void
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
	c->inflight = 0;
	if (c->closing)
		return;
	if (status < 0) {
		log_debug("control: write: %s", uv_strerror(status));
		conn_close(c);
		return;
	}
	if (buf_used(&c->out) > 0) {
		conn_flush(c);
		return;
	}
	if (c->done) {
		/* Written to the socket: a get's item is delivered. */
		free(c->held);
		c->held = NULL;
		conn_close(c);
	}
}

/*
 * What a connection's unsent output costs: the buffer as allocated and
 * the write in flight (one at a time, so a follower's lines are one
 * write, not one request each).
 */
size_t
conn_backlog(const struct conn *c)
{
	return c->out.cap + c->inflight;
}

/*
 * Write what c->out holds, as one write; with one in flight already, its
 * callback writes the rest. A large buffer is given back once emptied.
 */
void
conn_flush(struct conn *c)
{
	struct wreq	*w;
	uv_buf_t	 b;
	size_t		 len = buf_used(&c->out);
	int		 error;

	if (c->closing || len == 0 || c->nwrites > 0)
		return;
	w = xmalloc(sizeof *w + len);
	w->c = c;
	memcpy(w->data, buf_ptr(&c->out), len);
	if (c->out.cap > CONTROL_READ_CHUNK)
		buf_release(&c->out);
	else
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
	c->inflight = len;
}

/* Send the final reply: the connection closes once it is written. */
void
conn_finish(struct conn *c, struct ctl_frame *fr)
{
	ctlproto_frame_finish(fr, &c->out);
	c->done = 1;
	conn_wait_end(c);
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

/*
 * Send a get-ack's item (held in c->held) and read on: the client's
 * "ack" lets go of it (conn_process); anything else puts it back. No
 * timer: the client may be slow to pass the item on, as a consumer
 * holding its prefetch is; the connection counts as waiting instead.
 * When every waiting place is taken, the item is served all the same
 * (as a plain get's would be) and held for the request timeout only, so
 * that holders cannot take the socket's last connections for ever.
 */
void
conn_hold(struct conn *c, struct ctl_frame *fr)
{
	int	error;

	ctlproto_frame_finish(fr, &c->out);
	c->state = CONN_ACK;
	wqueue_unwait(&c->waiter);
	if (conn_wait_try(c) == -1 && (error = uv_timer_start(&c->timer,
	    conn_timer_cb, CONTROL_REQUEST_TIMEOUT_MS, 0)) != 0)
		log_debug("control: ack timer: %s", uv_strerror(error));
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
void
conn_fail_cause(struct conn *c, char *cause)
{
	conn_fail(c, cause != NULL ? cause : "failed");
	free(cause);
}

/* Reply "ok" with an optional unit or queue name and close. */
void
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

void
conn_read_pause(struct conn *c)
{
	if (c->reading)
		(void)uv_read_stop((uv_stream_t *)&c->pipe);
	c->reading = 0;
}

/* Parse and act on whatever complete input c->in holds. */
void
conn_process(struct conn *c)
{
	struct ctl_msg		 m;
	const char		*errstr;
	char			*msg;
	unsigned		 version;
	size_t			 used;
	int			 r, acked;

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
			if (c->ctl->dispatch(c, &m))
				return;
			break;
		case CONN_PUT:
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
			if (c->ctl->dispatch(c, &m))
				return;
			break;
		case CONN_ACK:
			r = ctlproto_frame_parse(buf_ptr(&c->in),
			    buf_used(&c->in), &used, &m, &errstr);
			if (r == 0)
				return;
			if (r == 1) {
				buf_consume(&c->in, used);
				acked = ctlproto_is_ack(&m);
				ctlproto_msg_release(&m);
				if (acked) {
					/* The client has it: delivered. */
					free(c->held);
					c->held = NULL;
					conn_close(c);
					return;
				}
			}
			conn_put_back(c);
			conn_fail(c, r == -1 ? "get: malformed ack; the item "
			    "went back to the queue" : "get: expected ack; the "
			    "item went back to the queue");
			return;
		case CONN_GET:
		case CONN_GET_ACK:
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
		else if (n == UV_EOF && !c->done && c->state == CONN_PUT &&
		    c->stream)
			/* The stream ended without its end frame. */
			conn_fail_cause(c, xasprintf("put: the stream was cut "
			    "%s; %llu items were put",
			    buf_used(&c->in) > 0 ? "in the middle of a frame" :
			    "before its end", (unsigned long long)c->nput));
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
	struct stat	st;
	int		fd;

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
	if ((fd = util_connect_unix(path)) != -1) {
		(void)close(fd);
		*cause = xasprintf("another supervisor is listening on %s",
		    path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
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
control_listen(uv_loop_t *loop, struct supervisor *sv, const char *path,
    const char *manifest, int (*dispatch)(struct conn *, struct ctl_msg *),
    struct control **out, char **cause)
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
	ctl->dispatch = dispatch;
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
control_end_gets(struct control *ctl)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &ctl->conns, entry)
		if (c->held != NULL)
			conn_close(c);
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
