/*
 * The sampler: one timer on the supervisor's loop, running only while
 * someone asks. Each tick lists the units and queues through
 * supervisor.h, and keeps per queue a ring of its counters. A unit's
 * figures are those of its process group (the pid of its process, which
 * is spawned as a group leader): a scan of /proc reads the stat of every
 * process and adds up the members of each live unit's group. procfs
 * answers from memory, but a scan's cost grows with the processes of the
 * whole machine (2,000 take tens of milliseconds), so it runs on libuv's
 * thread pool, never on the loop, one at a time, and is measured and
 * spaced out to cost at most 1/SAMPLER_SCAN_SHARE of a CPU. On waking,
 * the first answer must not wait for it: the leaders alone are read at
 * once (a read per unit), and the group's figures follow. Owns its copies
 * of names; borrows the supervisor, which outlives it.
 *
 * Why asleep by default: an idle supervisor must cost next to no CPU (a
 * few milliseconds in ten seconds with ten thousand idle tasks; see
 * tests/bench), and a tick lists every unit. Kept across a sleep: each
 * process's CPU of earlier runs, so cpu_seconds_total never goes down;
 * dropped: the queues' rings, whose old values would pass for recent.
 */
#include "config.h"

#include <dirent.h>
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

/*
 * At most 1/SAMPLER_SCAN_SHARE of a CPU goes to the scans of /proc: a
 * scan that took d ms is followed by the next one no sooner than
 * SAMPLER_SCAN_SHARE * d ms later (and never sooner than the next tick).
 */
#define SAMPLER_SCAN_SHARE	20

/*
 * A process of a unit's group, as last scanned: its own CPU and that of
 * its children it has waited for, in clock ticks.
 */
struct smember {
	long		 pid;
	long		 ppid;
	uint64_t	 ticks;
};

/* One process of the scan: the group it counts for, and its figures. */
struct sproc {
	long		 group;		/* the unit's pid */
	long		 pid;
	long		 ppid;
	uint64_t	 ticks;
	uint64_t	 pages;		/* resident */
};

/*
 * A scan of /proc on the thread pool. The thread touches nothing but
 * this: want is read, procs, nseen, took_ms and error are written.
 */
struct sscan {
	uv_work_t	 work;
	struct sampler	*s;
	uint64_t	 now;		/* loop time when asked */
	long		*want;		/* the units' pids, sorted */
	size_t		 nwant;
	struct sproc	*procs;
	size_t		 nprocs;
	size_t		 nseen;		/* processes read */
	uint64_t	 took_ms;
	int		 error;		/* errno of opendir, or 0 */
};

