/* The client's record of failed introduction points (hs_ipfail.c): what
 * rules a point out and for how long (tor's client intro-point state:
 * an error or a timeout at once, five unreachable builds; two minutes
 * from the first failure), per service, and the bound of
 * TK_HS_IPFAIL_MAX records pushed past. */
#include <string.h>

#include "../unit/tap.h"
#include "onion/hs/hs_ipfail.h"

static struct tk_hs_ipfail f;

static void
key(uint8_t k[32], unsigned n)
{
	memset(k, 0, 32);
	k[0] = (uint8_t)n;
	k[1] = (uint8_t)(n >> 8);
}

static void
test_kinds(void)
{
	uint8_t svc[32], svc2[32], a[32], b[32], c[32];
	const uint64_t t0 = 1000000;
	tk_hs_ipfail_init(&f);
	key(svc, 1), key(svc2, 2), key(a, 10), key(b, 11), key(c, 12);
	tap_ok(tk_hs_ipfail_usable(&f, svc, a, t0), "no record: usable");
	tk_hs_ipfail_note(&f, svc, a, TK_HS_IPFAIL_ERROR, t0);
	tk_hs_ipfail_note(&f, svc, b, TK_HS_IPFAIL_TIMEOUT, t0);
	tap_ok(!tk_hs_ipfail_usable(&f, svc, a, t0 + 1) &&
		       !tk_hs_ipfail_usable(&f, svc, b, t0 + 1),
	       "a refusal or a timeout rules the point out at once");
	tap_ok(tk_hs_ipfail_timed_out(&f, svc, b, t0) &&
		       !tk_hs_ipfail_timed_out(&f, svc, a, t0),
	       "which of them timed out");
	tap_ok(tk_hs_ipfail_usable(&f, svc2, a, t0 + 1),
	       "the same point for another service: usable");
	for (int i = 0; i < TK_HS_IPFAIL_UNREACHABLE_MAX - 1; i++)
		tk_hs_ipfail_note(&f, svc, c, TK_HS_IPFAIL_UNREACHABLE,
				  t0 + (uint64_t)i);
	tap_ok(tk_hs_ipfail_usable(&f, svc, c, t0 + 10),
	       "%d unreachable builds: still tried",
	       TK_HS_IPFAIL_UNREACHABLE_MAX - 1);
	tk_hs_ipfail_note(&f, svc, c, TK_HS_IPFAIL_UNREACHABLE, t0 + 60000);
	tap_ok(!tk_hs_ipfail_usable(&f, svc, c, t0 + 60001),
	       "the %dth: ruled out", TK_HS_IPFAIL_UNREACHABLE_MAX);
	tap_ok(!tk_hs_ipfail_usable(&f, svc, a, t0 + TK_HS_IPFAIL_AGE_MS - 1),
	       "still ruled out just before two minutes");
	tap_ok(tk_hs_ipfail_usable(&f, svc, a, t0 + TK_HS_IPFAIL_AGE_MS) &&
		       tk_hs_ipfail_usable(&f, svc, c,
					   t0 + TK_HS_IPFAIL_AGE_MS),
	       "two minutes after its first failure the record is gone (a "
	       "later failure does not extend it)");
	tap_eq_long((long)tk_hs_ipfail_expire(&f, t0 + TK_HS_IPFAIL_AGE_MS), 1,
		    "the sweep drops the one left");
	tap_eq_long((long)f.n, 0, "none left");
	tk_hs_ipfail_note(&f, svc, a, TK_HS_IPFAIL_ERROR, t0);
	tap_ok(tk_hs_ipfail_clear(&f) == 1 &&
		       tk_hs_ipfail_usable(&f, svc, a, t0 + 1),
	       "NEWNYM forgets every record");
}

static void
test_bound(void)
{
	uint8_t svc[32], ip[32];
	const unsigned extra = 44;
	int ok = 1;
	tk_hs_ipfail_init(&f);
	key(svc, 1);
	/* distinct points of one service, one a millisecond */
	for (unsigned i = 0; i < TK_HS_IPFAIL_MAX + extra; i++) {
		key(ip, i);
		tk_hs_ipfail_note(&f, svc, ip, TK_HS_IPFAIL_ERROR, 5000 + i);
		ok &= f.n <= TK_HS_IPFAIL_MAX;
	}
	tap_ok(ok && f.n == TK_HS_IPFAIL_MAX, "%u failures: %d records kept",
	       TK_HS_IPFAIL_MAX + extra, TK_HS_IPFAIL_MAX);
	ok = 1;
	for (unsigned i = 0; i < TK_HS_IPFAIL_MAX + extra; i++) {
		key(ip, i);
		ok &= tk_hs_ipfail_usable(&f, svc, ip, 6000) == (i < extra);
	}
	tap_ok(ok, "the oldest %u gave way, the newest are kept", extra);
	/* expired records go first: a full table, two minutes on */
	key(ip, 9999);
	tk_hs_ipfail_note(&f, svc, ip, TK_HS_IPFAIL_TIMEOUT,
			  5000 + TK_HS_IPFAIL_MAX + extra +
				  TK_HS_IPFAIL_AGE_MS);
	tap_eq_long((long)f.n, 1,
		    "full and all expired: the expired ones dropped, not the "
		    "oldest alone");
}

int
main(void)
{
	test_kinds();
	test_bound();
	return tap_done();
}
