/*
 * Readiness probes polled on libuv: exec (a command exits 0), tcp (a
 * connect succeeds) and http (GET answers 2xx). One attempt at a time,
 * polling stops at the first success. Knows nothing of units, the
 * supervisor or ready_timeout; proc.c runs the exec probe's command, as
 * its unit, through the chain loader.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <netdb.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chainload.h"
#include "log.h"
#include "proc.h"
#include "ready.h"
#include "util.h"
#include "xmalloc.h"

#define PROBE_DEFAULT_INTERVAL_MS	1000
/* Enough for any status line; an answer without one here is a failure. */
#define PROBE_HTTP_READ_MAX		1024
/* What is kept of a failing exec probe's output: its last bytes, lines. */
#define PROBE_TAIL_MAX			1024
#define PROBE_TAIL_LINES		5

struct probe {
	uv_loop_t		*loop;
	enum ready_kind		 kind;
	uint64_t		 interval_ms;
	char			*unit;
	char			**argv;		/* exec: the command */
	char			**chain;	/* argv under the chain loader, or NULL */
	char			**env;		/* exec; NULL: ours */
	char			*cwd;		/* exec; NULL: ours */
	struct guard		*guard;		/* exec; NULL: none */
	char			*host;		/* tcp, http: without [] */
	char			*port;
	char			*request;	/* http */
	int			 numeric;	/* numeric host and port: sa */
	struct sockaddr_storage	 sa;
	probe_ready_fn		 ready_fn;
	void			*arg;

	uv_timer_t		 timer;		/* the tick: one per interval */
	uv_tcp_t		 tcp;
	uv_connect_t		 connect_req;
	uv_write_t		 write_req;
	uv_getaddrinfo_t	 gai_req;
	struct addrinfo		*ai;		/* from getaddrinfo */
	struct addrinfo		*ai_cur;	/* next address to try */
	struct addrinfo		 num_ai;	/* the numeric address as a list */
	struct proc		*proc;		/* a running exec probe */
	uv_pipe_t		 out;		/* its stdout and stderr */
	int			 out_open;
	int64_t			 exit_status;
	int			 exit_signal;
	char			 tail[PROBE_TAIL_MAX];	/* its last output */
	size_t			 tlen;
	char			 said[PROBE_TAIL_MAX];	/* the tail last logged */
	size_t			 slen;
	char			 rbuf[PROBE_HTTP_READ_MAX];
	size_t			 rlen;

	/* Open handles, a pending getaddrinfo, a running exec probe. */
	int			 refs;
	int			 tcp_open;
	int			 gai_pending;
	int			 busy;		/* an attempt holds resources */
	int			 due;		/* the tick came while busy */
	int			 aborting;	/* the attempt is abandoned */
	int			 try_next;	/* connect failed: next address */
	int			 ready;
	int			 freed;
	int			 last_error;	/* logged once until it changes */
};

static void	probe_attempt_start(struct probe *);
static void	probe_attempt_end(struct probe *);
static void	probe_abort(struct probe *);
static void	probe_succeed(struct probe *);
static void	probe_maybe_free(struct probe *);
static void	probe_timer_cb(uv_timer_t *);
static void	probe_close_cb(uv_handle_t *);
static void	probe_exec_start(struct probe *);
static void	probe_exec_exit_cb(struct proc *, int64_t, int, void *);
static void	probe_exec_settle(struct probe *);
static void	probe_out_alloc_cb(uv_handle_t *, size_t, uv_buf_t *);
static void	probe_out_read_cb(uv_stream_t *, ssize_t, const uv_buf_t *);
static void	probe_out_close(struct probe *);
static void	probe_out_close_cb(uv_handle_t *);
static void	probe_resolve(struct probe *);
static void	probe_gai_cb(uv_getaddrinfo_t *, int, struct addrinfo *);
static void	probe_connect_next(struct probe *);
static int	probe_connect(struct probe *, const struct sockaddr *);
static void	probe_connect_cb(uv_connect_t *, int);
static void	probe_write_cb(uv_write_t *, int);
static void	probe_alloc_cb(uv_handle_t *, size_t, uv_buf_t *);
static void	probe_read_cb(uv_stream_t *, ssize_t, const uv_buf_t *);
static void	probe_http_verdict(struct probe *, int eof);
static void	probe_tcp_close(struct probe *);
static void	probe_tcp_close_cb(uv_handle_t *);

