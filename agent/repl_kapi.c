// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: kernel requests for replication.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <linux/ferry.h>

#include "blockdev.h"
#include "repl_kapi.h"
#include "snap_nl.h"
#include "volume_nl.h"

#define NODE_TIMEOUT_MS 5000

static struct nl_msg *request(struct kapi *k, uint8_t cmd, int flags,
			      const char *name, uint32_t id, struct ferr *e)
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

/* The kernel's message prefixed with the volume, or a generic one. */
static int explain(int err, const char *name, struct ferr *e)
{
	char text[sizeof(e->msg)];

	if (!e->msg[0])
		kapi_explain(err, e);
	snprintf(text, sizeof(text), "%s", e->msg);
	return ferr_set(e, err, "%s: %s", name, text);
}

static int on_volume(struct nl_msg *msg, void *arg, struct ferr *e)
{
	return volume_from_msg(msg, arg, e);
}

int rk_get_volume(struct kapi *k, const char *name, struct ferry_volume *v,
		  struct ferr *e)
{
	struct nl_msg *msg = request(k, FERRY_CMD_GET_VOLUME, 0, name, 0, e);
	int err;

	if (!msg)
		return -ENOMEM;
	memset(v, 0, sizeof(*v));
	err = kapi_call(k, msg, on_volume, v, e);
	if (err)
		return explain(err, name, e);
	if (!v->size || !v->disk_name[0])
		return ferr_set(e, -EPROTO, "%s: the kernel sent no volume",
				name);
	return 0;
}

struct one_snap {
	struct ferry_snap_info *s;
	int n;
};

static int on_snap(struct nl_msg *msg, void *arg, struct ferr *e)
{
	struct one_snap *o = arg;

	if (o->n++)
		return 0; /* only the first: one volume was asked for */
	return snap_from_msg(msg, o->s, e);
}

int rk_snapshot(struct kapi *k, const char *name, char *const *tags,
		size_t ntags, const char *label, struct ferry_snap_info *out,
		struct ferr *e)
{
	struct one_snap o = { out, 0 };
	char *names[1] = { (char *)name };
	struct nl_msg *msg = kapi_msg(k, FERRY_CMD_SNAPSHOT, 0);
	char dev[64];
	int err;

	if (!msg)
		return ferr_set(e, -ENOMEM, "out of memory");
	if (snap_put_snapshot(msg, names, 1, tags, ntags, label, 0)) {
		nlmsg_free(msg);
		return ferr_set(e, -EMSGSIZE, "request too large");
	}
	memset(out, 0, sizeof(*out));
	err = kapi_call(k, msg, on_snap, &o, e);
	if (err)
		return explain(err, name, e);
	if (!o.n || !out->id)
		return ferr_set(e, -EPROTO, "%s: the kernel sent no snapshot",
				name);
	if (!out->volume[0])
		snprintf(out->volume, sizeof(out->volume), "%s", name);
	snap_device_path(out, dev, sizeof(dev));
	if (dev[0])
		return wait_for_block_node(dev, NODE_TIMEOUT_MS, e);
	return 0;
}

int rk_get_snapshot(struct kapi *k, const char *name, uint32_t id,
		    struct ferry_snap_info *out, struct ferr *e)
{
	struct one_snap o = { out, 0 };
	struct nl_msg *msg = request(k, FERRY_CMD_GET_SNAPSHOT, 0, name, id, e);
	int err;

	if (!msg)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	err = kapi_call(k, msg, on_snap, &o, e);
	if (err)
		return explain(err, name, e);
	if (!o.n)
		return ferr_set(e, -ENOENT, "%s: no snapshot %" PRIu32, name,
				id);
	return 0;
}

int rk_delete(struct kapi *k, const char *name, uint32_t id, struct ferr *e)
{
	struct nl_msg *msg =
		request(k, FERRY_CMD_DELETE_SNAPSHOT, 0, name, id, e);
	int err;

	if (!msg)
		return -ENOMEM;
	err = kapi_call(k, msg, NULL, NULL, e);
	return err ? explain(err, name, e) : 0;
}

static int on_changed(struct nl_msg *msg, void *arg, struct ferr *e)
{
	return changed_from_msg(msg, arg, e);
}

int rk_changed(struct kapi *k, const char *name, uint64_t since_epoch,
	       uint32_t until_id, struct changed_map *m, struct ferr *e)
{
	struct nl_msg *msg =
		request(k, FERRY_CMD_CHANGED, NLM_F_DUMP, name, 0, e);
	int err;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u64(msg, FERRY_ATTR_SINCE_EPOCH, since_epoch) < 0 ||
	    nla_put_u32(msg, FERRY_ATTR_UNTIL_ID, until_id) < 0) {
		nlmsg_free(msg);
		return ferr_set(e, -EMSGSIZE, "request too large");
	}
	err = kapi_call(k, msg, on_changed, m, e);
	if (err && err != -ESTALE && err != -EPROTO)
		return explain(err, name, e);
	return err;
}
