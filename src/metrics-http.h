/*
 * The metrics endpoint: GET /metrics over HTTP/1.1 on the supervisor's
 * own loop, answering with the sampler's Prometheus text. Every
 * connection is bounded in what it may send and in how long it may stay,
 * so that scrapers, slow or broken, cost the supervision nothing.
 */
#ifndef PYT_METRICS_HTTP_H
#define PYT_METRICS_HTTP_H

#include <uv.h>

#include "sampler.h"

/* The longest request head accepted, and a connection's whole life. */
#define METRICS_HTTP_MAX_REQUEST	8192
#define METRICS_HTTP_TIMEOUT_MS		10000
/* Connections at once; more are closed as soon as accepted. */
#define METRICS_HTTP_MAX_CONNS		256

struct metrics_http;

/*
 * Listen on addr ("HOST:PORT", metrics_parse_addr). Returns 0 with *out
 * (owner: the caller, who frees it before the sampler), or -1 with
 * *cause (allocated). Its handles never keep the loop alive.
 */
int	metrics_http_start(uv_loop_t *, struct sampler *, const char *addr,
	    struct metrics_http **out, char **cause);
/* The port listened on (useful when addr asked for port 0). */
unsigned metrics_http_port(const struct metrics_http *);
/* Close every connection and the listener; run the loop to finish. */
void	metrics_http_free(struct metrics_http *);

#endif
