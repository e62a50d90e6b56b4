// SPDX-License-Identifier: GPL-2.0
/*
 * Argument parsing of snapshot, snapshots, delete, tag, changed, clone
 * and events: what is accepted and the message of what is not.
 */
#include <errno.h>
#include <stdio.h>

#include "cli.h"
#include "cmd_snap.h"
#include "snap.h"
#include "unit.h"

struct fixture {
	struct ferry_ctx ctx;
	struct ferr e;
	struct argv_buf *a; /* freed by teardown: results point into it */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	ctx_init(&f->ctx);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->a)
		argv_free(f->a);
	free(f);
	return 0;
}

/* Keeps @a alive until teardown, as results point into it. */
static struct argv_buf *keep(struct fixture *f, struct argv_buf *a)
{
	if (f->a)
		argv_free(f->a);
	f->a = a;
	return a;
}

#define assert_msg(f, text) assert_non_null(strstr((f)->e.msg, (text)))

static int snapshot(struct fixture *f, struct argv_buf *a,
		    struct snapshot_args *out)
{
	keep(f, a);
	return snapshot_parse(&f->ctx, a->argc, a->argv, out, &f->e);
}

static void snapshot_ok(void **state)
{
	struct fixture *f = *state;
	struct snapshot_args a;

	assert_int_equal(snapshot(f,
				  ARGV("snapshot", "db", "--tag", "a=1", "logs",
				       "--label", "application", "--tag=b=",
				       "--deadline", "2500", "--json"),
				  &a),
			 0);
	assert_int_equal(a.nnames, 2);
	assert_string_equal(a.names[0], "db");
	assert_string_equal(a.names[1], "logs");
	assert_int_equal(a.ntags, 2);
	assert_string_equal(a.tags[0], "a=1");
	assert_string_equal(a.tags[1], "b=");
	assert_string_equal(a.label, "application");
	assert_int_equal(a.deadline_ms, 2500);
	assert_true(f->ctx.json);
}

static void snapshot_defaults(void **state)
{
	struct fixture *f = *state;
	struct snapshot_args a;

	assert_int_equal(snapshot(f, ARGV("snapshot", "db"), &a), 0);
	assert_int_equal(a.nnames, 1);
	assert_int_equal(a.ntags, 0);
	assert_null(a.label);
	assert_int_equal(a.deadline_ms, 0);
}

static void snapshot_rejects(void **state)
{
	struct fixture *f = *state;
	struct snapshot_args a;

	assert_int_equal(snapshot(f, ARGV("snapshot"), &a), -EINVAL);
	assert_msg(f, "missing volume NAME");
	assert_int_equal(snapshot(f, ARGV("snapshot", "db", "db"), &a),
			 -EINVAL);
	assert_msg(f, "named twice");
	assert_int_equal(snapshot(f, ARGV("snapshot", "d/b"), &a), -EINVAL);
	assert_msg(f, "invalid volume name");
	assert_int_equal(snapshot(f, ARGV("snapshot", "db", "--label", "fs"),
				  &a),
			 -EINVAL);
	assert_msg(f, "application, filesystem or crash");
	assert_int_equal(snapshot(f, ARGV("snapshot", "db", "--tag", "novalue"),
				  &a),
			 -EINVAL);
	assert_msg(f, "KEY=VALUE");
	assert_int_equal(snapshot(f, ARGV("snapshot", "db", "--deadline", "0"),
				  &a),
			 -EINVAL);
	assert_msg(f, "--deadline");
	assert_int_equal(snapshot(f, ARGV("snapshot", "db", "--deadline", "1s"),
				  &a),
			 -EINVAL);
	assert_int_equal(snapshot(f, ARGV("snapshot", "db", "--tag"), &a),
			 -EINVAL);
	assert_msg(f, "needs an argument");
	assert_int_equal(snapshot(f, ARGV("snapshot", "db", "--frob"), &a),
			 -EINVAL);
	assert_msg(f, "unknown option --frob");
	assert_int_equal(snapshot(f, ARGV("snapshot", "--help"), &a), CLI_HELP);
}

/* A "snapshot db --tag=k0=v ..." with @ntags tags. */
static struct argv_buf *many_tags(int ntags)
{
	struct argv_buf *v = calloc(1, sizeof(*v));
	char buf[32];
	int i;

