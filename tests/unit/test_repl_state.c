// SPDX-License-Identifier: GPL-2.0
/*
 * The replication state file (base of the next delta) and the arguments
 * of replicate and receive.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_repl.h"
#include "repl_state.h"
#include "unit.h"

static void sample(struct repl_state *s)
{
	memset(s, 0, sizeof(*s));
	s->epoch = 42;
	memset(s->cbt_uuid, 0xab, 16);
	s->cbt_uuid[0] = 0x01;
	s->cbt_gen = 7;
	strcpy(s->point, "0d5e2a3c-1111-4222-8333-444455556666");
	s->source_snap_id = 12;
	s->replica_snap_id = 3;
	strcpy(s->peer, "10.0.0.2:7000");
}

static void format_parse_round_trip(void **state)
{
	struct repl_state s, got;
	char buf[1024];
	struct ferr e;

	(void)state;
	sample(&s);
	assert_true(repl_state_format(&s, buf, sizeof(buf)) > 0);
	assert_int_equal(repl_state_parse(buf, &got, &e), 0);
	assert_memory_equal(&s, &got, sizeof(s));
	/* Too small a buffer. */
	assert_int_equal(repl_state_format(&s, buf, 20), -ENOSPC);
}

static void parse_rejections(void **state)
{
	struct repl_state got;
	struct ferr e;

	(void)state;
	assert_int_equal(repl_state_parse("point=x\nepoch=1\ncbt_gen=1\n", &got,
					  &e),
			 -EINVAL); /* no cbt_uuid */
	assert_int_equal(repl_state_parse("version=2\n", &got, &e), -EINVAL);
	assert_int_equal(repl_state_parse("garbage\n", &got, &e), -EINVAL);
	assert_int_equal(
		repl_state_parse(
			"point=x\nepoch=-1\ncbt_gen=1\n"
			"cbt_uuid=00000000-0000-0000-0000-000000000000\n",
			&got, &e),
		-EINVAL);
	assert_int_equal(
		repl_state_parse(
			"point=x\nepoch=1\ncbt_gen=1\n"
			"cbt_uuid=0000000-0000-0000-0000-000000000000\n",
			&got, &e),
		-EINVAL);
	/* Unknown keys of a newer agent are ignored. */
	assert_int_equal(
		repl_state_parse(
			"point=x\nepoch=1\ncbt_gen=1\nfuture=yes\n"
			"cbt_uuid=00000000-0000-0000-0000-000000000001\n",
			&got, &e),
		0);
	assert_int_equal(got.cbt_uuid[15], 1);
}

static void save_load(void **state)
{
	char dir[] = "/tmp/ferry-unit-XXXXXX", path[256], tmp[300];
	struct repl_state s, got;
	struct ferr e;
	struct stat st;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(repl_base_path(dir, "v0", path, sizeof(path)), 0);
	assert_non_null(strstr(path, "/repl-v0.base"));
	assert_int_equal(repl_state_load(path, &got, &e), -ENOENT);
	sample(&s);
	assert_int_equal(repl_state_save(path, &s, &e), 0);
	assert_int_equal(repl_state_load(path, &got, &e), 0);
	assert_memory_equal(&s, &got, sizeof(s));
	/* Replaced, no temporary file left, private. */
	s.epoch = 43;
	assert_int_equal(repl_state_save(path, &s, &e), 0);
	assert_int_equal(repl_state_load(path, &got, &e), 0);
	assert_int_equal(got.epoch, 43);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A damaged file is an error that names it. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "epoch=1\n", 8), 8);
	close(fd);
	assert_int_equal(repl_state_load(path, &got, &e), -EINVAL);
	assert_non_null(strstr(e.msg, path));
	unlink(path);
	rmdir(dir);
}

static void point_ids(void **state)
{
	char a[40], b[40];
	struct ferr e;

	(void)state;
	assert_int_equal(new_point_id(a, sizeof(a), &e), 0);
	assert_int_equal(new_point_id(b, sizeof(b), &e), 0);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[14], '4');
	assert_string_not_equal(a, b);
}

/* The last argv parsed: the parsed args point into it until the next. */
static struct argv_buf *last;

static void keep(struct argv_buf *a)
{
	if (last)
		argv_free(last);
	last = a;
}

static int parse_rep(struct argv_buf *a, struct replicate_args *out,
		     struct ferr *e)
{
	struct ferry_ctx ctx;
	int ret;

	ctx_init(&ctx);
	ret = replicate_parse(&ctx, a->argc, a->argv, out, e);
	keep(a);
	return ret;
}

static int parse_recv(struct argv_buf *a, struct receive_args *out,
		      struct ferr *e)
{
	struct ferry_ctx ctx;
	int ret;

	ctx_init(&ctx);
	ret = receive_parse(&ctx, a->argc, a->argv, out, e);
	keep(a);
	return ret;
}

