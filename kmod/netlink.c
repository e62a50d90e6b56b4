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

static const struct nla_policy ferry_policy[FERRY_ATTR_MAX + 1] = {
	[FERRY_ATTR_NAME] = { .type = NLA_NUL_STRING, .len = FERRY_NAME_MAX },
	[FERRY_ATTR_DATA_PATH] = { .type = NLA_NUL_STRING,
				   .len = FERRY_PATH_MAX },
	[FERRY_ATTR_COW_PATH] = { .type = NLA_NUL_STRING,
				  .len = FERRY_PATH_MAX },
	[FERRY_ATTR_CHUNK_SIZE] = { .type = NLA_U32 },
	[FERRY_ATTR_VOLUMES] = { .type = NLA_NESTED },
	[FERRY_ATTR_SNAP_ID] = { .type = NLA_U32 },
	[FERRY_ATTR_LABEL] = { .type = NLA_NUL_STRING, .len = FERRY_LABEL_MAX },
	[FERRY_ATTR_TAGS] = { .type = NLA_NESTED },
	[FERRY_ATTR_TAG] = { .type = NLA_NUL_STRING,
			     .len = FERRY_TAG_KEY_MAX + FERRY_TAG_VALUE_MAX + 1 },
	[FERRY_ATTR_DEADLINE_MS] = NLA_POLICY_MIN(NLA_U32, 1),
	[FERRY_ATTR_SINCE_ID] = { .type = NLA_U32 },
	[FERRY_ATTR_SINCE_EPOCH] = { .type = NLA_U64 },
	[FERRY_ATTR_UNTIL_ID] = { .type = NLA_U32 },
};

/* Most volumes in one consistency group. */
#define FERRY_GROUP_MAX 16

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

static int ferry_put_cow_state(struct sk_buff *msg, struct ferry_volume *vol)
{
	u8 uuid[16];
	int ret;

	export_uuid(uuid, &vol->cbt_uuid);
	mutex_lock(&vol->map_lock);
	ret = nla_put_u64_64bit(msg, FERRY_ATTR_EPOCH, vol->epoch,
				FERRY_ATTR_PAD) ||
	      nla_put(msg, FERRY_ATTR_CBT_UUID, sizeof(uuid), uuid) ||
	      nla_put_u64_64bit(msg, FERRY_ATTR_CBT_GEN, vol->cbt_gen,
				FERRY_ATTR_PAD) ||
	      nla_put_u64_64bit(msg, FERRY_ATTR_COW_TOTAL,
				ferry_cow_bytes_total(vol), FERRY_ATTR_PAD) ||
	      nla_put_u64_64bit(msg, FERRY_ATTR_COW_USED,
				ferry_cow_bytes_used(vol), FERRY_ATTR_PAD);
	mutex_unlock(&vol->map_lock);
	return ret ? -EMSGSIZE : 0;
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
			ferry_opener_count(&vol->opens)) ||
	    ferry_put_cow_state(msg, vol) ||
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

/* Caller holds ferry_volumes_lock. */
static struct ferry_volume *ferry_find_volume(struct genl_info *info)
{
	struct ferry_volume *vol;

	if (GENL_REQ_ATTR_CHECK(info, FERRY_ATTR_NAME))
		return NULL;
	vol = ferry_volume_find(nla_data(info->attrs[FERRY_ATTR_NAME]));
	if (!vol)
		NL_SET_ERR_MSG(info->extack, "no volume with this name");
	return vol;
}

/* Caller holds ferry_volumes_lock. */
static struct ferry_snap *ferry_find_snap(struct genl_info *info)
{
	struct ferry_volume *vol = ferry_find_volume(info);
	struct ferry_snap *snap;

	if (!vol || GENL_REQ_ATTR_CHECK(info, FERRY_ATTR_SNAP_ID))
		return NULL;
	snap = ferry_snap_find(vol,
			       nla_get_u32(info->attrs[FERRY_ATTR_SNAP_ID]));
	if (!snap)
		NL_SET_ERR_MSG(info->extack, "no snapshot with this id");
	return snap;
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
	int ret;

