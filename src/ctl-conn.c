/*
 * The ctl client's connection to the control socket: finding the socket
 * (-s, $PYTASKING_SOCKET or the default directory), one request written
 * and the version check, and the reply read frame by frame into struct
 * ctl. Plain blocking sockets, no libuv. Both the one-shot commands
 * (ctl.c) and the live view (ctl-top.c) talk to the supervisor through
 * it; what to ask is theirs, and how a reply looks is ctl-print.c's.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ctl-int.h"
#include "ctlproto.h"
#include "util.h"
#include "xmalloc.h"

/* Bytes read from the socket at once. */
#define CTL_CONN_CHUNK	(64 * 1024)

/* Write all of p to the socket; -1 with errno (never SIGPIPE). */
int
ctl_conn_write(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Connect to path. Returns the socket, or -1 with *cause; *absent is
 * set when nobody listens there (no file, or a stale one).
 */
static int
connect_path(const char *path, int *absent, char **cause)
{
	int	fd;

	*absent = 0;
	if ((fd = util_connect_unix(path)) != -1)
		return fd;
	if (errno == ENAMETOOLONG)
		*cause = xasprintf("socket path too long: %s", path);
	else if (errno == ENOENT || errno == ECONNREFUSED) {
		*absent = 1;
		*cause = xasprintf("no supervisor listening on %s", path);
	} else
		*cause = xasprintf("cannot connect to %s: %s", path,
		    strerror(errno));
	return -1;
}

/* The only live socket of the default directory. */
static int
connect_default(char **cause)
{
	struct dirent	*e;
	struct stat	 st;
	struct buf	 names;
	DIR		*d;
	char		*dir, *path, *why = NULL, here[32];
	size_t		 len, nlive = 0, nhere = 0;
	int		 fd, found = -1, here_fd = -1, absent;

	if ((dir = ctlproto_default_dir(0, cause)) == NULL) {
		if (errno == ENOENT) {
			free(*cause);
			*cause = xstrdup("no supervisor listening (no default "
			    "socket directory; use -s PATH)");
		}
		return -1;
	}
	if ((d = opendir(dir)) == NULL) {
		*cause = xasprintf("%s: %s", dir, strerror(errno));
		free(dir);
		return -1;
	}
	/* Of several, the one of a manifest in this directory, as compose. */
	snprintf(here, sizeof here, "-%08" PRIx32 ".sock",
	    ctlproto_dir_mark("./-"));
	buf_init(&names);
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len <= 5 || strcmp(e->d_name + len - 5, ".sock") != 0)
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (lstat(path, &st) == -1 || !S_ISSOCK(st.st_mode) ||
		    (fd = connect_path(path, &absent, &why)) == -1) {
			free(why);
			why = NULL;
			free(path);
			continue;
		}
		buf_addf(&names, "%s%s", nlive > 0 ? ", " : "", e->d_name);
		if (len > strlen(here) && strcmp(e->d_name + len -
		    strlen(here), here) == 0 && nhere++ == 0)
			here_fd = dup(fd);
		if (nlive++ == 0)
			found = fd;
		else
			close(fd);
		free(path);
	}
	closedir(d);
	if (nlive > 1 && nhere == 1 && here_fd != -1) {
		close(found);
		found = here_fd;
		nlive = 1;
	} else if (here_fd != -1)
		close(here_fd);
	if (nlive == 1) {
		buf_release(&names);
		free(dir);
		return found;
	}
	if (nlive == 0)
		*cause = xasprintf("no supervisor listening in %s (use -s "
		    "PATH)", dir);
	else {
		close(found);
		buf_addc(&names, '\0');
		*cause = xasprintf("%zu supervisors listen in %s (%s): choose "
		    "one with -s PATH", nlive, dir, buf_ptr(&names));
	}
	buf_release(&names);
	free(dir);
	return -1;
}

/*
 * -s, else $PYTASKING_SOCKET, else the only one in the default place (or
 * of several, the one of a manifest in the working directory).
 */
