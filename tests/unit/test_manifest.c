/*
 * Unit tests of the manifest loader and checker, from YAML in memory:
 * every field and default of good manifests, the exact message of every
 * kind of error, the warnings about queues, the loader's limits against
 * hostile files, and that the printed manifest loads back the same.
 */
#include "config.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "diag.h"
#include "manifest.h"
#include "manifest-yaml.h"
#include "script.h"
#include "xmalloc.h"

/* Load text as "t.yaml"; the diag is left for the caller to inspect. */
static struct manifest *
load(const char *text, struct diag *d)
{
	diag_init(d, "t.yaml");
	return manifest_load_buffer("t.yaml", text, strlen(text), d);
}

/* Everything written to fp, which is closed (caller frees). */
static char *
slurp(FILE *fp)
{
	struct buf	 b;
	char		 chunk[4096];
	size_t		 n;

	rewind(fp);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(&b, chunk, n);
	fclose(fp);
	return buf_steal(&b);
}

/* What diag_print writes, as a string (caller frees). */
static char *
printed(struct diag *d)
{
	FILE	*fp;

	fp = tmpfile();
	assert_non_null(fp);
	diag_print(d, fp);
	return slurp(fp);
}

/* Loading text must succeed without any diagnostic. */
static struct manifest *
load_ok(const char *text)
{
	struct diag	 d;
	struct manifest	*m;
	char		*out;

	m = load(text, &d);
	out = printed(&d);
	if (m == NULL || d.nitems != 0)
		fail_msg("unexpected diagnostics:\n%s", out);
	free(out);
	diag_release(&d);
	return m;
}

/* Loading text must fail and print exactly want. */
static void
expect_diag(const char *text, const char *want)
{
	struct diag	 d;
	struct manifest	*m;
	char		*out;

	m = load(text, &d);
	assert_null(m);
	out = printed(&d);
	/* In full on stderr: cmocka cuts long messages. */
	if (strcmp(out, want) != 0) {
		fprintf(stderr, "for:\n%s\nwant:\n%s\ngot:\n%s", text, want,
		    out);
		fail();
	}
	free(out);
	diag_release(&d);
}

/* Loading text must succeed, with exactly want printed (warnings). */
static void
expect_warnings(const char *text, const char *want)
{
	struct diag	 d;
	struct manifest	*m;
	char		*out;

	m = load(text, &d);
	out = printed(&d);
	if (m == NULL || strcmp(out, want) != 0)
		fail_msg("for:\n%s\nwant:\n%s\ngot:\n%s", text, want, out);
	assert_int_equal(d.nerrors, 0);
	free(out);
	diag_release(&d);
	manifest_free(m);
}

/* ---------------------------------------------------------------- good */

/* The smallest manifest: version only, every top-level default. */
static void
test_minimal(void **state)
{
	struct manifest	*m;
	char		 sum[64];

	m = load_ok("version: 1\n");
	assert_int_equal(m->version, 1);
	assert_string_equal(m->file, "t.yaml");
	assert_int_equal(m->drain_timeout_ms, MANIFEST_DEFAULT_DRAIN_TIMEOUT_MS);
	assert_int_equal(m->nprocs, 0);
	assert_int_equal(m->ntasks, 0);
	assert_int_equal(m->nqueues, 0);
	manifest_summary(m, sum, sizeof sum);
	assert_string_equal(sum, "0 processes, 0 tasks, 0 queues");
	manifest_free(m);

	m = load_ok("version: 1\nprocesses:\ntasks: ~\nqueues: {}\n"
	    "drain_timeout: 1m\n");
	assert_int_equal(m->drain_timeout_ms, 60000);
	manifest_free(m);
}

/* A process given only cmd gets every default. */
static void
test_process_defaults(void **state)
{
	struct manifest		*m;
	struct proc_spec	*p;

	m = load_ok("version: 1\nprocesses:\n  web:\n    cmd: [python3, "
	    "-m, http.server, 8000]\n");
	assert_int_equal(m->nprocs, 1);
	p = &m->procs[0];
	assert_string_equal(p->name, "web");
	assert_int_equal(p->loc.line, 3);
	assert_int_equal(p->loc.col, 3);
	assert_int_equal(p->argc, 4);
	assert_string_equal(p->argv[0], "python3");
	assert_string_equal(p->argv[1], "-m");
	assert_string_equal(p->argv[2], "http.server");
	assert_string_equal(p->argv[3], "8000");
	assert_null(p->argv[4]);
	assert_null(p->shell);
	assert_null(p->cwd);
	assert_int_equal(p->nenv, 0);
	assert_true(p->autostart);
	assert_int_equal(p->restart.policy, RESTART_NEVER);
	assert_int_equal(p->restart.backoff.initial_ms,
	    MANIFEST_DEFAULT_BACKOFF_INITIAL_MS);
	assert_int_equal(p->restart.backoff.max_ms,
	    MANIFEST_DEFAULT_BACKOFF_MAX_MS);
	assert_true(p->restart.max_restarts == MANIFEST_UNLIMITED);
	assert_int_equal(p->stop_signal, SIGTERM);
	assert_int_equal(p->stop_timeout_ms, MANIFEST_DEFAULT_STOP_TIMEOUT_MS);
	assert_int_equal(p->out.ndests, 1);
	assert_int_equal(p->out.dests[0].kind, DEST_INHERIT);
	assert_null(p->out.dests[0].name);
	assert_int_equal(p->err.ndests, 1);
	assert_int_equal(p->err.dests[0].kind, DEST_INHERIT);
	assert_null(p->stdin_queue);
	assert_int_equal(p->replicas, 1);
	assert_ptr_equal(manifest_find_proc(m, "web"), p);
	assert_null(manifest_find_proc(m, "nope"));
	assert_null(manifest_find_task(m, "web"));
	manifest_free(m);
}

/* Every process key, set to something other than its default. */
static void
test_process_all_keys(void **state)
{
	struct manifest		*m;
	struct proc_spec	*p;

	m = load_ok(
	    "version: 1\n"
	    "queues: {in: {}, out: {}, errs: {}}\n"
	    "processes:\n"
	    "  w:\n"
	    "    shell: 'echo \"$HOME\" ${X} $$'\n"
	    "    cwd: /srv\n"
	    "    env: {DEBUG: 1, NAME: web, ON: true, EMPTY: \"\"}\n"
	    "    autostart: false\n"
	    "    restart: on-failure\n"
	    "    backoff: {initial: 250ms, max: 1m}\n"
	    "    max_restarts: 5\n"
	    "    stop_signal: SIGINT\n"
	    "    stop_timeout: 1.5s\n"
	    "    stdout: [out, inherit, \"file:/tmp/w.log\", null]\n"
	    "    stderr: errs\n"
	    "    stdin: in\n"
	    "    replicas: 4\n"
	    "  r:\n"
	    "    cmd: [cat]\n"
	    "    stdin: out\n"
	    "    stdout: ~\n"
	    "    stderr: file:/var/log/r.log\n"
	    "    restart: always\n"
	    "    max_restarts: 0\n"
	    "    stop_signal: 9\n"
	    "  e:\n"
	    "    cmd: [cat]\n"
	    "    stdin: errs\n"
	    "    stop_signal: hup\n"
	    "    stop_timeout: 2\n"
	    "    max_restarts: unlimited\n"
	    "  src: {cmd: [yes], stdout: in}\n");
	assert_int_equal(m->nprocs, 4);
	p = &m->procs[0];
	assert_null(p->argv);
	assert_string_equal(p->shell, "echo \"$HOME\" ${X} $$");
	assert_string_equal(p->cwd, "/srv");
	assert_int_equal(p->nenv, 4);
	assert_string_equal(p->env[0].name, "DEBUG");
	assert_string_equal(p->env[0].value, "1");
	assert_string_equal(p->env[1].name, "NAME");
	assert_string_equal(p->env[1].value, "web");
	assert_string_equal(p->env[2].value, "true");
	assert_string_equal(p->env[3].name, "EMPTY");
	assert_string_equal(p->env[3].value, "");
	assert_false(p->autostart);
	assert_int_equal(p->restart.policy, RESTART_ON_FAILURE);
	assert_int_equal(p->restart.backoff.initial_ms, 250);
	assert_int_equal(p->restart.backoff.max_ms, 60000);
	assert_int_equal(p->restart.max_restarts, 5);
	assert_int_equal(p->stop_signal, SIGINT);
	assert_int_equal(p->stop_timeout_ms, 1500);
	assert_int_equal(p->out.ndests, 4);
	assert_int_equal(p->out.dests[0].kind, DEST_QUEUE);
	assert_string_equal(p->out.dests[0].name, "out");
	assert_int_equal(p->out.dests[0].loc.line, 14);
	assert_int_equal(p->out.dests[0].loc.col, 14);
	assert_int_equal(p->out.dests[1].kind, DEST_INHERIT);
	assert_int_equal(p->out.dests[2].kind, DEST_FILE);
	assert_string_equal(p->out.dests[2].name, "/tmp/w.log");
	assert_int_equal(p->out.dests[3].kind, DEST_NULL);
	assert_int_equal(p->err.ndests, 1);
	assert_int_equal(p->err.dests[0].kind, DEST_QUEUE);
	assert_string_equal(p->err.dests[0].name, "errs");
	assert_string_equal(p->stdin_queue, "in");
	assert_int_equal(p->stdin_loc.line, 16);
	assert_int_equal(p->stdin_loc.col, 12);
	assert_int_equal(p->replicas, 4);

	p = &m->procs[1];
	assert_int_equal(p->argc, 1);
	assert_int_equal(p->out.ndests, 1);
	assert_int_equal(p->out.dests[0].kind, DEST_NULL);
	assert_int_equal(p->err.dests[0].kind, DEST_FILE);
	assert_string_equal(p->err.dests[0].name, "/var/log/r.log");
	assert_int_equal(p->restart.policy, RESTART_ALWAYS);
	assert_int_equal(p->restart.max_restarts, 0);
	assert_int_equal(p->stop_signal, SIGKILL);

	p = &m->procs[2];
	assert_int_equal(p->stop_signal, SIGHUP);
	assert_int_equal(p->stop_timeout_ms, 2000);
	assert_true(p->restart.max_restarts == MANIFEST_UNLIMITED);
	assert_ptr_equal(manifest_find_proc(m, "e"), p);
	manifest_free(m);
}

/* Durations: units, fractions, bare and YAML numbers are seconds. */
static void
test_durations(void **state)
{
	static const struct {
		const char	*text;
		uint64_t	 ms;
	} cases[] = {
		{ "250ms", 250 }, { "1.5s", 1500 }, { "2m", 120000 },
		{ "1h", 3600000 }, { "3", 3000 }, { "0.25", 250 },
		{ "\"7s\"", 7000 }, { "0", 0 }, { "'10'", 10000 },
	};
	struct manifest	*m;
	char		 text[256];
	size_t		 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(text, sizeof text, "version: 1\nprocesses:\n  a: "
		    "{cmd: [x], stop_timeout: %s}\n", cases[i].text);
		m = load_ok(text);
		assert_int_equal(m->procs[0].stop_timeout_ms, cases[i].ms);
		manifest_free(m);
	}
}

/* Strings take ${VAR} and ${VAR:-default}; shell: is left alone. */
static void
test_interpolation(void **state)
{
	struct manifest		*m;
	struct proc_spec	*p;

	setenv("PYT_TEST_DIR", "/data", 1);
	setenv("PYT_TEST_Q", "lines", 1);
	setenv("PYT_TEST_T", "3s", 1);
	unsetenv("PYT_TEST_UNSET");
	m = load_ok(
	    "version: 1\n"
	    "queues: {lines: {}}\n"
	    "processes:\n"
	    "  a:\n"
	    "    cmd: [ls, \"${PYT_TEST_DIR}/x\", "
	    "'${PYT_TEST_UNSET:-/def}', $$HOME, a$b]\n"
	    "    cwd: ${PYT_TEST_DIR}\n"
	    "    env: {P: \"${PYT_TEST_DIR}:${PYT_TEST_UNSET:-}\"}\n"
	    "    stdout: ${PYT_TEST_Q}\n"
	    "    stderr: file:${PYT_TEST_DIR}/err.log\n"
	    "    stop_timeout: ${PYT_TEST_T}\n"
	    "  b:\n"
	    "    shell: echo ${PYT_TEST_UNSET} $$ $PYT_TEST_DIR\n"
	    "    stdin: ${PYT_TEST_Q}\n");
	p = &m->procs[0];
	assert_string_equal(p->argv[1], "/data/x");
	assert_string_equal(p->argv[2], "/def");
	assert_string_equal(p->argv[3], "$HOME");
	assert_string_equal(p->argv[4], "a$b");
	assert_string_equal(p->cwd, "/data");
	assert_string_equal(p->env[0].value, "/data:");
	assert_int_equal(p->out.dests[0].kind, DEST_QUEUE);
	assert_string_equal(p->out.dests[0].name, "lines");
	assert_string_equal(p->err.dests[0].name, "/data/err.log");
	assert_int_equal(p->stop_timeout_ms, 3000);
	p = &m->procs[1];
	assert_string_equal(p->shell, "echo ${PYT_TEST_UNSET} $$ "
	    "$PYT_TEST_DIR");
	assert_string_equal(p->stdin_queue, "lines");
	manifest_free(m);

	/*
	 * The column of an error is that of its "$" inside the value, or the
	 * value's own when escapes make the two differ ('' here).
	 */
	expect_diag(
	    "version: 1\n"
	    "processes:\n"
	    "  a:\n"
	    "    cmd: [ls, \"x/${PYT_TEST_UNSET}\"]\n"
	    "    cwd: a${\n"
	    "    env: {A: 'it''s ${PYT_TEST_UNSET}'}\n",
	    "t.yaml:4:18: processes.a.cmd[1]: variable PYT_TEST_UNSET is not "
	    "set (write ${PYT_TEST_UNSET:-default} to give a default)\n"
	    "t.yaml:5:11: processes.a.cwd: unterminated ${ (write $$ for a "
	    "literal $)\n"
	    "t.yaml:6:14: processes.a.env.A: variable PYT_TEST_UNSET is not "
	    "set (write ${PYT_TEST_UNSET:-default} to give a default)\n");
	unsetenv("PYT_TEST_DIR");
	unsetenv("PYT_TEST_Q");
	unsetenv("PYT_TEST_T");
}

