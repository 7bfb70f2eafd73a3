/*
 * The supervisor's units as a set: a unit instance added for a spec,
 * pointed at a (new) spec with the queues it feeds and reads, freed, and
 * forgotten once removed. When units start, run and end is supervisor.c's.
 */
#include "config.h"

#include <sys/queue.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "logring.h"
#include "manifest.h"
#include "proc.h"
#include "script.h"
#include "sv-int.h"
#include "wire.h"
#include "xmalloc.h"

static void
unit_add_produce(struct unit *u, struct wqueue *wq)
{
	size_t	i;

	for (i = 0; i < u->nproduces; i++)
		if (u->produces[i] == wq)
			return;
	u->produces = xreallocarray(u->produces, u->nproduces + 1,
	    sizeof *u->produces);
	u->produces[u->nproduces++] = wq;
}

static void
unit_add_output_queues(struct unit *u, const struct output *o)
{
	size_t	i;

	for (i = 0; i < o->ndests; i++)
		if (o->dests[i].kind == DEST_QUEUE)
			unit_add_produce(u, wire_find_queue(u->sv->wire,
			    o->dests[i].name));
}

void
unit_add_sub(struct unit *u, struct wqueue *wq)
{
	size_t	i;

	for (i = 0; i < u->nsubs; i++)
		if (u->subs[i].wq == wq)
			return;
	u->subs = xreallocarray(u->subs, u->nsubs + 1, sizeof *u->subs);
	u->subs[u->nsubs].wq = wq;
	u->subs[u->nsubs].sub = wqueue_subscribe(wq);
	u->nsubs++;
}

/* Which queues a task's steps put into (producer) or read (consumer). */
static void
unit_scan_script(struct unit *u, const struct script *s)
{
	const struct step	*st;
	struct wqueue		*wq;
	size_t			 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nsteps; i++) {
		st = &s->steps[i];
		if (st->queue != NULL &&
		    (wq = wire_find_queue(u->sv->wire, st->queue)) != NULL) {
			if (st->kind == STEP_COMMAND &&
			    st->builtin == BUILTIN_PUT)
				unit_add_produce(u, wq);
			else
				unit_add_sub(u, wq);
		}
		unit_scan_script(u, st->body);
	}
}

/* Free a unit no one refers to any more (its run is over). */
void
sv_unit_free(struct unit *u)
{
	size_t	i;

	for (i = 0; i < u->nargs; i++)
		free(u->args[i]);
	free(u->args);
	free(u->produces);
	free(u->subs);
	if (u->log != NULL)
		logring_release(u->log);
	free(u->log);
	manifest_free(u->own);
	if (u->pr != NULL)
		free(u->pr->spawn_error);
	free(u->pr);
	free(u->qwaiter);
	free(u);
}

/*
 * Free the units forgotten since the last turn. The wait of a turn is what
 * lets the callers of sv_forget_unit go on using the unit until they
 * return to the loop.
 */
void
sv_reap_cb(struct sched_turn *t)
{
	struct supervisor	*sv = (struct supervisor *)((char *)t -
	    offsetof(struct supervisor, reap));
	size_t			 i;

	for (i = 0; i < sv->ndead; i++)
		sv_unit_free(sv->dead[i]);
	free(sv->dead);
	sv->dead = NULL;
	sv->ndead = 0;
}

struct unit *
sv_add_unit(struct supervisor *sv, const char *name, const char *base)
{
	struct unit	*u;
	size_t		 len = strlen(name) + 1;

	u = xcalloc(1, sizeof *u + len);
	memcpy(u->name, name, len);
	u->sv = sv;
	u->base = base;
	u->state = UNIT_IDLE;
	TAILQ_INIT(&u->waiters);
	sched_alarm_init(&u->timer, unit_timer_cb);
	sv->units = xreallocarray(sv->units, sv->nunits + 1, sizeof *sv->units);
	sv->units[sv->nunits++] = u;
	return u;
}

