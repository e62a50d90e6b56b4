// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: fire drill decisions.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "drill.h"

int drill_pick(const struct snap_list *l, const char *name, uint32_t want_id,
	       const char *want_point, struct ferr *e)
{
	const struct ferry_snap_info *s;
	const char *p;
	int best = -1;
	size_t i;

	for (i = 0; i < l->n; i++) {
		s = &l->s[i];
		if (want_id && s->id != want_id)
			continue;
		if (want_point) {
			p = snap_tag(s, FERRY_POINT_TAG);
			if (!p || strcmp(p, want_point))
				continue;
		}
		if (want_id || want_point) {
			if (s->parent)
				return ferr_set(e, -EINVAL,
						"%s: snapshot %" PRIu32
						" is a clone, not a point",
						name, s->id);
			if (s->state != FERRY_STATE_LIVE)
				return ferr_set(e, -EINVAL,
						"%s: snapshot %" PRIu32
						" is not live",
						name, s->id);
			return (int)i;
		}
		if (s->parent || s->state != FERRY_STATE_LIVE)
			continue;
		if (best < 0 || s->created_ns > l->s[best].created_ns ||
		    (s->created_ns == l->s[best].created_ns &&
		     s->id > l->s[best].id))
			best = (int)i;
	}
	if (best >= 0)
		return best;
	if (want_id)
		return ferr_set(e, -ENOENT, "%s: no snapshot %" PRIu32, name,
				want_id);
	if (want_point)
		return ferr_set(e, -ENOENT, "%s: no snapshot of point %s", name,
				want_point);
	return ferr_set(e, -ENOENT, "%s: no live snapshot to drill", name);
}

static bool value_requests(const char *v)
{
	return v && *v && strcmp(v, DRILL_TAG_DONE);
}

bool drill_tag_triggers(const char *kv, const char *key)
{
	size_t n = strlen(key);

	if (!kv || strncmp(kv, key, n) || kv[n] != '=')
		return false;
	return value_requests(kv + n + 1);
}

bool drill_snap_requested(const struct ferry_snap_info *s, const char *key)
{
	return !s->parent && s->state == FERRY_STATE_LIVE &&
	       value_requests(snap_tag(s, key));
}

bool drill_sched_skip(const struct ferry_snap_info *s, const char *key,
		      uint64_t since_ns)
{
	char k[FERRY_TAG_KEY_MAX + 8], since[40];
	const char *at;

	snprintf(k, sizeof(k), "%s.result", key);
	if (!snap_tag(s, k))
		return false;
	snprintf(k, sizeof(k), "%s.at", key);
	at = snap_tag(s, k);
	if (!at)
		return false;
	/* RFC 3339 UTC, fixed width: the text order is the time order. */
	format_rfc3339(since_ns, since, sizeof(since));
	return strlen(at) == strlen(since) && strcmp(at, since) > 0;
}

bool drill_budget_exceeded(const struct drill_budget *b, uint64_t cow_used)
{
	return b->limit && cow_used > b->base && cow_used - b->base > b->limit;
}

size_t drill_teardown_plan(const struct drill_state *st, enum drill_step *steps)
{
	size_t n = 0;

	if (st->check_running)
		steps[n++] = DRILL_STEP_KILL;
	if (st->mounted)
		steps[n++] = DRILL_STEP_UNMOUNT;
	if (st->have_dir)
		steps[n++] = DRILL_STEP_RMDIR;
	if (st->cloned)
		steps[n++] = DRILL_STEP_DELETE_CLONE;
	steps[n++] = DRILL_STEP_RECORD;
	return n;
}

const char *drill_step_name(enum drill_step s)
{
	switch (s) {
	case DRILL_STEP_KILL:
		return "kill";
	case DRILL_STEP_UNMOUNT:
		return "unmount";
	case DRILL_STEP_RMDIR:
		return "rmdir";
	case DRILL_STEP_DELETE_CLONE:
		return "delete-clone";
	case DRILL_STEP_RECORD:
		return "record";
	}
	return "?";
}

const char *drill_fs_type(const unsigned char *buf, size_t len)
{
	if (len >= 4 && !memcmp(buf, "XFSB", 4))
		return "xfs";
	/* ext2/3/4: s_magic 0xEF53 at byte 56 of the superblock at 1024. */
	if (len >= 1082 && buf[1080] == 0x53 && buf[1081] == 0xef)
		return "ext4";
	return NULL;
}

void drill_tag_value(const char *in, char *out, size_t len)
{
	size_t i, n = 0;

	for (i = 0; in[i] && n + 1 < len; i++) {
		unsigned char c = (unsigned char)in[i];

		out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
	}
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

void drill_result_tags(const char *key, bool pass, uint64_t at_ns,
		       uint64_t seconds, const char *reason,
		       char bufs[4][DRILL_TAG_BUF], char *kv[4])
{
	char at[40], why[DRILL_REASON_MAX + 1];

	format_rfc3339(at_ns, at, sizeof(at));
	drill_tag_value(pass ? "" : reason, why, sizeof(why));
	snprintf(bufs[0], DRILL_TAG_BUF, "%.63s.result=%s", key,
		 pass ? "pass" : "fail");
	snprintf(bufs[1], DRILL_TAG_BUF, "%.63s.at=%s", key, at);
	snprintf(bufs[2], DRILL_TAG_BUF, "%.63s.seconds=%" PRIu64, key,
		 seconds);
	snprintf(bufs[3], DRILL_TAG_BUF, "%.63s.reason=%s", key, why);
	kv[0] = bufs[0];
	kv[1] = bufs[1];
	kv[2] = bufs[2];
	kv[3] = bufs[3];
}

int drill_key_check(const char *key, struct ferr *e)
{
	struct ferry_tag t;
	char kv[FERRY_TAG_KEY_MAX + 8];

	if (!*key || strlen(key) > FERRY_TAG_KEY_MAX - 8)
		return ferr_set(e, -EINVAL,
				"drill tag key must be 1..%d characters",
				FERRY_TAG_KEY_MAX - 8);
	if (!strncmp(key, "ferry.", 6))
		return ferr_set(
			e, -EINVAL,
			"drill tag key '%s': ferry.* keys are the agent's",
			key);
	snprintf(kv, sizeof(kv), "%s=", key);
	return tag_parse(kv, &t, e);
}
