/*
 * The supervisor: every unit instance of a manifest (processes, with
 * their replicas, and tasks), the queues between them, signals and the
 * exit status. Restart decisions come from unit.c; pipes and queues are
 * wire.c's; a task's steps are task.c's. Nothing here knows YAML.
 * This file is the core: creating and freeing it, the life cycle of units
 * (dependencies, start, end, restart, stop), start-up and shutdown. The
 * rest is in sv-*.c; they share sv-int.h.
 */
#include "config.h"

#include <sys/queue.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "proc.h"
#include "scheduler.h"
#include "supervisor.h"
#include "sv-int.h"
#include "task.h"
#include "unit.h"
#include "util.h"
#include "wire.h"
#include "xmalloc.h"

static void	unit_end_for_good(struct unit *);
static void	sv_shutdown_step(struct supervisor *);

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

int
unit_is_active(const struct unit *u)
{
	return u->state == UNIT_RUNNING || u->state == UNIT_BACKOFF ||
	    u->state == UNIT_STOPPING || u->state == UNIT_WAITING;
}

/* The restart policy of the unit's spec. */
const struct restart_spec *
unit_restart_spec(const struct unit *u)
{
	return u->ps != NULL ? &u->ps->restart : &u->ts->restart;
}

/* The unit's child process while it runs; NULL for a task or no child. */
struct proc *
unit_child(const struct unit *u)
{
	if (u->pr == NULL || u->pr->proc == NULL ||
	    proc_has_exited(u->pr->proc))
		return NULL;
	return u->pr->proc;
}

/*
 * The instances a name means: a unit's base name means all its replicas;
 * "web.2" means one. Returns the count; *first the index of the first.
 */
size_t
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
	sv->sched = sched_new(loop);
	sched_turn_init(&sv->reap, sv_reap_cb);
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
	const struct restart_spec	*rs = unit_restart_spec(u);
	char				 d[32];

	util_format_duration(delay, d, sizeof d);
	if (rs->max_restarts == MANIFEST_UNLIMITED)
		snprintf(buf, len, "; restarting in %s (restart %llu)", d,
		    (unsigned long long)u->hist.restarts);
	else
		snprintf(buf, len, "; restarting in %s (restart %llu of %llu)",
		    d, (unsigned long long)u->hist.restarts,
		    (unsigned long long)rs->max_restarts);
}

/* One line saying how a run ended and what comes next. */
static void
sv_log_end(const struct unit *u, const struct unit_verdict *v,
    const struct unit_exit *x)
{
	struct log_event	 ev;
	const char		*event;
	char			 what[128], next[96], sig[16], tmo[32];

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
	/* For the JSON log: what happened, and how it ended. */
	if (v->restart)
		event = "restarting";
	else if (v->end == END_SPAWN_FAILED)
		event = "spawn-failed";
	else if (v->end == END_STOPPED)
		event = u->ps != NULL ? "stopped" : "cancelled";
	else if (v->end == END_STOP_KILLED || v->end == END_KILLED)
		event = "killed";
	else
		event = "exited";
	unit_log_event(u, &ev, event);
	if (x->term_signal != 0)
		ev.signal = x->term_signal;
	else if (!x->spawn_failed) {
		ev.has_status = 1;
		ev.status = (int)x->exit_status;
	}
	log_event(LOG_LEVEL_INFO, &ev, "%s: %s%s", u->name, what, next);
}

/* ------------------------------------------------------- life cycle */

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
void
sv_check_waiting(struct supervisor *sv)
{
	if (sv->has_deps)
		sv_repeat(sv, &sv->checking, &sv->recheck, sv_check_pass);
}

/* Start a unit that is not active: a fresh life, with new history. */
void
unit_start(struct unit *u, char **args, size_t nargs)
{
	size_t	i;

	if (unit_is_active(u) || u->sv->shutting_down)
		return;
	/* A restart passes the unit's own arguments: keep them as they are. */
	if (args == u->args && nargs == u->nargs)
		goto args_done;
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
args_done:
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
void
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
		unit_start(u, u->args, u->nargs);
		return;
	}
	u->restart_requested = 0;
	sv_check_waiting(u->sv);
	sv_maybe_notify_ready(u->sv);
	sv_shutdown_step(u->sv);
	sv_maybe_done(u->sv);
}

