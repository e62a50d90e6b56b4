// SPDX-License-Identifier: GPL-2.0
/*
 * zstd compression of DATA frames (feature ZSTD): what the sender puts on
 * the wire decodes and decompresses to the same bytes; what does not
 * shrink goes raw; and whatever a peer may send that is damaged, of the
 * wrong length, or expands beyond its declared length is refused without
 * a byte written past the frame's buffer.
 */
#include <errno.h>
#include <stdio.h>
#include <zstd.h>

#include "compress.h"
#include "unit.h"
#include "wire.h"

#define SIZE (128ULL << 20)
#define LEN (256U * 1024U)
#define GUARD 4096U

static const struct wire_limits lim_zstd = { .volume_size = SIZE,
					     .zstd = true };
static const struct wire_limits lim_plain = { .volume_size = SIZE };

struct bufs {
	struct compressor *c;
	struct decompressor *d;
	uint8_t *data; /* LEN bytes to send */
	uint8_t *frame; /* WIRE_HDR_LEN + LEN */
	uint8_t *dst; /* LEN + GUARD: what the receiver writes */
};

/* Text-like, compressible data: lines with a counter. */
static void fill_text(uint8_t *p, size_t len)
{
	size_t n = 0;
	unsigned int i = 0;

	while (n < len) {
		char line[80];
		int k = snprintf(
			line, sizeof(line),
			"%08u the quick brown fox jumps over the lazy dog\n",
			i++);
		size_t m = (size_t)k < len - n ? (size_t)k : len - n;

		memcpy(p + n, line, m);
		n += m;
	}
}

/* Incompressible: xorshift noise. */
static void fill_noise(uint8_t *p, size_t len)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)x;
	}
}

static int setup(void **state)
{
	struct bufs *b = calloc(1, sizeof(*b));
	struct ferr e;

	assert_non_null(b);
	assert_int_equal(compressor_new(&b->c, COMPRESS_LEVEL_DEFAULT, &e), 0);
	assert_int_equal(decompressor_new(&b->d, &e), 0);
	b->data = malloc(LEN);
	b->frame = malloc(WIRE_HDR_LEN + LEN);
	b->dst = malloc(LEN + GUARD);
	assert_non_null(b->data);
	assert_non_null(b->frame);
	assert_non_null(b->dst);
	memset(b->dst, 0xee, LEN + GUARD);
	*state = b;
	return 0;
}

static int teardown(void **state)
{
	struct bufs *b = *state;

	compressor_free(b->c);
	decompressor_free(b->d);
	free(b->data);
	free(b->frame);
	free(b->dst);
	free(b);
	return 0;
}

/* Nothing beyond the frame's length was touched. */
static void assert_guard(const struct bufs *b, size_t len)
{
	size_t i;

	for (i = len; i < LEN + GUARD; i++)
		if (b->dst[i] != 0xee)
			fail_msg("byte %zu past the frame's %zu was written", i,
				 len);
}

/*
 * What the receiver does with a frame: header checks, payload crc, then
 * the decompression into dst. Returns the first error, 0 when dst holds
 * the frame's bytes.
 */
static int receive(struct bufs *b, const struct wire_limits *lim,
		   struct wire_hdr *h, struct ferr *e)
{
	int err = wire_hdr_decode(b->frame, lim, h, e);

	if (err)
		return err;
	err = wire_payload_check(h, b->frame + WIRE_HDR_LEN, e);
	if (err)
		return err;
	if (!(h->flags & WIRE_F_ZSTD)) {
		memcpy(b->dst, b->frame + WIRE_HDR_LEN, h->payload_len);
		return 0;
	}
	return decompress_data(b->d, h, b->frame + WIRE_HDR_LEN, b->dst, e);
}

