/* The client's descriptor cache: decoded descriptors by blinded key and
 * time period. A blinded key belongs to one period, so both together
 * name one descriptor of one service; the period is kept in the key so
 * that entries of a period that ended can be found and dropped.
 *
 * Bounded in entries and in bytes: storing past either bound first drops
 * expired entries, then the least recently used ones. Tor keeps the
 * descriptor with the higher revision counter, and so does put(). No
 * clock is read: times come from the caller (use the consensus's
 * valid-after, as Tor does). */
#ifndef TK_ONION_HS_HS_CACHE_H
#define TK_ONION_HS_HS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "onion/hs/hs_desc.h"

#define TK_HS_CACHE_MAX_ENTRIES_DEFAULT 1024
#define TK_HS_CACHE_MAX_BYTES_DEFAULT (16u << 20)

struct tk_hs_cache;

/* max_entries / max_bytes 0: the defaults. NULL when out of memory. */
struct tk_hs_cache *tk_hs_cache_new(size_t max_entries, size_t max_bytes);
void tk_hs_cache_free(struct tk_hs_cache *c);

enum tk_hs_cache_put {
	TK_HS_CACHE_STORED = 0,	 /* desc is the cache's now */
	TK_HS_CACHE_OLDER = 1,	 /* a newer revision is held: desc freed */
	TK_HS_CACHE_TOOBIG = -1, /* larger than max_bytes alone: freed */
	TK_HS_CACHE_NOMEM = -2,	 /* freed */
};
/* Stores *desc (taken over: *desc is left tk_hs_desc_init()ed whatever
 * the outcome) for blinded key desc->blinded in period period_num, to be
 * dropped at expires (seconds; the end of that period, as Tor does). A
 * held descriptor with a higher revision wins; an equal or lower one is
 * replaced. */
int tk_hs_cache_put(struct tk_hs_cache *c, uint64_t period_num,
		    struct tk_hs_desc *desc, int64_t expires, int64_t now);

/* The descriptor held for blinded in period_num, if it has not expired
 * at now (and marks it used); NULL otherwise. Valid until the next put,
 * remove or expire. */
const struct tk_hs_desc *tk_hs_cache_get(struct tk_hs_cache *c,
					 const uint8_t blinded[32],
					 uint64_t period_num, int64_t now);

/* Drops one entry (e.g. after every introduction point failed); 1 if
 * there was one. */
int tk_hs_cache_remove(struct tk_hs_cache *c, const uint8_t blinded[32],
		       uint64_t period_num);
/* Drops every entry expired at now; returns how many. */
size_t tk_hs_cache_expire(struct tk_hs_cache *c, int64_t now);

size_t tk_hs_cache_count(const struct tk_hs_cache *c);
size_t tk_hs_cache_bytes(const struct tk_hs_cache *c);

#endif
