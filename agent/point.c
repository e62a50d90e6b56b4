// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: recovery points. The order of "ferry snapshot":
 *
 *   reconcile the catalog, decide whether a filesystem is mounted,
 *   CMD freeze (deadline) -> session: start, quiesce/quiesced (deadline)
 *   -> label -> kernel quiesce + snapshot (the kernel freezes and thaws
 *   the filesystem inside the call) -> session: release/released + exit
 *   (deadline) -> CMD thaw (deadline) -> ferry.hook.thaw and
 *   ferry.session.release tags -> catalog.
 *
 * Once "CMD freeze" was started, "CMD thaw" runs on every path: success,
 * a failed kernel call, a failed or timed-out freeze hook, SIGINT,
 * SIGTERM or SIGHUP. Likewise, once the session helper was started, it is
 * released (and killed at the deadline) on every path, before the thaw.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd_common.h"
#include "hook.h"
#include "json_out.h"
#include "label.h"
#include "point.h"
#include "session.h"
#include "snap_kapi.h"
#include "snap_out.h"
#include "volume.h"
#include "volume_nl.h"

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int add_volume(struct nl_msg *msg, void *arg, struct ferr *e)
{
	struct volume_list *list = arg;
	struct ferry_volume *v = volume_list_add(list);

	if (!v)
		return ferr_set(e, -ENOMEM, "out of memory");
	return volume_from_msg(msg, v, e);
}

/* GET_VOLUME of @name, or every volume when NULL. */
static int get_volumes(struct kapi *k, const char *name,
		       struct volume_list *list, struct ferr *e)
{
	struct nl_msg *msg =
		kapi_msg(k, FERRY_CMD_GET_VOLUME, name ? 0 : NLM_F_DUMP);
	int err;

	if (!msg)
		return ferr_set(e, -ENOMEM, "out of memory");
	if (name && nla_put_string(msg, FERRY_ATTR_NAME, name) < 0) {
		nlmsg_free(msg);
		return ferr_set(e, -EMSGSIZE, "request too large");
	}
	err = kapi_call(k, msg, add_volume, list, e);
	if (err == -ENOENT && name && !e->msg[0])
		ferr_set(e, err, "%s: no such volume", name);
	else if (err && !e->msg[0])
		kapi_explain(err, e);
	return err;
}

/* Reconciles @name against the kernel; fixes go to @fn. */
static int sync_volume(struct catalog *c, struct kapi *k,
		       const struct ferry_volume *v, catalog_fix_fn fn,
		       void *arg, struct ferr *e)
{
	struct snap_list list = { 0 };
	int err;

	err = catalog_volume_seen(c, v->name, v->data_path, v->cow_path, e);
	if (!err)
		err = snap_dump(k, v->name, &list, e);
	if (!err)
		err = catalog_reconcile(c, v->name, &list, fn, arg, e);
	snap_list_free(&list);
	return err < 0 ? err : 0;
}

void point_sync(const struct ferry_ctx *ctx, struct kapi *k, const char *name)
{
	struct volume_list vols = { 0 };
	struct catalog *c;
	struct ferr e;

	if (catalog_open(ctx->state_dir, &c, &e))
		return;
	if (!get_volumes(k, name, &vols, &e) && vols.n)
		sync_volume(c, k, &vols.v[0], NULL, NULL, &e);
	volume_list_free(&vols);
	catalog_close(c);
}

/* ---- ferry reconcile ---- */

struct fixes {
	bool json;
	struct json_object *a;
};

static void print_fix(const char *line, void *arg)
{
	struct fixes *f = arg;

	if (f->json)
		json_object_array_add(f->a, json_object_new_string(line));
	else
		printf("%s\n", line);
}

int point_reconcile(struct ferry_ctx *ctx, const char *name, struct ferr *e)
{
	struct volume_list vols = { 0 };
	struct fixes f = { .json = ctx->json };
	struct catalog *c = NULL;
	struct kapi *k = NULL;
	size_t i;
	int err;

	err = catalog_open(ctx->state_dir, &c, e);
	if (!err)
		err = kapi_open(&k, e);
	if (!err)
		err = get_volumes(k, name, &vols, e);
	if (!err && f.json) {
		f.a = json_object_new_array();
		if (!f.a)
			err = ferr_set(e, -ENOMEM, "out of memory");
	}
	for (i = 0; !err && i < vols.n; i++)
		err = sync_volume(c, k, &vols.v[i], print_fix, &f, e);
	if (!err && f.json && json_print(stdout, f.a))
		err = ferr_set(e, -EIO, "cannot write the output");
	else if (f.json && err)
		json_object_put(f.a);
	if (!err && (fflush(stdout) || ferror(stdout)))
		err = ferr_set(e, -EIO, "cannot write the output");
	volume_list_free(&vols);
	kapi_close(k);
	catalog_close(c);
	return err;
}

