/* Onion addresses, key blinding and subcredentials.
 *
 * Vectors (data only): C tor's hs_build_address.py / test_hs_common.c
 * test_build_address (the RFC 8032 key d75a98... -> 25njqamc...sid); the
 * three example addresses of rend-spec-v3 §6; arti tor-hscrypto pk.rs
 * hsid_strings (edits that break the version and the checksum) and
 * key_blinding_testvec (generated with C tor: identity 833990b0..., period
 * 1234 of one day, its blinding factor, blinded key, subcredential and
 * blinded secret key); arti tor-netdoc hsdesc.rs test_data (service
 * paozpdhg...oad = 781d978c..., period 19397, blinded key 70662875...,
 * subcredential 24a133e9...); C tor's ed25519_vectors.inc blinded keys
 * (hs_blind_vectors.inc). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/hs_blind_vectors.inc"
#include "../unit/hs_testsvc.h"
#include "../unit/tap.h"
#include "common/util.h"
#include "onion/base/crypto.h"
#include "onion/hs/hs_addr.h"
#include "onion/hs/hs_keys.h"
#include "onion/hs/hs_period.h"

static const uint8_t *
unhex(const char *hex)
{
	static uint8_t buf[8][128];
	static int next;
	uint8_t *b = buf[next++ % 8];
	tap_unhex(hex, b, 128);
	return b;
}

static const char TOR_ADDR[] =
	"25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkenl5sid";
static const char TOR_KEY[] =
	"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

static void
test_address(void)
{
	static const char *const spec_examples[] = {
		"pg6mmjiyjmcrsslvykfwnntlaru7p5svn6y2ymmju6nubxndf4pscryd",
		"sp3k262uwy4r2k3ycr5awluarykdpag6a7y33jxop4cs2lu5uz5sseqd",
		"xa4r2iadxm55fbnqgwwi5mymqdcofiu3w6rpbtqn7b2dyn7mgwj64jyd",
	};
	char addr[TK_HS_ADDR_LEN + 1], edited[TK_HS_ADDR_LEN + 1];
	uint8_t id[32];

	tk_hs_addr_encode(unhex(TOR_KEY), addr);
	tap_eq_str(addr, TOR_ADDR, "address of d75a98... (tor's vector)");
	tap_eq_long(tk_hs_addr_decode(TOR_ADDR, 56, id), TK_HS_ADDR_OK,
		    "tor's vector decodes");
	tap_eq_bytes(id, 32, unhex(TOR_KEY), 32, "to its key");
	for (size_t i = 0; i < 3; i++) {
		tap_eq_long(tk_hs_addr_decode(spec_examples[i], 56, id),
			    TK_HS_ADDR_OK, "rend-spec example %zu decodes", i);
		tk_hs_addr_encode(id, addr);
		tap_eq_str(addr, spec_examples[i], "and encodes back");
	}
	tap_eq_long(tk_hs_addr_decode("paozpdhgz2okvc6kgbxvh2bnfsmt4xergrtcl4ob"
				      "khopyvwxkpjzvoad",
				      56, id),
		    TK_HS_ADDR_OK, "arti's hsdesc2 service address decodes");
	tap_eq_bytes(id, 32,
		     unhex("781D978CE6CE9CAA8BCA306F53E82D2C993E5C91346625F1C151DCFC56D753D3"),
		     32, "to arti's TEST_HSID_2");

	/* arti hsid_strings: edits at 55 and 53. */
	memcpy(edited, TOR_ADDR, sizeof edited);
	edited[55] = 'e';
	tap_eq_long(tk_hs_addr_decode(edited, 56, id), TK_HS_ADDR_EVERSION,
		    "last character edited: version 4 (arti's vector)");
	memcpy(edited, TOR_ADDR, sizeof edited);
	edited[53] = 'x';
	tap_eq_long(tk_hs_addr_decode(edited, 56, id), TK_HS_ADDR_ECHECKSUM,
		    "character 53 edited: bad checksum (arti's vector)");
	memcpy(edited, TOR_ADDR, sizeof edited);
	edited[10] = '1';
	tap_eq_long(tk_hs_addr_decode(edited, 56, id), TK_HS_ADDR_EBASE32,
		    "a '1': not base32");
	tap_eq_long(tk_hs_addr_decode(TOR_ADDR, 55, id), TK_HS_ADDR_ELEN,
		    "55 characters: bad length");
	tap_eq_long(tk_hs_addr_decode("aaaaaaaa", 8, id), TK_HS_ADDR_ELEN,
		    "aaaaaaaa: bad length (arti's vector)");
	memcpy(edited, TOR_ADDR, sizeof edited);
	edited[0] = 'a';
	tap_ok(tk_hs_addr_decode(edited, 56, id) < 0,
	       "first character edited: refused");
	for (size_t i = 0; i < 56; i++)
		edited[i] = (char)(TOR_ADDR[i] >= 'a' ? TOR_ADDR[i] - 'a' + 'A'
						     : TOR_ADDR[i]);
	tap_eq_long(tk_hs_addr_decode(edited, 56, id), TK_HS_ADDR_OK,
		    "upper case decodes");
	for (size_t i = 0; i < 56; i++)
		edited[i] = (char)(TOR_ADDR[i] >= 'a' && i % 2
					   ? TOR_ADDR[i] - 'a' + 'A'
					   : TOR_ADDR[i]);
	tap_eq_long(tk_hs_addr_decode(edited, 56, id), TK_HS_ADDR_OK,
		    "mixed case decodes (arti's weird_case)");

	/* A key with a torsion component, with a correct checksum. */
	{
		uint8_t order4[32] = { 0 }, tors[32];
		crypto_core_ed25519_add(tors, unhex(TOR_KEY), order4);
		tk_hs_addr_encode(tors, addr);
		tap_eq_long(tk_hs_addr_decode(addr, 56, id), TK_HS_ADDR_EKEY,
			    "key with torsion, right checksum: bad key");
	}
}

