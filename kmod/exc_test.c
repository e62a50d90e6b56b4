// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the exception map, against a reference model: random
 * writes, snapshots and deletions, after each of which every live
 * snapshot must read back exactly what the volume held when it was taken,
 * and changed-block answers must match the model's.
 */
#include <kunit/test.h>
#include <linux/slab.h>

#include "exc.h"

#define NR_CHUNKS	16
#define MAX_SNAPS	64
#define MAX_COW		4096

struct model {
	struct ferry_excmap map;
	u32 cur;			/* epoch being written */
	u32 origin[NR_CHUNKS];		/* version of each chunk's content */
	u32 cow[MAX_COW];		/* version held by each CoW chunk */
	bool cow_used[MAX_COW];
	u64 nr_cow;
	u32 snap_epoch[MAX_SNAPS];
	u32 snap_data[MAX_SNAPS][NR_CHUNKS];
	bool snap_live[MAX_SNAPS];
	unsigned int nr_snaps;
	u32 live[MAX_SNAPS];		/* sorted live epochs */
	u32 version;
	u32 rng;
};

static u32 model_rand(struct model *m)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 17;
	m->rng ^= m->rng << 5;
	return m->rng;
}

static struct ferry_epochs model_live(struct model *m)
{
	struct ferry_epochs live = { .e = m->live, .n = 0 };
	unsigned int i;

	for (i = 0; i < m->nr_snaps; i++)
		if (m->snap_live[i])
			m->live[live.n++] = m->snap_epoch[i];
	return live;
}

static void model_put(void *arg, u64 cow_chunk)
{
	struct model *m = arg;

	m->cow_used[cow_chunk] = false;
	m->nr_cow--;
}

static void model_write(struct kunit *test, struct model *m, u64 c)
{
	struct ferry_epochs live = model_live(m);
	struct ferry_exc *e;
	u32 lo, hi;
	u64 slot;

	if (ferry_exc_need_copy(&m->map, c, m->cur, &live, &lo, &hi)) {
		for (slot = 0; slot < MAX_COW && m->cow_used[slot]; slot++)
			;
		KUNIT_ASSERT_LT(test, slot, (u64)MAX_COW);
		m->cow_used[slot] = true;
		m->cow[slot] = m->origin[c];
		m->nr_cow++;
		e = kzalloc(sizeof(*e), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, e);
		e->lo = lo;
		e->hi = hi;
		e->cow_chunk = slot;
		KUNIT_ASSERT_EQ(test,
				ferry_exc_insert(&m->map, c, e, GFP_KERNEL), 0);
	}
	ferry_written_set(&m->map, c, m->cur);
	m->origin[c] = ++m->version;
}

/* As the quiesce does: the oldest live epoch stays exact. */
static void model_snapshot(struct kunit *test, struct model *m)
{
	unsigned int i = m->nr_snaps++;
	struct ferry_epochs live;

	KUNIT_ASSERT_LT(test, i, (unsigned int)MAX_SNAPS);
	m->snap_epoch[i] = m->cur++;
	memcpy(m->snap_data[i], m->origin, sizeof(m->origin));
	m->snap_live[i] = true;
	live = model_live(m);
	KUNIT_ASSERT_EQ(test, ferry_excmap_advance(&m->map, m->cur,
						   live.e[0]), 0);
}

static void model_delete(struct model *m, unsigned int i)
{
	struct ferry_epochs live;

	m->snap_live[i] = false;
	live = model_live(m);
	ferry_exc_prune(&m->map, &live, model_put, m);
}

static void model_check(struct kunit *test, struct model *m)
{
	unsigned int i;
	u64 c, cow;

	for (i = 0; i < m->nr_snaps; i++) {
		if (!m->snap_live[i])
			continue;
		for (c = 0; c < NR_CHUNKS; c++) {
			u32 want = m->snap_data[i][c], got;

			switch (ferry_exc_lookup(&m->map, c, m->snap_epoch[i],
						 &cow)) {
			case FERRY_SRC_ORIGIN:
				got = m->origin[c];
				break;
			case FERRY_SRC_COW:
				KUNIT_ASSERT_TRUE(test, m->cow_used[cow]);
				got = m->cow[cow];
				break;
			default:
				KUNIT_FAIL(test, "snapshot %u chunk %llu lost",
					   i, c);
				return;
			}
			KUNIT_ASSERT_EQ_MSG(test, got, want,
					    "snapshot %u chunk %llu", i, c);
		}
	}
}

