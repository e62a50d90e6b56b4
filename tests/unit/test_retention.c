// SPDX-License-Identifier: GPL-2.0
/*
 * Durations and retention: table-driven. Each case is a set of points
 * (age in seconds before "now", tags, flags), the rules, and the
 * expected keep/delete and reason per point.
 */
#include <errno.h>
#include <stdio.h>

#include "duration.h"
#include "prune.h"
#include "retention.h"
#include "unit.h"

/* 2026-12-07T02:00:00Z */
#define NOW_S 1796608800ULL
#define NS 1000000000ULL
#define H 3600
#define D 86400

static void durations(void **state)
{
	static const struct {
		const char *in;
		int err;
		uint64_t s;
	} cases[] = {
		{ "0", 0, 0 },
		{ "0s", 0, 0 },
		{ "30s", 0, 30 },
		{ "5m", 0, 300 },
		{ "1h", 0, 3600 },
		{ "1d", 0, 86400 },
		{ "2w", 0, 14 * 86400 },
		{ "1h30m", 0, 5400 },
		{ "1d2h3m4s", 0, 93784 },
		{ "", -EINVAL, 0 },
		{ "5", -EINVAL, 0 },
		{ "m", -EINVAL, 0 },
		{ "5x", -EINVAL, 0 },
		{ "-5s", -EINVAL, 0 },
		{ "1.5h", -EINVAL, 0 },
		{ "30m1h", -EINVAL, 0 },
		{ "1h1h", -EINVAL, 0 },
		{ "5 m", -EINVAL, 0 },
		{ "99999999999d", -EINVAL, 0 },
		{ "5300w", -EINVAL, 0 },
	};
	struct ferr e;
	uint64_t s;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		s = 12345;
		e.msg[0] = '\0';
		int err = parse_duration(cases[i].in, &s, &e);

		if (err != cases[i].err)
			fail_msg("'%s': got %d, want %d (%s)", cases[i].in, err,
				 cases[i].err, e.msg);
		if (!err)
			assert_int_equal(s, cases[i].s);
		else
			assert_true(e.msg[0]);
	}
}

static void duration_format(void **state)
{
	static const struct {
		uint64_t s;
		const char *out;
	} cases[] = {
		{ 0, "0s" },	  { 6, "6s" },		 { 60, "1m" },
		{ 90, "1m30s" },  { 3600, "1h" },	 { 86400, "1d" },
		{ 604800, "1w" }, { 93784, "1d2h3m4s" },
	};
	char buf[64];
	uint64_t back;
	struct ferr e;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		format_duration(cases[i].s, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].out);
		assert_int_equal(parse_duration(buf, &back, &e), 0);
		assert_int_equal(back, cases[i].s);
	}
}

/* ---- the retention table ---- */

#define PTS_MAX 16

struct tpoint {
	uint64_t age_s;
	const char *tag; /* a tag key, or NULL */
	bool invalid;
	bool repl;
	uint32_t clone;
	/* expected */
	bool keep;
	const char *reason;
};

struct tcase {
	const char *name;
	struct retention r;
	struct tpoint p[PTS_MAX];
	size_t n;
};

#define RULE(w, e)                              \
	{                                       \
		.within_s = (w), .every_s = (e) \
	}

