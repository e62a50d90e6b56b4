// SPDX-License-Identifier: GPL-2.0
/*
 * The replication wire protocol: every frame's round trip, and every
 * rejection of what a peer may send.
 */
#include <errno.h>
#include <stdio.h>

#include "unit.h"
#include "wire.h"

#define SIZE (128ULL << 20)

static const struct wire_limits lim = { .volume_size = SIZE };

static void crc32c_known_values(void **state)
{
	static const char digits[] = "123456789";
	uint8_t zeros[32] = { 0 };

	(void)state;
	/* RFC 3720 B.4 and the classic check value. */
	assert_int_equal(crc32c(0, digits, 9), 0xe3069283);
	assert_int_equal(crc32c(0, zeros, 32), 0x8a9136aa);
	/* Incremental equals one shot. */
	assert_int_equal(crc32c(crc32c(0, digits, 4), digits + 4, 5),
			 0xe3069283);
}

static void hdr_round_trip(void **state)
{
	uint8_t buf[WIRE_HDR_LEN], payload[4096];
	struct wire_hdr h;
	struct ferr e;

	(void)state;
	memset(payload, 0xa5, sizeof(payload));
	wire_hdr_encode(buf, WIRE_DATA, 7, 1 << 20, sizeof(payload), payload,
			sizeof(payload));
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), WIRE_OK);
	assert_int_equal(h.type, WIRE_DATA);
	assert_int_equal(h.flags, WIRE_F_REQUIRED);
	assert_int_equal(h.seq, 7);
	assert_int_equal(h.arg0, 1 << 20);
	assert_int_equal(h.arg1, sizeof(payload));
	assert_int_equal(h.payload_len, sizeof(payload));
	assert_int_equal(wire_payload_check(&h, payload, &e), 0);

	wire_hdr_encode(buf, WIRE_ZERO, 8, SIZE - 4096, 4096, NULL, 0);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), WIRE_OK);
	assert_int_equal(h.type, WIRE_ZERO);
	assert_int_equal(h.payload_len, 0);

	wire_hdr_encode(buf, WIRE_STREAM_END, 9, 12345, 3, NULL, 0);
	assert_int_equal(wire_hdr_decode(buf, NULL, &h, &e), WIRE_OK);
	assert_int_equal(h.arg0, 12345);
	assert_int_equal(h.arg1, 3);

	wire_hdr_encode(buf, WIRE_ARRIVED, 1, 5, 0, NULL, 0);
	assert_int_equal(wire_hdr_decode(buf, NULL, &h, &e), WIRE_OK);
	assert_int_equal(h.type, WIRE_ARRIVED);
}

static void hdr_bad_magic(void **state)
{
	uint8_t buf[WIRE_HDR_LEN];
	struct wire_hdr h;
	struct ferr e;

	(void)state;
	wire_hdr_encode(buf, WIRE_ARRIVED, 0, 0, 0, NULL, 0);
	memcpy(buf, "GET ", 4);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "magic"));
}

static void hdr_bad_crc(void **state)
{
	uint8_t buf[WIRE_HDR_LEN];
	struct wire_hdr h;
	struct ferr e;
	int i;

	(void)state;
	/* Any flipped bit of any byte but the magic is caught by the crc. */
	for (i = 4; i < WIRE_HDR_LEN; i++) {
		wire_hdr_encode(buf, WIRE_DATA, 1, 0, 4096, "x", 1);
		buf[i] ^= 0x10;
		assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EBADMSG);
	}
	assert_non_null(strstr(e.msg, "checksum"));
}

static void payload_bad_crc(void **state)
{
	uint8_t buf[WIRE_HDR_LEN], payload[512];
	struct wire_hdr h;
	struct ferr e;

	(void)state;
	memset(payload, 1, sizeof(payload));
	wire_hdr_encode(buf, WIRE_DATA, 0, 0, 512, payload, 512);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), WIRE_OK);
	payload[100] ^= 1;
	assert_int_equal(wire_payload_check(&h, payload, &e), -EBADMSG);
	assert_non_null(strstr(e.msg, "payload checksum"));
}

/* A header with arbitrary fields, its checksum right. */
static void raw(uint8_t *buf, uint16_t type, uint16_t flags, uint32_t plen,
		uint64_t a0, uint64_t a1)
{
	struct wire_hdr h = { .type = type,
			      .flags = flags,
			      .payload_len = plen,
			      .arg0 = a0,
			      .arg1 = a1 };

	wire_hdr_encode_raw(buf, &h);
}

