// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: frames of the replication protocol, encoded and decoded.
 *
 * Header layout (little-endian, 48 bytes):
 *   0 magic u32 | 4 type u16 | 6 flags u16 | 8 payload_len u32 |
 *  12 payload_crc u32 | 16 seq u64 | 24 arg0 u64 | 32 arg1 u64 |
 *  40 reserved u32 (0) | 44 header crc32c of bytes 0..43
 */
#include <errno.h>
#include <string.h>

#include "wire.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* ---- crc32c (Castagnoli), SSE4.2 when the CPU has it ---- */

static uint32_t crc_table[8][256];
static int crc_hw = -1;

static void crc_init(void)
{
	uint32_t c;
	int i, j, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78U : c >> 1;
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (k = 1; k < 8; k++)
			crc_table[k][i] =
				(crc_table[k - 1][i] >> 8) ^
				crc_table[0][crc_table[k - 1][i] & 0xff];
#if defined(__x86_64__)
	__builtin_cpu_init();
	crc_hw = __builtin_cpu_supports("sse4.2");
#else
	crc_hw = 0;
#endif
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
crc_sse42(uint32_t c, const uint8_t *p, size_t len)
{
	uint64_t v = c;

	for (; len && ((uintptr_t)p & 7); len--)
		v = __builtin_ia32_crc32qi((uint32_t)v, *p++);
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		v = __builtin_ia32_crc32di(v, w);
	}
	for (; len; len--)
		v = __builtin_ia32_crc32qi((uint32_t)v, *p++);
	return (uint32_t)v;
}
#endif

static uint32_t crc_soft(uint32_t c, const uint8_t *p, size_t len)
{
	for (; len >= 8; len -= 8, p += 8) {
		c ^= get32(p);
		c = crc_table[7][c & 0xff] ^ crc_table[6][(c >> 8) & 0xff] ^
		    crc_table[5][(c >> 16) & 0xff] ^ crc_table[4][c >> 24] ^
		    crc_table[3][p[4]] ^ crc_table[2][p[5]] ^
		    crc_table[1][p[6]] ^ crc_table[0][p[7]];
	}
	for (; len; len--)
		c = (c >> 8) ^ crc_table[0][(c ^ *p++) & 0xff];
	return c;
}

uint32_t crc32c(uint32_t crc, const void *buf, size_t len)
{
	uint32_t c = ~crc;

	if (crc_hw < 0)
		crc_init();
#if defined(__x86_64__)
	if (crc_hw)
		return ~crc_sse42(c, buf, len);
#endif
	return ~crc_soft(c, buf, len);
}

/* ---- header ---- */

void wire_hdr_encode_raw(uint8_t out[WIRE_HDR_LEN], const struct wire_hdr *h)
{
	put32(out, WIRE_MAGIC);
	put16(out + 4, h->type);
	put16(out + 6, h->flags);
	put32(out + 8, h->payload_len);
	put32(out + 12, h->payload_crc);
	put64(out + 16, h->seq);
	put64(out + 24, h->arg0);
	put64(out + 32, h->arg1);
	put32(out + 40, 0);
	put32(out + 44, crc32c(0, out, 44));
}

void wire_hdr_encode(uint8_t out[WIRE_HDR_LEN], uint16_t type, uint64_t seq,
		     uint64_t arg0, uint64_t arg1, const void *payload,
		     uint32_t payload_len)
{
	struct wire_hdr h = {
		.type = type,
		.flags = WIRE_F_REQUIRED,
		.payload_len = payload ? payload_len : 0,
		.payload_crc = payload ? crc32c(0, payload, payload_len) : 0,
		.seq = seq,
		.arg0 = arg0,
		.arg1 = arg1,
	};

	wire_hdr_encode_raw(out, &h);
}

const char *wire_type_name(uint16_t type)
{
	static const char *const names[] = {
		[WIRE_HELLO] = "HELLO",
		[WIRE_STREAM_BEGIN] = "STREAM_BEGIN",
		[WIRE_DATA] = "DATA",
		[WIRE_ZERO] = "ZERO",
		[WIRE_STREAM_END] = "STREAM_END",
		[WIRE_ARRIVED] = "ARRIVED",
		[WIRE_ACK] = "ACK",
		[WIRE_ERROR] = "ERROR",
		[WIRE_RESUME] = "RESUME",
		[WIRE_TAG] = "TAG",
		[WIRE_TAG_ACK] = "TAG_ACK",
		[WIRE_TAGS_DONE] = "TAGS_DONE",
	};

	if (type && type < __WIRE_TYPE_MAX)
		return names[type];
	return "unknown";
}

