// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: replicate: one point, primary side.
 *
 * snapshot (tag ferry.point) -> full copy, or the extents changed since
 * the base's epoch -> STREAM_END -> wait for ARRIVED and ACK -> save the
 * new base (epoch, CBT identity; tmp+fsync+rename) -> delete the
 * snapshot. The point in flight is recorded in the base file as soon as
 * its snapshot exists; a round that fails or is killed before the ack
 * keeps that snapshot, and the next run sends the same point again,
 * from the offset the receiver reports durable (RESUME).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd_common.h"
#include "cmd_repl.h"
#include "blockdev.h"
#include "conn.h"
#include "json_out.h"
#include "kapi.h"
#include "repl_kapi.h"
#include "point.h"
#include "repl_state.h"
#include "repl_tags.h"
#include "resume.h"
#include "snap.h"
#include "xfer.h"

#define RETRY_MS 1000
#define NODE_TIMEOUT_MS 5000

struct point_result {
	char point[WIRE_POINT_MAX + 1];
	uint32_t source_snap_id;
	uint32_t replica_snap_id;
	bool full;
	const char *why; /* of a full copy: first, requested, cbt-reset... */
	uint64_t bytes_sent; /* all connections of the round */
	uint64_t bytes_changed;
	uint64_t data_bytes; /* DATA frames' bytes, all connections */
	uint64_t data_wire_bytes; /* the same as on the wire (compressed) */
	uint64_t zstd_frames;
	const char *compress; /* "off", "zstd", "unsupported-by-peer" */
	uint64_t resumed_from; /* highest RESUME offset received */
	bool resumed_point; /* the point was in flight from an earlier run */
	unsigned int connections;
	struct tags_result tags;
	bool tags_failed;
	double seconds;
};

/*
 * The tags the stream carries: the snapshot's own, plus its source id and
 * its consistency label (ferry.label), which the receiver gives its
 * snapshot of the replica.
 */
static int stream_tags(const struct ferry_snap_info *s, struct wire_begin *b,
		       struct ferr *e)
{
	bool has_label = false;
	size_t i;

	for (i = 0; i < s->ntags; i++) {
		if (!strcmp(s->tags[i].key, "ferry.source.id"))
			continue;
		if (!strcmp(s->tags[i].key, FERRY_LABEL_TAG))
			has_label = true;
		snprintf(b->tags[b->ntags++], sizeof(b->tags[0]), "%s=%s",
			 s->tags[i].key, s->tags[i].value);
	}
	if (!has_label && s->label[0] && b->ntags < FERRY_TAGS_MAX - 1)
		snprintf(b->tags[b->ntags++], sizeof(b->tags[0]), "%s=%s",
			 FERRY_LABEL_TAG, s->label);
	if (b->ntags == FERRY_TAGS_MAX)
		return ferr_set(e, -E2BIG,
				"snapshot %" PRIu32
				" has %d tags, no room for ferry.source.id",
				s->id, FERRY_TAGS_MAX);
	snprintf(b->tags[b->ntags++], sizeof(b->tags[0]),
		 "ferry.source.id=%" PRIu32, s->id);
	return 0;
}

/* Is this failure worth a new connection (before the deadline)? */
static bool retryable(int err)
{
	return err == -ECONNREFUSED || err == -ECONNRESET || err == -EPIPE ||
	       err == -EBADMSG || /* a frame damaged in transit */
	       err == -ENETUNREACH || err == -EHOSTUNREACH ||
	       err == -ECONNABORTED || err == -ENOTCONN;
}

/*
 * --compress: use it if the receiver offers it, else send raw and say so,
 * once per process (not an error: compression is an optimisation).
 */
static void compress_check(const struct replicate_args *a, const struct conn *c,
			   struct point_result *res)
{
	static bool said;

	if (!a->compress_level) {
		res->compress = "off";
		return;
	}
	if (c->features & WIRE_FEAT_ZSTD) {
		res->compress = "zstd";
		return;
	}
	res->compress = "unsupported-by-peer";
	if (!said)
		ferry_warn(
			"replicate",
			"%s: %s does not offer compression; sending uncompressed",
			a->name, a->to);
	said = true;
}

