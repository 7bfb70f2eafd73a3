/*
 * Private to the supervisor's own files (supervisor.c and sv-*.c): the
 * unit and supervisor structs and the functions those files call across
 * each other. Only they may include it; everyone else uses supervisor.h.
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

/*
 * What only a process unit has: the current run's child and pipes, how it
 * shows it is ready, and why its last spawn failed. A unit's kind never
 * changes (reload replaces a unit whose spec changed kind), so this is
 * allocated once, with the unit's first process spec, and a task unit
 * does not pay for it.
 */
struct unit_proc {
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
};

/*
 * One unit: a process instance or a task. Ten thousand idle tasks are ten
 * thousand of these, so what only one kind or only a rare command needs
 * lives elsewhere: a process's run state in struct unit_proc, the timer in
 * the scheduler's heap (an alarm is 32 bytes, a uv_timer_t 152).
 */
struct unit {
	struct supervisor	*sv;
	const char		*base;		/* the spec's name */
	const struct proc_spec	*ps;		/* exactly one of ps and ts */
	const struct task_spec	*ts;
	struct unit_proc	*pr;		/* processes only; NULL for tasks */
	enum unit_state		 state;
	enum unit_end		 last_end;
	enum timer_use		 timer_use;	/* what timer is for */
	int			 last_status;	/* exit code, 128+signal */
	struct unit_history	 hist;
	unsigned int		 has_ended:1;	/* a run ended at least once */
	unsigned int		 failed:1;	/* ended for good as a failure */
	unsigned int		 live:1;	/* counted as their producer */
	unsigned int		 stop_requested:1;	/* of the current run */
	unsigned int		 restart_requested:1;
	unsigned int		 ever_started:1;
	unsigned int		 ever_ready:1;
	unsigned int		 is_ready:1;	/* the current run */
	unsigned int		 removing:1;	/* forget it once it ended */
	unsigned int		 respec:1;	/* reload: restart with next_* */
	char			**args;		/* from "start UNIT ARGS" */
	size_t			 nargs;

	/* Queues this unit feeds (one entry per destination) and reads. */
	struct wqueue		**produces;
	size_t			 nproduces;
	struct unit_sub		*subs;		/* tasks: get / for */
	size_t			 nsubs;

	uint64_t		 started_ms;	/* of the current run */

	/* The current run of a task. */
	struct task		*task;
	struct filesink		**sinks;	/* a task's file: outputs */
	size_t			 nsinks;
	struct wq_waiter	*qwaiter;	/* task blocked on a queue */
	struct unit		*waiting_on;	/* task blocked in "wait" */

	/* The unit's one timer, and the tasks in "wait" on it. */
	struct sched_alarm	 timer;
	struct unit_waiters	 waiters;	/* tasks in "wait" on us */
	TAILQ_ENTRY(unit)	 wait_entry;

	/* Control: recent console output, followers, life changes. */
	struct logring		*log;		/* made at the first line */
	struct follower		*followers;
	struct manifest		*own;		/* added by ctl: its spec's home */
	const struct proc_spec	*next_ps;
	const struct task_spec	*next_ts;
	char			 name[];	/* "web", or "web.2" for replicas */
};

/*
 * Someone following a unit's output ("ctl logs -f"), or every unit's
 * (all: on the supervisor's list, unit NULL).
 */
struct follower {
	struct follower	 *next;
	struct unit	 *unit;
	int		  all;
	sv_line_fn	 *fn;
	void		 *arg;
};

/* Signal handles: ours, the forwarded ones, the real-time ones. */
#define SV_MAX_SIGNALS	64

struct supervisor {
	uv_loop_t		*loop;
	const struct manifest	*m;
	struct wire		*wire;
	struct unit		**units;
	size_t			 nunits;
	uv_signal_t		 sigs[SV_MAX_SIGNALS];
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
	struct sched		*sched;		/* every task's turns and alarms */
	struct unit		**dead;		/* forgotten, freed on a turn */
	size_t			 ndead;
	struct sched_turn	 reap;
	int			 keep;		/* --keep: stay up when idle */
	char			*socket_path;	/* PYTASKING_SOCKET for children */
	struct guard		*guard;		/* told of each group; or NULL */
	supervisor_loader	 loader;
	void			*loader_arg;
	struct manifest		**old;		/* replaced by reloads; kept */
	size_t			 nold;
	struct follower		*all_followers;	/* "ctl logs -f" of all */
	uint64_t		 log_seq;	/* console lines seen, in order */
};

/* supervisor.c: the core. */
int		 unit_is_active(const struct unit *);
struct proc	*unit_child(const struct unit *);
const struct restart_spec *unit_restart_spec(const struct unit *);
size_t		 sv_find_units(struct supervisor *, const char *, size_t *);
void		 unit_start(struct unit *, char **, size_t);
void		 unit_wake_waiters(struct unit *);
void		 unit_judge_run(struct unit *, const struct unit_exit *);
void		 unit_run_end(struct unit *);
void		 unit_stop(struct unit *);
void		 sv_check_waiting(struct supervisor *);
void		 sv_maybe_notify_ready(struct supervisor *);
void		 sv_maybe_done(struct supervisor *);

/* sv-units.c: adding, re-speccing and forgetting units. */
void		 unit_add_sub(struct unit *, struct wqueue *);
void		 sv_unit_free(struct unit *);
void		 sv_reap_cb(struct sched_turn *);
struct unit	*sv_add_unit(struct supervisor *, const char *, const char *);
void		 sv_add_proc_units(struct supervisor *,
		    const struct proc_spec *);
void		 sv_forget_unit(struct supervisor *, struct unit *);
void		 unit_apply_spec(struct unit *, const struct proc_spec *,
		    const struct task_spec *);

/* sv-run.c: one run of a process or a task. */
void		 unit_spawn(struct unit *);
void		 unit_console_cb(void *, const char *, size_t);
void		 unit_timer_cb(struct sched_alarm *);
void		 unit_timer_start(struct unit *, enum timer_use, uint64_t);
void		 unit_timer_stop(struct unit *);
void		 unit_unwatch_ready(struct unit *);
void		 unit_close_sinks(struct unit *);
struct log_event;
void		 unit_log_event(const struct unit *, struct log_event *,
		    const char *);

/* sv-task.c: the task host. */
void		 sv_host_init(struct supervisor *);
int		 host_signal(void *, const char *, int, char **);
void		 host_unwait(void *);
void		 sv_qwaiter_cb(struct wq_waiter *);

/* sv-reload.c: reload. */
void		 sv_gc_manifests(struct supervisor *);

#endif
