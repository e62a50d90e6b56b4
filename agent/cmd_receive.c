// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: receive: the second site of replication.
 *
 * Per connection: HELLO, STREAM_BEGIN (checked against the replica and
 * its last point), the frames written with O_DIRECT, fdatasync, ARRIVED,
 * a snapshot of the replica with the point's tags, the state file, ACK.
 * A stream that fails is answered with an ERROR frame; the listener goes
 * on serving (unless --once).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cmd_common.h"
#include "cmd_drill.h"
#include "cmd_repl.h"
#include "conn.h"
#include "json_out.h"
#include "kapi.h"
#include "repl_kapi.h"
#include "repl_state.h"
#include "repl_tags.h"
#include "resume.h"
#include "snap.h"
#include "xfer.h"

struct recv_result {
	struct wire_begin b;
	uint32_t snap_id;
	char device[64];
	struct xfer_stats st;
	uint64_t resumed_from; /* offset the stream went on from */
	bool again; /* the point had arrived already: its ack was lost */
	bool tags_only; /* a session without a stream */
	struct tags_result tags;
	double seconds;
};

struct ckpt {
	const char *path;
	struct resume_state rs;
};

static int save_checkpoint(void *arg, uint64_t offset, struct ferr *e)
{
	struct ckpt *k = arg;

	k->rs.offset = offset;
	return resume_save(k->path, &k->rs, e);
}

/*
 * The offset this stream goes on from: the resume file's, when it names
 * the same stream; otherwise the file is replaced by this stream at 0
 * before anything of it is written.
 */
static int resume_offset(const char *path, const struct wire_begin *b,
			 struct resume_state *cur, struct ferr *e)
{
	struct resume_state old;
	struct ferr why = { { 0 } };
	int err;

	resume_from_begin(b, cur);
	err = resume_load(path, &old, &why);
	if (!err && resume_same(&old, cur) && old.offset <= b->volume_size) {
		cur->offset = old.offset;
		return 0;
	}
	if (err && err != -ENOENT)
		ferry_warn("receive", "%s; starting the stream over", why.msg);
	return resume_save(path, cur, e);
}

/* Is STREAM_BEGIN acceptable for this replica? */
static int check_begin(const struct receive_args *a, const struct wire_begin *b,
		       const struct ferry_volume *v, const char *state_path,
		       struct ferr *e)
{
	struct repl_state s;
	int err;

	if (b->volume_size > v->size)
		return ferr_set(e, -ENOSPC,
				"replica %s has %" PRIu64
				" bytes, the source volume %" PRIu64,
				a->name, v->size, b->volume_size);
	if (b->mode == WIRE_MODE_FULL)
		return 0;
	err = repl_state_load(state_path, &s, e);
	if (err == -ENOENT)
		return ferr_set(
			e, -ESTALE,
			"replica %s has no point yet; incremental stream based on %s needs a full resync",
			a->name, b->base_point);
	if (err)
		return err;
	if (strcmp(s.point, b->base_point))
		return ferr_set(
			e, -ESTALE,
			"replica %s is at point %s, the stream is based on %s; a full resync is needed",
			a->name, s.point, b->base_point);
	return 0;
}

static unsigned int logical_block_size(int fd)
{
	int lbs = 0;

	if (ioctl(fd, BLKSSZGET, &lbs) || lbs <= 0)
		return WIRE_ALIGN;
	return (unsigned int)lbs;
}

/*
 * The tags of the replica's snapshot: the stream's, with ferry.point,
 * without ferry.label, whose value (if valid) goes in *@label.
 */
static size_t replica_tags(const struct wire_begin *b, char **tags,
			   char *point_tag, size_t len, const char **label)
{
	const size_t lk = strlen(FERRY_LABEL_TAG) + 1;
	struct ferr why;
	size_t i, n = 0;
	bool has_point = false;

	*label = NULL;
	for (i = 0; i < b->ntags; i++) {
		if (!strncmp(b->tags[i], FERRY_POINT_TAG "=",
			     strlen(FERRY_POINT_TAG) + 1)) {
			has_point = true;
			snprintf(point_tag, len, "%s=%s", FERRY_POINT_TAG,
				 b->target_point);
			tags[n++] = point_tag;
			continue;
		}
		if (!strncmp(b->tags[i], FERRY_LABEL_TAG "=", lk)) {
			/* Invalid: no label, the kernel decides. */
			if (!check_label(b->tags[i] + lk, &why))
				*label = b->tags[i] + lk;
			continue;
		}
		tags[n++] = (char *)b->tags[i];
	}
	if (!has_point && n < FERRY_TAGS_MAX) {
		snprintf(point_tag, len, "%s=%s", FERRY_POINT_TAG,
			 b->target_point);
		tags[n++] = point_tag;
	}
	return n;
}

