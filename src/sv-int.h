/*
 * Private to the supervisor (supervisor.c, the core, and sv-control.c,
 * its control interface): the unit and supervisor structs and the core
 * calls the control interface makes. Only they may include it; everyone
 * else uses supervisor.h.
 */
#ifndef PYT_SV_INT_H
#define PYT_SV_INT_H

#include <sys/queue.h>

#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "logring.h"
#include "scheduler.h"
#include "manifest.h"
#include "supervisor.h"
#include "task.h"
#include "unit.h"
#include "wire.h"

struct unit;

/* A task in "wait" for a unit to end. */
struct unit_wait {
	TAILQ_ENTRY(unit_wait)	 entry;
	struct unit		*task;
	struct unit		*on;
};
TAILQ_HEAD(unit_waits, unit_wait);

/* A queue a task reads, with its subscriber id. */
struct unit_sub {
	struct wqueue	*wq;
	size_t		 sub;
};

/*
 * What only a process unit has: the current run's child and pipes, how it
 * shows it is ready, and why its last spawn failed. A unit's kind never
 * changes (reload replaces a unit whose spec changed kind), so this is
 * allocated once, with the unit's first process spec, and a task unit
 * does not pay for it.
 */
struct unit_proc {
	struct unit		*unit;		/* whose it is */
	struct proc		*proc;
	struct outlet		*out;
	struct outlet		*err;
	struct inlet		*in;
	struct wqueue		*stdin_wq;
	size_t			 stdin_sub;
	int			 exited;
	int			 term_signal;
	int64_t			 exit_status;
	int			 has_ready_re;
	regex_t			 ready_re;
	struct outlet		*ready_fd;	/* the ready: {fd: N} pipe */
	struct probe		*probe;		/* exec, tcp, http */
	char			*spawn_error;	/* why the last spawn failed */
	struct sched_alarm	 drain;		/* exited; pipes still open */
	pid_t			 tail_pgid;	/* exited leader's group, writing */
	struct probe		*live;		/* the liveness probe in flight */
	struct sched_alarm	 live_alarm;	/* next probe, or its timeout */
	uint64_t		 live_fails;	/* failed probes in a row */
};

/* A reload's spec for a unit, taken once no run uses the old one. */
struct unit_next {
	struct manifest		*m;		/* a reference */
	const struct proc_spec	*ps;
	const struct task_spec	*ts;
};

/*
 * One unit: a process instance or a task. Its life is sm, written only
 * by the core's sv_post through unit_step; everything else here is what
 * the actions need. Ten thousand idle tasks are ten thousand of these,
 * so what only one kind needs lives elsewhere (struct unit_proc), and the
 * timer is an alarm on the scheduler (32 bytes, a uv_timer_t is 152).
 */
struct unit {
	struct supervisor	*sv;
	const char		*base;		/* the spec's name */
	unsigned		 idx;		/* replica number; 0: none */
	uint32_t		 runs;		/* runs started (wraps) */
	struct unit_sm		 sm;
	const struct proc_spec	*ps;		/* exactly one of ps and ts */
	const struct task_spec	*ts;
	struct manifest		*m;		/* holds ps or ts (a ref) */
	struct unit_next	*next;		/* reload: the spec to take */
	struct manifest		*run_m;		/* the current run's spec's */
	struct unit_proc	*pr;		/* processes only; NULL for tasks */
	int			 last_status;	/* exit code, 128+signal */
	unsigned int		 producing:1;	/* counted by its queues */
	unsigned int		 added:1;	/* by ctl add, not the manifest */
	char			**args;		/* from "start UNIT ARGS" */
	size_t			 nargs;

	/* Queues this unit feeds (one entry per destination) and reads. */
	struct wqueue		**produces;
	size_t			 nproduces;
	const char		**starts;	/* tasks: units start/restart */
	size_t			 nstarts;
	struct unit_sub		*subs;		/* tasks: get / for */
	size_t			 nsubs;

	uint64_t		 started_ms;	/* of the current run */

	/* The current run of a task. */
	struct task		*task;
	struct filesink		**sinks;	/* a task's file: outputs */
	size_t			 nsinks;
	struct wq_waiter	*qwaiter;	/* task blocked on a queue */
	struct console_waiter	*cwaiter;	/* task blocked on the console */
	struct unit_wait	*waiting;	/* task blocked in "wait" */

	/* The unit's one timer (backoff, or the ready timeout). */
	struct sched_alarm	 timer;

	/* Control: recent console output. */
	struct logring		*log;		/* made at the first line */
	char			 name[];	/* "web", or "web.2" */
};

