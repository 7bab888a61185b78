/* v3 descriptors: the whole decode chain, each layer, client
 * authorization, and the cases Tor refuses or skips.
 *
 * Real descriptors (tests/data/hs, see its README): arti's
 * crates/tor-netdoc/testdata hsdesc1.txt (made by C tor; blinded key
 * 43cc0d62..., subcredential 78210a0d..., revision 19655750, lifetime
 * 180 min, signing certificate expiring 2023-01-26T03:00Z, checked at
 * 2023-01-23T15:00Z, 3 introduction points, the first with ntor key
 * 553bf9f9..., first-layer ephemeral key 16109057... from middle.rs),
 * hsdesc2.txt (client authorization: service 781d978c..., period 19397,
 * client secret key 90f2d60f... whose public key is 90046700...), and
 * hsdesc-inner.txt (a decrypted second layer with flow-control and an
 * IPv6 link specifier). Everything else is built by hs_testsvc.c and
 * tampered with here. */
#include <stdlib.h>
#include <string.h>

#include "../unit/hs_testsvc.h"
#include "../unit/tap.h"
#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/hs/hs_auth.h"
#include "onion/hs/hs_desc.h"
#include "onion/hs/hs_keys.h"

#define JAN23_1500 1674486000 /* 2023-01-23T15:00:00Z */
#define FEB09_1200 1675944000 /* 2023-02-09T12:00:00Z */
#define CERT1_EXPIRES 1674702000 /* 2023-01-26T03:00:00Z */

