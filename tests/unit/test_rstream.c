/*
 * Unit tests of the pure helpers of Redis queues: stream ids, names,
 * the URL with its password masked, the server's version and error
 * words, the backoff, the FIFO of ids with its byte accounting, the
 * netstrings of a batched entry and the table of entries in hand.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "rstream.h"
#include "xmalloc.h"

static void
test_id_parse(void **state)
{
	struct rstream_id	id;
	char			buf[RSTREAM_ID_MAX];

	assert_int_equal(rstream_id_parse("1700000000000-42", 16, &id), 0);
	assert_true(id.ms == 1700000000000ULL && id.seq == 42);
	assert_int_equal(rstream_id_parse("0-0", 3, &id), 0);
	assert_true(rstream_id_is_none(&id));
	assert_int_equal(rstream_id_parse("123", 3, &id), 0);
	assert_true(id.ms == 123 && id.seq == 0);
	/* Only len bytes count. */
	assert_int_equal(rstream_id_parse("5-6 junk", 3, &id), 0);
	assert_true(id.ms == 5 && id.seq == 6);
	assert_int_equal(rstream_id_parse("", 0, &id), -1);
	assert_int_equal(rstream_id_parse("-1", 2, &id), -1);
	assert_int_equal(rstream_id_parse("1-", 2, &id), -1);
	assert_int_equal(rstream_id_parse("1-x", 3, &id), -1);
	assert_int_equal(rstream_id_parse("18446744073709551616-0", 22, &id),
	    -1);
	assert_int_equal(rstream_id_parse("18446744073709551615-"
	    "18446744073709551615", 41, &id), 0);
	rstream_id_format(&id, buf, sizeof buf);
	assert_string_equal(buf, "18446744073709551615-18446744073709551615");
	id.ms = 7;
	id.seq = 0;
	rstream_id_format(&id, buf, sizeof buf);
	assert_string_equal(buf, "7-0");
}

static void
test_id_cmp(void **state)
{
	struct rstream_id	a = { 1, 5 }, b = { 1, 6 }, c = { 2, 0 };

	assert_true(rstream_id_cmp(&a, &b) < 0);
	assert_true(rstream_id_cmp(&b, &a) > 0);
	assert_true(rstream_id_cmp(&b, &c) < 0);
	assert_int_equal(rstream_id_cmp(&c, &c), 0);
	assert_false(rstream_id_is_none(&a));
}

static void
test_names(void **state)
{
	char	*s;

	s = rstream_consumer_name("web-1", 4242, "jobs");
	assert_string_equal(s, "web-1:4242:jobs");
	free(s);
	s = rstream_consumer_name("", 1, "q");
	assert_string_equal(s, "localhost:1:q");
	free(s);
	s = rstream_registry_key("jobs");
	assert_string_equal(s, "jobs:producers");
	free(s);
}

static void
test_url_shown(void **state)
{
	static const struct {
		const char	*url, *shown;
	} t[] = {
		{ "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0" },
		{ "redis://:secret@h:1/2", "redis://***@h:1/2" },
		{ "redis://user:p@ss@h", "redis://***@h" },
		{ "redis://[::1]:6380", "redis://[::1]:6380" },
		{ "http://x@y", "http://x@y" },
	};
	size_t	 i;
	char	*s;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		s = rstream_url_shown(t[i].url);
		assert_string_equal(s, t[i].shown);
		free(s);
	}
}

