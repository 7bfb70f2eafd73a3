/*
 * The control protocol as bytes: a version line, then frames. A frame is
 * a netstring ("LEN:PAYLOAD,") whose payload is a sequence of netstring
 * fields. Parsers are strict (no leading zeros, no missing commas, known
 * commands and types only) and bounded (CTL_MAX_FRAME, CTL_MAX_FIELDS), and
 * they reject a bad prefix as soon as it is seen, so a peer can neither
 * make us hold more than one frame nor wait for bytes that cannot come.
 * Also here, because both ends need it: the default socket directory.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ctlproto.h"
#include "manifest.h"
#include "util.h"
#include "xmalloc.h"

/* Key/value triples in one reply frame. */
#define CTL_MAX_KV	256
/* Digits of a length: CTL_MAX_FRAME has 7. */
#define CTL_LEN_DIGITS	7

/*
 * Parse the "LEN:" header of a netstring at p, allowing at most max for
 * LEN. Returns 1 with *n and *hdr (header bytes), 0 when more is needed.
 */
static int
ns_header(const char *p, size_t len, size_t max, size_t *n, size_t *hdr,
    const char **errstr)
{
	size_t	i, v = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == ':') {
			if (i == 0) {
				*errstr = "missing length";
				return -1;
			}
			*n = v;
			*hdr = i + 1;
			return 1;
		}
		if (p[i] < '0' || p[i] > '9') {
			*errstr = "expected a decimal length";
			return -1;
		}
		if (i == 1 && p[0] == '0') {
			*errstr = "leading zero in a length";
			return -1;
		}
		if (i >= CTL_LEN_DIGITS) {
			*errstr = "length too long";
			return -1;
		}
		v = v * 10 + (size_t)(p[i] - '0');
		if (v > max) {
			*errstr = "length over the limit";
			return -1;
		}
	}
	return 0;
}