/* Queues: null and {} mean every default; each key set. */
static void
test_queues(void **state)
{
	struct manifest		*m;
	struct queue_spec	*q;

	m = load_ok(
	    "version: 1\n"
	    "queues:\n"
	    "  a: {}\n"
	    "  b:\n"
	    "  c: {capacity: 10, mode: broadcast, overflow: drop-oldest}\n"
	    "  d: {mode: share, overflow: drop-newest}\n"
	    "  e: {overflow: block}\n"
	    "processes:\n"
	    "  p: {cmd: [x], stdout: [a, b, c, d, e]}\n"
	    "  c1: {cmd: [x], stdin: a}\n"
	    "  c2: {cmd: [x], stdin: b}\n"
	    "  c3: {cmd: [x], stdin: c}\n"
	    "  c4: {cmd: [x], stdin: d}\n"
	    "  c5: {cmd: [x], stdin: e}\n");
	assert_int_equal(m->nqueues, 5);
	q = &m->queues[0];
	assert_string_equal(q->name, "a");
	assert_int_equal(q->loc.line, 3);
	assert_int_equal(q->loc.col, 3);
	assert_int_equal(q->capacity, QUEUE_DEFAULT_CAPACITY);
	assert_int_equal(q->mode, QUEUE_SHARE);
	assert_int_equal(q->overflow, QUEUE_BLOCK);
	q = &m->queues[1];
	assert_int_equal(q->capacity, QUEUE_DEFAULT_CAPACITY);
	assert_int_equal(q->mode, QUEUE_SHARE);
	q = &m->queues[2];
	assert_int_equal(q->capacity, 10);
	assert_int_equal(q->mode, QUEUE_BROADCAST);
	assert_int_equal(q->overflow, QUEUE_DROP_OLDEST);
	assert_int_equal(m->queues[3].overflow, QUEUE_DROP_NEWEST);
	assert_int_equal(m->queues[4].overflow, QUEUE_BLOCK);
	assert_ptr_equal(manifest_find_queue(m, "c"), &m->queues[2]);
	assert_null(manifest_find_queue(m, "z"));
	manifest_free(m);
}

/* Tasks: steps, blocks, on_cancel and every default. */
static void
test_tasks(void **state)
{
	struct manifest		*m;
	struct task_spec	*t;
	struct step		*st;

	m = load_ok(
	    "version: 1\n"
	    "queues:\n"
	    "  hellos: {}\n"
	    "processes:\n"
	    "  hello:\n"
	    "    shell: 'while :; do echo \"Hello World!\"; sleep 1.5; done'\n"
	    "    stdout: hellos\n"
	    "tasks:\n"
	    "  ping:\n"
	    "    autostart: false\n"
	    "    run:\n"
	    "      - loop:\n"
	    "          - echo Ping!\n"
	    "          - sleep 1s\n"
	    "          - echo Pong!\n"
	    "    on_cancel:\n"
	    "      - echo Pang!\n"
	    "  main:\n"
	    "    run:\n"
	    "      - loop:\n"
	    "          - start ping\n"
	    "          - sleep 0.5s\n"
	    "          - cancel ping\n"
	    "  reader:\n"
	    "    restart: on-failure\n"
	    "    backoff: {initial: 1s, max: 1s}\n"
	    "    max_restarts: 2\n"
	    "    cancel_timeout: 250ms\n"
	    "    stdout: null\n"
	    "    run:\n"
	    "      - repeat 5:\n"
	    "          - get hellos line\n"
	    "          - echo \"$line ${HOME_NOT_INTERPOLATED}\"\n"
	    "      - cancel hello\n");
	assert_int_equal(m->ntasks, 3);
	t = &m->tasks[0];
	assert_string_equal(t->name, "ping");
	assert_int_equal(t->loc.line, 9);
	assert_int_equal(t->loc.col, 3);
	assert_false(t->autostart);
	assert_int_equal(t->restart.policy, RESTART_NEVER);
	assert_int_equal(t->restart.backoff.initial_ms,
	    MANIFEST_DEFAULT_BACKOFF_INITIAL_MS);
	assert_true(t->restart.max_restarts == MANIFEST_UNLIMITED);
	assert_int_equal(t->cancel_timeout_ms,
	    MANIFEST_DEFAULT_CANCEL_TIMEOUT_MS);
	assert_int_equal(t->out.ndests, 1);
	assert_int_equal(t->out.dests[0].kind, DEST_INHERIT);
	assert_int_equal(t->run->nsteps, 1);
	st = &t->run->steps[0];
	assert_int_equal(st->kind, STEP_LOOP);
	assert_int_equal(st->line, 12);
	assert_int_equal(st->col, 9);
	assert_int_equal(st->body->nsteps, 3);
	assert_int_equal(st->body->steps[0].builtin, BUILTIN_ECHO);
	assert_int_equal(st->body->steps[0].line, 13);
	assert_int_equal(st->body->steps[0].col, 13);
	assert_int_equal(st->body->steps[1].builtin, BUILTIN_SLEEP);
	assert_int_equal(st->body->steps[1].duration_ms, 1000);
	assert_non_null(t->on_cancel);
	assert_int_equal(t->on_cancel->nsteps, 1);
	assert_int_equal(t->on_cancel->steps[0].builtin, BUILTIN_ECHO);

	t = &m->tasks[1];
	assert_true(t->autostart);
	assert_null(t->on_cancel);
	assert_string_equal(t->run->steps[0].body->steps[0].unit, "ping");

	t = &m->tasks[2];
	assert_int_equal(t->restart.policy, RESTART_ON_FAILURE);
	assert_int_equal(t->restart.backoff.initial_ms, 1000);
	assert_int_equal(t->restart.max_restarts, 2);
	assert_int_equal(t->cancel_timeout_ms, 250);
	assert_int_equal(t->out.dests[0].kind, DEST_NULL);
	st = &t->run->steps[0];
	assert_int_equal(st->kind, STEP_REPEAT);
	assert_int_equal(st->count, 5);
	assert_string_equal(st->body->steps[0].queue, "hellos");
	/* Steps are not interpolated: $vars expand when the task runs. */
	assert_string_equal(st->body->steps[1].text,
	    "echo \"$line ${HOME_NOT_INTERPOLATED}\"");
	assert_string_equal(t->run->steps[1].unit, "hello");
	assert_ptr_equal(manifest_find_task(m, "reader"), t);
	manifest_free(m);
}

/* A task's queue and its stdout; for and put count as flow. */
static void
test_task_flow(void **state)
{
	struct manifest	*m;

	m = load_ok(
	    "version: 1\n"
	    "queues: {jobs: {}, results: {}}\n"
	    "tasks:\n"
	    "  seed:\n"
	    "    stdout: jobs\n"
	    "    run: [\"echo 1\", \"put jobs 2\"]\n"
	    "  work:\n"
	    "    run:\n"
	    "      - for j in jobs:\n"
	    "          - put results \"$j\"\n"
	    "  sink:\n"
	    "    run: [\"get results r 1s\"]\n");
	assert_int_equal(m->tasks[0].out.dests[0].kind, DEST_QUEUE);
	assert_string_equal(m->tasks[0].out.dests[0].name, "jobs");
	assert_int_equal(m->tasks[1].run->steps[0].kind, STEP_FOR);
	manifest_free(m);
}

/* Anchors and aliases work, and quoted names are plain names. */
static void
test_aliases(void **state)
{
	struct manifest	*m;

	m = load_ok(
	    "version: 1\n"
	    "processes:\n"
	    "  a: &base {cmd: [x], restart: always, stop_timeout: 1s}\n"
	    "  \"b\": *base\n"
	    "  d: {cmd: &cmd [y, z]}\n"
	    "  c: {cmd: *cmd, env: {K: &v val, L: *v}}\n");
	assert_int_equal(m->nprocs, 4);
	assert_string_equal(m->procs[1].name, "b");
	assert_int_equal(m->procs[1].restart.policy, RESTART_ALWAYS);
	assert_int_equal(m->procs[1].stop_timeout_ms, 1000);
	assert_string_equal(m->procs[3].argv[1], "z");
	assert_string_equal(m->procs[3].env[1].value, "val");
	manifest_free(m);
}

/* "2 processes, 1 task, 1 queue": singular and plural. */
static void
test_summary(void **state)
{
	struct manifest	*m;
	char		 sum[64];

	m = load_ok(
	    "version: 1\n"
	    "queues: {q: {}}\n"
	    "processes:\n"
	    "  a: {cmd: [x], stdout: q}\n"
	    "  b: {cmd: [x], stdin: q}\n"
	    "tasks: {t: {run: [echo]}}\n");
	manifest_summary(m, sum, sizeof sum);
	assert_string_equal(sum, "2 processes, 1 task, 1 queue");
	manifest_free(m);
	manifest_free(NULL);
	assert_string_equal(manifest_restart_name(RESTART_ON_FAILURE),
	    "on-failure");
}

/* Quoting for messages and YAML: escapes, and cutting long text. */
static void
test_quote(void **state)
{
	char	*q;

	q = manifest_quote("a\"b\\c\n\t\x01\x7f", 0);
	assert_string_equal(q, "\"a\\\"b\\\\c\\n\\t\\x01\\x7f\"");
	free(q);
	q = manifest_quote("abcdef", 3);
	assert_string_equal(q, "\"abc...\"");
	free(q);
	/* Never in the middle of a UTF-8 character. */
	q = manifest_quote("ab\xc3\xa9z", 3);
	assert_string_equal(q, "\"ab\xc3\xa9...\"");
	free(q);
	/* Bytes that are not UTF-8, and line breaks YAML would fold. */
	q = manifest_quote("\xff\xc3(\xe2\x80\xa8\xe2\x80\xa9\xc2\x85\xe2\x82\xac", 0);
	assert_string_equal(q, "\"\\xff\\xc3(\\L\\P\\N\xe2\x82\xac\"");
	free(q);
	/*
	 * C1 controls (U+0080 to U+009F), U+FFFE and U+FFFF: YAML refuses
	 * them raw, so the print of a manifest holding one would not load
	 * (found by make fuzz); U+00A0 and U+FFFD are characters.
	 */
	q = manifest_quote("\xc2\x80\xc2\x9b\xc2\xa0\xef\xbf\xbd\xef\xbf\xbe"
	    "\xef\xbf\xbf", 0);
	assert_string_equal(q, "\"\\x80\\x9b\xc2\xa0\xef\xbf\xbd\\uFFFE\\uFFFF\"");
	free(q);
}

/* A value from the environment that is not UTF-8 still prints as YAML. */
static void
test_print_not_utf8(void **state)
{
	struct manifest	*m, *m2;
	struct diag	 d;
	FILE		*fp;
	char		*text;

	setenv("PYT_TEST_LATIN1", "caf\xe9", 1);
	m = load_ok("version: 1\nprocesses:\n  a: {cmd: [echo, "
	    "\"${PYT_TEST_LATIN1}\"]}\n");
	assert_string_equal(m->procs[0].argv[1], "caf\xe9");
	fp = tmpfile();
	assert_non_null(fp);
	manifest_print(m, fp);
	text = slurp(fp);
	assert_non_null(strstr(text, "cmd: [\"echo\", \"caf\\xe9\"]"));
	diag_init(&d, "printed.yaml");
	m2 = manifest_load_buffer("printed.yaml", text, strlen(text), &d);
	assert_non_null(m2);
	assert_string_equal(m2->procs[0].argv[1], "caf\xc3\xa9");
	diag_release(&d);
	manifest_free(m2);
	manifest_free(m);
	free(text);
	unsetenv("PYT_TEST_LATIN1");
}

/*
 * manifest_print gives YAML that loads back to the same manifest: printing
 * the reloaded one gives the same text.
 */
static void
test_print_roundtrip(void **state)
{
	struct manifest	*m, *m2;
	struct diag	 d;
	FILE		*fp;
	char		*text, *text2;

	setenv("PYT_TEST_WORD", "hi \"there\"", 1);
	m = load_ok(
	    "version: 1\n"
	    "drain_timeout: 1.5s\n"
	    "queues: {\"q.1\": {capacity: 3, mode: broadcast}, true: {}}\n"
	    "processes:\n"
	    "  \"007\":\n"
	    "    cmd: [echo, \"${PYT_TEST_WORD}\", 'it''s', \"tab\\tnl\\n\", "
	    "\"\"]\n"
	    "    env: {\"A\": \"x: y\", B: \"#c\"}\n"
	    "    stdout: [q.1, \"true\", inherit]\n"
	    "    stderr: \"file:/tmp/a b\"\n"
	    "    stop_signal: USR1\n"
	    "    max_restarts: 3\n"
	    "    backoff: {initial: 0, max: 90s}\n"
	    "  null-ish:\n"
	    "    shell: 'echo \"$1\" # comment: here'\n"
	    "    stdin: q.1\n"
	    "    cwd: /\n"
	    "    replicas: 3\n"
	    "tasks:\n"
	    "  t:\n"
	    "    stdout: \"true\"\n"
	    "    run:\n"
	    "      - \"every 90s\":\n"
	    "          - for x in true:\n"
	    "              - \"echo 'a: b' \\\"$x\\\"\"\n"
	    "      - get true v\n"
	    "    on_cancel: [\"echo bye\"]\n");
	fp = tmpfile();
	assert_non_null(fp);
	manifest_print(m, fp);
	text = slurp(fp);

	diag_init(&d, "printed.yaml");
	m2 = manifest_load_buffer("printed.yaml", text, strlen(text), &d);
	if (m2 == NULL)
		fail_msg("printed manifest does not load:\n%s\n%s", text,
		    printed(&d));
	assert_int_equal(d.nitems, 0);
	diag_release(&d);
	assert_int_equal(m2->nprocs, 2);
	assert_string_equal(m2->procs[0].name, "007");
	assert_string_equal(m2->procs[0].argv[1], "hi \"there\"");
	assert_string_equal(m2->procs[0].argv[2], "it's");
	assert_string_equal(m2->procs[0].argv[3], "tab\tnl\n");
	assert_string_equal(m2->procs[0].argv[4], "");
	assert_int_equal(m2->procs[0].stop_signal, SIGUSR1);
	assert_int_equal(m2->procs[0].out.dests[1].kind, DEST_QUEUE);
	assert_string_equal(m2->procs[0].out.dests[1].name, "true");
	assert_string_equal(m2->procs[1].shell, "echo \"$1\" # comment: here");
	assert_int_equal(m2->drain_timeout_ms, 1500);
	assert_int_equal(m2->tasks[0].run->steps[0].duration_ms, 90000);

	fp = tmpfile();
	assert_non_null(fp);
	manifest_print(m2, fp);
	text2 = slurp(fp);
	assert_string_equal(text, text2);
	/* Every default is there. */
	assert_non_null(strstr(text, "    restart: never\n"));
	assert_non_null(strstr(text, "    autostart: true\n"));
	assert_non_null(strstr(text, "    stop_timeout: 10s\n"));
	assert_non_null(strstr(text, "    stop_signal: TERM\n"));
	assert_non_null(strstr(text, "    max_restarts: unlimited\n"));
	assert_non_null(strstr(text, "    cancel_timeout: 5s\n"));
	assert_non_null(strstr(text, "    stderr: inherit\n"));
	assert_non_null(strstr(text, "    overflow: block\n"));
	free(text);
	free(text2);
	manifest_free(m);
	manifest_free(m2);
	unsetenv("PYT_TEST_WORD");
}

/* ---------------------------------------------------------------- bad */

