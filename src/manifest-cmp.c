/*
 * The comparison of two specs for a reload (manifest_proc_equal,
 * manifest_task_equal, manifest_queue_equal). Pure, like the model.
 */
#include "config.h"

#include <string.h>

#include "manifest.h"
#include "script.h"

/* ---------------------------------------------------------------- compare */

/*
 * Deep comparison of two specs, for a reload: a unit whose spec is the
 * same keeps running. Every field counts but the places in the file (a
 * unit moved in the file is the same unit); lists compare in order.
 */

/* Equal strings, either of which may be NULL. */
static int
manifest_str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Equal NULL-terminated vectors, either of which may be NULL. */
static int
manifest_argv_equal(char *const *a, char *const *b)
{
	size_t	i;

	if (a == NULL || b == NULL)
		return a == b;
	for (i = 0; a[i] != NULL && b[i] != NULL; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return a[i] == NULL && b[i] == NULL;
}

static int
manifest_output_equal(const struct output *a, const struct output *b)
{
	const struct dest	*x, *y;
	size_t			 i;

	if (a->ndests != b->ndests)
		return 0;
	for (i = 0; i < a->ndests; i++) {
		x = &a->dests[i];
		y = &b->dests[i];
		if (x->kind != y->kind || !manifest_str_equal(x->name, y->name))
			return 0;
		if (x->kind == DEST_FILE && (x->max_size != y->max_size ||
		    x->backups != y->backups))
			return 0;
	}
	return 1;
}

static int
manifest_restart_equal(const struct restart_spec *a,
    const struct restart_spec *b)
{
	return a->policy == b->policy &&
	    a->backoff.initial_ms == b->backoff.initial_ms &&
	    a->backoff.max_ms == b->backoff.max_ms &&
	    a->max_restarts == b->max_restarts;
}

static int
manifest_deps_equal(const struct dep *a, size_t na, const struct dep *b,
    size_t nb)
{
	size_t	i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (a[i].cond != b[i].cond || a[i].bind != b[i].bind ||
		    strcmp(a[i].name, b[i].name) != 0)
			return 0;
	return 1;
}

static int
manifest_ready_equal(const struct ready_spec *a, const struct ready_spec *b)
{
	if (a->kind != b->kind || a->timeout_ms != b->timeout_ms)
		return 0;
	switch (a->kind) {
	case READY_NONE:
		return 1;
	case READY_LINE:
		return manifest_str_equal(a->regex, b->regex);
	case READY_FD:
		return a->fd == b->fd;
	case READY_EXEC:
		return a->interval_ms == b->interval_ms &&
		    manifest_argv_equal(a->argv, b->argv);
	case READY_TCP:
	case READY_HTTP:
		return a->interval_ms == b->interval_ms &&
		    manifest_str_equal(a->host, b->host) &&
		    manifest_str_equal(a->port, b->port) &&
		    manifest_str_equal(a->path, b->path);
	}
	return 0;
}

/*
 * Steps compare by their text as written, which determines the parsed
 * step, and blocks by their bodies too. A missing script and an empty one
 * are the same.
 */
static int
manifest_script_equal(const struct script *a, const struct script *b)
{
	size_t	na = a != NULL ? a->nsteps : 0, nb = b != NULL ? b->nsteps : 0;
	size_t	i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++) {
		if (a->steps[i].kind != b->steps[i].kind ||
		    !manifest_str_equal(a->steps[i].text, b->steps[i].text) ||
		    !manifest_script_equal(a->steps[i].body, b->steps[i].body))
			return 0;
	}
	return 1;
}

/* Equal lists of n variables, in order. */
static int
manifest_env_equal(const struct env_var *a, const struct env_var *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(a[i].name, b[i].name) != 0 ||
		    strcmp(a[i].value, b[i].value) != 0)
			return 0;
	return 1;
}

