// SPDX-License-Identifier: GPL-2.0
/*
 * ferry: copy-on-write. The origin's write path preserves a chunk before
 * its first overwrite while a live snapshot still needs it; snapshot
 * devices read each chunk from the origin or from its preserved copy.
 *
 * A write waits (on a struct ferry_copy) until its chunk's old data is
 * read; a snapshot read from the origin is counted in origin_readers so
 * that the write overwriting that chunk waits for it; from then until the
 * copy is written and its exception published, snapshot reads of the
 * chunk wait (copy_wait), so they never see new data or a half-written
 * copy. The chunk counts as written in the copy's epoch from the moment
 * its writes are released.
 */
#include <linux/blkdev.h>
#include <linux/list_sort.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/wait_bit.h>

#include "ferry.h"

/*
 * Data of the copies in flight per volume: enough for a deep queue of large
 * first writes (32 writes of 1 MiB) to be copied in one go, small enough to
 * bound the memory held. Between 16 and 1024 copies, by chunk size.
 */
#define FERRY_COPY_BYTES SZ_16M

/*
 * Pages of ended copies kept for the next ones, as kcopyd keeps its own:
 * a fresh page costs more than its copy where the kernel zeroes every
 * page it hands out (init_on_alloc, Debian's default), most of a first
 * write's CPU time on a slow machine. The copies in flight never need
 * more than this; freed at detach.
 */
#define FERRY_COPY_PAGES_KEPT (FERRY_COPY_BYTES >> PAGE_SHIFT)

#define FERRY_FINE_SECTORS (1U << (FERRY_FINE_BLOCK_SHIFT - SECTOR_SHIFT))

/*
 * For tests: how far the per-chunk epochs reach before their base moves or
 * they widen to four bytes (see exc.h); thousands of snapshots otherwise.
 */
static unsigned int epoch_span = U16_MAX;
module_param(epoch_span, uint, 0444);
MODULE_PARM_DESC(epoch_span, "testing: per-chunk epoch span, 4..65535");

static unsigned int ferry_reader_bucket(u64 chunk)
{
	return chunk % ARRAY_SIZE(((struct ferry_volume *)0)->origin_readers);
}

static unsigned int ferry_chunk_bytes(struct ferry_volume *vol, u64 c)
{
	sector_t start = ferry_chunk_sector(vol, c);
	sector_t end = min_t(sector_t, ferry_chunk_sector(vol, c + 1),
			     get_capacity(vol->disk));

	return (end - start) << SECTOR_SHIFT;
}

static void ferry_copy_work(struct work_struct *work);

int ferry_cow_init(struct ferry_volume *vol)
{
	sector_t size = bdev_nr_sectors(vol->data.bdev);
	unsigned int i;
	int ret;

	vol->chunk_shift = ilog2(vol->chunk_size >> SECTOR_SHIFT);
	vol->nr_chunks = DIV_ROUND_UP_ULL(size, 1ULL << vol->chunk_shift);
	xa_init(&vol->pending);
	INIT_LIST_HEAD(&vol->snaps);
	for (i = 0; i < ARRAY_SIZE(vol->origin_readers); i++)
		atomic_set(&vol->origin_readers[i], 0);
	init_waitqueue_head(&vol->readers_wait);
	init_waitqueue_head(&vol->copy_wait);
	atomic_set(&vol->copies_live, 0);
	spin_lock_init(&vol->copy_lock);
	vol->copies_running = 0;
	vol->copies_max = clamp_t(unsigned int,
				  FERRY_COPY_BYTES / vol->chunk_size, 16, 1024);
	INIT_LIST_HEAD(&vol->copy_ready);
	INIT_LIST_HEAD(&vol->copy_backlog);
	INIT_LIST_HEAD(&vol->copy_pages);
	vol->nr_copy_pages = 0;
	INIT_WORK(&vol->copy_work, ferry_copy_work);
	vol->wq = alloc_workqueue("ferry_%s", WQ_MEM_RECLAIM, 1, vol->name);
	vol->clone_wq = alloc_ordered_workqueue("ferry_%s_clone",
						WQ_MEM_RECLAIM, vol->name);
	if (!vol->wq || !vol->clone_wq)
		return -ENOMEM;
	ret = ferry_excmap_init(&vol->excmap, vol->nr_chunks);
	if (ret)
		return ret;
	vol->excmap.span = clamp_t(unsigned int, epoch_span, 4, U16_MAX);
	/* Off until the first snapshot gives it an epoch to start from. */
	return ferry_fine_init(&vol->fine,
			       DIV_ROUND_UP_ULL(size, FERRY_FINE_SECTORS),
			       vol->chunk_shift - ilog2(FERRY_FINE_SECTORS));
}

