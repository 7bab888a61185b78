/* nodes.h: consensus entries joined with their microdescriptors by
 * digest, what is still missing, and whether enough is known to build
 * paths. */
#include "onion/netdir/nodes.h"

#include <stdlib.h>
#include <string.h>

#include "onion/base/crypto.h"
#include "onion/netdoc/netdoc.h"

int
tk_nodes_init(struct tk_nodes *t, const struct tk_consensus *c)
{
	size_t n = c->n_routers;
	memset(t, 0, sizeof *t);
	t->node = calloc(n ? n : 1, sizeof *t->node);
	t->mds = calloc(n ? n : 1, sizeof *t->mds);
	if (!t->node || !t->mds) {
		free(t->node);
		free(t->mds);
		memset(t, 0, sizeof *t);
		return -1;
	}
	t->c = c;
	t->n = n;
	for (size_t i = 0; i < n; i++) {
		t->node[i].rt = &c->routers[i];
		t->node[i].md = NULL;
		tk_microdesc_init(&t->mds[i]);
	}
	return 0;
}

void
tk_nodes_free(struct tk_nodes *t)
{
	for (size_t i = 0; i < t->n; i++)
		tk_microdesc_free(&t->mds[i]);
	if (t->pol)
		for (size_t i = 0; i <= t->pol_mask; i++)
			tk_policy_summary_free(&t->pol[i]);
	free(t->node);
	free(t->mds);
	free(t->pol);
	free(t->fam);
	memset(t, 0, sizeof *t);
}

/* The sets below hash what relays publish, so their hash is keyed per
 * process (drawn on first use) lest a relay choose entries that collide. */
static uint64_t
hash_key(void)
{
	static uint64_t key;
	if (!key)
		tk_random(&key, sizeof key);
	return key;
}

static uint64_t
hash_mix(uint64_t h, uint64_t w)
{
	h ^= w;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/* Exit summaries: a network has a few thousand exits and most publish
 * one of a handful of policies (the default, the reduced one), each
 * summary a few hundred bytes, twice (p and p6). The first of each is
 * kept in a set; later equal ones give their ranges up and share it. */
static uint64_t
pol_hash(const struct tk_policy_summary *p)
{
	uint64_t h = hash_key() ^ ((uint64_t)p->accept << 63) ^ p->n;
	for (size_t i = 0; i < p->n; i++)
		h = hash_mix(h, (uint64_t)p->r[i].lo << 16 | p->r[i].hi);
	return h;
}

static int
pol_grow(struct tk_nodes *t)
{
	size_t cap = t->pol ? 2 * (t->pol_mask + 1) : 64;
	struct tk_policy_summary *np = calloc(cap, sizeof *np), *old = t->pol;
	size_t old_cap = old ? t->pol_mask + 1 : 0;
	if (!np)
		return -1;
	for (size_t i = 0; i < old_cap; i++) {
		size_t s;
		if (!old[i].r)
			continue;
		s = (size_t)pol_hash(&old[i]) & (cap - 1);
		while (np[s].r)
			s = (s + 1) & (cap - 1);
		np[s] = old[i]; /* the reference moves */
	}
	free(old);
	t->pol = np;
	t->pol_mask = cap - 1;
	return 0;
}

/* Makes *p share an equal summary already held, or holds it. Summaries
 * without ranges (reject all) are left alone. Out of memory: p simply
 * keeps its own ranges. */
static void
pol_intern(struct tk_nodes *t, struct tk_policy_summary *p)
{
	size_t s;
	if (!p->r)
		return;
	if ((!t->pol || 4 * (t->n_pol + 1) > 3 * (t->pol_mask + 1)) &&
	    pol_grow(t) < 0)
		return;
	s = (size_t)pol_hash(p) & t->pol_mask;
	while (t->pol[s].r) {
		if (tk_policy_summary_equal(&t->pol[s], p)) {
			tk_policy_summary_share(p, &t->pol[s]);
			return;
		}
		s = (s + 1) & t->pol_mask;
	}
	tk_policy_summary_init(&t->pol[s]);
	tk_policy_summary_share(&t->pol[s], p);
	t->n_pol++;
}

/* Family lists: the members of a family publish the same ones, so the
 * table keeps one copy of each (tk_microdesc_share_family). The set
 * holds slots, not lists: a slot, once filled, keeps its
 * microdescriptor as long as the table lives, and four bytes an entry
 * keep the set small beside what it saves. */

/* Eight bytes a step: a table takes in thousands of lists at once. */
static uint64_t
fam_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t w;
	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		h = hash_mix(h, w);
	}
	w = 0;
	if (n)
		memcpy(&w, b, n);
	return hash_mix(h, w ^ (uint64_t)n << 56);
}

static uint64_t
fam_hash(const struct tk_microdesc *md)
{
	uint64_t h = hash_key() ^ ((uint64_t)md->n_family << 32) ^
		     md->n_family_ids;
	if (md->n_family)
		h = fam_bytes(h, md->family, md->n_family * sizeof *md->family);
	for (size_t i = 0; i < md->n_family_ids; i++)
		h = fam_bytes(h, md->family_ids[i], strlen(md->family_ids[i]));
	return h;
}

