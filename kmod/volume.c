// SPDX-License-Identifier: GPL-2.0
/*
 * ferry: the /dev/ferryN block device, a bio-based device stacked on a
 * data device (like dm-linear): every bio is cloned onto the data device,
 * and the clone's completion completes the original.
 */
#include <linux/blkdev.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait_bit.h>
#include <net/netlink.h>

#include "ferry.h"
#include "names.h"

/* Protects ferry_volumes; serialises attach and detach (see ferry.h). */
DEFINE_MUTEX(ferry_volumes_lock);
LIST_HEAD(ferry_volumes);

static int ferry_major;
static DEFINE_IDA(ferry_index_ida);	/* N of /dev/ferryN */
static DEFINE_IDA(ferry_minor_ida);	/* minors of volumes and snapshots */

static void ferry_count(struct ferry_volume *vol, enum ferry_stat stat,
			u64 n)
{
	atomic64_add(n, &vol->stats.v[stat]);
}

int ferry_minor_get(void)
{
	return ida_alloc_max(&ferry_minor_ida, MINORMASK, GFP_KERNEL);
}

void ferry_minor_put(int minor)
{
	ida_free(&ferry_minor_ida, minor);
}

static void ferry_account_bio(struct ferry_volume *vol, struct bio *bio)
{
	u64 bytes = bio->bi_iter.bi_size;

	if (bio->bi_opf & REQ_PREFLUSH)
		ferry_count(vol, FERRY_STAT_FLUSHES, 1);
	switch (bio_op(bio)) {
	case REQ_OP_READ:
		ferry_count(vol, FERRY_STAT_READS, 1);
		ferry_count(vol, FERRY_STAT_READ_BYTES, bytes);
		break;
	case REQ_OP_WRITE:
		if (!bytes)	/* an empty flush */
			break;
		ferry_count(vol, FERRY_STAT_WRITES, 1);
		ferry_count(vol, FERRY_STAT_WRITE_BYTES, bytes);
		break;
	case REQ_OP_DISCARD:
		ferry_count(vol, FERRY_STAT_DISCARDS, 1);
		break;
	case REQ_OP_WRITE_ZEROES:
		ferry_count(vol, FERRY_STAT_WRITE_ZEROES, 1);
		break;
	default:
		break;
	}
}

static void ferry_clone_endio(struct bio *clone)
{
	struct bio *orig = clone->bi_private;
	struct ferry_volume *vol = orig->bi_bdev->bd_disk->private_data;

	if (clone->bi_status) {
		orig->bi_status = clone->bi_status;
		ferry_count(vol, FERRY_STAT_ERRORS, 1);
	}
	bio_put(clone);
	bio_endio(orig);
	/*
	 * Detach waits for the last completion (see ferry_volume_detach);
	 * vol may be freed once the count is zero, and wake_up_var() does
	 * not dereference its argument.
	 */
	if (atomic64_dec_and_test(&vol->stats.v[FERRY_STAT_IN_FLIGHT]))
		wake_up_var(&vol->stats.v[FERRY_STAT_IN_FLIGHT]);
}

/* Sends an admitted bio (or a piece of one) to the data device. */
void ferry_pass_through(struct ferry_volume *vol, struct bio *bio)
{
	struct bio *clone;

	ferry_account_bio(vol, bio);
	/* Allocation from the bio_set's mempool cannot fail with GFP_NOIO. */
	clone = bio_alloc_clone(vol->data.bdev, bio, GFP_NOIO, &vol->clones);
	clone->bi_private = bio;
	clone->bi_end_io = ferry_clone_endio;
	submit_bio_noacct(clone);
}

/*
 * Admits a bio (counted in IN_FLIGHT until it completes) unless the gate
 * is held for a quiesce, in which case the bio waits on held_bios.
 */
