// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: the configuration file.
 *
 * Every command works without one; the file only changes defaults. The
 * command line always wins over it.
 */
#include <errno.h>
#include <libconfig.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

struct ferry_config {
	config_t cf;
};

static int config_parse_error(struct ferry_config *cfg, const char *path,
			      struct ferr *e)
{
	const char *file = config_error_file(&cfg->cf);

	ferr_set(e, -EINVAL, "%s:%d: %s", file ? file : path,
		 config_error_line(&cfg->cf), config_error_text(&cfg->cf));
	return -EINVAL;
}

int config_load(const char *path, bool must_exist, struct ferry_config **out,
		struct ferr *e)
{
	struct ferry_config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return ferr_set(e, -ENOMEM, "out of memory");
	config_init(&cfg->cf);
	*out = cfg;
	/* libconfig reports a missing file as a parse error: check first. */
	if (access(path, F_OK) < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return ferr_set(e, -errno, "%s: %s", path, strerror(errno));
	}
	if (config_read_file(&cfg->cf, path) == CONFIG_TRUE)
		return 0;
	if (config_error_type(&cfg->cf) == CONFIG_ERR_FILE_IO)
		return ferr_set(e, -EIO, "%s: cannot read file", path);
	return config_parse_error(cfg, path, e);
}

void config_free(struct ferry_config *cfg)
{
	if (!cfg)
		return;
	config_destroy(&cfg->cf);
	free(cfg);
}

const char *config_string(const struct ferry_config *cfg, const char *key)
{
	const char *val;

	if (!cfg || !config_lookup_string(&cfg->cf, key, &val))
		return NULL;
	return val;
}
