/*
 * pyt-helper: a tiny deterministic child for the end-to-end tests, so they
 * depend on neither a shell's timing nor coreutils' flags. One subcommand
 * per behaviour a supervised process can have; plain POSIX, no libuv and
 * nothing of pytasking-run itself.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HELPER_BUFSZ	65536

/* Output is gathered here and written in big pieces. */
static char	out_buf[HELPER_BUFSZ];
static size_t	out_len;

/* Set by the SIGTERM handler of term-exit. */
static volatile sig_atomic_t got_term;

/* Print a message and exit with status 2, as for bad usage. */
static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	ap;

	fputs("pyt-helper: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* Write all of p, through partial writes and EINTR; exit 1 on error. */
static void
write_all(int fd, const void *p, size_t n)
{
	const char	*s = p;
	ssize_t		 w;

	while (n > 0) {
		w = write(fd, s, n);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "pyt-helper: write fd %d: %s\n", fd,
			    strerror(errno));
			exit(1);
		}
		s += w;
		n -= (size_t)w;
	}
}

/* Read up to n bytes, retrying on EINTR; 0 at EOF, exit 1 on error. */
static size_t
read_some(int fd, void *p, size_t n)
{
	ssize_t	r;

	for (;;) {
		r = read(fd, p, n);
		if (r >= 0)
			return (size_t)r;
		if (errno != EINTR) {
			fprintf(stderr, "pyt-helper: read fd %d: %s\n", fd,
			    strerror(errno));
			exit(1);
		}
	}
}

/* Send the gathered output to stdout. */
static void
out_flush(void)
{
	write_all(STDOUT_FILENO, out_buf, out_len);
	out_len = 0;
}

/* Gather bytes for stdout, flushing when the buffer is full. */
static void
out_add(const void *p, size_t n)
{
	const char	*s = p;
	size_t		 k;

	while (n > 0) {
		if (out_len == sizeof out_buf)
			out_flush();
		k = sizeof out_buf - out_len;
		if (k > n)
			k = n;
		memcpy(out_buf + out_len, s, k);
		out_len += k;
		s += k;
		n -= k;
	}
}

/* Gather a C string for stdout. */
static void
out_str(const char *s)
{
	out_add(s, strlen(s));
}

/* Write one whole line to fd at once. */
static void
say(int fd, const char *line)
{
	char	buf[4096];
	int	n;

	n = snprintf(buf, sizeof buf, "%s\n", line);
	if (n < 0 || (size_t)n >= sizeof buf)
		die("line too long");
	write_all(fd, buf, (size_t)n);
}

/* A non-negative decimal number, or exit 2 naming what it was for. */
static unsigned long long
num_arg(const char *s, const char *what)
{
	unsigned long long	 v;
	char			*end;

	if (s == NULL || !isdigit((unsigned char)*s))
		die("%s: expected a non-negative number, got \"%s\"", what,
		    s != NULL ? s : "");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		die("%s: bad number \"%s\"", what, s);
	return v;
}

/* Seconds, fractions allowed ("0.25"), or exit 2. */
static double
seconds_arg(const char *s)
{
	double	 v;
	char	*end;

	if (s == NULL || *s == '\0')
		die("expected a number of seconds");
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || v < 0)
		die("bad number of seconds \"%s\"", s);
	return v;
}

/* Sleep this long even if signals interrupt; negative means forever. */
static void
sleep_for(double secs)
{
	struct timespec	ts, rem;

	if (secs < 0) {
		for (;;)
			pause();
	}
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	while (nanosleep(&ts, &rem) == -1 && errno == EINTR)
		ts = rem;
}

/* Write text to a file atomically (temporary file and rename). */
static void
write_file(const char *path, const char *text)
{
	char	tmp[PATH_MAX];
	int	fd, n;

	n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof tmp)
		die("path too long: %s", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1)
		die("open %s: %s", tmp, strerror(errno));
	write_all(fd, text, strlen(text));
	if (close(fd) == -1 || rename(tmp, path) == -1)
		die("write %s: %s", path, strerror(errno));
}

