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

/*
 * Not locked: the owner serialises changes (struct ferry_cow.map_lock).
 *
 * Per chunk, the epoch of its last write ("written"): base + w16[c], two
 * bytes a chunk, while the epochs that still matter lie within span of
 * base; else w32[c], four bytes, from the moment a snapshot outlives
 * span / 2 later ones (ferry_excmap_advance). Epochs older than every one
 * that matters are kept as base: nothing can tell them apart any more,
 * and changed-block queries from before base answer a superset.
 */
struct ferry_excmap {
	u64 nr_chunks;		/* chunks of the origin */
	u16 *w16;		/* per chunk: last write's epoch - base */
	u32 *w32;		/* ... or the epoch itself, once widened */
	u32 base;
	u32 span;		/* largest w16 value: U16_MAX (tests: less) */
	struct xarray excs;	/* chunk -> newest struct ferry_exc */
	u64 nr_excs;
};

/* Epoch of chunk @c's last write; lock-free on the write fast path. */
static inline u32 ferry_written(const struct ferry_excmap *m, u64 c)
{
	if (m->w32)
		return READ_ONCE(m->w32[c]);
	return m->base + READ_ONCE(m->w16[c]);
}

/* @e is the current epoch, or one not older than base. */
static inline void ferry_written_set(struct ferry_excmap *m, u64 c, u32 e)
{
	if (m->w32)
		WRITE_ONCE(m->w32[c], e);
	else
		WRITE_ONCE(m->w16[c], e - m->base);
}

/*
 * Before writing goes on in epoch @next, while no write runs: keeps every
 * epoch from @floor on (the oldest live snapshot's, say) exact. Moves base
 * up, or widens the map to four bytes a chunk if @floor is too old; only
 * the widening allocates (-ENOMEM).
 */
int ferry_excmap_advance(struct ferry_excmap *m, u32 next, u32 floor);
/* Bytes the per-chunk epochs take. */
u64 ferry_excmap_bytes(const struct ferry_excmap *m);

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
