/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: the subcommands. Each takes argv starting at its own name
 * and returns the process exit status.
 */
#ifndef FERRY_COMMANDS_H
#define FERRY_COMMANDS_H

#include "context.h"

struct ferry_command {
	const char *name;
	const char *synopsis; /* for "ferry --help" */
	int (*run)(struct ferry_ctx *ctx, int argc, char **argv);
};

/* cmd_volume.c */
int cmd_attach(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_detach(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_status(struct ferry_ctx *ctx, int argc, char **argv);

/* cmd_snap.c */
int cmd_snapshot(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_snapshots(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_delete(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_tag(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_changed(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_clone(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_events(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_reconcile(struct ferry_ctx *ctx, int argc, char **argv);

/* cmd_drill.c, watch.c, failover.c */
int cmd_drill(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_drills(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_watch(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_failover(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_failback(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_failback_receive(struct ferry_ctx *ctx, int argc, char **argv);
/* cmd_config.c, prune.c, daemon.c */
int cmd_config(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_prune(struct ferry_ctx *ctx, int argc, char **argv);
int cmd_daemon(struct ferry_ctx *ctx, int argc, char **argv);

#endif /* FERRY_COMMANDS_H */
