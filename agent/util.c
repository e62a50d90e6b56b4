// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: error reporting and small helpers.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util.h"

int ferr_set(struct ferr *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

static void vreport(const char *cmd, const char *kind, const char *fmt,
		    va_list ap)
{
	char msg[1024];
	char *nl;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One line per error, whatever the kernel or libc handed us. */
	while ((nl = strchr(msg, '\n')))
		*nl = ' ';
	if (cmd)
		fprintf(stderr, "ferry: %s: %s%s\n", cmd, kind, msg);
	else
		fprintf(stderr, "ferry: %s%s\n", kind, msg);
}

void ferry_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, "", fmt, ap);
	va_end(ap);
}

void ferry_warn(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(cmd, "warning: ", fmt, ap);
	va_end(ap);
}

void format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char units[] = "KMGTPE";
	uint64_t scale = 1024;
	int i = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 "B", bytes);
		return;
	}
	while (units[i + 1] && bytes / scale >= 1024) {
		scale *= 1024;
		i++;
	}
	/* Tenths computed in integers: doubles would round 1023.96 up. */
	if (bytes / scale < 10) {
		uint64_t tenths = (bytes % scale) * 10 / scale;

		snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "%ciB", bytes / scale,
			 tenths, units[i]);
	} else {
		snprintf(buf, len, "%" PRIu64 "%ciB", bytes / scale, units[i]);
	}
}

void format_uuid(const uint8_t uuid[16], char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char out[37];
	int i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[uuid[i] >> 4];
		out[o++] = hex[uuid[i] & 15];
	}
	out[o] = '\0';
	snprintf(buf, len, "%s", out);
}

static void format_time(uint64_t ns, bool utc, const char *fmt, char *buf,
			size_t len)
{
	time_t t = (time_t)(ns / 1000000000U);
	struct tm tm;

	if ((utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)) == NULL ||
	    strftime(buf, len, fmt, &tm) == 0)
		snprintf(buf, len, "@%" PRIu64, (uint64_t)(ns / 1000000000U));
}

void format_rfc3339(uint64_t realtime_ns, char *buf, size_t len)
{
	format_time(realtime_ns, true, "%Y-%m-%dT%H:%M:%SZ", buf, len);
}

void format_local_time(uint64_t realtime_ns, char *buf, size_t len)
{
	format_time(realtime_ns, false, "%Y-%m-%dT%H:%M:%S", buf, len);
}

static int mkdir_one(const char *path, mode_t mode, struct ferr *e)
{
	struct stat st;

	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return ferr_set(e, -errno, "cannot create %s: %s", path,
				strerror(errno));
	if (stat(path, &st) < 0)
		return ferr_set(e, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return ferr_set(e, -ENOTDIR, "%s: %s", path, strerror(ENOTDIR));
	return 0;
}

int mkdir_p(const char *path, mode_t mode, struct ferr *e)
{
	char buf[PATH_MAX];
	char *p;
	int err;

	if (!*path)
		return ferr_set(e, -EINVAL, "empty directory name");
	if (strlen(path) >= sizeof(buf))
		return ferr_set(e, -ENAMETOOLONG, "%s: %s", path,
				strerror(ENAMETOOLONG));
	strcpy(buf, path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		err = mkdir_one(buf, mode, e);
		*p = '/';
		if (err)
			return err;
	}
	return mkdir_one(buf, mode, e);
}
