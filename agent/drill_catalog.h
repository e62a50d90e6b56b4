/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: the drill and failover history in the catalog
 * (STATE_DIR/catalog.db, tables "drills" and "failovers"). The tables are
 * created here with CREATE TABLE IF NOT EXISTS on a connection of their
 * own, so they stay out of catalog.c's numbered migrations.
 */
#ifndef FERRY_DRILL_CATALOG_H
#define FERRY_DRILL_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/ferry.h>

#include "drill.h"
#include "util.h"

struct drill_db;

struct drill_record {
	int64_t id; /* set by drill_db_add */
	char volume[FERRY_NAME_MAX + 1];
	uint32_t snap_id;
	char point[FERRY_TAG_VALUE_MAX + 1];
	uint64_t started_ns; /* CLOCK_REALTIME */
	double seconds;
	bool pass;
	char reason[DRILL_REASON_MAX + 1];
	char check[256];
	uint32_t clone_id;
	uint64_t cow_growth; /* bytes the CoW store grew by at most */
	char output[DRILL_OUTPUT_MAX + 1];
};

struct failover_record {
	int64_t id;
	char volume[FERRY_NAME_MAX + 1];
	char kind[24]; /* failover, failback, failback-receive */
	char point[FERRY_TAG_VALUE_MAX + 1];
	uint32_t snap_id; /* the snapshot it failed over to / from */
	uint32_t new_snap_id; /* the snapshot taken after */
	uint64_t at_ns;
	uint64_t bytes;
	char peer[128];
};

int drill_db_open(const char *state_dir, struct drill_db **out, struct ferr *e);
void drill_db_close(struct drill_db *d);

int drill_db_add(struct drill_db *d, struct drill_record *r, struct ferr *e);

/* Calls @fn for each drill of @volume, oldest first. */
typedef int (*drill_record_fn)(const struct drill_record *r, void *arg);
int drill_db_list(struct drill_db *d, const char *volume, drill_record_fn fn,
		  void *arg, struct ferr *e);

int failover_db_add(struct drill_db *d, struct failover_record *r,
		    struct ferr *e);
/* The newest failover of @volume: 1 found, 0 none, negative on error. */
int failover_db_last(struct drill_db *d, const char *volume,
		     struct failover_record *r, struct ferr *e);

#endif /* FERRY_DRILL_CATALOG_H */
