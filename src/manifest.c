/*
 * The manifest model: its life cycle, the cross-checks that need the whole
 * file (names, references, the flow of queues), and its printing as YAML.
 * Pure: it never sees YAML syntax trees or libuv; manifest-yaml.c fills it
 * in, the supervisor borrows it read-only.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "manifest.h"
#include "script.h"
#include "util.h"
#include "xmalloc.h"

/* A name to position map, sorted for bsearch. */
struct name_entry {
	const char	*name;
	size_t		 i;
};

struct name_index {
	struct name_entry	*e;
	size_t			 n;
};

/* Per queue: who writes it and who reads it. */
struct flow {
	size_t	producers;
	size_t	consumers;
};

/* Context of one manifest_check run. */
struct check {
	struct manifest		*m;
	struct diag		*d;
	struct name_index	 units;
	struct name_index	 queues;
	const char		**unit_names;	/* NULL-terminated, for hints */
	const char		**queue_names;
	struct flow		*flow;
	const char		*path;		/* of the script being walked */
};

/* Allocate an empty manifest for the named file (owner: the caller). */
struct manifest *
manifest_new(const char *file)
{
	struct manifest	*m;

	m = xcalloc(1, sizeof *m);
	m->file = xstrdup(file != NULL ? file : "-");
	m->version = 1;
	m->drain_timeout_ms = MANIFEST_DEFAULT_DRAIN_TIMEOUT_MS;
	return m;
}

/* Free the destinations of a stream and leave it empty. */
void
output_release(struct output *o)
{
	size_t	i;

	for (i = 0; i < o->ndests; i++)
		free(o->dests[i].name);
	free(o->dests);
	o->dests = NULL;
	o->ndests = 0;
}

/* Free the names of a list of dependencies. */
static void
manifest_deps_free(struct dep *deps, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(deps[i].name);
	free(deps);
}

/* Free a NULL-terminated argument vector. */
static void
manifest_argv_free(char **argv)
{
	size_t	i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* Free what one process spec owns. */
static void
manifest_proc_release(struct proc_spec *p)
{
	size_t	i;

	free(p->name);
	if (p->argv != NULL) {
		for (i = 0; i < p->argc; i++)
			free(p->argv[i]);
		free(p->argv);
	}
	free(p->shell);
	free(p->cwd);
	for (i = 0; i < p->nenv; i++) {
		free(p->env[i].name);
		free(p->env[i].value);
	}
	free(p->env);
	output_release(&p->out);
	output_release(&p->err);
	free(p->stdin_queue);
	manifest_deps_free(p->deps, p->ndeps);
	free(p->ready.regex);
	manifest_argv_free(p->ready.argv);
	free(p->ready.host);
	free(p->ready.port);
	free(p->ready.path);
	free(p->user);
	free(p->group);
}

/* Free a manifest and everything in it; NULL is a no-op. */
void
manifest_free(struct manifest *m)
{
	size_t	i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nprocs; i++)
		manifest_proc_release(&m->procs[i]);
	free(m->procs);
	for (i = 0; i < m->ntasks; i++) {
		free(m->tasks[i].name);
		script_free(m->tasks[i].run);
		script_free(m->tasks[i].on_cancel);
		output_release(&m->tasks[i].out);
		manifest_deps_free(m->tasks[i].deps, m->tasks[i].ndeps);
	}
	free(m->tasks);
	for (i = 0; i < m->nqueues; i++) {
		free(m->queues[i].name);
		free(m->queues[i].url);
		free(m->queues[i].stream);
		free(m->queues[i].group);
	}
	free(m->queues);
	free(m->file);
	free(m);
}

/* The process named name, or NULL. */
struct proc_spec *
manifest_find_proc(const struct manifest *m, const char *name)
{
	size_t	i;

	for (i = 0; i < m->nprocs; i++)
		if (strcmp(m->procs[i].name, name) == 0)
			return &m->procs[i];
	return NULL;
}

/* The task named name, or NULL. */
struct task_spec *
manifest_find_task(const struct manifest *m, const char *name)
{
	size_t	i;

	for (i = 0; i < m->ntasks; i++)
		if (strcmp(m->tasks[i].name, name) == 0)
			return &m->tasks[i];
	return NULL;
}

/* The queue named name, or NULL. */
struct queue_spec *
manifest_find_queue(const struct manifest *m, const char *name)
{
	size_t	i;

	for (i = 0; i < m->nqueues; i++)
		if (strcmp(m->queues[i].name, name) == 0)
			return &m->queues[i];
	return NULL;
}

/* The manifest spelling of a restart policy. */
const char *
manifest_restart_name(enum restart_policy p)
{
	switch (p) {
	case RESTART_NEVER:
		return "never";
	case RESTART_ON_FAILURE:
		return "on-failure";
	case RESTART_ALWAYS:
		return "always";
	}
	return "never";
}

