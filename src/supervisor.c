/*
 * The supervisor's core: every unit instance of a manifest (processes,
 * with their replicas, and tasks) and its life. A unit's state changes in
 * one place, sv_handle, which feeds an event to unit_step (unit.c, pure)
 * and performs the actions it returns; process exits, pipe ends,
 * readiness, timers, ctl, the task builtins and reload all arrive here as
 * events. Also here: the runs those actions start (a child process with
 * its pipes and readiness, or a task with its host), dependencies,
 * reload, start-up and shutdown. Pipes and queues are wire.c's; a task's
 * steps are task.c's; the control commands' own logic is sv-control.c's.
 * Nothing here knows YAML.
 */
#include "config.h"

#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "chainload.h"
#include "filesink.h"
#include "log.h"
#include "logring.h"
#include "notify.h"
#include "proc.h"
#include "ready.h"
#include "scheduler.h"
#include "script.h"
#include "supervisor.h"
#include "sv-int.h"
#include "task.h"
#include "unit.h"
#include "util.h"
#include "console.h"
#include "wire.h"
#include "xmalloc.h"

extern char **environ;

/*
 * After a process exited, how long its pipes may stay open (a grandchild
 * holding them) before we stop waiting for end of file.
 */
#define SV_DRAIN_AFTER_EXIT_MS	1000
/*
 * A stopping run whose leader exited while a member of its group lives on
 * is not over: how often to look whether the group is gone (the stop's
 * deadline kills it, and the run then ends as killed at its timeout).
 */
#define SV_GROUP_POLL_MS	100

static int	sv_post_exit(struct unit *, enum unit_event,
		    const struct unit_exit *);
static void	sv_shutdown_pass(struct supervisor *);
static void	run_spawn(struct unit *);
static void	run_stop(struct unit *);
static void	unit_forget(struct unit *);
static void	unit_set_spec(struct unit *, struct manifest *,
		    const struct proc_spec *, const struct task_spec *);
static void	unit_timer_cb(struct sched_alarm *);
static void	run_drain_cb(struct sched_alarm *);
static void	run_live_cb(struct sched_alarm *);
static void	run_live_start(struct unit *);
static void	run_live_stop(struct unit *);
static void	sv_hold(struct supervisor *);
static void	sv_release(struct supervisor *);
static void	sv_tails_done(void *);

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

/* ------------------------------------------------------- unit facts */

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

/* The rules of the unit's spec and of the supervisor's mode. */
static void
unit_policy(const struct unit *u, struct unit_policy *p)
{
	size_t	ndeps;

	memset(p, 0, sizeof *p);
	p->restart = unit_restart_spec(u);
	if (u->ps != NULL) {
		p->success_codes = u->ps->success_codes;
		p->nsuccess = u->ps->nsuccess;
		p->min_uptime_ms = u->ps->min_uptime_ms;
	}
	(void)unit_deps(u, &ndeps);
	p->has_deps = ndeps > 0;
	p->no_restart = u->sv->shutting_down;
}

/* Has the base name numbered instances (NAME.1 ...)? */
static int
spec_has_idx(const struct proc_spec *ps)
{
	return ps != NULL && (ps->replicas_set || ps->replicas > 1);
}

int
sv_unit_is_named(const struct unit *u, const char *name)
{
	return strcmp(u->base, name) == 0 || strcmp(u->name, name) == 0;
}

/*
 * The instances a name means, wherever they sit in the array: a base
 * name means every instance of its spec; "web.2" means one. *out is
 * allocated (NULL when none); returns the count.
 */
size_t
sv_select(struct supervisor *sv, const char *name, struct unit ***out)
{
	struct unit	**v = NULL;
	size_t		  i, n = 0;

	*out = NULL;
	if (name == NULL)
		return 0;
	for (i = 0; i < sv->nunits; i++) {
		if (strcmp(sv->units[i]->base, name) != 0)
			continue;
		v = xreallocarray(v, n + 1, sizeof *v);
		v[n++] = sv->units[i];
	}
	if (n == 0)
		for (i = 0; i < sv->nunits; i++)
			if (strcmp(sv->units[i]->name, name) == 0) {
				v = xmalloc(sizeof *v);
				v[n++] = sv->units[i];
				break;
			}
	*out = v;
	return n;
}

/* ------------------------------------------------------ the unit set */

static void
unit_add_produce(struct unit *u, struct wqueue *wq)
{
	size_t	i;

	if (wq == NULL)
		return;
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

/* The subscriber id of a task for a queue it reads, made at first use. */
static size_t
unit_sub(struct unit *u, struct wqueue *wq)
{
	size_t	i;

	for (i = 0; i < u->nsubs; i++)
		if (u->subs[i].wq == wq)
			return u->subs[i].sub;
	u->subs = xreallocarray(u->subs, u->nsubs + 1, sizeof *u->subs);
	u->subs[u->nsubs].wq = wq;
	u->subs[u->nsubs].sub = wqueue_subscribe(wq);
	return u->subs[u->nsubs++].sub;
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
			else if (st->kind != STEP_COMMAND ||
			    st->builtin != BUILTIN_CLOSE)
				(void)unit_sub(u, wq);
		}
		if (st->kind == STEP_COMMAND && st->unit != NULL &&
		    (st->builtin == BUILTIN_START ||
		    st->builtin == BUILTIN_RESTART)) {
			u->starts = xreallocarray(u->starts, u->nstarts + 1,
			    sizeof *u->starts);
			u->starts[u->nstarts++] = st->unit;
		}
		unit_scan_script(u, st->body);
	}
}

/* Tell the queues a unit feeds that it became a producer, or stopped. */
static void
unit_producing(struct unit *u, int on)
{
	size_t	i;

	u->producing = on;
	for (i = 0; i < u->nproduces; i++) {
		if (on)
			wqueue_producer_add(u->produces[i]);
		else
			wqueue_producer_del(u->produces[i]);
	}
}

/*
 * Point a unit at a spec of manifest m (a reference is taken, the old
 * one dropped), with the queues it feeds and reads. Only between runs:
 * a run keeps the spec it started with through its own reference.
 */
static void
unit_set_spec(struct unit *u, struct manifest *m, const struct proc_spec *ps,
    const struct task_spec *ts)
{
	struct supervisor	*sv = u->sv;
	struct wqueue		*wq;
	int			 live = u->producing;

	manifest_ref(m);
	if (live)
		unit_producing(u, 0);
	free(u->produces);
	u->produces = NULL;
	u->nproduces = 0;
	free(u->starts);
	u->starts = NULL;
	u->nstarts = 0;
	u->ps = ps;
	u->ts = ts;
	manifest_free(u->m);
	u->m = m;
	/* The name lives in the spec: follow it to the new manifest. */
	u->base = ps != NULL ? ps->name : ts->name;
	if ((ps != NULL && ps->ndeps > 0) || (ts != NULL && ts->ndeps > 0))
		sv->has_deps = 1;
	if (ps != NULL) {
		if (u->pr == NULL) {
			u->pr = xcalloc(1, sizeof *u->pr);
			u->pr->unit = u;
			sched_alarm_init(&u->pr->drain, run_drain_cb);
			sched_alarm_init(&u->pr->live_alarm, run_live_cb);
		}
		unit_add_output_queues(u, &ps->out);
		unit_add_output_queues(u, &ps->err);
		wq = ps->stdin_queue != NULL ? wire_find_queue(sv->wire,
		    ps->stdin_queue) : NULL;
		/* The same queue keeps its subscriber: a run may read it. */
		if (wq != NULL && wq != u->pr->stdin_wq)
			u->pr->stdin_sub = wqueue_subscribe(wq);
		u->pr->stdin_wq = wq;
	} else {
		unit_add_output_queues(u, &ts->out);
		unit_scan_script(u, ts->run);
		unit_scan_script(u, ts->on_cancel);
	}
	if (live)
		unit_producing(u, 1);
}

/* Take the spec a reload left for the unit, once no run uses the old. */
static void
unit_take_next_spec(struct unit *u)
{
	struct unit_next	*n = u->next;

	if (n == NULL)
		return;
	u->next = NULL;
	unit_set_spec(u, n->m, n->ps, n->ts);
	manifest_free(n->m);
	free(n);
}

struct unit *
sv_unit_new(struct supervisor *sv, struct manifest *m,
    const struct proc_spec *ps, const struct task_spec *ts, unsigned idx)
{
	struct unit	*u;
	const char	*base = ps != NULL ? ps->name : ts->name;
	size_t		 i, at = sv->nunits, len;

	/* The name in the same allocation: a unit is never renamed. */
	len = strlen(base) + (idx > 0 ? 12 : 1);
	u = xcalloc(1, sizeof *u + len);
	if (idx > 0)
		(void)snprintf(u->name, len, "%s.%u", base, idx);
	else
		memcpy(u->name, base, strlen(base) + 1);
	u->sv = sv;
	u->idx = idx;
	unit_sm_init(&u->sm);
	sched_alarm_init(&u->timer, unit_timer_cb);
	unit_set_spec(u, m, ps, ts);
	/* Beside its kin, so that listings keep a unit's instances together. */
	for (i = 0; i < sv->nunits; i++)
		if (strcmp(sv->units[i]->base, base) == 0)
			at = i + 1;
	sv->units = xreallocarray(sv->units, sv->nunits + 1, sizeof *sv->units);
	memmove(&sv->units[at + 1], &sv->units[at],
	    (sv->nunits - at) * sizeof *sv->units);
	sv->units[at] = u;
	sv->nunits++;
	return u;
}

static void
unit_free(struct unit *u)
{
	size_t	i;

	for (i = 0; i < u->nargs; i++)
		free(u->args[i]);
	free(u->args);
	free(u->produces);
	free(u->starts);
	free(u->subs);
	/* Detached tails of its runs no longer feed its log. */
	outlet_disown(u->sv->wire, u);
	if (u->log != NULL)
		logring_release(u->log);
	free(u->log);
	manifest_free(u->m);
	if (u->next != NULL)
		manifest_free(u->next->m);
	free(u->next);
	manifest_free(u->run_m);
	if (u->pr != NULL)
		free(u->pr->spawn_error);
	free(u->pr);
	free(u->qwaiter);
	free(u->cwaiter);
	free(u);
}

/*
 * Free the units forgotten since the last turn. The wait of a turn lets
 * whoever still holds a forgotten unit (an event in the queue, a caller
 * up the stack) use it until control returns to the loop.
 */
