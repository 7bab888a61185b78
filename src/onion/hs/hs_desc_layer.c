/* The encrypted layers of a v3 descriptor (rend-spec-v3 §2.5): opening
 * and sealing one layer, the first layer's plaintext, and the descriptor
 * cookie of client authorization. */
#include "onion/hs/hs_desc.h"

#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/hs/hs_crypto.h"
#include "onion/hs/hs_desc_int.h"

#define SALT_LEN 16
#define CLIENT_ID_LEN 8
#define COOKIE_KEY_LEN 32

/* SECRET_KEY[32] SECRET_IV[16] MAC_KEY[32] from
 * KDF(secret | subcred | INT_8(revision) | salt | constant). */
static void
layer_keys(const uint8_t *secret, size_t secret_len, const uint8_t subcred[32],
	   uint64_t revision, const uint8_t salt[SALT_LEN],
	   const char *constant, uint8_t keys[80])
{
	uint8_t rev[8];
	tk_hs_int8(revision, rev);
	struct tk_hs_part in[] = {
		{ secret, secret_len },
		{ subcred, 32 },
		{ rev, sizeof rev },
		{ salt, SALT_LEN },
		{ constant, strlen(constant) },
	};
	tk_hs_kdf(in, ARRAY_SIZE(in), keys, 80);
}

/* D_MAC = MAC(MAC_KEY, INT_8(len(salt)) | salt | encrypted). */
static void
layer_mac(const uint8_t mac_key[32], const uint8_t salt[SALT_LEN],
	  const uint8_t *enc, size_t enc_len, uint8_t out[32])
{
	uint8_t salt_len[8];
	tk_hs_int8(SALT_LEN, salt_len);
	struct tk_hs_part m[] = {
		{ salt_len, sizeof salt_len },
		{ salt, SALT_LEN },
		{ enc, enc_len },
	};
	tk_hs_mac(mac_key, 32, m, ARRAY_SIZE(m), out);
}

int
tk_hs_desc_layer_open(const uint8_t *blob, size_t len, const uint8_t *secret,
		      size_t secret_len, const uint8_t subcred[32],
		      uint64_t revision, const char *constant, char **plain,
		      size_t *plain_len)
{
	uint8_t keys[80], mac[32];
	const uint8_t *enc;
	size_t enc_len, n;
	char *out;
	int ok;

	*plain = NULL;
	*plain_len = 0;
	if (len < TK__HS_DESC_BLOB_MIN)
		return -1;
	enc = blob + SALT_LEN;
	enc_len = len - SALT_LEN - 32;
	layer_keys(secret, secret_len, subcred, revision, blob, constant, keys);
	layer_mac(keys + 48, blob, enc, enc_len, mac);
	ok = tk_ct_memeq(mac, blob + len - 32, 32);
	tk_wipe(mac, sizeof mac);
	if (!ok) {
		tk_wipe(keys, sizeof keys);
		return -1;
	}
	/* Room for a newline and a NUL after the plaintext. */
	out = malloc(enc_len + 2);
	if (!out ||
	    tk_hs_stream(keys, keys + 32, enc, (uint8_t *)out, enc_len) < 0) {
		free(out);
		tk_wipe(keys, sizeof keys);
		return -1;
	}
	tk_wipe(keys, sizeof keys);
	/* The plaintext ends at its first NUL: the rest is padding. */
	n = strnlen(out, enc_len);
	if (n == 0) {
		free(out);
		return -1;
	}
	/* C tor ends the first layer without a newline; the tokenizer
	 * wants one. */
	if (out[n - 1] != '\n')
		out[n++] = '\n';
	out[n] = '\0';
	*plain = out;
	*plain_len = n;
	return 0;
}

int
tk_hs_desc_layer_seal(const char *plain, size_t plain_len, size_t pad_to,
		      const uint8_t *secret, size_t secret_len,
		      const uint8_t subcred[32], uint64_t revision,
		      const char *constant, const uint8_t salt[16],
		      uint8_t **blob, size_t *blob_len)
{
	uint8_t keys[80];
	size_t padded = plain_len, len;
	uint8_t *out;

	*blob = NULL;
	*blob_len = 0;
	if (pad_to && plain_len % pad_to)
		padded += pad_to - plain_len % pad_to;
	len = SALT_LEN + padded + 32;
	out = calloc(1, len);
	if (!out)
		return -1;
	memcpy(out, salt, SALT_LEN);
	memcpy(out + SALT_LEN, plain, plain_len);
	layer_keys(secret, secret_len, subcred, revision, salt, constant, keys);
	if (tk_hs_stream(keys, keys + 32, out + SALT_LEN, out + SALT_LEN,
			 padded) < 0) {
		tk_wipe(keys, sizeof keys);
		free(out);
		return -1;
	}
	layer_mac(keys + 48, salt, out + SALT_LEN, padded,
		  out + SALT_LEN + padded);
	tk_wipe(keys, sizeof keys);
	*blob = out;
	*blob_len = len;
	return 0;
}

/* ---- the first layer's plaintext ----------------------------------- */

