/*
 * Unit tests of the control protocol: the version line, frames built and
 * parsed back (binary fields, every prefix incomplete, back to back),
 * every class of malformed input, requests and replies checked field by
 * field, JSON strings (control bytes, invalid UTF-8), the default socket
 * directory, and random bytes and mutations that must never crash.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "ctlproto.h"
#include "xmalloc.h"

/* A deterministic generator, so a failure replays the same way. */
static uint64_t
rnd_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Build a frame of n fields (given with lengths) into b. */
static void
build(struct buf *b, const char *const *f, const size_t *len, size_t n)
{
	struct ctl_frame	fr;
	size_t			i;

	ctlproto_frame_init(&fr);
	for (i = 0; i < n; i++)
		ctlproto_frame_add(&fr, f[i], len != NULL ? len[i] :
		    strlen(f[i]));
	ctlproto_frame_finish(&fr, b);
}

/* Parse all of s as exactly one frame; returns the parser's result. */
static int
parse(const char *s, size_t len, struct ctl_msg *m, const char **errstr)
{
	size_t	used = 0;
	int	r;

	*errstr = NULL;
	r = ctlproto_frame_parse(s, len, &used, m, errstr);
	if (r == 1)
		assert_int_equal(used, len);
	return r;
}

/* Expect s to be rejected. */
static void
expect_bad(const char *s, size_t len)
{
	struct ctl_msg	 m;
	const char	*errstr = NULL;
	size_t		 used;

	assert_int_equal(ctlproto_frame_parse(s, len, &used, &m, &errstr), -1);
	assert_non_null(errstr);
	assert_null(m.f);
}

static void
test_version(void **state)
{
	const char	*ok = "PYTCTL 1\nrest", *errstr;
	unsigned	 v = 0;
	size_t		 used = 0, i;

	assert_int_equal(ctlproto_version_parse(ok, strlen(ok), &used, &v,
	    &errstr), 1);
	assert_int_equal(v, 1);
	assert_int_equal(used, 9);
	/* Every proper prefix is incomplete, not wrong. */
	for (i = 0; i < 9; i++)
		assert_int_equal(ctlproto_version_parse(ok, i, &used, &v,
		    &errstr), 0);
	/* Another version parses: the caller says it does not match. */
	assert_int_equal(ctlproto_version_parse("PYTCTL 42\n", 10, &used, &v,
	    &errstr), 1);
	assert_int_equal(v, 42);

	assert_int_equal(ctlproto_version_parse("GET / HTTP/1.0\r\n", 16,
	    &used, &v, &errstr), -1);
	assert_int_equal(ctlproto_version_parse("P", 1, &used, &v, &errstr),
	    0);
	assert_int_equal(ctlproto_version_parse("PX", 2, &used, &v, &errstr),
	    -1);
	assert_int_equal(ctlproto_version_parse("PYTCTL \n", 8, &used, &v,
	    &errstr), -1);
	assert_int_equal(ctlproto_version_parse("PYTCTL 01\n", 10, &used, &v,
	    &errstr), -1);
	assert_int_equal(ctlproto_version_parse("PYTCTL 1x\n", 10, &used, &v,
	    &errstr), -1);
	assert_int_equal(ctlproto_version_parse("PYTCTL -1\n", 10, &used, &v,
	    &errstr), -1);
	assert_int_equal(ctlproto_version_parse("PYTCTL 1234567890\n", 18,
	    &used, &v, &errstr), -1);
	assert_int_equal(ctlproto_version_parse("PYTCTL  1\n", 10, &used, &v,
	    &errstr), -1);
	assert_int_equal(ctlproto_version_parse("pytctl 1\n", 9, &used, &v,
	    &errstr), -1);
	/* A long line of digits without newline is refused early. */
	assert_int_equal(ctlproto_version_parse("PYTCTL 111111111", 16, &used,
	    &v, &errstr), 0);
	assert_int_equal(ctlproto_version_parse("PYTCTL 1111111111", 17, &used,
	    &v, &errstr), -1);

	{
		struct buf	b;

		buf_init(&b);
		ctlproto_version_add(&b);
		assert_int_equal(buf_used(&b), 9);
		assert_memory_equal(buf_ptr(&b), "PYTCTL 1\n", 9);
		buf_release(&b);
	}
}

