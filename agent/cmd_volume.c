// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: attach, detach, status.
 */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <linux/ferry.h>

#include "blockdev.h"
#include "cli.h"
#include "cmd_common.h"
#include "cmd_repl.h"
#include "cmd_volume.h"
#include "commands.h"
#include "json_out.h"
#include "kapi.h"
#include "text_out.h"
#include "volume_nl.h"

/* How long attach waits for devtmpfs to make /dev/ferryN. */
#define NODE_TIMEOUT_MS 5000

const char attach_usage[] =
	"usage: ferry attach NAME --data DEV --cow DEV [--chunk SIZE] [--json]\n"
	"  Stack /dev/ferryN over DEV and print its path as the last line.\n"
	"  --data DEV    the backing (origin) block device\n"
	"  --cow DEV     the copy-on-write store, another block device\n"
	"  --chunk SIZE  CoW chunk size, a power of two in 4K..1M (default 64K)\n";

const char detach_usage[] =
	"usage: ferry detach NAME\n"
	"  Remove /dev/ferryN of volume NAME; refused while it is open.\n";

const char status_usage[] = "usage: ferry status [NAME] [--json]\n"
			    "  Show every attached volume, or only NAME.\n";

/* ---- argument parsing ---- */

enum { OPT_DATA = 0x200, OPT_COW, OPT_CHUNK };

static int parse_chunk(const char *arg, uint32_t *out, struct ferr *e)
{
	struct ferr why;
	uint64_t bytes;
	int err;

	err = parse_size(arg, &bytes, &why);
	if (!err)
		err = check_chunk_size(bytes, &why);
	if (err)
		return ferr_set(e, -EINVAL, "--chunk: %s", why.msg);
	*out = (uint32_t)bytes;
	return 0;
}

static int attach_opt(struct attach_args *a, int c, const char *arg,
		      struct ferr *e)
{
	switch (c) {
	case OPT_DATA:
		a->data = arg;
		return 0;
	case OPT_COW:
		a->cow = arg;
		return 0;
	case OPT_CHUNK:
		return parse_chunk(arg, &a->chunk_size, e);
	}
	return ferr_set(e, -EINVAL, "unknown option");
}

int attach_parse(struct ferry_ctx *ctx, int argc, char **argv,
		 struct attach_args *a, struct ferr *e)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, OPT_DATA },
		{ "cow", required_argument, NULL, OPT_COW },
		{ "chunk", required_argument, NULL, OPT_CHUNK },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c, err;

	memset(a, 0, sizeof(*a));
	cli_getopt_reset();
	while ((c = cli_getopt(argc, argv, opts, e)) != -1) {
		if (c < 0)
			return c;
		if (c == OPT_HELP)
			return CLI_HELP;
		if (cli_common_opt(ctx, c, optarg))
			continue;
		err = attach_opt(a, c, optarg, e);
		if (err)
			return err;
	}
	err = cmd_name_operand(argc, argv, true, &a->name, e);
	if (err)
		return err;
	if (!a->data)
		return ferr_set(e, -EINVAL, "--data DEV is required");
	if (!a->cow)
		return ferr_set(e, -EINVAL, "--cow DEV is required");
	return 0;
}

/* Parses commands whose only operand is a NAME, as detach and status. */
static int parse_name_only(struct ferry_ctx *ctx, int argc, char **argv,
			   bool required, const char **name, struct ferr *e)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	cli_getopt_reset();
	while ((c = cli_getopt(argc, argv, opts, e)) != -1) {
		if (c < 0)
			return c;
		if (c == OPT_HELP)
			return CLI_HELP;
		if (!cli_common_opt(ctx, c, optarg))
			return ferr_set(e, -EINVAL, "unknown option");
	}
	return cmd_name_operand(argc, argv, required, name, e);
}

int detach_parse(struct ferry_ctx *ctx, int argc, char **argv,
		 struct detach_args *a, struct ferr *e)
{
	return parse_name_only(ctx, argc, argv, true, &a->name, e);
}

