/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry: shared declarations of the kernel module.
 */
#ifndef FERRY_H
#define FERRY_H

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/uuid.h>
#include <linux/xarray.h>
#include <net/genetlink.h>
#include <linux/ferry.h>

#include "compat.h"
#include "alloc.h"
#include "exc.h"
#include "fine.h"
#include "tags.h"

/*
 * Counts the opens of a disk (a volume or a snapshot) so that it can be
 * removed only when unused: once closing, new opens fail.
 */
struct ferry_opener {
	struct mutex lock;		/* protects count and closing */
	unsigned int count;
	bool closing;
};

void ferry_opener_init(struct ferry_opener *o);
int ferry_opener_get(struct ferry_opener *o);
void ferry_opener_put(struct ferry_opener *o);
unsigned int ferry_opener_count(struct ferry_opener *o);
int ferry_opener_close(struct ferry_opener *o);
void ferry_opener_reopen(struct ferry_opener *o);

/* Per-volume I/O counters, indexed by enum ferry_stat. */
struct ferry_stats {
	atomic64_t v[__FERRY_STAT_MAX];
};

/*
 * One attached volume: /dev/ferryN stacked on a data device, with a CoW
 * store device held for snapshots.
 *
 * Lifetime: created and destroyed by ferry_volume_attach()/_detach()
 * under ferry_volumes_lock; everything but opens, the gate, the maps
 * and the counters is fixed while the volume is on the list.
 */
struct ferry_volume {
	struct list_head node;		/* on ferry_volumes */
	char name[FERRY_NAME_MAX + 1];
	char data_path[FERRY_PATH_MAX + 1];
	char cow_path[FERRY_PATH_MAX + 1];
	u32 chunk_size;
	int index;			/* N of /dev/ferryN */
	int minor;

	struct ferry_bdev data;
	struct ferry_bdev cow;
	struct gendisk *disk;
	struct bio_set clones;		/* bios sent to the lower devices */
	struct bio_set splits;		/* bios split at chunk boundaries */

	struct ferry_opener opens;	/* of /dev/ferryN */

	struct ferry_stats stats;

	/*
	 * The gate: while held, new bios wait on held_bios (quiesce);
	 * admitted bios are counted in stats IN_FLIGHT. gate_lock protects
	 * held and held_bios.
	 */
	spinlock_t gate_lock;
	bool held;
	struct bio_list held_bios;

	/*
	 * Snapshot state. map_lock protects epoch, snaps, live, excmap,
	 * alloc, pending, next_snap_id, cow_low, fine; excmap.written[] is
	 * also read without it on the write fast path.
	 */
	struct mutex map_lock;
	u32 epoch;			/* epoch being written */
	u32 next_snap_id;
	struct list_head snaps;		/* struct ferry_snap, oldest first */
	u32 *live;			/* sorted epochs of live snapshots */
	unsigned int nr_live;
	struct ferry_excmap excmap;
	struct ferry_fine fine;		/* bits set lock-free (see fine.h) */
	struct ferry_alloc alloc;
	struct xarray pending;		/* chunk -> struct ferry_copy */
	bool cow_low;			/* COW_LOW event sent */

	u32 chunk_shift;		/* sectors per chunk, log2 */
	u64 nr_chunks;			/* chunks of the origin */
	uuid_t cow_uuid;
	uuid_t cbt_uuid;
	u64 cbt_gen;
	struct workqueue_struct *wq;	/* copy_work */

	/*
	 * Copy jobs: the admitted ones (at most copies_max) wait on
	 * copy_ready for their next stage, which copy_work runs in batches
	 * (so the I/O of neighbouring chunks is plugged and merged); the
	 * others wait on copy_backlog. Pages of ended copies wait on
	 * copy_pages (linked by page->lru) for the next ones. copy_lock
	 * protects copies_running, the three lists and nr_copy_pages; bio
	 * completions take it, so it is taken with irqs off.
	 */
	spinlock_t copy_lock;
	unsigned int copies_running;
	unsigned int copies_max;
	struct list_head copy_ready;
	struct list_head copy_backlog;
	struct list_head copy_pages;
	unsigned int nr_copy_pages;
	struct work_struct copy_work;
	atomic_t copies_live;		/* not yet ended; detach waits for 0 */
	struct workqueue_struct *clone_wq; /* writes to writable clones */
	bool store_open;		/* header written dirty at attach */

	/*
	 * Snapshot reads in flight from the origin, hashed by chunk: a
	 * write that overwrites a preserved chunk waits for them.
	 */
	atomic_t origin_readers[64];
	wait_queue_head_t readers_wait;
	/* Snapshot reads of a chunk whose copy diverts them; woken when done. */
	wait_queue_head_t copy_wait;
};

/* A snapshot of a volume, with its read-only block device. */
struct ferry_snap {
	struct list_head node;		/* on vol->snaps */
	struct ferry_volume *vol;
	u32 id;
	u32 epoch;
	u32 parent;			/* clone: the snapshot it writes over */
	struct ferry_snap *parent_snap;	/* ... which outlives the clone */
	enum ferry_snap_state state;
	char label[FERRY_LABEL_MAX + 1];
	u64 created_ns;
	u64 stall_ns;
	u64 freeze_ns;
	bool frozen;
	struct ferry_tags tags;
	struct gendisk *disk;
	int minor;
	struct xarray own;		/* clone: chunk -> its CoW chunk */

	struct ferry_opener opens;	/* of its device */
	atomic64_t in_flight;
};

