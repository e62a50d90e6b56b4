/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the agent's cmocka tests.
 */
#ifndef FERRY_UNIT_H
#define FERRY_UNIT_H

/* cmocka needs these before its header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

/*
 * A mutable argv built from string literals: getopt_long permutes argv,
 * so literals cannot be passed directly. Freed by argv_free().
 */
struct argv_buf {
	int argc;
	char *argv[64];
};

static inline struct argv_buf *argv_make(const char *const *words)
{
	struct argv_buf *a = calloc(1, sizeof(*a));

	while (words[a->argc]) {
		a->argv[a->argc] = strdup(words[a->argc]);
		a->argc++;
	}
	return a;
}

static inline void argv_free(struct argv_buf *a)
{
	int i;

	for (i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a);
}

#define ARGV(...) argv_make((const char *const[]){ __VA_ARGS__, NULL })

#endif /* FERRY_UNIT_H */
