/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: JSON renderings (json-c) of what the commands print.
 */
#ifndef FERRY_JSON_OUT_H
#define FERRY_JSON_OUT_H

#include <json-c/json.h>
#include <stdio.h>

#include "volume.h"

/* One volume of "ferry status --json"; NULL when out of memory. */
struct json_object *volume_to_json(const struct ferry_volume *v);

/* The array of "ferry status --json". */
struct json_object *volumes_to_json(const struct ferry_volume *v, size_t n);

/* Prints @obj pretty, with a final newline, and drops the reference. */
int json_print(FILE *f, struct json_object *obj);

#endif /* FERRY_JSON_OUT_H */
