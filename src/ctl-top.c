/*
 * `pytasking-run ctl top`: a live view of a running supervisor, drawn
 * with ncurses, or plain snapshots in batch mode. Each refresh asks the
 * control socket for the units, the queues (their rates and a minute of
 * depth are kept by the supervisor) and, when the log pane is open, the
 * selected unit's recent lines; keys stop, start and restart units. Knows
 * the supervisor only through the protocol (ctl-conn.c's exchange).
 */
#include "config.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>

#include "buf.h"
#include "ctl-int.h"
#include "ctlproto.h"
#include "gauge.h"
#include "util.h"
#include "xmalloc.h"

/* Depth values drawn at most (the supervisor keeps a minute of them). */
#define TOP_HISTORY	60
/* Lines of the log pane kept. */
#define TOP_LOG_LINES	200
/* Width of a queue's depth bar, and longest filter. */
#define TOP_BAR		16
#define TOP_FILTER	64

struct tunit {
	char		*name;
	char		*base;
	char		*kind;
	char		*state;
	char		*last_exit;	/* NULL: none yet */
	long		 pid;
	int64_t		 restarts;
	int64_t		 uptime_ms;
	int64_t		 cpu_pct;
	int64_t		 rss;		/* -1: not known */
	int64_t		 exit_status;
	int64_t		 in_flight;	/* -1: reads no queue */
};

struct tqueue {
	char		*name;
	char		*mode;
	int64_t		 depth, capacity, in_s, out_s, dropped;
	int64_t		 redelivered, producers, pending, consumers;
	int64_t		 in_flight;
	uint64_t	 hist[TOP_HISTORY];
	size_t		 nhist;
};

enum row_kind {
	ROW_TEXT,	/* a title or a column header */
	ROW_UNIT,	/* a unit, or a replica under its group */
	ROW_GROUP,	/* the replicas of one unit */
	ROW_QUEUE,
};

struct row {
	enum row_kind	 kind;
	char		*text;
	char		*name;		/* what s, S, r and l act on */
	const char	*state;		/* borrowed; coloured */
	size_t		 state_off;	/* where the state is in text */
	int		 bold;
};

struct top {
	const char	 *sock;
	int		  batch;
	long		  iterations;	/* 0: forever */
	uint64_t	  delay_ms;
	int		  utf8;
	int		  colour;
	struct tunit	 *units;
	size_t		  nunits;
	struct tqueue	 *queues;
	size_t		  nqueues;
	char		**expanded;	/* groups shown with their replicas */
	size_t		  nexpanded;
	char		 *selected;	/* the selected row's name */
	char		  filter[TOP_FILTER];
	int		  show_log;
	char		**log;
	size_t		  nlog;
	char		  status[256];
	int		  help;
	struct row	 *rows;
	size_t		  nrows;
	size_t		  scroll;
};

static volatile sig_atomic_t top_quit;

static void
top_signal(int sig)
{
	top_quit = 1;
}

static void
top_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: pytasking-run ctl [-s SOCKET] top [-b] [-n N] [-d DURATION]\n"
	    "\n"
	    "A live view of units and queues.\n"
	    "\n"
	    "  -b, --batch       plain snapshots, no screen handling\n"
	    "  -n, --iterations N  stop after N snapshots or refreshes (default:\n"
	    "                    never; 1 when not on a terminal)\n"
	    "  -d, --delay DURATION  between refreshes (default 1s)\n"
	    "\n"
	    "Keys: up/down or k/j select, enter/right/left open or close a group,\n"
	    "s stop, S start, r restart, l log pane, / filter, ? help, q quit.\n");
}

/* Text of a field, allocated; NULL when absent or null. */
static char *
fstr(const struct record *r, const char *key)
{
	const struct field	*f = record_get(r, key);

	if (f == NULL || f->type == CTL_T_NULL)
		return NULL;
	return xstrdup(f->val);
}

static int64_t
fint(const struct record *r, const char *key, int64_t def)
{
	const struct field	*f = record_get(r, key);

	if (f == NULL || f->type != CTL_T_INT)
		return def;
	return strtoll(f->val, NULL, 10);
}

static void
top_free_units(struct top *t)
{
	size_t	i;

	for (i = 0; i < t->nunits; i++) {
		free(t->units[i].name);
		free(t->units[i].base);
		free(t->units[i].kind);
		free(t->units[i].state);
		free(t->units[i].last_exit);
	}
	free(t->units);
	t->units = NULL;
	t->nunits = 0;
	for (i = 0; i < t->nqueues; i++) {
		free(t->queues[i].name);
		free(t->queues[i].mode);
	}
	free(t->queues);
	t->queues = NULL;
	t->nqueues = 0;
}

