// SPDX-License-Identifier: GPL-2.0
/*
 * Fire drill decisions: which snapshot a drill takes, which tag updates
 * trigger one (and that a drill's own tags never do), the space budget,
 * the teardown order, the result tags, the filesystem probe, and the
 * drills/failovers tables of the catalog.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "catalog.h"
#include "drill.h"
#include "drill_catalog.h"
#include "unit.h"

static struct ferry_snap_info *add(struct snap_list *l, uint32_t id,
				   uint64_t created, uint32_t state,
				   uint32_t parent, const char *point)
{
	struct ferry_snap_info *s = snap_list_add(l);

	s->id = id;
	s->created_ns = created;
	s->state = state;
	s->parent = parent;
	if (point) {
		snprintf(s->tags[0].key, sizeof(s->tags[0].key), "%s",
			 FERRY_POINT_TAG);
		snprintf(s->tags[0].value, sizeof(s->tags[0].value), "%s",
			 point);
		s->ntags = 1;
	}
	return s;
}

static void pick_default_newest_live_not_clone(void **state)
{
	struct snap_list l = { 0 };
	struct ferr e;

	(void)state;
	add(&l, 1, 100, FERRY_STATE_LIVE, 0, "p1");
	add(&l, 2, 300, FERRY_STATE_INVALID, 0, "p2"); /* newest: invalid */
	add(&l, 3, 200, FERRY_STATE_LIVE, 0, "p3");
	add(&l, 4, 400, FERRY_STATE_LIVE, 3, NULL); /* a clone */
	assert_int_equal(drill_pick(&l, "v", 0, NULL, &e), 2);
	assert_int_equal(drill_pick(&l, "v", 1, NULL, &e), 0);
	assert_int_equal(drill_pick(&l, "v", 0, "p3", &e), 2);
	assert_int_equal(drill_pick(&l, "v", 2, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "not live"));
	assert_int_equal(drill_pick(&l, "v", 4, NULL, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "clone"));
	assert_int_equal(drill_pick(&l, "v", 9, NULL, &e), -ENOENT);
	assert_int_equal(drill_pick(&l, "v", 0, "nope", &e), -ENOENT);
	snap_list_free(&l);
}

static void pick_none(void **state)
{
	struct snap_list l = { 0 };
	struct ferr e;

	(void)state;
	assert_int_equal(drill_pick(&l, "v", 0, NULL, &e), -ENOENT);
	add(&l, 4, 400, FERRY_STATE_LIVE, 3, NULL);
	assert_int_equal(drill_pick(&l, "v", 0, NULL, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "no live snapshot"));
	snap_list_free(&l);
}

static void trigger_rules(void **state)
{
	(void)state;
	assert_true(drill_tag_triggers("drill=requested", "drill"));
	assert_true(drill_tag_triggers("drill=1", "drill"));
	assert_true(drill_tag_triggers("drill=Done", "drill")); /* exact */
	assert_false(drill_tag_triggers("drill=done", "drill"));
	assert_false(drill_tag_triggers("drill=", "drill"));
	assert_false(drill_tag_triggers("drill.result=pass", "drill"));
	assert_false(drill_tag_triggers("drill.at=2026", "drill"));
	assert_false(drill_tag_triggers("drilling=requested", "drill"));
	assert_false(drill_tag_triggers("dril=requested", "drill"));
	assert_false(drill_tag_triggers("drill", "drill"));
	assert_false(drill_tag_triggers(NULL, "drill"));
	assert_true(drill_tag_triggers("dr.test=go", "dr.test"));
	assert_false(drill_tag_triggers("drill=go", "dr.test"));
}

static void result_tags_never_retrigger(void **state)
{
	char bufs[4][DRILL_TAG_BUF], *kv[4];
	int i;

	(void)state;
	drill_result_tags("drill", false, 0, 7, "space budget", bufs, kv);
	for (i = 0; i < 4; i++) {
		assert_int_equal(tag_parse(kv[i], NULL, NULL), 0);
		assert_false(drill_tag_triggers(kv[i], "drill"));
	}
	assert_false(drill_tag_triggers("drill=" DRILL_TAG_DONE, "drill"));
	assert_string_equal(kv[0], "drill.result=fail");
	assert_string_equal(kv[1], "drill.at=1970-01-01T00:00:00Z");
	assert_string_equal(kv[2], "drill.seconds=7");
	assert_string_equal(kv[3], "drill.reason=space budget");
	drill_result_tags("drill", true, 0, 1, "ignored", bufs, kv);
	assert_string_equal(kv[0], "drill.result=pass");
	assert_string_equal(kv[3], "drill.reason="); /* removes an old one */
}

