/*
 * The task interpreter: runs a task's script (struct script) as a small
 * state machine on a scheduler's turns and alarms (scheduler.c), inside the
 * supervisor's loop. No process is forked. Everything a task does to the
 * world (units, queues, output) goes through the host callbacks, so this
 * file knows nothing of the supervisor or of how queues are stored.
 */
#ifndef PYT_TASK_H
#define PYT_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

struct sched;
struct task;

/*
 * What a task may ask of its host. arg is the host's handle for this task.
 * Calls that can wait return 1 and later call task_wake(); the task then
 * asks again. Errors return -1 with *cause (allocated, the task frees it).
 */
struct task_host {
	/* echo: one line to the task's stdout; 1 if it must wait for room. */
	int	(*output)(void *arg, const char *line, size_t len);
	/* put: 0 stored, 1 full (wake later). */
	int	(*put)(void *arg, const char *queue, const char *item,
		    size_t len, char **cause);
	/* close: end a queue's stream; 0, or -1 with *cause. */
	int	(*close)(void *arg, const char *queue, char **cause);
	/* get: 0 item in *item (task frees), 1 wait, -1 end of stream. */
	int	(*get)(void *arg, const char *queue, char **item, size_t *len,
		    char **cause);
	int	(*start)(void *arg, const char *unit, char **args,
		    size_t nargs, char **cause);
	int	(*cancel)(void *arg, const char *unit, char **cause);
	int	(*restart)(void *arg, const char *unit, char **cause);
	int	(*signal)(void *arg, const char *unit, int sig, char **cause);
	/* wait: 0 ended (*status set), 1 wait (wake later), -1 error. */
	int	(*wait)(void *arg, const char *unit, int *status, char **cause);
	/* Forget any wake-up registered for this task. */
	void	(*unwait)(void *arg);
	/*
	 * The task ended: status is its exit code; cancelled when it ended
	 * because it was cancelled; failed when a step failed or it exited
	 * non-zero, or, with cancelled, when its on_cancel steps overran
	 * cancel_timeout and were abandoned.
	 */
	void	(*ended)(void *arg, int status, int cancelled, int failed);
};

/* Owner: the caller; args are copied ($1...). */
struct task	*task_new(struct sched *, const struct task_spec *,
		    const struct task_host *, void *arg, char **args,
		    size_t nargs);
/* Begin running (from the next loop turn). */
void		 task_start(struct task *);
/*
 * Interrupt whatever the task waits in, run its on_cancel steps bounded
 * by cancel_timeout, then end it as cancelled. Idempotent.
 */
void		 task_cancel(struct task *);
/* The queue or unit the task waits on may be ready: look again. */
void		 task_wake(struct task *);
int		 task_is_running(const struct task *);
/* Free; the task must have ended. Memory goes in the last close callback. */
void		 task_free(struct task *);

#endif
