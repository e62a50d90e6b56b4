/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry: key=value tags of a snapshot (pure, KUnit-tested).
 */
#ifndef FERRY_TAGS_H
#define FERRY_TAGS_H

#include <linux/types.h>
#include <linux/ferry.h>

/* Not locked: the owning snapshot's volume serialises changes. */
struct ferry_tags {
	char *kv[FERRY_TAGS_MAX];	/* "key=value", kmalloc'd, packed */
	unsigned int n;
};

/* Checks "key=value" (or "key=" to remove); returns the key length. */
int ferry_tag_check(const char *kv);
/*
 * Applies one checked update: sets, replaces or (empty value) removes.
 * Returns 0, -ENOSPC when full, -ENOMEM.
 */
int ferry_tags_apply(struct ferry_tags *t, const char *kv, gfp_t gfp);
void ferry_tags_clear(struct ferry_tags *t);

#endif /* FERRY_TAGS_H */
