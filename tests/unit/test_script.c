/*
 * Unit tests of the task-script parser: every tokenizer rule and error,
 * every builtin's argument checks with their exact messages, block
 * headers, and the walk over queue and unit references.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>

#include <cmocka.h>

#include "buf.h"
#include "diag.h"
#include "script.h"

#define PATH	"tasks.t.run[0]"
#define LINE	7
#define COL	10

/* A word as "L<text>|V<name>|..." so one string compares all its parts. */
static char *
render(const struct word *w)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	for (i = 0; i < w->nparts; i++) {
		if (i > 0)
			buf_addc(&b, '|');
		buf_addc(&b, w->parts[i].kind == PART_LITERAL ? 'L' : 'V');
		buf_add(&b, w->parts[i].text, w->parts[i].len);
		assert_int_equal(strlen(w->parts[i].text), w->parts[i].len);
	}
	return buf_steal(&b);
}

/*
 * Tokenize text and compare with the expected words, given as rendered
 * strings and offsets, terminated by NULL.
 */
static void
expect_tokens(const char *text, ...)
{
	struct word	*words;
	size_t		 nwords, i = 0;
	const char	*errstr, *want;
	size_t		 erroff;
	char		*got;
	va_list		 ap;

	assert_int_equal(script_tokenize(text, &words, &nwords, &errstr,
	    &erroff), 0);
	assert_null(errstr);
	va_start(ap, text);
	while ((want = va_arg(ap, const char *)) != NULL) {
		assert_true(i < nwords);
		got = render(&words[i]);
		assert_string_equal(got, want);
		free(got);
		assert_int_equal(words[i].col, va_arg(ap, int));
		i++;
	}
	va_end(ap);
	assert_int_equal(i, nwords);
	script_words_free(words, nwords);
}

/* Tokenizing text fails with errstr at byte offset off. */
static void
expect_token_error(const char *text, const char *want, size_t off)
{
	struct word	*words;
	size_t		 nwords, erroff;
	const char	*errstr;

	assert_int_equal(script_tokenize(text, &words, &nwords, &errstr,
	    &erroff), -1);
	assert_string_equal(errstr, want);
	assert_int_equal(erroff, off);
	assert_null(words);
	assert_int_equal(nwords, 0);
}

/* Parse a command that must succeed; the caller releases st. */
static void
parse_ok(const char *text, struct step *st)
{
	struct diag	d;

	diag_init(&d, "m.yaml");
	if (script_parse_command(text, LINE, COL, PATH, &d, st) != 0) {
		print_error("unexpected: %s\n", d.nitems ? d.items[0].msg : "");
		fail();
	}
	assert_int_equal(d.nitems, 0);
	diag_release(&d);
	assert_int_equal(st->kind, STEP_COMMAND);
	assert_int_equal(st->line, LINE);
	assert_int_equal(st->col, COL);
	assert_string_equal(st->text, text);
}

/*
 * Parse text with fn (command or block) and expect exactly the given
 * messages (without the path prefix) at the given offsets, NULL-ended.
 */
static void
expect_errors(int block, const char *text, ...)
{
	struct diag	 d;
	struct step	 st, zero;
	const char	*want;
	char		*full;
	size_t		 i = 0;
	int		 rc;
	va_list		 ap;

	diag_init(&d, "m.yaml");
	memset(&st, 0x5a, sizeof st);
	if (block)
		rc = script_parse_block(text, LINE, COL, PATH, &d, &st);
	else
		rc = script_parse_command(text, LINE, COL, PATH, &d, &st);
	assert_int_equal(rc, -1);
	va_start(ap, text);
	while ((want = va_arg(ap, const char *)) != NULL) {
		assert_true(i < d.nitems);
		full = malloc(strlen(PATH) + strlen(want) + 3);
		assert_non_null(full);
		sprintf(full, "%s: %s", PATH, want);
		assert_string_equal(d.items[i].msg, full);
		free(full);
		assert_int_equal(d.items[i].level, DIAG_ERROR);
		assert_int_equal(d.items[i].line, LINE);
		assert_int_equal(d.items[i].col, COL + va_arg(ap, int));
		i++;
	}
	va_end(ap);
	assert_int_equal(i, d.nitems);
	/* A failed step is left zeroed: nothing to free, nothing to walk. */
	memset(&zero, 0, sizeof zero);
	assert_memory_equal(&st, &zero, sizeof st);
	diag_release(&d);
}

