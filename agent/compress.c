// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: zstd compression of DATA payloads.
 *
 * One zstd frame per DATA frame, compressed in one call with a known
 * content size. Decompression goes into a buffer of the declared length
 * only, so a payload that would expand further (a "decompression bomb")
 * stops at that bound and is refused; the window is limited to the
 * largest frame, which bounds the decoder's memory too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <zstd.h>

#include "compress.h"
#include "wire.h"

/* log2 of WIRE_MAX_PAYLOAD: no zstd frame needs a larger window. */
#define WINDOW_LOG_MAX 20
_Static_assert(1U << WINDOW_LOG_MAX == WIRE_MAX_PAYLOAD,
	       "the zstd window covers one frame");

struct compressor {
	ZSTD_CCtx *cctx;
	int level;
};

struct decompressor {
	ZSTD_DCtx *dctx;
};

int compressor_new(struct compressor **z, int level, struct ferr *e)
{
	struct compressor *c;

	if (level < 1 || level > COMPRESS_LEVEL_MAX)
		return ferr_set(e, -EINVAL,
				"compression level %d is not in 1..%d", level,
				COMPRESS_LEVEL_MAX);
	c = calloc(1, sizeof(*c));
	if (c)
		c->cctx = ZSTD_createCCtx();
	if (!c || !c->cctx) {
		free(c);
		return ferr_set(e, -ENOMEM, "out of memory (zstd)");
	}
	c->level = level;
	*z = c;
	return 0;
}

void compressor_free(struct compressor *z)
{
	if (!z)
		return;
	ZSTD_freeCCtx(z->cctx);
	free(z);
}

size_t compress_frame(struct compressor *z, const void *src, size_t len,
		      void *dst, size_t cap)
{
	size_t n = ZSTD_compressCCtx(z->cctx, dst, cap, src, len, z->level);

	/* dstSize_tooSmall (it does not shrink) or any other failure: raw. */
	if (ZSTD_isError(n) || n >= len)
		return 0;
	return n;
}

int decompressor_new(struct decompressor **z, struct ferr *e)
{
	struct decompressor *d = calloc(1, sizeof(*d));

	if (d)
		d->dctx = ZSTD_createDCtx();
	if (!d || !d->dctx ||
	    ZSTD_isError(ZSTD_DCtx_setParameter(d->dctx, ZSTD_d_windowLogMax,
						WINDOW_LOG_MAX))) {
		if (d)
			ZSTD_freeDCtx(d->dctx);
		free(d);
		return ferr_set(e, -ENOMEM, "out of memory (zstd)");
	}
	*z = d;
	return 0;
}

void decompressor_free(struct decompressor *z)
{
	if (!z)
		return;
	ZSTD_freeDCtx(z->dctx);
	free(z);
}

int decompress_frame(struct decompressor *z, const void *src, size_t len,
		     void *dst, size_t want, struct ferr *e)
{
	unsigned long long declared;
	size_t n;

	/* The frame's own content size, when it has one, must agree. */
	declared = ZSTD_getFrameContentSize(src, len);
	if (declared == ZSTD_CONTENTSIZE_ERROR)
		return ferr_set(e, -EPROTO, "zstd payload is not a zstd frame");
	if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != want)
		return ferr_set(
			e, -EPROTO,
			"zstd payload declares %llu bytes for a length of %zu",
			declared, want);
	/* The output bound is the declared length: nothing past @want. */
	n = ZSTD_decompressDCtx(z->dctx, dst, want, src, len);
	if (ZSTD_isError(n))
		return ferr_set(e, -EPROTO, "zstd payload: %s",
				ZSTD_getErrorName(n));
	if (n != want)
		return ferr_set(
			e, -EPROTO,
			"zstd payload decompresses to %zu bytes for a length of %zu",
			n, want);
	return 0;
}

size_t compress_data_frame(struct compressor *z, uint8_t *frame, uint64_t seq,
			   uint64_t off, const void *data, uint32_t len)
{
	uint8_t *payload = frame + WIRE_HDR_LEN;
	struct wire_hdr h = {
		.type = WIRE_DATA,
		.flags = WIRE_F_REQUIRED | WIRE_F_ZSTD,
		.seq = seq,
		.arg0 = off,
		.arg1 = len,
	};
	size_t n;

	if (len < 2)
		return 0;
	n = compress_frame(z, data, len, payload, len - 1);
	if (!n)
		return 0;
	/* The crc covers the bytes on the wire, the compressed ones. */
	h.payload_len = (uint32_t)n;
	h.payload_crc = crc32c(0, payload, n);
	wire_hdr_encode_raw(frame, &h);
	return WIRE_HDR_LEN + n;
}

int decompress_data(struct decompressor *z, const struct wire_hdr *h,
		    const void *payload, void *dst, struct ferr *e)
{
	char why[sizeof(e->msg)];
	int err;

	err = decompress_frame(z, payload, h->payload_len, dst, (size_t)h->arg1,
			       e);
	if (!err)
		return 0;
	snprintf(why, sizeof(why), "%s", e->msg);
	return ferr_set(
		e, err,
		"DATA frame %llu (offset %llu, %llu bytes): %s: refused, not written",
		(unsigned long long)h->seq, (unsigned long long)h->arg0,
		(unsigned long long)h->arg1, why);
}

int compress_parse_level(const char *s, int *level, struct ferr *e)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < 1 || v > COMPRESS_LEVEL_MAX)
		return ferr_set(e, -EINVAL,
				"compression level '%s' is not in 1..%d", s,
				COMPRESS_LEVEL_MAX);
	*level = (int)v;
	return 0;
}