/* Type errors say what was expected and what was found. */
static void
test_bad_types(void **state)
{
	expect_diag("version: 1\nprocesses: [a, b]\n",
	    "t.yaml:2:12: processes: expected a mapping of names to "
	    "processes; got a sequence\n");
	expect_diag("version: 1\nprocesses:\n  web: python\n",
	    "t.yaml:3:8: processes.web: expected a mapping with cmd or shell; "
	    "got \"python\"\n");
	expect_diag("version: 1\nprocesses:\n  web:\n",
	    "t.yaml:3:7: processes.web: expected a mapping with cmd or shell; "
	    "got null\n");
	expect_diag("version: 1\nprocesses:\n  w:\n    cmd: python3 app.py\n",
	    "t.yaml:4:10: processes.w.cmd: expected a sequence of strings "
	    "such as [python3, app.py]; got \"python3 app.py\" (use shell: for "
	    "a command line)\n");
	expect_diag("version: 1\nprocesses:\n  w: {cmd: []}\n",
	    "t.yaml:3:12: processes.w.cmd: expected a non-empty sequence of "
	    "strings; got an empty sequence\n");
	expect_diag("version: 1\nprocesses:\n  w: {cmd: [a, [b], {c: d}, ~]}\n",
	    "t.yaml:3:16: processes.w.cmd[1]: expected a string; got a "
	    "sequence\n"
	    "t.yaml:3:21: processes.w.cmd[2]: expected a string; got a "
	    "mapping\n"
	    "t.yaml:3:29: processes.w.cmd[3]: expected a string; got null\n");
	expect_diag("version: 1\nprocesses:\n  w: {shell: [a]}\n",
	    "t.yaml:3:14: processes.w.shell: expected a command line; got a "
	    "sequence\n");
	expect_diag("version: 1\nprocesses:\n  w: {shell: ''}\n",
	    "t.yaml:3:14: processes.w.shell: expected a command line; got "
	    "\"\"\n");
	expect_diag("version: 1\nprocesses:\n  w: {shell: x, env: [A=1]}\n",
	    "t.yaml:3:22: processes.w.env: expected a mapping of names to "
	    "values; got a sequence\n");
	expect_diag("version: 1\nprocesses:\n  w: {shell: x, autostart: yes}\n",
	    "t.yaml:3:28: processes.w.autostart: expected true or false; "
	    "got \"yes\"\n");
	expect_diag("version: 1\nprocesses:\n  w: {shell: x, replicas: 0}\n",
	    "t.yaml:3:27: processes.w.replicas: expected an integer from 1 "
	    "to 10000; got 0\n");
	expect_diag("version: 1\nprocesses:\n  w: {shell: x, replicas: 1.5}\n",
	    "t.yaml:3:27: processes.w.replicas: expected an integer from 1 "
	    "to 10000; got 1.5\n");
	expect_diag("version: 1\nprocesses:\n  w: {shell: x, max_restarts: "
	    "many}\n",
	    "t.yaml:3:31: processes.w.max_restarts: expected an integer of 0 "
	    "or more, or unlimited; got \"many\"\n");
	expect_diag("version: 1\nprocesses:\n  w: {shell: x, backoff: 1s}\n",
	    "t.yaml:3:26: processes.w.backoff: expected a mapping such as "
	    "{initial: 100ms, max: 30s}; got \"1s\"\n");
	expect_diag("version: 1\nqueues: {q: 5}\n",
	    "t.yaml:2:13: queues.q: expected a mapping such as {capacity: "
	    "100}; got 5\n");
	expect_diag("version: 1\ntasks: {t: {run: echo hi}}\n",
	    "t.yaml:2:18: tasks.t.run: expected a non-empty sequence of "
	    "steps; got \"echo hi\"\n");
	expect_diag("version: 1\nprocesses:\n  w: {shell: x, stdout: {a: b}}\n",
	    "t.yaml:3:25: processes.w.stdout: expected inherit, null, "
	    "file:PATH, {file: PATH, max_size: SIZE, backups: N} or a queue "
	    "name; got a mapping\n");
}

/* Values out of their set or range. */
static void
test_bad_values(void **state)
{
	expect_diag("version: 1\nprocesses:\n  web:\n    shell: x\n"
	    "    restart: sometimes\n",
	    "t.yaml:5:14: processes.web.restart: expected one of never, "
	    "on-failure, always; got \"sometimes\"\n");
	expect_diag("version: 1\nprocesses:\n  web:\n    shell: x\n"
	    "    restart: on_failure\n",
	    "t.yaml:5:14: processes.web.restart: expected one of never, "
	    "on-failure, always; got \"on_failure\" (did you mean "
	    "\"on-failure\"?)\n");
	expect_diag("version: 1\nprocesses:\n  web:\n    shell: x\n"
	    "    stop_timeout: soon\n",
	    "t.yaml:5:19: processes.web.stop_timeout: expected a duration "
	    "such as 250ms, 1.5s or 2m; got \"soon\" (a duration starts with "
	    "a digit)\n");
	expect_diag("version: 1\nprocesses:\n  web:\n    shell: x\n"
	    "    stop_timeout: 5 s\n",
	    "t.yaml:5:19: processes.web.stop_timeout: expected a duration "
	    "such as 250ms, 1.5s or 2m; got \"5 s\" (unknown duration unit "
	    "(use ms, s, m or h))\n");
	expect_diag("version: 1\nprocesses:\n  web:\n    shell: x\n"
	    "    stop_signal: TERN\n",
	    "t.yaml:5:18: processes.web.stop_signal: expected a signal such "
	    "as TERM, INT or 15; got \"TERN\" (did you mean \"TERM\"?)\n");
	expect_diag("version: 1\nprocesses:\n  web:\n    shell: x\n"
	    "    stop_signal: 99\n",
	    "t.yaml:5:18: processes.web.stop_signal: expected a signal such "
	    "as TERM, INT or 15; got 99\n");
	expect_diag("version: 1\nprocesses:\n  w: {shell: x, backoff: "
	    "{initial: 1m, max: 2s}}\n",
	    "t.yaml:3:26: processes.w.backoff: initial (1m) is longer than "
	    "max (2s)\n");
	expect_diag("version: 1\nqueues:\n  q: {capacity: 0, mode: shared, "
	    "overflow: drop}\n",
	    "t.yaml:3:17: queues.q.capacity: expected an integer from 1 to "
	    "10000000; got 0\n"
	    "t.yaml:3:26: queues.q.mode: expected one of share, broadcast; "
	    "got \"shared\" (did you mean \"share\"?)\n"
	    "t.yaml:3:44: queues.q.overflow: expected one of block, "
	    "drop-oldest, drop-newest; got \"drop\"\n");
	expect_diag("version: 1\nprocesses:\n  w: {shell: x, stdout: "
	    "\"file:\", stderr: \"\", stdin: inherit}\n",
	    "t.yaml:3:25: processes.w.stdout: expected inherit, null, "
	    "file:PATH or a queue name; got \"file:\"\n"
	    "t.yaml:3:42: processes.w.stderr: expected inherit, null, "
	    "file:PATH or a queue name; got \"\"\n"
	    "t.yaml:3:53: processes.w.stdin: expected a queue name or null; "
	    "got \"inherit\"\n");
	expect_diag("version: 1\nprocesses:\n  w: {shell: x, env: {\"A=B\": 1, "
	    "C: ~}}\n",
	    "t.yaml:3:23: processes.w.env: invalid variable name \"A=B\": "
	    "letters, digits and _ only, not starting with a digit\n"
	    "t.yaml:3:36: processes.w.env.C: expected a string; got null\n");
}

/* version: missing, wrong, or not a number; the top level. */
static void
test_bad_version(void **state)
{
	expect_diag("processes: {}\n",
	    "t.yaml:1:1: missing key \"version\" (expected version: 1)\n");
	expect_diag("version: 2\n", "t.yaml:1:10: version: expected 1; got 2\n");
	expect_diag("version: one\n",
	    "t.yaml:1:10: version: expected 1; got \"one\"\n");
	expect_diag("version: [1]\n",
	    "t.yaml:1:10: version: expected 1; got a sequence\n");
	expect_diag("", "t.yaml: empty manifest: expected a mapping with "
	    "version: 1\n");
	expect_diag("# only a comment\n", "t.yaml: empty manifest: expected a "
	    "mapping with version: 1\n");
	expect_diag("- a\n- b\n", "t.yaml:1:1: expected a mapping with "
	    "version: 1 at the top level; got a sequence\n");
	expect_diag("version: 1\n---\nversion: 1\n",
	    "t.yaml:2:1: a manifest is one YAML document; found a second "
	    "one\n");
}

/* Unknown keys, with a suggestion when one is close. */
static void
test_unknown_keys(void **state)
{
	expect_diag("version: 1\nproceses: {}\n",
	    "t.yaml:2:1: unknown key \"proceses\" (did you mean "
	    "\"processes\"?)\n");
	expect_diag("version: 1\nxyzzy: 1\n",
	    "t.yaml:2:1: unknown key \"xyzzy\"\n");
	expect_diag("version: 1\nprocesses:\n  web:\n    shell: x\n"
	    "    restrat: always\n",
	    "t.yaml:5:5: processes.web: unknown key \"restrat\" (did you mean "
	    "\"restart\"?)\n");
	expect_diag("version: 1\nprocesses:\n  w: {shell: x, backoff: "
	    "{inital: 1s}}\n",
	    "t.yaml:3:27: processes.w.backoff: unknown key \"inital\" (did "
	    "you mean \"initial\"?)\n");
	expect_diag("version: 1\ntasks:\n  t: {run: [echo], on_cancle: "
	    "[echo]}\n",
	    "t.yaml:3:20: tasks.t: unknown key \"on_cancle\" (did you mean "
	    "\"on_cancel\"?)\n");
	expect_diag("version: 1\nqueues:\n  q: {capasity: 1}\n",
	    "t.yaml:3:7: queues.q: unknown key \"capasity\" (did you mean "
	    "\"capacity\"?)\n");
	/* Processes take no cancel_timeout, tasks no cmd. */
	expect_diag("version: 1\nprocesses:\n  w: {shell: x, cancel_timeout: "
	    "1s}\ntasks:\n  t: {run: [echo], stdin: q}\n",
	    "t.yaml:3:17: processes.w: unknown key \"cancel_timeout\"\n"
	    "t.yaml:5:20: tasks.t: unknown key \"stdin\"\n");
}

/* Duplicate keys, at every level, point at the first one. */
static void
test_duplicates(void **state)
{
	expect_diag("version: 1\nversion: 1\n",
	    "t.yaml:2:1: duplicate key \"version\" (first at line 1, column "
	    "1)\n");
	expect_diag("version: 1\nprocesses:\n  web: {shell: x}\n"
	    "  web: {shell: y}\n",
	    "t.yaml:4:3: processes: duplicate key \"web\" (first at line 3, "
	    "column 3)\n");
	expect_diag("version: 1\nprocesses:\n  web: {shell: x, shell: y}\n",
	    "t.yaml:3:19: processes.web: duplicate key \"shell\" (first at "
	    "line 3, column 9)\n");
	expect_diag("version: 1\nprocesses:\n  web: {shell: x, env: {A: 1, "
	    "A: 2}}\n",
	    "t.yaml:3:31: processes.web.env: duplicate key \"A\" (first at "
	    "line 3, column 25)\n");
}

/* cmd or shell, exactly one; a task needs run. */
static void
test_required(void **state)
{
	expect_diag("version: 1\nprocesses:\n  web:\n    cwd: /\n",
	    "t.yaml:3:3: processes.web: exactly one of cmd and shell is "
	    "required\n");
	expect_diag("version: 1\nprocesses:\n  web: {cmd: [a], shell: b}\n",
	    "t.yaml:3:3: processes.web: exactly one of cmd and shell is "
	    "required\n");
	expect_diag("version: 1\ntasks:\n  t: {autostart: false}\n",
	    "t.yaml:3:3: tasks.t: missing key \"run\" (the steps of the "
	    "task)\n");
}

/* Unit and queue names: charset, uniqueness, reserved words. */
static void
test_names(void **state)
{
	expect_diag("version: 1\nprocesses:\n  web: {shell: x}\n"
	    "tasks:\n  web: {run: [echo]}\n",
	    "t.yaml:5:3: tasks.web: name \"web\" is already used by "
	    "processes.web at line 3, column 3\n");
	expect_diag("version: 1\nprocesses:\n  \"web app\": {shell: x}\n"
	    "  \"\": {shell: x}\n",
	    "t.yaml:3:3: processes: invalid name \"web app\" (use letters, "
	    "digits, \"_\", \".\" and \"-\")\n"
	    "t.yaml:4:3: processes: invalid name \"\" (use letters, digits, "
	    "\"_\", \".\" and \"-\")\n");
	expect_diag("version: 1\nqueues:\n  inherit: {}\n  \"null\": {}\n"
	    "  \"file:x\": {}\n  a/b: {}\n",
	    "t.yaml:3:3: queues: \"inherit\" cannot name a queue (inherit, "
	    "null and file:PATH are other destinations)\n"
	    "t.yaml:4:3: queues: \"null\" cannot name a queue (inherit, null "
	    "and file:PATH are other destinations)\n"
	    "t.yaml:5:3: queues: \"file:x\" cannot name a queue (inherit, "
	    "null and file:PATH are other destinations)\n"
	    "t.yaml:6:3: queues: invalid name \"a/b\" (use letters, digits, "
	    "\"_\", \".\" and \"-\")\n");
	expect_diag("version: 1\nprocesses:\n  [a]: {shell: x}\n",
	    "t.yaml:3:3: processes: expected a name as key; got a sequence\n");
}

/* References to queues and units that do not exist. */
static void
test_unknown_refs(void **state)
{
	expect_diag("version: 1\nqueues: {lines: {}}\nprocesses:\n"
	    "  gen: {cmd: [seq], stdout: lnes}\n"
	    "  cat: {cmd: [cat], stdin: lines, stderr: [inherit, zzz]}\n",
	    "t.yaml:4:29: processes.gen.stdout: unknown queue \"lnes\" (did "
	    "you mean \"lines\"?)\n"
	    "t.yaml:5:53: processes.cat.stderr: unknown queue \"zzz\"\n");
	expect_diag("version: 1\nprocesses:\n  a: {shell: x, stdin: q}\n",
	    "t.yaml:3:24: processes.a.stdin: unknown queue \"q\" (no queues "
	    "are declared under queues:)\n");
	expect_diag("version: 1\nqueues: {jobs: {}}\n"
	    "processes: {web: {shell: x}}\n"
	    "tasks:\n"
	    "  t:\n"
	    "    stdout: jobz\n"
	    "    run:\n"
	    "      - start wbe\n"
	    "      - cancel webb\n"
	    "      - for x in jbos:\n"
	    "          - put jobs x\n"
	    "    on_cancel: [get nope v]\n",
	    "t.yaml:6:13: tasks.t.stdout: unknown queue \"jobz\" (did you mean "
	    "\"jobs\"?)\n"
	    "t.yaml:8:15: tasks.t.run: unknown process or task \"wbe\" (did "
	    "you mean \"web\"?)\n"
	    "t.yaml:9:16: tasks.t.run: unknown process or task \"webb\" (did "
	    "you mean \"web\"?)\n"
	    "t.yaml:10:18: tasks.t.run: unknown queue \"jbos\" (did you mean "
	    "\"jobs\"?)\n"
	    "t.yaml:12:21: tasks.t.on_cancel: unknown queue \"nope\"\n");
}

