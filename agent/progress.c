// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: a progress line on stderr, at most once a second.
 */
#include <stdio.h>

#include "xfer.h"

static progress_observer_fn observer;
static void *observer_arg;

void progress_observe(progress_observer_fn fn, void *arg)
{
	observer = fn;
	observer_arg = arg;
}

void progress_start(struct progress *p, bool on, uint64_t total)
{
	p->on = on;
	p->total = total;
	p->start_ms = mono_ms();
	p->last_ms = p->start_ms;
}

void progress_update(struct progress *p, uint64_t done, bool last)
{
	long long now = mono_ms();
	char a[32], b[32], r[32];
	double secs;

	if ((!p->on && !observer) || (!last && now - p->last_ms < 1000))
		return;
	p->last_ms = now;
	secs = (double)(now - p->start_ms) / 1000.0;
	if (observer)
		observer(observer_arg, done, p->total, secs);
	if (!p->on)
		return;
	format_size(done, a, sizeof(a));
	format_size(p->total, b, sizeof(b));
	format_size(secs > 0 ? (uint64_t)((double)done / secs) : 0, r,
		    sizeof(r));
	fprintf(stderr, "ferry: sent %s of %s (%u%%), %s/s%s", a, b,
		p->total ? (unsigned int)(done * 100 / p->total) : 100, r,
		last ? "\n" : "\r");
	fflush(stderr);
}
