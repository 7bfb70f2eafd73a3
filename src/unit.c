/*
 * The unit state machine: one pure transition function, the restart
 * policy and the classification of a run's end. The runtime feeds it
 * events and performs the actions it returns; nothing here knows about
 * processes, tasks, timers or the clock.
 */
#include "config.h"

#include <assert.h>
#include <string.h>

#include "unit.h"

void
unit_sm_init(struct unit_sm *sm)
{
	memset(sm, 0, sizeof *sm);
	sm->state = UNIT_IDLE;
}

const char *
unit_state_name(enum unit_state s)
{
	switch (s) {
	case UNIT_IDLE:
		return "idle";
	case UNIT_WAITING:
		return "waiting";
	case UNIT_STARTING:
		return "starting";
	case UNIT_RUNNING:
		return "running";
	case UNIT_BACKOFF:
		return "backoff";
	case UNIT_STOPPING:
		return "stopping";
	case UNIT_EXITED:
		return "exited";
	case UNIT_FAILED:
		return "failed";
	case UNIT_REMOVED:
		return "removed";
	case UNIT_NSTATES:
		break;
	}
	return "unknown";
}

const char *
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
	case END_NOT_READY:
		return "not-ready";
	case END_UNHEALTHY:
		return "unhealthy";
	case END_EARLY:
		return "early";
	}
	return "unknown";
}

const char *
unit_event_name(enum unit_event e)
{
	static const char *const names[UEV_NEVENTS] = {
		"start", "restart", "stop", "remove", "respec", "deps-met",
		"deps-failed", "ready", "unhealthy", "unbound", "timer",
		"exit",
	};

	return e < UEV_NEVENTS ? names[e] : "unknown";
}

int
unit_state_is_active(enum unit_state s)
{
	return s == UNIT_WAITING || s == UNIT_STARTING || s == UNIT_RUNNING ||
	    s == UNIT_STOPPING || s == UNIT_BACKOFF;
}

int
unit_state_has_run(enum unit_state s)
{
	return s == UNIT_STARTING || s == UNIT_RUNNING || s == UNIT_STOPPING;
}

int
unit_state_can_produce(enum unit_state s)
{
	return unit_state_is_active(s);
}

int
unit_end_is_failure(enum unit_end end)
{
	return end != END_SUCCEEDED && end != END_STOPPED;
}

/*
 * Exponential backoff: initial * 2^(streak-1), capped at max, plus up to
 * a quarter of jitter so that units failing together do not restart in
 * lockstep. The jitter never pushes the delay past max.
 */
uint64_t
unit_backoff_ms(const struct backoff *b, uint64_t streak, uint32_t rnd)
{
	uint64_t	d = b->initial_ms, jitter;

	if (d == 0)
		return 0;
	while (streak > 1 && d < b->max_ms) {
		d *= 2;
		streak--;
	}
	if (d > b->max_ms)
		d = b->max_ms;
	jitter = d / 4;
	if (jitter > 0)
		d += rnd % (jitter + 1);
	if (d > b->max_ms)
		d = b->max_ms;
	return d;
}

static int
unit_is_success(const struct unit_policy *p, int64_t status)
{
	size_t	i;

	if (p->success_codes == NULL)
		return status == 0;
	for (i = 0; i < p->nsuccess; i++)
		if (p->success_codes[i] == status)
			return 1;
	return 0;
}

/* How a run ended, from what was seen and why it was stopped. */
static enum unit_end
unit_classify(enum unit_why why, const struct unit_exit *x,
    const struct unit_policy *p)
{
	enum unit_end	end;

	if (x->spawn_failed)
		return END_SPAWN_FAILED;
	switch (why) {
	case UNIT_WHY_ASKED:
		return x->stop_escalated ? END_STOP_KILLED : END_STOPPED;
	case UNIT_WHY_NOT_READY:
		return END_NOT_READY;
	case UNIT_WHY_UNHEALTHY:
		return END_UNHEALTHY;
	case UNIT_WHY_NONE:
		break;
	}
	if (x->term_signal != 0)
		end = END_KILLED;
	else
		end = unit_is_success(p, x->exit_status) ? END_SUCCEEDED :
		    END_FAILED;
	/* Whatever its status, a run shorter than min_uptime never started. */
	if (p->min_uptime_ms > 0 && x->ran_ms < p->min_uptime_ms)
		end = END_EARLY;
	return end;
}

/* Does the policy restart a run that ended so? */
static int
unit_wants_restart(const struct unit_policy *p, enum unit_end end)
{
	if (p->no_restart)
		return 0;
	switch (p->restart->policy) {
	case RESTART_ALWAYS:
		return end != END_STOPPED && end != END_STOP_KILLED;
	case RESTART_ON_FAILURE:
		return end != END_SUCCEEDED && end != END_STOPPED &&
		    end != END_STOP_KILLED;
	default:
		return 0;
	}
}

