/* Directory documents saved from a real tor 0.4.9.11 test network
 * (tests/data/netdoc, see its README), and tampered copies of them: every
 * tampering must be rejected with a reason that names what failed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/tap.h"
#include "netdoc_testutil.h"
#include "onion/netdoc/authcert.h"
#include "onion/netdoc/consensus.h"
#include "onion/base/crypto.h"
#include "onion/netdoc/microdesc.h"
#include "onion/netdoc/netdoc.h"

static struct tk_authcert certs[8];
static size_t n_certs;
static uint8_t auths[3][20];

static int contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle)) {
		tap_diag("  \"%s\" does not mention \"%s\"", hay, needle);
		return 0;
	}
	return 1;
}

static void test_certs(void)
{
	char err[TK_NETDOC_ERRLEN];
	struct tk_authcert bad[4];

	n_certs = nd_load_certs("authority-certs.txt", certs, 8, err,
				sizeof err);
	tap_eq_long((long)n_certs, 3, "all three sample certificates verify");
	if (err[0])
		tap_diag("first error: %s", err);
	int found = 0;
	for (size_t i = 0; i < n_certs; i++)
		for (int a = 0; a < 3; a++)
			found += memcmp(certs[i].fingerprint, auths[a], 20) == 0;
	tap_eq_long(found, 3, "their fingerprints are the configured v3idents");
	tap_ok(n_certs > 0 && tk_authcert_current(&certs[0], ND_NOW),
	       "certificate is current at the sample time");
	tap_ok(n_certs > 0 && !tk_authcert_current(&certs[0],
						   certs[0].expires + 1),
	       "certificate is not current after dir-key-expires");
	tap_ok(n_certs > 0 && tk_rsa_pub_bits(&certs[0].signing_key) == 2048,
	       "signing key is the 2048-bit key of the certificate");

	size_t n = nd_load_certs("authority-certs-badcert.txt", bad, 4, err,
				 sizeof err);
	tap_eq_long((long)n, 2, "a certificate with an edited field is dropped,"
		    " the others kept");
	tap_ok(contains(err, "dir-key-certification does not verify"),
	       "reason names the certification signature");
	for (size_t i = 0; i < n; i++)
		tk_authcert_free(&bad[i]);

	n = nd_load_certs("authority-certs-badcross.txt", bad, 4, err,
			  sizeof err);
	tap_eq_long((long)n, 2, "a certificate with a corrupt crosscert is "
		    "dropped");
	tap_ok(contains(err, "dir-key-crosscert"),
	       "reason names the cross-certificate");
	for (size_t i = 0; i < n; i++)
		tk_authcert_free(&bad[i]);

	/* Fingerprint line that is not the identity key's digest. */
	size_t len;
	char *t = nd_load("authority-certs.txt", &len);
	char *fp = strstr(t, "fingerprint 66073B89");
	fp[12] = '7';
	struct tk_authcert c;
	size_t used;
	tk_authcert_init(&c);
	tap_ok(tk_authcert_parse(t, len, &used, &c, err, sizeof err) < 0 &&
		       contains(err, "not the digest of its dir-identity-key"),
	       "fingerprint not matching the identity key is rejected");
	/* Truncated in the middle of the certification object. */
	char *cert2 = strstr(t + 1, "dir-key-certificate-version");
	size_t cut = (size_t)(cert2 - t) - 40;
	tap_ok(tk_authcert_parse(t, cut, &used, &c, err, sizeof err) < 0 &&
		       contains(err, "not terminated"),
	       "certificate truncated inside its signature object: %s", err);
	tk_authcert_free(&c);
	free(t);
}

static struct tk_consensus *load_consensus(const char *name, char *err,
					   size_t errlen)
{
	size_t len;
	char *doc = nd_load(name, &len);
	struct tk_consensus *c = NULL;
	if (tk_consensus_parse(doc, len, &c, err, errlen) < 0)
		c = NULL;
	free(doc);
	return c;
}

static int verify(const struct tk_consensus *c, int64_t now, char *err,
		  size_t errlen)
{
	return tk_consensus_verify(c, (const uint8_t(*)[20])auths, 3, certs,
				   n_certs, now, 60, err, errlen);
}

