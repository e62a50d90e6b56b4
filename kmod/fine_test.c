// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the precise changed-block map, against a model that
 * keeps the epoch of every block's last write.
 */
#include <kunit/test.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "fine.h"

#define LEAF_BITS (PAGE_SIZE * BITS_PER_BYTE)

/* A volume of 16-block chunks spanning three pages of bits. */
#define CHUNK_SHIFT 4
#define NR_BLOCKS (2 * LEAF_BITS + 100)
#define NR_CHUNKS DIV_ROUND_UP(NR_BLOCKS, 1 << CHUNK_SHIFT)

struct model {
	struct ferry_fine f;
	u32 *chunk_written;	/* the epoch map, per chunk */
	u32 *block_written;	/* the truth, per block */
	u32 epoch;
	u32 seed;
};

/* xorshift32: the same sequence on every run. */
static u32 model_rand(struct model *m, u32 below)
{
	m->seed ^= m->seed << 13;
	m->seed ^= m->seed >> 17;
	m->seed ^= m->seed << 5;
	return m->seed % below;
}

static void model_init(struct kunit *test, struct model *m)
{
	KUNIT_ASSERT_EQ(test, ferry_fine_init(&m->f, NR_BLOCKS, CHUNK_SHIFT),
			0);
	m->chunk_written = kunit_kcalloc(test, NR_CHUNKS, sizeof(u32),
					 GFP_KERNEL);
	m->block_written = kunit_kcalloc(test, NR_BLOCKS, sizeof(u32),
					 GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m->chunk_written);
	KUNIT_ASSERT_NOT_NULL(test, m->block_written);
	m->epoch = 1;
	m->seed = 0x9e3779b9;
}

/* The write path's protocol (cow.c) for blocks [first, last] of one chunk. */
static void model_write(struct model *m, u64 first, u64 last)
{
	u64 c = first >> CHUNK_SHIFT, b;

	if (ferry_fine_on(&m->f) && m->chunk_written[c] < m->f.from)
		ferry_fine_restart_chunk(&m->f, c);
	ferry_fine_prepare(&m->f, first, last, GFP_KERNEL);
	ferry_fine_mark(&m->f, first, last);
	m->chunk_written[c] = m->epoch;
	for (b = first; b <= last; b++)
		m->block_written[b] = m->epoch;
}

/*
 * For every chunk changed since @since, the map must name every block
 * written after @since: nothing may be missed. With @exact, it must name
 * nothing else either.
 */
static void model_check(struct kunit *test, struct model *m, u32 since,
			bool exact)
{
	u64 c, b;

	KUNIT_ASSERT_TRUE(test, ferry_fine_covers(&m->f, since));
	for (c = 0; c < NR_CHUNKS; c++) {
		u64 end = min_t(u64, (c + 1) << CHUNK_SHIFT, NR_BLOCKS);

		if (m->chunk_written[c] <= since)
			continue;
		for (b = c << CHUNK_SHIFT; b < end; b++) {
			bool set = ferry_fine_next(&m->f, b, b + 1, true) == b;

			if (m->block_written[b] > since)
				KUNIT_ASSERT_TRUE_MSG(test, set,
						      "block %llu missed", b);
			if (set && exact)
				KUNIT_ASSERT_GT_MSG(test, m->block_written[b],
						    since, "block %llu stale", b);
		}
	}
}

static void ferry_fine_matches_model(struct kunit *test)
{
	struct model m;
	u32 round, i;

	model_init(test, &m);
	ferry_fine_start(&m.f, m.epoch);
	for (round = 0; round < 60; round++) {
		for (i = 0; i < 200; i++) {
			u64 c = model_rand(&m, NR_CHUNKS);
			u64 first = (c << CHUNK_SHIFT) +
				    model_rand(&m, 1 << CHUNK_SHIFT);
			u64 last = min_t(u64, first + model_rand(&m, 4),
					 ((c + 1) << CHUNK_SHIFT) - 1);

			if (last >= NR_BLOCKS)
				continue;
			model_write(&m, first, last);
		}
		/* A snapshot closes the epoch; sometimes the base moves up. */
		m.epoch++;
		if (model_rand(&m, 3) == 0)
			ferry_fine_start(&m.f, m.epoch - model_rand(&m, 2));
		model_check(test, &m, m.f.from - 1, false);
		model_check(test, &m, m.epoch - 1, false);
	}
	ferry_fine_destroy(&m.f);
}

