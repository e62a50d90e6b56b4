// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: failover, failback and failback-receive.
 *
 * failover (second site): the replica volume takes the content of one of
 * its snapshots: the extents changed on the volume since that snapshot
 * are copied back from the snapshot's device (O_DIRECT), then a snapshot
 * tagged ferry.failover=POINT is taken and the failover recorded.
 *
 * failback (second site) -> failback-receive (first site): the first site
 * reports the last point it had acknowledged (repl-NAME.base) and the
 * extents it wrote after it (its CBT since that epoch: the writes that
 * never reached the second site); the second site adds the extents it
 * changed since its snapshot of that point and sends the union from its
 * volume, each piece with a SHA-256 the receiver checks before an
 * O_DIRECT write. Afterwards the first site's volume equals the second
 * site's. The protocol is a small one of its own (docs/runbook.md).
 *
 * Both ends hold an flock on STATE_DIR/NAME.lock and refuse a volume
 * that is open (mounted, or written by a running `ferry receive`).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "cli.h"
#include "cmd_common.h"
#include "cmd_drill.h"
#include "cmd_snap.h"
#include "commands.h"
#include "conn.h"
#include "drill.h"
#include "drill_catalog.h"
#include "json_out.h"
#include "kapi.h"
#include "repl_kapi.h"
#include "repl_state.h"
#include "snap_kapi.h"
#include "snap_nl.h"

#define FB_PIECE (1024 * 1024)
#define FB_MAGIC 0x46424b31 /* "FBK1" */
#define FB_TIMEOUT_MS (10 * 60 * 1000)
#define FB_EXTENTS_MAX (1u << 24)

enum fb_type {
	FB_HELLO = 1, /* a: volume size, b: 1 for a full copy */
	FB_BASE, /* a: extents that follow (16 bytes each), b: point length */
	FB_EXT, /* a: offset, b: length, sha: of the data that follows */
	FB_END, /* a: extents sent, b: bytes sent */
	FB_OK, /* a: extents written, b: bytes written */
	FB_ERR, /* b: length of the message that follows */
};

struct fb_hdr {
	uint32_t magic;
	uint32_t type;
	uint64_t a;
	uint64_t b;
	uint8_t sha[32];
};

const char failover_usage[] =
	"usage: ferry failover NAME [SNAPID|POINT] [--json]\n"
	"  At the second site: make snapshot SNAPID (default: the newest live\n"
	"  one) the content of volume NAME, take a snapshot tagged\n"
	"  ferry.failover=POINT. Stop `ferry receive` and unmount first.\n";

const char failback_usage[] =
	"usage: ferry failback NAME --to HOST:PORT [--full] [--json]\n"
	"  At the second site: send the first site (ferry failback-receive)\n"
	"  what differs from the last point both hold; --full sends all.\n";

const char failback_receive_usage[] =
	"usage: ferry failback-receive NAME --listen ADDR:PORT [--timeout S]\n"
	"                              [--json]\n"
	"  At the first site: take one failback stream into volume NAME.\n";

enum {
	OPT_TO = 0x600,
	OPT_LISTEN,
	OPT_FULL,
	OPT_TIMEOUT,
};

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The volume, which nobody may have open. */
static int volume_idle(struct kapi *k, const char *name, struct ferry_volume *v,
		       char *dev, size_t len, struct ferr *e)
{
	int err = rk_get_volume(k, name, v, e);

	if (err)
		return err;
	volume_device_path(v, dev, len);
	if (v->open_count)
		return ferr_set(e, -EBUSY,
				"%s: %s is open (mounted, or `ferry receive` "
				"running?): unmount it and stop receive first",
				name, dev);
	return 0;
}