static void
test_frame_round_trip(void **state)
{
	static const char	 bin[] = { 'a', '\0', '\n', (char)0xff, ',',
	    ':', '9' };
	const char		*f[4];
	size_t			 len[4], i;
	struct ctl_msg		 m;
	struct buf		 b;
	const char		*errstr;
	char			*big;

	big = xmalloc(100000);
	memset(big, 'x', 100000);
	f[0] = "put";
	len[0] = 3;
	f[1] = "";
	len[1] = 0;
	f[2] = bin;
	len[2] = sizeof bin;
	f[3] = big;
	len[3] = 100000;
	buf_init(&b);
	build(&b, f, len, 4);
	assert_int_equal(parse(buf_ptr(&b), buf_used(&b), &m, &errstr), 1);
	assert_int_equal(m.n, 4);
	for (i = 0; i < 4; i++) {
		assert_int_equal(m.len[i], len[i]);
		assert_memory_equal(m.f[i], f[i], len[i]);
		assert_int_equal(m.f[i][len[i]], '\0');
	}
	assert_null(m.f[4]);
	ctlproto_msg_release(&m);
	ctlproto_msg_release(&m);	/* twice is harmless */
	buf_release(&b);
	free(big);
}

static void
test_frame_prefixes(void **state)
{
	const char	*f[] = { "status", "web.2" };
	struct ctl_msg	 m;
	struct buf	 b;
	const char	*errstr;
	size_t		 i, used;

	buf_init(&b);
	build(&b, f, NULL, 2);
	for (i = 0; i < buf_used(&b); i++) {
		assert_int_equal(ctlproto_frame_parse(buf_ptr(&b), i, &used,
		    &m, &errstr), 0);
		assert_null(m.f);
	}
	assert_int_equal(ctlproto_frame_parse(buf_ptr(&b), buf_used(&b),
	    &used, &m, &errstr), 1);
	ctlproto_msg_release(&m);
	buf_release(&b);
}

static void
test_frame_back_to_back(void **state)
{
	const char	*a[] = { "ok" }, *c[] = { "rec", "units" };
	struct ctl_msg	 m;
	struct buf	 b;
	const char	*errstr, *p;
	size_t		 used, left;

	buf_init(&b);
	build(&b, c, NULL, 2);
	build(&b, a, NULL, 1);
	buf_add(&b, "0:,", 3);
	p = buf_ptr(&b);
	left = buf_used(&b);
	assert_int_equal(ctlproto_frame_parse(p, left, &used, &m, &errstr), 1);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.f[1], "units");
	ctlproto_msg_release(&m);
	p += used;
	left -= used;
	assert_int_equal(ctlproto_frame_parse(p, left, &used, &m, &errstr), 1);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.f[0], "ok");
	ctlproto_msg_release(&m);
	p += used;
	left -= used;
	/* The empty frame: no fields. */
	assert_int_equal(ctlproto_frame_parse(p, left, &used, &m, &errstr), 1);
	assert_int_equal(m.n, 0);
	assert_int_equal(used, 3);
	ctlproto_msg_release(&m);
	buf_release(&b);
}

static void
test_frame_malformed(void **state)
{
	struct buf	 b;
	struct ctl_msg	 m;
	const char	*errstr;
	char		 tmp[64];
	size_t		 i;

	expect_bad("x", 1);
	expect_bad(":", 1);
	expect_bad("-1:", 3);
	expect_bad(" 1:a,", 5);
	expect_bad("01:a,", 5);
	expect_bad("00:,", 4);
	expect_bad("12345678", 8);		/* too many digits */
	expect_bad("1048577:", 8);		/* one over the limit */
	expect_bad("9999999:", 8);
	expect_bad("3:1:a;", 6);		/* no comma after the frame */
	expect_bad("4:1:a,x", 7);		/* ... ends in x */
	expect_bad("3:5:a,,", 7);		/* field longer than frame */
	expect_bad("4:1:ab,", 7);		/* field without its comma */
	expect_bad("2:1:,", 5);			/* field cut by the frame end */
	expect_bad("3:x:a,", 6);		/* field length not a number */
	expect_bad("5:01:a,,", 8);		/* leading zero in a field */
	expect_bad("2:a:,", 5);
	expect_bad("\0\0\0", 3);
	expect_bad("\xff\xfe", 2);
	expect_bad("GET / HTTP/1.1\r\n", 16);

	/* A limit-sized frame is fine; the count of fields is bounded. */
	buf_init(&b);
	snprintf(tmp, sizeof tmp, "%d:", 3 * (CTL_MAX_FIELDS + 1));
	buf_adds(&b, tmp);
	for (i = 0; i < CTL_MAX_FIELDS + 1; i++)
		buf_add(&b, "0:,", 3);
	buf_addc(&b, ',');
	expect_bad(buf_ptr(&b), buf_used(&b));
	buf_clear(&b);
	snprintf(tmp, sizeof tmp, "%d:", 3 * CTL_MAX_FIELDS);
	buf_adds(&b, tmp);
	for (i = 0; i < CTL_MAX_FIELDS; i++)
		buf_add(&b, "0:,", 3);
	buf_addc(&b, ',');
	assert_int_equal(parse(buf_ptr(&b), buf_used(&b), &m, &errstr), 1);
	assert_int_equal(m.n, CTL_MAX_FIELDS);
	ctlproto_msg_release(&m);
	buf_release(&b);

	/* A huge declared length is refused before its bytes come. */
	assert_int_equal(ctlproto_frame_parse("2000000", 7, &i, &m, &errstr),
	    -1);
}