static void
sv_reap_cb(struct sched_turn *t)
{
	struct supervisor	*sv = (struct supervisor *)((char *)t -
	    offsetof(struct supervisor, reap));
	size_t			 i;

	for (i = 0; i < sv->ndead; i++)
		unit_free(sv->dead[i]);
	free(sv->dead);
	sv->dead = NULL;
	sv->ndead = 0;
}

/* Replace the unit's arguments ("start UNIT ARGS"); NULL args: none. */
static void
unit_set_args(struct unit *u, char **args, size_t nargs)
{
	size_t	i;

	if (args == u->args)
		return;
	for (i = 0; i < u->nargs; i++)
		free(u->args[i]);
	free(u->args);
	u->args = NULL;
	u->nargs = 0;
	if (nargs == 0)
		return;
	u->args = xreallocarray(NULL, nargs, sizeof *u->args);
	for (i = 0; i < nargs; i++)
		u->args[i] = xstrdup(args[i]);
	u->nargs = nargs;
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
		    (unsigned long long)u->sm.hist.restarts);
	else
		snprintf(buf, len, "; restarting in %s (restart %llu of %llu)",
		    d, (unsigned long long)u->sm.hist.restarts,
		    (unsigned long long)rs->max_restarts);
}

/* The number of a replica ("web.2": 2), for the JSON log; else 0. */
static unsigned
unit_replica(const struct unit *u)
{
	if (strcmp(u->name, u->base) == 0)
		return 0;
	return (unsigned)strtoul(u->name + strlen(u->base) + 1, NULL, 10);
}

/* The fields of a message about u for the JSON log: event, and pid. */
static void
unit_log_event(const struct unit *u, struct log_event *ev, const char *event)
{
	memset(ev, 0, sizeof *ev);
	/* As its output lines name it: "web.2" for a replica. */
	ev->unit = u->name;
	ev->replica = unit_replica(u);
	ev->event = event;
	if (u->pr != NULL && u->pr->proc != NULL)
		ev->pid = (long)proc_pid(u->pr->proc);
}

/* One line saying how a run ended and what comes next. */
static void
sv_log_end(const struct unit *u, const struct unit_out *o,
    const struct unit_exit *x)
{
	struct log_event	 ev;
	const char		*event;
	char			 what[160], next[96], sig[16], tmo[32];

	next[0] = '\0';
	switch (o->end) {
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
	case END_NOT_READY:
		snprintf(what, sizeof what, "stopped: it never became ready "
		    "(a failed run)");
		break;
	case END_UNHEALTHY:
		snprintf(what, sizeof what, "stopped: its liveness probe "
		    "failed (a failed run)");
		break;
	case END_EARLY:
		util_format_duration(u->ps != NULL ? u->ps->min_uptime_ms : 0,
		    tmo, sizeof tmo);
		if (x->term_signal != 0)
			snprintf(what, sizeof what, "killed by signal %s "
			    "within its min_uptime %s (a failed start)",
			    util_signal_name(x->term_signal, sig, sizeof sig),
			    tmo);
		else
			snprintf(what, sizeof what, "exited with status %lld "
			    "within its min_uptime %s (a failed start)",
			    (long long)x->exit_status, tmo);
		break;
	default:
		snprintf(what, sizeof what, "exited with status %lld",
		    (long long)x->exit_status);
		break;
	}
	if (u->sm.state == UNIT_BACKOFF)
		sv_restart_note(u, o->delay_ms, next, sizeof next);
	else if (o->gave_up)
		snprintf(next, sizeof next, "; gave up after %llu restart%s",
		    (unsigned long long)u->sm.hist.restarts,
		    u->sm.hist.restarts == 1 ? "" : "s");
	/* For the JSON log: what happened, and how it ended. */
	if (u->sm.state == UNIT_BACKOFF)
		event = "restarting";
	else if (o->end == END_SPAWN_FAILED)
		event = "spawn-failed";
	else if (o->end == END_STOPPED)
		event = u->ps != NULL ? "stopped" : "cancelled";
	else if (o->end == END_STOP_KILLED || o->end == END_KILLED)
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

/* --------------------------------------------------- the one writer */

static void	unit_unwait(struct unit *);

/*
 * Wake the tasks waiting in "wait" for u. Waits are few and rare: they
 * live in one list of the supervisor, not in every unit.
 */
static void
unit_wake_waiters(struct unit *u)
{
	struct unit_wait	*w, *next;
	struct unit		*t;

	for (w = TAILQ_FIRST(&u->sv->waits); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->on != u)
			continue;
		t = w->task;
		unit_unwait(t);
		if (t->task != NULL)
			task_wake(t->task);
	}
}

/* The task is in "wait" no more. */
static void
unit_unwait(struct unit *u)
{
	if (u->waiting == NULL)
		return;
	TAILQ_REMOVE(&u->sv->waits, u->waiting, entry);
	free(u->waiting);
	u->waiting = NULL;
}

/* Start the dependencies of u that were never started. */
static void
unit_start_deps(struct unit *u)
{
	const struct dep	*deps;
	struct unit		**v;
	size_t			 n, d, k, i;

	deps = unit_deps(u, &n);
	for (d = 0; d < n; d++) {
		k = sv_select(u->sv, deps[d].name, &v);
		for (i = 0; i < k; i++)
			if (v[i]->sm.state == UNIT_IDLE)
				(void)sv_post(v[i], UEV_START);
		free(v);
	}
}

/*
 * Feed one event to u's state machine and perform the actions, in the
 * order unit.h gives. The only place a unit's state changes. Returns 1
 * when the event changed nothing.
 */
static int
sv_handle(struct unit *u, enum unit_event ev, const struct unit_exit *x)
{
	struct supervisor	*sv = u->sv;
	struct unit_policy	 p;
	struct unit_out		 o;
	enum unit_state		 from = u->sm.state;
	char			 d[32];

	unit_policy(u, &p);
	unit_step(&u->sm, ev, x, &p, sv_random(sv), &o);
	if (o.ignored) {
		/* A reload's spec for a unit with no run: taken at once. */
		if (ev == UEV_RESPEC && !unit_state_has_run(u->sm.state))
			unit_take_next_spec(u);
		return 1;
	}
	log_debug("%s: %s: %s -> %s", u->name, unit_event_name(ev),
	    unit_state_name(from), unit_state_name(u->sm.state));
	if (o.actions & UACT_DISARM)
		sched_alarm_stop(sv->sched, &u->timer);
	if (o.actions & UACT_ENDED) {
		u->last_status = x->term_signal != 0 ? 128 + x->term_signal :
		    (int)x->exit_status;
		if (o.end == END_STOP_KILLED)
			sv->killed_at_stop = 1;
		sv_log_end(u, &o, x);
	}
	if (ev == UEV_STOP && from == UNIT_WAITING)
		log_info("%s: stopped before its dependencies were met",
		    u->name);
	else if (ev == UEV_STOP && from == UNIT_BACKOFF)
		log_info("%s: stopped while waiting to restart", u->name);
	else if (ev == UEV_TIMER && from == UNIT_STARTING) {
		util_format_duration(u->ps->ready.timeout_ms, d, sizeof d);
		log_warnx("%s: not ready after %s: stopping it", u->name, d);
	}
	if (o.actions & UACT_STOP)
		run_stop(u);
	/* Liveness is probed while the run is up and ready. */
	if (u->pr != NULL && from != UNIT_RUNNING &&
	    u->sm.state == UNIT_RUNNING)
		run_live_start(u);
	else if (u->pr != NULL && from == UNIT_RUNNING &&
	    u->sm.state != UNIT_RUNNING)
		run_live_stop(u);
	/*
	 * A reload's new spec is taken as soon as no run uses the old one:
	 * when the run ended, or whenever the unit has none.
	 */
	if (u->sm.state != UNIT_REMOVED && ((o.actions & UACT_ENDED) ||
	    !unit_state_has_run(u->sm.state)))
		unit_take_next_spec(u);
	if (o.actions & UACT_START_DEPS)
		unit_start_deps(u);
	if (o.actions & UACT_SPAWN)
		run_spawn(u);
	if (o.actions & UACT_ARM)
		sched_alarm_start(sv->sched, &u->timer, o.delay_ms);
	if (o.actions & UACT_WAKE)
		unit_wake_waiters(u);
	if (o.actions & UACT_FORGET)
		unit_forget(u);
	return 0;
}

/* Does the condition hold for t at this moment (bind:)? */
static int
dep_holds_now(const struct unit *t, enum dep_cond c)
{
	switch (c) {
	case DEP_STARTED:
		return t->sm.state == UNIT_STARTING ||
		    t->sm.state == UNIT_RUNNING;
	case DEP_READY:
		return t->sm.state == UNIT_RUNNING;
	case DEP_SUCCEEDED:
		return t->sm.state == UNIT_EXITED && t->sm.has_ended &&
		    t->sm.last_end == END_SUCCEEDED;
	}
	return 0;
}