/* DATA and ZERO: an aligned, non-empty range inside the volume. */
static int check_extent(const struct wire_hdr *h, const struct wire_limits *lim,
			struct ferr *e)
{
	const char *t = wire_type_name(h->type);

	if (!lim || !lim->volume_size)
		return ferr_set(e, -EPROTO, "%s frame before STREAM_BEGIN", t);
	if (!h->arg1 || h->arg1 > WIRE_MAX_PAYLOAD)
		return ferr_set(e, -EMSGSIZE,
				"%s frame of %llu bytes (1..%u allowed)", t,
				(unsigned long long)h->arg1, WIRE_MAX_PAYLOAD);
	if (h->arg0 % WIRE_ALIGN || h->arg1 % WIRE_ALIGN)
		return ferr_set(e, -EPROTO,
				"%s frame at %llu+%llu is not %u-byte aligned",
				t, (unsigned long long)h->arg0,
				(unsigned long long)h->arg1, WIRE_ALIGN);
	if (h->arg0 > lim->volume_size || h->arg1 > lim->volume_size - h->arg0)
		return ferr_set(
			e, -ERANGE,
			"%s frame at %llu+%llu is beyond the volume's %llu bytes",
			t, (unsigned long long)h->arg0,
			(unsigned long long)h->arg1,
			(unsigned long long)lim->volume_size);
	if (h->flags & WIRE_F_ZSTD) {
		/* The length is the bound of what it decompresses to. */
		if (!h->payload_len || h->payload_len >= h->arg1)
			return ferr_set(
				e, -EPROTO,
				"compressed DATA frame carries %u bytes for a length of %llu (must be fewer)",
				h->payload_len, (unsigned long long)h->arg1);
		return 0;
	}
	if (h->type == WIRE_DATA && h->payload_len != h->arg1)
		return ferr_set(
			e, -EPROTO,
			"DATA frame carries %u bytes for a length of %llu",
			h->payload_len, (unsigned long long)h->arg1);
	if (h->type == WIRE_ZERO && h->payload_len)
		return ferr_set(e, -EPROTO, "ZERO frame with a payload");
	return 0;
}

int wire_hdr_decode(const uint8_t in[WIRE_HDR_LEN],
		    const struct wire_limits *lim, struct wire_hdr *h,
		    struct ferr *e)
{
	uint32_t magic = get32(in);

	if (magic != WIRE_MAGIC)
		return ferr_set(e, -EPROTO,
				"bad magic 0x%08x (not a ferry peer?)", magic);
	if (get32(in + 44) != crc32c(0, in, 44))
		return ferr_set(e, -EBADMSG, "header checksum mismatch");
	if (get32(in + 40))
		return ferr_set(e, -EPROTO, "reserved header field is not 0");
	h->type = get16(in + 4);
	h->flags = get16(in + 6);
	h->payload_len = get32(in + 8);
	h->payload_crc = get32(in + 12);
	h->seq = get64(in + 16);
	h->arg0 = get64(in + 24);
	h->arg1 = get64(in + 32);
	if (h->flags & ~WIRE_F_KNOWN)
		return ferr_set(e, -EPROTO, "unknown header flags 0x%04x",
				h->flags);
	if (h->payload_len > WIRE_MAX_PAYLOAD)
		return ferr_set(e, -EMSGSIZE,
				"frame payload of %u bytes exceeds %u",
				h->payload_len, WIRE_MAX_PAYLOAD);
	if (!h->type || h->type >= __WIRE_TYPE_MAX) {
		if (h->flags & WIRE_F_REQUIRED)
			return ferr_set(e, -EPROTONOSUPPORT,
					"unknown required frame type %u",
					h->type);
		return WIRE_SKIP;
	}
	if (h->flags & WIRE_F_ZSTD) {
		if (h->type != WIRE_DATA)
			return ferr_set(e, -EPROTO,
					"%s frame flagged as compressed",
					wire_type_name(h->type));
		if (!lim || !lim->zstd)
			return ferr_set(
				e, -EPROTO,
				"compressed DATA frame without the ZSTD feature");
	}
	switch (h->type) {
	case WIRE_HELLO:
		if (h->payload_len < WIRE_HELLO_LEN)
			return ferr_set(e, -EPROTO, "HELLO frame too short");
		break;
	case WIRE_STREAM_BEGIN:
		if (h->payload_len > WIRE_BEGIN_MAX)
			return ferr_set(e, -EMSGSIZE,
					"STREAM_BEGIN of %u bytes exceeds %u",
					h->payload_len, WIRE_BEGIN_MAX);
		break;
	case WIRE_DATA:
	case WIRE_ZERO:
		return check_extent(h, lim, e);
	case WIRE_RESUME:
		if (h->payload_len || h->arg1 || h->arg0 % WIRE_ALIGN)
			return ferr_set(
				e, -EPROTO,
				"RESUME frame at offset %llu is invalid",
				(unsigned long long)h->arg0);
		break;
	case WIRE_TAG:
	case WIRE_TAG_ACK:
		if (h->payload_len > WIRE_TAGS_MAX)
			return ferr_set(e, -EMSGSIZE,
					"%s payload of %u bytes exceeds %u",
					wire_type_name(h->type), h->payload_len,
					(unsigned int)WIRE_TAGS_MAX);
		break;
	case WIRE_ERROR:
	case WIRE_ACK:
		if (h->payload_len > WIRE_REASON_MAX)
			return ferr_set(e, -EMSGSIZE,
					"%s payload of %u bytes exceeds %u",
					wire_type_name(h->type), h->payload_len,
					WIRE_REASON_MAX);
		break;
	default:
		if (h->payload_len)
			return ferr_set(e, -EPROTO, "%s frame with a payload",
					wire_type_name(h->type));
	}
	return WIRE_OK;
}