#define CMD_ERR(text, ...)	expect_errors(0, text, __VA_ARGS__, NULL)
#define BLOCK_ERR(text, ...)	expect_errors(1, text, __VA_ARGS__, NULL)

/* ---------------------------------------------------------- tokenizer */

static void
test_tok_blanks(void **state)
{
	expect_tokens("", NULL);
	expect_tokens("   \t ", NULL);
	expect_tokens("echo", "Lecho", 0, NULL);
	expect_tokens("  echo \t a\tb  ", "Lecho", 2, "La", 9, "Lb", 11, NULL);
	expect_tokens("a\nb\r\nc", "La", 0, "Lb", 2, "Lc", 5, NULL);
}

static void
test_tok_single_quotes(void **state)
{
	expect_tokens("'a b' 'x\"$y\\z'", "La b", 0, "Lx\"$y\\z", 6, NULL);
	expect_tokens("''", "L", 0, NULL);
	expect_tokens("a'' ''b", "La", 0, "Lb", 4, NULL);
	expect_tokens("'#not'", "L#not", 0, NULL);
}

static void
test_tok_double_quotes(void **state)
{
	expect_tokens("\"a b\"", "La b", 0, NULL);
	expect_tokens("\"\"", "L", 0, NULL);
	expect_tokens("\"x $line y\"", "Lx |Vline|L y", 0, NULL);
	expect_tokens("\"${a}b\"", "Va|Lb", 0, NULL);
	expect_tokens("\"\\\"\\\\\\$x\"", "L\"\\$x", 0, NULL);
	/* Other backslashes stay, as in sh. */
	expect_tokens("\"a\\nb\\'\"", "La\\nb\\'", 0, NULL);
	expect_tokens("\"'$x'\"", "L'|Vx|L'", 0, NULL);
	expect_tokens("\"#x\"", "L#x", 0, NULL);
}

static void
test_tok_backslash(void **state)
{
	expect_tokens("a\\ b", "La b", 0, NULL);
	expect_tokens("\\'x\\\" \\$y \\\\", "L'x\"", 0, "L$y", 6, "L\\", 10,
	    NULL);
	expect_tokens("\\#x", "L#x", 0, NULL);
	/* Backslash-newline joins the lines. */
	expect_tokens("ab\\\ncd e", "Labcd", 0, "Le", 7, NULL);
}

static void
test_tok_variables(void **state)
{
	expect_tokens("$line", "Vline", 0, NULL);
	expect_tokens("$_a1-b", "V_a1|L-b", 0, NULL);
	expect_tokens("${index}x", "Vindex|Lx", 0, NULL);
	expect_tokens("$1 $9 ${2}", "V1", 0, "V9", 3, "V2", 6, NULL);
	/* One digit only: $10 is $1 then "0", as in sh. */
	expect_tokens("$10", "V1|L0", 0, NULL);
	expect_tokens("$a$b", "Va|Vb", 0, NULL);
	/* A dollar that starts no name is literal. */
	expect_tokens("$ a$ $- \"$\" 5$", "L$", 0, "La$", 2, "L$-", 5, "L$", 8,
	    "L5$", 12, NULL);
}

static void
test_tok_concat(void **state)
{
	/* Adjacent literal pieces merge into one part. */
	expect_tokens("\"a\"'b'$c", "Lab|Vc", 0, NULL);
	expect_tokens("x\"a\"'b'c\\ d", "Lxabc d", 0, NULL);
	expect_tokens("''$x", "Vx", 0, NULL);
	expect_tokens("pre${v}'$lit'\"$w\"post", "Lpre|Vv|L$lit|Vw|Lpost", 0,
	    NULL);
}

