/* Consensus diffs (dir-spec §4.5, appendix E) and the SHA3-256 that names
 * the documents; subprotocol lists (protover.h). The ed subset is driven
 * with small documents whose results are written out here; whole diffs
 * between two signed test consensuses must give the second one byte for
 * byte, and every kind of damage must be refused with its reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/keccak.h"
#include "onion/netdoc/consdiff.h"
#include "onion/netdoc/consensus.h"
#include "onion/netdoc/protover.h"
#include "tap.h"
#include "testdocs.h"

static void hex_is(const uint8_t *d, size_t n, const char *want,
		   const char *what)
{
	char hex[200];
	tk_hex_encode(d, n, hex);
	tap_eq_str(hex, want, "%s", what);
}

static void t_sha3(void)
{
	uint8_t d[64], e[32], buf[200];
	tk_keccak k;

	tk_sha3_256("", 0, d);
	hex_is(d, 32,
	       "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a",
	       "SHA3-256(\"\") (FIPS 202 example)");
	tk_sha3_256("abc", 3, d);
	hex_is(d, 32,
	       "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
	       "SHA3-256(\"abc\")");
	memset(buf, 0xa3, sizeof buf);
	tk_sha3_256(buf, sizeof buf, d);
	hex_is(d, 32,
	       "79f38adec5c20307a98ef76e8324afbfd46cfd81b22e3973c65fa1bd9de31787",
	       "SHA3-256 of 200 bytes 0xa3 (two blocks)");
	/* the same in pieces that straddle the 136-byte block */
	tk_sha3_256_init(&k);
	tk_keccak_absorb(&k, buf, 1);
	tk_keccak_absorb(&k, buf + 1, 135);
	tk_keccak_absorb(&k, buf + 136, 64);
	tk_sha3_256_final(&k, e);
	tap_eq_bytes(e, 32, d, 32, "absorbed in pieces: the same digest");
	tk_shake256("", 0, d, 32);
	hex_is(d, 32,
	       "46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f",
	       "SHAKE256(\"\", 32 bytes)");
}

/* apply_ed on a small base; want NULL: must fail, naming why_part. */
static void ed_case(const char *base, const char *ed, const char *want,
		    const char *why_part, const char *label)
{
	char *out = NULL, err[256] = "";
	size_t len = 0;
	int rc = tk_consdiff_apply_ed(base, strlen(base), ed, strlen(ed), &out,
				      &len, err, sizeof err);
	if (want) {
		tap_ok(rc == 0 && out && strcmp(out, want) == 0 &&
			       len == strlen(want),
		       "%s", label);
		if (rc != 0)
			tap_diag("error: %s", err);
		else if (strcmp(out, want) != 0)
			tap_diag("got: %s", out);
	} else {
		tap_ok(rc < 0 && out == NULL && strstr(err, why_part), "%s: %s",
		       label, err);
	}
	free(out);
}

