// SPDX-License-Identifier: GPL-2.0
/*
 * ferry: the precise changed-block map (see fine.h).
 */
#include <linux/bitops.h>
#include <linux/bitmap.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "fine.h"

#define FERRY_FINE_LEAF_BITS (PAGE_SIZE * BITS_PER_BYTE)

int ferry_fine_init(struct ferry_fine *f, u64 nr_blocks,
		    unsigned int chunk_shift)
{
	f->nr_blocks = nr_blocks;
	f->nr_leaves = DIV_ROUND_UP_ULL(nr_blocks, FERRY_FINE_LEAF_BITS);
	f->nr_allocated = 0;
	f->chunk_shift = chunk_shift;
	f->from = U32_MAX;
	f->leaves = kvcalloc(f->nr_leaves, sizeof(*f->leaves), GFP_KERNEL);
	return f->leaves ? 0 : -ENOMEM;
}

void ferry_fine_destroy(struct ferry_fine *f)
{
	u64 i;

	for (i = 0; f->leaves && i < f->nr_leaves; i++)
		free_page((unsigned long)f->leaves[i]);
	kvfree(f->leaves);
	f->leaves = NULL;
}

int ferry_fine_prepare(struct ferry_fine *f, u64 first, u64 last, gfp_t gfp)
{
	u64 i;

	if (!ferry_fine_on(f))
		return 0;
	for (i = first / FERRY_FINE_LEAF_BITS; i <= last / FERRY_FINE_LEAF_BITS;
	     i++) {
		unsigned long *leaf;

		if (f->leaves[i])
			continue;
		leaf = (unsigned long *)get_zeroed_page(gfp);
		if (!leaf) {
			/* Nothing is lost: changed chunks are then sent whole. */
			WRITE_ONCE(f->from, U32_MAX);
			return -ENOMEM;
		}
		/* Lock-free markers test the pointer; publish a cleared page. */
		smp_store_release(&f->leaves[i], leaf);
		f->nr_allocated++;
	}
	return 0;
}

static void ferry_fine_assign(struct ferry_fine *f, u64 first, u64 last,
			      bool set)
{
	u64 b;

	for (b = first; b <= last && b < f->nr_blocks; b++) {
		unsigned long *leaf;

		/* Pairs with the release in prepare: a page is seen cleared. */
		leaf = smp_load_acquire(&f->leaves[b / FERRY_FINE_LEAF_BITS]);

		if (!leaf) {
			/* Skip the rest of a missing page. */
			b = round_up(b + 1, FERRY_FINE_LEAF_BITS) - 1;
			continue;
		}
		if (set)
			set_bit(b % FERRY_FINE_LEAF_BITS, leaf);
		else
			clear_bit(b % FERRY_FINE_LEAF_BITS, leaf);
	}
}

void ferry_fine_restart_chunk(struct ferry_fine *f, u64 c)
{
	u64 first = c << f->chunk_shift;

	ferry_fine_assign(f, first, first + (1ULL << f->chunk_shift) - 1,
			  false);
}

void ferry_fine_mark(struct ferry_fine *f, u64 first, u64 last)
{
	if (ferry_fine_on(f))
		ferry_fine_assign(f, first, last, true);
}

void ferry_fine_start(struct ferry_fine *f, u32 from)
{
	WRITE_ONCE(f->from, from);
}

bool ferry_fine_covers(const struct ferry_fine *f, u32 since)
{
	u32 from = READ_ONCE(f->from);

	/* Changes since epoch @since are the writes in epochs >= since + 1. */
	return from != U32_MAX && (u64)since + 1 >= from;
}

u64 ferry_fine_next(const struct ferry_fine *f, u64 start, u64 end, bool set)
{
	u64 b = start;

	end = min(end, f->nr_blocks);
	while (b < end) {
		u64 leaf_no = b / FERRY_FINE_LEAF_BITS;
		u64 base = leaf_no * FERRY_FINE_LEAF_BITS;
		unsigned long lim = min_t(u64, end - base, FERRY_FINE_LEAF_BITS);
		/* Pairs with the release in prepare. */
		unsigned long *leaf = smp_load_acquire(&f->leaves[leaf_no]);
		unsigned long hit;

		if (!leaf) {
			if (!set)
				return b;
			b = base + lim;
			continue;
		}
		hit = set ? find_next_bit(leaf, lim, b - base) :
			    find_next_zero_bit(leaf, lim, b - base);
		if (hit < lim)
			return base + hit;
		b = base + lim;
	}
	return end;
}
