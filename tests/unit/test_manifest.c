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

#include <cmocka.h>

#include "buf.h"
#include "diag.h"
#include "manifest.h"
#include "script.h"

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
	if (strcmp(out, want) != 0)
		fail_msg("for:\n%s\nwant:\n%s\ngot:\n%s", text, want, out);
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
	    "file:PATH or a queue name; got a mapping\n");
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
	    "t.yaml:3:23: processes.w.env: invalid variable name \"A=B\"\n"
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
	    "t.yaml:8:15: tasks.t.run: unknown process or task \"wbe\"\n"
	    "t.yaml:9:16: tasks.t.run: unknown process or task \"webb\" (did "
	    "you mean \"web\"?)\n"
	    "t.yaml:10:18: tasks.t.run: unknown queue \"jbos\"\n"
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
	    "stderr or put names this queue\n"
	    "t.yaml:3:3: warning: queues.orphan: no consumer: no stdin, get "
	    "or for names this queue\n"
	    "t.yaml:4:3: warning: queues.sink: no consumer: no stdin, get or "
	    "for names this queue\n"
	    "t.yaml:5:3: warning: queues.source: no producer: no stdout, "
	    "stderr or put names this queue\n");
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
