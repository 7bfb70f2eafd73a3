/*
 * The specs processes and tasks share, read from the YAML tree: outputs
 * (stdout and stderr destinations), restart with backoff and
 * max_restarts, and depends_on. Built on yaml-values.c's readers; no
 * libyaml, and no key of its own section.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "manifest.h"
#include "manifest-yaml-int.h"
#include "util.h"
#include "xmalloc.h"

/* ---------------------------------------------------------------- specs */

/* Append one destination to an output, which has room for it. */
static struct dest *
yload_add_dest(struct output *o, enum dest_kind kind, char *name,
    const struct ynode *n)
{
	struct dest	*dst;

	dst = &o->dests[o->ndests++];
	dst->kind = kind;
	dst->name = name;
	dst->loc.line = n->line;
	dst->loc.col = n->col;
	dst->max_size = 0;
	dst->backups = kind == DEST_FILE ? MANIFEST_DEFAULT_BACKUPS : 0;
	return dst;
}

/* {file: PATH, max_size: SIZE, backups: N}: a file rotated by size. */
static int
yload_dest_file(struct yload *y, struct ynode *n, const char *path,
    struct output *o)
{
	static const char *const keys[] = {
		"file", "max_size", "backups", NULL
	};
	struct ypair	*pairs;
	struct dest	*dst;
	struct ynode	*v;
	char		*kpath, *file = NULL;
	uint64_t	 max_size = 0, backups = MANIFEST_DEFAULT_BACKUPS;
	size_t		 i, np;
	int		 failed = 0, has_file = 0;

	pairs = yload_pairs(y, n, path, &np);
	/* Not one of our keys: some other kind of destination was meant. */
	for (i = 0; i < np; i++)
		if (strcmp(pairs[i].name, "file") == 0 ||
		    strcmp(pairs[i].name, "max_size") == 0 ||
		    strcmp(pairs[i].name, "backups") == 0)
			break;
	if (i == np) {
		free(pairs);
		yload_expected(y, n, path, NULL, "inherit, null, file:PATH, "
		    "{file: PATH, max_size: SIZE, backups: N} or a queue name",
		    NULL);
		return -1;
	}
	for (i = 0; i < np && !y->aborted; i++) {
		kpath = yload_path(path, pairs[i].name);
		v = yload_visit(y, pairs[i].value);
		switch (yload_key(y, &pairs[i], path, keys)) {
		case 0:
			has_file = 1;
			if (yload_scalar_text(y, v, kpath, "a file path",
			    &file) == -1)
				failed = 1;
			else if (*file == '\0') {
				yload_expected(y, v, kpath, file, "a file path",
				    NULL);
				failed = 1;
			}
			break;
		case 1:
			failed |= yload_size(y, v, kpath, "a size such as "
			    "10MiB, 512k or 0 (never rotate)", &max_size) != 0;
			break;
		case 2:
			failed |= yload_uint(y, v, kpath, 0,
			    MANIFEST_MAX_BACKUPS, &backups) != 0;
			break;
		default:
			failed = 1;
			break;
		}
		free(kpath);
	}
	free(pairs);
	if (!has_file && !y->aborted) {
		yload_error(y, n, path, "missing key \"file\" (the path of the "
		    "file)");
		failed = 1;
	}
	if (failed) {
		free(file);
		return -1;
	}
	dst = yload_add_dest(o, DEST_FILE, yload_resolve(y, file), n);
	dst->max_size = max_size;
	dst->backups = (unsigned)backups;
	return 0;
}

/* log_buffer: a size from 1KiB to 1GiB. */
int
yload_log_buffer(struct yload *y, struct ynode *n, const char *path,
    uint64_t *out)
{
	static const char	*what = "a size from 1KiB to 1GiB such as 1MiB";
	uint64_t		 u;

	if (yload_size(y, n, path, what, &u) == -1)
		return -1;
	if (u < MANIFEST_MIN_LOG_BUFFER || u > MANIFEST_MAX_LOG_BUFFER) {
		yload_expected(y, n, path, NULL, what, NULL);
		return -1;
	}
	*out = u;
	return 0;
}

/* The default output: inherit, at the unit's place. */
void
yload_output_default(struct output *o, const struct loc *loc)
{
	o->dests = xcalloc(1, sizeof *o->dests);
	o->ndests = 1;
	o->dests[0].kind = DEST_INHERIT;
	o->dests[0].loc = *loc;
}

/* One destination: inherit, null, file:PATH, {file: PATH, ...} or a queue. */
static int
yload_dest(struct yload *y, struct ynode *n, const char *path,
    struct output *o)
{
	static const char	*what = "inherit, null, file:PATH or a queue "
				    "name";
	char			*text;

