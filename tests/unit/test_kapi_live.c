// SPDX-License-Identifier: GPL-2.0
/*
 * kapi against a real kernel: the ferry family cannot be loaded here, so
 * these talk to "nlctrl", the generic-netlink controller every kernel
 * has. They cover the socket path itself: requests, replies, acks, dumps
 * and an error with the kernel's extended-ack message.
 */
#include <errno.h>

#include <linux/genetlink.h>
#include <netlink/genl/genl.h>

#include "kapi.h"
#include "unit.h"

static int count_reply(struct nl_msg *msg, void *arg, struct ferr *e)
{
	(void)msg;
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static int refuse_reply(struct nl_msg *msg, void *arg, struct ferr *e)
{
	(void)msg;
	(void)arg;
	return ferr_set(e, -EPROTO, "reply refused by the callback");
}

static int setup(void **state)
{
	struct ferr e;
	struct kapi *k;

	if (kapi_open_family(&k, "nlctrl", &e))
		return -1;
	*state = k;
	return 0;
}

static int teardown(void **state)
{
	kapi_close(*state);
	return 0;
}

static struct nl_msg *getfamily(struct kapi *k, int flags, const char *name)
{
	struct nl_msg *msg = kapi_msg(k, CTRL_CMD_GETFAMILY, flags);

	assert_non_null(msg);
	if (name)
		assert_int_equal(
			nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, name), 0);
	return msg;
}

static void request_with_reply(void **state)
{
	struct ferr e = { { 0 } };
	int replies = 0;

	assert_int_equal(kapi_call(*state, getfamily(*state, 0, "nlctrl"),
				   count_reply, &replies, &e),
			 0);
	assert_int_equal(replies, 1);
}

static void dump(void **state)
{
	struct ferr e = { { 0 } };
	int replies = 0;

	assert_int_equal(kapi_call(*state, getfamily(*state, NLM_F_DUMP, NULL),
				   count_reply, &replies, &e),
			 0);
	assert_true(replies >= 1); /* nlctrl itself at least */
}

static void kernel_error(void **state)
{
	struct ferr e = { { 0 } };

	assert_int_equal(kapi_call(*state, getfamily(*state, 0, "ferry-nosuch"),
				   count_reply, NULL, &e),
			 -ENOENT);
	kapi_explain(-ENOENT, &e);
	assert_true(e.msg[0] != '\0');
}

static void kernel_extack_message(void **state)
{
	struct nl_msg *msg = kapi_msg(*state, CTRL_CMD_GETFAMILY, 0);
	struct ferr e = { { 0 } };
	uint8_t one = 1;

	/* FAMILY_ID is a u16: one byte fails the kernel's policy check. */
	assert_int_equal(nla_put(msg, CTRL_ATTR_FAMILY_ID, 1, &one), 0);
	assert_true(kapi_call(*state, msg, NULL, NULL, &e) < 0);
	/* The text comes from the kernel's extack, not from strerror. */
	if (!strstr(e.msg, "ttribute"))
		fail_msg("no extack text: '%s'", e.msg);
}

static void callback_error_stops(void **state)
{
	struct ferr e = { { 0 } };

	assert_int_equal(kapi_call(*state, getfamily(*state, NLM_F_DUMP, NULL),
				   refuse_reply, NULL, &e),
			 -EPROTO);
	assert_string_equal(e.msg, "reply refused by the callback");
}

/* nlctrl's "notify" group: joined, then a quiet wait times out. */
static void subscribe_and_time_out(void **state)
{
	struct ferr e = { { 0 } };
	struct kapi *k;
	int n = 0;

	(void)state;
	/* A socket of its own: the shared one must not get notifications. */
	assert_int_equal(kapi_open_family(&k, "nlctrl", &e), 0);
	assert_int_equal(kapi_subscribe(k, "nlctrl", "notify", &e), 0);
	assert_int_equal(kapi_listen(k, 50, count_reply, &n, &e), 0);
	assert_int_equal(n, 0);
	kapi_close(k);
}

static void subscribe_unknown_group(void **state)
{
	struct ferr e = { { 0 } };

	assert_int_equal(kapi_subscribe(*state, "nlctrl", "nosuch", &e),
			 -ENOENT);
	assert_non_null(strstr(e.msg, "nosuch"));
}

static void ferry_family_absent(void **state)
{
	struct ferr e = { { 0 } };
	struct kapi *k = NULL;

	(void)state;
	/* Only meaningful where the module is not loaded, as here. */
	if (kapi_open(&k, &e) == 0) {
		kapi_close(k);
		skip();
	}
	assert_string_equal(e.msg, "the ferry kernel module is not loaded "
				   "(modprobe ferry)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(request_with_reply),
		cmocka_unit_test(dump),
		cmocka_unit_test(subscribe_and_time_out),
		cmocka_unit_test(subscribe_unknown_group),
		cmocka_unit_test(kernel_error),
		cmocka_unit_test(kernel_extack_message),
		cmocka_unit_test(callback_error_stops),
		cmocka_unit_test(ferry_family_absent),
	};

	return cmocka_run_group_tests_name("kapi_live", tests, setup, teardown);
}
