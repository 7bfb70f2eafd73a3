/*
 * The task interpreter: a task's run and on_cancel scripts as a state
 * machine on the scheduler's turns and alarms, never blocking the loop.
 * Blocks are an explicit stack of frames, so a wait is a return to the
 * loop, not a suspended C call. The steps themselves are task-builtins.c's.
 * Units, queues and output are the host's; no supervisor in here.
 */
#include "config.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "scheduler.h"
#include "script.h"
#include "task.h"
#include "task-int.h"
#include "util.h"
#include "xmalloc.h"

/*
 * Steps (and block rounds) run back to back before the task gives the rest
 * of the loop a turn, so "loop: [echo x]" cannot starve other units.
 */
#define TASK_BURST	64

/*
 * The alarm bounding on_cancel, made when an on_cancel starts: most tasks
 * are never cancelled, or have no on_cancel.
 */
struct task_cancel_alarm {
	struct sched_alarm	 alarm;
	struct task		*task;
};

/* A task variable; values are bytes, NUL-terminated for convenience. */
struct task_var {
	char	*name;
	char	*value;
	size_t	 len;
};

static const struct script task_empty_script;

static void	task_run(struct task *);
static void	task_turn_cb(struct sched_turn *);
static void	task_timer_cb(struct sched_alarm *);
static void	task_cancel_timer_cb(struct sched_alarm *);

/* The task a scheduler callback is for: its embedded turn or alarm. */
static struct task *
task_of_turn(struct sched_turn *h)
{
	return (struct task *)(void *)((char *)h - offsetof(struct task, turn));
}

static struct task *
task_of_timer(struct sched_alarm *h)
{
	return (struct task *)(void *)((char *)h -
	    offsetof(struct task, timer));
}

static struct task *
task_of_cancel_timer(struct sched_alarm *h)
{
	return ((struct task_cancel_alarm *)(void *)h)->task;
}

static void
task_cancel_timer_stop(struct task *t)
{
	if (t->cancel_timer != NULL)
		sched_alarm_stop(t->sched, &t->cancel_timer->alarm);
}

/* Is the wait one the host ends with task_wake? */
static int
task_wait_is_host(enum task_wait w)
{
	return w == WAIT_OUTPUT || w == WAIT_PUT || w == WAIT_GET ||
	    w == WAIT_UNIT || w == WAIT_FOR;
}

/* ------------------------------------------------------------ variables */

/* The task's own variable called name, or NULL. */
static struct task_var *
task_var_find(struct task *t, const char *name)
{
	size_t	i;

	for (i = 0; i < t->nvars; i++)
		if (strcmp(t->vars[i].name, name) == 0)
			return &t->vars[i];
	return NULL;
}

/* Set a task variable to a copy of len bytes at value. */
void
task_var_set(struct task *t, const char *name, const char *value, size_t len)
{
	struct task_var	*v;

	if ((v = task_var_find(t, name)) == NULL) {
		t->vars = xreallocarray(t->vars, t->nvars + 1, sizeof *t->vars);
		v = &t->vars[t->nvars++];
		v->name = xstrdup(name);
	} else
		free(v->value);
	v->value = xmalloc(len + 1);
	if (len > 0)
		memcpy(v->value, value, len);
	v->value[len] = '\0';
	v->len = len;
}

/*
 * $status, as get and wait leave it: a number kept aside (no variable to
 * allocate for every task), unless "set status" made it a variable.
 */
void
task_set_status(struct task *t, int status)
{
	char	s[16];

	t->status = status;
	if (task_var_find(t, "status") == NULL)
		return;
	snprintf(s, sizeof s, "%d", status);
	task_var_set(t, "status", s, strlen(s));
}

/* Release every variable. */
static void
task_vars_free(struct task *t)
{
	size_t	i;

	for (i = 0; i < t->nvars; i++) {
		free(t->vars[i].name);
		free(t->vars[i].value);
	}
	free(t->vars);
	t->vars = NULL;
	t->nvars = 0;
}

/*
 * Append the value of $name: $index of the innermost repeat, the task's
 * own variables, $0 (the task's name) and $1... (its args), then its
 * env: and env_file:, then the supervisor's environment; anything else
 * is empty.
 */