/* The length of the valid UTF-8 sequence at s, or 0. */
static size_t
manifest_utf8_len(const unsigned char *s)
{
	size_t	n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) ||
	    (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (n == 4 && s[0] == 0xf0 && s[1] < 0x90) ||
	    (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

/*
 * Quote s as a YAML double-quoted scalar, which is also how messages show
 * a value. Control bytes, the Unicode line breaks YAML would fold, and
 * bytes that are not UTF-8 (a value from the environment may hold any) are
 * escaped, so the result always parses. With max > 0, longer text is cut
 * on a character boundary and marked with "...".
 */
char *
manifest_quote(const char *s, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	struct buf		 b;
	size_t			 i, n, len = strlen(s);

	buf_init(&b);
	buf_addc(&b, '"');
	for (i = 0; i < len; i += n) {
		if (max > 0 && i >= max) {
			buf_adds(&b, "...");
			break;
		}
		n = manifest_utf8_len(p + i);
		if (n == 0) {
			buf_addf(&b, "\\x%02x", p[i]);
			n = 1;
		} else if (p[i] == '"' || p[i] == '\\') {
			buf_addc(&b, '\\');
			buf_addc(&b, (char)p[i]);
		} else if (p[i] == '\n')
			buf_adds(&b, "\\n");
		else if (p[i] == '\t')
			buf_adds(&b, "\\t");
		else if (p[i] == '\r')
			buf_adds(&b, "\\r");
		else if (p[i] < 0x20 || p[i] == 0x7f)
			buf_addf(&b, "\\x%02x", p[i]);
		else if (n == 2 && p[i] == 0xc2 && p[i + 1] == 0x85)
			buf_adds(&b, "\\N");
		else if (n == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 &&
		    (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))
			buf_adds(&b, p[i + 2] == 0xa8 ? "\\L" : "\\P");
		else
			buf_add(&b, p + i, n);
	}
	buf_addc(&b, '"');
	return buf_steal(&b);
}

/* "3 processes, 1 task, 2 queues" into buf. */
void
manifest_summary(const struct manifest *m, char *buf, size_t len)
{
	snprintf(buf, len, "%zu process%s, %zu task%s, %zu queue%s",
	    m->nprocs, m->nprocs == 1 ? "" : "es",
	    m->ntasks, m->ntasks == 1 ? "" : "s",
	    m->nqueues, m->nqueues == 1 ? "" : "s");
}

/* ---------------------------------------------------------------- addresses */

/*
 * "HOST:PORT" or "[V6]:PORT". A host name or IPv4 address is letters,
 * digits, ".", "-" and "_"; an IPv6 address (with an optional %zone) goes
 * in brackets, so that its colons are not taken for the port's. The port
 * is a number, kept in its shortest spelling so that equal specs compare
 * equal.
 */
int
manifest_parse_hostport(const char *s, const char *defport, char **host,
    char **port, const char **errstr)
{
	const char	*h, *end, *p, *e;
	uint64_t	 u;
	size_t		 hlen, i;
	int		 v6 = 0, c;

	*host = *port = NULL;
	*errstr = NULL;
	if (*s == '[') {
		h = s + 1;
		if ((end = strchr(h, ']')) == NULL) {
			*errstr = "no \"]\" after \"[\"";
			return -1;
		}
		p = end + 1;
		v6 = 1;
	} else {
		h = s;
		if ((end = strchr(s, ':')) == NULL)
			end = s + strlen(s);
		p = end;
		if (*p == ':' && strchr(p + 1, ':') != NULL) {
			*errstr = "an IPv6 address goes in brackets, as "
			    "[::1]:80";
			return -1;
		}
	}
	hlen = (size_t)(end - h);
	if (hlen == 0) {
		*errstr = "no host";
		return -1;
	}
	for (i = 0; i < hlen; i++) {
		c = (unsigned char)h[i];
		if (isalnum(c) || c == '.' || c == '-' || c == '_' ||
		    (v6 && (c == ':' || c == '%')))
			continue;
		*errstr = "invalid character in the host";
		return -1;
	}
	if (v6 && memchr(h, ':', hlen) == NULL) {
		*errstr = "brackets are for IPv6 addresses";
		return -1;
	}
	if (*p == '\0') {
		if (defport == NULL) {
			*errstr = "no port";
			return -1;
		}
		p = defport;
	} else if (*p != ':') {
		*errstr = "expected \":PORT\" after the address";
		return -1;
	} else
		p++;
	if (util_parse_uint(p, 1, 65535, &u, &e) == -1) {
		*errstr = "the port is a number from 1 to 65535";
		return -1;
	}
	*host = xstrndup(h, hlen);
	*port = xasprintf("%u", (unsigned)u);
	return 0;
}

/* Free the strings of a parsed Redis URL. */
void
manifest_redis_url_release(struct redis_url *r)
{
	free(r->user);
	free(r->password);
	free(r->host);
	memset(r, 0, sizeof *r);
}

/*
 * redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], as redis-cli -u takes it.
 * The password ends at the last "@", so it may hold any character; it is
 * taken literally (no %-decoding).
 */
int
manifest_parse_redis_url(const char *url, struct redis_url *r,
    const char **errstr)
{
	const char	*rest, *at, *colon, *slash, *e;
	char		*hostport, *port;
	uint64_t	 u;

	memset(r, 0, sizeof *r);
	*errstr = NULL;
	if (strncmp(url, "rediss://", 9) == 0) {
		*errstr = "rediss:// (TLS) is not supported";
		return -1;
	}
	if (strncmp(url, "redis://", 8) != 0) {
		*errstr = "the URL does not start with redis://";
		return -1;
	}
	rest = url + 8;
	if ((at = strrchr(rest, '@')) != NULL) {
		if ((colon = memchr(rest, ':', (size_t)(at - rest))) == NULL) {
			*errstr = "expected :PASSWORD@ before the host";
			return -1;
		}
		if (at == colon + 1) {
			*errstr = "empty password";
			return -1;
		}
		if (colon > rest)
			r->user = xstrndup(rest, (size_t)(colon - rest));
		r->password = xstrndup(colon + 1, (size_t)(at - colon - 1));
		rest = at + 1;
	}
	if ((slash = strchr(rest, '/')) != NULL)
		hostport = xstrndup(rest, (size_t)(slash - rest));
	else
		hostport = xstrdup(rest);
	if (manifest_parse_hostport(hostport, "6379", &r->host, &port,
	    errstr) == -1) {
		free(hostport);
		manifest_redis_url_release(r);
		return -1;
	}
	free(hostport);
	r->port = (unsigned)strtoul(port, NULL, 10);
	free(port);
	r->db = 0;
	if (slash != NULL && slash[1] != '\0') {
		if (util_parse_uint(slash + 1, 0, INT32_MAX, &u, &e) == -1) {
			*errstr = "the database is a number, as in /0";
			manifest_redis_url_release(r);
			return -1;
		}
		r->db = (unsigned)u;
	}
	return 0;
}

/* ---------------------------------------------------------------- check */

/* Order of name_entry by name, then by position in the manifest. */
static int
manifest_entry_cmp(const void *a, const void *b)
{
	const struct name_entry	*x = a, *y = b;
	int			 r;

	if ((r = strcmp(x->name, y->name)) != 0)
		return r;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Look a name up in a sorted index; its position, or SIZE_MAX. */
static size_t
manifest_index_find(const struct name_index *ix, const char *name)
{
	size_t	lo = 0, hi = ix->n, mid;
	int	r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((r = strcmp(name, ix->e[mid].name)) == 0) {
			/* The first of equal names, as the runtime finds it. */
			while (mid > 0 && strcmp(ix->e[mid - 1].name,
			    name) == 0)
				mid--;
			return ix->e[mid].i;
		}
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return SIZE_MAX;
}

/* The key path of unit i (processes first, then tasks) and its place. */
static const char *
manifest_unit_at(const struct manifest *m, size_t i, const char **name,
    const struct loc **loc)
{
	if (i < m->nprocs) {
		*name = m->procs[i].name;
		*loc = &m->procs[i].loc;
		return "processes";
	}
	*name = m->tasks[i - m->nprocs].name;
	*loc = &m->tasks[i - m->nprocs].loc;
	return "tasks";
}

/* Unit names: valid, and unique across processes and tasks. */
static void
manifest_check_units(struct check *c)
{
	struct manifest		*m = c->m;
	const struct loc	*loc, *floc;
	const char		*name, *fname, *kind, *fkind;
	char			*q;
	size_t			 i, n = m->nprocs + m->ntasks;

	c->units.e = xcalloc(n, sizeof *c->units.e);
	c->unit_names = xcalloc(n + 1, sizeof *c->unit_names);
	for (i = 0; i < n; i++) {
		kind = manifest_unit_at(m, i, &name, &loc);
		c->units.e[i].name = name;
		c->units.e[i].i = i;
		c->unit_names[i] = name;
		if (!util_is_valid_name(name)) {
			q = manifest_quote(name, 60);
			diag_error(c->d, loc->line, loc->col, "%s: invalid name "
			    "%s (use letters, digits, \"_\", \".\" and \"-\")",
			    kind, q);
			free(q);
		}
	}
	c->units.n = n;
	qsort(c->units.e, n, sizeof *c->units.e, manifest_entry_cmp);
	for (i = 1; i < n; i++) {
		if (strcmp(c->units.e[i].name, c->units.e[i - 1].name) != 0)
			continue;
		fkind = manifest_unit_at(m, c->units.e[i - 1].i, &fname,
		    &floc);
		kind = manifest_unit_at(m, c->units.e[i].i, &name, &loc);
		diag_error(c->d, loc->line, loc->col, "%s.%s: name \"%s\" is "
		    "already used by %s.%s at line %zu, column %zu", kind,
		    name, name, fkind, fname, floc->line, floc->col);
	}
}

/* Queue names: valid, not a destination keyword, unique. */
static void
manifest_check_queue_names(struct check *c)
{
	struct manifest		*m = c->m;
	struct queue_spec	*qs, *first;
	char			*q;
	size_t			 i;

	c->queues.e = xcalloc(m->nqueues, sizeof *c->queues.e);
	c->queue_names = xcalloc(m->nqueues + 1, sizeof *c->queue_names);
	for (i = 0; i < m->nqueues; i++) {
		qs = &m->queues[i];
		c->queues.e[i].name = qs->name;
		c->queues.e[i].i = i;
		c->queue_names[i] = qs->name;
		if (strcmp(qs->name, "inherit") == 0 ||
		    strcmp(qs->name, "null") == 0 ||
		    strncmp(qs->name, "file:", 5) == 0) {
			q = manifest_quote(qs->name, 60);
			diag_error(c->d, qs->loc.line, qs->loc.col, "queues: "
			    "%s cannot name a queue (inherit, null and "
			    "file:PATH are other destinations)", q);
			free(q);
		} else if (!util_is_valid_name(qs->name)) {
			q = manifest_quote(qs->name, 60);
			diag_error(c->d, qs->loc.line, qs->loc.col, "queues: "
			    "invalid name %s (use letters, digits, \"_\", "
			    "\".\" and \"-\")", q);
			free(q);
		}
	}
	c->queues.n = m->nqueues;
	qsort(c->queues.e, m->nqueues, sizeof *c->queues.e, manifest_entry_cmp);
	for (i = 1; i < m->nqueues; i++) {
		if (strcmp(c->queues.e[i].name, c->queues.e[i - 1].name) != 0)
			continue;
		first = &m->queues[c->queues.e[i - 1].i];
		qs = &m->queues[c->queues.e[i].i];
		diag_error(c->d, qs->loc.line, qs->loc.col, "queues.%s: "
		    "already declared at line %zu, column %zu", qs->name,
		    first->loc.line, first->loc.col);
	}
}

/*
 * Resolve a queue reference; report it when unknown. Returns the queue's
 * index or SIZE_MAX. The hint is skipped once diag stops keeping errors,
 * so a hostile file cannot make us compute distances forever.
 */
static size_t
manifest_ref_queue(struct check *c, const char *path, const char *name,
    size_t line, size_t col)
{
	const char	*hint;
	char		*q;
	size_t		 i;

	if ((i = manifest_index_find(&c->queues, name)) != SIZE_MAX)
		return i;
	if (c->d->nerrors >= DIAG_MAX_ERRORS) {
		diag_error(c->d, line, col, "%s: unknown queue", path);
		return SIZE_MAX;
	}
	q = manifest_quote(name, 60);
	hint = util_did_you_mean(name, c->queue_names);
	if (hint != NULL)
		diag_error(c->d, line, col, "%s: unknown queue %s (did you "
		    "mean \"%s\"?)", path, q, hint);
	else if (c->m->nqueues == 0)
		diag_error(c->d, line, col, "%s: unknown queue %s (no queues "
		    "are declared under queues:)", path, q);
	else
		diag_error(c->d, line, col, "%s: unknown queue %s", path, q);
	free(q);
	return SIZE_MAX;
}

/* Check the queues an output names; count them as produced. */
static void
manifest_check_output(struct check *c, const char *path,
    const struct output *o)
{
	size_t	i, qi;

	for (i = 0; i < o->ndests; i++) {
		if (o->dests[i].kind != DEST_QUEUE)
			continue;
		qi = manifest_ref_queue(c, path, o->dests[i].name,
		    o->dests[i].loc.line, o->dests[i].loc.col);
		if (qi != SIZE_MAX)
			c->flow[qi].producers++;
	}
}

/* script_walk_refs callback: every queue and unit a step names exists. */
static void
manifest_script_ref_cb(const char *name, int is_queue, size_t line,
    size_t col, void *arg)
{
	struct check	*c = arg;
	const char	*hint;
	char		*q;

	if (is_queue) {
		manifest_ref_queue(c, c->path, name, line, col);
		return;
	}
	if (manifest_index_find(&c->units, name) != SIZE_MAX)
		return;
	if (c->d->nerrors >= DIAG_MAX_ERRORS) {
		diag_error(c->d, line, col, "%s: unknown unit", c->path);
		return;
	}
	q = manifest_quote(name, 60);
	hint = util_did_you_mean(name, c->unit_names);
	if (hint != NULL)
		diag_error(c->d, line, col, "%s: unknown process or task %s "
		    "(did you mean \"%s\"?)", c->path, q, hint);
	else
		diag_error(c->d, line, col, "%s: unknown process or task %s",
		    c->path, q);
	free(q);
}

/* Every dependency names a process or a task. */
static void
manifest_check_dep_names(struct check *c, const char *path,
    const struct dep *deps, size_t n)
{
	const char	*hint;
	char		*q;
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (manifest_index_find(&c->units, deps[i].name) != SIZE_MAX)
			continue;
		if (c->d->nerrors >= DIAG_MAX_ERRORS) {
			diag_error(c->d, deps[i].loc.line, deps[i].loc.col,
			    "%s: unknown unit", path);
			continue;
		}
		q = manifest_quote(deps[i].name, 60);
		if (manifest_index_find(&c->queues, deps[i].name) != SIZE_MAX)
			diag_error(c->d, deps[i].loc.line, deps[i].loc.col,
			    "%s: unknown process or task %s (that is a queue)",
			    path, q);
		else if ((hint = util_did_you_mean(deps[i].name,
		    c->unit_names)) != NULL)
			diag_error(c->d, deps[i].loc.line, deps[i].loc.col,
			    "%s: unknown process or task %s (did you mean "
			    "\"%s\"?)", path, q, hint);
		else
			diag_error(c->d, deps[i].loc.line, deps[i].loc.col,
			    "%s: unknown process or task %s", path, q);
		free(q);
	}
}

/* Count a task's put (producer), get and for (consumers), recursively. */
static void
manifest_script_flow(struct check *c, const struct script *s)
{
	const struct step	*st;
	size_t			 i, qi;

	if (s == NULL)
		return;
	for (i = 0; i < s->nsteps; i++) {
		st = &s->steps[i];
		if (st->queue != NULL &&
		    (qi = manifest_index_find(&c->queues, st->queue)) !=
		    SIZE_MAX) {
			if (st->kind == STEP_FOR ||
			    (st->kind == STEP_COMMAND &&
			    st->builtin == BUILTIN_GET))
				c->flow[qi].consumers++;
			else if (st->kind == STEP_COMMAND &&
			    st->builtin == BUILTIN_PUT)
				c->flow[qi].producers++;
		}
		manifest_script_flow(c, st->body);
	}
}

/* Every reference to a queue or unit resolves; count producers/consumers. */
static void
manifest_check_refs(struct check *c)
{
	struct manifest		*m = c->m;
	struct proc_spec	*p;
	struct task_spec	*t;
	char			*path;
	size_t			 i, qi;

	for (i = 0; i < m->nprocs; i++) {
		p = &m->procs[i];
		path = xasprintf("processes.%s.depends_on", p->name);
		manifest_check_dep_names(c, path, p->deps, p->ndeps);
		free(path);
		path = xasprintf("processes.%s.stdout", p->name);
		manifest_check_output(c, path, &p->out);
		free(path);
		path = xasprintf("processes.%s.stderr", p->name);
		manifest_check_output(c, path, &p->err);
		free(path);
		if (p->stdin_queue == NULL)
			continue;
		path = xasprintf("processes.%s.stdin", p->name);
		qi = manifest_ref_queue(c, path, p->stdin_queue,
		    p->stdin_loc.line, p->stdin_loc.col);
		if (qi != SIZE_MAX)
			c->flow[qi].consumers++;
		free(path);
	}
	for (i = 0; i < m->ntasks; i++) {
		t = &m->tasks[i];
		path = xasprintf("tasks.%s.depends_on", t->name);
		manifest_check_dep_names(c, path, t->deps, t->ndeps);
		free(path);
		path = xasprintf("tasks.%s.stdout", t->name);
		manifest_check_output(c, path, &t->out);
		free(path);
		path = xasprintf("tasks.%s.run", t->name);
		c->path = path;
		if (t->run != NULL)
			script_walk_refs(t->run, manifest_script_ref_cb, c);
		free(path);
		path = xasprintf("tasks.%s.on_cancel", t->name);
		c->path = path;
		if (t->on_cancel != NULL)
			script_walk_refs(t->on_cancel, manifest_script_ref_cb,
			    c);
		free(path);
		c->path = NULL;
		manifest_script_flow(c, t->run);
		manifest_script_flow(c, t->on_cancel);
	}
}

/* Warn about queues nothing writes to or nothing reads from. */
static void
manifest_check_flow(struct check *c)
{
	struct queue_spec	*qs;
	size_t			 i;

	for (i = 0; i < c->m->nqueues; i++) {
		qs = &c->m->queues[i];
		/* A Redis queue's other end may be on another machine. */
		if (qs->redis)
			continue;
		if (c->flow[i].producers == 0)
			diag_warning(c->d, qs->loc.line, qs->loc.col, "queues.%s: "
			    "no producer: no stdout, stderr or put names this "
			    "queue", qs->name);
		if (c->flow[i].consumers == 0)
			diag_warning(c->d, qs->loc.line, qs->loc.col, "queues.%s: "
			    "no consumer: no stdin, get or for names this "
			    "queue", qs->name);
	}
}

/*
 * Cycles of queues between processes. The graph is bipartite, processes
 * and queues as vertices (process -> queue for stdout/stderr, queue ->
 * process for stdin), so its size is the number of references rather than
 * producers times consumers. The depth-first search is iterative: a long
 * chain of processes must not exhaust our stack.
 */
struct graph {
	size_t	 nv;
	size_t	*first;		/* edges of v: adj[first[v] .. first[v+1]) */
	size_t	*adj;
};

/* Add the edges of every process and queue, counting first then filling. */
static void
manifest_graph_build(struct check *c, struct graph *g)
{
	struct manifest		*m = c->m;
	struct proc_spec	*p;
	const struct output	*o;
	size_t			 i, j, k, qi, pass, *fill;

	g->nv = m->nprocs + m->nqueues;
	g->first = xcalloc(g->nv + 1, sizeof *g->first);
	g->adj = NULL;
	fill = xcalloc(g->nv + 1, sizeof *fill);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < m->nprocs; i++) {
			p = &m->procs[i];
			for (k = 0; k < 2; k++) {
				o = k == 0 ? &p->out : &p->err;
				for (j = 0; j < o->ndests; j++) {
					if (o->dests[j].kind != DEST_QUEUE)
						continue;
					qi = manifest_index_find(&c->queues,
					    o->dests[j].name);
					if (qi == SIZE_MAX)
						continue;
					if (pass == 0)
						g->first[i + 1]++;
					else
						g->adj[fill[i]++] =
						    m->nprocs + qi;
				}
			}
			if (p->stdin_queue == NULL)
				continue;
			qi = manifest_index_find(&c->queues, p->stdin_queue);
			if (qi == SIZE_MAX)
				continue;
			if (pass == 0)
				g->first[m->nprocs + qi + 1]++;
			else
				g->adj[fill[m->nprocs + qi]++] = i;
		}
		if (pass == 0) {
			for (i = 0; i < g->nv; i++)
				g->first[i + 1] += g->first[i];
			for (i = 0; i < g->nv; i++)
				fill[i] = g->first[i];
			g->adj = xcalloc(g->first[g->nv] + 1, sizeof *g->adj);
		}
	}
	free(fill);
}

