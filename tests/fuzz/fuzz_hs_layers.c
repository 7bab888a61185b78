/* libFuzzer harness for the decrypted layers of v3 descriptors. The
 * first byte picks the parser, the rest is its plaintext:
 *   'm'  the first layer (auth-client entries, the cookie search),
 *   'i'  the second layer (introduction points, their certificates
 *        checked against the signing key of arti's hsdesc-inner.txt),
 *   's'  seal then open: any plaintext comes back up to its first NUL.
 * Anything else goes to all three. */
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

static const uint8_t signer[32] = {
	0x26, 0x02, 0x86, 0xeb, 0xb0, 0x4c, 0x70, 0x5f, 0x53, 0xa5, 0xa4,
	0x07, 0x1f, 0x90, 0xaa, 0x04, 0x72, 0x7b, 0xca, 0x51, 0xb5, 0xb1,
	0xfc, 0x57, 0xf2, 0x94, 0x8b, 0xc7, 0xef, 0x23, 0xb1, 0x6d,
};
#define NOW 1675944000 /* 2023-02-09T12:00:00Z */

static void
middle(const char *t, size_t n)
{
	struct tk_hs_desc_middle m;
	uint8_t subcred[32] = { 1 }, sk[32] = { 2 }, cookie[16];
	char err[256];
	if (tk_hs_desc_middle_parse(t, n, &m, err, sizeof err) < 0)
		return;
	CHECK(m.n_clients >= 1 && m.encrypted_len >= 49);
	tk_hs_desc_cookie(&m, subcred, sk, cookie);
	tk_hs_desc_middle_free(&m);
}

static void
inner(const char *t, size_t n)
{
	struct tk_hs_desc d;
	char err[256];
	tk_hs_desc_init(&d);
	if (tk_hs_desc_inner_parse(t, n, signer, NOW, 0, &d, err,
				   sizeof err) == 0) {
		CHECK(d.n_intro <= TK_HS_DESC_MAX_INTRO);
		for (size_t i = 0; i < d.n_intro; i++) {
			struct tk_hs_linkspecs ls;
			CHECK(tk_hs_linkspecs_parse(d.intro[i].linkspecs,
						    d.intro[i].linkspecs_len,
						    &ls) == 0);
		}
	} else {
		CHECK(d.n_intro == 0);
	}
	tk_hs_desc_free(&d);
}

static void
seal_open(const char *t, size_t n)
{
	uint8_t secret[48] = { 3 }, subcred[32] = { 4 }, salt[16] = { 5 };
	uint8_t *blob;
	size_t blob_len, plen, want = strnlen(t, n);
	char *plain;
	if (tk_hs_desc_layer_seal(t, n, 1000, secret, sizeof secret, subcred,
				  9, "fuzz", salt, &blob, &blob_len) < 0)
		return;
	if (tk_hs_desc_layer_open(blob, blob_len, secret, sizeof secret,
				  subcred, 9, "fuzz", &plain, &plen) == 0) {
		CHECK(want > 0 && memcmp(plain, t, want) == 0);
		CHECK(plen == want || (plen == want + 1 && plain[want] == '\n'));
		free(plain);
	} else {
		CHECK(want == 0);
	}
	blob[blob_len - 1] ^= 1;
	CHECK(tk_hs_desc_layer_open(blob, blob_len, secret, sizeof secret,
				    subcred, 9, "fuzz", &plain, &plen) < 0);
	free(blob);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	const char *t = (const char *)data + 1;
	if (!init++)
		tk_crypto_init();
	if (size == 0)
		return 0;
	switch (data[0]) {
	case 'm':
		middle(t, size - 1);
		break;
	case 'i':
		inner(t, size - 1);
		break;
	case 's':
		seal_open(t, size - 1);
		break;
	default:
		middle(t, size - 1);
		inner(t, size - 1);
		seal_open(t, size - 1);
	}
	return 0;
}
