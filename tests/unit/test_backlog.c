// SPDX-License-Identifier: GPL-2.0
/*
 * The replication backlog: the bound's decisions (queue length, CoW
 * store use, never the newest, never the base of the next delta), the
 * merge target, and the queue file read back as written.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "backlog.h"
#include "unit.h"

/* A queue of @n points named "p1".."pN", oldest first. */
static void queue_of(struct backlog *b, size_t n)
{
	struct backlog_point p;
	size_t i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < n; i++) {
		memset(&p, 0, sizeof(p));
		snprintf(p.point, sizeof(p.point), "p%zu", i + 1);
		p.snap_id = (uint32_t)(10 + i);
		p.created = 1000 + i;
		assert_int_equal(backlog_push(b, &p), 0);
	}
}

/*
 * Each case: a queue of @queued points, the base of the next delta,
 * the limits and the CoW store's use; the decision wanted (and, for a
 * drop, the point chosen).
 */
static const struct {
	size_t queued;
	const char *base;
	unsigned int max_queued, max_cow, cow;
	enum backlog_why why;
	const char *dropped;
} cases[] = {
	/* Within both bounds: nothing goes. */
	{ 3, "", 8, 80, 10, BACKLOG_KEEP, NULL },
	{ 8, "", 8, 80, 79, BACKLOG_KEEP, NULL },
	/* One too many: the oldest goes. */
	{ 9, "", 8, 80, 10, BACKLOG_DROP_QUEUE_FULL, "p1" },
	{ 2, "", 1, 80, 10, BACKLOG_DROP_QUEUE_FULL, "p1" },
	/* The CoW store at or above its bound: the oldest goes. */
	{ 3, "", 8, 80, 80, BACKLOG_DROP_COW_FULL, "p1" },
	{ 3, "", 8, 50, 99, BACKLOG_DROP_COW_FULL, "p1" },
	/* Both: reported as the queue's bound. */
	{ 9, "", 8, 80, 95, BACKLOG_DROP_QUEUE_FULL, "p1" },
	/* Never the newest: one queued point stays, whatever the use. */
	{ 1, "", 1, 1, 100, BACKLOG_KEEP, NULL },
	{ 0, "", 1, 1, 100, BACKLOG_KEEP, NULL },
	/* Never the base: the next oldest goes instead. */
	{ 9, "p1", 8, 80, 10, BACKLOG_DROP_QUEUE_FULL, "p2" },
	{ 3, "p1", 8, 80, 90, BACKLOG_DROP_COW_FULL, "p2" },
	/* The base and the newest only: nothing may go. */
	{ 2, "p1", 1, 10, 100, BACKLOG_KEEP, NULL },
	/* A base that is not queued changes nothing. */
	{ 9, "other", 8, 80, 10, BACKLOG_DROP_QUEUE_FULL, "p1" },
};

static void decisions(void **state)
{
	struct backlog_limits l;
	enum backlog_why why;
	struct backlog b;
	size_t i, at;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		queue_of(&b, cases[i].queued);
		l.max_queued = cases[i].max_queued;
		l.max_cow_percent = cases[i].max_cow;
		at = 999;
		why = backlog_next_drop(&b, cases[i].base, &l, cases[i].cow,
					&at);
		if (why != cases[i].why)
			fail_msg("case %zu: decision %s, want %s", i,
				 backlog_why_name(why),
				 backlog_why_name(cases[i].why));
		if (why == BACKLOG_KEEP)
			continue;
		assert_true(at < b.n);
		if (strcmp(b.q[at].point, cases[i].dropped))
			fail_msg("case %zu: drops %s, want %s", i,
				 b.q[at].point, cases[i].dropped);
	}
}

