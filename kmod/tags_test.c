// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for snapshot tags.
 */
#include <kunit/test.h>
#include <linux/string.h>

#include "tags.h"

static void ferry_tag_check_validates(struct kunit *test)
{
	char key[FERRY_TAG_KEY_MAX + 3], val[FERRY_TAG_VALUE_MAX + 4];

	KUNIT_EXPECT_EQ(test, ferry_tag_check("drill=requested"), 5);
	KUNIT_EXPECT_EQ(test, ferry_tag_check("drill.result=pass"), 12);
	KUNIT_EXPECT_EQ(test, ferry_tag_check("k="), 1);
	KUNIT_EXPECT_EQ(test, ferry_tag_check("note=a b:c/d"), 4);
	KUNIT_EXPECT_LT(test, ferry_tag_check("novalue"), 0);
	KUNIT_EXPECT_LT(test, ferry_tag_check("=v"), 0);
	KUNIT_EXPECT_LT(test, ferry_tag_check("a b=v"), 0);
	KUNIT_EXPECT_LT(test, ferry_tag_check("k=line\nbreak"), 0);
	KUNIT_EXPECT_LT(test, ferry_tag_check("k=\x7f"), 0);

	memset(key, 'k', sizeof(key));
	key[FERRY_TAG_KEY_MAX] = '=';
	key[FERRY_TAG_KEY_MAX + 1] = 0;
	KUNIT_EXPECT_EQ(test, ferry_tag_check(key), FERRY_TAG_KEY_MAX);
	key[FERRY_TAG_KEY_MAX] = 'k';
	key[FERRY_TAG_KEY_MAX + 1] = '=';
	key[FERRY_TAG_KEY_MAX + 2] = 0;
	KUNIT_EXPECT_LT(test, ferry_tag_check(key), 0);

	val[0] = 'k';
	val[1] = '=';
	memset(val + 2, 'v', FERRY_TAG_VALUE_MAX);
	val[FERRY_TAG_VALUE_MAX + 2] = 0;
	KUNIT_EXPECT_EQ(test, ferry_tag_check(val), 1);
	val[FERRY_TAG_VALUE_MAX + 2] = 'v';
	val[FERRY_TAG_VALUE_MAX + 3] = 0;
	KUNIT_EXPECT_LT(test, ferry_tag_check(val), 0);
}

static void ferry_tags_set_replace_remove(struct kunit *test)
{
	struct ferry_tags t = {};

	KUNIT_ASSERT_EQ(test, ferry_tags_apply(&t, "a=1", GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, ferry_tags_apply(&t, "ab=2", GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, ferry_tags_apply(&t, "a=3", GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, t.n, 2U);
	KUNIT_EXPECT_STREQ(test, t.kv[0], "a=3");
	KUNIT_EXPECT_STREQ(test, t.kv[1], "ab=2");
	/* Removing "a" leaves "ab" (prefix keys are distinct). */
	KUNIT_ASSERT_EQ(test, ferry_tags_apply(&t, "a=", GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, t.n, 1U);
	KUNIT_EXPECT_STREQ(test, t.kv[0], "ab=2");
	/* Removing an absent key is not an error. */
	KUNIT_EXPECT_EQ(test, ferry_tags_apply(&t, "zz=", GFP_KERNEL), 0);
	KUNIT_EXPECT_LT(test, ferry_tags_apply(&t, "bad key=1", GFP_KERNEL),
			0);
	ferry_tags_clear(&t);
	KUNIT_EXPECT_EQ(test, t.n, 0U);
}

static void ferry_tags_bounded(struct kunit *test)
{
	struct ferry_tags t = {};
	char kv[16];
	int i;

	for (i = 0; i < FERRY_TAGS_MAX; i++) {
		snprintf(kv, sizeof(kv), "k%d=v", i);
		KUNIT_ASSERT_EQ(test, ferry_tags_apply(&t, kv, GFP_KERNEL), 0);
	}
	KUNIT_EXPECT_EQ(test, ferry_tags_apply(&t, "one=more", GFP_KERNEL),
			-ENOSPC);
	/* Replacing an existing key still works when full. */
	KUNIT_EXPECT_EQ(test, ferry_tags_apply(&t, "k3=w", GFP_KERNEL), 0);
	ferry_tags_clear(&t);
}

static struct kunit_case ferry_tags_cases[] = {
	KUNIT_CASE(ferry_tag_check_validates),
	KUNIT_CASE(ferry_tags_set_replace_remove),
	KUNIT_CASE(ferry_tags_bounded),
	{}
};

static struct kunit_suite ferry_tags_suite = {
	.name = "ferry_tags",
	.test_cases = ferry_tags_cases,
};

kunit_test_suite(ferry_tags_suite);
