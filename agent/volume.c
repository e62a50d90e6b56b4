// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: volume records.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "volume.h"

static const char *const stat_names[] = {
	[FERRY_STAT_READS] = "reads",
	[FERRY_STAT_READ_BYTES] = "read_bytes",
	[FERRY_STAT_WRITES] = "writes",
	[FERRY_STAT_WRITE_BYTES] = "write_bytes",
	[FERRY_STAT_FLUSHES] = "flushes",
	[FERRY_STAT_DISCARDS] = "discards",
	[FERRY_STAT_WRITE_ZEROES] = "write_zeroes",
	[FERRY_STAT_ERRORS] = "errors",
	[FERRY_STAT_IN_FLIGHT] = "in_flight",
};

/* A new FERRY_STAT_* must get a name here. */
_Static_assert(ARRAY_SIZE(stat_names) == FERRY_STAT_MAX + 1,
	       "stat_names does not cover enum ferry_stat");

const char *ferry_stat_name(int stat)
{
	if (stat < 0 || stat > FERRY_STAT_MAX)
		return NULL;
	return stat_names[stat];
}

struct ferry_volume *volume_list_add(struct volume_list *list)
{
	struct ferry_volume *v;

	if (list->n == list->cap) {
		size_t cap = list->cap ? 2 * list->cap : 4;

		v = reallocarray(list->v, cap, sizeof(*v));
		if (!v)
			return NULL;
		list->v = v;
		list->cap = cap;
	}
	v = &list->v[list->n++];
	memset(v, 0, sizeof(*v));
	return v;
}

void volume_list_free(struct volume_list *list)
{
	free(list->v);
	memset(list, 0, sizeof(*list));
}

void volume_device_path(const struct ferry_volume *v, char *buf, size_t len)
{
	snprintf(buf, len, "/dev/%s", v->disk_name);
}

void format_dev(uint32_t dev, char *buf, size_t len)
{
	/* The inverse of the kernel's new_encode_dev(). */
	unsigned int major = (dev & 0xfff00) >> 8;
	unsigned int minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);

	snprintf(buf, len, "%u:%u", major, minor);
}
