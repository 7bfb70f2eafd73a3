/*
 * File outputs with rotation. Errors are logged once per sink until a
 * write succeeds again, so a full disk does not flood our stderr; the
 * lines that could not be written are counted and said. Every open,
 * rename and truncation is done as the unit's user would have done it,
 * and never through a symbolic link (see filesink_as).
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/types.h>
#ifdef __linux__
#include <sys/fsuid.h>
#include <sys/syscall.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filesink.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

/* Supplementary groups kept for the unit's user; more are ignored. */
#define FILESINK_MAX_GROUPS	64
/* Our own supplementary groups, put back after file work as a unit. */
#define FILESINK_MAX_OWN_GROUPS	256

struct filesink {
	char		*unit;
	char		*path;
	int		 fd;
	uint64_t	 size;
	uint64_t	 max_size;
	unsigned	 backups;
	int		 failing;	/* an error was logged, not yet cleared */
	int		 midline;	/* the file ends inside a line */
	uint64_t	 lost;		/* bytes not written while failing */

	int		 as_user;	/* file work as uid/gid/groups */
	uid_t		 uid;
	gid_t		 gid;
	gid_t		 groups[FILESINK_MAX_GROUPS];
	int		 ngroups;
	gid_t		 own[FILESINK_MAX_OWN_GROUPS];	/* ours, to restore */
	int		 nown;
};

/*
 * The identity the unit runs as, as the chain loader gives it: user (a
 * name or a uid), its primary group unless group is given, and the
 * user's supplementary groups. Only a root supervisor changes identity;
 * as anyone else user and group cannot be given (chainload_check). 0, or
 * -1 with errno.
 */
static int
filesink_resolve(struct filesink *s, const char *user, const char *group)
{
	struct passwd	*pw = NULL;
	struct group	*gr;
	unsigned long	 id;
	int		 n, have_gid = 0;

	if ((user == NULL && group == NULL) || geteuid() != 0)
		return 0;
	s->uid = 0;
	s->gid = 0;
	if (user != NULL) {
		if (util_parse_id(user, &id) == 0) {
			s->uid = (uid_t)id;
			pw = getpwuid(s->uid);
		} else if ((pw = getpwnam(user)) == NULL) {
			errno = ENOENT;
			return -1;
		} else
			s->uid = pw->pw_uid;
		if (pw != NULL) {
			s->gid = pw->pw_gid;
			have_gid = 1;
		}
	}
	if (group != NULL) {
		if (util_parse_id(group, &id) == 0)
			s->gid = (gid_t)id;
		else if ((gr = getgrnam(group)) == NULL) {
			errno = ENOENT;
			return -1;
		} else
			s->gid = gr->gr_gid;
		have_gid = 1;
	}
	if (!have_gid) {
		errno = ENOENT;
		return -1;
	}
	/* Ours, once: they never change while we run. */
	if ((s->nown = getgroups(FILESINK_MAX_OWN_GROUPS, s->own)) == -1)
		return -1;
	s->groups[0] = s->gid;
	s->ngroups = 1;
	if (pw != NULL) {
		n = FILESINK_MAX_GROUPS;
		if (getgrouplist(pw->pw_name, s->gid, s->groups, &n) == -1)
			n = FILESINK_MAX_GROUPS;
		s->ngroups = n;
	}
	s->as_user = 1;
	return 0;
}

/*
 * Why file work is done as the unit's user. The supervisor is root, the
 * unit is not: a unit that may write in its log's directory can replace
 * the log with a link to /etc/shadow, and root would truncate and append
 * to it on the next rotation or reopen. So every path operation (open,
 * rename) is done with the unit's filesystem identity (setfsuid,
 * setfsgid and the groups, for this thread only: the kernel checks
 * permissions as if the unit did it, and root's capabilities to override
 * them are dropped while fsuid is not 0), and opens never follow a link
 * in the last component (O_NOFOLLOW). What the unit could not have
 * opened itself is refused. Linux only; elsewhere a root supervisor
 * refuses file outputs of a unit that gives user: or group:.
 */
