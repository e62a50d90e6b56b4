/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: the configuration file (libconfig syntax), optional.
 */
#ifndef FERRY_CONFIG_H
#define FERRY_CONFIG_H

#include <stdbool.h>

#include "util.h"

struct ferry_config;

/*
 * Loads @path. A missing file is fine when @must_exist is false (the
 * default path): *out is then a config with no settings.
 */
int config_load(const char *path, bool must_exist, struct ferry_config **out,
		struct ferr *e);
void config_free(struct ferry_config *cfg);

/* A string setting such as "state_dir", or NULL when unset. */
const char *config_string(const struct ferry_config *cfg, const char *key);

#endif /* FERRY_CONFIG_H */
