/* hs_ipfail.h: a flat table searched linearly. Its bound is small and a
 * lookup happens once per introduction point tried, so nothing faster
 * is needed. */
#include "onion/hs/hs_ipfail.h"

#include <string.h>

void
tk_hs_ipfail_init(struct tk_hs_ipfail *f)
{
	memset(f, 0, sizeof *f);
}

static int
live(const struct tk_hs_ipfail_rec *r, uint64_t now)
{
	return now < r->created || now - r->created < TK_HS_IPFAIL_AGE_MS;
}

static void
drop(struct tk_hs_ipfail *f, size_t i)
{
	f->r[i] = f->r[--f->n];
	memset(&f->r[f->n], 0, sizeof f->r[f->n]);
}

/* The live record of the point, or NULL (a dead one is dropped). */
static struct tk_hs_ipfail_rec *
find(struct tk_hs_ipfail *f, const uint8_t svc[32], const uint8_t ip[32],
     uint64_t now)
{
	for (size_t i = 0; i < f->n; i++) {
		struct tk_hs_ipfail_rec *r = &f->r[i];
		if (memcmp(r->ip, ip, 32) != 0 || memcmp(r->svc, svc, 32) != 0)
			continue;
		if (live(r, now))
			return r;
		drop(f, i);
		return NULL;
	}
	return NULL;
}

size_t
tk_hs_ipfail_expire(struct tk_hs_ipfail *f, uint64_t now)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n;) {
		if (!live(&f->r[i], now)) {
			drop(f, i);
			n++;
		} else {
			i++;
		}
	}
	return n;
}

void
tk_hs_ipfail_note(struct tk_hs_ipfail *f, const uint8_t svc[32],
		  const uint8_t ip[32], enum tk_hs_ipfail_kind kind,
		  uint64_t now)
{
	struct tk_hs_ipfail_rec *r = find(f, svc, ip, now);
	if (!r) {
		if (f->n == TK_HS_IPFAIL_MAX &&
		    tk_hs_ipfail_expire(f, now) == 0) {
			size_t old = 0;
			for (size_t i = 1; i < f->n; i++)
				if (f->r[i].created < f->r[old].created)
					old = i;
			drop(f, old);
		}
		r = &f->r[f->n++];
		memcpy(r->svc, svc, 32);
		memcpy(r->ip, ip, 32);
		/* as tor: the record's age counts from the first failure */
		r->created = now;
	}
	switch (kind) {
	case TK_HS_IPFAIL_ERROR:
		r->error = 1;
		break;
	case TK_HS_IPFAIL_TIMEOUT:
		r->timed_out = 1;
		break;
	case TK_HS_IPFAIL_UNREACHABLE:
		if (r->unreachable < TK_HS_IPFAIL_UNREACHABLE_MAX)
			r->unreachable++;
		break;
	}
}

int
tk_hs_ipfail_usable(struct tk_hs_ipfail *f, const uint8_t svc[32],
		    const uint8_t ip[32], uint64_t now)
{
	const struct tk_hs_ipfail_rec *r = find(f, svc, ip, now);
	return !r || (!r->error && !r->timed_out &&
		      r->unreachable < TK_HS_IPFAIL_UNREACHABLE_MAX);
}

int
tk_hs_ipfail_timed_out(struct tk_hs_ipfail *f, const uint8_t svc[32],
		       const uint8_t ip[32], uint64_t now)
{
	const struct tk_hs_ipfail_rec *r = find(f, svc, ip, now);
	return r && r->timed_out;
}

size_t
tk_hs_ipfail_clear(struct tk_hs_ipfail *f)
{
	size_t n = f->n;
	tk_hs_ipfail_init(f);
	return n;
}