static void
top_free_log(struct top *t)
{
	size_t	i;

	for (i = 0; i < t->nlog; i++)
		free(t->log[i]);
	free(t->log);
	t->log = NULL;
	t->nlog = 0;
}

static void
top_free_rows(struct top *t)
{
	size_t	i;

	for (i = 0; i < t->nrows; i++) {
		free(t->rows[i].text);
		free(t->rows[i].name);
	}
	free(t->rows);
	t->rows = NULL;
	t->nrows = 0;
}

/*
 * One request: words as the frame. Returns 0 with the reply in *c (the
 * caller calls ctl_conn_forget), 1 when the supervisor refused (message in
 * c->error), -1 with *cause when it is gone.
 */
static int
top_ask(struct top *t, struct ctl *c, const char *w1, const char *w2,
    char **cause)
{
	struct ctl_frame	fr;

	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->json = 1;		/* keep log lines as records */
	buf_init(&c->in);
	c->req = strcmp(w1, "logs") == 0 ? CTL_LOGS : CTL_LIST;
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, w1);
	if (w2 != NULL)
		ctlproto_frame_adds(&fr, w2);
	return ctl_conn_exchange(c, t->sock, &fr, cause);
}

/* The units, the queues and the log pane's lines, anew. */
static int
top_fetch(struct top *t, char **cause)
{
	struct tunit	*u;
	struct tqueue	*q;
	struct ctl	 c;
	char		*h, *p, *end;
	size_t		 i;
	int		 r;

	if ((r = top_ask(t, &c, "list", NULL, cause)) != 0) {
		if (r == 1)
			*cause = xstrdup(c.error);
		ctl_conn_forget(&c);
		return -1;
	}
	top_free_units(t);
	t->units = xcalloc(c.nrecs + 1, sizeof *t->units);
	for (i = 0; i < c.nrecs; i++) {
		u = &t->units[t->nunits++];
		u->name = fstr(&c.recs[i], "name");
		if (u->name == NULL)
			u->name = xstrdup("?");
		if ((u->base = fstr(&c.recs[i], "base")) == NULL)
			u->base = xstrdup(u->name);
		if ((u->kind = fstr(&c.recs[i], "kind")) == NULL)
			u->kind = xstrdup("?");
		if ((u->state = fstr(&c.recs[i], "state")) == NULL)
			u->state = xstrdup("?");
		u->last_exit = fstr(&c.recs[i], "last_exit");
		u->pid = (long)fint(&c.recs[i], "pid", 0);
		u->restarts = fint(&c.recs[i], "restarts", 0);
		u->uptime_ms = fint(&c.recs[i], "uptime_ms", 0);
		u->cpu_pct = fint(&c.recs[i], "cpu_pct", 0);
		u->rss = fint(&c.recs[i], "rss_bytes", -1);
		u->exit_status = fint(&c.recs[i], "exit_status", -1);
		u->in_flight = fint(&c.recs[i], "in_flight", -1);
	}
	ctl_conn_forget(&c);

	if ((r = top_ask(t, &c, "queues", NULL, cause)) != 0) {
		if (r == 1)
			*cause = xstrdup(c.error);
		ctl_conn_forget(&c);
		return -1;
	}
	t->queues = xcalloc(c.nrecs + 1, sizeof *t->queues);
	for (i = 0; i < c.nrecs; i++) {
		q = &t->queues[t->nqueues++];
		if ((q->name = fstr(&c.recs[i], "name")) == NULL)
			q->name = xstrdup("?");
		if ((q->mode = fstr(&c.recs[i], "mode")) == NULL)
			q->mode = xstrdup("?");
		q->depth = fint(&c.recs[i], "depth", 0);
		q->capacity = fint(&c.recs[i], "capacity", 0);
		q->in_s = fint(&c.recs[i], "in_per_s", 0);
		q->out_s = fint(&c.recs[i], "out_per_s", 0);
		q->dropped = fint(&c.recs[i], "dropped", 0);
		q->redelivered = fint(&c.recs[i], "redelivered", 0);
		q->producers = fint(&c.recs[i], "producers", 0);
		q->pending = fint(&c.recs[i], "producers_pending", 0);
		q->consumers = fint(&c.recs[i], "consumers", 0);
		q->in_flight = fint(&c.recs[i], "in_flight", 0);
		if ((h = fstr(&c.recs[i], "depth_history")) != NULL) {
			for (p = h; *p != '\0' && q->nhist < TOP_HISTORY;
			    p = end) {
				q->hist[q->nhist++] = strtoull(p, &end, 10);
				if (end == p)
					break;
			}
			free(h);
		}
	}
	ctl_conn_forget(&c);

	top_free_log(t);
	if (t->show_log && t->selected != NULL) {
		r = top_ask(t, &c, "logs", t->selected, cause);
		if (r == -1) {
			ctl_conn_forget(&c);
			return -1;
		}
		if (r == 1) {
			snprintf(t->status, sizeof t->status, "logs: %s",
			    c.error);
			ctl_conn_forget(&c);
			return 0;
		}
		i = c.nrecs > TOP_LOG_LINES ? c.nrecs - TOP_LOG_LINES : 0;
		t->log = xcalloc(c.nrecs - i + 1, sizeof *t->log);
		for (; i < c.nrecs; i++)
			if ((h = fstr(&c.recs[i], "line")) != NULL)
				t->log[t->nlog++] = h;
		ctl_conn_forget(&c);
	}
	return 0;
}

