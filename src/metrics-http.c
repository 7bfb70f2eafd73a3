/*
 * The HTTP listener of the metrics. Only the request line is read: the
 * method and the path decide everything, headers are skipped up to the
 * blank line that ends them, and a request that is not complete within
 * METRICS_HTTP_MAX_REQUEST bytes is refused. One answer per connection,
 * then "Connection: close": no keep-alive state to keep right. Borrows
 * the sampler; knows nothing of the control socket.
 */
#include "config.h"

#include <sys/queue.h>

#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "metrics-http.h"
#include "sampler.h"
#include "xmalloc.h"

struct mconn {
	TAILQ_ENTRY(mconn)	 entry;
	struct metrics_http	*mh;
	uv_tcp_t		 tcp;
	uv_timer_t		 timer;
	uv_write_t		 wreq;
	uv_shutdown_t		 sreq;
	int			 handles;	/* open handles */
	int			 answered;
	int			 sent;		/* answer written, FIN sent */
	int			 peer_eof;	/* the client closed its side */
	int			 closing;
	struct buf		 in;
	struct buf		 out;
};

struct metrics_http {
	uv_loop_t		*loop;
	struct sampler		*sampler;
	uv_tcp_t		 listener;
	int			 listening;	/* handle open */
	unsigned		 port;
	size_t			 nconns;
	TAILQ_HEAD(, mconn)	 conns;
	int			 freeing;
	char			 rbuf[4096];	/* shared read buffer */
};

static void
mconn_free_cb(uv_handle_t *h)
{
	struct mconn		*c = h->data;
	struct metrics_http	*mh = c->mh;

	if (--c->handles > 0)
		return;
	TAILQ_REMOVE(&mh->conns, c, entry);
	mh->nconns--;
	buf_release(&c->in);
	buf_release(&c->out);
	free(c);
	if (mh->freeing && mh->nconns == 0 && !mh->listening)
		free(mh);
}

/* Close the connection's handles; the last close frees it. */
static void
mconn_close(struct mconn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	(void)uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, mconn_free_cb);
	uv_close((uv_handle_t *)&c->tcp, mconn_free_cb);
}

static void
mconn_timer_cb(uv_timer_t *t)
{
	mconn_close(t->data);
}

/*
 * The answer is out. Closing now, with bytes of the client still unread
 * (a request body), would send a reset that can destroy the answer in
 * flight; so the connection lingers, reading and dropping, until the
 * client closes its side or the connection's timer ends it.
 */
static void
mconn_shutdown_cb(uv_shutdown_t *req, int status)
{
	struct mconn	*c = req->data;

	if (c->closing)
		return;
	c->sent = 1;
	if (status != 0 || c->peer_eof)
		mconn_close(c);
}

static void
mconn_write_cb(uv_write_t *req, int status)
{
	struct mconn	*c = req->data;

	if (c->closing)
		return;
	/* Our side is done: FIN after the answer, then close. */
	if (status != 0 || uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp,
	    mconn_shutdown_cb) != 0)
		mconn_close(c);
}

/* Send the answer and stop reading; the connection ends after it. */
static void
mconn_answer(struct mconn *c, const char *status, const char *extra,
    const char *ctype, const char *body, size_t blen, int head)
{
	uv_buf_t	b;

	c->answered = 1;
	buf_addf(&c->out, "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
	    ctype, blen, extra);
	if (!head)
		buf_add(&c->out, body, blen);
	b = uv_buf_init((char *)buf_ptr(&c->out), (unsigned)buf_used(&c->out));
	c->wreq.data = c;
	c->sreq.data = c;
	if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1,
	    mconn_write_cb) != 0)
		mconn_close(c);
}

static void
mconn_error(struct mconn *c, const char *status, const char *extra)
{
	char	body[128];

	snprintf(body, sizeof body, "%s\n", status + 4);
	mconn_answer(c, status, extra, "text/plain; charset=utf-8", body,
	    strlen(body), 0);
}

/*
 * Act on a complete request head. The request line is METHOD SP TARGET
 * SP HTTP/1.x; the path is the target less its query.
 */
static void
mconn_request(struct mconn *c, const char *p, size_t len)
{
	const char	*eol, *sp1, *sp2, *q;
	struct buf	 text;
	size_t		 mlen, plen;
	int		 head;

	eol = memchr(p, '\n', len);
	len = (size_t)(eol - p);
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if ((sp1 = memchr(p, ' ', len)) == NULL ||
	    (sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - p))) == NULL ||
	    (size_t)(p + len - (sp2 + 1)) != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1') || sp1 == p || sp2 == sp1 + 1) {
		mconn_error(c, "400 Bad Request", "");
		return;
	}
	mlen = (size_t)(sp1 - p);
	head = mlen == 4 && memcmp(p, "HEAD", 4) == 0;
	if (!head && !(mlen == 3 && memcmp(p, "GET", 3) == 0)) {
		mconn_error(c, "405 Method Not Allowed",
		    "Allow: GET, HEAD\r\n");
		return;
	}
	plen = (size_t)(sp2 - (sp1 + 1));
	if ((q = memchr(sp1 + 1, '?', plen)) != NULL)
		plen = (size_t)(q - (sp1 + 1));
	if (plen != 8 || memcmp(sp1 + 1, "/metrics", 8) != 0) {
		mconn_error(c, "404 Not Found", "");
		return;
	}
	buf_init(&text);
	sampler_touch(c->mh->sampler);
	sampler_metrics(c->mh->sampler, &text);
	mconn_answer(c, "200 OK", "", METRICS_CONTENT_TYPE, buf_ptr(&text),
	    buf_used(&text), head);
	buf_release(&text);
}

static void
mconn_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct mconn	*c = h->data;

	*b = uv_buf_init(c->mh->rbuf, sizeof c->mh->rbuf);
}