	v->argv[v->argc++] = strdup("snapshot");
	v->argv[v->argc++] = strdup("db");
	for (i = 0; i < ntags; i++) {
		snprintf(buf, sizeof(buf), "--tag=k%d=v", i);
		v->argv[v->argc++] = strdup(buf);
	}
	return v;
}

static void snapshot_too_many(void **state)
{
	struct fixture *f = *state;
	struct snapshot_args a;
	struct argv_buf *v;
	char buf[16];
	int i;

	assert_int_equal(snapshot(f, many_tags(FERRY_TAGS_MAX), &a), 0);
	assert_int_equal(a.ntags, FERRY_TAGS_MAX);
	assert_int_equal(snapshot(f, many_tags(FERRY_TAGS_MAX + 1), &a),
			 -EINVAL);
	assert_msg(f, "more than 32 tags");

	v = calloc(1, sizeof(*v));
	v->argv[v->argc++] = strdup("snapshot");
	for (i = 0; i < SNAPSHOT_NAMES_MAX + 1; i++) {
		snprintf(buf, sizeof(buf), "v%d", i);
		v->argv[v->argc++] = strdup(buf);
	}
	assert_int_equal(snapshot(f, v, &a), -EINVAL);
	assert_msg(f, "more than 16 volumes");
}

static void snapshots_args(void **state)
{
	struct fixture *f = *state;
	struct snapshots_args a;

	keep(f, ARGV("snapshots", "--json", "db"));
	assert_int_equal(
		snapshots_parse(&f->ctx, f->a->argc, f->a->argv, &a, &f->e), 0);
	assert_string_equal(a.name, "db");
	assert_true(f->ctx.json);
	keep(f, ARGV("snapshots"));
	assert_int_equal(snapshots_parse(&f->ctx, f->a->argc, f->a->argv, &a,
					 &f->e),
			 -EINVAL);
	assert_msg(f, "missing volume NAME");
	keep(f, ARGV("snapshots", "db", "extra"));
	assert_int_equal(snapshots_parse(&f->ctx, f->a->argc, f->a->argv, &a,
					 &f->e),
			 -EINVAL);
	assert_msg(f, "unexpected argument 'extra'");
}

static int ref(struct fixture *f, bool clone, struct argv_buf *a,
	       struct snap_ref_args *out)
{
	keep(f, a);
	if (clone)
		return clone_parse(&f->ctx, a->argc, a->argv, out, &f->e);
	return delete_parse(&f->ctx, a->argc, a->argv, out, &f->e);
}

static void delete_and_clone_args(void **state)
{
	struct fixture *f = *state;
	struct snap_ref_args a;
	int clone;

	for (clone = 0; clone < 2; clone++) {
		assert_int_equal(ref(f, clone, ARGV("x", "db", "17"), &a), 0);
		assert_string_equal(a.name, "db");
		assert_int_equal(a.id, 17);
		assert_int_equal(
			ref(f, clone, ARGV("x", "db", "4294967295"), &a), 0);
		assert_int_equal(a.id, 4294967295U);
		assert_int_equal(ref(f, clone, ARGV("x", "db"), &a), -EINVAL);
		assert_msg(f, "missing SNAPID");
		assert_int_equal(ref(f, clone, ARGV("x"), &a), -EINVAL);
		assert_msg(f, "missing volume NAME");
		assert_int_equal(ref(f, clone, ARGV("x", "db", "0"), &a),
				 -EINVAL);
		assert_msg(f, "SNAPID must be in 1..");
		assert_int_equal(ref(f, clone, ARGV("x", "db", "-1"), &a),
				 -EINVAL);
		assert_int_equal(ref(f, clone, ARGV("x", "db", "1x"), &a),
				 -EINVAL);
		assert_msg(f, "SNAPID must be a positive number");
		assert_int_equal(ref(f, clone, ARGV("x", "db", "4294967296"),
				     &a),
				 -EINVAL);
		assert_int_equal(ref(f, clone, ARGV("x", "db", " 1"), &a),
				 -EINVAL);
		assert_int_equal(ref(f, clone, ARGV("x", "db", "1", "2"), &a),
				 -EINVAL);
		assert_msg(f, "unexpected argument '2'");
	}
}

static int tag(struct fixture *f, struct argv_buf *a, struct tag_args *out)
{
	keep(f, a);
	return tag_parse_args(&f->ctx, a->argc, a->argv, out, &f->e);
}

