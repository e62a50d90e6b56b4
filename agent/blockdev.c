// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: block-device paths as the user gives them.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "blockdev.h"

int resolve_block_device(const char *path, char *out, dev_t *rdev,
			 struct ferr *e)
{
	struct stat st;

	if (!realpath(path, out))
		return ferr_set(e, -errno, "%s: %s", path, strerror(errno));
	if (stat(out, &st) < 0)
		return ferr_set(e, -errno, "%s: %s", path, strerror(errno));
	if (!S_ISBLK(st.st_mode))
		return ferr_set(e, -ENOTBLK, "%s: not a block device", path);
	*rdev = st.st_rdev;
	return 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int wait_for_block_node(const char *path, int timeout_ms, struct ferr *e)
{
	const int step_ms = 20;
	struct stat st;
	int waited = 0;

	for (;;) {
		if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
			return 0;
		if (waited >= timeout_ms)
			break;
		sleep_ms(step_ms);
		waited += step_ms;
	}
	return ferr_set(e, -ETIMEDOUT, "%s did not appear within %d.%d s", path,
			timeout_ms / 1000, timeout_ms % 1000 / 100);
}
