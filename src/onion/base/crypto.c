/* Crypto wrappers: mbedTLS 2.28 for digests, AES, RSA and X.509;
 * libsodium for X25519, Ed25519 and the RNG. */
#include "onion/base/crypto.h"

#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/rsa.h>
#include <sodium.h>
#include <string.h>

#include "onion/base/bytes.h"

int
tk_crypto_init(void)
{
	/* 1 means "already initialised", which is fine. */
	return sodium_init() < 0 ? -1 : 0;
}

void
tk_random(void *buf, size_t n)
{
	randombytes_buf(buf, n);
}

/* A ChaCha20 keystream keyed from the system RNG, refilled a block at a
 * time and rekeyed every TK_FAST_RNG_REKEY bytes. Relay-cell padding needs
 * unpredictable bytes on every cell; one getrandom() per cell cost about a
 * third of the CPU of a bulk transfer. Not for keys: use tk_random(). */
#define TK_FAST_RNG_BLOCK 4096
#define TK_FAST_RNG_REKEY (1u << 20)

static struct {
	uint8_t key[crypto_stream_chacha20_KEYBYTES];
	uint64_t nonce;
	uint32_t since_rekey;
	size_t off;
	uint8_t pool[TK_FAST_RNG_BLOCK];
} fast_rng = { .off = TK_FAST_RNG_BLOCK, .since_rekey = TK_FAST_RNG_REKEY };

static void
fast_rng_refill(void)
{
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];

	if (fast_rng.since_rekey >= TK_FAST_RNG_REKEY) {
		randombytes_buf(fast_rng.key, sizeof fast_rng.key);
		fast_rng.nonce = 0;
		fast_rng.since_rekey = 0;
	}
	memcpy(nonce, &fast_rng.nonce, sizeof nonce);
	fast_rng.nonce++;
	crypto_stream_chacha20(fast_rng.pool, sizeof fast_rng.pool, nonce,
			       fast_rng.key);
	fast_rng.since_rekey += sizeof fast_rng.pool;
	fast_rng.off = 0;
}

void
tk_random_fast(void *buf, size_t n)
{
	uint8_t *out = buf;

	while (n > 0) {
		if (fast_rng.off == sizeof fast_rng.pool)
			fast_rng_refill();
		size_t take = sizeof fast_rng.pool - fast_rng.off;
		if (take > n)
			take = n;
		memcpy(out, fast_rng.pool + fast_rng.off, take);
		/* Served bytes never stay in memory to be served again. */
		sodium_memzero(fast_rng.pool + fast_rng.off, take);
		fast_rng.off += take;
		out += take;
		n -= take;
	}
}

void
tk_sha1(const void *msg, size_t len, uint8_t out[TK_SHA1_LEN])
{
	/* Cannot fail for the built-in software implementation. */
	(void)mbedtls_sha1_ret(msg, len, out);
}

void
tk_sha256(const void *msg, size_t len, uint8_t out[TK_SHA256_LEN])
{
	(void)mbedtls_sha256_ret(msg, len, out, 0);
}

void
tk_sha1_init(tk_sha1_ctx *ctx)
{
	mbedtls_sha1_init(&ctx->c);
	(void)mbedtls_sha1_starts_ret(&ctx->c);
}

void
tk_sha1_update(tk_sha1_ctx *ctx, const void *msg, size_t len)
{
	(void)mbedtls_sha1_update_ret(&ctx->c, msg, len);
}

void
tk_sha1_peek(const tk_sha1_ctx *ctx, uint8_t out[TK_SHA1_LEN])
{
	mbedtls_sha1_context tmp;
	mbedtls_sha1_init(&tmp);
	mbedtls_sha1_clone(&tmp, &ctx->c);
	(void)mbedtls_sha1_finish_ret(&tmp, out);
	mbedtls_sha1_free(&tmp);
}

void
tk_sha1_clone(tk_sha1_ctx *dst, const tk_sha1_ctx *src)
{
	mbedtls_sha1_clone(&dst->c, &src->c);
}

void
tk_sha1_free(tk_sha1_ctx *ctx)
{
	mbedtls_sha1_free(&ctx->c); /* zeroizes */
}

