/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: the replication wire protocol (docs/protocol.md).
 *
 * Pure encoding and decoding of frames: no sockets, no files, so every
 * path is unit-tested and fuzzed. Everything decoded here comes from the
 * network and is checked before anything else looks at it.
 */
#ifndef FERRY_WIRE_H
#define FERRY_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/ferry.h>

#include "util.h"

#define WIRE_MAGIC 0x31595246U /* "FRY1" little-endian */
#define WIRE_VERSION 1
#define WIRE_HDR_LEN 48
/* Largest payload of any frame, and largest extent of DATA or ZERO. */
#define WIRE_MAX_PAYLOAD (1024U * 1024U)
/* Offsets and lengths of DATA and ZERO are multiples of this. */
#define WIRE_ALIGN 512U
#define WIRE_REASON_MAX 255
#define WIRE_POINT_MAX 63
#define WIRE_TAG_MAX (FERRY_TAG_KEY_MAX + 1 + FERRY_TAG_VALUE_MAX)

/* Frame types; a receiver refuses an unknown type flagged REQUIRED. */
enum wire_type {
	WIRE_HELLO = 1,
	WIRE_STREAM_BEGIN = 2,
	WIRE_DATA = 3,
	WIRE_ZERO = 4,
	WIRE_STREAM_END = 5,
	WIRE_ARRIVED = 6,
	WIRE_ACK = 7, /* SNAPSHOT_TAKEN: the replica's snapshot id */
	WIRE_ERROR = 8,
	WIRE_RESUME = 9, /* receiver: arg0 = durable offset of the stream */
	WIRE_TAG = 10, /* a point's tag update, or its full tag set */
	WIRE_TAG_ACK = 11, /* receiver: TAG arg0 applied; its full tag set */
	WIRE_TAGS_DONE = 12, /* end of one side's TAG frames */
	__WIRE_TYPE_MAX,
};

/* Header flags. */
#define WIRE_F_REQUIRED 0x0001U /* a peer that does not know the type fails */
/*
 * DATA only, with the ZSTD feature: the payload is one zstd frame of
 * fewer bytes than arg1 (the length), which it decompresses to exactly.
 */
#define WIRE_F_ZSTD 0x0002U
#define WIRE_F_KNOWN (WIRE_F_REQUIRED | WIRE_F_ZSTD)

/*
 * ERROR arg0: a frame arrived damaged (header or payload crc); none of it
 * was written, the sender may reconnect and resume. 0: a plain refusal.
 */
#define WIRE_ERROR_RETRY 0x1ULL

/* Features (HELLO); the session uses the AND of both sides. */
#define WIRE_FEAT_CRC32C 0x1ULL /* payload crc32c checked (mandatory) */
#define WIRE_FEAT_ZERO 0x2ULL /* ZERO frames */
#define WIRE_FEAT_RESUME 0x4ULL /* RESUME answers STREAM_BEGIN */
#define WIRE_FEAT_TAGS 0x8ULL /* TAG and TAG_ACK frames */
#define WIRE_FEAT_ZSTD 0x10ULL /* DATA payloads may be zstd (WIRE_F_ZSTD) */
#define WIRE_FEATURES                                           \
	(WIRE_FEAT_CRC32C | WIRE_FEAT_ZERO | WIRE_FEAT_RESUME | \
	 WIRE_FEAT_TAGS | WIRE_FEAT_ZSTD)
#define WIRE_FEATURES_REQUIRED WIRE_FEAT_CRC32C

struct wire_hdr {
	uint16_t type;
	uint16_t flags;
	uint32_t payload_len;
	uint32_t payload_crc;
	uint64_t seq; /* 0, 1, 2, ... per direction and connection */
	uint64_t arg0; /* DATA/ZERO: offset; END: bytes; ACK: snapshot id */
	uint64_t arg1; /* DATA/ZERO: length; END: frames */
};

/* What the decoder checks DATA and ZERO against. */
struct wire_limits {
	uint64_t volume_size; /* 0: not known yet (no DATA/ZERO allowed) */
	bool zstd; /* ZSTD negotiated: compressed DATA frames allowed */
};

/* Result of wire_hdr_decode(): a frame to handle or one to skip. */
enum { WIRE_OK = 0, WIRE_SKIP = 1 };

uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/*
 * Writes the header of a frame into @out, with @payload's crc32c (NULL
 * @payload: no payload, crc 0) and the header's own checksum.
 */