/* 1: the condition holds for every instance; 0: not yet; -1: never will. */
static int
dep_holds(struct supervisor *sv, const struct dep *d)
{
	struct unit	**v, *t;
	size_t		  k, i;
	int		  result = 1, ended;

	k = sv_select(sv, d->name, &v);
	for (i = 0; i < k && result != -1; i++) {
		t = v[i];
		ended = t->sm.state == UNIT_EXITED || t->sm.state == UNIT_FAILED;
		/* Bound: the condition must hold now, and may again later. */
		if (d->bind) {
			if (!dep_holds_now(t, d->cond))
				result = 0;
			continue;
		}
		switch (d->cond) {
		case DEP_STARTED:
			if (t->sm.ever_started)
				continue;
			break;
		case DEP_READY:
			if (t->sm.state == UNIT_RUNNING || (ended &&
			    t->sm.ever_ready && t->sm.state == UNIT_EXITED))
				continue;
			break;
		case DEP_SUCCEEDED:
			if (t->sm.state == UNIT_EXITED && t->sm.has_ended &&
			    t->sm.last_end == END_SUCCEEDED)
				continue;
			break;
		}
		result = ended ? -1 : 0;
	}
	free(v);
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
sv_check_deps(struct supervisor *sv)
{
	const struct dep	*deps;
	struct unit		*u;
	size_t			 n, i, d;
	int			 r, all;

	for (i = 0; i < sv->nunits; i++) {
		u = sv->units[i];
		if (u->sm.state != UNIT_WAITING)
			continue;
		deps = unit_deps(u, &n);
		for (d = 0, all = 1; d < n; d++) {
			if ((r = dep_holds(sv, &deps[d])) == 1)
				continue;
			all = 0;
			if (r == -1) {
				log_warnx("%s: not started: dependency %s can "
				    "no longer be %s", u->name, deps[d].name,
				    dep_cond_name(deps[d].cond));
				(void)sv_post(u, UEV_DEPS_FAILED);
				break;
			}
		}
		if (all)
			(void)sv_post(u, UEV_DEPS_MET);
	}
}

/*
 * Units bound to a dependency (bind: true) whose condition no longer
 * holds are stopped, to wait for it again; in backoff, they wait now.
 */
static void
sv_check_binds(struct supervisor *sv)
{
	const struct dep	*deps;
	struct unit		*u;
	size_t			 n, i, d;
	enum unit_state		 s;

	for (i = 0; i < sv->nunits; i++) {
		u = sv->units[i];
		s = u->sm.state;
		if (s != UNIT_STARTING && s != UNIT_RUNNING &&
		    s != UNIT_BACKOFF && !(s == UNIT_STOPPING &&
		    u->sm.pending == UNIT_PEND_START))
			continue;
		deps = unit_deps(u, &n);
		for (d = 0; d < n; d++) {
			if (!deps[d].bind || dep_holds(sv, &deps[d]) == 1)
				continue;
			if (sv_post(u, UEV_UNBOUND) == 0 && s != UNIT_STOPPING)
				log_info("%s: dependency %s is no longer %s: "
				    "stopping until it is again", u->name,
				    deps[d].name, dep_cond_name(deps[d].cond));
			break;
		}
	}
}

/*
 * --exit-code-from: once that unit has ended for good, everything stops
 * and its status becomes the supervisor's.
 */
static void
sv_check_exit_from(struct supervisor *sv)
{
	struct unit	**v;
	size_t		  n, i;
	int		  status = 0, settled = 1, ended = 0;

	if (sv->exit_from == NULL || sv->exit_from_done)
		return;
	n = sv_select(sv, sv->exit_from, &v);
	for (i = 0; i < n; i++) {
		if (v[i]->sm.state != UNIT_EXITED &&
		    v[i]->sm.state != UNIT_FAILED)
			settled = 0;
		else if (v[i]->sm.has_ended) {
			ended = 1;
			if (status == 0)
				status = v[i]->last_status;
		} else if (v[i]->sm.state == UNIT_FAILED && status == 0)
			status = 1;
	}
	free(v);
	if (n == 0 || !settled || (!ended && status == 0))
		return;
	sv->exit_from_done = 1;
	sv->exit_from_status = status;
	if (sv->shutting_down)
		return;
	log_info("%s ended with status %d: stopping everything "
	    "(--exit-code-from)", sv->exit_from, status);
	supervisor_shutdown(sv);
}

/*
 * Who can still produce: a unit that is active, or one that a running
 * task may start (its steps name it in start or restart), even if it has
 * not been started yet or has ended. The queues it feeds end only once
 * none of their producers can. Kept in step after every batch of events,
 * since a task ending changes it for the units it names.
 */
static void
sv_update_producers(struct supervisor *sv)
{
	const char	**names = NULL;
	struct unit	 *u;
	size_t		  n = 0, i, j;
	int		  can;

	for (i = 0; i < sv->nunits; i++) {
		u = sv->units[i];
		if (u->nstarts == 0 || !unit_state_is_active(u->sm.state))
			continue;
		names = xreallocarray(names, n + u->nstarts, sizeof *names);
		for (j = 0; j < u->nstarts; j++)
			names[n++] = u->starts[j];
	}
	for (i = 0; i < sv->nunits; i++) {
		u = sv->units[i];
		if (u->nproduces == 0)
			continue;
		can = unit_state_can_produce(u->sm.state);
		if (!can && u->sm.state != UNIT_REMOVED)
			for (j = 0; j < n && !can; j++)
				can = sv_unit_is_named(u, names[j]);
		if (can != (int)u->producing)
			unit_producing(u, can);
	}
	free(names);
}

/* Is every unit of a command done with what it was asked? */
int
sv_op_is_done(const struct sv_op *op)
{
	const struct unit	*u;
	size_t			 i;

	for (i = 0; i < op->n; i++) {
		if ((u = op->units[i]) == NULL)
			continue;
		switch (op->ev) {
		case UEV_STOP:
			if (unit_state_has_run(u->sm.state) &&
			    u->runs == op->runs[i])
				return 0;
			break;
		case UEV_RESTART:
			/*
			 * Started again: a new run, or waiting for its
			 * dependencies (which may take any time).
			 */
			if (u->sm.state == UNIT_STOPPING ||
			    (unit_state_is_active(u->sm.state) &&
			    u->sm.state != UNIT_WAITING &&
			    u->runs == op->runs[i]))
				return 0;
			break;
		default:
			return 0;	/* removal: done when forgotten */
		}
	}
	return 1;
}

static void
sv_ops_check(struct supervisor *sv)
{
	struct sv_op	*op, *next;

	for (op = LIST_FIRST(&sv->ops); op != NULL; op = next) {
		next = LIST_NEXT(op, entry);
		if (!op->armed || !sv_op_is_done(op))
			continue;
		LIST_REMOVE(op, entry);
		op->fn(op->arg);
		free(op->units);
		free(op->runs);
		free(op);
	}
}

static void	sv_maybe_notify_ready(struct supervisor *);

/* What every settled batch of events may have changed for the others. */
static void
sv_after(struct supervisor *sv)
{
	if (sv->has_deps && !sv->shutting_down) {
		sv_check_binds(sv);
		sv_check_deps(sv);
	}
	sv_check_exit_from(sv);
	sv_update_producers(sv);
	if (sv->shutting_down)
		sv_shutdown_pass(sv);
	sv_maybe_notify_ready(sv);
	if (!LIST_EMPTY(&sv->ops))
		sv_ops_check(sv);
	sv_maybe_done(sv);
}

/*
 * Post an event. Events posted while another is handled (a spawn that
 * fails at once, dependencies starting) wait in a queue and are handled
 * in order once it is done, so handling never nests.
 */
static int
sv_post_exit(struct unit *u, enum unit_event ev, const struct unit_exit *x)
{
	struct supervisor	*sv = u->sv;
	struct sv_event		*e;
	int			 r;

	if (sv->posting) {
		if (sv->nevq == sv->evq_cap && sv->evq_head > 0) {
			/* Compact first: the queue is a window. */
			memmove(sv->evq, sv->evq + sv->evq_head,
			    (sv->nevq - sv->evq_head) * sizeof *sv->evq);
			sv->nevq -= sv->evq_head;
			sv->evq_head = 0;
		}
		if (sv->nevq == sv->evq_cap) {
			sv->evq_cap = sv->evq_cap * 2 + 8;
			sv->evq = xreallocarray(sv->evq, sv->evq_cap,
			    sizeof *sv->evq);
		}
		e = &sv->evq[sv->nevq++];
		e->u = u;
		e->ev = ev;
		if (x != NULL)
			e->x = *x;
		else
			memset(&e->x, 0, sizeof e->x);
		return 0;
	}
	sv_hold(sv);
	r = sv_handle(u, ev, x);
	sv_release(sv);
	return r;
}

/* Queue events instead of handling them, until sv_release. */
static void
sv_hold(struct supervisor *sv)
{
	sv->posting++;
}

/* Handle what was queued, then what that changed for the others. */
static void
sv_release(struct supervisor *sv)
{
	struct sv_event	 e;
	int		 changed = 1;

	if (sv->posting > 1) {
		sv->posting--;
		return;
	}
	/*
	 * Until nothing changes: sv_after may post events (dependencies
	 * met, the next shutdown step), and each of those may change what
	 * it sees; a round in which every event was ignored ends it.
	 */
	do {
		while (sv->evq_head < sv->nevq) {
			/* A copy: handling may grow the queue. */
			e = sv->evq[sv->evq_head++];
			if (sv_handle(e.u, e.ev, &e.x) == 0)
				changed = 1;
		}
		sv->evq_head = sv->nevq = 0;
		if (!changed)
			break;
		changed = 0;
		sv_after(sv);
	} while (sv->nevq > 0);
	sv->posting = 0;
}

int
sv_post(struct unit *u, enum unit_event ev)
{
	return sv_post_exit(u, ev, NULL);
}

/* Drop a removed unit: out of the array now, freed on the next turn. */
static void
unit_forget(struct unit *u)
{
	struct supervisor	*sv = u->sv;
	struct log_event	 ev;
	struct follower		*f;
	struct sv_op		*op;
	size_t			 i;

	for (i = 0; i < sv->nunits; i++)
		if (sv->units[i] == u)
			break;
	if (i == sv->nunits)
		return;
	memmove(&sv->units[i], &sv->units[i + 1],
	    (sv->nunits - i - 1) * sizeof *sv->units);
	sv->nunits--;
	/* Followers of a name nothing means any more hear the end. */
	LIST_FOREACH(f, &sv->followers, entry) {
		/* A follower of every unit never hears the end. */
		if (f->name == NULL || !sv_unit_is_named(u, f->name))
			continue;
		for (i = 0; i < sv->nunits; i++)
			if (sv_unit_is_named(sv->units[i], f->name))
				break;
		if (i == sv->nunits)
			f->fn(u->name, 0, NULL, 0, f->arg);
	}
	LIST_FOREACH(op, &sv->ops, entry)
		for (i = 0; i < op->n; i++)
			if (op->units[i] == u)
				op->units[i] = NULL;
	if (u->producing)
		unit_producing(u, 0);
	if (u->qwaiter != NULL)
		wqueue_unwait(u->qwaiter);
	if (u->cwaiter != NULL)
		console_unwait(u->cwaiter);
	unit_unwait(u);
	unit_wake_waiters(u);
	sched_alarm_stop(sv->sched, &u->timer);
	unit_log_event(u, &ev, "removed");
	log_event(LOG_LEVEL_INFO, &ev, "%s: removed", u->name);
	sv->dead = xreallocarray(sv->dead, sv->ndead + 1, sizeof *sv->dead);
	sv->dead[sv->ndead++] = u;
	sched_turn_start(sv->sched, &sv->reap);
}

/* The unit's one alarm: a restart's backoff, or the ready timeout. */
static void
unit_timer_cb(struct sched_alarm *a)
{
	struct unit	*u = (struct unit *)((char *)a -
	    offsetof(struct unit, timer));

	(void)sv_post(u, UEV_TIMER);
}

int
sv_command(struct supervisor *sv, const char *name, enum unit_event ev,
    char **args, size_t nargs, int *changed, char **cause)
{
	struct unit	**v;
	size_t		  n, i;

	if (changed != NULL)
		*changed = 0;
	if ((n = sv_select(sv, name, &v)) == 0) {
		*cause = xasprintf("no such unit: %s", name != NULL ? name :
		    "");
		return -1;
	}
	if ((ev == UEV_START || ev == UEV_RESTART) && sv->shutting_down) {
		free(v);
		*cause = xstrdup("the supervisor is shutting down");
		return -1;
	}
	for (i = 0; i < n && (ev == UEV_START || ev == UEV_RESTART); i++)
		if (v[i]->sm.pending == UNIT_PEND_REMOVE) {
			*cause = xasprintf("%s is being removed", v[i]->name);
			free(v);
			return -1;
		}
	if (ev == UEV_START || ev == UEV_RESTART)
		sv->done = 0;
	for (i = 0; i < n; i++) {
		if (ev == UEV_START && (!unit_state_is_active(v[i]->sm.state) ||
		    v[i]->sm.state == UNIT_STOPPING))
			unit_set_args(v[i], args, nargs);
		if (sv_post(v[i], ev) == 0 && changed != NULL)
			(*changed)++;
	}
	free(v);
	return 0;
}

struct sv_op *
sv_op_new(struct supervisor *sv, enum unit_event ev, struct unit **units,
    size_t n, void (*fn)(void *), void *arg)
{
	struct sv_op	*op;
	size_t		 i;

	op = xcalloc(1, sizeof *op);
	op->ev = ev;
	op->n = n;
	op->units = xcalloc(n, sizeof *op->units);
	op->runs = xcalloc(n, sizeof *op->runs);
	/* A unit forgotten already is done, and freed on the next turn. */
	for (i = 0; i < n; i++) {
		if (units[i]->sm.state == UNIT_REMOVED)
			continue;
		op->units[i] = units[i];
		op->runs[i] = units[i]->runs;
	}
	op->fn = fn;
	op->arg = arg;
	LIST_INSERT_HEAD(&sv->ops, op, entry);
	return op;
}

void
sv_op_free(struct supervisor *sv, struct sv_op *op)
{
	if (op == NULL)
		return;
	LIST_REMOVE(op, entry);
	free(op->units);
	free(op->runs);
	free(op);
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

/*
 * Keep what a unit shows on the console for "ctl logs", and pass it to
 * followers: one line, without its newline.
 */
static void
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
	for (f = LIST_FIRST(&u->sv->followers); f != NULL; f = next) {
		next = LIST_NEXT(f, entry);
		if (f->name == NULL || sv_unit_is_named(u, f->name))
			f->fn(u->name, now, line, len, f->arg);
	}
}

static void	run_ready_line_cb(void *, const char *, size_t);
static void	run_outlet_eof(void *);

static int
run_open_output(struct unit *u, const struct output *o, int console_fd,
    struct outlet **outlet)
{
	struct outlet_config	 c;
	struct wqueue		**queues = NULL;
	struct filesink		**files = NULL, *f;
	const struct dest	*d;
	int			 p[2], watch = u->pr->has_ready_re;
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
			    d->backups, u->ps->user, u->ps->group);
			if (f == NULL) {
				log_warnx("%s: cannot open output file %s: %s",
				    u->name, d->name, filesink_strerror(errno));
				break;
			}
			files = xreallocarray(files, nfiles + 1, sizeof *files);
			files[nfiles++] = f;
			break;
		case DEST_QUEUE:
			queues = xreallocarray(queues, nqueues + 1,
			    sizeof *queues);
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
		free(queues);
		return -1;
	}
	c.fd = p[0];
	c.prefix = u->name;
	c.replica = unit_replica(u);
	c.files = files;
	c.nfiles = nfiles;
	c.queues = queues;
	c.nqueues = nqueues;
	c.eof_fn = run_outlet_eof;
	c.console_fn = unit_console_cb;
	c.line_fn = watch ? run_ready_line_cb : NULL;
	c.arg = u;
	*outlet = outlet_new(u->sv->wire, &c);
	free(queues);
	return p[1];
}

