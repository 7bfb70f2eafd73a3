/*
 * Unit tests for unit.c: the state machine as a table of every state x
 * event pair, with the invariants every transition must keep; then the
 * rules one at a time: run classification (success_codes, min_uptime,
 * ready timeout, liveness), restart policies, backoff growth and jitter,
 * max_restarts, and what a stop, start, restart or removal asked while a
 * unit stops leads to.
 */
#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
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

static struct unit_policy
policy(const struct restart_spec *rs)
{
	struct unit_policy	p;

	memset(&p, 0, sizeof p);
	p.restart = rs;
	return p;
}

static struct unit_exit
exited(int64_t status)
{
	struct unit_exit	x = { 0 };

	x.exit_status = status;
	x.ran_ms = 5;
	return x;
}

/* A unit put in state s the way the runtime would get it there. */
static struct unit_sm
in_state(enum unit_state s)
{
	struct unit_sm	sm;

	unit_sm_init(&sm);
	sm.state = s;
	if (s == UNIT_STOPPING)
		sm.why = UNIT_WHY_ASKED;
	if (s == UNIT_BACKOFF)
		sm.hist.restarts = sm.hist.streak = 1;
	return sm;
}

#define X	UNIT_NSTATES	/* ignored: nothing changes */

/*
 * The table: next state for each state (rows) and event (columns), with
 * restart: on-failure, no dependencies, and a run that exits 0.
 */
static const enum unit_state table[UNIT_NSTATES][UEV_NEVENTS] = {
	/*		 START		RESTART		STOP		REMOVE		RESPEC	DEPS_MET	DEPS_FAILED	READY		UNHEALTHY	UNBOUND		TIMER		EXIT */
	[UNIT_IDLE] =	{ UNIT_STARTING, UNIT_STARTING,	X,		UNIT_REMOVED,	X,	X,		X,		X,		X,		X,		X,		X },
	[UNIT_WAITING] = { X,		X,		UNIT_EXITED,	UNIT_REMOVED,	X,	UNIT_STARTING,	UNIT_FAILED,	X,		X,		X,		X,		X },
	[UNIT_STARTING] = { X,		UNIT_STOPPING,	UNIT_STOPPING,	UNIT_STOPPING,	UNIT_STOPPING, X,	X,		UNIT_RUNNING,	X,		UNIT_STOPPING,	UNIT_STOPPING,	UNIT_EXITED },
	[UNIT_RUNNING] = { X,		UNIT_STOPPING,	UNIT_STOPPING,	UNIT_STOPPING,	UNIT_STOPPING, X,	X,		X,		UNIT_STOPPING,	UNIT_STOPPING,	X,		UNIT_EXITED },
	[UNIT_STOPPING] = { UNIT_STOPPING, UNIT_STOPPING, X,		UNIT_STOPPING,	X,	X,		X,		X,		X,		X,		X,		UNIT_EXITED },
	[UNIT_BACKOFF] = { UNIT_STARTING, UNIT_STARTING, UNIT_EXITED,	UNIT_REMOVED,	X,	X,		X,		X,		X,		UNIT_WAITING,	UNIT_STARTING,	X },
	[UNIT_EXITED] =	{ UNIT_STARTING, UNIT_STARTING,	X,		UNIT_REMOVED,	X,	X,		X,		X,		X,		X,		X,		X },
	[UNIT_FAILED] =	{ UNIT_STARTING, UNIT_STARTING,	X,		UNIT_REMOVED,	X,	X,		X,		X,		X,		X,		X,		X },
	[UNIT_REMOVED] = { X,		X,		X,		X,		X,	X,		X,		X,		X,		X,		X,		X },
};