/* The frame of the given fields (lengths: NULL for strings), parsed. */
static void
msg_of(struct ctl_msg *m, const char *const *f, const size_t *len, size_t n)
{
	struct buf	 b;
	const char	*errstr;
	size_t		 used;

	buf_init(&b);
	build(&b, f, len, n);
	assert_int_equal(ctlproto_frame_parse(buf_ptr(&b), buf_used(&b),
	    &used, m, &errstr), 1);
	buf_release(&b);
}

/* Parse a request made of the given fields. */
static int
req(struct ctl_request *r, struct ctl_msg *m, char **cause,
    const char *const *f, size_t n)
{
	int	rv;

	msg_of(m, f, NULL, n);
	*cause = NULL;
	rv = ctlproto_request_parse(m, r, cause);
	if (rv == -1)
		assert_non_null(*cause);
	return rv;
}

/* Expect a request to be refused, with cause containing want. */
static void
req_bad(const char *want, const char *const *f, size_t n)
{
	struct ctl_request	 r;
	struct ctl_msg		 m;
	char			*cause;

	assert_int_equal(req(&r, &m, &cause, f, n), -1);
	if (strstr(cause, want) == NULL)
		fail_msg("cause \"%s\" lacks \"%s\"", cause, want);
	free(cause);
	ctlproto_msg_release(&m);
}

static void
test_request_good(void **state)
{
	struct ctl_request	 r;
	struct ctl_msg		 m;
	char			*cause;
	static const struct {
		const char	*f[4];
		size_t		 n;
		enum ctl_cmd	 cmd;
	} cases[] = {
		{ { "list" }, 1, CTL_LIST },
		{ { "queues" }, 1, CTL_QUEUES },
		{ { "reload" }, 1, CTL_RELOAD },
		{ { "shutdown" }, 1, CTL_SHUTDOWN },
		{ { "status", "web" }, 2, CTL_STATUS },
		{ { "start", "web.2" }, 2, CTL_START },
		{ { "stop", "w_1-x" }, 2, CTL_STOP },
		{ { "cancel", "t" }, 2, CTL_STOP },
		{ { "restart", "t" }, 2, CTL_RESTART },
		{ { "remove", "t" }, 2, CTL_REMOVE },
		{ { "get", "q" }, 2, CTL_GET },
		{ { "get-ack", "q" }, 2, CTL_GET_ACK },
		{ { "put-stream", "q" }, 2, CTL_PUT_STREAM },
		{ { "logs", "web" }, 2, CTL_LOGS },
		{ { "logs-follow", "web" }, 2, CTL_FOLLOW },
		{ { "signal", "web", "SIGHUP" }, 3, CTL_SIGNAL },
		{ { "add-task", "t", "echo hi" }, 3, CTL_ADD_TASK },
		{ { "put", "q" }, 2, CTL_PUT },
	};
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (req(&r, &m, &cause, cases[i].f, cases[i].n) != 0)
			fail_msg("%s: %s", cases[i].f[0], cause);
		assert_int_equal(r.cmd, cases[i].cmd);
		if (cases[i].n > 1)
			assert_string_equal(r.name, cases[i].f[1]);
		assert_string_not_equal(ctlproto_cmd_name(r.cmd), "?");
		ctlproto_msg_release(&m);
	}

	{
		const char *f[] = { "signal", "web", "9" };

		assert_int_equal(req(&r, &m, &cause, f, 3), 0);
		assert_int_equal(r.sig, 9);
		ctlproto_msg_release(&m);
	}
	{
		const char *f[] = { "add-proc", "p", "", "", "", "sleep", "1" };

		assert_int_equal(req(&r, &m, &cause, f, 7), 0);
		assert_int_equal(r.restart, RESTART_NEVER);
		assert_null(r.stdin_queue);
		assert_null(r.stdout_queue);
		assert_int_equal(r.nargs, 2);
		assert_string_equal(r.args[0], "sleep");
		assert_string_equal(r.args[1], "1");
		assert_null(r.args[2]);	/* an argv */
		ctlproto_msg_release(&m);
	}
	{
		const char *f[] = { "add-proc", "p", "on-failure", "in", "out",
		    "cat" };

		assert_int_equal(req(&r, &m, &cause, f, 6), 0);
		assert_int_equal(r.restart, RESTART_ON_FAILURE);
		assert_string_equal(r.stdin_queue, "in");
		assert_string_equal(r.stdout_queue, "out");
		ctlproto_msg_release(&m);
	}
	{
		const char *f[] = { "add-proc", "p", "always", "", "", "x" };

		assert_int_equal(req(&r, &m, &cause, f, 6), 0);
		assert_int_equal(r.restart, RESTART_ALWAYS);
		ctlproto_msg_release(&m);
	}
	{
		/* Items may hold any byte but a newline, NUL included. */
		const char	*f[] = { "put", "q", "a", "", "b\0c" };
		size_t		 len[] = { 3, 1, 1, 0, 3 };
		struct buf	 b;
		const char	*errstr;
		size_t		 used;

		buf_init(&b);
		build(&b, f, len, 5);
		assert_int_equal(ctlproto_frame_parse(buf_ptr(&b),
		    buf_used(&b), &used, &m, &errstr), 1);
		assert_int_equal(ctlproto_request_parse(&m, &r, &cause), 0);
		assert_int_equal(r.nargs, 3);
		assert_int_equal(r.lens[2], 3);
		assert_memory_equal(r.args[2], "b\0c", 3);
		ctlproto_msg_release(&m);
		buf_release(&b);
	}
}