/* The same exit statuses count as success (none given: only 0). */
static int
manifest_codes_equal(const struct proc_spec *a, const struct proc_spec *b)
{
	static const int	 zero = 0;
	const int		*ca = a->success_codes, *cb = b->success_codes;
	size_t			 na = a->nsuccess, nb = b->nsuccess, i;

	if (ca == NULL) {
		ca = &zero;
		na = 1;
	}
	if (cb == NULL) {
		cb = &zero;
		nb = 1;
	}
	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (ca[i] != cb[i])
			return 0;
	return 1;
}

/* Is process a specified exactly as b? */
int
manifest_proc_equal(const struct proc_spec *a, const struct proc_spec *b)
{
	size_t	i;

	if (strcmp(a->name, b->name) != 0 || a->argc != b->argc ||
	    !manifest_argv_equal(a->argv, b->argv) ||
	    !manifest_str_equal(a->shell, b->shell) ||
	    !manifest_str_equal(a->cwd, b->cwd) || a->nenv != b->nenv ||
	    a->autostart != b->autostart ||
	    !manifest_restart_equal(&a->restart, &b->restart) ||
	    a->stop_signal != b->stop_signal ||
	    a->stop_timeout_ms != b->stop_timeout_ms ||
	    !manifest_output_equal(&a->out, &b->out) ||
	    !manifest_output_equal(&a->err, &b->err) ||
	    !manifest_str_equal(a->stdin_queue, b->stdin_queue) ||
	    a->replicas != b->replicas || a->replicas_set != b->replicas_set ||
	    a->min_uptime_ms != b->min_uptime_ms ||
	    !manifest_deps_equal(a->deps, a->ndeps, b->deps, b->ndeps) ||
	    !manifest_ready_equal(&a->ready, &b->ready) ||
	    !manifest_ready_equal(&a->liveness.probe, &b->liveness.probe) ||
	    a->liveness.failures != b->liveness.failures ||
	    a->liveness.initial_delay_ms != b->liveness.initial_delay_ms ||
	    a->umask != b->umask || !manifest_str_equal(a->user, b->user) ||
	    !manifest_str_equal(a->group, b->group) ||
	    a->log_buffer != b->log_buffer)
		return 0;
	if (!manifest_env_equal(a->env, b->env, a->nenv))
		return 0;
	if (!manifest_codes_equal(a, b))
		return 0;
	for (i = 0; i < LIMIT_COUNT; i++)
		if (a->limits[i].set != b->limits[i].set ||
		    (a->limits[i].set &&
		    a->limits[i].value != b->limits[i].value))
			return 0;
	return 1;
}

/* Is task a specified exactly as b, step by step? */
int
manifest_task_equal(const struct task_spec *a, const struct task_spec *b)
{
	return strcmp(a->name, b->name) == 0 &&
	    manifest_script_equal(a->run, b->run) &&
	    manifest_script_equal(a->on_cancel, b->on_cancel) &&
	    a->autostart == b->autostart &&
	    manifest_restart_equal(&a->restart, &b->restart) &&
	    a->cancel_timeout_ms == b->cancel_timeout_ms &&
	    manifest_output_equal(&a->out, &b->out) &&
	    manifest_deps_equal(a->deps, a->ndeps, b->deps, b->ndeps) &&
	    a->nenv == b->nenv && manifest_env_equal(a->env, b->env, a->nenv) &&
	    a->log_buffer == b->log_buffer;
}

/* Is queue a specified exactly as b? */
int
manifest_queue_equal(const struct queue_spec *a, const struct queue_spec *b)
{
	if (strcmp(a->name, b->name) != 0 || a->capacity != b->capacity ||
	    a->mode != b->mode || a->overflow != b->overflow ||
	    a->prefetch != b->prefetch || a->redis != b->redis)
		return 0;
	if (!a->redis)
		return 1;
	return manifest_str_equal(a->url, b->url) &&
	    manifest_str_equal(a->stream, b->stream) &&
	    manifest_str_equal(a->group, b->group) &&
	    a->claim_after_ms == b->claim_after_ms &&
	    a->connect_timeout_ms == b->connect_timeout_ms;
}
