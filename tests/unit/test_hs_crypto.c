/* Known answers for what onion services build on: SHA3-256 and SHAKE-256
 * (base/keccak.c), the hs MAC, AES-256-CTR, base32, and the Ed25519
 * point checks.
 *
 * Vectors (data only): FIPS 202 / NIST CSRC example values (SHA3-256 of
 * "", "abc" and 200 bytes of 0xa3; SHAKE256 of "" and of 200 bytes of
 * 0xa3); messages around the 136-byte rate computed with Python 3.11's
 * hashlib (an independent implementation); C tor's hs_build_address.py
 * check value SHA3-256("Hello World"); the hs MAC vectors of C tor
 * (test_crypto.c, via arti tor-hscrypto ops.rs) and of hs_ntor_ref.py
 * (via arti tor-proto hs_ntor.rs); NIST SP 800-38A F.5.5
 * (CTR-AES256.Encrypt); RFC 4648 §10 base32 (lower case, unpadded). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/tap.h"
#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/base/keccak.h"
#include "onion/hs/hs_crypto.h"

static uint8_t *
unhex(const char *hex, size_t *len)
{
	static uint8_t buf[8][512];
	static int next;
	uint8_t *b = buf[next++ % 8];
	*len = tap_unhex(hex, b, 512);
	return b;
}

static void
check_sha3(const void *msg, size_t len, const char *want_hex, const char *what)
{
	uint8_t d[32];
	size_t wl;
	const uint8_t *want = unhex(want_hex, &wl);
	tk_sha3_256(msg, len, d);
	tap_eq_bytes(d, 32, want, wl, "SHA3-256 %s", what);
}

static void
test_keccak(void)
{
	uint8_t a3[200], m[272], out[150];
	size_t wl;
	const uint8_t *want;
	tk_keccak k;

	memset(a3, 0xa3, sizeof a3);
	for (size_t i = 0; i < sizeof m; i++)
		m[i] = (uint8_t)(i % 251);
	check_sha3("", 0,
		   "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a",
		   "of the empty string (FIPS 202)");
	check_sha3("abc", 3,
		   "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
		   "of \"abc\" (FIPS 202)");
	check_sha3(a3, 200,
		   "79f38adec5c20307a98ef76e8324afbfd46cfd81b22e3973c65fa1bd9de31787",
		   "of 200 x 0xa3 (NIST example)");
	check_sha3("Hello World", 11,
		   "e167f68d6563d75bb25f3aa49c29ef612d41352dc00606de7cbd630bb2665f51",
		   "of \"Hello World\" (tor's hs_build_address.py)");
	check_sha3(m, 135,
		   "fded8fd9d6551c601eeb3b7c6bc5e5cfd8aad1d015b7e9aaa9c9b9475231d5e2",
		   "of 135 bytes (rate - 1)");
	check_sha3(m, 136,
		   "cf3ccff92480a29160c2d38317c430e14749bfee1788106957dfe73f8c4930e5",
		   "of 136 bytes (one block)");
	check_sha3(m, 137,
		   "ce9d7dc90913ee5d92745019479a5352c6d6279bef18ed07dc0a83ee8084daca",
		   "of 137 bytes (rate + 1)");
	check_sha3(m, 272,
		   "b7ccd55b6c2c3fa144c9e0624059294975a348b02f321abe289701d3012f7794",
		   "of 272 bytes (two blocks)");

	/* Absorbing in odd pieces gives the same digest. */
	{
		uint8_t d1[32], d2[32];
		tk_sha3_256(m, sizeof m, d1);
		tk_sha3_256_init(&k);
		for (size_t off = 0, step = 1; off < sizeof m; step += 7) {
			size_t n = step < sizeof m - off ? step : sizeof m - off;
			tk_keccak_absorb(&k, m + off, n);
			off += n;
		}
		tk_sha3_256_final(&k, d2);
		tap_eq_bytes(d2, 32, d1, 32,
			     "SHA3-256 absorbed in pieces of 1, 8, 15, ...");
	}

	want = unhex("46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f"
		     "d75dc4ddd8c0f200cb05019d67b592f6fc821c49479ab48640292eacb3b7c4be",
		     &wl);
	tk_shake256("", 0, out, 64);
	tap_eq_bytes(out, 64, want, wl, "SHAKE256 of \"\", 64 bytes (FIPS 202)");
	want = unhex("cd8a920ed141aa0407a22d59288652e9d9f1a7ee0c1e7c1ca699424da84a904d",
		     &wl);
	tk_shake256(a3, 200, out, 32);
	tap_eq_bytes(out, 32, want, wl, "SHAKE256 of 200 x 0xa3 (NIST example)");

	/* 150 bytes squeezed in pieces across the 136-byte block edge:
	 * the last 32 of hashlib's 150-byte output for 136 bytes of m. */
	{
		uint8_t whole[150], parts[150];
		tk_shake256(m, 136, whole, sizeof whole);
		tk_shake256_init(&k);
		tk_keccak_absorb(&k, m, 136);
		tk_shake256_squeeze(&k, parts, 1);
		tk_shake256_squeeze(&k, parts + 1, 134);
		tk_shake256_squeeze(&k, parts + 135, 15);
		tk_keccak_wipe(&k);
		tap_eq_bytes(parts, 150, whole, 150,
			     "SHAKE256 squeezed as 1 + 134 + 15 bytes equals one "
			     "150-byte squeeze");
		want = unhex("25e6aae344dbe9a15fb155e4fa2ab7d7df09be06d83195c8892a2e6c5b56dadb",
			     &wl);
		tap_eq_bytes(whole + 118, 32, want, wl,
			     "SHAKE256 of 136 bytes: bytes 118..150 (hashlib)");
	}

	/* The permutation itself, on the zero state: the first lane of
	 * Keccak-f[1600](0) is F1258F7940E1DDE7 (the published
	 * intermediate value). */
	{
		uint64_t st[25] = { 0 };
		tk_keccak_f1600(st);
		tap_ok(st[0] == 0xF1258F7940E1DDE7ULL,
		       "Keccak-f[1600] of the zero state, lane 0");
	}
}

