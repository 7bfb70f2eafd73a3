/*
 * Unit tests for ready.c on a real libuv loop: tcp probes against a
 * listener of the test, http probes against a tiny in-test responder,
 * exec probes with sh and false. Every test closes all its handles and
 * checks uv_loop_close.
 */
#include "config.h"

#include <sys/stat.h>

#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <uv.h>

#include "ready.h"
#include "xmalloc.h"

/* Hard upper bound for anything the tests wait for. */
#define WAIT_MS		10000

struct ctx {
	struct probe	*p;
	int		 ready;
	int		 free_in_cb;
};

static void
ready_cb(void *arg)
{
	struct ctx	*c = arg;

	c->ready++;
	if (c->free_in_cb) {
		probe_free(c->p);
		c->p = NULL;
	}
}

/* ---------------------------------------------------------------- loop */

static void
guard_cb(uv_timer_t *t)
{
	int	*expired = t->data;

	*expired = 1;
	uv_stop(t->loop);
}

static void
guard_close_cb(uv_handle_t *h)
{
	int	*closed = h->data;

	*closed = 1;
}

/* Close the guard timer and wait for its close callback. */
static void
guard_close(uv_timer_t *t, int *closed)
{
	*closed = 0;
	t->data = closed;
	uv_close((uv_handle_t *)t, guard_close_cb);
	while (!*closed)
		assert_true(uv_run(t->loop, UV_RUN_NOWAIT) >= 0);
}

/* Run the loop until *counter >= min or ms pass; did it get there? */
static int
run_until(uv_loop_t *loop, const int *counter, int min, uint64_t ms)
{
	uv_timer_t	t;
	int		expired = 0, closed;

	assert_int_equal(uv_timer_init(loop, &t), 0);
	t.data = &expired;
	assert_int_equal(uv_timer_start(&t, guard_cb, ms, 0), 0);
	while (*counter < min && !expired)
		(void)uv_run(loop, UV_RUN_ONCE);
	guard_close(&t, &closed);
	return *counter >= min;
}

/* Everything was asked to close: let the loop finish, then close it. */
static void
finish(uv_loop_t *loop)
{
	uv_timer_t	t;
	int		expired = 0, closed;

	assert_int_equal(uv_timer_init(loop, &t), 0);
	t.data = &expired;
	assert_int_equal(uv_timer_start(&t, guard_cb, WAIT_MS, 0), 0);
	uv_unref((uv_handle_t *)&t);
	(void)uv_run(loop, UV_RUN_DEFAULT);
	guard_close(&t, &closed);
	assert_false(expired);
	assert_int_equal(uv_loop_close(loop), 0);
}

/* ---------------------------------------------------------------- server */

struct server;

struct conn {
	uv_tcp_t	 h;
	uv_write_t	 w;
	struct server	*srv;
	struct conn	*next;
	char		 buf[1024];
	size_t		 len;
	int		 answered;
	int		 closing;
};

/* A listener; with an answer, a one-shot HTTP responder. */
struct server {
	uv_loop_t	*loop;
	uv_tcp_t	 listener;
	int		 port;
	const char	*answer;	/* NULL: accept and close */
	int		 nconn;
	int		 nserved;
	char		 request[1024];
	struct conn	*conns;
};

static void
conn_close_cb(uv_handle_t *h)
{
	struct conn	*c = h->data;
	struct conn	**pp;

	for (pp = &c->srv->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	free(c);
}

static void
conn_close(struct conn *c)
{
	if (!c->closing) {
		c->closing = 1;
		uv_close((uv_handle_t *)&c->h, conn_close_cb);
	}
}

static void
conn_write_cb(uv_write_t *w, int status)
{
	struct conn	*c = w->data;

	if (status == 0)
		c->srv->nserved++;
	conn_close(c);
}

static void
conn_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct conn	*c = h->data;

	*b = uv_buf_init(c->buf + c->len,
	    (unsigned int)(sizeof c->buf - 1 - c->len));
}