/* Write our pid and a newline to a file, atomically. */
static void
write_pid(const char *path)
{
	char	buf[32];

	snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
	write_file(path, buf);
}

/* A signal by number or name without SIG ("TERM", "9"), or exit 2. */
static int
signal_arg(const char *s)
{
	static const struct {
		const char	*name;
		int		 sig;
	} sigs[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "ABRT", SIGABRT }, { "KILL", SIGKILL }, { "SEGV", SIGSEGV },
		{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
	};
	size_t	i;

	if (s != NULL && isdigit((unsigned char)*s))
		return (int)num_arg(s, "signal");
	if (s != NULL && strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; s != NULL && i < sizeof sigs / sizeof sigs[0]; i++)
		if (strcmp(s, sigs[i].name) == 0)
			return sigs[i].sig;
	die("unknown signal \"%s\"", s != NULL ? s : "");
}

/* Join words with spaces and end the line. */
static void
join_line(int fd, int argc, char **argv)
{
	int	i;

	for (i = 0; i < argc; i++) {
		if (i > 0)
			out_add(" ", 1);
		out_str(argv[i]);
	}
	out_add("\n", 1);
	if (fd == STDOUT_FILENO)
		out_flush();
	else {
		write_all(fd, out_buf, out_len);
		out_len = 0;
	}
}

/* exit N */
static int
cmd_exit(int argc, char **argv)
{
	return (int)(num_arg(argv[0], "exit status") & 0xff);
}

/* echo WORDS... */
static int
cmd_echo(int argc, char **argv)
{
	join_line(STDOUT_FILENO, argc, argv);
	return 0;
}

/* print-err WORDS... */
static int
cmd_print_err(int argc, char **argv)
{
	join_line(STDERR_FILENO, argc, argv);
	return 0;
}

/* lines WORDS...: each word on a line of its own, in one write. */
static int
cmd_lines(int argc, char **argv)
{
	int	i;

	for (i = 0; i < argc; i++) {
		out_str(argv[i]);
		out_add("\n", 1);
	}
	out_flush();
	return 0;
}

/* spew N [LEN]: N numbered lines, each padded with 'x' to LEN bytes. */
static int
cmd_spew(int argc, char **argv)
{
	unsigned long long	n, len = 0, i;
	char			line[64];
	int			k;

	n = num_arg(argv[0], "spew count");
	if (argc > 1)
		len = num_arg(argv[1], "spew length");
	for (i = 1; i <= n; i++) {
		k = snprintf(line, sizeof line, "line-%06llu", i);
		out_add(line, (size_t)k);
		for (; (unsigned long long)k < len; k++)
			out_add("x", 1);
		out_add("\n", 1);
	}
	out_flush();
	return 0;
}

/* yes [TEXT]: the line forever, until a signal or EPIPE ends us. */
static int
cmd_yes(int argc, char **argv)
{
	const char	*text = argc > 0 ? argv[0] : "y";
	size_t		 len = strlen(text);

	if (len + 1 > sizeof out_buf)
		die("text too long");
	while (out_len + len + 1 <= sizeof out_buf) {
		out_add(text, len);
		out_add("\n", 1);
	}
	for (;;)
		write_all(STDOUT_FILENO, out_buf, out_len);
}

