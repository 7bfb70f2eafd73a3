/*
 * The child subreaper. With PR_SET_CHILD_SUBREAPER, a process of our tree
 * whose parent dies is re-parented to us instead of to init: a daemon
 * that double-forked or called setsid is still ours to reap and to stop.
 * Owns a SIGCHLD handle of its own and the list of adopted orphans;
 * knows nothing of units, and never waits for a child of libuv.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "guard.h"
#include "log.h"
#include "proc.h"
#include "reaper.h"
#include "xmalloc.h"

/*
 * Not stealing libuv's children. libuv reaps each process it spawned by
 * its pid, from its own SIGCHLD handler (both handlers run; in no fixed
 * order). A child is libuv's while a process handle with its pid is
 * active: libuv stops the handle only once it has reaped the pid. So on
 * SIGCHLD we list our children (/proc/self/task/PID/children: every
 * child, zombie or not, of the main thread, which forks every child and
 * to which orphans are re-parented), skip libuv's and the guardian, and
 * wait for the others by pid alone: never waitpid(-1).
 *
 * Without that file (a kernel without CONFIG_PROC_CHILDREN) we fall back
 * to peeking with waitid(P_ALL, WNOWAIT): an exited child not ours is
 * reaped; one of libuv's stops the peek until libuv took it, so the peek
 * is tried again shortly. Orphans still alive cannot be listed then, and
 * are not stopped at exit.
 *
 * When to stop adopted orphans. A daemon left by a process that exited
 * normally is not a unit: it must not keep the supervisor up once every
 * unit has ended. So the SIGCHLD handle never keeps the loop alive; once
 * the supervisor is done, reaper_stop_orphans sends SIGTERM, SIGKILL
 * after a bound, and keeps the loop alive only until the last is reaped.
 */
#define REAPER_RESCAN_MS	100	/* while stopping, and after a peek */
/*
 * Between SIGCHLDs. A re-parenting raises no SIGCHLD: a double-forked
 * daemon whose unit lives on would never be listed, and the guardian
 * would never learn its group. So we also look every REAPER_POLL_MS: an
 * orphan is known to the guardian at most that long after it was made
 * (one read of /proc/self/task/PID/children, and a walk of our handles).
 */
#define REAPER_POLL_MS		250
/*
 * Daemons leave their unit right after it started. So the look runs every
 * REAPER_POLL_MS after a spawn (the guardian was told of a new group) or
 * an orphan found, and backs off, doubling, to REAPER_POLL_MAX_MS while
 * nothing changes: an idle supervisor wakes 3 times a minute, not 240.
 */
#define REAPER_POLL_MAX_MS	20000

struct orphan {
	pid_t	pid;
	pid_t	pgid;	/* signalled with it at stop; 0: not */
	int	guarded; /* leads its group: the guardian knows the group */
	int	own;	/* its pid told to the guardian as a group too */
	int	seen;	/* in the latest listing */
};

struct reaper {
	uv_loop_t	*loop;
	struct guard	*guard;
	pid_t		 own_pgid;
	uv_signal_t	 sig;
	uv_timer_t	 scan;		/* coalesces a storm of SIGCHLD */
	uv_timer_t	 poll;		/* the look between SIGCHLDs */
	uint64_t	 poll_ms;	/* its interval, backing off */
	uint64_t	 seen_added;	/* guard_added at the last look */
	size_t		 seen_orphans;	/* norphans at the last look */
	uv_timer_t	 timer;		/* rescans while stopping, escalation */
	int		 open_handles;
	int		 fd;		/* /proc/self/task/PID/children, or -1 */
	char		*buf;		/* its text */
	size_t		 bufsize;
	pid_t		*ours;		/* sorted pids of libuv's children */
	size_t		 nours;
	size_t		 oursize;
	struct orphan	*orphans;
	size_t		 norphans;
	size_t		 orphsize;
	int		 stopping;
	int		 killing;	/* the bound passed: SIGKILL */
	uint64_t	 deadline;
};

static void	reaper_scan(struct reaper *);