static int serve_stream(const struct ferry_ctx *ctx,
			const struct receive_args *a, struct conn *c,
			struct recv_result *r, struct ferr *e)
{
	static uint8_t buf[WIRE_BEGIN_MAX + WIRE_TAGS_MAX];
	struct xfer_opts o = { .verbose = a->verbose,
			       .idle_ms = a->timeout_ms };
	char path[4096], rpath[4096], dev[64], point_tag[128];
	struct ckpt ck = { .path = rpath };
	char *tags[FERRY_TAGS_MAX];
	struct ferry_snap_info snap;
	struct ferry_volume v;
	struct repl_state s;
	struct wire_hdr h;
	struct kapi *k = NULL;
	const char *label;
	long long start = mono_ms();
	size_t ntags;
	int fd = -1, err;

	if (recv_state_path(ctx->state_dir, a->name, path, sizeof(path)) ||
	    recv_resume_path(ctx->state_dir, a->name, rpath, sizeof(rpath)))
		return ferr_set(e, -ENAMETOOLONG, "state path too long");
	c->deadline_ms = mono_ms() + a->timeout_ms;
	err = conn_hello(c,
			 a->no_compress ? WIRE_FEATURES & ~WIRE_FEAT_ZSTD :
					  WIRE_FEATURES,
			 e);
	if (err)
		return err;
	err = conn_recv(c, &h, buf, sizeof(buf), e);
	if (!err && (c->features & WIRE_FEAT_TAGS) &&
	    (h.type == WIRE_TAG || h.type == WIRE_TAGS_DONE)) {
		r->tags_only = true;
		err = repl_tags_serve(ctx, a->name, c, &h, buf, &r->tags, e);
		if (err && err != -EREMOTEIO)
			conn_send_error(c, e->msg);
		return err;
	}
	if (!err && h.type != WIRE_STREAM_BEGIN)
		err = ferr_set(e, -EPROTO, "expected STREAM_BEGIN, got %s",
			       wire_type_name(h.type));
	if (!err)
		err = wire_begin_decode(buf, h.payload_len, &r->b, e);
	if (!err)
		err = kapi_open(&k, e);
	if (!err)
		err = rk_get_volume(k, a->name, &v, e);
	if (!err && (c->features & WIRE_FEAT_RESUME) &&
	    !repl_state_load(path, &s, e) &&
	    !strcmp(s.point, r->b.target_point) &&
	    !rk_get_snapshot(k, a->name, s.replica_snap_id, &snap, e)) {
		/* Arrived and snapshotted already; the sender missed the ACK. */
		r->again = true;
		ck.rs.offset = r->b.volume_size;
	} else if (!err) {
		err = check_begin(a, &r->b, &v, path, e);
		if (!err)
			err = resume_offset(rpath, &r->b, &ck.rs, e);
	}
	if (err)
		goto refuse;
	c->lim.volume_size = r->b.volume_size;
	if (c->features & WIRE_FEAT_RESUME) {
		err = conn_send(c, WIRE_RESUME, ck.rs.offset, 0, NULL, 0, e);
		if (err)
			goto out;
		r->resumed_from = ck.rs.offset;
		o.start = ck.rs.offset;
		if (!r->again) {
			o.checkpoint = save_checkpoint;
			o.arg = &ck;
		}
		if (a->verbose && ck.rs.offset)
			fprintf(stderr,
				"ferry: point %s resumes at offset %" PRIu64
				"\n",
				r->b.target_point, ck.rs.offset);
	}
	volume_device_path(&v, dev, sizeof(dev));
	fd = open(dev, O_RDWR | O_DIRECT | O_EXCL | O_CLOEXEC);
	if (fd < 0) {
		err = ferr_set(e, -errno, "%s: %s", dev, strerror(errno));
		goto refuse;
	}
	/* Within the stream, --timeout is the longest wait for a frame. */
	err = xfer_recv(c, fd, logical_block_size(fd), &o, &r->st, e);
	if (close(fd) && !err)
		err = ferr_set(e, -errno, "%s: %s", dev, strerror(errno));
	fd = -1;
	if (err)
		goto refuse;
	c->deadline_ms = mono_ms() + a->timeout_ms;
	err = conn_send(c, WIRE_ARRIVED, r->st.data_bytes + r->st.zero_bytes,
			r->st.frames, NULL, 0, e);
	if (err)
		goto out;
	if (a->verbose)
		fprintf(stderr, "ferry: point %s arrived in %s\n",
			r->b.target_point, a->name);
	if (r->again)
		goto ack;
	ntags = replica_tags(&r->b, tags, point_tag, sizeof(point_tag), &label);
	err = rk_snapshot(k, a->name, tags, ntags, label, &snap, e);
	if (err)
		goto refuse;
	r->snap_id = snap.id;
	snap_device_path(&snap, r->device, sizeof(r->device));
	memset(&s, 0, sizeof(s));
	s.epoch = snap.epoch;
	memcpy(s.cbt_uuid, r->b.cbt_uuid, 16);
	s.cbt_gen = r->b.cbt_gen;
	snprintf(s.point, sizeof(s.point), "%s", r->b.target_point);
	s.source_snap_id = r->b.source_snap_id;
	s.replica_snap_id = snap.id;
	snprintf(s.peer, sizeof(s.peer), "%s", c->peer);
	err = repl_state_save(path, &s, e);
	if (!err)
		err = resume_clear(rpath, e);
	if (err)
		goto refuse;
ack:
	r->snap_id = snap.id;
	snap_device_path(&snap, r->device, sizeof(r->device));
	{
		uint8_t p[WIRE_REASON_MAX];
		size_t n = wire_string_encode(r->b.target_point, sizeof(p), p);

		err = conn_send(c, WIRE_ACK, snap.id, 0, p, (uint32_t)n, e);
	}
	/* Tag updates may follow on the same connection. */
	if (!err && (c->features & WIRE_FEAT_TAGS)) {
		struct ferr why = { { 0 } };
		int terr = conn_recv(c, &h, buf, sizeof(buf), &why);

		if (!terr && (h.type == WIRE_TAG || h.type == WIRE_TAGS_DONE))
			terr = repl_tags_serve(ctx, a->name, c, &h, buf,
					       &r->tags, &why);
		else if (!terr)
			terr = ferr_set(&why, -EPROTO,
					"unexpected %s frame after ACK",
					wire_type_name(h.type));
		if (terr && terr != -ECONNRESET)
			ferry_warn("receive", "%s: tags: %s", a->name, why.msg);
	}
	r->seconds = (double)(mono_ms() - start) / 1000.0;
	goto out;
refuse:
	/* A damaged frame was not written: the sender may resume. */
	conn_send_error_arg(c, err == -EBADMSG ? WIRE_ERROR_RETRY : 0, e->msg);
out:
	if (fd >= 0)
		close(fd);
	if (k)
		kapi_close(k);
	return err;
}

