/* libFuzzer harness: the microdesc consensus parser, then everything a
 * caller does with a parsed consensus: signature verification (with the
 * real certificate of one sample authority, so signatures naming it reach
 * the RSA check), missing-certificate lookup, parameters, weights and the
 * router indexes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "onion/netdoc/authcert.h"
#include "onion/netdoc/consensus.h"
#include "onion/base/crypto.h"
#include "onion/netdoc/netdoc.h"
#include "onion/netdoc/protover.h"
#include "onion/netdoc/consdiff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* tnauth1's key certificate from tests/data/netdoc/authority-certs.txt. */
static const char cert_text[] =
	"dir-key-certificate-version 3\n"
	"dir-address 127.0.0.1:15151\n"
	"fingerprint 08B14E4205D3CB4C8B0EC49B77757E31F7CA0988\n"
	"dir-key-published 2026-11-27 06:30:33\n"
	"dir-key-expires 2027-11-27 06:30:33\n"
	"dir-identity-key\n"
	"-----BEGIN RSA PUBLIC KEY-----\n"
	"MIIBigKCAYEA19GRtLvGBRwaTbp5zJXnwlulHo8RGBw6RbrKEbtxEvW3NuLTJ03p\n"
	"zyXzJcVF21VQ6Sr/nEMxr87RKtvd79MIAyLFtA0t1gSVMYrkZfcWmnB1W/hqWUUM\n"
	"SV3ZCsZ9lwGpr751X8E0plRnKDsATuWZQcWD4FKx4CsA2t/26fZmeF+TvqYUNE19\n"
	"5Cm5A0eXV/jP4AoZhNJdyryTVHWrLiO7R9M5udWDlV358t2rz9A3CF1BXbTdd3j1\n"
	"DtWVP8xqnDks3gLNShcThclkC18CB1qnpukVcGOmiKR82Irq+i9E8P60XidJn7Y0\n"
	"VEh6LKoZPgiOctWis9xQPvLpWjjKq0+Kfp1gSdgz2G9iTJbQnjiKJqKQZ3QhcG5l\n"
	"roxYnt2aeGyE4094x5TNSFzT0sIheoF61HR2S02sRe9Hpn+8zP079y64MiG5w86t\n"
	"EkrFa1fnG0RduIJce/6kSJrpfL2PuRzckqwxncU4I8GMF8y4qugjaAaPcUdEw8bp\n"
	"NGg+Fu4u+sCJAgMBAAE=\n"
	"-----END RSA PUBLIC KEY-----\n"
	"dir-signing-key\n"
	"-----BEGIN RSA PUBLIC KEY-----\n"
	"MIIBCgKCAQEA2EuxvKlPlgLJkue9/CoDIPB7ErT0hlnGGvmf/gSWkAWyWf75K2kj\n"
	"sIS8JnViK4XlvYlHZ11MW3DiOxY2JsGk6p3Wc2EVXhNS4CwdTCrtigyyhdu63j/M\n"
	"NJLGFfc9mf+YXWgyaeGTqWdC0Y9jIEbRQlh2Rhs5geXT3w+JJiIy/p9K6qYcc+/U\n"
	"hKhgVNHjlpNVJN+nv/s9kr9qhKv1juvaZN6552HOyJ7Vk5+lyMtz6Ak+mDdhPLjM\n"
	"tl6GH3qyavI7Rdw2tCnLM0y8UTT4EQYQe5XqyRd0K2fexViS2ZP5+ULFiNFuCN5q\n"
	"jHWt/zeRLRSRQYjKCrsNC72MBRdrZgoeIwIDAQAB\n"
	"-----END RSA PUBLIC KEY-----\n"
	"dir-key-crosscert\n"
	"-----BEGIN ID SIGNATURE-----\n"
	"ruEGU/w4tYurxbogIItJjzxj2CsftXi1kJWqqt58UUAckfG5v0MzvAuJG2tFv2XQ\n"
	"ZucEtnniGOjVCCchd6I7IFVj747eSViiK1oh9e6tvLx0LOdLHeUH7D6hlAMN18oQ\n"
	"vySZZKtisaaMUH+UgCgibyjP8vJbAOvwB4HAKOC5MdMW6DrAW/Tmag2IUKPUhuz1\n"
	"pyFdykxCCvxItSVDH3mhnFppq8gyBrnePLceoi6SFC7NPhmfLgZ7F65diAUeq0pU\n"
	"qCIsyAjGV0uZIgPLbF72u80FNyrG0Afid2C0hBzeoEdOPcKMoGSyFKt5mtjDA11V\n"
	"b5i/sqzYzLNIp7JI2RZyjQ==\n"
	"-----END ID SIGNATURE-----\n"
	"dir-key-certification\n"
	"-----BEGIN SIGNATURE-----\n"
	"OC0X3ojFoREHZcoUnCFfHtjYdh9uAYPT3GMgbcu5ckRC3BGO3lsIjzHDxmJ0Np/S\n"
	"6Xh+7EzTbBkRac4CVAWCz+/F6c/RNvtVnX1pvD7HJuGHcB10Vse9wvILSpaEMh/P\n"
	"Apo0UnrYGkwwX5HiOLFlp0dbQwNsGzmIHkgtbdzZGnUA61ck1enIx2Cy3hDTVbWn\n"
	"ze7MDpKAU3owoEfkvJk5OKFqXQ2dA968MBsTJxv3YR2ktB4V59+OusFpQh4bh/db\n"
	"lq7b4teire4EPQvhwBoRu/DQgamJQh/uVasAQ/zOg72SeguK7RwV8m8OoLTwQASM\n"
	"ZQldASRX/SV3BxjrBRW97V9LgdPD7+f5Y7N3xzRdI0mWts1i+5z06NPyMy1tRY2d\n"
	"UliGZ2Mloa533/VlSNEzM8REbvxSBA4fcQV0+tRc49Aq4P1fvjfX0ofH1QWDqEVT\n"
	"6ZgzP7pmDlmcgo/U5tLMX7hAnomnsa/WSf6fH9zBBg3/wLlXG9PTUrjq34X5LsID\n"
	"-----END SIGNATURE-----\n"
