/*
 * The task interpreter: a task's run and on_cancel scripts as a state
 * machine on the scheduler's turns and alarms, never blocking the loop.
 * Blocks are an explicit stack of frames, so a wait is a return to the
 * loop, not a suspended C call. The builtins (what each step does, and
 * the heads of the every and for blocks) are part of the same evaluator:
 * they push frames, set variables and choose waits. Units, queues and
 * output are the host's; no supervisor in here.
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
#include "util.h"
#include "xmalloc.h"

/*
 * Steps (and block rounds) run back to back before the task gives the rest
 * of the loop a turn, so "loop: [echo x]" cannot starve other units.
 */
#define TASK_BURST	64

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
static void
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
static void
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
static void
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
static char *
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
static struct task_frame *
task_top(struct task *t)
{
	return &t->frames[t->nframes - 1];
}

/* ---------------------------------------------------------------- waits */

/* Run again on the next loop turn (start, cancel, yield, wake). */
static void
task_schedule(struct task *t)
{
	sched_turn_start(t->sched, &t->turn);
}

/* Wait ms on the step timer. */
static void
task_timer_start(struct task *t, uint64_t ms)
{
	sched_alarm_start(t->sched, &t->timer, ms);
}

/* ---------------------------------------------------------------- steps */

/* A step failed: say why once, and end the script as failed. */
static enum task_result
task_fail(struct task *t, const struct step *st, char *cause)
{
	log_warnx("%s: %s: %s", t->spec->name,
	    st->text != NULL ? st->text : script_builtin_name(st->builtin),
	    cause != NULL ? cause : "failed");
	free(cause);
	t->end_status = 1;
	t->end_failed = 1;
	return RESULT_END;
}

/* The duration of sleep or of get's timeout, literal or expanded now. */
static int
task_duration(struct task *t, const struct step *st, size_t i, uint64_t *ms,
    char **cause)
{
	const char	*errstr;
	char		*s;

	if (st->has_duration) {
		*ms = st->duration_ms;
		return 0;
	}
	s = task_word(t, st, i);
	if (util_parse_duration(s, ms, &errstr) == -1) {
		*cause = xasprintf("bad duration \"%s\": %s", s, errstr);
		free(s);
		return -1;
	}
	free(s);
	return 0;
}

/* echo: one line to the host; a full destination holds the next step. */
static enum task_result
task_echo(struct task *t, const struct step *st, enum task_wait resumed)
{
	struct buf	b;
	int		r;

	if (resumed == WAIT_OUTPUT) {
		task_top(t)->pc++;
		return RESULT_NEXT;
	}
	task_join(t, st, 1, &b);
	r = t->host->output(t->arg, buf_ptr(&b), buf_used(&b));
	buf_release(&b);
	if (r == 1) {
		t->wait = WAIT_OUTPUT;
		return RESULT_WAIT;
	}
	task_top(t)->pc++;
	return RESULT_NEXT;
}

/* sleep: the step timer; zero only yields the loop a turn. */
static enum task_result
task_sleep(struct task *t, const struct step *st, enum task_wait resumed)
{
	uint64_t	 ms;
	char		*cause = NULL;

	if (resumed == WAIT_SLEEP) {
		task_top(t)->pc++;
		return RESULT_NEXT;
	}
	if (task_duration(t, st, 1, &ms, &cause) == -1)
		return task_fail(t, st, cause);
	if (ms == 0) {
		task_top(t)->pc++;
		t->wait = WAIT_TURN;
		task_schedule(t);
		return RESULT_WAIT;
	}
	t->wait = WAIT_SLEEP;
	task_timer_start(t, ms);
	return RESULT_WAIT;
}

/* put: store the joined words, or wait for room and try again. */
static enum task_result
task_put(struct task *t, const struct step *st)
{
	struct buf	 b;
	char		*cause = NULL;
	int		 r;

	task_join(t, st, 2, &b);
	r = t->host->put(t->arg, st->queue, buf_ptr(&b), buf_used(&b), &cause);
	buf_release(&b);
	if (r == -1)
		return task_fail(t, st, cause);
	free(cause);
	if (r == 1) {
		t->wait = WAIT_PUT;
		return RESULT_WAIT;
	}
	task_top(t)->pc++;
	return RESULT_NEXT;
}

