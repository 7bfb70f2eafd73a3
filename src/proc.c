/*
 * Child processes on libuv. Each child is spawned detached (setsid), so
 * its pid is its process group and a stop reaches its whole tree. The
 * struct embeds libuv handles and is freed from its last close callback.
 *
 * Spawning is vfork and exec, not libuv's uv_spawn. libuv 1.44 forks and
 * then blocks on a pipe until the child has exec'd, so a burst of spawns
 * pays for a copy of the parent's page tables, copy-on-write faults in
 * the parent and a scheduler round trip, one spawn at a time: 1,000
 * spawns took 2 to 5 times as long as a plain fork loop. vfork shares
 * the parent's memory until the exec, which copies nothing (1,000 spawns:
 * 0.47 s against 0.82 s with fork, 52k page faults against 113k; see
 * tests/bench/RESULTS.md), and the parent resumes only once the child
 * has exec'd or failed, so an exec error still comes back from
 * proc_spawn, through a variable the child stores into (no pipe per
 * spawn: descriptors held by the parent make every later exec slower).
 * - the child shares our descriptor table until it takes a copy of
 *   only what it needs (see proc_spawner): a vfork child would copy and
 *   then close every descriptor we hold, at every spawn;
 * - the program is looked up in the child's PATH and the working
 *   directory checked before the vfork, as execvp would;
 * - the exit is seen through a pidfd polled by the loop, one event per
 *   exit (libuv's SIGCHLD handler calls waitpid on every child it has).
 * Without pidfd_open (Linux before 5.3) uv_spawn is used, as before.
 * Whoever else reaps children (reaper.c) must leave ours alone: it asks
 * proc_handle_pid while walking the loop's handles.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"
#include "util.h"
#include "xmalloc.h"

struct proc {
	union {
		uv_process_t	 process;	/* uv_spawn fallback */
		uv_poll_t	 pidpoll;	/* the pidfd: readable at exit */
	} h;
	uv_timer_t	 timer;
	pid_t		 pid;
	int		 pidfd;		/* -1 with uv_spawn */
	int		 use_uv;
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
static void	proc_pidfd_cb(uv_poll_t *, int, int);
static void	proc_timer_cb(uv_timer_t *);
static void	proc_release_handles(struct proc *);

/* While a let-go group is stopping: how often to look whether it is gone. */
#define PROC_POLL_MS	50

/* Does this kernel have pidfd_open? Asked once: a property of the kernel. */
static int
proc_have_pidfd(void)
{
	static int	have = -1;
	int		fd;

	if (have == -1) {
		fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
		have = fd != -1;
		if (fd != -1)
			(void)close(fd);
	}
	return have;
}

/* The spawn of libuv, kept for kernels without pidfd_open. */
static int
proc_spawn_uv(uv_loop_t *loop, const struct proc_spawn_args *a,
    struct proc *p)
{
	uv_process_options_t	 opts;
	uv_stdio_container_t	*stdio;
	int			 i, n, error;

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
	p->h.process.data = p;
	p->use_uv = 1;
	error = uv_spawn(loop, &p->h.process, &opts);
	free(stdio);
	/* Even a failed spawn initialised the handle: it must be closed. */
	p->open_handles++;
	if (error == 0)
		p->pid = p->h.process.pid;
	return error;
}

/* The value of PATH in a NULL-terminated environment, or NULL. */
static const char *
proc_env_path(char **env)
{
	size_t	i;

	for (i = 0; env != NULL && env[i] != NULL; i++)
		if (strncmp(env[i], "PATH=", 5) == 0)
			return env[i] + 5;
	return NULL;
}

/*
 * Can path be executed, seen from the child's working directory? 0, or
 * an errno as execve would give it (a relative path is checked under
 * cwd, and exec'd as it is after the child's chdir).
 */
static int
proc_check_exec(const char *cwd, const char *path)
{
	struct stat	 sb;
	char		 buf[PATH_MAX];
	const char	*check = path;

	if (cwd != NULL && path[0] != '/') {
		if ((size_t)snprintf(buf, sizeof buf, "%s/%s", cwd, path) >=
		    sizeof buf)
			return ENAMETOOLONG;
		check = buf;
	}
	if (stat(check, &sb) == -1)
		return errno;
	if (!S_ISREG(sb.st_mode))
		return EACCES;
	if (access(check, X_OK) == -1)
		return errno;
	return 0;
}

/*
 * Resolve the program as execvp would in the child: a name with a '/' is
 * used as it is, any other is looked up in the child's PATH (its default
 * is "/bin:/usr/bin"). Returns 0 and an allocated path, or an errno:
 * EACCES if a candidate was found but cannot be run, else ENOENT.
 */
