// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: replication connections.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"

long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int parse_host_port(const char *s, char *host, char *port, struct ferr *e)
{
	const char *colon, *h = s;
	size_t hl;

	if (*s == '[') {
		colon = strstr(s, "]:");
		if (!colon)
			goto bad;
		h = s + 1;
		hl = (size_t)(colon - h);
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			goto bad;
		hl = (size_t)(colon - s);
	}
	if (!hl || hl > 255 || !colon[1] || strlen(colon + 1) > 5 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		goto bad;
	memcpy(host, h, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	return 0;
bad:
	return ferr_set(e, -EINVAL, "'%s' is not HOST:PORT", s);
}

static int resolve(const char *addr, bool passive, struct addrinfo **res,
		   struct ferr *e)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	char host[256], port[16];
	int err;

	err = parse_host_port(addr, host, port, e);
	if (err)
		return err;
	if (passive)
		hints.ai_flags = AI_PASSIVE;
	err = getaddrinfo(host, port, &hints, res);
	if (err)
		return ferr_set(e, -EHOSTUNREACH, "%s: %s", addr,
				gai_strerror(err));
	return 0;
}

static void tune(int fd)
{
	int one = 1, buf = 4 << 20;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
}

static void conn_reset(struct conn *c, int fd, const char *peer)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
}

int conn_connect(struct conn *c, const char *addr, struct ferr *e)
{
	struct addrinfo *res, *ai;
	int fd = -1, err, saved = ECONNREFUSED;

	err = resolve(addr, false, &res, e);
	if (err)
		return err;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		tune(fd);
		if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return ferr_set(e, -saved, "cannot connect to %s: %s", addr,
				strerror(saved));
	conn_reset(c, fd, addr);
	return 0;
}

int conn_listen(const char *addr, struct ferr *e)
{
	struct addrinfo *res, *ai;
	int fd = -1, err, one = 1, saved = EADDRNOTAVAIL;

	err = resolve(addr, true, &res, e);
	if (err)
		return err;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 4))
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return ferr_set(e, -saved, "cannot listen on %s: %s", addr,
				strerror(saved));
	return fd;
}

int conn_accept(struct conn *c, int lfd, struct ferr *e)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[NI_MAXHOST], serv[NI_MAXSERV], peer[128];
	int fd;

	do
		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return ferr_set(e, -errno, "accept: %s", strerror(errno));
	tune(fd);
	if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv,
			sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV))
		snprintf(peer, sizeof(peer), "?");
	else
		snprintf(peer, sizeof(peer), "%.100s:%.10s", host, serv);
	conn_reset(c, fd, peer);
	return 0;
}

void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Waits for @events until the deadline; -ETIMEDOUT when it passes. */
static int wait_fd(struct conn *c, short events, struct ferr *e)
{
	struct pollfd p = { .fd = c->fd, .events = events };
	int ms = -1, n;

	if (c->deadline_ms) {
		long long left = c->deadline_ms - mono_ms();

		if (left <= 0)
			return ferr_set(e, -ETIMEDOUT,
					"timed out waiting for %s", c->peer);
		ms = left > 1000000 ? 1000000 : (int)left;
	}
	n = poll(&p, 1, ms);
	if (n < 0 && errno == EINTR)
		return 0;
	if (n < 0)
		return ferr_set(e, -errno, "poll: %s", strerror(errno));
	if (!n)
		return ferr_set(e, -ETIMEDOUT, "timed out waiting for %s",
				c->peer);
	return 0;
}

