/*
 * Unit tests of the line splitter: every chunk boundary, empty lines,
 * CR and NUL kept as bytes, over-long lines cut and counted, the end of
 * stream kept or dropped, and a feed stopped by the callback and resumed.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "lines.h"
#include "xmalloc.h"

/* What the callback saw: items joined, each followed by '|'. */
struct seen {
	struct buf	 out;
	size_t		 n;
	const char	*chunk;		/* the chunk being fed, when known */
	size_t		 chunklen;
	size_t		 inplace;	/* items pointing into the chunk */
	size_t		 stop_every;	/* stop after every N-th item; 0: never */
};

/* Record one item; ask to stop after every stop_every-th. */
static int
seen_cb(const char *item, size_t len, void *arg)
{
	struct seen	*s = arg;

	assert_non_null(item);
	if (s->chunk != NULL && item >= s->chunk &&
	    item + len <= s->chunk + s->chunklen)
		s->inplace++;
	buf_add(&s->out, item, len);
	buf_addc(&s->out, '|');
	s->n++;
	return s->stop_every > 0 && s->n % s->stop_every == 0;
}

/* Feed one chunk, noting it so in-place delivery can be checked. */
static void
feed(struct lines *l, struct seen *s, const char *p, size_t len)
{
	s->chunk = p;
	s->chunklen = len;
	assert_int_equal(lines_feed(l, p, len, seen_cb, s), len);
	s->chunk = NULL;
}

/* Assert what was seen, as bytes, and forget it. */
static void
expect_seen(struct seen *s, const char *want, size_t wantlen)
{
	assert_int_equal(buf_used(&s->out), wantlen);
	assert_true(memcmp(buf_ptr(&s->out), want, wantlen) == 0);
	buf_clear(&s->out);
	s->n = 0;
	s->inplace = 0;
}

/* Lines inside one chunk are delivered in place, not copied. */
static void
test_whole_chunk_in_place(void **state)
{
	struct lines	l;
	struct seen	s;
	const char	in[] = "one\ntwo\n\nthree\n";

	memset(&s, 0, sizeof s);
	lines_init(&l, 100);
	feed(&l, &s, in, sizeof in - 1);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.inplace, 4);
	assert_int_equal(lines_pending(&l), 0);
	expect_seen(&s, "one|two||three|", 15);
	assert_int_equal(lines_finish(&l, 1, seen_cb, &s), 0);
	assert_int_equal(s.n, 0);
	lines_release(&l);
	buf_release(&s.out);
}

/* Empty lines are items; CR and NUL are kept as bytes. */
static void
test_empty_and_crlf_and_nul(void **state)
{
	struct lines	l;
	struct seen	s;
	const char	in[] = "\n\na\r\n\r\nx\0y\n\0\n";
	const char	want[] = "||a\r|\r|x\0y|\0|";

	memset(&s, 0, sizeof s);
	lines_init(&l, 100);
	feed(&l, &s, in, sizeof in - 1);
	assert_int_equal(s.n, 6);
	expect_seen(&s, want, sizeof want - 1);
	feed(&l, &s, "", 0);
	assert_int_equal(s.n, 0);
	lines_release(&l);
	buf_release(&s.out);
}

/*
 * Cut the same stream into two and three chunks at every offset: the
 * items must not depend on where the reads ended.
 */
static void
test_every_boundary(void **state)
{
	struct lines	l;
	struct seen	s;
	const char	in[] =
	    "alpha\n\nb\r\nxx\0yy\nlonger line here\nz\ntail";
	const char	want[] = "alpha||b\r|xx\0yy|longer line here|z|";
	size_t		n = sizeof in - 1, i, j;

	memset(&s, 0, sizeof s);
	for (i = 0; i <= n; i++) {
		for (j = i; j <= n; j++) {
			lines_init(&l, 100);
			feed(&l, &s, in, i);
			feed(&l, &s, in + i, j - i);
			feed(&l, &s, in + j, n - j);
			assert_int_equal(lines_pending(&l), 4);
			assert_int_equal(l.split, 0);
			expect_seen(&s, want, sizeof want - 1);
			assert_int_equal(lines_finish(&l, 1, seen_cb, &s), 0);
			expect_seen(&s, "tail|", 5);
			lines_release(&l);
		}
	}
	/* One byte at a time. */
	lines_init(&l, 100);
	for (i = 0; i < n; i++)
		feed(&l, &s, in + i, 1);
	expect_seen(&s, want, sizeof want - 1);
	assert_int_equal(lines_finish(&l, 0, seen_cb, &s), 4);
	assert_int_equal(s.n, 0);
	lines_release(&l);
	buf_release(&s.out);
}

