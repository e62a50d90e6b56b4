// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: the configuration file's model (see conf.h). Every
 * problem is collected with its line; nothing stops at the first.
 */
#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "compress.h"
#include "conf.h"
#include "conn.h"
#include "duration.h"
#include "hook.h"

/* The longest hook deadline, as for --hook-timeout. */
#define HOOK_TIMEOUT_MAX_S 86400
#define MIN_COUNT_MAX 100000

/* The file name of an error (c->path, or an @include'd file). */
static void set_file(struct conf_error *err, const char *file)
{
	size_t l = strnlen(file, sizeof(err->file) - 1);

	memmove(err->file, file, l);
	err->file[l] = '\0';
}

static void conf_err(struct conf *c, const config_setting_t *s, const char *fmt,
		     ...) __attribute__((format(printf, 3, 4)));

static void conf_err(struct conf *c, const config_setting_t *s, const char *fmt,
		     ...)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	struct conf_error *err;
	va_list ap;

	if (c->nerrors == CONF_ERRORS_MAX) {
		c->errors_dropped++;
		return;
	}
	err = &c->errors[c->nerrors++];
	set_file(err, file ? file : c->path);
	err->line = s ? (int)config_setting_source_line(s) : 0;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

void conf_error_text(const struct conf *c, size_t i, char *buf, size_t len)
{
	const struct conf_error *err = &c->errors[i];

	if (err->line > 0)
		snprintf(buf, len, "%s:%d: %s", err->file, err->line, err->msg);
	else
		snprintf(buf, len, "%s: %s", err->file, err->msg);
}

/* ---- typed settings ---- */

/* Each child of @s must be one of @keys (NULL-terminated). */
static void check_keys(struct conf *c, const config_setting_t *s,
		       const char *const *keys, const char *where)
{
	int i, n = config_setting_length(s);
	size_t k;

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(s, i);
		const char *name = config_setting_name(m);

		if (!name)
			continue;
		for (k = 0; keys[k]; k++)
			if (!strcmp(keys[k], name))
				break;
		if (!keys[k])
			conf_err(c, m, "unknown setting '%s'%s", name, where);
	}
}

/* A string member: NULL when absent or wrong (then an error). */
static const char *get_string(struct conf *c, const config_setting_t *s,
			      const char *key, bool required, const char *where)
{
	const config_setting_t *m = config_setting_get_member(s, key);
	const char *v;

	if (!m) {
		if (required)
			conf_err(c, s, "missing '%s'%s", key, where);
		return NULL;
	}
	v = config_setting_get_string(m);
	if (!v) {
		conf_err(c, m, "'%s' must be a string%s", key, where);
		return NULL;
	}
	if (!*v) {
		conf_err(c, m, "'%s' is empty%s", key, where);
		return NULL;
	}
	return v;
}

static bool get_bool(struct conf *c, const config_setting_t *s, const char *key,
		     const char *where)
{
	const config_setting_t *m = config_setting_get_member(s, key);

	if (!m)
		return false;
	if (config_setting_type(m) != CONFIG_TYPE_BOOL) {
		conf_err(c, m, "'%s' must be true or false%s", key, where);
		return false;
	}
	return config_setting_get_bool(m);
}

/*
 * A duration: a string ("5m") or a number of seconds. Returns 1 when
 * present and valid, 0 when absent, -1 when wrong (error reported).
 */
static int get_duration(struct conf *c, const config_setting_t *s,
			const char *key, uint64_t *out, const char *where)
{
	const config_setting_t *m = config_setting_get_member(s, key);
	long long n;
	struct ferr e;

	if (!m)
		return 0;
	switch (config_setting_type(m)) {
	case CONFIG_TYPE_STRING:
		if (parse_duration(config_setting_get_string(m), out, &e)) {
			conf_err(c, m, "'%s': %s%s", key, e.msg, where);
			return -1;
		}
		return 1;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		n = config_setting_get_int64(m);
		if (n < 0 || (unsigned long long)n > DURATION_MAX_S) {
			conf_err(c, m, "'%s': %lld seconds is out of range%s",
				 key, n, where);
			return -1;
		}
		*out = (uint64_t)n;
		return 1;
	default:
		conf_err(c, m,
			 "'%s' must be a duration such as \"30s\" or \"5m\"%s",
			 key, where);
		return -1;
	}
}

