/*
 * The task builtins: what each step does (echo, sleep, put, get, close,
 * start, cancel, restart, signal, wait, set, exit, break) and the heads of the
 * every and for blocks. The run loop, frames and variables are task.c's;
 * units, queues and output are the host's; no supervisor in here.
 */
#include "config.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "log.h"
#include "scheduler.h"
#include "script.h"
#include "task.h"
#include "task-int.h"
#include "util.h"
#include "xmalloc.h"

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
enum task_result
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
enum task_result
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
enum task_result
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