static void
task_lookup(struct task *t, const char *name, struct buf *b)
{
	struct task_var	*v;
	const char	*s;
	size_t		 i, n;

	if (strcmp(name, "index") == 0) {
		for (i = t->nframes; i > 0; i--) {
			if (t->frames[i - 1].block != NULL &&
			    t->frames[i - 1].block->kind == STEP_REPEAT) {
				buf_addf(b, "%" PRIu64, t->frames[i - 1].index);
				return;
			}
		}
	}
	if ((v = task_var_find(t, name)) != NULL) {
		buf_add(b, v->value, v->len);
		return;
	}
	if (strcmp(name, "status") == 0) {
		buf_addf(b, "%d", t->status);
		return;
	}
	if (name[0] >= '0' && name[0] <= '9') {
		n = 0;
		for (s = name; *s >= '0' && *s <= '9'; s++) {
			if (n > t->nargs)
				break;
			n = n * 10 + (size_t)(*s - '0');
		}
		if (*s != '\0')
			return;
		if (n == 0)
			buf_adds(b, t->spec->name);
		else if (n <= t->nargs)
			buf_adds(b, t->args[n - 1]);
		return;
	}
	for (i = 0; i < t->spec->nenv; i++) {
		if (strcmp(t->spec->env[i].name, name) == 0) {
			buf_adds(b, t->spec->env[i].value);
			return;
		}
	}
	if ((s = getenv(name)) != NULL)
		buf_adds(b, s);
}

/* Append a word with its variables expanded; values are not split. */
static void
task_expand(struct task *t, const struct word *w, struct buf *b)
{
	size_t	i;

	for (i = 0; i < w->nparts; i++) {
		if (w->parts[i].kind == PART_LITERAL)
			buf_add(b, w->parts[i].text, w->parts[i].len);
		else
			task_lookup(t, w->parts[i].text, b);
	}
}

/* Words first... of a step, expanded and joined by one space. */
void
task_join(struct task *t, const struct step *st, size_t first, struct buf *b)
{
	size_t	i;

	buf_init(b);
	for (i = first; i < st->nwords; i++) {
		if (i > first)
			buf_addc(b, ' ');
		task_expand(t, &st->words[i], b);
	}
	/* Hosts get bytes and a length; a NUL after them costs nothing. */
	buf_addc(b, '\0');
	b->len--;
}

/* One word of a step, expanded, as an allocated string. */
char *
task_word(struct task *t, const struct step *st, size_t i)
{
	struct buf	b;

	buf_init(&b);
	if (i < st->nwords)
		task_expand(t, &st->words[i], &b);
	return buf_steal(&b);
}

/* --------------------------------------------------------------- frames */

/* Enter a script; pc == nsteps makes a block start at its head. */
static void
task_push(struct task *t, const struct script *s, const struct step *block)
{
	struct task_frame	*f;

	if (t->nframes == t->framecap) {
		if (t->frames == &t->frame0) {
			t->frames = xreallocarray(NULL, 4, sizeof *t->frames);
			t->frames[0] = t->frame0;
			t->framecap = 4;
		} else {
			t->framecap *= 2;
			t->frames = xreallocarray(t->frames, t->framecap,
			    sizeof *t->frames);
		}
	}
	f = &t->frames[t->nframes++];
	memset(f, 0, sizeof *f);
	f->script = s != NULL ? s : &task_empty_script;
	f->block = block;
	f->pc = block != NULL ? f->script->nsteps : 0;
}

/* The frame being run. */
struct task_frame *
task_top(struct task *t)
{
	return &t->frames[t->nframes - 1];
}

/* ---------------------------------------------------------------- waits */

/* Run again on the next loop turn (start, cancel, yield, wake). */
void
task_schedule(struct task *t)
{
	sched_turn_start(t->sched, &t->turn);
}

/* Wait ms on the step timer. */
void
task_timer_start(struct task *t, uint64_t ms)
{
	sched_alarm_start(t->sched, &t->timer, ms);
}

/* Drop whatever the task waits in: timers, and the host's wake-up. */
static void
task_interrupt(struct task *t)
{
	sched_alarm_stop(t->sched, &t->timer);
	if (task_wait_is_host(t->wait))
		t->host->unwait(t->arg);
	t->wait = WAIT_NONE;
	t->woken = 0;
	t->timed_out = 0;
}

/* --------------------------------------------------------------- rounds */