/* ---- volumes ---- */

static const char *const volume_keys[] = { "name", "data", "cow", "chunk",
					   NULL };

static void parse_chunk(struct conf *c, const config_setting_t *m,
			struct conf_volume *v, const char *where)
{
	uint64_t bytes = 0;
	struct ferr e;
	long long n;

	switch (config_setting_type(m)) {
	case CONFIG_TYPE_STRING:
		if (parse_size(config_setting_get_string(m), &bytes, &e)) {
			conf_err(c, m, "'chunk': %s%s", e.msg, where);
			return;
		}
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		n = config_setting_get_int64(m);
		bytes = n < 0 ? 0 : (uint64_t)n;
		break;
	default:
		conf_err(c, m, "'chunk' must be a size such as \"64K\"%s",
			 where);
		return;
	}
	if (check_chunk_size(bytes, &e)) {
		conf_err(c, m, "'chunk': %s%s", e.msg, where);
		return;
	}
	v->chunk = (uint32_t)bytes;
}

static void parse_volume(struct conf *c, const config_setting_t *s, int idx)
{
	struct conf_volume *v = &c->volumes[c->nvolumes];
	const config_setting_t *m;
	char where[64];
	const char *name;
	struct ferr e;
	size_t i;

	snprintf(where, sizeof(where), " in volumes[%d]", idx);
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		conf_err(c, s, "volumes[%d] must be a group { name = ...; }",
			 idx);
		return;
	}
	name = get_string(c, s, "name", true, where);
	if (name && check_volume_name(name, &e)) {
		conf_err(c, config_setting_get_member(s, "name"), "%s%s", e.msg,
			 where);
		name = NULL;
	}
	if (name) {
		snprintf(where, sizeof(where), " in volume '%s'", name);
		for (i = 0; i < c->nvolumes; i++)
			if (!strcmp(c->volumes[i].name, name))
				conf_err(
					c, config_setting_get_member(s, "name"),
					"volume '%s' is defined twice (first on line %d)",
					name, c->volumes[i].line);
	}
	check_keys(c, s, volume_keys, where);
	memset(v, 0, sizeof(*v));
	v->data = get_string(c, s, "data", true, where);
	v->cow = get_string(c, s, "cow", true, where);
	m = config_setting_get_member(s, "chunk");
	if (m)
		parse_chunk(c, m, v, where);
	if (!name)
		return;
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->line = (int)config_setting_source_line(s);
	if (c->nvolumes + 1 == CONF_VOLUMES_MAX) {
		conf_err(c, s, "more than %d volumes", CONF_VOLUMES_MAX - 1);
		return;
	}
	c->nvolumes++;
}

/* ---- groups ---- */

static const char *const group_keys[] = {
	"name",	      "volumes",
	"hook",	      "hook_timeout",
	"hook_shell", "accept_lower_label",
	"session",    "session_timeout",
	"schedule",   "retention",
	NULL,
};
static const char *const schedule_keys[] = { "every", NULL };
static const char *const retention_keys[] = { "keep", "min_count", "pin_tags",
					      NULL };
static const char *const rule_keys[] = { "within", "every", NULL };

static void parse_group_volumes(struct conf *c, const config_setting_t *s,
				struct conf_group *g, const char *where)
{
	const config_setting_t *m = config_setting_get_member(s, "volumes");
	const struct conf_volume *v;
	int i, n;
	size_t j, k;

