// SPDX-License-Identifier: GPL-2.0
/*
 * What touches the file system: device paths, the config file, the state
 * directory; and the error line format. Works in a private temp dir.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blockdev.h"
#include "config.h"
#include "context.h"
#include "util.h"
#include "unit.h"

static char tmp[64];

static int setup(void **state)
{
	(void)state;
	strcpy(tmp, "/tmp/ferry-unit-XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	return nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void blockdev_missing(void **state)
{
	char out[PATH_MAX], path[128];
	struct ferr e = { { 0 } };
	dev_t dev;

	(void)state;
	snprintf(path, sizeof(path), "%s/nonexistent", tmp);
	assert_int_equal(resolve_block_device(path, out, &dev, &e), -ENOENT);
	assert_true(strncmp(e.msg, path, strlen(path)) == 0);
	assert_non_null(strstr(e.msg, ": No such file or directory"));
}

static void blockdev_not_block(void **state)
{
	char out[PATH_MAX], path[128];
	struct ferr e = { { 0 } };
	dev_t dev;

	(void)state;
	assert_int_equal(resolve_block_device("/dev/null", out, &dev, &e),
			 -ENOTBLK);
	assert_string_equal(e.msg, "/dev/null: not a block device");
	snprintf(path, sizeof(path), "%s/plain", tmp);
	write_file(path, "x");
	assert_int_equal(resolve_block_device(path, out, &dev, &e), -ENOTBLK);
}

static void blockdev_dangling_symlink(void **state)
{
	char out[PATH_MAX], link[128];
	struct ferr e = { { 0 } };
	dev_t dev;

	(void)state;
	snprintf(link, sizeof(link), "%s/by-id-disk", tmp);
	assert_int_equal(symlink("/nonexistent/disk", link), 0);
	assert_int_equal(resolve_block_device(link, out, &dev, &e), -ENOENT);
	/* The message names what the user typed, not the link target. */
	assert_true(strncmp(e.msg, link, strlen(link)) == 0);
}

static void wait_node_times_out(void **state)
{
	struct ferr e = { { 0 } };
	struct timespec t0, t1;
	char path[128];
	long ms;

	(void)state;
	snprintf(path, sizeof(path), "%s/ferry9", tmp);
	write_file(path, ""); /* exists, but not a block device */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(wait_for_block_node(path, 100, &e), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 100 && ms < 2000);
	assert_non_null(strstr(e.msg, "did not appear within 0.1 s"));
}

static void config_default_missing_ok(void **state)
{
	struct ferry_config *cfg = NULL;
	struct ferr e = { { 0 } };
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/ferry.conf", tmp);
	assert_int_equal(config_load(path, false, &cfg, &e), 0);
	assert_null(config_string(cfg, "state_dir"));
	config_free(cfg);
	/* Given explicitly, it must exist. */
	assert_int_equal(config_load(path, true, &cfg, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "No such file or directory"));
	config_free(cfg);
}

static void config_values_and_errors(void **state)
{
	struct ferry_config *cfg = NULL;
	struct ferr e = { { 0 } };
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/ferry.conf", tmp);
	write_file(path, "# ferry\nstate_dir = \"/srv/ferry\";\n");
	assert_int_equal(config_load(path, true, &cfg, &e), 0);
	assert_string_equal(config_string(cfg, "state_dir"), "/srv/ferry");
	assert_null(config_string(cfg, "nothing"));
	config_free(cfg);
	write_file(path, "state_dir = \"/srv\";\nbroken = ;\n");
	assert_int_equal(config_load(path, true, &cfg, &e), -EINVAL);
	/* "FILE:LINE: reason" */
	assert_non_null(strstr(e.msg, "ferry.conf:2: "));
	config_free(cfg);
}

