// SPDX-License-Identifier: GPL-2.0
/*
 * ferry: the generic-netlink family "ferry" (uapi/linux/ferry.h).
 *
 * Strict attribute policies; errors carry an extack message the agent
 * prints; every command that changes state needs CAP_SYS_ADMIN.
 */
#include <linux/capability.h>
#include <linux/module.h>
#include <net/genetlink.h>

#include "ferry.h"

static struct genl_family ferry_genl_family;

static const struct nla_policy ferry_policy[FERRY_ATTR_MAX + 1] = {
	[FERRY_ATTR_NAME] = { .type = NLA_NUL_STRING, .len = FERRY_NAME_MAX },
	[FERRY_ATTR_DATA_PATH] = { .type = NLA_NUL_STRING,
				   .len = FERRY_PATH_MAX },
	[FERRY_ATTR_COW_PATH] = { .type = NLA_NUL_STRING,
				  .len = FERRY_PATH_MAX },
	[FERRY_ATTR_CHUNK_SIZE] = { .type = NLA_U32 },
};

static int ferry_need_admin(struct sk_buff *skb, struct genl_info *info)
{
	if (netlink_capable(skb, CAP_SYS_ADMIN))
		return 0;
	NL_SET_ERR_MSG(info->extack, "CAP_SYS_ADMIN is required");
	return -EPERM;
}

