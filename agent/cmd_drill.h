/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: running a fire drill (cmd_drill.c), watching tags for
 * drill requests (watch.c), failover and failback (failover.c).
 */
#ifndef FERRY_CMD_DRILL_H
#define FERRY_CMD_DRILL_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "context.h"
#include "drill_catalog.h"
#include "util.h"

#define DRILL_DEFAULT_TIMEOUT_MS (30 * 60 * 1000)

struct drill_opts {
	const char *name;
	uint32_t id; /* 0 and point NULL: the newest live snapshot */
	const char *point;
	const char *check; /* NULL: the built-in filesystem check */
	int timeout_ms;
	uint64_t budget; /* bytes; 0: half the free CoW space at the start */
	const char *key; /* the drill tag key (result tags are KEY.*) */
	bool verbose; /* progress lines on stderr */
};

/*
 * One drill: clone, check, tear down, record, tag. Returns 0 when the
 * drill ran (@r->pass tells how it went), or a negative errno with @e set
 * when it could not start (no such snapshot, no kernel module). A drill
 * interrupted by SIGINT/SIGTERM/SIGHUP (hook_stop_signal) is torn down,
 * recorded as failed and returns -EINTR.
 */
int drill_run(const struct ferry_ctx *ctx, const struct drill_opts *o,
	      struct drill_record *r, struct ferr *e);

/*
 * The tag watch: runs drills on @name's snapshots when their tag
 * @key changes to a request (drill.h: drill_tag_triggers), then sets
 * KEY=done. With @every_s, also a scheduled drill of the newest live
 * snapshot every @every_s seconds, skipped when that snapshot was drilled
 * since the last scheduled run (drill_sched_skip); one thread runs both,
 * so two drills never overlap. Returns after @max_drills drills (0:
 * never) or when *@stop becomes non-zero.
 */
struct drill_watch {
	const struct ferry_ctx *ctx;
	struct drill_opts opts; /* name, key, check, timeout, budget */
	unsigned int max_drills;
	uint64_t every_s; /* the scheduled drill's period; 0: none */
	const volatile sig_atomic_t *stop;
	unsigned int drills; /* run so far */
	int result; /* 0, or the negative errno it ended with */
	struct ferr err;
	pthread_t thread;
};

int drill_watch_run(struct drill_watch *w);
/* drill_watch_run() in a thread (e.g. beside `ferry receive`). */
int drill_watch_start(struct drill_watch *w, struct ferr *e);

#endif /* FERRY_CMD_DRILL_H */
