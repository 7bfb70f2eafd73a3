/*
 * The typed readers over the YAML tree: strings (interpolated), booleans,
 * integers, durations, sizes, enums, signals, lists of strings, and the
 * entries of a mapping, with duplicate and unknown keys ("did you mean")
 * reported at their line and column. No libyaml, and no section's keys.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "interp.h"
#include "manifest.h"
#include "manifest-yaml-int.h"
#include "util.h"
#include "xmalloc.h"

/* ---------------------------------------------------------------- values */

/* Report a problem at node n, prefixed by the key path when there is one. */
void
yload_error(struct yload *y, const struct ynode *n, const char *path,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;
	int	 len;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	msg = xmalloc(len < 0 ? 1 : (size_t)len + 1);
	va_start(ap, fmt);
	vsnprintf(msg, len < 0 ? 1 : (size_t)len + 1, fmt, ap);
	va_end(ap);
	if (path != NULL && *path != '\0')
		diag_error(y->d, n->line, n->col, "%s: %s", path, msg);
	else
		diag_error(y->d, n->line, n->col, "%s", msg);
	free(msg);
}

/*
 * Follow an alias, counting the visit. Shared nodes are visited once per
 * use, so the count bounds what a "billion laughs" file would expand to;
 * past the bound the walk stops.
 */
struct ynode *
yload_visit(struct yload *y, struct ynode *n)
{
	if (++y->visits > MANIFEST_MAX_NODES && !y->aborted) {
		y->aborted = 1;
		diag_error(y->d, n->line, n->col, "more than %d nodes after "
		    "expanding aliases; the manifest is too large",
		    MANIFEST_MAX_NODES);
	}
	while (n->type == YNODE_ALIAS)
		n = n->target;
	/*
	 * Bytes too: under the node bound, an alias of an alias of a long
	 * string still expands to hundreds of megabytes of steps and argv.
	 */
	if (n->type == YNODE_SCALAR)
		y->bytes += n->len;
	if (y->bytes > MANIFEST_MAX_EXPANDED && !y->aborted) {
		y->aborted = 1;
		diag_error(y->d, n->line, n->col, "more than %d MiB of text "
		    "after expanding aliases; the manifest is too large",
		    MANIFEST_MAX_EXPANDED / (1024 * 1024));
	}
	return n;
}

/* The place of node n. */
void
yload_loc(struct loc *loc, const struct ynode *n)
{
	loc->line = n->line;
	loc->col = n->col;
}

/* Is n a YAML null: ~, null, an empty plain scalar, or tagged !!null? */
int
yload_is_null(const struct ynode *n)
{
	if (n->type != YNODE_SCALAR)
		return 0;
	if (n->tag == YTAG_NULL)
		return 1;
	if (!n->plain || n->tag == YTAG_STR)
		return 0;
	return n->len == 0 || strcmp(n->value, "~") == 0 ||
	    strcmp(n->value, "null") == 0 || strcmp(n->value, "Null") == 0 ||
	    strcmp(n->value, "NULL") == 0;
}

/* Does a plain scalar read as a number or a boolean (shown unquoted)? */
static int
yload_is_literal(const char *s)
{
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
		return 1;
	if (*s == '-' || *s == '+')
		s++;
	return *s >= '0' && *s <= '9' &&
	    strspn(s, "0123456789.eE+-_") == strlen(s);
}

/*
 * What was found, for "expected X; got Y": a kind of collection, null,
 * a number or boolean as written, or a quoted string. text is the value
 * after interpolation when there was one.
 */
static char *
yload_got(const struct ynode *n, const char *text)
{
	switch (n->type) {
	case YNODE_MAPPING:
		return xstrdup(n->nkids == 0 ? "an empty mapping" :
		    "a mapping");
	case YNODE_SEQUENCE:
		return xstrdup(n->nkids == 0 ? "an empty sequence" :
		    "a sequence");
	case YNODE_ALIAS:
		return yload_got(n->target, text);
	case YNODE_SCALAR:
		break;
	}
	if (text == NULL) {
		if (yload_is_null(n))
			return xstrdup("null");
		text = n->value;
	}
	if (n->plain && n->tag != YTAG_STR && strcmp(text, n->value) == 0 &&
	    yload_is_literal(text))
		return xstrdup(text);
	return manifest_quote(text, 60);
}