/* ---- JSON of hooks; deleted points ---- */

static struct json_object *phase_json(const char *status, const char *output)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_object_add(o, "output", json_object_new_string(output));
	return o;
}

struct json_object *point_hooks_json(const struct catalog_point *p)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (p->freeze_status[0])
		json_object_object_add(o, "freeze",
				       phase_json(p->freeze_status,
						  p->freeze_output));
	if (p->thaw_status[0])
		json_object_object_add(
			o, "thaw", phase_json(p->thaw_status, p->thaw_output));
	if (p->has_session) {
		struct json_object *sj = json_object_new_object();

		if (sj && p->quiesce_status[0])
			json_object_object_add(sj, "quiesce",
					       phase_json(p->quiesce_status,
							  p->quiesce_output));
		if (sj && p->release_status[0])
			json_object_object_add(sj, "release",
					       phase_json(p->release_status,
							  p->release_output));
		if (sj)
			json_object_object_add(
				sj, "session_ms",
				json_object_new_uint64(p->session_ms));
		json_object_object_add(o, "session", sj);
	}
	json_object_object_add(o, "hook_ms",
			       json_object_new_uint64(p->hook_ms));
	json_object_object_add(o, "total_ms",
			       json_object_new_uint64(p->total_ms));
	return o;
}

void point_to_snap(const struct catalog_point *p, struct ferry_snap_info *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->volume, sizeof(s->volume), "%s", p->volume);
	s->id = p->snap_id;
	s->state = SNAP_STATE_DELETED;
	s->created_ns = p->created_ns;
	snprintf(s->label, sizeof(s->label), "%s", p->label);
	s->stall_ns = p->stall_ns;
	s->freeze_ns = p->freeze_ns;
	s->ntags = p->ntags;
	memcpy(s->tags, p->tags, p->ntags * sizeof(p->tags[0]));
}

/* ---- ferry snapshots ---- */

struct listing {
	struct snap_list all; /* kernel's, then the deleted points */
	struct catalog_point **cp; /* per entry, NULL: none */
	size_t ncp;
};

static int add_deleted(const struct catalog_point *p, void *arg)
{
	struct listing *l = arg;
	struct ferry_snap_info *s;
	struct catalog_point **cp;

	if (strcmp(p->state, "deleted"))
		return 0;
	s = snap_list_add(&l->all);
	cp = reallocarray(l->cp, l->all.n, sizeof(*cp));
	if (!s || !cp)
		return -ENOMEM;
	l->cp = cp;
	point_to_snap(p, s);
	l->cp[l->all.n - 1] = malloc(sizeof(*p));
	if (l->cp[l->all.n - 1])
		memcpy(l->cp[l->all.n - 1], p, sizeof(*p));
	l->ncp = l->all.n;
	return 0;
}

static int listing_build(const struct ferry_ctx *ctx, const char *name,
			 const struct snap_list *kernel, struct listing *l)
{
	struct catalog *c;
	struct kapi *k;
	struct ferr e;
	size_t i;
	int err;

	for (i = 0; i < kernel->n; i++) {
		struct ferry_snap_info *s = snap_list_add(&l->all);

		if (!s)
			return -ENOMEM;
		*s = kernel->s[i];
	}
	l->cp = calloc(l->all.n ? l->all.n : 1, sizeof(*l->cp));
	if (!l->cp)
		return -ENOMEM;
	l->ncp = l->all.n;
	/* No catalog (e.g. not root): the kernel's view is the answer. */
	if (catalog_open(ctx->state_dir, &c, &e))
		return 0;
	err = catalog_reconcile(c, name, kernel, NULL, NULL, &e);
	(void)err;
	if (!kapi_open(&k, &e)) {
		struct volume_list vols = { 0 };

		if (!get_volumes(k, name, &vols, &e) && vols.n)
			catalog_volume_seen(c, name, vols.v[0].data_path,
					    vols.v[0].cow_path, &e);
		volume_list_free(&vols);
		kapi_close(k);
	}
	for (i = 0; i < kernel->n; i++) {
		struct catalog_point *p = malloc(sizeof(*p));
		const char *pt = snap_tag(&kernel->s[i], FERRY_POINT_TAG);

		if (!p)
			break;
		if (pt &&
		    catalog_point_get(c, name, kernel->s[i].id, pt, p, &e) ==
			    1 &&
		    (p->has_hooks || p->has_session))
			l->cp[i] = p;
		else
			free(p);
	}
	catalog_points(c, name, add_deleted, l, &e);
	catalog_close(c);
	return 0;
}