static int
ctl_conn_open(const char *opt, char **cause)
{
	const char	*env = getenv("PYTASKING_SOCKET");
	int		 absent;

	if (opt != NULL)
		return connect_path(opt, &absent, cause);
	if (env != NULL && *env != '\0')
		return connect_path(env, &absent, cause);
	return connect_default(cause);
}

/* Read more from the socket: 1 with bytes, 0 at EOF, -1 with *cause. */
int
ctl_conn_read(struct ctl *c, char **cause)
{
	char	chunk[CTL_CONN_CHUNK];
	ssize_t	n;

	do
		n = read(c->fd, chunk, sizeof chunk);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == ECONNRESET)
			return 0;
		*cause = xasprintf("reading from the supervisor: %s",
		    strerror(errno));
		return -1;
	}
	buf_add(&c->in, chunk, (size_t)n);
	return n > 0;
}

/* The supervisor's version line. */
static int
ctl_conn_version(struct ctl *c, char **cause)
{
	const char	*errstr;
	unsigned	 version;
	size_t		 used;
	int		 r;

	for (;;) {
		r = ctlproto_version_parse(buf_ptr(&c->in), buf_used(&c->in),
		    &used, &version, &errstr);
		if (r == 1)
			break;
		if (r == -1) {
			*cause = xasprintf("not a pytasking-run control socket "
			    "(%s)", errstr);
			return -1;
		}
		if ((r = ctl_conn_read(c, cause)) == -1)
			return -1;
		if (r == 0) {
			*cause = xstrdup("the supervisor closed the "
			    "connection");
			return -1;
		}
	}
	buf_consume(&c->in, used);
	if (version != CTL_VERSION) {
		*cause = xasprintf("protocol version mismatch: the supervisor "
		    "speaks %u, ctl speaks %d (run the ctl of the same "
		    "version)", version, CTL_VERSION);
		return -1;
	}
	return 0;
}

/* The next frame: 1, 0 at a clean EOF, -1 with *cause. */
static int
ctl_conn_frame(struct ctl *c, struct ctl_msg *m, char **cause)
{
	const char	*errstr;
	size_t		 used;
	int		 r;

	for (;;) {
		r = ctlproto_frame_parse(buf_ptr(&c->in), buf_used(&c->in),
		    &used, m, &errstr);
		if (r == 1) {
			buf_consume(&c->in, used);
			return 1;
		}
		if (r == -1) {
			*cause = xasprintf("malformed reply from the "
			    "supervisor: %s", errstr);
			return -1;
		}
		if ((r = ctl_conn_read(c, cause)) == -1)
			return -1;
		if (r == 0) {
			if (buf_used(&c->in) == 0)
				return 0;
			*cause = xstrdup("malformed reply from the "
			    "supervisor: truncated");
			return -1;
		}
	}
}

/*
 * Read the reply: records, then ok or err. Lines of logs are printed as
 * they come; the rest is kept for the table or the JSON document.
 * Returns 0 on ok, 1 on err (message in c->error), -1 with *cause.
 */
int
ctl_conn_reply(struct ctl *c, char **cause)
{
	struct ctl_reply	 r;
	struct ctl_msg		 m;
	struct record		 rec;
	const char		*errstr;
	int			 got, failed;

	for (;;) {
		if ((got = ctl_conn_frame(c, &m, cause)) == -1)
			return -1;
		if (got == 0) {
			/* The supervisor exited: the end of a follow. */
			if (c->req == CTL_FOLLOW)
				return 0;
			*cause = xstrdup("the supervisor closed the connection "
			    "without an answer");
			return -1;
		}
		if (ctlproto_reply_parse(&m, &r, &errstr) == -1) {
			ctlproto_msg_release(&m);
			*cause = xasprintf("malformed reply from the "
			    "supervisor: %s", errstr);
			return -1;
		}
		record_fill(&rec, &r);
		if (r.kind == CTL_REPLY_REC) {
			if (c->req == CTL_LOGS || c->req == CTL_FOLLOW) {
				if (!c->json || c->req == CTL_FOLLOW) {
					ctl_print_line(c, &rec);
					record_release(&rec);
					goto next;
				}
			}
			c->recs = xreallocarray(c->recs, c->nrecs + 1,
			    sizeof *c->recs);
			c->recs[c->nrecs++] = rec;
		} else {
			c->final = rec;
			if (r.kind == CTL_REPLY_ERR) {
				c->error = xmalloc(r.errlen + 1);
				memcpy(c->error, r.error, r.errlen);
				c->error[r.errlen] = '\0';
				c->errlen = r.errlen;
			}
			failed = r.kind == CTL_REPLY_ERR;
			ctlproto_reply_release(&r);
			ctlproto_msg_release(&m);
			return failed;
		}
next:
		ctlproto_reply_release(&r);
		ctlproto_msg_release(&m);
	}
}

