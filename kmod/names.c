// SPDX-License-Identifier: GPL-2.0
/*
 * ferry: validation of user-supplied names and sizes.
 *
 * Kept free of block-layer state so that KUnit can test it under UML.
 */
#include <linux/ctype.h>
#include <linux/log2.h>
#include <linux/string.h>
#include <linux/ferry.h>

#include "names.h"

/*
 * A volume name becomes part of log lines, sysfs values and the agent's
 * state file names, so it is kept to a portable set: 1..FERRY_NAME_MAX of
 * [A-Za-z0-9._-], not starting with '.' or '-' (no hidden files, no
 * option-looking names).
 */
bool ferry_name_valid(const char *name)
{
	size_t len, i;

	if (!name)
		return false;
	len = strnlen(name, FERRY_NAME_MAX + 1);
	if (len == 0 || len > FERRY_NAME_MAX)
		return false;
	if (name[0] == '.' || name[0] == '-')
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

bool ferry_chunk_size_valid(u32 bytes)
{
	return bytes >= FERRY_CHUNK_MIN && bytes <= FERRY_CHUNK_MAX &&
	       is_power_of_2(bytes);
}