static void
test_version(void **state)
{
	unsigned	a, b;

	assert_int_equal(rstream_parse_version("# Server\r\nredis_version:"
	    "7.0.15\r\nredis_git_sha1:0\r\n", &a, &b), 0);
	assert_true(a == 7 && b == 0);
	assert_true(rstream_version_ok(a, b));
	assert_int_equal(rstream_parse_version("redis_version:6.2.1\r\n", &a,
	    &b), 0);
	assert_true(rstream_version_ok(a, b));
	assert_int_equal(rstream_parse_version("x\r\nredis_version:6.0.9\r\n",
	    &a, &b), 0);
	assert_false(rstream_version_ok(a, b));
	assert_false(rstream_version_ok(5, 9));
	/* A key that merely ends in redis_version does not count. */
	assert_int_equal(rstream_parse_version("xredis_version:9.9\r\n", &a,
	    &b), -1);
	assert_int_equal(rstream_parse_version("# Server\r\n", &a, &b), -1);
	assert_int_equal(rstream_parse_version("redis_version:7\r\n", &a, &b),
	    -1);
}

static void
test_backoff(void **state)
{
	assert_int_equal(rstream_backoff(0, 100, 2000), 100);
	assert_int_equal(rstream_backoff(1, 100, 2000), 200);
	assert_int_equal(rstream_backoff(4, 100, 2000), 1600);
	assert_int_equal(rstream_backoff(5, 100, 2000), 2000);
	assert_int_equal(rstream_backoff(1000, 100, 2000), 2000);
	assert_int_equal(rstream_backoff(3, 5000, 2000), 2000);
}

static void
test_errors(void **state)
{
	assert_int_equal(rstream_classify_error("WRONGPASS invalid "
	    "username-password pair or user is disabled."), RSTREAM_ERR_AUTH);
	assert_int_equal(rstream_classify_error("NOAUTH Authentication "
	    "required."), RSTREAM_ERR_AUTH);
	assert_int_equal(rstream_classify_error("ERR AUTH <password> called "
	    "without any password configured for the default user. Are you "
	    "sure your configuration is correct?"), RSTREAM_ERR_AUTH);
	assert_int_equal(rstream_classify_error("ERR invalid password"),
	    RSTREAM_ERR_AUTH);
	assert_int_equal(rstream_classify_error("LOADING Redis is loading the "
	    "dataset in memory"), RSTREAM_ERR_LOADING);
	assert_int_equal(rstream_classify_error("BUSYGROUP Consumer Group name "
	    "already exists"), RSTREAM_ERR_BUSYGROUP);
	assert_int_equal(rstream_classify_error("NOGROUP No such key 'q' or "
	    "consumer group 'g'"), RSTREAM_ERR_NOGROUP);
	assert_int_equal(rstream_classify_error("WRONGTYPE Operation against a "
	    "key holding the wrong kind of value"), RSTREAM_ERR_WRONGTYPE);
	assert_int_equal(rstream_classify_error("ERR unknown command"),
	    RSTREAM_ERR_OTHER);
	assert_int_equal(rstream_classify_error("LOADINGX"), RSTREAM_ERR_OTHER);
	assert_int_equal(rstream_classify_error(NULL), RSTREAM_ERR_OTHER);
}

static struct rstream_id
mkid(uint64_t ms)
{
	struct rstream_id	id = { ms, 0 };

	return id;
}

struct acked {
	uint64_t	ms[64];
	size_t		n;
};

static void
acked_cb(void *arg, const struct rstream_id *id)
{
	struct acked	*a = arg;

	a->ms[a->n++] = id->ms;
}