	if (!m) {
		conf_err(c, s, "missing 'volumes'%s", where);
		return;
	}
	if (!config_setting_is_aggregate(m) ||
	    config_setting_type(m) == CONFIG_TYPE_GROUP) {
		conf_err(c, m,
			 "'volumes' must be a list of names [ \"a\", ... ]%s",
			 where);
		return;
	}
	n = config_setting_length(m);
	if (!n)
		conf_err(c, m, "'volumes' is empty%s", where);
	for (i = 0; i < n; i++) {
		const config_setting_t *x = config_setting_get_elem(m, i);
		const char *name = config_setting_get_string(x);

		if (!name) {
			conf_err(c, x, "'volumes' must hold strings%s", where);
			continue;
		}
		v = conf_volume(c, name);
		if (!v) {
			conf_err(c, x,
				 "unknown volume '%s'%s (not in 'volumes')",
				 name, where);
			continue;
		}
		for (j = 0; j < g->nnames; j++)
			if (!strcmp(g->names[j], name))
				break;
		if (j < g->nnames) {
			conf_err(c, x, "volume '%s' is named twice%s", name,
				 where);
			continue;
		}
		for (k = 0; k < c->ngroups; k++)
			for (j = 0; j < c->groups[k].nnames; j++)
				if (!strcmp(c->groups[k].names[j], name))
					conf_err(
						c, x,
						"volume '%s' is already in group '%s'",
						name, c->groups[k].name);
		if (g->nnames == SNAPSHOT_NAMES_MAX) {
			conf_err(c, x, "more than %d volumes%s",
				 SNAPSHOT_NAMES_MAX, where);
			return;
		}
		g->names[g->nnames++] = (char *)v->name;
	}
}

static void parse_rule(struct conf *c, const config_setting_t *s,
		       struct retention *r, const char *where)
{
	struct retention_rule *rule = &r->keep[r->nkeep];
	int ok_within, ok_every;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		conf_err(
			c, s,
			"a 'keep' rule must be a group { within = \"1h\"; every = \"0s\"; }%s",
			where);
		return;
	}
	check_keys(c, s, rule_keys, where);
	memset(rule, 0, sizeof(*rule));
	ok_within = get_duration(c, s, "within", &rule->within_s, where);
	ok_every = get_duration(c, s, "every", &rule->every_s, where);
	if (!ok_within)
		conf_err(c, s, "a 'keep' rule needs 'within'%s", where);
	if (!ok_every)
		conf_err(c, s, "a 'keep' rule needs 'every' (\"0s\": all)%s",
			 where);
	if (ok_within != 1 || ok_every != 1)
		return;
	if (!rule->within_s) {
		conf_err(c, config_setting_get_member(s, "within"),
			 "'within' must be longer than 0s%s", where);
		return;
	}
	if (rule->every_s > rule->within_s) {
		conf_err(c, config_setting_get_member(s, "every"),
			 "'every' is longer than 'within'%s", where);
		return;
	}
	if (r->nkeep == RETENTION_RULES_MAX) {
		conf_err(c, s, "more than %d 'keep' rules%s",
			 RETENTION_RULES_MAX, where);
		return;
	}
	r->nkeep++;
}

static void parse_pins(struct conf *c, const config_setting_t *m,
		       struct retention *r, const char *where)
{
	char kv[FERRY_TAG_KEY_MAX + 8];
	struct ferr e;
	int i, n;

	if (!config_setting_is_aggregate(m) ||
	    config_setting_type(m) == CONFIG_TYPE_GROUP) {
		conf_err(c, m, "'pin_tags' must be a list [ \"keep\", ... ]%s",
			 where);
		return;
	}
	n = config_setting_length(m);
	for (i = 0; i < n; i++) {
		const config_setting_t *x = config_setting_get_elem(m, i);
		const char *key = config_setting_get_string(x);

		if (!key) {
			conf_err(c, x, "'pin_tags' must hold strings%s", where);
			continue;
		}
		if (strlen(key) > FERRY_TAG_KEY_MAX || strchr(key, '=')) {
			conf_err(c, x, "'%s' is not a tag key%s", key, where);
			continue;
		}
		snprintf(kv, sizeof(kv), "%s=", key);
		if (tag_parse(kv, NULL, &e)) {
			conf_err(c, x, "pin tag '%s': %s%s", key, e.msg, where);
			continue;
		}
		if (r->npins == RETENTION_PINS_MAX) {
			conf_err(c, x, "more than %d 'pin_tags'%s",
				 RETENTION_PINS_MAX, where);
			return;
		}
		snprintf(r->pin_tags[r->npins++], sizeof(r->pin_tags[0]), "%s",
			 key);
	}
}