/* Report "expected what; got ..." about node n (text: interpolated value). */
void
yload_expected(struct yload *y, const struct ynode *n, const char *path,
    const char *text, const char *what, const char *why)
{
	char	*got;

	got = yload_got(n, text);
	if (why != NULL)
		yload_error(y, n, path, "expected %s; got %s (%s)", what, got,
		    why);
	else
		yload_error(y, n, path, "expected %s; got %s", what, got);
	free(got);
}

/* Variables come from the supervisor's environment. */
static const char *
yload_getenv(const char *name, void *arg)
{
	return getenv(name);
}

/*
 * The text of scalar n, interpolated unless raw. An error inside the
 * value points at its exact column when the value is its source text.
 */
int
yload_text(struct yload *y, const struct ynode *n, const char *path, int raw,
    char **out)
{
	char		 errbuf[256];
	const char	*errstr;
	size_t		 off, col, i;

	*out = NULL;
	if (strlen(n->value) != n->len) {
		yload_error(y, n, path, "expected a string; got one with a NUL "
		    "byte");
		return -1;
	}
	if (raw) {
		*out = xstrdup(n->value);
		return 0;
	}
	if (interp_expand(n->value, yload_getenv, NULL, out, errbuf,
	    sizeof errbuf, &errstr, &off) == 0)
		return 0;
	col = n->col;
	if (n->verbatim) {
		col += n->quoted ? 1 : 0;
		for (i = 0; i < off; i++)
			if (((unsigned char)n->value[i] & 0xc0) != 0x80)
				col++;
	}
	diag_error(y->d, n->line, col, "%s: %s", path, errstr);
	return -1;
}

/* A non-null scalar's interpolated text, or "expected what" reported. */
int
yload_scalar_text(struct yload *y, struct ynode *n, const char *path,
    const char *what, char **out)
{
	*out = NULL;
	if (n->type != YNODE_SCALAR || yload_is_null(n)) {
		yload_expected(y, n, path, NULL, what, NULL);
		return -1;
	}
	return yload_text(y, n, path, 0, out);
}

/* A string: any non-null scalar (numbers and booleans as written). */
int
yload_string(struct yload *y, struct ynode *n, const char *path, char **out)
{
	return yload_scalar_text(y, n, path, "a string", out);
}

/* true or false. */
int
yload_bool(struct yload *y, struct ynode *n, const char *path, int *out)
{
	char	*text;
	int	 rc = 0;

	if (yload_scalar_text(y, n, path, "true or false", &text) == -1)
		return -1;
	if (strcmp(text, "true") == 0 || strcmp(text, "True") == 0 ||
	    strcmp(text, "TRUE") == 0)
		*out = 1;
	else if (strcmp(text, "false") == 0 || strcmp(text, "False") == 0 ||
	    strcmp(text, "FALSE") == 0)
		*out = 0;
	else {
		yload_expected(y, n, path, text, "true or false", NULL);
		rc = -1;
	}
	free(text);
	return rc;
}

/* An integer in [min, max]. */
int
yload_uint(struct yload *y, struct ynode *n, const char *path, uint64_t min,
    uint64_t max, uint64_t *out)
{
	const char	*errstr;
	char		*text, *what;
	int		 rc = 0;

	if (max == UINT64_MAX)
		what = xasprintf("an integer of %llu or more",
		    (unsigned long long)min);
	else
		what = xasprintf("an integer from %llu to %llu",
		    (unsigned long long)min, (unsigned long long)max);
	if (yload_scalar_text(y, n, path, what, &text) == 0) {
		if (util_parse_uint(text, min, max, out, &errstr) == -1) {
			yload_expected(y, n, path, text, what, NULL);
			rc = -1;
		}
		free(text);
	} else
		rc = -1;
	free(what);
	return rc;
}

/* A duration: "250ms", "1.5s", "2m", "1h", or a number of seconds. */
int
yload_duration(struct yload *y, struct ynode *n, const char *path,
    uint64_t *ms)
{
	static const char	*what = "a duration such as 250ms, 1.5s or 2m";
	const char		*errstr;
	char			*text;
	int			 rc = 0;

	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return -1;
	if (util_parse_duration(text, ms, &errstr) == -1) {
		yload_expected(y, n, path, text, what, errstr);
		rc = -1;
	}
	free(text);
	return rc;
}

