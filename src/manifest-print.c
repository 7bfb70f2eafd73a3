/*
 * The printing of a manifest (manifest_print, for -cv): the resolved
 * model, defaults filled in and variables interpolated, as YAML that
 * loads back to the same model. Pure, like the model.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "script.h"
#include "util.h"
#include "xmalloc.h"

/* ---------------------------------------------------------------- print */

/* Print s as a double-quoted YAML scalar. */
static void
manifest_print_str(FILE *fp, const char *s)
{
	char	*q;

	q = manifest_quote(s, 0);
	fputs(q, fp);
	free(q);
}

/* Print a duration as its shortest exact spelling. */
static void
manifest_print_duration(FILE *fp, uint64_t ms)
{
	char	buf[64];

	util_format_duration(ms, buf, sizeof buf);
	fputs(buf, fp);
}

/* A size in its largest exact binary unit: 10MiB, 512KiB, 1000. */
static void
manifest_print_size(FILE *fp, uint64_t v)
{
	static const struct {
		const char	*unit;
		uint64_t	 mult;
	} units[] = {
		{ "GiB", 1024ULL * 1024 * 1024 }, { "MiB", 1024 * 1024 },
		{ "KiB", 1024 },
	};
	size_t	i;

	for (i = 0; v != 0 && i < sizeof units / sizeof units[0]; i++) {
		if (v % units[i].mult == 0) {
			fprintf(fp, "%llu%s", (unsigned long long)(v /
			    units[i].mult), units[i].unit);
			return;
		}
	}
	fprintf(fp, "%llu", (unsigned long long)v);
}

/*
 * One destination: inherit, null, "file:PATH" or "queue"; a rotated file
 * as {file: PATH, max_size: SIZE, backups: N}.
 */
static void
manifest_print_dest(FILE *fp, const struct dest *dst)
{
	char	*s;

	switch (dst->kind) {
	case DEST_INHERIT:
		fputs("inherit", fp);
		break;
	case DEST_NULL:
		fputs("null", fp);
		break;
	case DEST_FILE:
		if (dst->max_size != 0 ||
		    dst->backups != MANIFEST_DEFAULT_BACKUPS) {
			fputs("{file: ", fp);
			manifest_print_str(fp, dst->name);
			fputs(", max_size: ", fp);
			manifest_print_size(fp, dst->max_size);
			fprintf(fp, ", backups: %u}", dst->backups);
			break;
		}
		s = xasprintf("file:%s", dst->name);
		manifest_print_str(fp, s);
		free(s);
		break;
	case DEST_QUEUE:
		manifest_print_str(fp, dst->name);
		break;
	}
}

/* key: destination, or key: [a, b] for a tee. */
static void
manifest_print_output(FILE *fp, const char *key, const struct output *o)
{
	size_t	i;

	fprintf(fp, "    %s: ", key);
	if (o->ndests == 0)
		fputs("inherit", fp);
	else if (o->ndests == 1)
		manifest_print_dest(fp, &o->dests[0]);
	else {
		fputc('[', fp);
		for (i = 0; i < o->ndests; i++) {
			if (i > 0)
				fputs(", ", fp);
			manifest_print_dest(fp, &o->dests[i]);
		}
		fputc(']', fp);
	}
	fputc('\n', fp);
}

/* restart, backoff and max_restarts. */
static void
manifest_print_restart(FILE *fp, const struct restart_spec *r)
{
	fprintf(fp, "    restart: %s\n", manifest_restart_name(r->policy));
	fputs("    backoff: {initial: ", fp);
	manifest_print_duration(fp, r->backoff.initial_ms);
	fputs(", max: ", fp);
	manifest_print_duration(fp, r->backoff.max_ms);
	fputs("}\n", fp);
	if (r->max_restarts == MANIFEST_UNLIMITED)
		fputs("    max_restarts: unlimited\n", fp);
	else
		fprintf(fp, "    max_restarts: %llu\n",
		    (unsigned long long)r->max_restarts);
}

