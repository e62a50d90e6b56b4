// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: ferry prune (see prune.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd_common.h"
#include "cmd_repl.h"
#include "conf.h"
#include "json_out.h"
#include "prune.h"
#include "snap_kapi.h"

const char prune_usage[] =
	"usage: ferry prune (NAME | --group GROUP) [--dry-run] [--json]\n"
	"  Apply the retention of the volume's group (configuration file) to\n"
	"  its snapshots; print \"keep|delete ID POINT REASON\" per point and\n"
	"  delete those marked delete (not with --dry-run).\n";

enum { OPT_GROUP = 0x400, OPT_DRY_RUN };

int prune_parse(struct ferry_ctx *ctx, int argc, char **argv,
		struct prune_args *a, struct ferr *e)
{
	static const struct option opts[] = {
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
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
		if (c == OPT_GROUP) {
			err = check_volume_name(optarg, e);
			if (err)
				return ferr_set(e, err, "--group: %s", e->msg);
			a->group = optarg;
		} else if (c == OPT_DRY_RUN) {
			a->dry_run = true;
		}
	}
	err = cmd_name_operand(argc, argv, !a->group, &a->name, e);
	if (err)
		return err;
	if (a->name && a->group)
		return ferr_set(e, -EINVAL, "give NAME or --group, not both");
	return 0;
}

int prune_plan(const struct snap_list *kernel, const struct repl_state *base,
	       struct retention_point **out, size_t *n)
{
	struct retention_point *p;
	size_t i, j, m = 0;

	*out = NULL;
	*n = 0;
	p = calloc(kernel->n ? kernel->n : 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (i = 0; i < kernel->n; i++) {
		const struct ferry_snap_info *s = &kernel->s[i];
		struct retention_point *q;
		const char *pt;

		if (s->parent)
			continue; /* a clone: not a point */
		q = &p[m++];
		q->id = s->id;
		snap_point(s, q->point, sizeof(q->point));
		q->created_ns = s->created_ns;
		q->tags = s->tags;
		q->ntags = s->ntags;
		q->invalid = s->state != FERRY_STATE_LIVE;
		pt = snap_tag(s, FERRY_POINT_TAG);
		if (base && base->point[0] && pt && !strcmp(pt, base->point))
			q->needed_by_replication = true;
		for (j = 0; j < kernel->n; j++)
			if (kernel->s[j].parent == s->id)
				q->clone = kernel->s[j].id;
	}
	*out = p;
	*n = m;
	return 0;
}

void prune_line(const struct retention_point *p, char *buf, size_t len)
{
	snprintf(buf, len, "%s %" PRIu32 " %s %s", p->keep ? "keep" : "delete",
		 p->id, p->point, p->reason);
}

static int delete_snapshot(struct kapi *k, const char *name, uint32_t id,
			   struct ferr *e)
{
	struct nl_msg *msg = kapi_msg(k, FERRY_CMD_DELETE_SNAPSHOT, 0);
	int err;

	if (!msg)
		return ferr_set(e, -ENOMEM, "out of memory");
	if (nla_put_string(msg, FERRY_ATTR_NAME, name) < 0 ||
	    nla_put_u32(msg, FERRY_ATTR_SNAP_ID, id) < 0) {
		nlmsg_free(msg);
		return ferr_set(e, -EMSGSIZE, "request too large");
	}
	e->msg[0] = '\0';
	err = kapi_call(k, msg, NULL, NULL, e);
	if (err == -ENOENT)
		return 0; /* deleted meanwhile: what was asked */
	if (err && !e->msg[0])
		kapi_explain(err, e);
	return err;
}

/* The replication base of @name: 1 loaded, 0 none. */
static int load_base(const char *state_dir, const char *name,
		     struct repl_state *base, struct ferr *e)
{
	char path[4096];
	int err;

