/*
 * Unit tests of the queue's byte rings: wrap-around, growth and shrink,
 * large and binary items, share and broadcast, overflow policies and
 * counters, redelivery order, and random operations against a model.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "queue.h"
#include "xmalloc.h"

/* A deterministic generator, so a failure replays the same way. */
static uint64_t
rnd_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Fill p with bytes derived from seed, NULs included, never '\n'. */
static void
fill(char *p, size_t len, uint64_t seed)
{
	unsigned char	*u = (unsigned char *)p, b = (unsigned char)(seed * 7);
	size_t		 i;

	for (i = 0; i < len; i++) {
		u[i] = (unsigned char)(b + i * 31);
		if (u[i] == '\n')
			u[i] = '\0';
	}
}

/* cmocka compares byte by byte, too slow for megabytes under valgrind. */
static void
assert_bytes(const void *a, const void *b, size_t len)
{
	assert_true(memcmp(a, b, len) == 0);
}

/* Push a C string. */
static enum queue_push_result
push_s(struct queue *q, const char *s)
{
	return queue_push(q, s, strlen(s));
}

/* Assert the head of sub is the C string s, then pop it. */
static void
expect_pop(struct queue *q, size_t sub, const char *s)
{
	const void	*p;
	size_t		 len;

	assert_int_equal(queue_peek(q, sub, &p, &len), 0);
	assert_int_equal(len, strlen(s));
	assert_bytes(p, s, len);
	queue_pop(q, sub);
}

/* Assert sub's ring is empty. */
static void
expect_empty(struct queue *q, size_t sub)
{
	const void	*p;
	size_t		 len;

	assert_int_equal(queue_peek(q, sub, &p, &len), -1);
	assert_int_equal(queue_depth(q, sub), 0);
}

/* Items come out in order, empty ones included; peek on empty is -1. */
static void
test_basic_fifo(void **state)
{
	struct queue	*q;
	size_t		 sub;

	q = queue_new(10, QUEUE_SHARE, QUEUE_BLOCK);
	sub = queue_subscribe(q);
	assert_int_equal(queue_nsubscribers(q), 1);
	expect_empty(q, sub);
	assert_int_equal(push_s(q, "one"), QUEUE_PUSHED);
	assert_int_equal(push_s(q, ""), QUEUE_PUSHED);
	assert_int_equal(push_s(q, "three"), QUEUE_PUSHED);
	assert_int_equal(queue_depth(q, sub), 3);
	expect_pop(q, sub, "one");
	expect_pop(q, sub, "");
	expect_pop(q, sub, "three");
	expect_empty(q, sub);
	assert_int_equal(queue_capacity(q), 10);
	assert_int_equal(queue_mode(q), QUEUE_SHARE);
	queue_free(q);
	queue_free(NULL);
}

/* A capacity of 0 means QUEUE_DEFAULT_CAPACITY. */
static void
test_default_capacity(void **state)
{
	struct queue	*q;

	q = queue_new(0, QUEUE_BROADCAST, QUEUE_BLOCK);
	assert_int_equal(queue_capacity(q), QUEUE_DEFAULT_CAPACITY);
	assert_int_equal(queue_mode(q), QUEUE_BROADCAST);
	queue_free(q);
}

/* NUL and CR bytes are ordinary bytes of an item. */
static void
test_nul_bytes(void **state)
{
	static const char	 item[] = "a\0b\0\0c\r";
	struct queue		*q;
	const void		*p;
	size_t			 len;

	q = queue_new(4, QUEUE_SHARE, QUEUE_BLOCK);
	queue_subscribe(q);
	queue_push(q, item, sizeof item);
	queue_push(q, "\0", 1);
	assert_int_equal(queue_peek(q, 0, &p, &len), 0);
	assert_int_equal(len, sizeof item);
	assert_bytes(p, item, sizeof item);
	queue_pop(q, 0);
	assert_int_equal(queue_peek(q, 0, &p, &len), 0);
	assert_int_equal(len, 1);
	assert_int_equal(((const char *)p)[0], '\0');
	queue_pop(q, 0);
	queue_free(q);
}

/*
 * Keep a few items in flight while pushing items of sizes that do not
 * divide the storage, so records wrap over and over; the storage must not
 * grow past what the items in flight need.
 */
