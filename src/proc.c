/*
 * Child processes on libuv. Each child is spawned detached (setsid), so
 * its pid is its process group and a stop reaches its whole tree. The
 * struct embeds libuv handles and is freed from its last close callback.
 */
#include "config.h"

#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "xmalloc.h"

struct proc {
	uv_process_t	 process;
	uv_timer_t	 timer;
	pid_t		 pid;
	int		 open_handles;
	int		 exited;	/* the exit callback ran: pid is reaped */
	int		 stopping;
	int		 escalated;
	int		 freed;		/* the owner let go */
	uint64_t	 deadline;	/* of a stop: SIGKILL then */
	proc_exit_fn	 exit_fn;
	void		*arg;
	struct guard	*guard;		/* told of the group, or NULL */
};

static void	proc_close_cb(uv_handle_t *);
static void	proc_exit_cb(uv_process_t *, int64_t, int);
static void	proc_timer_cb(uv_timer_t *);
static void	proc_release_handles(struct proc *);

/* While a let-go group is stopping: how often to look whether it is gone. */
#define PROC_POLL_MS	50

int
proc_spawn(uv_loop_t *loop, const struct proc_spawn_args *a,
    struct proc **out)
{
	struct proc		*p;
	uv_process_options_t	 opts;
	uv_stdio_container_t	*stdio;
	int			 i, n, error;

	*out = NULL;
	p = xcalloc(1, sizeof *p);
	p->exit_fn = a->exit_fn;
	p->arg = a->arg;
	memset(&opts, 0, sizeof opts);
	/*
	 * 0, 1, 2, and when asked one more at extra_num; the ones between
	 * are UV_IGNORE, which libuv leaves closed above 2.
	 */
	n = a->extra_fd != -1 && a->extra_num > 2 ? a->extra_num + 1 : 3;
	stdio = xcalloc((size_t)n, sizeof *stdio);
	for (i = 0; i < n; i++)
		stdio[i].flags = UV_IGNORE;
	for (i = 0; i < 3; i++) {
		stdio[i].flags = UV_INHERIT_FD;
		stdio[i].data.fd = a->fds[i];
	}
	if (n > 3) {
		stdio[n - 1].flags = UV_INHERIT_FD;
		stdio[n - 1].data.fd = a->extra_fd;
	}
	opts.file = a->file;
	opts.args = a->argv;
	opts.env = a->env;
	opts.cwd = a->cwd;
	opts.stdio = stdio;
	opts.stdio_count = n;
	opts.exit_cb = proc_exit_cb;
	/* Detached: a new session, so the pid is also the process group. */
	opts.flags = UV_PROCESS_DETACHED;
	p->process.data = p;

	error = uv_timer_init(loop, &p->timer);
	if (error != 0) {
		free(stdio);
		free(p);
		return error;
	}
	p->timer.data = p;
	p->open_handles = 1;

	error = uv_spawn(loop, &p->process, &opts);
	free(stdio);
	/* Even a failed spawn initialised the handle: it must be closed. */
	p->open_handles++;
	if (error != 0) {
		p->exited = 1;
		p->freed = 1;
		proc_release_handles(p);
		return error;
	}
	p->pid = p->process.pid;
	/* Detached: setsid ran before the exec that uv_spawn waited for. */
	p->guard = a->guard;
	guard_add(p->guard, p->pid);
	*out = p;
	return 0;
}

pid_t
proc_pid(const struct proc *p)
{
	return p->pid;
}

int
proc_has_exited(const struct proc *p)
{
	return p->exited;
}

int
proc_was_escalated(const struct proc *p)
{
	return p->escalated;
}

/* ppid and pgrp of a process from /proc/PID/stat; -1 if it is gone. */
static int
proc_stat(pid_t pid, pid_t *ppid, pid_t *pgrp)
{
	char		 path[64], buf[512], *p;
	ssize_t		 n;
	long		 pp, pg;
	int		 fd;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ppid pgrp ...": comm may hold ')' itself. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %ld %ld", &pp, &pg) != 2)
		return -1;
	*ppid = (pid_t)pp;
	*pgrp = (pid_t)pg;
	return 0;
}

/* Does pid descend from us (we are a subreaper, so orphans stay ours)? */
static int
proc_is_descendant(pid_t pid)
{
	pid_t	self = getpid(), ppid, pgrp;
	int	depth;

	for (depth = 0; depth < 64 && pid > 1; depth++) {
		if (proc_stat(pid, &ppid, &pgrp) == -1)
			return 0;
		if (ppid == self)
			return 1;
		pid = ppid;
	}
	return 0;
}

/*
 * After the leader was reaped, -pgid is no longer proof of anything: if
 * every member died the number is free, and a stranger may have made a
 * group of it (the pid reused, then setsid). So the members are found in
 * /proc, and one is signalled only if it descends from us and no process
 * holds the group's number as its own pid (that would be the stranger
 * who took it). Each is signalled through a pidfd opened before its
 * membership is checked, so a pid reused in between is never hit.
 * Returns how many members of ours were found (and signalled, if sig).
 */