static void t_ed(void)
{
	const char *b = "1\n2\n3\n4\n5\n";

	ed_case(b, "", b, NULL, "no commands: the base unchanged");
	ed_case(b, "4,5d\n2c\nTWO\n.\n0a\nZERO\n.\n", "ZERO\n1\nTWO\n3\n", NULL,
		"delete a range, change a line, append at the top");
	ed_case(b, "3,$d\n", "1\n2\n", NULL, "N,$d deletes to the end");
	ed_case(b, "5a\nsix\nseven\n.\n", "1\n2\n3\n4\n5\nsix\nseven\n", NULL,
		"append after the last line");
	ed_case(b, "2,4c\nx\n.\n", "1\nx\n5\n", NULL, "a range replaced by one");
	ed_case(b, "1c\n5d\n.\n", "5d\n2\n3\n4\n5\n", NULL,
		"a block may hold a line that looks like a command");
	ed_case(b, "3a\nB\n.\n3a\nA\n.\n", "1\n2\n3\nA\nB\n4\n5\n", NULL,
		"two appends after one line: as ed runs them in turn");
	ed_case(b, "4d\n3a\nX\n.\n3d\n", "1\n2\nX\n5\n", NULL,
		"delete, append, delete around one point");
	ed_case(b, "2d\n4d\n", NULL, "back to front", "commands not back to front");
	ed_case(b, "9d\n", NULL, "past the end", "a line past the end");
	ed_case(b, "2,9d\n", NULL, "past the end", "a range past the end");
	ed_case(b, "2x\n", NULL, "not a diff command", "unknown command");
	ed_case(b, "2,3a\nx\n.\n", NULL, "not a diff command",
		"append with a range");
	ed_case(b, "$d\n", NULL, "not a diff command", "$ alone");
	ed_case(b, "2,$c\nx\n.\n", NULL, "not a diff command", "$ with c");
	ed_case(b, "0d\n", NULL, "not a diff command", "line 0 deleted");
	ed_case(b, "02d\n", NULL, "not a diff command", "leading zero");
	ed_case(b, "3,2d\n", NULL, "not a diff command", "inverted range");
	ed_case(b, "9,$d\n8a\nx\n.\n", NULL, "not a diff command",
		"N,$d with N past the end (it let later commands reach past "
		"the base: fuzz_consdiff)");
	{
		static const char nul_ed[] = "2d\n1a\nx\0y\n.\n";
		char *out = NULL, err[256] = "";
		size_t len = 0;
		int rc = tk_consdiff_apply_ed(b, strlen(b), nul_ed,
					      sizeof nul_ed - 1, &out, &len,
					      err, sizeof err);
		tap_ok(rc < 0 && out == NULL && strstr(err, "NUL"),
		       "a diff with a NUL byte is refused: %s", err);
		free(out);
	}
	ed_case(b, "a\nx\n.\n", NULL, "not a diff command",
		"bare a (not in dir-spec)");
	ed_case(b, "99999999999999999999d\n", NULL, "not a diff command",
		"a line number too large");
	ed_case(b, "2c\nx\n", NULL, "not ended", "block without its \".\"");
	ed_case(b, "2d", NULL, "newline", "last line without a newline");
	ed_case("1\n2", "1d\n", NULL, "newline",
		"a base without a final newline");
}

/* Signed test consensuses A (TD_VA) and B (an hour later, one relay's
 * bandwidth changed), and the diff from A to B. */
static void t_full(void)
{
	struct td_opts oa = { 0 }, ob = { .valid_after = TD_VA + 3600,
					  .bump = 7 };
	size_t alen, blen, dlen, olen;
	char *a = td_consensus(&oa, &alen), *b = td_consensus(&ob, &blen);
	struct tk_consensus *ca = NULL, *cb = NULL;
	char err[TK_NETDOC_ERRLEN], *diff, *out = NULL, *bad;

	tap_ok(tk_consensus_parse(a, alen, &ca, err, sizeof err) == 0 &&
		       tk_consensus_parse(b, blen, &cb, err, sizeof err) == 0,
	       "the two test consensuses parse");
	if (!ca || !cb)
		return;
	diff = td_diff(a, alen, ca->signed_len, b, blen, cb->signed_len,
		       &dlen);
	tap_ok(tk_consdiff_is_diff(diff, dlen) && !tk_consdiff_is_diff(a, alen),
	       "a diff is told from a consensus by its first line");
	tap_ok(tk_consdiff_apply(a, alen, ca->signed_len, diff, dlen, &out,
				 &olen, err, sizeof err) == 0 &&
		       olen == blen && memcmp(out, b, blen) == 0,
	       "A + diff(A, B) is B, byte for byte (%zu-byte diff, %zu-byte "
	       "consensus)",
	       dlen, blen);
	free(out);

	/* the diff applied to B: FromDigest does not match */
	tap_ok(tk_consdiff_apply(b, blen, cb->signed_len, diff, dlen, &out,
				 &olen, err, sizeof err) < 0 &&
		       strstr(err, "FromDigest"),
	       "a diff from another consensus is refused: %s", err);

	/* a changed line in the block: ToDigest does not match */
	bad = malloc(dlen + 1);
	memcpy(bad, diff, dlen + 1);
	{
		char *w = strstr(bad, "w Bandwidth=");
		if (w)
			w[12] = w[12] == '9' ? '8' : '9';
		tap_ok(w && tk_consdiff_apply(a, alen, ca->signed_len, bad,
					      dlen, &out, &olen, err,
					      sizeof err) < 0 &&
			       strstr(err, "ToDigest"),
		       "a tampered block gives another digest: %s", err);
	}
	/* header damage */
	memcpy(bad, diff, dlen + 1);
	bad[28] = '2';
	tap_ok(tk_consdiff_apply(a, alen, ca->signed_len, bad, dlen, &out,
				 &olen, err, sizeof err) < 0 &&
		       strstr(err, "line 1"),
	       "diff version 2 refused: %s", err);
	memcpy(bad, diff, dlen + 1);
	bad[30 + 5 + 3] = 'x';
	tap_ok(tk_consdiff_apply(a, alen, ca->signed_len, bad, dlen, &out,
				 &olen, err, sizeof err) < 0 &&
		       strstr(err, "line 2"),
	       "a hash line that is not hex refused: %s", err);
	free(bad);
	tk_consensus_free(ca);
	tk_consensus_free(cb);
	free(diff);
	free(a);
	free(b);
}

