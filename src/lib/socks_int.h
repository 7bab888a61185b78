/* socks_int.h — shared by the socks_*.c files of the codec (and their
 * tests); not part of libtorkit's interface. */
#ifndef TK_LIB_SOCKS_INT_H
#define TK_LIB_SOCKS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

/* Our HTTP-resistance answer (see socks_proto_reply.c). */
extern const char tk__socks_http_page[];
extern const size_t tk__socks_http_page_len;

static inline int
tk__is_ascii_letter(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

#endif
