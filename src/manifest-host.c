/*
 * What `pytasking-run -c` checks on this machine, beyond the manifest
 * itself: users and groups that do not exist (or cannot be switched to),
 * output files that cannot be written, programs not found in PATH and
 * working directories that are missing. Each is reported at its place in
 * the file. Reads the system's databases and the file system; no libuv.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "manifest.h"
#include "xmalloc.h"

/* Is s all digits (a numeric id, which need not exist)? */
static int
host_is_id(const char *s)
{
	return *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

/* user: and group: exist, and we may switch to them (as root). */
static void
host_check_account(const struct proc_spec *ps, struct diag *d)
{
	unsigned long	euid = (unsigned long)geteuid();

	if (ps->user == NULL && ps->group == NULL)
		return;
	if (euid != 0) {
		if (ps->user != NULL)
			diag_error(d, ps->user_loc.line, ps->user_loc.col,
			    "processes.%s.user: running as uid %lu, cannot "
			    "switch users; run as root or remove user:",
			    ps->name, euid);
		else
			diag_error(d, ps->group_loc.line, ps->group_loc.col,
			    "processes.%s.group: running as uid %lu, cannot "
			    "switch groups; run as root or remove group:",
			    ps->name, euid);
	}
	errno = 0;
	if (ps->user != NULL && !host_is_id(ps->user) &&
	    getpwnam(ps->user) == NULL)
		diag_error(d, ps->user_loc.line, ps->user_loc.col,
		    "processes.%s.user: no such user \"%s\"%s%s", ps->name,
		    ps->user, errno != 0 ? ": " : "",
		    errno != 0 ? strerror(errno) : "");
	errno = 0;
	if (ps->group != NULL && !host_is_id(ps->group) &&
	    getgrnam(ps->group) == NULL)
		diag_error(d, ps->group_loc.line, ps->group_loc.col,
		    "processes.%s.group: no such group \"%s\"%s%s", ps->name,
		    ps->group, errno != 0 ? ": " : "",
		    errno != 0 ? strerror(errno) : "");
}

/*
 * Can the file at path be written, or created? A rotated file (max_size)
 * needs its directory writable as well, to rename and create. NULL, or
 * why not (static).
 */
static const char *
host_file_problem(const char *path, int rotated, char **where)
{
	struct stat	 st;
	const char	*slash = strrchr(path, '/');
	char		*dir;

	*where = NULL;
	dir = slash == NULL ? xstrdup(".") : slash == path ? xstrdup("/") :
	    xstrndup(path, (size_t)(slash - path));
	if (stat(dir, &st) == -1) {
		*where = dir;
		return strerror(errno);
	}
	if (!S_ISDIR(st.st_mode)) {
		*where = dir;
		return strerror(ENOTDIR);
	}
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			free(dir);
			return strerror(EISDIR);
		}
		if (access(path, W_OK) == -1) {
			free(dir);
			return strerror(errno);
		}
		if (!rotated) {
			free(dir);
			return NULL;
		}
	}
	if (access(dir, W_OK | X_OK) == -1) {
		*where = dir;
		return strerror(errno);
	}
	free(dir);
	return NULL;
}

/* Every file: destination of an output. */
static void
host_check_output(const char *kind, const char *name, const char *key,
    const struct output *o, struct diag *d)
{
	const struct dest	*dst;
	const char		*why;
	char			*where;
	size_t			 i;

	for (i = 0; i < o->ndests; i++) {
		dst = &o->dests[i];
		if (dst->kind != DEST_FILE)
			continue;
		if ((why = host_file_problem(dst->name, dst->max_size > 0,
		    &where)) == NULL)
			continue;
		if (where != NULL)
			diag_error(d, dst->loc.line, dst->loc.col, "%s.%s.%s: "
			    "cannot write %s: %s: %s", kind, name, key,
			    dst->name, where, why);
		else
			diag_error(d, dst->loc.line, dst->loc.col, "%s.%s.%s: "
			    "cannot write %s: %s", kind, name, key, dst->name,
			    why);
		free(where);
	}
}

