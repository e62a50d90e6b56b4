// SPDX-License-Identifier: GPL-2.0
/*
 * ferry: snapshots. Quiesce and take snapshots of a consistency group,
 * give each a read-only block device, delete and invalidate them.
 *
 * The snaps list of a volume changes under both ferry_volumes_lock and the
 * volume's map_lock, so holding either keeps it stable; the netlink side
 * holds ferry_volumes_lock, the I/O side map_lock.
 */
#include <linux/blkdev.h>
#include <linux/ktime.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#include "ferry.h"
#include "names.h"

struct ferry_snap *ferry_snap_alloc(struct ferry_volume *vol, gfp_t gfp)
{
	struct ferry_snap *snap = kzalloc(sizeof(*snap), gfp);

	if (!snap)
		return NULL;
	snap->vol = vol;
	snap->minor = -1;
	ferry_opener_init(&snap->opens);
	xa_init(&snap->own);
	return snap;
}

static void ferry_snap_free(struct ferry_snap *snap)
{
	ferry_tags_clear(&snap->tags);
	xa_destroy(&snap->own);
	kfree(snap);
}

struct ferry_snap *ferry_snap_find(struct ferry_volume *vol, u32 id)
{
	struct ferry_snap *snap;

	list_for_each_entry(snap, &vol->snaps, node)
		if (snap->id == id)
			return snap;
	return NULL;
}

/*
 * Under map_lock: recomputes the sorted epochs of live snapshots, which
 * decide what the write path must preserve. Clones preserve nothing of the
 * origin themselves: their parent does.
 */
int ferry_live_rebuild(struct ferry_volume *vol)
{
	struct ferry_snap *snap;
	unsigned int n = 0;
	u32 *live;

	lockdep_assert_held(&vol->map_lock);
	list_for_each_entry(snap, &vol->snaps, node)
		n++;
	live = kmalloc_array(max(n, 1U), sizeof(*live), GFP_NOIO);
	if (!live)
		return -ENOMEM;
	n = 0;
	list_for_each_entry(snap, &vol->snaps, node)
		if (snap->state == FERRY_STATE_LIVE && !snap->parent)
			live[n++] = snap->epoch;
	/* snaps is in creation order, so epochs are already ascending. */
	kfree(vol->live);
	vol->live = live;
	vol->nr_live = n;
	return 0;
}

static void ferry_cow_chunk_put(void *arg, u64 cow_chunk)
{
	ferry_alloc_put(arg, cow_chunk);
}

/* Under map_lock: gives back the CoW space no live snapshot needs. */
static void ferry_prune(struct ferry_volume *vol)
{
	struct ferry_epochs live = { .e = vol->live, .n = vol->nr_live };

	ferry_exc_prune(&vol->excmap, &live, ferry_cow_chunk_put, &vol->alloc);
}

/* Under map_lock: the CoW chunks a writable clone wrote. */
static void ferry_clone_release(struct ferry_volume *vol,
				struct ferry_snap *snap)
{
	unsigned long c;
	void *entry;

	xa_for_each(&snap->own, c, entry)
		ferry_alloc_put(&vol->alloc, xa_to_value(entry));
	xa_destroy(&snap->own);
}

void ferry_snap_invalidate(struct ferry_volume *vol, u32 lo, u32 hi,
			   const char *why)
{
	u32 ids[16];
	unsigned int n = 0, i;
	struct ferry_snap *snap;

	mutex_lock(&vol->map_lock);
	list_for_each_entry(snap, &vol->snaps, node) {
		if (snap->state != FERRY_STATE_LIVE ||
		    snap->epoch < lo || snap->epoch > hi)
			continue;
		snap->state = FERRY_STATE_INVALID;
		if (n < ARRAY_SIZE(ids))
			ids[n++] = snap->id;
	}
	/* Without memory for the new list, keep the old: it only over-copies. */
	if (!ferry_live_rebuild(vol))
		ferry_prune(vol);
	mutex_unlock(&vol->map_lock);
	for (i = 0; i < n; i++) {
		pr_warn("ferry: %s: snapshot %u invalidated: %s\n", vol->name,
			ids[i], why);
		ferry_event(vol, FERRY_EVENT_SNAP_INVALID, ids[i], NULL, why,
			    GFP_NOIO);
	}
}

static int ferry_snap_open(FERRY_OPEN_ARGS)
{
	struct ferry_snap *snap = FERRY_OPEN_DISK->private_data;

	return ferry_opener_get(&snap->opens);
}