static void
test_tok_comments(void **state)
{
	expect_tokens("# all comment", NULL);
	expect_tokens("echo hi # there 'unterminated", "Lecho", 0, "Lhi", 5,
	    NULL);
	expect_tokens("a#b #c", "La#b", 0, NULL);
	expect_tokens("a # x\nb", "La", 0, "Lb", 6, NULL);
	expect_tokens("\"a\"#b", "La#b", 0, NULL);
}

static void
test_tok_errors(void **state)
{
	expect_token_error("echo 'abc", "unterminated single quote", 5);
	expect_token_error("echo \"abc", "unterminated double quote", 5);
	expect_token_error("echo \"abc\\\"", "unterminated double quote", 5);
	expect_token_error("echo \"a\\", "unterminated double quote", 5);
	expect_token_error("x ${abc", "unterminated ${", 2);
	expect_token_error("x \"${abc\"", "unterminated ${", 3);
	expect_token_error("x ${}", "empty variable name in ${}", 2);
	expect_token_error("x ${a b}", "invalid variable name in ${...}", 2);
	expect_token_error("x ${a-b}", "invalid variable name in ${...}", 2);
	expect_token_error("x ${12}", "invalid variable name in ${...}", 2);
	expect_token_error("x ${1a}", "invalid variable name in ${...}", 2);
	expect_token_error("echo \\", "trailing backslash", 5);
	expect_token_error("a b\\", "trailing backslash", 3);
}

/* ----------------------------------------------------------- builtins */

static void
test_echo(void **state)
{
	struct step	st;

	parse_ok("echo", &st);
	assert_int_equal(st.builtin, BUILTIN_ECHO);
	assert_int_equal(st.nwords, 1);
	assert_int_equal(st.words[0].col, COL);
	script_step_release(&st);

	parse_ok("echo \"$line\" and  more", &st);
	assert_int_equal(st.nwords, 4);
	/* Columns in a parsed step are absolute. */
	assert_int_equal(st.words[1].col, COL + 5);
	assert_int_equal(st.words[3].col, COL + 18);
	script_step_release(&st);

	parse_ok("  echo hi # comment", &st);
	assert_int_equal(st.nwords, 2);
	script_step_release(&st);
}

static void
test_unknown(void **state)
{
	CMD_ERR("ehco hi",
	    "unknown builtin \"ehco\" (did you mean \"echo\"?)", 0);
	CMD_ERR("  slep 1",
	    "unknown builtin \"slep\" (did you mean \"sleep\"?)", 2);
	CMD_ERR("frobnicate", "unknown builtin \"frobnicate\"", 0);
	CMD_ERR("$cmd x",
	    "the command name must be a literal builtin; got \"${cmd}\"", 0);
	CMD_ERR("", "empty step", 0);
	CMD_ERR("  # only a comment", "empty step", 0);
	CMD_ERR("echo 'oops", "unterminated single quote", 5);
	CMD_ERR("echo ${", "unterminated ${", 5);
}

static void
test_sleep(void **state)
{
	struct step	st;

	parse_ok("sleep 1.5s", &st);
	assert_int_equal(st.builtin, BUILTIN_SLEEP);
	assert_true(st.has_duration);
	assert_int_equal(st.duration_ms, 1500);
	script_step_release(&st);

	parse_ok("sleep 250ms", &st);
	assert_int_equal(st.duration_ms, 250);
	script_step_release(&st);

	parse_ok("sleep 0", &st);
	assert_true(st.has_duration);
	assert_int_equal(st.duration_ms, 0);
	script_step_release(&st);

	/* A variable is checked when the step runs. */
	parse_ok("sleep $delay", &st);
	assert_false(st.has_duration);
	script_step_release(&st);

	CMD_ERR("sleep", "sleep: expected 1 argument (DURATION), got 0", 0);
	CMD_ERR("sleep 1 2", "sleep: expected 1 argument (DURATION), got 2", 8);
	CMD_ERR("sleep soon",
	    "sleep: expected a duration such as 250ms, 1.5s, 2m; got \"soon\"",
	    6);
	CMD_ERR("sleep 5x",
	    "sleep: expected a duration such as 250ms, 1.5s, 2m; got \"5x\"",
	    6);
}

