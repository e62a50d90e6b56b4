// SPDX-License-Identifier: GPL-2.0
#include "commands.h"
#include "util.h"

int cmd_failover(struct ferry_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ferry_error(ctx->cmd, "not implemented yet");
	return EXIT_FAIL;
}

int cmd_failback(struct ferry_ctx *ctx, int argc, char **argv)
{
	return cmd_failover(ctx, argc, argv);
}

int cmd_failback_receive(struct ferry_ctx *ctx, int argc, char **argv)
{
	return cmd_failover(ctx, argc, argv);
}
