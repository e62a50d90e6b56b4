/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry: the exception map: which chunk copies in the CoW store serve which
 * snapshots, and the epoch of every chunk's last write (which is also the
 * changed-block map). Pure logic, KUnit-tested.
 *
 * Epochs: the volume writes in epoch E; a snapshot taken at that moment
 * closes E (its epoch is E) and writing goes on in E + 1. A snapshot with
 * epoch s sees a chunk as last written in an epoch <= s.
 */
#ifndef FERRY_EXC_H
#define FERRY_EXC_H

#include <linux/types.h>
#include <linux/xarray.h>

/* One preserved copy of a chunk, shared by every snapshot it serves. */
struct ferry_exc {
	struct ferry_exc *next;	/* older copy of the same chunk */
	u32 lo;			/* the copied data was written in epoch lo */
	u32 hi;			/* ... and overwritten in epoch hi + 1 */
	u64 cow_chunk;		/* where it is in the CoW store */
};

/* Not locked: the owner serialises changes (struct ferry_cow.map_lock). */
struct ferry_excmap {
	u64 nr_chunks;		/* chunks of the origin */
	u32 *written;		/* per chunk: epoch of its last write */
	struct xarray excs;	/* chunk -> newest struct ferry_exc */
	u64 nr_excs;
};

/* Live snapshot epochs, sorted ascending. */
struct ferry_epochs {
	const u32 *e;
	unsigned int n;
};

#define FERRY_EPOCH_NOW U32_MAX

int ferry_excmap_init(struct ferry_excmap *m, u64 nr_chunks);
/* Frees every exception, calling put(arg, cow_chunk) for each. */
void ferry_excmap_destroy(struct ferry_excmap *m,
			  void (*put)(void *arg, u64 cow_chunk), void *arg);

bool ferry_epochs_any_in(const struct ferry_epochs *live, u32 lo, u32 hi);

/*
 * Must chunk @c be preserved before its first write in epoch @cur?
 * If so, *lo and *hi are the epochs the copy will serve.
 */
bool ferry_exc_need_copy(struct ferry_excmap *m, u64 c, u32 cur,
			 const struct ferry_epochs *live, u32 *lo, u32 *hi);
/* Links a copy in as the newest of its chunk. */
int ferry_exc_insert(struct ferry_excmap *m, u64 c, struct ferry_exc *e,
		     gfp_t gfp);

enum ferry_src {
	FERRY_SRC_ORIGIN,	/* the snapshot's data is still in the origin */
	FERRY_SRC_COW,		/* ... in the CoW store at *cow_chunk */
	FERRY_SRC_LOST,		/* no copy: the snapshot is not valid */
	FERRY_SRC_COPYING,	/* cow.c: being copied, the origin rewritten */
};

enum ferry_src ferry_exc_lookup(struct ferry_excmap *m, u64 c, u32 s,
				u64 *cow_chunk);

/*
 * Frees the copies no live snapshot needs any more; returns how many.
 */
u64 ferry_exc_prune(struct ferry_excmap *m, const struct ferry_epochs *live,
		    void (*put)(void *arg, u64 cow_chunk), void *arg);

/*
 * Changed-block query: the first chunk at or after @start whose content as
 * of snapshot epoch @until (FERRY_EPOCH_NOW: the origin now) was written
 * after epoch @since; *run is set to the number of consecutive changed
 * chunks from there. Returns m->nr_chunks when there is none.
 */
u64 ferry_exc_next_changed(struct ferry_excmap *m, u64 start,
			   u32 since, u32 until, u64 *run);

#endif /* FERRY_EXC_H */