static void
test_put(void **state)
{
	struct step	st;

	parse_ok("put jobs", &st);
	assert_int_equal(st.builtin, BUILTIN_PUT);
	assert_string_equal(st.queue, "jobs");
	script_step_release(&st);

	parse_ok("put out-q.1 \"$line\" x", &st);
	assert_string_equal(st.queue, "out-q.1");
	assert_int_equal(st.nwords, 4);
	script_step_release(&st);

	CMD_ERR("put",
	    "put: expected at least 1 argument (QUEUE WORDS...), got 0", 0);
	CMD_ERR("put $q x",
	    "put: queue names in steps are literal; got \"${q}\"", 4);
	CMD_ERR("put q$n x",
	    "put: queue names in steps are literal; got \"q${n}\"", 4);
	CMD_ERR("put 'a b' x", "put: invalid queue name \"a b\"", 4);
	CMD_ERR("put '' x", "put: invalid queue name \"\"", 4);
}

static void
test_close(void **state)
{
	struct step	st;

	parse_ok("close jobs", &st);
	assert_int_equal(st.builtin, BUILTIN_CLOSE);
	assert_string_equal(st.queue, "jobs");
	assert_string_equal(script_builtin_name(st.builtin), "close");
	script_step_release(&st);

	CMD_ERR("close",
	    "close: expected 1 argument (QUEUE), got 0", 0);
	CMD_ERR("close a b",
	    "close: expected 1 argument (QUEUE), got 2", 8);
	CMD_ERR("close $q",
	    "close: queue names in steps are literal; got \"${q}\"", 6);
}

static void
test_get(void **state)
{
	struct step	st;

	parse_ok("get hellos line", &st);
	assert_int_equal(st.builtin, BUILTIN_GET);
	assert_string_equal(st.queue, "hellos");
	assert_string_equal(st.var, "line");
	assert_false(st.has_duration);
	script_step_release(&st);

	parse_ok("get q _x1 2s", &st);
	assert_string_equal(st.var, "_x1");
	assert_true(st.has_duration);
	assert_int_equal(st.duration_ms, 2000);
	script_step_release(&st);

	parse_ok("get q x $t", &st);
	assert_false(st.has_duration);
	script_step_release(&st);

	CMD_ERR("get",
	    "get: expected 2 or 3 arguments (QUEUE NAME [TIMEOUT]), got 0", 0);
	CMD_ERR("get q",
	    "get: expected 2 or 3 arguments (QUEUE NAME [TIMEOUT]), got 1", 0);
	CMD_ERR("get q x 1s more",
	    "get: expected 2 or 3 arguments (QUEUE NAME [TIMEOUT]), got 4", 11);
	CMD_ERR("get q 1x", "get: invalid variable name \"1x\" "
	    "(letters, digits and _, not starting with a digit)", 6);
	CMD_ERR("get q $v", "get: invalid variable name \"${v}\" "
	    "(letters, digits and _, not starting with a digit)", 6);
	CMD_ERR("get q x later",
	    "get: expected a duration such as 250ms, 1.5s, 2m; got \"later\"",
	    8);
	/* Every problem of the step is reported, not just the first. */
	CMD_ERR("get $q 1x never",
	    "get: queue names in steps are literal; got \"${q}\"", 4,
	    "get: invalid variable name \"1x\" "
	    "(letters, digits and _, not starting with a digit)", 7,
	    "get: expected a duration such as 250ms, 1.5s, 2m; got \"never\"",
	    10);
}

