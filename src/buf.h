/*
 * A growable byte buffer with a read offset, for building strings and
 * holding partial lines. Plain data: no I/O.
 */
#ifndef PYT_BUF_H
#define PYT_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 off;	/* first unconsumed byte */
	size_t	 len;	/* end of valid bytes */
	size_t	 cap;
};

void	 buf_init(struct buf *);
void	 buf_release(struct buf *);
void	 buf_reserve(struct buf *, size_t);
void	 buf_add(struct buf *, const void *, size_t);
void	 buf_addc(struct buf *, char);
void	 buf_adds(struct buf *, const char *);
void	 buf_addf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_consume(struct buf *, size_t);
void	 buf_clear(struct buf *);
size_t	 buf_used(const struct buf *);
const char *buf_ptr(const struct buf *);
/*
 * Append s as a JSON string: UTF-8 as it is, invalid bytes as \ufffd,
 * control characters escaped.
 */
void	 buf_add_json_string(struct buf *, const char *, size_t);
/* The same into out, at most cap bytes; no allocation. The bytes used. */
size_t	 buf_json_write(char *out, size_t cap, const char *, size_t);
/* NUL-terminate and hand the bytes to the caller, who frees them. */
char	*buf_steal(struct buf *);

#endif