static void ferry_cow_put(void *arg, u64 cow_chunk)
{
	ferry_alloc_put(arg, cow_chunk);
}

/* Takes @nr pages for a copy, kept ones first; false if out of memory. */
static bool ferry_copy_pages_get(struct ferry_volume *vol,
				 struct page **pages, unsigned int nr)
{
	unsigned int i = 0;

	spin_lock_irq(&vol->copy_lock);
	for (; i < nr && vol->nr_copy_pages; i++) {
		pages[i] = list_first_entry(&vol->copy_pages, struct page, lru);
		list_del(&pages[i]->lru);
		vol->nr_copy_pages--;
	}
	spin_unlock_irq(&vol->copy_lock);
	for (; i < nr; i++) {
		pages[i] = alloc_page(GFP_NOIO);
		if (!pages[i])
			return false;
	}
	return true;
}

/* Gives a copy's pages back (up to the first NULL), keeping enough. */
static void ferry_copy_pages_put(struct ferry_volume *vol,
				 struct page **pages, unsigned int nr)
{
	unsigned int i = 0;

	spin_lock_irq(&vol->copy_lock);
	for (; i < nr && pages[i] && vol->nr_copy_pages < FERRY_COPY_PAGES_KEPT;
	     i++) {
		list_add(&pages[i]->lru, &vol->copy_pages);
		vol->nr_copy_pages++;
	}
	spin_unlock_irq(&vol->copy_lock);
	for (; i < nr && pages[i]; i++)
		__free_page(pages[i]);
}

void ferry_cow_exit(struct ferry_volume *vol)
{
	struct page *page, *next;

	if (vol->wq)
		destroy_workqueue(vol->wq);
	/*
	 * No copy is left: detach waited for copies_live. A failed attach
	 * may come here before ferry_cow_init: no pages, no list yet.
	 */
	if (vol->nr_copy_pages)
		list_for_each_entry_safe(page, next, &vol->copy_pages, lru)
			__free_page(page);
	vol->nr_copy_pages = 0;
	if (vol->clone_wq)
		destroy_workqueue(vol->clone_wq);
	ferry_fine_destroy(&vol->fine);
	if (vol->excmap.w16 || vol->excmap.w32)
		ferry_excmap_destroy(&vol->excmap,
				     vol->alloc.used ? ferry_cow_put : NULL,
				     &vol->alloc);
	if (vol->alloc.used)
		ferry_alloc_destroy(&vol->alloc);
	kfree(vol->live);
	vol->live = NULL;
	xa_destroy(&vol->pending);
}

u64 ferry_cow_bytes_total(struct ferry_volume *vol)
{
	return (vol->alloc.nr_chunks - vol->alloc.reserved) *
	       vol->chunk_size;
}

u64 ferry_cow_bytes_used(struct ferry_volume *vol)
{
	return vol->alloc.nr_used * vol->chunk_size;
}

/* Synchronous I/O of one chunk's pages. */
static int ferry_chunk_io(struct block_device *bdev, sector_t sector,
			  struct page **pages, unsigned int bytes,
			  blk_opf_t opf)
{
	unsigned int nr = DIV_ROUND_UP(bytes, PAGE_SIZE), i;
	struct bio *bio;
	int ret;

	bio = bio_alloc(bdev, nr, opf, GFP_NOIO);
	bio->bi_iter.bi_sector = sector;
	for (i = 0; i < nr; i++)
		__bio_add_page(bio, pages[i],
			       min_t(unsigned int, PAGE_SIZE,
				     bytes - i * PAGE_SIZE), 0);
	ret = submit_bio_wait(bio);
	bio_put(bio);
	return ret;
}

/* Under map_lock: sends COW_LOW once when free space falls low. */
static void ferry_cow_check_low(struct ferry_volume *vol)
{
	u64 total = vol->alloc.nr_chunks - vol->alloc.reserved;
	u64 free = ferry_alloc_free(&vol->alloc);

	if (!vol->cow_low && free * 100 < total * FERRY_COW_LOW_PERCENT) {
		vol->cow_low = true;
		ferry_event(vol, FERRY_EVENT_COW_LOW, 0, NULL,
			    "CoW store space is low", GFP_NOIO);
	} else if (vol->cow_low &&
		   free * 100 >= total * 2 * FERRY_COW_LOW_PERCENT) {
		vol->cow_low = false;
	}
}