static int
reaper_pid_cmp(const void *a, const void *b)
{
	pid_t	x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

static void
reaper_walk_cb(uv_handle_t *h, void *arg)
{
	struct reaper	*r = arg;
	pid_t		 pid;

	if ((pid = proc_handle_pid(h)) == 0)
		return;
	if (r->nours == r->oursize) {
		r->oursize = r->oursize == 0 ? 64 : r->oursize * 2;
		r->ours = xreallocarray(r->ours, r->oursize, sizeof *r->ours);
	}
	r->ours[r->nours++] = pid;
}

/* The pids libuv waits for, sorted. */
static void
reaper_collect_ours(struct reaper *r)
{
	r->nours = 0;
	uv_walk(r->loop, reaper_walk_cb, r);
	if (r->nours > 1)
		qsort(r->ours, r->nours, sizeof *r->ours, reaper_pid_cmp);
}

static int
reaper_is_ours(const struct reaper *r, pid_t pid)
{
	if (pid == guard_pid(r->guard))
		return 1;
	return r->nours > 0 && bsearch(&pid, r->ours, r->nours,
	    sizeof *r->ours, reaper_pid_cmp) != NULL;
}

/* Reap pid if it exited; 1 when it did (or is gone), 0 while it lives. */
static int
reaper_try_reap(struct reaper *r, pid_t pid)
{
	siginfo_t	si;
	int		error;

	memset(&si, 0, sizeof si);
	do
		error = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG);
	while (error == -1 && errno == EINTR);
	if (error == -1)
		return errno == ECHILD;
	if (si.si_pid != pid)
		return 0;
	if (si.si_code == CLD_EXITED)
		log_debug("reaped adopted process %ld: exit status %d",
		    (long)pid, si.si_status);
	else
		log_debug("reaped adopted process %ld: signal %d", (long)pid,
		    si.si_status);
	return 1;
}

/* A group it is safe to signal as a whole: not ours, not the guardian's. */
static int
reaper_group_ok(const struct reaper *r, pid_t pgid)
{
	return pgid > 1 && pgid != r->own_pgid && pgid != guard_pid(r->guard);
}

static void
reaper_signal(struct reaper *r, const struct orphan *o, int sig)
{
	(void)kill(o->pid, sig);
	if (reaper_group_ok(r, o->pgid))
		(void)kill(-o->pgid, sig);
}

/* A stop is under way: o, found or regrouped since, is stopped too. */
static void
reaper_stop_late(struct reaper *r, const struct orphan *o)
{
	if (!r->stopping)
		return;
	reaper_signal(r, o, r->killing ? SIGKILL : SIGTERM);
	if (!r->killing)
		reaper_signal(r, o, SIGCONT);
}

/*
 * A known orphan's group as it is now: a daemon adopted between its
 * parent's exit and its setsid() leaves the group it was noted in. The
 * guardian is told of the new group, and a stop under way reaches it.
 */
static void
reaper_regroup(struct reaper *r, struct orphan *o)
{
	pid_t	pgid;

	if ((pgid = getpgid(o->pid)) == -1)
		return;		/* gone: the next listing prunes it */
	if (!reaper_group_ok(r, pgid))
		pgid = 0;
	if (pgid == o->pgid)
		return;
	if (pgid != 0)
		guard_add(r->guard, pgid);
	if (o->guarded)
		guard_del(r->guard, o->pgid);
	o->pgid = pgid;
	o->guarded = pgid != 0;
	log_debug("adopted process %ld moved to group %ld", (long)o->pid,
	    (long)pgid);
	reaper_stop_late(r, o);
}

/* pid is a live adopted orphan: note it (once) and stop it if asked. */
static void
reaper_note(struct reaper *r, pid_t pid)
{
	struct orphan	*o;
	size_t		 i;

	for (i = 0; i < r->norphans; i++)
		if (r->orphans[i].pid == pid) {
			r->orphans[i].seen = 1;
			reaper_regroup(r, &r->orphans[i]);
			return;
		}
	if (r->norphans == r->orphsize) {
		r->orphsize = r->orphsize == 0 ? 16 : r->orphsize * 2;
		r->orphans = xreallocarray(r->orphans, r->orphsize,
		    sizeof *r->orphans);
	}
	o = &r->orphans[r->norphans++];
	o->pid = pid;
	o->pgid = getpgid(pid);
	o->seen = 1;
	if (!reaper_group_ok(r, o->pgid))
		o->pgid = 0;
	/*
	 * The guardian is told of the orphan's group, whoever leads it (a
	 * daemon that made a group of its own with setsid, or a member of a
	 * group whose leader is gone), and let go of it once we reaped the
	 * orphan; guard_del keeps a group recorded while a member lives.
	 */
	o->guarded = o->pgid != 0;
	if (o->guarded)
		guard_add(r->guard, o->pgid);
	/*
	 * An orphan that leads no group may be about to make one with
	 * setsid(), numbered by its pid: that group is told to the guardian
	 * now, for a SIGKILL of ours may come before the look that sees it
	 * (reaper_regroup).
	 */
	o->own = o->pgid != pid && reaper_group_ok(r, pid);
	if (o->own)
		guard_add(r->guard, pid);
	log_debug("adopted process %ld (group %ld)", (long)pid, (long)o->pgid);
	reaper_stop_late(r, o);
}