static const struct tcase cases[] = {
	{
		.name = "empty rules delete everything",
		.p = { { 10, .keep = false, .reason = "outside every rule" } },
		.n = 1,
	},
	{
		.name = "min_count keeps the newest",
		.r = { .min_count = 2 },
		.p = {
			{ 30, .keep = false, .reason = "outside every rule" },
			{ 10, .keep = true, .reason = "newest 2 (min_count)" },
			{ 20, .keep = true, .reason = "newest 2 (min_count)" },
		},
		.n = 3,
	},
	{
		.name = "every 0 keeps all within the window",
		.r = { .keep = { RULE(H, 0) }, .nkeep = 1 },
		.p = {
			{ 0, .keep = true, .reason = "within 1h" },
			{ 1800, .keep = true, .reason = "within 1h" },
			{ 3599, .keep = true, .reason = "within 1h" },
			{ 3600, .keep = false, .reason = "outside every rule" },
			{ 7200, .keep = false, .reason = "outside every rule" },
		},
		.n = 5,
	},
	{
		/* NOW is 02:00:00; ages 60 and 1800 are in the 01 hour. */
		.name = "hourly buckets keep the newest in each",
		.r = { .keep = { RULE(D, H) }, .nkeep = 1 },
		.p = {
			{ 60, .keep = true, .reason = "hourly bucket 2026-12-07T01" },
			{ 1800, .keep = false, .reason = "outside every rule" },
			{ 3601, .keep = true, .reason = "hourly bucket 2026-12-07T00" },
			{ 5000, .keep = false, .reason = "outside every rule" },
			{ 3 * H + 1, .keep = true, .reason = "hourly bucket 2026-12-06T22" },
			{ D + 1, .keep = false, .reason = "outside every rule" },
		},
		.n = 6,
	},
	{
		.name = "the default grid",
		.r = { .keep = { RULE(H, 0), RULE(D, H), RULE(30 * D, D) },
		       .nkeep = 3, .min_count = 3 },
		.p = {
			{ 5, .keep = true, .reason = "newest 3 (min_count)" },
			{ 6, .keep = true, .reason = "newest 3 (min_count)" },
			{ 7, .keep = true, .reason = "newest 3 (min_count)" },
			{ 600, .keep = true, .reason = "within 1h" },
			{ 2 * H + 60, .keep = true, .reason = "hourly bucket 2026-12-06T23" },
			{ 2 * H + 120, .keep = false, .reason = "outside every rule" },
			{ 3 * D, .keep = true, .reason = "daily bucket 2026-12-04" },
			{ 3 * D + 3 * H, .keep = true, .reason = "daily bucket 2026-12-03" },
			{ 3 * D + 3 * H + 60, .keep = false, .reason = "outside every rule" },
			{ 40 * D, .keep = false, .reason = "outside every rule" },
		},
		.n = 10,
	},
	{
		.name = "pin tags win over everything",
		.r = { .keep = { RULE(60, 0) }, .nkeep = 1,
		       .pin_tags = { "keep", "legal" }, .npins = 2 },
		.p = {
			{ 10, .keep = true, .reason = "within 1m" },
			{ 100 * D, "legal", .keep = true, .reason = "pinned by tag legal" },
			{ 5 * D, "keep", .keep = true, .reason = "pinned by tag keep" },
			{ 5 * D, "other", .keep = false, .reason = "outside every rule" },
			{ 1, "keep", .invalid = true, .keep = true, .reason = "pinned by tag keep" },
		},
		.n = 5,
	},
	{
		.name = "replication base and clones are never deleted",
		.r = { .min_count = 1 },
		.p = {
			{ 1, .keep = true, .reason = "newest 1 (min_count)" },
			{ 50, .repl = true, .keep = true, .reason = "needed by replication" },
			{ 60, .clone = 7, .keep = true, .reason = "has clone 7" },
			{ 70, .keep = false, .reason = "outside every rule" },
		},
		.n = 4,
	},
	{
		.name = "invalid snapshots count for nothing",
		.r = { .min_count = 2, .keep = { RULE(H, 0) }, .nkeep = 1 },
		.p = {
			{ 1, .invalid = true, .keep = false, .reason = "invalid (its data is gone)" },
			{ 2 * H, .keep = true, .reason = "newest 2 (min_count)" },
			{ 3 * H, .keep = true, .reason = "newest 2 (min_count)" },
			{ 4 * H, .keep = false, .reason = "outside every rule" },
		},
		.n = 4,
	},
	{
		.name = "a point kept by two rules gives the first reason",
		.r = { .keep = { RULE(H, 0), RULE(D, H) }, .nkeep = 2 },
		.p = {
			{ 10, .keep = true, .reason = "within 1h" },
			{ 2 * H + 10, .keep = true, .reason = "hourly bucket 2026-12-06T23" },
		},
		.n = 2,
	},
	{
		/*
		 * A bucket's newest point may be held by an earlier rule;
		 * an older point of the same bucket is still not kept.
		 */
		.name = "bucket already held by another rule's point",
		.r = { .keep = { RULE(600, 0), RULE(D, H) }, .nkeep = 2 },
		.p = {
			{ 300, .keep = true, .reason = "within 10m" },
			{ 900, .keep = false, .reason = "outside every rule" },
		},
		.n = 2,
	},
	{
		.name = "odd buckets: 6s grid",
		.r = { .keep = { RULE(20, 6) }, .nkeep = 1, .min_count = 1 },
		.p = {
			{ 0, .keep = true, .reason = "newest 1 (min_count)" },
			{ 2, .keep = true, .reason = "6s bucket 2026-12-07T01:59:54Z" },
			{ 4, .keep = false, .reason = "outside every rule" },
			{ 8, .keep = true, .reason = "6s bucket 2026-12-07T01:59:48Z" },
			{ 10, .keep = false, .reason = "outside every rule" },
			{ 14, .keep = true, .reason = "6s bucket 2026-12-07T01:59:42Z" },
			{ 20, .keep = false, .reason = "outside every rule" },
		},
		.n = 7,
	},
	{
		.name = "a point from the future is in every window",
		.r = { .keep = { RULE(60, 0) }, .nkeep = 1 },
		.p = { { 0, .keep = true, .reason = "within 1m" } },
		.n = 1,
	},
};