/* One connection: HELLO, BEGIN, the data, END, ARRIVED, ACK. */
static int send_once(const struct replicate_args *a, const struct wire_begin *b,
		     const char *dev, const struct extent *x, size_t n,
		     long long deadline, struct point_result *res,
		     struct ferr *e)
{
	static uint8_t buf[WIRE_BEGIN_MAX];
	struct xfer_opts o = { .verbose = a->verbose,
			       .progress = a->progress,
			       .bwlimit = a->bwlimit,
			       .compress_level = a->compress_level };
	uint64_t offer = WIRE_FEATURES;
	struct extent *left = NULL;
	struct xfer_stats st;
	struct wire_hdr h;
	uint64_t skip = 0;
	struct conn c;
	size_t len;
	int fd, err;

	err = conn_connect(&c, a->to, e);
	if (err)
		return err;
	res->connections++;
	c.deadline_ms = deadline;
	if (!a->compress_level)
		offer &= ~WIRE_FEAT_ZSTD;
	err = conn_hello(&c, offer, e);
	if (err)
		goto out;
	compress_check(a, &c, res);
	len = wire_begin_encode(b, buf, sizeof(buf));
	if (!len) {
		err = ferr_set(e, -E2BIG, "STREAM_BEGIN does not fit");
		goto out;
	}
	err = conn_send(&c, WIRE_STREAM_BEGIN, 0, 0, buf, (uint32_t)len, e);
	if (err)
		goto out;
	if (c.features & WIRE_FEAT_RESUME) {
		err = conn_recv(&c, &h, buf, sizeof(buf), e);
		if (!err && h.type != WIRE_RESUME)
			err = ferr_set(e, -EPROTO,
				       "expected RESUME, %s sent %s", a->to,
				       wire_type_name(h.type));
		if (!err && h.arg0 > b->volume_size)
			err = ferr_set(e, -EPROTO,
				       "RESUME at %llu is beyond the volume",
				       (unsigned long long)h.arg0);
		if (err)
			goto out;
		skip = h.arg0;
	}
	left = calloc(n ? n : 1, sizeof(*left));
	if (!left) {
		err = ferr_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(left, x, n * sizeof(*x));
	n = extents_skip_below(left, n, skip);
	if (skip > res->resumed_from)
		res->resumed_from = skip;
	if (skip && a->verbose)
		fprintf(stderr,
			"ferry: %s has point %s durable below %llu; resuming there\n",
			a->to, b->target_point, (unsigned long long)skip);
	fd = open(dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		err = ferr_set(e, -errno, "%s: %s", dev, strerror(errno));
		conn_send_error(&c, "the sender cannot read its snapshot");
		goto out;
	}
	err = xfer_send(&c, fd, left, n, &o, &st, e);
	close(fd);
	res->data_bytes += st.data_bytes;
	res->data_wire_bytes += st.data_wire_bytes;
	res->zstd_frames += st.zstd_frames;
	if (err)
		goto out;
	err = conn_recv(&c, &h, buf, sizeof(buf), e);
	if (!err && h.type != WIRE_ARRIVED)
		err = ferr_set(e, -EPROTO, "expected ARRIVED, %s sent %s",
			       a->to, wire_type_name(h.type));
	if (err)
		goto out;
	if (a->verbose)
		fprintf(stderr, "ferry: point %s arrived at %s\n",
			b->target_point, a->to);
	err = conn_recv(&c, &h, buf, sizeof(buf), e);
	if (!err && h.type != WIRE_ACK)
		err = ferr_set(e, -EPROTO, "expected ACK, %s sent %s", a->to,
			       wire_type_name(h.type));
	if (!err && (!h.arg0 || h.arg0 > UINT32_MAX))
		err = ferr_set(e, -EPROTO, "ACK with snapshot id %llu",
			       (unsigned long long)h.arg0);
	if (err)
		goto out;
	res->replica_snap_id = (uint32_t)h.arg0;
	if (c.features & WIRE_FEAT_TAGS) {
		struct ferr why = { { 0 } };

		/* The point is home; tags failing do not undo that. */
		if (repl_tags_send(a->ctx, a->name, &c, &res->tags, &why)) {
			ferry_warn("replicate", "%s: tags: %s", a->name,
				   why.msg);
			res->tags_failed = true;
		}
	}
out:
	if (err && err != -EREMOTEIO && err != -ETIMEDOUT)
		err = conn_peer_error(&c, err, e);
	/* The receiver refused a damaged frame: worth another connection. */
	if (err == -EREMOTEIO && (c.peer_error_arg & WIRE_ERROR_RETRY))
		err = -EBADMSG;
	res->bytes_sent += c.bytes_sent;
	conn_close(&c);
	free(left);
	return err;
}

/* Decides full or incremental and fills @m with what to send. */
static int plan(struct kapi *k, const struct replicate_args *a,
		const struct repl_state *base, bool have_base,
		const struct ferry_volume *v, const struct ferry_snap_info *s,
		struct changed_map *m, bool *full, const char **reason,
		struct ferr *e)
{
	struct ferr why = { { 0 } };
	int err;