static void snap_requested(void **state)
{
	struct snap_list l = { 0 };
	struct ferry_snap_info *s;

	(void)state;
	s = add(&l, 1, 1, FERRY_STATE_LIVE, 0, "p");
	assert_false(drill_snap_requested(s, "drill"));
	snprintf(s->tags[1].key, sizeof(s->tags[1].key), "drill");
	snprintf(s->tags[1].value, sizeof(s->tags[1].value), "requested");
	s->ntags = 2;
	assert_true(drill_snap_requested(s, "drill"));
	snprintf(s->tags[1].value, sizeof(s->tags[1].value), "done");
	assert_false(drill_snap_requested(s, "drill"));
	snprintf(s->tags[1].value, sizeof(s->tags[1].value), "requested");
	s->state = FERRY_STATE_INVALID;
	assert_false(drill_snap_requested(s, "drill"));
	snap_list_free(&l);
}

static void set_tag(struct ferry_snap_info *s, const char *k, const char *v)
{
	snprintf(s->tags[s->ntags].key, sizeof(s->tags[0].key), "%s", k);
	snprintf(s->tags[s->ntags].value, sizeof(s->tags[0].value), "%s", v);
	s->ntags++;
}

static void sched_skip(void **state)
{
	/* 2024-05-01T12:00:00Z */
	const uint64_t t = 1714564800ULL * 1000000000ULL;
	struct snap_list l = { 0 };
	struct ferry_snap_info *s;

	(void)state;
	s = add(&l, 1, 1, FERRY_STATE_LIVE, 0, "p");
	/* Never drilled: drill. */
	assert_false(drill_sched_skip(s, "drill", t));
	/* A request alone, or an at without a result: drill. */
	set_tag(s, "drill", "requested");
	set_tag(s, "drill.at", "2024-05-01T12:00:05Z");
	assert_false(drill_sched_skip(s, "drill", t));
	/* Drilled after the last scheduled run: skip. */
	set_tag(s, "drill.result", "fail");
	assert_true(drill_sched_skip(s, "drill", t));
	/* Only under its own key. */
	assert_false(drill_sched_skip(s, "dr", t));
	/* Drilled before the last run, or in the same second: drill. */
	assert_false(drill_sched_skip(s, "drill", t + 5000000000ULL));
	assert_false(drill_sched_skip(s, "drill", t + 5999999999ULL));
	assert_true(drill_sched_skip(s, "drill", t + 4999999999ULL));
	snprintf(s->tags[2].value, sizeof(s->tags[2].value),
		 "2024-05-01T11:59:59Z");
	assert_false(drill_sched_skip(s, "drill", t));
	/* A malformed at is no proof of a drill. */
	snprintf(s->tags[2].value, sizeof(s->tags[2].value), "tomorrow");
	assert_false(drill_sched_skip(s, "drill", t));
	snap_list_free(&l);
}

static void key_check(void **state)
{
	struct ferr e;

	(void)state;
	assert_int_equal(drill_key_check("drill", &e), 0);
	assert_int_equal(drill_key_check("dr.test-1", &e), 0);
	assert_int_equal(drill_key_check("", &e), -EINVAL);
	assert_int_equal(drill_key_check("ferry.x", &e), -EINVAL);
	assert_int_equal(drill_key_check("a b", &e), -EINVAL);
	assert_int_equal(
		drill_key_check(
			"a12345678901234567890123456789012345678901234567890123456789",
			&e),
		-EINVAL);
}

static void budget(void **state)
{
	struct drill_budget b = { .base = 1000, .limit = 500 };
	struct drill_budget none = { .base = 1000, .limit = 0 };

	(void)state;
	assert_false(drill_budget_exceeded(&b, 900)); /* space came back */
	assert_false(drill_budget_exceeded(&b, 1000));
	assert_false(drill_budget_exceeded(&b, 1500)); /* exactly used up */
	assert_true(drill_budget_exceeded(&b, 1501));
	assert_false(drill_budget_exceeded(&none, UINT64_MAX));
}

static void teardown_order(void **state)
{
	struct drill_state all = { true, true, true, true };
	struct drill_state clone_only = { .cloned = true };
	struct drill_state nothing = { 0 };
	enum drill_step s[5];

	(void)state;
	assert_int_equal(drill_teardown_plan(&all, s), 5);
	assert_int_equal(s[0], DRILL_STEP_KILL);
	assert_int_equal(s[1], DRILL_STEP_UNMOUNT);
	assert_int_equal(s[2], DRILL_STEP_RMDIR);
	assert_int_equal(s[3], DRILL_STEP_DELETE_CLONE);
	assert_int_equal(s[4], DRILL_STEP_RECORD);
	assert_int_equal(drill_teardown_plan(&clone_only, s), 2);
	assert_int_equal(s[0], DRILL_STEP_DELETE_CLONE);
	assert_int_equal(s[1], DRILL_STEP_RECORD);
	/* A drill whose clone failed is still recorded. */
	assert_int_equal(drill_teardown_plan(&nothing, s), 1);
	assert_int_equal(s[0], DRILL_STEP_RECORD);
	assert_string_equal(drill_step_name(DRILL_STEP_UNMOUNT), "unmount");
}

