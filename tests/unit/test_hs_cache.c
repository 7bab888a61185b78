/* The descriptor cache: lookups by blinded key and period, revision
 * counters, expiry, and its two bounds pushed against. */
#include <stdlib.h>
#include <string.h>

#include "../unit/tap.h"
#include "onion/hs/hs_cache.h"

/* A descriptor for blinded key b (its first bytes), with n intro points
 * holding ls_len bytes of link specifiers each. */
static void
mk(struct tk_hs_desc *d, uint32_t b, uint64_t revision, size_t n,
   size_t ls_len)
{
	tk_hs_desc_init(d);
	memcpy(d->blinded, &b, sizeof b);
	d->revision = revision;
	d->n_intro = n;
	for (size_t i = 0; i < n; i++) {
		d->intro[i].linkspecs = malloc(ls_len);
		memset(d->intro[i].linkspecs, (int)i, ls_len);
		d->intro[i].linkspecs_len = ls_len;
	}
}

static const uint8_t *
key(uint32_t b)
{
	static uint8_t k[4][32];
	static int next;
	uint8_t *p = k[next++ % 4];
	memset(p, 0, 32);
	memcpy(p, &b, sizeof b);
	return p;
}

static void
test_basic(void)
{
	struct tk_hs_cache *c = tk_hs_cache_new(0, 0);
	struct tk_hs_desc d;
	const struct tk_hs_desc *got;

	mk(&d, 1, 5, 3, 80);
	tap_eq_long(tk_hs_cache_put(c, 100, &d, 2000, 1000),
		    TK_HS_CACHE_STORED, "stored");
	tap_ok(d.n_intro == 0 && d.intro[0].linkspecs == NULL,
	       "the caller's copy is emptied");
	got = tk_hs_cache_get(c, key(1), 100, 1500);
	tap_ok(got && got->revision == 5 && got->n_intro == 3, "found again");
	tap_ok(!tk_hs_cache_get(c, key(1), 101, 1500),
	       "not under another period");
	tap_ok(!tk_hs_cache_get(c, key(2), 100, 1500),
	       "not under another key");
	tap_ok(!tk_hs_cache_get(c, key(1), 100, 2000),
	       "not once expired (at its expiry time)");

	mk(&d, 1, 4, 1, 10);
	tap_eq_long(tk_hs_cache_put(c, 100, &d, 2000, 1000), TK_HS_CACHE_OLDER,
		    "a lower revision is refused");
	tap_ok(tk_hs_cache_get(c, key(1), 100, 1500)->revision == 5,
	       "and the held one kept");
	mk(&d, 1, 5, 1, 10);
	tap_eq_long(tk_hs_cache_put(c, 100, &d, 2000, 1000),
		    TK_HS_CACHE_STORED, "an equal revision replaces");
	tap_ok(tk_hs_cache_get(c, key(1), 100, 1500)->n_intro == 1,
	       "the new one is held");
	mk(&d, 1, 9, 2, 10);
	tk_hs_cache_put(c, 100, &d, 2000, 1000);
	tap_ok(tk_hs_cache_get(c, key(1), 100, 1500)->revision == 9 &&
		       tk_hs_cache_count(c) == 1,
	       "a higher revision replaces, one entry");
	mk(&d, 1, 1, 2, 10);
	tk_hs_cache_put(c, 101, &d, 3000, 1000);
	tap_eq_long((long)tk_hs_cache_count(c), 2,
		    "the same key in the next period is another entry");
	tap_eq_long((long)tk_hs_cache_expire(c, 2500), 1,
		    "expire drops the first period's at 2500");
	tap_eq_long(tk_hs_cache_remove(c, key(1), 101), 1, "remove");
	tap_eq_long(tk_hs_cache_remove(c, key(1), 101), 0, "remove again: 0");
	tap_ok(tk_hs_cache_count(c) == 0 && tk_hs_cache_bytes(c) == 0,
	       "empty, no bytes counted");
	tk_hs_cache_free(c);
}

