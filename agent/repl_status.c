// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: the replication of a volume as ferry status shows it:
 * the base file (last acknowledged point, RPO), the daemon's pair state
 * (what the round is doing) and the backlog (queued points, policy).
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <time.h>

#include "backlog.h"
#include "cmd_repl.h"
#include "pair_state.h"
#include "repl_state.h"
#include "repl_tags.h"

/* Everything known about the replication of one volume. */
struct repl_view {
	struct repl_state base;
	bool has_pair; /* run by the daemon: pair state and backlog */
	struct pair_state pair;
	struct backlog bl;
	const char *state;
	long long now;
};

/* 0, or -ENOENT when the volume was never replicated. */
static int repl_view_load(const struct ferry_ctx *ctx, const char *name,
			  struct repl_view *v)
{
	struct ferr ignored;
	char path[4096];

	memset(v, 0, sizeof(*v));
	v->now = (long long)time(NULL);
	if (repl_base_path(ctx->state_dir, name, path, sizeof(path)) ||
	    repl_state_load(path, &v->base, &ignored))
		return -ENOENT;
	v->state = "idle";
	if (v->base.inflight_point[0])
		v->state = v->base.failed ? "failed" : "sending";
	if (!pair_state_path(ctx->state_dir, name, path, sizeof(path)) &&
	    !pair_state_load(path, &v->pair, &ignored)) {
		v->has_pair = true;
		v->state = pair_phase_name(v->pair.phase);
		if (!backlog_path(ctx->state_dir, name, path, sizeof(path)))
			backlog_load(path, &v->bl, &ignored);
	}
	return 0;
}

static long long oldest_queued_age(const struct repl_view *v)
{
	if (!v->bl.n)
		return -1;
	return v->now - (long long)v->bl.q[0].created;
}

static struct json_object *int_or_null(long long n)
{
	return n < 0 ? NULL : json_object_new_int64(n);
}

static struct json_object *pair_json(const struct repl_view *v)
{
	struct json_object *p = json_object_new_object(), *b;

	if (!p)
		return NULL;
	json_object_object_add(p, "point",
			       v->pair.point[0] ?
				       json_object_new_string(v->pair.point) :
				       NULL);
	json_object_object_add(
		p, "bytes_sent",
		json_object_new_int64((int64_t)v->pair.bytes_sent));
	json_object_object_add(
		p, "bytes_total",
		json_object_new_int64((int64_t)v->pair.bytes_total));
	json_object_object_add(p, "rate_bytes_per_second",
			       json_object_new_int64((int64_t)v->pair.rate));
	json_object_object_add(p, "eta_seconds",
			       int_or_null(pair_state_eta(&v->pair)));
	json_object_object_add(
		p, "updated_seconds_ago",
		int_or_null(v->pair.updated ?
				    v->now - (long long)v->pair.updated :
				    -1));
	json_object_object_add(p, "error",
			       v->pair.error[0] ?
				       json_object_new_string(v->pair.error) :
				       NULL);
	b = json_object_new_object();
	if (b) {
		json_object_object_add(b, "policy",
				       json_object_new_string("merge"));
		json_object_object_add(b, "queued",
				       json_object_new_int64((int64_t)v->bl.n));
		json_object_object_add(b, "oldest_queued_age_seconds",
				       int_or_null(oldest_queued_age(v)));
		json_object_object_add(
			b, "merged",
			json_object_new_int64((int64_t)v->bl.merged));
		json_object_object_add(
			b, "dropped",
			json_object_new_int64((int64_t)v->bl.dropped));
		json_object_object_add(
			b, "last_action",
			v->bl.last_action[0] ?
				json_object_new_string(v->bl.last_action) :
				NULL);
		json_object_object_add(p, "backlog", b);
	}
	return p;
}

struct json_object *repl_status_json(const struct ferry_ctx *ctx,
				     const char *name)
{
	struct json_object *o;
	struct repl_view v;
	struct repl_state *s = &v.base;
	char when[64];

	if (repl_view_load(ctx, name, &v))
		return NULL;
	o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(
		o, "to",
		json_object_new_string(v.has_pair && v.pair.to[0] ? v.pair.to :
								    s->peer));
	json_object_object_add(o, "state", json_object_new_string(v.state));
	json_object_object_add(o, "last_point",
			       s->point[0] ? json_object_new_string(s->point) :
					     NULL);
	if (s->acked_at) {
		format_rfc3339(s->acked_at * 1000000000ULL, when, sizeof(when));
		json_object_object_add(o, "last_ack_time",
				       json_object_new_string(when));
	} else {
		json_object_object_add(o, "last_ack_time", NULL);
	}
	json_object_object_add(
		o, "rpo_seconds",
		s->created ?
			json_object_new_int64(v.now - (long long)s->created) :
			NULL);
	json_object_object_add(o, "bytes_sent_last",
			       json_object_new_int64((int64_t)s->bytes_sent));
	json_object_object_add(
		o, "in_flight_point",
		s->inflight_point[0] ?
			json_object_new_string(s->inflight_point) :
			NULL);
	json_object_object_add(
		o, "queued_tag_updates",
		json_object_new_int64((int64_t)repl_tags_queued(ctx, name)));
	if (v.has_pair)
		json_object_object_add(o, "pair", pair_json(&v));
	return o;
}

int repl_status_text(const struct ferry_ctx *ctx, const char *name, char *buf,
		     size_t len)
{
	char rpo[32] = "-", sent[32], total[32], rate[32], more[160] = "";
	struct repl_view v;
	long long eta;
	size_t n;

	if (repl_view_load(ctx, name, &v))
		return -ENOENT;
	if (v.base.created)
		snprintf(rpo, sizeof(rpo), "%llds",
			 v.now - (long long)v.base.created);
	if (v.has_pair && v.pair.phase == PAIR_SENDING) {
		format_size(v.pair.bytes_sent, sent, sizeof(sent));
		format_size(v.pair.bytes_total, total, sizeof(total));
		format_size(v.pair.rate, rate, sizeof(rate));
		eta = pair_state_eta(&v.pair);
		snprintf(more, sizeof(more),
			 ", sent %s of %s, %s/s, eta %s%lld%s", sent, total,
			 rate, eta < 0 ? "-" : "", eta < 0 ? 0 : eta,
			 eta < 0 ? "" : "s");
	}
	n = (size_t)snprintf(buf, len, "  replication to %s: %s, rpo %s%s",
			     v.has_pair && v.pair.to[0] ? v.pair.to :
							  v.base.peer,
			     v.state, rpo, more);
	if (v.has_pair && n < len)
		snprintf(buf + n, len - n,
			 ", backlog %zu (oldest %llds), merged %" PRIu64
			 ", dropped %" PRIu64 "%s%s",
			 v.bl.n, v.bl.n ? oldest_queued_age(&v) : 0LL,
			 v.bl.merged, v.bl.dropped,
			 v.pair.error[0] ? ", last error: " : "", v.pair.error);
	return 0;
}
