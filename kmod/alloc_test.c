// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the CoW store allocator.
 */
#include <kunit/test.h>

#include "alloc.h"

static void ferry_alloc_skips_reserved_and_fills(struct kunit *test)
{
	struct ferry_alloc a;
	s64 c;
	int i;

	KUNIT_ASSERT_EQ(test, ferry_alloc_init(&a, 10, 2), 0);
	KUNIT_EXPECT_EQ(test, ferry_alloc_free(&a), 8ULL);
	for (i = 2; i < 10; i++) {
		c = ferry_alloc_get(&a);
		KUNIT_EXPECT_EQ(test, c, (s64)i);
	}
	KUNIT_EXPECT_EQ(test, ferry_alloc_get(&a), (s64)-ENOSPC);
	KUNIT_EXPECT_EQ(test, ferry_alloc_free(&a), 0ULL);
	ferry_alloc_destroy(&a);
}

static void ferry_alloc_reuses_freed_space(struct kunit *test)
{
	struct ferry_alloc a;
	int i;

	KUNIT_ASSERT_EQ(test, ferry_alloc_init(&a, 6, 1), 0);
	for (i = 0; i < 5; i++)
		KUNIT_ASSERT_GE(test, ferry_alloc_get(&a), (s64)1);
	ferry_alloc_put(&a, 3);
	ferry_alloc_put(&a, 1);
	KUNIT_EXPECT_EQ(test, ferry_alloc_free(&a), 2ULL);
	/* The search wraps around and finds both holes. */
	KUNIT_EXPECT_EQ(test, ferry_alloc_get(&a), (s64)1);
	KUNIT_EXPECT_EQ(test, ferry_alloc_get(&a), (s64)3);
	KUNIT_EXPECT_EQ(test, ferry_alloc_get(&a), (s64)-ENOSPC);
	ferry_alloc_destroy(&a);
}

static void ferry_alloc_mark_rejects_bad_chunks(struct kunit *test)
{
	struct ferry_alloc a;

	KUNIT_ASSERT_EQ(test, ferry_alloc_init(&a, 8, 1), 0);
	KUNIT_EXPECT_FALSE(test, ferry_alloc_mark(&a, 0));	/* header */
	KUNIT_EXPECT_FALSE(test, ferry_alloc_mark(&a, 8));	/* past end */
	KUNIT_EXPECT_TRUE(test, ferry_alloc_mark(&a, 5));
	KUNIT_EXPECT_FALSE(test, ferry_alloc_mark(&a, 5));	/* twice */
	KUNIT_EXPECT_EQ(test, ferry_alloc_free(&a), 6ULL);
	/* Marked chunks are not handed out. */
	KUNIT_EXPECT_EQ(test, ferry_alloc_get(&a), (s64)1);
	KUNIT_EXPECT_EQ(test, ferry_alloc_get(&a), (s64)2);
	KUNIT_EXPECT_EQ(test, ferry_alloc_get(&a), (s64)3);
	KUNIT_EXPECT_EQ(test, ferry_alloc_get(&a), (s64)4);
	KUNIT_EXPECT_EQ(test, ferry_alloc_get(&a), (s64)6);
	ferry_alloc_destroy(&a);
}

static void ferry_alloc_init_rejects_tiny_store(struct kunit *test)
{
	struct ferry_alloc a;

	KUNIT_EXPECT_EQ(test, ferry_alloc_init(&a, 1, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, ferry_alloc_init(&a, 0, 0), -EINVAL);
}

static struct kunit_case ferry_alloc_cases[] = {
	KUNIT_CASE(ferry_alloc_skips_reserved_and_fills),
	KUNIT_CASE(ferry_alloc_reuses_freed_space),
	KUNIT_CASE(ferry_alloc_mark_rejects_bad_chunks),
	KUNIT_CASE(ferry_alloc_init_rejects_tiny_store),
	{}
};

static struct kunit_suite ferry_alloc_suite = {
	.name = "ferry_alloc",
	.test_cases = ferry_alloc_cases,
};

kunit_test_suite(ferry_alloc_suite);