int status_parse(struct ferry_ctx *ctx, int argc, char **argv,
		 struct status_args *a, struct ferr *e)
{
	return parse_name_only(ctx, argc, argv, false, &a->name, e);
}

/* ---- talking to the kernel ---- */

static int add_volume(struct nl_msg *msg, void *arg, struct ferr *e)
{
	struct ferry_volume *v = volume_list_add(arg);

	if (!v)
		return ferr_set(e, -ENOMEM, "out of memory");
	return volume_from_msg(msg, v, e);
}

static int put_name(struct nl_msg *msg, const char *name, struct ferr *e)
{
	if (nla_put_string(msg, FERRY_ATTR_NAME, name) < 0) {
		nlmsg_free(msg);
		return ferr_set(e, -EMSGSIZE, "request too large");
	}
	return 0;
}

/* GET_VOLUME for @name, or a dump of every volume when @name is NULL. */
static int get_volumes(struct kapi *k, const char *name,
		       struct volume_list *list, struct ferr *e)
{
	struct nl_msg *msg;
	int err;

	msg = kapi_msg(k, FERRY_CMD_GET_VOLUME, name ? 0 : NLM_F_DUMP);
	if (!msg)
		return ferr_set(e, -ENOMEM, "out of memory");
	if (name && put_name(msg, name, e))
		return -EMSGSIZE;
	err = kapi_call(k, msg, add_volume, list, e);
	if (err == -ENOENT && name && !e->msg[0])
		ferr_set(e, err, "%s: no such volume", name);
	return err;
}

/* ---- attach ---- */

/* The checks the kernel would also make, done here for clearer messages. */
static int attach_check_devices(const struct attach_args *a, char *data,
				char *cow, struct ferr *e)
{
	dev_t data_dev, cow_dev;
	int err;

	err = resolve_block_device(a->data, data, &data_dev, e);
	if (!err)
		err = resolve_block_device(a->cow, cow, &cow_dev, e);
	if (err)
		return err;
	if (data_dev == cow_dev)
		return ferr_set(e, -EINVAL,
				"--data and --cow are the same device (%s)",
				data);
	if (strlen(data) > FERRY_PATH_MAX || strlen(cow) > FERRY_PATH_MAX)
		return ferr_set(e, -ENAMETOOLONG,
				"device path longer than %d bytes",
				FERRY_PATH_MAX);
	return 0;
}

static void attach_explain(int err, const struct attach_args *a, struct ferr *e)
{
	if (e->msg[0])
		return;
	if (err == -EEXIST)
		ferr_set(e, err, "%s: a volume of that name is attached",
			 a->name);
	else if (err == -EBUSY)
		ferr_set(e, err, "%s or %s is in use", a->data, a->cow);
	kapi_explain(err, e);
}

static int attach_send(struct kapi *k, const struct attach_args *a,
		       const char *data, const char *cow,
		       struct volume_list *list, struct ferr *e)
{
	struct nl_msg *msg = kapi_msg(k, FERRY_CMD_ATTACH, 0);
	int err;

	if (!msg)
		return ferr_set(e, -ENOMEM, "out of memory");
	if (volume_put_attach(msg, a->name, data, cow, a->chunk_size)) {
		nlmsg_free(msg);
		return ferr_set(e, -EMSGSIZE, "request too large");
	}
	err = kapi_call(k, msg, add_volume, list, e);
	if (err)
		attach_explain(err, a, e);
	/* A kernel that only acks: ask for the volume it made. */
	else if (!list->n)
		err = get_volumes(k, a->name, list, e);
	return err;
}

static int attach_print(const struct ferry_ctx *ctx,
			const struct ferry_volume *v)
{
	char dev[64];

	if (ctx->json)
		return json_print(stdout, volume_to_json(v));
	volume_device_path(v, dev, sizeof(dev));
	printf("%s\n", dev);
	return 0;
}