static void
test_wraparound_mixed(void **state)
{
	struct queue	*q;
	char		 buf[3000], want[3000];
	const void	*p;
	size_t		 len, in = 0, out = 0, i, sizes[] = { 1, 0, 77, 1000,
			    2999, 5, 513, 64, 1023, 2048 };
	size_t		 maxmem = 0;

	q = queue_new(1000, QUEUE_SHARE, QUEUE_BLOCK);
	queue_subscribe(q);
	for (i = 0; i < 20000; i++) {
		len = sizes[in % 10];
		fill(buf, len, in);
		queue_push(q, buf, len);
		in++;
		if (queue_depth(q, 0) < 3)
			continue;
		len = sizes[out % 10];
		fill(want, len, out);
		assert_int_equal(queue_peek(q, 0, &p, &len), 0);
		assert_int_equal(len, sizes[out % 10]);
		assert_bytes(p, want, len);
		queue_pop(q, 0);
		out++;
		if (queue_memory(q) > maxmem)
			maxmem = queue_memory(q);
	}
	while (out < in) {
		len = sizes[out % 10];
		fill(want, len, out);
		assert_int_equal(queue_peek(q, 0, &p, &len), 0);
		assert_bytes(p, want, len);
		queue_pop(q, 0);
		out++;
	}
	expect_empty(q, 0);
	/* Four items of at most 3000 bytes: 16 KiB is plenty. */
	assert_true(maxmem <= 16384);
	queue_free(q);
}

/* Storage grows with the items held and is given back when drained. */
static void
test_growth_shrink(void **state)
{
	struct queue	*q;
	char		 item[100];
	size_t		 i, small;
	const void	*p;
	size_t		 len;

	q = queue_new(100000, QUEUE_SHARE, QUEUE_BLOCK);
	queue_subscribe(q);
	assert_int_equal(queue_memory(q), 0);
	queue_push(q, "x", 1);
	small = queue_memory(q);
	assert_true(small > 0 && small <= 4096);
	queue_pop(q, 0);
	/* Small storage is kept for the next burst. */
	assert_int_equal(queue_memory(q), small);
	for (i = 0; i < 50000; i++) {
		fill(item, sizeof item, i);
		queue_push(q, item, sizeof item);
	}
	assert_true(queue_memory(q) >= 50000 * sizeof item);
	assert_true(queue_memory(q) <= 4 * 50000 * (sizeof item + 4));
	for (i = 0; i < 50000; i++) {
		assert_int_equal(queue_peek(q, 0, &p, &len), 0);
		fill(item, sizeof item, i);
		assert_int_equal(len, sizeof item);
		assert_bytes(p, item, len);
		queue_pop(q, 0);
	}
	assert_int_equal(queue_memory(q), 0);
	/* And it works again after shrinking. */
	push_s(q, "again");
	expect_pop(q, 0, "again");
	queue_free(q);
}

/* Items of QUEUE_MAX_ITEM bytes, stored in mapped storage, stay intact. */
static void
test_max_items(void **state)
{
	struct queue	*q;
	char		*item, *want;
	const void	*p;
	size_t		 len, i;

	item = xmalloc(QUEUE_MAX_ITEM);
	want = xmalloc(QUEUE_MAX_ITEM);
	q = queue_new(8, QUEUE_BROADCAST, QUEUE_BLOCK);
	queue_subscribe(q);
	queue_subscribe(q);
	for (i = 0; i < 5; i++) {
		fill(item, QUEUE_MAX_ITEM - i, i);
		queue_push(q, item, QUEUE_MAX_ITEM - i);
		push_s(q, "small");
	}
	assert_true(queue_memory(q) >= 2 * 5 * QUEUE_MAX_ITEM);
	for (i = 0; i < 5; i++) {
		fill(want, QUEUE_MAX_ITEM - i, i);
		assert_int_equal(queue_peek(q, 0, &p, &len), 0);
		assert_int_equal(len, QUEUE_MAX_ITEM - i);
		assert_bytes(p, want, len);
		queue_pop(q, 0);
		expect_pop(q, 0, "small");
	}
	expect_empty(q, 0);
	assert_int_equal(queue_depth(q, 1), 10);
	/* Interleave: one in, one out, with a big item always in flight. */
	for (i = 0; i < 20; i++) {
		fill(item, QUEUE_MAX_ITEM - 3 * i, 100 + i);
		queue_push(q, item, QUEUE_MAX_ITEM - 3 * i);
		queue_pop(q, 1);
	}
	for (i = 10; i < 20; i++) {
		fill(want, QUEUE_MAX_ITEM - 3 * i, 100 + i);
		assert_int_equal(queue_peek(q, 1, &p, &len), 0);
		assert_int_equal(len, QUEUE_MAX_ITEM - 3 * i);
		assert_bytes(p, want, len);
		queue_pop(q, 1);
	}
	expect_empty(q, 1);
	queue_free(q);
	free(item);
	free(want);
}

