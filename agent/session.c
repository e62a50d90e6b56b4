// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: quiesce sessions: a helper process held across the
 * snapshot, driven over its stdin and stdout (session.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "session.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void keep_output(struct session_step *st, const char *buf, size_t n)
{
	size_t room = HOOK_OUTPUT_MAX - st->output_len;
	size_t take = n < room ? n : room;

	memcpy(st->output + st->output_len, buf, take);
	st->output_len += take;
	st->output[st->output_len] = '\0';
	st->output_dropped += n - take;
}

static void step_set(struct session_step *st, const char *status)
{
	snprintf(st->status, sizeof(st->status), "%s", status);
}

/* In the child: never returns. */
static void session_child(const struct session_spec *spec, char **words, int in,
			  int out, int err)
{
	char *argv[HOOK_ARGV_MAX + 1];
	char timeout[32];
	size_t i;

	setsid();
	dup2(in, 0);
	dup2(out, 1);
	dup2(err, 2);
	/* The agent's signal handlers are not the helper's. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	snprintf(timeout, sizeof(timeout), "%d", spec->timeout_ms / 1000);
	setenv("FERRY_SESSION_TIMEOUT", timeout, 1);
	setenv("FERRY_HOOK_TIMEOUT", timeout, 1);
	setenv("FERRY_VOLUMES", spec->volumes ? spec->volumes : "", 1);
	if (spec->shell) {
		argv[0] = "/bin/sh";
		argv[1] = "-c";
		argv[2] = (char *)spec->cmd;
		argv[3] = "ferry-session";
		argv[4] = NULL;
		execv(argv[0], argv);
	} else {
		for (i = 0; words[i]; i++)
			argv[i] = words[i];
		argv[i] = NULL;
		execvp(argv[0], argv);
	}
	dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void start_failed(struct session *s, const char *fmt, const char *arg)
{
	struct session_step *st = &s->quiesce;

	st->done = true;
	step_set(st, "error");
	snprintf(st->output, sizeof(st->output), fmt, arg);
	st->output_len = strlen(st->output);
}

int session_start(struct session *s, const struct session_spec *spec)
{
	char *words[HOOK_ARGV_MAX + 1];
	char buf[4096];
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	struct ferr e;
	int rc;

	memset(s, 0, sizeof(*s));
	s->spec = *spec;
	s->to_helper = s->from_helper = s->errors = -1;
	if (!spec->shell) {
		rc = hook_split(spec->cmd, words, ARRAY_SIZE(words), buf,
				sizeof(buf), &e);
		if (rc) {
			start_failed(s, "%s", e.msg);
			return rc;
		}
	}
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) ||
	    pipe2(err, O_CLOEXEC)) {
		rc = -errno;
		start_failed(s, "pipe: %s", strerror(-rc));
		goto fail;
	}
	s->pid = fork();
	if (s->pid < 0) {
		rc = -errno;
		s->pid = 0;
		start_failed(s, "fork: %s", strerror(-rc));
		goto fail;
	}
	if (!s->pid) /* dup2 clears FD_CLOEXEC on 0, 1 and 2 */
		session_child(spec, words, in[0], out[1], err[1]);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	s->to_helper = in[1];
	s->from_helper = out[0];
	s->errors = err[0];
	fcntl(s->from_helper, F_SETFL, O_NONBLOCK);
	fcntl(s->errors, F_SETFL, O_NONBLOCK);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return rc;
}

/* Writes @what to the helper's stdin; a gone helper is no crash. */
static void tell(struct session *s, const char *what)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	size_t n = strlen(what), off = 0;
	ssize_t w;

	if (s->to_helper < 0)
		return;
	sigaction(SIGPIPE, &ign, &old);
	while (off < n) {
		w = write(s->to_helper, what + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	sigaction(SIGPIPE, &old, NULL);
}

static void drain_errors(struct session *s, struct session_step *st)
{
	char buf[4096];
	ssize_t n;

	while (s->errors >= 0) {
		n = read(s->errors, buf, sizeof(buf));
		if (n > 0) {
			keep_output(st, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || errno != EAGAIN) {
			close(s->errors);
			s->errors = -1;
		}
		return;
	}
}

/*
 * Reads the helper's stdout; returns 1 with the first complete line in
 * @answer, 0 when nothing complete yet, -1 at EOF.
 */
static int read_answer(struct session *s, char *answer, size_t len)
{
	char c;
	ssize_t n;
	size_t i;

	while (s->from_helper >= 0) {
		n = read(s->from_helper, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			close(s->from_helper);
			s->from_helper = -1;
			break;
		}
		if (c != '\n') {
			if (s->line_len + 1 < sizeof(s->line))
				s->line[s->line_len++] = c;
			continue;
		}
		for (i = 0; i < s->line_len && i + 1 < len; i++) {
			unsigned char u = (unsigned char)s->line[i];

			answer[i] = (u >= 0x20 && u < 0x7f) ? (char)u : '?';
		}
		answer[i] = '\0';
		s->line_len = 0;
		return 1;
	}
	return -1;
}

/* The helper ended (not reaped yet: its process group id stays ours). */
static bool helper_ended(struct session *s, int *status)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, s->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
	    si.si_pid != s->pid)
		return false;
	if (si.si_code == CLD_EXITED)
		*status = si.si_status << 8;
	else
		*status = si.si_status & 0x7f;
	return true;
}

static void ended_status(struct session_step *st, int status)
{
	char buf[16];

	if (WIFEXITED(status))
		snprintf(buf, sizeof(buf), "exited-%d", WEXITSTATUS(status));
	else
		snprintf(buf, sizeof(buf), "killed-%d", WTERMSIG(status));
	step_set(st, buf);
}

/* Kills what is left of the helper's process group and reaps it. */
static void finish(struct session *s)
{
	int status = 0;

	if (!s->pid)
		return;
	kill(-s->pid, SIGKILL);
	kill(s->pid, SIGKILL);
	while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!s->exited) {
		s->exited = true;
		s->status = status;
	}
	s->pid = 0;
	if (s->to_helper >= 0)
		close(s->to_helper);
	if (s->from_helper >= 0)
		close(s->from_helper);
	if (s->errors >= 0)
		close(s->errors);
	s->to_helper = s->from_helper = s->errors = -1;
}