static void pv_case(const char *list, int want_rc, const char *want_missing,
		    const char *label)
{
	char missing[256];
	int rc = tk_protover_all_supported(list, TK_PROTOVER_CLIENT, missing,
					   sizeof missing);
	tap_ok(rc == want_rc && (!want_missing ||
				 strcmp(missing, want_missing) == 0),
	       "%s: %d \"%s\"", label, rc, missing);
}

static void t_protover(void)
{
	char missing[16];

	/* the public network's lines of 2026-07-27 */
	pv_case("Cons=2 Desc=2 FlowCtrl=1 Link=4 Microdesc=2 Relay=2", 1, "",
		"the real required-client-protocols are all supported");
	pv_case("Cons=2 Desc=2 DirCache=2 FlowCtrl=1-2 HSDir=2 HSIntro=4 "
		"HSRend=2 Link=4-5 Microdesc=2 Relay=2-4",
		0, "FlowCtrl=2 HSDir=2 HSIntro=4 HSRend=2 Relay=3-4",
		"the real recommended-client-protocols: what we lack, named");
	pv_case("Relay=99", 0, "Relay=99", "a version above 63 is named");
	pv_case("Relay=2-5,99 Cons=2", 0, "Relay=3-5,99",
		"ranges of what is missing");
	pv_case("Foo=1", 0, "Foo=1", "a protocol we never heard of");
	pv_case("Relay=4294967295", 0, "Relay=4294967295",
		"the largest version");
	pv_case("", 1, "", "an empty list");
	pv_case("Relay=", 1, "", "a name without versions asks for nothing");
	pv_case("Relay=4294967296", -1, NULL, "a version past 2^32 - 1");
	pv_case("Relay=a", -1, NULL, "not a number");
	pv_case("=1", -1, NULL, "no name");
	pv_case("Relay=3-1", -1, NULL, "an inverted range");
	pv_case("Relay=1,", -1, NULL, "a trailing comma");
	tap_ok(tk_protover_all_supported("Foo=1 Bar=2 Baz=3", "", missing,
					 sizeof missing) == 0 &&
		       strcmp(missing, "Foo=1 Bar=2 ...") == 0,
	       "a long list is cut with \"...\": \"%s\"", missing);
}

/* A consensus that requires Relay=99 parses; the line is kept whole. */
static void t_consensus_keeps_lists(void)
{
	struct td_opts o = { .required = "Cons=2 Relay=2,99" };
	size_t len;
	char *doc = td_consensus(&o, &len), err[TK_NETDOC_ERRLEN];
	struct tk_consensus *c = NULL;
	tap_ok(tk_consensus_parse(doc, len, &c, err, sizeof err) == 0 && c &&
		       c->required_client_text &&
		       strcmp(c->required_client_text, "Cons=2 Relay=2,99") ==
			       0 &&
		       c->recommended_client_text,
	       "Relay=99 in required-client-protocols parses, kept as "
	       "listed");
	tk_consensus_free(c);
	free(doc);
}

int main(void)
{
	t_sha3();
	t_ed();
	t_full();
	t_protover();
	t_consensus_keeps_lists();
	return tap_done();
}
