// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: the tag update queue (see tagq.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repl_state.h"
#include "tagq.h"

int tagq_path(const char *dir, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/tagq-%s.queue", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool field_ok(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

int tagq_format(const struct tagq_entry *t, char *buf, size_t len)
{
	size_t i, n;
	int w;

	if (!t->point[0] || !field_ok(t->point) || t->ntags > FERRY_TAGS_MAX)
		return -EINVAL;
	w = snprintf(buf, len, "%" PRIu64 "\t%s", t->seq, t->point);
	if (w < 0 || (size_t)w >= len)
		return -ENOSPC;
	n = (size_t)w;
	for (i = 0; i < t->ntags; i++) {
		if (!field_ok(t->tags[i]) || !strchr(t->tags[i], '='))
			return -EINVAL;
		w = snprintf(buf + n, len - n, "\t%s", t->tags[i]);
		if (w < 0 || (size_t)w >= len - n)
			return -ENOSPC;
		n += (size_t)w;
	}
	w = snprintf(buf + n, len - n, "\t%08x\n", crc32c(0, buf, n));
	if (w < 0 || (size_t)w >= len - n)
		return -ENOSPC;
	return (int)(n + (size_t)w);
}

int tagq_parse_line(const char *line, size_t n, struct tagq_entry *t)
{
	const char *p, *end = line + n, *tab;
	char crc[9], *x;
	size_t body, f = 0, len;

	memset(t, 0, sizeof(*t));
	if (n < 10 || line[n - 9] != '\t')
		return -EINVAL;
	body = n - 9;
	memcpy(crc, line + body + 1, 8);
	crc[8] = '\0';
	if (strtoul(crc, &x, 16) != crc32c(0, line, body) || *x)
		return -EINVAL;
	end = line + body;
	for (p = line; p < end; p = tab + 1, f++) {
		tab = memchr(p, '\t', (size_t)(end - p));
		if (!tab)
			tab = end;
		len = (size_t)(tab - p);
		if (f == 0) {
			if (!len || len > 20 || *p < '0' || *p > '9')
				return -EINVAL;
			t->seq = strtoull(p, &x, 10);
			if (x != tab)
				return -EINVAL;
		} else if (f == 1) {
			if (!len || len > WIRE_POINT_MAX)
				return -EINVAL;
			memcpy(t->point, p, len);
		} else {
			if (t->ntags == FERRY_TAGS_MAX || len > WIRE_TAG_MAX ||
			    !memchr(p, '=', len) || *p == '=')
				return -EINVAL;
			memcpy(t->tags[t->ntags++], p, len);
		}
		if (tab == end)
			break;
	}
	return f >= 1 ? 0 : -EINVAL;
}

int tagq_parse(const char *text, size_t len, struct tagq *q, struct ferr *e)
{
	const char *p = text, *nl, *end = text + len;
	struct tagq_entry *t;

	memset(q, 0, sizeof(*q));
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break; /* torn by a crash: never acknowledged */
		t = realloc(q->e, (q->n + 1) * sizeof(*t));
		if (!t) {
			tagq_free(q);
			return ferr_set(e, -ENOMEM, "out of memory");
		}
		q->e = t;
		if (!tagq_parse_line(p, (size_t)(nl - p), &q->e[q->n]))
			q->n++;
		p = nl + 1;
	}
	return 0;
}

/* The whole file in a malloc'd buffer; *len 0 and NULL without a file. */
static int read_all(const char *path, char **out, size_t *len, struct ferr *e)
{
	struct stat st;
	char *buf;
	ssize_t r;
	size_t got = 0;
	int fd;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return ferr_set(e, -errno, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st)) {
		close(fd);
		return ferr_set(e, -errno, "%s: %s", path, strerror(errno));
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return ferr_set(e, -ENOMEM, "out of memory");
	}
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

int tagq_load(const char *path, struct tagq *q, struct ferr *e)
{
	char *buf;
	size_t len;
	int err;

	err = read_all(path, &buf, &len, e);
	if (!err)
		err = tagq_parse(buf ? buf : "", len, q, e);
	free(buf);
	return err;
}

