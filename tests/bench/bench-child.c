/*
 * bench-child: the tiny child every benchmark runs, so that no shell or
 * coreutils start-up is in the timings. One mode per workload; plain
 * POSIX, no libuv, nothing of pytasking-run. Started as "run" (an s6
 * service directory's run file, symlinked here; s6 passes the service
 * name), it reads its arguments, one a line, from ./bench-args and names
 * itself bench-child, as the benchmarks count processes by name; as
 * "finish" it exits 125, which tells s6-supervise not to restart the
 * service (a one-shot).
 */
#include "config.h"

#include <sys/prctl.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK	(64 * 1024)

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: bench-child exit [N] | tick FILE | sleep | "
	    "produce LINES LEN | count | work MS\n", stderr);
	exit(2);
}

/* Write all of p; exit 1 on error (a dead reader is not our problem). */
static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			exit(1);
		}
		p += w;
		n -= (size_t)w;
	}
}

/* A number argument, or usage. */
static unsigned long long
num(const char *s)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0')
		usage();
	return v;
}

/* Append one byte to FILE: proof that this run happened. */
static int
do_tick(const char *path)
{
	int	fd;

	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0666)) == -1)
		return 1;
	write_all(fd, "x", 1);
	return 0;
}

/* Sleep until a signal kills us (default dispositions). */
static int __attribute__((noreturn))
do_sleep(void)
{
	for (;;)
		pause();
}

/*
 * Write LINES lines of LEN bytes each, newline included, in 64 KiB
 * writes. Each line carries its number, so lines differ.
 */
static int
do_produce(unsigned long long lines, size_t len)
{
	static char		buf[CHUNK];
	unsigned long long	i;
	size_t			used = 0;
	int			n;

	if (len < 2 || len > CHUNK)
		usage();
	for (i = 0; i < lines; i++) {
		if (used + len > sizeof buf) {
			write_all(STDOUT_FILENO, buf, used);
			used = 0;
		}
		memset(buf + used, 'a' + (int)(i % 26), len - 1);
		n = snprintf(buf + used, len, "%llu", i);
		if ((size_t)n < len - 1)
			buf[used + (size_t)n] = ' ';
		buf[used + len - 1] = '\n';
		used += len;
	}
	write_all(STDOUT_FILENO, buf, used);
	return 0;
}

/*
 * A worker of a job queue: each line of stdin is a job of MS
 * milliseconds; print how many it did when stdin ends.
 */
static int
do_work(unsigned long long ms)
{
	struct timespec	ts;
	char		line[4096];
	unsigned long long jobs = 0;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (fgets(line, sizeof line, stdin) != NULL) {
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
		ts.tv_sec = (time_t)(ms / 1000);
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		jobs++;
	}
	printf("%llu\n", jobs);
	return 0;
}

/* Count the lines on stdin; print the count when it ends. */
static int
do_count(void)
{
	static char		buf[CHUNK * 4];
	unsigned long long	lines = 0;
	const char		*p, *end;
	ssize_t			n;

	for (;;) {
		n = read(STDIN_FILENO, buf, sizeof buf);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		p = buf;
		end = buf + n;
		while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			lines++;
			p++;
		}
	}
	if (n == -1)
		return 1;
	printf("%llu\n", lines);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* For s6: argv from ./bench-args, one word a line. */
static char **
args_from_file(int *argc)
{
	static char	 text[4096];
	static char	*argv[16];
	ssize_t		 n;
	char		*p, *nl;
	int		 fd;

	if ((fd = open("bench-args", O_RDONLY)) == -1)
		usage();
	n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n <= 0)
		usage();
	text[n] = '\0';
	*argc = 0;
	argv[(*argc)++] = "bench-child";
	for (p = text; *p != '\0' && *argc < 15; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		argv[(*argc)++] = p;
		if (*nl == '\0')
			break;
		*nl = '\0';
	}
	argv[*argc] = NULL;
	return argv;
}

int
main(int argc, char **argv)
{
	const char	*base = strrchr(argv[0], '/');

	base = base != NULL ? base + 1 : argv[0];
	/* s6: a service's finish exiting 125 means "do not restart". */
	if (strcmp(base, "finish") == 0)
		return 125;
	if (strcmp(base, "run") == 0) {
		argv = args_from_file(&argc);
		(void)prctl(PR_SET_NAME, "bench-child");
	}
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "exit") == 0)
		return argc > 2 ? (int)num(argv[2]) : 0;
	if (strcmp(argv[1], "tick") == 0 && argc == 3)
		return do_tick(argv[2]);
	if (strcmp(argv[1], "sleep") == 0)
		return do_sleep();
	if (strcmp(argv[1], "produce") == 0 && argc == 4)
		return do_produce(num(argv[2]), (size_t)num(argv[3]));
	if (strcmp(argv[1], "count") == 0)
		return do_count();
	if (strcmp(argv[1], "work") == 0 && argc == 3)
		return do_work(num(argv[2]));
	usage();
}
