/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: attach, detach, status. The parsers are separate from the
 * commands so that tests can run them without a kernel.
 */
#ifndef FERRY_CMD_VOLUME_H
#define FERRY_CMD_VOLUME_H

#include <stdint.h>

#include "context.h"
#include "util.h"

struct attach_args {
	const char *name;
	const char *data;
	const char *cow;
	uint32_t chunk_size; /* 0: the kernel's default */
};

struct detach_args {
	const char *name;
};

struct status_args {
	const char *name; /* NULL: every volume */
};

/*
 * Each returns 0, CLI_HELP for --help, or -EINVAL with @e set for a usage
 * error. Global options among the arguments land in @ctx.
 */
int attach_parse(struct ferry_ctx *ctx, int argc, char **argv,
		 struct attach_args *a, struct ferr *e);
int detach_parse(struct ferry_ctx *ctx, int argc, char **argv,
		 struct detach_args *a, struct ferr *e);
int status_parse(struct ferry_ctx *ctx, int argc, char **argv,
		 struct status_args *a, struct ferr *e);

extern const char attach_usage[];
extern const char detach_usage[];
extern const char status_usage[];

#endif /* FERRY_CMD_VOLUME_H */
