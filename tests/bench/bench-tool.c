/*
 * bench-tool: the measuring end of the benchmarks, in C so that timings
 * are taken at the event itself, not after a shell's fork. It runs the
 * raw baselines (spawn and stop loops) and drives a supervisor: it starts
 * it, waits until it is ready, measures its idle CPU and memory, stops it
 * and times the stop until every descendant is reaped. It is a child
 * subreaper, so nothing a supervisor leaves behind escapes it, and on a
 * timeout it kills its whole tree. Results are "key=value" lines.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_MARKS	8
#define MAX_SETCOMM	8

static int			sigpipe_fds[2] = { -1, -1 };
static volatile sig_atomic_t	interrupted;

static void __attribute__((noreturn))
usage(void)
{
	fputs("usage: bench-tool spawnloop [-s] [-p|-w] N CMD...\n"
	    "       bench-tool stoploop N CMD...\n"
	    "       bench-tool run [-T secs] [-o out] [-e err] [-m text]... "
	    "[-k]\n"
	    "           [-E n:text] [-P n:comm] [-F file:bytes] [-W secs] [-i secs] "
	    "[-a comm]...\n"
	    "           [-s] [-S sig] [-x status|any] CMD...\n", stderr);
	exit(2);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	fputs("bench-tool: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (saved != 0)
		fprintf(stderr, ": %s", strerror(saved));
	fputc('\n', stderr);
	exit(1);
}

static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long
num(const char *s)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < 0)
		usage();
	return v;
}

/* ------------------------------------------------------------ /proc */

struct pinfo {
	pid_t	pid;
	pid_t	ppid;
	char	comm[32];
};

struct ptable {
	struct pinfo	*p;
	size_t		 n, cap;
};

static int
pinfo_cmp(const void *a, const void *b)
{
	const struct pinfo *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Read pid, comm and ppid of every process. */
static void
ptable_load(struct ptable *t)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[300], buf[512], *l, *r;
	ssize_t		 n;
	int		 fd;

	t->n = 0;
	if ((d = opendir("/proc")) == NULL)
		die("/proc");
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		if ((fd = open(path, O_RDONLY)) == -1)
			continue;
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if ((l = strchr(buf, '(')) == NULL ||
		    (r = strrchr(buf, ')')) == NULL || r[1] == '\0')
			continue;
		if (t->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 1024;
			if ((t->p = realloc(t->p, t->cap * sizeof *t->p)) == NULL)
				die("realloc");
		}
		t->p[t->n].pid = (pid_t)atol(buf);
		*r = '\0';
		snprintf(t->p[t->n].comm, sizeof t->p[t->n].comm, "%s", l + 1);
		/* ") S ppid" */
		t->p[t->n].ppid = (pid_t)atol(r + 4);
		t->n++;
	}
	closedir(d);
	qsort(t->p, t->n, sizeof *t->p, pinfo_cmp);
}

static const struct pinfo *
ptable_find(const struct ptable *t, pid_t pid)
{
	struct pinfo	key;

	key.pid = pid;
	return bsearch(&key, t->p, t->n, sizeof *t->p, pinfo_cmp);
}

/* Is p a descendant of root (or root itself)? */
static int
ptable_under(const struct ptable *t, const struct pinfo *p, pid_t root)
{
	int	depth;

	for (depth = 0; p != NULL && depth < 64; depth++) {
		if (p->pid == root)
			return 1;
		if (p->ppid <= 1)
			return 0;
		p = ptable_find(t, p->ppid);
	}
	return 0;
}

/* Descendants of root named comm. */
static size_t
count_comm(pid_t root, const char *comm)
{
	static struct ptable	t;
	size_t			i, n = 0;

	ptable_load(&t);
	for (i = 0; i < t.n; i++)
		if (strcmp(t.p[i].comm, comm) == 0 &&
		    ptable_under(&t, &t.p[i], root))
			n++;
	return n;
}

/* SIGKILL every descendant of ours until none is left but zombies. */
static void
kill_tree(void)
{
	static struct ptable	t;
	pid_t			self = getpid();
	size_t			i, left;
	int			round;

	for (round = 0; round < 100; round++) {
		ptable_load(&t);
		left = 0;
		for (i = 0; i < t.n; i++)
			if (t.p[i].pid != self &&
			    ptable_under(&t, &t.p[i], self)) {
				(void)kill(t.p[i].pid, SIGKILL);
				left++;
			}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (left == 0)
			return;
		usleep(10000);
	}
}

