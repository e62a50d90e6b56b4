/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: snapshot, snapshots, delete, tag, changed, clone, events.
 * The parsers are separate from the commands so that tests can run them
 * without a kernel.
 */
#ifndef FERRY_CMD_SNAP_H
#define FERRY_CMD_SNAP_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/ferry.h>

#include "context.h"
#include "util.h"

/* Most volumes "ferry snapshot" takes (the kernel's group limit). */
#define SNAPSHOT_NAMES_MAX 16

struct snapshot_args {
	char *names[SNAPSHOT_NAMES_MAX];
	size_t nnames;
	char *tags[FERRY_TAGS_MAX];
	size_t ntags;
	const char *label; /* NULL: decided by the agent (label.h) */
	uint32_t deadline_ms; /* 0: the kernel's default */
	const char *hook; /* --hook CMD, NULL: none */
	bool hook_shell; /* --hook-shell: CMD is a shell command */
	int hook_timeout_ms; /* --hook-timeout, per hook phase */
	bool accept_lower; /* --accept-lower-label */
	const char *session; /* --session CMD, NULL: none (session.h) */
	int session_timeout_ms; /* --session-timeout, per session step */
	bool session_timeout_given;
};

/* snapshots NAME */
struct snapshots_args {
	const char *name;
};

/* delete and clone: NAME SNAPID (or NAME POINTID: id 0, point set) */
struct snap_ref_args {
	const char *name;
	uint32_t id;
	const char *point;
};

struct tag_args {
	const char *name;
	uint32_t id;
	const char *point;
	char *kv[FERRY_TAGS_MAX];
	size_t n; /* 0: only list */
};

struct changed_args {
	const char *name;
	bool has_since_id;
	uint32_t since_id;
	const char *since_point; /* a point id given for --since */
	const char *until_point;
	bool has_since_epoch;
	uint64_t since_epoch;
	uint32_t until_id; /* 0: now */
};

/* reconcile [NAME] */
struct reconcile_args {
	const char *name; /* NULL: every volume */
};

struct events_args {
	uint64_t count; /* 0: no limit */
	int timeout_ms; /* -1: none */
};

/*
 * Each returns 0, CLI_HELP for --help, or -EINVAL with @e set for a usage
 * error. Global options among the arguments land in @ctx.
 */
int snapshot_parse(struct ferry_ctx *ctx, int argc, char **argv,
		   struct snapshot_args *a, struct ferr *e);
int snapshots_parse(struct ferry_ctx *ctx, int argc, char **argv,
		    struct snapshots_args *a, struct ferr *e);
int delete_parse(struct ferry_ctx *ctx, int argc, char **argv,
		 struct snap_ref_args *a, struct ferr *e);
int clone_parse(struct ferry_ctx *ctx, int argc, char **argv,
		struct snap_ref_args *a, struct ferr *e);
int tag_parse_args(struct ferry_ctx *ctx, int argc, char **argv,
		   struct tag_args *a, struct ferr *e);
int changed_parse(struct ferry_ctx *ctx, int argc, char **argv,
		  struct changed_args *a, struct ferr *e);
int reconcile_parse(struct ferry_ctx *ctx, int argc, char **argv,
		    struct reconcile_args *a, struct ferr *e);
int events_parse(struct ferry_ctx *ctx, int argc, char **argv,
		 struct events_args *a, struct ferr *e);

/* "10", "0.5": seconds into milliseconds (at most a day). */
int parse_seconds(const char *s, int *ms, struct ferr *e);

extern const char snapshot_usage[];
extern const char snapshots_usage[];
extern const char delete_usage[];
extern const char tag_usage[];
extern const char changed_usage[];
extern const char clone_usage[];
extern const char events_usage[];
extern const char reconcile_usage[];

/* A SNAPID operand, or a point id (sets *@point, *@id = 0). */
int parse_snap_ref(const char *s, const char *what, uint32_t *id,
		   const char **point, struct ferr *e);
/* Operands NAME [SNAPID|POINT] after the options; *id, *point unset if absent. */
int name_and_optional_ref(int argc, char **argv, const char **name,
			  uint32_t *id, const char **point, struct ferr *e);

#endif /* FERRY_CMD_SNAP_H */
