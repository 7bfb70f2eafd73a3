/*
 * Unit tests for filesink.c: appending, rotation by size into numbered
 * backups, the oldest backup dropped, reopen after the file was moved.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>

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
	s = filesink_open("u", path, 10, 2, NULL, NULL);
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

/*
 * A line longer than the limit that comes in pieces (an outlet cuts very
 * long lines) stays whole in one file: no rotation inside a line.
 */
static void
test_long_line_in_pieces(void **state)
{
	struct filesink	*s;
	char		*path;

	path = xasprintf("%s/long", dir);
	s = filesink_open("u", path, 10, 2, NULL, NULL);
	assert_non_null(s);
	assert_int_equal(filesink_write(s, "aaaa\n", 5), 0);
	/* The first piece starts a file of its own... */
	assert_int_equal(filesink_write(s, "0123456789", 10), 0);
	check_file("long", "0123456789");
	check_file("long.1", "aaaa\n");
	/* ...which takes the rest of the line past its limit... */
	assert_int_equal(filesink_write(s, "abcdefghij", 10), 0);
	assert_int_equal(filesink_write(s, "klm\n", 4), 0);
	check_file("long", "0123456789abcdefghijklm\n");
	check_file("long.1", "aaaa\n");
	check_file("long.2", "<none>");
	/* ...and the next line rotates as usual. */
	assert_int_equal(filesink_write(s, "nn", 2), 0);
	assert_int_equal(filesink_write(s, "\n", 1), 0);
	check_file("long", "nn\n");
	check_file("long.1", "0123456789abcdefghijklm\n");
	check_file("long.2", "aaaa\n");
	/* A piece that fits goes in, and the file takes its line's rest. */
	assert_int_equal(filesink_write(s, "xyz", 3), 0);
	assert_int_equal(filesink_write(s, "1234567890\n", 11), 0);
	check_file("long", "nn\nxyz1234567890\n");
	assert_int_equal(filesink_write(s, "q\n", 2), 0);
	check_file("long", "q\n");
	check_file("long.1", "nn\nxyz1234567890\n");
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
	s = filesink_open("u", path, 0, 5, NULL, NULL);
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
	assert_null(filesink_open("u", "/nonexistent/dir/x", 0, 0, NULL,
	    NULL));
	filesink_free(NULL);
}