/* A fresh life: new history, then dependencies or a run. */
static void
unit_begin(struct unit_sm *sm, const struct unit_policy *p,
    struct unit_out *o)
{
	memset(&sm->hist, 0, sizeof sm->hist);
	sm->pending = UNIT_PEND_NONE;
	sm->why = UNIT_WHY_NONE;
	if (p->has_deps) {
		sm->state = UNIT_WAITING;
		o->actions |= UACT_START_DEPS;
		return;
	}
	sm->state = UNIT_STARTING;
	sm->ever_started = 1;
	o->actions |= UACT_SPAWN;
}

/* Ask the run that is up to end, for a reason, then do what is pending. */
static void
unit_ask_stop(struct unit_sm *sm, enum unit_why why, enum unit_pending pend,
    struct unit_out *o)
{
	sm->state = UNIT_STOPPING;
	sm->why = why;
	sm->pending = pend;
	o->actions |= UACT_DISARM | UACT_STOP;
}

/* Ended for good, failed or not; no timer left. */
static void
unit_settle(struct unit_sm *sm, int failed, struct unit_out *o)
{
	sm->state = failed ? UNIT_FAILED : UNIT_EXITED;
	sm->pending = UNIT_PEND_NONE;
	sm->why = UNIT_WHY_NONE;
	o->actions |= UACT_WAKE;
}

static void
unit_forget(struct unit_sm *sm, struct unit_out *o)
{
	sm->state = UNIT_REMOVED;
	sm->pending = UNIT_PEND_NONE;
	sm->why = UNIT_WHY_NONE;
	o->actions |= UACT_WAKE | UACT_FORGET;
}

/* The run is over: classify it, then start again, back off or settle. */
static void
unit_run_over(struct unit_sm *sm, const struct unit_exit *x,
    const struct unit_policy *p, uint32_t rnd, struct unit_out *o)
{
	enum unit_end	end = unit_classify(sm->why, x, p);

	o->actions |= UACT_ENDED | UACT_DISARM | UACT_WAKE;
	o->end = end;
	sm->last_end = end;
	sm->has_ended = 1;
	if (sm->pending == UNIT_PEND_REMOVE) {
		unit_forget(sm, o);
		return;
	}
	if (sm->pending == UNIT_PEND_START && !p->no_restart) {
		unit_begin(sm, p, o);
		return;
	}
	if (sm->pending == UNIT_PEND_WAIT && !p->no_restart) {
		/* Bound to a dependency: back to waiting for it. */
		sm->state = UNIT_WAITING;
		sm->pending = UNIT_PEND_NONE;
		sm->why = UNIT_WHY_NONE;
		return;
	}
	/* A run that outlived the backoff ceiling was healthy: start afresh. */
	if (x->ran_ms > p->restart->backoff.max_ms)
		sm->hist.streak = 0;
	if (!unit_wants_restart(p, end)) {
		unit_settle(sm, unit_end_is_failure(end), o);
		return;
	}
	if (p->restart->max_restarts != MANIFEST_UNLIMITED &&
	    sm->hist.restarts >= p->restart->max_restarts) {
		o->gave_up = 1;
		unit_settle(sm, 1, o);
		return;
	}
	sm->hist.restarts++;
	sm->hist.streak++;
	sm->state = UNIT_BACKOFF;
	sm->pending = UNIT_PEND_NONE;
	sm->why = UNIT_WHY_NONE;
	o->delay_ms = unit_backoff_ms(&p->restart->backoff, sm->hist.streak,
	    rnd);
	o->actions |= UACT_ARM;
}

