// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: the SQLite catalog.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "catalog.h"

struct catalog {
	sqlite3 *db;
};

/* Migration N (1-based) takes the schema from version N-1 to N. */
static const char *const migrations[] = {
	/* 1: the tables */
	"CREATE TABLE volumes ("
	" name TEXT PRIMARY KEY,"
	" data TEXT NOT NULL DEFAULT '',"
	" cow TEXT NOT NULL DEFAULT '',"
	" attached_at INTEGER NOT NULL);"
	"CREATE TABLE points ("
	" point TEXT NOT NULL,"
	" volume TEXT NOT NULL,"
	" snap_id INTEGER NOT NULL,"
	" label TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" state TEXT NOT NULL,"
	" stall_ns INTEGER NOT NULL DEFAULT 0,"
	" freeze_ns INTEGER NOT NULL DEFAULT 0,"
	" has_hooks INTEGER NOT NULL DEFAULT 0,"
	" freeze_status TEXT NOT NULL DEFAULT '',"
	" freeze_output TEXT NOT NULL DEFAULT '',"
	" thaw_status TEXT NOT NULL DEFAULT '',"
	" thaw_output TEXT NOT NULL DEFAULT '',"
	" hook_ms INTEGER NOT NULL DEFAULT 0,"
	" total_ms INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (point, volume));"
	"CREATE TABLE tags ("
	" point TEXT NOT NULL,"
	" volume TEXT NOT NULL,"
	" key TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" PRIMARY KEY (point, volume, key));",
	/* 2: lookups by kernel snapshot id; when a point was deleted */
	"CREATE INDEX points_by_snap ON points (volume, snap_id);"
	"ALTER TABLE points ADD COLUMN deleted_at INTEGER;",
	/* 3: the quiesce session's steps (session.h) */
	"ALTER TABLE points ADD COLUMN has_session INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE points ADD COLUMN quiesce_status TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE points ADD COLUMN quiesce_output TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE points ADD COLUMN release_status TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE points ADD COLUMN release_output TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE points ADD COLUMN session_ms INTEGER NOT NULL DEFAULT 0;",
};

static int db_fail(struct catalog *c, struct ferr *e, const char *what)
{
	return ferr_set(e, -EIO, "catalog: %s: %s", what,
			sqlite3_errmsg(c->db));
}

