/*
 * Unit tests of the arena: alignment, zeroed memory, allocations larger
 * than a block, many small ones across blocks, string copies, and freeing
 * (the sanitizer build runs these under LeakSanitizer, which sees the
 * arena's blocks there).
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"

/* Every allocation is aligned as asked, whatever came before it. */
static void
test_alignment(void **state)
{
	struct arena	*a = arena_new();
	size_t		 align, odd;
	char		*p;

	for (odd = 0; odd < 40; odd++) {
		(void)arena_alloc(a, odd, 1, 1);
		for (align = 1; align <= 64; align *= 2) {
			p = arena_alloc(a, 3, 1, align);
			assert_int_equal((uintptr_t)p % align, 0);
		}
	}
	p = (char *)ARENA_ARRAY(a, 5, uint64_t);
	assert_int_equal((uintptr_t)p % _Alignof(uint64_t), 0);
	p = (char *)ARENA_ARRAY(a, 1, max_align_t);
	assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
	arena_free(a);
}

/* Memory is zeroed, and no two allocations overlap. */
static void
test_zeroed_distinct(void **state)
{
	struct arena	*a = arena_new();
	unsigned char	*p[100];
	size_t		 i, j;

	for (i = 0; i < 100; i++) {
		p[i] = arena_alloc(a, i + 1, 1, 1);
		for (j = 0; j <= i; j++)
			assert_int_equal(p[i][j], 0);
		memset(p[i], (int)i + 1, i + 1);
	}
	for (i = 0; i < 100; i++)
		for (j = 0; j <= i; j++)
			assert_int_equal(p[i][j], i + 1);
	/* Nothing is a valid pointer too. */
	assert_non_null(arena_alloc(a, 0, 8, 8));
	arena_free(a);
}

/* An allocation larger than any block gets its own; small ones go on. */
static void
test_big(void **state)
{
	struct arena	*a = arena_new();
	size_t		 big = 3 * 1024 * 1024 + 7, i, before;
	unsigned char	*p, *q, *r;

	before = arena_size(a);
	q = arena_alloc(a, 10, 1, 1);
	p = arena_alloc(a, big, 1, 16);
	assert_int_equal((uintptr_t)p % 16, 0);
	assert_true(arena_size(a) >= before + big);
	for (i = 0; i < big; i += 4096)
		assert_int_equal(p[i], 0);
	assert_int_equal(p[big - 1], 0);
	memset(p, 0xaa, big);
	/* The small one after it comes from the same block as the first. */
	r = arena_alloc(a, 10, 1, 1);
	assert_true(r >= q + 10 && r < q + 64);
	memset(r, 0x55, 10);
	assert_int_equal(p[big - 1], 0xaa);
	/* Two in a row, each its own block. */
	p = arena_alloc(a, 2, 600 * 1024, 8);
	memset(p, 1, 2 * 600 * 1024);
	arena_free(a);
}

/* Many small allocations: blocks grow, contents stay. */
static void
test_many(void **state)
{
	struct arena	*a = arena_new();
	uint64_t	*v[20000];
	size_t		 i, size1, size;

	size1 = arena_size(a);
	assert_true(size1 <= 4096);
	for (i = 0; i < 20000; i++) {
		v[i] = ARENA_ARRAY(a, 3, uint64_t);
		v[i][0] = i;
		v[i][2] = ~(uint64_t)i;
	}
	for (i = 0; i < 20000; i++) {
		assert_int_equal(v[i][0], i);
		assert_int_equal(v[i][1], 0);
		assert_int_equal(v[i][2], ~(uint64_t)i);
	}
	/* 24 bytes each, no padding, and a header per block. */
	size = arena_size(a) - size1;
	assert_true(size >= 20000 * 24);
	assert_true(size < 20000 * 24 + 1024);
	arena_free(a);
}

/* Strings and bytes are copied; NULL stays NULL. */
static void
test_strings(void **state)
{
	struct arena	*a = arena_new();
	char		 buf[] = "hello";
	char		*s, *t;

	s = arena_strdup(a, buf);
	buf[0] = 'j';
	assert_string_equal(s, "hello");
	assert_ptr_not_equal(s, buf);
	assert_null(arena_strdup(a, NULL));
	s = arena_strdup(a, "");
	assert_string_equal(s, "");
	t = arena_memdup(a, "a\0b", 3);
	assert_memory_equal(t, "a\0b", 3);
	(void)arena_memdup(a, NULL, 0);
	arena_free(a);
}

/* Freeing NULL does nothing; a fresh arena frees. */
static void
test_free_null(void **state)
{
	arena_free(NULL);
	arena_free(arena_new());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_zeroed_distinct),
		cmocka_unit_test(test_big),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