static void *piece_buffer(struct ferr *e)
{
	void *buf = NULL;

	if (posix_memalign(&buf, 4096, FB_PIECE)) {
		ferr_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	return buf;
}

static int pread_all(int fd, void *buf, size_t len, uint64_t off,
		     const char *what, struct ferr *e)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  (off_t)(off + done));

		if (n <= 0)
			return ferr_set(e, n ? -errno : -EIO,
					"reading %s at %" PRIu64 ": %s", what,
					off + done,
					n ? strerror(errno) : "EOF");
		done += (size_t)n;
	}
	return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off,
		      const char *what, struct ferr *e)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(fd, (const char *)buf + done, len - done,
				   (off_t)(off + done));

		if (n <= 0)
			return ferr_set(e, n ? -errno : -EIO,
					"writing %s at %" PRIu64 ": %s", what,
					off + done,
					n ? strerror(errno) : "short write");
		done += (size_t)n;
	}
	return 0;
}

/* Extents written after epoch @since, up to now (CHANGED without UNTIL). */
static int add_changed(struct nl_msg *msg, void *arg, struct ferr *e)
{
	return changed_from_msg(msg, arg, e);
}

static int changed_since(struct kapi *k, const char *name, uint64_t since,
			 struct changed_map *m, struct ferr *e)
{
	struct nl_msg *msg = kapi_msg(k, FERRY_CMD_CHANGED, NLM_F_DUMP);
	int err;

	if (!msg)
		return ferr_set(e, -ENOMEM, "out of memory");
	if (nla_put_string(msg, FERRY_ATTR_NAME, name) < 0 ||
	    nla_put_u64(msg, FERRY_ATTR_SINCE_EPOCH, since) < 0) {
		nlmsg_free(msg);
		return ferr_set(e, -EMSGSIZE, "request too large");
	}
	err = kapi_call(k, msg, add_changed, m, e);
	if (err && !e->msg[0])
		kapi_explain(err, e);
	if (err)
		ferr_set(e, err, "%s: changed blocks: %.400s", name, e->msg);
	return err;
}

/* ---- failover ---- */

static int failover_parse(struct ferry_ctx *ctx, int argc, char **argv,
			  struct snap_ref_args *a, struct ferr *e)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	cli_getopt_reset();
	while ((c = cli_getopt(argc, argv, opts, e)) != -1) {
		if (c < 0)
			return c;
		if (c == OPT_HELP)
			return CLI_HELP;
		cli_common_opt(ctx, c, optarg);
	}
	return name_and_optional_ref(argc, argv, &a->name, &a->id, &a->point,
				     e);
}

struct failover_result {
	struct failover_record rec;
	uint64_t extents;
};

static int failover_run(const struct ferry_ctx *ctx,
			const struct snap_ref_args *a,
			struct failover_result *res, struct ferr *e)
{
	struct snap_list list = { 0 };
	struct changed_map m = { 0 };
	struct ferry_snap_info *after = NULL;
	const struct ferry_snap_info *s;
	struct ferry_volume v;
	struct drill_db *db = NULL;
	struct kapi *k = NULL;
	char dev[64], sdev[64], tag[FERRY_TAG_VALUE_MAX + 32], *tags[1];
	int lock, in = -1, out = -1, idx, err;
	void *buf = NULL;
	size_t i;

