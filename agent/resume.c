// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: the receiver's resume file, skipping what is durable, and
 * the sender's token bucket.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "repl_state.h"
#include "resume.h"

#define RESUME_FILE_MAX 1024

void resume_from_begin(const struct wire_begin *b, struct resume_state *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->cbt_uuid, b->cbt_uuid, 16);
	snprintf(r->base, sizeof(r->base), "%s", b->base_point);
	snprintf(r->target, sizeof(r->target), "%s", b->target_point);
}

bool resume_same(const struct resume_state *a, const struct resume_state *b)
{
	return !memcmp(a->cbt_uuid, b->cbt_uuid, 16) &&
	       !strcmp(a->base, b->base) && !strcmp(a->target, b->target);
}

int resume_format(const struct resume_state *r, char *buf, size_t len)
{
	char uuid[40];
	int n;

	format_uuid(r->cbt_uuid, uuid, sizeof(uuid));
	n = snprintf(buf, len,
		     "version=1\ncbt_uuid=%s\nbase=%s\ntarget=%s\n"
		     "offset=%" PRIu64 "\nend=1\n",
		     uuid, r->base, r->target, r->offset);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

static int parse_line(struct resume_state *r, const char *k, const char *v,
		      unsigned int *seen)
{
	char *end;
	int i;

	if (!strcmp(k, "version"))
		return strcmp(v, "1") ? -EINVAL : 0;
	if (!strcmp(k, "cbt_uuid")) {
		unsigned int b[16];

		if (strlen(v) != 36 ||
		    sscanf(v,
			   "%2x%2x%2x%2x-%2x%2x-%2x%2x-%2x%2x-%2x%2x%2x%2x%2x%2x",
			   &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &b[6],
			   &b[7], &b[8], &b[9], &b[10], &b[11], &b[12], &b[13],
			   &b[14], &b[15]) != 16)
			return -EINVAL;
		for (i = 0; i < 16; i++)
			r->cbt_uuid[i] = (uint8_t)b[i];
		*seen |= 1;
		return 0;
	}
	if (!strcmp(k, "base") || !strcmp(k, "target")) {
		if (strlen(v) > WIRE_POINT_MAX)
			return -EINVAL;
		strcpy(k[0] == 'b' ? r->base : r->target, v);
		*seen |= k[0] == 'b' ? 2 : 4;
		return 0;
	}
	if (!strcmp(k, "offset")) {
		if (*v < '0' || *v > '9')
			return -EINVAL;
		errno = 0;
		r->offset = strtoull(v, &end, 10);
		if (errno || *end || r->offset % WIRE_ALIGN)
			return -EINVAL;
		*seen |= 8;
		return 0;
	}
	if (!strcmp(k, "end")) {
		*seen |= 16;
		return strcmp(v, "1") ? -EINVAL : 0;
	}
	return 0;
}

int resume_parse(const char *text, struct resume_state *r, struct ferr *e)
{
	char line[256], *eq;
	const char *p = text, *nl;
	unsigned int seen = 0;
	size_t n;

	memset(r, 0, sizeof(*r));
	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			return ferr_set(e, -EINVAL, "resume file is truncated");
		n = (size_t)(nl - p);
		if (n >= sizeof(line))
			return ferr_set(e, -EINVAL,
					"resume file line too long");
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl + 1;
		eq = strchr(line, '=');
		if (!eq)
			return ferr_set(e, -EINVAL,
					"resume file line has no '='");
		*eq = '\0';
		if (parse_line(r, line, eq + 1, &seen))
			return ferr_set(e, -EINVAL,
					"resume file: bad value of %s", line);
	}
	if (seen != 31 || !r->target[0])
		return ferr_set(e, -EINVAL, "resume file is incomplete");
	return 0;
}

int resume_load(const char *path, struct resume_state *r, struct ferr *e)
{
	char buf[RESUME_FILE_MAX + 1], why[sizeof(e->msg)];
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return ferr_set(e, -errno, "%s: %s", path, strerror(errno));
	}
	n = read(fd, buf, RESUME_FILE_MAX);
	err = errno;
	close(fd);
	if (n < 0)
		return ferr_set(e, -err, "%s: %s", path, strerror(err));
	buf[n] = '\0';
	if (strlen(buf) != (size_t)n)
		return ferr_set(e, -EINVAL, "%s: not a resume file", path);
	err = resume_parse(buf, r, e);
	if (err) {
		snprintf(why, sizeof(why), "%s", e->msg);
		return ferr_set(e, err, "%s: %s", path, why);
	}
	return 0;
}

int resume_save(const char *path, const struct resume_state *r, struct ferr *e)
{
	char buf[RESUME_FILE_MAX];
	int n = resume_format(r, buf, sizeof(buf));

	if (n < 0)
		return ferr_set(e, n, "resume state too large");
	return state_file_write(path, buf, (size_t)n, e);
}

int resume_clear(const char *path, struct ferr *e)
{
	if (unlink(path) && errno != ENOENT)
		return ferr_set(e, -errno, "%s: %s", path, strerror(errno));
	return 0;
}

size_t extents_skip_below(struct extent *x, size_t n, uint64_t offset)
{
	size_t i = 0, k;
	uint64_t end;

	while (i < n && x[i].offset + x[i].length <= offset)
		i++;
	if (i < n && x[i].offset < offset) {
		end = x[i].offset + x[i].length;
		x[i].offset = offset;
		x[i].length = end - offset;
	}
	for (k = 0; i + k < n; k++)
		x[k] = x[i + k];
	return k;
}

void bwlimit_init(struct bwlimit *b, uint64_t rate, long long now_us)
{
	memset(b, 0, sizeof(*b));
	b->rate = rate;
	/* A burst of a tenth of a second, at least one full frame. */
	b->burst = rate / 10 > WIRE_MAX_PAYLOAD + WIRE_HDR_LEN ?
			   rate / 10 :
			   WIRE_MAX_PAYLOAD + WIRE_HDR_LEN;
	b->tokens = 0;
	b->last_us = now_us;
}

long long bwlimit_take(struct bwlimit *b, uint64_t len, long long now_us)
{
	if (!b->rate)
		return 0;
	if (now_us > b->last_us) {
		b->tokens +=
			(double)(now_us - b->last_us) * (double)b->rate / 1e6;
		if (b->tokens > (double)b->burst)
			b->tokens = (double)b->burst;
		b->last_us = now_us;
	}
	b->tokens -= (double)len;
	if (b->tokens >= 0)
		return 0;
	return (long long)(-b->tokens * 1e6 / (double)b->rate) + 1;
}

int parse_rate(const char *s, uint64_t *rate, struct ferr *e)
{
	uint64_t mult = 1, v;
	char *end;

	if (*s < '0' || *s > '9')
		return ferr_set(e, -EINVAL, "bad rate '%s'", s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end == 'K' || *end == 'k')
		mult = 1ULL << 10;
	else if (*end == 'M' || *end == 'm')
		mult = 1ULL << 20;
	else if (*end == 'G' || *end == 'g')
		mult = 1ULL << 30;
	if (mult > 1)
		end++;
	if (errno || *end || !v || v > UINT64_MAX / mult / 1024)
		return ferr_set(e, -EINVAL,
				"bad rate '%s' (bytes per second, K, M or G)",
				s);
	*rate = v * mult;
	return 0;
}
