// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: running application hooks under a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hook.h"

volatile sig_atomic_t hook_stop_signal;

static struct sigaction saved[3];
static const int caught[3] = { SIGINT, SIGTERM, SIGHUP };

static void on_signal(int sig)
{
	hook_stop_signal = sig;
}

void hook_signals_catch(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	hook_stop_signal = 0;
	for (i = 0; i < ARRAY_SIZE(caught); i++)
		sigaction(caught[i], &sa, &saved[i]);
}

void hook_signals_restore(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(caught); i++)
		sigaction(caught[i], &saved[i], NULL);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int hook_split(const char *cmd, char **argv, size_t max, char *buf, size_t len,
	       struct ferr *e)
{
	size_t n = 0, o = 0;
	const char *p = cmd;

	if (strlen(cmd) + 1 > len)
		return ferr_set(e, -E2BIG, "hook command too long");
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (n + 1 >= max)
			return ferr_set(e, -E2BIG,
					"hook command has more than %zu words",
					max - 1);
		argv[n++] = buf + o;
		while (*p && *p != ' ' && *p != '\t')
			buf[o++] = *p++;
		buf[o++] = '\0';
	}
	argv[n] = NULL;
	if (!n)
		return ferr_set(e, -EINVAL, "empty hook command");
	return 0;
}

static void keep_output(struct hook_result *r, const char *buf, size_t n)
{
	size_t room = HOOK_OUTPUT_MAX - r->output_len;
	size_t take = n < room ? n : room;

	memcpy(r->output + r->output_len, buf, take);
	r->output_len += take;
	r->output[r->output_len] = '\0';
	r->output_dropped += n - take;
}

/* Reads what is there now; returns false at EOF or error. */
static bool read_some(int fd, struct hook_result *r)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			keep_output(r, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN;
	}
}

/* In the child: never returns. */
static void hook_child(const struct hook_spec *h, const char *phase,
		       char **words, int out)
{
	char *argv[HOOK_ARGV_MAX + 2];
	char timeout[32];
	size_t i = 0;
	int null;

	setsid();
	null = open("/dev/null", O_RDONLY);
	if (null >= 0 && null != 0) {
		dup2(null, 0);
		close(null);
	}
	dup2(out, 1);
	dup2(out, 2);
	if (out > 2)
		close(out);
	/* The agent's signal handlers are not the hook's. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	snprintf(timeout, sizeof(timeout), "%d", h->timeout_ms / 1000);
	setenv("FERRY_HOOK_PHASE", phase, 1);
	setenv("FERRY_HOOK_TIMEOUT", timeout, 1);
	setenv("FERRY_VOLUMES", h->volumes ? h->volumes : "", 1);
	if (h->shell) {
		argv[0] = "/bin/sh";
		argv[1] = "-c";
		/* sh -c 'CMD "$1"' ferry-hook PHASE */
		if (asprintf(&argv[2], "%s \"$1\"", h->cmd) < 0)
			_exit(127);
		argv[3] = "ferry-hook";
		argv[4] = (char *)phase;
		argv[5] = NULL;
		execv(argv[0], argv);
	} else {
		for (i = 0; words[i]; i++)
			argv[i] = words[i];
		argv[i++] = (char *)phase;
		argv[i] = NULL;
		execvp(argv[0], argv);
	}
	dprintf(1, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void start_failed(struct hook_result *r, int err, const char *what)
{
	snprintf(r->output, sizeof(r->output), "%s: %s", what, strerror(err));
	r->output_len = strlen(r->output);
}

int hook_run(const struct hook_spec *h, const char *phase,
	     const volatile sig_atomic_t *stop, struct hook_result *r)
{
	char *words[HOOK_ARGV_MAX + 1];
	char buf[4096];
	struct ferr e;
	uint64_t t0 = now_ms(), deadline = t0 + (uint64_t)h->timeout_ms;
	bool open_fd = true;
	int fds[2], status, err;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (!h->shell) {
		err = hook_split(h->cmd, words, ARRAY_SIZE(words), buf,
				 sizeof(buf), &e);
		if (err) {
			snprintf(r->output, sizeof(r->output), "%s", e.msg);
			r->output_len = strlen(r->output);
			return err;
		}
	}
	if (pipe2(fds, O_CLOEXEC)) {
		err = errno;
		start_failed(r, err, "pipe");
		return -err;
	}
	pid = fork();
	if (pid < 0) {
		err = errno;
		close(fds[0]);
		close(fds[1]);
		start_failed(r, err, "fork");
		return -err;
	}
	if (!pid) {
		close(fds[0]);
		/* dup2 clears FD_CLOEXEC on 1 and 2. */
		hook_child(h, phase, words, fds[1]);
	}
	r->started = true;
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		uint64_t now;
		int wait;
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid) {
			/*
			 * Not waiting for EOF: a helper the hook left
			 * behind (holding a session) may keep the pipe.
			 */
			if (open_fd)
				read_some(fds[0], r);
			break;
		}
		now = now_ms();
		if ((stop && *stop) || now >= deadline) {
			if (stop && *stop)
				r->interrupted = true;
			else
				r->timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			if (open_fd)
				read_some(fds[0], r);
			break;
		}
		wait = (int)(deadline - now);
		if (wait > 20)
			wait = 20;
		if (!open_fd) {
			poll(NULL, 0, wait);
			continue;
		}
		if (poll(&p, 1, wait) > 0 && !read_some(fds[0], r))
			open_fd = false;
	}
	close(fds[0]);
	if (WIFEXITED(status)) {
		r->exited = true;
		r->status = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		r->signal = WTERMSIG(status);
	}
	r->ms = now_ms() - t0;
	return 0;
}

bool hook_ok(const struct hook_result *r)
{
	return r->started && r->exited && !r->status && !r->timed_out &&
	       !r->interrupted;
}

void hook_status_text(const struct hook_result *r, char *buf, size_t len)
{
	if (!r->started)
		snprintf(buf, len, "error");
	else if (r->timed_out)
		snprintf(buf, len, "timeout");
	else if (r->interrupted)
		snprintf(buf, len, "interrupted");
	else if (r->exited)
		snprintf(buf, len, "%d", r->status);
	else
		snprintf(buf, len, "killed-%d", r->signal);
}

void hook_first_line(const char *out, size_t out_len, char *first, size_t size)
{
	size_t i, n = 0;

	/* Printable ASCII only: it goes into a one-line message. */
	for (i = 0; i < out_len && n + 1 < size; i++) {
		unsigned char c = (unsigned char)out[i];

		if (c == '\n') {
			if (n)
				break;
			continue;
		}
		first[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	first[n] = '\0';
}

void hook_failure_text(const struct hook_result *r, char *buf, size_t len)
{
	char first[128];

	hook_first_line(r->output, r->output_len, first, sizeof(first));
	if (!r->started)
		snprintf(buf, len, "could not be started: %s", first);
	else if (r->timed_out)
		snprintf(buf, len,
			 "timed out after %" PRIu64 " ms (killed)%s%s", r->ms,
			 first[0] ? ": " : "", first);
	else if (r->interrupted)
		snprintf(buf, len, "was interrupted");
	else if (r->exited)
		snprintf(buf, len, "exited %d%s%s", r->status,
			 first[0] ? ": " : "", first);
	else
		snprintf(buf, len, "was killed by signal %d", r->signal);
}