	if (yload_is_null(n)) {
		yload_add_dest(o, DEST_NULL, NULL, n);
		return 0;
	}
	if (n->type == YNODE_MAPPING)
		return yload_dest_file(y, n, path, o);
	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return -1;
	if (strcmp(text, "inherit") == 0) {
		yload_add_dest(o, DEST_INHERIT, NULL, n);
		free(text);
	} else if (strcmp(text, "null") == 0) {
		yload_add_dest(o, DEST_NULL, NULL, n);
		free(text);
	} else if (strncmp(text, "file:", 5) == 0 && text[5] != '\0') {
		yload_add_dest(o, DEST_FILE, yload_resolve(y,
		    xstrdup(text + 5)), n);
		free(text);
	} else if (*text == '\0' || strncmp(text, "file:", 5) == 0) {
		yload_expected(y, n, path, text, what, NULL);
		free(text);
		return -1;
	} else
		yload_add_dest(o, DEST_QUEUE, text, n);
	return 0;
}

/* stdout/stderr: one destination, or a sequence of them (a tee). */
void
yload_output(struct yload *y, struct ynode *n, const char *path,
    struct output *o)
{
	struct output	 new = { NULL, 0 };
	struct ynode	*kid;
	char		*kpath;
	size_t		 i;
	int		 failed = 0;

	n = yload_visit(y, n);
	new.dests = xcalloc(n->type == YNODE_SEQUENCE ? n->nkids + 1 : 1,
	    sizeof *new.dests);
	if (n->type == YNODE_SEQUENCE) {
		if (n->nkids == 0) {
			yload_expected(y, n, path, NULL, "at least one "
			    "destination", NULL);
			free(new.dests);
			return;
		}
		for (i = 0; i < n->nkids && !y->aborted; i++) {
			kid = yload_visit(y, n->kids[i]);
			kpath = xasprintf("%s[%zu]", path, i);
			if (yload_dest(y, kid, kpath, &new) == -1)
				failed = 1;
			free(kpath);
		}
	} else if (yload_dest(y, n, path, &new) == -1)
		failed = 1;
	if (failed) {
		output_release(&new);
		return;
	}
	output_release(o);
	*o = new;
}

/* backoff: {initial: DURATION, max: DURATION}. */
static void
yload_backoff(struct yload *y, struct ynode *n, const char *path,
    struct backoff *b)
{
	static const char *const keys[] = { "initial", "max", NULL };
	struct ypair	*pairs;
	char		*kpath, ini[32], max[32];
	size_t		 i, np;
	int		 ok = 1;

	n = yload_visit(y, n);
	if (yload_is_null(n))
		return;
	if (n->type != YNODE_MAPPING) {
		yload_expected(y, n, path, NULL, "a mapping such as {initial: "
		    "100ms, max: 30s}", NULL);
		return;
	}
	pairs = yload_pairs(y, n, path, &np);
	for (i = 0; i < np; i++) {
		kpath = yload_path(path, pairs[i].name);
		switch (yload_key(y, &pairs[i], path, keys)) {
		case 0:
			ok &= yload_duration(y, yload_visit(y, pairs[i].value),
			    kpath, &b->initial_ms) == 0;
			break;
		case 1:
			ok &= yload_duration(y, yload_visit(y, pairs[i].value),
			    kpath, &b->max_ms) == 0;
			break;
		default:
			break;
		}
		free(kpath);
	}
	free(pairs);
	if (ok && b->initial_ms > b->max_ms) {
		util_format_duration(b->initial_ms, ini, sizeof ini);
		util_format_duration(b->max_ms, max, sizeof max);
		yload_error(y, n, path, "initial (%s) is longer than max (%s)",
		    ini, max);
	}
}

/* max_restarts: an integer, or "unlimited" (the default). */
static void
yload_max_restarts(struct yload *y, struct ynode *n, const char *path,
    uint64_t *out)
{
	static const char	*what = "an integer of 0 or more, or unlimited";
	const char		*errstr;
	char			*text;

	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return;
	if (strcmp(text, "unlimited") == 0)
		*out = MANIFEST_UNLIMITED;
	else if (util_parse_uint(text, 0, MANIFEST_UNLIMITED - 1, out,
	    &errstr) == -1)
		yload_expected(y, n, path, text, what, NULL);
	free(text);
}

static const char *const yload_restart_words[] = {
	"never", "on-failure", "always", NULL
};

/* The keys processes and tasks share: restart, backoff, max_restarts. */
int
yload_restart_key(struct yload *y, const char *key, struct ynode *n,
    const char *path, struct restart_spec *r)
{
	int	policy;

	if (strcmp(key, "restart") == 0) {
		if (yload_enum(y, yload_visit(y, n), path, yload_restart_words,
		    &policy) == 0)
			r->policy = (enum restart_policy)policy;
	} else if (strcmp(key, "backoff") == 0)
		yload_backoff(y, n, path, &r->backoff);
	else if (strcmp(key, "max_restarts") == 0)
		yload_max_restarts(y, yload_visit(y, n), path,
		    &r->max_restarts);
	else
		return -1;
	return 0;
}

/* The defaults of restart, backoff and max_restarts. */
void
yload_restart_default(struct restart_spec *r)
{
	r->policy = RESTART_NEVER;
	r->backoff.initial_ms = MANIFEST_DEFAULT_BACKOFF_INITIAL_MS;
	r->backoff.max_ms = MANIFEST_DEFAULT_BACKOFF_MAX_MS;
	r->max_restarts = MANIFEST_UNLIMITED;
}

