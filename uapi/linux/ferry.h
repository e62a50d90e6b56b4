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
	/*
	 * SNAPSHOT: VOLUMES (nested NAMEs, one consistency group: all are
	 * quiesced in one window), [LABEL], [TAGS], [DEADLINE_MS]. Without
	 * LABEL the kernel records "filesystem" for a volume whose
	 * filesystem it froze, else "crash".
	 * Replies one message per volume: NAME, SNAP (nested snapshot).
	 */
	FERRY_CMD_SNAPSHOT,
	/*
	 * GET_SNAPSHOT: NAME and SNAP_ID for one; dump with NAME for all
	 * snapshots of a volume. Replies NAME, SNAP (nested, ferry_snap_attr).
	 */
	FERRY_CMD_GET_SNAPSHOT,
	/* DELETE_SNAPSHOT: NAME, SNAP_ID. Frees the CoW space it alone used. */
	FERRY_CMD_DELETE_SNAPSHOT,
	/*
	 * SET_TAGS: NAME, SNAP_ID, TAGS (nested TAG strings "key=value";
	 * "key=" removes key). Replies like GET_SNAPSHOT; emits TAG_CHANGED.
	 */
	FERRY_CMD_SET_TAGS,
	/*
	 * CHANGED (dump): NAME, SINCE_EPOCH or SINCE_ID, [UNTIL_ID].
	 * Messages carry EXTENT attributes (nested OFFSET, LENGTH in bytes)
	 * for the regions written after snapshot SINCE up to snapshot UNTIL
	 * (or now), and CBT_UUID/CBT_GEN; SINCE may have been deleted.
	 */
	FERRY_CMD_CHANGED,
	/* Multicast on "events": EVENT, NAME, [SNAP_ID], [TAG], [MESSAGE]. */
	FERRY_CMD_EVENT,
	/*
	 * CLONE: NAME, SNAP_ID: a writable snapshot of a snapshot (fire
	 * drills); its writes go to the CoW store; DELETE_SNAPSHOT drops it.
	 * Replies like GET_SNAPSHOT (the clone is a snapshot with PARENT).
	 */
	FERRY_CMD_CLONE,

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
	FERRY_ATTR_VOLUMES,	/* nested list of NAME */
	FERRY_ATTR_SNAP,	/* nested, enum ferry_snap_attr */
	FERRY_ATTR_SNAP_ID,	/* u32 */
	FERRY_ATTR_LABEL,	/* string: application, filesystem, crash */
	FERRY_ATTR_TAGS,	/* nested list of TAG */
	FERRY_ATTR_TAG,		/* string "key=value" */
	FERRY_ATTR_DEADLINE_MS,	/* u32, quiesce deadline (default 10000) */
	FERRY_ATTR_SINCE_ID,	/* u32 */
	FERRY_ATTR_SINCE_EPOCH,	/* u64 */
	FERRY_ATTR_UNTIL_ID,	/* u32 */
	FERRY_ATTR_EXTENT,	/* nested: OFFSET, LENGTH */
	FERRY_ATTR_OFFSET,	/* u64, bytes */
	FERRY_ATTR_LENGTH,	/* u64, bytes */
	FERRY_ATTR_CBT_UUID,	/* binary, 16 bytes: identity of the map */
	FERRY_ATTR_CBT_GEN,	/* u64: bumped when the map can't be trusted */
	FERRY_ATTR_EPOCH,	/* u64, current epoch of the volume */
	FERRY_ATTR_EVENT,	/* u32, enum ferry_event */
	FERRY_ATTR_MESSAGE,	/* string */
	FERRY_ATTR_COW_TOTAL,	/* u64, bytes of the CoW store for data */
	FERRY_ATTR_COW_USED,	/* u64, bytes holding preserved chunks */

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

/* A snapshot, nested in FERRY_ATTR_SNAP. */
enum ferry_snap_attr {
	FERRY_SNAP_UNSPEC,
	FERRY_SNAP_PAD,
	FERRY_SNAP_ID,		/* u32, per volume, never reused */
	FERRY_SNAP_EPOCH,	/* u64, the epoch the snapshot closed */
	FERRY_SNAP_STATE,	/* u32, enum ferry_snap_state */
	FERRY_SNAP_DISK_NAME,	/* string, e.g. "ferry0s3" */
	FERRY_SNAP_CREATED_NS,	/* u64, CLOCK_REALTIME */
	FERRY_SNAP_LABEL,	/* string */
	FERRY_SNAP_TAGS,	/* nested list of FERRY_ATTR_TAG */
	FERRY_SNAP_STALL_NS,	/* u64, time new bios were held */
	FERRY_SNAP_FREEZE_NS,	/* u64, time the filesystem was frozen */
	FERRY_SNAP_COW_BYTES,	/* u64, CoW data preserved for it */
	FERRY_SNAP_PARENT,	/* u32, for a writable clone: its snapshot */
	FERRY_SNAP_FROZEN,	/* u32, 1 if a filesystem was frozen for it */

	__FERRY_SNAP_MAX,
};

#define FERRY_SNAP_MAX (__FERRY_SNAP_MAX - 1)

enum ferry_snap_state {
	FERRY_STATE_LIVE,
	FERRY_STATE_INVALID,	/* lost data: CoW store full or I/O error */
};

enum ferry_event {
	FERRY_EVENT_SNAP_CREATED = 1,
	FERRY_EVENT_SNAP_DELETED,
	FERRY_EVENT_SNAP_INVALID,
	FERRY_EVENT_TAG_CHANGED,
	FERRY_EVENT_COW_LOW,
	FERRY_EVENT_DEVICE_ERROR,
};

/* Tags: at most FERRY_TAGS_MAX per snapshot. */
#define FERRY_TAGS_MAX		32
#define FERRY_TAG_KEY_MAX	63	/* [A-Za-z0-9._-] */
#define FERRY_TAG_VALUE_MAX	255	/* printable ASCII */
#define FERRY_LABEL_MAX		15

/* The CoW store raises FERRY_EVENT_COW_LOW below this much free space. */
#define FERRY_COW_LOW_PERCENT	10

#define FERRY_CHUNK_MIN		4096U
#define FERRY_CHUNK_MAX		(1024U * 1024U)
#define FERRY_CHUNK_DEFAULT	65536U

#endif /* _UAPI_LINUX_FERRY_H */
