/* tor1 relay crypto. */
#include "onion/circ/relay_crypto.h"

#include <string.h>

#include "onion/base/bytes.h"

static int
dir_init(tk_relay_dir *d, const uint8_t *key, const uint8_t *seed)
{
	if (tk_aes_ctr_init(&d->cipher, key, NULL) != 0)
		return -1;
	tk_sha1_init(&d->digest);
	tk_sha1_update(&d->digest, seed, TK_SHA1_LEN);
	return 0;
}

static void
dir_free(tk_relay_dir *d)
{
	tk_aes_ctr_free(&d->cipher);
	tk_sha1_free(&d->digest);
}

int
tk_relay_hop_init(tk_relay_hop *hop, const uint8_t keys[72])
{
	const uint8_t *df = keys, *db = keys + 20, *kf = keys + 40,
		      *kb = keys + 56;
	if (dir_init(&hop->fwd, kf, df) != 0)
		return -1;
	if (dir_init(&hop->bwd, kb, db) != 0) {
		dir_free(&hop->fwd);
		return -1;
	}
	return 0;
}

void
tk_relay_hop_free(tk_relay_hop *hop)
{
	dir_free(&hop->fwd);
	dir_free(&hop->bwd);
}

void
tk_relay_dir_set_digest(tk_relay_dir *d, uint8_t payload[TK_CELL_PAYLOAD_LEN],
			uint8_t tag[TK_RELAY_TAG_LEN])
{
	uint8_t full[TK_SHA1_LEN];
	tk_put_u16(payload + 1, 0);
	memset(payload + TK_RELAY_DIGEST_OFF, 0, 4);
	tk_sha1_update(&d->digest, payload, TK_CELL_PAYLOAD_LEN);
	tk_sha1_peek(&d->digest, full);
	memcpy(payload + TK_RELAY_DIGEST_OFF, full, 4);
	if (tag)
		memcpy(tag, full, TK_RELAY_TAG_LEN);
}

int
tk_relay_dir_check_digest(tk_relay_dir *d,
			  const uint8_t payload[TK_CELL_PAYLOAD_LEN],
			  uint8_t tag[TK_RELAY_TAG_LEN])
{
	static const uint8_t zero4[4];
	if (payload[1] != 0 || payload[2] != 0)
		return 0;
	/* Trial-update a copy: a cell meant for a later hop must leave this
	 * hop's running digest exactly as it was. */
	tk_sha1_ctx trial;
	uint8_t full[TK_SHA1_LEN];
	tk_sha1_init(&trial);
	tk_sha1_clone(&trial, &d->digest);
	tk_sha1_update(&trial, payload, TK_RELAY_DIGEST_OFF);
	tk_sha1_update(&trial, zero4, 4);
	tk_sha1_update(&trial, payload + TK_RELAY_DIGEST_OFF + 4,
		       TK_CELL_PAYLOAD_LEN - TK_RELAY_DIGEST_OFF - 4);
	tk_sha1_peek(&trial, full);
	int ok = tk_ct_memeq(full, payload + TK_RELAY_DIGEST_OFF, 4);
	if (ok) {
		tk_sha1_clone(&d->digest, &trial);
		if (tag)
			memcpy(tag, full, TK_RELAY_TAG_LEN);
	}
	tk_sha1_free(&trial);
	return ok;
}

void
tk_relay_dir_crypt(tk_relay_dir *d, uint8_t payload[TK_CELL_PAYLOAD_LEN])
{
	tk_aes_ctr_crypt(&d->cipher, payload, payload, TK_CELL_PAYLOAD_LEN);
}

int
tk_relay_crypt_seal(tk_relay_hop *hops, size_t n_hops, size_t target,
		    uint8_t payload[TK_CELL_PAYLOAD_LEN],
		    uint8_t tag[TK_RELAY_TAG_LEN])
{
	if (target >= n_hops)
		return -1;
	tk_relay_dir_set_digest(&hops[target].fwd, payload, tag);
	for (size_t i = target + 1; i-- > 0;)
		tk_relay_dir_crypt(&hops[i].fwd, payload);
	return 0;
}

int
tk_relay_crypt_open(tk_relay_hop *hops, size_t n_hops,
		    uint8_t payload[TK_CELL_PAYLOAD_LEN], size_t *from,
		    uint8_t tag[TK_RELAY_TAG_LEN])
{
	for (size_t i = 0; i < n_hops; i++) {
		tk_relay_dir_crypt(&hops[i].bwd, payload);
		if (tk_relay_dir_check_digest(&hops[i].bwd, payload, tag)) {
			*from = i;
			return 0;
		}
	}
	return -1;
}
