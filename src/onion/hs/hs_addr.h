/* Onion addresses (rend-spec-v3 §6): a v3 address is the base32 of
 * PUBKEY[32] | CHECKSUM[2] | VERSION[1], 56 characters, followed by
 * ".onion"; CHECKSUM is the first two bytes of SHA3-256(".onion
 * checksum" | PUBKEY | VERSION) and VERSION is 3. PUBKEY is the service's
 * Ed25519 identity key (KP_hs_id), which must be a point of prime order.
 *
 * Pure: no I/O, no allocation. Every error below is what Tor reports to a
 * SOCKS client as F6 (bad onion address); the codes say which check
 * failed, for logs and tests. */
#ifndef TK_ONION_HS_HS_ADDR_H
#define TK_ONION_HS_HS_ADDR_H

#include <stddef.h>
#include <stdint.h>

#define TK_HS_ID_LEN 32	  /* Ed25519 identity key */
#define TK_HS_ADDR_LEN 56 /* base32 characters, without ".onion" */

enum tk_hs_addr_err {
	TK_HS_ADDR_OK = 0,
	TK_HS_ADDR_ELEN = -1,	   /* not 56 characters */
	TK_HS_ADDR_EBASE32 = -2,   /* a character outside a-z, 2-7 */
	TK_HS_ADDR_EVERSION = -3,  /* version byte is not 3 */
	TK_HS_ADDR_ECHECKSUM = -4, /* checksum does not match */
	TK_HS_ADDR_EKEY = -5,	   /* not a valid prime-order Ed25519 key */
	TK_HS_ADDR_ESYNTAX = -6,   /* host: empty label, "onion" alone */
};
const char *tk_hs_addr_strerror(int err);

/* Decodes the 56-character address label (either case, no ".onion")
 * into the identity key. Checks, in this order: length, alphabet,
 * version, checksum, key. */
int tk_hs_addr_decode(const char *label, size_t len, uint8_t id[TK_HS_ID_LEN]);

/* The address of id: 56 lower-case characters and a NUL (no ".onion"). */
void tk_hs_addr_encode(const uint8_t id[TK_HS_ID_LEN],
		       char out[TK_HS_ADDR_LEN + 1]);

/* What a destination host name is for onion services, as Tor's
 * parse_extended_hostname decides: 0 if it does not end in ".onion"
 * (any case; one trailing dot allowed), 1 if it is a valid v3 address
 * (id filled), or a negative TK_HS_ADDR_E* code for an onion name that
 * is not one. Subdomains are dropped as Tor drops them:
 * "www.<addr>.onion" is <addr>'s. */
int tk_hs_host_parse(const char *host, size_t len, uint8_t id[TK_HS_ID_LEN]);

#endif
