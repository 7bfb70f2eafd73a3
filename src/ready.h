/*
 * Polling readiness probes on libuv: run a command (exec), connect (tcp)
 * or ask for a 2xx answer (http) every interval until the first success.
 * Knows nothing of units or the supervisor; ready_timeout is the caller's.
 */
#ifndef PYT_READY_H
#define PYT_READY_H

#include <uv.h>

#include "manifest.h"

struct probe;

/* Called once, when the probe first succeeds; it may call probe_free. */
typedef void (*probe_ready_fn)(void *arg);

/*
 * Start polling now, then every spec->interval_ms (0: 1s), until success
 * or probe_free. Handles READY_EXEC, READY_TCP and READY_HTTP. env is a
 * NULL-terminated "K=V" list for the exec probe (copied; NULL: ours);
 * unit_name only names the probe in log messages. Returns NULL and logs
 * if the spec cannot be probed. Owner: the caller, who calls probe_free.
 */
struct probe	*probe_start(uv_loop_t *, const struct ready_spec *,
		    char **env, const char *unit_name, probe_ready_fn,
		    void *arg);
/* Did the probe succeed? */
int		 probe_is_ready(const struct probe *);
/*
 * Stop polling and kill a running exec probe's process group. The memory
 * goes in the last close callback. No-op on NULL; safe inside the
 * probe_ready_fn.
 */
void		 probe_free(struct probe *);

#endif