/* Queues the copy's next stage for copy_work. */
static void ferry_copy_next(struct ferry_copy *copy,
			    enum ferry_copy_stage stage)
{
	struct ferry_volume *vol = copy->vol;
	unsigned long flags;

	spin_lock_irqsave(&vol->copy_lock, flags);
	copy->stage = stage;
	list_add_tail(&copy->node, &vol->copy_ready);
	spin_unlock_irqrestore(&vol->copy_lock, flags);
	queue_work(vol->wq, &vol->copy_work);
}

/* Starts a new copy now, or parks it until a running one ends. */
static void ferry_copy_admit(struct ferry_copy *copy)
{
	struct ferry_volume *vol = copy->vol;
	bool run;

	spin_lock_irq(&vol->copy_lock);
	run = vol->copies_running < vol->copies_max;
	if (run)
		vol->copies_running++;
	else
		list_add_tail(&copy->node, &vol->copy_backlog);
	spin_unlock_irq(&vol->copy_lock);
	if (run)
		ferry_copy_next(copy, FERRY_COPY_START);
}

/* A copy ended: its slot goes to the oldest parked one. */
static void ferry_copy_slot_free(struct ferry_volume *vol)
{
	struct ferry_copy *next;

	spin_lock_irq(&vol->copy_lock);
	next = list_first_entry_or_null(&vol->copy_backlog, struct ferry_copy,
					node);
	if (next)
		list_del(&next->node);
	else
		vol->copies_running--;
	spin_unlock_irq(&vol->copy_lock);
	if (next)
		ferry_copy_next(next, FERRY_COPY_START);
}

/*
 * The chunk's old data is safe in the pages (or lost): its writes go to
 * the origin once the snapshot reads already sent there are done; the
 * snapshot reads that come later wait for the copy's end.
 */
static void ferry_copy_release(struct ferry_copy *copy)
{
	struct ferry_volume *vol = copy->vol;
	struct bio_list bios;
	struct bio *bio;

	mutex_lock(&vol->map_lock);
	copy->divert_reads = true;
	mutex_unlock(&vol->map_lock);
	wait_event(vol->readers_wait,
		   !atomic_read(&vol->origin_readers[ferry_reader_bucket(copy->chunk)]));
	mutex_lock(&vol->map_lock);
	copy->released = true;
	ferry_written_set(&vol->excmap, copy->chunk, copy->epoch);
	bios = copy->waiting;
	bio_list_init(&copy->waiting);
	mutex_unlock(&vol->map_lock);
	while ((bio = bio_list_pop(&bios)))
		ferry_pass_through(vol, bio);
}

/*
 * Ends a copy job: its snapshot readers look again, the writes of a later
 * epoch go through the write path again, its slot is free.
 */
static void ferry_copy_done(struct ferry_copy *copy)
{
	struct ferry_volume *vol = copy->vol;
	struct bio_list retry, readers;
	struct bio *bio;

	ferry_copy_pages_put(vol, copy->pages, copy->nr_pages);
	if (!copy->released)	/* it failed before its read was done */
		ferry_copy_release(copy);
	mutex_lock(&vol->map_lock);
	xa_erase(&vol->pending, copy->chunk);
	retry = copy->retry;
	readers = copy->readers;
	mutex_unlock(&vol->map_lock);
	wake_up_all(&vol->copy_wait);
	ferry_copy_slot_free(vol);
	kfree(copy);
	while ((bio = bio_list_pop(&retry)))
		ferry_cow_write_bio(vol, bio);
	while ((bio = bio_list_pop(&readers))) {
		struct ferry_snap *snap = bio->bi_bdev->bd_disk->private_data;

		/* Through the block layer again; then it no longer pins snap. */
		submit_bio_noacct(bio);
		if (atomic64_dec_and_test(&snap->in_flight))
			wake_up_var(&snap->in_flight);
	}
	/* Last: once the count is zero, detach may free vol. */
	if (atomic_dec_and_test(&vol->copies_live))
		wake_up_var(&vol->copies_live);
}

/* The copy failed: the snapshots that needed it go, the writes proceed. */
static void ferry_copy_fail(struct ferry_copy *copy, const char *why,
			    bool device_error)
{
	struct ferry_volume *vol = copy->vol;

	if (device_error)
		ferry_event(vol, FERRY_EVENT_DEVICE_ERROR, 0, NULL, why,
			    GFP_NOIO);
	kfree(copy->exc);
	ferry_snap_invalidate(vol, copy->lo, copy->hi, why);
	ferry_copy_done(copy);
}

