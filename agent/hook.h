/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: application hooks. "CMD freeze" before the kernel's
 * quiesce, "CMD thaw" after it, each in its own session (setsid) under a
 * deadline; a hook past its deadline is killed with its whole process
 * group. stdout and stderr are captured together, bounded.
 */
#ifndef FERRY_HOOK_H
#define FERRY_HOOK_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Bytes of a hook's output kept; the rest is counted and dropped. */
#define HOOK_OUTPUT_MAX 4096
/* Words of a hook command without --hook-shell. */
#define HOOK_ARGV_MAX 32
#define HOOK_DEFAULT_TIMEOUT_MS 30000

struct hook_spec {
	const char *cmd; /* NULL: no hook */
	bool shell; /* run as sh -c 'CMD "$1"' */
	int timeout_ms;
	const char *volumes; /* FERRY_VOLUMES for the hook: "db logs" */
};

struct hook_result {
	bool started;
	bool exited; /* status is valid */
	int status; /* exit status when exited */
	int signal; /* the signal that ended it, else 0 */
	bool timed_out; /* killed at the deadline */
	bool interrupted; /* killed because the agent was signalled */
	char output[HOOK_OUTPUT_MAX + 1];
	size_t output_len;
	uint64_t output_dropped; /* bytes past HOOK_OUTPUT_MAX */
	uint64_t ms; /* wall time */
};

/*
 * Splits @cmd on blanks (spaces and tabs) into @argv, copying the words
 * into @buf; no quoting, no escapes: use --hook-shell for those.
 */
int hook_split(const char *cmd, char **argv, size_t max, char *buf, size_t len,
	       struct ferr *e);

/*
 * Runs the hook with @phase ("freeze" or "thaw") as its last argument
 * and waits for it, its deadline, or *@stop becoming non-zero (then it is
 * killed as on a timeout). Returns 0 when the hook ran (whatever its
 * status), or a negative errno when it could not be started (@r->output
 * says why).
 */
int hook_run(const struct hook_spec *h, const char *phase,
	     const volatile sig_atomic_t *stop, struct hook_result *r);

/* Exit status 0 and neither killed nor timed out. */
bool hook_ok(const struct hook_result *r);

/* The tag value: "0", "1", ..., "timeout", "killed-9", "interrupted", "error". */
void hook_status_text(const struct hook_result *r, char *buf, size_t len);

/* One line about a failed hook: "exited 1: first line of its output". */
/* The first non-blank line of @out (@out_len bytes), printable, in @first. */
void hook_first_line(const char *out, size_t out_len, char *first, size_t size);
void hook_failure_text(const struct hook_result *r, char *buf, size_t len);

/*
 * SIGINT, SIGTERM and SIGHUP set hook_stop_signal (SA_RESTART, so a
 * netlink call in progress completes) until hook_signals_restore().
 */
extern volatile sig_atomic_t hook_stop_signal;
void hook_signals_catch(void);
void hook_signals_restore(void);

#endif /* FERRY_HOOK_H */
