/*
 * The supervisor's control interface, for control.c: list and status,
 * start, stop, restart and signal units, add a process or a task, remove
 * a unit, queues, logs and following a unit's output. Knows nothing of
 * the wire format or the socket.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "logring.h"
#include "manifest.h"
#include "proc.h"
#include "script.h"
#include "supervisor.h"
#include "sv-int.h"
#include "unit.h"
#include "util.h"
#include "wire.h"
#include "xmalloc.h"

void
supervisor_set_keep(struct supervisor *sv, int keep)
{
	sv->keep = keep;
}

void
supervisor_set_socket(struct supervisor *sv, const char *path)
{
	free(sv->socket_path);
	sv->socket_path = path != NULL ? xstrdup(path) : NULL;
}

void
supervisor_set_guard(struct supervisor *sv, struct guard *g)
{
	sv->guard = g;
}

static const char *
unit_end_name(enum unit_end end)
{
	switch (end) {
	case END_SUCCEEDED:
		return "succeeded";
	case END_FAILED:
		return "failed";
	case END_KILLED:
		return "killed";
	case END_SPAWN_FAILED:
		return "spawn-failed";
	case END_STOPPED:
		return "stopped";
	case END_STOP_KILLED:
		return "stop-killed";
	}
	return "unknown";
}

static void
unit_info(const struct unit *u, struct sv_unit_info *i)
{
	memset(i, 0, sizeof *i);
	snprintf(i->kind, sizeof i->kind, "%s", u->ps != NULL ? "process" :
	    "task");
	i->name = u->name;
	i->state = unit_state_name(u->state);
	if (unit_child(u) != NULL)
		i->pid = (long)proc_pid(unit_child(u));
	i->restarts = u->hist.restarts;
	if (u->state == UNIT_RUNNING || u->state == UNIT_STOPPING)
		i->uptime_ms = uv_now(u->sv->loop) - u->started_ms;
	i->has_ended = u->has_ended;
	i->last_end = u->has_ended ? unit_end_name(u->last_end) : "";
	i->last_status = u->last_status;
}

size_t
supervisor_list(struct supervisor *sv, struct sv_unit_info **out)
{
	size_t	i, n = 0;

	*out = xcalloc(sv->nunits + 1, sizeof **out);
	for (i = 0; i < sv->nunits; i++)
		if (!sv->units[i]->removing)
			unit_info(sv->units[i], &(*out)[n++]);
	return n;
}

/* Find the instances a control command names, or say why not. */
static int
sv_ctl_units(struct supervisor *sv, const char *name, size_t *first,
    size_t *n, char **cause)
{
	if (name == NULL || (*n = sv_find_units(sv, name, first)) == 0) {
		*cause = xasprintf("no such unit: %s", name != NULL ? name : "");
		return -1;
	}
	return 0;
}

int
supervisor_status(struct supervisor *sv, const char *name,
    struct sv_unit_info **out, size_t *n, char **cause)
{
	size_t	first, i;

	*out = NULL;
	if (sv_ctl_units(sv, name, &first, n, cause) == -1)
		return -1;
	*out = xcalloc(*n, sizeof **out);
	for (i = 0; i < *n; i++)
		unit_info(sv->units[first + i], &(*out)[i]);
	return 0;
}

int
supervisor_start_unit(struct supervisor *sv, const char *name, char **cause)
{
	size_t	first, n, i;

	if (sv->shutting_down) {
		*cause = xstrdup("the supervisor is shutting down");
		return -1;
	}
	if (sv_ctl_units(sv, name, &first, &n, cause) == -1)
		return -1;
	sv->done = 0;
	for (i = first; i < first + n; i++)
		unit_start(sv->units[i], NULL, 0);
	return 0;
}

int
supervisor_stop_unit(struct supervisor *sv, const char *name, char **cause)
{
	size_t	first, n, i;

	if (sv_ctl_units(sv, name, &first, &n, cause) == -1)
		return -1;
	for (i = first; i < first + n; i++) {
		sv->units[i]->restart_requested = 0;
		unit_stop(sv->units[i]);
	}
	return 0;
}

