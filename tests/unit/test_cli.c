// SPDX-License-Identifier: GPL-2.0
/*
 * Sizes, volume names and chunk sizes as the command line takes them.
 */
#include <errno.h>

#include <linux/ferry.h>

#include "cli.h"
#include "unit.h"

struct size_case {
	const char *text;
	int err;
	uint64_t value;
};

static const struct size_case good_sizes[] = {
	{ "0", 0, 0 },
	{ "4096", 0, 4096 },
	{ "64K", 0, 65536 },
	{ "64k", 0, 65536 },
	{ "1M", 0, 1048576 },
	{ "1MiB", 0, 1048576 },
	{ "2G", 0, 2147483648ULL },
	{ "3T", 0, 3ULL << 40 },
	{ "5P", 0, 5ULL << 50 },
	{ "15E", 0, 15ULL << 60 },
	{ "007", 0, 7 },
	{ "18446744073709551615", 0, UINT64_MAX },
	{ "17179869183G", 0, 17179869183ULL << 30 },
};

static void parse_size_good(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good_sizes) / sizeof(good_sizes[0]); i++) {
		struct ferr e = { { 0 } };
		uint64_t v = 12345;
		int err = parse_size(good_sizes[i].text, &v, &e);

		if (err)
			fail_msg("'%s': %s", good_sizes[i].text, e.msg);
		assert_int_equal(v, good_sizes[i].value);
	}
}

static void parse_size_overflow(void **state)
{
	static const char *const texts[] = {
		"18446744073709551616",
		"99999999999999999999999",
		"16E",
		"17179869184G",
		"16777216T",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct ferr e = { { 0 } };
		uint64_t v = 42;

		assert_int_equal(parse_size(texts[i], &v, &e), -ERANGE);
		assert_non_null(strstr(e.msg, "too large"));
		assert_non_null(strstr(e.msg, texts[i]));
		assert_int_equal(v, 42); /* untouched on failure */
	}
}

static void parse_size_junk(void **state)
{
	static const char *const texts[] = {
		"",	 "K",	"-1",	  " 1",	  "+1", "1 ",
		"1 K",	 "1KB", "1.5M",	  "0x10", "1Q", "1Ki",
		"1MiBx", "1i",	"12junk", "1KK",  "١",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct ferr e = { { 0 } };
		uint64_t v = 42;

		if (parse_size(texts[i], &v, &e) != -EINVAL)
			fail_msg("'%s' was accepted", texts[i]);
		assert_non_null(strstr(e.msg, "invalid size"));
		assert_int_equal(v, 42);
	}
}

static void volume_name_valid(void **state)
{
	static const char *const names[] = {
		"a",
		"vol0",
		"A.b_c-d",
		"9",
		"db_01",
		"x.",
		"a-",
		"UPPER",
		"abcdefghijklmnopqrstuvwxyz01234", /* 31: the maximum */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct ferr e = { { 0 } };

		if (check_volume_name(names[i], &e))
			fail_msg("'%s' refused: %s", names[i], e.msg);
	}
}

static void volume_name_invalid(void **state)
{
	static const struct {
		const char *name;
		const char *why;
	} cases[] = {
		{ "", "empty" },
		{ ".a", "must not start with '.'" },
		{ "-a", "must not start with '-'" },
		{ ".", "must not start with '.'" },
		{ "abcdefghijklmnopqrstuvwxyz012345", "longer than 31" },
		{ "a/b", "only A-Z" },
		{ "a b", "only A-Z" },
		{ "a:b", "only A-Z" },
		{ "a\nb", "only A-Z" },
		{ "caf\xc3\xa9", "only A-Z" },
		{ "a*", "only A-Z" },
		{ "..", "must not start" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ferr e = { { 0 } };

		if (check_volume_name(cases[i].name, &e) != -EINVAL)
			fail_msg("case %zu accepted", i);
		if (!strstr(e.msg, cases[i].why))
			fail_msg("case %zu: '%s' lacks '%s'", i, e.msg,
				 cases[i].why);
		assert_null(strchr(e.msg, '\n'));
	}
}

static void chunk_size_rule(void **state)
{
	static const struct {
		uint64_t bytes;
		int err;
	} cases[] = {
		{ 4096, 0 },	      { 8192, 0 },
		{ 65536, 0 },	      { 1048576, 0 },
		{ 0, -EINVAL },	      { 2048, -EINVAL },
		{ 4095, -EINVAL },    { 4097, -EINVAL },
		{ 12288, -EINVAL },   { 2097152, -EINVAL },
		{ 1048577, -EINVAL }, { 1ULL << 40, -EINVAL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ferr e = { { 0 } };

		if (check_chunk_size(cases[i].bytes, &e) != cases[i].err)
			fail_msg("chunk %llu",
				 (unsigned long long)cases[i].bytes);
	}
}

static void chunk_size_messages(void **state)
{
	struct ferr e = { { 0 } };

	(void)state;
	check_chunk_size(12288, &e);
	assert_non_null(strstr(e.msg, "power of two"));
	check_chunk_size(2048, &e);
	assert_non_null(strstr(e.msg, "4K..1M"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_size_good),
		cmocka_unit_test(parse_size_overflow),
		cmocka_unit_test(parse_size_junk),
		cmocka_unit_test(volume_name_valid),
		cmocka_unit_test(volume_name_invalid),
		cmocka_unit_test(chunk_size_rule),
		cmocka_unit_test(chunk_size_messages),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
