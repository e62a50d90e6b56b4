/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: the replication backlog of a volume at the primary.
 *
 * While the second site cannot be reached, every round of the daemon
 * still takes a point; the points not yet acknowledged queue here
 * (STATE_DIR/repl-NAME.queue, oldest first), each with its live
 * snapshot. The policy is "merge": a round sends the delta from the
 * base (the last acknowledged point) to the NEWEST queued point, and
 * once that is acknowledged the older queued points are deleted
 * (merged into it). The queue is bounded: beyond max_queued points, or
 * while the CoW store is fuller than max_cow_percent, the oldest queued
 * point is dropped. Never dropped: the newest point (the RPO the second
 * site will get) and the base of the next delta.
 */
#ifndef FERRY_BACKLOG_H
#define FERRY_BACKLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "wire.h"

#define BACKLOG_MAX 64
#define BACKLOG_DEFAULT_MAX_QUEUED 8
#define BACKLOG_DEFAULT_MAX_COW_PERCENT 80

struct backlog_point {
	char point[WIRE_POINT_MAX + 1];
	uint32_t snap_id;
	uint64_t created; /* Unix seconds */
};

struct backlog {
	struct backlog_point q[BACKLOG_MAX]; /* oldest first */
	size_t n;
	uint64_t merged; /* points merged into a newer one, ever */
	uint64_t dropped; /* points dropped by the bound, ever */
	char last_action[160]; /* the newest policy action, for status */
};

struct backlog_limits {
	unsigned int max_queued; /* >= 1 */
	unsigned int max_cow_percent; /* 1..100 */
};

enum backlog_why {
	BACKLOG_KEEP = 0,
	BACKLOG_DROP_QUEUE_FULL,
	BACKLOG_DROP_COW_FULL,
};

/* "queue-full", "cow-full" */
const char *backlog_why_name(enum backlog_why why);

/* Appends @p; -ENOSPC when the queue holds BACKLOG_MAX points. */
int backlog_push(struct backlog *b, const struct backlog_point *p);
/* Removes entry @i, keeping the order. */
void backlog_remove(struct backlog *b, size_t i);
/* The point to send (the newest), or NULL when the queue is empty. */
const struct backlog_point *backlog_target(const struct backlog *b);

/*
 * The policy's next decision: the index of the queued point to drop
 * and why, or BACKLOG_KEEP when nothing is to go. @cow_percent is the
 * CoW store's use now (0..100). Only the oldest droppable point is ever
 * chosen; the newest and @base_point (the base of the next delta) are
 * never chosen. Call again after each drop (the CoW use changes).
 */
enum backlog_why backlog_next_drop(const struct backlog *b,
				   const char *base_point,
				   const struct backlog_limits *l,
				   unsigned int cow_percent, size_t *index);

/* Text form ("key=value" and "queued=POINT SNAP CREATED" lines). */
int backlog_format(const struct backlog *b, char *buf, size_t len);
int backlog_parse(const char *text, struct backlog *b, struct ferr *e);
/* An absent file is an empty queue. */
int backlog_load(const char *path, struct backlog *b, struct ferr *e);
int backlog_save(const char *path, const struct backlog *b, struct ferr *e);
/* "DIR/repl-NAME.queue" */
int backlog_path(const char *dir, const char *name, char *buf, size_t len);

#endif /* FERRY_BACKLOG_H */
