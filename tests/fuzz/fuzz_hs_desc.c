/* libFuzzer harness for the outer document of v3 descriptors and the
 * whole decode chain, with the keys and time of arti's hsdesc1 so that
 * the seed descriptors decode all the way. Outer parse, check and decode
 * must agree: a document the chain accepts parses and checks alone. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/crypto.h"
#include "onion/hs/hs_desc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

static const uint8_t blinded[32] = {
	0x43, 0xcc, 0x0d, 0x62, 0xfc, 0x62, 0x52, 0xf5, 0x78, 0x70, 0x5c,
	0xa6, 0x45, 0xa4, 0x61, 0x09, 0xe2, 0x65, 0x29, 0x03, 0x43, 0xb1,
	0x13, 0x7e, 0x90, 0x18, 0x97, 0x44, 0xb2, 0x0b, 0x3f, 0x2d,
};
static const uint8_t subcred[32] = {
	0x78, 0x21, 0x0a, 0x0d, 0x2c, 0x72, 0xbb, 0x7a, 0x0c, 0xaf, 0x60,
	0x6b, 0xcd, 0x93, 0x8b, 0x9a, 0x36, 0x96, 0x89, 0x4f, 0xdd, 0xdb,
	0xc3, 0xb8, 0x7d, 0x42, 0x47, 0x53, 0xa7, 0xe3, 0xdf, 0x37,
};
#define NOW 1674486000 /* 2023-01-23T15:00:00Z */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct tk_hs_desc_outer o;
	struct tk_hs_desc_opts opts = { NOW, 0, 0 };
	struct tk_hs_keys keys;
	struct tk_hs_desc d;
	const char *text = (const char *)data;
	char err[256];
	uint8_t sk[32], client_sk[32];
	int64_t exp;
	int parsed, checked = -1, r;

	if (!init++)
		tk_crypto_init();
	memset(&keys, 0, sizeof keys);
	memcpy(keys.blinded, blinded, 32);
	memcpy(keys.subcred, subcred, 32);

	parsed = tk_hs_desc_outer_parse(text, size, 0, &o, err, sizeof err);
	if (parsed == 0) {
		CHECK(o.signed_len < size + 1);
		CHECK(o.superencrypted_len >= 49);
		checked = tk_hs_desc_outer_check(&o, text, blinded, NOW, sk,
						 &exp, err, sizeof err);
		tk_hs_desc_outer_free(&o);
	}
	r = tk_hs_desc_decode(text, size, &keys, NULL, &opts, &d, err,
			      sizeof err);
	CHECK(r <= 0 && r >= TK_HS_DESC_ENOMEM);
	CHECK(tk_hs_desc_strerror(r) != NULL);
	if (r == TK_HS_DESC_OK) {
		CHECK(parsed == 0 && checked == 0);
		CHECK(d.n_intro <= TK_HS_DESC_MAX_INTRO);
		for (size_t i = 0; i < d.n_intro; i++) {
			tk_relay_extend2 m;
			struct tk_hs_linkspecs ls;
			CHECK(tk_hs_linkspecs_parse(d.intro[i].linkspecs,
						    d.intro[i].linkspecs_len,
						    &ls) == 0);
			tk_hs_linkspecs_to_extend2(d.intro[i].linkspecs,
						   d.intro[i].linkspecs_len,
						   &m);
		}
		CHECK(tk_hs_desc_size(&d) >= sizeof d);
		tk_hs_desc_free(&d);
		/* A client key for a service that needs none: same result. */
		memset(client_sk, 0x42, 32);
		r = tk_hs_desc_decode(text, size, &keys, client_sk, &opts, &d,
				      err, sizeof err);
		CHECK(r == TK_HS_DESC_OK);
		tk_hs_desc_free(&d);
	} else if (r != TK_HS_DESC_EFORMAT) {
		CHECK(parsed == 0);
	}
	return 0;
}
