// SPDX-License-Identifier: GPL-2.0
/*
 * What "ferry status" prints, in JSON and for people, from records built
 * by hand. The JSON is checked by parsing the text back with json-c.
 */
#include <stdio.h>

#include "json_out.h"
#include "text_out.h"
#include "unit.h"

static void fill_volume(struct ferry_volume *v)
{
	int i;

	memset(v, 0, sizeof(*v));
	strcpy(v->name, "db");
	strcpy(v->disk_name, "ferry0");
	strcpy(v->data_path, "/dev/vdb");
	strcpy(v->cow_path, "/dev/vdc");
	v->size = (1ULL << 40) + 4096; /* beyond 32 bits, and odd */
	v->minor = 0;
	v->data_dev = (253 << 8) | 16; /* 253:16 */
	v->cow_dev = (253 << 8) | 32;
	v->chunk_size = 65536;
	v->open_count = 2;
	for (i = FERRY_STAT_READS; i <= FERRY_STAT_MAX; i++)
		v->stats[i] = 1000 + i;
	v->stats[FERRY_STAT_WRITE_BYTES] = UINT64_MAX; /* full u64 range */
}

/* Renders @obj with json_print and parses the text back. */
static struct json_object *print_and_parse(struct json_object *obj)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json_object *back;

	assert_non_null(f);
	assert_int_equal(json_print(f, obj), 0);
	fclose(f);
	assert_true(len > 0);
	assert_int_equal(buf[len - 1], '\n');
	/* Paths must stay readable, not "\/dev\/ferry0". */
	assert_null(strstr(buf, "\\/"));
	back = json_tokener_parse(buf);
	free(buf);
	assert_non_null(back);
	return back;
}

static struct json_object *field(struct json_object *o, const char *key,
				 enum json_type type)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("no field '%s'", key);
	if (!json_object_is_type(v, type))
		fail_msg("field '%s' has type %s", key,
			 json_type_to_name(json_object_get_type(v)));
	return v;
}

static void check_string(struct json_object *o, const char *key,
			 const char *want)
{
	assert_string_equal(
		json_object_get_string(field(o, key, json_type_string)), want);
}

static void check_u64(struct json_object *o, const char *key, uint64_t want)
{
	assert_true(json_object_get_uint64(field(o, key, json_type_int)) ==
		    want);
}

static void json_volume_fields(void **state)
{
	struct ferry_volume v;
	struct json_object *o;

	(void)state;
	fill_volume(&v);
	o = print_and_parse(volume_to_json(&v));
	check_string(o, "name", "db");
	check_string(o, "device", "/dev/ferry0");
	check_u64(o, "size", (1ULL << 40) + 4096);
	check_string(o, "data", "/dev/vdb");
	check_string(o, "cow", "/dev/vdc");
	check_string(o, "data_dev", "253:16");
	check_string(o, "cow_dev", "253:32");
	check_u64(o, "chunk_size", 65536);
	check_u64(o, "open_count", 2);
	json_object_put(o);
}

static void json_volume_stats(void **state)
{
	static const char *const names[] = {
		"reads",    "read_bytes",   "writes", "write_bytes", "flushes",
		"discards", "write_zeroes", "errors", "in_flight",
	};
	struct ferry_volume v;
	struct json_object *o, *stats;
	size_t i;

	(void)state;
	fill_volume(&v);
	o = print_and_parse(volume_to_json(&v));
	stats = field(o, "stats", json_type_object);
	assert_int_equal(json_object_object_length(stats), 9);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint64_t want = 1000 + FERRY_STAT_READS + i;

		if (!strcmp(names[i], "write_bytes"))
			want = UINT64_MAX;
		check_u64(stats, names[i], want);
	}
	json_object_put(o);
}

static void json_array(void **state)
{
	struct ferry_volume v[2];
	struct json_object *a;

	(void)state;
	fill_volume(&v[0]);
	fill_volume(&v[1]);
	strcpy(v[1].name, "logs");
	strcpy(v[1].disk_name, "ferry1");
	a = print_and_parse(volumes_to_json(v, 2));
	assert_true(json_object_is_type(a, json_type_array));
	assert_int_equal(json_object_array_length(a), 2);
	check_string(json_object_array_get_idx(a, 0), "name", "db");
	check_string(json_object_array_get_idx(a, 1), "name", "logs");
	check_string(json_object_array_get_idx(a, 1), "device", "/dev/ferry1");
	json_object_put(a);
}

static void json_empty_array(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(json_print(f, volumes_to_json(NULL, 0)), 0);
	fclose(f);
	assert_string_equal(buf, "[\n]\n");
	free(buf);
}

static void json_escapes_strings(void **state)
{
	struct ferry_volume v;
	struct json_object *o;

	(void)state;
	fill_volume(&v);
	strcpy(v.data_path, "/dev/disk/by-id/a\"b\\c");
	o = print_and_parse(volume_to_json(&v));
	check_string(o, "data", "/dev/disk/by-id/a\"b\\c");
	json_object_put(o);
}

static void text_line(void **state)
{
	struct ferry_volume v;
	char line[512];

	(void)state;
	fill_volume(&v);
	v.size = 10ULL << 30;
	volume_to_text(&v, line, sizeof(line));
	assert_string_equal(line, "db /dev/ferry0 10GiB data=/dev/vdb "
				  "cow=/dev/vdc chunk=64KiB open=2 epoch=0 "
				  "cbt_uuid= cbt_gen=0 cow_used=0B "
				  "cow_total=0B");
}

static void text_line_cow_state(void **state)
{
	static const uint8_t uuid[16] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc,
					  0xde, 0xf0, 0x01, 0x23, 0x45, 0x67,
					  0x89, 0xab, 0xcd, 0xef };
	struct json_object *o, *f;
	struct ferry_volume v;
	char line[512];

	(void)state;
	fill_volume(&v);
	v.size = 10ULL << 30;
	v.epoch = 7;
	memcpy(v.cbt_uuid, uuid, 16);
	v.has_cbt_uuid = true;
	v.cbt_gen = 3;
	v.cow_used = 3ULL << 20;
	v.cow_total = 1ULL << 30;
	volume_to_text(&v, line, sizeof(line));
	assert_string_equal(line,
			    "db /dev/ferry0 10GiB data=/dev/vdb "
			    "cow=/dev/vdc chunk=64KiB open=2 epoch=7 "
			    "cbt_uuid=12345678-9abc-def0-0123-456789abcdef "
			    "cbt_gen=3 cow_used=3.0MiB cow_total=1.0GiB");
	o = volume_to_json(&v);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "epoch", &f));
	assert_int_equal(json_object_get_uint64(f), 7);
	assert_true(json_object_object_get_ex(o, "cbt_uuid", &f));
	assert_string_equal(json_object_get_string(f),
			    "12345678-9abc-def0-0123-456789abcdef");
	assert_true(json_object_object_get_ex(o, "cbt_gen", &f));
	assert_int_equal(json_object_get_uint64(f), 3);
	assert_true(json_object_object_get_ex(o, "cow_used", &f));
	assert_int_equal(json_object_get_uint64(f), 3ULL << 20);
	assert_true(json_object_object_get_ex(o, "cow_total", &f));
	assert_int_equal(json_object_get_uint64(f), 1ULL << 30);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_volume_fields),
		cmocka_unit_test(text_line_cow_state),
		cmocka_unit_test(json_volume_stats),
		cmocka_unit_test(json_array),
		cmocka_unit_test(json_empty_array),
		cmocka_unit_test(json_escapes_strings),
		cmocka_unit_test(text_line),
	};

	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