/* Is the frame of fields f (n of them) a get-ack's acknowledgement? */
static int
is_ack(const char *const *f, const size_t *lens, size_t n)
{
	struct ctl_msg	m;
	int		rv;

	msg_of(&m, f, lens, n);
	rv = ctlproto_is_ack(&m);
	ctlproto_msg_release(&m);
	return rv;
}

static void
test_ack(void **state)
{
	static const char *const ack[] = { "ack" };
	static const char *const two[] = { "ack", "" };
	static const char *const other[] = { "get", "q" };
	static const char *const upper[] = { "ACK" };
	static const char *const longer[] = { "ackk" };
	static const char *const shorter[] = { "ac" };
	static const char *const nul[] = { "ack\0" };
	static const size_t nul_len[] = { 4 };

	(void)state;
	assert_true(is_ack(ack, NULL, 1));
	assert_false(is_ack(ack, NULL, 0));	/* the empty frame */
	assert_false(is_ack(two, NULL, 2));
	assert_false(is_ack(other, NULL, 2));
	assert_false(is_ack(upper, NULL, 1));
	assert_false(is_ack(longer, NULL, 1));
	assert_false(is_ack(shorter, NULL, 1));
	assert_false(is_ack(nul, nul_len, 1));
}

static void
test_request_bad(void **state)
{
	char		 longname[CTL_MAX_NAME + 2];
	struct ctl_msg	 m;
	struct ctl_request r;
	char		*cause = NULL;

	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	{
		const char *f[] = { "frobnicate" };
		req_bad("unknown command", f, 1);
	}
	{
		const char *f[] = { "LIST" };
		req_bad("unknown command", f, 1);
	}
	{
		const char *f[] = { "" };
		req_bad("unknown command", f, 1);
	}
	{
		const char *f[] = { "list", "x" };
		req_bad("too many arguments", f, 2);
	}
	{
		const char *f[] = { "status" };
		req_bad("missing arguments", f, 1);
	}
	{
		const char *f[] = { "start", "a", "b" };
		req_bad("too many arguments", f, 3);
	}
	{
		const char *f[] = { "start", "" };
		req_bad("bad unit name", f, 2);
	}
	{
		const char *f[] = { "start", "../etc" };
		req_bad("bad unit name", f, 2);
	}
	{
		const char *f[] = { "start", "a b" };
		req_bad("bad unit name", f, 2);
	}
	{
		const char *f[] = { "start", longname };
		req_bad("bad unit name", f, 2);
	}
	{
		const char *f[] = { "get", "q\n" };
		req_bad("bad queue name", f, 2);
	}
	{
		const char *f[] = { "get-ack" };
		req_bad("get: missing arguments", f, 1);
	}
	{
		const char *f[] = { "get-ack", "q", "r" };
		req_bad("get: too many arguments", f, 3);
	}
	{
		const char *f[] = { "get-ack", "a/b" };
		req_bad("get: bad queue name", f, 2);
	}
	{
		/* The acknowledgement is no request. */
		const char *f[] = { "ack" };
		req_bad("unknown command", f, 1);
	}
	{
		const char *f[] = { "signal", "web", "SIGNOPE" };
		req_bad("bad signal", f, 3);
	}
	{
		const char *f[] = { "signal", "web", "99" };
		req_bad("bad signal", f, 3);
	}
	{
		const char *f[] = { "add-proc", "p", "", "", "" };
		req_bad("missing arguments", f, 5);
	}
	{
		const char *f[] = { "add-proc", "p", "sometimes", "", "", "x" };
		req_bad("bad restart policy", f, 6);
	}
	{
		const char *f[] = { "add-proc", "p", "", "bad/q", "", "x" };
		req_bad("bad queue name", f, 6);
	}
	{
		const char *f[] = { "add-proc", "p", "", "", "", "" };
		req_bad("empty command", f, 6);
	}
	{
		const char *f[] = { "add-task", "t" };
		req_bad("missing arguments", f, 2);
	}
	{
		const char *f[] = { "put", "q", "a\nb" };
		req_bad("newline", f, 3);
	}
	{
		/* A NUL inside a name or an argument: never a C string. */
		const char	*f[] = { "start", "ab\0c" };
		size_t		 len[] = { 5, 4 };
		struct buf	 b;
		const char	*errstr;
		size_t		 used;

		buf_init(&b);
		build(&b, f, len, 2);
		assert_int_equal(ctlproto_frame_parse(buf_ptr(&b),
		    buf_used(&b), &used, &m, &errstr), 1);
		assert_int_equal(ctlproto_request_parse(&m, &r, &cause), -1);
		free(cause);
		ctlproto_msg_release(&m);
		buf_clear(&b);
		{
			const char *g[] = { "add-task", "t", "echo a\0b" };
			size_t glen[] = { 8, 1, 8 };

			build(&b, g, glen, 3);
		}
		assert_int_equal(ctlproto_frame_parse(buf_ptr(&b),
		    buf_used(&b), &used, &m, &errstr), 1);
		assert_int_equal(ctlproto_request_parse(&m, &r, &cause), -1);
		assert_non_null(strstr(cause, "NUL"));
		free(cause);
		ctlproto_msg_release(&m);
		buf_release(&b);
	}
	/* The empty frame is no request. */
	memset(&m, 0, sizeof m);
	assert_int_equal(ctlproto_request_parse(&m, &r, &cause), -1);
	free(cause);
}

