/*
 * ${VAR} and ${VAR:-default} interpolation of manifest strings from an
 * environment. Nothing is ever executed; "$$" is a literal "$".
 * Pure: the lookup function is the caller's (getenv in the program).
 */
#ifndef PYT_INTERP_H
#define PYT_INTERP_H

#include <stddef.h>

typedef const char *(*interp_lookup_fn)(const char *name, void *arg);

/*
 * Expand s into a new string (*out, caller frees). On error returns -1,
 * sets *errstr (static or in errbuf) and *erroff to the byte offset in s
 * of the offending "$".
 */
int	interp_expand(const char *s, interp_lookup_fn, void *arg, char **out,
	    char *errbuf, size_t errlen, const char **errstr, size_t *erroff);

#endif
