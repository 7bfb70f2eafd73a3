/*
 * One run of a unit: a process spawned with its standard streams (pipes
 * to queues, files, the console), its readiness and its end (exit, then
 * EOF on its pipes, within a bound); or a task started with its files.
 * Whether a run restarts, and what then, is supervisor.c's.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "chainload.h"
#include "filesink.h"
#include "log.h"
#include "logring.h"
#include "proc.h"
#include "ready.h"
#include "sv-int.h"
#include "task.h"
#include "util.h"
#include "wire.h"
#include "xmalloc.h"

extern char **environ;

/*
 * After a process exited, how long its pipes may stay open (a grandchild
 * holding them) before we stop waiting for end of file.
 */
#define SV_DRAIN_AFTER_EXIT_MS	1000

static void	unit_ready_line_cb(void *, const char *, size_t);

/* ------------------------------------------------------ process runs */

static int
sv_open_devnull(int flags)
{
	int	fd;

	if ((fd = open("/dev/null", flags | O_CLOEXEC)) == -1)
		log_warn("/dev/null");
	return fd;
}

static void	unit_outlet_eof(void *);

/*
 * Keep what a unit shows on the console for "ctl logs", and pass it to
 * followers: one line, without its newline.
 */
void
unit_console_cb(void *arg, const char *line, size_t len)
{
	struct unit	*u = arg;
	struct follower	*f, *next;
	uint64_t	 now = util_now_ms();

	size_t		 max = u->ps != NULL ? u->ps->log_buffer :
			    u->ts->log_buffer;

	/* Made at the first line: a unit that never prints costs no ring. */
	if (u->log == NULL) {
		u->log = xmalloc(sizeof *u->log);
		logring_init(u->log, max);
	} else if (u->log->max != max && max != 0)
		logring_resize(u->log, max);	/* a reload changed it */
	logring_add(u->log, now, u->sv->log_seq++, line, len);
	for (f = u->followers; f != NULL; f = next) {
		next = f->next;
		f->fn(u->name, now, line, len, f->arg);
	}
	for (f = u->sv->all_followers; f != NULL; f = next) {
		next = f->next;
		f->fn(u->name, now, line, len, f->arg);
	}
}

static int
unit_open_output(struct unit *u, const struct output *o, int console_fd,
    struct outlet **outlet)
{
	int	watch = u->pr->has_ready_re;

	struct outlet_config	 c;
	struct wqueue		*queues[64];
	struct filesink		**files = NULL, *f;
	const struct dest	*d;
	int			 p[2];
	size_t			 i, nfiles = 0, nqueues = 0;

	*outlet = NULL;
	/*
	 * A lone null goes to the child directly. Files go through us, so
	 * they can rotate and be reopened on SIGUSR1, and a line watched for
	 * readiness must pass through us too.
	 */
	if (!watch && o->ndests == 1 && o->dests[0].kind == DEST_NULL)
		return sv_open_devnull(O_WRONLY);
	memset(&c, 0, sizeof c);
	c.console_fd = -1;
	for (i = 0; i < o->ndests; i++) {
		d = &o->dests[i];
		switch (d->kind) {
		case DEST_INHERIT:
			c.console_fd = console_fd;
			break;
		case DEST_FILE:
			f = filesink_open(u->name, d->name, d->max_size,
			    d->backups);
			if (f == NULL) {
				log_warn("%s: cannot open output file %s",
				    u->name, d->name);
				break;
			}
			files = xreallocarray(files, nfiles + 1, sizeof *files);
			files[nfiles++] = f;
			break;
		case DEST_QUEUE:
			if (nqueues < sizeof queues / sizeof queues[0])
				queues[nqueues++] = wire_find_queue(u->sv->wire,
				    d->name);
			break;
		case DEST_NULL:
			break;
		}
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("%s: pipe", u->name);
		for (i = 0; i < nfiles; i++)
			filesink_free(files[i]);
		free(files);
		return -1;
	}
	c.fd = p[0];
	c.prefix = u->name;
	c.files = files;
	c.nfiles = nfiles;
	c.queues = queues;
	c.nqueues = nqueues;
	c.eof_fn = unit_outlet_eof;
	c.console_fn = unit_console_cb;
	c.line_fn = watch ? unit_ready_line_cb : NULL;
	c.arg = u;
	*outlet = outlet_new(u->sv->wire, &c);
	return p[1];
}