/* The name of vertex v of the graph. */
static const char *
manifest_vertex_name(const struct manifest *m, size_t v)
{
	if (v < m->nprocs)
		return m->procs[v].name;
	return m->queues[v - m->nprocs].name;
}

/* Warn about the cycle stack[from..top]: name it, from its first process. */
static void
manifest_report_cycle(struct check *c, const size_t *stack, size_t from,
    size_t top)
{
	struct manifest		*m = c->m;
	struct queue_spec	*qs;
	struct buf		 b;
	size_t			 n = top - from, start = 0, i, v, nprocs = 0;
	char			*text;

	/* Begin at the earliest process, so the message is stable. */
	for (i = 0; i < n; i++) {
		v = stack[from + i];
		if (v < m->nprocs) {
			nprocs++;
			if (stack[from + start] >= m->nprocs ||
			    v < stack[from + start])
				start = i;
		}
	}
	buf_init(&b);
	for (i = 0; i <= n; i++) {
		v = stack[from + (start + i) % n];
		if (i > 0)
			buf_adds(&b, " -> ");
		buf_adds(&b, manifest_vertex_name(m, v));
	}
	text = buf_steal(&b);
	qs = &m->queues[stack[from + (start + 1) % n] - m->nprocs];
	diag_warning(c->d, qs->loc.line, qs->loc.col, "queues.%s: %s %s %s a "
	    "cycle that can deadlock when full", qs->name,
	    nprocs == 1 ? "process" : "processes", text,
	    nprocs == 1 ? "forms" : "form");
	free(text);
}