/* Parse b's single frame as a reply. */
static int
reply(struct buf *b, struct ctl_msg *m, struct ctl_reply *r,
    const char **errstr)
{
	size_t	used;

	assert_int_equal(ctlproto_frame_parse(buf_ptr(b), buf_used(b), &used,
	    m, errstr), 1);
	return ctlproto_reply_parse(m, r, errstr);
}

static void
test_reply_round_trip(void **state)
{
	struct ctl_frame	 fr;
	struct ctl_reply	 r;
	struct ctl_msg		 m;
	struct buf		 b;
	const char		*errstr;

	buf_init(&b);
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "rec");
	ctlproto_frame_adds(&fr, "units");
	ctlproto_frame_strs(&fr, "name", "web");
	ctlproto_frame_str(&fr, "line", "a\0b", 3);
	ctlproto_frame_int(&fr, "pid", 1234);
	ctlproto_frame_int(&fr, "neg", -5);
	ctlproto_frame_int(&fr, "max", INT64_MAX);
	ctlproto_frame_bool(&fr, "yes", 1);
	ctlproto_frame_bool(&fr, "no", 0);
	ctlproto_frame_null(&fr, "nothing");
	ctlproto_frame_finish(&fr, &b);
	assert_int_equal(reply(&b, &m, &r, &errstr), 0);
	assert_int_equal(r.kind, CTL_REPLY_REC);
	assert_string_equal(r.set, "units");
	assert_int_equal(r.nkv, 8);
	assert_int_equal(r.kv[0].type, CTL_T_STR);
	assert_string_equal(r.kv[0].key, "name");
	assert_string_equal(r.kv[0].val, "web");
	assert_int_equal(r.kv[1].vlen, 3);
	assert_int_equal(r.kv[2].type, CTL_T_INT);
	assert_string_equal(r.kv[2].val, "1234");
	assert_string_equal(r.kv[3].val, "-5");
	assert_string_equal(r.kv[4].val, "9223372036854775807");
	assert_int_equal(r.kv[5].type, CTL_T_BOOL);
	assert_string_equal(r.kv[6].val, "false");
	assert_int_equal(r.kv[7].type, CTL_T_NULL);
	ctlproto_reply_release(&r);
	ctlproto_msg_release(&m);

	buf_clear(&b);
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "err");
	ctlproto_frame_adds(&fr, "no such unit: x");
	ctlproto_frame_bool(&fr, "end", 1);
	ctlproto_frame_finish(&fr, &b);
	assert_int_equal(reply(&b, &m, &r, &errstr), 0);
	assert_int_equal(r.kind, CTL_REPLY_ERR);
	assert_string_equal(r.error, "no such unit: x");
	assert_int_equal(r.nkv, 1);
	ctlproto_reply_release(&r);
	ctlproto_msg_release(&m);

	buf_clear(&b);
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "ok");
	ctlproto_frame_finish(&fr, &b);
	assert_int_equal(reply(&b, &m, &r, &errstr), 0);
	assert_int_equal(r.kind, CTL_REPLY_OK);
	assert_int_equal(r.nkv, 0);
	ctlproto_reply_release(&r);
	ctlproto_msg_release(&m);
	buf_release(&b);
}

