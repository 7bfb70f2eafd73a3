/*
 * Unit tests for guard.c: a recorded group is killed when the pipe
 * closes, even one let go (its leader reaped) while a member lives; a
 * group never recorded, or let go once gone, is left alone.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
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

/* As an exec would with close-on-exec: the guardian's pipe is not kept. */
static void
close_from(int first)
{
	int	fd;

	for (fd = first; fd < 1024; fd++)
		(void)close(fd);
}

/*
 * A child in a process group of its own, waiting to be killed. With
 * member, its leader forks a member into the group and exits; the
 * member's pid goes to *member (an orphan of ours: we are a subreaper).
 */
static pid_t
spawn_group(pid_t *member)
{
	pid_t	pid, m;
	int	p[2];

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		(void)setpgid(0, 0);
		if (member == NULL) {
			close_from(3);
			for (;;)
				pause();
		}
		if ((m = fork()) == 0) {
			close_from(3);
			for (;;)
				pause();
		}
		(void)write(p[1], &m, sizeof m);
		_exit(0);
	}
	/* Both sides set it, so it holds whoever runs first. */
	(void)setpgid(pid, pid);
	(void)close(p[1]);
	if (member != NULL)
		assert_int_equal(read(p[0], member, sizeof *member),
		    sizeof *member);
	(void)close(p[0]);
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
	pid_t		 a, b, c, m;

	g = guard_start();
	assert_non_null(g);
	assert_true(guard_pid(g) > 0);
	a = spawn_group(NULL);
	b = spawn_group(&m);
	c = spawn_group(NULL);
	guard_add(g, a);
	guard_add(g, b);
	/* b's leader exits and is reaped; its member lives on. */
	assert_int_equal(reap(b), 0);
	guard_del(g, b);
	guard_stop(g);
	assert_int_equal(reap(a), SIGKILL);
	assert_int_equal(reap(m), SIGKILL);
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
	a = spawn_group(NULL);
	guard_add(g, a);
	guard_add(g, a);
	guard_del(g, a);
	/* One owner left: still recorded. Unknown ones are ignored. */
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
	a = spawn_group(NULL);
	guard_add(g, a);
	(void)kill(a, SIGTERM);
	assert_int_equal(reap(a), SIGTERM);
	/* Gone: the guardian is told, and kills nothing at the end. */
	guard_del(g, a);
	guard_del(g, a);
	guard_stop(g);
	guard_stop(NULL);
}

/*
 * A guardian killed is replaced at the next guard_check, and the new one
 * knows the recorded groups: it kills them at the end.
 */
static void
test_replaced(void **state)
{
	struct guard	*g;
	siginfo_t	 si;
	pid_t		 a, old;

	g = guard_start();
	assert_non_null(g);
	a = spawn_group(NULL);
	guard_add(g, a);
	old = guard_pid(g);
	assert_int_equal(kill(old, SIGKILL), 0);
	/* Wait for its death without reaping it: guard_check does. */
	memset(&si, 0, sizeof si);
	assert_int_equal(waitid(P_PID, (id_t)old, &si, WEXITED | WNOWAIT), 0);
	guard_check(g);
	assert_true(guard_pid(g) > 0);
	assert_true(guard_pid(g) != old);
	assert_int_equal(kill(guard_pid(g), 0), 0);
	/* The old one was reaped by guard_check. */
	assert_int_equal(waitpid(old, NULL, WNOHANG), -1);
	guard_stop(g);
	assert_int_equal(reap(a), SIGKILL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kills_recorded),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_gone_forgotten),
		cmocka_unit_test(test_replaced),
	};

	/* Orphaned members come to us, to be reaped by the tests. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		return 77;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
