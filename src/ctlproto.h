/*
 * The control protocol as bytes, shared by the server (control.c) and the
 * client (ctl.c): the version line, frames of length-prefixed fields,
 * requests and replies with typed key/value records, JSON strings, and
 * where the socket lives by default. No libuv and no sockets: every
 * parser is a pure function over a buffer, strict and bounded, so it can
 * be fuzzed. The format is documented in pytasking-run(1).
 */
#ifndef PYT_CTLPROTO_H
#define PYT_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "manifest.h"

#define CTL_VERSION		1
#define CTL_MAGIC		"PYTCTL"
/* The longest version line accepted, newline included. */
#define CTL_MAX_VERSION_LINE	32
/* Payload bytes of one frame, and fields in it. */
#define CTL_MAX_FRAME		(1024 * 1024)
#define CTL_MAX_FIELDS		65536
/* Longest unit or queue name, and longest key of a record. */
#define CTL_MAX_NAME		255
#define CTL_MAX_KEY		64
/* Longest item the client puts in one field; longer lines are split. */
#define CTL_MAX_ITEM		(CTL_MAX_FRAME - 64)

/* One frame, parsed: fields are NUL-terminated copies (they may hold NUL). */
struct ctl_msg {
	char	**f;		/* f[n] is NULL */
	size_t	 *len;
	size_t	  n;
};

/*
 * Parsers of incoming bytes return 1 with a complete element (*used bytes
 * of p consumed), 0 when p is a valid but incomplete prefix, -1 with a
 * static *errstr when p can never become valid.
 */
int	ctlproto_version_parse(const char *p, size_t len, size_t *used,
	    unsigned *version, const char **errstr);
int	ctlproto_frame_parse(const char *p, size_t len, size_t *used,
	    struct ctl_msg *, const char **errstr);
void	ctlproto_msg_release(struct ctl_msg *);

/* "PYTCTL 1\n" */
void	ctlproto_version_add(struct buf *);

/* A frame being built: fields, then finished into a buffer. */
struct ctl_frame {
	struct buf	fields;
	size_t		n;
};

void	ctlproto_frame_init(struct ctl_frame *);
void	ctlproto_frame_add(struct ctl_frame *, const void *, size_t);
void	ctlproto_frame_adds(struct ctl_frame *, const char *);
/* Typed key/value triples of replies. */
void	ctlproto_frame_str(struct ctl_frame *, const char *key,
	    const char *val, size_t len);
void	ctlproto_frame_strs(struct ctl_frame *, const char *key,
	    const char *val);
void	ctlproto_frame_int(struct ctl_frame *, const char *key, int64_t);
void	ctlproto_frame_bool(struct ctl_frame *, const char *key, int);
void	ctlproto_frame_null(struct ctl_frame *, const char *key);
/* Append "LEN:FIELDS," to out and release the frame. */
void	ctlproto_frame_finish(struct ctl_frame *, struct buf *out);

/* Requests: the first field names the command. */
enum ctl_cmd {
	CTL_LIST,
	CTL_STATUS,
	CTL_START,
	CTL_STOP,
	CTL_RESTART,
	CTL_SCALE,
	CTL_SIGNAL,
	CTL_ADD_PROC,
	CTL_ADD_TASK,
	CTL_REMOVE,
	CTL_PUT,
	CTL_PUT_STREAM,
	CTL_GET,
	CTL_GET_ACK,	/* get, held until the client's "ack" frame */
	CTL_CLOSE,
	CTL_QUEUES,
	CTL_LOGS,
	CTL_FOLLOW,
	CTL_RELOAD,
	CTL_SHUTDOWN,
	CTL_METRICS,
};

/* A checked request; every pointer borrows from its ctl_msg. */
struct ctl_request {
	enum ctl_cmd		 cmd;
	const char		*name;		/* unit or queue */
	int			 sig;		/* signal */
	int			 nowait;	/* stop, restart, remove */
	unsigned		 count;		/* scale */
	enum restart_policy	 restart;	/* add-proc */
	const char		*stdin_queue;	/* add-proc; NULL: none */
	const char		*stdout_queue;	/* add-proc; NULL: inherit */
	char			**args;		/* argv, steps or items */
	size_t			*lens;
	size_t			 nargs;
	int			 has_lines;	/* logs: the last lines only */
	uint64_t		 lines;
	uint64_t		 since_ms;	/* logs: 0, or this recent only */
};

/* The wire name of a command ("add-proc"). */
const char	*ctlproto_cmd_name(enum ctl_cmd);
/* Check a request frame; 0, or -1 with *cause (allocated). */
int		 ctlproto_request_parse(const struct ctl_msg *,
		    struct ctl_request *, char **cause);
/*
 * Is m the frame that a get-ack's client sends once it has the item
 * safe: the one field "ack"? Anything else puts the item back.
 */
int		 ctlproto_is_ack(const struct ctl_msg *);
/* Check the items of a data frame of put-stream; 0 or -1 with *errstr. */
int		 ctlproto_items_check(char *const *items, const size_t *lens,
		    size_t n, const char **errstr);

/* Replies: "ok", "err" MESSAGE, or "rec" SET, each then TYPE KEY VALUE... */
enum ctl_reply_kind {
	CTL_REPLY_OK,
	CTL_REPLY_ERR,
	CTL_REPLY_REC,
};

enum ctl_type {
	CTL_T_STR = 's',
	CTL_T_INT = 'i',
	CTL_T_BOOL = 'b',
	CTL_T_NULL = 'z',
};

struct ctl_kv {
	enum ctl_type	 type;
	const char	*key;
	const char	*val;
	size_t		 vlen;
};

struct ctl_reply {
	enum ctl_reply_kind	 kind;
	const char		*set;		/* rec: the collection */
	const char		*error;		/* err: the message */
	size_t			 errlen;
	struct ctl_kv		*kv;		/* allocated; pointers borrow */
	size_t			 nkv;
};

int	ctlproto_reply_parse(const struct ctl_msg *, struct ctl_reply *,
	    const char **errstr);
void	ctlproto_reply_release(struct ctl_reply *);

/* A value of a record as JSON. */
void	ctlproto_json_value(struct buf *, const struct ctl_kv *);

/*
 * The default directory of sockets: $XDG_RUNTIME_DIR/pytasking-run when
 * XDG_RUNTIME_DIR is set, else /tmp/pytasking-run-UID. With create, it is
 * made 0700 if missing. It must be a directory of ours, mode 0700 (no
 * symbolic link). Returns it allocated, or NULL with *cause.
 */
char	*ctlproto_default_dir(int create, char **cause);
/*
 * DIR/NAME-MARK.sock: NAME the manifest's file name less .yaml or .yml,
 * MARK eight hex digits from its directory's real path (two manifests of
 * one name in two directories run at once).
 */
/* MARK: of the directory that holds the file at path (real path). */
uint32_t ctlproto_dir_mark(const char *path);
char	*ctlproto_default_path(const char *manifest, int create,
	    char **cause);

#endif
