// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: durations of the configuration file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

static const struct {
	char unit;
	uint64_t s;
} units[] = {
	{ 'w', 7 * 86400 }, { 'd', 86400 }, { 'h', 3600 },
	{ 'm', 60 },	    { 's', 1 },
};

int parse_duration(const char *text, uint64_t *s, struct ferr *e)
{
	const char *p = text;
	uint64_t total = 0, n;
	size_t u, next = 0;

	if (!strcmp(text, "0")) {
		*s = 0;
		return 0;
	}
	if (!*p)
		return ferr_set(e, -EINVAL, "empty duration");
	while (*p) {
		if (*p < '0' || *p > '9')
			goto bad;
		for (n = 0; *p >= '0' && *p <= '9'; p++) {
			n = n * 10 + (uint64_t)(*p - '0');
			if (n > DURATION_MAX_S)
				goto big;
		}
		if (!*p)
			return ferr_set(
				e, -EINVAL,
				"duration '%s' needs a unit (s, m, h, d or w)",
				text);
		for (u = next; u < ARRAY_SIZE(units); u++)
			if (units[u].unit == *p)
				break;
		if (u == ARRAY_SIZE(units))
			goto bad;
		next = u + 1;
		p++;
		total += n * units[u].s;
		if (total > DURATION_MAX_S)
			goto big;
	}
	*s = total;
	return 0;
bad:
	return ferr_set(
		e, -EINVAL,
		"invalid duration '%s' (e.g. \"30s\", \"5m\", \"1h30m\")",
		text);
big:
	return ferr_set(e, -EINVAL, "duration '%s' is longer than 100 years",
			text);
}

void format_duration(uint64_t s, char *buf, size_t len)
{
	size_t u, used = 0;

	if (!s) {
		snprintf(buf, len, "0s");
		return;
	}
	buf[0] = '\0';
	for (u = 0; u < ARRAY_SIZE(units) && used < len; u++) {
		if (s < units[u].s)
			continue;
		used += snprintf(buf + used, len - used, "%llu%c",
				 (unsigned long long)(s / units[u].s),
				 units[u].unit);
		s %= units[u].s;
	}
}