	if (repl_base_path(state_dir, name, path, sizeof(path)))
		return ferr_set(e, -ENAMETOOLONG, "state directory too long");
	err = repl_state_load(path, base, e);
	if (err == -ENOENT)
		return 0;
	if (err)
		/* Unreadable: better keep too much than lose the base. */
		return ferr_set(e, err, "%s: %s", path, e->msg);
	return 1;
}

int prune_volume(const char *state_dir, struct kapi *k, struct catalog *c,
		 const char *name, const struct retention *r, uint64_t now_ns,
		 bool dry_run, prune_fn fn, void *arg, struct ferr *e)
{
	struct snap_list kernel = { 0 };
	struct retention_point *p = NULL;
	struct repl_state base;
	struct ferr why;
	size_t i, n = 0;
	int err, have_base, failed = 0;

	have_base = load_base(state_dir, name, &base, e);
	if (have_base < 0)
		return have_base;
	err = snap_dump(k, name, &kernel, e);
	if (!err)
		err = prune_plan(&kernel, have_base ? &base : NULL, &p, &n);
	if (err == -ENOMEM)
		ferr_set(e, err, "out of memory");
	if (!err && retention_apply(r, p, n, now_ns) < 0)
		err = ferr_set(e, -ENOMEM, "out of memory");
	for (i = 0; !err && i < n; i++) {
		const char *msg = NULL;

		/* The kernel first: a kill here leaves work for reconcile. */
		if (!p[i].keep && !dry_run) {
			if (delete_snapshot(k, name, p[i].id, &why)) {
				msg = why.msg;
				failed++;
			} else if (c && catalog_mark_deleted(c, name, p[i].id,
							     &why)) {
				msg = why.msg;
				failed++;
			}
		}
		fn(name, &p[i], msg, arg);
	}
	free(p);
	snap_list_free(&kernel);
	return err ? err : failed;
}

/* ---- ferry prune ---- */

struct out {
	bool json;
	bool group;
	struct json_object *a;
	const char *cmd;
};

static void print_decision(const char *volume, const struct retention_point *p,
			   const char *error, void *arg)
{
	struct out *o = arg;
	struct json_object *j;
	char line[512];

	if (o->json) {
		j = json_object_new_object();
		if (!j)
			return;
		json_object_object_add(j, "volume",
				       json_object_new_string(volume));
		json_object_object_add(j, "id", json_object_new_uint64(p->id));
		json_object_object_add(j, "point",
				       json_object_new_string(p->point));
		json_object_object_add(
			j, "action",
			json_object_new_string(p->keep ? "keep" : "delete"));
		json_object_object_add(j, "reason",
				       json_object_new_string(p->reason));
		if (error)
			json_object_object_add(j, "error",
					       json_object_new_string(error));
		json_object_array_add(o->a, j);
		return;
	}
	prune_line(p, line, sizeof(line));
	if (o->group)
		printf("%s %s\n", volume, line);
	else
		printf("%s\n", line);
	if (error)
		ferry_warn(o->cmd,
			   "%s: could not delete snapshot %" PRIu32 ": %s",
			   volume, p->id, error);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The group and its volumes to prune, from the configuration file. */
static int prune_targets(const struct ferry_ctx *ctx, const struct conf *cf,
			 const struct prune_args *a,
			 const struct conf_group **g, struct ferr *e)
{
	char text[600];

	(void)ctx;
	if (cf->nerrors) {
		conf_error_text(cf, 0, text, sizeof(text));
		return ferr_set(e, -EINVAL, "%s (see ferry config check)",
				text);
	}
	if (a->group) {
		*g = conf_group(cf, a->group);
		if (!*g)
			return ferr_set(e, -ENOENT, "%s: no group %s", cf->path,
					a->group);
	} else {
		*g = conf_group_of(cf, a->name);
		if (!*g)
			return ferr_set(e, -ENOENT,
					"%s: volume %s is in no group",
					cf->path, a->name);
	}
	if (!(*g)->has_retention)
		return ferr_set(e, -ENOENT, "%s: group %s has no retention",
				cf->path, (*g)->name);
	return 0;
}

static int prune_run(struct ferry_ctx *ctx, const struct prune_args *a,
		     struct ferr *e)
{
	struct out o = { .json = ctx->json,
			 .group = a->group != NULL,
			 .cmd = ctx->cmd };
	const struct conf_group *g = NULL;
	struct conf *cf = NULL;
	struct catalog *c = NULL;
	struct kapi *k = NULL;
	uint64_t now = realtime_ns();
	size_t i;
	int err, failed = 0;

	err = conf_load(ctx->config_path, true, &cf, e);
	if (!err)
		err = prune_targets(ctx, cf, a, &g, e);
	if (!err && !a->dry_run)
		err = catalog_open(ctx->state_dir, &c, e);
	if (!err)
		err = kapi_open(&k, e);
	if (!err && o.json) {
		o.a = json_object_new_array();
		if (!o.a)
			err = ferr_set(e, -ENOMEM, "out of memory");
	}
	for (i = 0; !err && i < g->nnames; i++) {
		const char *name = a->group ? g->names[i] : a->name;

		err = prune_volume(ctx->state_dir, k, c, name, &g->retention,
				   now, a->dry_run, print_decision, &o, e);
		if (err > 0) {
			failed += err;
			err = 0;
		}
		if (!a->group)
			break;
	}
	if (o.a && !err)
		err = json_print(stdout, o.a) ?
			      ferr_set(e, -EIO, "cannot write the output") :
			      0;
	else if (o.a)
		json_object_put(o.a);
	if (!err && (fflush(stdout) || ferror(stdout)))
		err = ferr_set(e, -EIO, "cannot write the output");
	if (!err && failed)
		err = ferr_set(e, -EBUSY, "%d snapshot(s) could not be deleted",
			       failed);
	kapi_close(k);
	catalog_close(c);
	conf_free(cf);
	return err;
}

int cmd_prune(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct prune_args a;
	struct ferr e = { { 0 } };
	int err;

	err = prune_parse(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, prune_usage);
	if (ctx_prepare(ctx, !a.dry_run, &e) || prune_run(ctx, &a, &e))
		return cmd_fail(ctx, &e);
	return EXIT_OK;
}