/* Where a copy job is; the volume's copy_work runs its next stage. */
enum ferry_copy_stage {
	FERRY_COPY_START,	/* allocate, then read the origin chunk */
	FERRY_COPY_WRITE,	/* the read is done: release the writes, write */
	FERRY_COPY_FINISH,	/* publish the exception */
};

/*
 * A chunk being preserved; the writes to it wait on it until its old data
 * is read into the pages. Then snapshot reads of the chunk wait instead
 * (divert_reads), and once the snapshot reads already sent to the origin
 * are done the writes go on (released) while the pages are written to the
 * CoW store: a first write, and a quiesce's drain, wait for one read, not
 * for a read and a write. A write of a later epoch waits (retry) until the
 * copy has ended, then looks again: it may need a copy of its own; so
 * does a snapshot read (readers), without sleeping in submit_bio. The
 * copy runs as asynchronous bios: nothing sleeps on the I/O, so many
 * copies are in flight at once (16 MiB of them per volume, the rest
 * parked).
 */
struct ferry_copy {
	enum ferry_copy_stage stage;
	struct list_head node;		/* on vol->copy_ready or copy_backlog */
	struct ferry_volume *vol;
	u64 chunk;
	u32 lo, hi;
	u32 epoch;
	struct bio_list waiting;	/* under vol->map_lock */
	struct bio_list retry;		/* under vol->map_lock */
	struct bio_list readers;	/* snapshot reads parked, map_lock */
	bool divert_reads;		/* under vol->map_lock */
	bool released;			/* under vol->map_lock */
	struct ferry_exc *exc;		/* published when the copy is written */
	s64 dst;			/* CoW chunk */
	blk_status_t status;		/* of the read, then of the write */
	unsigned int nr_pages;
	struct page *pages[];		/* the chunk's data in transit */
};

/*
 * ferry_volumes_lock protects the ferry_volumes list and serialises
 * attach and detach against each other.
 */
extern struct mutex ferry_volumes_lock;
extern struct list_head ferry_volumes;

struct ferry_attach_args {
	const char *name;
	const char *data_path;
	const char *cow_path;
	u32 chunk_size;
};

struct netlink_ext_ack;

/* volume.c */
int ferry_volume_attach(const struct ferry_attach_args *args,
			struct ferry_volume **out,
			struct netlink_ext_ack *extack);
int ferry_volume_detach(struct ferry_volume *vol,
			struct netlink_ext_ack *extack);
struct ferry_volume *ferry_volume_find(const char *name);
int ferry_volume_init(void);
void ferry_volume_exit(void);

static inline sector_t ferry_chunk_sector(struct ferry_volume *vol, u64 c)
{
	return c << vol->chunk_shift;
}

static inline u64 ferry_sector_chunk(struct ferry_volume *vol, sector_t s)
{
	return s >> vol->chunk_shift;
}

/* volume.c */
int ferry_minor_get(void);
void ferry_minor_put(int minor);
void ferry_pass_through(struct ferry_volume *vol, struct bio *bio);
void ferry_gate_hold(struct ferry_volume *vol);
int ferry_gate_drain(struct ferry_volume *vol, unsigned long timeout);
void ferry_gate_release(struct ferry_volume *vol);

/* cow.c */
int ferry_cow_init(struct ferry_volume *vol);
void ferry_cow_exit(struct ferry_volume *vol);
void ferry_cow_write_bio(struct ferry_volume *vol, struct bio *bio);
void ferry_snap_submit_bio(struct bio *bio);
u64 ferry_cow_bytes_used(struct ferry_volume *vol);
u64 ferry_cow_bytes_total(struct ferry_volume *vol);

/* snapshot.c */
struct ferry_snap *ferry_snap_find(struct ferry_volume *vol, u32 id);
int ferry_snapshot_group(struct ferry_volume **vols, unsigned int n,
			 const char *label, struct nlattr *tags,
			 unsigned int deadline_ms, struct ferry_snap **out,
			 struct netlink_ext_ack *extack);
int ferry_snap_delete(struct ferry_snap *snap,
		      struct netlink_ext_ack *extack);
int ferry_snap_clone(struct ferry_snap *parent, struct ferry_snap **out,
		     struct netlink_ext_ack *extack);
void ferry_snap_invalidate(struct ferry_volume *vol, u32 lo, u32 hi,
			   const char *why);
int ferry_snap_add_disk(struct ferry_snap *snap);
void ferry_snaps_add_disks(struct ferry_volume *vol);
int ferry_snaps_close(struct ferry_volume *vol);
void ferry_snaps_reopen(struct ferry_volume *vol);
void ferry_snaps_del_disks(struct ferry_volume *vol);
void ferry_snaps_free(struct ferry_volume *vol);
struct ferry_snap *ferry_snap_alloc(struct ferry_volume *vol, gfp_t gfp);
int ferry_live_rebuild(struct ferry_volume *vol);

/* store.c */
int ferry_store_open(struct ferry_volume *vol,
		     struct netlink_ext_ack *extack);
void ferry_store_close(struct ferry_volume *vol);
void ferry_store_note_ids(struct ferry_volume *vol);

/* sysfs.c */
extern const struct attribute_group *ferry_attr_groups[];

/* events.c */
void ferry_event(struct ferry_volume *vol, enum ferry_event ev, u32 snap_id,
		 const char *tag, const char *msg, gfp_t gfp);

/* netlink.c */
extern struct genl_family ferry_genl_family;
int ferry_netlink_init(void);
void ferry_netlink_exit(void);

#endif /* FERRY_H */