static void print_result(const struct ferry_ctx *ctx,
			 const struct receive_args *a, const struct conn *c,
			 const struct recv_result *r)
{
	struct json_object *o;

	if (r->tags_only && ctx->json) {
		o = json_object_new_object();
		if (!o)
			return;
		json_object_object_add(o, "tags_applied",
				       json_object_new_int((int)r->tags.sent));
		json_object_object_add(
			o, "tags_unknown",
			json_object_new_int((int)r->tags.unknown));
		json_object_object_add(
			o, "tags_reported",
			json_object_new_int((int)r->tags.reported));
		json_object_object_add(o, "from",
				       json_object_new_string(c->peer));
		json_print(stdout, o);
		fflush(stdout);
		return;
	}
	if (r->tags_only) {
		printf("%s tags from %s: %u updates applied, %u for unknown points, %u reported back\n",
		       a->name, c->peer, r->tags.sent, r->tags.unknown,
		       r->tags.reported);
		fflush(stdout);
		return;
	}
	if (ctx->json) {
		o = json_object_new_object();
		if (!o)
			return;
		json_object_object_add(
			o, "point", json_object_new_string(r->b.target_point));
		json_object_object_add(o, "replica_snap_id",
				       json_object_new_int64(r->snap_id));
		json_object_object_add(o, "device",
				       json_object_new_string(r->device));
		json_object_object_add(
			o, "mode",
			json_object_new_string(r->b.mode ? "incremental" :
							   "full"));
		json_object_object_add(
			o, "bytes_received",
			json_object_new_int64((int64_t)c->bytes_received));
		json_object_object_add(
			o, "bytes_data",
			json_object_new_int64((int64_t)r->st.data_bytes));
		json_object_object_add(
			o, "bytes_data_wire",
			json_object_new_int64((int64_t)r->st.data_wire_bytes));
		json_object_object_add(
			o, "zstd_frames",
			json_object_new_int64((int64_t)r->st.zstd_frames));
		json_object_object_add(o, "from",
				       json_object_new_string(c->peer));
		json_object_object_add(
			o, "resumed_from",
			json_object_new_int64((int64_t)r->resumed_from));
		json_object_object_add(o, "seconds",
				       json_object_new_double(r->seconds));
		json_print(stdout, o);
	} else {
		printf("%s point %s mode %s received %" PRIu64
		       " bytes from %s, replica snapshot %" PRIu32 " %s",
		       a->name, r->b.target_point,
		       r->b.mode ? "incremental" : "full", c->bytes_received,
		       c->peer, r->snap_id, r->device);
		if (r->resumed_from)
			printf(", resumed at %" PRIu64, r->resumed_from);
		printf("\n");
	}
	fflush(stdout);
}

