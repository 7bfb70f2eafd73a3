/*
 * Unit tests of ${VAR} interpolation: every rule of interp.h and every
 * error with its message and offset, against an injected environment.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "interp.h"

/* The test environment: HOME, EMPTY (set, empty), DIR; nothing else. */
static const char *
lookup(const char *name, void *arg)
{
	int	*calls = arg;

	if (calls != NULL)
		(*calls)++;
	if (strcmp(name, "HOME") == 0)
		return "/home/me";
	if (strcmp(name, "EMPTY") == 0)
		return "";
	if (strcmp(name, "DIR") == 0)
		return "$HOME/${x}";
	return NULL;
}

/* Expanding in must succeed and give want. */
static void
expect_ok(const char *in, const char *want)
{
	char		 errbuf[256], *out = NULL;
	const char	*errstr = NULL;
	size_t		 erroff = 99;

	assert_int_equal(interp_expand(in, lookup, NULL, &out, errbuf,
	    sizeof errbuf, &errstr, &erroff), 0);
	assert_non_null(out);
	assert_string_equal(out, want);
	assert_null(errstr);
	free(out);
}

/* Expanding in must fail with message msg at offset off. */
static void
expect_error(const char *in, const char *msg, size_t off)
{
	char		 errbuf[256], *out = (char *)1;
	const char	*errstr = NULL;
	size_t		 erroff = 99;

	assert_int_equal(interp_expand(in, lookup, NULL, &out, errbuf,
	    sizeof errbuf, &errstr, &erroff), -1);
	assert_null(out);
	assert_non_null(errstr);
	assert_string_equal(errstr, msg);
	assert_int_equal(erroff, off);
}

/* Text without "${" or "$$" passes through unchanged. */
static void
test_plain(void **state)
{
	expect_ok("", "");
	expect_ok("hello world", "hello world");
	expect_ok("/usr/bin/python3", "/usr/bin/python3");
	expect_ok("caf\xc3\xa9 {}", "caf\xc3\xa9 {}");
}

/* ${VAR} is replaced by the variable's value, wherever it appears. */
static void
test_variable(void **state)
{
	expect_ok("${HOME}", "/home/me");
	expect_ok("${HOME}/app", "/home/me/app");
	expect_ok("cd ${HOME}; ls ${HOME}", "cd /home/me; ls /home/me");
	expect_ok("a${EMPTY}b", "ab");
}

/* A value is inserted as is: it is never expanded again. */
static void
test_no_reexpansion(void **state)
{
	expect_ok("${DIR}", "$HOME/${x}");
}

/* ${VAR:-default}: the default when unset or empty, else the value. */
static void
test_default(void **state)
{
	expect_ok("${HOME:-/tmp}", "/home/me");
	expect_ok("${NOPE:-/tmp}", "/tmp");
	expect_ok("${EMPTY:-fallback}", "fallback");
	expect_ok("${NOPE:-}", "");
	expect_ok("x${NOPE:-a b c}y", "xa b cy");
	expect_ok("${NOPE:-with:colon-and-dash}", "with:colon-and-dash");
}

/* A default may itself hold ${...}, $$, and literal $ signs. */
static void
test_nested_default(void **state)
{
	expect_ok("${NOPE:-${HOME}/x}", "/home/me/x");
	expect_ok("${NOPE:-${NADA:-deep}}", "deep");
	expect_ok("${NOPE:-$$5}", "$5");
	expect_ok("${NOPE:-$x}", "$x");
	/* An unused default is not expanded, so its unset names are fine. */
	expect_ok("${HOME:-${NOPE}}", "/home/me");
}

/* The lookup is not asked about variables of a default that is unused. */
static void
test_lookup_calls(void **state)
{
	char		*out;
	const char	*errstr;
	size_t		 erroff;
	int		 calls = 0;

	assert_int_equal(interp_expand("${HOME:-${A}${B}} ${HOME}", lookup,
	    &calls, &out, NULL, 0, &errstr, &erroff), 0);
	assert_string_equal(out, "/home/me /home/me");
	assert_int_equal(calls, 2);
	free(out);
}

/* "$$" is a literal "$"; a "$" not before "{" or "$" is literal too. */
static void
test_dollar(void **state)
{
	expect_ok("$$", "$");
	expect_ok("$${HOME}", "${HOME}");
	expect_ok("$$$$", "$$");
	expect_ok("price: 5$", "price: 5$");
	expect_ok("$HOME", "$HOME");
	expect_ok("a $ b", "a $ b");
	expect_ok("$(date)", "$(date)");
	expect_ok("$$$", "$$");
	expect_ok("$$${HOME}", "$/home/me");
}

/* Nothing is executed: command substitution is plain text. */
static void
test_nothing_executed(void **state)
{
	expect_ok("`rm -rf /` $(reboot) ${NOPE:-$(id)}",
	    "`rm -rf /` $(reboot) $(id)");
}