/* Steps as a YAML block sequence, each as written in the manifest. */
static void
manifest_print_script(FILE *fp, const struct script *s, int indent)
{
	const struct step	*st;
	size_t			 i;

	for (i = 0; i < s->nsteps; i++) {
		st = &s->steps[i];
		fprintf(fp, "%*s- ", indent, "");
		manifest_print_str(fp, st->text != NULL ? st->text : "");
		if (st->kind == STEP_COMMAND) {
			fputc('\n', fp);
			continue;
		}
		fputs(":\n", fp);
		if (st->body != NULL)
			manifest_print_script(fp, st->body, indent + 4);
	}
}

/* depends_on as a flow mapping of names to conditions. */
static void
manifest_print_deps(FILE *fp, const struct dep *deps, size_t n)
{
	static const char *const conds[] = { "started", "ready", "succeeded" };
	size_t			 i;

	fputs("    depends_on: {", fp);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", fp);
		manifest_print_str(fp, deps[i].name);
		if (deps[i].bind)
			fprintf(fp, ": {condition: %s, bind: true}",
			    conds[deps[i].cond]);
		else
			fprintf(fp, ": %s", conds[deps[i].cond]);
	}
	fputs("}\n", fp);
}

/* "host:port", with an IPv6 address in brackets. */
static char *
manifest_hostport(const char *host, const char *port)
{
	if (strchr(host, ':') != NULL)
		return xasprintf("[%s]:%s", host, port);
	return xasprintf("%s:%s", host, port);
}

/* ready (null when none) and ready_timeout. */
static void	manifest_print_probe(FILE *, const char *,
		    const struct ready_spec *, const struct liveness_spec *);

static void
manifest_print_ready(FILE *fp, const struct ready_spec *r)
{
	manifest_print_probe(fp, "ready", r, NULL);
	fputs("    ready_timeout: ", fp);
	manifest_print_duration(fp, r->timeout_ms);
	fputc('\n', fp);
}

/*
 * KEY: the probe (null when none) with its interval, on one line; for
 * liveness, its timeout, failures and initial delay too.
 */
static void
manifest_print_probe(FILE *fp, const char *key, const struct ready_spec *r,
    const struct liveness_spec *l)
{
	char	*hp, *s;
	size_t	 i;

	fprintf(fp, "    %s: ", key);
	switch (r->kind) {
	case READY_NONE:
		fputs("null", fp);
		break;
	case READY_LINE:
		fputs("{line: ", fp);
		manifest_print_str(fp, r->regex);
		fputc('}', fp);
		break;
	case READY_FD:
		fprintf(fp, "{fd: %d}", r->fd);
		break;
	case READY_EXEC:
		fputs("{exec: [", fp);
		for (i = 0; r->argv != NULL && r->argv[i] != NULL; i++) {
			if (i > 0)
				fputs(", ", fp);
			manifest_print_str(fp, r->argv[i]);
		}
		fputc(']', fp);
		break;
	case READY_TCP:
	case READY_HTTP:
		hp = manifest_hostport(r->host, r->port);
		if (r->kind == READY_TCP) {
			fputs("{tcp: ", fp);
			manifest_print_str(fp, hp);
		} else {
			fputs("{http: ", fp);
			s = xasprintf("http://%s%s", hp, r->path);
			manifest_print_str(fp, s);
			free(s);
		}
		free(hp);
		break;
	}
	if (r->kind == READY_EXEC || r->kind == READY_TCP ||
	    r->kind == READY_HTTP) {
		fputs(", interval: ", fp);
		manifest_print_duration(fp, r->interval_ms);
		if (l != NULL) {
			fputs(", timeout: ", fp);
			manifest_print_duration(fp, r->timeout_ms);
			fprintf(fp, ", failures: %llu, initial_delay: ",
			    (unsigned long long)l->failures);
			manifest_print_duration(fp, l->initial_delay_ms);
		}
		fputc('}', fp);
	}
	fputc('\n', fp);
}