static void
test_units(void **state)
{
	static const struct {
		const char		*name;
		enum script_builtin	 b;
	} cmds[] = {
		{ "cancel", BUILTIN_CANCEL }, { "restart", BUILTIN_RESTART },
		{ "wait", BUILTIN_WAIT },
	};
	struct step	st;
	char		text[64], msg[128];
	size_t		i, n;

	parse_ok("start ping", &st);
	assert_int_equal(st.builtin, BUILTIN_START);
	assert_string_equal(st.unit, "ping");
	script_step_release(&st);
	parse_ok("start worker a \"$line\" c", &st);
	assert_string_equal(st.unit, "worker");
	assert_int_equal(st.nwords, 5);
	script_step_release(&st);
	CMD_ERR("start",
	    "start: expected at least 1 argument (UNIT [ARGS...]), got 0", 0);
	CMD_ERR("start ${u}",
	    "start: unit names in steps are literal; got \"${u}\"", 6);
	CMD_ERR("start a/b", "start: invalid unit name \"a/b\"", 6);

	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		n = strlen(cmds[i].name);
		snprintf(text, sizeof text, "%s hello", cmds[i].name);
		parse_ok(text, &st);
		assert_int_equal(st.builtin, cmds[i].b);
		assert_string_equal(st.unit, "hello");
		assert_string_equal(script_builtin_name(st.builtin),
		    cmds[i].name);
		script_step_release(&st);

		snprintf(msg, sizeof msg,
		    "%s: expected 1 argument (UNIT), got 0", cmds[i].name);
		CMD_ERR(cmds[i].name, msg, 0);
		snprintf(text, sizeof text, "%s a b", cmds[i].name);
		snprintf(msg, sizeof msg,
		    "%s: expected 1 argument (UNIT), got 2", cmds[i].name);
		CMD_ERR(text, msg, (int)n + 3);
		snprintf(text, sizeof text, "%s $u", cmds[i].name);
		snprintf(msg, sizeof msg,
		    "%s: unit names in steps are literal; got \"${u}\"",
		    cmds[i].name);
		CMD_ERR(text, msg, (int)n + 1);
	}
}

static void
test_signal(void **state)
{
	struct step	st;

	parse_ok("signal hello TERM", &st);
	assert_int_equal(st.builtin, BUILTIN_SIGNAL);
	assert_string_equal(st.unit, "hello");
	assert_int_equal(st.signal, SIGTERM);
	script_step_release(&st);

	parse_ok("signal hello sighup", &st);
	assert_int_equal(st.signal, SIGHUP);
	script_step_release(&st);

	parse_ok("signal hello 9", &st);
	assert_int_equal(st.signal, 9);
	script_step_release(&st);

	/* A variable signal is resolved at run time; 0 says so. */
	parse_ok("signal hello $sig", &st);
	assert_int_equal(st.signal, 0);
	script_step_release(&st);

	CMD_ERR("signal hello",
	    "signal: expected 2 arguments (UNIT SIGNAL), got 1", 0);
	CMD_ERR("signal a b c",
	    "signal: expected 2 arguments (UNIT SIGNAL), got 3", 11);
	CMD_ERR("signal hello FOO",
	    "signal: expected a signal such as TERM, HUP or 9; got \"FOO\"",
	    13);
	CMD_ERR("signal hello 99",
	    "signal: expected a signal such as TERM, HUP or 9; got \"99\"", 13);
	CMD_ERR("signal $u TERM",
	    "signal: unit names in steps are literal; got \"${u}\"", 7);
}

static void
test_set(void **state)
{
	struct step	st;

	parse_ok("set x", &st);
	assert_int_equal(st.builtin, BUILTIN_SET);
	assert_string_equal(st.var, "x");
	script_step_release(&st);

	parse_ok("set greeting hello \"$name\"", &st);
	assert_string_equal(st.var, "greeting");
	assert_int_equal(st.nwords, 4);
	script_step_release(&st);

	CMD_ERR("set",
	    "set: expected at least 1 argument (NAME WORDS...), got 0", 0);
	CMD_ERR("set 9lives x", "set: invalid variable name \"9lives\" "
	    "(letters, digits and _, not starting with a digit)", 4);
	CMD_ERR("set a-b x", "set: invalid variable name \"a-b\" "
	    "(letters, digits and _, not starting with a digit)", 4);
	CMD_ERR("set $n x", "set: invalid variable name \"${n}\" "
	    "(letters, digits and _, not starting with a digit)", 4);
}