static void test_consensus(void)
{
	char err[2048];
	struct tk_consensus *c = load_consensus("consensus-microdesc.txt", err,
						sizeof err);
	if (!tap_ok(c != NULL, "sample microdesc consensus parses")) {
		tap_diag("%s", err);
		return;
	}
	tap_eq_long(c->consensus_method, 35, "consensus-method");
	tap_eq_long((long)(c->valid_until - c->valid_after), 40,
		    "valid-after .. valid-until is 40 s");
	tap_eq_long(c->vote_delay, 4, "voting-delay");
	tap_eq_long((long)c->n_routers, 7, "seven routers");
	tap_eq_long((long)c->n_sources, 3, "three dir-sources");
	tap_eq_long((long)c->n_sigs, 3, "three signatures");
	tap_ok(c->sigs[0].alg == TK_SIG_SHA256, "signatures are sha256");
	tap_eq_long(tk_consensus_weight(c, "Wgg", -1), 5004, "Wgg");
	tap_eq_long(tk_consensus_weight(c, "Wmd", -1), 0, "Wmd");
	tap_eq_long(tk_consensus_weight(c, "Wxx", 10000), 10000,
		    "missing weight gives the default");
	tap_eq_long((long)c->n_weights, 19, "19 bandwidth weights");
	tap_eq_long(tk_consensus_param(c, "circwindow", 1000, 100, 1000), 1000,
		    "absent param gives the default");
	tap_ok(tk_protoset_has(&c->required_client, TK_PROTO_RELAY, 2) &&
		       !tk_protoset_has(&c->required_client, TK_PROTO_RELAY, 3),
	       "required-client-protocols Relay=2");
	tap_ok(tk_protoset_has(&c->recommended_client, TK_PROTO_LINK, 5),
	       "recommended-client-protocols Link=4-5");

	struct tk_protoset ours = {{0}};
	char lack[32] = "";
	ours.v[TK_PROTO_CONS] = 1u << 2;
	ours.v[TK_PROTO_DESC] = 1u << 2;
	ours.v[TK_PROTO_FLOWCTRL] = 1u << 1;
	ours.v[TK_PROTO_LINK] = 1u << 4 | 1u << 5;
	ours.v[TK_PROTO_MICRODESC] = 1u << 2;
	ours.v[TK_PROTO_RELAY] = 1u << 2;
	tap_ok(tk_protoset_covers(&ours, &c->required_client, lack,
				  sizeof lack),
	       "our protocols cover required-client-protocols");
	ours.v[TK_PROTO_RELAY] = 1u << 1;
	tap_ok(!tk_protoset_covers(&ours, &c->required_client, lack,
				   sizeof lack) &&
		       strcmp(lack, "Relay=2") == 0,
	       "a missing required protocol is named: %s", lack);

	/* dir-spec §5.1 example: VA 1:00 FU 2:00 VU 4:00 -> from 2:45 for
	 * 7/8 of the remaining 75 minutes (65.6 min; the spec says "65"). */
	struct tk_consensus t = *c;
	t.valid_after = 3600;
	t.fresh_until = 7200;
	t.valid_until = 14400;
	int64_t lo = INT64_MAX, hi = 0;
	for (uint64_t k = 0; k < 100000; k += 7) {
		int64_t when = tk_consensus_refetch_time(&t, k * 2654435761u);
		lo = when < lo ? when : lo;
		hi = when > hi ? when : hi;
	}
	tap_ok(lo == 2 * 3600 + 45 * 60 && hi == 2 * 3600 + 45 * 60 + 3937 - 1,
	       "refetch time within 2:45 .. 3:50:37 (got %lld .. %lld)",
	       (long long)lo, (long long)hi);
	int64_t when = tk_consensus_refetch_time(c, 12345);
	tap_ok(when >= c->fresh_until && when < c->valid_until,
	       "sample consensus: refetch between fresh-until and "
	       "valid-until (+%lld s)", (long long)(when - c->valid_after));

	const struct tk_router *r = &c->routers[0];
	tap_eq_str(r->nickname, "tnexit0", "first router is tnexit0");
	tap_eq_long((long)r->ipv4, 0x7f000001, "its address is 127.0.0.1");
	tap_eq_long(r->or_port, 15105, "its ORPort");
	tap_eq_long(r->dir_port, 0, "no DirPort");
	tap_eq_long(r->bandwidth, 94, "Bandwidth=94");
	tap_ok(r->bw_unmeasured, "Unmeasured=1");
	tap_ok((r->flags & (TK_RF_EXIT | TK_RF_GUARD | TK_RF_RUNNING |
			    TK_RF_VALID | TK_RF_FAST | TK_RF_V2DIR)) ==
			   (TK_RF_EXIT | TK_RF_GUARD | TK_RF_RUNNING |
			    TK_RF_VALID | TK_RF_FAST | TK_RF_V2DIR) &&
		       !(r->flags & TK_RF_AUTHORITY),
	       "flags of tnexit0");
	tap_ok(tk_protoset_has(r->protos, TK_PROTO_RELAY, 6) &&
		       tk_protoset_has(r->protos, TK_PROTO_LINK, 3) &&
		       !tk_protoset_has(r->protos, TK_PROTO_LINK, 2),
	       "pr Relay=2-6 Link=3-5");
	uint8_t id[20];
	struct tk_netdoc_span hex = {"1E0D83A7D1FFB0347D898D17FC520F65474FE950",
				     40};
	tk_netdoc_hex_exact(hex, id, 20);
	const struct tk_router *a0 = tk_consensus_router_by_id(c, id);
	tap_ok(a0 && strcmp(a0->nickname, "tnauth0") == 0 &&
		       (a0->flags & TK_RF_AUTHORITY) && a0->dir_port == 15150,
	       "router_by_id finds tnauth0 by its RSA identity");
	tap_ok(tk_consensus_router_by_md(c, c->routers[5].md_digest) ==
		       &c->routers[5],
	       "router_by_md finds a router by its m digest");

	int vrc = verify(c, ND_NOW, err, sizeof err);
	tap_eq_long(vrc, 0, "signatures of all three authorities verify");
	if (vrc < 0) /* err is written only on failure */
		tap_diag("%s", err);
	tap_eq_long(verify(c, c->valid_until, err, sizeof err), 0,
		    "still valid at valid-until");
	tap_ok(verify(c, c->valid_until + 1, err, sizeof err) < 0 &&
		       contains(err, "expired") &&
		       contains(err, "valid-until 2026-11-27 06:33:40"),
	       "expired one second after valid-until: %s", err);
	tap_ok(verify(c, c->valid_after - 61, err, sizeof err) < 0 &&
		       contains(err, "not yet valid"),
	       "rejected before valid-after minus the allowed skew");

	/* Two certificates missing: only one authority's signature can be
	 * checked, which is not more than half of three. */
	tap_ok(tk_consensus_verify(c, (const uint8_t(*)[20])auths, 3, certs, 1,
				   ND_NOW, 60, err, sizeof err) < 0 &&
		       contains(err, "1 of 3") &&
		       contains(err, "no certificate"),
	       "too few certificates: %s", err);
	/* A certificate past its dir-key-expires no longer vouches. */
	int64_t saved = certs[1].expires;
	certs[1].expires = ND_NOW - 1;
	certs[2].expires = ND_NOW - 1;
	tap_ok(verify(c, ND_NOW, err, sizeof err) < 0 &&
		       contains(err, "1 of 3") &&
		       contains(err, "key certificate is expired"),
	       "expired authority certificates: %s", err);
	certs[1].expires = certs[2].expires = saved;

	struct tk_cert_ref miss[4];
	size_t nm = tk_consensus_missing_certs(c, (const uint8_t(*)[20])auths,
					       3, certs, 1, miss, 4);
	tap_eq_long((long)nm, 2, "two certificates reported missing");
	tap_eq_long((long)tk_consensus_missing_certs(
			    c, (const uint8_t(*)[20])auths, 3, certs, n_certs,
			    miss, 4),
		    0, "none missing with all certificates");

	/* Authorities that did not sign it. */
	uint8_t others[2][20];
	memset(others, 0x11, sizeof others);
	others[1][0] = 0x22;
	tap_ok(tk_consensus_verify(c, (const uint8_t(*)[20])others, 2, certs,
				   n_certs, ND_NOW, 60, err, sizeof err) < 0 &&
		       contains(err, "0 of 2") && contains(err, "no signature"),
	       "signed by none of the configured authorities: %s", err);
	/* Four configured, three signed: 3 > 4/2. Five configured: 3 > 5/2.
	 * Six: 3 is not more than half. */
	uint8_t six[6][20];
	memcpy(six, auths, sizeof auths);
	memset(six[3], 0x33, 60);
	six[4][0] = 0x44;
	six[5][0] = 0x55;
	tap_eq_long(tk_consensus_verify(c, (const uint8_t(*)[20])six, 5, certs,
					n_certs, ND_NOW, 60, err, sizeof err),
		    0, "3 of 5 configured authorities is a majority");
	tap_ok(tk_consensus_verify(c, (const uint8_t(*)[20])six, 6, certs,
				   n_certs, ND_NOW, 60, err, sizeof err) < 0 &&
		       contains(err, "3 of 6") && contains(err, "need 4"),
	       "3 of 6 is not: %s", err);
	/* The same authority configured twice counts once. */
	uint8_t dup[4][20];
	memcpy(dup, auths, 20);
	memcpy(dup[1], auths, 20);
	memcpy(dup[2], six[3], 20);
	memcpy(dup[3], six[4], 20);
	tap_ok(tk_consensus_verify(c, (const uint8_t(*)[20])dup, 4, certs,
				   n_certs, ND_NOW, 60, err, sizeof err) < 0 &&
		       contains(err, "1 of 3"),
	       "a duplicated authority is counted once: %s", err);
	tk_consensus_free(c);

	c = load_consensus("consensus-tampered-body.txt", err, sizeof err);
	tap_ok(c && verify(c, ND_NOW, err, sizeof err) < 0 &&
		       contains(err, "0 of 3") &&
		       contains(err, "signature does not verify") &&
		       contains(err, "tnauth1"),
	       "edited router entry: every signature fails: %s", err);
	tk_consensus_free(c);

	c = load_consensus("consensus-badsig1.txt", err, sizeof err);
	tap_ok(c && verify(c, ND_NOW, err, sizeof err) == 0,
	       "one corrupt signature of three is tolerated");
	tk_consensus_free(c);

	c = load_consensus("consensus-badsig2.txt", err, sizeof err);
	tap_ok(c && verify(c, ND_NOW, err, sizeof err) < 0 &&
		       contains(err, "1 of 3") &&
		       contains(err, "08B14E42 (tnauth1): signature does not "
				     "verify"),
	       "two corrupt signatures: %s", err);
	tk_consensus_free(c);

	c = load_consensus("consensus-onesig.txt", err, sizeof err);
	tap_ok(c && verify(c, ND_NOW, err, sizeof err) < 0 &&
		       contains(err, "1 of 3") &&
		       contains(err, "66073B89 (tnauth0): no signature"),
	       "only one signature: %s", err);
	tk_consensus_free(c);

	c = load_consensus("consensus-truncated.txt", err, sizeof err);
	tap_ok(!c && contains(err, "SIGNATURE") &&
		       contains(err, "not terminated"),
	       "truncated inside a signature object: %s", err);
	tk_consensus_free(c);

	/* Hand-edited: params, "a" lines, a legacy dir-source, unknown
	 * keywords. Parses; its signatures no longer match, of course. */
	c = load_consensus("consensus-extra.txt", err, sizeof err);
	if (tap_ok(c != NULL, "consensus with params, a lines and unknown "
		   "items parses")) {
		tap_eq_long(tk_consensus_param(c, "circwindow", 1000, 100, 1000),
			    800, "params circwindow=800");
		tap_eq_long(tk_consensus_param(c, "neg", 0, -10, 10), -5,
			    "negative param");
		tap_eq_long(tk_consensus_param(c, "circwindow", 1000, 900,
					       1000),
			    900, "param clamped to the minimum");
		tap_eq_long((long)c->n_sources, 3, "legacy dir-source not "
			    "counted");
		uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [13] = 1, [15] = 2};
		tap_ok(c->routers[0].has_ipv6 &&
			       memcmp(c->routers[0].ipv6, v6, 16) == 0 &&
			       c->routers[0].ipv6_port == 9001,
		       "first a line: [2001:db8::1:2]:9001");
		tap_ok(!c->routers[1].has_ipv6, "others have no IPv6");
		tap_ok(verify(c, ND_NOW, err, sizeof err) < 0 &&
			       contains(err, "0 of 3"),
		       "edited consensus fails its signatures");
	} else {
		tap_diag("%s", err);
	}
	tk_consensus_free(c);

	c = load_consensus("consensus-ns.txt", err, sizeof err);
	tap_ok(!c && contains(err, "not a microdesc-flavoured consensus"),
	       "ns flavour is refused: %s", err);
	tk_consensus_free(c);
}

