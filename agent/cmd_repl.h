/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: replicate (primary) and receive (second site).
 */
#ifndef FERRY_CMD_REPL_H
#define FERRY_CMD_REPL_H

#include <stdbool.h>
#include <stdint.h>

#include "backlog.h"
#include "context.h"
#include "repl_tags.h"
#include "util.h"
#include "wire.h"

struct json_object;

struct replicate_args {
	const struct ferry_ctx *ctx;
	const char *name;
	const char *to; /* HOST:PORT */
	bool once;
	int every_ms; /* 0: --once */
	int timeout_ms; /* per point, from the snapshot to the ack */
	bool full; /* --full: resend everything */
	uint64_t bwlimit; /* --bwlimit: bytes per second, 0 none */
	bool tags_only; /* --tags-only: flush the tag queue, no point */
	const char *hook; /* --hook CMD: the point taken as ferry snapshot */
	bool hook_shell; /* --hook-shell */
	int hook_timeout_ms; /* --hook-timeout, per hook phase */
	bool accept_lower; /* --accept-lower-label */
	const char *session; /* --session CMD: a quiesce session (session.h) */
	int session_timeout_ms; /* --session-timeout, per session step */
	bool keep_snapshot; /* --keep-snapshot: not deleted after the ack */
	int compress_level; /* --compress[=LEVEL]: zstd level, 0 none */
	bool progress;
	bool verbose;
	/*
	 * The daemon's rounds (all zero for ferry replicate): points queue
	 * while the second site cannot be reached (backlog.h), one
	 * connection per round (the next round is the retry), the pair
	 * state file is kept up to date and each action is told to @note.
	 */
	bool backlog;
	struct backlog_limits limits;
	void (*note)(void *arg, const char *volume, const char *event,
		     const char *message);
	void *note_arg;
};

/* What one round did. */
struct replicate_result {
	char point[WIRE_POINT_MAX + 1];
	uint32_t source_snap_id;
	uint32_t replica_snap_id;
	bool full;
	const char *why; /* of a full copy: first, requested, cbt-reset... */
	uint64_t bytes_sent; /* all connections of the round */
	uint64_t bytes_changed;
	uint64_t data_bytes; /* DATA frames' bytes, all connections */
	uint64_t data_wire_bytes; /* the same as on the wire (compressed) */
	uint64_t zstd_frames;
	const char *compress; /* "off", "zstd", "unsupported-by-peer" */
	uint64_t resumed_from; /* highest RESUME offset received */
	bool resumed_point; /* the point was in flight from an earlier run */
	unsigned int connections;
	struct tags_result tags;
	bool tags_failed;
	double seconds;
	bool link_down; /* the round failed: the second site was unreachable */
	size_t queued; /* backlog: points still queued afterwards */
};

struct receive_args {
	const char *name;
	const char *listen; /* ADDR:PORT */
	bool once;
	int timeout_ms; /* idle time allowed within a stream */
	bool no_compress; /* --no-compress: ZSTD not offered */
	bool verbose;
	bool drill; /* a --drill-* option: run the drill watch beside */
	const char *drill_check; /* --drill-check CMD, NULL: built-in */
	const char *drill_tag; /* --drill-tag KEY (default drill) */
	int drill_timeout_ms; /* --drill-timeout */
	uint64_t drill_budget; /* --drill-budget, bytes; 0: default */
	uint64_t drill_every_s; /* --drill-every, seconds; 0: none */
};

int replicate_parse(struct ferry_ctx *ctx, int argc, char **argv,
		    struct replicate_args *a, struct ferr *e);
int receive_parse(struct ferry_ctx *ctx, int argc, char **argv,
		  struct receive_args *a, struct ferr *e);

extern const char replicate_usage[];
extern const char receive_usage[];

/* The state files: "DIR/repl-NAME.base" and "DIR/recv-NAME.state". */
int repl_base_path(const char *dir, const char *name, char *buf, size_t len);
int recv_state_path(const char *dir, const char *name, char *buf, size_t len);
/* The receiver's resume file: "DIR/recv-NAME.resume". */
int recv_resume_path(const char *dir, const char *name, char *buf, size_t len);

/*
 * The "replication" object of `ferry status --json` for volume @name,
 * or NULL when it has no base file (never replicated).
 */
struct json_object *repl_status_json(const struct ferry_ctx *ctx,
				     const char *name);
/*
 * The same as one indented text line for ferry status: where to, state,
 * RPO, the round's progress and the backlog. -ENOENT: not replicated.
 */
int repl_status_text(const struct ferry_ctx *ctx, const char *name, char *buf,
		     size_t len);

/*
 * One round of @a (ferry replicate --once, or the daemon's pair): a
 * point, sent, acknowledged; 0 or an error in @e.
 */
int replicate_round(struct ferry_ctx *ctx, const struct replicate_args *a,
		    struct replicate_result *res, struct ferr *e);

int cmd_replicate(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_receive(struct ferry_ctx *ctx, int argc, char **argv);

#endif /* FERRY_CMD_REPL_H */