static bool ferry_gate_enter(struct ferry_volume *vol, struct bio *bio)
{
	bool admitted;

	spin_lock(&vol->gate_lock);
	admitted = !vol->held;
	if (admitted)
		atomic64_inc(&vol->stats.v[FERRY_STAT_IN_FLIGHT]);
	else
		bio_list_add(&vol->held_bios, bio);
	spin_unlock(&vol->gate_lock);
	return admitted;
}

void ferry_gate_hold(struct ferry_volume *vol)
{
	spin_lock(&vol->gate_lock);
	vol->held = true;
	spin_unlock(&vol->gate_lock);
}

/* Waits until every admitted bio has completed. */
int ferry_gate_drain(struct ferry_volume *vol, unsigned long timeout)
{
	atomic64_t *in_flight = &vol->stats.v[FERRY_STAT_IN_FLIGHT];

	if (!wait_var_event_timeout(in_flight, !atomic64_read(in_flight),
				    timeout))
		return -ETIMEDOUT;
	return 0;
}

/* Opens the gate and resubmits the bios held meanwhile, in order. */
void ferry_gate_release(struct ferry_volume *vol)
{
	struct bio_list held;
	struct bio *bio;

	spin_lock(&vol->gate_lock);
	vol->held = false;
	held = vol->held_bios;
	bio_list_init(&vol->held_bios);
	spin_unlock(&vol->gate_lock);
	while ((bio = bio_list_pop(&held)))
		submit_bio_noacct(bio);
}

static void ferry_submit_bio(struct bio *bio)
{
	struct ferry_volume *vol = bio->bi_bdev->bd_disk->private_data;

	if (!ferry_gate_enter(vol, bio))
		return;
	if (op_is_write(bio_op(bio)))
		ferry_cow_write_bio(vol, bio);
	else
		ferry_pass_through(vol, bio);
}

void ferry_opener_init(struct ferry_opener *o)
{
	mutex_init(&o->lock);
	o->count = 0;
	o->closing = false;
}

int ferry_opener_get(struct ferry_opener *o)
{
	int ret = 0;

	mutex_lock(&o->lock);
	if (o->closing)
		ret = -ENXIO;
	else
		o->count++;
	mutex_unlock(&o->lock);
	return ret;
}

void ferry_opener_put(struct ferry_opener *o)
{
	mutex_lock(&o->lock);
	o->count--;
	mutex_unlock(&o->lock);
}

unsigned int ferry_opener_count(struct ferry_opener *o)
{
	unsigned int n;

	mutex_lock(&o->lock);
	n = o->count;
	mutex_unlock(&o->lock);
	return n;
}

/* Refuses new opens; -EBUSY (and nothing changed) while it is open. */
int ferry_opener_close(struct ferry_opener *o)
{
	int ret = 0;

	mutex_lock(&o->lock);
	if (o->count)
		ret = -EBUSY;
	else
		o->closing = true;
	mutex_unlock(&o->lock);
	return ret;
}

void ferry_opener_reopen(struct ferry_opener *o)
{
	mutex_lock(&o->lock);
	o->closing = false;
	mutex_unlock(&o->lock);
}

static int ferry_open(FERRY_OPEN_ARGS)
{
	struct ferry_volume *vol = FERRY_OPEN_DISK->private_data;

	return ferry_opener_get(&vol->opens);
}

static void ferry_release(FERRY_RELEASE_ARGS)
{
	struct ferry_volume *vol = disk->private_data;

	ferry_opener_put(&vol->opens);
}

static const struct block_device_operations ferry_fops = {
	.owner = THIS_MODULE,
	.submit_bio = ferry_submit_bio,
	.open = ferry_open,
	.release = ferry_release,
};

/* Caller holds ferry_volumes_lock. */
struct ferry_volume *ferry_volume_find(const char *name)
{
	struct ferry_volume *vol;

	lockdep_assert_held(&ferry_volumes_lock);
	list_for_each_entry(vol, &ferry_volumes, node)
		if (!strcmp(vol->name, name))
			return vol;
	return NULL;
}