static void
test_mac(void)
{
	uint8_t out[32];
	size_t wl;
	const uint8_t *want;
	static const char key1[] = "i'm from the past talking to the future.";
	static const char msg1[] =
		"i am in a library somewhere using my computer";
	struct tk_hs_part m1[] = { { msg1, sizeof msg1 - 1 } };
	tk_hs_mac((const uint8_t *)key1, sizeof key1 - 1, m1, 1, out);
	want = unhex("753fba6d87d49497238a512a3772dd291e55f7d1cd332c9fb5c967c7a10a13ca",
		     &wl);
	tap_eq_bytes(out, 32, want, wl, "hs MAC: C tor's vector");

	struct tk_hs_part m2[] = { { "knows?", 6 } };
	tk_hs_mac((const uint8_t *)"who", 3, m2, 1, out);
	want = unhex("5e7da329630fdaa3eab7498bb1dc625bbb9ca968f10392b6af92d51d5db17473",
		     &wl);
	tap_eq_bytes(out, 32, want, wl, "hs MAC(\"who\", \"knows?\") "
					"(hs_ntor_ref.py)");
	struct tk_hs_part m3[] = { { "b", 1 }, { "y", 1 } };
	tk_hs_mac((const uint8_t *)"gone", 4, m3, 2, out);
	want = unhex("90071aabb06d3f7c777db41542f4790c7dd9e2e7b2b842f54c9c42bbdb37e9a0",
		     &wl);
	tap_eq_bytes(out, 32, want, wl, "hs MAC(\"gone\", \"b\" | \"y\") "
					"(hs_ntor_ref.py, message in parts)");

	/* MAC(k, m) = H(INT_8(len k) | k | m), from its definition. */
	{
		uint8_t in[8 + 5 + 5] = { 0, 0, 0, 0, 0, 0, 0, 5 }, d[32];
		memcpy(in + 8, "hello", 5);
		memcpy(in + 13, "world", 5);
		tk_sha3_256(in, sizeof in, d);
		struct tk_hs_part m4[] = { { "world", 5 } };
		tk_hs_mac((const uint8_t *)"hello", 5, m4, 1, out);
		tap_eq_bytes(out, 32, d, 32, "hs MAC from its definition");
	}
}

