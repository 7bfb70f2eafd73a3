/*
 * Allocation that never returns NULL: running out of memory is fatal.
 * Every layer may use it; it uses no other module of the project.
 */
#ifndef PYT_XMALLOC_H
#define PYT_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* The name fatal messages start with (log_init's, in both programs). */
#define XMALLOC_PROGNAME	"pytasking-run"
/* Bytes for a timestamp and its NUL, with room. */
#define XMALLOC_STAMP_MAX	48
/*
 * The out-of-memory exit, for allocators and buffers: the message (with
 * strerror(errnum) unless 0) on stderr as fatal() writes it, allocating
 * nothing, then exit 1.
 */
void	 xmalloc_fatal(int errnum, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));
/* How that message looks: the log sets it with its own output options. */
void	 xmalloc_set_report(int stamped, int json);
/* "2026-11-25T19:00:00.123Z": now in UTC, into out (XMALLOC_STAMP_MAX). */
void	 xmalloc_stamp(char *out, size_t);

#endif
