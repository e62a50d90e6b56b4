/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: a small wrapper around io_uring for the data path.
 *
 * Set up like fio's engine (SINGLE_ISSUER|DEFER_TASKRUN, then
 * COOP_TASKRUN, then plain flags, each on EINVAL; never SQPOLL). When
 * io_uring is not available at all, the same calls run synchronously
 * (pread, pwrite, send, recv) and queue their completions, so the
 * transfer code has one shape either way.
 */
#ifndef FERRY_RING_H
#define FERRY_RING_H

#include <liburing.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "util.h"

#define RING_CQ_BATCH 64

struct ring_cqe {
	uint64_t user_data;
	int res;
};

struct ring {
	bool uring; /* false: the synchronous fallback */
	bool fixed; /* buffers registered: READ_FIXED / WRITE_FIXED */
	unsigned int flags; /* the setup flags that were accepted */
	struct io_uring ring;
	unsigned int pending; /* prepared, not yet submitted (uring) */
	unsigned int inflight;
	/* Fallback: completions of calls already made. */
	struct ring_cqe done[RING_CQ_BATCH];
	unsigned int ndone;
};

/*
 * Sets up a ring of @entries and registers @iov (one region per slot).
 * Falls back to synchronous I/O when io_uring cannot be set up; @verbose
 * says so on stderr in one line. Fails only on real errors.
 */
int ring_init(struct ring *r, unsigned int entries, const struct iovec *iov,
	      unsigned int niov, bool verbose, struct ferr *e);
void ring_exit(struct ring *r);

/* Room for one more request without submitting? */
bool ring_has_room(const struct ring *r);

/*
 * Queue a read into / write from registered buffer @buf_index (which
 * must contain @buf), a send of @len bytes (MSG_WAITALL) or a receive.
 */
int ring_read(struct ring *r, int fd, void *buf, unsigned int len, uint64_t off,
	      int buf_index, uint64_t user_data);
int ring_write(struct ring *r, int fd, const void *buf, unsigned int len,
	       uint64_t off, int buf_index, uint64_t user_data);
int ring_send(struct ring *r, int fd, const void *buf, unsigned int len,
	      uint64_t user_data);

/*
 * Submits what is queued and waits for at least @min completions (0: just
 * reap what is there); fills up to @max into @out. Returns how many, or a
 * negative errno.
 */
int ring_wait(struct ring *r, unsigned int min, struct ring_cqe *out,
	      unsigned int max);

/* "io_uring (single-issuer, defer-taskrun, fixed buffers)" or "sync" */
void ring_describe(const struct ring *r, char *buf, size_t len);

#endif /* FERRY_RING_H */
