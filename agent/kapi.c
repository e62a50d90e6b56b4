// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: the generic-netlink client of the ferry kernel module.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <linux/ferry.h>

#include "kapi.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct kapi {
	struct nl_sock *sk;
	int family;
};

/* State of one request while its replies come in. */
struct kapi_req {
	kapi_reply_fn fn;
	void *arg;
	struct ferr *e;
	struct kapi_status st;
	int error;
	int reply_error; /* fn failed: the rest is read, then dropped */
	bool done;
};

static int set_sockopts(struct nl_sock *sk)
{
	int fd = nl_socket_get_fd(sk);
	struct timeval tv = { .tv_sec = 1 };
	int one = 1;

	/* Ask for the kernel's error text (extack), without our request. */
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)))
		return -errno;
	/* Short receive timeouts let kapi_call() keep an overall deadline. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return -errno;
	return 0;
}

/* Spelled out in the CLI contract: tests look for it. */
static const char not_loaded[] =
	"the ferry kernel module is not loaded (modprobe ferry)";

int kapi_open(struct kapi **out, struct ferr *e)
{
	int err = kapi_open_family(out, FERRY_GENL_NAME, e);

	if (err == -ENOENT)
		ferr_set(e, err, "%s", not_loaded);
	return err;
}

int kapi_open_family(struct kapi **out, const char *family, struct ferr *e)
{
	struct kapi *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return ferr_set(e, -ENOMEM, "out of memory");
	k->sk = nl_socket_alloc();
	if (!k->sk) {
		free(k);
		return ferr_set(e, -ENOMEM, "out of memory");
	}
	err = genl_connect(k->sk);
	if (err < 0) {
		kapi_close(k);
		return ferr_set(e, -EIO, "cannot open a netlink socket: %s",
				nl_geterror(err));
	}
	err = set_sockopts(k->sk);
	if (err < 0) {
		kapi_close(k);
		return ferr_set(e, err, "netlink socket options: %s",
				strerror(-err));
	}
	k->family = genl_ctrl_resolve(k->sk, family);
	if (k->family < 0) {
		err = k->family;
		kapi_close(k);
		if (err == -NLE_OBJ_NOTFOUND)
			return ferr_set(e, -ENOENT,
					"generic netlink family %s not found",
					family);
		return ferr_set(e, -EIO, "cannot resolve the %s family: %s",
				family, nl_geterror(err));
	}
	*out = k;
	return 0;
}

void kapi_close(struct kapi *k)
{
	if (!k)
		return;
	nl_socket_free(k->sk);
	free(k);
}

struct nl_msg *kapi_msg(struct kapi *k, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, k->family, 0, flags,
			 cmd, FERRY_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* The TLVs after an NLMSG_ERROR/NLMSG_DONE payload of @off bytes. */
static void parse_ext_tlvs(const struct nlmsghdr *hdr, size_t off,
			   struct kapi_status *st)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = { 0 };
	size_t payload = hdr->nlmsg_len - NLMSG_HDRLEN;
	const char *base = (const char *)hdr + NLMSG_HDRLEN;

	off = NLMSG_ALIGN(off);
	if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS) || off >= payload)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)(base + off),
		      payload - off, NULL) < 0)
		return;
	if (tb[NLMSGERR_ATTR_MSG] && nla_len(tb[NLMSGERR_ATTR_MSG]) > 0) {
		nla_strlcpy(st->msg, tb[NLMSGERR_ATTR_MSG], sizeof(st->msg));
		st->has_msg = st->msg[0] != '\0';
	}
	if (tb[NLMSGERR_ATTR_MISS_TYPE] &&
	    nla_len(tb[NLMSGERR_ATTR_MISS_TYPE]) >= 4) {
		st->miss_type = nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
		st->has_miss_type = true;
	}
}

