/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: the configuration file's model, validated: volumes,
 * groups (schedule, hook, retention) and replication pairs. config.c
 * reads the file; this checks every setting and reports each problem as
 * "FILE:LINE: message" (docs/config.md describes the keys).
 */
#ifndef FERRY_CONF_H
#define FERRY_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/ferry.h>

#include "backlog.h"
#include "cmd_snap.h"
#include "retention.h"
#include "util.h"

#define CONF_VOLUMES_MAX 64
#define CONF_GROUPS_MAX 32
#define CONF_REPL_MAX 64
#define CONF_ERRORS_MAX 100
#define CONF_PATH_MAX 512

struct conf_volume {
	char name[FERRY_NAME_MAX + 1];
	const char *data;
	const char *cow;
	uint32_t chunk; /* 0: the kernel's default */
	int line;
};

struct conf_group {
	char name[FERRY_NAME_MAX + 1];
	char *names[SNAPSHOT_NAMES_MAX]; /* the volumes, snapshot together */
	size_t nnames;
	const char *hook; /* NULL: none */
	int hook_timeout_ms;
	bool hook_shell;
	bool accept_lower;
	const char *session; /* quiesce session helper; NULL: none */
	int session_timeout_ms;
	uint64_t every_s; /* schedule; 0: none */
	bool has_retention;
	struct retention retention;
	int line;
};

#define REPL_DEFAULT_TIMEOUT_S 600

/* A replication pair, run by the daemon every every_s. */
struct conf_repl {
	char volume[FERRY_NAME_MAX + 1];
	const char *to; /* HOST:PORT */
	uint64_t every_s;
	int compress_level; /* 'compress': zstd level, 0 off */
	uint64_t timeout_s; /* one round, from the point to the ack */
	unsigned int max_queued; /* the backlog's bound (backlog.h) */
	unsigned int max_cow_percent;
	int line;
};

struct conf_error {
	char file[CONF_PATH_MAX];
	int line; /* 0: the file as a whole */
	char msg[256];
};

struct conf {
	char path[CONF_PATH_MAX];
	bool exists; /* false: no file (every list empty) */
	const char *state_dir; /* NULL: unset */
	struct conf_volume volumes[CONF_VOLUMES_MAX];
	size_t nvolumes;
	struct conf_group groups[CONF_GROUPS_MAX];
	size_t ngroups;
	struct conf_repl repl[CONF_REPL_MAX];
	size_t nrepl;
	struct conf_error errors[CONF_ERRORS_MAX];
	size_t nerrors;
	size_t errors_dropped;
	void *priv; /* the libconfig tree the strings point into */
};

/*
 * Reads and checks @path. Returns 0 with the problems in (*out)->errors
 * (syntax errors too), or a negative errno with @e set when the file
 * cannot be read; a missing file is no error unless @must_exist.
 */
int conf_load(const char *path, bool must_exist, struct conf **out,
	      struct ferr *e);
/* The same for text in memory, reported as file @name (tests). */
int conf_load_string(const char *text, const char *name, struct conf **out,
		     struct ferr *e);
void conf_free(struct conf *c);

/* "FILE:LINE: message" (or "FILE: message") of error @i. */
void conf_error_text(const struct conf *c, size_t i, char *buf, size_t len);

const struct conf_volume *conf_volume(const struct conf *c, const char *name);
const struct conf_group *conf_group(const struct conf *c, const char *name);
/* The group that snapshots volume @name, or NULL. */
const struct conf_group *conf_group_of(const struct conf *c, const char *name);

/* The replication pairs, for whoever runs them. */
const struct conf_repl *conf_replication_pairs(const struct conf *c, size_t *n);

/* snapshot arguments of group @g, as "ferry snapshot" would get them. */
void conf_group_snapshot_args(const struct conf_group *g,
			      struct snapshot_args *a);

#endif /* FERRY_CONF_H */
