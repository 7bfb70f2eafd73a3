/*
 * The life of one unit (a process instance or a task) as one pure state
 * machine: unit_step(state, event, policy) -> (next state, actions), in
 * the manner of s6-supervise's state x event table. No libuv, no clock,
 * no processes: the caller passes what happened (and a random number for
 * backoff jitter), performs the actions it gets back and feeds every
 * outcome in again as an event. That makes every life cycle rule, and
 * every combination of them, testable as a table.
 */
#ifndef PYT_UNIT_H
#define PYT_UNIT_H

#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

enum unit_state {
	UNIT_IDLE,	/* not started since it was added */
	UNIT_WAITING,	/* started, waiting for its dependencies */
	UNIT_STARTING,	/* a run is up, not ready yet */
	UNIT_RUNNING,	/* a run is up and ready */
	UNIT_STOPPING,	/* a run was asked to end and has not yet */
	UNIT_BACKOFF,	/* between runs, waiting to restart */
	UNIT_EXITED,	/* ended for good, successfully or stopped */
	UNIT_FAILED,	/* ended for good, failed */
	UNIT_REMOVED,	/* gone from the supervisor */
	UNIT_NSTATES
};

enum unit_event {
	UEV_START,	/* autostart, ctl start, a task's start */
	UEV_RESTART,	/* ctl restart, a task's restart */
	UEV_STOP,	/* ctl stop, a task's cancel, shutdown */
	UEV_REMOVE,	/* ctl remove, or gone from a reloaded manifest */
	UEV_RESPEC,	/* reload changed the spec: run again under it */
	UEV_DEPS_MET,
	UEV_DEPS_FAILED, /* a dependency can no longer hold */
	UEV_READY,
	UEV_UNHEALTHY,	/* the liveness probe failed */
	UEV_UNBOUND,	/* a dependency it is bound to no longer holds */
	UEV_TIMER,	/* the one timer: backoff, or the ready timeout */
	UEV_EXIT,	/* the run is over (struct unit_exit says how) */
	UEV_NEVENTS
};

/* What is asked of the current run, decided when it was stopped. */
enum unit_pending {
	UNIT_PEND_NONE,		/* end, and let the restart policy decide */
	UNIT_PEND_START,	/* start afresh once it has stopped */
	UNIT_PEND_REMOVE,	/* forget the unit once it has stopped */
	UNIT_PEND_WAIT,		/* wait for its dependencies once stopped */
};

/* Why the current run is being stopped. */
enum unit_why {
	UNIT_WHY_NONE,
	UNIT_WHY_ASKED,		/* ctl, a task, reload, shutdown */
	UNIT_WHY_NOT_READY,	/* ready_timeout passed */
	UNIT_WHY_UNHEALTHY,	/* the liveness probe failed */
};

enum unit_end {
	END_SUCCEEDED,	/* an exit status in success_codes */
	END_FAILED,	/* another exit status, or a task whose step failed */
	END_KILLED,	/* died of a signal nobody asked for */
	END_SPAWN_FAILED,
	END_STOPPED,	/* asked to stop (or cancelled) and did */
	END_STOP_KILLED, /* asked to stop, had to be SIGKILLed at the timeout */
	END_NOT_READY,	/* stopped because ready_timeout passed */
	END_UNHEALTHY,	/* stopped because its liveness probe failed */
	END_EARLY,	/* ended within min_uptime: a failed start */
};

/* What the runtime saw of one run (with UEV_EXIT). */
struct unit_exit {
	int		spawn_failed;
	int64_t		exit_status;
	int		term_signal;	/* 0 when it exited */
	int		stop_escalated;	/* we had to send SIGKILL */
	uint64_t	ran_ms;
};

/* What the unit remembers across runs. */
struct unit_history {
	uint32_t	restarts;	/* total, for max_restarts */
	uint32_t	streak;		/* failed runs in a row, for backoff */
};

/* The whole state of a unit's life: only unit_step writes it. */
struct unit_sm {
	enum unit_state		state;
	enum unit_pending	pending;
	enum unit_why		why;
	enum unit_end		last_end;
	struct unit_history	hist;
	unsigned int		has_ended:1;	/* a run ended at least once */
	unsigned int		ever_started:1;
	unsigned int		ever_ready:1;
};

/* The rules a unit lives by: from its spec, and the supervisor's mode. */
struct unit_policy {
	const struct restart_spec *restart;
	const int	*success_codes;	/* NULL: only 0 */
	size_t		 nsuccess;
	uint64_t	 min_uptime_ms;	/* 0: any run counts */
	int		 has_deps;
	int		 no_restart;	/* shutting down: nothing restarts */
};

/* What the caller must do, in this order. */
enum unit_action {
	UACT_DISARM	= 1 << 0,	/* stop the timer */
	UACT_ENDED	= 1 << 1,	/* a run ended: log end, restart */
	UACT_STOP	= 1 << 2,	/* stop signal to the run, or cancel */
	UACT_START_DEPS	= 1 << 3,	/* start dependencies never started */
	UACT_SPAWN	= 1 << 4,	/* start a run (arm ready timeout) */
	UACT_ARM	= 1 << 5,	/* start the timer for delay_ms */
	UACT_WAKE	= 1 << 6,	/* wake whoever waits for a run's end */
	UACT_FORGET	= 1 << 7,	/* drop the unit */
};

struct unit_out {
	unsigned int	actions;	/* enum unit_action bits */
	uint64_t	delay_ms;	/* with UACT_ARM */
	enum unit_end	end;		/* with UACT_ENDED */
	int		gave_up;	/* with UACT_ENDED: max_restarts spent */
	int		ignored;	/* the event changed nothing */
};

/* A new unit, never started. */
void		 unit_sm_init(struct unit_sm *);
/*
 * The transition function: feed one event, get the next state in *sm and
 * the actions in *out. x is read only for UEV_EXIT; rnd only for the
 * jitter of a restart's backoff.
 */
void		 unit_step(struct unit_sm *, enum unit_event,
		    const struct unit_exit *x, const struct unit_policy *,
		    uint32_t rnd, struct unit_out *);
/* Waiting, starting, running, stopping or backing off. */
int		 unit_state_is_active(enum unit_state);
/* A run is up (a process or a task exists). */
int		 unit_state_has_run(enum unit_state);
/* May still write into the queues it feeds (counted as a producer). */
int		 unit_state_can_produce(enum unit_state);
/* Is this end a failure for the exit status of the supervisor? */
int		 unit_end_is_failure(enum unit_end);
const char	*unit_state_name(enum unit_state);
const char	*unit_end_name(enum unit_end);
const char	*unit_event_name(enum unit_event);
/* Backoff before restart number streak (1-based), with jitter from rnd. */
uint64_t	 unit_backoff_ms(const struct backoff *, uint64_t streak,
		    uint32_t rnd);

#endif