/* Find cycles of queues between processes; one warning per back edge. */
static void
manifest_check_cycles(struct check *c)
{
	struct graph	 g;
	unsigned char	*color;		/* 0 white, 1 on the stack, 2 done */
	size_t		*stack, *next, top, root, v, w;

	manifest_graph_build(c, &g);
	color = xcalloc(g.nv + 1, 1);
	stack = xcalloc(g.nv + 1, sizeof *stack);
	next = xcalloc(g.nv + 1, sizeof *next);
	for (root = 0; root < c->m->nprocs; root++) {
		if (color[root] != 0)
			continue;
		top = 0;
		stack[top++] = root;
		color[root] = 1;
		next[root] = g.first[root];
		while (top > 0) {
			v = stack[top - 1];
			if (next[v] == g.first[v + 1]) {
				color[v] = 2;
				top--;
				continue;
			}
			w = g.adj[next[v]++];
			if (color[w] == 0) {
				color[w] = 1;
				next[w] = g.first[w];
				stack[top++] = w;
			} else if (color[w] == 1) {
				for (v = top; stack[v - 1] != w; v--)
					;
				manifest_report_cycle(c, stack, v - 1, top);
			}
		}
	}
	free(next);
	free(stack);
	free(color);
	free(g.first);
	free(g.adj);
}