/* Uptime as ctl list shows it; "-" for none. */
static void
top_duration(int64_t ms, char *out, size_t len)
{
	ctl_format_uptime(ms > 0 ? (uint64_t)ms : 0, out, len);
}

/* "980K", "12.3M", "1.2G". */
static void
top_bytes(int64_t b, char *out, size_t len)
{
	if (b < 0)
		snprintf(out, len, "-");
	else if (b < 1024 * 1024)
		snprintf(out, len, "%lldK", (long long)(b + 1023) / 1024);
	else if (b < 1024LL * 1024 * 1024)
		snprintf(out, len, "%.1fM", (double)b / (1024 * 1024));
	else
		snprintf(out, len, "%.1fG", (double)b / (1024 * 1024 * 1024));
}

static int
top_is_expanded(const struct top *t, const char *base)
{
	size_t	i;

	for (i = 0; i < t->nexpanded; i++)
		if (strcmp(t->expanded[i], base) == 0)
			return 1;
	return 0;
}

static void
top_set_expanded(struct top *t, const char *base, int on)
{
	size_t	i;

	for (i = 0; i < t->nexpanded; i++)
		if (strcmp(t->expanded[i], base) == 0) {
			if (!on) {
				free(t->expanded[i]);
				t->expanded[i] = t->expanded[--t->nexpanded];
			}
			return;
		}
	if (on) {
		t->expanded = xreallocarray(t->expanded, t->nexpanded + 1,
		    sizeof *t->expanded);
		t->expanded[t->nexpanded++] = xstrdup(base);
	}
}

static int
top_matches(const struct top *t, const char *name)
{
	return t->filter[0] == '\0' || strstr(name, t->filter) != NULL;
}

static struct row *
top_add_row(struct top *t, enum row_kind kind, struct buf *text,
    const char *name)
{
	struct row	*r;

	t->rows = xreallocarray(t->rows, t->nrows + 1, sizeof *t->rows);
	r = &t->rows[t->nrows++];
	memset(r, 0, sizeof *r);
	r->kind = kind;
	buf_addc(text, '\0');
	r->text = buf_steal(text);
	buf_init(text);
	r->name = name != NULL ? xstrdup(name) : NULL;
	return r;
}

/* A row of a unit or a group: label (the name column), then columns. */
static void
top_unit_row(struct top *t, enum row_kind kind, const char *label,
    size_t nw, const char *name, const char *ukind, const char *state,
    const char *colour, const char *pid, int64_t cpu, int64_t rss,
    int64_t restarts, int64_t uptime, int64_t held, const char *last)
{
	struct row	*r;
	struct buf	 b;
	char		 rs[32], up[32], hs[32];
	size_t		 off;

	top_bytes(rss, rs, sizeof rs);
	top_duration(uptime, up, sizeof up);
	if (held < 0)
		snprintf(hs, sizeof hs, "-");
	else
		snprintf(hs, sizeof hs, "%lld", (long long)held);
	buf_init(&b);
	buf_addf(&b, "%-*s %-8s ", (int)nw, label, ukind);
	off = buf_used(&b);
	buf_addf(&b, "%-9s %7s %5lld %7s %8lld %7s %6s  %s", state, pid,
	    (long long)cpu, rs, (long long)restarts, up, hs, last);
	r = top_add_row(t, kind, &b, name);
	r->state_off = off;
	r->state = colour;
	buf_release(&b);
}

