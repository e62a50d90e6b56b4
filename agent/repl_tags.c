// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: tags travel between the sites (see repl_tags.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cmd_repl.h"
#include "repl_state.h"
#include "repl_tags.h"
#include "snap_kapi.h"
#include "tagq.h"

#define AGENT_PREFIX "ferry."

static bool agent_key(const char *kv)
{
	return !strncmp(kv, AGENT_PREFIX, strlen(AGENT_PREFIX));
}

int repl_tag_enqueue(const struct ferry_ctx *ctx, const char *name,
		     const char *point, char *const *kv, size_t n,
		     struct ferr *e)
{
	char path[4096], qpath[4096];
	char *mine[FERRY_TAGS_MAX];
	struct repl_state s;
	struct ferr ignored;
	size_t i, m = 0;

	if (repl_base_path(ctx->state_dir, name, path, sizeof(path)) ||
	    tagq_path(ctx->state_dir, name, qpath, sizeof(qpath)))
		return ferr_set(e, -ENAMETOOLONG, "state path too long");
	if (repl_state_load(path, &s, &ignored))
		return 0; /* not replicated (or unreadable: replicate says so) */
	for (i = 0; i < n && m < FERRY_TAGS_MAX; i++)
		if (!agent_key(kv[i]))
			mine[m++] = kv[i];
	if (!m || !point || !point[0])
		return 0;
	return tagq_append(qpath, point, mine, m, NULL, e);
}

size_t repl_tags_queued(const struct ferry_ctx *ctx, const char *name)
{
	struct tagq q = { 0 };
	struct ferr ignored;
	char qpath[4096];
	size_t n;

	if (tagq_path(ctx->state_dir, name, qpath, sizeof(qpath)) ||
	    tagq_load(qpath, &q, &ignored))
		return 0;
	n = q.n;
	tagq_free(&q);
	return n;
}

/* Sets "k=v" on @tags (removes k for "k="); -E2BIG when full. */
static int tags_apply(struct ferry_tag *tags, size_t *ntags, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : 0, i;

	if (!eq || !klen || klen > FERRY_TAG_KEY_MAX ||
	    strlen(eq + 1) > FERRY_TAG_VALUE_MAX)
		return -EINVAL;
	for (i = 0; i < *ntags; i++)
		if (strlen(tags[i].key) == klen &&
		    !strncmp(tags[i].key, kv, klen))
			break;
	if (!eq[1]) {
		if (i < *ntags) {
			tags[i] = tags[*ntags - 1];
			(*ntags)--;
		}
		return 0;
	}
	if (i == *ntags) {
		if (*ntags == FERRY_TAGS_MAX)
			return -E2BIG;
		memcpy(tags[i].key, kv, klen);
		tags[i].key[klen] = '\0';
		(*ntags)++;
	}
	snprintf(tags[i].value, sizeof(tags[i].value), "%s", eq + 1);
	return 0;
}

struct find {
	const char *point;
	struct catalog_point *p;
	bool found;
};

static int find_point(const struct catalog_point *p, void *arg)
{
	struct find *f = arg;

	if (strcmp(p->point, f->point))
		return 0;
	*f->p = *p;
	f->found = true;
	return 0;
}

/*
 * The catalog's tags of @point: each of @kv applied (@replace: the
 * non-agent tags replaced by @kv); @out gets the result.
 */
static int catalog_update(const struct ferry_ctx *ctx, const char *name,
			  const char *point, char *const *kv, size_t n,
			  bool replace, struct ferry_snap_info *out,
			  struct ferr *e)
{
	struct catalog_point *p = calloc(1, sizeof(*p));
	struct find f = { .point = point, .p = p };
	struct catalog *c = NULL;
	size_t i, k;
	int err;

	if (!p)
		return ferr_set(e, -ENOMEM, "out of memory");
	err = catalog_open(ctx->state_dir, &c, e);
	if (!err)
		err = catalog_points(c, name, find_point, &f, e);
	if (!err && !f.found)
		err = ferr_set(e, -ENOENT, "%s: no point %s", name, point);
	if (err)
		goto out;
	if (replace) {
		/* The agent's own tags stay; the rest is the report. */
		for (i = 0, k = 0; i < p->ntags; i++)
			if (agent_key(p->tags[i].key))
				p->tags[k++] = p->tags[i];
		p->ntags = k;
	}
	for (i = 0; i < n && !err; i++)
		if (tags_apply(p->tags, &p->ntags, kv[i]))
			err = ferr_set(e, -EINVAL, "tag %s cannot be set",
				       kv[i]);
	if (!err)
		err = catalog_point_put(c, p, e);
	if (!err && out) {
		memset(out, 0, sizeof(*out));
		snprintf(out->volume, sizeof(out->volume), "%s", name);
		out->id = p->snap_id;
		out->ntags = p->ntags;
		memcpy(out->tags, p->tags, sizeof(p->tags));
	}
out:
	if (c)
		catalog_close(c);
	free(p);
	return err;
}