/* Decide, from how the run ended, between restart and the end. */
void
unit_judge_run(struct unit *u, const struct unit_exit *x)
{
	struct supervisor	*sv = u->sv;
	struct unit_verdict	 v;
	struct restart_spec	 none;
	const struct restart_spec *rs = unit_restart_spec(u);

	if (sv->shutting_down || u->restart_requested) {
		none = *rs;
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
void
unit_run_end(struct unit *u)
{
	struct unit_proc	*pr = u->pr;
	struct unit_exit	 x;
	int			 keep_tail;

	unit_timer_stop(u);
	memset(&x, 0, sizeof x);
	x.spawn_failed = pr->proc == NULL;
	x.exit_status = pr->exit_status;
	x.term_signal = pr->term_signal;
	x.stop_requested = u->stop_requested;
	x.stop_escalated = pr->proc != NULL && proc_was_escalated(pr->proc);
	x.ran_ms = uv_now(u->sv->loop) - u->started_ms;
	/* A last line without newline is whole only if the process exited. */
	keep_tail = pr->term_signal == 0;
	outlet_free(pr->out, keep_tail);
	outlet_free(pr->err, keep_tail);
	inlet_free(pr->in);
	pr->out = pr->err = NULL;
	pr->in = NULL;
	unit_unwatch_ready(u);
	proc_free(pr->proc);
	pr->proc = NULL;
	unit_judge_run(u, &x);
}

/* Ask a unit to stop: stop signal for a process, cancel for a task. */
void
unit_stop(struct unit *u)
{
	struct unit_exit	 x;
	struct proc		*p;

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
	if ((p = unit_child(u)) != NULL &&
	    proc_stop(p, u->ps->stop_signal, u->ps->stop_timeout_ms) != 0)
		log_warn("%s: cannot signal process group %ld", u->name,
		    (long)proc_pid(p));
}

/* -------------------------------------------------- start and stop */

/*
 * Signals with no meaning of their own here, passed on to every running
 * process's group, as tini does for its one child (real-time signals
 * too). Faults (ILL, ABRT, FPE, SEGV, BUS, TRAP, SYS) are not caught:
 * one of ours is a bug to die of.
 */
static const int	sv_forwarded[] = {
	SIGUSR2, SIGWINCH, SIGALRM, SIGVTALRM, SIGPROF, SIGIO, SIGPWR,
	SIGXCPU, SIGXFSZ, SIGURG, SIGSTKFLT,
};

/* Send sig to the group of every process that runs. */
static void
sv_forward(struct supervisor *sv, int sig)
{
	struct proc	*p;
	size_t		 i;
	int		 error;

	for (i = 0; i < sv->nunits; i++) {
		if ((p = unit_child(sv->units[i])) == NULL ||
		    proc_has_exited(p))
			continue;
		if ((error = proc_signal(p, sig)) != 0)
			log_warnx("%s: cannot signal process group %ld: %s",
			    sv->units[i]->name, (long)proc_pid(p),
			    uv_strerror(error));
	}
}

/*
 * Job control and forwarding, before our own signals: a stop from the
 * terminal (Control-Z) stops every process group, which are not in the
 * terminal's, and then us; SIGCONT resumes them all.
 */
static int
sv_signal_pass(struct supervisor *sv, int signum)
{
	const char	*nm;
	char		 buf[16], name[24];
	size_t		 i;

	/* TERM, or SIG49 for one without a name. */
	nm = util_signal_name(signum, buf, sizeof buf);
	snprintf(name, sizeof name, "%s", nm == buf ? nm + 3 : nm);
	if (signum == SIGTSTP || signum == SIGTTIN || signum == SIGTTOU) {
		log_info("received SIG%s: suspending every process", name);
		sv_forward(sv, SIGSTOP);
		(void)raise(SIGSTOP);
		return 1;
	}
	if (signum == SIGCONT) {
		log_info("received SIGCONT: resuming every process");
		sv_forward(sv, SIGCONT);
		return 1;
	}
	for (i = 0; i < sizeof sv_forwarded / sizeof sv_forwarded[0]; i++)
		if (sv_forwarded[i] == signum)
			break;
	if (i == sizeof sv_forwarded / sizeof sv_forwarded[0] &&
	    (signum < SIGRTMIN || signum > SIGRTMAX))
		return 0;
	/* A terminal's WINCH comes at every resize: not worth a line. */
	if (signum == SIGWINCH)
		log_debug("received SIG%s: passed on to every process", name);
	else
		log_info("received SIG%s: passed on to every process", name);
	sv_forward(sv, signum);
	return 1;
}

static void
sv_signal_cb(uv_signal_t *h, int signum)
{
	struct supervisor	*sv = h->data;
	size_t			 i;

	if (sv_signal_pass(sv, signum))
		return;
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
			if (sv->units[i]->pr != NULL &&
			    sv->units[i]->pr->proc != NULL)
				proc_kill_now(sv->units[i]->pr->proc);
		sv->killed_at_stop = 1;
	}
	if (!sv->shutting_down) {
		char	name[16];

		log_info("received SIG%s: stopping",
		    util_signal_name(signum, name, sizeof name));
		supervisor_shutdown(sv);
	}
}

/* Watch one more signal with sv_signal_cb. */
static int
sv_watch_signal(struct supervisor *sv, int signum)
{
	uv_signal_t	*h;
	int		 error;

	if (sv->nsigs == SV_MAX_SIGNALS)
		return 0;
	h = &sv->sigs[sv->nsigs];
	if ((error = uv_signal_init(sv->loop, h)) != 0)
		return error;
	h->data = sv;
	sv->nsigs++;
	return uv_signal_start(h, sv_signal_cb, signum);
}

int
supervisor_start(struct supervisor *sv)
{
	static const int	 signals[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1,
				    SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT };
	size_t			 i;
	int			 error, signum;

	for (i = 0; i < sizeof signals / sizeof signals[0]; i++)
		if ((error = sv_watch_signal(sv, signals[i])) != 0)
			return error;
	/* No signal a user may send kills us uncleanly: pass them on. */
	for (i = 0; i < sizeof sv_forwarded / sizeof sv_forwarded[0]; i++)
		if ((error = sv_watch_signal(sv, sv_forwarded[i])) != 0)
			return error;
	for (signum = SIGRTMIN; signum <= SIGRTMAX; signum++)
		if ((error = sv_watch_signal(sv, signum)) != 0)
			return error;
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
	return u->pr != NULL && u->pr->stdin_wq != NULL;
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
void
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
void
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
		if (u->pr != NULL) {
			outlet_free(u->pr->out, 1);
			outlet_free(u->pr->err, 1);
			inlet_free(u->pr->in);
			proc_free(u->pr->proc);
			unit_unwatch_ready(u);
		}
		unit_close_sinks(u);
		unit_timer_stop(u);
		sv_unit_free(u);
	}
	free(sv->units);
	sched_turn_stop(&sv->reap);
	sv_reap_cb(&sv->reap);
	/* After the tasks: each one's memory goes on a last turn. */
	sched_free(sv->sched);
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
