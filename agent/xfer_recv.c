// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: the receiving side of a stream.
 *
 * Frames arrive in order on one socket and are read one at a time into a
 * free registered slot; the payload's crc is checked before anything is
 * written; then the write goes to the ring and the next frame is read
 * while it runs. ZERO frames write from a registered zero buffer.
 * Nothing is reported arrived before every write completed and the
 * device was flushed.
 *
 * A compressed DATA frame (ZSTD negotiated) is read into one more buffer
 * beside the arena, its crc checked there (the crc covers the bytes on
 * the wire), and decompressed into the slot, bounded by the frame's
 * length and required to fill it exactly; otherwise it is refused, and
 * nothing of it is written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "compress.h"
#include "resume.h"
#include "ring.h"
#include "xfer.h"

struct receiver {
	struct conn *c;
	struct ring ring;
	int fd;
	unsigned int nslots;
	uint8_t *arena; /* nslots data slots, then the zero buffer */
	bool *busy;
	uint32_t *len; /* of the write in flight per slot (and zero writes) */
	uint64_t *off;
	unsigned int zero_inflight;
	uint32_t zero_len[XFER_DEPTH * 4];
	uint64_t zero_off[XFER_DEPTH * 4];
	bool zero_busy[XFER_DEPTH * 4];
	struct decompressor *z; /* ZSTD negotiated */
	uint8_t *zbuf; /* a compressed payload, XFER_IO_SIZE */
};

#define ZERO_TAG (1ULL << 32)
#define NZERO (XFER_DEPTH * 4)

static uint8_t *slot_buf(struct receiver *r, unsigned int i)
{
	return r->arena + (size_t)i * XFER_IO_SIZE;
}

static int on_cqe(struct receiver *r, const struct ring_cqe *cq, struct ferr *e)
{
	unsigned int i = (unsigned int)(cq->user_data & 0xffffffffU);
	bool zero = cq->user_data & ZERO_TAG;
	uint32_t len = zero ? r->zero_len[i] : r->len[i];
	uint64_t off = zero ? r->zero_off[i] : r->off[i];

	if (zero) {
		r->zero_busy[i] = false;
		r->zero_inflight--;
	} else {
		r->busy[i] = false;
	}
	if (cq->res < 0)
		return ferr_set(e, cq->res, "writing the replica at %llu: %s",
				(unsigned long long)off, strerror(-cq->res));
	if ((uint32_t)cq->res != len)
		return ferr_set(e, -EIO, "short write of the replica at %llu",
				(unsigned long long)off);
	return 0;
}

/* Reaps completions; waits for at least @min. */
static int reap(struct receiver *r, unsigned int min, struct ferr *e)
{
	struct ring_cqe cq[RING_CQ_BATCH];
	int got, k, err = 0;

	got = ring_wait(&r->ring, min, cq, RING_CQ_BATCH);
	if (got < 0)
		return ferr_set(e, got, "io_uring: %s", strerror(-got));
	for (k = 0; k < got; k++) {
		int one = on_cqe(r, &cq[k], e);

		if (one && !err)
			err = one;
	}
	return err;
}

static int free_slot(struct receiver *r, struct ferr *e)
{
	unsigned int i;
	int err;

	for (;;) {
		for (i = 0; i < r->nslots; i++)
			if (!r->busy[i])
				return (int)i;
		err = reap(r, 1, e);
		if (err)
			return err;
	}
}

static int free_zero(struct receiver *r, struct ferr *e)
{
	unsigned int i;
	int err;

	for (;;) {
		if (ring_has_room(&r->ring))
			for (i = 0; i < NZERO; i++)
				if (!r->zero_busy[i])
					return (int)i;
		err = reap(r, 1, e);
		if (err)
			return err;
	}
}

static int drain(struct receiver *r, struct ferr *e)
{
	int err = 0, one;

	while (r->ring.uring ? r->ring.inflight + r->ring.pending :
			       r->ring.ndone) {
		one = reap(r, 1, e);
		if (one && !err)
			err = one;
	}
	return err;
}