/* close: the queue's consumers drain it, then see the end. */
static enum task_result
task_close(struct task *t, const struct step *st)
{
	char	*cause = NULL;

	if (t->host->close(t->arg, st->queue, &cause) == -1)
		return task_fail(t, st, cause);
	task_top(t)->pc++;
	return RESULT_NEXT;
}

/*
 * get: an item into the variable and $status 0; the end of the stream or
 * the timeout leave it empty with $status 1. The timeout runs from the
 * first attempt: a wake-up that finds the queue empty again keeps it.
 */
static enum task_result
task_get(struct task *t, const struct step *st, enum task_wait resumed)
{
	char		*item = NULL, *cause = NULL;
	size_t		 len = 0;
	uint64_t	 ms = 0;
	int		 r, has_timeout = st->nwords > 3;

	if (resumed != WAIT_GET) {
		t->timed_out = 0;
		if (has_timeout &&
		    task_duration(t, st, 3, &ms, &cause) == -1)
			return task_fail(t, st, cause);
	}
	r = t->host->get(t->arg, st->queue, &item, &len, &cause);
	if (r == 1 && !t->timed_out) {
		free(cause);
		if (resumed != WAIT_GET && has_timeout)
			task_timer_start(t, ms);
		t->wait = WAIT_GET;
		return RESULT_WAIT;
	}
	sched_alarm_stop(t->sched, &t->timer);
	if (r == 1)
		t->host->unwait(t->arg);
	t->timed_out = 0;
	if (r == -1 && cause != NULL)
		return task_fail(t, st, cause);
	free(cause);
	if (r == 0) {
		task_var_set(t, st->var, item, len);
		task_set_status(t, 0);
	} else {
		task_var_set(t, st->var, "", 0);
		task_set_status(t, 1);
	}
	free(item);
	task_top(t)->pc++;
	return RESULT_NEXT;
}

/* start UNIT [ARGS...]: the args are expanded, one word each. */
static enum task_result
task_start_unit(struct task *t, const struct step *st)
{
	char	**args = NULL, *cause = NULL;
	size_t	  nargs = 0, i;
	int	  r;

	if (st->nwords > 2) {
		nargs = st->nwords - 2;
		args = xreallocarray(NULL, nargs, sizeof *args);
		for (i = 0; i < nargs; i++)
			args[i] = task_word(t, st, i + 2);
	}
	r = t->host->start(t->arg, st->unit, args, nargs, &cause);
	for (i = 0; i < nargs; i++)
		free(args[i]);
	free(args);
	if (r == -1)
		return task_fail(t, st, cause);
	free(cause);
	task_top(t)->pc++;
	return RESULT_NEXT;
}

/* cancel, restart and signal: one call to the host, no waiting. */
static enum task_result
task_control(struct task *t, const struct step *st)
{
	const char	*errstr;
	char		*cause = NULL, *s;
	int		 r, sig;

	switch (st->builtin) {
	case BUILTIN_CANCEL:
		r = t->host->cancel(t->arg, st->unit, &cause);
		break;
	case BUILTIN_RESTART:
		r = t->host->restart(t->arg, st->unit, &cause);
		break;
	default:
		s = task_word(t, st, 2);
		if (util_parse_signal(s, &sig, &errstr) == -1) {
			cause = xasprintf("bad signal \"%s\": %s", s, errstr);
			free(s);
			return task_fail(t, st, cause);
		}
		free(s);
		r = t->host->signal(t->arg, st->unit, sig, &cause);
		break;
	}
	if (r == -1)
		return task_fail(t, st, cause);
	free(cause);
	task_top(t)->pc++;
	return RESULT_NEXT;
}

/* wait UNIT: $status is its exit status once it has ended. */
static enum task_result
task_wait_unit(struct task *t, const struct step *st)
{
	char	*cause = NULL;
	int	 r, status = 0;

	r = t->host->wait(t->arg, st->unit, &status, &cause);
	if (r == -1)
		return task_fail(t, st, cause);
	free(cause);
	if (r == 1) {
		t->wait = WAIT_UNIT;
		return RESULT_WAIT;
	}
	task_set_status(t, status);
	task_top(t)->pc++;
	return RESULT_NEXT;
}