static int receive_run(const struct ferry_ctx *ctx,
		       const struct receive_args *a, struct ferr *e)
{
	struct recv_result *r;
	struct conn c;
	int lfd, err;

	r = calloc(1, sizeof(*r));
	if (!r)
		return ferr_set(e, -ENOMEM, "out of memory");
	lfd = conn_listen(a->listen, e);
	if (lfd < 0) {
		free(r);
		return lfd;
	}
	if (a->verbose)
		fprintf(stderr, "ferry: receiving into %s on %s\n", a->name,
			a->listen);
	for (;;) {
		e->msg[0] = '\0';
		err = conn_accept(&c, lfd, e);
		if (err)
			break;
		memset(r, 0, sizeof(*r));
		err = serve_stream(ctx, a, &c, r, e);
		if (!err)
			print_result(ctx, a, &c, r);
		conn_close(&c);
		if (a->once)
			break;
		if (err)
			ferry_error(ctx->cmd, "%s", e->msg);
	}
	close(lfd);
	free(r);
	return err;
}

static volatile sig_atomic_t watch_stop;

/* --drill-*: the drill watch on the replica, in a thread. */
static int watch_start(const struct ferry_ctx *ctx,
		       const struct receive_args *a, struct drill_watch *w,
		       struct ferr *e)
{
	memset(w, 0, sizeof(*w));
	w->ctx = ctx;
	w->opts.name = a->name;
	w->opts.key = a->drill_tag;
	w->opts.check = a->drill_check;
	w->opts.timeout_ms = a->drill_timeout_ms;
	w->opts.budget = a->drill_budget;
	w->every_s = a->drill_every_s;
	w->opts.verbose = a->verbose;
	w->stop = &watch_stop;
	watch_stop = 0;
	return drill_watch_start(w, e);
}

/* Waits for a drill in progress to finish and be torn down. */
static void watch_stop_join(const struct ferry_ctx *ctx, struct drill_watch *w)
{
	watch_stop = 1;
	pthread_join(w->thread, NULL);
	if (w->result)
		ferry_warn(ctx->cmd, "the drill watch ended: %s", w->err.msg);
}

int cmd_receive(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct receive_args a;
	struct drill_watch w;
	struct ferr e = { { 0 } };
	int err, lock;

	err = receive_parse(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, receive_usage);
	if (ctx_prepare(ctx, true, &e))
		return cmd_fail(ctx, &e);
	/* failover and failback of the replica refuse while it is held. */
	lock = volume_lock(ctx, a.name, &e);
	if (lock < 0)
		return cmd_fail(ctx, &e);
	if (a.drill && watch_start(ctx, &a, &w, &e)) {
		close(lock);
		return cmd_fail(ctx, &e);
	}
	err = receive_run(ctx, &a, &e);
	if (a.drill)
		watch_stop_join(ctx, &w);
	close(lock);
	if (err)
		return cmd_fail(ctx, &e);
	return EXIT_OK;
}