	lock = volume_lock(ctx, a->name, e);
	if (lock < 0)
		return lock;
	err = kapi_open(&k, e);
	if (!err)
		err = volume_idle(k, a->name, &v, dev, sizeof(dev), e);
	if (!err)
		err = snap_dump(k, a->name, &list, e);
	if (err)
		goto out;
	idx = drill_pick(&list, a->name, a->id, a->point, e);
	if (idx < 0) {
		err = idx;
		goto out;
	}
	s = &list.s[idx];
	snap_device_path(s, sdev, sizeof(sdev));
	err = changed_since(k, a->name, s->epoch, &m, e);
	if (err)
		goto out;
	buf = piece_buffer(e);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	in = open(sdev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (in < 0) {
		err = ferr_set(e, -errno, "cannot open %s: %s", sdev,
			       strerror(errno));
		goto out;
	}
	/* O_EXCL: fails if anything mounted it meanwhile. */
	out = open(dev, O_WRONLY | O_DIRECT | O_EXCL | O_CLOEXEC);
	if (out < 0) {
		err = ferr_set(e, -errno, "cannot open %s: %s", dev,
			       strerror(errno));
		goto out;
	}
	for (i = 0; i < m.n; i++) {
		uint64_t off = m.x[i].offset, end = off + m.x[i].length;

		if (end > v.size)
			end = v.size;
		while (off < end) {
			size_t len = end - off > FB_PIECE ? FB_PIECE :
							    (size_t)(end - off);

			err = pread_all(in, buf, len, off, sdev, e);
			if (!err)
				err = pwrite_all(out, buf, len, off, dev, e);
			if (err)
				goto out;
			res->rec.bytes += len;
			off += len;
		}
	}
	res->extents = m.n;
	if (fsync(out)) {
		err = ferr_set(e, -errno, "fsync %s: %s", dev, strerror(errno));
		goto out;
	}
	close(out);
	out = -1;
	snap_point(s, res->rec.point, sizeof(res->rec.point));
	snprintf(res->rec.volume, sizeof(res->rec.volume), "%s", a->name);
	snprintf(res->rec.kind, sizeof(res->rec.kind), "failover");
	res->rec.snap_id = s->id;
	res->rec.at_ns = real_ns();
	snprintf(tag, sizeof(tag), "ferry.failover=%s", res->rec.point);
	tags[0] = tag;
	after = calloc(1, sizeof(*after));
	err = after ? rk_snapshot(k, a->name, tags, 1, NULL, after, e) :
		      ferr_set(e, -ENOMEM, "out of memory");
	if (err)
		goto out;
	res->rec.new_snap_id = after->id;
	err = drill_db_open(ctx->state_dir, &db, e);
	if (!err)
		err = failover_db_add(db, &res->rec, e);
out:
	drill_db_close(db);
	free(after);
	free(buf);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	changed_free(&m);
	snap_list_free(&list);
	kapi_close(k);
	close(lock);
	return err;
}

static struct json_object *fo_json(const struct failover_record *r,
				   uint64_t extents)
{
	struct json_object *o = json_object_new_object();
	char at[40];

	format_rfc3339(r->at_ns, at, sizeof(at));
	json_object_object_add(o, "volume", json_object_new_string(r->volume));
	json_object_object_add(o, "kind", json_object_new_string(r->kind));
	json_object_object_add(o, "point", json_object_new_string(r->point));
	json_object_object_add(o, "snapshot",
			       json_object_new_int64(r->snap_id));
	json_object_object_add(o, "new_snapshot",
			       json_object_new_int64(r->new_snap_id));
	json_object_object_add(o, "bytes",
			       json_object_new_int64((int64_t)r->bytes));
	json_object_object_add(o, "extents",
			       json_object_new_int64((int64_t)extents));
	json_object_object_add(o, "peer", json_object_new_string(r->peer));
	json_object_object_add(o, "at", json_object_new_string(at));
	return o;
}

int cmd_failover(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct failover_result res;
	struct snap_ref_args a;
	struct ferr e = { { 0 } };
	int err;

	memset(&res, 0, sizeof(res));
	err = failover_parse(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, failover_usage);
	if (ctx_prepare(ctx, true, &e) || failover_run(ctx, &a, &res, &e))
		return cmd_fail(ctx, &e);
	if (ctx->json)
		json_print(stdout, fo_json(&res.rec, res.extents));
	else
		printf("%s failed over to snapshot %" PRIu32 " point %s: "
		       "%" PRIu64 " bytes in %" PRIu64
		       " extents copied; snapshot %" PRIu32 "\n",
		       res.rec.volume, res.rec.snap_id, res.rec.point,
		       res.rec.bytes, res.extents, res.rec.new_snap_id);
	return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
}

/* ---- the failback stream ---- */

static int fb_send(struct conn *c, uint32_t type, uint64_t a, uint64_t b,
		   const uint8_t *sha, const void *data, size_t len,
		   struct ferr *e)
{
	struct fb_hdr h = { .magic = htole32(FB_MAGIC),
			    .type = htole32(type),
			    .a = htole64(a),
			    .b = htole64(b) };
	int err;