/* Only a line that spans chunks is copied; the others are in place. */
static void
test_only_spanning_line_copied(void **state)
{
	struct lines	l;
	struct seen	s;
	const char	in[] = "aa\nbb\ncc\ndd\n";

	memset(&s, 0, sizeof s);
	lines_init(&l, 100);
	feed(&l, &s, in, 4);		/* "aa\nb" */
	assert_int_equal(s.inplace, 1);
	feed(&l, &s, in + 4, 8);	/* "b\ncc\ndd\n" */
	assert_int_equal(s.n, 4);
	assert_int_equal(s.inplace, 3);	/* "bb" came from partial */
	expect_seen(&s, "aa|bb|cc|dd|", 12);
	lines_release(&l);
	buf_release(&s.out);
}

/*
 * Lines longer than max_item come out in pieces of max_item bytes, each
 * cut counted; a line of exactly max_item (or a multiple) is not cut into
 * an empty last piece. Checked at every chunk boundary.
 */
static void
test_overlong_split(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;
		uint64_t	 split;
	} cases[] = {
		{ "abcd\n", "abcd|", 0 },
		{ "abcde\n", "abcd|e|", 1 },
		{ "abcdefgh\n", "abcd|efgh|", 1 },
		{ "abcdefghi\n", "abcd|efgh|i|", 2 },
		{ "ab\nabcdefghij\n\nabcd\nxyz\n", "ab|abcd|efgh|ij||abcd|xyz|",
		    2 },
	};
	struct lines	l;
	struct seen	s;
	size_t		c, i, j, n;

	memset(&s, 0, sizeof s);
	for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		n = strlen(cases[c].in);
		for (i = 0; i <= n; i++) {
			for (j = i; j <= n; j++) {
				lines_init(&l, 4);
				feed(&l, &s, cases[c].in, i);
				feed(&l, &s, cases[c].in + i, j - i);
				feed(&l, &s, cases[c].in + j, n - j);
				assert_true(lines_pending(&l) == 0);
				assert_int_equal(l.split, cases[c].split);
				expect_seen(&s, cases[c].want,
				    strlen(cases[c].want));
				lines_release(&l);
			}
		}
	}
	buf_release(&s.out);
}

/* The partial buffer never holds more than max_item bytes. */
static void
test_overlong_bounded(void **state)
{
	struct lines	 l;
	struct seen	 s;
	char		*big;
	size_t		 i, total = 0, max = 1024 * 1024;

	memset(&s, 0, sizeof s);
	big = xmalloc(3 * max + 10);
	memset(big, 'a', 3 * max + 10);
	lines_init(&l, max);
	/* 3 MiB + 10 without a newline, in odd chunks. */
	for (i = 0; i < 3 * max + 10; i += 65531) {
		feed(&l, &s, big + i, i + 65531 < 3 * max + 10 ? 65531 :
		    3 * max + 10 - i);
		assert_true(lines_pending(&l) <= max);
		assert_true(l.partial.cap <= 2 * max);
	}
	assert_int_equal(s.n, 3);
	assert_int_equal(l.split, 3);
	assert_int_equal(lines_pending(&l), 10);
	total = buf_used(&s.out);
	assert_int_equal(total, 3 * (max + 1));
	buf_clear(&s.out);
	s.n = 0;
	feed(&l, &s, "\n", 1);
	expect_seen(&s, "aaaaaaaaaa|", 11);
	/* A line of exactly max bytes in one chunk passes whole, in place. */
	big[max] = '\n';
	feed(&l, &s, big, max + 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.inplace, 1);
	assert_int_equal(buf_used(&s.out), max + 1);
	assert_int_equal(l.split, 3);
	buf_clear(&s.out);
	s.n = s.inplace = 0;
	lines_release(&l);
	buf_release(&s.out);
	free(big);
}

/* End of stream: keep delivers the tail as an item; drop counts it. */
static void
test_finish(void **state)
{
	struct lines	l;
	struct seen	s;

	memset(&s, 0, sizeof s);
	lines_init(&l, 100);
	feed(&l, &s, "done\npart", 9);
	expect_seen(&s, "done|", 5);
	assert_int_equal(lines_pending(&l), 4);
	assert_int_equal(lines_finish(&l, 1, seen_cb, &s), 0);
	expect_seen(&s, "part|", 5);
	assert_int_equal(lines_pending(&l), 0);

	/* Usable again after finish, as for a restarted producer. */
	feed(&l, &s, "torn\0", 5);
	assert_int_equal(lines_finish(&l, 0, seen_cb, &s), 5);
	assert_int_equal(s.n, 0);
	assert_int_equal(lines_pending(&l), 0);

	/* Nothing pending: nothing delivered, nothing dropped. */
	feed(&l, &s, "x\n", 2);
	expect_seen(&s, "x|", 2);
	assert_int_equal(lines_finish(&l, 1, seen_cb, &s), 0);
	assert_int_equal(lines_finish(&l, 0, seen_cb, &s), 0);
	assert_int_equal(s.n, 0);
	lines_release(&l);
	buf_release(&s.out);
}

