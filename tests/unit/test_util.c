/*
 * Unit tests of the small value parsers and formatters of util.c:
 * durations, signals, numbers, sizes, names and "did you mean".
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <signal.h>
#include <errno.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

/* Assert s parses as a duration of ms milliseconds. */
static void
duration_ok(const char *s, uint64_t ms)
{
	const char	*errstr = "unset";
	uint64_t	 v = 12345;

	assert_int_equal(util_parse_duration(s, &v, &errstr), 0);
	assert_null(errstr);
	assert_int_equal(v, ms);
}

/* Assert s is refused as a duration with this message. */
static void
duration_bad(const char *s, const char *msg)
{
	const char	*errstr = NULL;
	uint64_t	 v = 12345;

	assert_int_equal(util_parse_duration(s, &v, &errstr), -1);
	assert_non_null(errstr);
	assert_string_equal(errstr, msg);
	assert_int_equal(v, 12345);
}

/* Every duration unit, bare seconds, fractions and rounding. */
static void
test_duration_units(void **state)
{
	duration_ok("250ms", 250);
	duration_ok("1.5s", 1500);
	duration_ok("2m", 120000);
	duration_ok("1h", 3600000);
	duration_ok("3", 3000);
	duration_ok("1.5", 1500);
	duration_ok("0", 0);
	duration_ok("0ms", 0);
	duration_ok("10s", 10000);
	duration_ok("0.25s", 250);
	duration_ok("1.25h", 4500000);
	duration_ok("0.5m", 30000);
	duration_ok("007s", 7000);
	/* Fractions of a millisecond round to the nearest. */
	duration_ok("1.4ms", 1);
	duration_ok("1.5ms", 2);
	duration_ok("0.0004s", 0);
	duration_ok("0.0005s", 1);
	/* Digits past nine decimals are ignored, not an error. */
	duration_ok("1.0000000001s", 1000);
	/* The bound: one hundred years is still accepted. */
	duration_ok("876000h", 876000ULL * 3600 * 1000);
}

/* Every duration error message. */
static void
test_duration_errors(void **state)
{
	duration_bad(NULL, "empty duration");
	duration_bad("", "empty duration");
	duration_bad("ms", "a duration starts with a digit");
	duration_bad("-1s", "a duration starts with a digit");
	duration_bad(" 1s", "a duration starts with a digit");
	duration_bad(".5s", "a duration starts with a digit");
	duration_bad("1.", "expected digits after the decimal point");
	duration_bad("1.s", "expected digits after the decimal point");
	duration_bad("1x", "unknown duration unit (use ms, s, m or h)");
	duration_bad("1S", "unknown duration unit (use ms, s, m or h)");
	duration_bad("1 s", "unknown duration unit (use ms, s, m or h)");
	duration_bad("1sec", "unknown duration unit (use ms, s, m or h)");
	duration_bad("2d", "unknown duration unit (use ms, s, m or h)");
	duration_bad("1.5.5s", "unknown duration unit (use ms, s, m or h)");
	duration_bad("1s ", "unknown duration unit (use ms, s, m or h)");
	duration_bad("876001h", "duration too large");
	duration_bad("99999999999999999999", "duration too large");
	duration_bad("3153600000001ms", "duration too large");
}

/* Assert ms is formatted as want, and that it parses back to ms. */
static void
format_ok(uint64_t ms, const char *want)
{
	char		 buf[32];
	const char	*errstr;
	uint64_t	 back;

	util_format_duration(ms, buf, sizeof buf);
	assert_string_equal(buf, want);
	assert_int_equal(util_parse_duration(buf, &back, &errstr), 0);
	assert_int_equal(back, ms);
}

/* The shortest exact form, which parses back to the same value. */
static void
test_format_duration(void **state)
{
	char		buf[4];
	uint64_t	ms;

	format_ok(0, "0s");
	format_ok(1, "1ms");
	format_ok(250, "250ms");
	format_ok(999, "999ms");
	format_ok(1000, "1s");
	format_ok(1500, "1.5s");
	format_ok(1250, "1250ms");
	format_ok(100, "100ms");
	format_ok(90000, "90s");
	format_ok(120000, "2m");
	format_ok(3600000, "1h");
	format_ok(5400000, "90m");
	format_ok(7200000, "2h");
	/* Round trips over a spread of values. */
	for (ms = 0; ms < 10000000; ms = ms * 3 + 7) {
		char		 b[32];
		const char	*errstr;
		uint64_t	 back;

		util_format_duration(ms, b, sizeof b);
		assert_int_equal(util_parse_duration(b, &back, &errstr), 0);
		assert_int_equal(back, ms);
	}
	/* A short buffer truncates but stays terminated. */
	util_format_duration(250, buf, sizeof buf);
	assert_string_equal(buf, "250");
}

