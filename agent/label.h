/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: the consistency label of a recovery point, decided before
 * the kernel is asked for the snapshot, and the point's id.
 *
 *   application  a freeze hook was given and succeeded
 *   filesystem   no successful hook, but a filesystem is mounted on every
 *                volume of the group (the kernel freezes it)
 *   crash        otherwise
 */
#ifndef FERRY_LABEL_H
#define FERRY_LABEL_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum ferry_label {
	LABEL_CRASH,
	LABEL_FILESYSTEM,
	LABEL_APPLICATION,
};

struct label_input {
	bool hook_given;
	bool freeze_ok; /* the freeze hook exited 0 in time */
	bool accept_lower; /* --accept-lower-label */
	bool fs_mounted; /* on every volume of the group */
	const char *requested; /* --label, NULL: none */
};

/*
 * The label, or a negative errno with @e set: a failed freeze hook
 * without --accept-lower-label (-ECANCELED: no point may be taken), or a
 * --label above what can be honestly claimed (-EINVAL). A --label below
 * the decided one is taken as asked.
 */
int label_decide(const struct label_input *in, enum ferry_label *out,
		 struct ferr *e);

const char *label_name(enum ferry_label l);
/* -1 for an unknown name. */
int label_from_name(const char *name);

/*
 * Whether /proc/self/mountinfo text @mi has a mount of device
 * @major:@minor (its third field).
 */
bool mountinfo_has_dev(const char *mi, unsigned int major, unsigned int minor);

/* The same against /proc/self/mountinfo for block device node @path. */
bool device_is_mounted(const char *path);

/* A random (version 4) UUID in lower-case text; @buf holds 37 bytes. */
int point_id_new(char *buf, size_t len, struct ferr *e);

/* 8..64 bytes of [A-Za-z0-9._-] with a non-digit: a point id, not a SNAPID. */
bool looks_like_point_id(const char *s);

#endif /* FERRY_LABEL_H */
