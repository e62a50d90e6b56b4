// SPDX-License-Identifier: GPL-2.0
/*
 * ferry: the CoW store's on-disk format.
 *
 * Chunk 0 holds the header. While a volume is attached the header says
 * "dirty"; a clean detach writes the snapshot metadata (snapshots, tags,
 * the last-write epoch of every origin chunk, the exception table) into
 * chunks of the store chained from the header, then marks it clean. An
 * attach of a clean store loads that metadata back and frees its chunks;
 * an attach of a dirty one (unclean shutdown) or of an origin of another
 * size cannot trust it: the snapshots are dropped and the changed-block
 * identity's generation is bumped so that replication knows it needs a
 * full resync. docs/formats.md describes the layout.
 */
#include <linux/blkdev.h>
#include <linux/crc32.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "ferry.h"
#include "names.h"

#define FERRY_MAGIC	0x574f435952524546ULL	/* "FERRYCOW" */
#define FERRY_VERSION	1
#define FERRY_HDR_BYTES	4096

struct ferry_disk_header {
	__le64 magic;
	__le32 version;
	__le32 chunk_size;
	__le64 origin_sectors;
	u8 uuid[16];
	u8 cbt_uuid[16];
	__le64 cbt_gen;
	__le32 clean;		/* 1: metadata below is valid */
	__le32 epoch;
	__le32 next_snap_id;
	__le32 meta_crc;	/* crc32 of the metadata stream */
	__le64 meta_chunk;	/* first chunk of the stream, 0: none */
	__le64 meta_bytes;
	__le32 hdr_crc;		/* crc32 of the header up to here */
} __packed;

/* Each metadata chunk starts with the number of the next one (0: last). */
#define FERRY_META_LINK	sizeof(__le64)

static int ferry_buf_io(struct block_device *bdev, sector_t sector,
			void *buf, size_t len, blk_opf_t opf)
{
	unsigned int nr = DIV_ROUND_UP(len, PAGE_SIZE), i;
	struct page **pages;
	struct bio *bio;
	int ret = -ENOMEM;

	pages = kcalloc(nr, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!pages[i])
			goto out;
		if (op_is_write(opf))
			memcpy(page_address(pages[i]), buf + i * PAGE_SIZE,
			       min_t(size_t, PAGE_SIZE, len - i * PAGE_SIZE));
	}
	bio = bio_alloc(bdev, nr, opf, GFP_KERNEL);
	bio->bi_iter.bi_sector = sector;
	for (i = 0; i < nr; i++)
		__bio_add_page(bio, pages[i], PAGE_SIZE, 0);
	ret = submit_bio_wait(bio);
	bio_put(bio);
	if (!ret && !op_is_write(opf))
		for (i = 0; i < nr; i++)
			memcpy(buf + i * PAGE_SIZE, page_address(pages[i]),
			       min_t(size_t, PAGE_SIZE, len - i * PAGE_SIZE));
out:
	for (i = 0; i < nr && pages[i]; i++)
		__free_page(pages[i]);
	kfree(pages);
	return ret;
}

static u32 ferry_hdr_crc(const struct ferry_disk_header *h)
{
	return crc32_le(~0, (const u8 *)h, offsetof(typeof(*h), hdr_crc));
}