static int
proc_resolve(const char *file, char **env, const char *cwd, char **out)
{
	const char	*path, *p, *end;
	char		*cand;
	size_t		 dirlen;
	int		 error, seen_eacces = 0;

	*out = NULL;
	if (file[0] == '\0')
		return ENOENT;
	if (strchr(file, '/') != NULL) {
		if ((error = proc_check_exec(cwd, file)) != 0)
			return error;
		*out = xstrdup(file);
		return 0;
	}
	if ((path = proc_env_path(env)) == NULL)
		path = "/bin:/usr/bin";
	for (p = path;; p = end + 1) {
		if ((end = strchr(p, ':')) == NULL)
			end = p + strlen(p);
		dirlen = (size_t)(end - p);
		/* An empty entry is the current directory. */
		if (dirlen == 0)
			cand = xstrdup(file);
		else
			cand = xasprintf("%.*s/%s", (int)dirlen, p, file);
		error = proc_check_exec(cwd, cand);
		if (error == 0) {
			*out = cand;
			return 0;
		}
		free(cand);
		if (error == EACCES)
			seen_eacces = 1;
		if (*end == '\0')
			break;
	}
	return seen_eacces ? EACCES : ENOENT;
}

/* Can the child enter its working directory? 0 or an errno. */
static int
proc_check_cwd(const char *cwd)
{
	struct stat	sb;

	if (cwd == NULL)
		return 0;
	if (stat(cwd, &sb) == -1)
		return errno;
	if (!S_ISDIR(sb.st_mode))
		return ENOTDIR;
	if (access(cwd, X_OK) == -1)
		return errno;
	return 0;
}

/*
 * The descriptor limit our children get. The supervisor holds two or
 * three descriptors per process it pipes, so it raises its own soft limit
 * to the hard one (proc_raise_nofile); its children must not inherit that:
 * a program using select(2) breaks on descriptors above 1023. Set only
 * when raised.
 */
static struct rlimit	proc_child_nofile;
static int		proc_nofile_raised;

void
proc_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit RLIMIT_NOFILE");
		return;
	}
	/* Only where children get the old limit back: the vfork path. */
	if (rl.rlim_cur >= rl.rlim_max || !proc_have_pidfd())
		return;
	proc_child_nofile = rl;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("setrlimit RLIMIT_NOFILE");
		return;
	}
	proc_nofile_raised = 1;
}

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE	(1U << 1)
#endif

/*
 * Spawning with a shared descriptor table. A forked or vforked child
 * copies the parent's whole table and exec then closes every descriptor
 * marked close-on-exec, one by one: with a thousand children piped, each
 * spawn copies and closes three thousand descriptors (1,000 spawns while
 * 3,000 descriptors are open: 0.78 s against 0.53 s without them). So the
 * child is made with clone(CLONE_VM | CLONE_VFORK | CLONE_FILES), on a
 * stack of its own, sharing our table; the descriptors it needs are put
 * on a few low "slots" first, and close_range(CLOSE_RANGE_UNSHARE) from
 * above the slots gives the child a table of its own holding only the
 * descriptors below them. Until that call the child must not change the
 * table: it is ours. The slots hold /dev/null between spawns, so they
 * keep their numbers and no pipe end stays open in them.
 */
enum { SLOT_STDIN, SLOT_STDOUT, SLOT_STDERR, SLOT_EXTRA, SLOT_NULL, NSLOTS };

#define PROC_STACK_SIZE	(256 * 1024)

struct proc_spawner {
	int	 ready;		/* -1: not tried; 0: unavailable; 1: set up */
	int	 slot[NSLOTS];
	int	 top;		/* the highest slot */
	char	*stack;
};
static struct proc_spawner	proc_spawner = { -1, { 0 }, 0, NULL };

/* What the child needs, and where it tells why its exec failed. */
struct proc_child_args {
	const struct proc_spawn_args	*a;
	const char			*path;
	char				**shargv;
	const int			*slot;	/* with a shared table */
	int				 top;
	volatile int			 child_errno;
};

/*
 * In the child, between clone (or vfork) and exec. The child borrows the
 * parent's memory (and, after vfork, its stack) until it execs, so it only
 * makes system calls and stores into its own locals and c->child_errno.
 * With a shared table, first take a table of its own. Put src[i] on dst[i]
 * without one dup2 clobbering a later source, reset every signal to its
 * default (handlers would write into the parent's libuv pipe; SIGPIPE is
 * ignored in the parent) and unblock them, then exec. On failure the errno
 * goes to c->child_errno, which the parent reads once clone or vfork
 * returns.
 *
 * Not instrumented by AddressSanitizer: on the spawn stack, its
 * bookkeeping of our stack would be wrong, and it says so on stderr,
 * which is the child's too.
 */