static void listing_free(struct listing *l)
{
	size_t i;

	for (i = 0; i < l->ncp; i++)
		free(l->cp[i]);
	free(l->cp);
	snap_list_free(&l->all);
}

int point_list_print(const struct ferry_ctx *ctx, const char *name,
		     const struct snap_list *kernel)
{
	static char line[16384];
	struct listing l;
	struct json_object *a = NULL;
	size_t i;
	int err;

	memset(&l, 0, sizeof(l));
	err = listing_build(ctx, name, kernel, &l);
	if (!err && ctx->json) {
		a = json_object_new_array();
		for (i = 0; a && i < l.all.n; i++) {
			struct json_object *o =
				snap_to_json(&l.all.s[i], false);

			if (!o)
				break;
			if (i < l.ncp && l.cp[i])
				json_object_object_add(
					o, "hooks", point_hooks_json(l.cp[i]));
			json_object_array_add(a, o);
		}
		err = json_print(stdout, a);
	} else if (!err) {
		snap_table_header(line, sizeof(line));
		printf("%s\n", line);
		for (i = 0; i < l.all.n; i++) {
			snap_to_row(&l.all.s[i], line, sizeof(line));
			printf("%s\n", line);
		}
	}
	listing_free(&l);
	return err;
}

/* ---- ferry snapshot ---- */

/* Everything one "ferry snapshot" run learns, for the catalog and output. */
struct run {
	const struct snapshot_args *a;
	struct hook_spec spec;
	struct hook_result freeze, thaw;
	bool froze; /* "CMD freeze" was started: thaw must run */
	bool thawed;
	struct session_spec sspec;
	struct session sess;
	bool sessioned; /* the session was started: release must run */
	bool released;
	char point[40];
	char volumes[FERRY_NAME_MAX * 4 + 64];
	uint64_t t0;
};

static void run_thaw(struct run *r)
{
	if (!r->froze || r->thawed)
		return;
	/* Not stoppable: a signal to the agent is why it may be running. */
	hook_run(&r->spec, "thaw", NULL, &r->thaw);
	r->thawed = true;
}

static void run_release(struct run *r)
{
	if (!r->sessioned || r->released)
		return;
	session_release(&r->sess);
	r->released = true;
}

/* Undoes what quiesced the application: the session first, then thaw. */
static void run_unquiesce(struct run *r)
{
	run_release(r);
	run_thaw(r);
}

static const char *signame(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
}

/* "; the thaw hook exited 0" (or how it failed) */
static void thaw_note(const struct run *r, char *buf, size_t len)
{
	char why[256];
	size_t used = 0;

	buf[0] = '\0';
	if (r->released && r->sess.release.done) {
		if (r->sess.release.ok)
			used = snprintf(buf, len, "; the session was released");
		else {
			session_failure_text(&r->sess.release, why,
					     sizeof(why));
			used = snprintf(
				buf, len, "; the session's release %s%s", why,
				strcmp(r->sess.release.status, "timeout") ?
					"" :
					" (killed)");
		}
	}
	if (!r->thawed || used >= len)
		return;
	if (hook_ok(&r->thaw))
		snprintf(buf + used, len - used, "; the thaw hook ran");
	else {
		hook_failure_text(&r->thaw, why, sizeof(why));
		snprintf(buf + used, len - used, "; the thaw hook %s", why);
	}
}

/* "the freeze hook exited 1" or "the quiesce session answered 'no'" */
static void freeze_failure(const struct run *r, char *buf, size_t len)
{
	char why[200];

	if (r->froze && !hook_ok(&r->freeze)) {
		hook_failure_text(&r->freeze, why, sizeof(why));
		snprintf(buf, len, "the freeze hook %s", why);
	} else if (r->sessioned) {
		session_failure_text(&r->sess.quiesce, why, sizeof(why));
		snprintf(buf, len, "the quiesce session %s", why);
	} else {
		snprintf(buf, len, "the application was not quiesced");
	}
}

