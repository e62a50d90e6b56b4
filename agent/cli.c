// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: command-line helpers.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <linux/ferry.h>

#include "cli.h"

void cli_getopt_reset(void)
{
	/* 0, not 1: glibc then also resets its internal state. */
	optind = 0;
	opterr = 0;
}

static int getopt_failure(int c, char **argv, struct ferr *e)
{
	const char *word = argv[optind - 1];
	bool is_long = word && word[0] == '-' && word[1] == '-';

	if (c == ':') {
		if (is_long)
			return ferr_set(e, -EINVAL,
					"option %s needs an argument", word);
		return ferr_set(e, -EINVAL, "option -%c needs an argument",
				optopt);
	}
	if (is_long || !optopt)
		return ferr_set(e, -EINVAL, "unknown option %s", word);
	return ferr_set(e, -EINVAL, "unknown option -%c", optopt);
}

int cli_getopt_ex(int argc, char **argv, const char *shortopts,
		  const struct option *longopts, struct ferr *e)
{
	int c = getopt_long(argc, argv, shortopts, longopts, NULL);

	if (c == '?' || c == ':')
		return getopt_failure(c, argv, e);
	return c;
}

int cli_getopt(int argc, char **argv, const struct option *longopts,
	       struct ferr *e)
{
	/* ':' first: report a missing argument as ':' rather than '?'. */
	return cli_getopt_ex(argc, argv, ":h", longopts, e);
}

bool cli_common_opt(struct ferry_ctx *ctx, int opt, const char *arg)
{
	switch (opt) {
	case OPT_JSON:
		ctx->json = true;
		return true;
	case OPT_STATE_DIR:
		ctx->state_dir = arg;
		ctx->state_dir_explicit = true;
		return true;
	case OPT_CONFIG:
		ctx->config_path = arg;
		ctx->config_explicit = true;
		return true;
	}
	return false;
}

/* Shift for a suffix letter, or -1. */
static int suffix_shift(char c)
{
	static const char letters[] = "KMGTPE";
	const char *p = strchr(letters, toupper((unsigned char)c));

	return (c && p) ? 10 * (int)(p - letters + 1) : -1;
}

int parse_size(const char *s, uint64_t *out, struct ferr *e)
{
	uint64_t val = 0;
	const char *p = s;
	int shift = 0;

	/* strtoull would take "-1", " 1" and "0x10": accept digits only. */
	if (!isdigit((unsigned char)*p))
		return ferr_set(e, -EINVAL, "invalid size '%s'", s);
	for (; isdigit((unsigned char)*p); p++) {
		unsigned int d = *p - '0';

		if (val > (UINT64_MAX - d) / 10)
			return ferr_set(e, -ERANGE, "size '%s' is too large",
					s);
		val = val * 10 + d;
	}
	if (*p) {
		shift = suffix_shift(*p++);
		if (shift < 0)
			return ferr_set(e, -EINVAL, "invalid size '%s'", s);
		if (!strcmp(p, "iB") || !strcmp(p, "ib"))
			p += 2;
		if (*p)
			return ferr_set(e, -EINVAL, "invalid size '%s'", s);
	}
	if (shift && val > (UINT64_MAX >> shift))
		return ferr_set(e, -ERANGE, "size '%s' is too large", s);
	*out = val << shift;
	return 0;
}

/* What the kernel accepts, in the words of the error message. */
#define NAME_RULE "only A-Z a-z 0-9 . _ - are allowed"

static bool name_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
}

int check_volume_name(const char *name, struct ferr *e)
{
	size_t len = strlen(name);
	size_t i;

	if (!len)
		return ferr_set(e, -EINVAL, "volume name is empty");
	if (len > FERRY_NAME_MAX)
		return ferr_set(e, -EINVAL,
				"volume name is longer than %d bytes",
				FERRY_NAME_MAX);
	if (name[0] == '.' || name[0] == '-')
		return ferr_set(e, -EINVAL,
				"volume name '%s' must not start with '%c'",
				name, name[0]);
	for (i = 0; i < len; i++) {
		if (name_char_ok(name[i]))
			continue;
		/* Not echoed: it may hold control characters. */
		return ferr_set(e, -EINVAL, "invalid volume name: %s",
				NAME_RULE);
	}
	return 0;
}

int check_chunk_size(uint64_t bytes, struct ferr *e)
{
	if (bytes < FERRY_CHUNK_MIN || bytes > FERRY_CHUNK_MAX)
		return ferr_set(e, -EINVAL,
				"chunk size %llu is out of range (4K..1M)",
				(unsigned long long)bytes);
	if (bytes & (bytes - 1))
		return ferr_set(e, -EINVAL,
				"chunk size %llu is not a power of two",
				(unsigned long long)bytes);
	return 0;
}