static const char *
probe_kind_name(enum ready_kind kind)
{
	switch (kind) {
	case READY_EXEC:
		return "exec";
	case READY_TCP:
		return "tcp";
	case READY_HTTP:
		return "http";
	default:
		return "?";
	}
}

static char **
probe_copy_strv(char **v)
{
	char	**copy;
	size_t	  i, n;

	if (v == NULL)
		return NULL;
	for (n = 0; v[n] != NULL; n++)
		;
	copy = xcalloc(n + 1, sizeof *copy);
	for (i = 0; i < n; i++)
		copy[i] = xstrdup(v[i]);
	return copy;
}

static void
probe_free_strv(char **v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Does s hold a byte that would break a request line or header? */
static int
probe_has_ctl(const char *s, int space_ok)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f ||
		    (!space_ok && *s == ' '))
			return 1;
	return 0;
}

/* Check the spec and copy what the probe needs; -1 with *why if unfit. */
static int
probe_setup(struct probe *p, const struct ready_spec *r,
    const struct probe_ident *id, const char **why)
{
	const char	*path, *errstr;
	uint64_t	 portnum;
	size_t		 len;
	int		 v6;

	if (r->kind == READY_EXEC) {
		if (r->argv == NULL || r->argv[0] == NULL ||
		    r->argv[0][0] == '\0') {
			*why = "no command";
			return -1;
		}
		/* The unit's limits, umask, user and group, as its process. */
		p->argv = probe_copy_strv(r->argv);
		if (id->ps != NULL)
			p->chain = chainload_argv(p->unit, id->ps, p->argv);
		if (id->ps != NULL && id->ps->cwd != NULL)
			p->cwd = xstrdup(id->ps->cwd);
		p->env = probe_copy_strv(id->env);
		p->guard = id->guard;
		return 0;
	}
	if (r->host == NULL || r->host[0] == '\0') {
		*why = "no host";
		return -1;
	}
	if (probe_has_ctl(r->host, 0)) {
		*why = "bad host";
		return -1;
	}
	len = strlen(r->host);
	if (r->host[0] == '[' && len > 2 && r->host[len - 1] == ']')
		p->host = xstrndup(r->host + 1, len - 2);
	else
		p->host = xstrdup(r->host);
	if (r->port != NULL && r->port[0] != '\0')
		p->port = xstrdup(r->port);
	else if (r->kind == READY_HTTP)
		p->port = xstrdup("80");
	else {
		*why = "no port";
		return -1;
	}
	if (probe_has_ctl(p->port, 0)) {
		*why = "bad port";
		return -1;
	}

	/* A numeric address needs no resolver: connect to it directly. */
	if (util_parse_uint(p->port, 1, 65535, &portnum, &errstr) == 0) {
		if (uv_ip4_addr(p->host, (int)portnum,
		    (struct sockaddr_in *)&p->sa) == 0)
			p->numeric = 1;
		else if (uv_ip6_addr(p->host, (int)portnum,
		    (struct sockaddr_in6 *)&p->sa) == 0)
			p->numeric = 1;
	}
	if (p->numeric) {
		p->num_ai.ai_family = p->sa.ss_family;
		p->num_ai.ai_socktype = SOCK_STREAM;
		p->num_ai.ai_addr = (struct sockaddr *)&p->sa;
		p->num_ai.ai_addrlen = p->sa.ss_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	}

	if (r->kind == READY_HTTP) {
		path = r->path != NULL && r->path[0] != '\0' ? r->path : "/";
		if (path[0] != '/' || probe_has_ctl(path, 0)) {
			*why = "bad path";
			return -1;
		}
		v6 = strchr(p->host, ':') != NULL;
		if (strcmp(p->port, "80") == 0)
			p->request = xasprintf("GET %s HTTP/1.0\r\n"
			    "Host: %s%s%s\r\nConnection: close\r\n\r\n", path,
			    v6 ? "[" : "", p->host, v6 ? "]" : "");
		else
			p->request = xasprintf("GET %s HTTP/1.0\r\n"
			    "Host: %s%s%s:%s\r\nConnection: close\r\n\r\n", path,
			    v6 ? "[" : "", p->host, v6 ? "]" : "", p->port);
	}
	return 0;
}

