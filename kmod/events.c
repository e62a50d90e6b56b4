// SPDX-License-Identifier: GPL-2.0
/*
 * ferry: events on the multicast group "events" of the netlink family,
 * sent to every network namespace (two sites may share one host in tests).
 */
#include <net/genetlink.h>

#include "ferry.h"

void ferry_event(struct ferry_volume *vol, enum ferry_event ev, u32 snap_id,
		 const char *tag, const char *msg, gfp_t gfp)
{
	struct sk_buff *skb;
	void *hdr;

	skb = genlmsg_new(NLMSG_GOODSIZE, gfp);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &ferry_genl_family, 0, FERRY_CMD_EVENT);
	if (!hdr)
		goto fail;
	if (nla_put_u32(skb, FERRY_ATTR_EVENT, ev) ||
	    nla_put_string(skb, FERRY_ATTR_NAME, vol->name) ||
	    (snap_id && nla_put_u32(skb, FERRY_ATTR_SNAP_ID, snap_id)) ||
	    (tag && nla_put_string(skb, FERRY_ATTR_TAG, tag)) ||
	    (msg && nla_put_string(skb, FERRY_ATTR_MESSAGE, msg)))
		goto fail;
	genlmsg_end(skb, hdr);
	/* No listener is fine: events are best effort, state is queryable. */
	genlmsg_multicast_allns(&ferry_genl_family, skb, 0, 0);
	return;
fail:
	nlmsg_free(skb);
}
