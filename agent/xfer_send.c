// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: the sending side of a stream.
 *
 * Slot i of the arena is [4 KiB header page | XFER_IO_SIZE data]; a read
 * fills the data, the frame header is written just before it, so one
 * send covers header and payload. Pieces go to slots round robin and are
 * sent in the same order, one send at a time: reads complete in any
 * order, frames leave in sequence.
 *
 * With compression, a piece is compressed when its turn to be sent comes
 * into one more buffer, [header | payload], beside the arena: with one
 * send in flight, one is enough, and memory stays bounded. A piece that
 * does not shrink goes raw from its slot, as without compression.
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

#define HDR_PAGE 4096U
#define SEND_TAG (1ULL << 32) /* user_data: send of slot i is SEND_TAG|i */

enum slot_state { SLOT_FREE, SLOT_READING, SLOT_READY, SLOT_SENDING };

struct slot {
	enum slot_state state;
	uint64_t off;
	uint32_t len;
	uint8_t *data; /* aligned, XFER_IO_SIZE */
	uint8_t *frame; /* header, then payload */
	uint32_t frame_len;
	uint32_t sent; /* bytes of the frame sent */
	uint16_t type; /* WIRE_DATA or WIRE_ZERO */
	bool zstd; /* the payload is compressed */
};

struct sender {
	struct conn *c;
	struct ring ring;
	int fd;
	unsigned int nslots;
	struct slot *slots;
	uint8_t *arena;
	/* The cursor over the extents. */
	const struct extent *x;
	size_t n, xi;
	uint64_t xoff;
	uint64_t issued, done; /* pieces read (or reading) and fully sent */
	bool sending;
	struct xfer_stats *st;
	struct progress prog;
	struct bwlimit bw;
	struct compressor *z; /* NULL: no compression */
	uint8_t *zframe; /* WIRE_HDR_LEN + XFER_IO_SIZE: a compressed frame */
};

static bool next_piece(struct sender *s, uint64_t *off, uint32_t *len)
{
	uint64_t left;

	while (s->xi < s->n && s->xoff >= s->x[s->xi].length) {
		s->xi++;
		s->xoff = 0;
	}
	if (s->xi == s->n)
		return false;
	left = s->x[s->xi].length - s->xoff;
	*off = s->x[s->xi].offset + s->xoff;
	*len = left < XFER_IO_SIZE ? (uint32_t)left : XFER_IO_SIZE;
	s->xoff += *len;
	return true;
}

static int issue_reads(struct sender *s, struct ferr *e)
{
	struct slot *sl;
	int err;

	while (s->issued - s->done < s->nslots && ring_has_room(&s->ring)) {
		sl = &s->slots[s->issued % s->nslots];
		if (sl->state != SLOT_FREE ||
		    !next_piece(s, &sl->off, &sl->len))
			break;
		err = ring_read(&s->ring, s->fd, sl->data, sl->len, sl->off,
				(int)(s->issued % s->nslots),
				s->issued % s->nslots);
		if (err)
			return ferr_set(e, err, "cannot queue a read");
		sl->state = SLOT_READING;
		s->issued++;
	}
	return 0;
}

/*
 * Test only (docs/protocol.md): FERRY_TEST_CORRUPT_FRAME=N flips one
 * payload byte of the N-th DATA frame this process sends, after its crc
 * was computed; once per process. N+ does it to every DATA frame from the
 * N-th on (no retry can succeed).
 */
static void test_corrupt(struct slot *sl, uint8_t *payload, uint32_t len,
			 uint64_t seq)
{
	static long long nth = -1, seen;
	static bool every;
	const char *v;
	char *end;

	if (nth < 0) {
		v = getenv("FERRY_TEST_CORRUPT_FRAME");
		nth = v ? strtoll(v, &end, 10) : 0;
		every = v && *end == '+';
		if (nth < 0)
			nth = 0;
	}
	if (!nth)
		return;
	seen++;
	if (seen < nth || (seen > nth && !every))
		return;
	payload[len / 2] ^= 0x5a;
	fprintf(stderr,
		"ferry: test: FERRY_TEST_CORRUPT_FRAME: DATA frame %llu at offset %llu corrupted\n",
		(unsigned long long)seq, (unsigned long long)sl->off);
}