/* Step errors come from script.c, with the step's key path. */
static void
test_bad_steps(void **state)
{
	expect_diag("version: 1\ntasks:\n  t:\n    run:\n      - ehco hi\n"
	    "      - loop: []\n      - {a: [x], b: [y]}\n      - [echo]\n"
	    "      - ~\n      - loop: echo\n",
	    "t.yaml:5:9: tasks.t.run[0]: unknown builtin \"ehco\" (did you "
	    "mean \"echo\"?)\n"
	    "t.yaml:6:15: tasks.t.run[1]: expected a non-empty sequence of "
	    "steps; got an empty sequence\n"
	    "t.yaml:7:9: tasks.t.run[2]: expected a block with one key such "
	    "as \"loop:\"; got 2 keys\n"
	    "t.yaml:8:9: tasks.t.run[3]: expected a step (a command line, or "
	    "a block such as loop:); got a sequence\n"
	    "t.yaml:9:9: tasks.t.run[4]: expected a step (a command line, or "
	    "a block such as loop:); got null\n"
	    "t.yaml:10:15: tasks.t.run[5]: expected a non-empty sequence of "
	    "steps; got \"echo\"\n");
	/* Errors inside a block with a bad header are reported too. */
	expect_diag("version: 1\ntasks:\n  t:\n    run:\n      - lop:\n"
	    "          - slep 1\n",
	    "t.yaml:5:9: tasks.t.run[0]: unknown block \"lop\" (did you mean "
	    "\"loop\"?)\n"
	    "t.yaml:6:13: tasks.t.run[0][0]: unknown builtin \"slep\" (did "
	    "you mean \"sleep\"?)\n");
}

/* Many errors in one file are all reported, in file order. */
static void
test_many_errors(void **state)
{
	expect_diag(
	    "version: 1\n"
	    "queues: {lines: {mode: fanout}}\n"
	    "processes:\n"
	    "  web:\n"
	    "    cmd: [python3]\n"
	    "    restart: sometimes\n"
	    "    stdout: lnes\n"
	    "    restrat: always\n"
	    "  db: {}\n"
	    "tasks:\n"
	    "  web: {run: [\"sleep forever\"]}\n",
	    "t.yaml:2:24: queues.lines.mode: expected one of share, broadcast; "
	    "got \"fanout\"\n"
	    "t.yaml:6:14: processes.web.restart: expected one of never, "
	    "on-failure, always; got \"sometimes\"\n"
	    "t.yaml:7:13: processes.web.stdout: unknown queue \"lnes\" (did "
	    "you mean \"lines\"?)\n"
	    "t.yaml:8:5: processes.web: unknown key \"restrat\" (did you mean "
	    "\"restart\"?)\n"
	    "t.yaml:9:3: processes.db: exactly one of cmd and shell is "
	    "required\n"
	    "t.yaml:11:3: tasks.web: name \"web\" is already used by "
	    "processes.web at line 4, column 3\n"
	    "t.yaml:11:22: tasks.web.run[0]: sleep: expected a duration such "
	    "as 250ms, 1.5s, 2m; got \"forever\"\n");
}

/* The number of errors kept is bounded; the rest are counted. */
static void
test_error_bound(void **state)
{
	struct diag	 d;
	struct buf	 b;
	struct manifest	*m;
	char		*text;
	int		 i;

	buf_init(&b);
	buf_adds(&b, "version: 1\nprocesses:\n");
	for (i = 0; i < 80; i++)
		buf_addf(&b, "  p%d: {shell: x, restart: bad}\n", i);
	text = buf_steal(&b);
	m = load(text, &d);
	assert_null(m);
	assert_int_equal(d.nerrors, DIAG_MAX_ERRORS);
	assert_int_equal(d.dropped, 30);
	diag_release(&d);
	free(text);
}

/* YAML syntax errors: libyaml's message at its mark. */
static void
test_syntax(void **state)
{
	expect_diag("version: 1\nprocesses:\n  a: [\n",
	    "t.yaml:4:1: did not find expected node content (while parsing a "
	    "flow node at line 4, column 1)\n");
	expect_diag("version: 1\nprocesses:\n  a: {shell: x}\n b: 1\n",
	    "t.yaml:4:2: did not find expected key (while parsing a block "
	    "mapping at line 1, column 1)\n");
	expect_diag("version: 1\nx: \"\xff\"\n",
	    "t.yaml:2:5: invalid leading UTF-8 octet\n");
	expect_diag("version: 1\nx: *nope\n",
	    "t.yaml:2:4: unknown alias *nope (no anchor &nope before it)\n");
	expect_diag("a: &x [*x]\n",
	    "t.yaml:1:8: alias *x refers to a node that contains it\n");
	expect_diag("version: 1\ntasks: {t: {run: [\"echo \\0\"]}}\n",
	    "t.yaml:2:19: tasks.t.run[0]: expected a command line; got one "
	    "with a NUL byte\n");
}

/* Cannot read: the reason from the system, no position. */
static void
test_unreadable(void **state)
{
	struct diag	 d;
	struct manifest	*m;
	char		*out;

	diag_init(&d, "/nonexistent/jobs.yaml");
	m = manifest_load("/nonexistent/jobs.yaml", &d);
	assert_null(m);
	out = printed(&d);
	assert_string_equal(out, "/nonexistent/jobs.yaml: cannot read: No "
	    "such file or directory\n");
	free(out);
	diag_release(&d);
}

/* ---------------------------------------------------------------- limits */

/* Seconds since an arbitrary start, for "fails fast". */
static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Nesting deeper than MANIFEST_MAX_DEPTH stops the load at once. */
static void
test_limit_depth(void **state)
{
	struct buf	 b;
	struct diag	 d;
	char		*text, *want;
	int		 i;

	buf_init(&b);
	buf_adds(&b, "version: 1\nx: ");
	for (i = 0; i < 100000; i++)
		buf_addc(&b, '[');
	text = buf_steal(&b);
	/* The root mapping is level 1, so the 64th "[" is one too many. */
	buf_init(&b);
	buf_addf(&b, "t.yaml:2:%d: nesting deeper than %d levels\n",
	    3 + MANIFEST_MAX_DEPTH, MANIFEST_MAX_DEPTH);
	want = buf_steal(&b);
	expect_diag(text, want);
	free(text);
	free(want);

	buf_init(&b);
	buf_adds(&b, "version: 1\nx:\n");
	for (i = 1; i < 70; i++)
		buf_addf(&b, "%*sk:\n", i, "");
	text = buf_steal(&b);
	assert_null(load(text, &d));
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.items[0].msg, "nesting deeper than 64 levels");
	diag_release(&d);
	free(text);
}

/*
 * A "billion laughs" file: nine levels of ten aliases expand to 10^9
 * steps. The walk counts the nodes it visits and stops at the bound.
 */
static void
test_limit_laughs(void **state)
{
	struct buf	 b;
	struct diag	 d;
	char		*text;
	double		 t0;
	int		 i, j;

	buf_init(&b);
	buf_adds(&b, "version: 1\ntasks:\n  t:\n    run:\n"
	    "      - loop: &a0 [");
	for (j = 0; j < 10; j++)
		buf_addf(&b, "%s\"echo lol\"", j > 0 ? ", " : "");
	buf_adds(&b, "]\n");
	for (i = 1; i < 10; i++) {
		buf_addf(&b, "      - loop: &a%d [", i);
		for (j = 0; j < 10; j++)
			buf_addf(&b, "%s{loop: *a%d}", j > 0 ? ", " : "", i - 1);
		buf_adds(&b, "]\n");
	}
	text = buf_steal(&b);
	t0 = now();
	assert_null(load(text, &d));
	assert_true(now() - t0 < 10.0);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.items[0].msg, "more than 200000 nodes after "
	    "expanding aliases; the manifest is too large");
	diag_release(&d);
	free(text);

	/* The same shape under an ignored key fails too: unknown key. */
	buf_init(&b);
	buf_adds(&b, "version: 1\nx0: &a0 [lol, lol, lol, lol, lol]\n");
	for (i = 1; i < 10; i++) {
		buf_addf(&b, "x%d: &a%d [", i, i);
		for (j = 0; j < 10; j++)
			buf_addf(&b, "%s*a%d", j > 0 ? ", " : "", i - 1);
		buf_adds(&b, "]\n");
	}
	buf_adds(&b, "processes: {p: {cmd: *a9}}\n");
	text = buf_steal(&b);
	t0 = now();
	assert_null(load(text, &d));
	assert_true(now() - t0 < 10.0);
	assert_true(d.nerrors > 1);
	diag_release(&d);
	free(text);
}

/* More than MANIFEST_MAX_ALIASES aliases fail at the one too many. */
static void
test_limit_aliases(void **state)
{
	struct buf	 b;
	struct diag	 d;
	char		*text;
	int		 i;

	buf_init(&b);
	buf_adds(&b, "version: 1\nx: &a 1\ny: [");
	for (i = 0; i <= MANIFEST_MAX_ALIASES; i++)
		buf_addf(&b, "%s*a", i > 0 ? ", " : "");
	buf_adds(&b, "]\n");
	text = buf_steal(&b);
	assert_null(load(text, &d));
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.items[0].msg, "more than 1000 aliases");
	assert_int_equal(d.items[0].line, 3);
	assert_int_equal(d.items[0].col, 5 + 4 * MANIFEST_MAX_ALIASES);
	diag_release(&d);
	free(text);
}

/* More than MANIFEST_MAX_NODES nodes in the file itself. */
static void
test_limit_nodes(void **state)
{
	struct buf	 b;
	struct diag	 d;
	char		*text;
	int		 i;

	buf_init(&b);
	buf_adds(&b, "version: 1\nx: [");
	for (i = 0; i < MANIFEST_MAX_NODES; i++)
		buf_adds(&b, "1,");
	buf_adds(&b, "1]\n");
	text = buf_steal(&b);
	assert_null(load(text, &d));
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.items[0].msg, "more than 200000 YAML nodes; "
	    "the manifest is too large");
	diag_release(&d);
	free(text);
}

/* A buffer over MANIFEST_MAX_FILE_SIZE is refused before parsing. */
static void
test_limit_size(void **state)
{
	struct diag	 d;
	char		*text;
	size_t		 len = MANIFEST_MAX_FILE_SIZE + 1;

	text = malloc(len);
	assert_non_null(text);
	memset(text, '#', len);
	diag_init(&d, "big.yaml");
	assert_null(manifest_load_buffer("big.yaml", text, len, &d));
	assert_int_equal(d.nerrors, 1);
	assert_int_equal(d.items[0].line, 0);
	assert_string_equal(d.items[0].msg, "file too large (4194305 bytes; "
	    "the limit is 4194304)");
	diag_release(&d);
	free(text);
}

/* ---------------------------------------------------------------- warnings */

/* Queues without producer or consumer are warned about, not refused. */
static void
test_warn_flow(void **state)
{
	expect_warnings(
	    "version: 1\n"
	    "queues:\n"
	    "  orphan: {}\n"
	    "  sink: {}\n"
	    "  source: {}\n"
	    "processes:\n"
	    "  a: {cmd: [x], stdout: sink}\n"
	    "  b: {cmd: [x], stdin: source}\n",
	    "t.yaml:3:3: warning: queues.orphan: no producer: no stdout, "
	    "stderr or put names this queue: it is fed from outside (ctl "
	    "put) and stays open until \"ctl close orphan\"\n"
	    "t.yaml:3:3: warning: queues.orphan: no consumer: no stdin, get "
	    "or for names this queue\n"
	    "t.yaml:4:3: warning: queues.sink: no consumer: no stdin, get or "
	    "for names this queue\n"
	    "t.yaml:5:3: warning: queues.source: no producer: no stdout, "
	    "stderr or put names this queue: it is fed from outside (ctl "
	    "put) and stays open until \"ctl close source\"\n");
	/* Tasks count: put and stdout produce, get and for consume. */
	expect_warnings(
	    "version: 1\n"
	    "queues: {a: {}, b: {}, c: {}}\n"
	    "tasks:\n"
	    "  p: {stdout: a, run: [\"put b x\", \"put c y\"]}\n"
	    "  c:\n"
	    "    run:\n"
	    "      - get a v\n"
	    "      - for x in b:\n"
	    "          - echo $x\n"
	    "    on_cancel: [\"get c w\"]\n", "");
}

/* A cycle of queues between processes is named in a warning. */
static void
test_warn_cycles(void **state)
{
	expect_warnings(
	    "version: 1\n"
	    "queues: {q1: {}, q2: {}}\n"
	    "processes:\n"
	    "  a: {cmd: [x], stdout: q1, stdin: q2}\n"
	    "  b: {cmd: [x], stdout: q2, stdin: q1}\n",
	    "t.yaml:2:10: warning: queues.q1: processes a -> q1 -> b -> q2 -> "
	    "a form a cycle that can deadlock when full\n");
	expect_warnings(
	    "version: 1\n"
	    "queues: {q2: {}, q1: {}}\n"
	    "processes:\n"
	    "  b: {cmd: [x], stdout: q2, stdin: q1}\n"
	    "  a: {cmd: [x], stderr: [inherit, q1], stdin: q2}\n",
	    "t.yaml:2:10: warning: queues.q2: processes b -> q2 -> a -> q1 -> "
	    "b form a cycle that can deadlock when full\n");
	expect_warnings(
	    "version: 1\n"
	    "queues: {loop: {}}\n"
	    "processes:\n"
	    "  self: {cmd: [x], stdout: loop, stdin: loop}\n",
	    "t.yaml:2:10: warning: queues.loop: process self -> loop -> self "
	    "forms a cycle that can deadlock when full\n");
	/* A chain is no cycle. */
	expect_warnings(
	    "version: 1\n"
	    "queues: {q1: {}, q2: {}}\n"
	    "processes:\n"
	    "  a: {cmd: [x], stdout: q1}\n"
	    "  b: {cmd: [x], stdin: q1, stdout: q2}\n"
	    "  c: {cmd: [x], stdin: q2}\n", "");
}

/* A long chain of processes is checked without deep recursion. */
static void
test_long_chain(void **state)
{
	struct buf	 b;
	struct diag	 d;
	struct manifest	*m;
	char		*text;
	int		 i, n = 5000;

	buf_init(&b);
	buf_adds(&b, "version: 1\nqueues:\n");
	for (i = 0; i < n; i++)
		buf_addf(&b, "  q%d: {}\n", i);
	buf_adds(&b, "processes:\n");
	for (i = 0; i < n; i++)
		buf_addf(&b, "  p%d: {cmd: [x], stdin: q%d, stdout: q%d}\n", i,
		    i, (i + 1) % n);
	text = buf_steal(&b);
	m = load(text, &d);
	assert_non_null(m);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.nwarnings, 1);
	assert_non_null(strstr(d.items[0].msg, "p0 -> q1 -> p1"));
	diag_release(&d);
	manifest_free(m);
	free(text);
}

