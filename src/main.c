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

#include "diag.h"
#include "log.h"
#include "manifest.h"
#include "supervisor.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC	(1U << 2)
#endif

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: pytasking-run [-cv] MANIFEST\n"
	    "\n"
	    "Run the processes and tasks of MANIFEST under one supervisor.\n"
	    "\n"
	    "  -c, --check     load and validate MANIFEST, print a summary, run nothing\n"
	    "  -v, --verbose   with --check, print the resolved manifest;\n"
	    "                  when running, print queue counters at exit\n"
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

static int
check_manifest(const struct manifest *m, int verbose)
{
	char	summary[128];

	manifest_summary(m, summary, sizeof summary);
	if (verbose)
		manifest_print(m, stdout);
	else
		printf("%s: ok: %s\n", m->file, summary);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
run(const struct manifest *m, int verbose)
{
	uv_loop_t		 loop;
	struct supervisor	*sv;
	int			 error, status;

	if ((error = uv_loop_init(&loop)) != 0) {
		log_warnx("uv_loop_init: %s", uv_strerror(error));
		return 1;
	}
	sv = supervisor_new(&loop, m);
	if ((error = supervisor_start(sv)) != 0) {
		log_warnx("cannot start: %s", uv_strerror(error));
		supervisor_shutdown(sv);
	}
	(void)uv_run(&loop, UV_RUN_DEFAULT);
	status = supervisor_exit_status(sv);
	if (verbose)
		supervisor_report(sv);
	supervisor_free(sv);
	(void)uv_run(&loop, UV_RUN_DEFAULT);
	if ((error = uv_loop_close(&loop)) != 0)
		log_warnx("uv_loop_close: %s", uv_strerror(error));
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
		{ NULL, 0, NULL, 0 },
	};
	struct manifest	*m;
	struct diag	 d;
	int		 ch, check = 0, verbose = 0, status;

	while ((ch = getopt_long(argc, argv, "cvhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			check = 1;
			break;
		case 'v':
			verbose++;
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

	/* A dead reader is an EPIPE on one stream, never our death. */
	(void)signal(SIGPIPE, SIG_IGN);
	mark_inherited_cloexec();

	diag_init(&d, argv[0]);
	m = manifest_load(argv[0], &d);
	diag_print(&d, stderr);
	diag_release(&d);
	if (m == NULL)
		return 2;
	if (check)
		status = check_manifest(m, verbose);
	else
		status = run(m, verbose);
	manifest_free(m);
	return status;
}
