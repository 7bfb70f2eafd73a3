/*
 * What the supervisor measures of itself once a second, so that any
 * client can ask for rates and not only counters: per unit the CPU time
 * (every run added up), CPU % and resident memory of its process group
 * (the process and everything it started that stayed in its group), read
 * from /proc off the loop; per queue a ring of its counters (items in and out per
 * second, depth over the last minute). And the Prometheus exposition of
 * it all (metrics.h). Knows the supervisor through supervisor.h only.
 *
 * It samples only while someone looks: the first question wakes it (one
 * sample at once, then one a second) and it sleeps again when nobody has
 * asked for SAMPLER_LINGER_MS, so that an idle supervisor spends nothing
 * on it.
 */
#ifndef PYT_SAMPLER_H
#define PYT_SAMPLER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "rates.h"
#include "supervisor.h"

/* How often the sampler looks; rates are over SAMPLER_RATE_WINDOW_MS. */
#define SAMPLER_INTERVAL_MS	1000
#define SAMPLER_RATE_WINDOW_MS	5000
/* Depth values kept for a sparkline: the last minute. */
#define SAMPLER_HISTORY		60
/* Sampling stops this long after the last question. */
#define SAMPLER_LINGER_MS	(10 * 60 * 1000)

struct sampler;

struct sampler_unit_stats {
	uint64_t	cpu_ms;		/* user + system, every run */
	unsigned	cpu_pct;	/* of one CPU, over the last sample */
	int		has_rss;	/* a group whose memory was read */
	uint64_t	rss_bytes;
};

struct sampler_queue_stats {
	uint64_t	capacity;	/* from the manifest in force */
	double		in_per_s;
	double		out_per_s;
	uint64_t	depth[SAMPLER_HISTORY];	/* oldest first */
	size_t		ndepth;
};

/*
 * A sampler, asleep until the first sampler_touch. Its timer never keeps
 * the loop alive. Returns 0 with *out (owner: the caller, who calls
 * sampler_free before supervisor_free), or a negative libuv code.
 */
int	sampler_start(uv_loop_t *, struct supervisor *, struct sampler **out);
/*
 * Someone asks: wake up (sampling at once) if asleep, and keep sampling
 * for SAMPLER_LINGER_MS more. NULL: no-op.
 */
void	sampler_touch(struct sampler *);
/*
 * Stop; the memory goes once the timer is closed and a scan of /proc in
 * flight has ended: run the loop afterwards. NULL: no-op.
 */
void	sampler_free(struct sampler *);
/* A unit instance's figures; zeros for one never seen alive. */
void	sampler_unit(const struct sampler *, const char *name,
	    struct sampler_unit_stats *);
/* A queue's rates and recent depth; zeros for one not sampled yet. */
void	sampler_queue(const struct sampler *, const char *name,
	    struct sampler_queue_stats *);
/* The Prometheus text of every unit and queue, appended to b. */
void	sampler_metrics(const struct sampler *, struct buf *b);

#endif