	if (sha)
		memcpy(h.sha, sha, sizeof(h.sha));
	err = conn_write_exact(c, &h, sizeof(h), e);
	if (!err && len)
		err = conn_write_exact(c, data, len, e);
	return err;
}

static int fb_recv(struct conn *c, struct fb_hdr *h, struct ferr *e)
{
	int err = conn_read_exact(c, h, sizeof(*h), e);

	if (err)
		return err;
	h->magic = le32toh(h->magic);
	h->type = le32toh(h->type);
	h->a = le64toh(h->a);
	h->b = le64toh(h->b);
	if (h->magic != FB_MAGIC)
		return ferr_set(e, -EPROTO, "failback: not a failback peer");
	return 0;
}

static void fb_error(struct conn *c, const char *msg)
{
	struct ferr ignored;

	fb_send(c, FB_ERR, 0, strlen(msg), NULL, msg, strlen(msg), &ignored);
}

/* After an FB_ERR header: the peer's message into @e. */
static int fb_peer_error(struct conn *c, const struct fb_hdr *h, struct ferr *e)
{
	char msg[400];
	size_t n = h->b < sizeof(msg) - 1 ? h->b : sizeof(msg) - 1;

	if (conn_read_exact(c, msg, n, e))
		return -EPROTO;
	msg[n] = '\0';
	drill_tag_value(msg, msg, sizeof(msg));
	return ferr_set(e, -EREMOTEIO, "the first site refused: %s", msg);
}

static void sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

/* ---- failback (second site) ---- */

struct failback_args {
	const char *name;
	const char *to;
	bool full;
};

static int failback_parse(struct ferry_ctx *ctx, int argc, char **argv,
			  struct failback_args *a, struct ferr *e)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, OPT_TO },
		{ "full", no_argument, NULL, OPT_FULL },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	char host[256], port[16];
	int c, err;

	memset(a, 0, sizeof(*a));
	cli_getopt_reset();
	while ((c = cli_getopt(argc, argv, opts, e)) != -1) {
		if (c < 0)
			return c;
		if (c == OPT_HELP)
			return CLI_HELP;
		if (cli_common_opt(ctx, c, optarg))
			continue;
		if (c == OPT_TO)
			a->to = optarg;
		else if (c == OPT_FULL)
			a->full = true;
	}
	err = cmd_name_operand(argc, argv, true, &a->name, e);
	if (err)
		return err;
	if (!a->to)
		return ferr_set(e, -EINVAL, "--to HOST:PORT is required");
	return parse_host_port(a->to, host, port, e);
}

/* The extents of @a and @b, merged, into @out. */
static int merge_maps(const struct changed_map *a, const struct changed_map *b,
		      struct changed_map *out, struct ferr *e)
{
	size_t i = 0, j = 0;
	int err = 0;

	while (!err && (i < a->n || j < b->n)) {
		const struct extent *x;

		if (j >= b->n || (i < a->n && a->x[i].offset <= b->x[j].offset))
			x = &a->x[i++];
		else
			x = &b->x[j++];
		if (out->n && x->offset < out->x[out->n - 1].offset +
						  out->x[out->n - 1].length) {
			struct extent *l = &out->x[out->n - 1];
			uint64_t end = x->offset + x->length;

			if (end > l->offset + l->length) {
				out->bytes += end - (l->offset + l->length);
				l->length = end - l->offset;
			}
			continue;
		}
		err = changed_add(out, x->offset, x->length, e);
	}
	return err;
}

static int failback_run(const struct ferry_ctx *ctx,
			const struct failback_args *a,
			struct failover_result *res, struct ferr *e)
{
	struct changed_map remote = { 0 }, local = { 0 }, all = { 0 };
	struct snap_list list = { 0 };
	struct conn c = { .fd = -1 };
	struct ferry_volume v;
	struct drill_db *db = NULL;
	struct kapi *k = NULL;
	struct fb_hdr h;
	char dev[64], point[FERRY_TAG_VALUE_MAX + 1];
	uint8_t sha[32];
	int lock, in = -1, idx, err;
	void *buf = NULL;
	size_t i;

