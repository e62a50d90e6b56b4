// SPDX-License-Identifier: GPL-2.0
/*
 * Netlink without a kernel: replies built in memory as the module would
 * send them, parsed by the agent; error messages with extended-ack TLVs.
 */
#include <errno.h>

#include <netlink/genl/genl.h>

#include "kapi.h"
#include "volume_nl.h"
#include "unit.h"

#define FAKE_FAMILY 0x1d

static struct nl_msg *reply(void)
{
	struct nl_msg *msg = nlmsg_alloc();

	assert_non_null(msg);
	assert_non_null(genlmsg_put(msg, 1, 7, FAKE_FAMILY, 0, 0,
				    FERRY_CMD_GET_VOLUME, FERRY_GENL_VERSION));
	return msg;
}

/* Every attribute of a GET_VOLUME reply, as the uapi header lists them. */
static struct nl_msg *full_reply(void)
{
	struct nl_msg *msg = reply();
	struct nlattr *nest;
	int i;

	assert_int_equal(nla_put_string(msg, FERRY_ATTR_NAME, "db"), 0);
	assert_int_equal(nla_put_string(msg, FERRY_ATTR_DISK_NAME, "ferry3"),
			 0);
	assert_int_equal(nla_put_u32(msg, FERRY_ATTR_MINOR, 48), 0);
	assert_int_equal(nla_put_u64(msg, FERRY_ATTR_SIZE, 1ULL << 33), 0);
	assert_int_equal(nla_put_string(msg, FERRY_ATTR_DATA_PATH, "/dev/vdb"),
			 0);
	assert_int_equal(nla_put_string(msg, FERRY_ATTR_COW_PATH, "/dev/vdc"),
			 0);
	assert_int_equal(nla_put_u32(msg, FERRY_ATTR_DATA_DEV, 0xfd10), 0);
	assert_int_equal(nla_put_u32(msg, FERRY_ATTR_COW_DEV, 0xfd20), 0);
	assert_int_equal(nla_put_u32(msg, FERRY_ATTR_CHUNK_SIZE, 4096), 0);
	assert_int_equal(nla_put_u32(msg, FERRY_ATTR_OPEN_COUNT, 1), 0);
	nest = nla_nest_start(msg, FERRY_ATTR_STATS);
	assert_non_null(nest);
	for (i = FERRY_STAT_READS; i <= FERRY_STAT_MAX; i++)
		assert_int_equal(nla_put_u64(msg, i, 100 * i), 0);
	/* A counter from a newer kernel: skipped, not an error. */
	assert_int_equal(nla_put_u64(msg, FERRY_STAT_MAX + 5, 1), 0);
	nla_nest_end(msg, nest);
	return msg;
}

static void volume_reply_all_attrs(void **state)
{
	struct nl_msg *msg = full_reply();
	struct ferr e = { { 0 } };
	struct ferry_volume v;
	int i;

	(void)state;
	assert_int_equal(volume_from_msg(msg, &v, &e), 0);
	assert_string_equal(v.name, "db");
	assert_string_equal(v.disk_name, "ferry3");
	assert_int_equal(v.minor, 48);
	assert_true(v.size == 1ULL << 33);
	assert_string_equal(v.data_path, "/dev/vdb");
	assert_string_equal(v.cow_path, "/dev/vdc");
	assert_int_equal(v.data_dev, 0xfd10);
	assert_int_equal(v.cow_dev, 0xfd20);
	assert_int_equal(v.chunk_size, 4096);
	assert_int_equal(v.open_count, 1);
	for (i = FERRY_STAT_READS; i <= FERRY_STAT_MAX; i++)
		assert_int_equal(v.stats[i], 100 * i);
	nlmsg_free(msg);
}

