// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: JSON renderings.
 *
 * Field names are part of the CLI contract (docs/ferry.8): add fields
 * freely, never rename one.
 */
#include <errno.h>

#include "json_out.h"
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

static struct json_object *stats_to_json(const struct ferry_volume *v)
{
	struct json_object *o = json_object_new_object();
	int i;

	if (!o)
		return NULL;
	for (i = 0; i <= FERRY_STAT_MAX; i++) {
		const char *name = ferry_stat_name(i);

		if (name && add(o, name, json_object_new_uint64(v->stats[i]))) {
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

struct json_object *volume_to_json(const struct ferry_volume *v)
{
	struct json_object *o = json_object_new_object();
	char dev[64], data_dev[32], cow_dev[32], uuid[40] = "";
	int err = 0;

	if (!o)
		return NULL;
	if (v->has_cbt_uuid)
		format_uuid(v->cbt_uuid, uuid, sizeof(uuid));
	volume_device_path(v, dev, sizeof(dev));
	format_dev(v->data_dev, data_dev, sizeof(data_dev));
	format_dev(v->cow_dev, cow_dev, sizeof(cow_dev));
	err |= add(o, "name", json_object_new_string(v->name));
	err |= add(o, "device", json_object_new_string(dev));
	err |= add(o, "size", json_object_new_uint64(v->size));
	err |= add(o, "data", json_object_new_string(v->data_path));
	err |= add(o, "cow", json_object_new_string(v->cow_path));
	err |= add(o, "data_dev", json_object_new_string(data_dev));
	err |= add(o, "cow_dev", json_object_new_string(cow_dev));
	err |= add(o, "chunk_size", json_object_new_uint64(v->chunk_size));
	err |= add(o, "open_count", json_object_new_uint64(v->open_count));
	err |= add(o, "epoch", json_object_new_uint64(v->epoch));
	err |= add(o, "cbt_uuid", json_object_new_string(uuid));
	err |= add(o, "cbt_gen", json_object_new_uint64(v->cbt_gen));
	err |= add(o, "cow_total", json_object_new_uint64(v->cow_total));
	err |= add(o, "cow_used", json_object_new_uint64(v->cow_used));
	err |= add(o, "stats", stats_to_json(v));
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *volumes_to_json(const struct ferry_volume *v, size_t n)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; i < n; i++) {
		struct json_object *o = volume_to_json(&v[i]);

		if (!o || json_object_array_add(a, o) < 0) {
			json_object_put(o);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

int json_print(FILE *f, struct json_object *obj)
{
	/* No slash escapes: device paths stay readable ("/dev/ferry0"). */
	const int flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
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
