/*
 * A ring of timed samples and what is derived from it: rates of counters
 * and the recent values of gauges. Pure: no clock, no allocation.
 */
#include "config.h"

#include <assert.h>
#include <string.h>

#include "rates.h"

/* Empty the ring. */
void
rates_init(struct rates *r)
{
	memset(r, 0, sizeof *r);
}

/* Add one sample, replacing the oldest when the ring is full. */
void
rates_add(struct rates *r, uint64_t now_ms, uint64_t v)
{
	r->t[r->head] = now_ms;
	r->v[r->head] = v;
	r->head = (r->head + 1) % RATES_SLOTS;
	if (r->n < RATES_SLOTS)
		r->n++;
}

/* The slot of the k-th newest sample (0: the newest); k < n. */
static size_t
rates_slot(const struct rates *r, size_t k)
{
	assert(k < r->n);
	return (r->head + RATES_SLOTS - 1 - k) % RATES_SLOTS;
}

uint64_t
rates_last(const struct rates *r)
{
	return r->n == 0 ? 0 : r->v[rates_slot(r, 0)];
}

/* Increase per second over the window ending at the newest sample. */
double
rates_per_sec(const struct rates *r, uint64_t window_ms)
{
	size_t		newest, old = 0, k, s;
	uint64_t	dt;

	if (r->n < 2)
		return 0;
	newest = rates_slot(r, 0);
	/* The oldest sample still inside the window; at least the 2nd. */
	for (k = 1; k < r->n; k++) {
		s = rates_slot(r, k);
		if (k > 1 && r->t[newest] - r->t[s] > window_ms)
			break;
		old = s;
	}
	dt = r->t[newest] - r->t[old];
	if (dt == 0 || r->v[newest] < r->v[old])
		return 0;
	return (double)(r->v[newest] - r->v[old]) * 1000.0 / (double)dt;
}

/* The newest values, oldest first. */
size_t
rates_values(const struct rates *r, uint64_t *out, size_t max)
{
	size_t	n = r->n < max ? r->n : max, i;

	for (i = 0; i < n; i++)
		out[i] = r->v[rates_slot(r, n - 1 - i)];
	return n;
}
