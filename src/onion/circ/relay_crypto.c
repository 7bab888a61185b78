/* tor1 relay crypto. */
#include "onion/circ/relay_crypto.h"

#include <string.h>

#include "onion/base/bytes.h"

static int
dir_init(tk_relay_dir *d, const uint8_t *key, const uint8_t *seed)
{
	if (tk_aes_ctr_init(&d->cipher, key, NULL) != 0)
		return -1;
	d->sha3 = 0;
	memset(&d->digest3, 0, sizeof(d->digest3));
	tk_sha1_init(&d->digest);
	tk_sha1_update(&d->digest, seed, TK_SHA1_LEN);
	return 0;
}

static void
dir_free(tk_relay_dir *d)
{
	tk_aes_ctr_free(&d->cipher);
	tk_sha1_free(&d->digest);
	tk_keccak_wipe(&d->digest3);
}

static int
dir_init_hs(tk_relay_dir *d, const uint8_t *key, const uint8_t *seed)
{
	if (tk_aes_ctr_init_bits(&d->cipher, key, 256, NULL) != 0)
		return -1;
	tk_sha1_init(&d->digest); /* unused, but dir_free frees it */
	d->sha3 = 1;
	tk_sha3_256_init(&d->digest3);
	tk_keccak_absorb(&d->digest3, seed, TK_SHA3_256_LEN);
	return 0;
}

/* The running digest so far, without ending it (SHA3 is finalized on a
 * copy): the first TK_RELAY_TAG_LEN bytes. */
static void
dir_peek(const tk_relay_dir *d, const tk_sha1_ctx *s1, const tk_keccak *s3,
	 uint8_t out[TK_RELAY_TAG_LEN])
{
	if (d->sha3) {
		tk_keccak k = *s3;
		uint8_t full[TK_SHA3_256_LEN];
		tk_sha3_256_final(&k, full);
		memcpy(out, full, TK_RELAY_TAG_LEN);
		tk_keccak_wipe(&k);
	} else {
		tk_sha1_peek(s1, out);
	}
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

int
tk_relay_hop_init_hs(tk_relay_hop *hop,
		     const uint8_t keys[TK_RELAY_HS_KEYS_LEN])
{
	memset(hop, 0, sizeof(*hop));
	const uint8_t *df = keys, *db = keys + 32, *kf = keys + 64,
		      *kb = keys + 96;
	if (dir_init_hs(&hop->fwd, kf, df) != 0)
		return -1;
	if (dir_init_hs(&hop->bwd, kb, db) != 0) {
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
	uint8_t full[TK_RELAY_TAG_LEN];
	tk_put_u16(payload + 1, 0);
	memset(payload + TK_RELAY_DIGEST_OFF, 0, 4);
	if (d->sha3)
		tk_keccak_absorb(&d->digest3, payload, TK_CELL_PAYLOAD_LEN);
	else
		tk_sha1_update(&d->digest, payload, TK_CELL_PAYLOAD_LEN);
	dir_peek(d, &d->digest, &d->digest3, full);
	memcpy(payload + TK_RELAY_DIGEST_OFF, full, 4);
	if (tag)
		memcpy(tag, full, TK_RELAY_TAG_LEN);
}

static int
check_digest_sha3(tk_relay_dir *d, const uint8_t payload[TK_CELL_PAYLOAD_LEN],
		  uint8_t tag[TK_RELAY_TAG_LEN])
{
	static const uint8_t zero4[4];
	tk_keccak trial = d->digest3;
	uint8_t full[TK_RELAY_TAG_LEN];
	tk_keccak_absorb(&trial, payload, TK_RELAY_DIGEST_OFF);
	tk_keccak_absorb(&trial, zero4, 4);
	tk_keccak_absorb(&trial, payload + TK_RELAY_DIGEST_OFF + 4,
			 TK_CELL_PAYLOAD_LEN - TK_RELAY_DIGEST_OFF - 4);
	dir_peek(d, NULL, &trial, full);
	int ok = tk_ct_memeq(full, payload + TK_RELAY_DIGEST_OFF, 4);
	if (ok) {
		d->digest3 = trial;
		if (tag)
			memcpy(tag, full, TK_RELAY_TAG_LEN);
	}
	tk_keccak_wipe(&trial);
	return ok;
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
	if (d->sha3)
		return check_digest_sha3(d, payload, tag);
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
