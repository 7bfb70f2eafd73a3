/*
 * Unit tests of manifest_pack: every good fixture and example config,
 * loaded unpacked and packed, is the same manifest field by field (steps
 * down to their words), prints the same, and the packed one stands alone
 * once the unpacked one is freed (the sanitizer build catches a pointer
 * left behind, and LeakSanitizer a part not freed in either form).
 */
#include "config.h"

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "buf.h"
#include "diag.h"
#include "manifest.h"
#include "manifest-yaml.h"
#include "script.h"
#include "xmalloc.h"

/* The whole file at path (caller frees), its length in *len. */
static char *
read_file(const char *path, size_t *len)
{
	struct buf	 b;
	FILE		*fp;
	char		 chunk[4096];
	size_t		 n;

	fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open %s", path);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(&b, chunk, n);
	fclose(fp);
	*len = buf_used(&b);
	return buf_steal(&b);
}

/* What manifest_print writes (caller frees). */
static char *
print(const struct manifest *m)
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*fp;

	fp = open_memstream(&text, &len);
	assert_non_null(fp);
	manifest_print(m, fp);
	fclose(fp);
	return text;
}

/* Two optional strings are equal, and the copy is not the original. */
static void
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL) {
		assert_ptr_equal(a, b);
		return;
	}
	assert_string_equal(a, b);
	assert_ptr_not_equal(a, b);
}

static void
same_loc(const struct loc *a, const struct loc *b)
{
	assert_int_equal(a->line, b->line);
	assert_int_equal(a->col, b->col);
}

static void
same_output(const struct output *a, const struct output *b)
{
	size_t	i;

	assert_int_equal(a->ndests, b->ndests);
	for (i = 0; i < a->ndests; i++) {
		assert_int_equal(a->dests[i].kind, b->dests[i].kind);
		same_str(a->dests[i].name, b->dests[i].name);
		assert_int_equal(a->dests[i].max_size, b->dests[i].max_size);
		assert_int_equal(a->dests[i].backups, b->dests[i].backups);
		/* The shared default inherit is at 0:0 (see manifest.h). */
		if (a->ndests > 1 || a->dests[i].kind != DEST_INHERIT)
			same_loc(&a->dests[i].loc, &b->dests[i].loc);
	}
}

static void
same_deps(const struct dep *a, size_t na, const struct dep *b, size_t nb)
{
	size_t	i;

	assert_int_equal(na, nb);
	for (i = 0; i < na; i++) {
		same_str(a[i].name, b[i].name);
		assert_int_equal(a[i].cond, b[i].cond);
		same_loc(&a[i].loc, &b[i].loc);
	}
}

static void
same_argv(char **a, char **b)
{
	size_t	i;

	if (a == NULL || b == NULL) {
		assert_ptr_equal(a, b);
		return;
	}
	for (i = 0; a[i] != NULL; i++)
		same_str(a[i], b[i]);
	assert_null(b[i]);
}

static void	same_script(const struct script *, const struct script *);

/* Every field of a parsed step, its words part by part. */
static void
same_step(const struct step *a, const struct step *b)
{
	size_t	i, j;

	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->line, b->line);
	assert_int_equal(a->col, b->col);
	assert_int_equal(a->builtin, b->builtin);
	same_str(a->text, b->text);
	assert_int_equal(a->nwords, b->nwords);
	for (i = 0; i < a->nwords; i++) {
		assert_int_equal(a->words[i].col, b->words[i].col);
		assert_int_equal(a->words[i].nparts, b->words[i].nparts);
		for (j = 0; j < a->words[i].nparts; j++) {
			assert_int_equal(a->words[i].parts[j].kind,
			    b->words[i].parts[j].kind);
			assert_int_equal(a->words[i].parts[j].len,
			    b->words[i].parts[j].len);
			assert_memory_equal(a->words[i].parts[j].text,
			    b->words[i].parts[j].text,
			    a->words[i].parts[j].len + 1);
		}
	}
	assert_int_equal(a->duration_ms, b->duration_ms);
	assert_int_equal(a->has_duration, b->has_duration);
	assert_int_equal(a->count, b->count);
	same_str(a->var, b->var);
	same_str(a->queue, b->queue);
	same_str(a->unit, b->unit);
	assert_int_equal(a->signal, b->signal);
	same_script(a->body, b->body);
}