/* Expect the reply made of fields f to be refused. */
static void
reply_bad(const char *const *f, size_t n)
{
	struct ctl_reply	 r;
	struct ctl_msg		 m;
	struct buf		 b;
	const char		*errstr = NULL;

	buf_init(&b);
	build(&b, f, NULL, n);
	assert_int_equal(reply(&b, &m, &r, &errstr), -1);
	assert_non_null(errstr);
	assert_null(r.kv);
	ctlproto_msg_release(&m);
	buf_release(&b);
}

static void
test_reply_bad(void **state)
{
	char	longkey[CTL_MAX_KEY + 2];

	memset(longkey, 'k', sizeof longkey - 1);
	longkey[sizeof longkey - 1] = '\0';
#define BAD(...) do {							\
	const char *f_[] = { __VA_ARGS__ };				\
	reply_bad(f_, sizeof f_ / sizeof f_[0]);			\
} while (0)
	BAD("yes");
	BAD("OK");
	BAD("err");
	BAD("err", "");
	BAD("rec");
	BAD("rec", "Units");
	BAD("rec", "9x");
	BAD("ok", "s", "k");
	BAD("ok", "s", "k", "v", "s");
	BAD("ok", "x", "k", "v");
	BAD("ok", "ss", "k", "v");
	BAD("ok", "", "k", "v");
	BAD("ok", "s", "", "v");
	BAD("ok", "s", "Key", "v");
	BAD("ok", "s", "a-b", "v");
	BAD("ok", "s", "1a", "v");
	BAD("ok", "s", longkey, "v");
	BAD("ok", "i", "n", "");
	BAD("ok", "i", "n", "01");
	BAD("ok", "i", "n", "-0");
	BAD("ok", "i", "n", "-");
	BAD("ok", "i", "n", "1a");
	BAD("ok", "i", "n", " 1");
	BAD("ok", "i", "n", "+1");
	BAD("ok", "i", "n", "9223372036854775808");
	BAD("ok", "i", "n", "-9223372036854775808");
	BAD("ok", "i", "n", "99999999999999999999");
	BAD("ok", "b", "t", "yes");
	BAD("ok", "b", "t", "");
	BAD("ok", "z", "n", "x");
	BAD("ok", "s", "k", "1", "s", "k", "2");
#undef BAD
	{
		/* More triples than a reply may hold. */
		struct ctl_frame	 fr;
		struct ctl_reply	 r;
		struct ctl_msg		 m;
		struct buf		 b;
		const char		*errstr;
		char			 key[16];
		int			 i;

		buf_init(&b);
		ctlproto_frame_init(&fr);
		ctlproto_frame_adds(&fr, "ok");
		for (i = 0; i < 257; i++) {
			snprintf(key, sizeof key, "k%d", i);
			ctlproto_frame_int(&fr, key, i);
		}
		ctlproto_frame_finish(&fr, &b);
		assert_int_equal(reply(&b, &m, &r, &errstr), -1);
		ctlproto_msg_release(&m);
		buf_release(&b);
	}
	{
		struct ctl_reply	r;
		struct ctl_msg		m;
		const char		*errstr;

		memset(&m, 0, sizeof m);
		assert_int_equal(ctlproto_reply_parse(&m, &r, &errstr), -1);
	}
}

/* JSON of s (len bytes) compared with want. */
static void
json_is(const char *s, size_t len, const char *want)
{
	struct buf	b;

	buf_init(&b);
	buf_add_json_string(&b, s, len);
	buf_addc(&b, '\0');
	assert_string_equal(buf_ptr(&b), want);
	buf_release(&b);
}

