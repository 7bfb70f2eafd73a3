/*
 * YAML to manifest. libyaml's events become a small tree of our own,
 * bounded in size, depth, nodes and aliases (libyaml has no limits), and
 * the tree is walked into struct manifest, every problem reported with its
 * line, column and key path. The only file that includes <yaml.h>; the
 * model and the cross-checks that need the whole manifest are manifest.c's.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "buf.h"
#include "diag.h"
#include "interp.h"
#include "log.h"
#include "manifest.h"
#include "manifest-yaml.h"
#include "script.h"
#include "util.h"
#include "xmalloc.h"

/* Items a queue may hold: beyond this a capacity is surely a typo. */
#define MANIFEST_MAX_CAPACITY	10000000

enum ynode_type {
	YNODE_SCALAR,
	YNODE_SEQUENCE,
	YNODE_MAPPING,
	YNODE_ALIAS,
};

enum ynode_tag {
	YTAG_NONE,
	YTAG_STR,	/* !!str or the non-specific "!" */
	YTAG_NULL,	/* !!null */
};

/* One node of the document; aliases point at their anchor's node. */
struct ynode {
	enum ynode_type	  type;
	size_t		  line;		/* 1-based */
	size_t		  col;
	char		 *value;	/* scalars, NUL-terminated */
	size_t		  len;
	int		  plain;
	int		  quoted;	/* '...' or "..." */
	int		  verbatim;	/* value is its source text on one line */
	enum ynode_tag	  tag;
	struct ynode	**kids;		/* sequence items; key, value pairs */
	size_t		  nkids;
	size_t		  kidscap;
	struct ynode	 *target;	/* aliases */
	int		  open;		/* a collection still being read */
};

struct yanchor {
	char		*name;
	struct ynode	*node;
};

/* A mapping entry whose key is a unique string. */
struct ypair {
	struct ynode	*key;
	struct ynode	*value;
	const char	*name;
};

/* The state of one load: the tree, its bounds, and the model being built. */
struct yload {
	struct diag	 *d;
	const char	 *data;
	size_t		  len;
	struct ynode	**all;		/* every node, for freeing */
	size_t		  nall;
	size_t		  allcap;
	struct yanchor	 *anchors;
	size_t		  nanchors;
	size_t		  anchorscap;
	size_t		  naliases;
	struct ynode	 *stack[MANIFEST_MAX_DEPTH];
	size_t		  depth;
	struct ynode	 *root;
	size_t		  visits;
	size_t		  bytes;	/* of scalars visited, aliases expanded */
	int		  aborted;
	struct manifest	 *m;
};

static void	yload_error(struct yload *, const struct ynode *, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));

/* ---------------------------------------------------------------- tree */

/* Make room for one more element, doubling: a flat list stays linear. */
static void *
yload_grow(void *array, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return array;
	*cap = *cap == 0 ? 8 : *cap * 2;
	return xreallocarray(array, *cap, size);
}

/* Report a problem at node n, prefixed by the key path when there is one. */
static void
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

/* The 1-based line and column of a byte offset into the input. */
static void
yload_offset_position(const struct yload *y, size_t off, size_t *line,
    size_t *col)
{
	size_t	i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && i < y->len; i++) {
		if (y->data[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)y->data[i] & 0xc0) != 0x80)
			(*col)++;
	}
}

/* libyaml's own message, at its problem mark. */
static void
yload_syntax_error(struct yload *y, const yaml_parser_t *p)
{
	const char	*problem = p->problem != NULL ? p->problem :
			    "invalid YAML";
	size_t		 line, col;

	if (p->error == YAML_READER_ERROR) {
		yload_offset_position(y, p->problem_offset, &line, &col);
		diag_error(y->d, line, col, "%s", problem);
	} else if (p->context != NULL)
		diag_error(y->d, p->problem_mark.line + 1,
		    p->problem_mark.column + 1, "%s (%s at line %zu, column "
		    "%zu)", problem, p->context, p->context_mark.line + 1,
		    p->context_mark.column + 1);
	else
		diag_error(y->d, p->problem_mark.line + 1,
		    p->problem_mark.column + 1, "%s", problem);
}

/* A new node at mark, attached to the open collection (or the root). */
static struct ynode *
yload_add(struct yload *y, enum ynode_type type, const yaml_mark_t *mark)
{
	struct ynode	*n, *parent;

	if (y->nall >= MANIFEST_MAX_NODES) {
		diag_error(y->d, mark->line + 1, mark->column + 1, "more than "
		    "%d YAML nodes; the manifest is too large",
		    MANIFEST_MAX_NODES);
		return NULL;
	}
	n = xcalloc(1, sizeof *n);
	n->type = type;
	n->line = mark->line + 1;
	n->col = mark->column + 1;
	y->all = yload_grow(y->all, y->nall, &y->allcap, sizeof *y->all);
	y->all[y->nall++] = n;
	if (y->depth == 0) {
		if (y->root == NULL)
			y->root = n;
		return n;
	}
	parent = y->stack[y->depth - 1];
	parent->kids = yload_grow(parent->kids, parent->nkids,
	    &parent->kidscap, sizeof *parent->kids);
	parent->kids[parent->nkids++] = n;
	return n;
}

/* Remember &name for later aliases; a later anchor of that name wins. */
static void
yload_anchor(struct yload *y, const yaml_char_t *name, struct ynode *n)
{
	if (name == NULL)
		return;
	y->anchors = yload_grow(y->anchors, y->nanchors, &y->anchorscap,
	    sizeof *y->anchors);
	y->anchors[y->nanchors].name = xstrdup((const char *)name);
	y->anchors[y->nanchors].node = n;
	y->nanchors++;
}

/* The explicit tags we honour; others are ignored. */
static enum ynode_tag
yload_tag(const yaml_char_t *tag)
{
	if (tag == NULL)
		return YTAG_NONE;
	if (strcmp((const char *)tag, "!") == 0 ||
	    strcmp((const char *)tag, YAML_STR_TAG) == 0)
		return YTAG_STR;
	if (strcmp((const char *)tag, YAML_NULL_TAG) == 0)
		return YTAG_NULL;
	return YTAG_NONE;
}

