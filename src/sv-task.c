/*
 * The task host: what task.c calls back for a task's steps (output,
 * queue put and get, start, cancel, restart, signal and wait for units,
 * the end of a run). Blocking steps park the task on a waiter; the
 * interpreter itself is task.c's.
 */
#include "config.h"

#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "filesink.h"
#include "proc.h"
#include "sv-int.h"
#include "task.h"
#include "unit.h"
#include "wire.h"
#include "xmalloc.h"

/*
 * The waiter a task blocks on a queue with, made the first time it does:
 * a task that only sleeps or echoes to the console never needs one.
 */
static struct wq_waiter *
unit_qwaiter(struct unit *u)
{
	if (u->qwaiter == NULL) {
		u->qwaiter = xcalloc(1, sizeof *u->qwaiter);
		u->qwaiter->fn = sv_qwaiter_cb;
		u->qwaiter->arg = u;
	}
	return u->qwaiter;
}

static int
host_output(void *arg, const char *line, size_t len)
{
	struct unit		*u = arg;
	const struct output	*o = &u->ts->out;
	struct wqueue		*wq, *full = NULL;
	struct buf		 b;
	size_t			 i;

	for (i = 0; i < o->ndests; i++) {
		switch (o->dests[i].kind) {
		case DEST_INHERIT:
			wire_console_line(u->sv->wire, STDOUT_FILENO, u->name,
			    line, len);
			unit_console_cb(u, line, len);
			break;
		case DEST_FILE:
			break;
		case DEST_QUEUE:
			wq = wire_find_queue(u->sv->wire, o->dests[i].name);
			if (wqueue_push(wq, line, len))
				full = wq;
			break;
		case DEST_NULL:
			break;
		}
	}
	if (u->nsinks > 0) {
		buf_init(&b);
		buf_add(&b, line, len);
		buf_addc(&b, '\n');
		for (i = 0; i < u->nsinks; i++)
			(void)filesink_write(u->sinks[i], buf_ptr(&b),
			    buf_used(&b));
		buf_release(&b);
	}
	if (full == NULL)
		return 0;
	wqueue_wait_writable(full, unit_qwaiter(u));
	return 1;
}

static struct wqueue *
host_queue(struct unit *u, const char *name, char **cause)
{
	struct wqueue	*wq;

	if ((wq = wire_find_queue(u->sv->wire, name)) == NULL)
		*cause = xasprintf("no such queue: %s", name);
	return wq;
}

static int
host_put(void *arg, const char *queue, const char *item, size_t len,
    char **cause)
{
	struct unit	*u = arg;
	struct wqueue	*wq;

	if ((wq = host_queue(u, queue, cause)) == NULL)
		return -1;
	/* put waits while the queue is full, then stores. */
	if (wqueue_is_full(wq)) {
		wqueue_wait_writable(wq, unit_qwaiter(u));
		return 1;
	}
	(void)wqueue_push(wq, item, len);
	return 0;
}

static int
host_close(void *arg, const char *queue, char **cause)
{
	struct unit	*u = arg;
	struct wqueue	*wq;

	if ((wq = host_queue(u, queue, cause)) == NULL)
		return -1;
	return wqueue_close(wq, cause);
}

static int
host_get(void *arg, const char *queue, char **item, size_t *len,
    char **cause)
{
	struct unit	*u = arg;
	struct wqueue	*wq;
	size_t		 i;
	int		 r;

	if ((wq = host_queue(u, queue, cause)) == NULL)
		return -1;
	for (i = 0; i < u->nsubs; i++)
		if (u->subs[i].wq == wq)
			break;
	if (i == u->nsubs)
		unit_add_sub(u, wq);
	r = wqueue_pop_copy(wq, u->subs[i].sub, item, len);
	if (r == 1)
		wqueue_wait_readable(wq, unit_qwaiter(u));
	return r;
}

/* Resolve a unit name from a step; the manifest checked it exists. */
static int
host_units(struct unit *u, const char *name, size_t *first, size_t *n,
    char **cause)
{
	*n = sv_find_units(u->sv, name, first);
	if (*n == 0) {
		*cause = xasprintf("no such unit: %s", name);
		return -1;
	}
	return 0;
}

