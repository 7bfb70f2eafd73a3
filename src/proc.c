/*
 * Child processes on libuv. Each child is spawned detached (setsid), so
 * its pid is its process group and a stop reaches its whole tree. The
 * struct embeds libuv handles and is freed from its last close callback.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

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
	proc_exit_fn	 exit_fn;
	void		*arg;
};

static void	proc_close_cb(uv_handle_t *);
static void	proc_exit_cb(uv_process_t *, int64_t, int);
static void	proc_timer_cb(uv_timer_t *);
static void	proc_release_handles(struct proc *);

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

/*
 * Signal the group. After the leader was reaped the group id stays
 * reserved by the kernel as long as any member lives, so -pgid can only
 * reach our own leftovers; ESRCH means nobody is left, which is fine.
 */
int
proc_signal(struct proc *p, int sig)
{
	if (p->pid <= 0)
		return 0;
	if (kill(-p->pid, sig) == 0)
		return 0;
	/*
	 * No such group while the leader lives: it has not reached setsid
	 * yet. Signal the leader itself; it cannot have been reaped.
	 */
	if (errno == ESRCH && !p->exited && kill(p->pid, sig) == 0)
		return 0;
	if (errno == ESRCH)
		return 0;
	return -errno;
}

static int
proc_group_alive(const struct proc *p)
{
	return p->pid > 0 && kill(-p->pid, 0) == 0;
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

static void
proc_timer_cb(uv_timer_t *t)
{
	struct proc	*p = t->data;

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
	    proc_group_alive(p))
		return;
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

	if (--p->open_handles == 0)
		free(p);
}
