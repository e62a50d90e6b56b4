/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: snapshots, changed extents and events to and from netlink
 * attributes. No socket here: unit tests feed it messages built in memory.
 *
 * Decoding is defensive: unknown attributes are skipped (a newer kernel
 * may add some), known ones of the wrong size fail with -EPROTO.
 */
#ifndef FERRY_SNAP_NL_H
#define FERRY_SNAP_NL_H

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "snap.h"
#include "util.h"

/* A FERRY_ATTR_SNAP nest (enum ferry_snap_attr) into @s; ID is required. */
int snap_from_nest(struct nlattr *nest, struct ferry_snap_info *s,
		   struct ferr *e);

/* A reply of SNAPSHOT, GET_SNAPSHOT, SET_TAGS or CLONE: NAME, SNAP. */
int snap_from_msg(struct nl_msg *msg, struct ferry_snap_info *s,
		  struct ferr *e);

/* A nest @type of FERRY_ATTR_TAG strings; -EMSGSIZE if it does not fit. */
int put_tags(struct nl_msg *msg, int type, char *const *kv, size_t n);

/* FERRY_CMD_SNAPSHOT's attributes; NULL @label and 0 @deadline_ms: none. */
int snap_put_snapshot(struct nl_msg *msg, char *const *names, size_t nnames,
		      char *const *tags, size_t ntags, const char *label,
		      uint32_t deadline_ms);

/*
 * One message of the CHANGED dump into @m: CBT_UUID and CBT_GEN (which
 * must not change between messages: -ESTALE), then every EXTENT in order,
 * merged with what came before.
 */
int changed_from_msg(struct nl_msg *msg, struct changed_map *m, struct ferr *e);

/*
 * A multicast message: 0 with @ev filled for FERRY_CMD_EVENT, 1 for a
 * message that is not an event (to be ignored), -EPROTO when malformed.
 * ev->time_ns is left to the caller.
 */
int event_from_msg(struct nl_msg *msg, struct ferry_event_info *ev,
		   struct ferr *e);

#endif /* FERRY_SNAP_NL_H */