/* A scalar event becomes a node holding a copy of its bytes. */
static int
yload_scalar(struct yload *y, const yaml_event_t *ev)
{
	struct ynode	*n;
	size_t		 span;

	if ((n = yload_add(y, YNODE_SCALAR, &ev->start_mark)) == NULL)
		return -1;
	n->len = ev->data.scalar.length;
	n->value = xmalloc(n->len + 1);
	memcpy(n->value, ev->data.scalar.value, n->len);
	n->value[n->len] = '\0';
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
	    ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	n->tag = yload_tag(ev->data.scalar.tag);
	/* Columns inside the value are exact only when nothing was escaped. */
	span = ev->end_mark.index - ev->start_mark.index;
	n->verbatim = (n->plain || n->quoted) &&
	    ev->start_mark.line == ev->end_mark.line &&
	    span == n->len + (n->quoted ? 2 : 0);
	yload_anchor(y, ev->data.scalar.anchor, n);
	return 0;
}

/* A sequence or mapping starts: bound the depth, then descend. */
static int
yload_open(struct yload *y, const yaml_event_t *ev, enum ynode_type type)
{
	const yaml_char_t	*anchor, *tag;
	struct ynode		*n;

	if (y->depth >= MANIFEST_MAX_DEPTH) {
		diag_error(y->d, ev->start_mark.line + 1,
		    ev->start_mark.column + 1, "nesting deeper than %d levels",
		    MANIFEST_MAX_DEPTH);
		return -1;
	}
	if ((n = yload_add(y, type, &ev->start_mark)) == NULL)
		return -1;
	if (type == YNODE_SEQUENCE) {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
	} else {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
	}
	n->tag = yload_tag(tag);
	n->open = 1;
	yload_anchor(y, anchor, n);
	y->stack[y->depth++] = n;
	return 0;
}

/*
 * An alias refers to an earlier anchored node, which is shared, not
 * copied: the tree stays as small as the file, and the walk counts the
 * nodes it visits so that expansion stays bounded too.
 */
static int
yload_alias(struct yload *y, const yaml_event_t *ev)
{
	const char	*name = (const char *)ev->data.alias.anchor;
	struct ynode	*n, *target = NULL;
	size_t		 i;

	if (++y->naliases > MANIFEST_MAX_ALIASES) {
		diag_error(y->d, ev->start_mark.line + 1,
		    ev->start_mark.column + 1, "more than %d aliases",
		    MANIFEST_MAX_ALIASES);
		return -1;
	}
	for (i = y->nanchors; i > 0; i--) {
		if (strcmp(y->anchors[i - 1].name, name) == 0) {
			target = y->anchors[i - 1].node;
			break;
		}
	}
	if (target == NULL) {
		diag_error(y->d, ev->start_mark.line + 1,
		    ev->start_mark.column + 1, "unknown alias *%s (no anchor "
		    "&%s before it)", name, name);
		return -1;
	}
	if (target->open) {
		diag_error(y->d, ev->start_mark.line + 1,
		    ev->start_mark.column + 1, "alias *%s refers to a node "
		    "that contains it", name);
		return -1;
	}
	if ((n = yload_add(y, YNODE_ALIAS, &ev->start_mark)) == NULL)
		return -1;
	n->target = target;
	return 0;
}

