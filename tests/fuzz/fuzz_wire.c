// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for the replication frame decoder: whatever a peer
 * sends goes through wire_hdr_decode() and the payload decoders; a
 * decoded header is re-encoded and must decode to the same fields. A
 * compressed DATA frame is decompressed into a buffer of its declared
 * length (plus a guard that must stay untouched), and the raw input is
 * decompressed too, so malformed zstd frames reach the decoder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "wire.h"

#define GUARD 64

/*
 * Decompresses @len bytes into exactly @want: a success fills them, and
 * nothing past them is ever written.
 */
static void expand(const uint8_t *p, size_t len, size_t want)
{
	static uint8_t dst[WIRE_MAX_PAYLOAD + GUARD];
	static struct decompressor *z;
	struct ferr e;
	size_t i;

	if (!z && decompressor_new(&z, &e))
		abort();
	memset(dst + want, 0xa5, GUARD);
	decompress_frame(z, p, len, dst, want, &e);
	for (i = 0; i < GUARD; i++)
		if (dst[want + i] != 0xa5)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wire_begin b;
	static struct wire_tags t;
	static uint8_t out[WIRE_TAGS_MAX];
	struct wire_limits lim = { .volume_size = 64ULL << 20, .zstd = true };
	char text[WIRE_REASON_MAX + 1];
	uint8_t again[WIRE_HDR_LEN];
	struct wire_hello hello;
	struct wire_hdr h, h2;
	const uint8_t *p;
	size_t len;
	struct ferr e;
	int ret;

	/* The payload decoders on the raw input, too. */
	wire_begin_decode(data, size, &b, &e);
	wire_hello_decode(data, size, &hello, &e);
	expand(data, size, 4096);
	/* A decoded TAG payload re-encodes to the same bytes. */
	if (!wire_tags_decode(data, size, &t, &e) &&
	    (wire_tags_encode(&t, out, sizeof(out)) != size ||
	     memcmp(out, data, size)))
		abort();
	if (size < WIRE_HDR_LEN)
		return 0;
	/* Compared with memcmp below: no stale padding. */
	memset(&h, 0, sizeof(h));
	memset(&h2, 0, sizeof(h2));
	ret = wire_hdr_decode(data, &lim, &h, &e);
	if (ret < 0)
		return 0;
	wire_hdr_encode_raw(again, &h);
	if (wire_hdr_decode(again, &lim, &h2, &e) != ret ||
	    memcmp(&h, &h2, sizeof(h)))
		abort();
	if (ret == WIRE_SKIP)
		return 0;
	p = data + WIRE_HDR_LEN;
	len = size - WIRE_HDR_LEN;
	if (len < h.payload_len)
		return 0;
	if (wire_payload_check(&h, p, &e))
		return 0;
	switch (h.type) {
	case WIRE_HELLO:
		wire_hello_decode(p, h.payload_len, &hello, &e);
		break;
	case WIRE_STREAM_BEGIN:
		if (!wire_begin_decode(p, h.payload_len, &b, &e) &&
		    (b.ntags > FERRY_TAGS_MAX || !b.target_point[0]))
			abort();
		break;
	case WIRE_ERROR:
	case WIRE_ACK:
		wire_string_decode(p, h.payload_len, WIRE_REASON_MAX, text, &e);
		break;
	case WIRE_TAG:
	case WIRE_TAG_ACK:
		if (!wire_tags_decode(p, h.payload_len, &t, &e) &&
		    (t.ntags > FERRY_TAGS_MAX || !t.point[0]))
			abort();
		break;
	case WIRE_RESUME:
		if (h.arg0 % WIRE_ALIGN || h.payload_len)
			abort();
		break;
	case WIRE_DATA:
	case WIRE_ZERO:
		if (h.arg0 + h.arg1 > lim.volume_size)
			abort();
		if (h.flags & WIRE_F_ZSTD) {
			if (h.type != WIRE_DATA || !h.payload_len ||
			    h.payload_len >= h.arg1 ||
			    h.arg1 > WIRE_MAX_PAYLOAD)
				abort();
			expand(p, h.payload_len, (size_t)h.arg1);
		}
		break;
	}
	return 0;
}
