// SPDX-License-Identifier: GPL-2.0
/*
 * Quiesce sessions against small shell helpers: the protocol when the
 * helper answers, answers wrongly, closes its output, dies, hangs past
 * the deadline, is interrupted; that EOF on its stdin reaches it as
 * "release now"; that nothing of its process group is left behind; and
 * the snapshot command's --session options.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd_snap.h"
#include "session.h"
#include "unit.h"

static struct session_spec shell(const char *cmd, int timeout_ms)
{
	struct session_spec sp = { .cmd = cmd,
				   .shell = true,
				   .timeout_ms = timeout_ms,
				   .volumes = "db logs" };

	return sp;
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A pid written by a helper to @path; 0 if none. */
static pid_t read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	long pid = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return (pid_t)pid;
}

/* Not running: no such process, or a zombie waiting for init to reap it. */
static bool not_running(pid_t pid)
{
	char path[64], buf[256], *p;
	bool dead = true;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	if (fgets(buf, sizeof(buf), f)) {
		p = strrchr(buf, ')');
		dead = p && (p[2] == 'Z' || p[2] == 'X');
	}
	fclose(f);
	return dead;
}

static bool gone(pid_t pid)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (not_running(pid))
			return true;
		usleep(10000);
	}
	return false;
}

static void session_answers(void **state)
{
	struct session_spec sp = shell(
		"read q; echo \"got $q for $FERRY_VOLUMES\" >&2; echo quiesced; "
		"read r; echo \"got $r\" >&2; echo released",
		5000);
	struct session s;

	(void)state;
	assert_int_equal(session_start(&s, &sp), 0);
	assert_true(session_quiesce(&s, NULL));
	assert_string_equal(s.quiesce.status, "ok");
	assert_string_equal(s.quiesce.answer, "quiesced");
	assert_string_equal(s.quiesce.output, "got quiesce for db logs\n");
	assert_true(session_release(&s));
	assert_string_equal(s.release.status, "ok");
	assert_string_equal(s.release.output, "got release\n");
	assert_int_equal(s.pid, 0);
	/* Released twice: nothing more happens. */
	assert_true(session_release(&s));
}

static void session_without_shell(void **state)
{
	char path[] = "/tmp/ferry-session-XXXXXX";
	char cmd[256];
	struct session_spec sp = { .timeout_ms = 5000 };
	struct session s;
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "#!/bin/sh\n"
		   "echo \"args:$#:$1\" >&2\n"
		   "while read l; do\n"
		   "  [ \"$l\" = quiesce ] && echo quiesced\n"
		   "  [ \"$l\" = release ] && { echo released; exit 0; }\n"
		   "done\n");
	fclose(f);
	chmod(path, 0700);
	/* Split on blanks, no shell: '$HOME' stays as it is. */
	snprintf(cmd, sizeof(cmd), " %s\t'$HOME' ", path);
	sp.cmd = cmd;
	assert_int_equal(session_start(&s, &sp), 0);
	assert_true(session_quiesce(&s, NULL));
	assert_string_equal(s.quiesce.output, "args:1:'$HOME'\n");
	assert_true(session_release(&s));
	unlink(path);
}

static void session_wrong_answer(void **state)
{
	struct session_spec sp = shell(
		"read q; echo 'cannot lock' >&2; echo busy; read r", 5000);
	struct session s;
	char why[256];

	(void)state;
	assert_int_equal(session_start(&s, &sp), 0);
	assert_false(session_quiesce(&s, NULL));
	assert_string_equal(s.quiesce.status, "answer");
	assert_string_equal(s.quiesce.answer, "busy");
	session_failure_text(&s.quiesce, why, sizeof(why));
	assert_string_equal(why, "answered 'busy': cannot lock");
	/* It exits 0 on release without saying "released". */
	assert_false(session_release(&s));
	assert_string_equal(s.release.status, "eof");
}

static void session_dies(void **state)
{
	struct session_spec sp =
		shell("read q; echo 'no database' >&2; exit 3", 5000);
	struct session s;
	char why[256];

	(void)state;
	assert_int_equal(session_start(&s, &sp), 0);
	assert_false(session_quiesce(&s, NULL));
	assert_string_equal(s.quiesce.status, "exited-3");
	session_failure_text(&s.quiesce, why, sizeof(why));
	assert_string_equal(why, "exited 3 without answering: no database");
	assert_false(session_release(&s));
	assert_string_equal(s.release.status, "exited-3");
	assert_int_equal(s.pid, 0);
}

static void session_closes_output(void **state)
{
	/* Its stdout closed, the process still there: EOF is a failure. */
	struct session_spec sp = shell("exec >&-; read q; read r", 5000);
	struct session s;

	(void)state;
	assert_int_equal(session_start(&s, &sp), 0);
	assert_false(session_quiesce(&s, NULL));
	assert_string_equal(s.quiesce.status, "eof");
	/* "read r" sees release, then it exits 0 without an answer. */
	assert_false(session_release(&s));
	assert_string_equal(s.release.status, "eof");
}

static void session_not_found(void **state)
{
	struct session_spec sp = { .cmd = "/nonexistent/helper",
				   .timeout_ms = 5000 };
	struct session s;
	char why[256];

	(void)state;
	assert_int_equal(session_start(&s, &sp), 0);
	assert_false(session_quiesce(&s, NULL));
	assert_string_equal(s.quiesce.status, "exited-127");
	session_failure_text(&s.quiesce, why, sizeof(why));
	assert_non_null(strstr(why, "cannot run /nonexistent/helper"));
	session_release(&s);
	/* An empty command is refused before anything runs. */
	sp.cmd = "  ";
	assert_int_equal(session_start(&s, &sp), -EINVAL);
	assert_string_equal(s.quiesce.status, "error");
	assert_false(session_quiesce(&s, NULL));
	assert_false(session_release(&s));
}

