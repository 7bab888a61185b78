/* channel_hello.h: the link handshake's words that need no channel. */
#include "onion/link/channel_hello.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"

int
tk_chanhello_netinfo(const struct sockaddr_storage *peer,
		     uint8_t cell[TK_CELL_LEN])
{
	tk_netinfo ni;
	uint8_t payload[TK_CELL_PAYLOAD_LEN];
	memset(&ni, 0, sizeof ni);
	/* TIME 0 and no addresses of our own: a client need not reveal its
	 * clock or addresses (tor-spec §4.5). */
	ni.time = 0;
	if (peer && peer->ss_family == AF_INET) {
		ni.other.type = TK_NETINFO_ADDR_IPV4;
		ni.other.len = 4;
		memcpy(ni.other.addr,
		       &((const struct sockaddr_in *)peer)->sin_addr, 4);
	} else if (peer && peer->ss_family == AF_INET6) {
		ni.other.type = TK_NETINFO_ADDR_IPV6;
		ni.other.len = 16;
		memcpy(ni.other.addr,
		       &((const struct sockaddr_in6 *)peer)->sin6_addr, 16);
	}
	ni.n_my = 0;
	if (tk_netinfo_write(&ni, payload) != TK_CELL_OK ||
	    tk_cell_write_fixed(cell, 0, TK_CELL_NETINFO, payload,
				sizeof payload) != TK_CELL_OK)
		return -1;
	return 0;
}

void
tk_chanhello_sni(char *out, size_t cap)
{
	/* As tor: "www." and 4 to 25 random base32 characters, ".com", so
	 * that the server name says nothing and its length matches tor's. */
	static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint8_t r[4 + 25];
	size_t n, i;
	tk_random(r, sizeof r);
	n = 4 + tk_get_u32(r) % 22;
	snprintf(out, cap, "www.");
	for (i = 0; i < n && 4 + i + 5 < cap; i++)
		out[4 + i] = alpha[r[4 + i] & 31];
	snprintf(out + 4 + i, cap - 4 - i, ".com");
}

void
tk_chanhello_versions(const uint16_t *v, size_t n, char *out, size_t cap)
{
	size_t off = 0;
	out[0] = 0;
	for (size_t i = 0; i < n && off + 8 < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s%u",
					i ? "," : "", v[i]);
}

void
tk_chanhello_fingerprint(const uint8_t id[20], char out[41])
{
	tk_hex_encode(id, 20, out);
	for (char *p = out; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
}
