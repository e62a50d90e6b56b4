/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry: the few block-layer APIs that differ between supported kernels.
 * FERRY_HAVE_* come from probe.sh, which reads the target's headers.
 */
#ifndef FERRY_COMPAT_H
#define FERRY_COMPAT_H

#include <linux/blkdev.h>
#include <linux/fs.h>
#include <net/genetlink.h>

/* An exclusively opened backing device. */
struct ferry_bdev {
	struct block_device *bdev;
#ifdef FERRY_HAVE_BDEV_FILE_OPEN
	struct file *file;
#endif
};

static inline int ferry_bdev_open(struct ferry_bdev *b, const char *path,
				  void *holder)
{
#ifdef FERRY_HAVE_BDEV_FILE_OPEN
	b->file = bdev_file_open_by_path(path, BLK_OPEN_READ | BLK_OPEN_WRITE,
					 holder, NULL);
	if (IS_ERR(b->file)) {
		int ret = PTR_ERR(b->file);

		b->file = NULL;
		return ret;
	}
	b->bdev = file_bdev(b->file);
#else
	b->bdev = blkdev_get_by_path(path, FMODE_READ | FMODE_WRITE |
					   FMODE_EXCL, holder);
	if (IS_ERR(b->bdev)) {
		int ret = PTR_ERR(b->bdev);

		/* ferry_bdev_close() must see "not open". */
		b->bdev = NULL;
		return ret;
	}
#endif
	return 0;
}

static inline void ferry_bdev_close(struct ferry_bdev *b)
{
	if (!b->bdev)
		return;
#ifdef FERRY_HAVE_BDEV_FILE_OPEN
	fput(b->file);
#else
	blkdev_put(b->bdev, FMODE_READ | FMODE_WRITE | FMODE_EXCL);
#endif
	b->bdev = NULL;
}

#ifdef FERRY_HAVE_BLK_MODE_T
#define FERRY_OPEN_ARGS		struct gendisk *disk, blk_mode_t mode
#define FERRY_OPEN_DISK		disk
#define FERRY_RELEASE_ARGS	struct gendisk *disk
#else
#define FERRY_OPEN_ARGS		struct block_device *bdev, fmode_t mode
#define FERRY_OPEN_DISK		(bdev->bd_disk)
#define FERRY_RELEASE_ARGS	struct gendisk *disk, fmode_t mode
#endif

/*
 * Allocate a bio-based disk whose queue limits are stacked on @lower,
 * as dm does: start from the stacking defaults, then take the lower
 * device's limits (block sizes, discard, write-zeroes, max sectors).
 */
static inline struct gendisk *ferry_alloc_disk(struct block_device *lower)
{
#ifdef FERRY_HAVE_ALLOC_DISK_LIMITS
	struct queue_limits lim;

	blk_set_stacking_limits(&lim);
	lim.features |= BLK_FEAT_WRITE_CACHE | BLK_FEAT_FUA;
	blk_stack_limits(&lim, &bdev_get_queue(lower)->limits,
			 get_start_sect(lower));
	return blk_alloc_disk(&lim, NUMA_NO_NODE);
#else
	struct gendisk *disk = blk_alloc_disk(NUMA_NO_NODE);

	if (!disk)
		return ERR_PTR(-ENOMEM);
	blk_set_stacking_limits(&disk->queue->limits);
	blk_stack_limits(&disk->queue->limits, &bdev_get_queue(lower)->limits,
			 get_start_sect(lower));
	/* FLUSH and FUA are passed through to the lower device. */
	blk_queue_write_cache(disk->queue, true, true);
	return disk;
#endif
}

/*
 * Freeze the filesystem mounted on @bdev, if any; *frozen says whether
 * there was one. Without a filesystem this only counts the freeze.
 */
static inline int ferry_freeze(struct block_device *bdev, bool *frozen)
{
	int ret;

#ifdef FERRY_HAVE_BDEV_FREEZE
	ret = bdev_freeze(bdev);
	/*
	 * bdev_freeze() freezes through the holder's ->freeze (a mounted
	 * filesystem's); any other holder, e.g. an O_EXCL opener, only gets
	 * a sync, which is no filesystem freeze.
	 */
	mutex_lock(&bdev->bd_holder_lock);
	*frozen = !ret && bdev->bd_holder_ops && bdev->bd_holder_ops->freeze;
	mutex_unlock(&bdev->bd_holder_lock);
#else
	ret = freeze_bdev(bdev);
	*frozen = !ret && bdev->bd_fsfreeze_sb;
#endif
	return ret;
}

static inline void ferry_thaw(struct block_device *bdev)
{
#ifdef FERRY_HAVE_BDEV_FREEZE
	bdev_thaw(bdev);
#else
	thaw_bdev(bdev);
#endif
}

#ifdef FERRY_HAVE_GENL_INFO_DUMP
#define ferry_dump_attrs(cb)	(genl_info_dump(cb)->attrs)
#else
#define ferry_dump_attrs(cb)	(genl_dumpit_info(cb)->attrs)
#endif

#endif /* FERRY_COMPAT_H */