void
tk_sha256_init(tk_sha256_ctx *ctx)
{
	mbedtls_sha256_init(&ctx->c);
	(void)mbedtls_sha256_starts_ret(&ctx->c, 0);
}

void
tk_sha256_update(tk_sha256_ctx *ctx, const void *msg, size_t len)
{
	(void)mbedtls_sha256_update_ret(&ctx->c, msg, len);
}

void
tk_sha256_peek(const tk_sha256_ctx *ctx, uint8_t out[TK_SHA256_LEN])
{
	mbedtls_sha256_context tmp;
	mbedtls_sha256_init(&tmp);
	mbedtls_sha256_clone(&tmp, &ctx->c);
	(void)mbedtls_sha256_finish_ret(&tmp, out);
	mbedtls_sha256_free(&tmp);
}

void
tk_sha256_clone(tk_sha256_ctx *dst, const tk_sha256_ctx *src)
{
	mbedtls_sha256_clone(&dst->c, &src->c);
}

void
tk_sha256_free(tk_sha256_ctx *ctx)
{
	mbedtls_sha256_free(&ctx->c);
}

void
tk_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
	       uint8_t out[TK_SHA256_LEN])
{
	(void)mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key,
			      keylen, msg, msglen, out);
}

int
tk_hkdf_sha256(const void *salt, size_t saltlen, const void *ikm, size_t ikmlen,
	       const void *info, size_t infolen, uint8_t *out, size_t outlen)
{
	if (outlen > 255 * TK_SHA256_LEN)
		return -1;
	int rc = mbedtls_hkdf(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
			      salt, saltlen, ikm, ikmlen, info, infolen, out,
			      outlen);
	return rc == 0 ? 0 : -1;
}

int
tk_aes_ctr_init(tk_aes_ctr *c, const uint8_t key[TK_AES128_KEY_LEN],
		const uint8_t iv[16])
{
	return tk_aes_ctr_init_bits(c, key, 128, iv);
}

int
tk_aes_ctr_init_bits(tk_aes_ctr *c, const uint8_t *key, unsigned bits,
		     const uint8_t iv[16])
{
	mbedtls_aes_init(&c->aes);
	if (iv)
		memcpy(c->counter, iv, 16);
	else
		memset(c->counter, 0, 16);
	memset(c->stream, 0, 16);
	c->off = 0;
	if (mbedtls_aes_setkey_enc(&c->aes, key, bits) != 0) {
		mbedtls_aes_free(&c->aes);
		return -1;
	}
	return 0;
}

/* mbedTLS 2.28 runs CTR one block at a time. With AES-NI, eight blocks
 * go through the rounds together: relay crypto is three passes of AES
 * over every cell, most of a busy client's CPU. The round keys are the
 * ones mbedtls_aes_setkey_enc() expanded (with AES-NI it lays them out
 * as the instructions want them). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#include <mbedtls/aesni.h>
#define CTR_AESNI 1

static void
ctr_increment(uint8_t counter[16])
{
	for (int i = 15; i >= 0; i--)
		if (++counter[i] != 0)
			break;
}

__attribute__((target("aes,sse2"))) static void
ctr_blocks_aesni(const mbedtls_aes_context *aes, uint8_t counter[16],
		 const uint8_t *in, uint8_t *out, size_t nblocks)
{
	const __m128i *rk = (const __m128i *)(const void *)aes->rk;
	while (nblocks) {
		size_t k = nblocks < 8 ? nblocks : 8;
		__m128i b[8], r;
		for (size_t i = 0; i < k; i++) {
			b[i] = _mm_loadu_si128(
				(const __m128i *)(const void *)counter);
			ctr_increment(counter);
		}
		r = _mm_loadu_si128(&rk[0]);
		for (size_t i = 0; i < k; i++)
			b[i] = _mm_xor_si128(b[i], r);
		for (int round = 1; round < aes->nr; round++) {
			r = _mm_loadu_si128(&rk[round]);
			for (size_t i = 0; i < k; i++)
				b[i] = _mm_aesenc_si128(b[i], r);
		}
		r = _mm_loadu_si128(&rk[aes->nr]);
		for (size_t i = 0; i < k; i++) {
			__m128i x = _mm_loadu_si128(
				(const __m128i *)(const void *)(in + 16 * i));
			b[i] = _mm_aesenclast_si128(b[i], r);
			_mm_storeu_si128((__m128i *)(void *)(out + 16 * i),
					 _mm_xor_si128(x, b[i]));
		}
		in += 16 * k;
		out += 16 * k;
		nblocks -= k;
	}
}
#endif

void
tk_aes_ctr_crypt(tk_aes_ctr *c, const uint8_t *in, uint8_t *out, size_t n)
{
	if (n == 0)
		return;
#ifdef CTR_AESNI
	static int aesni = -1;
	if (aesni < 0)
		aesni = mbedtls_aesni_has_support(MBEDTLS_AESNI_AES) != 0;
	if (aesni) {
		/* the rest of the last block's key stream first */
		while (n && c->off) {
			*out++ = *in++ ^ c->stream[c->off];
			c->off = (c->off + 1) & 15;
			n--;
		}
		if (n >= 16) {
			size_t nb = n / 16;
			ctr_blocks_aesni(&c->aes, c->counter, in, out, nb);
			in += 16 * nb;
			out += 16 * nb;
			n -= 16 * nb;
		}
		if (n == 0)
			return;
	}
