// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: watch, the tag monitor of the second site. It subscribes
 * to the kernel's events and runs a fire drill on a snapshot of NAME
 * whenever that snapshot's drill tag (default "drill") is set to a
 * request (any value but "" and "done"); afterwards it sets KEY=done.
 * Its own tags (KEY.result, ..., KEY=done) never trigger a drill. When
 * the kernel dropped events (ENOBUFS), and once at the start, it re-reads
 * every snapshot's tags and drills those still requested. With --every,
 * the same thread also drills the newest live snapshot on a schedule.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/ferry.h>

#include "cli.h"
#include "cmd_common.h"
#include "cmd_drill.h"
#include "cmd_snap.h"
#include "commands.h"
#include "conn.h"
#include "drill.h"
#include "duration.h"
#include "hook.h"
#include "kapi.h"
#include "repl_kapi.h"
#include "snap_kapi.h"
#include "snap_nl.h"

const char watch_usage[] =
	"usage: ferry watch NAME [--drill-tag KEY] [--check CMD] [--timeout S]\n"
	"                   [--budget SIZE] [--every DURATION] [--once] [--json]\n"
	"  Run a fire drill on a snapshot of NAME when its tag KEY (default\n"
	"  drill) is set to a request (e.g. drill=requested); then set KEY=done.\n"
	"  --every D      also drill the newest live snapshot every D (30s, 1h,\n"
	"                 1d...), unless it was drilled since the last time\n"
	"  --once         exit after one drill\n";

#define WATCH_QUEUE_MAX 64

struct watch_queue {
	const char *name;
	const char *key;
	uint32_t id[WATCH_QUEUE_MAX];
	size_t n;
	bool rescan;
};

static void queue_add(struct watch_queue *q, uint32_t id)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		if (q->id[i] == id)
			return;
	if (q->n == WATCH_QUEUE_MAX) {
		q->rescan = true; /* the scan finds it again */
		return;
	}
	q->id[q->n++] = id;
}

static int on_event(struct nl_msg *msg, void *arg, struct ferr *e)
{
	struct watch_queue *q = arg;
	struct ferry_event_info ev;
	int err = event_from_msg(msg, &ev, e);

	if (err)
		return err < 0 ? 0 : 0; /* a bad event is not the watch's end */
	if (ev.event != FERRY_EVENT_TAG_CHANGED || strcmp(ev.name, q->name) ||
	    !ev.snap_id || !ev.has_tag)
		return 0;
	if (drill_tag_triggers(ev.tag, q->key))
		queue_add(q, ev.snap_id);
	return 0;
}

/* Every snapshot still requested goes into the queue. */
static int rescan(struct watch_queue *q, struct ferr *e)
{
	struct snap_list list = { 0 };
	struct kapi *k;
	size_t i;
	int err;

	q->rescan = false;
	err = kapi_open(&k, e);
	if (err)
		return err;
	err = snap_dump(k, q->name, &list, e);
	kapi_close(k);
	for (i = 0; !err && i < list.n; i++)
		if (drill_snap_requested(&list.s[i], q->key))
			queue_add(q, list.s[i].id);
	snap_list_free(&list);
	return err;
}

/* Still requested (a rescan and an event may name it twice)? */
static bool still_requested(const char *name, uint32_t id, const char *key)
{
	struct ferry_snap_info *s = calloc(1, sizeof(*s));
	struct kapi *k;
	struct ferr e;
	bool yes = false;

	if (!s)
		return false;
	if (!kapi_open(&k, &e)) {
		if (!rk_get_snapshot(k, name, id, s, &e))
			yes = drill_snap_requested(s, key);
		kapi_close(k);
	}
	free(s);
	return yes;
}

static void mark_done(const char *name, uint32_t id, const char *key)
{
	char kv[FERRY_TAG_KEY_MAX + 8], *p = kv;
	struct kapi *k = NULL;
	struct ferr e = { { 0 } };

	snprintf(kv, sizeof(kv), "%s=%s", key, DRILL_TAG_DONE);
	if (kapi_open(&k, &e) || snap_set_tags(k, name, id, &p, 1, &e))
		ferry_warn("watch", "%s: cannot tag snapshot %" PRIu32 ": %s",
			   name, id, e.msg);
	kapi_close(k);
}

static bool stopped(const struct drill_watch *w)
{
	return hook_stop_signal || (w->stop && *w->stop);
}