/* The PATH the process will search: its env:'s, else ours. */
static const char *
host_path(const struct proc_spec *ps)
{
	const char	*path;
	size_t		 i;

	for (i = 0; i < ps->nenv; i++)
		if (strcmp(ps->env[i].name, "PATH") == 0)
			return ps->env[i].value;
	if ((path = getenv("PATH")) == NULL)
		path = "/bin:/usr/bin";
	return path;
}

/* Is file an executable regular file, seen from cwd when relative? */
static int
host_is_exec(const char *cwd, const char *file)
{
	struct stat	 st;
	char		*full;
	int		 ok;

	if (file[0] != '/' && cwd != NULL)
		full = xasprintf("%s/%s", cwd, file);
	else
		full = xstrdup(file);
	ok = stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(full, X_OK) == 0;
	free(full);
	return ok;
}

/*
 * cmd's program, found as the spawn will find it; a warning only, since
 * PATH, the file system and the user may differ when it runs.
 */
static void
host_check_cmd(const struct proc_spec *ps, struct diag *d)
{
	const char	*prog, *path, *p, *end;
	char		*cand;
	int		 found = 0;

	if (ps->argv == NULL || ps->argv[0] == NULL)
		return;
	prog = ps->argv[0];
	if (strchr(prog, '/') != NULL) {
		if (!host_is_exec(ps->cwd, prog))
			diag_warning(d, ps->cmd_loc.line, ps->cmd_loc.col,
			    "processes.%s.cmd[0]: %s is not an executable "
			    "file%s%s", ps->name, prog, prog[0] != '/' &&
			    ps->cwd != NULL ? " in " : "", prog[0] != '/' &&
			    ps->cwd != NULL ? ps->cwd : "");
		return;
	}
	path = host_path(ps);
	for (p = path; !found; p = end + 1) {
		if ((end = strchr(p, ':')) == NULL)
			end = p + strlen(p);
		cand = end == p ? xstrdup(prog) :
		    xasprintf("%.*s/%s", (int)(end - p), p, prog);
		found = host_is_exec(ps->cwd, cand);
		free(cand);
		if (*end == '\0')
			break;
	}
	if (!found)
		diag_warning(d, ps->cmd_loc.line, ps->cmd_loc.col,
		    "processes.%s.cmd[0]: \"%s\" not found in PATH",
		    ps->name, prog);
}

/* cwd: a directory we can enter; a warning, as a task may make it. */
static void
host_check_cwd(const struct proc_spec *ps, struct diag *d)
{
	struct stat	st;
	int		error = 0;

	if (ps->cwd == NULL)
		return;
	if (stat(ps->cwd, &st) == -1)
		error = errno;
	else if (!S_ISDIR(st.st_mode))
		error = ENOTDIR;
	else if (access(ps->cwd, X_OK) == -1)
		error = errno;
	if (error != 0)
		diag_warning(d, ps->cwd_loc.line, ps->cwd_loc.col,
		    "processes.%s.cwd: %s: %s (the process cannot start "
		    "without it)", ps->name, ps->cwd, strerror(error));
}

void
manifest_check_host(const struct manifest *m, struct diag *d)
{
	const struct proc_spec	*ps;
	const struct task_spec	*ts;
	size_t			 i;

	for (i = 0; i < m->nprocs; i++) {
		ps = &m->procs[i];
		host_check_account(ps, d);
		host_check_cwd(ps, d);
		host_check_cmd(ps, d);
		host_check_output("processes", ps->name, "stdout", &ps->out, d);
		host_check_output("processes", ps->name, "stderr", &ps->err, d);
	}
	for (i = 0; i < m->ntasks; i++) {
		ts = &m->tasks[i];
		host_check_output("tasks", ts->name, "stdout", &ts->out, d);
	}
}