static int
fam_grow(struct tk_nodes *t)
{
	size_t cap = 64;
	uint32_t *nf, *old = t->fam;
	if (old)
		cap = 2 * (t->fam_mask + 1);
	else
		while (cap < t->n / 2) /* room at once for pairs of relays */
			cap *= 2;
	nf = calloc(cap, sizeof *nf);
	size_t old_cap = old ? t->fam_mask + 1 : 0;
	if (!nf)
		return -1;
	for (size_t i = 0; i < old_cap; i++) {
		size_t s;
		if (!old[i])
			continue;
		s = (size_t)fam_hash(&t->mds[old[i] - 1]) & (cap - 1);
		while (nf[s])
			s = (s + 1) & (cap - 1);
		nf[s] = old[i];
	}
	free(old);
	t->fam = nf;
	t->fam_mask = cap - 1;
	return 0;
}

/* Makes slot i's lists shared with an equal pair already held, or
 * records slot i as the holder of its own. Out of memory: the slot
 * simply keeps its own lists. */
static void
fam_intern(struct tk_nodes *t, size_t i)
{
	struct tk_microdesc *md = &t->mds[i];
	size_t s;
	if (!md->n_family && !md->n_family_ids)
		return;
	if ((!t->fam || 4 * (t->n_fam + 1) > 3 * (t->fam_mask + 1)) &&
	    fam_grow(t) < 0)
		return;
	s = (size_t)fam_hash(md) & t->fam_mask;
	while (t->fam[s]) {
		const struct tk_microdesc *o = &t->mds[t->fam[s] - 1];
		if (tk_microdesc_family_equal(o, md)) {
			tk_microdesc_share_family(md, o);
			return;
		}
		s = (s + 1) & t->fam_mask;
	}
	t->fam[s] = (uint32_t)i + 1;
	t->n_fam++;
}

/* Index of the router whose m line is digest, or -1. */
static long
slot_of(const struct tk_nodes *t, const uint8_t digest[32])
{
	const struct tk_router *r = tk_consensus_router_by_md(t->c, digest);
	return r ? (long)(r - t->c->routers) : -1;
}

static void
put(struct tk_nodes *t, size_t i, struct tk_microdesc *md)
{
	pol_intern(t, &md->p);
	pol_intern(t, &md->p6);
	t->mds[i] = *md; /* the table takes over md's allocations */
	tk_microdesc_init(md);
	t->node[i].md = &t->mds[i];
	t->n_have++;
	fam_intern(t, i);
}

int
tk_nodes_add_md_at(struct tk_nodes *t, struct tk_microdesc *md,
		   const uint8_t digest[32], size_t *slot, char *err,
		   size_t errlen)
{
	const struct tk_router *r = tk_consensus_match_md(t->c, digest, err,
							  errlen);
	if (!r)
		return -1;
	size_t i = (size_t)(r - t->c->routers);
	if (slot)
		*slot = i;
	if (t->node[i].md)
		return 0;
	put(t, i, md);
	return 1;
}

int
tk_nodes_add_md(struct tk_nodes *t, struct tk_microdesc *md,
		const uint8_t digest[32], char *err, size_t errlen)
{
	return tk_nodes_add_md_at(t, md, digest, NULL, err, errlen);
}

size_t
tk_nodes_adopt(struct tk_nodes *t, struct tk_nodes *old)
{
	size_t moved = 0;
	for (size_t k = 0; k < old->n; k++) {
		if (!old->node[k].md)
			continue;
		long i = slot_of(t, old->node[k].rt->md_digest);
		if (i < 0 || t->node[i].md)
			continue;
		put(t, (size_t)i, &old->mds[k]);
		old->node[k].md = NULL;
		old->n_have--;
		moved++;
	}
	return moved;
}

size_t
tk_nodes_missing(const struct tk_nodes *t, uint8_t (*out)[32], size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (t->node[i].md)
			continue;
		if (n < cap)
			memcpy(out[n], t->c->routers[i].md_digest, 32);
		n++;
	}
	return n;
}

static double
role_fraction(const struct tk_nodes *t, const struct tk_path_weights *w,
	      const struct tk_path_opts *o, enum tk_path_role role)
{
	uint64_t all = 0, have = 0;
	size_t n_all = 0, n_have = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (!tk_path_flags_ok(t->node[i].rt, role, o))
			continue;
		uint64_t wt = tk_path_weight(&t->node[i], role, w);
		n_all++;
		all += wt;
		if (t->node[i].md) {
			n_have++;
			have += wt;
		}
	}
	if (n_all == 0)
		return 0.0;
	if (all == 0)
		return (double)n_have / (double)n_all;
	return (double)have / (double)all;
}

double
tk_nodes_path_fraction(const struct tk_nodes *t,
		       const struct tk_path_weights *w,
		       const struct tk_path_opts *o)
{
	return role_fraction(t, w, o, TK_PATH_GUARD) *
	       role_fraction(t, w, o, TK_PATH_MIDDLE) *
	       role_fraction(t, w, o, TK_PATH_EXIT);
}

long
tk_nodes_find(const struct tk_nodes *t, const uint8_t rsa_id[20])
{
	for (size_t i = 0; i < t->n; i++)
		if (memcmp(t->node[i].rt->rsa_id, rsa_id, 20) == 0)
			return (long)i;
	return -1;
}