static void round_trip(void **state)
{
	struct bufs *b = *state;
	struct wire_hdr h;
	struct ferr e;
	size_t n;

	fill_text(b->data, LEN);
	n = compress_data_frame(b->c, b->frame, 5, 1 << 20, b->data, LEN);
	assert_true(n > WIRE_HDR_LEN);
	/* Text shrinks a lot: the point of the feature. */
	assert_true(n - WIRE_HDR_LEN < LEN / 4);
	assert_int_equal(receive(b, &lim_zstd, &h, &e), 0);
	assert_int_equal(h.type, WIRE_DATA);
	assert_true(h.flags & WIRE_F_ZSTD);
	assert_int_equal(h.seq, 5);
	assert_int_equal(h.arg0, 1 << 20);
	assert_int_equal(h.arg1, LEN); /* volume bytes, not wire bytes */
	assert_int_equal(h.payload_len, n - WIRE_HDR_LEN);
	assert_memory_equal(b->dst, b->data, LEN);
	assert_guard(b, LEN);

	/* Every level gives the same bytes back; the smallest frame, too. */
	for (int level = 1; level <= COMPRESS_LEVEL_MAX; level += 6) {
		struct compressor *c;

		assert_int_equal(compressor_new(&c, level, &e), 0);
		n = compress_data_frame(c, b->frame, 1, 0, b->data, 512);
		assert_true(n > 0);
		memset(b->dst, 0xee, LEN + GUARD);
		assert_int_equal(receive(b, &lim_zstd, &h, &e), 0);
		assert_memory_equal(b->dst, b->data, 512);
		assert_guard(b, 512);
		compressor_free(c);
	}
	assert_int_equal(compressor_new(&b->c, 0, &e), -EINVAL);
	assert_int_equal(compressor_new(&b->c, COMPRESS_LEVEL_MAX + 1, &e),
			 -EINVAL);
}

static void incompressible_sent_raw(void **state)
{
	struct bufs *b = *state;

	fill_noise(b->data, LEN);
	/* Does not shrink: 0, the sender sends the slot's bytes raw. */
	assert_int_equal(
		compress_data_frame(b->c, b->frame, 1, 0, b->data, LEN), 0);
	assert_int_equal(compress_frame(b->c, b->data, LEN, b->frame, LEN - 1),
			 0);
	/* Half noise, half text: shrinks, so it is sent compressed. */
	fill_text(b->data + LEN / 2, LEN / 2);
	assert_true(compress_data_frame(b->c, b->frame, 1, 0, b->data, LEN) >
		    0);
}

static void corrupted_payload_refused(void **state)
{
	struct bufs *b = *state;
	struct wire_hdr h;
	struct ferr e;
	size_t n, i;
	int err;

	fill_text(b->data, LEN);
	n = compress_data_frame(b->c, b->frame, 1, 0, b->data, LEN);
	assert_true(n > 0);
	/* A byte damaged in transit: the crc over the wire bytes sees it. */
	b->frame[WIRE_HDR_LEN + (n - WIRE_HDR_LEN) / 2] ^= 0x5a;
	assert_int_equal(receive(b, &lim_zstd, &h, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "checksum"));
	/*
	 * Damaged before the crc was computed (a bad sender): the crc
	 * passes, decompression or the length check refuses it, and never
	 * beyond the frame's length.
	 */
	for (i = WIRE_HDR_LEN; i < n; i += (n - WIRE_HDR_LEN) / 7 + 1) {
		assert_int_equal(compress_data_frame(b->c, b->frame, 1, 0,
						     b->data, LEN),
				 n);
		b->frame[i] ^= 0xff;
		assert_int_equal(wire_hdr_decode(b->frame, &lim_zstd, &h, &e),
				 0);
		h.payload_crc =
			crc32c(0, b->frame + WIRE_HDR_LEN, n - WIRE_HDR_LEN);
		wire_hdr_encode_raw(b->frame, &h);
		memset(b->dst, 0xee, LEN + GUARD);
		err = receive(b, &lim_zstd, &h, &e);
		/* zstd's own checks, or a different length: refused... */
		if (err) {
			assert_int_equal(err, -EPROTO);
			assert_non_null(strstr(e.msg, "refused, not written"));
		} else {
			/* ...or a literal byte changed: same length. */
			assert_memory_not_equal(b->dst, b->data, LEN);
		}
		assert_guard(b, LEN);
	}
}

/* A valid zstd frame of @len bytes of @data, declared as @declared. */
static void frame_declared(struct bufs *b, const void *data, size_t len,
			   uint64_t declared)
{
	size_t n = ZSTD_compress(b->frame + WIRE_HDR_LEN, LEN, data, len, 3);
	struct wire_hdr h = {
		.type = WIRE_DATA,
		.flags = WIRE_F_REQUIRED | WIRE_F_ZSTD,
		.seq = 1,
		.arg0 = 0,
		.arg1 = declared,
	};

	assert_false(ZSTD_isError(n));
	h.payload_len = (uint32_t)n;
	h.payload_crc = crc32c(0, b->frame + WIRE_HDR_LEN, n);
	wire_hdr_encode_raw(b->frame, &h);
}

