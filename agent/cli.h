/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: command-line helpers: option parsing shared by every
 * subcommand, sizes, names.
 */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "context.h"
#include "util.h"

/*
 * Global options are accepted both before the command and among its own
 * options ("ferry status --json" and "ferry --json status").
 */
enum {
	OPT_JSON = 0x100,
	OPT_STATE_DIR,
	OPT_CONFIG,
	OPT_HELP = 'h',
};

/* clang-format off */
#define CLI_COMMON_OPTIONS						\
	{ "json", no_argument, NULL, OPT_JSON },			\
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },	\
	{ "config", required_argument, NULL, OPT_CONFIG },		\
	{ "help", no_argument, NULL, OPT_HELP }
/* clang-format on */

/* Returned by a parser when --help was given: print usage, exit 0. */
#define CLI_HELP 1

/*
 * getopt_long without getopt's own messages: returns the option, -1 at
 * the end, or -EINVAL with @e set. Call cli_getopt_reset() first.
 */
void cli_getopt_reset(void);
int cli_getopt(int argc, char **argv, const struct option *longopts,
	       struct ferr *e);
/* The same with getopt's own @shortopts, which must start with ':'. */
int cli_getopt_ex(int argc, char **argv, const char *shortopts,
		  const struct option *longopts, struct ferr *e);

/* Handles a global option; returns true if @opt was one. */
bool cli_common_opt(struct ferry_ctx *ctx, int opt, const char *arg);

/* "4096", "64K", "1M", "2GiB": binary suffixes K M G T P E. */
int parse_size(const char *s, uint64_t *out, struct ferr *e);

/* The kernel's rule: 1..FERRY_NAME_MAX of [A-Za-z0-9._-], no leading . or - */
int check_volume_name(const char *name, struct ferr *e);

/* Power of two in FERRY_CHUNK_MIN..FERRY_CHUNK_MAX. */
int check_chunk_size(uint64_t bytes, struct ferr *e);

#endif /* FERRY_CLI_H */