static int
filesink_as(struct filesink *s, int on)
{
#ifdef __linux__
	if (!s->as_user)
		return 0;
	if (on) {
		/* The raw call: glibc's setgroups would change every thread. */
		if (syscall(SYS_setgroups, (size_t)s->ngroups, s->groups) == -1)
			return -1;
		(void)setfsgid(s->gid);
		(void)setfsuid(s->uid);
		if ((uid_t)setfsuid((uid_t)-1) != s->uid ||
		    (gid_t)setfsgid((gid_t)-1) != s->gid) {
			(void)filesink_as(s, 0);
			errno = EPERM;
			return -1;
		}
		return 0;
	}
	(void)setfsuid(geteuid());
	(void)setfsgid(getegid());
	if (syscall(SYS_setgroups, (size_t)s->nown, s->own) == -1)
		fatal("restoring our groups after file work as a unit");
	if ((uid_t)setfsuid((uid_t)-1) != geteuid())
		fatalx("restoring our filesystem user after file work");
	return 0;
#else
	if (!s->as_user)
		return 0;
	errno = ENOTSUP;
	return on ? -1 : 0;
#endif
}

/*
 * Open PATH, as the unit, without following a link, without blocking
 * (a FIFO with no reader, a terminal waiting for a carrier), and only if
 * it is a regular file or a character device (/dev/null, a console): a
 * FIFO or a socket could block every write. Non-blocking stays on: a
 * character device that cannot take more loses the batch, never stalls
 * the loop. 0, or -1 with errno (EINVAL for a refused file type, ELOOP
 * for a link).
 */
static int
filesink_open_fd(struct filesink *s)
{
	struct stat	st;
	int		fd, saved;

	/* Closed, or a failed open: a batch is never held back by a size. */
	s->fd = -1;
	s->size = 0;
	if (filesink_as(s, 1) == -1)
		return -1;
	fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0666);
	saved = errno;
	/* A FIFO without a reader, a socket: say what they are. */
	if (fd == -1 && saved == ENXIO && lstat(s->path, &st) == 0 &&
	    (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
		saved = EINVAL;
	(void)filesink_as(s, 0);
	if (fd == -1) {
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)) {
		(void)close(fd);
		errno = EINVAL;
		return -1;
	}
	s->fd = fd;
	s->size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	if (!S_ISREG(st.st_mode))
		s->max_size = 0;	/* a device never rotates */
	return 0;
}

const char *
filesink_strerror(int error)
{
	if (error == EINVAL)
		return "not a regular file or character device";
	if (error == ELOOP)
		return "a symbolic link (never followed)";
	return strerror(error);
}

struct filesink *
filesink_open(const char *unit, const char *path, uint64_t max_size,
    unsigned backups, const char *user, const char *group)
{
	struct filesink	*s;
	int		 saved;

	s = xcalloc(1, sizeof *s);
	s->unit = xstrdup(unit);
	s->path = xstrdup(path);
	s->fd = -1;
	s->max_size = max_size;
	s->backups = backups;
	if (filesink_resolve(s, user, group) == -1 ||
	    filesink_open_fd(s) == -1) {
		saved = errno;
		filesink_free(s);
		errno = saved;
		return NULL;
	}
	return s;
}

const char *
filesink_path(const struct filesink *s)
{
	return s->path;
}

/*
 * PATH.N-1 -> PATH.N, ..., PATH -> PATH.1, then a fresh PATH, all as the
 * unit (rename never follows a link: it moves the link itself). With no
 * backups the open file is truncated through its descriptor, never by
 * name. A failed rename is logged; writing goes on into whatever PATH is.
 */
static void
filesink_rotate(struct filesink *s)
{
	char		*from, *to;
	unsigned	 i;
	int		 saved;

	/*
	 * The size is 0 afterwards whatever happens: a failed rotation must
	 * not make filesink_write rotate again forever.
	 */
	if (s->backups == 0) {
		if (s->fd != -1 && ftruncate(s->fd, 0) == -1)
			log_warn("%s: truncating %s", s->unit, s->path);
		s->size = 0;
		return;
	}
	(void)close(s->fd);
	s->fd = -1;
	s->size = 0;
	if (filesink_as(s, 1) == -1) {
		log_warn("%s: rotating %s as the unit's user", s->unit,
		    s->path);
		return;
	}
	for (i = s->backups; i > 0; i--) {
		from = i == 1 ? xstrdup(s->path) : xasprintf("%s.%u", s->path,
		    i - 1);
		to = xasprintf("%s.%u", s->path, i);
		if (rename(from, to) == -1 && errno != ENOENT) {
			saved = errno;
			(void)filesink_as(s, 0);
			errno = saved;
			log_warn("%s: rotating %s", s->unit, from);
			(void)filesink_as(s, 1);
		}
		free(from);
		free(to);
	}
	(void)filesink_as(s, 0);
	if (filesink_open_fd(s) == -1)
		log_warnx("%s: reopening %s after rotation: %s", s->unit,
		    s->path, filesink_strerror(errno));
}