static int
add_client(struct tk_hs_desc_middle *m, size_t *cap,
	   const struct tk_netdoc_item *it)
{
	struct tk_hs_auth_client c;
	if (it->argc < 3 || it->has_obj ||
	    tk_netdoc_b64_exact(it->argv[0], c.client_id, 8) < 0 ||
	    tk_netdoc_b64_exact(it->argv[1], c.iv, 16) < 0 ||
	    tk_netdoc_b64_exact(it->argv[2], c.cookie, 16) < 0)
		return -1;
	if (m->n_clients == *cap) {
		size_t ncap = *cap ? 2 * *cap : 16;
		struct tk_hs_auth_client *nc = realloc(m->clients,
						       ncap * sizeof *nc);
		if (!nc)
			return -1;
		m->clients = nc;
		*cap = ncap;
	}
	m->clients[m->n_clients++] = c;
	return 0;
}

int
tk_hs_desc_middle_parse(const char *text, size_t len,
			struct tk_hs_desc_middle *m, char *err, size_t errlen)
{
	struct tk_netdoc_reader rd;
	struct tk_netdoc_item it;
	char why[TK_NETDOC_ERRLEN], *copy;
	int seen_type = 0, seen_key = 0, seen_enc = 0, r;
	size_t cap = 0;
	const char *doc;

	memset(m, 0, sizeof *m);
	doc = tk__hs_desc_terminated(text, &len, &copy);
	if (!doc)
		return tk_netdoc_err(err, errlen, "out of memory");
	tk_netdoc_reader_init(&rd, doc, len);
	while ((r = tk_netdoc_next(&rd, &it, why, sizeof why)) == 1) {
		if (!seen_type && !tk_netdoc_kw_is(&it, "desc-auth-type")) {
			r = tk_netdoc_err(err, errlen,
					  "first layer does not begin with "
					  "desc-auth-type");
			goto out;
		}
		if (tk_netdoc_kw_is(&it, "desc-auth-type")) {
			if (seen_type++ || it.argc < 1 || it.has_obj ||
			    !tk_netdoc_span_is(it.argv[0], "x25519")) {
				r = tk_netdoc_err(err, errlen,
						  "line %zu: repeated or "
						  "unknown desc-auth-type",
						  it.lineno);
				goto out;
			}
		} else if (tk_netdoc_kw_is(&it, "desc-auth-ephemeral-key")) {
			if (seen_key++ || it.argc < 1 || it.has_obj ||
			    tk_netdoc_b64_exact(it.argv[0], m->ephemeral_key,
						32) < 0) {
				r = tk_netdoc_err(err, errlen,
						  "line %zu: repeated or "
						  "malformed "
						  "desc-auth-ephemeral-key",
						  it.lineno);
				goto out;
			}
		} else if (tk_netdoc_kw_is(&it, "auth-client")) {
			if (add_client(m, &cap, &it) < 0) {
				r = tk_netdoc_err(err, errlen,
						  "line %zu: malformed "
						  "auth-client",
						  it.lineno);
				goto out;
			}
		} else if (tk_netdoc_kw_is(&it, "encrypted")) {
			if (seen_enc++ || it.argc != 0 ||
			    tk__hs_desc_obj(&it, "MESSAGE", &m->encrypted,
					    &m->encrypted_len) < 0 ||
			    m->encrypted_len < TK__HS_DESC_BLOB_MIN) {
				r = tk_netdoc_err(err, errlen,
						  "line %zu: repeated or "
						  "malformed encrypted",
						  it.lineno);
				goto out;
			}
		}
		/* Unknown items are ignored. */
	}
	if (r < 0) {
		tk_netdoc_err(err, errlen, "first layer: %s", why);
		goto out;
	}
	if (!seen_type || !seen_key || m->n_clients == 0 || !seen_enc) {
		r = tk_netdoc_err(err, errlen, "first layer lacks %s",
				  !seen_type  ? "desc-auth-type"
				  : !seen_key ? "desc-auth-ephemeral-key"
				  : !seen_enc ? "encrypted"
					      : "auth-client");
		goto out;
	}
	r = 0;
out:
	free(copy);
	if (r < 0)
		tk_hs_desc_middle_free(m);
	return r;
}

void
tk_hs_desc_middle_free(struct tk_hs_desc_middle *m)
{
	free(m->clients);
	free(m->encrypted);
	memset(m, 0, sizeof *m);
}

int
tk_hs_desc_cookie(const struct tk_hs_desc_middle *m, const uint8_t subcred[32],
		  const uint8_t client_sk[32],
		  uint8_t cookie[TK_HS_DESC_COOKIE_LEN])
{
	uint8_t seed[32], keys[CLIENT_ID_LEN + COOKIE_KEY_LEN];
	int found = 0;

	/* A small-order ephemeral key gives an all-zero seed: Tor goes on
	 * with it, and so do we; no entry will match by chance. */
	if (tk_x25519(seed, client_sk, m->ephemeral_key) < 0)
		memset(seed, 0, sizeof seed);
	struct tk_hs_part in[] = { { subcred, 32 }, { seed, sizeof seed } };
	tk_hs_kdf(in, ARRAY_SIZE(in), keys, sizeof keys);
	for (size_t i = 0; i < m->n_clients && !found; i++) {
		const struct tk_hs_auth_client *c = &m->clients[i];
		if (!tk_ct_memeq(c->client_id, keys, CLIENT_ID_LEN))
			continue;
		if (tk_hs_stream(keys + CLIENT_ID_LEN, c->iv, c->cookie, cookie,
				 TK_HS_DESC_COOKIE_LEN) == 0)
			found = 1;
	}
	tk_wipe(seed, sizeof seed);
	tk_wipe(keys, sizeof keys);
	return found;
}
