/* Onion-service descriptors, version 3 (rend-spec-v3 §2.4, §2.5): the
 * signed outer document, its two encrypted layers, and the introduction
 * points inside.
 *
 *   outer      hs-descriptor 3, descriptor-lifetime,
 *              descriptor-signing-key-cert (type 08, signed by the
 *              blinded key), revision-counter, superencrypted, signature
 *   middle     the first layer, opened with the blinded key and the
 *              subcredential: desc-auth-type x25519,
 *              desc-auth-ephemeral-key, auth-client..., encrypted
 *   inner      the second layer, opened with the same plus, for a service
 *              with client authorization, the descriptor cookie one of
 *              the auth-client entries holds for us: create2-formats,
 *              intro-auth-required, single-onion-service, flow-control,
 *              introduction-point sections
 *
 * tk_hs_desc_decode() runs the whole chain with Tor's client rules; each
 * step is also a function of its own so that tests and fuzzers can reach
 * it directly. Parsers never read outside the text they are given and
 * reject what Tor rejects; what Tor ignores (unknown items, an
 * introduction point it cannot use) is ignored. Nothing here reads the
 * clock. */
#ifndef TK_ONION_HS_HS_DESC_H
#define TK_ONION_HS_HS_DESC_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "onion/cell/certs.h"
#include "onion/hs/hs_keys.h"
#include "onion/hs/hs_linkspec.h"

#define TK_HS_DESC_MAX_INTRO 20	 /* more and Tor rejects the descriptor */
#define TK_HS_DESC_COOKIE_LEN 16 /* N_hs_desc_enc, as Tor makes it */
#define TK_HS_DESC_MAX_LIFETIME_MIN 720
#define TK_HS_DESC_MAX_SIZE_DEFAULT 50000 /* HSV3MaxDescriptorSize */

enum tk_hs_desc_err {
	TK_HS_DESC_OK = 0,
	TK_HS_DESC_EFORMAT = -1,   /* outer document malformed or too big */
	TK_HS_DESC_ECERT = -2,	   /* signing-key certificate not valid */
	TK_HS_DESC_ESIG = -3,	   /* signature does not verify */
	TK_HS_DESC_ESUPERENC = -4, /* first layer: MAC or format */
	TK_HS_DESC_ENEEDAUTH = -5, /* second layer needs a client key */
	TK_HS_DESC_EBADAUTH = -6,  /* our client key does not open it */
	TK_HS_DESC_EENC = -7,	   /* second layer malformed */
	TK_HS_DESC_ENOMEM = -8,
};
const char *tk_hs_desc_strerror(int err);

struct tk_hs_intro_point {
	/* The link specifier block, verbatim: extend to the introduction
	 * point with it unchanged (tk_hs_linkspecs_to_extend2). */
	uint8_t *linkspecs;
	size_t linkspecs_len;
	struct tk_hs_linkspecs ls;
	uint8_t onion_key[32]; /* the relay's ntor onion key */
	uint8_t auth_key[32];  /* KP_hs_ipt_sid: INTRODUCE1's AUTH_KEY */
	uint8_t enc_key[32];   /* KP_hss_ntor: hs-ntor's B */
};

struct tk_hs_desc {
	/* From the outer document. */
	uint32_t lifetime_s;
	uint64_t revision;
	uint8_t blinded[32];
	uint8_t signing_key[32];      /* KP_hs_desc_sign */
	int64_t signing_cert_expires; /* seconds since the epoch */
	/* From the second layer. */
	int client_auth;	 /* it took a descriptor cookie to open */
	int intro_auth_required; /* intro-auth-required (ed25519) */
	int single_onion;	 /* single-onion-service */
	int has_flow_control;	 /* flow-control: the service does CC */
	char flow_control[32];	 /* its FlowCtrl versions, e.g. "1-2" */
	uint8_t sendme_inc;
	size_t n_intro;
	struct tk_hs_intro_point intro[TK_HS_DESC_MAX_INTRO];
};
void tk_hs_desc_init(struct tk_hs_desc *d);
void tk_hs_desc_free(struct tk_hs_desc *d);
/* Bytes d holds (the struct and what it points to), for cache limits. */
size_t tk_hs_desc_size(const struct tk_hs_desc *d);

struct tk_hs_desc_opts {
	time_t now;	       /* certificates are checked against it */
	size_t max_size;       /* HSV3MaxDescriptorSize; 0: 50000 */
	uint8_t cc_sendme_inc; /* consensus cc_sendme_inc; 0: 31 */
};

/* Decodes and checks a descriptor fetched for the service with keys (its
 * blinded key and subcredential for the period asked about), opening the
 * second layer with client_sk (an x25519 secret key from
 * ClientOnionAuthDir) when the service requires client authorization;
 * client_sk may be NULL. TK_HS_DESC_OK and out filled (free it with
 * tk_hs_desc_free), or a negative code with err saying what failed. */
