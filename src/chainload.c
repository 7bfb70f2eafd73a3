/*
 * The chain loader: limits, umask, user and group of a process, applied
 * in the child between our spawn and its program. Builds the argv the
 * supervisor spawns instead of the program's, and is the code that argv
 * runs. Knows nothing of libuv or units; nothing is given to a shell.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "chainload.h"
#include "util.h"
#include "xmalloc.h"

/*
 * Why chain loading. libuv 1.44's uv_spawn offers no hook between fork
 * and exec, and setrlimit, umask or a change of user in the supervisor
 * itself would be wrong for everything else it runs. So a process with
 * any of these keys is spawned as our own binary with a private first
 * argument:
 *
 *	pytasking-run --chainload --unit=web --nofile=4096 --umask=0027
 *	    --user=www-data -- ARGV...
 *
 * Options are one word each, "--name=value", and "--" ends them: the
 * program's argv follows verbatim, so no value can be mistaken for
 * another. The loader applies the limits (soft and hard), the umask,
 * then, if asked, the supplementary groups, the group and the user, in
 * that order (the user last: after it nothing else is allowed), reads
 * them back, and executes ARGV with execvp in the environment it was
 * given. Any failure is said on its stderr (the unit's) and it exits 127.
 * A process with none of these keys is spawned directly, as before.
 */

/* The file we execute: our binary, as the kernel knows it. */
#define CHAINLOAD_SELF	"/proc/self/exe"

static const struct {
	const char	*name;
	int		 resource;
} chainload_limits[LIMIT_COUNT] = {
	[LIMIT_NOFILE] = { "nofile", RLIMIT_NOFILE },
	[LIMIT_NPROC] = { "nproc", RLIMIT_NPROC },
	[LIMIT_CORE] = { "core", RLIMIT_CORE },
	[LIMIT_AS] = { "as", RLIMIT_AS },
	[LIMIT_CPU] = { "cpu", RLIMIT_CPU },
	[LIMIT_FSIZE] = { "fsize", RLIMIT_FSIZE },
};

static int
chainload_needed(const struct proc_spec *ps)
{
	int	k;

	for (k = 0; k < LIMIT_COUNT; k++)
		if (ps->limits[k].set)
			return 1;
	return ps->umask != -1 || ps->user != NULL || ps->group != NULL;
}

/*
 * Our binary's path. Resolved now (valgrind, for one, runs us under
 * another binary, and its readlink answers for ours); /proc/self/exe in
 * the child when that fails.
 */
static char *
chainload_self(void)
{
	char	path[PATH_MAX];
	ssize_t	n;

	n = readlink(CHAINLOAD_SELF, path, sizeof path - 1);
	if (n <= 0 || (size_t)n >= sizeof path - 1)
		return xstrdup(CHAINLOAD_SELF);
	path[n] = '\0';
	if (path[0] != '/' || strstr(path, " (deleted)") != NULL)
		return xstrdup(CHAINLOAD_SELF);
	return xstrdup(path);
}

char **
chainload_argv(const char *unit, const struct proc_spec *ps,
    char *const *argv)
{
	char	**v;
	size_t	  n = 0, argc = 0, i;
	int	  k;

	if (!chainload_needed(ps))
		return NULL;
	while (argv[argc] != NULL)
		argc++;
	v = xreallocarray(NULL, LIMIT_COUNT + argc + 9, sizeof *v);
	v[n++] = chainload_self();
	v[n++] = xstrdup(CHAINLOAD_ARG);
	v[n++] = xasprintf("--unit=%s", unit);
	for (k = 0; k < LIMIT_COUNT; k++) {
		if (!ps->limits[k].set)
			continue;
		if (ps->limits[k].value == MANIFEST_UNLIMITED)
			v[n++] = xasprintf("--%s=unlimited",
			    chainload_limits[k].name);
		else
			v[n++] = xasprintf("--%s=%llu", chainload_limits[k].name,
			    (unsigned long long)ps->limits[k].value);
	}
	if (ps->umask != -1)
		v[n++] = xasprintf("--umask=%04o", (unsigned)ps->umask);
	if (ps->user != NULL)
		v[n++] = xasprintf("--user=%s", ps->user);
	if (ps->group != NULL)
		v[n++] = xasprintf("--group=%s", ps->group);
	v[n++] = xstrdup("--");
	for (i = 0; i < argc; i++)
		v[n++] = argv[i];
	v[n] = NULL;
	return v;
}

