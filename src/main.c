/*
 * pytasking-run: options, loading the manifest, running the supervisor,
 * and the exit status (0 success, 1 a unit failed, 2 usage or manifest
 * error). The only file that sees every layer.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/syscall.h>

#include <dirent.h>
#include <fcntl.h>

#include <uv.h>

#include "chainload.h"
#include "control.h"
#include "ctl.h"
#include "diag.h"
#include "guard.h"
#include "log.h"
#include "manifest.h"
#include "metrics.h"
#include "metrics-http.h"
#include "proc.h"
#include "reaper.h"
#include "sampler.h"
#include "supervisor.h"
#include "util.h"
#include "xmalloc.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: pytasking-run [-cv] [-s SOCKET] [--keep] [--timestamps]\n"
	    "                     [--log-format text|json] [--metrics [ADDR:]PORT]\n"
	    "                     [--exit-code-from UNIT] MANIFEST\n"
	    "       pytasking-run ctl [-s SOCKET] [--json] COMMAND [ARG...]\n"
	    "\n"
	    "Run the processes and tasks of MANIFEST under one supervisor.\n"
	    "\n"
	    "  -c, --check     load and validate MANIFEST, print a summary, run nothing\n"
	    "  -v, --verbose   with --check, print the resolved manifest;\n"
	    "                  when running, print queue counters at exit\n"
	    "  -s, --socket PATH  the control socket (default: see pytasking-run(1))\n"
	    "  --keep          stay up when every unit has ended, until signalled\n"
	    "                  or told by ctl\n"
	    "  --timestamps    put the time (UTC) in front of every line\n"
	    "  --log-format FORMAT  text (default) or json: one JSON object a line\n"
	    "  --metrics [ADDR:]PORT  serve Prometheus metrics at http://ADDR:PORT/metrics\n"
	    "                  (default ADDR 127.0.0.1; overrides the manifest's metrics:)\n"
	    "  --exit-code-from UNIT  when UNIT has ended for good, stop everything\n"
	    "                  and exit with its status (128+N for signal N)\n"
	    "  -h, --help      show this help\n"
	    "  -V, --version   show the version\n"
	    "\n"
	    "Exit status: 0 every unit succeeded, 1 a unit failed, 2 usage or\n"
	    "manifest error. See pytasking-run(1) and pytasking.yaml(5).\n");
}

/*
 * Children must get fds 0, 1 and 2 only. Whatever we inherited above 2
 * is marked close-on-exec now, so no spawn can leak it.
 */
static void
mark_inherited_cloexec(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 fd, flags;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	if ((d = opendir("/proc/self/fd")) == NULL) {
		for (fd = 3; fd < 1024; fd++)
			if ((flags = fcntl(fd, F_GETFD)) != -1)
				(void)fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		fd = atoi(e->d_name);
		if (fd <= 2 || fd == dirfd(d))
			continue;
		if ((flags = fcntl(fd, F_GETFD)) != -1)
			(void)fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
	}
	closedir(d);
}

/* Colour unit names on a terminal only, and never when NO_COLOR is set. */
static int
use_colour(int fd, enum log_format format)
{
	const char	*term = getenv("TERM");
	const char	*no = getenv("NO_COLOR");

	if (format != LOG_FORMAT_TEXT || (no != NULL && *no != '\0'))
		return 0;
	if (term == NULL || strcmp(term, "dumb") == 0)
		return 0;
	return isatty(fd);
}

/* Say so when metrics would be served beyond this host. */
static void
warn_metrics_addr(const char *addr)
{
	const char	*errstr;
	char		*host;
	unsigned	 port;

	if (addr == NULL ||
	    metrics_parse_addr(addr, &host, &port, &errstr) == -1)
		return;
	if (!metrics_addr_is_loopback(host))
		log_warnx("warning: metrics: %s is not a loopback address: "
		    "whoever reaches it can read the metrics", addr);
	free(host);
}

static int
check_manifest(const struct manifest *m, int verbose, const char *metrics)
{
	char	summary[128];

	manifest_summary(m, summary, sizeof summary);
	warn_metrics_addr(metrics != NULL ? metrics : m->metrics);
	if (verbose)
		manifest_print(m, stdout);
	else
		printf("%s: ok: %s\n", m->file, summary);
	return fflush(stdout) == 0 ? 0 : 1;
}

