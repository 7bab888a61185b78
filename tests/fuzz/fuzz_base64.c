/* libFuzzer harness: base64, hex and PEM decoding as Tor documents use
 * them, plus RSA keys from PEM. Properties: decode never writes past its
 * buffer, and what decodes re-encodes to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		if (tk_crypto_init() != 0)
			abort();
		init = 1;
	}
	if (size > 65536)
		return 0;
	char *in = malloc(size ? size : 1);
	if (!in)
		return 0;
	memcpy(in, data, size);

	/* exact-size output: a decoder that over-writes trips ASan */
	size_t cap = tk_base64_decoded_max(size);
	uint8_t *out = malloc(cap ? cap : 1);
	long n = out ? tk_base64_decode(in, size, out, cap) : -1;
	if (n == -2)
		abort(); /* decoded_max must always suffice */
	if (n >= 0) {
		size_t elen = ((size_t)n + 2) / 3 * 4 + 1;
		char *enc = malloc(elen);
		uint8_t *back = malloc((size_t)n + 3);
		if (enc && back) {
			long e = tk_base64_encode(out, (size_t)n, 1, enc, elen);
			if (e < 0 || tk_base64_decode(enc, (size_t)e, back,
						      (size_t)n + 3) != n ||
			    (n && memcmp(back, out, (size_t)n) != 0))
				abort();
		}
		free(enc);
		free(back);
		/* a smaller buffer must be refused, not overrun */
		if (n > 0 && tk_base64_decode(in, size, out, (size_t)n - 1) !=
				     -2)
			abort();
	}
	free(out);

	uint8_t hex[64];
	(void)tk_hex_decode(in, size, hex, size / 2 <= 64 ? size / 2 : 0);

	uint8_t der[4096];
	const char *end = NULL;
	long d = tk_pem_decode(in, size, "RSA PUBLIC KEY", der, sizeof der,
			       &end);
	if (d >= 0 && (end < in || end > in + size))
		abort();
	tk_rsa_pub k;
	tk_rsa_pub_init(&k);
	if (tk_rsa_pub_from_pem(&k, in, size) == 0) {
		uint8_t fp[20];
		if (tk_rsa_pub_fingerprint(&k, fp) != 0)
			abort();
	}
	tk_rsa_pub_free(&k);
	free(in);
	return 0;
}
