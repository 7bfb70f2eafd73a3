/*
 * Reload: apply a manifest read again (SIGHUP, ctl reload) to running
 * units: add, remove, restart the changed under their new spec, keep the
 * rest; and free old manifests no unit points into any more. How the
 * manifest is read is the loader's (main.c).
 */
#include "config.h"

#include <string.h>

#include "log.h"
#include "manifest.h"
#include "notify.h"
#include "supervisor.h"
#include "sv-int.h"
#include "wire.h"
#include "xmalloc.h"

void
supervisor_set_loader(struct supervisor *sv, supervisor_loader fn, void *arg)
{
	sv->loader = fn;
	sv->loader_arg = arg;
}

/* Queues may be added by a reload, never changed under running units. */
static int
sv_reload_queues(struct supervisor *sv, const struct manifest *nm,
    char **cause)
{
	const struct queue_spec	*oq;
	struct wqueue		*wq;
	size_t			 i;

	for (i = 0; i < nm->nqueues; i++) {
		oq = manifest_find_queue(sv->m, nm->queues[i].name);
		if (oq != NULL && !manifest_queue_equal(oq, &nm->queues[i])) {
			*cause = xasprintf("queue %s changed: a queue's settings "
			    "change only with a restart of the supervisor",
			    oq->name);
			return -1;
		}
	}
	for (i = 0; i < nm->nqueues; i++)
		if ((wq = wire_find_queue(sv->wire, nm->queues[i].name)) ==
		    NULL)
			(void)wire_add_queue(sv->wire, &nm->queues[i]);
		else
			wqueue_respec(wq, &nm->queues[i]);
	return 0;
}

struct reload_counts {
	size_t	added, removed, changed, kept;
};

/* Mark a unit for removal: stop it, forget it once it has ended. */
static void
sv_reload_remove(struct supervisor *sv, struct unit *u,
    struct reload_counts *c)
{
	u->removing = 1;
	c->removed++;
	if (unit_is_active(u))
		unit_stop(u);
}

/* Compare one existing unit with the new manifest and act on it. */
static void
sv_reload_unit(struct supervisor *sv, struct unit *u,
    const struct manifest *nm, struct reload_counts *c)
{
	const struct proc_spec	*nps = NULL;
	const struct task_spec	*nts = NULL;
	int			 same;

	if (u->ps != NULL)
		nps = manifest_find_proc(nm, u->base);
	else
		nts = manifest_find_task(nm, u->base);
	if (nps == NULL && nts == NULL) {
		sv_reload_remove(sv, u, c);
		return;
	}
	if (nps != NULL && nps->replicas != u->ps->replicas) {
		sv_reload_remove(sv, u, c);
		return;
	}
	same = nps != NULL ? manifest_proc_equal(u->ps, nps) :
	    manifest_task_equal(u->ts, nts);
	if (same) {
		/* Unchanged: the same run goes on, now under the new spec. */
		u->ps = nps;
		u->ts = nts;
		u->base = nps != NULL ? nps->name : nts->name;
		c->kept++;
		return;
	}
	c->changed++;
	if (unit_is_active(u)) {
		u->respec = 1;
		u->next_ps = nps;
		u->next_ts = nts;
		unit_stop(u);
		return;
	}
	unit_apply_spec(u, nps, nts);
}

/* Does any unit (not being removed) come from this spec name? */
static int
sv_has_units(struct supervisor *sv, const char *name)
{
	size_t	i;

	for (i = 0; i < sv->nunits; i++)
		if (!sv->units[i]->removing && sv->units[i]->own == NULL &&
		    strcmp(sv->units[i]->base, name) == 0)
			return 1;
	return 0;
}

/* Units of the new manifest that do not exist yet: add, maybe start. */
static void
sv_reload_add(struct supervisor *sv, const struct manifest *nm,
    struct reload_counts *c)
{
	struct unit	*u;
	size_t		 i, j, before;

