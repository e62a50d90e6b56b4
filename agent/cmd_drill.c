// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: drill and drills. A drill clones a snapshot (a writable
 * snapshot of it, FERRY_CMD_CLONE), runs a check on the clone under a
 * deadline and a space budget, then always tears down: kill the check's
 * process group, unmount every mount of the clone, remove the temporary
 * directory, delete the clone; then records the result in the catalog
 * and as drill.* tags on the snapshot.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <linux/ferry.h>

#include "blockdev.h"
#include "cli.h"
#include "cmd_common.h"
#include "cmd_drill.h"
#include "cmd_snap.h"
#include "commands.h"
#include "drill.h"
#include "hook.h"
#include "json_out.h"
#include "kapi.h"
#include "label.h"
#include "repl_kapi.h"
#include "snap_kapi.h"
#include "snap_nl.h"

const char drill_usage[] =
	"usage: ferry drill NAME [SNAPID|POINT] [--check CMD] [--timeout S]\n"
	"                   [--budget SIZE] [--drill-tag KEY] [--json]\n"
	"  Fire drill at the second site: clone the snapshot (default: the\n"
	"  newest live one), run the check on the clone, tear the clone down,\n"
	"  record the result and tag the snapshot KEY.result=pass|fail.\n"
	"  --check CMD    run by /bin/sh -c with the clone's device as \"$1\"\n"
	"                 (default: fsck (e2fsck -fn / xfs_repair -n) + mount)\n"
	"  --timeout S    longest time the check may take (default 1800)\n"
	"  --budget SIZE  CoW space the drill may use (default: half the free)\n"
	"  --drill-tag KEY  prefix of the result tags (default drill)\n";

const char drills_usage[] = "usage: ferry drills NAME [--json]\n"
			    "  List the recorded drills of volume NAME.\n";

enum {
	OPT_CHECK = 0x400,
	OPT_TIMEOUT,
	OPT_BUDGET,
	OPT_DRILL_TAG,
	OPT_VERBOSE,
};

/* How often the budget is checked while the check runs. */
#define BUDGET_POLL_MS 250
#define NODE_TIMEOUT_MS 5000

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- one drill ---- */

struct drill {
	const struct ferry_ctx *ctx;
	const struct drill_opts *o;
	struct kapi *k;
	struct drill_state st;
	struct drill_budget budget;
	char clone_dev[64];
	dev_t clone_rdev;
	char dir[64];
	uint32_t clone_id;
	pid_t pid; /* the running check, its process group */
	uint64_t deadline; /* mono_ms */
	uint64_t cow_peak;
	struct drill_record *r;
	size_t out_len;
};