static int setup(struct receiver *r, const struct xfer_opts *o, struct ferr *e)
{
	struct iovec iov[XFER_DEPTH * 2 + 1];
	unsigned int i;
	int err;

	r->nslots = o->depth ? o->depth : XFER_DEPTH;
	if (r->nslots > XFER_DEPTH * 2)
		r->nslots = XFER_DEPTH * 2;
	r->busy = calloc(r->nslots, sizeof(*r->busy));
	r->len = calloc(r->nslots, sizeof(*r->len));
	r->off = calloc(r->nslots, sizeof(*r->off));
	if (!r->busy || !r->len || !r->off ||
	    posix_memalign((void **)&r->arena, 4096,
			   (size_t)(r->nslots + 1) * XFER_IO_SIZE))
		return ferr_set(e, -ENOMEM, "out of memory");
	memset(slot_buf(r, r->nslots), 0, XFER_IO_SIZE);
	for (i = 0; i <= r->nslots; i++) {
		iov[i].iov_base = slot_buf(r, i);
		iov[i].iov_len = XFER_IO_SIZE;
	}
	err = ring_init(&r->ring, r->nslots + NZERO, iov, r->nslots + 1,
			o->verbose, e);
	if (!err && (r->c->features & WIRE_FEAT_ZSTD)) {
		err = decompressor_new(&r->z, e);
		r->zbuf = err ? NULL : malloc(XFER_IO_SIZE);
		if (!err && !r->zbuf)
			err = ferr_set(e, -ENOMEM, "out of memory");
	}
	if (!err && o->verbose) {
		char how[128];

		ring_describe(&r->ring, how, sizeof(how));
		fprintf(stderr, "ferry: receiving with %s, %u x %u KiB\n", how,
			r->nslots, XFER_IO_SIZE / 1024);
	}
	return err;
}

static int check_aligned(const struct wire_hdr *h, unsigned int lbs,
			 struct ferr *e)
{
	if (h->arg0 % lbs || h->arg1 % lbs)
		return ferr_set(
			e, -EPROTO,
			"%s frame at %llu+%llu is not aligned to the replica's %u-byte blocks",
			wire_type_name(h->type), (unsigned long long)h->arg0,
			(unsigned long long)h->arg1, lbs);
	return 0;
}

/* A DATA frame whose payload crc does not match: refused, not written. */
static int bad_frame(const struct wire_hdr *h, struct ferr *e)
{
	char why[sizeof(e->msg)];

	snprintf(why, sizeof(why), "%s", e->msg);
	return ferr_set(e, -EBADMSG,
			"%s (offset %llu, %llu bytes): refused, not written",
			why, (unsigned long long)h->arg0,
			(unsigned long long)h->arg1);
}

/*
 * A DATA frame's payload into slot @i, checked: its crc (-EBADMSG: damaged
 * in transit, the sender may resume), then, compressed, its expansion to
 * exactly the frame's length (-EPROTO: refused for good).
 */
static int recv_data(struct receiver *r, const struct wire_hdr *h,
		     unsigned int i, struct xfer_stats *st, struct ferr *e)
{
	int err;

	if (!(h->flags & WIRE_F_ZSTD)) {
		err = conn_recv_body(r->c, h, slot_buf(r, i), e);
		if (err == -EBADMSG)
			return bad_frame(h, e);
		if (!err)
			st->data_wire_bytes += h->payload_len;
		return err;
	}
	if (!r->z) /* wire_hdr_decode() refuses it first */
		return ferr_set(e, -EPROTO, "unexpected compressed DATA frame");
	err = conn_recv_body(r->c, h, r->zbuf, e);
	if (err == -EBADMSG)
		return bad_frame(h, e);
	if (err)
		return err;
	err = decompress_data(r->z, h, r->zbuf, slot_buf(r, i), e);
	if (err)
		return err;
	st->data_wire_bytes += h->payload_len;
	st->zstd_frames++;
	return 0;
}

/* Frames come in offset order; what lies below the last one is written. */
static int in_order(const struct wire_hdr *h, uint64_t next, struct ferr *e)
{
	if (h->arg0 < next)
		return ferr_set(
			e, -EPROTO,
			"%s frame at %llu comes after %llu: frames out of order",
			wire_type_name(h->type), (unsigned long long)h->arg0,
			(unsigned long long)next);
	return 0;
}

