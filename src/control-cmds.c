/*
 * The control socket's commands: what each request does once control.c
 * has read it (list, status, start and the other unit commands, put,
 * get, queues, logs, reload, shutdown), the records of the replies, and
 * what a request waits on (a put's room and a get's item in a queue, a
 * follow, a stop). Starts the control socket with its one entry point,
 * conn_frame_cb. The listener, the peer's uid, framing, reading and
 * writing are control.c's; nothing here knows the client (ctl.c).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "buf.h"
#include "control.h"
#include "control-int.h"
#include "ctlproto.h"
#include "log.h"
#include "manifest.h"
#include "sampler.h"
#include "supervisor.h"
#include "util.h"
#include "wire.h"
#include "xmalloc.h"

/*
 * What a follower's unsent output may cost (its buffer as allocated and
 * the write in flight, beyond the history it was sent first) before a
 * follower that does not read is cut off: 60 such followers cost 60 MiB
 * at most, not their lines' payload times the cost of a write each.
 */
#define CONTROL_MAX_BACKLOG	(1024 * 1024)

/* One record of a unit, with what the sampler measured of it. */
static void
frame_unit(struct buf *out, const struct sv_unit_info *u,
    const struct sampler *sampler)
{
	struct sampler_unit_stats	st;
	struct ctl_frame		fr;

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
	ctlproto_frame_strs(&fr, "base", u->base != NULL ? u->base : u->name);
	if (u->stdin_queue != NULL)
		ctlproto_frame_int(&fr, "in_flight", (int64_t)u->in_flight);
	else
		ctlproto_frame_null(&fr, "in_flight");
	sampler_unit(sampler, u->name, &st);
	ctlproto_frame_int(&fr, "cpu_pct", (int64_t)st.cpu_pct);
	ctlproto_frame_int(&fr, "cpu_time_ms", (int64_t)st.cpu_ms);
	if (st.has_rss && u->pid > 0)
		ctlproto_frame_int(&fr, "rss_bytes", (int64_t)st.rss_bytes);
	else
		ctlproto_frame_null(&fr, "rss_bytes");
	ctlproto_frame_finish(&fr, out);
}

/* One line of a unit's output, as a record. */
static void
conn_line_cb(const char *unit, uint64_t time_ms, const char *line,
    size_t len, void *arg)
{
	struct conn		*c = arg;
	struct ctl_frame	 fr;

	if (c->closing || c->doomed || c->done)
		return;
	if (line == NULL) {
		/* What we followed was removed: nothing more will come. */
		conn_fail_cause(c, xasprintf("%s was removed: no more lines "
		    "to follow", unit));
		return;
	}
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "rec");
	ctlproto_frame_adds(&fr, "lines");
	ctlproto_frame_strs(&fr, "unit", unit);
	ctlproto_frame_int(&fr, "time", (int64_t)time_ms);
	ctlproto_frame_str(&fr, "line", line, len);
	ctlproto_frame_finish(&fr, &c->out);
	if (c->state == CONN_FOLLOW) {
		/* A follower that does not read loses its connection. */
		if (conn_backlog(c) > c->backlog_base + CONTROL_MAX_BACKLOG) {
			log_info("control: a follower of %s does not read: "
			    "closed", unit);
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
		if (conn_wait_begin(c) == -1)
			return;
		wqueue_wait_readable(wq, &c->waiter);
		return;
	}
	ctlproto_frame_init(&fr);
	if (r == 0) {
		ctlproto_frame_adds(&fr, "ok");
		ctlproto_frame_strs(&fr, "queue", c->queue);
		ctlproto_frame_str(&fr, "item", item, len);
		/*
		 * Held until written (get) or acknowledged (get-ack): put
		 * back if it cannot be (control.c).
		 */
		c->held = item;
		c->held_len = len;
		if (c->state == CONN_GET_ACK) {
			conn_hold(c, &fr);
			return;
		}
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
	uint64_t		 dropped;

	if ((wq = supervisor_queue(c->ctl->sv, c->queue)) == NULL) {
		conn_fail_cause(c, xasprintf("no such queue: %s", c->queue));
		return 1;
	}
	if (wqueue_is_closed(wq)) {
		conn_fail_cause(c, xasprintf("queue %s is closed", c->queue));
		return 1;
	}
	while (c->next < c->items.n) {
		if (wqueue_is_full(wq)) {
			if (conn_wait_begin(c) == -1)
				return 1;
			conn_read_pause(c);
			wqueue_wait_writable(wq, &c->waiter);
			/* Not reading: look for its end of file otherwise. */
			conn_watch_hangup(c);
			return 1;
		}
		dropped = wqueue_counters(wq)->dropped;
		(void)wqueue_push(wq, c->items.f[c->next],
		    c->items.len[c->next]);
		/* drop-newest: the item was not stored; drop-oldest: another. */
		c->ndropped += wqueue_counters(wq)->dropped - dropped;
		c->next++;
		c->nput++;
	}
	conn_wait_end(c);
	ctlproto_msg_release(&c->items);
	c->next = 0;
	if (c->stream)
		return 0;
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "ok");
	ctlproto_frame_strs(&fr, "queue", c->queue);
	ctlproto_frame_int(&fr, "put", (int64_t)c->nput);
	ctlproto_frame_int(&fr, "dropped", (int64_t)c->ndropped);
	conn_finish(c, &fr);
	return 1;
}