static void note(const struct drill *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(const struct drill *d, const char *fmt, ...)
{
	va_list ap;

	if (!d->o->verbose)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "ferry: drill: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void fail_reason(struct drill *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The first failure is the drill's reason. */
static void fail_reason(struct drill *d, const char *fmt, ...)
{
	va_list ap;

	if (!d->r->pass && d->r->reason[0])
		return;
	d->r->pass = false;
	va_start(ap, fmt);
	vsnprintf(d->r->reason, sizeof(d->r->reason), fmt, ap);
	va_end(ap);
}

static void keep_output(struct drill *d, const char *buf, size_t n)
{
	size_t room = DRILL_OUTPUT_MAX - d->out_len;

	if (n > room)
		n = room;
	memcpy(d->r->output + d->out_len, buf, n);
	d->out_len += n;
	d->r->output[d->out_len] = '\0';
}

static int add_one(struct nl_msg *msg, void *arg, struct ferr *e)
{
	struct ferry_snap_info *s = snap_list_add(arg);

	if (!s)
		return ferr_set(e, -ENOMEM, "out of memory");
	return snap_from_msg(msg, s, e);
}

/* FERRY_CMD_CLONE; the clone's id and device into @d. */
static int make_clone(struct drill *d, uint32_t id, struct ferr *e)
{
	struct snap_list list = { 0 };
	struct nl_msg *msg = kapi_msg(d->k, FERRY_CMD_CLONE, 0);
	struct stat sb;
	int err;

	if (!msg)
		return ferr_set(e, -ENOMEM, "out of memory");
	if (nla_put_string(msg, FERRY_ATTR_NAME, d->o->name) < 0 ||
	    nla_put_u32(msg, FERRY_ATTR_SNAP_ID, id) < 0) {
		nlmsg_free(msg);
		return ferr_set(e, -EMSGSIZE, "request too large");
	}
	err = kapi_call(d->k, msg, add_one, &list, e);
	if (err && !e->msg[0])
		kapi_explain(err, e);
	if (!err && list.n != 1)
		err = ferr_set(e, -EPROTO, "the kernel reported %zu clones",
			       list.n);
	if (!err) {
		d->clone_id = list.s[0].id;
		d->st.cloned = true;
		snap_device_path(&list.s[0], d->clone_dev,
				 sizeof(d->clone_dev));
		if (!d->clone_dev[0])
			err = ferr_set(e, -EPROTO, "the clone has no device");
	}
	snap_list_free(&list);
	if (!err)
		err = wait_for_block_node(d->clone_dev, NODE_TIMEOUT_MS, e);
	if (!err && !stat(d->clone_dev, &sb))
		d->clone_rdev = sb.st_rdev;
	return err;
}

static int cow_used(struct drill *d, uint64_t *used, uint64_t *total)
{
	struct ferry_volume v;
	struct ferr e;
	int err = rk_get_volume(d->k, d->o->name, &v, &e);

	if (!err) {
		*used = v.cow_used;
		if (total)
			*total = v.cow_total;
	}
	return err;
}

/*
 * Runs @argv in a process group of its own, output kept, until it exits,
 * the deadline passes, the budget is used up or a signal stops the agent.
 * Returns 0 when it exited 0; else sets the reason and returns -1.
 */
static int supervise(struct drill *d, char *const argv[], const char *what)
{
	uint64_t next_budget = 0, used;
	int fds[2], status = 0;
	bool open_fd = true, killed = false;
	char buf[1024];
	pid_t pid, w;

	if (pipe2(fds, O_CLOEXEC)) {
		fail_reason(d, "%s: pipe: %s", what, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		fail_reason(d, "%s: fork: %s", what, strerror(errno));
		return -1;
	}
	if (!pid) {
		int null = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		if (null >= 0)
			dup2(null, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	d->pid = pid;
	d->st.check_running = true;
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd p = { .fd = fds[0], .events = POLLIN };
		uint64_t now;
		ssize_t n;

		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		now = mono_ms();
		if (hook_stop_signal) {
			fail_reason(d, "interrupted by signal %d",
				    (int)hook_stop_signal);
			killed = true;
		} else if (now >= d->deadline) {
			fail_reason(d, "timeout after %d s",
				    d->o->timeout_ms / 1000);
			killed = true;
		} else if (now >= next_budget) {
			next_budget = now + BUDGET_POLL_MS;
			if (!cow_used(d, &used, NULL)) {
				if (used > d->cow_peak)
					d->cow_peak = used;
				if (drill_budget_exceeded(&d->budget, used)) {
					fail_reason(d, "space budget");
					killed = true;
				}
			}
		}
		if (killed) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		if (!open_fd) {
			poll(NULL, 0, 50);
			continue;
		}
		if (poll(&p, 1, 50) <= 0)
			continue;
		n = read(fds[0], buf, sizeof(buf));
		if (n > 0)
			keep_output(d, buf, (size_t)n);
		else if (n == 0 || errno != EAGAIN)
			open_fd = false;
	}
	/* What is left in the pipe; the group may still hold it open. */
	for (;;) {
		ssize_t n = read(fds[0], buf, sizeof(buf));

		if (n <= 0)
			break;
		keep_output(d, buf, (size_t)n);
	}
	close(fds[0]);
	/* Helpers the check left in its group go with it. */
	kill(-pid, SIGKILL);
	d->pid = 0;
	d->st.check_running = false;
	if (killed)
		return -1;
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	if (WIFEXITED(status))
		fail_reason(d, "%s exited %d", what, WEXITSTATUS(status));
	else
		fail_reason(d, "%s killed by signal %d", what,
			    WTERMSIG(status));
	return -1;
}

/* mount(2) of the clone on the drill's directory. */
static int mount_clone(struct drill *d, const char *fs)
{
	const char *opts = strcmp(fs, "xfs") ? NULL : "nouuid";

	if (!d->dir[0]) {
		snprintf(d->dir, sizeof(d->dir), "/tmp/ferry-drill.XXXXXX");
		if (!mkdtemp(d->dir)) {
			fail_reason(d, "mkdtemp: %s", strerror(errno));
			d->dir[0] = '\0';
			return -1;
		}
		d->st.have_dir = true;
	}
	d->st.mounted = true;
	if (mount(d->clone_dev, d->dir, fs, 0, opts)) {
		fail_reason(d, "mount %s: %s", fs, strerror(errno));
		return -1;
	}
	note(d, "mounted %s on %s", d->clone_dev, d->dir);
	return 0;
}

static int umount_dir(struct drill *d)
{
	if (umount2(d->dir, 0) && umount2(d->dir, MNT_DETACH)) {
		fail_reason(d, "umount: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The built-in check: fsck without repair, then a read-write mount. */
static int default_check(struct drill *d)
{
	unsigned char sb[4096];
	const char *fs;
	ssize_t n;
	int fd;

	fd = open(d->clone_dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail_reason(d, "open %s: %s", d->clone_dev, strerror(errno));
		return -1;
	}
	n = pread(fd, sb, sizeof(sb), 0);
	close(fd);
	fs = n > 0 ? drill_fs_type(sb, (size_t)n) : NULL;
	if (!fs) {
		fail_reason(d, "no ext2/3/4 or xfs filesystem on the snapshot");
		return -1;
	}
	note(d, "filesystem %s", fs);
	if (!strcmp(fs, "xfs")) {
		char *repair[] = { "xfs_repair", "-n", d->clone_dev, NULL };

		/* xfs_repair -n refuses a dirty log: replay it first. */
		if (mount_clone(d, fs) || umount_dir(d))
			return -1;
		if (supervise(d, repair, "xfs_repair -n"))
			return -1;
	} else {
		char *fsck[] = { "e2fsck", "-fn", d->clone_dev, NULL };

		if (supervise(d, fsck, "e2fsck -fn"))
			return -1;
	}
	if (hook_stop_signal || mono_ms() >= d->deadline)
		return -1;
	if (mount_clone(d, fs))
		return -1;
	return umount_dir(d);
}

static int user_check(struct drill *d, uint32_t snap_id, const char *point)
{
	char script[1024], id[16];
	char *argv[] = { "/bin/sh",	"-c",	      script,
			 "ferry-drill", d->clone_dev, NULL };

	snprintf(script, sizeof(script), "%s \"$1\"", d->o->check);
	snprintf(id, sizeof(id), "%" PRIu32, snap_id);
	setenv("FERRY_DRILL_DEVICE", d->clone_dev, 1);
	setenv("FERRY_DRILL_VOLUME", d->o->name, 1);
	setenv("FERRY_DRILL_SNAPSHOT", id, 1);
	setenv("FERRY_DRILL_POINT", point, 1);
	/* The check may mount the clone: teardown unmounts it then. */
	d->st.mounted = true;
	return supervise(d, argv, "check");
}

/* Every mount of the clone's device, as listed in /proc/self/mountinfo. */
static int unmount_all(struct drill *d)
{
	char line[4096], path[4096];
	unsigned int maj, min;
	int round, found = 0;

	for (round = 0; round < 10; round++) {
		FILE *f = fopen("/proc/self/mountinfo", "re");

		found = 0;
		if (!f)
			return -1;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%*d %*d %u:%u %*s %4095s", &maj, &min,
				   path) != 3)
				continue;
			if (makedev(maj, min) != d->clone_rdev)
				continue;
			found++;
			note(d, "unmounting %s", path);
			if (umount2(path, 0))
				umount2(path, MNT_DETACH);
		}
		fclose(f);
		if (!found)
			return 0;
	}
	return -1;
}

static int delete_clone(struct drill *d, struct ferr *e)
{
	int i, err = -EBUSY;

	/* A process that had the device open may take a moment to go. */
	for (i = 0; i < 50; i++) {
		err = rk_delete(d->k, d->o->name, d->clone_id, e);
		if (err != -EBUSY)
			break;
		poll(NULL, 0, 100);
	}
	return err;
}

/* drill.h's plan, executed; the record is the caller's. */
static void teardown(struct drill *d)
{
	enum drill_step steps[5];
	struct ferr e = { { 0 } };
	size_t i, n = drill_teardown_plan(&d->st, steps);

	for (i = 0; i < n; i++) {
		switch (steps[i]) {
		case DRILL_STEP_KILL:
			if (d->pid > 0) {
				kill(-d->pid, SIGKILL);
				kill(d->pid, SIGKILL);
				waitpid(d->pid, NULL, 0);
			}
			d->st.check_running = false;
			break;
		case DRILL_STEP_UNMOUNT:
			if (d->clone_rdev && unmount_all(d))
				fail_reason(d, "cannot unmount the clone");
			d->st.mounted = false;
			break;
		case DRILL_STEP_RMDIR:
			if (rmdir(d->dir))
				ferry_warn("drill", "rmdir %s: %s", d->dir,
					   strerror(errno));
			d->st.have_dir = false;
			break;
		case DRILL_STEP_DELETE_CLONE:
			if (delete_clone(d, &e)) {
				fail_reason(d,
					    "cannot delete clone %" PRIu32
					    ": %s",
					    d->clone_id, e.msg);
				ferry_warn("drill",
					   "%s: clone %" PRIu32
					   " left behind: %s",
					   d->o->name, d->clone_id, e.msg);
			} else {
				d->st.cloned = false;
				note(d, "deleted clone %" PRIu32, d->clone_id);
			}
			break;
		case DRILL_STEP_RECORD:
			break;
		}
	}
}

static void record(struct drill *d, uint32_t snap_id, uint64_t t0)
{
	char bufs[4][DRILL_TAG_BUF], *kv[4];
	struct drill_db *db;
	struct ferr e = { { 0 } };
	uint64_t secs;

	d->r->seconds = (double)(mono_ms() - t0) / 1000.0;
	if (d->cow_peak > d->budget.base)
		d->r->cow_growth = d->cow_peak - d->budget.base;
	if (drill_db_open(d->ctx->state_dir, &db, &e) ||
	    drill_db_add(db, d->r, &e))
		ferry_warn("drill", "%s: drill not recorded: %s", d->o->name,
			   e.msg);
	drill_db_close(db);
	secs = (uint64_t)(d->r->seconds + 0.5);
	drill_result_tags(d->o->key, d->r->pass, d->r->started_ns, secs,
			  d->r->reason, bufs, kv);
	if (snap_set_tags(d->k, d->o->name, snap_id, kv, 4, &e))
		ferry_warn("drill", "%s: result tags not set: %s", d->o->name,
			   e.msg);
}

int drill_run(const struct ferry_ctx *ctx, const struct drill_opts *o,
	      struct drill_record *r, struct ferr *e)
{
	struct snap_list list = { 0 };
	struct drill d = { .ctx = ctx, .o = o, .r = r };
	const struct ferry_snap_info *s;
	uint64_t t0, total = 0, used = 0;
	int idx, err;

	memset(r, 0, sizeof(*r));
	err = kapi_open(&d.k, e);
	if (err)
		return err;
	err = snap_dump(d.k, o->name, &list, e);
	if (err)
		goto out;
	idx = drill_pick(&list, o->name, o->id, o->point, e);
	if (idx < 0) {
		err = idx;
		goto out;
	}
	s = &list.s[idx];
	snprintf(r->volume, sizeof(r->volume), "%s", o->name);
	r->snap_id = s->id;
	snap_point(s, r->point, sizeof(r->point));
	snprintf(r->check, sizeof(r->check), "%s", o->check ? o->check : "");
	r->started_ns = real_ns();
	r->pass = true;
	t0 = mono_ms();
	d.deadline = t0 + (uint64_t)o->timeout_ms;
	err = cow_used(&d, &used, &total);
	if (err) {
		ferr_set(e, err, "%s: cannot read the volume's CoW usage",
			 o->name);
		goto out;
	}
	d.budget.base = used;
	d.budget.limit = o->budget ? o->budget : (total - used) / 2;
	d.cow_peak = used;
	note(&d, "snapshot %" PRIu32 " point %s, budget %" PRIu64 " bytes",
	     s->id, r->point, d.budget.limit);
	err = make_clone(&d, s->id, e);
	if (err) {
		fail_reason(&d, "clone: %s", e->msg);
		err = 0;
	} else {
		r->clone_id = d.clone_id;
		note(&d, "clone %" PRIu32 " at %s", d.clone_id, d.clone_dev);
		if (o->check)
			user_check(&d, s->id, r->point);
		else
			default_check(&d);
	}
	teardown(&d);
	/* The space the clone used is back: a last look at the peak. */
	record(&d, s->id, t0);
	if (hook_stop_signal) {
		ferr_set(e, -EINTR, "%s: drill interrupted by signal %d",
			 o->name, (int)hook_stop_signal);
		err = -EINTR;
	}
out:
	snap_list_free(&list);
	kapi_close(d.k);
	return err;
}

/* ---- ferry drill ---- */

static int drill_parse(struct ferry_ctx *ctx, int argc, char **argv,
		       struct drill_opts *o, struct ferr *e)
{
	static const struct option opts[] = {
		{ "check", required_argument, NULL, OPT_CHECK },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "budget", required_argument, NULL, OPT_BUDGET },
		{ "drill-tag", required_argument, NULL, OPT_DRILL_TAG },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct ferr why;
	int c;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = DRILL_DEFAULT_TIMEOUT_MS;
	o->key = DRILL_TAG_DEFAULT;
	cli_getopt_reset();
	while ((c = cli_getopt(argc, argv, opts, e)) != -1) {
		if (c < 0)
			return c;
		if (c == OPT_HELP)
			return CLI_HELP;
		if (cli_common_opt(ctx, c, optarg))
			continue;
		switch (c) {
		case OPT_CHECK:
			if (!*optarg)
				return ferr_set(e, -EINVAL,
						"--check: empty command");
			o->check = optarg;
			break;
		case OPT_TIMEOUT:
			if (parse_seconds(optarg, &o->timeout_ms, &why))
				return ferr_set(e, -EINVAL, "--timeout: %s",
						why.msg);
			break;
		case OPT_BUDGET:
			if (parse_size(optarg, &o->budget, &why) || !o->budget)
				return ferr_set(e, -EINVAL,
						"--budget: invalid size '%s'",
						optarg);
			break;
		case OPT_DRILL_TAG:
			if (drill_key_check(optarg, e))
				return -EINVAL;
			o->key = optarg;
			break;
		case OPT_VERBOSE:
			o->verbose = true;
			break;
		default:
			return ferr_set(e, -EINVAL, "unknown option");
		}
	}
	return name_and_optional_ref(argc, argv, &o->name, &o->id, &o->point,
				     e);
}

static struct json_object *record_json(const struct drill_record *r)
{
	struct json_object *o = json_object_new_object();
	char at[40];

	format_rfc3339(r->started_ns, at, sizeof(at));
	json_object_object_add(o, "id", json_object_new_int64(r->id));
	json_object_object_add(o, "volume", json_object_new_string(r->volume));
	json_object_object_add(o, "snapshot",
			       json_object_new_int64(r->snap_id));
	json_object_object_add(o, "point", json_object_new_string(r->point));
	json_object_object_add(o, "started", json_object_new_string(at));
	json_object_object_add(o, "seconds",
			       json_object_new_double(r->seconds));
	json_object_object_add(
		o, "result", json_object_new_string(r->pass ? "pass" : "fail"));
	json_object_object_add(o, "reason", json_object_new_string(r->reason));
	json_object_object_add(o, "check", json_object_new_string(r->check));
	json_object_object_add(o, "clone", json_object_new_int64(r->clone_id));
	json_object_object_add(o, "cow_growth",
			       json_object_new_int64((int64_t)r->cow_growth));
	json_object_object_add(o, "output", json_object_new_string(r->output));
	return o;
}

static void record_line(const struct drill_record *r, char *buf, size_t len)
{
	char at[40];

	format_rfc3339(r->started_ns, at, sizeof(at));
	snprintf(buf, len,
		 "%s snapshot %" PRIu32 " point %s: %s%s%s%s in %.1f s (%s)",
		 r->volume, r->snap_id, r->point, r->pass ? "pass" : "fail",
		 r->pass ? "" : " (", r->pass ? "" : r->reason,
		 r->pass ? "" : ")", r->seconds, at);
}

int cmd_drill(struct ferry_ctx *ctx, int argc, char **argv)
{
	struct drill_record *r = calloc(1, sizeof(*r));
	struct drill_opts o;
	struct ferr e = { { 0 } };
	char line[1024];
	int err, ret = EXIT_OK;

	if (!r) {
		ferry_error(ctx->cmd, "out of memory");
		return EXIT_FAIL;
	}
	err = drill_parse(ctx, argc, argv, &o, &e);
	if (err) {
		free(r);
		return cmd_parse_exit(ctx, err, &e, drill_usage);
	}
	if (ctx_prepare(ctx, true, &e)) {
		free(r);
		return cmd_fail(ctx, &e);
	}
	hook_signals_catch();
	err = drill_run(ctx, &o, r, &e);
	hook_signals_restore();
	if (err && err != -EINTR) {
		free(r);
		return cmd_fail(ctx, &e);
	}
	if (ctx->json) {
		json_print(stdout, record_json(r));
	} else {
		record_line(r, line, sizeof(line));
		printf("%s\n", line);
	}
	fflush(stdout);
	if (err) {
		ret = cmd_fail(ctx, &e);
	} else if (!r->pass) {
		ferry_error(ctx->cmd, "%s: drill failed: %s", o.name,
			    r->reason);
		ret = EXIT_FAIL;
	}
	free(r);
	return ret;
}

/* ---- ferry drills ---- */

struct list_state {
	bool json;
	struct json_object *arr;
};

static int list_one(const struct drill_record *r, void *arg)
{
	struct list_state *ls = arg;
	char line[1024];

	if (ls->json) {
		json_object_array_add(ls->arr, record_json(r));
		return 0;
	}
	record_line(r, line, sizeof(line));
	printf("%" PRId64 " %s\n", r->id, line);
	return 0;
}

int cmd_drills(struct ferry_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct list_state ls = { 0 };
	struct drill_db *db = NULL;
	struct ferr e = { { 0 } };
	const char *name;
	int c, err;

	cli_getopt_reset();
	while ((c = cli_getopt(argc, argv, opts, &e)) != -1) {
		if (c < 0)
			return cmd_parse_exit(ctx, c, &e, drills_usage);
		if (c == OPT_HELP)
			return cmd_parse_exit(ctx, CLI_HELP, &e, drills_usage);
		cli_common_opt(ctx, c, optarg);
	}
	err = cmd_name_operand(argc, argv, true, &name, &e);
	if (err)
		return cmd_parse_exit(ctx, err, &e, drills_usage);
	if (ctx_prepare(ctx, true, &e) ||
	    drill_db_open(ctx->state_dir, &db, &e))
		return cmd_fail(ctx, &e);
	ls.json = ctx->json;
	if (ls.json)
		ls.arr = json_object_new_array();
	err = drill_db_list(db, name, list_one, &ls, &e);
	drill_db_close(db);
	if (err) {
		json_object_put(ls.arr);
		return cmd_fail(ctx, &e);
	}
	if (ls.json)
		json_print(stdout, ls.arr);
	return fflush(stdout) ? EXIT_FAIL : EXIT_OK;
}