/* A size: "10MiB", "512k" or a number of bytes. */
int
yload_size(struct yload *y, struct ynode *n, const char *path,
    const char *what, uint64_t *out)
{
	const char	*errstr;
	char		*text;
	int		 rc = 0;

	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return -1;
	if (util_parse_size(text, out, &errstr) == -1 ||
	    *out == MANIFEST_UNLIMITED) {
		if (errstr != NULL && strncmp(errstr, "expected", 8) == 0)
			errstr = NULL;
		yload_expected(y, n, path, text, what, errstr);
		rc = -1;
	}
	free(text);
	return rc;
}

/* One of a NULL-terminated list of words; its index. */
int
yload_enum(struct yload *y, struct ynode *n, const char *path,
    const char *const *words, int *out)
{
	struct buf	 b;
	const char	*hint;
	char		*what, *text, *why = NULL;
	int		 i, rc = -1;

	buf_init(&b);
	buf_adds(&b, "one of ");
	for (i = 0; words[i] != NULL; i++)
		buf_addf(&b, "%s%s", i > 0 ? ", " : "", words[i]);
	what = buf_steal(&b);
	if (yload_scalar_text(y, n, path, what, &text) == 0) {
		for (i = 0; words[i] != NULL; i++) {
			if (strcmp(text, words[i]) == 0) {
				*out = i;
				rc = 0;
			}
		}
		if (rc == -1) {
			if ((hint = util_did_you_mean(text, words)) != NULL)
				why = xasprintf("did you mean \"%s\"?", hint);
			yload_expected(y, n, path, text, what, why);
			free(why);
		}
		free(text);
	}
	free(what);
	return rc;
}

/* A signal: "TERM", "SIGTERM" or a number. */
int
yload_signal(struct yload *y, struct ynode *n, const char *path, int *sig)
{
	static const char	*what = "a signal such as TERM, INT or 15";
	const char		*names[65], *errstr, *hint, *word;
	char			 buf[32], *text, *why = NULL;
	size_t			 nnames = 0;
	int			 i, rc = 0;

	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return -1;
	if (util_parse_signal(text, sig, &errstr) == -1) {
		for (i = 1; i < 65; i++) {
			word = util_signal_name(i, buf, sizeof buf);
			if (word != buf)
				names[nnames++] = word;
		}
		names[nnames] = NULL;
		word = strncmp(text, "SIG", 3) == 0 ? text + 3 : text;
		if ((hint = util_did_you_mean(word, names)) != NULL)
			why = xasprintf("did you mean \"%s\"?", hint);
		yload_expected(y, n, path, text, what, why);
		free(why);
		rc = -1;
	}
	free(text);
	return rc;
}

/*
 * A non-empty sequence of strings into a NULL-terminated vector; example
 * is shown when a command line was given instead.
 */
int
yload_argv(struct yload *y, struct ynode *n, const char *path,
    const char *example, const char *hint, char ***out, size_t *outc)
{
	char	**argv, *kpath, *what;
	size_t	  i;
	int	  failed = 0;

	if (n->type == YNODE_SCALAR && !yload_is_null(n)) {
		what = xasprintf("a sequence of strings such as %s", example);
		yload_expected(y, n, path, NULL, what, hint);
		free(what);
		return -1;
	}
	if (n->type != YNODE_SEQUENCE || n->nkids == 0) {
		yload_expected(y, n, path, NULL, "a non-empty sequence of "
		    "strings", NULL);
		return -1;
	}
	argv = xcalloc(n->nkids + 1, sizeof *argv);
	for (i = 0; i < n->nkids && !y->aborted; i++) {
		kpath = xasprintf("%s[%zu]", path, i);
		if (yload_string(y, yload_visit(y, n->kids[i]), kpath,
		    &argv[i]) == -1)
			failed = 1;
		free(kpath);
	}
	if (failed || y->aborted) {
		for (i = 0; i < n->nkids; i++)
			free(argv[i]);
		free(argv);
		return -1;
	}
	*out = argv;
	if (outc != NULL)
		*outc = n->nkids;
	return 0;
}

/* ---------------------------------------------------------------- mappings */

/* parent.key, or key at the top level. */
char *
yload_path(const char *parent, const char *key)
{
	if (parent == NULL || *parent == '\0')
		return xstrdup(key);
	return xasprintf("%s.%s", parent, key);
}

/* Order pairs by name, then by position, to find duplicates. */
static int
yload_pair_cmp(const void *a, const void *b)
{
	const struct ypair	*x = *(const struct ypair *const *)a;
	const struct ypair	*y = *(const struct ypair *const *)b;
	int			 r;

	if ((r = strcmp(x->name, y->name)) != 0)
		return r;
	return x < y ? -1 : x > y;
}