int wire_payload_check(const struct wire_hdr *h, const void *payload,
		       struct ferr *e)
{
	uint32_t c = h->payload_len ? crc32c(0, payload, h->payload_len) : 0;

	if (c != h->payload_crc)
		return ferr_set(e, -EBADMSG,
				"%s frame %llu: payload checksum mismatch",
				wire_type_name(h->type),
				(unsigned long long)h->seq);
	return 0;
}

/* ---- HELLO ---- */

size_t wire_hello_encode(const struct wire_hello *h, uint8_t *out)
{
	put16(out, h->version_min);
	put16(out + 2, h->version_max);
	put32(out + 4, 0);
	put64(out + 8, h->features);
	put64(out + 16, h->required);
	return WIRE_HELLO_LEN;
}

int wire_hello_decode(const uint8_t *p, size_t len, struct wire_hello *h,
		      struct ferr *e)
{
	/* Longer is fine: a newer peer may append fields. */
	if (len < WIRE_HELLO_LEN)
		return ferr_set(e, -EPROTO, "HELLO frame too short");
	h->version_min = get16(p);
	h->version_max = get16(p + 2);
	h->features = get64(p + 8);
	h->required = get64(p + 16);
	if (!h->version_min || h->version_min > h->version_max)
		return ferr_set(e, -EPROTO, "HELLO with versions %u..%u",
				h->version_min, h->version_max);
	return 0;
}

int wire_negotiate(const struct wire_hello *mine, const struct wire_hello *peer,
		   uint16_t *version, uint64_t *features, struct ferr *e)
{
	uint16_t v = mine->version_max < peer->version_max ? mine->version_max :
							     peer->version_max;
	uint64_t f = mine->features & peer->features;

	if (v < mine->version_min || v < peer->version_min)
		return ferr_set(
			e, -EPROTONOSUPPORT,
			"no common protocol version (ours %u..%u, peer's %u..%u)",
			mine->version_min, mine->version_max, peer->version_min,
			peer->version_max);
	if ((mine->required | peer->required) & ~f)
		return ferr_set(
			e, -EPROTONOSUPPORT,
			"peer lacks required features 0x%llx",
			(unsigned long long)((mine->required | peer->required) &
					     ~f));
	*version = v;
	*features = f;
	return 0;
}

/* ---- STREAM_BEGIN ---- */

/*
 *  0 volume_size u64 | 8 chunk_size u32 | 12 block_size u32 |
 * 16 cbt_uuid[16] | 32 cbt_gen u64 | 40 mode u32 | 44 source_snap_id u32 |
 * 48 reserved u64 (0) | 56 ntags u32 | 60 reserved u32 (0) |
 * 64 base_point (u16 length + bytes) | target_point (same) |
 * ntags x (u16 length + "key=value")
 */
