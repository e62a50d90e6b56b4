/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: JSON and text renderings of snapshots, changed extents and
 * events. Field names are part of the CLI contract (docs/ferry.8).
 */
#ifndef FERRY_SNAP_OUT_H
#define FERRY_SNAP_OUT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "snap.h"

/*
 * One snapshot: id, point, device (null without a disk), state, label,
 * created, tags, epoch, stall_ns, freeze_ns, frozen, cow_bytes, writable,
 * parent (clones only); "name" first when @with_name.
 */
struct json_object *snap_to_json(const struct ferry_snap_info *s,
				 bool with_name);
struct json_object *snaps_to_json(const struct snap_list *list, bool with_name);

/* {"key": "value", ...} */
struct json_object *tags_to_json(const struct ferry_snap_info *s);

/* The header and one row of "ferry snapshots", without newlines. */
void snap_table_header(char *buf, size_t len);
void snap_to_row(const struct ferry_snap_info *s, char *buf, size_t len);

/* "k=v,k2=v2" in key order, "-" when there are none. */
void tags_to_text(const struct ferry_snap_info *s, char *buf, size_t len);

/* "NAME SNAPID DEVICE" of "ferry snapshot" and "ferry clone". */
void snap_to_line(const struct ferry_snap_info *s, char *buf, size_t len);

/* {"cbt_uuid", "cbt_gen", "extents": [{offset, length}], "bytes"} */
struct json_object *changed_to_json(const struct changed_map *m);

/* EVENT NAME [snap=ID] [tag=K=V] [msg="..."] */
void event_to_text(const struct ferry_event_info *ev, char *buf, size_t len);

/* {"event", "name", "snap", "tag", "message", "time"}; absent: null. */
struct json_object *event_to_json(const struct ferry_event_info *ev);

/* Prints @obj on one line and drops the reference. */
int json_print_line(FILE *f, struct json_object *obj);

#endif /* FERRY_SNAP_OUT_H */
