// SPDX-License-Identifier: GPL-2.0
/*
 * ferry: space allocator of the CoW store.
 *
 * A bitmap with a next-fit hint: chunks are handed out roughly in order,
 * which keeps preserved data sequential on the store, and chunks freed by
 * deleted snapshots are found again when the search wraps around.
 */
#include <linux/bitmap.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "alloc.h"

int ferry_alloc_init(struct ferry_alloc *a, u64 nr_chunks, u64 reserved)
{
	if (reserved >= nr_chunks || nr_chunks > ULONG_MAX)
		return -EINVAL;
	a->used = kvcalloc(BITS_TO_LONGS(nr_chunks), sizeof(long), GFP_KERNEL);
	if (!a->used)
		return -ENOMEM;
	bitmap_set(a->used, 0, reserved);
	a->nr_chunks = nr_chunks;
	a->reserved = reserved;
	a->nr_used = 0;
	a->hint = reserved;
	return 0;
}

void ferry_alloc_destroy(struct ferry_alloc *a)
{
	kvfree(a->used);
	a->used = NULL;
}

s64 ferry_alloc_get(struct ferry_alloc *a)
{
	unsigned long bit;

	bit = find_next_zero_bit(a->used, a->nr_chunks, a->hint);
	if (bit >= a->nr_chunks)
		bit = find_next_zero_bit(a->used, a->nr_chunks, a->reserved);
	if (bit >= a->nr_chunks)
		return -ENOSPC;
	__set_bit(bit, a->used);
	a->nr_used++;
	a->hint = bit + 1;
	return bit;
}

void ferry_alloc_put(struct ferry_alloc *a, u64 chunk)
{
	if (WARN_ON(chunk < a->reserved || chunk >= a->nr_chunks ||
		    !test_bit(chunk, a->used)))
		return;
	__clear_bit(chunk, a->used);
	a->nr_used--;
}

bool ferry_alloc_mark(struct ferry_alloc *a, u64 chunk)
{
	if (chunk < a->reserved || chunk >= a->nr_chunks ||
	    test_bit(chunk, a->used))
		return false;
	__set_bit(chunk, a->used);
	a->nr_used++;
	return true;
}

u64 ferry_alloc_free(const struct ferry_alloc *a)
{
	return a->nr_chunks - a->reserved - a->nr_used;
}
