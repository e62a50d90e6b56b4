/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: a volume as the kernel reports it (FERRY_CMD_GET_VOLUME).
 */
#ifndef FERRY_VOLUME_H
#define FERRY_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/ferry.h>

/* Longest disk name we keep ("ferry123"); the kernel's limit is 32. */
#define FERRY_DISK_NAME_MAX 31

struct ferry_volume {
	char name[FERRY_NAME_MAX + 1];
	char disk_name[FERRY_DISK_NAME_MAX + 1];
	char data_path[FERRY_PATH_MAX + 1];
	char cow_path[FERRY_PATH_MAX + 1];
	uint64_t size;
	uint32_t minor;
	uint32_t data_dev; /* new_encode_dev() format */
	uint32_t cow_dev;
	uint32_t chunk_size;
	uint32_t open_count;
	uint64_t stats[FERRY_STAT_MAX + 1];
	/* Optional in a reply: 0 or empty (has_cbt_uuid false) if absent. */
	uint64_t epoch;
	uint8_t cbt_uuid[16];
	bool has_cbt_uuid;
	uint64_t cbt_gen;
	uint64_t cow_total;
	uint64_t cow_used;
};

/* A growable list of volumes, filled by a dump. */
struct volume_list {
	struct ferry_volume *v;
	size_t n;
	size_t cap;
};

/* Appends a zeroed volume and returns it, or NULL when out of memory. */
struct ferry_volume *volume_list_add(struct volume_list *list);
void volume_list_free(struct volume_list *list);

/* "reads", "read_bytes", ...; NULL for UNSPEC, PAD and unknown ids. */
const char *ferry_stat_name(int stat);

/* "/dev/ferry0" */
void volume_device_path(const struct ferry_volume *v, char *buf, size_t len);

/* "8:16" from a new_encode_dev() value. */
void format_dev(uint32_t dev, char *buf, size_t len);

#endif /* FERRY_VOLUME_H */
