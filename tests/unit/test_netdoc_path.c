/* Path selection: the rules (flags, exit policy, family, /16) hold on
 * every one of many draws, and the draw frequencies follow the bandwidth
 * weights. The generator is a seeded splitmix64, so every run draws the
 * same paths: the statistical bounds are checked once, not gambled on. */
#include <math.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/tap.h"
#include "netdoc_testutil.h"
#include "onion/netdoc/consensus.h"
#include "onion/netdoc/microdesc.h"
#include "onion/netdir/nodes.h"

static uint64_t splitmix(void *arg)
{
	uint64_t *s = arg;
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#define MAXN 16
/* Relay=1-2 */
static const struct tk_protoset relay12 = { .v[TK_PROTO_RELAY] = 0x6 };
static struct tk_router rts[MAXN];
static struct tk_microdesc mds[MAXN];
static struct tk_path_node nodes[MAXN];
static size_t nn;

static void reset(void)
{
	for (size_t i = 0; i < MAXN; i++)
		tk_microdesc_free(&mds[i]);
	memset(rts, 0, sizeof rts);
	nn = 0;
}

/* Adds a relay; exit_ports "" means no p line (reject all). */
static size_t add(const char *nick, uint32_t ip, uint32_t flags, uint32_t bw,
		  const char *accept)
{
	size_t i = nn++;
	struct tk_router *r = &rts[i];
	snprintf(r->nickname, sizeof r->nickname, "%s", nick);
	memset(r->rsa_id, (int)i + 1, 20);
	r->ipv4 = ip;
	r->or_port = 9001;
	r->flags = flags | TK_RF_RUNNING | TK_RF_VALID | TK_RF_FAST;
	r->bandwidth = bw;
	r->protos = &relay12;
	tk_microdesc_init(&mds[i]);
	if (accept[0]) {
		char err[TK_NETDOC_ERRLEN];
		tk_policy_summary_parse(&mds[i].p, "accept", 6, accept,
					strlen(accept), err, sizeof err);
	}
	nodes[i].rt = r;
	nodes[i].md = &mds[i];
	return i;
}

static void make_family(size_t a, size_t b)
{
	struct tk_microdesc *x = &mds[a], *y = &mds[b];
	uint8_t ids[2][20];
	memcpy(ids[0], rts[a].rsa_id, 20);
	memcpy(ids[1], rts[b].rsa_id, 20);
	tk_microdesc_set_family(x, (const uint8_t(*)[20])ids, 2);
	tk_microdesc_set_family(y, (const uint8_t(*)[20])ids, 2);
}

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

/* Draws `draws` picks for role and returns the share of node i in freq. */
static void shares(enum tk_path_role role, const struct tk_path_weights *w,
		   const struct tk_path_opts *o, int draws, double *freq,
		   uint64_t seed)
{
	struct tk_path_rng rng = {splitmix, &seed};
	int count[MAXN] = {0};
	for (int d = 0; d < draws; d++) {
		long i = tk_path_pick(nodes, nn, role, w, o, NULL, 0, &rng);
		if (i >= 0)
			count[i]++;
	}
	for (size_t i = 0; i < nn; i++)
		freq[i] = (double)count[i] / draws;
}

static int near(double got, double want, double tol, const char *what)
{
	if (fabs(got - want) > tol) {
		tap_diag("  %s: share %.4f, want %.4f +- %.4f", what, got, want,
			 tol);
		return 0;
	}
	return 1;
}

static void test_weighting(void)
{
	struct tk_path_weights w;
	struct tk_path_opts o;
	double f[MAXN];

	tk_path_weights_init(&w, NULL);
	tk_path_opts_init(&o);
	o.enforce_distinct_subnets = 0;

	/* Middle position, plain relays, Bandwidth 100/200/700. */
	reset();
	add("m1", IP(10, 1, 0, 1), 0, 100, "");
	add("m2", IP(10, 2, 0, 1), 0, 200, "");
	add("m3", IP(10, 3, 0, 1), 0, 700, "");
	shares(TK_PATH_MIDDLE, &w, &o, 100000, f, 1);
	tap_ok(near(f[0], 0.1, 0.006, "m1") && near(f[1], 0.2, 0.008, "m2") &&
		       near(f[2], 0.7, 0.008, "m3"),
	       "middle shares follow Bandwidth 1:2:7 over 100000 draws");

	/* All zero: uniform. */
	reset();
	for (int i = 0; i < 6; i++) {
		char nick[8];
		snprintf(nick, sizeof nick, "z%d", i);
		add(nick, IP(10, i, 0, 1), 0, 0, "");
	}
	shares(TK_PATH_MIDDLE, &w, &o, 60000, f, 2);
	int ok = 1;
	for (int i = 0; i < 6; i++)
		ok &= near(f[i], 1.0 / 6, 0.01, rts[i].nickname);
	tap_ok(ok, "all bandwidths zero: uniform over six relays");

	/* Position weights: guard+exit relay in the middle position with
	 * Wmd=0 is never picked; guard-only with Wmg=5000 counts half. */
	reset();
	add("ge", IP(10, 1, 0, 1), TK_RF_GUARD | TK_RF_EXIT, 1000, "1-65535");
	add("g", IP(10, 2, 0, 1), TK_RF_GUARD, 1000, "");
	add("m", IP(10, 3, 0, 1), 0, 1000, "");
	w.wmd = 0;
	w.wmg = 5000;
	shares(TK_PATH_MIDDLE, &w, &o, 60000, f, 3);
	tap_ok(f[0] == 0 && near(f[1], 1.0 / 3, 0.01, "g") &&
		       near(f[2], 2.0 / 3, 0.01, "m"),
	       "middle: Wmd=0 excludes Guard+Exit, Wmg=5000 halves Guard");
	/* Exit position: only exits are candidates. */
	shares(TK_PATH_EXIT, &w, &o, 1000, f, 4);
	tap_ok(f[0] == 1.0, "exit position: the only exit always");
	/* Guard position with Wgd=0 and Wgg=10000: only the pure guard. */
	w.wgd = 0;
	shares(TK_PATH_GUARD, &w, &o, 1000, f, 5);
	tap_ok(f[1] == 1.0, "guard position: Wgd=0 leaves the pure guard");
	/* Non-standard scale is normalised, not overflowed. */
	tk_path_weights_init(&w, NULL);
	w.scale = 20000;
	w.wmm = 20000;
	w.wmg = 10000;
	w.wmd = 10000;
	shares(TK_PATH_MIDDLE, &w, &o, 60000, f, 6);
	tap_ok(near(f[0], 0.25, 0.01, "ge") && near(f[1], 0.25, 0.01, "g") &&
		       near(f[2], 0.5, 0.01, "m"),
	       "bwweightscale 20000 handled");
	/* Huge bandwidths do not overflow the total. */
	reset();
	add("big1", IP(10, 1, 0, 1), 0, UINT32_MAX, "");
	add("big2", IP(10, 2, 0, 1), 0, UINT32_MAX, "");
	tk_path_weights_init(&w, NULL);
	shares(TK_PATH_MIDDLE, &w, &o, 20000, f, 7);
	tap_ok(near(f[0], 0.5, 0.02, "big1"), "Bandwidth 2^32-1 x 2 relays");
}

static void test_rules(void)
{
	struct tk_path_weights w;
	struct tk_path_opts o;
	char err[TK_NETDOC_ERRLEN];
	size_t out[3];
	uint64_t seed = 42;
	struct tk_path_rng rng = {splitmix, &seed};

	tk_path_weights_init(&w, NULL);
	tk_path_opts_init(&o);
	reset();
	size_t g1 = add("g1", IP(10, 1, 0, 1), TK_RF_GUARD, 100, "");
	size_t g2 = add("g2", IP(10, 1, 0, 2), TK_RF_GUARD, 100, "");
	size_t m1 = add("m1", IP(10, 2, 0, 1), 0, 100, "");
	size_t m2 = add("m2", IP(10, 3, 0, 1), 0, 100, "");
	size_t e80 = add("e80", IP(10, 4, 0, 1), TK_RF_EXIT, 100, "80,443");
	size_t eall = add("eall", IP(10, 5, 0, 1), TK_RF_EXIT, 100, "1-65535");
	size_t bad = add("bad", IP(10, 6, 0, 1), TK_RF_EXIT | TK_RF_BADEXIT,
			 1000, "1-65535");
	size_t down = add("down", IP(10, 7, 0, 1), TK_RF_GUARD, 1000, "");
	rts[down].flags &= ~TK_RF_RUNNING;
	size_t nomd = add("nomd", IP(10, 8, 0, 1), TK_RF_GUARD, 1000, "");
	nodes[nomd].md = NULL;
	size_t mo = add("mo", IP(10, 9, 0, 1),
			TK_RF_MIDDLEONLY | TK_RF_GUARD | TK_RF_EXIT, 1000,
			"1-65535");
	size_t slow = add("slow", IP(10, 10, 0, 1), TK_RF_GUARD, 1000, "");
	rts[slow].flags &= ~TK_RF_FAST;
	size_t oldp = add("oldp", IP(10, 11, 0, 1), 0, 1000, "");
	static const struct tk_protoset relay1 = { .v[TK_PROTO_RELAY] = 0x2 };
	rts[oldp].protos = &relay1; /* Relay=1 only */
	make_family(e80, m1);

	int n_ok = 0, rules = 1, e80_with_m1 = 0;
	int used[MAXN] = {0}, at[3][MAXN] = {{0}};
	for (int d = 0; d < 20000; d++) {
		o.exit_port = d % 2 ? 443 : 22;
		if (tk_path_choose(nodes, nn, &w, &o, -1, &rng, out, err,
				   sizeof err) < 0)
			continue;
		n_ok++;
		for (int k = 0; k < 3; k++) {
			used[out[k]]++;
			at[k][out[k]]++;
		}
		rules &= out[0] != out[1] && out[1] != out[2] &&
			 out[0] != out[2];
		rules &= (rts[out[0]].flags & TK_RF_GUARD) != 0;
		rules &= out[0] == g1 || out[0] == g2;
		rules &= tk_policy_summary_allows(&mds[out[2]].p, o.exit_port);
		for (int a = 0; a < 3; a++)
			for (int b = a + 1; b < 3; b++)
				rules &= rts[out[a]].ipv4 >> 16 !=
					 rts[out[b]].ipv4 >> 16;
		e80_with_m1 += (out[2] == e80 && out[1] == m1);
	}
	tap_eq_long(n_ok, 20000, "20000 paths to ports 22 and 443 chosen");
	tap_ok(rules, "every path: distinct relays, a Guard first, exit allows "
		      "the port, no shared /16");
	tap_eq_long(e80_with_m1, 0, "family members never share a path");
	tap_ok(at[2][bad] == 0 && at[1][bad] > 0,
	       "BadExit never an exit, still a middle");
	tap_ok(at[0][mo] == 0 && at[2][mo] == 0 && at[1][mo] > 0,
	       "MiddleOnly only ever in the middle");
	tap_ok(used[down] == 0 && used[nomd] == 0,
	       "non-Running relay and relay without microdescriptor never "
	       "used");
	tap_ok(used[slow] == 0, "relay without Fast never used");
	tap_ok(used[oldp] == 0, "relay without Relay=2 never used");
	tap_ok(used[e80] > 0 && used[eall] > 0 && used[m2] > 0,
	       "the eligible relays are all used");

	/* Port 22: only eall. */
	o.exit_port = 22;
	int only = 1;
	for (int d = 0; d < 2000; d++)
		only &= tk_path_choose(nodes, nn, &w, &o, -1, &rng, out, err,
				       sizeof err) == 0 &&
			out[2] == eall;
	tap_ok(only, "port 22: the only exit that allows it");
	o.exit_port = 25;
	rts[eall].flags &= ~TK_RF_EXIT;
	tap_ok(tk_path_choose(nodes, nn, &w, &o, -1, &rng, out, err,
			      sizeof err) < 0 &&
		       strstr(err, "no usable exit allows port 25"),
	       "no exit for port 25: %s", err);
	rts[eall].flags |= TK_RF_EXIT;

	/* Imposed guard. */
	o.exit_port = 443;
	int kept = 1;
	for (int d = 0; d < 1000; d++)
		kept &= tk_path_choose(nodes, nn, &w, &o, (long)g2, &rng, out,
				       err, sizeof err) == 0 &&
			out[0] == g2;
	tap_ok(kept, "an imposed guard is kept");
	tap_ok(tk_path_choose(nodes, nn, &w, &o, (long)down, &rng, out, err,
			      sizeof err) < 0 &&
		       strstr(err, "guard down is not usable"),
	       "an unusable imposed guard is refused: %s", err);

	/* The same /16 everywhere (a local test network): impossible when
	 * enforced, fine when not. */
	for (size_t i = 0; i < nn; i++)
		rts[i].ipv4 = IP(127, 0, 0, 1);
	tap_ok(tk_path_choose(nodes, nn, &w, &o, -1, &rng, out, err,
			      sizeof err) < 0 &&
		       strstr(err, "/16"),
	       "all relays in one /16 with EnforceDistinctSubnets: %s", err);
	o.enforce_distinct_subnets = 0;
	tap_eq_long(tk_path_choose(nodes, nn, &w, &o, -1, &rng, out, err,
				   sizeof err),
		    0, "and a path without it");

	/* IPv6 /32: distinct IPv4 /16s but one IPv6 /32 conflict. */
	struct tk_path_node *a = &nodes[g1], *b = &nodes[m1];
	rts[g1].ipv4 = IP(10, 1, 0, 1);
	rts[m1].ipv4 = IP(10, 2, 0, 1);
	rts[g1].has_ipv6 = rts[m1].has_ipv6 = 1;
	memcpy(rts[g1].ipv6, "\x20\x01\x0d\xb8\0\1", 6);
	memcpy(rts[m1].ipv6, "\x20\x01\x0d\xb8\0\2", 6);
	o.enforce_distinct_subnets = 1;
	tap_ok(tk_path_conflict(a, b, &o), "same IPv6 /32 conflicts");
	rts[m1].ipv6[3] = 0xb9;
	tap_ok(!tk_path_conflict(a, b, &o), "different IPv6 /32 does not");
	(void)m2;
}

static void test_nodes(void)
{
	char err[2048];
	size_t len, pos = 0;
	char *doc = nd_load("consensus-microdesc.txt", &len);
	struct tk_consensus *c = NULL;
	struct tk_nodes t, t2;
	tk_consensus_parse(doc, len, &c, err, sizeof err);
	free(doc);
	if (!tap_ok(c && tk_nodes_init(&t, c) == 0, "node table for the "
		    "sample consensus"))
		return;
	struct tk_path_weights w;
	struct tk_path_opts o;
	tk_path_weights_init(&w, c);
	tk_path_opts_init(&o);
	o.enforce_distinct_subnets = 0;
	uint8_t miss[8][32];
	tap_eq_long(tk_nodes_find(&t, c->routers[0].rsa_id), 0,
		    "tk_nodes_find: the first router");
	tap_eq_long(tk_nodes_find(&t, c->routers[t.n - 1].rsa_id),
		    (long)t.n - 1, "tk_nodes_find: the last");
	memset(miss[0], 0xee, 20);
	tap_eq_long(tk_nodes_find(&t, miss[0]), -1,
		    "tk_nodes_find: an identity no router has");
	tap_eq_long((long)tk_nodes_missing(&t, miss, 8), 7,
		    "empty table misses all seven microdescriptors");
	tap_ok(memcmp(miss[0], c->routers[0].md_digest, 32) == 0,
	       "missing digests are the m lines");
	tap_ok(tk_nodes_path_fraction(&t, &w, &o) == 0.0,
	       "no path possible without microdescriptors");

	char *body = nd_load("microdescs.txt", &len);
	struct tk_microdesc md;
	const char *text;
	size_t textlen;
	int added = 0, r;
	tk_microdesc_init(&md);
	while ((r = tk_microdesc_next(body, len, &pos, &md, &text, &textlen,
				      err, sizeof err)) != 0)
		if (r > 0) {
			uint8_t dg[32];
			tk_microdesc_digest(text, textlen, dg);
			added += tk_nodes_add_md(&t, &md, dg, err,
						 sizeof err) == 1;
		}
	free(body);
	tap_eq_long(added, 7, "all seven microdescriptors join the table");
	{
		/* tnexit0 and tnexit1 publish the same exit summary */
		const struct tk_microdesc *ex[2] = { NULL, NULL };
		size_t k = 0;
		for (size_t i = 0; i < t.n && k < 2; i++)
			if (t.node[i].md && t.node[i].md->p.r)
				ex[k++] = t.node[i].md;
		tap_ok(k == 2 && ex[0]->p.r == ex[1]->p.r &&
			       tk_policy_summary_allows(&ex[1]->p, 443),
		       "equal exit summaries share their ranges in the table");
	}
	tap_eq_long((long)tk_nodes_missing(&t, miss, 8), 0, "none missing");
	tap_ok(tk_nodes_path_fraction(&t, &w, &o) == 1.0,
	       "every path possible");

	/* A microdescriptor no m line lists is refused with the reason. */
	static const char stray[] =
		"onion-key\n"
		"ntor-onion-key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n";
	uint8_t stray_dg[32];
	tk_microdesc_parse(stray, sizeof stray - 1, &md, err, sizeof err);
	tk_microdesc_digest(stray, sizeof stray - 1, stray_dg);
	tap_ok(tk_nodes_add_md(&t, &md, stray_dg, err, sizeof err) < 0 &&
		       strstr(err, "listed by no m line"),
	       "stray microdescriptor refused: %s", err);

	size_t out[3];
	uint64_t seed = 99;
	struct tk_path_rng rng = {splitmix, &seed};
	tap_eq_long(tk_path_choose(t.node, t.n, &w, &o, -1, &rng, out, err,
				   sizeof err),
		    0, "path chosen from the node table");

	/* A refreshed consensus (same documents here) adopts the old
	 * table's microdescriptors instead of refetching them. */
	tk_nodes_init(&t2, c);
	tap_eq_long((long)tk_nodes_adopt(&t2, &t), 7,
		    "new table adopts all seven");
	tap_ok(t.n_have == 0 && t2.n_have == 7 &&
		       tk_nodes_missing(&t2, miss, 8) == 0,
	       "and the old one is left empty");

	/* Only the exits' microdescriptors missing: no exit, no path. */
	for (size_t i = 0; i < t2.n; i++)
		if (c->routers[i].flags & TK_RF_EXIT) {
			tk_microdesc_free(&t2.mds[i]);
			t2.node[i].md = NULL;
			t2.n_have--;
		}
	tap_ok(tk_nodes_path_fraction(&t2, &w, &o) == 0.0 &&
		       tk_path_choose(t2.node, t2.n, &w, &o, -1, &rng, out, err,
				      sizeof err) < 0 &&
		       strstr(err, "no usable exit"),
	       "without exit microdescriptors: fraction 0 and %s", err);
	tk_microdesc_free(&md);
	tk_nodes_free(&t);
	tk_nodes_free(&t2);
	tk_consensus_free(c);
}

static void test_samples(void)
{
	char err[2048];
	size_t len, pos = 0;
	char *doc = nd_load("consensus-microdesc.txt", &len);
	struct tk_consensus *c = NULL;
	if (!tap_ok(tk_consensus_parse(doc, len, &c, err, sizeof err) == 0,
		    "sample consensus parses")) {
		free(doc);
		return;
	}
	free(doc);
	char *body = nd_load("microdescs.txt", &len);
	static struct tk_microdesc smd[8];
	static struct tk_path_node sn[8];
	size_t n = 0;
	const char *text;
	size_t textlen;
	tk_microdesc_init(&smd[0]);
	while (n < 8 && tk_microdesc_next(body, len, &pos, &smd[n], &text,
					  &textlen, err, sizeof err) == 1) {
		uint8_t dg[32];
		tk_microdesc_digest(text, textlen, dg);
		const struct tk_router *r = tk_consensus_router_by_md(c, dg);
		if (!r)
			continue;
		sn[n].rt = r;
		sn[n].md = &smd[n];
		n++;
		if (n < 8)
			tk_microdesc_init(&smd[n]);
	}
	free(body);
	tap_eq_long((long)n, 7, "seven relays joined with microdescriptors");

	struct tk_path_weights w;
	struct tk_path_opts o;
	tk_path_weights_init(&w, c);
	tap_ok(w.wgg == 5004 && w.wmd == 0 && w.scale == 10000,
	       "weights from the sample consensus");
	tk_path_opts_init(&o);
	o.enforce_distinct_subnets = 0;	/* every relay is 127.0.0.1 */
	o.exit_port = 80;
	uint64_t seed = 7;
	struct tk_path_rng rng = {splitmix, &seed};
	size_t out[3];
	int ok = 1, exits[8] = {0};
	for (int d = 0; d < 5000; d++) {
		if (tk_path_choose(sn, n, &w, &o, -1, &rng, out, err,
				   sizeof err) < 0) {
			ok = 0;
			break;
		}
		ok &= strncmp(sn[out[2]].rt->nickname, "tnexit", 6) == 0;
		/* Wmd = 0 and both exits are guards: never in the middle. */
		ok &= !(sn[out[1]].rt->flags & TK_RF_EXIT);
		exits[out[2]]++;
	}
	tap_ok(ok, "5000 sample paths: exit is tnexit0/1, never an exit in "
	       "the middle (Wmd=0)");
	/* Exit shares follow Bandwidth 94:80 (Wed=10000 for both). */
	double share0 = 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(sn[i].rt->nickname, "tnexit0") == 0)
			share0 = exits[i] / 5000.0;
	tap_ok(near(share0, 94.0 / 174, 0.02, "tnexit0"),
	       "tnexit0 chosen as exit in proportion to its Bandwidth");
	for (size_t i = 0; i < n; i++)
		tk_microdesc_free(&smd[i]);
	tk_consensus_free(c);
}