/* Applying the bound until it holds leaves the newest max_queued points. */
static void bound_applied(void **state)
{
	struct backlog_limits l = { .max_queued = 3, .max_cow_percent = 80 };
	struct backlog b;
	size_t at;

	(void)state;
	queue_of(&b, 7);
	while (backlog_next_drop(&b, "p5", &l, 0, &at) != BACKLOG_KEEP) {
		assert_string_not_equal(b.q[at].point, "p5");
		backlog_remove(&b, at);
	}
	assert_int_equal(b.n, 3);
	/* The base survives even though it is older than the rest. */
	assert_string_equal(b.q[0].point, "p5");
	assert_string_equal(b.q[1].point, "p6");
	assert_string_equal(b.q[2].point, "p7");
}

/* Merge sends the newest queued point. */
static void merge_target(void **state)
{
	struct backlog b;

	(void)state;
	queue_of(&b, 0);
	assert_null(backlog_target(&b));
	queue_of(&b, 4);
	assert_string_equal(backlog_target(&b)->point, "p4");
	assert_int_equal(backlog_target(&b)->snap_id, 13);
	backlog_remove(&b, 3);
	assert_string_equal(backlog_target(&b)->point, "p3");
	queue_of(&b, BACKLOG_MAX);
	{
		struct backlog_point extra = { .point = "x", .snap_id = 1 };

		assert_int_equal(backlog_push(&b, &extra), -ENOSPC);
	}
}

static void file_round_trip(void **state)
{
	char path[] = "/tmp/ferry-backlog-XXXXXX";
	struct backlog b, got;
	char buf[4096];
	struct ferr e;
	int fd;

	(void)state;
	queue_of(&b, 3);
	b.merged = 5;
	b.dropped = 2;
	snprintf(b.last_action, sizeof(b.last_action), "dropped p0 (%s)",
		 backlog_why_name(BACKLOG_DROP_COW_FULL));
	assert_true(backlog_format(&b, buf, sizeof(buf)) > 0);
	assert_int_equal(backlog_parse(buf, &got, &e), 0);
	assert_memory_equal(&b, &got, sizeof(b));
	assert_int_equal(backlog_format(&b, buf, 40), -ENOSPC);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	/* No file: an empty queue. */
	assert_int_equal(backlog_load(path, &got, &e), 0);
	assert_int_equal(got.n, 0);
	assert_int_equal(backlog_save(path, &b, &e), 0);
	assert_int_equal(backlog_load(path, &got, &e), 0);
	assert_memory_equal(&b, &got, sizeof(b));
	unlink(path);
}

static void parse_rejections(void **state)
{
	struct backlog got;
	struct ferr e;

	(void)state;
	assert_int_equal(backlog_parse("version=2\n", &got, &e), -EINVAL);
	assert_int_equal(backlog_parse("queued=p1 0 5\n", &got, &e), -EINVAL);
	assert_int_equal(backlog_parse("queued=p1 5\n", &got, &e), -EINVAL);
	assert_int_equal(backlog_parse("queued=p1 x 5\n", &got, &e), -EINVAL);
	assert_int_equal(backlog_parse("merged=-1\n", &got, &e), -EINVAL);
	assert_int_equal(backlog_parse("garbage\n", &got, &e), -EINVAL);
	assert_string_equal(e.msg, "line 1 has no '='");
	/* A point id longer than the wire allows. */
	assert_int_equal(
		backlog_parse("queued=0123456789012345678901234567890123456789"
			      "012345678901234567890123 7 5\n",
			      &got, &e),
		-EINVAL);
	/* Unknown keys (a newer agent's) are ignored. */
	assert_int_equal(backlog_parse("version=1\nfuture=1\nqueued=p1 7 5\n",
				       &got, &e),
			 0);
	assert_int_equal(got.n, 1);
	assert_int_equal(got.q[0].snap_id, 7);
	assert_int_equal(got.q[0].created, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decisions),
		cmocka_unit_test(bound_applied),
		cmocka_unit_test(merge_target),
		cmocka_unit_test(file_round_trip),
		cmocka_unit_test(parse_rejections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
