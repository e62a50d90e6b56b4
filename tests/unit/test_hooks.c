// SPDX-License-Identifier: GPL-2.0
/*
 * Hooks with real child processes (success, failure, timeout with the
 * whole process group killed, output capture and truncation, signals to
 * the agent), the label decision table, mountinfo, point ids, and the
 * parsing of the snapshot command's hook options.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd_snap.h"
#include "hook.h"
#include "label.h"
#include "unit.h"

static struct hook_spec shell(const char *cmd, int timeout_ms)
{
	struct hook_spec h = { .cmd = cmd,
			       .shell = true,
			       .timeout_ms = timeout_ms,
			       .volumes = "db" };

	return h;
}

static void hook_success_and_phase(void **state)
{
	struct hook_spec h =
		shell("echo \"$FERRY_HOOK_PHASE:$FERRY_VOLUMES\"; echo", 5000);
	struct hook_result r;
	char st[16];

	(void)state;
	assert_int_equal(hook_run(&h, "freeze", NULL, &r), 0);
	assert_true(hook_ok(&r));
	/* "CMD freeze": the phase is the last argument ($1 of the snippet). */
	assert_string_equal(r.output, "freeze:db\nfreeze\n");
	hook_status_text(&r, st, sizeof(st));
	assert_string_equal(st, "0");
}

static void hook_argv_without_shell(void **state)
{
	struct hook_spec h = { .cmd = "  /bin/echo  a\tb ",
			       .timeout_ms = 5000 };
	struct hook_result r;

	(void)state;
	assert_int_equal(hook_run(&h, "thaw", NULL, &r), 0);
	assert_true(hook_ok(&r));
	assert_string_equal(r.output, "a b thaw\n");
	/* No shell: quotes and $ are plain characters. */
	h.cmd = "/bin/echo '$HOME' ;";
	assert_int_equal(hook_run(&h, "freeze", NULL, &r), 0);
	assert_string_equal(r.output, "'$HOME' ; freeze\n");
}

static void hook_failure_status(void **state)
{
	struct hook_spec h = shell("echo nope >&2; exit 3", 5000);
	struct hook_result r;
	char st[16], why[256];

	(void)state;
	assert_int_equal(hook_run(&h, "freeze", NULL, &r), 0);
	assert_false(hook_ok(&r));
	assert_true(r.exited);
	assert_int_equal(r.status, 3);
	hook_status_text(&r, st, sizeof(st));
	assert_string_equal(st, "3");
	hook_failure_text(&r, why, sizeof(why));
	assert_string_equal(why, "exited 3: nope");
}

static void hook_not_found(void **state)
{
	struct hook_spec h = { .cmd = "/nonexistent/hook", .timeout_ms = 5000 };
	struct hook_result r;
	char st[16];

	(void)state;
	assert_int_equal(hook_run(&h, "freeze", NULL, &r), 0);
	assert_false(hook_ok(&r));
	assert_int_equal(r.status, 127);
	assert_non_null(strstr(r.output, "cannot run /nonexistent/hook"));
	hook_status_text(&r, st, sizeof(st));
	assert_string_equal(st, "127");
}

/* Running: not gone and not a zombie waiting for a reaper. */
static bool alive(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	bool live = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');
		live = p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
	}
	fclose(f);
	return live;
}

static void hook_timeout_kills_group(void **state)
{
	char cmd[256], path[] = "/tmp/ferry-hook-test.XXXXXX", why[256];
	struct hook_result r;
	struct hook_spec h;
	struct timespec t0, t1;
	long ms;
	pid_t bg = 0;
	FILE *f;
	int fd = mkstemp(path), i;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	/* A background child in the hook's group, then the hook hangs. */
	snprintf(cmd, sizeof(cmd),
		 "sleep 100 & echo $! > %s; echo started; sleep 100; :", path);
	/*
	 * Long enough for the shell to start, print and record its child
	 * even on a loaded machine (a 300 ms deadline once fired first).
	 */
	h = shell(cmd, 1500);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(hook_run(&h, "freeze", NULL, &r), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	/* Both clocks are read in whole milliseconds: 1 ms either way. */
	assert_true(ms >= 1499 && ms < 6000);
	assert_true(r.timed_out);
	assert_false(hook_ok(&r));
	assert_string_equal(r.output, "started\n");
	hook_failure_text(&r, why, sizeof(why));
	assert_non_null(strstr(why, "timed out after"));
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &bg), 1);
	fclose(f);
	unlink(path);
	/* SIGKILL to the group: the background sleep is gone too. */
	for (i = 0; i < 100 && alive(bg); i++)
		usleep(10000);
	assert_false(alive(bg));
}

static void hook_output_truncated(void **state)
{
	struct hook_spec h =
		shell("head -c 10000 /dev/zero | tr '\\0' x; exit 0", 5000);
	struct hook_result r;
	size_t i;

	(void)state;
	assert_int_equal(hook_run(&h, "freeze", NULL, &r), 0);
	assert_true(hook_ok(&r));
	assert_int_equal(r.output_len, HOOK_OUTPUT_MAX);
	assert_int_equal(r.output_dropped, 10000 - HOOK_OUTPUT_MAX);
	for (i = 0; i < r.output_len; i++)
		assert_int_equal(r.output[i], 'x');
	assert_int_equal(r.output[HOOK_OUTPUT_MAX], '\0');
}