static void hdr_oversize(void **state)
{
	uint8_t buf[WIRE_HDR_LEN];
	struct wire_hdr h;
	struct ferr e;

	(void)state;
	raw(buf, WIRE_DATA, 1, WIRE_MAX_PAYLOAD + 1, 0, WIRE_MAX_PAYLOAD + 1);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EMSGSIZE);
	raw(buf, WIRE_ZERO, 1, 0, 0, 2ULL * WIRE_MAX_PAYLOAD);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EMSGSIZE);
	raw(buf, WIRE_ERROR, 1, WIRE_REASON_MAX + 1, 0, 0);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EMSGSIZE);
	raw(buf, WIRE_STREAM_BEGIN, 1, WIRE_BEGIN_MAX + 1, 0, 0);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EMSGSIZE);
	raw(buf, 999, 0, WIRE_MAX_PAYLOAD + 1, 0, 0);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EMSGSIZE);
}

static void hdr_extent_bounds(void **state)
{
	uint8_t buf[WIRE_HDR_LEN];
	struct wire_hdr h;
	struct ferr e;

	(void)state;
	/* Beyond the end, straddling it, wrapping around 2^64. */
	raw(buf, WIRE_ZERO, 1, 0, SIZE, 4096);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -ERANGE);
	assert_non_null(strstr(e.msg, "beyond"));
	raw(buf, WIRE_ZERO, 1, 0, SIZE - 4096, 8192);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -ERANGE);
	raw(buf, WIRE_ZERO, 1, 0, UINT64_MAX - 511, 4096);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -ERANGE);
	/* Exactly the last block is fine. */
	raw(buf, WIRE_ZERO, 1, 0, SIZE - 4096, 4096);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), WIRE_OK);
	/* Empty, unaligned, before STREAM_BEGIN, payload mismatch. */
	raw(buf, WIRE_ZERO, 1, 0, 0, 0);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EMSGSIZE);
	raw(buf, WIRE_ZERO, 1, 0, 100, 512);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EPROTO);
	raw(buf, WIRE_ZERO, 1, 0, 0, 4096);
	assert_int_equal(wire_hdr_decode(buf, NULL, &h, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "before STREAM_BEGIN"));
	raw(buf, WIRE_DATA, 1, 512, 0, 4096);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EPROTO);
	raw(buf, WIRE_ZERO, 1, 512, 0, 512);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EPROTO);
	raw(buf, WIRE_ARRIVED, 1, 8, 0, 0);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EPROTO);
}

static void hdr_unknown_types(void **state)
{
	uint8_t buf[WIRE_HDR_LEN];
	struct wire_hdr h;
	struct ferr e;

	(void)state;
	raw(buf, 77, WIRE_F_REQUIRED, 16, 0, 0);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EPROTONOSUPPORT);
	assert_non_null(strstr(e.msg, "unknown required frame type 77"));
	raw(buf, 0, WIRE_F_REQUIRED, 0, 0, 0);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EPROTONOSUPPORT);
	/* Optional: skipped, its payload length known. */
	raw(buf, 77, 0, 16, 0, 0);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), WIRE_SKIP);
	assert_int_equal(h.payload_len, 16);
	/* Unknown flags and reserved bits are refused. */
	raw(buf, WIRE_ARRIVED, 0x8001, 0, 0, 0);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EPROTO);
	wire_hdr_encode(buf, WIRE_ARRIVED, 0, 0, 0, NULL, 0);
	buf[40] = 1;
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EBADMSG);
}

