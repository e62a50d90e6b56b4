// SPDX-License-Identifier: GPL-2.0
/*
 * The SQLite catalog in a temporary directory: schema creation, forward
 * migration of an older catalog, refusal of a newer one, points with
 * hooks and tags, and reconciliation against a kernel list.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "catalog.h"
#include "unit.h"

struct fixture {
	char dir[64];
	struct catalog *c;
	struct ferr e;
	char lines[8][512];
	int nlines;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/ferry-catalog.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	catalog_close(f->c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

static void sql(struct fixture *f, const char *text)
{
	char path[128];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/catalog.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, text, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void fresh_schema(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(catalog_open(f->dir, &f->c, &f->e), 0);
	assert_int_equal(catalog_schema(f->c), CATALOG_SCHEMA_VERSION);
	catalog_close(f->c);
	/* Opening again changes nothing. */
	assert_int_equal(catalog_open(f->dir, &f->c, &f->e), 0);
	assert_int_equal(catalog_schema(f->c), CATALOG_SCHEMA_VERSION);
}

static void migrates_forward(void **state)
{
	struct fixture *f = *state;
	struct catalog_point p;

	/* A version 1 catalog as an older agent left it, with a point. */
	sql(f,
	    "CREATE TABLE schema_version (version INTEGER NOT NULL);"
	    "INSERT INTO schema_version VALUES (1);"
	    "CREATE TABLE volumes (name TEXT PRIMARY KEY, data TEXT NOT NULL"
	    " DEFAULT '', cow TEXT NOT NULL DEFAULT '', attached_at INTEGER"
	    " NOT NULL);"
	    "CREATE TABLE points (point TEXT NOT NULL, volume TEXT NOT NULL,"
	    " snap_id INTEGER NOT NULL, label TEXT NOT NULL, created INTEGER"
	    " NOT NULL, state TEXT NOT NULL, stall_ns INTEGER NOT NULL"
	    " DEFAULT 0, freeze_ns INTEGER NOT NULL DEFAULT 0, has_hooks"
	    " INTEGER NOT NULL DEFAULT 0, freeze_status TEXT NOT NULL"
	    " DEFAULT '', freeze_output TEXT NOT NULL DEFAULT '',"
	    " thaw_status TEXT NOT NULL DEFAULT '', thaw_output TEXT NOT NULL"
	    " DEFAULT '', hook_ms INTEGER NOT NULL DEFAULT 0, total_ms"
	    " INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (point, volume));"
	    "CREATE TABLE tags (point TEXT NOT NULL, volume TEXT NOT NULL,"
	    " key TEXT NOT NULL, value TEXT NOT NULL,"
	    " PRIMARY KEY (point, volume, key));"
	    "INSERT INTO points (point, volume, snap_id, label, created,"
	    " state) VALUES ('p-old', 'db', 3, 'crash', 1, 'live');");
	assert_int_equal(catalog_open(f->dir, &f->c, &f->e), 0);
	assert_int_equal(catalog_schema(f->c), CATALOG_SCHEMA_VERSION);
	assert_int_equal(catalog_point_get(f->c, "db", 3, NULL, &p, &f->e), 1);
	assert_string_equal(p.point, "p-old");
	/* deleted_at came with version 2. */
	assert_int_equal(catalog_mark_deleted(f->c, "db", 3, &f->e), 0);
	assert_int_equal(catalog_point_get(f->c, "db", 3, NULL, &p, &f->e), 1);
	assert_string_equal(p.state, "deleted");
}

static void refuses_newer(void **state)
{
	struct fixture *f = *state;

	sql(f, "CREATE TABLE schema_version (version INTEGER NOT NULL);"
	       "INSERT INTO schema_version VALUES (99);");
	assert_int_equal(catalog_open(f->dir, &f->c, &f->e), -EPROTO);
	assert_non_null(strstr(f->e.msg, "schema version 99 is newer"));
	assert_null(f->c);
}

