/*
 * The Prometheus text exposition format (version 0.0.4) of a snapshot of
 * units and queues: HELP and TYPE lines, one family per metric, label
 * values escaped. Pure: the snapshot is plain data filled by the caller
 * (sampler.c); nothing here knows the supervisor or sockets.
 */
#ifndef PYT_METRICS_H
#define PYT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The Content-Type of the format. */
#define METRICS_CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"

struct metrics_unit {
	const char	*unit;		/* the unit's name (a replica's base) */
	const char	*replica;	/* "2" for "web.2"; NULL: no replicas */
	int		 up;		/* a run is going on */
	int		 ready;		/* the current run is ready */
	uint64_t	 restarts;
	uint64_t	 cpu_ms;	/* user + system time of every run */
	int		 has_rss;	/* a process whose memory was read */
	uint64_t	 rss_bytes;
};

struct metrics_queue {
	const char	*queue;
	uint64_t	 depth;
	uint64_t	 capacity;
	uint64_t	 in;
	uint64_t	 out;
	uint64_t	 dropped;
	uint64_t	 redelivered;
	uint64_t	 torn;
};

/* Append the exposition of the units and queues to b. */
void	metrics_format(struct buf *b, const struct metrics_unit *, size_t,
	    const struct metrics_queue *, size_t);
/* Append s as a label value: backslash, quote and newline escaped. */
void	metrics_label_value(struct buf *b, const char *s);
/*
 * Split "HOST:PORT" ("[V6]:PORT" for IPv6) of the metrics listener into
 * *host (allocated; free it) and *port. HOST must be an IPv4 or IPv6
 * address (no names: nothing to resolve on the loop); without one
 * (":PORT" or "PORT") it is 127.0.0.1. PORT 0 to 65535, 0 for any free
 * port.
 * Returns 0, or -1 with a static *errstr.
 */
int	metrics_parse_addr(const char *s, char **host, unsigned *port,
	    const char **errstr);
/* 1 when host is a loopback address (127.0.0.0/8 or ::1). */
int	metrics_addr_is_loopback(const char *host);
/* 1 when s is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*). */
int	metrics_is_valid_name(const char *s);

#endif
