/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: replicate (primary) and receive (second site).
 */
#ifndef FERRY_CMD_REPL_H
#define FERRY_CMD_REPL_H

#include <stdbool.h>
#include <stdint.h>

#include "context.h"
#include "util.h"

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
	bool keep_snapshot; /* --keep-snapshot: not deleted after the ack */
	int compress_level; /* --compress[=LEVEL]: zstd level, 0 none */
	bool progress;
	bool verbose;
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

int cmd_replicate(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_receive(struct ferry_ctx *ctx, int argc, char **argv);

#endif /* FERRY_CMD_REPL_H */