static void bad_dir(void **state)
{
	struct fixture *f = *state;
	struct catalog *c = NULL;

	assert_int_equal(catalog_open("/nonexistent/dir", &c, &f->e), -EIO);
	assert_non_null(strstr(f->e.msg, "cannot open the catalog"));
}

static struct ferry_snap_info *snap(struct snap_list *l, uint32_t id,
				    const char *point)
{
	struct ferry_snap_info *s = snap_list_add(l);

	snprintf(s->volume, sizeof(s->volume), "db");
	s->id = id;
	s->state = FERRY_STATE_LIVE;
	s->created_ns = 1000000000ULL * id;
	snprintf(s->label, sizeof(s->label), "application");
	if (point) {
		snprintf(s->tags[0].key, sizeof(s->tags[0].key), "ferry.point");
		snprintf(s->tags[0].value, sizeof(s->tags[0].value), "%s",
			 point);
		snprintf(s->tags[1].key, sizeof(s->tags[1].key),
			 "ferry.hook.freeze");
		snprintf(s->tags[1].value, sizeof(s->tags[1].value), "0");
		s->ntags = 2;
	}
	return s;
}

static void points_with_hooks(void **state)
{
	struct fixture *f = *state;
	struct snap_list l = { 0 };
	struct catalog_point *p = calloc(1, sizeof(*p));

	assert_int_equal(catalog_open(f->dir, &f->c, &f->e), 0);
	assert_int_equal(catalog_volume_seen(f->c, "db", "/dev/vdb", "/dev/vdc",
					     &f->e),
			 0);
	catalog_point_from_snap(snap(&l, 5, "p5"), p);
	assert_true(p->has_hooks);
	assert_string_equal(p->freeze_status, "0");
	snprintf(p->freeze_output, sizeof(p->freeze_output), "locked\n");
	snprintf(p->thaw_status, sizeof(p->thaw_status), "timeout");
	p->hook_ms = 42;
	assert_int_equal(catalog_point_put(f->c, p, &f->e), 0);
	memset(p, 0, sizeof(*p));
	assert_int_equal(catalog_point_get(f->c, "db", 5, "p5", p, &f->e), 1);
	assert_string_equal(p->label, "application");
	assert_string_equal(p->state, "live");
	assert_string_equal(p->freeze_output, "locked\n");
	assert_string_equal(p->thaw_status, "timeout");
	assert_int_equal(p->hook_ms, 42);
	assert_int_equal(p->ntags, 2);
	assert_string_equal(p->tags[0].key, "ferry.hook.freeze");
	assert_int_equal(catalog_point_get(f->c, "db", 5, "other", p, &f->e),
			 0);
	assert_int_equal(catalog_point_get(f->c, "db", 6, NULL, p, &f->e), 0);
	snap_list_free(&l);
	free(p);
}

/* Schema 3: a quiesce session's steps, from the tags and back. */
static void points_with_session(void **state)
{
	struct fixture *f = *state;
	struct snap_list l = { 0 };
	struct catalog_point *p = calloc(1, sizeof(*p));
	struct ferry_snap_info *s;

	assert_int_equal(catalog_open(f->dir, &f->c, &f->e), 0);
	s = snap(&l, 7, "p7");
	snprintf(s->tags[1].key, sizeof(s->tags[1].key),
		 "ferry.session.quiesce");
	snprintf(s->tags[1].value, sizeof(s->tags[1].value), "ok");
	snprintf(s->tags[2].key, sizeof(s->tags[2].key),
		 "ferry.session.release");
	snprintf(s->tags[2].value, sizeof(s->tags[2].value), "timeout");
	s->ntags = 3;
	catalog_point_from_snap(s, p);
	assert_false(p->has_hooks);
	assert_true(p->has_session);
	assert_string_equal(p->quiesce_status, "ok");
	assert_string_equal(p->release_status, "timeout");
	snprintf(p->quiesce_output, sizeof(p->quiesce_output), "held|12\n");
	snprintf(p->release_output, sizeof(p->release_output), "stuck\n");
	p->session_ms = 2100;
	assert_int_equal(catalog_point_put(f->c, p, &f->e), 0);
	memset(p, 0, sizeof(*p));
	assert_int_equal(catalog_point_get(f->c, "db", 7, "p7", p, &f->e), 1);
	assert_true(p->has_session);
	assert_false(p->has_hooks);
	assert_string_equal(p->quiesce_status, "ok");
	assert_string_equal(p->quiesce_output, "held|12\n");
	assert_string_equal(p->release_status, "timeout");
	assert_string_equal(p->release_output, "stuck\n");
	assert_int_equal(p->session_ms, 2100);
	snap_list_free(&l);
	free(p);
}

