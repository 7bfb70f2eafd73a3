/*
 * The child subreaper: processes that escaped their group (setsid, a
 * double fork) are re-parented to us; reap them, tell the guardian of
 * them, and stop them at exit. Never waits for a child libuv spawned.
 * Knows nothing of units or the manifest.
 */
#ifndef PYT_REAPER_H
#define PYT_REAPER_H

#include <stdint.h>
#include <uv.h>

#include "guard.h"

/* How long adopted orphans get between SIGTERM and SIGKILL at exit. */
#define REAPER_STOP_TIMEOUT_MS	5000

struct reaper;

/*
 * Become a child subreaper and watch SIGCHLD (a handle that does not
 * keep the loop alive). g may be NULL; its guardian is never reaped here.
 * Owner: the caller (reaper_free). Returns NULL on failure, logged.
 */
struct reaper	*reaper_start(uv_loop_t *, struct guard *g);
/*
 * Stop the adopted orphans still alive: SIGTERM (and SIGCONT) now, to
 * each and to its process group, SIGKILL after timeout_ms; the loop stays
 * alive until every one is reaped. Call once every unit has ended.
 */
void		 reaper_stop_orphans(struct reaper *, uint64_t timeout_ms);
/* Adopted orphans alive at the last look. */
size_t		 reaper_orphans(const struct reaper *);
/* Close; the memory goes with the last close callback. NULL is a no-op. */
void		 reaper_free(struct reaper *);

#endif