static void parse_retention(struct conf *c, const config_setting_t *s,
			    struct conf_group *g, const char *where)
{
	struct retention *r = &g->retention;
	size_t errors = c->nerrors;
	const config_setting_t *m;
	long long n;
	int i;

	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		conf_err(c, s, "'retention' must be a group { keep = ...; }%s",
			 where);
		return;
	}
	check_keys(c, s, retention_keys, where);
	memset(r, 0, sizeof(*r));
	g->has_retention = true;
	m = config_setting_get_member(s, "keep");
	if (m && config_setting_type(m) != CONFIG_TYPE_LIST)
		conf_err(
			c, m,
			"'keep' must be a list ( { within = ...; every = ...; }, ... )%s",
			where);
	else if (m)
		for (i = 0; i < config_setting_length(m); i++)
			parse_rule(c, config_setting_get_elem(m, i), r, where);
	m = config_setting_get_member(s, "min_count");
	if (m) {
		if (config_setting_type(m) != CONFIG_TYPE_INT &&
		    config_setting_type(m) != CONFIG_TYPE_INT64) {
			conf_err(c, m, "'min_count' must be a number%s", where);
		} else {
			n = config_setting_get_int64(m);
			if (n < 0 || n > MIN_COUNT_MAX)
				conf_err(c, m, "'min_count' must be 0..%d%s",
					 MIN_COUNT_MAX, where);
			else
				r->min_count = (uint32_t)n;
		}
	}
	m = config_setting_get_member(s, "pin_tags");
	if (m)
		parse_pins(c, m, r, where);
	/* Only when nothing else is wrong with it. */
	if (!r->nkeep && !r->min_count && c->nerrors == errors)
		conf_err(
			c, s,
			"retention keeps nothing: give 'keep' rules or 'min_count'%s",
			where);
}

static void parse_hook(struct conf *c, const config_setting_t *s,
		       struct conf_group *g, const char *where)
{
	const config_setting_t *m;
	uint64_t t;
	int got;

	g->hook = get_string(c, s, "hook", false, where);
	g->hook_shell = get_bool(c, s, "hook_shell", where);
	g->accept_lower = get_bool(c, s, "accept_lower_label", where);
	g->hook_timeout_ms = HOOK_DEFAULT_TIMEOUT_MS;
	got = get_duration(c, s, "hook_timeout", &t, where);
	m = config_setting_get_member(s, "hook_timeout");
	if (got == 1 && (!t || t > HOOK_TIMEOUT_MAX_S))
		conf_err(c, m, "'hook_timeout' must be 1s..1d%s", where);
	else if (got == 1)
		g->hook_timeout_ms = (int)(t * 1000);
	if (!g->hook && m)
		conf_err(c, m, "'hook_timeout' needs 'hook'%s", where);
	g->session = get_string(c, s, "session", false, where);
	if (g->session && !g->session[0]) {
		conf_err(c, config_setting_get_member(s, "session"),
			 "'session' is empty%s", where);
		g->session = NULL;
	}
	g->session_timeout_ms = HOOK_DEFAULT_TIMEOUT_MS;
	got = get_duration(c, s, "session_timeout", &t, where);
	m = config_setting_get_member(s, "session_timeout");
	if (got == 1 && (!t || t > HOOK_TIMEOUT_MAX_S))
		conf_err(c, m, "'session_timeout' must be 1s..1d%s", where);
	else if (got == 1)
		g->session_timeout_ms = (int)(t * 1000);
	if (!g->session && m)
		conf_err(c, m, "'session_timeout' needs 'session'%s", where);
	if (g->hook || g->session)
		return;
	if (g->hook_shell)
		conf_err(c, config_setting_get_member(s, "hook_shell"),
			 "'hook_shell' needs 'hook' or 'session'%s", where);
	if (g->accept_lower)
		conf_err(c, config_setting_get_member(s, "accept_lower_label"),
			 "'accept_lower_label' needs 'hook' or 'session'%s",
			 where);
}