/* Forget orphans not seen in the latest listing (reaped, or gone). */
static void
reaper_prune(struct reaper *r)
{
	size_t	i;

	for (i = 0; i < r->norphans; i++) {
		if (r->orphans[i].seen) {
			r->orphans[i].seen = 0;
			continue;
		}
		if (r->orphans[i].guarded)
			guard_del(r->guard, r->orphans[i].pgid);
		if (r->orphans[i].own)
			guard_del(r->guard, r->orphans[i].pid);
		r->orphans[i--] = r->orphans[--r->norphans];
	}
}

/* Read our children's pids into r->buf; -1 when the file cannot be read. */
static int
reaper_read_children(struct reaper *r)
{
	ssize_t	n;

	for (;;) {
		n = pread(r->fd, r->buf, r->bufsize - 1, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if ((size_t)n < r->bufsize - 1)
			break;
		r->bufsize *= 2;
		r->buf = xrealloc(r->buf, r->bufsize);
	}
	r->buf[n] = '\0';
	return 0;
}

/*
 * The fallback: peek at one exited child at a time. Returns 1 when an
 * exited child of libuv's hides the others (look again soon).
 */
static int
reaper_peek(struct reaper *r)
{
	siginfo_t	si;

	for (;;) {
		memset(&si, 0, sizeof si);
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (si.si_pid == 0)
			return 0;
		if (reaper_is_ours(r, si.si_pid))
			return 1;
		(void)reaper_try_reap(r, si.si_pid);
	}
}

static void
reaper_close_cb(uv_handle_t *h)
{
	struct reaper	*r = h->data;

	if (--r->open_handles > 0)
		return;
	free(r->buf);
	free(r->ours);
	free(r->orphans);
	free(r);
}

/*
 * The stop's deadline is checked at every look, whatever started it: a
 * timer restarted by each SIGCHLD (an orphan that ignores SIGTERM and
 * keeps forking short-lived children) would never reach it.
 */
static void
reaper_escalate(struct reaper *r)
{
	size_t	i;

	if (r->stopping && !r->killing && uv_now(r->loop) >= r->deadline &&
	    r->norphans > 0) {
		r->killing = 1;
		log_warnx("%zu adopted process%s still alive: killing",
		    r->norphans, r->norphans == 1 ? "" : "es");
		for (i = 0; i < r->norphans; i++)
			reaper_signal(r, &r->orphans[i], SIGKILL);
	}
}

static void
reaper_timer_cb(uv_timer_t *t)
{
	reaper_scan(t->data);
}

static void
reaper_scan_cb(uv_timer_t *t)
{
	reaper_scan(t->data);
}

/* The look between SIGCHLDs; fast after a change, slower while none. */
static void
reaper_poll_cb(uv_timer_t *t)
{
	struct reaper	*r = t->data;
	uint64_t	 added;
	int		 error;

	reaper_scan(r);
	added = guard_added(r->guard);
	if (added != r->seen_added || r->norphans != r->seen_orphans)
		r->poll_ms = REAPER_POLL_MS;
	else if ((r->poll_ms *= 2) > REAPER_POLL_MAX_MS)
		r->poll_ms = REAPER_POLL_MAX_MS;
	r->seen_added = added;
	r->seen_orphans = r->norphans;
	if ((error = uv_timer_start(&r->poll, reaper_poll_cb, r->poll_ms,
	    0)) != 0)
		fatalx("reaper: uv_timer_start: %s", uv_strerror(error));
}

/*
 * Look at every child: reap the exited ones not libuv's, note the live
 * ones. While stopping, look again every REAPER_RESCAN_MS until none is
 * left (a re-parenting raises no SIGCHLD).
 */
static void
reaper_scan(struct reaper *r)
{
	char		*p, *end;
	long		 v;
	int		 again = 0;

	guard_check(r->guard);
	reaper_collect_ours(r);
	if (r->fd != -1 && reaper_read_children(r) == 0) {
		for (p = r->buf; *p != '\0'; p = end) {
			errno = 0;
			v = strtol(p, &end, 10);
			if (end == p)
				break;
			if (v <= 0 || reaper_is_ours(r, (pid_t)v))
				continue;
			if (!reaper_try_reap(r, (pid_t)v))
				reaper_note(r, (pid_t)v);
		}
		reaper_prune(r);
	} else
		again = reaper_peek(r);
	guard_sweep(r->guard);
	reaper_escalate(r);

	if (r->stopping && r->norphans == 0 && !again) {
		(void)uv_timer_stop(&r->timer);
		uv_unref((uv_handle_t *)&r->sig);
		return;
	}
	if ((r->stopping || again) && !uv_is_active((uv_handle_t *)&r->timer)) {
		if (uv_timer_start(&r->timer, reaper_timer_cb, REAPER_RESCAN_MS,
		    0) != 0)
			fatalx("uv_timer_start failed");
		if (!r->stopping)
			uv_unref((uv_handle_t *)&r->timer);
	}
}

static void
reaper_sig_cb(uv_signal_t *h, int signum)
{
	struct reaper	*r = h->data;

	(void)signum;
	/* A storm of signals becomes one look, on the next loop turn. */
	if (!uv_is_active((uv_handle_t *)&r->scan) &&
	    uv_timer_start(&r->scan, reaper_scan_cb, 0, 0) != 0)
		fatalx("uv_timer_start failed");
}

struct reaper *
reaper_start(uv_loop_t *loop, struct guard *g)
{
	struct reaper	*r;
	char		 path[64];
	int		 error;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1) {
		log_warn("prctl(PR_SET_CHILD_SUBREAPER)");
		return NULL;
	}
	r = xcalloc(1, sizeof *r);
	r->loop = loop;
	r->guard = g;
	r->own_pgid = getpgrp();
	(void)snprintf(path, sizeof path, "/proc/self/task/%ld/children",
	    (long)getpid());
	if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		log_debug("%s: %s: peeking with waitid instead", path,
		    strerror(errno));
	r->bufsize = 4096;
	r->buf = xmalloc(r->bufsize);
	if ((error = uv_signal_init(loop, &r->sig)) != 0 ||
	    (error = uv_timer_init(loop, &r->scan)) != 0 ||
	    (error = uv_timer_init(loop, &r->timer)) != 0 ||
	    (error = uv_timer_init(loop, &r->poll)) != 0)
		fatalx("reaper: %s", uv_strerror(error));
	r->sig.data = r->scan.data = r->timer.data = r->poll.data = r;
	r->open_handles = 4;
	uv_unref((uv_handle_t *)&r->scan);
	uv_unref((uv_handle_t *)&r->timer);
	r->poll_ms = REAPER_POLL_MS;
	if ((error = uv_timer_start(&r->poll, reaper_poll_cb, REAPER_POLL_MS,
	    0)) != 0)
		fatalx("reaper: uv_timer_start: %s", uv_strerror(error));
	uv_unref((uv_handle_t *)&r->poll);
	if ((error = uv_signal_start(&r->sig, reaper_sig_cb, SIGCHLD)) != 0)
		fatalx("reaper: uv_signal_start: %s", uv_strerror(error));
	uv_unref((uv_handle_t *)&r->sig);
	return r;
}

