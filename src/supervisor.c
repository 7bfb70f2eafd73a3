/*
 * The supervisor: every unit instance of a manifest (processes, with
 * their replicas, and tasks), the queues between them, signals and the
 * exit status. Restart decisions come from unit.c; pipes and queues are
 * wire.c's; a task's steps are task.c's. Nothing here knows YAML.
 */
#include "config.h"

#include <sys/queue.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "proc.h"
#include "supervisor.h"
#include "task.h"
#include "unit.h"
#include "util.h"
#include "wire.h"
#include "xmalloc.h"

extern char **environ;

/*
 * After a process exited, how long its pipes may stay open (a grandchild
 * holding them) before we stop waiting for end of file.
 */
#define SV_DRAIN_AFTER_EXIT_MS	1000

struct unit;
TAILQ_HEAD(unit_waiters, unit);

/* A queue a task reads, with its subscriber id. */
struct unit_sub {
	struct wqueue	*wq;
	size_t		 sub;
};

enum timer_use {
	TIMER_NONE,
	TIMER_BACKOFF,
	TIMER_DRAIN,	/* the leader exited; waiting for its pipes' EOF */
};

struct unit {
	struct supervisor	*sv;
	char			*name;		/* "web", or "web.2" for replicas */
	const char		*base;		/* the spec's name */
	const struct proc_spec	*ps;		/* exactly one of ps and ts */
	const struct task_spec	*ts;
	const struct restart_spec *rs;
	enum unit_state		 state;
	struct unit_history	 hist;
	int			 has_ended;	/* a run ended at least once */
	enum unit_end		 last_end;
	int			 last_status;	/* exit code, 128+signal */
	int			 failed;	/* ended for good as a failure */
	char			**args;		/* from "start UNIT ARGS" */
	size_t			 nargs;

	/* Queues this unit feeds (one entry per destination) and reads. */
	struct wqueue		**produces;
	size_t			 nproduces;
	int			 live;		/* counted as their producer */
	struct wqueue		*stdin_wq;
	size_t			 stdin_sub;
	struct unit_sub		*subs;		/* tasks: get / for */
	size_t			 nsubs;

	/* The current run of a process. */
	struct proc		*proc;
	struct outlet		*out;
	struct outlet		*err;
	struct inlet		*in;
	int			 exited;
	int64_t			 exit_status;
	int			 term_signal;
	uint64_t		 started_ms;
	int			 stop_requested;
	int			 restart_requested;

	/* The current run of a task. */
	struct task		*task;
	int			 task_fd;	/* file: output of echo, or -1 */
	struct wq_waiter	 qwaiter;	/* task blocked on a queue */
	struct unit		*waiting_on;	/* task blocked in "wait" */

	uv_timer_t		 timer;
	enum timer_use		 timer_use;
	struct unit_waiters	 waiters;	/* tasks in "wait" on us */
	TAILQ_ENTRY(unit)	 wait_entry;
};

struct supervisor {
	uv_loop_t		*loop;
	const struct manifest	*m;
	struct wire		*wire;
	struct unit		**units;
	size_t			 nunits;
	uv_signal_t		 sigs[4];
	size_t			 nsigs;
	uv_timer_t		 drain_timer;
	int			 shutting_down;
	int			 interrupts;	/* SIGINTs seen */
	int			 done;
	int			 killed_at_stop;
	uint32_t		 rnd;
	struct task_host	 host;
};

static void	unit_spawn(struct unit *);
static void	unit_run_end(struct unit *);
static void	unit_end_for_good(struct unit *);
static void	unit_stop(struct unit *);
static void	unit_start(struct unit *, char **, size_t);
static void	sv_maybe_done(struct supervisor *);
static void	sv_qwaiter_cb(struct wq_waiter *);

/* xorshift32: jitter needs spread, not secrecy. */
static uint32_t
sv_random(struct supervisor *sv)
{
	uint32_t	x = sv->rnd;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	sv->rnd = x;
	return x;
}

static int
unit_is_active(const struct unit *u)
{
	return u->state == UNIT_RUNNING || u->state == UNIT_BACKOFF ||
	    u->state == UNIT_STOPPING;
}

/*
 * The instances a name means: a unit's base name means all its replicas;
 * "web.2" means one. Returns the count; *first the index of the first.
 */