/* Every state x event pair: the next state, and the actions that fit it. */
static void
test_table(void **state)
{
	struct restart_spec	rs = spec(RESTART_ON_FAILURE, 100, 30000,
				    MANIFEST_UNLIMITED);
	struct unit_policy	p = policy(&rs);
	struct unit_exit	x = exited(0);
	struct unit_out		o;
	struct unit_sm		sm;
	enum unit_state		s, want;
	enum unit_event		e;
	unsigned		a;

	(void)state;
	for (s = 0; s < UNIT_NSTATES; s++) {
		for (e = 0; e < UEV_NEVENTS; e++) {
			sm = in_state(s);
			unit_step(&sm, e, &x, &p, 7, &o);
			want = table[s][e] == X ? s : table[s][e];
			a = o.actions;
			print_message("%s + %s -> %s\n", unit_state_name(s),
			    unit_event_name(e), unit_state_name(sm.state));
			assert_int_equal(sm.state, want);
			assert_int_equal(o.ignored, table[s][e] == X);
			if (o.ignored)
				assert_int_equal(a, 0);
			/* A run is spawned exactly when one begins. */
			assert_int_equal(!!(a & UACT_SPAWN),
			    sm.state == UNIT_STARTING && s != UNIT_STARTING);
			/* A stop goes to a run that is up, and only then. */
			if (a & UACT_STOP)
				assert_true(unit_state_has_run(s) &&
				    sm.state == UNIT_STOPPING);
			assert_int_equal(!!(a & UACT_FORGET),
			    sm.state == UNIT_REMOVED && !o.ignored);
			assert_int_equal(!!(a & UACT_ARM),
			    sm.state == UNIT_BACKOFF && !o.ignored);
			assert_int_equal(!!(a & UACT_ENDED),
			    e == UEV_EXIT && unit_state_has_run(s));
			/* Whoever waits for an end hears of every one. */
			if (!unit_state_is_active(sm.state) &&
			    unit_state_is_active(s))
				assert_true(a & UACT_WAKE);
			/* A timer left armed belongs to backoff or startup. */
			if ((s == UNIT_BACKOFF || s == UNIT_STARTING) &&
			    sm.state != s && !(a & UACT_ARM) &&
			    sm.state != UNIT_STARTING)
				assert_true(a & UACT_DISARM);
			/* Nothing is pending outside of a stop. */
			if (sm.state != UNIT_STOPPING)
				assert_int_equal(sm.pending, UNIT_PEND_NONE);
		}
	}
}

/* Classification of a run's end, and the policies that act on it. */
static void
test_classify(void **state)
{
	struct restart_spec	rs = spec(RESTART_NEVER, 100, 30000,
				    MANIFEST_UNLIMITED);
	struct unit_policy	p = policy(&rs);
	struct unit_exit	x;
	struct unit_out		o;
	struct unit_sm		sm;
	int			codes[] = { 0, 130 };

	(void)state;
	sm = in_state(UNIT_RUNNING);
	x = exited(3);
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(o.end, END_FAILED);
	assert_int_equal(sm.state, UNIT_FAILED);

	sm = in_state(UNIT_RUNNING);
	x = exited(0);
	x.term_signal = SIGSEGV;
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(o.end, END_KILLED);
	assert_true(unit_end_is_failure(o.end));

	/* Dying of the stop signal we sent is not a failure. */
	sm = in_state(UNIT_STOPPING);
	x.term_signal = SIGTERM;
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(o.end, END_STOPPED);
	assert_int_equal(sm.state, UNIT_EXITED);

	sm = in_state(UNIT_STOPPING);
	x.stop_escalated = 1;
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(o.end, END_STOP_KILLED);
	assert_true(unit_end_is_failure(o.end));

	sm = in_state(UNIT_STARTING);
	x = exited(0);
	x.spawn_failed = 1;
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(o.end, END_SPAWN_FAILED);

	/* success_codes: 130 is success, 0 still is, 1 is not. */
	p.success_codes = codes;
	p.nsuccess = 2;
	sm = in_state(UNIT_RUNNING);
	x = exited(130);
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(o.end, END_SUCCEEDED);
	sm = in_state(UNIT_RUNNING);
	x = exited(1);
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(o.end, END_FAILED);
}

/* ready_timeout: a failed run whatever the status, so on-failure retries. */
static void
test_ready_timeout(void **state)
{
	struct restart_spec	rs = spec(RESTART_ON_FAILURE, 100, 30000,
				    MANIFEST_UNLIMITED);
	struct unit_policy	p = policy(&rs);
	struct unit_exit	x = exited(0);
	struct unit_out		o;
	struct unit_sm		sm = in_state(UNIT_STARTING);

	(void)state;
	unit_step(&sm, UEV_TIMER, NULL, &p, 0, &o);
	assert_int_equal(sm.state, UNIT_STOPPING);
	assert_true(o.actions & UACT_STOP);
	/* The server exits 0 on SIGTERM, as most do. */
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(o.end, END_NOT_READY);
	assert_true(unit_end_is_failure(o.end));
	assert_int_equal(sm.state, UNIT_BACKOFF);
	assert_true(o.actions & UACT_ARM);

	/* Liveness: the same, from ready. */
	sm = in_state(UNIT_RUNNING);
	unit_step(&sm, UEV_UNHEALTHY, NULL, &p, 0, &o);
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(o.end, END_UNHEALTHY);
	assert_int_equal(sm.state, UNIT_BACKOFF);
}