	for (i = 0; i < nm->nprocs; i++) {
		if (sv_has_units(sv, nm->procs[i].name))
			continue;
		before = sv->nunits;
		sv_add_proc_units(sv, &nm->procs[i]);
		c->added++;
		for (j = before; j < sv->nunits && nm->procs[i].autostart; j++)
			unit_start(sv->units[j], NULL, 0);
	}
	for (i = 0; i < nm->ntasks; i++) {
		if (sv_has_units(sv, nm->tasks[i].name))
			continue;
		u = sv_add_unit(sv, nm->tasks[i].name, nm->tasks[i].name);
		unit_apply_spec(u, NULL, &nm->tasks[i]);
		c->added++;
		if (nm->tasks[i].autostart)
			unit_start(u, NULL, 0);
	}
}

/* Is p one of the n elements of size sz starting at base? */
static int
sv_points_into(const void *p, const void *base, size_t n, size_t sz)
{
	const char	*c = p, *b = base;

	return p != NULL && base != NULL && c >= b && c < b + n * sz;
}

/* Does any unit still point into manifest m? */
static int
sv_manifest_in_use(struct supervisor *sv, const struct manifest *m)
{
	const struct unit	*u;
	size_t			 i, ps = sizeof *m->procs, ts = sizeof *m->tasks;

	for (i = 0; i < sv->nunits; i++) {
		u = sv->units[i];
		if (sv_points_into(u->ps, m->procs, m->nprocs, ps) ||
		    sv_points_into(u->next_ps, m->procs, m->nprocs, ps) ||
		    sv_points_into(u->ts, m->tasks, m->ntasks, ts) ||
		    sv_points_into(u->next_ts, m->tasks, m->ntasks, ts))
			return 1;
	}
	return 0;
}

/*
 * Free the manifests of earlier reloads that no unit points into any
 * more, so reloading forever does not grow. The first manifest is
 * main's; the current one is sv->m.
 */
void
sv_gc_manifests(struct supervisor *sv)
{
	size_t	i;

	for (i = 0; i < sv->nold; i++) {
		if (sv->old[i] == sv->m || sv_manifest_in_use(sv, sv->old[i]))
			continue;
		manifest_free(sv->old[i]);
		sv->old[i] = sv->old[--sv->nold];
		i--;
	}
}

int
supervisor_reload(struct supervisor *sv, char **cause)
{
	struct manifest		*nm;
	struct reload_counts	 c;
	struct unit		*u;
	size_t			 i, n;

	if (sv->loader == NULL) {
		*cause = xstrdup("reload: this supervisor has no manifest file");
		return -1;
	}
	if (sv->shutting_down) {
		*cause = xstrdup("the supervisor is shutting down");
		return -1;
	}
	(void)notify_send("RELOADING=1");
	if ((nm = sv->loader(sv->loader_arg, cause)) == NULL) {
		(void)notify_send("READY=1");
		return -1;
	}
	if (sv_reload_queues(sv, nm, cause) == -1) {
		manifest_free(nm);
		(void)notify_send("READY=1");
		return -1;
	}
	memset(&c, 0, sizeof c);
	sv->old = xreallocarray(sv->old, sv->nold + 1, sizeof *sv->old);
	sv->old[sv->nold++] = nm;
	n = sv->nunits;
	for (i = 0; i < n; i++) {
		u = sv->units[i];
		if (!u->removing && u->own == NULL)
			sv_reload_unit(sv, u, nm, &c);
	}
	sv->m = nm;
	sv->done = 0;
	sv_reload_add(sv, nm, &c);
	/* Removed units that were not running go now (the array shifts). */
	for (i = 0; i < sv->nunits; i++) {
		u = sv->units[i];
		if (u->removing && !unit_is_active(u)) {
			sv_forget_unit(sv, u);
			i--;
		}
	}
	sv_gc_manifests(sv);
	log_info("reloaded %s: %zu added, %zu removed, %zu changed, %zu "
	    "unchanged", nm->file, c.added, c.removed, c.changed, c.kept);
	(void)notify_send("READY=1");
	sv_maybe_done(sv);
	return 0;
}
