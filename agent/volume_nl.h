/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: volume records to and from netlink attributes. No socket
 * here, so all of it is unit-testable with messages built in memory.
 */
#ifndef FERRY_VOLUME_NL_H
#define FERRY_VOLUME_NL_H

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "util.h"
#include "volume.h"

/* Fills @v from a parsed reply (tb indexed by FERRY_ATTR_*). */
int volume_from_attrs(struct nlattr **tb, struct ferry_volume *v,
		      struct ferr *e);

/* FERRY_ATTR_CBT_UUID: exactly 16 bytes, else -EPROTO. */
int cbt_uuid_from_attr(struct nlattr *a, uint8_t uuid[16], struct ferr *e);

/* Parses a GET_VOLUME or ATTACH reply message into @v. */
int volume_from_msg(struct nl_msg *msg, struct ferry_volume *v, struct ferr *e);

/* The attributes of FERRY_CMD_ATTACH; @chunk_size 0 leaves it out. */
int volume_put_attach(struct nl_msg *msg, const char *name,
		      const char *data_path, const char *cow_path,
		      uint32_t chunk_size);

#endif /* FERRY_VOLUME_NL_H */