#endif
	(void)mbedtls_aes_crypt_ctr(&c->aes, n, &c->off, c->counter, c->stream,
				    in, out);
}

void
tk_aes_ctr_clone(tk_aes_ctr *dst, const tk_aes_ctr *src)
{
	/* mbedtls_aes_context holds the expanded key and a pointer into its
	 * own buffer (rk -> buf), so a struct copy needs the pointer fixed. */
	memcpy(dst, src, sizeof *dst);
	dst->aes.rk = dst->aes.buf + (src->aes.rk - src->aes.buf);
}

void
tk_aes_ctr_free(tk_aes_ctr *c)
{
	mbedtls_aes_free(&c->aes);
	tk_wipe(c->counter, sizeof c->counter);
	tk_wipe(c->stream, sizeof c->stream);
	c->off = 0;
}

void
tk_rsa_pub_init(tk_rsa_pub *k)
{
	mbedtls_pk_init(&k->pk);
}

void
tk_rsa_pub_free(tk_rsa_pub *k)
{
	mbedtls_pk_free(&k->pk);
	mbedtls_pk_init(&k->pk);
}

int
tk_rsa_pub_from_der(tk_rsa_pub *k, const uint8_t *der, size_t len)
{
	tk_rsa_pub_free(k);
	if (len == 0)
		return -1;
	/* A trailing NUL would make mbedTLS try PEM first; DER never needs
	 * one, so a DER input ending in 0 is still handled as DER below. */
	if (mbedtls_pk_parse_public_key(&k->pk, der, len) != 0 ||
	    mbedtls_pk_get_type(&k->pk) != MBEDTLS_PK_RSA) {
		tk_rsa_pub_free(k);
		return -1;
	}
	return 0;
}

int
tk_rsa_pub_from_pem(tk_rsa_pub *k, const char *pem, size_t len)
{
	/* 16 KiB covers RSA keys far beyond anything Tor uses. */
	uint8_t der[16384];
	long n = tk_pem_decode(pem, len, "RSA PUBLIC KEY", der, sizeof der,
			       NULL);
	if (n < 0)
		n = tk_pem_decode(pem, len, "PUBLIC KEY", der, sizeof der,
				  NULL);
	if (n <= 0) {
		tk_rsa_pub_free(k);
		return -1;
	}
	return tk_rsa_pub_from_der(k, der, (size_t)n);
}

size_t
tk_rsa_pub_bits(const tk_rsa_pub *k)
{
	if (mbedtls_pk_get_type(&k->pk) != MBEDTLS_PK_RSA)
		return 0;
	return mbedtls_pk_get_bitlen(&k->pk);
}