static void tag_args(void **state)
{
	struct fixture *f = *state;
	struct tag_args a;

	assert_int_equal(tag(f, ARGV("tag", "db", "3"), &a), 0);
	assert_int_equal(a.n, 0);
	assert_int_equal(a.id, 3);
	assert_int_equal(
		tag(f, ARGV("tag", "db", "3", "a=1", "--json", "b="), &a), 0);
	assert_int_equal(a.n, 2);
	assert_string_equal(a.kv[0], "a=1");
	assert_string_equal(a.kv[1], "b=");
	assert_true(f->ctx.json);
	assert_int_equal(tag(f, ARGV("tag", "db", "3", "=1"), &a), -EINVAL);
	assert_msg(f, "empty key");
	assert_int_equal(tag(f, ARGV("tag", "db", "3", "a"), &a), -EINVAL);
	assert_msg(f, "KEY=VALUE");
	assert_int_equal(tag(f, ARGV("tag", "db"), &a), -EINVAL);
	assert_msg(f, "missing SNAPID");
}

static int changed(struct fixture *f, struct argv_buf *a,
		   struct changed_args *out)
{
	keep(f, a);
	return changed_parse(&f->ctx, a->argc, a->argv, out, &f->e);
}

static void changed_args(void **state)
{
	struct fixture *f = *state;
	struct changed_args a;

	assert_int_equal(changed(f, ARGV("changed", "db", "--since", "2"), &a),
			 0);
	assert_true(a.has_since_id);
	assert_int_equal(a.since_id, 2);
	assert_false(a.has_since_epoch);
	assert_int_equal(a.until_id, 0);
	assert_int_equal(
		changed(f,
			ARGV("changed", "--until", "5", "db", "--since", "2"),
			&a),
		0);
	assert_int_equal(a.until_id, 5);
	assert_int_equal(
		changed(f, ARGV("changed", "db", "--since-epoch", "0"), &a), 0);
	assert_true(a.has_since_epoch);
	assert_int_equal(a.since_epoch, 0);
	assert_int_equal(changed(f, ARGV("changed", "db"), &a), -EINVAL);
	assert_msg(f, "--since SNAPID or --since-epoch N is required");
	assert_int_equal(changed(f,
				 ARGV("changed", "db", "--since", "1",
				      "--since-epoch", "1"),
				 &a),
			 -EINVAL);
	assert_msg(f, "exclude each other");
	assert_int_equal(
		changed(f,
			ARGV("changed", "db", "--since", "5", "--until", "2"),
			&a),
		-EINVAL);
	assert_msg(f, "older");
	assert_int_equal(changed(f, ARGV("changed", "db", "--since", "x"), &a),
			 -EINVAL);
	assert_int_equal(changed(f, ARGV("changed", "--since", "1"), &a),
			 -EINVAL);
	assert_msg(f, "missing volume NAME");
}

static int events(struct fixture *f, struct argv_buf *a,
		  struct events_args *out)
{
	keep(f, a);
	return events_parse(&f->ctx, a->argc, a->argv, out, &f->e);
}

static void events_args(void **state)
{
	struct fixture *f = *state;
	struct events_args a;

	assert_int_equal(events(f, ARGV("events"), &a), 0);
	assert_int_equal(a.count, 0);
	assert_int_equal(a.timeout_ms, -1);
	assert_int_equal(events(f,
				ARGV("events", "--count", "3", "--timeout",
				     "2.5", "--json"),
				&a),
			 0);
	assert_int_equal(a.count, 3);
	assert_int_equal(a.timeout_ms, 2500);
	assert_int_equal(events(f, ARGV("events", "--count", "0"), &a),
			 -EINVAL);
	assert_msg(f, "--count must be a positive number");
	assert_int_equal(events(f, ARGV("events", "--timeout", "0"), &a),
			 -EINVAL);
	assert_int_equal(events(f, ARGV("events", "--timeout", "-1"), &a),
			 -EINVAL);
	assert_int_equal(events(f, ARGV("events", "--timeout", "1.x"), &a),
			 -EINVAL);
	assert_int_equal(events(f, ARGV("events", "db"), &a), -EINVAL);
	assert_msg(f, "unexpected argument 'db'");
}

