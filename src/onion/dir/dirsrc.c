/* dirsrc.h: where to fetch from, and how long to leave a source alone
 * after it failed. */
#include "onion/dir/dirsrc.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A source that failed: when it may be asked again. Kept sorted by
 * identity: a pick over thousands of caches looks each one up. */
struct srcstate {
	uint8_t id[20];
	unsigned fails;
	int64_t next_ok_ms;
};

struct tk_dirsources {
	struct tk_dirsources_config cfg;
	tk_dirauth *auths;
	tk_dirfallback *fallbacks;
	char (*fallback_names)[20];
	struct srcstate *st;
	size_t n_st, cap_st;
};

void
tk_dirsource_from_auth(const tk_dirauth *a, struct tk_dirsource *s)
{
	memset(s, 0, sizeof *s);
	snprintf(s->nickname, sizeof s->nickname, "%s",
		 a->nickname[0] ? a->nickname : "authority");
	memcpy(&s->addr, &a->or_addr, sizeof s->addr);
	if (a->has_ipv6)
		memcpy(&s->addr6, &a->or_addr6, sizeof s->addr6);
	memcpy(s->rsa_id, a->rsa_id, 20);
	s->is_authority = 1;
}

void
tk_dirsource_from_fallback(const tk_dirfallback *f, const char *nickname,
			   struct tk_dirsource *s)
{
	memset(s, 0, sizeof *s);
	if (nickname && nickname[0]) {
		snprintf(s->nickname, sizeof s->nickname, "%s", nickname);
	} else {
		/* "fallback" and the start of its fingerprint */
		snprintf(s->nickname, sizeof s->nickname,
			 "fallback$%02X%02X%02X%02X", f->rsa_id[0],
			 f->rsa_id[1], f->rsa_id[2], f->rsa_id[3]);
	}
	memcpy(&s->addr, &f->or_addr, sizeof s->addr);
	if (f->has_ipv6)
		memcpy(&s->addr6, &f->or_addr6, sizeof s->addr6);
	memcpy(s->rsa_id, f->rsa_id, 20);
	s->is_fallback = 1;
}

void
tk_dirsource_from_router(const struct tk_router *r, struct tk_dirsource *s)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&s->addr;
	memset(s, 0, sizeof *s);
	snprintf(s->nickname, sizeof s->nickname, "%s", r->nickname);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(r->or_port);
	sin->sin_addr.s_addr = htonl(r->ipv4);
	if (r->has_ipv6 && r->ipv6_port) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&s->addr6;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, r->ipv6, 16);
		sin6->sin6_port = htons(r->ipv6_port);
	}
	memcpy(s->rsa_id, r->rsa_id, 20);
	s->is_authority = (r->flags & TK_RF_AUTHORITY) != 0;
}

int
tk_dirsource_choose(struct tk_dirsource *s, const struct tk_reach *r)
{
	int fam = tk_reach_choose(r, s->addr.ss_family == AF_INET,
				  s->addr6.ss_family == AF_INET6);
	s->use_ipv6 = fam == AF_INET6;
	return fam;
}

const struct sockaddr_storage *
tk_dirsource_addr(const struct tk_dirsource *s)
{
	return s->use_ipv6 ? &s->addr6 : &s->addr;
}

void
tk_dirsource_target(const struct tk_dirsource *s, tk_channel_target *t)
{
	memset(t, 0, sizeof *t);
	t->addr = *tk_dirsource_addr(s);
	memcpy(t->rsa_id, s->rsa_id, 20);
}

tk_dirsources *
tk_dirsources_new(const struct tk_dirsources_config *cfg)
{
	tk_dirsources *ds = calloc(1, sizeof *ds);
	size_t na = cfg->n_auths ? cfg->n_auths : 1;
	size_t nf = cfg->n_fallbacks ? cfg->n_fallbacks : 1;
	if (!ds)
		return NULL;
	ds->cfg = *cfg;
	ds->auths = malloc(na * sizeof *ds->auths);
	ds->fallbacks = malloc(nf * sizeof *ds->fallbacks);
	ds->fallback_names = calloc(nf, sizeof *ds->fallback_names);
	if (!ds->auths || !ds->fallbacks || !ds->fallback_names) {
		tk_dirsources_free(ds);
		return NULL;
	}
	if (cfg->n_auths)
		memcpy(ds->auths, cfg->auths, cfg->n_auths * sizeof *ds->auths);
	if (cfg->n_fallbacks)
		memcpy(ds->fallbacks, cfg->fallbacks,
		       cfg->n_fallbacks * sizeof *ds->fallbacks);
	for (size_t i = 0; cfg->fallback_names && i < cfg->n_fallbacks; i++)
		if (cfg->fallback_names[i])
			snprintf(ds->fallback_names[i],
				 sizeof ds->fallback_names[i], "%s",
				 cfg->fallback_names[i]);
	ds->cfg.auths = ds->auths;
	ds->cfg.fallbacks = ds->fallbacks;
	ds->cfg.fallback_names = NULL;
	return ds;
}