/* Share: subscribers take turns on one ring; each item goes to one. */
static void
test_share(void **state)
{
	struct queue	*q;
	size_t		 a, b;

	q = queue_new(10, QUEUE_SHARE, QUEUE_BLOCK);
	a = queue_subscribe(q);
	b = queue_subscribe(q);
	assert_int_not_equal(a, b);
	assert_int_equal(queue_nsubscribers(q), 2);
	push_s(q, "1");
	push_s(q, "2");
	push_s(q, "3");
	assert_int_equal(queue_depth(q, a), 3);
	assert_int_equal(queue_depth(q, b), 3);
	expect_pop(q, a, "1");
	expect_pop(q, b, "2");
	expect_pop(q, a, "3");
	expect_empty(q, b);
	assert_int_equal(queue_counters(q)->out, 3);
	queue_free(q);
}

/* Broadcast: every subscriber gets every item, at its own pace. */
static void
test_broadcast(void **state)
{
	struct queue			*q;
	const struct queue_counters	*c;
	size_t				 a, b;

	q = queue_new(10, QUEUE_BROADCAST, QUEUE_BLOCK);
	a = queue_subscribe(q);
	b = queue_subscribe(q);
	push_s(q, "1");
	push_s(q, "2");
	c = queue_counters(q);
	assert_int_equal(c->in, 2);
	assert_int_equal(c->depth, 2);
	expect_pop(q, a, "1");
	assert_int_equal(c->depth, 2);
	expect_pop(q, a, "2");
	assert_int_equal(c->depth, 2);
	expect_empty(q, a);
	expect_pop(q, b, "1");
	assert_int_equal(c->depth, 1);
	expect_pop(q, b, "2");
	assert_int_equal(c->depth, 0);
	assert_int_equal(c->out, 4);
	assert_int_equal(c->high_water, 2);
	queue_free(q);
}

/*
 * A broadcast subscriber added later starts empty; the first one takes
 * what was pushed before anyone subscribed.
 */
static void
test_late_subscriber(void **state)
{
	struct queue	*q;
	size_t		 a, b;

	q = queue_new(10, QUEUE_BROADCAST, QUEUE_BLOCK);
	push_s(q, "early");
	a = queue_subscribe(q);
	push_s(q, "before-b");
	b = queue_subscribe(q);
	expect_empty(q, b);
	push_s(q, "after-b");
	expect_pop(q, a, "early");
	expect_pop(q, a, "before-b");
	expect_pop(q, a, "after-b");
	expect_pop(q, b, "after-b");
	expect_empty(q, a);
	expect_empty(q, b);
	queue_free(q);
}

/* Block: items are always stored; is_full tells the caller to pause. */
static void
test_overflow_block(void **state)
{
	struct queue			*q;
	const struct queue_counters	*c;

	q = queue_new(2, QUEUE_SHARE, QUEUE_BLOCK);
	queue_subscribe(q);
	c = queue_counters(q);
	assert_int_equal(push_s(q, "a"), QUEUE_PUSHED);
	assert_false(queue_is_full(q));
	assert_int_equal(push_s(q, "b"), QUEUE_PUSHED);
	assert_true(queue_is_full(q));
	assert_int_equal(push_s(q, "c"), QUEUE_PUSHED);
	assert_true(queue_is_full(q));
	assert_int_equal(c->depth, 3);
	assert_int_equal(c->high_water, 3);
	assert_int_equal(c->dropped, 0);
	expect_pop(q, 0, "a");
	assert_true(queue_is_full(q));
	expect_pop(q, 0, "b");
	assert_false(queue_is_full(q));
	expect_pop(q, 0, "c");
	assert_int_equal(c->in, 3);
	assert_int_equal(c->out, 3);
	assert_int_equal(c->depth, 0);
	queue_free(q);
}

