/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry: shared declarations of the kernel module.
 */
#ifndef FERRY_H
#define FERRY_H

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/ferry.h>

#include "compat.h"

/* Per-volume I/O counters, indexed by enum ferry_stat. */
struct ferry_stats {
	atomic64_t v[__FERRY_STAT_MAX];
};

/*
 * One attached volume: /dev/ferryN stacked on a data device, with a CoW
 * store device held for snapshots.
 *
 * Lifetime: created and destroyed by ferry_volume_attach()/_detach()
 * under ferry_volumes_lock; everything but the fields under open_lock
 * and the counters is fixed while the volume is on the list.
 */
struct ferry_volume {
	struct list_head node;		/* on ferry_volumes */
	char name[FERRY_NAME_MAX + 1];
	char data_path[FERRY_PATH_MAX + 1];
	char cow_path[FERRY_PATH_MAX + 1];
	u32 chunk_size;
	int index;			/* N of /dev/ferryN */

	struct ferry_bdev data;
	struct ferry_bdev cow;
	struct gendisk *disk;
	struct bio_set clones;		/* bios sent to the data device */

	/* open_lock protects open_count and dying. */
	struct mutex open_lock;
	unsigned int open_count;
	bool dying;			/* detach started: refuse new opens */

	struct ferry_stats stats;
};

/*
 * ferry_volumes_lock protects the ferry_volumes list and serialises
 * attach and detach against each other.
 */
extern struct mutex ferry_volumes_lock;
extern struct list_head ferry_volumes;

struct ferry_attach_args {
	const char *name;
	const char *data_path;
	const char *cow_path;
	u32 chunk_size;
};

struct netlink_ext_ack;

/* volume.c */
int ferry_volume_attach(const struct ferry_attach_args *args,
			struct ferry_volume **out,
			struct netlink_ext_ack *extack);
int ferry_volume_detach(struct ferry_volume *vol,
			struct netlink_ext_ack *extack);
struct ferry_volume *ferry_volume_find(const char *name);
unsigned int ferry_volume_open_count(struct ferry_volume *vol);
int ferry_volume_init(void);
void ferry_volume_exit(void);

/* netlink.c */
int ferry_netlink_init(void);
void ferry_netlink_exit(void);

#endif /* FERRY_H */