static void ferry_copy_endio(struct bio *bio)
{
	struct ferry_copy *copy = bio->bi_private;
	bool was_read = bio_op(bio) == REQ_OP_READ;

	copy->status = bio->bi_status;
	bio_put(bio);
	ferry_copy_next(copy, was_read && !copy->status ? FERRY_COPY_WRITE :
							  FERRY_COPY_FINISH);
}

/* Sends the copy's pages to or from @bdev at chunk @chunk, asynchronously. */
static void ferry_copy_submit(struct ferry_copy *copy,
			      struct block_device *bdev, u64 chunk,
			      blk_opf_t opf)
{
	struct ferry_volume *vol = copy->vol;
	unsigned int bytes = ferry_chunk_bytes(vol, copy->chunk), i;
	struct bio *bio;

	bio = bio_alloc(bdev, copy->nr_pages, opf, GFP_NOIO);
	bio->bi_iter.bi_sector = ferry_chunk_sector(vol, chunk);
	for (i = 0; i < copy->nr_pages; i++)
		__bio_add_page(bio, copy->pages[i],
			       min_t(unsigned int, PAGE_SIZE,
				     bytes - i * PAGE_SIZE), 0);
	bio->bi_private = copy;
	bio->bi_end_io = ferry_copy_endio;
	submit_bio(bio);
}

/* Stage 1: a CoW chunk, an exception and pages; then read the origin. */
static void ferry_copy_start(struct ferry_copy *copy)
{
	struct ferry_volume *vol = copy->vol;

	copy->exc = kzalloc(sizeof(*copy->exc), GFP_NOIO);
	copy->dst = -ENOMEM;
	mutex_lock(&vol->map_lock);
	if (copy->exc) {
		copy->dst = ferry_alloc_get(&vol->alloc);
		ferry_cow_check_low(vol);
	}
	mutex_unlock(&vol->map_lock);
	if (copy->dst < 0) {
		ferry_copy_fail(copy, copy->dst == -ENOSPC ? "CoW store full" :
							     "out of memory",
				false);
		return;
	}
	if (!ferry_copy_pages_get(vol, copy->pages, copy->nr_pages)) {
		mutex_lock(&vol->map_lock);
		ferry_alloc_put(&vol->alloc, copy->dst);
		mutex_unlock(&vol->map_lock);
		ferry_copy_fail(copy, "out of memory", true);
		return;
	}
	ferry_copy_submit(copy, vol->data.bdev, copy->chunk, REQ_OP_READ);
}

/* Stage 3: publish the exception (only now that its data is written). */
static void ferry_copy_finish(struct ferry_copy *copy)
{
	struct ferry_volume *vol = copy->vol;
	struct ferry_exc *e = copy->exc;
	int ret = blk_status_to_errno(copy->status);

	mutex_lock(&vol->map_lock);
	if (!ret) {
		e->lo = copy->lo;
		e->hi = copy->hi;
		e->cow_chunk = copy->dst;
		ret = ferry_exc_insert(&vol->excmap, copy->chunk, e, GFP_NOIO);
	}
	if (ret)
		ferry_alloc_put(&vol->alloc, copy->dst);
	mutex_unlock(&vol->map_lock);
	if (!ret) {
		ferry_copy_done(copy);
		return;
	}
	ferry_copy_fail(copy, ret == -ENOMEM ? "out of memory" :
					       "I/O error preserving data",
			true);
}

/* list_sort orders: CoW writes by store chunk, reads by origin chunk. */
static int ferry_copy_cmp_dst(void *priv, const struct list_head *a,
			      const struct list_head *b)
{
	const struct ferry_copy *ca = list_entry(a, struct ferry_copy, node);
	const struct ferry_copy *cb = list_entry(b, struct ferry_copy, node);

	return ca->dst > cb->dst;
}

static int ferry_copy_cmp_chunk(void *priv, const struct list_head *a,
				const struct list_head *b)
{
	const struct ferry_copy *ca = list_entry(a, struct ferry_copy, node);
	const struct ferry_copy *cb = list_entry(b, struct ferry_copy, node);

	return ca->chunk > cb->chunk;
}

/*
 * Runs the next stage of every copy that has one, in batches under a plug,
 * one kind of I/O after the other: the plug merges a bio only with the
 * newest request for its device, so the origin reads, the origin writes
 * released and the CoW writes of neighbouring chunks (of one large write,
 * say) each reach the devices as a few large requests, as kcopyd's do.
 * Each stage is sorted first. Reads complete out of order, and the store
 * gives out its chunks in the order copies start: in store order, the CoW
 * writes of a batch of random first writes are neighbours too (a tenth of
 * the requests for 4 KiB random first writes). Starts in origin order let
 * the reads of several sequential writers merge, and give their copies
 * neighbouring store chunks.
 */
