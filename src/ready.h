/*
 * Polling readiness probes on libuv: run a command (exec), connect (tcp)
 * or ask for a 2xx answer (http) every interval until the first success.
 * Knows nothing of units or the supervisor; ready_timeout is the caller's.
 */
#ifndef PYT_READY_H
#define PYT_READY_H

#include <uv.h>

#include "guard.h"
#include "manifest.h"

struct probe;

/* Called once, when the probe first succeeds; it may call probe_free. */
typedef void (*probe_ready_fn)(void *arg);

/*
 * Who a probe's command runs as, and where: exactly its unit. Built by
 * the caller from the unit's proc_spec (user, group, umask, limits and
 * cwd are taken from ps, applied by the chain loader as for the unit's
 * own process), with the unit's environment. Borrowed for the call.
 */
struct probe_ident {
	const char		 *unit;		/* names the probe in messages */
	const struct proc_spec	 *ps;
	char			**env;		/* NULL-terminated "K=V"; NULL: ours */
	struct guard		 *guard;	/* NULL, or told of each group */
};

/*
 * Start polling now, then every spec->interval_ms (0: 1s), until success
 * or probe_free. Handles READY_EXEC, READY_TCP and READY_HTTP; an exec
 * probe's command runs as id says (tcp and http run no command: the
 * supervisor connects). A failed exec probe's last lines of output are
 * logged at debug level (-v). Returns NULL and logs if the spec cannot be
 * probed. Owner: the caller, who calls probe_free.
 */
struct probe	*probe_start(uv_loop_t *, const struct ready_spec *,
		    const struct probe_ident *id, probe_ready_fn, void *arg);
/* Did the probe succeed? */
int		 probe_is_ready(const struct probe *);
/*
 * Stop polling and kill a running exec probe's process group. The memory
 * goes in the last close callback. No-op on NULL; safe inside the
 * probe_ready_fn.
 */
void		 probe_free(struct probe *);

#endif
