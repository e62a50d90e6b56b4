/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: the kernel requests replication makes (volume, snapshot,
 * delete, changed extents), each one call on an open kapi.
 */
#ifndef FERRY_REPL_KAPI_H
#define FERRY_REPL_KAPI_H

#include <stdint.h>

#include "kapi.h"
#include "snap.h"
#include "util.h"
#include "volume.h"

int rk_get_volume(struct kapi *k, const char *name, struct ferry_volume *v,
		  struct ferr *e);
/*
 * A snapshot of one volume with @tags ("key=value") and @label (NULL: the
 * kernel records filesystem or crash itself); its device waited for.
 */
int rk_snapshot(struct kapi *k, const char *name, char *const *tags,
		size_t ntags, const char *label, struct ferry_snap_info *out,
		struct ferr *e);
int rk_get_snapshot(struct kapi *k, const char *name, uint32_t id,
		    struct ferry_snap_info *out, struct ferr *e);
int rk_delete(struct kapi *k, const char *name, uint32_t id, struct ferr *e);
/* Extents written after epoch @since up to snapshot @until_id. */
int rk_changed(struct kapi *k, const char *name, uint64_t since_epoch,
	       uint32_t until_id, struct changed_map *m, struct ferr *e);

#endif /* FERRY_REPL_KAPI_H */
