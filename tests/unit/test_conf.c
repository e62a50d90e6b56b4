// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration file: a good file read back in full, and each
 * mistake reported as "FILE:LINE: message" on its own line.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "conf.h"
#include "unit.h"

static const char good[] =
	"# a full file\n"
	"state_dir = \"/var/lib/ferry-test\";\n"
	"volumes = (\n"
	"  { name = \"db\"; data = \"/dev/vdb\"; cow = \"/dev/vdc\"; chunk = \"64K\"; },\n"
	"  { name = \"logs\"; data = \"/dev/vdd\"; cow = \"/dev/vde\"; chunk = 4096; },\n"
	"  { name = \"spare\"; data = \"/dev/vdf\"; cow = \"/dev/vdg\"; }\n"
	");\n"
	"groups = (\n"
	"  { name = \"app\"; volumes = [ \"db\", \"logs\" ];\n"
	"    hook = \"/usr/lib/ferry/hooks/sqlite /srv/app.db\";\n"
	"    hook_timeout = \"45s\"; hook_shell = false; accept_lower_label = true;\n"
	"    schedule = { every = \"5m\"; };\n"
	"    retention = {\n"
	"      keep = ( { within = \"1h\"; every = \"0s\"; },\n"
	"               { within = \"24h\"; every = \"1h\"; },\n"
	"               { within = \"30d\"; every = \"1d\"; } );\n"
	"      min_count = 3; pin_tags = [ \"keep\", \"legal-hold\" ];\n"
	"    };\n"
	"  },\n"
	"  { name = \"plain\"; volumes = [ \"spare\" ]; schedule = { every = 30; }; }\n"
	");\n"
	"replication = (\n"
	"  { volume = \"db\"; to = \"dr.example:7000\"; every = \"10m\"; compress = true;\n"
	"    timeout = \"2m\"; max_queued = 3; max_cow_percent = 60; },\n"
	"  { volume = \"logs\"; to = \"[fd00::2]:7000\"; every = \"1h\"; compress = 9; }\n"
	");\n";

static struct conf *load(const char *text)
{
	struct conf *c = NULL;
	struct ferr e;

	assert_int_equal(conf_load_string(text, "t.conf", &c, &e), 0);
	return c;
}

static void good_file(void **state)
{
	const struct conf_group *g;
	const struct conf_repl *r;
	struct snapshot_args a;
	struct conf *c = load(good);
	char line[512];
	size_t n, i;

	(void)state;
	for (i = 0; i < c->nerrors; i++) {
		conf_error_text(c, i, line, sizeof(line));
		print_error("%s\n", line);
	}
	assert_int_equal(c->nerrors, 0);
	assert_string_equal(c->state_dir, "/var/lib/ferry-test");
	assert_int_equal(c->nvolumes, 3);
	assert_string_equal(c->volumes[0].data, "/dev/vdb");
	assert_int_equal(c->volumes[0].chunk, 65536);
	assert_int_equal(c->volumes[1].chunk, 4096);
	assert_int_equal(c->volumes[2].chunk, 0);
	assert_int_equal(c->volumes[1].line, 5);
	assert_int_equal(c->ngroups, 2);
	g = conf_group(c, "app");
	assert_non_null(g);
	assert_ptr_equal(conf_group_of(c, "logs"), g);
	assert_null(conf_group_of(c, "nope"));
	assert_int_equal(g->nnames, 2);
	assert_string_equal(g->names[1], "logs");
	assert_int_equal(g->hook_timeout_ms, 45000);
	assert_true(g->accept_lower);
	assert_false(g->hook_shell);
	assert_int_equal(g->every_s, 300);
	assert_true(g->has_retention);
	assert_int_equal(g->retention.nkeep, 3);
	assert_int_equal(g->retention.keep[1].within_s, 86400);
	assert_int_equal(g->retention.keep[1].every_s, 3600);
	assert_int_equal(g->retention.keep[2].within_s, 30 * 86400);
	assert_int_equal(g->retention.min_count, 3);
	assert_int_equal(g->retention.npins, 2);
	assert_string_equal(g->retention.pin_tags[1], "legal-hold");
	conf_group_snapshot_args(g, &a);
	assert_int_equal(a.nnames, 2);
	assert_string_equal(a.names[0], "db");
	assert_string_equal(a.hook, "/usr/lib/ferry/hooks/sqlite /srv/app.db");
	assert_int_equal(a.hook_timeout_ms, 45000);
	g = conf_group(c, "plain");
	assert_int_equal(g->every_s, 30);
	assert_false(g->has_retention);
	assert_null(g->hook);
	assert_int_equal(g->hook_timeout_ms, 30000);
	r = conf_replication_pairs(c, &n);
	assert_int_equal(n, 2);
	assert_string_equal(r[0].volume, "db");
	assert_string_equal(r[0].to, "dr.example:7000");
	assert_int_equal(r[0].every_s, 600);
	assert_int_equal(r[0].compress_level, 3);
	assert_int_equal(r[1].compress_level, 9);
	assert_int_equal(r[0].timeout_s, 120);
	assert_int_equal(r[0].max_queued, 3);
	assert_int_equal(r[0].max_cow_percent, 60);
	/* The defaults. */
	assert_int_equal(r[1].timeout_s, REPL_DEFAULT_TIMEOUT_S);
	assert_int_equal(r[1].max_queued, BACKLOG_DEFAULT_MAX_QUEUED);
	assert_int_equal(r[1].max_cow_percent, BACKLOG_DEFAULT_MAX_COW_PERCENT);
	assert_int_equal(r[1].line, 25);
	conf_free(c);
}