static void	unit_exit_cb(struct proc *, int64_t, int, void *);

/* The environment of a child: ours, the unit's env, PYTASKING_UNIT. */
static char **
unit_env(const struct unit *u)
{
	const struct proc_spec	*ps = u->ps;
	char			**env;
	size_t			 n = 0, i, j, k, len;

	while (environ[n] != NULL)
		n++;
	env = xreallocarray(NULL, n + ps->nenv + 3, sizeof *env);
	k = 0;
	for (i = 0; i < n; i++) {
		len = strcspn(environ[i], "=");
		for (j = 0; j < ps->nenv; j++)
			if (strlen(ps->env[j].name) == len &&
			    strncmp(ps->env[j].name, environ[i], len) == 0)
				break;
		if (j < ps->nenv || strncmp(environ[i], "PYTASKING_UNIT=",
		    15) == 0 || strncmp(environ[i], "PYTASKING_SOCKET=", 17) == 0 ||
		    strncmp(environ[i], "NOTIFY_SOCKET=", 14) == 0)
			continue;
		env[k++] = xstrdup(environ[i]);
	}
	for (j = 0; j < ps->nenv; j++)
		env[k++] = xasprintf("%s=%s", ps->env[j].name, ps->env[j].value);
	env[k++] = xasprintf("PYTASKING_UNIT=%s", u->name);
	if (u->sv->socket_path != NULL)
		env[k++] = xasprintf("PYTASKING_SOCKET=%s", u->sv->socket_path);
	env[k] = NULL;
	return env;
}

/* argv: cmd (or /bin/sh -c SHELL NAME) plus the ARGS of "start". */
static char **
unit_argv(struct unit *u)
{
	const struct proc_spec	*ps = u->ps;
	char			**argv;
	size_t			 n = 0, i;

	argv = xreallocarray(NULL, ps->argc + u->nargs + 5, sizeof *argv);
	if (ps->shell != NULL) {
		argv[n++] = "/bin/sh";
		argv[n++] = "-c";
		argv[n++] = ps->shell;
		argv[n++] = u->name;	/* $0 */
	} else
		for (i = 0; i < ps->argc; i++)
			argv[n++] = ps->argv[i];
	for (i = 0; i < u->nargs; i++)
		argv[n++] = u->args[i];
	argv[n] = NULL;
	return argv;
}

