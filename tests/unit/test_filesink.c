/*
 * Unit tests for filesink.c: appending, rotation by size into numbered
 * backups, the oldest backup dropped, reopen after the file was moved.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "filesink.h"
#include "xmalloc.h"

static char	dir[] = "/tmp/pyt-filesink.XXXXXX";

static char *
slurp(const char *name)
{
	char	*path, *buf;
	FILE	*fp;
	size_t	 n;

	path = xasprintf("%s/%s", dir, name);
	buf = xcalloc(1, 4096);
	if ((fp = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, 4095, fp);
		buf[n] = '\0';
		fclose(fp);
	} else
		strcpy(buf, "<none>");
	free(path);
	return buf;
}

static void
check_file(const char *name, const char *want)
{
	char	*got = slurp(name);

	assert_string_equal(got, want);
	free(got);
}

static void
test_append_and_rotate(void **state)
{
	struct filesink	*s;
	char		*path;

	path = xasprintf("%s/log", dir);
	s = filesink_open("u", path, 10, 2);
	assert_non_null(s);
	assert_int_equal(filesink_write(s, "aaaa\n", 5), 0);
	assert_int_equal(filesink_write(s, "bbbb\n", 5), 0);
	check_file("log", "aaaa\nbbbb\n");
	/* 10 + 5 > 10: rotate before writing, never inside a batch. */
	assert_int_equal(filesink_write(s, "cccc\n", 5), 0);
	check_file("log", "cccc\n");
	check_file("log.1", "aaaa\nbbbb\n");
	/* A batch is cut at a line end to fill the file, then rotates. */
	assert_int_equal(filesink_write(s, "dddd\neeee\n", 10), 0);
	check_file("log", "eeee\n");
	check_file("log.1", "cccc\ndddd\n");
	check_file("log.2", "aaaa\nbbbb\n");
	assert_int_equal(filesink_write(s, "ffff\n", 5), 0);
	check_file("log", "eeee\nffff\n");
	/* The oldest backup goes; a line longer than the limit stays whole. */
	assert_int_equal(filesink_write(s, "0123456789abcdef\n", 17), 0);
	check_file("log", "0123456789abcdef\n");
	check_file("log.1", "eeee\nffff\n");
	check_file("log.2", "cccc\ndddd\n");
	check_file("log.3", "<none>");
	filesink_free(s);
	free(path);
}

static void
test_reopen(void **state)
{
	struct filesink	*s;
	char		*path, *moved;

	path = xasprintf("%s/r", dir);
	moved = xasprintf("%s/r.old", dir);
	s = filesink_open("u", path, 0, 5);
	assert_non_null(s);
	assert_int_equal(filesink_write(s, "one\n", 4), 0);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(filesink_write(s, "two\n", 4), 0);
	assert_int_equal(filesink_reopen(s), 0);
	assert_int_equal(filesink_write(s, "three\n", 6), 0);
	check_file("r.old", "one\ntwo\n");
	check_file("r", "three\n");
	filesink_free(s);
	free(path);
	free(moved);
}

static void
test_unopenable(void **state)
{
	assert_null(filesink_open("u", "/nonexistent/dir/x", 0, 0));
	filesink_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_rotate),
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_unopenable),
	};
	char	cmd[64];
	int	rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return rc;
}