	lock = volume_lock(ctx, a->name, e);
	if (lock < 0)
		return lock;
	err = kapi_open(&k, e);
	if (!err)
		err = volume_idle(k, a->name, &v, dev, sizeof(dev), e);
	if (!err)
		err = conn_connect(&c, a->to, e);
	if (err)
		goto out;
	c.deadline_ms = mono_ms() + FB_TIMEOUT_MS;
	err = fb_send(&c, FB_HELLO, v.size, a->full, NULL, NULL, 0, e);
	if (!err)
		err = fb_recv(&c, &h, e);
	if (!err && h.type == FB_ERR)
		err = fb_peer_error(&c, &h, e);
	if (!err &&
	    (h.type != FB_BASE || h.b >= sizeof(point) || h.a > FB_EXTENTS_MAX))
		err = ferr_set(e, -EPROTO, "failback: unexpected answer");
	if (!err)
		err = conn_read_exact(&c, point, h.b, e);
	if (err)
		goto out;
	point[h.b] = '\0';
	for (i = 0; i < h.a && !err; i++) {
		uint64_t x[2];

		err = conn_read_exact(&c, x, sizeof(x), e);
		if (!err)
			err = changed_add(&remote, le64toh(x[0]), le64toh(x[1]),
					  e);
	}
	if (err)
		goto out;
	snprintf(res->rec.point, sizeof(res->rec.point), "%s", point);
	if (a->full) {
		err = changed_add(&all, 0, v.size, e);
	} else {
		err = snap_dump(k, a->name, &list, e);
		idx = err ? err : drill_pick(&list, a->name, 0, point, e);
		if (idx < 0) {
			err = ferr_set(e, idx,
				       "%s: no live snapshot of the first "
				       "site's last point %s: use --full",
				       a->name, point);
			goto out;
		}
		res->rec.snap_id = list.s[idx].id;
		err = changed_since(k, a->name, list.s[idx].epoch, &local, e);
		if (!err)
			err = merge_maps(&local, &remote, &all, e);
	}
	if (err)
		goto out;
	buf = piece_buffer(e);
	in = open(dev, O_RDONLY | O_DIRECT | O_EXCL | O_CLOEXEC);
	if (!buf || in < 0) {
		err = buf ? ferr_set(e, -errno, "cannot open %s: %s", dev,
				     strerror(errno)) :
			    -ENOMEM;
		goto out;
	}
	for (i = 0; i < all.n && !err; i++) {
		uint64_t off = all.x[i].offset, end = off + all.x[i].length;

		if (end > v.size)
			end = v.size;
		while (off < end && !err) {
			size_t len = end - off > FB_PIECE ? FB_PIECE :
							    (size_t)(end - off);

			err = pread_all(in, buf, len, off, dev, e);
			if (err)
				break;
			sha256(buf, len, sha);
			err = fb_send(&c, FB_EXT, off, len, sha, buf, len, e);
			res->rec.bytes += len;
			off += len;
		}
	}
	res->extents = all.n;
	if (!err)
		err = fb_send(&c, FB_END, all.n, res->rec.bytes, NULL, NULL, 0,
			      e);
	if (!err)
		err = fb_recv(&c, &h, e);
	if (!err && h.type == FB_ERR)
		err = fb_peer_error(&c, &h, e);
	if (!err && (h.type != FB_OK || h.b != res->rec.bytes))
		err = ferr_set(e, -EPROTO,
			       "failback: the first site did not confirm");
	if (err)
		goto out;
	snprintf(res->rec.volume, sizeof(res->rec.volume), "%s", a->name);
	snprintf(res->rec.kind, sizeof(res->rec.kind), "failback");
	snprintf(res->rec.peer, sizeof(res->rec.peer), "%s", a->to);
	res->rec.at_ns = real_ns();
	err = drill_db_open(ctx->state_dir, &db, e);
	if (!err)
		err = failover_db_add(db, &res->rec, e);
out:
	drill_db_close(db);
	free(buf);
	if (in >= 0)
		close(in);
	conn_close(&c);
	changed_free(&remote);
	changed_free(&local);
	changed_free(&all);
	snap_list_free(&list);
	kapi_close(k);
	close(lock);
	return err;
}