/* Assert s names signal sig. */
static void
signal_ok(const char *s, int sig)
{
	const char	*errstr = "unset";
	int		 v = -1;

	assert_int_equal(util_parse_signal(s, &v, &errstr), 0);
	assert_null(errstr);
	assert_int_equal(v, sig);
}

/* Assert s is refused as a signal with this message. */
static void
signal_bad(const char *s, const char *msg)
{
	const char	*errstr = NULL;
	int		 v = -1;

	assert_int_equal(util_parse_signal(s, &v, &errstr), -1);
	assert_non_null(errstr);
	assert_string_equal(errstr, msg);
}

/* Signal names in every spelling, numbers, and the errors. */
static void
test_signals(void **state)
{
	char	buf[16];

	signal_ok("TERM", SIGTERM);
	signal_ok("SIGTERM", SIGTERM);
	signal_ok("term", SIGTERM);
	signal_ok("sigterm", SIGTERM);
	signal_ok("SigTerm", SIGTERM);
	signal_ok("15", 15);
	signal_ok("9", 9);
	signal_ok("64", 64);
	signal_ok("KILL", SIGKILL);
	signal_ok("HUP", SIGHUP);
	signal_ok("INT", SIGINT);
	signal_ok("USR1", SIGUSR1);
	signal_ok("SIGUSR2", SIGUSR2);
	signal_ok("WINCH", SIGWINCH);
	signal_ok("SIG49", 49);
	signal_ok("sig64", 64);
	signal_bad("SIG0", "signal number out of range");
	signal_bad("SIG65", "signal number out of range");
	signal_bad("SIG4x", "signal number out of range");
	signal_bad(NULL, "empty signal name");
	signal_bad("", "empty signal name");
	signal_bad("bad", "unknown signal");
	signal_bad("SIG", "unknown signal");
	signal_bad("SIGBAD", "unknown signal");
	signal_bad("TERM ", "unknown signal");
	signal_bad("0", "signal number out of range");
	signal_bad("65", "signal number out of range");
	signal_bad("15x", "signal number out of range");

	assert_string_equal(util_signal_name(SIGTERM, buf, sizeof buf), "TERM");
	assert_string_equal(util_signal_name(SIGKILL, buf, sizeof buf), "KILL");
	assert_string_equal(util_signal_name(SIGHUP, buf, sizeof buf), "HUP");
	assert_string_equal(util_signal_name(0, buf, sizeof buf), "SIG0");
	assert_string_equal(util_signal_name(99, buf, sizeof buf), "SIG99");
}

/* Assert s parses as v within [min, max]. */
static void
uint_ok(const char *s, uint64_t min, uint64_t max, uint64_t want)
{
	const char	*errstr = "unset";
	uint64_t	 v = 7;

	assert_int_equal(util_parse_uint(s, min, max, &v, &errstr), 0);
	assert_null(errstr);
	assert_int_equal(v, want);
}

/* Assert s is refused within [min, max] with this message. */
static void
uint_bad(const char *s, uint64_t min, uint64_t max, const char *msg)
{
	const char	*errstr = NULL;
	uint64_t	 v = 7;

	assert_int_equal(util_parse_uint(s, min, max, &v, &errstr), -1);
	assert_string_equal(errstr, msg);
	assert_int_equal(v, 7);
}

/* Decimal integers within bounds, and every error. */
static void
test_uint(void **state)
{
	uint_ok("0", 0, 10, 0);
	uint_ok("10", 0, 10, 10);
	uint_ok("1", 1, 1, 1);
	uint_ok("007", 0, 100, 7);
	uint_ok("1844674407370955160", 0, UINT64_MAX, 1844674407370955160ULL);
	uint_bad(NULL, 0, 10, "empty number");
	uint_bad("", 0, 10, "empty number");
	uint_bad("-1", 0, 10, "not a non-negative integer");
	uint_bad("+1", 0, 10, "not a non-negative integer");
	uint_bad(" 1", 0, 10, "not a non-negative integer");
	uint_bad("1 ", 0, 10, "not a non-negative integer");
	uint_bad("12a", 0, 100, "not a non-negative integer");
	uint_bad("1.5", 0, 10, "not a non-negative integer");
	uint_bad("0", 1, 10, "number too small");
	uint_bad("11", 0, 10, "number too large");
	uint_bad("18446744073709551616", 0, UINT64_MAX, "number too large");
	uint_bad("99999999999999999999999", 0, UINT64_MAX,
	    "number too large");
}

