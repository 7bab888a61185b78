/* dirsrc.h: where to fetch from, and how long to leave a source alone
 * after it failed. */
#include "onion/dir/dirsrc.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A source that failed: when it may be asked again. */
struct srcstate {
	uint8_t id[20];
	unsigned fails;
	int64_t next_ok_ms;
};

struct tk_dirsources {
	struct tk_dirsources_config cfg;
	tk_dirauth *auths;
	struct srcstate *st;
	size_t n_st, cap_st;
	struct tk_dirsource prefer;
	int prefer_set;
};

void
tk_dirsource_from_auth(const tk_dirauth *a, struct tk_dirsource *s)
{
	memset(s, 0, sizeof *s);
	snprintf(s->nickname, sizeof s->nickname, "%s",
		 a->nickname[0] ? a->nickname : "authority");
	memcpy(&s->addr, &a->or_addr, sizeof s->addr);
	memcpy(s->rsa_id, a->rsa_id, 20);
	s->is_authority = 1;
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
	memcpy(s->rsa_id, r->rsa_id, 20);
	s->is_authority = (r->flags & TK_RF_AUTHORITY) != 0;
}

void
tk_dirsource_target(const struct tk_dirsource *s, tk_channel_target *t)
{
	memset(t, 0, sizeof *t);
	t->addr = s->addr;
	memcpy(t->rsa_id, s->rsa_id, 20);
}

tk_dirsources *
tk_dirsources_new(const struct tk_dirsources_config *cfg)
{
	tk_dirsources *ds = calloc(1, sizeof *ds);
	if (!ds)
		return NULL;
	ds->cfg = *cfg;
	ds->auths =
		malloc((cfg->n_auths ? cfg->n_auths : 1) * sizeof *ds->auths);
	if (!ds->auths) {
		free(ds);
		return NULL;
	}
	memcpy(ds->auths, cfg->auths, cfg->n_auths * sizeof *ds->auths);
	ds->cfg.auths = ds->auths;
	return ds;
}

void
tk_dirsources_free(tk_dirsources *ds)
{
	if (!ds)
		return;
	free(ds->auths);
	free(ds->st);
	free(ds);
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

static struct srcstate *
state_of(tk_dirsources *ds, const uint8_t id[20], int create)
{
	struct srcstate *s;
	for (size_t i = 0; i < ds->n_st; i++)
		if (memcmp(ds->st[i].id, id, 20) == 0)
			return &ds->st[i];
	if (!create)
		return NULL;
	if (ds->n_st == ds->cap_st) {
		size_t cap = ds->cap_st ? ds->cap_st * 2 : 16;
		void *p = realloc(ds->st, cap * sizeof *ds->st);
		if (!p)
			return NULL;
		ds->st = p;
		ds->cap_st = cap;
	}
	s = &ds->st[ds->n_st++];
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

void
tk_dirsources_prefer(tk_dirsources *ds, const struct tk_dirsource *s)
{
	ds->prefer = *s;
	ds->prefer_set = 1;
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

int
tk_dirsources_pick(tk_dirsources *ds, const struct tk_consensus *caches,
		   int64_t now, struct tk_dirsource *out, int64_t *wake_at)
{
	size_t n_auth = ds->cfg.n_auths;
	size_t n_router = caches ? caches->n_routers : 0;
	size_t total = n_auth + n_router, n_ok = 0;
	uint64_t pick = 0;

	if (ds->prefer_set) {
		const struct srcstate *ps = state_of(ds, ds->prefer.rsa_id, 0);
		ds->prefer_set = 0;
		if (!ps || ps->next_ok_ms <= now) {
			*out = ds->prefer;
			*wake_at = -1;
			return 0;
		}
	}
	*wake_at = -1;
	/* Two passes: count the candidates, then find the chosen one; no
	 * candidate list is allocated. */
	for (int pass = 0; pass < 2; pass++) {
		size_t k = 0;
		if (pass == 1) {
			if (n_ok == 0)
				return -1;
			pick = ds->cfg.random(ds->cfg.random_arg) % n_ok;
		}
		for (size_t i = 0; i < total; i++) {
			const struct srcstate *s;
			const uint8_t *id;
			if (i < n_auth) {
				id = ds->auths[i].rsa_id;
			} else {
				const struct tk_router *r =
					&caches->routers[i - n_auth];
				/* authorities are already in the first part */
				if (!router_is_cache(r) ||
				    tk_dirsources_authority(ds, r->rsa_id) >= 0)
					continue;
				id = r->rsa_id;
			}
			s = state_of(ds, id, 0);
			if (s && s->next_ok_ms > now) {
				if (pass == 0)
					*wake_at = earliest(*wake_at,
							    s->next_ok_ms);
				continue;
			}
			if (pass == 0) {
				n_ok++;
				continue;
			}
			if (k++ != pick)
				continue;
			if (i < n_auth)
				tk_dirsource_from_auth(&ds->auths[i], out);
			else
				tk_dirsource_from_router(
					&caches->routers[i - n_auth], out);
			return 0;
		}
	}
	return -1;
}