static int ferry_write_header(struct ferry_volume *vol, bool clean,
			      u64 meta_chunk, u64 meta_bytes, u32 meta_crc)
{
	struct ferry_disk_header *h;
	int ret;

	h = kzalloc(FERRY_HDR_BYTES, GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	h->magic = cpu_to_le64(FERRY_MAGIC);
	h->version = cpu_to_le32(FERRY_VERSION);
	h->chunk_size = cpu_to_le32(vol->chunk_size);
	h->origin_sectors = cpu_to_le64(bdev_nr_sectors(vol->data.bdev));
	export_uuid(h->uuid, &vol->cow_uuid);
	export_uuid(h->cbt_uuid, &vol->cbt_uuid);
	h->cbt_gen = cpu_to_le64(vol->cbt_gen);
	h->clean = cpu_to_le32(clean);
	h->epoch = cpu_to_le32(vol->epoch);
	h->next_snap_id = cpu_to_le32(vol->next_snap_id);
	h->meta_crc = cpu_to_le32(meta_crc);
	h->meta_chunk = cpu_to_le64(meta_chunk);
	h->meta_bytes = cpu_to_le64(meta_bytes);
	h->hdr_crc = cpu_to_le32(ferry_hdr_crc(h));
	ret = ferry_buf_io(vol->cow.bdev, 0, h, FERRY_HDR_BYTES,
			   REQ_OP_WRITE | REQ_PREFLUSH | REQ_FUA);
	kfree(h);
	return ret;
}

/* A cursor over the metadata stream, bounds-checked on load. */
struct ferry_meta {
	u8 *buf;
	size_t len, pos;
	bool bad;
};

static void ferry_meta_put(struct ferry_meta *m, const void *p, size_t n)
{
	if (m->buf)
		memcpy(m->buf + m->pos, p, n);
	m->pos += n;
}

static void ferry_meta_get(struct ferry_meta *m, void *p, size_t n)
{
	if (m->bad || n > m->len - m->pos) {
		m->bad = true;
		memset(p, 0, n);
		return;
	}
	memcpy(p, m->buf + m->pos, n);
	m->pos += n;
}

#define META_PUT(m, v)	ferry_meta_put(m, &(v), sizeof(v))
#define META_GET(m, v)	ferry_meta_get(m, &(v), sizeof(v))

struct ferry_meta_snap {
	__le32 id, epoch, state, frozen;
	__le64 created_ns, stall_ns, freeze_ns;
	char label[FERRY_LABEL_MAX + 1];
	__le32 nr_tags;
} __packed;

struct ferry_meta_exc {
	__le64 chunk, cow_chunk;
	__le32 lo, hi;
} __packed;

/* Serialises (or, with m->buf NULL, measures) the volume's metadata. */
static void ferry_meta_write(struct ferry_volume *vol, struct ferry_meta *m)
{
	struct ferry_snap *snap;
	struct ferry_exc *e;
	unsigned long c;
	__le32 n = 0, w;
	__le64 nexc = cpu_to_le64(vol->excmap.nr_excs);
	u64 i;

	list_for_each_entry(snap, &vol->snaps, node)
		if (!snap->parent)	/* clones are not kept */
			le32_add_cpu(&n, 1);
	META_PUT(m, n);
	list_for_each_entry(snap, &vol->snaps, node) {
		struct ferry_meta_snap ms = {
			.id = cpu_to_le32(snap->id),
			.epoch = cpu_to_le32(snap->epoch),
			.state = cpu_to_le32(snap->state),
			.frozen = cpu_to_le32(snap->frozen),
			.created_ns = cpu_to_le64(snap->created_ns),
			.stall_ns = cpu_to_le64(snap->stall_ns),
			.freeze_ns = cpu_to_le64(snap->freeze_ns),
			.nr_tags = cpu_to_le32(snap->tags.n),
		};
		unsigned int t;

		if (snap->parent)
			continue;
		memcpy(ms.label, snap->label, sizeof(ms.label));
		META_PUT(m, ms);
		for (t = 0; t < snap->tags.n; t++) {
			__le16 len = cpu_to_le16(strlen(snap->tags.kv[t]));

			META_PUT(m, len);
			ferry_meta_put(m, snap->tags.kv[t], le16_to_cpu(len));
		}
	}
	for (i = 0; i < vol->nr_chunks; i++) {
		w = cpu_to_le32(ferry_written(&vol->excmap, i));
		META_PUT(m, w);
	}
	META_PUT(m, nexc);
	xa_for_each(&vol->excmap.excs, c, e) {
		for (; e; e = e->next) {
			struct ferry_meta_exc me = {
				.chunk = cpu_to_le64(c),
				.cow_chunk = cpu_to_le64(e->cow_chunk),
				.lo = cpu_to_le32(e->lo),
				.hi = cpu_to_le32(e->hi),
			};

			META_PUT(m, me);
		}
	}
}

static int ferry_meta_load_snaps(struct ferry_volume *vol,
				 struct ferry_meta *m)
{
	struct ferry_snap *snap;
	__le32 n;
	u32 i, t;

	META_GET(m, n);
	for (i = 0; i < le32_to_cpu(n) && !m->bad; i++) {
		struct ferry_meta_snap ms;
		char kv[FERRY_TAG_KEY_MAX + FERRY_TAG_VALUE_MAX + 2];

		META_GET(m, ms);
		snap = ferry_snap_alloc(vol, GFP_KERNEL);
		if (!snap)
			return -ENOMEM;
		snap->id = le32_to_cpu(ms.id);
		snap->epoch = le32_to_cpu(ms.epoch);
		snap->state = le32_to_cpu(ms.state) == FERRY_STATE_LIVE ?
			      FERRY_STATE_LIVE : FERRY_STATE_INVALID;
		snap->frozen = le32_to_cpu(ms.frozen);
		snap->created_ns = le64_to_cpu(ms.created_ns);
		snap->stall_ns = le64_to_cpu(ms.stall_ns);
		snap->freeze_ns = le64_to_cpu(ms.freeze_ns);
		memcpy(snap->label, ms.label, sizeof(snap->label));
		snap->label[FERRY_LABEL_MAX] = 0;
		list_add_tail(&snap->node, &vol->snaps);
		/* Epochs ascend with creation and precede the current one. */
		if (snap->epoch >= vol->epoch || snap->id >= vol->next_snap_id ||
		    (snap->node.prev != &vol->snaps &&
		     list_prev_entry(snap, node)->epoch >= snap->epoch))
			m->bad = true;
		for (t = 0; t < le32_to_cpu(ms.nr_tags) && !m->bad; t++) {
			__le16 len;

			META_GET(m, len);
			if (le16_to_cpu(len) >= sizeof(kv)) {
				m->bad = true;
				break;
			}
			ferry_meta_get(m, kv, le16_to_cpu(len));
			kv[le16_to_cpu(len)] = 0;
			if (!m->bad && ferry_tags_apply(&snap->tags, kv,
							GFP_KERNEL))
				m->bad = true;
		}
	}
	return m->bad ? -EINVAL : 0;
}

static int ferry_meta_load(struct ferry_volume *vol, struct ferry_meta *m)
{
	struct ferry_snap *snap;
	__le64 nexc;
	__le32 w;
	u64 i;
	int ret;

	ret = ferry_meta_load_snaps(vol, m);
	if (ret)
		return ret;
	/* Every live snapshot's epoch and the current one stay exact. */
	snap = list_first_entry_or_null(&vol->snaps, struct ferry_snap, node);
	ret = ferry_excmap_advance(&vol->excmap, vol->epoch,
				   snap ? min(snap->epoch, vol->epoch) :
					  vol->epoch);
	if (ret)
		return ret;
	for (i = 0; i < vol->nr_chunks && !m->bad; i++) {
		META_GET(m, w);
		if (le32_to_cpu(w) > vol->epoch)
			m->bad = true;
		else
			ferry_written_set(&vol->excmap, i,
					  max(le32_to_cpu(w),
					      vol->excmap.base));
	}
	META_GET(m, nexc);
	for (i = 0; i < le64_to_cpu(nexc) && !m->bad; i++) {
		struct ferry_meta_exc me;
		struct ferry_exc *e;

		META_GET(m, me);
		if (m->bad || le64_to_cpu(me.chunk) >= vol->nr_chunks ||
		    !ferry_alloc_mark(&vol->alloc, le64_to_cpu(me.cow_chunk)))
			return -EINVAL;
		e = kzalloc(sizeof(*e), GFP_KERNEL);
		if (!e)
			return -ENOMEM;
		e->lo = le32_to_cpu(me.lo);
		e->hi = le32_to_cpu(me.hi);
		e->cow_chunk = le64_to_cpu(me.cow_chunk);
		ret = ferry_exc_insert(&vol->excmap, le64_to_cpu(me.chunk), e,
				       GFP_KERNEL);
		if (ret) {
			kfree(e);
			return ret;
		}
	}
	return m->bad ? -EINVAL : 0;
}

/* Reads the metadata chain into one buffer. */
static int ferry_meta_read(struct ferry_volume *vol, u64 chunk, u64 bytes,
			   u32 crc, struct ferry_meta *m)
{
	size_t per = vol->chunk_size - FERRY_META_LINK, got = 0;
	u8 *cbuf;
	int ret = 0;

	if (bytes > (u64)vol->alloc.nr_chunks * per)
		return -EINVAL;
	m->buf = kvmalloc(max_t(u64, bytes, 1), GFP_KERNEL);
	cbuf = kvmalloc(vol->chunk_size, GFP_KERNEL);
	if (!m->buf || !cbuf) {
		ret = -ENOMEM;
		goto out;
	}
	m->len = bytes;
	while (got < bytes) {
		size_t n = min_t(size_t, per, bytes - got);

		if (!chunk || chunk >= vol->alloc.nr_chunks) {
			ret = -EINVAL;
			break;
		}
		ret = ferry_buf_io(vol->cow.bdev, ferry_chunk_sector(vol, chunk),
				   cbuf, vol->chunk_size, REQ_OP_READ);
		if (ret)
			break;
		memcpy(m->buf + got, cbuf + FERRY_META_LINK, n);
		got += n;
		chunk = le64_to_cpup((__le64 *)cbuf);
	}
	if (!ret && crc32_le(~0, m->buf, bytes) != crc)
		ret = -EILSEQ;
out:
	kvfree(cbuf);
	return ret;
}

/* Writes the metadata into freshly allocated chunks; returns the first. */
static int ferry_meta_save(struct ferry_volume *vol, u64 *first, u64 *bytes,
			   u32 *crc)
{
	size_t per = vol->chunk_size - FERRY_META_LINK, done;
	struct ferry_meta m = {};
	u64 nr, i, *chunks = NULL;
	u8 *cbuf = NULL;
	int ret = -ENOMEM;

	ferry_meta_write(vol, &m);		/* measure */
	m.len = m.pos;
	m.pos = 0;
	m.buf = kvmalloc(max_t(size_t, m.len, 1), GFP_KERNEL);
	nr = DIV_ROUND_UP(m.len, per);
	chunks = kvcalloc(max_t(u64, nr, 1), sizeof(*chunks), GFP_KERNEL);
	cbuf = kvmalloc(vol->chunk_size, GFP_KERNEL);
	if (!m.buf || !chunks || !cbuf)
		goto out;
	ferry_meta_write(vol, &m);
	for (i = 0; i < nr; i++) {
		s64 c = ferry_alloc_get(&vol->alloc);

		if (c < 0) {
			ret = -ENOSPC;
			goto out;
		}
		chunks[i] = c;
	}
	for (i = 0, done = 0; i < nr; i++, done += per) {
		__le64 next = cpu_to_le64(i + 1 < nr ? chunks[i + 1] : 0);

		memset(cbuf, 0, vol->chunk_size);
		memcpy(cbuf, &next, sizeof(next));
		memcpy(cbuf + FERRY_META_LINK, m.buf + done,
		       min_t(size_t, per, m.len - done));
		ret = ferry_buf_io(vol->cow.bdev,
				   ferry_chunk_sector(vol, chunks[i]), cbuf,
				   vol->chunk_size, REQ_OP_WRITE);
		if (ret)
			goto out;
	}
	*first = nr ? chunks[0] : 0;
	*bytes = m.len;
	*crc = crc32_le(~0, m.buf, m.len);
	ret = 0;
out:
	kvfree(cbuf);
	kvfree(chunks);
	kvfree(m.buf);
	return ret;
}

static int ferry_store_init_maps(struct ferry_volume *vol)
{
	u64 nr = bdev_nr_sectors(vol->cow.bdev) >> ilog2(vol->chunk_size >>
							 SECTOR_SHIFT);
	int ret;

	ret = ferry_cow_init(vol);
	if (ret)
		return ret;
	/* Chunk 0 is the header; a store needs room for some data. */
	if (nr < 4)
		return -ENOSPC;
	return ferry_alloc_init(&vol->alloc, nr, 1);
}

/* Forgets everything loaded: snapshots, exceptions, last-write epochs. */
static int ferry_store_reset_maps(struct ferry_volume *vol)
{
	u64 nr = vol->alloc.nr_chunks;
	int ret;

	ferry_snaps_free(vol);
	ferry_excmap_destroy(&vol->excmap, NULL, NULL);
	ferry_alloc_destroy(&vol->alloc);
	ret = ferry_excmap_init(&vol->excmap, vol->nr_chunks);
	if (!ret)
		ret = ferry_alloc_init(&vol->alloc, nr, 1);
	return ret;
}

int ferry_store_open(struct ferry_volume *vol, struct netlink_ext_ack *extack)
{
	struct ferry_disk_header *h;
	struct ferry_meta m = {};
	const char *why;
	int ret;

	h = kzalloc(FERRY_HDR_BYTES, GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	ret = ferry_buf_io(vol->cow.bdev, 0, h, FERRY_HDR_BYTES, REQ_OP_READ);
	if (ret) {
		NL_SET_ERR_MSG(extack, "cannot read the CoW store header");
		goto out;
	}
	if (le64_to_cpu(h->magic) != FERRY_MAGIC) {
		/* A new store. */
		uuid_gen(&vol->cow_uuid);
		uuid_gen(&vol->cbt_uuid);
		vol->cbt_gen = 1;
		vol->epoch = 1;
		vol->next_snap_id = 1;
		ret = ferry_store_init_maps(vol);
		goto write;
	}
	if (le32_to_cpu(h->hdr_crc) != ferry_hdr_crc(h) ||
	    le32_to_cpu(h->version) != FERRY_VERSION ||
	    !ferry_chunk_size_valid(le32_to_cpu(h->chunk_size))) {
		NL_SET_ERR_MSG(extack,
			       "the CoW store header is corrupt or of another version");
		ret = -EINVAL;
		goto out;
	}
	vol->chunk_size = le32_to_cpu(h->chunk_size);
	import_uuid(&vol->cow_uuid, h->uuid);
	import_uuid(&vol->cbt_uuid, h->cbt_uuid);
	vol->cbt_gen = le64_to_cpu(h->cbt_gen);
	vol->epoch = le32_to_cpu(h->epoch);
	vol->next_snap_id = le32_to_cpu(h->next_snap_id);
	ret = ferry_store_init_maps(vol);
	if (ret)
		goto write;

	why = NULL;
	if (le32_to_cpu(h->clean) != 1)
		why = "was not detached cleanly";
	else if (le64_to_cpu(h->origin_sectors) != bdev_nr_sectors(vol->data.bdev))
		why = "belongs to a data device of another size";
	if (!why && h->meta_chunk) {
		ret = ferry_meta_read(vol, le64_to_cpu(h->meta_chunk),
				      le64_to_cpu(h->meta_bytes),
				      le32_to_cpu(h->meta_crc), &m);
		if (!ret)
			ret = ferry_meta_load(vol, &m);
		kvfree(m.buf);
		if (ret)
			why = "has unreadable snapshot metadata";
		ret = 0;
	}
	if (why) {
		/*
		 * Unclean shutdown, a resized origin or unreadable metadata:
		 * nothing about past writes can be trusted.
		 */
		pr_warn("ferry: %s: the CoW store %s; snapshots dropped, changed-block tracking restarts\n",
			vol->name, why);
		ret = ferry_store_reset_maps(vol);
		vol->cbt_gen++;
		vol->epoch++;
	}
	if (!ret) {
		mutex_lock(&vol->map_lock);
		ret = ferry_live_rebuild(vol);
		mutex_unlock(&vol->map_lock);
	}
write:
	if (ret) {
		if (ret == -ENOSPC)
			NL_SET_ERR_MSG(extack,
				       "the CoW device is too small for this chunk size");
		else
			NL_SET_ERR_MSG(extack, "out of memory for the snapshot maps");
		goto out;
	}
	/* Dirty until a clean detach: a crash must not trust the store. */
	ret = ferry_write_header(vol, false, 0, 0, 0);
	if (ret)
		NL_SET_ERR_MSG(extack, "cannot write the CoW store header");
	else
		vol->store_open = true;
out:
	kfree(h);
	return ret;
}

/*
 * Records the next snapshot id and epoch in the (dirty) header right after
 * a snapshot is created, so that even after a crash ids are never reused.
 * Caller holds ferry_volumes_lock, which serialises snapshot creation.
 */
void ferry_store_note_ids(struct ferry_volume *vol)
{
	if (ferry_write_header(vol, false, 0, 0, 0))
		pr_warn_ratelimited("ferry: %s: cannot update the CoW store header\n",
				    vol->name);
}

void ferry_store_close(struct ferry_volume *vol)
{
	u64 first = 0, bytes = 0;
	u32 crc = 0;
	int ret;

	if (!vol->store_open)
		return;
	vol->store_open = false;
	ret = ferry_meta_save(vol, &first, &bytes, &crc);
	if (!ret)
		ret = ferry_write_header(vol, true, first, bytes, crc);
	if (ret) {
		pr_warn("ferry: %s: cannot save snapshot metadata (%d); they will be dropped at the next attach\n",
			vol->name, ret);
		ferry_write_header(vol, false, 0, 0, 0);
	}
}