static void parse_group(struct conf *c, const config_setting_t *s, int idx)
{
	struct conf_group *g = &c->groups[c->ngroups];
	const config_setting_t *m;
	char where[64];
	const char *name;
	struct ferr e;
	size_t i;

	snprintf(where, sizeof(where), " in groups[%d]", idx);
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		conf_err(c, s, "groups[%d] must be a group { name = ...; }",
			 idx);
		return;
	}
	memset(g, 0, sizeof(*g));
	name = get_string(c, s, "name", true, where);
	if (name && check_volume_name(name, &e)) {
		conf_err(c, config_setting_get_member(s, "name"),
			 "group name: %s%s", e.msg, where);
		name = NULL;
	}
	if (name) {
		snprintf(where, sizeof(where), " in group '%s'", name);
		for (i = 0; i < c->ngroups; i++)
			if (!strcmp(c->groups[i].name, name))
				conf_err(
					c, config_setting_get_member(s, "name"),
					"group '%s' is defined twice (first on line %d)",
					name, c->groups[i].line);
		snprintf(g->name, sizeof(g->name), "%s", name);
	}
	check_keys(c, s, group_keys, where);
	parse_group_volumes(c, s, g, where);
	parse_hook(c, s, g, where);
	m = config_setting_get_member(s, "schedule");
	if (m && config_setting_type(m) != CONFIG_TYPE_GROUP) {
		conf_err(c, m,
			 "'schedule' must be a group { every = \"5m\"; }%s",
			 where);
	} else if (m) {
		check_keys(c, m, schedule_keys, where);
		switch (get_duration(c, m, "every", &g->every_s, where)) {
		case 0:
			conf_err(c, m, "'schedule' needs 'every'%s", where);
			break;
		case 1:
			if (!g->every_s) {
				conf_err(c,
					 config_setting_get_member(m, "every"),
					 "'every' must be longer than 0s%s",
					 where);
			}
			break;
		}
	}
	m = config_setting_get_member(s, "retention");
	if (m)
		parse_retention(c, m, g, where);
	if (!name)
		return;
	g->line = (int)config_setting_source_line(s);
	if (c->ngroups + 1 == CONF_GROUPS_MAX) {
		conf_err(c, s, "more than %d groups", CONF_GROUPS_MAX - 1);
		return;
	}
	c->ngroups++;
}

/* ---- replication ---- */

static const char *const repl_keys[] = { "volume",	    "to",
					 "every",	    "compress",
					 "timeout",	    "max_queued",
					 "max_cow_percent", NULL };

/*
 * 'compress': true (the default level), false, or a level; as replicate
 * --compress[=LEVEL]. Returns the level, 0 for none.
 */
static int get_compress(struct conf *c, const config_setting_t *s,
			const char *where)
{
	const config_setting_t *m = config_setting_get_member(s, "compress");
	int v;

	if (!m)
		return 0;
	if (config_setting_type(m) == CONFIG_TYPE_BOOL)
		return get_bool(c, s, "compress", where) ?
			       COMPRESS_LEVEL_DEFAULT :
			       0;
	v = config_setting_type(m) == CONFIG_TYPE_INT ?
		    config_setting_get_int(m) :
		    0;
	if (v < 1 || v > COMPRESS_LEVEL_MAX) {
		conf_err(c, m, "'compress' must be true, false or 1..%d%s",
			 COMPRESS_LEVEL_MAX, where);
		return 0;
	}
	return v;
}

/* The longest round: as ferry replicate --timeout allows. */
#define REPL_TIMEOUT_MAX_S 86400

/*
 * An integer @key in @lo..@hi: 1 present and valid, 0 absent, -1 wrong
 * (error reported).
 */
static int get_int_range(struct conf *c, const config_setting_t *s,
			 const char *key, long long lo, long long hi,
			 unsigned int *out, const char *where)
{
	const config_setting_t *m = config_setting_get_member(s, key);
	long long n;

	if (!m)
		return 0;
	if (config_setting_type(m) != CONFIG_TYPE_INT &&
	    config_setting_type(m) != CONFIG_TYPE_INT64) {
		conf_err(c, m, "'%s' must be a number%s", key, where);
		return -1;
	}
	n = config_setting_get_int64(m);
	if (n < lo || n > hi) {
		conf_err(c, m, "'%s' must be %lld..%lld%s", key, lo, hi, where);
		return -1;
	}
	*out = (unsigned int)n;
	return 1;
}

