// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: global options and dispatch to the subcommands.
 *
 * Nothing here is worth a unit test: tests/unit links every object but
 * this one.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_repl.h"
#include "commands.h"
#include "util.h"

#ifndef FERRY_VERSION
#define FERRY_VERSION "0.1"
#endif

static const struct ferry_command commands[] = {
	{ "attach", "NAME --data DEV --cow DEV [--chunk SIZE]", cmd_attach },
	{ "detach", "NAME", cmd_detach },
	{ "status", "[NAME] [--json]", cmd_status },
	{ "snapshot",
	  "NAME [NAME...] [--tag K=V]... [--label LABEL] [--deadline MS]\n"
	  "                [--hook CMD] [--hook-shell] [--hook-timeout SECONDS]\n"
	  "                [--accept-lower-label]",
	  cmd_snapshot },
	{ "snapshots", "NAME [--json]", cmd_snapshots },
	{ "delete", "NAME SNAPID", cmd_delete },
	{ "tag", "NAME SNAPID [K=V...] [--json]", cmd_tag },
	{ "changed",
	  "NAME (--since SNAPID | --since-epoch N) [--until SNAPID] [--json]",
	  cmd_changed },
	{ "clone", "NAME SNAPID [--json]", cmd_clone },
	{ "reconcile", "[NAME] [--json]", cmd_reconcile },
	{ "events", "[--count N] [--timeout SECONDS] [--json]", cmd_events },
	{ "replicate",
	  "NAME --to HOST:PORT (--once | --every SECONDS) [--timeout SECONDS]",
	  cmd_replicate },
	{ "receive", "NAME --listen ADDR:PORT [--once] [--timeout SECONDS]",
	  cmd_receive },
	{ "drill",
	  "NAME [SNAPID|POINT] [--check CMD] [--timeout S] [--budget SIZE]",
	  cmd_drill },
	{ "drills", "NAME [--json]", cmd_drills },
	{ "watch", "NAME [--drill-tag KEY] [--check CMD] [--once]", cmd_watch },
	{ "failover", "NAME [SNAPID|POINT] [--json]", cmd_failover },
	{ "failback", "NAME --to HOST:PORT [--full] [--json]", cmd_failback },
	{ "failback-receive", "NAME --listen ADDR:PORT [--timeout S]",
	  cmd_failback_receive },
	{ "config", "check [FILE] [--json]", cmd_config },
	{ "prune", "(NAME | --group GROUP) [--dry-run] [--json]", cmd_prune },
	{ "daemon", "[--once]", cmd_daemon },
	{ "help", "", NULL },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: ferry [--state-dir DIR] [--config FILE] [--json] COMMAND [ARGS]\n\n");
	fprintf(f, "commands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  ferry %s%s%s\n", commands[i].name,
			commands[i].synopsis[0] ? " " : "",
			commands[i].synopsis);
	fprintf(f,
		"\nglobal options:\n"
		"  --state-dir DIR  state directory (default %s)\n"
		"  --config FILE    configuration file (default %s)\n"
		"  --json           machine-readable output\n"
		"  --help, --version\n"
		"\"ferry COMMAND --help\" describes one command; see ferry(8).\n",
		FERRY_DEFAULT_STATE_DIR, FERRY_DEFAULT_CONFIG);
}

static const struct ferry_command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

enum { OPT_VERSION = 0x300 };

/* Returns -1 to go on to the command, else the exit status. */
static int global_options(struct ferry_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct ferr e;
	int c;

	cli_getopt_reset();
	/* "+": stop at the command; its options are its own. */
	while ((c = cli_getopt_ex(argc, argv, "+:h", opts, &e)) != -1) {
		if (c < 0) {
			ferry_error(NULL, "%s (try ferry --help)", e.msg);
			return EXIT_USAGE;
		}
		if (c == OPT_HELP) {
			usage(stdout);
			return EXIT_OK;
		}
		if (c == OPT_VERSION) {
			printf("ferry %s\n", FERRY_VERSION);
			return EXIT_OK;
		}
		cli_common_opt(ctx, c, optarg);
	}
	return -1;
}

int main(int argc, char **argv)
{
	const struct ferry_command *cmd;
	struct ferry_ctx ctx;
	int ret;

	ctx_init(&ctx);
	ret = global_options(&ctx, argc, argv);
	if (ret >= 0)
		return ret;
	if (optind >= argc) {
		ferry_error(NULL, "no command given (try ferry --help)");
		return EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		ferry_error(argv[optind], "unknown command (try ferry --help)");
		return EXIT_USAGE;
	}
	if (!cmd->run) { /* "ferry help" */
		usage(stdout);
		return EXIT_OK;
	}
	ctx.cmd = cmd->name;
	ret = cmd->run(&ctx, argc - optind, argv + optind);
	ctx_free(&ctx);
	return ret;
}
