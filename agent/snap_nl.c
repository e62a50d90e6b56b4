// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: snapshots, changed extents and events to and from netlink.
 */
#include <errno.h>
#include <string.h>

#include <netlink/genl/genl.h>

#include "snap_nl.h"
#include "volume_nl.h"

static int bad_len(struct ferr *e, const char *what, int len)
{
	return ferr_set(e, -EPROTO, "kernel reply: %s has a bad length (%d)",
			what, len);
}

static int attr_u32(struct nlattr *a, uint32_t *out, const char *what,
		    struct ferr *e)
{
	if (nla_len(a) != sizeof(uint32_t))
		return bad_len(e, what, nla_len(a));
	*out = nla_get_u32(a);
	return 0;
}

static int attr_u64(struct nlattr *a, uint64_t *out, const char *what,
		    struct ferr *e)
{
	if (nla_len(a) != sizeof(uint64_t))
		return bad_len(e, what, nla_len(a));
	*out = nla_get_u64(a);
	return 0;
}

/* A NUL-terminated string that fits @len bytes, NUL included. */
static int attr_string(struct nlattr *a, char *dst, size_t len,
		       const char *what, struct ferr *e)
{
	const char *s = nla_data(a);
	int n = nla_len(a);

	if (n <= 0 || s[n - 1] != '\0' || strlen(s) >= len)
		return ferr_set(
			e, -EPROTO,
			"kernel reply: %s is not a string of at most %zu bytes",
			what, len - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static int tags_from_nest(struct nlattr *nest, struct ferry_snap_info *s,
			  struct ferr *e)
{
	char kv[FERRY_TAG_KEY_MAX + FERRY_TAG_VALUE_MAX + 2];
	struct ferr why;
	struct nlattr *a;
	int rem;

	s->ntags = 0;
	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) != FERRY_ATTR_TAG)
			continue;
		if (s->ntags == FERRY_TAGS_MAX)
			return ferr_set(e, -EPROTO,
					"kernel reply: more than %d tags",
					FERRY_TAGS_MAX);
		if (attr_string(a, kv, sizeof(kv), "tag", e))
			return -EPROTO;
		if (tag_parse(kv, &s->tags[s->ntags], &why))
			return ferr_set(e, -EPROTO, "kernel reply: %s",
					why.msg);
		s->ntags++;
	}
	snap_sort_tags(s);
	return 0;
}

static int snap_attr(struct nlattr *a, struct ferry_snap_info *s, bool *has_id,
		     struct ferr *e)
{
	uint32_t u = 0;

	switch (nla_type(a)) {
	case FERRY_SNAP_ID:
		*has_id = true;
		return attr_u32(a, &s->id, "snapshot id", e);
	case FERRY_SNAP_EPOCH:
		return attr_u64(a, &s->epoch, "snapshot epoch", e);
	case FERRY_SNAP_STATE:
		return attr_u32(a, &s->state, "snapshot state", e);
	case FERRY_SNAP_DISK_NAME:
		return attr_string(a, s->disk_name, sizeof(s->disk_name),
				   "snapshot disk name", e);
	case FERRY_SNAP_CREATED_NS:
		return attr_u64(a, &s->created_ns, "creation time", e);
	case FERRY_SNAP_LABEL:
		return attr_string(a, s->label, sizeof(s->label), "label", e);
	case FERRY_SNAP_TAGS:
		return tags_from_nest(a, s, e);
	case FERRY_SNAP_STALL_NS:
		return attr_u64(a, &s->stall_ns, "stall time", e);
	case FERRY_SNAP_FREEZE_NS:
		return attr_u64(a, &s->freeze_ns, "freeze time", e);
	case FERRY_SNAP_COW_BYTES:
		return attr_u64(a, &s->cow_bytes, "CoW bytes", e);
	case FERRY_SNAP_PARENT:
		return attr_u32(a, &s->parent, "parent id", e);
	case FERRY_SNAP_FROZEN:
		if (attr_u32(a, &u, "frozen flag", e))
			return -EPROTO;
		s->frozen = u != 0;
		return 0;
	}
	return 0; /* PAD, or an attribute of a newer kernel */
}

int snap_from_nest(struct nlattr *nest, struct ferry_snap_info *s,
		   struct ferr *e)
{
	bool has_id = false;
	struct nlattr *a;
	int rem, err;

	nla_for_each_nested(a, nest, rem) {
		err = snap_attr(a, s, &has_id, e);
		if (err)
			return err;
	}
	if (!has_id)
		return ferr_set(e, -EPROTO,
				"kernel reply: snapshot without an id");
	return 0;
}

int snap_from_msg(struct nl_msg *msg, struct ferry_snap_info *s, struct ferr *e)
{
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct nlattr *a, *snap = NULL;
	int rem, err;

	memset(s, 0, sizeof(*s));
	if (!genlmsg_valid_hdr(hdr, 0))
		return ferr_set(e, -EPROTO, "malformed kernel reply");
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(hdr), 0),
			  genlmsg_attrlen(nlmsg_data(hdr), 0), rem) {
		if (nla_type(a) == FERRY_ATTR_NAME) {
			err = attr_string(a, s->volume, sizeof(s->volume),
					  "volume name", e);
			if (err)
				return err;
		} else if (nla_type(a) == FERRY_ATTR_SNAP) {
			snap = a;
		}
	}
	if (!snap)
		return ferr_set(e, -EPROTO, "kernel reply lacks the snapshot");
	return snap_from_nest(snap, s, e);
}