/* The row of one unit instance, its name after indent. */
static void
top_instance_row(struct top *t, const struct tunit *u, const char *indent,
    size_t nw)
{
	char	label[300], pid[24], last[64];

	snprintf(label, sizeof label, "%s%s", indent, u->name);
	snprintf(pid, sizeof pid, "%ld", u->pid);
	if (u->last_exit != NULL)
		snprintf(last, sizeof last, "%s (%lld)", u->last_exit,
		    (long long)u->exit_status);
	top_unit_row(t, ROW_UNIT, label, nw, u->name, u->kind, u->state,
	    u->state, u->pid > 0 ? pid : "-", u->cpu_pct, u->rss, u->restarts,
	    u->uptime_ms, u->in_flight, u->last_exit != NULL ? last : "-");
}

/*
 * Every row of the screen for a width: the title, the units (replicas
 * under their group, shown when the group is open or all is set), the
 * queues. width 0: no limit (batch).
 */
static void
top_render(struct top *t, size_t width, int all)
{
	struct tunit	*u, *v;
	struct tqueue	*q;
	struct buf	 b;
	char		 stamp[16], last[48], depth[48], label[300], prod[48];
	const char	*state;
	size_t		 i, j, n, nw = 6, qw = 7, running, prefix, sw;
	int64_t		 cpu, rss, restarts, held;
	time_t		 now = time(NULL);
	struct tm	 tm;
	int		 open, mixed;

	top_free_rows(t);
	buf_init(&b);
	for (i = 0; i < t->nunits; i++)
		if (strlen(t->units[i].name) + 4 > nw)
			nw = strlen(t->units[i].name) + 4;
	for (i = 0; i < t->nqueues; i++)
		if (strlen(t->queues[i].name) + 2 > qw)
			qw = strlen(t->queues[i].name) + 2;
	nw = nw > 32 ? 32 : nw;
	qw = qw > 24 ? 24 : qw;

	running = 0;
	for (i = 0; i < t->nunits; i++)
		if (strcmp(t->units[i].state, "running") == 0)
			running++;
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof stamp, "%H:%M:%S", &tm) == 0)
		snprintf(stamp, sizeof stamp, "--:--:--");
	buf_addf(&b, "pytasking-run top - %s - units: %zu, %zu running - "
	    "queues: %zu", stamp, t->nunits, running, t->nqueues);
	if (t->filter[0] != '\0')
		buf_addf(&b, " - filter: %s", t->filter);
	if (!t->batch)
		buf_adds(&b, " - ? help, q quit");
	top_add_row(t, ROW_TEXT, &b, NULL)->bold = 1;
	top_add_row(t, ROW_TEXT, &b, NULL);

	buf_addf(&b, "%-*s %-8s %-9s %7s %5s %7s %8s %7s %6s  %s", (int)nw,
	    "  UNIT", "KIND", "STATE", "PID", "CPU%", "RSS", "RESTARTS",
	    "UPTIME", "INFLT", "LAST EXIT");
	top_add_row(t, ROW_TEXT, &b, NULL)->bold = 1;
	for (i = 0; i < t->nunits; i++) {
		u = &t->units[i];
		/* A group is drawn once, at its first replica. */
		for (j = 0; j < i; j++)
			if (strcmp(t->units[j].base, u->base) == 0)
				break;
		if (j < i)
			continue;
		n = 0;
		cpu = restarts = 0;
		rss = held = -1;
		mixed = 0;
		for (j = i; j < t->nunits; j++) {
			v = &t->units[j];
			if (strcmp(v->base, u->base) != 0)
				continue;
			if (!top_matches(t, v->name) &&
			    !top_matches(t, v->base))
				continue;
			n++;
			cpu += v->cpu_pct;
			restarts += v->restarts;
			if (v->in_flight >= 0)
				held = (held < 0 ? 0 : held) + v->in_flight;
			if (v->rss >= 0)
				rss = (rss < 0 ? 0 : rss) + v->rss;
			if (strcmp(v->state, u->state) != 0)
				mixed = 1;
		}
		if (n == 0)
			continue;
		if (n == 1 && strcmp(u->name, u->base) == 0) {
			top_instance_row(t, u, "  ", nw);
			continue;
		}
		open = all || top_is_expanded(t, u->base);
		state = mixed ? "mixed" : u->state;
		snprintf(label, sizeof label, "%s %s", open ? "-" : "+",
		    u->base);
		snprintf(last, sizeof last, "%zu replicas", n);
		top_unit_row(t, ROW_GROUP, label, nw, u->base, u->kind, state,
		    mixed ? NULL : u->state, "-", cpu, rss, restarts, 0, held,
		    last);
		if (!open)
			continue;
		for (j = i; j < t->nunits; j++) {
			v = &t->units[j];
			if (strcmp(v->base, u->base) != 0 ||
			    (!top_matches(t, v->name) &&
			    !top_matches(t, v->base)))
				continue;
			top_instance_row(t, v, "    ", nw);
		}
	}

	top_add_row(t, ROW_TEXT, &b, NULL);
	buf_addf(&b, "%-*s %-9s %-*s %11s %6s %6s %7s %7s %7s %5s %6s  %s",
	    (int)qw, "  QUEUE", "MODE", TOP_BAR + 2, "DEPTH", "", "IN/S",
	    "OUT/S", "DROPPED", "REDELIV", "PROD", "CONS", "INFLT",
	    "LAST MINUTE");
	top_add_row(t, ROW_TEXT, &b, NULL)->bold = 1;
	for (i = 0; i < t->nqueues; i++) {
		q = &t->queues[i];
		if (!top_matches(t, q->name))
			continue;
		buf_addf(&b, "  %-*s %-9s [", (int)qw - 2, q->name, q->mode);
		gauge_bar(&b, TOP_BAR, q->depth > 0 ? (uint64_t)q->depth : 0,
		    q->capacity > 0 ? (uint64_t)q->capacity : 0);
		snprintf(depth, sizeof depth, "%lld/%lld", (long long)q->depth,
		    (long long)q->capacity);
		/* Producers live/pending (waiting for dependencies). */
		snprintf(prod, sizeof prod, "%lld/%lld",
		    (long long)q->producers, (long long)q->pending);
		buf_addf(&b, "] %11s %6lld %6lld %7lld %7lld %7s %5lld %6lld  ",
		    depth, (long long)q->in_s, (long long)q->out_s,
		    (long long)q->dropped, (long long)q->redelivered, prod,
		    (long long)q->consumers, (long long)q->in_flight);
		/* The sparkline takes what is left of the width. */
		prefix = buf_used(&b);
		/* Batch: no padding, the values there are. */
		sw = width > 0 ? (width > prefix ? width - prefix : 0) :
		    q->nhist;
		if (sw > TOP_HISTORY)
			sw = TOP_HISTORY;
		gauge_spark(&b, q->hist, q->nhist, sw, t->utf8);
		top_add_row(t, ROW_QUEUE, &b, q->name);
	}
	buf_release(&b);
}