static int parse_error_msg(const struct nlmsghdr *hdr, struct kapi_status *st)
{
	const struct nlmsgerr *err = NLMSG_DATA(hdr);
	size_t payload = hdr->nlmsg_len - NLMSG_HDRLEN;
	size_t off = sizeof(*err);

	if (payload < sizeof(*err))
		return -EBADMSG;
	st->error = err->error;
	/*
	 * Without NETLINK_CAP_ACK (or on an ack) the kernel echoes our whole
	 * request after nlmsgerr; the TLVs follow that echo.
	 */
	if (!(hdr->nlmsg_flags & NLM_F_CAPPED)) {
		if (err->msg.nlmsg_len < NLMSG_HDRLEN)
			return -EBADMSG;
		off += err->msg.nlmsg_len - NLMSG_HDRLEN;
	}
	parse_ext_tlvs(hdr, off, st);
	return 0;
}

int kapi_parse_status(const struct nlmsghdr *hdr, struct kapi_status *st)
{
	memset(st, 0, sizeof(*st));
	if (hdr->nlmsg_len < NLMSG_HDRLEN)
		return -EBADMSG;
	if (hdr->nlmsg_type == NLMSG_ERROR)
		return parse_error_msg(hdr, st);
	if (hdr->nlmsg_type != NLMSG_DONE)
		return 0;
	/* A dump's end carries its status: an int, then TLVs. */
	if (hdr->nlmsg_len - NLMSG_HDRLEN >= sizeof(int)) {
		memcpy(&st->error, NLMSG_DATA(hdr), sizeof(int));
		parse_ext_tlvs(hdr, sizeof(int), st);
	}
	return 0;
}

void kapi_status_text(const struct kapi_status *st, struct ferr *e)
{
	if (st->has_msg)
		ferr_set(e, st->error, "%s", st->msg);
	else if (st->has_miss_type)
		ferr_set(e, st->error, "kernel: missing attribute %u",
			 st->miss_type);
	else
		e->msg[0] = '\0';
}

/* Every message comes here first: keep what error/done messages carry. */
static int on_msg_in(struct nl_msg *msg, void *arg)
{
	struct kapi_req *req = arg;
	struct nlmsghdr *hdr = nlmsg_hdr(msg);
	struct kapi_status st;

	if (hdr->nlmsg_type != NLMSG_ERROR && hdr->nlmsg_type != NLMSG_DONE)
		return NL_OK;
	if (kapi_parse_status(hdr, &st) < 0) {
		req->error = ferr_set(req->e, -EBADMSG,
				      "truncated netlink status message");
		req->done = true;
		return NL_STOP;
	}
	req->st = st;
	if (hdr->nlmsg_type == NLMSG_DONE && st.error < 0) {
		/* libnl does not look inside NLMSG_DONE: do it here. */
		req->error = st.error;
		req->done = true;
		return NL_STOP;
	}
	return NL_OK;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct kapi_req *req = arg;
	int err;

	if (!req->fn || req->reply_error)
		return NL_OK;
	err = req->fn(msg, req->arg, req->e);
	/*
	 * Keep reading to the end of the reply (a dump's DONE, an ACK):
	 * what is left on the socket would answer the next request.
	 */
	if (err < 0)
		req->reply_error = err;
	return NL_OK;
}

static int on_done(struct nl_msg *msg, void *arg)
{
	struct kapi_req *req = arg;

	(void)msg;
	req->done = true;
	return NL_STOP;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *nlerr, void *arg)
{
	struct kapi_req *req = arg;

	(void)nla;
	req->error = nlerr->error;
	req->done = true;
	return NL_STOP;
}

static struct nl_cb *request_cb(struct kapi_req *req)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

	if (!cb)
		return NULL;
	nl_cb_set(cb, NL_CB_MSG_IN, NL_CB_CUSTOM, on_msg_in, req);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_done, req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_done, req);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, req);
	return cb;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int receive_until_done(struct kapi *k, struct kapi_req *req,
			      struct nl_cb *cb)
{
	long long deadline = now_ms() + KAPI_TIMEOUT_MS;
	int err;