static int lock(const char *path, struct ferr *e)
{
	char lp[4096 + 8];
	int fd;

	snprintf(lp, sizeof(lp), "%s.lock", path);
	fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return ferr_set(e, -errno, "%s: %s", lp, strerror(errno));
	if (flock(fd, LOCK_EX)) {
		close(fd);
		return ferr_set(e, -errno, "%s: %s", lp, strerror(errno));
	}
	return fd;
}

int tagq_append(const char *path, const char *point, char *const *kv, size_t n,
		uint64_t *seq, struct ferr *e)
{
	struct tagq_entry *t = calloc(1, sizeof(*t));
	char *buf = NULL, *line = NULL;
	size_t len, i, keep;
	struct tagq q = { 0 };
	int lfd = -1, fd, w, err;

	line = malloc(TAGQ_LINE_MAX);
	if (!t || !line) {
		err = ferr_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	if (n > FERRY_TAGS_MAX || strlen(point) > WIRE_POINT_MAX) {
		err = ferr_set(e, -EINVAL, "tag update too large");
		goto out;
	}
	snprintf(t->point, sizeof(t->point), "%s", point);
	for (i = 0; i < n; i++) {
		if (strlen(kv[i]) > WIRE_TAG_MAX) {
			err = ferr_set(e, -EINVAL, "tag %s too long", kv[i]);
			goto out;
		}
		strcpy(t->tags[i], kv[i]);
	}
	t->ntags = n;
	lfd = lock(path, e);
	if (lfd < 0) {
		err = lfd;
		goto out;
	}
	err = read_all(path, &buf, &len, e);
	if (!err)
		err = tagq_parse(buf ? buf : "", len, &q, e);
	if (err)
		goto out;
	t->seq = q.n ? q.e[q.n - 1].seq + 1 : 1;
	w = tagq_format(t, line, TAGQ_LINE_MAX);
	if (w < 0) {
		err = ferr_set(e, w, "tag update for point %s is invalid",
			       point);
		goto out;
	}
	/* A line torn by a crash is cut before the new one. */
	keep = len;
	while (keep && buf[keep - 1] != '\n')
		keep--;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = ferr_set(e, -errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	errno = 0;
	if ((keep < len && ftruncate(fd, (off_t)keep)) ||
	    pwrite(fd, line, (size_t)w, (off_t)keep) != w || fsync(fd))
		err = ferr_set(e, errno ? -errno : -EIO, "%s: %s", path,
			       strerror(errno ? errno : EIO));
	close(fd);
	if (!err && !len) {
		/* A new file: its directory entry must be durable too. */
		char dir[4096], *slash;

		snprintf(dir, sizeof(dir), "%s", path);
		slash = strrchr(dir, '/');
		if (slash) {
			*slash = '\0';
			fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd >= 0) {
				fsync(fd);
				close(fd);
			}
		}
	}
	if (!err && seq)
		*seq = t->seq;
out:
	if (lfd >= 0)
		close(lfd);
	tagq_free(&q);
	free(buf);
	free(line);
	free(t);
	return err;
}

int tagq_remove(const char *path, uint64_t seq, struct ferr *e)
{
	struct tagq q = { 0 };
	char *out = NULL;
	size_t i, n = 0, cap;
	int lfd, w, err;

	lfd = lock(path, e);
	if (lfd < 0)
		return lfd;
	err = tagq_load(path, &q, e);
	if (err)
		goto out;
	cap = (q.n ? q.n : 1) * TAGQ_LINE_MAX;
	out = malloc(cap);
	if (!out) {
		err = ferr_set(e, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < q.n; i++) {
		if (q.e[i].seq == seq)
			continue;
		w = tagq_format(&q.e[i], out + n, cap - n);
		if (w < 0) {
			err = ferr_set(e, w, "%s: cannot rewrite", path);
			goto out;
		}
		n += (size_t)w;
	}
	err = state_file_write(path, out, n, e);
out:
	close(lfd);
	tagq_free(&q);
	free(out);
	return err;
}

void tagq_free(struct tagq *q)
{
	free(q->e);
	q->e = NULL;
	q->n = 0;
}
