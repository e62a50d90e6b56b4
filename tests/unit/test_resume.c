// SPDX-License-Identifier: GPL-2.0
/*
 * Resume and tags travel: the RESUME, TAG and TAG_ACK frames, the
 * receiver's resume file, skipping what is durable, the token bucket,
 * and the primary's tag update queue.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repl_state.h"
#include "resume.h"
#include "tagq.h"
#include "unit.h"
#include "wire.h"

static const struct wire_limits lim = { .volume_size = 1 << 20 };

static void hdr(uint8_t *buf, uint16_t type, uint32_t plen, uint64_t a0,
		uint64_t a1)
{
	struct wire_hdr h = { .type = type,
			      .flags = WIRE_F_REQUIRED,
			      .payload_len = plen,
			      .arg0 = a0,
			      .arg1 = a1 };

	wire_hdr_encode_raw(buf, &h);
}

static void resume_frame(void **state)
{
	uint8_t buf[WIRE_HDR_LEN];
	struct wire_hdr h;
	struct ferr e;

	(void)state;
	wire_hdr_encode(buf, WIRE_RESUME, 3, 8 << 20, 0, NULL, 0);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), WIRE_OK);
	assert_int_equal(h.type, WIRE_RESUME);
	assert_int_equal(h.arg0, 8 << 20);
	assert_string_equal(wire_type_name(WIRE_RESUME), "RESUME");
	/* Unaligned, with a payload, with arg1: refused. */
	hdr(buf, WIRE_RESUME, 0, 100, 0);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EPROTO);
	hdr(buf, WIRE_RESUME, 8, 512, 0);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EPROTO);
	hdr(buf, WIRE_RESUME, 0, 512, 1);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EPROTO);
	/* TAGS_DONE carries nothing. */
	hdr(buf, WIRE_TAGS_DONE, 4, 0, 0);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EPROTO);
	hdr(buf, WIRE_TAG, WIRE_TAGS_MAX + 1, 0, 0);
	assert_int_equal(wire_hdr_decode(buf, &lim, &h, &e), -EMSGSIZE);
}