static void session_to_point(const struct run *r, struct catalog_point *p)
{
	if (!r->sessioned)
		return;
	p->has_session = true;
	snprintf(p->quiesce_status, sizeof(p->quiesce_status), "%s",
		 r->sess.quiesce.status);
	snprintf(p->quiesce_output, sizeof(p->quiesce_output), "%s",
		 r->sess.quiesce.output);
	snprintf(p->release_status, sizeof(p->release_status), "%s",
		 r->sess.release.status);
	snprintf(p->release_output, sizeof(p->release_output), "%s",
		 r->sess.release.output);
	p->session_ms = r->sess.quiesce.ms + r->sess.release.ms;
}

static bool all_mounted(struct kapi *k, const struct snapshot_args *a,
			struct catalog *c, struct ferr *e)
{
	bool all = true;
	size_t i;

	for (i = 0; i < a->nnames; i++) {
		struct volume_list vols = { 0 };
		char dev[64];

		if (get_volumes(k, a->names[i], &vols, e) || !vols.n) {
			volume_list_free(&vols);
			return false;
		}
		sync_volume(c, k, &vols.v[0], NULL, NULL, e);
		volume_device_path(&vols.v[0], dev, sizeof(dev));
		if (!device_is_mounted(dev))
			all = false;
		volume_list_free(&vols);
	}
	e->msg[0] = '\0';
	return all;
}

static int store_points(struct catalog *c, struct run *r,
			const struct snap_list *list, struct ferr *e)
{
	struct catalog_point *p = malloc(sizeof(*p));
	size_t i;
	int err = 0;

	if (!p)
		return ferr_set(e, -ENOMEM, "out of memory");
	for (i = 0; !err && i < list->n; i++) {
		catalog_point_from_snap(&list->s[i], p);
		if (r->froze) {
			p->has_hooks = true;
			hook_status_text(&r->freeze, p->freeze_status,
					 sizeof(p->freeze_status));
			snprintf(p->freeze_output, sizeof(p->freeze_output),
				 "%s", r->freeze.output);
			hook_status_text(&r->thaw, p->thaw_status,
					 sizeof(p->thaw_status));
			snprintf(p->thaw_output, sizeof(p->thaw_output), "%s",
				 r->thaw.output);
			p->hook_ms = r->freeze.ms + r->thaw.ms;
		}
		session_to_point(r, p);
		p->total_ms = mono_ms() - r->t0;
		err = catalog_point_put(c, p, e);
	}
	free(p);
	return err;
}

static int snapshot_print(const struct ferry_ctx *ctx, struct run *r,
			  const struct snap_list *list)
{
	struct catalog_point *p;
	struct json_object *a;
	size_t i;

	if (!ctx->json)
		return snap_print_lines(list);
	p = calloc(1, sizeof(*p));
	a = json_object_new_array();
	for (i = 0; p && a && i < list->n; i++) {
		struct json_object *o = snap_to_json(&list->s[i], true);

		if (!o)
			break;
		if (r->froze) {
			hook_status_text(&r->freeze, p->freeze_status,
					 sizeof(p->freeze_status));
			snprintf(p->freeze_output, sizeof(p->freeze_output),
				 "%s", r->freeze.output);
			hook_status_text(&r->thaw, p->thaw_status,
					 sizeof(p->thaw_status));
			snprintf(p->thaw_output, sizeof(p->thaw_output), "%s",
				 r->thaw.output);
			p->hook_ms = r->freeze.ms + r->thaw.ms;
		}
		session_to_point(r, p);
		if (r->froze || r->sessioned) {
			p->total_ms = mono_ms() - r->t0;
			json_object_object_add(o, "hooks", point_hooks_json(p));
		}
		json_object_array_add(a, o);
	}
	free(p);
	if (json_print(stdout, a))
		return -EIO;
	return fflush(stdout) || ferror(stdout) ? -EIO : 0;
}

