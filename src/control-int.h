/*
 * Private to the control socket server's own files (control.c and
 * control-*.c): the control and connection structs, and the transport's
 * functions (control.c) that the commands (control-cmds.c) call; calls go
 * that way only, and frames come up through control->dispatch. Only they
 * may include it; everyone else uses control.h.
 */
#ifndef PYT_CONTROL_INT_H
#define PYT_CONTROL_INT_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "control.h"
#include "ctlproto.h"
#include "sampler.h"
#include "supervisor.h"
#include "wire.h"

enum conn_state {
	CONN_VERSION,		/* waiting for the version line */
	CONN_REQUEST,		/* waiting for the request frame */
	CONN_PUT,		/* pushing items; more frames if streaming */
	CONN_GET,		/* waiting for an item */
	CONN_GET_ACK,		/* get-ack: waiting for an item */
	CONN_ACK,		/* get-ack: item sent and held; wait for "ack" */
	CONN_FOLLOW,		/* sending new lines of a unit */
	CONN_SHUTDOWN,		/* answered; held open until we exit */
};

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	struct control		*ctl;
	uv_pipe_t		 pipe;
	uv_timer_t		 timer;
	int			 handles;	/* open handles */
	enum conn_state		 state;
	struct buf		 in;		/* received, not yet parsed */
	struct buf		 out;		/* frames not yet written */
	size_t			 nwrites;	/* writes in flight (0 or 1) */
	size_t			 inflight;	/* bytes of the write in flight */
	size_t			 backlog_base;	/* follow: the history's bytes */
	int			 reading;
	int			 done;		/* final reply sent: close */
	int			 closing;
	int			 doomed;	/* close soon, from the timer */
	char			*queue;		/* put, get */
	struct ctl_msg		 items;		/* put: items being pushed */
	size_t			 next;		/* put: next item in items */
	int			 stream;	/* put: frames of items follow */
	uint64_t		 nput;
	uint64_t		 ndropped;	/* put: lost to drop-newest */
	int			 waiting;	/* counted in nwaiting */
	char			*held;		/* get: item sent, not delivered */
	size_t			 held_len;
	struct wq_waiter	 waiter;
	void			*follow;	/* supervisor_follow token */
	void			*wait;		/* stop/restart/remove: a wait */
};

struct control {
	uv_loop_t		*loop;
	struct supervisor	*sv;
	/*
	 * The owner's entry point: a complete frame after the version line
	 * (the request, then a put stream's frames), m given to it. Returns
	 * 1 when the connection waits or was answered (read no further
	 * frames now), 0 to go on.
	 */
	int			(*dispatch)(struct conn *, struct ctl_msg *);
	uv_pipe_t		 listener;
	int			 listening;	/* listener handle open */
	char			*path;		/* absolute */
	char			*rbuf;		/* shared read buffer */
	int			 closing;
	TAILQ_HEAD(, conn)	 conns;
	size_t			 nconns;
	struct sampler		*sampler;	/* rates and metrics; or NULL */
	size_t			 nwaiting;	/* conns waiting on a queue or following */
};

/*
 * control.c: the transport. control_listen is control_start (control.h)
 * with the entry point that frames are handed to; then a connection's
 * replies, writes and reads.
 */
int	control_listen(uv_loop_t *, struct supervisor *, const char *path,
	    const char *manifest, int (*)(struct conn *, struct ctl_msg *),
	    struct control **, char **cause);
void	conn_finish(struct conn *, struct ctl_frame *);
void	conn_hold(struct conn *, struct ctl_frame *);
void	conn_fail_cause(struct conn *, char *);
void	conn_ok(struct conn *, const char *, const char *);
void	conn_flush(struct conn *);
void	conn_doom(struct conn *);
void	conn_read_pause(struct conn *);
void	conn_process(struct conn *);
int	conn_wait_begin(struct conn *);
void	conn_wait_end(struct conn *);
void	conn_watch_hangup(struct conn *);
size_t	conn_backlog(const struct conn *);

#endif