/* The dependencies of unit i (processes first, then tasks). */
static const struct dep *
manifest_unit_deps(const struct manifest *m, size_t i, size_t *n)
{
	if (i < m->nprocs) {
		*n = m->procs[i].ndeps;
		return m->procs[i].deps;
	}
	*n = m->tasks[i - m->nprocs].ndeps;
	return m->tasks[i - m->nprocs].deps;
}

/*
 * Report the dependency cycle stack[from..top) as an error, named from
 * its earliest unit in the file, at the dependency that leaves it.
 */
static void
manifest_report_dep_cycle(struct check *c, const size_t *stack, size_t from,
    size_t top)
{
	struct manifest		*m = c->m;
	const struct dep	*deps;
	const struct loc	*loc, *uloc;
	const char		*kind, *name, *vname;
	struct buf		 b;
	size_t			 n = top - from, start = 0, i, ndeps, v, w;
	char			*text;

	if (c->d->nerrors >= DIAG_MAX_ERRORS) {
		/* Counted, not shown: spare the walk around the cycle. */
		kind = manifest_unit_at(m, stack[top - 1], &name, &loc);
		diag_error(c->d, loc->line, loc->col, "%s.%s.depends_on: "
		    "dependency cycle", kind, name);
		return;
	}
	for (i = 1; i < n; i++)
		if (stack[from + i] < stack[from + start])
			start = i;
	v = stack[from + start];
	w = stack[from + (start + 1) % n];
	kind = manifest_unit_at(m, v, &name, &loc);
	deps = manifest_unit_deps(m, v, &ndeps);
	for (i = 0; i < ndeps; i++) {
		if (manifest_index_find(&c->units, deps[i].name) == w) {
			loc = &deps[i].loc;
			break;
		}
	}
	/* A long cycle is named by its ends, its middle counted. */
	buf_init(&b);
	for (i = 0; i <= n; i++) {
		if (n > 16 && i == 14) {
			buf_addf(&b, " -> ... (%zu more)", n - 15);
			i = n - 2;
			continue;
		}
		(void)manifest_unit_at(m, stack[from + (start + i) % n], &vname,
		    &uloc);
		if (i > 0)
			buf_adds(&b, " -> ");
		buf_adds(&b, vname);
	}
	text = buf_steal(&b);
	diag_error(c->d, loc->line, loc->col, "%s.%s.depends_on: dependency "
	    "cycle: %s", kind, name, text);
	free(text);
}

