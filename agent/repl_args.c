// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: the arguments of replicate and receive.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_common.h"
#include "cmd_drill.h"
#include "cmd_repl.h"
#include "cmd_snap.h"
#include "compress.h"
#include "conn.h"
#include "drill.h"
#include "duration.h"
#include "hook.h"
#include "resume.h"

const char replicate_usage[] =
	"usage: ferry replicate NAME --to HOST:PORT (--once | --every SECONDS)\n"
	"                       [--timeout SECONDS] [--full] [--progress]\n"
	"                       [--bwlimit RATE] [--hook CMD [--hook-shell]\n"
	"                       [--hook-timeout SECONDS]] [--session CMD\n"
	"                       [--session-timeout SECONDS]] [--accept-lower-label]\n"
	"                       [--keep-snapshot] [--compress[=LEVEL]]\n"
	"       ferry replicate NAME --to HOST:PORT --tags-only [--timeout SECONDS]\n"
	"                       [--verbose] [--json]\n"
	"  Take a new point of volume NAME, send it (only the blocks changed\n"
	"  since the last acknowledged point), wait for arrival and the second\n"
	"  site's acknowledgement, then delete the primary snapshot.\n"
	"  --timeout SECONDS  per point, from snapshot to ack (default 600)\n"
	"  --full             send the whole volume even if a base exists\n"
	"  --bwlimit RATE     at most RATE bytes per second (K, M, G suffixes)\n"
	"  --compress[=LEVEL] zstd-compress the data frames (LEVEL 1..19,\n"
	"                     default 3) if the receiver offers it\n"
	"  --hook CMD         take the point as ferry snapshot --hook does\n"
	"                     (CMD freeze / CMD thaw, label application)\n"
	"  --session CMD      take the point inside a quiesce session, as\n"
	"                     ferry snapshot --session does (quiesce/quiesced,\n"
	"                     release/released; label application)\n"
	"                     --hook-shell, --hook-timeout, --session-timeout,\n"
	"                     --accept-lower-label as for ferry snapshot\n"
	"  --tags-only        only send the queued tag updates and fetch the\n"
	"                     second site's (no new point)\n"
	"  --progress         progress line on stderr (default on a TTY)\n"
	"  --keep-snapshot    for verification: keep the primary snapshot of\n"
	"                     the point after the ack (delete it by hand)\n";

const char receive_usage[] =
	"usage: ferry receive NAME --listen ADDR:PORT [--once]\n"
	"                     [--timeout SECONDS] [--no-compress]\n"
	"                     [--verbose] [--json]\n"
	"                     [--drill-check CMD] [--drill-tag KEY]\n"
	"                     [--drill-timeout SECONDS] [--drill-budget SIZE]\n"
	"                     [--drill-every DURATION]\n"
	"  Serve replication streams into volume NAME (the replica): write,\n"
	"  flush, report arrival, snapshot it with the point's tags, and\n"
	"  acknowledge. Runs until killed; --once ends after one stream.\n"
	"  --timeout SECONDS  longest silence within a stream (default 600)\n"
	"  --no-compress      do not offer compressed data frames to senders\n"
	"  --drill-*          also run the drill watch on NAME (as ferry watch\n"
	"                     --check/--drill-tag/--timeout/--budget): a tag\n"
	"                     KEY=requested arriving from the primary starts a\n"
	"                     fire drill; its result tags are reported back;\n"
	"                     --drill-every D: also a drill of the newest\n"
	"                     snapshot every D (as ferry watch --every)\n";

enum {
	OPT_TO = 0x400,
	OPT_LISTEN,
	OPT_ONCE,
	OPT_EVERY,
	OPT_TIMEOUT,
	OPT_FULL,
	OPT_PROGRESS,
	OPT_VERBOSE,
	OPT_BWLIMIT,
	OPT_TAGS_ONLY,
	OPT_HOOK,
	OPT_HOOK_SHELL,
	OPT_HOOK_TIMEOUT,
	OPT_ACCEPT_LOWER,
	OPT_SESSION,
	OPT_SESSION_TIMEOUT,
	OPT_DRILL_CHECK,
	OPT_DRILL_TAG,
	OPT_DRILL_TIMEOUT,
	OPT_DRILL_BUDGET,
	OPT_DRILL_EVERY,
	OPT_KEEP_SNAPSHOT,
	OPT_COMPRESS,
	OPT_NO_COMPRESS,
};

#define DEFAULT_TIMEOUT_MS 600000

static int check_addr(const char *s, struct ferr *e)
{
	char host[256], port[16];

	return parse_host_port(s, host, port, e);
}

static int timeout_opt(const char *arg, const char *what, int *ms,
		       struct ferr *e)
{
	struct ferr why;

