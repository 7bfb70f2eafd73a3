/*
 * Unit tests for logring.c: order, times, wrap-around with whole lines
 * dropped and counted, growth up to the bound, lines longer than the ring.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "logring.h"

static void
collect(uint64_t t, uint64_t seq, const char *line, size_t len, void *arg)
{
	struct buf	*b = arg;

	buf_addf(b, "%llu:", (unsigned long long)(t + seq));
	buf_add(b, line, len);
	buf_addc(b, '|');
}

static char *
lines_of(struct logring *r)
{
	struct buf	b;

	buf_init(&b);
	logring_lines(r, collect, &b);
	return buf_steal(&b);
}

static void
test_order(void **state)
{
	struct logring	r;
	char		*s;

	logring_init(&r, 0);
	assert_int_equal(r.max, LOGRING_DEFAULT_SIZE);
	s = lines_of(&r);
	assert_string_equal(s, "");
	free(s);
	logring_add(&r, 1, 0, "one", 3);
	logring_add(&r, 1, 1, "", 0);
	logring_add(&r, 3, 0, "th\nree", 6);
	s = lines_of(&r);
	assert_string_equal(s, "1:one|2:|3:th\nree|");
	free(s);
	assert_int_equal(logring_dropped(&r), 0);
	logring_release(&r);
}

static void
test_wrap(void **state)
{
	struct logring	r;
	struct buf	want;
	char		 line[16], *s;
	int		 i;

	/* Records of 20 + 6 bytes: 1024 bytes hold 39 of them. */
	logring_init(&r, 1024);
	for (i = 0; i < 1000; i++) {
		snprintf(line, sizeof line, "line%02d", i % 100);
		logring_add(&r, (uint64_t)i, 0, line, strlen(line));
	}
	assert_int_equal(r.bufcap, 1024);
	assert_int_equal(r.nlines, 39);
	assert_int_equal(logring_dropped(&r), 1000 - 39);
	buf_init(&want);
	for (i = 1000 - 39; i < 1000; i++)
		buf_addf(&want, "%d:line%02d|", i, i % 100);
	buf_addc(&want, '\0');
	s = lines_of(&r);
	assert_string_equal(s, buf_ptr(&want));
	free(s);
	buf_release(&want);
	logring_release(&r);
}

static void
test_grow(void **state)
{
	struct logring	r;
	char		 line[100];
	int		 i;

	memset(line, 'x', sizeof line);
	logring_init(&r, 1024 * 1024);
	logring_add(&r, 0, 0, line, sizeof line);
	assert_true(r.bufcap < 1024 * 1024);
	for (i = 0; i < 20000; i++)
		logring_add(&r, (uint64_t)i, 0, line, sizeof line);
	assert_int_equal(r.bufcap, 1024 * 1024);
	assert_true(r.used <= r.bufcap);
	assert_int_equal(r.nlines + logring_dropped(&r), 20001);
	logring_release(&r);
}

static void
test_huge(void **state)
{
	struct logring	r;
	char		 big[3000];
	size_t		 n = 0;

	memset(big, 'b', sizeof big);
	logring_init(&r, 1024);
	logring_add(&r, 7, 0, "small", 5);
	logring_add(&r, 8, 0, big, sizeof big);
	/* Cut to fit the ring, which it fills alone. */
	assert_int_equal(r.nlines, 1);
	assert_int_equal(logring_dropped(&r), 1);
	assert_int_equal(r.used, 1024);
	{
		char	*s = lines_of(&r);

		n = strlen(s);
		assert_int_equal(n, 2 + 1024 - 20 + 1);
		free(s);
	}
	logring_add(&r, 9, 0, "after", 5);
	assert_int_equal(r.nlines, 1);
	logring_release(&r);
}

static void
test_resize(void **state)
{
	struct logring	r;
	char		 line[100];
	int		 i;

	memset(line, 'r', sizeof line);
	logring_init(&r, 256 * 1024);
	for (i = 0; i < 1000; i++)
		logring_add(&r, (uint64_t)i, (uint64_t)i, line, sizeof line);
	assert_int_equal(r.nlines, 1000);
	/* Smaller: the oldest that no longer fit go. */
	logring_resize(&r, 4096);
	assert_int_equal(r.bufcap, 4096);
	assert_int_equal(r.nlines, 4096 / 120);
	assert_int_equal(logring_dropped(&r), 1000 - 4096 / 120);
	logring_add(&r, 1000, 1000, line, sizeof line);
	assert_int_equal(r.nlines, 4096 / 120);
	/* Larger: room to grow into. */
	logring_resize(&r, 1024 * 1024);
	for (i = 0; i < 100; i++)
		logring_add(&r, (uint64_t)i, (uint64_t)i, line, sizeof line);
	assert_int_equal(r.nlines, 4096 / 120 + 100);
	logring_release(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_resize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
