// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: ferry daemon: each group's schedule (configuration file):
 * take a point the way "ferry snapshot" does (hooks, honest label,
 * catalog), then prune the group's volumes by its retention; and each
 * replication pair's: a round as "ferry replicate --once" runs it (the
 * point with the hook and quiesce session of the volume's group), with
 * the backlog of backlog.h while the second site cannot be reached. One
 * timestamped line per action on stdout.
 *
 * One thread, one loop over every schedule, the earliest due first: a
 * round cannot hold the others up for longer than its deadline (the
 * pair's timeout, hooks their hook_timeout); a failed round is retried
 * at the pair's next tick. SIGTERM or SIGINT: the point or round in
 * progress is finished (or, during a freeze hook, abandoned with the
 * thaw hook run), then the daemon exits 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "cli.h"
#include "cmd_common.h"
#include "cmd_repl.h"
#include "commands.h"
#include "conf.h"
#include "duration.h"
#include "hook.h"
#include "pair_state.h"
#include "point.h"
#include "prune.h"
#include "snap_kapi.h"

const char daemon_usage[] =
	"usage: ferry daemon [--config FILE] [--once]\n"
	"  Run each group's schedule: take a point (with the group's hook),\n"
	"  then prune by the group's retention; and each replication pair's:\n"
	"  a round to the second site, points queued while it is down;\n"
	"  log one line per action.\n"
	"  --once  run every group and pair once, then exit\n";

enum { OPT_ONCE = 0x500 };

static volatile sig_atomic_t daemon_stop;

static void on_stop(int sig)
{
	daemon_stop = sig;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void logf_(const char *fmt, ...)
{
	char when[40];
	va_list ap;

	format_rfc3339(now_ns(CLOCK_REALTIME), when, sizeof(when));
	printf("%s ", when);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static int daemon_parse(struct ferry_ctx *ctx, int argc, char **argv,
			bool *once, struct ferr *e)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, OPT_ONCE },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*once = false;
	cli_getopt_reset();
	while ((c = cli_getopt(argc, argv, opts, e)) != -1) {
		if (c < 0)
			return c;
		if (c == OPT_HELP)
			return CLI_HELP;
		if (cli_common_opt(ctx, c, optarg))
			continue;
		if (c == OPT_ONCE)
			*once = true;
	}
	if (optind < argc)
		return ferr_set(e, -EINVAL, "unexpected argument '%s'",
				argv[optind]);
	return 0;
}

static void log_fix(const char *line, void *arg)
{
	logf_("reconcile %s: %s", (const char *)arg, line);
}

/* Brings the catalog in line with the kernel for each configured volume. */
static void reconcile_all(const struct ferry_ctx *ctx, const struct conf *cf)
{
	struct catalog *c = NULL;
	struct kapi *k = NULL;
	struct ferr e;
	size_t i;

	if (catalog_open(ctx->state_dir, &c, &e) || kapi_open(&k, &e)) {
		logf_("reconcile: %s", e.msg);
		catalog_close(c);
		return;
	}
	for (i = 0; i < cf->nvolumes; i++) {
		const struct conf_volume *v = &cf->volumes[i];
		struct snap_list list = { 0 };

		if (snap_dump(k, v->name, &list, &e))
			logf_("reconcile %s: %s", v->name, e.msg);
		else if (!catalog_volume_seen(c, v->name, v->data, v->cow,
					      &e) &&
			 catalog_reconcile(c, v->name, &list, log_fix,
					   (void *)v->name, &e) < 0)
			logf_("reconcile %s: %s", v->name, e.msg);
		snap_list_free(&list);
	}
	kapi_close(k);
	catalog_close(c);
}

struct prune_log {
	const char *group;
	size_t kept, deleted, failed;
};

static void log_decision(const char *volume, const struct retention_point *p,
			 const char *error, void *arg)
{
	struct prune_log *pl = arg;
	char line[256];

	if (p->keep) {
		pl->kept++;
		return;
	}
	prune_line(p, line, sizeof(line));
	if (error) {
		pl->failed++;
		logf_("group %s: prune %s: %s: failed: %s", pl->group, volume,
		      line, error);
	} else {
		pl->deleted++;
		logf_("group %s: prune %s: %s", pl->group, volume, line);
	}
}

static int prune_group(const struct ferry_ctx *ctx, const struct conf_group *g)
{
	struct prune_log pl = { .group = g->name };
	struct catalog *c = NULL;
	struct kapi *k = NULL;
	struct ferr e;
	size_t i;
	int err, bad = 0;

	if (catalog_open(ctx->state_dir, &c, &e) || kapi_open(&k, &e)) {
		logf_("group %s: prune: %s", g->name, e.msg);
		catalog_close(c);
		return -1;
	}
	for (i = 0; i < g->nnames; i++) {
		pl.kept = pl.deleted = pl.failed = 0;
		err = prune_volume(ctx->state_dir, k, c, g->names[i],
				   &g->retention, now_ns(CLOCK_REALTIME), false,
				   log_decision, &pl, &e);
		if (err < 0) {
			logf_("group %s: prune %s: %s", g->name, g->names[i],
			      e.msg);
			bad = -1;
			continue;
		}
		if (err)
			bad = -1;
		logf_("group %s: prune %s: kept %zu, deleted %zu%s", g->name,
		      g->names[i], pl.kept, pl.deleted,
		      pl.failed ? ", some deletes failed" : "");
	}
	kapi_close(k);
	catalog_close(c);
	return bad;
}

/* One scheduled run of @g: a point, then pruning. 0 or -1. */
static int run_group(struct ferry_ctx *ctx, const struct conf_group *g)
{
	struct snap_list list = { 0 };
	struct snapshot_args a;
	struct ferr e = { { 0 } };
	size_t i;
	int err;

	conf_group_snapshot_args(g, &a);
	err = point_take(ctx, &a, &list, &e);
	if ((g->hook || g->session) && hook_stop_signal)
		daemon_stop = hook_stop_signal;
	for (i = 0; i < list.n; i++) {
		const struct ferry_snap_info *s = &list.s[i];
		char dev[64];

		snap_device_path(s, dev, sizeof(dev));
		logf_("group %s: point %s: %s snapshot %" PRIu32 " %s label %s",
		      g->name, snap_tag(s, FERRY_POINT_TAG) ?: "-", s->volume,
		      s->id, dev[0] ? dev : "-", s->label);
	}
	snap_list_free(&list);
	if (err)
		logf_("group %s: snapshot failed: %s", g->name, e.msg);
	if (g->has_retention && prune_group(ctx, g))
		err = -1;
	return err ? -1 : 0;
}

/* An action of a pair's round: the log, and the pair's event log. */
static void pair_note(void *arg, const char *volume, const char *event,
		      const char *message)
{
	const struct ferry_ctx *ctx = arg;

	logf_("replicate %s: %s: %s", volume, event, message);
	pair_event_append(ctx->state_dir, volume, event, message);
}

/* The arguments of pair @r's rounds, with the hook and session of its group. */
static void pair_args(struct ferry_ctx *ctx, const struct conf *cf,
		      const struct conf_repl *r, struct replicate_args *a)
{
	const struct conf_group *g = conf_group_of(cf, r->volume);

	memset(a, 0, sizeof(*a));
	a->ctx = ctx;
	a->name = r->volume;
	a->to = r->to;
	a->once = true;
	a->timeout_ms = (int)(r->timeout_s * 1000);
	a->compress_level = r->compress_level;
	if (g && (g->hook || g->session)) {
		a->hook = g->hook;
		a->hook_shell = g->hook_shell;
		a->hook_timeout_ms = g->hook_timeout_ms;
		a->accept_lower = g->accept_lower;
		a->session = g->session;
		a->session_timeout_ms = g->session_timeout_ms;
	}
	a->backlog = true;
	a->limits.max_queued = r->max_queued;
	a->limits.max_cow_percent = r->max_cow_percent;
	a->note = pair_note;
	a->note_arg = ctx;
}

/* One round of pair @r. 0 or -1. */
static int run_pair(struct ferry_ctx *ctx, const struct conf *cf,
		    const struct conf_repl *r)
{
	struct replicate_result res;
	struct replicate_args a;
	struct ferr e = { { 0 } };
	char msg[sizeof(e.msg) + 128];
	int err;

	pair_args(ctx, cf, r, &a);
	err = replicate_round(ctx, &a, &res, &e);
	if ((a.hook || a.session) && hook_stop_signal)
		daemon_stop = hook_stop_signal;
	if (err) {
		snprintf(msg, sizeof(msg), "%s: %s; %zu point(s) queued",
			 res.link_down ? "link down" : "round failed", e.msg,
			 res.queued);
		logf_("replicate %s: %s", r->volume, msg);
		pair_event_append(ctx->state_dir, r->volume,
				  res.link_down ? "link-down" : "failed", msg);
		return -1;
	}
	snprintf(msg, sizeof(msg),
		 "point %s at %s: %s%s%s%s, sent %" PRIu64
		 " bytes (changed %" PRIu64
		 ") in %.1f s, replica snapshot %" PRIu32,
		 res.point, r->to, res.full ? "full" : "incremental",
		 res.why ? " (" : "", res.why ? res.why : "",
		 res.why ? ")" : "", res.bytes_sent, res.bytes_changed,
		 res.seconds, res.replica_snap_id);
	logf_("replicate %s: acked: %s", r->volume, msg);
	pair_event_append(ctx->state_dir, r->volume, "acked", msg);
	return 0;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	/* A netlink call in progress completes; sleeps are cut short. */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Sleeps until @until (CLOCK_MONOTONIC ns) or a signal. */
static void sleep_until(uint64_t until)
{
	struct timespec ts = { .tv_sec = (time_t)(until / 1000000000ULL),
			       .tv_nsec = (long)(until % 1000000000ULL) };

	if (!daemon_stop)
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* A schedule of the loop: group @idx's or pair @idx's. */
struct job {
	bool pair;
	size_t idx;
	uint64_t every_s;
	uint64_t next; /* CLOCK_MONOTONIC ns */
	bool active;
};

static const char *job_name(const struct conf *cf, const struct job *j)
{
	return j->pair ? cf->repl[j->idx].volume : cf->groups[j->idx].name;
}

/* The jobs of @cf: every scheduled group, every pair. Returns the count. */
static size_t jobs_of(struct ferry_ctx *ctx, const struct conf *cf, bool once,
		      struct job *jobs)
{
	uint64_t now = now_ns(CLOCK_MONOTONIC);
	struct replicate_args a;
	char every[32];
	size_t i, n = 0;

	for (i = 0; i < cf->ngroups; i++) {
		const struct conf_group *g = &cf->groups[i];

		if (!g->every_s && !once) {
			logf_("group %s: no schedule, not run", g->name);
			continue;
		}
		format_duration(g->every_s, every, sizeof(every));
		if (!once)
			logf_("group %s: every %s: %zu volume(s)%s%s%s%s",
			      g->name, every, g->nnames,
			      g->hook ? ", hook " : "", g->hook ?: "",
			      g->session ? ", session " : "", g->session ?: "");
		jobs[n++] = (struct job){ .idx = i,
					  .every_s = g->every_s,
					  .next = now,
					  .active = true };
	}
	for (i = 0; i < cf->nrepl; i++) {
		const struct conf_repl *r = &cf->repl[i];

		pair_args(ctx, cf, r, &a);
		format_duration(r->every_s, every, sizeof(every));
		logf_("replicate %s: to %s every %s, max %u queued, CoW store max %u%%%s%s%s%s",
		      r->volume, r->to, every, r->max_queued,
		      r->max_cow_percent, a.hook ? ", hook " : "", a.hook ?: "",
		      a.session ? ", session " : "", a.session ?: "");
		jobs[n++] = (struct job){ .pair = true,
					  .idx = i,
					  .every_s = r->every_s,
					  .next = now,
					  .active = true };
	}
	return n;
}

static int daemon_loop(struct ferry_ctx *ctx, const struct conf *cf, bool once)
{
	struct job jobs[CONF_GROUPS_MAX + CONF_REPL_MAX], *j;
	size_t i, best, njobs;
	int failed = 0, err;
	uint64_t now;

	njobs = jobs_of(ctx, cf, once, jobs);
	if (!njobs) {
		logf_("no group has a schedule and no pair is configured");
		return 0;
	}
	while (!daemon_stop) {
		best = njobs;
		for (i = 0; i < njobs; i++)
			if (jobs[i].active &&
			    (best == njobs || jobs[i].next < jobs[best].next))
				best = i;
		if (best == njobs)
			break; /* --once: all done */
		j = &jobs[best];
		now = now_ns(CLOCK_MONOTONIC);
		if (j->next > now) {
			sleep_until(j->next);
			continue;
		}
		if (j->pair)
			err = run_pair(ctx, cf, &cf->repl[j->idx]);
		else
			err = run_group(ctx, &cf->groups[j->idx]);
		if (err)
			failed++;
		if (once) {
			j->active = false;
			continue;
		}
		j->next += j->every_s * 1000000000ULL;
		now = now_ns(CLOCK_MONOTONIC);
		if (j->next <= now) {
			/* Overran: skip the missed runs, do not pile up. */
			logf_("%s %s: behind schedule, next run in one period",
			      j->pair ? "replicate" : "group", job_name(cf, j));
			j->next = now + j->every_s * 1000000000ULL;
		}
	}
	return failed;
}

int cmd_daemon(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct ferr e = { { 0 } };
	struct conf *cf = NULL;
	char text[600];
	bool once;
	int err, failed;

	err = daemon_parse(ctx, argc, argv, &once, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, daemon_usage);
	if (ctx_prepare(ctx, true, &e))
		return cmd_fail(ctx, &e);
	err = conf_load(ctx->config_path, true, &cf, &e);
	if (!err && cf->nerrors) {
		conf_error_text(cf, 0, text, sizeof(text));
		err = ferr_set(&e, -EINVAL,
			       "%s (%zu error(s); see ferry config check)",
			       text, cf->nerrors);
	}
	if (!err && !cf->ngroups && !cf->nrepl)
		err = ferr_set(&e, -EINVAL,
			       "%s: no groups or replication pairs configured",
			       cf->path);
	if (err) {
		conf_free(cf);
		return cmd_fail(ctx, &e);
	}
	daemon_stop = 0;
	catch_signals();
	logf_("daemon started: %s, %zu group(s), %zu replication pair(s), state %s%s",
	      cf->path, cf->ngroups, cf->nrepl, ctx->state_dir,
	      once ? ", once" : "");
	reconcile_all(ctx, cf);
	failed = daemon_loop(ctx, cf, once);
	if (daemon_stop)
		logf_("daemon stopped by %s",
		      daemon_stop == SIGTERM ? "SIGTERM" :
		      daemon_stop == SIGINT  ? "SIGINT" :
					       "a signal");
	else
		logf_("daemon done");
	conf_free(cf);
	if (once && failed) {
		ferr_set(&e, -EIO,
			 "%d group run(s) or round(s) failed (see the log)",
			 failed);
		return cmd_fail(ctx, &e);
	}
	return EXIT_OK;
}
