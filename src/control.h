/*
 * The control socket of a running supervisor: a unix socket served on
 * the supervisor's libuv loop, speaking the protocol of ctlproto.h to
 * `pytasking-run ctl`. Knows the supervisor only through its control
 * interface (supervisor.h); knows nothing of the client (ctl.c).
 */
#ifndef PYT_CONTROL_H
#define PYT_CONTROL_H

#include <uv.h>

#include "sampler.h"
#include "supervisor.h"

struct control;

/*
 * Listen on path, or when path is NULL on the default path for the
 * manifest file (ctlproto_default_path). A stale socket (nobody
 * listening) is replaced; a live one is an error. Returns 0 with *out
 * (owner: the caller, who calls control_free before supervisor_free), or
 * -1 with *cause (allocated). The control's handles never keep the loop
 * alive: the supervisor decides when the run is over.
 */
int		 control_start(uv_loop_t *, struct supervisor *,
		    const char *path, const char *manifest,
		    struct control **out, char **cause);
/* Where rates and metrics come from (borrowed; it outlives the control). */
void		 control_set_sampler(struct control *, struct sampler *);
/* The socket's absolute path (for PYTASKING_SOCKET). */
const char	*control_path(const struct control *);
/*
 * The run is over: close every connection that holds a get's item not
 * yet delivered (a get-ack awaiting its ack), which puts the item back in
 * its queue, so the queues' last counts include it as left.
 */
void		 control_end_gets(struct control *);
/*
 * Close every connection and the socket, and remove it; run the loop
 * afterwards to let the close callbacks free the memory.
 */
void		 control_free(struct control *);

#endif