static size_t
sv_find_units(struct supervisor *sv, const char *name, size_t *first)
{
	size_t	i, n = 0;

	for (i = 0; i < sv->nunits; i++) {
		if (strcmp(sv->units[i]->base, name) != 0)
			continue;
		if (n++ == 0)
			*first = i;
	}
	if (n > 0)
		return n;
	for (i = 0; i < sv->nunits; i++) {
		if (strcmp(sv->units[i]->name, name) == 0) {
			*first = i;
			return 1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ set-up */

static void
unit_add_produce(struct unit *u, struct wqueue *wq)
{
	size_t	i;

	for (i = 0; i < u->nproduces; i++)
		if (u->produces[i] == wq)
			return;
	u->produces = xreallocarray(u->produces, u->nproduces + 1,
	    sizeof *u->produces);
	u->produces[u->nproduces++] = wq;
}

static void
unit_add_output_queues(struct unit *u, const struct output *o)
{
	size_t	i;

	for (i = 0; i < o->ndests; i++)
		if (o->dests[i].kind == DEST_QUEUE)
			unit_add_produce(u, wire_find_queue(u->sv->wire,
			    o->dests[i].name));
}

static void
unit_add_sub(struct unit *u, struct wqueue *wq)
{
	size_t	i;

	for (i = 0; i < u->nsubs; i++)
		if (u->subs[i].wq == wq)
			return;
	u->subs = xreallocarray(u->subs, u->nsubs + 1, sizeof *u->subs);
	u->subs[u->nsubs].wq = wq;
	u->subs[u->nsubs].sub = wqueue_subscribe(wq);
	u->nsubs++;
}

/* Which queues a task's steps put into (producer) or read (consumer). */
static void
unit_scan_script(struct unit *u, const struct script *s)
{
	const struct step	*st;
	struct wqueue		*wq;
	size_t			 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nsteps; i++) {
		st = &s->steps[i];
		if (st->queue != NULL &&
		    (wq = wire_find_queue(u->sv->wire, st->queue)) != NULL) {
			if (st->kind == STEP_COMMAND &&
			    st->builtin == BUILTIN_PUT)
				unit_add_produce(u, wq);
			else
				unit_add_sub(u, wq);
		}
		unit_scan_script(u, st->body);
	}
}

static void
unit_timer_close_cb(uv_handle_t *h)
{
	struct unit	*u = h->data;
	size_t		 i;

	for (i = 0; i < u->nargs; i++)
		free(u->args[i]);
	free(u->args);
	free(u->produces);
	free(u->subs);
	free(u->name);
	free(u);
}

static struct unit *
sv_add_unit(struct supervisor *sv, const char *name, const char *base)
{
	struct unit	*u;

	u = xcalloc(1, sizeof *u);
	u->sv = sv;
	u->name = xstrdup(name);
	u->base = base;
	u->task_fd = -1;
	u->state = UNIT_IDLE;
	TAILQ_INIT(&u->waiters);
	u->qwaiter.fn = sv_qwaiter_cb;
	u->qwaiter.arg = u;
	if (uv_timer_init(sv->loop, &u->timer) != 0)
		fatalx("uv_timer_init failed");
	u->timer.data = u;
	sv->units = xreallocarray(sv->units, sv->nunits + 1, sizeof *sv->units);
	sv->units[sv->nunits++] = u;
	return u;
}

static void	sv_host_init(struct supervisor *);

struct supervisor *
supervisor_new(uv_loop_t *loop, const struct manifest *m)
{
	struct supervisor	*sv;
	const struct proc_spec	*ps;
	const struct task_spec	*ts;
	struct unit		*u;
	char			*name;
	size_t			 i;
	unsigned		 r;

	sv = xcalloc(1, sizeof *sv);
	sv->loop = loop;
	sv->m = m;
	sv->rnd = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16) ^ 0x9e3779b9;
	if (sv->rnd == 0)
		sv->rnd = 1;
	sv->wire = wire_new(loop);
	sv_host_init(sv);
	if (uv_timer_init(loop, &sv->drain_timer) != 0)
		fatalx("uv_timer_init failed");
	sv->drain_timer.data = sv;
	for (i = 0; i < m->nqueues; i++)
		(void)wire_add_queue(sv->wire, &m->queues[i]);
	for (i = 0; i < m->nprocs; i++) {
		ps = &m->procs[i];
		for (r = 1; r <= ps->replicas; r++) {
			if (ps->replicas > 1) {
				name = xasprintf("%s.%u", ps->name, r);
				u = sv_add_unit(sv, name, ps->name);
				free(name);
			} else
				u = sv_add_unit(sv, ps->name, ps->name);
			u->ps = ps;
			u->rs = &ps->restart;
			unit_add_output_queues(u, &ps->out);
			unit_add_output_queues(u, &ps->err);
			if (ps->stdin_queue != NULL) {
				u->stdin_wq = wire_find_queue(sv->wire,
				    ps->stdin_queue);
				u->stdin_sub = wqueue_subscribe(u->stdin_wq);
			}
		}
	}
	for (i = 0; i < m->ntasks; i++) {
		ts = &m->tasks[i];
		u = sv_add_unit(sv, ts->name, ts->name);
		u->ts = ts;
		u->rs = &ts->restart;
		unit_add_output_queues(u, &ts->out);
		unit_scan_script(u, ts->run);
		unit_scan_script(u, ts->on_cancel);
	}
	return sv;
}

/* ----------------------------------------------------------- messages */

/* "restarting in 200ms (restart 3 of 5)" */
static void
sv_restart_note(const struct unit *u, uint64_t delay, char *buf, size_t len)
{
	char	d[32];

	util_format_duration(delay, d, sizeof d);
	if (u->rs->max_restarts == MANIFEST_UNLIMITED)
		snprintf(buf, len, "; restarting in %s (restart %llu)", d,
		    (unsigned long long)u->hist.restarts);
	else
		snprintf(buf, len, "; restarting in %s (restart %llu of %llu)",
		    d, (unsigned long long)u->hist.restarts,
		    (unsigned long long)u->rs->max_restarts);
}

/* One line saying how a run ended and what comes next. */
static void
sv_log_end(const struct unit *u, const struct unit_verdict *v,
    const struct unit_exit *x)
{
	char	what[128], next[96], sig[16], tmo[32];

	next[0] = '\0';
	switch (v->end) {
	case END_SPAWN_FAILED:
		snprintf(what, sizeof what, "could not be started");
		break;
	case END_STOPPED:
		snprintf(what, sizeof what, "stopped");
		break;
	case END_STOP_KILLED:
		util_format_duration(u->ps != NULL ? u->ps->stop_timeout_ms :
		    u->ts->cancel_timeout_ms, tmo, sizeof tmo);
		snprintf(what, sizeof what, "killed with SIGKILL after its %s "
		    "stop timeout", tmo);
		break;
	case END_KILLED:
		snprintf(what, sizeof what, "killed by signal %s",
		    util_signal_name(x->term_signal, sig, sizeof sig));
		break;
	default:
		snprintf(what, sizeof what, "exited with status %lld",
		    (long long)x->exit_status);
		break;
	}
	if (v->restart)
		sv_restart_note(u, v->delay_ms, next, sizeof next);
	else if (v->gave_up)
		snprintf(next, sizeof next, "; gave up after %llu restart%s",
		    (unsigned long long)u->hist.restarts,
		    u->hist.restarts == 1 ? "" : "s");
	log_info("%s: %s%s", u->name, what, next);
}

/* ------------------------------------------------------ process runs */

static int
sv_open_devnull(int flags)
{
	int	fd;

	if ((fd = open("/dev/null", flags | O_CLOEXEC)) == -1)
		log_warn("/dev/null");
	return fd;
}

static int
sv_open_file(const struct unit *u, const char *path)
{
	int	fd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd == -1)
		log_warn("%s: cannot open output file %s", u->name, path);
	return fd;
}

