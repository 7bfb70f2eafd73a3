/*
 * Byte buffers. Consumed bytes are reclaimed lazily, by moving the live
 * tail to the front when more room is needed, so a consumer that eats
 * small pieces does not cause a memmove per piece. Above xmalloc, below
 * the log: a buffer that cannot grow ends the run as out of memory does.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

void
buf_init(struct buf *b)
{
	memset(b, 0, sizeof *b);
}

void
buf_release(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void
buf_reserve(struct buf *b, size_t more)
{
	size_t	used = b->len - b->off, want;

	if (b->cap - b->len >= more)
		return;
	if (b->off > 0 && b->cap - used >= more) {
		memmove(b->data, b->data + b->off, used);
		b->off = 0;
		b->len = used;
		return;
	}
	if (more > (size_t)-1 / 2 - used)
		xmalloc_fatal(0, "buffer too large");
	want = b->cap ? b->cap : 64;
	while (want - used < more)
		want *= 2;
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, used);
		b->off = 0;
		b->len = used;
	}
	b->data = xrealloc(b->data, want);
	b->cap = want;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		xmalloc_fatal(0, "vsnprintf");
	buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n > b->len - b->off)
		xmalloc_fatal(0, "buf_consume beyond end");
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

void
buf_clear(struct buf *b)
{
	b->off = b->len = 0;
}

size_t
buf_used(const struct buf *b)
{
	return b->len - b->off;
}

const char *
buf_ptr(const struct buf *b)
{
	return b->data == NULL ? "" : b->data + b->off;
}

char *
buf_steal(struct buf *b)
{
	char	*s;
	size_t	 used = buf_used(b);

	s = xmalloc(used + 1);
	if (used > 0)
		memcpy(s, b->data + b->off, used);
	s[used] = '\0';
	buf_release(b);
	return s;
}

/* Length of the valid UTF-8 sequence at p (at most len bytes), or 0. */
static size_t
buf_utf8_len(const unsigned char *p, size_t len)
{
	size_t	n, i;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	/* Overlong forms, UTF-16 surrogates, beyond U+10FFFF. */
	if ((n == 3 && p[0] == 0xe0 && p[1] < 0xa0) ||
	    (n == 3 && p[0] == 0xed && p[1] >= 0xa0) ||
	    (n == 4 && p[0] == 0xf0 && p[1] < 0x90) ||
	    (n == 4 && p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return n;
}

/*
 * A JSON string of len bytes into out, quotes included, in at most cap
 * bytes (cap >= 2; a string too long for it is cut at a whole character):
 * valid UTF-8 passes as it is, quotes, backslashes and control
 * characters are escaped, and each byte that is not part of valid UTF-8
 * becomes U+FFFD. The one JSON writer of strings, for the log and for ctl
 * alike; it allocates nothing, so that fatal() may use it. Returns the
 * bytes written.
 */
size_t
buf_json_write(char *out, size_t cap, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			 esc[8];
	const char		*piece;
	size_t			 i, n, k, o = 0;

	if (cap < 2)
		return 0;
	out[o++] = '"';
	for (i = 0; i < len; i += n) {
		n = buf_utf8_len(p + i, len - i);
		piece = esc;
		if (n == 0) {
			piece = "\\ufffd";
			n = 1;
		} else if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)p[i];
			esc[2] = '\0';
		} else if (p[i] == '\n')
			piece = "\\n";
		else if (p[i] == '\t')
			piece = "\\t";
		else if (p[i] == '\r')
			piece = "\\r";
		else if (p[i] < 0x20 || p[i] == 0x7f)
			(void)snprintf(esc, sizeof esc, "\\u%04x", p[i]);
		else
			piece = NULL;
		k = piece != NULL ? strlen(piece) : n;
		if (o + k + 1 > cap)
			break;
		memcpy(out + o, piece != NULL ? piece : (const char *)p + i, k);
		o += k;
	}
	out[o++] = '"';
	return o;
}

void
buf_add_json_string(struct buf *b, const char *s, size_t len)
{
	/* Six bytes at most for one of s ("\ufffd"), and the quotes. */
	buf_reserve(b, len * 6 + 2);
	b->len += buf_json_write(b->data + b->len, b->cap - b->len, s, len);
}
