/* socks_internal.h — helpers shared by the socks_*.c files; not public. */
#ifndef TK_SOCKS_INTERNAL_H
#define TK_SOCKS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Our HTTP-resistance answer (see socks_reply.c). */
extern const char tk_socks_http_page[];
extern const size_t tk_socks_http_page_len;

static inline uint16_t tk_get_u16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline void tk_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline int tk_is_ascii_letter(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

#endif
