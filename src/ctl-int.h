/*
 * Private to the ctl client's own files (ctl.c and ctl-*.c): the request
 * and reply structs, and the functions of the lower files (ctl-conn.c,
 * ctl-print.c) that the upper ones (ctl.c, ctl-top.c) call. Only they may
 * include it; everyone else uses ctl.h.
 */
#ifndef PYT_CTL_INT_H
#define PYT_CTL_INT_H

#include <stddef.h>

#include "buf.h"
#include "ctlproto.h"

/* One field of a record, owned. */
struct field {
	enum ctl_type	 type;
	char		*key;
	char		*val;
	size_t		 vlen;
};

struct record {
	char		*set;
	struct field	*f;
	size_t		 n;
};

/* What the user asked for, and what came back. */
struct ctl {
	int		 json;
	int		 timestamps;	/* logs --timestamps */
	const char	*cmd;		/* the user's word */
	enum ctl_cmd	 req;
	const char	*set;		/* the collection the command lists */
	int		 fd;
	struct buf	 in;
	struct record	*recs;
	size_t		 nrecs;
	struct record	 final;		/* fields of ok or err */
	char		*error;
	size_t		 errlen;
};

/*
 * ctl-conn.c: the connection. send connects and writes one request;
 * reply reads the answer into the struct; exchange is both on a
 * connection of its own; forget drops the records and the answer.
 */
int	ctl_conn_send(struct ctl *, const char *sock, struct ctl_frame *,
	    char **cause);
int	ctl_conn_reply(struct ctl *, char **cause);
int	ctl_conn_exchange(struct ctl *, const char *sock, struct ctl_frame *,
	    char **cause);
void	ctl_conn_forget(struct ctl *);
/*
 * get-ack: acknowledge the item now in the user's hands, and wait for the
 * supervisor's close, which says it read the ack. 0, or -1 with *cause.
 */
int	ctl_conn_ack(struct ctl *, char **cause);
/* Write all of p to the socket; -1 with errno (never SIGPIPE). */
int	ctl_conn_write(int fd, const char *p, size_t len);
/* Read more of the reply into c->in: 1 with bytes, 0 at EOF, -1. */
int	ctl_conn_read(struct ctl *, char **cause);

/* ctl-top.c: argv[0] is "top"; returns the exit status. */
int	ctl_top_main(const char *sock, int argc, char **argv);
/* ctl-print.c: a field of a record by key, or NULL. */
const struct field *record_get(const struct record *, const char *);

/* ctl-print.c: the records of a reply, and their output. */
void	record_fill(struct record *, const struct ctl_reply *);
void	record_release(struct record *);
void	json_fields(struct buf *, const struct record *, int);
void	ctl_print_line(struct ctl *, const struct record *);
void	ctl_print(struct ctl *);
/* 1234567 ms as "20m34s" (under a second "500ms", 0 "-"). */
void	ctl_format_uptime(uint64_t ms, char *out, size_t len);

#endif