static int
host(const char *h, uint8_t id[32])
{
	return tk_hs_host_parse(h, strlen(h), id);
}

static void
test_host(void)
{
	char h[200];
	uint8_t id[32];
	tap_eq_long(host("example.com", id), 0, "example.com: no onion");
	tap_eq_long(host("onion.example", id), 0, "onion.example: no onion");
	tap_eq_long(host("onion", id), TK_HS_ADDR_ESYNTAX,
		    "\"onion\" alone: bad onion name");
	tap_eq_long(host(".onion", id), TK_HS_ADDR_ESYNTAX,
		    ".onion: bad onion name");
	tap_eq_long(host("x.onion", id), TK_HS_ADDR_ELEN,
		    "x.onion: bad length (a v2-style or junk name)");
	tap_eq_long(host("expyuzz4wqqyqhjn.onion", id), TK_HS_ADDR_ELEN,
		    "a 16-character v2 address is refused");
	snprintf(h, sizeof h, "%s.onion", TOR_ADDR);
	tap_eq_long(host(h, id), 1, "<addr>.onion");
	tap_eq_bytes(id, 32, unhex(TOR_KEY), 32, "gives the key");
	snprintf(h, sizeof h, "www.%s.onion", TOR_ADDR);
	tap_eq_long(host(h, id), 1, "www.<addr>.onion: the service's (Tor)");
	snprintf(h, sizeof h, "a.b.%s.onion.", TOR_ADDR);
	tap_eq_long(host(h, id), 1, "a.b.<addr>.onion. (trailing dot)");
	snprintf(h, sizeof h, "%s.ONION", TOR_ADDR);
	tap_eq_long(host(h, id), 1, "<addr>.ONION");
	snprintf(h, sizeof h, "%s.onion", TOR_ADDR);
	h[53] = 'x';
	tap_eq_long(host(h, id), TK_HS_ADDR_ECHECKSUM,
		    "bad checksum in a host name");
	snprintf(h, sizeof h, "www..onion");
	tap_eq_long(host(h, id), TK_HS_ADDR_ESYNTAX,
		    "empty label before .onion");
	tap_ok(strcmp(tk_hs_addr_strerror(TK_HS_ADDR_ECHECKSUM),
		      tk_hs_addr_strerror(TK_HS_ADDR_EVERSION)) != 0,
	       "errors have distinct messages");
}