static void
test_json_string(void **state)
{
	json_is("", 0, "\"\"");
	json_is("plain", 5, "\"plain\"");
	json_is("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	json_is("\n\t\r", 3, "\"\\n\\t\\r\"");
	json_is("\x01\x1b[1m\x7f", 6, "\"\\u0001\\u001b[1m\\u007f\"");
	json_is("a\0b", 3, "\"a\\u0000b\"");
	json_is("/", 1, "\"/\"");
	/* Valid UTF-8 stays as it is: é, €, 😀. */
	json_is("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9,
	    "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	/* Invalid bytes each become U+FFFD. */
	json_is("\xff", 1, "\"\\ufffd\"");
	json_is("a\x80z", 3, "\"a\\ufffdz\"");
	json_is("\xc0\x80", 2, "\"\\ufffd\\ufffd\"");		/* overlong */
	json_is("\xe0\x80\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");
	json_is("\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"");	/* surrogate */
	json_is("\xf4\x90\x80\x80", 4,
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");			/* > U+10FFFF */
	json_is("\xe2\x82", 2, "\"\\ufffd\\ufffd\"");		/* truncated */
	json_is("\xc3", 1, "\"\\ufffd\"");
	json_is("\xc3" "A", 2, "\"\\ufffdA\"");
}

/* Into a fixed buffer: cut at a whole character, always closed. */
static void
test_json_write(void **state)
{
	char	out[16];
	size_t	n;

	n = buf_json_write(out, sizeof out, "Malm\xc3\xb6", 6);
	assert_int_equal(n, 8);
	assert_memory_equal(out, "\"Malm\xc3\xb6\"", 8);
	/* One é fits in 5 bytes with the quotes; a second would not. */
	n = buf_json_write(out, 5, "\xc3\xa9\xc3\xa9", 4);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "\"\xc3\xa9\"", 4);
	/* An escape is never cut in two. */
	n = buf_json_write(out, 7, "a\x01", 2);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "\"a\"", 3);
	assert_int_equal(buf_json_write(out, 1, "a", 1), 0);
}

static void
test_json_value(void **state)
{
	struct ctl_kv	kv;
	struct buf	b;

	buf_init(&b);
	kv.key = "k";
	kv.type = CTL_T_INT;
	kv.val = "-12";
	kv.vlen = 3;
	ctlproto_json_value(&b, &kv);
	buf_addc(&b, ' ');
	kv.type = CTL_T_BOOL;
	kv.val = "true";
	kv.vlen = 4;
	ctlproto_json_value(&b, &kv);
	buf_addc(&b, ' ');
	kv.type = CTL_T_NULL;
	kv.val = "";
	kv.vlen = 0;
	ctlproto_json_value(&b, &kv);
	buf_addc(&b, ' ');
	kv.type = CTL_T_STR;
	kv.val = "x\"";
	kv.vlen = 2;
	ctlproto_json_value(&b, &kv);
	buf_addc(&b, '\0');
	assert_string_equal(buf_ptr(&b), "-12 true null \"x\\\"\"");
	buf_release(&b);
}

static void
test_default_dir(void **state)
{
	char		 tmpl[] = "/tmp/test_ctlproto.XXXXXX", *d, *cause = NULL;
	char		*p, *q, *want;
	struct stat	 st;

	assert_non_null(mkdtemp(tmpl));
	setenv("XDG_RUNTIME_DIR", tmpl, 1);

	/* Without create, a missing directory is an error. */
	assert_null(ctlproto_default_dir(0, &cause));
	assert_non_null(cause);
	free(cause);
	cause = NULL;

	d = ctlproto_default_dir(1, &cause);
	assert_non_null(d);
	want = xasprintf("%s/pytasking-run", tmpl);
	assert_string_equal(d, want);
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);

	p = ctlproto_default_path("/some/where/jobs.yaml", 1, &cause);
	assert_non_null(p);
	free(want);
	want = xasprintf("%s/pytasking-run/jobs-", tmpl);
	assert_int_equal(strncmp(p, want, strlen(want)), 0);
	assert_int_equal(strlen(p), strlen(want) + 8 + 5);
	assert_string_equal(p + strlen(p) - 5, ".sock");
	/* Same name, another directory: another socket. */
	q = ctlproto_default_path("/some/else/jobs.yaml", 0, &cause);
	assert_string_not_equal(p, q);
	free(q);
	free(p);
	/* The same directory, however spelled: the same socket. */
	p = ctlproto_default_path("x.yml", 0, &cause);
	assert_non_null(strstr(p, "/x-"));
	q = ctlproto_default_path("./x.yml", 0, &cause);
	assert_string_equal(p, q);
	free(q);
	free(p);
	p = ctlproto_default_path("conf", 0, &cause);
	assert_non_null(strstr(p, "/conf-"));
	free(p);
	p = ctlproto_default_path(".yaml", 0, &cause);
	assert_non_null(strstr(p, "/.yaml-"));
	free(p);

	/* Open to others: refused. */
	assert_int_equal(chmod(d, 0755), 0);
	assert_null(ctlproto_default_dir(1, &cause));
	assert_non_null(strstr(cause, "0755"));
	free(cause);
	cause = NULL;
	assert_int_equal(chmod(d, 0700), 0);
	assert_int_equal(rmdir(d), 0);

	/* A symbolic link or a file in its place: refused. */
	assert_int_equal(symlink("/tmp", d), 0);
	assert_null(ctlproto_default_dir(1, &cause));
	assert_non_null(strstr(cause, "not a directory"));
	free(cause);
	cause = NULL;
	assert_int_equal(unlink(d), 0);
	{
		FILE *fp = fopen(d, "w");

		assert_non_null(fp);
		fclose(fp);
	}
	assert_null(ctlproto_default_dir(1, &cause));
	free(cause);
	cause = NULL;
	assert_int_equal(unlink(d), 0);

	/* A relative XDG_RUNTIME_DIR is ignored, as the spec says. */
	setenv("XDG_RUNTIME_DIR", "relative", 1);
	if ((p = ctlproto_default_dir(0, &cause)) != NULL) {
		assert_non_null(strstr(p, "/tmp/pytasking-run-"));
		free(p);
	} else {
		assert_non_null(strstr(cause, "/tmp/pytasking-run-"));
		free(cause);
	}

	unsetenv("XDG_RUNTIME_DIR");
	assert_int_equal(rmdir(tmpl), 0);
	free(want);
	free(d);
}

