/*
 * Logging of the supervisor's own messages. Each message is one write, so
 * lines from us never interleave with each other: to stderr, or, while
 * one is set, to a sink (the console, which keeps them in order with the
 * units' lines and never waits on the loop). A fatal message always goes
 * straight to stderr: the process ends with it.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"

/*
 * A unit's name as the JSON log writes it: a YAML key (at most 1024
 * bytes) and a replica's ".N"; a longer one is cut.
 */
#define LOG_UNIT_MAX	1040
/* "unit":NAME,"replica":N, with NAME's escapes at six bytes a byte. */
#define LOG_JSON_WHO_MAX	(LOG_UNIT_MAX * 6 + 48)

static const char	*log_progname = "pytasking-run";
static int		 log_level;
static int		 log_timestamps;
static int		 log_colour[3];		/* per fd: 1, 2 */
static enum log_format	 log_format = LOG_FORMAT_TEXT;
static void		(*log_sink)(void *, const char *, size_t);
static void		*log_sink_arg;

void
log_set_sink(void (*fn)(void *, const char *, size_t), void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

/* One whole message, to the sink or to stderr. */
static void
log_put(const char *level, const char *p, size_t n)
{
	if (log_sink != NULL && strcmp(level, "fatal") != 0)
		log_sink(log_sink_arg, p, n);
	else
		(void)!write(STDERR_FILENO, p, n);
}

void
log_set_output(int timestamps, int colour_out, int colour_err,
    enum log_format format)
{
	log_timestamps = timestamps;
	log_colour[1] = colour_out;
	log_colour[2] = colour_err;
	log_format = format;
	/* Out of memory, xmalloc writes the last message: in our shape. */
	xmalloc_set_report(timestamps, format == LOG_FORMAT_JSON);
}

static void
log_time(struct buf *b)
{
	char	s[XMALLOC_STAMP_MAX];

	xmalloc_stamp(s, sizeof s);
	buf_adds(b, s);
}

/* One of six colours, the same for a name every time. */
static int
log_colour_of(const char *unit)
{
	unsigned	h = 5381;

	for (; *unit != '\0'; unit++)
		h = h * 33 + (unsigned char)*unit;
	return 31 + (int)(h % 6);
}

/*
 * The members saying which unit a JSON object is about, the same for its
 * output lines and for our messages on it: "unit":"web.2","replica":2,
 * (replica for a replica only), into out (LOG_JSON_WHO_MAX bytes, no
 * allocation). The bytes written.
 */
static size_t
log_json_who(char *out, const char *unit, unsigned replica)
{
	size_t	n;

	memcpy(out, "\"unit\":", 7);
	n = 7;
	n += buf_json_write(out + n, LOG_JSON_WHO_MAX - n - 32, unit,
	    strnlen(unit, LOG_UNIT_MAX));
	out[n++] = ',';
	if (replica > 0)
		n += (size_t)snprintf(out + n, LOG_JSON_WHO_MAX - n,
		    "\"replica\":%u,", replica);
	return n;
}

void
log_format_unit_line(struct buf *b, int fd, const char *unit,
    unsigned replica, const char *line, size_t len)
{
	char	who[LOG_JSON_WHO_MAX];

	if (log_format == LOG_FORMAT_JSON) {
		/* A machine reads it: the time is always there. */
		buf_adds(b, "{\"time\":\"");
		log_time(b);
		buf_adds(b, "\",");
		buf_add(b, who, log_json_who(who, unit, replica));
		buf_adds(b, fd == 2 ? "\"stream\":\"stderr\",\"line\":" :
		    "\"stream\":\"stdout\",\"line\":");
		buf_add_json_string(b, line, len);
		buf_adds(b, "}\n");
		return;
	}
	if (log_timestamps) {
		log_time(b);
		buf_addc(b, ' ');
	}
	if (fd >= 1 && fd <= 2 && log_colour[fd])
		buf_addf(b, "\033[%dm%s\033[0m | ", log_colour_of(unit), unit);
	else {
		buf_adds(b, unit);
		buf_add(b, " | ", 3);
	}
	buf_add(b, line, len);
	buf_addc(b, '\n');
}

void
log_init(const char *progname, int verbose)
{
	if (progname != NULL)
		log_progname = progname;
	log_level = verbose;
}

int
log_verbose(void)
{
	return log_level;
}

static void	log_vemit_text(const char *, const char *, va_list, int, int);

/*
 * One message of ours as a JSON object: time, level, what it is about
 * when known (unit, replica, pid, event, status, signal), and msg, the
 * text the console would show. Built on the stack and written with one
 * write(2): it allocates nothing, so that fatal() on out-of-memory cannot
 * recurse into xmalloc.
 */
static void
log_vemit_json(const char *level, const struct log_event *ev,
    const char *fmt, va_list ap, int with_errno, int saved_errno)
{
	char		 msg[4096], t[XMALLOC_STAMP_MAX];
	char		 out[sizeof msg * 6 + LOG_JSON_WHO_MAX + 512];
	size_t		 len, n = 0;
	int		 m;

	m = vsnprintf(msg, sizeof msg, fmt, ap);
	len = m < 0 ? 0 : strnlen(msg, sizeof msg);
	if (with_errno && len < sizeof msg)
		(void)snprintf(msg + len, sizeof msg - len, ": %s",
		    strerror(saved_errno));
	len = strnlen(msg, sizeof msg);
	xmalloc_stamp(t, sizeof t);
	m = snprintf(out, sizeof out, "{\"time\":\"%s\",\"level\":\"%s\",", t,
	    level);
	n = m < 0 ? 0 : (size_t)m;
	if (ev != NULL && ev->unit != NULL)
		n += log_json_who(out + n, ev->unit, ev->replica);
	if (ev != NULL && ev->pid > 0)
		n += (size_t)snprintf(out + n, sizeof out - n, "\"pid\":%ld,",
		    ev->pid);
	if (ev != NULL && ev->event != NULL)
		n += (size_t)snprintf(out + n, sizeof out - n,
		    "\"event\":\"%s\",", ev->event);
	if (ev != NULL && ev->has_status)
		n += (size_t)snprintf(out + n, sizeof out - n, "\"status\":%d,",
		    ev->status);
	if (ev != NULL && ev->signal > 0)
		n += (size_t)snprintf(out + n, sizeof out - n, "\"signal\":%d,",
		    ev->signal);
	n += (size_t)snprintf(out + n, sizeof out - n, "\"msg\":");
	n += buf_json_write(out + n, sizeof out - n - 2, msg, len);
	out[n++] = '}';
	out[n++] = '\n';
	log_put(level, out, n);
}

/* Format one message in the chosen format and write it at once. */
static void
log_vemit_event(const char *level, const struct log_event *ev,
    const char *fmt, va_list ap, int with_errno, int saved_errno)
{
	if (log_format == LOG_FORMAT_JSON)
		log_vemit_json(level, ev, fmt, ap, with_errno, saved_errno);
	else
		log_vemit_text(level, fmt, ap, with_errno, saved_errno);
}

static void
log_vemit_level(const char *level, const char *fmt, va_list ap,
    int with_errno, int saved_errno)
{
	log_vemit_event(level, NULL, fmt, ap, with_errno, saved_errno);
}

/*
 * Format one message and write it with a single write(2), allocating
 * nothing. A message of several lines (a refused reload lists every
 * problem) gets the prefix on each, so that every line says whose it is.
 */
static void
log_vemit_text(const char *level, const char *fmt, va_list ap,
    int with_errno, int saved_errno)
{
	char		 msg[4096], prefix[XMALLOC_STAMP_MAX + 64];
	char		 out[sizeof msg * 2];
	const char	*p, *nl, *end;
	size_t		 len, plen, n = 0, k;
	int		 m;

	if (log_timestamps) {
		char	t[XMALLOC_STAMP_MAX];

		xmalloc_stamp(t, sizeof t);
		m = snprintf(prefix, sizeof prefix, "%s %s: ", t, log_progname);
	} else
		m = snprintf(prefix, sizeof prefix, "%s: ", log_progname);
	plen = m < 0 ? 0 : strnlen(prefix, sizeof prefix);
	m = vsnprintf(msg, sizeof msg, fmt, ap);
	len = m < 0 ? 0 : strnlen(msg, sizeof msg);
	if (with_errno && len < sizeof msg)
		(void)snprintf(msg + len, sizeof msg - len, ": %s",
		    strerror(saved_errno));
	len = strnlen(msg, sizeof msg);
	end = msg + len;
	for (p = msg;; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		k = (size_t)(nl - p);
		if (n + plen + k + 1 > sizeof out)
			break;
		memcpy(out + n, prefix, plen);
		memcpy(out + n + plen, p, k);
		n += plen + k;
		out[n++] = '\n';
		if (nl == end)
			break;
	}
	log_put(level, out, n);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vemit_level("warning", fmt, ap, 1, saved);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vemit_level("warning", fmt, ap, 0, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vemit_level("info", fmt, ap, 0, 0);
	va_end(ap);
}

void
log_event(enum log_level level, const struct log_event *ev,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vemit_event(level == LOG_LEVEL_WARNING ? "warning" : "info", ev,
	    fmt, ap, 0, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < 2)
		return;
	va_start(ap, fmt);
	log_vemit_level("debug", fmt, ap, 0, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vemit_level("fatal", fmt, ap, 1, saved);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vemit_level("fatal", fmt, ap, 0, 0);
	va_end(ap);
	exit(1);
}
