/* onionaddr.c — see onionaddr.h. */
#include "onion/base/onionaddr.h"

#include <sodium.h>
#include <string.h>

#include "onion/base/sha3.h"

#define LABEL_LEN 56 /* base32 of 35 bytes */
#define RAW_LEN 35   /* pubkey 32 | checksum 2 | version 1 */

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int
b32_value(int c)
{
	c = lower(c);
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* 56 base32 characters -> 35 bytes (no padding: 56 * 5 = 280 bits). */
static int
b32_decode(const char *s, uint8_t out[RAW_LEN])
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;

	for (int i = 0; i < LABEL_LEN; i++) {
		int v = b32_value((unsigned char)s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return n == RAW_LEN ? 0 : -1;
}

enum tk_onion_host
tk_onion_host_classify(const char *host, size_t len, uint8_t pubkey[32])
{
	static const char suffix[] = "onion";
	const size_t slen = sizeof(suffix) - 1;
	static const char label[] = ".onion checksum";
	uint8_t raw[RAW_LEN], sum[TK_SHA3_256_LEN];
	const char *start;
	size_t end;

	if (len > 0 && host[len - 1] == '.')
		len--;
	if (len < slen)
		return TK_ONION_HOST_NONE;
	for (size_t i = 0; i < slen; i++)
		if (lower((unsigned char)host[len - slen + i]) != suffix[i])
			return TK_ONION_HOST_NONE;
	if (len > slen && host[len - slen - 1] != '.')
		return TK_ONION_HOST_NONE; /* "xonion" */
	if (len == slen)
		return TK_ONION_HOST_BAD; /* "onion" alone */
	/* The label before ".onion"; any subdomains before it are not
	 * part of the address. */
	end = len - slen - 1;
	start = host + end;
	while (start > host && start[-1] != '.')
		start--;
	if ((size_t)(host + end - start) != LABEL_LEN ||
	    b32_decode(start, raw) < 0)
		return TK_ONION_HOST_BAD;
	if (raw[34] != 3)
		return TK_ONION_HOST_BAD;
	{
		const void *parts[] = { label, raw, raw + 34 };
		const size_t lens[] = { sizeof(label) - 1, 32, 1 };

		tk_sha3_256_parts(3, parts, lens, sum);
	}
	if (sum[0] != raw[32] || sum[1] != raw[33])
		return TK_ONION_HOST_BAD;
	if (!crypto_core_ed25519_is_valid_point(raw))
		return TK_ONION_HOST_BAD;
	if (pubkey != NULL)
		memcpy(pubkey, raw, 32);
	return TK_ONION_HOST_V3;
}
