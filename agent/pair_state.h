/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: what a replication pair is doing now, for ferry status:
 * STATE_DIR/pair-NAME.state ("key=value" lines, replaced atomically),
 * written by the daemon's rounds; and the pair's events, one JSON
 * object a line appended to STATE_DIR/events-NAME.log.
 */
#ifndef FERRY_PAIR_STATE_H
#define FERRY_PAIR_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "wire.h"

enum pair_phase {
	PAIR_IDLE = 0, /* between rounds, nothing pending */
	PAIR_SENDING, /* the data of a point is on its way */
	PAIR_WAITING_ARRIVAL, /* all sent, waiting for ARRIVED and ACK */
	PAIR_LINK_DOWN, /* the last round could not reach the second site */
	PAIR_FAILED, /* the last round failed for another reason */
};

struct pair_state {
	enum pair_phase phase;
	char to[128];
	char point[WIRE_POINT_MAX + 1]; /* the point of the round */
	uint64_t bytes_sent; /* of the round so far */
	uint64_t bytes_total; /* of the round */
	uint64_t rate; /* bytes per second, of the round so far */
	uint64_t started; /* the round, Unix seconds; 0: none yet */
	uint64_t updated; /* this record, Unix seconds */
	char error[160]; /* why the last round failed, "" */
};

/* "idle", "sending", "waiting-arrival", "link-down", "failed" */
const char *pair_phase_name(enum pair_phase p);

int pair_state_format(const struct pair_state *s, char *buf, size_t len);
int pair_state_parse(const char *text, struct pair_state *s, struct ferr *e);
/* -ENOENT (no message) when the file does not exist. */
int pair_state_load(const char *path, struct pair_state *s, struct ferr *e);
int pair_state_save(const char *path, const struct pair_state *s,
		    struct ferr *e);
/* Seconds left at the round's rate, or -1 when unknown. */
long long pair_state_eta(const struct pair_state *s);

/* "DIR/pair-NAME.state", "DIR/events-NAME.log" */
int pair_state_path(const char *dir, const char *name, char *buf, size_t len);
int pair_events_path(const char *dir, const char *name, char *buf, size_t len);

/*
 * Appends {"time", "volume", "event", "message"} as one line to the
 * pair's event log (O_APPEND, one write). Best effort: 0 or -errno.
 */
int pair_event_append(const char *dir, const char *name, const char *event,
		      const char *message);

#endif /* FERRY_PAIR_STATE_H */
