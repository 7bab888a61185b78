/* The descriptor cache: an array searched linearly. Its bound is small
 * (a thousand entries by default) and every operation touches each
 * entry at most once, so nothing faster is needed. */
#include "onion/hs/hs_cache.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	uint8_t blinded[32];
	uint64_t period_num;
	int64_t expires;
	uint64_t last_used; /* the cache's use counter when last touched */
	size_t bytes;
	struct tk_hs_desc desc;
};

struct tk_hs_cache {
	size_t max_entries, max_bytes;
	size_t n, cap, bytes;
	uint64_t clock; /* counts uses, for least-recently-used order */
	struct entry *e;
};

struct tk_hs_cache *
tk_hs_cache_new(size_t max_entries, size_t max_bytes)
{
	struct tk_hs_cache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->max_entries = max_entries ? max_entries
				     : TK_HS_CACHE_MAX_ENTRIES_DEFAULT;
	c->max_bytes = max_bytes ? max_bytes : TK_HS_CACHE_MAX_BYTES_DEFAULT;
	/* The entries come as descriptors do (room() below): an entry
	 * holds a whole parsed descriptor (4.5 KB), and the bound's worth
	 * up front was 4.5 MB of heap before any onion service was asked
	 * for, in the middle of which the directory was then loaded. */
	return c;
}

/* Room for one more entry: 0, or -1 if out of memory. */
static int
room(struct tk_hs_cache *c)
{
	size_t cap;
	struct entry *e;
	if (c->n < c->cap)
		return 0;
	cap = c->cap ? 2 * c->cap : 8;
	if (cap > c->max_entries)
		cap = c->max_entries;
	e = realloc(c->e, cap * sizeof *e);
	if (!e)
		return -1;
	memset(e + c->cap, 0, (cap - c->cap) * sizeof *e);
	c->e = e;
	c->cap = cap;
	return 0;
}

static void
drop(struct tk_hs_cache *c, size_t i)
{
	c->bytes -= c->e[i].bytes;
	tk_hs_desc_free(&c->e[i].desc);
	c->e[i] = c->e[--c->n];
	memset(&c->e[c->n], 0, sizeof c->e[c->n]);
}

void
tk_hs_cache_free(struct tk_hs_cache *c)
{
	if (!c)
		return;
	while (c->n)
		drop(c, c->n - 1);
	free(c->e);
	free(c);
}

static long
find(const struct tk_hs_cache *c, const uint8_t blinded[32],
     uint64_t period_num)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].period_num == period_num &&
		    memcmp(c->e[i].blinded, blinded, 32) == 0)
			return (long)i;
	return -1;
}

static size_t
least_used(const struct tk_hs_cache *c)
{
	size_t best = 0;
	for (size_t i = 1; i < c->n; i++)
		if (c->e[i].last_used < c->e[best].last_used)
			best = i;
	return best;
}

int
tk_hs_cache_put(struct tk_hs_cache *c, uint64_t period_num,
		struct tk_hs_desc *desc, int64_t expires, int64_t now)
{
	size_t bytes = tk_hs_desc_size(desc);
	long i = find(c, desc->blinded, period_num);
	struct entry *e;

	if (bytes > c->max_bytes) {
		tk_hs_desc_free(desc);
		return TK_HS_CACHE_TOOBIG;
	}
	if (i >= 0) {
		if (c->e[i].desc.revision > desc->revision) {
			tk_hs_desc_free(desc);
			return TK_HS_CACHE_OLDER;
		}
		drop(c, (size_t)i);
	}
	tk_hs_cache_expire(c, now);
	while (c->n > 0 &&
	       (c->n == c->max_entries || c->bytes + bytes > c->max_bytes))
		drop(c, least_used(c));
	if (room(c) < 0) {
		tk_hs_desc_free(desc);
		return TK_HS_CACHE_NOMEM;
	}
	e = &c->e[c->n++];
	memcpy(e->blinded, desc->blinded, 32);
	e->period_num = period_num;
	e->expires = expires;
	e->last_used = ++c->clock;
	e->bytes = bytes;
	e->desc = *desc;
	tk_hs_desc_init(desc);
	c->bytes += bytes;
	return TK_HS_CACHE_STORED;
}

const struct tk_hs_desc *
tk_hs_cache_get(struct tk_hs_cache *c, const uint8_t blinded[32],
		uint64_t period_num, int64_t now)
{
	long i = find(c, blinded, period_num);
	if (i < 0 || c->e[i].expires <= now)
		return NULL;
	c->e[i].last_used = ++c->clock;
	return &c->e[i].desc;
}

int
tk_hs_cache_remove(struct tk_hs_cache *c, const uint8_t blinded[32],
		   uint64_t period_num)
{
	long i = find(c, blinded, period_num);
	if (i < 0)
		return 0;
	drop(c, (size_t)i);
	return 1;
}

size_t
tk_hs_cache_expire(struct tk_hs_cache *c, int64_t now)
{
	size_t n = 0, i = 0;
	while (i < c->n) {
		if (c->e[i].expires <= now) {
			drop(c, i);
			n++;
		} else {
			i++;
		}
	}
	return n;
}

size_t
tk_hs_cache_count(const struct tk_hs_cache *c)
{
	return c->n;
}

size_t
tk_hs_cache_bytes(const struct tk_hs_cache *c)
{
	return c->bytes;
}