static void ferry_copy_work(struct work_struct *work)
{
	struct ferry_volume *vol = container_of(work, struct ferry_volume,
						copy_work);
	struct ferry_copy *copy, *next;
	struct list_head stage[3];
	struct blk_plug plug;
	LIST_HEAD(batch);
	unsigned int i;

	for (;;) {
		spin_lock_irq(&vol->copy_lock);
		list_splice_init(&vol->copy_ready, &batch);
		spin_unlock_irq(&vol->copy_lock);
		if (list_empty(&batch))
			return;
		for (i = 0; i < ARRAY_SIZE(stage); i++)
			INIT_LIST_HEAD(&stage[i]);
		list_for_each_entry_safe(copy, next, &batch, node)
			list_move_tail(&copy->node, &stage[copy->stage]);
		list_sort(NULL, &stage[FERRY_COPY_WRITE], ferry_copy_cmp_dst);
		list_sort(NULL, &stage[FERRY_COPY_START], ferry_copy_cmp_chunk);
		blk_start_plug(&plug);
		/* Stage 2: the origin's data is in the pages. */
		list_for_each_entry(copy, &stage[FERRY_COPY_WRITE], node)
			ferry_copy_release(copy);
		list_for_each_entry_safe(copy, next, &stage[FERRY_COPY_WRITE],
					 node) {
			list_del(&copy->node);
			ferry_copy_submit(copy, vol->cow.bdev, copy->dst,
					  REQ_OP_WRITE);
		}
		list_for_each_entry_safe(copy, next, &stage[FERRY_COPY_START],
					 node) {
			list_del(&copy->node);
			ferry_copy_start(copy);
		}
		list_for_each_entry_safe(copy, next,
					 &stage[FERRY_COPY_FINISH], node) {
			list_del(&copy->node);
			ferry_copy_finish(copy);
		}
		blk_finish_plug(&plug);
	}
}

/*
 * Splits off and returns the part of @bio in its first chunk; the rest is
 * resubmitted and comes back through submit_bio on its own.
 */
static struct bio *ferry_split_chunk(struct ferry_volume *vol,
				     struct bio *bio)
{
	u64 c = ferry_sector_chunk(vol, bio->bi_iter.bi_sector);
	sector_t end = ferry_chunk_sector(vol, c + 1);
	struct bio *split;

	if (bio_end_sector(bio) <= end)
		return bio;
	split = bio_split(bio, end - bio->bi_iter.bi_sector, GFP_NOIO,
			  &vol->splits);
	bio_chain(split, bio);
	submit_bio_noacct(bio);
	return split;
}

/* Marks the 4 KiB blocks @bio writes in the precise changed-block map. */
static void ferry_fine_note(struct ferry_volume *vol, struct bio *bio)
{
	ferry_fine_mark(&vol->fine,
			bio->bi_iter.bi_sector / FERRY_FINE_SECTORS,
			(bio_end_sector(bio) - 1) / FERRY_FINE_SECTORS);
}

/*
 * Under map_lock, before the first write to chunk @c in this epoch: its
 * bits from before the precise map's start are dropped (unless a write
 * that waits for a copy already did) and its page of bits made ready.
 */
static void ferry_fine_first_write(struct ferry_volume *vol, u64 c)
{
	struct ferry_fine *f = &vol->fine;
	u64 first = c << f->chunk_shift;

	lockdep_assert_held(&vol->map_lock);
	if (!ferry_fine_on(f))
		return;
	if (ferry_written(&vol->excmap, c) < f->from &&
	    !xa_load(&vol->pending, c))
		ferry_fine_restart_chunk(f, c);
	ferry_fine_prepare(f, first, first + (1ULL << f->chunk_shift) - 1,
			   GFP_NOIO);
}