static void	unit_outlet_eof(void *);

/*
 * Make the child's end of one output stream. A lone null or file
 * destination is given to the child directly (no copy through us); any
 * console or queue destination, or a tee, goes through a pipe and an
 * outlet. Returns the child's fd, or -1 (and logs).
 */
static int
unit_open_output(struct unit *u, const struct output *o, int console_fd,
    struct outlet **outlet)
{
	struct outlet_config	 c;
	struct wqueue		*queues[64];
	int			 p[2], fd, *files = NULL;
	size_t			 i, nfiles = 0, nqueues = 0;

	*outlet = NULL;
	if (o->ndests == 1 && o->dests[0].kind == DEST_NULL)
		return sv_open_devnull(O_WRONLY);
	if (o->ndests == 1 && o->dests[0].kind == DEST_FILE)
		return sv_open_file(u, o->dests[0].name);
	memset(&c, 0, sizeof c);
	c.console_fd = -1;
	for (i = 0; i < o->ndests; i++) {
		switch (o->dests[i].kind) {
		case DEST_INHERIT:
			c.console_fd = console_fd;
			break;
		case DEST_FILE:
			if ((fd = sv_open_file(u, o->dests[i].name)) == -1)
				break;
			files = xreallocarray(files, nfiles + 1, sizeof *files);
			files[nfiles++] = fd;
			break;
		case DEST_QUEUE:
			if (nqueues < sizeof queues / sizeof queues[0])
				queues[nqueues++] = wire_find_queue(u->sv->wire,
				    o->dests[i].name);
			break;
		case DEST_NULL:
			break;
		}
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("%s: pipe", u->name);
		for (i = 0; i < nfiles; i++)
			(void)close(files[i]);
		free(files);
		return -1;
	}
	c.fd = p[0];
	c.prefix = u->name;
	c.file_fds = files;
	c.nfile_fds = nfiles;
	c.queues = queues;
	c.nqueues = nqueues;
	c.eof_fn = unit_outlet_eof;
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
	env = xreallocarray(NULL, n + ps->nenv + 2, sizeof *env);
	k = 0;
	for (i = 0; i < n; i++) {
		len = strcspn(environ[i], "=");
		for (j = 0; j < ps->nenv; j++)
			if (strlen(ps->env[j].name) == len &&
			    strncmp(ps->env[j].name, environ[i], len) == 0)
				break;
		if (j < ps->nenv || strncmp(environ[i], "PYTASKING_UNIT=",
		    15) == 0)
			continue;
		env[k++] = xstrdup(environ[i]);
	}
	for (j = 0; j < ps->nenv; j++)
		env[k++] = xasprintf("%s=%s", ps->env[j].name, ps->env[j].value);
	env[k++] = xasprintf("PYTASKING_UNIT=%s", u->name);
	env[k] = NULL;
	return env;
}

