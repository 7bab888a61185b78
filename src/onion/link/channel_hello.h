/* What a client says, and how it names what the relay said, in the link
 * handshake: the parts that need no channel (private to channel.c, which
 * sends and checks; this file knows nothing of it). */
#ifndef TK_ONION_LINK_CHANNEL_HELLO_H
#define TK_ONION_LINK_CHANNEL_HELLO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "onion/cell/cell.h"

/* Our NETINFO cell to a relay at `peer` (NULL or not IPv4/IPv6: no
 * address): 0, or -1 if it cannot be encoded. */
int tk_chanhello_netinfo(const struct sockaddr_storage *peer,
			 uint8_t cell[TK_CELL_LEN]);

/* A server name for the TLS ClientHello as tor makes one. */
void tk_chanhello_sni(char *out, size_t cap);

/* "3,4,5": the versions a relay offered, for a message. */
void tk_chanhello_versions(const uint16_t *v, size_t n, char *out, size_t cap);

/* A fingerprint as tor prints it: 40 upper-case hex digits. */
void tk_chanhello_fingerprint(const uint8_t id[20], char out[41]);

#endif
