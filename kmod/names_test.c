// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for ferry's name and size validation.
 */
#include <kunit/test.h>
#include <linux/ferry.h>

#include "names.h"

static void ferry_name_accepts_portable_names(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, ferry_name_valid("v0"));
	KUNIT_EXPECT_TRUE(test, ferry_name_valid("db-data_1.vol"));
	KUNIT_EXPECT_TRUE(test, ferry_name_valid("A"));
	/* exactly FERRY_NAME_MAX characters */
	KUNIT_EXPECT_TRUE(test,
			  ferry_name_valid("abcdefghijklmnopqrstuvwxyz01234"));
}

static void ferry_name_rejects_bad_names(struct kunit *test)
{
	KUNIT_EXPECT_FALSE(test, ferry_name_valid(NULL));
	KUNIT_EXPECT_FALSE(test, ferry_name_valid(""));
	KUNIT_EXPECT_FALSE(test, ferry_name_valid(".hidden"));
	KUNIT_EXPECT_FALSE(test, ferry_name_valid("-o"));
	KUNIT_EXPECT_FALSE(test, ferry_name_valid("a/b"));
	KUNIT_EXPECT_FALSE(test, ferry_name_valid("a b"));
	KUNIT_EXPECT_FALSE(test, ferry_name_valid("tab\t"));
	KUNIT_EXPECT_FALSE(test, ferry_name_valid("caf\xc3\xa9"));
	/* one more than FERRY_NAME_MAX */
	KUNIT_EXPECT_FALSE(test,
			   ferry_name_valid("abcdefghijklmnopqrstuvwxyz012345"));
}

static void ferry_chunk_size_bounds(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, ferry_chunk_size_valid(4096));
	KUNIT_EXPECT_TRUE(test, ferry_chunk_size_valid(FERRY_CHUNK_DEFAULT));
	KUNIT_EXPECT_TRUE(test, ferry_chunk_size_valid(1024 * 1024));
	KUNIT_EXPECT_FALSE(test, ferry_chunk_size_valid(0));
	KUNIT_EXPECT_FALSE(test, ferry_chunk_size_valid(2048));
	KUNIT_EXPECT_FALSE(test, ferry_chunk_size_valid(2 * 1024 * 1024));
	KUNIT_EXPECT_FALSE(test, ferry_chunk_size_valid(12288));
	KUNIT_EXPECT_FALSE(test, ferry_chunk_size_valid(U32_MAX));
}

static struct kunit_case ferry_names_cases[] = {
	KUNIT_CASE(ferry_name_accepts_portable_names),
	KUNIT_CASE(ferry_name_rejects_bad_names),
	KUNIT_CASE(ferry_chunk_size_bounds),
	{}
};

static struct kunit_suite ferry_names_suite = {
	.name = "ferry_names",
	.test_cases = ferry_names_cases,
};

kunit_test_suite(ferry_names_suite);

MODULE_LICENSE("GPL");