	*full = true;
	*reason = a->full ? "requested" : "first";
	if (a->full || !have_base)
		goto full;
	*reason = "cbt-reset";
	if (memcmp(base->cbt_uuid, v->cbt_uuid, 16) ||
	    base->cbt_gen != v->cbt_gen) {
		ferry_warn(
			"replicate",
			"%s: changed-block tracking was reset since point %s; full resync",
			a->name, base->point);
		goto full;
	}
	err = rk_changed(k, a->name, base->epoch, s->id, m, &why);
	if (!err && (!m->has_uuid || memcmp(m->cbt_uuid, base->cbt_uuid, 16) ||
		     m->cbt_gen != base->cbt_gen)) {
		ferry_warn(
			"replicate",
			"%s: changed-block tracking was reset since point %s; full resync",
			a->name, base->point);
		changed_free(m);
		goto full;
	}
	if (err) {
		*reason = "changes-unknown";
		ferry_warn(
			"replicate",
			"%s: changed blocks since point %s unknown (%s); full resync",
			a->name, base->point, why.msg);
		changed_free(m);
		goto full;
	}
	*full = false;
	*reason = NULL;
	return 0;
full:
	memset(m, 0, sizeof(*m));
	err = changed_add(m, 0, v->size, e);
	return err;
}

/*
 * The snapshot of the point recorded in flight, if it is still there,
 * live and tagged with that point: 1 found, 0 not.
 */
static int inflight_snapshot(struct kapi *k, const struct replicate_args *a,
			     const struct repl_state *base,
			     struct ferry_snap_info *snap)
{
	struct ferr why = { { 0 } };
	const char *p;

	if (!base->inflight_point[0] || !base->inflight_snap_id)
		return 0;
	if (!rk_get_snapshot(k, a->name, base->inflight_snap_id, snap, &why)) {
		p = snap_tag(snap, FERRY_POINT_TAG);
		if (p && !strcmp(p, base->inflight_point) &&
		    snap->state == FERRY_STATE_LIVE)
			return 1;
	}
	ferry_warn("replicate",
		   "%s: snapshot %" PRIu32
		   " of point %s in flight is gone%s%s; taking a new point",
		   a->name, base->inflight_snap_id, base->inflight_point,
		   why.msg[0] ? ": " : "", why.msg);
	return 0;
}

/*
 * --hook: the new point taken as ferry snapshot takes it (point_take:
 * hooks, label, catalog, ferry.point); its snapshot in @snap.
 */
static int take_hooked(struct ferry_ctx *ctx, const struct replicate_args *a,
		       struct point_result *res, struct ferry_snap_info *snap,
		       struct ferr *e)
{
	struct snapshot_args sa;
	struct snap_list list = { 0 };
	const char *p;
	char dev[64];
	int err;

	memset(&sa, 0, sizeof(sa));
	sa.names[0] = (char *)a->name;
	sa.nnames = 1;
	sa.hook = a->hook;
	sa.hook_shell = a->hook_shell;
	sa.hook_timeout_ms = a->hook_timeout_ms;
	sa.accept_lower = a->accept_lower;
	err = point_take(ctx, &sa, &list, e);
	if (err)
		return err;
	if (list.n != 1) {
		err = ferr_set(e, -EPROTO, "%s: %zu snapshots for one volume",
			       a->name, list.n);
		snap_list_free(&list);
		return err;
	}
	*snap = list.s[0];
	snap_list_free(&list);
	p = snap_tag(snap, FERRY_POINT_TAG);
	if (!p)
		return ferr_set(e, -EPROTO,
				"%s: snapshot %" PRIu32 " has no %s tag",
				a->name, snap->id, FERRY_POINT_TAG);
	snprintf(res->point, sizeof(res->point), "%s", p);
	snap_device_path(snap, dev, sizeof(dev));
	return dev[0] ? wait_for_block_node(dev, NODE_TIMEOUT_MS, e) : 0;
}

static int replicate_point(struct ferry_ctx *ctx,
			   const struct replicate_args *a,
			   struct point_result *res, struct ferr *e)
{
	struct repl_state base, nb;
	struct ferry_volume v;
	struct ferry_snap_info snap;
	struct changed_map m = { 0 };
	struct wire_begin *b = NULL;
	char path[4096], tag[128], dev[64];
	char *tags[1] = { tag };
	long long start = mono_ms(), deadline = start + a->timeout_ms;
	bool have_base, snapped = false;
	struct kapi *k;
	struct ferr ignored;
	int err, tries;