/* Everything written so far made durable, then the offset recorded. */
static int checkpoint(struct receiver *r, const struct xfer_opts *o,
		      uint64_t offset, struct ferr *e)
{
	int err = drain(r, e);

	if (err)
		return err;
	if (fdatasync(r->fd))
		return ferr_set(e, -errno, "flushing the replica: %s",
				strerror(errno));
	return o->checkpoint(o->arg, offset, e);
}

static int stream(struct receiver *r, unsigned int lbs,
		  const struct xfer_opts *o, struct xfer_stats *st,
		  struct ferr *e)
{
	uint64_t next = o->start, saved = o->start;
	int idle_ms = o->idle_ms;
	struct wire_hdr h;
	int err, i;

	for (;;) {
		err = reap(r, 0, e);
		if (err)
			return err;
		r->c->deadline_ms = idle_ms ? mono_ms() + idle_ms : 0;
		err = conn_recv_hdr(r->c, &h, e);
		if (err)
			return err;
		switch (h.type) {
		case WIRE_DATA:
			err = check_aligned(&h, lbs, e);
			if (!err)
				err = in_order(&h, next, e);
			if (err)
				return err;
			i = free_slot(r, e);
			if (i < 0)
				return i;
			err = recv_data(r, &h, (unsigned int)i, st, e);
			if (err)
				return err;
			r->busy[i] = true;
			r->len[i] = (uint32_t)h.arg1;
			r->off[i] = h.arg0;
			err = ring_write(&r->ring, r->fd, slot_buf(r, i),
					 (uint32_t)h.arg1, h.arg0, i,
					 (uint64_t)i);
			st->data_bytes += h.arg1;
			break;
		case WIRE_ZERO:
			err = check_aligned(&h, lbs, e);
			if (!err)
				err = in_order(&h, next, e);
			if (err)
				return err;
			i = free_zero(r, e);
			if (i < 0)
				return i;
			r->zero_busy[i] = true;
			r->zero_inflight++;
			r->zero_len[i] = (uint32_t)h.arg1;
			r->zero_off[i] = h.arg0;
			err = ring_write(&r->ring, r->fd,
					 slot_buf(r, r->nslots),
					 (uint32_t)h.arg1, h.arg0,
					 (int)r->nslots,
					 ZERO_TAG | (uint64_t)i);
			st->zero_bytes += h.arg1;
			break;
		case WIRE_STREAM_END:
			err = drain(r, e);
			if (err)
				return err;
			if (h.arg0 != st->data_bytes + st->zero_bytes ||
			    h.arg1 != st->frames)
				return ferr_set(
					e, -EPROTO,
					"STREAM_END reports %llu bytes in %llu frames, %llu in %llu arrived",
					(unsigned long long)h.arg0,
					(unsigned long long)h.arg1,
					(unsigned long long)(st->data_bytes +
							     st->zero_bytes),
					(unsigned long long)st->frames);
			if (fdatasync(r->fd))
				return ferr_set(e, -errno,
						"flushing the replica: %s",
						strerror(errno));
			return 0;
		default:
			return ferr_set(e, -EPROTO,
					"unexpected %s frame in a stream",
					wire_type_name(h.type));
		}
		if (err)
			return ferr_set(e, err, "cannot queue a write");
		st->frames++;
		next = h.arg0 + h.arg1;
		st->end_offset = next;
		if (o->checkpoint && next - saved >= RESUME_EVERY) {
			err = checkpoint(r, o, next, e);
			if (err)
				return err;
			saved = next;
		}
	}
}

int xfer_recv(struct conn *c, int dev_fd, unsigned int lbs,
	      const struct xfer_opts *o, struct xfer_stats *st, struct ferr *e)
{
	struct receiver r = { .c = c, .fd = dev_fd };
	struct ferr ignored;
	int err;

	memset(st, 0, sizeof(*st));
	if (!lbs)
		lbs = WIRE_ALIGN;
	err = setup(&r, o, e);
	if (!err)
		err = stream(&r, lbs, o, st, e);
	/* Never free buffers the kernel may still write from. */
	drain(&r, &ignored);
	ring_exit(&r.ring);
	free(r.busy);
	free(r.len);
	free(r.off);
	free(r.arena);
	free(r.zbuf);
	decompressor_free(r.z);
	return err;
}
