/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: a replication connection: TCP set-up, the HELLO exchange,
 * and blocking frame I/O with deadlines for the control frames. Bulk
 * DATA frames go through the ring (xfer_send.c, xfer_recv.c).
 */
#ifndef FERRY_CONN_H
#define FERRY_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"
#include "wire.h"

struct conn {
	int fd;
	uint64_t tx_seq; /* of the next frame sent */
	uint64_t rx_seq; /* expected of the next frame received */
	struct wire_limits lim;
	uint64_t bytes_sent; /* headers and payloads */
	uint64_t bytes_received;
	long long deadline_ms; /* CLOCK_MONOTONIC; 0: none */
	uint16_t version;
	uint64_t features;
	char peer[128];
	uint64_t peer_error_arg; /* arg0 of the ERROR received, if any */
};

long long mono_ms(void);

/* "HOST:PORT", "[V6]:PORT"; @host must hold 256 bytes, @port 16. */
int parse_host_port(const char *s, char *host, char *port, struct ferr *e);

int conn_connect(struct conn *c, const char *addr, struct ferr *e);
/* A listening socket on ADDR:PORT (SO_REUSEADDR); returns its fd. */
int conn_listen(const char *addr, struct ferr *e);
/* Waits for one connection on @lfd. */
int conn_accept(struct conn *c, int lfd, struct ferr *e);
void conn_close(struct conn *c);

/*
 * Both sides send HELLO offering @features (of WIRE_FEATURES; the
 * required ones always), then read the peer's and negotiate.
 */
int conn_hello(struct conn *c, uint64_t features, struct ferr *e);

/* A frame with an optional payload; counts bytes and sequence numbers. */
int conn_send(struct conn *c, uint16_t type, uint64_t arg0, uint64_t arg1,
	      const void *payload, uint32_t len, struct ferr *e);
/* Best effort: an ERROR frame with @reason, before closing. */
void conn_send_error(struct conn *c, const char *reason);
/* The same with ERROR's arg0 (WIRE_ERROR_RETRY or 0). */
void conn_send_error_arg(struct conn *c, uint64_t arg0, const char *reason);

/*
 * The next frame's header, checked (skipping unknown optional frames and
 * their payloads), in sequence. An ERROR frame from the peer becomes
 * -EREMOTEIO with "peer: REASON" in @e.
 */
int conn_recv_hdr(struct conn *c, struct wire_hdr *h, struct ferr *e);
/* Its payload into @buf (h->payload_len bytes), crc checked. */
int conn_recv_body(struct conn *c, const struct wire_hdr *h, void *buf,
		   struct ferr *e);
/*
 * After @err on the connection: the ERROR frame the peer may have sent
 * before closing (-EREMOTEIO with its reason in @e), else @err.
 */
int conn_peer_error(struct conn *c, int err, struct ferr *e);
/* Both, for control frames: the payload must fit in @cap. */
int conn_recv(struct conn *c, struct wire_hdr *h, void *buf, uint32_t cap,
	      struct ferr *e);

/* Exactly @len bytes, or an error (EOF is -ECONNRESET), by the deadline. */
int conn_read_exact(struct conn *c, void *buf, size_t len, struct ferr *e);
int conn_write_exact(struct conn *c, const void *buf, size_t len,
		     struct ferr *e);

#endif /* FERRY_CONN_H */