static int poll_wait(struct session *s, uint64_t deadline)
{
	struct pollfd p[2];
	uint64_t now = now_ms();
	int n = 0, wait;

	if (now >= deadline)
		return 0;
	wait = (int)(deadline - now);
	if (wait > 20)
		wait = 20;
	if (s->from_helper >= 0)
		p[n++] = (struct pollfd){ .fd = s->from_helper,
					  .events = POLLIN };
	if (s->errors >= 0)
		p[n++] = (struct pollfd){ .fd = s->errors, .events = POLLIN };
	return poll(p, (nfds_t)n, wait);
}

bool session_quiesce(struct session *s, const volatile sig_atomic_t *stop)
{
	struct session_step *st = &s->quiesce;
	uint64_t t0 = now_ms(), deadline = t0 + (uint64_t)s->spec.timeout_ms;
	int got, status;

	if (!s->pid)
		return false;
	st->done = true;
	tell(s, "quiesce\n");
	for (;;) {
		drain_errors(s, st);
		got = read_answer(s, st->answer, sizeof(st->answer));
		if (got == 1) {
			st->ok = !strcmp(st->answer, "quiesced");
			step_set(st, st->ok ? "ok" : "answer");
			break;
		}
		if (got < 0 || helper_ended(s, &status)) {
			/* EOF comes a moment before the exit is visible. */
			for (int i = 0; i < 10 && !helper_ended(s, &status);
			     i++)
				poll(NULL, 0, 10);
			if (helper_ended(s, &status))
				ended_status(st, status);
			else
				step_set(st, "eof");
			break;
		}
		if (stop && *stop) {
			step_set(st, "interrupted");
			break;
		}
		if (now_ms() >= deadline) {
			step_set(st, "timeout");
			break;
		}
		poll_wait(s, deadline);
	}
	drain_errors(s, st);
	st->ms = now_ms() - t0;
	return st->ok;
}

bool session_release(struct session *s)
{
	struct session_step *st = &s->release;
	uint64_t t0 = now_ms(), deadline = t0 + (uint64_t)s->spec.timeout_ms;
	bool answered = false, ended = false;
	char rest[64];
	int status = 0;

	if (!s->pid)
		return st->ok;
	st->done = true;
	tell(s, "release\n");
	/* EOF on its stdin: release now, whatever it was doing. */
	close(s->to_helper);
	s->to_helper = -1;
	for (;;) {
		drain_errors(s, st);
		if (!answered &&
		    read_answer(s, st->answer, sizeof(st->answer)) == 1)
			answered = true;
		else if (answered)
			read_answer(s, rest, sizeof(rest)); /* dropped */
		if (helper_ended(s, &status)) {
			ended = true;
			break;
		}
		if (now_ms() >= deadline)
			break;
		poll_wait(s, deadline);
	}
	drain_errors(s, st);
	if (!ended) {
		step_set(st, "timeout");
	} else if (WIFEXITED(status) && !WEXITSTATUS(status)) {
		st->ok = answered && !strcmp(st->answer, "released");
		step_set(st, st->ok ? "ok" : answered ? "answer" : "eof");
	} else {
		ended_status(st, status);
	}
	finish(s);
	st->ms = now_ms() - t0;
	return st->ok;
}

void session_failure_text(const struct session_step *st, char *buf, size_t len)
{
	char first[128];

	/* The first non-blank line of its stderr. */
	hook_first_line(st->output, st->output_len, first, sizeof(first));
	if (!strcmp(st->status, "error"))
		snprintf(buf, len, "could not be started: %s", first);
	else if (!strcmp(st->status, "timeout"))
		snprintf(buf, len, "did not answer within %" PRIu64 " ms%s%s",
			 st->ms, first[0] ? ": " : "", first);
	else if (!strcmp(st->status, "interrupted"))
		snprintf(buf, len, "was interrupted");
	else if (!strcmp(st->status, "answer"))
		snprintf(buf, len, "answered '%s'%s%s", st->answer,
			 first[0] ? ": " : "", first);
	else if (!strcmp(st->status, "eof"))
		snprintf(buf, len, "closed its output without answering%s%s",
			 first[0] ? ": " : "", first);
	else if (!strncmp(st->status, "exited-", 7))
		snprintf(buf, len, "exited %s%s%s%s", st->status + 7,
			 st->answer[0] ? "" : " without answering",
			 first[0] ? ": " : "", first);
	else if (!strncmp(st->status, "killed-", 7))
		snprintf(buf, len, "was killed by signal %s%s%s",
			 st->status + 7, first[0] ? ": " : "", first);
	else
		snprintf(buf, len, "%s", st->status);
}