/* argv: cmd (or /bin/sh -c SHELL NAME) plus the ARGS of "start". */
static char **
unit_argv(const struct unit *u)
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
unit_spawn_failed(struct unit *u, const char *why)
{
	log_warnx("%s: cannot start %s: %s", u->name,
	    u->ps->shell != NULL ? "/bin/sh" : u->ps->argv[0], why);
	u->exited = 1;
	u->exit_status = 127;
	u->term_signal = 0;
	u->state = UNIT_RUNNING;
	u->started_ms = uv_now(u->sv->loop);
	u->proc = NULL;
	unit_run_end(u);
}

static void
unit_close_fds(int fds[3])
{
	int	i;

	for (i = 0; i < 3; i++)
		if (fds[i] != -1)
			(void)close(fds[i]);
}

static void
unit_spawn_proc(struct unit *u)
{
	struct proc_spawn_args	 a;
	char			**argv, **env;
	int			 p[2], error;

	memset(&a, 0, sizeof a);
	a.fds[0] = a.fds[1] = a.fds[2] = -1;
	u->exited = 0;
	u->stop_requested = 0;
	u->out = u->err = NULL;
	u->in = NULL;
	if (u->stdin_wq != NULL) {
		if (pipe2(p, O_CLOEXEC) == -1) {
			unit_spawn_failed(u, strerror(errno));
			return;
		}
		a.fds[0] = p[0];
		u->in = inlet_new(u->sv->wire, p[1], u->stdin_wq, u->stdin_sub);
	} else
		a.fds[0] = sv_open_devnull(O_RDONLY);
	a.fds[1] = unit_open_output(u, &u->ps->out, STDOUT_FILENO, &u->out);
	a.fds[2] = unit_open_output(u, &u->ps->err, STDERR_FILENO, &u->err);
	if (a.fds[0] == -1 || a.fds[1] == -1 || a.fds[2] == -1) {
		unit_close_fds(a.fds);
		unit_spawn_failed(u, "cannot set up its standard streams");
		return;
	}
	argv = unit_argv(u);
	env = unit_env(u);
	a.file = argv[0];
	a.argv = argv;
	a.env = env;
	a.cwd = u->ps->cwd;
	a.exit_fn = unit_exit_cb;
	a.arg = u;
	error = proc_spawn(u->sv->loop, &a, &u->proc);
	free(argv);
	sv_free_env(env);
	unit_close_fds(a.fds);
	if (error != 0) {
		unit_spawn_failed(u, uv_strerror(error));
		return;
	}
	u->state = UNIT_RUNNING;
	u->started_ms = uv_now(u->sv->loop);
	log_info("%s: started (pid %ld)", u->name, (long)proc_pid(u->proc));
}

static int
unit_outlets_done(const struct unit *u)
{
	return (u->out == NULL || outlet_is_eof(u->out)) &&
	    (u->err == NULL || outlet_is_eof(u->err));
}

static void
unit_timer_cb(uv_timer_t *t)
{
	struct unit	*u = t->data;
	enum timer_use	 use = u->timer_use;

	u->timer_use = TIMER_NONE;
	if (use == TIMER_BACKOFF)
		unit_spawn(u);
	else if (use == TIMER_DRAIN)
		unit_run_end(u);
}

static void
unit_timer_start(struct unit *u, enum timer_use use, uint64_t ms)
{
	u->timer_use = use;
	if (uv_timer_start(&u->timer, unit_timer_cb, ms, 0) != 0)
		fatalx("uv_timer_start failed");
}

static void
unit_timer_stop(struct unit *u)
{
	u->timer_use = TIMER_NONE;
	(void)uv_timer_stop(&u->timer);
}