void
unit_step(struct unit_sm *sm, enum unit_event ev, const struct unit_exit *x,
    const struct unit_policy *p, uint32_t rnd, struct unit_out *o)
{
	enum unit_state	s = sm->state;

	memset(o, 0, sizeof *o);
	switch (ev) {
	case UEV_START:
		if (s == UNIT_IDLE || s == UNIT_EXITED || s == UNIT_FAILED)
			unit_begin(sm, p, o);
		else if (s == UNIT_BACKOFF) {
			/* Asked to start now: the backoff is over. */
			sm->state = UNIT_STARTING;
			sm->ever_started = 1;
			o->actions |= UACT_DISARM | UACT_SPAWN;
		} else if (s == UNIT_STOPPING &&
		    sm->pending == UNIT_PEND_NONE)
			sm->pending = UNIT_PEND_START;
		else
			o->ignored = 1;
		break;
	case UEV_RESTART:
	case UEV_RESPEC:
		if (s == UNIT_STARTING || s == UNIT_RUNNING)
			unit_ask_stop(sm, UNIT_WHY_ASKED, UNIT_PEND_START, o);
		else if (ev == UEV_RESPEC && s == UNIT_STOPPING &&
		    sm->pending == UNIT_PEND_REMOVE)
			/* The manifest declares it again: it stays, anew. */
			sm->pending = UNIT_PEND_START;
		else if (ev == UEV_RESPEC)
			/* Not up: the caller applies the new spec as it is. */
			o->ignored = 1;
		else if (s == UNIT_STOPPING && sm->pending != UNIT_PEND_REMOVE)
			sm->pending = UNIT_PEND_START;
		else if (s == UNIT_IDLE || s == UNIT_EXITED ||
		    s == UNIT_FAILED || s == UNIT_BACKOFF) {
			o->actions |= s == UNIT_BACKOFF ? UACT_DISARM : 0;
			unit_begin(sm, p, o);
		} else
			o->ignored = 1;
		break;
	case UEV_STOP:
		if (s == UNIT_STARTING || s == UNIT_RUNNING)
			unit_ask_stop(sm, UNIT_WHY_ASKED, UNIT_PEND_NONE, o);
		else if (s == UNIT_STOPPING) {
			/* Asked now: the end is a stop, not a failure. */
			sm->why = UNIT_WHY_ASKED;
			if (sm->pending == UNIT_PEND_START)
				sm->pending = UNIT_PEND_NONE;
			else
				o->ignored = 1;
		} else if (s == UNIT_WAITING) {
			o->actions |= UACT_DISARM;
			unit_settle(sm, 0, o);
		} else if (s == UNIT_BACKOFF) {
			o->actions |= UACT_DISARM;
			sm->last_end = END_STOPPED;
			sm->has_ended = 1;
			unit_settle(sm, 0, o);
		} else
			o->ignored = 1;
		break;
	case UEV_REMOVE:
		if (s == UNIT_STARTING || s == UNIT_RUNNING)
			unit_ask_stop(sm, UNIT_WHY_ASKED, UNIT_PEND_REMOVE, o);
		else if (s == UNIT_STOPPING) {
			sm->pending = UNIT_PEND_REMOVE;
			sm->why = UNIT_WHY_ASKED;
		} else if (s == UNIT_REMOVED)
			o->ignored = 1;
		else {
			o->actions |= UACT_DISARM;
			unit_forget(sm, o);
		}
		break;
	case UEV_DEPS_MET:
		if (s == UNIT_WAITING) {
			sm->state = UNIT_STARTING;
			sm->ever_started = 1;
			o->actions |= UACT_SPAWN;
		} else
			o->ignored = 1;
		break;
	case UEV_DEPS_FAILED:
		if (s == UNIT_WAITING)
			unit_settle(sm, 1, o);
		else
			o->ignored = 1;
		break;
	case UEV_READY:
		if (s == UNIT_STARTING) {
			sm->state = UNIT_RUNNING;
			sm->ever_ready = 1;
			o->actions |= UACT_DISARM;
		} else
			o->ignored = 1;
		break;
	case UEV_UNHEALTHY:
		if (s == UNIT_RUNNING)
			unit_ask_stop(sm, UNIT_WHY_UNHEALTHY, UNIT_PEND_NONE, o);
		else
			o->ignored = 1;
		break;
	case UEV_UNBOUND:
		if (s == UNIT_STARTING || s == UNIT_RUNNING)
			unit_ask_stop(sm, UNIT_WHY_ASKED, UNIT_PEND_WAIT, o);
		else if (s == UNIT_STOPPING && sm->pending == UNIT_PEND_START)
			sm->pending = UNIT_PEND_WAIT;
		else if (s == UNIT_BACKOFF) {
			sm->state = UNIT_WAITING;
			o->actions |= UACT_DISARM;
		} else
			o->ignored = 1;
		break;
	case UEV_TIMER:
		if (s == UNIT_BACKOFF) {
			sm->state = UNIT_STARTING;
			sm->ever_started = 1;
			o->actions |= UACT_SPAWN;
		} else if (s == UNIT_STARTING)
			/* The ready timeout: a failed run, whatever its status. */
			unit_ask_stop(sm, UNIT_WHY_NOT_READY, UNIT_PEND_NONE, o);
		else
			o->ignored = 1;
		break;
	case UEV_EXIT:
		assert(x != NULL);
		if (unit_state_has_run(s))
			unit_run_over(sm, x, p, rnd, o);
		else
			o->ignored = 1;
		break;
	case UEV_NEVENTS:
		o->ignored = 1;
		break;
	}
}
