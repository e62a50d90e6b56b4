// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: snapshot, snapshots, delete, tag, changed, clone, events.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/ferry.h>

#include "blockdev.h"
#include "cli.h"
#include "cmd_common.h"
#include "cmd_snap.h"
#include "commands.h"
#include "json_out.h"
#include "kapi.h"
#include "snap.h"
#include "snap_nl.h"
#include "snap_out.h"
#include "hook.h"
#include "label.h"
#include "point.h"
#include "repl_tags.h"
#include "snap_kapi.h"

/* How long snapshot and clone wait for devtmpfs to make the node. */
#define NODE_TIMEOUT_MS 5000

const char snapshot_usage[] =
	"usage: ferry snapshot NAME [NAME...] [--tag K=V]... [--label LABEL]\n"
	"                      [--deadline MS] [--hook CMD [--hook-shell]\n"
	"                      [--hook-timeout SECONDS]] [--session CMD\n"
	"                      [--session-timeout SECONDS]] [--accept-lower-label]\n"
	"                      [--json]\n"
	"  Snapshot the volumes together (one consistency group); print\n"
	"  \"NAME SNAPID DEVICE\" per volume.\n"
	"  --tag K=V        a tag (repeatable; ferry.* keys are the agent's)\n"
	"  --label LABEL    a lower label than the agent would give\n"
	"  --deadline MS    longest time writes may be held (kernel default 10000)\n"
	"  --hook CMD       run \"CMD freeze\" before and \"CMD thaw\" after the\n"
	"                   quiesce; CMD is split on blanks, no shell\n"
	"  --hook-shell     run the CMD of --hook and --session with /bin/sh -c\n"
	"  --hook-timeout SECONDS  deadline of each hook phase (default 30)\n"
	"  --session CMD    a quiesce session: start CMD, write \"quiesce\" to it\n"
	"                   and wait for \"quiesced\"; after the snapshot write\n"
	"                   \"release\" and wait for \"released\" (docs/hooks.md)\n"
	"  --session-timeout SECONDS  deadline of each session step (default 30)\n"
	"  --accept-lower-label    if the freeze hook or session fails, take the\n"
	"                   point anyway, labelled filesystem or crash\n";

const char reconcile_usage[] =
	"usage: ferry reconcile [NAME] [--json]\n"
	"  Bring the catalog in line with the kernel; print each fix.\n";

const char snapshots_usage[] = "usage: ferry snapshots NAME [--json]\n"
			       "  List the snapshots of volume NAME.\n";

const char delete_usage[] = "usage: ferry delete NAME SNAPID\n"
			    "  Delete snapshot SNAPID of volume NAME.\n";

const char tag_usage[] =
	"usage: ferry tag NAME SNAPID [K=V...] [--json]\n"
	"  Set tags (K= removes K), then print the snapshot's tags.\n";

const char changed_usage[] =
	"usage: ferry changed NAME (--since SNAPID | --since-epoch N)\n"
	"                     [--until SNAPID] [--json]\n"
	"  Print the byte ranges written after snapshot SINCE (up to UNTIL).\n";

const char clone_usage[] =
	"usage: ferry clone NAME SNAPID [--json]\n"
	"  Make a writable clone of a snapshot; print \"NAME CLONEID DEVICE\".\n";

const char events_usage[] =
	"usage: ferry events [--count N] [--timeout SECONDS] [--json]\n"
	"  Print the kernel's events as they arrive, one per line.\n";

/* ---- argument parsing ---- */

enum {
	OPT_TAG = 0x200,
	OPT_LABEL,
	OPT_DEADLINE,
	OPT_SINCE,
	OPT_SINCE_EPOCH,
	OPT_UNTIL,
	OPT_COUNT,
	OPT_TIMEOUT,
	OPT_HOOK,
	OPT_HOOK_SHELL,
	OPT_HOOK_TIMEOUT,
	OPT_ACCEPT_LOWER,
	OPT_SESSION,
	OPT_SESSION_TIMEOUT,
};

/*
 * The options loop every command shares: global options go to @ctx,
 * others to @fn. Returns 0, CLI_HELP or a negative errno.
 */
typedef int (*opt_fn)(void *args, int c, const char *arg, struct ferr *e);

static int parse_options(struct ferry_ctx *ctx, int argc, char **argv,
			 const struct option *opts, opt_fn fn, void *args,
			 struct ferr *e)
{
	int c, err;

