/*
 * One task (tasks.NAME) from the YAML tree: its steps, handed verbatim to
 * script.c to parse, and the specs it shares with processes
 * (yaml-specs.c). No libyaml, and nothing of how steps run.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "manifest-yaml-int.h"
#include "script.h"
#include "xmalloc.h"

/*
 * Steps: each a command line (a string) or a block (a mapping of one
 * header to a sequence of steps). They are handed to script.c verbatim:
 * their $variables expand when the task runs, not here. depth bounds the
 * recursion, which aliases could otherwise make as deep as they like.
 */
static void
yload_steps(struct yload *y, struct ynode *n, const char *path,
    struct script *sc, size_t depth)
{
	struct ypair	*pairs;
	struct ynode	*kid, *body;
	struct script	*scratch;
	struct step	*st;
	char		*kpath;
	size_t		 i, np;

	n = yload_visit(y, n);
	if (n->type != YNODE_SEQUENCE || n->nkids == 0) {
		yload_expected(y, n, path, NULL, "a non-empty sequence of "
		    "steps", NULL);
		return;
	}
	if (depth > MANIFEST_MAX_DEPTH) {
		yload_error(y, n, path, "steps nested deeper than %d levels",
		    MANIFEST_MAX_DEPTH);
		return;
	}
	for (i = 0; i < n->nkids && !y->aborted; i++) {
		kid = yload_visit(y, n->kids[i]);
		kpath = xasprintf("%s[%zu]", path, i);
		if (kid->type == YNODE_SCALAR && !yload_is_null(kid)) {
			if (strlen(kid->value) != kid->len)
				yload_error(y, kid, kpath, "expected a command "
				    "line; got one with a NUL byte");
			else {
				st = script_add_step(sc);
				if (script_parse_command(kid->value, kid->line,
				    kid->col + (kid->quoted ? 1 : 0), kpath,
				    y->d, st) == -1)
					sc->nsteps--;
			}
		} else if (kid->type == YNODE_MAPPING) {
			pairs = yload_pairs(y, kid, kpath, &np);
			if (np == 1 && kid->nkids == 2) {
				st = script_add_step(sc);
				body = yload_visit(y, pairs[0].value);
				if (script_parse_block(pairs[0].name,
				    pairs[0].key->line, pairs[0].key->col +
				    (pairs[0].key->quoted ? 1 : 0), kpath, y->d,
				    st) == 0) {
					if (st->body == NULL)
						st->body = script_new();
					yload_steps(y, body, kpath, st->body,
					    depth + 1);
				} else {
					sc->nsteps--;
					/* Still report what is wrong inside. */
					if (body->type == YNODE_SEQUENCE) {
						scratch = script_new();
						yload_steps(y, body, kpath,
						    scratch, depth + 1);
						script_free(scratch);
					}
				}
			} else if (kid->nkids != 2)
				yload_error(y, kid, kpath, "expected a block "
				    "with one key such as \"loop:\"; got %zu "
				    "keys", kid->nkids / 2);
			free(pairs);
		} else
			yload_expected(y, kid, kpath, NULL, "a step (a command "
			    "line, or a block such as loop:)", NULL);
		free(kpath);
	}
}

static const char *const yload_task_keys[] = {
	"run", "on_cancel", "autostart", "restart", "backoff", "max_restarts",
	"stdout", "cancel_timeout", "depends_on", "env", "env_file", "log_buffer",
	NULL
};

enum {
	TK_RUN, TK_ON_CANCEL, TK_AUTOSTART, TK_RESTART, TK_BACKOFF,
	TK_MAX_RESTARTS, TK_STDOUT, TK_CANCEL_TIMEOUT, TK_DEPENDS_ON, TK_ENV,
	TK_ENV_FILE, TK_LOG_BUFFER,
};

/* One task: tasks.NAME. */
void
yload_task(struct yload *y, const struct ypair *entry, const char *path)
{
	struct manifest		*m = y->m;
	struct task_spec	*t;
	struct ypair		*pairs;
	struct ynode		*n, *v;
	struct env_var		*fenv = NULL;
	char			*kpath;
	size_t			 i, np, nfenv = 0;
	int			 has_run = 0;

	t = &m->tasks[m->ntasks++];
	memset(t, 0, sizeof *t);
	t->name = xstrdup(entry->name);
	t->loc.line = entry->key->line;
	t->loc.col = entry->key->col;
	t->autostart = 1;
	yload_restart_default(&t->restart);
	t->cancel_timeout_ms = MANIFEST_DEFAULT_CANCEL_TIMEOUT_MS;
	yload_output_default(&t->out, &t->loc);
	t->log_buffer = y->log_buffer;

	n = yload_visit(y, entry->value);
	if (n->type != YNODE_MAPPING) {
		yload_expected(y, n, path, NULL, "a mapping with run", NULL);
		return;
	}
	pairs = yload_pairs(y, n, path, &np);
	for (i = 0; i < np && !y->aborted; i++) {
		kpath = yload_path(path, pairs[i].name);
		v = pairs[i].value;
		if (strcmp(pairs[i].name, "ready") == 0 ||
		    strcmp(pairs[i].name, "ready_timeout") == 0) {
			yload_error(y, pairs[i].key, path, "unknown key \"%s\" "
			    "(only processes have ready:; a task is ready once "
			    "started)", pairs[i].name);
			free(kpath);
			continue;
		}
		switch (yload_key(y, &pairs[i], path, yload_task_keys)) {
		case TK_RUN:
			has_run = 1;
			t->run = script_new();
			yload_steps(y, v, kpath, t->run, 0);
			break;
		case TK_ON_CANCEL:
			v = yload_visit(y, v);
			/* An empty list is how manifest_print says "none". */
			if (yload_is_null(v) || (v->type == YNODE_SEQUENCE &&
			    v->nkids == 0))
				break;
			t->on_cancel = script_new();
			yload_steps(y, v, kpath, t->on_cancel, 0);
			break;
		case TK_AUTOSTART:
			yload_bool(y, yload_visit(y, v), kpath, &t->autostart);
			break;
		case TK_RESTART:
		case TK_BACKOFF:
		case TK_MAX_RESTARTS:
			yload_restart_key(y, pairs[i].name, v, kpath,
			    &t->restart);
			break;
		case TK_STDOUT:
			yload_output(y, v, kpath, &t->out);
			break;
		case TK_CANCEL_TIMEOUT:
			yload_duration(y, yload_visit(y, v), kpath,
			    &t->cancel_timeout_ms);
			break;
		case TK_DEPENDS_ON:
			yload_deps(y, v, kpath, &t->deps, &t->ndeps);
			break;
		case TK_ENV:
			yload_env(y, yload_visit(y, v), kpath, &t->env,
			    &t->nenv);
			break;
		case TK_LOG_BUFFER:
			yload_log_buffer(y, yload_visit(y, v), kpath,
			    &t->log_buffer);
			break;
		case TK_ENV_FILE:
			yload_env_file(y, yload_visit(y, v), kpath, &fenv,
			    &nfenv);
			break;
		default:
			break;
		}
		free(kpath);
	}
	if (!has_run && yload_has_synonym(pairs, np, "run"))
		has_run = 1;
	free(pairs);
	/* env: over the task's env_file: over the top level's. */
	yload_env_under(&fenv, &nfenv, y->env, y->nenv);
	yload_env_under(&t->env, &t->nenv, fenv, nfenv);
	yload_env_free(fenv, nfenv);
	if (!has_run && !y->aborted)
		yload_error(y, entry->key, path, "missing key \"run\" (the "
		    "steps of the task)");
}