long
tk_rsa_pub_to_der(const tk_rsa_pub *k, uint8_t *out, size_t cap)
{
	if (mbedtls_pk_get_type(&k->pk) != MBEDTLS_PK_RSA || cap == 0)
		return -1;
	/* mbedtls_pk_write_pubkey() writes backwards from the end and, for
	 * RSA, emits exactly the PKCS#1 RSAPublicKey structure. */
	unsigned char *p = out + cap;
	int n = mbedtls_pk_write_pubkey(&p, out, &k->pk);
	if (n <= 0)
		return -1;
	memmove(out, p, (size_t)n);
	return n;
}

int
tk_rsa_pub_fingerprint(const tk_rsa_pub *k, uint8_t out[TK_RSA_ID_LEN])
{
	uint8_t der[4096];
	long n = tk_rsa_pub_to_der(k, der, sizeof der);
	if (n < 0)
		return -1;
	tk_sha1(der, (size_t)n, out);
	return 0;
}

int
tk_rsa_verify_raw(const tk_rsa_pub *k, const uint8_t *digest, size_t dlen,
		  const uint8_t *sig, size_t siglen)
{
	if (mbedtls_pk_get_type(&k->pk) != MBEDTLS_PK_RSA || dlen == 0 ||
	    siglen != mbedtls_pk_get_len(&k->pk))
		return -1;
	mbedtls_rsa_context *rsa = mbedtls_pk_rsa(k->pk);
	/* MD_NONE makes mbedTLS compare the padded payload with the digest
	 * bytes themselves: PKCS#1 v1.5 type 1 padding, no DigestInfo. */
	int rc = mbedtls_rsa_pkcs1_verify(rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC,
					  MBEDTLS_MD_NONE, (unsigned int)dlen,
					  digest, sig);
	return rc == 0 ? 0 : -1;
}

int
tk_rsa_verify_digestinfo(const tk_rsa_pub *k, const uint8_t *digest,
			 size_t dlen, const uint8_t *sig, size_t siglen)
{
	mbedtls_md_type_t md;
	if (dlen == TK_SHA1_LEN)
		md = MBEDTLS_MD_SHA1;
	else if (dlen == TK_SHA256_LEN)
		md = MBEDTLS_MD_SHA256;
	else
		return -1;
	if (mbedtls_pk_get_type(&k->pk) != MBEDTLS_PK_RSA ||
	    siglen != mbedtls_pk_get_len(&k->pk))
		return -1;
	int rc = mbedtls_rsa_pkcs1_verify(mbedtls_pk_rsa(k->pk), NULL, NULL,
					  MBEDTLS_RSA_PUBLIC, md,
					  (unsigned int)dlen, digest, sig);
	return rc == 0 ? 0 : -1;
}

void
tk_x509_init(tk_x509 *c)
{
	mbedtls_x509_crt_init(&c->crt);
}

void
tk_x509_free(tk_x509 *c)
{
	mbedtls_x509_crt_free(&c->crt);
	mbedtls_x509_crt_init(&c->crt);
}

int
tk_x509_parse(tk_x509 *c, const uint8_t *der, size_t len)
{
	tk_x509_free(c);
	if (len == 0 || mbedtls_x509_crt_parse_der(&c->crt, der, len) != 0) {
		tk_x509_free(c);
		return -1;
	}
	/* parse_der tolerates trailing bytes; a cert body must be exact. */
	if (c->crt.raw.len != len) {
		tk_x509_free(c);
		return -1;
	}
	return 0;
}

const uint8_t *
tk_x509_der(const tk_x509 *c, size_t *len)
{
	*len = c->crt.raw.len;
	return c->crt.raw.p;
}

int
tk_x509_get_rsa_pub(const tk_x509 *c, tk_rsa_pub *out)
{
	tk_rsa_pub_free(out);
	if (c->crt.raw.len == 0 ||
	    mbedtls_pk_get_type(&c->crt.pk) != MBEDTLS_PK_RSA)
		return -1;
	uint8_t der[4096];
	unsigned char *p = der + sizeof der;
	int n = mbedtls_pk_write_pubkey(&p, der, &c->crt.pk);
	if (n <= 0)
		return -1;
	return tk_rsa_pub_from_der(out, p, (size_t)n);
}