	cli_getopt_reset();
	while ((c = cli_getopt(argc, argv, opts, e)) != -1) {
		if (c < 0)
			return c;
		if (c == OPT_HELP)
			return CLI_HELP;
		if (cli_common_opt(ctx, c, optarg))
			continue;
		if (!fn)
			return ferr_set(e, -EINVAL, "unknown option");
		err = fn(args, c, optarg, e);
		if (err)
			return err;
	}
	return 0;
}

static const struct option common_only[] = {
	CLI_COMMON_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

/* Operands left after the options: argv[optind ..] (getopt skips argv[0]). */
static int operand_count(int argc)
{
	return argc - optind;
}

/* NAME SNAPID, nothing after when @exact. */
static int name_and_id(int argc, char **argv, bool exact, const char **name,
		       uint32_t *id, const char **point, struct ferr *e)
{
	int n = operand_count(argc);
	int err;

	if (n < 1)
		return ferr_set(e, -EINVAL, "missing volume NAME");
	if (n < 2)
		return ferr_set(e, -EINVAL, "missing SNAPID");
	if (exact && n > 2)
		return ferr_set(e, -EINVAL, "unexpected argument '%s'",
				argv[optind + 2]);
	*name = argv[optind];
	err = check_volume_name(*name, e);
	if (!err)
		err = parse_snap_ref(argv[optind + 1], "SNAPID", id, point, e);
	return err;
}

int name_and_optional_ref(int argc, char **argv, const char **name,
			  uint32_t *id, const char **point, struct ferr *e)
{
	int n = operand_count(argc);
	int err;

	if (n < 1)
		return ferr_set(e, -EINVAL, "missing volume NAME");
	if (n > 2)
		return ferr_set(e, -EINVAL, "unexpected argument '%s'",
				argv[optind + 2]);
	*name = argv[optind];
	err = check_volume_name(*name, e);
	if (!err && n == 2)
		err = parse_snap_ref(argv[optind + 1], "SNAPID", id, point, e);
	return err;
}

int parse_snap_ref(const char *s, const char *what, uint32_t *id,
		   const char **point, struct ferr *e)
{
	struct ferr why;

	*point = NULL;
	if (!parse_snap_id(s, what, id, &why))
		return 0;
	if (looks_like_point_id(s)) {
		*id = 0;
		*point = s;
		return 0;
	}
	*e = why;
	return -EINVAL;
}

static int add_tag(char **tags, size_t *n, char *kv, struct ferr *e)
{
	int err = tag_parse(kv, NULL, e);

	if (err)
		return err;
	if (*n == FERRY_TAGS_MAX)
		return ferr_set(e, -EINVAL, "more than %d tags",
				FERRY_TAGS_MAX);
	tags[(*n)++] = kv;
	return 0;
}

static int snapshot_opt(void *args, int c, const char *arg, struct ferr *e)
{
	struct snapshot_args *a = args;
	struct ferr why;
	uint32_t ms;

	switch (c) {
	case OPT_TAG:
		return add_tag(a->tags, &a->ntags, (char *)arg, e);
	case OPT_LABEL:
		a->label = arg;
		return check_label(arg, e);
	case OPT_DEADLINE:
		if (parse_snap_id(arg, "--deadline", &ms, &why))
			return ferr_set(
				e, -EINVAL,
				"--deadline must be a positive number of milliseconds");
		a->deadline_ms = ms;
		return 0;
	case OPT_HOOK:
		if (!*arg)
			return ferr_set(e, -EINVAL, "--hook: empty command");
		a->hook = arg;
		return 0;
	case OPT_HOOK_SHELL:
		a->hook_shell = true;
		return 0;
	case OPT_HOOK_TIMEOUT:
		if (parse_seconds(arg, &a->hook_timeout_ms, &why))
			return ferr_set(e, -EINVAL, "--hook-timeout: %s",
					why.msg);
		return 0;
	case OPT_ACCEPT_LOWER:
		a->accept_lower = true;
		return 0;
	case OPT_SESSION:
		if (!*arg)
			return ferr_set(e, -EINVAL, "--session: empty command");
		a->session = arg;
		return 0;
	case OPT_SESSION_TIMEOUT:
		if (parse_seconds(arg, &a->session_timeout_ms, &why))
			return ferr_set(e, -EINVAL, "--session-timeout: %s",
					why.msg);
		a->session_timeout_given = true;
		return 0;
	}
	return ferr_set(e, -EINVAL, "unknown option");
}

int snapshot_parse(struct ferry_ctx *ctx, int argc, char **argv,
		   struct snapshot_args *a, struct ferr *e)
{
	static const struct option opts[] = {
		{ "tag", required_argument, NULL, OPT_TAG },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "deadline", required_argument, NULL, OPT_DEADLINE },
		{ "hook", required_argument, NULL, OPT_HOOK },
		{ "hook-shell", no_argument, NULL, OPT_HOOK_SHELL },
		{ "hook-timeout", required_argument, NULL, OPT_HOOK_TIMEOUT },
		{ "accept-lower-label", no_argument, NULL, OPT_ACCEPT_LOWER },
		{ "session", required_argument, NULL, OPT_SESSION },
		{ "session-timeout", required_argument, NULL,
		  OPT_SESSION_TIMEOUT },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int i, j, err;

	memset(a, 0, sizeof(*a));
	a->hook_timeout_ms = HOOK_DEFAULT_TIMEOUT_MS;
	a->session_timeout_ms = HOOK_DEFAULT_TIMEOUT_MS;
	err = parse_options(ctx, argc, argv, opts, snapshot_opt, a, e);
	if (err)
		return err;
	if (!a->hook && !a->session && a->hook_shell)
		return ferr_set(e, -EINVAL,
				"--hook-shell needs --hook or --session");
	if (!a->hook && !a->session && a->accept_lower)
		return ferr_set(
			e, -EINVAL,
			"--accept-lower-label needs --hook or --session");
	if (!a->session && a->session_timeout_given)
		return ferr_set(e, -EINVAL,
				"--session-timeout needs --session");
	if (operand_count(argc) < 1)
		return ferr_set(e, -EINVAL, "missing volume NAME");
	for (i = optind; i < argc; i++) {
		err = check_volume_name(argv[i], e);
		if (err)
			return err;
		for (j = 0; j < (int)a->nnames; j++)
			if (!strcmp(a->names[j], argv[i]))
				return ferr_set(e, -EINVAL,
						"volume %s is named twice",
						argv[i]);
		if (a->nnames == SNAPSHOT_NAMES_MAX)
			return ferr_set(e, -EINVAL,
					"more than %d volumes in one group",
					SNAPSHOT_NAMES_MAX);
		a->names[a->nnames++] = argv[i];
	}
	return 0;
}

int snapshots_parse(struct ferry_ctx *ctx, int argc, char **argv,
		    struct snapshots_args *a, struct ferr *e)
{
	int err;

	memset(a, 0, sizeof(*a));
	err = parse_options(ctx, argc, argv, common_only, NULL, NULL, e);
	if (err)
		return err;
	return cmd_name_operand(argc, argv, true, &a->name, e);
}

int delete_parse(struct ferry_ctx *ctx, int argc, char **argv,
		 struct snap_ref_args *a, struct ferr *e)
{
	int err;

	memset(a, 0, sizeof(*a));
	err = parse_options(ctx, argc, argv, common_only, NULL, NULL, e);
	if (err)
		return err;
	return name_and_id(argc, argv, true, &a->name, &a->id, &a->point, e);
}

int clone_parse(struct ferry_ctx *ctx, int argc, char **argv,
		struct snap_ref_args *a, struct ferr *e)
{
	return delete_parse(ctx, argc, argv, a, e);
}

int tag_parse_args(struct ferry_ctx *ctx, int argc, char **argv,
		   struct tag_args *a, struct ferr *e)
{
	int i, err;

	memset(a, 0, sizeof(*a));
	err = parse_options(ctx, argc, argv, common_only, NULL, NULL, e);
	if (!err)
		err = name_and_id(argc, argv, false, &a->name, &a->id,
				  &a->point, e);
	if (err)
		return err;
	for (i = optind + 2; i < argc; i++) {
		err = add_tag(a->kv, &a->n, argv[i], e);
		if (err)
			return err;
	}
	return 0;
}

static int changed_opt(void *args, int c, const char *arg, struct ferr *e)
{
	struct changed_args *a = args;

	switch (c) {
	case OPT_SINCE:
		a->has_since_id = true;
		return parse_snap_ref(arg, "--since", &a->since_id,
				      &a->since_point, e);
	case OPT_SINCE_EPOCH:
		a->has_since_epoch = true;
		return parse_u64(arg, "--since-epoch", &a->since_epoch, e);
	case OPT_UNTIL:
		return parse_snap_ref(arg, "--until", &a->until_id,
				      &a->until_point, e);
	}
	return ferr_set(e, -EINVAL, "unknown option");
}

int changed_parse(struct ferry_ctx *ctx, int argc, char **argv,
		  struct changed_args *a, struct ferr *e)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "since-epoch", required_argument, NULL, OPT_SINCE_EPOCH },
		{ "until", required_argument, NULL, OPT_UNTIL },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int err;

	memset(a, 0, sizeof(*a));
	err = parse_options(ctx, argc, argv, opts, changed_opt, a, e);
	if (err)
		return err;
	err = cmd_name_operand(argc, argv, true, &a->name, e);
	if (err)
		return err;
	if (a->has_since_id && a->has_since_epoch)
		return ferr_set(e, -EINVAL,
				"--since and --since-epoch exclude each other");
	if (!a->has_since_id && !a->has_since_epoch)
		return ferr_set(
			e, -EINVAL,
			"--since SNAPID or --since-epoch N is required");
	if (a->has_since_id && a->until_id && a->until_id < a->since_id)
		return ferr_set(e, -EINVAL, "--until is older than --since");
	return 0;
}

