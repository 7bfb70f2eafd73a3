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
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "chainload.h"
#include "log.h"
#include "logring.h"
#include "notify.h"
#include "proc.h"
#include "ready.h"
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
	TIMER_READY,	/* ready_timeout of a run not ready yet */
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
	struct filesink		**sinks;	/* a task's file: outputs */
	size_t			 nsinks;
	struct wq_waiter	 qwaiter;	/* task blocked on a queue */
	struct unit		*waiting_on;	/* task blocked in "wait" */

	/* Readiness of the current run, and what dependents look at. */
	int			 ever_started;
	int			 ever_ready;
	int			 is_ready;
	regex_t			 ready_re;
	int			 has_ready_re;
	struct outlet		*ready_fd;	/* the ready: {fd: N} pipe */
	struct probe		*probe;		/* exec, tcp, http */

	uv_timer_t		 timer;
	enum timer_use		 timer_use;
	struct unit_waiters	 waiters;	/* tasks in "wait" on us */
	TAILQ_ENTRY(unit)	 wait_entry;

	/* Control: recent console output, followers, life changes. */
	struct logring		 log;
	struct follower		*followers;
	int			 removing;	/* forget it once it ended */
	struct manifest		*own;		/* added by ctl: its spec's home */
	char			*spawn_error;	/* why the last spawn failed */
	int			 respec;	/* reload: restart with next_* */
	const struct proc_spec	*next_ps;
	const struct task_spec	*next_ts;
};

/* Someone following a unit's output ("ctl logs -f"). */
struct follower {
	struct follower	 *next;
	struct unit	 *unit;
	void		(*fn)(const char *, const char *, size_t, void *);
	void		 *arg;
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
	int			 drain_expired;
	int			 has_deps;	/* any unit has depends_on */
	int			 checking;	/* in sv_check_waiting */
	int			 recheck;
	int			 closing;	/* handles left to close */
	int			 started;	/* supervisor_start is over */
	int			 notified_ready;	/* READY=1 sent */
	int			 stepping;	/* in sv_shutdown_step */
	int			 restep;
	int			 interrupts;	/* SIGINTs seen */
	int			 done;
	int			 killed_at_stop;
	uint32_t		 rnd;
	struct task_host	 host;
	int			 keep;		/* --keep: stay up when idle */
	char			*socket_path;	/* PYTASKING_SOCKET for children */
	struct guard		*guard;		/* told of each group; or NULL */
	supervisor_loader	 loader;
	void			*loader_arg;
	struct manifest		**old;		/* replaced by reloads; kept */
	size_t			 nold;
};

static void	unit_spawn(struct unit *);
static void	unit_run_end(struct unit *);
static void	unit_end_for_good(struct unit *);
static void	unit_stop(struct unit *);
static void	unit_start(struct unit *, char **, size_t);
static void	sv_maybe_done(struct supervisor *);
static void	sv_forget_unit(struct supervisor *, struct unit *);
static void	sv_gc_manifests(struct supervisor *);
static void	unit_apply_spec(struct unit *, const struct proc_spec *,
		    const struct task_spec *);
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
	    u->state == UNIT_STOPPING || u->state == UNIT_WAITING;
}

static void	sv_check_waiting(struct supervisor *);
static void	sv_shutdown_step(struct supervisor *);
static void	unit_timer_start(struct unit *, enum timer_use, uint64_t);
static void	unit_timer_stop(struct unit *);
static void	unit_ready_line_cb(void *, const char *, size_t);
static void	sv_maybe_notify_ready(struct supervisor *);

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
	logring_release(&u->log);
	manifest_free(u->own);
	free(u->spawn_error);
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
	u->state = UNIT_IDLE;
	logring_init(&u->log, LOGRING_DEFAULT_SIZE);
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

/* The instances of a process spec: NAME, or NAME.1 ... NAME.N. */
static void
sv_add_proc_units(struct supervisor *sv, const struct proc_spec *ps)
{
	struct unit	*u;
	char		*name;
	unsigned	 r;

	for (r = 1; r <= ps->replicas; r++) {
		if (ps->replicas > 1) {
			name = xasprintf("%s.%u", ps->name, r);
			u = sv_add_unit(sv, name, ps->name);
			free(name);
		} else
			u = sv_add_unit(sv, ps->name, ps->name);
		unit_apply_spec(u, ps, NULL);
	}
}