static void test_microdescs(void)
{
	char err[2048];
	struct tk_consensus *c = load_consensus("consensus-microdesc.txt", err,
						sizeof err);
	size_t len, pos = 0, n = 0, matched = 0, exits = 0, ed = 0, tap = 0;
	char *body = nd_load("microdescs.txt", &len);
	struct tk_microdesc md;
	const char *text;
	size_t textlen;
	int r;

	tk_microdesc_init(&md);
	while ((r = tk_microdesc_next(body, len, &pos, &md, &text, &textlen,
				      err, sizeof err)) != 0) {
		n++;
		if (r < 0) {
			tap_diag("microdesc %zu: %s", n, err);
			continue;
		}
		uint8_t dg[32];
		tk_microdesc_digest(text, textlen, dg);
		const struct tk_router *rt =
			c ? tk_consensus_router_by_md(c, dg) : NULL;
		matched += rt != NULL;
		ed += md.has_ed25519;
		tap += md.has_tap_key;
		if (rt && (rt->flags & TK_RF_EXIT)) {
			exits++;
			tap_ok(tk_policy_summary_allows(&md.p, 80) &&
				       tk_policy_summary_allows(&md.p, 65535),
			       "%s: p accept 1-65535", rt->nickname);
		} else if (rt) {
			tap_ok(tk_policy_summary_rejects_all(&md.p),
			       "%s: no p line means reject all", rt->nickname);
		}
		tap_ok(text[0] == 'o' && text[textlen - 1] == '\n',
		       "microdescriptor text starts at onion-key, ends at a "
		       "newline");
	}
	tap_eq_long((long)n, 7, "seven microdescriptors in the cache file");
	tap_eq_long((long)matched, 7, "each digest is an m line of the "
		    "consensus");
	tap_eq_long((long)exits, 2, "two of them are exits");
	tap_eq_long((long)ed, 7, "each has an ed25519 id");
	tap_eq_long((long)tap, 7, "each still carries a TAP onion key");
	free(body);

	/* Tampered: one key edited, so its digest matches no m line. */
	body = nd_load("microdescs-tampered.txt", &len);
	pos = 0;
	n = matched = 0;
	char why[TK_NETDOC_ERRLEN] = "";
	while ((r = tk_microdesc_next(body, len, &pos, &md, &text, &textlen,
				      err, sizeof err)) != 0) {
		uint8_t dg[32];
		n++;
		tk_microdesc_digest(text, textlen, dg);
		if (r > 0 && c && tk_consensus_match_md(c, dg, why, sizeof why))
			matched++;
	}
	tap_ok(n == 7 && matched == 6 &&
		       contains(why, "listed by no m line"),
	       "tampered microdescriptor matches no m line: %s", why);
	free(body);

	/* The ntor key decodes to the bytes of its base64. */
	static const char one[] =
		"onion-key\n"
		"ntor-onion-key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
		"family $AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA "
		"$bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb=x somenick\n"
		"family-ids ed25519:abc rsa:def\n"
		"p reject 25,119,135-139,445\n"
		"p6 accept 80,443\n"
		"a [::1]:9001\n"
		"future-keyword with args\n";
	r = tk_microdesc_parse(one, sizeof one - 1, &md, err, sizeof err);
	tap_eq_long(r, 0, "hand-written microdescriptor without TAP key parses");
	uint8_t want[32];
	for (int i = 0; i < 32; i++)
		want[i] = (uint8_t)i;
	tap_eq_bytes(md.ntor_key, 32, want, 32, "ntor-onion-key bytes");
	tap_ok(!md.has_tap_key && !md.has_ed25519, "no TAP key, no ed25519 id");
	tap_eq_long((long)md.n_family, 2, "two $fingerprint family members "
		    "(nickname dropped)");
	tap_ok(md.n_family == 2 && md.family[1][0] == 0xbb,
	       "lower-case family fingerprint decoded");
	tap_ok(md.n_family_ids == 2 &&
		       strcmp(md.family_ids[0], "ed25519:abc") == 0,
	       "family-ids kept");
	tap_ok(!tk_policy_summary_allows(&md.p, 137) &&
		       tk_policy_summary_allows(&md.p, 80) &&
		       !tk_policy_summary_allows(&md.p, 25),
	       "p reject summary");
	tap_ok(tk_policy_summary_allows(&md.p6, 443) &&
		       !tk_policy_summary_allows(&md.p6, 22),
	       "p6 accept summary");
	{
		static const uint8_t lo[16] = {[15] = 1};
		tap_ok(md.ipv6_port == 9001 && memcmp(md.ipv6, lo, 16) == 0,
		       "a [::1]:9001 is the IPv6 ORPort");
	}
	uint8_t d[32], d2[32];
	tk_sha256(one, sizeof one - 1, d);
	tk_microdesc_digest(one, sizeof one - 1, d2);
	tap_ok(memcmp(d, d2, 32) == 0, "digest is SHA-256 of the text");

	struct {
		const char *text, *why;
	} bad[] = {
		{"onion-key\np accept 80\n", "no ntor-onion-key"},
		{"onion-key\nntor-onion-key AAAA\n", "32 bytes"},
		{"onion-key\nntor-onion-key "
		 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
		 "ntor-onion-key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
		 "second ntor-onion-key"},
		{"onion-key\nntor-onion-key "
		 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\np allow 80\n",
		 "accept or reject"},
		{"onion-key\nntor-onion-key "
		 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\np accept 0-80\n",
		 "port list"},
		{"onion-key\nntor-onion-key "
		 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
		 "family $ZZAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
		 "family member"},
		{"onion-key\n-----BEGIN RSA PUBLIC KEY-----\nAAAA\n",
		 "not terminated"},
		{"onion-key\nntor-onion-key "
		 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "newline"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = tk_microdesc_parse(bad[i].text, strlen(bad[i].text), &md,
				       err, sizeof err);
		tap_ok(r < 0 && contains(err, bad[i].why),
		       "bad microdescriptor %zu rejected: %s", i, err);
	}
	tk_microdesc_free(&md);
	tk_consensus_free(c);
}

/* "a" lines (dir-spec 3.3): the first IPv6 ORPort is kept; IPv4 ones and
 * unreadable ones are skipped, as tor's parser skips them; a line with
 * no address at all is malformed. */
static void test_microdesc_a_lines(void)
{
#define MD_HEAD "onion-key\nntor-onion-key " \
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n"
	static const struct {
		const char *lines;
		uint16_t port;
		uint8_t last; /* last byte of the address kept */
	} v[] = {
		{"", 0, 0},
		{"a [2001:db8::7]:443\n", 443, 7},
		{"a [2001:db8::7]:443\na [2001:db8::8]:9001\n", 443, 7},
		{"a 192.0.2.1:9001\na [2001:db8::8]:9001\n", 9001, 8},
		{"a [2001:db8::7]:0\na [2001:db8::8]:9001\n", 9001, 8},
		{"a [::]:9001\n", 0, 0},
		{"a [2001:db8::7]\n", 0, 0},
		{"a [2001:db8::7:9001\n", 0, 0},
		{"a [2001:db8:::7]:9001\n", 0, 0},
		{"a [2001:db8::7]:65536\n", 0, 0},
		{"a [2001:db8::7]:x\na [2001:db8::9]:1 extra\n", 1, 9},
	};
	struct tk_microdesc md;
	char err[TK_NETDOC_ERRLEN], text[512];
	tk_microdesc_init(&md);
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		int n = snprintf(text, sizeof text, MD_HEAD "%s", v[i].lines);
		int r = tk_microdesc_parse(text, (size_t)n, &md, err,
					   sizeof err);
		tap_ok(r == 0 && md.ipv6_port == v[i].port &&
		       md.ipv6[15] == v[i].last &&
		       (v[i].port == 0 ||
			(md.ipv6[0] == 0x20 && md.ipv6[1] == 0x01)),
		       "a lines %zu: port %u (%s)", i, md.ipv6_port,
		       r ? err : "parsed");
	}
	{
		int n = snprintf(text, sizeof text, MD_HEAD "a\n");
		int r = tk_microdesc_parse(text, (size_t)n, &md, err,
					   sizeof err);
		tap_ok(r < 0 && contains(err, "a needs an address"),
		       "an a line without an address is malformed: %s", err);
	}
	tk_microdesc_free(&md);
#undef MD_HEAD
}