/* Drop-oldest: a full ring loses its head items, counted. */
static void
test_overflow_drop_oldest(void **state)
{
	struct queue			*q;
	const struct queue_counters	*c;

	q = queue_new(3, QUEUE_SHARE, QUEUE_DROP_OLDEST);
	queue_subscribe(q);
	c = queue_counters(q);
	assert_int_equal(push_s(q, "1"), QUEUE_PUSHED);
	assert_int_equal(push_s(q, "2"), QUEUE_PUSHED);
	assert_int_equal(push_s(q, "3"), QUEUE_PUSHED);
	assert_true(queue_is_full(q));
	assert_int_equal(push_s(q, "4"), QUEUE_PUSHED_DROPPED);
	assert_int_equal(push_s(q, "5"), QUEUE_PUSHED_DROPPED);
	assert_int_equal(c->dropped, 2);
	assert_int_equal(c->in, 5);
	assert_int_equal(c->depth, 3);
	assert_int_equal(c->high_water, 3);
	/* Redelivery may overfill; the next push then drops down to room. */
	queue_unshift(q, 0, "r", 1);
	assert_int_equal(c->depth, 4);
	assert_int_equal(push_s(q, "6"), QUEUE_PUSHED_DROPPED);
	assert_int_equal(c->dropped, 4);
	assert_int_equal(c->depth, 3);
	expect_pop(q, 0, "4");
	expect_pop(q, 0, "5");
	expect_pop(q, 0, "6");
	expect_empty(q, 0);
	assert_int_equal(c->out, 3);
	assert_int_equal(c->high_water, 4);
	queue_free(q);
}

/* Drop-newest: a full ring refuses the new item, counted. */
static void
test_overflow_drop_newest(void **state)
{
	struct queue			*q;
	const struct queue_counters	*c;

	q = queue_new(2, QUEUE_SHARE, QUEUE_DROP_NEWEST);
	queue_subscribe(q);
	c = queue_counters(q);
	assert_int_equal(push_s(q, "1"), QUEUE_PUSHED);
	assert_int_equal(push_s(q, "2"), QUEUE_PUSHED);
	assert_int_equal(push_s(q, "3"), QUEUE_DROPPED);
	assert_int_equal(push_s(q, "4"), QUEUE_DROPPED);
	assert_int_equal(c->dropped, 2);
	assert_int_equal(c->in, 4);
	assert_int_equal(c->depth, 2);
	expect_pop(q, 0, "1");
	assert_int_equal(push_s(q, "5"), QUEUE_PUSHED);
	expect_pop(q, 0, "2");
	expect_pop(q, 0, "5");
	expect_empty(q, 0);
	queue_free(q);
}

/* In broadcast mode each ring applies the policy on its own. */
static void
test_overflow_broadcast(void **state)
{
	struct queue			*q;
	const struct queue_counters	*c;

	q = queue_new(2, QUEUE_BROADCAST, QUEUE_DROP_OLDEST);
	queue_subscribe(q);
	queue_subscribe(q);
	c = queue_counters(q);
	push_s(q, "1");
	push_s(q, "2");
	expect_pop(q, 0, "1");
	expect_pop(q, 0, "2");
	assert_true(queue_is_full(q));
	assert_int_equal(push_s(q, "3"), QUEUE_PUSHED_DROPPED);
	assert_int_equal(c->dropped, 1);
	expect_pop(q, 0, "3");
	expect_pop(q, 1, "2");
	expect_pop(q, 1, "3");
	queue_free(q);

	q = queue_new(2, QUEUE_BROADCAST, QUEUE_DROP_NEWEST);
	queue_subscribe(q);
	queue_subscribe(q);
	c = queue_counters(q);
	push_s(q, "1");
	push_s(q, "2");
	expect_pop(q, 0, "1");
	assert_int_equal(push_s(q, "3"), QUEUE_DROPPED);
	assert_int_equal(c->dropped, 1);
	expect_pop(q, 0, "2");
	expect_pop(q, 0, "3");
	expect_pop(q, 1, "1");
	expect_pop(q, 1, "2");
	expect_empty(q, 1);
	queue_free(q);
}