struct supervisor *
supervisor_new(uv_loop_t *loop, const struct manifest *m)
{
	struct supervisor	*sv;
	const struct task_spec	*ts;
	struct unit		*u;
	size_t			 i;

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
	for (i = 0; i < m->nprocs; i++)
		sv_add_proc_units(sv, &m->procs[i]);
	for (i = 0; i < m->ntasks; i++) {
		ts = &m->tasks[i];
		u = sv_add_unit(sv, ts->name, ts->name);
		unit_apply_spec(u, NULL, ts);
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
		snprintf(what, sizeof what, u->ps != NULL ? "stopped" :
		    "cancelled");
		break;
	case END_STOP_KILLED:
		if (u->ps == NULL) {
			util_format_duration(u->ts->cancel_timeout_ms, tmo,
			    sizeof tmo);
			snprintf(what, sizeof what, "cancelled; on_cancel cut "
			    "short after its %s cancel timeout", tmo);
			break;
		}
		util_format_duration(u->ps->stop_timeout_ms, tmo, sizeof tmo);
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

static void	unit_outlet_eof(void *);

/*
 * Keep what a unit shows on the console for "ctl logs", and pass it to
 * followers: one line, without its newline.
 */
static void
unit_console_cb(void *arg, const char *line, size_t len)
{
	struct unit	*u = arg;
	struct follower	*f, *next;

	logring_add(&u->log, line, len);
	logring_add(&u->log, "\n", 1);
	for (f = u->followers; f != NULL; f = next) {
		next = f->next;
		f->fn(u->name, line, len, f->arg);
	}
}

static int
unit_open_output(struct unit *u, const struct output *o, int console_fd,
    struct outlet **outlet)
{
	int	watch = u->has_ready_re;

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
	free(u->spawn_error);
	u->spawn_error = xstrdup(why);
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
	if (u->out != NULL)
		outlet_set_line_fn(u->out, NULL);
	if (u->err != NULL)
		outlet_set_line_fn(u->err, NULL);
	if (u->probe != NULL) {
		probe_free(u->probe);
		u->probe = NULL;
	}
	if (u->ps != NULL && u->ps->ready.kind != READY_NONE)
		log_info("%s: ready", u->name);
	sv_check_waiting(u->sv);
	sv_maybe_notify_ready(u->sv);
}

static void
unit_ready_line_cb(void *arg, const char *line, size_t len)
{
	struct unit	*u = arg;
	char		*s;

	if (u->is_ready || !u->has_ready_re)
		return;
	/* regexec wants a C string; lines may hold NUL: match up to it. */
	s = xstrndup(line, len);
	if (regexec(&u->ready_re, s, 0, NULL, 0) == 0)
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
	u->ready_fd = outlet_new(u->sv->wire, &c);
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
		u->probe = probe_start(u->sv->loop, r, env, u->name,
		    unit_probe_cb, u);
		break;
	default:
		break;
	}
	if (!u->is_ready && r->timeout_ms > 0)
		unit_timer_start(u, TIMER_READY, r->timeout_ms);
}

/* Run-end clean-up of readiness. */
static void
unit_unwatch_ready(struct unit *u)
{
	if (u->has_ready_re) {
		regfree(&u->ready_re);
		u->has_ready_re = 0;
	}
	if (u->probe != NULL) {
		probe_free(u->probe);
		u->probe = NULL;
	}
	if (u->ready_fd != NULL) {
		outlet_free(u->ready_fd, 0);
		u->ready_fd = NULL;
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
	if (u->ps->ready.kind == READY_LINE && regcomp(&u->ready_re,
	    u->ps->ready.regex, REG_EXTENDED | REG_NOSUB) == 0)
		u->has_ready_re = 1;
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
		u->in = inlet_new(u->sv->wire, p[1],
		    fcntl(p[0], F_DUPFD_CLOEXEC, 3), u->stdin_wq, u->stdin_sub);
	} else
		a.fds[0] = sv_open_devnull(O_RDONLY);
	a.fds[1] = unit_open_output(u, &u->ps->out, STDOUT_FILENO, &u->out);
	a.fds[2] = unit_open_output(u, &u->ps->err, STDERR_FILENO, &u->err);
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
	error = proc_spawn(u->sv->loop, &a, &u->proc);
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
	log_info("%s: started (pid %ld)", u->name, (long)proc_pid(u->proc));
	unit_watch_ready(u, env);
	sv_free_env(env);
	sv_check_waiting(u->sv);
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
	else if (use == TIMER_READY && u->proc != NULL &&
	    !proc_has_exited(u->proc)) {
		char	d[32];

		util_format_duration(u->ps->ready.timeout_ms, d, sizeof d);
		log_warnx("%s: not ready after %s: stopping it", u->name, d);
		/* Not a stop we were asked for: the run ends as a failure. */
		(void)proc_stop(u->proc, u->ps->stop_signal,
		    u->ps->stop_timeout_ms);
	}
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
	u->task = task_new(u->sv->loop, u->ts, &u->sv->host, u, u->args,
	    u->nargs);
	u->state = UNIT_RUNNING;
	u->started_ms = uv_now(u->sv->loop);
	u->stop_requested = 0;
	u->ever_started = 1;
	log_info("%s: started", u->name);
	task_start(u->task);
	/* A task is ready once started. */
	unit_ready(u);
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

static const struct dep *
unit_deps(const struct unit *u, size_t *n)
{
	if (u->ps != NULL) {
		*n = u->ps->ndeps;
		return u->ps->deps;
	}
	*n = u->ts->ndeps;
	return u->ts->deps;
}

static size_t
unit_ndeps(const struct unit *u)
{
	size_t	n;

	(void)unit_deps(u, &n);
	return n;
}

/* Start the dependencies of u that were never started. */
static void
unit_start_deps(struct unit *u)
{
	struct supervisor	*sv = u->sv;
	const struct dep	*deps;
	size_t			 n, d, first, k, i;

	deps = unit_deps(u, &n);
	for (d = 0; d < n; d++) {
		k = sv_find_units(sv, deps[d].name, &first);
		for (i = first; i < first + k; i++)
			if (sv->units[i]->state == UNIT_IDLE)
				unit_start(sv->units[i], NULL, 0);
	}
}

/* 1: the condition holds for every instance; 0: not yet; -1: never will. */
static int
dep_holds(struct supervisor *sv, const struct dep *d)
{
	struct unit	*t;
	size_t		 first, k, i;
	int		 result = 1, ended;

	k = sv_find_units(sv, d->name, &first);
	for (i = first; i < first + k; i++) {
		t = sv->units[i];
		ended = t->state == UNIT_EXITED || t->state == UNIT_FAILED;
		switch (d->cond) {
		case DEP_STARTED:
			if (t->ever_started)
				continue;
			break;
		case DEP_READY:
			if (t->is_ready || (ended && t->ever_ready &&
			    t->state == UNIT_EXITED))
				continue;
			break;
		case DEP_SUCCEEDED:
			if (t->state == UNIT_EXITED && t->has_ended &&
			    t->last_end == END_SUCCEEDED)
				continue;
			break;
		}
		if (ended || t->state == UNIT_FAILED)
			return -1;
		result = 0;
	}
	return result;
}

static const char *
dep_cond_name(enum dep_cond c)
{
	return c == DEP_STARTED ? "started" : c == DEP_READY ? "ready" :
	    "succeeded";
}

/* Start the waiting units whose dependencies hold; fail the hopeless. */
static void
sv_check_one(struct unit *u)
{
	const struct dep	*deps;
	size_t			 n, i;
	int			 r, all = 1;

	deps = unit_deps(u, &n);
	for (i = 0; i < n; i++) {
		if ((r = dep_holds(u->sv, &deps[i])) == 1)
			continue;
		if (r == -1) {
			log_warnx("%s: not started: dependency %s can no longer "
			    "be %s", u->name, deps[i].name,
			    dep_cond_name(deps[i].cond));
			u->failed = 1;
			u->has_ended = 0;
			unit_end_for_good(u);
			return;
		}
		all = 0;
	}
	if (all)
		unit_spawn(u);
}

/*
 * Run pass over the units until one runs through without being asked
 * again. A pass may end units, which asks for the same pass again from
 * inside it: that only sets *again, so passes never nest.
 */
static void
sv_repeat(struct supervisor *sv, int *busy, int *again,
    void (*pass)(struct supervisor *))
{
	if (*busy) {
		*again = 1;
		return;
	}
	*busy = 1;
	do {
		*again = 0;
		pass(sv);
	} while (*again);
	*busy = 0;
}

static void
sv_check_pass(struct supervisor *sv)
{
	size_t	i;

	for (i = 0; i < sv->nunits; i++)
		if (sv->units[i]->state == UNIT_WAITING && !sv->shutting_down)
			sv_check_one(sv->units[i]);
}

/* Called whenever a unit starts, gets ready or ends. */
static void
sv_check_waiting(struct supervisor *sv)
{
	if (sv->has_deps)
		sv_repeat(sv, &sv->checking, &sv->recheck, sv_check_pass);
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
	if (unit_ndeps(u) == 0) {
		unit_spawn(u);
		return;
	}
	/* Dependencies first: those not started yet are started now. */
	u->state = UNIT_WAITING;
	unit_start_deps(u);
	sv_check_waiting(u->sv);
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
	if (u->removing) {
		sv_forget_unit(u->sv, u);
		return;
	}
	if (u->respec && !u->sv->shutting_down) {
		unit_apply_spec(u, u->next_ps, u->next_ts);
		u->respec = 0;
		u->next_ps = NULL;
		u->next_ts = NULL;
		sv_gc_manifests(u->sv);
		u->restart_requested = 0;
		unit_start(u, NULL, 0);
		return;
	}
	if (u->restart_requested && !u->sv->shutting_down) {
		u->restart_requested = 0;
		unit_start(u, u->args, 0);
		return;
	}
	u->restart_requested = 0;
	sv_check_waiting(u->sv);
	sv_maybe_notify_ready(u->sv);
	sv_shutdown_step(u->sv);
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
	unit_unwatch_ready(u);
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
	case UNIT_WAITING:
		log_info("%s: stopped before its dependencies were met", u->name);
		u->failed = 0;
		unit_end_for_good(u);
		return;
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
			unit_console_cb(u, line, len);
			break;
		case DEST_FILE:
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
	if (u->nsinks > 0) {
		buf_init(&b);
		buf_add(&b, line, len);
		buf_addc(&b, '\n');
		for (i = 0; i < u->nsinks; i++)
			(void)filesink_write(u->sinks[i], buf_ptr(&b),
			    buf_used(&b));
		buf_release(&b);
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
	struct unit	*u = arg, *t;
	size_t		 first, n, i;

	if (host_units(u, name, &first, &n, cause) == -1)
		return -1;
	for (i = first; i < first + n; i++) {
		t = u->sv->units[i];
		if (unit_is_active(t))
			continue;
		free(t->spawn_error);
		t->spawn_error = NULL;
		unit_start(t, args, nargs);
		/* A spawn that failed at once fails the step that asked. */
		if (t->spawn_error != NULL) {
			*cause = xasprintf("%s could not be started: %s",
			    t->name, t->spawn_error);
			return -1;
		}
	}
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
	/* Cancelled and failed: on_cancel had to be cut short. */
	x.stop_escalated = cancelled && failed;
	if (failed && !cancelled && status == 0)
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

	if (signum == SIGUSR1) {
		size_t	j;

		log_info("received SIGUSR1: reopening output files");
		wire_reopen_files(sv->wire);
		for (i = 0; i < sv->nunits; i++)
			for (j = 0; j < sv->units[i]->nsinks; j++)
				(void)filesink_reopen(sv->units[i]->sinks[j]);
		return;
	}
	if (signum == SIGHUP) {
		char	*cause = NULL;

		log_info("received SIGHUP: reloading");
		if (supervisor_reload(sv, &cause) == -1) {
			log_warnx("reload refused, everything keeps running: %s",
			    cause);
			free(cause);
		}
		return;
	}
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
	static const int	 signals[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };
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
	sv->started = 1;
	sv_maybe_notify_ready(sv);
	sv_maybe_done(sv);
	return 0;
}

/* Does this unit read from a queue (so it stops after its producers)? */
static int
unit_is_consumer(const struct unit *u)
{
	return u->stdin_wq != NULL;
}

/* Is any active unit depending on u (so u must wait to stop)? */
static int
unit_has_active_dependents(const struct unit *u)
{
	struct supervisor	*sv = u->sv;
	const struct dep	*deps;
	size_t			 i, n, d;

	for (i = 0; i < sv->nunits; i++) {
		if (!unit_is_active(sv->units[i]) || sv->units[i] == u)
			continue;
		deps = unit_deps(sv->units[i], &n);
		for (d = 0; d < n; d++)
			if (strcmp(deps[d].name, u->base) == 0)
				return 1;
	}
	return 0;
}

/*
 * One step of the shutdown order. Data flow: producers and tasks stop
 * at once; consumers keep running while their queues drain into them,
 * their stdin closes at the end of the stream and most exit by
 * themselves (wc prints its count); whoever still runs at the drain
 * timeout is stopped. Dependencies: a unit stops only after the units
 * that depend on it have ended. Called again whenever a unit ends.
 */
static void
sv_shutdown_pass(struct supervisor *sv)
{
	struct unit	*u;
	size_t		 i;

	for (i = 0; i < sv->nunits; i++) {
		u = sv->units[i];
		if (u->state == UNIT_WAITING || u->state == UNIT_BACKOFF) {
			unit_stop(u);
			continue;
		}
		if (u->state != UNIT_RUNNING)
			continue;
		if (unit_is_consumer(u) && !sv->drain_expired)
			continue;
		if (sv->has_deps && unit_has_active_dependents(u))
			continue;
		unit_stop(u);
	}
}

static void
sv_shutdown_step(struct supervisor *sv)
{
	if (sv->shutting_down)
		sv_repeat(sv, &sv->stepping, &sv->restep, sv_shutdown_pass);
}

static void
sv_drain_timer_cb(uv_timer_t *t)
{
	struct supervisor	*sv = t->data;
	uint64_t		 held;

	held = wire_items_held(sv->wire);
	if (held > 0)
		log_warnx("drain timeout: %llu item%s left undelivered in "
		    "queues", (unsigned long long)held, held == 1 ? "" : "s");
	sv->drain_expired = 1;
	sv_shutdown_step(sv);
}

void
supervisor_shutdown(struct supervisor *sv)
{
	if (sv->shutting_down)
		return;
	sv->shutting_down = 1;
	/* Redis queues fetch no more; what is here drains as usual. */
	wire_shutdown(sv->wire);
	if (notify_send("STOPPING=1") == -1)
		log_warn("sd_notify STOPPING=1");
	if (!sv->done && uv_timer_start(&sv->drain_timer, sv_drain_timer_cb,
	    sv->m->drain_timeout_ms, 0) != 0)
		fatalx("uv_timer_start failed");
	sv_shutdown_step(sv);
	sv_maybe_done(sv);
}

/*
 * READY=1 for a service manager, once: every autostart unit has started,
 * and those with ready: are ready (or have ended).
 */
static void
sv_maybe_notify_ready(struct supervisor *sv)
{
	struct unit	*u;
	size_t		 i;

	if (sv->notified_ready || !sv->started || sv->shutting_down)
		return;
	for (i = 0; i < sv->nunits; i++) {
		u = sv->units[i];
		if (u->state == UNIT_WAITING)
			return;
		if (u->state == UNIT_RUNNING && !u->is_ready)
			return;
	}
	sv->notified_ready = 1;
	if (notify_send("READY=1") == -1)
		log_warn("sd_notify READY=1");
}

/* Nothing running or waiting to restart: let the loop end. */
static void
sv_maybe_done(struct supervisor *sv)
{
	size_t	i;

	if (sv->done || (sv->keep && !sv->shutting_down))
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

static void
sv_handle_close_cb(uv_handle_t *h)
{
	struct supervisor	*sv = h->data;

	if (--sv->closing == 0)
		free(sv);
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
		unit_close_sinks(u);
		uv_close((uv_handle_t *)&u->timer, unit_timer_close_cb);
	}
	free(sv->units);
	for (i = 0; i < sv->nold; i++)
		manifest_free(sv->old[i]);
	free(sv->old);
	free(sv->socket_path);
	wire_free(sv->wire);
	/* The struct embeds these handles: it goes with the last close. */
	sv->closing = (int)sv->nsigs + 1;
	for (i = 0; i < sv->nsigs; i++)
		uv_close((uv_handle_t *)&sv->sigs[i], sv_handle_close_cb);
	uv_close((uv_handle_t *)&sv->drain_timer, sv_handle_close_cb);
}

/* ------------------------------------------------------- control */

void
supervisor_set_keep(struct supervisor *sv, int keep)
{
	sv->keep = keep;
}

void
supervisor_set_socket(struct supervisor *sv, const char *path)
{
	free(sv->socket_path);
	sv->socket_path = path != NULL ? xstrdup(path) : NULL;
}

void
supervisor_set_guard(struct supervisor *sv, struct guard *g)
{
	sv->guard = g;
}

static const char *
unit_end_name(enum unit_end end)
{
	switch (end) {
	case END_SUCCEEDED:
		return "succeeded";
	case END_FAILED:
		return "failed";
	case END_KILLED:
		return "killed";
	case END_SPAWN_FAILED:
		return "spawn-failed";
	case END_STOPPED:
		return "stopped";
	case END_STOP_KILLED:
		return "stop-killed";
	}
	return "unknown";
}

static void
unit_info(const struct unit *u, struct sv_unit_info *i)
{
	memset(i, 0, sizeof *i);
	snprintf(i->kind, sizeof i->kind, "%s", u->ps != NULL ? "process" :
	    "task");
	i->name = u->name;
	i->state = unit_state_name(u->state);
	if (u->proc != NULL && !proc_has_exited(u->proc))
		i->pid = (long)proc_pid(u->proc);
	i->restarts = u->hist.restarts;
	if (u->state == UNIT_RUNNING || u->state == UNIT_STOPPING)
		i->uptime_ms = uv_now(u->sv->loop) - u->started_ms;
	i->has_ended = u->has_ended;
	i->last_end = u->has_ended ? unit_end_name(u->last_end) : "";
	i->last_status = u->last_status;
}

size_t
supervisor_list(struct supervisor *sv, struct sv_unit_info **out)
{
	size_t	i, n = 0;

	*out = xcalloc(sv->nunits + 1, sizeof **out);
	for (i = 0; i < sv->nunits; i++)
		if (!sv->units[i]->removing)
			unit_info(sv->units[i], &(*out)[n++]);
	return n;
}

/* Find the instances a control command names, or say why not. */
static int
sv_ctl_units(struct supervisor *sv, const char *name, size_t *first,
    size_t *n, char **cause)
{
	if (name == NULL || (*n = sv_find_units(sv, name, first)) == 0) {
		*cause = xasprintf("no such unit: %s", name != NULL ? name : "");
		return -1;
	}
	return 0;
}

int
supervisor_status(struct supervisor *sv, const char *name,
    struct sv_unit_info **out, size_t *n, char **cause)
{
	size_t	first, i;

	*out = NULL;
	if (sv_ctl_units(sv, name, &first, n, cause) == -1)
		return -1;
	*out = xcalloc(*n, sizeof **out);
	for (i = 0; i < *n; i++)
		unit_info(sv->units[first + i], &(*out)[i]);
	return 0;
}

int
supervisor_start_unit(struct supervisor *sv, const char *name, char **cause)
{
	size_t	first, n, i;

	if (sv->shutting_down) {
		*cause = xstrdup("the supervisor is shutting down");
		return -1;
	}
	if (sv_ctl_units(sv, name, &first, &n, cause) == -1)
		return -1;
	sv->done = 0;
	for (i = first; i < first + n; i++)
		unit_start(sv->units[i], NULL, 0);
	return 0;
}

int
supervisor_stop_unit(struct supervisor *sv, const char *name, char **cause)
{
	size_t	first, n, i;

	if (sv_ctl_units(sv, name, &first, &n, cause) == -1)
		return -1;
	for (i = first; i < first + n; i++) {
		sv->units[i]->restart_requested = 0;
		unit_stop(sv->units[i]);
	}
	return 0;
}

int
supervisor_restart_unit(struct supervisor *sv, const char *name,
    char **cause)
{
	struct unit	*u;
	size_t		 first, n, i;

	if (sv->shutting_down) {
		*cause = xstrdup("the supervisor is shutting down");
		return -1;
	}
	if (sv_ctl_units(sv, name, &first, &n, cause) == -1)
		return -1;
	for (i = first; i < first + n; i++) {
		u = sv->units[i];
		if (unit_is_active(u)) {
			u->restart_requested = 1;
			unit_stop(u);
		} else
			unit_start(u, u->args, u->nargs);
	}
	return 0;
}

int
supervisor_signal_unit(struct supervisor *sv, const char *name, int sig,
    char **cause)
{
	size_t	first, n;

	if (sv_ctl_units(sv, name, &first, &n, cause) == -1)
		return -1;
	/* The task host's signal does the same checks for any caller. */
	return host_signal(sv->units[first], name, sig, cause);
}

/* Is a name free for a new unit? */
static int
sv_name_free(struct supervisor *sv, const char *name, char **cause)
{
	size_t	first;

	if (!util_is_valid_name(name)) {
		*cause = xasprintf("invalid unit name \"%s\" (letters, digits, "
		    "_, . and - only)", name);
		return -1;
	}
	if (sv_find_units(sv, name, &first) > 0 &&
	    !sv->units[first]->removing) {
		*cause = xasprintf("a unit named %s exists already", name);
		return -1;
	}
	return 0;
}

static int
sv_check_queue(struct supervisor *sv, const char *q, char **cause)
{
	if (q != NULL && wire_find_queue(sv->wire, q) == NULL) {
		*cause = xasprintf("no such queue: %s", q);
		return -1;
	}
	return 0;
}

/* One output destination: a queue, or inherit. */
static void
sv_output_one(struct output *o, const char *queue)
{
	o->dests = xcalloc(1, sizeof *o->dests);
	o->ndests = 1;
	if (queue != NULL) {
		o->dests[0].kind = DEST_QUEUE;
		o->dests[0].name = xstrdup(queue);
	} else
		o->dests[0].kind = DEST_INHERIT;
}

static void
sv_restart_defaults(struct restart_spec *rs, enum restart_policy p)
{
	rs->policy = p;
	rs->backoff.initial_ms = MANIFEST_DEFAULT_BACKOFF_INITIAL_MS;
	rs->backoff.max_ms = MANIFEST_DEFAULT_BACKOFF_MAX_MS;
	rs->max_restarts = MANIFEST_UNLIMITED;
}

/* A new unit instance for a spec of its own manifest, started now. */
static struct unit *
sv_adopt(struct supervisor *sv, struct manifest *own)
{
	struct unit	*u;

	if (own->nprocs > 0) {
		u = sv_add_unit(sv, own->procs[0].name, own->procs[0].name);
		unit_apply_spec(u, &own->procs[0], NULL);
	} else {
		u = sv_add_unit(sv, own->tasks[0].name, own->tasks[0].name);
		unit_apply_spec(u, NULL, &own->tasks[0]);
	}
	u->own = own;
	sv->done = 0;
	unit_start(u, NULL, 0);
	return u;
}

int
supervisor_add_proc(struct supervisor *sv, const struct sv_proc_add *a,
    char **cause)
{
	struct manifest		*own;
	struct proc_spec	*ps;
	size_t			 n;

	if (sv->shutting_down) {
		*cause = xstrdup("the supervisor is shutting down");
		return -1;
	}
	if (sv_name_free(sv, a->name, cause) == -1 ||
	    sv_check_queue(sv, a->stdin_queue, cause) == -1 ||
	    sv_check_queue(sv, a->stdout_queue, cause) == -1)
		return -1;
	if (a->argv == NULL || a->argv[0] == NULL) {
		*cause = xstrdup("add proc: no command given after --");
		return -1;
	}
	own = manifest_new("ctl");
	own->procs = ps = xcalloc(1, sizeof *ps);
	own->nprocs = 1;
	ps->name = xstrdup(a->name);
	for (n = 0; a->argv[n] != NULL; n++)
		;
	ps->argv = xcalloc(n + 1, sizeof *ps->argv);
	for (ps->argc = 0; ps->argc < n; ps->argc++)
		ps->argv[ps->argc] = xstrdup(a->argv[ps->argc]);
	ps->autostart = 1;
	sv_restart_defaults(&ps->restart, a->restart);
	ps->stop_signal = SIGTERM;
	ps->stop_timeout_ms = MANIFEST_DEFAULT_STOP_TIMEOUT_MS;
	sv_output_one(&ps->out, a->stdout_queue);
	sv_output_one(&ps->err, NULL);
	if (a->stdin_queue != NULL)
		ps->stdin_queue = xstrdup(a->stdin_queue);
	ps->replicas = 1;
	ps->umask = -1;
	(void)sv_adopt(sv, own);
	return 0;
}

struct sv_refcheck {
	struct supervisor	*sv;
	struct diag		*d;
};

/* A step of a task added by ctl names a queue or unit: it must exist. */
static void
sv_check_ref_cb(const char *name, int is_queue, size_t line, size_t col,
    void *arg)
{
	struct sv_refcheck	*rc = arg;
	size_t			 first;

	if (is_queue && wire_find_queue(rc->sv->wire, name) == NULL)
		diag_error(rc->d, line, col, "no such queue: %s", name);
	if (!is_queue && sv_find_units(rc->sv, name, &first) == 0)
		diag_error(rc->d, line, col, "no such unit: %s", name);
}

int
supervisor_add_task(struct supervisor *sv, const char *name, char **steps,
    size_t nsteps, char **cause)
{
	struct manifest		*own;
	struct task_spec	*ts;
	struct sv_refcheck	 rc;
	struct diag		 d;
	struct step		*st;
	char			*path;
	size_t			 i;

	if (sv->shutting_down) {
		*cause = xstrdup("the supervisor is shutting down");
		return -1;
	}
	if (sv_name_free(sv, name, cause) == -1)
		return -1;
	if (nsteps == 0) {
		*cause = xstrdup("add task: no step given after --");
		return -1;
	}
	own = manifest_new("ctl");
	own->tasks = ts = xcalloc(1, sizeof *ts);
	own->ntasks = 1;
	ts->name = xstrdup(name);
	ts->run = script_new();
	ts->autostart = 1;
	sv_restart_defaults(&ts->restart, RESTART_NEVER);
	ts->cancel_timeout_ms = MANIFEST_DEFAULT_CANCEL_TIMEOUT_MS;
	sv_output_one(&ts->out, NULL);
	diag_init(&d, "ctl");
	for (i = 0; i < nsteps; i++) {
		st = script_add_step(ts->run);
		path = xasprintf("step %zu", i + 1);
		(void)script_parse_command(steps[i], 0, 1, path, &d, st);
		free(path);
	}
	/* Queue and unit names in steps must exist, as in a manifest. */
	rc.sv = sv;
	rc.d = &d;
	if (!diag_has_errors(&d))
		script_walk_refs(ts->run, sv_check_ref_cb, &rc);
	if (diag_has_errors(&d)) {
		*cause = xstrdup(d.items[0].msg);
		diag_release(&d);
		manifest_free(own);
		return -1;
	}
	diag_release(&d);
	(void)sv_adopt(sv, own);
	return 0;
}

int
supervisor_remove_unit(struct supervisor *sv, const char *name,
    char **cause)
{
	struct unit	*u;
	size_t		 first, n, i;

	if (sv_ctl_units(sv, name, &first, &n, cause) == -1)
		return -1;
	/* Mark all first: forgetting shifts the array. */
	for (i = first; i < first + n; i++)
		sv->units[i]->removing = 1;
	for (i = 0; i < sv->nunits; i++) {
		u = sv->units[i];
		if (!u->removing)
			continue;
		if (unit_is_active(u)) {
			unit_stop(u);
			continue;
		}
		sv_forget_unit(sv, u);
		i--;
	}
	return 0;
}

struct wqueue *
supervisor_queue(struct supervisor *sv, const char *name)
{
	return wire_find_queue(sv->wire, name);
}

size_t
supervisor_queues(struct supervisor *sv, struct wqueue ***out)
{
	return wire_queues(sv->wire, out);
}

struct sv_lines_arg {
	const char	*unit;
	size_t		 skip;
	void		(*fn)(const char *, const char *, size_t, void *);
	void		*arg;
};

static void
sv_log_line_cb(const char *line, size_t len, void *arg)
{
	struct sv_lines_arg	*a = arg;

	if (len >= a->skip)
		a->fn(a->unit, line + a->skip, len - a->skip, a->arg);
}

int
supervisor_logs(struct supervisor *sv, const char *name,
    void (*fn)(const char *, const char *, size_t, void *), void *arg,
    char **cause)
{
	struct sv_lines_arg	 a;
	struct unit		*u;
	size_t			 first, n, i;

	if (sv_ctl_units(sv, name, &first, &n, cause) == -1)
		return -1;
	for (i = first; i < first + n; i++) {
		u = sv->units[i];
		a.unit = u->name;
		a.skip = 0;
		a.fn = fn;
		a.arg = arg;
		logring_lines(&u->log, sv_log_line_cb, &a);
	}
	return 0;
}

/* What supervisor_follow hands out: one follower per instance. */
struct follow_token {
	struct follower	**items;
	size_t		  n;
};

void *
supervisor_follow(struct supervisor *sv, const char *name,
    void (*fn)(const char *, const char *, size_t, void *), void *arg,
    char **cause)
{
	struct follow_token	*t;
	struct follower		*f;
	size_t			 first, n, i;

	if (sv_ctl_units(sv, name, &first, &n, cause) == -1)
		return NULL;
	t = xcalloc(1, sizeof *t);
	t->items = xcalloc(n, sizeof *t->items);
	for (i = first; i < first + n; i++) {
		f = xcalloc(1, sizeof *f);
		f->unit = sv->units[i];
		f->fn = fn;
		f->arg = arg;
		f->next = f->unit->followers;
		f->unit->followers = f;
		t->items[t->n++] = f;
	}
	return t;
}

static void
follower_unlink(struct follower *f)
{
	struct follower	**pp;

	if (f->unit == NULL)
		return;
	for (pp = &f->unit->followers; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	f->unit = NULL;
}

void
supervisor_unfollow(struct supervisor *sv, void *token)
{
	struct follow_token	*t = token;
	size_t			 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		follower_unlink(t->items[i]);
		free(t->items[i]);
	}
	free(t->items);
	free(t);
}

/* Drop an ended unit from the supervisor (ctl remove, reload). */
static void
sv_forget_unit(struct supervisor *sv, struct unit *u)
{
	struct follower	*f;
	size_t		 i;

	for (i = 0; i < sv->nunits; i++)
		if (sv->units[i] == u)
			break;
	if (i == sv->nunits)
		return;
	memmove(&sv->units[i], &sv->units[i + 1],
	    (sv->nunits - i - 1) * sizeof *sv->units);
	sv->nunits--;
	/* Followers stay valid tokens; they just hear nothing more. */
	while ((f = u->followers) != NULL) {
		u->followers = f->next;
		f->unit = NULL;
	}
	host_unwait(u);
	unit_wake_waiters(u);
	log_info("%s: removed", u->name);
	uv_close((uv_handle_t *)&u->timer, unit_timer_close_cb);
	/* Its spec may have been the last thing held of an old manifest. */
	u->ps = u->next_ps = NULL;
	u->ts = u->next_ts = NULL;
	sv_gc_manifests(sv);
	sv_maybe_done(sv);
}

/*
 * Point a unit at a (new) spec, a process's or a task's, with the queues
 * it feeds and reads. For new units and, by reload, between runs.
 */
static void
unit_apply_spec(struct unit *u, const struct proc_spec *ps,
    const struct task_spec *ts)
{
	struct supervisor	*sv = u->sv;
	size_t			 i;

	if (u->live)
		for (i = 0; i < u->nproduces; i++)
			wqueue_producer_del(u->produces[i]);
	free(u->produces);
	u->produces = NULL;
	u->nproduces = 0;
	u->ps = ps;
	u->ts = ts;
	/* The name lives in the spec: follow it to the new manifest. */
	u->base = ps != NULL ? ps->name : ts->name;
	if ((ps != NULL && ps->ndeps > 0) || (ts != NULL && ts->ndeps > 0))
		sv->has_deps = 1;
	if (ps != NULL) {
		u->rs = &ps->restart;
		unit_add_output_queues(u, &ps->out);
		unit_add_output_queues(u, &ps->err);
		u->stdin_wq = NULL;
		if (ps->stdin_queue != NULL) {
			u->stdin_wq = wire_find_queue(sv->wire, ps->stdin_queue);
			u->stdin_sub = wqueue_subscribe(u->stdin_wq);
		}
	} else {
		u->rs = &ts->restart;
		unit_add_output_queues(u, &ts->out);
		unit_scan_script(u, ts->run);
		unit_scan_script(u, ts->on_cancel);
	}
	if (u->live)
		for (i = 0; i < u->nproduces; i++)
			wqueue_producer_add(u->produces[i]);
}

void
supervisor_set_loader(struct supervisor *sv, supervisor_loader fn, void *arg)
{
	sv->loader = fn;
	sv->loader_arg = arg;
}

/* Queues may be added by a reload, never changed under running units. */
static int
sv_reload_queues(struct supervisor *sv, const struct manifest *nm,
    char **cause)
{
	const struct queue_spec	*oq;
	size_t			 i;

	for (i = 0; i < nm->nqueues; i++) {
		oq = manifest_find_queue(sv->m, nm->queues[i].name);
		if (oq != NULL && !manifest_queue_equal(oq, &nm->queues[i])) {
			*cause = xasprintf("queue %s changed: a queue's settings "
			    "change only with a restart of the supervisor",
			    oq->name);
			return -1;
		}
	}
	for (i = 0; i < nm->nqueues; i++)
		if (wire_find_queue(sv->wire, nm->queues[i].name) == NULL)
			(void)wire_add_queue(sv->wire, &nm->queues[i]);
	return 0;
}

struct reload_counts {
	size_t	added, removed, changed, kept;
};

/* Mark a unit for removal: stop it, forget it once it has ended. */
static void
sv_reload_remove(struct supervisor *sv, struct unit *u,
    struct reload_counts *c)
{
	u->removing = 1;
	c->removed++;
	if (unit_is_active(u))
		unit_stop(u);
}

/* Compare one existing unit with the new manifest and act on it. */
static void
sv_reload_unit(struct supervisor *sv, struct unit *u,
    const struct manifest *nm, struct reload_counts *c)
{
	const struct proc_spec	*nps = NULL;
	const struct task_spec	*nts = NULL;
	int			 same;

	if (u->ps != NULL)
		nps = manifest_find_proc(nm, u->base);
	else
		nts = manifest_find_task(nm, u->base);
	if (nps == NULL && nts == NULL) {
		sv_reload_remove(sv, u, c);
		return;
	}
	if (nps != NULL && nps->replicas != u->ps->replicas) {
		sv_reload_remove(sv, u, c);
		return;
	}
	same = nps != NULL ? manifest_proc_equal(u->ps, nps) :
	    manifest_task_equal(u->ts, nts);
	if (same) {
		/* Unchanged: the same run goes on, now under the new spec. */
		u->ps = nps;
		u->ts = nts;
		u->rs = nps != NULL ? &nps->restart : &nts->restart;
		u->base = nps != NULL ? nps->name : nts->name;
		c->kept++;
		return;
	}
	c->changed++;
	if (unit_is_active(u)) {
		u->respec = 1;
		u->next_ps = nps;
		u->next_ts = nts;
		unit_stop(u);
		return;
	}
	unit_apply_spec(u, nps, nts);
}

/* Does any unit (not being removed) come from this spec name? */
static int
sv_has_units(struct supervisor *sv, const char *name)
{
	size_t	i;

	for (i = 0; i < sv->nunits; i++)
		if (!sv->units[i]->removing && sv->units[i]->own == NULL &&
		    strcmp(sv->units[i]->base, name) == 0)
			return 1;
	return 0;
}

/* Units of the new manifest that do not exist yet: add, maybe start. */
static void
sv_reload_add(struct supervisor *sv, const struct manifest *nm,
    struct reload_counts *c)
{
	struct unit	*u;
	size_t		 i, j, before;

	for (i = 0; i < nm->nprocs; i++) {
		if (sv_has_units(sv, nm->procs[i].name))
			continue;
		before = sv->nunits;
		sv_add_proc_units(sv, &nm->procs[i]);
		c->added++;
		for (j = before; j < sv->nunits && nm->procs[i].autostart; j++)
			unit_start(sv->units[j], NULL, 0);
	}
	for (i = 0; i < nm->ntasks; i++) {
		if (sv_has_units(sv, nm->tasks[i].name))
			continue;
		u = sv_add_unit(sv, nm->tasks[i].name, nm->tasks[i].name);
		unit_apply_spec(u, NULL, &nm->tasks[i]);
		c->added++;
		if (nm->tasks[i].autostart)
			unit_start(u, NULL, 0);
	}
}

/* Is p one of the n elements of size sz starting at base? */
static int
sv_points_into(const void *p, const void *base, size_t n, size_t sz)
{
	const char	*c = p, *b = base;

	return p != NULL && base != NULL && c >= b && c < b + n * sz;
}

/* Does any unit still point into manifest m? */
static int
sv_manifest_in_use(struct supervisor *sv, const struct manifest *m)
{
	const struct unit	*u;
	size_t			 i, ps = sizeof *m->procs, ts = sizeof *m->tasks;

	for (i = 0; i < sv->nunits; i++) {
		u = sv->units[i];
		if (sv_points_into(u->ps, m->procs, m->nprocs, ps) ||
		    sv_points_into(u->next_ps, m->procs, m->nprocs, ps) ||
		    sv_points_into(u->ts, m->tasks, m->ntasks, ts) ||
		    sv_points_into(u->next_ts, m->tasks, m->ntasks, ts))
			return 1;
	}
	return 0;
}

/*
 * Free the manifests of earlier reloads that no unit points into any
 * more, so reloading forever does not grow. The first manifest is
 * main's; the current one is sv->m.
 */
static void
sv_gc_manifests(struct supervisor *sv)
{
	size_t	i;

	for (i = 0; i < sv->nold; i++) {
		if (sv->old[i] == sv->m || sv_manifest_in_use(sv, sv->old[i]))
			continue;
		manifest_free(sv->old[i]);
		sv->old[i] = sv->old[--sv->nold];
		i--;
	}
}

int
supervisor_reload(struct supervisor *sv, char **cause)
{
	struct manifest		*nm;
	struct reload_counts	 c;
	struct unit		*u;
	size_t			 i, n;

	if (sv->loader == NULL) {
		*cause = xstrdup("reload: this supervisor has no manifest file");
		return -1;
	}
	if (sv->shutting_down) {
		*cause = xstrdup("the supervisor is shutting down");
		return -1;
	}
	(void)notify_send("RELOADING=1");
	if ((nm = sv->loader(sv->loader_arg, cause)) == NULL) {
		(void)notify_send("READY=1");
		return -1;
	}
	if (sv_reload_queues(sv, nm, cause) == -1) {
		manifest_free(nm);
		(void)notify_send("READY=1");
		return -1;
	}
	memset(&c, 0, sizeof c);
	sv->old = xreallocarray(sv->old, sv->nold + 1, sizeof *sv->old);
	sv->old[sv->nold++] = nm;
	n = sv->nunits;
	for (i = 0; i < n; i++) {
		u = sv->units[i];
		if (!u->removing && u->own == NULL)
			sv_reload_unit(sv, u, nm, &c);
	}
	sv->m = nm;
	sv->done = 0;
	sv_reload_add(sv, nm, &c);
	/* Removed units that were not running go now (the array shifts). */
	for (i = 0; i < sv->nunits; i++) {
		u = sv->units[i];
		if (u->removing && !unit_is_active(u)) {
			sv_forget_unit(sv, u);
			i--;
		}
	}
	sv_gc_manifests(sv);
	log_info("reloaded %s: %zu added, %zu removed, %zu changed, %zu "
	    "unchanged", nm->file, c.added, c.removed, c.changed, c.kept);
	(void)notify_send("READY=1");
	sv_maybe_done(sv);
	return 0;
}
