/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: block-device paths as the user gives them.
 */
#ifndef FERRY_BLOCKDEV_H
#define FERRY_BLOCKDEV_H

#include <limits.h> /* PATH_MAX, the size of resolve_block_device()'s @out */
#include <stddef.h>
#include <sys/types.h>

#include "util.h"

/*
 * Canonical path of @path (symlinks such as /dev/disk/by-id/... resolved)
 * into @out, which must hold PATH_MAX bytes, and its device number. Fails
 * with a "PATH: reason" message when it is missing or not a block device.
 */
int resolve_block_device(const char *path, char *out, dev_t *rdev,
			 struct ferr *e);

/*
 * Waits up to @timeout_ms for @path to exist as a block device: without
 * udev, devtmpfs creates /dev/ferryN a moment after the disk is added.
 */
int wait_for_block_node(const char *path, int timeout_ms, struct ferr *e);

#endif /* FERRY_BLOCKDEV_H */