/* is_full is reached at exactly capacity items in any one ring. */
static void
test_is_full_thresholds(void **state)
{
	struct queue	*q;
	size_t		 i, cap;

	for (cap = 1; cap <= 5; cap++) {
		q = queue_new(cap, QUEUE_BROADCAST, QUEUE_BLOCK);
		queue_subscribe(q);
		queue_subscribe(q);
		for (i = 0; i < cap; i++) {
			assert_false(queue_is_full(q));
			push_s(q, "x");
		}
		assert_true(queue_is_full(q));
		queue_pop(q, 0);
		assert_true(queue_is_full(q));
		queue_pop(q, 1);
		assert_false(queue_is_full(q));
		queue_unshift(q, 1, "y", 1);
		assert_true(queue_is_full(q));
		queue_free(q);
	}
}

/* Unshifted items come out first, last unshifted first. */
static void
test_unshift_order(void **state)
{
	struct queue			*q;
	const struct queue_counters	*c;

	q = queue_new(2, QUEUE_SHARE, QUEUE_DROP_NEWEST);
	queue_subscribe(q);
	c = queue_counters(q);
	queue_unshift(q, 0, "into-empty", 10);
	expect_pop(q, 0, "into-empty");
	push_s(q, "d");
	push_s(q, "e");
	/* Full, but redelivery is never dropped. */
	queue_unshift(q, 0, "c", 1);
	queue_unshift(q, 0, "b", 1);
	queue_unshift(q, 0, "a", 1);
	assert_int_equal(c->redelivered, 4);
	assert_int_equal(c->dropped, 0);
	assert_int_equal(c->in, 2);
	assert_int_equal(c->depth, 5);
	expect_pop(q, 0, "a");
	expect_pop(q, 0, "b");
	expect_pop(q, 0, "c");
	expect_pop(q, 0, "d");
	expect_pop(q, 0, "e");
	expect_empty(q, 0);
	queue_free(q);
}

/*
 * Unshift in every layout of the ring: room before the head, no room
 * (records move), and wrapped; then many unshifts in a row.
 */
static void
test_unshift_layouts(void **state)
{
	struct queue	*q;
	char		 item[700], want[700];
	const void	*p;
	size_t		 len, i, j, k;

	q = queue_new(100000, QUEUE_SHARE, QUEUE_BLOCK);
	queue_subscribe(q);
	for (k = 0; k < 40; k++) {
		/* Leave the head somewhere new each round. */
		for (i = 0; i < k; i++) {
			fill(item, 300 + 7 * i, i);
			queue_push(q, item, 300 + 7 * i);
		}
		for (i = 0; i < k / 2; i++)
			queue_pop(q, 0);
		for (i = k / 2; i < k; i++) {
			fill(item, 300 + 7 * i, i);
			queue_push(q, item, 300 + 7 * i);
		}
		/* Unshift three, last first. */
		for (j = 3; j-- > 0;) {
			fill(item, 600 + j, 1000 + j);
			queue_unshift(q, 0, item, 600 + j);
		}
		for (j = 0; j < 3; j++) {
			fill(want, 600 + j, 1000 + j);
			assert_int_equal(queue_peek(q, 0, &p, &len), 0);
			assert_int_equal(len, 600 + j);
			assert_bytes(p, want, len);
			queue_pop(q, 0);
		}
		for (i = k / 2; i < k; i++) {
			fill(want, 300 + 7 * i, i);
			assert_int_equal(queue_peek(q, 0, &p, &len), 0);
			assert_int_equal(len, 300 + 7 * i);
			assert_bytes(p, want, len);
			queue_pop(q, 0);
		}
		for (i = k / 2; i < k; i++) {
			fill(want, 300 + 7 * i, i);
			assert_int_equal(queue_peek(q, 0, &p, &len), 0);
			assert_bytes(p, want, len);
			queue_pop(q, 0);
		}
		expect_empty(q, 0);
	}
	/* A dead consumer's backlog: 20000 unshifts stay cheap and ordered. */
	push_s(q, "tail");
	for (i = 20000; i-- > 0;) {
		fill(item, i % 64, i);
		queue_unshift(q, 0, item, i % 64);
	}
	for (i = 0; i < 20000; i++) {
		fill(want, i % 64, i);
		assert_int_equal(queue_peek(q, 0, &p, &len), 0);
		assert_int_equal(len, i % 64);
		assert_bytes(p, want, len);
		queue_pop(q, 0);
	}
	expect_pop(q, 0, "tail");
	queue_free(q);
}