static void
test_exit_break(void **state)
{
	struct step	st;

	parse_ok("exit", &st);
	assert_int_equal(st.builtin, BUILTIN_EXIT);
	assert_int_equal(st.nwords, 1);
	script_step_release(&st);

	parse_ok("exit 255", &st);
	assert_int_equal(st.count, 255);
	script_step_release(&st);

	parse_ok("exit $status", &st);
	assert_int_equal(st.nwords, 2);
	script_step_release(&st);

	CMD_ERR("exit 1 2", "exit: expected 0 or 1 arguments ([CODE]), got 2",
	    7);
	CMD_ERR("exit 256",
	    "exit: expected a status from 0 to 255; got \"256\"", 5);
	CMD_ERR("exit -1", "exit: expected a status from 0 to 255; got \"-1\"",
	    5);

	parse_ok("break", &st);
	assert_int_equal(st.builtin, BUILTIN_BREAK);
	script_step_release(&st);
	CMD_ERR("break 2", "break: expected no arguments, got 1", 6);
}

static void
test_builtin_names(void **state)
{
	assert_string_equal(script_builtin_name(BUILTIN_ECHO), "echo");
	assert_string_equal(script_builtin_name(BUILTIN_SLEEP), "sleep");
	assert_string_equal(script_builtin_name(BUILTIN_PUT), "put");
	assert_string_equal(script_builtin_name(BUILTIN_GET), "get");
	assert_string_equal(script_builtin_name(BUILTIN_START), "start");
	assert_string_equal(script_builtin_name(BUILTIN_SIGNAL), "signal");
	assert_string_equal(script_builtin_name(BUILTIN_SET), "set");
	assert_string_equal(script_builtin_name(BUILTIN_EXIT), "exit");
	assert_string_equal(script_builtin_name(BUILTIN_BREAK), "break");
}

static void
test_no_path(void **state)
{
	struct diag	d;
	struct step	st;

	diag_init(&d, "m.yaml");
	assert_int_equal(script_parse_command("ehco", 1, 1, NULL, &d, &st), -1);
	assert_int_equal(script_parse_block("lop", 2, 3, "", &d, &st), -1);
	assert_int_equal(d.nitems, 2);
	assert_string_equal(d.items[0].msg,
	    "unknown builtin \"ehco\" (did you mean \"echo\"?)");
	assert_string_equal(d.items[1].msg,
	    "unknown block \"lop\" (did you mean \"loop\"?)");
	assert_int_equal(d.items[1].line, 2);
	assert_int_equal(d.items[1].col, 3);
	diag_release(&d);
}

/* ------------------------------------------------------------- blocks */

/* Parse a block header that must succeed; the caller releases st. */
static void
block_ok(const char *key, enum step_kind kind, struct step *st)
{
	struct diag	d;

	diag_init(&d, "m.yaml");
	assert_int_equal(script_parse_block(key, LINE, COL, PATH, &d, st), 0);
	assert_int_equal(d.nitems, 0);
	diag_release(&d);
	assert_int_equal(st->kind, kind);
	assert_int_equal(st->line, LINE);
	assert_int_equal(st->col, COL);
	assert_non_null(st->body);
	assert_int_equal(st->body->nsteps, 0);
	assert_string_equal(st->text, key);
}

static void
test_blocks(void **state)
{
	struct step	st;

	block_ok("loop", STEP_LOOP, &st);
	script_step_release(&st);

	block_ok("repeat 5", STEP_REPEAT, &st);
	assert_int_equal(st.count, 5);
	script_step_release(&st);

	block_ok("every 1.5s", STEP_EVERY, &st);
	assert_int_equal(st.duration_ms, 1500);
	assert_true(st.has_duration);
	script_step_release(&st);

	block_ok("for line in jobs", STEP_FOR, &st);
	assert_string_equal(st.var, "line");
	assert_string_equal(st.queue, "jobs");
	assert_int_equal(st.words[3].col, COL + 12);
	script_step_release(&st);
}