	ret = ferry_need_admin(skb, info);
	if (ret)
		return ret;
	mutex_lock(&ferry_volumes_lock);
	vol = ferry_find_volume(info);
	ret = vol ? ferry_volume_detach(vol, info->extack) : -ENOENT;
	mutex_unlock(&ferry_volumes_lock);
	return ret;
}

static int ferry_cmd_get_volume(struct sk_buff *skb, struct genl_info *info)
{
	struct ferry_volume *vol;
	int ret;

	mutex_lock(&ferry_volumes_lock);
	vol = ferry_find_volume(info);
	ret = vol ? ferry_reply_volume(info, vol) : -ENOENT;
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

/* Under map_lock: bytes of preserved copies that serve @snap. */
static u64 ferry_snap_cow_bytes(struct ferry_volume *vol,
				struct ferry_snap *snap)
{
	struct ferry_exc *e;
	unsigned long c;
	u64 n = 0;

	if (snap->parent) {
		void *entry;

		xa_for_each(&snap->own, c, entry)
			n++;
		return n * vol->chunk_size;
	}
	xa_for_each(&vol->excmap.excs, c, e)
		for (; e; e = e->next)
			if (e->lo <= snap->epoch && snap->epoch <= e->hi)
				n++;
	return n * vol->chunk_size;
}

static int ferry_put_snap(struct sk_buff *msg, struct ferry_snap *snap)
{
	struct ferry_volume *vol = snap->vol;
	struct nlattr *nest, *tags;
	unsigned int i;
	u64 cow_bytes;

	mutex_lock(&vol->map_lock);
	cow_bytes = ferry_snap_cow_bytes(vol, snap);
	mutex_unlock(&vol->map_lock);

	nest = nla_nest_start(msg, FERRY_ATTR_SNAP);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u32(msg, FERRY_SNAP_ID, snap->id) ||
	    nla_put_u64_64bit(msg, FERRY_SNAP_EPOCH, snap->epoch,
			      FERRY_SNAP_PAD) ||
	    nla_put_u32(msg, FERRY_SNAP_STATE, snap->state) ||
	    (snap->disk && nla_put_string(msg, FERRY_SNAP_DISK_NAME,
					  snap->disk->disk_name)) ||
	    nla_put_u64_64bit(msg, FERRY_SNAP_CREATED_NS, snap->created_ns,
			      FERRY_SNAP_PAD) ||
	    nla_put_string(msg, FERRY_SNAP_LABEL, snap->label) ||
	    nla_put_u64_64bit(msg, FERRY_SNAP_STALL_NS, snap->stall_ns,
			      FERRY_SNAP_PAD) ||
	    nla_put_u64_64bit(msg, FERRY_SNAP_FREEZE_NS, snap->freeze_ns,
			      FERRY_SNAP_PAD) ||
	    nla_put_u64_64bit(msg, FERRY_SNAP_COW_BYTES, cow_bytes,
			      FERRY_SNAP_PAD) ||
	    (snap->parent && nla_put_u32(msg, FERRY_SNAP_PARENT,
					 snap->parent)) ||
	    nla_put_u32(msg, FERRY_SNAP_FROZEN, snap->frozen))
		return -EMSGSIZE;
	tags = nla_nest_start(msg, FERRY_SNAP_TAGS);
	if (!tags)
		return -EMSGSIZE;
	for (i = 0; i < snap->tags.n; i++)
		if (nla_put_string(msg, FERRY_ATTR_TAG, snap->tags.kv[i]))
			return -EMSGSIZE;
	nla_nest_end(msg, tags);
	nla_nest_end(msg, nest);
	return 0;
}