int
ctlproto_version_parse(const char *p, size_t len, size_t *used,
    unsigned *version, const char **errstr)
{
	static const char	magic[] = CTL_MAGIC " ";
	const size_t		mlen = sizeof magic - 1;
	size_t			i;
	unsigned		v = 0;

	for (i = 0; i < len; i++) {
		if (i >= CTL_MAX_VERSION_LINE - 1 && p[i] != '\n') {
			*errstr = "version line too long";
			return -1;
		}
		if (i < mlen) {
			if (p[i] != magic[i]) {
				*errstr = "not a pytasking-run control "
				    "connection";
				return -1;
			}
			continue;
		}
		if (p[i] == '\n') {
			if (i == mlen) {
				*errstr = "missing version number";
				return -1;
			}
			*version = v;
			*used = i + 1;
			return 1;
		}
		if (p[i] < '0' || p[i] > '9' || i - mlen >= 9) {
			*errstr = "bad version number";
			return -1;
		}
		if (i == mlen + 1 && p[mlen] == '0') {
			*errstr = "leading zero in the version number";
			return -1;
		}
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	return 0;
}

void
ctlproto_version_add(struct buf *b)
{
	buf_addf(b, "%s %d\n", CTL_MAGIC, CTL_VERSION);
}

void
ctlproto_msg_release(struct ctl_msg *m)
{
	size_t	i;

	if (m->f != NULL)
		for (i = 0; i < m->n; i++)
			free(m->f[i]);
	free(m->f);
	free(m->len);
	memset(m, 0, sizeof *m);
}

int
ctlproto_frame_parse(const char *p, size_t len, size_t *used,
    struct ctl_msg *m, const char **errstr)
{
	const char	*q;
	size_t		 n, hdr, rest, fl, fh, count, i;
	int		 r;

	memset(m, 0, sizeof *m);
	if ((r = ns_header(p, len, CTL_MAX_FRAME, &n, &hdr, errstr)) <= 0)
		return r;
	if (len - hdr < n + 1)
		return 0;
	if (p[hdr + n] != ',') {
		*errstr = "missing comma after a frame";
		return -1;
	}

	/* Check every field before allocating anything. */
	count = 0;
	for (q = p + hdr, rest = n; rest > 0; q += fh + fl + 1,
	    rest -= fh + fl + 1) {
		r = ns_header(q, rest, rest, &fl, &fh, errstr);
		if (r == -1)
			return -1;
		if (r == 0 || rest - fh < fl + 1) {
			*errstr = "field truncated by the end of its frame";
			return -1;
		}
		if (q[fh + fl] != ',') {
			*errstr = "missing comma after a field";
			return -1;
		}
		if (++count > CTL_MAX_FIELDS) {
			*errstr = "too many fields in a frame";
			return -1;
		}
	}

	m->f = xcalloc(count + 1, sizeof *m->f);
	m->len = xcalloc(count + 1, sizeof *m->len);
	m->n = count;
	for (q = p + hdr, i = 0; i < count; i++, q += fh + fl + 1) {
		(void)ns_header(q, n, n, &fl, &fh, errstr);
		m->f[i] = xmalloc(fl + 1);
		memcpy(m->f[i], q + fh, fl);
		m->f[i][fl] = '\0';
		m->len[i] = fl;
	}
	*used = hdr + n + 1;
	return 1;
}

void
ctlproto_frame_init(struct ctl_frame *fr)
{
	buf_init(&fr->fields);
	fr->n = 0;
}

void
ctlproto_frame_add(struct ctl_frame *fr, const void *p, size_t len)
{
	buf_addf(&fr->fields, "%zu:", len);
	buf_add(&fr->fields, p, len);
	buf_addc(&fr->fields, ',');
	fr->n++;
}

void
ctlproto_frame_adds(struct ctl_frame *fr, const char *s)
{
	ctlproto_frame_add(fr, s, strlen(s));
}

void
ctlproto_frame_str(struct ctl_frame *fr, const char *key, const char *val,
    size_t len)
{
	ctlproto_frame_add(fr, "s", 1);
	ctlproto_frame_adds(fr, key);
	ctlproto_frame_add(fr, val, len);
}

void
ctlproto_frame_strs(struct ctl_frame *fr, const char *key, const char *val)
{
	ctlproto_frame_str(fr, key, val, strlen(val));
}

void
ctlproto_frame_int(struct ctl_frame *fr, const char *key, int64_t v)
{
	char	num[32];

	snprintf(num, sizeof num, "%" PRId64, v);
	ctlproto_frame_add(fr, "i", 1);
	ctlproto_frame_adds(fr, key);
	ctlproto_frame_adds(fr, num);
}

void
ctlproto_frame_bool(struct ctl_frame *fr, const char *key, int v)
{
	ctlproto_frame_add(fr, "b", 1);
	ctlproto_frame_adds(fr, key);
	ctlproto_frame_adds(fr, v ? "true" : "false");
}

void
ctlproto_frame_null(struct ctl_frame *fr, const char *key)
{
	ctlproto_frame_add(fr, "z", 1);
	ctlproto_frame_adds(fr, key);
	ctlproto_frame_add(fr, "", 0);
}

void
ctlproto_frame_finish(struct ctl_frame *fr, struct buf *out)
{
	size_t	n = buf_used(&fr->fields);

	buf_addf(out, "%zu:", n);
	buf_add(out, buf_ptr(&fr->fields), n);
	buf_addc(out, ',');
	buf_release(&fr->fields);
	fr->n = 0;
}

/*
 * The commands: wire name, the words of ctl that send it (for messages),
 * arguments after the name (max -1: any).
 */
static const struct {
	const char	*name;
	const char	*words;
	enum ctl_cmd	 cmd;
	size_t		 min;
	long		 max;
} ctl_cmds[] = {
	{ "list", "list", CTL_LIST, 0, 0 },
	{ "status", "status", CTL_STATUS, 1, 1 },
	{ "start", "start", CTL_START, 1, 1 },
	{ "stop", "stop", CTL_STOP, 1, 2 },
	{ "cancel", "cancel", CTL_STOP, 1, 2 },
	{ "restart", "restart", CTL_RESTART, 1, 2 },
	{ "scale", "scale", CTL_SCALE, 2, 2 },
	{ "signal", "signal", CTL_SIGNAL, 2, 2 },
	{ "add-proc", "add proc", CTL_ADD_PROC, 5, -1 },
	{ "add-task", "add task", CTL_ADD_TASK, 2, -1 },
	{ "remove", "remove", CTL_REMOVE, 1, 2 },
	{ "put", "put", CTL_PUT, 1, -1 },
	{ "put-stream", "put", CTL_PUT_STREAM, 1, 1 },
	{ "get", "get", CTL_GET, 1, 1 },
	{ "get-ack", "get", CTL_GET_ACK, 1, 1 },
	{ "close", "close", CTL_CLOSE, 1, 1 },
	{ "queues", "queues", CTL_QUEUES, 0, 0 },
	{ "logs", "logs", CTL_LOGS, 1, 3 },
	{ "logs-follow", "logs -f", CTL_FOLLOW, 1, 3 },
	{ "reload", "reload", CTL_RELOAD, 0, 0 },
	{ "shutdown", "shutdown", CTL_SHUTDOWN, 0, 0 },
	{ "metrics", "metrics", CTL_METRICS, 0, 0 },
};

/* The words of a known command, for messages. */
static const char *
cmd_words(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof ctl_cmds / sizeof ctl_cmds[0]; i++)
		if (strcmp(ctl_cmds[i].name, name) == 0)
			return ctl_cmds[i].words;
	return name;
}

