/*
 * Packing: a loaded manifest deep-copied into one arena, arrays at their
 * exact sizes and equal strings (and default outputs) shared, so that each
 * task costs no malloc headers and no growth slack, and the load's own heap
 * (the unpacked model) is freed in one piece. Pure model code: it knows the
 * structs of manifest.h and script.h, nothing of YAML or of how they are
 * used.
 *
 * Every copy below starts from a copy by value of the whole struct and
 * then replaces its pointer fields, so a new scalar field is carried over
 * without a change here; a new pointer field needs a line here, or the
 * packed manifest points into freed memory.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "manifest.h"
#include "script.h"
#include "xmalloc.h"

/* A string already in the arena. */
struct pack_str {
	char		*s;
	size_t		 len;	/* its NUL included */
	uint64_t	 hash;
};

/*
 * The arena; the one default output shared by every unit; the strings
 * copied so far, an open-addressing table (malloc'd for the packing only).
 */
struct pack {
	struct arena	*a;
	struct dest	*inherit;
	struct pack_str	*strs;
	size_t		 nstrs;
	size_t		 cap;	/* a power of two, or 0 */
};

static struct script	*pack_script(struct pack *, const struct script *);

/* n objects copied into the arena, or NULL when n is 0. */
static void *
pack_array(struct pack *p, const void *src, size_t n, size_t size,
    size_t align)
{
	void	*dst;

	if (n == 0)
		return NULL;
	dst = arena_alloc(p->a, n, size, align);
	memcpy(dst, src, n * size);
	return dst;
}

#define PACK_ARRAY(p, src, n, type) \
	((type *)pack_array((p), (src), (n), sizeof(type), _Alignof(type)))