/* The environment of a child: ours, the unit's env, PYTASKING_UNIT. */
static char **
run_env(const struct unit *u)
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
run_argv(struct unit *u)
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

static void
run_close_fds(int fds[3])
{
	int	i;

	for (i = 0; i < 3; i++)
		if (fds[i] != -1)
			(void)close(fds[i]);
}

/* Readiness watching ends with the run, or once it is ready. */
static void
run_unwatch_ready(struct unit *u)
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
}

/* The run said it is ready: stop watching, tell the core. */
static void
run_ready(struct unit *u)
{
	if (u->sm.state != UNIT_STARTING)
		return;
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
	(void)sv_post(u, UEV_READY);
}

static void
run_ready_line_cb(void *arg, const char *line, size_t len)
{
	struct unit	*u = arg;
	char		*s;

	if (u->sm.state != UNIT_STARTING || !u->pr->has_ready_re)
		return;
	/* regexec wants a C string; lines may hold NUL: match up to it. */
	s = xstrndup(line, len);
	if (regexec(&u->pr->ready_re, s, 0, NULL, 0) == 0)
		run_ready(u);
	free(s);
}

static void
run_ready_fd_cb(void *arg, const char *line, size_t len)
{
	(void)line;
	(void)len;
	run_ready(arg);
}

static void
run_probe_cb(void *arg)
{
	run_ready(arg);
}

/* ready: {fd: N}: a pipe whose first line says the process is ready. */
static int
run_ready_fd(struct unit *u, struct proc_spawn_args *a)
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
	c.line_fn = run_ready_fd_cb;
	c.arg = u;
	u->pr->ready_fd = outlet_new(u->sv->wire, &c);
	a->extra_fd = p[1];
	a->extra_num = u->ps->ready.fd;
	return 0;
}

/* After a spawn: start probing and the ready timeout, or ready at once. */
static void
run_watch_ready(struct unit *u, char **env)
{
	const struct ready_spec	*r = &u->ps->ready;
	struct probe_ident	 id;

	switch (r->kind) {
	case READY_NONE:
		run_ready(u);
		return;
	case READY_EXEC:
	case READY_TCP:
	case READY_HTTP:
		/* The probe runs as the unit: its identity and settings. */
		id.unit = u->name;
		id.ps = u->ps;
		id.env = env;
		id.guard = u->sv->guard;
		u->pr->probe = probe_start(u->sv->loop, r, &id, run_probe_cb,
		    u);
		break;
	default:
		break;
	}
	if (r->timeout_ms > 0)
		sched_alarm_start(u->sv->sched, &u->timer, r->timeout_ms);
}

/* The run of a process is over: close what is left, tell the core. */
static void
run_proc_end(struct unit *u)
{
	struct unit_proc	*pr = u->pr;
	struct unit_exit	 x;
	struct manifest		*m;
	int			 keep_tail;

	sched_alarm_stop(u->sv->sched, &pr->drain);
	run_live_stop(u);
	memset(&x, 0, sizeof x);
	x.spawn_failed = pr->proc == NULL;
	x.exit_status = pr->exit_status;
	x.term_signal = pr->term_signal;
	x.stop_escalated = pr->proc != NULL && proc_was_escalated(pr->proc);
	x.ran_ms = uv_now(u->sv->loop) - u->started_ms;
	/* A last line without newline is whole only if the process exited. */
	keep_tail = pr->term_signal == 0;
	outlet_free(pr->out, keep_tail);
	outlet_free(pr->err, keep_tail);
	inlet_free(pr->in);
	pr->out = pr->err = NULL;
	pr->in = NULL;
	run_unwatch_ready(u);
	proc_free(pr->proc);
	pr->proc = NULL;
	/* The core may give the unit a new spec: drop the run's hold last. */
	m = u->run_m;
	u->run_m = NULL;
	(void)sv_post_exit(u, UEV_EXIT, &x);
	manifest_free(m);
}

/* A spawn that failed counts as a failed run for the restart policy. */
static void
run_spawn_ended(struct unit *u, const char *why)
{
	u->pr->exited = 1;
	u->pr->exit_status = 127;
	u->pr->term_signal = 0;
	free(u->pr->spawn_error);
	u->pr->spawn_error = xstrdup(why);
	u->started_ms = uv_now(u->sv->loop);
	u->pr->proc = NULL;
	run_proc_end(u);
}

static void
run_spawn_failed(struct unit *u, const char *why)
{
	struct log_event	ev;

	unit_log_event(u, &ev, "spawn-failed");
	log_event(LOG_LEVEL_WARNING, &ev, "%s: cannot start %s: %s", u->name,
	    u->ps->shell != NULL ? "/bin/sh" : u->ps->argv[0], why);
	run_spawn_ended(u, why);
}

/*
 * Can the child enter its working directory? If not, say that it is the
 * directory (the spawn would blame the program) and end the run: -1.
 */
static int
run_check_cwd(struct unit *u)
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
	run_spawn_ended(u, why);
	free(why);
	return -1;
}

static int
run_outlets_done(const struct unit *u)
{
	return (u->pr->out == NULL || outlet_is_eof(u->pr->out)) &&
	    (u->pr->err == NULL || outlet_is_eof(u->pr->err));
}

/*
 * Liveness: once ready (and initial_delay later), one probe every
 * interval, each given its timeout; failures in a row stop the run as a
 * failure (unhealthy), and the restart policy decides. The probe is the
 * readiness prober's, given a polling interval longer than the timeout,
 * so that exactly one attempt counts; the alarm times each.
 */
static void
run_live_start(struct unit *u)
{
	const struct liveness_spec	*l = &u->ps->liveness;

	if (l->probe.kind == READY_NONE)
		return;
	u->pr->live_fails = 0;
	sched_alarm_start(u->sv->sched, &u->pr->live_alarm,
	    l->initial_delay_ms);
}

static void
run_live_stop(struct unit *u)
{
	sched_alarm_stop(u->sv->sched, &u->pr->live_alarm);
	if (u->pr->live != NULL) {
		probe_free(u->pr->live);
		u->pr->live = NULL;
	}
}

/* The probe succeeded within its timeout: the next one in interval. */
static void
run_live_ok_cb(void *arg)
{
	struct unit	*u = arg;

	run_live_stop(u);
	if (u->pr->live_fails > 0)
		log_info("%s: liveness probe succeeded again", u->name);
	u->pr->live_fails = 0;
	sched_alarm_start(u->sv->sched, &u->pr->live_alarm,
	    u->ps->liveness.probe.interval_ms);
}

