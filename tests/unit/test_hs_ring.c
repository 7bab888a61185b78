/* Time periods, shared random values and the HSDir hash ring.
 *
 * Vectors (data only): rend-spec-v3 §2.2.1's example and C tor's
 * test_hs_common.c test_time_period / test_start_time_of_next_time_period
 * (2016-04-13: period 16903; a test network voting every 10 s has
 * periods of 4 minutes starting at 00:02); C tor's hs_indexes.py /
 * test_hs_indexes (hs_index 37e5cbbd..., hsdir_index db475361...). The
 * responsible HSDirs of tornet's sample consensus (tests/data/netdoc)
 * and the disaster SRV were computed with Python's hashlib from
 * rend-spec-v3 §2.2.3, §2.3.1 and C tor's hs_get_responsible_hsdirs. */
#include <stdlib.h>
#include <string.h>

#include "../unit/netdoc_testutil.h"
#include "../unit/tap.h"
#include "onion/base/crypto.h"
#include "onion/base/keccak.h"
#include "onion/hs/hs_crypto.h"
#include "onion/hs/hs_period.h"
#include "onion/hs/hs_ring.h"
#include "onion/netdir/nodes.h"
#include "onion/netdoc/consensus.h"
#include "onion/netdoc/microdesc.h"

static const uint8_t *
unhex(const char *hex)
{
	static uint8_t buf[8][64];
	static int next;
	uint8_t *b = buf[next++ % 8];
	tap_unhex(hex, b, 64);
	return b;
}

#define APR13_1100 1460545200LL /* 2016-04-13 11:00:00 UTC */

static void
test_periods(void)
{
	int64_t off = 12 * 3600;
	tap_eq_long((long)tk_hs_period_num(APR13_1100, 1440, off), 16903,
		    "2016-04-13 11:00: period 16903 (rend-spec example)");
	tap_eq_long((long)tk_hs_period_num(APR13_1100 + 3599, 1440, off), 16903,
		    "11:59:59: still 16903");
	tap_eq_long((long)tk_hs_period_num(APR13_1100 + 3600, 1440, off), 16904,
		    "12:00:00: 16904");
	tap_eq_long((long)tk_hs_period_start(16904, 1440, off),
		    (long)(APR13_1100 + 3600), "16904 starts 2016-04-13 12:00");
	tap_eq_long((long)tk_hs_period_start(16905, 1440, off),
		    (long)(APR13_1100 + 3600 + 86400),
		    "16905 starts 2016-04-14 12:00");
	tap_eq_long((long)tk_hs_period_num(1460546101, 1440, off), 16903,
		    "1460546101 (the spec's 11:15:01): 16903");
	tap_eq_long((long)tk_hs_period_num(100, 1440, off), 0,
		    "before the first period: 0");
	tap_eq_long((long)tk_hs_period_num(APR13_1100, 0, off), 0,
		    "a zero length does not divide by zero");
}

/* A consensus as the period code reads it: times, params, SRVs. */
/* 2026-12-07 13:03:40 UTC */
#define DEC07_1303_40 INT64_C(1796648620)

static void
fake_consensus(struct tk_consensus *c, int64_t va, int64_t interval)
{
	memset(c, 0, sizeof *c);
	c->valid_after = va;
	c->fresh_until = va + interval;
	c->valid_until = va + 3 * interval;
	c->has_srv_current = c->has_srv_previous = 1;
	memset(c->srv_current, 0x11, 32);
	memset(c->srv_previous, 0x22, 32);
}

