// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: what every subcommand does the same way.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "cmd_common.h"

int cmd_name_operand(int argc, char **argv, bool required, const char **name,
		     struct ferr *e)
{
	*name = NULL;
	if (optind >= argc) {
		if (required)
			return ferr_set(e, -EINVAL, "missing volume NAME");
		return 0;
	}
	if (optind + 1 < argc)
		return ferr_set(e, -EINVAL, "unexpected argument '%s'",
				argv[optind + 1]);
	*name = argv[optind];
	return check_volume_name(*name, e);
}

int cmd_parse_exit(const struct ferry_ctx *ctx, int err, const struct ferr *e,
		   const char *usage)
{
	if (err == CLI_HELP) {
		fputs(usage, stdout);
		return EXIT_OK;
	}
	ferry_error(ctx->cmd, "%s", e->msg);
	return EXIT_USAGE;
}

int cmd_fail(const struct ferry_ctx *ctx, const struct ferr *e)
{
	ferry_error(ctx->cmd, "%s", e->msg[0] ? e->msg : "failed");
	return EXIT_FAIL;
}