/* The struct and its copies; the handles are all closed by now. */
static void
probe_release(struct probe *p)
{
	free(p->unit);
	chainload_argv_free(p->chain);
	probe_free_strv(p->argv);
	probe_free_strv(p->env);
	free(p->cwd);
	free(p->host);
	free(p->port);
	free(p->request);
	if (p->ai != NULL)
		uv_freeaddrinfo(p->ai);
	free(p);
}

struct probe *
probe_start(uv_loop_t *loop, const struct ready_spec *r,
    const struct probe_ident *id, probe_ready_fn fn, void *arg)
{
	struct probe	*p;
	const char	*why = NULL;
	int		 error;

	p = xcalloc(1, sizeof *p);
	p->loop = loop;
	p->kind = r->kind;
	p->unit = xstrdup(id->unit != NULL ? id->unit : "?");
	p->interval_ms = r->interval_ms > 0 ? r->interval_ms :
	    PROBE_DEFAULT_INTERVAL_MS;
	p->ready_fn = fn;
	p->arg = arg;
	switch (r->kind) {
	case READY_EXEC:
	case READY_TCP:
	case READY_HTTP:
		if (probe_setup(p, r, id, &why) == 0)
			break;
		log_warnx("%s: ready %s probe: %s", p->unit,
		    probe_kind_name(r->kind), why);
		probe_release(p);
		return NULL;
	default:
		log_warnx("%s: readiness of this kind is not a probe",
		    p->unit);
		probe_release(p);
		return NULL;
	}
	if ((error = uv_timer_init(loop, &p->timer)) != 0) {
		log_warnx("%s: ready probe: timer: %s", p->unit,
		    uv_strerror(error));
		probe_release(p);
		return NULL;
	}
	p->timer.data = p;
	p->refs = 1;
	probe_attempt_start(p);
	return p;
}

int
probe_is_ready(const struct probe *p)
{
	return p->ready;
}

void
probe_free(struct probe *p)
{
	if (p == NULL || p->freed)
		return;
	p->freed = 1;
	p->ready_fn = NULL;
	probe_abort(p);
	if (!uv_is_closing((uv_handle_t *)&p->timer))
		uv_close((uv_handle_t *)&p->timer, probe_close_cb);
}

static void
probe_close_cb(uv_handle_t *h)
{
	struct probe	*p = h->data;

	p->refs--;
	probe_maybe_free(p);
}

static void
probe_maybe_free(struct probe *p)
{
	if (p->freed && p->refs == 0)
		probe_release(p);
}

/* Log a failed attempt: a new kind of error once as a warning. */
static void
probe_failed(struct probe *p, const char *what, int error)
{
	if (error != 0 && error != p->last_error && p->kind == READY_EXEC) {
		p->last_error = error;
		log_warnx("%s: ready probe: %s: %s", p->unit, what,
		    uv_strerror(error));
		return;
	}
	if (error != 0)
		log_debug("%s: ready probe: %s: %s", p->unit, what,
		    uv_strerror(error));
	else
		log_debug("%s: ready probe: %s", p->unit, what);
}