/* ---------------------------------------------------------------- orchestration */

/* Print m and load the text back: the caller frees both. */
static struct manifest *
reprint(const struct manifest *m, char **text)
{
	struct manifest	*m2;
	struct diag	 d;
	FILE		*fp;
	char		*out;

	fp = tmpfile();
	assert_non_null(fp);
	manifest_print(m, fp);
	*text = slurp(fp);
	diag_init(&d, "printed.yaml");
	m2 = manifest_load_buffer("printed.yaml", *text, strlen(*text), &d);
	if (m2 == NULL) {
		out = printed(&d);
		fail_msg("printed manifest does not load:\n%s\n%s", *text, out);
	}
	diag_release(&d);
	return m2;
}

/* depends_on: a mapping of conditions, or a list meaning started. */
static void
test_deps(void **state)
{
	struct manifest		*m;
	struct proc_spec	*p;
	struct task_spec	*t;

	m = load_ok(
	    "version: 1\n"
	    "processes:\n"
	    "  db: {cmd: [x]}\n"
	    "  web:\n"
	    "    cmd: [x]\n"
	    "    depends_on: {db: ready, migrate: succeeded, seed: started}\n"
	    "  w: {cmd: [x], depends_on: [web, \"db\"]}\n"
	    "  none: {cmd: [x], depends_on: []}\n"
	    "  null: {cmd: [x], depends_on: ~}\n"
	    "tasks:\n"
	    "  migrate: {run: [echo], depends_on: {db: ready}}\n"
	    "  seed: {run: [echo], depends_on: [migrate]}\n"
	    "  after: {run: [echo], depends_on: {seed: ready}}\n");
	assert_int_equal(m->procs[0].ndeps, 0);
	assert_null(m->procs[0].deps);
	p = &m->procs[1];
	assert_int_equal(p->ndeps, 3);
	assert_string_equal(p->deps[0].name, "db");
	assert_int_equal(p->deps[0].cond, DEP_READY);
	assert_int_equal(p->deps[0].loc.line, 6);
	assert_int_equal(p->deps[0].loc.col, 18);
	assert_string_equal(p->deps[1].name, "migrate");
	assert_int_equal(p->deps[1].cond, DEP_SUCCEEDED);
	assert_int_equal(p->deps[2].cond, DEP_STARTED);
	p = &m->procs[2];
	assert_int_equal(p->ndeps, 2);
	assert_string_equal(p->deps[0].name, "web");
	assert_int_equal(p->deps[0].cond, DEP_STARTED);
	assert_int_equal(p->deps[1].loc.line, 7);
	assert_int_equal(p->deps[1].loc.col, 35);
	assert_int_equal(m->procs[3].ndeps, 0);
	assert_int_equal(m->procs[4].ndeps, 0);
	t = &m->tasks[0];
	assert_int_equal(t->ndeps, 1);
	assert_int_equal(t->deps[0].cond, DEP_READY);
	assert_int_equal(m->tasks[1].deps[0].cond, DEP_STARTED);
	/* ready on a task means started: accepted. */
	assert_int_equal(m->tasks[2].deps[0].cond, DEP_READY);
	manifest_free(m);
}

/* Unknown names, cycles, bad conditions and types. */
static void
test_deps_errors(void **state)
{
	expect_diag(
	    "version: 1\n"
	    "queues: {jobs: {}}\n"
	    "processes:\n"
	    "  db: {cmd: [x], stdout: jobs}\n"
	    "  web: {cmd: [x], stdin: jobs, depends_on: {dbb: ready, jobs: "
	    "started, zzz: started}}\n"
	    "tasks:\n"
	    "  t: {run: [echo], depends_on: [wbe]}\n",
	    "t.yaml:5:45: processes.web.depends_on: unknown process or task "
	    "\"dbb\" (did you mean \"db\"?)\n"
	    "t.yaml:5:57: processes.web.depends_on: unknown process or task "
	    "\"jobs\" (that is a queue)\n"
	    "t.yaml:5:72: processes.web.depends_on: unknown process or task "
	    "\"zzz\"\n"
	    "t.yaml:7:33: tasks.t.depends_on: unknown process or task "
	    "\"wbe\" (did you mean \"web\"?)\n");
	expect_diag(
	    "version: 1\n"
	    "processes:\n"
	    "  self: {cmd: [x], depends_on: [self]}\n",
	    "t.yaml:3:33: processes.self.depends_on: dependency cycle: self -> "
	    "self\n");
	expect_diag(
	    "version: 1\n"
	    "processes:\n"
	    "  c: {cmd: [x], depends_on: {a: ready}}\n"
	    "  a: {cmd: [x], depends_on: [b]}\n"
	    "  b: {cmd: [x], depends_on: {c: succeeded}}\n"
	    "tasks:\n"
	    "  t1: {run: [echo], depends_on: [t2, a]}\n"
	    "  t2: {run: [echo], depends_on: [t1]}\n",
	    "t.yaml:3:30: processes.c.depends_on: dependency cycle: c -> a -> "
	    "b -> c\n"
	    "t.yaml:7:34: tasks.t1.depends_on: dependency cycle: t1 -> t2 -> "
	    "t1\n");
	/* A cycle across processes and tasks. */
	expect_diag(
	    "version: 1\n"
	    "processes:\n"
	    "  p: {cmd: [x], depends_on: {t: succeeded}}\n"
	    "tasks:\n"
	    "  t: {run: [echo], depends_on: [p]}\n",
	    "t.yaml:3:30: processes.p.depends_on: dependency cycle: p -> t -> "
	    "p\n");
	expect_diag(
	    "version: 1\n"
	    "processes:\n"
	    "  a: {cmd: [x]}\n"
	    "  b: {cmd: [x], depends_on: {a: redy}}\n"
	    "  c: {cmd: [x], depends_on: [a, [b], a, ~]}\n"
	    "  d: {cmd: [x], depends_on: a}\n"
	    "  e: {cmd: [x], depends_on: {a: }}\n",
	    "t.yaml:4:33: processes.b.depends_on.a: expected one of started, "
	    "ready, succeeded; got \"redy\" (did you mean \"ready\"?)\n"
	    "t.yaml:5:33: processes.c.depends_on[1]: expected a process or "
	    "task name; got a sequence\n"
	    "t.yaml:5:38: processes.c.depends_on: duplicate name \"a\" (first "
	    "at line 5, column 30)\n"
	    "t.yaml:5:41: processes.c.depends_on[3]: expected a process or "
	    "task name; got null\n"
	    "t.yaml:6:29: processes.d.depends_on: expected a mapping such as "
	    "{db: ready} or a list of names; got \"a\"\n"
	    "t.yaml:7:33: processes.e.depends_on.a: expected one of started, "
	    "ready, succeeded; got null\n");
	/* Only processes have ready:. */
	expect_diag(
	    "version: 1\n"
	    "tasks:\n"
	    "  t: {run: [echo], ready: {fd: 3}, ready_timeout: 1s}\n",
	    "t.yaml:3:20: tasks.t: unknown key \"ready\" (only processes have "
	    "ready:; a task is ready once started)\n"
	    "t.yaml:3:36: tasks.t: unknown key \"ready_timeout\" (only "
	    "processes have ready:; a task is ready once started)\n");
}

/* A long cycle is named by its ends; a big one is checked quickly. */
static void
test_deps_long_cycle(void **state)
{
	struct buf	 b;
	struct diag	 d;
	char		*text;
	double		 t0;
	int		 i, n = 20000;

	buf_init(&b);
	buf_adds(&b, "version: 1\nprocesses:\n");
	for (i = 0; i < n; i++)
		buf_addf(&b, "  p%d: {cmd: [x], depends_on: [p%d]}\n", i,
		    (i + 1) % n);
	text = buf_steal(&b);
	t0 = now();
	assert_null(load(text, &d));
	assert_true(now() - t0 < 10.0);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.items[0].msg, "processes.p0.depends_on: "
	    "dependency cycle: p0 -> p1 -> p2 -> p3 -> p4 -> p5 -> p6 -> p7 "
	    "-> p8 -> p9 -> p10 -> p11 -> p12 -> p13 -> ... (19985 more) -> "
	    "p19999 -> p0");
	diag_release(&d);
	free(text);
}

/* ready: each way, with its defaults. */
static void
test_ready(void **state)
{
	struct manifest		*m;
	struct ready_spec	*r;

	setenv("PYT_TEST_PORT", "5433", 1);
	m = load_ok(
	    "version: 1\n"
	    "processes:\n"
	    "  none: {cmd: [x]}\n"
	    "  line: {cmd: [x], ready: {line: \"^listening on [0-9]+$\"}}\n"
	    "  fd: {cmd: [x], ready: {fd: 3}, ready_timeout: 0}\n"
	    "  exec:\n"
	    "    cmd: [x]\n"
	    "    ready: {exec: [pg_isready, -q], interval: 250ms}\n"
	    "    ready_timeout: 2m\n"
	    "  tcp: {cmd: [x], ready: {tcp: \"127.0.0.1:${PYT_TEST_PORT}\"}}\n"
	    "  tcp6: {cmd: [x], ready: {tcp: \"[::1]:080\"}}\n"
	    "  http: {cmd: [x], ready: {http: \"http://localhost:8080/health"
	    "?full=1\", interval: 2s}}\n"
	    "  http2: {cmd: [x], ready: {http: \"http://[fe80::1%eth0]\"}}\n"
	    "  nul: {cmd: [x], ready: null}\n");
	r = &m->procs[0].ready;
	assert_int_equal(r->kind, READY_NONE);
	assert_int_equal(r->interval_ms, MANIFEST_DEFAULT_READY_INTERVAL_MS);
	assert_int_equal(r->timeout_ms, MANIFEST_DEFAULT_READY_TIMEOUT_MS);
	assert_int_equal(r->timeout_ms, 60000);
	r = &m->procs[1].ready;
	assert_int_equal(r->kind, READY_LINE);
	assert_string_equal(r->regex, "^listening on [0-9]+$");
	assert_int_equal(r->loc.line, 4);
	assert_int_equal(r->loc.col, 27);
	r = &m->procs[2].ready;
	assert_int_equal(r->kind, READY_FD);
	assert_int_equal(r->fd, 3);
	assert_int_equal(r->timeout_ms, 0);
	r = &m->procs[3].ready;
	assert_int_equal(r->kind, READY_EXEC);
	assert_string_equal(r->argv[0], "pg_isready");
	assert_string_equal(r->argv[1], "-q");
	assert_null(r->argv[2]);
	assert_int_equal(r->interval_ms, 250);
	assert_int_equal(r->timeout_ms, 120000);
	r = &m->procs[4].ready;
	assert_int_equal(r->kind, READY_TCP);
	assert_string_equal(r->host, "127.0.0.1");
	assert_string_equal(r->port, "5433");
	assert_null(r->path);
	assert_int_equal(r->interval_ms, 1000);
	r = &m->procs[5].ready;
	assert_string_equal(r->host, "::1");
	assert_string_equal(r->port, "80");
	r = &m->procs[6].ready;
	assert_int_equal(r->kind, READY_HTTP);
	assert_string_equal(r->host, "localhost");
	assert_string_equal(r->port, "8080");
	assert_string_equal(r->path, "/health?full=1");
	assert_int_equal(r->interval_ms, 2000);
	r = &m->procs[7].ready;
	assert_string_equal(r->host, "fe80::1%eth0");
	assert_string_equal(r->port, "80");
	assert_string_equal(r->path, "/");
	assert_int_equal(m->procs[8].ready.kind, READY_NONE);
	manifest_free(m);
	unsetenv("PYT_TEST_PORT");
}

