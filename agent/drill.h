/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: fire drills, the decisions (pure functions, unit-tested):
 * which snapshot a drill takes, which tag updates trigger one, the space
 * budget, the teardown order, the result tags, the filesystem of a
 * superblock. The doing is in cmd_drill.c, the tag watch in watch.c.
 */
#ifndef FERRY_DRILL_H
#define FERRY_DRILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snap.h"
#include "util.h"

/* The tag that requests a drill, and the value a finished drill sets. */
#define DRILL_TAG_DEFAULT "drill"
#define DRILL_TAG_DONE "done"
/* Bytes of a check's output kept in the catalog. */
#define DRILL_OUTPUT_MAX 4096
#define DRILL_REASON_MAX 200

/*
 * The snapshot to drill: @want_id (0: any) or @want_point (NULL: any),
 * else the newest live snapshot that is not a clone. Returns its index in
 * @l, or -ENOENT with @e set.
 */
int drill_pick(const struct snap_list *l, const char *name, uint32_t want_id,
	       const char *want_point, struct ferr *e);

/*
 * Does tag "key=value" @kv request a drill for drill key @key? Only the
 * key itself with a value that is neither empty nor "done": the drill's
 * own result tags (KEY.result, ...) and KEY=done never trigger one.
 */
bool drill_tag_triggers(const char *kv, const char *key);

/* Does snapshot @s carry a request (KEY=value, value not empty or done)? */
bool drill_snap_requested(const struct ferry_snap_info *s, const char *key);

/*
 * The scheduled drill (watch --every): skip snapshot @s when it was
 * already drilled since the last scheduled run, that is when it has a
 * KEY.result and its KEY.at (whole seconds) is later than @since_ns (the
 * end of the last scheduled run, or the start of the watch). A drill in
 * the same second as @since_ns does not count: better drill once more.
 */
bool drill_sched_skip(const struct ferry_snap_info *s, const char *key,
		      uint64_t since_ns);

/* The space budget: @limit bytes (0: none) of CoW growth over @base. */
struct drill_budget {
	uint64_t base;
	uint64_t limit;
};

bool drill_budget_exceeded(const struct drill_budget *b, uint64_t cow_used);

/* What a drill set up, torn down in the reverse order. */
enum drill_step {
	DRILL_STEP_KILL, /* the check's process group */
	DRILL_STEP_UNMOUNT, /* every mount of the clone */
	DRILL_STEP_RMDIR, /* the temporary mount point */
	DRILL_STEP_DELETE_CLONE,
	DRILL_STEP_RECORD, /* catalog row and result tags */
};

struct drill_state {
	bool check_running;
	bool mounted; /* the clone may be mounted (by us or by the check) */
	bool have_dir;
	bool cloned;
};

/*
 * The teardown of @st in order into @steps (room for 5); returns how many.
 * The record always comes last, after the clone is gone, so a recorded
 * drill never leaves a clone behind.
 */
size_t drill_teardown_plan(const struct drill_state *st,
			   enum drill_step *steps);
const char *drill_step_name(enum drill_step s);

/* "ext4" (ext2/3/4), "xfs", or NULL: from the first 2 KiB of a device. */
const char *drill_fs_type(const unsigned char *buf, size_t len);

/*
 * The result tags: drill.result, drill.at, drill.seconds, and
 * drill.reason ("" on a pass: removes an older one). @key is the drill
 * key. @bufs holds 4 strings of 320 bytes; @kv gets 4 pointers into it.
 */
#define DRILL_TAG_BUF 320
void drill_result_tags(const char *key, bool pass, uint64_t at_ns,
		       uint64_t seconds, const char *reason,
		       char bufs[4][DRILL_TAG_BUF], char *kv[4]);

/* A drill key: a tag key short enough for KEY.reason, not ferry.*. */
int drill_key_check(const char *key, struct ferr *e);

/* A tag value from free text: printable ASCII, at most @len - 1 bytes. */
void drill_tag_value(const char *in, char *out, size_t len);

#endif /* FERRY_DRILL_H */