int
supervisor_restart_unit(struct supervisor *sv, const char *name,
    char **cause)
{
	struct unit	*u;
	size_t		 first, n, i;

	if (sv->shutting_down) {
		*cause = xstrdup("the supervisor is shutting down");
		return -1;
	}
	if (sv_ctl_units(sv, name, &first, &n, cause) == -1)
		return -1;
	for (i = first; i < first + n; i++) {
		u = sv->units[i];
		if (unit_is_active(u)) {
			u->restart_requested = 1;
			unit_stop(u);
		} else
			unit_start(u, u->args, u->nargs);
	}
	return 0;
}

int
supervisor_signal_unit(struct supervisor *sv, const char *name, int sig,
    char **cause)
{
	size_t	first, n;

	if (sv_ctl_units(sv, name, &first, &n, cause) == -1)
		return -1;
	/* The task host's signal does the same checks for any caller. */
	return host_signal(sv->units[first], name, sig, cause);
}

/* Is a name free for a new unit? */
static int
sv_name_free(struct supervisor *sv, const char *name, char **cause)
{
	size_t	first;

	if (!util_is_valid_name(name)) {
		*cause = xasprintf("invalid unit name \"%s\" (letters, digits, "
		    "_, . and - only)", name);
		return -1;
	}
	if (sv_find_units(sv, name, &first) > 0 &&
	    !sv->units[first]->removing) {
		*cause = xasprintf("a unit named %s exists already", name);
		return -1;
	}
	return 0;
}

static int
sv_check_queue(struct supervisor *sv, const char *q, char **cause)
{
	if (q != NULL && wire_find_queue(sv->wire, q) == NULL) {
		*cause = xasprintf("no such queue: %s", q);
		return -1;
	}
	return 0;
}

/* One output destination: a queue, or inherit. */
static void
sv_output_one(struct output *o, const char *queue)
{
	o->dests = xcalloc(1, sizeof *o->dests);
	o->ndests = 1;
	if (queue != NULL) {
		o->dests[0].kind = DEST_QUEUE;
		o->dests[0].name = xstrdup(queue);
	} else
		o->dests[0].kind = DEST_INHERIT;
}

static void
sv_restart_defaults(struct restart_spec *rs, enum restart_policy p)
{
	rs->policy = p;
	rs->backoff.initial_ms = MANIFEST_DEFAULT_BACKOFF_INITIAL_MS;
	rs->backoff.max_ms = MANIFEST_DEFAULT_BACKOFF_MAX_MS;
	rs->max_restarts = MANIFEST_UNLIMITED;
}

/* A new unit instance for a spec of its own manifest, started now. */
static struct unit *
sv_adopt(struct supervisor *sv, struct manifest *own)
{
	struct unit	*u;

	if (own->nprocs > 0) {
		u = sv_add_unit(sv, own->procs[0].name, own->procs[0].name);
		unit_apply_spec(u, &own->procs[0], NULL);
	} else {
		u = sv_add_unit(sv, own->tasks[0].name, own->tasks[0].name);
		unit_apply_spec(u, NULL, &own->tasks[0]);
	}
	u->own = own;
	sv->done = 0;
	unit_start(u, NULL, 0);
	return u;
}