static void replicate_args(void **state)
{
	struct replicate_args r;
	struct ferr e;

	(void)state;
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to",
					"127.0.0.1:7000", "--once", "--timeout",
					"30"),
				   &r, &e),
			 0);
	assert_string_equal(r.name, "v0");
	assert_true(r.once);
	assert_int_equal(r.timeout_ms, 30000);
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "[::1]:7",
					"--every", "60"),
				   &r, &e),
			 0);
	assert_int_equal(r.every_ms, 60000);
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--once"), &r, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "--to"));
	assert_int_equal(
		parse_rep(ARGV("replicate", "v0", "--to", "host", "--once"), &r,
			  &e),
		-EINVAL);
	assert_non_null(strstr(e.msg, "HOST:PORT"));
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1"), &r,
				   &e),
			 -EINVAL);
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--every", "5"),
				   &r, &e),
			 -EINVAL);
	assert_int_equal(parse_rep(ARGV("replicate", "--help"), &r, &e),
			 CLI_HELP);
	assert_null(r.hook);
}

static void replicate_hook_args(void **state)
{
	struct replicate_args r;
	struct ferr e;

	(void)state;
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--hook", "/bin/true"),
				   &r, &e),
			 0);
	assert_string_equal(r.hook, "/bin/true");
	assert_false(r.hook_shell);
	assert_false(r.accept_lower);
	assert_int_equal(r.hook_timeout_ms, 30000);
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--hook", "echo x",
					"--hook-shell", "--hook-timeout", "5",
					"--accept-lower-label"),
				   &r, &e),
			 0);
	assert_string_equal(r.hook, "echo x");
	assert_true(r.hook_shell);
	assert_true(r.accept_lower);
	assert_int_equal(r.hook_timeout_ms, 5000);
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--hook", ""),
				   &r, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "empty"));
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--hook-shell"),
				   &r, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "need --hook"));
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--hook-timeout", "5"),
				   &r, &e),
			 -EINVAL);
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--accept-lower-label"),
				   &r, &e),
			 -EINVAL);
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--hook", "/bin/true",
					"--hook-timeout", "x"),
				   &r, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "--hook-timeout"));
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--tags-only", "--hook", "/bin/true"),
				   &r, &e),
			 -EINVAL);
}

static void replicate_session_args(void **state)
{
	struct replicate_args r;
	struct ferr e;

	(void)state;
	assert_int_equal(
		parse_rep(ARGV("replicate", "v0", "--to", "h:1", "--once"), &r,
			  &e),
		0);
	assert_null(r.session);
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--session", "/bin/helper"),
				   &r, &e),
			 0);
	assert_string_equal(r.session, "/bin/helper");
	assert_null(r.hook);
	assert_false(r.hook_shell);
	assert_int_equal(r.session_timeout_ms, 30000);
	/* --hook-shell and --accept-lower-label go with --session too. */
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--every", "60", "--session",
					"helper --db x", "--hook-shell",
					"--session-timeout", "7",
					"--accept-lower-label"),
				   &r, &e),
			 0);
	assert_string_equal(r.session, "helper --db x");
	assert_true(r.hook_shell);
	assert_true(r.accept_lower);
	assert_int_equal(r.session_timeout_ms, 7000);
	assert_int_equal(r.every_ms, 60000);
	/* Both: the hook freezes, the session quiesces. */
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--hook", "/bin/true",
					"--hook-timeout", "4", "--session",
					"/bin/helper"),
				   &r, &e),
			 0);
	assert_string_equal(r.hook, "/bin/true");
	assert_string_equal(r.session, "/bin/helper");
	assert_int_equal(r.hook_timeout_ms, 4000);
	assert_int_equal(r.session_timeout_ms, 30000);
	/* Refusals. */
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--session", ""),
				   &r, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "--session: empty"));
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--session-timeout", "5"),
				   &r, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "--session-timeout needs --session"));
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--hook", "/bin/true",
					"--session-timeout", "5"),
				   &r, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "--session-timeout needs --session"));
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--session", "/bin/helper",
					"--session-timeout", "x"),
				   &r, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "--session-timeout"));
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--session", "/bin/helper",
					"--hook-timeout", "5"),
				   &r, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "--hook-timeout needs --hook"));
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--hook-shell"),
				   &r, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "--hook or --session"));
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--accept-lower-label"),
				   &r, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "--hook or --session"));
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--tags-only", "--session",
					"/bin/helper"),
				   &r, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "--session takes a point"));
}

