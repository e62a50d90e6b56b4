/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: the snapshot calls to the kernel that point.c builds on
 * (implemented in cmd_snap.c). Each sets @e to a one-line message.
 */
#ifndef FERRY_SNAP_KAPI_H
#define FERRY_SNAP_KAPI_H

#include "cmd_snap.h"
#include "kapi.h"
#include "snap.h"

/* FERRY_CMD_SNAPSHOT of a->names with @tags and @label; waits for nodes. */
int snap_take(struct kapi *k, const struct snapshot_args *a, char *const *tags,
	      size_t ntags, const char *label, struct snap_list *list,
	      struct ferr *e);

/* Every snapshot of volume @name, by id. */
int snap_dump(struct kapi *k, const char *name, struct snap_list *list,
	      struct ferr *e);

int snap_set_tags(struct kapi *k, const char *name, uint32_t id,
		  char *const *kv, size_t n, struct ferr *e);

/* The id of @name's snapshot tagged ferry.point=@point (no-op if NULL). */
int snap_resolve(struct kapi *k, const char *name, const char *point,
		 uint32_t *id, struct ferr *e);

/* "NAME SNAPID DEVICE" per snapshot. */
int snap_print_lines(const struct snap_list *list);

#endif /* FERRY_SNAP_KAPI_H */