/* The selectable row holding the selection, or the first unit's. */
static size_t
top_selected_row(struct top *t)
{
	size_t	i;

	for (i = 0; i < t->nrows; i++)
		if ((t->rows[i].kind == ROW_UNIT ||
		    t->rows[i].kind == ROW_GROUP) && t->selected != NULL &&
		    strcmp(t->rows[i].name, t->selected) == 0)
			return i;
	for (i = 0; i < t->nrows; i++)
		if (t->rows[i].kind == ROW_UNIT || t->rows[i].kind == ROW_GROUP) {
			free(t->selected);
			t->selected = xstrdup(t->rows[i].name);
			return i;
		}
	return SIZE_MAX;
}

/* Move the selection by dir rows among units and groups. */
static void
top_move(struct top *t, int dir)
{
	size_t	i = top_selected_row(t);

	if (i == SIZE_MAX)
		return;
	while ((dir < 0 && i > 0) || (dir > 0 && i + 1 < t->nrows)) {
		i = dir < 0 ? i - 1 : i + 1;
		if (t->rows[i].kind == ROW_UNIT ||
		    t->rows[i].kind == ROW_GROUP) {
			free(t->selected);
			t->selected = xstrdup(t->rows[i].name);
			return;
		}
	}
}

/* A snapshot as plain text. */
static int
top_print(struct top *t)
{
	size_t	i;

	top_render(t, 0, 1);
	for (i = 0; i < t->nrows; i++)
		printf("%s\n", t->rows[i].text);
	if (fflush(stdout) == EOF)
		return -1;
	return 0;
}

