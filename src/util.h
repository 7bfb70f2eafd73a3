/*
 * Small value parsers and formatters shared by every layer: durations,
 * signal names, unit names, "did you mean" suggestions, sizes; and the
 * one reader of /proc/PID/stat.
 * Parsers return 0 or -1 with a static *errstr, like strtonum(3).
 */
#ifndef PYT_UTIL_H
#define PYT_UTIL_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/* "250ms", "1.5s", "2m", "1h", "3" (seconds) into milliseconds. */
int		 util_parse_duration(const char *, uint64_t *, const char **);
/* Milliseconds to the shortest exact form above ("1.5s", "200ms"). */
void		 util_format_duration(uint64_t, char *, size_t);
/* "TERM", "SIGTERM", "term" or "15" into a signal number. */
int		 util_parse_signal(const char *, int *, const char **);
/* ppid and pgrp of a process, from /proc/PID/stat; -1 if it is gone. */
int		 util_proc_stat(pid_t, pid_t *ppid, pid_t *pgrp);
/* Signal number to "TERM"; "SIG%d" in buf when the number has no name. */
const char	*util_signal_name(int, char *, size_t);
/* A non-negative decimal integer in [min, max]. */
int		 util_parse_uint(const char *, uint64_t, uint64_t, uint64_t *,
		    const char **);
/* "10MiB", "512k", "4096" into bytes. */
int		 util_parse_size(const char *, uint64_t *, const char **);
/*
 * Is an extended regular expression cheap to compile? glibc's regcomp
 * copies the subtree of every repetition (a{n} n times, a+ twice), so
 * nested or stacked repetitions grow it exponentially: "a++++...", or
 * "((a{99}){99}){99}". 0, or -1 with *errstr when its estimated size
 * passes the bound, or it is longer than 4 KiB.
 */
int		 util_regex_is_tame(const char *, const char **errstr);
/* A numeric user or group id: all digits, below (id_t)-1; 0 or -1. */
int		 util_parse_id(const char *, unsigned long *);
/*
 * Connect a stream socket to the Unix socket at path (close-on-exec,
 * EINTR retried). Returns the socket, or -1 with errno (ENAMETOOLONG
 * for a path that does not fit, ECONNREFUSED for a stale socket).
 */
int		 util_connect_unix(const char *path);
/* Does the name match [A-Za-z0-9_.-]+ ? */
int		 util_is_valid_name(const char *);
/* The closest of the NULL-terminated candidates, or NULL if none is close. */
/* The wall-clock time in ms since the epoch. */
uint64_t	 util_now_ms(void);
const char	*util_did_you_mean(const char *, const char *const *);
/* Edit distance between two strings. */
size_t		 util_edit_distance(const char *, const char *);

#endif