static void context_state_dir(void **state)
{
	struct ferry_ctx ctx;
	struct ferr e = { { 0 } };
	char conf[128], dir[128], fromconf[128];
	struct stat st;

	(void)state;
	snprintf(conf, sizeof(conf), "%s/ferry.conf", tmp);
	snprintf(dir, sizeof(dir), "%s/a/b/state", tmp);
	snprintf(fromconf, sizeof(fromconf), "%s/conf-state", tmp);

	/* The file's state_dir is used when --state-dir is not given... */
	write_file(conf, "state_dir = \"");
	{
		FILE *f = fopen(conf, "a");

		fprintf(f, "%s\";\n", fromconf);
		fclose(f);
	}
	ctx_init(&ctx);
	ctx.config_path = conf;
	assert_int_equal(ctx_prepare(&ctx, true, &e), 0);
	assert_string_equal(ctx.state_dir, fromconf);
	assert_int_equal(stat(fromconf, &st), 0);
	ctx_free(&ctx);

	/* ...and --state-dir wins, created with its parents, mode 0700. */
	ctx_init(&ctx);
	ctx.config_path = conf;
	ctx.state_dir = dir;
	ctx.state_dir_explicit = true;
	assert_int_equal(ctx_prepare(&ctx, true, &e), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	ctx_free(&ctx);
}

static void context_state_dir_blocked(void **state)
{
	struct ferry_ctx ctx;
	struct ferr e = { { 0 } };
	char file[128], dir[160];

	(void)state;
	snprintf(file, sizeof(file), "%s/file", tmp);
	snprintf(dir, sizeof(dir), "%s/sub", file);
	write_file(file, "");
	ctx_init(&ctx);
	ctx.config_path = "/nonexistent/ferry.conf"; /* default: optional */
	ctx.state_dir = dir;
	assert_int_equal(ctx_prepare(&ctx, true, &e), -ENOTDIR);
	assert_non_null(strstr(e.msg, file));
	ctx_free(&ctx);
	/* A read-only command goes on without it. */
	assert_int_equal(ctx_prepare(&ctx, false, &e), 0);
	ctx_free(&ctx);
}

static void size_format(void **state)
{
	static const struct {
		uint64_t bytes;
		const char *text;
	} cases[] = {
		{ 0, "0B" },
		{ 1023, "1023B" },
		{ 1024, "1.0KiB" },
		{ 1536, "1.5KiB" },
		{ 10240, "10KiB" },
		{ 1048575, "1023KiB" },
		{ 1048576, "1.0MiB" },
		{ 65536, "64KiB" },
		{ 10ULL << 30, "10GiB" },
		{ (1ULL << 40) * 3 / 2, "1.5TiB" },
		{ UINT64_MAX, "15EiB" },
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		format_size(cases[i].bytes, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].text);
	}
}

/* Runs ferry_error() with stderr sent to a file; returns what it wrote. */
static void capture_error(const char *cmd, const char *msg, char *out,
			  size_t len)
{
	char path[128];
	int fd, saved;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/stderr", tmp);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	ferry_error(cmd, "%s", msg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, out, len - 1, 0);
	close(fd);
	assert_true(n >= 0);
	out[n] = '\0';
}

static void error_line_format(void **state)
{
	char out[256];

	(void)state;
	capture_error("attach", "/dev/x: No such file or directory", out,
		      sizeof(out));
	assert_string_equal(
		out, "ferry: attach: /dev/x: No such file or directory\n");
	capture_error(NULL, "no command given", out, sizeof(out));
	assert_string_equal(out, "ferry: no command given\n");
	/* A kernel message with a newline still makes one line. */
	capture_error("status", "first\nsecond", out, sizeof(out));
	assert_string_equal(out, "ferry: status: first second\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(blockdev_missing),
		cmocka_unit_test(blockdev_not_block),
		cmocka_unit_test(blockdev_dangling_symlink),
		cmocka_unit_test(wait_node_times_out),
		cmocka_unit_test(config_default_missing_ok),
		cmocka_unit_test(config_values_and_errors),
		cmocka_unit_test(context_state_dir),
		cmocka_unit_test(context_state_dir_blocked),
		cmocka_unit_test(size_format),
		cmocka_unit_test(error_line_format),
	};

	return cmocka_run_group_tests_name("system", tests, setup, teardown);
}
