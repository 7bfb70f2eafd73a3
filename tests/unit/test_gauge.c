/*
 * Unit tests of bars and sparklines: widths, rounding, the ends of the
 * scale, padding, and the UTF-8 and ASCII alphabets.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "gauge.h"

static char	out[1024];

static const char *
bar(size_t width, uint64_t value, uint64_t max)
{
	struct buf	b;

	buf_init(&b);
	gauge_bar(&b, width, value, max);
	snprintf(out, sizeof out, "%.*s", (int)buf_used(&b), buf_ptr(&b));
	buf_release(&b);
	return out;
}

static const char *
spark(const uint64_t *v, size_t n, size_t width, int utf8)
{
	struct buf	b;

	buf_init(&b);
	gauge_spark(&b, v, n, width, utf8);
	snprintf(out, sizeof out, "%.*s", (int)buf_used(&b), buf_ptr(&b));
	buf_release(&b);
	return out;
}

static void
test_bar(void **state)
{
	assert_string_equal(bar(10, 0, 100), "..........");
	assert_string_equal(bar(10, 1, 1000), "#.........");
	assert_string_equal(bar(10, 50, 100), "#####.....");
	assert_string_equal(bar(10, 99, 100), "#########.");
	assert_string_equal(bar(10, 100, 100), "##########");
	assert_string_equal(bar(10, 250, 100), "##########");
	assert_string_equal(bar(4, 5, 0), "....");
	assert_string_equal(bar(0, 5, 10), "");
}

static void
test_spark_ascii(void **state)
{
	const uint64_t	v[] = { 0, 1, 2, 4, 8 };
	const uint64_t	z[] = { 0, 0, 0 };

	assert_string_equal(spark(v, 5, 5, 0), " _.=#");
	/* Padded on the left; only the last width values shown. */
	assert_string_equal(spark(v, 5, 8, 0), "    _.=#");
	assert_string_equal(spark(v, 5, 2, 0), "=#");
	assert_string_equal(spark(z, 3, 3, 0), "   ");
	assert_string_equal(spark(v, 0, 3, 0), "   ");
}

static void
test_spark_utf8(void **state)
{
	const uint64_t	v[] = { 0, 3, 3 };

	assert_string_equal(spark(v, 3, 3, 1),
	    "\xe2\x96\x81\xe2\x96\x88\xe2\x96\x88");
	assert_int_equal(strlen(spark(v, 3, 4, 1)), 1 + 9);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bar),
		cmocka_unit_test(test_spark_ascii),
		cmocka_unit_test(test_spark_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
