// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: drill and failover history (SQLite).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "drill_catalog.h"

struct drill_db {
	sqlite3 *db;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS drills ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" volume TEXT NOT NULL,"
	" snap_id INTEGER NOT NULL,"
	" point TEXT NOT NULL,"
	" started INTEGER NOT NULL,"
	" seconds REAL NOT NULL,"
	" result TEXT NOT NULL CHECK (result IN ('pass', 'fail')),"
	" reason TEXT NOT NULL DEFAULT '',"
	" check_cmd TEXT NOT NULL DEFAULT '',"
	" clone_id INTEGER NOT NULL DEFAULT 0,"
	" cow_growth INTEGER NOT NULL DEFAULT 0,"
	" output TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX IF NOT EXISTS drills_by_volume ON drills (volume, id);"
	"CREATE TABLE IF NOT EXISTS failovers ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" volume TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" point TEXT NOT NULL,"
	" snap_id INTEGER NOT NULL,"
	" new_snap_id INTEGER NOT NULL DEFAULT 0,"
	" at INTEGER NOT NULL,"
	" bytes INTEGER NOT NULL DEFAULT 0,"
	" peer TEXT NOT NULL DEFAULT '');";

static int fail(struct drill_db *d, struct ferr *e, const char *what)
{
	return ferr_set(e, -EIO, "catalog: %s: %s", what,
			sqlite3_errmsg(d->db));
}

int drill_db_open(const char *state_dir, struct drill_db **out, struct ferr *e)
{
	struct drill_db *d = calloc(1, sizeof(*d));
	char path[4096], *msg = NULL;
	int err;

	if (!d)
		return ferr_set(e, -ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/catalog.db", state_dir);
	if (sqlite3_open_v2(path, &d->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		err = ferr_set(e, -EIO, "cannot open the catalog %s: %s", path,
			       d->db ? sqlite3_errmsg(d->db) : "out of memory");
		drill_db_close(d);
		return err;
	}
	sqlite3_busy_timeout(d->db, 10000);
	if (sqlite3_exec(d->db, "PRAGMA journal_mode = WAL;", NULL, NULL,
			 NULL) != SQLITE_OK ||
	    sqlite3_exec(d->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		err = ferr_set(e, -EIO, "catalog: %s",
			       msg ? msg : sqlite3_errmsg(d->db));
		sqlite3_free(msg);
		drill_db_close(d);
		return err;
	}
	*out = d;
	return 0;
}

void drill_db_close(struct drill_db *d)
{
	if (!d)
		return;
	sqlite3_close(d->db);
	free(d);
}

int drill_db_add(struct drill_db *d, struct drill_record *r, struct ferr *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(
		    d->db,
		    "INSERT INTO drills (volume, snap_id, point, started,"
		    " seconds, result, reason, check_cmd, clone_id,"
		    " cow_growth, output) VALUES"
		    " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
		    -1, &st, NULL) != SQLITE_OK)
		return fail(d, e, "recording a drill");
	sqlite3_bind_text(st, 1, r->volume, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->snap_id);
	sqlite3_bind_text(st, 3, r->point, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)r->started_ns);
	sqlite3_bind_double(st, 5, r->seconds);
	sqlite3_bind_text(st, 6, r->pass ? "pass" : "fail", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, r->check, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, r->clone_id);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)r->cow_growth);
	sqlite3_bind_text(st, 11, r->output, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(d, e, "recording a drill");
	r->id = sqlite3_last_insert_rowid(d->db);
	return 0;
}

static void text(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(buf, len, "%s", t ? (const char *)t : "");
}

int drill_db_list(struct drill_db *d, const char *volume, drill_record_fn fn,
		  void *arg, struct ferr *e)
{
	struct drill_record *r = malloc(sizeof(*r));
	sqlite3_stmt *st;
	char result[8];
	int rc, err = 0;

	if (!r)
		return ferr_set(e, -ENOMEM, "out of memory");
	if (sqlite3_prepare_v2(d->db,
			       "SELECT id, volume, snap_id, point, started,"
			       " seconds, result, reason, check_cmd, clone_id,"
			       " cow_growth, output FROM drills"
			       " WHERE volume = ?1 ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK) {
		free(r);
		return fail(d, e, "listing drills");
	}
	sqlite3_bind_text(st, 1, volume, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(st, 0);
		text(st, 1, r->volume, sizeof(r->volume));
		r->snap_id = (uint32_t)sqlite3_column_int64(st, 2);
		text(st, 3, r->point, sizeof(r->point));
		r->started_ns = (uint64_t)sqlite3_column_int64(st, 4);
		r->seconds = sqlite3_column_double(st, 5);
		text(st, 6, result, sizeof(result));
		r->pass = !strcmp(result, "pass");
		text(st, 7, r->reason, sizeof(r->reason));
		text(st, 8, r->check, sizeof(r->check));
		r->clone_id = (uint32_t)sqlite3_column_int64(st, 9);
		r->cow_growth = (uint64_t)sqlite3_column_int64(st, 10);
		text(st, 11, r->output, sizeof(r->output));
		err = fn(r, arg);
		if (err)
			break;
	}
	if (!err && rc != SQLITE_DONE)
		err = fail(d, e, "listing drills");
	sqlite3_finalize(st);
	free(r);
	return err;
}

int failover_db_add(struct drill_db *d, struct failover_record *r,
		    struct ferr *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(d->db,
			       "INSERT INTO failovers (volume, kind, point,"
			       " snap_id, new_snap_id, at, bytes, peer)"
			       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(d, e, "recording a failover");
	sqlite3_bind_text(st, 1, r->volume, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->point, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, r->snap_id);
	sqlite3_bind_int64(st, 5, r->new_snap_id);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)r->at_ns);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)r->bytes);
	sqlite3_bind_text(st, 8, r->peer, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(d, e, "recording a failover");
	r->id = sqlite3_last_insert_rowid(d->db);
	return 0;
}

int failover_db_last(struct drill_db *d, const char *volume,
		     struct failover_record *r, struct ferr *e)
{
	sqlite3_stmt *st;
	int rc, found = 0;

	if (sqlite3_prepare_v2(d->db,
			       "SELECT id, volume, kind, point, snap_id,"
			       " new_snap_id, at, bytes, peer FROM failovers"
			       " WHERE volume = ?1 AND kind = 'failover'"
			       " ORDER BY id DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(d, e, "looking up a failover");
	sqlite3_bind_text(st, 1, volume, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(st, 0);
		text(st, 1, r->volume, sizeof(r->volume));
		text(st, 2, r->kind, sizeof(r->kind));
		text(st, 3, r->point, sizeof(r->point));
		r->snap_id = (uint32_t)sqlite3_column_int64(st, 4);
		r->new_snap_id = (uint32_t)sqlite3_column_int64(st, 5);
		r->at_ns = (uint64_t)sqlite3_column_int64(st, 6);
		r->bytes = (uint64_t)sqlite3_column_int64(st, 7);
		text(st, 8, r->peer, sizeof(r->peer));
		found = 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(d, e, "looking up a failover");
	return found;
}
