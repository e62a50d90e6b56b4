// SPDX-License-Identifier: GPL-2.0
/*
 * Snapshots, changed extents and events without a kernel: replies built
 * in memory as kmod/netlink.c and kmod/events.c send them, decoded by the
 * agent, rendered, and the JSON parsed back field by field.
 */
#include <errno.h>
#include <stdio.h>

#include <netlink/genl/genl.h>

#include "snap_nl.h"
#include "snap_out.h"
#include "unit.h"

#define FAKE_FAMILY 0x1d
/* 2026-12-07T00:01:02Z, plus a fraction that must not show. */
#define CREATED_NS (1796601662ULL * 1000000000ULL + 999999999ULL)

static struct nl_msg *genl_msg(uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	assert_non_null(msg);
	assert_non_null(genlmsg_put(msg, 1, 7, FAKE_FAMILY, 0, 0, cmd,
				    FERRY_GENL_VERSION));
	return msg;
}

static void put_pad(struct nl_msg *msg, int type)
{
	assert_int_equal(nla_put(msg, type, 0, NULL), 0);
}

/* NAME then a SNAP nest the way ferry_put_snap() fills it. */
static struct nl_msg *full_snap(uint32_t id, uint32_t parent)
{
	struct nl_msg *msg = genl_msg(FERRY_CMD_GET_SNAPSHOT);
	struct nlattr *nest, *tags;

	assert_int_equal(nla_put_string(msg, FERRY_ATTR_NAME, "db"), 0);
	nest = nla_nest_start(msg, FERRY_ATTR_SNAP);
	assert_non_null(nest);
	assert_int_equal(nla_put_u32(msg, FERRY_SNAP_ID, id), 0);
	put_pad(msg, FERRY_SNAP_PAD);
	assert_int_equal(nla_put_u64(msg, FERRY_SNAP_EPOCH, 12), 0);
	assert_int_equal(nla_put_u32(msg, FERRY_SNAP_STATE, FERRY_STATE_LIVE),
			 0);
	assert_int_equal(nla_put_string(msg, FERRY_SNAP_DISK_NAME, "ferry0s3"),
			 0);
	assert_int_equal(nla_put_u64(msg, FERRY_SNAP_CREATED_NS, CREATED_NS),
			 0);
	assert_int_equal(nla_put_string(msg, FERRY_SNAP_LABEL, "filesystem"),
			 0);
	assert_int_equal(nla_put_u64(msg, FERRY_SNAP_STALL_NS, 1234567), 0);
	assert_int_equal(nla_put_u64(msg, FERRY_SNAP_FREEZE_NS, 7654321), 0);
	assert_int_equal(nla_put_u64(msg, FERRY_SNAP_COW_BYTES, 3 << 20), 0);
	if (parent)
		assert_int_equal(nla_put_u32(msg, FERRY_SNAP_PARENT, parent),
				 0);
	assert_int_equal(nla_put_u32(msg, FERRY_SNAP_FROZEN, 1), 0);
	/* From a newer kernel: skipped. */
	assert_int_equal(nla_put_u64(msg, FERRY_SNAP_MAX + 3, 99), 0);
	tags = nla_nest_start(msg, FERRY_SNAP_TAGS);
	assert_non_null(tags);
	assert_int_equal(nla_put_string(msg, FERRY_ATTR_TAG, "zone=b"), 0);
	assert_int_equal(nla_put_string(msg, FERRY_ATTR_TAG, "app=pg 15"), 0);
	assert_int_equal(nla_put_u32(msg, FERRY_ATTR_MAX + 4, 1), 0);
	assert_int_equal(nla_put_string(msg, FERRY_ATTR_TAG, "empty="), 0);
	nla_nest_end(msg, tags);
	nla_nest_end(msg, nest);
	/* A top-level attribute of a newer kernel after the nest. */
	assert_int_equal(nla_put_u32(msg, FERRY_ATTR_MAX + 2, 5), 0);
	return msg;
}