/* put: one frame of a stream of items; the empty frame ends it. */
static int
conn_put_frame(struct conn *c, struct ctl_msg *m)
{
	const char	*errstr;

	if (m->n == 0) {
		c->stream = 0;
		c->items = *m;
		(void)conn_put_pump(c);
		return 1;
	}
	if (ctlproto_items_check(m->f, m->len, m->n, &errstr) == -1) {
		ctlproto_msg_release(m);
		conn_fail_cause(c, xasprintf("put: %s", errstr));
		return 1;
	}
	c->items = *m;
	c->next = 0;
	return conn_put_pump(c);
}

/* A queue this connection waits on may be ready. */
static void
conn_waiter_cb(struct wq_waiter *w)
{
	struct conn	*c = w->arg;

	if (c->closing || c->done)
		return;
	if (c->state == CONN_GET || c->state == CONN_GET_ACK)
		conn_get(c);
	else if (c->state == CONN_PUT) {
		/* The items that waited for room first, then more frames. */
		if (c->items.n > 0 && conn_put_pump(c))
			return;
		conn_process(c);
	}
}

static void
conn_list(struct conn *c)
{
	struct sv_unit_info	*units;
	struct ctl_frame	 fr;
	size_t			 n, i;

	n = supervisor_list(c->ctl->sv, &units);
	for (i = 0; i < n; i++)
		frame_unit(&c->out, &units[i], c->ctl->sampler);
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
		frame_unit(&c->out, &units[i], c->ctl->sampler);
	free(units);
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "ok");
	conn_finish(c, &fr);
}

/*
 * Consumers of a queue running now, of the units in u, and the items
 * they hold in flight (taken, not read yet) in *held.
 */
static size_t
queue_consumers(const char *name, const struct sv_unit_info *u, size_t n,
    uint64_t *held)
{
	size_t	i, k = 0;

	*held = 0;
	for (i = 0; i < n; i++)
		if (u[i].stdin_queue != NULL &&
		    strcmp(u[i].stdin_queue, name) == 0) {
			if (u[i].pid > 0)
				k++;
			*held += u[i].in_flight;
		}
	return k;
}