/*
 * The leader exited. The run is over once its pipes reached EOF too; a
 * grandchild may hold them open, so that wait is bounded.
 */
static void
unit_exit_cb(struct proc *p, int64_t status, int sig, void *arg)
{
	struct unit	*u = arg;

	u->exited = 1;
	u->exit_status = status;
	u->term_signal = sig;
	if (unit_outlets_done(u))
		unit_run_end(u);
	else
		unit_timer_start(u, TIMER_DRAIN, SV_DRAIN_AFTER_EXIT_MS);
}

static void
unit_outlet_eof(void *arg)
{
	struct unit	*u = arg;

	if (u->exited && u->timer_use == TIMER_DRAIN && unit_outlets_done(u)) {
		unit_timer_stop(u);
		unit_run_end(u);
	}
}

/* ------------------------------------------------------------ tasks */

static void
unit_spawn_task(struct unit *u)
{
	const struct output	*o = &u->ts->out;
	size_t			 i;

	if (u->task_fd == -1)
		for (i = 0; i < o->ndests; i++)
			if (o->dests[i].kind == DEST_FILE) {
				u->task_fd = sv_open_file(u, o->dests[i].name);
				break;
			}
	u->task = task_new(u->sv->loop, u->ts, &u->sv->host, u, u->args,
	    u->nargs);
	u->state = UNIT_RUNNING;
	u->started_ms = uv_now(u->sv->loop);
	u->stop_requested = 0;
	log_info("%s: started", u->name);
	task_start(u->task);
}

/* ------------------------------------------------------- life cycle */

static void
unit_spawn(struct unit *u)
{
	if (u->ps != NULL)
		unit_spawn_proc(u);
	else
		unit_spawn_task(u);
}

/* Start a unit that is not active: a fresh life, with new history. */
static void
unit_start(struct unit *u, char **args, size_t nargs)
{
	size_t	i;

	if (unit_is_active(u) || u->sv->shutting_down)
		return;
	for (i = 0; i < u->nargs; i++)
		free(u->args[i]);
	free(u->args);
	u->args = NULL;
	u->nargs = 0;
	if (nargs > 0) {
		u->args = xreallocarray(NULL, nargs, sizeof *u->args);
		for (i = 0; i < nargs; i++)
			u->args[i] = xstrdup(args[i]);
		u->nargs = nargs;
	}
	memset(&u->hist, 0, sizeof u->hist);
	u->failed = 0;
	if (!u->live) {
		u->live = 1;
		for (i = 0; i < u->nproduces; i++)
			wqueue_producer_add(u->produces[i]);
	}
	unit_spawn(u);
}

/* Wake the tasks waiting for u to end. */
static void
unit_wake_waiters(struct unit *u)
{
	struct unit	*w;

	while ((w = TAILQ_FIRST(&u->waiters)) != NULL) {
		TAILQ_REMOVE(&u->waiters, w, wait_entry);
		w->waiting_on = NULL;
		if (w->task != NULL)
			task_wake(w->task);
	}
}

/* No restart is coming: the unit is done until someone starts it. */
static void
unit_end_for_good(struct unit *u)
{
	size_t	i;

	if (u->live) {
		u->live = 0;
		for (i = 0; i < u->nproduces; i++)
			wqueue_producer_del(u->produces[i]);
	}
	if (u->failed)
		u->state = UNIT_FAILED;
	else
		u->state = UNIT_EXITED;
	unit_wake_waiters(u);
	if (u->restart_requested && !u->sv->shutting_down) {
		u->restart_requested = 0;
		unit_start(u, u->args, 0);
		return;
	}
	u->restart_requested = 0;
	sv_maybe_done(u->sv);
}

/* Decide, from how the run ended, between restart and the end. */
static void
unit_judge_run(struct unit *u, const struct unit_exit *x)
{
	struct supervisor	*sv = u->sv;
	struct unit_verdict	 v;
	struct restart_spec	 none;
	const struct restart_spec *rs = u->rs;

	if (sv->shutting_down || u->restart_requested) {
		none = *u->rs;
		none.policy = RESTART_NEVER;
		rs = &none;
	}
	unit_judge(rs, &u->hist, x, sv_random(sv), &v);
	sv_log_end(u, &v, x);
	u->has_ended = 1;
	u->last_end = v.end;
	u->last_status = x->term_signal != 0 ? 128 + x->term_signal :
	    (int)x->exit_status;
	if (v.end == END_STOP_KILLED)
		sv->killed_at_stop = 1;
	if (v.restart) {
		u->state = UNIT_BACKOFF;
		unit_timer_start(u, TIMER_BACKOFF, v.delay_ms);
		return;
	}
	u->failed = v.next == UNIT_FAILED;
	unit_end_for_good(u);
}

