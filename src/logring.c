/*
 * The log ring: the last few kilobytes of a unit's console output. A
 * line cut by the wrap-around at the oldest end is skipped when read,
 * so readers only ever see whole lines.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "logring.h"
#include "xmalloc.h"

void
logring_init(struct logring *r, size_t cap)
{
	memset(r, 0, sizeof *r);
	r->cap = cap > 0 ? cap : LOGRING_DEFAULT_SIZE;
}

void
logring_release(struct logring *r)
{
	free(r->buf);
	r->buf = NULL;
	r->head = r->used = 0;
}

void
logring_add(struct logring *r, const char *p, size_t n)
{
	size_t	room;

	if (n == 0)
		return;
	if (r->buf == NULL)
		r->buf = xmalloc(r->cap);
	if (n >= r->cap) {
		memcpy(r->buf, p + n - r->cap, r->cap);
		r->head = 0;
		r->used = r->cap;
		return;
	}
	room = r->cap - r->head;
	if (n <= room)
		memcpy(r->buf + r->head, p, n);
	else {
		memcpy(r->buf + r->head, p, room);
		memcpy(r->buf, p + room, n - room);
	}
	r->head = (r->head + n) % r->cap;
	r->used = r->used + n > r->cap ? r->cap : r->used + n;
}

void
logring_lines(const struct logring *r,
    void (*fn)(const char *, size_t, void *), void *arg)
{
	char	*flat, *p, *end, *nl;
	size_t	 start;

	if (r->used == 0)
		return;
	/* Unroll the ring into one buffer: reading is rare, appends are not. */
	flat = xmalloc(r->used);
	start = (r->head + r->cap - r->used) % r->cap;
	if (start + r->used <= r->cap)
		memcpy(flat, r->buf + start, r->used);
	else {
		memcpy(flat, r->buf + start, r->cap - start);
		memcpy(flat + r->cap - start, r->buf, r->used - (r->cap - start));
	}
	p = flat;
	end = flat + r->used;
	/* When the ring is full its oldest line may be cut: skip it. */
	if (r->used == r->cap && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL)
		p = nl + 1;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		fn(p, (size_t)(nl - p), arg);
		p = nl + 1;
	}
	free(flat);
}