/*
 * The metrics listener, which follows the manifest's metrics: across
 * reloads unless --metrics set it.
 */
struct metrics_serve {
	uv_loop_t		*loop;
	struct sampler		*sampler;
	struct metrics_http	*mh;
	const char		*cli;		/* --metrics, or NULL */
	char			*addr;		/* what mh listens on, or NULL */
};

/* Do two metrics addresses name the same host and port? */
static int
metrics_same(const char *a, const char *b)
{
	const char	*errstr;
	char		*ha = NULL, *hb = NULL;
	unsigned	 pa, pb;
	int		 same;

	if (a == NULL || b == NULL)
		return a == b;
	if (metrics_parse_addr(a, &ha, &pa, &errstr) == -1 ||
	    metrics_parse_addr(b, &hb, &pb, &errstr) == -1)
		same = strcmp(a, b) == 0;
	else
		same = pa == pb && strcmp(ha, hb) == 0;
	free(ha);
	free(hb);
	return same;
}

/* Listen on addr (NULL: nowhere) instead: 0, or -1 with *cause. */
static int
metrics_move(struct metrics_serve *ms, const char *addr, char **cause)
{
	struct metrics_http	*mh = NULL;
	char			*why;

	if (metrics_same(addr, ms->addr))
		return 0;
	if (addr != NULL && ms->sampler != NULL) {
		if (metrics_http_start(ms->loop, ms->sampler, addr, &mh,
		    &why) == -1) {
			*cause = xasprintf("metrics: %s", why);
			free(why);
			return -1;
		}
		warn_metrics_addr(addr);
		log_info("metrics: serving GET /metrics on port %u",
		    metrics_http_port(mh));
	} else if (ms->mh != NULL)
		log_info("metrics: no longer served");
	metrics_http_free(ms->mh);
	free(ms->addr);
	ms->mh = mh;
	ms->addr = mh != NULL ? xstrdup(addr) : NULL;
	return 0;
}

/* Reload: the listener moves with metrics: (a bind that fails refuses). */
static int
metrics_reload_hook(void *arg, const struct manifest *nm, char **cause)
{
	struct metrics_serve	*ms = arg;

	if (ms->cli != NULL)
		return 0;
	return metrics_move(ms, nm->metrics, cause);
}

/* The loader of reloads: the same file again, diagnostics as the cause. */
static struct manifest *
reload_manifest(void *arg, char **cause)
{
	struct manifest	*m;
	struct diag	 d;
	FILE		*fp;
	char		*text = NULL;
	size_t		 len = 0;

	diag_init(&d, arg);
	m = manifest_reload(arg, &d);
	if (m == NULL) {
		if ((fp = open_memstream(&text, &len)) != NULL) {
			diag_print(&d, fp);
			fclose(fp);
		}
		while (text != NULL && len > 0 && text[len - 1] == '\n')
			text[--len] = '\0';
		if (text == NULL || len == 0) {
			free(text);
			text = xasprintf("%s: cannot load", (char *)arg);
		}
		*cause = text;
	} else if ((fp = open_memstream(&text, &len)) != NULL) {
		/* Warnings: through the log, in order with the rest. */
		diag_print(&d, fp);
		if (fclose(fp) == 0) {
			while (len > 0 && text[len - 1] == '\n')
				text[--len] = '\0';
			if (len > 0)
				log_warnx("%s", text);
		}
		free(text);
	}
	diag_release(&d);
	if (m != NULL && chainload_check(m, cause) == -1) {
		manifest_free(m);
		m = NULL;
	}
	return m;
}

/* Does m declare this unit: a process, a task, or NAME.N of replicas? */
static int
manifest_has_unit(const struct manifest *m, const char *name)
{
	const struct proc_spec	*ps;
	const char		*dot = strrchr(name, '.');
	char			*base;
	uint64_t		 n;
	const char		*errstr;
	int			 r = 0;

	if (manifest_find_proc(m, name) != NULL ||
	    manifest_find_task(m, name) != NULL)
		return 1;
	if (dot == NULL)
		return 0;
	base = xstrndup(name, (size_t)(dot - name));
	ps = manifest_find_proc(m, base);
	if (ps != NULL && (ps->replicas_set || ps->replicas > 1) &&
	    util_parse_uint(dot + 1, 1, ps->replicas, &n, &errstr) == 0)
		r = 1;
	free(base);
	return r;
}

