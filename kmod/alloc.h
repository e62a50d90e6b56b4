/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry: space allocator of the CoW store, one bit per chunk.
 */
#ifndef FERRY_ALLOC_H
#define FERRY_ALLOC_H

#include <linux/types.h>

/*
 * Not locked: the owner (struct ferry_cow) serialises every call with its
 * map_lock.
 */
struct ferry_alloc {
	unsigned long *used;	/* bit per chunk of the store */
	u64 nr_chunks;		/* chunks in the store, reserved included */
	u64 reserved;		/* chunks 0..reserved-1: header, never given */
	u64 nr_used;		/* allocated chunks, reserved excluded */
	u64 hint;		/* where the next search starts (next fit) */
};

int ferry_alloc_init(struct ferry_alloc *a, u64 nr_chunks, u64 reserved);
void ferry_alloc_destroy(struct ferry_alloc *a);
/* Returns a free chunk number, or -ENOSPC. */
s64 ferry_alloc_get(struct ferry_alloc *a);
void ferry_alloc_put(struct ferry_alloc *a, u64 chunk);
/* Marks a chunk used (when loading metadata); false if out of range/used. */
bool ferry_alloc_mark(struct ferry_alloc *a, u64 chunk);
u64 ferry_alloc_free(const struct ferry_alloc *a);

#endif /* FERRY_ALLOC_H */
