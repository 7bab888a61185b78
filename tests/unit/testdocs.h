/* Signed consensuses made to measure: the relays of the tornet sample
 * (tests/data/netdoc/consensus-microdesc.txt, whose m lines match
 * microdescs.txt), with the times, protocol lines and bandwidths a test
 * asks for, signed by the three test authorities whose keys are in
 * tests/data/netdoc/testauth/ (made with tor-gencert, certificates valid
 * 2026-12-07 01:38:47 .. 2028-12-07; the identity keys were deleted).
 * Link with tools/dirsign.c. */
#ifndef TK_TESTS_TESTDOCS_H
#define TK_TESTS_TESTDOCS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/dirsign.h"
#include "netdoc_testutil.h"
#include "onion/base/bytes.h"
#include "onion/base/keccak.h"
#include "onion/netdoc/consdiff.h"
#include "onion/netdoc/dirauth.h"
#include "onion/netdoc/netdoc.h"

/* 2027-01-10 12:00:00 UTC: inside the test certificates' lifetime. */
#define TD_VA 1799582400LL

/* The test authorities as DirAuthority lines: the tornet sample's names,
 * addresses and relay identities (so the consensus lists them as relays
 * with the Authority flag), with the test keys' v3idents. */
static const char *const td_auth_lines[3] = {
	"DirAuthority tnauth0 orport=15100 "
	"v3ident=4CC9F38CC818FA278453A992CBA4D388CC00C76F 127.0.0.1:15150 "
	"1E0D83A7D1FFB0347D898D17FC520F65474FE950",
	"DirAuthority tnauth1 orport=15101 "
	"v3ident=6596289F6D506DE64A00BA7578FAAA8202E1767C 127.0.0.1:15151 "
	"66727691665E1401174A7F8251F117D4D704181D",
	"DirAuthority tnauth2 orport=15102 "
	"v3ident=CC3E58685ED1F04C7DBAB94273441266600D4CCC 127.0.0.1:15152 "
	"B27CB59CD3AF51A07A5BBE317A501D751CFA847E",
};

struct td_opts {
	int64_t valid_after;	 /* default TD_VA */
	int64_t interval_s;	 /* fresh-until - valid-after, default 3600;
				  * valid-until is 3 intervals after */
	const char *required;	 /* required-client-protocols, NULL: keep */
	const char *recommended; /* recommended-client-protocols */
	unsigned bump;		 /* added to the first relay's bandwidth */
	int n_sigs;		 /* signers, default 3 */
};

/* The authorities' certificates, back to back (GET /tor/keys/... ). */
static inline char *td_certs(size_t *len)
{
	size_t a, b, c;
	char *x = nd_load("testauth/auth0/authority_certificate", &a);
	char *y = nd_load("testauth/auth1/authority_certificate", &b);
	char *z = nd_load("testauth/auth2/authority_certificate", &c);
	char *all = malloc(a + b + c + 1);
	memcpy(all, x, a);
	memcpy(all + a, y, b);
	memcpy(all + a + b, z, c);
	all[a + b + c] = '\0';
	*len = a + b + c;
	free(x);
	free(y);
	free(z);
	return all;
}

static inline void td_puts(char **buf, size_t *len, size_t *cap,
			   const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static inline void td_time_line(char **buf, size_t *len, size_t *cap,
				const char *kw, int64_t t)
{
	char ts[32], line[64];
	tk_netdoc_time_fmt(t, ts, sizeof ts);
	snprintf(line, sizeof line, "%s %s\n", kw, ts);
	td_puts(buf, len, cap, line, strlen(line));
}

/* The signed consensus (malloc'ed, NUL-terminated). */
static inline char *td_consensus(const struct td_opts *o, size_t *out_len)
{
	static const char *const dirs[3][2] = {
		/* sorted by v3ident, as tor writes them */
		{ "tnauth0", "4CC9F38CC818FA278453A992CBA4D388CC00C76F" },
		{ "tnauth1", "6596289F6D506DE64A00BA7578FAAA8202E1767C" },
		{ "tnauth2", "CC3E58685ED1F04C7DBAB94273441266600D4CCC" },
	};
	struct tk_dirsign_key keys[3];
	int64_t va = o->valid_after ? o->valid_after : TD_VA;
	int64_t iv = o->interval_s ? o->interval_s : 3600;
	int n_sigs = o->n_sigs ? o->n_sigs : 3, sources_done = 0, bumped = 0;
	size_t slen, len = 0, cap = 0;
	char *src = nd_load("consensus-microdesc.txt", &slen), *buf = NULL;
	char *p = src, *end = src + slen, err[256], *signed_doc;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
#define STARTS(kw) (strncmp(p, kw, strlen(kw)) == 0)
		if (STARTS("directory-signature"))
			break;
		if (STARTS("valid-after "))
			td_time_line(&buf, &len, &cap, "valid-after", va);
		else if (STARTS("fresh-until "))
			td_time_line(&buf, &len, &cap, "fresh-until", va + iv);
		else if (STARTS("valid-until "))
			td_time_line(&buf, &len, &cap, "valid-until",
				     va + 3 * iv);
		else if (STARTS("required-client-protocols ") && o->required) {
			td_puts(&buf, &len, &cap, "required-client-protocols ",
				26);
			td_puts(&buf, &len, &cap, o->required,
				strlen(o->required));
			td_puts(&buf, &len, &cap, "\n", 1);
		} else if (STARTS("recommended-client-protocols ") &&
			   o->recommended) {
			td_puts(&buf, &len, &cap,
				"recommended-client-protocols ", 29);
			td_puts(&buf, &len, &cap, o->recommended,
				strlen(o->recommended));
			td_puts(&buf, &len, &cap, "\n", 1);
		} else if (STARTS("dir-source ") || STARTS("contact ") ||
			   STARTS("vote-digest ")) {
			if (!sources_done) {
				sources_done = 1;
				for (int i = 0; i < 3; i++) {
					char l[256];
					snprintf(l, sizeof l,
						 "dir-source %s %s 127.0.0.1 "
						 "127.0.0.1 %d %d\n"
						 "contact %s@test\n"
						 "vote-digest "
						 "0000000000000000000000000000"
						 "000000000000\n",
						 dirs[i][0], dirs[i][1], 15150 + i,
						 15100 + i, dirs[i][0]);
					td_puts(&buf, &len, &cap, l, strlen(l));
				}
			}
		} else if (STARTS("w Bandwidth=") && !bumped && o->bump) {
			char l[64];
			unsigned bw = (unsigned)strtoul(p + 12, NULL, 10);
			snprintf(l, sizeof l, "w Bandwidth=%u Unmeasured=1\n",
				 bw + o->bump);
			td_puts(&buf, &len, &cap, l, strlen(l));
			bumped = 1;
		} else {
			td_puts(&buf, &len, &cap, p, n);
		}
#undef STARTS
		p += n;
	}
	free(src);
	for (int i = 0; i < 3; i++) {
		char dir[4096];
		const char *top = getenv("TK_SRCDIR");
		snprintf(dir, sizeof dir, "%s/tests/data/netdoc/testauth/auth%d",
			 top ? top : ".", i);
		if (tk_dirsign_key_load(&keys[i], dir, err, sizeof err) != 0) {
			printf("Bail out! %s\n", err);
			exit(1);
		}
	}
	signed_doc = tk_dirsign_consensus(buf, len, keys, (size_t)n_sigs,
					  out_len, err, sizeof err);
	if (!signed_doc) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
	for (int i = 0; i < 3; i++)
		tk_dirsign_key_free(&keys[i]);
	free(buf);
	return signed_doc;
}

