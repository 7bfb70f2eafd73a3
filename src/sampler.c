/*
 * The sampler: one timer on the supervisor's loop, running only while
 * someone asks. Each tick lists the units and queues through
 * supervisor.h, reads /proc/PID/stat and statm of each live process
 * (procfs answers from memory: no disk, no wait), and keeps per queue a
 * ring of its counters. Owns its copies of names; borrows the
 * supervisor, which outlives it.
 *
 * Why asleep by default: an idle supervisor must cost next to no CPU (a
 * few milliseconds in ten seconds with ten thousand idle tasks; see
 * tests/bench), and a tick lists every unit. Kept across a sleep: each
 * process's CPU of earlier runs, so cpu_seconds_total never goes down;
 * dropped: the queues' rings, whose old values would pass for recent.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "buf.h"
#include "log.h"
#include "manifest.h"
#include "metrics.h"
#include "queue.h"
#include "rates.h"
#include "sampler.h"
#include "supervisor.h"
#include "wire.h"
#include "xmalloc.h"

/* One unit instance, by name; kept sorted by name for bsearch. */
struct sunit {
	char		*name;
	long		 pid;		/* of the last sample; 0: none */
	uint64_t	 base_ms;	/* CPU of runs that ended */
	uint64_t	 run_ms;	/* CPU of the current run's process */
	uint64_t	 prev_t;	/* time and total of the sample before */
	uint64_t	 prev_total;
	unsigned	 cpu_pct;
	int		 has_rss;
	uint64_t	 rss_bytes;
};

struct squeue {
	char		*name;
	struct rates	 in, out, depth;
};

struct sampler {
	uv_loop_t		*loop;
	struct supervisor	*sv;
	uv_timer_t		 timer;
	int			 awake;		/* the timer runs */
	uint64_t		 last_ask;	/* loop time of the last touch */
	struct sunit		*units;
	size_t			 nunits;
	struct squeue		*queues;
	size_t			 nqueues;
	long			 clk_tck;
	long			 page_size;
};

static int
sunit_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sunit *)a)->name,
	    ((const struct sunit *)b)->name);
}

static struct sunit *
sampler_find_unit(const struct sampler *s, const char *name)
{
	struct sunit	key;

	if (s == NULL || s->nunits == 0)
		return NULL;
	key.name = (char *)name;
	return bsearch(&key, s->units, s->nunits, sizeof *s->units, sunit_cmp);
}

static struct squeue *
sampler_find_queue(const struct sampler *s, const char *name)
{
	size_t	i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < s->nqueues; i++)
		if (strcmp(s->queues[i].name, name) == 0)
			return &s->queues[i];
	return NULL;
}

/* Read a small /proc file whole; -1 when the process is gone. */
static int
read_proc(const char *path, char *out, size_t len)
{
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	do
		n = read(fd, out, len - 1);
	while (n == -1 && errno == EINTR);
	(void)close(fd);
	if (n <= 0)
		return -1;
	out[n] = '\0';
	return 0;
}

/*
 * utime + stime of pid and of its children it has waited for (a shell's
 * commands), in clock ticks, and its resident pages. The command name in
 * stat is in parentheses and may hold anything, so the fields are
 * counted from the last ')'.
 */
static int
proc_usage(long pid, uint64_t *ticks, uint64_t *pages)
{
	char			 path[64], text[1024], *p;
	unsigned long long	 ut, st, size, res;
	long long		 cut, cst;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if (read_proc(path, text, sizeof text) == -1 ||
	    (p = strrchr(text, ')')) == NULL)
		return -1;
	/*
	 * After ')': state ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime stime cutime cstime (fields 3-17).
	 */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %lld %lld", &ut, &st, &cut, &cst) != 4)
		return -1;
	*ticks = ut + st + (unsigned long long)(cut > 0 ? cut : 0) +
	    (unsigned long long)(cst > 0 ? cst : 0);
	snprintf(path, sizeof path, "/proc/%ld/statm", pid);
	if (read_proc(path, text, sizeof text) == -1 ||
	    sscanf(text, "%llu %llu", &size, &res) != 2)
		return -1;
	*pages = res;
	return 0;
}