/* Origin write path; the bio has been admitted through the gate. */
void ferry_cow_write_bio(struct ferry_volume *vol, struct bio *bio)
{
	struct ferry_epochs live;
	struct ferry_copy *copy;
	unsigned int nr_pages;
	u64 first, last, c;
	u32 epoch, lo, hi;

	if (!bio_sectors(bio)) {
		ferry_pass_through(vol, bio);
		return;
	}
	first = ferry_sector_chunk(vol, bio->bi_iter.bi_sector);
	last = ferry_sector_chunk(vol, bio_end_sector(bio) - 1);
	/* Fast path: every chunk was already written in this epoch. */
	epoch = READ_ONCE(vol->epoch);
	for (c = first; c <= last; c++)
		if (ferry_written(&vol->excmap, c) != epoch)
			break;
	if (c > last) {
		/* Their first writes made the pages of bits ready. */
		ferry_fine_note(vol, bio);
		ferry_pass_through(vol, bio);
		return;
	}

	mutex_lock(&vol->map_lock);
	if (!vol->nr_live) {
		/* Nothing to preserve: only the changed-block maps move. */
		for (c = first; c <= last; c++) {
			ferry_fine_first_write(vol, c);
			ferry_written_set(&vol->excmap, c, vol->epoch);
		}
		ferry_fine_note(vol, bio);
		mutex_unlock(&vol->map_lock);
		ferry_pass_through(vol, bio);
		return;
	}
	if (first != last) {
		mutex_unlock(&vol->map_lock);
		bio = ferry_split_chunk(vol, bio);
		mutex_lock(&vol->map_lock);
	}
	ferry_fine_first_write(vol, first);
	ferry_fine_note(vol, bio);

	copy = xa_load(&vol->pending, first);
	if (copy && copy->epoch != vol->epoch) {
		/* The chunk as the copy left it may need preserving too. */
		bio_list_add(&copy->retry, bio);
		mutex_unlock(&vol->map_lock);
		return;
	}
	if (copy && !copy->released) {
		bio_list_add(&copy->waiting, bio);
		mutex_unlock(&vol->map_lock);
		return;
	}
	if (copy) {	/* its old data is in the copy's pages */
		mutex_unlock(&vol->map_lock);
		ferry_pass_through(vol, bio);
		return;
	}
	live.e = vol->live;
	live.n = vol->nr_live;
	if (!ferry_exc_need_copy(&vol->excmap, first, vol->epoch, &live, &lo,
				 &hi)) {
		ferry_written_set(&vol->excmap, first, vol->epoch);
		mutex_unlock(&vol->map_lock);
		ferry_pass_through(vol, bio);
		return;
	}
	nr_pages = DIV_ROUND_UP(ferry_chunk_bytes(vol, first), PAGE_SIZE);
	copy = kzalloc(struct_size(copy, pages, nr_pages), GFP_NOIO);
	if (!copy || xa_err(xa_store(&vol->pending, first, copy, GFP_NOIO))) {
		mutex_unlock(&vol->map_lock);
		kfree(copy);
		ferry_snap_invalidate(vol, lo, hi, "out of memory");
		mutex_lock(&vol->map_lock);
		ferry_written_set(&vol->excmap, first, vol->epoch);
		mutex_unlock(&vol->map_lock);
		ferry_pass_through(vol, bio);
		return;
	}
	copy->nr_pages = nr_pages;
	copy->vol = vol;
	copy->chunk = first;
	copy->lo = lo;
	copy->hi = hi;
	copy->epoch = vol->epoch;
	bio_list_init(&copy->waiting);
	bio_list_init(&copy->retry);
	bio_list_init(&copy->readers);
	bio_list_add(&copy->waiting, bio);
	atomic_inc(&vol->copies_live);
	mutex_unlock(&vol->map_lock);
	ferry_copy_admit(copy);
}

static void ferry_origin_read_done(struct ferry_volume *vol, u64 c);

static void ferry_snap_endio(struct bio *clone)
{
	struct bio *orig = clone->bi_private;
	struct ferry_snap *snap = orig->bi_bdev->bd_disk->private_data;
	struct ferry_volume *vol = snap->vol;
	u64 c = ferry_sector_chunk(vol, orig->bi_iter.bi_sector);

	if (clone->bi_bdev == vol->data.bdev)
		ferry_origin_read_done(vol, c);
	if (clone->bi_status)
		orig->bi_status = clone->bi_status;
	bio_put(clone);
	bio_endio(orig);
	/* Deletion waits for zero; wake_up_var() does not dereference. */
	if (atomic64_dec_and_test(&snap->in_flight))
		wake_up_var(&snap->in_flight);
}

/*
 * Under map_lock: where a snapshot's (or a clone's) chunk @c is. A clone
 * reads what it wrote itself, else its parent's view. An origin source is
 * counted in origin_readers until the I/O completes (ferry_snap_endio);
 * FERRY_SRC_COPYING gives the copy in *@copying: wait for its end and look
 * again.
 */
