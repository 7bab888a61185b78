/* A v3 descriptor from its text to its introduction points, with Tor's
 * client rules (hs_client_decode_descriptor and hs_desc_decode_*). */
#include "onion/hs/hs_desc.h"

#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/netdoc/netdoc.h"

#define CONST_SUPERENC "hsdir-superencrypted-data"
#define CONST_ENC "hsdir-encrypted-data"

const char *
tk_hs_desc_strerror(int err)
{
	switch (err) {
	case TK_HS_DESC_OK:
		return "descriptor is valid";
	case TK_HS_DESC_EFORMAT:
		return "descriptor is malformed";
	case TK_HS_DESC_ECERT:
		return "descriptor signing-key certificate is invalid";
	case TK_HS_DESC_ESIG:
		return "descriptor signature is invalid";
	case TK_HS_DESC_ESUPERENC:
		return "descriptor first layer does not decrypt or parse";
	case TK_HS_DESC_ENEEDAUTH:
		return "descriptor needs client authorization";
	case TK_HS_DESC_EBADAUTH:
		return "client authorization key does not open the descriptor";
	case TK_HS_DESC_EENC:
		return "descriptor second layer is malformed";
	case TK_HS_DESC_ENOMEM:
		return "out of memory";
	}
	return "unknown descriptor error";
}

void
tk_hs_desc_init(struct tk_hs_desc *d)
{
	memset(d, 0, sizeof *d);
}

void
tk_hs_desc_free(struct tk_hs_desc *d)
{
	for (size_t i = 0; i < d->n_intro; i++)
		free(d->intro[i].linkspecs);
	memset(d, 0, sizeof *d);
}

size_t
tk_hs_desc_size(const struct tk_hs_desc *d)
{
	size_t n = sizeof *d;
	for (size_t i = 0; i < d->n_intro; i++)
		n += d->intro[i].linkspecs_len;
	return n;
}

/* Opens the second layer, with the cookie of client_sk's auth-client
 * entry when there is one. */
static int
open_inner(const struct tk_hs_desc_middle *m, const struct tk_hs_keys *keys,
	   uint64_t revision, const uint8_t *client_sk, char **plain,
	   size_t *plain_len, int *used_cookie)
{
	uint8_t secret[32 + TK_HS_DESC_COOKIE_LEN];
	size_t secret_len = 32;
	int r;

	memcpy(secret, keys->blinded, 32);
	*used_cookie = 0;
	if (client_sk &&
	    tk_hs_desc_cookie(m, keys->subcred, client_sk, secret + 32)) {
		secret_len += TK_HS_DESC_COOKIE_LEN;
		*used_cookie = 1;
	}
	r = tk_hs_desc_layer_open(m->encrypted, m->encrypted_len, secret,
				  secret_len, keys->subcred, revision,
				  CONST_ENC, plain, plain_len);
	tk_wipe(secret, sizeof secret);
	return r;
}

int
tk_hs_desc_decode(const char *text, size_t len, const struct tk_hs_keys *keys,
		  const uint8_t *client_sk, const struct tk_hs_desc_opts *opts,
		  struct tk_hs_desc *out, char *err, size_t errlen)
{
	struct tk_hs_desc_outer o;
	struct tk_hs_desc_middle m;
	char *plain = NULL;
	size_t plain_len;
	int r, used_cookie;

	tk_hs_desc_init(out);
	memset(&m, 0, sizeof m);
	if (tk_hs_desc_outer_parse(text, len, opts->max_size, &o, err, errlen) <
	    0)
		return TK_HS_DESC_EFORMAT;
	r = tk_hs_desc_outer_check(&o, text, keys->blinded, opts->now,
				   out->signing_key, &out->signing_cert_expires,
				   err, errlen);
	if (r < 0)
		goto done;
	out->lifetime_s = o.lifetime_min * 60;
	out->revision = o.revision;
	memcpy(out->blinded, keys->blinded, 32);

	if (tk_hs_desc_layer_open(o.superencrypted, o.superencrypted_len,
				  keys->blinded, 32, keys->subcred, o.revision,
				  CONST_SUPERENC, &plain, &plain_len) < 0) {
		tk_netdoc_err(err, errlen,
			      "descriptor first layer does not decrypt");
		r = TK_HS_DESC_ESUPERENC;
		goto done;
	}
	if (tk_hs_desc_middle_parse(plain, plain_len, &m, err, errlen) < 0) {
		r = TK_HS_DESC_ESUPERENC;
		goto done;
	}
	tk_wipe(plain, plain_len);
	free(plain);
	plain = NULL;

	if (open_inner(&m, keys, o.revision, client_sk, &plain, &plain_len,
		       &used_cookie) < 0) {
		/* Without a key we cannot tell a service that requires one
		 * from a broken descriptor; Tor reports "needs client
		 * authorization" (F4) then, and "bad client authorization"
		 * (F5) when the key we have does not work. */
		if (client_sk) {
			tk_netdoc_err(err, errlen,
				      "our client authorization key does not "
				      "open the descriptor");
			r = TK_HS_DESC_EBADAUTH;
		} else {
			tk_netdoc_err(err, errlen,
				      "descriptor second layer does not "
				      "decrypt: client authorization needed");
			r = TK_HS_DESC_ENEEDAUTH;
		}
		goto done;
	}
	out->client_auth = used_cookie;
	if (tk_hs_desc_inner_parse(plain, plain_len, out->signing_key,
				   opts->now, opts->cc_sendme_inc, out, err,
				   errlen) < 0) {
		r = TK_HS_DESC_EENC;
		goto done;
	}
	r = TK_HS_DESC_OK;
done:
	if (plain) {
		tk_wipe(plain, plain_len);
		free(plain);
	}
	tk_hs_desc_middle_free(&m);
	tk_hs_desc_outer_free(&o);
	if (r != TK_HS_DESC_OK)
		tk_hs_desc_free(out);
	return r;
}