/*
 * One attempt per tick. Each attempt starts the tick timer, so attempts
 * begin every interval; a failure that comes early waits for the tick.
 * The interval is also each attempt's time limit: an attempt still
 * running at the next tick is abandoned (a connect or read in progress is
 * closed, a running exec probe's process group gets SIGKILL), and the
 * next attempt starts as soon as its resources are released, so two
 * attempts never overlap. An exec probe must thus finish within the
 * interval to count.
 */
static void
probe_attempt_start(struct probe *p)
{
	int	error;

	p->busy = 1;
	p->due = 0;
	p->aborting = 0;
	p->try_next = 0;
	error = uv_timer_start(&p->timer, probe_timer_cb, p->interval_ms, 0);
	if (error != 0) {
		/* Without a tick nothing would poll again: say so loudly. */
		log_warnx("%s: ready probe: timer: %s", p->unit,
		    uv_strerror(error));
		p->busy = 0;
		return;
	}
	if (p->kind == READY_EXEC)
		probe_exec_start(p);
	else if (p->numeric) {
		p->ai_cur = &p->num_ai;
		probe_connect_next(p);
	} else
		probe_resolve(p);
}

/* The attempt holds nothing any more; start the next one if it is due. */
static void
probe_attempt_end(struct probe *p)
{
	p->busy = 0;
	if (p->ready || p->freed)
		return;
	if (p->due)
		probe_attempt_start(p);
}

static void
probe_timer_cb(uv_timer_t *t)
{
	struct probe	*p = t->data;

	if (p->ready || p->freed)
		return;
	if (!p->busy) {
		probe_attempt_start(p);
		return;
	}
	log_debug("%s: ready probe: no answer within %" PRIu64 "ms",
	    p->unit, p->interval_ms);
	p->due = 1;
	probe_abort(p);
}

/* Abandon the running attempt; its release ends it. */
static void
probe_abort(struct probe *p)
{
	p->aborting = 1;
	if (p->gai_pending)
		(void)uv_cancel((uv_req_t *)&p->gai_req);
	if (p->tcp_open)
		probe_tcp_close(p);
	if (p->proc != NULL)
		proc_kill_now(p->proc);
	if (p->out_open)
		probe_out_close(p);
}

/* Stop polling, then tell the owner (who may free the probe). */
static void
probe_succeed(struct probe *p)
{
	p->ready = 1;
	(void)uv_timer_stop(&p->timer);
	if (p->tcp_open)
		probe_tcp_close(p);
	log_debug("%s: ready probe succeeded", p->unit);
	if (p->ready_fn != NULL)
		p->ready_fn(p->arg);
}

/*
 * exec: run the command in its own group as its unit, stdin on
 * /dev/null, stdout and stderr into one pipe whose last bytes we keep.
 * The attempt ends when the command exited and the pipe is closed (at
 * its end, or at the abort of an attempt that outlived the interval,
 * which also covers a grandchild that keeps the pipe open).
 */
