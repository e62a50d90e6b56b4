// SPDX-License-Identifier: GPL-2.0
/*
 * Argument parsing of each command: what is accepted and the one-line
 * message of what is not.
 */
#include <errno.h>

#include "cli.h"
#include "cmd_volume.h"
#include "unit.h"

struct fixture {
	struct ferry_ctx ctx;
	struct ferr e;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	ctx_init(&f->ctx);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* Runs attach_parse on @a and frees it; returns the parser's result. */
static int attach(struct fixture *f, struct argv_buf *a,
		  struct attach_args *out)
{
	int ret = attach_parse(&f->ctx, a->argc, a->argv, out, &f->e);

	argv_free(a);
	return ret;
}

static int detach(struct fixture *f, struct argv_buf *a,
		  struct detach_args *out)
{
	int ret = detach_parse(&f->ctx, a->argc, a->argv, out, &f->e);

	argv_free(a);
	return ret;
}

static int status(struct fixture *f, struct argv_buf *a,
		  struct status_args *out)
{
	int ret = status_parse(&f->ctx, a->argc, a->argv, out, &f->e);

	argv_free(a);
	return ret;
}

#define assert_msg(f, text) assert_non_null(strstr((f)->e.msg, (text)))

static void attach_full(void **state)
{
	struct fixture *f = *state;
	struct attach_args a;
	struct argv_buf *av = ARGV("attach", "vol0", "--data", "/dev/vdb",
				   "--cow", "/dev/vdc", "--chunk", "128K");

	/* The operand points into argv: check before freeing it. */
	assert_int_equal(attach_parse(&f->ctx, av->argc, av->argv, &a, &f->e),
			 0);
	assert_string_equal(a.name, "vol0");
	assert_string_equal(a.data, "/dev/vdb");
	assert_string_equal(a.cow, "/dev/vdc");
	assert_int_equal(a.chunk_size, 131072);
	assert_false(f->ctx.json);
	argv_free(av);
}

static void attach_options_first_and_globals(void **state)
{
	struct fixture *f = *state;
	struct attach_args a;
	struct argv_buf *av = ARGV("attach", "--cow=/dev/c", "--data", "/dev/d",
				   "--json", "--state-dir", "/tmp/s", "v");

	assert_int_equal(attach_parse(&f->ctx, av->argc, av->argv, &a, &f->e),
			 0);
	assert_string_equal(a.name, "v");
	assert_int_equal(a.chunk_size, 0); /* kernel default */
	assert_true(f->ctx.json);
	assert_string_equal(f->ctx.state_dir, "/tmp/s");
	assert_true(f->ctx.state_dir_explicit);
	argv_free(av);
}

static void attach_missing_parts(void **state)
{
	struct fixture *f = *state;
	struct attach_args a;

	assert_int_equal(attach(f, ARGV("attach", "--data", "x", "--cow", "y"),
				&a),
			 -EINVAL);
	assert_string_equal(f->e.msg, "missing volume NAME");
	assert_int_equal(attach(f, ARGV("attach", "v", "--cow", "y"), &a),
			 -EINVAL);
	assert_string_equal(f->e.msg, "--data DEV is required");
	assert_int_equal(attach(f, ARGV("attach", "v", "--data", "x"), &a),
			 -EINVAL);
	assert_string_equal(f->e.msg, "--cow DEV is required");
	assert_int_equal(attach(f, ARGV("attach", "v", "--data"), &a), -EINVAL);
	assert_string_equal(f->e.msg, "option --data needs an argument");
}

static void attach_bad_values(void **state)
{
	struct fixture *f = *state;
	struct attach_args a;

	assert_int_equal(attach(f,
				ARGV("attach", "v", "--data", "x", "--cow", "y",
				     "--chunk", "3K"),
				&a),
			 -EINVAL);
	assert_msg(f, "--chunk: ");
	assert_msg(f, "out of range");
	assert_int_equal(attach(f,
				ARGV("attach", "v", "--data", "x", "--cow", "y",
				     "--chunk", "96K"),
				&a),
			 -EINVAL);
	assert_msg(f, "power of two");
	assert_int_equal(attach(f,
				ARGV("attach", "v", "--data", "x", "--cow", "y",
				     "--chunk", "lots"),
				&a),
			 -EINVAL);
	assert_msg(f, "invalid size 'lots'");
	assert_int_equal(
		attach(f, ARGV("attach", "-v", "--data", "x", "--cow", "y"),
		       &a),
		-EINVAL);
	assert_string_equal(f->e.msg, "unknown option -v");
	assert_int_equal(
		attach(f, ARGV("attach", "a/b", "--data", "x", "--cow", "y"),
		       &a),
		-EINVAL);
	assert_msg(f, "invalid volume name");
}

static void attach_unknown_and_extra(void **state)
{
	struct fixture *f = *state;
	struct attach_args a;

	assert_int_equal(attach(f,
				ARGV("attach", "v", "--data", "x", "--cow", "y",
				     "--snap"),
				&a),
			 -EINVAL);
	assert_string_equal(f->e.msg, "unknown option --snap");
	assert_int_equal(
		attach(f, ARGV("attach", "v", "w", "--data", "x", "--cow", "y"),
		       &a),
		-EINVAL);
	assert_string_equal(f->e.msg, "unexpected argument 'w'");
	assert_int_equal(attach(f, ARGV("attach", "v", "--json=1"), &a),
			 -EINVAL);
	assert_msg(f, "--json=1");
}

static void attach_help(void **state)
{
	struct fixture *f = *state;
	struct attach_args a;

	assert_int_equal(attach(f, ARGV("attach", "--help"), &a), CLI_HELP);
	assert_int_equal(attach(f, ARGV("attach", "-h"), &a), CLI_HELP);
}

static void detach_cases(void **state)
{
	struct fixture *f = *state;
	struct detach_args a;
	struct argv_buf *av = ARGV("detach", "db-1");

	assert_int_equal(detach_parse(&f->ctx, av->argc, av->argv, &a, &f->e),
			 0);
	assert_string_equal(a.name, "db-1");
	argv_free(av);
	assert_int_equal(detach(f, ARGV("detach"), &a), -EINVAL);
	assert_string_equal(f->e.msg, "missing volume NAME");
	assert_int_equal(detach(f, ARGV("detach", "a", "b"), &a), -EINVAL);
	assert_string_equal(f->e.msg, "unexpected argument 'b'");
	assert_int_equal(detach(f, ARGV("detach", "--force", "a"), &a),
			 -EINVAL);
	assert_string_equal(f->e.msg, "unknown option --force");
	assert_int_equal(detach(f, ARGV("detach", ".a"), &a), -EINVAL);
	assert_msg(f, "must not start with '.'");
	assert_int_equal(detach(f, ARGV("detach", "--help"), &a), CLI_HELP);
}

static void status_cases(void **state)
{
	struct fixture *f = *state;
	struct status_args a;
	struct argv_buf *av = ARGV("status", "--json", "v1");

	assert_int_equal(status(f, ARGV("status"), &a), 0);
	assert_null(a.name);
	assert_false(f->ctx.json);
	assert_int_equal(status_parse(&f->ctx, av->argc, av->argv, &a, &f->e),
			 0);
	assert_string_equal(a.name, "v1");
	assert_true(f->ctx.json);
	argv_free(av);
	assert_int_equal(status(f, ARGV("status", "a", "b"), &a), -EINVAL);
	assert_string_equal(f->e.msg, "unexpected argument 'b'");
	assert_int_equal(status(f, ARGV("status", "--jason"), &a), -EINVAL);
	assert_string_equal(f->e.msg, "unknown option --jason");
	assert_int_equal(status(f, ARGV("status", "--config"), &a), -EINVAL);
	assert_string_equal(f->e.msg, "option --config needs an argument");
	assert_int_equal(status(f, ARGV("status", "x y"), &a), -EINVAL);
	assert_msg(f, "invalid volume name");
}

static void status_config_option(void **state)
{
	struct fixture *f = *state;
	struct status_args a;
	struct argv_buf *av = ARGV("status", "--config", "/x.conf");

	/* ctx keeps pointers into argv: check before freeing it. */
	assert_int_equal(status_parse(&f->ctx, av->argc, av->argv, &a, &f->e),
			 0);
	assert_string_equal(f->ctx.config_path, "/x.conf");
	assert_true(f->ctx.config_explicit);
	argv_free(av);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(attach_full, setup, teardown),
		cmocka_unit_test_setup_teardown(
			attach_options_first_and_globals, setup, teardown),
		cmocka_unit_test_setup_teardown(attach_missing_parts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(attach_bad_values, setup,
						teardown),
		cmocka_unit_test_setup_teardown(attach_unknown_and_extra, setup,
						teardown),
		cmocka_unit_test_setup_teardown(attach_help, setup, teardown),
		cmocka_unit_test_setup_teardown(detach_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(status_cases, setup, teardown),
		cmocka_unit_test_setup_teardown(status_config_option, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("args", tests, NULL, NULL);
}