/*
 * Cycles of dependencies, which could never start: units are vertices,
 * with an edge from each unit to each unit it depends on. As for queues,
 * the depth-first search is iterative, and each back edge is one cycle.
 */
static void
manifest_check_dep_cycles(struct check *c)
{
	struct manifest		*m = c->m;
	const struct dep	*deps;
	struct graph		 g;
	unsigned char		*color;
	size_t			*stack, *next, *pos, top, root, v, w, j, k;
	size_t			 ndeps;

	g.nv = m->nprocs + m->ntasks;
	g.first = xcalloc(g.nv + 1, sizeof *g.first);
	for (v = 0; v < g.nv; v++) {
		deps = manifest_unit_deps(m, v, &ndeps);
		g.first[v + 1] = g.first[v];
		for (j = 0; j < ndeps; j++)
			if (manifest_index_find(&c->units, deps[j].name) !=
			    SIZE_MAX)
				g.first[v + 1]++;
	}
	g.adj = xcalloc(g.first[g.nv] + 1, sizeof *g.adj);
	for (v = 0, k = 0; v < g.nv; v++) {
		deps = manifest_unit_deps(m, v, &ndeps);
		for (j = 0; j < ndeps; j++)
			if ((w = manifest_index_find(&c->units,
			    deps[j].name)) != SIZE_MAX)
				g.adj[k++] = w;
	}
	/*
	 * pos[v] is v's place on the stack, so that a back edge costs O(1)
	 * to find; naming the cycle costs its length, for the few errors
	 * kept only.
	 */
	color = xcalloc(g.nv + 1, 1);
	stack = xcalloc(g.nv + 1, sizeof *stack);
	next = xcalloc(g.nv + 1, sizeof *next);
	pos = xcalloc(g.nv + 1, sizeof *pos);
	for (root = 0; root < g.nv; root++) {
		if (color[root] != 0)
			continue;
		top = 0;
		pos[root] = top;
		stack[top++] = root;
		color[root] = 1;
		next[root] = g.first[root];
		while (top > 0) {
			v = stack[top - 1];
			if (next[v] == g.first[v + 1]) {
				color[v] = 2;
				top--;
				continue;
			}
			w = g.adj[next[v]++];
			if (color[w] == 0) {
				color[w] = 1;
				next[w] = g.first[w];
				pos[w] = top;
				stack[top++] = w;
			} else if (color[w] == 1)
				manifest_report_dep_cycle(c, stack, pos[w],
				    top);
		}
	}
	free(pos);
	free(next);
	free(stack);
	free(color);
	free(g.first);
	free(g.adj);
}