/* Exit seen and pipes done (or given up on): close the run and judge it. */
static void
unit_run_end(struct unit *u)
{
	struct unit_exit	x;
	int			keep_tail;

	unit_timer_stop(u);
	memset(&x, 0, sizeof x);
	x.spawn_failed = u->proc == NULL;
	x.exit_status = u->exit_status;
	x.term_signal = u->term_signal;
	x.stop_requested = u->stop_requested;
	x.stop_escalated = u->proc != NULL && proc_was_escalated(u->proc);
	x.ran_ms = uv_now(u->sv->loop) - u->started_ms;
	/* A last line without newline is whole only if the process exited. */
	keep_tail = u->term_signal == 0;
	outlet_free(u->out, keep_tail);
	outlet_free(u->err, keep_tail);
	inlet_free(u->in);
	u->out = u->err = NULL;
	u->in = NULL;
	proc_free(u->proc);
	u->proc = NULL;
	unit_judge_run(u, &x);
}

/* Ask a unit to stop: stop signal for a process, cancel for a task. */
static void
unit_stop(struct unit *u)
{
	struct unit_exit	x;

	switch (u->state) {
	case UNIT_BACKOFF:
		unit_timer_stop(u);
		memset(&x, 0, sizeof x);
		log_info("%s: stopped while waiting to restart", u->name);
		u->has_ended = 1;
		u->last_end = END_STOPPED;
		u->failed = 0;
		unit_end_for_good(u);
		return;
	case UNIT_RUNNING:
		break;
	default:
		return;
	}
	u->stop_requested = 1;
	u->state = UNIT_STOPPING;
	if (u->task != NULL) {
		task_cancel(u->task);
		return;
	}
	if (u->proc != NULL && !proc_has_exited(u->proc) &&
	    proc_stop(u->proc, u->ps->stop_signal, u->ps->stop_timeout_ms) != 0)
		log_warn("%s: cannot signal process group %ld", u->name,
		    (long)proc_pid(u->proc));
}

/* ------------------------------------------------------- task host */

static int
host_output(void *arg, const char *line, size_t len)
{
	struct unit		*u = arg;
	const struct output	*o = &u->ts->out;
	struct wqueue		*wq, *full = NULL;
	struct buf		 b;
	size_t			 i;

	for (i = 0; i < o->ndests; i++) {
		switch (o->dests[i].kind) {
		case DEST_INHERIT:
			wire_console_line(u->sv->wire, STDOUT_FILENO, u->name,
			    line, len);
			break;
		case DEST_FILE:
			if (u->task_fd == -1)
				break;
			buf_init(&b);
			buf_add(&b, line, len);
			buf_addc(&b, '\n');
			if (write(u->task_fd, buf_ptr(&b), buf_used(&b)) == -1)
				log_warn("%s: writing its output", u->name);
			buf_release(&b);
			break;
		case DEST_QUEUE:
			wq = wire_find_queue(u->sv->wire, o->dests[i].name);
			if (wqueue_push(wq, line, len))
				full = wq;
			break;
		case DEST_NULL:
			break;
		}
	}
	if (full == NULL)
		return 0;
	wqueue_wait_writable(full, &u->qwaiter);
	return 1;
}

static struct wqueue *
host_queue(struct unit *u, const char *name, char **cause)
{
	struct wqueue	*wq;

	if ((wq = wire_find_queue(u->sv->wire, name)) == NULL)
		*cause = xasprintf("no such queue: %s", name);
	return wq;
}

static int
host_put(void *arg, const char *queue, const char *item, size_t len,
    char **cause)
{
	struct unit	*u = arg;
	struct wqueue	*wq;

	if ((wq = host_queue(u, queue, cause)) == NULL)
		return -1;
	/* put waits while the queue is full, then stores. */
	if (wqueue_is_full(wq)) {
		wqueue_wait_writable(wq, &u->qwaiter);
		return 1;
	}
	(void)wqueue_push(wq, item, len);
	return 0;
}

static int
host_get(void *arg, const char *queue, char **item, size_t *len,
    char **cause)
{
	struct unit	*u = arg;
	struct wqueue	*wq;
	size_t		 i;
	int		 r;

	if ((wq = host_queue(u, queue, cause)) == NULL)
		return -1;
	for (i = 0; i < u->nsubs; i++)
		if (u->subs[i].wq == wq)
			break;
	if (i == u->nsubs)
		unit_add_sub(u, wq);
	r = wqueue_pop_copy(wq, u->subs[i].sub, item, len);
	if (r == 1)
		wqueue_wait_readable(wq, &u->qwaiter);
	return r;
}