static int exec(struct catalog *c, const char *sql, struct ferr *e)
{
	char *msg = NULL;

	if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		ferr_set(e, -EIO, "catalog: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

int catalog_schema(struct catalog *c)
{
	sqlite3_stmt *st;
	int v = 0;

	if (sqlite3_prepare_v2(c->db, "SELECT version FROM schema_version", -1,
			       &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int migrate(struct catalog *c, struct ferr *e)
{
	char sql[64];
	int v, err;

	/* One writer migrates; the others wait on the lock, then see it. */
	err = exec(c,
		   "BEGIN IMMEDIATE;"
		   "CREATE TABLE IF NOT EXISTS schema_version"
		   " (version INTEGER NOT NULL);",
		   e);
	if (err)
		return err;
	v = catalog_schema(c);
	if (v > (int)ARRAY_SIZE(migrations)) {
		exec(c, "ROLLBACK", e);
		return ferr_set(
			e, -EPROTO,
			"catalog: schema version %d is newer than this agent's %d",
			v, (int)ARRAY_SIZE(migrations));
	}
	if (!v)
		err = exec(c, "INSERT INTO schema_version VALUES (0)", e);
	for (; !err && v < (int)ARRAY_SIZE(migrations); v++) {
		err = exec(c, migrations[v], e);
		snprintf(sql, sizeof(sql),
			 "UPDATE schema_version SET version = %d", v + 1);
		if (!err)
			err = exec(c, sql, e);
	}
	if (err) {
		struct ferr ignored;

		exec(c, "ROLLBACK", &ignored);
		return err;
	}
	return exec(c, "COMMIT", e);
}

int catalog_open(const char *state_dir, struct catalog **out, struct ferr *e)
{
	struct catalog *c = calloc(1, sizeof(*c));
	char path[4096];
	int err;

	if (!c)
		return ferr_set(e, -ENOMEM, "out of memory");
	snprintf(path, sizeof(path), "%s/catalog.db", state_dir);
	if (sqlite3_open_v2(path, &c->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		err = ferr_set(e, -EIO, "cannot open the catalog %s: %s", path,
			       c->db ? sqlite3_errmsg(c->db) : "out of memory");
		catalog_close(c);
		return err;
	}
	sqlite3_busy_timeout(c->db, 10000);
	err = exec(c,
		   "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
		   "PRAGMA foreign_keys = ON;",
		   e);
	if (!err)
		err = migrate(c, e);
	if (err) {
		catalog_close(c);
		return err;
	}
	*out = c;
	return 0;
}

void catalog_close(struct catalog *c)
{
	if (!c)
		return;
	sqlite3_close(c->db);
	free(c);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int catalog_volume_seen(struct catalog *c, const char *name, const char *data,
			const char *cow, struct ferr *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(
		    c->db,
		    "INSERT INTO volumes (name, data, cow, attached_at)"
		    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO UPDATE"
		    " SET data = excluded.data, cow = excluded.cow"
		    " WHERE excluded.data != ''",
		    -1, &st, NULL) != SQLITE_OK)
		return db_fail(c, e, "volume");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, data, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cow, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)realtime_ns());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(c, e, "volume");
}

void catalog_point_from_snap(const struct ferry_snap_info *s,
			     struct catalog_point *p)
{
	const char *v;

	memset(p, 0, sizeof(*p));
	snap_point(s, p->point, sizeof(p->point));
	snprintf(p->volume, sizeof(p->volume), "%s", s->volume);
	p->snap_id = s->id;
	snprintf(p->label, sizeof(p->label), "%s", s->label);
	p->created_ns = s->created_ns;
	snap_state_name(s->state, p->state, sizeof(p->state));
	p->stall_ns = s->stall_ns;
	p->freeze_ns = s->freeze_ns;
	v = snap_tag(s, "ferry.hook.freeze");
	if (v) {
		p->has_hooks = true;
		snprintf(p->freeze_status, sizeof(p->freeze_status), "%s", v);
	}
	v = snap_tag(s, "ferry.hook.thaw");
	if (v) {
		p->has_hooks = true;
		snprintf(p->thaw_status, sizeof(p->thaw_status), "%s", v);
	}
	v = snap_tag(s, "ferry.session.quiesce");
	if (v) {
		p->has_session = true;
		snprintf(p->quiesce_status, sizeof(p->quiesce_status), "%s", v);
	}
	v = snap_tag(s, "ferry.session.release");
	if (v) {
		p->has_session = true;
		snprintf(p->release_status, sizeof(p->release_status), "%s", v);
	}
	p->ntags = s->ntags;
	memcpy(p->tags, s->tags, s->ntags * sizeof(s->tags[0]));
}

int catalog_point_put(struct catalog *c, const struct catalog_point *p,
		      struct ferr *e)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int err, rc;

	err = exec(c, "BEGIN IMMEDIATE", e);
	if (err)
		return err;
	if (sqlite3_prepare_v2(
		    c->db,
		    "INSERT OR REPLACE INTO points (point, volume, snap_id,"
		    " label, created, state, stall_ns, freeze_ns, has_hooks,"
		    " freeze_status, freeze_output, thaw_status, thaw_output,"
		    " hook_ms, total_ms, has_session, quiesce_status,"
		    " quiesce_output, release_status, release_output,"
		    " session_ms) VALUES"
		    " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
		    " ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
		    -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, p->point, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->volume, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, p->snap_id);
	sqlite3_bind_text(st, 4, p->label, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)p->created_ns);
	sqlite3_bind_text(st, 6, p->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)p->stall_ns);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)p->freeze_ns);
	sqlite3_bind_int(st, 9, p->has_hooks);
	sqlite3_bind_text(st, 10, p->freeze_status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, p->freeze_output, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, p->thaw_status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, p->thaw_output, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 14, (sqlite3_int64)p->hook_ms);
	sqlite3_bind_int64(st, 15, (sqlite3_int64)p->total_ms);
	sqlite3_bind_int(st, 16, p->has_session);
	sqlite3_bind_text(st, 17, p->quiesce_status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 18, p->quiesce_output, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 19, p->release_status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 20, p->release_output, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 21, (sqlite3_int64)p->session_ms);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE)
		goto fail;
	if (sqlite3_prepare_v2(
		    c->db, "DELETE FROM tags WHERE point = ?1 AND volume = ?2",
		    -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, p->point, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->volume, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE)
		goto fail;
	if (sqlite3_prepare_v2(c->db,
			       "INSERT INTO tags (point, volume, key, value)"
			       " VALUES (?1, ?2, ?3, ?4)",
			       -1, &st, NULL) != SQLITE_OK)
		goto fail;
	for (i = 0; i < p->ntags; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, p->point, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, p->volume, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, p->tags[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, p->tags[i].value, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
	}
	sqlite3_finalize(st);
	return exec(c, "COMMIT", e);
fail:
	err = db_fail(c, e, "storing a point");
	sqlite3_finalize(st);
	{
		struct ferr ignored;

		exec(c, "ROLLBACK", &ignored);
	}
	return err;
}

static void column_text(sqlite3_stmt *st, int col, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(buf, len, "%s", t ? (const char *)t : "");
}

static int load_tags(struct catalog *c, struct catalog_point *p)
{
	sqlite3_stmt *st;

	p->ntags = 0;
	if (sqlite3_prepare_v2(c->db,
			       "SELECT key, value FROM tags WHERE point = ?1"
			       " AND volume = ?2 ORDER BY key",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, p->point, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->volume, -1, SQLITE_STATIC);
	while (p->ntags < FERRY_TAGS_MAX && sqlite3_step(st) == SQLITE_ROW) {
		column_text(st, 0, p->tags[p->ntags].key,
			    sizeof(p->tags[0].key));
		column_text(st, 1, p->tags[p->ntags].value,
			    sizeof(p->tags[0].value));
		p->ntags++;
	}
	sqlite3_finalize(st);
	return 0;
}

#define POINT_COLUMNS                                                       \
	"SELECT point, volume, snap_id, label, created, state, stall_ns,"   \
	" freeze_ns, has_hooks, freeze_status, freeze_output, thaw_status," \
	" thaw_output, hook_ms, total_ms, has_session, quiesce_status,"     \
	" quiesce_output, release_status, release_output, session_ms"       \
	" FROM points "

static void point_from_row(sqlite3_stmt *st, struct catalog_point *p)
{
	memset(p, 0, sizeof(*p));
	column_text(st, 0, p->point, sizeof(p->point));
	column_text(st, 1, p->volume, sizeof(p->volume));
	p->snap_id = (uint32_t)sqlite3_column_int64(st, 2);
	column_text(st, 3, p->label, sizeof(p->label));
	p->created_ns = (uint64_t)sqlite3_column_int64(st, 4);
	column_text(st, 5, p->state, sizeof(p->state));
	p->stall_ns = (uint64_t)sqlite3_column_int64(st, 6);
	p->freeze_ns = (uint64_t)sqlite3_column_int64(st, 7);
	p->has_hooks = sqlite3_column_int(st, 8);
	column_text(st, 9, p->freeze_status, sizeof(p->freeze_status));
	column_text(st, 10, p->freeze_output, sizeof(p->freeze_output));
	column_text(st, 11, p->thaw_status, sizeof(p->thaw_status));
	column_text(st, 12, p->thaw_output, sizeof(p->thaw_output));
	p->hook_ms = (uint64_t)sqlite3_column_int64(st, 13);
	p->total_ms = (uint64_t)sqlite3_column_int64(st, 14);
	p->has_session = sqlite3_column_int(st, 15);
	column_text(st, 16, p->quiesce_status, sizeof(p->quiesce_status));
	column_text(st, 17, p->quiesce_output, sizeof(p->quiesce_output));
	column_text(st, 18, p->release_status, sizeof(p->release_status));
	column_text(st, 19, p->release_output, sizeof(p->release_output));
	p->session_ms = (uint64_t)sqlite3_column_int64(st, 20);
}

int catalog_point_get(struct catalog *c, const char *volume, uint32_t snap_id,
		      const char *point, struct catalog_point *p,
		      struct ferr *e)
{
	sqlite3_stmt *st;
	int rc, found = 0;

	if (sqlite3_prepare_v2(c->db,
			       POINT_COLUMNS
			       "WHERE volume = ?1 AND snap_id = ?2 AND"
			       " (?3 IS NULL OR point = ?3)"
			       " ORDER BY state = 'deleted', rowid DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(c, e, "looking up a point");
	sqlite3_bind_text(st, 1, volume, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, snap_id);
	if (point)
		sqlite3_bind_text(st, 3, point, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		point_from_row(st, p);
		found = 1;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(c, e, "looking up a point");
	if (found && load_tags(c, p))
		return db_fail(c, e, "reading tags");
	return found;
}

int catalog_points(struct catalog *c, const char *volume, catalog_point_fn fn,
		   void *arg, struct ferr *e)
{
	struct catalog_point *p = malloc(sizeof(*p));
	sqlite3_stmt *st;
	int rc, err = 0;

	if (!p)
		return ferr_set(e, -ENOMEM, "out of memory");
	if (sqlite3_prepare_v2(c->db,
			       POINT_COLUMNS
			       "WHERE volume = ?1 ORDER BY created, snap_id",
			       -1, &st, NULL) != SQLITE_OK) {
		free(p);
		return db_fail(c, e, "listing points");
	}
	sqlite3_bind_text(st, 1, volume, -1, SQLITE_STATIC);
	while (!err && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		point_from_row(st, p);
		if (load_tags(c, p))
			err = db_fail(c, e, "reading tags");
		else
			err = fn(p, arg);
	}
	if (!err && rc != SQLITE_DONE)
		err = db_fail(c, e, "listing points");
	sqlite3_finalize(st);
	free(p);
	return err;
}

static int set_deleted(struct catalog *c, const char *volume, uint32_t snap_id,
		       const char *point, struct ferr *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(c->db,
			       "UPDATE points SET state = 'deleted',"
			       " deleted_at = ?4 WHERE volume = ?1 AND"
			       " snap_id = ?2 AND (?3 IS NULL OR point = ?3)"
			       " AND state != 'deleted'",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(c, e, "marking a point deleted");
	sqlite3_bind_text(st, 1, volume, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, snap_id);
	if (point)
		sqlite3_bind_text(st, 3, point, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)realtime_ns());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(c, e, "marking a point deleted");
}

int catalog_mark_deleted(struct catalog *c, const char *volume,
			 uint32_t snap_id, struct ferr *e)
{
	return set_deleted(c, volume, snap_id, NULL, e);
}

static int set_state(struct catalog *c, const struct catalog_point *p,
		     const char *state, struct ferr *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(c->db,
			       "UPDATE points SET state = ?3 WHERE point = ?1"
			       " AND volume = ?2",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(c, e, "updating a point");
	sqlite3_bind_text(st, 1, p->point, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->volume, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_fail(c, e, "updating a point");
}

struct reconcile {
	struct catalog *c;
	const struct snap_list *kernel;
	catalog_fix_fn fn;
	void *arg;
	int fixes;
	struct ferr *e;
};

static const struct ferry_snap_info *kernel_snap(const struct snap_list *k,
						 uint32_t id)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (k->s[i].id == id)
			return &k->s[i];
	return NULL;
}

static void fix(struct reconcile *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fix(struct reconcile *r, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	r->fixes++;
	if (!r->fn)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->fn(line, r->arg);
}

/* A catalog point against the kernel: gone, or a changed state. */
static int reconcile_point(const struct catalog_point *p, void *arg)
{
	struct reconcile *r = arg;
	const struct ferry_snap_info *s;
	const char *tag;
	char state[16];
	int err;

	if (!strcmp(p->state, "deleted"))
		return 0;
	s = kernel_snap(r->kernel, p->snap_id);
	tag = s ? snap_tag(s, FERRY_POINT_TAG) : NULL;
	if (!s || (tag && strcmp(tag, p->point))) {
		err = set_deleted(r->c, p->volume, p->snap_id, p->point, r->e);
		if (!err)
			fix(r,
			    "%s: point %s (snapshot %" PRIu32
			    ") marked deleted: the kernel no longer has it",
			    p->volume, p->point, p->snap_id);
		return err;
	}
	snap_state_name(s->state, state, sizeof(state));
	if (strcmp(state, p->state)) {
		err = set_state(r->c, p, state, r->e);
		if (!err)
			fix(r,
			    "%s: point %s (snapshot %" PRIu32 ") is %s, was %s",
			    p->volume, p->point, p->snap_id, state, p->state);
		return err;
	}
	return 0;
}

int catalog_reconcile(struct catalog *c, const char *volume,
		      const struct snap_list *kernel, catalog_fix_fn fn,
		      void *arg, struct ferr *e)
{
	struct reconcile r = { c, kernel, fn, arg, 0, e };
	struct catalog_point *p = malloc(sizeof(*p));
	size_t i;
	int err;

	if (!p)
		return ferr_set(e, -ENOMEM, "out of memory");
	err = catalog_points(c, volume, reconcile_point, &r, e);
	for (i = 0; !err && i < kernel->n; i++) {
		const struct ferry_snap_info *s = &kernel->s[i];
		const char *point = snap_tag(s, FERRY_POINT_TAG);
		int found;

		/* Clones and snapshots no agent named are not points. */
		if (s->parent || !point)
			continue;
		found = catalog_point_get(c, volume, s->id, point, p, e);
		if (found < 0) {
			err = found;
		} else if (!found) {
			catalog_point_from_snap(s, p);
			snprintf(p->volume, sizeof(p->volume), "%s", volume);
			err = catalog_point_put(c, p, e);
			if (!err)
				fix(&r,
				    "%s: point %s (snapshot %" PRIu32
				    ") added from the kernel",
				    volume, point, s->id);
		}
	}
	free(p);
	return err ? err : r.fixes;
}