/* Turns the oldest read into a frame and sends it, if it is ready. */
static int issue_send(struct sender *s, struct ferr *e)
{
	unsigned int i = s->done % s->nslots;
	struct slot *sl = &s->slots[i];
	size_t flen = 0;
	bool zero;
	int err;

	if (s->sending || s->done == s->issued || sl->state != SLOT_READY)
		return 0;
	zero = (s->c->features & WIRE_FEAT_ZERO) &&
	       wire_all_zero(sl->data, sl->len);
	sl->frame = sl->data - WIRE_HDR_LEN;
	if (zero) {
		wire_hdr_encode(sl->frame, WIRE_ZERO, s->c->tx_seq++, sl->off,
				sl->len, NULL, 0);
		sl->frame_len = WIRE_HDR_LEN;
	} else if (s->z &&
		   (flen = compress_data_frame(s->z, s->zframe, s->c->tx_seq,
					       sl->off, sl->data, sl->len))) {
		test_corrupt(sl, s->zframe + WIRE_HDR_LEN,
			     (uint32_t)(flen - WIRE_HDR_LEN), s->c->tx_seq++);
		sl->frame = s->zframe;
		sl->frame_len = (uint32_t)flen;
	} else {
		wire_hdr_encode(sl->frame, WIRE_DATA, s->c->tx_seq, sl->off,
				sl->len, sl->data, sl->len);
		test_corrupt(sl, sl->data, sl->len, s->c->tx_seq++);
		sl->frame_len = WIRE_HDR_LEN + sl->len;
	}
	sl->type = zero ? WIRE_ZERO : WIRE_DATA;
	sl->zstd = flen != 0;
	sl->sent = 0;
	if (s->bw.rate) {
		long long wait =
			bwlimit_take(&s->bw, sl->frame_len, mono_ms() * 1000);

		if (wait > 0)
			usleep((useconds_t)wait);
	}
	err = ring_send(&s->ring, s->c->fd, sl->frame, sl->frame_len,
			SEND_TAG | i);
	if (err)
		return ferr_set(e, err, "cannot queue a send");
	sl->state = SLOT_SENDING;
	s->sending = true;
	return 0;
}

/*
 * A frame all sent: counted, so that after a failed connection the
 * totals (and the wire bytes of compressed frames) are what left.
 */
static void account(struct xfer_stats *st, const struct slot *sl)
{
	st->frames++;
	if (sl->type == WIRE_ZERO) {
		st->zero_bytes += sl->len;
		return;
	}
	st->data_bytes += sl->len;
	st->data_wire_bytes += sl->frame_len - WIRE_HDR_LEN;
	if (sl->zstd)
		st->zstd_frames++;
}

static int on_cqe(struct sender *s, const struct ring_cqe *cq, struct ferr *e)
{
	unsigned int i = (unsigned int)(cq->user_data & 0xffffffffU);
	struct slot *sl = &s->slots[i];

	if (!(cq->user_data & SEND_TAG)) {
		if (cq->res < 0)
			return ferr_set(e, cq->res,
					"reading the snapshot at %llu: %s",
					(unsigned long long)sl->off,
					strerror(-cq->res));
		if ((uint32_t)cq->res != sl->len)
			return ferr_set(e, -EIO,
					"short read of the snapshot at %llu",
					(unsigned long long)sl->off);
		sl->state = SLOT_READY;
		return 0;
	}
	if (cq->res <= 0)
		return ferr_set(e, cq->res ? cq->res : -ECONNRESET,
				"sending to %s: %s", s->c->peer,
				strerror(cq->res ? -cq->res : ECONNRESET));
	sl->sent += (uint32_t)cq->res;
	s->c->bytes_sent += (uint64_t)cq->res;
	if (sl->sent < sl->frame_len) /* short send: the rest, in order */
		return ring_send(&s->ring, s->c->fd, sl->frame + sl->sent,
				 sl->frame_len - sl->sent, SEND_TAG | i);
	account(s->st, sl);
	sl->state = SLOT_FREE;
	s->sending = false;
	s->done++;
	progress_update(&s->prog, s->st->data_bytes + s->st->zero_bytes, false);
	return 0;
}