static void
test_fifo_ends(void **state)
{
	struct rstream_fifo	f;
	struct rstream_ent	e;
	struct rstream_id	id;
	uint64_t		i;

	rstream_fifo_init(&f);
	assert_int_equal(rstream_fifo_pop(&f, &e), -1);
	assert_int_equal(rstream_fifo_pop_back(&f, &e), -1);
	/* Grow across the wrap: push at both ends past the first size. */
	for (i = 1; i <= 100; i++) {
		id = mkid(i);
		rstream_fifo_push(&f, &id, (size_t)i);
		id = mkid(1000 + i);
		rstream_fifo_push_front(&f, &id, 0);
	}
	assert_int_equal(rstream_fifo_len(&f), 200);
	assert_true(rstream_fifo_at(&f, 0)->id.ms == 1100);
	assert_true(rstream_fifo_at(&f, 99)->id.ms == 1001);
	assert_true(rstream_fifo_at(&f, 100)->id.ms == 1);
	id = mkid(50);
	assert_true(rstream_fifo_has(&f, &id));
	id = mkid(5000);
	assert_false(rstream_fifo_has(&f, &id));
	for (i = 0; i < 100; i++) {
		assert_int_equal(rstream_fifo_pop(&f, &e), 0);
		assert_true(e.id.ms == 1100 - i);
	}
	assert_int_equal(rstream_fifo_pop_back(&f, &e), 0);
	assert_true(e.id.ms == 100 && e.left == 100);
	for (i = 1; i < 100; i++) {
		assert_int_equal(rstream_fifo_pop(&f, &e), 0);
		assert_true(e.id.ms == i);
	}
	assert_int_equal(rstream_fifo_len(&f), 0);
	rstream_fifo_release(&f);
}

/* Bytes written across item boundaries acknowledge whole items only. */
static void
test_fifo_written(void **state)
{
	struct rstream_fifo	f;
	struct rstream_id	id;
	struct acked		a;

	memset(&a, 0, sizeof a);
	rstream_fifo_init(&f);
	id = mkid(1);
	rstream_fifo_push(&f, &id, 4);		/* "abc\n" */
	id = mkid(2);
	rstream_fifo_push(&f, &id, 1);		/* "\n" */
	id = mkid(0);
	rstream_fifo_push(&f, &id, 3);		/* no id: acknowledged */
	id = mkid(4);
	rstream_fifo_push(&f, &id, 10);
	rstream_fifo_written(&f, 3, acked_cb, &a);
	assert_int_equal(a.n, 0);
	assert_int_equal(rstream_fifo_at(&f, 0)->left, 1);
	rstream_fifo_written(&f, 2, acked_cb, &a);
	assert_int_equal(a.n, 2);
	assert_true(a.ms[0] == 1 && a.ms[1] == 2);
	rstream_fifo_written(&f, 12, acked_cb, &a);
	assert_int_equal(a.n, 3);
	assert_true(a.ms[2] == 0);
	assert_int_equal(rstream_fifo_len(&f), 1);
	assert_int_equal(rstream_fifo_at(&f, 0)->left, 1);
	rstream_fifo_written(&f, 1, acked_cb, &a);
	assert_int_equal(a.n, 4);
	assert_true(a.ms[3] == 4);
	/* More bytes than in hand: nothing breaks. */
	rstream_fifo_written(&f, 100, acked_cb, &a);
	assert_int_equal(a.n, 4);
	rstream_fifo_release(&f);
}

