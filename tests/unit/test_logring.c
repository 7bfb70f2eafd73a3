/*
 * Unit tests for logring.c: order, wrap-around, the cut oldest line,
 * lines longer than the ring.
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
collect(const char *line, size_t len, void *arg)
{
	struct buf	*b = arg;

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

	logring_init(&r, 64);
	s = lines_of(&r);
	assert_string_equal(s, "");
	free(s);
	logring_add(&r, "one\ntwo\n", 8);
	logring_add(&r, "three\n", 6);
	s = lines_of(&r);
	assert_string_equal(s, "one|two|three|");
	free(s);
	logring_release(&r);
}

static void
test_wrap(void **state)
{
	struct logring	r;
	char		 line[16], *s;
	int		 i;

	logring_init(&r, 32);
	for (i = 0; i < 100; i++) {
		snprintf(line, sizeof line, "line%02d\n", i);
		logring_add(&r, line, strlen(line));
	}
	/* 32 bytes hold 4 whole lines of 7 bytes and a cut one, skipped. */
	s = lines_of(&r);
	assert_string_equal(s, "line96|line97|line98|line99|");
	free(s);
	logring_release(&r);
}

static void
test_huge(void **state)
{
	struct logring	r;
	char		 big[100], *s;

	logring_init(&r, 16);
	memset(big, 'x', sizeof big);
	big[sizeof big - 1] = '\n';
	logring_add(&r, big, sizeof big);
	logring_add(&r, "ok\n", 3);
	s = lines_of(&r);
	assert_string_equal(s, "ok|");
	free(s);
	logring_release(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_huge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