static void
conn_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn	*c = s->data;
	uv_buf_t	 out;

	if (n < 0 || c->len + (size_t)n >= sizeof c->buf - 1) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	if (c->answered || strstr(c->buf, "\r\n\r\n") == NULL)
		return;
	c->answered = 1;
	snprintf(c->srv->request, sizeof c->srv->request, "%s", c->buf);
	(void)uv_read_stop(s);
	out = uv_buf_init((char *)c->srv->answer,
	    (unsigned int)strlen(c->srv->answer));
	c->w.data = c;
	if (uv_write(&c->w, s, &out, 1, conn_write_cb) != 0)
		conn_close(c);
}

static void
server_conn_cb(uv_stream_t *l, int status)
{
	struct server	*srv = l->data;
	struct conn	*c;

	assert_int_equal(status, 0);
	c = calloc(1, sizeof *c);
	assert_non_null(c);
	c->srv = srv;
	assert_int_equal(uv_tcp_init(srv->loop, &c->h), 0);
	c->h.data = c;
	c->next = srv->conns;
	srv->conns = c;
	assert_int_equal(uv_accept(l, (uv_stream_t *)&c->h), 0);
	srv->nconn++;
	if (srv->answer == NULL)
		conn_close(c);
	else
		assert_int_equal(uv_read_start((uv_stream_t *)&c->h,
		    conn_alloc_cb, conn_read_cb), 0);
}