static void
sv_free_env(char **env)
{
	size_t	i;

	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/* A spawn that failed counts as a failed run for the restart policy. */
static void
unit_spawn_ended(struct unit *u, const char *why)
{
	u->pr->exited = 1;
	u->pr->exit_status = 127;
	u->pr->term_signal = 0;
	free(u->pr->spawn_error);
	u->pr->spawn_error = xstrdup(why);
	u->state = UNIT_RUNNING;
	u->started_ms = uv_now(u->sv->loop);
	u->pr->proc = NULL;
	unit_run_end(u);
}

static void
unit_spawn_failed(struct unit *u, const char *why)
{
	struct log_event	ev;

	unit_log_event(u, &ev, "spawn-failed");
	log_event(LOG_LEVEL_WARNING, &ev, "%s: cannot start %s: %s", u->name,
	    u->ps->shell != NULL ? "/bin/sh" : u->ps->argv[0], why);
	unit_spawn_ended(u, why);
}

/*
 * Can the child enter its working directory? If not, say that it is the
 * directory (the spawn would blame the program) and end the run: -1.
 */
static int
unit_check_cwd(struct unit *u)
{
	struct log_event ev;
	struct stat	 st;
	char		*why;
	int		 error = 0;

	if (u->ps->cwd == NULL)
		return 0;
	if (stat(u->ps->cwd, &st) == -1)
		error = errno;
	else if (!S_ISDIR(st.st_mode))
		error = ENOTDIR;
	else if (access(u->ps->cwd, X_OK) == -1)
		error = errno;
	if (error == 0)
		return 0;
	why = xasprintf("cwd %s: %s", u->ps->cwd,
	    uv_strerror(uv_translate_sys_error(error)));
	unit_log_event(u, &ev, "spawn-failed");
	log_event(LOG_LEVEL_WARNING, &ev, "%s: cannot start: %s", u->name, why);
	unit_spawn_ended(u, why);
	free(why);
	return -1;
}

static void
unit_close_fds(int fds[3])
{
	int	i;

	for (i = 0; i < 3; i++)
		if (fds[i] != -1)
			(void)close(fds[i]);
}

/* The run is ready: dependents may start; probes and watches end. */
static void
unit_ready(struct unit *u)
{
	if (u->is_ready)
		return;
	u->is_ready = 1;
	u->ever_ready = 1;
	if (u->timer_use == TIMER_READY)
		unit_timer_stop(u);
	if (u->pr != NULL) {
		if (u->pr->out != NULL)
			outlet_set_line_fn(u->pr->out, NULL);
		if (u->pr->err != NULL)
			outlet_set_line_fn(u->pr->err, NULL);
		if (u->pr->probe != NULL) {
			probe_free(u->pr->probe);
			u->pr->probe = NULL;
		}
	}
	if (u->ps != NULL && u->ps->ready.kind != READY_NONE) {
		struct log_event	ev;

		unit_log_event(u, &ev, "ready");
		log_event(LOG_LEVEL_INFO, &ev, "%s: ready", u->name);
	}
	sv_check_waiting(u->sv);
	sv_maybe_notify_ready(u->sv);
}

static void
unit_ready_line_cb(void *arg, const char *line, size_t len)
{
	struct unit	*u = arg;
	char		*s;

	if (u->is_ready || !u->pr->has_ready_re)
		return;
	/* regexec wants a C string; lines may hold NUL: match up to it. */
	s = xstrndup(line, len);
	if (regexec(&u->pr->ready_re, s, 0, NULL, 0) == 0)
		unit_ready(u);
	free(s);
}

static void
unit_ready_fd_cb(void *arg, const char *line, size_t len)
{
	unit_ready(arg);
}

static void
unit_probe_cb(void *arg)
{
	unit_ready(arg);
}

/* ready: {fd: N}: a pipe whose first line says the process is ready. */
static int
unit_ready_fd(struct unit *u, struct proc_spawn_args *a)
{
	struct outlet_config	c;
	int			p[2];

	if (u->ps->ready.kind != READY_FD)
		return 0;
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("%s: pipe", u->name);
		return -1;
	}
	memset(&c, 0, sizeof c);
	c.fd = p[0];
	c.prefix = u->name;
	c.console_fd = -1;
	c.line_fn = unit_ready_fd_cb;
	c.arg = u;
	u->pr->ready_fd = outlet_new(u->sv->wire, &c);
	a->extra_fd = p[1];
	a->extra_num = u->ps->ready.fd;
	return 0;
}

/* After a spawn: start probing, or say it is ready at once. */
static void
unit_watch_ready(struct unit *u, char **env)
{
	const struct ready_spec	*r = &u->ps->ready;

	switch (r->kind) {
	case READY_NONE:
		unit_ready(u);
		return;
	case READY_EXEC:
	case READY_TCP:
	case READY_HTTP:
		u->pr->probe = probe_start(u->sv->loop, r, env, u->name,
		    unit_probe_cb, u);
		break;
	default:
		break;
	}
	if (!u->is_ready && r->timeout_ms > 0)
		unit_timer_start(u, TIMER_READY, r->timeout_ms);
}

