// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: what every subcommand does the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

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

int volume_lock(const struct ferry_ctx *ctx, const char *name, struct ferr *e)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s.lock", ctx->state_dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return ferr_set(e, -errno, "cannot open %s: %s", path,
				strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		return ferr_set(
			e, -EBUSY,
			"%s: %s is locked by another command (receive, failover or failback)",
			name, path);
	}
	return fd;
}
