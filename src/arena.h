/*
 * A bump allocator freed all at once: many small objects with one owner
 * and one lifetime (a loaded manifest) cost no malloc header each, and
 * their blocks come from mmap, so they never pin the top of the malloc
 * heap. Allocation never fails: running out of memory is fatal.
 */
#ifndef PYT_ARENA_H
#define PYT_ARENA_H

#include <stddef.h>

struct arena;

/* A new, empty arena (owner: the caller; arena_free releases it). */
struct arena	*arena_new(void);
/* Free the arena and everything allocated from it; NULL is a no-op. */
void		 arena_free(struct arena *);
/*
 * n objects of size bytes, aligned to align (a power of two), zeroed.
 * n == 0 gives a valid pointer to nothing.
 */
void		*arena_alloc(struct arena *, size_t n, size_t size,
		    size_t align);
/* n bytes copied from p, unaligned. */
void		*arena_memdup(struct arena *, const void *p, size_t n);
/* A copy of s; NULL gives NULL, which suits optional fields. */
char		*arena_strdup(struct arena *, const char *s);
/*
 * Bytes handed out, alignment padding and the arena's own headers included
 * (not the sanitizer build's gaps, so the figure is the same). The blocks
 * mapped may be up to twice that, but what nothing was allocated in is
 * never touched, so it costs no memory.
 */
size_t		 arena_size(const struct arena *);

/* An array of n objects of type. */
#define ARENA_ARRAY(a, n, type) \
	((type *)arena_alloc((a), (n), sizeof(type), _Alignof(type)))

#endif