static int
proc_group_scan(const struct proc *p, int sig)
{
	DIR		*d;
	struct dirent	*e;
	pid_t		 pid, ppid, pgrp;
	int		 found = 0, pfd;

	if (proc_stat(p->pid, &ppid, &pgrp) == 0)
		return 0;
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if ((pid = (pid_t)atol(e->d_name)) <= 0)
			continue;
		if (proc_stat(pid, &ppid, &pgrp) == -1 || pgrp != p->pid)
			continue;
		/*
		 * Without pidfds (kernels before 5.3, valgrind before 3.20:
		 * ENOSYS), kill(2) right after the check, the best there is.
		 */
		pfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pfd == -1 && errno != ENOSYS)
			continue;
		if (proc_stat(pid, &ppid, &pgrp) == 0 && pgrp == p->pid &&
		    proc_is_descendant(pid)) {
			found++;
			if (sig != 0 && pfd != -1)
				(void)syscall(SYS_pidfd_send_signal, pfd, sig,
				    NULL, 0);
			else if (sig != 0)
				(void)kill(pid, sig);
		}
		if (pfd != -1)
			(void)close(pfd);
	}
	closedir(d);
	return found;
}

/*
 * Signal the whole group. While the leader is not reaped its pid holds
 * the group's number, so -pgid can only reach our own; after that, see
 * proc_group_scan. ESRCH means nobody is left, which is fine.
 */
int
proc_signal(struct proc *p, int sig)
{
	if (p->pid <= 0)
		return 0;
	if (p->exited) {
		if (kill(-p->pid, 0) == 0)
			(void)proc_group_scan(p, sig);
		return 0;
	}
	if (kill(-p->pid, sig) == 0)
		return 0;
	/*
	 * No such group while the leader lives: it has not reached setsid
	 * yet. Signal the leader itself; it cannot have been reaped.
	 */
	if (errno == ESRCH && kill(p->pid, sig) == 0)
		return 0;
	if (errno == ESRCH)
		return 0;
	return -errno;
}

static int
proc_group_alive(const struct proc *p)
{
	if (p->pid <= 0 || kill(-p->pid, 0) != 0)
		return 0;
	return !p->exited || proc_group_scan(p, 0) > 0;
}

int
proc_stop(struct proc *p, int sig, uint64_t timeout_ms)
{
	int	error;

	if (p->stopping)
		return 0;
	p->stopping = 1;
	if ((error = proc_signal(p, sig)) != 0)
		return error;
	/* A stopped (SIGSTOP) process must wake up to act on the signal. */
	if (sig != SIGKILL && sig != SIGCONT)
		(void)proc_signal(p, SIGCONT);
	p->deadline = uv_now(p->timer.loop) + timeout_ms;
	return uv_timer_start(&p->timer, proc_timer_cb, timeout_ms, 0);
}

void
proc_kill_now(struct proc *p)
{
	if (!proc_group_alive(p))
		return;
	p->escalated = 1;
	(void)proc_signal(p, SIGKILL);
}

/* Look again soon, never past the deadline. */
static void
proc_poll(struct proc *p)
{
	uint64_t	now = uv_now(p->timer.loop), left;

	left = p->deadline > now ? p->deadline - now : 0;
	if (uv_timer_start(&p->timer, proc_timer_cb, left < PROC_POLL_MS ?
	    left : PROC_POLL_MS, 0) != 0)
		fatalx("uv_timer_start failed");
}

static void
proc_timer_cb(uv_timer_t *t)
{
	struct proc	*p = t->data;

	/*
	 * Before the deadline only a let-go process polls (proc_free): the
	 * handles go as soon as the group is gone, not at the deadline.
	 */
	if (p->freed && uv_now(t->loop) < p->deadline && proc_group_alive(p)) {
		proc_poll(p);
		return;
	}
	if (proc_group_alive(p)) {
		p->escalated = 1;
		(void)proc_signal(p, SIGKILL);
	}
	if (p->freed)
		proc_release_handles(p);
}

static void
proc_exit_cb(uv_process_t *h, int64_t exit_status, int term_signal)
{
	struct proc	*p = h->data;

	p->exited = 1;
	if (p->exit_fn != NULL)
		p->exit_fn(p, exit_status, term_signal, p->arg);
}

void
proc_free(struct proc *p)
{
	if (p == NULL)
		return;
	p->freed = 1;
	p->exit_fn = NULL;
	/*
	 * Keep the escalation timer while the group lives: the leader may be
	 * gone while a grandchild ignores the stop signal.
	 */
	if (p->stopping && uv_is_active((uv_handle_t *)&p->timer) &&
	    proc_group_alive(p)) {
		proc_poll(p);
		return;
	}
	proc_release_handles(p);
}

static void
proc_release_handles(struct proc *p)
{
	if (!uv_is_closing((uv_handle_t *)&p->timer))
		uv_close((uv_handle_t *)&p->timer, proc_close_cb);
	/* Never close the process handle before its exit callback ran. */
	if (p->exited && !uv_is_closing((uv_handle_t *)&p->process))
		uv_close((uv_handle_t *)&p->process, proc_close_cb);
}

static void
proc_close_cb(uv_handle_t *h)
{
	struct proc	*p = h->data;

	if (--p->open_handles > 0)
		return;
	/*
	 * Every handle is closed: the leader was reaped and no stop is
	 * pending. The guard forgets the group once no member is left.
	 */
	if (p->pid > 0)
		guard_del(p->guard, p->pid);
	free(p);
}