/* Resolve a unit name from a step; the manifest checked it exists. */
static int
host_units(struct unit *u, const char *name, size_t *first, size_t *n,
    char **cause)
{
	*n = sv_find_units(u->sv, name, first);
	if (*n == 0) {
		*cause = xasprintf("no such unit: %s", name);
		return -1;
	}
	return 0;
}

static int
host_start(void *arg, const char *name, char **args, size_t nargs,
    char **cause)
{
	struct unit	*u = arg;
	size_t		 first, n, i;

	if (host_units(u, name, &first, &n, cause) == -1)
		return -1;
	for (i = first; i < first + n; i++)
		unit_start(u->sv->units[i], args, nargs);
	return 0;
}

static int
host_cancel(void *arg, const char *name, char **cause)
{
	struct unit	*u = arg;
	size_t		 first, n, i;

	if (host_units(u, name, &first, &n, cause) == -1)
		return -1;
	for (i = first; i < first + n; i++) {
		u->sv->units[i]->restart_requested = 0;
		unit_stop(u->sv->units[i]);
	}
	return 0;
}

static int
host_restart(void *arg, const char *name, char **cause)
{
	struct unit	*u = arg, *t;
	size_t		 first, n, i;

	if (host_units(u, name, &first, &n, cause) == -1)
		return -1;
	for (i = first; i < first + n; i++) {
		t = u->sv->units[i];
		if (unit_is_active(t)) {
			t->restart_requested = 1;
			unit_stop(t);
		} else
			unit_start(t, t->args, 0);
	}
	return 0;
}

static int
host_signal(void *arg, const char *name, int sig, char **cause)
{
	struct unit	*u = arg, *t;
	size_t		 first, n, i;
	int		 error;

	if (host_units(u, name, &first, &n, cause) == -1)
		return -1;
	for (i = first; i < first + n; i++) {
		t = u->sv->units[i];
		if (t->ps == NULL) {
			*cause = xasprintf("%s is a task: only processes take "
			    "signals", t->name);
			return -1;
		}
		if (t->proc == NULL || proc_has_exited(t->proc))
			continue;
		if ((error = proc_signal(t->proc, sig)) != 0) {
			*cause = xasprintf("signal %s: %s", t->name,
			    strerror(-error));
			return -1;
		}
	}
	return 0;
}

static int
host_wait(void *arg, const char *name, int *status, char **cause)
{
	struct unit	*u = arg, *t;
	size_t		 first, n, i;

	if (host_units(u, name, &first, &n, cause) == -1)
		return -1;
	*status = 0;
	for (i = first; i < first + n; i++) {
		t = u->sv->units[i];
		if (t == u) {
			*cause = xasprintf("a task cannot wait for itself");
			return -1;
		}
		if (unit_is_active(t)) {
			u->waiting_on = t;
			TAILQ_INSERT_TAIL(&t->waiters, u, wait_entry);
			return 1;
		}
		if (t->has_ended && *status == 0)
			*status = t->last_status;
	}
	return 0;
}

static void
host_unwait(void *arg)
{
	struct unit	*u = arg;

	wqueue_unwait(&u->qwaiter);
	if (u->waiting_on != NULL) {
		TAILQ_REMOVE(&u->waiting_on->waiters, u, wait_entry);
		u->waiting_on = NULL;
	}
}

static void
host_ended(void *arg, int status, int cancelled, int failed)
{
	struct unit		*u = arg;
	struct unit_exit	 x;

	host_unwait(u);
	task_free(u->task);
	u->task = NULL;
	memset(&x, 0, sizeof x);
	x.exit_status = status;
	x.stop_requested = cancelled;
	if (failed && status == 0)
		x.exit_status = 1;
	x.ran_ms = uv_now(u->sv->loop) - u->started_ms;
	unit_judge_run(u, &x);
}

static void
sv_qwaiter_cb(struct wq_waiter *w)
{
	struct unit	*u = w->arg;

	if (u->task != NULL)
		task_wake(u->task);
}

static void
sv_host_init(struct supervisor *sv)
{
	sv->host.output = host_output;
	sv->host.put = host_put;
	sv->host.get = host_get;
	sv->host.start = host_start;
	sv->host.cancel = host_cancel;
	sv->host.restart = host_restart;
	sv->host.signal = host_signal;
	sv->host.wait = host_wait;
	sv->host.unwait = host_unwait;
	sv->host.ended = host_ended;
}

/* -------------------------------------------------- start and stop */