/* Feed bytes to every parser; nothing may crash or leak. */
static void
feed_all(const char *p, size_t len)
{
	struct ctl_request	 r;
	struct ctl_reply	 rep;
	struct ctl_msg		 m;
	const char		*errstr;
	char			*cause;
	unsigned		 v;
	size_t			 used;

	(void)ctlproto_version_parse(p, len, &used, &v, &errstr);
	while (len > 0 &&
	    ctlproto_frame_parse(p, len, &used, &m, &errstr) == 1) {
		assert_true(used <= len);
		cause = NULL;
		if (ctlproto_request_parse(&m, &r, &cause) == -1)
			free(cause);
		if (ctlproto_reply_parse(&m, &rep, &errstr) == 0)
			ctlproto_reply_release(&rep);
		ctlproto_msg_release(&m);
		p += used;
		len -= used;
	}
}

static void
test_random_bytes(void **state)
{
	static const char	alphabet[] = "0123456789:,,,:::aA\n\0\xff";
	uint64_t		seed = 0x5eed;
	char			buf[256];
	size_t			i, j, len;

	for (i = 0; i < 20000; i++) {
		len = rnd_next(&seed) % sizeof buf;
		for (j = 0; j < len; j++)
			buf[j] = (i & 1) ? (char)rnd_next(&seed) :
			    alphabet[rnd_next(&seed) % (sizeof alphabet - 1)];
		feed_all(buf, len);
	}
}

static void
test_random_mutations(void **state)
{
	const char		*f[] = { "add-proc", "p", "always", "in", "",
	    "sh", "-c", "echo hi" };
	struct ctl_frame	 fr;
	struct buf		 b;
	uint64_t		 seed = 42;
	char			*copy;
	size_t			 i, k, n, len;

	buf_init(&b);
	build(&b, f, NULL, 8);
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "rec");
	ctlproto_frame_adds(&fr, "units");
	ctlproto_frame_strs(&fr, "name", "web");
	ctlproto_frame_int(&fr, "pid", 77);
	ctlproto_frame_null(&fr, "x");
	ctlproto_frame_finish(&fr, &b);
	len = buf_used(&b);
	copy = xmalloc(len);
	for (i = 0; i < 50000; i++) {
		memcpy(copy, buf_ptr(&b), len);
		n = 1 + rnd_next(&seed) % 4;
		for (k = 0; k < n; k++)
			copy[rnd_next(&seed) % len] = (char)rnd_next(&seed);
		feed_all(copy, len - rnd_next(&seed) % 3);
	}
	free(copy);
	buf_release(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_frame_round_trip),
		cmocka_unit_test(test_frame_prefixes),
		cmocka_unit_test(test_frame_back_to_back),
		cmocka_unit_test(test_frame_malformed),
		cmocka_unit_test(test_request_good),
		cmocka_unit_test(test_request_bad),
		cmocka_unit_test(test_ack),
		cmocka_unit_test(test_reply_round_trip),
		cmocka_unit_test(test_reply_bad),
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_json_write),
		cmocka_unit_test(test_json_value),
		cmocka_unit_test(test_default_dir),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_random_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