static void tag_frame_round_trip(void **state)
{
	static struct wire_tags t, got;
	uint8_t buf[WIRE_TAGS_MAX];
	struct ferr e;
	size_t n, i;

	(void)state;
	memset(&t, 0, sizeof(t));
	strcpy(t.point, "0d5e2a3c-1111-4222-8333-444455556666");
	strcpy(t.tags[0], "drill=requested");
	strcpy(t.tags[1], "color=");
	t.ntags = 2;
	n = wire_tags_encode(&t, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(wire_tags_decode(buf, n, &got, &e), 0);
	assert_memory_equal(&t, &got, sizeof(t));
	/* The largest one fits WIRE_TAGS_MAX. */
	t.ntags = FERRY_TAGS_MAX;
	for (i = 0; i < FERRY_TAGS_MAX; i++) {
		memset(t.tags[i], 'v', WIRE_TAG_MAX);
		t.tags[i][0] = 'k';
		t.tags[i][1] = '=';
		t.tags[i][WIRE_TAG_MAX] = '\0';
	}
	memset(t.point, 'p', WIRE_POINT_MAX);
	t.point[WIRE_POINT_MAX] = '\0';
	n = wire_tags_encode(&t, buf, sizeof(buf));
	assert_int_equal(n, WIRE_TAGS_MAX);
	assert_int_equal(wire_tags_decode(buf, n, &got, &e), 0);
	/* No point: not encoded. */
	t.point[0] = '\0';
	assert_int_equal(wire_tags_encode(&t, buf, sizeof(buf)), 0);
}

static void tag_frame_rejections(void **state)
{
	static struct wire_tags t, got;
	uint8_t buf[WIRE_TAGS_MAX + 8];
	struct ferr e;
	size_t n;

	(void)state;
	memset(&t, 0, sizeof(t));
	strcpy(t.point, "p1");
	strcpy(t.tags[0], "a=b");
	t.ntags = 1;
	n = wire_tags_encode(&t, buf, sizeof(buf));
	/* Truncated anywhere, trailing bytes. */
	assert_int_equal(wire_tags_decode(buf, n - 1, &got, &e), -EPROTO);
	assert_int_equal(wire_tags_decode(buf, 3, &got, &e), -EPROTO);
	assert_int_equal(wire_tags_decode(buf, 0, &got, &e), -EPROTO);
	buf[n] = 0;
	assert_int_equal(wire_tags_decode(buf, n + 1, &got, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "trailing"));
	/* A tag without a key, or without '='. */
	buf[n - 3] = '=';
	assert_int_equal(wire_tags_decode(buf, n, &got, &e), -EPROTO);
	buf[n - 3] = 'a';
	buf[n - 2] = 'x';
	assert_int_equal(wire_tags_decode(buf, n, &got, &e), -EPROTO);
	buf[n - 2] = '=';
	/* Not printable. */
	buf[2] = '\n';
	assert_int_equal(wire_tags_decode(buf, n, &got, &e), -EPROTO);
	buf[2] = 'p';
	/* Too many tags, empty point. */
	buf[4] = 0xff;
	assert_int_equal(wire_tags_decode(buf, n, &got, &e), -EMSGSIZE);
	buf[4] = 1;
	assert_int_equal(wire_tags_decode(buf, n, &got, &e), 0);
	buf[0] = 0;
	buf[1] = 0;
	assert_int_equal(wire_tags_decode(buf, n, &got, &e), -EPROTO);
}

static void resume_file(void **state)
{
	char dir[] = "/tmp/ferry-unit-XXXXXX", path[256], buf[1024];
	struct resume_state r = { 0 }, got;
	struct wire_begin *b = calloc(1, sizeof(*b));
	struct ferr e;

	(void)state;
	memset(b->cbt_uuid, 0x5a, 16);
	strcpy(b->base_point, "base");
	strcpy(b->target_point, "target");
	resume_from_begin(b, &r);
	r.offset = 24 << 20;
	assert_true(resume_format(&r, buf, sizeof(buf)) > 0);
	assert_int_equal(resume_parse(buf, &got, &e), 0);
	assert_memory_equal(&r, &got, sizeof(r));
	assert_true(resume_same(&r, &got));
	/* Another target, base or CBT uuid is another stream. */
	strcpy(got.target, "other");
	assert_false(resume_same(&r, &got));
	got = r;
	got.base[0] = '\0';
	assert_false(resume_same(&r, &got));
	got = r;
	got.cbt_uuid[3] ^= 1;
	assert_false(resume_same(&r, &got));
	/* Torn (no end line, no final newline), unaligned, garbage. */
	buf[strlen(buf) - 1] = '\0';
	assert_int_equal(resume_parse(buf, &got, &e), -EINVAL);
	*strstr(buf, "end=1") = '\0';
	assert_int_equal(resume_parse(buf, &got, &e), -EINVAL);
	assert_int_equal(resume_parse("version=1\ncbt_uuid=5a5a5a5a-5a5a-5a5a-"
				      "5a5a-5a5a5a5a5a5a\nbase=\ntarget=t\n"
				      "offset=100\nend=1\n",
				      &got, &e),
			 -EINVAL);
	assert_int_equal(resume_parse("version=1\ncbt_uuid=5a5a5a5a-5a5a-5a5a-"
				      "5a5a-5a5a5a5a5a5a\nbase=\ntarget=t\n"
				      "offset=512\nend=1\n",
				      &got, &e),
			 0);
	assert_int_equal(resume_parse("version=2\n", &got, &e), -EINVAL);
	/* Saved and loaded; cleared. */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/recv-v1.resume", dir);
	assert_int_equal(resume_load(path, &got, &e), -ENOENT);
	assert_int_equal(resume_save(path, &r, &e), 0);
	assert_int_equal(resume_load(path, &got, &e), 0);
	assert_memory_equal(&r, &got, sizeof(r));
	assert_int_equal(resume_clear(path, &e), 0);
	assert_int_equal(resume_clear(path, &e), 0);
	assert_int_equal(resume_load(path, &got, &e), -ENOENT);
	rmdir(dir);
	free(b);
}

static void skip_below(void **state)
{
	struct extent x[4] = { { 0, 4096 },
			       { 65536, 65536 },
			       { 1 << 20, 8192 },
			       { 2 << 20, 512 } };
	struct extent y[4];

	(void)state;
	memcpy(y, x, sizeof(x));
	assert_int_equal(extents_skip_below(y, 4, 0), 4);
	assert_memory_equal(x, y, sizeof(x));
	/* Inside the second extent: it is cut, the first dropped. */
	memcpy(y, x, sizeof(x));
	assert_int_equal(extents_skip_below(y, 4, 65536 + 4096), 3);
	assert_int_equal(y[0].offset, 65536 + 4096);
	assert_int_equal(y[0].length, 65536 - 4096);
	assert_int_equal(y[1].offset, 1 << 20);
	/* Exactly at an extent's end, in a gap. */
	memcpy(y, x, sizeof(x));
	assert_int_equal(extents_skip_below(y, 4, 131072), 2);
	assert_int_equal(y[0].offset, 1 << 20);
	assert_int_equal(y[0].length, 8192);
	memcpy(y, x, sizeof(x));
	assert_int_equal(extents_skip_below(y, 4, 3 << 19), 1);
	assert_int_equal(y[0].offset, 2 << 20);
	/* At or past the end: nothing left. */
	memcpy(y, x, sizeof(x));
	assert_int_equal(extents_skip_below(y, 4, (2 << 20) + 512), 0);
	assert_int_equal(extents_skip_below(y, 0, 0), 0);
}

static void token_bucket(void **state)
{
	struct bwlimit b;
	struct ferr e;
	uint64_t rate;
	long long t = 1000000, waited = 0, w;
	int i;

	(void)state;
	bwlimit_init(&b, 0, t);
	assert_int_equal(bwlimit_take(&b, 1 << 30, t), 0);
	/* 10 MiB/s: 100 frames of 1 MiB take about 10 s of waiting. */
	bwlimit_init(&b, 10 << 20, t);
	for (i = 0; i < 100; i++) {
		w = bwlimit_take(&b, 1 << 20, t);
		waited += w;
		t += w;
	}
	assert_true(waited > 9900000 && waited < 10100000);
	/* An idle second earns at most the burst. */
	t += 5000000;
	assert_int_equal(bwlimit_take(&b, 1 << 20, t), 0);
	assert_true(bwlimit_take(&b, 4 << 20, t) > 0);
	assert_int_equal(parse_rate("10M", &rate, &e), 0);
	assert_int_equal(rate, 10 << 20);
	assert_int_equal(parse_rate("512k", &rate, &e), 0);
	assert_int_equal(rate, 512 << 10);
	assert_int_equal(parse_rate("100000", &rate, &e), 0);
	assert_int_equal(rate, 100000);
	assert_int_equal(parse_rate("0", &rate, &e), -EINVAL);
	assert_int_equal(parse_rate("10X", &rate, &e), -EINVAL);
	assert_int_equal(parse_rate("-1M", &rate, &e), -EINVAL);
	assert_int_equal(parse_rate("M", &rate, &e), -EINVAL);
	assert_int_equal(parse_rate("99999999999999999G", &rate, &e), -EINVAL);
}

static void queue_in_order(void **state)
{
	char dir[] = "/tmp/ferry-unit-XXXXXX", path[256];
	char *a[] = { "drill=requested" }, *b[] = { "color=one", "size=9" },
	     *c[] = { "color=two" };
	struct tagq q;
	struct ferr e;
	uint64_t seq;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(tagq_path(dir, "v0", path, sizeof(path)), 0);
	assert_int_equal(tagq_load(path, &q, &e), 0);
	assert_int_equal(q.n, 0);
	assert_int_equal(tagq_append(path, "p1", a, 1, &seq, &e), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(tagq_append(path, "p2", b, 2, &seq, &e), 0);
	assert_int_equal(tagq_append(path, "p1", c, 1, &seq, &e), 0);
	assert_int_equal(seq, 3);
	assert_int_equal(tagq_load(path, &q, &e), 0);
	assert_int_equal(q.n, 3);
	assert_string_equal(q.e[0].point, "p1");
	assert_string_equal(q.e[0].tags[0], "drill=requested");
	assert_string_equal(q.e[1].point, "p2");
	assert_int_equal(q.e[1].ntags, 2);
	assert_string_equal(q.e[1].tags[1], "size=9");
	assert_string_equal(q.e[2].tags[0], "color=two");
	tagq_free(&q);
	/* Acknowledged: removed, the others stay in order. */
	assert_int_equal(tagq_remove(path, 1, &e), 0);
	assert_int_equal(tagq_load(path, &q, &e), 0);
	assert_int_equal(q.n, 2);
	assert_int_equal(q.e[0].seq, 2);
	assert_int_equal(q.e[1].seq, 3);
	tagq_free(&q);
	/* Sequence numbers keep growing while entries are queued. */
	assert_int_equal(tagq_append(path, "p3", a, 1, &seq, &e), 0);
	assert_int_equal(seq, 4);
	assert_int_equal(tagq_remove(path, 2, &e), 0);
	assert_int_equal(tagq_remove(path, 3, &e), 0);
	assert_int_equal(tagq_remove(path, 4, &e), 0);
	assert_int_equal(tagq_load(path, &q, &e), 0);
	assert_int_equal(q.n, 0);
	unlink(path);
	snprintf(path + strlen(path), 8, ".lock");
	unlink(path);
	rmdir(dir);
}

static void queue_crash_safety(void **state)
{
	char dir[] = "/tmp/ferry-unit-XXXXXX", path[256], line[512];
	char *a[] = { "k=v" };
	struct tagq_entry t = { .seq = 7, .point = "p" };
	struct tagq q;
	struct ferr e;
	int fd, n;

	(void)state;
	/* A line's checksum covers every field. */
	strcpy(t.tags[0], "drill=pass");
	t.ntags = 1;
	n = tagq_format(&t, line, sizeof(line));
	assert_true(n > 0);
	assert_int_equal(tagq_parse_line(line, (size_t)n - 1, &t), 0);
	assert_int_equal(t.seq, 7);
	line[3] = 'X';
	assert_int_equal(tagq_parse_line(line, (size_t)n - 1, &t), -EINVAL);
	/* Fields that would break the format are refused. */
	strcpy(t.tags[0], "a=b\tc");
	assert_int_equal(tagq_format(&t, line, sizeof(line)), -EINVAL);
	strcpy(t.tags[0], "novalue");
	assert_int_equal(tagq_format(&t, line, sizeof(line)), -EINVAL);

	assert_non_null(mkdtemp(dir));
	assert_int_equal(tagq_path(dir, "v0", path, sizeof(path)), 0);
	assert_int_equal(tagq_append(path, "p1", a, 1, NULL, &e), 0);
	/* A crash in the middle of the next append: a torn line. */
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "2\tp2\tk=", 7), 7);
	close(fd);
	assert_int_equal(tagq_load(path, &q, &e), 0);
	assert_int_equal(q.n, 1);
	tagq_free(&q);
	/* The next append cuts it and goes on. */
	assert_int_equal(tagq_append(path, "p3", a, 1, NULL, &e), 0);
	assert_int_equal(tagq_load(path, &q, &e), 0);
	assert_int_equal(q.n, 2);
	assert_string_equal(q.e[1].point, "p3");
	assert_int_equal(q.e[1].seq, 2);
	tagq_free(&q);
	/* A damaged complete line is skipped, the rest kept. */
	assert_int_equal(tagq_parse("1\tp\tk=v\t00000000\n", 18, &q, &e), 0);
	assert_int_equal(q.n, 0);
	tagq_free(&q);
	unlink(path);
	snprintf(path + strlen(path), 8, ".lock");
	unlink(path);
	rmdir(dir);
}