static void
probe_exec_start(struct probe *p)
{
	struct proc_spawn_args	 a;
	int			 fd, pfd[2], error;

	if ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s: ready probe: /dev/null", p->unit);
		probe_attempt_end(p);
		return;
	}
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		log_warn("%s: ready probe: pipe", p->unit);
		(void)close(fd);
		probe_attempt_end(p);
		return;
	}
	if ((error = uv_pipe_init(p->loop, &p->out, 0)) != 0) {
		(void)close(pfd[0]);
		(void)close(pfd[1]);
		(void)close(fd);
		probe_failed(p, "pipe", error);
		probe_attempt_end(p);
		return;
	}
	if ((error = uv_pipe_open(&p->out, pfd[0])) != 0) {
		(void)close(pfd[0]);
		(void)close(pfd[1]);
		(void)close(fd);
		probe_failed(p, "pipe", error);
		/* The handle is initialised: its close ends the attempt. */
		p->out.data = p;
		p->out_open = 1;
		p->refs++;
		p->exit_status = -1;
		p->exit_signal = 0;
		probe_out_close(p);
		return;
	}
	p->out.data = p;
	p->out_open = 1;
	p->refs++;
	p->tlen = 0;
	memset(&a, 0, sizeof a);
	a.argv = p->chain != NULL ? p->chain : p->argv;
	a.file = a.argv[0];
	a.env = p->env;
	a.cwd = p->cwd;
	a.guard = p->guard;
	a.fds[0] = fd;
	a.fds[1] = a.fds[2] = pfd[1];
	a.extra_fd = -1;
	a.exit_fn = probe_exec_exit_cb;
	a.arg = p;
	error = proc_spawn(p->loop, &a, &p->proc);
	(void)close(fd);
	(void)close(pfd[1]);
	if (error != 0) {
		p->proc = NULL;
		probe_failed(p, p->argv[0], error);
		/* The attempt ends when the pipe is closed. */
		p->exit_status = -1;
		p->exit_signal = 0;
		probe_out_close(p);
		return;
	}
	p->refs++;
	if ((error = uv_read_start((uv_stream_t *)&p->out, probe_out_alloc_cb,
	    probe_out_read_cb)) != 0) {
		probe_failed(p, "pipe", error);
		probe_out_close(p);
	}
}

static void
probe_exec_exit_cb(struct proc *proc, int64_t status, int sig, void *arg)
{
	struct probe	*p = arg;

	/* A probe leaves nothing behind: its group goes with it. */
	proc_kill_now(proc);
	proc_free(proc);
	p->proc = NULL;
	p->refs--;
	p->exit_status = status;
	p->exit_signal = sig;
	probe_exec_settle(p);
}

/*
 * With -v, log a failed attempt's last PROBE_TAIL_LINES lines of output,
 * one message each, when they differ from what the previous failure said
 * (a probe polled every 50ms that says the same thing says it once).
 */
static void
probe_log_tail(struct probe *p, const char *how)
{
	const char	*s = p->tail, *end = p->tail + p->tlen, *nl;
	size_t		 lines = 0;

	if (p->tlen == 0 || log_verbose() < 1)
		return;
	if (p->tlen == p->slen && memcmp(p->tail, p->said, p->tlen) == 0)
		return;
	memcpy(p->said, p->tail, p->tlen);
	p->slen = p->tlen;
	log_info("%s: ready probe %s; its last output:", p->unit, how);
	if (end[-1] == '\n')
		end--;
	for (nl = end; nl > s; nl--)
		if (nl[-1] == '\n' && ++lines == PROBE_TAIL_LINES)
			break;
	s = nl;
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL)
			nl = end;
		log_info("%s: ready probe output: %.*s", p->unit,
		    (int)(nl - s), s);
		s = nl + 1;
	}
}

/* Both the exit and the pipe's close are in: judge the attempt. */
static void
probe_exec_settle(struct probe *p)
{
	char	name[16], how[48];

	if (p->proc != NULL || p->out_open)
		return;
	if (p->freed) {
		probe_maybe_free(p);
		return;
	}
	if (!p->aborting && p->exit_signal == 0 && p->exit_status == 0) {
		p->busy = 0;
		probe_succeed(p);
		return;
	}
	if (p->aborting)
		snprintf(how, sizeof how, "killed");
	else if (p->exit_signal != 0)
		snprintf(how, sizeof how, "died of SIG%s",
		    util_signal_name(p->exit_signal, name, sizeof name));
	else
		snprintf(how, sizeof how, "exited %" PRId64, p->exit_status);
	if (p->exit_status != -1 || p->aborting) {
		log_debug("%s: ready probe %s", p->unit, how);
		probe_log_tail(p, how);
	}
	probe_attempt_end(p);
}