/*
 * The cross-checks that need the whole manifest. They run after the YAML
 * walk, so every problem of a file is reported together.
 */
void
manifest_check(struct manifest *m, struct diag *d)
{
	struct check	c;

	memset(&c, 0, sizeof c);
	c.m = m;
	c.d = d;
	c.flow = xcalloc(m->nqueues + 1, sizeof *c.flow);
	manifest_check_units(&c);
	manifest_check_queue_names(&c);
	manifest_check_refs(&c);
	manifest_check_dep_cycles(&c);
	/*
	 * Warnings about the flow are given for a sound manifest only: a
	 * reference in error would make them wrong, and noise around the
	 * errors that matter.
	 */
	if (!diag_has_errors(d)) {
		manifest_check_flow(&c);
		manifest_check_cycles(&c);
	}
	free(c.units.e);
	free(c.queues.e);
	free(c.unit_names);
	free(c.queue_names);
	free(c.flow);
}

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
static void
manifest_print_ready(FILE *fp, const struct ready_spec *r)
{
	char	*hp, *s;
	size_t	 i;

	fputs("    ready: ", fp);
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
		fputc('}', fp);
	}
	fputs("\n    ready_timeout: ", fp);
	manifest_print_duration(fp, r->timeout_ms);
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
	if (p->nenv == 0)
		fputs("    env: {}\n", fp);
	else {
		fputs("    env:\n", fp);
		for (i = 0; i < p->nenv; i++) {
			fputs("      ", fp);
			manifest_print_str(fp, p->env[i].name);
			fputs(": ", fp);
			manifest_print_str(fp, p->env[i].value);
			fputc('\n', fp);
		}
	}
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
	fprintf(fp, "    replicas: %u\n", p->replicas);
	manifest_print_deps(fp, p->deps, p->ndeps);
	manifest_print_ready(fp, &p->ready);
	manifest_print_limits(fp, p->limits);
	if (p->umask >= 0)
		fprintf(fp, "    umask: \"%04o\"\n", (unsigned)p->umask);
	else
		fputs("    umask: null\n", fp);
	manifest_print_opt(fp, "user", p->user);
	manifest_print_opt(fp, "group", p->group);
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
		if (a[i].cond != b[i].cond || strcmp(a[i].name, b[i].name) != 0)
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
	    a->replicas != b->replicas ||
	    !manifest_deps_equal(a->deps, a->ndeps, b->deps, b->ndeps) ||
	    !manifest_ready_equal(&a->ready, &b->ready) ||
	    a->umask != b->umask || !manifest_str_equal(a->user, b->user) ||
	    !manifest_str_equal(a->group, b->group))
		return 0;
	for (i = 0; i < a->nenv; i++)
		if (strcmp(a->env[i].name, b->env[i].name) != 0 ||
		    strcmp(a->env[i].value, b->env[i].value) != 0)
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
	    manifest_deps_equal(a->deps, a->ndeps, b->deps, b->ndeps);
}

/* Is queue a specified exactly as b? */
int
manifest_queue_equal(const struct queue_spec *a, const struct queue_spec *b)
{
	if (strcmp(a->name, b->name) != 0 || a->capacity != b->capacity ||
	    a->mode != b->mode || a->overflow != b->overflow ||
	    a->redis != b->redis)
		return 0;
	if (!a->redis)
		return 1;
	return manifest_str_equal(a->url, b->url) &&
	    manifest_str_equal(a->stream, b->stream) &&
	    manifest_str_equal(a->group, b->group) &&
	    a->claim_after_ms == b->claim_after_ms &&
	    a->connect_timeout_ms == b->connect_timeout_ms;
}