/* Is key the merge key "<<" (plain: a quoted one is a name)? */
static int
yload_is_merge_key(const struct ynode *key)
{
	return key->type == YNODE_SCALAR && key->plain && key->tag != YTAG_STR &&
	    strcmp(key->value, "<<") == 0;
}

/*
 * Add the entries of the mappings that a merge key's value names (one,
 * or a list: the first wins) to pairs, but those it has already: keys of
 * the mapping itself win over merged ones. Merged entries keep their own
 * places in the file, where their errors are reported.
 */
static struct ypair *
yload_merge(struct yload *y, struct ynode *v, const char *path,
    struct ypair *pairs, size_t *np)
{
	struct ynode	*src, *one;
	struct ypair	*more;
	size_t		 i, j, k, nmore, nsrc;

	src = yload_visit(y, v);
	nsrc = src->type == YNODE_SEQUENCE ? src->nkids : 1;
	for (i = 0; i < nsrc && !y->aborted; i++) {
		one = src->type == YNODE_SEQUENCE ?
		    yload_visit(y, src->kids[i]) : src;
		if (one->type != YNODE_MAPPING) {
			yload_expected(y, one, path, NULL, "a mapping or a list "
			    "of mappings to merge (<<: *anchor)", NULL);
			continue;
		}
		more = yload_pairs(y, one, path, &nmore);
		pairs = xreallocarray(pairs, *np + nmore + 1, sizeof *pairs);
		for (j = 0; j < nmore; j++) {
			for (k = 0; k < *np; k++)
				if (strcmp(pairs[k].name, more[j].name) == 0)
					break;
			if (k == *np)
				pairs[(*np)++] = more[j];
		}
		free(more);
	}
	return pairs;
}

/*
 * The entries of mapping n with string keys, in file order, without
 * duplicates (each reported, pointing at the first), then those of the
 * mappings merged in with "<<". Sorting rather than comparing every pair
 * keeps a huge mapping cheap. Caller frees.
 */
struct ypair *
yload_pairs(struct yload *y, struct ynode *n, const char *path, size_t *np)
{
	struct ypair	*pairs, **sorted, *first;
	struct ynode	*key, **merges;
	size_t		 i, k = 0, j, nmerges = 0;
	char		*got;

	pairs = xcalloc(n->nkids / 2 + 1, sizeof *pairs);
	merges = xcalloc(n->nkids / 2 + 1, sizeof *merges);
	for (i = 0; i + 1 < n->nkids; i += 2) {
		key = yload_visit(y, n->kids[i]);
		if (yload_is_merge_key(key)) {
			merges[nmerges++] = n->kids[i + 1];
			continue;
		}
		if (key->type != YNODE_SCALAR || strlen(key->value) !=
		    key->len) {
			got = yload_got(key, NULL);
			yload_error(y, key, path, "expected a name as key; got "
			    "%s", got);
			free(got);
			continue;
		}
		pairs[k].key = key;
		pairs[k].value = n->kids[i + 1];
		pairs[k].name = key->value;
		k++;
	}
	sorted = xcalloc(k + 1, sizeof *sorted);
	for (i = 0; i < k; i++)
		sorted[i] = &pairs[i];
	qsort(sorted, k, sizeof *sorted, yload_pair_cmp);
	for (i = 1, first = k > 0 ? sorted[0] : NULL; i < k; i++) {
		if (strcmp(sorted[i]->name, first->name) != 0) {
			first = sorted[i];
			continue;
		}
		yload_error(y, sorted[i]->key, path, "duplicate key \"%s\" "
		    "(first at line %zu, column %zu)", sorted[i]->name,
		    first->key->line, first->key->col);
		sorted[i]->name = NULL;
	}
	free(sorted);
	for (i = 0, j = 0; i < k; i++)
		if (pairs[i].name != NULL)
			pairs[j++] = pairs[i];
	*np = j;
	for (i = 0; i < nmerges && !y->aborted; i++)
		pairs = yload_merge(y, merges[i], path, pairs, np);
	free(merges);
	return pairs;
}

/*
 * The names people bring from docker compose, process-compose,
 * supervisord and systemd, and ours for them. A synonym is suggested only
 * where its key is one of the mapping's (stop_timeout is a task's
 * cancel_timeout); a name without a counterpart may get a note instead.
 */