/* min_uptime: a run that ends sooner is a failed start, even with 0. */
static void
test_min_uptime(void **state)
{
	struct restart_spec	rs = spec(RESTART_ON_FAILURE, 100, 30000, 2);
	struct unit_policy	p = policy(&rs);
	struct unit_exit	x = exited(0);
	struct unit_out		o;
	struct unit_sm		sm = in_state(UNIT_RUNNING);
	int			i;

	(void)state;
	p.min_uptime_ms = 1000;
	x.ran_ms = 200;
	for (i = 0; i < 2; i++) {
		unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
		assert_int_equal(o.end, END_EARLY);
		assert_int_equal(sm.state, UNIT_BACKOFF);
		unit_step(&sm, UEV_TIMER, NULL, &p, 0, &o);
		assert_int_equal(sm.state, UNIT_STARTING);
	}
	/* max_restarts spent: given up, failed. */
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_true(o.gave_up);
	assert_int_equal(sm.state, UNIT_FAILED);

	/* Long enough: a success. */
	sm = in_state(UNIT_RUNNING);
	x.ran_ms = 1500;
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(o.end, END_SUCCEEDED);
	assert_int_equal(sm.state, UNIT_EXITED);
}

/* A start asked while the unit stops takes effect once it has stopped. */
static void
test_start_while_stopping(void **state)
{
	struct restart_spec	rs = spec(RESTART_NEVER, 100, 30000,
				    MANIFEST_UNLIMITED);
	struct unit_policy	p = policy(&rs);
	struct unit_exit	x = exited(0);
	struct unit_out		o;
	struct unit_sm		sm = in_state(UNIT_RUNNING);

	(void)state;
	unit_step(&sm, UEV_STOP, NULL, &p, 0, &o);
	assert_int_equal(sm.state, UNIT_STOPPING);
	unit_step(&sm, UEV_START, NULL, &p, 0, &o);
	assert_false(o.ignored);
	assert_int_equal(sm.pending, UNIT_PEND_START);
	/* A second start changes nothing more. */
	unit_step(&sm, UEV_START, NULL, &p, 0, &o);
	assert_true(o.ignored);
	x.term_signal = SIGTERM;
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(o.end, END_STOPPED);
	assert_int_equal(sm.state, UNIT_STARTING);
	assert_true(o.actions & UACT_SPAWN);
	assert_true(o.actions & UACT_WAKE);

	/* stop, start, stop: the last word wins. */
	sm = in_state(UNIT_RUNNING);
	unit_step(&sm, UEV_STOP, NULL, &p, 0, &o);
	unit_step(&sm, UEV_START, NULL, &p, 0, &o);
	unit_step(&sm, UEV_STOP, NULL, &p, 0, &o);
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(sm.state, UNIT_EXITED);

	/* Removal wins over a pending start, and a start cannot undo it. */
	sm = in_state(UNIT_RUNNING);
	unit_step(&sm, UEV_RESTART, NULL, &p, 0, &o);
	assert_int_equal(sm.pending, UNIT_PEND_START);
	unit_step(&sm, UEV_REMOVE, NULL, &p, 0, &o);
	unit_step(&sm, UEV_START, NULL, &p, 0, &o);
	assert_true(o.ignored);
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(sm.state, UNIT_REMOVED);
	assert_true(o.actions & UACT_FORGET);

	/* Declared again by a reload while being removed: it stays. */
	sm = in_state(UNIT_RUNNING);
	unit_step(&sm, UEV_REMOVE, NULL, &p, 0, &o);
	unit_step(&sm, UEV_RESPEC, NULL, &p, 0, &o);
	assert_false(o.ignored);
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(sm.state, UNIT_STARTING);

	/* Bound to a dependency that went: stop, then wait for it again. */
	sm = in_state(UNIT_RUNNING);
	unit_step(&sm, UEV_UNBOUND, NULL, &p, 0, &o);
	assert_int_equal(sm.state, UNIT_STOPPING);
	assert_int_equal(sm.pending, UNIT_PEND_WAIT);
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(sm.state, UNIT_WAITING);
	assert_int_equal(o.end, END_STOPPED);
	unit_step(&sm, UEV_DEPS_MET, NULL, &p, 0, &o);
	assert_int_equal(sm.state, UNIT_STARTING);

	/* Shutting down: a pending start is dropped, nothing restarts. */
	sm = in_state(UNIT_RUNNING);
	unit_step(&sm, UEV_RESTART, NULL, &p, 0, &o);
	p.no_restart = 1;
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(sm.state, UNIT_EXITED);
}

/* Dependencies: a start waits; deps failing fails the unit. */
static void
test_deps(void **state)
{
	struct restart_spec	rs = spec(RESTART_NEVER, 100, 30000,
				    MANIFEST_UNLIMITED);
	struct unit_policy	p = policy(&rs);
	struct unit_out		o;
	struct unit_sm		sm;

	(void)state;
	p.has_deps = 1;
	unit_sm_init(&sm);
	unit_step(&sm, UEV_START, NULL, &p, 0, &o);
	assert_int_equal(sm.state, UNIT_WAITING);
	assert_true(o.actions & UACT_START_DEPS);
	assert_false(o.actions & UACT_SPAWN);
	unit_step(&sm, UEV_DEPS_MET, NULL, &p, 0, &o);
	assert_int_equal(sm.state, UNIT_STARTING);
	assert_true(sm.ever_started);
	unit_step(&sm, UEV_READY, NULL, &p, 0, &o);
	assert_true(sm.ever_ready);
}