/* An unset variable without a default is an error naming it. */
static void
test_unset(void **state)
{
	expect_error("${NOPE}", "variable NOPE is not set (write "
	    "${NOPE:-default} to give a default)", 0);
	expect_error("dir=${HOME}/${UNSET_VAR}/x", "variable UNSET_VAR is not "
	    "set (write ${UNSET_VAR:-default} to give a default)", 12);
	expect_error("${NOPE:-${ALSO_NOPE}}", "variable ALSO_NOPE is not set "
	    "(write ${ALSO_NOPE:-default} to give a default)", 8);
}

/* An unterminated "${" is an error at its "$". */
static void
test_unterminated(void **state)
{
	const char	*msg = "unterminated ${ (write $$ for a literal $)";

	expect_error("${", msg, 0);
	expect_error("abc ${HOME", msg, 4);
	expect_error("${HOME:-x", msg, 0);
	expect_error("${NOPE:-${HOME}", msg, 0);
	expect_error("x${NOPE:-${A:-b}", msg, 1);
}

/* Malformed ${...}: empty name, bad first character, stray bytes. */
static void
test_malformed(void **state)
{
	expect_error("${}", "empty variable name in ${}", 0);
	expect_error("a${1X}", "invalid variable name after ${ (a name is "
	    "letters, digits and _, not starting with a digit)", 1);
	expect_error("${ HOME}", "invalid variable name after ${ (a name is "
	    "letters, digits and _, not starting with a digit)", 0);
	expect_error("${HOME-x}", "expected } or :- after ${HOME", 0);
	expect_error("${HOME:x}", "expected } or :- after ${HOME", 0);
	expect_error("${HO ME}", "expected } or :- after ${HO", 0);
}

/* Names are letters, digits and "_", not starting with a digit. */
static void
test_names(void **state)
{
	char		*out;
	const char	*errstr;
	size_t		 erroff;

	expect_ok("${_x:-u}${a1:-v}${A_B_9:-w}${_:-x}", "uvwx");
	expect_error("${_}", "variable _ is not set (write ${_:-default} to "
	    "give a default)", 0);
	expect_error("${9}", "invalid variable name after ${ (a name is "
	    "letters, digits and _, not starting with a digit)", 0);
	assert_int_equal(interp_expand("${HOME}x", lookup, NULL, &out, NULL,
	    0, &errstr, &erroff), 0);
	assert_string_equal(out, "/home/mex");
	free(out);
}

/* Without an error buffer the error is still reported, generically. */
static void
test_no_errbuf(void **state)
{
	char		*out;
	const char	*errstr = NULL;
	size_t		 erroff = 99;

	assert_int_equal(interp_expand("ab${", lookup, NULL, &out, NULL, 0,
	    &errstr, &erroff), -1);
	assert_non_null(errstr);
	assert_int_equal(erroff, 2);
	/* errstr and erroff may be NULL when the caller does not care. */
	assert_int_equal(interp_expand("${", lookup, NULL, &out, NULL, 0,
	    NULL, NULL), -1);
	assert_int_equal(interp_expand("${HOME}", lookup, NULL, &out, NULL,
	    0, NULL, NULL), 0);
	assert_string_equal(out, "/home/me");
	free(out);
}

/* A short error buffer truncates the message but never overflows. */
static void
test_short_errbuf(void **state)
{
	char		 errbuf[8], *out;
	const char	*errstr;
	size_t		 erroff;

	assert_int_equal(interp_expand("${NOPE}", lookup, NULL, &out, errbuf,
	    sizeof errbuf, &errstr, &erroff), -1);
	assert_string_equal(errstr, "variabl");
}

/* Nesting of defaults is bounded, so a hostile string cannot recurse. */
static void
test_nesting_bound(void **state)
{
	char		 s[4096], errbuf[256], *out;
	const char	*errstr;
	size_t		 erroff, i, n = 0;

	for (i = 0; i < 200; i++)
		n += (size_t)snprintf(s + n, sizeof s - n, "${A:-");
	for (i = 0; i < 200; i++)
		s[n++] = '}';
	s[n] = '\0';
	assert_int_equal(interp_expand(s, lookup, NULL, &out, errbuf,
	    sizeof errbuf, &errstr, &erroff), -1);
	assert_string_equal(errstr, "${...} nested too deeply");

	n = 0;
	for (i = 0; i < 10; i++)
		n += (size_t)snprintf(s + n, sizeof s - n, "${A:-");
	s[n++] = 'z';
	for (i = 0; i < 10; i++)
		s[n++] = '}';
	s[n] = '\0';
	expect_ok(s, "z");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_variable),
		cmocka_unit_test(test_no_reexpansion),
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_nested_default),
		cmocka_unit_test(test_lookup_calls),
		cmocka_unit_test(test_dollar),
		cmocka_unit_test(test_nothing_executed),
		cmocka_unit_test(test_unset),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_no_errbuf),
		cmocka_unit_test(test_short_errbuf),
		cmocka_unit_test(test_nesting_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
