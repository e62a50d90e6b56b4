// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: retention (see retention.h). No I/O, no clock: tests give
 * the time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duration.h"
#include "retention.h"

#define NS_PER_S 1000000000ULL

void retention_bucket_name(uint64_t every_s, uint64_t bucket_start_s, char *buf,
			   size_t len)
{
	time_t t = (time_t)bucket_start_s;
	const char *kind, *fmt;
	char when[64], every[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	switch (every_s) {
	case 60:
		kind = "minutely";
		fmt = "%Y-%m-%dT%H:%M";
		break;
	case 3600:
		kind = "hourly";
		fmt = "%Y-%m-%dT%H";
		break;
	case 86400:
		kind = "daily";
		fmt = "%Y-%m-%d";
		break;
	case 7 * 86400:
		kind = "weekly";
		fmt = "%Y-%m-%d";
		break;
	default:
		kind = NULL;
		fmt = "%Y-%m-%dT%H:%M:%SZ";
	}
	strftime(when, sizeof(when), fmt, &tm);
	if (kind) {
		snprintf(buf, len, "%s bucket %s", kind, when);
		return;
	}
	format_duration(every_s, every, sizeof(every));
	snprintf(buf, len, "%s bucket %s", every, when);
}

static const char *pinned_by(const struct retention *r,
			     const struct retention_point *p)
{
	size_t i, j;

	for (i = 0; i < r->npins; i++)
		for (j = 0; j < p->ntags; j++)
			if (!strcmp(r->pin_tags[i], p->tags[j].key))
				return r->pin_tags[i];
	return NULL;
}

/* Newest first; the higher id first at equal times. */
static int newest_first(const void *a, const void *b)
{
	const struct retention_point *x =
		*(const struct retention_point *const *)a;
	const struct retention_point *y =
		*(const struct retention_point *const *)b;

	if (x->created_ns != y->created_ns)
		return x->created_ns < y->created_ns ? 1 : -1;
	return (x->id < y->id) - (x->id > y->id);
}

static void decide(struct retention_point *p, bool keep, const char *fmt,
		   const char *arg)
{
	p->keep = keep;
	snprintf(p->reason, sizeof(p->reason), fmt, arg);
}

static void decide_clone(struct retention_point *p)
{
	p->keep = true;
	snprintf(p->reason, sizeof(p->reason), "has clone %u", p->clone);
}

/* Marks the points @rule keeps that have no decision yet. */
static void apply_rule(const struct retention_rule *rule,
		       struct retention_point **v, size_t n, bool *decided,
		       uint64_t now_ns)
{
	uint64_t now_s = now_ns / NS_PER_S, last_bucket = 0;
	bool have_bucket = false;
	char text[RETENTION_REASON_MAX], within[32];
	size_t i;

	format_duration(rule->within_s, within, sizeof(within));
	for (i = 0; i < n; i++) {
		struct retention_point *p = v[i];
		uint64_t t = p->created_ns / NS_PER_S, age, bucket;

		if (p->invalid)
			continue;
		age = now_s > t ? now_s - t : 0;
		if (age >= rule->within_s)
			break; /* newest first: the rest are older */
		if (!rule->every_s) {
			if (!decided[i]) {
				decide(p, true, "within %s", within);
				decided[i] = true;
			}
			continue;
		}
		bucket = t / rule->every_s;
		if (have_bucket && bucket == last_bucket)
			continue; /* a newer point holds this bucket */
		have_bucket = true;
		last_bucket = bucket;
		if (decided[i])
			continue;
		retention_bucket_name(rule->every_s, bucket * rule->every_s,
				      text, sizeof(text));
		decide(p, true, "%s", text);
		decided[i] = true;
	}
}

int retention_apply(const struct retention *r, struct retention_point *p,
		    size_t n, uint64_t now_ns)
{
	struct retention_point **v;
	char text[RETENTION_REASON_MAX];
	uint32_t newest = 0;
	bool *decided;
	const char *pin;
	size_t i;
	int del = 0;

	if (!n)
		return 0;
	v = calloc(n, sizeof(*v));
	decided = calloc(n, sizeof(*decided));
	if (!v || !decided) {
		free(v);
		free(decided);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		v[i] = &p[i];
	qsort(v, n, sizeof(*v), newest_first);
	snprintf(text, sizeof(text), "newest %u (min_count)", r->min_count);
	for (i = 0; i < n; i++) {
		struct retention_point *q = v[i];

		decided[i] = true;
		pin = pinned_by(r, q);
		if (pin)
			decide(q, true, "pinned by tag %s", pin);
		else if (q->needed_by_replication)
			decide(q, true, "%s", "needed by replication");
		else if (q->clone)
			decide_clone(q);
		else if (q->invalid)
			decide(q, false, "%s", "invalid (its data is gone)");
		else if (newest < r->min_count)
			decide(q, true, "%s", text);
		else
			decided[i] = false;
		/* min_count counts the newest valid points, kept or not. */
		if (!q->invalid)
			newest++;
	}
	for (i = 0; i < r->nkeep; i++)
		apply_rule(&r->keep[i], v, n, decided, now_ns);
	for (i = 0; i < n; i++) {
		if (!decided[i])
			decide(v[i], false, "%s", "outside every rule");
		if (!v[i]->keep)
			del++;
	}
	free(v);
	free(decided);
	return del;
}
