/* Known-answer tests for libonion's crypto: digests, HMAC, HKDF, base64,
 * RSA (a real authority key certificate), ntor v1, CREATE_FAST/KDF-TOR and
 * tor1 relay crypto over three hops.
 *
 * Vector sources (taken as data; the test code is ours):
 *  - HMAC-SHA256: RFC 4231 test case 2. HKDF-SHA256: RFC 5869 A.1, A.3.
 *  - ntor: arti crates/tor-proto/src/crypto/handshake/ntor.rs, testvec()
 *    (MIT/Apache-2.0).
 *  - CREATE_FAST: arti crates/tor-proto/src/crypto/handshake/fast.rs,
 *    testvec() ("generated from Tor").
 *  - tor1: key strings from tor src/test/test_relaycrypt.c (BSD-3);
 *    plaintexts = SHAKE-256 stream of arti's seed string (pre-computed with
 *    Python hashlib into tests/unit/data/tor1_shake256.bin, since mbedTLS
 *    2.28 has no SHAKE); ciphertexts of cells 0,1,2,10,20,30,40,50 from
 *    arti crates/tor-proto/testdata/cell_crypt.data ("generated with Tor's
 *    encryption code").
 *  - RSA: the first authority key certificate of a tornet run, made by
 *    tor 0.4.9.11 (tests/unit/data/authcert1.txt, the first of
 *    tests/data/netdoc/authority-certs.txt; tests/unit/data/README). */
#include <stdlib.h>
#include <string.h>

#include "../unit/tap.h"
#include "onion/base/bytes.h"
#include "onion/cell/cell.h"
#include "onion/base/crypto.h"
#include "onion/base/kdf.h"
#include "onion/circ/ntor.h"
#include "onion/circ/relay_crypto.h"

static unsigned char *read_data(const char *name, size_t *len)
{
	const char *top = getenv("TK_SRCDIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/tests/unit/data/%s", top ? top : ".",
		 name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		tap_diag("cannot open %s (set TK_SRCDIR)", path);
		return NULL;
	}
	unsigned char *buf = malloc(1 << 20);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static void test_digests(void)
{
	uint8_t out[32], want[32];
	tk_sha1("abc", 3, out);
	tap_unhex("a9993e364706816aba3e25717850c26c9cd0d89d", want, 20);
	tap_eq_bytes(out, 20, want, 20, "SHA-1(abc)");
	tk_sha256("abc", 3, out);
	tap_unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		  want, 32);
	tap_eq_bytes(out, 32, want, 32, "SHA-256(abc)");

	/* peek must not end the running state; clone must copy it. */
	tk_sha1_ctx a, b;
	tk_sha1_init(&a);
	tk_sha1_init(&b);
	tk_sha1_update(&a, "a", 1);
	tk_sha1_peek(&a, out);
	tk_sha1_clone(&b, &a);
	tk_sha1_update(&a, "bc", 2);
	tk_sha1_update(&b, "bc", 2);
	tk_sha1_peek(&a, out);
	tap_unhex("a9993e364706816aba3e25717850c26c9cd0d89d", want, 20);
	tap_eq_bytes(out, 20, want, 20, "SHA-1 running digest survives peek");
	tk_sha1_peek(&b, out);
	tap_eq_bytes(out, 20, want, 20, "SHA-1 clone continues independently");
	tk_sha1_free(&a);
	tk_sha1_free(&b);

	tk_sha256_ctx c, d;
	tk_sha256_init(&c);
	tk_sha256_init(&d);
	tk_sha256_update(&c, "ab", 2);
	tk_sha256_clone(&d, &c);
	tk_sha256_update(&d, "c", 1);
	tk_sha256_peek(&d, out);
	tap_unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		  want, 32);
	tap_eq_bytes(out, 32, want, 32, "SHA-256 clone + peek");
	tk_sha256_free(&c);
	tk_sha256_free(&d);
}

