/* Small macros every part of torkit uses. */
#ifndef TK_COMMON_UTIL_H
#define TK_COMMON_UTIL_H

#include <stddef.h>

/* The structure that holds member `member` at address p. */
#define container_of(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