/* Does process spec ps write its stdout or stderr into queue name? */
static int
proc_feeds(const struct proc_spec *ps, const char *name)
{
	size_t	i;

	for (i = 0; i < ps->out.ndests; i++)
		if (ps->out.dests[i].kind == DEST_QUEUE &&
		    strcmp(ps->out.dests[i].name, name) == 0)
			return 1;
	for (i = 0; i < ps->err.ndests; i++)
		if (ps->err.dests[i].kind == DEST_QUEUE &&
		    strcmp(ps->err.dests[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * Producers of a queue not live yet: instances of processes of the
 * manifest writing into it that wait for their dependencies.
 */
static size_t
queue_pending(struct supervisor *sv, const char *name,
    const struct sv_unit_info *u, size_t n)
{
	const struct manifest	*m = supervisor_manifest(sv);
	const struct proc_spec	*ps;
	size_t			 i, k = 0;

	for (i = 0; m != NULL && i < n; i++)
		if (strcmp(u[i].state, "waiting") == 0 && u[i].base != NULL &&
		    (ps = manifest_find_proc(m, u[i].base)) != NULL &&
		    proc_feeds(ps, name))
			k++;
	return k;
}

static void
conn_queues(struct conn *c)
{
	const struct queue_counters	*k;
	struct sampler_queue_stats	  st;
	struct sv_unit_info		 *units;
	struct wqueue			**qs;	/* borrowed */
	struct ctl_frame		  fr;
	struct buf			  hist;
	char				 *each;
	size_t				  n, nu, i, j, pending, live, neach;
	uint64_t			  held;

	nu = supervisor_list(c->ctl->sv, &units);
	n = supervisor_queues(c->ctl->sv, &qs);
	for (i = 0; i < n; i++) {
		k = wqueue_counters(qs[i]);
		sampler_queue(c->ctl->sampler, wqueue_name(qs[i]), &st);
		ctlproto_frame_init(&fr);
		ctlproto_frame_adds(&fr, "rec");
		ctlproto_frame_adds(&fr, "queues");
		ctlproto_frame_strs(&fr, "name", wqueue_name(qs[i]));
		ctlproto_frame_strs(&fr, "mode",
		    wqueue_mode(qs[i]) == QUEUE_SHARE ? "share" : "broadcast");
		ctlproto_frame_strs(&fr, "state", wqueue_state(qs[i]));
		ctlproto_frame_int(&fr, "in", (int64_t)k->in);
		ctlproto_frame_int(&fr, "out", (int64_t)k->out);
		ctlproto_frame_int(&fr, "redelivered",
		    (int64_t)k->redelivered);
		ctlproto_frame_int(&fr, "dropped", (int64_t)k->dropped);
		ctlproto_frame_int(&fr, "depth", (int64_t)k->depth);
		ctlproto_frame_int(&fr, "high_water", (int64_t)k->high_water);
		ctlproto_frame_int(&fr, "capacity", (int64_t)st.capacity);
		ctlproto_frame_int(&fr, "torn", (int64_t)wqueue_torn(qs[i]));
		/*
		 * The wire counts a producer from its registration, so one
		 * waiting for its dependencies is in its count: live are the
		 * others.
		 */
		pending = queue_pending(c->ctl->sv, wqueue_name(qs[i]), units,
		    nu);
		live = wqueue_producers(qs[i]);
		ctlproto_frame_int(&fr, "producers",
		    (int64_t)(live > pending ? live - pending : 0));
		ctlproto_frame_int(&fr, "producers_pending", (int64_t)pending);
		ctlproto_frame_int(&fr, "declared",
		    (int64_t)wqueue_declared(qs[i]));
		ctlproto_frame_int(&fr, "consumers", (int64_t)queue_consumers(
		    wqueue_name(qs[i]), units, nu, &held));
		ctlproto_frame_int(&fr, "in_flight", (int64_t)held);
		/* Each consumer's: "worker.1:1 worker.2:0". */
		each = wqueue_consumers_text(qs[i], &neach);
		ctlproto_frame_strs(&fr, "in_flight_each", each);
		free(each);
		ctlproto_frame_int(&fr, "in_per_s",
		    (int64_t)(st.in_per_s + 0.5));
		ctlproto_frame_int(&fr, "out_per_s",
		    (int64_t)(st.out_per_s + 0.5));
		/* Depth once a second, oldest first, space-separated. */
		buf_init(&hist);
		for (j = 0; j < st.ndepth; j++)
			buf_addf(&hist, "%s%llu", j > 0 ? " " : "",
			    (unsigned long long)st.depth[j]);
		ctlproto_frame_str(&fr, "depth_history", buf_ptr(&hist),
		    buf_used(&hist));
		buf_release(&hist);
		ctlproto_frame_finish(&fr, &c->out);
	}
	free(units);
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "ok");
	conn_finish(c, &fr);
}

/* metrics: the Prometheus text, as one record. */
static void
conn_metrics(struct conn *c)
{
	struct ctl_frame	 fr;
	struct buf		 text;
	const char		*p, *nl;
	size_t			 left, len;

	if (c->ctl->sampler == NULL) {
		conn_fail_cause(c, xstrdup("metrics are not kept"));
		return;
	}
	buf_init(&text);
	sampler_metrics(c->ctl->sampler, &text);
	/* Records of whole lines, each well under a frame's limit. */
	p = buf_ptr(&text);
	left = buf_used(&text);
	while (left > 0) {
		len = left < CTL_MAX_FRAME / 2 ? left : CTL_MAX_FRAME / 2;
		if (len < left && (nl = memrchr(p, '\n', len)) != NULL)
			len = (size_t)(nl - p) + 1;
		ctlproto_frame_init(&fr);
		ctlproto_frame_adds(&fr, "rec");
		ctlproto_frame_adds(&fr, "metrics");
		ctlproto_frame_str(&fr, "text", p, len);
		ctlproto_frame_finish(&fr, &c->out);
		p += len;
		left -= len;
	}
	buf_release(&text);
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "ok");
	conn_finish(c, &fr);
}

/* The recent lines of "ctl logs", gathered to be merged by time. */
struct logs_line {
	uint64_t	 time_ms;
	uint64_t	 seq;		/* the order of arrival */
	size_t		 unit;		/* offsets into the bytes */
	size_t		 line;
	size_t		 len;
};

struct logs {
	struct logs_line	*lines;
	size_t			 n;
	size_t			 cap;
	struct buf		 bytes;
	struct buf		 notes;		/* "dropped" frames: first */
};

static void
logs_line_cb(const char *unit, uint64_t time_ms, uint64_t seq,
    const char *line, size_t len, void *arg)
{
	struct logs		*l = arg;
	struct logs_line	*x;

	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 256 : l->cap * 2;
		l->lines = xreallocarray(l->lines, l->cap, sizeof *l->lines);
	}
	x = &l->lines[l->n];
	x->time_ms = time_ms;
	x->seq = seq;
	l->n++;
	x->unit = buf_used(&l->bytes);
	buf_add(&l->bytes, unit, strlen(unit) + 1);
	x->line = buf_used(&l->bytes);
	x->len = len;
	buf_add(&l->bytes, line, len);
}

/* A ring that dropped lines from its head says so, with its size. */
static void
logs_dropped_cb(const char *unit, uint64_t lines, uint64_t size, void *arg)
{
	struct logs		*l = arg;
	struct ctl_frame	 fr;

	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "rec");
	ctlproto_frame_adds(&fr, "dropped");
	ctlproto_frame_strs(&fr, "unit", unit);
	ctlproto_frame_int(&fr, "lines", (int64_t)lines);
	ctlproto_frame_int(&fr, "log_buffer", (int64_t)size);
	ctlproto_frame_finish(&fr, &l->notes);
}