static void
test_block_errors(void **state)
{
	BLOCK_ERR("lop", "unknown block \"lop\" (did you mean \"loop\"?)", 0);
	BLOCK_ERR("repaet 3",
	    "unknown block \"repaet\" (did you mean \"repeat\"?)", 0);
	BLOCK_ERR("forever", "unknown block \"forever\" (expected loop, "
	    "repeat N, every DURATION or for NAME in QUEUE)", 0);
	BLOCK_ERR("echo hi", "unknown block \"echo\" "
	    "(quote a command step that contains \": \")", 0);
	BLOCK_ERR("$b", "unknown block \"${b}\" (expected loop, "
	    "repeat N, every DURATION or for NAME in QUEUE)", 0);
	BLOCK_ERR("", "empty block (expected loop, repeat N, every DURATION "
	    "or for NAME in QUEUE)", 0);
	BLOCK_ERR("for \"x", "unterminated double quote", 4);

	BLOCK_ERR("loop 3", "loop: expected no arguments, got 1", 5);

	BLOCK_ERR("repeat", "repeat: expected 1 argument (N), got 0", 0);
	BLOCK_ERR("repeat 1 2", "repeat: expected 1 argument (N), got 2", 9);
	BLOCK_ERR("repeat 0",
	    "repeat: expected a count of 1 or more; got \"0\"", 7);
	BLOCK_ERR("repeat x",
	    "repeat: expected a count of 1 or more; got \"x\"", 7);
	BLOCK_ERR("repeat $n",
	    "repeat: expected a count of 1 or more; got \"${n}\"", 7);

	BLOCK_ERR("every", "every: expected 1 argument (DURATION), got 0", 0);
	BLOCK_ERR("every often",
	    "every: expected a duration such as 250ms, 1.5s, 2m; got \"often\"",
	    6);
	BLOCK_ERR("every $t",
	    "every: expected a duration such as 250ms, 1.5s, 2m; got \"${t}\"",
	    6);
	BLOCK_ERR("every 0ms",
	    "every: expected a duration greater than 0; got \"0ms\"", 6);

	BLOCK_ERR("for x", "for: expected 3 arguments (NAME in QUEUE), got 1",
	    0);
	BLOCK_ERR("for x in q r",
	    "for: expected 3 arguments (NAME in QUEUE), got 4", 11);
	BLOCK_ERR("for x of q",
	    "for: expected \"in\" after the variable name; got \"of\"", 6);
	BLOCK_ERR("for 1x in $q", "for: invalid variable name \"1x\" "
	    "(letters, digits and _, not starting with a digit)", 4,
	    "for: queue names in steps are literal; got \"${q}\"", 10);
}

/* ---------------------------------------------------- tree and walking */

struct ref {
	const char	*name;
	int		 is_queue;
	size_t		 line;
	size_t		 col;
};

struct refs {
	struct ref	r[16];
	size_t		n;
};

/* Record one reference. */
static void
collect(const char *name, int is_queue, size_t line, size_t col, void *arg)
{
	struct refs	*refs = arg;

	assert_true(refs->n < 16);
	refs->r[refs->n].name = name;
	refs->r[refs->n].is_queue = is_queue;
	refs->r[refs->n].line = line;
	refs->r[refs->n].col = col;
	refs->n++;
}

/* Append a parsed command at line to sc. */
static void
add_cmd(struct script *sc, const char *text, size_t line)
{
	struct diag	d;

	diag_init(&d, "m.yaml");
	assert_int_equal(script_parse_command(text, line, 3, NULL, &d,
	    script_add_step(sc)), 0);
	diag_release(&d);
}

/* Append a parsed block at line to sc and return its body. */
static struct script *
add_block(struct script *sc, const char *key, size_t line)
{
	struct diag	 d;
	struct step	*st = script_add_step(sc);

	diag_init(&d, "m.yaml");
	assert_int_equal(script_parse_block(key, line, 3, NULL, &d, st), 0);
	diag_release(&d);
	return st->body;
}

