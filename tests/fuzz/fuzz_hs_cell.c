/* libFuzzer harness for the rendezvous-protocol cells and link
 * specifier blocks. Input: SELECTOR[1] then the body.
 *   0  INTRODUCE_ACK
 *   1  RENDEZVOUS2, then the client's check of its handshake info
 *   2  a link specifier block: parse, EXTEND2 form, and re-encode to the
 *      same bytes
 *   3  INTRODUCE1 built with the body as the rendezvous point's block
 *   4  RENDEZVOUS_ESTABLISHED */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/crypto.h"
#include "onion/hs/hs_cell.h"
#include "onion/hs/hs_linkspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

static void
linkspecs(const uint8_t *b, size_t n)
{
	struct tk_hs_linkspecs s;
	tk_relay_extend2 m;
	uint8_t out[TK_HS_LINKSPECS_MAX];
	long len;
	if (tk_hs_linkspecs_parse(b, n, &s) < 0)
		return;
	CHECK(s.n == b[0]);
	if (tk_hs_linkspecs_to_extend2(b, n, &m) < 0) {
		CHECK(s.n > TK_EXTEND2_MAX_SPECS);
		return;
	}
	CHECK(m.n_specs == s.n);
	len = tk_hs_linkspecs_encode(m.specs, m.n_specs, out, sizeof out);
	CHECK(len == (long)n && memcmp(out, b, n) == 0);
}

static void
introduce1(const uint8_t *b, size_t n)
{
	struct tk_hs_ntor_client st;
	struct tk_hs_intro1 in;
	uint8_t B[32], sub[32] = { 7 }, x[32] = { 9 }, out[TK_RELAY_DATA_MAX];
	long len;
	memset(&in, 0, sizeof in);
	memset(in.auth_key, 0x11, 32);
	memset(in.rp_onion_key, 0x22, 32);
	in.rp_linkspecs = b;
	in.rp_linkspecs_len = n;
	in.cc_request = n % 2;
	tk_x25519_public(x, B); /* any non-small-order key */
	if (tk_hs_ntor_client_init(&st, x, B, in.auth_key, sub) < 0)
		return;
	len = tk_hs_introduce1_encode(&in, &st, out, sizeof out);
	CHECK(len < 0 || (len >= TK_HS_INTRO1_MIN_SIZE + 64 &&
			  len <= (long)sizeof out));
	tk_hs_ntor_client_wipe(&st);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	const uint8_t *b = data + 1;
	size_t n = size ? size - 1 : 0;
	if (!init++)
		tk_crypto_init();
	if (size == 0)
		return 0;
	switch (data[0] % 5) {
	case 0: {
		struct tk_hs_intro_ack ack;
		if (tk_hs_introduce_ack_decode(b, n, &ack) == 0)
			CHECK(n >= 3);
		break;
	}
	case 1: {
		uint8_t hi[TK_HS_NTOR_REPLY_LEN], seed[32], B[32], sub[32] = { 1 };
		uint8_t x[32] = { 3 }, auth[32] = { 4 };
		struct tk_hs_ntor_client st;
		if (tk_hs_rendezvous2_decode(b, n, hi) < 0) {
			CHECK(n < TK_HS_NTOR_REPLY_LEN);
			break;
		}
		tk_x25519_public(x, B);
		if (tk_hs_ntor_client_init(&st, x, B, auth, sub) == 0) {
			/* Forging AUTH would take breaking SHA3. */
			CHECK(tk_hs_ntor_client_finish(&st, hi, seed) < 0);
			tk_hs_ntor_client_wipe(&st);
		}
		break;
	}
	case 2:
		linkspecs(b, n);
		break;
	case 3:
		introduce1(b, n);
		break;
	case 4:
		CHECK(tk_hs_rendezvous_established_decode(b, n) == 0);
		break;
	}
	return 0;
}