/* changed(since snapshot a, until snapshot b or now) against the model. */
static void model_check_changed(struct kunit *test, struct model *m,
				unsigned int a, int b)
{
	const u32 *until = b < 0 ? m->origin : m->snap_data[b];
	u32 until_epoch = b < 0 ? FERRY_EPOCH_NOW : m->snap_epoch[b];
	bool changed[NR_CHUNKS] = {};
	u64 c = 0, run;

	for (;;) {
		c = ferry_exc_next_changed(&m->map, c, m->snap_epoch[a],
					   until_epoch, &run);
		if (c >= NR_CHUNKS)
			break;
		KUNIT_ASSERT_GT(test, run, 0ULL);
		for (; run; run--, c++)
			changed[c] = true;
	}
	for (c = 0; c < NR_CHUNKS; c++) {
		bool truth = m->snap_data[a][c] != until[c];

		/* From before base the answer may name more, never less. */
		if (!m->map.w32 && m->snap_epoch[a] < m->map.base && !truth)
			continue;
		KUNIT_EXPECT_EQ_MSG(test, changed[c], truth,
				    "since %u until %d chunk %llu", a, b, c);
	}
}

static void model_check_all_changed(struct kunit *test, struct model *m)
{
	unsigned int a;
	int b;

	for (a = 0; a < m->nr_snaps; a++) {
		model_check_changed(test, m, a, -1);
		for (b = a + 1; b < m->nr_snaps; b++)
			if (m->snap_live[b])
				model_check_changed(test, m, a, b);
	}
}

static struct model *model_new(struct kunit *test, u32 seed)
{
	struct model *m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, m);
	KUNIT_ASSERT_EQ(test, ferry_excmap_init(&m->map, NR_CHUNKS), 0);
	m->cur = 1;
	m->rng = seed;
	return m;
}

static void model_free(struct model *m)
{
	ferry_excmap_destroy(&m->map, model_put, m);
}

/* 3000 random writes, snapshots and deletes, every snapshot checked. */
static void model_random_run(struct kunit *test, struct model *m)
{
	int step;

	for (step = 0; step < 3000; step++) {
		u32 r = model_rand(m) % 100;

		if (r < 80) {
			model_write(test, m, model_rand(m) % NR_CHUNKS);
		} else if (r < 90 && m->nr_snaps < MAX_SNAPS) {
			model_snapshot(test, m);
		} else if (m->nr_snaps) {
			unsigned int i = model_rand(m) % m->nr_snaps;

			if (m->snap_live[i])
				model_delete(m, i);
		}
		model_check(test, m);
	}
}

static void ferry_exc_random_against_model(struct kunit *test)
{
	struct model *m = model_new(test, 0x2545f491);

	model_random_run(test, m);
	model_free(m);
	/* Every CoW chunk was given back. */
	KUNIT_EXPECT_EQ(test, m->nr_cow, 0ULL);
}

static void ferry_exc_one_copy_for_many_snapshots(struct kunit *test)
{
	struct model *m = model_new(test, 7);
	u64 c;
	int i;

	for (c = 0; c < NR_CHUNKS; c++)
		model_write(test, m, c);
	for (i = 0; i < 8; i++)
		model_snapshot(test, m);
	for (c = 0; c < NR_CHUNKS; c++)
		model_write(test, m, c);
	/* Eight live snapshots, one copy per chunk. */
	KUNIT_EXPECT_EQ(test, m->nr_cow, (u64)NR_CHUNKS);
	KUNIT_EXPECT_EQ(test, m->map.nr_excs, (u64)NR_CHUNKS);
	/* A second write in the same epoch copies nothing. */
	model_write(test, m, 3);
	KUNIT_EXPECT_EQ(test, m->nr_cow, (u64)NR_CHUNKS);
	model_check(test, m);
	/* The copies go when the last snapshot needing them goes. */
	for (i = 0; i < 7; i++)
		model_delete(m, i);
	KUNIT_EXPECT_EQ(test, m->nr_cow, (u64)NR_CHUNKS);
	model_delete(m, 7);
	KUNIT_EXPECT_EQ(test, m->nr_cow, 0ULL);
	KUNIT_EXPECT_EQ(test, m->map.nr_excs, 0ULL);
	model_free(m);
}

static void ferry_exc_no_copy_without_snapshots(struct kunit *test)
{
	struct model *m = model_new(test, 9);
	u64 c;

	for (c = 0; c < NR_CHUNKS; c++)
		model_write(test, m, c);
	KUNIT_EXPECT_EQ(test, m->nr_cow, 0ULL);
	model_free(m);
}

static void ferry_exc_changed_matches_model(struct kunit *test)
{
	struct model *m = model_new(test, 0xdeadbeef);
	int step;

	for (step = 0; step < 400; step++) {
		if (model_rand(m) % 10 == 0 && m->nr_snaps < MAX_SNAPS)
			model_snapshot(test, m);
		else
			model_write(test, m, model_rand(m) % NR_CHUNKS);
		/* Delete some snapshots: "since" may name a deleted one. */
		if (m->nr_snaps > 3 && model_rand(m) % 7 == 0)
			model_delete(m, model_rand(m) % (m->nr_snaps - 2));
	}
	model_check_all_changed(test, m);
	model_free(m);
}

