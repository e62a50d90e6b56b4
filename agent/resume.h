/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: resuming an interrupted stream, and the sender's rate
 * limit.
 *
 * The receiver keeps STATE_DIR/recv-NAME.resume: the identity of the
 * stream it is writing (CBT uuid, base point, target point) and the
 * offset below which every byte of that stream is durable on the
 * replica (written and fdatasync'd before the file was replaced). On a
 * reconnect for the same identity it answers STREAM_BEGIN with RESUME
 * carrying that offset, and the sender skips what lies below it.
 */
#ifndef FERRY_RESUME_H
#define FERRY_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snap.h"
#include "util.h"
#include "wire.h"

struct resume_state {
	uint8_t cbt_uuid[16];
	char base[WIRE_POINT_MAX + 1]; /* "" for a full stream */
	char target[WIRE_POINT_MAX + 1];
	uint64_t offset;
};

/* The receiver makes the replica durable and saves this every so often. */
#define RESUME_EVERY (8ULL << 20)

/* The identity of the stream @b begins. */
void resume_from_begin(const struct wire_begin *b, struct resume_state *r);
/* Same stream (uuid, base, target)? */
bool resume_same(const struct resume_state *a, const struct resume_state *b);

int resume_format(const struct resume_state *r, char *buf, size_t len);
int resume_parse(const char *text, struct resume_state *r, struct ferr *e);
/* 0, -ENOENT without a file, or an error in @e. */
int resume_load(const char *path, struct resume_state *r, struct ferr *e);
int resume_save(const char *path, const struct resume_state *r, struct ferr *e);
/* Removes the file (the point arrived); missing is fine. */
int resume_clear(const char *path, struct ferr *e);

/*
 * Drops what lies below @offset from @n sorted extents @x, in place:
 * returns the number left, moved to the front of @x.
 */
size_t extents_skip_below(struct extent *x, size_t n, uint64_t offset);

/* A token bucket: @rate bytes per second, bursts of up to @burst. */
struct bwlimit {
	uint64_t rate; /* 0: no limit */
	uint64_t burst;
	double tokens;
	long long last_us;
};

void bwlimit_init(struct bwlimit *b, uint64_t rate, long long now_us);
/*
 * Takes @len bytes' worth of tokens at @now_us; returns how many
 * microseconds to wait before sending them (0: at once).
 */
long long bwlimit_take(struct bwlimit *b, uint64_t len, long long now_us);
/* "10M", "512K", "1G", "100000" (bytes per second); 0 is refused. */
int parse_rate(const char *s, uint64_t *rate, struct ferr *e);

#endif /* FERRY_RESUME_H */