static void test_hmac_hkdf(void)
{
	uint8_t out[64], want[64];
	const char *msg = "what do ya want for nothing?";
	tk_hmac_sha256("Jefe", 4, msg, strlen(msg), out);
	tap_unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		  want, 32);
	tap_eq_bytes(out, 32, want, 32, "HMAC-SHA256 RFC 4231 case 2");

	uint8_t ikm[22], salt[13], info[10];
	memset(ikm, 0x0b, sizeof ikm);
	for (int i = 0; i < 13; i++)
		salt[i] = (uint8_t)i;
	for (int i = 0; i < 10; i++)
		info[i] = (uint8_t)(0xf0 + i);
	tap_ok(tk_hkdf_sha256(salt, 13, ikm, 22, info, 10, out, 42) == 0,
	       "HKDF A.1 runs");
	size_t n = tap_unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db0"
			     "2d56ecc4c5bf34007208d5b887185865",
			     want, sizeof want);
	tap_eq_bytes(out, 42, want, n, "HKDF-SHA256 RFC 5869 A.1");
	tap_ok(tk_hkdf_sha256(NULL, 0, ikm, 22, NULL, 0, out, 42) == 0,
	       "HKDF A.3 runs");
	n = tap_unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec345"
		      "4e5f3c738d2d9d201395faa4b61a96c8",
		      want, sizeof want);
	tap_eq_bytes(out, 42, want, n, "HKDF-SHA256 RFC 5869 A.3 (no salt)");
	tap_ok(tk_hkdf_sha256(NULL, 0, ikm, 22, NULL, 0, out, 255 * 32 + 1) < 0,
	       "HKDF refuses more than 255 blocks");
}

static void test_base64_hex(void)
{
	uint8_t out[64];
	char enc[64];
	tap_eq_long(tk_base64_decode("Zm9vYmFy", 8, out, sizeof out), 6,
		    "base64 foobar");
	tap_eq_bytes(out, 6, "foobar", 6, "base64 foobar bytes");
	tap_eq_long(tk_base64_decode("Zm9vYg==", 8, out, sizeof out), 4,
		    "base64 padded");
	tap_eq_long(tk_base64_decode("Zm9vYg", 6, out, sizeof out), 4,
		    "base64 unpadded (Tor digests)");
	tap_eq_long(tk_base64_decode("Zm9v\nYmE=\n", 10, out, sizeof out), 5,
		    "base64 skips newlines (PEM)");
	tap_eq_long(tk_base64_decode("Zm9vY", 5, out, sizeof out), -1,
		    "base64 rejects a lone final character");
	tap_eq_long(tk_base64_decode("Zm9v!mE=", 8, out, sizeof out), -1,
		    "base64 rejects a bad character");
	tap_eq_long(tk_base64_decode("Zg==Zg==", 8, out, sizeof out), -1,
		    "base64 rejects data after padding");
	tap_eq_long(tk_base64_decode("Zm9v=", 5, out, sizeof out), -1,
		    "base64 rejects misplaced padding");
	tap_eq_long(tk_base64_decode("Zm9vYmFy", 8, out, 5), -2,
		    "base64 reports a short output buffer");
	tap_eq_long(tk_base64_encode((const uint8_t *)"foob", 4, 1, enc,
				     sizeof enc),
		    8, "base64 encode padded");
	tap_eq_str(enc, "Zm9vYg==", "base64 encode padded text");
	tk_base64_encode((const uint8_t *)"foob", 4, 0, enc, sizeof enc);
	tap_eq_str(enc, "Zm9vYg", "base64 encode unpadded text");
	tap_eq_long(tk_base64_encode((const uint8_t *)"foob", 4, 0, enc, 6),
		    -1, "base64 encode needs room for the NUL");

	tap_ok(tk_hex_decode("00ff7A", 6, out, 3) == 0 && out[1] == 0xff &&
		       out[2] == 0x7a,
	       "hex decode");
	tap_ok(tk_hex_decode("0g", 2, out, 1) < 0, "hex rejects bad digit");
	tap_ok(tk_hex_decode("abc", 3, out, 1) < 0, "hex rejects odd length");
	tk_hex_encode((const uint8_t *)"\x01\xab", 2, enc);
	tap_eq_str(enc, "01ab", "hex encode");
	tap_ok(tk_ct_memeq("abc", "abc", 3) && !tk_ct_memeq("abc", "abd", 3),
	       "constant-time compare");
}

