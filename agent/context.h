/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: what every command sees: global options, the loaded
 * configuration and the state directory.
 */
#ifndef FERRY_CONTEXT_H
#define FERRY_CONTEXT_H

#include <stdbool.h>

#include "util.h"

#define FERRY_DEFAULT_STATE_DIR "/var/lib/ferry"
#define FERRY_DEFAULT_CONFIG "/etc/ferry/ferry.conf"

struct ferry_config;

struct ferry_ctx {
	const char *cmd; /* subcommand name, for "ferry: CMD: ..." */
	const char *state_dir;
	bool state_dir_explicit;
	const char *config_path;
	bool config_explicit;
	bool json;
	struct ferry_config *config;
};

void ctx_init(struct ferry_ctx *ctx);

/*
 * Loads the config file and creates the state directory. A command that
 * only reads (status) passes @need_state false: then a state directory
 * that cannot be created, e.g. as an unprivileged user, is no error.
 */
int ctx_prepare(struct ferry_ctx *ctx, bool need_state, struct ferr *e);
void ctx_free(struct ferry_ctx *ctx);

#endif /* FERRY_CONTEXT_H */