/* Sample one unit into e (new or carried over from the last tick). */
static void
sample_unit(struct sampler *s, struct sunit *e, const struct sv_unit_info *u,
    uint64_t now)
{
	uint64_t	ticks, pages, total;

	/* A new process (or none): what the old one used is kept. */
	if (e->pid != u->pid) {
		e->base_ms += e->run_ms;
		e->run_ms = 0;
		e->pid = u->pid;
	}
	e->has_rss = 0;
	e->rss_bytes = 0;
	if (u->pid > 0 && proc_usage(u->pid, &ticks, &pages) == 0) {
		e->run_ms = ticks * 1000 / (uint64_t)s->clk_tck;
		e->has_rss = 1;
		e->rss_bytes = pages * (uint64_t)s->page_size;
	}
	total = e->base_ms + e->run_ms;
	e->cpu_pct = 0;
	if (u->pid > 0 && e->prev_t != 0 && now > e->prev_t &&
	    total >= e->prev_total)
		e->cpu_pct = (unsigned)(((total - e->prev_total) * 100 +
		    (now - e->prev_t) / 2) / (now - e->prev_t));
	e->prev_t = now;
	e->prev_total = total;
}

/* Sample every unit: a new sorted array, carrying over what is known. */
static void
sample_units(struct sampler *s, uint64_t now)
{
	struct sv_unit_info	*info;
	struct sunit		*units, *old;
	size_t			 n, i, k;

	n = supervisor_list(s->sv, &info);
	units = xcalloc(n + 1, sizeof *units);
	for (i = k = 0; i < n; i++) {
		/*
		 * Only units that have had a process get an entry: a task
		 * has no CPU or memory of its own to show.
		 */
		old = sampler_find_unit(s, info[i].name);
		if (old == NULL && info[i].pid <= 0)
			continue;
		/* The old array stays sorted for bsearch: names copied. */
		if (old != NULL)
			units[k] = *old;
		units[k].name = xstrdup(info[i].name);
		sample_unit(s, &units[k++], &info[i], now);
	}
	free(info);
	for (i = 0; i < s->nunits; i++)
		free(s->units[i].name);
	free(s->units);
	qsort(units, k, sizeof *units, sunit_cmp);
	s->units = units;
	s->nunits = k;
}

/* Sample every queue's counters into its rings. */
static void
sample_queues(struct sampler *s, uint64_t now)
{
	const struct queue_counters	 *k;
	struct wqueue			**qs;
	struct squeue			 *q;
	size_t				  n, i;

	n = supervisor_queues(s->sv, &qs);
	for (i = 0; i < n; i++) {
		if ((q = sampler_find_queue(s, wqueue_name(qs[i]))) == NULL) {
			s->queues = xreallocarray(s->queues, s->nqueues + 1,
			    sizeof *s->queues);
			q = &s->queues[s->nqueues++];
			q->name = xstrdup(wqueue_name(qs[i]));
			rates_init(&q->in);
			rates_init(&q->out);
			rates_init(&q->depth);
		}
		k = wqueue_counters(qs[i]);
		rates_add(&q->in, now, k->in);
		rates_add(&q->out, now, k->out);
		rates_add(&q->depth, now, k->depth);
	}
}

/* Forget the queues' rings (going to sleep). */
static void
sampler_drop_queues(struct sampler *s)
{
	size_t	i;

	for (i = 0; i < s->nqueues; i++)
		free(s->queues[i].name);
	free(s->queues);
	s->queues = NULL;
	s->nqueues = 0;
}

static void
sampler_timer_cb(uv_timer_t *t)
{
	struct sampler	*s = t->data;
	uint64_t	 now = uv_now(s->loop);

	if (now - s->last_ask > SAMPLER_LINGER_MS) {
		(void)uv_timer_stop(&s->timer);
		s->awake = 0;
		sampler_drop_queues(s);
		return;
	}
	sample_units(s, now);
	sample_queues(s, now);
}

void
sampler_touch(struct sampler *s)
{
	int	r;

	if (s == NULL)
		return;
	s->last_ask = uv_now(s->loop);
	if (s->awake)
		return;
	sample_units(s, s->last_ask);
	sample_queues(s, s->last_ask);
	if ((r = uv_timer_start(&s->timer, sampler_timer_cb,
	    SAMPLER_INTERVAL_MS, SAMPLER_INTERVAL_MS)) != 0) {
		log_warnx("sampler: %s", uv_strerror(r));
		return;
	}
	s->awake = 1;
}