static void ferry_snap_release(FERRY_RELEASE_ARGS)
{
	struct ferry_snap *snap = disk->private_data;

	ferry_opener_put(&snap->opens);
}

static const struct block_device_operations ferry_snap_fops = {
	.owner = THIS_MODULE,
	.submit_bio = ferry_snap_submit_bio,
	.open = ferry_snap_open,
	.release = ferry_snap_release,
};

int ferry_snap_add_disk(struct ferry_snap *snap)
{
	struct ferry_volume *vol = snap->vol;
	struct gendisk *disk;
	int ret;

	ret = ferry_minor_get();
	if (ret < 0)
		return ret;
	snap->minor = ret;
	disk = ferry_alloc_disk(vol->data.bdev);
	if (IS_ERR(disk)) {
		ferry_minor_put(snap->minor);
		snap->minor = -1;
		return PTR_ERR(disk);
	}
	disk->major = vol->disk->major;
	disk->first_minor = snap->minor;
	disk->minors = 1;
	disk->flags |= GENHD_FL_NO_PART;
	disk->fops = &ferry_snap_fops;
	disk->private_data = snap;
	/* ferryNsID, from the numbers: the bound is plain to the compiler. */
	snprintf(disk->disk_name, DISK_NAME_LEN, "ferry%ds%u", vol->index,
		 snap->id);
	set_capacity(disk, get_capacity(vol->disk));
	if (!snap->parent)
		set_disk_ro(disk, true);
	ret = add_disk(disk);
	if (ret) {
		put_disk(disk);
		ferry_minor_put(snap->minor);
		snap->minor = -1;
		return ret;
	}
	snap->disk = disk;
	return 0;
}

void ferry_snaps_add_disks(struct ferry_volume *vol)
{
	struct ferry_snap *snap;

	list_for_each_entry(snap, &vol->snaps, node)
		if (ferry_snap_add_disk(snap))
			pr_warn("ferry: %s: no device for snapshot %u\n",
				vol->name, snap->id);
}

static void ferry_snap_del_disk(struct ferry_snap *snap)
{
	if (!snap->disk)
		return;
	del_gendisk(snap->disk);
	wait_var_event(&snap->in_flight, !atomic64_read(&snap->in_flight));
	put_disk(snap->disk);
	snap->disk = NULL;
	ferry_minor_put(snap->minor);
	snap->minor = -1;
}

int ferry_snaps_close(struct ferry_volume *vol)
{
	struct ferry_snap *snap;

	list_for_each_entry(snap, &vol->snaps, node) {
		if (ferry_opener_close(&snap->opens)) {
			ferry_snaps_reopen(vol);
			return -EBUSY;
		}
	}
	return 0;
}

void ferry_snaps_reopen(struct ferry_volume *vol)
{
	struct ferry_snap *snap;

	list_for_each_entry(snap, &vol->snaps, node)
		ferry_opener_reopen(&snap->opens);
}

void ferry_snaps_del_disks(struct ferry_volume *vol)
{
	struct ferry_snap *snap;

	list_for_each_entry(snap, &vol->snaps, node)
		ferry_snap_del_disk(snap);
}

/* At detach, after the store saved them: the CoW space stays allocated. */
void ferry_snaps_free(struct ferry_volume *vol)
{
	struct ferry_snap *snap, *next;

	list_for_each_entry_safe(snap, next, &vol->snaps, node) {
		list_del(&snap->node);
		ferry_snap_free(snap);
	}
}

int ferry_snap_delete(struct ferry_snap *snap, struct netlink_ext_ack *extack)
{
	struct ferry_volume *vol = snap->vol;
	struct ferry_snap *other;
	u32 id = snap->id;

	list_for_each_entry(other, &vol->snaps, node) {
		if (other->parent == snap->id) {
			NL_SET_ERR_MSG(extack,
				       "the snapshot has a writable clone; delete it first");
			return -EBUSY;
		}
	}
	if (ferry_opener_close(&snap->opens)) {
		NL_SET_ERR_MSG(extack, "the snapshot device is open");
		return -EBUSY;
	}
	ferry_snap_del_disk(snap);

	mutex_lock(&vol->map_lock);
	list_del(&snap->node);
	if (snap->parent) {
		ferry_clone_release(vol, snap);
	} else {
		/*
		 * Deleting a point usually means it has been replicated: the
		 * next delta starts from it, so the precise map need keep
		 * nothing older.
		 */
		if (ferry_fine_on(&vol->fine) && snap->epoch >= vol->fine.from)
			ferry_fine_start(&vol->fine, snap->epoch + 1);
		if (!ferry_live_rebuild(vol))
			ferry_prune(vol);
	}
	mutex_unlock(&vol->map_lock);
	ferry_snap_free(snap);
	ferry_event(vol, FERRY_EVENT_SNAP_DELETED, id, NULL, NULL, GFP_KERNEL);
	return 0;
}