static void
run_live_cb(struct sched_alarm *a)
{
	struct unit_proc		*pr = (struct unit_proc *)((char *)a -
	    offsetof(struct unit_proc, live_alarm));
	struct unit			*u = pr->unit;
	const struct liveness_spec	*l = &u->ps->liveness;
	struct ready_spec		 once;
	struct probe_ident		 id;
	char				 d[32], **env;

	if (u->sm.state != UNIT_RUNNING)
		return;
	if (pr->live == NULL) {
		once = l->probe;
		once.interval_ms = l->probe.timeout_ms + l->probe.interval_ms;
		/* As the unit, with its environment (copied by the probe). */
		env = run_env(u);
		id.unit = u->name;
		id.ps = u->ps;
		id.env = env;
		id.guard = u->sv->guard;
		pr->live = probe_start(u->sv->loop, &once, &id, run_live_ok_cb,
		    u);
		sv_free_env(env);
		if (pr->live == NULL)
			return;		/* said why; no probing */
		sched_alarm_start(u->sv->sched, &pr->live_alarm,
		    l->probe.timeout_ms);
		return;
	}
	/* No success within the timeout: a failed probe. */
	probe_free(pr->live);
	pr->live = NULL;
	pr->live_fails++;
	util_format_duration(l->probe.timeout_ms, d, sizeof d);
	if (pr->live_fails < l->failures) {
		log_warnx("%s: liveness probe failed (no success within %s; "
		    "%llu of %llu in a row)", u->name, d,
		    (unsigned long long)pr->live_fails,
		    (unsigned long long)l->failures);
		sched_alarm_start(u->sv->sched, &pr->live_alarm,
		    l->probe.interval_ms);
		return;
	}
	log_warnx("%s: liveness probe failed %llu times in a row: stopping it",
	    u->name, (unsigned long long)pr->live_fails);
	(void)sv_post(u, UEV_UNHEALTHY);
}

/*
 * Stopped, the leader gone, a member of its group not (it ignores the
 * stop signal, or has not acted on it yet): the stop is not over until
 * the group is gone, or killed at stop_timeout and the run said so.
 */
static int
run_group_lingers(const struct unit *u)
{
	return u->pr->proc != NULL && proc_stop_pending(u->pr->proc);
}

/*
 * The bounded wait for a dead leader's pipes is over: end the run, once
 * the group of a stopped run is gone.
 */
static void
run_drain_cb(struct sched_alarm *a)
{
	struct unit_proc	*pr = (struct unit_proc *)((char *)a -
	    offsetof(struct unit_proc, drain));

	if (run_group_lingers(pr->unit)) {
		sched_alarm_start(pr->unit->sv->sched, &pr->drain,
		    SV_GROUP_POLL_MS);
		return;
	}
	run_proc_end(pr->unit);
}

/*
 * The leader exited. The run is over once its pipes reached EOF too.
 * Stopped, its group is being killed: that wait is bounded. Otherwise
 * members of its group hold a pipe open: the outlets deliver what is in
 * the pipes now, then read on by themselves until end of file (the group
 * closed them or was stopped), and the run ends now.
 */
static void
run_exit_cb(struct proc *p, int64_t status, int sig, void *arg)
{
	struct unit	*u = arg;
	int		 lingers = run_group_lingers(u);

	(void)p;
	u->pr->exited = 1;
	u->pr->exit_status = status;
	u->pr->term_signal = sig;
	if (run_outlets_done(u) && !lingers) {
		run_proc_end(u);
		return;
	}
	if (u->sm.state == UNIT_STOPPING || u->sv->shutting_down || lingers) {
		sched_alarm_start(u->sv->sched, &u->pr->drain, lingers ?
		    SV_GROUP_POLL_MS : SV_DRAIN_AFTER_EXIT_MS);
		return;
	}
	/*
	 * Nobody left in the group to write: what is in the pipes is all
	 * there will be, and closing takes it whole, even past a full queue
	 * (one pipe's worth). Detaching would hold the pipes for as long as
	 * a full queue pauses them: a descriptor per run of a producer that
	 * restarts.
	 */
	if (kill(-proc_pid(p), 0) == -1 && errno == ESRCH) {
		run_proc_end(u);
		return;
	}
	/* The group that may still write: its leader's pid is its id. */
	u->pr->tail_pgid = proc_pid(p);
	outlet_detach(u->pr->out, sig == 0);
	outlet_detach(u->pr->err, sig == 0);
	u->pr->out = u->pr->err = NULL;
	run_proc_end(u);
}

static void
run_outlet_eof(void *arg)
{
	struct unit	*u = arg;

	if (u->pr->exited && sched_alarm_active(&u->pr->drain) &&
	    run_outlets_done(u) && !run_group_lingers(u))
		run_proc_end(u);
}

static void
run_spawn_proc(struct unit *u)
{
	struct proc_spawn_args	 a;
	char			**argv, **env, **cl;
	int			 p[2], error;

	memset(&a, 0, sizeof a);
	a.fds[0] = a.fds[1] = a.fds[2] = -1;
	u->runs++;
	if (u->ps->ready.kind == READY_LINE && regcomp(&u->pr->ready_re,
	    u->ps->ready.regex, REG_EXTENDED | REG_NOSUB) == 0)
		u->pr->has_ready_re = 1;
	u->pr->exited = 0;
	u->pr->out = u->pr->err = NULL;
	u->pr->in = NULL;
	if (run_check_cwd(u) == -1)
		return;
	if (u->pr->stdin_wq != NULL) {
		if (pipe2(p, O_CLOEXEC) == -1) {
			run_spawn_failed(u, strerror(errno));
			return;
		}
		a.fds[0] = p[0];
		u->pr->in = inlet_new(u->sv->wire, p[1],
		    fcntl(p[0], F_DUPFD_CLOEXEC, 3), u->pr->stdin_wq,
		    u->pr->stdin_sub, u->name);
	} else
		a.fds[0] = sv_open_devnull(O_RDONLY);
	a.fds[1] = run_open_output(u, &u->ps->out, STDOUT_FILENO,
	    &u->pr->out);
	a.fds[2] = run_open_output(u, &u->ps->err, STDERR_FILENO,
	    &u->pr->err);
	if (a.fds[0] == -1 || a.fds[1] == -1 || a.fds[2] == -1) {
		run_close_fds(a.fds);
		run_spawn_failed(u, "cannot set up its standard streams");
		return;
	}
	a.extra_fd = -1;
	if (run_ready_fd(u, &a) == -1) {
		run_close_fds(a.fds);
		run_spawn_failed(u, "cannot set up its readiness pipe");
		return;
	}
	argv = run_argv(u);
	env = run_env(u);
	/* limits:, umask:, user:, group: go through our chain loader. */
	cl = chainload_argv(u->name, u->ps, argv);
	a.file = cl != NULL ? cl[0] : argv[0];
	a.argv = cl != NULL ? cl : argv;
	a.guard = u->sv->guard;
	a.env = env;
	a.cwd = u->ps->cwd;
	a.exit_fn = run_exit_cb;
	a.arg = u;
	error = proc_spawn(u->sv->loop, &a, &u->pr->proc);
	chainload_argv_free(cl);
	free(argv);
	run_close_fds(a.fds);
	if (a.extra_fd != -1)
		(void)close(a.extra_fd);
	if (error != 0) {
		sv_free_env(env);
		run_spawn_failed(u, uv_strerror(error));
		return;
	}
	u->started_ms = uv_now(u->sv->loop);
	{
		struct log_event	ev;

		unit_log_event(u, &ev, "started");
		log_event(LOG_LEVEL_INFO, &ev, "%s: started (pid %ld)", u->name,
		    (long)proc_pid(u->pr->proc));
	}
	run_watch_ready(u, env);
	sv_free_env(env);
}

/* ------------------------------------------------------------ tasks */

static void
run_close_sinks(struct unit *u)
{
	size_t	i;

	for (i = 0; i < u->nsinks; i++)
		filesink_free(u->sinks[i]);
	free(u->sinks);
	u->sinks = NULL;
	u->nsinks = 0;
}

static void
run_spawn_task(struct unit *u)
{
	const struct output	*o = &u->ts->out;
	struct filesink		*f;
	size_t			 i;

	u->runs++;
	/* Opened afresh for each run: a reload may have changed them. */
	run_close_sinks(u);
	for (i = 0; i < o->ndests; i++) {
		if (o->dests[i].kind != DEST_FILE)
			continue;
		f = filesink_open(u->name, o->dests[i].name,
		    o->dests[i].max_size, o->dests[i].backups, NULL, NULL);
		if (f == NULL) {
			log_warnx("%s: cannot open output file %s: %s", u->name,
			    o->dests[i].name, filesink_strerror(errno));
			continue;
		}
		u->sinks = xreallocarray(u->sinks, u->nsinks + 1,
		    sizeof *u->sinks);
		u->sinks[u->nsinks++] = f;
	}
	u->task = task_new(u->sv->sched, u->ts, &u->sv->host, u, u->args,
	    u->nargs);
	u->started_ms = uv_now(u->sv->loop);
	{
		struct log_event	ev;

		unit_log_event(u, &ev, "started");
		log_event(LOG_LEVEL_INFO, &ev, "%s: started", u->name);
	}
	task_start(u->task);
	/* A task is ready once started. */
	run_ready(u);
}

/* Start a run: spawn the process, or start the task. */
static void
run_spawn(struct unit *u)
{
	/* The run holds its spec's manifest until it ends. */
	manifest_ref(u->m);
	manifest_free(u->run_m);
	u->run_m = u->m;
	if (u->ps != NULL) {
		free(u->pr->spawn_error);
		u->pr->spawn_error = NULL;
		run_spawn_proc(u);
	} else
		run_spawn_task(u);
}

/* Ask the run to end: the stop signal to a process, cancel to a task. */
static void
run_stop(struct unit *u)
{
	struct proc	*p;

	if (u->task != NULL) {
		task_cancel(u->task);
		return;
	}
	if ((p = unit_child(u)) != NULL &&
	    proc_stop(p, u->ps->stop_signal, u->ps->stop_timeout_ms) != 0)
		log_warn("%s: cannot signal process group %ld", u->name,
		    (long)proc_pid(p));
}

/* ------------------------------------------------------- the task host */

static void	sv_qwaiter_cb(struct wq_waiter *);