static void
test_dirparams(void)
{
	struct tk_consensus c;
	struct tk_hs_dirparams p;
	struct tk_cons_param params[4] = {
		{ "hsdir_interval", 60 },
		{ "hsdir_n_replicas", 3 },
		{ "hsdir_spread_fetch", 200 },
		{ "hsdir_spread_store", 5 },
	};

	/* The public network: hourly votes, one-day periods. */
	fake_consensus(&c, APR13_1100, 3600);
	tk_hs_dirparams_init(&p, &c, 0);
	tap_eq_long((long)p.period_num, 16903, "11:00: period 16903");
	tap_eq_long((long)p.period_len_min, 1440, "of 1440 minutes");
	tap_eq_long((long)p.period_start, (long)(APR13_1100 - 23 * 3600),
		    "began 2016-04-12 12:00");
	tap_eq_long((long)p.period_end, (long)(APR13_1100 + 3600),
		    "ends 2016-04-13 12:00");
	tap_ok(!p.srv_is_current && !p.srv_is_disaster &&
		       p.srv[0] == 0x22,
	       "11:00, after the SRV run began at 00:00: the previous SRV "
	       "(C2 in rend-spec §2.2.4.1)");
	fake_consensus(&c, APR13_1100 + 2 * 3600, 3600);
	tk_hs_dirparams_init(&p, &c, 0);
	tap_ok(p.period_num == 16904 && p.srv_is_current && p.srv[0] == 0x11,
	       "13:00, in period 16904 before the next run: the current SRV "
	       "(C1)");
	fake_consensus(&c, APR13_1100 - 10 * 3600, 3600);
	tk_hs_dirparams_init(&p, &c, 0);
	tap_ok(p.period_num == 16903 && !p.srv_is_current,
	       "01:00: period 16903 and the previous SRV (C2)");
	c.has_srv_previous = 0;
	tk_hs_dirparams_init(&p, &c, 0);
	{
		uint8_t want[32];
		tk_hs_srv_disaster(16903, 1440, want);
		tap_ok(p.srv_is_disaster && memcmp(p.srv, want, 32) == 0,
		       "no previous SRV: the disaster SRV of the period");
	}
	tap_ok(p.n_replicas == 2 && p.spread_fetch == 3 &&
		       p.spread_store == 4 && p.max_desc_size == 50000,
	       "parameters default to 2, 3, 4 and 50000");
	c.params = params;
	c.n_params = 4;
	tk_hs_dirparams_init(&p, &c, 0);
	tap_ok(p.period_len_min == 60 && p.n_replicas == 3 &&
		       p.spread_fetch == 128 && p.spread_store == 5,
	       "parameters from the consensus, clamped (spread_fetch 200 "
	       "-> 128)");

	/* A test network voting every 10 s (C tor's test): periods of 24
	 * intervals, 4 minutes, rotating at 00:02. */
	fake_consensus(&c, APR13_1100 - 11 * 3600, 10);
	tk_hs_dirparams_init(&p, &c, 1);
	tap_eq_long((long)p.period_len_min, 4, "testing, 10 s votes: 4 minutes");
	tap_eq_long((long)p.period_end, (long)(APR13_1100 - 11 * 3600 + 120),
		    "the next period starts at 00:02:00 (C tor's vector)");
	/* tornet, voting every 20 s: periods of 8 minutes from xx:x4 and
	 * xx:x0 + 4 min (13:00, 13:08), SRV runs from 13:04, 13:12. Around
	 * the run that began at 13:04 (where CI's restart test failed,
	 * 2026-12-07), the client stays on one descriptor: in 13:00-13:04
	 * the current SRV (the one the service's "next" descriptor was
	 * stored with), from 13:04 the same value as the previous SRV. */
	{
		const int64_t t = DEC07_1303_40;
		struct tk_hs_dirparams before, after;
		fake_consensus(&c, t, 20);
		tk_hs_dirparams_init(&before, &c, 1);
		fake_consensus(&c, t + 20, 20);
		memset(c.srv_previous, 0x11, 32); /* the run turned over */
		memset(c.srv_current, 0x33, 32);
		tk_hs_dirparams_init(&after, &c, 1);
		tap_ok(before.period_len_min == 8 &&
			       before.period_start == t - 220 &&
			       before.period_end == t + 260 &&
			       before.srv_is_current && before.srv[0] == 0x11,
		       "tornet 13:03:40: the period of 13:00-13:08, the "
		       "current SRV");
		tap_ok(after.period_num == before.period_num &&
			       !after.srv_is_current &&
			       memcmp(after.srv, before.srv, 32) == 0,
		       "13:04:00, a new SRV run: the same period and SRV value "
		       "(now the previous one): the same HSDirs");
		fake_consensus(&c, t + 260, 20);
		tk_hs_dirparams_init(&after, &c, 1);
		tap_ok(after.period_num == before.period_num + 1 &&
			       after.srv_is_current && after.srv[0] == 0x11,
		       "13:08:00: the next period, the current SRV");
	}
}

