/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: snapshots, tags, changed extents and events as the kernel
 * reports them (FERRY_CMD_SNAPSHOT .. FERRY_CMD_CLONE, FERRY_CMD_EVENT).
 * Plain data and pure functions: no netlink, no output.
 */
#ifndef FERRY_SNAP_H
#define FERRY_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/ferry.h>

#include "util.h"
#include "volume.h"

/* The tag naming a recovery point, the same at both sites. */
#define FERRY_POINT_TAG "ferry.point"
/* The source snapshot's label, carried by a replication stream. */
#define FERRY_LABEL_TAG "ferry.label"

struct ferry_tag {
	char key[FERRY_TAG_KEY_MAX + 1];
	char value[FERRY_TAG_VALUE_MAX + 1];
};

struct ferry_snap_info {
	char volume[FERRY_NAME_MAX + 1]; /* FERRY_ATTR_NAME of the message */
	uint32_t id;
	uint64_t epoch;
	uint32_t state; /* enum ferry_snap_state */
	char disk_name[FERRY_DISK_NAME_MAX + 1]; /* "" when it has no disk */
	uint64_t created_ns;
	char label[FERRY_LABEL_MAX + 1];
	uint64_t stall_ns;
	uint64_t freeze_ns;
	uint64_t cow_bytes;
	uint32_t parent; /* 0: not a clone */
	bool frozen;
	size_t ntags;
	struct ferry_tag tags[FERRY_TAGS_MAX];
};

struct snap_list {
	struct ferry_snap_info *s;
	size_t n;
	size_t cap;
};

/* Appends a zeroed snapshot; NULL when out of memory. */
struct ferry_snap_info *snap_list_add(struct snap_list *list);
void snap_list_free(struct snap_list *list);

/* Never from the kernel: a catalog point whose snapshot was deleted. */
#define SNAP_STATE_DELETED 0x10000

/* "live", "invalid", "deleted", or "state-N" for a state this agent does not know. */
void snap_state_name(uint32_t state, char *buf, size_t len);

/* "/dev/ferry0s1", or "" when the snapshot has no disk. */
void snap_device_path(const struct ferry_snap_info *s, char *buf, size_t len);

/* The value of tag @key, or NULL. */
const char *snap_tag(const struct ferry_snap_info *s, const char *key);

/* The point id: the ferry.point tag, else the id in decimal. */
void snap_point(const struct ferry_snap_info *s, char *buf, size_t len);

/* Sorts the tags by key (strcmp order). */
void snap_sort_tags(struct ferry_snap_info *s);

/*
 * Checks "key=value" as the kernel does: key 1..63 of [A-Za-z0-9._-],
 * value 0..255 printable ASCII. Splits it into @t when not NULL.
 */
int tag_parse(const char *kv, struct ferry_tag *t, struct ferr *e);

/* application, filesystem or crash. */
int check_label(const char *label, struct ferr *e);

/* A positive decimal u32 ("SNAPID"); @what names it in the message. */
int parse_snap_id(const char *s, const char *what, uint32_t *out,
		  struct ferr *e);

/* A decimal u64 (leading digits only, no sign, no blanks). */
int parse_u64(const char *s, const char *what, uint64_t *out, struct ferr *e);

/* ---- changed extents ---- */

struct extent {
	uint64_t offset;
	uint64_t length;
};

struct changed_map {
	bool has_uuid;
	uint8_t cbt_uuid[16];
	bool has_gen;
	uint64_t cbt_gen;
	struct extent *x;
	size_t n;
	size_t cap;
	uint64_t bytes; /* sum of the lengths */
};

/*
 * Appends an extent, merged with the last one when it starts where that
 * ends (or overlaps it). Zero lengths are ignored. -ENOMEM, or -EPROTO
 * when it goes backwards or overflows.
 */
int changed_add(struct changed_map *m, uint64_t offset, uint64_t length,
		struct ferr *e);
void changed_free(struct changed_map *m);

/* ---- events ---- */

struct ferry_event_info {
	uint32_t event; /* enum ferry_event */
	char name[FERRY_NAME_MAX + 1];
	uint32_t snap_id; /* 0: absent */
	bool has_tag;
	char tag[FERRY_TAG_KEY_MAX + 1 + FERRY_TAG_VALUE_MAX + 1];
	bool has_message;
	char message[256];
	uint64_t time_ns; /* CLOCK_REALTIME when it arrived */
};

/* "snapshot-created", ...; "event-N" for one this agent does not know. */
void event_name(uint32_t event, char *buf, size_t len);

#endif /* FERRY_SNAP_H */