static void
mconn_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct mconn	*c = s->data;
	const char	*p, *end;
	size_t		 len;

	if (c->closing)
		return;
	if (n < 0) {
		/* A client that half-closed still gets its answer. */
		if (c->answered && !c->sent) {
			c->peer_eof = 1;
			(void)uv_read_stop(s);
		} else
			mconn_close(c);
		return;
	}
	/* Answered: what else comes is read and dropped (see above). */
	if (n == 0 || c->answered)
		return;
	buf_add(&c->in, b->base, (size_t)n);
	p = buf_ptr(&c->in);
	len = buf_used(&c->in);
	/* The head ends at an empty line (CRLF, or a bare LF as leniency). */
	end = memmem(p, len, "\r\n\r\n", 4);
	if (end == NULL)
		end = memmem(p, len, "\n\n", 2);
	if (end != NULL && (size_t)(end - p) < METRICS_HTTP_MAX_REQUEST) {
		mconn_request(c, p, len);
		return;
	}
	if (len >= METRICS_HTTP_MAX_REQUEST)
		mconn_error(c, "431 Request Header Fields Too Large", "");
}

static void
metrics_http_conn_cb(uv_stream_t *server, int status)
{
	struct metrics_http	*mh = server->data;
	struct mconn		*c;
	int			 r;

	if (status != 0) {
		log_warnx("metrics: accept: %s", uv_strerror(status));
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->mh = mh;
	buf_init(&c->in);
	buf_init(&c->out);
	TAILQ_INSERT_TAIL(&mh->conns, c, entry);
	mh->nconns++;
	if ((r = uv_tcp_init(mh->loop, &c->tcp)) != 0) {
		log_warnx("metrics: %s", uv_strerror(r));
		TAILQ_REMOVE(&mh->conns, c, entry);
		mh->nconns--;
		buf_release(&c->in);
		buf_release(&c->out);
		free(c);
		return;
	}
	c->handles++;
	c->tcp.data = c;
	uv_unref((uv_handle_t *)&c->tcp);
	if ((r = uv_timer_init(mh->loop, &c->timer)) != 0) {
		log_warnx("metrics: %s", uv_strerror(r));
		c->closing = 1;
		uv_close((uv_handle_t *)&c->tcp, mconn_free_cb);
		return;
	}
	c->handles++;
	c->timer.data = c;
	uv_unref((uv_handle_t *)&c->timer);
	if ((r = uv_accept(server, (uv_stream_t *)&c->tcp)) != 0) {
		log_debug("metrics: accept: %s", uv_strerror(r));
		mconn_close(c);
		return;
	}
	/* Too many at once: this one goes, the others keep their turn. */
	if (mh->nconns > METRICS_HTTP_MAX_CONNS) {
		log_debug("metrics: too many connections");
		mconn_close(c);
		return;
	}
	if ((r = uv_timer_start(&c->timer, mconn_timer_cb,
	    METRICS_HTTP_TIMEOUT_MS, 0)) != 0 ||
	    (r = uv_read_start((uv_stream_t *)&c->tcp, mconn_alloc_cb,
	    mconn_read_cb)) != 0) {
		log_debug("metrics: %s", uv_strerror(r));
		mconn_close(c);
	}
}

int
metrics_http_start(uv_loop_t *loop, struct sampler *sampler,
    const char *addr, struct metrics_http **out, char **cause)
{
	struct metrics_http	*mh;
	struct sockaddr_storage	 ss;
	const char		*errstr;
	char			*host;
	unsigned		 port;
	int			 r, len;

	if (metrics_parse_addr(addr, &host, &port, &errstr) == -1) {
		*cause = xasprintf("%s: %s", addr, errstr);
		return -1;
	}
	memset(&ss, 0, sizeof ss);
	if (strchr(host, ':') != NULL)
		r = uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&ss);
	else
		r = uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&ss);
	free(host);
	if (r != 0) {
		*cause = xasprintf("%s: %s", addr, uv_strerror(r));
		return -1;
	}
	mh = xcalloc(1, sizeof *mh);
	mh->loop = loop;
	mh->sampler = sampler;
	TAILQ_INIT(&mh->conns);
	if ((r = uv_tcp_init(loop, &mh->listener)) != 0) {
		*cause = xasprintf("%s: %s", addr, uv_strerror(r));
		free(mh);
		return -1;
	}
	mh->listening = 1;
	mh->listener.data = mh;
	uv_unref((uv_handle_t *)&mh->listener);
	if ((r = uv_tcp_bind(&mh->listener, (struct sockaddr *)&ss, 0)) != 0 ||
	    (r = uv_listen((uv_stream_t *)&mh->listener, 128,
	    metrics_http_conn_cb)) != 0) {
		*cause = xasprintf("cannot listen on %s: %s", addr,
		    uv_strerror(r));
		metrics_http_free(mh);
		return -1;
	}
	len = sizeof ss;
	if (uv_tcp_getsockname(&mh->listener, (struct sockaddr *)&ss,
	    &len) == 0)
		mh->port = ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port);
	*out = mh;
	return 0;
}

unsigned
metrics_http_port(const struct metrics_http *mh)
{
	return mh->port;
}

static void
metrics_http_listener_cb(uv_handle_t *h)
{
	struct metrics_http	*mh = h->data;

	mh->listening = 0;
	if (mh->nconns == 0)
		free(mh);
}

void
metrics_http_free(struct metrics_http *mh)
{
	struct mconn	*c, *next;

	if (mh == NULL)
		return;
	mh->freeing = 1;
	for (c = TAILQ_FIRST(&mh->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		mconn_close(c);
	}
	uv_close((uv_handle_t *)&mh->listener, metrics_http_listener_cb);
}