/* Replaces the first `from` in text (a malloc'ed copy) with `to`. */
static char *edit(const char *text, size_t len, const char *from,
		  const char *to, size_t *outlen)
{
	const char *at = strstr(text, from);
	if (!at)
		return NULL;
	size_t fl = strlen(from), tl = strlen(to), pre = (size_t)(at - text);
	char *out = malloc(len - fl + tl + 1);
	memcpy(out, text, pre);
	memcpy(out + pre, to, tl);
	memcpy(out + pre + tl, at + fl, len - pre - fl);
	*outlen = len - fl + tl;
	out[*outlen] = '\0';
	return out;
}

/* Structural damage to a consensus: each edit must be refused by the
 * parser with a reason naming the item at fault. */
static void test_consensus_malformed(void)
{
	static const struct {
		const char *from, *to, *why;
	} cases[] = {
		{"network-status-version 3 microdesc",
		 "network-status-version 2 microdesc", "is not 3"},
		{"network-status-version", "x\nnetwork-status-version",
		 "not a network status document"},
		{"vote-status consensus", "vote-status vote",
		 "vote-status is not 'consensus'"},
		{"consensus-method 35\n", "consensus-method 35\nconsensus-method 35\n",
		 "consensus-method appears twice"},
		{"consensus-method 35", "consensus-method x",
		 "bad consensus-method"},
		{"valid-until 2026-11-27 06:33:40\n", "", "no valid-until line"},
		{"valid-after 2026-11-27 06:33:00", "valid-after 2026-11-27 06:34:00",
		 "not in order"},
		{"fresh-until 2026-11-27 06:33:20", "fresh-until 2026-11-27",
		 "fresh-until wants YYYY-MM-DD HH:MM:SS"},
		{"voting-delay 4 4", "voting-delay 4", "bad voting-delay"},
		{"known-flags Authority Exit Fast Guard HSDir NoEdConsensus Running "
		 "Stable StaleDesc Sybil V2Dir Valid\n", "", "no known-flags line"},
		{"Relay=2-4\nrecommended-relay", "Relay=2-x\nrecommended-relay",
		 "malformed protocol list"},
		{"dir-source tnauth1 08B14E4205D3CB4C8B0EC49B77757E31F7CA0988 "
		 "127.0.0.1 127.0.0.1", "dir-source tnauth1 08B14E4205D3CB4C8B0EC49B"
		 "77757E31F7CA0988 127.0.0.1 300.0.0.1", "malformed dir-source"},
		{"vote-digest D70FD35A1D34ED9FE6F77D8D389F3259DFA1C841\n",
		 "vote-digest D70FD35A1D34ED9FE6F77D8D389F3259DFA1C841\n"
		 "voting-delay 4 4\n", "voting-delay outside the preamble"},
		{"r tnexit0 CoLJaodz+uei6wSHuzvATJ/8rVM",
		 "r tnexit0 CoLJaodz+uei6wSHuzvATJ/8rV", "identity of tnexit0"},
		{"r tnexit0 CoLJaodz+uei6wSHuzvATJ/8rVM 2038-01-01 00:00:00 "
		 "127.0.0.1 15105 0", "r tnexit0 CoLJaodz+uei6wSHuzvATJ/8rVM "
		 "2038-01-01 00:00:00 127.0.0.1 0 0", "bad date, address or port"},
		{"r tnexit0 CoLJ", "r tnexit0_ CoLJ", "bad nickname"},
		{"r tnexit0 CoLJaodz+uei6wSHuzvATJ/8rVM", "r tnexit0 "
		 "zzLJaodz+uei6wSHuzvATJ/8rVM", "out of identity order"},
		{"m KpkeA+VuavyaC4MihG9fj1OvaIMpAzF4KuIJ6tZ0SnQ\n", "",
		 "router tnexit0 has no m line"},
		{"m KpkeA+VuavyaC4MihG9fj1OvaIMpAzF4KuIJ6tZ0SnQ",
		 "m KpkeA+VuavyaC4MihG9fj1OvaIMpAzF4KuIJ6tZ0S",
		 "not a base64 SHA-256 digest"},
		{"s Exit Fast Guard HSDir Running Stable V2Dir Valid\n",
		 "s Exit Fast Guard HSDir Running Stable V2Dir Valid\ns Exit\n",
		 "s appears twice"},
		{"w Bandwidth=94 ", "w Bandwidth=-94 ", "malformed w line"},
		{"pr Conflux=1 ", "pr Conflux=1, ", "malformed pr line"},
		{"directory-footer\n", "directory-footer\na [::1]:1\n",
		 "a outside the router section"},
		{"bandwidth-weights Wbd=0", "bandwidth-weights Wbd", "malformed "
		 "bandwidth-weights entry"},
		{"directory-signature sha256 08B14E4205D3CB4C8B0EC49B77757E31F7CA0988 "
		 "D22C403668F549FA3AFABAE85D18BD7D05E6DA45",
		 "directory-signature sha256 08B14E4205D3CB4C8B0EC49B77757E31F7CA0988",
		 "malformed directory-signature"},
		{"-----END SIGNATURE-----\ndirectory-signature sha256 66",
		 "-----END SIGNATURE-----\nextra-item\ndirectory-signature sha256 66",
		 "extra-item after the signatures"},
		{"-----BEGIN SIGNATURE-----\npuzc", "-----BEGIN SIGNATURE-----\npuz*",
		 "non-base64"},
	};
	size_t len;
	char *doc = nd_load("consensus-microdesc.txt", &len);
	char err[1024];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t elen;
		char *bad = edit(doc, len, cases[i].from, cases[i].to, &elen);
		struct tk_consensus *c = NULL;
		err[0] = '\0';
		if (!bad) {
			tap_ok(0, "edit %zu: '%.30s' not found", i,
			       cases[i].from);
			continue;
		}
		int r = tk_consensus_parse(bad, elen, &c, err, sizeof err);
		tap_ok(r < 0 && c == NULL && contains(err, cases[i].why),
		       "malformed consensus %zu refused: %s", i, err);
		tk_consensus_free(c);
		free(bad);
	}
	/* A signature object bigger than any RSA signature. */
	size_t elen;
	char *big = edit(doc, len, "-----BEGIN SIGNATURE-----\npuzc",
			 "-----BEGIN SIGNATURE-----\n"
			 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
			 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
			 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
			 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
			 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
			 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
			 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
			 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
			 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
			 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
			 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
			 "puzc", &elen);
	struct tk_consensus *c = NULL;
	tap_ok(tk_consensus_parse(big, elen, &c, err, sizeof err) < 0 &&
		       contains(err, "at most 512 bytes"),
	       "oversized signature object refused: %s", err);
	free(big);
	free(doc);
}