static void declared_length_mismatch_refused(void **state)
{
	struct bufs *b = *state;
	struct wire_hdr h;
	struct ferr e;

	fill_text(b->data, LEN);
	/* Decompresses to more than declared: stops at the bound. */
	frame_declared(b, b->data, LEN, LEN / 2);
	assert_int_equal(receive(b, &lim_zstd, &h, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "refused, not written"));
	assert_guard(b, LEN / 2);
	/* Decompresses to fewer than declared. */
	memset(b->dst, 0xee, LEN + GUARD);
	frame_declared(b, b->data, LEN / 2, LEN);
	assert_int_equal(receive(b, &lim_zstd, &h, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "refused, not written"));
	assert_guard(b, LEN);
	/* No content size in the zstd frame: the bound still holds. */
	{
		ZSTD_CCtx *cc = ZSTD_createCCtx();
		size_t n;

		assert_non_null(cc);
		ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
		n = ZSTD_compress2(cc, b->frame + WIRE_HDR_LEN, LEN, b->data,
				   LEN);
		ZSTD_freeCCtx(cc);
		assert_false(ZSTD_isError(n));
		assert_int_equal(
			ZSTD_getFrameContentSize(b->frame + WIRE_HDR_LEN, n),
			ZSTD_CONTENTSIZE_UNKNOWN);
		memset(b->dst, 0xee, LEN + GUARD);
		assert_int_equal(decompress_frame(b->d, b->frame + WIRE_HDR_LEN,
						  n, b->dst, LEN / 4, &e),
				 -EPROTO);
		assert_guard(b, LEN / 4);
		/* The right length: accepted. */
		assert_int_equal(decompress_frame(b->d, b->frame + WIRE_HDR_LEN,
						  n, b->dst, LEN, &e),
				 0);
		assert_memory_equal(b->dst, b->data, LEN);
	}
	/* Not zstd at all. */
	memcpy(b->frame + WIRE_HDR_LEN, "not a zstd frame", 16);
	assert_int_equal(decompress_frame(b->d, b->frame + WIRE_HDR_LEN, 16,
					  b->dst, LEN, &e),
			 -EPROTO);
	/* A compressed payload as long as the length: sent raw, or refused. */
	h = (struct wire_hdr){ .type = WIRE_DATA,
			       .flags = WIRE_F_REQUIRED | WIRE_F_ZSTD,
			       .payload_len = LEN,
			       .arg1 = LEN };
	wire_hdr_encode_raw(b->frame, &h);
	assert_int_equal(wire_hdr_decode(b->frame, &lim_zstd, &h, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "must be fewer"));
}

static void bomb_refused(void **state)
{
	struct bufs *b = *state;
	uint8_t *zeros = calloc(1, 64U << 20);
	struct wire_hdr h;
	struct ferr e;

	assert_non_null(zeros);
	/* 64 MiB of zeroes in a few KiB, declared as 64 MiB: above the cap. */
	frame_declared(b, zeros, 64U << 20, 64ULL << 20);
	assert_int_equal(receive(b, &lim_zstd, &h, &e), -EMSGSIZE);
	assert_guard(b, 0);
	/* The same payload declared within the cap: expansion stops there. */
	frame_declared(b, zeros, 64U << 20, LEN);
	assert_int_equal(receive(b, &lim_zstd, &h, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "refused, not written"));
	assert_guard(b, LEN);
	/* Declared as the largest frame allowed: still refused. */
	frame_declared(b, zeros, 64U << 20, WIRE_MAX_PAYLOAD);
	assert_int_equal(wire_hdr_decode(b->frame, &lim_zstd, &h, &e), 0);
	{
		uint8_t *big = malloc(WIRE_MAX_PAYLOAD + GUARD);

		assert_non_null(big);
		memset(big, 0xee, WIRE_MAX_PAYLOAD + GUARD);
		assert_int_equal(decompress_data(b->d, &h,
						 b->frame + WIRE_HDR_LEN, big,
						 &e),
				 -EPROTO);
		for (size_t i = WIRE_MAX_PAYLOAD; i < WIRE_MAX_PAYLOAD + GUARD;
		     i++)
			assert_int_equal(big[i], 0xee);
		free(big);
	}
	free(zeros);
}