static void record(const char *line, void *arg)
{
	struct fixture *f = arg;

	if (f->nlines < 8)
		snprintf(f->lines[f->nlines++], sizeof(f->lines[0]), "%s",
			 line);
}

static int count_state(const struct catalog_point *p, void *arg)
{
	int *n = arg;

	if (!strcmp(p->state, "deleted"))
		n[0]++;
	else
		n[1]++;
	return 0;
}

static void reconcile(void **state)
{
	struct fixture *f = *state;
	struct snap_list k = { 0 };
	struct catalog_point *p = calloc(1, sizeof(*p));
	int n[2] = { 0, 0 };

	assert_int_equal(catalog_open(f->dir, &f->c, &f->e), 0);
	/* The catalog knows points 1 and 2; the kernel has 2, 3 and 4. */
	catalog_point_from_snap(snap(&k, 1, "p1"), p);
	assert_int_equal(catalog_point_put(f->c, p, &f->e), 0);
	snap_list_free(&k);
	catalog_point_from_snap(snap(&k, 2, "p2"), p);
	assert_int_equal(catalog_point_put(f->c, p, &f->e), 0);
	snap(&k, 3, "p3");
	snap(&k, 4, NULL)->parent = 0; /* no ferry.point: not a point */
	k.s[0].state = FERRY_STATE_INVALID;
	assert_int_equal(catalog_reconcile(f->c, "db", &k, record, f, &f->e),
			 3);
	assert_int_equal(f->nlines, 3);
	assert_non_null(
		strstr(f->lines[0], "point p1 (snapshot 1) marked deleted"));
	assert_non_null(
		strstr(f->lines[1], "point p2 (snapshot 2) is invalid"));
	assert_non_null(strstr(f->lines[2], "point p3 (snapshot 3) added"));
	assert_int_equal(catalog_point_get(f->c, "db", 1, "p1", p, &f->e), 1);
	assert_string_equal(p->state, "deleted");
	assert_int_equal(catalog_point_get(f->c, "db", 3, "p3", p, &f->e), 1);
	assert_string_equal(p->freeze_status, "0");
	/* Nothing left to fix. */
	assert_int_equal(catalog_reconcile(f->c, "db", &k, NULL, NULL, &f->e),
			 0);
	/* A kernel snapshot id reused by another point: the old one is gone. */
	snprintf(k.s[1].tags[0].value, sizeof(k.s[1].tags[0].value), "p3b");
	assert_int_equal(catalog_reconcile(f->c, "db", &k, NULL, NULL, &f->e),
			 2);
	assert_int_equal(catalog_points(f->c, "db", count_state, n, &f->e), 0);
	assert_int_equal(n[0], 2); /* p1, p3 */
	assert_int_equal(n[1], 2); /* p2, p3b */
	snap_list_free(&k);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fresh_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(migrates_forward, setup,
						teardown),
		cmocka_unit_test_setup_teardown(refuses_newer, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(points_with_hooks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(points_with_session, setup,
						teardown),
		cmocka_unit_test_setup_teardown(reconcile, setup, teardown),
	};

	return cmocka_run_group_tests_name("catalog", tests, NULL, NULL);
}
