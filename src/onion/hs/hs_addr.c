/* v3 onion addresses. */
#include "onion/hs/hs_addr.h"

#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/base/keccak.h"

#define ADDR_VERSION 3
#define ADDR_RAW_LEN 35 /* PUBKEY[32] CHECKSUM[2] VERSION[1] */

const char *
tk_hs_addr_strerror(int err)
{
	switch (err) {
	case TK_HS_ADDR_OK:
		return "valid v3 onion address";
	case TK_HS_ADDR_ELEN:
		return "onion address is not 56 characters long";
	case TK_HS_ADDR_EBASE32:
		return "onion address is not base32";
	case TK_HS_ADDR_EVERSION:
		return "onion address has an unknown version";
	case TK_HS_ADDR_ECHECKSUM:
		return "onion address checksum does not match";
	case TK_HS_ADDR_EKEY:
		return "onion address holds an invalid key";
	case TK_HS_ADDR_ESYNTAX:
		return "malformed onion host name";
	}
	return "unknown onion address error";
}

static void
checksum(const uint8_t id[TK_HS_ID_LEN], uint8_t version, uint8_t out[2])
{
	static const char prefix[] = ".onion checksum";
	uint8_t d[TK_SHA3_256_LEN];
	tk_keccak k;
	tk_sha3_256_init(&k);
	tk_keccak_absorb(&k, prefix, sizeof prefix - 1);
	tk_keccak_absorb(&k, id, TK_HS_ID_LEN);
	tk_keccak_absorb(&k, &version, 1);
	tk_sha3_256_final(&k, d);
	memcpy(out, d, 2);
}

int
tk_hs_addr_decode(const char *label, size_t len, uint8_t id[TK_HS_ID_LEN])
{
	uint8_t raw[ADDR_RAW_LEN], want[2];
	memset(id, 0, TK_HS_ID_LEN);
	if (len != TK_HS_ADDR_LEN)
		return TK_HS_ADDR_ELEN;
	if (tk_base32_decode(label, len, raw, sizeof raw) != ADDR_RAW_LEN)
		return TK_HS_ADDR_EBASE32;
	if (raw[34] != ADDR_VERSION)
		return TK_HS_ADDR_EVERSION;
	checksum(raw, raw[34], want);
	if (memcmp(want, raw + 32, 2) != 0)
		return TK_HS_ADDR_ECHECKSUM;
	/* A key with a torsion component would give one service several
	 * addresses (rend-spec-v3 §2.2.7). */
	if (!tk_ed25519_pub_valid(raw))
		return TK_HS_ADDR_EKEY;
	memcpy(id, raw, TK_HS_ID_LEN);
	return TK_HS_ADDR_OK;
}

void
tk_hs_addr_encode(const uint8_t id[TK_HS_ID_LEN], char out[TK_HS_ADDR_LEN + 1])
{
	uint8_t raw[ADDR_RAW_LEN];
	memcpy(raw, id, TK_HS_ID_LEN);
	raw[34] = ADDR_VERSION;
	checksum(id, ADDR_VERSION, raw + 32);
	tk_base32_encode(raw, sizeof raw, out, TK_HS_ADDR_LEN + 1);
}

static int
ends_with_ci(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	if (n < k)
		return 0;
	for (size_t i = 0; i < k; i++) {
		char c = s[n - k + i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != suffix[i])
			return 0;
	}
	return 1;
}

int
tk_hs_host_parse(const char *host, size_t len, uint8_t id[TK_HS_ID_LEN])
{
	size_t end, start;
	memset(id, 0, TK_HS_ID_LEN);
	if (len > 0 && host[len - 1] == '.')
		len--;
	if (!ends_with_ci(host, len, ".onion")) {
		/* "onion" alone is no host Tor would send anywhere either. */
		if (len == 5 && ends_with_ci(host, len, "onion"))
			return TK_HS_ADDR_ESYNTAX;
		return 0;
	}
	end = len - 6;
	/* The label right before ".onion"; anything before it is a
	 * subdomain of the service, which Tor ignores. */
	start = end;
	while (start > 0 && host[start - 1] != '.')
		start--;
	if (start == end)
		return TK_HS_ADDR_ESYNTAX;
	int r = tk_hs_addr_decode(host + start, end - start, id);
	return r == TK_HS_ADDR_OK ? 1 : r;
}