static void snap_all_attrs(void **state)
{
	struct nl_msg *msg = full_snap(3, 0);
	struct ferr e = { { 0 } };
	struct ferry_snap_info s;

	(void)state;
	assert_int_equal(snap_from_msg(msg, &s, &e), 0);
	assert_string_equal(s.volume, "db");
	assert_int_equal(s.id, 3);
	assert_int_equal(s.epoch, 12);
	assert_int_equal(s.state, FERRY_STATE_LIVE);
	assert_string_equal(s.disk_name, "ferry0s3");
	assert_true(s.created_ns == CREATED_NS);
	assert_string_equal(s.label, "filesystem");
	assert_int_equal(s.stall_ns, 1234567);
	assert_int_equal(s.freeze_ns, 7654321);
	assert_int_equal(s.cow_bytes, 3 << 20);
	assert_int_equal(s.parent, 0);
	assert_true(s.frozen);
	/* Sorted by key. */
	assert_int_equal(s.ntags, 3);
	assert_string_equal(s.tags[0].key, "app");
	assert_string_equal(s.tags[0].value, "pg 15");
	assert_string_equal(s.tags[1].key, "empty");
	assert_string_equal(s.tags[1].value, "");
	assert_string_equal(s.tags[2].key, "zone");
	nlmsg_free(msg);
}

static void snap_only_id(void **state)
{
	struct nl_msg *msg = genl_msg(FERRY_CMD_SNAPSHOT);
	struct ferr e = { { 0 } };
	struct ferry_snap_info s;
	struct nlattr *nest;

	(void)state;
	nest = nla_nest_start(msg, FERRY_ATTR_SNAP);
	assert_int_equal(nla_put_u32(msg, FERRY_SNAP_ID, 5), 0);
	nla_nest_end(msg, nest);
	assert_int_equal(snap_from_msg(msg, &s, &e), 0);
	assert_int_equal(s.id, 5);
	assert_string_equal(s.volume, "");
	assert_string_equal(s.disk_name, "");
	assert_string_equal(s.label, "");
	assert_int_equal(s.ntags, 0);
	assert_false(s.frozen);
	nlmsg_free(msg);
}

/* A reply whose SNAP nest holds @type with @len bytes, plus an ID. */
static int snap_with(int type, const void *data, int len, struct ferr *e)
{
	struct nl_msg *msg = genl_msg(FERRY_CMD_GET_SNAPSHOT);
	struct ferry_snap_info s;
	struct nlattr *nest;
	int ret;

	assert_int_equal(nla_put_string(msg, FERRY_ATTR_NAME, "db"), 0);
	nest = nla_nest_start(msg, FERRY_ATTR_SNAP);
	assert_int_equal(nla_put_u32(msg, FERRY_SNAP_ID, 1), 0);
	assert_int_equal(nla_put(msg, type, len, data), 0);
	nla_nest_end(msg, nest);
	ret = snap_from_msg(msg, &s, e);
	nlmsg_free(msg);
	return ret;
}

static void snap_malformed(void **state)
{
	struct nl_msg *msg = genl_msg(FERRY_CMD_GET_SNAPSHOT);
	struct ferr e = { { 0 } };
	struct ferry_snap_info s;
	struct nlattr *nest;
	uint8_t b = 1;

	(void)state;
	/* No SNAP at all. */
	nla_put_string(msg, FERRY_ATTR_NAME, "db");
	assert_int_equal(snap_from_msg(msg, &s, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "lacks the snapshot"));
	/* A SNAP without an ID. */
	nest = nla_nest_start(msg, FERRY_ATTR_SNAP);
	nla_put_u64(msg, FERRY_SNAP_EPOCH, 1);
	nla_nest_end(msg, nest);
	assert_int_equal(snap_from_msg(msg, &s, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "without an id"));
	nlmsg_free(msg);

	assert_int_equal(snap_with(FERRY_SNAP_STATE, &b, 1, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "bad length"));
	assert_int_equal(snap_with(FERRY_SNAP_EPOCH, "1234", 4, &e), -EPROTO);
	/* Strings must be NUL-terminated and fit. */
	assert_int_equal(snap_with(FERRY_SNAP_LABEL, "crash", 5, &e), -EPROTO);
	assert_int_equal(snap_with(FERRY_SNAP_LABEL, "a-very-long-label", 18,
				   &e),
			 -EPROTO);
	assert_int_equal(snap_with(FERRY_SNAP_LABEL, "crash", 6, &e), 0);
	/* Unknown types are skipped whatever their size. */
	assert_int_equal(snap_with(FERRY_SNAP_MAX + 1, &b, 1, &e), 0);
}