/*
 * Replication's rhythm: a point is taken, sent, acknowledged and deleted
 * (so the map starts from it) before the next writes. Then the map names
 * exactly the blocks written since the point.
 */
static void ferry_fine_exact_after_each_point(struct kunit *test)
{
	struct model m;
	u32 round, i;

	model_init(test, &m);
	ferry_fine_start(&m.f, m.epoch);
	for (round = 0; round < 40; round++) {
		for (i = 0; i < 150; i++) {
			u64 b = model_rand(&m, NR_BLOCKS);

			model_write(&m, b, b);
		}
		m.epoch++;
		ferry_fine_start(&m.f, m.epoch);
		model_check(test, &m, m.epoch - 1, false);
		for (i = 0; i < 150; i++) {
			u64 b = model_rand(&m, NR_BLOCKS);

			model_write(&m, b, b);
		}
		model_check(test, &m, m.epoch - 1, true);
	}
	ferry_fine_destroy(&m.f);
}

static void ferry_fine_next_spans_pages(struct kunit *test)
{
	struct ferry_fine f;

	KUNIT_ASSERT_EQ(test, ferry_fine_init(&f, NR_BLOCKS, CHUNK_SHIFT), 0);
	ferry_fine_start(&f, 1);
	/* Nothing allocated: all clear, and marks without a page are lost. */
	ferry_fine_mark(&f, 5, 5);
	KUNIT_EXPECT_EQ(test, ferry_fine_next(&f, 0, NR_BLOCKS, true),
			(u64)NR_BLOCKS);
	KUNIT_EXPECT_EQ(test, ferry_fine_next(&f, 7, NR_BLOCKS, false), 7ULL);
	KUNIT_EXPECT_EQ(test, f.nr_allocated, 0ULL);

	KUNIT_ASSERT_EQ(test, ferry_fine_prepare(&f, LEAF_BITS - 2,
						 LEAF_BITS + 1, GFP_KERNEL),
			0);
	KUNIT_EXPECT_EQ(test, f.nr_allocated, 2ULL);
	ferry_fine_mark(&f, LEAF_BITS - 2, LEAF_BITS + 1);
	KUNIT_EXPECT_EQ(test, ferry_fine_next(&f, 0, NR_BLOCKS, true),
			(u64)LEAF_BITS - 2);
	KUNIT_EXPECT_EQ(test, ferry_fine_next(&f, LEAF_BITS - 2, NR_BLOCKS,
					      false),
			(u64)LEAF_BITS + 2);
	/* The last page is missing: a search into it ends at the end. */
	KUNIT_EXPECT_EQ(test, ferry_fine_next(&f, LEAF_BITS + 2, NR_BLOCKS,
					      true),
			(u64)NR_BLOCKS);
	/* Restarting a chunk clears only that chunk. */
	ferry_fine_restart_chunk(&f, (LEAF_BITS - 2) >> CHUNK_SHIFT);
	KUNIT_EXPECT_EQ(test, ferry_fine_next(&f, 0, NR_BLOCKS, true),
			(u64)LEAF_BITS);
	ferry_fine_destroy(&f);
}

static void ferry_fine_covers_only_since_start(struct kunit *test)
{
	struct ferry_fine f;

	KUNIT_ASSERT_EQ(test, ferry_fine_init(&f, 64, CHUNK_SHIFT), 0);
	KUNIT_EXPECT_FALSE(test, ferry_fine_covers(&f, 3));	/* off */
	ferry_fine_start(&f, 5);
	KUNIT_EXPECT_FALSE(test, ferry_fine_covers(&f, 3));
	KUNIT_EXPECT_TRUE(test, ferry_fine_covers(&f, 4));
	KUNIT_EXPECT_TRUE(test, ferry_fine_covers(&f, 9));
	ferry_fine_start(&f, 0);
	KUNIT_EXPECT_TRUE(test, ferry_fine_covers(&f, 0));
	ferry_fine_destroy(&f);
}

static struct kunit_case ferry_fine_cases[] = {
	KUNIT_CASE(ferry_fine_matches_model),
	KUNIT_CASE(ferry_fine_exact_after_each_point),
	KUNIT_CASE(ferry_fine_next_spans_pages),
	KUNIT_CASE(ferry_fine_covers_only_since_start),
	{}
};

static struct kunit_suite ferry_fine_suite = {
	.name = "ferry_fine",
	.test_cases = ferry_fine_cases,
};

kunit_test_suite(ferry_fine_suite);