/* Structural damage to a key certificate. */
static void test_certs_malformed(void)
{
	static const struct {
		const char *from, *to, *why;
	} cases[] = {
		{"dir-key-certificate-version 3", "dir-key-certificate-version 4",
		 "not a version 3"},
		{"fingerprint 66073B891425BB39A2A7BA4251D709847F0A1B53\n", "",
		 "no fingerprint line"},
		{"fingerprint 66073B891425BB39A2A7BA4251D709847F0A1B53",
		 "fingerprint 66073B891425BB39A2A7BA4251D709847F0A1B5",
		 "fingerprint is not 40 hex digits"},
		{"dir-key-expires 2027-11-27 06:30:33",
		 "dir-key-expires 2025-11-27 06:30:33", "not after"},
		{"dir-key-published 2026-11-27 06:30:33\n",
		 "dir-key-published 2026-11-27 06:30:33\n"
		 "dir-key-published 2026-11-27 06:30:33\n", "appears twice"},
		{"dir-identity-key\n-----BEGIN RSA PUBLIC KEY-----\nMIIB",
		 "dir-identity-key\n-----BEGIN RSA PUBLIC KEY-----\nAIIB",
		 "dir-identity-key is not a valid RSA key"},
		{"dir-signing-key\n", "dir-signing-key\n-----BEGIN FOO-----\nAAAA\n"
		 "-----END FOO-----\nsome-item\n",
		 "dir-signing-key has no RSA PUBLIC KEY object"},
		{"dir-key-certification\n-----BEGIN SIGNATURE-----\nnMBH",
		 "dir-key-certification\n-----BEGIN SIGNATURE-----\nn",
		 "dir-key-certification has no valid SIGNATURE"},
		{"dir-key-published 2026-11-27 06:30:33",
		 "dir-key-published 2026-11-27T06:30:33", "wants YYYY-MM-DD"},
	};
	size_t len;
	char *doc = nd_load("authority-certs.txt", &len);
	char err[TK_NETDOC_ERRLEN];
	/* Only the first certificate is damaged and parsed. */
	char *second = strstr(doc + 1, "dir-key-certificate-version");
	len = (size_t)(second - doc);
	doc[len] = '\0';
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t elen, used;
		char *bad = edit(doc, len, cases[i].from, cases[i].to, &elen);
		struct tk_authcert c;
		tk_authcert_init(&c);
		if (!bad) {
			tap_ok(0, "cert edit %zu: '%.30s' not found", i,
			       cases[i].from);
			continue;
		}
		err[0] = '\0';
		int r = tk_authcert_parse(bad, elen, &used, &c, err, sizeof err);
		tap_ok(r < 0 && contains(err, cases[i].why),
		       "malformed certificate %zu refused: %s", i, err);
		tk_authcert_free(&c);
		free(bad);
	}
	free(doc);
}