/* exit [CODE]: end the script; a non-zero code is a failure. */
static enum task_result
task_exit(struct task *t, const struct step *st)
{
	const char	*errstr;
	char		*s, *cause;
	uint64_t	 code = 0;

	if (st->nwords > 1) {
		s = task_word(t, st, 1);
		if (util_parse_uint(s, 0, 255, &code, &errstr) == -1) {
			cause = xasprintf("bad status \"%s\": expected 0 "
			    "to 255", s);
			free(s);
			return task_fail(t, st, cause);
		}
		free(s);
	}
	t->end_status = (int)code;
	t->end_failed = code != 0;
	return RESULT_END;
}

/* break: leave the innermost block; outside any block, the script. */
static enum task_result
task_break(struct task *t)
{
	if (task_top(t)->block == NULL) {
		t->end_status = 0;
		t->end_failed = 0;
		return RESULT_END;
	}
	t->nframes--;
	return RESULT_NEXT;
}

/* One command step. */
static enum task_result
task_command(struct task *t, const struct step *st, enum task_wait resumed)
{
	struct buf	b;

	switch (st->builtin) {
	case BUILTIN_ECHO:
		return task_echo(t, st, resumed);
	case BUILTIN_SLEEP:
		return task_sleep(t, st, resumed);
	case BUILTIN_PUT:
		return task_put(t, st);
	case BUILTIN_GET:
		return task_get(t, st, resumed);
	case BUILTIN_START:
		return task_start_unit(t, st);
	case BUILTIN_CANCEL:
	case BUILTIN_RESTART:
	case BUILTIN_SIGNAL:
		return task_control(t, st);
	case BUILTIN_WAIT:
		return task_wait_unit(t, st);
	case BUILTIN_SET:
		task_join(t, st, 2, &b);
		task_var_set(t, st->var, buf_ptr(&b), buf_used(&b));
		buf_release(&b);
		task_top(t)->pc++;
		return RESULT_NEXT;
	case BUILTIN_EXIT:
		return task_exit(t, st);
	case BUILTIN_BREAK:
		return task_break(t);
	case BUILTIN_CLOSE:
		return task_close(t, st);
	}
	fatalx("%s: unknown builtin %d", t->spec->name, (int)st->builtin);
}

/*
 * every: fixed rate. Round k is due at first + k * period, whatever the
 * rounds took; a round that overran starts the next one at once and skips
 * the ticks it missed entirely, so slow rounds never bunch up.
 */
static enum task_result
task_every(struct task *t, struct task_frame *f, enum task_wait resumed)
{
	uint64_t	period = f->block->duration_ms, now, due, missed;

	now = sched_now(t->sched);
	if (resumed == WAIT_EVERY) {
		f->pc = 0;
		return RESULT_NEXT;
	}
	if (!f->begun || period == 0) {
		f->begun = 1;
		f->tick = now;
		f->pc = 0;
		return RESULT_NEXT;
	}
	due = f->tick + period;
	if (now < due) {
		f->tick = due;
		t->wait = WAIT_EVERY;
		task_timer_start(t, due - now);
		return RESULT_WAIT;
	}
	missed = (now - due) / period;
	if (missed > 0)
		log_debug("%s: %s: skipped %" PRIu64 " ticks", t->spec->name,
		    f->block->text, missed);
	f->tick = due + missed * period;
	f->pc = 0;
	return RESULT_NEXT;
}

/* for NAME in QUEUE: each round takes one item; the end of stream leaves. */
static enum task_result
task_for(struct task *t, struct task_frame *f)
{
	const struct step	*st = f->block;
	char			*item = NULL, *cause = NULL;
	size_t			 len = 0;
	int			 r;

	r = t->host->get(t->arg, st->queue, &item, &len, &cause);
	if (r == 1) {
		free(cause);
		t->wait = WAIT_FOR;
		return RESULT_WAIT;
	}
	if (r == -1) {
		if (cause != NULL)
			return task_fail(t, st, cause);
		t->nframes--;
		return RESULT_NEXT;
	}
	task_var_set(t, st->var, item, len);
	free(item);
	free(cause);
	f->pc = 0;
	return RESULT_NEXT;
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