int reconcile_parse(struct ferry_ctx *ctx, int argc, char **argv,
		    struct reconcile_args *a, struct ferr *e)
{
	int err;

	memset(a, 0, sizeof(*a));
	err = parse_options(ctx, argc, argv, common_only, NULL, NULL, e);
	if (err)
		return err;
	return cmd_name_operand(argc, argv, false, &a->name, e);
}

int parse_seconds(const char *s, int *ms, struct ferr *e)
{
	uint64_t whole = 0, frac = 0, scale = 1000;
	const char *p = s;

	if (*p < '0' || *p > '9')
		goto bad;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > 86400)
			return ferr_set(e, -EINVAL,
					"timeout '%s' is longer than a day", s);
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			goto bad;
		for (; *p >= '0' && *p <= '9'; p++) {
			scale /= 10;
			frac += (uint64_t)(*p - '0') * scale;
		}
	}
	if (*p)
		goto bad;
	if (whole * 1000 + frac > 86400000)
		return ferr_set(e, -EINVAL, "timeout '%s' is longer than a day",
				s);
	*ms = (int)(whole * 1000 + frac);
	if (!*ms)
		return ferr_set(e, -EINVAL, "timeout must be positive");
	return 0;
bad:
	return ferr_set(e, -EINVAL, "invalid timeout '%s' (seconds)", s);
}