static int ferry_fill_snap(struct sk_buff *msg, struct ferry_snap *snap,
			   u32 portid, u32 seq, int flags, u8 cmd)
{
	void *hdr;

	hdr = genlmsg_put(msg, portid, seq, &ferry_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_string(msg, FERRY_ATTR_NAME, snap->vol->name) ||
	    ferry_put_snap(msg, snap)) {
		genlmsg_cancel(msg, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return 0;
}

static int ferry_reply_snaps(struct genl_info *info, struct ferry_snap **snaps,
			     unsigned int n)
{
	struct sk_buff *msg;
	unsigned int i;
	int ret = 0;

	msg = genlmsg_new(NLMSG_GOODSIZE * n, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	for (i = 0; i < n && !ret; i++)
		ret = ferry_fill_snap(msg, snaps[i], info->snd_portid,
				      info->snd_seq, 0, info->genlhdr->cmd);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

static int ferry_check_tags(struct nlattr *tags, struct netlink_ext_ack *extack)
{
	struct nlattr *tag;
	int rem, n = 0;

	if (!tags)
		return 0;
	nla_for_each_nested(tag, tags, rem) {
		if (nla_type(tag) != FERRY_ATTR_TAG || !nla_len(tag) ||
		    ((char *)nla_data(tag))[nla_len(tag) - 1] != 0 ||
		    ferry_tag_check(nla_data(tag)) < 0) {
			NL_SET_ERR_MSG_ATTR(extack, tag,
					    "invalid tag: key=value, key of A-Z a-z 0-9 . _ -, printable value");
			return -EINVAL;
		}
		if (++n > FERRY_TAGS_MAX) {
			NL_SET_ERR_MSG(extack, "too many tags");
			return -E2BIG;
		}
	}
	return 0;
}

static int ferry_cmd_snapshot(struct sk_buff *skb, struct genl_info *info)
{
	struct ferry_volume *vols[FERRY_GROUP_MAX];
	struct ferry_snap *snaps[FERRY_GROUP_MAX];
	struct nlattr *tags = info->attrs[FERRY_ATTR_TAGS];
	unsigned int n = 0, i, deadline = 10000;
	const char *label = NULL;
	struct nlattr *attr;
	int ret, rem;

	ret = ferry_need_admin(skb, info);
	if (ret)
		return ret;
	if (GENL_REQ_ATTR_CHECK(info, FERRY_ATTR_VOLUMES))
		return -EINVAL;
	ret = ferry_check_tags(tags, info->extack);
	if (ret)
		return ret;
	if (info->attrs[FERRY_ATTR_LABEL])
		label = nla_data(info->attrs[FERRY_ATTR_LABEL]);
	if (info->attrs[FERRY_ATTR_DEADLINE_MS])
		deadline = nla_get_u32(info->attrs[FERRY_ATTR_DEADLINE_MS]);

	mutex_lock(&ferry_volumes_lock);
	ret = -EINVAL;
	nla_for_each_nested(attr, info->attrs[FERRY_ATTR_VOLUMES], rem) {
		struct ferry_volume *vol;

		if (nla_type(attr) != FERRY_ATTR_NAME || !nla_len(attr) ||
		    ((char *)nla_data(attr))[nla_len(attr) - 1] != 0) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr, "bad volume name");
			goto out;
		}
		vol = ferry_volume_find(nla_data(attr));
		if (!vol) {
			NL_SET_ERR_MSG_ATTR(info->extack, attr,
					    "no volume with this name");
			ret = -ENOENT;
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (vols[i] == vol) {
				NL_SET_ERR_MSG_ATTR(info->extack, attr,
						    "volume named twice");
				goto out;
			}
		}
		if (n == FERRY_GROUP_MAX) {
			NL_SET_ERR_MSG(info->extack,
				       "too many volumes in one group");
			goto out;
		}
		vols[n++] = vol;
	}
	if (!n) {
		NL_SET_ERR_MSG(info->extack, "no volume given");
		goto out;
	}
	ret = ferry_snapshot_group(vols, n, label, tags, deadline, snaps,
				   info->extack);
	if (!ret)
		ret = ferry_reply_snaps(info, snaps, n);
out:
	mutex_unlock(&ferry_volumes_lock);
	return ret;
}

static int ferry_cmd_get_snapshot(struct sk_buff *skb, struct genl_info *info)
{
	struct ferry_snap *snap;
	int ret = -ENOENT;

	mutex_lock(&ferry_volumes_lock);
	snap = ferry_find_snap(info);
	if (snap)
		ret = ferry_reply_snaps(info, &snap, 1);
	mutex_unlock(&ferry_volumes_lock);
	return ret;
}

/* cb->args[0]: snapshots already sent. */
static int ferry_dump_snapshots(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	struct nlattr **attrs = ferry_dump_attrs(cb);
	struct ferry_volume *vol;
	struct ferry_snap *snap;
	long i = 0;
	int ret = 0;

	if (!attrs[FERRY_ATTR_NAME]) {
		NL_SET_ERR_MSG(cb->extack, "a volume name is needed");
		return -EINVAL;
	}
	mutex_lock(&ferry_volumes_lock);
	vol = ferry_volume_find(nla_data(attrs[FERRY_ATTR_NAME]));
	if (!vol) {
		NL_SET_ERR_MSG(cb->extack, "no volume with this name");
		ret = -ENOENT;
		goto out;
	}
	list_for_each_entry(snap, &vol->snaps, node) {
		if (i++ < cb->args[0])
			continue;
		if (ferry_fill_snap(skb, snap, NETLINK_CB(cb->skb).portid,
				    cb->nlh->nlmsg_seq, NLM_F_MULTI,
				    FERRY_CMD_GET_SNAPSHOT)) {
			i--;
			break;
		}
	}
	cb->args[0] = i;
	ret = skb->len;
out:
	mutex_unlock(&ferry_volumes_lock);
	return ret;
}

static int ferry_cmd_delete_snapshot(struct sk_buff *skb,
				     struct genl_info *info)
{
	struct ferry_snap *snap;
	int ret;

	ret = ferry_need_admin(skb, info);
	if (ret)
		return ret;
	mutex_lock(&ferry_volumes_lock);
	snap = ferry_find_snap(info);
	ret = snap ? ferry_snap_delete(snap, info->extack) : -ENOENT;
	mutex_unlock(&ferry_volumes_lock);
	return ret;
}

static int ferry_cmd_set_tags(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tags = info->attrs[FERRY_ATTR_TAGS], *tag;
	struct ferry_snap *snap;
	int ret, rem;

	ret = ferry_need_admin(skb, info);
	if (ret)
		return ret;
	ret = ferry_check_tags(tags, info->extack);
	if (ret)
		return ret;
	mutex_lock(&ferry_volumes_lock);
	snap = ferry_find_snap(info);
	if (!snap) {
		ret = -ENOENT;
		goto out;
	}
	if (tags) {
		/* Tags are read and written under ferry_volumes_lock only. */
		nla_for_each_nested(tag, tags, rem) {
			ret = ferry_tags_apply(&snap->tags, nla_data(tag),
					       GFP_KERNEL);
			if (ret) {
				NL_SET_ERR_MSG(info->extack,
					       "too many tags on the snapshot");
				goto out;
			}
			ferry_event(snap->vol, FERRY_EVENT_TAG_CHANGED,
				    snap->id, nla_data(tag), NULL, GFP_KERNEL);
		}
	}
	ret = ferry_reply_snaps(info, &snap, 1);
out:
	mutex_unlock(&ferry_volumes_lock);
	return ret;
}

static int ferry_cmd_clone(struct sk_buff *skb, struct genl_info *info)
{
	struct ferry_snap *snap, *clone;
	int ret;

	ret = ferry_need_admin(skb, info);
	if (ret)
		return ret;
	mutex_lock(&ferry_volumes_lock);
	snap = ferry_find_snap(info);
	ret = snap ? ferry_snap_clone(snap, &clone, info->extack) : -ENOENT;
	if (!ret)
		ret = ferry_reply_snaps(info, &clone, 1);
	mutex_unlock(&ferry_volumes_lock);
	return ret;
}

/*
 * The changed-block query as a dump. cb->args: [0] next chunk to scan,
 * [1] since epoch, [2] until epoch, [3] 1 once started.
 */
static int ferry_changed_start(struct netlink_callback *cb,
			       struct ferry_volume *vol, struct nlattr **attrs)
{
	struct ferry_snap *snap;

	if (attrs[FERRY_ATTR_SINCE_EPOCH]) {
		cb->args[1] = nla_get_u64(attrs[FERRY_ATTR_SINCE_EPOCH]);
	} else if (attrs[FERRY_ATTR_SINCE_ID]) {
		snap = ferry_snap_find(vol,
				       nla_get_u32(attrs[FERRY_ATTR_SINCE_ID]));
		if (!snap || snap->parent) {
			NL_SET_ERR_MSG(cb->extack, "no snapshot with the SINCE id");
			return -ENOENT;
		}
		cb->args[1] = snap->epoch;
	} else {
		NL_SET_ERR_MSG(cb->extack, "SINCE_ID or SINCE_EPOCH is needed");
		return -EINVAL;
	}
	cb->args[2] = FERRY_EPOCH_NOW;
	if (attrs[FERRY_ATTR_UNTIL_ID]) {
		snap = ferry_snap_find(vol,
				       nla_get_u32(attrs[FERRY_ATTR_UNTIL_ID]));
		if (!snap || snap->parent || snap->state != FERRY_STATE_LIVE) {
			NL_SET_ERR_MSG(cb->extack,
				       "UNTIL must be a live snapshot");
			return -ENOENT;
		}
		cb->args[2] = snap->epoch;
	}
	if (cb->args[1] >= vol->epoch || cb->args[1] > cb->args[2]) {
		NL_SET_ERR_MSG(cb->extack, "SINCE is not before UNTIL");
		return -EINVAL;
	}
	cb->args[3] = 1;
	return 0;
}

static int ferry_put_extent(struct sk_buff *skb, u64 off, u64 len)
{
	struct nlattr *nest = nla_nest_start(skb, FERRY_ATTR_EXTENT);

	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, FERRY_ATTR_OFFSET, off, FERRY_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, FERRY_ATTR_LENGTH, len, FERRY_ATTR_PAD)) {
		/* No half extent: the next message starts with this one. */
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

/*
 * Chunk @c, changed, as the precise map sees it: an extent per run of
 * written 4 KiB blocks from block *@resume on (the whole chunk if the map
 * names none). When the message is full, *@resume is where to go on.
 */
static int ferry_put_fine_chunk(struct sk_buff *skb, struct ferry_volume *vol,
				u64 c, u64 size, u64 *resume)
{
	struct ferry_fine *f = &vol->fine;
	u64 first = c << f->chunk_shift;
	u64 end = (c + 1) << f->chunk_shift, b, e, off;

	if (ferry_fine_next(f, first, end, true) >= min(end, f->nr_blocks))
		return ferry_put_extent(skb, c * vol->chunk_size,
					min_t(u64, vol->chunk_size,
					      size - c * vol->chunk_size));
	for (b = max(*resume, first);
	     (b = ferry_fine_next(f, b, end, true)) < min(end, f->nr_blocks);
	     b = e) {
		e = ferry_fine_next(f, b, end, false);
		off = b << FERRY_FINE_BLOCK_SHIFT;
		if (ferry_put_extent(skb, off,
				     min(size, e << FERRY_FINE_BLOCK_SHIFT) -
					     off)) {
			*resume = b;
			return -EMSGSIZE;
		}
	}
	return 0;
}

static int ferry_dump_changed(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nlattr **attrs = ferry_dump_attrs(cb);
	struct ferry_volume *vol;
	u64 c, run, size, resume;
	u8 uuid[16];
	void *hdr;
	bool fine;
	int ret;

	if (!attrs[FERRY_ATTR_NAME]) {
		NL_SET_ERR_MSG(cb->extack, "a volume name is needed");
		return -EINVAL;
	}
	mutex_lock(&ferry_volumes_lock);
	vol = ferry_volume_find(nla_data(attrs[FERRY_ATTR_NAME]));
	if (!vol) {
		NL_SET_ERR_MSG(cb->extack, "no volume with this name");
		ret = -ENOENT;
		goto out;
	}
	if (!cb->args[3]) {
		ret = ferry_changed_start(cb, vol, attrs);
		if (ret)
			goto out;
	}
	if (cb->args[0] >= vol->nr_chunks) {
		ret = 0;
		goto out;
	}
	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &ferry_genl_family, NLM_F_MULTI, FERRY_CMD_CHANGED);
	ret = -EMSGSIZE;
	export_uuid(uuid, &vol->cbt_uuid);
	if (!hdr || nla_put_string(skb, FERRY_ATTR_NAME, vol->name) ||
	    nla_put(skb, FERRY_ATTR_CBT_UUID, sizeof(uuid), uuid) ||
	    nla_put_u64_64bit(skb, FERRY_ATTR_CBT_GEN, vol->cbt_gen,
			      FERRY_ATTR_PAD))
		goto out;
	size = get_capacity(vol->disk) << SECTOR_SHIFT;
	mutex_lock(&vol->map_lock);
	fine = ferry_fine_covers(&vol->fine, cb->args[1]);
	for (;;) {
		c = ferry_exc_next_changed(&vol->excmap, cb->args[0],
					   cb->args[1], cb->args[2], &run);
		if (c >= vol->nr_chunks) {
			cb->args[0] = vol->nr_chunks;
			break;
		}
		if (fine) {
			/* args[4]: the block to go on from in chunk args[0]. */
			resume = c == cb->args[0] ? cb->args[4] : 0;
			if (ferry_put_fine_chunk(skb, vol, c, size, &resume)) {
				cb->args[0] = c;
				cb->args[4] = resume;
				break;
			}
			cb->args[0] = c + 1;
			continue;
		}
		if (ferry_put_extent(skb, c * vol->chunk_size,
				     min(run * vol->chunk_size,
					 size - c * vol->chunk_size)))
			break;	/* the next message goes on from here */
		cb->args[0] = c + run;
	}
	mutex_unlock(&vol->map_lock);
	genlmsg_end(skb, hdr);
	ret = skb->len;
out:
	mutex_unlock(&ferry_volumes_lock);
	return ret;
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
	{
		.cmd = FERRY_CMD_SNAPSHOT,
		.doit = ferry_cmd_snapshot,
	},
	{
		.cmd = FERRY_CMD_GET_SNAPSHOT,
		.doit = ferry_cmd_get_snapshot,
		.dumpit = ferry_dump_snapshots,
	},
	{
		.cmd = FERRY_CMD_DELETE_SNAPSHOT,
		.doit = ferry_cmd_delete_snapshot,
	},
	{
		.cmd = FERRY_CMD_SET_TAGS,
		.doit = ferry_cmd_set_tags,
	},
	{
		.cmd = FERRY_CMD_CHANGED,
		.dumpit = ferry_dump_changed,
	},
	{
		.cmd = FERRY_CMD_CLONE,
		.doit = ferry_cmd_clone,
	},
};

static const struct genl_multicast_group ferry_mcgrps[] = {
	{ .name = FERRY_MCGRP_EVENTS },
};

struct genl_family ferry_genl_family __ro_after_init = {
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