static void
test_netstrings(void **state)
{
	struct buf	 b;
	const char	*item;
	size_t		 off = 0, len;
	static const char nl[] = "a\nb,c:";

	buf_init(&b);
	rstream_ns_add(&b, "hello", 5);
	rstream_ns_add(&b, "", 0);
	rstream_ns_add(&b, nl, sizeof nl - 1);
	assert_int_equal(buf_used(&b), 8 + 3 + 9);
	assert_memory_equal(buf_ptr(&b), "5:hello,0:,6:a\nb,c:,", 20);
	assert_int_equal(rstream_ns_next(buf_ptr(&b), buf_used(&b), &off,
	    &item, &len), 0);
	assert_true(len == 5 && memcmp(item, "hello", 5) == 0);
	assert_int_equal(rstream_ns_next(buf_ptr(&b), buf_used(&b), &off,
	    &item, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(rstream_ns_next(buf_ptr(&b), buf_used(&b), &off,
	    &item, &len), 0);
	assert_true(len == 6 && memcmp(item, nl, 6) == 0);
	assert_int_equal(rstream_ns_next(buf_ptr(&b), buf_used(&b), &off,
	    &item, &len), 1);
	buf_release(&b);
	/* Malformed: no digits, no colon, too long, no comma, huge. */
	off = 0;
	assert_int_equal(rstream_ns_next(":x,", 3, &off, &item, &len), -1);
	assert_int_equal(rstream_ns_next("1x,", 3, &off, &item, &len), -1);
	assert_int_equal(rstream_ns_next("5:ab,", 5, &off, &item, &len), -1);
	assert_int_equal(rstream_ns_next("2:ab;", 5, &off, &item, &len), -1);
	assert_int_equal(rstream_ns_next("2:ab", 4, &off, &item, &len), -1);
	assert_int_equal(rstream_ns_next("99999999999:", 12, &off, &item,
	    &len), -1);
	assert_int_equal(off, 0);
}

static int	refs_seen;

static void
refs_count_cb(void *arg, const struct rstream_id *id)
{
	refs_seen++;
}

static void
test_refs(void **state)
{
	struct rstream_refs	 r;
	struct rstream_ref	 ref;
	struct rstream_id	 a = { 10, 1 }, b = { 10, 2 }, c = { 11, 0 };
	struct rstream_id	 id;
	size_t			 i;

	rstream_refs_init(&r);
	assert_null(rstream_refs_find(&r, &a));
	assert_int_equal(rstream_refs_drop(&r, &a, 0, NULL),
	    RSTREAM_REF_UNKNOWN);
	rstream_refs_add(&r, &a, 3, 3);
	rstream_refs_add(&r, &b, 1, 1);
	rstream_refs_add(&r, &c, 2, 2);
	assert_int_equal(rstream_refs_len(&r), 3);
	assert_int_equal(rstream_refs_drop(&r, &a, 0, &ref), RSTREAM_REF_HELD);
	assert_int_equal(rstream_refs_drop(&r, &a, 0, &ref), RSTREAM_REF_HELD);
	assert_int_equal(rstream_refs_drop(&r, &a, 0, &ref), RSTREAM_REF_DONE);
	assert_true(ref.total == 3 && rstream_id_cmp(&ref.id, &a) == 0);
	assert_null(rstream_refs_find(&r, &a));
	/* A forgotten item leaves its entry pending. */
	assert_int_equal(rstream_refs_drop(&r, &c, 1, &ref), RSTREAM_REF_HELD);
	assert_int_equal(rstream_refs_drop(&r, &c, 0, &ref), RSTREAM_REF_LEAVE);
	assert_int_equal(rstream_refs_drop(&r, &b, 0, NULL), RSTREAM_REF_DONE);
	assert_int_equal(rstream_refs_len(&r), 0);
	/* Many, removed in another order: every one is still found. */
	for (i = 0; i < 5000; i++) {
		id.ms = 1000 + i / 7;
		id.seq = i % 7;
		rstream_refs_add(&r, &id, 2, 2);
	}
	assert_int_equal(rstream_refs_len(&r), 5000);
	refs_seen = 0;
	rstream_refs_each(&r, refs_count_cb, NULL);
	assert_int_equal(refs_seen, 5000);
	for (i = 0; i < 5000; i += 2) {
		id.ms = 1000 + i / 7;
		id.seq = i % 7;
		assert_int_equal(rstream_refs_drop(&r, &id, 0, NULL),
		    RSTREAM_REF_HELD);
		assert_int_equal(rstream_refs_drop(&r, &id, 0, NULL),
		    RSTREAM_REF_DONE);
	}
	assert_int_equal(rstream_refs_len(&r), 2500);
	for (i = 1; i < 5000; i += 2) {
		id.ms = 1000 + i / 7;
		id.seq = i % 7;
		assert_non_null(rstream_refs_find(&r, &id));
		assert_int_equal(rstream_refs_find(&r, &id)->left, 2);
	}
	rstream_refs_release(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_parse),
		cmocka_unit_test(test_id_cmp),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_url_shown),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_fifo_ends),
		cmocka_unit_test(test_fifo_written),
		cmocka_unit_test(test_netstrings),
		cmocka_unit_test(test_refs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