/* Assert s parses as a size of want bytes. */
static void
size_ok(const char *s, uint64_t want)
{
	const char	*errstr = "unset";
	uint64_t	 v = 7;

	assert_int_equal(util_parse_size(s, &v, &errstr), 0);
	assert_null(errstr);
	assert_int_equal(v, want);
}

/* Assert s is refused as a size with this message. */
static void
size_bad(const char *s, const char *msg)
{
	const char	*errstr = NULL;
	uint64_t	 v = 7;

	assert_int_equal(util_parse_size(s, &v, &errstr), -1);
	assert_string_equal(errstr, msg);
}

/* Sizes with every suffix, and every error. */
static void
test_size(void **state)
{
	static const char	*expected =
	    "expected a size such as 4096, 64k or 10MiB";
	static const char	*unit =
	    "unknown size unit (use k, M or G, optionally with iB)";

	size_ok("4096", 4096);
	size_ok("0", 0);
	size_ok("1b", 1);
	size_ok("64k", 65536);
	size_ok("64K", 65536);
	size_ok("2kb", 2048);
	size_ok("3KiB", 3072);
	size_ok("10MiB", 10485760);
	size_ok("1m", 1048576);
	size_ok("1MB", 1048576);
	size_ok("1G", 1073741824);
	size_ok("2gib", 2147483648ULL);
	size_ok("18014398509481983k", 18014398509481983ULL * 1024);
	size_bad(NULL, expected);
	size_bad("", expected);
	size_bad("k", expected);
	size_bad("-1", expected);
	size_bad(" 1k", expected);
	size_bad("123456789012345678901234567890123", expected);
	size_bad("10 MiB", unit);
	size_bad("10TiB", unit);
	size_bad("10kk", unit);
	size_bad("1.5M", unit);
	size_bad("18014398509481984k", "size too large");
	size_bad("99999999999999999999", "number too large");
}

/* Names are [A-Za-z0-9_.-]+ and nothing else. */
static void
test_names(void **state)
{
	assert_true(util_is_valid_name("web"));
	assert_true(util_is_valid_name("a.b-c_d"));
	assert_true(util_is_valid_name("1"));
	assert_true(util_is_valid_name("Worker.2"));
	assert_false(util_is_valid_name(NULL));
	assert_false(util_is_valid_name(""));
	assert_false(util_is_valid_name("a b"));
	assert_false(util_is_valid_name("a/b"));
	assert_false(util_is_valid_name("a:b"));
	assert_false(util_is_valid_name("caf\xc3\xa9"));
	assert_false(util_is_valid_name("tab\t"));
}