static void
test_bounds(void)
{
	struct tk_hs_cache *c = tk_hs_cache_new(4, 0);
	struct tk_hs_desc d;
	size_t one;

	for (uint32_t i = 1; i <= 4; i++) {
		mk(&d, i, 1, 2, 50);
		tk_hs_cache_put(c, 7, &d, 9000, 1000);
	}
	tk_hs_cache_get(c, key(1), 7, 1100); /* 1 used: 2 is the oldest */
	mk(&d, 5, 1, 2, 50);
	tk_hs_cache_put(c, 7, &d, 9000, 1200);
	tap_ok(tk_hs_cache_count(c) == 4 && tk_hs_cache_get(c, key(1), 7, 1300) &&
		       !tk_hs_cache_get(c, key(2), 7, 1300) &&
		       tk_hs_cache_get(c, key(5), 7, 1300),
	       "5 into 4 places: the least recently used (2) goes");
	mk(&d, 6, 1, 2, 50);
	tk_hs_cache_put(c, 7, &d, 1500, 1200);
	mk(&d, 7, 1, 2, 50);
	tk_hs_cache_put(c, 7, &d, 9000, 1600);
	/* 6 took 3's place (3 was least recently used); at 1600 it has
	 * expired, so 7 takes its place and every live entry stays. */
	tap_ok(tk_hs_cache_count(c) == 4 &&
		       !tk_hs_cache_get(c, key(6), 7, 1300) &&
		       tk_hs_cache_get(c, key(1), 7, 1700) &&
		       tk_hs_cache_get(c, key(4), 7, 1700) &&
		       tk_hs_cache_get(c, key(5), 7, 1700) &&
		       tk_hs_cache_get(c, key(7), 7, 1700),
	       "an expired entry goes before any live one");
	tk_hs_cache_free(c);

	/* Bytes. */
	mk(&d, 1, 1, 20, 300);
	one = tk_hs_desc_size(&d);
	c = tk_hs_cache_new(0, 3 * one);
	tk_hs_desc_free(&d);
	for (uint32_t i = 1; i <= 10; i++) {
		mk(&d, i, 1, 20, 300);
		tk_hs_cache_put(c, 7, &d, 9000, 1000);
		if (tk_hs_cache_bytes(c) > 3 * one)
			break;
	}
	tap_ok(tk_hs_cache_bytes(c) <= 3 * one && tk_hs_cache_count(c) == 3,
	       "byte bound: 3 of the 10 descriptors held (%zu bytes, "
	       "limit %zu)",
	       tk_hs_cache_bytes(c), 3 * one);
	mk(&d, 99, 1, 20, 10 * 300);
	tap_eq_long(tk_hs_cache_put(c, 7, &d, 9000, 1000), TK_HS_CACHE_TOOBIG,
		    "a descriptor larger than the bound alone is refused");
	tap_eq_long((long)tk_hs_cache_count(c), 3, "and nothing was evicted "
						   "for it");
	tk_hs_cache_free(c);

	/* The defaults, pushed far past the entry bound. */
	c = tk_hs_cache_new(0, 0);
	for (uint32_t i = 0; i < 5000; i++) {
		mk(&d, i, 1, 3, 90);
		tk_hs_cache_put(c, 7, &d, 9000, 1000);
	}
	tap_ok(tk_hs_cache_count(c) == TK_HS_CACHE_MAX_ENTRIES_DEFAULT &&
		       tk_hs_cache_bytes(c) <= TK_HS_CACHE_MAX_BYTES_DEFAULT,
	       "5000 services: %zu entries held, %zu bytes",
	       tk_hs_cache_count(c), tk_hs_cache_bytes(c));
	tap_ok(tk_hs_cache_get(c, key(4999), 7, 1000) &&
		       !tk_hs_cache_get(c, key(0), 7, 1000),
	       "the newest kept, the oldest gone");
	tk_hs_cache_free(c);
}

int
main(void)
{
	test_basic();
	test_bounds();
	return tap_done();
}
