/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry: validation of user-supplied names and sizes (pure, KUnit-tested).
 */
#ifndef FERRY_NAMES_H
#define FERRY_NAMES_H

#include <linux/types.h>

bool ferry_name_valid(const char *name);
bool ferry_chunk_size_valid(u32 bytes);

#endif /* FERRY_NAMES_H */
