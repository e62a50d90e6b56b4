// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: human-readable renderings.
 */
#include <inttypes.h>
#include <stdio.h>

#include "text_out.h"
#include "util.h"

void volume_to_text(const struct ferry_volume *v, char *buf, size_t len)
{
	char dev[64], size[32], chunk[32], used[32], total[32], uuid[40] = "";

	volume_device_path(v, dev, sizeof(dev));
	format_size(v->size, size, sizeof(size));
	format_size(v->chunk_size, chunk, sizeof(chunk));
	format_size(v->cow_used, used, sizeof(used));
	format_size(v->cow_total, total, sizeof(total));
	if (v->has_cbt_uuid)
		format_uuid(v->cbt_uuid, uuid, sizeof(uuid));
	/* key=value for the paths: they may be long, columns would not fit. */
	snprintf(buf, len,
		 "%s %s %s data=%s cow=%s chunk=%s open=%u epoch=%" PRIu64
		 " cbt_uuid=%s cbt_gen=%" PRIu64 " cow_used=%s cow_total=%s",
		 v->name, dev, size, v->data_path, v->cow_path, chunk,
		 v->open_count, v->epoch, uuid, v->cbt_gen, used, total);
}