static void volume_reply_minimal(void **state)
{
	struct nl_msg *msg = reply();
	struct ferr e = { { 0 } };
	struct ferry_volume v;

	(void)state;
	nla_put_string(msg, FERRY_ATTR_NAME, "v");
	nla_put_string(msg, FERRY_ATTR_DISK_NAME, "ferry0");
	assert_int_equal(volume_from_msg(msg, &v, &e), 0);
	assert_string_equal(v.disk_name, "ferry0");
	assert_int_equal(v.size, 0);
	assert_string_equal(v.data_path, "");
	assert_false(v.has_cbt_uuid);
	assert_int_equal(v.epoch, 0);
	assert_int_equal(v.cow_used, 0);
	nlmsg_free(msg);
}

static void volume_reply_cow_state(void **state)
{
	static const uint8_t uuid[16] = { 1, 2,	 3,  4,	 5,  6,	 7,  8,
					  9, 10, 11, 12, 13, 14, 15, 16 };
	struct nl_msg *msg = full_reply();
	struct ferr e = { { 0 } };
	struct ferry_volume v;

	(void)state;
	assert_int_equal(nla_put_u64(msg, FERRY_ATTR_EPOCH, 9), 0);
	assert_int_equal(nla_put(msg, FERRY_ATTR_CBT_UUID, 16, uuid), 0);
	assert_int_equal(nla_put_u64(msg, FERRY_ATTR_CBT_GEN, 2), 0);
	assert_int_equal(nla_put_u64(msg, FERRY_ATTR_COW_TOTAL, 1 << 30), 0);
	assert_int_equal(nla_put_u64(msg, FERRY_ATTR_COW_USED, 65536), 0);
	assert_int_equal(volume_from_msg(msg, &v, &e), 0);
	assert_int_equal(v.epoch, 9);
	assert_true(v.has_cbt_uuid);
	assert_memory_equal(v.cbt_uuid, uuid, 16);
	assert_int_equal(v.cbt_gen, 2);
	assert_int_equal(v.cow_total, 1 << 30);
	assert_int_equal(v.cow_used, 65536);
	nlmsg_free(msg);
}

static void volume_reply_bad_uuid(void **state)
{
	struct nl_msg *msg = full_reply();
	struct ferr e = { { 0 } };
	struct ferry_volume v;

	(void)state;
	assert_int_equal(nla_put(msg, FERRY_ATTR_CBT_UUID, 4, "abcd"), 0);
	assert_int_equal(volume_from_msg(msg, &v, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "uuid"));
	nlmsg_free(msg);
}

static void volume_reply_lacks_disk(void **state)
{
	struct nl_msg *msg = reply();
	struct ferr e = { { 0 } };
	struct ferry_volume v;

	(void)state;
	nla_put_string(msg, FERRY_ATTR_NAME, "v");
	assert_int_equal(volume_from_msg(msg, &v, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "lacks"));
	nlmsg_free(msg);
}

static void volume_reply_bad_types(void **state)
{
	struct nl_msg *msg = reply();
	struct ferr e = { { 0 } };
	struct ferry_volume v;

	(void)state;
	nla_put_string(msg, FERRY_ATTR_NAME, "v");
	nla_put_string(msg, FERRY_ATTR_DISK_NAME, "ferry0");
	nla_put_u8(msg, FERRY_ATTR_SIZE, 1); /* u64 expected */
	assert_int_equal(volume_from_msg(msg, &v, &e), -EPROTO);
	assert_non_null(strstr(e.msg, "malformed"));
	nlmsg_free(msg);
}

static void volume_reply_name_too_long(void **state)
{
	struct nl_msg *msg = reply();
	struct ferr e = { { 0 } };
	struct ferry_volume v;

	(void)state;
	nla_put_string(msg, FERRY_ATTR_NAME,
		       "abcdefghijklmnopqrstuvwxyz0123456");
	nla_put_string(msg, FERRY_ATTR_DISK_NAME, "ferry0");
	assert_int_equal(volume_from_msg(msg, &v, &e), -EPROTO);
	nlmsg_free(msg);
}

