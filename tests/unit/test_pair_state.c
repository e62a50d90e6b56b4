// SPDX-License-Identifier: GPL-2.0
/*
 * The pair state file (what a replication pair is doing, for ferry
 * status) read back as written, its ETA, and the pair's event log.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pair_state.h"
#include "unit.h"

static void sample(struct pair_state *s)
{
	memset(s, 0, sizeof(*s));
	s->phase = PAIR_SENDING;
	strcpy(s->to, "dr.example:7000");
	strcpy(s->point, "0d5e2a3c-1111-4222-8333-444455556666");
	s->bytes_sent = 3 << 20;
	s->bytes_total = 10 << 20;
	s->rate = 1 << 20;
	s->started = 1700000000;
	s->updated = 1700000003;
	strcpy(s->error, "");
}

static void round_trip(void **state)
{
	static const enum pair_phase phases[] = {
		PAIR_IDLE,	PAIR_SENDING, PAIR_WAITING_ARRIVAL,
		PAIR_LINK_DOWN, PAIR_FAILED,
	};
	struct pair_state s, got;
	char buf[2048];
	struct ferr e;
	size_t i;

	(void)state;
	sample(&s);
	for (i = 0; i < ARRAY_SIZE(phases); i++) {
		s.phase = phases[i];
		if (s.phase == PAIR_LINK_DOWN)
			strcpy(s.error, "connect to dr.example:7000: refused");
		assert_true(pair_state_format(&s, buf, sizeof(buf)) > 0);
		assert_int_equal(pair_state_parse(buf, &got, &e), 0);
		assert_memory_equal(&s, &got, sizeof(s));
	}
	assert_int_equal(pair_state_format(&s, buf, 30), -ENOSPC);
	assert_string_equal(pair_phase_name(PAIR_WAITING_ARRIVAL),
			    "waiting-arrival");
	assert_string_equal(pair_phase_name(PAIR_LINK_DOWN), "link-down");
}

static void rejections(void **state)
{
	struct pair_state got;
	struct ferr e;

	(void)state;
	assert_int_equal(pair_state_parse("state=asleep\n", &got, &e), -EINVAL);
	assert_string_equal(e.msg, "line 1: bad value of state");
	assert_int_equal(pair_state_parse("version=1\nrate=fast\n", &got, &e),
			 -EINVAL);
	assert_string_equal(e.msg, "line 2: bad value of rate");
	assert_int_equal(pair_state_parse("version=9\n", &got, &e), -EINVAL);
	assert_int_equal(pair_state_parse("nothing\n", &got, &e), -EINVAL);
	assert_int_equal(pair_state_parse("state=idle\nnew_key=1\n", &got, &e),
			 0);
}

static void eta(void **state)
{
	struct pair_state s;

	(void)state;
	sample(&s);
	assert_int_equal(pair_state_eta(&s), 7); /* 7 MiB at 1 MiB/s */
	s.bytes_sent = s.bytes_total - 1;
	assert_int_equal(pair_state_eta(&s), 1); /* rounded up */
	s.rate = 0;
	assert_int_equal(pair_state_eta(&s), -1);
	sample(&s);
	s.phase = PAIR_WAITING_ARRIVAL;
	assert_int_equal(pair_state_eta(&s), -1);
}

static void file_and_events(void **state)
{
	char dir[] = "/tmp/ferry-pair-XXXXXX", path[4096], line[1024];
	struct json_object *o, *v;
	struct pair_state s, got;
	struct ferr e;
	FILE *f;
	int n = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(pair_state_path(dir, "db", path, sizeof(path)), 0);
	assert_int_equal(pair_state_load(path, &got, &e), -ENOENT);
	sample(&s);
	assert_int_equal(pair_state_save(path, &s, &e), 0);
	assert_int_equal(pair_state_load(path, &got, &e), 0);
	assert_memory_equal(&s, &got, sizeof(s));
	unlink(path);

	assert_int_equal(pair_event_append(dir, "db", "dropped", "point p1"),
			 0);
	assert_int_equal(pair_event_append(dir, "db", "merged", "a \"q\"\n"),
			 0);
	assert_int_equal(pair_events_path(dir, "db", path, sizeof(path)), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		o = json_tokener_parse(line);
		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "event", &v));
		assert_string_equal(json_object_get_string(v),
				    n ? "merged" : "dropped");
		assert_true(json_object_object_get_ex(o, "message", &v));
		assert_string_equal(json_object_get_string(v),
				    n ? "a \"q\"\n" : "point p1");
		assert_true(json_object_object_get_ex(o, "volume", &v));
		assert_true(json_object_object_get_ex(o, "time", &v));
		json_object_put(o);
		n++;
	}
	fclose(f);
	assert_int_equal(n, 2); /* one line each, newline escaped */
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(rejections),
		cmocka_unit_test(eta),
		cmocka_unit_test(file_and_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