int cmd_failback(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct failover_result res;
	struct failback_args a;
	struct ferr e = { { 0 } };
	int err;

	memset(&res, 0, sizeof(res));
	err = failback_parse(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, failback_usage);
	if (ctx_prepare(ctx, true, &e) || failback_run(ctx, &a, &res, &e))
		return cmd_fail(ctx, &e);
	if (ctx->json)
		json_print(stdout, fo_json(&res.rec, res.extents));
	else
		printf("%s failed back to %s from point %s: sent %" PRIu64
		       " bytes in %" PRIu64 " extents\n",
		       res.rec.volume, a.to, res.rec.point, res.rec.bytes,
		       res.extents);
	return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
}

/* ---- failback-receive (first site) ---- */

struct fbr_args {
	const char *name;
	const char *listen;
	int timeout_ms;
};

static int fbr_parse(struct ferry_ctx *ctx, int argc, char **argv,
		     struct fbr_args *a, struct ferr *e)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	char host[256], port[16];
	struct ferr why;
	int c, err;

	memset(a, 0, sizeof(*a));
	a->timeout_ms = FB_TIMEOUT_MS;
	cli_getopt_reset();
	while ((c = cli_getopt(argc, argv, opts, e)) != -1) {
		if (c < 0)
			return c;
		if (c == OPT_HELP)
			return CLI_HELP;
		if (cli_common_opt(ctx, c, optarg))
			continue;
		if (c == OPT_LISTEN)
			a->listen = optarg;
		else if (c == OPT_TIMEOUT &&
			 parse_seconds(optarg, &a->timeout_ms, &why))
			return ferr_set(e, -EINVAL, "--timeout: %s", why.msg);
	}
	err = cmd_name_operand(argc, argv, true, &a->name, e);
	if (err)
		return err;
	if (!a->listen)
		return ferr_set(e, -EINVAL, "--listen ADDR:PORT is required");
	return parse_host_port(a->listen, host, port, e);
}

/* Our writes since the last acknowledged point, sent as BASE. */
static int fbr_base(const struct ferry_ctx *ctx, struct kapi *k,
		    const char *name, bool full, struct conn *c,
		    struct failover_record *r, struct ferr *e)
{
	struct changed_map m = { 0 };
	struct repl_state base;
	char path[4096];
	size_t i;
	int err;

	snprintf(path, sizeof(path), "%s/repl-%s.base", ctx->state_dir, name);
	err = repl_state_load(path, &base, e);
	if (err == -ENOENT && full) {
		memset(&base, 0, sizeof(base));
		err = 0;
	} else if (err == -ENOENT) {
		err = ferr_set(e, err,
			       "%s: no acknowledged point (%s): use failback "
			       "--full",
			       name, path);
	}
	if (!err && !full) {
		err = changed_since(k, name, base.epoch, &m, e);
		if (!err &&
		    (!m.has_uuid || memcmp(m.cbt_uuid, base.cbt_uuid, 16) ||
		     m.cbt_gen != base.cbt_gen))
			err = ferr_set(e, -ESTALE,
				       "%s: changed-block tracking cannot be "
				       "trusted since point %s: use failback "
				       "--full",
				       name, base.point);
	}
	if (err) {
		fb_error(c, e->msg);
		changed_free(&m);
		return err;
	}
	snprintf(r->point, sizeof(r->point), "%s", base.point);
	err = fb_send(c, FB_BASE, m.n, strlen(base.point), NULL, base.point,
		      strlen(base.point), e);
	for (i = 0; !err && i < m.n; i++) {
		uint64_t x[2] = { htole64(m.x[i].offset),
				  htole64(m.x[i].length) };

		err = conn_write_exact(c, x, sizeof(x), e);
	}
	changed_free(&m);
	return err;
}

static int fbr_run(const struct ferry_ctx *ctx, const struct fbr_args *a,
		   struct failover_result *res, struct ferr *e)
{
	struct conn c = { .fd = -1 };
	struct ferry_volume v;
	struct drill_db *db = NULL;
	struct kapi *k = NULL;
	struct fb_hdr h;
	char dev[64];
	uint8_t sha[32];
	int lock, lfd = -1, out = -1, err;
	void *buf = NULL;