static void
same_script(const struct script *a, const struct script *b)
{
	size_t	i;

	if (a == NULL || b == NULL) {
		assert_ptr_equal(a, b);
		return;
	}
	assert_int_equal(a->nsteps, b->nsteps);
	for (i = 0; i < a->nsteps; i++)
		same_step(&a->steps[i], &b->steps[i]);
}

/* u (unpacked) and p (packed) are the same manifest, field by field. */
static void
same_manifest(const struct manifest *u, const struct manifest *p)
{
	const struct proc_spec	*up, *pp;
	const struct task_spec	*ut, *pt;
	size_t			 i;

	assert_null(u->arena);
	assert_non_null(p->arena);
	same_str(u->file, p->file);
	assert_int_equal(u->version, p->version);
	assert_int_equal(u->drain_timeout_ms, p->drain_timeout_ms);
	assert_int_equal(u->nprocs, p->nprocs);
	assert_int_equal(u->ntasks, p->ntasks);
	assert_int_equal(u->nqueues, p->nqueues);
	for (i = 0; i < u->nprocs; i++) {
		up = &u->procs[i];
		pp = &p->procs[i];
		assert_true(manifest_proc_equal(up, pp));
		same_loc(&up->loc, &pp->loc);
		same_loc(&up->stdin_loc, &pp->stdin_loc);
		same_loc(&up->ready.loc, &pp->ready.loc);
		same_str(up->name, pp->name);
		same_argv(up->argv, pp->argv);
		same_argv(up->ready.argv, pp->ready.argv);
		same_str(up->ready.regex, pp->ready.regex);
		same_str(up->ready.host, pp->ready.host);
		same_str(up->ready.port, pp->ready.port);
		same_str(up->ready.path, pp->ready.path);
		assert_int_equal(up->ready.kind, pp->ready.kind);
		assert_int_equal(up->ready.fd, pp->ready.fd);
		assert_int_equal(up->ready.timeout_ms, pp->ready.timeout_ms);
		same_output(&up->out, &pp->out);
		same_output(&up->err, &pp->err);
		same_deps(up->deps, up->ndeps, pp->deps, pp->ndeps);
		assert_memory_equal(up->limits, pp->limits, sizeof up->limits);
	}
	for (i = 0; i < u->ntasks; i++) {
		ut = &u->tasks[i];
		pt = &p->tasks[i];
		assert_true(manifest_task_equal(ut, pt));
		same_str(ut->name, pt->name);
		same_loc(&ut->loc, &pt->loc);
		same_script(ut->run, pt->run);
		same_script(ut->on_cancel, pt->on_cancel);
		same_output(&ut->out, &pt->out);
		same_deps(ut->deps, ut->ndeps, pt->deps, pt->ndeps);
	}
	for (i = 0; i < u->nqueues; i++) {
		assert_true(manifest_queue_equal(&u->queues[i],
		    &p->queues[i]));
		same_loc(&u->queues[i].loc, &p->queues[i].loc);
		same_str(u->queues[i].name, p->queues[i].name);
	}
}

/*
 * Load the file at path both ways and compare; then free the unpacked
 * one and print the packed one, which must not point into it.
 */
static void
check_file(const char *path)
{
	struct manifest	*u, *p;
	struct diag	 d;
	char		*data, *pu, *pp;
	size_t		 len;

	data = read_file(path, &len);
	diag_init(&d, path);
	u = manifest_yaml_load(path, data, len, &d);
	if (u == NULL) {
		diag_print(&d, stderr);
		fail_msg("%s does not load", path);
	}
	p = manifest_pack(manifest_yaml_load(path, data, len, &d));
	diag_release(&d);
	same_manifest(u, p);
	pu = print(u);
	manifest_free(u);
	pp = print(p);
	assert_string_equal(pu, pp);
	/* Packing a packed manifest is a no-op. */
	assert_ptr_equal(manifest_pack(p), p);
	manifest_free(p);
	free(pu);
	free(pp);
	free(data);
}