/* limits as a flow mapping; cpu in seconds, sizes in binary units. */
static void
manifest_print_limits(FILE *fp, const struct limit *l)
{
	static const char *const names[LIMIT_COUNT] = {
		"nofile", "nproc", "core", "as", "cpu", "fsize",
	};
	size_t			 i, n = 0;

	fputs("    limits: {", fp);
	for (i = 0; i < LIMIT_COUNT; i++) {
		if (!l[i].set)
			continue;
		fprintf(fp, "%s%s: ", n++ > 0 ? ", " : "", names[i]);
		if (l[i].value == MANIFEST_UNLIMITED)
			fputs("unlimited", fp);
		else if (i == LIMIT_CORE || i == LIMIT_AS || i == LIMIT_FSIZE)
			manifest_print_size(fp, l[i].value);
		else
			fprintf(fp, "%llu", (unsigned long long)l[i].value);
	}
	fputs("}\n", fp);
}

/* key: "string", or key: null. */
static void
manifest_print_opt(FILE *fp, const char *key, const char *value)
{
	fprintf(fp, "    %s: ", key);
	if (value != NULL)
		manifest_print_str(fp, value);
	else
		fputs("null", fp);
	fputc('\n', fp);
}

/* env: with every variable (env_file's included), or {}. */
static void
manifest_print_env(FILE *fp, const struct env_var *env, size_t nenv)
{
	size_t	i;

	if (nenv == 0) {
		fputs("    env: {}\n", fp);
		return;
	}
	fputs("    env:\n", fp);
	for (i = 0; i < nenv; i++) {
		fputs("      ", fp);
		manifest_print_str(fp, env[i].name);
		fputs(": ", fp);
		manifest_print_str(fp, env[i].value);
		fputc('\n', fp);
	}
}

/* One process with every key, defaults included. */
static void
manifest_print_proc(FILE *fp, const struct proc_spec *p)
{
	char	sigbuf[32];
	size_t	i;

	fputs("  ", fp);
	manifest_print_str(fp, p->name);
	fputs(":\n", fp);
	if (p->shell != NULL) {
		fputs("    shell: ", fp);
		manifest_print_str(fp, p->shell);
		fputc('\n', fp);
	} else {
		fputs("    cmd: [", fp);
		for (i = 0; i < p->argc; i++) {
			if (i > 0)
				fputs(", ", fp);
			manifest_print_str(fp, p->argv[i]);
		}
		fputs("]\n", fp);
	}
	fputs("    cwd: ", fp);
	if (p->cwd != NULL)
		manifest_print_str(fp, p->cwd);
	else
		fputs("null", fp);
	fputc('\n', fp);
	manifest_print_env(fp, p->env, p->nenv);
	fprintf(fp, "    autostart: %s\n", p->autostart ? "true" : "false");
	manifest_print_restart(fp, &p->restart);
	fprintf(fp, "    stop_signal: %s\n", util_signal_name(p->stop_signal,
	    sigbuf, sizeof sigbuf));
	fputs("    stop_timeout: ", fp);
	manifest_print_duration(fp, p->stop_timeout_ms);
	fputc('\n', fp);
	manifest_print_output(fp, "stdout", &p->out);
	manifest_print_output(fp, "stderr", &p->err);
	fputs("    stdin: ", fp);
	if (p->stdin_queue != NULL)
		manifest_print_str(fp, p->stdin_queue);
	else
		fputs("null", fp);
	fputc('\n', fp);
	/* Given or not changes the names (NAME.1 or NAME): keep it so. */
	if (p->replicas_set)
		fprintf(fp, "    replicas: %u\n", p->replicas);
	if (p->success_codes != NULL) {
		fputs("    success_codes: [", fp);
		for (i = 0; i < p->nsuccess; i++)
			fprintf(fp, "%s%d", i > 0 ? ", " : "",
			    p->success_codes[i]);
		fputs("]\n", fp);
	} else
		fputs("    success_codes: [0]\n", fp);
	fputs("    min_uptime: ", fp);
	manifest_print_duration(fp, p->min_uptime_ms);
	fputc('\n', fp);
	manifest_print_deps(fp, p->deps, p->ndeps);
	manifest_print_ready(fp, &p->ready);
	manifest_print_probe(fp, "liveness", &p->liveness.probe, &p->liveness);
	manifest_print_limits(fp, p->limits);
	if (p->umask >= 0)
		fprintf(fp, "    umask: \"%04o\"\n", (unsigned)p->umask);
	else
		fputs("    umask: null\n", fp);
	manifest_print_opt(fp, "user", p->user);
	manifest_print_opt(fp, "group", p->group);
	fputs("    log_buffer: ", fp);
	manifest_print_size(fp, p->log_buffer);
	fputc('\n', fp);
}