/*
 * The waiter a task blocks on a queue with, made the first time it does:
 * a task that only sleeps or echoes to the console never needs one.
 */
static struct wq_waiter *
unit_qwaiter(struct unit *u)
{
	if (u->qwaiter == NULL) {
		u->qwaiter = xcalloc(1, sizeof *u->qwaiter);
		u->qwaiter->fn = sv_qwaiter_cb;
		u->qwaiter->arg = u;
	}
	return u->qwaiter;
}

static void
sv_cwaiter_cb(struct console_waiter *cw)
{
	struct unit	*u = cw->arg;

	if (u->task != NULL)
		task_wake(u->task);
}

static struct console_waiter *
unit_cwaiter(struct unit *u)
{
	if (u->cwaiter == NULL) {
		u->cwaiter = xcalloc(1, sizeof *u->cwaiter);
		u->cwaiter->fn = sv_cwaiter_cb;
		u->cwaiter->arg = u;
	}
	return u->cwaiter;
}

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
	if (full != NULL) {
		wqueue_wait_writable(full, unit_qwaiter(u));
		return 1;
	}
	/* A full console holds the task back, as a full queue does. */
	for (i = 0; i < o->ndests; i++)
		if (o->dests[i].kind == DEST_INHERIT)
			return wire_console_wait(u->sv->wire, STDOUT_FILENO,
			    unit_cwaiter(u));
	return 0;
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
		wqueue_wait_writable(wq, unit_qwaiter(u));
		return 1;
	}
	(void)wqueue_push(wq, item, len);
	return 0;
}

static int
host_close(void *arg, const char *queue, char **cause)
{
	struct unit	*u = arg;
	struct wqueue	*wq;

	if ((wq = host_queue(u, queue, cause)) == NULL)
		return -1;
	return wqueue_close(wq, cause);
}

static int
host_get(void *arg, const char *queue, char **item, size_t *len,
    char **cause)
{
	struct unit	*u = arg;
	struct wqueue	*wq;
	int		 r;

	if ((wq = host_queue(u, queue, cause)) == NULL)
		return -1;
	r = wqueue_pop_copy(wq, unit_sub(u, wq), item, len);
	if (r == 1)
		wqueue_wait_readable(wq, unit_qwaiter(u));
	return r;
}

/*
 * start: a unit not running starts; one stopping starts again once it
 * has stopped. A spawn that fails at once fails the step that asked.
 * During a shutdown a task still runs only to drain the queues it reads:
 * its starts start nothing, and are not its failure either.
 */
static int
host_start(void *arg, const char *name, char **args, size_t nargs,
    char **cause)
{
	struct unit	*u = arg, **v;
	size_t		 n, i;
	int		 r = 0;

	if (u->sv->shutting_down) {
		n = sv_select(u->sv, name, &v);
		free(v);
		if (n > 0)
			return 0;
	}
	if (sv_command(u->sv, name, UEV_START, args, nargs, NULL, cause) == -1)
		return -1;
	n = sv_select(u->sv, name, &v);
	for (i = 0; i < n && r == 0; i++)
		if (v[i]->pr != NULL && v[i]->pr->spawn_error != NULL &&
		    v[i]->sm.state == UNIT_BACKOFF) {
			*cause = xasprintf("%s could not be started: %s",
			    v[i]->name, v[i]->pr->spawn_error);
			r = -1;
		}
	for (i = 0; i < n && r == 0; i++)
		if (v[i]->pr != NULL && v[i]->pr->spawn_error != NULL &&
		    !unit_state_is_active(v[i]->sm.state) &&
		    v[i]->sm.last_end == END_SPAWN_FAILED) {
			*cause = xasprintf("%s could not be started: %s",
			    v[i]->name, v[i]->pr->spawn_error);
			r = -1;
		}
	free(v);
	return r;
}

/* cancel is ctl's stop; restart while shutting down is a stop too. */
static int
host_cancel(void *arg, const char *name, char **cause)
{
	struct unit	*u = arg;

	return sv_command(u->sv, name, UEV_STOP, NULL, 0, NULL, cause);
}

static int
host_restart(void *arg, const char *name, char **cause)
{
	struct unit	*u = arg;

	return sv_command(u->sv, name, u->sv->shutting_down ? UEV_STOP :
	    UEV_RESTART, NULL, 0, NULL, cause);
}

/* The signal of ctl and of tasks: processes only, each instance. */
int
sv_signal(struct supervisor *sv, const char *name, int sig, char **cause)
{
	struct unit	**v;
	size_t		  first, n, i;
	int		  error, r = 0;

	(void)first;
	if ((n = sv_select(sv, name, &v)) == 0) {
		*cause = xasprintf("no such unit: %s", name);
		return -1;
	}
	for (i = 0; i < n && r == 0; i++) {
		if (v[i]->ps == NULL) {
			*cause = xasprintf("%s is a task: only processes take "
			    "signals", v[i]->name);
			r = -1;
		} else if (unit_child(v[i]) != NULL &&
		    (error = proc_signal(unit_child(v[i]), sig)) != 0) {
			*cause = xasprintf("signal %s: %s", v[i]->name,
			    strerror(-error));
			r = -1;
		}
	}
	free(v);
	return r;
}

static int
host_signal(void *arg, const char *name, int sig, char **cause)
{
	struct unit	*u = arg;

	return sv_signal(u->sv, name, sig, cause);
}

/* wait: until every instance has ended; the status of the last ended. */
static int
host_wait(void *arg, const char *name, int *status, char **cause)
{
	struct unit	*u = arg, **v;
	size_t		 n, i;
	int		 r = 0;

	if ((n = sv_select(u->sv, name, &v)) == 0) {
		*cause = xasprintf("no such unit: %s", name);
		return -1;
	}
	*status = 0;
	for (i = 0; i < n && r == 0; i++) {
		if (v[i] == u) {
			*cause = xasprintf("a task cannot wait for itself");
			r = -1;
		} else if (unit_state_is_active(v[i]->sm.state)) {
			unit_unwait(u);
			u->waiting = xmalloc(sizeof *u->waiting);
			u->waiting->task = u;
			u->waiting->on = v[i];
			TAILQ_INSERT_TAIL(&u->sv->waits, u->waiting, entry);
			r = 1;
		} else if (v[i]->sm.has_ended && *status == 0)
			*status = v[i]->last_status;
	}
	free(v);
	return r;
}

static void
host_unwait(void *arg)
{
	struct unit	*u = arg;

	if (u->qwaiter != NULL)
		wqueue_unwait(u->qwaiter);
	if (u->cwaiter != NULL)
		console_unwait(u->cwaiter);
	unit_unwait(u);
}

/* The run of a task is over: free it, tell the core. */
static void
host_ended(void *arg, int status, int cancelled, int failed)
{
	struct unit		*u = arg;
	struct unit_exit	 x;
	struct manifest		*m;

	host_unwait(u);
	task_free(u->task);
	u->task = NULL;
	memset(&x, 0, sizeof x);
	x.exit_status = status;
	/* Cancelled and failed: on_cancel had to be cut short. */
	x.stop_escalated = cancelled && failed;
	if (failed && !cancelled && status == 0)
		x.exit_status = 1;
	x.ran_ms = uv_now(u->sv->loop) - u->started_ms;
	m = u->run_m;
	u->run_m = NULL;
	(void)sv_post_exit(u, UEV_EXIT, &x);
	manifest_free(m);
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
	sv->host.close = host_close;
	sv->host.start = host_start;
	sv->host.cancel = host_cancel;
	sv->host.restart = host_restart;
	sv->host.signal = host_signal;
	sv->host.wait = host_wait;
	sv->host.unwait = host_unwait;
	sv->host.ended = host_ended;
}

/* ------------------------------------------------------------ set-up */

/* The instances of a process spec: NAME, or NAME.1 ... NAME.N. */
static void
sv_add_spec(struct supervisor *sv, struct manifest *m,
    const struct proc_spec *ps, const struct task_spec *ts, int start)
{
	struct unit	*u;
	unsigned	 r;

	if (ts != NULL) {
		u = sv_unit_new(sv, m, NULL, ts, 0);
		if (start)
			(void)sv_post(u, UEV_START);
		return;
	}
	for (r = 1; r <= ps->replicas; r++) {
		u = sv_unit_new(sv, m, ps, NULL, spec_has_idx(ps) ? r : 0);
		if (start)
			(void)sv_post(u, UEV_START);
	}
}

struct supervisor *
supervisor_new(uv_loop_t *loop, struct manifest *m)
{
	struct supervisor	*sv;
	size_t			 i;

	sv = xcalloc(1, sizeof *sv);
	sv->loop = loop;
	manifest_ref(m);
	sv->m = m;
	sv->rnd = (uint32_t)time(NULL) ^ ((uint32_t)getpid() << 16) ^ 0x9e3779b9;
	if (sv->rnd == 0)
		sv->rnd = 1;
	LIST_INIT(&sv->ops);
	TAILQ_INIT(&sv->waits);
	LIST_INIT(&sv->followers);
	sv->wire = wire_new(loop);
	wire_set_tails_fn(sv->wire, sv_tails_done, sv);
	sv->sched = sched_new(loop);
	sched_turn_init(&sv->reap, sv_reap_cb);
	sv_host_init(sv);
	if (uv_timer_init(loop, &sv->drain_timer) != 0)
		fatalx("uv_timer_init failed");
	sv->drain_timer.data = sv;
	for (i = 0; i < m->nqueues; i++)
		(void)wire_add_queue(sv->wire, &m->queues[i]);
	for (i = 0; i < m->nprocs; i++)
		sv_add_spec(sv, m, &m->procs[i], NULL, 0);
	for (i = 0; i < m->ntasks; i++)
		sv_add_spec(sv, m, NULL, &m->tasks[i], 0);
	return sv;
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
	size_t			 i, j;
	char			*cause = NULL, name[16];

	if (sv_signal_pass(sv, signum))
		return;
	if (signum == SIGUSR1) {
		log_info("received SIGUSR1: reopening output files");
		wire_reopen_files(sv->wire);
		for (i = 0; i < sv->nunits; i++)
			for (j = 0; j < sv->units[i]->nsinks; j++)
				(void)filesink_reopen(sv->units[i]->sinks[j]);
		return;
	}
	if (sv->done) {
		log_info("received SIG%s: every unit has ended, exiting",
		    util_signal_name(signum, name, sizeof name));
		return;
	}
	if (signum == SIGHUP) {
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
		log_info("received SIG%s: stopping",
		    util_signal_name(signum, name, sizeof name));
		supervisor_shutdown(sv);
	}
}

