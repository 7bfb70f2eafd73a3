/*
 * One connection to a Redis server on hiredis, in the supervisor's loop:
 * its handshake (AUTH, SELECT, the creation of a consumer group), its
 * reconnection with a backoff, a watchdog on unanswered commands, and the
 * blocking check made at start-up. Knows nothing of queues: redisq.c
 * owns two of these per Redis queue. Only built with hiredis.
 */
#ifndef PYT_RCONN_H
#define PYT_RCONN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "manifest.h"

struct rconn;

/* One command in flight, and what its reply is for. */
struct rconn_cmd {
	struct rconn	*c;
	unsigned	 gen;	/* of c when sent */
	void		(*fn)(void *, struct rconn_cmd *, redisReply *);
	void		*arg;
	/* The caller's notes, for the reply; data is freed after it. */
	size_t		 n;
	size_t		 bytes;
	int		 flag;
	void		*data;
};

/* Arguments of one command, built up then handed (copied) to hiredis. */
struct rconn_argv {
	const char	**v;
	size_t		 *len;
	int		  n;
	int		  cap;
	char		  nums[6][24];	/* room for numbers */
	int		  nnums;
};

struct rconn {
	uv_loop_t		*loop;
	const struct redis_url	*ru;		/* borrowed */
	const char		*what;		/* for debug messages */
	const char		*stream;	/* XGROUP CREATE on connect, */
	const char		*group;		/* when both are set */
	uint64_t		 limit;		/* watchdog, ms */
	/* Ready after a (re)connection; gone, with what failed and why. */
	void			(*up_fn)(struct rconn *, void *);
	void			(*lost_fn)(struct rconn *, void *, const char *,
				    const char *);
	void			(*closed_fn)(void *);
	void			*arg;

	redisAsyncContext	*ac;		/* NULL: not connected */
	unsigned		 gen;		/* bumped when ac goes */
	int			 up;		/* handshake done */
	long long		 client_id;	/* CLIENT ID, or 0 */
	int			 opened;	/* ever asked to connect */
	int			 closing;
	unsigned		 attempts;
	size_t			 inflight;	/* commands unanswered */
	uint64_t		 sent_at;	/* of the oldest unanswered */
	uv_timer_t		 retry;
};

/* Set up c (not connected); rconn_close before its memory goes. */
void	rconn_init(struct rconn *, uv_loop_t *, const struct redis_url *,
	    const char *what, uint64_t limit, void *arg);
/* Neither connected nor waiting to retry. */
int	rconn_is_idle(const struct rconn *);
void	rconn_connect(struct rconn *);
/* Let the connection go (an error, no answer) and retry after a backoff. */
void	rconn_drop(struct rconn *, const char *what, const char *why);
/* Drop the connection if a command has waited more than its limit. */
void	rconn_watchdog(struct rconn *, uint64_t now);
/*
 * Send a; fn(arg, cmd, reply) is called once, with NULL when the
 * connection went first. NULL when the connection cannot take it.
 */
struct rconn_cmd *rconn_send(struct rconn *, void (*)(void *,
	    struct rconn_cmd *, redisReply *), void *arg, struct rconn_argv *);
/* Close for good: commands in flight are forgotten; closed_fn at the end. */
void	rconn_close(struct rconn *);

void	rconn_argv_init(struct rconn_argv *);
void	rconn_argv_add(struct rconn_argv *, const char *, size_t);
void	rconn_argv_adds(struct rconn_argv *, const char *);
void	rconn_argv_addu(struct rconn_argv *, uint64_t);
/* EVAL script nkeys, keys and arguments to follow. */
void	rconn_argv_eval(struct rconn_argv *, const char *script, int nkeys);
void	rconn_argv_release(struct rconn_argv *);

/*
 * At start-up: connect, blocking, retrying until timeout_ms; log in,
 * select the database, check the version (6.2 or later) and create the
 * group on stream. 0, or -1 and an allocated *cause that names url (the
 * URL as shown, password masked).
 */
int	rconn_check(const struct redis_url *, const char *url,
	    uint64_t timeout_ms, const char *stream, const char *group,
	    char **cause);

#endif