	lock = volume_lock(ctx, a->name, e);
	if (lock < 0)
		return lock;
	err = kapi_open(&k, e);
	if (!err)
		err = volume_idle(k, a->name, &v, dev, sizeof(dev), e);
	if (err)
		goto out;
	lfd = conn_listen(a->listen, e);
	if (lfd < 0) {
		err = lfd;
		goto out;
	}
	fprintf(stderr, "ferry: failback-receive: %s waiting on %s\n", a->name,
		a->listen);
	c.deadline_ms = mono_ms() + a->timeout_ms;
	err = conn_accept(&c, lfd, e);
	if (!err)
		err = fb_recv(&c, &h, e);
	if (!err && h.type != FB_HELLO)
		err = ferr_set(e, -EPROTO, "failback: no HELLO");
	if (!err && h.a != v.size) {
		err = ferr_set(e, -EINVAL,
			       "%s: size %" PRIu64
			       " differs from the second site's %" PRIu64,
			       a->name, v.size, h.a);
		fb_error(&c, e->msg);
	}
	if (err)
		goto out;
	buf = piece_buffer(e);
	out = open(dev, O_WRONLY | O_DIRECT | O_EXCL | O_CLOEXEC);
	if (!buf || out < 0) {
		err = buf ? ferr_set(e, -errno, "cannot open %s: %s", dev,
				     strerror(errno)) :
			    -ENOMEM;
		fb_error(&c, e->msg);
		goto out;
	}
	err = fbr_base(ctx, k, a->name, h.b != 0, &c, &res->rec, e);
	while (!err) {
		err = fb_recv(&c, &h, e);
		if (err || h.type == FB_END)
			break;
		if (h.type != FB_EXT || h.b == 0 || h.b > FB_PIECE ||
		    h.a % 512 || h.b % 512 || h.a > v.size ||
		    h.b > v.size - h.a) {
			err = ferr_set(e, -EPROTO,
				       "failback: bad extent %" PRIu64
				       "+%" PRIu64,
				       h.a, h.b);
			break;
		}
		err = conn_read_exact(&c, buf, h.b, e);
		if (err)
			break;
		sha256(buf, h.b, sha);
		if (memcmp(sha, h.sha, 32)) {
			err = ferr_set(
				e, -EBADMSG,
				"failback: checksum mismatch at %" PRIu64, h.a);
			break;
		}
		err = pwrite_all(out, buf, h.b, h.a, dev, e);
		res->rec.bytes += h.b;
		res->extents++;
	}
	if (!err && fsync(out))
		err = ferr_set(e, -errno, "fsync %s: %s", dev, strerror(errno));
	if (err) {
		fb_error(&c, e->msg);
		goto out;
	}
	err = fb_send(&c, FB_OK, res->extents, res->rec.bytes, NULL, NULL, 0,
		      e);
	snprintf(res->rec.volume, sizeof(res->rec.volume), "%s", a->name);
	snprintf(res->rec.kind, sizeof(res->rec.kind), "failback-receive");
	snprintf(res->rec.peer, sizeof(res->rec.peer), "%s", c.peer);
	res->rec.at_ns = real_ns();
	if (!err)
		err = drill_db_open(ctx->state_dir, &db, e);
	if (!err)
		err = failover_db_add(db, &res->rec, e);
out:
	drill_db_close(db);
	free(buf);
	if (out >= 0)
		close(out);
	if (lfd >= 0)
		close(lfd);
	conn_close(&c);
	kapi_close(k);
	close(lock);
	return err;
}

int cmd_failback_receive(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct failover_result res;
	struct fbr_args a;
	struct ferr e = { { 0 } };
	int err;

	memset(&res, 0, sizeof(res));
	err = fbr_parse(ctx, argc, argv, &a, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, failback_receive_usage);
	if (ctx_prepare(ctx, true, &e) || fbr_run(ctx, &a, &res, &e))
		return cmd_fail(ctx, &e);
	if (ctx->json)
		json_print(stdout, fo_json(&res.rec, res.extents));
	else
		printf("%s received failback from %s: %" PRIu64
		       " bytes in %" PRIu64 " pieces (base point %s)\n",
		       res.rec.volume, res.rec.peer, res.rec.bytes, res.extents,
		       res.rec.point);
	return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
}