static void receive_drill_args(void **state)
{
	struct receive_args r;
	struct ferr e;

	(void)state;
	assert_int_equal(
		parse_recv(ARGV("receive", "v1", "--listen", "0.0.0.0:7000"),
			   &r, &e),
		0);
	assert_false(r.drill);
	assert_int_equal(parse_recv(ARGV("receive", "v1", "--listen",
					 "0.0.0.0:7000", "--drill-check",
					 "/bin/true", "--drill-tag", "dr",
					 "--drill-timeout", "60",
					 "--drill-budget", "64M"),
				    &r, &e),
			 0);
	assert_true(r.drill);
	assert_string_equal(r.drill_check, "/bin/true");
	assert_string_equal(r.drill_tag, "dr");
	assert_int_equal(r.drill_timeout_ms, 60000);
	assert_true(r.drill_budget == 64ULL << 20);
	assert_int_equal(parse_recv(ARGV("receive", "v1", "--listen",
					 "0.0.0.0:7000", "--drill-timeout",
					 "5"),
				    &r, &e),
			 0);
	assert_true(r.drill);
	assert_null(r.drill_check);
	assert_string_equal(r.drill_tag, "drill");
	assert_int_equal(parse_recv(ARGV("receive", "v1", "--listen",
					 "0.0.0.0:7000", "--drill-check", ""),
				    &r, &e),
			 -EINVAL);
	assert_int_equal(parse_recv(ARGV("receive", "v1", "--listen",
					 "0.0.0.0:7000", "--drill-tag",
					 "ferry.x"),
				    &r, &e),
			 -EINVAL);
	assert_int_equal(parse_recv(ARGV("receive", "v1", "--listen",
					 "0.0.0.0:7000", "--drill-budget", "0"),
				    &r, &e),
			 -EINVAL);
	assert_int_equal(parse_recv(ARGV("receive", "v1", "--listen",
					 "0.0.0.0:7000", "--drill-every",
					 "1h30m"),
				    &r, &e),
			 0);
	assert_true(r.drill);
	assert_true(r.drill_every_s == 5400);
	assert_int_equal(parse_recv(ARGV("receive", "v1", "--listen",
					 "0.0.0.0:7000", "--drill-every", "0s"),
				    &r, &e),
			 -EINVAL);
	assert_int_equal(parse_recv(ARGV("receive", "v1", "--listen",
					 "0.0.0.0:7000", "--drill-every", "3x"),
				    &r, &e),
			 -EINVAL);
}

static void compress_args(void **state)
{
	struct replicate_args r;
	struct receive_args v;
	struct ferr e;

	(void)state;
	/* Off by default, at both ends. */
	assert_int_equal(
		parse_rep(ARGV("replicate", "v0", "--to", "h:1", "--once"), &r,
			  &e),
		0);
	assert_int_equal(r.compress_level, 0);
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--compress"),
				   &r, &e),
			 0);
	assert_int_equal(r.compress_level, 3);
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--compress=9",
					"--to", "h:1", "--once"),
				   &r, &e),
			 0);
	assert_int_equal(r.compress_level, 9);
	assert_string_equal(r.name, "v0");
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--compress=0"),
				   &r, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "--compress"));
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--once", "--compress=fast"),
				   &r, &e),
			 -EINVAL);
	assert_int_equal(parse_rep(ARGV("replicate", "v0", "--to", "h:1",
					"--tags-only", "--compress"),
				   &r, &e),
			 -EINVAL);
	assert_int_equal(parse_recv(ARGV("receive", "v1", "--listen", "h:1"),
				    &v, &e),
			 0);
	assert_false(v.no_compress);
	assert_int_equal(parse_recv(ARGV("receive", "v1", "--listen", "h:1",
					 "--no-compress"),
				    &v, &e),
			 0);
	assert_true(v.no_compress);
}

static void receive_args(void **state)
{
	struct receive_args r;
	struct ferr e;

	(void)state;
	assert_int_equal(parse_recv(ARGV("receive", "v1", "--listen",
					 "0.0.0.0:7000", "--once"),
				    &r, &e),
			 0);
	assert_string_equal(r.listen, "0.0.0.0:7000");
	assert_true(r.once);
	assert_int_equal(parse_recv(ARGV("receive", "v1"), &r, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "--listen"));
	assert_int_equal(parse_recv(ARGV("receive", "v1", "--listen", ":x"), &r,
				    &e),
			 -EINVAL);
	assert_int_equal(parse_recv(ARGV("receive", "--listen", ":1"), &r, &e),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(format_parse_round_trip),
		cmocka_unit_test(parse_rejections),
		cmocka_unit_test(save_load),
		cmocka_unit_test(point_ids),
		cmocka_unit_test(replicate_args),
		cmocka_unit_test(replicate_hook_args),
		cmocka_unit_test(replicate_session_args),
		cmocka_unit_test(receive_drill_args),
		cmocka_unit_test(receive_args),
		cmocka_unit_test(compress_args),
	};

	int ret = cmocka_run_group_tests(tests, NULL, NULL);

	keep(NULL);
	return ret;
}
