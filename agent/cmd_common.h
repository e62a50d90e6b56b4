/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: what every subcommand does the same way: operands, the
 * usage/help exit, the one-line error.
 */
#ifndef FERRY_CMD_COMMON_H
#define FERRY_CMD_COMMON_H

#include <stdbool.h>

#include "context.h"
#include "util.h"

/*
 * The NAME operand after options were parsed (argv[optind]): validated,
 * required or not, and no operand after it.
 */
int cmd_name_operand(int argc, char **argv, bool required, const char **name,
		     struct ferr *e);

/* After a parser's non-zero return: --help text (exit 0) or usage error. */
int cmd_parse_exit(const struct ferry_ctx *ctx, int err, const struct ferr *e,
		   const char *usage);

/* Prints e->msg as the command's one error line; returns EXIT_FAIL. */
int cmd_fail(const struct ferry_ctx *ctx, const struct ferr *e);

/*
 * flock(LOCK_EX | LOCK_NB) on STATE_DIR/NAME.lock, held by receive,
 * failover and failback: the locked fd, or -EBUSY with @e set.
 */
int volume_lock(const struct ferry_ctx *ctx, const char *name, struct ferr *e);

#endif /* FERRY_CMD_COMMON_H */
