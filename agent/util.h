/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: error reporting and small helpers shared by every file.
 */
#ifndef FERRY_UTIL_H
#define FERRY_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * A failure's text, filled by the function that failed and printed once
 * by the command at the top. Keeping messages out of stderr until then is
 * what lets every error be exactly one line, and lets tests read them.
 */
struct ferr {
	char msg[512];
};

/* Sets the message and returns @code (a negative errno), for "return". */
int ferr_set(struct ferr *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Exit statuses, documented in ferry(8). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
};

/* Prints "ferry: CMD: message" (or "ferry: message" without CMD). */
void ferry_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ferry_warn(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "1.5GiB", "512B": binary units, one decimal below 10 units. */
void format_size(uint64_t bytes, char *buf, size_t len);

/* "8-4-4-4-12" lower-case hex of 16 bytes; @buf holds at least 37. */
void format_uuid(const uint8_t uuid[16], char *buf, size_t len);

/* "2026-12-07T00:01:02Z": RFC 3339 in UTC, whole seconds. */
void format_rfc3339(uint64_t realtime_ns, char *buf, size_t len);

/* "2026-12-07T01:01:02": local time, one word, for tables. */
void format_local_time(uint64_t realtime_ns, char *buf, size_t len);

/* mkdir -p with @mode for every created component. */
int mkdir_p(const char *path, mode_t mode, struct ferr *e);

#endif /* FERRY_UTIL_H */