const char *
ctlproto_cmd_name(enum ctl_cmd cmd)
{
	size_t	i;

	for (i = 0; i < sizeof ctl_cmds / sizeof ctl_cmds[0]; i++)
		if (ctl_cmds[i].cmd == cmd)
			return ctl_cmds[i].name;
	return "?";
}

/* A field quoted for a message: JSON-escaped, cut after max bytes. */
static char *
quote(const char *s, size_t len, size_t max)
{
	struct buf	b;

	buf_init(&b);
	buf_add_json_string(&b, s, len > max ? max : len);
	if (len > max)
		buf_adds(&b, "...");
	return buf_steal(&b);
}

/* Is field i a unit or queue name? Else set *cause. */
static int
req_name(const struct ctl_msg *m, size_t i, const char *what, char **cause)
{
	char	*q;

	if (m->len[i] == 0 || m->len[i] > CTL_MAX_NAME ||
	    strlen(m->f[i]) != m->len[i] || !util_is_valid_name(m->f[i])) {
		q = quote(m->f[i], m->len[i], 64);
		*cause = xasprintf("%s: bad %s name: %s", cmd_words(m->f[0]),
		    what, q);
		free(q);
		return -1;
	}
	return 0;
}

/* An optional queue name: "" means none. */
static int
req_opt_queue(const struct ctl_msg *m, size_t i, const char **out,
    char **cause)
{
	if (m->len[i] == 0) {
		*out = NULL;
		return 0;
	}
	if (req_name(m, i, "queue", cause) == -1)
		return -1;
	*out = m->f[i];
	return 0;
}

/* Are fields from i on free of NUL bytes (C strings)? */
static int
req_strings(const struct ctl_msg *m, size_t i, const char *what,
    char **cause)
{
	for (; i < m->n; i++)
		if (strlen(m->f[i]) != m->len[i]) {
			*cause = xasprintf("%s: NUL byte in %s",
			    cmd_words(m->f[0]), what);
			return -1;
		}
	return 0;
}