/*
 * Watch one more signal with sv_signal_cb. One that is only passed on
 * may be refused (valgrind keeps a real-time signal for itself): then it
 * is not watched, which is no reason not to run. The handle is closed
 * with the others either way.
 */
static int
sv_watch_signal(struct supervisor *sv, int signum, int passed_on)
{
	uv_signal_t	*h;
	char		 buf[16];
	int		 error;

	if (sv->nsigs == SV_MAX_SIGNALS)
		return 0;
	h = &sv->sigs[sv->nsigs];
	if ((error = uv_signal_init(sv->loop, h)) != 0)
		return error;
	h->data = sv;
	sv->nsigs++;
	if ((error = uv_signal_start(h, sv_signal_cb, signum)) != 0 &&
	    passed_on) {
		log_debug("cannot watch %s: %s", util_signal_name(signum, buf,
		    sizeof buf), uv_strerror(error));
		return 0;
	}
	return error;
}

int
supervisor_start(struct supervisor *sv)
{
	static const int	 signals[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1,
				    SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT };
	struct unit		**v;
	size_t			 i, n;
	int			 error, autostart, signum;

	for (i = 0; i < sizeof signals / sizeof signals[0]; i++)
		if ((error = sv_watch_signal(sv, signals[i], 0)) != 0)
			return error;
	/* No signal a user may send kills us uncleanly: pass them on. */
	for (i = 0; i < sizeof sv_forwarded / sizeof sv_forwarded[0]; i++)
		if ((error = sv_watch_signal(sv, sv_forwarded[i], 1)) != 0)
			return error;
	for (signum = SIGRTMIN; signum <= SIGRTMAX; signum++)
		if ((error = sv_watch_signal(sv, signum, 1)) != 0)
			return error;
	/*
	 * Count every autostart producer live before anyone can see the end
	 * of a stream. A copy of the array: starts may forget units.
	 */
	n = sv->nunits;
	v = xreallocarray(NULL, n + 1, sizeof *v);
	memcpy(v, sv->units, n * sizeof *v);
	for (i = 0; i < n; i++) {
		autostart = v[i]->ps != NULL ? v[i]->ps->autostart :
		    v[i]->ts->autostart;
		if (autostart && v[i]->sm.state == UNIT_IDLE)
			(void)sv_post(v[i], UEV_START);
	}
	free(v);
	wire_open(sv->wire);
	sv->started = 1;
	sv_maybe_notify_ready(sv);
	sv_maybe_done(sv);
	return 0;
}

/*
 * Does this unit read from a queue, so that it stops after its producers:
 * a process through its stdin, a task through get or for.
 */
static int
unit_is_consumer(const struct unit *u)
{
	return (u->pr != NULL && u->pr->stdin_wq != NULL) || u->nsubs > 0;
}

/* Is any active unit depending on u (so u must wait to stop)? */
static int
unit_has_active_dependents(const struct unit *u)
{
	struct supervisor	*sv = u->sv;
	const struct dep	*deps;
	size_t			 i, n, d;

	for (i = 0; i < sv->nunits; i++) {
		if (!unit_state_is_active(sv->units[i]->sm.state) ||
		    sv->units[i] == u)
			continue;
		deps = unit_deps(sv->units[i], &n);
		for (d = 0; d < n; d++)
			if (strcmp(deps[d].name, u->base) == 0 ||
			    strcmp(deps[d].name, u->name) == 0)
				return 1;
	}
	return 0;
}

/*
 * One step of the shutdown order. Data flow: producers stop at once;
 * consumers (processes and tasks) keep running while their queues drain
 * into them, a process's stdin closes at the end of the stream (a task's
 * get and for see it) and most end by themselves (wc prints its count);
 * whoever still runs at the drain timeout is stopped. Dependencies: a unit stops only after the units
 * that depend on it have ended. Run again after every batch of events.
 */
static void
sv_shutdown_pass(struct supervisor *sv)
{
	struct unit	*u;
	size_t		 i;

	for (i = 0; i < sv->nunits; i++) {
		u = sv->units[i];
		switch (u->sm.state) {
		case UNIT_WAITING:
		case UNIT_BACKOFF:
			(void)sv_post(u, UEV_STOP);
			continue;
		case UNIT_STARTING:
		case UNIT_RUNNING:
			break;
		default:
			continue;
		}
		if (unit_is_consumer(u) && !sv->drain_expired)
			continue;
		if (sv->has_deps && unit_has_active_dependents(u))
			continue;
		(void)sv_post(u, UEV_STOP);
	}
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
	sv_hold(sv);
	sv_release(sv);
}

void
supervisor_shutdown(struct supervisor *sv)
{
	if (sv->shutting_down)
		return;
	sv->shutting_down = 1;
	/* The tails end with the run: what is in their pipes is delivered. */
	outlet_close_tails(sv->wire);
	/* Redis queues fetch no more; what is here drains as usual. */
	wire_shutdown(sv->wire);
	if (notify_send("STOPPING=1") == -1)
		log_warn("sd_notify STOPPING=1");
	if (!sv->done && uv_timer_start(&sv->drain_timer, sv_drain_timer_cb,
	    sv->m->drain_timeout_ms, 0) != 0)
		fatalx("uv_timer_start failed");
	sv_hold(sv);
	sv_release(sv);
}

/*
 * READY=1 for a service manager, once: every autostart unit has started,
 * and those with ready: are ready (or have ended).
 */
static void
sv_maybe_notify_ready(struct supervisor *sv)
{
	size_t	i;

	if (sv->notified_ready || !sv->started || sv->shutting_down)
		return;
	for (i = 0; i < sv->nunits; i++)
		if (sv->units[i]->sm.state == UNIT_WAITING ||
		    sv->units[i]->sm.state == UNIT_STARTING)
			return;
	sv->notified_ready = 1;
	if (notify_send("READY=1") == -1)
		log_warn("sd_notify READY=1");
}

/*
 * Is output of an exited leader's group still coming, from a group that
 * still has members? A pipe held only by a process that left the group
 * (a daemon in a session of its own) keeps no one up: such orphans are
 * stopped once every unit has ended (reaper.c).
 */
static int
sv_tails_alive(struct supervisor *sv)
{
	struct unit_proc	*pr;
	size_t			 i;
	int			 alive = 0;

	if (wire_tails(sv->wire) == 0)
		return 0;
	for (i = 0; i < sv->nunits; i++) {
		if ((pr = sv->units[i]->pr) == NULL || pr->tail_pgid <= 0)
			continue;
		if (kill(-pr->tail_pgid, 0) == -1 && errno == ESRCH)
			pr->tail_pgid = 0;
		else
			alive = 1;
	}
	return alive;
}

/* The last output tail of an exited leader's group ended. */
static void
sv_tails_done(void *arg)
{
	sv_maybe_done(arg);
}

/*
 * Every active unit reads a queue fed from outside that is open, empty
 * and without a live producer: the run waits on those queues. Say so,
 * once per queue (the wire remembers), with how to end it.
 */
static void
sv_report_open_queues(struct supervisor *sv)
{
	struct unit	*u;
	size_t		 i, j;
	int		 starved;

	if (sv->shutting_down)
		return;
	for (i = 0; i < sv->nunits; i++) {
		u = sv->units[i];
		if (!unit_state_is_active(u->sm.state))
			continue;
		starved = u->pr != NULL && u->pr->stdin_wq != NULL &&
		    wqueue_is_starved(u->pr->stdin_wq);
		for (j = 0; j < u->nsubs && !starved; j++)
			starved = wqueue_is_starved(u->subs[j].wq);
		if (!starved)
			return;
	}
	wire_report_open(sv->wire);
}

/*
 * Nothing running or waiting to restart, and no output of an exited
 * leader's group still coming: let the loop end.
 */
void
sv_maybe_done(struct supervisor *sv)
{
	size_t	i;

	if (sv->done || (sv->keep && !sv->shutting_down) || !sv->started)
		return;
	for (i = 0; i < sv->nunits; i++)
		if (unit_state_is_active(sv->units[i]->sm.state)) {
			sv_report_open_queues(sv);
			return;
		}
	/* Output of exited leaders' groups still comes (outlet_detach). */
	if (sv_tails_alive(sv))
		return;
	sv->done = 1;
	/*
	 * The signals keep no one up now, but stay caught: a SIGTERM while
	 * adopted processes are stopped, or queue items handed back, must
	 * not kill us with the default action (sv_signal_cb notes it).
	 */
	for (i = 0; i < sv->nsigs; i++)
		uv_unref((uv_handle_t *)&sv->sigs[i]);
	(void)uv_timer_stop(&sv->drain_timer);
}

int
supervisor_exit_status(const struct supervisor *sv)
{
	size_t	i;

	if (sv->exit_from_done)
		return sv->exit_from_status;
	if (sv->killed_at_stop)
		return 1;
	for (i = 0; i < sv->nunits; i++)
		if (sv->units[i]->sm.state == UNIT_FAILED)
			return 1;
	return 0;
}

void
supervisor_report(const struct supervisor *sv)
{
	wire_print_counters(sv->wire, stderr);
}

/* ------------------------------------------------------------ reload */

void
supervisor_set_loader(struct supervisor *sv, supervisor_loader fn, void *arg)
{
	sv->loader = fn;
	sv->loader_arg = arg;
}

void
supervisor_set_reload_hook(struct supervisor *sv, supervisor_reload_hook fn,
    void *arg)
{
	sv->reload_hook = fn;
	sv->reload_hook_arg = arg;
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
	return 0;
}

/* One name, one unit: a unit added by ctl keeps its name from a reload. */
static int
sv_reload_names(struct supervisor *sv, const struct manifest *nm,
    char **cause)
{
	const struct unit	*u;
	const char		*dot;
	size_t			 i, len;

	for (i = 0; i < sv->nunits; i++) {
		u = sv->units[i];
		if (!u->added || u->sm.pending == UNIT_PEND_REMOVE)
			continue;
		dot = strrchr(u->name, '.');
		len = dot != NULL ? (size_t)(dot - u->name) : 0;
		if (manifest_find_proc(nm, u->name) != NULL ||
		    manifest_find_task(nm, u->name) != NULL) {
			*cause = xasprintf("%s was added by ctl add and the "
			    "manifest now declares it too: remove it first "
			    "(ctl remove %s)", u->name, u->name);
			return -1;
		}
		if (dot != NULL && dot[1] != '\0' &&
		    strspn(dot + 1, "0123456789") == strlen(dot + 1)) {
			char	*base = xstrndup(u->name, len);
			int	 clash = manifest_find_proc(nm, base) != NULL;

			free(base);
			if (clash) {
				*cause = xasprintf("%s was added by ctl add and "
				    "would be a replica of a process the "
				    "manifest now declares: remove it first "
				    "(ctl remove %s)", u->name, u->name);
				return -1;
			}
		}
	}
	return 0;
}

