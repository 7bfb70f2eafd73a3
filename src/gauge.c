/*
 * Bars and sparklines as text. Pure: the screen (ctl-top.c) decides
 * where they go and whether the terminal takes UTF-8.
 */
#include "config.h"

#include "buf.h"
#include "gauge.h"

/* A bar of value against max, width characters. */
void
gauge_bar(struct buf *b, size_t width, uint64_t value, uint64_t max)
{
	size_t	fill, i;

	if (max == 0)
		fill = 0;
	else if (value >= max)
		fill = width;
	else {
		/* Rounded to the nearest; never a full bar below max. */
		fill = (size_t)(((long double)value * width) / max + 0.5L);
		if (fill == 0 && value > 0)
			fill = 1;
		if (fill >= width && width > 0)
			fill = width - 1;
	}
	for (i = 0; i < width; i++)
		buf_addc(b, i < fill ? '#' : '.');
}

/* A sparkline of the last width values. */
void
gauge_spark(struct buf *b, const uint64_t *v, size_t n, size_t width,
    int utf8)
{
	static const char *const blocks[8] = {
		"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
		"\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
		"\xe2\x96\x87", "\xe2\x96\x88",
	};
	static const char ascii[8] = { ' ', '_', '.', '-', '=', '+', '*', '#' };
	uint64_t	max = 0;
	size_t		first, i, level;

	first = n > width ? n - width : 0;
	for (i = first; i < n; i++)
		if (v[i] > max)
			max = v[i];
	for (i = n - first; i < width; i++)
		buf_addc(b, ' ');
	for (i = first; i < n; i++) {
		if (v[i] == 0 || max == 0)
			level = 0;
		else {
			level = 1 + (size_t)(((long double)v[i] * 6) / max);
			if (level > 7)
				level = 7;
		}
		if (utf8)
			buf_adds(b, blocks[level]);
		else
			buf_addc(b, ascii[level]);
	}
}