static void
test_on_failure(void **state)
{
	struct restart_spec	rs = spec(RESTART_ON_FAILURE, 100, 30000,
				    MANIFEST_UNLIMITED);
	struct unit_policy	p = policy(&rs);
	struct unit_exit	x;
	struct unit_out		o;
	struct unit_sm		sm;

	(void)state;
	sm = in_state(UNIT_RUNNING);
	x = exited(0);
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(sm.state, UNIT_EXITED);

	sm = in_state(UNIT_RUNNING);
	x = exited(1);
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(sm.state, UNIT_BACKOFF);
	assert_int_equal(o.delay_ms, 100);
	assert_int_equal(sm.hist.restarts, 1);

	/* Stopped on request: never restarted. */
	sm = in_state(UNIT_STOPPING);
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(sm.state, UNIT_EXITED);
}

static void
test_always(void **state)
{
	struct restart_spec	rs = spec(RESTART_ALWAYS, 100, 30000,
				    MANIFEST_UNLIMITED);
	struct unit_policy	p = policy(&rs);
	struct unit_exit	x = exited(0);
	struct unit_out		o;
	struct unit_sm		sm = in_state(UNIT_RUNNING);

	(void)state;
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(sm.state, UNIT_BACKOFF);
	sm = in_state(UNIT_STOPPING);
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(sm.state, UNIT_EXITED);
}

static void
test_backoff_growth(void **state)
{
	struct backoff	b = { 100, 1000 };
	uint32_t	r;

	(void)state;
	assert_int_equal(unit_backoff_ms(&b, 1, 0), 100);
	assert_int_equal(unit_backoff_ms(&b, 2, 0), 200);
	assert_int_equal(unit_backoff_ms(&b, 3, 0), 400);
	assert_int_equal(unit_backoff_ms(&b, 4, 0), 800);
	assert_int_equal(unit_backoff_ms(&b, 5, 0), 1000);
	assert_int_equal(unit_backoff_ms(&b, 50, 0), 1000);
	/* Jitter: at most a quarter more, never past max. */
	for (r = 0; r < 1000; r += 37) {
		assert_in_range(unit_backoff_ms(&b, 1, r), 100, 125);
		assert_in_range(unit_backoff_ms(&b, 9, r), 1000, 1000);
	}
	b.initial_ms = 0;
	assert_int_equal(unit_backoff_ms(&b, 3, 12345), 0);
}

/* A run that outlived the backoff ceiling was healthy: start afresh. */
static void
test_reset_after_healthy_run(void **state)
{
	struct restart_spec	rs = spec(RESTART_ON_FAILURE, 100, 1000,
				    MANIFEST_UNLIMITED);
	struct unit_policy	p = policy(&rs);
	struct unit_exit	x = exited(1);
	struct unit_out		o;
	struct unit_sm		sm = in_state(UNIT_RUNNING);
	int			i;

	(void)state;
	for (i = 0; i < 4; i++) {
		unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
		unit_step(&sm, UEV_TIMER, NULL, &p, 0, &o);
	}
	assert_int_equal(sm.hist.streak, 4);
	x.ran_ms = 5000;
	unit_step(&sm, UEV_EXIT, &x, &p, 0, &o);
	assert_int_equal(sm.hist.streak, 1);
	assert_int_equal(o.delay_ms, 100);
	assert_int_equal(sm.hist.restarts, 5);
}

static void
test_names(void **state)
{
	enum unit_state	s;
	enum unit_event	e;

	(void)state;
	for (s = 0; s < UNIT_NSTATES; s++)
		assert_string_not_equal(unit_state_name(s), "unknown");
	for (e = 0; e < UEV_NEVENTS; e++)
		assert_string_not_equal(unit_event_name(e), "unknown");
	assert_string_equal(unit_end_name(END_NOT_READY), "not-ready");
	assert_string_equal(unit_end_name(END_EARLY), "early");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_ready_timeout),
		cmocka_unit_test(test_min_uptime),
		cmocka_unit_test(test_start_while_stopping),
		cmocka_unit_test(test_deps),
		cmocka_unit_test(test_on_failure),
		cmocka_unit_test(test_always),
		cmocka_unit_test(test_backoff_growth),
		cmocka_unit_test(test_reset_after_healthy_run),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