static void
test_blinding(void)
{
	uint8_t out[32], h[32];
	struct tk_hs_keys keys;
	int all = 1;

	for (size_t i = 0; i < ARRAY_SIZE(ed_pub); i++) {
		uint8_t pub[32], param[32], want[32];
		tap_unhex(ed_pub[i], pub, 32);
		tap_unhex(ed_param[i], param, 32);
		tap_unhex(ed_blinded_pub[i], want, 32);
		all &= tk_hs_blind_pub(pub, param, out) == 0 &&
		       memcmp(out, want, 32) == 0;
	}
	tap_ok(all, "tor's ed25519_vectors.inc: %zu blinded public keys",
	       ARRAY_SIZE(ed_pub));

	/* arti key_blinding_testvec (C tor values). */
	{
		const uint8_t *id = unhex("833990B085C1A688C1D4C8B1F6B56AFAF5A2ECA674449E1D704F83765CCB7BC6");
		uint64_t tp = tk_hs_period_num(106710633, 1440, 12 * 3600);
		tap_eq_long((long)tp, 1234,
			    "1973-05-20T01:50:33Z is in period 1234");
		tk_hs_blind_factor(id, tp, 1440, h);
		tap_eq_bytes(h, 32,
			     unhex("379E50DB31FEE6775ABD0AF6FB7C371E060308F4F847DB09FE4CFE13AF602287"),
			     32, "blinding factor (C tor via arti)");
		tap_ok(tk_hs_keys_derive(id, tp, 1440, &keys) == 0,
		       "keys derived");
		tap_eq_bytes(keys.blinded, 32,
			     unhex("3A50BF210E8F9EE955AE0014F7A6917FB65EBF098A86305ABB508D1A7291B6D5"),
			     32, "blinded key (C tor via arti)");
		tap_eq_bytes(keys.subcred, 32,
			     unhex("635D55907816E8D76398A675A50B1C2F3E36B42A5CA77BA3A0441285161AE07D"),
			     32, "subcredential (C tor via arti)");
	}
	/* arti hsdesc2's service in period 19397. */
	{
		const uint8_t *id = unhex("781D978CE6CE9CAA8BCA306F53E82D2C993E5C91346625F1C151DCFC56D753D3");
		uint64_t tp = tk_hs_period_num(1675944000, 1440, 12 * 3600);
		tap_eq_long((long)tp, 19397, "2023-02-09T12:00Z: period 19397");
		tk_hs_keys_derive(id, tp, 1440, &keys);
		tap_eq_bytes(keys.blinded, 32,
			     unhex("706628758208395D461AA0F460A5E76E7B828C66B5E794768592B451302E961D"),
			     32, "hsdesc2's blinded key (arti)");
		tap_eq_bytes(keys.subcred, 32,
			     unhex("24A133E905102BDA9A6AFE57F901366A1B8281865A91F1FE0853E4B50CC8B070"),
			     32, "hsdesc2's subcredential (arti)");
	}
	{
		uint8_t bad[32] = { 0 };
		tap_ok(tk_hs_keys_derive(bad, 1, 1440, &keys) < 0,
		       "a small-order identity cannot be blinded");
	}
}

/* The test service's secret-key blinding must agree with the vectors
 * too, or descriptors built in other tests would prove nothing. */
static void
test_testsvc_blinding(void)
{
	int all = 1;
	for (size_t i = 0; i < ARRAY_SIZE(ed_esk); i++) {
		uint8_t esk[64], param[32], want[64], pub[32];
		struct tsvc_key k, b;
		tap_unhex(ed_esk[i], esk, 64);
		tap_unhex(ed_param[i], param, 32);
		tap_unhex(ed_blinded_esk[i], want, 64);
		tap_unhex(ed_blinded_pub[i], pub, 32);
		tsvc_key_from_esk(esk, &k);
		tsvc_key_blind(&k, param, &b);
		all &= memcmp(b.esk, want, 64) == 0 &&
		       memcmp(b.pub, pub, 32) == 0;
	}
	tap_ok(all, "test service: tor's %zu blinded secret keys",
	       ARRAY_SIZE(ed_esk));
	{
		struct tsvc_key k, b;
		uint8_t esk[64], h[32], sig[64];
		memcpy(esk,
		       unhex("D8C7FF0E31295B66540D789AF3E3DF992038A9592EEA01D8B7CBA06D6E66D159"),
		       32);
		memcpy(esk + 32,
		       unhex("4D6167696320576F7264733A20737065697373636F62616C742062697669756D"),
		       32);
		tsvc_key_from_esk(esk, &k);
		tap_eq_bytes(k.pub, 32,
			     unhex("833990B085C1A688C1D4C8B1F6B56AFAF5A2ECA674449E1D704F83765CCB7BC6"),
			     32, "test service: arti's identity secret key");
		tk_hs_blind_factor(k.pub, 1234, 1440, h);
		tsvc_key_blind(&k, h, &b);
		tap_eq_bytes(b.esk, 32,
			     unhex("A958DC83AC885F6814C67035DE817A2C604D5D2F715282079448F789B656350B"),
			     32, "test service: blinded secret (C tor via arti)");
		tap_eq_bytes(b.esk + 32, 32,
			     unhex("4540FE1F80AA3F7E91306B7BF7A8E367293352B14A29FDCC8C19F3558075524B"),
			     32, "test service: blinded prefix (C tor via arti)");
		tsvc_sign(&b, "msg", 3, sig);
		tap_ok(tk_ed25519_verify(sig, (const uint8_t *)"msg", 3,
					 b.pub) == 0,
		       "a signature by the blinded key verifies");
	}
}

int
main(void)
{
	if (tk_crypto_init() < 0)
		return 1;
	test_address();
	test_host();
	test_blinding();
	test_testsvc_blinding();
	return tap_done();
}