/* User tags, then ferry.point, ferry.hook.freeze, ferry.session.quiesce. */
static int build_tags(struct run *r, char **tags, size_t *n, char *own,
		      size_t own_len, struct ferr *e)
{
	const struct snapshot_args *a = r->a;
	size_t own_tags = 1 + (a->hook ? 2 : 0) + (a->session ? 2 : 0);
	char status[16];
	size_t i, used;
	int len;

	for (i = 0; i < a->ntags; i++) {
		if (!strncmp(a->tags[i], "ferry.", 6))
			return ferr_set(
				e, -EINVAL,
				"tag '%s': ferry.* keys are set by the agent",
				a->tags[i]);
		tags[i] = a->tags[i];
	}
	if (a->ntags + own_tags > FERRY_TAGS_MAX)
		return ferr_set(e, -EINVAL,
				"more than %zu tags (the agent adds %zu)",
				FERRY_TAGS_MAX - own_tags, own_tags);
	*n = a->ntags;
	len = snprintf(own, own_len, "%s=%s", FERRY_POINT_TAG, r->point);
	tags[(*n)++] = own;
	used = (size_t)len + 1;
	if (r->froze) {
		hook_status_text(&r->freeze, status, sizeof(status));
		len = snprintf(own + used, own_len - used,
			       "ferry.hook.freeze=%s", status);
		tags[(*n)++] = own + used;
		used += (size_t)len + 1;
	}
	if (r->sessioned) {
		snprintf(own + used, own_len - used, "ferry.session.quiesce=%s",
			 r->sess.quiesce.status);
		tags[(*n)++] = own + used;
	}
	return 0;
}

/* ferry.hook.thaw and ferry.session.release, known after the snapshot. */
static void set_after_tags(struct kapi *k, struct run *r,
			   struct snap_list *list)
{
	char kv[2][64], status[16];
	char *tags[2];
	struct ferr e;
	size_t i, j, n = 0;

	if (r->froze) {
		hook_status_text(&r->thaw, status, sizeof(status));
		snprintf(kv[n], sizeof(kv[n]), "ferry.hook.thaw=%s", status);
		tags[n] = kv[n];
		n++;
	}
	if (r->sessioned) {
		snprintf(kv[n], sizeof(kv[n]), "ferry.session.release=%s",
			 r->sess.release.status[0] ? r->sess.release.status :
						     "none");
		tags[n] = kv[n];
		n++;
	}
	if (!n)
		return;
	for (i = 0; i < list->n; i++) {
		struct ferry_snap_info *s = &list->s[i];

		if (snap_set_tags(k, s->volume, s->id, tags, n, &e)) {
			ferry_warn("snapshot", "%s", e.msg);
			continue;
		}
		for (j = 0; j < n && s->ntags < FERRY_TAGS_MAX; j++) {
			tag_parse(kv[j], &s->tags[s->ntags], &e);
			s->ntags++;
		}
		snap_sort_tags(s);
	}
}

static int snapshot_with_points(struct ferry_ctx *ctx, struct run *r,
				struct catalog *c, struct kapi *k,
				struct snap_list *list, struct ferr *e)
{
	const struct snapshot_args *a = r->a;
	struct label_input in = { .hook_given = a->hook || a->session,
				  .accept_lower = a->accept_lower,
				  .requested = a->label };
	char *tags[FERRY_TAGS_MAX], own[512], why[256], note[300];
	enum ferry_label label;
	size_t ntags = 0;
	int err, sig;