void
chainload_argv_free(char **v)
{
	size_t	i;
	int	last;

	if (v == NULL)
		return;
	/* Ours up to and including "--"; the program's argv is borrowed. */
	for (i = 0; v[i] != NULL; i++) {
		last = strcmp(v[i], "--") == 0;
		free(v[i]);
		if (last)
			break;
	}
	free(v);
}

/*
 * user and group (either may be NULL) as ids; *name is the user's name
 * for initgroups (NULL when the user has no passwd entry). 0, or -1 with
 * why in err.
 */
static int
chainload_resolve(const char *user, const char *group, uid_t *uid,
    gid_t *gid, const char **name, char *err, size_t errlen)
{
	struct passwd	*pw = NULL;
	struct group	*gr;
	unsigned long	 id;
	int		 have_gid = 0;

	*name = NULL;
	if (user != NULL) {
		if (util_parse_id(user, &id) == 0) {
			*uid = (uid_t)id;
			pw = getpwuid(*uid);
		} else if ((pw = getpwnam(user)) == NULL) {
			snprintf(err, errlen, "no such user \"%s\"", user);
			return -1;
		} else
			*uid = pw->pw_uid;
		if (pw != NULL) {
			*gid = pw->pw_gid;
			*name = pw->pw_name;
			have_gid = 1;
		}
	}
	if (group != NULL) {
		if (util_parse_id(group, &id) == 0)
			*gid = (gid_t)id;
		else if ((gr = getgrnam(group)) == NULL) {
			snprintf(err, errlen, "no such group \"%s\"", group);
			return -1;
		} else
			*gid = gr->gr_gid;
		have_gid = 1;
	}
	if (!have_gid) {
		snprintf(err, errlen, "uid %s has no passwd entry, so no "
		    "primary group: give group: too", user);
		return -1;
	}
	return 0;
}

int
chainload_check(const struct manifest *m, char **cause)
{
	const struct proc_spec	*ps;
	struct buf		 b;
	const char		*name;
	char			 err[256];
	uid_t			 euid = geteuid(), uid;
	gid_t			 gid;
	size_t			 i;

	buf_init(&b);
	for (i = 0; i < m->nprocs; i++) {
		ps = &m->procs[i];
		if (ps->user == NULL && ps->group == NULL)
			continue;
		if (euid != 0) {
			if (b.len > 0)
				buf_addc(&b, '\n');
			if (ps->user != NULL)
				buf_addf(&b, "processes.%s.user: running as uid "
				    "%lu, cannot switch users; run as root or "
				    "remove user:", ps->name, (unsigned long)euid);
			else
				buf_addf(&b, "processes.%s.group: running as uid "
				    "%lu, cannot switch groups; run as root or "
				    "remove group:", ps->name, (unsigned long)euid);
			continue;
		}
		if (chainload_resolve(ps->user, ps->group, &uid, &gid, &name,
		    err, sizeof err) == 0)
			continue;
		if (b.len > 0)
			buf_addc(&b, '\n');
		buf_addf(&b, "processes.%s.%s: %s", ps->name,
		    strncmp(err, "no such group", 13) == 0 ? "group" : "user",
		    err);
	}
	if (b.len == 0) {
		buf_release(&b);
		return 0;
	}
	*cause = buf_steal(&b);
	return -1;
}

/* Say why on stderr (the unit's) and exit 127. */
static void __attribute__((noreturn, format(printf, 2, 3)))
chainload_fail(const char *unit, const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "pytasking-run: %s: ", unit);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(127);
}

/* The value of "--name=value" when arg is that option, else NULL. */
static const char *
chainload_opt(const char *arg, const char *name)
{
	size_t	len = strlen(name);

	if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, len) != 0 ||
	    arg[2 + len] != '=')
		return NULL;
	return arg + 3 + len;
}