static void test_bytes(void)
{
	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	tk_reader r;
	uint32_t v32;
	uint16_t v16;
	tk_reader_init(&r, buf, sizeof buf);
	tap_ok(tk_reader_u32(&r, &v32) == 0 && v32 == 0x01020304,
	       "reader u32 big-endian");
	tap_ok(tk_reader_u16(&r, &v16) == 0 && v16 == 0x0506, "reader u16");
	tap_ok(tk_reader_u32(&r, &v32) < 0 && v32 == 0 && r.err,
	       "reader refuses to read past the end, zeroes output");
	tap_ok(tk_reader_u8(&r, (uint8_t *)&v16) < 0,
	       "reader error is sticky");
	tap_ok(tk_reader_view(&r, 0) == NULL, "no view after an error");

	uint8_t out[5];
	tk_writer w;
	tk_writer_init(&w, out, sizeof out);
	tk_writer_u32(&w, 0xdeadbeef);
	tap_ok(tk_writer_u16(&w, 1) < 0 && w.err && w.len == 4,
	       "writer refuses to overflow");
	tap_ok(tk_writer_u8(&w, 1) < 0, "writer error is sticky");
}

/* Returns the text of a PEM object after `keyword\n` in doc. */
static const char *after_kw(const char *doc, const char *kw)
{
	const char *p = strstr(doc, kw);
	return p ? p + strlen(kw) : NULL;
}

static void test_rsa_authcert(void)
{
	size_t len;
	unsigned char *doc = read_data("authcert1.txt", &len);
	if (!doc) {
		tap_ok(0, "authority certificate fixture present");
		return;
	}
	doc[len < (1 << 20) ? len : (1 << 20) - 1] = 0;
	const char *text = (const char *)doc;

	tk_rsa_pub id, sk;
	tk_rsa_pub_init(&id);
	tk_rsa_pub_init(&sk);
	const char *p = after_kw(text, "dir-identity-key\n");
	tap_ok(p && tk_rsa_pub_from_pem(&id, p, strlen(p)) == 0,
	       "parse dir-identity-key (RSA PUBLIC KEY PEM)");
	tap_eq_long((long)tk_rsa_pub_bits(&id), 3072, "identity key is 3072 bits");
	p = after_kw(text, "dir-signing-key\n");
	tap_ok(p && tk_rsa_pub_from_pem(&sk, p, strlen(p)) == 0,
	       "parse dir-signing-key");

	uint8_t fp[20], want[20];
	char hex[41];
	tk_rsa_pub_fingerprint(&id, fp);
	tk_hex_encode(fp, 20, hex);
	tap_unhex("66073B891425BB39A2A7BA4251D709847F0A1B53", want, 20);
	tap_eq_bytes(fp, 20, want, 20,
		     "SHA-1 of PKCS#1 DER == fingerprint line (%s)", hex);

	/* DER round trip */
	uint8_t der[1024];
	long dl = tk_rsa_pub_to_der(&id, der, sizeof der);
	tk_rsa_pub again;
	tk_rsa_pub_init(&again);
	tap_ok(dl > 0 && tk_rsa_pub_from_der(&again, der, (size_t)dl) == 0 &&
		       tk_rsa_pub_bits(&again) == 3072,
	       "PKCS#1 DER round trip");
	tk_rsa_pub_free(&again);

	/* dir-key-certification: identity key over SHA-1 of the text from
	 * the start through "dir-key-certification\n", no DigestInfo. */
	const char *kw = "\ndir-key-certification\n";
	const char *end = strstr(text, kw);
	uint8_t sig[512], digest[20];
	tap_ok(end != NULL, "certification keyword found");
	if (end) {
		size_t signed_len = (size_t)(end - text) + strlen(kw);
		tk_sha1(text, signed_len, digest);
		long sl = tk_pem_decode(end, strlen(end), "SIGNATURE", sig,
					sizeof sig, NULL);
		tap_eq_long(sl, 384, "certification signature is 384 bytes");
		tap_ok(tk_rsa_verify_raw(&id, digest, 20, sig, (size_t)sl) == 0,
		       "RSA raw-digest verify: dir-key-certification");
		tap_ok(tk_rsa_verify_digestinfo(&id, digest, 20, sig,
						(size_t)sl) < 0,
		       "same signature is not a DigestInfo signature");
		sig[10] ^= 1;
		tap_ok(tk_rsa_verify_raw(&id, digest, 20, sig, (size_t)sl) < 0,
		       "tampered signature rejected");
		sig[10] ^= 1;
		digest[0] ^= 1;
		tap_ok(tk_rsa_verify_raw(&id, digest, 20, sig, (size_t)sl) < 0,
		       "wrong digest rejected");
		tap_ok(tk_rsa_verify_raw(&sk, digest, 20, sig, (size_t)sl) < 0,
		       "wrong key rejected");
		tap_ok(tk_rsa_verify_raw(&id, digest, 20, sig, 100) < 0,
		       "short signature rejected");
	}
	/* dir-key-crosscert: signing key over SHA-1(identity DER). */
	tk_sha1(der, (size_t)dl, digest);
	long sl = tk_pem_decode(text, strlen(text), "ID SIGNATURE", sig,
				sizeof sig, NULL);
	tap_ok(sl == 256 &&
		       tk_rsa_verify_raw(&sk, digest, 20, sig, (size_t)sl) == 0,
	       "RSA raw-digest verify: dir-key-crosscert (2048-bit)");

	tap_ok(tk_rsa_pub_from_pem(&again, "-----BEGIN RSA PUBLIC KEY-----\n"
					   "AAAA\n-----END RSA PUBLIC KEY-----\n",
				   60) < 0,
	       "garbage key rejected");
	tap_ok(tk_rsa_pub_from_pem(&again, text, 40) < 0,
	       "text without PEM armour rejected");
	tk_rsa_pub_free(&again);
	tk_rsa_pub_free(&id);
	tk_rsa_pub_free(&sk);
	free(doc);
}