/* max_item 0 means no limit. */
static void
test_no_limit(void **state)
{
	struct lines	 l;
	struct seen	 s;
	char		 line[5001];

	memset(&s, 0, sizeof s);
	memset(line, 'q', sizeof line - 1);
	line[5000] = '\n';
	lines_init(&l, 0);
	feed(&l, &s, line, 2500);
	feed(&l, &s, line + 2500, 2501);
	assert_int_equal(s.n, 1);
	assert_int_equal(buf_used(&s.out), 5001);
	assert_int_equal(l.split, 0);
	lines_release(&l);
	buf_release(&s.out);
}

/*
 * Feed p[0..n) as a queue-fed outlet does: after a stop, the rest again,
 * until all is taken. Each stop comes right after an item the callback
 * asked to stop at, so each call delivers something (it may take no byte:
 * the item was a held partial line cut at max_item).
 */
static void
feed_stopping(struct lines *l, struct seen *s, const char *p, size_t n)
{
	size_t	used, before;

	while (n > 0) {
		before = s->n;
		used = lines_feed(l, p, n, seen_cb, s);
		assert_true(used <= n);
		if (used < n) {
			assert_true(s->n > before);
			assert_int_equal(s->n % s->stop_every, 0);
		}
		p += used;
		n -= used;
	}
}

/*
 * A feed stopped after any item and resumed with the rest gives the same
 * items, at every chunk boundary: lines, empty lines, a line spanning the
 * chunks, over-long lines cut into pieces, an unfinished last line.
 */
static void
test_stop_and_refeed(void **state)
{
	const char	 in[] = "a\nbb\n\ncccccccccccc\ndd\nxxxxxxxxxxxxxxxxx\n"
	    "\nyyyyy\nzzzzzz\ne";
	const size_t	 len = sizeof in - 1;
	struct lines	 l;
	struct seen	 want, got;
	size_t		 cut, k;

	memset(&want, 0, sizeof want);
	memset(&got, 0, sizeof got);
	for (k = 1; k <= 4; k++) {
		for (cut = 0; cut <= len; cut++) {
			lines_init(&l, 5);
			want.stop_every = 0;
			feed(&l, &want, in, cut);
			feed(&l, &want, in + cut, len - cut);
			assert_int_equal(lines_finish(&l, 1, seen_cb, &want), 0);
			lines_release(&l);

			lines_init(&l, 5);
			got.stop_every = k;
			feed_stopping(&l, &got, in, cut);
			feed_stopping(&l, &got, in + cut, len - cut);
			assert_int_equal(lines_finish(&l, 1, seen_cb, &got), 0);
			lines_release(&l);

			assert_int_equal(got.n, want.n);
			expect_seen(&got, buf_ptr(&want.out),
			    buf_used(&want.out));
			buf_clear(&want.out);
			want.n = 0;
		}
	}
	buf_release(&want.out);
	buf_release(&got.out);
}

/* Record each item's cut flag: 'c' for a piece, 'l' for a line's end. */
static int
cut_cb(const char *item, size_t len, void *arg)
{
	struct lines	*l = ((void **)arg)[0];
	struct buf	*b = ((void **)arg)[1];

	(void)item;
	(void)len;
	buf_addc(b, l->cut ? 'c' : 'l');
	return 0;
}

/* A piece cut from a long line says so; its last piece does not. */
static void
test_cut_flag(void **state)
{
	struct lines	 l;
	struct buf	 b;
	void		*arg[2] = { &l, &b };

	buf_init(&b);
	lines_init(&l, 2);
	/* In one chunk, and across chunks through the partial buffer. */
	assert_int_equal(lines_feed(&l, "aaaaa\nb\n", 8, cut_cb, arg), 8);
	assert_int_equal(lines_feed(&l, "cc", 2, cut_cb, arg), 2);
	assert_int_equal(lines_feed(&l, "cc", 2, cut_cb, arg), 2);
	assert_int_equal(lines_feed(&l, "c\n", 2, cut_cb, arg), 2);
	assert_int_equal(lines_finish(&l, 1, cut_cb, arg), 0);
	buf_addc(&b, '\0');
	assert_string_equal(buf_ptr(&b), "ccllccl");
	lines_release(&l);
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_chunk_in_place),
		cmocka_unit_test(test_empty_and_crlf_and_nul),
		cmocka_unit_test(test_every_boundary),
		cmocka_unit_test(test_only_spanning_line_copied),
		cmocka_unit_test(test_overlong_split),
		cmocka_unit_test(test_overlong_bounded),
		cmocka_unit_test(test_finish),
		cmocka_unit_test(test_no_limit),
		cmocka_unit_test(test_stop_and_refeed),
		cmocka_unit_test(test_cut_flag),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