	in.fs_mounted = all_mounted(k, a, c, e);
	/* A --label above what can be claimed fails before any hook runs. */
	in.freeze_ok = in.hook_given;
	err = label_decide(&in, &label, e);
	if (err)
		return err;
	err = point_id_new(r->point, sizeof(r->point), e);
	if (err)
		return err;
	if (a->hook) {
		r->froze = true;
		hook_run(&r->spec, "freeze", &hook_stop_signal, &r->freeze);
		in.freeze_ok = hook_ok(&r->freeze);
		if (hook_stop_signal) {
			sig = hook_stop_signal;
			run_thaw(r);
			thaw_note(r, note, sizeof(note));
			return ferr_set(
				e, -EINTR,
				"interrupted by %s during the freeze hook: no point taken%s",
				signame(sig), note);
		}
	}
	/* A session quiesces only an application the hook has frozen. */
	if (a->session && in.freeze_ok) {
		r->sessioned = true;
		if (!session_start(&r->sess, &r->sspec))
			session_quiesce(&r->sess, &hook_stop_signal);
		in.freeze_ok = r->sess.quiesce.ok;
		if (hook_stop_signal) {
			sig = hook_stop_signal;
			run_unquiesce(r);
			thaw_note(r, note, sizeof(note));
			return ferr_set(
				e, -EINTR,
				"interrupted by %s during the quiesce session: no point taken%s",
				signame(sig), note);
		}
	}
	err = label_decide(&in, &label, e);
	if (err == -ECANCELED) {
		run_unquiesce(r);
		freeze_failure(r, why, sizeof(why));
		thaw_note(r, note, sizeof(note));
		return ferr_set(
			e, err,
			"%s: no point taken%s (--accept-lower-label takes a %s point)",
			why, note, in.fs_mounted ? "filesystem" : "crash");
	}
	if (!err)
		err = build_tags(r, tags, &ntags, own, sizeof(own), e);
	if (!err)
		err = snap_take(k, a, tags, ntags, label_name(label), list, e);
	run_unquiesce(r);
	if (err) {
		thaw_note(r, note, sizeof(note));
		if (note[0] && strlen(e->msg) + strlen(note) < sizeof(e->msg))
			strcat(e->msg, note);
		return err;
	}
	set_after_tags(k, r, list);
	err = store_points(c, r, list, e);
	if (err)
		return err;
	if ((r->froze || r->sessioned) && !in.freeze_ok) {
		freeze_failure(r, why, sizeof(why));
		ferry_warn(
			ctx->cmd,
			"%s: point %s taken with label %s (--accept-lower-label)",
			why, r->point, label_name(label));
	}
	if (r->sessioned && r->sess.quiesce.ok && !r->sess.release.ok) {
		session_failure_text(&r->sess.release, why, sizeof(why));
		ferry_warn(
			ctx->cmd,
			"the quiesce session's release %s: point %s kept; check the application",
			why, r->point);
	}
	if (r->froze && !hook_ok(&r->thaw)) {
		hook_failure_text(&r->thaw, why, sizeof(why));
		ferry_warn(
			ctx->cmd,
			"the thaw hook %s: point %s kept; check the application",
			why, r->point);
	}
	return 0;
}

/* Takes the point into @r and @list; the thaw hook has run on return. */
static int take(struct ferry_ctx *ctx, const struct snapshot_args *a,
		struct run *r, struct snap_list *list, struct ferr *e)
{
	struct catalog *c = NULL;
	struct kapi *k = NULL;
	size_t i, used = 0;
	int err, sig;

	r->a = a;
	r->t0 = mono_ms();
	r->spec.cmd = a->hook;
	r->spec.shell = a->hook_shell;
	r->spec.timeout_ms = a->hook_timeout_ms;
	for (i = 0; i < a->nnames && used < sizeof(r->volumes); i++)
		used += snprintf(r->volumes + used, sizeof(r->volumes) - used,
				 "%s%s", i ? " " : "", a->names[i]);
	r->spec.volumes = r->volumes;
	r->sspec.cmd = a->session;
	r->sspec.shell = a->hook_shell;
	r->sspec.timeout_ms = a->session_timeout_ms;
	r->sspec.volumes = r->volumes;
	if (a->hook || a->session)
		hook_signals_catch();
	err = catalog_open(ctx->state_dir, &c, e);
	if (!err)
		err = kapi_open(&k, e);
	if (!err)
		err = snapshot_with_points(ctx, r, c, k, list, e);
	run_unquiesce(r); /* never skipped once freeze or session started */
	kapi_close(k);
	catalog_close(c);
	sig = hook_stop_signal;
	if (a->hook || a->session)
		hook_signals_restore();
	if (!err && sig)
		err = ferr_set(
			e, -EINTR,
			"interrupted by %s: point %s was taken and kept; the %s",
			signame(sig), r->point,
			a->hook ? "thaw hook ran" : "session was released");
	return err;
}

int point_take(struct ferry_ctx *ctx, const struct snapshot_args *a,
	       struct snap_list *list, struct ferr *e)
{
	struct run *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return ferr_set(e, -ENOMEM, "out of memory");
	err = take(ctx, a, r, list, e);
	free(r);
	return err;
}

int point_snapshot(struct ferry_ctx *ctx, const struct snapshot_args *a)
{
	struct run r = { .a = a };
	struct snap_list list = { 0 };
	struct ferr e = { { 0 } };
	int err;

	err = take(ctx, a, &r, &list, &e);
	if (!err && snapshot_print(ctx, &r, &list))
		err = ferr_set(&e, -EIO, "cannot write the output");
	snap_list_free(&list);
	if (err)
		return cmd_fail(ctx, &e);
	return EXIT_OK;
}