static void print_result(const struct drill_record *r, const char *how)
{
	printf("%s snapshot %" PRIu32 " point %s: %sdrill %s%s%s%s in "
	       "%.1f s\n",
	       r->volume, r->snap_id, r->point, how, r->pass ? "pass" : "fail",
	       r->pass ? "" : " (", r->pass ? "" : r->reason,
	       r->pass ? "" : ")", r->seconds);
	fflush(stdout);
}

/* The drills of the queue, oldest request first. */
static int run_queue(struct drill_watch *w, struct watch_queue *q)
{
	struct drill_record *r = calloc(1, sizeof(*r));
	struct drill_opts o = w->opts;
	struct ferr e = { { 0 } };
	int err = 0;

	if (!r)
		return ferr_set(&w->err, -ENOMEM, "out of memory");
	while (q->n && !stopped(w) &&
	       !(w->max_drills && w->drills >= w->max_drills)) {
		uint32_t id = q->id[0];

		memmove(q->id, q->id + 1, --q->n * sizeof(q->id[0]));
		if (!still_requested(o.name, id, o.key))
			continue;
		o.id = id;
		o.point = NULL;
		err = drill_run(w->ctx, &o, r, &e);
		if (err == -EINTR)
			break;
		if (err) {
			ferry_warn("watch",
				   "%s: drill of snapshot %" PRIu32
				   " did not run: %s",
				   o.name, id, e.msg);
			err = 0;
			mark_done(o.name, id, o.key);
			continue;
		}
		mark_done(o.name, id, o.key);
		w->drills++;
		print_result(r, "");
	}
	free(r);
	return err;
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * The scheduled drill: the newest live snapshot that is not a clone,
 * unless it was drilled since *@since_ns (the end of the last scheduled
 * run), which becomes now. Only an interrupt (-EINTR) ends the watch: a
 * drill that could not start is logged and waits for the next turn.
 */
static int sched_run(struct drill_watch *w, uint64_t *since_ns)
{
	struct snap_list list = { 0 };
	struct drill_opts o = w->opts;
	struct drill_record *r = NULL;
	struct ferry_snap_info *s;
	struct ferr e = { { 0 } };
	struct kapi *k;
	char at[FERRY_TAG_KEY_MAX + 8];
	int i, err;

	err = kapi_open(&k, &e);
	if (!err) {
		err = snap_dump(k, o.name, &list, &e);
		kapi_close(k);
	}
	i = err ? err : drill_pick(&list, o.name, 0, NULL, &e);
	if (i < 0) {
		ferry_warn("watch", "%s: scheduled drill skipped: %s", o.name,
			   e.msg);
		err = 0;
		goto out;
	}
	s = &list.s[i];
	if (drill_sched_skip(s, o.key, *since_ns)) {
		snprintf(at, sizeof(at), "%s.at", o.key);
		printf("%s snapshot %" PRIu32 ": scheduled drill skipped, "
		       "drilled at %s\n",
		       o.name, s->id, snap_tag(s, at));
		fflush(stdout);
		err = 0;
		goto out;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		err = ferr_set(&w->err, -ENOMEM, "out of memory");
		goto out;
	}
	o.id = s->id;
	o.point = NULL;
	err = drill_run(w->ctx, &o, r, &e);
	if (err == -EINTR)
		goto out;
	if (err) {
		ferry_warn("watch",
			   "%s: scheduled drill of snapshot %" PRIu32
			   " did not run: %s",
			   o.name, s->id, e.msg);
		err = 0;
		goto out;
	}
	w->drills++;
	print_result(r, "scheduled ");
out:
	*since_ns = real_ns();
	free(r);
	snap_list_free(&list);
	return err;
}

static bool watch_done(const struct drill_watch *w)
{
	return stopped(w) || (w->max_drills && w->drills >= w->max_drills);
}

int drill_watch_run(struct drill_watch *w)
{
	struct watch_queue q = { .name = w->opts.name, .key = w->opts.key };
	long long every_ms = (long long)w->every_s * 1000, due = 0, left;
	uint64_t since = real_ns();
	struct kapi *ev = NULL;
	int err, wait_ms;

	w->result = 0;
	err = kapi_open(&ev, &w->err);
	if (!err)
		err = kapi_subscribe(ev, FERRY_GENL_NAME, FERRY_MCGRP_EVENTS,
				     &w->err);
	/* Subscribed first: a request made during the scan is an event. */
	if (!err)
		err = rescan(&q, &w->err);
	if (every_ms)
		due = mono_ms() + every_ms;
	while (!err && !watch_done(w)) {
		err = run_queue(w, &q);
		if (err || watch_done(w))
			break;
		if (due && mono_ms() >= due) {
			err = sched_run(w, &since);
			/* A drill longer than the period: a full one after. */
			due += every_ms;
			if (due <= mono_ms())
				due = mono_ms() + every_ms;
			continue;
		}
		wait_ms = 500;
		if (due) {
			left = due - mono_ms();
			if (left < wait_ms)
				wait_ms = left > 0 ? (int)left : 1;
		}
		err = kapi_listen(ev, wait_ms, on_event, &q, &w->err);
		if (err == -ENOBUFS) {
			/* Events were lost: the tags are the truth. */
			w->err.msg[0] = '\0';
			err = rescan(&q, &w->err);
		} else if (err == -EINTR) {
			err = 0;
		} else if (err > 0) {
			err = 0;
		}
		if (!err && q.rescan)
			err = rescan(&q, &w->err);
	}
	kapi_close(ev);
	w->result = err;
	return err;
}

static void *watch_thread(void *arg)
{
	drill_watch_run(arg);
	return NULL;
}

int drill_watch_start(struct drill_watch *w, struct ferr *e)
{
	int err = pthread_create(&w->thread, NULL, watch_thread, w);

	if (err)
		return ferr_set(e, -err, "cannot start the drill watch: %s",
				strerror(err));
	return 0;
}

enum {
	OPT_CHECK = 0x500,
	OPT_TIMEOUT,
	OPT_BUDGET,
	OPT_DRILL_TAG,
	OPT_ONCE,
	OPT_VERBOSE,
	OPT_EVERY,
};

int cmd_watch(struct ferry_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "check", required_argument, NULL, OPT_CHECK },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "budget", required_argument, NULL, OPT_BUDGET },
		{ "drill-tag", required_argument, NULL, OPT_DRILL_TAG },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "every", required_argument, NULL, OPT_EVERY },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct drill_watch w;
	struct ferr e = { { 0 } }, why;
	int c, err;

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	w.opts.timeout_ms = DRILL_DEFAULT_TIMEOUT_MS;
	w.opts.key = DRILL_TAG_DEFAULT;
	cli_getopt_reset();
	while ((c = cli_getopt(argc, argv, opts, &e)) != -1) {
		if (c < 0)
			return cmd_parse_exit(ctx, c, &e, watch_usage);
		if (c == OPT_HELP)
			return cmd_parse_exit(ctx, CLI_HELP, &e, watch_usage);
		if (cli_common_opt(ctx, c, optarg))
			continue;
		err = 0;
		switch (c) {
		case OPT_CHECK:
			if (!*optarg)
				err = ferr_set(&e, -EINVAL,
					       "--check: empty command");
			w.opts.check = optarg;
			break;
		case OPT_TIMEOUT:
			if (parse_seconds(optarg, &w.opts.timeout_ms, &why))
				err = ferr_set(&e, -EINVAL, "--timeout: %s",
					       why.msg);
			break;
		case OPT_BUDGET:
			if (parse_size(optarg, &w.opts.budget, &why) ||
			    !w.opts.budget)
				err = ferr_set(&e, -EINVAL,
					       "--budget: invalid size '%s'",
					       optarg);
			break;
		case OPT_DRILL_TAG:
			err = drill_key_check(optarg, &e);
			w.opts.key = optarg;
			break;
		case OPT_ONCE:
			w.max_drills = 1;
			break;
		case OPT_EVERY:
			if (parse_duration(optarg, &w.every_s, &why))
				err = ferr_set(&e, -EINVAL, "--every: %s",
					       why.msg);
			else if (!w.every_s)
				err = ferr_set(&e, -EINVAL,
					       "--every: must be more than 0");
			break;
		case OPT_VERBOSE:
			w.opts.verbose = true;
			break;
		}
		if (err)
			return cmd_parse_exit(ctx, err, &e, watch_usage);
	}
	err = cmd_name_operand(argc, argv, true, &w.opts.name, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, watch_usage);
	if (ctx_prepare(ctx, true, &e))
		return cmd_fail(ctx, &e);
	hook_signals_catch();
	err = drill_watch_run(&w);
	hook_signals_restore();
	if (err)
		return cmd_fail(ctx, &w.err);
	return EXIT_OK;
}