static void run_case(const struct tcase *c)
{
	struct retention_point p[PTS_MAX];
	struct ferry_tag tags[PTS_MAX];
	size_t i;
	int del = 0, got;

	memset(p, 0, sizeof(p));
	for (i = 0; i < c->n; i++) {
		p[i].id = (uint32_t)(i + 1);
		snprintf(p[i].point, sizeof(p[i].point), "p%zu", i + 1);
		p[i].created_ns = (NOW_S - c->p[i].age_s) * NS + 123;
		if (c->p[i].tag) {
			snprintf(tags[i].key, sizeof(tags[i].key), "%s",
				 c->p[i].tag);
			snprintf(tags[i].value, sizeof(tags[i].value), "yes");
			p[i].tags = &tags[i];
			p[i].ntags = 1;
		}
		p[i].invalid = c->p[i].invalid;
		p[i].needed_by_replication = c->p[i].repl;
		p[i].clone = c->p[i].clone;
		if (!c->p[i].keep)
			del++;
	}
	got = retention_apply(&c->r, p, c->n, NOW_S * NS + 500);
	for (i = 0; i < c->n; i++)
		if (p[i].keep != c->p[i].keep ||
		    strcmp(p[i].reason, c->p[i].reason))
			fail_msg(
				"%s: point %zu (age %llus): got %s '%s', want %s '%s'",
				c->name, i + 1,
				(unsigned long long)c->p[i].age_s,
				p[i].keep ? "keep" : "delete", p[i].reason,
				c->p[i].keep ? "keep" : "delete",
				c->p[i].reason);
	assert_int_equal(got, del);
}

static void retention_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
}

/* The result does not depend on the order of the input. */
static void retention_order(void **state)
{
	struct retention r = { .keep = { RULE(D, H) }, .nkeep = 1 };
	struct retention_point a[3], b[3];
	size_t i;

	(void)state;
	memset(a, 0, sizeof(a));
	for (i = 0; i < 3; i++) {
		a[i].id = (uint32_t)(i + 1);
		/* Three points in one hour bucket; equal times tie on id. */
		a[i].created_ns = (NOW_S - 100) * NS;
	}
	b[0] = a[2];
	b[1] = a[0];
	b[2] = a[1];
	assert_int_equal(retention_apply(&r, a, 3, NOW_S * NS), 2);
	assert_int_equal(retention_apply(&r, b, 3, NOW_S * NS), 2);
	assert_true(a[2].keep && !a[0].keep && !a[1].keep);
	assert_true(b[0].keep && !b[1].keep && !b[2].keep);
	assert_int_equal(retention_apply(&r, a, 0, NOW_S * NS), 0);
}

