/* Our parsers on documents of the public Tor network (tests/data/realnet,
 * see its README), and the built-in authority and fallback lists
 * (src/onion/dir/builtin.h): everything the tor engine meets first on the
 * real network must parse. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/dir/builtin.h"
#include "onion/netdoc/authcert.h"
#include "onion/netdoc/consensus.h"
#include "onion/netdoc/dirauth.h"
#include "onion/netdoc/microdesc.h"
#include "onion/netdoc/netdoc.h"
#include "onion/netdoc/protover.h"
#include "onion/netdir/nodes.h"
#include "tap.h"

static char *load(const char *name, size_t *len)
{
	const char *top = getenv("TK_SRCDIR");
	char path[4096];
	FILE *f;
	long n;
	char *buf;
	snprintf(path, sizeof path, "%s/tests/data/realnet/%s",
		 top ? top : ".", name);
	f = fopen(path, "rb");
	if (!f) {
		printf("Bail out! cannot open %s (set TK_SRCDIR)\n", path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static const char *const names[5] = { "Akka", "Ukko", "d2d4", "lisdex",
				      "moria1" };

static void t_consensus_and_mds(void)
{
	size_t len;
	char *doc = load("consensus-microdesc", &len), err[TK_NETDOC_ERRLEN];
	struct tk_consensus *c = NULL;
	struct tk_microdesc md[5];
	uint8_t dg[5][32];
	const struct tk_router *r[5];
	char missing[128];

	tap_ok(tk_consensus_parse(doc, len, &c, err, sizeof err) == 0,
	       "the public consensus of 2026-07-27 10:00 parses");
	if (!c) {
		tap_diag("%s", err);
		return;
	}
	tap_eq_long((long)c->n_routers, 5, "5 relays");
	tap_eq_long(c->consensus_method, 35, "consensus method 35");
	tap_eq_long((long)c->n_sigs, 9, "9 signatures");
	tap_eq_long(tk_consensus_param(c, "cc_alg", 0, 0, 10), 2,
		    "params: cc_alg=2");
	tap_eq_long(tk_consensus_param(c, "guard-n-primary-guards-to-use", 1,
				       1, 10),
		    2, "params: guard-n-primary-guards-to-use=2");
	tap_eq_long(tk_consensus_weight(c, "Wgg", -1), 5960,
		    "bandwidth-weights: Wgg=5960");
	tap_ok(tk_protover_all_supported(c->required_client_text,
					 TK_PROTOVER_CLIENT, missing,
					 sizeof missing) == 1,
	       "its required-client-protocols are all ours");
	tap_ok(tk_protover_all_supported(c->recommended_client_text,
					 TK_PROTOVER_CLIENT, missing,
					 sizeof missing) == 0 &&
		       strstr(missing, "FlowCtrl=2"),
	       "its recommended ones name what we lack: %s", missing);

	for (int i = 0; i < 5; i++) {
		char name[64], *text;
		size_t tl;
		snprintf(name, sizeof name, "consensus-microdesc--desc--%s",
			 names[i]);
		text = load(name, &tl);
		tk_microdesc_init(&md[i]);
		tap_ok(tk_microdesc_parse(text, tl, &md[i], err, sizeof err) ==
			       0,
		       "microdescriptor of %s parses", names[i]);
		tk_microdesc_digest(text, tl, dg[i]);
		r[i] = tk_consensus_router_by_md(c, dg[i]);
		tap_ok(r[i] && strcmp(r[i]->nickname, names[i]) == 0,
		       "its SHA-256 is on %s's m line", names[i]);
		free(text);
	}
	tap_ok(md[0].has_ed25519 && md[0].n_family == 2 &&
		       md[0].n_family_ids == 1,
	       "Akka: ed25519 id, 2 family members, 1 family-id");
	tap_ok(r[0] && r[1] &&
		       tk_microdesc_same_family(&md[0], r[0]->rsa_id, &md[1],
						r[1]->rsa_id),
	       "Akka and Ukko are one family");
	tap_ok(r[0] && r[2] &&
		       !tk_microdesc_same_family(&md[0], r[0]->rsa_id, &md[2],
						 r[2]->rsa_id),
	       "Akka and d2d4 are not");
	tap_ok(md[2].p.n > 0 && md[2].p6.n > 0 && r[2] &&
		       (r[2]->flags & TK_RF_EXIT),
	       "d2d4: an exit with p and p6 summaries");
	tap_ok(r[4] && (r[4]->flags & TK_RF_AUTHORITY) && r[4]->dir_port == 9231,
	       "moria1: the Authority flag and its DirPort");
	{
		/* In the node table, Akka and Ukko's equal lists are one
		 * copy; the family holds as before, and each table and
		 * microdescriptor frees its references (ASan's leak and
		 * use-after-free checks run this in CI). */
		struct tk_nodes t, t2;
		struct tk_microdesc copy;
		const struct tk_microdesc *a, *u;
		int joined = 0;
		tk_nodes_init(&t, c);
		tk_microdesc_init(&copy);
		tk_microdesc_share_family(&copy, &md[0]);
		for (int i = 0; i < 5; i++)
			joined += tk_nodes_add_md(&t, &md[i], dg[i], err,
						  sizeof err) == 1;
		a = r[0] ? t.node[r[0] - c->routers].md : NULL;
		u = r[1] ? t.node[r[1] - c->routers].md : NULL;
		tap_ok(joined == 5 && a && u && a->family == u->family &&
			       a->family_ids == u->family_ids &&
			       a->n_family == 2 && u->n_family_ids == 1,
		       "node table: Akka and Ukko share one copy of their "
		       "family lists");
		tap_ok(a && u &&
			       tk_microdesc_same_family(a, r[0]->rsa_id, u,
							r[1]->rsa_id),
		       "and are still one family there");
		tap_ok(a && tk_microdesc_family_equal(&copy, a) &&
			       !tk_microdesc_family_equal(&copy,
							  &t.mds[r[2] -
								 c->routers]),
		       "family_equal: the same lists, not d2d4's");
		tk_nodes_init(&t2, c);
		tk_nodes_adopt(&t2, &t);
		tk_nodes_free(&t);
		a = t2.node[r[0] - c->routers].md;
		u = t2.node[r[1] - c->routers].md;
		tap_ok(a && u && a->family == u->family &&
			       strcmp(u->family_ids[0], copy.family_ids[0]) ==
				       0,
		       "a new table adopting them keeps them shared, the "
		       "old one freed");
		tk_nodes_free(&t2);
		tap_ok(copy.n_family == 2 && copy.family_ids &&
			       strncmp(copy.family_ids[0], "ed25519:", 8) == 0,
		       "a reference taken before outlives both tables");
		tk_microdesc_free(&copy);
	}
	for (int i = 0; i < 5; i++)
		tk_microdesc_free(&md[i]);
	tk_consensus_free(c);
	free(doc);
}