/* ready: every way to get it wrong. */
static void
test_ready_errors(void **state)
{
	expect_diag(
	    "version: 1\n"
	    "processes:\n"
	    "  a: {cmd: [x], ready: {}}\n"
	    "  b: {cmd: [x], ready: {fd: 3, line: x}}\n"
	    "  c: {cmd: [x], ready: line}\n"
	    "  d: {cmd: [x], ready: {interval: 1s}}\n",
	    "t.yaml:3:24: processes.a.ready: exactly one of line, fd, exec, "
	    "tcp and http is required\n"
	    "t.yaml:4:24: processes.b.ready: exactly one of line, fd, exec, "
	    "tcp and http is required\n"
	    "t.yaml:5:24: processes.c.ready: expected a mapping with one of "
	    "line, fd, exec, tcp or http; got \"line\"\n"
	    "t.yaml:6:24: processes.d.ready: exactly one of line, fd, exec, "
	    "tcp and http is required\n");
	expect_diag(
	    "version: 1\n"
	    "processes:\n"
	    "  a: {cmd: [x], ready: {line: \"(\"}}\n"
	    "  b: {cmd: [x], ready: {line: \"\"}}\n"
	    "  c: {cmd: [x], ready: {line: [x]}}\n",
	    "t.yaml:3:31: processes.a.ready.line: expected a regular "
	    "expression (POSIX ERE); got \"(\" (Unmatched ( or \\()\n"
	    "t.yaml:4:31: processes.b.ready.line: expected a regular "
	    "expression (POSIX ERE); got \"\" (it would match every line)\n"
	    "t.yaml:5:31: processes.c.ready.line: expected a regular "
	    "expression (POSIX ERE); got a sequence\n");
	expect_diag(
	    "version: 1\n"
	    "processes:\n"
	    "  a: {cmd: [x], ready: {fd: 2}}\n"
	    "  b: {cmd: [x], ready: {fd: 1024}}\n"
	    "  c: {cmd: [x], ready: {exec: \"pg_isready -q\"}}\n"
	    "  d: {cmd: [x], ready: {exec: []}}\n",
	    "t.yaml:3:29: processes.a.ready.fd: expected an integer from 3 to "
	    "1023; got 2\n"
	    "t.yaml:4:29: processes.b.ready.fd: expected an integer from 3 to "
	    "1023; got 1024\n"
	    "t.yaml:5:31: processes.c.ready.exec: expected a sequence of "
	    "strings such as [pg_isready, -q]; got \"pg_isready -q\" (a probe "
	    "runs without a shell)\n"
	    "t.yaml:6:31: processes.d.ready.exec: expected a non-empty "
	    "sequence of strings; got an empty sequence\n");
	expect_diag(
	    "version: 1\n"
	    "processes:\n"
	    "  a: {cmd: [x], ready: {tcp: localhost}}\n"
	    "  b: {cmd: [x], ready: {tcp: \"h:0\"}}\n"
	    "  c: {cmd: [x], ready: {tcp: \"::1:80\"}}\n"
	    "  d: {cmd: [x], ready: {tcp: \":80\"}}\n"
	    "  e: {cmd: [x], ready: {tcp: \"[::1:80\"}}\n"
	    "  f: {cmd: [x], ready: {tcp: \"[x]:80\"}}\n"
	    "  g: {cmd: [x], ready: {tcp: \"a b:80\"}}\n"
	    "  h: {cmd: [x], ready: {tcp: \"h:http\"}}\n",
	    "t.yaml:3:30: processes.a.ready.tcp: expected HOST:PORT such as "
	    "127.0.0.1:5432; got \"localhost\" (no port)\n"
	    "t.yaml:4:30: processes.b.ready.tcp: expected HOST:PORT such as "
	    "127.0.0.1:5432; got \"h:0\" (the port is a number from 1 to "
	    "65535)\n"
	    "t.yaml:5:30: processes.c.ready.tcp: expected HOST:PORT such as "
	    "127.0.0.1:5432; got \"::1:80\" (an IPv6 address goes in brackets, "
	    "as [::1]:80)\n"
	    "t.yaml:6:30: processes.d.ready.tcp: expected HOST:PORT such as "
	    "127.0.0.1:5432; got \":80\" (no host)\n"
	    "t.yaml:7:30: processes.e.ready.tcp: expected HOST:PORT such as "
	    "127.0.0.1:5432; got \"[::1:80\" (no \"]\" after \"[\")\n"
	    "t.yaml:8:30: processes.f.ready.tcp: expected HOST:PORT such as "
	    "127.0.0.1:5432; got \"[x]:80\" (brackets are for IPv6 "
	    "addresses)\n"
	    "t.yaml:9:30: processes.g.ready.tcp: expected HOST:PORT such as "
	    "127.0.0.1:5432; got \"a b:80\" (invalid character in the host)\n"
	    "t.yaml:10:30: processes.h.ready.tcp: expected HOST:PORT such as "
	    "127.0.0.1:5432; got \"h:http\" (the port is a number from 1 to "
	    "65535)\n");
	expect_diag(
	    "version: 1\n"
	    "processes:\n"
	    "  a: {cmd: [x], ready: {http: \"https://h/health\"}}\n"
	    "  b: {cmd: [x], ready: {http: \"ftp://h/\"}}\n"
	    "  c: {cmd: [x], ready: {http: \"http://u:p@h/\"}}\n"
	    "  d: {cmd: [x], ready: {http: \"http://h/a b\"}}\n"
	    "  e: {cmd: [x], ready: {http: \"http:///x\"}}\n",
	    "t.yaml:3:31: processes.a.ready.http: expected a URL such as "
	    "http://127.0.0.1:8080/health; got \"https://h/health\" (https is "
	    "not supported; use exec: with a client such as curl)\n"
	    "t.yaml:4:31: processes.b.ready.http: expected a URL such as "
	    "http://127.0.0.1:8080/health; got \"ftp://h/\" (the URL does not "
	    "start with http://)\n"
	    "t.yaml:5:31: processes.c.ready.http: expected a URL such as "
	    "http://127.0.0.1:8080/health; got \"http://u:p@h/\" (credentials "
	    "in the URL are not supported)\n"
	    "t.yaml:6:31: processes.d.ready.http: expected a URL such as "
	    "http://127.0.0.1:8080/health; got \"http://h/a b\" (a blank or "
	    "control character in the path)\n"
	    "t.yaml:7:31: processes.e.ready.http: expected a URL such as "
	    "http://127.0.0.1:8080/health; got \"http:///x\" (no host)\n");
	expect_diag(
	    "version: 1\n"
	    "processes:\n"
	    "  a: {cmd: [x], ready: {line: ok, interval: 1s}}\n"
	    "  b: {cmd: [x], ready: {fd: 3, interval: 1s}}\n"
	    "  c: {cmd: [x], ready: {tcp: \"h:1\", interval: 0}}\n"
	    "  d: {cmd: [x], ready: {tcp: \"h:1\", timeout: 5s}}\n"
	    "  e: {cmd: [x], ready: {tcp: \"h:1\", intreval: 5s}}\n"
	    "  f: {cmd: [x], ready_timeout: soon}\n",
	    "t.yaml:3:35: processes.a.ready.interval: only exec, tcp and http "
	    "are polled; line waits for the process itself\n"
	    "t.yaml:4:32: processes.b.ready.interval: only exec, tcp and http "
	    "are polled; fd waits for the process itself\n"
	    "t.yaml:5:47: processes.c.ready.interval: expected a duration "
	    "greater than 0; got 0\n"
	    "t.yaml:6:37: processes.d.ready: unknown key \"timeout\" (the "
	    "timeout is ready_timeout, beside ready)\n"
	    "t.yaml:7:37: processes.e.ready: unknown key \"intreval\" (did you "
	    "mean \"interval\"?)\n"
	    "t.yaml:8:32: processes.f.ready_timeout: expected a duration such "
	    "as 250ms, 1.5s or 2m; got \"soon\" (a duration starts with a "
	    "digit)\n");
}

/* A file destination given as a mapping rotates by size. */
static void
test_dest_rotate(void **state)
{
	struct manifest	*m;
	struct dest	*dst;

	m = load_ok(
	    "version: 1\n"
	    "queues: {q: {}}\n"
	    "processes:\n"
	    "  a:\n"
	    "    cmd: [x]\n"
	    "    stdout: {file: /var/log/a.log, max_size: 10MiB, backups: 3}\n"
	    "    stderr: [q, {file: /var/log/a.err, max_size: 4096}, "
	    "\"file:/tmp/plain\"]\n"
	    "  b: {cmd: [x], stdin: q, stdout: {file: /tmp/b, backups: 0}}\n"
	    "tasks:\n"
	    "  t: {run: [echo], stdout: {max_size: 1k, file: /tmp/t}}\n");
	dst = &m->procs[0].out.dests[0];
	assert_int_equal(dst->kind, DEST_FILE);
	assert_string_equal(dst->name, "/var/log/a.log");
	assert_int_equal(dst->max_size, 10 * 1024 * 1024);
	assert_int_equal(dst->backups, 3);
	assert_int_equal(dst->loc.line, 6);
	assert_int_equal(dst->loc.col, 13);
	assert_int_equal(m->procs[0].err.ndests, 3);
	dst = &m->procs[0].err.dests[1];
	assert_int_equal(dst->kind, DEST_FILE);
	assert_string_equal(dst->name, "/var/log/a.err");
	assert_int_equal(dst->max_size, 4096);
	assert_int_equal(dst->backups, MANIFEST_DEFAULT_BACKUPS);
	dst = &m->procs[0].err.dests[2];
	assert_int_equal(dst->max_size, 0);
	assert_int_equal(dst->backups, 5);
	dst = &m->procs[1].out.dests[0];
	assert_int_equal(dst->max_size, 0);
	assert_int_equal(dst->backups, 0);
	dst = &m->tasks[0].out.dests[0];
	assert_string_equal(dst->name, "/tmp/t");
	assert_int_equal(dst->max_size, 1024);
	manifest_free(m);
}

/* Mistakes in a rotated file destination. */
static void
test_dest_rotate_errors(void **state)
{
	expect_diag(
	    "version: 1\n"
	    "processes:\n"
	    "  a: {cmd: [x], stdout: {max_size: 1M}}\n"
	    "  b: {cmd: [x], stdout: {file: \"\", max_size: huge, backups: "
	    "101}}\n"
	    "  c: {cmd: [x], stderr: [inherit, {file: /x, backup: 2}]}\n"
	    "  d: {cmd: [x], stdout: {file: /x, max_size: 5 MiB, backups: "
	    "-1}}\n"
	    "  e: {cmd: [x], stdout: {file: [a]}}\n"
	    "  f: {cmd: [x], stdout: {queue: q}}\n"
	    "  g: {cmd: [x], stdout: {file: /x, max_size: 1TB}}\n",
	    "t.yaml:3:25: processes.a.stdout: missing key \"file\" (the path "
	    "of the file)\n"
	    "t.yaml:4:32: processes.b.stdout.file: expected a file path; got "
	    "\"\"\n"
	    "t.yaml:4:46: processes.b.stdout.max_size: expected a size such as "
	    "10MiB, 512k or 0 (never rotate); got \"huge\"\n"
	    "t.yaml:4:61: processes.b.stdout.backups: expected an integer from "
	    "0 to 100; got 101\n"
	    "t.yaml:5:46: processes.c.stderr[1]: unknown key \"backup\" (did "
	    "you mean \"backups\"?)\n"
	    "t.yaml:6:46: processes.d.stdout.max_size: expected a size such as "
	    "10MiB, 512k or 0 (never rotate); got \"5 MiB\" (unknown size unit "
	    "(use k, M or G, optionally with iB))\n"
	    "t.yaml:6:62: processes.d.stdout.backups: expected an integer from "
	    "0 to 100; got -1\n"
	    "t.yaml:7:32: processes.e.stdout.file: expected a file path; got a "
	    "sequence\n"
	    "t.yaml:8:25: processes.f.stdout: expected inherit, null, "
	    "file:PATH, {file: PATH, max_size: SIZE, backups: N} or a queue "
	    "name; got a mapping\n"
	    "t.yaml:9:46: processes.g.stdout.max_size: expected a size such as "
	    "10MiB, 512k or 0 (never rotate); got \"1TB\" (unknown size unit "
	    "(use k, M or G, optionally with iB))\n");
}

/* limits: integers, sizes, seconds, unlimited. */
static void
test_limits(void **state)
{
	struct manifest	*m;
	struct limit	*l;
	int		 i;

	m = load_ok(
	    "version: 1\n"
	    "processes:\n"
	    "  a:\n"
	    "    cmd: [x]\n"
	    "    limits: {nofile: 4096, nproc: unlimited, core: 0, as: 1GiB, "
	    "cpu: 1.2s, fsize: 512k}\n"
	    "  b: {cmd: [x], limits: {cpu: 2m, as: unlimited, core: 1000}}\n"
	    "  c: {cmd: [x], limits: {}}\n"
	    "  d: {cmd: [x], limits: ~}\n"
	    "  e: {cmd: [x], limits: {cpu: 0, nofile: 0}}\n");
	l = m->procs[0].limits;
	assert_true(l[LIMIT_NOFILE].set);
	assert_int_equal(l[LIMIT_NOFILE].value, 4096);
	assert_true(l[LIMIT_NPROC].value == MANIFEST_UNLIMITED);
	assert_true(l[LIMIT_CORE].set);
	assert_int_equal(l[LIMIT_CORE].value, 0);
	assert_int_equal(l[LIMIT_AS].value, 1024 * 1024 * 1024);
	/* Rounded up to whole seconds. */
	assert_int_equal(l[LIMIT_CPU].value, 2);
	assert_int_equal(l[LIMIT_FSIZE].value, 512 * 1024);
	l = m->procs[1].limits;
	assert_int_equal(l[LIMIT_CPU].value, 120);
	assert_true(l[LIMIT_AS].value == MANIFEST_UNLIMITED);
	assert_int_equal(l[LIMIT_CORE].value, 1000);
	assert_false(l[LIMIT_NOFILE].set);
	assert_false(l[LIMIT_FSIZE].set);
	for (i = 0; i < LIMIT_COUNT; i++) {
		assert_false(m->procs[2].limits[i].set);
		assert_false(m->procs[3].limits[i].set);
	}
	assert_true(m->procs[4].limits[LIMIT_CPU].set);
	assert_int_equal(m->procs[4].limits[LIMIT_CPU].value, 0);
	manifest_free(m);

	expect_diag(
	    "version: 1\n"
	    "processes:\n"
	    "  a:\n"
	    "    cmd: [x]\n"
	    "    limits: {nofiles: 1, nproc: -1, core: big, as: 1TB, cpu: "
	    "soon, fsize: [1]}\n"
	    "  b: {cmd: [x], limits: [nofile]}\n"
	    "  c: {cmd: [x], limits: {nofile: 1.5, nproc: infinite}}\n",
	    "t.yaml:5:14: processes.a.limits: unknown key \"nofiles\" (did you "
	    "mean \"nofile\"?)\n"
	    "t.yaml:5:33: processes.a.limits.nproc: expected an integer of 0 "
	    "or more, or unlimited; got -1\n"
	    "t.yaml:5:43: processes.a.limits.core: expected a size such as "
	    "4096, 64k or 1GiB, or unlimited; got \"big\"\n"
	    "t.yaml:5:52: processes.a.limits.as: expected a size such as 4096, "
	    "64k or 1GiB, or unlimited; got \"1TB\" (unknown size unit (use k, "
	    "M or G, optionally with iB))\n"
	    "t.yaml:5:62: processes.a.limits.cpu: expected seconds such as 10 "
	    "or a duration such as 2m, or unlimited; got \"soon\" (a duration "
	    "starts with a digit)\n"
	    "t.yaml:5:75: processes.a.limits.fsize: expected a size such as "
	    "4096, 64k or 1GiB, or unlimited; got a sequence\n"
	    "t.yaml:6:25: processes.b.limits: expected a mapping such as "
	    "{nofile: 4096, core: 0}; got a sequence\n"
	    "t.yaml:7:34: processes.c.limits.nofile: expected an integer of 0 "
	    "or more, or unlimited; got 1.5\n"
	    "t.yaml:7:46: processes.c.limits.nproc: expected an integer of 0 "
	    "or more, or unlimited; got \"infinite\"\n");
}

/* umask in octal, as a string or a YAML 1.1 octal; user and group. */
static void
test_umask_user(void **state)
{
	struct manifest	*m;

	m = load_ok(
	    "version: 1\n"
	    "processes:\n"
	    "  a: {cmd: [x], umask: 022, user: www-data, group: \"1000\"}\n"
	    "  b: {cmd: [x], umask: \"0027\", user: 0, group: adm}\n"
	    "  c: {cmd: [x], umask: 0o77}\n"
	    "  d: {cmd: [x], umask: 0}\n"
	    "  e: {cmd: [x], umask: \"777\", user: \"machine$\"}\n"
	    "  f: {cmd: [x], umask: ~, user: ~, group: null}\n"
	    "  g: {cmd: [x]}\n");
	assert_int_equal(m->procs[0].umask, 022);
	assert_string_equal(m->procs[0].user, "www-data");
	assert_string_equal(m->procs[0].group, "1000");
	assert_int_equal(m->procs[1].umask, 027);
	assert_string_equal(m->procs[1].user, "0");
	assert_string_equal(m->procs[1].group, "adm");
	assert_int_equal(m->procs[2].umask, 077);
	assert_int_equal(m->procs[3].umask, 0);
	assert_int_equal(m->procs[4].umask, 0777);
	assert_string_equal(m->procs[4].user, "machine$");
	assert_int_equal(m->procs[5].umask, -1);
	assert_null(m->procs[5].user);
	assert_null(m->procs[5].group);
	assert_int_equal(m->procs[6].umask, -1);
	assert_null(m->procs[6].user);
	manifest_free(m);

	expect_diag(
	    "version: 1\n"
	    "processes:\n"
	    "  a: {cmd: [x], umask: 0999}\n"
	    "  b: {cmd: [x], umask: \"1777\"}\n"
	    "  c: {cmd: [x], umask: u=rwx}\n"
	    "  d: {cmd: [x], umask: [022]}\n"
	    "  e: {cmd: [x], user: \"bad user\", group: \"\"}\n"
	    "  f: {cmd: [x], user: -x, group: 99999999999}\n",
	    "t.yaml:3:24: processes.a.umask: expected an octal mode such as "
	    "\"022\" or \"0027\"; got 0999\n"
	    "t.yaml:4:24: processes.b.umask: expected an octal mode such as "
	    "\"022\" or \"0027\"; got \"1777\" (at most 0777)\n"
	    "t.yaml:5:24: processes.c.umask: expected an octal mode such as "
	    "\"022\" or \"0027\"; got \"u=rwx\"\n"
	    "t.yaml:6:24: processes.d.umask: expected an octal mode such as "
	    "\"022\" or \"0027\"; got a sequence\n"
	    "t.yaml:7:23: processes.e.user: expected a user name or a numeric "
	    "id; got \"bad user\"\n"
	    "t.yaml:7:42: processes.e.group: expected a group name or a "
	    "numeric id; got \"\"\n"
	    "t.yaml:8:23: processes.f.user: expected a user name or a numeric "
	    "id; got \"-x\"\n"
	    "t.yaml:8:34: processes.f.group: expected a group name or a "
	    "numeric id; got 99999999999\n");
}

