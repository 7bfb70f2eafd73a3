/*
 * Unit tests for scheduler.c on a real libuv loop: turns run once per
 * iteration, in order, and one queued by a running turn waits for the
 * next iteration; alarms fire earliest first, ties in start order, a
 * stopped alarm never fires, and one re-armed at zero delay by its own
 * function waits for the next pass; a turn may free its owner; after
 * sched_free the loop closes cleanly. Orders are checked, never times.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <uv.h>

#include "scheduler.h"
#include "xmalloc.h"

#define NWAITERS	8

struct waiter {
	struct sched_turn	 turn;
	struct sched_alarm	 alarm;
	int			 id;
	int			 rearm;		/* times to queue again */
};

static struct sched	*sch;
static int		 order[64];
static size_t		 norder;
static int		 iteration;	/* counted by a check handle */
static int		 iter_of[64];	/* the iteration each entry ran in */

static struct waiter *
waiter_of_turn(struct sched_turn *t)
{
	return (struct waiter *)(void *)((char *)t -
	    offsetof(struct waiter, turn));
}

static struct waiter *
waiter_of_alarm(struct sched_alarm *a)
{
	return (struct waiter *)(void *)((char *)a -
	    offsetof(struct waiter, alarm));
}

static void
record(int id)
{
	assert_true(norder < 64);
	iter_of[norder] = iteration;
	order[norder++] = id;
}

static void
turn_cb(struct sched_turn *t)
{
	struct waiter	*w = waiter_of_turn(t);

	record(w->id);
	if (w->rearm > 0) {
		w->rearm--;
		sched_turn_start(sch, &w->turn);
	}
}

static void
alarm_cb(struct sched_alarm *a)
{
	struct waiter	*w = waiter_of_alarm(a);

	record(w->id);
	if (w->rearm > 0) {
		w->rearm--;
		sched_alarm_start(sch, &w->alarm, 0);
	}
}

static void
check_cb(uv_check_t *h)
{
	(void)h;
	iteration++;
}

static uv_loop_t	loop;
static uv_check_t	check;

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(uv_check_init(&loop, &check), 0);
	assert_int_equal(uv_check_start(&check, check_cb), 0);
	uv_unref((uv_handle_t *)&check);
	sch = sched_new(&loop);
	norder = 0;
	iteration = 0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sched_free(sch);
	uv_close((uv_handle_t *)&check, NULL);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	return 0;
}

static void
waiters_init(struct waiter *w, size_t n)
{
	size_t	i;

	memset(w, 0, n * sizeof *w);
	for (i = 0; i < n; i++) {
		w[i].id = (int)i;
		sched_turn_init(&w[i].turn, turn_cb);
		sched_alarm_init(&w[i].alarm, alarm_cb);
	}
}

/* Queued turns run in order, each once; a stopped one does not run. */
static void
test_turns_order(void **state)
{
	struct waiter	w[NWAITERS];
	size_t		i;

	(void)state;
	waiters_init(w, NWAITERS);
	for (i = 0; i < NWAITERS; i++)
		sched_turn_start(sch, &w[i].turn);
	sched_turn_start(sch, &w[2].turn);	/* already queued: once */
	sched_turn_stop(&w[5].turn);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(norder, NWAITERS - 1);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[2], 2);
	assert_int_equal(order[4], 4);
	assert_int_equal(order[5], 6);
}

/* A turn queued by a running turn waits for the next iteration. */
static void
test_turn_requeue_next_iteration(void **state)
{
	struct waiter	w[2];
	size_t		i;

	(void)state;
	waiters_init(w, 2);
	w[0].rearm = 3;
	sched_turn_start(sch, &w[0].turn);
	sched_turn_start(sch, &w[1].turn);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(norder, 5);
	/* 0 and 1 in the first iteration, then 0 alone, once per iteration. */
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 1);
	assert_int_equal(iter_of[0], iter_of[1]);
	for (i = 2; i < norder; i++) {
		assert_int_equal(order[i], 0);
		assert_true(iter_of[i] > iter_of[i - 1]);
	}
}