void
tk_dirsources_free(tk_dirsources *ds)
{
	if (!ds)
		return;
	free(ds->auths);
	free(ds->fallbacks);
	free(ds->fallback_names);
	free(ds->st);
	free(ds);
}

size_t
tk_dirsources_n_fallbacks(const tk_dirsources *ds)
{
	return ds->cfg.n_fallbacks;
}

size_t
tk_dirsources_n_authorities(const tk_dirsources *ds)
{
	return ds->cfg.n_auths;
}

int64_t
tk_dirsources_backoff_ms(tk_dirsources *ds, unsigned fails)
{
	int64_t d = ds->cfg.backoff_base_ms;
	for (unsigned i = 1; i < fails && d < ds->cfg.backoff_max_ms; i++)
		d *= 2;
	if (d > ds->cfg.backoff_max_ms)
		d = ds->cfg.backoff_max_ms;
	if (d <= 1)
		return d;
	return d / 2 + (int64_t)(ds->cfg.random(ds->cfg.random_arg) %
				 (uint64_t)(d / 2 + 1));
}

/* Binary search; *at is where id is or would go. */
static struct srcstate *
find_state(const tk_dirsources *ds, const uint8_t id[20], size_t *at)
{
	size_t lo = 0, hi = ds->n_st;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = memcmp(ds->st[mid].id, id, 20);
		if (d == 0) {
			*at = mid;
			return &ds->st[mid];
		}
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return NULL;
}

static struct srcstate *
state_of(tk_dirsources *ds, const uint8_t id[20], int create)
{
	size_t at;
	struct srcstate *s = find_state(ds, id, &at);
	if (s || !create)
		return s;
	if (ds->n_st == ds->cap_st) {
		size_t cap = ds->cap_st ? ds->cap_st * 2 : 16;
		void *p = realloc(ds->st, cap * sizeof *ds->st);
		if (!p)
			return NULL;
		ds->st = p;
		ds->cap_st = cap;
	}
	memmove(&ds->st[at + 1], &ds->st[at], (ds->n_st - at) * sizeof *ds->st);
	ds->n_st++;
	s = &ds->st[at];
	memcpy(s->id, id, 20);
	s->fails = 0;
	s->next_ok_ms = 0;
	return s;
}

void
tk_dirsources_failed(tk_dirsources *ds, const struct tk_dirsource *src,
		     int64_t now_ms)
{
	struct srcstate *s = state_of(ds, src->rsa_id, 1);
	if (!s)
		return;
	s->fails++;
	s->next_ok_ms = now_ms + tk_dirsources_backoff_ms(ds, s->fails);
}

void
tk_dirsources_succeeded(tk_dirsources *ds, const struct tk_dirsource *src)
{
	struct srcstate *s = state_of(ds, src->rsa_id, 0);
	if (s) {
		s->fails = 0;
		s->next_ok_ms = 0;
	}
}

int
tk_dirsources_ready(tk_dirsources *ds, const struct tk_dirsource *src,
		    int64_t now_ms)
{
	const struct srcstate *s = state_of(ds, src->rsa_id, 0);
	return !s || s->next_ok_ms <= now_ms;
}

int
tk_dirsources_authority(const tk_dirsources *ds, const uint8_t rsa_id[20])
{
	for (size_t i = 0; i < ds->cfg.n_auths; i++)
		if (memcmp(ds->auths[i].rsa_id, rsa_id, 20) == 0)
			return (int)i;
	return -1;
}

static int
router_is_cache(const struct tk_router *r)
{
	const uint32_t need = TK_RF_V2DIR | TK_RF_RUNNING | TK_RF_VALID;
	return (r->flags & need) == need && r->ipv4 != 0 && r->or_port != 0;
}