static void test_aes_ctr(void)
{
	/* NIST SP 800-38A F.5.1 CTR-AES128.Encrypt, first two blocks; the
	 * stream is fed in uneven chunks to prove state carries over. */
	uint8_t key[16], iv[16], pt[32], ct[32], want[32];
	tap_unhex("2b7e151628aed2a6abf7158809cf4f3c", key, 16);
	tap_unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff", iv, 16);
	tap_unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51",
		  pt, 32);
	tap_unhex("874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff",
		  want, 32);
	tk_aes_ctr c, c2;
	tk_aes_ctr_init(&c, key, iv);
	tk_aes_ctr_crypt(&c, pt, ct, 5);
	tk_aes_ctr_clone(&c2, &c);
	tk_aes_ctr_crypt(&c, pt + 5, ct + 5, 20);
	tk_aes_ctr_crypt(&c, pt + 25, ct + 25, 7);
	tap_eq_bytes(ct, 32, want, 32, "AES-128-CTR NIST vector, chunked");
	uint8_t ct2[27];
	tk_aes_ctr_crypt(&c2, pt + 5, ct2, 27);
	tap_eq_bytes(ct2, 27, want + 5, 27, "AES-CTR clone continues the stream");
	tk_aes_ctr_free(&c);
	tk_aes_ctr_free(&c2);
}

static void test_x25519_ed25519(void)
{
	uint8_t a[32], A[32], b[32], B[32], s1[32], s2[32], zero[32] = { 0 };
	tk_x25519_keygen(a, A);
	tk_x25519_keygen(b, B);
	tap_ok(tk_x25519(s1, a, B) == 0 && tk_x25519(s2, b, A) == 0 &&
		       memcmp(s1, s2, 32) == 0,
	       "X25519 agreement");
	tap_ok(tk_x25519(s1, a, zero) < 0, "X25519 refuses an all-zero result");

	/* RFC 8032 test 1: empty message. */
	uint8_t pk[32], sig[64];
	tap_unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
		  pk, 32);
	tap_unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
		  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
		  sig, 64);
	tap_ok(tk_ed25519_verify(sig, (const uint8_t *)"", 0, pk) == 0,
	       "Ed25519 RFC 8032 test 1 verifies");
	sig[0] ^= 1;
	tap_ok(tk_ed25519_verify(sig, (const uint8_t *)"", 0, pk) < 0,
	       "Ed25519 tampered signature rejected");
}