/* One task with every key, defaults included. */
static void
manifest_print_task(FILE *fp, const struct task_spec *t)
{
	fputs("  ", fp);
	manifest_print_str(fp, t->name);
	fputs(":\n", fp);
	fputs("    run:\n", fp);
	if (t->run != NULL)
		manifest_print_script(fp, t->run, 6);
	if (t->on_cancel == NULL || t->on_cancel->nsteps == 0)
		fputs("    on_cancel: []\n", fp);
	else {
		fputs("    on_cancel:\n", fp);
		manifest_print_script(fp, t->on_cancel, 6);
	}
	fprintf(fp, "    autostart: %s\n", t->autostart ? "true" : "false");
	manifest_print_restart(fp, &t->restart);
	manifest_print_output(fp, "stdout", &t->out);
	fputs("    cancel_timeout: ", fp);
	manifest_print_duration(fp, t->cancel_timeout_ms);
	fputc('\n', fp);
	manifest_print_deps(fp, t->deps, t->ndeps);
	manifest_print_env(fp, t->env, t->nenv);
	fputs("    log_buffer: ", fp);
	manifest_print_size(fp, t->log_buffer);
	fputc('\n', fp);
}

/* One queue with every key, defaults included. */
static void
manifest_print_queue(FILE *fp, const struct queue_spec *qs)
{
	fputs("  ", fp);
	manifest_print_str(fp, qs->name);
	fprintf(fp, ":\n    capacity: %zu\n    mode: %s\n"
	    "    overflow: %s\n", qs->capacity,
	    qs->mode == QUEUE_BROADCAST ? "broadcast" : "share",
	    qs->overflow == QUEUE_DROP_OLDEST ? "drop-oldest" :
	    qs->overflow == QUEUE_DROP_NEWEST ? "drop-newest" : "block");
	if (qs->prefetch > 0)
		fprintf(fp, "    prefetch: %zu\n", qs->prefetch);
	if (!qs->redis) {
		fputs("    backend: memory\n", fp);
		return;
	}
	fputs("    backend: redis\n", fp);
	manifest_print_opt(fp, "url", qs->url);
	manifest_print_opt(fp, "stream", qs->stream);
	manifest_print_opt(fp, "group", qs->group);
	fputs("    claim_after: ", fp);
	manifest_print_duration(fp, qs->claim_after_ms);
	fputs("\n    connect_timeout: ", fp);
	manifest_print_duration(fp, qs->connect_timeout_ms);
	fputc('\n', fp);
}

/* The resolved manifest as YAML that loads back to the same model. */
void
manifest_print(const struct manifest *m, FILE *fp)
{
	size_t	i;

	fprintf(fp, "version: %d\n", m->version);
	fputs("drain_timeout: ", fp);
	manifest_print_duration(fp, m->drain_timeout_ms);
	fputc('\n', fp);
	if (m->metrics != NULL)
		fprintf(fp, "metrics: \"%s\"\n", m->metrics);
	fputs(m->nqueues == 0 ? "queues: {}\n" : "queues:\n", fp);
	for (i = 0; i < m->nqueues; i++)
		manifest_print_queue(fp, &m->queues[i]);
	fputs(m->nprocs == 0 ? "processes: {}\n" : "processes:\n", fp);
	for (i = 0; i < m->nprocs; i++)
		manifest_print_proc(fp, &m->procs[i]);
	fputs(m->ntasks == 0 ? "tasks: {}\n" : "tasks:\n", fp);
	for (i = 0; i < m->ntasks; i++)
		manifest_print_task(fp, &m->tasks[i]);
	fflush(fp);
}

