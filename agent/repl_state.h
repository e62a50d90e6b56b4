/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: the durable replication state of a volume, one small text
 * file in the state directory, replaced atomically (tmp, fsync, rename).
 *
 * At the primary (repl-NAME.base) it is the base of the next delta: the
 * epoch and CBT identity of the last acknowledged point. At the second
 * site (recv-NAME.state) it is the last point that arrived there.
 */
#ifndef FERRY_REPL_STATE_H
#define FERRY_REPL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "wire.h"

struct repl_state {
	uint64_t epoch; /* of the source snapshot of the point */
	uint8_t cbt_uuid[16];
	uint64_t cbt_gen;
	char point[WIRE_POINT_MAX + 1];
	uint32_t source_snap_id;
	uint32_t replica_snap_id;
	char peer[128]; /* HOST:PORT it went to, or came from */
	/* Primary: the point being sent, kept until acknowledged. */
	char inflight_point[WIRE_POINT_MAX + 1];
	uint32_t inflight_snap_id;
	bool failed; /* the last round ended without an ack */
	uint64_t created; /* of the acknowledged point (Unix seconds) */
	uint64_t acked_at; /* when its ack arrived (Unix seconds) */
	uint64_t bytes_sent; /* by the round that sent it */
};

/* Text form, "key=value" lines; returns the length or -ENOSPC. */
int repl_state_format(const struct repl_state *s, char *buf, size_t len);
/*
 * Parses the text form; -EINVAL with a reason for anything odd. A file
 * may hold only an in-flight point (no base yet): then point is "".
 */
int repl_state_parse(const char *text, struct repl_state *s, struct ferr *e);

/* Reads @path: 0, -ENOENT when it does not exist, else an error in @e. */
int repl_state_load(const char *path, struct repl_state *s, struct ferr *e);
/* Writes @path atomically and durably (tmp file, fsync, rename, fsync dir). */
int repl_state_save(const char *path, const struct repl_state *s,
		    struct ferr *e);

/* Replaces @path with @n bytes of @buf: tmp file, fsync, rename, fsync dir. */
int state_file_write(const char *path, const char *buf, size_t n,
		     struct ferr *e);

/* A random (version 4) UUID as text, the id of a new point. */
int new_point_id(char *buf, size_t len, struct ferr *e);

#endif /* FERRY_REPL_STATE_H */
