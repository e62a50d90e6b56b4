// SPDX-License-Identifier: GPL-2.0
/*
 * ferry: key=value tags of a snapshot.
 *
 * Keys are [A-Za-z0-9._-] (1..FERRY_TAG_KEY_MAX), values printable ASCII
 * (0..FERRY_TAG_VALUE_MAX); they travel to the second site and into
 * scripts, so nothing that needs quoting is allowed in keys.
 */
#include <linux/ctype.h>
#include <linux/errno.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "tags.h"

int ferry_tag_check(const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen, vlen, i;

	if (!eq)
		return -EINVAL;
	klen = eq - kv;
	vlen = strlen(eq + 1);
	if (klen == 0 || klen > FERRY_TAG_KEY_MAX || vlen > FERRY_TAG_VALUE_MAX)
		return -EINVAL;
	for (i = 0; i < klen; i++)
		if (!isalnum(kv[i]) && kv[i] != '.' && kv[i] != '_' &&
		    kv[i] != '-')
			return -EINVAL;
	for (i = 0; i < vlen; i++)
		if (eq[1 + i] < 0x20 || eq[1 + i] > 0x7e)
			return -EINVAL;
	return klen;
}

static int ferry_tags_find(const struct ferry_tags *t, const char *kv,
			   size_t klen)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (!strncmp(t->kv[i], kv, klen + 1))	/* "key=" */
			return i;
	return -ENOENT;
}

int ferry_tags_apply(struct ferry_tags *t, const char *kv, gfp_t gfp)
{
	int klen = ferry_tag_check(kv);
	int i;
	char *copy;

	if (klen < 0)
		return klen;
	i = ferry_tags_find(t, kv, klen);
	if (kv[klen + 1] == '\0') {		/* "key=": remove */
		if (i >= 0) {
			kfree(t->kv[i]);
			t->kv[i] = t->kv[--t->n];
			t->kv[t->n] = NULL;
		}
		return 0;
	}
	if (i < 0 && t->n >= FERRY_TAGS_MAX)
		return -ENOSPC;
	copy = kstrdup(kv, gfp);
	if (!copy)
		return -ENOMEM;
	if (i >= 0) {
		kfree(t->kv[i]);
		t->kv[i] = copy;
	} else {
		t->kv[t->n++] = copy;
	}
	return 0;
}

void ferry_tags_clear(struct ferry_tags *t)
{
	while (t->n)
		kfree(t->kv[--t->n]);
}