	while (!req->done) {
		err = nl_recvmsgs(k->sk, cb);
		if (req->done)
			break;
		if (err < 0 && err != -NLE_AGAIN)
			return ferr_set(req->e, -EIO, "netlink: %s",
					nl_geterror(err));
		if (now_ms() > deadline)
			return ferr_set(req->e, -ETIMEDOUT,
					"no answer from the kernel within %d s",
					KAPI_TIMEOUT_MS / 1000);
	}
	if (req->reply_error < 0)
		return req->reply_error;
	if (req->error < 0 && !req->e->msg[0])
		kapi_status_text(&req->st, req->e);
	return req->error;
}

int kapi_call(struct kapi *k, struct nl_msg *msg, kapi_reply_fn fn, void *arg,
	      struct ferr *e)
{
	struct kapi_req req = { .fn = fn, .arg = arg, .e = e };
	struct nl_cb *cb = request_cb(&req);
	int err;

	e->msg[0] = '\0';
	if (!cb) {
		nlmsg_free(msg);
		return ferr_set(e, -ENOMEM, "out of memory");
	}
	err = nl_send_auto(k->sk, msg);
	nlmsg_free(msg);
	if (err < 0)
		err = ferr_set(e, -EIO, "netlink send: %s", nl_geterror(err));
	else
		err = receive_until_done(k, &req, cb);
	nl_cb_put(cb);
	return err;
}

int kapi_subscribe(struct kapi *k, const char *family, const char *group,
		   struct ferr *e)
{
	int grp = genl_ctrl_resolve_grp(k->sk, family, group);
	int err;

	if (grp < 0)
		return ferr_set(
			e, -ENOENT,
			"the kernel module has no multicast group %s: %s",
			group, nl_geterror(grp));
	/* Room for bursts (a snapshot of 16 volumes is 16+ events). */
	nl_socket_set_buffer_size(k->sk, 1 << 20, 0);
	err = nl_socket_add_membership(k->sk, grp);
	if (err < 0)
		return ferr_set(e, -EIO, "cannot join multicast group %s: %s",
				group, nl_geterror(err));
	return 0;
}

/* State of kapi_listen() while messages are handed out. */
struct kapi_listener {
	kapi_reply_fn fn;
	void *arg;
	struct ferr *e;
	int error;
};

static int on_event(struct nl_msg *msg, void *arg)
{
	struct kapi_listener *l = arg;
	int err = l->fn(msg, l->arg, l->e);

	if (err < 0) {
		l->error = err;
		return NL_STOP;
	}
	return NL_OK;
}

static int no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

int kapi_listen(struct kapi *k, int timeout_ms, kapi_reply_fn fn, void *arg,
		struct ferr *e)
{
	struct kapi_listener l = { .fn = fn, .arg = arg, .e = e };
	struct pollfd pfd = { .fd = nl_socket_get_fd(k->sk), .events = POLLIN };
	struct nl_cb *cb;
	int n, err;

	n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return errno == EINTR ?
			       0 :
			       ferr_set(e, -errno, "poll: %s", strerror(errno));
	if (n == 0)
		return 0;
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return ferr_set(e, -ENOMEM, "out of memory");
	/* Multicast messages carry sequence number 0: accept them. */
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_event, &l);
	err = nl_recvmsgs(k->sk, cb);
	nl_cb_put(cb);
	if (l.error < 0)
		return l.error;
	if (err == -NLE_NOMEM)
		return ferr_set(
			e, -ENOBUFS,
			"events were lost: the socket buffer overflowed");
	if (err < 0 && err != -NLE_AGAIN)
		return ferr_set(e, -EIO, "netlink: %s", nl_geterror(err));
	return 1;
}

void kapi_explain(int err, struct ferr *e)
{
	if (e->msg[0])
		return;
	if (err == -EPERM || err == -EACCES)
		ferr_set(e, err, "%s (CAP_SYS_ADMIN is needed)",
			 strerror(-err));
	else
		ferr_set(e, err, "%s", strerror(-err));
}