static int events_opt(void *args, int c, const char *arg, struct ferr *e)
{
	struct events_args *a = args;
	struct ferr why;

	switch (c) {
	case OPT_COUNT:
		if (parse_u64(arg, "--count", &a->count, &why) || !a->count)
			return ferr_set(e, -EINVAL,
					"--count must be a positive number");
		return 0;
	case OPT_TIMEOUT:
		if (parse_seconds(arg, &a->timeout_ms, &why))
			return ferr_set(e, -EINVAL, "--timeout: %s", why.msg);
		return 0;
	}
	return ferr_set(e, -EINVAL, "unknown option");
}

int events_parse(struct ferry_ctx *ctx, int argc, char **argv,
		 struct events_args *a, struct ferr *e)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, OPT_COUNT },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int err;

	memset(a, 0, sizeof(*a));
	a->timeout_ms = -1;
	err = parse_options(ctx, argc, argv, opts, events_opt, a, e);
	if (err)
		return err;
	if (operand_count(argc) > 0)
		return ferr_set(e, -EINVAL, "unexpected argument '%s'",
				argv[optind]);
	return 0;
}

/* ---- talking to the kernel ---- */

static int add_snap(struct nl_msg *msg, void *arg, struct ferr *e)
{
	struct ferry_snap_info *s = snap_list_add(arg);

	if (!s)
		return ferr_set(e, -ENOMEM, "out of memory");
	return snap_from_msg(msg, s, e);
}

/* A request for @cmd with NAME and, when @id is not 0, SNAP_ID. */
static struct nl_msg *snap_request(struct kapi *k, uint8_t cmd, int flags,
				   const char *name, uint32_t id,
				   struct ferr *e)
{
	struct nl_msg *msg = kapi_msg(k, cmd, flags);