;

static struct tk_authcert cert;
static int have_cert;
static uint8_t auths[3][20];

static void setup(void)
{
	static const char *const hex[3] = {
		"66073B891425BB39A2A7BA4251D709847F0A1B53",
		"08B14E4205D3CB4C8B0EC49B77757E31F7CA0988",
		"CA111EE2381B4354040663C695A6B7030E874F3D",
	};
	char err[TK_NETDOC_ERRLEN];
	size_t used;
	tk_crypto_init();
	for (int i = 0; i < 3; i++) {
		struct tk_netdoc_span s = {hex[i], 40};
		tk_netdoc_hex_exact(s, auths[i], 20);
	}
	tk_authcert_init(&cert);
	have_cert = tk_authcert_parse(cert_text, sizeof cert_text - 1, &used,
				      &cert, err, sizeof err) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	struct tk_consensus *c;
	char err[1024];

	if (!inited) {
		setup();
		inited = 1;
	}
	if (tk_consensus_parse((const char *)data, size, &c, err,
			       sizeof err) < 0)
		return 0;
	tk_consensus_verify(c, (const uint8_t(*)[20])auths, 3, &cert,
			    have_cert ? 1 : 0, c->valid_after, 60, err,
			    sizeof err);
	struct tk_cert_ref miss[4];
	tk_consensus_missing_certs(c, (const uint8_t(*)[20])auths, 3, &cert,
				   have_cert ? 1 : 0, miss, 4);
	tk_consensus_param(c, "circwindow", 1000, 100, 1000);
	tk_consensus_weight(c, "Wgg", 10000);
	for (size_t i = 0; i < c->n_routers; i++) {
		const struct tk_router *r = &c->routers[i];
		if (tk_consensus_router_by_id(c, r->rsa_id) != r)
			__builtin_trap();	/* ids are unique and sorted */
		const struct tk_router *m =
			tk_consensus_router_by_md(c, r->md_digest);
		if (!m || memcmp(m->md_digest, r->md_digest, 32) != 0)
			__builtin_trap();
	}
	{
		char missing[128], hex[65];
		if (c->required_client_text)
			tk_protover_all_supported(c->required_client_text,
						  TK_PROTOVER_CLIENT, missing,
						  sizeof missing);
		if (c->recommended_client_text)
			tk_protover_all_supported(c->recommended_client_text,
						  TK_PROTOVER_CLIENT, missing,
						  sizeof missing);
		if (c->signed_len > size)
			__builtin_trap();
		tk_consdiff_digest_hex((const char *)data, c->signed_len, hex);
	}
	static const uint8_t nothing[32];
	tk_consensus_match_md(c, nothing, err, sizeof err);
	tk_consensus_free(c);
	return 0;
}
