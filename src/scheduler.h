/*
 * Many waiters on two libuv handles: one idle handle runs every "turn"
 * queued for the next loop iteration, one timer fires every "alarm" that
 * is due, earliest first. A waiter embeds its sched_turn and sched_alarm
 * and costs a few words instead of a handle each (a uv_idle_t is 120
 * bytes, a uv_timer_t 152): ten thousand idle tasks need no handle of
 * their own. Owner: task.c; the supervisor creates one per loop.
 */
#ifndef PYT_SCHEDULER_H
#define PYT_SCHEDULER_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct sched;
struct sched_turn;
struct sched_alarm;

TAILQ_HEAD(sched_turns, sched_turn);

/* Runs once, on the next loop iteration after sched_turn_start. */
struct sched_turn {
	TAILQ_ENTRY(sched_turn)	 entry;
	struct sched_turns	*on;	/* the list it is queued on, or NULL */
	void			(*fn)(struct sched_turn *);
};

/* Runs once, when its time is due; alarms due together run in order. */
struct sched_alarm {
	uint64_t	 due;	/* loop time, ms */
	uint64_t	 seq;	/* start order, for ties */
	size_t		 idx;	/* in the heap; SIZE_MAX when stopped */
	void		(*fn)(struct sched_alarm *);
};

struct sched	*sched_new(uv_loop_t *);
/*
 * Let go: alarms are forgotten; turns still queued run (a deferred free
 * is one), then the handles close and the memory goes.
 */
void		 sched_free(struct sched *);
uint64_t	 sched_now(const struct sched *);

void		 sched_turn_init(struct sched_turn *,
		    void (*)(struct sched_turn *));
/* Queue for the next iteration; a queued turn stays queued once. */
void		 sched_turn_start(struct sched *, struct sched_turn *);
void		 sched_turn_stop(struct sched_turn *);

void		 sched_alarm_init(struct sched_alarm *,
		    void (*)(struct sched_alarm *));
/* Fire ms from now (restarting a running alarm). */
void		 sched_alarm_start(struct sched *, struct sched_alarm *,
		    uint64_t ms);
void		 sched_alarm_stop(struct sched *, struct sched_alarm *);
int		 sched_alarm_active(const struct sched_alarm *);

#endif
