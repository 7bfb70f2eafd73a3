/*
 * Unit tests of the Prometheus text format: every line checked against
 * the exposition grammar, HELP and TYPE once per family before its
 * samples, label values escaped, replica labels, CPU seconds, and units
 * with no process leaving out their memory.
 */
#include "config.h"

#include <regex.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "metrics.h"

/* The text of a snapshot, NUL-terminated (free it). */
static char *
format(const struct metrics_unit *u, size_t nu, const struct metrics_queue *q,
    size_t nq)
{
	struct buf	b;

	buf_init(&b);
	metrics_format(&b, u, nu, q, nq);
	buf_addc(&b, '\0');
	return buf_steal(&b);
}

/*
 * Each line is a HELP, a TYPE or a sample of the family last typed, and
 * no family is typed twice: the grammar of the text format, version
 * 0.0.4, as far as this exporter uses it.
 */
static void
check_grammar(const char *text)
{
	regex_t		 help, type, sample;
	regmatch_t	 m[3];
	char		*copy = strdup(text), *line, *save = NULL;
	char		 family[128] = "", seen[4096] = " ";
	size_t		 len;

	assert_int_equal(regcomp(&help, "^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) "
	    "([^\\\\]|\\\\[\\\\n])*$", REG_EXTENDED), 0);
	assert_int_equal(regcomp(&type, "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
	    "(counter|gauge)$", REG_EXTENDED), 0);
	assert_int_equal(regcomp(&sample, "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
	    "\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
	    "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\")*\\} "
	    "[0-9]+(\\.[0-9]+)?$", REG_EXTENDED), 0);
	assert_int_equal(text[strlen(text) - 1], '\n');
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (regexec(&help, line, 3, m, 0) == 0)
			continue;
		if (regexec(&type, line, 3, m, 0) == 0) {
			len = (size_t)(m[1].rm_eo - m[1].rm_so);
			snprintf(family, sizeof family, "%.*s", (int)len,
			    line + m[1].rm_so);
			/* A family is typed once. */
			strcat(family, " ");
			assert_null(strstr(seen, family));
			strncat(seen, family, sizeof seen - strlen(seen) - 1);
			family[len] = '\0';
			continue;
		}
		if (regexec(&sample, line, 3, m, 0) != 0)
			fail_msg("not in the format: %s", line);
		len = (size_t)(m[1].rm_eo - m[1].rm_so);
		assert_int_equal(len, strlen(family));
		assert_memory_equal(line, family, len);
	}
	regfree(&help);
	regfree(&type);
	regfree(&sample);
	free(copy);
}

static void
test_families(void **state)
{
	static const char *const names[] = {
		"pytasking_unit_up", "pytasking_unit_ready",
		"pytasking_unit_restarts_total",
		"pytasking_unit_cpu_seconds_total",
		"pytasking_unit_memory_rss_bytes", "pytasking_queue_depth",
		"pytasking_queue_capacity", "pytasking_queue_items_in_total",
		"pytasking_queue_items_out_total",
		"pytasking_queue_dropped_total",
		"pytasking_queue_redelivered_total",
		"pytasking_queue_torn_total",
	};
	char	*text = format(NULL, 0, NULL, 0), want[256];
	size_t	 i;

	check_grammar(text);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_true(metrics_is_valid_name(names[i]));
		snprintf(want, sizeof want, "# TYPE %s %s\n", names[i],
		    strstr(names[i], "_total") != NULL ? "counter" : "gauge");
		assert_non_null(strstr(text, want));
	}
	free(text);
}