struct reload_counts {
	size_t	added, removed, changed, kept;
};

/*
 * Give a unit a reload's spec: now, or once its run has stopped; a unit
 * stopping to be removed stays, and starts again under it.
 */
void
sv_respec(struct unit *u, struct manifest *nm, const struct proc_spec *nps,
    const struct task_spec *nts)
{
	manifest_ref(nm);
	if (u->next == NULL)
		u->next = xcalloc(1, sizeof *u->next);
	else
		manifest_free(u->next->m);
	u->next->m = nm;
	u->next->ps = nps;
	u->next->ts = nts;
	(void)sv_post(u, UEV_RESPEC);
}

/*
 * Set the number of instances of ps to n: the first min(n, now) keep
 * running as they are, the rest start or stop. Only numbered instances
 * scale; the caller checked that.
 */
void
sv_scale(struct supervisor *sv, struct manifest *m, const struct proc_spec *ps,
    unsigned n)
{
	struct unit	**v, *u;
	size_t		  k, i;
	unsigned	  r;
	int		  have;

	k = sv_select(sv, ps->name, &v);
	for (i = 0; i < k; i++)
		if (!v[i]->added && v[i]->idx > n)
			(void)sv_post(v[i], UEV_REMOVE);
	for (r = 1; r <= n; r++) {
		for (i = 0, have = 0; i < k && !have; i++) {
			if (v[i]->added || v[i]->idx != r ||
			    v[i]->sm.state == UNIT_REMOVED)
				continue;
			have = 1;
			/* Still stopping to be removed: one name, one unit. */
			if (v[i]->sm.pending == UNIT_PEND_REMOVE)
				sv_respec(v[i], m, ps, NULL);
		}
		if (have)
			continue;
		u = sv_unit_new(sv, m, ps, NULL, r);
		if (ps->autostart && !sv->shutting_down)
			(void)sv_post(u, UEV_START);
	}
	free(v);
}

/* Is the spec the same but for the number of replicas? */
static int
sv_same_but_replicas(const struct proc_spec *a, const struct proc_spec *b)
{
	struct proc_spec	c = *b;

	c.replicas = a->replicas;
	return manifest_proc_equal(a, &c);
}

/* Apply one process spec of the new manifest to the units of its name. */
/* Is u an instance of the manifest's spec of this kind (not by ctl)? */
static int
sv_is_declared(const struct unit *u, int proc)
{
	return !u->added && u->sm.state != UNIT_REMOVED &&
	    (proc ? u->ps != NULL : u->ts != NULL);
}

/*
 * Apply one process spec of the new manifest to the instances of its
 * name: unchanged ones keep running, changed ones run again under it,
 * those being removed stay, and the count changes by the difference.
 * Instances named the other way (NAME where the spec now makes NAME.1
 * ..., or back) go, even while an earlier change still stops them: the
 * naming is the instance's own, never that of its old spec, so that a
 * name is never made twice (one name, one unit).
 */
static void
sv_reload_proc(struct supervisor *sv, struct manifest *nm,
    const struct proc_spec *nps, struct reload_counts *c)
{
	struct unit	**v;
	size_t		  k, i, kept = 0;
	int		  numbered = spec_has_idx(nps), found = 0;

	k = sv_select(sv, nps->name, &v);
	for (i = 0; i < k; i++) {
		if (!sv_is_declared(v[i], 1))
			continue;
		if ((v[i]->idx > 0) != numbered) {
			if (v[i]->sm.pending != UNIT_PEND_REMOVE) {
				(void)sv_post(v[i], UEV_REMOVE);
				c->removed++;
			}
			continue;
		}
		found = 1;
		if (v[i]->idx > nps->replicas) {
			if (v[i]->sm.pending != UNIT_PEND_REMOVE)
				c->removed++;
			continue;	/* sv_scale removes it */
		}
		kept++;
		if (v[i]->sm.pending != UNIT_PEND_REMOVE &&
		    sv_same_but_replicas(v[i]->ps, nps)) {
			/* Unchanged: the run goes on, under the new spec. */
			unit_set_spec(v[i], nm, nps, NULL);
			c->kept++;
		} else {
			sv_respec(v[i], nm, nps, NULL);
			c->changed++;
		}
	}
	if (nps->replicas > kept)
		c->added += nps->replicas - kept;
	free(v);
	if (numbered)
		sv_scale(sv, nm, nps, nps->replicas);
	else if (!found)
		sv_add_spec(sv, nm, nps, NULL, nps->autostart &&
		    !sv->shutting_down);
}

static void
sv_reload_task(struct supervisor *sv, struct manifest *nm,
    const struct task_spec *nts, struct reload_counts *c)
{
	struct unit	**v;
	size_t		  k, i;
	int		  found = 0;

	k = sv_select(sv, nts->name, &v);
	for (i = 0; i < k; i++) {
		if (!sv_is_declared(v[i], 0))
			continue;
		found = 1;
		if (v[i]->sm.pending != UNIT_PEND_REMOVE &&
		    manifest_task_equal(v[i]->ts, nts)) {
			unit_set_spec(v[i], nm, NULL, nts);
			c->kept++;
		} else {
			sv_respec(v[i], nm, NULL, nts);
			c->changed++;
		}
	}
	free(v);
	if (!found) {
		sv_add_spec(sv, nm, NULL, nts, nts->autostart &&
		    !sv->shutting_down);
		c->added++;
	}
}

int
supervisor_reload(struct supervisor *sv, char **cause)
{
	struct manifest		*nm;
	struct reload_counts	 c;
	struct unit		**v, *u;
	struct wqueue		*wq;
	size_t			 i, n;
	int			 gone;

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
	if (sv_reload_queues(sv, nm, cause) == -1 ||
	    sv_reload_names(sv, nm, cause) == -1 ||
	    (sv->reload_hook != NULL &&
	    sv->reload_hook(sv->reload_hook_arg, nm, cause) == -1)) {
		manifest_free(nm);
		(void)notify_send("READY=1");
		return -1;
	}
	for (i = 0; i < nm->nqueues; i++)
		if ((wq = wire_find_queue(sv->wire, nm->queues[i].name)) ==
		    NULL)
			(void)wire_add_queue(sv->wire, &nm->queues[i]);
		else
			wqueue_respec(wq, &nm->queues[i]);
	memset(&c, 0, sizeof c);
	/* Events wait until every spec is in place. */
	sv_hold(sv);
	/* The supervisor's reference: nm is ours, sv->m the old one's. */
	manifest_free(sv->m);
	sv->m = nm;
	sv->done = 0;
	/* Gone from the manifest, or changed kind: removed. */
	n = sv->nunits;
	v = xreallocarray(NULL, n + 1, sizeof *v);
	memcpy(v, sv->units, n * sizeof *v);
	for (i = 0; i < n; i++) {
		u = v[i];
		if (u->added || u->sm.pending == UNIT_PEND_REMOVE ||
		    u->sm.state == UNIT_REMOVED)
			continue;
		gone = u->ps != NULL ? manifest_find_proc(nm, u->base) == NULL :
		    manifest_find_task(nm, u->base) == NULL;
		if (gone) {
			(void)sv_post(u, UEV_REMOVE);
			c.removed++;
		}
	}
	free(v);
	for (i = 0; i < nm->nprocs; i++)
		sv_reload_proc(sv, nm, &nm->procs[i], &c);
	for (i = 0; i < nm->ntasks; i++)
		sv_reload_task(sv, nm, &nm->tasks[i], &c);
	log_info("reloaded %s: %zu added, %zu removed, %zu changed, %zu "
	    "unchanged", nm->file, c.added, c.removed, c.changed, c.kept);
	sv_release(sv);
	(void)notify_send("READY=1");
	return 0;
}

/* ------------------------------------------------------------ freeing */

void
supervisor_report_left(const struct supervisor *sv)
{
	const struct queue_spec		*qs_spec;
	const struct queue_counters	*k;
	struct wqueue			**qs;
	size_t				  n, i;

	if (sv->drain_expired)
		return;
	n = wire_queues(sv->wire, &qs);
	for (i = 0; i < n; i++) {
		k = wqueue_counters(qs[i]);
		if (k->depth == 0)
			continue;
		qs_spec = manifest_find_queue(sv->m, wqueue_name(qs[i]));
		/* A Redis queue's items go back to the stream (redisq_free). */
		log_warnx("queue %s: %llu item%s left undelivered at the end, "
		    "%s", wqueue_name(qs[i]), (unsigned long long)k->depth,
		    k->depth == 1 ? "" : "s", qs_spec != NULL && qs_spec->redis ?
		    "given back to the Redis stream" : "discarded");
	}
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
	struct sv_op	*op;
	size_t		 i;

	if (sv == NULL)
		return;
	/* Tails still open feed queues: closed while they exist. */
	wire_set_tails_fn(sv->wire, NULL, NULL);
	outlet_close_tails(sv->wire);
	while ((op = LIST_FIRST(&sv->ops)) != NULL)
		sv_op_free(sv, op);
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
			run_unwatch_ready(u);
			run_live_stop(u);
			sched_alarm_stop(sv->sched, &u->pr->drain);
		}
		run_close_sinks(u);
		sched_alarm_stop(sv->sched, &u->timer);
		unit_free(u);
	}
	free(sv->units);
	free(sv->evq);
	sched_turn_stop(&sv->reap);
	sv_reap_cb(&sv->reap);
	/* After the tasks: each one's memory goes on a last turn. */
	sched_free(sv->sched);
	manifest_free(sv->m);
	free(sv->exit_from);
	free(sv->socket_path);
	wire_free(sv->wire);
	/* The struct embeds these handles: it goes with the last close. */
	sv->closing = (int)sv->nsigs + 1;
	for (i = 0; i < sv->nsigs; i++)
		uv_close((uv_handle_t *)&sv->sigs[i], sv_handle_close_cb);
	uv_close((uv_handle_t *)&sv->drain_timer, sv_handle_close_cb);
}
