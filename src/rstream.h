/*
 * Pure helpers of the Redis-backed queues (issue 8): stream entry ids,
 * the names of keys and consumers, the URL as shown in messages, the
 * reading of server replies that need no connection, and the FIFO of ids
 * that ties each item handed out to its acknowledgement. Plain data: it
 * knows nothing of hiredis, sockets or libuv (redisq.c does).
 */
#ifndef PYT_RSTREAM_H
#define PYT_RSTREAM_H

#include <stddef.h>
#include <stdint.h>

struct buf;

/* "18446744073709551615-18446744073709551615" and its NUL. */
#define RSTREAM_ID_MAX		42

/* A stream entry id, MS-SEQ. {0, 0} is no id: an item already acknowledged. */
struct rstream_id {
	uint64_t	ms;
	uint64_t	seq;
};

/* Parse "MS-SEQ" (or "MS", SEQ 0) of len bytes; 0, or -1 when malformed. */
int		 rstream_id_parse(const char *, size_t, struct rstream_id *);
/* Write "MS-SEQ" into buf (RSTREAM_ID_MAX bytes are always enough). */
void		 rstream_id_format(const struct rstream_id *, char *, size_t);
int		 rstream_id_cmp(const struct rstream_id *,
		    const struct rstream_id *);
int		 rstream_id_is_none(const struct rstream_id *);

/* "HOST:PID:QUEUE", a consumer name unique to one supervisor (allocated). */
char		*rstream_consumer_name(const char *host, long pid,
		    const char *queue);
/* The hash of the producers of a stream: "STREAM:producers" (allocated). */
char		*rstream_registry_key(const char *stream);
/* url with any password shown as *** (allocated). */
char		*rstream_url_shown(const char *url);
/*
 * The version in the text of INFO server ("redis_version:7.0.15"); 0, or
 * -1 when absent. rstream_version_ok: at least 6.2 (XAUTOCLAIM).
 */
int		 rstream_parse_version(const char *info, unsigned *major,
		    unsigned *minor);
int		 rstream_version_ok(unsigned major, unsigned minor);
/* Delay before retry number attempt (0-based): initial doubled, capped. */
uint64_t	 rstream_backoff(unsigned attempt, uint64_t initial,
		    uint64_t max);

/* What an error reply of the server means to us. */
enum rstream_err {
	RSTREAM_ERR_OTHER,
	RSTREAM_ERR_AUTH,	/* wrong password, or one is needed: fatal */
	RSTREAM_ERR_LOADING,	/* the server is starting: retry */
	RSTREAM_ERR_BUSYGROUP,	/* the group exists already: fine */
	RSTREAM_ERR_NOGROUP,	/* group or stream gone (a restart): recreate */
	RSTREAM_ERR_WRONGTYPE,	/* the key is not a stream: fatal */
};
enum rstream_err rstream_classify_error(const char *);

/*
 * The ids of items in hand, oldest first, each with a count of bytes
 * (an inlet's item and its newline) still to be written. A ring that
 * grows; both ends are cheap.
 */
struct rstream_ent {
	struct rstream_id	id;
	size_t			left;
};

struct rstream_fifo {
	struct rstream_ent	*v;
	size_t			 head;
	size_t			 n;
	size_t			 cap;
};

void		 rstream_fifo_init(struct rstream_fifo *);
void		 rstream_fifo_release(struct rstream_fifo *);
size_t		 rstream_fifo_len(const struct rstream_fifo *);
/* The i-th entry from the head (i < len). */
struct rstream_ent *rstream_fifo_at(struct rstream_fifo *, size_t);
void		 rstream_fifo_push(struct rstream_fifo *,
		    const struct rstream_id *, size_t left);
void		 rstream_fifo_push_front(struct rstream_fifo *,
		    const struct rstream_id *, size_t left);
/* Remove the head into *out (may be NULL); -1 when empty. */
int		 rstream_fifo_pop(struct rstream_fifo *, struct rstream_ent *);
/* Remove the tail into *out (may be NULL); -1 when empty. */
int		 rstream_fifo_pop_back(struct rstream_fifo *,
		    struct rstream_ent *);
/*
 * n more bytes were written: take them off the head entries, oldest
 * first; each entry written whole is removed and passed to fn.
 */
void		 rstream_fifo_written(struct rstream_fifo *, size_t n,
		    void (*fn)(void *, const struct rstream_id *), void *arg);
/* Is id held (linear: the FIFOs are short, bounded by a window)? */
int		 rstream_fifo_has(const struct rstream_fifo *,
		    const struct rstream_id *);

/*
 * A stream entry holds one item (field "item") or several (fields "n",
 * their count, and "items", each item a netstring "LEN:BYTES,", in order).
 * rstream_ns_add appends one netstring to b. rstream_ns_next reads the
 * netstring at *off of p[0..len) into *item, *ilen and moves *off past
 * it: 0, 1 at the end, -1 when malformed.
 */
void		 rstream_ns_add(struct buf *, const void *, size_t);
int		 rstream_ns_next(const char *p, size_t len, size_t *off,
		    const char **item, size_t *ilen);

/*
 * The entries in hand, by id: how many of their items are still held
 * here (in the inbox, with a consumer, to give back), out of how many.
 * An entry is acknowledged when the last of its items is done; one whose
 * item was forgotten (a consumer gone with it unread) is left pending
 * instead, for claim_after, so that no item is lost. An open-addressing
 * hash; its size is bounded by the window of items fetched.
 */
struct rstream_ref {
	struct rstream_id	id;
	size_t			left;	/* items held; 0: free slot */
	size_t			total;	/* items of the entry */
	int			tainted;	/* an item was forgotten */
	int			returning;	/* an item was given back */
};

struct rstream_refs {
	struct rstream_ref	*v;
	size_t			 cap;	/* a power of two, or 0 */
	size_t			 n;
};

enum rstream_drop {
	RSTREAM_REF_HELD,	/* other items of the entry are still held */
	RSTREAM_REF_DONE,	/* the last: acknowledge the entry */
	RSTREAM_REF_LEAVE,	/* the last, but one was forgotten: leave it */
	RSTREAM_REF_UNKNOWN,	/* not held */
};

void		 rstream_refs_init(struct rstream_refs *);
void		 rstream_refs_release(struct rstream_refs *);
size_t		 rstream_refs_len(const struct rstream_refs *);
/* n items of entry id (of total items) came into our hands. */
void		 rstream_refs_add(struct rstream_refs *,
		    const struct rstream_id *, size_t n, size_t total);
struct rstream_ref *rstream_refs_find(struct rstream_refs *,
		    const struct rstream_id *);
/*
 * One item of id leaves our hands: done, or forgotten (forget set). When
 * it was the last, the entry is removed and *ref (may be NULL) gets a
 * copy of it.
 */
enum rstream_drop rstream_refs_drop(struct rstream_refs *,
		    const struct rstream_id *, int forget,
		    struct rstream_ref *ref);
/* Call fn with the id of every entry held, in no order. */
void		 rstream_refs_each(const struct rstream_refs *,
		    void (*fn)(void *, const struct rstream_id *), void *arg);

#endif