static void
probe_out_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct probe	*p = h->data;

	*b = uv_buf_init(p->rbuf, sizeof p->rbuf);
}

/* Keep the last PROBE_TAIL_MAX bytes; the end closes the pipe. */
static void
probe_out_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct probe	*p = s->data;
	size_t		 len, keep;

	if (n < 0) {
		probe_out_close(p);
		return;
	}
	len = (size_t)n;
	if (len >= sizeof p->tail) {
		memcpy(p->tail, b->base + len - sizeof p->tail,
		    sizeof p->tail);
		p->tlen = sizeof p->tail;
		return;
	}
	if (p->tlen + len > sizeof p->tail) {
		keep = sizeof p->tail - len;
		memmove(p->tail, p->tail + p->tlen - keep, keep);
		p->tlen = keep;
	}
	memcpy(p->tail + p->tlen, b->base, len);
	p->tlen += len;
}

static void
probe_out_close(struct probe *p)
{
	if (!uv_is_closing((uv_handle_t *)&p->out))
		uv_close((uv_handle_t *)&p->out, probe_out_close_cb);
}

static void
probe_out_close_cb(uv_handle_t *h)
{
	struct probe	*p = h->data;

	p->out_open = 0;
	p->refs--;
	probe_exec_settle(p);
}

/* tcp, http by name: resolve on each attempt (addresses may change). */
static void
probe_resolve(struct probe *p)
{
	struct addrinfo	hints;
	int		error;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	error = uv_getaddrinfo(p->loop, &p->gai_req, probe_gai_cb, p->host,
	    p->port, &hints);
	if (error != 0) {
		probe_failed(p, p->host, error);
		probe_attempt_end(p);
		return;
	}
	p->gai_req.data = p;
	p->gai_pending = 1;
	p->refs++;
}

static void
probe_gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct probe	*p = req->data;

	p->gai_pending = 0;
	p->refs--;
	if (p->freed || p->aborting || status != 0) {
		if (res != NULL)
			uv_freeaddrinfo(res);
		if (p->freed) {
			probe_maybe_free(p);
			return;
		}
		if (status != 0 && status != UV_EAI_CANCELED)
			probe_failed(p, p->host, status);
		probe_attempt_end(p);
		return;
	}
	p->ai = res;
	p->ai_cur = res;
	probe_connect_next(p);
}

/*
 * Try the addresses in turn within one attempt ("localhost" may give ::1
 * first to a server listening on 127.0.0.1 only); the attempt ends with
 * the first connection or when none is left.
 */
static void
probe_connect_next(struct probe *p)
{
	const struct addrinfo	*ai;

	while ((ai = p->ai_cur) != NULL && !p->aborting) {
		p->ai_cur = ai->ai_next;
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (probe_connect(p, ai->ai_addr) == 0)
			return;
	}
	if (p->ai != NULL) {
		uv_freeaddrinfo(p->ai);
		p->ai = NULL;
	}
	p->ai_cur = NULL;
	probe_attempt_end(p);
}

/* Open the socket and connect: 0 when the attempt goes on in callbacks. */
static int
probe_connect(struct probe *p, const struct sockaddr *sa)
{
	int	error;

	p->rlen = 0;
	if ((error = uv_tcp_init(p->loop, &p->tcp)) != 0) {
		probe_failed(p, "socket", error);
		return error;
	}
	p->tcp.data = p;
	p->tcp_open = 1;
	p->refs++;
	error = uv_tcp_connect(&p->connect_req, &p->tcp, sa, probe_connect_cb);
	if (error != 0) {
		probe_failed(p, "connect", error);
		p->try_next = 1;
		probe_tcp_close(p);
	}
	return 0;
}