void wire_hdr_encode(uint8_t out[WIRE_HDR_LEN], uint16_t type, uint64_t seq,
		     uint64_t arg0, uint64_t arg1, const void *payload,
		     uint32_t payload_len);
/* The same with explicit flags and a precomputed payload crc. */
void wire_hdr_encode_raw(uint8_t out[WIRE_HDR_LEN], const struct wire_hdr *h);

/*
 * Checks and decodes a header: magic, header checksum, reserved bits,
 * payload size, and the per-type rules (DATA: payload = length, range
 * aligned and inside @lim's volume; compressed DATA: ZSTD negotiated,
 * payload shorter than the length...). Returns WIRE_OK, WIRE_SKIP for an
 * unknown optional type (read and drop its payload), or a negative errno
 * with a reason in @e (-EPROTONOSUPPORT for an unknown required type).
 */
int wire_hdr_decode(const uint8_t in[WIRE_HDR_LEN],
		    const struct wire_limits *lim, struct wire_hdr *h,
		    struct ferr *e);

/* The payload's crc32c against the header's; -EBADMSG on a mismatch. */
int wire_payload_check(const struct wire_hdr *h, const void *payload,
		       struct ferr *e);

/* ---- payloads ---- */

struct wire_hello {
	uint16_t version_min;
	uint16_t version_max;
	uint64_t features;
	uint64_t required;
};

#define WIRE_HELLO_LEN 24

size_t wire_hello_encode(const struct wire_hello *h, uint8_t *out);
int wire_hello_decode(const uint8_t *p, size_t len, struct wire_hello *h,
		      struct ferr *e);

/*
 * Both sides' HELLO into the session: the highest common version and
 * the AND of the features; -EPROTONOSUPPORT if there is none, or if a
 * feature one side requires is missing on the other.
 */
int wire_negotiate(const struct wire_hello *mine, const struct wire_hello *peer,
		   uint16_t *version, uint64_t *features, struct ferr *e);

enum wire_mode { WIRE_MODE_FULL = 0, WIRE_MODE_INCREMENTAL = 1 };

struct wire_begin {
	uint64_t volume_size;
	uint32_t chunk_size;
	uint32_t block_size;
	uint8_t cbt_uuid[16];
	uint64_t cbt_gen;
	uint32_t mode; /* enum wire_mode */
	uint32_t source_snap_id;
	char base_point[WIRE_POINT_MAX + 1]; /* "" for a full stream */
	char target_point[WIRE_POINT_MAX + 1];
	size_t ntags;
	char tags[FERRY_TAGS_MAX][WIRE_TAG_MAX + 1]; /* "key=value" */
};

/* Longest STREAM_BEGIN payload. */
#define WIRE_BEGIN_MAX \
	(64 + 2 * (2 + WIRE_POINT_MAX) + FERRY_TAGS_MAX * (2 + WIRE_TAG_MAX))

/* Returns the payload length, or 0 when @b does not fit its limits. */
size_t wire_begin_encode(const struct wire_begin *b, uint8_t *out, size_t cap);
int wire_begin_decode(const uint8_t *p, size_t len, struct wire_begin *b,
		      struct ferr *e);

/*
 * TAG and TAG_ACK: a point id and a list of "key=value" ("key=" removes
 * the key in an update). u16 length + point, u16 count, then each tag as
 * u16 length + bytes.
 */
struct wire_tags {
	char point[WIRE_POINT_MAX + 1];
	size_t ntags;
	char tags[FERRY_TAGS_MAX][WIRE_TAG_MAX + 1];
};

#define WIRE_TAGS_MAX \
	(2 + WIRE_POINT_MAX + 2 + FERRY_TAGS_MAX * (2 + WIRE_TAG_MAX))

/* Returns the payload length, or 0 when @t does not fit its limits. */
size_t wire_tags_encode(const struct wire_tags *t, uint8_t *out, size_t cap);
int wire_tags_decode(const uint8_t *p, size_t len, struct wire_tags *t,
		     struct ferr *e);

/* ERROR's and ACK's payload: a bounded printable string. */
size_t wire_string_encode(const char *s, size_t max, uint8_t *out);
int wire_string_decode(const uint8_t *p, size_t len, size_t max, char *out,
		       struct ferr *e);

const char *wire_type_name(uint16_t type);

/* True when @len bytes at @p are all zero. */
bool wire_all_zero(const void *p, size_t len);

#endif /* FERRY_WIRE_H */