static int
host_start(void *arg, const char *name, char **args, size_t nargs,
    char **cause)
{
	struct unit	*u = arg, *t;
	size_t		 first, n, i;

	if (host_units(u, name, &first, &n, cause) == -1)
		return -1;
	for (i = first; i < first + n; i++) {
		t = u->sv->units[i];
		if (unit_is_active(t))
			continue;
		if (t->pr != NULL) {
			free(t->pr->spawn_error);
			t->pr->spawn_error = NULL;
		}
		unit_start(t, args, nargs);
		/* A spawn that failed at once fails the step that asked. */
		if (t->pr != NULL && t->pr->spawn_error != NULL) {
			*cause = xasprintf("%s could not be started: %s",
			    t->name, t->pr->spawn_error);
			return -1;
		}
	}
	return 0;
}

/*
 * cancel and restart do what ctl's stop and restart do; but while the
 * supervisor shuts down a restart is a stop, not a failed step.
 */
static int
host_cancel(void *arg, const char *name, char **cause)
{
	struct unit	*u = arg;

	return supervisor_stop_unit(u->sv, name, cause);
}

static int
host_restart(void *arg, const char *name, char **cause)
{
	struct unit	*u = arg;

	if (u->sv->shutting_down)
		return supervisor_stop_unit(u->sv, name, cause);
	return supervisor_restart_unit(u->sv, name, cause);
}

int
host_signal(void *arg, const char *name, int sig, char **cause)
{
	struct unit	*u = arg, *t;
	size_t		 first, n, i;
	int		 error;

	if (host_units(u, name, &first, &n, cause) == -1)
		return -1;
	for (i = first; i < first + n; i++) {
		t = u->sv->units[i];
		if (t->ps == NULL) {
			*cause = xasprintf("%s is a task: only processes take "
			    "signals", t->name);
			return -1;
		}
		if (unit_child(t) == NULL)
			continue;
		if ((error = proc_signal(unit_child(t), sig)) != 0) {
			*cause = xasprintf("signal %s: %s", t->name,
			    strerror(-error));
			return -1;
		}
	}
	return 0;
}

static int
host_wait(void *arg, const char *name, int *status, char **cause)
{
	struct unit	*u = arg, *t;
	size_t		 first, n, i;

	if (host_units(u, name, &first, &n, cause) == -1)
		return -1;
	*status = 0;
	for (i = first; i < first + n; i++) {
		t = u->sv->units[i];
		if (t == u) {
			*cause = xasprintf("a task cannot wait for itself");
			return -1;
		}
		if (unit_is_active(t)) {
			u->waiting_on = t;
			TAILQ_INSERT_TAIL(&t->waiters, u, wait_entry);
			return 1;
		}
		if (t->has_ended && *status == 0)
			*status = t->last_status;
	}
	return 0;
}

void
host_unwait(void *arg)
{
	struct unit	*u = arg;

	if (u->qwaiter != NULL)
		wqueue_unwait(u->qwaiter);
	if (u->waiting_on != NULL) {
		TAILQ_REMOVE(&u->waiting_on->waiters, u, wait_entry);
		u->waiting_on = NULL;
	}
}

static void
host_ended(void *arg, int status, int cancelled, int failed)
{
	struct unit		*u = arg;
	struct unit_exit	 x;

	host_unwait(u);
	task_free(u->task);
	u->task = NULL;
	memset(&x, 0, sizeof x);
	x.exit_status = status;
	x.stop_requested = cancelled;
	/* Cancelled and failed: on_cancel had to be cut short. */
	x.stop_escalated = cancelled && failed;
	if (failed && !cancelled && status == 0)
		x.exit_status = 1;
	x.ran_ms = uv_now(u->sv->loop) - u->started_ms;
	unit_judge_run(u, &x);
}

void
sv_qwaiter_cb(struct wq_waiter *w)
{
	struct unit	*u = w->arg;

	if (u->task != NULL)
		task_wake(u->task);
}

void
sv_host_init(struct supervisor *sv)
{
	sv->host.output = host_output;
	sv->host.put = host_put;
	sv->host.get = host_get;
	sv->host.close = host_close;
	sv->host.start = host_start;
	sv->host.cancel = host_cancel;
	sv->host.restart = host_restart;
	sv->host.signal = host_signal;
	sv->host.wait = host_wait;
	sv->host.unwait = host_unwait;
	sv->host.ended = host_ended;
}
