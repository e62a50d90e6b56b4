/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ferry agent: the generic-netlink client of the ferry kernel module.
 *
 * Deliberately thin: open a socket, build a request, send it, hand each
 * reply message to a callback, wait for the ack. What the attributes mean
 * lives elsewhere (volume_nl.c), so it can be tested without a kernel.
 */
#ifndef FERRY_KAPI_H
#define FERRY_KAPI_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/netlink.h>
#include <netlink/msg.h>

#include "util.h"

struct kapi;

/* How long a request may wait for the kernel's answer. */
#define KAPI_TIMEOUT_MS 60000

/*
 * Connects and resolves the "ferry" family. -ENOENT with a message telling
 * to load the module when the family is not registered.
 */
int kapi_open(struct kapi **out, struct ferr *e);
/* The same for any generic-netlink family: lets tests use "nlctrl". */
int kapi_open_family(struct kapi **out, const char *family, struct ferr *e);
void kapi_close(struct kapi *k);

/* A request for @cmd; @flags such as NLM_F_DUMP. NULL when out of memory. */
struct nl_msg *kapi_msg(struct kapi *k, uint8_t cmd, int flags);

/* Called for each reply message; a negative return stops the request. */
typedef int (*kapi_reply_fn)(struct nl_msg *msg, void *arg, struct ferr *e);

/*
 * Sends @msg (always freed) and waits for the ack, or NLMSG_DONE for a
 * dump. Returns 0 or a negative errno. On a kernel error, e->msg holds the
 * kernel's extack message, or is empty when the kernel gave none (see
 * kapi_explain()).
 */
int kapi_call(struct kapi *k, struct nl_msg *msg, kapi_reply_fn fn, void *arg,
	      struct ferr *e);

/*
 * Joins multicast group @group of @family ("ferry", FERRY_MCGRP_EVENTS):
 * once it returns, events are queued on the socket even before
 * kapi_listen() runs.
 */
int kapi_subscribe(struct kapi *k, const char *family, const char *group,
		   struct ferr *e);

/*
 * Waits up to @timeout_ms (-1: forever) for multicast messages and hands
 * each to @fn. Returns 1 when messages were handled, 0 on timeout, or a
 * negative errno (-ENOBUFS when the kernel dropped messages because the
 * socket's buffer was full).
 */
int kapi_listen(struct kapi *k, int timeout_ms, kapi_reply_fn fn, void *arg,
		struct ferr *e);

/* Fills an empty e->msg with a generic text for @err (EPERM, ENOENT...). */
void kapi_explain(int err, struct ferr *e);

/* What an NLMSG_ERROR or NLMSG_DONE message carries. */
struct kapi_status {
	int error; /* 0 or a negative errno */
	bool has_msg;
	char msg[256]; /* NLMSGERR_ATTR_MSG */
	bool has_miss_type;
	uint32_t miss_type; /* NLMSGERR_ATTR_MISS_TYPE */
};

/*
 * Decodes an NLMSG_ERROR or NLMSG_DONE message, extended-ack TLVs
 * included. Returns 0, or -EBADMSG when it is truncated.
 */
int kapi_parse_status(const struct nlmsghdr *hdr, struct kapi_status *st);

/* "message" from a status: the kernel's text, else the missing attribute. */
void kapi_status_text(const struct kapi_status *st, struct ferr *e);

#endif /* FERRY_KAPI_H */