static void
test_samples(void **state)
{
	const struct metrics_unit	u[] = {
		{ "web", "1", 1, 1, 3, 1234, 1, 4096 },
		{ "web", "2", 0, 0, 0, 5, 0, 0 },
		{ "seed", NULL, 0, 0, 0, 0, 0, 0 },
	};
	const struct metrics_queue	q[] = {
		{ "jobs", 5, 1024, 100, 95, 1, 2, 3 },
	};
	char	*text = format(u, 3, q, 1);

	check_grammar(text);
	assert_non_null(strstr(text,
	    "pytasking_unit_up{unit=\"web\",replica=\"1\"} 1\n"));
	assert_non_null(strstr(text,
	    "pytasking_unit_up{unit=\"web\",replica=\"2\"} 0\n"));
	assert_non_null(strstr(text, "pytasking_unit_up{unit=\"seed\"} 0\n"));
	assert_non_null(strstr(text, "pytasking_unit_restarts_total{unit="
	    "\"web\",replica=\"1\"} 3\n"));
	assert_non_null(strstr(text, "pytasking_unit_cpu_seconds_total{unit="
	    "\"web\",replica=\"1\"} 1.234\n"));
	assert_non_null(strstr(text, "pytasking_unit_cpu_seconds_total{unit="
	    "\"web\",replica=\"2\"} 0.005\n"));
	assert_non_null(strstr(text, "pytasking_unit_memory_rss_bytes{unit="
	    "\"web\",replica=\"1\"} 4096\n"));
	/* No process, no memory sample. */
	assert_null(strstr(text, "pytasking_unit_memory_rss_bytes{unit="
	    "\"seed\""));
	assert_null(strstr(text, "replica=\"2\"} 0\npytasking_unit_memory"));
	assert_non_null(strstr(text, "pytasking_queue_depth{queue=\"jobs\"} 5\n"));
	assert_non_null(strstr(text,
	    "pytasking_queue_capacity{queue=\"jobs\"} 1024\n"));
	assert_non_null(strstr(text,
	    "pytasking_queue_items_in_total{queue=\"jobs\"} 100\n"));
	assert_non_null(strstr(text,
	    "pytasking_queue_items_out_total{queue=\"jobs\"} 95\n"));
	assert_non_null(strstr(text,
	    "pytasking_queue_dropped_total{queue=\"jobs\"} 1\n"));
	assert_non_null(strstr(text,
	    "pytasking_queue_redelivered_total{queue=\"jobs\"} 2\n"));
	assert_non_null(strstr(text,
	    "pytasking_queue_torn_total{queue=\"jobs\"} 3\n"));
	free(text);
}

/* Backslash, quote and newline in a label value are escaped. */
static void
test_escaping(void **state)
{
	const struct metrics_unit	u[] = {
		{ "a\\b\"c\nd", NULL, 1, 0, 0, 0, 0, 0 },
	};
	const struct metrics_queue	q[] = {
		{ "q\"", 0, 1, 0, 0, 0, 0, 0 },
	};
	char	*text = format(u, 1, q, 1);

	check_grammar(text);
	assert_non_null(strstr(text,
	    "pytasking_unit_up{unit=\"a\\\\b\\\"c\\nd\"} 1\n"));
	assert_non_null(strstr(text,
	    "pytasking_queue_depth{queue=\"q\\\"\"} 0\n"));
	free(text);
}

static void
test_names(void **state)
{
	assert_true(metrics_is_valid_name("a_b:c9"));
	assert_true(metrics_is_valid_name("_x"));
	assert_false(metrics_is_valid_name(""));
	assert_false(metrics_is_valid_name("9a"));
	assert_false(metrics_is_valid_name("a-b"));
	assert_false(metrics_is_valid_name("a.b"));
}

static void
test_addr(void **state)
{
	const char	*errstr;
	char		*host;
	unsigned	 port;

	assert_int_equal(metrics_parse_addr("127.0.0.1:9464", &host, &port,
	    &errstr), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9464);
	assert_true(metrics_addr_is_loopback(host));
	free(host);
	assert_int_equal(metrics_parse_addr("[::1]:80", &host, &port,
	    &errstr), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 80);
	assert_true(metrics_addr_is_loopback(host));
	free(host);
	assert_int_equal(metrics_parse_addr("0.0.0.0:1", &host, &port,
	    &errstr), 0);
	assert_false(metrics_addr_is_loopback(host));
	free(host);
	/* No address: loopback. */
	assert_int_equal(metrics_parse_addr("9464", &host, &port, &errstr),
	    0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9464);
	free(host);
	assert_int_equal(metrics_parse_addr(":9465", &host, &port, &errstr),
	    0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9465);
	free(host);
	assert_int_equal(metrics_parse_addr(":", &host, &port, &errstr), -1);
	assert_int_equal(metrics_parse_addr("", &host, &port, &errstr), -1);
	assert_int_equal(metrics_parse_addr("99999", &host, &port, &errstr),
	    -1);
	assert_int_equal(metrics_parse_addr("localhost:9464", &host, &port,
	    &errstr), -1);
	assert_null(host);
	assert_int_equal(metrics_parse_addr("1.2.3.4", &host, &port,
	    &errstr), -1);
	assert_int_equal(metrics_parse_addr("1.2.3.4:0", &host, &port,
	    &errstr), 0);
	assert_int_equal(port, 0);
	free(host);
	assert_int_equal(metrics_parse_addr("1.2.3.4:", &host, &port,
	    &errstr), -1);
	assert_int_equal(metrics_parse_addr("1.2.3.4:65536", &host, &port,
	    &errstr), -1);
	assert_int_equal(metrics_parse_addr("1.2.3.4:+80", &host, &port,
	    &errstr), -1);
	assert_int_equal(metrics_parse_addr("::1:80", &host, &port,
	    &errstr), -1);
	assert_int_equal(metrics_parse_addr("[::1]80", &host, &port,
	    &errstr), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_addr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
