/*
 * A small ring of timed samples of one counter or gauge: the rate per
 * second of a counter over a window, and the recent values of a gauge
 * (a queue's depth over the last minute). Plain data, no clock of its
 * own: the caller passes the time of each sample.
 */
#ifndef PYT_RATES_H
#define PYT_RATES_H

#include <stddef.h>
#include <stdint.h>

/* Samples kept: a minute and a bit at one sample a second. */
#define RATES_SLOTS	64

struct rates {
	uint64_t	t[RATES_SLOTS];		/* milliseconds */
	uint64_t	v[RATES_SLOTS];
	size_t		head;			/* the next slot written */
	size_t		n;			/* samples held */
};

void	rates_init(struct rates *);
/* Add a sample taken at now_ms (never earlier than the previous one). */
void	rates_add(struct rates *, uint64_t now_ms, uint64_t v);
/* The newest value, or 0 when there is none. */
uint64_t rates_last(const struct rates *);
/*
 * Increase per second between the newest sample and the oldest one at
 * most window_ms older; 0 with fewer than two samples, no time between
 * them, or a value that went down (a counter that was reset).
 */
double	rates_per_sec(const struct rates *, uint64_t window_ms);
/* Up to max of the newest values into out, oldest first; how many. */
size_t	rates_values(const struct rates *, uint64_t *out, size_t max);

#endif