static void
test_disaster_srv(void)
{
	uint8_t srv[32];
	tk_hs_srv_disaster(3741168, 8, srv);
	tap_eq_bytes(srv, 32,
		     unhex("c4870808a4bc4d70e27d7977c35c4918"
			   "cf6a3e90e88b9bef3fae46d9d3abdff3"),
		     32, "disaster SRV of period 3741168 of 8 min (hashlib)");
}

static void
test_indexes(void)
{
	uint8_t key[32], srv[32], out[32];
	memset(key, 0x42, 32);
	memset(srv, 0x43, 32);
	tk_hs_store_index(key, 1, 42, 1440, out);
	tap_eq_bytes(out, 32,
		     unhex("37e5cbbd56a22823714f18f1623ece5983a0d64c78495a8cfab854245e5f9a8a"),
		     32, "hs_index (tor's hs_indexes.py)");
	tk_hs_hsdir_index(key, srv, 42, 1440, out);
	tap_eq_bytes(out, 32,
		     unhex("db475361014a09965e7e5e4d4a25b8f8d4b8f16cb1d8a7e95eed50249cc1a2d5"),
		     32, "hsdir_index (tor's hs_indexes.py)");
}

static void
test_desc_path(void)
{
	char path[TK_HS_DESC_PATH_LEN + 1];
	tap_eq_long(tk_hs_desc_path(unhex("706628758208395D461AA0F460A5E76E"
					  "7B828C66B5E794768592B451302E961D"),
				    path),
		    TK_HS_DESC_PATH_LEN, "descriptor path length");
	tap_eq_str(path, "/tor/hs/3/cGYodYIIOV1GGqD0YKXnbnuCjGa155R2hZK0UTAulh0",
		   "GET path for arti hsdesc2's blinded key (unpadded base64)");
}

static void
test_consensus_srv(void)
{
	char err[256];
	size_t len;
	char *doc = nd_load("consensus-microdesc.txt", &len);
	struct tk_consensus *c = NULL;
	if (!tap_ok(tk_consensus_parse(doc, len, &c, err, sizeof err) == 0,
		    "sample consensus parses"))
		return;
	tap_ok(c->has_srv_current && !c->has_srv_previous,
	       "it has a current SRV and no previous one");
	tap_eq_bytes(c->srv_current, 32,
		     unhex("cf125aa3e8019853127b3bf3fd55e41161102"
			   "43e5bff3fbb0173421a82c5556d"),
		     32, "shared-rand-current-value decoded");
	tk_consensus_free(c);

	/* Variants: a malformed value is ignored, a repeated line fails. */
	const char *line = "shared-rand-current-value 0 ";
	char *at = strstr(doc, line);
	size_t pre = (size_t)(at - doc) + strlen(line);
	char *bad = malloc(len + 256);
	memcpy(bad, doc, pre);
	memcpy(bad + pre, "!!!", 3); /* corrupt the base64 */
	memcpy(bad + pre + 3, doc + pre + 3, len - pre - 3);
	tap_ok(tk_consensus_parse(bad, len, &c, err, sizeof err) == 0 &&
		       !c->has_srv_current,
	       "a malformed SRV: the consensus parses, without that SRV");
	tk_consensus_free(c);
	size_t eol = (size_t)(strchr(at, '\n') - doc) + 1;
	memcpy(bad, doc, eol);
	memcpy(bad + eol, at, eol - (size_t)(at - doc));
	memcpy(bad + eol + (eol - (size_t)(at - doc)), doc + eol, len - eol);
	c = NULL;
	tap_ok(tk_consensus_parse(bad, len + (eol - (size_t)(at - doc)), &c,
				  err, sizeof err) < 0 &&
		       strstr(err, "twice"),
	       "a repeated SRV line fails the consensus (%s)", err);
	free(bad);
	free(doc);
}