/*
 * @rounds of @writes random writes and a snapshot; the snapshots from
 * *@next on are deleted oldest first to keep two, older ones stay. Every
 * snapshot is checked after each round.
 */
static void model_rotate(struct kunit *test, struct model *m, int rounds,
			 int writes, unsigned int *next)
{
	int i, w;

	for (i = 0; i < rounds; i++) {
		for (w = 0; w < writes; w++)
			model_write(test, m, model_rand(m) % NR_CHUNKS);
		model_snapshot(test, m);
		if (m->nr_snaps - *next > 2)
			model_delete(m, (*next)++);
		model_check(test, m);
	}
}

/*
 * Two bytes per chunk: with a small span, base moves up as the oldest live
 * snapshot does, and every snapshot and changed-block answer stays right.
 */
static void ferry_exc_base_follows_oldest_snapshot(struct kunit *test)
{
	struct model *m = model_new(test, 0x9e3779b9);
	unsigned int oldest = 0;

	m->map.span = 6;
	model_rotate(test, m, 60, 2, &oldest);
	model_check_all_changed(test, m);
	KUNIT_EXPECT_GT(test, m->map.base, 40U);
	KUNIT_EXPECT_NULL(test, m->map.w32);
	KUNIT_EXPECT_EQ(test, ferry_excmap_bytes(&m->map),
			(u64)NR_CHUNKS * sizeof(u16));
	model_free(m);
}

/* A snapshot that outlives span / 2 later ones widens the map, exactly. */
static void ferry_exc_widens_for_an_old_snapshot(struct kunit *test)
{
	struct model *m = model_new(test, 0x85ebca6b);
	unsigned int next = 1;

	m->map.span = 6;
	model_write(test, m, 1);
	model_snapshot(test, m);	/* kept to the end */
	model_rotate(test, m, 40, 1, &next);
	model_check_all_changed(test, m);
	KUNIT_EXPECT_NOT_NULL(test, m->map.w32);
	KUNIT_EXPECT_EQ(test, ferry_excmap_bytes(&m->map),
			(u64)NR_CHUNKS * sizeof(u32));
	model_free(m);
}

/* The random reference model again, with the base moving or widened. */
static void ferry_exc_random_small_span(struct kunit *test)
{
	struct model *m = model_new(test, 0x27d4eb2f);

	m->map.span = 8;
	model_random_run(test, m);
	model_check_all_changed(test, m);
	model_free(m);
	KUNIT_EXPECT_EQ(test, m->nr_cow, 0ULL);
}

static void ferry_epochs_any_in_bounds(struct kunit *test)
{
	static const u32 e[] = { 2, 5, 9 };
	struct ferry_epochs live = { .e = e, .n = 3 };
	struct ferry_epochs none = { .e = e, .n = 0 };

	KUNIT_EXPECT_TRUE(test, ferry_epochs_any_in(&live, 0, 2));
	KUNIT_EXPECT_FALSE(test, ferry_epochs_any_in(&live, 0, 1));
	KUNIT_EXPECT_FALSE(test, ferry_epochs_any_in(&live, 3, 4));
	KUNIT_EXPECT_TRUE(test, ferry_epochs_any_in(&live, 3, 5));
	KUNIT_EXPECT_TRUE(test, ferry_epochs_any_in(&live, 9, 9));
	KUNIT_EXPECT_FALSE(test, ferry_epochs_any_in(&live, 10, U32_MAX));
	KUNIT_EXPECT_FALSE(test, ferry_epochs_any_in(&none, 0, U32_MAX));
}

static struct kunit_case ferry_exc_cases[] = {
	KUNIT_CASE(ferry_epochs_any_in_bounds),
	KUNIT_CASE(ferry_exc_no_copy_without_snapshots),
	KUNIT_CASE(ferry_exc_one_copy_for_many_snapshots),
	KUNIT_CASE(ferry_exc_random_against_model),
	KUNIT_CASE(ferry_exc_changed_matches_model),
	KUNIT_CASE(ferry_exc_base_follows_oldest_snapshot),
	KUNIT_CASE(ferry_exc_widens_for_an_old_snapshot),
	KUNIT_CASE(ferry_exc_random_small_span),
	{}
};

static struct kunit_suite ferry_exc_suite = {
	.name = "ferry_exc",
	.test_cases = ferry_exc_cases,
};

kunit_test_suite(ferry_exc_suite);
