/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: tags travel between the sites.
 *
 * `ferry tag` at the primary queues each update of a replicated volume
 * (tagq.h); every replication session sends the queue as TAG frames, in
 * order, and drops an update only when its TAG_ACK came back. The
 * receiver applies it to the replica snapshot of that point and answers
 * with the point's tag set; then it reports the tag sets of its points
 * that changed since it last reported them (drill results set at the
 * second site), which the primary stores in its catalog.
 */
#ifndef FERRY_REPL_TAGS_H
#define FERRY_REPL_TAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "conn.h"
#include "context.h"
#include "kapi.h"
#include "snap.h"
#include "util.h"
#include "wire.h"

struct tags_result {
	unsigned int sent; /* updates acknowledged (sender), applied (receiver) */
	unsigned int unknown; /* updates for points the replica does not hold */
	unsigned int reported; /* tag sets reported back */
	size_t queued; /* sender: updates still queued afterwards */
};

/*
 * Queues @kv for @point of volume @name when the volume is replicated
 * (it has a base file); ferry.* keys are the agent's and stay home.
 */
int repl_tag_enqueue(const struct ferry_ctx *ctx, const char *name,
		     const char *point, char *const *kv, size_t n,
		     struct ferr *e);

/*
 * Sets @kv on @point of @name in the catalog (a point whose snapshot is
 * gone), and fills @out with the point's tags. -ENOENT when the catalog
 * does not know it.
 */
int repl_tag_catalog(const struct ferry_ctx *ctx, const char *name,
		     const char *point, char *const *kv, size_t n,
		     struct ferry_snap_info *out, struct ferr *e);

/* Updates queued for @name (0 without a queue). */
size_t repl_tags_queued(const struct ferry_ctx *ctx, const char *name);

/* Sender: the queue as TAG frames, then the receiver's reports. */
int repl_tags_send(const struct ferry_ctx *ctx, const char *name,
		   struct conn *c, struct tags_result *r, struct ferr *e);

/*
 * Receiver: the session that began with @h (TAG or TAGS_DONE; @payload
 * its payload), on replica volume @name.
 */
int repl_tags_serve(const struct ferry_ctx *ctx, const char *name,
		    struct conn *c, const struct wire_hdr *h,
		    const uint8_t *payload, struct tags_result *r,
		    struct ferr *e);

#endif /* FERRY_REPL_TAGS_H */