static enum ferry_src ferry_snap_locate(struct ferry_snap *snap, u64 c,
					u64 *cow, struct ferry_copy **copying)
{
	struct ferry_volume *vol = snap->vol;
	struct ferry_snap *base = snap->parent_snap ?: snap;
	struct ferry_copy *copy;
	enum ferry_src src;
	void *own;

	lockdep_assert_held(&vol->map_lock);
	if (snap->parent_snap) {
		own = xa_load(&snap->own, c);
		if (own) {
			*cow = xa_to_value(own);
			return FERRY_SRC_COW;
		}
	}
	if (base->state != FERRY_STATE_LIVE)
		return FERRY_SRC_LOST;
	/* Before the lookup: written moves before the copy is published. */
	copy = xa_load(&vol->pending, c);
	if (copy && copy->divert_reads) {
		*copying = copy;
		return FERRY_SRC_COPYING;
	}
	src = ferry_exc_lookup(&vol->excmap, c, base->epoch, cow);
	if (src == FERRY_SRC_ORIGIN)
		atomic_inc(&vol->origin_readers[ferry_reader_bucket(c)]);
	return src;
}

/* Waits until chunk @c has no copy in flight (xa_load needs no lock). */
static void ferry_wait_copy(struct ferry_volume *vol, u64 c)
{
	wait_event(vol->copy_wait, !xa_load(&vol->pending, c));
}

static void ferry_origin_read_done(struct ferry_volume *vol, u64 c)
{
	if (atomic_dec_and_test(&vol->origin_readers[ferry_reader_bucket(c)]))
		wake_up(&vol->readers_wait);
}

/*
 * A clone's first write to a chunk gives the clone its own copy of it in
 * the CoW store (the parent's view, unless the write covers the chunk);
 * every write then goes to that copy. Runs on the ordered clone_wq, so
 * two writes never race to create the same copy.
 */
struct ferry_clone_write {
	struct work_struct work;
	struct ferry_snap *snap;
	struct bio *bio;
};

static int ferry_clone_own_chunk(struct ferry_snap *snap, u64 c,
				 bool whole, u64 *dst)
{
	struct ferry_volume *vol = snap->vol;
	unsigned int bytes = ferry_chunk_bytes(vol, c);
	struct ferry_copy *copying;
	enum ferry_src src;
	s64 got;
	u64 from = 0;
	int ret = 0;
	void *own;

retry:
	mutex_lock(&vol->map_lock);
	own = xa_load(&snap->own, c);
	if (own) {
		mutex_unlock(&vol->map_lock);
		*dst = xa_to_value(own);
		return 0;
	}
	src = whole ? FERRY_SRC_COW :
		      ferry_snap_locate(snap, c, &from, &copying);
	if (src == FERRY_SRC_COPYING) {
		mutex_unlock(&vol->map_lock);
		ferry_wait_copy(vol, c);
		goto retry;
	}
	got = ferry_alloc_get(&vol->alloc);
	if (got >= 0)
		ferry_cow_check_low(vol);
	mutex_unlock(&vol->map_lock);
	if (got < 0) {
		if (src == FERRY_SRC_ORIGIN)
			ferry_origin_read_done(vol, c);
		return got;
	}

	if (src == FERRY_SRC_LOST) {
		ret = -EIO;
	} else if (!whole) {
		struct page **pages;
		unsigned int nr = DIV_ROUND_UP(bytes, PAGE_SIZE), i;

		pages = kcalloc(nr, sizeof(*pages), GFP_NOIO);
		for (i = 0; pages && i < nr; i++) {
			pages[i] = alloc_page(GFP_NOIO);
			if (!pages[i])
				break;
		}
		if (!pages || i < nr)
			ret = -ENOMEM;
		else if (src == FERRY_SRC_ORIGIN)
			ret = ferry_chunk_io(vol->data.bdev,
					     ferry_chunk_sector(vol, c), pages,
					     bytes, REQ_OP_READ);
		else
			ret = ferry_chunk_io(vol->cow.bdev,
					     ferry_chunk_sector(vol, from),
					     pages, bytes, REQ_OP_READ);
		if (src == FERRY_SRC_ORIGIN)
			ferry_origin_read_done(vol, c);
		if (!ret)
			ret = ferry_chunk_io(vol->cow.bdev,
					     ferry_chunk_sector(vol, got), pages,
					     bytes, REQ_OP_WRITE);
		for (i = 0; pages && i < nr && pages[i]; i++)
			__free_page(pages[i]);
		kfree(pages);
	}
	mutex_lock(&vol->map_lock);
	if (!ret)
		ret = xa_err(xa_store(&snap->own, c, xa_mk_value(got),
				      GFP_NOIO));
	if (ret)
		ferry_alloc_put(&vol->alloc, got);
	mutex_unlock(&vol->map_lock);
	*dst = got;
	return ret;
}