int
sampler_start(uv_loop_t *loop, struct supervisor *sv, struct sampler **out)
{
	struct sampler	*s;
	int		 r;

	s = xcalloc(1, sizeof *s);
	s->loop = loop;
	s->sv = sv;
	if ((s->clk_tck = sysconf(_SC_CLK_TCK)) <= 0)
		s->clk_tck = 100;
	if ((s->page_size = sysconf(_SC_PAGESIZE)) <= 0)
		s->page_size = 4096;
	if ((r = uv_timer_init(loop, &s->timer)) != 0) {
		free(s);
		return r;
	}
	s->timer.data = s;
	uv_unref((uv_handle_t *)&s->timer);
	*out = s;
	return 0;
}

static void
sampler_close_cb(uv_handle_t *h)
{
	struct sampler	*s = h->data;
	size_t		 i;

	for (i = 0; i < s->nunits; i++)
		free(s->units[i].name);
	free(s->units);
	sampler_drop_queues(s);
	free(s);
}

void
sampler_free(struct sampler *s)
{
	if (s == NULL)
		return;
	(void)uv_timer_stop(&s->timer);
	uv_close((uv_handle_t *)&s->timer, sampler_close_cb);
}

void
sampler_unit(const struct sampler *s, const char *name,
    struct sampler_unit_stats *st)
{
	const struct sunit	*e = sampler_find_unit(s, name);

	memset(st, 0, sizeof *st);
	if (e == NULL)
		return;
	st->cpu_ms = e->base_ms + e->run_ms;
	st->cpu_pct = e->cpu_pct;
	st->has_rss = e->has_rss;
	st->rss_bytes = e->rss_bytes;
}

/* A queue's capacity in the manifest in force. */
static uint64_t
sampler_capacity(const struct sampler *s, const char *name)
{
	const struct manifest	*m = supervisor_manifest(s->sv);
	const struct queue_spec	*spec;

	spec = m != NULL ? manifest_find_queue(m, name) : NULL;
	return spec != NULL && spec->capacity > 0 ? spec->capacity :
	    QUEUE_DEFAULT_CAPACITY;
}

void
sampler_queue(const struct sampler *s, const char *name,
    struct sampler_queue_stats *st)
{
	const struct squeue	*q = sampler_find_queue(s, name);

	memset(st, 0, sizeof *st);
	if (s == NULL)
		return;
	st->capacity = sampler_capacity(s, name);
	if (q == NULL)
		return;
	st->in_per_s = rates_per_sec(&q->in, SAMPLER_RATE_WINDOW_MS);
	st->out_per_s = rates_per_sec(&q->out, SAMPLER_RATE_WINDOW_MS);
	st->ndepth = rates_values(&q->depth, st->depth, SAMPLER_HISTORY);
}

/* Every unit and queue as a metrics snapshot, then as text. */
void
sampler_metrics(const struct sampler *s, struct buf *b)
{
	const struct queue_counters	 *k;
	struct sampler_unit_stats	  st;
	struct metrics_unit		 *mu;
	struct metrics_queue		 *mq;
	struct sv_unit_info		 *info;
	struct wqueue			**qs;
	size_t				  nu, nq, i, blen;

	nu = supervisor_list(s->sv, &info);
	mu = xcalloc(nu + 1, sizeof *mu);
	for (i = 0; i < nu; i++) {
		mu[i].unit = info[i].base != NULL ? info[i].base :
		    info[i].name;
		blen = strlen(mu[i].unit);
		if (strcmp(info[i].name, mu[i].unit) != 0 &&
		    strncmp(info[i].name, mu[i].unit, blen) == 0 &&
		    info[i].name[blen] == '.')
			mu[i].replica = info[i].name + blen + 1;
		mu[i].up = info[i].up;
		mu[i].ready = info[i].ready;
		mu[i].restarts = info[i].restarts;
		sampler_unit(s, info[i].name, &st);
		mu[i].cpu_ms = st.cpu_ms;
		mu[i].has_rss = st.has_rss && info[i].pid > 0;
		mu[i].rss_bytes = st.rss_bytes;
	}
	nq = supervisor_queues(s->sv, &qs);
	mq = xcalloc(nq + 1, sizeof *mq);
	for (i = 0; i < nq; i++) {
		k = wqueue_counters(qs[i]);
		mq[i].queue = wqueue_name(qs[i]);
		mq[i].capacity = sampler_capacity(s, mq[i].queue);
		mq[i].depth = k->depth;
		mq[i].in = k->in;
		mq[i].out = k->out;
		mq[i].dropped = k->dropped;
		mq[i].redelivered = k->redelivered;
		mq[i].torn = wqueue_torn(qs[i]);
	}
	metrics_format(b, mu, nu, mq, nq);
	free(mu);
	free(mq);
	free(info);
}
