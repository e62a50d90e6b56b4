// SPDX-License-Identifier: GPL-2.0
/*
 * Writes one valid frame of each type into DIR: the fuzzer's seeds.
 */
#include <stdio.h>
#include <string.h>

#include "compress.h"
#include "wire.h"

static void put(const char *dir, const char *name, uint16_t type, uint64_t a0,
		uint64_t a1, const uint8_t *p, uint32_t len)
{
	uint8_t hdr[WIRE_HDR_LEN];
	char path[4096];
	FILE *f;

	wire_hdr_encode(hdr, type, 0, a0, a1, p, len);
	snprintf(path, sizeof(path), "%s/seed-%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(hdr, 1, sizeof(hdr), f);
	if (p)
		fwrite(p, 1, len, f);
	fclose(f);
}

/* A compressed DATA frame (feature ZSTD) of 8 KiB of text. */
static void put_zstd(const char *dir)
{
	static uint8_t data[8192], frame[WIRE_HDR_LEN + sizeof(data)];
	struct compressor *z;
	struct ferr e;
	char path[4096];
	size_t i, n;
	FILE *f;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)("ferry zstd seed\n"[i % 16]);
	if (compressor_new(&z, COMPRESS_LEVEL_DEFAULT, &e))
		return;
	n = compress_data_frame(z, frame, 0, 4096, data, sizeof(data));
	compressor_free(z);
	snprintf(path, sizeof(path), "%s/seed-data-zstd", dir);
	f = n ? fopen(path, "wb") : NULL;
	if (!f)
		return;
	fwrite(frame, 1, n, f);
	fclose(f);
}

int main(int argc, char **argv)
{
	static struct wire_begin b;
	static uint8_t buf[WIRE_BEGIN_MAX];
	struct wire_hello h = { 1, 1, WIRE_FEATURES, WIRE_FEATURES_REQUIRED };
	size_t n;

	if (argc != 2)
		return 2;
	n = wire_hello_encode(&h, buf);
	put(argv[1], "hello", WIRE_HELLO, 0, 0, buf, (uint32_t)n);
	b.volume_size = 64 << 20;
	b.chunk_size = 65536;
	b.block_size = 4096;
	b.mode = WIRE_MODE_INCREMENTAL;
	strcpy(b.base_point, "a");
	strcpy(b.target_point, "b");
	b.ntags = 1;
	strcpy(b.tags[0], "ferry.point=b");
	n = wire_begin_encode(&b, buf, sizeof(buf));
	put(argv[1], "begin", WIRE_STREAM_BEGIN, 0, 0, buf, (uint32_t)n);
	memset(buf, 7, 4096);
	put(argv[1], "data", WIRE_DATA, 8192, 4096, buf, 4096);
	put(argv[1], "zero", WIRE_ZERO, 0, 65536, NULL, 0);
	put_zstd(argv[1]);
	put(argv[1], "end", WIRE_STREAM_END, 69632, 2, NULL, 0);
	put(argv[1], "error", WIRE_ERROR, 0, 0, (const uint8_t *)"no", 2);
	put(argv[1], "ack", WIRE_ACK, 3, 0, (const uint8_t *)"b", 1);
	return 0;
}
