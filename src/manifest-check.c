/*
 * The cross-checks that need the whole manifest, once it is parsed: unit
 * and queue names, references to queues and units (from outputs, stdin,
 * depends_on and task scripts), the flow of queues (producers and
 * consumers), cycles of queues and of dependencies. Pure, like the model:
 * problems go to a diag.
 */
#include "config.h"

#include <stdint.h>
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
		qs->producers = c->flow[i].producers;
		/* A Redis queue's other end may be on another machine. */
		if (qs->redis)
			continue;
		if (c->flow[i].producers == 0)
			diag_warning(c->d, qs->loc.line, qs->loc.col, "queues.%s: "
			    "no producer: no stdout, stderr or put names this "
			    "queue: it is fed from outside (ctl put) and stays "
			    "open until \"ctl close %s\"", qs->name, qs->name);
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

typedef void (*graph_cycle_fn)(struct check *, const size_t *stack,
    size_t from, size_t top);

/*
 * Depth-first search from each of the first nroots vertices, iterative
 * (a long chain must not overflow the C stack). Each back edge is one
 * cycle, stack[from .. top), handed to fn. pos[v] is v's place on the
 * stack, so finding where the cycle starts costs O(1).
 */
static void
graph_cycles(struct check *c, const struct graph *g, size_t nroots,
    graph_cycle_fn fn)
{
	unsigned char	*color;		/* 0 white, 1 on the stack, 2 done */
	size_t		*stack, *next, *pos, top, root, v, w;

	color = xcalloc(g->nv + 1, 1);
	stack = xcalloc(g->nv + 1, sizeof *stack);
	next = xcalloc(g->nv + 1, sizeof *next);
	pos = xcalloc(g->nv + 1, sizeof *pos);
	for (root = 0; root < nroots; root++) {
		if (color[root] != 0)
			continue;
		top = 0;
		pos[root] = top;
		stack[top++] = root;
		color[root] = 1;
		next[root] = g->first[root];
		while (top > 0) {
			v = stack[top - 1];
			if (next[v] == g->first[v + 1]) {
				color[v] = 2;
				top--;
				continue;
			}
			w = g->adj[next[v]++];
			if (color[w] == 0) {
				color[w] = 1;
				next[w] = g->first[w];
				pos[w] = top;
				stack[top++] = w;
			} else if (color[w] == 1)
				fn(c, stack, pos[w], top);
		}
	}
	free(pos);
	free(next);
	free(stack);
	free(color);
}

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

	manifest_graph_build(c, &g);
	graph_cycles(c, &g, c->m->nprocs, manifest_report_cycle);
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
	size_t			 v, w, j, k;
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
	graph_cycles(c, &g, g.nv, manifest_report_dep_cycle);
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