	if (parse_seconds(arg, ms, &why))
		return ferr_set(e, -EINVAL, "%s: %s", what, why.msg);
	return 0;
}

int replicate_parse(struct ferry_ctx *ctx, int argc, char **argv,
		    struct replicate_args *a, struct ferr *e)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, OPT_TO },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "every", required_argument, NULL, OPT_EVERY },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "full", no_argument, NULL, OPT_FULL },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "bwlimit", required_argument, NULL, OPT_BWLIMIT },
		{ "tags-only", no_argument, NULL, OPT_TAGS_ONLY },
		{ "hook", required_argument, NULL, OPT_HOOK },
		{ "hook-shell", no_argument, NULL, OPT_HOOK_SHELL },
		{ "hook-timeout", required_argument, NULL, OPT_HOOK_TIMEOUT },
		{ "accept-lower-label", no_argument, NULL, OPT_ACCEPT_LOWER },
		{ "session", required_argument, NULL, OPT_SESSION },
		{ "session-timeout", required_argument, NULL,
		  OPT_SESSION_TIMEOUT },
		{ "keep-snapshot", no_argument, NULL, OPT_KEEP_SNAPSHOT },
		{ "compress", optional_argument, NULL, OPT_COMPRESS },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c, err;

	bool hook_timeout = false, session_timeout = false;

	memset(a, 0, sizeof(*a));
	a->timeout_ms = DEFAULT_TIMEOUT_MS;
	a->hook_timeout_ms = HOOK_DEFAULT_TIMEOUT_MS;
	a->session_timeout_ms = HOOK_DEFAULT_TIMEOUT_MS;
	cli_getopt_reset();
	while ((c = cli_getopt(argc, argv, opts, e)) != -1) {
		if (c < 0)
			return c;
		if (c == OPT_HELP)
			return CLI_HELP;
		if (cli_common_opt(ctx, c, optarg))
			continue;
		switch (c) {
		case OPT_HOOK:
			a->hook = optarg;
			err = *optarg ? 0 :
					ferr_set(e, -EINVAL,
						 "--hook: empty command");
			break;
		case OPT_HOOK_SHELL:
			a->hook_shell = true;
			err = 0;
			break;
		case OPT_HOOK_TIMEOUT:
			hook_timeout = true;
			err = timeout_opt(optarg, "--hook-timeout",
					  &a->hook_timeout_ms, e);
			break;
		case OPT_ACCEPT_LOWER:
			a->accept_lower = true;
			err = 0;
			break;
		case OPT_SESSION:
			a->session = optarg;
			err = *optarg ? 0 :
					ferr_set(e, -EINVAL,
						 "--session: empty command");
			break;
		case OPT_SESSION_TIMEOUT:
			session_timeout = true;
			err = timeout_opt(optarg, "--session-timeout",
					  &a->session_timeout_ms, e);
			break;
		case OPT_BWLIMIT: {
			struct ferr why;

			err = parse_rate(optarg, &a->bwlimit, &why);
			if (err)
				err = ferr_set(e, err, "--bwlimit: %s",
					       why.msg);
			break;
		}
		case OPT_KEEP_SNAPSHOT:
			a->keep_snapshot = true;
			err = 0;
			break;
		case OPT_COMPRESS: {
			struct ferr why;

			a->compress_level = COMPRESS_LEVEL_DEFAULT;
			err = optarg ? compress_parse_level(optarg,
							    &a->compress_level,
							    &why) :
				       0;
			if (err)
				err = ferr_set(e, err, "--compress: %s",
					       why.msg);
			break;
		}
		case OPT_TAGS_ONLY:
			a->tags_only = true;
			err = 0;
			break;
		case OPT_TO:
			a->to = optarg;
			err = check_addr(optarg, e);
			break;
		case OPT_ONCE:
			a->once = true;
			err = 0;
			break;
		case OPT_EVERY:
			err = timeout_opt(optarg, "--every", &a->every_ms, e);
			break;
		case OPT_TIMEOUT:
			err = timeout_opt(optarg, "--timeout", &a->timeout_ms,
					  e);
			break;
		case OPT_FULL:
			a->full = true;
			err = 0;
			break;
		case OPT_PROGRESS:
			a->progress = true;
			err = 0;
			break;
		case OPT_VERBOSE:
			a->verbose = true;
			err = 0;
			break;
		default:
			err = ferr_set(e, -EINVAL, "unknown option");
		}
		if (err)
			return err;
	}
	err = cmd_name_operand(argc, argv, true, &a->name, e);
	if (err)
		return err;
	if (!a->to)
		return ferr_set(e, -EINVAL, "--to HOST:PORT is required");
	if (a->once && a->every_ms)
		return ferr_set(e, -EINVAL,
				"--once and --every exclude each other");
	if (!a->hook && hook_timeout)
		return ferr_set(e, -EINVAL, "--hook-timeout needs --hook");
	if (!a->hook && !a->session && (a->hook_shell || a->accept_lower))
		return ferr_set(
			e, -EINVAL,
			"--hook-shell and --accept-lower-label need --hook or --session");
	if (!a->session && session_timeout)
		return ferr_set(e, -EINVAL,
				"--session-timeout needs --session");
	if ((a->hook || a->session) && a->tags_only)
		return ferr_set(e, -EINVAL,
				"--%s takes a point; --tags-only takes none",
				a->hook ? "hook" : "session");
	if (a->compress_level && a->tags_only)
		return ferr_set(
			e, -EINVAL,
			"--compress compresses a point's data; --tags-only sends none");
	if (a->keep_snapshot && (a->tags_only || a->every_ms))
		return ferr_set(e, -EINVAL,
				"--keep-snapshot needs --once and a point");
	if (a->tags_only && !a->every_ms)
		a->once = true;
	if (!a->once && !a->every_ms)
		return ferr_set(e, -EINVAL,
				"--once or --every SECONDS is required");
	return 0;
}

