// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: the replication object of `ferry status --json`.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <time.h>

#include "cmd_repl.h"
#include "repl_state.h"
#include "repl_tags.h"

struct json_object *repl_status_json(const struct ferry_ctx *ctx,
				     const char *name)
{
	struct json_object *o;
	struct repl_state s;
	struct ferr ignored;
	char path[4096], when[64];
	const char *state = "idle";
	long long now = (long long)time(NULL);

	if (repl_base_path(ctx->state_dir, name, path, sizeof(path)) ||
	    repl_state_load(path, &s, &ignored))
		return NULL;
	o = json_object_new_object();
	if (!o)
		return NULL;
	if (s.inflight_point[0])
		state = s.failed ? "failed" : "sending";
	json_object_object_add(o, "to", json_object_new_string(s.peer));
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "last_point",
			       s.point[0] ? json_object_new_string(s.point) :
					    NULL);
	if (s.acked_at) {
		format_rfc3339(s.acked_at * 1000000000ULL, when, sizeof(when));
		json_object_object_add(o, "last_ack_time",
				       json_object_new_string(when));
	} else {
		json_object_object_add(o, "last_ack_time", NULL);
	}
	json_object_object_add(
		o, "rpo_seconds",
		s.created ? json_object_new_int64(now - (long long)s.created) :
			    NULL);
	json_object_object_add(o, "bytes_sent_last",
			       json_object_new_int64((int64_t)s.bytes_sent));
	json_object_object_add(
		o, "in_flight_point",
		s.inflight_point[0] ? json_object_new_string(s.inflight_point) :
				      NULL);
	json_object_object_add(
		o, "queued_tag_updates",
		json_object_new_int64((int64_t)repl_tags_queued(ctx, name)));
	return o;
}