/* One unit instance, by name; kept sorted by name for bsearch. */
struct sunit {
	char		*name;
	long		 pid;		/* of the last sample; 0: none */
	uint64_t	 base_ms;	/* CPU of runs that ended */
	uint64_t	 run_ms;	/* CPU of the current run's group */
	uint64_t	 gone_ticks;	/* run: of members reaped outside it */
	struct smember	*members;	/* run: the group, sorted by pid */
	size_t		 nmembers;
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
	uint64_t		 next_scan;	/* loop time */
	struct sscan		*scan;		/* in flight, or NULL */
	int			 closing;	/* sampler_free was called */
	int			 timer_closed;
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

/* Forget the units (and their groups' members). */
static void
sampler_free_units(struct sampler *s)
{
	size_t	i;

	for (i = 0; i < s->nunits; i++) {
		free(s->units[i].name);
		free(s->units[i].members);
	}
	free(s->units);
	s->units = NULL;
	s->nunits = 0;
}

static int
long_cmp(const void *a, const void *b)
{
	long	x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static int
sproc_cmp(const void *a, const void *b)
{
	const struct sproc	*x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int
smember_cmp(const void *a, const void *b)
{
	return long_cmp(&((const struct smember *)a)->pid,
	    &((const struct smember *)b)->pid);
}

/*
 * One process of /proc: pid, ppid, process group, utime + stime +
 * cutime + cstime (its children it has waited for: a shell's commands)
 * in clock ticks, and resident pages. The command name is in parentheses
 * and may hold anything, so the fields are counted from the last ')'.
 */
static int
scan_stat(long pid, struct sproc *p, long *pgrp)
{
	char			 path[64], text[1024], *q;
	unsigned long long	 ut, st;
	long long		 cut, cst, rss;

	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	if (read_proc(path, text, sizeof text) == -1 ||
	    (q = strrchr(text, ')')) == NULL)
		return -1;
	/*
	 * After ')': state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt cmajflt utime stime cutime cstime priority nice
	 * num_threads itrealvalue starttime vsize rss (fields 3-24).
	 */
	if (sscanf(q + 1, " %*c %ld %ld %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %lld %lld %*d %*d %*d %*d %*u %*u %lld", &p->ppid,
	    pgrp, &ut, &st, &cut, &cst, &rss) != 7)
		return -1;
	p->pid = pid;
	p->ticks = ut + st + (unsigned long long)(cut > 0 ? cut : 0) +
	    (unsigned long long)(cst > 0 ? cst : 0);
	p->pages = rss > 0 ? (uint64_t)rss : 0;
	return 0;
}

/*
 * Scan /proc for the processes of the groups led by the pids in want
 * (sorted). A leader that has not reached setsid yet counts as its own
 * group's member. Returns the processes sorted by group and pid (*n of
 * them; free the array), or NULL with *n = 0; *nseen is how many
 * processes were read, *error the errno of a /proc that cannot be read.
 * On the thread pool: it must not log.
 */
static struct sproc *
scan_groups(const long *want, size_t nwant, size_t *n, size_t *nseen,
    int *error)
{
	struct sproc	*procs = NULL, p;
	struct dirent	*e;
	DIR		*d;
	size_t		 cap = 0;
	long		 pid, pgrp;

	*n = *nseen = 0;
	*error = 0;
	if (nwant == 0)
		return NULL;
	if ((d = opendir("/proc")) == NULL) {
		*error = errno;
		return NULL;
	}
	while ((e = readdir(d)) != NULL) {
		if ((pid = atol(e->d_name)) <= 0 ||
		    scan_stat(pid, &p, &pgrp) == -1)
			continue;
		(*nseen)++;
		if (bsearch(&pgrp, want, nwant, sizeof *want, long_cmp) !=
		    NULL)
			p.group = pgrp;
		else if (bsearch(&pid, want, nwant, sizeof *want,
		    long_cmp) != NULL)
			p.group = pid;
		else
			continue;
		if (*n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			procs = xreallocarray(procs, cap, sizeof *procs);
		}
		procs[(*n)++] = p;
	}
	(void)closedir(d);
	if (*n > 1)
		qsort(procs, *n, sizeof *procs, sproc_cmp);
	return procs;
}

/*
 * The processes with the pids in want (sorted), each as its own group's
 * only member: what waking can read at once, a read per unit.
 */
static struct sproc *
scan_leaders(const long *want, size_t nwant, size_t *n)
{
	struct sproc	*procs;
	size_t		 i;
	long		 pgrp;

	procs = xcalloc(nwant + 1, sizeof *procs);
	for (i = *n = 0; i < nwant; i++)
		if (scan_stat(want[i], &procs[*n], &pgrp) == 0)
			procs[(*n)++].group = want[i];
	return procs;
}

/*
 * The members of a run's group now are procs[0..n). A member seen last
 * time and gone now took its CPU with it, unless its parent is still a
 * member (then the parent waited for it: the CPU is in its cutime).
 */
static void
sunit_members(struct sunit *e, const struct sproc *procs, size_t n)
{
	struct smember	*m, key;
	size_t		 i;

	m = xcalloc(n + 1, sizeof *m);
	for (i = 0; i < n; i++) {
		m[i].pid = procs[i].pid;
		m[i].ppid = procs[i].ppid;
		m[i].ticks = procs[i].ticks;
	}
	for (i = 0; i < e->nmembers; i++) {
		key.pid = e->members[i].pid;
		if (bsearch(&key, m, n, sizeof *m, smember_cmp) != NULL)
			continue;
		key.pid = e->members[i].ppid;
		if (bsearch(&key, m, n, sizeof *m, smember_cmp) != NULL)
			continue;
		e->gone_ticks += e->members[i].ticks;
	}
	free(e->members);
	e->members = m;
	e->nmembers = n;
}

/* The processes of group in procs (sorted): the first, and *n of them. */
static const struct sproc *
sproc_group(const struct sproc *procs, size_t nprocs, long group, size_t *n)
{
	size_t	lo = 0, hi = nprocs, mid;

	*n = 0;
	if (nprocs == 0)
		return procs;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (procs[mid].group < group)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (*n = 0; lo + *n < nprocs && procs[lo + *n].group == group; (*n)++)
		;
	return procs + lo;
}

/*
 * Sample one unit into e (new or carried over from the last scan) from
 * procs, the processes of the groups (leaders: of the leaders only).
 */
static void
sample_unit(struct sampler *s, struct sunit *e, const struct sv_unit_info *u,
    const struct sproc *procs, size_t nprocs, int leaders, uint64_t now)
{
	const struct sproc	*first = NULL;
	uint64_t		 ticks = 0, pages = 0, total;
	size_t			 n = 0;

	/* A new process (or none): what the old run used is kept. */
	if (e->pid != u->pid) {
		e->base_ms += e->run_ms;
		e->run_ms = 0;
		e->gone_ticks = 0;
		free(e->members);
		e->members = NULL;
		e->nmembers = 0;
		e->pid = u->pid;
	}
	/*
	 * Waking, the leaders alone were read: a run whose group was seen
	 * keeps the group's figures (no rate: a quiet spell), and the
	 * leader of a new one counts alone until its group is seen.
	 */
	if (leaders && e->nmembers > 0) {
		e->cpu_pct = 0;
		return;
	}
	e->has_rss = 0;
	e->rss_bytes = 0;
	if (u->pid > 0)
		first = sproc_group(procs, nprocs, u->pid, &n);
	if (n > 0) {
		if (!leaders)
			sunit_members(e, first, n);
		while (n-- > 0) {
			ticks += first[n].ticks;
			pages += first[n].pages;
		}
		e->run_ms = (ticks + e->gone_ticks) * 1000 /
		    (uint64_t)s->clk_tck;
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

/* The pids of the units' processes, sorted: *n of them (free the array). */
static long *
sampler_want(struct sampler *s, size_t *n)
{
	struct sv_unit_info	*info;
	size_t			 nu, i;
	long			*want;

	nu = supervisor_list(s->sv, &info);
	want = xcalloc(nu + 1, sizeof *want);
	for (i = *n = 0; i < nu; i++)
		if (info[i].pid > 0)
			want[(*n)++] = info[i].pid;
	free(info);
	qsort(want, *n, sizeof *want, long_cmp);
	return want;
}

/*
 * Sample every unit from procs (sorted by group; leaders: the leaders
 * only), read at loop time now: a new sorted array, carrying over what
 * is known.
 */
static void
sample_units(struct sampler *s, const struct sproc *procs, size_t nprocs,
    int leaders, uint64_t now)
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
		if (old != NULL) {
			units[k] = *old;
			/* Moved: a second unit of that name (one being removed
			 * and its successor) starts without them. */
			old->members = NULL;
			old->nmembers = 0;
		}
		units[k].name = xstrdup(info[i].name);
		sample_unit(s, &units[k++], &info[i], procs, nprocs, leaders,
		    now);
	}
	free(info);
	sampler_free_units(s);
	qsort(units, k, sizeof *units, sunit_cmp);
	s->units = units;
	s->nunits = k;
}

static void	sampler_maybe_free(struct sampler *);

static void
sampler_scan_work_cb(uv_work_t *w)
{
	struct sscan	*sc = w->data;
	uint64_t	 t0 = uv_hrtime();

	sc->procs = scan_groups(sc->want, sc->nwant, &sc->nprocs, &sc->nseen,
	    &sc->error);
	sc->took_ms = (uv_hrtime() - t0) / 1000000;
}

static void
sampler_scan_done_cb(uv_work_t *w, int status)
{
	struct sscan	*sc = w->data;
	struct sampler	*s = sc->s;

	s->scan = NULL;
	if (!s->closing && status == 0) {
		if (sc->error != 0)
			log_debug("sampler: /proc: %s", strerror(sc->error));
		s->next_scan = sc->now + sc->took_ms * SAMPLER_SCAN_SHARE;
		if (sc->took_ms * SAMPLER_SCAN_SHARE > SAMPLER_INTERVAL_MS)
			log_debug("sampler: reading %zu processes of /proc "
			    "took %llu ms: the next read in %llu ms",
			    sc->nseen, (unsigned long long)sc->took_ms,
			    (unsigned long long)(sc->took_ms *
			    SAMPLER_SCAN_SHARE));
		sample_units(s, sc->procs, sc->nprocs, 0, sc->now);
	}
	free(sc->procs);
	free(sc->want);
	free(sc);
	sampler_maybe_free(s);
}

/* Start a scan of the units' groups, unless one runs or it is too soon. */
static void
sampler_scan_start(struct sampler *s, uint64_t now)
{
	struct sscan	*sc;
	int		 r;

	if (s->scan != NULL || now < s->next_scan)
		return;
	sc = xcalloc(1, sizeof *sc);
	sc->s = s;
	sc->now = now;
	sc->want = sampler_want(s, &sc->nwant);
	sc->work.data = sc;
	if ((r = uv_queue_work(s->loop, &sc->work, sampler_scan_work_cb,
	    sampler_scan_done_cb)) != 0) {
		log_debug("sampler: %s", uv_strerror(r));
		free(sc->want);
		free(sc);
		return;
	}
	s->scan = sc;
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
	sampler_scan_start(s, now);
	sample_queues(s, now);
}

void
sampler_touch(struct sampler *s)
{
	struct sproc	*procs;
	size_t		 nwant, nprocs;
	long		*want;
	int		 r;

	if (s == NULL)
		return;
	s->last_ask = uv_now(s->loop);
	if (s->awake)
		return;
	/* The leaders now, for this answer; their groups on the pool. */
	want = sampler_want(s, &nwant);
	procs = scan_leaders(want, nwant, &nprocs);
	free(want);
	sample_units(s, procs, nprocs, 1, s->last_ask);
	free(procs);
	sampler_scan_start(s, s->last_ask);
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

/* Free the sampler once its timer is closed and no scan is in flight. */
static void
sampler_maybe_free(struct sampler *s)
{
	if (!s->closing || !s->timer_closed || s->scan != NULL)
		return;
	sampler_free_units(s);
	sampler_drop_queues(s);
	free(s);
}

static void
sampler_close_cb(uv_handle_t *h)
{
	struct sampler	*s = h->data;

	s->timer_closed = 1;
	sampler_maybe_free(s);
}

void
sampler_free(struct sampler *s)
{
	if (s == NULL)
		return;
	s->closing = 1;
	(void)uv_timer_stop(&s->timer);
	/* A scan not started yet is dropped; a running one is waited for. */
	if (s->scan != NULL)
		(void)uv_cancel((uv_req_t *)&s->scan->work);
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