static int setup(struct sender *s, const struct xfer_opts *o, struct ferr *e)
{
	size_t stride = HDR_PAGE + XFER_IO_SIZE;
	struct iovec *iov;
	unsigned int i;
	int err;

	s->nslots = o->depth ? o->depth : XFER_DEPTH;
	s->slots = calloc(s->nslots, sizeof(*s->slots));
	iov = calloc(s->nslots, sizeof(*iov));
	if (!s->slots || !iov ||
	    posix_memalign((void **)&s->arena, 4096, stride * s->nslots)) {
		free(iov);
		return ferr_set(e, -ENOMEM, "out of memory");
	}
	for (i = 0; i < s->nslots; i++) {
		s->slots[i].data = s->arena + i * stride + HDR_PAGE;
		iov[i].iov_base = s->arena + i * stride;
		iov[i].iov_len = stride;
	}
	err = ring_init(&s->ring, s->nslots * 2, iov, s->nslots, o->verbose, e);
	free(iov);
	if (!err && o->compress_level && (s->c->features & WIRE_FEAT_ZSTD)) {
		err = compressor_new(&s->z, o->compress_level, e);
		s->zframe = err ? NULL : malloc(WIRE_HDR_LEN + XFER_IO_SIZE);
		if (!err && !s->zframe)
			err = ferr_set(e, -ENOMEM, "out of memory");
	}
	if (!err && o->verbose) {
		char how[128];

		ring_describe(&s->ring, how, sizeof(how));
		fprintf(stderr, "ferry: sending with %s, %u x %u KiB%s\n", how,
			s->nslots, XFER_IO_SIZE / 1024, s->z ? ", zstd" : "");
	}
	return err;
}

int xfer_send(struct conn *c, int dev_fd, const struct extent *x, size_t n,
	      const struct xfer_opts *o, struct xfer_stats *st, struct ferr *e)
{
	struct sender s = { .c = c, .fd = dev_fd, .x = x, .n = n, .st = st };
	struct ring_cqe cq[RING_CQ_BATCH];
	size_t i;
	int err, got, k;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < n; i++)
		st->total += x[i].length;
	err = setup(&s, o, e);
	if (err)
		goto out;
	progress_start(&s.prog, o->progress, st->total);
	bwlimit_init(&s.bw, o->bwlimit, mono_ms() * 1000);
	for (;;) {
		err = issue_reads(&s, e);
		if (!err)
			err = issue_send(&s, e);
		if (err)
			break;
		if (s.done == s.issued)
			break; /* nothing in flight and nothing left */
		got = ring_wait(&s.ring, 1, cq, RING_CQ_BATCH);
		if (got < 0) {
			err = ferr_set(e, got, "io_uring: %s", strerror(-got));
			break;
		}
		for (k = 0; k < got && !err; k++)
			err = on_cqe(&s, &cq[k], e);
		if (err)
			break;
	}
	if (!err) {
		progress_update(&s.prog, st->data_bytes + st->zero_bytes, true);
		err = conn_send(c, WIRE_STREAM_END,
				st->data_bytes + st->zero_bytes, st->frames,
				NULL, 0, e);
	}
out:
	/*
	 * Drain what is still in flight before the buffers go away; after
	 * an error, a send the peer no longer reads must not block that.
	 */
	if (err)
		shutdown(c->fd, SHUT_WR);
	if (s.ring.uring) {
		while (s.ring.inflight + s.ring.pending &&
		       ring_wait(&s.ring, 1, cq, RING_CQ_BATCH) > 0)
			;
		ring_exit(&s.ring);
	}
	free(s.slots);
	free(s.arena);
	free(s.zframe);
	compressor_free(s.z);
	return err;
}
