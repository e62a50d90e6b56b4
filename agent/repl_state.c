// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: the replication state file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "kvtext.h"
#include "repl_state.h"

#define STATE_FILE_MAX 4096

int repl_state_format(const struct repl_state *s, char *buf, size_t len)
{
	char uuid[40];
	int n, m = 0;

	format_uuid(s->cbt_uuid, uuid, sizeof(uuid));
	n = snprintf(buf, len, "version=1\n");
	if (s->point[0] && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      "point=%s\n"
			      "epoch=%" PRIu64 "\n"
			      "cbt_uuid=%s\n"
			      "cbt_gen=%" PRIu64 "\n"
			      "source_snap=%" PRIu32 "\n"
			      "replica_snap=%" PRIu32 "\n",
			      s->point, s->epoch, uuid, s->cbt_gen,
			      s->source_snap_id, s->replica_snap_id);
	if (n >= 0 && (size_t)n < len)
		m = snprintf(buf + n, len - (size_t)n,
			     "peer=%s\n"
			     "inflight_point=%s\n"
			     "inflight_snap=%" PRIu32 "\n"
			     "failed=%d\n"
			     "created=%" PRIu64 "\n"
			     "acked_at=%" PRIu64 "\n"
			     "bytes_sent=%" PRIu64 "\n",
			     s->peer, s->inflight_point, s->inflight_snap_id,
			     s->failed ? 1 : 0, s->created, s->acked_at,
			     s->bytes_sent);
	if (n < 0 || m < 0 || (size_t)n + (size_t)m >= len)
		return -ENOSPC;
	return n + m;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_uuid(const char *v, uint8_t out[16])
{
	int i = 0, hi, lo;

	while (*v && i < 16) {
		if (*v == '-') {
			v++;
			continue;
		}
		hi = hexval(v[0]);
		lo = hi < 0 ? -1 : hexval(v[1]);
		if (lo < 0)
			return -EINVAL;
		out[i++] = (uint8_t)(hi << 4 | lo);
		v += 2;
	}
	return i == 16 && !*v ? 0 : -EINVAL;
}

static int parse_num(const char *v, uint64_t max, uint64_t *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(v, &end, 10);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

static int set_field(struct repl_state *s, const char *k, const char *v,
		     unsigned int *seen)
{
	uint64_t n;

	if (!strcmp(k, "version"))
		return strcmp(v, "1") ? -EINVAL : 0;
	if (!strcmp(k, "point")) {
		if (strlen(v) > WIRE_POINT_MAX)
			return -EINVAL;
		strcpy(s->point, v);
		*seen |= 1;
		return 0;
	}
	if (!strcmp(k, "epoch")) {
		*seen |= 2;
		return parse_num(v, UINT64_MAX, &s->epoch);
	}
	if (!strcmp(k, "cbt_uuid")) {
		*seen |= 4;
		return parse_uuid(v, s->cbt_uuid);
	}
	if (!strcmp(k, "cbt_gen")) {
		*seen |= 8;
		return parse_num(v, UINT64_MAX, &s->cbt_gen);
	}
	if (!strcmp(k, "source_snap") || !strcmp(k, "replica_snap")) {
		if (parse_num(v, UINT32_MAX, &n))
			return -EINVAL;
		if (k[0] == 's')
			s->source_snap_id = (uint32_t)n;
		else
			s->replica_snap_id = (uint32_t)n;
		return 0;
	}
	if (!strcmp(k, "inflight_point")) {
		if (strlen(v) > WIRE_POINT_MAX)
			return -EINVAL;
		strcpy(s->inflight_point, v);
		return 0;
	}
	if (!strcmp(k, "inflight_snap")) {
		if (parse_num(v, UINT32_MAX, &n))
			return -EINVAL;
		s->inflight_snap_id = (uint32_t)n;
		return 0;
	}
	if (!strcmp(k, "failed")) {
		if (parse_num(v, 1, &n))
			return -EINVAL;
		s->failed = n;
		return 0;
	}
	if (!strcmp(k, "created"))
		return parse_num(v, UINT64_MAX, &s->created);
	if (!strcmp(k, "acked_at"))
		return parse_num(v, UINT64_MAX, &s->acked_at);
	if (!strcmp(k, "bytes_sent"))
		return parse_num(v, UINT64_MAX, &s->bytes_sent);
	if (!strcmp(k, "peer")) {
		if (strlen(v) >= sizeof(s->peer))
			return -EINVAL;
		strcpy(s->peer, v);
		return 0;
	}
	return 0; /* a newer agent's key: ignored */
}

/* What kvtext_parse fills: the state, and which keys it has seen. */
struct repl_state_fill {
	struct repl_state *s;
	unsigned int seen;
};

static int fill_field(void *arg, const char *k, const char *v)
{
	struct repl_state_fill *f = arg;

	return set_field(f->s, k, v, &f->seen);
}

int repl_state_parse(const char *text, struct repl_state *s, struct ferr *e)
{
	struct repl_state_fill f = { .s = s };
	int err;

	memset(s, 0, sizeof(*s));
	err = kvtext_parse(text, fill_field, &f, e);
	if (err)
		return err;
	if (!f.seen && s->inflight_point[0])
		return 0; /* only a point in flight, no base yet */
	if (f.seen != 15)
		return ferr_set(e, -EINVAL,
				"point, epoch, cbt_uuid or cbt_gen is missing");
	return 0;
}

int repl_state_load(const char *path, struct repl_state *s, struct ferr *e)
{
	char buf[STATE_FILE_MAX + 1];
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return ferr_set(e, -errno, "%s: %s", path, strerror(errno));
	}
	n = read(fd, buf, STATE_FILE_MAX);
	err = errno;
	close(fd);
	if (n < 0)
		return ferr_set(e, -err, "%s: %s", path, strerror(err));
	buf[n] = '\0';
	if (strlen(buf) != (size_t)n || n == STATE_FILE_MAX)
		return ferr_set(e, -EINVAL, "%s: not a state file", path);
	err = repl_state_parse(buf, s, e);
	if (err) {
		char why[sizeof(e->msg)];

		snprintf(why, sizeof(why), "%s", e->msg);
		return ferr_set(e, err, "%s: %s", path, why);
	}
	return 0;
}

int state_file_write(const char *path, const char *buf, size_t n,
		     struct ferr *e)
{
	char tmp[4096 + 8], dir[4096];
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return ferr_set(e, -ENAMETOOLONG, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return ferr_set(e, -errno, "%s: %s", tmp, strerror(errno));
	errno = 0;
	if (write(fd, buf, n) != (ssize_t)n || fsync(fd))
		err = errno ? -errno : -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return ferr_set(e, err, "%s: %s", path, strerror(-err));
	}
	/* The rename itself must be durable too. */
	snprintf(dir, sizeof(dir), "%s", path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

int repl_state_save(const char *path, const struct repl_state *s,
		    struct ferr *e)
{
	char buf[STATE_FILE_MAX];
	int n;

	n = repl_state_format(s, buf, sizeof(buf));
	if (n < 0)
		return ferr_set(e, n, "state too large");
	return state_file_write(path, buf, (size_t)n, e);
}

int new_point_id(char *buf, size_t len, struct ferr *e)
{
	uint8_t u[16];

	if (getrandom(u, sizeof(u), 0) != sizeof(u))
		return ferr_set(e, -EIO, "getrandom: %s", strerror(errno));
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	format_uuid(u, buf, len);
	return 0;
}