static int attach_run(struct ferry_ctx *ctx, const struct attach_args *a,
		      struct ferr *e)
{
	char data[PATH_MAX], cow[PATH_MAX], dev[64];
	struct volume_list list = { 0 };
	struct kapi *k;
	int err;

	err = attach_check_devices(a, data, cow, e);
	if (err)
		return err;
	err = kapi_open(&k, e);
	if (err)
		return err;
	err = attach_send(k, a, data, cow, &list, e);
	kapi_close(k);
	if (!err) {
		volume_device_path(&list.v[0], dev, sizeof(dev));
		err = wait_for_block_node(dev, NODE_TIMEOUT_MS, e);
	}
	if (!err && attach_print(ctx, &list.v[0]))
		err = ferr_set(e, -EIO, "cannot write the output");
	volume_list_free(&list);
	return err;
}

int cmd_attach(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct attach_args a;
	struct ferr e = { { 0 } };
	int err;

	err = attach_parse(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, attach_usage);
	if (ctx_prepare(ctx, true, &e) || attach_run(ctx, &a, &e))
		return cmd_fail(ctx, &e);
	return EXIT_OK;
}

/* ---- detach ---- */

static int detach_run(const struct detach_args *a, struct ferr *e)
{
	struct nl_msg *msg;
	struct kapi *k;
	int err;

	err = kapi_open(&k, e);
	if (err)
		return err;
	msg = kapi_msg(k, FERRY_CMD_DETACH, 0);
	if (!msg)
		err = ferr_set(e, -ENOMEM, "out of memory");
	else if (!put_name(msg, a->name, e))
		err = kapi_call(k, msg, NULL, NULL, e);
	else
		err = -EMSGSIZE;
	kapi_close(k);
	if (err == -ENOENT && !e->msg[0])
		ferr_set(e, err, "%s: no such volume", a->name);
	else if (err == -EBUSY && !e->msg[0])
		ferr_set(e, err, "%s: the device is open (unmount it first)",
			 a->name);
	if (err)
		kapi_explain(err, e);
	return err;
}

int cmd_detach(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct detach_args a;
	struct ferr e = { { 0 } };
	int err;

	err = detach_parse(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, detach_usage);
	if (ctx_prepare(ctx, true, &e) || detach_run(&a, &e))
		return cmd_fail(ctx, &e);
	return EXIT_OK;
}

/* ---- status ---- */

static int status_print(const struct ferry_ctx *ctx,
			const struct volume_list *list)
{
	char line[1024];
	size_t i;

	if (ctx->json) {
		struct json_object *a = volumes_to_json(list->v, list->n);

		/* Replicated volumes: where they go and how far behind. */
		for (i = 0; a && i < list->n; i++) {
			struct json_object *r =
				repl_status_json(ctx, list->v[i].name);

			if (r)
				json_object_object_add(
					json_object_array_get_idx(a, i),
					"replication", r);
		}
		return json_print(stdout, a);
	}
	if (!list->n)
		printf("no volumes attached\n");
	for (i = 0; i < list->n; i++) {
		volume_to_text(&list->v[i], line, sizeof(line));
		printf("%s\n", line);
		if (!repl_status_text(ctx, list->v[i].name, line, sizeof(line)))
			printf("%s\n", line);
	}
	return 0;
}

static int status_run(const struct ferry_ctx *ctx, const struct status_args *a,
		      struct ferr *e)
{
	struct volume_list list = { 0 };
	struct kapi *k;
	int err;

	err = kapi_open(&k, e);
	if (err)
		return err;
	err = get_volumes(k, a->name, &list, e);
	kapi_close(k);
	if (err)
		kapi_explain(err, e);
	else if (status_print(ctx, &list))
		err = ferr_set(e, -EIO, "cannot write the output");
	volume_list_free(&list);
	return err;
}

int cmd_status(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct status_args a;
	struct ferr e = { { 0 } };
	int err;

	err = status_parse(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, status_usage);
	if (ctx_prepare(ctx, false, &e) || status_run(ctx, &a, &e))
		return cmd_fail(ctx, &e);
	return EXIT_OK;
}
