/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: recovery points: hooks, label and catalog around the
 * kernel's snapshot (ferry snapshot), the catalog's view of a volume's
 * points (ferry snapshots) and reconciliation (ferry reconcile).
 */
#ifndef FERRY_POINT_H
#define FERRY_POINT_H

#include <json-c/json.h>

#include "catalog.h"
#include "cmd_snap.h"
#include "context.h"
#include "kapi.h"
#include "snap.h"

/* ferry snapshot: returns the exit status, having printed any error. */
int point_snapshot(struct ferry_ctx *ctx, const struct snapshot_args *a);

/*
 * The same without output, for the daemon: the point's snapshots in
 * @list, or an error in @e (hooks and thaw as for ferry snapshot; a
 * SIGINT/SIGTERM/SIGHUP during it is reported as -EINTR, the point kept
 * if it was taken).
 */
int point_take(struct ferry_ctx *ctx, const struct snapshot_args *a,
	       struct snap_list *list, struct ferr *e);

/*
 * ferry snapshots: @kernel (sorted by id) with what the catalog adds:
 * hook results, and the points whose snapshots were deleted. Without a
 * usable catalog, the kernel's list alone.
 */
int point_list_print(const struct ferry_ctx *ctx, const char *name,
		     const struct snap_list *kernel);

/* Silent reconcile of volume @name, best effort (after ferry delete). */
void point_sync(const struct ferry_ctx *ctx, struct kapi *k, const char *name);

/* ferry reconcile [NAME]: prints one line per fix. */
int point_reconcile(struct ferry_ctx *ctx, const char *name, struct ferr *e);

/* {"freeze": {"status", "output"}, "thaw": {...}, "hook_ms", "total_ms"} */
struct json_object *point_hooks_json(const struct catalog_point *p);

/* A deleted point as a snapshot record for the renderers. */
void point_to_snap(const struct catalog_point *p, struct ferry_snap_info *s);

#endif /* FERRY_POINT_H */
