// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: snapshots, tags, changed extents and events.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snap.h"

struct ferry_snap_info *snap_list_add(struct snap_list *list)
{
	struct ferry_snap_info *s;

	if (list->n == list->cap) {
		size_t cap = list->cap ? 2 * list->cap : 4;

		s = reallocarray(list->s, cap, sizeof(*s));
		if (!s)
			return NULL;
		list->s = s;
		list->cap = cap;
	}
	s = &list->s[list->n++];
	memset(s, 0, sizeof(*s));
	return s;
}

void snap_list_free(struct snap_list *list)
{
	free(list->s);
	memset(list, 0, sizeof(*list));
}

void snap_state_name(uint32_t state, char *buf, size_t len)
{
	if (state == FERRY_STATE_LIVE)
		snprintf(buf, len, "live");
	else if (state == FERRY_STATE_INVALID)
		snprintf(buf, len, "invalid");
	else if (state == SNAP_STATE_DELETED)
		snprintf(buf, len, "deleted");
	else
		snprintf(buf, len, "state-%" PRIu32, state);
}

void snap_device_path(const struct ferry_snap_info *s, char *buf, size_t len)
{
	if (s->disk_name[0])
		snprintf(buf, len, "/dev/%s", s->disk_name);
	else if (len)
		buf[0] = '\0';
}

const char *snap_tag(const struct ferry_snap_info *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->ntags; i++)
		if (!strcmp(s->tags[i].key, key))
			return s->tags[i].value;
	return NULL;
}

void snap_point(const struct ferry_snap_info *s, char *buf, size_t len)
{
	const char *p = snap_tag(s, FERRY_POINT_TAG);

	if (p)
		snprintf(buf, len, "%s", p);
	else
		snprintf(buf, len, "%" PRIu32, s->id);
}

static int tag_cmp(const void *a, const void *b)
{
	const struct ferry_tag *x = a, *y = b;

	return strcmp(x->key, y->key);
}

void snap_sort_tags(struct ferry_snap_info *s)
{
	qsort(s->tags, s->ntags, sizeof(s->tags[0]), tag_cmp);
}

static bool key_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
}

int tag_parse(const char *kv, struct ferry_tag *t, struct ferr *e)
{
	const char *eq = strchr(kv, '=');
	size_t klen, vlen, i;

	if (!eq)
		return ferr_set(e, -EINVAL, "tag '%s' is not KEY=VALUE", kv);
	klen = eq - kv;
	vlen = strlen(eq + 1);
	if (!klen)
		return ferr_set(e, -EINVAL, "tag '%s' has an empty key", kv);
	if (klen > FERRY_TAG_KEY_MAX)
		return ferr_set(e, -EINVAL, "tag key longer than %d bytes",
				FERRY_TAG_KEY_MAX);
	for (i = 0; i < klen; i++)
		if (!key_char_ok(kv[i]))
			return ferr_set(
				e, -EINVAL,
				"invalid tag key: only A-Z a-z 0-9 . _ - are allowed");
	if (vlen > FERRY_TAG_VALUE_MAX)
		return ferr_set(e, -EINVAL, "tag value longer than %d bytes",
				FERRY_TAG_VALUE_MAX);
	for (i = 0; i < vlen; i++)
		if (eq[1 + i] < 0x20 || eq[1 + i] > 0x7e)
			return ferr_set(
				e, -EINVAL,
				"invalid tag value: only printable ASCII is allowed");
	if (t) {
		memcpy(t->key, kv, klen);
		t->key[klen] = '\0';
		memcpy(t->value, eq + 1, vlen + 1);
	}
	return 0;
}

int check_label(const char *label, struct ferr *e)
{
	if (!strcmp(label, "application") || !strcmp(label, "filesystem") ||
	    !strcmp(label, "crash"))
		return 0;
	return ferr_set(e, -EINVAL,
			"invalid label: use application, filesystem or crash");
}

int parse_u64(const char *s, const char *what, uint64_t *out, struct ferr *e)
{
	uint64_t val = 0;
	const char *p;

	if (!*s)
		return ferr_set(e, -EINVAL, "%s is empty", what);
	for (p = s; *p; p++) {
		unsigned int d = *p - '0';

		if (!isdigit((unsigned char)*p))
			return ferr_set(e, -EINVAL,
					"%s must be a decimal number", what);
		if (val > (UINT64_MAX - d) / 10)
			return ferr_set(e, -ERANGE, "%s is too large", what);
		val = val * 10 + d;
	}
	*out = val;
	return 0;
}

int parse_snap_id(const char *s, const char *what, uint32_t *out,
		  struct ferr *e)
{
	uint64_t v;
	int err = parse_u64(s, what, &v, e);

	if (err)
		return ferr_set(e, -EINVAL, "%s must be a positive number",
				what);
	if (v == 0 || v > UINT32_MAX)
		return ferr_set(e, -EINVAL, "%s must be in 1..%" PRIu32, what,
				UINT32_MAX);
	*out = (uint32_t)v;
	return 0;
}

int changed_add(struct changed_map *m, uint64_t offset, uint64_t length,
		struct ferr *e)
{
	struct extent *last = m->n ? &m->x[m->n - 1] : NULL;
	uint64_t end;

	if (!length)
		return 0;
	if (offset > UINT64_MAX - length)
		return ferr_set(e, -EPROTO,
				"kernel reply: extent beyond 2^64 bytes");
	end = offset + length;
	if (last && offset < last->offset)
		return ferr_set(e, -EPROTO,
				"kernel reply: extents out of order");
	if (last && offset <= last->offset + last->length) {
		uint64_t last_end = last->offset + last->length;

		if (end > last_end) {
			m->bytes += end - last_end;
			last->length = end - last->offset;
		}
		return 0;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct extent *x = reallocarray(m->x, cap, sizeof(*x));

		if (!x)
			return ferr_set(e, -ENOMEM, "out of memory");
		m->x = x;
		m->cap = cap;
	}
	m->x[m->n].offset = offset;
	m->x[m->n].length = length;
	m->n++;
	m->bytes += length;
	return 0;
}

void changed_free(struct changed_map *m)
{
	free(m->x);
	memset(m, 0, sizeof(*m));
}

static const char *const event_names[] = {
	[FERRY_EVENT_SNAP_CREATED] = "snapshot-created",
	[FERRY_EVENT_SNAP_DELETED] = "snapshot-deleted",
	[FERRY_EVENT_SNAP_INVALID] = "snapshot-invalid",
	[FERRY_EVENT_TAG_CHANGED] = "tag-changed",
	[FERRY_EVENT_COW_LOW] = "cow-low",
	[FERRY_EVENT_DEVICE_ERROR] = "device-error",
};

void event_name(uint32_t event, char *buf, size_t len)
{
	if (event < ARRAY_SIZE(event_names) && event_names[event])
		snprintf(buf, len, "%s", event_names[event]);
	else
		snprintf(buf, len, "event-%" PRIu32, event);
}