static void __attribute__((noreturn, no_sanitize_address))
proc_child(struct proc_child_args *c)
{
	const struct proc_spawn_args	*a = c->a;
	struct sigaction	 sa;
	sigset_t		 none;
	int			 src[4], dst[4], n = 3, i, top;

	/*
	 * Sharing our table: take a copy of what lies below the slots only;
	 * on kernels before 5.9, a copy of it all (closed at exec).
	 */
	if (c->slot != NULL &&
	    syscall(SYS_close_range, (unsigned)c->top + 1, ~0U,
	    CLOSE_RANGE_UNSHARE) == -1 && unshare(CLONE_FILES) == -1)
		goto fail;
	for (i = 0; i < 3; i++) {
		src[i] = c->slot != NULL ? c->slot[i] : a->fds[i];
		dst[i] = i;
	}
	if (a->extra_fd != -1 && a->extra_num > 2) {
		src[3] = c->slot != NULL ? c->slot[SLOT_EXTRA] : a->extra_fd;
		dst[3] = a->extra_num;
		n = 4;
	}
	/*
	 * No PR_SET_PDEATHSIG: if we are SIGKILLed, the guardian kills this
	 * child's group and every process descending from it, which it can
	 * only find while the child still lives to link them to us.
	 */
	if (setsid() == -1)
		goto fail;
	top = dst[n - 1] + 1;
	for (i = 0; i < n; i++)
		if (src[i] < top && src[i] != dst[i] &&
		    (src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, top)) == -1)
			goto fail;
	for (i = 0; i < n; i++) {
		if (src[i] == dst[i]) {
			if (fcntl(dst[i], F_SETFD, 0) == -1)
				goto fail;
		} else if (dup2(src[i], dst[i]) == -1)
			goto fail;
	}
	if (a->cwd != NULL && chdir(a->cwd) == -1)
		goto fail;
	/*
	 * The old descriptor limit only now: the moves above may need the
	 * raised one (a ready fd near the old limit), and what they left
	 * high is close-on-exec.
	 */
	if (proc_nofile_raised &&
	    setrlimit(RLIMIT_NOFILE, &proc_child_nofile) == -1)
		goto fail;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (i = 1; i < 32; i++)
		if (i != SIGKILL && i != SIGSTOP)
			(void)sigaction(i, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(c->path, a->argv, a->env);
	/* As execvp: a file without a known format is a shell script. */
	if (errno == ENOEXEC)
		execve("/bin/sh", c->shargv, a->env);
fail:
	c->child_errno = errno != 0 ? errno : EINVAL;
	_exit(127);
}

/*
 * vfork in a function of its own, with everything behind one pointer:
 * no local of the caller lives in a register across the two returns.
 */
static pid_t
proc_vfork(struct proc_child_args *c)
{
	pid_t	pid;

	pid = vfork();
	if (pid == 0)
		proc_child(c);
	return pid;
}

static int __attribute__((no_sanitize_address))
proc_clone_child(void *arg)
{
	proc_child(arg);
}

/*
 * Set up the slots and the child's stack, once. The slots are opened
 * early, so they get low numbers and the child's copy of the table is
 * small. Without them spawning falls back to vfork.
 */
