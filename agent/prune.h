/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: ferry prune: retention applied to a volume's snapshots in
 * the kernel. Deletes in the kernel first, then marks the point deleted
 * in the catalog: a kill between the two leaves a catalog that the next
 * reconcile fixes (a live point whose snapshot is gone becomes deleted).
 */
#ifndef FERRY_PRUNE_H
#define FERRY_PRUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "context.h"
#include "kapi.h"
#include "repl_state.h"
#include "retention.h"
#include "snap.h"

struct prune_args {
	const char *name; /* a volume, or NULL with @group */
	const char *group;
	bool dry_run;
};

int prune_parse(struct ferry_ctx *ctx, int argc, char **argv,
		struct prune_args *a, struct ferr *e);
extern const char prune_usage[];

/*
 * The retention input for @kernel (a volume's snapshots): clones are no
 * points (their parent gets clone set), the replication base (@base, may
 * be NULL) is needed. *@out points into @kernel's tags: free *@out
 * before @kernel. Pure; -ENOMEM.
 */
int prune_plan(const struct snap_list *kernel, const struct repl_state *base,
	       struct retention_point **out, size_t *n);

/* One decision, and the error of its delete (NULL: none or dry run). */
typedef void (*prune_fn)(const char *volume, const struct retention_point *p,
			 const char *error, void *arg);

/*
 * Applies @r to volume @name at @now_ns, deleting unless @dry_run; @c may
 * be NULL (no catalog). Returns the number of failed deletes, or a
 * negative errno with @e set when nothing could be decided.
 */
int prune_volume(const char *state_dir, struct kapi *k, struct catalog *c,
		 const char *name, const struct retention *r, uint64_t now_ns,
		 bool dry_run, prune_fn fn, void *arg, struct ferr *e);

/* "keep 3 POINT newest 3 (min_count)" */
void prune_line(const struct retention_point *p, char *buf, size_t len);

int cmd_prune(struct ferry_ctx *ctx, int argc, char **argv);

#endif /* FERRY_PRUNE_H */