	if (!msg) {
		ferr_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	if (nla_put_string(msg, FERRY_ATTR_NAME, name) < 0 ||
	    (id && nla_put_u32(msg, FERRY_ATTR_SNAP_ID, id) < 0)) {
		nlmsg_free(msg);
		ferr_set(e, -EMSGSIZE, "request too large");
		return NULL;
	}
	return msg;
}

/*
 * After a failed call about volume @name: the kernel's text prefixed by
 * the name, or a generic one.
 */
static int snap_explain(int err, const char *name, uint32_t id, struct ferr *e)
{
	char text[sizeof(e->msg)];

	if (e->msg[0]) {
		snprintf(text, sizeof(text), "%s", e->msg);
		return ferr_set(e, err, "%s: %s", name, text);
	}
	if (err == -ENOENT && id)
		return ferr_set(e, err, "%s: no volume or snapshot %" PRIu32,
				name, id);
	if (err == -ENOENT)
		return ferr_set(e, err, "%s: no such volume", name);
	kapi_explain(err, e);
	return err;
}

/* Calls @msg, collecting snapshot replies into @list. */
static int snap_call(struct kapi *k, struct nl_msg *msg, const char *name,
		     uint32_t id, struct snap_list *list, struct ferr *e)
{
	int err = kapi_call(k, msg, add_snap, list, e);

	if (err)
		snap_explain(err, name, id, e);
	return err;
}

/* GET_SNAPSHOT of one: when a command's reply was only an ack. */
static int get_snapshot(struct kapi *k, const char *name, uint32_t id,
			struct snap_list *list, struct ferr *e)
{
	struct nl_msg *msg;

