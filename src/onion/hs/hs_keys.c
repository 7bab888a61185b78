/* Key blinding and subcredentials. */
#include "onion/hs/hs_keys.h"

#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/base/keccak.h"
#include "onion/hs/hs_crypto.h"

/* The Ed25519 base point written as Tor hashes it into h. */
static const char basepoint_text[] =
	"(15112221349535400772501151409588531511454012693041857206046113283949"
	"847762202, 4631683569492647816942839400347516314130799386625622561578"
	"3033603165251855960)";

void
tk_hs_blind_factor(const uint8_t id[TK_HS_ID_LEN], uint64_t period_num,
		   uint64_t period_len_min, uint8_t h[32])
{
	/* BLIND_STRING includes its terminating NUL (INT_1(0)). */
	static const char blind_string[] = "Derive temporary signing key";
	static const char nonce_prefix[] = "key-blind";
	uint8_t num[8], len[8];
	tk_keccak k;
	tk_hs_int8(period_num, num);
	tk_hs_int8(period_len_min, len);
	tk_sha3_256_init(&k);
	tk_keccak_absorb(&k, blind_string, sizeof blind_string);
	tk_keccak_absorb(&k, id, TK_HS_ID_LEN);
	tk_keccak_absorb(&k, basepoint_text, sizeof basepoint_text - 1);
	tk_keccak_absorb(&k, nonce_prefix, sizeof nonce_prefix - 1);
	tk_keccak_absorb(&k, num, sizeof num);
	tk_keccak_absorb(&k, len, sizeof len);
	tk_sha3_256_final(&k, h);
}

int
tk_hs_blind_pub(const uint8_t pub[32], const uint8_t param[32],
		uint8_t blinded[TK_HS_BLINDED_LEN])
{
	uint8_t h[32];
	int r;
	memcpy(h, param, 32);
	h[0] &= 248;
	h[31] &= 63;
	h[31] |= 64;
	r = tk_ed25519_scalarmult(blinded, h, pub);
	tk_wipe(h, sizeof h);
	return r;
}

void
tk_hs_subcredential(const uint8_t id[TK_HS_ID_LEN],
		    const uint8_t blinded[TK_HS_BLINDED_LEN],
		    uint8_t subcred[TK_HS_SUBCRED_LEN])
{
	static const char cred_prefix[] = "credential";
	static const char subcred_prefix[] = "subcredential";
	uint8_t cred[TK_SHA3_256_LEN];
	tk_keccak k;
	tk_sha3_256_init(&k);
	tk_keccak_absorb(&k, cred_prefix, sizeof cred_prefix - 1);
	tk_keccak_absorb(&k, id, TK_HS_ID_LEN);
	tk_sha3_256_final(&k, cred);
	tk_sha3_256_init(&k);
	tk_keccak_absorb(&k, subcred_prefix, sizeof subcred_prefix - 1);
	tk_keccak_absorb(&k, cred, sizeof cred);
	tk_keccak_absorb(&k, blinded, TK_HS_BLINDED_LEN);
	tk_sha3_256_final(&k, subcred);
	tk_wipe(cred, sizeof cred);
}

int
tk_hs_keys_derive(const uint8_t id[TK_HS_ID_LEN], uint64_t period_num,
		  uint64_t period_len_min, struct tk_hs_keys *out)
{
	uint8_t h[32];
	memset(out, 0, sizeof *out);
	tk_hs_blind_factor(id, period_num, period_len_min, h);
	if (tk_hs_blind_pub(id, h, out->blinded) != 0)
		return -1;
	memcpy(out->id, id, TK_HS_ID_LEN);
	out->period_num = period_num;
	out->period_len_min = period_len_min;
	tk_hs_subcredential(id, out->blinded, out->subcred);
	return 0;
}