int repl_tag_catalog(const struct ferry_ctx *ctx, const char *name,
		     const char *point, char *const *kv, size_t n,
		     struct ferry_snap_info *out, struct ferr *e)
{
	return catalog_update(ctx, name, point, kv, n, false, out, e);
}

/* The snapshot of @name carrying ferry.point=@point, from a dump. */
static struct ferry_snap_info *by_point(struct snap_list *l, const char *point)
{
	const char *p;
	size_t i;

	for (i = 0; i < l->n; i++) {
		p = snap_tag(&l->s[i], FERRY_POINT_TAG);
		if (p && !strcmp(p, point))
			return &l->s[i];
	}
	return NULL;
}

/* @s's tags but the agent's, as a TAG payload for its point. */
static void to_wire(const struct ferry_snap_info *s, const char *point,
		    struct wire_tags *t)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	snprintf(t->point, sizeof(t->point), "%s", point);
	for (i = 0; i < s->ntags; i++)
		if (!agent_key(s->tags[i].key))
			snprintf(t->tags[t->ntags++], sizeof(t->tags[0]),
				 "%s=%s", s->tags[i].key, s->tags[i].value);
}

/* ---- primary ---- */

/*
 * A tag set reported by the second site: the catalog's point gets it
 * (the agent's own tags kept), and so does its snapshot if still live.
 */
static void store_report(const struct ferry_ctx *ctx, struct kapi *k,
			 const char *name, const struct wire_tags *t)
{
	char *kv[FERRY_TAGS_MAX * 2];
	char rm[FERRY_TAGS_MAX][FERRY_TAG_KEY_MAX + 2];
	struct snap_list l = { 0 };
	struct ferry_snap_info *s;
	struct ferr e = { { 0 } };
	size_t i, j, n = 0, nrm = 0;

	for (i = 0; i < t->ntags; i++)
		kv[n++] = (char *)t->tags[i];
	if (k && !snap_dump(k, name, &l, &e) && (s = by_point(&l, t->point))) {
		/* Keys gone at the second site go here too. */
		for (i = 0; i < s->ntags; i++) {
			if (agent_key(s->tags[i].key))
				continue;
			for (j = 0; j < t->ntags; j++)
				if (!strncmp(t->tags[j], s->tags[i].key,
					     strlen(s->tags[i].key)) &&
				    t->tags[j][strlen(s->tags[i].key)] == '=')
					break;
			if (j == t->ntags) {
				snprintf(rm[nrm], sizeof(rm[0]),
					 "%s=", s->tags[i].key);
				kv[n++] = rm[nrm++];
			}
		}
		if (n && snap_set_tags(k, name, s->id, kv, n, &e))
			ferry_warn("replicate", "%s", e.msg);
	}
	snap_list_free(&l);
	if (catalog_update(ctx, name, t->point, kv, t->ntags, true, NULL, &e) &&
	    !strstr(e.msg, "no point"))
		ferry_warn("replicate", "%s", e.msg);
}

static int recv_tags(struct conn *c, uint16_t want, struct wire_hdr *h,
		     uint8_t *buf, struct wire_tags *t, struct ferr *e)
{
	int err = conn_recv(c, h, buf, WIRE_TAGS_MAX, e);

	if (err)
		return err;
	if (h->type != want && h->type != WIRE_TAGS_DONE)
		return ferr_set(e, -EPROTO, "expected %s, %s sent %s",
				wire_type_name(want), c->peer,
				wire_type_name(h->type));
	if (h->type == WIRE_TAGS_DONE)
		return 0;
	return wire_tags_decode(buf, h->payload_len, t, e);
}

int repl_tags_send(const struct ferry_ctx *ctx, const char *name,
		   struct conn *c, struct tags_result *r, struct ferr *e)
{
	struct wire_tags *t = calloc(1, sizeof(*t));
	uint8_t *buf = malloc(WIRE_TAGS_MAX);
	struct tagq q = { 0 };
	struct kapi *k = NULL;
	struct ferr ignored;
	char qpath[4096];
	struct wire_hdr h;
	size_t i, len;
	int err;