static void empty_file(void **state)
{
	struct conf *c = load("");

	(void)state;
	assert_int_equal(c->nerrors, 0);
	assert_int_equal(c->nvolumes + c->ngroups + c->nrepl, 0);
	assert_null(c->state_dir);
	conf_free(c);
}

/* Each text must give exactly this one error. */
static const struct {
	const char *text;
	const char *error;
} bad[] = {
	{ "state_dir = \"/x\";\nstat_dir = \"/y\";\n",
	  "t.conf:2: unknown setting 'stat_dir'" },
	{ "state_dir = 5;\n", "t.conf:1: 'state_dir' must be a string" },
	{ "state_dir = \"rel\";\n",
	  "t.conf:1: 'state_dir' must be an absolute path" },
	{ "volumes = (\n  { name = \"a\" }\n;\n", "t.conf:3: syntax error" },
	{ "volumes = { name = \"a\"; };\n",
	  "t.conf:1: 'volumes' must be a list ( { ... }, { ... } )" },
	{ "volumes = (\n { name = \"a\"; data = \"/d\"; cow = \"/c\"; size = 1; }\n);\n",
	  "t.conf:2: unknown setting 'size' in volume 'a'" },
	{ "volumes = (\n { name = \"a\"; data = \"/d\"; }\n);\n",
	  "t.conf:2: missing 'cow' in volume 'a'" },
	{ "volumes = (\n { name = \"a/b\"; data = \"/d\"; cow = \"/c\"; }\n);\n",
	  NULL /* checked by prefix below */ },
	{ "volumes = (\n { name = \"a\"; data = \"/d\"; cow = \"/c\";\n   chunk = \"3K\"; }\n);\n",
	  NULL },
	{ "volumes = (\n { name = \"a\"; data = \"/d\"; cow = \"/c\"; },\n"
	  " { name = \"a\"; data = \"/e\"; cow = \"/f\"; }\n);\n",
	  "t.conf:3: volume 'a' is defined twice (first on line 2)" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = (\n { name = \"g\";\n   volumes = [ \"a\", \"b\" ]; }\n);\n",
	  "t.conf:4: unknown volume 'b' in group 'g' (not in 'volumes')" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = (\n { name = \"g\"; volumes = [ \"a\" ]; },\n"
	  " { name = \"h\"; volumes = [ \"a\" ]; }\n);\n",
	  "t.conf:4: volume 'a' is already in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n"
	  "  schedule = { every = \"5 minutes\"; }; } );\n",
	  "t.conf:3: 'every': invalid duration '5 minutes' (e.g. \"30s\", \"5m\", \"1h30m\") in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n"
	  "  schedule = { every = \"0s\"; }; } );\n",
	  "t.conf:3: 'every' must be longer than 0s in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n"
	  "  schedule = { every = \"5\"; }; } );\n",
	  "t.conf:3: 'every': duration '5' needs a unit (s, m, h, d or w) in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n"
	  "  schedule = { }; } );\n",
	  "t.conf:3: 'schedule' needs 'every' in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n"
	  "  hook_shell = true; } );\n",
	  "t.conf:3: 'hook_shell' needs 'hook' or 'session' in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n"
	  "  session_timeout = \"5s\"; } );\n",
	  "t.conf:3: 'session_timeout' needs 'session' in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n"
	  "  session = \"/s\";\n  session_timeout = \"0s\"; } );\n",
	  "t.conf:4: 'session_timeout' must be 1s..1d in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n"
	  "  session = 3; } );\n",
	  "t.conf:3: 'session' must be a string in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n\n"
	  "  session = \"\"; } );\n",
	  "t.conf:4: 'session' is empty in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n"
	  "  session = \"/s\"; session_timeout = \"soon\"; } );\n",
	  "t.conf:3: 'session_timeout': invalid duration 'soon' (e.g. \"30s\", \"5m\", \"1h30m\") in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ]; hook = \"/h\";\n"
	  "  hook_timeout = \"2d\"; } );\n",
	  "t.conf:3: 'hook_timeout' must be 1s..1d in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n"
	  "  retention = { min_count = 0; }; } );\n",
	  "t.conf:3: retention keeps nothing: give 'keep' rules or 'min_count' in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n"
	  "  retention = {\n    keep = ( { within = \"1h\"; every = \"1d\"; } ); }; } );\n",
	  "t.conf:4: 'every' is longer than 'within' in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n"
	  "  retention = {\n    keep = ( { within = \"1h\"; } ); }; } );\n",
	  "t.conf:4: a 'keep' rule needs 'every' (\"0s\": all) in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n"
	  "  retention = {\n    keep = ( { within = \"0s\"; every = \"0s\"; } ); }; } );\n",
	  "t.conf:4: 'within' must be longer than 0s in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n"
	  "  retention = { min_count = 2;\n   kept = 1; }; } );\n",
	  "t.conf:4: unknown setting 'kept' in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n"
	  "  retention = { min_count = -1; }; } );\n",
	  "t.conf:3: 'min_count' must be 0..100000 in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "groups = ( { name = \"g\"; volumes = [ \"a\" ];\n"
	  "  retention = { min_count = 1;\n   pin_tags = [ \"bad key\" ]; }; } );\n",
	  "t.conf:4: pin tag 'bad key': invalid tag key: only A-Z a-z 0-9 . _ - are allowed in group 'g'" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "replication = (\n { volume = \"b\"; to = \"h:1\"; every = \"1m\"; }\n);\n",
	  "t.conf:3: unknown volume 'b' in replication[0] (not in 'volumes')" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "replication = (\n { volume = \"a\";\n   to = \"nohost\"; every = \"1m\"; }\n);\n",
	  NULL },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "replication = (\n { volume = \"a\"; to = \"h:1\"; }\n);\n",
	  "t.conf:3: missing 'every' in replication[0]" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "replication = (\n { volume = \"a\"; to = \"h:1\"; every = \"1m\";\n"
	  "   compress = 0; }\n);\n",
	  "t.conf:4: 'compress' must be true, false or 1..19 in replication[0]" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "replication = (\n { volume = \"a\"; to = \"h:1\"; every = \"1m\";\n"
	  "   compress = \"fast\"; }\n);\n",
	  "t.conf:4: 'compress' must be true, false or 1..19 in replication[0]" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "replication = (\n { volume = \"a\"; to = \"h:1\"; every = \"1m\";\n"
	  "   max_queued = 0; }\n);\n",
	  "t.conf:4: 'max_queued' must be 1..32 in replication[0]" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "replication = (\n { volume = \"a\"; to = \"h:1\"; every = \"1m\";\n"
	  "   max_queued = \"8\"; }\n);\n",
	  "t.conf:4: 'max_queued' must be a number in replication[0]" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "replication = (\n { volume = \"a\"; to = \"h:1\"; every = \"1m\";\n"
	  "\n   max_cow_percent = 101; }\n);\n",
	  "t.conf:5: 'max_cow_percent' must be 1..100 in replication[0]" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "replication = (\n { volume = \"a\"; to = \"h:1\"; every = \"1m\";\n"
	  "   timeout = \"0s\"; }\n);\n",
	  "t.conf:4: 'timeout' must be 1s..86400s in replication[0]" },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "replication = (\n { volume = \"a\"; to = \"h:1\"; every = \"1m\";\n"
	  "   timeout = \"soon\"; }\n);\n",
	  NULL },
	{ "volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; } );\n"
	  "replication = (\n { volume = \"a\"; to = \"h:1\"; every = \"1m\";\n"
	  "   max_queue = 4; }\n);\n",
	  "t.conf:4: unknown setting 'max_queue' in replication[0]" },
	{ "groups = (\n { volumes = [ ]; }\n);\n", NULL },
};

static void bad_files(void **state)
{
	char line[512];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct conf *c = load(bad[i].text);

		if (!c->nerrors)
			fail_msg("case %zu: no error for:\n%s", i, bad[i].text);
		conf_error_text(c, 0, line, sizeof(line));
		if (bad[i].error &&
		    (c->nerrors != 1 || strcmp(line, bad[i].error)))
			fail_msg(
				"case %zu: got %zu errors, first '%s'; want '%s'",
				i, c->nerrors, line, bad[i].error);
		/* Every message is one line with a line number. */
		assert_null(strchr(line, '\n'));
		assert_true(!strncmp(line, "t.conf:", 7));
		assert_true(line[7] >= '1' && line[7] <= '9');
		conf_free(c);
	}
}

/* A quiesce session: its keys, and what the daemon's snapshot gets. */
static void session_keys(void **state)
{
	struct conf *c = load(
		"volumes = ( { name = \"a\"; data = \"/d\"; cow = \"/c\"; },\n"
		"  { name = \"b\"; data = \"/d2\"; cow = \"/c2\"; } );\n"
		"groups = (\n"
		"  { name = \"pg\"; volumes = [ \"a\" ];\n"
		"    session = \"/usr/lib/ferry/hooks/postgresql-session\";\n"
		"    session_timeout = \"1m\"; hook_shell = true;\n"
		"    accept_lower_label = true; },\n"
		"  { name = \"both\"; volumes = [ \"b\" ]; hook = \"/h\";\n"
		"    session = \"/s x\"; }\n"
		");\n");
	const struct conf_group *g;
	struct snapshot_args a;
	char line[512];

	(void)state;
	if (c->nerrors)
		conf_error_text(c, 0, line, sizeof(line));
	assert_int_equal(c->nerrors, 0);
	g = conf_group(c, "pg");
	assert_string_equal(g->session,
			    "/usr/lib/ferry/hooks/postgresql-session");
	assert_int_equal(g->session_timeout_ms, 60000);
	assert_null(g->hook);
	conf_group_snapshot_args(g, &a);
	assert_string_equal(a.session, g->session);
	assert_int_equal(a.session_timeout_ms, 60000);
	assert_true(a.hook_shell);
	assert_true(a.accept_lower);
	g = conf_group(c, "both");
	assert_string_equal(g->hook, "/h");
	assert_string_equal(g->session, "/s x");
	assert_int_equal(g->session_timeout_ms, 30000);
	conf_free(c);
}

/* Several mistakes: all reported, in file order. */
static void many_errors(void **state)
{
	struct conf *c = load(
		"volumes = (\n"
		" { name = \"a\"; data = \"/d\"; cow = \"/c\"; chunk = \"1G\"; },\n"
		" { name = \"b\"; data = 1; cow = \"/c\"; }\n"
		");\n"
		"groups = ( { name = \"g\"; volumes = [ \"a\", \"zz\" ];\n"
		"  schedule = { every = \"1x\"; }; } );\n"
		"bogus = 1;\n");
	char line[512];

	(void)state;
	assert_int_equal(c->nerrors, 5);
	conf_error_text(c, 0, line, sizeof(line));
	assert_string_equal(line, "t.conf:7: unknown setting 'bogus'");
	conf_error_text(c, 1, line, sizeof(line));
	assert_true(!strncmp(line, "t.conf:2: 'chunk':", 18));
	conf_error_text(c, 2, line, sizeof(line));
	assert_string_equal(line,
			    "t.conf:3: 'data' must be a string in volume 'b'");
	conf_error_text(c, 3, line, sizeof(line));
	assert_string_equal(
		line,
		"t.conf:5: unknown volume 'zz' in group 'g' (not in 'volumes')");
	conf_error_text(c, 4, line, sizeof(line));
	assert_true(!strncmp(line, "t.conf:6: 'every': invalid duration", 35));
	conf_free(c);
}

static void files(void **state)
{
	char path[] = "/tmp/ferry-conf-XXXXXX";
	struct conf *c = NULL;
	struct ferr e;
	int fd;

	(void)state;
	assert_int_equal(conf_load("/nonexistent/ferry.conf", false, &c, &e),
			 0);
	assert_false(c->exists);
	conf_free(c);
	assert_int_equal(conf_load("/nonexistent/ferry.conf", true, &c, &e),
			 -ENOENT);
	conf_free(c);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "a = 1;\nb = ;\n", 13), 13);
	close(fd);
	assert_int_equal(conf_load(path, true, &c, &e), 0);
	assert_int_equal(c->nerrors, 1);
	assert_string_equal(c->errors[0].file, path);
	assert_int_equal(c->errors[0].line, 2);
	conf_free(c);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_file), cmocka_unit_test(empty_file),
		cmocka_unit_test(bad_files), cmocka_unit_test(many_errors),
		cmocka_unit_test(files),     cmocka_unit_test(session_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
