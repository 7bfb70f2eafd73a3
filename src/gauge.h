/*
 * Small pictures of numbers for a text screen: a bar of a value against
 * its maximum and a sparkline of recent values. Pure: they write into a
 * buffer and know nothing of terminals.
 */
#ifndef PYT_GAUGE_H
#define PYT_GAUGE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * width characters: '#' for the part of max that value fills, '.' for
 * the rest. Any value above 0 shows at least one '#'; a value at or
 * above max fills the bar; max 0 leaves it empty.
 */
void	gauge_bar(struct buf *, size_t width, uint64_t value, uint64_t max);
/*
 * The last width of the n values as a sparkline of eight levels scaled
 * to their largest (U+2581..U+2588 with utf8, else " _.-=+*#" in
 * ASCII); padded with spaces on the left when there are fewer values.
 * Zero is the lowest level; any other value is at least the second.
 */
void	gauge_spark(struct buf *, const uint64_t *, size_t n, size_t width,
	    int utf8);

#endif