static void parse_repl(struct conf *c, const config_setting_t *s, int idx)
{
	struct conf_repl *r = &c->repl[c->nrepl];
	char where[64], host[256], port[16];
	const char *vol;
	bool bad = false;
	struct ferr e;
	size_t i;
	int got;

	snprintf(where, sizeof(where), " in replication[%d]", idx);
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		conf_err(c, s,
			 "replication[%d] must be a group { volume = ...; }",
			 idx);
		return;
	}
	check_keys(c, s, repl_keys, where);
	memset(r, 0, sizeof(*r));
	vol = get_string(c, s, "volume", true, where);
	if (vol && !conf_volume(c, vol)) {
		conf_err(c, config_setting_get_member(s, "volume"),
			 "unknown volume '%s'%s (not in 'volumes')", vol,
			 where);
		vol = NULL;
	}
	for (i = 0; vol && i < c->nrepl; i++)
		if (!strcmp(c->repl[i].volume, vol)) {
			conf_err(
				c, config_setting_get_member(s, "volume"),
				"volume '%s' is replicated twice (first on line %d)",
				vol, c->repl[i].line);
			vol = NULL;
		}
	r->to = get_string(c, s, "to", true, where);
	if (r->to && parse_host_port(r->to, host, port, &e)) {
		conf_err(c, config_setting_get_member(s, "to"), "'to': %s%s",
			 e.msg, where);
		r->to = NULL;
	}
	r->compress_level = get_compress(c, s, where);
	got = get_duration(c, s, "every", &r->every_s, where);
	if (!got)
		conf_err(c, s, "missing 'every'%s", where);
	else if (got == 1 && !r->every_s)
		conf_err(c, config_setting_get_member(s, "every"),
			 "'every' must be longer than 0s%s", where);
	r->timeout_s = REPL_DEFAULT_TIMEOUT_S;
	bad = get_duration(c, s, "timeout", &r->timeout_s, where) < 0;
	if (!bad && (!r->timeout_s || r->timeout_s > REPL_TIMEOUT_MAX_S)) {
		conf_err(c, config_setting_get_member(s, "timeout"),
			 "'timeout' must be 1s..%ds%s", REPL_TIMEOUT_MAX_S,
			 where);
		bad = true;
	}
	r->max_queued = BACKLOG_DEFAULT_MAX_QUEUED;
	if (get_int_range(c, s, "max_queued", 1, BACKLOG_MAX / 2,
			  &r->max_queued, where) < 0)
		bad = true;
	r->max_cow_percent = BACKLOG_DEFAULT_MAX_COW_PERCENT;
	if (get_int_range(c, s, "max_cow_percent", 1, 100, &r->max_cow_percent,
			  where) < 0)
		bad = true;
	if (!vol || !r->to || got != 1 || !r->every_s || bad)
		return;
	snprintf(r->volume, sizeof(r->volume), "%s", vol);
	r->line = (int)config_setting_source_line(s);
	if (c->nrepl + 1 == CONF_REPL_MAX) {
		conf_err(c, s, "more than %d replication pairs",
			 CONF_REPL_MAX - 1);
		return;
	}
	c->nrepl++;
}

/* ---- the file ---- */

static const char *const top_keys[] = { "state_dir", "volumes", "groups",
					"replication", NULL };

static void parse_list(struct conf *c, const config_setting_t *root,
		       const char *key,
		       void (*fn)(struct conf *, const config_setting_t *, int))
{
	const config_setting_t *m = config_setting_get_member(root, key);
	int i;

	if (!m)
		return;
	if (config_setting_type(m) != CONFIG_TYPE_LIST) {
		conf_err(c, m, "'%s' must be a list ( { ... }, { ... } )", key);
		return;
	}
	for (i = 0; i < config_setting_length(m); i++)
		fn(c, config_setting_get_elem(m, i), i);
}