static void seconds(void **state)
{
	struct ferr e;
	int ms;

	(void)state;
	assert_int_equal(parse_seconds("10", &ms, &e), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(parse_seconds("0.25", &ms, &e), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(parse_seconds("1.0005", &ms, &e), 0);
	assert_int_equal(ms, 1000);
	assert_int_equal(parse_seconds("86400", &ms, &e), 0);
	assert_int_equal(parse_seconds("86401", &ms, &e), -EINVAL);
	assert_int_equal(parse_seconds("99999999999999999999", &ms, &e),
			 -EINVAL);
	assert_int_equal(parse_seconds("", &ms, &e), -EINVAL);
	assert_int_equal(parse_seconds(".5", &ms, &e), -EINVAL);
	assert_int_equal(parse_seconds("5.", &ms, &e), -EINVAL);
	assert_int_equal(parse_seconds("0.0001", &ms, &e), -EINVAL);
}

/* The kernel's tag rule, as a table. */
static void tag_table(void **state)
{
	static const struct {
		const char *kv;
		int ok;
	} cases[] = {
		{ "a=b", 1 },
		{ "a=", 1 }, /* empty value (removal in "ferry tag") */
		{ "A.z_0-9=x y ~", 1 },
		{ "k==v", 1 }, /* the value may hold '=' */
		{ "=v", 0 },
		{ "novalue", 0 },
		{ "a b=c", 0 },
		{ "a/b=c", 0 },
		{ "k=tab\there", 0 },
		{ "k=\x7f", 0 },
		{ "k=caf\xc3\xa9", 0 },
	};
	char key[FERRY_TAG_KEY_MAX + 4], val[FERRY_TAG_VALUE_MAX + 8];
	struct ferry_tag t;
	struct ferr e;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int err = tag_parse(cases[i].kv, &t, &e);

		if (cases[i].ok != (err == 0))
			fail_msg("tag '%s': got %d", cases[i].kv, err);
	}
	assert_int_equal(tag_parse("k==v", &t, &e), 0);
	assert_string_equal(t.key, "k");
	assert_string_equal(t.value, "=v");

	/* Limits: 63-byte key and 255-byte value pass, one more fails. */
	memset(key, 'k', FERRY_TAG_KEY_MAX);
	strcpy(key + FERRY_TAG_KEY_MAX, "=v");
	assert_int_equal(tag_parse(key, &t, &e), 0);
	memset(key, 'k', FERRY_TAG_KEY_MAX + 1);
	strcpy(key + FERRY_TAG_KEY_MAX + 1, "=v");
	assert_int_equal(tag_parse(key, &t, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "longer than 63"));
	strcpy(val, "k=");
	memset(val + 2, 'v', FERRY_TAG_VALUE_MAX);
	val[2 + FERRY_TAG_VALUE_MAX] = '\0';
	assert_int_equal(tag_parse(val, &t, &e), 0);
	assert_int_equal(strlen(t.value), FERRY_TAG_VALUE_MAX);
	strcat(val, "v");
	assert_int_equal(tag_parse(val, &t, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "longer than 255"));
}

static void labels(void **state)
{
	struct ferr e;

	(void)state;
	assert_int_equal(check_label("application", &e), 0);
	assert_int_equal(check_label("filesystem", &e), 0);
	assert_int_equal(check_label("crash", &e), 0);
	assert_int_equal(check_label("Crash", &e), -EINVAL);
	assert_int_equal(check_label("", &e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(snapshot_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(snapshot_defaults, setup,
						teardown),
		cmocka_unit_test_setup_teardown(snapshot_rejects, setup,
						teardown),
		cmocka_unit_test_setup_teardown(snapshot_too_many, setup,
						teardown),
		cmocka_unit_test_setup_teardown(snapshots_args, setup,
						teardown),
		cmocka_unit_test_setup_teardown(delete_and_clone_args, setup,
						teardown),
		cmocka_unit_test_setup_teardown(tag_args, setup, teardown),
		cmocka_unit_test_setup_teardown(changed_args, setup, teardown),
		cmocka_unit_test_setup_teardown(events_args, setup, teardown),
		cmocka_unit_test(seconds),
		cmocka_unit_test(tag_table),
		cmocka_unit_test(labels),
	};

	return cmocka_run_group_tests_name("snap_args", tests, NULL, NULL);
}
