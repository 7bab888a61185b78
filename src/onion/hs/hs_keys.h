/* The keys a client derives from an onion service's identity key for one
 * time period (rend-spec-v3 §2.1, appendix A.2): the blinded key, under
 * which the descriptor is stored and which signs it, and the
 * subcredential, which the descriptor's encryption and the introduction
 * handshake are bound to. */
#ifndef TK_ONION_HS_HS_KEYS_H
#define TK_ONION_HS_HS_KEYS_H

#include <stdint.h>

#include "onion/hs/hs_addr.h"

#define TK_HS_BLINDED_LEN 32
#define TK_HS_SUBCRED_LEN 32

/* h = SHA3-256("Derive temporary signing key" NUL | id | B | N), with
 * B the base point as text and N = "key-blind" | INT_8(period_num) |
 * INT_8(period_len_min): the blinding factor, before clamping. */
void tk_hs_blind_factor(const uint8_t id[TK_HS_ID_LEN], uint64_t period_num,
			uint64_t period_len_min, uint8_t h[32]);

/* blinded = clamp(param) * pub, the public half of key blinding. -1 if
 * pub is no valid prime-order point. */
int tk_hs_blind_pub(const uint8_t pub[32], const uint8_t param[32],
		    uint8_t blinded[TK_HS_BLINDED_LEN]);

/* N_hs_cred = H("credential" | id);
 * N_hs_subcred = H("subcredential" | N_hs_cred | blinded). */
void tk_hs_subcredential(const uint8_t id[TK_HS_ID_LEN],
			 const uint8_t blinded[TK_HS_BLINDED_LEN],
			 uint8_t subcred[TK_HS_SUBCRED_LEN]);

/* Everything a client needs about a service in one time period. */
struct tk_hs_keys {
	uint8_t id[TK_HS_ID_LEN];
	uint64_t period_num, period_len_min;
	uint8_t blinded[TK_HS_BLINDED_LEN];
	uint8_t subcred[TK_HS_SUBCRED_LEN];
};
/* Derives the blinded key and subcredential of id for a period. -1 if id
 * is no valid key (an address that passed tk_hs_addr_decode always is). */
int tk_hs_keys_derive(const uint8_t id[TK_HS_ID_LEN], uint64_t period_num,
		      uint64_t period_len_min, struct tk_hs_keys *out);

#endif