/* Read every event of the input into the tree; -1 after a reported error. */
static int
yload_parse(struct yload *y)
{
	yaml_parser_t	p;
	yaml_event_t	ev;
	int		done = 0, rc = 0, ndocs = 0;

	if (!yaml_parser_initialize(&p))
		fatalx("yaml_parser_initialize failed");
	yaml_parser_set_input_string(&p, (const unsigned char *)y->data,
	    y->len);
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			yload_syntax_error(y, &p);
			rc = -1;
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++ndocs > 1) {
				diag_error(y->d, ev.start_mark.line + 1,
				    ev.start_mark.column + 1, "a manifest is "
				    "one YAML document; found a second one");
				rc = -1;
			}
			break;
		case YAML_SCALAR_EVENT:
			rc = yload_scalar(y, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			rc = yload_open(y, &ev, YNODE_SEQUENCE);
			break;
		case YAML_MAPPING_START_EVENT:
			rc = yload_open(y, &ev, YNODE_MAPPING);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (y->depth > 0)
				y->stack[--y->depth]->open = 0;
			break;
		case YAML_ALIAS_EVENT:
			rc = yload_alias(y, &ev);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

/* Free the tree and the anchors. */
static void
yload_release(struct yload *y)
{
	size_t	i;

	for (i = 0; i < y->nall; i++) {
		free(y->all[i]->value);
		free(y->all[i]->kids);
		free(y->all[i]);
	}
	free(y->all);
	for (i = 0; i < y->nanchors; i++)
		free(y->anchors[i].name);
	free(y->anchors);
}

/* ---------------------------------------------------------------- values */

/*
 * Follow an alias, counting the visit. Shared nodes are visited once per
 * use, so the count bounds what a "billion laughs" file would expand to;
 * past the bound the walk stops.
 */
static struct ynode *
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

/* Is n a YAML null: ~, null, an empty plain scalar, or tagged !!null? */
static int
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
static void
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
static int
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
static int
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
static int
yload_string(struct yload *y, struct ynode *n, const char *path, char **out)
{
	return yload_scalar_text(y, n, path, "a string", out);
}

/* true or false. */
static int
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
static int
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
static int
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

/* One of a NULL-terminated list of words; its index. */
static int
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
static int
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

/* ---------------------------------------------------------------- mappings */

/* parent.key, or key at the top level. */
static char *
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

/*
 * The entries of mapping n with string keys, in file order, without
 * duplicates (each reported, pointing at the first). Sorting rather than
 * comparing every pair keeps a huge mapping cheap. Caller frees.
 */
static struct ypair *
yload_pairs(struct yload *y, struct ynode *n, const char *path, size_t *np)
{
	struct ypair	*pairs, **sorted, *first;
	struct ynode	*key;
	size_t		 i, k = 0, j;
	char		*got;

	pairs = xcalloc(n->nkids / 2 + 1, sizeof *pairs);
	for (i = 0; i + 1 < n->nkids; i += 2) {
		key = yload_visit(y, n->kids[i]);
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
	return pairs;
}

/* The index of a pair's key in keys, or -1 with "unknown key" reported. */
static int
yload_key(struct yload *y, const struct ypair *pair, const char *path,
    const char *const *keys)
{
	const char	*hint;
	char		*q;
	int		 i;

	for (i = 0; keys[i] != NULL; i++)
		if (strcmp(pair->name, keys[i]) == 0)
			return i;
	q = manifest_quote(pair->name, 60);
	if ((hint = util_did_you_mean(pair->name, keys)) != NULL)
		yload_error(y, pair->key, path, "unknown key %s (did you mean "
		    "\"%s\"?)", q, hint);
	else
		yload_error(y, pair->key, path, "unknown key %s", q);
	free(q);
	return -1;
}

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

/* A size: "10MiB", "512k" or a number of bytes. */
static int
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
	dst = yload_add_dest(o, DEST_FILE, file, n);
	dst->max_size = max_size;
	dst->backups = (unsigned)backups;
	return 0;
}

/* The default output: inherit, at the unit's place. */
static void
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
		yload_add_dest(o, DEST_FILE, xstrdup(text + 5), n);
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
static void
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
static int
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
static void
yload_restart_default(struct restart_spec *r)
{
	r->policy = RESTART_NEVER;
	r->backoff.initial_ms = MANIFEST_DEFAULT_BACKOFF_INITIAL_MS;
	r->backoff.max_ms = MANIFEST_DEFAULT_BACKOFF_MAX_MS;
	r->max_restarts = MANIFEST_UNLIMITED;
}

/*
 * A non-empty sequence of strings into a NULL-terminated vector; example
 * is shown when a command line was given instead.
 */
static int
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

/* cmd: a non-empty sequence of strings, exec'd directly. */
static void
yload_cmd(struct yload *y, struct ynode *n, const char *path,
    struct proc_spec *p)
{
	(void)yload_argv(y, n, path, "[python3, app.py]", "use shell: for a "
	    "command line", &p->argv, &p->argc);
}

/* env: a mapping of variable names to scalars. */
static void
yload_env(struct yload *y, struct ynode *n, const char *path,
    struct proc_spec *p)
{
	struct ypair	*pairs;
	char		*kpath, *value, *q;
	size_t		 i, np;

	if (yload_is_null(n))
		return;
	if (n->type != YNODE_MAPPING) {
		yload_expected(y, n, path, NULL, "a mapping of names to "
		    "values", NULL);
		return;
	}
	pairs = yload_pairs(y, n, path, &np);
	p->env = xcalloc(np + 1, sizeof *p->env);
	for (i = 0; i < np && !y->aborted; i++) {
		if (*pairs[i].name == '\0' || strchr(pairs[i].name, '=')) {
			q = manifest_quote(pairs[i].name, 60);
			yload_error(y, pairs[i].key, path, "invalid variable "
			    "name %s", q);
			free(q);
			continue;
		}
		kpath = yload_path(path, pairs[i].name);
		if (yload_string(y, yload_visit(y, pairs[i].value), kpath,
		    &value) == 0) {
			p->env[p->nenv].name = xstrdup(pairs[i].name);
			p->env[p->nenv].value = value;
			p->nenv++;
		}
		free(kpath);
	}
	free(pairs);
}

/* stdin: a queue name, or null (the default). */
static void
yload_stdin(struct yload *y, struct ynode *n, const char *path,
    struct proc_spec *p)
{
	static const char	*what = "a queue name or null";
	char			*text;

	if (yload_is_null(n))
		return;
	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return;
	if (strcmp(text, "null") == 0) {
		free(text);
		return;
	}
	if (*text == '\0' || strcmp(text, "inherit") == 0 ||
	    strncmp(text, "file:", 5) == 0) {
		yload_expected(y, n, path, text, what, NULL);
		free(text);
		return;
	}
	p->stdin_queue = text;
	p->stdin_loc.line = n->line;
	p->stdin_loc.col = n->col;
}

static const char *const yload_dep_words[] = {
	"started", "ready", "succeeded", NULL
};

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
static void
yload_deps(struct yload *y, struct ynode *n, const char *path,
    struct dep **out, size_t *nout)
{
	struct ypair	*pairs;
	struct ynode	*kid;
	struct dep	*deps, **sorted;
	char		*kpath, *name;
	size_t		 i, j, np, nd = 0;
	int		 e;

	n = yload_visit(y, n);
	if (yload_is_null(n))
		return;
	if (n->type == YNODE_MAPPING) {
		pairs = yload_pairs(y, n, path, &np);
		deps = xcalloc(np + 1, sizeof *deps);
		for (i = 0; i < np && !y->aborted; i++) {
			kpath = yload_path(path, pairs[i].name);
			if (yload_enum(y, yload_visit(y, pairs[i].value), kpath,
			    yload_dep_words, &e) == 0) {
				deps[nd].name = xstrdup(pairs[i].name);
				deps[nd].cond = (enum dep_cond)e;
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

/* Free what a ready spec owns and clear it, keeping its timeout. */
static void
yload_ready_clear(struct ready_spec *r)
{
	size_t	i;

	free(r->regex);
	if (r->argv != NULL) {
		for (i = 0; r->argv[i] != NULL; i++)
			free(r->argv[i]);
		free(r->argv);
	}
	free(r->host);
	free(r->port);
	free(r->path);
	r->regex = r->host = r->port = r->path = NULL;
	r->argv = NULL;
	r->kind = READY_NONE;
}

/* ready.line: a POSIX extended regular expression, compiled to check it. */
static int
yload_ready_line(struct yload *y, struct ynode *n, const char *path,
    struct ready_spec *r)
{
	static const char	*what = "a regular expression (POSIX ERE)";
	regex_t			 re;
	char			*text, msg[256];
	int			 e;

	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return -1;
	if (*text == '\0') {
		yload_expected(y, n, path, text, what, "it would match every "
		    "line");
		free(text);
		return -1;
	}
	if ((e = regcomp(&re, text, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(e, &re, msg, sizeof msg);
		yload_expected(y, n, path, text, what, msg);
		free(text);
		return -1;
	}
	regfree(&re);
	r->kind = READY_LINE;
	r->regex = text;
	return 0;
}

/* ready.tcp: "HOST:PORT". */
static int
yload_ready_tcp(struct yload *y, struct ynode *n, const char *path,
    struct ready_spec *r)
{
	static const char	*what = "HOST:PORT such as 127.0.0.1:5432";
	const char		*errstr;
	char			*text;

	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return -1;
	if (manifest_parse_hostport(text, NULL, &r->host, &r->port,
	    &errstr) == -1) {
		yload_expected(y, n, path, text, what, errstr);
		free(text);
		return -1;
	}
	free(text);
	r->kind = READY_TCP;
	return 0;
}

/*
 * ready.http: "http://HOST[:PORT][/PATH]"; the path defaults to "/" and
 * may hold a query. It goes into a request line as it is, so it must hold
 * no blank or control character.
 */
static int
yload_ready_http(struct yload *y, struct ynode *n, const char *path,
    struct ready_spec *r)
{
	static const char	*what = "a URL such as "
				    "http://127.0.0.1:8080/health";
	const char		*errstr = NULL, *rest, *slash, *p;
	char			*text, *hostport;

	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return -1;
	if (strncmp(text, "https://", 8) == 0)
		errstr = "https is not supported; use exec: with a client such "
		    "as curl";
	else if (strncmp(text, "http://", 7) != 0)
		errstr = "the URL does not start with http://";
	else {
		rest = text + 7;
		if ((slash = strchr(rest, '/')) == NULL)
			slash = rest + strlen(rest);
		hostport = xstrndup(rest, (size_t)(slash - rest));
		if (memchr(rest, '@', (size_t)(slash - rest)) != NULL)
			errstr = "credentials in the URL are not supported";
		else if (manifest_parse_hostport(hostport, "80", &r->host,
		    &r->port, &errstr) == 0) {
			for (p = slash; *p != '\0'; p++)
				if ((unsigned char)*p <= ' ' || *p == 0x7f)
					break;
			if (*p != '\0')
				errstr = "a blank or control character in the "
				    "path";
			else
				r->path = xstrdup(*slash == '\0' ? "/" : slash);
		}
		free(hostport);
	}
	if (errstr != NULL) {
		yload_expected(y, n, path, text, what, errstr);
		free(text);
		return -1;
	}
	free(text);
	r->kind = READY_HTTP;
	return 0;
}

static const char *const yload_ready_keys[] = {
	"line", "fd", "exec", "tcp", "http", "interval", NULL
};

enum {
	RK_LINE, RK_FD, RK_EXEC, RK_TCP, RK_HTTP, RK_INTERVAL,
};

/*
 * ready: a mapping with exactly one way to tell readiness, and interval
 * for those that poll. null means none: started means ready.
 */
static void
yload_ready(struct yload *y, struct ynode *n, const char *path,
    struct ready_spec *r)
{
	struct ready_spec	 scratch, *into;
	struct ypair		*pairs;
	struct ynode		*v, *interval = NULL;
	char			*kpath, *q;
	uint64_t		 u;
	size_t			 i, np, nkinds = 0;
	int			 k, failed = 0, unknown = 0;

	n = yload_visit(y, n);
	if (yload_is_null(n))
		return;
	if (n->type != YNODE_MAPPING) {
		yload_expected(y, n, path, NULL, "a mapping with one of line, "
		    "fd, exec, tcp or http", NULL);
		return;
	}
	pairs = yload_pairs(y, n, path, &np);
	for (i = 0; i < np && !y->aborted; i++) {
		kpath = yload_path(path, pairs[i].name);
		v = yload_visit(y, pairs[i].value);
		if (strcmp(pairs[i].name, "timeout") == 0) {
			q = manifest_quote(pairs[i].name, 0);
			yload_error(y, pairs[i].key, path, "unknown key %s (the "
			    "timeout is ready_timeout, beside ready)", q);
			free(q);
			free(kpath);
			unknown = 1;
			continue;
		}
		if ((k = yload_key(y, &pairs[i], path, yload_ready_keys)) < 0)
			unknown = 1;
		if (k >= RK_LINE && k <= RK_HTTP) {
			/* Only the first kind is kept; all are checked. */
			memset(&scratch, 0, sizeof scratch);
			into = nkinds++ == 0 ? r : &scratch;
			switch (k) {
			case RK_LINE:
				failed |= yload_ready_line(y, v, kpath, into);
				break;
			case RK_FD:
				if (yload_uint(y, v, kpath, 3, 1023, &u) == 0) {
					into->kind = READY_FD;
					into->fd = (int)u;
				} else
					failed = 1;
				break;
			case RK_EXEC:
				if (yload_argv(y, v, kpath, "[pg_isready, -q]",
				    "a probe runs without a shell", &into->argv,
				    NULL) == 0)
					into->kind = READY_EXEC;
				else
					failed = 1;
				break;
			case RK_TCP:
				failed |= yload_ready_tcp(y, v, kpath, into);
				break;
			case RK_HTTP:
				failed |= yload_ready_http(y, v, kpath, into);
				break;
			}
			yload_ready_clear(&scratch);
		} else if (k == RK_INTERVAL) {
			interval = pairs[i].key;
			if (yload_duration(y, v, kpath, &r->interval_ms) == 0 &&
			    r->interval_ms == 0)
				yload_expected(y, v, kpath, NULL, "a duration "
				    "greater than 0", NULL);
		}
		free(kpath);
	}
	free(pairs);
	if (y->aborted)
		return;
	/* With none, an unknown key reported was surely the attempt. */
	if (nkinds > 1 || (nkinds == 0 && !unknown))
		yload_error(y, n, path, "exactly one of line, fd, exec, tcp and "
		    "http is required");
	else if (interval != NULL && !failed && (r->kind == READY_LINE ||
	    r->kind == READY_FD)) {
		kpath = yload_path(path, "interval");
		yload_error(y, interval, kpath, "only exec, tcp and http are "
		    "polled; %s waits for the process itself",
		    r->kind == READY_LINE ? "line" : "fd");
		free(kpath);
	}
}

static const char *const yload_limit_keys[] = {
	"nofile", "nproc", "core", "as", "cpu", "fsize", NULL
};

/*
 * limits: each an integer or unlimited; core, as and fsize are sizes,
 * cpu is seconds (a duration is rounded up to whole seconds).
 */
static void
yload_limits(struct yload *y, struct ynode *n, const char *path,
    struct limit *limits)
{
	struct ypair	*pairs;
	struct ynode	*v;
	const char	*what, *errstr = NULL;
	char		*kpath, *text;
	uint64_t	 u;
	size_t		 i, np;
	int		 k, ok;

	n = yload_visit(y, n);
	if (yload_is_null(n))
		return;
	if (n->type != YNODE_MAPPING) {
		yload_expected(y, n, path, NULL, "a mapping such as {nofile: "
		    "4096, core: 0}", NULL);
		return;
	}
	pairs = yload_pairs(y, n, path, &np);
	for (i = 0; i < np && !y->aborted; i++) {
		if ((k = yload_key(y, &pairs[i], path, yload_limit_keys)) < 0)
			continue;
		kpath = yload_path(path, pairs[i].name);
		v = yload_visit(y, pairs[i].value);
		if (k == LIMIT_CORE || k == LIMIT_AS || k == LIMIT_FSIZE)
			what = "a size such as 4096, 64k or 1GiB, or unlimited";
		else if (k == LIMIT_CPU)
			what = "seconds such as 10 or a duration such as 2m, "
			    "or unlimited";
		else
			what = "an integer of 0 or more, or unlimited";
		if (yload_scalar_text(y, v, kpath, what, &text) == -1) {
			free(kpath);
			continue;
		}
		errstr = NULL;
		if (strcmp(text, "unlimited") == 0) {
			u = MANIFEST_UNLIMITED;
			ok = 1;
		} else if (k == LIMIT_CORE || k == LIMIT_AS ||
		    k == LIMIT_FSIZE) {
			ok = util_parse_size(text, &u, &errstr) == 0 &&
			    u != MANIFEST_UNLIMITED;
			if (errstr != NULL && strncmp(errstr, "expected",
			    8) == 0)
				errstr = NULL;
		} else if (k == LIMIT_CPU) {
			ok = util_parse_duration(text, &u, &errstr) == 0;
			u = u / 1000 + (u % 1000 != 0);
		} else
			ok = util_parse_uint(text, 0, MANIFEST_UNLIMITED - 1,
			    &u, &errstr) == 0;
		if (ok) {
			limits[k].set = 1;
			limits[k].value = u;
		} else
			yload_expected(y, v, kpath, text, what,
			    k == LIMIT_NOFILE || k == LIMIT_NPROC ? NULL :
			    errstr);
		free(text);
		free(kpath);
	}
	free(pairs);
}

/*
 * umask: octal digits, as a string ("022") or a YAML 1.1 octal integer
 * (022, 0o22), which we see as the same text; null inherits ours.
 */
static void
yload_umask(struct yload *y, struct ynode *n, const char *path, int *out)
{
	static const char	*what = "an octal mode such as \"022\" or "
				    "\"0027\"";
	const char		*p;
	char			*text;
	unsigned		 v = 0;
	size_t			 len;

	if (yload_is_null(n)) {
		*out = -1;
		return;
	}
	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return;
	p = strncmp(text, "0o", 2) == 0 ? text + 2 : text;
	len = strlen(p);
	if (len == 0 || len > 6 || strspn(p, "01234567") != len) {
		yload_expected(y, n, path, text, what, NULL);
		free(text);
		return;
	}
	for (; *p != '\0'; p++)
		v = v * 8 + (unsigned)(*p - '0');
	if (v > 0777)
		yload_expected(y, n, path, text, what, "at most 0777");
	else
		*out = (int)v;
	free(text);
}

/*
 * user, group: a name (letters, digits, ".", "_", "-", and "$" last, as
 * useradd allows) or a numeric id; null means ours. Whether it exists is
 * checked when the process starts, on the machine that runs it.
 */
static void
yload_account(struct yload *y, struct ynode *n, const char *path,
    const char *what, char **out)
{
	const char	*errstr, *p;
	char		*text;
	uint64_t	 u;
	int		 ok = 1;

	if (yload_is_null(n))
		return;
	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return;
	if (*text == '\0' || *text == '-')
		ok = 0;
	else if (strspn(text, "0123456789") == strlen(text))
		ok = util_parse_uint(text, 0, UINT32_MAX - 1, &u, &errstr) == 0;
	else
		for (p = text; *p != '\0' && ok; p++)
			ok = isalnum((unsigned char)*p) || *p == '.' ||
			    *p == '_' || *p == '-' || (*p == '$' &&
			    p[1] == '\0');
	if (!ok) {
		yload_expected(y, n, path, text, what, NULL);
		free(text);
		return;
	}
	free(*out);
	*out = text;
}

static const char *const yload_proc_keys[] = {
	"cmd", "shell", "cwd", "env", "autostart", "restart", "backoff",
	"max_restarts", "stop_signal", "stop_timeout", "stdout", "stderr",
	"stdin", "replicas", "depends_on", "ready", "ready_timeout", "limits",
	"umask", "user", "group", NULL
};

enum {
	PK_CMD, PK_SHELL, PK_CWD, PK_ENV, PK_AUTOSTART, PK_RESTART,
	PK_BACKOFF, PK_MAX_RESTARTS, PK_STOP_SIGNAL, PK_STOP_TIMEOUT,
	PK_STDOUT, PK_STDERR, PK_STDIN, PK_REPLICAS, PK_DEPENDS_ON, PK_READY,
	PK_READY_TIMEOUT, PK_LIMITS, PK_UMASK, PK_USER, PK_GROUP,
};

/* One process: processes.NAME. */
static void
yload_proc(struct yload *y, const struct ypair *entry, const char *path)
{
	struct manifest		*m = y->m;
	struct proc_spec	*p;
	struct ypair		*pairs;
	struct ynode		*n, *v;
	char			*kpath;
	uint64_t		 u;
	size_t			 i, np;
	int			 has_cmd = 0, has_shell = 0;

	p = &m->procs[m->nprocs++];
	memset(p, 0, sizeof *p);
	p->name = xstrdup(entry->name);
	p->loc.line = entry->key->line;
	p->loc.col = entry->key->col;
	p->autostart = 1;
	yload_restart_default(&p->restart);
	p->stop_signal = SIGTERM;
	p->stop_timeout_ms = MANIFEST_DEFAULT_STOP_TIMEOUT_MS;
	yload_output_default(&p->out, &p->loc);
	yload_output_default(&p->err, &p->loc);
	p->replicas = 1;
	p->ready.kind = READY_NONE;
	p->ready.interval_ms = MANIFEST_DEFAULT_READY_INTERVAL_MS;
	p->ready.timeout_ms = MANIFEST_DEFAULT_READY_TIMEOUT_MS;
	p->ready.loc = p->loc;
	p->umask = -1;

	n = yload_visit(y, entry->value);
	if (n->type != YNODE_MAPPING) {
		yload_expected(y, n, path, NULL, "a mapping with cmd or shell",
		    NULL);
		return;
	}
	pairs = yload_pairs(y, n, path, &np);
	for (i = 0; i < np && !y->aborted; i++) {
		kpath = yload_path(path, pairs[i].name);
		v = pairs[i].value;
		switch (yload_key(y, &pairs[i], path, yload_proc_keys)) {
		case PK_CMD:
			has_cmd = 1;
			yload_cmd(y, yload_visit(y, v), kpath, p);
			break;
		case PK_SHELL:
			has_shell = 1;
			/* Verbatim: /bin/sh expands its own variables. */
			v = yload_visit(y, v);
			if (v->type != YNODE_SCALAR || yload_is_null(v) ||
			    v->len == 0)
				yload_expected(y, v, kpath, NULL, "a command "
				    "line", NULL);
			else
				yload_text(y, v, kpath, 1, &p->shell);
			break;
		case PK_CWD:
			v = yload_visit(y, v);
			if (!yload_is_null(v))
				yload_string(y, v, kpath, &p->cwd);
			break;
		case PK_ENV:
			yload_env(y, yload_visit(y, v), kpath, p);
			break;
		case PK_AUTOSTART:
			yload_bool(y, yload_visit(y, v), kpath, &p->autostart);
			break;
		case PK_RESTART:
		case PK_BACKOFF:
		case PK_MAX_RESTARTS:
			yload_restart_key(y, pairs[i].name, v, kpath,
			    &p->restart);
			break;
		case PK_STOP_SIGNAL:
			yload_signal(y, yload_visit(y, v), kpath,
			    &p->stop_signal);
			break;
		case PK_STOP_TIMEOUT:
			yload_duration(y, yload_visit(y, v), kpath,
			    &p->stop_timeout_ms);
			break;
		case PK_STDOUT:
			yload_output(y, v, kpath, &p->out);
			break;
		case PK_STDERR:
			yload_output(y, v, kpath, &p->err);
			break;
		case PK_STDIN:
			yload_stdin(y, yload_visit(y, v), kpath, p);
			break;
		case PK_REPLICAS:
			if (yload_uint(y, yload_visit(y, v), kpath, 1,
			    MANIFEST_MAX_REPLICAS, &u) == 0)
				p->replicas = (unsigned)u;
			break;
		case PK_DEPENDS_ON:
			yload_deps(y, v, kpath, &p->deps, &p->ndeps);
			break;
		case PK_READY:
			v = yload_visit(y, v);
			p->ready.loc.line = v->line;
			p->ready.loc.col = v->col;
			yload_ready(y, v, kpath, &p->ready);
			break;
		case PK_READY_TIMEOUT:
			yload_duration(y, yload_visit(y, v), kpath,
			    &p->ready.timeout_ms);
			break;
		case PK_LIMITS:
			yload_limits(y, v, kpath, p->limits);
			break;
		case PK_UMASK:
			yload_umask(y, yload_visit(y, v), kpath, &p->umask);
			break;
		case PK_USER:
			yload_account(y, yload_visit(y, v), kpath, "a user name "
			    "or a numeric id", &p->user);
			break;
		case PK_GROUP:
			yload_account(y, yload_visit(y, v), kpath, "a group "
			    "name or a numeric id", &p->group);
			break;
		default:
			break;
		}
		free(kpath);
	}
	free(pairs);
	if (has_cmd + has_shell != 1 && !y->aborted)
		yload_error(y, entry->key, path, "exactly one of cmd and "
		    "shell is required");
}

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
	"stdout", "cancel_timeout", "depends_on", NULL
};

enum {
	TK_RUN, TK_ON_CANCEL, TK_AUTOSTART, TK_RESTART, TK_BACKOFF,
	TK_MAX_RESTARTS, TK_STDOUT, TK_CANCEL_TIMEOUT, TK_DEPENDS_ON,
};

/* One task: tasks.NAME. */
static void
yload_task(struct yload *y, const struct ypair *entry, const char *path)
{
	struct manifest		*m = y->m;
	struct task_spec	*t;
	struct ypair		*pairs;
	struct ynode		*n, *v;
	char			*kpath;
	size_t			 i, np;
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
		default:
			break;
		}
		free(kpath);
	}
	free(pairs);
	if (!has_run && !y->aborted)
		yload_error(y, entry->key, path, "missing key \"run\" (the "
		    "steps of the task)");
}

static const char *const yload_queue_keys[] = {
	"capacity", "mode", "overflow", "backend", "url", "stream", "group",
	"claim_after", "connect_timeout", NULL
};

enum {
	QK_CAPACITY, QK_MODE, QK_OVERFLOW, QK_BACKEND, QK_URL, QK_STREAM,
	QK_GROUP, QK_CLAIM_AFTER, QK_CONNECT_TIMEOUT, QK_COUNT,
};

static const char *const yload_mode_words[] = { "share", "broadcast", NULL };
static const char *const yload_overflow_words[] = {
	"block", "drop-oldest", "drop-newest", NULL
};
static const char *const yload_backend_words[] = { "memory", "redis", NULL };

/* url as shown in a message: any password masked. */
static char *
yload_redis_url_shown(const char *url)
{
	const char	*at;

	if (strncmp(url, "redis://", 8) != 0 ||
	    (at = strrchr(url + 8, '@')) == NULL)
		return xstrdup(url);
	return xasprintf("redis://***%s", at);
}

/* queues.NAME.url: checked at once, so that a typo fails the load. */
static void
yload_redis_url(struct yload *y, struct ynode *n, const char *path,
    char **out)
{
	static const char	*what = "a URL such as redis://127.0.0.1:6379/0";
	struct redis_url	 ru;
	const char		*errstr;
	char			*text, *shown;

	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return;
	if (manifest_parse_redis_url(text, &ru, &errstr) == -1) {
		shown = yload_redis_url_shown(text);
		yload_expected(y, n, path, shown, what, errstr);
		free(shown);
		free(text);
		return;
	}
	manifest_redis_url_release(&ru);
	*out = text;
}

/* A non-empty string (a Redis key or group name). */
static void
yload_nonempty(struct yload *y, struct ynode *n, const char *path,
    const char *what, char **out)
{
	char	*text;

	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return;
	if (*text == '\0') {
		yload_expected(y, n, path, text, what, NULL);
		free(text);
		return;
	}
	*out = text;
}

/* The keys only a Redis queue takes, once the backend is known. */
static void
yload_queue_redis(struct yload *y, const struct ypair *entry,
    const char *path, struct queue_spec *q, struct ypair **keys,
    struct ynode *mode)
{
	struct ynode	*v;
	char		*kpath;
	uint64_t	 u;
	int		 k;

	for (k = QK_URL; k < QK_COUNT; k++) {
		if (keys[k] == NULL)
			continue;
		kpath = yload_path(path, keys[k]->name);
		if (!q->redis) {
			yload_error(y, keys[k]->key, kpath, "only a queue with "
			    "backend: redis takes %s", keys[k]->name);
			free(kpath);
			continue;
		}
		v = yload_visit(y, keys[k]->value);
		switch (k) {
		case QK_URL:
			yload_redis_url(y, v, kpath, &q->url);
			break;
		case QK_STREAM:
			yload_nonempty(y, v, kpath, "a stream name", &q->stream);
			break;
		case QK_GROUP:
			yload_nonempty(y, v, kpath, "a consumer group name",
			    &q->group);
			break;
		case QK_CLAIM_AFTER:
			if (yload_duration(y, v, kpath, &u) == 0) {
				if (u == 0)
					yload_expected(y, v, kpath, NULL, "a "
					    "duration greater than 0", NULL);
				else
					q->claim_after_ms = u;
			}
			break;
		case QK_CONNECT_TIMEOUT:
			yload_duration(y, v, kpath, &q->connect_timeout_ms);
			break;
		}
		free(kpath);
	}
	if (!q->redis)
		return;
	if (keys[QK_URL] == NULL)
		yload_error(y, entry->key, path, "missing key \"url\" (backend: "
		    "redis needs a URL such as redis://127.0.0.1:6379/0)");
	if (q->mode == QUEUE_BROADCAST && mode != NULL) {
		kpath = yload_path(path, "mode");
		yload_error(y, mode, kpath, "broadcast is not supported with "
		    "backend: redis (the consumers of a Redis consumer group "
		    "share its items; declare one queue per consumer instead)");
		free(kpath);
	}
	if (q->stream == NULL)
		q->stream = xstrdup(q->name);
	if (q->group == NULL)
		q->group = xstrdup(q->name);
}

/* One queue: queues.NAME; null or {} means every default. */
static void
yload_queue(struct yload *y, const struct ypair *entry, const char *path)
{
	struct manifest		*m = y->m;
	struct queue_spec	*q;
	struct ypair		*pairs, *keys[QK_COUNT];
	struct ynode		*n, *mode = NULL;
	char			*kpath;
	uint64_t		 u;
	size_t			 i, np;
	int			 e, k, backend_ok = 1;

	q = &m->queues[m->nqueues++];
	memset(q, 0, sizeof *q);
	q->name = xstrdup(entry->name);
	q->loc.line = entry->key->line;
	q->loc.col = entry->key->col;
	q->capacity = QUEUE_DEFAULT_CAPACITY;
	q->mode = QUEUE_SHARE;
	q->overflow = QUEUE_BLOCK;
	q->redis = 0;
	q->claim_after_ms = MANIFEST_DEFAULT_CLAIM_AFTER_MS;
	q->connect_timeout_ms = MANIFEST_DEFAULT_CONNECT_TIMEOUT_MS;

	n = yload_visit(y, entry->value);
	if (yload_is_null(n))
		return;
	if (n->type != YNODE_MAPPING) {
		yload_expected(y, n, path, NULL, "a mapping such as "
		    "{capacity: 100}", NULL);
		return;
	}
	memset(keys, 0, sizeof keys);
	pairs = yload_pairs(y, n, path, &np);
	for (i = 0; i < np && !y->aborted; i++) {
		kpath = yload_path(path, pairs[i].name);
		switch ((k = yload_key(y, &pairs[i], path, yload_queue_keys))) {
		case QK_CAPACITY:
			if (yload_uint(y, yload_visit(y, pairs[i].value),
			    kpath, 1, MANIFEST_MAX_CAPACITY, &u) == 0)
				q->capacity = (size_t)u;
			break;
		case QK_MODE:
			mode = yload_visit(y, pairs[i].value);
			if (yload_enum(y, mode, kpath, yload_mode_words,
			    &e) == 0)
				q->mode = e == 0 ? QUEUE_SHARE :
				    QUEUE_BROADCAST;
			break;
		case QK_OVERFLOW:
			if (yload_enum(y, yload_visit(y, pairs[i].value),
			    kpath, yload_overflow_words, &e) == 0)
				q->overflow = e == 0 ? QUEUE_BLOCK : e == 1 ?
				    QUEUE_DROP_OLDEST : QUEUE_DROP_NEWEST;
			break;
		case QK_BACKEND:
			if (yload_enum(y, yload_visit(y, pairs[i].value),
			    kpath, yload_backend_words, &e) == 0)
				q->redis = e == 1;
			else
				backend_ok = 0;
			break;
		default:
			if (k >= QK_URL && k < QK_COUNT)
				keys[k] = &pairs[i];
			break;
		}
		free(kpath);
	}
	/* With a backend in error, which keys belong is unknown. */
	if (!y->aborted && backend_ok)
		yload_queue_redis(y, entry, path, q, keys, mode);
	free(pairs);
}

enum ysection {
	SECTION_QUEUES,
	SECTION_PROCESSES,
	SECTION_TASKS,
};

/*
 * processes:, tasks: or queues:, a mapping of names to specs. The array is
 * sized once for all its entries, each of which then fills one slot.
 */
static void
yload_section(struct yload *y, struct ynode *n, enum ysection which)
{
	static const char *const paths[] = { "queues", "processes", "tasks" };
	static const char *const whats[] = {
		"a mapping of names to queues",
		"a mapping of names to processes",
		"a mapping of names to tasks",
	};
	struct manifest	*m = y->m;
	const char	*path = paths[which];
	void		(*fn)(struct yload *, const struct ypair *,
			    const char *);
	struct ypair	*pairs;
	char		*kpath;
	size_t		 i, np;

	n = yload_visit(y, n);
	if (yload_is_null(n))
		return;
	if (n->type != YNODE_MAPPING) {
		yload_expected(y, n, path, NULL, whats[which], NULL);
		return;
	}
	pairs = yload_pairs(y, n, path, &np);
	switch (which) {
	case SECTION_QUEUES:
		m->queues = xcalloc(np + 1, sizeof *m->queues);
		fn = yload_queue;
		break;
	case SECTION_PROCESSES:
		m->procs = xcalloc(np + 1, sizeof *m->procs);
		fn = yload_proc;
		break;
	case SECTION_TASKS:
	default:
		m->tasks = xcalloc(np + 1, sizeof *m->tasks);
		fn = yload_task;
		break;
	}
	for (i = 0; i < np && !y->aborted; i++) {
		kpath = yload_path(path, pairs[i].name);
		fn(y, &pairs[i], kpath);
		free(kpath);
	}
	free(pairs);
}

static const char *const yload_top_keys[] = {
	"version", "drain_timeout", "queues", "processes", "tasks", NULL
};

enum {
	TOP_VERSION, TOP_DRAIN_TIMEOUT, TOP_QUEUES, TOP_PROCESSES, TOP_TASKS,
};

/* The top-level mapping. */
static void
yload_root(struct yload *y)
{
	struct ypair	*pairs;
	struct ynode	*n, *v;
	const char	*errstr;
	char		*text;
	uint64_t	 u;
	size_t		 i, np;
	int		 has_version = 0;

	if (y->root == NULL || yload_is_null(y->root)) {
		diag_error(y->d, 0, 0, "empty manifest: expected a mapping "
		    "with version: 1");
		return;
	}
	n = yload_visit(y, y->root);
	if (n->type != YNODE_MAPPING) {
		yload_expected(y, n, NULL, NULL, "a mapping with version: 1 "
		    "at the top level", NULL);
		return;
	}
	pairs = yload_pairs(y, n, NULL, &np);
	for (i = 0; i < np && !y->aborted; i++) {
		v = pairs[i].value;
		switch (yload_key(y, &pairs[i], NULL, yload_top_keys)) {
		case TOP_VERSION:
			has_version = 1;
			v = yload_visit(y, v);
			if (yload_scalar_text(y, v, "version", "1",
			    &text) == -1)
				break;
			if (util_parse_uint(text, 1, 1, &u, &errstr) == -1)
				yload_expected(y, v, "version", text, "1",
				    NULL);
			free(text);
			break;
		case TOP_DRAIN_TIMEOUT:
			yload_duration(y, yload_visit(y, v), "drain_timeout",
			    &y->m->drain_timeout_ms);
			break;
		case TOP_QUEUES:
			yload_section(y, v, SECTION_QUEUES);
			break;
		case TOP_PROCESSES:
			yload_section(y, v, SECTION_PROCESSES);
			break;
		case TOP_TASKS:
			yload_section(y, v, SECTION_TASKS);
			break;
		default:
			break;
		}
	}
	free(pairs);
	if (!has_version && !y->aborted)
		yload_error(y, n, NULL, "missing key \"version\" (expected "
		    "version: 1)");
}

/* ---------------------------------------------------------------- entry */

/*
 * Load a manifest from memory. The cross-checks run even after errors in
 * the walk, so one run reports every problem; only a broken limit (which
 * means the file is hostile or not a manifest) stops early.
 */
struct manifest *
manifest_load_buffer(const char *name, const char *data, size_t len,
    struct diag *d)
{
	struct yload	 y;
	struct manifest	*m;

	if (len > MANIFEST_MAX_FILE_SIZE) {
		diag_error(d, 0, 0, "file too large (%zu bytes; the limit is "
		    "%d)", len, MANIFEST_MAX_FILE_SIZE);
		return NULL;
	}
	memset(&y, 0, sizeof y);
	y.d = d;
	y.data = data;
	y.len = len;
	m = manifest_new(name);
	y.m = m;
	if (yload_parse(&y) == 0) {
		yload_root(&y);
		if (!y.aborted)
			manifest_check(m, d);
	}
	yload_release(&y);
	if (diag_has_errors(d)) {
		manifest_free(m);
		return NULL;
	}
	return m;
}

/*
 * Read and load the manifest at path. The read stops one byte past the
 * size limit, so a huge (or endless) file costs no more than that.
 */
struct manifest *
manifest_load(const char *path, struct diag *d)
{
	struct manifest	*m;
	struct buf	 b;
	FILE		*fp;
	char		 chunk[65536];
	size_t		 n;
	int		 saved;

	if ((fp = fopen(path, "rb")) == NULL) {
		diag_error(d, 0, 0, "cannot read: %s", strerror(errno));
		return NULL;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		buf_add(&b, chunk, n);
		if (buf_used(&b) > MANIFEST_MAX_FILE_SIZE)
			break;
	}
	if (ferror(fp)) {
		saved = errno;
		fclose(fp);
		buf_release(&b);
		diag_error(d, 0, 0, "cannot read: %s", strerror(saved));
		return NULL;
	}
	fclose(fp);
	if (buf_used(&b) > MANIFEST_MAX_FILE_SIZE) {
		buf_release(&b);
		diag_error(d, 0, 0, "file too large (more than %d bytes)",
		    MANIFEST_MAX_FILE_SIZE);
		return NULL;
	}
	m = manifest_load_buffer(path, buf_used(&b) > 0 ? buf_ptr(&b) : "",
	    buf_used(&b), d);
	buf_release(&b);
	return m;
}
