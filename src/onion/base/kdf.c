/* KDF-TOR and CREATE_FAST. */
#include "onion/base/kdf.h"

#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"

int
tk_kdf_tor(const uint8_t *k0, size_t k0len, uint8_t *out, size_t outlen)
{
	if (outlen > 256 * TK_SHA1_LEN)
		return -1;
	size_t done = 0;
	for (unsigned i = 0; done < outlen; i++) {
		uint8_t block[TK_SHA1_LEN];
		uint8_t ctr = (uint8_t)i;
		tk_sha1_ctx h;
		tk_sha1_init(&h);
		tk_sha1_update(&h, k0, k0len);
		tk_sha1_update(&h, &ctr, 1);
		tk_sha1_peek(&h, block);
		tk_sha1_free(&h);
		size_t n = outlen - done < TK_SHA1_LEN ? outlen - done
						       : TK_SHA1_LEN;
		memcpy(out + done, block, n);
		done += n;
		tk_wipe(block, sizeof block);
	}
	return 0;
}

void
tk_fast_client_create(uint8_t x[TK_FAST_X_LEN])
{
	tk_random(x, TK_FAST_X_LEN);
}

int
tk_fast_client_finish(const uint8_t x[TK_FAST_X_LEN],
		      const uint8_t reply[TK_FAST_REPLY_LEN], uint8_t *keys,
		      size_t keys_len)
{
	uint8_t k0[TK_FAST_X_LEN + 20];
	uint8_t k[TK_SHA1_LEN + 256 * TK_SHA1_LEN];
	if (keys_len > sizeof k - TK_SHA1_LEN)
		return -1;
	memcpy(k0, x, TK_FAST_X_LEN);
	memcpy(k0 + TK_FAST_X_LEN, reply, 20);
	int rc = -1;
	if (tk_kdf_tor(k0, sizeof k0, k, TK_SHA1_LEN + keys_len) == 0 &&
	    tk_ct_memeq(k, reply + 20, TK_SHA1_LEN)) {
		memcpy(keys, k + TK_SHA1_LEN, keys_len);
		rc = 0;
	}
	tk_wipe(k0, sizeof k0);
	tk_wipe(k, TK_SHA1_LEN + keys_len);
	return rc;
}