/* What one volume of a group went through, for unwinding. */
struct ferry_quiesce {
	struct ferry_volume *vol;
	struct ferry_snap *snap;
	bool freeze_called;
	bool held;
};

static void ferry_quiesce_undo(struct ferry_quiesce *q, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (q[i].held)
			ferry_gate_release(q[i].vol);
	for (i = 0; i < n; i++)
		if (q[i].freeze_called)
			ferry_thaw(q[i].vol->disk->part0);
}

/*
 * Under map_lock, with no write running, after an epoch switch: the
 * per-chunk epochs keep the oldest one that still matters exact (that of
 * the oldest live snapshot, or where the precise changed-block map starts).
 */
static int ferry_epochs_advance(struct ferry_volume *vol)
{
	u32 floor = vol->nr_live ? vol->live[0] : vol->epoch;
	unsigned int noio;
	int ret;

	if (ferry_fine_on(&vol->fine) && vol->fine.from)
		floor = min(floor, vol->fine.from - 1);
	/* Writes are held: reclaim must not wait for them. */
	noio = memalloc_noio_save();
	ret = ferry_excmap_advance(&vol->excmap, vol->epoch, floor);
	memalloc_noio_restore(noio);
	return ret;
}

/*
 * Quiesce every volume of the group in one window, in the order the design
 * fixes (after an early flush that makes the rest quicker): freeze the
 * filesystems (this flushes their dirty pages and journals), hold new bios,
 * wait for in-flight bios, flush the data devices, switch epochs (this
 * arms copy-on-write), release the held bios, thaw. Every error path and
 * the deadline release and thaw.
 */
static int ferry_quiesce_group(struct ferry_quiesce *q, unsigned int n,
			       unsigned int deadline_ms,
			       struct netlink_ext_ack *extack)
{
	unsigned long end = jiffies + msecs_to_jiffies(deadline_ms);
	u64 t_freeze, t_hold, now;
	unsigned int i;
	int ret;

	/*
	 * A flush before anything is held or frozen: the freeze and the flush
	 * under the hold then find little left to write, which shortens both
	 * pauses. Its errors show again in the flush that counts, below.
	 */
	for (i = 0; i < n; i++)
		blkdev_issue_flush(q[i].vol->data.bdev);
	t_freeze = ktime_get_ns();
	for (i = 0; i < n; i++) {
		ret = ferry_freeze(q[i].vol->disk->part0, &q[i].snap->frozen);
		if (ret) {
			NL_SET_ERR_MSG(extack, "cannot freeze the filesystem");
			goto undo;
		}
		q[i].freeze_called = true;
	}
	t_hold = ktime_get_ns();
	for (i = 0; i < n; i++) {
		ferry_gate_hold(q[i].vol);
		q[i].held = true;
	}
	for (i = 0; i < n; i++) {
		long left = (long)(end - jiffies);

		ret = ferry_gate_drain(q[i].vol, max(left, 1L));
		if (ret) {
			NL_SET_ERR_MSG(extack,
				       "in-flight I/O did not finish before the quiesce deadline");
			goto undo;
		}
	}
	for (i = 0; i < n; i++) {
		ret = blkdev_issue_flush(q[i].vol->data.bdev);
		if (ret) {
			NL_SET_ERR_MSG(extack, "flushing the data device failed");
			goto undo;
		}
	}
	for (i = 0; i < n; i++) {
		struct ferry_volume *vol = q[i].vol;

		mutex_lock(&vol->map_lock);
		q[i].snap->id = vol->next_snap_id++;
		q[i].snap->epoch = vol->epoch++;
		list_add_tail(&q[i].snap->node, &vol->snaps);
		ret = ferry_live_rebuild(vol);
		if (!ret)
			ret = ferry_epochs_advance(vol);
		if (ret) {
			list_del(&q[i].snap->node);
			vol->epoch--;
			mutex_unlock(&vol->map_lock);
			NL_SET_ERR_MSG(extack, "out of memory");
			while (i--) {
				mutex_lock(&q[i].vol->map_lock);
				list_del(&q[i].snap->node);
				q[i].vol->epoch--;
				ferry_live_rebuild(q[i].vol);
				mutex_unlock(&q[i].vol->map_lock);
			}
			goto undo;
		}
		/* Writes from this epoch on are tracked to the 4 KiB block. */
		if (!ferry_fine_on(&vol->fine) && vol->fine.chunk_shift)
			ferry_fine_start(&vol->fine, vol->epoch);
		mutex_unlock(&vol->map_lock);
	}
	for (i = 0; i < n; i++)
		ferry_gate_release(q[i].vol);
	now = ktime_get_ns();
	for (i = 0; i < n; i++) {
		q[i].snap->stall_ns = now - t_hold;
		ferry_thaw(q[i].vol->disk->part0);
	}
	now = ktime_get_ns();
	for (i = 0; i < n; i++) {
		q[i].snap->freeze_ns = q[i].snap->frozen ? now - t_freeze : 0;
		q[i].snap->created_ns = ktime_get_real_ns();
	}
	return 0;

undo:
	ferry_quiesce_undo(q, n);
	return ret;
}