static void
test_walk_refs(void **state)
{
	static const struct ref want[] = {
		{ "a", 1, 1, 7 }, { "b", 1, 2, 7 }, { "c", 1, 3, 12 },
		{ "d", 1, 4, 7 }, { "p", 0, 5, 9 }, { "q", 0, 6, 10 },
		{ "r", 0, 7, 11 }, { "s", 0, 8, 8 }, { "t", 0, 9, 10 },
	};
	struct script	*sc, *body, *inner;
	struct refs	 refs;
	size_t		 i;

	sc = script_new();
	add_cmd(sc, "put a x", 1);
	body = add_block(sc, "loop", 10);
	/* Blocks come before their body in line order too, in real use. */
	add_cmd(body, "get b v", 2);
	inner = add_block(body, "for v in c", 3);
	add_cmd(inner, "echo $v d", 11);
	add_cmd(inner, "put d", 4);
	add_cmd(inner, "start p 1", 5);
	add_cmd(body, "cancel q", 6);
	add_cmd(sc, "restart r", 7);
	add_cmd(sc, "wait s", 8);
	add_cmd(sc, "signal t INT", 9);
	add_cmd(sc, "sleep 1", 12);
	add_cmd(sc, "set x y", 13);

	memset(&refs, 0, sizeof refs);
	script_walk_refs(sc, collect, &refs);
	assert_int_equal(refs.n, sizeof want / sizeof want[0]);
	for (i = 0; i < refs.n; i++) {
		assert_string_equal(refs.r[i].name, want[i].name);
		assert_int_equal(refs.r[i].is_queue, want[i].is_queue);
		assert_int_equal(refs.r[i].line, want[i].line);
		assert_int_equal(refs.r[i].col, want[i].col);
	}
	script_free(sc);

	/* Nothing to walk. */
	memset(&refs, 0, sizeof refs);
	script_walk_refs(NULL, collect, &refs);
	sc = script_new();
	script_walk_refs(sc, collect, &refs);
	assert_int_equal(refs.n, 0);
	script_free(sc);
}

static void
test_tree_free(void **state)
{
	struct script	*sc, *body;
	struct step	 st;
	size_t		 i;

	script_free(NULL);
	script_step_release(NULL);

	/* Many steps, deep nesting: valgrind checks that all is freed. */
	sc = script_new();
	body = sc;
	for (i = 0; i < 50; i++) {
		add_cmd(body, "echo \"$line\" 'x' y$1", i + 1);
		add_cmd(body, "get q v 1s", i + 1);
		body = add_block(body, i % 2 ? "repeat 3" : "for v in q",
		    i + 1);
	}
	assert_int_equal(sc->nsteps, 3);
	script_free(sc);

	/* A released step is zeroed and can be released again. */
	parse_ok("set a b c", &st);
	script_step_release(&st);
	assert_null(st.words);
	assert_null(st.var);
	script_step_release(&st);
}

/* 60,000 steps: the array grows by doubling, never one step at a time. */
static void
test_many_steps(void **state)
{
	struct script	*sc = script_new();
	size_t		 i, grows = 0, cap = 0;

	for (i = 0; i < 60000; i++) {
		(void)script_add_step(sc);
		if (sc->capsteps != cap) {
			cap = sc->capsteps;
			grows++;
		}
	}
	assert_int_equal(sc->nsteps, 60000);
	assert_true(sc->capsteps >= 60000 && sc->capsteps < 2 * 60000);
	assert_true(grows <= 16);
	script_free(sc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tok_blanks),
		cmocka_unit_test(test_tok_single_quotes),
		cmocka_unit_test(test_tok_double_quotes),
		cmocka_unit_test(test_tok_backslash),
		cmocka_unit_test(test_tok_variables),
		cmocka_unit_test(test_tok_concat),
		cmocka_unit_test(test_tok_comments),
		cmocka_unit_test(test_tok_errors),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_sleep),
		cmocka_unit_test(test_put),
		cmocka_unit_test(test_close),
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_exit_break),
		cmocka_unit_test(test_builtin_names),
		cmocka_unit_test(test_no_path),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_block_errors),
		cmocka_unit_test(test_walk_refs),
		cmocka_unit_test(test_tree_free),
		cmocka_unit_test(test_many_steps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