static int snap_with_tags(const char *const *kv, int n, struct ferr *e)
{
	struct nl_msg *msg = genl_msg(FERRY_CMD_GET_SNAPSHOT);
	struct ferry_snap_info s;
	struct nlattr *nest, *tags;
	int i, ret;

	nest = nla_nest_start(msg, FERRY_ATTR_SNAP);
	nla_put_u32(msg, FERRY_SNAP_ID, 1);
	tags = nla_nest_start(msg, FERRY_SNAP_TAGS);
	for (i = 0; i < n; i++)
		assert_int_equal(nla_put_string(msg, FERRY_ATTR_TAG, kv[i]), 0);
	nla_nest_end(msg, tags);
	nla_nest_end(msg, nest);
	ret = snap_from_msg(msg, &s, e);
	nlmsg_free(msg);
	return ret;
}

static void snap_bad_tags(void **state)
{
	const char *many[FERRY_TAGS_MAX + 1];
	char bufs[FERRY_TAGS_MAX + 1][16];
	struct ferr e = { { 0 } };
	int i;

	(void)state;
	assert_int_equal(snap_with_tags((const char *[]){ "novalue" }, 1, &e),
			 -EPROTO);
	assert_int_equal(snap_with_tags((const char *[]){ "a b=c" }, 1, &e),
			 -EPROTO);
	for (i = 0; i <= FERRY_TAGS_MAX; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "k%d=v", i);
		many[i] = bufs[i];
	}
	assert_int_equal(snap_with_tags(many, FERRY_TAGS_MAX, &e), 0);
	assert_int_equal(snap_with_tags(many, FERRY_TAGS_MAX + 1, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "more than 32 tags"));
}

