// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: the replication backlog and its bound (see backlog.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backlog.h"
#include "kvtext.h"
#include "repl_state.h"

#define BACKLOG_FILE_MAX 16384

const char *backlog_why_name(enum backlog_why why)
{
	switch (why) {
	case BACKLOG_DROP_QUEUE_FULL:
		return "queue-full";
	case BACKLOG_DROP_COW_FULL:
		return "cow-full";
	default:
		return "keep";
	}
}

int backlog_push(struct backlog *b, const struct backlog_point *p)
{
	if (b->n == BACKLOG_MAX)
		return -ENOSPC;
	b->q[b->n++] = *p;
	return 0;
}

void backlog_remove(struct backlog *b, size_t i)
{
	if (i >= b->n)
		return;
	memmove(&b->q[i], &b->q[i + 1], (b->n - i - 1) * sizeof(b->q[0]));
	b->n--;
}

const struct backlog_point *backlog_target(const struct backlog *b)
{
	return b->n ? &b->q[b->n - 1] : NULL;
}

/* The oldest point that may go: not the newest, not the base. */
static bool oldest_droppable(const struct backlog *b, const char *base_point,
			     size_t *index)
{
	size_t i;

	for (i = 0; i + 1 < b->n; i++) {
		if (base_point && base_point[0] &&
		    !strcmp(b->q[i].point, base_point))
			continue;
		*index = i;
		return true;
	}
	return false;
}

enum backlog_why backlog_next_drop(const struct backlog *b,
				   const char *base_point,
				   const struct backlog_limits *l,
				   unsigned int cow_percent, size_t *index)
{
	if (!oldest_droppable(b, base_point, index))
		return BACKLOG_KEEP;
	if (l->max_queued && b->n > l->max_queued)
		return BACKLOG_DROP_QUEUE_FULL;
	if (l->max_cow_percent && cow_percent >= l->max_cow_percent)
		return BACKLOG_DROP_COW_FULL;
	return BACKLOG_KEEP;
}

int backlog_format(const struct backlog *b, char *buf, size_t len)
{
	size_t i, n;
	int m;

	m = snprintf(buf, len,
		     "version=1\nmerged=%" PRIu64 "\ndropped=%" PRIu64
		     "\nlast_action=%s\n",
		     b->merged, b->dropped, b->last_action);
	if (m < 0 || (size_t)m >= len)
		return -ENOSPC;
	n = (size_t)m;
	for (i = 0; i < b->n; i++) {
		m = snprintf(buf + n, len - n,
			     "queued=%s %" PRIu32 " %" PRIu64 "\n",
			     b->q[i].point, b->q[i].snap_id, b->q[i].created);
		if (m < 0 || (size_t)m >= len - n)
			return -ENOSPC;
		n += (size_t)m;
	}
	return (int)n;
}

static int parse_u64(const char *v, uint64_t *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(v, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static int parse_queued(const char *v, struct backlog *b)
{
	struct backlog_point p;
	char point[WIRE_POINT_MAX + 2]; /* one more: too long is seen */
	uint64_t id, created;
	char ids[24], cs[24];

	memset(&p, 0, sizeof(p));
	if (sscanf(v, "%64s %23s %23s", point, ids, cs) != 3 ||
	    strlen(point) > WIRE_POINT_MAX || parse_u64(ids, &id) || !id ||
	    id > UINT32_MAX || parse_u64(cs, &created))
		return -EINVAL;
	snprintf(p.point, sizeof(p.point), "%s", point);
	p.snap_id = (uint32_t)id;
	p.created = created;
	return backlog_push(b, &p) ? -EINVAL : 0;
}

static int set_field(void *arg, const char *k, const char *v)
{
	struct backlog *b = arg;

	if (!strcmp(k, "version"))
		return strcmp(v, "1") ? -EINVAL : 0;
	if (!strcmp(k, "merged"))
		return parse_u64(v, &b->merged);
	if (!strcmp(k, "dropped"))
		return parse_u64(v, &b->dropped);
	if (!strcmp(k, "last_action")) {
		snprintf(b->last_action, sizeof(b->last_action), "%s", v);
		return 0;
	}
	if (!strcmp(k, "queued"))
		return parse_queued(v, b);
	return 0; /* a newer agent's key */
}

int backlog_parse(const char *text, struct backlog *b, struct ferr *e)
{
	memset(b, 0, sizeof(*b));
	return kvtext_parse(text, set_field, b, e);
}

int backlog_load(const char *path, struct backlog *b, struct ferr *e)
{
	char *buf;
	ssize_t n;
	int fd, err;

	memset(b, 0, sizeof(*b));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return ferr_set(e, -errno, "%s: %s", path, strerror(errno));
	}
	buf = malloc(BACKLOG_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return ferr_set(e, -ENOMEM, "out of memory");
	}
	n = read(fd, buf, BACKLOG_FILE_MAX);
	err = errno;
	close(fd);
	if (n < 0) {
		free(buf);
		return ferr_set(e, -err, "%s: %s", path, strerror(err));
	}
	buf[n] = '\0';
	if (strlen(buf) != (size_t)n || n == BACKLOG_FILE_MAX)
		err = ferr_set(e, -EINVAL, "%s: not a backlog file", path);
	else
		err = backlog_parse(buf, b, e);
	free(buf);
	if (err) {
		char why[sizeof(e->msg)];

		snprintf(why, sizeof(why), "%s", e->msg);
		return ferr_set(e, err, "%s: %s", path, why);
	}
	return 0;
}

int backlog_save(const char *path, const struct backlog *b, struct ferr *e)
{
	char *buf = malloc(BACKLOG_FILE_MAX);
	int n, err;

	if (!buf)
		return ferr_set(e, -ENOMEM, "out of memory");
	n = backlog_format(b, buf, BACKLOG_FILE_MAX);
	if (n < 0)
		err = ferr_set(e, n, "backlog too large");
	else
		err = state_file_write(path, buf, (size_t)n, e);
	free(buf);
	return err;
}

int backlog_path(const char *dir, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/repl-%s.queue", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