/* @busy and @fail must be string literals: extack keeps the pointer. */
static int ferry_open_one(struct ferry_bdev *b, const char *path,
			  void *holder, const char *busy, const char *fail,
			  struct netlink_ext_ack *extack)
{
	int ret = ferry_bdev_open(b, path, holder);

	if (ret && extack)
		extack->_msg = ret == -EBUSY ? busy : fail;
	return ret;
}

static int ferry_open_lower(struct ferry_volume *vol,
			    struct netlink_ext_ack *extack)
{
	int ret;

	ret = ferry_open_one(&vol->data, vol->data_path, vol,
			     "data device is in use (mounted or attached?)",
			     "cannot open the data device", extack);
	if (ret)
		return ret;
	ret = ferry_open_one(&vol->cow, vol->cow_path, vol,
			     "CoW device is in use (mounted or attached?)",
			     "cannot open the CoW device", extack);
	if (ret)
		return ret;
	/* Both opens share one holder, so exclusivity alone cannot catch this. */
	if (vol->data.bdev == vol->cow.bdev) {
		NL_SET_ERR_MSG(extack, "data and CoW are the same device");
		return -EINVAL;
	}
	if (vol->data.bdev->bd_disk->fops == &ferry_fops ||
	    vol->cow.bdev->bd_disk->fops == &ferry_fops) {
		NL_SET_ERR_MSG(extack, "a ferry device cannot back another");
		return -EINVAL;
	}
	return 0;
}

static int ferry_create_disk(struct ferry_volume *vol)
{
	struct gendisk *disk;
	int ret;

	disk = ferry_alloc_disk(vol->data.bdev);
	if (IS_ERR(disk))
		return PTR_ERR(disk);
	disk->major = ferry_major;
	disk->first_minor = vol->minor;
	disk->minors = 1;
	disk->flags |= GENHD_FL_NO_PART;
	disk->fops = &ferry_fops;
	disk->private_data = vol;
	snprintf(disk->disk_name, DISK_NAME_LEN, "ferry%d", vol->index);
	set_capacity(disk, bdev_nr_sectors(vol->data.bdev));

	ret = device_add_disk(NULL, disk, ferry_attr_groups);
	if (ret) {
		put_disk(disk);
		return ret;
	}
	vol->disk = disk;
	return 0;
}

static void ferry_volume_free(struct ferry_volume *vol)
{
	ferry_store_close(vol);
	ferry_snaps_free(vol);
	ferry_cow_exit(vol);
	ferry_bdev_close(&vol->cow);
	ferry_bdev_close(&vol->data);
	bioset_exit(&vol->clones);
	bioset_exit(&vol->splits);
	if (vol->index >= 0)
		ida_free(&ferry_index_ida, vol->index);
	if (vol->minor >= 0)
		ferry_minor_put(vol->minor);
	kfree(vol);
}

int ferry_volume_attach(const struct ferry_attach_args *args,
			struct ferry_volume **out,
			struct netlink_ext_ack *extack)
{
	struct ferry_volume *vol;
	int ret;

	if (!ferry_name_valid(args->name)) {
		NL_SET_ERR_MSG(extack,
			       "invalid name: 1-31 of A-Z a-z 0-9 . _ - , not starting with . or -");
		return -EINVAL;
	}
	if (!ferry_chunk_size_valid(args->chunk_size)) {
		NL_SET_ERR_MSG(extack,
			       "invalid chunk size: a power of two from 4 KiB to 1 MiB");
		return -EINVAL;
	}

	mutex_lock(&ferry_volumes_lock);
	if (ferry_volume_find(args->name)) {
		mutex_unlock(&ferry_volumes_lock);
		NL_SET_ERR_MSG(extack, "a volume with this name is attached");
		return -EEXIST;
	}