static void
test_ring(void)
{
	static const char *const want[] = { "tnauth1", "tnmid1",  "tnauth2",
					    "tnmid0",  "tnexit0", "tnexit1" };
	char err[2048];
	size_t len, pos = 0, out[64], n;
	char *doc = nd_load("consensus-microdesc.txt", &len);
	struct tk_consensus *c = NULL;
	struct tk_nodes t;
	struct tk_hs_dirparams p;
	struct tk_hs_ring ring;
	struct tk_microdesc md;
	const char *text;
	size_t textlen;
	uint8_t blinded[32];
	int r, ok = 1;

	tk_consensus_parse(doc, len, &c, err, sizeof err);
	free(doc);
	if (!c || tk_nodes_init(&t, c) != 0)
		return;
	tk_hs_dirparams_init(&p, c, 1);
	tap_ok(p.period_num == 3741168 && p.period_len_min == 8 &&
		       p.srv_is_disaster,
	       "tornet consensus (20 s votes): period 3741168 of 8 minutes, "
	       "previous SRV missing so the disaster SRV");
	tap_ok(tk_hs_ring_build(&ring, &t, p.srv, p.period_num,
				p.period_len_min) == 0 &&
		       ring.n == 0,
	       "no microdescriptors: no Ed25519 identities, an empty ring");
	memset(blinded, 0x42, 32);
	tap_eq_long((long)tk_hs_ring_responsible(&ring, blinded, 2, 3, out,
						 64),
		    0, "an empty ring has no responsible HSDir");
	tk_hs_ring_free(&ring);

	doc = nd_load("microdescs.txt", &len);
	tk_microdesc_init(&md);
	while ((r = tk_microdesc_next(doc, len, &pos, &md, &text, &textlen,
				      err, sizeof err)) != 0)
		if (r > 0) {
			uint8_t dg[32];
			tk_microdesc_digest(text, textlen, dg);
			tk_nodes_add_md(&t, &md, dg, err, sizeof err);
		}
	free(doc);
	tk_microdesc_free(&md);
	tap_ok(tk_hs_ring_build(&ring, &t, p.srv, p.period_num,
				p.period_len_min) == 0 &&
		       ring.n == 7,
	       "all seven relays are HSDirs on the ring");
	for (size_t i = 1; i < ring.n; i++)
		ok &= memcmp(ring.e[i - 1].index, ring.e[i].index, 32) < 0;
	tap_ok(ok, "the ring is sorted by index");
	n = tk_hs_ring_responsible(&ring, blinded, 2, 3, out, 64);
	ok = n == 6;
	for (size_t i = 0; ok && i < n; i++)
		ok &= strcmp(t.node[out[i]].rt->nickname, want[i]) == 0;
	tap_ok(ok, "2 replicas x spread 3: the six HSDirs hashlib gives, "
		   "in order");
	n = tk_hs_ring_responsible(&ring, blinded, 16, 128, out, 64);
	tap_eq_long((long)n, 7,
		    "16 replicas x 128 on 7 relays: each relay once");
	n = tk_hs_ring_responsible(&ring, blinded, 2, 3, out, 4);
	tap_eq_long((long)n, 4, "the output bound is kept");

	/* Eligibility: the HSDir flag, HSDir=2 and an Ed25519 id. */
	t.node[0].md = NULL;
	((struct tk_router *)t.node[1].rt)->flags &= ~(uint32_t)TK_RF_HSDIR;
	static struct tk_protoset hsdir1;
	if (t.node[2].rt->protos)
		hsdir1 = *t.node[2].rt->protos;
	hsdir1.v[TK_PROTO_HSDIR] = 1u << 1;
	((struct tk_router *)t.node[2].rt)->protos = &hsdir1;
	tap_ok(!tk_hs_ring_eligible(&t, 0) && !tk_hs_ring_eligible(&t, 1) &&
		       !tk_hs_ring_eligible(&t, 2) &&
		       tk_hs_ring_eligible(&t, 3),
	       "no microdescriptor, no HSDir flag, only HSDir=1: not on the "
	       "ring");
	tk_hs_ring_free(&ring);
	tk_nodes_free(&t);
	tk_consensus_free(c);
}

int
main(void)
{
	if (tk_crypto_init() < 0)
		return 1;
	test_periods();
	test_dirparams();
	test_disaster_srv();
	test_indexes();
	test_desc_path();
	test_consensus_srv();
	test_ring();
	return tap_done();
}