/* The reference model: a plain array of copies per subscriber. */
struct model_item {
	char	*p;
	size_t	 len;
};

struct model_ring {
	struct model_item	*v;
	size_t			 n;
};

/* Insert a copy of an item at position at of a model ring. */
static void
model_insert(struct model_ring *m, size_t at, const char *p, size_t len)
{
	m->v = xreallocarray(m->v, m->n + 1, sizeof *m->v);
	memmove(&m->v[at + 1], &m->v[at], (m->n - at) * sizeof *m->v);
	m->v[at].p = xmalloc(len + 1);
	memcpy(m->v[at].p, p, len);
	m->v[at].len = len;
	m->n++;
}

/* Remove the head of a model ring. */
static void
model_remove_head(struct model_ring *m)
{
	free(m->v[0].p);
	memmove(&m->v[0], &m->v[1], (m->n - 1) * sizeof *m->v);
	m->n--;
}

/* Random operations on one queue, checked step by step against the model. */
static void
random_run(enum queue_mode mode, enum queue_overflow ov, uint64_t seed)
{
	struct queue			*q;
	const struct queue_counters	*c;
	struct model_ring		 m[3];
	uint64_t			 in = 0, out = 0, red = 0, drop = 0;
	uint64_t			 hw = 0, depth, s = seed, r;
	char				*item;
	const void			*p;
	size_t				 len, i, j, nsubs, nrings, cap, step;
	int				 any_dropped, any_refused;
	enum queue_push_result		 res;

	item = xmalloc(QUEUE_MAX_ITEM);
	memset(m, 0, sizeof m);
	cap = 1 + rnd_next(&s) % 40;
	q = queue_new(cap, mode, ov);
	nsubs = mode == QUEUE_SHARE ? 2 : 3;
	for (i = 0; i < nsubs; i++)
		queue_subscribe(q);
	nrings = mode == QUEUE_SHARE ? 1 : nsubs;
	c = queue_counters(q);
	for (step = 0; step < 6000; step++) {
		r = rnd_next(&s) % 100;
		len = rnd_next(&s) % 100;
		if (len < 70)
			len = rnd_next(&s) % 80;
		else if (len < 97)
			len = rnd_next(&s) % 5000;
		else if (len < 99)
			len = rnd_next(&s) % 300000;
		else
			len = QUEUE_MAX_ITEM - rnd_next(&s) % 4;
		if (r < 50 || r >= 90)
			fill(item, len, step);
		i = rnd_next(&s) % nsubs;
		j = mode == QUEUE_SHARE ? 0 : i;
		if (r < 50) {
			in++;
			any_dropped = any_refused = 0;
			for (j = 0; j < nrings; j++) {
				if (m[j].n >= cap && ov == QUEUE_DROP_NEWEST) {
					any_refused = 1;
					drop++;
					continue;
				}
				if (ov == QUEUE_DROP_OLDEST)
					while (m[j].n >= cap) {
						model_remove_head(&m[j]);
						drop++;
						any_dropped = 1;
					}
				model_insert(&m[j], m[j].n, item, len);
			}
			res = queue_push(q, item, len);
			if (any_refused)
				assert_int_equal(res, QUEUE_DROPPED);
			else if (any_dropped)
				assert_int_equal(res, QUEUE_PUSHED_DROPPED);
			else
				assert_int_equal(res, QUEUE_PUSHED);
		} else if (r < 90) {
			if (m[j].n == 0) {
				assert_int_equal(queue_peek(q, i, &p, &len),
				    -1);
				continue;
			}
			assert_int_equal(queue_peek(q, i, &p, &len), 0);
			assert_int_equal(len, m[j].v[0].len);
			assert_bytes(p, m[j].v[0].p, len);
			model_remove_head(&m[j]);
			queue_pop(q, i);
			out++;
		} else {
			model_insert(&m[j], 0, item, len);
			queue_unshift(q, i, item, len);
			red++;
		}
		depth = 0;
		for (j = 0; j < nrings; j++) {
			assert_int_equal(queue_depth(q, mode == QUEUE_SHARE ?
			    0 : j), m[j].n);
			if (m[j].n > depth)
				depth = m[j].n;
		}
		if (depth > hw)
			hw = depth;
		assert_int_equal(c->in, in);
		assert_int_equal(c->out, out);
		assert_int_equal(c->redelivered, red);
		assert_int_equal(c->dropped, drop);
		assert_int_equal(c->depth, depth);
		assert_int_equal(c->high_water, hw);
		assert_int_equal(queue_is_full(q), depth >= cap);
	}
	/* Drain everything and compare. */
	for (i = 0; i < nsubs; i++) {
		j = mode == QUEUE_SHARE ? 0 : i;
		while (m[j].n > 0) {
			assert_int_equal(queue_peek(q, i, &p, &len), 0);
			assert_int_equal(len, m[j].v[0].len);
			assert_bytes(p, m[j].v[0].p, len);
			model_remove_head(&m[j]);
			queue_pop(q, i);
		}
		expect_empty(q, i);
	}
	assert_int_equal(c->depth, 0);
	assert_int_equal(queue_memory(q) <= nrings * 256 * 1024, 1);
	for (j = 0; j < 3; j++)
		free(m[j].v);
	queue_free(q);
	free(item);
}