/* Count the newlines of stdin, sleeping ms per line; print at EOF. */
static int
count_lines(unsigned long long ms)
{
	char			 buf[HELPER_BUFSZ], line[32];
	unsigned long long	 count = 0;
	size_t			 n, chunk;
	const char		*p, *end;

	/* A slow reader reads small pieces, so the pipe backs up. */
	chunk = ms > 0 ? 512 : sizeof buf;
	while ((n = read_some(STDIN_FILENO, buf, chunk)) > 0) {
		for (p = buf, end = buf + n;
		    (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
			count++;
			if (ms > 0)
				sleep_for((double)ms / 1000);
		}
	}
	snprintf(line, sizeof line, "%llu", count);
	say(STDOUT_FILENO, line);
	return 0;
}

/* count: the number of lines of stdin ('\n' bytes, like wc -l) at EOF. */
static int
cmd_count(int argc, char **argv)
{
	return count_lines(0);
}

/* slow-count MS: like count, but MS milliseconds per line. */
static int
cmd_slow_count(int argc, char **argv)
{
	return count_lines(num_arg(argv[0], "milliseconds"));
}

/* cat: copy stdin to stdout. */
static int
cmd_cat(int argc, char **argv)
{
	char	buf[HELPER_BUFSZ];
	size_t	n;

	while ((n = read_some(STDIN_FILENO, buf, sizeof buf)) > 0)
		write_all(STDOUT_FILENO, buf, n);
	return 0;
}

/*
 * append FILE [N [ONCE]]: append each line of stdin to FILE with one
 * write(2) each (O_APPEND, so replicas sharing FILE never mix lines).
 * After N lines, die by SIGKILL, a consumer killed mid-stream; with ONCE,
 * only when the file ONCE does not exist yet (it is created first), so a
 * restarted consumer carries on.
 */
static int
cmd_append(int argc, char **argv)
{
	static char		 line[1024 * 1024 + 2];
	char			 buf[HELPER_BUFSZ];
	unsigned long long	 limit = 0, seen = 0;
	size_t			 n, len = 0, i;
	int			 fd, die_after = 0;

	if (argc > 1) {
		limit = num_arg(argv[1], "line limit");
		die_after = 1;
		if (argc > 2) {
			if (access(argv[2], F_OK) == 0)
				die_after = 0;
			else
				write_file(argv[2], "killed\n");
		}
	}
	fd = open(argv[0], O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd == -1)
		die("open %s: %s", argv[0], strerror(errno));
	if (die_after && limit == 0)
		kill(getpid(), SIGKILL);
	/* One byte at a time past the limit's line, so nothing is eaten. */
	while ((n = read_some(STDIN_FILENO, buf, die_after ? 1 : sizeof buf)) >
	    0) {
		for (i = 0; i < n; i++) {
			if (len < sizeof line - 1)
				line[len++] = buf[i];
			if (buf[i] != '\n')
				continue;
			write_all(fd, line, len);
			len = 0;
			if (die_after && ++seen == limit)
				kill(getpid(), SIGKILL);
		}
	}
	if (len > 0)
		write_all(fd, line, len);
	close(fd);
	return 0;
}

/* sleep SECONDS (fractions allowed) */
static int
cmd_sleep(int argc, char **argv)
{
	sleep_for(seconds_arg(argv[0]));
	return 0;
}

/* sleep-exit SECONDS N: sleep, then exit N. */
static int
cmd_sleep_exit(int argc, char **argv)
{
	sleep_for(seconds_arg(argv[0]));
	return (int)(num_arg(argv[1], "exit status") & 0xff);
}

/* ignore-term SECONDS: ignore SIGTERM, say "ready", then sleep. */
static int
cmd_ignore_term(int argc, char **argv)
{
	struct sigaction	sa;
	double			secs = seconds_arg(argv[0]);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction: %s", strerror(errno));
	say(STDOUT_FILENO, "ready");
	sleep_for(secs);
	return 0;
}

/* The SIGTERM handler of term-exit: note it, nothing more. */
static void
term_cb(int sig)
{
	got_term = 1;
}

/* term-exit N: say "ready", wait for SIGTERM, say "got TERM", exit N. */
static int
cmd_term_exit(int argc, char **argv)
{
	struct sigaction	sa;
	sigset_t		block, old;
	int			status = (int)(num_arg(argv[0], "exit status") &
				    0xff);

	/* Blocked until sigsuspend, so a TERM cannot slip in before it. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = term_cb;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		die("sigaction: %s", strerror(errno));
	say(STDOUT_FILENO, "ready");
	sigdelset(&old, SIGTERM);
	while (!got_term)
		sigsuspend(&old);
	say(STDOUT_FILENO, "got TERM");
	return status;
}

/*
 * grandchild FILE: fork a child that writes its pid to FILE and sleeps
 * 1000s holding stdout open; the parent says "ready" once the file is
 * written, then sleeps forever.
 */
static int
cmd_grandchild(int argc, char **argv)
{
	int	ready[2];
	pid_t	pid;
	char	c = 0;

	if (pipe(ready) == -1)
		die("pipe: %s", strerror(errno));
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(ready[0]);
		write_pid(argv[0]);
		write_all(ready[1], &c, 1);
		close(ready[1]);
		sleep_for(1000);
		_exit(0);
	}
	close(ready[1]);
	if (read_some(ready[0], &c, 1) != 1)
		die("grandchild did not start");
	close(ready[0]);
	say(STDOUT_FILENO, "ready");
	sleep_for(-1);
	return 0;
}

/* Compare two fd numbers, for qsort. */
static int
fd_cmp(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* fds: "fds: 0 1 2", our open descriptors, from /proc/self/fd. */
static int
cmd_fds(int argc, char **argv)
{
	DIR		*d;
	struct dirent	*de;
	int		 fds[1024], nfds = 0, i, self = -1;
	long		 max;
	char		 num[16];

	if ((d = opendir("/proc/self/fd")) != NULL) {
		self = dirfd(d);
		while ((de = readdir(d)) != NULL && nfds < 1024) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			i = atoi(de->d_name);
			if (i != self)
				fds[nfds++] = i;
		}
		closedir(d);
	} else {
		/* No /proc: probe every possible descriptor. */
		max = sysconf(_SC_OPEN_MAX);
		if (max < 0 || max > 65536)
			max = 65536;
		for (i = 0; i < max && nfds < 1024; i++)
			if (fcntl(i, F_GETFD) != -1)
				fds[nfds++] = i;
	}
	qsort(fds, (size_t)nfds, sizeof fds[0], fd_cmp);
	out_str("fds:");
	for (i = 0; i < nfds; i++) {
		snprintf(num, sizeof num, " %d", fds[i]);
		out_str(num);
	}
	out_add("\n", 1);
	out_flush();
	return 0;
}

/* partial TEXT: TEXT without a newline, then exit 0. */
static int
cmd_partial(int argc, char **argv)
{
	write_all(STDOUT_FILENO, argv[0], strlen(argv[0]));
	return 0;
}

/* partial-kill TEXT: TEXT without a newline, then die by SIGKILL. */
static int
cmd_partial_kill(int argc, char **argv)
{
	write_all(STDOUT_FILENO, argv[0], strlen(argv[0]));
	kill(getpid(), SIGKILL);
	return 1;
}

/* kill-self SIG: die by a signal (name or number). */
static int
cmd_kill_self(int argc, char **argv)
{
	int	sig = signal_arg(argv[0]);

	signal(sig, SIG_DFL);
	kill(getpid(), sig);
	sleep_for(10);
	return 1;
}

/* bigline N: one line of N bytes of 'a'. */
static int
cmd_bigline(int argc, char **argv)
{
	unsigned long long	n = num_arg(argv[0], "line length");
	char			a[4096];
	size_t			k;

	memset(a, 'a', sizeof a);
	while (n > 0) {
		k = n < sizeof a ? (size_t)n : sizeof a;
		out_add(a, k);
		n -= k;
	}
	out_add("\n", 1);
	out_flush();
	return 0;
}

/* nul: the line "a\0b\0c". */
static int
cmd_nul(int argc, char **argv)
{
	write_all(STDOUT_FILENO, "a\0b\0c\n", 6);
	return 0;
}

/* touch FILE: create FILE, then exit 0. */
static int
cmd_touch(int argc, char **argv)
{
	int	fd;

	if ((fd = open(argv[0], O_WRONLY | O_CREAT, 0644)) == -1)
		die("open %s: %s", argv[0], strerror(errno));
	close(fd);
	return 0;
}

/* ready-fd N: a newline to fd N (the s6 readiness convention), print up. */
static int
cmd_ready_fd(int argc, char **argv)
{
	int	fd = atoi(argv[0]);

	(void)argc;
	if (write(fd, "\n", 1) != 1)
		die("write fd %d: %s", fd, strerror(errno));
	printf("up\n");
	return 0;
}

/* pidfile FILE [SECONDS]: write our pid to FILE, then sleep (forever). */
static int
cmd_pidfile(int argc, char **argv)
{
	double	secs = argc > 1 ? seconds_arg(argv[1]) : -1;

	write_pid(argv[0]);
	sleep_for(secs);
	return 0;
}

/* wait-file FILE [SECONDS]: exit 0 once FILE exists, 1 after SECONDS. */
static int
cmd_wait_file(int argc, char **argv)
{
	double	secs = argc > 1 ? seconds_arg(argv[1]) : 10, waited;

	for (waited = 0; waited <= secs; waited += 0.01) {
		if (access(argv[0], F_OK) == 0)
			return 0;
		sleep_for(0.01);
	}
	return 1;
}

/* args ARGS...: "argc N", then each argument as "[ARG]" on its own line. */
static int
cmd_args(int argc, char **argv)
{
	char	line[32];
	int	i;

	snprintf(line, sizeof line, "argc %d\n", argc);
	out_str(line);
	for (i = 0; i < argc; i++) {
		out_add("[", 1);
		out_str(argv[i]);
		out_add("]\n", 2);
	}
	out_flush();
	return 0;
}

/* env NAMES...: "NAME=value", or "NAME unset", one line each. */
static int
cmd_env(int argc, char **argv)
{
	const char	*v;
	int		 i;

	for (i = 0; i < argc; i++) {
		out_str(argv[i]);
		if ((v = getenv(argv[i])) != NULL) {
			out_add("=", 1);
			out_str(v);
		} else
			out_str(" unset");
		out_add("\n", 1);
	}
	out_flush();
	return 0;
}

/* pwd: the working directory. */
static int
cmd_pwd(int argc, char **argv)
{
	char	dir[PATH_MAX];

	if (getcwd(dir, sizeof dir) == NULL)
		die("getcwd: %s", strerror(errno));
	say(STDOUT_FILENO, dir);
	return 0;
}

/* ids: "pid N ppid N pgid N sid N", to check detached spawning. */
static int
cmd_ids(int argc, char **argv)
{
	char	line[128];

	snprintf(line, sizeof line, "pid %ld ppid %ld pgid %ld sid %ld",
	    (long)getpid(), (long)getppid(), (long)getpgrp(),
	    (long)getsid(0));
	say(STDOUT_FILENO, line);
	return 0;
}

static const struct {
	const char	*name;
	int		 min, max;	/* argument counts; max -1: any */
	int		(*fn)(int, char **);
	const char	*usage;
} helper_cmds[] = {
	{ "exit", 1, 1, cmd_exit, "exit N            exit with status N" },
	{ "echo", 0, -1, cmd_echo, "echo WORDS...     the words on one line" },
	{ "print-err", 0, -1, cmd_print_err,
	  "print-err WORDS... the words on one line, to stderr" },
	{ "lines", 0, -1, cmd_lines, "lines WORDS...    each word on a line" },
	{ "spew", 1, 2, cmd_spew,
	  "spew N [LEN]      N lines line-000001..., padded with x to LEN\n"
	  "                  bytes (newline not counted)" },
	{ "yes", 0, 1, cmd_yes, "yes [TEXT]        TEXT (default y) forever" },
	{ "count", 0, 0, cmd_count,
	  "count             at EOF of stdin, the number of '\\n' read" },
	{ "slow-count", 1, 1, cmd_slow_count,
	  "slow-count MS     count, reading slowly: MS milliseconds a line" },
	{ "cat", 0, 0, cmd_cat, "cat               copy stdin to stdout" },
	{ "append", 1, 3, cmd_append,
	  "append FILE [N [ONCE]]\n"
	  "                  append stdin's lines to FILE, one write each;\n"
	  "                  after N lines die by SIGKILL (with ONCE, only\n"
	  "                  if file ONCE is absent; it is created)" },
	{ "sleep", 1, 1, cmd_sleep, "sleep SECONDS     sleep (0.25 is fine)" },
	{ "sleep-exit", 2, 2, cmd_sleep_exit,
	  "sleep-exit SECONDS N sleep, then exit with status N" },
	{ "ignore-term", 1, 1, cmd_ignore_term,
	  "ignore-term SECONDS ignore SIGTERM, print ready, sleep" },
	{ "term-exit", 1, 1, cmd_term_exit,
	  "term-exit N       print ready; on SIGTERM print \"got TERM\",\n"
	  "                  exit N" },
	{ "grandchild", 1, 1, cmd_grandchild,
	  "grandchild FILE   fork a child that writes its pid to FILE and\n"
	  "                  sleeps 1000s holding stdout; print ready once\n"
	  "                  FILE is written, sleep forever" },
	{ "fds", 0, 0, cmd_fds,
	  "fds               \"fds: 0 1 2\": our open fds" },
	{ "partial", 1, 1, cmd_partial,
	  "partial TEXT      TEXT without a newline, exit 0" },
	{ "partial-kill", 1, 1, cmd_partial_kill,
	  "partial-kill TEXT TEXT without a newline, then SIGKILL self" },
	{ "kill-self", 1, 1, cmd_kill_self,
	  "kill-self SIG     die by signal SIG (TERM, KILL, 9, ...)" },
	{ "bigline", 1, 1, cmd_bigline,
	  "bigline N         one line of N bytes of a" },
	{ "nul", 0, 0, cmd_nul, "nul               the line a\\0b\\0c" },
	{ "touch", 1, 1, cmd_touch, "touch FILE        create FILE, exit 0" },
	{ "ready-fd", 1, 1, cmd_ready_fd,
	    "ready-fd N        a newline to fd N, then print up" },
	{ "pidfile", 1, 2, cmd_pidfile,
	  "pidfile FILE [SECONDS] write pid to FILE, sleep (default forever)" },
	{ "wait-file", 1, 2, cmd_wait_file,
	  "wait-file FILE [SECONDS] exit 0 once FILE exists, 1 after\n"
	  "                  SECONDS (default 10)" },
	{ "args", 0, -1, cmd_args,
	  "args ARGS...      \"argc N\", then one \"[ARG]\" line each" },
	{ "env", 0, -1, cmd_env,
	  "env NAMES...      NAME=value or \"NAME unset\", one line each" },
	{ "pwd", 0, 0, cmd_pwd, "pwd               the working directory" },
	{ "ids", 0, 0, cmd_ids, "ids               pid N ppid N pgid N sid N" },
};

/* Print the usage of every subcommand to fp. */
static void
usage(FILE *fp)
{
	size_t	i;

	fputs("usage: pyt-helper COMMAND [ARGS...]\n"
	    "A deterministic child for pytasking-run's tests. Commands:\n", fp);
	for (i = 0; i < sizeof helper_cmds / sizeof helper_cmds[0]; i++)
		fprintf(fp, "  %s\n", helper_cmds[i].usage);
	fputs("Bad usage exits 2; a failed write or read exits 1.\n", fp);
}

/*
 * In a sanitizer build, LeakSanitizer's exit-time check ptrace-stops this
 * helper; the tests stop and continue it with signals, and a SIGCONT
 * landing in that check can wedge it until SIGKILL. The helper exits by
 * signal anyway, so its leaks say nothing: leave them unchecked.
 */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}

int
main(int argc, char **argv)
{
	size_t	i;
	int	nargs;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	nargs = argc - 2;
	for (i = 0; i < sizeof helper_cmds / sizeof helper_cmds[0]; i++) {
		if (strcmp(argv[1], helper_cmds[i].name) != 0)
			continue;
		if (nargs < helper_cmds[i].min ||
		    (helper_cmds[i].max >= 0 && nargs > helper_cmds[i].max)) {
			fprintf(stderr, "usage: pyt-helper %s\n",
			    helper_cmds[i].usage);
			return 2;
		}
		return helper_cmds[i].fn(nargs, argv + 2);
	}
	fprintf(stderr, "pyt-helper: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