int ferry_snapshot_group(struct ferry_volume **vols, unsigned int n,
			 const char *label, struct nlattr *tags,
			 unsigned int deadline_ms, struct ferry_snap **out,
			 struct netlink_ext_ack *extack)
{
	struct ferry_quiesce *q;
	struct nlattr *tag;
	unsigned int i;
	int ret = -ENOMEM, rem;

	q = kcalloc(n, sizeof(*q), GFP_KERNEL);
	if (!q)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		q[i].vol = vols[i];
		q[i].snap = ferry_snap_alloc(vols[i], GFP_KERNEL);
		if (!q[i].snap)
			goto out;
		if (label)
			strscpy(q[i].snap->label, label,
				sizeof(q[i].snap->label));
		if (!tags)
			continue;
		nla_for_each_nested(tag, tags, rem) {
			ret = ferry_tags_apply(&q[i].snap->tags, nla_data(tag),
					       GFP_KERNEL);
			if (ret) {
				NL_SET_ERR_MSG(extack, "invalid or too many tags");
				goto out;
			}
		}
	}

	ret = ferry_quiesce_group(q, n, deadline_ms, extack);
	if (ret)
		goto out;
	for (i = 0; i < n; i++) {
		/*
		 * Without a label from the agent, say what the kernel knows:
		 * a frozen filesystem makes the point filesystem-consistent.
		 */
		if (!label)
			strscpy(q[i].snap->label,
				q[i].snap->frozen ? "filesystem" : "crash",
				sizeof(q[i].snap->label));
		ferry_store_note_ids(vols[i]);
		out[i] = q[i].snap;
		/* Without a device the snapshot still exists and is listed. */
		if (ferry_snap_add_disk(q[i].snap))
			pr_warn("ferry: %s: no device for snapshot %u\n",
				vols[i]->name, q[i].snap->id);
		ferry_event(vols[i], FERRY_EVENT_SNAP_CREATED, q[i].snap->id,
			    NULL, q[i].snap->label, GFP_KERNEL);
		q[i].snap = NULL;
	}
out:
	for (i = 0; i < n; i++)
		if (q[i].snap)
			ferry_snap_free(q[i].snap);
	kfree(q);
	return ret;
}

int ferry_snap_clone(struct ferry_snap *parent, struct ferry_snap **out,
		     struct netlink_ext_ack *extack)
{
	struct ferry_volume *vol = parent->vol;
	struct ferry_snap *snap;
	int ret;

	if (parent->parent || parent->state != FERRY_STATE_LIVE) {
		NL_SET_ERR_MSG(extack,
			       "only a live, read-only snapshot can be cloned");
		return -EINVAL;
	}
	snap = ferry_snap_alloc(vol, GFP_KERNEL);
	if (!snap)
		return -ENOMEM;
	snap->parent = parent->id;
	snap->parent_snap = parent;
	snap->epoch = parent->epoch;
	snap->created_ns = ktime_get_real_ns();
	strscpy(snap->label, parent->label, sizeof(snap->label));

	mutex_lock(&vol->map_lock);
	snap->id = vol->next_snap_id++;
	list_add_tail(&snap->node, &vol->snaps);
	mutex_unlock(&vol->map_lock);

	ferry_store_note_ids(vol);
	ret = ferry_snap_add_disk(snap);
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot create the clone's device");
		mutex_lock(&vol->map_lock);
		list_del(&snap->node);
		mutex_unlock(&vol->map_lock);
		ferry_snap_free(snap);
		return ret;
	}
	*out = snap;
	ferry_event(vol, FERRY_EVENT_SNAP_CREATED, snap->id, NULL, "clone",
		    GFP_KERNEL);
	return 0;
}