static int
logs_line_cmp(const void *a, const void *b)
{
	const struct logs_line	*x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The recent lines of one unit or of all, in the order they arrived
 * (the clock may have stepped back between two), those since
 * since_ms ago only (0: all), the last n only (has_lines), as records.
 */
static int
conn_logs_recent(struct conn *c, const struct ctl_request *req,
    char **cause)
{
	struct logs	 l;
	uint64_t	 from = 0;
	size_t		 i, first = 0;
	const char	*p;

	memset(&l, 0, sizeof l);
	buf_init(&l.bytes);
	buf_init(&l.notes);
	if (supervisor_logs(c->ctl->sv, req->name, logs_line_cb,
	    logs_dropped_cb, &l, cause) == -1) {
		buf_release(&l.bytes);
		buf_release(&l.notes);
		return -1;
	}
	if (l.n > 1)
		qsort(l.lines, l.n, sizeof *l.lines, logs_line_cmp);
	if (req->since_ms > 0 && util_now_ms() > req->since_ms)
		from = util_now_ms() - req->since_ms;
	while (first < l.n && l.lines[first].time_ms < from)
		first++;
	if (req->has_lines && l.n - first > req->lines)
		first = l.n - (size_t)req->lines;
	/* Lost lines matter when the oldest held were asked for. */
	if (first == 0 && buf_used(&l.notes) > 0)
		buf_add(&c->out, buf_ptr(&l.notes), buf_used(&l.notes));
	p = buf_ptr(&l.bytes);
	for (i = first; i < l.n; i++)
		conn_line_cb(p + l.lines[i].unit, l.lines[i].time_ms,
		    p + l.lines[i].line, l.lines[i].len, c);
	free(l.lines);
	buf_release(&l.bytes);
	buf_release(&l.notes);
	return 0;
}

static void
conn_logs(struct conn *c, const struct ctl_request *req, int follow)
{
	struct ctl_frame	 fr;
	const char		*name = req->name;
	char			*cause = NULL;

	/* A follower waits: refused before any line if too many do. */
	if (follow && conn_wait_begin(c) == -1)
		return;
	if (conn_logs_recent(c, req, &cause) == -1) {
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
	c->backlog_base = buf_used(&c->out);
	conn_flush(c);
}

/* The units of a stop, restart or remove have done it: answer. */
static void
conn_wait_cb(void *arg)
{
	struct conn	*c = arg;

	c->wait = NULL;
	conn_ok(c, "unit", c->queue);
}

/*
 * Stop, restart or remove; answered once done unless the request says
 * "nowait". The name is kept (in c->queue) for the answer.
 */
static void
conn_unit_wait(struct conn *c, const struct ctl_request *req)
{
	struct supervisor	*sv = c->ctl->sv;
	struct sv_wait		 w, *wp = NULL;
	char			*cause = NULL;
	int			 r;

	w.fn = conn_wait_cb;
	w.arg = c;
	if (!req->nowait)
		wp = &w;
	if (req->cmd == CTL_STOP)
		r = supervisor_stop_unit(sv, req->name, wp, &c->wait, &cause);
	else if (req->cmd == CTL_RESTART)
		r = supervisor_restart_unit(sv, req->name, wp, &c->wait,
		    &cause);
	else
		r = supervisor_remove_unit(sv, req->name, wp, &c->wait,
		    &cause);
	if (r == -1) {
		conn_fail_cause(c, cause);
		return;
	}
	if (c->wait == NULL) {
		conn_ok(c, "unit", req->name);
		return;
	}
	/* No request timeout while the units stop: they have their own. */
	(void)uv_timer_stop(&c->timer);
	free(c->queue);
	c->queue = xstrdup(req->name);
}

/* Act on a checked request; m is ours (freed or kept for put). */
static void
conn_dispatch(struct conn *c, struct ctl_msg *m, struct ctl_request *req)
{
	struct supervisor	*sv = c->ctl->sv;
	struct sv_proc_add	 add;
	struct ctl_frame	 fr;
	struct wqueue		*wq;
	char			*cause = NULL;
	int			 r = 0, started = 0;

	/* Rates are kept while someone asks for them (sampler.h). */
	if (req->cmd == CTL_LIST || req->cmd == CTL_STATUS ||
	    req->cmd == CTL_QUEUES || req->cmd == CTL_METRICS)
		sampler_touch(c->ctl->sampler);
	switch (req->cmd) {
	case CTL_LIST:
		conn_list(c);
		break;
	case CTL_STATUS:
		conn_status(c, req->name);
		break;
	case CTL_START:
		r = supervisor_start_unit(sv, req->name, &started, &cause);
		break;
	case CTL_STOP:
	case CTL_RESTART:
	case CTL_REMOVE:
		conn_unit_wait(c, req);
		break;
	case CTL_SCALE:
		r = supervisor_scale(sv, req->name, req->count, &cause);
		break;
	case CTL_SIGNAL:
		r = supervisor_signal_unit(sv, req->name, req->sig, &cause);
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
		if ((wq = supervisor_queue(sv, c->queue)) == NULL) {
			conn_fail_cause(c, xasprintf("no such queue: %s",
			    c->queue));
			break;
		}
		if (wqueue_is_closed(wq)) {
			conn_fail_cause(c, xasprintf("queue %s is closed",
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
	case CTL_GET_ACK:
		c->queue = xstrdup(req->name);
		c->state = req->cmd == CTL_GET_ACK ? CONN_GET_ACK : CONN_GET;
		conn_get(c);
		break;
	case CTL_CLOSE:
		if ((wq = supervisor_queue(sv, req->name)) == NULL) {
			cause = xasprintf("no such queue: %s", req->name);
			r = -1;
		} else
			r = wqueue_close(wq, &cause);
		break;
	case CTL_QUEUES:
		conn_queues(c);
		break;
	case CTL_METRICS:
		conn_metrics(c);
		break;
	case CTL_LOGS:
	case CTL_FOLLOW:
		conn_logs(c, req, req->cmd == CTL_FOLLOW);
		break;
	case CTL_RELOAD:
		/* Logged as a reload on SIGHUP is: the log tells both apart. */
		log_info("ctl reload: reloading");
		if ((r = supervisor_reload(sv, &cause)) == -1)
			log_warnx("reload refused, everything keeps running: "
			    "%s", cause);
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
		if (r == -1)
			conn_fail_cause(c, cause);
		else if (started == 0)
			conn_ok(c, "already", req->name);
		else
			conn_ok(c, "unit", req->name);
		break;
	case CTL_SCALE:
	case CTL_SIGNAL:
	case CTL_ADD_PROC:
	case CTL_ADD_TASK:
		if (r == -1)
			conn_fail_cause(c, cause);
		else
			conn_ok(c, "unit", req->name);
		break;
	case CTL_CLOSE:
		if (r == -1)
			conn_fail_cause(c, cause);
		else
			conn_ok(c, "queue", req->name);
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

/*
 * The entry point of control.c: a complete frame, m ours. The first is
 * the request; a put stream's frames of items follow it. Returns 1 when
 * c waits or was answered, 0 when control.c may read further frames.
 */
static int
conn_frame_cb(struct conn *c, struct ctl_msg *m)
{
	struct ctl_request	 req;
	char			*cause = NULL;

	if (c->state == CONN_PUT)
		return conn_put_frame(c, m);
	if (ctlproto_request_parse(m, &req, &cause) == -1) {
		ctlproto_msg_release(m);
		conn_fail_cause(c, cause);
		return 1;
	}
	c->waiter.fn = conn_waiter_cb;
	c->waiter.arg = c;
	conn_dispatch(c, m, &req);
	/* put: the request's own items go in now. */
	if (c->state == CONN_PUT && !c->closing && !c->done &&
	    c->items.n > 0)
		return conn_put_pump(c);
	return 0;
}

int
control_start(uv_loop_t *loop, struct supervisor *sv, const char *path,
    const char *manifest, struct control **out, char **cause)
{
	return control_listen(loop, sv, path, manifest, conn_frame_cb, out,
	    cause);
}

/* Rates and metrics come from s from now on. */
void
control_set_sampler(struct control *ctl, struct sampler *s)
{
	ctl->sampler = s;
}
