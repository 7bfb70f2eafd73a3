/*
 * The supervisor's control interface: list and status, start, stop,
 * restart, scale and signal units (with a wait for stop and restart to
 * be done), add a process or a task, remove a unit, queues, logs and
 * following a unit's output. Calls the core (supervisor.c) one way;
 * knows nothing of the wire format or the socket.
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

int
supervisor_set_exit_from(struct supervisor *sv, const char *name,
    char **cause)
{
	struct unit	**v;
	size_t		  n;

	n = sv_select(sv, name, &v);
	free(v);
	if (n == 0) {
		*cause = xasprintf("--exit-code-from: no such unit: %s", name);
		return -1;
	}
	free(sv->exit_from);
	sv->exit_from = xstrdup(name);
	return 0;
}

void
supervisor_set_guard(struct supervisor *sv, struct guard *g)
{
	sv->guard = g;
}

static void
unit_info(const struct unit *u, struct sv_unit_info *i)
{
	memset(i, 0, sizeof *i);
	snprintf(i->kind, sizeof i->kind, "%s", u->ps != NULL ? "process" :
	    "task");
	i->name = u->name;
	i->state = unit_state_name(u->sm.state);
	if (unit_child(u) != NULL)
		i->pid = (long)proc_pid(unit_child(u));
	i->restarts = u->sm.hist.restarts;
	if (unit_state_has_run(u->sm.state))
		i->uptime_ms = uv_now(u->sv->loop) - u->started_ms;
	i->has_ended = u->sm.has_ended;
	i->last_end = u->sm.has_ended ? unit_end_name(u->sm.last_end) : "";
	i->last_status = u->last_status;
	i->base = u->base;
	i->up = unit_state_has_run(u->sm.state);
	i->ready = u->sm.state == UNIT_RUNNING;
	if (u->pr != NULL && u->pr->stdin_wq != NULL)
		i->stdin_queue = wqueue_name(u->pr->stdin_wq);
	if (u->pr != NULL && u->pr->in != NULL)
		i->in_flight = inlet_in_flight(u->pr->in);
}

size_t
supervisor_list(struct supervisor *sv, struct sv_unit_info **out)
{
	size_t	i, n = 0;

	*out = xcalloc(sv->nunits + 1, sizeof **out);
	for (i = 0; i < sv->nunits; i++)
		if (sv->units[i]->sm.pending != UNIT_PEND_REMOVE)
			unit_info(sv->units[i], &(*out)[n++]);
	return n;
}

/* The instances a control command names, or why there are none. */
static size_t
sv_ctl_units(struct supervisor *sv, const char *name, struct unit ***v,
    char **cause)
{
	size_t	n;

	if ((n = sv_select(sv, name, v)) == 0)
		*cause = xasprintf("no such unit: %s", name != NULL ? name : "");
	return n;
}

int
supervisor_status(struct supervisor *sv, const char *name,
    struct sv_unit_info **out, size_t *n, char **cause)
{
	struct unit	**v;
	size_t		  i;

	*out = NULL;
	if ((*n = sv_ctl_units(sv, name, &v, cause)) == 0)
		return -1;
	*out = xcalloc(*n, sizeof **out);
	for (i = 0; i < *n; i++)
		unit_info(v[i], &(*out)[i]);
	free(v);
	return 0;
}

int
supervisor_start_unit(struct supervisor *sv, const char *name, int *started,
    char **cause)
{
	return sv_command(sv, name, UEV_START, NULL, 0, started, cause);
}

/*
 * A command on the instances of a name, answered once they have done it
 * when w is given: *token is then a wait to cancel, or NULL when there
 * is nothing to wait for.
 */