static void t_authority_cert(void)
{
	size_t len, used;
	char *vote = load("authority-vote", &len), err[TK_NETDOC_ERRLEN];
	const char *cert = strstr(vote, "dir-key-certificate-version");
	struct tk_authcert ac;
	uint8_t tor26[20];

	tk_hex_decode("2F3DF9CA0E5D36F2685A2DA67184EB8DCB8CBA8C", 40, tor26, 20);
	tk_authcert_init(&ac);
	tap_ok(cert && tk_authcert_parse(cert, len - (size_t)(cert - vote),
					 &used, &ac, err, sizeof err) == 0,
	       "tor26's real key certificate (in its vote) checks out");
	tap_ok(memcmp(ac.fingerprint, tor26, 20) == 0,
	       "its fingerprint is tor26's v3ident");
	/* 2027-01-01 and 2027-03-01 */
	tap_ok(tk_authcert_current(&ac, 1798761600) &&
		       !tk_authcert_current(&ac, 1803859200),
	       "current until 2027-02-01");
	tk_authcert_free(&ac);
	free(vote);
}

static void t_builtin(void)
{
	size_t na, nf, n6 = 0, bad = 0, dup = 0;
	const char *const *a = tk_builtin_authorities(&na);
	const struct tk_builtin_fallback *f = tk_builtin_fallbacks(&nf);
	tk_dirauth auth[16];
	tk_dirfallback *fb = calloc(nf ? nf : 1, sizeof *fb);
	char err[256];
	int moria = 0;

	tap_eq_long((long)na, 9, "9 built-in v3 authorities (the bridge "
				  "authority is not among them)");
	for (size_t i = 0; i < na && i < 16; i++) {
		if (tk_dirauth_parse(a[i], &auth[i], err, sizeof err) != 0 ||
		    !auth[i].has_v3ident || auth[i].bridge) {
			bad++;
			tap_diag("%s: %s", a[i], err);
		}
		moria += strcmp(auth[i].nickname, "moria1") == 0 &&
			 auth[i].v3ident[0] == 0xF5 && auth[i].v3ident[1] == 0x33;
	}
	tap_ok(bad == 0, "each parses as a DirAuthority line with a v3ident");
	tap_ok(moria == 1, "moria1 with its v3ident F533...");
	bad = 0;
	for (size_t i = 0; i < nf; i++) {
		if (tk_dirfallback_parse(f[i].line, &fb[i], err, sizeof err) !=
		    0) {
			bad++;
			tap_diag("%s: %s", f[i].line, err);
		}
		n6 += fb[i].has_ipv6;
		for (size_t j = 0; j < i; j++)
			dup += memcmp(fb[i].rsa_id, fb[j].rsa_id, 20) == 0;
	}
	tap_ok(nf >= 150 && nf <= 250, "about 200 fallbacks (%zu)", nf);
	tap_ok(bad == 0, "every fallback parses as a FallbackDir line");
	tap_ok(n6 * 3 >= nf && n6 * 3 <= nf * 2,
	       "about half with IPv6 (%zu of %zu)", n6, nf);
	tap_ok(dup == 0, "no identity twice");
	tap_ok(nf && fb[0].or_addr.ss_family == AF_INET &&
		       ntohs(((struct sockaddr_in *)&fb[0].or_addr)->sin_port) ==
			       445 &&
		       strcmp(f[0].nickname, "Bens1stVPSRelayTr") == 0,
	       "the first is Bens1stVPSRelayTr, ORPort 445");
	free(fb);
}

