/*
 * The guardian: one small process, forked at start-up, that outlives a
 * SIGKILLed supervisor just long enough to SIGKILL the process groups it
 * was told of, and every process descending from them (a daemon that left
 * its group with setsid while its parent lived on). Owns the pipe to it and
 * the table of groups on our side; knows nothing of libuv, units or the
 * manifest.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

/*
 * The design. The supervisor cannot rely on PR_SET_PDEATHSIG (it reaches
 * only a direct child, and libuv's spawn has no hook to set it), and a
 * SIGKILLed process runs no clean-up. So a guardian is forked before the
 * loop starts, holding the only read end of a pipe whose write end only
 * the supervisor holds (close-on-exec, so no child inherits it). Each
 * process group spawned is sent as a record, and again when it is gone.
 * When the pipe reaches end of file, the supervisor exited or died: the
 * guardian SIGKILLs every group still recorded and exits. Normally it
 * then finds nothing left alive; after a SIGKILL it is the only clean-up.
 *
 * A record is an int32_t: +pgid when a group is added, -pgid when it is
 * gone. The guardian keeps a bitmap indexed by pgid, mapped once (the
 * kernel's limit on pids is 2^22, so 512 KiB of address space, touched
 * only where pgids fall): it never allocates in its loop.
 *
 * Our side keeps each group with a count of owners (a spawned process,
 * adopted orphans in it). When the count drops to zero the group is said
 * gone only once kill(-pgid, 0) finds nobody, so that a member left
 * behind is still killed if we die; such lingering groups are checked
 * again on each call and on guard_sweep (at every SIGCHLD).
 *
 * The write end is non-blocking: a guardian that stops reading (stopped
 * by SIGSTOP) must not block the supervisor. Records it cannot take yet
 * wait in a bounded buffer; past the bound the guardian is replaced.
 *
 * A guardian that dies (any process of our user may kill it) or stops
 * reading is replaced: a new one is forked and told every group still
 * recorded, so a later SIGKILL of the supervisor is covered again. The
 * one that stopped reading is SIGKILLed; the reaper reaps it.
 */
#define GUARD_PID_LIMIT		(1 << 22)	/* PID_MAX_LIMIT on 64-bit */
#define GUARD_MAX_PENDING	(64 * 1024)	/* records waiting for room */
#define GUARD_STOP_WAIT_MS	2000		/* for the guardian at exit */

struct guard_group {
	pid_t		pgid;
	unsigned	refs;	/* 0: let go, waiting for the group to die */
};

struct guard {
	pid_t			 pid;
	int			 failing;	/* a replacement failed, said */
	int			 replacing;	/* telling a new one every group */
	int			 fd;		/* write end; -1 once given up */
	struct guard_group	*groups;
	size_t			 ngroups;
	size_t			 cap;
	size_t			 nlinger;	/* groups with refs == 0 */
	uint64_t		 added;		/* guard_add calls, ever */
	int32_t			*pending;	/* records not written yet */
	size_t			 npending;	/* in bytes */
	size_t			 pendcap;	/* in bytes */
};

static void	guard_main(int) __attribute__((noreturn));

/* Close every descriptor but keep (the guardian holds nothing else). */
static void
guard_close_others(int keep)
{
	struct rlimit	rl;
	int		fd, max = 1024;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 0U, (unsigned)keep - 1, 0U) == 0 &&
	    syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U) == 0)
		return;
#endif
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = rl.rlim_cur > (1 << 20) ? 1 << 20 : (int)rl.rlim_cur;
	for (fd = 0; fd < max; fd++)
		if (fd != keep)
			(void)close(fd);
}

static int
guard_bit(const uint64_t *map, pid_t pid)
{
	return pid > 0 && pid < GUARD_PID_LIMIT &&
	    (map[pid / 64] & (UINT64_C(1) << (pid % 64))) != 0;
}

static void
guard_set_bit(uint64_t *map, pid_t pid)
{
	map[pid / 64] |= UINT64_C(1) << (pid % 64);
}

/*
 * Mark in tree every process of a recorded group and every descendant of
 * one, wherever it moved (setsid: a daemon whose parent is still ours),
 * and send each sig. One /proc pass sees a parent before or after its
 * child, so passes repeat until one marks nothing new. Returns how many
 * processes were marked anew.
 */
