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
 *
 * The daemon's rounds (a->backlog) differ: every round takes a point,
 * the points not acknowledged yet queue (backlog.h), the newest is sent
 * from the base and the older ones are merged into it once it is
 * acknowledged; one connection per round (the next round is the retry);
 * the pair state file says what the round is doing (pair_state.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
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
#include "pair_state.h"
#include "repl_kapi.h"
#include "point.h"
#include "repl_state.h"
#include "repl_tags.h"
#include "resume.h"
#include "snap.h"
#include "xfer.h"

#define RETRY_MS 1000
#define NODE_TIMEOUT_MS 5000
#define DELETE_TRIES 50

/* The daemon's round as ferry status shows it (pair-NAME.state). */
struct round_watch {
	bool on;
	char path[4096];
	struct pair_state ps;
};

static struct round_watch watch;

static void watch_save(void)
{
	struct ferr ignored;

	if (!watch.on)
		return;
	watch.ps.updated = (uint64_t)time(NULL);
	pair_state_save(watch.path, &watch.ps, &ignored);
}

static void watch_phase(enum pair_phase phase)
{
	watch.ps.phase = phase;
	watch_save();
}

/* From the data path, at most once a second. */
static void watch_progress(void *arg, uint64_t done, uint64_t total,
			   double seconds)
{
	(void)arg;
	watch.ps.bytes_sent = done;
	watch.ps.bytes_total = total;
	watch.ps.rate = seconds > 0 ? (uint64_t)((double)done / seconds) : 0;
	watch_save();
}

static void watch_init(const struct replicate_args *a, const char *point,
		       uint64_t total)
{
	struct pair_state *ps = &watch.ps;

	watch.on = !pair_state_path(a->ctx->state_dir, a->name, watch.path,
				    sizeof(watch.path));
	memset(ps, 0, sizeof(*ps));
	snprintf(ps->to, sizeof(ps->to), "%s", a->to);
	snprintf(ps->point, sizeof(ps->point), "%s", point);
	ps->bytes_total = total;
	ps->started = (uint64_t)time(NULL);
}

/* The round's data is about to leave. */
static void watch_start(const struct replicate_args *a, const char *point,
			uint64_t total)
{
	watch_init(a, point, total);
	watch_phase(PAIR_SENDING);
}

/* The round is over: idle, link-down or failed (with why). */
static void watch_end(const struct replicate_args *a,
		      const struct replicate_result *res, int err,
		      const struct ferr *e)
{
	struct pair_state *ps = &watch.ps;

	if (!watch.on) {
		/* Failed before any data: the file says so all the same. */
		watch_init(a, res->point, 0);
	}
	if (!err) {
		ps->bytes_sent = res->bytes_sent;
		ps->error[0] = '\0';
	} else {
		/* Cut to fit: the full message is in the daemon's log. */
		size_t n = strnlen(e->msg, sizeof(ps->error) - 1);

		memcpy(ps->error, e->msg, n);
		ps->error[n] = '\0';
	}
	watch_phase(!err	   ? PAIR_IDLE :
		    res->link_down ? PAIR_LINK_DOWN :
				     PAIR_FAILED);
	watch.on = false;
}

static void notef(const struct replicate_args *a, const char *event,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* One action of a round: to the daemon's log, or stderr with --verbose. */
static void notef(const struct replicate_args *a, const char *event,
		  const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (a->note)
		a->note(a->note_arg, a->name, event, msg);
	else if (a->verbose)
		fprintf(stderr, "ferry: replicate: %s: %s\n", a->name, msg);
}

/* Deletes a primary snapshot, waiting out a short -EBUSY; gone is done. */
static int delete_snapshot(struct kapi *k, const char *name, uint32_t id,
			   struct ferr *e)
{
	int err = 0, tries;

	for (tries = 0; tries < DELETE_TRIES; tries++) {
		err = rk_delete(k, name, id, e);
		if (err != -EBUSY)
			break;
		usleep(100000);
	}
	return err == -ENOENT ? 0 : err;
}

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
			   struct replicate_result *res)
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
		     long long deadline, struct replicate_result *res,
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
	watch.ps.bytes_sent = st.total;
	watch.ps.bytes_total = st.total;
	watch_phase(PAIR_WAITING_ARRIVAL);
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
 * --hook or --session: the new point taken as ferry snapshot takes it
 * (point_take: hooks, quiesce session, label, catalog, ferry.point); its
 * snapshot in @snap.
 */
static int take_hooked(struct ferry_ctx *ctx, const struct replicate_args *a,
		       struct replicate_result *res,
		       struct ferry_snap_info *snap, struct ferr *e)
{
	struct snapshot_args sa;
	struct snap_list list = { 0 };
	const char *p;
	char dev[64];
	int err, interrupted;

	memset(&sa, 0, sizeof(sa));
	sa.names[0] = (char *)a->name;
	sa.nnames = 1;
	sa.hook = a->hook;
	sa.hook_shell = a->hook_shell;
	sa.hook_timeout_ms = a->hook_timeout_ms;
	sa.accept_lower = a->accept_lower;
	sa.session = a->session;
	sa.session_timeout_ms = a->session_timeout_ms;
	sa.session_timeout_given = a->session != NULL;
	err = point_take(ctx, &sa, &list, e);
	/* Interrupted once the point exists: it is returned with -EINTR. */
	if (err && (err != -EINTR || list.n != 1)) {
		snap_list_free(&list);
		return err;
	}
	interrupted = err;
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
	if (interrupted)
		return interrupted;
	snap_device_path(snap, dev, sizeof(dev));
	return dev[0] ? wait_for_block_node(dev, NODE_TIMEOUT_MS, e) : 0;
}

/* A new point of the volume (with the hook or session when there is one). */
static int take_point(struct ferry_ctx *ctx, struct kapi *k,
		      const struct replicate_args *a,
		      struct replicate_result *res,
		      struct ferry_snap_info *snap, struct ferr *e)
{
	char tag[128];
	char *tags[1] = { tag };
	int err;

	if (a->hook || a->session)
		return take_hooked(ctx, a, res, snap, e);
	err = new_point_id(res->point, sizeof(res->point), e);
	if (err)
		return err;
	snprintf(tag, sizeof(tag), "%s=%s", FERRY_POINT_TAG, res->point);
	return rk_snapshot(k, a->name, tags, 1, NULL, snap, e);
}

/* Forgets the queued points whose snapshot is gone (deleted, pruned). */
static void backlog_check(struct kapi *k, const struct replicate_args *a,
			  struct backlog *bl)
{
	struct ferry_snap_info s;
	struct ferr why;
	const char *p;
	size_t i = 0;
	int err;

	while (i < bl->n) {
		const struct backlog_point *q = &bl->q[i];

		why.msg[0] = '\0';
		err = rk_get_snapshot(k, a->name, q->snap_id, &s, &why);
		p = err ? NULL : snap_tag(&s, FERRY_POINT_TAG);
		if ((err && err != -ENOENT) || (p && !strcmp(p, q->point) &&
						s.state == FERRY_STATE_LIVE)) {
			i++;
			continue;
		}
		if (p && !strcmp(p, q->point)) {
			/* Invalidated (CoW store full): its data is gone. */
			delete_snapshot(k, a->name, q->snap_id, &why);
			notef(a, "lost",
			      "queued point %s: snapshot %" PRIu32
			      " was invalidated, deleted, no longer queued",
			      q->point, q->snap_id);
		} else {
			notef(a, "lost",
			      "queued point %s: snapshot %" PRIu32
			      " is gone, no longer queued",
			      q->point, q->snap_id);
		}
		backlog_remove(bl, i);
	}
}

static unsigned int cow_percent(struct kapi *k, const char *name)
{
	struct ferry_volume v;
	struct ferr ignored;

	if (rk_get_volume(k, name, &v, &ignored) || !v.cow_total)
		return 0;
	return (unsigned int)(v.cow_used * 100 / v.cow_total);
}

/* The queue's bound: drops the oldest points while it is exceeded. */
static void backlog_bound(struct kapi *k, const struct replicate_args *a,
			  const char *base_point, struct backlog *bl)
{
	struct backlog_point q;
	enum backlog_why why;
	unsigned int pct;
	struct ferr e;
	size_t i;

	for (;;) {
		pct = cow_percent(k, a->name);
		why = backlog_next_drop(bl, base_point, &a->limits, pct, &i);
		if (why == BACKLOG_KEEP)
			return;
		q = bl->q[i];
		if (delete_snapshot(k, a->name, q.snap_id, &e)) {
			notef(a, "drop-failed",
			      "queued point %s: delete snapshot %" PRIu32
			      ": %s",
			      q.point, q.snap_id, e.msg);
			return;
		}
		backlog_remove(bl, i);
		bl->dropped++;
		snprintf(bl->last_action, sizeof(bl->last_action),
			 "dropped %s (%s)", q.point, backlog_why_name(why));
		notef(a, "dropped",
		      "queued point %s (snapshot %" PRIu32
		      ") dropped, %s: %zu queued (max %u), CoW store %u%% used (max %u%%)",
		      q.point, q.snap_id, backlog_why_name(why), bl->n,
		      a->limits.max_queued, pct, a->limits.max_cow_percent);
	}
}

/*
 * The daemon's point of the round: the queue checked, a new point taken
 * and queued (unless a first full copy is still under way: that one is
 * resumed rather than replaced), the bound applied, and the newest
 * queued point in @snap and res->point, recorded in flight in @base.
 */
static int backlog_choose(struct ferry_ctx *ctx, struct kapi *k,
			  const struct replicate_args *a,
			  struct repl_state *base, bool have_base,
			  struct backlog *bl, struct replicate_result *res,
			  struct ferry_snap_info *snap, struct ferr *e)
{
	const struct backlog_point *t;
	struct backlog_point p;
	struct ferr why = { { 0 } };
	uint64_t dropped;
	char dev[64];
	int err = 0;

	backlog_check(k, a, bl);
	if (!bl->n && base->inflight_point[0] &&
	    inflight_snapshot(k, a, base, snap)) {
		/* In flight from ferry replicate: the oldest queued point. */
		memset(&p, 0, sizeof(p));
		snprintf(p.point, sizeof(p.point), "%s", base->inflight_point);
		p.snap_id = snap->id;
		p.created = snap->created_ns / 1000000000ULL;
		backlog_push(bl, &p);
	}
	if (have_base || !bl->n) {
		memset(snap, 0, sizeof(*snap));
		err = take_point(ctx, k, a, res, snap, &why);
		/* A point taken, then a SIGTERM: queued, and the round ends. */
		if (!err || (err == -EINTR && snap->id)) {
			memset(&p, 0, sizeof(p));
			snprintf(p.point, sizeof(p.point), "%s", res->point);
			p.snap_id = snap->id;
			p.created = snap->created_ns / 1000000000ULL;
			if (backlog_push(bl, &p)) {
				err = ferr_set(&why, -ENOSPC,
					       "the backlog is full");
				rk_delete(k, a->name, snap->id, e);
			} else {
				notef(a, "point",
				      "point %s taken: snapshot %" PRIu32,
				      res->point, snap->id);
			}
		}
		point_sync(ctx, k, a->name); /* the catalog knows the point */
		if (err == -EINTR || (err && !bl->n)) {
			*e = why;
			return err;
		}
		if (err)
			notef(a, "point-failed",
			      "no new point (%s); sending the newest queued",
			      why.msg);
	}
	dropped = bl->dropped;
	backlog_bound(k, a, base->point, bl);
	if (bl->dropped != dropped)
		point_sync(ctx, k, a->name); /* dropped points: deleted */
	t = backlog_target(bl);
	res->resumed_point = err || strcmp(t->point, res->point);
	snprintf(res->point, sizeof(res->point), "%s", t->point);
	err = rk_get_snapshot(k, a->name, t->snap_id, snap, e);
	if (err)
		return err;
	snprintf(base->inflight_point, sizeof(base->inflight_point), "%s",
		 t->point);
	base->inflight_snap_id = t->snap_id;
	base->failed = false;
	snap_device_path(snap, dev, sizeof(dev));
	return dev[0] ? wait_for_block_node(dev, NODE_TIMEOUT_MS, e) : 0;
}

/*
 * The newest queued point was acknowledged: every other queued point is
 * merged into it (deleted). One that cannot be deleted stays queued and
 * is merged by the next acknowledgement.
 */
static void backlog_merge(struct kapi *k, const struct replicate_args *a,
			  struct backlog *bl, const char *acked)
{
	struct backlog_point q;
	unsigned int merged = 0;
	struct ferr e;
	size_t i = 0;

	while (i < bl->n) {
		q = bl->q[i];
		if (!strcmp(q.point, acked)) {
			backlog_remove(bl, i);
			continue;
		}
		if (delete_snapshot(k, a->name, q.snap_id, &e)) {
			notef(a, "merge-failed",
			      "queued point %s: delete snapshot %" PRIu32
			      ": %s",
			      q.point, q.snap_id, e.msg);
			i++;
			continue;
		}
		backlog_remove(bl, i);
		bl->merged++;
		merged++;
		notef(a, "merged",
		      "queued point %s (snapshot %" PRIu32 ") merged into %s",
		      q.point, q.snap_id, acked);
	}
	if (merged)
		snprintf(bl->last_action, sizeof(bl->last_action),
			 "merged %u into %s", merged, acked);
}

static int replicate_point(struct ferry_ctx *ctx,
			   const struct replicate_args *a,
			   struct replicate_result *res, struct ferr *e)
{
	struct repl_state base, nb;
	struct ferry_volume v;
	struct ferry_snap_info snap;
	struct changed_map m = { 0 };
	struct wire_begin *b = NULL;
	struct backlog bl = { 0 };
	char path[4096], qpath[4096], dev[64];
	long long start = mono_ms(), deadline = start + a->timeout_ms;
	bool have_base, snapped = false;
	struct kapi *k;
	struct ferr ignored, prev = { "" }, last;
	int err, tries;

	memset(res, 0, sizeof(*res));
	res->compress = "off";
	watch.on = false;
	if (repl_base_path(ctx->state_dir, a->name, path, sizeof(path)) ||
	    backlog_path(ctx->state_dir, a->name, qpath, sizeof(qpath)))
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
	if (a->backlog) {
		err = backlog_load(qpath, &bl, e);
		if (err)
			goto out;
		err = backlog_choose(ctx, k, a, &base, have_base, &bl, res,
				     &snap, e);
		/* Saved even after a failure: the queue holds new points. */
		if (backlog_save(qpath, &bl, &ignored) && !err)
			err = ferr_set(e, -EIO, "%s", ignored.msg);
		if (!err)
			err = repl_state_save(path, &base, e);
		res->queued = bl.n;
		if (err)
			goto out;
	} else if (inflight_snapshot(k, a, &base, &snap)) {
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
		err = take_point(ctx, k, a, res, &snap, e);
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
	if (a->backlog) {
		watch_start(a, res->point, m.bytes);
		progress_observe(watch_progress, NULL);
	}
	for (tries = 0;; tries++) {
		err = send_once(a, b, dev, m.x, m.n, deadline, res, e);
		/* The daemon's next round is its retry. */
		if (!err || !retryable(err) || a->backlog ||
		    mono_ms() + RETRY_MS >= deadline)
			break;
		if (a->verbose)
			fprintf(stderr, "ferry: %s; retrying\n", e->msg);
		snprintf(prev.msg, sizeof(prev.msg), "%s", e->msg);
		usleep(RETRY_MS * 1000);
	}
	/* A deadline alone does not say why the tries before it failed. */
	if (err == -ETIMEDOUT && tries) {
		snprintf(last.msg, sizeof(last.msg), "%s", e->msg);
		ferr_set(e, err, "%s (the try before: %s)", last.msg, prev.msg);
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
	if (a->backlog) {
		backlog_merge(k, a, &bl, res->point);
		res->queued = bl.n;
		if (backlog_save(qpath, &bl, &ignored))
			notef(a, "queue", "%s", ignored.msg);
	}
	point_sync(ctx, k, a->name); /* the point stays listed, deleted */
	res->seconds = (double)(mono_ms() - start) / 1000.0;
out:
	if (err && snapped) {
		/* Kept for the next run; the base file says it failed. */
		base.failed = true;
		repl_state_save(path, &base, &ignored);
	}
	if (a->backlog) {
		progress_observe(NULL, NULL);
		res->link_down = err && (retryable(err) || err == -ETIMEDOUT);
		watch_end(a, res, err, e);
	}
	kapi_close(k);
	changed_free(&m);
	free(b);
	return err;
}

int replicate_round(struct ferry_ctx *ctx, const struct replicate_args *a,
		    struct replicate_result *res, struct ferr *e)
{
	return replicate_point(ctx, a, res, e);
}

/* --tags-only: one session that only exchanges tags. */
static int tags_round(const struct replicate_args *a,
		      struct replicate_result *res, struct ferr *e)
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
		      const struct replicate_result *r)
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
			const struct replicate_result *r)
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
	struct replicate_result r;
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
