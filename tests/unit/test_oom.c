/*
 * fatal() on out-of-memory allocates nothing: with --timestamps and
 * --log-format json, an xmalloc that fails must end in exit 1 with its
 * message, not recurse into xmalloc until SIGSEGV. malloc, calloc and
 * realloc are wrapped (ld --wrap) for log.c, buf.c and xmalloc.c.
 */
#include "config.h"

#include <sys/wait.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"

void	*__real_malloc(size_t);
void	*__real_calloc(size_t, size_t);
void	*__real_realloc(void *, size_t);
void	*__wrap_malloc(size_t);
void	*__wrap_calloc(size_t, size_t);
void	*__wrap_realloc(void *, size_t);

static int	failing;

/* A failed allocation, as malloc(3) fails: NULL and ENOMEM. */
static void *
oom(void)
{
	errno = ENOMEM;
	return NULL;
}

void *
__wrap_malloc(size_t n)
{
	return failing ? oom() : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return failing ? oom() : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return failing ? oom() : __real_realloc(p, n);
}

/* What fails in the child: an allocation, or a buffer past any size. */
enum oom_what {
	OOM_MALLOC,
	OOM_BUF,
};

/* In a child, make what fail: exit 1 and the message. */
static void
oom_what_in_child(int what, int timestamps, enum log_format format,
    const char *want)
{
	char	buf[4096];
	int	p[2], status;
	ssize_t	n;
	size_t	got = 0;
	pid_t	pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		(void)dup2(p[1], STDERR_FILENO);
		log_init("pytasking-run", 0);
		log_set_output(timestamps, 0, 0, format);
		if (what == OOM_MALLOC) {
			failing = 1;
			(void)xmalloc(64);
		} else {
			struct buf	b;

			buf_init(&b);
			buf_add(&b, "x", 1);
			buf_reserve(&b, SIZE_MAX / 2);
			buf_release(&b);
		}
		_exit(99);
	}
	close(p[1]);
	while ((n = read(p[0], buf + got, sizeof buf - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_non_null(strstr(buf, want));
}

/* In a child with every allocation failing: exit 1 and the message. */
static void
oom_in_child(int timestamps, enum log_format format, const char *want)
{
	oom_what_in_child(OOM_MALLOC, timestamps, format, want);
}

static void
test_oom_text(void **state)
{
	oom_in_child(0, LOG_FORMAT_TEXT,
	    "pytasking-run: malloc 64 bytes: Cannot allocate memory\n");
}

static void
test_oom_timestamps(void **state)
{
	oom_in_child(1, LOG_FORMAT_TEXT,
	    " pytasking-run: malloc 64 bytes: Cannot allocate memory\n");
}

static void
test_oom_json(void **state)
{
	oom_in_child(1, LOG_FORMAT_JSON, "\"level\":\"fatal\",\"msg\":"
	    "\"malloc 64 bytes: Cannot allocate memory\"}\n");
}

/* A buffer that cannot grow ends the run as out of memory does. */
static void
test_buf_too_large_text(void **state)
{
	oom_what_in_child(OOM_BUF, 0, LOG_FORMAT_TEXT,
	    "pytasking-run: buffer too large\n");
}

static void
test_buf_too_large_json(void **state)
{
	oom_what_in_child(OOM_BUF, 0, LOG_FORMAT_JSON,
	    "\"level\":\"fatal\",\"msg\":\"buffer too large\"}\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oom_text),
		cmocka_unit_test(test_oom_timestamps),
		cmocka_unit_test(test_oom_json),
		cmocka_unit_test(test_buf_too_large_text),
		cmocka_unit_test(test_buf_too_large_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