/* The end of a round: the block's head starts another or leaves. */
static enum task_result
task_round(struct task *t, enum task_wait resumed)
{
	struct task_frame	*f = task_top(t);

	if (f->block == NULL) {
		t->end_status = 0;
		t->end_failed = 0;
		return RESULT_END;
	}
	switch (f->block->kind) {
	case STEP_LOOP:
		f->pc = 0;
		return RESULT_NEXT;
	case STEP_REPEAT:
		if (f->index >= f->block->count) {
			t->nframes--;
			return RESULT_NEXT;
		}
		f->index++;
		f->pc = 0;
		return RESULT_NEXT;
	case STEP_EVERY:
		return task_every(t, f, resumed);
	case STEP_FOR:
		return task_for(t, f);
	case STEP_COMMAND:
		break;
	}
	fatalx("%s: bad block", t->spec->name);
}

/* Do the next thing in the current frame; resumed is the wait just over. */
static enum task_result
task_exec(struct task *t, enum task_wait resumed)
{
	struct task_frame	*f = task_top(t);
	const struct step	*st;

	if (f->pc >= f->script->nsteps)
		return task_round(t, resumed);
	st = &f->script->steps[f->pc];
	if (st->kind != STEP_COMMAND) {
		f->pc++;
		task_push(t, st->body, st);
		return RESULT_NEXT;
	}
	return task_command(t, st, resumed);
}

/* ------------------------------------------------------------ life cycle */

/*
 * Leave the run script for on_cancel, under cancel_timeout. Returns
 * RESULT_END when there is nothing to run.
 */
static enum task_result
task_begin_cancel(struct task *t)
{
	const struct script	*s = t->spec->on_cancel;

	t->phase = TASK_CANCEL;
	t->nframes = 0;
	t->end_status = 0;
	t->end_failed = 0;
	if (s == NULL || s->nsteps == 0)
		return RESULT_END;
	task_push(t, s, NULL);
	if (t->cancel_timer == NULL) {
		t->cancel_timer = xcalloc(1, sizeof *t->cancel_timer);
		t->cancel_timer->task = t;
		sched_alarm_init(&t->cancel_timer->alarm,
		    task_cancel_timer_cb);
	}
	sched_alarm_start(t->sched, &t->cancel_timer->alarm,
	    t->spec->cancel_timeout_ms);
	return RESULT_NEXT;
}

/*
 * The task is over: stop everything and tell the host. The host may free
 * the task from ended() (the supervisor does), so nothing may touch t
 * after it; every caller returns straight to the loop.
 */
static void
task_finish(struct task *t)
{
	int	cancelled = t->phase == TASK_CANCEL;

	task_interrupt(t);
	sched_turn_stop(&t->turn);
	task_cancel_timer_stop(t);
	t->phase = TASK_ENDED;
	t->nframes = 0;
	t->running = 0;
	t->host->ended(t->arg, t->end_status, cancelled,
	    cancelled ? t->cancel_overran : t->end_failed);
}

/*
 * Run steps until the task waits or ends; resumes whatever the task
 * waited in. Called only from this file's libuv callbacks, never from
 * task_start, task_cancel or task_wake, so a task never runs inside
 * another unit's call stack and host->ended never frees a task under its
 * caller. A cancel that arrives while a step runs (a task cancelling or
 * restarting itself) is taken at the next step.
 */
static void
task_run(struct task *t)
{
	enum task_wait		resumed = t->wait;
	enum task_result	r;

	t->wait = WAIT_NONE;
	t->woken = 0;
	t->running = 1;
	if (t->phase == TASK_NEW) {
		t->phase = TASK_RUN;
		task_push(t, t->spec->run, NULL);
	}
	for (;;) {
		if (t->cancel_requested && t->phase == TASK_RUN) {
			task_interrupt(t);
			resumed = WAIT_NONE;
			if (task_begin_cancel(t) == RESULT_END)
				break;
		}
		if (++t->burst > TASK_BURST) {
			t->wait = WAIT_TURN;
			task_schedule(t);
			r = RESULT_WAIT;
		} else {
			r = task_exec(t, resumed);
			resumed = WAIT_NONE;
		}
		if (r == RESULT_WAIT) {
			if (t->cancel_requested && t->phase == TASK_RUN)
				continue;
			t->burst = 0;
			t->running = 0;
			return;
		}
		if (r == RESULT_END &&
		    !(t->cancel_requested && t->phase == TASK_RUN))
			break;
	}
	task_finish(t);
}

/* The next loop turn: a start, a yield, a cancel or a host wake-up. */
static void
task_turn_cb(struct sched_turn *h)
{
	struct task	*t = task_of_turn(h);

	if (t->wait == WAIT_TURN || (task_wait_is_host(t->wait) && t->woken))
		task_run(t);
}