static void hello_negotiation(void **state)
{
	struct wire_hello mine = { 1, 1, WIRE_FEATURES,
				   WIRE_FEATURES_REQUIRED },
			  peer, got;
	uint8_t buf[64];
	uint64_t feat;
	uint16_t v;
	struct ferr e;

	(void)state;
	assert_int_equal(wire_hello_encode(&mine, buf), WIRE_HELLO_LEN);
	assert_int_equal(wire_hello_decode(buf, WIRE_HELLO_LEN, &got, &e), 0);
	assert_int_equal(got.version_min, 1);
	assert_int_equal(got.version_max, 1);
	assert_int_equal(got.features, WIRE_FEATURES);
	assert_int_equal(got.required, WIRE_FEATURES_REQUIRED);
	/* A newer peer: version 1 in common, unknown feature bits dropped. */
	peer = (struct wire_hello){ 1, 3, WIRE_FEATURES | 0x100, 0 };
	assert_int_equal(wire_negotiate(&mine, &peer, &v, &feat, &e), 0);
	assert_int_equal(v, 1);
	assert_int_equal(feat, WIRE_FEATURES);
	/* A peer without ZERO frames: fine, without crc32c: refused. */
	peer = (struct wire_hello){ 1, 1, WIRE_FEAT_CRC32C, 0 };
	assert_int_equal(wire_negotiate(&mine, &peer, &v, &feat, &e), 0);
	assert_int_equal(feat, WIRE_FEAT_CRC32C);
	peer = (struct wire_hello){ 1, 1, WIRE_FEAT_ZERO, 0 };
	assert_int_equal(wire_negotiate(&mine, &peer, &v, &feat, &e),
			 -EPROTONOSUPPORT);
	/* Bad version: a peer that only speaks 2..3. */
	peer = (struct wire_hello){ 2, 3, WIRE_FEATURES, 0 };
	assert_int_equal(wire_negotiate(&mine, &peer, &v, &feat, &e),
			 -EPROTONOSUPPORT);
	assert_non_null(strstr(e.msg, "version"));
	/* Malformed HELLO. */
	assert_int_equal(wire_hello_decode(buf, 10, &got, &e), -EPROTO);
	peer = (struct wire_hello){ 0, 0, 0, 0 };
	wire_hello_encode(&peer, buf);
	assert_int_equal(wire_hello_decode(buf, WIRE_HELLO_LEN, &got, &e),
			 -EPROTO);
}

static struct wire_begin *sample_begin(void)
{
	struct wire_begin *b = calloc(1, sizeof(*b));

	b->volume_size = SIZE;
	b->chunk_size = 65536;
	b->block_size = 4096;
	memset(b->cbt_uuid, 0x42, 16);
	b->cbt_gen = 3;
	b->mode = WIRE_MODE_INCREMENTAL;
	b->source_snap_id = 9;
	strcpy(b->base_point, "aaaa-1");
	strcpy(b->target_point, "bbbb-2");
	b->ntags = 2;
	strcpy(b->tags[0], "ferry.point=bbbb-2");
	strcpy(b->tags[1], "app=db");
	return b;
}

static void begin_round_trip(void **state)
{
	struct wire_begin *b = sample_begin(), *got = calloc(1, sizeof(*got));
	static uint8_t buf[WIRE_BEGIN_MAX];
	size_t n;
	struct ferr e;

	(void)state;
	n = wire_begin_encode(b, buf, sizeof(buf));
	assert_true(n > 64);
	assert_int_equal(wire_begin_decode(buf, n, got, &e), 0);
	assert_int_equal(got->volume_size, SIZE);
	assert_int_equal(got->chunk_size, 65536);
	assert_memory_equal(got->cbt_uuid, b->cbt_uuid, 16);
	assert_int_equal(got->cbt_gen, 3);
	assert_int_equal(got->mode, WIRE_MODE_INCREMENTAL);
	assert_int_equal(got->source_snap_id, 9);
	assert_string_equal(got->base_point, "aaaa-1");
	assert_string_equal(got->target_point, "bbbb-2");
	assert_int_equal(got->ntags, 2);
	assert_string_equal(got->tags[1], "app=db");
	/* The most tags of the longest size fit in WIRE_BEGIN_MAX. */
	b->ntags = FERRY_TAGS_MAX;
	for (n = 0; n < FERRY_TAGS_MAX; n++) {
		memset(b->tags[n], 'v', WIRE_TAG_MAX);
		b->tags[n][0] = 'k';
		b->tags[n][1] = '=';
		b->tags[n][WIRE_TAG_MAX] = '\0';
	}
	memset(b->base_point, 'p', WIRE_POINT_MAX);
	memset(b->target_point, 'q', WIRE_POINT_MAX);
	n = wire_begin_encode(b, buf, sizeof(buf));
	assert_true(n > 0 && n <= WIRE_BEGIN_MAX);
	assert_int_equal(wire_begin_decode(buf, n, got, &e), 0);
	assert_int_equal(got->ntags, FERRY_TAGS_MAX);
	free(b);
	free(got);
}

