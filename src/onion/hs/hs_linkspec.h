/* Link specifier blocks as onion services carry them (rend-spec-v3 §0.4):
 * NSPEC[1] then NSPEC times LSTYPE[1] LSLEN[1] LSPEC[LSLEN], the format of
 * EXTEND2. A descriptor names each introduction point this way, and
 * INTRODUCE1 names the rendezvous point this way. A client must pass a
 * block on verbatim (order and unknown types kept), so the block itself
 * is kept and this summary is read from it. */
#ifndef TK_ONION_HS_HS_LINKSPEC_H
#define TK_ONION_HS_HS_LINKSPEC_H

#include <stddef.h>
#include <stdint.h>

#include "onion/cell/relay_msg.h"

/* The largest block: 255 specifiers of 255 bytes each. */
#define TK_HS_LINKSPECS_MAX (1 + 255 * 257)

struct tk_hs_linkspecs {
	size_t n;     /* specifiers in the block */
	int has_ipv4; /* the first of each kind */
	uint8_t ipv4[4];
	uint16_t ipv4_port;
	int has_ipv6;
	uint8_t ipv6[16];
	uint16_t ipv6_port;
	int has_legacy_id;
	uint8_t legacy_id[20];
	int has_ed25519_id;
	uint8_t ed25519_id[32];
};

/* Parses a block that must fill blk[0..len) exactly, with the basic
 * checks of tor-spec §5.1.2: known types have their exact lengths, at
 * most one legacy and one Ed25519 identity; unknown types are allowed.
 * 0, or -1 (truncated, trailing bytes, or a check failed). */
int tk_hs_linkspecs_parse(const uint8_t *blk, size_t len,
			  struct tk_hs_linkspecs *out);

/* The specifiers of a (valid) block in EXTEND2's form, in their order,
 * for extending a circuit to the relay they name. -1 if the block is
 * malformed or holds more than TK_EXTEND2_MAX_SPECS specifiers. */
int tk_hs_linkspecs_to_extend2(const uint8_t *blk, size_t len,
			       tk_relay_extend2 *m);

/* Writes the block of specs[0..n) into out[cap]; returns its length, or
 * -1 if n > 255 or it does not fit. */
long tk_hs_linkspecs_encode(const tk_linkspec *specs, size_t n, uint8_t *out,
			    size_t cap);

#endif
