// SPDX-License-Identifier: GPL-2.0
/*
 * ferry: the exception map ("many snapshots, one copy").
 *
 * The first write to a chunk in epoch cur preserves the old data once if
 * any live snapshot still sees it, i.e. has an epoch in
 * [written(c), cur - 1]; that one copy serves all of them. Eight live
 * snapshots therefore cost about what one costs. The same written map
 * answers changed-block queries for any earlier epoch, whether or not its
 * snapshot still exists.
 */
#include <linux/bsearch.h>
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "exc.h"

int ferry_excmap_init(struct ferry_excmap *m, u64 nr_chunks)
{
	m->w16 = kvcalloc(nr_chunks, sizeof(*m->w16), GFP_KERNEL);
	if (!m->w16)
		return -ENOMEM;
	m->w32 = NULL;
	m->base = 0;
	m->span = U16_MAX;
	m->nr_chunks = nr_chunks;
	m->nr_excs = 0;
	xa_init(&m->excs);
	return 0;
}

void ferry_excmap_destroy(struct ferry_excmap *m,
			  void (*put)(void *arg, u64 cow_chunk), void *arg)
{
	struct ferry_exc *e, *next;
	unsigned long c;

	xa_for_each(&m->excs, c, e) {
		for (; e; e = next) {
			next = e->next;
			if (put)
				put(arg, e->cow_chunk);
			kfree(e);
		}
	}
	xa_destroy(&m->excs);
	kvfree(m->w16);
	kvfree(m->w32);
	m->w16 = NULL;
	m->w32 = NULL;
	m->nr_excs = 0;
}

int ferry_excmap_advance(struct ferry_excmap *m, u32 next, u32 floor)
{
	u32 *w32, up;
	u64 c;

	if (m->w32 || next - m->base <= m->span)
		return 0;
	/* Half the span at least until the next move: O(chunks) each. */
	if (next - floor <= m->span / 2) {
		up = floor - m->base;
		for (c = 0; c < m->nr_chunks; c++)
			m->w16[c] = m->w16[c] > up ? m->w16[c] - up : 0;
		m->base = floor;
		return 0;
	}
	w32 = kvcalloc(m->nr_chunks, sizeof(*w32), GFP_KERNEL);
	if (!w32)
		return -ENOMEM;
	for (c = 0; c < m->nr_chunks; c++)
		w32[c] = m->base + m->w16[c];
	kvfree(m->w16);
	m->w16 = NULL;
	m->w32 = w32;
	return 0;
}

u64 ferry_excmap_bytes(const struct ferry_excmap *m)
{
	return m->nr_chunks * (m->w32 ? sizeof(*m->w32) : sizeof(*m->w16));
}

/* Index of the first live epoch >= lo, or live->n. */
static unsigned int ferry_epochs_lower_bound(const struct ferry_epochs *live,
					     u32 lo)
{
	unsigned int first = 0, count = live->n;

	while (count) {
		unsigned int step = count / 2;

		if (live->e[first + step] < lo) {
			first += step + 1;
			count -= step + 1;
		} else {
			count = step;
		}
	}
	return first;
}

bool ferry_epochs_any_in(const struct ferry_epochs *live, u32 lo, u32 hi)
{
	unsigned int i = ferry_epochs_lower_bound(live, lo);

	return i < live->n && live->e[i] <= hi;
}

bool ferry_exc_need_copy(struct ferry_excmap *m, u64 c, u32 cur,
			 const struct ferry_epochs *live, u32 *lo, u32 *hi)
{
	u32 w = ferry_written(m, c);

	if (w >= cur || !ferry_epochs_any_in(live, w, cur - 1))
		return false;
	*lo = w;
	*hi = cur - 1;
	return true;
}

int ferry_exc_insert(struct ferry_excmap *m, u64 c, struct ferry_exc *e,
		     gfp_t gfp)
{
	int ret;

	e->next = xa_load(&m->excs, c);
	ret = xa_err(xa_store(&m->excs, c, e, gfp));
	if (!ret)
		m->nr_excs++;
	return ret;
}

enum ferry_src ferry_exc_lookup(struct ferry_excmap *m, u64 c, u32 s,
				u64 *cow_chunk)
{
	struct ferry_exc *e;

	if (ferry_written(m, c) <= s)
		return FERRY_SRC_ORIGIN;
	for (e = xa_load(&m->excs, c); e; e = e->next) {
		if (e->lo <= s && s <= e->hi) {
			*cow_chunk = e->cow_chunk;
			return FERRY_SRC_COW;
		}
	}
	return FERRY_SRC_LOST;
}

u64 ferry_exc_prune(struct ferry_excmap *m, const struct ferry_epochs *live,
		    void (*put)(void *arg, u64 cow_chunk), void *arg)
{
	struct ferry_exc *head, *e, **link;
	unsigned long c;
	u64 freed = 0;

	xa_for_each(&m->excs, c, head) {
		link = &head;
		while ((e = *link)) {
			if (ferry_epochs_any_in(live, e->lo, e->hi)) {
				link = &e->next;
				continue;
			}
			*link = e->next;
			put(arg, e->cow_chunk);
			kfree(e);
			freed++;
		}
		if (!head)
			xa_erase(&m->excs, c);
		else if (head != xa_load(&m->excs, c))
			/* Replacing an existing entry needs no allocation. */
			xa_store(&m->excs, c, head, GFP_NOWAIT);
	}
	m->nr_excs -= freed;
	return freed;
}

/* The epoch in which chunk c's content as of epoch @until was written. */
static u32 ferry_exc_written_as_of(struct ferry_excmap *m, u64 c,
				   u32 until)
{
	u32 w = ferry_written(m, c);
	struct ferry_exc *e;

	if (w <= until)
		return w;
	for (e = xa_load(&m->excs, c); e; e = e->next)
		if (e->lo <= until && until <= e->hi)
			return e->lo;
	/* No snapshot kept it: it cannot be proven unchanged. */
	return FERRY_EPOCH_NOW;
}

u64 ferry_exc_next_changed(struct ferry_excmap *m, u64 start,
			   u32 since, u32 until, u64 *run)
{
	u64 c, end;

	for (c = start; c < m->nr_chunks; c++)
		if (ferry_exc_written_as_of(m, c, until) > since)
			break;
	for (end = c; end < m->nr_chunks; end++)
		if (ferry_exc_written_as_of(m, end, until) <= since)
			break;
	*run = end - c;
	return c;
}