/* user: and group: we cannot honour stop everything before it starts. */
static int
check_privileges(const struct manifest *m)
{
	char	*cause = NULL, *line, *next;

	if (chainload_check(m, &cause) == 0)
		return 0;
	for (line = cause; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		log_warnx("%s", line);
	}
	free(cause);
	return -1;
}

static int
run(struct manifest *m, const char *path, const char *sock, int keep,
    int verbose, const char *metrics, const char *exit_from)
{
	uv_loop_t		 loop;
	struct supervisor	*sv;
	struct control		*ctl;
	struct sampler		*sampler = NULL;
	struct metrics_serve	 ms;
	sigset_t		 late;
	struct guard		*guard;
	struct reaper		*reaper;
	char			*cause = NULL;
	int			 error, status;

	/*
	 * The guardian first, before the loop exists: one fork of a process
	 * with no threads and no handles yet (guard.c).
	 */
	guard = guard_start();
	proc_raise_nofile();
	proc_init();
	if ((error = uv_loop_init(&loop)) != 0) {
		log_warnx("uv_loop_init: %s", uv_strerror(error));
		guard_stop(guard);
		return 1;
	}
	memset(&ms, 0, sizeof ms);
	reaper = reaper_start(&loop, guard);
	sv = supervisor_new(&loop, m);
	supervisor_set_guard(sv, guard);
	if (control_start(&loop, sv, sock, path, &ctl, &cause) == -1) {
		log_warnx("control socket: %s", cause);
		free(cause);
		status = 2;
		goto teardown;
	}
	/* Rates and metrics: measured here, served by ctl and HTTP. */
	if ((error = sampler_start(&loop, sv, &sampler)) != 0)
		log_warnx("sampler: %s", uv_strerror(error));
	control_set_sampler(ctl, sampler);
	ms.loop = &loop;
	ms.sampler = sampler;
	ms.cli = metrics;
	if (metrics_move(&ms, metrics != NULL ? metrics : m->metrics,
	    &cause) == -1) {
		log_warnx("%s", cause);
		free(cause);
		status = 2;
		goto teardown;
	}
	supervisor_set_reload_hook(sv, metrics_reload_hook, &ms);
	supervisor_set_socket(sv, control_path(ctl));
	supervisor_set_keep(sv, keep);
	/* Checked against the manifest already: the unit exists. */
	if (exit_from != NULL &&
	    supervisor_set_exit_from(sv, exit_from, &cause) == -1) {
		log_warnx("%s", cause);
		free(cause);
		cause = NULL;
	}
	supervisor_set_loader(sv, reload_manifest, (void *)path);
	if ((error = supervisor_start(sv)) != 0) {
		log_warnx("cannot start: %s", uv_strerror(error));
		supervisor_shutdown(sv);
	}
	(void)uv_run(&loop, UV_RUN_DEFAULT);
	/*
	 * Every unit has ended. Processes adopted from them (daemons that
	 * left their group) are not units and keep no one up: stop them
	 * now, and run until the last is reaped (reaper.c).
	 */
	reaper_stop_orphans(reaper, REAPER_STOP_TIMEOUT_MS);
	(void)uv_run(&loop, UV_RUN_DEFAULT);
	status = supervisor_exit_status(sv);
	/*
	 * What is left (queue items handed back to Redis, handles closing)
	 * ends by itself and soon: a stop signal now would only cut it short
	 * with the default action once the supervisor's watchers are closed.
	 * Held pending, it is discarded at exit.
	 */
	if (sigemptyset(&late) == -1 || sigaddset(&late, SIGTERM) == -1 ||
	    sigaddset(&late, SIGINT) == -1 || sigaddset(&late, SIGQUIT) == -1 ||
	    sigaddset(&late, SIGHUP) == -1 ||
	    sigprocmask(SIG_BLOCK, &late, NULL) == -1)
		log_warn("sigprocmask");
	control_end_gets(ctl);
	supervisor_report_left(sv);
	if (verbose)
		supervisor_report(sv);
	/* A start-up that failed ends here too: nothing ran, all is closed. */
teardown:
	metrics_http_free(ms.mh);
	free(ms.addr);
	control_free(ctl);
	sampler_free(sampler);
	supervisor_free(sv);
	reaper_free(reaper);
	(void)uv_run(&loop, UV_RUN_DEFAULT);
	if ((error = uv_loop_close(&loop)) != 0)
		log_warnx("uv_loop_close: %s", uv_strerror(error));
	/* The guardian finds nothing left to kill, exits, and is reaped. */
	guard_stop(guard);
	return status;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", no_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "socket", required_argument, NULL, 's' },
		{ "keep", no_argument, NULL, 'K' },
		{ "timestamps", no_argument, NULL, 'T' },
		{ "log-format", required_argument, NULL, 'L' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "exit-code-from", required_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 },
	};
	enum log_format	 format = LOG_FORMAT_TEXT;
	int		 timestamps = 0;
	struct manifest	*m;
	struct diag	 d;
	const char	*sock = NULL, *metrics = NULL, *errstr;
	const char	*exit_from = NULL;
	char		*host;
	unsigned	 port;
	int		 ch, check = 0, verbose = 0, keep = 0, status;

	/* "pytasking-run ctl ..." is the client, with options of its own. */
	if (argc > 1 && strcmp(argv[1], "ctl") == 0)
		return ctl_main(argc - 1, argv + 1);
	/*
	 * Our own chain loader, between our spawn and a process's program
	 * (chainload.c): first, before anything touches signals or fds.
	 */
	if (argc > 1 && strcmp(argv[1], CHAINLOAD_ARG) == 0)
		return chainload_main(argc - 1, argv + 1);

	while ((ch = getopt_long(argc, argv, "cvhVs:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 's':
			sock = optarg;
			break;
		case 'K':
			keep = 1;
			break;
		case 'X':
			exit_from = optarg;
			break;
		case 'T':
			timestamps = 1;
			break;
		case 'M':
			if (metrics_parse_addr(optarg, &host, &port,
			    &errstr) == -1) {
				fprintf(stderr, "pytasking-run: --metrics: %s: "
				    "%s\n", optarg, errstr);
				return 2;
			}
			free(host);
			metrics = optarg;
			break;
		case 'L':
			if (strcmp(optarg, "json") == 0)
				format = LOG_FORMAT_JSON;
			else if (strcmp(optarg, "text") == 0)
				format = LOG_FORMAT_TEXT;
			else {
				fprintf(stderr, "pytasking-run: --log-format: "
				    "expected text or json; got \"%s\"\n",
				    optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("pytasking-run %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		fprintf(stderr, "pytasking-run: %s\n", argc == 0 ?
		    "missing MANIFEST" : "too many arguments");
		usage(stderr);
		return 2;
	}
	log_init("pytasking-run", verbose);
	log_set_output(timestamps, use_colour(STDOUT_FILENO, format),
	    use_colour(STDERR_FILENO, format), format);

	/* A dead reader is an EPIPE on one stream, never our death. */
	(void)signal(SIGPIPE, SIG_IGN);
	mark_inherited_cloexec();

	diag_init(&d, argv[0]);
	m = manifest_load(argv[0], &d);
	/* -c also checks what the run would find wrong on this machine. */
	if (m != NULL && check)
		manifest_check_host(m, &d);
	diag_print(&d, stderr);
	if (m != NULL && diag_has_errors(&d)) {
		manifest_free(m);
		m = NULL;
	}
	diag_release(&d);
	if (m == NULL)
		return 2;
	if (exit_from != NULL && !manifest_has_unit(m, exit_from)) {
		fprintf(stderr, "pytasking-run: --exit-code-from: no unit %s in "
		    "%s\n", exit_from, argv[0]);
		manifest_free(m);
		return 2;
	}
	if (check)
		status = check_manifest(m, verbose, metrics);
	else if (check_privileges(m) == -1)
		status = 2;
	else
		status = run(m, argv[0], sock, keep, verbose, metrics,
		    exit_from);
	manifest_free(m);
	return status;
}