/* backend: redis and its keys; memory stays the default. */
static void
test_redis_queue(void **state)
{
	struct manifest		*m;
	struct queue_spec	*q;

	setenv("PYT_TEST_REDIS", "redis://:pw@10.0.0.1:6380/2", 1);
	unsetenv("PYT_TEST_UNSET");
	m = load_ok(
	    "version: 1\n"
	    "queues:\n"
	    "  mem: {}\n"
	    "  jobs:\n"
	    "    backend: redis\n"
	    "    url: ${PYT_TEST_REDIS}\n"
	    "    stream: jobs-stream\n"
	    "    group: workers\n"
	    "    claim_after: 1m\n"
	    "    connect_timeout: 0\n"
	    "    capacity: 10000\n"
	    "  r2: {backend: redis, url: \"${PYT_TEST_UNSET:-redis://localhost}"
	    "\"}\n"
	    "  m2: {backend: memory}\n"
	    "processes:\n"
	    "  p: {cmd: [x], stdout: [mem, jobs, r2, m2]}\n"
	    "  c: {cmd: [x], stdin: mem}\n"
	    "  d: {cmd: [x], stdin: jobs}\n"
	    "  e: {cmd: [x], stdin: r2}\n"
	    "  f: {cmd: [x], stdin: m2}\n");
	q = &m->queues[0];
	assert_false(q->redis);
	assert_null(q->url);
	assert_null(q->stream);
	assert_null(q->group);
	q = &m->queues[1];
	assert_true(q->redis);
	assert_string_equal(q->url, "redis://:pw@10.0.0.1:6380/2");
	assert_string_equal(q->stream, "jobs-stream");
	assert_string_equal(q->group, "workers");
	assert_int_equal(q->claim_after_ms, 60000);
	assert_int_equal(q->connect_timeout_ms, 0);
	assert_int_equal(q->capacity, 10000);
	q = &m->queues[2];
	assert_true(q->redis);
	assert_string_equal(q->url, "redis://localhost");
	assert_string_equal(q->stream, "r2");
	assert_string_equal(q->group, "r2");
	assert_int_equal(q->claim_after_ms, MANIFEST_DEFAULT_CLAIM_AFTER_MS);
	assert_int_equal(q->claim_after_ms, 30000);
	assert_int_equal(q->connect_timeout_ms, 10000);
	assert_false(m->queues[3].redis);
	manifest_free(m);
	unsetenv("PYT_TEST_REDIS");
}

/* Redis keys on a memory queue, broadcast, and malformed URLs. */
static void
test_redis_errors(void **state)
{
	expect_diag(
	    "version: 1\n"
	    "queues:\n"
	    "  a: {url: \"redis://h\", stream: s, claim_after: 1s}\n"
	    "  b: {backend: redis}\n"
	    "  c: {backend: redis, url: \"redis://h\", mode: broadcast}\n"
	    "  d: {backend: redsi, url: x}\n"
	    "  e: {backend: redis, url: \"redis://h\", stream: \"\", group: [g], "
	    "claim_after: 0}\n",
	    "t.yaml:3:7: queues.a.url: only a queue with backend: redis takes "
	    "url\n"
	    "t.yaml:3:25: queues.a.stream: only a queue with backend: redis "
	    "takes stream\n"
	    "t.yaml:3:36: queues.a.claim_after: only a queue with backend: "
	    "redis takes claim_after\n"
	    "t.yaml:4:3: queues.b: missing key \"url\" (backend: redis needs a "
	    "URL such as redis://127.0.0.1:6379/0)\n"
	    "t.yaml:5:47: queues.c.mode: broadcast is not supported with "
	    "backend: redis (the consumers of a Redis consumer group share its "
	    "items; declare one queue per consumer instead)\n"
	    "t.yaml:6:16: queues.d.backend: expected one of memory, redis; got "
	    "\"redsi\" (did you mean \"redis\"?)\n"
	    "t.yaml:7:49: queues.e.stream: expected a stream name; got \"\"\n"
	    "t.yaml:7:60: queues.e.group: expected a consumer group name; got "
	    "a sequence\n"
	    "t.yaml:7:78: queues.e.claim_after: expected a duration greater "
	    "than 0; got 0\n");
	expect_diag(
	    "version: 1\n"
	    "queues:\n"
	    "  a: {backend: redis, url: \"http://h\"}\n"
	    "  b: {backend: redis, url: \"rediss://h\"}\n"
	    "  c: {backend: redis, url: \"redis://:secret@h:99999\"}\n"
	    "  d: {backend: redis, url: \"redis://h/x\"}\n"
	    "  e: {backend: redis, url: \"redis://\"}\n"
	    "  f: {backend: redis, url: \"redis://pw@h\"}\n"
	    "  g: {backend: redis, url: \"redis://:@h\"}\n"
	    "  h: {backend: redis, url: \"${PYT_TEST_UNSET}\"}\n",
	    "t.yaml:3:28: queues.a.url: expected a URL such as "
	    "redis://127.0.0.1:6379/0; got \"http://h\" (the URL does not start "
	    "with redis://)\n"
	    "t.yaml:4:28: queues.b.url: expected a URL such as "
	    "redis://127.0.0.1:6379/0; got \"rediss://h\" (rediss:// (TLS) is "
	    "not supported)\n"
	    "t.yaml:5:28: queues.c.url: expected a URL such as "
	    "redis://127.0.0.1:6379/0; got \"redis://***@h:99999\" (the port is "
	    "a number from 1 to 65535)\n"
	    "t.yaml:6:28: queues.d.url: expected a URL such as "
	    "redis://127.0.0.1:6379/0; got \"redis://h/x\" (the database is a "
	    "number, as in /0)\n"
	    "t.yaml:7:28: queues.e.url: expected a URL such as "
	    "redis://127.0.0.1:6379/0; got \"redis://\" (no host)\n"
	    "t.yaml:8:28: queues.f.url: expected a URL such as "
	    "redis://127.0.0.1:6379/0; got \"redis://***@h\" (expected "
	    ":PASSWORD@ before the host)\n"
	    "t.yaml:9:28: queues.g.url: expected a URL such as "
	    "redis://127.0.0.1:6379/0; got \"redis://***@h\" (empty password)\n"
	    "t.yaml:10:29: queues.h.url: variable PYT_TEST_UNSET is not set "
	    "(write ${PYT_TEST_UNSET:-default} to give a default)\n");
}

/* The address parsers the runtime shares. */
static void
test_parse_addresses(void **state)
{
	struct redis_url	 ru;
	const char		*errstr;
	char			*host, *port;

	assert_int_equal(manifest_parse_hostport("h.example:8080", NULL, &host,
	    &port, &errstr), 0);
	assert_string_equal(host, "h.example");
	assert_string_equal(port, "8080");
	free(host);
	free(port);
	assert_int_equal(manifest_parse_hostport("[::1]", "80", &host, &port,
	    &errstr), 0);
	assert_string_equal(host, "::1");
	assert_string_equal(port, "80");
	free(host);
	free(port);
	assert_int_equal(manifest_parse_hostport("h", NULL, &host, &port,
	    &errstr), -1);
	assert_string_equal(errstr, "no port");
	assert_null(host);
	assert_int_equal(manifest_parse_hostport("[::1]x", NULL, &host, &port,
	    &errstr), -1);
	assert_string_equal(errstr, "expected \":PORT\" after the address");

	assert_int_equal(manifest_parse_redis_url("redis://localhost", &ru,
	    &errstr), 0);
	assert_null(ru.user);
	assert_null(ru.password);
	assert_string_equal(ru.host, "localhost");
	assert_int_equal(ru.port, MANIFEST_REDIS_DEFAULT_PORT);
	assert_int_equal(ru.db, 0);
	manifest_redis_url_release(&ru);
	assert_int_equal(manifest_parse_redis_url("redis://:p@ss/w@[::1]:7000/"
	    "3", &ru, &errstr), 0);
	assert_null(ru.user);
	assert_string_equal(ru.password, "p@ss/w");
	assert_string_equal(ru.host, "::1");
	assert_int_equal(ru.port, 7000);
	assert_int_equal(ru.db, 3);
	manifest_redis_url_release(&ru);
	assert_int_equal(manifest_parse_redis_url("redis://app:pw@h/", &ru,
	    &errstr), 0);
	assert_string_equal(ru.user, "app");
	assert_string_equal(ru.password, "pw");
	assert_int_equal(ru.db, 0);
	manifest_redis_url_release(&ru);
	assert_int_equal(manifest_parse_redis_url("redis://h:1/99999999999",
	    &ru, &errstr), -1);
	assert_null(ru.host);
}

/* Every new key printed, with defaults, loads back the same. */
static void
test_print_orchestration(void **state)
{
	struct manifest	*m, *m2;
	char		*text, *text2;
	size_t		 i;

	m = load_ok(
	    "version: 1\n"
	    "queues:\n"
	    "  jobs: {backend: redis, url: \"redis://:pw@[::1]/1\", group: g}\n"
	    "  local: {}\n"
	    "processes:\n"
	    "  db:\n"
	    "    cmd: [postgres]\n"
	    "    ready: {tcp: \"[::1]:5432\", interval: 500ms}\n"
	    "    ready_timeout: 0\n"
	    "    limits: {nofile: 4096, as: 1GiB, cpu: 1.5s, core: 0, "
	    "fsize: 1000, nproc: unlimited}\n"
	    "    umask: 022\n"
	    "    user: postgres\n"
	    "    group: \"70\"\n"
	    "    stdout: {file: /tmp/db.log, max_size: 10MiB, backups: 3}\n"
	    "    stderr: [inherit, {file: /tmp/db.err, backups: 5}, "
	    "{file: /tmp/e2, backups: 0}]\n"
	    "  web:\n"
	    "    cmd: [web]\n"
	    "    depends_on: {db: ready, migrate: succeeded}\n"
	    "    ready: {http: \"http://localhost:8080/health?x=1\"}\n"
	    "    stdout: [jobs, local]\n"
	    "  w1: {cmd: [x], ready: {line: \"^up \\\\$[0-9]+$\"}, stdin: jobs, "
	    "depends_on: [web]}\n"
	    "  w2: {cmd: [x], ready: {exec: [probe, \"a b\"]}, stdin: local}\n"
	    "  w3: {cmd: [x], ready: {fd: 5}}\n"
	    "  plain: {cmd: [x]}\n"
	    "tasks:\n"
	    "  migrate: {run: [\"echo m\"], depends_on: {db: ready}}\n");
	m2 = reprint(m, &text);
	manifest_free(reprint(m2, &text2));
	assert_string_equal(text, text2);
	free(text2);
	for (i = 0; i < m->nprocs; i++)
		if (!manifest_proc_equal(&m->procs[i], &m2->procs[i]))
			fail_msg("process %s changed in print:\n%s",
			    m->procs[i].name, text);
	for (i = 0; i < m->ntasks; i++)
		assert_true(manifest_task_equal(&m->tasks[i], &m2->tasks[i]));
	for (i = 0; i < m->nqueues; i++)
		assert_true(manifest_queue_equal(&m->queues[i],
		    &m2->queues[i]));
	assert_non_null(strstr(text, "    backend: memory\n"));
	assert_non_null(strstr(text, "    backend: redis\n    url: "
	    "\"redis://:pw@[::1]/1\"\n    stream: \"jobs\"\n    group: \"g\"\n"
	    "    claim_after: 30s\n    connect_timeout: 10s\n"));
	assert_non_null(strstr(text, "    ready: {tcp: \"[::1]:5432\", "
	    "interval: 500ms}\n    ready_timeout: 0s\n"));
	assert_non_null(strstr(text, "    limits: {nofile: 4096, nproc: "
	    "unlimited, core: 0, as: 1GiB, cpu: 2, fsize: 1000}\n"));
	assert_non_null(strstr(text, "    umask: \"0022\"\n    user: "
	    "\"postgres\"\n    group: \"70\"\n"));
	assert_non_null(strstr(text, "    stdout: {file: \"/tmp/db.log\", "
	    "max_size: 10MiB, backups: 3}\n"));
	assert_non_null(strstr(text, "    stderr: [inherit, \"file:/tmp/db.err\""
	    ", {file: \"/tmp/e2\", max_size: 0, backups: 0}]\n"));
	assert_non_null(strstr(text, "    depends_on: {\"db\": ready, "
	    "\"migrate\": succeeded}\n"));
	assert_non_null(strstr(text, "    ready: {http: "
	    "\"http://localhost:8080/health?x=1\", interval: 1s}\n"));
	assert_non_null(strstr(text, "    depends_on: {\"web\": started}\n"));
	assert_non_null(strstr(text, "    ready: {exec: [\"probe\", \"a b\"], "
	    "interval: 1s}\n"));
	assert_non_null(strstr(text, "    ready: {fd: 5}\n    ready_timeout: "
	    "1m\n"));
	assert_non_null(strstr(text, "    ready: {line: \"^up \\\\$[0-9]+$\"}\n"));
	/* Defaults of a process without any of the new keys. */
	assert_non_null(strstr(text, "    depends_on: {}\n    ready: null\n"
	    "    ready_timeout: 1m\n    liveness: null\n    limits: {}\n"
	    "    umask: null\n    user: null\n    group: null\n"));
	free(text);
	manifest_free(m);
	manifest_free(m2);
}

/* Loading text must succeed; warnings are allowed. */
static struct manifest *
load_quiet(const char *text)
{
	struct diag	 d;
	struct manifest	*m;
	char		*out;

	m = load(text, &d);
	if (m == NULL) {
		out = printed(&d);
		fail_msg("unexpected errors for:\n%s\n%s", text, out);
	}
	diag_release(&d);
	return m;
}

/* The lines of one unit, with change ("key: value") replacing its key's. */
static void
add_unit(struct buf *b, const char *name, const char *const *lines,
    const char *change)
{
	size_t	i, klen = change != NULL ? strcspn(change, ":") + 1 : 0;
	int	done = 0;

	buf_addf(b, "  %s:\n", name);
	for (i = 0; lines[i] != NULL; i++) {
		if (change != NULL && strncmp(lines[i], change, klen) == 0) {
			buf_addf(b, "    %s\n", change);
			done = 1;
		} else
			buf_addf(b, "    %s\n", lines[i]);
	}
	if (change != NULL && !done)
		buf_addf(b, "    %s\n", change);
}