static int
proc_spawner_setup(void)
{
	struct proc_spawner	*s = &proc_spawner;
	int			 i;

	if (s->ready != -1)
		return s->ready;
	s->ready = 0;
	s->stack = mmap(NULL, PROC_STACK_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
	if (s->stack == MAP_FAILED) {
		log_warn("mmap of a spawn stack");
		s->stack = NULL;
		return 0;
	}
	for (i = 0; i < NSLOTS; i++) {
		if ((s->slot[i] = open("/dev/null", O_RDWR | O_CLOEXEC)) ==
		    -1) {
			log_warn("/dev/null");
			while (i-- > 0)
				(void)close(s->slot[i]);
			(void)munmap(s->stack, PROC_STACK_SIZE);
			s->stack = NULL;
			return 0;
		}
		if (s->slot[i] > s->top)
			s->top = s->slot[i];
	}
	s->ready = 1;
	return 1;
}

void
proc_init(void)
{
	if (proc_have_pidfd())
		(void)proc_spawner_setup();
}

/* Put (or, with fd -1, take back) a spawn's descriptors on the slots. */
static int
proc_slots_fill(const struct proc_spawn_args *a, int fill)
{
	const struct proc_spawner	*s = &proc_spawner;
	int				 i, fd;

	for (i = 0; i <= SLOT_EXTRA; i++) {
		if (!fill)
			fd = s->slot[SLOT_NULL];
		else if (i == SLOT_EXTRA)
			fd = a->extra_fd != -1 ? a->extra_fd : s->slot[SLOT_NULL];
		else
			fd = a->fds[i];
		if (dup3(fd, s->slot[i], O_CLOEXEC) == -1)
			return -errno;
	}
	return 0;
}

/*
 * Make the child: with a shared table when the slots are set up, else by
 * vfork. Returns the pid or -1 (errno set).
 */
static pid_t
proc_make_child(struct proc_child_args *c)
{
	struct proc_spawner	*s = &proc_spawner;
	pid_t			 pid;
	int			 error;

	if (proc_spawner_setup() != 1)
		return proc_vfork(c);
	if ((error = proc_slots_fill(c->a, 1)) != 0) {
		(void)proc_slots_fill(c->a, 0);
		errno = -error;
		return -1;
	}
	c->slot = s->slot;
	c->top = s->top;
	pid = clone(proc_clone_child, s->stack + PROC_STACK_SIZE,
	    CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, c);
	error = errno;
	/* Our table again: no pipe end may stay open in a slot. */
	if (proc_slots_fill(c->a, 0) != 0)
		fatal("cannot reset the spawn slots");
	c->slot = NULL;
	if (pid == -1 && error == EINVAL) {
		/*
		 * Flags this system will not take (valgrind runs no clone
		 * that shares memory but not the thread): vfork from now on.
		 */
		s->ready = 0;
		return proc_vfork(c);
	}
	errno = error;
	return pid;
}

/* vfork and exec; the child's exit comes through a pidfd. */
static int
proc_spawn_fork(uv_loop_t *loop, const struct proc_spawn_args *a,
    struct proc *p)
{
	struct proc_child_args	 c;
	sigset_t		 all, saved;
	char			*path, **shargv;
	size_t			 argc, i;
	pid_t			 pid;
	int			 error, st;

	if ((error = proc_check_cwd(a->cwd)) != 0)
		return -error;
	if ((error = proc_resolve(a->file, a->env, a->cwd, &path)) != 0)
		return -error;
	/* Made before the vfork: the child must not allocate. */
	for (argc = 0; a->argv[argc] != NULL; argc++)
		;
	shargv = xreallocarray(NULL, argc + 2, sizeof *shargv);
	shargv[0] = "/bin/sh";
	shargv[1] = path;
	for (i = 1; i <= argc; i++)
		shargv[i + 1] = a->argv[i];
	memset(&c, 0, sizeof c);
	c.a = a;
	c.path = path;
	c.shargv = shargv;
	/* No signal handler may run in the child before exec. */
	sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &saved);
	pid = proc_make_child(&c);
	error = pid == -1 ? -errno : 0;
	(void)pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (pid == -1)
		goto out;
	/* The child has exec'd, or failed and exited: reap it, say why. */
	if (c.child_errno != 0) {
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
		error = -c.child_errno;
		goto out;
	}
	p->pid = pid;
	/*
	 * Only we reap this pid, so it stays ours until then and the pidfd
	 * refers to it, even if it has exited already. Without a pidfd
	 * (EMFILE) the child cannot be watched: kill and reap it, and fail
	 * the spawn as uv_spawn would fail for want of a descriptor.
	 */
	if ((p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1 ||
	    (error = uv_poll_init(loop, &p->h.pidpoll, p->pidfd)) != 0) {
		error = p->pidfd == -1 ? -errno : error;
		(void)kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
			;
		if (p->pidfd != -1)
			(void)close(p->pidfd);
		p->pidfd = -1;
		p->pid = 0;
		goto out;
	}
	p->h.pidpoll.data = p;
	p->open_handles++;
	if (uv_poll_start(&p->h.pidpoll, UV_READABLE, proc_pidfd_cb) != 0)
		fatalx("cannot poll a pidfd");
out:
	free(shargv);
	free(path);
	return error;
}

int
proc_spawn(uv_loop_t *loop, const struct proc_spawn_args *a,
    struct proc **out)
{
	struct proc	*p;
	int		 error;

	*out = NULL;
	p = xcalloc(1, sizeof *p);
	p->exit_fn = a->exit_fn;
	p->arg = a->arg;
	p->pidfd = -1;

	error = uv_timer_init(loop, &p->timer);
	if (error != 0) {
		free(p);
		return error;
	}
	p->timer.data = p;
	p->open_handles = 1;

	if (proc_have_pidfd())
		error = proc_spawn_fork(loop, a, p);
	else
		error = proc_spawn_uv(loop, a, p);
	if (error != 0) {
		p->exited = 1;
		p->freed = 1;
		proc_release_handles(p);
		return error;
	}
	/*
	 * The group is told to the guardian now: the child has exec'd, so
	 * it has called setsid. Were we SIGKILLed between the vfork and
	 * this, the guardian would not know the group: a window of a few
	 * instructions (the child could write the record itself before its
	 * exec, to close it).
	 */
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

/*
 * For a walk of the loop's handles: the pid a handle waits to reap, if it
 * watches the exit of one of our children (a pidfd poll, or libuv's
 * process handle), else 0. An orphan reaper must leave these alone.
 */
pid_t
proc_handle_pid(const uv_handle_t *h)
{
	const struct proc	*p = h->data;

	if (!uv_is_active(h))
		return 0;
	if (h->type == UV_PROCESS)
		return ((const uv_process_t *)h)->pid;
	if (h->type == UV_POLL &&
	    ((const uv_poll_t *)h)->poll_cb == proc_pidfd_cb && p != NULL)
		return p->pid;
	return 0;
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

/* Does pid descend from us (we are a subreaper, so orphans stay ours)? */
static int
proc_is_descendant(pid_t pid)
{
	pid_t	self = getpid(), ppid, pgrp;
	int	depth;

	for (depth = 0; depth < 64 && pid > 1; depth++) {
		if (util_proc_stat(pid, &ppid, &pgrp) == -1)
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

	if (util_proc_stat(p->pid, &ppid, &pgrp) == 0)
		return 0;
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if ((pid = (pid_t)atol(e->d_name)) <= 0)
			continue;
		if (util_proc_stat(pid, &ppid, &pgrp) == -1 || pgrp != p->pid)
			continue;
		/*
		 * Without pidfds (kernels before 5.3, valgrind before 3.20:
		 * ENOSYS), kill(2) right after the check, the best there is.
		 */
		pfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pfd == -1 && errno != ENOSYS)
			continue;
		if (util_proc_stat(pid, &ppid, &pgrp) == 0 && pgrp == p->pid &&
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
	if (p->pid <= 0)
		return 0;
	if (kill(-p->pid, 0) != 0)
		/* No group yet: the leader may not have reached setsid. */
		return !p->exited && kill(p->pid, 0) == 0;
	return !p->exited || proc_group_scan(p, 0) > 0;
}

int
proc_stop_pending(const struct proc *p)
{
	return p->stopping && !p->escalated && proc_group_alive(p);
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
	else if (p->freed)
		proc_release_handles(p);
}

/* The pidfd is readable: the child exited; reap it. */
static void
proc_pidfd_cb(uv_poll_t *h, int status, int events)
{
	struct proc	*p = h->data;
	int64_t		 exit_status = 0;
	int		 st, term_signal = 0;
	pid_t		 r;

	while ((r = waitpid(p->pid, &st, WNOHANG)) == -1 && errno == EINTR)
		;
	if (r == 0)
		return;
	if (r == -1) {
		/* Someone reaped our child: say so rather than wait forever. */
		log_warn("waitpid %ld", (long)p->pid);
		exit_status = 1;
	} else if (WIFSIGNALED(st))
		term_signal = WTERMSIG(st);
	else
		exit_status = WEXITSTATUS(st);
	/*
	 * Reaped: the pidfd has nothing more to say. Closing the handle now
	 * (not stopping it and closing later) removes it from epoll once.
	 */
	uv_close((uv_handle_t *)&p->h.pidpoll, proc_close_cb);
	p->exited = 1;
	if (p->exit_fn != NULL)
		p->exit_fn(p, exit_status, term_signal, p->arg);
	else if (p->freed)
		proc_release_handles(p);
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
	/* Never close the process handle or pidfd before the exit was seen. */
	if (!p->exited)
		return;
	if (p->use_uv && !uv_is_closing((uv_handle_t *)&p->h.process))
		uv_close((uv_handle_t *)&p->h.process, proc_close_cb);
	if (p->pidfd != -1 && !uv_is_closing((uv_handle_t *)&p->h.pidpoll))
		uv_close((uv_handle_t *)&p->h.pidpoll, proc_close_cb);
}

static void
proc_close_cb(uv_handle_t *h)
{
	struct proc	*p = h->data;

	if (h == (uv_handle_t *)&p->h.pidpoll && !p->use_uv) {
		(void)close(p->pidfd);
		p->pidfd = -1;
	}
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
