/*
 * Packing: a loaded manifest deep-copied into one arena, arrays at their
 * exact sizes, so that each task costs no malloc headers and no growth
 * slack, and the load's own heap (the YAML tree and the unpacked model)
 * is freed in one piece. Pure model code: it knows the structs of
 * manifest.h and script.h, nothing of YAML or of how they are used.
 *
 * Every copy below starts from a copy by value of the whole struct and
 * then replaces its pointer fields, so a new scalar field is carried over
 * without a change here; a new pointer field needs a line here, or the
 * packed manifest points into freed memory.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "manifest.h"
#include "script.h"

/* The arena, and the one default output shared by every unit. */
struct pack {
	struct arena	*a;
	struct dest	*inherit;
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
		v[i] = arena_strdup(p->a, argv[i]);
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
		out.dests[i].name = arena_strdup(p->a, o->dests[i].name);
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
		d[i].name = arena_strdup(p->a, deps[i].name);
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
			pt[j].text = arena_memdup(p->a, pt[j].text,
			    pt[j].len + 1);
		w[i].parts = pt;
	}
	return w;
}

/* One step, into dst (already a copy by value of src). */
static void
pack_step(struct pack *p, struct step *dst, const struct step *src)
{
	dst->text = arena_strdup(p->a, src->text);
	dst->words = pack_words(p, src->words, src->nwords);
	dst->var = arena_strdup(p->a, src->var);
	dst->queue = arena_strdup(p->a, src->queue);
	dst->unit = arena_strdup(p->a, src->unit);
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
	for (i = 0; i < sc->nsteps; i++)
		pack_step(p, &c->steps[i], &sc->steps[i]);
	return c;
}

/* One process, into dst (already a copy by value of src). */
static void
pack_proc(struct pack *p, struct proc_spec *dst, const struct proc_spec *src)
{
	size_t	i;

	dst->name = arena_strdup(p->a, src->name);
	dst->argv = pack_argv(p, src->argv, src->argc);
	dst->shell = arena_strdup(p->a, src->shell);
	dst->cwd = arena_strdup(p->a, src->cwd);
	dst->env = PACK_ARRAY(p, src->env, src->nenv, struct env_var);
	for (i = 0; i < src->nenv; i++) {
		dst->env[i].name = arena_strdup(p->a, src->env[i].name);
		dst->env[i].value = arena_strdup(p->a, src->env[i].value);
	}
	dst->out = pack_output(p, &src->out);
	dst->err = pack_output(p, &src->err);
	dst->stdin_queue = arena_strdup(p->a, src->stdin_queue);
	dst->deps = pack_deps(p, src->deps, src->ndeps);
	dst->ready.regex = arena_strdup(p->a, src->ready.regex);
	dst->ready.argv = pack_argv(p, src->ready.argv, SIZE_MAX);
	dst->ready.host = arena_strdup(p->a, src->ready.host);
	dst->ready.port = arena_strdup(p->a, src->ready.port);
	dst->ready.path = arena_strdup(p->a, src->ready.path);
	dst->user = arena_strdup(p->a, src->user);
	dst->group = arena_strdup(p->a, src->group);
}

/* One task, into dst (already a copy by value of src). */
static void
pack_task(struct pack *p, struct task_spec *dst, const struct task_spec *src)
{
	dst->name = arena_strdup(p->a, src->name);
	dst->run = pack_script(p, src->run);
	dst->on_cancel = pack_script(p, src->on_cancel);
	dst->out = pack_output(p, &src->out);
	dst->deps = pack_deps(p, src->deps, src->ndeps);
}

/* One queue, into dst (already a copy by value of src). */
static void
pack_queue(struct pack *p, struct queue_spec *dst,
    const struct queue_spec *src)
{
	dst->name = arena_strdup(p->a, src->name);
	dst->url = arena_strdup(p->a, src->url);
	dst->stream = arena_strdup(p->a, src->stream);
	dst->group = arena_strdup(p->a, src->group);
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
	c->file = arena_strdup(p.a, m->file);
	c->procs = PACK_ARRAY(&p, m->procs, m->nprocs, struct proc_spec);
	for (i = 0; i < m->nprocs; i++)
		pack_proc(&p, &c->procs[i], &m->procs[i]);
	c->tasks = PACK_ARRAY(&p, m->tasks, m->ntasks, struct task_spec);
	for (i = 0; i < m->ntasks; i++)
		pack_task(&p, &c->tasks[i], &m->tasks[i]);
	c->queues = PACK_ARRAY(&p, m->queues, m->nqueues, struct queue_spec);
	for (i = 0; i < m->nqueues; i++)
		pack_queue(&p, &c->queues[i], &m->queues[i]);
	manifest_free(m);
	return c;
}