	msg = snap_request(k, FERRY_CMD_GET_SNAPSHOT, 0, name, id, e);
	if (!msg)
		return -ENOMEM;
	return snap_call(k, msg, name, id, list, e);
}

static int print_status(int err, struct ferr *e)
{
	if (!err && (fflush(stdout) || ferror(stdout)))
		err = ferr_set(e, -EIO, "cannot write the output");
	return err;
}

static int snap_cmp(const void *a, const void *b)
{
	const struct ferry_snap_info *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* ---- snapshot ---- */

/* Best effort: the snapshot exists; its node usually follows at once. */
static void wait_for_snap_nodes(const struct snap_list *list)
{
	char dev[64];
	struct ferr ignored;
	size_t i;

	for (i = 0; i < list->n; i++) {
		snap_device_path(&list->s[i], dev, sizeof(dev));
		if (dev[0])
			wait_for_block_node(dev, NODE_TIMEOUT_MS, &ignored);
	}
}

int snap_take(struct kapi *k, const struct snapshot_args *a, char *const *tags,
	      size_t ntags, const char *label, struct snap_list *list,
	      struct ferr *e)
{
	struct nl_msg *msg;
	size_t i;
	int err;

	msg = kapi_msg(k, FERRY_CMD_SNAPSHOT, 0);
	if (!msg)
		return ferr_set(e, -ENOMEM, "out of memory");
	if (snap_put_snapshot(msg, a->names, a->nnames, tags, ntags, label,
			      a->deadline_ms)) {
		nlmsg_free(msg);
		return ferr_set(e, -EMSGSIZE, "request too large");
	}
	err = kapi_call(k, msg, add_snap, list, e);
	if (err)
		return snap_explain(err, a->names[0], 0, e);
	if (list->n != a->nnames)
		return ferr_set(
			e, -EPROTO,
			"the kernel reported %zu snapshots for %zu volumes",
			list->n, a->nnames);
	/* Replies come in request order; NAME is only a cross-check. */
	for (i = 0; i < list->n; i++)
		if (!list->s[i].volume[0])
			snprintf(list->s[i].volume, sizeof(list->s[i].volume),
				 "%s", a->names[i]);
	wait_for_snap_nodes(list);
	return 0;
}

int snap_print_lines(const struct snap_list *list)
{
	char line[256];
	size_t i;

	for (i = 0; i < list->n; i++) {
		snap_to_line(&list->s[i], line, sizeof(line));
		printf("%s\n", line);
	}
	return print_status(0, &(struct ferr){ { 0 } });
}

int snap_dump(struct kapi *k, const char *name, struct snap_list *list,
	      struct ferr *e)
{
	struct nl_msg *msg;
	int err;

	msg = snap_request(k, FERRY_CMD_GET_SNAPSHOT, NLM_F_DUMP, name, 0, e);
	err = msg ? snap_call(k, msg, name, 0, list, e) : -ENOMEM;
	if (!err)
		qsort(list->s, list->n, sizeof(list->s[0]), snap_cmp);
	return err;
}

int snap_set_tags(struct kapi *k, const char *name, uint32_t id,
		  char *const *kv, size_t n, struct ferr *e)
{
	struct snap_list list = { 0 };
	struct nl_msg *msg;
	int err;

	msg = snap_request(k, FERRY_CMD_SET_TAGS, 0, name, id, e);
	if (msg && put_tags(msg, FERRY_ATTR_TAGS, kv, n)) {
		nlmsg_free(msg);
		return ferr_set(e, -EMSGSIZE, "request too large");
	}
	err = msg ? snap_call(k, msg, name, id, &list, e) : -ENOMEM;
	snap_list_free(&list);
	return err;
}

int snap_resolve(struct kapi *k, const char *name, const char *point,
		 uint32_t *id, struct ferr *e)
{
	struct snap_list list = { 0 };
	const char *p;
	size_t i;
	int err;

	if (!point)
		return 0;
	err = snap_dump(k, name, &list, e);
	for (i = 0; !err && i < list.n; i++) {
		p = snap_tag(&list.s[i], FERRY_POINT_TAG);
		if (p && !strcmp(p, point)) {
			*id = list.s[i].id;
			break;
		}
	}
	if (!err && i == list.n)
		err = ferr_set(e, -ENOENT, "%s: no snapshot of point %s", name,
			       point);
	snap_list_free(&list);
	return err;
}

int cmd_snapshot(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct snapshot_args a;
	struct ferr e = { { 0 } };
	int err;

	err = snapshot_parse(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, snapshot_usage);
	if (ctx_prepare(ctx, true, &e))
		return cmd_fail(ctx, &e);
	return point_snapshot(ctx, &a);
	return EXIT_OK;
}

/* ---- snapshots ---- */

static int snapshots_run(const struct ferry_ctx *ctx,
			 const struct snapshots_args *a, struct ferr *e)
{
	struct snap_list list = { 0 };
	struct kapi *k;
	int err;

	err = kapi_open(&k, e);
	if (err)
		return err;
	err = snap_dump(k, a->name, &list, e);
	kapi_close(k);
	if (!err)
		err = print_status(point_list_print(ctx, a->name, &list), e);
	snap_list_free(&list);
	return err;
}

int cmd_snapshots(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct snapshots_args a;
	struct ferr e = { { 0 } };
	int err;

	err = snapshots_parse(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, snapshots_usage);
	if (ctx_prepare(ctx, false, &e) || snapshots_run(ctx, &a, &e))
		return cmd_fail(ctx, &e);
	return EXIT_OK;
}

/* ---- delete ---- */

static int delete_run(const struct ferry_ctx *ctx,
		      const struct snap_ref_args *a, struct ferr *e)
{
	struct nl_msg *msg = NULL;
	uint32_t id = a->id;
	struct kapi *k;
	int err;

	err = kapi_open(&k, e);
	if (err)
		return err;
	err = snap_resolve(k, a->name, a->point, &id, e);
	if (!err) {
		msg = snap_request(k, FERRY_CMD_DELETE_SNAPSHOT, 0, a->name, id,
				   e);
		err = msg ? kapi_call(k, msg, NULL, NULL, e) : -ENOMEM;
	}
	if (err && msg)
		snap_explain(err, a->name, id, e);
	/* The catalog keeps the point, now deleted. */
	if (!err)
		point_sync(ctx, k, a->name);
	kapi_close(k);
	return err;
}

int cmd_delete(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct snap_ref_args a;
	struct ferr e = { { 0 } };
	int err;

	err = delete_parse(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, delete_usage);
	if (ctx_prepare(ctx, true, &e) || delete_run(ctx, &a, &e))
		return cmd_fail(ctx, &e);
	return EXIT_OK;
}

/* ---- tag ---- */

static int tag_print(const struct ferry_ctx *ctx,
		     const struct ferry_snap_info *s)
{
	size_t i;

	/* snap_from_nest() sorted them by key. */
	if (ctx->json)
		return json_print(stdout, tags_to_json(s));
	for (i = 0; i < s->ntags; i++)
		printf("%s=%s\n", s->tags[i].key, s->tags[i].value);
	return 0;
}

static int tag_catalog_point(const struct ferry_ctx *ctx,
			     const struct tag_args *a, struct ferr *e)
{
	struct ferry_snap_info *s = calloc(1, sizeof(*s));
	struct ferr why = { { 0 } };
	int err;

	if (!s)
		return ferr_set(e, -ENOMEM, "out of memory");
	err = repl_tag_catalog(ctx, a->name, a->point, a->kv, a->n, s, &why);
	if (err == -ENOENT)
		err = ferr_set(e, err, "%s: no point %s", a->name, a->point);
	else if (err)
		err = ferr_set(e, err, "%s", why.msg);
	if (!err && a->n)
		err = repl_tag_enqueue(ctx, a->name, a->point, a->kv, a->n, e);
	if (!err)
		err = print_status(tag_print(ctx, s), e);
	free(s);
	return err;
}

static int tag_run(const struct ferry_ctx *ctx, const struct tag_args *a,
		   struct ferr *e)
{
	struct snap_list list = { 0 };
	struct nl_msg *msg;
	struct kapi *k;
	int err = 0;

	uint32_t id = a->id;

	err = kapi_open(&k, e);
	if (err)
		return err;
	err = snap_resolve(k, a->name, a->point, &id, e);
	if (err == -ENOENT && a->point) {
		/* Its snapshot is gone (replicated): the catalog has it. */
		kapi_close(k);
		return tag_catalog_point(ctx, a, e);
	}
	if (!err && a->n) {
		msg = snap_request(k, FERRY_CMD_SET_TAGS, 0, a->name, id, e);
		if (msg && put_tags(msg, FERRY_ATTR_TAGS, a->kv, a->n)) {
			nlmsg_free(msg);
			msg = NULL;
			ferr_set(e, -EMSGSIZE, "request too large");
		}
		err = msg ? snap_call(k, msg, a->name, id, &list, e) :
			    -EMSGSIZE;
	}
	/* Listing, or a kernel that only acked SET_TAGS. */
	if (!err && !list.n)
		err = get_snapshot(k, a->name, id, &list, e);
	kapi_close(k);
	if (!err && !list.n)
		err = ferr_set(e, -EPROTO, "the kernel sent no snapshot");
	/* A replicated volume's update travels to the second site too. */
	if (!err && a->n)
		err = repl_tag_enqueue(ctx, a->name,
				       snap_tag(&list.s[list.n - 1],
						FERRY_POINT_TAG),
				       a->kv, a->n, e);
	if (!err)
		err = print_status(tag_print(ctx, &list.s[list.n - 1]), e);
	snap_list_free(&list);
	return err;
}

int cmd_tag(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct tag_args a;
	struct ferr e = { { 0 } };
	int err;

	err = tag_parse_args(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, tag_usage);
	if (ctx_prepare(ctx, a.n != 0, &e) || tag_run(ctx, &a, &e))
		return cmd_fail(ctx, &e);
	return EXIT_OK;
}

/* ---- changed ---- */

static int add_changed(struct nl_msg *msg, void *arg, struct ferr *e)
{
	return changed_from_msg(msg, arg, e);
}

static int changed_print(const struct ferry_ctx *ctx,
			 const struct changed_map *m)
{
	size_t i;

	if (ctx->json)
		return json_print(stdout, changed_to_json(m));
	for (i = 0; i < m->n; i++)
		printf("%" PRIu64 " %" PRIu64 "\n", m->x[i].offset,
		       m->x[i].length);
	printf("total %" PRIu64 " in %zu extents\n", m->bytes, m->n);
	return 0;
}

static int changed_run(const struct ferry_ctx *ctx,
		       const struct changed_args *a, struct ferr *e)
{
	struct changed_map m = { 0 };
	uint32_t since = a->since_id, until = a->until_id;
	struct nl_msg *msg;
	struct kapi *k;
	int err;

	err = kapi_open(&k, e);
	if (err)
		return err;
	err = snap_resolve(k, a->name, a->since_point, &since, e);
	if (!err)
		err = snap_resolve(k, a->name, a->until_point, &until, e);
	if (err) {
		kapi_close(k);
		return err;
	}
	msg = snap_request(k, FERRY_CMD_CHANGED, NLM_F_DUMP, a->name, 0, e);
	if (msg &&
	    ((a->has_since_id &&
	      nla_put_u32(msg, FERRY_ATTR_SINCE_ID, since) < 0) ||
	     (a->has_since_epoch &&
	      nla_put_u64(msg, FERRY_ATTR_SINCE_EPOCH, a->since_epoch) < 0) ||
	     (until && nla_put_u32(msg, FERRY_ATTR_UNTIL_ID, until) < 0))) {
		nlmsg_free(msg);
		msg = NULL;
		ferr_set(e, -EMSGSIZE, "request too large");
	}
	if (msg) {
		err = kapi_call(k, msg, add_changed, &m, e);
		if (err && err != -ESTALE && err != -EPROTO)
			snap_explain(err, a->name, 0, e);
	} else {
		err = -EMSGSIZE;
	}
	kapi_close(k);
	if (!err)
		err = print_status(changed_print(ctx, &m), e);
	changed_free(&m);
	return err;
}

int cmd_changed(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct changed_args a;
	struct ferr e = { { 0 } };
	int err;

	err = changed_parse(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, changed_usage);
	if (ctx_prepare(ctx, false, &e) || changed_run(ctx, &a, &e))
		return cmd_fail(ctx, &e);
	return EXIT_OK;
}

/* ---- clone ---- */

static int clone_run(const struct ferry_ctx *ctx, const struct snap_ref_args *a,
		     struct ferr *e)
{
	struct snap_list list = { 0 };
	struct ferry_snap_info *s;
	struct nl_msg *msg;
	struct kapi *k;
	char line[256], dev[64];
	uint32_t id = a->id;
	int err;

	err = kapi_open(&k, e);
	if (err)
		return err;
	err = snap_resolve(k, a->name, a->point, &id, e);
	msg = err ? NULL : snap_request(k, FERRY_CMD_CLONE, 0, a->name, id, e);
	if (!err)
		err = msg ? snap_call(k, msg, a->name, id, &list, e) : -ENOMEM;
	kapi_close(k);
	if (!err && list.n != 1)
		err = ferr_set(e, -EPROTO,
			       "the kernel reported %zu clones instead of 1",
			       list.n);
	if (err)
		goto out;
	s = &list.s[0];
	if (!s->volume[0])
		snprintf(s->volume, sizeof(s->volume), "%s", a->name);
	snap_device_path(s, dev, sizeof(dev));
	if (!dev[0]) {
		err = ferr_set(e, -EPROTO,
			       "the clone %" PRIu32 " has no device", s->id);
		goto out;
	}
	err = wait_for_block_node(dev, NODE_TIMEOUT_MS, e);
	if (err)
		goto out;
	if (ctx->json) {
		err = print_status(json_print(stdout, snap_to_json(s, true)),
				   e);
	} else {
		snap_to_line(s, line, sizeof(line));
		printf("%s\n", line);
		err = print_status(0, e);
	}
out:
	snap_list_free(&list);
	return err;
}

int cmd_clone(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct snap_ref_args a;
	struct ferr e = { { 0 } };
	int err;

	err = clone_parse(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, clone_usage);
	if (ctx_prepare(ctx, true, &e) || clone_run(ctx, &a, &e))
		return cmd_fail(ctx, &e);
	return EXIT_OK;
}

/* ---- events ---- */

struct events_state {
	bool json;
	uint64_t seen;
	uint64_t count; /* 0: no limit */
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static long long monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int on_event_msg(struct nl_msg *msg, void *arg, struct ferr *e)
{
	struct events_state *st = arg;
	struct ferry_event_info ev;
	char line[2048];
	int err;

	/* Past --count: the rest of this batch is not ours to print. */
	if (st->count && st->seen >= st->count)
		return 0;
	err = event_from_msg(msg, &ev, e);
	if (err)
		return err < 0 ? err : 0;
	ev.time_ns = realtime_ns();
	if (st->json) {
		err = json_print_line(stdout, event_to_json(&ev));
	} else {
		event_to_text(&ev, line, sizeof(line));
		err = printf("%s\n", line) < 0 ? -EIO : 0;
	}
	if (err || fflush(stdout))
		return ferr_set(e, -EIO, "cannot write the output");
	st->seen++;
	return 0;
}

static int events_run(const struct ferry_ctx *ctx, const struct events_args *a,
		      struct ferr *e)
{
	struct events_state st = { .json = ctx->json, .count = a->count };
	long long deadline = monotonic_ms() + a->timeout_ms;
	struct kapi *k;
	int err, wait;

	err = kapi_open(&k, e);
	if (!err)
		err = kapi_subscribe(k, FERRY_GENL_NAME, FERRY_MCGRP_EVENTS, e);
	/* From here on the kernel queues events for us. */
	while (!err && !(st.count && st.seen >= st.count)) {
		wait = -1;
		if (a->timeout_ms >= 0) {
			long long left = deadline - monotonic_ms();

			if (left <= 0)
				break;
			wait = (int)left;
		}
		err = kapi_listen(k, wait, on_event_msg, &st, e);
		if (err > 0)
			err = 0;
	}
	kapi_close(k);
	if (!err && st.count && st.seen < st.count)
		err = ferr_set(e, -ETIMEDOUT,
			       "%" PRIu64 " of %" PRIu64
			       " events arrived within the timeout",
			       st.seen, st.count);
	return err;
}

int cmd_events(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct events_args a;
	struct ferr e = { { 0 } };
	int err;

	err = events_parse(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, events_usage);
	if (ctx_prepare(ctx, false, &e) || events_run(ctx, &a, &e))
		return cmd_fail(ctx, &e);
	return EXIT_OK;
}

/* ---- reconcile ---- */

int cmd_reconcile(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct reconcile_args a;
	struct ferr e = { { 0 } };
	int err;

	err = reconcile_parse(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, reconcile_usage);
	if (ctx_prepare(ctx, true, &e) || point_reconcile(ctx, a.name, &e))
		return cmd_fail(ctx, &e);
	return EXIT_OK;
}