/* Listen on ip:port (0: any free port); -1 if the address is unusable. */
static int
server_start(uv_loop_t *loop, struct server *srv, const char *ip, int port,
    const char *answer)
{
	struct sockaddr_storage	ss;
	int			len = sizeof ss;

	memset(srv, 0, sizeof *srv);
	srv->loop = loop;
	srv->answer = answer;
	if (strchr(ip, ':') != NULL)
		assert_int_equal(uv_ip6_addr(ip, port,
		    (struct sockaddr_in6 *)&ss), 0);
	else
		assert_int_equal(uv_ip4_addr(ip, port,
		    (struct sockaddr_in *)&ss), 0);
	assert_int_equal(uv_tcp_init(loop, &srv->listener), 0);
	srv->listener.data = srv;
	if (uv_tcp_bind(&srv->listener, (struct sockaddr *)&ss, 0) != 0 ||
	    uv_listen((uv_stream_t *)&srv->listener, 16,
	    server_conn_cb) != 0) {
		uv_close((uv_handle_t *)&srv->listener, NULL);
		return -1;
	}
	assert_int_equal(uv_tcp_getsockname(&srv->listener,
	    (struct sockaddr *)&ss, &len), 0);
	srv->port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

static void
server_stop(struct server *srv)
{
	struct conn	*c;

	for (c = srv->conns; c != NULL; c = c->next)
		conn_close(c);
	uv_close((uv_handle_t *)&srv->listener, NULL);
}

/* A port on 127.0.0.1 nobody listens on (it was free a moment ago). */
static int
free_port(uv_loop_t *loop)
{
	struct server	srv;
	int		closed = 0;

	assert_int_equal(server_start(loop, &srv, "127.0.0.1", 0, NULL), 0);
	srv.listener.data = &closed;
	uv_close((uv_handle_t *)&srv.listener, guard_close_cb);
	while (!closed)
		assert_true(uv_run(loop, UV_RUN_NOWAIT) >= 0);
	return srv.port;
}

/* ---------------------------------------------------------------- specs */

static char	host4[] = "127.0.0.1";
static char	portbuf[16];

static struct ready_spec
tcp_spec(char *host, int port, uint64_t interval_ms)
{
	struct ready_spec	r;

	memset(&r, 0, sizeof r);
	r.kind = READY_TCP;
	r.host = host;
	snprintf(portbuf, sizeof portbuf, "%d", port);
	r.port = portbuf;
	r.interval_ms = interval_ms;
	return r;
}

/* Who a probe runs as: ourselves, with env, or as ps says. */
static struct probe_ident	the_ident;

static const struct probe_ident *
ident(const char *unit, char **env)
{
	memset(&the_ident, 0, sizeof the_ident);
	the_ident.unit = unit;
	the_ident.env = env;
	return &the_ident;
}

static struct ready_spec
exec_spec(char **argv, uint64_t interval_ms)
{
	struct ready_spec	r;

	memset(&r, 0, sizeof r);
	r.kind = READY_EXEC;
	r.argv = argv;
	r.interval_ms = interval_ms;
	return r;
}

/* ---------------------------------------------------------------- tcp */

static void
test_tcp_ready(void **state)
{
	uv_loop_t		loop;
	struct server		srv;
	struct ready_spec	r;
	struct ctx		c = { 0 };

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(server_start(&loop, &srv, "127.0.0.1", 0, NULL), 0);
	r = tcp_spec(host4, srv.port, 50);
	c.p = probe_start(&loop, &r, ident("db", NULL), ready_cb, &c);
	assert_non_null(c.p);
	assert_true(run_until(&loop, &c.ready, 1, WAIT_MS));
	assert_true(probe_is_ready(c.p));
	/* Polling stopped: no further connection comes. */
	assert_false(run_until(&loop, &srv.nconn, 2, 200));
	assert_int_equal(c.ready, 1);
	probe_free(c.p);
	server_stop(&srv);
	finish(&loop);
}

/* A closed port: polling goes on, without a callback, until freed. */
static void
test_tcp_refused(void **state)
{
	uv_loop_t		loop;
	struct ready_spec	r;
	struct ctx		c = { 0 };

	assert_int_equal(uv_loop_init(&loop), 0);
	r = tcp_spec(host4, free_port(&loop), 20);
	c.p = probe_start(&loop, &r, ident("db", NULL), ready_cb, &c);
	assert_non_null(c.p);
	assert_false(run_until(&loop, &c.ready, 1, 5 * 20));
	assert_false(probe_is_ready(c.p));
	probe_free(c.p);
	finish(&loop);
}

/* Refused at first, then the server comes up: the probe finds it. */
static void
test_tcp_late_listener(void **state)
{
	uv_loop_t		loop;
	struct server		srv;
	struct ready_spec	r;
	struct ctx		c = { 0 };
	int			port;

	assert_int_equal(uv_loop_init(&loop), 0);
	port = free_port(&loop);
	r = tcp_spec(host4, port, 20);
	c.p = probe_start(&loop, &r, ident("db", NULL), ready_cb, &c);
	assert_non_null(c.p);
	assert_false(run_until(&loop, &c.ready, 1, 5 * 20));
	assert_int_equal(server_start(&loop, &srv, "127.0.0.1", port, NULL),
	    0);
	assert_true(run_until(&loop, &c.ready, 1, WAIT_MS));
	assert_int_equal(c.ready, 1);
	probe_free(c.p);
	server_stop(&srv);
	finish(&loop);
}

/* A host name goes through getaddrinfo (and each of its addresses). */
static void
test_tcp_hostname(void **state)
{
	uv_loop_t		loop;
	struct server		srv;
	struct ready_spec	r;
	struct ctx		c = { 0 };
	char			host[] = "localhost";

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(server_start(&loop, &srv, "127.0.0.1", 0, NULL), 0);
	r = tcp_spec(host, srv.port, 50);
	c.p = probe_start(&loop, &r, ident("db", NULL), ready_cb, &c);
	assert_non_null(c.p);
	assert_true(run_until(&loop, &c.ready, 1, WAIT_MS));
	probe_free(c.p);
	server_stop(&srv);
	finish(&loop);
}

static void
test_tcp_ipv6(void **state)
{
	uv_loop_t		loop;
	struct server		srv;
	struct ready_spec	r;
	struct ctx		c = { 0 };
	char			host[] = "[::1]";

	assert_int_equal(uv_loop_init(&loop), 0);
	if (server_start(&loop, &srv, "::1", 0, NULL) == -1) {
		finish(&loop);
		skip();
	}
	r = tcp_spec(host, srv.port, 50);
	c.p = probe_start(&loop, &r, ident("db", NULL), ready_cb, &c);
	assert_non_null(c.p);
	assert_true(run_until(&loop, &c.ready, 1, WAIT_MS));
	probe_free(c.p);
	server_stop(&srv);
	finish(&loop);
}

/* Freed while connecting or resolving: requests cancelled, no leak. */
static void
test_free_at_once(void **state)
{
	uv_loop_t		loop;
	struct ready_spec	r;
	struct ctx		c = { 0 }, d = { 0 };
	char			host[] = "localhost";

	assert_int_equal(uv_loop_init(&loop), 0);
	r = tcp_spec(host4, free_port(&loop), 50);
	c.p = probe_start(&loop, &r, ident("a", NULL), ready_cb, &c);
	assert_non_null(c.p);
	r = tcp_spec(host, 9, 50);
	d.p = probe_start(&loop, &r, ident("b", NULL), ready_cb, &d);
	assert_non_null(d.p);
	probe_free(c.p);
	probe_free(d.p);
	finish(&loop);
	assert_int_equal(c.ready + d.ready, 0);
}

/* ---------------------------------------------------------------- http */

static struct ready_spec
http_spec(int port, char *path, uint64_t interval_ms)
{
	struct ready_spec	r;

	r = tcp_spec(host4, port, interval_ms);
	r.kind = READY_HTTP;
	r.path = path;
	return r;
}

static void
test_http_ok(void **state)
{
	uv_loop_t		loop;
	struct server		srv;
	struct ready_spec	r;
	struct ctx		c = { 0 };
	char			path[] = "/health", want[128];

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(server_start(&loop, &srv, "127.0.0.1", 0,
	    "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"), 0);
	r = http_spec(srv.port, path, 50);
	c.p = probe_start(&loop, &r, ident("web", NULL), ready_cb, &c);
	assert_non_null(c.p);
	assert_true(run_until(&loop, &c.ready, 1, WAIT_MS));
	snprintf(want, sizeof want, "GET /health HTTP/1.0\r\n"
	    "Host: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", srv.port);
	assert_string_equal(srv.request, want);
	probe_free(c.p);
	server_stop(&srv);
	finish(&loop);
}

/* 503 is not ready, however often asked; then 200 is. */
static void
test_http_503(void **state)
{
	uv_loop_t		loop;
	struct server		srv;
	struct ready_spec	r;
	struct ctx		c = { 0 };

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(server_start(&loop, &srv, "127.0.0.1", 0,
	    "HTTP/1.0 503 Service Unavailable\r\n\r\n"), 0);
	r = http_spec(srv.port, NULL, 20);
	c.p = probe_start(&loop, &r, ident("web", NULL), ready_cb, &c);
	assert_non_null(c.p);
	assert_true(run_until(&loop, &srv.nserved, 3, WAIT_MS));
	assert_int_equal(c.ready, 0);
	assert_non_null(strstr(srv.request, "GET / HTTP/1.0\r\n"));
	srv.answer = "HTTP/1.1 204 No Content\r\n\r\n";
	assert_true(run_until(&loop, &c.ready, 1, WAIT_MS));
	probe_free(c.p);
	server_stop(&srv);
	finish(&loop);
}

/* Not HTTP at all: never ready. */
static void
test_http_garbage(void **state)
{
	uv_loop_t		loop;
	struct server		srv;
	struct ready_spec	r;
	struct ctx		c = { 0 };

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(server_start(&loop, &srv, "127.0.0.1", 0,
	    "SSH-2.0-OpenSSH_9.6 200\r\n"), 0);
	r = http_spec(srv.port, NULL, 20);
	c.p = probe_start(&loop, &r, ident("web", NULL), ready_cb, &c);
	assert_non_null(c.p);
	assert_true(run_until(&loop, &srv.nserved, 2, WAIT_MS));
	assert_int_equal(c.ready, 0);
	probe_free(c.p);
	server_stop(&srv);
	finish(&loop);
}

/* ---------------------------------------------------------------- exec */

static void
test_exec_ok(void **state)
{
	uv_loop_t		loop;
	struct ready_spec	r;
	struct ctx		c = { 0 };
	char			*argv[] = { "sh", "-c", "exit 0", NULL };

	assert_int_equal(uv_loop_init(&loop), 0);
	r = exec_spec(argv, 50);
	c.free_in_cb = 1;
	c.p = probe_start(&loop, &r, ident("db", NULL), ready_cb, &c);
	assert_non_null(c.p);
	assert_true(run_until(&loop, &c.ready, 1, WAIT_MS));
	assert_null(c.p);
	finish(&loop);
	assert_int_equal(c.ready, 1);
}

static void
test_exec_false(void **state)
{
	uv_loop_t		loop;
	struct ready_spec	r;
	struct ctx		c = { 0 };
	char			*argv[] = { "false", NULL };

	assert_int_equal(uv_loop_init(&loop), 0);
	r = exec_spec(argv, 20);
	c.p = probe_start(&loop, &r, ident("db", NULL), ready_cb, &c);
	assert_non_null(c.p);
	assert_false(run_until(&loop, &c.ready, 1, 5 * 20));
	probe_free(c.p);
	finish(&loop);
	assert_int_equal(c.ready, 0);
}

static int
count_lines(const char *path)
{
	FILE	*f;
	int	 ch, n = 0;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while ((ch = fgetc(f)) != EOF)
		if (ch == '\n')
			n++;
	fclose(f);
	return n;
}

/* Retried until the third run succeeds, with our env; then no more runs. */
static void
test_exec_retries(void **state)
{
	uv_loop_t		loop;
	struct ready_spec	r;
	struct ctx		c = { 0 };
	char			file[] = "/tmp/test_ready.XXXXXX";
	char			*env[3], *path;
	char			*argv[] = { "sh", "-c",
	    "echo run >> \"$COUNT\"; [ \"$(wc -l < \"$COUNT\")\" -ge 3 ]",
	    NULL };
	int			fd, runs;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_true((fd = mkstemp(file)) != -1);
	close(fd);
	path = getenv("PATH");
	env[0] = xasprintf("PATH=%s", path != NULL ? path : "/usr/bin:/bin");
	env[1] = xasprintf("COUNT=%s", file);
	env[2] = NULL;
	r = exec_spec(argv, 100);
	c.p = probe_start(&loop, &r, ident("db", env), ready_cb, &c);
	/* The probe copied the environment. */
	free(env[0]);
	free(env[1]);
	assert_non_null(c.p);
	assert_true(run_until(&loop, &c.ready, 1, WAIT_MS));
	runs = count_lines(file);
	assert_true(runs >= 3);
	assert_false(run_until(&loop, &c.ready, 2, 3 * 100));
	assert_int_equal(count_lines(file), runs);
	probe_free(c.p);
	finish(&loop);
	unlink(file);
}

/* Is the process gone (or a zombie nobody reaps yet)? */
static int
pid_gone(pid_t pid)
{
	char	 path[64], buf[256], *s;
	FILE	*f;
	int	 gone = 1;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return kill(pid, 0) == -1 && errno == ESRCH;
	if (fgets(buf, sizeof buf, f) != NULL &&
	    (s = strrchr(buf, ')')) != NULL && s[1] == ' ')
		gone = s[2] == 'Z' || s[2] == 'X';
	fclose(f);
	return gone;
}

/* A run that outlives the interval is killed with its whole group. */
static void
test_exec_slow_killed(void **state)
{
	uv_loop_t		loop;
	struct ready_spec	r;
	struct ctx		c = { 0 };
	char			file[] = "/tmp/test_ready.XXXXXX";
	char			script[256];
	char			*argv[] = { "sh", "-c", script, NULL };
	struct timespec		ts = { 0, 10 * 1000 * 1000 };
	FILE			*f;
	int			fd, i, pid = 0;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_true((fd = mkstemp(file)) != -1);
	close(fd);
	snprintf(script, sizeof script,
	    "sleep 30 & echo $! > %s; wait", file);
	r = exec_spec(argv, 50);
	c.p = probe_start(&loop, &r, ident("db", NULL), ready_cb, &c);
	assert_non_null(c.p);
	/*
	 * Run intervals until some run wrote its grandchild's pid: on a
	 * loaded machine (sanitizers) a run may be killed before it could.
	 */
	for (i = 0; i < WAIT_MS / 50; i++) {
		struct stat	st;

		assert_false(run_until(&loop, &c.ready, 1, 50));
		if (stat(file, &st) == 0 && st.st_size > 0 && i >= 3)
			break;
	}
	probe_free(c.p);
	finish(&loop);
	assert_int_equal(c.ready, 0);
	f = fopen(file, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &pid), 1);
	fclose(f);
	unlink(file);
	/* The grandchild got SIGKILL too: wait for it, with a hard bound. */
	for (i = 0; i < WAIT_MS / 10 && !pid_gone(pid); i++)
		nanosleep(&ts, NULL);
	assert_true(pid_gone(pid));
}