/* Run-end clean-up of readiness. */
void
unit_unwatch_ready(struct unit *u)
{
	if (u->pr->has_ready_re) {
		regfree(&u->pr->ready_re);
		u->pr->has_ready_re = 0;
	}
	if (u->pr->probe != NULL) {
		probe_free(u->pr->probe);
		u->pr->probe = NULL;
	}
	if (u->pr->ready_fd != NULL) {
		outlet_free(u->pr->ready_fd, 0);
		u->pr->ready_fd = NULL;
	}
	u->is_ready = 0;
}

static void
unit_spawn_proc(struct unit *u)
{
	struct proc_spawn_args	 a;
	char			**argv, **env, **cl;
	int			 p[2], error;

	memset(&a, 0, sizeof a);
	a.fds[0] = a.fds[1] = a.fds[2] = -1;
	u->is_ready = 0;
	if (u->ps->ready.kind == READY_LINE && regcomp(&u->pr->ready_re,
	    u->ps->ready.regex, REG_EXTENDED | REG_NOSUB) == 0)
		u->pr->has_ready_re = 1;
	u->pr->exited = 0;
	u->stop_requested = 0;
	u->pr->out = u->pr->err = NULL;
	u->pr->in = NULL;
	if (unit_check_cwd(u) == -1)
		return;
	if (u->pr->stdin_wq != NULL) {
		if (pipe2(p, O_CLOEXEC) == -1) {
			unit_spawn_failed(u, strerror(errno));
			return;
		}
		a.fds[0] = p[0];
		u->pr->in = inlet_new(u->sv->wire, p[1],
		    fcntl(p[0], F_DUPFD_CLOEXEC, 3), u->pr->stdin_wq,
		    u->pr->stdin_sub);
	} else
		a.fds[0] = sv_open_devnull(O_RDONLY);
	a.fds[1] = unit_open_output(u, &u->ps->out, STDOUT_FILENO,
	    &u->pr->out);
	a.fds[2] = unit_open_output(u, &u->ps->err, STDERR_FILENO,
	    &u->pr->err);
	if (a.fds[0] == -1 || a.fds[1] == -1 || a.fds[2] == -1) {
		unit_close_fds(a.fds);
		unit_spawn_failed(u, "cannot set up its standard streams");
		return;
	}
	a.extra_fd = -1;
	if (unit_ready_fd(u, &a) == -1) {
		unit_close_fds(a.fds);
		unit_spawn_failed(u, "cannot set up its readiness pipe");
		return;
	}
	argv = unit_argv(u);
	env = unit_env(u);
	/* limits:, umask:, user:, group: go through our chain loader. */
	cl = chainload_argv(u->name, u->ps, argv);
	a.file = cl != NULL ? cl[0] : argv[0];
	a.argv = cl != NULL ? cl : argv;
	a.guard = u->sv->guard;
	a.env = env;
	a.cwd = u->ps->cwd;
	a.exit_fn = unit_exit_cb;
	a.arg = u;
	error = proc_spawn(u->sv->loop, &a, &u->pr->proc);
	chainload_argv_free(cl);
	free(argv);
	unit_close_fds(a.fds);
	if (a.extra_fd != -1)
		(void)close(a.extra_fd);
	if (error != 0) {
		sv_free_env(env);
		unit_spawn_failed(u, uv_strerror(error));
		return;
	}
	u->state = UNIT_RUNNING;
	u->started_ms = uv_now(u->sv->loop);
	u->ever_started = 1;
	{
		struct log_event	ev;

		unit_log_event(u, &ev, "started");
		log_event(LOG_LEVEL_INFO, &ev, "%s: started (pid %ld)", u->name,
		    (long)proc_pid(u->pr->proc));
	}
	unit_watch_ready(u, env);
	sv_free_env(env);
	sv_check_waiting(u->sv);
}

static int
unit_outlets_done(const struct unit *u)
{
	return (u->pr->out == NULL || outlet_is_eof(u->pr->out)) &&
	    (u->pr->err == NULL || outlet_is_eof(u->pr->err));
}

