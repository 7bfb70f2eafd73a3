/*
 * Unit tests of the diagnostics list: sorting by position (stable for
 * equal positions), the warning prefix, counts, and the error bound with
 * its "N more errors not shown" line. Printed into a temporary file.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "diag.h"

/* Print d and return what was printed; the caller frees it. */
static char *
printed(struct diag *d)
{
	FILE		*fp;
	struct buf	 b;
	char		 chunk[4096];
	size_t		 n;

	fp = tmpfile();
	assert_non_null(fp);
	diag_print(d, fp);
	rewind(fp);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
		buf_add(&b, chunk, n);
	fclose(fp);
	return buf_steal(&b);
}

/* Assert d prints exactly want. */
static void
expect_printed(struct diag *d, const char *want)
{
	char	*got = printed(d);

	assert_string_equal(got, want);
	free(got);
}

/* Nothing prints nothing; no file name prints as "-". */
static void
test_empty(void **state)
{
	struct diag	d;

	diag_init(&d, "m.yaml");
	assert_false(diag_has_errors(&d));
	expect_printed(&d, "");
	diag_release(&d);
	/* No file name: "-", as for stdin. */
	diag_init(&d, NULL);
	diag_error(&d, 1, 2, "x");
	expect_printed(&d, "-:1:2: x\n");
	diag_release(&d);
}

/* Sorted by line then column, stable, with the warning prefix. */
static void
test_order_and_format(void **state)
{
	struct diag	d;

	diag_init(&d, "m.yaml");
	diag_error(&d, 5, 1, "fifth line");
	diag_error(&d, 2, 3, "second line, col %d", 3);
	diag_warning(&d, 3, 1, "a %s", "warning");
	diag_error(&d, 2, 1, "first of two at 2:1");
	diag_error(&d, 2, 1, "second of two at 2:1");
	diag_error(&d, 0, 0, "about no place");
	diag_warning(&d, 10, 4, "late warning");
	assert_true(diag_has_errors(&d));
	assert_int_equal(d.nerrors, 5);
	assert_int_equal(d.nwarnings, 2);
	assert_int_equal(d.dropped, 0);
	expect_printed(&d,
	    "m.yaml: about no place\n"
	    "m.yaml:2:1: first of two at 2:1\n"
	    "m.yaml:2:1: second of two at 2:1\n"
	    "m.yaml:2:3: second line, col 3\n"
	    "m.yaml:3:1: warning: a warning\n"
	    "m.yaml:5:1: fifth line\n"
	    "m.yaml:10:4: warning: late warning\n");
	/* Printing twice gives the same. */
	expect_printed(&d,
	    "m.yaml: about no place\n"
	    "m.yaml:2:1: first of two at 2:1\n"
	    "m.yaml:2:1: second of two at 2:1\n"
	    "m.yaml:2:3: second line, col 3\n"
	    "m.yaml:3:1: warning: a warning\n"
	    "m.yaml:5:1: fifth line\n"
	    "m.yaml:10:4: warning: late warning\n");
	diag_release(&d);
}

/* Warnings alone are not errors. */
static void
test_warnings_only(void **state)
{
	struct diag	d;

	diag_init(&d, "w.yaml");
	diag_warning(&d, 1, 1, "queue \"q\" has no consumer");
	diag_warning(&d, 0, 0, "global");
	assert_false(diag_has_errors(&d));
	assert_int_equal(d.nwarnings, 2);
	expect_printed(&d,
	    "w.yaml: warning: global\n"
	    "w.yaml:1:1: warning: queue \"q\" has no consumer\n");
	diag_release(&d);
}

/* Past DIAG_MAX_ERRORS the errors are counted and said, not kept. */
static void
test_error_bound(void **state)
{
	struct diag	 d;
	struct buf	 want;
	char		*got;
	size_t		 i;

	diag_init(&d, "big.yaml");
	buf_init(&want);
	for (i = 1; i <= DIAG_MAX_ERRORS + 7; i++) {
		diag_error(&d, i, 1, "error %zu", i);
		if (i <= DIAG_MAX_ERRORS)
			buf_addf(&want, "big.yaml:%zu:1: error %zu\n", i, i);
	}
	/* Warnings are bounded apart from errors, and not said. */
	for (i = 1; i <= DIAG_MAX_ERRORS + 3; i++)
		diag_warning(&d, 1000 + i, 1, "warning %zu", i);
	for (i = 1; i <= DIAG_MAX_ERRORS; i++)
		buf_addf(&want, "big.yaml:%zu:1: warning: warning %zu\n",
		    1000 + i, i);
	buf_addf(&want, "big.yaml: 7 more errors not shown\n");
	assert_int_equal(d.nerrors, DIAG_MAX_ERRORS);
	assert_int_equal(d.nwarnings, DIAG_MAX_ERRORS);
	assert_int_equal(d.dropped, 7);
	assert_int_equal(d.nitems, 2 * DIAG_MAX_ERRORS);
	assert_true(diag_has_errors(&d));
	got = printed(&d);
	buf_addc(&want, '\0');
	assert_string_equal(got, buf_ptr(&want));
	free(got);
	buf_release(&want);
	diag_release(&d);
}

/* Exactly DIAG_MAX_ERRORS errors: all shown, no "more" line. */
static void
test_error_bound_exact(void **state)
{
	struct diag	 d;
	char		*got;
	size_t		 i;

	diag_init(&d, "f");
	for (i = 0; i < DIAG_MAX_ERRORS; i++)
		diag_error(&d, 1, i + 1, "e");
	assert_int_equal(d.dropped, 0);
	got = printed(&d);
	assert_null(strstr(got, "more errors"));
	free(got);
	diag_error(&d, 1, 1, "one too many");
	got = printed(&d);
	assert_non_null(strstr(got, "f: 1 more errors not shown\n"));
	assert_null(strstr(got, "one too many"));
	free(got);
	diag_release(&d);
}

/* A long message is kept whole. */
static void
test_long_message(void **state)
{
	struct diag	 d;
	char		 msg[5000], *got;

	memset(msg, 'm', sizeof msg - 1);
	msg[sizeof msg - 1] = '\0';
	diag_init(&d, "f");
	diag_error(&d, 1, 1, "%s", msg);
	got = printed(&d);
	assert_int_equal(strlen(got), strlen("f:1:1: \n") + sizeof msg - 1);
	free(got);
	diag_release(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_order_and_format),
		cmocka_unit_test(test_warnings_only),
		cmocka_unit_test(test_error_bound),
		cmocka_unit_test(test_error_bound_exact),
		cmocka_unit_test(test_long_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