/* A consensus diff from a to b, as a cache would send it (dir-spec §4.5):
 * the old signatures deleted, the new ones appended, and one change block
 * for the lines between the common head and the common tail of the
 * signed parts. */
static inline char *td_diff(const char *a, size_t alen, size_t a_signed,
			    const char *b, size_t blen, size_t b_signed,
			    size_t *out_len)
{
	size_t na = 0, nb = 0, head = 0, tail = 0, len = 0, cap = 0;
	const char *al[4096], *bl[4096];
	size_t all[4096], bll[4096];
	size_t a_sig_line = 0, b_sig_line = 0;
	char *buf = NULL, l[256], ha[65], hb[65];
	uint8_t d[32];

	/* split into lines; remember where the signatures start */
	for (const char *p = a; p < a + alen;) {
		const char *nl = memchr(p, '\n', (size_t)(a + alen - p));
		if (!a_sig_line && (size_t)(p - a) >= a_signed - 20)
			a_sig_line = na + 1;
		al[na] = p;
		all[na++] = (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	for (const char *p = b; p < b + blen;) {
		const char *nl = memchr(p, '\n', (size_t)(b + blen - p));
		if (!b_sig_line && (size_t)(p - b) >= b_signed - 20)
			b_sig_line = nb + 1;
		bl[nb] = p;
		bll[nb++] = (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	/* common head and tail of the unsigned-free parts */
	while (head < a_sig_line - 1 && head < b_sig_line - 1 &&
	       all[head] == bll[head] &&
	       memcmp(al[head], bl[head], all[head]) == 0)
		head++;
	while (tail < a_sig_line - 1 - head && tail < b_sig_line - 1 - head &&
	       all[a_sig_line - 2 - tail] == bll[b_sig_line - 2 - tail] &&
	       memcmp(al[a_sig_line - 2 - tail], bl[b_sig_line - 2 - tail],
		      all[a_sig_line - 2 - tail]) == 0)
		tail++;
	tk_consdiff_digest_hex(a, a_signed, ha);
	tk_sha3_256(b, blen, d);
	tk_hex_encode(d, 32, hb);
	snprintf(l, sizeof l, "network-status-diff-version 1\nhash %s %s\n",
		 ha, hb);
	td_puts(&buf, &len, &cap, l, strlen(l));
	/* back to front: signatures, then the changed block */
	snprintf(l, sizeof l, "%zu,$d\n%zua\n", a_sig_line, a_sig_line - 1);
	td_puts(&buf, &len, &cap, l, strlen(l));
	for (size_t i = b_sig_line - 1; i < nb; i++)
		td_puts(&buf, &len, &cap, bl[i], bll[i]);
	td_puts(&buf, &len, &cap, ".\n", 2);
	{
		size_t a_lo = head + 1, a_hi = a_sig_line - 1 - tail;
		size_t b_lo = head + 1, b_hi = b_sig_line - 1 - tail;
		if (a_lo <= a_hi && b_lo <= b_hi)
			snprintf(l, sizeof l, "%zu,%zuc\n", a_lo, a_hi);
		else if (a_lo <= a_hi)
			snprintf(l, sizeof l, "%zu,%zud\n", a_lo, a_hi);
		else if (b_lo <= b_hi)
			snprintf(l, sizeof l, "%zua\n", head);
		else
			l[0] = '\0';
		td_puts(&buf, &len, &cap, l, strlen(l));
		if (b_lo <= b_hi) {
			for (size_t i = b_lo - 1; i < b_hi; i++)
				td_puts(&buf, &len, &cap, bl[i], bll[i]);
			td_puts(&buf, &len, &cap, ".\n", 2);
		}
	}
	*out_len = len;
	return buf;
}

#endif
