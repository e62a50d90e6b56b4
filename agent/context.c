// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: the per-run context.
 */
#include <string.h>

#include "config.h"
#include "context.h"

void ctx_init(struct ferry_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->state_dir = FERRY_DEFAULT_STATE_DIR;
	ctx->config_path = FERRY_DEFAULT_CONFIG;
}

int ctx_prepare(struct ferry_ctx *ctx, bool need_state, struct ferr *e)
{
	const char *dir;
	int err;

	err = config_load(ctx->config_path, ctx->config_explicit, &ctx->config,
			  e);
	if (err)
		return err;
	/* The command line wins over the file, the file over the default. */
	dir = config_string(ctx->config, "state_dir");
	if (dir && !ctx->state_dir_explicit)
		ctx->state_dir = dir;
	err = mkdir_p(ctx->state_dir, 0700, e);
	if (err && need_state)
		return err;
	e->msg[0] = '\0';
	return 0;
}

void ctx_free(struct ferry_ctx *ctx)
{
	config_free(ctx->config);
	ctx->config = NULL;
}