static const struct {
	const char	*theirs;
	const char	*ours;		/* NULL: note says why there is none */
	const char	*note;
} yload_synonyms[] = {
	{ "command", "cmd", NULL },
	{ "entrypoint", "cmd", NULL },
	{ "environment", "env", NULL },
	{ "Environment", "env", NULL },
	{ "EnvironmentFile", "env_file", NULL },
	{ "environment_file", "env_file", NULL },
	{ "working_dir", "cwd", NULL },
	{ "working_directory", "cwd", NULL },
	{ "workdir", "cwd", NULL },
	{ "directory", "cwd", NULL },
	{ "WorkingDirectory", "cwd", NULL },
	{ "depends-on", "depends_on", NULL },
	{ "dependencies", "depends_on", NULL },
	{ "requires", "depends_on", NULL },
	{ "after", "depends_on", NULL },
	{ "restart_policy", "restart", NULL },
	{ "autorestart", "restart", NULL },
	{ "availability", "restart", NULL },
	{ "Restart", "restart", NULL },
	{ "startretries", "max_restarts", NULL },
	{ "max_retries", "max_restarts", NULL },
	{ "stopsignal", "stop_signal", NULL },
	{ "stop-signal", "stop_signal", NULL },
	{ "KillSignal", "stop_signal", NULL },
	{ "stop_grace_period", "stop_timeout", NULL },
	{ "stopwaitsecs", "stop_timeout", NULL },
	{ "TimeoutStopSec", "stop_timeout", NULL },
	{ "stop_timeout", "cancel_timeout", NULL },
	{ "numprocs", "replicas", NULL },
	{ "scale", "replicas", NULL },
	{ "healthcheck", "ready", NULL },
	{ "readiness_probe", "ready", NULL },
	{ "stdout_logfile", "stdout", NULL },
	{ "log_location", "stdout", NULL },
	{ "stderr_logfile", "stderr", NULL },
	{ "ulimits", "limits", NULL },
	{ "services", "processes", NULL },
	{ "programs", "processes", NULL },
	{ "steps", "run", NULL },
	{ "script", "run", NULL },
	{ "maxsize", "capacity", NULL },
	{ "size", "capacity", NULL },
	{ "startsecs", "min_uptime", NULL },
	{ "exitcodes", "success_codes", NULL },
	{ "success_exit_status", "success_codes", NULL },
};

/* Our name for a key from another tool, if it is one of keys; or a note. */
static const char *
yload_synonym(const char *name, const char *const *keys, const char **note)
{
	size_t	i;
	int	k;

	*note = NULL;
	for (i = 0; i < sizeof yload_synonyms / sizeof yload_synonyms[0];
	    i++) {
		if (strcmp(name, yload_synonyms[i].theirs) != 0)
			continue;
		if (yload_synonyms[i].ours == NULL) {
			*note = yload_synonyms[i].note;
			continue;
		}
		for (k = 0; keys[k] != NULL; k++)
			if (strcmp(keys[k], yload_synonyms[i].ours) == 0)
				return keys[k];
	}
	return NULL;
}

/*
 * Is one of the n pairs another tool's name for ours? Then its "unknown
 * key" said it all, and "missing key" need not be said too.
 */
int
yload_has_synonym(const struct ypair *pairs, size_t n, const char *ours)
{
	size_t	i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < sizeof yload_synonyms / sizeof yload_synonyms[0];
		    j++)
			if (yload_synonyms[j].ours != NULL &&
			    strcmp(yload_synonyms[j].ours, ours) == 0 &&
			    strcmp(yload_synonyms[j].theirs, pairs[i].name) == 0)
				return 1;
	return 0;
}

/* The index of a pair's key in keys, or -1 with "unknown key" reported. */
int
yload_key(struct yload *y, const struct ypair *pair, const char *path,
    const char *const *keys)
{
	const char	*hint, *note;
	char		*q;
	int		 i;

	for (i = 0; keys[i] != NULL; i++)
		if (strcmp(pair->name, keys[i]) == 0)
			return i;
	q = manifest_quote(pair->name, 60);
	if ((hint = yload_synonym(pair->name, keys, &note)) == NULL &&
	    note != NULL) {
		yload_error(y, pair->key, path, "unknown key %s (%s)", q, note);
		free(q);
		return -1;
	}
	if (hint != NULL || (hint = util_did_you_mean(pair->name,
	    keys)) != NULL)
		yload_error(y, pair->key, path, "unknown key %s (did you mean "
		    "\"%s\"?)", q, hint);
	else
		yload_error(y, pair->key, path, "unknown key %s", q);
	free(q);
	return -1;
}
