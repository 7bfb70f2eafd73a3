/*
 * The guardian: a tiny process forked at start-up that SIGKILLs every
 * process group it was told of once the supervisor is gone, even when the
 * supervisor was SIGKILLed. Knows nothing of libuv, units or the manifest.
 */
#ifndef PYT_GUARD_H
#define PYT_GUARD_H

#include <sys/types.h>

#include <stdint.h>

struct guard;

/*
 * Fork the guardian. Returns the guard (owner: the caller, who ends it
 * with guard_stop), or NULL when it cannot be forked (logged once; the
 * supervisor then runs without it).
 */
struct guard	*guard_start(void);
/*
 * The guardian's pid (a child of ours that only guard_check and
 * guard_stop reap), or -1 while there is none; it changes when the
 * guardian is replaced.
 */
pid_t		 guard_pid(const struct guard *);
/* Watch process group pgid; calls nest (one guard_del per guard_add). */
void		 guard_add(struct guard *, pid_t pgid);
/*
 * The caller let go of pgid, whose leader (the process whose pid is pgid)
 * has been reaped: call it only then. The guardian forgets the group once
 * no member is left, or once a stranger holds pgid as its pid (then the
 * group's number was free and reused); until then it is still killed if
 * we die.
 */
void		 guard_del(struct guard *, pid_t pgid);
/* How many groups were ever added: a change means a new spawn. */
uint64_t	 guard_added(const struct guard *);
/*
 * Reap the guardian if it died, and replace it: a new one is forked and
 * told every group (also done when it stops reading). Call on SIGCHLD.
 */
void		 guard_check(struct guard *);
/* Forget let-go groups that have no member left. */
void		 guard_sweep(struct guard *);
/*
 * Close the pipe: the guardian kills the groups still recorded and exits;
 * wait for it and free the guard. guard_stop(NULL) is a no-op.
 */
void		 guard_stop(struct guard *);

#endif