/* Earliest first; equal times in start order; a stopped one never. */
static void
test_alarms_order(void **state)
{
	struct waiter	w[NWAITERS];

	(void)state;
	waiters_init(w, NWAITERS);
	sched_alarm_start(sch, &w[0].alarm, 30);
	sched_alarm_start(sch, &w[1].alarm, 10);
	sched_alarm_start(sch, &w[2].alarm, 20);
	sched_alarm_start(sch, &w[3].alarm, 10);
	sched_alarm_start(sch, &w[4].alarm, 0);
	sched_alarm_start(sch, &w[5].alarm, 5);
	sched_alarm_start(sch, &w[6].alarm, 1);
	sched_alarm_stop(sch, &w[5].alarm);
	assert_false(sched_alarm_active(&w[5].alarm));
	sched_alarm_start(sch, &w[7].alarm, 40);
	sched_alarm_start(sch, &w[7].alarm, 2);	/* restarted: moves */
	sched_alarm_stop(sch, &w[4].alarm);	/* the earliest */
	assert_true(sched_alarm_active(&w[0].alarm));
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(norder, 6);
	assert_int_equal(order[0], 6);
	assert_int_equal(order[1], 7);
	assert_int_equal(order[2], 1);
	assert_int_equal(order[3], 3);
	assert_int_equal(order[4], 2);
	assert_int_equal(order[5], 0);
	assert_false(sched_alarm_active(&w[0].alarm));
}

/*
 * Re-armed at zero by its own function: not in the same pass, so an
 * alarm due at the same time is not passed over (libuv may call the
 * timer again in the same loop iteration; that is a new pass).
 */
static void
test_alarm_rearm_next_pass(void **state)
{
	struct waiter	w[2];
	size_t		i;

	(void)state;
	waiters_init(w, 2);
	w[0].rearm = 3;
	sched_alarm_start(sch, &w[0].alarm, 0);
	sched_alarm_start(sch, &w[1].alarm, 0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	/* 1, due with the first firing of 0, is not passed over by it. */
	assert_int_equal(norder, 5);
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 1);
	for (i = 2; i < norder; i++)
		assert_int_equal(order[i], 0);
}

/* Many alarms in random order come out sorted: the heap holds. */
static void
test_alarms_many(void **state)
{
	struct waiter	*w;
	size_t		 i, n = 64;
	uint64_t	 ms;

	(void)state;
	w = xcalloc(n, sizeof *w);
	waiters_init(w, n);
	srand(7);
	for (i = 0; i < n; i++) {
		ms = (uint64_t)(rand() % 8);
		w[i].id = (int)(ms * 1000 + i);	/* sorts as (due, seq) */
		sched_alarm_start(sch, &w[i].alarm, ms);
	}
	/* Stop every third one: what is left still comes out in order. */
	for (i = 0; i < n; i += 3)
		sched_alarm_stop(sch, &w[i].alarm);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(norder, n - (n + 2) / 3);
	for (i = 1; i < norder; i++)
		assert_true(order[i - 1] < order[i]);
	free(w);
}

/* A turn's function may free its owner, and stop another turn. */
struct owner {
	struct sched_turn	 turn;
	struct sched_turn	*other;
};

static void
owner_free_cb(struct sched_turn *t)
{
	struct owner	*o = (struct owner *)(void *)t;

	record(1);
	sched_turn_stop(o->other);
	free(o);
}

static void
test_turn_frees_owner(void **state)
{
	struct owner	*o;
	struct waiter	 w[1];

	(void)state;
	waiters_init(w, 1);
	o = xcalloc(1, sizeof *o);
	o->other = &w[0].turn;
	sched_turn_init(&o->turn, owner_free_cb);
	sched_turn_start(sch, &o->turn);
	sched_turn_start(sch, &w[0].turn);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(norder, 1);
	assert_int_equal(order[0], 1);
}

/* Turns queued before sched_free still run; then the handles close. */
static void
test_free_runs_pending_turns(void **state)
{
	struct waiter	w[2];

	(void)state;
	waiters_init(w, 2);
	sched_turn_start(sch, &w[0].turn);
	sched_alarm_start(sch, &w[1].alarm, 1000000);	/* forgotten */
	sched_free(sch);
	sch = NULL;
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(norder, 1);
	assert_int_equal(order[0], 0);
	assert_false(sched_alarm_active(&w[1].alarm));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_turns_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_turn_requeue_next_iteration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarms_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_alarm_rearm_next_pass,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarms_many, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_turn_frees_owner, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_free_runs_pending_turns,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