static char *
load(const char *name, size_t *len)
{
	const char *top = getenv("TK_SRCDIR");
	char path[4096];
	FILE *f;
	long n;
	char *buf;
	snprintf(path, sizeof path, "%s/tests/data/hs/%s", top ? top : ".",
		 name);
	f = fopen(path, "rb");
	if (!f) {
		printf("Bail out! cannot open %s (set TK_SRCDIR)\n", path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	/* Exactly the file's size, so ASan sees any overread. */
	buf = malloc((size_t)n);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		exit(1);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static const uint8_t *
unhex(const char *hex)
{
	static uint8_t buf[8][64];
	static int next;
	uint8_t *b = buf[next++ % 8];
	tap_unhex(hex, b, 64);
	return b;
}

static struct tk_hs_desc_opts
opts_at(time_t now)
{
	struct tk_hs_desc_opts o = { now, 0, 0 };
	return o;
}

static void
keys1(struct tk_hs_keys *k)
{
	memset(k, 0, sizeof *k);
	memcpy(k->blinded,
	       unhex("43cc0d62fc6252f578705ca645a46109e265290343b1137e90189744b20b3f2d"),
	       32);
	memcpy(k->subcred,
	       unhex("78210A0D2C72BB7A0CAF606BCD938B9A3696894FDDDBC3B87D424753A7E3DF37"),
	       32);
}

static int
decode(const char *text, size_t len, const struct tk_hs_keys *k,
       const uint8_t *client_sk, time_t now, struct tk_hs_desc *d,
       char *err, size_t errlen)
{
	struct tk_hs_desc_opts o = opts_at(now);
	return tk_hs_desc_decode(text, len, k, client_sk, &o, d, err, errlen);
}

/* A copy of text with `from` (its first occurrence) replaced by `to`. */
static char *
edit(const char *text, size_t len, const char *from, const char *to,
     size_t *newlen)
{
	const char *at = memmem(text, len, from, strlen(from));
	size_t pre, fl = strlen(from), tl = strlen(to);
	char *out;
	if (!at) {
		printf("Bail out! '%s' not in the fixture\n", from);
		exit(1);
	}
	pre = (size_t)(at - text);
	out = malloc(len - fl + tl);
	memcpy(out, text, pre);
	memcpy(out + pre, to, tl);
	memcpy(out + pre + tl, at + fl, len - pre - fl);
	*newlen = len - fl + tl;
	return out;
}

static void
test_arti_hsdesc1(void)
{
	char err[256], *t2;
	size_t len, l2;
	char *text = load("arti-hsdesc1.txt", &len);
	struct tk_hs_keys k;
	struct tk_hs_desc d;
	int r;

	keys1(&k);
	r = decode(text, len, &k, NULL, JAN23_1500, &d, err, sizeof err);
	if (!tap_eq_long(r, TK_HS_DESC_OK, "arti hsdesc1 decodes"))
		tap_diag("%s", err);
	tap_eq_long(d.lifetime_s, 180 * 60, "lifetime 180 minutes");
	tap_ok(d.revision == 19655750, "revision 19655750");
	tap_eq_long((long)d.signing_cert_expires, CERT1_EXPIRES,
		    "signing certificate expires 2023-01-26T03:00Z");
	tap_eq_long((long)d.n_intro, 3, "3 introduction points");
	tap_eq_bytes(d.intro[0].onion_key, 32,
		     unhex("553BF9F9E1979D6F5D5D7D20BB3FE7272E32E22B6E86E35C76A7CA8A377E402F"),
		     32, "the first one's ntor key (arti's value)");
	tap_ok(!d.client_auth && !d.single_onion && !d.intro_auth_required,
	       "no client auth, not single onion, no intro auth");
	tap_ok(d.intro[0].ls.has_ipv4 && d.intro[0].ls.has_legacy_id &&
		       d.intro[0].ls.has_ed25519_id,
	       "the first one has IPv4, legacy and Ed25519 link specifiers");
	{
		tk_relay_extend2 m;
		tap_ok(tk_hs_linkspecs_to_extend2(d.intro[0].linkspecs,
						  d.intro[0].linkspecs_len,
						  &m) == 0 &&
			       m.n_specs == d.intro[0].ls.n,
		       "its link specifiers convert for EXTEND2, verbatim");
	}
	tk_hs_desc_free(&d);

	/* Step by step: the first layer's ephemeral key is arti's. */
	{
		struct tk_hs_desc_outer o;
		struct tk_hs_desc_middle m;
		char *plain;
		size_t plen;
		tk_hs_desc_outer_parse(text, len, 0, &o, err, sizeof err);
		tap_ok(tk_hs_desc_layer_open(o.superencrypted,
					     o.superencrypted_len, k.blinded,
					     32, k.subcred, o.revision,
					     "hsdir-superencrypted-data", &plain,
					     &plen) == 0,
		       "first layer opens");
		tap_ok(tk_hs_desc_middle_parse(plain, plen, &m, err,
					       sizeof err) == 0 &&
			       m.n_clients == 16,
		       "first layer: 16 auth-client lines");
		tap_eq_bytes(m.ephemeral_key, 32,
			     unhex("161090571E6DB517C0C8591CE524A56DF17BAE3FF8DCD50735F9AEB89634073E"),
			     32, "ephemeral key (arti's value)");
		tap_ok(tk_hs_desc_layer_open(o.superencrypted,
					     o.superencrypted_len, k.blinded,
					     32, k.subcred, o.revision + 1,
					     "hsdir-superencrypted-data", &t2,
					     &l2) < 0,
		       "with another revision counter the MAC fails");
		free(plain);
		tk_hs_desc_middle_free(&m);
		tk_hs_desc_outer_free(&o);
	}

	r = decode(text, len, &k, NULL, CERT1_EXPIRES + 1, &d, err,
		   sizeof err);
	tap_eq_long(r, TK_HS_DESC_ECERT, "after the certificate expired: "
					 "refused (%s)",
		    err);
	{
		struct tk_hs_keys k2 = k;
		k2.blinded[0] ^= 1;
		r = decode(text, len, &k2, NULL, JAN23_1500, &d, err,
			   sizeof err);
		tap_eq_long(r, TK_HS_DESC_ECERT,
			    "another blinded key: refused (%s)", err);
		k2 = k;
		k2.subcred[0] ^= 1;
		r = decode(text, len, &k2, NULL, JAN23_1500, &d, err,
			   sizeof err);
		tap_eq_long(r, TK_HS_DESC_ESUPERENC,
			    "another subcredential: first layer fails (%s)",
			    err);
	}
	t2 = edit(text, len, "revision-counter 19655750",
		  "revision-counter 19655751", &l2);
	r = decode(t2, l2, &k, NULL, JAN23_1500, &d, err, sizeof err);
	tap_eq_long(r, TK_HS_DESC_ESIG, "revision counter raised: bad "
					"signature (%s)",
		    err);
	free(t2);
	t2 = edit(text, len, "descriptor-lifetime 180",
		  "descriptor-lifetime 721", &l2);
	r = decode(t2, l2, &k, NULL, JAN23_1500, &d, err, sizeof err);
	tap_eq_long(r, TK_HS_DESC_EFORMAT, "lifetime of 721 minutes: refused "
					   "(%s)",
		    err);
	free(t2);
	t2 = edit(text, len, "hs-descriptor 3", "hs-descriptor 4", &l2);
	r = decode(t2, l2, &k, NULL, JAN23_1500, &d, err, sizeof err);
	tap_eq_long(r, TK_HS_DESC_EFORMAT, "version 4: refused (%s)", err);
	free(t2);
	t2 = edit(text, len, "revision-counter", "x-unknown-item 1\nrevision-counter",
		  &l2);
	r = decode(t2, l2, &k, NULL, JAN23_1500, &d, err, sizeof err);
	tap_eq_long(r, TK_HS_DESC_ESIG,
		    "an unknown item is parsed past, but it is signed: "
		    "bad signature");
	free(t2);
	t2 = edit(text, len, "superencrypted\n", "superencrypted 1\n", &l2);
	r = decode(t2, l2, &k, NULL, JAN23_1500, &d, err, sizeof err);
	tap_eq_long(r, TK_HS_DESC_EFORMAT, "superencrypted with an argument: "
					   "refused (%s)",
		    err);
	free(t2);

	/* Size and truncation. */
	{
		struct tk_hs_desc_opts o = opts_at(JAN23_1500);
		o.max_size = len;
		r = tk_hs_desc_decode(text, len, &k, NULL, &o, &d, err,
				      sizeof err);
		tap_eq_long(r, TK_HS_DESC_EFORMAT,
			    "a descriptor of HSV3MaxDescriptorSize bytes: "
			    "refused (%s)",
			    err);
		o.max_size = len + 1;
		r = tk_hs_desc_decode(text, len, &k, NULL, &o, &d, err,
				      sizeof err);
		tap_eq_long(r, TK_HS_DESC_OK, "one byte under it: accepted");
		tk_hs_desc_free(&d);
	}
	r = decode(text, len - 1, &k, NULL, JAN23_1500, &d, err, sizeof err);
	tap_eq_long(r, TK_HS_DESC_OK, "without the final newline: accepted");
	tk_hs_desc_free(&d);
	{
		const char *sig = memmem(text, len, "\nsignature ", 11);
		size_t cut = (size_t)(sig - text) + 1;
		r = decode(text, cut, &k, NULL, JAN23_1500, &d, err,
			   sizeof err);
		tap_eq_long(r, TK_HS_DESC_EFORMAT,
			    "without the signature: refused (%s)", err);
		r = decode(text, cut + 40, &k, NULL, JAN23_1500, &d, err,
			   sizeof err);
		tap_eq_long(r, TK_HS_DESC_EFORMAT,
			    "signature cut short: refused (%s)", err);
		t2 = malloc(len + 20);
		memcpy(t2, text, len);
		memcpy(t2 + len, "extra-item\n", 11);
		r = decode(t2, len + 11, &k, NULL, JAN23_1500, &d, err,
			   sizeof err);
		tap_eq_long(r, TK_HS_DESC_EFORMAT,
			    "an item after the signature: refused (%s)", err);
		free(t2);
	}
	free(text);
}

static void
keys2(struct tk_hs_keys *k)
{
	tk_hs_keys_derive(unhex("781D978CE6CE9CAA8BCA306F53E82D2C993E5C91346625F1C151DCFC56D753D3"),
			  19397, 1440, k);
}

static void
test_arti_hsdesc2(void)
{
	char err[256];
	size_t len;
	char *text = load("arti-hsdesc2.txt", &len);
	struct tk_hs_keys k;
	struct tk_hs_desc d;
	struct tk_hs_client_auth a;
	uint8_t pk[32], wrong[32];
	int r;
	static const char auth_file[] =
		"paozpdhgz2okvc6kgbxvh2bnfsmt4xergrtcl4obkhopyvwxkpjzvoad:"
		"descriptor:x25519:"
		"SDZNMD4RP4SCH4EYTTUZPFRZINNFWAOPPKZ6BINZAC7LREV24RBQ\n";

	keys2(&k);
	r = decode(text, len, &k, NULL, FEB09_1200, &d, err, sizeof err);
	tap_eq_long(r, TK_HS_DESC_ENEEDAUTH,
		    "hsdesc2 without a client key: needs client "
		    "authorization (F4)");
	tap_ok(tk_hs_auth_parse(auth_file, sizeof auth_file - 1, &a, err,
				sizeof err) == 0,
	       "its .auth_private line parses");
	tap_eq_bytes(a.id, 32, k.id, 32, "for the service");
	tap_eq_bytes(a.sk, 32,
		     unhex("90F2D60F917F2423F0989CE9979639435A5B01CF7AB3E0A1B900BEB892BAE443"),
		     32, "with arti's TEST_SECKEY_2");
	tk_x25519_public(a.sk, pk);
	tap_eq_bytes(pk, 32,
		     unhex("900467008E194C2C635A6E335E7724915E558CCB606C50094476F9731C129019"),
		     32, "whose public key is arti's TEST_PUBKEY_2");
	r = decode(text, len, &k, a.sk, FEB09_1200, &d, err, sizeof err);
	if (!tap_eq_long(r, TK_HS_DESC_OK, "with the key it decodes"))
		tap_diag("%s", err);
	tap_ok(d.client_auth && d.n_intro == 3,
	       "through a descriptor cookie, 3 introduction points");
	tk_hs_desc_free(&d);
	memcpy(wrong, a.sk, 32);
	wrong[5] ^= 0x40;
	r = decode(text, len, &k, wrong, FEB09_1200, &d, err, sizeof err);
	tap_eq_long(r, TK_HS_DESC_EBADAUTH,
		    "with another key: bad client authorization (F5)");
	free(text);
}

static void
test_arti_inner(void)
{
	char err[256];
	size_t len;
	char *text = load("arti-hsdesc-inner.txt", &len);
	const uint8_t *signer = unhex("260286ebb04c705f53a5a4071f90aa04727bca51b5b1fc57f2948bc7ef23b16d");
	struct tk_hs_desc d;
	int r;

	tk_hs_desc_init(&d);
	r = tk_hs_desc_inner_parse(text, len, signer, FEB09_1200, 0, &d, err,
				   sizeof err);
	if (!tap_eq_long(r, 0, "arti's inner layer parses"))
		tap_diag("%s", err);
	tap_ok(d.n_intro == 3, "3 introduction points");
	tap_ok(d.has_flow_control && strcmp(d.flow_control, "1-2") == 0 &&
		       d.sendme_inc == 31,
	       "flow-control 1-2 31");
	tap_ok(d.intro[0].ls.has_ipv6 && d.intro[0].ls.ipv6_port == 8443 &&
		       d.intro[0].ls.ipv6[0] == 0x2a,
	       "the first has an IPv6 link specifier, [2a01:4f8:...]:8443");
	tap_eq_bytes(d.intro[0].onion_key, 32,
		     unhex("78d715662d38ce1838c75ff0a2041f1f7ff845e0a7fa181faaf3f0a188050739"),
		     32, "and its ntor key");
	tap_eq_bytes(d.intro[0].enc_key, 32,
		     unhex("70fcb5ed5b6ec39e1ab0e7608cd75533080d2e7a65c2732998b3ae84ca92f431"),
		     32, "and its enc-key");
	tk_hs_desc_free(&d);
	/* Certificates expire on 2023-02-11T20:00Z: the intro points go. */
	r = tk_hs_desc_inner_parse(text, len, signer, 1676145600 + 1, 0, &d,
				   err, sizeof err);
	tap_ok(r == 0 && d.n_intro == 0,
	       "after the certificates expired: no usable intro point");
	tk_hs_desc_free(&d);
	r = tk_hs_desc_inner_parse(text, len, unhex("00"), FEB09_1200, 0, &d,
				   err, sizeof err);
	tap_ok(r == 0 && d.n_intro == 0,
	       "with another signing key: no usable intro point");
	tk_hs_desc_free(&d);
	/* A consensus cc_sendme_inc of 100 puts 31 out of range. */
	r = tk_hs_desc_inner_parse(text, len, signer, FEB09_1200, 100, &d, err,
				   sizeof err);
	tap_ok(r < 0, "sendme_inc 31 against a consensus's 100: refused (%s)",
	       err);
	tk_hs_desc_free(&d);
	free(text);
}

/* ---- descriptors built by the test service -------------------------- */

#define NOW 1800000000 /* 2027-01-15 */
#define EXP_HOURS ((NOW + 86400) / 3600)

static struct tsvc_key id_key, sign_key;

static void
svc_setup(void)
{
	uint8_t seed[32];
	memset(seed, 0xaa, 32);
	tsvc_key_from_seed(seed, &id_key);
	memset(seed, 0xbb, 32);
	tsvc_key_from_seed(seed, &sign_key);
}

static void
svc_desc(struct tsvc_desc *d, const char *inner)
{
	memset(d, 0, sizeof *d);
	d->identity = &id_key;
	d->period_num = 20833;
	d->period_len = 1440;
	d->signing = &sign_key;
	d->cert_exp_hours = EXP_HOURS;
	d->revision = 7;
	d->lifetime_min = 180;
	d->inner = inner;
}

static int
svc_decode(const struct tsvc_desc *sd, const uint8_t *client_sk,
	   struct tk_hs_desc *d, char *err, size_t errlen)
{
	struct tk_hs_keys k;
	char *text = tsvc_desc_build(sd, NULL, NULL);
	int r;
	tk_hs_keys_derive(id_key.pub, sd->period_num, sd->period_len, &k);
	r = decode(text, strlen(text), &k, client_sk, NOW, d, err, errlen);
	free(text);
	return r;
}

/* The second layer with n introduction points made from seeds 1..n,
 * after a head of service-wide lines. */
static char *
inner_text(const char *head, size_t n, struct tsvc_intro *ips)
{
	struct tsvc_buf b = { 0 };
	tsvc_printf(&b, "%s", head);
	for (size_t i = 0; i < n; i++) {
		tsvc_intro_make((uint8_t)(i + 1), &ips[i]);
		tsvc_intro_text(&b, &ips[i], &sign_key, EXP_HOURS);
	}
	return b.p;
}

static void
test_svc_basic(void)
{
	struct tsvc_intro ips[21];
	struct tsvc_desc sd;
	struct tk_hs_desc d;
	char err[256], *inner;
	int r, ok;

	inner = inner_text("create2-formats 2\nsingle-onion-service\n"
			   "flow-control 1-2 31\nsome-future-line x y\n",
			   3, ips);
	svc_desc(&sd, inner);
	r = svc_decode(&sd, NULL, &d, err, sizeof err);
	if (!tap_eq_long(r, TK_HS_DESC_OK, "test service's descriptor "
					   "decodes"))
		tap_diag("%s", err);
	ok = d.n_intro == 3;
	for (size_t i = 0; ok && i < 3; i++)
		ok = d.intro[i].linkspecs_len == ips[i].linkspecs_len &&
		     memcmp(d.intro[i].linkspecs, ips[i].linkspecs,
			    ips[i].linkspecs_len) == 0 &&
		     memcmp(d.intro[i].onion_key, ips[i].onion_key, 32) == 0 &&
		     memcmp(d.intro[i].auth_key, ips[i].auth.pub, 32) == 0 &&
		     memcmp(d.intro[i].enc_key, ips[i].enc_pk, 32) == 0;
	tap_ok(ok, "3 introduction points, each with its link specifiers "
		   "verbatim and its three keys");
	tap_ok(d.single_onion && d.has_flow_control && d.sendme_inc == 31,
	       "single-onion-service and flow-control seen, unknown line "
	       "ignored");
	tap_ok(d.intro[1].ls.has_ipv4 && d.intro[1].ls.ipv4[3] == 2 &&
		       d.intro[1].ls.ipv4_port == 5002,
	       "link specifier summary: 127.0.0.2:5002");
	tap_ok(tk_hs_desc_size(&d) > sizeof d, "its size counts what it holds");
	tk_hs_desc_free(&d);
	sd.revision = UINT64_MAX;
	r = svc_decode(&sd, NULL, &d, err, sizeof err);
	tap_ok(r == TK_HS_DESC_OK && d.revision == UINT64_MAX,
	       "a 64-bit revision counter");
	tk_hs_desc_free(&d);
	free(inner);

	/* 20 introduction points, then 21. */
	inner = inner_text("create2-formats 2\n", 20, ips);
	svc_desc(&sd, inner);
	r = svc_decode(&sd, NULL, &d, err, sizeof err);
	tap_ok(r == TK_HS_DESC_OK && d.n_intro == 20,
	       "20 introduction points: accepted");
	tk_hs_desc_free(&d);
	free(inner);
	inner = inner_text("create2-formats 2\n", 21, ips);
	svc_desc(&sd, inner);
	r = svc_decode(&sd, NULL, &d, err, sizeof err);
	tap_eq_long(r, TK_HS_DESC_EENC, "21: refused, as Tor refuses (%s)",
		    err);
	free(inner);

	inner = inner_text("create2-formats 2\n", 0, ips);
	svc_desc(&sd, inner);
	r = svc_decode(&sd, NULL, &d, err, sizeof err);
	tap_ok(r == TK_HS_DESC_OK && d.n_intro == 0,
	       "no introduction point: valid (the service is resting)");
	free(inner);
}

/* Second layers Tor refuses as a whole. */
static void
test_svc_bad_inner(void)
{
	static const struct {
		const char *head, *what;
	} bad[] = {
		{ "create2-formats 3 4\n", "create2-formats without ntor" },
		{ "create2-formats\n", "empty create2-formats" },
		{ "single-onion-service\ncreate2-formats 2\n",
		  "create2-formats not first" },
		{ "create2-formats 2\ncreate2-formats 2\n",
		  "create2-formats twice" },
		{ "create2-formats 2\nintro-auth-required password\n",
		  "an unknown intro-auth-required type" },
		{ "create2-formats 2\nflow-control 1-2 0\n",
		  "flow-control with a SENDME increment of 0" },
		{ "create2-formats 2\nflow-control 1-2 63\n",
		  "flow-control with 63 (more than twice 31)" },
		{ "create2-formats 2\nflow-control 1-2\n",
		  "flow-control without an increment" },
		{ "create2-formats 2\nsingle-onion-service\n"
		  "single-onion-service\n",
		  "single-onion-service twice" },
	};
	struct tsvc_intro ips[1];
	struct tsvc_desc sd;
	struct tk_hs_desc d;
	char err[256], *inner;
	int r;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		inner = inner_text(bad[i].head, 1, ips);
		svc_desc(&sd, inner);
		r = svc_decode(&sd, NULL, &d, err, sizeof err);
		tap_eq_long(r, TK_HS_DESC_EENC, "%s: refused (%s)",
			    bad[i].what, err);
		free(inner);
	}
	inner = inner_text("create2-formats 1 2 999999 x\n"
			   "intro-auth-required ed25519 other\n",
			   1, ips);
	svc_desc(&sd, inner);
	r = svc_decode(&sd, NULL, &d, err, sizeof err);
	tap_ok(r == TK_HS_DESC_OK && d.intro_auth_required,
	       "unknown create2 values ignored; intro-auth-required ed25519");
	tk_hs_desc_free(&d);
	free(inner);
}

/* Introduction points Tor skips while keeping the descriptor. */
static void
test_svc_bad_intro(void)
{
	struct tsvc_intro good, ip;
	struct tsvc_key other;
	struct tsvc_desc sd;
	struct tk_hs_desc d;
	char err[256];
	uint8_t seed[32];
	int r;

	memset(seed, 0xcc, 32);
	tsvc_key_from_seed(seed, &other);
	tsvc_intro_make(9, &good);

	/* The control: both introduction points as made are kept. */
	{
		struct tsvc_buf b = { 0 };
		tsvc_intro_make(1, &ip);
		tsvc_printf(&b, "create2-formats 2\n");
		tsvc_intro_text(&b, &ip, &sign_key, EXP_HOURS);
		tsvc_intro_text(&b, &good, &sign_key, EXP_HOURS);
		svc_desc(&sd, b.p);
		r = svc_decode(&sd, NULL, &d, err, sizeof err);
		tap_ok(r == TK_HS_DESC_OK && d.n_intro == 2,
		       "control: two good introduction points are both kept");
		tk_hs_desc_free(&d);
		tsvc_buf_free(&b);
	}
	for (int variant = 0; variant < 13; variant++) {
		struct tsvc_buf b = { 0 };
		const char *what = "";
		uint8_t cert[140];
		size_t n;
		tsvc_intro_make(1, &ip);
		tsvc_printf(&b, "create2-formats 2\n");
		switch (variant) {
		case 0:
			what = "auth-key signed by another key";
			tsvc_intro_text(&b, &ip, &other, EXP_HOURS);
			break;
		case 1:
			what = "certificates expired";
			tsvc_intro_text(&b, &ip, &sign_key, NOW / 3600 - 1);
			break;
		case 2:
			what = "link specifiers with two legacy ids";
			ip.linkspecs[0] = 4;
			memcpy(ip.linkspecs + ip.linkspecs_len,
			       ip.linkspecs + 9, 22);
			ip.linkspecs_len += 22;
			tsvc_intro_text(&b, &ip, &sign_key, EXP_HOURS);
			break;
		case 3:
			what = "link specifiers with trailing bytes";
			ip.linkspecs[ip.linkspecs_len++] = 0;
			tsvc_intro_text(&b, &ip, &sign_key, EXP_HOURS);
			break;
		case 4:
			what = "an IPv4 link specifier of 5 bytes";
			ip.linkspecs[2] = 5;
			ip.linkspecs[0] = 3;
			tsvc_intro_text(&b, &ip, &sign_key, EXP_HOURS);
			break;
		default: {
			/* Hand-written sections, one field wrong. */
			int skip_enc_cert = variant == 5, enc_type = variant == 6;
			int no_ntor = variant == 7, two_auth = variant == 8;
			int auth_type = variant == 9, enc_cert_type = variant == 10;
			int bad_b64 = variant == 11;
			what = variant == 12	? "hand-written, nothing wrong"
			       : skip_enc_cert	? "no enc-key-cert"
			       : enc_type	? "enc-key of another type"
			       : no_ntor	? "onion-key without ntor"
			       : two_auth	? "auth-key twice"
			       : auth_type	? "auth-key cert of type 0b"
			       : enc_cert_type ? "enc-key-cert of type 09"
					       : "onion-key not base64";
			tsvc_printf(&b, "introduction-point %s\n",
				    tsvc_b64(ip.linkspecs, ip.linkspecs_len,
					     1));
			if (no_ntor)
				tsvc_printf(&b, "onion-key tap AAAA\n");
			else if (bad_b64)
				tsvc_printf(&b, "onion-key ntor !!!!\n");
			else
				tsvc_printf(&b, "onion-key ntor %s\n",
					    tsvc_b64(ip.onion_key, 32, 1));
			for (int i = 0; i < 1 + two_auth; i++) {
				tsvc_printf(&b, "auth-key\n");
				n = tsvc_cert(auth_type ? 0x0b : 0x09,
					      ip.auth.pub, &sign_key,
					      EXP_HOURS, cert);
				tsvc_object(&b, "ED25519 CERT", cert, n);
			}
			tsvc_printf(&b, "enc-key %s %s\n",
				    enc_type ? "x448" : "ntor",
				    tsvc_b64(ip.enc_pk, 32, 1));
			if (!skip_enc_cert) {
				tsvc_printf(&b, "enc-key-cert\n");
				n = tsvc_cert(enc_cert_type ? 0x09 : 0x0b,
					      ip.enc_pk, &sign_key, EXP_HOURS,
					      cert);
				tsvc_object(&b, "ED25519 CERT", cert, n);
			}
		}
		}
		tsvc_intro_text(&b, &good, &sign_key, EXP_HOURS);
		svc_desc(&sd, b.p);
		r = svc_decode(&sd, NULL, &d, err, sizeof err);
		if (variant == 12)
			tap_ok(r == TK_HS_DESC_OK && d.n_intro == 2,
			       "control: %s, both kept", what);
		else
			tap_ok(r == TK_HS_DESC_OK && d.n_intro == 1 &&
				       memcmp(d.intro[0].auth_key,
					      good.auth.pub, 32) == 0,
			       "%s: that introduction point skipped, the "
			       "next kept",
			       what);
		tk_hs_desc_free(&d);
		tsvc_buf_free(&b);
	}
}

static void
test_svc_client_auth(void)
{
	struct tsvc_intro ips[2];
	struct tsvc_desc sd;
	struct tk_hs_desc d;
	uint8_t sk[3][32], pk[3][32];
	char err[256], *inner;
	int r;

	for (int i = 0; i < 3; i++) {
		memset(sk[i], 0x61 + i, 32);
		tk_x25519_public(sk[i], pk[i]);
	}
	inner = inner_text("create2-formats 2\n", 2, ips);
	svc_desc(&sd, inner);
	sd.n_clients = 2;
	sd.client_pk = (const uint8_t(*)[32])pk;
	memset(sd.cookie, 0x5c, 16);
	for (int i = 0; i < 2; i++) {
		r = svc_decode(&sd, sk[i], &d, err, sizeof err);
		tap_ok(r == TK_HS_DESC_OK && d.client_auth && d.n_intro == 2,
		       "authorized client %d opens the second layer", i);
		tk_hs_desc_free(&d);
	}
	r = svc_decode(&sd, sk[2], &d, err, sizeof err);
	tap_eq_long(r, TK_HS_DESC_EBADAUTH, "an unlisted client: F5");
	r = svc_decode(&sd, NULL, &d, err, sizeof err);
	tap_eq_long(r, TK_HS_DESC_ENEEDAUTH, "no client key: F4");

	/* A service without client auth, a client with a key for it:
	 * the fake auth-client lines do not match, the layer opens. */
	sd.n_clients = 0;
	r = svc_decode(&sd, sk[0], &d, err, sizeof err);
	tap_ok(r == TK_HS_DESC_OK && !d.client_auth,
	       "a key for a service without client auth does no harm");
	tk_hs_desc_free(&d);
	free(inner);
}

static void
test_svc_outer_and_middle(void)
{
	struct tsvc_intro ips[1];
	struct tsvc_desc sd;
	struct tk_hs_desc d;
	struct tsvc_key other;
	char err[256], *inner;
	uint8_t seed[32];
	int r;

	inner = inner_text("create2-formats 2\n", 1, ips);
	svc_desc(&sd, inner);
	memset(seed, 0xdd, 32);
	tsvc_key_from_seed(seed, &other);
	sd.blinded_override = &other;
	r = svc_decode(&sd, NULL, &d, err, sizeof err);
	tap_eq_long(r, TK_HS_DESC_ECERT,
		    "certified by a key that is not the blinded key: refused "
		    "(%s)",
		    err);
	sd.blinded_override = NULL;
	sd.cert_exp_hours = NOW / 3600 - 1;
	r = svc_decode(&sd, NULL, &d, err, sizeof err);
	tap_eq_long(r, TK_HS_DESC_ECERT, "signing certificate expired (%s)",
		    err);
	sd.cert_exp_hours = EXP_HOURS;
	sd.lifetime_min = 720;
	r = svc_decode(&sd, NULL, &d, err, sizeof err);
	tap_ok(r == TK_HS_DESC_OK && d.lifetime_s == 720 * 60,
	       "lifetime of 720 minutes: accepted");
	tk_hs_desc_free(&d);

	static const struct {
		const char *middle, *what;
	} bad[] = {
		{ "desc-auth-type x448\ndesc-auth-ephemeral-key "
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
		  "auth-client AAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAAA "
		  "AAAAAAAAAAAAAAAAAAAAAA\nencrypted\n-----BEGIN MESSAGE-----\n"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		  "AAAA\n-----END MESSAGE-----",
		  "desc-auth-type x448" },
		{ "desc-auth-type x25519\ndesc-auth-ephemeral-key "
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
		  "encrypted\n-----BEGIN MESSAGE-----\n"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		  "AAAA\n-----END MESSAGE-----",
		  "no auth-client line" },
		{ "desc-auth-type x25519\ndesc-auth-ephemeral-key "
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
		  "auth-client AAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAAA\n"
		  "encrypted\n-----BEGIN MESSAGE-----\n"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		  "AAAA\n-----END MESSAGE-----",
		  "auth-client with two fields" },
		{ "desc-auth-type x25519\ndesc-auth-ephemeral-key "
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
		  "auth-client AAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAAA "
		  "AAAAAAAAAAAAAAAAAAAAAA\nencrypted\n-----BEGIN MESSAGE-----\n"
		  "AAAA\n-----END MESSAGE-----",
		  "an encrypted blob of 3 bytes" },
		{ "desc-auth-ephemeral-key "
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
		  "desc-auth-type x25519\n"
		  "auth-client AAAAAAAAAAA AAAAAAAAAAAAAAAAAAAAAA "
		  "AAAAAAAAAAAAAAAAAAAAAA\nencrypted\n-----BEGIN MESSAGE-----\n"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		  "AAAA\n-----END MESSAGE-----",
		  "desc-auth-type not first" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sd.middle_override = bad[i].middle;
		r = svc_decode(&sd, NULL, &d, err, sizeof err);
		tap_eq_long(r, TK_HS_DESC_ESUPERENC, "first layer with %s: "
						     "refused (%s)",
			    bad[i].what, err);
	}
	free(inner);
}

int
main(void)
{
	if (tk_crypto_init() < 0)
		return 1;
	test_arti_hsdesc1();
	test_arti_hsdesc2();
	test_arti_inner();
	svc_setup();
	test_svc_basic();
	test_svc_bad_inner();
	test_svc_bad_intro();
	test_svc_client_auth();
	test_svc_outer_and_middle();
	return tap_done();
}