/* A second run, fetched with curl from a running tornet's DirPort: the
 * consensus carries params, and the microdescriptors are the raw
 * /tor/micro/d/ response (no annotations). */
static void test_run2(void)
{
	static const char *const hex[3] = {
		"E1D9E9BA94C195A8174407604822EE941BFAE5E4",
		"516528484B51A4198361BAB960061EE654D08ABB",
		"CB13D1F7074AFABB9A4327FF6D704A880F05A98E",
	};
	const int64_t now = 1795767205LL;	/* 2026-11-27 08:13:25 */
	uint8_t ids[3][20];
	struct tk_authcert rc[4];
	char err[2048];
	for (int i = 0; i < 3; i++) {
		struct tk_netdoc_span s = {hex[i], 40};
		tk_netdoc_hex_exact(s, ids[i], 20);
	}
	size_t nc = nd_load_certs("run2/authority-certs.txt", rc, 4, err,
				  sizeof err);
	tap_eq_long((long)nc, 3, "run2: three certificates verify");
	struct tk_consensus *c = load_consensus("run2/consensus-microdesc.txt",
						err, sizeof err);
	if (!tap_ok(c != NULL, "run2: consensus parses")) {
		tap_diag("%s", err);
		goto out;
	}
	tap_eq_long(tk_consensus_verify(c, (const uint8_t(*)[20])ids, 3, rc, nc,
					now, 60, err, sizeof err),
		    0, "run2: signed by all three authorities");
	tap_eq_long(tk_consensus_param(c, "sendme_emit_min_version", 0, 0, 255),
		    1, "run2: params sendme_emit_min_version=1");
	tap_eq_long(tk_consensus_param(c, "AuthDirMaxServersPerAddr", 2, 0, 10),
		    0, "run2: params AuthDirMaxServersPerAddr=0");
	/* Certificates of one run do not vouch for the other. */
	tap_ok(tk_consensus_verify(c, (const uint8_t(*)[20])auths, 3, certs,
				   n_certs, now, 60, err, sizeof err) < 0 &&
		       contains(err, "0 of 3"),
	       "run2 consensus against run1 authorities: %s", err);

	size_t len, pos = 0, n = 0, matched = 0;
	char *body = nd_load("run2/microdescs.txt", &len);
	struct tk_microdesc md;
	const char *text;
	size_t textlen;
	int r;
	tk_microdesc_init(&md);
	while ((r = tk_microdesc_next(body, len, &pos, &md, &text, &textlen,
				      err, sizeof err)) != 0) {
		uint8_t dg[32];
		n++;
		tk_microdesc_digest(text, textlen, dg);
		if (r > 0 && tk_consensus_match_md(c, dg, err, sizeof err))
			matched++;
	}
	tap_ok(n == 7 && matched == 7,
	       "run2: all 7 microdescriptors of the response match m lines "
	       "(%zu of %zu)", matched, n);
	tk_microdesc_free(&md);
	free(body);
out:
	tk_consensus_free(c);
	for (size_t i = 0; i < nc; i++)
		tk_authcert_free(&rc[i]);
}

