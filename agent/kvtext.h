/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: the "key=value" lines of the small state files the daemon
 * keeps (the backlog queue, a pair's state).
 */
#ifndef FERRY_KVTEXT_H
#define FERRY_KVTEXT_H

#include "util.h"

/*
 * Calls set(arg, key, value) for each "key=value" line of @text; blank
 * lines and lines starting with '#' are skipped. set() returns non-zero
 * for a bad value. Lines are at most 511 bytes.
 */
int kvtext_parse(const char *text,
		 int (*set)(void *arg, const char *key, const char *value),
		 void *arg, struct ferr *e);

#endif /* FERRY_KVTEXT_H */
