/*
 * Line splitting of a producer's byte stream. Lines wholly inside a chunk
 * go to the callback in place; only the one line that spans chunks is
 * copied, into a partial buffer never larger than max_item. Knows nothing
 * of pipes or queues: the caller decides where items go.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "lines.h"

/* Prepare a splitter; max_item 0 means no limit on a line. */
void
lines_init(struct lines *l, size_t max_item)
{
	buf_init(&l->partial);
	l->max_item = max_item > 0 ? max_item : SIZE_MAX / 2;
	l->split = 0;
}

/* Free the partial buffer; the splitter may be initialised again. */
void
lines_release(struct lines *l)
{
	buf_release(&l->partial);
}

/*
 * Hand out the lines of p[0..n) that hold no partial part. A run longer
 * than max_item is cut only once the byte after the piece is known not to
 * be '\n', so a line of exactly max_item bytes is never cut into a piece
 * and an empty item. Stops after an item cb returns non-zero for. Returns
 * the bytes used: up to the end of that item, or all n, and then *tail is
 * the length of the unfinished tail (at most max_item), which the caller
 * keeps.
 */
static size_t
lines_scan(struct lines *l, const char *p, size_t n, lines_cb cb, void *arg,
    size_t *tail)
{
	const char	*start = p, *nl;
	size_t		 len;
	int		 stop;

	*tail = 0;
	while (n > 0) {
		nl = memchr(p, '\n', n);
		len = nl != NULL ? (size_t)(nl - p) : n;
		while (len > l->max_item) {
			l->cut = 1;
			stop = cb(p, l->max_item, arg);
			l->split++;
			p += l->max_item;
			n -= l->max_item;
			len -= l->max_item;
			if (stop)
				return (size_t)(p - start);
		}
		if (nl == NULL) {
			*tail = len;
			return (size_t)(p - start) + len;
		}
		l->cut = 0;
		stop = cb(p, len, arg);
		p += len + 1;
		n -= len + 1;
		if (stop)
			break;
	}
	return (size_t)(p - start);
}

/*
 * Feed a chunk. A held partial line is completed first, from at most the
 * bytes it still has room for; the rest of the chunk is scanned in place.
 */
size_t
lines_feed(struct lines *l, const char *p, size_t n, lines_cb cb, void *arg)
{
	const char	*nl;
	size_t		 pend, room, lim, tail, used = 0;
	int		 stop;

	pend = buf_used(&l->partial);
	if (pend > 0 && n > 0) {
		room = l->max_item - pend;
		lim = n < room + 1 ? n : room + 1;
		nl = memchr(p, '\n', lim);
		if (nl != NULL) {
			buf_add(&l->partial, p, (size_t)(nl - p));
			l->cut = 0;
			stop = cb(buf_ptr(&l->partial), buf_used(&l->partial),
			    arg);
			buf_clear(&l->partial);
			lim = (size_t)(nl - p) + 1;
		} else if (n <= room) {
			buf_add(&l->partial, p, n);
			return n;
		} else {
			/* The byte after a full piece is not '\n': cut. */
			buf_add(&l->partial, p, room);
			l->cut = 1;
			stop = cb(buf_ptr(&l->partial), buf_used(&l->partial),
			    arg);
			l->split++;
			buf_clear(&l->partial);
			lim = room;
		}
		if (stop)
			return lim;
		p += lim;
		n -= lim;
		used = lim;
	}
	used += lines_scan(l, p, n, cb, arg, &tail);
	if (tail > 0)
		buf_add(&l->partial, p + n - tail, tail);
	return used;
}

/* Bytes held in an unfinished line. */
size_t
lines_pending(const struct lines *l)
{
	return buf_used(&l->partial);
}

/*
 * End of stream: deliver the unfinished line (a normal exit) or drop it
 * (a torn write of a killed producer). The buffer is given back either way,
 * since a stream that ended may have held a long line.
 */
size_t
lines_finish(struct lines *l, int keep, lines_cb cb, void *arg)
{
	size_t	pend = buf_used(&l->partial);

	l->cut = 0;
	if (pend > 0 && keep)
		cb(buf_ptr(&l->partial), pend, arg);
	buf_release(&l->partial);
	return keep ? 0 : pend;
}