/* Encodes @b, lets @mutate change the bytes, expects @want from decoding. */
static void begin_reject(struct wire_begin *b, size_t cut, int off, int val,
			 int want)
{
	struct wire_begin *got = calloc(1, sizeof(*got));
	static uint8_t buf[WIRE_BEGIN_MAX];
	size_t n = wire_begin_encode(b, buf, sizeof(buf));
	struct ferr e;

	assert_true(n > 0);
	if (off >= 0)
		buf[off] = (uint8_t)val;
	assert_int_equal(wire_begin_decode(buf, n - cut, got, &e), want);
	free(got);
}

static void begin_rejections(void **state)
{
	struct wire_begin *b = sample_begin();

	(void)state;
	begin_reject(b, 1, -1, 0, -EPROTO); /* truncated tag */
	begin_reject(b, 0, 48, 1, -EPROTO); /* reserved */
	begin_reject(b, 0, 40, 7, -EPROTO); /* mode */
	begin_reject(b, 0, 56, 33, -EMSGSIZE); /* ntags */
	begin_reject(b, 0, 9, 0x30, -EPROTO); /* chunk not a power of two */
	begin_reject(b, 0, 12, 1, -EPROTO); /* block size */
	begin_reject(b, 0, 0, 1, -EPROTO); /* volume size not aligned */
	begin_reject(b, 0, 65, 0xff, -EMSGSIZE); /* base point too long */
	begin_reject(b, 0, 66, 0x07, -EPROTO); /* not printable */
	b->mode = WIRE_MODE_FULL;
	b->ntags = 1;
	strcpy(b->tags[0], "noequals");
	begin_reject(b, 0, -1, 0, -EPROTO);
	b->ntags = 0;
	b->target_point[0] = '\0';
	begin_reject(b, 0, -1, 0, -EPROTO);
	strcpy(b->target_point, "t");
	b->mode = WIRE_MODE_INCREMENTAL;
	b->base_point[0] = '\0';
	begin_reject(b, 0, -1, 0, -EPROTO);
	free(b);
}

static void begin_trailing_bytes(void **state)
{
	struct wire_begin *b = sample_begin(), *got = calloc(1, sizeof(*got));
	static uint8_t buf[WIRE_BEGIN_MAX];
	size_t n = wire_begin_encode(b, buf, sizeof(buf));
	struct ferr e;

	(void)state;
	assert_int_equal(wire_begin_decode(buf, n + 3, got, &e), -EPROTO);
	assert_int_equal(wire_begin_decode(buf, 10, got, &e), -EPROTO);
	free(b);
	free(got);
}

static void strings(void **state)
{
	uint8_t buf[WIRE_REASON_MAX + 10];
	char out[WIRE_REASON_MAX + 1];
	size_t n;
	struct ferr e;

	(void)state;
	n = wire_string_encode("replica is busy\n", WIRE_REASON_MAX, buf);
	assert_int_equal(n, 16);
	assert_int_equal(wire_string_decode(buf, n, WIRE_REASON_MAX, out, &e),
			 0);
	assert_string_equal(out, "replica is busy?");
	assert_int_equal(wire_string_decode(buf, WIRE_REASON_MAX + 1,
					    WIRE_REASON_MAX, out, &e),
			 -EMSGSIZE);
}

static void all_zero(void **state)
{
	static uint8_t buf[65536];

	(void)state;
	assert_true(wire_all_zero(buf, sizeof(buf)));
	buf[65535] = 1;
	assert_false(wire_all_zero(buf, sizeof(buf)));
	assert_true(wire_all_zero(buf, 65535));
	buf[3] = 1;
	assert_false(wire_all_zero(buf, 7));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32c_known_values),
		cmocka_unit_test(hdr_round_trip),
		cmocka_unit_test(hdr_bad_magic),
		cmocka_unit_test(hdr_bad_crc),
		cmocka_unit_test(payload_bad_crc),
		cmocka_unit_test(hdr_oversize),
		cmocka_unit_test(hdr_extent_bounds),
		cmocka_unit_test(hdr_unknown_types),
		cmocka_unit_test(hello_negotiation),
		cmocka_unit_test(begin_round_trip),
		cmocka_unit_test(begin_rejections),
		cmocka_unit_test(begin_trailing_bytes),
		cmocka_unit_test(strings),
		cmocka_unit_test(all_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