static void test_ntor(void)
{
	uint8_t b_pk[32], x_sk[32], id[20], want_client[84], server[64],
		want_keys[72];
	tap_unhex("ccbc8541904d18af08753eae967874749e6149f873de937f57f8fd903a21c471",
		  b_pk, 32);
	tap_unhex("706f6461792069207075742e2e2e2e2e2e2e2e4a454c4c59206f6e2074686973",
		  x_sk, 32);
	tap_unhex("69546f6c64596f7541626f75745374616972732e", id, 20);
	tap_unhex("69546f6c64596f7541626f75745374616972732eccbc8541904d18af08753eae"
		  "967874749e6149f873de937f57f8fd903a21c471e65dfdbef8b2635837fe2ceb"
		  "c086a8096eae3213e6830dc407516083d412b078",
		  want_client, 84);
	tap_unhex("390480a14362761d6aec1fea840f6e9e928fb2adb7b25c670be1045e35133a37"
		  "1cbdf68b89923e1f85e8e18ee6e805ea333fe4849c790ffd2670bd80fec95cc8",
		  server, 64);
	tap_unhex("0c62dee7f48893370d0ef896758d35729867beef1a5121df80e00f79ed349af3"
		  "9b51cae125719182f19d932a667dae1afbf2e336e6910e7822223e763afad0a1"
		  "3342157969dc6b79",
		  want_keys, 72);

	tk_ntor_state st;
	uint8_t skin[84], keys[72];
	tk_ntor_client_create_with(&st, id, b_pk, x_sk, skin);
	tap_eq_bytes(skin, 84, want_client, 84, "ntor client onion skin KAT");
	tap_ok(tk_ntor_client_finish(&st, server, keys, 72) == 0,
	       "ntor server reply authenticates");
	tap_eq_bytes(keys, 72, want_keys, 72, "ntor key material KAT (72 bytes)");

	uint8_t bad[64];
	memcpy(bad, server, 64);
	bad[60] ^= 7;
	tap_ok(tk_ntor_client_finish(&st, bad, keys, 72) < 0,
	       "ntor tampered AUTH rejected");
	memcpy(bad, server, 64);
	bad[3] ^= 1;
	tap_ok(tk_ntor_client_finish(&st, bad, keys, 72) < 0,
	       "ntor tampered Y rejected");
	memset(bad, 0, 32);
	tap_ok(tk_ntor_client_finish(&st, bad, keys, 72) < 0,
	       "ntor all-zero Y (small order) rejected");
	tk_ntor_state other;
	uint8_t wrong_b[32];
	memcpy(wrong_b, b_pk, 32);
	wrong_b[0] ^= 2;
	tk_ntor_client_create_with(&other, id, wrong_b, x_sk, skin);
	tap_ok(tk_ntor_client_finish(&other, server, keys, 72) < 0,
	       "ntor reply for another onion key rejected");
	tk_ntor_client_create(&other, id, b_pk, skin);
	tap_ok(memcmp(skin + 52, want_client + 52, 32) != 0,
	       "fresh ephemeral key per handshake");

	/* The relay side with the vector's b and y gives the same bytes. */
	uint8_t b_sk[32], y_sk[32], reply[64], skeys[72], ckeys[72];
	tap_unhex("4820544f4c4420594f5520444f474954204b454550532048415050454e494e47",
		  b_sk, 32);
	tap_unhex("70686520737175697272656c2e2e2e2e2e2e2e2e686173206869732067616d65",
		  y_sk, 32);
	tap_ok(tk_ntor_server_respond(id, b_sk, want_client, y_sk, reply,
				      skeys, 72) == 0,
	       "ntor relay side accepts the client's onion skin");
	tap_eq_bytes(reply, 64, server, 64, "ntor relay reply KAT (Y | AUTH)");
	tap_eq_bytes(skeys, 72, want_keys, 72, "ntor relay key material KAT");
	/* random y: client and relay agree */
	tk_ntor_client_create(&other, id, b_pk, skin);
	tap_ok(tk_ntor_server_respond(id, b_sk, skin, NULL, reply, skeys,
				      72) == 0 &&
		       tk_ntor_client_finish(&other, reply, ckeys, 72) == 0 &&
		       memcmp(skeys, ckeys, 72) == 0,
	       "ntor with fresh keys on both sides: same 72 bytes");
	uint8_t wrong_id[20];
	memcpy(wrong_id, id, 20);
	wrong_id[19] ^= 1;
	tap_ok(tk_ntor_server_respond(wrong_id, b_sk, skin, NULL, reply,
				      skeys, 72) < 0,
	       "ntor relay refuses an onion skin for another identity");
	tk_ntor_state_wipe(&st);
	tk_ntor_state_wipe(&other);
}

