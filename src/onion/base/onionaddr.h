/* onionaddr.h — what a host name is as far as onion services go: not an
 * onion name, a well-formed v3 onion address (rend-spec-v3 "Encoding onion
 * addresses": base32 of pubkey | checksum | version 3), or a malformed
 * one. Pure: no I/O, no allocation. */
#ifndef TK_ONION_BASE_ONIONADDR_H
#define TK_ONION_BASE_ONIONADDR_H

#include <stddef.h>
#include <stdint.h>

enum tk_onion_host {
	TK_ONION_HOST_BAD = -1, /* ends in .onion, not a v3 address */
	TK_ONION_HOST_NONE = 0, /* not an onion name */
	TK_ONION_HOST_V3 = 1,	/* a well-formed v3 address */
};

/* host: any case, one trailing dot allowed; "sub.ADDR.onion" is ADDR's,
 * as in Tor. Stricter than Tor: "x.onion." and a bare "onion" count as
 * onion names, so neither goes to an exit. On TK_ONION_HOST_V3 the
 * service's Ed25519 key is in pubkey (may be NULL). */
enum tk_onion_host tk_onion_host_classify(const char *host, size_t len,
					  uint8_t pubkey[32]);

#endif
