/*
 * A bounded ring of a unit's recent output lines, kept for "ctl logs",
 * each with the time it arrived. Plain data: appending copies the line;
 * when the ring is full the oldest whole lines make room, and are
 * counted. Memory grows with use, by doubling, up to the bound.
 */
#ifndef PYT_LOGRING_H
#define PYT_LOGRING_H

#include <stddef.h>
#include <stdint.h>

#define LOGRING_DEFAULT_SIZE	(1024 * 1024)
#define LOGRING_MIN_SIZE	1024
#define LOGRING_MAX_SIZE	(1024 * 1024 * 1024)

struct logring {
	char		*buf;
	size_t		 bufcap;	/* allocated, at most max */
	size_t		 max;		/* the bound: log_buffer */
	size_t		 start;		/* the oldest record's first byte */
	size_t		 used;		/* bytes of records held */
	uint64_t	 nlines;	/* lines held */
	uint64_t	 dropped;	/* lines pushed out of the head */
};

/* A ring of at most max bytes (0: the default), empty. */
void		logring_init(struct logring *, size_t max);
void		logring_release(struct logring *);
/*
 * Append one line (without its newline) that arrived at time_ms (ms
 * since the epoch), the seq-th line the caller saw (for merging rings in
 * arrival order: the clock may step back). A line longer than the ring
 * is cut to fit.
 */
void		logring_add(struct logring *, uint64_t time_ms, uint64_t seq,
		    const char *, size_t);
/* Call fn(time_ms, seq, line, len, arg) for every line held, oldest first. */
void		logring_lines(const struct logring *,
		    void (*fn)(uint64_t, uint64_t, const char *, size_t, void *),
		    void *);
/*
 * A new bound (0: the default), as a reload may give: a smaller one drops
 * the oldest lines that no longer fit.
 */
void		logring_resize(struct logring *, size_t max);
/* How many lines were pushed out of the head since the start. */
uint64_t	logring_dropped(const struct logring *);

#endif
