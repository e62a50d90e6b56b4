/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: durations of the configuration file: "30s", "5m", "1h",
 * "1d", "2w", "1h30m", "0s" (whole seconds).
 */
#ifndef FERRY_DURATION_H
#define FERRY_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Longest duration accepted: 100 years. */
#define DURATION_MAX_S (100ULL * 366 * 86400)

/*
 * One or more NUMBER UNIT pairs, units s m h d w (largest first, each at
 * most once); "0" alone is zero. Sets *@s in seconds.
 */
int parse_duration(const char *text, uint64_t *s, struct ferr *e);

/* The shortest text parse_duration() reads back: "1h30m", "0s". */
void format_duration(uint64_t s, char *buf, size_t len);

#endif /* FERRY_DURATION_H */
