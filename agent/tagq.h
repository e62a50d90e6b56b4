/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: the primary's queue of tag updates for the second site,
 * STATE_DIR/tagq-NAME.queue. One line per update, appended and fsync'd:
 *
 *   SEQ \t POINT \t KEY=VALUE \t ... \t CRC32C(hex, of what precedes it)
 *
 * An update leaves the queue (the file is rewritten atomically) only
 * after the second site acknowledged it. A line torn by a crash (no
 * newline) or with a bad checksum is ignored, and a torn tail is cut
 * before the next append. Appends and removals hold an flock on
 * tagq-NAME.lock.
 */
#ifndef FERRY_TAGQ_H
#define FERRY_TAGQ_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "wire.h"

struct tagq_entry {
	uint64_t seq;
	char point[WIRE_POINT_MAX + 1];
	size_t ntags;
	char tags[FERRY_TAGS_MAX][WIRE_TAG_MAX + 1]; /* "key=value", "key=" */
};

struct tagq {
	struct tagq_entry *e;
	size_t n;
};

#define TAGQ_LINE_MAX \
	(24 + WIRE_POINT_MAX + FERRY_TAGS_MAX * (WIRE_TAG_MAX + 1) + 16)

int tagq_path(const char *dir, const char *name, char *buf, size_t len);

/* One line with its newline; returns its length, or -ENOSPC/-EINVAL. */
int tagq_format(const struct tagq_entry *t, char *buf, size_t len);
/* One line without its newline: 0, or -EINVAL (bad checksum or field). */
int tagq_parse_line(const char *line, size_t n, struct tagq_entry *t);
/* Every valid complete line of @text, in order. */
int tagq_parse(const char *text, size_t len, struct tagq *q, struct ferr *e);

/* The queue (empty without a file). */
int tagq_load(const char *path, struct tagq *q, struct ferr *e);
/* Appends an update durably; its sequence number in @seq (may be NULL). */
int tagq_append(const char *path, const char *point, char *const *kv, size_t n,
		uint64_t *seq, struct ferr *e);
/* Removes the update @seq (acknowledged). */
int tagq_remove(const char *path, uint64_t seq, struct ferr *e);
void tagq_free(struct tagq *q);

#endif /* FERRY_TAGQ_H */
