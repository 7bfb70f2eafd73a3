/*
 * The log ring: a unit's recent console lines, each a record of its
 * arrival time, its length and its bytes, in one circular buffer. Room is
 * made by dropping whole records from the head, so readers only ever see
 * whole lines and the count of lines dropped is exact.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "logring.h"
#include "xmalloc.h"

/* A record: this header, then len bytes of the line. */
struct logring_hdr {
	uint64_t	time_ms;
	uint64_t	seq;
	uint32_t	len;
};

#define LOGRING_HDR	(2 * sizeof(uint64_t) + sizeof(uint32_t))

/* The first ring allocation; doubled as needed, up to the bound. */
#define LOGRING_FIRST	(16 * 1024)

void
logring_init(struct logring *r, size_t max)
{
	memset(r, 0, sizeof *r);
	if (max == 0)
		max = LOGRING_DEFAULT_SIZE;
	if (max < LOGRING_MIN_SIZE)
		max = LOGRING_MIN_SIZE;
	r->max = max;
}

void
logring_release(struct logring *r)
{
	free(r->buf);
	r->buf = NULL;
	r->bufcap = r->start = r->used = 0;
	r->nlines = 0;
}

/* Copy n bytes out of the ring from offset pos (which may wrap). */
static void
logring_read(const struct logring *r, size_t pos, void *dst, size_t n)
{
	size_t	first;

	pos %= r->bufcap;
	first = r->bufcap - pos < n ? r->bufcap - pos : n;
	memcpy(dst, r->buf + pos, first);
	memcpy((char *)dst + first, r->buf, n - first);
}

/* Copy n bytes into the ring at offset pos (which may wrap). */
static void
logring_write(struct logring *r, size_t pos, const void *src, size_t n)
{
	size_t	first;

	pos %= r->bufcap;
	first = r->bufcap - pos < n ? r->bufcap - pos : n;
	memcpy(r->buf + pos, src, first);
	memcpy(r->buf, (const char *)src + first, n - first);
}

static void
logring_get_hdr(const struct logring *r, size_t pos, struct logring_hdr *h)
{
	char	raw[LOGRING_HDR];

	logring_read(r, pos, raw, sizeof raw);
	memcpy(&h->time_ms, raw, 8);
	memcpy(&h->seq, raw + 8, 8);
	memcpy(&h->len, raw + 16, sizeof h->len);
}

/*
 * Unroll the records into a new buffer, oldest at 0: of want bytes or
 * more (doubling), but never past the bound, to which it also shrinks.
 */
static void
logring_grow(struct logring *r, size_t want)
{
	size_t	 cap = r->bufcap == 0 ? LOGRING_FIRST : r->bufcap;
	char	*grown;

	while (cap < want)
		cap *= 2;
	if (cap > r->max)
		cap = r->max;
	grown = xmalloc(cap);
	if (r->used > 0)
		logring_read(r, r->start, grown, r->used);
	free(r->buf);
	r->buf = grown;
	r->bufcap = cap;
	r->start = 0;
}

/* Drop the oldest record. */
static void
logring_drop(struct logring *r)
{
	struct logring_hdr	h;
	size_t			n;

	logring_get_hdr(r, r->start, &h);
	n = LOGRING_HDR + h.len;
	r->start = (r->start + n) % r->bufcap;
	r->used -= n;
	r->nlines--;
	r->dropped++;
}

void
logring_add(struct logring *r, uint64_t time_ms, uint64_t seq, const char *p,
    size_t n)
{
	char	hdr[LOGRING_HDR];
	size_t	need;
	uint32_t len;

	if (n > r->max - LOGRING_HDR)
		n = r->max - LOGRING_HDR;
	need = LOGRING_HDR + n;
	if (r->used + need > r->bufcap && r->bufcap < r->max)
		logring_grow(r, r->used + need);
	while (r->used + need > r->bufcap)
		logring_drop(r);
	len = (uint32_t)n;
	memcpy(hdr, &time_ms, 8);
	memcpy(hdr + 8, &seq, 8);
	memcpy(hdr + 16, &len, sizeof len);
	logring_write(r, r->start + r->used, hdr, sizeof hdr);
	if (n > 0)
		logring_write(r, r->start + r->used + sizeof hdr, p, n);
	r->used += need;
	r->nlines++;
}

void
logring_lines(const struct logring *r,
    void (*fn)(uint64_t, uint64_t, const char *, size_t, void *), void *arg)
{
	struct logring_hdr	 h;
	char			*flat;
	size_t			 off;

	if (r->used == 0)
		return;
	/* Unroll into one buffer: reading is rare, appends are not. */
	flat = xmalloc(r->used);
	logring_read(r, r->start, flat, r->used);
	for (off = 0; off + LOGRING_HDR <= r->used; off += LOGRING_HDR + h.len) {
		memcpy(&h.time_ms, flat + off, 8);
		memcpy(&h.seq, flat + off + 8, 8);
		memcpy(&h.len, flat + off + 16, sizeof h.len);
		fn(h.time_ms, h.seq, flat + off + LOGRING_HDR, h.len, arg);
	}
	free(flat);
}

void
logring_resize(struct logring *r, size_t max)
{
	if (max == 0)
		max = LOGRING_DEFAULT_SIZE;
	if (max < LOGRING_MIN_SIZE)
		max = LOGRING_MIN_SIZE;
	if (max == r->max)
		return;
	r->max = max;
	if (r->bufcap <= max)
		return;
	while (r->used > max)
		logring_drop(r);
	/* Unrolled into a buffer of the new bound exactly. */
	logring_grow(r, max);
}

uint64_t
logring_dropped(const struct logring *r)
{
	return r->dropped;
}