static size_t
guard_mark_tree(const uint64_t *map, uint64_t *tree, int sig)
{
	DIR		*d;
	struct dirent	*e;
	pid_t		 pid, ppid, pgrp, self = getpid();
	size_t		 total = 0, found;

	do {
		found = 0;
		if ((d = opendir("/proc")) == NULL)
			return total;
		while ((e = readdir(d)) != NULL) {
			if ((pid = (pid_t)atol(e->d_name)) <= 0 || pid == self ||
			    pid >= GUARD_PID_LIMIT || guard_bit(tree, pid))
				continue;
			if (util_proc_stat(pid, &ppid, &pgrp) == -1)
				continue;
			if (!guard_bit(map, pgrp) && !guard_bit(tree, ppid))
				continue;
			guard_set_bit(tree, pid);
			(void)kill(pid, sig);
			found++;
		}
		closedir(d);
		total += found;
	} while (found > 0);
	return total;
}

/*
 * SIGKILL every recorded group, and what descends from them. The tree is
 * frozen first (SIGSTOP), so nothing forks while it is being found, then
 * looked at once more for children made before the stop took, then
 * killed by pid. A stopped process cannot exit, so its pid is still its
 * own at the SIGKILL; only one that exited in the instant between its
 * /proc entry and its SIGSTOP, and whose pid was reused at once, could be
 * a stranger by then.
 */
static void
guard_kill_tree(const uint64_t *map, uint64_t *tree)
{
	size_t		w;
	unsigned	b;

	(void)guard_mark_tree(map, tree, SIGSTOP);
	(void)guard_mark_tree(map, tree, SIGSTOP);
	for (w = 0; w < GUARD_PID_LIMIT / 64; w++) {
		if (tree[w] == 0)
			continue;
		for (b = 0; b < 64; b++)
			if (tree[w] & (UINT64_C(1) << b))
				(void)kill((pid_t)(w * 64 + b), SIGKILL);
	}
}

/* SIGKILL every recorded group. */
static void
guard_kill_all(const uint64_t *map)
{
	size_t		w;
	unsigned	b;

	for (w = 0; w < GUARD_PID_LIMIT / 64; w++) {
		if (map[w] == 0)
			continue;
		for (b = 0; b < 64; b++)
			if (map[w] & (UINT64_C(1) << b))
				(void)kill(-(pid_t)(w * 64 + b), SIGKILL);
	}
}

/*
 * The guardian itself. Signals a terminal or a session sends (^C, a
 * hang-up, a TERM to the group) must not end it before it can act: it
 * ignores them and moves to a session of its own. It ends at end of
 * file, or on a read error, which it treats the same.
 */