static void attach_request_attrs(void **state)
{
	struct nlattr *tb[FERRY_ATTR_MAX + 1];
	struct nl_msg *msg = reply();

	(void)state;
	assert_int_equal(
		volume_put_attach(msg, "db", "/dev/vdb", "/dev/vdc", 8192), 0);
	assert_int_equal(
		genlmsg_parse(nlmsg_hdr(msg), 0, tb, FERRY_ATTR_MAX, NULL), 0);
	assert_string_equal(nla_get_string(tb[FERRY_ATTR_NAME]), "db");
	assert_string_equal(nla_get_string(tb[FERRY_ATTR_DATA_PATH]),
			    "/dev/vdb");
	assert_string_equal(nla_get_string(tb[FERRY_ATTR_COW_PATH]),
			    "/dev/vdc");
	assert_int_equal(nla_get_u32(tb[FERRY_ATTR_CHUNK_SIZE]), 8192);
	nlmsg_free(msg);

	/* No --chunk: the attribute is left out, the kernel picks. */
	msg = reply();
	assert_int_equal(volume_put_attach(msg, "db", "/a", "/b", 0), 0);
	genlmsg_parse(nlmsg_hdr(msg), 0, tb, FERRY_ATTR_MAX, NULL);
	assert_null(tb[FERRY_ATTR_CHUNK_SIZE]);
	nlmsg_free(msg);
}

/* ---- NLMSG_ERROR / NLMSG_DONE with extended ack ---- */

/* An aligned buffer that a test fills like the kernel's netlink_ack(). */
struct rawmsg {
	union {
		struct nlmsghdr hdr;
		char buf[1024];
	};
};