/* Every *.yaml in the source tree's directory dir. */
static size_t
check_dir(const char *dir)
{
	struct dirent	*e;
	DIR		*dp;
	char		*path;
	size_t		 n = 0, len;

	path = xasprintf("%s/%s", TOP_SRCDIR, dir);
	dp = opendir(path);
	if (dp == NULL)
		fail_msg("cannot open %s", path);
	free(path);
	while ((e = readdir(dp)) != NULL) {
		len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0)
			continue;
		path = xasprintf("%s/%s/%s", TOP_SRCDIR, dir, e->d_name);
		check_file(path);
		free(path);
		n++;
	}
	closedir(dp);
	return n;
}

static void
test_fixtures(void **state)
{
	/* creates-file.yaml needs it, as tests/e2e/check.sh gives it. */
	setenv("PYT_CHECK_MARKER", "/tmp/pyt-marker", 0);
	assert_true(check_dir("tests/fixtures/good") >= 5);
	assert_true(check_dir("configs") >= 3);
}

/* What the fixtures may lack: every ready kind, a tee, nested blocks. */
static void
test_rich(void **state)
{
	static const char	*text =
	    "version: 1\n"
	    "queues:\n"
	    "  q: {capacity: 5}\n"
	    "  r: {backend: redis, url: 'redis://:pw@h:1/2', stream: s}\n"
	    "processes:\n"
	    "  a:\n"
	    "    cmd: [x, 'y z']\n"
	    "    env: {A: 1, B: ''}\n"
	    "    stdout: [q, inherit, {file: /tmp/f, max_size: 1k}]\n"
	    "    stderr: null\n"
	    "    ready: {exec: [probe, -v], interval: 2s}\n"
	    "    limits: {nofile: 100, core: 0}\n"
	    "    umask: '027'\n"
	    "    user: nobody\n"
	    "    group: nogroup\n"
	    "  b: {shell: 'read l', stdin: q, ready: {line: '^up$'}}\n"
	    "  c: {cmd: [c], ready: {http: 'http://[::1]:81/h'},"
	    " depends_on: {a: ready}}\n"
	    "  d: {cmd: [d], ready: {fd: 4}, depends_on: [c]}\n"
	    "tasks:\n"
	    "  t:\n"
	    "    depends_on: {a: started}\n"
	    "    stdout: q\n"
	    "    run:\n"
	    "      - 'echo \"a$1b\" ${index} x''y'''\n"
	    "      - repeat 3:\n"
	    "          - for l in q:\n"
	    "              - put q \"$l\"\n"
	    "              - sleep 10ms\n"
	    "          - every 1s:\n"
	    "              - break\n"
	    "      - loop:\n"
	    "          - get q v 1s\n"
	    "          - set w $v.$v\n"
	    "          - signal a HUP\n"
	    "          - exit 3\n"
	    "    on_cancel: [echo bye]\n"
	    "  u: {run: [start t, wait t, cancel t, restart t]}\n";
	struct manifest		*u, *p;
	struct diag		 d;

	diag_init(&d, "t.yaml");
	u = manifest_yaml_load("t.yaml", text, strlen(text), &d);
	if (u == NULL) {
		diag_print(&d, stderr);
		fail();
	}
	p = manifest_load_buffer("t.yaml", text, strlen(text), &d);
	assert_non_null(p);
	diag_release(&d);
	same_manifest(u, p);
	manifest_free(u);
	manifest_free(p);
}

/*
 * The benchmark's idle task, many times: the default output is one copy,
 * and a task costs a few hundred bytes of arena, no malloc.
 */
static void
test_small_tasks(void **state)
{
	struct manifest	*m;
	struct diag	 d;
	struct buf	 b;
	size_t		 i, n = 1000;

	buf_init(&b);
	buf_adds(&b, "version: 1\ntasks:\n");
	for (i = 0; i < n; i++)
		buf_addf(&b, "  t%zu: {run: [sleep 1h]}\n", i);
	diag_init(&d, "t.yaml");
	m = manifest_load_buffer("t.yaml", buf_ptr(&b), buf_used(&b), &d);
	assert_non_null(m);
	assert_int_equal(m->ntasks, n);
	assert_ptr_equal(m->tasks[0].out.dests, m->tasks[n - 1].out.dests);
	assert_int_equal(m->tasks[n - 1].out.dests[0].kind, DEST_INHERIT);
	assert_string_equal(m->tasks[n - 1].run->steps[0].text, "sleep 1h");
	assert_true(arena_size(m->arena) / n < 400);
	manifest_free(m);
	diag_release(&d);
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_rich),
		cmocka_unit_test(test_small_tasks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
