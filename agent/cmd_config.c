// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: ferry config check: every problem of the configuration
 * file as "FILE:LINE: message", one per line on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_common.h"
#include "commands.h"
#include "conf.h"
#include "json_out.h"

const char config_usage[] =
	"usage: ferry config check [FILE] [--json]\n"
	"  Check the configuration file (FILE, else --config, else\n"
	"  /etc/ferry/ferry.conf): print each problem as FILE:LINE: message\n"
	"  and exit 1 if there is any.\n";

static int config_parse(struct ferry_ctx *ctx, int argc, char **argv,
			const char **file, struct ferr *e)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*file = NULL;
	cli_getopt_reset();
	while ((c = cli_getopt(argc, argv, opts, e)) != -1) {
		if (c < 0)
			return c;
		if (c == OPT_HELP)
			return CLI_HELP;
		cli_common_opt(ctx, c, optarg);
	}
	if (optind >= argc)
		return ferr_set(e, -EINVAL, "missing subcommand (check)");
	if (strcmp(argv[optind], "check"))
		return ferr_set(e, -EINVAL, "unknown subcommand '%s' (check)",
				argv[optind]);
	if (optind + 1 < argc)
		*file = argv[optind + 1];
	if (optind + 2 < argc)
		return ferr_set(e, -EINVAL, "unexpected argument '%s'",
				argv[optind + 2]);
	return 0;
}

static struct json_object *check_json(const struct conf *cf)
{
	struct json_object *o = json_object_new_object(), *a, *x;
	size_t i;

	if (!o)
		return NULL;
	a = json_object_new_array();
	for (i = 0; a && i < cf->nerrors; i++) {
		x = json_object_new_object();
		if (!x)
			break;
		json_object_object_add(
			x, "file", json_object_new_string(cf->errors[i].file));
		json_object_object_add(x, "line",
				       json_object_new_int(cf->errors[i].line));
		json_object_object_add(
			x, "message",
			json_object_new_string(cf->errors[i].msg));
		json_object_array_add(a, x);
	}
	json_object_object_add(o, "file", json_object_new_string(cf->path));
	json_object_object_add(o, "ok", json_object_new_boolean(!cf->nerrors));
	json_object_object_add(o, "errors", a);
	json_object_object_add(o, "volumes",
			       json_object_new_uint64(cf->nvolumes));
	json_object_object_add(o, "groups",
			       json_object_new_uint64(cf->ngroups));
	json_object_object_add(o, "replication",
			       json_object_new_uint64(cf->nrepl));
	return o;
}

int cmd_config(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct ferr e = { { 0 } };
	struct conf *cf = NULL;
	const char *file;
	char line[1024];
	size_t i;
	int err;

	err = config_parse(ctx, argc, argv, &file, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, config_usage);
	err = conf_load(file ? file : ctx->config_path, true, &cf, &e);
	if (err) {
		conf_free(cf);
		return cmd_fail(ctx, &e);
	}
	if (ctx->json) {
		if (json_print(stdout, check_json(cf)))
			err = -EIO;
	} else {
		for (i = 0; i < cf->nerrors; i++) {
			conf_error_text(cf, i, line, sizeof(line));
			fprintf(stderr, "%s\n", line);
		}
		if (cf->errors_dropped)
			fprintf(stderr, "%s: %zu more errors\n", cf->path,
				cf->errors_dropped);
		if (!cf->nerrors)
			printf("%s: ok (%zu volumes, %zu groups, %zu replication pairs)\n",
			       cf->path, cf->nvolumes, cf->ngroups, cf->nrepl);
	}
	if (fflush(stdout) || ferror(stdout))
		err = -EIO;
	if (err) {
		conf_free(cf);
		ferr_set(&e, -EIO, "cannot write the output");
		return cmd_fail(ctx, &e);
	}
	err = cf->nerrors ? EXIT_FAIL : EXIT_OK;
	conf_free(cf);
	return err;
}
