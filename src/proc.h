/*
 * One child process on libuv: spawn it in its own process group with the
 * stdio descriptors it is given, report its exit, signal its group, and
 * stop it with escalation to SIGKILL. Knows nothing of units, queues or
 * the manifest. Called by supervisor.c.
 */
#ifndef PYT_PROC_H
#define PYT_PROC_H

#include <sys/types.h>

#include <stdint.h>
#include <uv.h>

#include "guard.h"

struct proc;

/* The leader exited (exit_status) or died (term_signal != 0). */
typedef void (*proc_exit_fn)(struct proc *, int64_t exit_status,
    int term_signal, void *arg);

struct proc_spawn_args {
	const char	 *file;		/* looked up in PATH */
	char		**argv;
	char		**env;		/* NULL-terminated "K=V" */
	const char	 *cwd;		/* NULL: ours */
	int		  fds[3];	/* the child's 0, 1, 2 */
	int		  extra_fd;	/* -1, or given to the child as extra_num */
	int		  extra_num;	/* 3..1023 (readiness fd) */
	proc_exit_fn	  exit_fn;
	void		 *arg;
	struct guard	 *guard;	/* NULL, or told of the group */
};

/*
 * Spawn. Returns 0 and the process in *out (owner: the caller, who calls
 * proc_free once it is done with it, at any time after the exit callback),
 * or a negative libuv error with *out NULL; the caller closes the fds.
 */
/*
 * Raise our soft descriptor limit to the hard one, once at start-up;
 * children spawned afterwards get the limit we started with. Not done on
 * kernels without pidfd_open, where children are spawned by uv_spawn,
 * which could not give them the old limit back.
 */
void	 proc_raise_nofile(void);
/*
 * Set up spawning at start-up, before the loop opens its descriptors, so
 * the few the spawner keeps get low numbers (proc.c says why). Optional:
 * the first spawn does it otherwise.
 */
void	 proc_init(void);
int	 proc_spawn(uv_loop_t *, const struct proc_spawn_args *,
	    struct proc **out);
pid_t	 proc_pid(const struct proc *);
/*
 * The pid an active handle of the loop waits to reap, if it watches the
 * exit of a child spawned here (a pidfd poll, or uv_spawn's process
 * handle), else 0: for a uv_walk that must not reap our children.
 */
pid_t	 proc_handle_pid(const uv_handle_t *);
int	 proc_has_exited(const struct proc *);
/* Signal the whole process group; 0 if delivered or nobody is left. */
int	 proc_signal(struct proc *, int sig);
/*
 * Send sig and SIGCONT to the group, then SIGKILL the group at the
 * timeout if any member is still alive, even when the leader has exited.
 */
int	 proc_stop(struct proc *, int sig, uint64_t timeout_ms);
/* Did proc_stop have to send SIGKILL? */
int	 proc_was_escalated(const struct proc *);
/*
 * Is a stop under way whose group still has a live member, before its
 * deadline? (The leader may have exited while a member ignores the stop.)
 */
int	 proc_stop_pending(const struct proc *);
/* SIGKILL the group now. */
void	 proc_kill_now(struct proc *);
/*
 * Release. The last handle close frees the memory; a pending stop
 * escalation still runs first, so no group member outlives its stop.
 */
void	 proc_free(struct proc *);

#endif