	memset(r, 0, sizeof(*r));
	if (!t || !buf) {
		err = ferr_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	if (tagq_path(ctx->state_dir, name, qpath, sizeof(qpath))) {
		err = ferr_set(e, -ENAMETOOLONG, "state path too long");
		goto out;
	}
	if (kapi_open(&k, &ignored))
		k = NULL;
	err = tagq_load(qpath, &q, e);
	for (i = 0; !err && i < q.n; i++) {
		memset(t, 0, sizeof(*t));
		snprintf(t->point, sizeof(t->point), "%s", q.e[i].point);
		t->ntags = q.e[i].ntags;
		memcpy(t->tags, q.e[i].tags, sizeof(t->tags));
		len = wire_tags_encode(t, buf, WIRE_TAGS_MAX);
		if (!len) {
			err = ferr_set(e, -E2BIG,
				       "tag update %" PRIu64
				       " does not fit a TAG frame",
				       q.e[i].seq);
			break;
		}
		err = conn_send(c, WIRE_TAG, q.e[i].seq, 0, buf, (uint32_t)len,
				e);
		if (!err)
			err = recv_tags(c, WIRE_TAG_ACK, &h, buf, t, e);
		if (!err && (h.type != WIRE_TAG_ACK || h.arg0 != q.e[i].seq))
			err = ferr_set(e, -EPROTO,
				       "TAG %" PRIu64 " answered with %s %llu",
				       q.e[i].seq, wire_type_name(h.type),
				       (unsigned long long)h.arg0);
		if (err)
			break;
		if (h.arg1) {
			ferry_warn(
				"replicate",
				"%s: %s holds no point %s; tag update dropped",
				name, c->peer, q.e[i].point);
			r->unknown++;
		} else {
			store_report(ctx, k, name, t);
			r->sent++;
		}
		err = tagq_remove(qpath, q.e[i].seq, e);
	}
	if (!err)
		err = conn_send(c, WIRE_TAGS_DONE, 0, 0, NULL, 0, e);
	while (!err) {
		err = recv_tags(c, WIRE_TAG, &h, buf, t, e);
		if (err || h.type == WIRE_TAGS_DONE)
			break;
		store_report(ctx, k, name, t);
		r->reported++;
	}
	if (!err)
		err = conn_send(c, WIRE_TAGS_DONE, 0, 0, NULL, 0, e);
out:
	r->queued = q.n - r->sent - r->unknown;
	if (k)
		kapi_close(k);
	tagq_free(&q);
	free(t);
	free(buf);
	return err;
}

/* ---- second site ---- */

/* "POINT HEXCRC" per point reported, STATE_DIR/recv-NAME.reported. */
static int reported_path(const struct ferry_ctx *ctx, const char *name,
			 char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/recv-%s.reported", ctx->state_dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static uint32_t tags_crc(const struct ferry_snap_info *s)
{
	uint32_t c = 0;
	size_t i;

	for (i = 0; i < s->ntags; i++) {
		if (agent_key(s->tags[i].key))
			continue;
		c = crc32c(c, s->tags[i].key, strlen(s->tags[i].key) + 1);
		c = crc32c(c, s->tags[i].value, strlen(s->tags[i].value) + 1);
	}
	return c;
}

static bool was_reported(const char *text, const char *point, uint32_t crc)
{
	char line[WIRE_POINT_MAX + 16];

	snprintf(line, sizeof(line), "%s %08x\n", point, crc);
	return text && strstr(text, line) &&
	       (strstr(text, line) == text || strstr(text, line)[-1] == '\n');
}

/* A small text file, NUL-terminated, or NULL. */
static char *read_small(const char *path)
{
	FILE *f = fopen(path, "re");
	char *b;
	size_t n;

	if (!f)
		return NULL;
	b = calloc(1, 65536);
	if (b) {
		n = fread(b, 1, 65535, f);
		b[n] = '\0';
	}
	fclose(f);
	return b;
}

/* Applies one TAG to the replica and answers TAG_ACK. */
static int apply_one(struct kapi *k, const char *name, struct conn *c,
		     const struct wire_hdr *h, struct wire_tags *t,
		     uint8_t *buf, struct tags_result *r, struct ferr *e)
{
	struct snap_list l = { 0 };
	struct ferry_snap_info *s;
	char *kv[FERRY_TAGS_MAX];
	char point[WIRE_POINT_MAX + 1];
	uint64_t unknown = 0;
	size_t i, len;
	int err;

	snprintf(point, sizeof(point), "%s", t->point);
	for (i = 0; i < t->ntags; i++) {
		if (agent_key(t->tags[i]))
			return ferr_set(e, -EPERM,
					"TAG sets the agent's key %s",
					t->tags[i]);
		kv[i] = t->tags[i];
	}
	err = snap_dump(k, name, &l, e);
	if (err)
		return err;
	s = by_point(&l, point);
	if (!s) {
		unknown = 1;
		r->unknown++;
	} else if (t->ntags) {
		err = snap_set_tags(k, name, s->id, kv, t->ntags, e);
		snap_list_free(&l);
		if (!err)
			err = snap_dump(k, name, &l, e);
		if (err)
			return err;
		s = by_point(&l, point);
		r->sent++;
	}
	if (s)
		to_wire(s, point, t);
	else {
		memset(t, 0, sizeof(*t));
		snprintf(t->point, sizeof(t->point), "%s", point);
	}
	snap_list_free(&l);
	len = wire_tags_encode(t, buf, WIRE_TAGS_MAX);
	if (!len)
		return ferr_set(e, -E2BIG, "tags of point %s do not fit",
				point);
	return conn_send(c, WIRE_TAG_ACK, h->arg0, unknown, buf, (uint32_t)len,
			 e);
}

/* TAG frames for the points whose tags changed since last reported. */
static int report(const struct ferry_ctx *ctx, struct kapi *k, const char *name,
		  struct conn *c, struct wire_tags *t, uint8_t *buf,
		  struct tags_result *r, struct ferr *e)
{
	struct snap_list l = { 0 };
	char path[4096], *old = NULL, *now = NULL;
	const char *p;
	size_t i, len, used = 0, cap;
	struct wire_hdr h;
	uint32_t crc;
	int err;

	if (reported_path(ctx, name, path, sizeof(path)))
		return ferr_set(e, -ENAMETOOLONG, "state path too long");
	err = snap_dump(k, name, &l, e);
	if (err)
		return err;
	old = read_small(path);
	cap = (l.n + 1) * (WIRE_POINT_MAX + 16);
	now = calloc(1, cap);
	if (!now) {
		err = ferr_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < l.n && !err; i++) {
		p = snap_tag(&l.s[i], FERRY_POINT_TAG);
		if (!p || strlen(p) > WIRE_POINT_MAX)
			continue;
		crc = tags_crc(&l.s[i]);
		used += (size_t)snprintf(now + used, cap - used, "%s %08x\n", p,
					 crc);
		if (was_reported(old, p, crc))
			continue;
		to_wire(&l.s[i], p, t);
		len = wire_tags_encode(t, buf, WIRE_TAGS_MAX);
		if (len)
			err = conn_send(c, WIRE_TAG, 0, 0, buf, (uint32_t)len,
					e);
		r->reported++;
	}
	if (!err)
		err = conn_send(c, WIRE_TAGS_DONE, 0, 0, NULL, 0, e);
	/* The primary has them once it says so. */
	if (!err)
		err = conn_recv(c, &h, buf, WIRE_TAGS_MAX, e);
	if (!err && h.type != WIRE_TAGS_DONE)
		err = ferr_set(e, -EPROTO, "expected TAGS_DONE, got %s",
			       wire_type_name(h.type));
	if (!err)
		err = state_file_write(path, now, used, e);
out:
	snap_list_free(&l);
	free(old);
	free(now);
	return err;
}

int repl_tags_serve(const struct ferry_ctx *ctx, const char *name,
		    struct conn *c, const struct wire_hdr *first,
		    const uint8_t *payload, struct tags_result *r,
		    struct ferr *e)
{
	struct wire_tags *t = calloc(1, sizeof(*t));
	uint8_t *buf = malloc(WIRE_TAGS_MAX);
	struct wire_hdr h = *first;
	struct kapi *k = NULL;
	int err;

	memset(r, 0, sizeof(*r));
	if (!t || !buf) {
		err = ferr_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(buf, payload, h.payload_len);
	err = kapi_open(&k, e);
	while (!err && h.type == WIRE_TAG) {
		err = wire_tags_decode(buf, h.payload_len, t, e);
		if (!err)
			err = apply_one(k, name, c, &h, t, buf, r, e);
		if (!err)
			err = conn_recv(c, &h, buf, WIRE_TAGS_MAX, e);
	}
	if (!err && h.type != WIRE_TAGS_DONE)
		err = ferr_set(e, -EPROTO, "unexpected %s frame among tags",
			       wire_type_name(h.type));
	if (!err)
		err = report(ctx, k, name, c, t, buf, r, e);
out:
	if (k)
		kapi_close(k);
	free(t);
	free(buf);
	return err;
}
