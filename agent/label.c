// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: consistency labels and point ids.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "label.h"

static const char *const names[] = {
	[LABEL_CRASH] = "crash",
	[LABEL_FILESYSTEM] = "filesystem",
	[LABEL_APPLICATION] = "application",
};

const char *label_name(enum ferry_label l)
{
	return names[l];
}

int label_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(names[i], name))
			return (int)i;
	return -1;
}

int label_decide(const struct label_input *in, enum ferry_label *out,
		 struct ferr *e)
{
	enum ferry_label l;
	int req;

	if (in->hook_given && !in->freeze_ok && !in->accept_lower)
		return ferr_set(e, -ECANCELED,
				"the freeze hook failed: no point taken");
	if (in->hook_given && in->freeze_ok)
		l = LABEL_APPLICATION;
	else if (in->fs_mounted)
		l = LABEL_FILESYSTEM;
	else
		l = LABEL_CRASH;
	if (in->requested) {
		req = label_from_name(in->requested);
		if (req < 0)
			return ferr_set(
				e, -EINVAL,
				"invalid label: use application, filesystem or crash");
		if (req > (int)l)
			return ferr_set(
				e, -EINVAL, "cannot label the point %s: %s",
				in->requested,
				req == LABEL_APPLICATION ?
					"no freeze hook succeeded (--hook)" :
					"no filesystem is mounted on the volume");
		l = (enum ferry_label)req;
	}
	*out = l;
	return 0;
}

bool mountinfo_has_dev(const char *mi, unsigned int major, unsigned int minor)
{
	const char *line = mi;

	while (line && *line) {
		unsigned int maj, min;
		int n = 0;

		/* "36 35 98:0 /mnt1 /mnt2 rw,noatime ..." */
		if (sscanf(line, "%*u %*u %u:%u %n", &maj, &min, &n) == 2 &&
		    n && maj == major && min == minor)
			return true;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

bool device_is_mounted(const char *path)
{
	struct stat st;
	char *text = NULL;
	size_t cap = 0, len = 0;
	bool found = false;
	FILE *f;

	if (stat(path, &st) || !S_ISBLK(st.st_mode))
		return false;
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return false;
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *t = realloc(text, cap + 65536);

			if (!t)
				break;
			text = t;
			cap += 65536;
		}
		n = fread(text + len, 1, cap - len - 1, f);
		if (!n)
			break;
		len += n;
	}
	fclose(f);
	if (text) {
		text[len] = '\0';
		found = mountinfo_has_dev(text, major(st.st_rdev),
					  minor(st.st_rdev));
	}
	free(text);
	return found;
}

int point_id_new(char *buf, size_t len, struct ferr *e)
{
	uint8_t u[16];
	size_t got = 0;

	while (got < sizeof(u)) {
		ssize_t n = getrandom(u + got, sizeof(u) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ferr_set(e, -errno, "getrandom: %s",
					strerror(errno));
		got += (size_t)n;
	}
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	format_uuid(u, buf, len);
	return 0;
}

bool looks_like_point_id(const char *s)
{
	size_t n = strlen(s), i;
	bool non_digit = false;

	if (n < 8 || n > 64 || s[0] == '-')
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != '-')
			return false;
		if (!isdigit(c))
			non_digit = true;
	}
	return non_digit;
}