/* The parsers' shortcuts give what a full reading gives: a pr line like
 * the one before is not read again (and one unlike it is), a p6 line
 * like the p line shares its summary, and a digest two m lines list
 * finds the first of the two routers. */
static void test_shortcuts(void)
{
	char err[TK_NETDOC_ERRLEN];
	size_t len, l1, l2;
	char *doc = nd_load("consensus-microdesc.txt", &len);
	char *e1 = edit(doc, len, "m d6yaEWxB9adl6u7GTySKjRIAAsHpkCFl3KIZtiEx2JU",
			"m KpkeA+VuavyaC4MihG9fj1OvaIMpAzF4KuIJ6tZ0SnQ", &l1);
	char *e2 = e1 ? edit(e1, l1,
			     "v Tor 0.4.9.11\npr Conflux=1 Cons=1-2 Desc=1-4 "
			     "DirCache=2 FlowCtrl=1-2 HSDir=2 HSIntro=4-5 "
			     "HSRend=1-2 Link=3-5 LinkAuth=3 Microdesc=1-3 "
			     "Padding=2 Relay=2-6\nw Bandwidth=105",
			     "v Tor 0.4.9.11\npr Link=1-2 Relay=1\n"
			     "w Bandwidth=105",
			     &l2)
		      : NULL;
	struct tk_consensus *c = NULL;
	tap_ok(e2 && tk_consensus_parse(e2, l2, &c, err, sizeof err) == 0 &&
		       c->n_routers > 3,
	       "edited consensus parses");
	if (c) {
		const struct tk_router *r = c->routers;
		tap_ok(strcmp(r[0].nickname, "tnexit0") == 0 &&
			       strcmp(r[1].nickname, "tnauth0") == 0 &&
			       memcmp(r[0].md_digest, r[1].md_digest, 32) == 0 &&
			       tk_consensus_router_by_md(c, r[1].md_digest) ==
				       &r[0],
		       "a digest listed twice finds the first router");
		tap_ok(tk_consensus_router_by_md(c, r[2].md_digest) == &r[2] &&
			       tk_consensus_router_by_md(c, r[3].md_digest) ==
				       &r[3],
		       "the others still found");
		tap_ok(r[1].protos == r[0].protos &&
			       tk_protoset_has(r[1].protos, TK_PROTO_RELAY, 6),
		       "a pr line like the one before: the same set");
		tap_ok(strcmp(r[2].nickname, "tnmid1") == 0 &&
			       tk_protoset_has(r[2].protos, TK_PROTO_LINK, 1) &&
			       !tk_protoset_has(r[2].protos, TK_PROTO_LINK,
						3) &&
			       !tk_protoset_has(r[2].protos, TK_PROTO_RELAY,
						6),
		       "a pr line unlike it: its own set");
		tap_ok(tk_protoset_has(r[3].protos, TK_PROTO_RELAY, 6) &&
			       !tk_protoset_has(r[3].protos, TK_PROTO_LINK,
						1),
		       "and the next one like the first again: read again");
		tap_ok(r[3].protos == r[0].protos && r[2].protos != r[0].protos,
		       "equal sets are one shared copy, not one per router");
	}
	tk_consensus_free(c);
	free(e1);
	free(e2);
	free(doc);

	static const char *const mds[] = {
		"onion-key\n"
		"ntor-onion-key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
		"p accept 80,443,1000-2000\np6 accept 80,443,1000-2000\n",
		"onion-key\n"
		"ntor-onion-key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
		"p6 reject 25\np reject 25\n",
		"onion-key\n"
		"ntor-onion-key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
		"p accept 80,443\np6 accept 80\n",
		"onion-key\n"
		"ntor-onion-key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
		"p accept 25\np6 reject 25\n",
	};
	struct tk_microdesc md;
	tk_microdesc_init(&md);
	for (size_t i = 0; i < 4; i++) {
		int r = tk_microdesc_parse(mds[i], strlen(mds[i]), &md, err,
					   sizeof err);
		/* what p6 allows: ports 80, 443, 25 */
		static const int want[4][3] = {
			{ 1, 1, 0 }, { 1, 1, 0 }, { 1, 0, 0 }, { 1, 1, 0 }
		};
		int same = i < 2;
		tap_ok(r == 0 && (md.p.r == md.p6.r) == same &&
			       tk_policy_summary_equal(&md.p, &md.p6) == same &&
			       tk_policy_summary_allows(&md.p6, 80) ==
				       want[i][0] &&
			       tk_policy_summary_allows(&md.p6, 443) ==
				       want[i][1] &&
			       tk_policy_summary_allows(&md.p6, 25) ==
				       want[i][2] &&
			       tk_policy_summary_allows(&md.p, 25) == (i == 3),
		       "microdescriptor %zu: p6 %s p", i,
		       same ? "shares the summary of" : "is read apart from");
	}
	tk_microdesc_free(&md);
}

int main(void)
{
	tk_crypto_init();
	nd_v3idents(auths);
	test_certs();
	test_consensus();
	test_microdescs();
	test_microdesc_a_lines();
	test_run2();
	test_consensus_malformed();
	test_certs_malformed();
	test_shortcuts();
	for (size_t i = 0; i < n_certs; i++)
		tk_authcert_free(&certs[i]);
	return tap_done();
}