/* Become user and/or group, and check that there is no way back. */
static void
chainload_become(const char *unit, const char *user, const char *group)
{
	const char	*name;
	char		 err[256];
	uid_t		 uid = 0;
	gid_t		 gid = 0;

	if (chainload_resolve(user, group, &uid, &gid, &name, err,
	    sizeof err) == -1)
		chainload_fail(unit, "cannot apply limits: %s", err);
	if (name != NULL && group == NULL) {
		if (initgroups(name, gid) == -1)
			chainload_fail(unit, "cannot apply limits: "
			    "initgroups %s: %s", name, strerror(errno));
	} else if (setgroups(1, &gid) == -1)
		chainload_fail(unit, "cannot apply limits: setgroups: %s",
		    strerror(errno));
	if (setgid(gid) == -1)
		chainload_fail(unit, "cannot apply limits: setgid %lu: %s",
		    (unsigned long)gid, strerror(errno));
	if (user != NULL && setuid(uid) == -1)
		chainload_fail(unit, "cannot apply limits: setuid %lu: %s",
		    (unsigned long)uid, strerror(errno));
	if (getgid() != gid || getegid() != gid)
		chainload_fail(unit, "cannot apply limits: group is still %lu",
		    (unsigned long)getegid());
	if (user == NULL)
		return;
	if (getuid() != uid || geteuid() != uid)
		chainload_fail(unit, "cannot apply limits: user is still %lu",
		    (unsigned long)geteuid());
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		chainload_fail(unit, "cannot apply limits: could become root "
		    "again");
}

int
chainload_main(int argc, char **argv)
{
	struct rlimit	 rl;
	const char	*unit = "?", *user = NULL, *group = NULL, *v;
	char		*end;
	unsigned long long u;
	long		 mask = -1;
	int		 i, k, error;

	/* Pass 1: the unit's name first, for every message after. */
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if ((v = chainload_opt(argv[i], "unit")) != NULL)
			unit = v;
	if (i >= argc - 1)
		chainload_fail(unit, "cannot apply limits: no command");
	for (i = 1; strcmp(argv[i], "--") != 0; i++) {
		if (chainload_opt(argv[i], "unit") != NULL)
			continue;
		if ((v = chainload_opt(argv[i], "umask")) != NULL) {
			errno = 0;
			mask = strtol(v, &end, 8);
			if (*v == '\0' || *end != '\0' || mask < 0 ||
			    mask > 0777)
				chainload_fail(unit, "cannot apply limits: bad "
				    "umask %s", v);
			continue;
		}
		if ((v = chainload_opt(argv[i], "user")) != NULL) {
			user = v;
			continue;
		}
		if ((v = chainload_opt(argv[i], "group")) != NULL) {
			group = v;
			continue;
		}
		for (k = 0; k < LIMIT_COUNT; k++)
			if ((v = chainload_opt(argv[i],
			    chainload_limits[k].name)) != NULL)
				break;
		if (k == LIMIT_COUNT)
			chainload_fail(unit, "cannot apply limits: unknown "
			    "option %s", argv[i]);
		if (strcmp(v, "unlimited") == 0)
			rl.rlim_cur = RLIM_INFINITY;
		else {
			errno = 0;
			u = strtoull(v, &end, 10);
			if (*v < '0' || *v > '9' || *end != '\0' ||
			    errno != 0 || u >= RLIM_INFINITY)
				chainload_fail(unit, "cannot apply limits: bad "
				    "%s %s", chainload_limits[k].name, v);
			rl.rlim_cur = (rlim_t)u;
		}
		rl.rlim_max = rl.rlim_cur;
		if (setrlimit(chainload_limits[k].resource, &rl) == -1)
			chainload_fail(unit, "cannot apply limits: %s %s: %s",
			    chainload_limits[k].name, v, strerror(errno));
	}
	if (mask != -1)
		(void)umask((mode_t)mask);
	if (user != NULL || group != NULL)
		chainload_become(unit, user, group);
	argv += i + 1;
	execvp(argv[0], argv);
	error = errno;
	chainload_fail(unit, "cannot start %s: %s", argv[0], strerror(error));
}
