/*
 * The xmalloc family: allocation that exits on OOM, so callers never
 * carry an error path for it. The bottom of the project: it uses no
 * other module, and its last message is written here, allocating
 * nothing, in the shape the log gives its fatal messages.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/time.h>

#include "xmalloc.h"

/* A copy of the log's output options: how the last message looks. */
static int	xmalloc_stamped;
static int	xmalloc_json;

void
xmalloc_set_report(int stamped, int json)
{
	xmalloc_stamped = stamped;
	xmalloc_json = json;
}

void
xmalloc_stamp(char *out, size_t len)
{
	struct timeval	tv;
	struct tm	tm;
	char		s[24];

	(void)gettimeofday(&tv, NULL);
	(void)gmtime_r(&tv.tv_sec, &tm);
	(void)strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
	(void)snprintf(out, len, "%s.%03dZ", s, (int)(tv.tv_usec / 1000));
}

/*
 * "[time ]pytasking-run: message[: strerror]" on stderr, or the JSON
 * object of a fatal message, in one write(2), then exit 1 as fatal()
 * does. The message is made JSON-safe by replacing what would need an
 * escape: the callers' messages are plain ASCII.
 */
void
xmalloc_fatal(int errnum, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512], t[XMALLOC_STAMP_MAX], out[sizeof msg + 128];
	size_t	 len, i;
	int	 m;

	va_start(ap, fmt);
	m = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	len = m < 0 ? 0 : strnlen(msg, sizeof msg);
	if (errnum != 0 && len < sizeof msg)
		(void)snprintf(msg + len, sizeof msg - len, ": %s",
		    strerror(errnum));
	xmalloc_stamp(t, sizeof t);
	if (xmalloc_json) {
		for (i = 0; msg[i] != '\0'; i++)
			if ((unsigned char)msg[i] < 0x20 || msg[i] == '"' ||
			    msg[i] == '\\' || (unsigned char)msg[i] >= 0x7f)
				msg[i] = '?';
		m = snprintf(out, sizeof out, "{\"time\":\"%s\",\"level\":"
		    "\"fatal\",\"msg\":\"%s\"}\n", t, msg);
	} else
		m = snprintf(out, sizeof out, "%s%s%s: %s\n",
		    xmalloc_stamped ? t : "", xmalloc_stamped ? " " : "",
		    XMALLOC_PROGNAME, msg);
	if (m > 0)
		(void)!write(STDERR_FILENO, out, strnlen(out, sizeof out));
	exit(1);
}

void *
xmalloc(size_t size)
{
	void	*p;

	if (size == 0)
		size = 1;
	if ((p = malloc(size)) == NULL)
		xmalloc_fatal(errno, "malloc %zu bytes", size);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if (n == 0 || size == 0)
		n = size = 1;
	if ((p = calloc(n, size)) == NULL)
		xmalloc_fatal(errno, "calloc %zu x %zu bytes", n,
		    size);
	return p;
}

void *
xrealloc(void *old, size_t size)
{
	void	*p;

	if (size == 0)
		size = 1;
	if ((p = realloc(old, size)) == NULL)
		xmalloc_fatal(errno, "realloc %zu bytes", size);
	return p;
}

void *
xreallocarray(void *old, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size) {
		xmalloc_fatal(ENOMEM, "reallocarray %zu x %zu bytes", n,
		    size);
	}
	return xrealloc(old, n * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;
	size_t	 len;

	len = strnlen(s, n);
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap, ap2;
	char	*p;
	int	 len;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0)
		xmalloc_fatal(errno, "vsnprintf");
	p = xmalloc((size_t)len + 1);
	vsnprintf(p, (size_t)len + 1, fmt, ap2);
	va_end(ap2);
	return p;
}