static void conf_check(struct conf *c, config_t *cf)
{
	const config_setting_t *root = config_root_setting(cf);
	const config_setting_t *m;

	check_keys(c, root, top_keys, "");
	m = config_setting_get_member(root, "state_dir");
	if (m) {
		c->state_dir = get_string(c, root, "state_dir", false, "");
		if (c->state_dir && c->state_dir[0] != '/')
			conf_err(c, m, "'state_dir' must be an absolute path");
	}
	parse_list(c, root, "volumes", parse_volume);
	parse_list(c, root, "groups", parse_group);
	parse_list(c, root, "replication", parse_repl);
}

static struct conf *conf_new(const char *path)
{
	struct conf *c = calloc(1, sizeof(*c));
	config_t *cf = calloc(1, sizeof(*cf));

	if (!c || !cf) {
		free(c);
		free(cf);
		return NULL;
	}
	snprintf(c->path, sizeof(c->path), "%s", path);
	config_init(cf);
	c->priv = cf;
	return c;
}

static void syntax_error(struct conf *c, config_t *cf)
{
	const char *file = config_error_file(cf);
	struct conf_error *err = &c->errors[c->nerrors++];

	set_file(err, file ? file : c->path);
	err->line = config_error_line(cf);
	snprintf(err->msg, sizeof(err->msg), "%s", config_error_text(cf));
}

int conf_load(const char *path, bool must_exist, struct conf **out,
	      struct ferr *e)
{
	struct conf *c = conf_new(path);
	config_t *cf;

	if (!c)
		return ferr_set(e, -ENOMEM, "out of memory");
	cf = c->priv;
	*out = c;
	if (access(path, F_OK) < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return ferr_set(e, -errno, "%s: %s", path, strerror(errno));
	}
	c->exists = true;
	if (config_read_file(cf, path) != CONFIG_TRUE) {
		if (config_error_type(cf) == CONFIG_ERR_FILE_IO)
			return ferr_set(e, -EIO, "%s: cannot read file", path);
		syntax_error(c, cf);
		return 0;
	}
	conf_check(c, cf);
	return 0;
}

int conf_load_string(const char *text, const char *name, struct conf **out,
		     struct ferr *e)
{
	struct conf *c = conf_new(name);
	config_t *cf;

	if (!c)
		return ferr_set(e, -ENOMEM, "out of memory");
	cf = c->priv;
	*out = c;
	c->exists = true;
	if (config_read_string(cf, text) != CONFIG_TRUE)
		syntax_error(c, cf);
	else
		conf_check(c, cf);
	return 0;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	config_destroy(c->priv);
	free(c->priv);
	free(c);
}

const struct conf_volume *conf_volume(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nvolumes; i++)
		if (!strcmp(c->volumes[i].name, name))
			return &c->volumes[i];
	return NULL;
}

const struct conf_group *conf_group(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++)
		if (!strcmp(c->groups[i].name, name))
			return &c->groups[i];
	return NULL;
}

const struct conf_group *conf_group_of(const struct conf *c, const char *name)
{
	size_t i, j;

	for (i = 0; i < c->ngroups; i++)
		for (j = 0; j < c->groups[i].nnames; j++)
			if (!strcmp(c->groups[i].names[j], name))
				return &c->groups[i];
	return NULL;
}

const struct conf_repl *conf_replication_pairs(const struct conf *c, size_t *n)
{
	*n = c->nrepl;
	return c->repl;
}

void conf_group_snapshot_args(const struct conf_group *g,
			      struct snapshot_args *a)
{
	size_t i;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < g->nnames; i++)
		a->names[i] = g->names[i];
	a->nnames = g->nnames;
	a->hook = g->hook;
	a->hook_shell = g->hook_shell;
	a->hook_timeout_ms = g->hook_timeout_ms;
	a->accept_lower = g->accept_lower;
	a->session = g->session;
	a->session_timeout_ms = g->session_timeout_ms;
	a->session_timeout_given = g->session != NULL;
}
