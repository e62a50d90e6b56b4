// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: volume records to and from netlink attributes.
 */
#include <errno.h>
#include <string.h>

#include <netlink/genl/genl.h>

#include "volume_nl.h"

static struct nla_policy attr_policy[FERRY_ATTR_MAX + 1] = {
	[FERRY_ATTR_NAME] = { .type = NLA_STRING,
			      .maxlen = FERRY_NAME_MAX + 1 },
	[FERRY_ATTR_DATA_PATH] = { .type = NLA_STRING,
				   .maxlen = FERRY_PATH_MAX + 1 },
	[FERRY_ATTR_COW_PATH] = { .type = NLA_STRING,
				  .maxlen = FERRY_PATH_MAX + 1 },
	[FERRY_ATTR_CHUNK_SIZE] = { .type = NLA_U32 },
	[FERRY_ATTR_DISK_NAME] = { .type = NLA_STRING,
				   .maxlen = FERRY_DISK_NAME_MAX + 1 },
	[FERRY_ATTR_MINOR] = { .type = NLA_U32 },
	[FERRY_ATTR_SIZE] = { .type = NLA_U64 },
	[FERRY_ATTR_DATA_DEV] = { .type = NLA_U32 },
	[FERRY_ATTR_COW_DEV] = { .type = NLA_U32 },
	[FERRY_ATTR_OPEN_COUNT] = { .type = NLA_U32 },
	[FERRY_ATTR_STATS] = { .type = NLA_NESTED },
	[FERRY_ATTR_EPOCH] = { .type = NLA_U64 },
	[FERRY_ATTR_CBT_GEN] = { .type = NLA_U64 },
	[FERRY_ATTR_COW_TOTAL] = { .type = NLA_U64 },
	[FERRY_ATTR_COW_USED] = { .type = NLA_U64 },
};

static int copy_string(char *dst, size_t len, struct nlattr *a,
		       const char *what, struct ferr *e)
{
	if (nla_strlcpy(dst, a, len) >= len)
		return ferr_set(e, -EPROTO, "kernel reply: %s is too long",
				what);
	return 0;
}

static uint32_t get_u32(struct nlattr *a)
{
	return a ? nla_get_u32(a) : 0;
}

static uint64_t get_u64(struct nlattr *a)
{
	return a ? nla_get_u64(a) : 0;
}

int cbt_uuid_from_attr(struct nlattr *a, uint8_t uuid[16], struct ferr *e)
{
	if (nla_len(a) != 16)
		return ferr_set(e, -EPROTO,
				"kernel reply: CBT uuid of %d bytes, not 16",
				nla_len(a));
	memcpy(uuid, nla_data(a), 16);
	return 0;
}

static int stats_from_attr(struct nlattr *nest, struct ferry_volume *v,
			   struct ferr *e)
{
	struct nlattr *a;
	int rem;

	/*
	 * Walked rather than parsed against a policy, so that counters a
	 * newer kernel adds are skipped instead of failing the reply.
	 */
	nla_for_each_nested(a, nest, rem) {
		int type = nla_type(a);

		if (type <= FERRY_STAT_PAD || type > FERRY_STAT_MAX)
			continue;
		if (nla_len(a) != sizeof(uint64_t))
			return ferr_set(
				e, -EPROTO,
				"kernel reply: bad length of counter %d", type);
		v->stats[type] = nla_get_u64(a);
	}
	return 0;
}

int volume_from_attrs(struct nlattr **tb, struct ferry_volume *v,
		      struct ferr *e)
{
	int err;

	memset(v, 0, sizeof(*v));
	if (!tb[FERRY_ATTR_NAME] || !tb[FERRY_ATTR_DISK_NAME])
		return ferr_set(e, -EPROTO,
				"kernel reply lacks the volume or disk name");
	err = copy_string(v->name, sizeof(v->name), tb[FERRY_ATTR_NAME], "name",
			  e);
	if (!err)
		err = copy_string(v->disk_name, sizeof(v->disk_name),
				  tb[FERRY_ATTR_DISK_NAME], "disk name", e);
	if (!err && tb[FERRY_ATTR_DATA_PATH])
		err = copy_string(v->data_path, sizeof(v->data_path),
				  tb[FERRY_ATTR_DATA_PATH], "data path", e);
	if (!err && tb[FERRY_ATTR_COW_PATH])
		err = copy_string(v->cow_path, sizeof(v->cow_path),
				  tb[FERRY_ATTR_COW_PATH], "cow path", e);
	if (!err && tb[FERRY_ATTR_STATS])
		err = stats_from_attr(tb[FERRY_ATTR_STATS], v, e);
	if (!err && tb[FERRY_ATTR_CBT_UUID]) {
		err = cbt_uuid_from_attr(tb[FERRY_ATTR_CBT_UUID], v->cbt_uuid,
					 e);
		v->has_cbt_uuid = !err;
	}
	if (err)
		return err;
	v->size = get_u64(tb[FERRY_ATTR_SIZE]);
	v->epoch = get_u64(tb[FERRY_ATTR_EPOCH]);
	v->cbt_gen = get_u64(tb[FERRY_ATTR_CBT_GEN]);
	v->cow_total = get_u64(tb[FERRY_ATTR_COW_TOTAL]);
	v->cow_used = get_u64(tb[FERRY_ATTR_COW_USED]);
	v->minor = get_u32(tb[FERRY_ATTR_MINOR]);
	v->data_dev = get_u32(tb[FERRY_ATTR_DATA_DEV]);
	v->cow_dev = get_u32(tb[FERRY_ATTR_COW_DEV]);
	v->chunk_size = get_u32(tb[FERRY_ATTR_CHUNK_SIZE]);
	v->open_count = get_u32(tb[FERRY_ATTR_OPEN_COUNT]);
	return 0;
}

int volume_from_msg(struct nl_msg *msg, struct ferry_volume *v, struct ferr *e)
{
	struct nlattr *tb[FERRY_ATTR_MAX + 1];
	int err;

	err = genlmsg_parse(nlmsg_hdr(msg), 0, tb, FERRY_ATTR_MAX, attr_policy);
	if (err < 0)
		return ferr_set(e, -EPROTO, "malformed kernel reply: %s",
				nl_geterror(err));
	return volume_from_attrs(tb, v, e);
}

int volume_put_attach(struct nl_msg *msg, const char *name,
		      const char *data_path, const char *cow_path,
		      uint32_t chunk_size)
{
	if (nla_put_string(msg, FERRY_ATTR_NAME, name) < 0 ||
	    nla_put_string(msg, FERRY_ATTR_DATA_PATH, data_path) < 0 ||
	    nla_put_string(msg, FERRY_ATTR_COW_PATH, cow_path) < 0)
		return -EMSGSIZE;
	if (chunk_size &&
	    nla_put_u32(msg, FERRY_ATTR_CHUNK_SIZE, chunk_size) < 0)
		return -EMSGSIZE;
	return 0;
}
