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
int	log_verbose(void);
void	log_warn(const char *, ...) PRINTFLIKE(1, 2);
void	log_warnx(const char *, ...) PRINTFLIKE(1, 2);
void	log_info(const char *, ...) PRINTFLIKE(1, 2);
void	log_debug(const char *, ...) PRINTFLIKE(1, 2);
void	fatal(const char *, ...) PRINTFLIKE(1, 2) __attribute__((noreturn));
void	fatalx(const char *, ...) PRINTFLIKE(1, 2) __attribute__((noreturn));

#endif