/* Every mode and policy, several seeds, against the model. */
static void
test_random_model(void **state)
{
	static const enum queue_overflow ovs[] = {
		QUEUE_BLOCK, QUEUE_DROP_OLDEST, QUEUE_DROP_NEWEST,
	};
	size_t	i;
	uint64_t seed;

	for (seed = 1; seed <= 4; seed++)
		for (i = 0; i < 3; i++) {
			random_run(QUEUE_SHARE, ovs[i], seed * 7919 + i);
			random_run(QUEUE_BROADCAST, ovs[i], seed * 104729 + i);
		}
}

/*
 * Small items only, many of them, in steady state: exercises wrap on
 * every lap of the ring with the model check.
 */
static void
test_random_small(void **state)
{
	struct queue	*q;
	char		 item[200], want[200];
	const void	*p;
	uint64_t	 s = 42;
	size_t		 len, in = 0, out = 0, step, lens[64];

	q = queue_new(64, QUEUE_SHARE, QUEUE_BLOCK);
	queue_subscribe(q);
	for (step = 0; step < 200000; step++) {
		if (in - out < 64 && (rnd_next(&s) & 1)) {
			len = rnd_next(&s) % 200;
			lens[in % 64] = len;
			fill(item, len, in);
			queue_push(q, item, len);
			in++;
		} else if (out < in) {
			fill(want, lens[out % 64], out);
			assert_int_equal(queue_peek(q, 0, &p, &len), 0);
			assert_int_equal(len, lens[out % 64]);
			assert_bytes(p, want, len);
			queue_pop(q, 0);
			out++;
		}
	}
	assert_true(queue_memory(q) <= 65536);
	queue_free(q);
}

/* Items refused by a closed queue count as dropped, nothing else moves. */
static void
test_count_dropped(void **state)
{
	struct queue	*q;

	(void)state;
	q = queue_new(4, QUEUE_SHARE, QUEUE_BLOCK);
	queue_push(q, "a", 1);
	queue_count_dropped(q);
	queue_count_dropped(q);
	assert_int_equal(queue_counters(q)->dropped, 2);
	assert_int_equal(queue_counters(q)->in, 1);
	assert_int_equal(queue_counters(q)->depth, 1);
	queue_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_fifo),
		cmocka_unit_test(test_default_capacity),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_wraparound_mixed),
		cmocka_unit_test(test_growth_shrink),
		cmocka_unit_test(test_max_items),
		cmocka_unit_test(test_share),
		cmocka_unit_test(test_broadcast),
		cmocka_unit_test(test_late_subscriber),
		cmocka_unit_test(test_overflow_block),
		cmocka_unit_test(test_overflow_drop_oldest),
		cmocka_unit_test(test_overflow_drop_newest),
		cmocka_unit_test(test_overflow_broadcast),
		cmocka_unit_test(test_is_full_thresholds),
		cmocka_unit_test(test_unshift_order),
		cmocka_unit_test(test_unshift_layouts),
		cmocka_unit_test(test_random_model),
		cmocka_unit_test(test_random_small),
		cmocka_unit_test(test_count_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
