/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry: the precise changed-block map. The epoch map (exc.h) says which
 * chunks changed; this map says which 4 KiB blocks inside them, so that a
 * small write costs its own size to replicate, not its chunk's. One bit per
 * block written in an epoch >= from; allocated one page (128 MiB of volume)
 * at a time as the volume is written, so 32 MiB per TiB at most.
 *
 * A chunk's bits are stale when its last write came before from: the first
 * write after that clears them (ferry_fine_restart_chunk), so moving from
 * forward costs nothing. Pure logic, KUnit-tested; the owner serialises
 * allocation, clearing and from (struct ferry_volume.map_lock); setting
 * bits in an allocated page is lock-free.
 */
#ifndef FERRY_FINE_H
#define FERRY_FINE_H

#include <linux/types.h>

#define FERRY_FINE_BLOCK_SHIFT 12	/* 4 KiB blocks */

struct ferry_fine {
	unsigned long **leaves;		/* PAGE_SIZE bytes of bits each */
	u64 nr_leaves;
	u64 nr_blocks;
	u64 nr_allocated;		/* leaves */
	unsigned int chunk_shift;	/* blocks per chunk, log2 */
	u32 from;			/* FERRY_EPOCH_NOW: not tracking */
};

int ferry_fine_init(struct ferry_fine *f, u64 nr_blocks,
		    unsigned int chunk_shift);
void ferry_fine_destroy(struct ferry_fine *f);

static inline bool ferry_fine_on(const struct ferry_fine *f)
{
	return READ_ONCE(f->from) != U32_MAX;
}

/*
 * Under the owner's lock: makes sure the pages for blocks [first, last]
 * exist; on failure the map stops tracking (until ferry_fine_start).
 */
int ferry_fine_prepare(struct ferry_fine *f, u64 first, u64 last, gfp_t gfp);
/* Under the owner's lock: forgets chunk @c's stale bits. */
void ferry_fine_restart_chunk(struct ferry_fine *f, u64 c);
/* Sets the bits of blocks [first, last] whose pages exist; lock-free. */
void ferry_fine_mark(struct ferry_fine *f, u64 first, u64 last);
/* Under the owner's lock: tracks writes in epochs >= @from from now on. */
void ferry_fine_start(struct ferry_fine *f, u32 from);
/*
 * Can the map tell, for chunks written after epoch @since, which blocks
 * changed since then?
 */
bool ferry_fine_covers(const struct ferry_fine *f, u32 since);
/*
 * The first block in [start, end) whose bit is @set; @end if there is
 * none. A missing page reads as all clear.
 */
u64 ferry_fine_next(const struct ferry_fine *f, u64 start, u64 end, bool set);

#endif /* FERRY_FINE_H */
