/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: the bulk of a replication stream, DATA and ZERO frames,
 * on the ring: the sender reads the snapshot device with O_DIRECT into
 * registered buffers, several reads in flight, and sends the frames in
 * order with one send in flight; the receiver receives into registered
 * buffers, verifies, and writes with O_DIRECT, several writes in flight.
 */
#ifndef FERRY_XFER_H
#define FERRY_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "snap.h"
#include "util.h"

#define XFER_IO_SIZE WIRE_MAX_PAYLOAD
#define XFER_DEPTH 8

struct xfer_opts {
	bool verbose; /* one line about the I/O engine */
	bool progress; /* a line on stderr at most once a second */
	unsigned int depth; /* 0: XFER_DEPTH */
	int idle_ms; /* receiver: longest wait for a frame (0: none) */
	uint64_t bwlimit; /* sender: bytes per second (0: no limit) */
	/*
	 * Sender: zstd level of DATA payloads (0: none); used only when the
	 * connection negotiated WIRE_FEAT_ZSTD.
	 */
	int compress_level;
	/*
	 * Receiver: frames must come in offset order from @start (the
	 * resume offset); every RESUME_EVERY bytes the writes are drained
	 * and flushed and @checkpoint is told the durable offset.
	 */
	uint64_t start;
	int (*checkpoint)(void *arg, uint64_t offset, struct ferr *e);
	void *arg;
};

struct xfer_stats {
	uint64_t data_bytes; /* DATA payloads, decompressed */
	uint64_t data_wire_bytes; /* DATA payloads as on the wire */
	uint64_t zstd_frames; /* DATA frames sent compressed */
	uint64_t zero_bytes; /* covered by ZERO frames */
	uint64_t frames; /* DATA + ZERO */
	uint64_t total; /* bytes of the extents to send */
	uint64_t end_offset; /* receiver: end of the last frame */
};

/*
 * Sends @n extents of @dev_fd (the snapshot device, opened O_DIRECT)
 * as DATA frames, all-zero pieces as ZERO frames (when negotiated), then
 * STREAM_END.
 */
int xfer_send(struct conn *c, int dev_fd, const struct extent *x, size_t n,
	      const struct xfer_opts *o, struct xfer_stats *st, struct ferr *e);

/*
 * Receives frames up to STREAM_END, writes them to @dev_fd (O_DIRECT,
 * @lbs its logical block size), checks STREAM_END's totals and makes it
 * all durable (fdatasync) before returning 0.
 */
int xfer_recv(struct conn *c, int dev_fd, unsigned int lbs,
	      const struct xfer_opts *o, struct xfer_stats *st, struct ferr *e);

/* Progress line: "sent 12.0MiB of 128MiB (9%), 4.1MiB/s". */
struct progress {
	bool on;
	uint64_t total;
	long long start_ms;
	long long last_ms;
};

void progress_start(struct progress *p, bool on, uint64_t total);
void progress_update(struct progress *p, uint64_t done, bool last);

/*
 * Also tell @fn (NULL: nobody) about the progress of every transfer,
 * at most once a second, whether or not the line is shown.
 */
typedef void (*progress_observer_fn)(void *arg, uint64_t done, uint64_t total,
				     double seconds);
void progress_observe(progress_observer_fn fn, void *arg);

#endif /* FERRY_XFER_H */