static size_t put_str(uint8_t *out, size_t pos, size_t cap, const char *s,
		      size_t max)
{
	size_t n = strlen(s);

	if (n > max || pos + 2 + n > cap)
		return 0;
	put16(out + pos, (uint16_t)n);
	memcpy(out + pos + 2, s, n);
	return pos + 2 + n;
}

size_t wire_begin_encode(const struct wire_begin *b, uint8_t *out, size_t cap)
{
	size_t pos = 64, i;

	if (cap < 64 || b->ntags > FERRY_TAGS_MAX)
		return 0;
	memset(out, 0, 64);
	put64(out, b->volume_size);
	put32(out + 8, b->chunk_size);
	put32(out + 12, b->block_size);
	memcpy(out + 16, b->cbt_uuid, 16);
	put64(out + 32, b->cbt_gen);
	put32(out + 40, b->mode);
	put32(out + 44, b->source_snap_id);
	put32(out + 56, (uint32_t)b->ntags);
	pos = put_str(out, pos, cap, b->base_point, WIRE_POINT_MAX);
	if (pos)
		pos = put_str(out, pos, cap, b->target_point, WIRE_POINT_MAX);
	for (i = 0; pos && i < b->ntags; i++)
		pos = put_str(out, pos, cap, b->tags[i], WIRE_TAG_MAX);
	return pos;
}

