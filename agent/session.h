/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: quiesce sessions. One long-lived helper per application,
 * started before the freeze and kept alive across quiesce -> snapshot ->
 * release, for databases whose quiesce lives in a session (PostgreSQL
 * pg_backup_start, MySQL FLUSH TABLES WITH READ LOCK, SQLite BEGIN
 * IMMEDIATE). The protocol, one line each way (docs/hooks.md):
 *
 *   agent -> helper stdin    "quiesce"      helper -> agent stdout  "quiesced"
 *   agent -> helper stdin    "release"      helper -> agent stdout  "released"
 *
 * then the helper exits 0. EOF on its stdin means "release now", so a
 * killed agent never leaves the application quiesced. The helper runs in
 * its own session (setsid); whatever is left in its process group when
 * it ends, or at a deadline, is killed with SIGKILL.
 */
#ifndef FERRY_SESSION_H
#define FERRY_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hook.h"

struct session_spec {
	const char *cmd; /* NULL: no session */
	bool shell; /* run as sh -c CMD */
	int timeout_ms; /* deadline of each step: quiesce, release */
	const char *volumes; /* FERRY_VOLUMES: "db logs" */
};

/* What one step (quiesce or release) of the session did. */
struct session_step {
	bool done; /* the step was attempted */
	bool ok;
	/* "ok", "answer", "eof", "exited-N", "killed-N", "timeout",
	 * "interrupted", "error": see session_step_status() */
	char status[16];
	char answer[64]; /* the line the helper answered, printable */
	char output[HOOK_OUTPUT_MAX + 1]; /* its stderr during the step */
	size_t output_len;
	uint64_t output_dropped;
	uint64_t ms;
};

struct session {
	struct session_spec spec;
	pid_t pid; /* 0: not running */
	int to_helper; /* its stdin; -1 once closed */
	int from_helper; /* its stdout */
	int errors; /* its stderr */
	char line[256]; /* a partial line from its stdout */
	size_t line_len;
	bool exited; /* reaped: status valid */
	int status; /* wait status */
	struct session_step quiesce, release;
};

/*
 * Starts the helper. Returns 0, or a negative errno with
 * s->quiesce.status "error" and its output saying why.
 */
int session_start(struct session *s, const struct session_spec *spec);

/*
 * Writes "quiesce" and waits for the answer "quiesced" within the
 * deadline or until *@stop becomes non-zero. Returns true when the helper
 * answered "quiesced"; the details are in s->quiesce.
 */
bool session_quiesce(struct session *s, const volatile sig_atomic_t *stop);

/*
 * Writes "release", closes the helper's stdin, waits for "released" and
 * its exit within the deadline, then kills what is left of its process
 * group. Safe to call on every path, once or more; a session that was
 * never started does nothing. Returns true when it answered "released"
 * and exited 0.
 */
bool session_release(struct session *s);

/* One line about a failed step: "answered 'no'", "timed out after ...". */
void session_failure_text(const struct session_step *st, char *buf, size_t len);

#endif /* FERRY_SESSION_H */