int
ctlproto_request_parse(const struct ctl_msg *m, struct ctl_request *req,
    char **cause)
{
	const char	*errstr;
	char		*q;
	size_t		 i, nargs;
	uint64_t	 u64;

	memset(req, 0, sizeof *req);
	if (m->n == 0) {
		*cause = xstrdup("empty request");
		return -1;
	}
	for (i = 0; i < sizeof ctl_cmds / sizeof ctl_cmds[0]; i++)
		if (m->len[0] == strlen(ctl_cmds[i].name) &&
		    memcmp(m->f[0], ctl_cmds[i].name, m->len[0]) == 0)
			break;
	if (i == sizeof ctl_cmds / sizeof ctl_cmds[0]) {
		q = quote(m->f[0], m->len[0], 64);
		*cause = xasprintf("unknown command: %s", q);
		free(q);
		return -1;
	}
	nargs = m->n - 1;
	if (nargs < ctl_cmds[i].min) {
		*cause = xasprintf("%s: missing arguments",
		    ctl_cmds[i].words);
		return -1;
	}
	if (ctl_cmds[i].max >= 0 && nargs > (size_t)ctl_cmds[i].max) {
		*cause = xasprintf("%s: too many arguments",
		    ctl_cmds[i].words);
		return -1;
	}
	req->cmd = ctl_cmds[i].cmd;
	req->restart = RESTART_NEVER;

	switch (req->cmd) {
	case CTL_LIST:
	case CTL_QUEUES:
	case CTL_RELOAD:
	case CTL_SHUTDOWN:
	case CTL_METRICS:
		return 0;
	case CTL_STOP:
	case CTL_RESTART:
	case CTL_REMOVE:
		if (req_name(m, 1, "unit", cause) == -1)
			return -1;
		req->name = m->f[1];
		if (nargs == 2) {
			if (strlen(m->f[2]) != m->len[2] ||
			    strcmp(m->f[2], "nowait") != 0) {
				q = quote(m->f[2], m->len[2], 32);
				*cause = xasprintf("%s: unknown option %s",
				    ctl_cmds[i].words, q);
				free(q);
				return -1;
			}
			req->nowait = 1;
		}
		return 0;
	case CTL_SCALE:
		if (req_name(m, 1, "unit", cause) == -1)
			return -1;
		req->name = m->f[1];
		if (strlen(m->f[2]) != m->len[2] ||
		    util_parse_uint(m->f[2], 1, MANIFEST_MAX_REPLICAS, &u64,
		    &errstr) == -1) {
			q = quote(m->f[2], m->len[2], 32);
			*cause = xasprintf("scale: bad number of replicas: %s "
			    "(1 to %u)", q, (unsigned)MANIFEST_MAX_REPLICAS);
			free(q);
			return -1;
		}
		req->count = (unsigned)u64;
		return 0;
	case CTL_STATUS:
	case CTL_START:
		if (req_name(m, 1, "unit", cause) == -1)
			return -1;
		req->name = m->f[1];
		return 0;
	case CTL_LOGS:
	case CTL_FOLLOW:
		/* UNIT ("": every unit) [LINES [SINCE_MS]], "" for none. */
		if (m->len[1] > 0) {
			if (req_name(m, 1, "unit", cause) == -1)
				return -1;
			req->name = m->f[1];
		}
		if (nargs >= 2 && m->len[2] > 0) {
			if (strlen(m->f[2]) != m->len[2] ||
			    util_parse_uint(m->f[2], 0, UINT32_MAX, &req->lines,
			    &errstr) == -1) {
				*cause = xstrdup("logs: bad number of lines");
				return -1;
			}
			req->has_lines = 1;
		}
		if (nargs >= 3 && m->len[3] > 0 &&
		    (strlen(m->f[3]) != m->len[3] ||
		    util_parse_uint(m->f[3], 1, UINT64_MAX - 1, &req->since_ms,
		    &errstr) == -1)) {
			*cause = xstrdup("logs: bad duration");
			return -1;
		}
		return 0;
	case CTL_SIGNAL:
		if (req_name(m, 1, "unit", cause) == -1)
			return -1;
		req->name = m->f[1];
		if (strlen(m->f[2]) != m->len[2] ||
		    util_parse_signal(m->f[2], &req->sig, &errstr) == -1) {
			q = quote(m->f[2], m->len[2], 32);
			*cause = xasprintf("signal: bad signal: %s", q);
			free(q);
			return -1;
		}
		return 0;
	case CTL_ADD_PROC:
		if (req_name(m, 1, "unit", cause) == -1)
			return -1;
		req->name = m->f[1];
		if (m->len[2] == 0 || strcmp(m->f[2], "never") == 0)
			req->restart = RESTART_NEVER;
		else if (strcmp(m->f[2], "on-failure") == 0)
			req->restart = RESTART_ON_FAILURE;
		else if (strcmp(m->f[2], "always") == 0)
			req->restart = RESTART_ALWAYS;
		else {
			q = quote(m->f[2], m->len[2], 32);
			*cause = xasprintf("add proc: bad restart policy: %s "
			    "(never, on-failure or always)", q);
			free(q);
			return -1;
		}
		if (req_opt_queue(m, 3, &req->stdin_queue, cause) == -1 ||
		    req_opt_queue(m, 4, &req->stdout_queue, cause) == -1 ||
		    req_strings(m, 5, "the command", cause) == -1)
			return -1;
		if (m->len[5] == 0) {
			*cause = xstrdup("add proc: empty command name");
			return -1;
		}
		req->args = m->f + 5;
		req->lens = m->len + 5;
		req->nargs = m->n - 5;
		return 0;
	case CTL_ADD_TASK:
		if (req_name(m, 1, "unit", cause) == -1 ||
		    req_strings(m, 2, "a step", cause) == -1)
			return -1;
		req->name = m->f[1];
		req->args = m->f + 2;
		req->lens = m->len + 2;
		req->nargs = m->n - 2;
		return 0;
	case CTL_PUT:
		if (req_name(m, 1, "queue", cause) == -1)
			return -1;
		if (ctlproto_items_check(m->f + 2, m->len + 2, m->n - 2,
		    &errstr) == -1) {
			*cause = xasprintf("put: %s", errstr);
			return -1;
		}
		req->name = m->f[1];
		req->args = m->f + 2;
		req->lens = m->len + 2;
		req->nargs = m->n - 2;
		return 0;
	case CTL_PUT_STREAM:
	case CTL_GET:
	case CTL_GET_ACK:
	case CTL_CLOSE:
		if (req_name(m, 1, "queue", cause) == -1)
			return -1;
		req->name = m->f[1];
		return 0;
	}
	*cause = xstrdup("unknown command");
	return -1;
}