int tk_hs_desc_decode(const char *text, size_t len,
		      const struct tk_hs_keys *keys, const uint8_t *client_sk,
		      const struct tk_hs_desc_opts *opts,
		      struct tk_hs_desc *out, char *err, size_t errlen);

/* ---- the steps ------------------------------------------------------ */

struct tk_hs_desc_outer {
	uint32_t lifetime_min;
	uint64_t revision;
	uint8_t cert[512]; /* descriptor-signing-key-cert, decoded */
	size_t cert_len;
	uint8_t *superencrypted; /* decoded; allocated */
	size_t superencrypted_len;
	uint8_t sig[64];
	size_t signed_len; /* text[0..signed_len) is what sig covers */
};
/* Parses the outer document (no signature or certificate check): 0, or
 * -1 with err. A text of max_size bytes or more is refused. */
int tk_hs_desc_outer_parse(const char *text, size_t len, size_t max_size,
			   struct tk_hs_desc_outer *o, char *err,
			   size_t errlen);
/* Checks the signing-key certificate (type 08, signed by blinded and
 * naming it, not expired at now) and the descriptor's signature with the
 * key it certifies (*signing_key). text is what was parsed. 0, or
 * TK_HS_DESC_ECERT / TK_HS_DESC_ESIG with err. */
int tk_hs_desc_outer_check(const struct tk_hs_desc_outer *o, const char *text,
			   const uint8_t blinded[32], time_t now,
			   uint8_t signing_key[32], int64_t *cert_expires,
			   char *err, size_t errlen);
void tk_hs_desc_outer_free(struct tk_hs_desc_outer *o);

/* Opens one encrypted layer (rend-spec-v3 §2.5.3): blob is SALT[16] |
 * ENCRYPTED | MAC[32]; keys come from SHAKE-256(secret | subcred |
 * INT_8(revision) | SALT | constant). On 0, *plain (allocated, NUL-
 * terminated, with a final newline added if the layer lacked one) holds
 * the plaintext up to its first NUL, *plain_len its length. -1 if the
 * blob is too short, the MAC does not match, or the plaintext is empty. */
int tk_hs_desc_layer_open(const uint8_t *blob, size_t len,
			  const uint8_t *secret, size_t secret_len,
			  const uint8_t subcred[32], uint64_t revision,
			  const char *constant, char **plain,
			  size_t *plain_len);
/* The reverse, for tests and test services: salt is 16 bytes; the
 * plaintext is padded with NULs to pad_to (0: no padding). Writes into
 * an allocated *blob. 0 or -1. */
int tk_hs_desc_layer_seal(const char *plain, size_t plain_len, size_t pad_to,
			  const uint8_t *secret, size_t secret_len,
			  const uint8_t subcred[32], uint64_t revision,
			  const char *constant, const uint8_t salt[16],
			  uint8_t **blob, size_t *blob_len);

struct tk_hs_auth_client {
	uint8_t client_id[8];
	uint8_t iv[16];
	uint8_t cookie[16]; /* the encrypted descriptor cookie */
};
struct tk_hs_desc_middle {
	uint8_t ephemeral_key[32]; /* KP_hss_desc_enc */
	size_t n_clients;
	struct tk_hs_auth_client *clients; /* allocated */
	uint8_t *encrypted;		   /* decoded; allocated */
	size_t encrypted_len;
};
/* Parses the first layer's plaintext: 0, or -1 with err. */
int tk_hs_desc_middle_parse(const char *text, size_t len,
			    struct tk_hs_desc_middle *m, char *err,
			    size_t errlen);
void tk_hs_desc_middle_free(struct tk_hs_desc_middle *m);

/* The descriptor cookie of the auth-client entry meant for client_sk
 * (rend-spec-v3 §2.5.1.2): KEYS = KDF(subcred | x25519(client_sk,
 * ephemeral), 40); CLIENT-ID is KEYS[0..8), the cookie key KEYS[8..40).
 * 1 and cookie filled if an entry carries our CLIENT-ID, else 0. */
int tk_hs_desc_cookie(const struct tk_hs_desc_middle *m,
		      const uint8_t subcred[32], const uint8_t client_sk[32],
		      uint8_t cookie[TK_HS_DESC_COOKIE_LEN]);

/* Parses the second layer's plaintext into the inner fields of d (d must
 * be tk_hs_desc_init()ed; other fields are left alone). The introduction
 * points' certificates are checked against signing_key and now; an
 * introduction point that fails is skipped, as Tor skips it. 0, or -1
 * with err (a missing or bad create2-formats, bad intro-auth-required or
 * flow-control, more than 20 introduction points, no memory). */
int tk_hs_desc_inner_parse(const char *text, size_t len,
			   const uint8_t signing_key[32], time_t now,
			   uint8_t cc_sendme_inc, struct tk_hs_desc *d,
			   char *err, size_t errlen);

#endif