int put_tags(struct nl_msg *msg, int type, char *const *kv, size_t n)
{
	struct nlattr *nest = nla_nest_start(msg, type);
	size_t i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < n; i++)
		if (nla_put_string(msg, FERRY_ATTR_TAG, kv[i]) < 0)
			return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

int snap_put_snapshot(struct nl_msg *msg, char *const *names, size_t nnames,
		      char *const *tags, size_t ntags, const char *label,
		      uint32_t deadline_ms)
{
	struct nlattr *nest = nla_nest_start(msg, FERRY_ATTR_VOLUMES);
	size_t i;

	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < nnames; i++)
		if (nla_put_string(msg, FERRY_ATTR_NAME, names[i]) < 0)
			return -EMSGSIZE;
	nla_nest_end(msg, nest);
	if (ntags && put_tags(msg, FERRY_ATTR_TAGS, tags, ntags))
		return -EMSGSIZE;
	if (label && nla_put_string(msg, FERRY_ATTR_LABEL, label) < 0)
		return -EMSGSIZE;
	if (deadline_ms &&
	    nla_put_u32(msg, FERRY_ATTR_DEADLINE_MS, deadline_ms) < 0)
		return -EMSGSIZE;
	return 0;
}

static int extent_from_nest(struct nlattr *nest, struct changed_map *m,
			    struct ferr *e)
{
	bool has_off = false, has_len = false;
	uint64_t off = 0, len = 0;
	struct nlattr *a;
	int rem;

	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) == FERRY_ATTR_OFFSET) {
			if (attr_u64(a, &off, "extent offset", e))
				return -EPROTO;
			has_off = true;
		} else if (nla_type(a) == FERRY_ATTR_LENGTH) {
			if (attr_u64(a, &len, "extent length", e))
				return -EPROTO;
			has_len = true;
		}
	}
	if (!has_off || !has_len)
		return ferr_set(
			e, -EPROTO,
			"kernel reply: extent without offset or length");
	return changed_add(m, off, len, e);
}

static int changed_identity(struct nlattr *a, struct changed_map *m,
			    struct ferr *e)
{
	static const char reset[] =
		"the change map was reset during the query; run it again";
	uint8_t uuid[16];
	uint64_t gen = 0;

	if (nla_type(a) == FERRY_ATTR_CBT_UUID) {
		if (cbt_uuid_from_attr(a, uuid, e))
			return -EPROTO;
		if (m->has_uuid && memcmp(uuid, m->cbt_uuid, 16))
			return ferr_set(e, -ESTALE, "%s", reset);
		memcpy(m->cbt_uuid, uuid, 16);
		m->has_uuid = true;
	} else {
		if (attr_u64(a, &gen, "CBT generation", e))
			return -EPROTO;
		if (m->has_gen && gen != m->cbt_gen)
			return ferr_set(e, -ESTALE, "%s", reset);
		m->cbt_gen = gen;
		m->has_gen = true;
	}
	return 0;
}

int changed_from_msg(struct nl_msg *msg, struct changed_map *m, struct ferr *e)
{
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct nlattr *a;
	int rem, err = 0;

	if (!genlmsg_valid_hdr(hdr, 0))
		return ferr_set(e, -EPROTO, "malformed kernel reply");
	/* Identity first: it may follow the extents in the message. */
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(hdr), 0),
			  genlmsg_attrlen(nlmsg_data(hdr), 0), rem) {
		if (nla_type(a) == FERRY_ATTR_CBT_UUID ||
		    nla_type(a) == FERRY_ATTR_CBT_GEN)
			err = changed_identity(a, m, e);
		if (err)
			return err;
	}
	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(hdr), 0),
			  genlmsg_attrlen(nlmsg_data(hdr), 0), rem) {
		if (nla_type(a) == FERRY_ATTR_EXTENT)
			err = extent_from_nest(a, m, e);
		if (err)
			return err;
	}
	return 0;
}

static int event_attr(struct nlattr *a, struct ferry_event_info *ev,
		      bool *has_event, struct ferr *e)
{
	switch (nla_type(a)) {
	case FERRY_ATTR_EVENT:
		*has_event = true;
		return attr_u32(a, &ev->event, "event", e);
	case FERRY_ATTR_NAME:
		return attr_string(a, ev->name, sizeof(ev->name), "name", e);
	case FERRY_ATTR_SNAP_ID:
		return attr_u32(a, &ev->snap_id, "snapshot id", e);
	case FERRY_ATTR_TAG:
		ev->has_tag = true;
		return attr_string(a, ev->tag, sizeof(ev->tag), "tag", e);
	case FERRY_ATTR_MESSAGE:
		/* Free text: a long one is cut rather than refused. */
		if (nla_len(a) <= 0)
			return bad_len(e, "message", nla_len(a));
		nla_strlcpy(ev->message, a, sizeof(ev->message));
		ev->has_message = true;
		return 0;
	}
	return 0;
}

int event_from_msg(struct nl_msg *msg, struct ferry_event_info *ev,
		   struct ferr *e)
{
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	bool has_event = false;
	struct genlmsghdr *g;
	struct nlattr *a;
	int rem, err;

	memset(ev, 0, sizeof(*ev));
	if (!genlmsg_valid_hdr(hdr, 0))
		return ferr_set(e, -EPROTO, "malformed event message");
	g = nlmsg_data(hdr);
	if (g->cmd != FERRY_CMD_EVENT)
		return 1;
	nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0),
			  rem) {
		err = event_attr(a, ev, &has_event, e);
		if (err)
			return err;
	}
	if (!has_event)
		return ferr_set(e, -EPROTO, "event message without an event");
	return 0;
}