static void base_in_flight(void **state)
{
	struct repl_state s, got;
	char buf[2048];
	struct ferr e;

	(void)state;
	/* The first point, not acknowledged yet: no base, a point in flight. */
	memset(&s, 0, sizeof(s));
	strcpy(s.inflight_point, "0d5e2a3c-1111-4222-8333-444455556666");
	s.inflight_snap_id = 4;
	s.failed = true;
	strcpy(s.peer, "dr:7000");
	assert_true(repl_state_format(&s, buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "epoch="));
	assert_int_equal(repl_state_parse(buf, &got, &e), 0);
	assert_memory_equal(&s, &got, sizeof(s));
	assert_string_equal(got.point, "");
	/* A base and a point in flight, with the ack's bookkeeping. */
	strcpy(s.point, "11111111-1111-4111-8111-111111111111");
	s.epoch = 9;
	s.cbt_gen = 2;
	s.created = 1700000000;
	s.acked_at = 1700000100;
	s.bytes_sent = 12345;
	assert_true(repl_state_format(&s, buf, sizeof(buf)) > 0);
	assert_int_equal(repl_state_parse(buf, &got, &e), 0);
	assert_memory_equal(&s, &got, sizeof(s));
	/* Neither a base nor a point in flight; a bad flag. */
	assert_int_equal(repl_state_parse("version=1\npeer=x\n", &got, &e),
			 -EINVAL);
	assert_int_equal(repl_state_parse("inflight_point=p\nfailed=2\n", &got,
					  &e),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(resume_frame),
		cmocka_unit_test(tag_frame_round_trip),
		cmocka_unit_test(tag_frame_rejections),
		cmocka_unit_test(resume_file),
		cmocka_unit_test(skip_below),
		cmocka_unit_test(token_bucket),
		cmocka_unit_test(queue_in_order),
		cmocka_unit_test(queue_crash_safety),
		cmocka_unit_test(base_in_flight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
