// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: renderings of snapshots, changed extents and events.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "snap_out.h"
#include "util.h"

static int add(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* json-c represents null as a NULL object: add it without the check. */
static int add_null(struct json_object *o, const char *key)
{
	return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
}

static int add_string_or_null(struct json_object *o, const char *key,
			      const char *s)
{
	return s ? add(o, key, json_object_new_string(s)) : add_null(o, key);
}

struct json_object *tags_to_json(const struct ferry_snap_info *s)
{
	struct json_object *o = json_object_new_object();
	size_t i;

	if (!o)
		return NULL;
	for (i = 0; i < s->ntags; i++) {
		if (add(o, s->tags[i].key,
			json_object_new_string(s->tags[i].value))) {
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

struct json_object *snap_to_json(const struct ferry_snap_info *s,
				 bool with_name)
{
	struct json_object *o = json_object_new_object();
	char point[FERRY_TAG_VALUE_MAX + 1], dev[64], state[32], created[64];
	int err = 0;

	if (!o)
		return NULL;
	snap_point(s, point, sizeof(point));
	snap_device_path(s, dev, sizeof(dev));
	snap_state_name(s->state, state, sizeof(state));
	format_rfc3339(s->created_ns, created, sizeof(created));
	if (with_name)
		err |= add(o, "name", json_object_new_string(s->volume));
	err |= add(o, "id", json_object_new_uint64(s->id));
	err |= add(o, "point", json_object_new_string(point));
	err |= add_string_or_null(o, "device", dev[0] ? dev : NULL);
	err |= add(o, "state", json_object_new_string(state));
	err |= add(o, "label", json_object_new_string(s->label));
	err |= add(o, "created", json_object_new_string(created));
	err |= add(o, "tags", tags_to_json(s));
	err |= add(o, "epoch", json_object_new_uint64(s->epoch));
	err |= add(o, "stall_ns", json_object_new_uint64(s->stall_ns));
	err |= add(o, "freeze_ns", json_object_new_uint64(s->freeze_ns));
	err |= add(o, "frozen", json_object_new_boolean(s->frozen));
	err |= add(o, "cow_bytes", json_object_new_uint64(s->cow_bytes));
	err |= add(o, "writable", json_object_new_boolean(s->parent != 0));
	if (s->parent)
		err |= add(o, "parent", json_object_new_uint64(s->parent));
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *snaps_to_json(const struct snap_list *list, bool with_name)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; i < list->n; i++) {
		struct json_object *o = snap_to_json(&list->s[i], with_name);

		if (!o || json_object_array_add(a, o) < 0) {
			json_object_put(o);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

#define ROW_FMT "%-6s %-8s %-11s %-19s %11s %9s %-16s %s"

void snap_table_header(char *buf, size_t len)
{
	snprintf(buf, len, ROW_FMT, "ID", "STATE", "LABEL", "CREATED", "STALL",
		 "PRESERVED", "DEVICE", "TAGS");
}

void tags_to_text(const struct ferry_snap_info *s, char *buf, size_t len)
{
	size_t i, used = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (!s->ntags) {
		snprintf(buf, len, "-");
		return;
	}
	for (i = 0; i < s->ntags && used < len; i++) {
		int n = snprintf(buf + used, len - used, "%s%s=%s",
				 i ? "," : "", s->tags[i].key,
				 s->tags[i].value);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

void snap_to_row(const struct ferry_snap_info *s, char *buf, size_t len)
{
	char id[16], state[32], created[64], stall[32], cow[32], dev[64];
	char tags[FERRY_TAGS_MAX *
		  (FERRY_TAG_KEY_MAX + FERRY_TAG_VALUE_MAX + 2)];

	snprintf(id, sizeof(id), "%" PRIu32, s->id);
	snap_state_name(s->state, state, sizeof(state));
	format_local_time(s->created_ns, created, sizeof(created));
	/* Milliseconds with three decimals: stalls are often below 1 ms. */
	snprintf(stall, sizeof(stall), "%" PRIu64 ".%03" PRIu64 "ms",
		 s->stall_ns / 1000000, s->stall_ns / 1000 % 1000);
	format_size(s->cow_bytes, cow, sizeof(cow));
	snap_device_path(s, dev, sizeof(dev));
	tags_to_text(s, tags, sizeof(tags));
	snprintf(buf, len, ROW_FMT, id, state, s->label[0] ? s->label : "-",
		 created, stall, cow, dev[0] ? dev : "-", tags);
}

void snap_to_line(const struct ferry_snap_info *s, char *buf, size_t len)
{
	char dev[64];

	snap_device_path(s, dev, sizeof(dev));
	snprintf(buf, len, "%s %" PRIu32 " %s", s->volume, s->id,
		 dev[0] ? dev : "-");
}

struct json_object *changed_to_json(const struct changed_map *m)
{
	struct json_object *o = json_object_new_object();
	struct json_object *a = json_object_new_array();
	char uuid[40] = "";
	size_t i;
	int err = 0;

	if (!o || !a) {
		json_object_put(o);
		json_object_put(a);
		return NULL;
	}
	for (i = 0; i < m->n && !err; i++) {
		struct json_object *x = json_object_new_object();

		err = x ? 0 : -ENOMEM;
		if (!err)
			err = add(x, "offset",
				  json_object_new_uint64(m->x[i].offset)) |
			      add(x, "length",
				  json_object_new_uint64(m->x[i].length));
		if (!err && json_object_array_add(a, x) < 0)
			err = -ENOMEM;
		if (err)
			json_object_put(x);
	}
	if (m->has_uuid)
		format_uuid(m->cbt_uuid, uuid, sizeof(uuid));
	err |= add(o, "cbt_uuid", json_object_new_string(uuid));
	err |= add(o, "cbt_gen", json_object_new_uint64(m->cbt_gen));
	if (add(o, "extents", a))
		err = -ENOMEM;
	err |= add(o, "bytes", json_object_new_uint64(m->bytes));
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* @s with " and \ escaped and other unprintable bytes as \xNN. */
static void quote(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c > 0x7e) {
			o += snprintf(buf + o, len - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	if (len)
		buf[o < len ? o : len - 1] = '\0';
}

void event_to_text(const struct ferry_event_info *ev, char *buf, size_t len)
{
	char name[32], snap[32] = "", tag[sizeof(ev->tag) + 8] = "";
	char q[sizeof(ev->message) * 4 + 1], msg[sizeof(q) + 16] = "";

	event_name(ev->event, name, sizeof(name));
	if (ev->snap_id)
		snprintf(snap, sizeof(snap), " snap=%" PRIu32, ev->snap_id);
	if (ev->has_tag)
		snprintf(tag, sizeof(tag), " tag=%s", ev->tag);
	if (ev->has_message) {
		quote(ev->message, q, sizeof(q));
		snprintf(msg, sizeof(msg), " msg=\"%s\"", q);
	}
	snprintf(buf, len, "%s %s%s%s%s", name, ev->name[0] ? ev->name : "-",
		 snap, tag, msg);
}

struct json_object *event_to_json(const struct ferry_event_info *ev)
{
	struct json_object *o = json_object_new_object();
	char name[32], time[64];
	int err = 0;

	if (!o)
		return NULL;
	event_name(ev->event, name, sizeof(name));
	format_rfc3339(ev->time_ns, time, sizeof(time));
	err |= add(o, "event", json_object_new_string(name));
	err |= add(o, "name", json_object_new_string(ev->name));
	if (ev->snap_id)
		err |= add(o, "snap", json_object_new_uint64(ev->snap_id));
	else
		err |= add_null(o, "snap");
	err |= add_string_or_null(o, "tag", ev->has_tag ? ev->tag : NULL);
	err |= add_string_or_null(o, "message",
				  ev->has_message ? ev->message : NULL);
	err |= add(o, "time", json_object_new_string(time));
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int json_print_line(FILE *f, struct json_object *obj)
{
	const int flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_SPACED |
			  JSON_C_TO_STRING_NOSLASHESCAPE;
	const char *s;
	int ret = 0;

	if (!obj)
		return -ENOMEM;
	s = json_object_to_json_string_ext(obj, flags);
	if (!s || fprintf(f, "%s\n", s) < 0)
		ret = -EIO;
	json_object_put(obj);
	return ret;
}
