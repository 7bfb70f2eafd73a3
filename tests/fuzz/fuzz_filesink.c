/*
 * libFuzzer target for file outputs over odd file types: the input is a
 * program of operations on one sink and its path (write bytes, reopen,
 * put a symbolic link, a FIFO without or with a reader, a directory, a
 * socket, /dev/null's device or a fresh file in its place, move it
 * away), with a size limit and a number of backups from its first bytes.
 * Must hold: nothing crashes, leaks or blocks (a FIFO or socket is
 * refused, a write never waits: libFuzzer's timeout catches a hang), and
 * the file a link points to is never written.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filesink.h"
#include "log.h"
#include "xmalloc.h"

static char	dir[] = "/tmp/fuzz-filesink.XXXXXX";
static char	path[64], target[64], moved[64];

static void
clear(const char *p)
{
	struct stat	st;

	if (lstat(p, &st) == -1)
		return;
	if (S_ISDIR(st.st_mode))
		(void)rmdir(p);
	else
		(void)unlink(p);
}

/* The target holds "secret\n" and nothing else. */
static void
check_target(void)
{
	char	buf[64];
	int	fd;
	ssize_t	n;

	if ((fd = open(target, O_RDONLY)) == -1)
		abort();
	n = read(fd, buf, sizeof buf);
	(void)close(fd);
	if (n != 7 || memcmp(buf, "secret\n", 7) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int		 ready;
	struct sockaddr_un	 sun;
	struct filesink		*s;
	size_t			 i, n;
	int			 fd, rfd = -1, sfd = -1;
	char			 b[80];

	if (!ready) {
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(path, sizeof path, "%s/out", dir);
		snprintf(target, sizeof target, "%s/target", dir);
		snprintf(moved, sizeof moved, "%s/moved", dir);
		log_init("fuzz", 0);
		ready = 1;
	}
	clear(path);
	for (i = 1; i <= 3; i++) {
		snprintf(b, sizeof b, "%s.%zu", path, i);
		clear(b);
	}
	clear(moved);
	if ((fd = open(target, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, "secret\n", 7) != 7)
		abort();
	(void)close(fd);
	if (size < 2)
		return 0;
	s = filesink_open("u", path, data[0] % 64, data[1] % 4, NULL, NULL);
	for (i = 2; i < size; i += 1 + n) {
		n = 0;
		switch (data[i] % 10) {
		case 0:
		case 1:
		case 2:
			/* A length byte, then that many bytes to write. */
			if (i + 1 >= size)
				break;
			n = data[i + 1] % 32;
			if (n > size - i - 2)
				n = size - i - 2;
			if (s != NULL)
				(void)filesink_write(s, (const char *)data +
				    i + 2, n);
			n++;
			break;
		case 3:
			if (s != NULL)
				(void)filesink_reopen(s);
			break;
		case 4:
			clear(path);
			(void)symlink(target, path);
			break;
		case 5:
			clear(path);
			(void)mkfifo(path, 0600);
			if (data[i] & 0x10) {
				if (rfd != -1)
					(void)close(rfd);
				rfd = open(path, O_RDONLY | O_NONBLOCK);
			}
			break;
		case 6:
			clear(path);
			(void)mkdir(path, 0700);
			break;
		case 7:
			clear(path);
			memset(&sun, 0, sizeof sun);
			sun.sun_family = AF_UNIX;
			strncpy(sun.sun_path, path, sizeof sun.sun_path - 1);
			if (sfd != -1)
				(void)close(sfd);
			sfd = socket(AF_UNIX, SOCK_STREAM, 0);
			if (sfd != -1 && bind(sfd, (struct sockaddr *)&sun,
			    sizeof sun) == 0)
				(void)listen(sfd, 1);
			break;
		case 8:
			clear(path);
			(void)rename(path, moved);
			break;
		case 9:
			if (s == NULL)
				s = filesink_open("u", data[i] & 0x10 ?
				    "/dev/null" : path, data[0] % 64,
				    data[1] % 4, NULL, NULL);
			break;
		}
		check_target();
	}
	filesink_free(s);
	if (rfd != -1)
		(void)close(rfd);
	if (sfd != -1)
		(void)close(sfd);
	check_target();
	return 0;
}