/*
 * The supervisor closes a get-ack's connection once it has read the ack:
 * then we read a clean end of file. A close that left the ack unread
 * (the supervisor was ending) is a reset instead, and an ack written
 * after the close fails with EPIPE: the item goes back to its queue.
 */
int
ctl_conn_ack(struct ctl *c, char **cause)
{
	struct ctl_frame	 fr;
	struct buf		 b;
	char			 chunk[512];
	ssize_t			 n;
	int			 r;

	buf_init(&b);
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "ack");
	ctlproto_frame_finish(&fr, &b);
	r = ctl_conn_write(c->fd, buf_ptr(&b), buf_used(&b));
	buf_release(&b);
	if (r == -1) {
		*cause = xasprintf("get: cannot acknowledge the item (%s): "
		    "the supervisor may give it again", strerror(errno));
		return -1;
	}
	do
		n = read(c->fd, chunk, sizeof chunk);
	while (n == -1 && errno == EINTR);
	if (n == 0)
		return 0;
	if (n == -1)
		*cause = xasprintf("get: the acknowledgement was not taken "
		    "(%s): the supervisor may give the item again",
		    strerror(errno));
	else
		*cause = xstrdup("get: the supervisor refused the "
		    "acknowledgement: it may give the item again");
	return -1;
}

/*
 * Open a connection for frame fr (released here): connect to the
 * supervisor at sock (NULL: the default one), write the version line and
 * the request, and read the supervisor's version line. Returns 0 with
 * c->fd open, -1 with *cause (c->fd open or -1: the caller closes it).
 * Written before reading: both fit the socket's buffer or block.
 */
int
ctl_conn_send(struct ctl *c, const char *sock, struct ctl_frame *fr,
    char **cause)
{
	struct buf	req;
	int		r = -1;

	buf_init(&req);
	ctlproto_version_add(&req);
	ctlproto_frame_finish(fr, &req);
	if ((c->fd = ctl_conn_open(sock, cause)) == -1)
		goto out;
	if (ctl_conn_write(c->fd, buf_ptr(&req), buf_used(&req)) == -1 &&
	    errno != EPIPE && errno != ECONNRESET) {
		*cause = xasprintf("writing to the supervisor: %s",
		    strerror(errno));
		goto out;
	}
	r = ctl_conn_version(c, cause);
out:
	buf_release(&req);
	return r;
}

/*
 * One request on a connection of its own, for ctl top: frame fr
 * (released here) to the supervisor at sock, the reply into c (its
 * records kept, never printed). Returns 0 on ok, 1 on err (c->error),
 * -1 with *cause when the supervisor cannot be reached or broke off.
 */
int
ctl_conn_exchange(struct ctl *c, const char *sock, struct ctl_frame *fr,
    char **cause)
{
	int	r;

	if ((r = ctl_conn_send(c, sock, fr, cause)) == 0)
		r = ctl_conn_reply(c, cause);
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	return r;
}

/* Forget the records and the answer of the last exchange. */
void
ctl_conn_forget(struct ctl *c)
{
	size_t	i;

	for (i = 0; i < c->nrecs; i++)
		record_release(&c->recs[i]);
	free(c->recs);
	c->recs = NULL;
	c->nrecs = 0;
	record_release(&c->final);
	memset(&c->final, 0, sizeof c->final);
	free(c->error);
	c->error = NULL;
	c->errlen = 0;
	buf_release(&c->in);
	buf_init(&c->in);
}