/* Say why there is nothing more to show, and free cause. */
static void
top_gone(int was_there, char *cause)
{
	if (was_there)
		fprintf(stderr, "pytasking-run: ctl top: the supervisor is "
		    "gone: %s\n", cause);
	else
		fprintf(stderr, "pytasking-run: ctl top: %s\n", cause);
	free(cause);
}

static int
top_batch(struct top *t)
{
	struct timespec	 ts;
	char		*cause = NULL;
	long		 n;

	for (n = 0; t->iterations == 0 || n < t->iterations; n++) {
		if (n > 0) {
			ts.tv_sec = (time_t)(t->delay_ms / 1000);
			ts.tv_nsec = (long)(t->delay_ms % 1000) * 1000000;
			while (nanosleep(&ts, &ts) == -1 && errno == EINTR &&
			    !top_quit)
				;
			if (top_quit)
				return 0;
			putchar('\n');
		}
		if (top_fetch(t, &cause) == -1) {
			top_gone(n > 0, cause);
			return 1;
		}
		if (top_print(t) == -1) {
			fprintf(stderr, "pytasking-run: ctl top: standard "
			    "output: %s\n", strerror(errno));
			return 1;
		}
	}
	return 0;
}

enum {
	PAIR_RUNNING = 1,
	PAIR_WAITING,
	PAIR_FAILED,
	PAIR_TITLE,
};

static int
top_state_pair(const char *state)
{
	if (state == NULL)
		return 0;
	if (strcmp(state, "running") == 0)
		return PAIR_RUNNING;
	if (strcmp(state, "failed") == 0)
		return PAIR_FAILED;
	if (strcmp(state, "waiting") == 0 || strcmp(state, "starting") == 0 ||
	    strcmp(state, "backoff") == 0 || strcmp(state, "stopping") == 0)
		return PAIR_WAITING;
	return 0;
}

/* Draw s at (y, 0), cut to the screen's width on a character boundary. */
static void
top_line(int y, const char *s)
{
	size_t	n = strlen(s), w = (size_t)COLS;

	if (n > w) {
		n = w;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	mvaddnstr(y, 0, s, (int)n);
}

static const char *const top_help_text[] = {
	"pytasking-run ctl top: keys",
	"",
	"  up, k          select the unit above",
	"  down, j        select the unit below",
	"  enter, right   open a group of replicas (left: close it)",
	"  s              stop the selected unit (a group: every replica)",
	"  S              start it",
	"  r              restart it",
	"  l              show or hide the selected unit's log",
	"  /              filter by name (empty: no filter)",
	"  ?              this help",
	"  q              quit",
	"",
	"  any key to go back",
	NULL
};

/* The whole screen. */
static void
top_draw(struct top *t)
{
	struct row	*r;
	size_t		 i, sel, body, logh = 0, first;
	int		 y, pair;
	char		 title[128];

	erase();
	if (t->help) {
		for (i = 0; top_help_text[i] != NULL && (int)i < LINES; i++)
			top_line((int)i, top_help_text[i]);
		refresh();
		return;
	}
	top_render(t, (size_t)COLS, 0);
	sel = top_selected_row(t);
	if (t->show_log)
		logh = (size_t)(LINES > 12 ? LINES / 3 : 0);
	body = LINES > (int)logh + 2 ? (size_t)LINES - logh - 2 : 1;
	/* Row 0 stays; the rest scrolls to keep the selection in view. */
	if (sel != SIZE_MAX) {
		if (sel < t->scroll + 1)
			t->scroll = sel > 0 ? sel - 1 : 0;
		if (sel >= t->scroll + body)
			t->scroll = sel - body + 1;
	}
	if (t->rows != NULL) {
		if (t->rows[0].bold)
			attron(A_BOLD);
		top_line(0, t->rows[0].text);
		attroff(A_BOLD);
	}
	for (i = t->scroll + 1, y = 1; i < t->nrows && (size_t)y <= body;
	    i++, y++) {
		r = &t->rows[i];
		if (i == sel)
			attron(A_REVERSE);
		if (r->bold)
			attron(A_BOLD);
		top_line(y, r->text);
		if (i == sel)
			mvchgat(y, 0, -1, A_REVERSE, 0, NULL);
		pair = top_state_pair(r->state);
		if (t->colour && pair != 0 && r->state_off < (size_t)COLS)
			mvchgat(y, (int)r->state_off, (int)strlen(r->state),
			    i == sel ? A_REVERSE | A_BOLD : A_BOLD, (short)pair,
			    NULL);
		attroff(A_REVERSE | A_BOLD);
	}
	if (logh > 0) {
		y = LINES - (int)logh - 1;
		snprintf(title, sizeof title, "-- log of %s (l closes) --",
		    t->selected != NULL ? t->selected : "-");
		attron(A_BOLD);
		top_line(y++, title);
		attroff(A_BOLD);
		first = t->nlog > logh - 1 ? t->nlog - (logh - 1) : 0;
		for (i = first; i < t->nlog && y < LINES - 1; i++, y++) {
			for (char *p = t->log[i]; *p != '\0'; p++)
				if ((unsigned char)*p < 0x20 || *p == 0x7f)
					*p = '?';
			top_line(y, t->log[i]);
		}
	}
	if (t->status[0] != '\0')
		top_line(LINES - 1, t->status);
	refresh();
}

/* Read a filter on the last line; Escape keeps the old one. */
static void
top_read_filter(struct top *t)
{
	char	f[TOP_FILTER];
	size_t	n = strlen(t->filter);
	int	ch;

	memcpy(f, t->filter, sizeof f);
	timeout(-1);
	curs_set(1);
	for (;;) {
		move(LINES - 1, 0);
		clrtoeol();
		mvprintw(LINES - 1, 0, "filter: %s", f);
		refresh();
		ch = getch();
		if (ch == '\n' || ch == KEY_ENTER || ch == '\r') {
			memcpy(t->filter, f, sizeof f);
			break;
		}
		if (ch == 27 || top_quit)
			break;
		if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n > 0)
			f[--n] = '\0';
		else if (ch >= 0x20 && ch < 0x7f && n + 1 < sizeof f) {
			f[n++] = (char)ch;
			f[n] = '\0';
		}
	}
	curs_set(0);
	t->status[0] = '\0';
}

