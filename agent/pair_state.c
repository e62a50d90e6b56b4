// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: the pair state file and the pair's event log.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pair_state.h"
#include "kvtext.h"
#include "repl_state.h"

#define PAIR_FILE_MAX 2048

static const char *const phase_names[] = {
	[PAIR_IDLE] = "idle",
	[PAIR_SENDING] = "sending",
	[PAIR_WAITING_ARRIVAL] = "waiting-arrival",
	[PAIR_LINK_DOWN] = "link-down",
	[PAIR_FAILED] = "failed",
};

const char *pair_phase_name(enum pair_phase p)
{
	if ((unsigned int)p >= sizeof(phase_names) / sizeof(phase_names[0]))
		return "unknown";
	return phase_names[p];
}

int pair_state_format(const struct pair_state *s, char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "version=1\n"
			 "state=%s\n"
			 "to=%s\n"
			 "point=%s\n"
			 "bytes_sent=%" PRIu64 "\n"
			 "bytes_total=%" PRIu64 "\n"
			 "rate=%" PRIu64 "\n"
			 "started=%" PRIu64 "\n"
			 "updated=%" PRIu64 "\n"
			 "error=%s\n",
			 pair_phase_name(s->phase), s->to, s->point,
			 s->bytes_sent, s->bytes_total, s->rate, s->started,
			 s->updated, s->error);

	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
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

static int copy(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return -EINVAL;
	strcpy(dst, v);
	return 0;
}

static int set_field(void *arg, const char *k, const char *v)
{
	struct pair_state *s = arg;
	size_t i;

	if (!strcmp(k, "version"))
		return strcmp(v, "1") ? -EINVAL : 0;
	if (!strcmp(k, "state")) {
		for (i = 0; i < sizeof(phase_names) / sizeof(phase_names[0]);
		     i++)
			if (!strcmp(v, phase_names[i])) {
				s->phase = (enum pair_phase)i;
				return 0;
			}
		return -EINVAL;
	}
	if (!strcmp(k, "to"))
		return copy(s->to, sizeof(s->to), v);
	if (!strcmp(k, "point"))
		return copy(s->point, sizeof(s->point), v);
	if (!strcmp(k, "error"))
		return copy(s->error, sizeof(s->error), v);
	if (!strcmp(k, "bytes_sent"))
		return parse_u64(v, &s->bytes_sent);
	if (!strcmp(k, "bytes_total"))
		return parse_u64(v, &s->bytes_total);
	if (!strcmp(k, "rate"))
		return parse_u64(v, &s->rate);
	if (!strcmp(k, "started"))
		return parse_u64(v, &s->started);
	if (!strcmp(k, "updated"))
		return parse_u64(v, &s->updated);
	return 0; /* a newer agent's key */
}

int pair_state_parse(const char *text, struct pair_state *s, struct ferr *e)
{
	memset(s, 0, sizeof(*s));
	return kvtext_parse(text, set_field, s, e);
}

int pair_state_load(const char *path, struct pair_state *s, struct ferr *e)
{
	char buf[PAIR_FILE_MAX + 1];
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		return ferr_set(e, -errno, "%s: %s", path, strerror(errno));
	}
	n = read(fd, buf, PAIR_FILE_MAX);
	err = errno;
	close(fd);
	if (n < 0)
		return ferr_set(e, -err, "%s: %s", path, strerror(err));
	buf[n] = '\0';
	if (strlen(buf) != (size_t)n || n == PAIR_FILE_MAX)
		return ferr_set(e, -EINVAL, "%s: not a pair state file", path);
	return pair_state_parse(buf, s, e);
}

int pair_state_save(const char *path, const struct pair_state *s,
		    struct ferr *e)
{
	char buf[PAIR_FILE_MAX];
	int n = pair_state_format(s, buf, sizeof(buf));

	if (n < 0)
		return ferr_set(e, n, "pair state too large");
	return state_file_write(path, buf, (size_t)n, e);
}

long long pair_state_eta(const struct pair_state *s)
{
	if (s->phase != PAIR_SENDING || !s->rate ||
	    s->bytes_sent > s->bytes_total)
		return -1;
	return (long long)((s->bytes_total - s->bytes_sent + s->rate - 1) /
			   s->rate);
}

int pair_state_path(const char *dir, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/pair-%s.state", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int pair_events_path(const char *dir, const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/events-%s.log", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int pair_event_append(const char *dir, const char *name, const char *event,
		      const char *message)
{
	struct json_object *o = json_object_new_object();
	struct timespec ts;
	char path[4096], when[64], *line = NULL;
	const char *text;
	int fd, err = 0, len;

	if (!o)
		return -ENOMEM;
	clock_gettime(CLOCK_REALTIME, &ts);
	format_rfc3339((uint64_t)ts.tv_sec * 1000000000ULL +
			       (uint64_t)ts.tv_nsec,
		       when, sizeof(when));
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "volume", json_object_new_string(name));
	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_add(o, "message", json_object_new_string(message));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = text ? asprintf(&line, "%s\n", text) : -1;
	json_object_put(o);
	if (len < 0)
		return -ENOMEM;
	if (pair_events_path(dir, name, path, sizeof(path))) {
		free(line);
		return -ENAMETOOLONG;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		err = -errno;
	else if (write(fd, line, (size_t)len) != len)
		err = -EIO;
	if (fd >= 0)
		close(fd);
	free(line);
	return err;
}