/* A link as the last component is never followed, on open or reopen. */
static void
test_symlink_refused(void **state)
{
	struct filesink	*s;
	char		*path, *target;

	path = xasprintf("%s/link", dir);
	target = xasprintf("%s/target", dir);
	assert_int_equal(symlink(target, path), 0);
	assert_null(filesink_open("u", path, 0, 0, NULL, NULL));
	assert_int_equal(errno, ELOOP);
	check_file("target", "<none>");
	assert_int_equal(unlink(path), 0);

	/* Replaced by a link while open: reopen refuses, rotation too. */
	s = filesink_open("u", path, 8, 0, NULL, NULL);
	assert_non_null(s);
	assert_int_equal(filesink_write(s, "aaaa\n", 5), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(filesink_reopen(s), -1);
	check_file("target", "<none>");
	filesink_free(s);
	assert_int_equal(unlink(path), 0);
	free(path);
	free(target);
}

/* Rotation without backups truncates the open file, not the name. */
static void
test_truncate_by_fd(void **state)
{
	struct filesink	*s;
	char		*path, *target, *moved;
	FILE		*fp;

	path = xasprintf("%s/t", dir);
	target = xasprintf("%s/secret", dir);
	moved = xasprintf("%s/t.moved", dir);
	fp = fopen(target, "w");
	assert_non_null(fp);
	fputs("keep\n", fp);
	fclose(fp);
	s = filesink_open("u", path, 8, 0, NULL, NULL);
	assert_non_null(s);
	assert_int_equal(filesink_write(s, "aaaa\n", 5), 0);
	/* The name now points elsewhere: a truncate(PATH) would hit it. */
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(filesink_write(s, "bbbb\n", 5), 0);
	check_file("secret", "keep\n");
	check_file("t.moved", "bbbb\n");
	filesink_free(s);
	free(path);
	free(target);
	free(moved);
}

/* A FIFO is refused at once, with or without a reader; a device is fine. */
static void
test_fifo_refused(void **state)
{
	struct filesink	*s;
	char		*path;
	int		 rfd;

	path = xasprintf("%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_null(filesink_open("u", path, 0, 0, NULL, NULL));
	rfd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	assert_null(filesink_open("u", path, 0, 0, NULL, NULL));
	assert_int_equal(errno, EINVAL);
	assert_string_equal(filesink_strerror(EINVAL),
	    "not a regular file or character device");
	close(rfd);
	s = filesink_open("u", "/dev/null", 10, 3, NULL, NULL);
	assert_non_null(s);
	assert_int_equal(filesink_write(s, "0123456789abcdef\n", 17), 0);
	assert_int_equal(filesink_write(s, "0123456789abcdef\n", 17), 0);
	filesink_free(s);
	free(path);
}

/* A rotation that cannot empty the file is tried once, never forever. */
static void
test_rotation_refused(void **state)
{
	struct filesink	*s;
	char		*path, *backup, *inside;

	path = xasprintf("%s/rr", dir);
	backup = xasprintf("%s/rr.1", dir);
	inside = xasprintf("%s/rr.1/x", dir);
	assert_int_equal(mkdir(backup, 0700), 0);
	assert_int_equal(mkdir(inside, 0700), 0);
	s = filesink_open("u", path, 8, 1, NULL, NULL);
	assert_non_null(s);
	assert_int_equal(filesink_write(s, "aaaa\n", 5), 0);
	/* rename(rr, rr.1) fails: rr.1 is a directory that is not empty. */
	assert_int_equal(filesink_write(s, "bbbb\ncccc\n", 10), 0);
	check_file("rr", "aaaa\nbbbb\ncccc\n");
	filesink_free(s);
	assert_int_equal(rmdir(inside), 0);
	assert_int_equal(rmdir(backup), 0);
	free(path);
	free(backup);
	free(inside);
}

/*
 * As root for a unit of user nobody: a root-only file is refused (it
 * could not have opened it), a file in its own directory is fine, and
 * rotation renames only what nobody could rename.
 */
static void
test_as_user(void **state)
{
	struct filesink	*s;
	struct passwd	*pw;
	char		*secret, *sub, *path;
	FILE		*fp;

	if (geteuid() != 0 || (pw = getpwnam("nobody")) == NULL)
		skip();
	secret = xasprintf("%s/rootonly", dir);
	fp = fopen(secret, "w");
	assert_non_null(fp);
	fputs("root\n", fp);
	fclose(fp);
	assert_int_equal(chmod(secret, 0600), 0);
	assert_int_equal(chmod(dir, 0755), 0);
	assert_null(filesink_open("u", secret, 0, 0, "nobody", NULL));
	assert_int_equal(errno, EACCES);
	/* Not even by a hard link in a directory nobody owns. */
	sub = xasprintf("%s/nobody", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(chown(sub, pw->pw_uid, pw->pw_gid), 0);
	path = xasprintf("%s/nobody/out", dir);
	assert_int_equal(link(secret, path), 0);
	assert_null(filesink_open("u", path, 0, 0, "nobody", NULL));
	assert_int_equal(unlink(path), 0);
	/* Its own file: created as nobody, rotated as nobody. */
	s = filesink_open("u", path, 8, 1, "nobody", NULL);
	assert_non_null(s);
	assert_int_equal(filesink_write(s, "aaaa\n", 5), 0);
	assert_int_equal(filesink_write(s, "bbbb\n", 5), 0);
	check_file("nobody/out", "bbbb\n");
	check_file("nobody/out.1", "aaaa\n");
	check_file("rootonly", "root\n");
	/* And we are root again afterwards. */
	assert_int_equal(access(secret, W_OK), 0);
	filesink_free(s);
	free(secret);
	free(sub);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_and_rotate),
		cmocka_unit_test(test_long_line_in_pieces),
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_unopenable),
		cmocka_unit_test(test_symlink_refused),
		cmocka_unit_test(test_truncate_by_fd),
		cmocka_unit_test(test_fifo_refused),
		cmocka_unit_test(test_rotation_refused),
		cmocka_unit_test(test_as_user),
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