static int ferry_put_stats(struct sk_buff *msg, struct ferry_volume *vol)
{
	struct nlattr *nest;
	int i;

	nest = nla_nest_start(msg, FERRY_ATTR_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = FERRY_STAT_READS; i <= FERRY_STAT_MAX; i++)
		if (nla_put_u64_64bit(msg, i, atomic64_read(&vol->stats.v[i]),
				      FERRY_STAT_PAD))
			return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

/* Fill one volume message; the caller holds ferry_volumes_lock. */
static int ferry_fill_volume(struct sk_buff *msg, struct ferry_volume *vol,
			     u32 portid, u32 seq, int flags, u8 cmd)
{
	void *hdr;

	hdr = genlmsg_put(msg, portid, seq, &ferry_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_string(msg, FERRY_ATTR_NAME, vol->name) ||
	    nla_put_string(msg, FERRY_ATTR_DISK_NAME, vol->disk->disk_name) ||
	    nla_put_u32(msg, FERRY_ATTR_MINOR, vol->disk->first_minor) ||
	    nla_put_u64_64bit(msg, FERRY_ATTR_SIZE,
			      (u64)get_capacity(vol->disk) << SECTOR_SHIFT,
			      FERRY_ATTR_PAD) ||
	    nla_put_string(msg, FERRY_ATTR_DATA_PATH, vol->data_path) ||
	    nla_put_string(msg, FERRY_ATTR_COW_PATH, vol->cow_path) ||
	    nla_put_u32(msg, FERRY_ATTR_DATA_DEV,
			new_encode_dev(vol->data.bdev->bd_dev)) ||
	    nla_put_u32(msg, FERRY_ATTR_COW_DEV,
			new_encode_dev(vol->cow.bdev->bd_dev)) ||
	    nla_put_u32(msg, FERRY_ATTR_CHUNK_SIZE, vol->chunk_size) ||
	    nla_put_u32(msg, FERRY_ATTR_OPEN_COUNT,
			ferry_volume_open_count(vol)) ||
	    ferry_put_stats(msg, vol)) {
		genlmsg_cancel(msg, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return 0;
}

static int ferry_reply_volume(struct genl_info *info,
			      struct ferry_volume *vol)
{
	struct sk_buff *msg;
	int ret;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	ret = ferry_fill_volume(msg, vol, info->snd_portid, info->snd_seq, 0,
				info->genlhdr->cmd);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

static const char *ferry_get_name(struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, FERRY_ATTR_NAME))
		return NULL;
	return nla_data(info->attrs[FERRY_ATTR_NAME]);
}

static int ferry_cmd_attach(struct sk_buff *skb, struct genl_info *info)
{
	struct ferry_attach_args args = { .chunk_size = FERRY_CHUNK_DEFAULT };
	struct ferry_volume *vol;
	int ret;

	ret = ferry_need_admin(skb, info);
	if (ret)
		return ret;
	if (GENL_REQ_ATTR_CHECK(info, FERRY_ATTR_NAME) ||
	    GENL_REQ_ATTR_CHECK(info, FERRY_ATTR_DATA_PATH) ||
	    GENL_REQ_ATTR_CHECK(info, FERRY_ATTR_COW_PATH))
		return -EINVAL;
	args.name = nla_data(info->attrs[FERRY_ATTR_NAME]);
	args.data_path = nla_data(info->attrs[FERRY_ATTR_DATA_PATH]);
	args.cow_path = nla_data(info->attrs[FERRY_ATTR_COW_PATH]);
	if (info->attrs[FERRY_ATTR_CHUNK_SIZE])
		args.chunk_size = nla_get_u32(info->attrs[FERRY_ATTR_CHUNK_SIZE]);

	ret = ferry_volume_attach(&args, &vol, info->extack);
	if (ret)
		return ret;
	/*
	 * The volume exists now; a failed reply is reported but does not
	 * undo it (the agent can see it with GET_VOLUME).
	 */
	mutex_lock(&ferry_volumes_lock);
	vol = ferry_volume_find(args.name);
	ret = vol ? ferry_reply_volume(info, vol) : -ENODEV;
	mutex_unlock(&ferry_volumes_lock);
	return ret;
}

static int ferry_cmd_detach(struct sk_buff *skb, struct genl_info *info)
{
	struct ferry_volume *vol;
	const char *name;
	int ret;

	ret = ferry_need_admin(skb, info);
	if (ret)
		return ret;
	name = ferry_get_name(info);
	if (!name)
		return -EINVAL;
	mutex_lock(&ferry_volumes_lock);
	vol = ferry_volume_find(name);
	if (vol) {
		ret = ferry_volume_detach(vol, info->extack);
	} else {
		NL_SET_ERR_MSG(info->extack, "no volume with this name");
		ret = -ENOENT;
	}
	mutex_unlock(&ferry_volumes_lock);
	return ret;
}

static int ferry_cmd_get_volume(struct sk_buff *skb, struct genl_info *info)
{
	struct ferry_volume *vol;
	const char *name;
	int ret;

	name = ferry_get_name(info);
	if (!name)
		return -EINVAL;
	mutex_lock(&ferry_volumes_lock);
	vol = ferry_volume_find(name);
	if (vol) {
		ret = ferry_reply_volume(info, vol);
	} else {
		NL_SET_ERR_MSG(info->extack, "no volume with this name");
		ret = -ENOENT;
	}
	mutex_unlock(&ferry_volumes_lock);
	return ret;
}

/* cb->args[0]: how many volumes earlier parts of the dump sent. */
static int ferry_dump_volumes(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct ferry_volume *vol;
	long skip = cb->args[0], i = 0;

	mutex_lock(&ferry_volumes_lock);
	list_for_each_entry(vol, &ferry_volumes, node) {
		if (i++ < skip)
			continue;
		if (ferry_fill_volume(skb, vol, NETLINK_CB(cb->skb).portid,
				      cb->nlh->nlmsg_seq, NLM_F_MULTI,
				      FERRY_CMD_GET_VOLUME)) {
			i--;
			break;
		}
	}
	mutex_unlock(&ferry_volumes_lock);
	cb->args[0] = i;
	return skb->len;
}

static const struct genl_small_ops ferry_ops[] = {
	{
		.cmd = FERRY_CMD_ATTACH,
		.doit = ferry_cmd_attach,
	},
	{
		.cmd = FERRY_CMD_DETACH,
		.doit = ferry_cmd_detach,
	},
	{
		.cmd = FERRY_CMD_GET_VOLUME,
		.doit = ferry_cmd_get_volume,
		.dumpit = ferry_dump_volumes,
	},
};

static const struct genl_multicast_group ferry_mcgrps[] = {
	{ .name = FERRY_MCGRP_EVENTS },
};

static struct genl_family ferry_genl_family __ro_after_init = {
	.name = FERRY_GENL_NAME,
	.version = FERRY_GENL_VERSION,
	.maxattr = FERRY_ATTR_MAX,
	.policy = ferry_policy,
	/* Two sites in network namespaces of one host share the module. */
	.netnsok = true,
	.module = THIS_MODULE,
	.small_ops = ferry_ops,
	.n_small_ops = ARRAY_SIZE(ferry_ops),
	.resv_start_op = FERRY_CMD_MAX + 1,
	.mcgrps = ferry_mcgrps,
	.n_mcgrps = ARRAY_SIZE(ferry_mcgrps),
};

int ferry_netlink_init(void)
{
	return genl_register_family(&ferry_genl_family);
}

void ferry_netlink_exit(void)
{
	genl_unregister_family(&ferry_genl_family);
}