static void
probe_connect_cb(uv_connect_t *req, int status)
{
	struct probe	*p = req->handle->data;
	uv_buf_t	 b;
	int		 error;

	/* Cancelled: the handle is closing, its close callback goes on. */
	if (status == UV_ECANCELED || uv_is_closing((uv_handle_t *)&p->tcp))
		return;
	if (status != 0) {
		probe_failed(p, "connect", status);
		p->try_next = 1;
		probe_tcp_close(p);
		return;
	}
	if (p->kind == READY_TCP) {
		probe_succeed(p);
		return;
	}
	b = uv_buf_init(p->request, (unsigned int)strlen(p->request));
	error = uv_write(&p->write_req, (uv_stream_t *)&p->tcp, &b, 1,
	    probe_write_cb);
	if (error == 0)
		error = uv_read_start((uv_stream_t *)&p->tcp, probe_alloc_cb,
		    probe_read_cb);
	if (error != 0) {
		probe_failed(p, "send", error);
		probe_tcp_close(p);
	}
}

static void
probe_write_cb(uv_write_t *req, int status)
{
	struct probe	*p = req->handle->data;

	if (status == UV_ECANCELED || uv_is_closing((uv_handle_t *)&p->tcp))
		return;
	if (status != 0) {
		probe_failed(p, "send", status);
		probe_tcp_close(p);
	}
}

static void
probe_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct probe	*p = h->data;

	*b = uv_buf_init(p->rbuf + p->rlen,
	    (unsigned int)(sizeof p->rbuf - p->rlen));
}

static void
probe_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct probe	*p = s->data;

	if (uv_is_closing((uv_handle_t *)s))
		return;
	if (n == UV_EOF) {
		probe_http_verdict(p, 1);
		return;
	}
	if (n < 0) {
		probe_failed(p, "receive", (int)n);
		probe_tcp_close(p);
		return;
	}
	p->rlen += (size_t)n;
	probe_http_verdict(p, 0);
}

/*
 * Judge the status line once it is complete (or the answer ended or
 * filled the buffer): "HTTP/1.x 2xx" means ready.
 */
static void
probe_http_verdict(struct probe *p, int eof)
{
	const char	*s = p->rbuf;
	size_t		 n = p->rlen;

	if (memchr(s, '\n', n) == NULL && !eof && n < sizeof p->rbuf)
		return;
	if (n >= 12 && memcmp(s, "HTTP/1.", 7) == 0 &&
	    s[7] >= '0' && s[7] <= '9' && s[8] == ' ' && s[9] == '2' &&
	    s[10] >= '0' && s[10] <= '9' && s[11] >= '0' && s[11] <= '9' &&
	    (n == 12 || s[12] == ' ' || s[12] == '\r' || s[12] == '\n')) {
		probe_succeed(p);
		return;
	}
	if (n >= 12 && memcmp(s, "HTTP/1.", 7) == 0)
		log_debug("%s: ready probe: answer %.3s", p->unit, s + 9);
	else
		log_debug("%s: ready probe: no HTTP/1 status line", p->unit);
	probe_tcp_close(p);
}

static void
probe_tcp_close(struct probe *p)
{
	if (!uv_is_closing((uv_handle_t *)&p->tcp))
		uv_close((uv_handle_t *)&p->tcp, probe_tcp_close_cb);
}

/*
 * The socket is closed and its requests were called back: a failed
 * connect tries the next address, anything else ends the attempt.
 */
static void
probe_tcp_close_cb(uv_handle_t *h)
{
	struct probe	*p = h->data;

	p->tcp_open = 0;
	p->refs--;
	if (p->freed) {
		probe_maybe_free(p);
		return;
	}
	if (p->ready) {
		p->busy = 0;
		return;
	}
	if (p->try_next && !p->aborting) {
		p->try_next = 0;
		probe_connect_next(p);
		return;
	}
	if (p->ai != NULL) {
		uv_freeaddrinfo(p->ai);
		p->ai = NULL;
	}
	p->ai_cur = NULL;
	probe_attempt_end(p);
}
