/*
 * Diagnostics of the supervisor itself on stderr, OpenBSD style:
 * log_warn appends strerror(errno), log_warnx does not; fatal exits 1.
 * The log state (program name, verbosity) is the one global allowed.
 */
#ifndef PYT_LOG_H
#define PYT_LOG_H

#include <stdarg.h>

#define PRINTFLIKE(a, b) __attribute__((format(printf, a, b)))

void	log_init(const char *progname, int verbose);

/* How lines reach the console: plain text (default) or JSON objects. */
enum log_format {
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON,
};

/*
 * Output options, part of the log state: timestamps on every line, colour
 * for unit names (the caller decides: a terminal and no NO_COLOR), the
 * format.
 */
void	log_set_output(int timestamps, int colour_out, int colour_err,
	    enum log_format);
/*
 * Send every message but a fatal one to fn(arg, text, len), one whole
 * message a call, instead of writing it to stderr; NULL: stderr again.
 */
void	log_set_sink(void (*fn)(void *, const char *, size_t), void *arg);
/*
 * Append one line of a unit's output, as the console shows it, to b:
 * "[time ]unit | line\n", or a JSON object per line, whose unit and
 * replica members are those of log_event. fd is 1 or 2; replica 1..N
 * for a replica ("web.2"), else 0.
 */
struct buf;
void	log_format_unit_line(struct buf *, int fd, const char *unit,
	    unsigned replica, const char *line, size_t len);
int	log_verbose(void);
/*
 * What a message of the supervisor is about, for --log-format json, which
 * gives each member its own field; the text shows the message only.
 */
struct log_event {
	const char	*unit;		/* "web", "web.2"; NULL: none */
	unsigned	 replica;	/* 1..N of a replicated process; 0 */
	long		 pid;		/* 0: none */
	const char	*event;		/* "started", "exited", ...; NULL */
	int		 has_status;
	int		 status;	/* exit status */
	int		 signal;	/* 0: none */
};
enum log_level {
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
};
void	log_event(enum log_level, const struct log_event *, const char *, ...)
	    PRINTFLIKE(3, 4);
void	log_warn(const char *, ...) PRINTFLIKE(1, 2);
void	log_warnx(const char *, ...) PRINTFLIKE(1, 2);
void	log_info(const char *, ...) PRINTFLIKE(1, 2);
void	log_debug(const char *, ...) PRINTFLIKE(1, 2);
void	fatal(const char *, ...) PRINTFLIKE(1, 2) __attribute__((noreturn));
void	fatalx(const char *, ...) PRINTFLIKE(1, 2) __attribute__((noreturn));

#endif