	memset(res, 0, sizeof(*res));
	res->compress = "off";
	if (repl_base_path(ctx->state_dir, a->name, path, sizeof(path)))
		return ferr_set(e, -ENAMETOOLONG, "state path too long");
	err = repl_state_load(path, &base, e);
	if (err == -ENOENT)
		memset(&base, 0, sizeof(base));
	else if (err)
		return err;
	have_base = base.point[0] != '\0';
	err = kapi_open(&k, e);
	if (err)
		return err;
	/* The CBT identity before the snapshot: a reset after it is seen next time. */
	err = rk_get_volume(k, a->name, &v, e);
	if (err)
		goto out;
	if (inflight_snapshot(k, a, &base, &snap)) {
		/* Not acknowledged yet: the same point again, resumed. */
		res->resumed_point = true;
		snprintf(res->point, sizeof(res->point), "%s",
			 base.inflight_point);
		if (base.failed) {
			/* Being sent again: status says "sending". */
			base.failed = false;
			repl_state_save(path, &base, &ignored);
		}
		if (a->verbose)
			fprintf(stderr,
				"ferry: replicate: %s: point %s (snapshot %" PRIu32
				") was not acknowledged; sending it again\n",
				a->name, res->point, snap.id);
	} else {
		if (a->hook) {
			err = take_hooked(ctx, a, res, &snap, e);
		} else {
			err = new_point_id(res->point, sizeof(res->point), e);
			if (err)
				goto out;
			snprintf(tag, sizeof(tag), "%s=%s", FERRY_POINT_TAG,
				 res->point);
			err = rk_snapshot(k, a->name, tags, 1, NULL, &snap, e);
		}
		if (err)
			goto out;
		/* Recorded before a byte leaves: a killed run resumes it. */
		snprintf(base.inflight_point, sizeof(base.inflight_point), "%s",
			 res->point);
		base.inflight_snap_id = snap.id;
		base.failed = false;
		point_sync(ctx, k, a->name); /* the catalog knows the point */
		err = repl_state_save(path, &base, e);
		if (err) {
			rk_delete(k, a->name, snap.id, &ignored);
			goto out;
		}
	}
	snapped = true;
	res->source_snap_id = snap.id;
	snap_device_path(&snap, dev, sizeof(dev));
	if (!dev[0]) {
		err = ferr_set(e, -EPROTO, "snapshot %" PRIu32 " has no device",
			       snap.id);
		goto out;
	}
	err = plan(k, a, &base, have_base, &v, &snap, &m, &res->full, &res->why,
		   e);
	if (err)
		goto out;
	res->bytes_changed = m.bytes;
	b = calloc(1, sizeof(*b));
	if (!b) {
		err = ferr_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	b->volume_size = v.size;
	b->chunk_size = v.chunk_size;
	b->block_size = 4096;
	memcpy(b->cbt_uuid, v.cbt_uuid, 16);
	b->cbt_gen = v.cbt_gen;
	b->mode = res->full ? WIRE_MODE_FULL : WIRE_MODE_INCREMENTAL;
	b->source_snap_id = snap.id;
	if (!res->full)
		snprintf(b->base_point, sizeof(b->base_point), "%s",
			 base.point);
	snprintf(b->target_point, sizeof(b->target_point), "%s", res->point);
	err = stream_tags(&snap, b, e);
	if (err)
		goto out;
	if (res->full && a->verbose)
		fprintf(stderr,
			"ferry: replicate: %s: mode full, %" PRIu64
			" bytes to send\n",
			a->name, m.bytes);
	for (tries = 0;; tries++) {
		err = send_once(a, b, dev, m.x, m.n, deadline, res, e);
		if (!err || !retryable(err) || mono_ms() + RETRY_MS >= deadline)
			break;
		if (a->verbose)
			fprintf(stderr, "ferry: %s; retrying\n", e->msg);
		usleep(RETRY_MS * 1000);
	}
	if (err)
		goto out;
	/* Acknowledged: the snapshot's epoch is the base of the next delta. */
	memset(&nb, 0, sizeof(nb));
	nb.epoch = snap.epoch;
	memcpy(nb.cbt_uuid, v.cbt_uuid, 16);
	nb.cbt_gen = v.cbt_gen;
	snprintf(nb.point, sizeof(nb.point), "%s", res->point);
	nb.source_snap_id = snap.id;
	nb.replica_snap_id = res->replica_snap_id;
	snprintf(nb.peer, sizeof(nb.peer), "%s", a->to);
	nb.created = snap.created_ns / 1000000000ULL;
	nb.acked_at = (uint64_t)time(NULL);
	nb.bytes_sent = res->bytes_sent;
	err = repl_state_save(path, &nb, e);
	if (err)
		goto out;
	for (tries = 0; !a->keep_snapshot && tries < 50; tries++) {
		err = rk_delete(k, a->name, snap.id, e);
		if (err != -EBUSY)
			break;
		usleep(100000);
	}
	snapped = false;
	point_sync(ctx, k, a->name); /* the point stays listed, deleted */
	res->seconds = (double)(mono_ms() - start) / 1000.0;
out:
	if (err && snapped) {
		/* Kept for the next run; the base file says it failed. */
		base.failed = true;
		repl_state_save(path, &base, &ignored);
	}
	kapi_close(k);
	changed_free(&m);
	free(b);
	return err;
}

/* --tags-only: one session that only exchanges tags. */
static int tags_round(const struct replicate_args *a, struct point_result *res,
		      struct ferr *e)
{
	long long deadline = mono_ms() + a->timeout_ms;
	struct conn c;
	int err;

