/*
 * Unit tests for unit.c: run classification, restart policies, backoff
 * growth, jitter bounds, reset after a healthy run, max_restarts.
 */
#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit.h"

static struct restart_spec
spec(enum restart_policy p, uint64_t initial, uint64_t max, uint64_t maxr)
{
	struct restart_spec	rs;

	rs.policy = p;
	rs.backoff.initial_ms = initial;
	rs.backoff.max_ms = max;
	rs.max_restarts = maxr;
	return rs;
}

static struct unit_exit
exited(int64_t status)
{
	struct unit_exit	x = { 0 };

	x.exit_status = status;
	x.ran_ms = 5;
	return x;
}

static void
test_classify(void **state)
{
	struct restart_spec	rs = spec(RESTART_NEVER, 100, 30000,
				    MANIFEST_UNLIMITED);
	struct unit_history	h = { 0 };
	struct unit_verdict	v;
	struct unit_exit	x;

	x = exited(0);
	unit_judge(&rs, &h, &x, 0, &v);
	assert_int_equal(v.end, END_SUCCEEDED);
	assert_int_equal(v.next, UNIT_EXITED);
	assert_false(v.restart);

	x = exited(3);
	unit_judge(&rs, &h, &x, 0, &v);
	assert_int_equal(v.end, END_FAILED);
	assert_int_equal(v.next, UNIT_FAILED);

	x = exited(0);
	x.term_signal = SIGSEGV;
	unit_judge(&rs, &h, &x, 0, &v);
	assert_int_equal(v.end, END_KILLED);
	assert_true(unit_end_is_failure(v.end));

	/* Dying of the stop signal we sent is not a failure. */
	x.term_signal = SIGTERM;
	x.stop_requested = 1;
	unit_judge(&rs, &h, &x, 0, &v);
	assert_int_equal(v.end, END_STOPPED);
	assert_int_equal(v.next, UNIT_EXITED);

	x.stop_escalated = 1;
	x.term_signal = SIGKILL;
	unit_judge(&rs, &h, &x, 0, &v);
	assert_int_equal(v.end, END_STOP_KILLED);
	assert_true(unit_end_is_failure(v.end));

	x = exited(0);
	x.spawn_failed = 1;
	unit_judge(&rs, &h, &x, 0, &v);
	assert_int_equal(v.end, END_SPAWN_FAILED);
	assert_int_equal(v.next, UNIT_FAILED);
}

static void
test_on_failure(void **state)
{
	struct restart_spec	rs = spec(RESTART_ON_FAILURE, 100, 30000,
				    MANIFEST_UNLIMITED);
	struct unit_history	h = { 0 };
	struct unit_verdict	v;
	struct unit_exit	x;

	x = exited(0);
	unit_judge(&rs, &h, &x, 0, &v);
	assert_false(v.restart);
	x = exited(1);
	unit_judge(&rs, &h, &x, 0, &v);
	assert_true(v.restart);
	assert_int_equal(v.next, UNIT_BACKOFF);
	assert_int_equal(v.delay_ms, 100);
	assert_int_equal(h.restarts, 1);
	x.spawn_failed = 1;
	unit_judge(&rs, &h, &x, 0, &v);
	assert_true(v.restart);
	/* A stopped run is never restarted, whatever the policy. */
	x = exited(1);
	x.stop_requested = 1;
	unit_judge(&rs, &h, &x, 0, &v);
	assert_false(v.restart);
}

static void
test_always(void **state)
{
	struct restart_spec	rs = spec(RESTART_ALWAYS, 0, 0,
				    MANIFEST_UNLIMITED);
	struct unit_history	h = { 0 };
	struct unit_verdict	v;
	struct unit_exit	x = exited(0);
	int			i;

	for (i = 0; i < 1000; i++) {
		unit_judge(&rs, &h, &x, (uint32_t)i * 7919, &v);
		assert_true(v.restart);
		assert_int_equal(v.delay_ms, 0);
	}
	assert_int_equal(h.restarts, 1000);
}

static void
test_backoff_growth(void **state)
{
	struct backoff	b = { 100, 1000 };

	assert_int_equal(unit_backoff_ms(&b, 1, 0), 100);
	assert_int_equal(unit_backoff_ms(&b, 2, 0), 200);
	assert_int_equal(unit_backoff_ms(&b, 3, 0), 400);
	assert_int_equal(unit_backoff_ms(&b, 4, 0), 800);
	assert_int_equal(unit_backoff_ms(&b, 5, 0), 1000);
	assert_int_equal(unit_backoff_ms(&b, 60, 0), 1000);
	assert_int_equal(unit_backoff_ms(&b, UINT64_MAX, 0), 1000);
	/* Jitter adds at most a quarter and never passes max. */
	assert_int_equal(unit_backoff_ms(&b, 1, 25), 125);
	assert_int_equal(unit_backoff_ms(&b, 1, 26), 100);
	assert_int_equal(unit_backoff_ms(&b, 4, 200), 1000);
}

static void
test_max_restarts(void **state)
{
	struct restart_spec	rs = spec(RESTART_ON_FAILURE, 10, 100, 3);
	struct unit_history	h = { 0 };
	struct unit_verdict	v;
	struct unit_exit	x = exited(1);
	int			i;

	for (i = 0; i < 3; i++) {
		unit_judge(&rs, &h, &x, 0, &v);
		assert_true(v.restart);
	}
	unit_judge(&rs, &h, &x, 0, &v);
	assert_false(v.restart);
	assert_true(v.gave_up);
	assert_int_equal(v.next, UNIT_FAILED);
	assert_int_equal(h.restarts, 3);
}

static void
test_reset_after_healthy_run(void **state)
{
	struct restart_spec	rs = spec(RESTART_ON_FAILURE, 100, 1000,
				    MANIFEST_UNLIMITED);
	struct unit_history	h = { 0 };
	struct unit_verdict	v;
	struct unit_exit	x = exited(1);

	unit_judge(&rs, &h, &x, 0, &v);
	unit_judge(&rs, &h, &x, 0, &v);
	unit_judge(&rs, &h, &x, 0, &v);
	assert_int_equal(v.delay_ms, 400);
	x.ran_ms = 1001;
	unit_judge(&rs, &h, &x, 0, &v);
	assert_int_equal(v.delay_ms, 100);
	assert_int_equal(h.restarts, 4);
}

static void
test_state_names(void **state)
{
	assert_string_equal(unit_state_name(UNIT_BACKOFF), "backoff");
	assert_string_equal(unit_state_name(UNIT_FAILED), "failed");
	assert_string_equal(unit_state_name(UNIT_STOPPING), "stopping");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_on_failure),
		cmocka_unit_test(test_always),
		cmocka_unit_test(test_backoff_growth),
		cmocka_unit_test(test_max_restarts),
		cmocka_unit_test(test_reset_after_healthy_run),
		cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