static void bucket_names(void **state)
{
	char buf[RETENTION_REASON_MAX];

	(void)state;
	retention_bucket_name(60, NOW_S, buf, sizeof(buf));
	assert_string_equal(buf, "minutely bucket 2026-12-07T02:00");
	retention_bucket_name(86400, NOW_S - 7200, buf, sizeof(buf));
	assert_string_equal(buf, "daily bucket 2026-12-07");
	retention_bucket_name(604800, 0, buf, sizeof(buf));
	assert_string_equal(buf, "weekly bucket 1970-01-01");
	retention_bucket_name(300, NOW_S, buf, sizeof(buf));
	assert_string_equal(buf, "5m bucket 2026-12-07T02:00:00Z");
}

static struct ferry_snap_info *snap(struct snap_list *l, uint32_t id,
				    uint64_t age_s, const char *point,
				    uint32_t parent)
{
	struct ferry_snap_info *s = snap_list_add(l);

	s->id = id;
	s->created_ns = (NOW_S - age_s) * NS;
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

/*
 * prune decisions from the kernel's list: clones are no points and keep
 * their parent, the replication base is kept, invalid ones go.
 */
static void prune_decisions(void **state)
{
	struct retention r = { .keep = { RULE(60, 0) },
			       .nkeep = 1,
			       .min_count = 1 };
	struct snap_list l = { 0 };
	struct retention_point *p;
	struct repl_state base;
	char line[256];
	size_t n;

	(void)state;
	memset(&base, 0, sizeof(base));
	strcpy(base.point, "pt-2");
	snap(&l, 1, 5000, "pt-1", 0);
	snap(&l, 2, 4000, "pt-2", 0); /* the replication base */
	snap(&l, 3, 3000, "pt-3", 0); /* has clone 7 */
	snap(&l, 4, 2000, NULL, 0)->state = FERRY_STATE_INVALID;
	snap(&l, 5, 30, "pt-5", 0);
	snap(&l, 6, 10, "pt-6", 0);
	snap(&l, 7, 5, NULL, 3); /* a clone of 3 */
	assert_int_equal(prune_plan(&l, &base, &p, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(retention_apply(&r, p, n, NOW_S * NS), 2);
	prune_line(&p[0], line, sizeof(line));
	assert_string_equal(line, "delete 1 pt-1 outside every rule");
	prune_line(&p[1], line, sizeof(line));
	assert_string_equal(line, "keep 2 pt-2 needed by replication");
	prune_line(&p[2], line, sizeof(line));
	assert_string_equal(line, "keep 3 pt-3 has clone 7");
	prune_line(&p[3], line, sizeof(line));
	assert_string_equal(line, "delete 4 4 invalid (its data is gone)");
	prune_line(&p[4], line, sizeof(line));
	assert_string_equal(line, "keep 5 pt-5 within 1m");
	prune_line(&p[5], line, sizeof(line));
	assert_string_equal(line, "keep 6 pt-6 newest 1 (min_count)");
	free(p);
	/* Without a base, point 2 is just old. */
	assert_int_equal(prune_plan(&l, NULL, &p, &n), 0);
	assert_int_equal(retention_apply(&r, p, n, NOW_S * NS), 3);
	assert_false(p[1].keep);
	free(p);
	snap_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations),
		cmocka_unit_test(duration_format),
		cmocka_unit_test(retention_table),
		cmocka_unit_test(retention_order),
		cmocka_unit_test(bucket_names),
		cmocka_unit_test(prune_decisions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