/*
 * CPU time (ns, from schedstat) and memory (kB) of one process: VmRSS,
 * VmHWM and Pss (shared pages divided among their users, so that a sum
 * over several processes counts each page once).
 */
static int
proc_sample(pid_t pid, unsigned long long *cpu_ns, long *rss, long *hwm,
    long *pss)
{
	char	path[64], buf[4096], *p;
	FILE	*fp;

	snprintf(path, sizeof path, "/proc/%ld/schedstat", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	if (fscanf(fp, "%llu", cpu_ns) != 1)
		*cpu_ns = 0;
	fclose(fp);
	snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	*rss = *hwm = 0;
	while (fgets(buf, sizeof buf, fp) != NULL) {
		if (strncmp(buf, "VmRSS:", 6) == 0)
			*rss = strtol(buf + 6, &p, 10);
		else if (strncmp(buf, "VmHWM:", 6) == 0)
			*hwm = strtol(buf + 6, &p, 10);
	}
	fclose(fp);
	*pss = 0;
	snprintf(path, sizeof path, "/proc/%ld/smaps_rollup", (long)pid);
	if ((fp = fopen(path, "r")) != NULL) {
		while (fgets(buf, sizeof buf, fp) != NULL)
			if (strncmp(buf, "Pss:", 4) == 0)
				*pss = strtol(buf + 4, &p, 10);
		fclose(fp);
	}
	return 0;
}

/* ------------------------------------------------------- baselines */

/* Open /dev/null on 0, 1 and 2 of a child about to exec. */
static void
child_stdio_null(void)
{
	int	fd;

	if ((fd = open("/dev/null", O_RDWR)) == -1)
		_exit(126);
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

/*
 * fork+exec one child as a supervisor does: a new session (its pid is its
 * process group) and /dev/null on its stdio.
 */
static int	die_with_parent;	/* stoploop: children must not outlive us */

static pid_t
spawn_fork(char **argv)
{
	pid_t	pid;

	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		if (die_with_parent)
			prctl(PR_SET_PDEATHSIG, SIGKILL);
		setsid();
		child_stdio_null();
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/*
 * fork+exec, then wait until the child has exec'd (a close-on-exec pipe
 * reaches EOF), as libuv's uv_spawn does to report exec errors.
 */
static pid_t
spawn_fork_wait(char **argv)
{
	pid_t	pid;
	char	c;
	int	p[2];

	if (pipe2(p, O_CLOEXEC) == -1)
		die("pipe");
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		close(p[0]);
		setsid();
		child_stdio_null();
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	while (read(p[0], &c, 1) == -1 && errno == EINTR)
		;
	close(p[0]);
	return pid;
}

/* The same with posix_spawn (glibc: clone(CLONE_VM|CLONE_VFORK)). */
static pid_t
spawn_posix(char **argv)
{
	posix_spawn_file_actions_t	fa;
	posix_spawnattr_t		attr;
	pid_t				pid;
	int				error;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0);
	posix_spawn_file_actions_adddup2(&fa, 0, 1);
	posix_spawn_file_actions_adddup2(&fa, 0, 2);
	posix_spawnattr_init(&attr);
#ifdef POSIX_SPAWN_SETSID
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
#endif
	error = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (error != 0) {
		errno = error;
		die("posix_spawnp %s", argv[0]);
	}
	return pid;
}

static void
reap_ok(pid_t pid)
{
	int	st;

	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			die("waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		die("a child failed (status %#x)", st);
}

/*
 * Spawn N children and reap them: all at once, then every reap (the
 * default, as a supervisor starts a manifest), or one after the other
 * (-s, as restarts happen). Prints the time taken.
 */
static int
cmd_spawnloop(int argc, char **argv)
{
	pid_t	(*spawn)(char **) = spawn_fork;
	pid_t	*pids;
	double	 t0, t1;
	long	 n, i;
	int	 ch, seq = 0;

	while ((ch = getopt(argc, argv, "+spw")) != -1) {
		switch (ch) {
		case 's':
			seq = 1;
			break;
		case 'p':
			spawn = spawn_posix;
			break;
		case 'w':
			spawn = spawn_fork_wait;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		usage();
	n = num(argv[0]);
	if ((pids = calloc((size_t)n, sizeof *pids)) == NULL)
		die("calloc");
	t0 = now();
	for (i = 0; i < n; i++) {
		pids[i] = spawn(argv + 1);
		if (seq)
			reap_ok(pids[i]);
	}
	if (!seq)
		for (i = 0; i < n; i++)
			reap_ok(pids[i]);
	t1 = now();
	printf("time=%.6f\n", t1 - t0);
	free(pids);
	return 0;
}

/*
 * Spawn N sleeping children, wait until every one has exec'd, then time
 * signalling each group (the stop signal and SIGCONT, as a supervisor
 * does) and reaping them all.
 */
static int
cmd_stoploop(int argc, char **argv)
{
	const char	*comm;
	pid_t		*pids;
	double		 t0, t1, deadline;
	long		 n, i;
	int		 st;

	if (argc < 3)
		usage();
	n = num(argv[1]);
	comm = strrchr(argv[2], '/') ? strrchr(argv[2], '/') + 1 : argv[2];
	if ((pids = calloc((size_t)n, sizeof *pids)) == NULL)
		die("calloc");
	die_with_parent = 1;
	for (i = 0; i < n; i++)
		pids[i] = spawn_fork(argv + 2);
	deadline = now() + 60;
	while (count_comm(getpid(), comm) < (size_t)n) {
		if (now() > deadline) {
			kill_tree();
			errno = 0;
			die("children did not start");
		}
		usleep(20000);
	}
	t0 = now();
	for (i = 0; i < n; i++) {
		(void)kill(-pids[i], SIGTERM);
		(void)kill(-pids[i], SIGCONT);
	}
	for (i = 0; i < n; i++)
		while (waitpid(pids[i], &st, 0) == -1)
			if (errno != EINTR)
				die("waitpid");
	t1 = now();
	printf("time=%.6f\n", t1 - t0);
	free(pids);
	return 0;
}

/* ------------------------------------------------------------- run */

struct mark {
	const char	*text;
	double		 at;		/* 0: not seen */
	char		*line;
};

struct reader {
	int		 fd;		/* our end of the pipe, -1 when done */
	int		 save;		/* where lines go, or -1 */
	char		 buf[65536];
	size_t		 len;
	void		(*line_fn)(const char *, size_t);
};

static struct mark	marks[MAX_MARKS];
static size_t		nmarks;
static const char	*err_text;
static long		err_need, err_seen;
static double		t_start;

static void
sigchld_handler(int sig)
{
	int	saved = errno;

	(void)sig;
	(void)write(sigpipe_fds[1], "c", 1);
	errno = saved;
}

static void
stop_handler(int sig)
{
	int	saved = errno;

	interrupted = sig;
	(void)write(sigpipe_fds[1], "i", 1);
	errno = saved;
}

static void
out_line(const char *p, size_t n)
{
	size_t	i;

	for (i = 0; i < nmarks; i++) {
		if (marks[i].at != 0 || memmem(p, n, marks[i].text,
		    strlen(marks[i].text)) == NULL)
			continue;
		marks[i].at = now();
		if ((marks[i].line = strndup(p, n)) == NULL)
			die("strndup");
	}
}

static void
err_line(const char *p, size_t n)
{
	if (err_text != NULL && memmem(p, n, err_text, strlen(err_text)))
		err_seen++;
}

/* Read what is there, hand out complete lines, save everything. */
static void
reader_read(struct reader *r)
{
	char	*nl, *p;
	ssize_t	 n;

	n = read(r->fd, r->buf + r->len, sizeof r->buf - r->len);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		if (r->len > 0)
			r->line_fn(r->buf, r->len);
		close(r->fd);
		r->fd = -1;
		return;
	}
	if (r->save != -1 && write(r->save, r->buf + r->len, (size_t)n) != n)
		die("saving output");
	r->len += (size_t)n;
	p = r->buf;
	while ((nl = memchr(p, '\n', r->len - (size_t)(p - r->buf))) != NULL) {
		r->line_fn(p, (size_t)(nl - p));
		p = nl + 1;
	}
	r->len -= (size_t)(p - r->buf);
	memmove(r->buf, p, r->len);
	if (r->len == sizeof r->buf) {
		r->line_fn(r->buf, r->len);
		r->len = 0;
	}
}

static int
open_out(const char *path)
{
	int	fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0666)) == -1)
		die("%s", path);
	return fd;
}

static int
signame(const char *s)
{
	if (strcmp(s, "TERM") == 0)
		return SIGTERM;
	if (strcmp(s, "INT") == 0)
		return SIGINT;
	if (strcmp(s, "HUP") == 0)
		return SIGHUP;
	if (strcmp(s, "QUIT") == 0)
		return SIGQUIT;
	return (int)num(s);
}

/* Sum CPU and memory of root and of its descendants named in set. */
static void
set_sample(pid_t root, const char **set, size_t nset,
    unsigned long long *cpu, long *rss, long *hwm, long *pss, long *members)
{
	static struct ptable	 t;
	unsigned long long	 c;
	long			 r, h, ps;
	size_t			 i, j;

	*cpu = 0;
	*rss = *hwm = *pss = *members = 0;
	if (proc_sample(root, &c, &r, &h, &ps) == 0) {
		*cpu += c;
		*rss += r;
		*hwm += h;
		*pss += ps;
		(*members)++;
	}
	if (nset == 0)
		return;
	ptable_load(&t);
	for (i = 0; i < t.n; i++) {
		for (j = 0; j < nset; j++)
			if (strcmp(t.p[i].comm, set[j]) == 0)
				break;
		if (j == nset || t.p[i].pid == root ||
		    !ptable_under(&t, &t.p[i], root))
			continue;
		if (proc_sample(t.p[i].pid, &c, &r, &h, &ps) == 0) {
			*cpu += c;
			*rss += r;
			*hwm += h;
			*pss += ps;
			(*members)++;
		}
	}
}

static void
fail_run(const char *why)
{
	fprintf(stderr, "bench-tool: %s\n", why);
	kill_tree();
	printf("error=%s\n", why);
	exit(1);
}

/* Is the file at least bytes long? */
static int
file_reached(const char *path, long long bytes)
{
	struct stat	sb;

	return stat(path, &sb) == 0 && (long long)sb.st_size >= bytes;
}

/*
 * If pid has exited (and is not reaped yet), note its own user+system
 * time in clock ticks, children excluded: what the supervisor itself
 * used.
 */
static long	root_minflt = -1;

static void
root_cpu(pid_t pid, long *ticks)
{
	siginfo_t	 si;
	char		 path[64], buf[1024], *r;
	unsigned long	 ut, stt, flt;
	FILE		*fp;

	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 ||
	    si.si_pid != pid)
		return;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return;
	if (fgets(buf, sizeof buf, fp) != NULL &&
	    (r = strrchr(buf, ')')) != NULL &&
	    sscanf(r + 2, "%*c %*d %*d %*d %*d %*d %*u %lu %*u %*u %*u %lu %lu",
	    &flt, &ut, &stt) == 3) {
		*ticks = (long)(ut + stt);
		root_minflt = (long)flt;
	}
	fclose(fp);
}

static int
cmd_run(int argc, char **argv)
{
	struct reader		 rout, rerr;
	struct pollfd		 pfd[3];
	struct sigaction	 sa;
	const char		*out_path = NULL, *err_path = NULL;
	const char		*proc_comm = NULL, *file_path = NULL;
	const char		*set[MAX_SETCOMM];
	unsigned long long	 cpu0 = 0, cpu1 = 0;
	long long		 file_bytes = 0;
	double			 timeout = 120, idle = -1, deadline, t;
	double			 t_ready = 0, t_idle_end = 0, t_sig = 0;
	double			 settle = 0, t_idle_start = 0;
	double			 t_exit = 0, t_done;
	long			 proc_need = 0, rss = 0, hwm = 0, members = 0;
	long			 r0, h0, p0, m0, pss = 0, self_ticks = -1;
	size_t			 nset = 0, i;
	pid_t			 pid, w;
	char			*colon, c[64];
	int			 ch, stop = 0, stop_on_marks = 0, sig = SIGTERM;
	int			 expect = 0, any_status = 0, st = 0, npfd;
	int			 pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	int			 timeout_ms, ready_known;

	while ((ch = getopt(argc, argv, "+T:o:e:m:kE:P:F:i:W:a:sS:x:")) != -1) {
		switch (ch) {
		case 'T':
			timeout = (double)num(optarg);
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'e':
			err_path = optarg;
			break;
		case 'm':
			if (nmarks == MAX_MARKS)
				usage();
			marks[nmarks++].text = optarg;
			break;
		case 'k':
			stop_on_marks = 1;
			break;
		case 'E':
			if ((colon = strchr(optarg, ':')) == NULL)
				usage();
			*colon = '\0';
			err_need = num(optarg);
			err_text = colon + 1;
			break;
		case 'P':
			if ((colon = strchr(optarg, ':')) == NULL)
				usage();
			*colon = '\0';
			proc_need = num(optarg);
			proc_comm = colon + 1;
			break;
		case 'F':
			if ((colon = strrchr(optarg, ':')) == NULL)
				usage();
			*colon = '\0';
			file_path = optarg;
			file_bytes = num(colon + 1);
			break;
		case 'i':
			idle = strtod(optarg, NULL);
			break;
		case 'W':
			settle = strtod(optarg, NULL);
			break;
		case 'a':
			if (nset == MAX_SETCOMM)
				usage();
			set[nset++] = optarg;
			break;
		case 's':
			stop = 1;
			break;
		case 'S':
			sig = signame(optarg);
			break;
		case 'x':
			if (strcmp(optarg, "any") == 0)
				any_status = 1;
			else
				expect = (int)num(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	ready_known = err_text != NULL || proc_comm != NULL ||
	    file_path != NULL || (stop_on_marks && nmarks > 0);
	if ((idle >= 0 || stop) && !ready_known)
		usage();

	/* Orphans of the supervisor come to us: nothing escapes the count. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		die("PR_SET_CHILD_SUBREAPER");
	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) == -1)
		die("pipe");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sigchld_handler;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	sa.sa_handler = stop_handler;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	memset(&rout, 0, sizeof rout);
	memset(&rerr, 0, sizeof rerr);
	rout.fd = rerr.fd = -1;
	rout.save = rerr.save = -1;
	rout.line_fn = out_line;
	rerr.line_fn = err_line;
	if (nmarks > 0) {
		if (pipe2(pout, O_CLOEXEC) == -1)
			die("pipe");
		rout.fd = pout[0];
		if (out_path != NULL)
			rout.save = open_out(out_path);
	}
	if (err_text != NULL) {
		if (pipe2(perr, O_CLOEXEC) == -1)
			die("pipe");
		rerr.fd = perr[0];
		if (err_path != NULL)
			rerr.save = open_out(err_path);
	}

	t_start = now();
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		int	fd;

		signal(SIGPIPE, SIG_DFL);
		if ((fd = open("/dev/null", O_RDWR)) == -1)
			_exit(126);
		dup2(fd, 0);
		if (pout[1] != -1)
			dup2(pout[1], 1);
		else if (out_path != NULL) {
			int	ofd = open_out(out_path);
			dup2(ofd, 1);
		} else
			dup2(fd, 1);
		if (perr[1] != -1)
			dup2(perr[1], 2);
		else if (err_path != NULL) {
			int	efd = open_out(err_path);
			dup2(efd, 2);
		} else
			dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pout[1] != -1)
		close(pout[1]);
	if (perr[1] != -1)
		close(perr[1]);
	deadline = t_start + timeout;

	for (;;) {
		/* The root's own CPU time, read while it is a zombie. */
		root_cpu(pid, &self_ticks);
		/* Reap: the root, and any orphan handed to us. */
		while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
			if (w != pid)
				continue;
			t_exit = now();
			if (!ready_known || t_ready != 0)
				goto exited;
			fail_run("the supervisor exited before it was ready");
		}
		t = now();
		if (t > deadline)
			fail_run("timed out");
		if (interrupted)
			fail_run("interrupted");
		if (ready_known && t_ready == 0) {
			int	ready = 1;

			if (err_text != NULL && err_seen < err_need)
				ready = 0;
			if (ready && stop_on_marks)
				for (i = 0; i < nmarks; i++)
					if (marks[i].at == 0)
						ready = 0;
			if (ready && file_path != NULL &&
			    !file_reached(file_path, file_bytes))
				ready = 0;
			if (ready && proc_comm != NULL &&
			    count_comm(pid, proc_comm) < (size_t)proc_need)
				ready = 0;
			if (ready) {
				t_ready = now();
				if (idle >= 0)
					t_idle_start = t_ready + settle;
			}
		}
		/* Idle: from the end of the settling time, for idle seconds. */
		if (idle >= 0 && t_idle_start != 0 && t_idle_end == 0 &&
		    now() >= t_idle_start) {
			set_sample(pid, set, nset, &cpu0, &r0, &h0, &p0, &m0);
			t_idle_end = now() + idle;
			if (idle == 0)
				t_idle_end = now();
		}
		if (t_ready != 0 && idle >= 0 && t_idle_end != 0 &&
		    now() >= t_idle_end) {
			set_sample(pid, set, nset, &cpu1, &rss, &hwm, &pss,
			    &members);
			printf("idle_cpu_ms=%.3f\nidle_secs=%.3f\n",
			    (double)(cpu1 - cpu0) / 1e6,
			    now() - (t_idle_end - idle));
			printf("rss_kb=%ld\nhwm_kb=%ld\npss_kb=%ld\n"
			    "members=%ld\n", rss, hwm, pss, members);
			t_idle_end = 0;
			idle = -1;
		}
		if (stop && t_ready != 0 && idle < 0 && t_sig == 0) {
			t_sig = now();
			if (kill(pid, sig) == -1)
				die("kill");
		}

		npfd = 0;
		pfd[npfd].fd = sigpipe_fds[0];
		pfd[npfd++].events = POLLIN;
		if (rout.fd != -1) {
			pfd[npfd].fd = rout.fd;
			pfd[npfd++].events = POLLIN;
		}
		if (rerr.fd != -1) {
			pfd[npfd].fd = rerr.fd;
			pfd[npfd++].events = POLLIN;
		}
		timeout_ms = (int)((deadline - now()) * 1000) + 1;
		if (ready_known && t_ready == 0) {
			if (proc_comm != NULL && timeout_ms > 20)
				timeout_ms = 20;
			if (file_path != NULL && timeout_ms > 1)
				timeout_ms = 1;
		}
		if (idle >= 0 && t_idle_start != 0 && t_idle_end == 0) {
			int	ms = (int)((t_idle_start - now()) * 1000) + 1;

			if (ms < timeout_ms)
				timeout_ms = ms < 0 ? 0 : ms;
		}
		if (t_idle_end != 0) {
			int	ms = (int)((t_idle_end - now()) * 1000) + 1;

			if (ms < timeout_ms)
				timeout_ms = ms < 0 ? 0 : ms;
		}
		if (poll(pfd, (nfds_t)npfd, timeout_ms) == -1 && errno != EINTR)
			die("poll");
		while (read(sigpipe_fds[0], c, sizeof c) > 0)
			;
		for (i = 1; i < (size_t)npfd; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (pfd[i].fd == rout.fd)
				reader_read(&rout);
			else if (pfd[i].fd == rerr.fd)
				reader_read(&rerr);
		}
	}

exited:
	/* Every descendant the supervisor left comes to us: wait for all. */
	for (;;) {
		w = waitpid(-1, NULL, WNOHANG);
		if (w > 0)
			continue;
		if (w == -1 && errno == ECHILD)
			break;
		if (now() > deadline)
			fail_run("descendants outlived the supervisor");
		if (interrupted)
			fail_run("interrupted");
		pfd[0].fd = sigpipe_fds[0];
		pfd[0].events = POLLIN;
		(void)poll(pfd, 1, 10);
		while (read(sigpipe_fds[0], c, sizeof c) > 0)
			;
	}
	t_done = now();
	/* Drain what the pipes still hold. */
	while (rout.fd != -1)
		reader_read(&rout);
	while (rerr.fd != -1)
		reader_read(&rerr);
	printf("wall=%.6f\n", t_done - t_start);
	printf("exit=%.6f\n", t_exit - t_start);
	if (self_ticks >= 0)
		printf("self_cpu=%.3f\nself_minflt=%ld\n", (double)self_ticks /
		    (double)sysconf(_SC_CLK_TCK), root_minflt);
	if (t_ready != 0)
		printf("ready=%.6f\n", t_ready - t_start);
	if (t_sig != 0)
		printf("stop=%.6f\n", t_done - t_sig);
	for (i = 0; i < nmarks; i++) {
		if (marks[i].at == 0) {
			printf("mark%zu=none\n", i);
			continue;
		}
		printf("mark%zu=%.6f\n", i, marks[i].at - t_start);
		printf("line%zu=%s\n", i, marks[i].line);
	}
	if (err_text != NULL)
		printf("errlines=%ld\n", err_seen);
	if (WIFEXITED(st))
		printf("status=%d\n", WEXITSTATUS(st));
	else
		printf("status=sig%d\n", WTERMSIG(st));
	for (i = 0; i < nmarks; i++)
		if (marks[i].at == 0) {
			printf("error=mark not seen: %s\n", marks[i].text);
			return 1;
		}
	if (!any_status && !(WIFEXITED(st) && WEXITSTATUS(st) == expect)) {
		printf("error=unexpected exit status\n");
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "spawnloop") == 0)
		return cmd_spawnloop(argc - 1, argv + 1);
	if (strcmp(argv[1], "stoploop") == 0)
		return cmd_stoploop(argc - 1, argv + 1);
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	usage();
}