/* The unit's one alarm: a restart's backoff, a drain, a ready timeout. */
void
unit_timer_cb(struct sched_alarm *a)
{
	struct unit	*u = (struct unit *)((char *)a -
	    offsetof(struct unit, timer));
	enum timer_use	 use = u->timer_use;

	u->timer_use = TIMER_NONE;
	if (use == TIMER_BACKOFF)
		unit_spawn(u);
	else if (use == TIMER_DRAIN)
		unit_run_end(u);
	else if (use == TIMER_READY && u->pr->proc != NULL &&
	    !proc_has_exited(u->pr->proc)) {
		char	d[32];

		util_format_duration(u->ps->ready.timeout_ms, d, sizeof d);
		log_warnx("%s: not ready after %s: stopping it", u->name, d);
		/* Not a stop we were asked for: the run ends as a failure. */
		(void)proc_stop(u->pr->proc, u->ps->stop_signal,
		    u->ps->stop_timeout_ms);
	}
}

void
unit_timer_start(struct unit *u, enum timer_use use, uint64_t ms)
{
	u->timer_use = use;
	sched_alarm_start(u->sv->sched, &u->timer, ms);
}

void
unit_timer_stop(struct unit *u)
{
	u->timer_use = TIMER_NONE;
	sched_alarm_stop(u->sv->sched, &u->timer);
}

/*
 * The leader exited. The run is over once its pipes reached EOF too; a
 * grandchild may hold them open, so that wait is bounded.
 */
static void
unit_exit_cb(struct proc *p, int64_t status, int sig, void *arg)
{
	struct unit	*u = arg;

	u->pr->exited = 1;
	u->pr->exit_status = status;
	u->pr->term_signal = sig;
	if (unit_outlets_done(u))
		unit_run_end(u);
	else
		unit_timer_start(u, TIMER_DRAIN, SV_DRAIN_AFTER_EXIT_MS);
}

static void
unit_outlet_eof(void *arg)
{
	struct unit	*u = arg;

	if (u->pr->exited && u->timer_use == TIMER_DRAIN &&
	    unit_outlets_done(u)) {
		unit_timer_stop(u);
		unit_run_end(u);
	}
}

/* ------------------------------------------------------------ tasks */

void
unit_close_sinks(struct unit *u)
{
	size_t	i;

	for (i = 0; i < u->nsinks; i++)
		filesink_free(u->sinks[i]);
	free(u->sinks);
	u->sinks = NULL;
	u->nsinks = 0;
}

static void
unit_spawn_task(struct unit *u)
{
	const struct output	*o = &u->ts->out;
	struct filesink		*f;
	size_t			 i;

	/* Opened afresh for each run: a reload may have changed them. */
	unit_close_sinks(u);
	for (i = 0; i < o->ndests; i++) {
		if (o->dests[i].kind != DEST_FILE)
			continue;
		f = filesink_open(u->name, o->dests[i].name,
		    o->dests[i].max_size, o->dests[i].backups);
		if (f == NULL) {
			log_warn("%s: cannot open output file %s", u->name,
			    o->dests[i].name);
			continue;
		}
		u->sinks = xreallocarray(u->sinks, u->nsinks + 1,
		    sizeof *u->sinks);
		u->sinks[u->nsinks++] = f;
	}
	u->task = task_new(u->sv->sched, u->ts, &u->sv->host, u, u->args,
	    u->nargs);
	u->state = UNIT_RUNNING;
	u->started_ms = uv_now(u->sv->loop);
	u->stop_requested = 0;
	u->ever_started = 1;
	{
		struct log_event	ev;

		unit_log_event(u, &ev, "started");
		log_event(LOG_LEVEL_INFO, &ev, "%s: started", u->name);
	}
	task_start(u->task);
	/* A task is ready once started. */
	unit_ready(u);
}

/* Start a run: spawn the process, or start the task. */
void
unit_spawn(struct unit *u)
{
	if (u->ps != NULL)
		unit_spawn_proc(u);
	else
		unit_spawn_task(u);
}