static void put_tlv(struct rawmsg *m, int type, const void *data, int len)
{
	struct nlattr *a = (void *)(m->buf + NLMSG_ALIGN(m->hdr.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	m->hdr.nlmsg_len =
		NLMSG_ALIGN(m->hdr.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

/* An error for a request of @req_payload bytes; echoed unless capped. */
static void error_msg(struct rawmsg *m, int error, bool capped, int req_payload)
{
	struct nlmsgerr *err;

	memset(m, 0, sizeof(*m));
	m->hdr.nlmsg_type = NLMSG_ERROR;
	m->hdr.nlmsg_len = NLMSG_HDRLEN + sizeof(*err);
	err = NLMSG_DATA(&m->hdr);
	err->error = error;
	err->msg.nlmsg_len = NLMSG_HDRLEN + req_payload;
	err->msg.nlmsg_type = FAKE_FAMILY;
	if (capped) {
		m->hdr.nlmsg_flags |= NLM_F_CAPPED;
	} else {
		memset(m->buf + m->hdr.nlmsg_len, 0x5a, req_payload);
		m->hdr.nlmsg_len += req_payload;
	}
}

static void extack_capped(void **state)
{
	static const char text[] = "chunk size is not a power of two";
	struct kapi_status st;
	struct rawmsg m;

	(void)state;
	error_msg(&m, -EINVAL, true, 36);
	m.hdr.nlmsg_flags |= NLM_F_ACK_TLVS;
	put_tlv(&m, NLMSGERR_ATTR_MSG, text, sizeof(text));
	assert_int_equal(kapi_parse_status(&m.hdr, &st), 0);
	assert_int_equal(st.error, -EINVAL);
	assert_true(st.has_msg);
	assert_string_equal(st.msg, text);
}

static void extack_uncapped_echo(void **state)
{
	static const char text[] = "data device is in use";
	uint32_t offs = 20;
	struct kapi_status st;
	struct rawmsg m;

	(void)state;
	/* An odd request length: the TLVs start at the aligned offset. */
	error_msg(&m, -EBUSY, false, 37);
	m.hdr.nlmsg_flags |= NLM_F_ACK_TLVS;
	put_tlv(&m, NLMSGERR_ATTR_OFFS, &offs, sizeof(offs));
	put_tlv(&m, NLMSGERR_ATTR_MSG, text, sizeof(text));
	assert_int_equal(kapi_parse_status(&m.hdr, &st), 0);
	assert_int_equal(st.error, -EBUSY);
	assert_string_equal(st.msg, text);
}

static void extack_none(void **state)
{
	struct kapi_status st;
	struct ferr e = { { 0 } };
	struct rawmsg m;

	(void)state;
	error_msg(&m, -EPERM, false, 8);
	assert_int_equal(kapi_parse_status(&m.hdr, &st), 0);
	assert_int_equal(st.error, -EPERM);
	assert_false(st.has_msg);
	kapi_status_text(&st, &e);
	assert_string_equal(e.msg, "");
	kapi_explain(-EPERM, &e);
	assert_non_null(strstr(e.msg, "CAP_SYS_ADMIN"));
}

static void extack_missing_attr(void **state)
{
	uint32_t type = FERRY_ATTR_COW_PATH;
	struct kapi_status st;
	struct ferr e = { { 0 } };
	struct rawmsg m;

	(void)state;
	error_msg(&m, -EINVAL, true, 40);
	m.hdr.nlmsg_flags |= NLM_F_ACK_TLVS;
	put_tlv(&m, NLMSGERR_ATTR_MISS_TYPE, &type, sizeof(type));
	assert_int_equal(kapi_parse_status(&m.hdr, &st), 0);
	assert_true(st.has_miss_type);
	kapi_status_text(&st, &e);
	assert_string_equal(e.msg, "kernel: missing attribute 4");
}

static void extack_truncated(void **state)
{
	struct kapi_status st;
	struct rawmsg m;

	(void)state;
	error_msg(&m, -EINVAL, true, 0);
	m.hdr.nlmsg_len = NLMSG_HDRLEN + 2; /* shorter than nlmsgerr */
	assert_int_equal(kapi_parse_status(&m.hdr, &st), -EBADMSG);
	/* A TLV running past the end is ignored, not read. */
	error_msg(&m, -EINVAL, true, 0);
	m.hdr.nlmsg_flags |= NLM_F_ACK_TLVS;
	put_tlv(&m, NLMSGERR_ATTR_MSG, "abcdef", 7);
	m.hdr.nlmsg_len -= 4;
	assert_int_equal(kapi_parse_status(&m.hdr, &st), 0);
	assert_false(st.has_msg);
}

static void dump_done_with_error(void **state)
{
	static const char text[] = "volume list changed, retry";
	struct kapi_status st;
	struct rawmsg m;
	int err = -EAGAIN;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.hdr.nlmsg_type = NLMSG_DONE;
	m.hdr.nlmsg_flags = NLM_F_MULTI | NLM_F_ACK_TLVS;
	m.hdr.nlmsg_len = NLMSG_HDRLEN + sizeof(err);
	memcpy(NLMSG_DATA(&m.hdr), &err, sizeof(err));
	put_tlv(&m, NLMSGERR_ATTR_MSG, text, sizeof(text));
	assert_int_equal(kapi_parse_status(&m.hdr, &st), 0);
	assert_int_equal(st.error, -EAGAIN);
	assert_string_equal(st.msg, text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(volume_reply_all_attrs),
		cmocka_unit_test(volume_reply_minimal),
		cmocka_unit_test(volume_reply_cow_state),
		cmocka_unit_test(volume_reply_bad_uuid),
		cmocka_unit_test(volume_reply_lacks_disk),
		cmocka_unit_test(volume_reply_bad_types),
		cmocka_unit_test(volume_reply_name_too_long),
		cmocka_unit_test(attach_request_attrs),
		cmocka_unit_test(extack_capped),
		cmocka_unit_test(extack_uncapped_echo),
		cmocka_unit_test(extack_none),
		cmocka_unit_test(extack_missing_attr),
		cmocka_unit_test(extack_truncated),
		cmocka_unit_test(dump_done_with_error),
	};

	return cmocka_run_group_tests_name("netlink", tests, NULL, NULL);
}