/* Write all of p, or log (once per outage) and count the loss. */
static int
filesink_put(struct filesink *s, const char *p, size_t n)
{
	uint64_t	start = s->size;
	ssize_t		w;

	/* Closed by a failed reopen or rotation: try again, as then. */
	if (s->fd == -1 && filesink_open_fd(s) == 0)
		start = s->size;
	while (n > 0) {
		if (s->fd == -1)
			w = -1;
		else
			w = write(s->fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			if (!s->failing)
				log_warnx("%s: writing to %s: %s", s->unit,
				    s->path, filesink_strerror(errno));
			s->failing = 1;
			/*
			 * Part of the batch may be in the file: cut it off, so
			 * the next write does not glue onto a torn line.
			 */
			if (s->size > start && s->fd != -1 &&
			    ftruncate(s->fd, (off_t)start) == 0) {
				s->lost += s->size - start;
				s->size = start;
			}
			s->lost += n;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		s->size += (uint64_t)w;
	}
	if (s->failing) {
		log_warnx("%s: writing to %s again; %llu bytes were lost",
		    s->unit, s->path, (unsigned long long)s->lost);
		s->failing = 0;
		s->lost = 0;
	}
	return 0;
}

/* Past the end of the line p starts, or p + n if it does not end there. */
static const char *
filesink_line_end(const char *p, size_t n)
{
	const char	*nl = memchr(p, '\n', n);

	return nl != NULL ? nl + 1 : p + n;
}

/*
 * With a size limit, a batch is cut at line ends so each file holds
 * whole lines and stays within max_size; only a single line longer than
 * max_size makes a file bigger, alone in it. A line may come in pieces
 * (a very long line reaches us cut): a file that ends inside a line
 * takes the rest of it before any rotation, which may make it bigger.
 */
int
filesink_write(struct filesink *s, const char *p, size_t n)
{
	const char	*end, *cut, *nl;
	uint64_t	 room;
	int		 rc = 0, rotated = 0;

	if (s->max_size == 0)
		return filesink_put(s, p, n);
	while (n > 0) {
		if (s->midline && s->size > 0)
			/* The rest of the line the file ends in, limit or not. */
			cut = filesink_line_end(p, n);
		else {
			room = s->size < s->max_size ? s->max_size - s->size :
			    0;
			end = p + (n < room ? n : room);
			cut = NULL;
			for (nl = p; nl < end && (nl = memchr(nl, '\n',
			    (size_t)(end - nl))) != NULL; nl++)
				cut = nl + 1;
			if (cut == NULL && n <= room)
				cut = p + n;	/* a piece of a line that fits */
		}
		if (cut == NULL) {
			/*
			 * Once per piece: a rotation that could not empty
			 * the file (a rename refused) must not be tried
			 * again forever; the piece then goes where PATH is.
			 */
			if (s->size > 0 && !rotated) {
				filesink_rotate(s);
				rotated = 1;
				continue;
			}
			/* One line longer than max_size: alone, whole. */
			cut = filesink_line_end(p, n);
		}
		if (filesink_put(s, p, (size_t)(cut - p)) == -1)
			rc = -1;
		else
			s->midline = cut[-1] != '\n';
		rotated = 0;
		n -= (size_t)(cut - p);
		p = cut;
	}
	return rc;
}

int
filesink_reopen(struct filesink *s)
{
	if (s->fd != -1)
		(void)close(s->fd);
	if (filesink_open_fd(s) == -1) {
		log_warnx("%s: reopening %s: %s", s->unit, s->path,
		    filesink_strerror(errno));
		return -1;
	}
	return 0;
}

void
filesink_free(struct filesink *s)
{
	if (s == NULL)
		return;
	if (s->fd != -1)
		(void)close(s->fd);
	free(s->unit);
	free(s->path);
	free(s);
}
