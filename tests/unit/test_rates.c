/*
 * Unit tests of the ring of samples: rates over a window, counter resets,
 * wrapping around, and the values of a gauge oldest first.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>

#include <cmocka.h>

#include "rates.h"

/* No rate from fewer than two samples, or with no time between them. */
static void
test_empty(void **state)
{
	struct rates	r;
	uint64_t	v[4];

	rates_init(&r);
	assert_true(rates_per_sec(&r, 5000) == 0);
	assert_int_equal(rates_last(&r), 0);
	assert_int_equal(rates_values(&r, v, 4), 0);
	rates_add(&r, 1000, 10);
	assert_true(rates_per_sec(&r, 5000) == 0);
	rates_add(&r, 1000, 20);
	assert_true(rates_per_sec(&r, 5000) == 0);
	assert_int_equal(rates_last(&r), 20);
}

/* A steady counter: the rate is its slope, whatever the window. */
static void
test_steady(void **state)
{
	struct rates	r;
	uint64_t	t;

	rates_init(&r);
	for (t = 0; t <= 10000; t += 1000)
		rates_add(&r, t, t / 100);	/* 10 per second */
	assert_true(rates_per_sec(&r, 5000) > 9.99);
	assert_true(rates_per_sec(&r, 5000) < 10.01);
	assert_true(rates_per_sec(&r, 1000) > 9.99);
	/* A window shorter than the gap still uses the last two. */
	assert_true(rates_per_sec(&r, 10) > 9.99);
}

/* Only the samples inside the window count. */
static void
test_window(void **state)
{
	struct rates	r;

	rates_init(&r);
	rates_add(&r, 0, 0);
	rates_add(&r, 1000, 1000);	/* a burst, then nothing */
	rates_add(&r, 2000, 1000);
	rates_add(&r, 3000, 1000);
	assert_true(rates_per_sec(&r, 2000) == 0);
	assert_true(rates_per_sec(&r, 3000) > 333.0);
	assert_true(rates_per_sec(&r, 3000) < 334.0);
}

/* A counter that went down (reset) gives 0, not a huge number. */
static void
test_reset(void **state)
{
	struct rates	r;

	rates_init(&r);
	rates_add(&r, 0, 500);
	rates_add(&r, 1000, 3);
	assert_true(rates_per_sec(&r, 5000) == 0);
}

/* Past RATES_SLOTS samples the oldest go; values come oldest first. */
static void
test_wrap(void **state)
{
	struct rates	r;
	uint64_t	v[RATES_SLOTS + 8], i;
	size_t		n;

	rates_init(&r);
	for (i = 0; i < RATES_SLOTS + 10; i++)
		rates_add(&r, i * 1000, i);
	n = rates_values(&r, v, RATES_SLOTS + 8);
	assert_int_equal(n, RATES_SLOTS);
	assert_int_equal(v[0], 10);
	assert_int_equal(v[n - 1], RATES_SLOTS + 9);
	n = rates_values(&r, v, 3);
	assert_int_equal(n, 3);
	assert_int_equal(v[0], RATES_SLOTS + 7);
	assert_int_equal(v[2], RATES_SLOTS + 9);
	assert_true(rates_per_sec(&r, 60000) > 0.99);
	assert_true(rates_per_sec(&r, 60000) < 1.01);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_steady),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