/*
 * Someone following the output of a name ("ctl logs -f"): whatever units
 * the name means as they come and go, until none is left.
 */
struct follower {
	LIST_ENTRY(follower)	 entry;
	char			*name;		/* NULL: every unit */
	sv_line_fn		*fn;
	void			*arg;
};
LIST_HEAD(followers, follower);

/* One event waiting for the core (posted while another is handled). */
struct sv_event {
	struct unit		*u;
	enum unit_event		 ev;
	struct unit_exit	 x;
};

/* A control command waiting for its units to settle (ctl stop). */
struct sv_op {
	LIST_ENTRY(sv_op)	 entry;
	enum unit_event		 ev;
	struct unit		**units;	/* NULL once gone */
	uint32_t		*runs;		/* each one's runs when asked */
	size_t			 n;
	void			(*fn)(void *);
	void			*arg;
	int			 armed;	/* the command was given */
};

/* Signal handles: ours, the forwarded ones, the real-time ones. */
#define SV_MAX_SIGNALS	64

struct supervisor {
	uv_loop_t		*loop;
	struct manifest		*m;		/* the current manifest (a ref) */
	struct wire		*wire;
	struct unit		**units;
	size_t			 nunits;
	uv_signal_t		 sigs[SV_MAX_SIGNALS];
	size_t			 nsigs;
	uv_timer_t		 drain_timer;
	int			 shutting_down;
	int			 drain_expired;
	int			 has_deps;	/* any unit has depends_on */
	int			 closing;	/* handles left to close */
	int			 started;	/* supervisor_start is over */
	int			 notified_ready;	/* READY=1 sent */
	int			 interrupts;	/* SIGINTs seen */
	int			 done;
	int			 killed_at_stop;
	uint32_t		 rnd;
	struct task_host	 host;
	struct sched		*sched;		/* every task's turns and alarms */
	struct unit		**dead;		/* forgotten, freed on a turn */
	size_t			 ndead;
	struct sched_turn	 reap;
	int			 keep;		/* --keep: stay up when idle */
	char			*socket_path;	/* PYTASKING_SOCKET for children */
	struct guard		*guard;		/* told of each group; or NULL */
	supervisor_loader	 loader;
	void			*loader_arg;
	supervisor_reload_hook	 reload_hook;
	void			*reload_hook_arg;

	/* The core's event queue: events posted while one is handled. */
	struct sv_event		*evq;
	size_t			 nevq, evq_head, evq_cap;
	int			 posting;
	LIST_HEAD(, sv_op)	 ops;
	struct unit_waits	 waits;		/* tasks in "wait" */
	struct followers	 followers;
	char			*exit_from;	/* --exit-code-from UNIT */
	int			 exit_from_done;
	int			 exit_from_status;
	uint64_t		 log_seq;	/* console lines seen, in order */
};

/* supervisor.c: the core. */
const struct restart_spec *unit_restart_spec(const struct unit *);
struct proc	*unit_child(const struct unit *);
/* The instances a name means, wherever they sit; *out allocated. */
size_t		 sv_select(struct supervisor *, const char *,
		    struct unit ***out);
/* Does the name mean this unit (its base name, or its own)? */
int		 sv_unit_is_named(const struct unit *, const char *);
/* Feed one event to a unit's state machine; 1 when it changed nothing. */
int		 sv_post(struct unit *, enum unit_event);
/* The same for every instance a name means; 0 or -1 with *cause. */
int		 sv_command(struct supervisor *, const char *, enum unit_event,
		    char **args, size_t nargs, int *changed, char **cause);
/* A unit for a spec of a manifest (a ref is taken), placed after its kin. */
struct unit	*sv_unit_new(struct supervisor *, struct manifest *,
		    const struct proc_spec *, const struct task_spec *,
		    unsigned idx);
void		 sv_maybe_done(struct supervisor *);
/* Call fn(arg) once the units a command named have done what it asked. */
struct sv_op	*sv_op_new(struct supervisor *, enum unit_event,
		    struct unit **, size_t, void (*)(void *), void *);
void		 sv_op_free(struct supervisor *, struct sv_op *);
int		 sv_op_is_done(const struct sv_op *);
/* The signal of ctl and of tasks: each instance, processes only. */
int		 sv_signal(struct supervisor *, const char *, int, char **);
void		 sv_respec(struct unit *, struct manifest *,
		    const struct proc_spec *, const struct task_spec *);
/* Set the number of instances of a process spec (reload, ctl scale). */
void		 sv_scale(struct supervisor *, struct manifest *,
		    const struct proc_spec *, unsigned n);

#endif