void
reaper_stop_orphans(struct reaper *r, uint64_t timeout_ms)
{
	size_t	i;

	if (r == NULL || r->stopping)
		return;
	reaper_scan(r);
	r->stopping = 1;
	r->deadline = uv_now(r->loop) + timeout_ms;
	if (r->norphans > 0) {
		log_info("stopping %zu adopted process%s", r->norphans,
		    r->norphans == 1 ? "" : "es");
		for (i = 0; i < r->norphans; i++) {
			reaper_signal(r, &r->orphans[i], SIGTERM);
			reaper_signal(r, &r->orphans[i], SIGCONT);
		}
	}
	/* Keep the loop alive until the last is reaped (reaper_scan). */
	uv_ref((uv_handle_t *)&r->sig);
	uv_ref((uv_handle_t *)&r->timer);
	reaper_scan(r);
}

size_t
reaper_orphans(const struct reaper *r)
{
	return r != NULL ? r->norphans : 0;
}

void
reaper_free(struct reaper *r)
{
	if (r == NULL)
		return;
	/*
	 * Orphans still alive (they could not be stopped) stay recorded: the
	 * guardian kills their groups once we are gone.
	 */
	r->norphans = 0;
	if (r->fd != -1)
		(void)close(r->fd);
	uv_close((uv_handle_t *)&r->sig, reaper_close_cb);
	uv_close((uv_handle_t *)&r->scan, reaper_close_cb);
	uv_close((uv_handle_t *)&r->timer, reaper_close_cb);
	uv_close((uv_handle_t *)&r->poll, reaper_close_cb);
}
