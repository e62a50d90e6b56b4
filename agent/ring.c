// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: io_uring wrapper with a synchronous fallback.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ring.h"

/* Newest first; each retried without its newest flag on EINVAL. */
static const unsigned int setup_flags[] = {
	IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
		IORING_SETUP_COOP_TASKRUN,
	IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
	IORING_SETUP_COOP_TASKRUN,
	0,
};

int ring_init(struct ring *r, unsigned int entries, const struct iovec *iov,
	      unsigned int niov, bool verbose, struct ferr *e)
{
	struct io_uring_params p;
	size_t i;
	int err = -EINVAL;

	(void)e;
	memset(r, 0, sizeof(*r));
	for (i = 0; i < ARRAY_SIZE(setup_flags); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = setup_flags[i] | IORING_SETUP_CQSIZE;
		p.cq_entries = entries * 2;
		err = io_uring_queue_init_params(entries, &r->ring, &p);
		if (err != -EINVAL)
			break;
	}
	if (err) {
		if (verbose)
			fprintf(stderr,
				"ferry: io_uring unavailable (%s), using synchronous I/O\n",
				strerror(-err));
		return 0;
	}
	r->uring = true;
	r->flags = p.flags;
	if (niov && !io_uring_register_buffers(&r->ring, iov, niov))
		r->fixed = true;
	else if (niov && verbose)
		fprintf(stderr,
			"ferry: cannot register buffers, using plain reads and writes\n");
	return 0;
}

void ring_exit(struct ring *r)
{
	if (r->uring)
		io_uring_queue_exit(&r->ring);
	r->uring = false;
}

bool ring_has_room(const struct ring *r)
{
	if (r->uring)
		return r->inflight + r->pending < r->ring.sq.ring_entries;
	return r->ndone < RING_CQ_BATCH;
}

static struct io_uring_sqe *get_sqe(struct ring *r, uint64_t user_data)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

	if (!sqe) {
		io_uring_submit(&r->ring);
		r->inflight += r->pending;
		r->pending = 0;
		sqe = io_uring_get_sqe(&r->ring);
		if (!sqe)
			return NULL;
	}
	io_uring_sqe_set_data64(sqe, user_data);
	r->pending++;
	return sqe;
}

static int sync_done(struct ring *r, uint64_t user_data, ssize_t res)
{
	if (r->ndone == RING_CQ_BATCH)
		return -EBUSY;
	r->done[r->ndone].user_data = user_data;
	r->done[r->ndone].res = res < 0 ? -errno : (int)res;
	r->ndone++;
	return 0;
}

int ring_read(struct ring *r, int fd, void *buf, unsigned int len, uint64_t off,
	      int buf_index, uint64_t user_data)
{
	struct io_uring_sqe *sqe;

	if (!r->uring)
		return sync_done(r, user_data, pread(fd, buf, len, (off_t)off));
	sqe = get_sqe(r, user_data);
	if (!sqe)
		return -EBUSY;
	if (r->fixed)
		io_uring_prep_read_fixed(sqe, fd, buf, len, off, buf_index);
	else
		io_uring_prep_read(sqe, fd, buf, len, off);
	return 0;
}

int ring_write(struct ring *r, int fd, const void *buf, unsigned int len,
	       uint64_t off, int buf_index, uint64_t user_data)
{
	struct io_uring_sqe *sqe;

	if (!r->uring)
		return sync_done(r, user_data,
				 pwrite(fd, buf, len, (off_t)off));
	sqe = get_sqe(r, user_data);
	if (!sqe)
		return -EBUSY;
	if (r->fixed && buf_index >= 0)
		io_uring_prep_write_fixed(sqe, fd, buf, len, off, buf_index);
	else
		io_uring_prep_write(sqe, fd, buf, len, off);
	return 0;
}

static ssize_t send_all(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = send(fd, (const char *)buf + done, len - done,
			 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return done ? (ssize_t)done : -1;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int ring_send(struct ring *r, int fd, const void *buf, unsigned int len,
	      uint64_t user_data)
{
	struct io_uring_sqe *sqe;

	if (!r->uring)
		return sync_done(r, user_data, send_all(fd, buf, len));
	sqe = get_sqe(r, user_data);
	if (!sqe)
		return -EBUSY;
	io_uring_prep_send(sqe, fd, buf, len, MSG_WAITALL | MSG_NOSIGNAL);
	return 0;
}

int ring_wait(struct ring *r, unsigned int min, struct ring_cqe *out,
	      unsigned int max)
{
	struct io_uring_cqe *cqe;
	unsigned int n = 0;
	int err;

	if (!r->uring) {
		n = r->ndone < max ? r->ndone : max;
		memcpy(out, r->done, n * sizeof(*out));
		memmove(r->done, r->done + n, (r->ndone - n) * sizeof(*out));
		r->ndone -= n;
		return (int)n;
	}
	if (min > r->inflight + r->pending)
		min = r->inflight + r->pending;
	do {
		if (min)
			err = io_uring_submit_and_wait(&r->ring, min);
		else if (r->pending)
			err = io_uring_submit(&r->ring);
		else
			err = io_uring_get_events(&r->ring);
	} while (err == -EINTR);
	if (err < 0)
		return err;
	r->inflight += r->pending;
	r->pending = 0;
	if (!min && (r->flags & IORING_SETUP_DEFER_TASKRUN))
		io_uring_get_events(&r->ring);
	while (n < max && !io_uring_peek_cqe(&r->ring, &cqe)) {
		out[n].user_data = io_uring_cqe_get_data64(cqe);
		out[n].res = cqe->res;
		io_uring_cqe_seen(&r->ring, cqe);
		r->inflight--;
		n++;
	}
	return (int)n;
}

void ring_describe(const struct ring *r, char *buf, size_t len)
{
	if (!r->uring) {
		snprintf(buf, len, "synchronous I/O");
		return;
	}
	snprintf(buf, len, "io_uring (%s%s%s buffers)",
		 r->flags & IORING_SETUP_SINGLE_ISSUER ? "single-issuer, " : "",
		 r->flags & IORING_SETUP_DEFER_TASKRUN ? "defer-taskrun, " :
		 r->flags & IORING_SETUP_COOP_TASKRUN  ? "coop-taskrun, " :
							 "",
		 r->fixed ? "fixed" : "plain");
}
