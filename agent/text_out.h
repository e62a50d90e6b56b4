/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: human-readable renderings of what the commands print.
 */
#ifndef FERRY_TEXT_OUT_H
#define FERRY_TEXT_OUT_H

#include <stddef.h>

#include "volume.h"

/*
 * One line of "ferry status", without the newline:
 * "NAME DEVICE SIZE data=PATH cow=PATH chunk=SIZE open=N".
 */
void volume_to_text(const struct ferry_volume *v, char *buf, size_t len);

#endif /* FERRY_TEXT_OUT_H */