	ret = -ENOMEM;
	vol = kzalloc(sizeof(*vol), GFP_KERNEL);
	if (!vol)
		goto out_unlock;
	vol->index = -1;
	vol->minor = -1;
	strscpy(vol->name, args->name, sizeof(vol->name));
	strscpy(vol->data_path, args->data_path, sizeof(vol->data_path));
	strscpy(vol->cow_path, args->cow_path, sizeof(vol->cow_path));
	vol->chunk_size = args->chunk_size;
	ferry_opener_init(&vol->opens);
	mutex_init(&vol->map_lock);
	spin_lock_init(&vol->gate_lock);
	bio_list_init(&vol->held_bios);
	INIT_LIST_HEAD(&vol->snaps);

	ret = bioset_init(&vol->clones, BIO_POOL_SIZE, 0, 0);
	if (!ret)
		ret = bioset_init(&vol->splits, BIO_POOL_SIZE, 0, 0);
	if (ret)
		goto out_free;
	ret = ida_alloc_max(&ferry_index_ida, MINORMASK, GFP_KERNEL);
	if (ret < 0)
		goto out_free;
	vol->index = ret;
	ret = ferry_minor_get();
	if (ret < 0)
		goto out_free;
	vol->minor = ret;

	ret = ferry_open_lower(vol, extack);
	if (ret)
		goto out_free;
	ret = ferry_store_open(vol, extack);
	if (ret)
		goto out_free;
	ret = ferry_create_disk(vol);
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot create the block device");
		goto out_free;
	}
	list_add_tail(&vol->node, &ferry_volumes);
	/* Snapshots kept in the CoW store since the last detach. */
	ferry_snaps_add_disks(vol);
	mutex_unlock(&ferry_volumes_lock);
	pr_info("ferry: %s attached as %s (data %s, cow %s)\n", vol->name,
		vol->disk->disk_name, vol->data_path, vol->cow_path);
	*out = vol;
	return 0;

out_free:
	ferry_volume_free(vol);
out_unlock:
	mutex_unlock(&ferry_volumes_lock);
	return ret;
}

/* Caller holds ferry_volumes_lock. */
int ferry_volume_detach(struct ferry_volume *vol,
			struct netlink_ext_ack *extack)
{
	lockdep_assert_held(&ferry_volumes_lock);

	if (ferry_snaps_close(vol)) {
		NL_SET_ERR_MSG(extack, "a snapshot device is open");
		return -EBUSY;
	}
	if (ferry_opener_close(&vol->opens)) {
		ferry_snaps_reopen(vol);
		NL_SET_ERR_MSG(extack, "device is open (mounted or in use)");
		return -EBUSY;
	}

	list_del(&vol->node);
	pr_info("ferry: %s detached from %s\n", vol->name,
		vol->disk->disk_name);
	del_gendisk(vol->disk);
	/*
	 * A bio-based queue is only entered for the submission, so clones
	 * can still be in flight after del_gendisk(); their completions
	 * use the disk and the bio_set.
	 */
	wait_var_event(&vol->stats.v[FERRY_STAT_IN_FLIGHT],
		       !atomic64_read(&vol->stats.v[FERRY_STAT_IN_FLIGHT]));
	/* Copies outlive the writes they released; their exceptions persist. */
	wait_var_event(&vol->copies_live, !atomic_read(&vol->copies_live));
	/* Snapshots stay in the CoW store (ferry_store_close) for re-attach. */
	ferry_snaps_del_disks(vol);
	put_disk(vol->disk);
	ferry_volume_free(vol);
	return 0;
}

int ferry_volume_init(void)
{
	ferry_major = register_blkdev(0, "ferry");
	return ferry_major < 0 ? ferry_major : 0;
}

void ferry_volume_exit(void)
{
	struct ferry_volume *vol, *next;

	mutex_lock(&ferry_volumes_lock);
	list_for_each_entry_safe(vol, next, &ferry_volumes, node)
		WARN_ON(ferry_volume_detach(vol, NULL));
	mutex_unlock(&ferry_volumes_lock);
	unregister_blkdev(ferry_major, "ferry");
	ida_destroy(&ferry_index_ida);
	ida_destroy(&ferry_minor_ida);
}
