/*
 * libFuzzer target for the control protocol parsers (src/ctlproto.c):
 * bytes as they would reach the server (a version line, then frames) go
 * through ctlproto_version_parse and ctlproto_frame_parse, and each frame
 * through ctlproto_request_parse, ctlproto_items_check and (as the client
 * would read it) ctlproto_reply_parse. What must hold besides no crash and
 * no leak: a strict prefix of a complete element is "incomplete", never
 * an error; a parsed frame encodes back to fields that parse the same;
 * every JSON string is valid UTF-8 without raw control bytes. Built and
 * run by "make fuzz".
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ctlproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Frames tried per input: enough for a request and a stream of items. */
#define FUZZ_MAX_FRAMES	64

#define CHECK(e)	do { if (!(e)) abort(); } while (0)

/* Is p valid UTF-8 (no overlong form, surrogate, or beyond U+10FFFF)? */
static int
fuzz_is_utf8(const unsigned char *p, size_t len)
{
	size_t		i = 0, n, k;
	uint32_t	c;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			n = 2;
			c = p[i] & 0x1f;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 3;
			c = p[i] & 0x0f;
		} else if ((p[i] & 0xf8) == 0xf0) {
			n = 4;
			c = p[i] & 0x07;
		} else
			return 0;
		if (len - i < n)
			return 0;
		for (k = 1; k < n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			c = c << 6 | (p[i + k] & 0x3f);
		}
		if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
		    (n == 4 && c < 0x10000) || c > 0x10ffff ||
		    (c >= 0xd800 && c <= 0xdfff))
			return 0;
		i += n;
	}
	return 1;
}

/* A JSON value as ctlproto writes it: UTF-8, no raw control byte. */
static void
fuzz_check_json(const struct buf *b)
{
	const unsigned char	*p = (const unsigned char *)buf_ptr(b);
	size_t			 i, len = buf_used(b);

	CHECK(fuzz_is_utf8(p, len));
	for (i = 0; i < len; i++)
		CHECK(p[i] >= 0x20 && p[i] != 0x7f);
}

/* Encode m again; it must parse back, whole, to the same fields. */
static void
fuzz_reencode(const struct ctl_msg *m)
{
	struct ctl_frame	 fr;
	struct ctl_msg		 again;
	struct buf		 out;
	const char		*errstr;
	size_t			 i, used;

	ctlproto_frame_init(&fr);
	for (i = 0; i < m->n; i++)
		ctlproto_frame_add(&fr, m->f[i], m->len[i]);
	buf_init(&out);
	ctlproto_frame_finish(&fr, &out);
	CHECK(ctlproto_frame_parse(buf_ptr(&out), buf_used(&out), &used,
	    &again, &errstr) == 1);
	CHECK(used == buf_used(&out));
	CHECK(again.n == m->n);
	for (i = 0; i < m->n; i++) {
		CHECK(again.len[i] == m->len[i]);
		CHECK(memcmp(again.f[i], m->f[i], m->len[i]) == 0);
		CHECK(again.f[i][again.len[i]] == '\0');
	}
	CHECK(again.f[again.n] == NULL);
	ctlproto_msg_release(&again);
	buf_release(&out);
}

/* Everything a server or a client would do with one frame. */
static void
fuzz_frame(const struct ctl_msg *m)
{
	struct ctl_request	 req;
	struct ctl_reply	 rep;
	struct buf		 json;
	const char		*errstr;
	char			*cause = NULL;
	size_t			 i;

	fuzz_reencode(m);

	if (ctlproto_request_parse(m, &req, &cause) == 0) {
		CHECK(ctlproto_cmd_name(req.cmd) != NULL);
		for (i = 0; i < req.nargs; i++)
			CHECK(req.lens[i] == strlen(req.args[i]) ||
			    req.cmd == CTL_PUT);
	} else {
		CHECK(cause != NULL);
		free(cause);
	}
	if (ctlproto_items_check(m->f, m->len, m->n, &errstr) == -1)
		CHECK(errstr != NULL);
	/* A get-ack's acknowledgement is the one field "ack", no request. */
	if (ctlproto_is_ack(m)) {
		CHECK(m->n == 1 && strcmp(m->f[0], "ack") == 0);
		cause = NULL;
		CHECK(ctlproto_request_parse(m, &req, &cause) == -1);
		free(cause);
	}

	buf_init(&json);
	if (ctlproto_reply_parse(m, &rep, &errstr) == 0) {
		for (i = 0; i < rep.nkv; i++) {
			buf_clear(&json);
			ctlproto_json_value(&json, &rep.kv[i]);
			fuzz_check_json(&json);
		}
		ctlproto_reply_release(&rep);
	} else
		CHECK(errstr != NULL);
	for (i = 0; i < m->n; i++) {
		buf_clear(&json);
		buf_add_json_string(&json, m->f[i], m->len[i]);
		fuzz_check_json(&json);
	}
	buf_release(&json);
}

/* Parse data as the bytes of a control connection. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char	*p = (const char *)data, *errstr;
	struct ctl_msg	 m, part;
	size_t		 used, n, unused;
	unsigned	 version;
	int		 r;

	/* The version line first; without one, the bytes are all frames. */
	r = ctlproto_version_parse(p, len, &used, &version, &errstr);
	if (r == 1) {
		CHECK(used > 0 && used <= len && p[used - 1] == '\n');
		CHECK(ctlproto_version_parse(p, used - 1, &unused, &version,
		    &errstr) == 0);
		p += used;
		len -= used;
	} else if (r == -1)
		CHECK(errstr != NULL);

	for (n = 0; n < FUZZ_MAX_FRAMES; n++) {
		r = ctlproto_frame_parse(p, len, &used, &m, &errstr);
		if (r != 1) {
			CHECK(r == 0 || errstr != NULL);
			CHECK(m.f == NULL && m.n == 0);
			break;
		}
		CHECK(used > 0 && used <= len);
		CHECK(ctlproto_frame_parse(p, used - 1, &unused, &part,
		    &errstr) == 0);
		fuzz_frame(&m);
		ctlproto_msg_release(&m);
		p += used;
		len -= used;
	}
	return 0;
}