int
supervisor_add_proc(struct supervisor *sv, const struct sv_proc_add *a,
    char **cause)
{
	struct manifest		*own;
	struct proc_spec	*ps;
	size_t			 n;

	if (sv->shutting_down) {
		*cause = xstrdup("the supervisor is shutting down");
		return -1;
	}
	if (sv_name_free(sv, a->name, cause) == -1 ||
	    sv_check_queue(sv, a->stdin_queue, cause) == -1 ||
	    sv_check_queue(sv, a->stdout_queue, cause) == -1)
		return -1;
	if (a->argv == NULL || a->argv[0] == NULL) {
		*cause = xstrdup("add proc: no command given after --");
		return -1;
	}
	own = manifest_new("ctl");
	own->procs = ps = xcalloc(1, sizeof *ps);
	own->nprocs = 1;
	ps->name = xstrdup(a->name);
	for (n = 0; a->argv[n] != NULL; n++)
		;
	ps->argv = xcalloc(n + 1, sizeof *ps->argv);
	for (ps->argc = 0; ps->argc < n; ps->argc++)
		ps->argv[ps->argc] = xstrdup(a->argv[ps->argc]);
	ps->autostart = 1;
	sv_restart_defaults(&ps->restart, a->restart);
	ps->stop_signal = SIGTERM;
	ps->stop_timeout_ms = MANIFEST_DEFAULT_STOP_TIMEOUT_MS;
	sv_output_one(&ps->out, a->stdout_queue);
	sv_output_one(&ps->err, NULL);
	if (a->stdin_queue != NULL)
		ps->stdin_queue = xstrdup(a->stdin_queue);
	ps->replicas = 1;
	ps->umask = -1;
	(void)sv_adopt(sv, own);
	return 0;
}

struct sv_refcheck {
	struct supervisor	*sv;
	struct diag		*d;
};

/* A step of a task added by ctl names a queue or unit: it must exist. */
static void
sv_check_ref_cb(const char *name, int is_queue, size_t line, size_t col,
    void *arg)
{
	struct sv_refcheck	*rc = arg;
	size_t			 first;

	if (is_queue && wire_find_queue(rc->sv->wire, name) == NULL)
		diag_error(rc->d, line, col, "no such queue: %s", name);
	if (!is_queue && sv_find_units(rc->sv, name, &first) == 0)
		diag_error(rc->d, line, col, "no such unit: %s", name);
}

int
supervisor_add_task(struct supervisor *sv, const char *name, char **steps,
    size_t nsteps, char **cause)
{
	struct manifest		*own;
	struct task_spec	*ts;
	struct sv_refcheck	 rc;
	struct diag		 d;
	struct step		*st;
	char			*path;
	size_t			 i;

	if (sv->shutting_down) {
		*cause = xstrdup("the supervisor is shutting down");
		return -1;
	}
	if (sv_name_free(sv, name, cause) == -1)
		return -1;
	if (nsteps == 0) {
		*cause = xstrdup("add task: no step given after --");
		return -1;
	}
	own = manifest_new("ctl");
	own->tasks = ts = xcalloc(1, sizeof *ts);
	own->ntasks = 1;
	ts->name = xstrdup(name);
	ts->run = script_new();
	ts->autostart = 1;
	sv_restart_defaults(&ts->restart, RESTART_NEVER);
	ts->cancel_timeout_ms = MANIFEST_DEFAULT_CANCEL_TIMEOUT_MS;
	sv_output_one(&ts->out, NULL);
	diag_init(&d, "ctl");
	for (i = 0; i < nsteps; i++) {
		st = script_add_step(ts->run);
		path = xasprintf("step %zu", i + 1);
		(void)script_parse_command(steps[i], 0, 1, path, &d, st);
		free(path);
	}
	/* Queue and unit names in steps must exist, as in a manifest. */
	rc.sv = sv;
	rc.d = &d;
	if (!diag_has_errors(&d))
		script_walk_refs(ts->run, sv_check_ref_cb, &rc);
	if (diag_has_errors(&d)) {
		*cause = xstrdup(d.items[0].msg);
		diag_release(&d);
		manifest_free(own);
		return -1;
	}
	diag_release(&d);
	(void)sv_adopt(sv, own);
	return 0;
}