static void t_fallback_lines(void)
{
	tk_dirfallback fb;
	char err[256];

	tap_ok(tk_dirfallback_parse("FallbackDir 192.0.2.1:80 orport=9001 "
				    "id=0123456789ABCDEF0123456789ABCDEF01234567 "
				    "weight=2.5 ipv6=[2001:db8::1]:9002",
				    &fb, err, sizeof err) == 0 &&
		       fb.weight == 2.5 && fb.has_ipv6,
	       "a full FallbackDir line, with a DirPort (ignored)");
	tap_ok(tk_dirfallback_parse("192.0.2.1 id=0123456789ABCDEF0123456789"
				    "ABCDEF01234567",
				    &fb, err, sizeof err) < 0 &&
		       strstr(err, "orport="),
	       "no orport=: %s", err);
	tap_ok(tk_dirfallback_parse("192.0.2.1 orport=1", &fb, err,
				    sizeof err) < 0 &&
		       strstr(err, "id="),
	       "no id=: %s", err);
	tap_ok(tk_dirfallback_parse("example.com orport=1 id=0123456789ABCDEF"
				    "0123456789ABCDEF01234567",
				    &fb, err, sizeof err) < 0 &&
		       strstr(err, "address"),
	       "a name, not an address: %s", err);
	tap_ok(tk_dirfallback_parse("192.0.2.1 orport=1 id=0123 nick=x", &fb,
				    err, sizeof err) < 0,
	       "a short id and an unknown flag: %s", err);
}

int main(void)
{
	t_consensus_and_mds();
	t_authority_cert();
	t_builtin();
	t_fallback_lines();
	return tap_done();
}