static void flag_rules(void **state)
{
	struct bufs *b = *state;
	struct wire_hdr h;
	struct ferr e;

	fill_text(b->data, LEN);
	assert_true(compress_data_frame(b->c, b->frame, 1, 0, b->data, LEN) >
		    0);
	/* Without the ZSTD feature negotiated: refused. */
	assert_int_equal(wire_hdr_decode(b->frame, &lim_plain, &h, &e),
			 -EPROTO);
	assert_non_null(strstr(e.msg, "ZSTD"));
	/* On any other frame type: refused. */
	h = (struct wire_hdr){ .type = WIRE_ZERO,
			       .flags = WIRE_F_REQUIRED | WIRE_F_ZSTD,
			       .arg1 = 4096 };
	wire_hdr_encode_raw(b->frame, &h);
	assert_int_equal(wire_hdr_decode(b->frame, &lim_zstd, &h, &e), -EPROTO);
	h = (struct wire_hdr){ .type = WIRE_STREAM_END,
			       .flags = WIRE_F_REQUIRED | WIRE_F_ZSTD };
	wire_hdr_encode_raw(b->frame, &h);
	assert_int_equal(wire_hdr_decode(b->frame, &lim_zstd, &h, &e), -EPROTO);
	/* An empty compressed payload. */
	h = (struct wire_hdr){ .type = WIRE_DATA,
			       .flags = WIRE_F_REQUIRED | WIRE_F_ZSTD,
			       .arg1 = 4096 };
	wire_hdr_encode_raw(b->frame, &h);
	assert_int_equal(wire_hdr_decode(b->frame, &lim_zstd, &h, &e), -EPROTO);
	/* A raw DATA frame is still fine with the feature on. */
	wire_hdr_encode(b->frame, WIRE_DATA, 1, 0, 4096, b->data, 4096);
	assert_int_equal(wire_hdr_decode(b->frame, &lim_zstd, &h, &e), 0);
	/* Bits beyond ZSTD stay unknown. */
	h.flags = WIRE_F_REQUIRED | 0x4;
	wire_hdr_encode_raw(b->frame, &h);
	assert_int_equal(wire_hdr_decode(b->frame, &lim_zstd, &h, &e), -EPROTO);
}

static void negotiation(void **state)
{
	struct wire_hello sender = { 1, 1, WIRE_FEATURES,
				     WIRE_FEATURES_REQUIRED },
			  receiver = sender, old;
	uint64_t feat;
	uint16_t v;
	struct ferr e;

	(void)state;
	/* Both offer it: compressed frames allowed. */
	assert_int_equal(wire_negotiate(&sender, &receiver, &v, &feat, &e), 0);
	assert_true(feat & WIRE_FEAT_ZSTD);
	/* An older receiver, without the bit: the session has none. */
	old = (struct wire_hello){ 1, 1,
				   WIRE_FEAT_CRC32C | WIRE_FEAT_ZERO |
					   WIRE_FEAT_RESUME | WIRE_FEAT_TAGS,
				   WIRE_FEAT_CRC32C };
	assert_int_equal(wire_negotiate(&sender, &old, &v, &feat, &e), 0);
	assert_false(feat & WIRE_FEAT_ZSTD);
	assert_true(feat & WIRE_FEAT_RESUME);
	/* The other way round: an older sender with a new receiver. */
	assert_int_equal(wire_negotiate(&old, &receiver, &v, &feat, &e), 0);
	assert_false(feat & WIRE_FEAT_ZSTD);
	/* A receiver run with --no-compress does not offer it. */
	receiver.features &= ~WIRE_FEAT_ZSTD;
	assert_int_equal(wire_negotiate(&sender, &receiver, &v, &feat, &e), 0);
	assert_false(feat & WIRE_FEAT_ZSTD);
	/* Never required: a peer without it is no error. */
	assert_false(WIRE_FEATURES_REQUIRED & WIRE_FEAT_ZSTD);
}

static void level_parse(void **state)
{
	struct ferr e;
	int level = 0;

	(void)state;
	assert_int_equal(compress_parse_level("1", &level, &e), 0);
	assert_int_equal(level, 1);
	assert_int_equal(compress_parse_level("19", &level, &e), 0);
	assert_int_equal(level, 19);
	assert_int_equal(compress_parse_level("0", &level, &e), -EINVAL);
	assert_int_equal(compress_parse_level("20", &level, &e), -EINVAL);
	assert_int_equal(compress_parse_level("3x", &level, &e), -EINVAL);
	assert_int_equal(compress_parse_level("", &level, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "1..19"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(incompressible_sent_raw, setup,
						teardown),
		cmocka_unit_test_setup_teardown(corrupted_payload_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			declared_length_mismatch_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(bomb_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(flag_rules, setup, teardown),
		cmocka_unit_test(negotiation),
		cmocka_unit_test(level_parse),
	};

	return cmocka_run_group_tests_name("compress", tests, NULL, NULL);
}
