/*
 * YAML to manifest. libyaml's events become a small tree of our own,
 * bounded in size, depth, nodes and aliases (libyaml has no limits), and
 * the tree is walked into struct manifest, every problem reported with its
 * line, column and key path. Here: the tree, the top level and the entry
 * points; the readers of values and of each section are yaml-*.c's. The
 * only file that includes <yaml.h>; the model and the cross-checks that
 * need the whole manifest are manifest.c's.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yaml.h>

#include "arena.h"
#include "buf.h"
#include "diag.h"
#include "log.h"
#include "manifest.h"
#include "manifest-yaml.h"
#include "manifest-yaml-int.h"
#include "metrics.h"
#include "util.h"
#include "xmalloc.h"

struct yanchor {
	char		*name;
	struct ynode	*node;
};

/* ---------------------------------------------------------------- tree */

/*
 * The tree lives in an arena of its own, unmapped when the load ends, so
 * that it leaves no holes in the malloc heap between the allocations of
 * the model built from it (which are freed in their turn when the model
 * is packed).
 */

/*
 * Make room for one more element, doubling: a flat list stays linear. The
 * old array is left in the arena: at most as much again as the last one.
 */
static void *
yload_grow(struct yload *y, void *array, size_t n, size_t *cap, size_t size)
{
	void	*grown;

	if (n < *cap)
		return array;
	*cap = *cap == 0 ? 8 : *cap * 2;
	/* Arrays of node pointers and of anchors (two pointers). */
	grown = arena_alloc(y->tree, *cap, size, _Alignof(void *));
	if (n > 0)
		memcpy(grown, array, n * size);
	return grown;
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

/*
 * libyaml takes a plain key of more than 1024 characters for a value and
 * then balks at its ':' ("mapping values are not allowed in this
 * context"). Is the text before the ':' at offset off, from the start of
 * its line, such a key? Its length in characters, or 0.
 */
static size_t
yload_long_key(const struct yload *y, size_t off)
{
	size_t	start, end, i, chars = 0;

	if (off >= y->len || y->data[off] != ':')
		return 0;
	for (start = off; start > 0 && y->data[start - 1] != '\n'; start--)
		;
	while (start < off && (y->data[start] == ' ' ||
	    y->data[start] == '-'))
		start++;
	for (end = off; end > start && y->data[end - 1] == ' '; end--)
		;
	for (i = start; i < end; i++)
		if (((unsigned char)y->data[i] & 0xc0) != 0x80)
			chars++;
	return chars > 1024 ? chars : 0;
}

/* libyaml's own message, at its problem mark. */
static void
yload_syntax_error(struct yload *y, const yaml_parser_t *p)
{
	const char	*problem = p->problem != NULL ? p->problem :
			    "invalid YAML";
	size_t		 line, col, n;

	if (p->error == YAML_SCANNER_ERROR && p->problem != NULL &&
	    strcmp(p->problem, "mapping values are not allowed in this "
	    "context") == 0 &&
	    (n = yload_long_key(y, p->problem_mark.index)) > 0) {
		diag_error(y->d, p->problem_mark.line + 1,
		    p->problem_mark.column + 1, "a key of %zu characters: "
		    "YAML allows at most 1024 in a key", n);
		return;
	}
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

	if (y->nnodes >= MANIFEST_MAX_NODES) {
		diag_error(y->d, mark->line + 1, mark->column + 1, "more than "
		    "%d YAML nodes; the manifest is too large",
		    MANIFEST_MAX_NODES);
		return NULL;
	}
	n = ARENA_ARRAY(y->tree, 1, struct ynode);
	n->type = type;
	n->line = mark->line + 1;
	n->col = mark->column + 1;
	y->nnodes++;
	if (y->depth == 0) {
		if (y->root == NULL)
			y->root = n;
		return n;
	}
	parent = y->stack[y->depth - 1];
	parent->kids = yload_grow(y, parent->kids, parent->nkids,
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
	y->anchors = yload_grow(y, y->anchors, y->nanchors, &y->anchorscap,
	    sizeof *y->anchors);
	y->anchors[y->nanchors].name = arena_strdup(y->tree,
	    (const char *)name);
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
	n->value = arena_alloc(y->tree, n->len + 1, 1, 1);
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
	arena_free(y->tree);
	y->tree = NULL;
	yload_env_free(y->env, y->nenv);
	y->env = NULL;
	y->nenv = 0;
}

/* ---------------------------------------------------------------- top */

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
	"version", "drain_timeout", "queues", "processes", "tasks", "metrics",
	"env_file", "log_buffer", NULL
};

enum {
	TOP_VERSION, TOP_DRAIN_TIMEOUT, TOP_QUEUES, TOP_PROCESSES, TOP_TASKS,
	TOP_METRICS, TOP_ENV_FILE, TOP_LOG_BUFFER,
};

/* metrics: "HOST:PORT", checked here so that -c sees a bad one. */
static void
yload_metrics(struct yload *y, struct ynode *v)
{
	const char	*errstr;
	char		*text, *host;
	unsigned	 port;

	if (yload_string(y, v, "metrics", &text) == -1)
		return;
	if (metrics_parse_addr(text, &host, &port, &errstr) == -1) {
		yload_expected(y, v, "metrics", text, "ADDRESS:PORT, as "
		    "\"127.0.0.1:9464\" or \"[::1]:9464\"", errstr);
		free(text);
		return;
	}
	free(host);
	free(y->m->metrics);
	y->m->metrics = text;
}

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
	/* Every unit's environment starts from it, wherever it is. */
	for (i = 0; i < np; i++) {
		if (strcmp(pairs[i].name, "env_file") == 0)
			yload_env_file(y, yload_visit(y, pairs[i].value),
			    "env_file", &y->env, &y->nenv);
		else if (strcmp(pairs[i].name, "log_buffer") == 0)
			yload_log_buffer(y, yload_visit(y, pairs[i].value),
			    "log_buffer", &y->log_buffer);
	}
	for (i = 0; i < np && !y->aborted; i++) {
		v = pairs[i].value;
		/* x-NAME: free for the user's anchors, as compose allows. */
		if (strncmp(pairs[i].name, "x-", 2) == 0)
			continue;
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
		case TOP_METRICS:
			yload_metrics(y, yload_visit(y, v));
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
 * Load a manifest from memory, unpacked. The cross-checks run even after
 * errors in the walk, so one run reports every problem; only a broken
 * limit (which means the file is hostile or not a manifest) stops early.
 */
struct manifest *
manifest_yaml_load(const char *name, const char *data, size_t len,
    struct diag *d)
{
	return manifest_yaml_load_at(name, NULL, data, len, d);
}

/* The same, with relative paths resolved from dir (NULL: left as they are). */
struct manifest *
manifest_yaml_load_at(const char *name, const char *dir, const char *data,
    size_t len, struct diag *d)
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
	y.tree = arena_new();
	y.dir = dir;
	y.log_buffer = MANIFEST_DEFAULT_LOG_BUFFER;
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
 * Load a manifest from memory and pack it. The tree is freed first, then
 * the unpacked model as the packing copies it out: everything the load
 * took from malloc goes back in one piece, with no live allocation left
 * between its pieces to keep the heap from reusing or trimming them.
 */
struct manifest *
manifest_load_buffer(const char *name, const char *data, size_t len,
    struct diag *d)
{
	struct manifest	*m;

	if ((m = manifest_yaml_load(name, data, len, d)) == NULL)
		return NULL;
	return manifest_pack(m);
}

/*
 * The absolute directory of the manifest at path, where its relative paths
 * start (as compose does), or NULL when the working directory is unknown.
 * Not resolved further: a symbolic link on the way stays as written.
 */
static char *
manifest_dir(const char *path)
{
	const char	*slash = strrchr(path, '/');
	char		*cwd, *dir;

	if (path[0] == '/')
		return slash == path ? xstrdup("/") :
		    xstrndup(path, (size_t)(slash - path));
	if ((cwd = getcwd(NULL, 0)) == NULL)
		return NULL;
	if (slash == NULL)
		return cwd;
	dir = xasprintf("%s%s%.*s", cwd, strcmp(cwd, "/") == 0 ? "" : "/",
	    (int)(slash - path), path);
	free(cwd);
	return dir;
}

/*
 * Read and load the manifest at path. The read stops one byte past the
 * size limit, so a huge (or endless) file costs no more than that. The
 * open never blocks (a FIFO without a writer); with regular_only,
 * anything but a regular file is refused before a byte is read.
 */
static struct manifest *
manifest_load_path(const char *path, struct diag *d, int regular_only)
{
	struct manifest	*m;
	struct buf	 b;
	struct stat	 st;
	FILE		*fp;
	char		 chunk[65536], *dir;
	size_t		 n;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC |
	    O_NOCTTY)) == -1) {
		diag_error(d, 0, 0, "cannot read: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		(void)close(fd);
		diag_error(d, 0, 0, "cannot read: %s", strerror(saved));
		return NULL;
	}
	if (regular_only && !S_ISREG(st.st_mode)) {
		(void)close(fd);
		diag_error(d, 0, 0, "cannot read: not a regular file (a "
		    "running supervisor reads only regular files)");
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		(void)close(fd);
		diag_error(d, 0, 0, "cannot read: %s", strerror(EISDIR));
		return NULL;
	}
	/*
	 * A pipe at start-up, before the loop runs: open it again, blocking
	 * (a FIFO opened without blocking reads end-of-file until a writer
	 * comes).
	 */
	if (!S_ISREG(st.st_mode)) {
		(void)close(fd);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
			diag_error(d, 0, 0, "cannot read: %s", strerror(errno));
			return NULL;
		}
	}
	if ((fp = fdopen(fd, "rb")) == NULL) {
		saved = errno;
		(void)close(fd);
		diag_error(d, 0, 0, "cannot read: %s", strerror(saved));
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
	dir = manifest_dir(path);
	m = manifest_yaml_load_at(path, dir, buf_used(&b) > 0 ? buf_ptr(&b) :
	    "", buf_used(&b), d);
	free(dir);
	buf_release(&b);
	if (m != NULL)
		m = manifest_pack(m);
#ifdef HAVE_MALLOC_TRIM
	/*
	 * All the heap the load took is free now (the tree had an arena,
	 * the model is packed into one), but glibc gives back by itself only
	 * a free top of the heap, and small freed chunks are kept unmerged
	 * for reuse, so those pages would stay resident: 5 MB for 10,000
	 * tasks. Here, not in manifest_load_buffer, which the fuzzer calls
	 * in a loop.
	 */
	malloc_trim(0);
#endif
	return m;
}

struct manifest *
manifest_load(const char *path, struct diag *d)
{
	return manifest_load_path(path, d, 0);
}

struct manifest *
manifest_reload(const char *path, struct diag *d)
{
	return manifest_load_path(path, d, 1);
}