/* The step timer: a sleep ended, an every tick is due, a get timed out. */
static void
task_timer_cb(struct sched_alarm *h)
{
	struct task	*t = task_of_timer(h);

	switch (t->wait) {
	case WAIT_GET:
		t->timed_out = 1;
		/* FALLTHROUGH */
	case WAIT_SLEEP:
	case WAIT_EVERY:
		task_run(t);
		break;
	default:
		break;
	}
}

/* on_cancel overran cancel_timeout: abandon it, the task ends cancelled. */
static void
task_cancel_timer_cb(struct sched_alarm *h)
{
	struct task	*t = task_of_cancel_timer(h);
	char		 tmo[32];

	if (t->phase != TASK_CANCEL)
		return;
	util_format_duration(t->spec->cancel_timeout_ms, tmo, sizeof tmo);
	log_warnx("%s: on_cancel abandoned after its %s cancel timeout",
	    t->spec->name, tmo);
	t->end_status = 0;
	t->end_failed = 0;
	t->cancel_overran = 1;
	task_finish(t);
}

/* A turn after task_free: nobody's stack holds the task any more. */
static void
task_release_cb(struct sched_turn *h)
{
	struct task	*t = task_of_turn(h);

	free(t->cancel_timer);
	free(t);
}

/* A task ready to start; owner: the caller, who frees it with task_free. */
struct task *
task_new(struct sched *sched, const struct task_spec *spec,
    const struct task_host *host, void *arg, char **args, size_t nargs)
{
	struct task	*t;
	size_t		 i;

	t = xcalloc(1, sizeof *t);
	t->sched = sched;
	t->spec = spec;
	t->host = host;
	t->arg = arg;
	t->frames = &t->frame0;
	t->framecap = 1;
	if (nargs > 0) {
		t->args = xreallocarray(NULL, nargs, sizeof *t->args);
		for (i = 0; i < nargs; i++)
			t->args[i] = xstrdup(args[i]);
		t->nargs = nargs;
	}
	sched_turn_init(&t->turn, task_turn_cb);
	sched_alarm_init(&t->timer, task_timer_cb);
	t->phase = TASK_NEW;
	task_set_status(t, 0);
	return t;
}

/* Run the first step on the next loop turn, outside the caller's stack. */
void
task_start(struct task *t)
{
	if (t->started || t->phase != TASK_NEW)
		return;
	t->started = 1;
	t->wait = WAIT_TURN;
	task_schedule(t);
}

/*
 * Interrupt at once (timers stopped, the host's wake-up forgotten), but
 * run on_cancel from the next loop turn: the caller is often another
 * task's step, and the cancelled task must not run inside it.
 */
void
task_cancel(struct task *t)
{
	if (t->phase == TASK_ENDED || t->cancel_requested)
		return;
	t->cancel_requested = 1;
	if (t->running)
		return;
	task_interrupt(t);
	t->wait = WAIT_TURN;
	task_schedule(t);
}

/* A wake-up counts only while the task waits on the host; it runs later. */
void
task_wake(struct task *t)
{
	if (t->phase == TASK_ENDED || t->running ||
	    !task_wait_is_host(t->wait) || t->woken)
		return;
	t->woken = 1;
	task_schedule(t);
}

/* Started (or cancelled) and not ended yet. */
int
task_is_running(const struct task *t)
{
	return t->phase != TASK_ENDED && (t->started || t->cancel_requested);
}

/*
 * Let go of the task: normally after ended(); at shutdown it may still
 * run, and then stops without a word to the host (the host forgets its own
 * wake-ups). The struct goes on the scheduler's next turn: task_free is
 * often called from inside the task's own ended(), deep in task_run.
 */
void
task_free(struct task *t)
{
	size_t	i;

	if (t == NULL)
		return;
	t->phase = TASK_ENDED;
	t->wait = WAIT_NONE;
	task_vars_free(t);
	if (t->frames != &t->frame0)
		free(t->frames);
	t->frames = &t->frame0;
	t->framecap = 1;
	t->nframes = 0;
	for (i = 0; i < t->nargs; i++)
		free(t->args[i]);
	free(t->args);
	t->args = NULL;
	t->nargs = 0;
	sched_alarm_stop(t->sched, &t->timer);
	task_cancel_timer_stop(t);
	sched_turn_stop(&t->turn);
	sched_turn_init(&t->turn, task_release_cb);
	sched_turn_start(t->sched, &t->turn);
}