/* The probe runs in its unit's directory (cwd: of its proc_spec). */
static void
test_exec_cwd(void **state)
{
	uv_loop_t		loop;
	struct ready_spec	r;
	struct proc_spec	ps;
	struct ctx		c = { 0 };
	char			dir[] = "/tmp/test_ready.XXXXXX";
	char			*argv[] = { "sh", "-c", "test -e here", NULL };
	char			*here;
	int			fd;

	assert_int_equal(uv_loop_init(&loop), 0);
	assert_non_null(mkdtemp(dir));
	memset(&ps, 0, sizeof ps);
	ps.umask = -1;
	ps.cwd = dir;
	r = exec_spec(argv, 20);
	c.p = probe_start(&loop, &r, ident("db", NULL), ready_cb, &c);
	assert_non_null(c.p);
	/* Not ready in our directory... */
	assert_false(run_until(&loop, &c.ready, 1, 3 * 20));
	probe_free(c.p);
	the_ident.ps = &ps;
	c.p = probe_start(&loop, &r, &the_ident, ready_cb, &c);
	assert_non_null(c.p);
	assert_false(run_until(&loop, &c.ready, 1, 3 * 20));
	/* ...ready in the unit's once the file is there. */
	here = xasprintf("%s/here", dir);
	assert_true((fd = open(here, O_CREAT | O_WRONLY, 0600)) != -1);
	close(fd);
	assert_true(run_until(&loop, &c.ready, 1, WAIT_MS));
	probe_free(c.p);
	finish(&loop);
	unlink(here);
	rmdir(dir);
	free(here);
}

