// SPDX-License-Identifier: GPL-2.0
/*
 * ferry agent: "key=value" lines (see kvtext.h).
 */
#include <errno.h>
#include <string.h>

#include "kvtext.h"

int kvtext_parse(const char *text,
		 int (*set)(void *arg, const char *key, const char *value),
		 void *arg, struct ferr *e)
{
	const char *p = text, *nl;
	char line[512], *eq;
	int lineno = 0;
	size_t n;

	while (*p) {
		lineno++;
		nl = strchr(p, '\n');
		n = nl ? (size_t)(nl - p) : strlen(p);
		if (n >= sizeof(line))
			return ferr_set(e, -EINVAL, "line %d is too long",
					lineno);
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl ? 1 : 0);
		if (!line[0] || line[0] == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq)
			return ferr_set(e, -EINVAL, "line %d has no '='",
					lineno);
		*eq = '\0';
		if (set(arg, line, eq + 1))
			return ferr_set(e, -EINVAL, "line %d: bad value of %s",
					lineno, line);
	}
	return 0;
}