static void
guard_main(int rfd)
{
	static const int	 ignored[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE,
				    SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGUSR1,
				    SIGUSR2 };
	struct sigaction	 sa;
	sigset_t		 none;
	uint64_t		*map, *tree;
	unsigned char		 rbuf[4096];
	size_t			 have = 0, i, live = 0;
	ssize_t			 n;
	int32_t			 rec;
	pid_t			 pgid;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	for (i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
		(void)sigaction(ignored[i], &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)setsid();
	guard_close_others(rfd);
	(void)prctl(PR_SET_NAME, "pyt-guardian", 0, 0, 0);

	map = mmap(NULL, GUARD_PID_LIMIT / 8, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED)
		_exit(1);
	for (;;) {
		n = read(rfd, rbuf + have, sizeof rbuf - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		for (i = 0; i + sizeof rec <= have; i += sizeof rec) {
			memcpy(&rec, rbuf + i, sizeof rec);
			pgid = rec < 0 ? -(pid_t)rec : (pid_t)rec;
			if (pgid <= 1 || pgid >= GUARD_PID_LIMIT)
				continue;
			if (rec > 0 && !guard_bit(map, pgid)) {
				guard_set_bit(map, pgid);
				live++;
			} else if (rec < 0 && guard_bit(map, pgid)) {
				map[pgid / 64] &= ~(UINT64_C(1) << (pgid % 64));
				live--;
			}
		}
		/* A record cut across two reads keeps its head. */
		memmove(rbuf, rbuf + i, have - i);
		have -= i;
	}
	/* After a normal exit nothing is recorded: no /proc walk then. */
	if (live == 0)
		_exit(0);
	tree = mmap(NULL, GUARD_PID_LIMIT / 8, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (tree != MAP_FAILED)
		guard_kill_tree(map, tree);
	guard_kill_all(map);
	_exit(0);
}

/* Fork a guardian; its pid and our write end, or -1 (logged). */
static pid_t
guard_fork(int *wfd)
{
	int	p[2];
	pid_t	pid;

	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("guardian: pipe");
		return -1;
	}
	switch (pid = fork()) {
	case -1:
		log_warn("guardian: fork");
		(void)close(p[0]);
		(void)close(p[1]);
		return -1;
	case 0:
		guard_main(p[0]);
	default:
		break;
	}
	(void)close(p[0]);
	if (fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK) == -1)
		log_warn("guardian: non-blocking pipe");
	*wfd = p[1];
	return pid;
}

struct guard *
guard_start(void)
{
	struct guard	*g;
	int		 fd;
	pid_t		 pid;

	if ((pid = guard_fork(&fd)) == -1)
		return NULL;
	g = xcalloc(1, sizeof *g);
	g->pid = pid;
	g->fd = fd;
	return g;
}

pid_t
guard_pid(const struct guard *g)
{
	return g != NULL ? g->pid : -1;
}

static void	guard_send(struct guard *, int32_t);

/*
 * Replace the guardian: SIGKILL the old one if it lives (the reaper
 * reaps it, or guard_check), fork a new one and tell it every group
 * still recorded. A failed fork leaves no guardian: said once, tried
 * again at the next guard_check.
 */
static void
guard_replace(struct guard *g, const char *why)
{
	pid_t	pid;
	size_t	i;
	int	fd;

	if (g->pid > 0) {
		log_warnx("guardian (pid %ld) %s: replacing it", (long)g->pid,
		    why);
		(void)kill(g->pid, SIGKILL);
	}
	if (g->fd != -1)
		(void)close(g->fd);
	g->fd = -1;
	g->npending = 0;
	if ((pid = guard_fork(&fd)) == -1) {
		if (!g->failing)
			log_warnx("no guardian: processes would outlive a "
			    "SIGKILL of the supervisor; trying again");
		g->failing = 1;
		g->pid = -1;
		return;
	}
	if (g->failing)
		log_warnx("guardian running again (pid %ld)", (long)pid);
	g->failing = 0;
	g->pid = pid;
	g->fd = fd;
	/* Every group, however many: no replacement from within this one. */
	g->replacing = 1;
	for (i = 0; i < g->ngroups; i++)
		guard_send(g, (int32_t)g->groups[i].pgid);
	g->replacing = 0;
}

/*
 * The guardian cannot take what we send: replace it. While a new one is
 * being told every group, stop talking to it instead; guard_check
 * replaces it once its exit is seen.
 */
static void
guard_give_up(struct guard *g, const char *why)
{
	if (!g->replacing) {
		guard_replace(g, why);
		return;
	}
	log_warnx("new guardian (pid %ld) %s", (long)g->pid, why);
	(void)close(g->fd);
	g->fd = -1;
	g->npending = 0;
}

void
guard_check(struct guard *g)
{
	siginfo_t	si;
	int		error;

	if (g == NULL)
		return;
	if (g->pid <= 0) {
		guard_replace(g, "missing");
		return;
	}
	memset(&si, 0, sizeof si);
	do
		error = waitid(P_PID, (id_t)g->pid, &si, WEXITED | WNOHANG);
	while (error == -1 && errno == EINTR);
	if (error == -1 || si.si_pid != g->pid)
		return;
	guard_replace(g, si.si_code == CLD_EXITED ? "exited" : "was killed");
}

/* Write what waits; 0 when all is written, -1 when some must wait more. */
static int
guard_flush(struct guard *g)
{
	ssize_t	n;

	while (g->fd != -1 && g->npending > 0) {
		n = write(g->fd, g->pending, g->npending);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return -1;
		if (n == -1) {
			/* EPIPE: it died; the replacement was sent everything. */
			guard_give_up(g, errno == EPIPE ? "is gone" :
			    strerror(errno));
			return g->fd == -1 ? -1 : guard_flush(g);
		}
		g->npending -= (size_t)n;
		memmove(g->pending, (char *)g->pending + n, g->npending);
	}
	return 0;
}

/* Send one record, after those still waiting. */
static void
guard_send(struct guard *g, int32_t rec)
{
	if (g->fd == -1)
		return;
	if (g->npending + sizeof rec > g->pendcap) {
		if (g->pendcap >= GUARD_MAX_PENDING * sizeof rec &&
		    !g->replacing) {
			/* The new one gets every group, this one with them. */
			guard_give_up(g, "is not reading");
			return;
		}
		g->pendcap = g->pendcap == 0 ? 64 * sizeof rec :
		    g->pendcap * 2;
		g->pending = xrealloc(g->pending, g->pendcap);
	}
	memcpy((char *)g->pending + g->npending, &rec, sizeof rec);
	g->npending += sizeof rec;
	(void)guard_flush(g);
}

static struct guard_group *
guard_find(struct guard *g, pid_t pgid)
{
	size_t	i;

	for (i = 0; i < g->ngroups; i++)
		if (g->groups[i].pgid == pgid)
			return &g->groups[i];
	return NULL;
}

void
guard_add(struct guard *g, pid_t pgid)
{
	struct guard_group	*gg;

	if (g == NULL || pgid <= 1)
		return;
	g->added++;
	if ((gg = guard_find(g, pgid)) != NULL) {
		if (gg->refs++ == 0)
			g->nlinger--;
		return;
	}
	if (g->ngroups == g->cap) {
		g->cap = g->cap == 0 ? 16 : g->cap * 2;
		g->groups = xreallocarray(g->groups, g->cap, sizeof *g->groups);
	}
	g->groups[g->ngroups].pgid = pgid;
	g->groups[g->ngroups].refs = 1;
	g->ngroups++;
	guard_send(g, (int32_t)pgid);
}

void
guard_del(struct guard *g, pid_t pgid)
{
	struct guard_group	*gg;

	if (g == NULL || (gg = guard_find(g, pgid)) == NULL || gg->refs == 0)
		return;
	if (--gg->refs == 0)
		g->nlinger++;
	guard_sweep(g);
}

void
guard_sweep(struct guard *g)
{
	size_t	i;

	if (g == NULL || g->nlinger == 0)
		return;
	for (i = 0; i < g->ngroups; i++) {
		if (g->groups[i].refs != 0)
			continue;
		/*
		 * A lingering group's leader was reaped: a process holding
		 * the group's number as its pid is a stranger who reused it,
		 * so the group is ours no more.
		 */
		if (kill(-g->groups[i].pgid, 0) == 0 &&
		    kill(g->groups[i].pgid, 0) != 0)
			continue;
		if (kill(-g->groups[i].pgid, 0) == -1 && errno != ESRCH)
			continue;
		guard_send(g, -(int32_t)g->groups[i].pgid);
		g->groups[i--] = g->groups[--g->ngroups];
		g->nlinger--;
	}
	(void)guard_flush(g);
}

/*
 * Wait for the guardian to exit, at most GUARD_STOP_WAIT_MS: a guardian
 * stopped by SIGSTOP must not hold our exit. Its pidfd says the moment it
 * exits; polling (without pidfds) would add up to a poll period to every
 * stop of the supervisor.
 */
static pid_t
guard_wait(pid_t pid, int *status)
{
	struct timespec	ts = { 0, 10 * 1000 * 1000 };
	struct pollfd	pfd;
	pid_t		r;
	int		waited;

	if ((r = waitpid(pid, status, WNOHANG)) != 0)
		return r;
	pfd.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd.fd != -1) {
		pfd.events = POLLIN;
		while (poll(&pfd, 1, GUARD_STOP_WAIT_MS) == -1 &&
		    errno == EINTR)
			;
		(void)close(pfd.fd);
		return waitpid(pid, status, WNOHANG);
	}
	for (waited = 0;; waited += 10) {
		r = waitpid(pid, status, WNOHANG);
		if (r != 0 || waited >= GUARD_STOP_WAIT_MS)
			return r;
		(void)nanosleep(&ts, NULL);
	}
}

void
guard_stop(struct guard *g)
{
	int	status;
	pid_t	r;

	if (g == NULL)
		return;
	guard_sweep(g);
	(void)guard_flush(g);
	if (g->fd != -1)
		(void)close(g->fd);
	/* No guardian (a replacement failed): nothing to wait for. */
	r = g->pid > 0 ? guard_wait(g->pid, &status) : -1;
	if (r == 0) {
		log_warnx("guardian (pid %ld) did not exit: killing it",
		    (long)g->pid);
		(void)kill(g->pid, SIGKILL);
		(void)waitpid(g->pid, &status, 0);
	}
	free(g->groups);
	free(g->pending);
	free(g);
}

uint64_t
guard_added(const struct guard *g)
{
	return g != NULL ? g->added : 0;
}