/* s, S, r: the command on the selected unit; the answer in the status. */
static int
top_act(struct top *t, const char *cmd, char **cause)
{
	struct ctl	c;
	int		r;

	if (t->selected == NULL)
		return 0;
	r = top_ask(t, &c, cmd, t->selected, cause);
	if (r == 0)
		snprintf(t->status, sizeof t->status, "%s %s: done", cmd,
		    t->selected);
	else if (r == 1)
		snprintf(t->status, sizeof t->status, "%s %s: %s", cmd,
		    t->selected, c.error);
	ctl_conn_forget(&c);
	return r == -1 ? -1 : 0;
}

static uint64_t
top_now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
top_screen(struct top *t)
{
	SCREEN		*scr;
	uint64_t	 next = 0, now;
	long		 nfetch = 0;
	size_t		 i;
	char		*cause = NULL;
	int		 ch, wait;

	/* A supervisor absent from the start: say so, screen untouched. */
	if (top_fetch(t, &cause) == -1) {
		top_gone(0, cause);
		return 1;
	}
	next = top_now_ms() + t->delay_ms;
	/* newterm, not initscr: an unknown terminal is an error, not exit. */
	if ((scr = newterm(NULL, stdout, stdin)) == NULL) {
		fprintf(stderr, "pytasking-run: ctl top: cannot use the "
		    "terminal (TERM=%s)\n", getenv("TERM") != NULL ?
		    getenv("TERM") : "");
		return 1;
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	if (t->colour && has_colors() && start_color() == OK) {
		use_default_colors();
		init_pair(PAIR_RUNNING, COLOR_GREEN, -1);
		init_pair(PAIR_WAITING, COLOR_YELLOW, -1);
		init_pair(PAIR_FAILED, COLOR_RED, -1);
		init_pair(PAIR_TITLE, COLOR_CYAN, -1);
	} else
		t->colour = 0;
	for (;;) {
		now = top_now_ms();
		if (now >= next) {
			/* -n: that many refreshes, the first one included. */
			if (t->iterations > 0 && ++nfetch >= t->iterations)
				break;
			if (top_fetch(t, &cause) == -1)
				goto gone;
			next = now + t->delay_ms;
		}
		top_draw(t);
		if (top_quit)
			break;
		now = top_now_ms();
		wait = next > now ? (int)(next - now) : 0;
		timeout(wait);
		ch = getch();
		if (ch == ERR || top_quit)
			continue;
		if (t->help) {
			t->help = 0;
			continue;
		}
		switch (ch) {
		case 'q':
		case 'Q':
			goto out;
		case KEY_UP:
		case 'k':
			top_move(t, -1);
			next = t->show_log ? 0 : next;
			break;
		case KEY_DOWN:
		case 'j':
			top_move(t, 1);
			next = t->show_log ? 0 : next;
			break;
		case KEY_RIGHT:
		case KEY_LEFT:
		case KEY_ENTER:
		case '\n':
		case '\r':
		case ' ':
			i = top_selected_row(t);
			if (i != SIZE_MAX && t->rows[i].kind == ROW_GROUP)
				top_set_expanded(t, t->rows[i].name,
				    ch == KEY_LEFT ? 0 : ch == KEY_RIGHT ? 1 :
				    !top_is_expanded(t, t->rows[i].name));
			else if (i != SIZE_MAX && ch == KEY_LEFT) {
				/* From a replica to its closed group. */
				for (i = 0; i < t->nunits; i++)
					if (strcmp(t->units[i].name,
					    t->selected) == 0)
						break;
				if (i < t->nunits && strcmp(t->units[i].base,
				    t->units[i].name) != 0) {
					top_set_expanded(t, t->units[i].base,
					    0);
					free(t->selected);
					t->selected = xstrdup(t->units[i].base);
				}
			}
			break;
		case 's':
		case 'S':
		case 'r':
			if (top_act(t, ch == 's' ? "stop" : ch == 'S' ?
			    "start" : "restart", &cause) == -1)
				goto gone;
			next = 0;
			break;
		case 'l':
			t->show_log = !t->show_log;
			next = 0;
			break;
		case '/':
			top_read_filter(t);
			break;
		case '?':
			t->help = 1;
			break;
		case KEY_RESIZE:
			/* top_draw renders for the new size. */
			break;
		default:
			break;
		}
	}
out:
	endwin();
	delscreen(scr);
	return 0;
gone:
	endwin();
	delscreen(scr);
	top_gone(1, cause);
	return 1;
}

int
ctl_top_main(const char *sock, int argc, char **argv)
{
	struct sigaction	 sa;
	struct top		 t;
	const char		*errstr, *arg, *no;
	uint64_t		 u;
	int			 i, status, niter = 0;
	size_t			 k;

	memset(&t, 0, sizeof t);
	t.sock = sock;
	t.delay_ms = 1000;
	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (strcmp(arg, "-b") == 0 || strcmp(arg, "--batch") == 0) {
			t.batch = 1;
			continue;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			top_usage(stdout);
			return 0;
		}
		if (strcmp(arg, "-n") == 0 || strcmp(arg, "--iterations") == 0 ||
		    strcmp(arg, "-d") == 0 || strcmp(arg, "--delay") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "pytasking-run: ctl top: %s "
				    "needs a value\n", arg);
				return 2;
			}
			if (arg[1] == 'n' || arg[2] == 'i') {
				if (util_parse_uint(argv[++i], 1, 1000000000,
				    &u, &errstr) == -1) {
					fprintf(stderr, "pytasking-run: ctl top:"
					    " -n: %s: %s\n", argv[i], errstr);
					return 2;
				}
				t.iterations = (long)u;
				niter = 1;
			} else {
				if (util_parse_duration(argv[++i], &u,
				    &errstr) == -1 || u < 100) {
					fprintf(stderr, "pytasking-run: ctl top:"
					    " -d: %s: %s\n", argv[i], u < 100 &&
					    errstr == NULL ? "at least 100ms" :
					    errstr != NULL ? errstr :
					    "at least 100ms");
					return 2;
				}
				t.delay_ms = u;
			}
			continue;
		}
		fprintf(stderr, "pytasking-run: ctl top: unexpected argument "
		    "%s\n", arg);
		top_usage(stderr);
		return 2;
	}
	/* Not a terminal: one plain snapshot unless told otherwise. */
	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
		t.batch = 1;
		if (!niter)
			t.iterations = 1;
	}
	(void)setlocale(LC_ALL, "");
	t.utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	no = getenv("NO_COLOR");
	t.colour = no == NULL || *no == '\0';

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = top_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);

	status = t.batch ? top_batch(&t) : top_screen(&t);

	top_free_units(&t);
	top_free_log(&t);
	top_free_rows(&t);
	for (k = 0; k < t.nexpanded; k++)
		free(t.expanded[k]);
	free(t.expanded);
	free(t.selected);
	return status;
}
