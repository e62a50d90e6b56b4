/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ferry: generic-netlink control interface of the ferry block device.
 *
 * Shared by the kernel module (kmod/) and the agent (agent/).
 * Every command that changes state needs CAP_SYS_ADMIN.
 */
#ifndef _UAPI_LINUX_FERRY_H
#define _UAPI_LINUX_FERRY_H

#include <linux/types.h>

#define FERRY_GENL_NAME		"ferry"
#define FERRY_GENL_VERSION	1
#define FERRY_MCGRP_EVENTS	"events"

/* Longest volume name, not counting the terminating NUL. */
#define FERRY_NAME_MAX		31
/* Longest device path accepted by ATTACH, not counting the NUL. */
#define FERRY_PATH_MAX		255

enum ferry_cmd {
	FERRY_CMD_UNSPEC,
	/*
	 * ATTACH: NAME, DATA_PATH, COW_PATH, [CHUNK_SIZE].
	 * Replies with the volume's attributes (see GET_VOLUME).
	 */
	FERRY_CMD_ATTACH,
	/* DETACH: NAME. Refused (-EBUSY) while the device is open. */
	FERRY_CMD_DETACH,
	/*
	 * GET_VOLUME: with NAME, one volume; as a dump, every volume.
	 * Replies: NAME, DISK_NAME, MINOR, SIZE, DATA_PATH, COW_PATH,
	 * DATA_DEV, COW_DEV, CHUNK_SIZE, OPEN_COUNT, STATS.
	 */
	FERRY_CMD_GET_VOLUME,

	__FERRY_CMD_MAX,
};

#define FERRY_CMD_MAX (__FERRY_CMD_MAX - 1)

enum ferry_attr {
	FERRY_ATTR_UNSPEC,
	FERRY_ATTR_PAD,
	FERRY_ATTR_NAME,	/* string, 1..FERRY_NAME_MAX, [A-Za-z0-9._-] */
	FERRY_ATTR_DATA_PATH,	/* string, backing (origin) device */
	FERRY_ATTR_COW_PATH,	/* string, copy-on-write store device */
	FERRY_ATTR_CHUNK_SIZE,	/* u32, bytes, power of two, 4 KiB..1 MiB */
	FERRY_ATTR_DISK_NAME,	/* string, e.g. "ferry0" */
	FERRY_ATTR_MINOR,	/* u32, first minor of the disk */
	FERRY_ATTR_SIZE,	/* u64, bytes */
	FERRY_ATTR_DATA_DEV,	/* u32, dev_t of the data device (new_encode_dev) */
	FERRY_ATTR_COW_DEV,	/* u32, dev_t of the CoW device */
	FERRY_ATTR_OPEN_COUNT,	/* u32, opens of /dev/ferryN */
	FERRY_ATTR_STATS,	/* nested, enum ferry_stat */

	__FERRY_ATTR_MAX,
};

#define FERRY_ATTR_MAX (__FERRY_ATTR_MAX - 1)

/* Per-volume I/O counters (all u64), nested in FERRY_ATTR_STATS. */
enum ferry_stat {
	FERRY_STAT_UNSPEC,
	FERRY_STAT_PAD,
	FERRY_STAT_READS,
	FERRY_STAT_READ_BYTES,
	FERRY_STAT_WRITES,
	FERRY_STAT_WRITE_BYTES,
	FERRY_STAT_FLUSHES,
	FERRY_STAT_DISCARDS,
	FERRY_STAT_WRITE_ZEROES,
	FERRY_STAT_ERRORS,
	FERRY_STAT_IN_FLIGHT,

	__FERRY_STAT_MAX,
};

#define FERRY_STAT_MAX (__FERRY_STAT_MAX - 1)

#define FERRY_CHUNK_MIN		4096U
#define FERRY_CHUNK_MAX		(1024U * 1024U)
#define FERRY_CHUNK_DEFAULT	65536U

#endif /* _UAPI_LINUX_FERRY_H */