static int
sv_ctl_wait(struct supervisor *sv, const char *name, enum unit_event ev,
    const struct sv_wait *w, void **token, char **cause)
{
	struct unit	**v;
	struct sv_op	 *op;
	size_t		  n;

	if (token != NULL)
		*token = NULL;
	if ((n = sv_ctl_units(sv, name, &v, cause)) == 0)
		return -1;
	/* Made before the command, to know each unit's runs before it. */
	op = w != NULL && token != NULL ? sv_op_new(sv, ev, v, n, w->fn,
	    w->arg) : NULL;
	free(v);
	if (sv_command(sv, name, ev, NULL, 0, NULL, cause) == -1) {
		sv_op_free(sv, op);
		return -1;
	}
	if (op == NULL)
		return 0;
	if (sv_op_is_done(op))
		sv_op_free(sv, op);
	else {
		op->armed = 1;
		*token = op;
	}
	return 0;
}

int
supervisor_stop_unit(struct supervisor *sv, const char *name,
    const struct sv_wait *w, void **token, char **cause)
{
	return sv_ctl_wait(sv, name, UEV_STOP, w, token, cause);
}

int
supervisor_restart_unit(struct supervisor *sv, const char *name,
    const struct sv_wait *w, void **token, char **cause)
{
	return sv_ctl_wait(sv, name, UEV_RESTART, w, token, cause);
}

int
supervisor_remove_unit(struct supervisor *sv, const char *name,
    const struct sv_wait *w, void **token, char **cause)
{
	return sv_ctl_wait(sv, name, UEV_REMOVE, w, token, cause);
}

void
supervisor_wait_cancel(struct supervisor *sv, void *token)
{
	sv_op_free(sv, token);
}

int
supervisor_scale(struct supervisor *sv, const char *name, unsigned n,
    char **cause)
{
	struct unit	**v;
	size_t		  k, i;
	const struct proc_spec *ps = NULL;
	struct manifest	 *m = NULL;

	if (sv->shutting_down) {
		*cause = xstrdup("the supervisor is shutting down");
		return -1;
	}
	k = sv_select(sv, name, &v);
	for (i = 0; i < k && ps == NULL; i++)
		if (!v[i]->added && v[i]->ps != NULL &&
		    strcmp(v[i]->base, name) == 0 &&
		    v[i]->sm.pending != UNIT_PEND_REMOVE) {
			ps = v[i]->ps;
			m = v[i]->m;
		}
	free(v);
	if (ps == NULL) {
		*cause = xasprintf("no such process: %s (scale takes the name "
		    "of a process of the manifest)", name);
		return -1;
	}
	if (!ps->replicas_set && ps->replicas <= 1) {
		*cause = xasprintf("%s has no replicas: key: give it "
		    "\"replicas: 1\" in the manifest to scale it (its "
		    "instances are then named %s.1, %s.2, ...)", name, name,
		    name);
		return -1;
	}
	if (n < 1 || n > MANIFEST_MAX_REPLICAS) {
		*cause = xasprintf("scale: %u replicas: between 1 and %u",
		    n, (unsigned)MANIFEST_MAX_REPLICAS);
		return -1;
	}
	sv->done = 0;
	sv_scale(sv, m, ps, n);
	return 0;
}

int
supervisor_signal_unit(struct supervisor *sv, const char *name, int sig,
    char **cause)
{
	return sv_signal(sv, name, sig, cause);
}

/*
 * Is a name free for a new unit? One name, one unit: not a unit's or a
 * base's name, nor NAME.N of a process that has replicas.
 */
