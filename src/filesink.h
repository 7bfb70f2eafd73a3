/*
 * A file output of a unit: appended, rotated by size (PATH.1 ... PATH.N),
 * reopened on request (SIGUSR1, for external log rotation). Whole writes
 * only: rotation happens between batches of whole lines, never inside
 * one. Plain I/O, no libuv. Used by wire.c (outlets) and supervisor.c
 * (task echo).
 */
#ifndef PYT_FILESINK_H
#define PYT_FILESINK_H

#include <stddef.h>
#include <stdint.h>

struct filesink;

/*
 * Open PATH for appending (created 0666 & ~umask). max_size 0: never
 * rotate. user and group (names or ids, NULL: ours) are the unit's: as
 * root, PATH is opened, rotated and reopened with their permissions, so
 * what they could not open themselves is refused. A symbolic link as the
 * last component is refused, and so is anything but a regular file or a
 * character device; nothing blocks. Returns NULL, with errno, when the
 * file cannot be opened (filesink_strerror says why).
 */
struct filesink	*filesink_open(const char *unit, const char *path,
		    uint64_t max_size, unsigned backups, const char *user,
		    const char *group);
/* errno from filesink_open or filesink_reopen, in words. */
const char	*filesink_strerror(int);
/* Append bytes (whole lines); rotates first when they would not fit. */
int		 filesink_write(struct filesink *, const char *, size_t);
/* Close and open the path again (it may have been moved away). */
int		 filesink_reopen(struct filesink *);
const char	*filesink_path(const struct filesink *);
void		 filesink_free(struct filesink *);

#endif