	memset(res, 0, sizeof(*res));
	for (;;) {
		err = conn_connect(&c, a->to, e);
		if (!err) {
			res->connections++;
			c.deadline_ms = deadline;
			err = conn_hello(&c, WIRE_FEATURES & ~WIRE_FEAT_ZSTD,
					 e);
			if (!err && !(c.features & WIRE_FEAT_TAGS))
				err = ferr_set(e, -EPROTONOSUPPORT,
					       "%s does not take tag updates",
					       a->to);
			if (!err)
				err = repl_tags_send(a->ctx, a->name, &c,
						     &res->tags, e);
			if (err && err != -EREMOTEIO && err != -ETIMEDOUT)
				err = conn_peer_error(&c, err, e);
			conn_close(&c);
		}
		if (!err || !retryable(err) || mono_ms() + RETRY_MS >= deadline)
			break;
		if (a->verbose)
			fprintf(stderr, "ferry: %s; retrying\n", e->msg);
		usleep(RETRY_MS * 1000);
	}
	return err;
}

static int print_tags(const struct ferry_ctx *ctx,
		      const struct replicate_args *a,
		      const struct point_result *r)
{
	struct json_object *o;

	if (ctx->json) {
		o = json_object_new_object();
		if (!o)
			return -ENOMEM;
		json_object_object_add(o, "tags_sent",
				       json_object_new_int((int)r->tags.sent));
		json_object_object_add(
			o, "tags_unknown",
			json_object_new_int((int)r->tags.unknown));
		json_object_object_add(
			o, "tags_reported",
			json_object_new_int((int)r->tags.reported));
		json_object_object_add(
			o, "queued_tag_updates",
			json_object_new_int64((int64_t)r->tags.queued));
		json_object_object_add(o, "to", json_object_new_string(a->to));
		return json_print(stdout, o);
	}
	printf("%s tags: %u updates sent, %u for unknown points, %u reported back, %zu queued, at %s\n",
	       a->name, r->tags.sent, r->tags.unknown, r->tags.reported,
	       r->tags.queued, a->to);
	return fflush(stdout) ? -EIO : 0;
}

/* Bytes of data per byte on the wire; 1 when nothing was sent. */
static double ratio(uint64_t data, uint64_t wire)
{
	return wire ? (double)data / (double)wire : 1.0;
}

static int print_result(const struct ferry_ctx *ctx,
			const struct replicate_args *a,
			const struct point_result *r)
{
	struct json_object *o;

	if (ctx->json) {
		o = json_object_new_object();
		if (!o)
			return -ENOMEM;
		json_object_object_add(o, "point",
				       json_object_new_string(r->point));
		json_object_object_add(
			o, "source_snap_id",
			json_object_new_int64(r->source_snap_id));
		json_object_object_add(
			o, "replica_snap_id",
			json_object_new_int64(r->replica_snap_id));
		json_object_object_add(
			o, "mode",
			json_object_new_string(r->full ? "full" :
							 "incremental"));
		if (r->why)
			json_object_object_add(o, "full_reason",
					       json_object_new_string(r->why));
		json_object_object_add(
			o, "bytes_sent",
			json_object_new_int64((int64_t)r->bytes_sent));
		json_object_object_add(
			o, "bytes_changed",
			json_object_new_int64((int64_t)r->bytes_changed));
		json_object_object_add(
			o, "bytes_data",
			json_object_new_int64((int64_t)r->data_bytes));
		json_object_object_add(
			o, "bytes_data_wire",
			json_object_new_int64((int64_t)r->data_wire_bytes));
		json_object_object_add(o, "compress",
				       json_object_new_string(r->compress));
		json_object_object_add(
			o, "compression_ratio",
			json_object_new_double(
				ratio(r->data_bytes, r->data_wire_bytes)));
		json_object_object_add(
			o, "zstd_frames",
			json_object_new_int64((int64_t)r->zstd_frames));
		json_object_object_add(o, "seconds",
				       json_object_new_double(r->seconds));
		json_object_object_add(o, "to", json_object_new_string(a->to));
		json_object_object_add(
			o, "resumed_from",
			json_object_new_int64((int64_t)r->resumed_from));
		json_object_object_add(
			o, "resumed_point",
			json_object_new_boolean(r->resumed_point));
		json_object_object_add(
			o, "connections",
			json_object_new_int((int32_t)r->connections));
		json_object_object_add(o, "tags_sent",
				       json_object_new_int((int)r->tags.sent));
		json_object_object_add(
			o, "tags_reported",
			json_object_new_int((int)r->tags.reported));
		json_object_object_add(
			o, "queued_tag_updates",
			json_object_new_int64((int64_t)r->tags.queued));
		return json_print(stdout, o);
	}
	printf("%s point %s mode %s%s%s%s sent %" PRIu64
	       " bytes (changed %" PRIu64
	       ") in %.1f s, replica snapshot %" PRIu32 " at %s\n",
	       a->name, r->point, r->full ? "full" : "incremental",
	       r->why ? " (" : "", r->why ? r->why : "", r->why ? ")" : "",
	       r->bytes_sent, r->bytes_changed, r->seconds, r->replica_snap_id,
	       a->to);
	if (r->resumed_from)
		printf("%s point %s resumed at offset %" PRIu64 "\n", a->name,
		       r->point, r->resumed_from);
	if (strcmp(r->compress, "off"))
		printf("%s point %s compression %s: %" PRIu64
		       " bytes of data as %" PRIu64 " on the wire (%.2fx)\n",
		       a->name, r->point, r->compress, r->data_bytes,
		       r->data_wire_bytes,
		       ratio(r->data_bytes, r->data_wire_bytes));
	return fflush(stdout) ? -EIO : 0;
}

int cmd_replicate(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct replicate_args a;
	struct point_result r;
	struct ferr e = { { 0 } };
	int err;

	err = replicate_parse(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, replicate_usage);
	if (!a.progress && isatty(2))
		a.progress = true;
	if (ctx_prepare(ctx, true, &e))
		return cmd_fail(ctx, &e);
	a.ctx = ctx;
	for (;;) {
		e.msg[0] = '\0';
		if (a.tags_only) {
			err = tags_round(&a, &r, &e);
			if (!err)
				err = print_tags(ctx, &a, &r);
		} else {
			err = replicate_point(ctx, &a, &r, &e);
			if (!err)
				err = print_result(ctx, &a, &r);
		}
		if (a.once)
			return err ? cmd_fail(ctx, &e) : EXIT_OK;
		if (err)
			cmd_fail(ctx, &e);
		usleep((useconds_t)a.every_ms * 1000);
	}
}