static void hook_left_behind_helper(void **state)
{
	/* A helper holding the pipe must not keep hook_run waiting. */
	struct hook_spec h = shell("sleep 3 & echo ready; :", 10000);
	struct hook_result r;

	(void)state;
	assert_int_equal(hook_run(&h, "freeze", NULL, &r), 0);
	assert_true(hook_ok(&r));
	assert_true(r.ms < 2000);
	assert_string_equal(r.output, "ready\n");
}

static void hook_stopped_by_signal(void **state)
{
	struct hook_spec h = shell("sleep 100", 10000);
	struct hook_result r;
	char st[16];

	(void)state;
	hook_signals_catch();
	raise(SIGTERM); /* caught: sets the flag, the agent lives on */
	assert_int_equal(hook_stop_signal, SIGTERM);
	assert_int_equal(hook_run(&h, "freeze", &hook_stop_signal, &r), 0);
	assert_true(r.interrupted);
	hook_status_text(&r, st, sizeof(st));
	assert_string_equal(st, "interrupted");
	/* The thaw is run without the stop flag and completes. */
	h = shell("echo thawed", 5000);
	assert_int_equal(hook_run(&h, "thaw", NULL, &r), 0);
	assert_true(hook_ok(&r));
	hook_signals_restore();
	hook_stop_signal = 0;
}

static void hook_split_words(void **state)
{
	char *argv[4], buf[64];
	struct ferr e;

	(void)state;
	assert_int_equal(hook_split("a  b\tc", argv, 4, buf, sizeof(buf), &e),
			 0);
	assert_string_equal(argv[0], "a");
	assert_string_equal(argv[2], "c");
	assert_null(argv[3]);
	assert_int_equal(hook_split("a b c d", argv, 4, buf, sizeof(buf), &e),
			 -E2BIG);
	assert_int_equal(hook_split("  ", argv, 4, buf, sizeof(buf), &e),
			 -EINVAL);
}

/* ---- labels ---- */

static void label_table(void **state)
{
	static const struct {
		bool hook, ok, accept, mounted;
		int expect; /* label, or -errno */
	} rows[] = {
		/* hook  ok     accept mounted */
		{ true, true, false, true, LABEL_APPLICATION },
		{ true, true, false, false, LABEL_APPLICATION },
		{ true, true, true, true, LABEL_APPLICATION },
		{ true, false, false, true, -ECANCELED },
		{ true, false, false, false, -ECANCELED },
		{ true, false, true, true, LABEL_FILESYSTEM },
		{ true, false, true, false, LABEL_CRASH },
		{ false, false, false, true, LABEL_FILESYSTEM },
		{ false, false, false, false, LABEL_CRASH },
	};
	enum ferry_label l;
	struct ferr e;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct label_input in = { rows[i].hook, rows[i].ok,
					  rows[i].accept, rows[i].mounted,
					  NULL };
		int ret = label_decide(&in, &l, &e);

		if (rows[i].expect < 0) {
			assert_int_equal(ret, rows[i].expect);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(l, rows[i].expect);
		}
	}
}

static void label_requested(void **state)
{
	struct label_input in = { .fs_mounted = true };
	enum ferry_label l;
	struct ferr e;

	(void)state;
	in.requested = "crash";
	assert_int_equal(label_decide(&in, &l, &e), 0);
	assert_int_equal(l, LABEL_CRASH);
	in.requested = "application";
	assert_int_equal(label_decide(&in, &l, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "no freeze hook succeeded"));
	in.fs_mounted = false;
	in.requested = "filesystem";
	assert_int_equal(label_decide(&in, &l, &e), -EINVAL);
	assert_non_null(strstr(e.msg, "no filesystem is mounted"));
	in.requested = "bogus";
	assert_int_equal(label_decide(&in, &l, &e), -EINVAL);
	assert_string_equal(label_name(LABEL_FILESYSTEM), "filesystem");
	assert_int_equal(label_from_name("application"), LABEL_APPLICATION);
}

static void mountinfo_parse(void **state)
{
	const char *mi =
		"22 1 0:20 / / rw - rootfs rootfs rw\n"
		"36 22 252:0 / /mnt/f rw,relatime - ext4 /dev/ferry0 rw\n"
		"37 22 8:16 / /mnt/b rw - xfs /dev/sdb rw";

	(void)state;
	assert_true(mountinfo_has_dev(mi, 252, 0));
	assert_true(mountinfo_has_dev(mi, 8, 16));
	assert_false(mountinfo_has_dev(mi, 252, 1));
	assert_false(mountinfo_has_dev(mi, 25, 20));
	assert_false(mountinfo_has_dev("", 252, 0));
	assert_false(device_is_mounted("/nonexistent"));
}

