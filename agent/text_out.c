// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: human-readable renderings.
 */
#include <stdio.h>

#include "text_out.h"
#include "util.h"

void volume_to_text(const struct ferry_volume *v, char *buf, size_t len)
{
	char dev[64], size[32], chunk[32];

	volume_device_path(v, dev, sizeof(dev));
	format_size(v->size, size, sizeof(size));
	format_size(v->chunk_size, chunk, sizeof(chunk));
	/* key=value for the paths: they may be long, columns would not fit. */
	snprintf(buf, len, "%s %s %s data=%s cow=%s chunk=%s open=%u", v->name,
		 dev, size, v->data_path, v->cow_path, chunk, v->open_count);
}
