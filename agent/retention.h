/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: retention, a pure function from a volume's points, the
 * rules and the time to keep or delete per point, with the reason.
 *
 * A point is kept, in this order of reasons, when it carries a pin tag
 * (the key is present, whatever its value), when replication needs it
 * (the base of the next delta), when a clone of it exists, when it is
 * one of the min_count newest valid points, or when a keep rule keeps
 * it: within the rule's window (age < within), the newest point of each
 * every-sized bucket (buckets aligned to the Unix epoch, UTC; every = 0
 * keeps every point in the window). Anything else is deleted; invalid
 * snapshots (their data is gone) count for no rule and min_count.
 */
#ifndef FERRY_RETENTION_H
#define FERRY_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snap.h"

#define RETENTION_RULES_MAX 16
#define RETENTION_PINS_MAX 8
#define RETENTION_REASON_MAX 96

struct retention_rule {
	uint64_t within_s; /* > 0 */
	uint64_t every_s; /* 0: keep all within */
};

struct retention {
	struct retention_rule keep[RETENTION_RULES_MAX];
	size_t nkeep;
	uint32_t min_count;
	char pin_tags[RETENTION_PINS_MAX][FERRY_TAG_KEY_MAX + 1];
	size_t npins;
};

struct retention_point {
	/* in */
	uint32_t id;
	char point[FERRY_TAG_VALUE_MAX + 1];
	uint64_t created_ns; /* CLOCK_REALTIME */
	const struct ferry_tag *tags;
	size_t ntags;
	bool invalid; /* the kernel's state is not live */
	bool needed_by_replication;
	uint32_t clone; /* id of a clone of it, 0: none */
	/* out */
	bool keep;
	char reason[RETENTION_REASON_MAX];
};

/*
 * Decides keep/reason for each of the @n points (any order). Returns the
 * number to delete, or -ENOMEM.
 */
int retention_apply(const struct retention *r, struct retention_point *p,
		    size_t n, uint64_t now_ns);

/* "hourly bucket 2026-12-07T01", "6s bucket 2026-12-07T01:02:06Z". */
void retention_bucket_name(uint64_t every_s, uint64_t bucket_start_s, char *buf,
			   size_t len);

#endif /* FERRY_RETENTION_H */