static void
sv_signal_cb(uv_signal_t *h, int signum)
{
	struct supervisor	*sv = h->data;
	size_t			 i;

	if (signum == SIGINT && ++sv->interrupts >= 2) {
		log_info("second interrupt: killing everything now");
		for (i = 0; i < sv->nunits; i++)
			if (sv->units[i]->proc != NULL)
				proc_kill_now(sv->units[i]->proc);
		sv->killed_at_stop = 1;
	}
	if (!sv->shutting_down) {
		char	name[16];

		log_info("received SIG%s: stopping",
		    util_signal_name(signum, name, sizeof name));
		supervisor_shutdown(sv);
	}
}

int
supervisor_start(struct supervisor *sv)
{
	static const int	 signals[] = { SIGTERM, SIGINT, SIGHUP };
	size_t			 i;
	int			 error;

	for (i = 0; i < sizeof signals / sizeof signals[0]; i++) {
		if ((error = uv_signal_init(sv->loop, &sv->sigs[i])) != 0)
			return error;
		sv->sigs[i].data = sv;
		sv->nsigs++;
		if ((error = uv_signal_start(&sv->sigs[i], sv_signal_cb,
		    signals[i])) != 0)
			return error;
	}
	/* Count every autostart producer live before anyone can see EOS. */
	for (i = 0; i < sv->nunits; i++) {
		struct unit	*u = sv->units[i];
		int		 autostart = u->ps != NULL ? u->ps->autostart :
				    u->ts->autostart;

		if (autostart)
			unit_start(u, NULL, 0);
	}
	wire_open(sv->wire);
	sv_maybe_done(sv);
	return 0;
}

/* Does this unit read from a queue (so it stops after its producers)? */
static int
unit_is_consumer(const struct unit *u)
{
	return u->stdin_wq != NULL;
}

static void
sv_drain_timer_cb(uv_timer_t *t)
{
	struct supervisor	*sv = t->data;
	uint64_t		 held;
	size_t			 i;

	held = wire_items_held(sv->wire);
	if (held > 0)
		log_warnx("drain timeout: %llu item%s left undelivered in "
		    "queues", (unsigned long long)held, held == 1 ? "" : "s");
	for (i = 0; i < sv->nunits; i++)
		unit_stop(sv->units[i]);
}

void
supervisor_shutdown(struct supervisor *sv)
{
	size_t	i;

	if (sv->shutting_down)
		return;
	sv->shutting_down = 1;
	/*
	 * Data-flow order: producers and tasks stop now. Consumers keep
	 * running: their queues drain into them, their stdin closes at the
	 * end of the stream and most exit by themselves (wc prints its
	 * count). Whoever is still running at the drain timeout is stopped.
	 */
	for (i = 0; i < sv->nunits; i++)
		if (!unit_is_consumer(sv->units[i]))
			unit_stop(sv->units[i]);
	if (!sv->done && uv_timer_start(&sv->drain_timer, sv_drain_timer_cb,
	    sv->m->drain_timeout_ms, 0) != 0)
		fatalx("uv_timer_start failed");
	sv_maybe_done(sv);
}

/* Nothing running or waiting to restart: let the loop end. */
static void
sv_maybe_done(struct supervisor *sv)
{
	size_t	i;

	if (sv->done)
		return;
	for (i = 0; i < sv->nunits; i++)
		if (unit_is_active(sv->units[i]))
			return;
	sv->done = 1;
	for (i = 0; i < sv->nsigs; i++)
		(void)uv_signal_stop(&sv->sigs[i]);
	(void)uv_timer_stop(&sv->drain_timer);
}

int
supervisor_exit_status(const struct supervisor *sv)
{
	size_t	i;

	if (sv->killed_at_stop)
		return 1;
	for (i = 0; i < sv->nunits; i++)
		if (sv->units[i]->state == UNIT_FAILED)
			return 1;
	return 0;
}

void
supervisor_report(const struct supervisor *sv)
{
	wire_print_counters(sv->wire, stderr);
}

void
supervisor_free(struct supervisor *sv)
{
	struct unit	*u;
	size_t		 i;

	if (sv == NULL)
		return;
	for (i = 0; i < sv->nunits; i++) {
		u = sv->units[i];
		host_unwait(u);
		if (u->task != NULL) {
			task_free(u->task);
			u->task = NULL;
		}
		outlet_free(u->out, 1);
		outlet_free(u->err, 1);
		inlet_free(u->in);
		proc_free(u->proc);
		if (u->task_fd != -1)
			(void)close(u->task_fd);
		uv_close((uv_handle_t *)&u->timer, unit_timer_close_cb);
	}
	free(sv->units);
	for (i = 0; i < sv->nsigs; i++)
		uv_close((uv_handle_t *)&sv->sigs[i], NULL);
	uv_close((uv_handle_t *)&sv->drain_timer, NULL);
	wire_free(sv->wire);
	free(sv);
}