int receive_parse(struct ferry_ctx *ctx, int argc, char **argv,
		  struct receive_args *a, struct ferr *e)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "no-compress", no_argument, NULL, OPT_NO_COMPRESS },
		{ "drill-check", required_argument, NULL, OPT_DRILL_CHECK },
		{ "drill-tag", required_argument, NULL, OPT_DRILL_TAG },
		{ "drill-timeout", required_argument, NULL, OPT_DRILL_TIMEOUT },
		{ "drill-budget", required_argument, NULL, OPT_DRILL_BUDGET },
		{ "drill-every", required_argument, NULL, OPT_DRILL_EVERY },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct ferr why;
	int c, err;

	memset(a, 0, sizeof(*a));
	a->timeout_ms = DEFAULT_TIMEOUT_MS;
	a->drill_tag = DRILL_TAG_DEFAULT;
	a->drill_timeout_ms = DRILL_DEFAULT_TIMEOUT_MS;
	cli_getopt_reset();
	while ((c = cli_getopt(argc, argv, opts, e)) != -1) {
		if (c < 0)
			return c;
		if (c == OPT_HELP)
			return CLI_HELP;
		if (cli_common_opt(ctx, c, optarg))
			continue;
		switch (c) {
		case OPT_LISTEN:
			a->listen = optarg;
			err = check_addr(optarg, e);
			break;
		case OPT_ONCE:
			a->once = true;
			err = 0;
			break;
		case OPT_TIMEOUT:
			err = timeout_opt(optarg, "--timeout", &a->timeout_ms,
					  e);
			break;
		case OPT_VERBOSE:
			a->verbose = true;
			err = 0;
			break;
		case OPT_NO_COMPRESS:
			a->no_compress = true;
			err = 0;
			break;
		case OPT_DRILL_CHECK:
			a->drill_check = optarg;
			err = *optarg ?
				      0 :
				      ferr_set(e, -EINVAL,
					       "--drill-check: empty command");
			break;
		case OPT_DRILL_TAG:
			a->drill_tag = optarg;
			err = drill_key_check(optarg, e);
			break;
		case OPT_DRILL_TIMEOUT:
			err = timeout_opt(optarg, "--drill-timeout",
					  &a->drill_timeout_ms, e);
			break;
		case OPT_DRILL_BUDGET:
			err = 0;
			if (parse_size(optarg, &a->drill_budget, &why) ||
			    !a->drill_budget)
				err = ferr_set(
					e, -EINVAL,
					"--drill-budget: invalid size '%s'",
					optarg);
			break;
		case OPT_DRILL_EVERY:
			err = 0;
			if (parse_duration(optarg, &a->drill_every_s, &why))
				err = ferr_set(e, -EINVAL, "--drill-every: %s",
					       why.msg);
			else if (!a->drill_every_s)
				err = ferr_set(e, -EINVAL,
					       "--drill-every: must be more "
					       "than 0");
			break;
		default:
			err = ferr_set(e, -EINVAL, "unknown option");
		}
		if (err)
			return err;
		if (c >= OPT_DRILL_CHECK && c <= OPT_DRILL_EVERY)
			a->drill = true;
	}
	err = cmd_name_operand(argc, argv, true, &a->name, e);
	if (err)
		return err;
	if (!a->listen)
		return ferr_set(e, -EINVAL, "--listen ADDR:PORT is required");
	return 0;
}

int repl_base_path(const char *dir, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/repl-%s.base", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int recv_state_path(const char *dir, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/recv-%s.state", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int recv_resume_path(const char *dir, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/recv-%s.resume", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