static void point_ids(void **state)
{
	char a[40], b[40];
	struct ferr e;

	(void)state;
	assert_int_equal(point_id_new(a, sizeof(a), &e), 0);
	assert_int_equal(point_id_new(b, sizeof(b), &e), 0);
	assert_int_equal(strlen(a), 36);
	assert_string_not_equal(a, b);
	assert_int_equal(a[14], '4');
	assert_true(looks_like_point_id(a));
	assert_false(looks_like_point_id("17"));
	assert_false(looks_like_point_id("12345678"));
	assert_false(looks_like_point_id("1x"));
	assert_false(looks_like_point_id("-1234567abc"));
	assert_false(looks_like_point_id("abc def ghi"));
}

/* ---- arguments ---- */

static void snapshot_hook_args(void **state)
{
	struct ferry_ctx ctx;
	struct snapshot_args a;
	struct argv_buf *v;
	struct ferr e;

	(void)state;
	ctx_init(&ctx);
	v = ARGV("snapshot", "db", "--hook", "/usr/lib/ferry/hooks/sqlite /x");
	assert_int_equal(snapshot_parse(&ctx, v->argc, v->argv, &a, &e), 0);
	assert_string_equal(a.hook, "/usr/lib/ferry/hooks/sqlite /x");
	assert_false(a.hook_shell);
	assert_int_equal(a.hook_timeout_ms, HOOK_DEFAULT_TIMEOUT_MS);
	assert_false(a.accept_lower);
	argv_free(v);

	v = ARGV("snapshot", "db", "--hook", "h", "--hook-shell",
		 "--hook-timeout", "2.5", "--accept-lower-label");
	assert_int_equal(snapshot_parse(&ctx, v->argc, v->argv, &a, &e), 0);
	assert_true(a.hook_shell);
	assert_int_equal(a.hook_timeout_ms, 2500);
	assert_true(a.accept_lower);
	argv_free(v);

	v = ARGV("snapshot", "db", "--hook-shell");
	assert_int_equal(snapshot_parse(&ctx, v->argc, v->argv, &a, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "--hook-shell needs --hook"));
	argv_free(v);
	v = ARGV("snapshot", "db", "--accept-lower-label");
	assert_int_equal(snapshot_parse(&ctx, v->argc, v->argv, &a, &e),
			 -EINVAL);
	argv_free(v);
	v = ARGV("snapshot", "db", "--hook", "h", "--hook-timeout", "0");
	assert_int_equal(snapshot_parse(&ctx, v->argc, v->argv, &a, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "--hook-timeout"));
	argv_free(v);
	v = ARGV("snapshot", "db", "--hook", "");
	assert_int_equal(snapshot_parse(&ctx, v->argc, v->argv, &a, &e),
			 -EINVAL);
	argv_free(v);
}

static void snap_refs(void **state)
{
	const char *point;
	uint32_t id;
	struct ferr e;

	(void)state;
	assert_int_equal(parse_snap_ref("17", "SNAPID", &id, &point, &e), 0);
	assert_int_equal(id, 17);
	assert_null(point);
	assert_int_equal(parse_snap_ref("0b7e3f5a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
					"SNAPID", &id, &point, &e),
			 0);
	assert_int_equal(id, 0);
	assert_string_equal(point, "0b7e3f5a-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
	assert_int_equal(parse_snap_ref("1x", "SNAPID", &id, &point, &e),
			 -EINVAL);
	assert_non_null(strstr(e.msg, "SNAPID must be a positive number"));
}

static void reconcile_args(void **state)
{
	struct ferry_ctx ctx;
	struct reconcile_args a;
	struct argv_buf *v;
	struct ferr e;

	(void)state;
	ctx_init(&ctx);
	v = ARGV("reconcile");
	assert_int_equal(reconcile_parse(&ctx, v->argc, v->argv, &a, &e), 0);
	assert_null(a.name);
	argv_free(v);
	v = ARGV("reconcile", "db", "--json");
	assert_int_equal(reconcile_parse(&ctx, v->argc, v->argv, &a, &e), 0);
	assert_string_equal(a.name, "db");
	assert_true(ctx.json);
	argv_free(v);
	v = ARGV("reconcile", "a", "b");
	assert_int_equal(reconcile_parse(&ctx, v->argc, v->argv, &a, &e),
			 -EINVAL);
	argv_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hook_success_and_phase),
		cmocka_unit_test(hook_argv_without_shell),
		cmocka_unit_test(hook_failure_status),
		cmocka_unit_test(hook_not_found),
		cmocka_unit_test(hook_timeout_kills_group),
		cmocka_unit_test(hook_output_truncated),
		cmocka_unit_test(hook_left_behind_helper),
		cmocka_unit_test(hook_stopped_by_signal),
		cmocka_unit_test(hook_split_words),
		cmocka_unit_test(label_table),
		cmocka_unit_test(label_requested),
		cmocka_unit_test(mountinfo_parse),
		cmocka_unit_test(point_ids),
		cmocka_unit_test(snapshot_hook_args),
		cmocka_unit_test(snap_refs),
		cmocka_unit_test(reconcile_args),
	};

	return cmocka_run_group_tests_name("hooks", tests, NULL, NULL);
}