static void fast_case(const char *x_hex, const char *reply_hex,
		      const char *keys_hex, int n)
{
	uint8_t x[20], reply[40], want[100], keys[100];
	tap_unhex(x_hex, x, 20);
	tap_unhex(reply_hex, reply, 40);
	tap_unhex(keys_hex, want, 100);
	tap_ok(tk_fast_client_finish(x, reply, keys, 100) == 0,
	       "CREATE_FAST vector %d: KH verifies", n);
	tap_eq_bytes(keys, 100, want, 100,
		     "CREATE_FAST vector %d: 100 key bytes after KH", n);
	/* and KDF-TOR itself: K[20..120) of X|Y */
	uint8_t k0[40], k[120];
	memcpy(k0, x, 20);
	memcpy(k0 + 20, reply, 20);
	tk_kdf_tor(k0, 40, k, 120);
	tap_eq_bytes(k, 20, reply + 20, 20, "KDF-TOR vector %d: K[0:20] == KH", n);
	reply[35] ^= 16;
	tap_ok(tk_fast_client_finish(x, reply, keys, 100) < 0,
	       "CREATE_FAST vector %d: corrupted KH rejected", n);
}

static void test_fast(void)
{
	fast_case("080E247DF7C252FCD2DC10F459703480C223E3A6",
		  "BA95C0D092335428BF80093BBED0B7A26C49E1E8696FBF9C8D6BE26504219C00"
		  "0D26AFE370FCEF04",
		  "AFA89B4FC8CF882335A582C52478B5FCB1E08DAF707E2C2D23B8C27D30BD461F"
		  "3DF98A3AF82221CB658AD0AA8680B99067E4F7DBC546970EA9A56B26433C71DA"
		  "867BDD09C14A1308BC327D6A448D71D2382B3AB6AF0BB4E19649A8DFF607DB9C"
		  "57A04AC3",
		  1);
	fast_case("5F786C724C2F5978474A04FA63772057AD896A03",
		  "6210B037001405742FE78B6F5B34E6DB3C9F2F7E24239498613E0ED872E110A0"
		  "0774A3FCB37A7507",
		  "D41B65D83FB4B34A322B658BE4D706EDCD8B62813757E719118C394E1F22E1C8"
		  "EA8959BAB30E856A914C3054946F547397094DE031F5BCA384C65C8880BF7AAB"
		  "9CE7BEE33971F9DE8C22A23366F46BF8B5E5112321E216B0E02C62EEA3ABB72A"
		  "0E062592",
		  2);
}

/* Key strings from tor's test_relaycrypt.c: exactly 72 characters. */
static const char *const tor1_keys[3] = {
	"    'My public key is in this signed x509 object', said Tom assertively.",
	"'Let's chart the pedal phlanges in the tomb', said Tom cryptographically",
	"     'Segmentation fault bugs don't _just happen_', said Tom seethingly.",
};

#include "tor1_vectors.inc"

static void test_tor1_kat(void)
{
	size_t len;
	unsigned char *stream = read_data("tor1_shake256.bin", &len);
	if (!stream || len != 51 * 498) {
		tap_ok(0, "tor1 plaintext stream present (51*498 bytes)");
		free(stream);
		return;
	}
	tk_relay_hop hops[3];
	for (int i = 0; i < 3; i++)
		tk_relay_hop_init(&hops[i], (const uint8_t *)tor1_keys[i]);
	size_t j = 0, matched = 0;
	for (int cellno = 0; cellno < 51; cellno++) {
		uint8_t body[509] = { 0 };
		body[0] = 2;   /* DATA */
		body[4] = 1;   /* stream 1 */
		body[9] = 1;   /* length 498 = 0x01f2 */
		body[10] = 242;
		memcpy(body + 11, stream + (size_t)cellno * 498, 498);
		tk_relay_crypt_seal(hops, 3, 2, body, NULL);
		if (j < sizeof tor1_vectors / sizeof tor1_vectors[0] &&
		    tor1_vectors[j].cell == cellno) {
			uint8_t want[509];
			tap_unhex(tor1_vectors[j].hex, want, sizeof want);
			matched += tap_eq_bytes(body, 509, want, 509,
						"tor1 3-hop ciphertext, cell %d",
						cellno);
			j++;
		}
	}
	tap_eq_long((long)matched, 8, "all 8 C-tor ciphertexts matched");
	for (int i = 0; i < 3; i++)
		tk_relay_hop_free(&hops[i]);
	free(stream);
}

