/*
 * All units and queues of one manifest on one loop: starting, restarting,
 * stopping in data-flow order, and the exit status. Borrows the manifest;
 * knows nothing of YAML. Called by main.c (and later the control server).
 */
#ifndef PYT_SUPERVISOR_H
#define PYT_SUPERVISOR_H

#include <uv.h>

#include "manifest.h"

struct supervisor;

/* Owner: the caller. The manifest must outlive the supervisor. */
struct supervisor	*supervisor_new(uv_loop_t *, const struct manifest *);
/* Install signal handlers and start every autostart unit. */
int			 supervisor_start(struct supervisor *);
/* Stop everything in data-flow order (what SIGTERM does). */
void			 supervisor_shutdown(struct supervisor *);
/* 0, or 1 when any unit failed or had to be killed. */
int			 supervisor_exit_status(const struct supervisor *);
/* Print queue counters and totals (for -v). */
void			 supervisor_report(const struct supervisor *);
/* Close everything; run the loop afterwards to let close callbacks finish. */
void			 supervisor_free(struct supervisor *);

#endif