static void rfc3339(void **state)
{
	char buf[64];

	(void)state;
	format_rfc3339(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	format_rfc3339(CREATED_NS, buf, sizeof(buf));
	assert_string_equal(buf, "2026-12-07T00:01:02Z");
	format_rfc3339(951782400ULL * 1000000000ULL, buf, sizeof(buf));
	assert_string_equal(buf, "2000-02-29T00:00:00Z");
}

/* Renders @o as the CLI prints it and parses it back. */
static struct json_object *round_trip(struct json_object *o)
{
	struct json_object *back;

	assert_non_null(o);
	back = json_tokener_parse(json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	assert_non_null(back);
	json_object_put(o);
	return back;
}

static struct json_object *field(struct json_object *o, const char *key,
				 json_type type)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no field %s", key);
	if (!json_object_is_type(v, type))
		fail_msg("field %s has type %s", key,
			 json_type_to_name(json_object_get_type(v)));
	return v;
}

#define get_str(o, k) json_object_get_string(field(o, k, json_type_string))
#define get_int(o, k) json_object_get_uint64(field(o, k, json_type_int))
#define get_bool(o, k) json_object_get_boolean(field(o, k, json_type_boolean))

static void snap_json_fields(void **state)
{
	struct nl_msg *msg = full_snap(3, 0);
	struct ferr e = { { 0 } };
	struct ferry_snap_info s;
	struct json_object *o, *tags, *v;

	(void)state;
	assert_int_equal(snap_from_msg(msg, &s, &e), 0);
	nlmsg_free(msg);
	o = round_trip(snap_to_json(&s, false));
	assert_false(json_object_object_get_ex(o, "name", &v));
	assert_int_equal(get_int(o, "id"), 3);
	assert_string_equal(get_str(o, "point"), "3");
	assert_string_equal(get_str(o, "device"), "/dev/ferry0s3");
	assert_string_equal(get_str(o, "state"), "live");
	assert_string_equal(get_str(o, "label"), "filesystem");
	assert_string_equal(get_str(o, "created"), "2026-12-07T00:01:02Z");
	assert_int_equal(get_int(o, "epoch"), 12);
	assert_int_equal(get_int(o, "stall_ns"), 1234567);
	assert_int_equal(get_int(o, "freeze_ns"), 7654321);
	assert_true(get_bool(o, "frozen"));
	assert_int_equal(get_int(o, "cow_bytes"), 3 << 20);
	assert_false(get_bool(o, "writable"));
	assert_false(json_object_object_get_ex(o, "parent", &v));
	tags = field(o, "tags", json_type_object);
	assert_int_equal(json_object_object_length(tags), 3);
	assert_string_equal(get_str(tags, "app"), "pg 15");
	assert_string_equal(get_str(tags, "empty"), "");
	assert_string_equal(get_str(tags, "zone"), "b");
	json_object_put(o);
}

static void snap_json_clone_point_invalid(void **state)
{
	struct ferry_snap_info s;
	struct json_object *o, *v;

	(void)state;
	memset(&s, 0, sizeof(s));
	strcpy(s.volume, "db");
	s.id = 9;
	s.parent = 4;
	s.state = FERRY_STATE_INVALID;
	s.ntags = 1;
	strcpy(s.tags[0].key, FERRY_POINT_TAG);
	strcpy(s.tags[0].value, "p-20261207-0001");
	o = round_trip(snap_to_json(&s, true));
	assert_string_equal(get_str(o, "name"), "db");
	assert_int_equal(get_int(o, "id"), 9);
	assert_string_equal(get_str(o, "point"), "p-20261207-0001");
	assert_true(json_object_object_get_ex(o, "device", &v));
	assert_null(v); /* no disk: null */
	assert_string_equal(get_str(o, "state"), "invalid");
	assert_true(get_bool(o, "writable"));
	assert_int_equal(get_int(o, "parent"), 4);
	assert_false(get_bool(o, "frozen"));
	json_object_put(o);

	s.state = 7;
	o = round_trip(snap_to_json(&s, false));
	assert_string_equal(get_str(o, "state"), "state-7");
	json_object_put(o);
}

static void snap_list_json(void **state)
{
	struct snap_list list = { 0 };
	struct json_object *a;

	(void)state;
	a = round_trip(snaps_to_json(&list, false));
	assert_true(json_object_is_type(a, json_type_array));
	assert_int_equal(json_object_array_length(a), 0);
	json_object_put(a);
	snap_list_add(&list)->id = 1;
	snap_list_add(&list)->id = 2;
	a = round_trip(snaps_to_json(&list, true));
	assert_int_equal(json_object_array_length(a), 2);
	assert_int_equal(get_int(json_object_array_get_idx(a, 1), "id"), 2);
	json_object_put(a);
	snap_list_free(&list);
}

static void snap_text(void **state)
{
	struct nl_msg *msg = full_snap(3, 0);
	struct ferr e = { { 0 } };
	struct ferry_snap_info s;
	char line[16384], created[64], expect[512];

	(void)state;
	assert_int_equal(snap_from_msg(msg, &s, &e), 0);
	nlmsg_free(msg);
	snap_to_line(&s, line, sizeof(line));
	assert_string_equal(line, "db 3 /dev/ferry0s3");
	snap_table_header(line, sizeof(line));
	assert_string_equal(line,
			    "ID     STATE    LABEL       CREATED             "
			    "      STALL PRESERVED DEVICE           TAGS");
	snap_to_row(&s, line, sizeof(line));
	format_local_time(CREATED_NS, created, sizeof(created));
	snprintf(expect, sizeof(expect),
		 "3      live     filesystem  %-19s     1.234ms    3.0MiB "
		 "/dev/ferry0s3    app=pg 15,empty=,zone=b",
		 created);
	assert_string_equal(line, expect);
	s.ntags = 0;
	s.disk_name[0] = '\0';
	snap_to_line(&s, line, sizeof(line));
	assert_string_equal(line, "db 3 -");
	tags_to_text(&s, line, sizeof(line));
	assert_string_equal(line, "-");
}

static void snapshot_request(void **state)
{
	char *names[] = { "db", "logs" }, *tags[] = { "a=1", "b=" };
	struct nlattr *tb[FERRY_ATTR_MAX + 1], *a;
	struct nl_msg *msg = genl_msg(FERRY_CMD_SNAPSHOT);
	const char *seen[4];
	int rem, n = 0;

	(void)state;
	assert_int_equal(
		snap_put_snapshot(msg, names, 2, tags, 2, "crash", 2500), 0);
	assert_int_equal(
		genlmsg_parse(nlmsg_hdr(msg), 0, tb, FERRY_ATTR_MAX, NULL), 0);
	nla_for_each_nested(a, tb[FERRY_ATTR_VOLUMES], rem) {
		assert_int_equal(nla_type(a), FERRY_ATTR_NAME);
		seen[n++] = nla_get_string(a);
	}
	assert_int_equal(n, 2);
	assert_string_equal(seen[0], "db");
	assert_string_equal(seen[1], "logs");
	n = 0;
	nla_for_each_nested(a, tb[FERRY_ATTR_TAGS], rem) {
		assert_int_equal(nla_type(a), FERRY_ATTR_TAG);
		seen[n++] = nla_get_string(a);
	}
	assert_int_equal(n, 2);
	assert_string_equal(seen[1], "b=");
	assert_string_equal(nla_get_string(tb[FERRY_ATTR_LABEL]), "crash");
	assert_int_equal(nla_get_u32(tb[FERRY_ATTR_DEADLINE_MS]), 2500);
	nlmsg_free(msg);

	msg = genl_msg(FERRY_CMD_SNAPSHOT);
	assert_int_equal(snap_put_snapshot(msg, names, 1, NULL, 0, NULL, 0), 0);
	assert_int_equal(
		genlmsg_parse(nlmsg_hdr(msg), 0, tb, FERRY_ATTR_MAX, NULL), 0);
	assert_non_null(tb[FERRY_ATTR_VOLUMES]);
	assert_null(tb[FERRY_ATTR_TAGS]);
	assert_null(tb[FERRY_ATTR_LABEL]);
	assert_null(tb[FERRY_ATTR_DEADLINE_MS]);
	nlmsg_free(msg);
}

/* ---- changed ---- */

static const uint8_t uuid_a[16] = { 0xde, 0xad, 0xbe, 0xef, 0, 1, 2,  3,
				    4,	  5,	6,    7,    8, 9, 10, 11 };

static void put_extent(struct nl_msg *msg, uint64_t off, uint64_t len)
{
	struct nlattr *x = nla_nest_start(msg, FERRY_ATTR_EXTENT);

	assert_non_null(x);
	put_pad(msg, FERRY_ATTR_PAD);
	assert_int_equal(nla_put_u64(msg, FERRY_ATTR_OFFSET, off), 0);
	assert_int_equal(nla_put_u64(msg, FERRY_ATTR_LENGTH, len), 0);
	nla_nest_end(msg, x);
}

static struct nl_msg *changed_msg(const uint8_t *uuid, uint64_t gen)
{
	struct nl_msg *msg = genl_msg(FERRY_CMD_CHANGED);

	assert_int_equal(nla_put_string(msg, FERRY_ATTR_NAME, "db"), 0);
	assert_int_equal(nla_put(msg, FERRY_ATTR_CBT_UUID, 16, uuid), 0);
	assert_int_equal(nla_put_u64(msg, FERRY_ATTR_CBT_GEN, gen), 0);
	return msg;
}

static int feed(struct nl_msg *msg, struct changed_map *m, struct ferr *e)
{
	int ret = changed_from_msg(msg, m, e);

	nlmsg_free(msg);
	return ret;
}

static void changed_merge(void **state)
{
	struct changed_map m = { 0 };
	struct ferr e = { { 0 } };
	struct nl_msg *msg;
	struct json_object *o, *x, *first;

	(void)state;
	msg = changed_msg(uuid_a, 4);
	put_extent(msg, 0, 65536);
	put_extent(msg, 65536, 65536); /* adjacent in one message */
	put_extent(msg, 1 << 20, 65536);
	assert_int_equal(feed(msg, &m, &e), 0);
	msg = changed_msg(uuid_a, 4);
	put_extent(msg, (1 << 20) + 65536, 4096); /* adjacent across */
	put_extent(msg, 1 << 24, 0); /* empty: ignored */
	put_extent(msg, 1 << 22, 8192);
	put_extent(msg, (1 << 22) + 4096, 8192); /* overlapping */
	assert_int_equal(feed(msg, &m, &e), 0);
	/* A last message without extents, identity after nothing. */
	assert_int_equal(feed(changed_msg(uuid_a, 4), &m, &e), 0);

	assert_int_equal(m.n, 3);
	assert_int_equal(m.x[0].offset, 0);
	assert_int_equal(m.x[0].length, 131072);
	assert_int_equal(m.x[1].offset, 1 << 20);
	assert_int_equal(m.x[1].length, 65536 + 4096);
	assert_int_equal(m.x[2].offset, 1 << 22);
	assert_int_equal(m.x[2].length, 12288);
	assert_int_equal(m.bytes, 131072 + 65536 + 4096 + 12288);
	assert_true(m.has_uuid);
	assert_int_equal(m.cbt_gen, 4);

	o = round_trip(changed_to_json(&m));
	assert_string_equal(get_str(o, "cbt_uuid"),
			    "deadbeef-0001-0203-0405-060708090a0b");
	assert_int_equal(get_int(o, "cbt_gen"), 4);
	assert_int_equal(get_int(o, "bytes"), m.bytes);
	x = field(o, "extents", json_type_array);
	assert_int_equal(json_object_array_length(x), 3);
	first = json_object_array_get_idx(x, 1);
	assert_int_equal(get_int(first, "offset"), 1 << 20);
	assert_int_equal(get_int(first, "length"), 65536 + 4096);
	json_object_put(o);
	changed_free(&m);
}

static void changed_errors(void **state)
{
	static const uint8_t uuid_b[16] = { 1 };
	struct changed_map m = { 0 };
	struct ferr e = { { 0 } };
	struct nl_msg *msg;
	struct nlattr *x;

	(void)state;
	msg = changed_msg(uuid_a, 4);
	put_extent(msg, 1 << 20, 4096);
	assert_int_equal(feed(msg, &m, &e), 0);
	/* Going backwards. */
	msg = changed_msg(uuid_a, 4);
	put_extent(msg, 0, 4096);
	assert_int_equal(feed(msg, &m, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "out of order"));
	/* The map was reset between messages. */
	assert_int_equal(feed(changed_msg(uuid_b, 4), &m, &e), -ESTALE);
	assert_non_null(strstr(e.msg, "run it again"));
	assert_int_equal(feed(changed_msg(uuid_a, 5), &m, &e), -ESTALE);
	/* An extent without a length. */
	msg = changed_msg(uuid_a, 4);
	x = nla_nest_start(msg, FERRY_ATTR_EXTENT);
	nla_put_u64(msg, FERRY_ATTR_OFFSET, 1 << 24);
	nla_nest_end(msg, x);
	assert_int_equal(feed(msg, &m, &e), -EPROTO);
	/* Overflowing 2^64. */
	msg = changed_msg(uuid_a, 4);
	put_extent(msg, UINT64_MAX - 10, 4096);
	assert_int_equal(feed(msg, &m, &e), -EPROTO);
	/* A uuid of the wrong size. */
	msg = genl_msg(FERRY_CMD_CHANGED);
	nla_put(msg, FERRY_ATTR_CBT_UUID, 8, uuid_a);
	assert_int_equal(feed(msg, &m, &e), -EPROTO);
	changed_free(&m);

	/* No message at all: an empty map still renders. */
	{
		struct json_object *o = round_trip(changed_to_json(&m));

		assert_string_equal(get_str(o, "cbt_uuid"), "");
		assert_int_equal(get_int(o, "bytes"), 0);
		json_object_put(o);
	}
}

/* ---- events ---- */

static void event_full(void **state)
{
	struct nl_msg *msg = genl_msg(FERRY_CMD_EVENT);
	struct ferr e = { { 0 } };
	struct ferry_event_info ev;
	struct json_object *o;
	char line[2048];

	(void)state;
	nla_put_u32(msg, FERRY_ATTR_EVENT, FERRY_EVENT_TAG_CHANGED);
	nla_put_string(msg, FERRY_ATTR_NAME, "db");
	nla_put_u32(msg, FERRY_ATTR_SNAP_ID, 4);
	nla_put_string(msg, FERRY_ATTR_TAG, "app=pg");
	nla_put_string(msg, FERRY_ATTR_MESSAGE, "say \"hi\"\\\n");
	nla_put_u32(msg, FERRY_ATTR_MAX + 1, 0);
	assert_int_equal(event_from_msg(msg, &ev, &e), 0);
	nlmsg_free(msg);
	assert_int_equal(ev.event, FERRY_EVENT_TAG_CHANGED);
	assert_string_equal(ev.name, "db");
	assert_int_equal(ev.snap_id, 4);
	assert_true(ev.has_tag);
	assert_string_equal(ev.tag, "app=pg");
	ev.time_ns = CREATED_NS;
	event_to_text(&ev, line, sizeof(line));
	assert_string_equal(line, "tag-changed db snap=4 tag=app=pg "
				  "msg=\"say \\\"hi\\\"\\\\\\x0a\"");
	o = round_trip(event_to_json(&ev));
	assert_string_equal(get_str(o, "event"), "tag-changed");
	assert_string_equal(get_str(o, "name"), "db");
	assert_int_equal(get_int(o, "snap"), 4);
	assert_string_equal(get_str(o, "tag"), "app=pg");
	assert_string_equal(get_str(o, "message"), "say \"hi\"\\\n");
	assert_string_equal(get_str(o, "time"), "2026-12-07T00:01:02Z");
	json_object_put(o);
}

static void event_minimal(void **state)
{
	static const char *const names[] = {
		NULL,
		"snapshot-created",
		"snapshot-deleted",
		"snapshot-invalid",
		"tag-changed",
		"cow-low",
		"device-error",
	};
	struct nl_msg *msg = genl_msg(FERRY_CMD_EVENT);
	struct ferr e = { { 0 } };
	struct ferry_event_info ev;
	struct json_object *o, *v;
	char line[2048];
	uint32_t i;

	(void)state;
	nla_put_u32(msg, FERRY_ATTR_EVENT, FERRY_EVENT_COW_LOW);
	nla_put_string(msg, FERRY_ATTR_NAME, "db");
	assert_int_equal(event_from_msg(msg, &ev, &e), 0);
	nlmsg_free(msg);
	event_to_text(&ev, line, sizeof(line));
	assert_string_equal(line, "cow-low db");
	o = round_trip(event_to_json(&ev));
	assert_true(json_object_object_get_ex(o, "snap", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(o, "tag", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(o, "message", &v));
	assert_null(v);
	json_object_put(o);

	for (i = 1; i < ARRAY_SIZE(names); i++) {
		event_name(i, line, sizeof(line));
		assert_string_equal(line, names[i]);
	}
	event_name(99, line, sizeof(line));
	assert_string_equal(line, "event-99");
	event_name(0, line, sizeof(line));
	assert_string_equal(line, "event-0");
}

static void event_malformed(void **state)
{
	struct nl_msg *msg;
	struct ferr e = { { 0 } };
	struct ferry_event_info ev;

	(void)state;
	/* Not an event: ignored. */
	msg = genl_msg(FERRY_CMD_GET_VOLUME);
	assert_int_equal(event_from_msg(msg, &ev, &e), 1);
	nlmsg_free(msg);
	/* No EVENT attribute. */
	msg = genl_msg(FERRY_CMD_EVENT);
	nla_put_string(msg, FERRY_ATTR_NAME, "db");
	assert_int_equal(event_from_msg(msg, &ev, &e), -EPROTO);
	nlmsg_free(msg);
	/* EVENT of the wrong size. */
	msg = genl_msg(FERRY_CMD_EVENT);
	nla_put_u8(msg, FERRY_ATTR_EVENT, 1);
	assert_int_equal(event_from_msg(msg, &ev, &e), -EPROTO);
	nlmsg_free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(snap_all_attrs),
		cmocka_unit_test(snap_only_id),
		cmocka_unit_test(snap_malformed),
		cmocka_unit_test(snap_bad_tags),
		cmocka_unit_test(rfc3339),
		cmocka_unit_test(snap_json_fields),
		cmocka_unit_test(snap_json_clone_point_invalid),
		cmocka_unit_test(snap_list_json),
		cmocka_unit_test(snap_text),
		cmocka_unit_test(snapshot_request),
		cmocka_unit_test(changed_merge),
		cmocka_unit_test(changed_errors),
		cmocka_unit_test(event_full),
		cmocka_unit_test(event_minimal),
		cmocka_unit_test(event_malformed),
	};

	return cmocka_run_group_tests_name("snap_nl", tests, NULL, NULL);
}
