/*
 * File outputs with rotation. Errors are logged once per sink until a
 * write succeeds again, so a full disk does not flood our stderr; the
 * lines that could not be written are counted and said.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filesink.h"
#include "log.h"
#include "xmalloc.h"

struct filesink {
	char		*unit;
	char		*path;
	int		 fd;
	uint64_t	 size;
	uint64_t	 max_size;
	unsigned	 backups;
	int		 failing;	/* an error was logged, not yet cleared */
	uint64_t	 lost;		/* bytes not written while failing */
};

static int
filesink_open_fd(struct filesink *s)
{
	struct stat	st;

	s->fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (s->fd == -1)
		return -1;
	s->size = fstat(s->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
	return 0;
}

struct filesink *
filesink_open(const char *unit, const char *path, uint64_t max_size,
    unsigned backups)
{
	struct filesink	*s;
	int		 saved;

	s = xcalloc(1, sizeof *s);
	s->unit = xstrdup(unit);
	s->path = xstrdup(path);
	s->max_size = max_size;
	s->backups = backups;
	if (filesink_open_fd(s) == -1) {
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
 * PATH.N-1 -> PATH.N, ..., PATH -> PATH.1, then a fresh PATH. With no
 * backups the file is truncated. A failed rename is logged; writing goes
 * on into whatever PATH is.
 */
static void
filesink_rotate(struct filesink *s)
{
	char		*from, *to;
	unsigned	 i;

	(void)close(s->fd);
	s->fd = -1;
	for (i = s->backups; i > 0; i--) {
		from = i == 1 ? xstrdup(s->path) : xasprintf("%s.%u", s->path,
		    i - 1);
		to = xasprintf("%s.%u", s->path, i);
		if (rename(from, to) == -1 && errno != ENOENT)
			log_warn("%s: rotating %s", s->unit, from);
		free(from);
		free(to);
	}
	if (s->backups == 0 && truncate(s->path, 0) == -1 && errno != ENOENT)
		log_warn("%s: truncating %s", s->unit, s->path);
	if (filesink_open_fd(s) == -1)
		log_warn("%s: reopening %s after rotation", s->unit, s->path);
}

/* Write all of p, or log (once per outage) and count the loss. */
static int
filesink_put(struct filesink *s, const char *p, size_t n)
{
	uint64_t	start = s->size;
	ssize_t		w;

	while (n > 0) {
		if (s->fd == -1) {
			w = -1;
			errno = EBADF;
		} else
			w = write(s->fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			if (!s->failing)
				log_warn("%s: writing to %s", s->unit, s->path);
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

/*
 * With a size limit, a batch is cut at line ends so each file holds
 * whole lines and stays within max_size; only a single line longer than
 * max_size makes a file bigger, alone in it.
 */
int
filesink_write(struct filesink *s, const char *p, size_t n)
{
	const char	*end, *cut, *nl;
	uint64_t	 room;
	int		 rc = 0;

	if (s->max_size == 0)
		return filesink_put(s, p, n);
	while (n > 0) {
		room = s->size < s->max_size ? s->max_size - s->size : 0;
		end = p + (n < room ? n : room);
		cut = NULL;
		for (nl = p; nl < end && (nl = memchr(nl, '\n',
		    (size_t)(end - nl))) != NULL; nl++)
			cut = nl + 1;
		if (cut == NULL) {
			if (s->size > 0) {
				filesink_rotate(s);
				continue;
			}
			/* One line longer than max_size: alone, whole. */
			nl = memchr(p, '\n', n);
			cut = nl != NULL ? nl + 1 : p + n;
		}
		if (filesink_put(s, p, (size_t)(cut - p)) == -1)
			rc = -1;
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
		log_warn("%s: reopening %s", s->unit, s->path);
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
