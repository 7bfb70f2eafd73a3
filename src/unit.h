/*
 * The life of one unit (process instance or task) as pure functions: how
 * a run ended, whether to restart it and after how long. No libuv, no
 * clock: the caller passes what happened and a random number, which makes
 * every restart rule testable without running anything.
 */
#ifndef PYT_UNIT_H
#define PYT_UNIT_H

#include <stdint.h>

#include "manifest.h"

enum unit_state {
	UNIT_IDLE,	/* not started (autostart: false), or ended and reset */
	UNIT_WAITING,	/* started, waiting for its dependencies */
	UNIT_RUNNING,
	UNIT_BACKOFF,	/* waiting to restart */
	UNIT_STOPPING,
	UNIT_EXITED,	/* ended for good, successfully or stopped */
	UNIT_FAILED,	/* ended for good, failed */
};

enum unit_end {
	END_SUCCEEDED,	/* exit status 0 */
	END_FAILED,	/* non-zero exit status, or a task whose step failed */
	END_KILLED,	/* died of a signal nobody asked for */
	END_SPAWN_FAILED,
	END_STOPPED,	/* asked to stop (or cancelled) and did */
	END_STOP_KILLED, /* asked to stop, had to be SIGKILLed at the timeout */
};

/* What the runtime saw of one run. */
struct unit_exit {
	int		spawn_failed;
	int64_t		exit_status;
	int		term_signal;	/* 0 when it exited */
	int		stop_requested;	/* we asked it to stop or cancelled it */
	int		stop_escalated;	/* we had to send SIGKILL */
	uint64_t	ran_ms;
};

/* What the unit remembers across runs. */
struct unit_history {
	uint64_t	restarts;	/* total, for max_restarts */
	uint64_t	streak;		/* failed runs in a row, for backoff */
};

struct unit_verdict {
	enum unit_end	end;
	int		restart;	/* start again after delay_ms */
	uint64_t	delay_ms;
	int		gave_up;	/* would restart, but max_restarts is spent */
	enum unit_state	next;		/* UNIT_BACKOFF, UNIT_EXITED or UNIT_FAILED */
};

/* Classify a run's end and decide what comes next; updates history. */
void		 unit_judge(const struct restart_spec *, struct unit_history *,
		    const struct unit_exit *, uint32_t rnd, struct unit_verdict *);
/* Is this end a failure for the exit status of the supervisor? */
int		 unit_end_is_failure(enum unit_end);
const char	*unit_state_name(enum unit_state);
/* Backoff before restart number streak (1-based), with jitter from rnd. */
uint64_t	 unit_backoff_ms(const struct backoff *, uint64_t streak,
		    uint32_t rnd);

#endif