/* FNV-1a over n bytes. */
static uint64_t
pack_hash(const char *s, size_t n)
{
	uint64_t	h = 14695981039346656037ULL;
	size_t		i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* Put e into the table, which has room. */
static void
pack_str_insert(struct pack *p, const struct pack_str *e)
{
	size_t	i;

	for (i = e->hash & (p->cap - 1); p->strs[i].s != NULL;
	    i = (i + 1) & (p->cap - 1))
		;
	p->strs[i] = *e;
	p->nstrs++;
}

/*
 * n bytes (a string and its NUL) in the arena, one copy for all equal
 * ones: a packed manifest is read-only, and commands, step texts and
 * queue names repeat from unit to unit.
 */
static char *
pack_mem(struct pack *p, const char *s, size_t n)
{
	struct pack_str	 e, *old;
	size_t		 i, oldcap;

	e.hash = pack_hash(s, n);
	e.len = n;
	for (i = p->cap > 0 ? e.hash & (p->cap - 1) : 0;
	    p->cap > 0 && p->strs[i].s != NULL; i = (i + 1) & (p->cap - 1))
		if (p->strs[i].hash == e.hash && p->strs[i].len == n &&
		    memcmp(p->strs[i].s, s, n) == 0)
			return p->strs[i].s;
	/* At most half full, so that probes stay short. */
	if (2 * (p->nstrs + 1) > p->cap) {
		old = p->strs;
		oldcap = p->cap;
		p->cap = oldcap == 0 ? 64 : oldcap * 2;
		p->strs = xcalloc(p->cap, sizeof *p->strs);
		p->nstrs = 0;
		for (i = 0; i < oldcap; i++)
			if (old[i].s != NULL)
				pack_str_insert(p, &old[i]);
		free(old);
	}
	e.s = arena_memdup(p->a, s, n);
	pack_str_insert(p, &e);
	return e.s;
}

/* A string, or NULL. */
static char *
pack_str(struct pack *p, const char *s)
{
	if (s == NULL)
		return NULL;
	return pack_mem(p, s, strlen(s) + 1);
}

/* A NULL-terminated vector of n strings (n counted when SIZE_MAX). */
static char **
pack_argv(struct pack *p, char *const *argv, size_t n)
{
	char	**v;
	size_t	  i;

	if (argv == NULL)
		return NULL;
	if (n == SIZE_MAX)
		for (n = 0; argv[n] != NULL; n++)
			;
	v = ARENA_ARRAY(p->a, n + 1, char *);
	for (i = 0; i < n; i++)
		v[i] = pack_str(p, argv[i]);
	return v;
}

/* Is o the loader's default: one inherit destination and nothing else? */
static int
pack_is_inherit(const struct output *o)
{
	const struct dest	*d = o->dests;

	return o->ndests == 1 && d->kind == DEST_INHERIT && d->name == NULL &&
	    d->max_size == 0 && d->backups == 0;
}

/*
 * A stream's destinations. The default (inherit) is every unit's unless
 * it says otherwise, so one copy serves them all; its loc is dropped
 * (0:0), which nothing reads: only a queue destination's place is ever
 * reported, by manifest_check, before the manifest is packed.
 */
static struct output
pack_output(struct pack *p, const struct output *o)
{
	struct output	out = *o;
	size_t		i;

	if (pack_is_inherit(o)) {
		if (p->inherit == NULL) {
			p->inherit = ARENA_ARRAY(p->a, 1, struct dest);
			p->inherit->kind = DEST_INHERIT;
		}
		out.dests = p->inherit;
		return out;
	}
	out.dests = PACK_ARRAY(p, o->dests, o->ndests, struct dest);
	for (i = 0; i < o->ndests; i++)
		out.dests[i].name = pack_str(p, o->dests[i].name);
	return out;
}

/* Dependencies and their names. */
static struct dep *
pack_deps(struct pack *p, const struct dep *deps, size_t n)
{
	struct dep	*d;
	size_t		 i;

	d = PACK_ARRAY(p, deps, n, struct dep);
	for (i = 0; i < n; i++)
		d[i].name = pack_str(p, deps[i].name);
	return d;
}

/* The words of a step and their parts. */
static struct word *
pack_words(struct pack *p, const struct word *words, size_t n)
{
	struct word		*w;
	struct word_part	*pt;
	size_t			 i, j;

	w = PACK_ARRAY(p, words, n, struct word);
	for (i = 0; i < n; i++) {
		pt = PACK_ARRAY(p, words[i].parts, words[i].nparts,
		    struct word_part);
		for (j = 0; j < words[i].nparts; j++)
			pt[j].text = pack_mem(p, pt[j].text, pt[j].len + 1);
		w[i].parts = pt;
	}
	return w;
}

/* One step, into dst (already a copy by value of src). */
static void
pack_step(struct pack *p, struct step *dst, const struct step *src)
{
	dst->text = pack_str(p, src->text);
	dst->words = pack_words(p, src->words, src->nwords);
	dst->var = pack_str(p, src->var);
	dst->queue = pack_str(p, src->queue);
	dst->unit = pack_str(p, src->unit);
	dst->body = pack_script(p, src->body);
}

/* A script and its steps, blocks' bodies included. */
static struct script *
pack_script(struct pack *p, const struct script *sc)
{
	struct script	*c;
	size_t		 i;

	if (sc == NULL)
		return NULL;
	c = PACK_ARRAY(p, sc, 1, struct script);
	c->steps = PACK_ARRAY(p, sc->steps, sc->nsteps, struct step);
	c->capsteps = 0;	/* in the pack: never grown */
	for (i = 0; i < sc->nsteps; i++)
		pack_step(p, &c->steps[i], &sc->steps[i]);
	return c;
}

/* One process, into dst (already a copy by value of src). */
static void
pack_proc(struct pack *p, struct proc_spec *dst, const struct proc_spec *src)
{
	size_t	i;

	dst->name = pack_str(p, src->name);
	dst->argv = pack_argv(p, src->argv, src->argc);
	dst->shell = pack_str(p, src->shell);
	dst->cwd = pack_str(p, src->cwd);
	dst->env = PACK_ARRAY(p, src->env, src->nenv, struct env_var);
	for (i = 0; i < src->nenv; i++) {
		dst->env[i].name = pack_str(p, src->env[i].name);
		dst->env[i].value = pack_str(p, src->env[i].value);
	}
	dst->out = pack_output(p, &src->out);
	dst->err = pack_output(p, &src->err);
	dst->stdin_queue = pack_str(p, src->stdin_queue);
	dst->deps = pack_deps(p, src->deps, src->ndeps);
	dst->ready.regex = pack_str(p, src->ready.regex);
	dst->ready.argv = pack_argv(p, src->ready.argv, SIZE_MAX);
	dst->ready.host = pack_str(p, src->ready.host);
	dst->ready.port = pack_str(p, src->ready.port);
	dst->ready.path = pack_str(p, src->ready.path);
	dst->liveness.probe.argv = pack_argv(p, src->liveness.probe.argv,
	    SIZE_MAX);
	dst->liveness.probe.host = pack_str(p, src->liveness.probe.host);
	dst->liveness.probe.port = pack_str(p, src->liveness.probe.port);
	dst->liveness.probe.path = pack_str(p, src->liveness.probe.path);
	dst->success_codes = PACK_ARRAY(p, src->success_codes, src->nsuccess,
	    int);
	dst->user = pack_str(p, src->user);
	dst->group = pack_str(p, src->group);
}

/* One task, into dst (already a copy by value of src). */
static void
pack_task(struct pack *p, struct task_spec *dst, const struct task_spec *src)
{
	size_t	i;

	dst->name = pack_str(p, src->name);
	dst->run = pack_script(p, src->run);
	dst->on_cancel = pack_script(p, src->on_cancel);
	dst->out = pack_output(p, &src->out);
	dst->deps = pack_deps(p, src->deps, src->ndeps);
	dst->env = PACK_ARRAY(p, src->env, src->nenv, struct env_var);
	for (i = 0; i < src->nenv; i++) {
		dst->env[i].name = pack_str(p, src->env[i].name);
		dst->env[i].value = pack_str(p, src->env[i].value);
	}
}

/* One queue, into dst (already a copy by value of src). */
static void
pack_queue(struct pack *p, struct queue_spec *dst,
    const struct queue_spec *src)
{
	dst->name = pack_str(p, src->name);
	dst->url = pack_str(p, src->url);
	dst->stream = pack_str(p, src->stream);
	dst->group = pack_str(p, src->group);
}

/*
 * A packed copy of m, which is freed (owner of the result: the caller;
 * manifest_free frees it with its arena, where the struct itself lives).
 * A packed manifest is read-only: nothing in it may be freed or grown.
 */
struct manifest *
manifest_pack(struct manifest *m)
{
	struct pack	 p;
	struct manifest	*c;
	size_t		 i;

	if (m->arena != NULL)
		return m;
	memset(&p, 0, sizeof p);
	p.a = arena_new();
	c = PACK_ARRAY(&p, m, 1, struct manifest);
	c->arena = p.a;
	c->file = pack_str(&p, m->file);
	c->metrics = m->metrics != NULL ? pack_str(&p, m->metrics) : NULL;
	c->procs = PACK_ARRAY(&p, m->procs, m->nprocs, struct proc_spec);
	for (i = 0; i < m->nprocs; i++)
		pack_proc(&p, &c->procs[i], &m->procs[i]);
	c->tasks = PACK_ARRAY(&p, m->tasks, m->ntasks, struct task_spec);
	for (i = 0; i < m->ntasks; i++)
		pack_task(&p, &c->tasks[i], &m->tasks[i]);
	c->queues = PACK_ARRAY(&p, m->queues, m->nqueues, struct queue_spec);
	for (i = 0; i < m->nqueues; i++)
		pack_queue(&p, &c->queues[i], &m->queues[i]);
	free(p.strs);
	manifest_free(m);
	return c;
}
