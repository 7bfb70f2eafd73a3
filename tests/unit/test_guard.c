/*
 * Unit tests for guard.c: a recorded group is killed when the pipe
 * closes, even one let go while a member lives; a group never recorded,
 * or let go once gone, is left alone.
 */
#include "config.h"

#include <sys/wait.h>

#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "guard.h"

/* A child in a process group of its own, waiting to be killed. */
static pid_t
spawn_group(void)
{
	pid_t	pid;

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		(void)setpgid(0, 0);
		for (;;)
			pause();
	}
	/* Both sides set it, so it holds whoever runs first. */
	(void)setpgid(pid, pid);
	return pid;
}

/* How the child ended: the signal that killed it, or 0. */
static int
reap(pid_t pid)
{
	int	status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void
test_kills_recorded(void **state)
{
	struct guard	*g;
	pid_t		 a, b, c;

	g = guard_start();
	assert_non_null(g);
	assert_true(guard_pid(g) > 0);
	a = spawn_group();
	b = spawn_group();
	c = spawn_group();
	guard_add(g, a);
	guard_add(g, b);
	/* Let go while alive: still killed at the end. */
	guard_del(g, b);
	guard_stop(g);
	assert_int_equal(reap(a), SIGKILL);
	assert_int_equal(reap(b), SIGKILL);
	/* Never recorded: left alone. */
	assert_int_equal(kill(c, 0), 0);
	(void)kill(c, SIGTERM);
	assert_int_equal(reap(c), SIGTERM);
}

static void
test_nested(void **state)
{
	struct guard	*g;
	pid_t		 a;

	g = guard_start();
	assert_non_null(g);
	a = spawn_group();
	guard_add(g, a);
	guard_add(g, a);
	guard_del(g, a);
	guard_del(g, a);
	/* Unbalanced and unknown ones are ignored. */
	guard_del(g, a);
	guard_del(g, 0);
	guard_add(g, 1);
	guard_sweep(g);
	guard_stop(g);
	assert_int_equal(reap(a), SIGKILL);
}

static void
test_gone_forgotten(void **state)
{
	struct guard	*g;
	pid_t		 a;

	g = guard_start();
	assert_non_null(g);
	a = spawn_group();
	guard_add(g, a);
	(void)kill(a, SIGTERM);
	assert_int_equal(reap(a), SIGTERM);
	/* Gone: the guardian is told, and kills nothing at the end. */
	guard_del(g, a);
	guard_stop(g);
	guard_stop(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kills_recorded),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_gone_forgotten),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
