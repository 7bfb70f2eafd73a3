/*
 * Splitting a byte stream into items at '\n', with a bounded partial
 * line. Whole lines inside a chunk are handed out in place (no copy);
 * only a line that spans chunks is buffered. Plain data, no I/O.
 */
#ifndef PYT_LINES_H
#define PYT_LINES_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Called once per item, without its '\n'; the bytes are borrowed. A
 * non-zero return stops lines_feed after this item (a full queue).
 */
typedef int (*lines_cb)(const char *item, size_t len, void *arg);

struct lines {
	struct buf	partial;	/* bytes of an unfinished line */
	size_t		max_item;	/* longer lines are split here */
	uint64_t	split;		/* pieces cut from over-long lines */
	int		cut;		/* the item handed out is a piece of a
					   longer line: no '\n' ends it */
};

void	lines_init(struct lines *, size_t max_item);
void	lines_release(struct lines *);
/*
 * Feed a chunk; cb runs for every line completed by it, until a call
 * returns non-zero. Returns how many bytes of the chunk were taken: all,
 * or those up to the end of the item that stopped it; the caller feeds
 * the rest again later, which gives the same items as one feed would.
 */
size_t	lines_feed(struct lines *, const char *, size_t, lines_cb, void *);
/* Bytes held in an unfinished line. */
size_t	lines_pending(const struct lines *);
/*
 * End of stream. keep: deliver an unfinished last line as an item (cb's
 * return is ignored); otherwise drop it. Returns the number of bytes
 * dropped (0 if kept).
 */
size_t	lines_finish(struct lines *, int keep, lines_cb, void *);

#endif