static void ferry_clone_write_work(struct work_struct *work)
{
	struct ferry_clone_write *w =
		container_of(work, struct ferry_clone_write, work);
	struct ferry_snap *snap = w->snap;
	struct ferry_volume *vol = snap->vol;
	struct bio *bio = w->bio, *clone;
	u64 c = ferry_sector_chunk(vol, bio->bi_iter.bi_sector), dst;
	bool whole = bio->bi_iter.bi_size == ferry_chunk_bytes(vol, c);
	int ret;

	kfree(w);
	ret = ferry_clone_own_chunk(snap, c, whole, &dst);
	if (ret) {
		bio->bi_status = ret == -ENOSPC ? BLK_STS_NOSPC :
						  BLK_STS_IOERR;
		bio_endio(bio);
		if (atomic64_dec_and_test(&snap->in_flight))
			wake_up_var(&snap->in_flight);
		return;
	}
	clone = bio_alloc_clone(vol->cow.bdev, bio, GFP_NOIO, &vol->clones);
	clone->bi_iter.bi_sector = ferry_chunk_sector(vol, dst) +
		(bio->bi_iter.bi_sector - ferry_chunk_sector(vol, c));
	clone->bi_private = bio;
	clone->bi_end_io = ferry_snap_endio;
	submit_bio_noacct(clone);
}

static void ferry_clone_write(struct ferry_snap *snap, struct bio *bio)
{
	struct ferry_clone_write *w = kmalloc(sizeof(*w), GFP_NOIO);

	if (!w) {
		bio->bi_status = BLK_STS_RESOURCE;
		bio_endio(bio);
		return;
	}
	INIT_WORK(&w->work, ferry_clone_write_work);
	w->snap = snap;
	w->bio = bio;
	atomic64_inc(&snap->in_flight);
	queue_work(snap->vol->clone_wq, &w->work);
}

/*
 * I/O to a snapshot device: reads from the origin or a preserved copy;
 * writes only to a writable clone.
 */
void ferry_snap_submit_bio(struct bio *bio)
{
	struct ferry_snap *snap = bio->bi_bdev->bd_disk->private_data;
	struct ferry_volume *vol = snap->vol;
	struct ferry_copy *copying;
	struct block_device *bdev;
	enum ferry_src src;
	struct bio *clone;
	u64 c, cow = 0;
	sector_t sector;

	if (!bio_sectors(bio) && bio_op(bio) == REQ_OP_WRITE) {
		/* A flush: a clone's data is scratch, nothing to make durable. */
		bio_endio(bio);
		return;
	}
	if (bio_op(bio) != REQ_OP_READ &&
	    (bio_op(bio) != REQ_OP_WRITE || !snap->parent_snap)) {
		bio->bi_status = BLK_STS_NOTSUPP;
		bio_endio(bio);
		return;
	}
	bio = ferry_split_chunk(vol, bio);
	if (bio_op(bio) == REQ_OP_WRITE) {
		ferry_clone_write(snap, bio);
		return;
	}
	c = ferry_sector_chunk(vol, bio->bi_iter.bi_sector);

	mutex_lock(&vol->map_lock);
	src = ferry_snap_locate(snap, c, &cow, &copying);
	if (src == FERRY_SRC_COPYING) {
		/* Sent again when the copy ends (ferry_copy_done). */
		atomic64_inc(&snap->in_flight);
		bio_list_add(&copying->readers, bio);
	}
	mutex_unlock(&vol->map_lock);
	if (src == FERRY_SRC_COPYING)
		return;

	if (src == FERRY_SRC_LOST) {
		bio_io_error(bio);
		return;
	}
	bdev = src == FERRY_SRC_ORIGIN ? vol->data.bdev : vol->cow.bdev;
	sector = bio->bi_iter.bi_sector;
	if (src == FERRY_SRC_COW)
		sector = ferry_chunk_sector(vol, cow) +
			 (sector - ferry_chunk_sector(vol, c));
	clone = bio_alloc_clone(bdev, bio, GFP_NOIO, &vol->clones);
	clone->bi_iter.bi_sector = sector;
	clone->bi_private = bio;
	clone->bi_end_io = ferry_snap_endio;
	atomic64_inc(&snap->in_flight);
	submit_bio_noacct(clone);
}