/* Orders an X.509 time against a broken-down UTC time: <0, 0, >0. */
static int
x509_time_cmp(const mbedtls_x509_time *t, const struct tm *tm)
{
	int a[6] = { t->year, t->mon, t->day, t->hour, t->min, t->sec };
	int b[6] = { tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday,
		     tm->tm_hour,	 tm->tm_min,	 tm->tm_sec };
	for (int i = 0; i < 6; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

int
tk_x509_valid_at(const tk_x509 *c, time_t now)
{
	struct tm tm;
	if (c->crt.raw.len == 0 || !gmtime_r(&now, &tm))
		return 0;
	return x509_time_cmp(&c->crt.valid_from, &tm) <= 0 &&
	       x509_time_cmp(&c->crt.valid_to, &tm) >= 0;
}

int
tk_x509_check_signed_by(const tk_x509 *c, const tk_rsa_pub *signer)
{
	const mbedtls_x509_crt *crt = &c->crt;
	if (crt->raw.len == 0 || crt->sig_pk != MBEDTLS_PK_RSA ||
	    mbedtls_pk_get_type(&signer->pk) != MBEDTLS_PK_RSA)
		return -1;
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(crt->sig_md);
	if (!md)
		return -1;
	uint8_t hash[MBEDTLS_MD_MAX_SIZE];
	if (mbedtls_md(md, crt->tbs.p, crt->tbs.len, hash) != 0)
		return -1;
	if (crt->sig.len != mbedtls_pk_get_len(&signer->pk))
		return -1;
	int rc = mbedtls_rsa_pkcs1_verify(mbedtls_pk_rsa(signer->pk), NULL,
					  NULL, MBEDTLS_RSA_PUBLIC, crt->sig_md,
					  mbedtls_md_get_size(md), hash,
					  crt->sig.p);
	return rc == 0 ? 0 : -1;
}

void
tk_x25519_keygen(uint8_t sk[TK_X25519_LEN], uint8_t pk[TK_X25519_LEN])
{
	randombytes_buf(sk, TK_X25519_LEN);
	tk_x25519_public(sk, pk);
}

void
tk_x25519_public(const uint8_t sk[TK_X25519_LEN], uint8_t pk[TK_X25519_LEN])
{
	(void)crypto_scalarmult_curve25519_base(pk, sk);
}

int
tk_x25519(uint8_t out[TK_X25519_LEN], const uint8_t sk[TK_X25519_LEN],
	  const uint8_t peer[TK_X25519_LEN])
{
	/* libsodium returns -1 when the result is all zeros. */
	if (crypto_scalarmult_curve25519(out, sk, peer) != 0) {
		tk_wipe(out, TK_X25519_LEN);
		return -1;
	}
	return 0;
}

int
tk_ed25519_verify(const uint8_t sig[TK_ED25519_SIG_LEN], const uint8_t *msg,
		  size_t len, const uint8_t pub[TK_ED25519_PUB_LEN])
{
	return crypto_sign_ed25519_verify_detached(sig, msg, len, pub) == 0
		       ? 0
		       : -1;
}

int
tk_ed25519_pub_valid(const uint8_t pub[TK_ED25519_PUB_LEN])
{
	/* Checks the encoding is canonical, the point is on the curve, not
	 * of small order, and in the prime-order subgroup. */
	return crypto_core_ed25519_is_valid_point(pub) == 1;
}

int
tk_ed25519_scalarmult(uint8_t out[TK_ED25519_PUB_LEN], const uint8_t k[32],
		      const uint8_t pub[TK_ED25519_PUB_LEN])
{
	/* libsodium clears bit 255 of the scalar and refuses an invalid
	 * point or an identity result; the caller's scalars never have bit
	 * 255 set, so k is used unchanged. */
	if ((k[31] & 0x80) || !tk_ed25519_pub_valid(pub) ||
	    crypto_scalarmult_ed25519_noclamp(out, k, pub) != 0) {
		memset(out, 0, TK_ED25519_PUB_LEN);
		return -1;
	}
	return 0;
}