static int
sv_name_free(struct supervisor *sv, const char *name, char **cause)
{
	struct unit	**v;
	const char	*dot;
	char		*base;
	size_t		  n, i;

	if (!util_is_valid_name(name)) {
		*cause = xasprintf("invalid unit name \"%s\" (letters, digits, "
		    "_, . and - only)", name);
		return -1;
	}
	n = sv_select(sv, name, &v);
	free(v);
	if (n > 0) {
		*cause = xasprintf("a unit named %s exists already", name);
		return -1;
	}
	if ((dot = strrchr(name, '.')) == NULL || dot[1] == '\0' ||
	    strspn(dot + 1, "0123456789") != strlen(dot + 1))
		return 0;
	base = xstrndup(name, (size_t)(dot - name));
	n = sv_select(sv, base, &v);
	for (i = 0; i < n; i++)
		if (v[i]->ps != NULL && v[i]->idx > 0 && !v[i]->added)
			break;
	if (i < n || manifest_find_proc(sv->m, base) != NULL) {
		*cause = xasprintf("%s would be a replica of process %s: choose "
		    "another name, or scale %s (ctl scale %s N)", name, base,
		    base, base);
		free(base);
		free(v);
		return -1;
	}
	free(base);
	free(v);
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

/* A new unit for the one spec of a manifest made by ctl, started now. */
static struct unit *
sv_adopt(struct supervisor *sv, struct manifest *own)
{
	struct unit	*u;

	if (own->nprocs > 0)
		u = sv_unit_new(sv, own, &own->procs[0], NULL, 0);
	else
		u = sv_unit_new(sv, own, NULL, &own->tasks[0], 0);
	/* The unit holds its own reference now. */
	manifest_free(own);
	u->added = 1;
	sv->done = 0;
	(void)sv_post(u, UEV_START);
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
	struct unit		**v;
	size_t			  n;

	if (is_queue && wire_find_queue(rc->sv->wire, name) == NULL)
		diag_error(rc->d, line, col, "no such queue: %s", name);
	if (!is_queue) {
		n = sv_select(rc->sv, name, &v);
		free(v);
		if (n == 0)
			diag_error(rc->d, line, col, "no such unit: %s", name);
	}
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

/* The units of name, or every unit when it is NULL (caller frees). */
static size_t
sv_log_units(struct supervisor *sv, const char *name, struct unit ***v,
    char **cause)
{
	if (name != NULL)
		return sv_ctl_units(sv, name, v, cause);
	*v = xreallocarray(NULL, sv->nunits + 1, sizeof **v);
	if (sv->nunits > 0)
		memcpy(*v, sv->units, sv->nunits * sizeof **v);
	return sv->nunits;
}

int
supervisor_logs(struct supervisor *sv, const char *name,
    void (*fn)(const char *, uint64_t, uint64_t, const char *, size_t,
    void *), void (*dropped_fn)(const char *, uint64_t, uint64_t, void *),
    void *arg, char **cause)
{
	struct sv_lines_arg	 a;
	struct unit		**v;
	size_t			 n, i;

	if ((n = sv_log_units(sv, name, &v, cause)) == 0 && name != NULL)
		return -1;
	for (i = 0; i < n; i++) {
		a.unit = v[i]->name;
		a.fn = fn;
		a.arg = arg;
		if (v[i]->log != NULL)
			logring_lines(v[i]->log, sv_log_line_cb, &a);
	}
	for (i = 0; i < n; i++)
		if (v[i]->log != NULL && logring_dropped(v[i]->log) > 0)
			dropped_fn(v[i]->name, logring_dropped(v[i]->log),
			    v[i]->log->max, arg);
	free(v);
	return 0;
}

void *
supervisor_follow(struct supervisor *sv, const char *name, sv_line_fn *fn,
    void *arg, char **cause)
{
	struct follower	*f;
	struct unit	**v;
	size_t		  n;

	/* NULL: every unit, those added later too. */
	if (name != NULL) {
		if ((n = sv_ctl_units(sv, name, &v, cause)) == 0)
			return NULL;
		free(v);
	}
	f = xcalloc(1, sizeof *f);
	f->name = name != NULL ? xstrdup(name) : NULL;
	f->fn = fn;
	f->arg = arg;
	LIST_INSERT_HEAD(&sv->followers, f, entry);
	return f;
}

void
supervisor_unfollow(struct supervisor *sv, void *token)
{
	struct follower	*f = token;

	(void)sv;
	if (f == NULL)
		return;
	LIST_REMOVE(f, entry);
	free(f->name);
	free(f);
}

/* The manifest in force; read-only. */
const struct manifest *
supervisor_manifest(const struct supervisor *sv)
{
	return sv->m;
}