/*
 * A helper that never answers and ignores release: timeout at the
 * quiesce deadline, killed with its whole process group at the release
 * deadline (a child it started in the background is gone too).
 */
static void session_hangs(void **state)
{
	char pidfile[] = "/tmp/ferry-session-pid-XXXXXX";
	char cmd[256];
	struct session_spec sp;
	struct session s;
	uint64_t t0;
	pid_t child;
	int fd = mkstemp(pidfile);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "trap '' TERM; sleep 1000 & echo $! >%s; exec 0<&-; "
		 "while :; do sleep 1; done",
		 pidfile);
	/* Long enough for the shell to record its child on a loaded host. */
	sp = shell(cmd, 1500);
	assert_int_equal(session_start(&s, &sp), 0);
	t0 = ms_now();
	assert_false(session_quiesce(&s, NULL));
	assert_string_equal(s.quiesce.status, "timeout");
	assert_true(ms_now() - t0 >= 1500);
	assert_true(ms_now() - t0 < 6000);
	child = read_pid(pidfile);
	assert_true(child > 0);
	t0 = ms_now();
	assert_false(session_release(&s));
	assert_string_equal(s.release.status, "timeout");
	assert_true(ms_now() - t0 >= 1500);
	assert_true(ms_now() - t0 < 6000);
	assert_true(gone(child));
	unlink(pidfile);
}

/* EOF on its stdin is how a helper learns that the agent is gone. */
static void session_stdin_eof_releases(void **state)
{
	struct session_spec sp = shell(
		"read q; echo quiesced; if read r; then echo \"read $r\" >&2; "
		"else echo 'eof: releasing' >&2; fi; echo released",
		5000);
	struct session s;

	(void)state;
	assert_int_equal(session_start(&s, &sp), 0);
	assert_true(session_quiesce(&s, NULL));
	/* As if the agent died: its end of the pipe closes, nothing sent. */
	close(s.to_helper);
	s.to_helper = -1;
	assert_true(session_release(&s));
	assert_string_equal(s.release.output, "eof: releasing\n");
}

/* Left-over members of its process group are killed once it exits. */
static void session_leftovers_killed(void **state)
{
	char pidfile[] = "/tmp/ferry-session-pid-XXXXXX";
	char cmd[256];
	struct session_spec sp;
	struct session s;
	pid_t child;
	int fd = mkstemp(pidfile);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "sleep 1000 >/dev/null 2>&1 & echo $! >%s; read q; "
		 "echo quiesced; read r; echo released",
		 pidfile);
	sp = shell(cmd, 5000);
	assert_int_equal(session_start(&s, &sp), 0);
	assert_true(session_quiesce(&s, NULL));
	child = read_pid(pidfile);
	assert_true(child > 0);
	assert_int_equal(kill(child, 0), 0);
	assert_true(session_release(&s));
	assert_true(gone(child));
	unlink(pidfile);
}

static void session_interrupted(void **state)
{
	struct session_spec sp = shell("read q; sleep 1000", 10000);
	volatile sig_atomic_t stop = SIGTERM;
	struct session s;
	uint64_t t0 = ms_now();

	(void)state;
	assert_int_equal(session_start(&s, &sp), 0);
	assert_false(session_quiesce(&s, &stop));
	assert_string_equal(s.quiesce.status, "interrupted");
	assert_true(ms_now() - t0 < 6000);
	/* "sleep" ignores its stdin: killed at the release deadline. */
	sp.timeout_ms = 200;
	s.spec.timeout_ms = 200;
	assert_false(session_release(&s));
	assert_string_equal(s.release.status, "timeout");
}

static void snapshot_session_args(void **state)
{
	struct ferry_ctx ctx = { 0 };
	struct snapshot_args a;
	struct ferr e;
	struct argv_buf *v;

	(void)state;
	v = ARGV("snapshot", "db", "--session", "/h/pg x", "--session-timeout",
		 "7", "--accept-lower-label");
	assert_int_equal(snapshot_parse(&ctx, v->argc, v->argv, &a, &e), 0);
	assert_string_equal(a.session, "/h/pg x");
	assert_int_equal(a.session_timeout_ms, 7000);
	assert_true(a.accept_lower);
	assert_null(a.hook);
	argv_free(v);
	v = ARGV("snapshot", "db", "--session-timeout", "7");
	assert_int_equal(snapshot_parse(&ctx, v->argc, v->argv, &a, &e),
			 -EINVAL);
	assert_string_equal(e.msg, "--session-timeout needs --session");
	argv_free(v);
	v = ARGV("snapshot", "db", "--session", "");
	assert_int_equal(snapshot_parse(&ctx, v->argc, v->argv, &a, &e),
			 -EINVAL);
	assert_string_equal(e.msg, "--session: empty command");
	argv_free(v);
	v = ARGV("snapshot", "db", "--hook-shell");
	assert_int_equal(snapshot_parse(&ctx, v->argc, v->argv, &a, &e),
			 -EINVAL);
	assert_string_equal(e.msg, "--hook-shell needs --hook or --session");
	argv_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(session_answers),
		cmocka_unit_test(session_without_shell),
		cmocka_unit_test(session_wrong_answer),
		cmocka_unit_test(session_dies),
		cmocka_unit_test(session_closes_output),
		cmocka_unit_test(session_not_found),
		cmocka_unit_test(session_hangs),
		cmocka_unit_test(session_stdin_eof_releases),
		cmocka_unit_test(session_leftovers_killed),
		cmocka_unit_test(session_interrupted),
		cmocka_unit_test(snapshot_session_args),
	};

	return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