static void
test_aes256_ctr(void)
{
	size_t kl, il, pl, cl;
	const uint8_t *key = unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
				   &kl);
	const uint8_t *iv = unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", &il);
	const uint8_t *pt = unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
				  "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
				  &pl);
	const uint8_t *ct = unhex("601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
				  "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6",
				  &cl);
	uint8_t out[64];
	tap_ok(tk_hs_stream(key, iv, pt, out, pl) == 0, "AES-256-CTR runs");
	tap_eq_bytes(out, pl, ct, cl, "AES-256-CTR: SP 800-38A F.5.5");
	tk_hs_stream(key, iv, out, out, pl);
	tap_eq_bytes(out, pl, pt, pl, "AES-256-CTR in place decrypts");
}

static void
test_base32(void)
{
	static const struct {
		const char *raw, *b32;
	} v[] = {
		{ "", "" },	      { "f", "my" },	     { "fo", "mzxq" },
		{ "foo", "mzxw6" },   { "foob", "mzxw6yq" }, { "fooba", "mzxw6ytb" },
		{ "foobar", "mzxw6ytboi" },
	};
	char out[32];
	uint8_t dec[32];
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		size_t n = strlen(v[i].raw);
		tk_base32_encode((const uint8_t *)v[i].raw, n, out, sizeof out);
		tap_eq_str(out, v[i].b32, "base32 of \"%s\" (RFC 4648)",
			   v[i].raw);
		long r = tk_base32_decode(v[i].b32, strlen(v[i].b32), dec,
					  sizeof dec);
		tap_eq_bytes(dec, r < 0 ? 0 : (size_t)r, v[i].raw, n,
			     "base32 decodes \"%s\"", v[i].b32);
	}
	tap_eq_long(tk_base32_decode("MZXW6YTBOI", 10, dec, sizeof dec), 6,
		    "base32 decodes upper case");
	tap_eq_long(tk_base32_decode("mzxw6ytb1i", 10, dec, sizeof dec), -1,
		    "base32 refuses '1'");
	tap_eq_long(tk_base32_decode("mzxw6y==", 8, dec, sizeof dec), -1,
		    "base32 refuses padding");
	tap_eq_long(tk_base32_decode("mzxw6ytboi", 10, dec, 5), -2,
		    "base32 decode refuses a short buffer");
	tap_eq_long(tk_base32_encode((const uint8_t *)"foobar", 6, out, 10), -1,
		    "base32 encode refuses a short buffer");
}

static void
test_ed25519_points(void)
{
	size_t l;
	const uint8_t *pub = unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
				   &l);
	uint8_t order4[32] = { 0 }, tors[32], out[32], k[32] = { 1 };
	tap_ok(tk_ed25519_pub_valid(pub), "RFC 8032 test key 1 is a valid point");
	/* y = 0 encodes a point of order 4: adding it gives a key with a
	 * torsion component, which an onion address must not hold. */
	tap_ok(!tk_ed25519_pub_valid(order4), "a small-order point is refused");
	tap_ok(crypto_core_ed25519_add(tors, pub, order4) == 0,
	       "(made a key with a torsion component)");
	tap_ok(!tk_ed25519_pub_valid(tors), "a key with torsion is refused");
	tap_ok(tk_ed25519_scalarmult(out, k, pub) == 0 &&
		       memcmp(out, pub, 32) == 0,
	       "1 * A = A");
	tap_ok(tk_ed25519_scalarmult(out, k, tors) < 0,
	       "scalarmult refuses a point with torsion");
	k[31] = 0x80;
	tap_ok(tk_ed25519_scalarmult(out, k, pub) < 0,
	       "scalarmult refuses a scalar with bit 255 set");
}

int
main(void)
{
	if (tk_crypto_init() < 0)
		return 1;
	test_keccak();
	test_mac();
	test_aes256_ctr();
	test_base32();
	test_ed25519_points();
	return tap_done();
}