/* ClientUseIPv4 / ClientUseIPv6 / ClientPreferIPv6ORPort: which ORPort
 * a first hop is reached on, and which guards are usable at all. */
static void test_reach(void)
{
	struct tk_reach r;
	struct tk_path_opts o;
	struct sockaddr_storage ss;
	const struct sockaddr_in6 *s6 = (const void *)&ss;
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 5};
	size_t both, four, six;
	int n4, n6, nall, bad = 0;

	/* tor's rules (policies.c): by default IPv4 only */
	tk_reach_init(&r);
	tap_ok(tk_reach_choose(&r, 1, 1) == AF_INET &&
	       tk_reach_choose(&r, 0, 1) == 0 && !tk_reach_uses_ipv6(&r),
	       "defaults: IPv4, an IPv6-only relay is unreachable");
	r.use_ipv6 = 1;
	tap_ok(tk_reach_choose(&r, 1, 1) == AF_INET &&
	       tk_reach_choose(&r, 0, 1) == AF_INET6,
	       "ClientUseIPv6 1: still IPv4 first, IPv6 where that is all");
	r.prefer_ipv6 = 1;
	tap_ok(tk_reach_choose(&r, 1, 1) == AF_INET6 &&
	       tk_reach_choose(&r, 1, 0) == AF_INET,
	       "ClientUseIPv6 1 + ClientPreferIPv6ORPort 1: IPv6 first");
	tk_reach_init(&r);
	r.prefer_ipv6 = 1;
	tap_ok(tk_reach_uses_ipv6(&r) && tk_reach_choose(&r, 1, 1) == AF_INET6,
	       "ClientPreferIPv6ORPort 1 alone turns IPv6 on, as in tor");
	tk_reach_init(&r);
	r.no_ipv4 = 1;
	tap_ok(tk_reach_choose(&r, 1, 1) == AF_INET6 &&
	       tk_reach_choose(&r, 1, 0) == 0,
	       "ClientUseIPv4 0: IPv6 only, even with ClientUseIPv6 0");

	/* A relay's IPv6 ORPort: the consensus a line, else the md's. */
	reset();
	both = add("both", IP(10, 1, 0, 1), TK_RF_GUARD, 100, "");
	four = add("four", IP(10, 2, 0, 1), TK_RF_GUARD, 100, "");
	six = add("six", IP(10, 3, 0, 1), TK_RF_GUARD, 100, "");
	rts[both].has_ipv6 = 1;
	memcpy(rts[both].ipv6, v6, 16);
	rts[both].ipv6_port = 9101;
	memcpy(mds[six].ipv6, v6, 16);
	mds[six].ipv6[15] = 6;
	mds[six].ipv6_port = 9106;
	tk_reach_init(&r);
	tap_ok(tk_reach_node_orport(&r, &rts[both], &mds[both], &ss) ==
	       AF_INET && ntohs(((struct sockaddr_in *)&ss)->sin_port) == 9001,
	       "default: the IPv4 ORPort of a dual-stack relay");
	r.use_ipv6 = 1;
	r.prefer_ipv6 = 1;
	tap_ok(tk_reach_node_orport(&r, &rts[both], &mds[both], &ss) ==
	       AF_INET6 && ntohs(s6->sin6_port) == 9101 &&
	       memcmp(&s6->sin6_addr, v6, 16) == 0,
	       "prefer IPv6: the consensus a line's ORPort");
	tap_ok(tk_reach_node_orport(&r, &rts[six], &mds[six], &ss) ==
	       AF_INET6 && ntohs(s6->sin6_port) == 9106,
	       "an ORPort only the microdescriptor names is used");

	/* The guard filter: ClientUseIPv4 0 leaves only IPv6 relays. */
	tk_path_opts_init(&o);
	nall = tk_path_usable(&nodes[four], TK_PATH_GUARD, &o) +
	       tk_path_usable(&nodes[both], TK_PATH_GUARD, &o) +
	       tk_path_usable(&nodes[six], TK_PATH_GUARD, &o);
	tap_ok(nall == 3, "default: all three are usable guards");
	o.reach.no_ipv4 = 1;
	n4 = tk_path_usable(&nodes[four], TK_PATH_GUARD, &o);
	n6 = tk_path_usable(&nodes[both], TK_PATH_GUARD, &o) +
	     tk_path_usable(&nodes[six], TK_PATH_GUARD, &o);
	tap_ok(n4 == 0 && n6 == 2,
	       "ClientUseIPv4 0: only relays with an IPv6 ORPort are guards");
	tap_ok(tk_path_usable(&nodes[four], TK_PATH_MIDDLE, &o),
	       "... while an IPv4-only relay may still be a middle");
	{
		struct tk_path_weights w;
		uint64_t seed = 7;
		struct tk_path_rng rng = {splitmix, &seed};
		tk_path_weights_init(&w, NULL);
		for (int i = 0; i < 200; i++)
			if (tk_path_pick(nodes, nn, TK_PATH_GUARD, &w, &o, NULL,
					 0, &rng) == (long)four)
				bad++;
	}
	tap_ok(bad == 0, "200 guard picks never take the IPv4-only relay");
	reset();
}

int main(void)
{
	test_reach();
	test_weighting();
	test_rules();
	test_samples();
	test_nodes();
	reset();
	return tap_done();
}