/* The fields of a message about u for the JSON log: event, and pid. */
void
unit_log_event(const struct unit *u, struct log_event *ev, const char *event)
{
	memset(ev, 0, sizeof *ev);
	/* As its output lines name it: "web.2" for a replica. */
	ev->unit = u->name;
	if (strcmp(u->name, u->base) != 0)
		ev->replica = (unsigned)strtoul(u->name + strlen(u->base) + 1,
		    NULL, 10);
	ev->event = event;
	if (u->pr != NULL && u->pr->proc != NULL)
		ev->pid = (long)proc_pid(u->pr->proc);
}

/* The instances of a process spec: NAME, or NAME.1 ... NAME.N. */
void
sv_add_proc_units(struct supervisor *sv, const struct proc_spec *ps)
{
	struct unit	*u;
	char		*name;
	unsigned	 r;

	for (r = 1; r <= ps->replicas; r++) {
		if (ps->replicas > 1) {
			name = xasprintf("%s.%u", ps->name, r);
			u = sv_add_unit(sv, name, ps->name);
			free(name);
		} else
			u = sv_add_unit(sv, ps->name, ps->name);
		unit_apply_spec(u, ps, NULL);
	}
}

/* Drop an ended unit from the supervisor (ctl remove, reload). */
void
sv_forget_unit(struct supervisor *sv, struct unit *u)
{
	struct log_event ev;
	struct follower	*f;
	size_t		 i;

	for (i = 0; i < sv->nunits; i++)
		if (sv->units[i] == u)
			break;
	if (i == sv->nunits)
		return;
	memmove(&sv->units[i], &sv->units[i + 1],
	    (sv->nunits - i - 1) * sizeof *sv->units);
	sv->nunits--;
	/* Followers stay valid tokens; they just hear nothing more. */
	while ((f = u->followers) != NULL) {
		u->followers = f->next;
		f->unit = NULL;
	}
	host_unwait(u);
	unit_wake_waiters(u);
	unit_log_event(u, &ev, "removed");
	log_event(LOG_LEVEL_INFO, &ev, "%s: removed", u->name);
	unit_timer_stop(u);
	sv->dead = xreallocarray(sv->dead, sv->ndead + 1, sizeof *sv->dead);
	sv->dead[sv->ndead++] = u;
	sched_turn_start(sv->sched, &sv->reap);
	/* Its spec may have been the last thing held of an old manifest. */
	u->ps = u->next_ps = NULL;
	u->ts = u->next_ts = NULL;
	sv_gc_manifests(sv);
	sv_maybe_done(sv);
}

/*
 * Point a unit at a (new) spec, a process's or a task's, with the queues
 * it feeds and reads. For new units and, by reload, between runs.
 */
void
unit_apply_spec(struct unit *u, const struct proc_spec *ps,
    const struct task_spec *ts)
{
	struct supervisor	*sv = u->sv;
	size_t			 i;

	if (u->live)
		for (i = 0; i < u->nproduces; i++)
			wqueue_producer_del(u->produces[i]);
	free(u->produces);
	u->produces = NULL;
	u->nproduces = 0;
	u->ps = ps;
	u->ts = ts;
	/* The name lives in the spec: follow it to the new manifest. */
	u->base = ps != NULL ? ps->name : ts->name;
	if ((ps != NULL && ps->ndeps > 0) || (ts != NULL && ts->ndeps > 0))
		sv->has_deps = 1;
	if (ps != NULL) {
		if (u->pr == NULL)
			u->pr = xcalloc(1, sizeof *u->pr);
		unit_add_output_queues(u, &ps->out);
		unit_add_output_queues(u, &ps->err);
		u->pr->stdin_wq = NULL;
		if (ps->stdin_queue != NULL) {
			u->pr->stdin_wq = wire_find_queue(sv->wire,
			    ps->stdin_queue);
			u->pr->stdin_sub = wqueue_subscribe(u->pr->stdin_wq);
		}
	} else {
		unit_add_output_queues(u, &ts->out);
		unit_scan_script(u, ts->run);
		unit_scan_script(u, ts->on_cancel);
	}
	if (u->live)
		for (i = 0; i < u->nproduces; i++)
			wqueue_producer_add(u->produces[i]);
}