/* Plays the three relays: client and relays share keys; cells go out to
 * each hop in turn and come back from each hop. */
static void test_tor1_roundtrip(void)
{
	tk_relay_hop client[3], relay[3];
	for (int i = 0; i < 3; i++) {
		tk_relay_hop_init(&client[i], (const uint8_t *)tor1_keys[i]);
		tk_relay_hop_init(&relay[i], (const uint8_t *)tor1_keys[i]);
	}
	int ok_out = 1, ok_in = 1, ok_tag = 1;
	for (int step = 0; step < 30; step++) {
		size_t target = (size_t)(step * 7 % 3);
		uint8_t plain[509], cell[509], tag[20], rtag[20];
		char msg[32];
		int mlen = snprintf(msg, sizeof msg, "step %d", step);
		tk_relay_payload_build(plain, TK_RELAY_DATA, 7,
				       (const uint8_t *)msg, (size_t)mlen);
		memcpy(cell, plain, 509);
		tk_relay_crypt_seal(client, 3, target, cell, tag);
		/* each relay up to target peels one layer; only target
		 * recognizes */
		for (size_t h = 0; h <= target; h++) {
			tk_relay_dir_crypt(&relay[h].fwd, cell);
			int rec = tk_relay_dir_check_digest(&relay[h].fwd, cell,
							    rtag);
			if (rec != (h == target))
				ok_out = 0;
		}
		tk_relay_header hdr;
		const uint8_t *data;
		if (tk_relay_header_parse(cell, &hdr, &data) != 0 ||
		    hdr.length != mlen || memcmp(data, msg, (size_t)mlen) != 0 ||
		    hdr.stream_id != 7 || memcmp(rtag, tag, 20) != 0)
			ok_out = 0;

		/* reply from the target, relayed back by earlier hops */
		tk_relay_payload_build(plain, TK_RELAY_DATA, 7,
				       (const uint8_t *)msg, (size_t)mlen);
		memcpy(cell, plain, 509);
		tk_relay_dir_set_digest(&relay[target].bwd, cell, rtag);
		for (size_t h = target + 1; h-- > 0;)
			tk_relay_dir_crypt(&relay[h].bwd, cell);
		size_t from = 99;
		if (tk_relay_crypt_open(client, 3, cell, &from, tag) != 0 ||
		    from != target)
			ok_in = 0;
		if (memcmp(tag, rtag, 20) != 0)
			ok_tag = 0;
		if (memcmp(cell + 11, msg, (size_t)mlen) != 0)
			ok_in = 0;
	}
	tap_ok(ok_out, "30 outbound cells: only the target hop recognizes, "
		       "data intact");
	tap_ok(ok_in, "30 inbound cells: client attributes each to its hop");
	tap_ok(ok_tag, "SENDME tags agree on both sides");

	/* A corrupted inbound cell is recognized by no hop. */
	uint8_t cell[509];
	tk_relay_payload_build(cell, TK_RELAY_DATA, 1, (const uint8_t *)"x", 1);
	tk_relay_dir_set_digest(&relay[2].bwd, cell, NULL);
	for (size_t h = 3; h-- > 0;)
		tk_relay_dir_crypt(&relay[h].bwd, cell);
	cell[100] ^= 1;
	size_t from;
	tap_ok(tk_relay_crypt_open(client, 3, cell, &from, NULL) < 0,
	       "tampered inbound cell is not recognized");
	tap_ok(tk_relay_crypt_seal(client, 3, 3, cell, NULL) < 0,
	       "seal refuses a hop past the end");
	for (int i = 0; i < 3; i++) {
		tk_relay_hop_free(&client[i]);
		tk_relay_hop_free(&relay[i]);
	}
}

