/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: the catalog, STATE_DIR/catalog.db (SQLite, WAL): volumes,
 * recovery points with their labels, hook results and timings, and their
 * tags. The kernel is the truth about which snapshots exist; the catalog
 * remembers what the kernel does not (hook outputs, deleted points) and
 * is reconciled against it by every command that opens it.
 */
#ifndef FERRY_CATALOG_H
#define FERRY_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hook.h"
#include "snap.h"
#include "util.h"

/* The schema this agent writes; older catalogs are migrated forward. */
#define CATALOG_SCHEMA_VERSION 3

struct catalog;

struct catalog_point {
	char point[FERRY_TAG_VALUE_MAX + 1];
	char volume[FERRY_NAME_MAX + 1];
	uint32_t snap_id;
	char label[FERRY_LABEL_MAX + 1];
	uint64_t created_ns;
	char state[16]; /* live, invalid, deleted, ... */
	uint64_t stall_ns;
	uint64_t freeze_ns;
	bool has_hooks;
	char freeze_status[16]; /* hook_status_text(); "" when not run */
	char thaw_status[16];
	char freeze_output[HOOK_OUTPUT_MAX + 1];
	char thaw_output[HOOK_OUTPUT_MAX + 1];
	uint64_t hook_ms;
	uint64_t total_ms;
	bool has_session; /* a quiesce session ran (session.h) */
	char quiesce_status[16]; /* struct session_step's status */
	char release_status[16];
	char quiesce_output[HOOK_OUTPUT_MAX + 1];
	char release_output[HOOK_OUTPUT_MAX + 1];
	uint64_t session_ms;
	size_t ntags;
	struct ferry_tag tags[FERRY_TAGS_MAX];
};

/* Opens (creating STATE_DIR/catalog.db if needed) and migrates. */
int catalog_open(const char *state_dir, struct catalog **out, struct ferr *e);
void catalog_close(struct catalog *c);

/* The schema_version of an open catalog. */
int catalog_schema(struct catalog *c);

/* Records a volume the first time it is seen (data and cow may be ""). */
int catalog_volume_seen(struct catalog *c, const char *name, const char *data,
			const char *cow, struct ferr *e);

/* A point as the kernel reports its snapshot (no hooks, state by kernel). */
void catalog_point_from_snap(const struct ferry_snap_info *s,
			     struct catalog_point *p);

/* Inserts or replaces the point (point, volume) and its tags. */
int catalog_point_put(struct catalog *c, const struct catalog_point *p,
		      struct ferr *e);

/*
 * The point of @volume's snapshot @snap_id carrying point id @point (or
 * any point id when @point is NULL): 1 found, 0 not, negative on error.
 */
int catalog_point_get(struct catalog *c, const char *volume, uint32_t snap_id,
		      const char *point, struct catalog_point *p,
		      struct ferr *e);

/* Calls @fn for each point of @volume (all states), oldest first. */
typedef int (*catalog_point_fn)(const struct catalog_point *p, void *arg);
int catalog_points(struct catalog *c, const char *volume, catalog_point_fn fn,
		   void *arg, struct ferr *e);

/* The snapshot of @volume was deleted: its point goes to state deleted. */
int catalog_mark_deleted(struct catalog *c, const char *volume,
			 uint32_t snap_id, struct ferr *e);

/*
 * Brings @volume's points in line with @kernel (the volume's snapshots):
 * live points whose snapshot is gone become deleted, snapshots with a
 * ferry.point tag unknown to the catalog are added, states follow the
 * kernel's. @fn (may be NULL) gets one line per fix. Returns the number
 * of fixes or a negative errno.
 */
typedef void (*catalog_fix_fn)(const char *line, void *arg);
int catalog_reconcile(struct catalog *c, const char *volume,
		      const struct snap_list *kernel, catalog_fix_fn fn,
		      void *arg, struct ferr *e);

#endif /* FERRY_CATALOG_H */