int conn_read_exact(struct conn *c, void *buf, size_t len, struct ferr *e)
{
	size_t done = 0;
	ssize_t n;
	int err;

	while (done < len) {
		err = wait_fd(c, POLLIN, e);
		if (err)
			return err;
		n = recv(c->fd, (char *)buf + done, len - done, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return ferr_set(e, -errno, "receiving from %s: %s",
					c->peer, strerror(errno));
		if (!n)
			return ferr_set(e, -ECONNRESET,
					"%s closed the connection", c->peer);
		done += (size_t)n;
	}
	c->bytes_received += len;
	return 0;
}

static int writev_exact(struct conn *c, struct iovec *iov, int n,
			struct ferr *e)
{
	struct msghdr m = { 0 };
	ssize_t w;
	int err;

	while (n) {
		err = wait_fd(c, POLLOUT, e);
		if (err)
			return err;
		m.msg_iov = iov;
		m.msg_iovlen = (size_t)n;
		w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w < 0)
			return ferr_set(e, -errno, "sending to %s: %s", c->peer,
					strerror(errno));
		c->bytes_sent += (uint64_t)w;
		while (n && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

int conn_write_exact(struct conn *c, const void *buf, size_t len,
		     struct ferr *e)
{
	struct iovec iov = { (void *)buf, len };

	return writev_exact(c, &iov, 1, e);
}

int conn_send(struct conn *c, uint16_t type, uint64_t arg0, uint64_t arg1,
	      const void *payload, uint32_t len, struct ferr *e)
{
	uint8_t hdr[WIRE_HDR_LEN];
	struct iovec iov[2] = { { hdr, sizeof(hdr) },
				{ (void *)payload, len } };

	wire_hdr_encode(hdr, type, c->tx_seq++, arg0, arg1, payload, len);
	return writev_exact(c, iov, payload && len ? 2 : 1, e);
}

static int drop_payload(struct conn *c, uint32_t len, struct ferr *e)
{
	char buf[4096];
	uint32_t n;
	int err;

	while (len) {
		n = len < sizeof(buf) ? len : sizeof(buf);
		err = conn_read_exact(c, buf, n, e);
		if (err)
			return err;
		len -= n;
	}
	return 0;
}

void conn_send_error(struct conn *c, const char *reason)
{
	conn_send_error_arg(c, 0, reason);
}

void conn_send_error_arg(struct conn *c, uint64_t arg0, const char *reason)
{
	uint8_t buf[WIRE_REASON_MAX];
	size_t n = wire_string_encode(reason, sizeof(buf), buf);
	struct ferr ignored;

	if (c->fd < 0)
		return;
	/* Do not wait long for a peer that does not read. */
	c->deadline_ms = mono_ms() + 2000;
	if (conn_send(c, WIRE_ERROR, arg0, 0, buf, (uint32_t)n, &ignored))
		return;
	/*
	 * Closing with unread data would reset the connection and could
	 * destroy the ERROR frame before the peer reads it: stop sending,
	 * then read and drop what is in flight for a moment.
	 */
	shutdown(c->fd, SHUT_WR);
	c->deadline_ms = mono_ms() + 1000;
	while (!drop_payload(c, sizeof(buf), &ignored))
		;
}

int conn_recv_body(struct conn *c, const struct wire_hdr *h, void *buf,
		   struct ferr *e)
{
	int err = conn_read_exact(c, buf, h->payload_len, e);

	return err ? err : wire_payload_check(h, buf, e);
}

int conn_recv_hdr(struct conn *c, struct wire_hdr *h, struct ferr *e)
{
	uint8_t hdr[WIRE_HDR_LEN], reason[WIRE_REASON_MAX];
	char text[WIRE_REASON_MAX + 1];
	int err;

	for (;;) {
		err = conn_read_exact(c, hdr, sizeof(hdr), e);
		if (err)
			return err;
		err = wire_hdr_decode(hdr, &c->lim, h, e);
		if (err < 0)
			return err;
		if (h->seq != c->rx_seq)
			return ferr_set(
				e, -EPROTO,
				"frame %llu out of sequence (expected %llu)",
				(unsigned long long)h->seq,
				(unsigned long long)c->rx_seq);
		c->rx_seq++;
		if (err == WIRE_OK)
			break;
		err = drop_payload(c, h->payload_len, e);
		if (err)
			return err;
	}
	if (h->type != WIRE_ERROR)
		return 0;
	c->peer_error_arg = h->arg0;
	err = conn_recv_body(c, h, reason, e);
	if (!err)
		err = wire_string_decode(reason, h->payload_len,
					 WIRE_REASON_MAX, text, e);
	if (err)
		return err;
	return ferr_set(e, -EREMOTEIO, "%s: %s", c->peer, text);
}

int conn_peer_error(struct conn *c, int err, struct ferr *e)
{
	struct ferr why;
	struct wire_hdr h;

	if (err == -EREMOTEIO || c->fd < 0)
		return err;
	c->deadline_ms = mono_ms() + 1000;
	if (conn_recv_hdr(c, &h, &why) == -EREMOTEIO)
		return ferr_set(e, -EREMOTEIO, "%s", why.msg);
	return err;
}

int conn_recv(struct conn *c, struct wire_hdr *h, void *buf, uint32_t cap,
	      struct ferr *e)
{
	int err = conn_recv_hdr(c, h, e);

	if (err)
		return err;
	if (h->payload_len > cap)
		return ferr_set(e, -EMSGSIZE,
				"%s frame of %u bytes is too large",
				wire_type_name(h->type), h->payload_len);
	return conn_recv_body(c, h, buf, e);
}

int conn_hello(struct conn *c, uint64_t features, struct ferr *e)
{
	struct wire_hello mine = {
		.version_min = WIRE_VERSION,
		.version_max = WIRE_VERSION,
		.features = (features & WIRE_FEATURES) | WIRE_FEATURES_REQUIRED,
		.required = WIRE_FEATURES_REQUIRED,
	};
	struct wire_hello peer;
	uint8_t buf[256];
	struct wire_hdr h;
	size_t n = wire_hello_encode(&mine, buf);
	int err;

	err = conn_send(c, WIRE_HELLO, 0, 0, buf, (uint32_t)n, e);
	if (!err)
		err = conn_recv(c, &h, buf, sizeof(buf), e);
	if (err)
		return err;
	if (h.type != WIRE_HELLO) {
		conn_send_error(c, "expected HELLO");
		return ferr_set(e, -EPROTO, "%s sent %s instead of HELLO",
				c->peer, wire_type_name(h.type));
	}
	err = wire_hello_decode(buf, h.payload_len, &peer, e);
	if (!err)
		err = wire_negotiate(&mine, &peer, &c->version, &c->features,
				     e);
	c->lim.zstd = !err && (c->features & WIRE_FEAT_ZSTD);
	if (err)
		conn_send_error(c, e->msg);
	return err;
}
