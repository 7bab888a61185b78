/* SHA3-256 MAC, SHAKE-256 KDF and AES-256-CTR for onion services. */
#include "onion/hs/hs_crypto.h"

#include "onion/base/crypto.h"
#include "onion/base/keccak.h"

void
tk_hs_int8(uint64_t v, uint8_t out[8])
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

void
tk_hs_mac(const uint8_t *key, size_t keylen, const struct tk_hs_part *m,
	  size_t nparts, uint8_t out[TK_HS_MAC_LEN])
{
	uint8_t klen[8];
	tk_keccak k;
	tk_hs_int8(keylen, klen);
	tk_sha3_256_init(&k);
	tk_keccak_absorb(&k, klen, sizeof klen);
	tk_keccak_absorb(&k, key, keylen);
	for (size_t i = 0; i < nparts; i++)
		tk_keccak_absorb(&k, m[i].p, m[i].len);
	tk_sha3_256_final(&k, out);
}

void
tk_hs_kdf(const struct tk_hs_part *m, size_t nparts, uint8_t *out,
	  size_t outlen)
{
	tk_keccak k;
	tk_shake256_init(&k);
	for (size_t i = 0; i < nparts; i++)
		tk_keccak_absorb(&k, m[i].p, m[i].len);
	tk_shake256_squeeze(&k, out, outlen);
	tk_keccak_wipe(&k);
}

int
tk_hs_stream(const uint8_t key[TK_HS_KEY_LEN], const uint8_t *iv,
	     const uint8_t *in, uint8_t *out, size_t len)
{
	tk_aes_ctr c;
	if (tk_aes_ctr_init_bits(&c, key, 256, iv) != 0)
		return -1;
	tk_aes_ctr_crypt(&c, in, out, len);
	tk_aes_ctr_free(&c);
	return 0;
}
