/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: zstd compression of DATA payloads (docs/protocol.md,
 * feature ZSTD). Pure buffer-to-buffer calls, no I/O: unit-tested and
 * fuzzed. The decoder trusts nothing: the output is bounded by the
 * declared length, which must be met exactly.
 */
#ifndef FERRY_COMPRESS_H
#define FERRY_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "wire.h"

#define COMPRESS_LEVEL_DEFAULT 3
#define COMPRESS_LEVEL_MAX 19

struct compressor;
struct decompressor;

/* A compressor at @level (1..COMPRESS_LEVEL_MAX); -ENOMEM. */
int compressor_new(struct compressor **z, int level, struct ferr *e);
void compressor_free(struct compressor *z);

/*
 * Compresses @len bytes of @src into @dst (at most @cap bytes, @cap <
 * @len for the result to be worth sending). Returns the compressed
 * length, or 0 when it does not fit in @cap: send the bytes raw.
 */
size_t compress_frame(struct compressor *z, const void *src, size_t len,
		      void *dst, size_t cap);

int decompressor_new(struct decompressor **z, struct ferr *e);
void decompressor_free(struct decompressor *z);

/*
 * Decompresses @len bytes of @src into @dst, which holds @want bytes:
 * the payload must decompress to exactly @want bytes. Never writes past
 * @dst + @want. -EPROTO (with the reason in @e) when the payload is not
 * a valid zstd frame, declares or yields another length, or would not
 * fit; @dst is then garbage and must not be used.
 */
int decompress_frame(struct decompressor *z, const void *src, size_t len,
		     void *dst, size_t want, struct ferr *e);

/*
 * The sender's compressed DATA frame for @len bytes of @data at volume
 * offset @off: header (flags REQUIRED|ZSTD, arg1 = @len, the crc over the
 * compressed payload) and payload into @frame, which holds WIRE_HDR_LEN +
 * @len bytes. Returns the frame's length, or 0 when the payload does not
 * shrink: send it raw.
 */
size_t compress_data_frame(struct compressor *z, uint8_t *frame, uint64_t seq,
			   uint64_t off, const void *data, uint32_t len);

/*
 * The receiver's side: @payload of a compressed DATA frame whose header
 * and crc were checked, into @dst (h->arg1 bytes). -EPROTO with "DATA
 * frame SEQ (offset O, L bytes): REASON: refused, not written".
 */
int decompress_data(struct decompressor *z, const struct wire_hdr *h,
		    const void *payload, void *dst, struct ferr *e);

/* "--compress[=LEVEL]"'s LEVEL: 1..COMPRESS_LEVEL_MAX. */
int compress_parse_level(const char *s, int *level, struct ferr *e);

#endif /* FERRY_COMPRESS_H */