/* A failed recognition must not move the running digest. */
static void test_tor1_digest_rollback(void)
{
	tk_relay_hop a, b;
	tk_relay_hop_init(&a, (const uint8_t *)tor1_keys[0]);
	tk_relay_hop_init(&b, (const uint8_t *)tor1_keys[0]);
	int ok = 1;
	for (int i = 0; i < 5; i++) {
		uint8_t body[509], bad[509];
		uint8_t c = (uint8_t)i;
		tk_relay_payload_build(body, TK_RELAY_DATA, 0, &c, 1);
		tk_relay_dir_set_digest(&a.fwd, body, NULL);
		memcpy(bad, body, 509);
		bad[5] ^= 1;
		if (tk_relay_dir_check_digest(&b.fwd, bad, NULL))
			ok = 0;
		bad[5] ^= 1;
		bad[1] = 1; /* recognized != 0 */
		if (tk_relay_dir_check_digest(&b.fwd, bad, NULL))
			ok = 0;
		if (!tk_relay_dir_check_digest(&b.fwd, body, NULL))
			ok = 0;
	}
	tap_ok(ok, "forged digests rejected without advancing the state");
	tk_relay_hop_free(&a);
	tk_relay_hop_free(&b);
}

/* The padding RNG: spans pool refills, never repeats a block, and is not
 * stuck at zero (which is what a broken refill would give). */
static void test_random_fast(void)
{
	static uint8_t a[10000], b[10000];
	tk_random_fast(a, 1);
	tk_random_fast(a + 1, sizeof a - 1);
	tk_random_fast(b, sizeof b);
	tap_ok(memcmp(a, b, sizeof a) != 0, "tk_random_fast: two draws differ");
	size_t zeros = 0;
	for (size_t i = 0; i < sizeof a; i++)
		zeros += a[i] == 0;
	/* 10000 uniform bytes hold about 39 zeros; 200 would be broken. */
	tap_ok(zeros < 200, "tk_random_fast: bytes look uniform (%zu zeros)", zeros);
	tap_ok(memcmp(a, a + 4096, 4096) != 0,
	       "tk_random_fast: consecutive pool blocks differ");
}

/* tk_aes_ctr_crypt runs eight blocks at a time with AES-NI: it must give
 * mbedTLS's own CTR stream byte for byte, whatever the chunking, across
 * counter carries, with 128- and 256-bit keys. */
static void test_aes_ctr_bulk(void)
{
	static uint8_t pt[5000], want[5000], got[5000];
	uint8_t key[32], iv[16], nc[16], sb[16];
	int ok = 1;
	tk_random(pt, sizeof pt);
	for (int bits = 128; bits <= 256; bits += 128) {
		for (int trial = 0; trial < 20; trial++) {
			mbedtls_aes_context ref;
			tk_aes_ctr c;
			size_t off = 0, done = 0;
			tk_random(key, sizeof key);
			memset(iv, 0xff, sizeof iv);
			iv[0] = (uint8_t)trial; /* carries run across bytes */
			iv[15] = (uint8_t)(0xf0 + trial % 16);
			mbedtls_aes_init(&ref);
			mbedtls_aes_setkey_enc(&ref, key, (unsigned)bits);
			memcpy(nc, iv, 16);
			mbedtls_aes_crypt_ctr(&ref, sizeof pt, &off, nc, sb, pt,
					      want);
			mbedtls_aes_free(&ref);
			tk_aes_ctr_init_bits(&c, key, (unsigned)bits, iv);
			for (size_t step = (size_t)trial; done < sizeof pt;
			     step = step * 7 % 601 + 1) {
				size_t n = step < sizeof pt - done
						   ? step
						   : sizeof pt - done;
				tk_aes_ctr_crypt(&c, pt + done, got + done, n);
				done += n;
			}
			tk_aes_ctr_free(&c);
			if (memcmp(got, want, sizeof pt) != 0)
				ok = 0;
		}
	}
	tap_ok(ok, "AES-CTR in odd chunks = mbedTLS's CTR (40 keys, carries)");
}

int main(void)
{
	if (tk_crypto_init() != 0) {
		tap_ok(0, "libsodium initialises");
		return tap_done();
	}
	test_digests();
	test_hmac_hkdf();
	test_base64_hex();
	test_bytes();
	test_rsa_authcert();
	test_aes_ctr();
	test_aes_ctr_bulk();
	test_x25519_ed25519();
	test_random_fast();
	test_ntor();
	test_fast();
	test_tor1_kat();
	test_tor1_roundtrip();
	test_tor1_digest_rollback();
	return tap_done();
}
