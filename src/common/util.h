/* Small helpers every part of torkit uses. */
#ifndef TK_COMMON_UTIL_H
#define TK_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The structure that holds member `member` at address p. */
/* clang-format off */
#define container_of(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))
/* clang-format on */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Big-endian (network order) loads and stores. */
static inline uint16_t
tk_get_u16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}
static inline uint32_t
tk_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}
static inline void
tk_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void
tk_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