static void fs_probe(void **state)
{
	unsigned char buf[4096] = { 0 };

	(void)state;
	assert_null(drill_fs_type(buf, sizeof(buf)));
	buf[1080] = 0x53;
	buf[1081] = 0xef;
	assert_string_equal(drill_fs_type(buf, sizeof(buf)), "ext4");
	assert_null(drill_fs_type(buf, 1000)); /* too short */
	memcpy(buf, "XFSB", 4);
	assert_string_equal(drill_fs_type(buf, sizeof(buf)), "xfs");
}

static void tag_value(void **state)
{
	char out[16];

	(void)state;
	drill_tag_value("a\tb\nc\x01 ", out, sizeof(out));
	assert_string_equal(out, "a b c");
	drill_tag_value("0123456789abcdefghij", out, sizeof(out));
	assert_string_equal(out, "0123456789abcde");
}

static int collect(const struct drill_record *r, void *arg)
{
	struct drill_record *out = arg;
	int i = 0;

	while (out[i].id)
		i++;
	out[i] = *r;
	return 0;
}

static void catalog_drills(void **state)
{
	static struct drill_record r, got[4];
	struct failover_record f, g;
	struct drill_db *db;
	struct catalog *c;
	char dir[64], cmd[128];
	struct ferr e;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ferry-drill.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(drill_db_open(dir, &db, &e), 0);
	memset(&r, 0, sizeof(r));
	snprintf(r.volume, sizeof(r.volume), "v1");
	r.snap_id = 3;
	snprintf(r.point, sizeof(r.point), "p-3");
	r.started_ns = 5000000000ULL;
	r.seconds = 2.5;
	r.pass = true;
	assert_int_equal(drill_db_add(db, &r, &e), 0);
	assert_int_equal(r.id, 1);
	r.pass = false;
	snprintf(r.reason, sizeof(r.reason), "space budget");
	memset(r.output, 'x', DRILL_OUTPUT_MAX);
	assert_int_equal(drill_db_add(db, &r, &e), 0);
	snprintf(r.volume, sizeof(r.volume), "other");
	assert_int_equal(drill_db_add(db, &r, &e), 0);
	memset(got, 0, sizeof(got));
	assert_int_equal(drill_db_list(db, "v1", collect, got, &e), 0);
	assert_int_equal(got[0].id, 1);
	assert_true(got[0].pass);
	assert_int_equal(got[1].id, 2);
	assert_false(got[1].pass);
	assert_string_equal(got[1].reason, "space budget");
	assert_int_equal(strlen(got[1].output), DRILL_OUTPUT_MAX);
	assert_int_equal(got[2].id, 0); /* "other" not listed */
	assert_int_equal(failover_db_last(db, "v1", &g, &e), 0);
	memset(&f, 0, sizeof(f));
	snprintf(f.volume, sizeof(f.volume), "v1");
	snprintf(f.kind, sizeof(f.kind), "failover");
	snprintf(f.point, sizeof(f.point), "p-3");
	f.snap_id = 3;
	f.new_snap_id = 9;
	assert_int_equal(failover_db_add(db, &f, &e), 0);
	snprintf(f.kind, sizeof(f.kind), "failback");
	assert_int_equal(failover_db_add(db, &f, &e), 0);
	assert_int_equal(failover_db_last(db, "v1", &g, &e), 1);
	assert_string_equal(g.kind, "failover");
	assert_int_equal(g.new_snap_id, 9);
	drill_db_close(db);
	/* The same file stays a valid catalog for catalog.c. */
	assert_int_equal(catalog_open(dir, &c, &e), 0);
	catalog_close(c);
	assert_int_equal(drill_db_open(dir, &db, &e), 0);
	drill_db_close(db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pick_default_newest_live_not_clone),
		cmocka_unit_test(pick_none),
		cmocka_unit_test(trigger_rules),
		cmocka_unit_test(result_tags_never_retrigger),
		cmocka_unit_test(snap_requested),
		cmocka_unit_test(sched_skip),
		cmocka_unit_test(key_check),
		cmocka_unit_test(budget),
		cmocka_unit_test(teardown_order),
		cmocka_unit_test(fs_probe),
		cmocka_unit_test(tag_value),
		cmocka_unit_test(catalog_drills),
	};

	return cmocka_run_group_tests_name("drill", tests, NULL, NULL);
}
