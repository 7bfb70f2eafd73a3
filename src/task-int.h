/*
 * Private to the task interpreter's own files (task.c and task-*.c): the
 * task and frame structs, and the functions those files call across each
 * other. Only they may include it; everyone else uses task.h.
 */
#ifndef PYT_TASK_INT_H
#define PYT_TASK_INT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "scheduler.h"
#include "script.h"
#include "task.h"

/* task.c's own: the on_cancel alarm and the variables. */
struct task_cancel_alarm;
struct task_var;

enum task_phase {
	TASK_NEW,	/* task_start has not run its first step yet */
	TASK_RUN,	/* the run script */
	TASK_CANCEL,	/* the on_cancel script, under cancel_timeout */
	TASK_ENDED,	/* host->ended was called */
};

/* What the task waits for. */
enum task_wait {
	WAIT_NONE,	/* running, or nothing scheduled */
	WAIT_TURN,	/* the scheduler's next turn */
	WAIT_SLEEP,	/* the step alarm */
	WAIT_EVERY,	/* the step alarm: the next tick of an every block */
	WAIT_OUTPUT,	/* host: room for output (the line went out) */
	WAIT_PUT,	/* host: room in a queue */
	WAIT_GET,	/* host: an item; the step alarm for the timeout, if any */
	WAIT_UNIT,	/* host: a unit to end */
	WAIT_FOR,	/* host: an item for a for block's next round */
};

/* What one step did to the run. */
enum task_result {
	RESULT_NEXT,	/* go on with the next step */
	RESULT_WAIT,	/* return to the loop; the scheduler or the host resumes */
	RESULT_END,	/* the script ended: end_status says how */
};

/*
 * One level of the step tree being run: the base script, or a block. pc
 * is the next step; pc == nsteps means the round ended, and the block's
 * head decides what comes next (a new round or leaving the block).
 */
struct task_frame {
	const struct script	*script;
	const struct step	*block;	/* NULL for the base frame */
	size_t			 pc;
	uint64_t		 index;	/* repeat: the round, from 1 */
	uint64_t		 tick;	/* every: when the current round was due */
	int			 begun;	/* every: the first round started */
};

/*
 * No libuv handle of its own: a task waits on its scheduler's (scheduler.c),
 * so an idle task costs a few hundred bytes, not three handles.
 */
struct task {
	struct sched		*sched;
	const struct task_spec	*spec;
	const struct task_host	*host;
	void			*arg;
	char			**args;
	size_t			 nargs;

	struct sched_turn	 turn;		/* run on the next loop turn */
	struct sched_alarm	 timer;		/* sleep, every, get's timeout */
	struct task_cancel_alarm *cancel_timer;	/* bounds on_cancel */
	int			 status;	/* $status, unless set by "set" */
	int			 end_status;
	unsigned int		 burst;		/* steps since the last wait */
	enum task_phase		 phase;
	enum task_wait		 wait;

	/* Flags as bits: ten thousand idle tasks are ten thousand of these. */
	unsigned int		 started:1;
	unsigned int		 woken:1;	/* task_wake for a host wait */
	unsigned int		 timed_out:1;	/* get's timeout expired */
	unsigned int		 cancel_requested:1;
	unsigned int		 running:1;	/* inside task_run */
	unsigned int		 cancel_overran:1; /* on_cancel cut at its timeout */
	unsigned int		 end_failed:1;

	/*
	 * The frame stack starts in frame0: most tasks never nest, and a
	 * separate allocation would cost them more than the frame.
	 */
	struct task_frame	*frames;
	uint32_t		 nframes;
	uint32_t		 framecap;
	struct task_frame	 frame0;
	struct task_var		*vars;
	size_t			 nvars;
};

/* task.c: variables, expansion, frames and waits. */
void		 task_var_set(struct task *, const char *, const char *,
		    size_t);
void		 task_set_status(struct task *, int);
void		 task_join(struct task *, const struct step *, size_t,
		    struct buf *);
char		*task_word(struct task *, const struct step *, size_t);
struct task_frame *task_top(struct task *);
void		 task_schedule(struct task *);
void		 task_timer_start(struct task *, uint64_t);

/* task-builtins.c: the steps, and the heads of every and for blocks. */
enum task_result task_command(struct task *, const struct step *,
		    enum task_wait);
enum task_result task_every(struct task *, struct task_frame *,
		    enum task_wait);
enum task_result task_for(struct task *, struct task_frame *);

#endif