int
ctlproto_is_ack(const struct ctl_msg *m)
{
	return m->n == 1 && m->len[0] == 3 && memcmp(m->f[0], "ack", 3) == 0;
}

int
ctlproto_items_check(char *const *items, const size_t *lens, size_t n,
    const char **errstr)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (memchr(items[i], '\n', lens[i]) != NULL) {
			*errstr = "an item holds a newline";
			return -1;
		}
	return 0;
}

/* Is s a key or set name: [a-z_][a-z0-9_]*, at most CTL_MAX_KEY bytes? */
static int
is_key(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > CTL_MAX_KEY || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* Is s a decimal integer that fits int64_t, without leading zeros? */
static int
is_int(const char *s, size_t len)
{
	static const char	max[] = "9223372036854775807";
	const char		*d = s;
	size_t			 n = len, i;

	if (n > 0 && d[0] == '-') {
		d++;
		n--;
	}
	if (n == 0 || n > sizeof max - 1 || (n > 1 && d[0] == '0') ||
	    (d != s && n == 1 && d[0] == '0'))
		return 0;
	for (i = 0; i < n; i++)
		if (d[i] < '0' || d[i] > '9')
			return 0;
	/* INT64_MIN is not representable as "-" and a positive int64. */
	if (n == sizeof max - 1 && memcmp(d, max, n) > 0)
		return 0;
	return 1;
}

int
ctlproto_reply_parse(const struct ctl_msg *m, struct ctl_reply *r,
    const char **errstr)
{
	size_t	start, i, j, k;

	memset(r, 0, sizeof *r);
	if (m->n == 0) {
		*errstr = "empty reply";
		return -1;
	}
	if (strcmp(m->f[0], "ok") == 0 && m->len[0] == 2) {
		r->kind = CTL_REPLY_OK;
		start = 1;
	} else if (strcmp(m->f[0], "err") == 0 && m->len[0] == 3) {
		if (m->n < 2 || m->len[1] == 0) {
			*errstr = "error reply without a message";
			return -1;
		}
		r->kind = CTL_REPLY_ERR;
		r->error = m->f[1];
		r->errlen = m->len[1];
		start = 2;
	} else if (strcmp(m->f[0], "rec") == 0 && m->len[0] == 3) {
		if (m->n < 2 || !is_key(m->f[1], m->len[1])) {
			*errstr = "record without a set name";
			return -1;
		}
		r->kind = CTL_REPLY_REC;
		r->set = m->f[1];
		start = 2;
	} else {
		*errstr = "unknown reply";
		return -1;
	}
	if ((m->n - start) % 3 != 0) {
		*errstr = "fields not in TYPE KEY VALUE triples";
		return -1;
	}
	if ((m->n - start) / 3 > CTL_MAX_KV) {
		*errstr = "too many fields in a reply";
		return -1;
	}
	r->nkv = (m->n - start) / 3;
	r->kv = xcalloc(r->nkv + 1, sizeof *r->kv);
	for (i = start, k = 0; i < m->n; i += 3, k++) {
		if (m->len[i] != 1) {
			*errstr = "bad type";
			goto bad;
		}
		if (!is_key(m->f[i + 1], m->len[i + 1])) {
			*errstr = "bad key";
			goto bad;
		}
		for (j = 0; j < k; j++)
			if (strcmp(r->kv[j].key, m->f[i + 1]) == 0) {
				*errstr = "duplicate key";
				goto bad;
			}
		r->kv[k].key = m->f[i + 1];
		r->kv[k].val = m->f[i + 2];
		r->kv[k].vlen = m->len[i + 2];
		switch (m->f[i][0]) {
		case CTL_T_STR:
			break;
		case CTL_T_INT:
			if (!is_int(m->f[i + 2], m->len[i + 2])) {
				*errstr = "bad integer";
				goto bad;
			}
			break;
		case CTL_T_BOOL:
			if (strcmp(m->f[i + 2], "true") != 0 &&
			    strcmp(m->f[i + 2], "false") != 0) {
				*errstr = "bad boolean";
				goto bad;
			}
			break;
		case CTL_T_NULL:
			if (m->len[i + 2] != 0) {
				*errstr = "null with a value";
				goto bad;
			}
			break;
		default:
			*errstr = "bad type";
			goto bad;
		}
		r->kv[k].type = (enum ctl_type)m->f[i][0];
	}
	return 0;
bad:
	ctlproto_reply_release(r);
	return -1;
}

void
ctlproto_reply_release(struct ctl_reply *r)
{
	free(r->kv);
	memset(r, 0, sizeof *r);
}

void
ctlproto_json_value(struct buf *b, const struct ctl_kv *kv)
{
	switch (kv->type) {
	case CTL_T_STR:
		buf_add_json_string(b, kv->val, kv->vlen);
		break;
	case CTL_T_INT:
	case CTL_T_BOOL:
		buf_add(b, kv->val, kv->vlen);
		break;
	case CTL_T_NULL:
		buf_adds(b, "null");
		break;
	}
}

char *
ctlproto_default_dir(int create, char **cause)
{
	const char	*xdg = getenv("XDG_RUNTIME_DIR");
	struct stat	 st;
	char		*dir;
	int		 saved;

	/* The base directory spec says to ignore a relative value. */
	if (xdg != NULL && xdg[0] == '/')
		dir = xasprintf("%s/pytasking-run", xdg);
	else
		dir = xasprintf("/tmp/pytasking-run-%lu",
		    (unsigned long)geteuid());
	if (create) {
		if (mkdir(dir, 0700) == 0)
			(void)chmod(dir, 0700);
		else if (errno != EEXIST) {
			*cause = xasprintf("cannot create %s: %s", dir,
			    strerror(errno));
			goto fail;
		}
	}
	if (lstat(dir, &st) == -1) {
		saved = errno;
		*cause = xasprintf("%s: %s", dir, strerror(saved));
		free(dir);
		errno = saved;	/* ENOENT tells ctl nobody ever listened */
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		*cause = xasprintf("%s is not a directory: refusing it", dir);
		goto fail;
	}
	if (st.st_uid != geteuid()) {
		*cause = xasprintf("%s belongs to uid %lu, not to us: "
		    "refusing it", dir, (unsigned long)st.st_uid);
		goto fail;
	}
	if ((st.st_mode & 07777) != 0700) {
		*cause = xasprintf("%s has mode %04o, not 0700: refusing it",
		    dir, (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	return dir;
fail:
	free(dir);
	return NULL;
}

/*
 * A short mark of the directory that holds the manifest: FNV-1a of its
 * real path, so that x.yaml, ./x.yaml and /abs/x.yaml agree, and two
 * x.yaml of two directories do not.
 */
uint32_t
ctlproto_dir_mark(const char *manifest)
{
	const char	*slash = strrchr(manifest, '/');
	char		*dir, *real;
	uint32_t	 h = 2166136261u;
	const char	*p;

	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == manifest)
		dir = xstrdup("/");
	else
		dir = xstrndup(manifest, (size_t)(slash - manifest));
	if ((real = realpath(dir, NULL)) != NULL) {
		free(dir);
		dir = real;
	}
	for (p = dir; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 16777619u;
	}
	free(dir);
	return h;
}

char *
ctlproto_default_path(const char *manifest, int create, char **cause)
{
	const char	*base, *suffix[] = { ".yaml", ".yml" };
	char		*dir, *path;
	size_t		 len, i, n;

	if ((dir = ctlproto_default_dir(create, cause)) == NULL)
		return NULL;
	base = strrchr(manifest, '/');
	base = base != NULL ? base + 1 : manifest;
	len = strlen(base);
	for (i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
		n = strlen(suffix[i]);
		if (len > n && strcmp(base + len - n, suffix[i]) == 0) {
			len -= n;
			break;
		}
	}
	if (len == 0) {
		base = "pytasking-run";
		len = strlen(base);
	}
	path = xasprintf("%s/%.*s-%08" PRIx32 ".sock", dir, (int)len, base,
	    ctlproto_dir_mark(manifest));
	free(dir);
	return path;
}