static const char *const eq_proc[] = {
	"cmd: [x, y]", "env: {A: \"1\"}", "autostart: false",
	"stdout: [q, {file: /tmp/o, max_size: 1M}]", "stdin: q",
	"replicas: 2", "depends_on: {d: started, t: ready}",
	"ready: {tcp: \"h:1\"}", "ready_timeout: 30s",
	"limits: {nofile: 10, cpu: 5}", "umask: 022", NULL
};
static const char *const eq_task[] = {
	"run: [\"echo a\", {loop: [\"echo b\"]}, \"echo c\"]",
	"autostart: false", "depends_on: {d: started}", NULL
};
static const char *const eq_queue[] = {
	"capacity: 10", "mode: broadcast", NULL
};
static const char *const eq_redis[] = {
	"backend: redis", "url: \"redis://h\"", "stream: s", NULL
};

/*
 * A manifest with process a, task t and queue q (a Redis one if redis),
 * one of them changed; moved says to reorder units and add comments,
 * which changes only their places.
 */
static char *
eq_text(const char *pchange, const char *tchange, const char *qchange,
    int redis, int moved)
{
	struct buf	b;

	buf_init(&b);
	buf_adds(&b, moved ? "# moved\nversion: 1\n\nqueues:\n" :
	    "version: 1\nqueues:\n");
	add_unit(&b, "q", redis ? eq_redis : eq_queue, qchange);
	buf_adds(&b, "processes:\n");
	if (moved)
		buf_adds(&b, "  d: {cmd: [x], stdout: q}\n\n");
	add_unit(&b, "a", eq_proc, pchange);
	if (!moved)
		buf_adds(&b, "  d: {cmd: [x], stdout: q}\n");
	buf_adds(&b, "tasks:\n");
	add_unit(&b, "t", eq_task, tchange);
	return buf_steal(&b);
}

/* Compare a, t and q of base and of text: each must be equal or not. */
static void
expect_equal(const char *base, const char *text, int peq, int teq, int qeq)
{
	struct manifest	*m, *m2;

	m = load_quiet(base);
	m2 = load_quiet(text);
	if (manifest_proc_equal(manifest_find_proc(m, "a"),
	    manifest_find_proc(m2, "a")) != peq ||
	    manifest_task_equal(manifest_find_task(m, "t"),
	    manifest_find_task(m2, "t")) != teq ||
	    manifest_queue_equal(manifest_find_queue(m, "q"),
	    manifest_find_queue(m2, "q")) != qeq)
		fail_msg("want process %s, task %s, queue %s for:\n%s",
		    peq ? "equal" : "changed", teq ? "equal" : "changed",
		    qeq ? "equal" : "changed", text);
	manifest_free(m);
	manifest_free(m2);
}

/* Reload: equal specs keep running; any field that differs is a change. */
static void
test_equal(void **state)
{
	static const char *const proc_changes[] = {
		"cmd: [x, z]", "cmd: [x]", "cwd: /tmp", "env: {A: \"2\"}",
		"env: {A: \"1\", B: \"1\"}", "autostart: true",
		"restart: always", "backoff: {initial: 1s, max: 30s}",
		"max_restarts: 4", "stop_signal: INT", "stop_timeout: 11s",
		"stdout: [q, {file: /tmp/o, max_size: 2M}]",
		"stdout: [q, {file: /tmp/o, max_size: 1M, backups: 6}]",
		"stdout: [q, \"file:/tmp/o\"]", "stdout: q",
		"stderr: null", "stdin: null", "replicas: 3",
		"depends_on: [d, t]", "depends_on: {d: started, t: succeeded}",
		"depends_on: {t: ready, d: started}",
		"ready: {tcp: \"h:2\"}", "ready: {tcp: \"h:1\", interval: 2s}",
		"ready: {http: \"http://h:1/\"}", "ready: {line: x}",
		"ready: null", "ready_timeout: 1m",
		"limits: {nofile: 11, cpu: 5}", "limits: {nofile: 10}",
		"limits: {nofile: 10, cpu: 5, core: 0}",
		"umask: 027", "umask: ~", "user: root", "group: adm",
	};
	static const char *const proc_same[] = {
		"cmd: [\"x\", 'y']", "ready: {tcp: \"h:01\", interval: 1s}",
		"limits: {cpu: 4.5s, nofile: 10}", "umask: \"0022\"",
		"ready_timeout: 30000ms", "stdin: \"q\"",
		"stdout: [q, {file: /tmp/o, max_size: 1024k, backups: 5}]",
	};
	static const char *const task_changes[] = {
		"run: [\"echo a\", {loop: [\"echo b\"]}]",
		"run: [\"echo a\", {loop: [\"echo B\"]}, \"echo c\"]",
		"run: [\"echo a\", {repeat 2: [\"echo b\"]}, \"echo c\"]",
		"run: [\"echo a\", {loop: [\"echo b\", break]}, \"echo c\"]",
		"run: [\"echo a\", \"echo b\", \"echo c\"]",
		"on_cancel: [\"echo x\"]", "autostart: true",
		"restart: on-failure", "max_restarts: 1",
		"backoff: {initial: 1s, max: 1m}",
		"cancel_timeout: 1s", "stdout: null", "depends_on: []",
		"depends_on: {d: ready}",
	};
	static const char *const task_same[] = {
		"on_cancel: []", "run: ['echo a', {loop: ['echo b']}, 'echo c']",
		"depends_on: [d]",
	};
	static const char *const queue_changes[] = {
		"capacity: 11", "mode: share", "overflow: drop-newest",
	};
	static const char *const redis_changes[] = {
		"url: \"redis://h:6380\"", "stream: s2", "group: g2",
		"claim_after: 1m", "connect_timeout: 1s", "backend: memory",
	};
	static const char *const redis_same[] = {
		"group: q", "claim_after: 30s", "connect_timeout: 10s",
	};
	char	*base, *text;
	size_t	 i;

	base = eq_text(NULL, NULL, NULL, 0, 0);
	expect_equal(base, base, 1, 1, 1);
	text = eq_text(NULL, NULL, NULL, 0, 1);
	expect_equal(base, text, 1, 1, 1);
	free(text);
	for (i = 0; i < sizeof proc_changes / sizeof proc_changes[0]; i++) {
		text = eq_text(proc_changes[i], NULL, NULL, 0, 0);
		expect_equal(base, text, 0, 1, 1);
		free(text);
	}
	for (i = 0; i < sizeof proc_same / sizeof proc_same[0]; i++) {
		text = eq_text(proc_same[i], NULL, NULL, 0, 0);
		expect_equal(base, text, 1, 1, 1);
		free(text);
	}
	for (i = 0; i < sizeof task_changes / sizeof task_changes[0]; i++) {
		text = eq_text(NULL, task_changes[i], NULL, 0, 0);
		expect_equal(base, text, 1, 0, 1);
		free(text);
	}
	for (i = 0; i < sizeof task_same / sizeof task_same[0]; i++) {
		text = eq_text(NULL, task_same[i], NULL, 0, 0);
		expect_equal(base, text, 1, 1, 1);
		free(text);
	}
	for (i = 0; i < sizeof queue_changes / sizeof queue_changes[0]; i++) {
		text = eq_text(NULL, NULL, queue_changes[i], 0, 0);
		expect_equal(base, text, 1, 1, 0);
		free(text);
	}
	free(base);

	base = eq_text(NULL, NULL, NULL, 1, 0);
	expect_equal(base, base, 1, 1, 1);
	for (i = 0; i < sizeof redis_changes / sizeof redis_changes[0]; i++) {
		text = eq_text(NULL, NULL, redis_changes[i], 1, 0);
		if (strcmp(redis_changes[i], "backend: memory") == 0) {
			/* Memory: url and stream are then errors; drop them. */
			free(text);
			text = eq_text(NULL, NULL, NULL, 0, 0);
		}
		expect_equal(base, text, 1, 1, 0);
		free(text);
	}
	for (i = 0; i < sizeof redis_same / sizeof redis_same[0]; i++) {
		text = eq_text(NULL, NULL, redis_same[i], 1, 0);
		expect_equal(base, text, 1, 1, 1);
		free(text);
	}
	free(base);
}

/* <<: merges anchored mappings; the mapping's own keys win, then the first. */
static void
test_merge_keys(void **state)
{
	struct manifest		*m;
	struct proc_spec	*p;

	m = load_ok(
	    "version: 1\n"
	    "x-base: &base {restart: on-failure, stop_timeout: 30s, "
	    "env: {A: \"1\"}}\n"
	    "x-fast: &fast {stop_timeout: 5s, autostart: false}\n"
	    "processes:\n"
	    "  web:\n"
	    "    <<: *base\n"
	    "    cmd: [\"true\"]\n"
	    "    restart: always\n"
	    "  api:\n"
	    "    <<: [*fast, *base]\n"
	    "    cmd: [\"true\"]\n");
	p = manifest_find_proc(m, "web");
	assert_int_equal(p->restart.policy, RESTART_ALWAYS);
	assert_int_equal(p->stop_timeout_ms, 30000);
	assert_int_equal(p->nenv, 1);
	p = manifest_find_proc(m, "api");
	assert_int_equal(p->stop_timeout_ms, 5000);
	assert_int_equal(p->autostart, 0);
	assert_int_equal(p->restart.policy, RESTART_ON_FAILURE);
	manifest_free(m);
	/* A merged value's error is at its own place, under the unit. */
	expect_diag(
	    "version: 1\n"
	    "x-d: &d {restart: sometimes}\n"
	    "processes:\n"
	    "  w: {<<: *d, cmd: [\"true\"]}\n"
	    "  v: {<<: [3], cmd: [\"true\"]}\n",
	    "t.yaml:2:19: processes.w.restart: expected one of never, "
	    "on-failure, always; got \"sometimes\"\n"
	    "t.yaml:5:12: processes.v: expected a mapping or a list of "
	    "mappings to merge (<<: *anchor); got 3\n");
}

/* log_buffer: per unit, the top level's by default, 1MiB without it. */
static void
test_log_buffer(void **state)
{
	struct manifest	*m;

	m = load_ok(
	    "version: 1\n"
	    "processes:\n"
	    "  a: {cmd: [\"true\"]}\n");
	assert_int_equal(m->procs[0].log_buffer, 1024 * 1024);
	manifest_free(m);
	m = load_ok(
	    "version: 1\n"
	    "processes:\n"
	    "  a: {cmd: [\"true\"]}\n"
	    "  b: {cmd: [\"true\"], log_buffer: 64KiB}\n"
	    "tasks:\n"
	    "  t: {run: [echo]}\n"
	    "log_buffer: 4KiB\n");
	assert_int_equal(manifest_find_proc(m, "a")->log_buffer, 4096);
	assert_int_equal(manifest_find_proc(m, "b")->log_buffer, 65536);
	assert_int_equal(manifest_find_task(m, "t")->log_buffer, 4096);
	manifest_free(m);
	expect_diag(
	    "version: 1\n"
	    "processes:\n"
	    "  a: {cmd: [\"true\"], log_buffer: 10}\n",
	    "t.yaml:3:34: processes.a.log_buffer: expected a size from 1KiB "
	    "to 1GiB such as 1MiB; got 10\n");
}

/* Relative paths resolve from the manifest's directory; env_file reads. */
static void
test_paths_env_file(void **state)
{
	char		 dir[] = "/tmp/test_manifest.XXXXXX", *envpath;
	const char	*text;
	struct manifest	*m;
	struct diag	 d;
	FILE		*fp;

	assert_non_null(mkdtemp(dir));
	envpath = xasprintf("%s/.env", dir);
	fp = fopen(envpath, "w");
	assert_non_null(fp);
	fputs("# comment\nA=file\nB=\"q \\\"x\\\"\" # c\nC='$lit'\n"
	    "export D = spaced value  \n", fp);
	fclose(fp);
	text = "version: 1\n"
	    "processes:\n"
	    "  a:\n"
	    "    cmd: [\"true\"]\n"
	    "    cwd: ./sub\n"
	    "    stdout: file:logs/a.log\n"
	    "    env_file: .env\n"
	    "    env: {A: env}\n";
	diag_init(&d, "t.yaml");
	m = manifest_yaml_load_at("t.yaml", dir, text, strlen(text), &d);
	assert_non_null(m);
	assert_int_equal(d.nitems, 0);
	{
		char	*cwd = xasprintf("%s/sub", dir);
		char	*log = xasprintf("%s/logs/a.log", dir);

		assert_string_equal(m->procs[0].cwd, cwd);
		assert_string_equal(m->procs[0].out.dests[0].name, log);
		free(cwd);
		free(log);
	}
	assert_int_equal(m->procs[0].nenv, 4);
	assert_string_equal(m->procs[0].env[0].name, "B");
	assert_string_equal(m->procs[0].env[0].value, "q \"x\"");
	assert_string_equal(m->procs[0].env[1].value, "$lit");
	assert_string_equal(m->procs[0].env[2].name, "D");
	assert_string_equal(m->procs[0].env[2].value, "spaced value");
	assert_string_equal(m->procs[0].env[3].name, "A");
	assert_string_equal(m->procs[0].env[3].value, "env");
	manifest_free(m);
	diag_release(&d);
	assert_int_equal(unlink(envpath), 0);
	assert_int_equal(rmdir(dir), 0);
	free(envpath);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_process_defaults),
		cmocka_unit_test(test_process_all_keys),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_interpolation),
		cmocka_unit_test(test_queues),
		cmocka_unit_test(test_tasks),
		cmocka_unit_test(test_task_flow),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_print_roundtrip),
		cmocka_unit_test(test_print_not_utf8),
		cmocka_unit_test(test_bad_types),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_unknown_refs),
		cmocka_unit_test(test_bad_steps),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_error_bound),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_limit_depth),
		cmocka_unit_test(test_limit_laughs),
		cmocka_unit_test(test_limit_aliases),
		cmocka_unit_test(test_limit_nodes),
		cmocka_unit_test(test_limit_size),
		cmocka_unit_test(test_warn_flow),
		cmocka_unit_test(test_warn_cycles),
		cmocka_unit_test(test_long_chain),
		cmocka_unit_test(test_deps),
		cmocka_unit_test(test_deps_errors),
		cmocka_unit_test(test_deps_long_cycle),
		cmocka_unit_test(test_ready),
		cmocka_unit_test(test_ready_errors),
		cmocka_unit_test(test_dest_rotate),
		cmocka_unit_test(test_dest_rotate_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_umask_user),
		cmocka_unit_test(test_redis_queue),
		cmocka_unit_test(test_redis_errors),
		cmocka_unit_test(test_parse_addresses),
		cmocka_unit_test(test_print_orchestration),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_merge_keys),
		cmocka_unit_test(test_log_buffer),
		cmocka_unit_test(test_paths_env_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
