/*
 * A bounded ring of recent output bytes, kept per unit for "ctl logs".
 * Plain data: appending copies, reading hands out whole lines from the
 * oldest that is still complete. Memory is allocated on first use.
 */
#ifndef PYT_LOGRING_H
#define PYT_LOGRING_H

#include <stddef.h>

#define LOGRING_DEFAULT_SIZE	(16 * 1024)

struct logring {
	char	*buf;
	size_t	 cap;
	size_t	 head;		/* next byte written */
	size_t	 used;		/* valid bytes, at most cap */
};

void	logring_init(struct logring *, size_t cap);
void	logring_release(struct logring *);
/* Append bytes (lines with their '\n'); the oldest bytes fall out. */
void	logring_add(struct logring *, const char *, size_t);
/* Call fn for every complete line held, oldest first, without '\n'. */
void	logring_lines(const struct logring *,
	    void (*fn)(const char *, size_t, void *), void *);

#endif
