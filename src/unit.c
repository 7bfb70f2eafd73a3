/*
 * Restart policy and run classification, as pure functions of what
 * happened. The runtime (supervisor.c, task.c) feeds them events; nothing
 * here knows about processes, timers or the clock.
 */
#include "config.h"

#include "unit.h"

const char *
unit_state_name(enum unit_state s)
{
	switch (s) {
	case UNIT_IDLE:
		return "idle";
	case UNIT_WAITING:
		return "waiting";
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
	}
	return "unknown";
}

int
unit_end_is_failure(enum unit_end end)
{
	return end == END_FAILED || end == END_KILLED ||
	    end == END_SPAWN_FAILED || end == END_STOP_KILLED;
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

static enum unit_end
unit_classify(const struct unit_exit *x)
{
	if (x->spawn_failed)
		return END_SPAWN_FAILED;
	if (x->stop_requested)
		return x->stop_escalated ? END_STOP_KILLED : END_STOPPED;
	if (x->term_signal != 0)
		return END_KILLED;
	return x->exit_status == 0 ? END_SUCCEEDED : END_FAILED;
}

void
unit_judge(const struct restart_spec *rs, struct unit_history *h,
    const struct unit_exit *x, uint32_t rnd, struct unit_verdict *v)
{
	int	want;

	v->end = unit_classify(x);
	v->restart = 0;
	v->delay_ms = 0;
	v->gave_up = 0;

	/* A run that outlived the backoff ceiling was healthy: start afresh. */
	if (x->ran_ms > rs->backoff.max_ms)
		h->streak = 0;

	switch (rs->policy) {
	case RESTART_ALWAYS:
		want = v->end != END_STOPPED && v->end != END_STOP_KILLED;
		break;
	case RESTART_ON_FAILURE:
		want = v->end == END_FAILED || v->end == END_KILLED ||
		    v->end == END_SPAWN_FAILED;
		break;
	default:
		want = 0;
		break;
	}
	if (!want) {
		v->next = unit_end_is_failure(v->end) ? UNIT_FAILED : UNIT_EXITED;
		return;
	}
	if (rs->max_restarts != MANIFEST_UNLIMITED &&
	    h->restarts >= rs->max_restarts) {
		v->gave_up = 1;
		v->next = UNIT_FAILED;
		return;
	}
	h->restarts++;
	h->streak++;
	v->restart = 1;
	v->delay_ms = unit_backoff_ms(&rs->backoff, h->streak, rnd);
	v->next = UNIT_BACKOFF;
}
