/*
 * Limits and privileges of a process (limits:, umask:, user:, group:),
 * applied in the child before it executes its program. libuv's spawn has
 * no hook to run there, so the child executes our own binary first
 * ("chain loading", as s6 does): it applies them, then executes the
 * program. Knows nothing of libuv or units.
 */
#ifndef PYT_CHAINLOAD_H
#define PYT_CHAINLOAD_H

#include "manifest.h"

/* The private first argument of the chain loader. */
#define CHAINLOAD_ARG	"--chainload"

/*
 * The argv that runs argv (NULL-terminated, borrowed) under our binary
 * with what ps sets applied first, or NULL when ps sets nothing (spawn
 * argv directly then). Its [0] is the file to execute. Owner: the caller,
 * who frees it with chainload_argv_free.
 */
char	**chainload_argv(const char *unit, const struct proc_spec *ps,
	    char *const *argv);
void	  chainload_argv_free(char **);
/*
 * Can we run every process of m as it asks? As root, user: and group:
 * must exist; as anyone else, they must not be given. 0, or -1 with
 * *cause (allocated, one line per problem).
 */
int	  chainload_check(const struct manifest *, char **cause);
/*
 * The chain loader: pytasking-run --chainload [--unit=NAME] [--LIMIT=N]
 * [--umask=OCTAL] [--user=U] [--group=G] -- ARGV... Applies, then
 * executes ARGV; returns (127) only on failure, after saying why.
 */
int	  chainload_main(int argc, char **argv);

#endif
