/*
 * Pure helpers of the Redis-backed queues: stream ids, key and consumer
 * names, the URL with its password masked, the server's version and
 * error words, the netstrings of an entry of several items, the FIFO of
 * ids in hand and the table of entries in hand. No hiredis, no libuv: the
 * connection side lives in redisq.c.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "rstream.h"
#include "xmalloc.h"

/* Parse the decimal digits of p[0..len) into *out; -1 on overflow or none. */
static int
rstream_parse_u64(const char *p, size_t len, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(p[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return 0;
}

int
rstream_id_parse(const char *s, size_t len, struct rstream_id *id)
{
	const char	*dash;

	if ((dash = memchr(s, '-', len)) == NULL) {
		id->seq = 0;
		return rstream_parse_u64(s, len, &id->ms);
	}
	if (rstream_parse_u64(s, (size_t)(dash - s), &id->ms) == -1)
		return -1;
	return rstream_parse_u64(dash + 1, len - (size_t)(dash - s) - 1,
	    &id->seq);
}

void
rstream_id_format(const struct rstream_id *id, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 "-%" PRIu64, id->ms, id->seq);
}

int
rstream_id_cmp(const struct rstream_id *a, const struct rstream_id *b)
{
	if (a->ms != b->ms)
		return a->ms < b->ms ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

int
rstream_id_is_none(const struct rstream_id *id)
{
	return id->ms == 0 && id->seq == 0;
}

char *
rstream_consumer_name(const char *host, long pid, const char *queue)
{
	return xasprintf("%s:%ld:%s", host != NULL && *host != '\0' ? host :
	    "localhost", pid, queue);
}

char *
rstream_registry_key(const char *stream)
{
	return xasprintf("%s:producers", stream);
}

char *
rstream_url_shown(const char *url)
{
	const char	*at;

	if (strncmp(url, "redis://", 8) != 0 ||
	    (at = strrchr(url + 8, '@')) == NULL)
		return xstrdup(url);
	return xasprintf("redis://***%s", at);
}

int
rstream_parse_version(const char *info, unsigned *major, unsigned *minor)
{
	static const char	 key[] = "redis_version:";
	const char		*p;
	char			*end;
	unsigned long		 a, b;

	for (p = info; (p = strstr(p, key)) != NULL; p += sizeof key - 1)
		if (p == info || p[-1] == '\n')
			break;
	if (p == NULL)
		return -1;
	p += sizeof key - 1;
	a = strtoul(p, &end, 10);
	if (end == p || *end != '.')
		return -1;
	p = end + 1;
	b = strtoul(p, &end, 10);
	if (end == p)
		return -1;
	*major = (unsigned)a;
	*minor = (unsigned)b;
	return 0;
}

int
rstream_version_ok(unsigned major, unsigned minor)
{
	return major > 6 || (major == 6 && minor >= 2);
}

uint64_t
rstream_backoff(unsigned attempt, uint64_t initial, uint64_t max)
{
	uint64_t	d = initial;

	while (attempt-- > 0 && d < max)
		d = d > max / 2 ? max : d * 2;
	return d < max ? d : max;
}

/* Does the error text s start with the word w? */
static int
rstream_starts(const char *s, const char *w)
{
	size_t	n = strlen(w);

	return strncmp(s, w, n) == 0 && (s[n] == ' ' || s[n] == '\0');
}

enum rstream_err
rstream_classify_error(const char *s)
{
	if (s == NULL)
		return RSTREAM_ERR_OTHER;
	if (rstream_starts(s, "WRONGPASS") || rstream_starts(s, "NOAUTH") ||
	    rstream_starts(s, "NOPERM") ||
	    strstr(s, "invalid password") != NULL ||
	    strstr(s, "without any password configured") != NULL)
		return RSTREAM_ERR_AUTH;
	if (rstream_starts(s, "LOADING"))
		return RSTREAM_ERR_LOADING;
	if (rstream_starts(s, "BUSYGROUP"))
		return RSTREAM_ERR_BUSYGROUP;
	if (rstream_starts(s, "NOGROUP"))
		return RSTREAM_ERR_NOGROUP;
	if (rstream_starts(s, "WRONGTYPE"))
		return RSTREAM_ERR_WRONGTYPE;
	return RSTREAM_ERR_OTHER;
}

/* ---------------------------------------------------------------- fifo */

void
rstream_fifo_init(struct rstream_fifo *f)
{
	memset(f, 0, sizeof *f);
}

void
rstream_fifo_release(struct rstream_fifo *f)
{
	free(f->v);
	memset(f, 0, sizeof *f);
}

size_t
rstream_fifo_len(const struct rstream_fifo *f)
{
	return f->n;
}

struct rstream_ent *
rstream_fifo_at(struct rstream_fifo *f, size_t i)
{
	return &f->v[(f->head + i) % f->cap];
}

/* Make room for one more entry, unwrapping the ring into a larger one. */
static void
rstream_fifo_grow(struct rstream_fifo *f)
{
	struct rstream_ent	*v;
	size_t			 ncap, i;

	if (f->n < f->cap)
		return;
	ncap = f->cap > 0 ? f->cap * 2 : 64;
	v = xreallocarray(NULL, ncap, sizeof *v);
	for (i = 0; i < f->n; i++)
		v[i] = f->v[(f->head + i) % f->cap];
	free(f->v);
	f->v = v;
	f->cap = ncap;
	f->head = 0;
}

void
rstream_fifo_push(struct rstream_fifo *f, const struct rstream_id *id,
    size_t left)
{
	struct rstream_ent	*e;

	rstream_fifo_grow(f);
	e = &f->v[(f->head + f->n) % f->cap];
	e->id = *id;
	e->left = left;
	f->n++;
}

void
rstream_fifo_push_front(struct rstream_fifo *f, const struct rstream_id *id,
    size_t left)
{
	rstream_fifo_grow(f);
	f->head = (f->head + f->cap - 1) % f->cap;
	f->v[f->head].id = *id;
	f->v[f->head].left = left;
	f->n++;
}

int
rstream_fifo_pop(struct rstream_fifo *f, struct rstream_ent *out)
{
	if (f->n == 0)
		return -1;
	if (out != NULL)
		*out = f->v[f->head];
	f->head = (f->head + 1) % f->cap;
	if (--f->n == 0)
		f->head = 0;
	return 0;
}

int
rstream_fifo_pop_back(struct rstream_fifo *f, struct rstream_ent *out)
{
	if (f->n == 0)
		return -1;
	if (out != NULL)
		*out = *rstream_fifo_at(f, f->n - 1);
	if (--f->n == 0)
		f->head = 0;
	return 0;
}

void
rstream_fifo_written(struct rstream_fifo *f, size_t n,
    void (*fn)(void *, const struct rstream_id *), void *arg)
{
	struct rstream_ent	 e, *h;

	while (n > 0 && f->n > 0) {
		h = rstream_fifo_at(f, 0);
		if (h->left > n) {
			h->left -= n;
			return;
		}
		n -= h->left;
		(void)rstream_fifo_pop(f, &e);
		fn(arg, &e.id);
	}
}

int
rstream_fifo_has(const struct rstream_fifo *f, const struct rstream_id *id)
{
	size_t	i;

	for (i = 0; i < f->n; i++)
		if (rstream_id_cmp(&f->v[(f->head + i) % f->cap].id, id) == 0)
			return 1;
	return 0;
}

/* ---------------------------------------------------------- netstrings */

/* Without printf: this runs once for every item a producer writes. */
void
rstream_ns_add(struct buf *b, const void *p, size_t len)
{
	char	num[24];
	size_t	i = sizeof num, n = len;

	num[--i] = ':';
	do {
		num[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	buf_add(b, num + i, sizeof num - i);
	buf_add(b, p, len);
	buf_addc(b, ',');
}

int
rstream_ns_next(const char *p, size_t len, size_t *off, const char **item,
    size_t *ilen)
{
	size_t	i = *off, n = 0, digits = 0;

	if (i >= len)
		return 1;
	for (; i < len && p[i] >= '0' && p[i] <= '9'; i++, digits++) {
		if (digits >= 10)
			return -1;
		n = n * 10 + (size_t)(p[i] - '0');
	}
	if (digits == 0 || i >= len || p[i] != ':')
		return -1;
	i++;
	if (n > len - i || len - i - n < 1 || p[i + n] != ',')
		return -1;
	*item = p + i;
	*ilen = n;
	*off = i + n + 1;
	return 0;
}

/* ---------------------------------------------------------------- refs */

void
rstream_refs_init(struct rstream_refs *r)
{
	memset(r, 0, sizeof *r);
}

void
rstream_refs_release(struct rstream_refs *r)
{
	free(r->v);
	memset(r, 0, sizeof *r);
}

size_t
rstream_refs_len(const struct rstream_refs *r)
{
	return r->n;
}

static size_t
rstream_refs_hash(const struct rstream_id *id)
{
	uint64_t	h = id->ms * 0x9e3779b97f4a7c15ULL ^ id->seq;

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (size_t)h;
}

/* The slot of id, or the free slot where it would go. */
static struct rstream_ref *
rstream_refs_slot(const struct rstream_refs *r, const struct rstream_id *id)
{
	size_t	i = rstream_refs_hash(id) & (r->cap - 1);

	while (r->v[i].left != 0 && rstream_id_cmp(&r->v[i].id, id) != 0)
		i = (i + 1) & (r->cap - 1);
	return &r->v[i];
}

/* Keep the table at most half full. */
static void
rstream_refs_grow(struct rstream_refs *r)
{
	struct rstream_ref	*old = r->v;
	size_t			 ocap = r->cap, i;

	if ((r->n + 1) * 2 <= r->cap)
		return;
	r->cap = ocap > 0 ? ocap * 2 : 64;
	r->v = xcalloc(r->cap, sizeof *r->v);
	for (i = 0; i < ocap; i++)
		if (old[i].left != 0)
			*rstream_refs_slot(r, &old[i].id) = old[i];
	free(old);
}

void
rstream_refs_add(struct rstream_refs *r, const struct rstream_id *id,
    size_t n, size_t total)
{
	struct rstream_ref	*e;

	if (n == 0)
		return;
	rstream_refs_grow(r);
	e = rstream_refs_slot(r, id);
	if (e->left == 0) {
		memset(e, 0, sizeof *e);
		e->id = *id;
		e->total = total;
		r->n++;
	}
	e->left += n;
}

struct rstream_ref *
rstream_refs_find(struct rstream_refs *r, const struct rstream_id *id)
{
	struct rstream_ref	*e;

	if (r->n == 0)
		return NULL;
	e = rstream_refs_slot(r, id);
	return e->left != 0 ? e : NULL;
}

/* Free slot i, moving back the entries of its run that hashed before it. */
static void
rstream_refs_remove(struct rstream_refs *r, size_t i)
{
	size_t	j = i, k, mask = r->cap - 1;

	r->v[i].left = 0;
	for (;;) {
		j = (j + 1) & mask;
		if (r->v[j].left == 0)
			break;
		k = rstream_refs_hash(&r->v[j].id) & mask;
		/* Can j's entry move to i: is k cyclically outside (i, j]? */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		r->v[i] = r->v[j];
		r->v[j].left = 0;
		i = j;
	}
	r->n--;
}

enum rstream_drop
rstream_refs_drop(struct rstream_refs *r, const struct rstream_id *id,
    int forget, struct rstream_ref *ref)
{
	struct rstream_ref	*e;
	int			 tainted;

	if ((e = rstream_refs_find(r, id)) == NULL)
		return RSTREAM_REF_UNKNOWN;
	if (forget)
		e->tainted = 1;
	if (e->left > 1) {
		e->left--;
		return RSTREAM_REF_HELD;
	}
	tainted = e->tainted;
	if (ref != NULL)
		*ref = *e;
	rstream_refs_remove(r, (size_t)(e - r->v));
	return tainted ? RSTREAM_REF_LEAVE : RSTREAM_REF_DONE;
}

void
rstream_refs_each(const struct rstream_refs *r,
    void (*fn)(void *, const struct rstream_id *), void *arg)
{
	size_t	i;

	for (i = 0; i < r->cap; i++)
		if (r->v[i].left != 0)
			fn(arg, &r->v[i].id);
}