static const char *const yload_dep_words[] = {
	"started", "ready", "succeeded", NULL
};

static const char *const yload_dep_keys[] = { "condition", "bind", NULL };

/*
 * One dependency's value: a condition word, or a mapping with condition
 * (default started) and bind. 0, or -1 when it is wrong (reported).
 */
static int
yload_dep_value(struct yload *y, struct ynode *v, const char *path,
    struct dep *d)
{
	struct ypair	*pairs;
	char		*kpath;
	size_t		 i, np;
	int		 e, r = 0;

	v = yload_visit(y, v);
	d->cond = DEP_STARTED;
	if (v->type != YNODE_MAPPING) {
		if (yload_enum(y, v, path, yload_dep_words, &e) == -1)
			return -1;
		d->cond = (enum dep_cond)e;
		return 0;
	}
	pairs = yload_pairs(y, v, path, &np);
	for (i = 0; i < np && !y->aborted; i++) {
		kpath = yload_path(path, pairs[i].name);
		switch (yload_key(y, &pairs[i], path, yload_dep_keys)) {
		case 0:
			if (yload_enum(y, yload_visit(y, pairs[i].value), kpath,
			    yload_dep_words, &e) == 0)
				d->cond = (enum dep_cond)e;
			else
				r = -1;
			break;
		case 1:
			if (yload_bool(y, yload_visit(y, pairs[i].value), kpath,
			    &d->bind) == -1)
				r = -1;
			break;
		default:
			r = -1;
			break;
		}
		free(kpath);
	}
	free(pairs);
	return r;
}

/* Order dependencies by name, then by position, to find duplicates. */
static int
yload_dep_cmp(const void *a, const void *b)
{
	const struct dep	*x = *(const struct dep *const *)a;
	const struct dep	*y = *(const struct dep *const *)b;
	int			 r;

	if ((r = strcmp(x->name, y->name)) != 0)
		return r;
	return x < y ? -1 : x > y;
}

/*
 * depends_on: a mapping of names to conditions, or a list of names, each
 * meaning started. The names are checked against the units once the whole
 * manifest is read (manifest_check). A name listed twice is an error,
 * found by sorting, so that a huge list stays cheap.
 */
void
yload_deps(struct yload *y, struct ynode *n, const char *path,
    struct dep **out, size_t *nout)
{
	struct ypair	*pairs;
	struct ynode	*kid;
	struct dep	*deps, **sorted;
	char		*kpath, *name;
	size_t		 i, j, np, nd = 0;

	n = yload_visit(y, n);
	if (yload_is_null(n))
		return;
	if (n->type == YNODE_MAPPING) {
		pairs = yload_pairs(y, n, path, &np);
		deps = xcalloc(np + 1, sizeof *deps);
		for (i = 0; i < np && !y->aborted; i++) {
			kpath = yload_path(path, pairs[i].name);
			if (yload_dep_value(y, pairs[i].value, kpath,
			    &deps[nd]) == 0) {
				deps[nd].name = xstrdup(pairs[i].name);
				deps[nd].loc.line = pairs[i].key->line;
				deps[nd].loc.col = pairs[i].key->col;
				nd++;
			}
			free(kpath);
		}
		free(pairs);
		*out = deps;
		*nout = nd;
		return;
	}
	if (n->type != YNODE_SEQUENCE) {
		yload_expected(y, n, path, NULL, "a mapping such as {db: ready} "
		    "or a list of names", NULL);
		return;
	}
	deps = xcalloc(n->nkids + 1, sizeof *deps);
	for (i = 0; i < n->nkids && !y->aborted; i++) {
		kid = yload_visit(y, n->kids[i]);
		kpath = xasprintf("%s[%zu]", path, i);
		if (yload_scalar_text(y, kid, kpath, "a process or task name",
		    &name) == 0) {
			deps[nd].name = name;
			deps[nd].cond = DEP_STARTED;
			deps[nd].loc.line = kid->line;
			deps[nd].loc.col = kid->col;
			nd++;
		}
		free(kpath);
	}
	sorted = xcalloc(nd + 1, sizeof *sorted);
	for (i = 0; i < nd; i++)
		sorted[i] = &deps[i];
	qsort(sorted, nd, sizeof *sorted, yload_dep_cmp);
	for (i = 1, j = 0; i < nd; i++) {
		if (strcmp(sorted[i]->name, sorted[j]->name) != 0) {
			j = i;
			continue;
		}
		kpath = manifest_quote(sorted[i]->name, 60);
		diag_error(y->d, sorted[i]->loc.line, sorted[i]->loc.col,
		    "%s: duplicate name %s (first at line %zu, column %zu)",
		    path, kpath, sorted[j]->loc.line, sorted[j]->loc.col);
		free(kpath);
	}
	free(sorted);
	*out = deps;
	*nout = nd;
}