static bool printable(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static int get_str_in(const char *frame, const uint8_t *p, size_t len,
		      size_t *pos, size_t max, char *out, const char *what,
		      struct ferr *e)
{
	size_t n;

	if (len - *pos < 2)
		return ferr_set(e, -EPROTO, "%s truncated at %s", frame, what);
	n = get16(p + *pos);
	if (n > max)
		return ferr_set(e, -EMSGSIZE, "%s %s of %zu bytes exceeds %zu",
				frame, what, n, max);
	if (len - *pos - 2 < n)
		return ferr_set(e, -EPROTO, "%s truncated at %s", frame, what);
	memcpy(out, p + *pos + 2, n);
	out[n] = '\0';
	if (!printable(out, n))
		return ferr_set(e, -EPROTO, "%s %s is not printable ASCII",
				frame, what);
	*pos += 2 + n;
	return 0;
}

static int get_str(const uint8_t *p, size_t len, size_t *pos, size_t max,
		   char *out, const char *what, struct ferr *e)
{
	return get_str_in("STREAM_BEGIN", p, len, pos, max, out, what, e);
}

int wire_begin_decode(const uint8_t *p, size_t len, struct wire_begin *b,
		      struct ferr *e)
{
	size_t pos = 64, i;
	uint32_t ntags;
	int err;

	memset(b, 0, sizeof(*b));
	if (len < 64)
		return ferr_set(e, -EPROTO, "STREAM_BEGIN too short");
	b->volume_size = get64(p);
	b->chunk_size = get32(p + 8);
	b->block_size = get32(p + 12);
	memcpy(b->cbt_uuid, p + 16, 16);
	b->cbt_gen = get64(p + 32);
	b->mode = get32(p + 40);
	b->source_snap_id = get32(p + 44);
	ntags = get32(p + 56);
	if (get64(p + 48) || get32(p + 60))
		return ferr_set(e, -EPROTO,
				"STREAM_BEGIN reserved field is not 0");
	if (!b->volume_size || b->volume_size % WIRE_ALIGN)
		return ferr_set(
			e, -EPROTO,
			"STREAM_BEGIN volume size %llu is not a positive multiple of %u",
			(unsigned long long)b->volume_size, WIRE_ALIGN);
	if (b->block_size < WIRE_ALIGN || b->block_size > WIRE_MAX_PAYLOAD ||
	    (b->block_size & (b->block_size - 1)))
		return ferr_set(e, -EPROTO,
				"STREAM_BEGIN block size %u is invalid",
				b->block_size);
	if (b->chunk_size < FERRY_CHUNK_MIN ||
	    b->chunk_size > FERRY_CHUNK_MAX ||
	    (b->chunk_size & (b->chunk_size - 1)))
		return ferr_set(e, -EPROTO,
				"STREAM_BEGIN chunk size %u is invalid",
				b->chunk_size);
	if (b->mode != WIRE_MODE_FULL && b->mode != WIRE_MODE_INCREMENTAL)
		return ferr_set(e, -EPROTO, "STREAM_BEGIN mode %u is unknown",
				b->mode);
	if (ntags > FERRY_TAGS_MAX)
		return ferr_set(e, -EMSGSIZE,
				"STREAM_BEGIN with %u tags (at most %d)", ntags,
				FERRY_TAGS_MAX);
	err = get_str(p, len, &pos, WIRE_POINT_MAX, b->base_point, "base point",
		      e);
	if (!err)
		err = get_str(p, len, &pos, WIRE_POINT_MAX, b->target_point,
			      "target point", e);
	for (i = 0; !err && i < ntags; i++) {
		err = get_str(p, len, &pos, WIRE_TAG_MAX, b->tags[i], "tag", e);
		if (!err && !strchr(b->tags[i], '='))
			err = ferr_set(e, -EPROTO,
				       "STREAM_BEGIN tag '%s' has no '='",
				       b->tags[i]);
	}
	if (err)
		return err;
	b->ntags = ntags;
	if (!b->target_point[0])
		return ferr_set(e, -EPROTO,
				"STREAM_BEGIN without a target point");
	if (b->mode == WIRE_MODE_INCREMENTAL && !b->base_point[0])
		return ferr_set(
			e, -EPROTO,
			"incremental STREAM_BEGIN without a base point");
	if (pos != len)
		return ferr_set(e, -EPROTO,
				"STREAM_BEGIN has %zu trailing bytes",
				len - pos);
	return 0;
}

/* ---- TAG, TAG_ACK ---- */

size_t wire_tags_encode(const struct wire_tags *t, uint8_t *out, size_t cap)
{
	size_t pos, i;

	if (t->ntags > FERRY_TAGS_MAX || !t->point[0])
		return 0;
	pos = put_str(out, 0, cap, t->point, WIRE_POINT_MAX);
	if (!pos || pos + 2 > cap)
		return 0;
	put16(out + pos, (uint16_t)t->ntags);
	pos += 2;
	for (i = 0; pos && i < t->ntags; i++)
		pos = put_str(out, pos, cap, t->tags[i], WIRE_TAG_MAX);
	return pos;
}

int wire_tags_decode(const uint8_t *p, size_t len, struct wire_tags *t,
		     struct ferr *e)
{
	size_t pos = 0, i, n;
	int err;

	memset(t, 0, sizeof(*t));
	err = get_str_in("TAG", p, len, &pos, WIRE_POINT_MAX, t->point, "point",
			 e);
	if (err)
		return err;
	if (!t->point[0])
		return ferr_set(e, -EPROTO, "TAG without a point");
	if (len - pos < 2)
		return ferr_set(e, -EPROTO, "TAG truncated at the tag count");
	n = get16(p + pos);
	pos += 2;
	if (n > FERRY_TAGS_MAX)
		return ferr_set(e, -EMSGSIZE, "TAG with %zu tags (at most %d)",
				n, FERRY_TAGS_MAX);
	for (i = 0; i < n; i++) {
		err = get_str_in("TAG", p, len, &pos, WIRE_TAG_MAX, t->tags[i],
				 "tag", e);
		if (err)
			return err;
		if (!strchr(t->tags[i], '=') || t->tags[i][0] == '=')
			return ferr_set(e, -EPROTO, "TAG tag '%s' has no key",
					t->tags[i]);
	}
	if (pos != len)
		return ferr_set(e, -EPROTO, "TAG has %zu trailing bytes",
				len - pos);
	t->ntags = n;
	return 0;
}

/* ---- strings (ERROR, ACK) ---- */

size_t wire_string_encode(const char *s, size_t max, uint8_t *out)
{
	size_t n = strnlen(s, max), i;

	for (i = 0; i < n; i++)
		out[i] = s[i] >= 0x20 && s[i] <= 0x7e ? (uint8_t)s[i] : '?';
	return n;
}

int wire_string_decode(const uint8_t *p, size_t len, size_t max, char *out,
		       struct ferr *e)
{
	size_t i;

	if (len > max)
		return ferr_set(e, -EMSGSIZE, "string of %zu bytes exceeds %zu",
				len, max);
	for (i = 0; i < len; i++)
		out[i] = p[i] >= 0x20 && p[i] <= 0x7e ? (char)p[i] : '?';
	out[len] = '\0';
	return 0;
}

bool wire_all_zero(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t acc = 0, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, b + i, 8);
		acc |= w;
		if (acc)
			return false;
	}
	for (; i < len; i++)
		acc |= b[i];
	return !acc;
}