/* Edit distances of known pairs, both ways round. */
static void
test_edit_distance(void **state)
{
	assert_int_equal(util_edit_distance("", ""), 0);
	assert_int_equal(util_edit_distance("abc", ""), 3);
	assert_int_equal(util_edit_distance("", "abc"), 3);
	assert_int_equal(util_edit_distance("same", "same"), 0);
	assert_int_equal(util_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(util_edit_distance("sitting", "kitten"), 3);
	assert_int_equal(util_edit_distance("flaw", "lawn"), 2);
	/* A swap of two adjacent characters is one edit. */
	assert_int_equal(util_edit_distance("restart", "restrat"), 1);
	assert_int_equal(util_edit_distance("jbos", "jobs"), 1);
	assert_int_equal(util_edit_distance("ab", "ba"), 1);
	assert_int_equal(util_edit_distance("abcd", "badc"), 2);
	/* Optimal string alignment: a swapped pair is not edited again. */
	assert_int_equal(util_edit_distance("ca", "abc"), 3);
	assert_int_equal(util_edit_distance("a", "b"), 1);
}

/* Suggestions only when close enough for the length of the word. */
static void
test_did_you_mean(void **state)
{
	static const char *const	keys[] = {
		"restart", "stdout", "stderr", "stdin", "cmd", "env", NULL,
	};
	static const char *const	none[] = { NULL };
	static const char *const	tie[] = { "abc", "abd", NULL };

	assert_string_equal(util_did_you_mean("restrat", keys), "restart");
	assert_string_equal(util_did_you_mean("stdotu", keys), "stdout");
	assert_string_equal(util_did_you_mean("stdi", keys), "stdin");
	assert_string_equal(util_did_you_mean("cmd", keys), "cmd");
	assert_string_equal(util_did_you_mean("cmdd", keys), "cmd");
	assert_string_equal(util_did_you_mean("en", keys), "env");
	/* Two letters swapped are one typo. */
	assert_string_equal(util_did_you_mean("cdm", keys), "cmd");
	/* Too far for the word's length. */
	assert_null(util_did_you_mean("dmc", keys));
	assert_null(util_did_you_mean("xyz", keys));
	assert_null(util_did_you_mean("stdxxx", keys));
	assert_null(util_did_you_mean("completely-different", keys));
	assert_null(util_did_you_mean("restart", none));
	assert_string_equal(util_did_you_mean("stdxrr", keys), "stderr");
	/* A tie goes to the first candidate. */
	assert_string_equal(util_did_you_mean("abx", tie), "abc");
}

/* Regexes whose compiled tree would explode are refused. */
static void
test_regex_is_tame(void **state)
{
	const char	*errstr;
	char		 stacked[128];

	(void)state;
	assert_int_equal(util_regex_is_tame("^up \\$[0-9]+$", &errstr), 0);
	assert_int_equal(util_regex_is_tame("(ab|cd)+x*y?[]a-z]{2,8}", &errstr),
	    0);
	assert_int_equal(util_regex_is_tame("listening on [0-9.:]+ port "
	    "[0-9]{1,5}", &errstr), 0);
	/* What the fuzzer found: a stacked + doubles the tree each time. */
	memset(stacked, '+', sizeof stacked - 1);
	stacked[0] = 'n';
	stacked[sizeof stacked - 1] = '\0';
	assert_int_equal(util_regex_is_tame(stacked, &errstr), -1);
	assert_int_equal(util_regex_is_tame("((a{99}){99}){99}", &errstr), -1);
	assert_int_equal(util_regex_is_tame("(a{50}){50}", &errstr), 0);
	assert_int_equal(util_regex_is_tame("a{1001}", &errstr), -1);
	assert_string_equal(errstr, "a repetition count over 1000");
	/* Two repetitions in a row: undefined in POSIX, and explosive. */
	assert_int_equal(util_regex_is_tame("listenin*++++;++", &errstr), -1);
	assert_string_equal(errstr, "two repetition operators in a row "
	    "(undefined in POSIX: write one)");
	assert_int_equal(util_regex_is_tame("a**", &errstr), -1);
	assert_int_equal(util_regex_is_tame("a{2}{3}", &errstr), -1);
	/*
	 * A loop over what can match nothing: copies of its cycle of empty
	 * transitions took regcomp seconds ("((n*)+){500}", "(.{0,3}|b*)+"
	 * in a group repeated 20 times: 18 s). A loop alone, or a bounded
	 * repetition of an optional part, is fine.
	 */
	assert_int_equal(util_regex_is_tame("(a*)*", &errstr), -1);
	assert_string_equal(errstr, "a loop (*, + or {n,}) over what can "
	    "match nothing, such as (a*)+: write it without one of the two");
	assert_int_equal(util_regex_is_tame("((n*)+){500}", &errstr), -1);
	assert_int_equal(util_regex_is_tame("(x|y?)+", &errstr), -1);
	assert_int_equal(util_regex_is_tame("(|x)*", &errstr), -1);
	assert_int_equal(util_regex_is_tame("(a?b?){1,}", &errstr), -1);
	assert_int_equal(util_regex_is_tame("(a?b)+", &errstr), 0);
	assert_int_equal(util_regex_is_tame("(a*){200}", &errstr), 0);
	assert_int_equal(util_regex_is_tame("(a?){1000}", &errstr), 0);
	assert_int_equal(util_regex_is_tame("((a|b)+c)*(x|y)+z*", &errstr), 0);
	/* Nodes: optional copies cost quadratic time (a random search). */
	assert_int_equal(util_regex_is_tame("((n*(.{5}|.{0,3}){100}|.?n?))"
	    "{100}", &errstr), -1);
	assert_string_equal(errstr, "too costly to compile (nested or stacked "
	    "repetitions)");
	assert_int_equal(util_regex_is_tame("[0-9a-f]{1,1000}", &errstr), 0);
	/* Brackets are one node, whatever they hold. */
	assert_int_equal(util_regex_is_tame("[+++++++++++++++++++++++++++++++"
	    "+++++++++++++++]", &errstr), 0);
}

/* util_connect_unix: errno says why, for each caller's own message. */
static void
test_connect_unix(void **state)
{
	char	path[200];

	(void)state;
	memset(path, 'x', sizeof path - 1);
	path[0] = '/';
	path[sizeof path - 1] = '\0';
	assert_int_equal(util_connect_unix(path), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(util_connect_unix("/nonexistent/pyt.sock"), -1);
	assert_int_equal(errno, ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_unix),
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_errors),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_edit_distance),
		cmocka_unit_test(test_did_you_mean),
		cmocka_unit_test(test_regex_is_tame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