static int64_t
earliest(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* Candidate i of a pool: its identity and weight, or 0 if it is not one.
 * Caches: authorities only when the consensus lists no other cache. */
struct pool {
	enum tk_dirsrc_pool kind;
	const struct tk_consensus *c;
	size_t n;
	int auth_caches;
};

/* 1 if the configured IP versions let us reach an ORPort of a fallback
 * or authority (has4: an IPv4 ORPort, has6: an IPv6 one). */
static int
reachable(const tk_dirsources *ds, int has4, int has6)
{
	return tk_reach_choose(&ds->cfg.reach, has4, has6) != 0;
}

static double
candidate(const tk_dirsources *ds, const struct pool *p, size_t i,
	  const uint8_t **id)
{
	switch (p->kind) {
	case TK_DIRSRC_FALLBACKS:
		if (i < ds->cfg.n_fallbacks) {
			const tk_dirfallback *f = &ds->fallbacks[i];
			*id = f->rsa_id;
			if (!reachable(ds, 1, f->has_ipv6))
				return 0;
			return f->weight;
		}
		i -= ds->cfg.n_fallbacks;
		*id = ds->auths[i].rsa_id;
		if (!reachable(ds, 1, ds->auths[i].has_ipv6))
			return 0;
		return ds->cfg.authority_weight * ds->auths[i].weight;
	case TK_DIRSRC_AUTHORITIES:
		*id = ds->auths[i].rsa_id;
		return reachable(ds, 1, ds->auths[i].has_ipv6) ? 1.0 : 0;
	case TK_DIRSRC_CACHES: {
		const struct tk_router *r = &p->c->routers[i];
		int is_auth;
		if (!router_is_cache(r) ||
		    !reachable(ds, 1, r->has_ipv6 && r->ipv6_port))
			return 0;
		is_auth = (r->flags & TK_RF_AUTHORITY) ||
			  tk_dirsources_authority(ds, r->rsa_id) >= 0;
		if (is_auth != p->auth_caches)
			return 0;
		*id = r->rsa_id;
		return 1.0;
	}
	}
	return 0;
}

static void
make_source(const tk_dirsources *ds, const struct pool *p, size_t i,
	    struct tk_dirsource *out)
{
	switch (p->kind) {
	case TK_DIRSRC_FALLBACKS:
		if (i < ds->cfg.n_fallbacks) {
			tk_dirsource_from_fallback(&ds->fallbacks[i],
						   ds->fallback_names[i], out);
			break;
		}
		tk_dirsource_from_auth(&ds->auths[i - ds->cfg.n_fallbacks],
				       out);
		break;
	case TK_DIRSRC_AUTHORITIES:
		tk_dirsource_from_auth(&ds->auths[i], out);
		break;
	case TK_DIRSRC_CACHES:
		tk_dirsource_from_router(&p->c->routers[i], out);
		if (tk_dirsources_authority(ds, out->rsa_id) >= 0)
			out->is_authority = 1;
		break;
	}
	tk_dirsource_choose(out, &ds->cfg.reach);
}

static int
avoided(const uint8_t *id, const uint8_t (*avoid)[20], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(avoid[i], id, 20) == 0)
			return 1;
	return 0;
}

int
tk_dirsources_pick(tk_dirsources *ds, enum tk_dirsrc_pool pool,
		   const struct tk_consensus *c, int64_t now,
		   const uint8_t (*avoid)[20], size_t n_avoid,
		   struct tk_dirsource *out, int64_t *wake_at)
{
	struct pool p = { .kind = pool, .c = c };
	double total = 0, x = 0;
	int any_avoided = 0;

	*wake_at = -1;
	switch (pool) {
	case TK_DIRSRC_FALLBACKS:
		if (ds->cfg.n_fallbacks == 0)
			return -1;
		p.n = ds->cfg.n_fallbacks + ds->cfg.n_auths;
		break;
	case TK_DIRSRC_AUTHORITIES:
		p.n = ds->cfg.n_auths;
		break;
	case TK_DIRSRC_CACHES:
		if (!c)
			return -1;
		p.n = c->n_routers;
		/* any cache that is no authority? */
		for (size_t i = 0; i < p.n; i++) {
			const uint8_t *id;
			if (candidate(ds, &p, i, &id) > 0)
				break;
			if (i + 1 == p.n)
				p.auth_caches = 1;
		}
		break;
	}
	/* Two passes: the total weight of what may be asked, then the
	 * chosen one; no candidate list is allocated. */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			if (total <= 0)
				return any_avoided ? -2 : -1;
			x = (double)(ds->cfg.random(ds->cfg.random_arg) >> 11) /
			    9007199254740992.0 * total;
		}
		for (size_t i = 0; i < p.n; i++) {
			const uint8_t *id;
			double w = candidate(ds, &p, i, &id);
			const struct srcstate *s;
			size_t at;
			if (w <= 0)
				continue;
			s = find_state(ds, id, &at);
			if (s && s->next_ok_ms > now) {
				if (pass == 0)
					*wake_at = earliest(*wake_at,
							    s->next_ok_ms);
				continue;
			}
			if (avoided(id, avoid, n_avoid)) {
				any_avoided = 1;
				continue;
			}
			if (pass == 0) {
				total += w;
				continue;
			}
			if (x < w || i + 1 == p.n) {
				make_source(ds, &p, i, out);
				*wake_at = -1;
				return 0;
			}
			x -= w;
		}
		if (pass == 1) {
			/* rounding left x past the last candidate: take
			 * the last one that was eligible */
			for (size_t i = p.n; i-- > 0;) {
				const uint8_t *id;
				const struct srcstate *s;
				size_t at;
				if (candidate(ds, &p, i, &id) <= 0 ||
				    avoided(id, avoid, n_avoid))
					continue;
				s = find_state(ds, id, &at);
				if (s && s->next_ok_ms > now)
					continue;
				make_source(ds, &p, i, out);
				*wake_at = -1;
				return 0;
			}
		}
	}
	return -1;
}