int
supervisor_remove_unit(struct supervisor *sv, const char *name,
    char **cause)
{
	struct unit	*u;
	size_t		 first, n, i;

	if (sv_ctl_units(sv, name, &first, &n, cause) == -1)
		return -1;
	/* Mark all first: forgetting shifts the array. */
	for (i = first; i < first + n; i++)
		sv->units[i]->removing = 1;
	for (i = 0; i < sv->nunits; i++) {
		u = sv->units[i];
		if (!u->removing)
			continue;
		if (unit_is_active(u)) {
			unit_stop(u);
			continue;
		}
		sv_forget_unit(sv, u);
		i--;
	}
	return 0;
}

struct wqueue *
supervisor_queue(struct supervisor *sv, const char *name)
{
	return wire_find_queue(sv->wire, name);
}

size_t
supervisor_queues(struct supervisor *sv, struct wqueue ***out)
{
	return wire_queues(sv->wire, out);
}

struct sv_lines_arg {
	const char	*unit;
	void		(*fn)(const char *, uint64_t, uint64_t, const char *,
			    size_t, void *);
	void		*arg;
};

static void
sv_log_line_cb(uint64_t time_ms, uint64_t seq, const char *line, size_t len,
    void *arg)
{
	struct sv_lines_arg	*a = arg;

	a->fn(a->unit, time_ms, seq, line, len, a->arg);
}

int
supervisor_logs(struct supervisor *sv, const char *name,
    void (*fn)(const char *, uint64_t, uint64_t, const char *, size_t,
    void *), void (*dropped_fn)(const char *, uint64_t, uint64_t, void *), void *arg,
    char **cause)
{
	struct sv_lines_arg	 a;
	struct unit		*u;
	size_t			 first = 0, n = sv->nunits, i;

	if (name != NULL && sv_ctl_units(sv, name, &first, &n, cause) == -1)
		return -1;
	for (i = first; i < first + n; i++) {
		u = sv->units[i];
		a.unit = u->name;
		a.fn = fn;
		a.arg = arg;
		if (u->log != NULL)
			logring_lines(u->log, sv_log_line_cb, &a);
	}
	for (i = first; i < first + n; i++) {
		u = sv->units[i];
		if (u->log != NULL && logring_dropped(u->log) > 0)
			dropped_fn(u->name, logring_dropped(u->log),
			    u->log->max, arg);
	}
	return 0;
}

/* What supervisor_follow hands out: one follower per instance. */
struct follow_token {
	struct follower	**items;
	size_t		  n;
};

void *
supervisor_follow(struct supervisor *sv, const char *name, sv_line_fn *fn,
    void *arg, char **cause)
{
	struct follow_token	*t;
	struct follower		*f;
	size_t			 first, n, i;

	if (name == NULL) {
		t = xcalloc(1, sizeof *t);
		t->items = xcalloc(1, sizeof *t->items);
		f = xcalloc(1, sizeof *f);
		f->all = 1;
		f->fn = fn;
		f->arg = arg;
		f->next = sv->all_followers;
		sv->all_followers = f;
		t->items[t->n++] = f;
		return t;
	}
	if (sv_ctl_units(sv, name, &first, &n, cause) == -1)
		return NULL;
	t = xcalloc(1, sizeof *t);
	t->items = xcalloc(n, sizeof *t->items);
	for (i = first; i < first + n; i++) {
		f = xcalloc(1, sizeof *f);
		f->unit = sv->units[i];
		f->fn = fn;
		f->arg = arg;
		f->next = f->unit->followers;
		f->unit->followers = f;
		t->items[t->n++] = f;
	}
	return t;
}

static void
follower_unlink(struct supervisor *sv, struct follower *f)
{
	struct follower	**pp;

	if (f->all)
		pp = &sv->all_followers;
	else if (f->unit != NULL)
		pp = &f->unit->followers;
	else
		return;
	for (; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	}
	f->unit = NULL;
}

void
supervisor_unfollow(struct supervisor *sv, void *token)
{
	struct follow_token	*t = token;
	size_t			 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		follower_unlink(sv, t->items[i]);
		free(t->items[i]);
	}
	free(t->items);
	free(t);
}