/* A command that cannot be run is a failed attempt, polled again. */
static void
test_exec_missing(void **state)
{
	uv_loop_t		loop;
	struct ready_spec	r;
	struct ctx		c = { 0 };
	char			*argv[] = { "/nonexistent/probe", NULL };

	assert_int_equal(uv_loop_init(&loop), 0);
	r = exec_spec(argv, 20);
	c.p = probe_start(&loop, &r, ident("db", NULL), ready_cb, &c);
	assert_non_null(c.p);
	assert_false(run_until(&loop, &c.ready, 1, 5 * 20));
	probe_free(c.p);
	finish(&loop);
}

/* ---------------------------------------------------------------- specs */

static void
test_bad_specs(void **state)
{
	uv_loop_t		loop;
	struct ready_spec	r;
	struct ctx		c = { 0 };
	char			bad_path[] = "/a b", bad_host[] = "a\r\nb";
	char			re[] = "up";

	assert_int_equal(uv_loop_init(&loop), 0);
	memset(&r, 0, sizeof r);
	r.kind = READY_LINE;
	r.regex = re;
	assert_null(probe_start(&loop, &r, ident("x", NULL), ready_cb, &c));
	r = exec_spec(NULL, 10);
	assert_null(probe_start(&loop, &r, ident("x", NULL), ready_cb, &c));
	r = tcp_spec(NULL, 80, 10);
	assert_null(probe_start(&loop, &r, ident("x", NULL), ready_cb, &c));
	r = tcp_spec(bad_host, 80, 10);
	assert_null(probe_start(&loop, &r, ident("x", NULL), ready_cb, &c));
	r = tcp_spec(host4, 80, 10);
	r.port = NULL;
	assert_null(probe_start(&loop, &r, ident("x", NULL), ready_cb, &c));
	r = http_spec(80, bad_path, 10);
	assert_null(probe_start(&loop, &r, ident("x", NULL), ready_cb, &c));
	probe_free(NULL);
	finish(&loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_ready),
		cmocka_unit_test(test_tcp_refused),
		cmocka_unit_test(test_tcp_late_listener),
		cmocka_unit_test(test_tcp_hostname),
		cmocka_unit_test(test_tcp_ipv6),
		cmocka_unit_test(test_free_at_once),
		cmocka_unit_test(test_http_ok),
		cmocka_unit_test(test_http_503),
		cmocka_unit_test(test_http_garbage),
		cmocka_unit_test(test_exec_ok),
		cmocka_unit_test(test_exec_false),
		cmocka_unit_test(test_exec_retries),
		cmocka_unit_test(test_exec_slow_killed),
		cmocka_unit_test(test_exec_missing),
		cmocka_unit_test(test_exec_cwd),
		cmocka_unit_test(test_bad_specs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
