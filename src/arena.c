/*
 * The arena: a list of blocks mapped with mmap, each allocation a bump of
 * a pointer, all of them unmapped at once. The arena's own struct lives in
 * its first block, so an arena is one page until it outgrows it. Knows
 * nothing of what it holds.
 */
#include "config.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arena.h"
#include "log.h"

/*
 * Under AddressSanitizer the blocks come from malloc instead, so that
 * LeakSanitizer reports an arena nobody freed (it does not see mmap), and
 * the unused part of a block and a gap after each allocation are
 * poisoned, so an overrun is caught as it would be between two mallocs.
 */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ASAN	1
#endif
#endif

#ifdef ARENA_ASAN
#include <sanitizer/asan_interface.h>
#define ARENA_REDZONE		16
#define ARENA_POISON(p, n)	ASAN_POISON_MEMORY_REGION((p), (n))
#define ARENA_UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define ARENA_REDZONE		0
#define ARENA_POISON(p, n)	((void)0)
#define ARENA_UNPOISON(p, n)	((void)0)
#endif

/*
 * Blocks double from one page, so a small manifest costs a page and a
 * large one a few dozen mappings; the cap bounds the unused tail of the
 * last block. An allocation larger than the next block gets one of its
 * own, and the current block stays in use for the small ones after it.
 */
#define ARENA_FIRST_BLOCK	4096
#define ARENA_MAX_BLOCK		(1024 * 1024)

struct arena_block {
	struct arena_block	*next;
	size_t			 size;	/* of the whole block, this included */
};

struct arena {
	struct arena_block	*blocks;	/* newest first; the last holds us */
	char			*cur;		/* free space of the current block */
	char			*end;
	size_t			 next_size;
	size_t			 used;		/* what arena_size says */
};

/* size rounded up to whole pages. */
static size_t
arena_round_pages(size_t size)
{
	long	pg = sysconf(_SC_PAGESIZE);
	size_t	page = pg > 0 ? (size_t)pg : 4096;

	if (size > SIZE_MAX - page)
		fatalx("arena: %zu bytes", size);
	return (size + page - 1) / page * page;
}

/* A zeroed block of size bytes from the system, linked into a. */
static struct arena_block *
arena_block_new(size_t size)
{
	struct arena_block	*b;

#ifdef ARENA_ASAN
	if ((b = calloc(1, size)) == NULL)
		fatal("arena: calloc %zu bytes", size);
	ARENA_POISON(b + 1, size - sizeof *b);
#else
	b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (b == MAP_FAILED)
		fatal("arena: mmap %zu bytes", size);
#endif
	b->size = size;
	return b;
}

/* Return a block to the system. */
static void
arena_block_free(struct arena_block *b)
{
#ifdef ARENA_ASAN
	ARENA_UNPOISON(b, b->size);
	free(b);
#else
	if (munmap(b, b->size) == -1)
		fatal("arena: munmap");
#endif
}

/* p rounded up to a multiple of align, or NULL past end. */
static char *
arena_align(char *p, char *end, size_t align)
{
	uintptr_t	u = (uintptr_t)p, r;

	r = (u + (align - 1)) & ~(uintptr_t)(align - 1);
	if (r < u || r > (uintptr_t)end)
		return NULL;
	return p + (r - u);
}

/* A new arena: its first block, holding the arena itself. */
struct arena *
arena_new(void)
{
	struct arena_block	*b;
	struct arena		*a;

	b = arena_block_new(ARENA_FIRST_BLOCK);
	a = (struct arena *)(b + 1);
	ARENA_UNPOISON(a, sizeof *a);
	a->blocks = b;
	a->cur = (char *)(a + 1);
	a->end = (char *)b + b->size;
	a->next_size = ARENA_FIRST_BLOCK * 2;
	a->used = sizeof *b + sizeof *a;
	return a;
}

/* Return every block; NULL is a no-op. */
void
arena_free(struct arena *a)
{
	struct arena_block	*b, *next;

	if (a == NULL)
		return;
	/* The last block holds a itself: read nothing of a after it. */
	for (b = a->blocks; b != NULL; b = next) {
		next = b->next;
		arena_block_free(b);
	}
}

/* Bump the current block, or start a new one when it is full. */
void *
arena_alloc(struct arena *a, size_t n, size_t size, size_t align)
{
	struct arena_block	*b;
	size_t			 len, need;
	char			*p;

	assert(align != 0 && (align & (align - 1)) == 0 &&
	    align <= ARENA_FIRST_BLOCK);
	if (size != 0 && n > SIZE_MAX / size)
		fatalx("arena: %zu x %zu bytes", n, size);
	len = n * size;
	p = arena_align(a->cur, a->end, align);
	if (p == NULL || len > SIZE_MAX - ARENA_REDZONE ||
	    (size_t)(a->end - p) < len + ARENA_REDZONE) {
		if (len > SIZE_MAX - sizeof *b - align - ARENA_REDZONE)
			fatalx("arena: %zu bytes", len);
		need = sizeof *b + align + len + ARENA_REDZONE;
		if (need > a->next_size) {
			/* Its own block; the current one keeps serving. */
			b = arena_block_new(arena_round_pages(need));
			b->next = a->blocks;
			a->blocks = b;
			p = arena_align((char *)(b + 1), (char *)b + b->size,
			    align);
			a->used += (size_t)(p - (char *)b) + len;
			ARENA_UNPOISON(p, len);
			return p;
		}
		b = arena_block_new(a->next_size);
		b->next = a->blocks;
		a->blocks = b;
		a->used += sizeof *b;
		a->cur = (char *)(b + 1);
		a->end = (char *)b + b->size;
		if (a->next_size < ARENA_MAX_BLOCK)
			a->next_size *= 2;
		p = arena_align(a->cur, a->end, align);
	}
	a->used += (size_t)(p - a->cur) + len;
	a->cur = p + len + ARENA_REDZONE;
	ARENA_UNPOISON(p, len);
	return p;
}

/* n bytes copied from p. */
void *
arena_memdup(struct arena *a, const void *p, size_t n)
{
	void	*q;

	q = arena_alloc(a, n, 1, 1);
	if (n > 0)
		memcpy(q, p, n);
	return q;
}

/* A copy of s, or NULL. */
char *
arena_strdup(struct arena *a, const char *s)
{
	if (s == NULL)
		return NULL;
	return arena_memdup(a, s, strlen(s) + 1);
}

/* Bytes handed out, padding and headers included. */
size_t
arena_size(const struct arena *a)
{
	return a->used;
}
