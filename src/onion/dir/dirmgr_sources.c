/* dirmgr.h: where to fetch from, and how long to leave a source alone
 * after it failed. */
#include "onion/dir/dirmgr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "onion/base/bytes.h"
#include "onion/dir/dircache.h"
#include "onion/dir/dirmgr_int.h"
#include "onion/netdoc/netdoc.h"

/* Exponential backoff with jitter: base * 2^(fails-1), capped, then a
 * random point in its upper half so clients that failed together do not
 * retry together. */
int64_t tk_dirmgr_backoff_ms(tk_dirmgr *m, unsigned fails)
{
	int64_t d = m->cfg.backoff_base_ms;
	for (unsigned i = 1; i < fails && d < m->cfg.backoff_max_ms; i++)
		d *= 2;
	if (d > m->cfg.backoff_max_ms)
		d = m->cfg.backoff_max_ms;
	if (d <= 1)
		return d;
	return d / 2 + (int64_t)(m->env.random(m->env.arg) % (uint64_t)(d / 2 + 1));
}

/* ---- sources and their backoff ---- */

static struct tk_dirmgr_srcstate *src_state(tk_dirmgr *m, const uint8_t id[20],
					    int create)
{
	for (size_t i = 0; i < m->n_srcs; i++)
		if (memcmp(m->srcs[i].id, id, 20) == 0)
			return &m->srcs[i];
	if (!create)
		return NULL;
	if (m->n_srcs == m->cap_srcs) {
		size_t cap = m->cap_srcs ? m->cap_srcs * 2 : 16;
		void *p = realloc(m->srcs, cap * sizeof *m->srcs);
		if (!p)
			return NULL;
		m->srcs = p;
		m->cap_srcs = cap;
	}
	struct tk_dirmgr_srcstate *s = &m->srcs[m->n_srcs++];
	memcpy(s->id, id, 20);
	s->fails = 0;
	s->next_ok_ms = 0;
	return s;
}

void tk_dirmgr_source_failed(tk_dirmgr *m, const struct tk_dirmgr_source *src)
{
	struct tk_dirmgr_srcstate *s = src_state(m, src->rsa_id, 1);
	if (!s)
		return;
	s->fails++;
	s->next_ok_ms = tk_dirmgr_now(m) + tk_dirmgr_backoff_ms(m, s->fails);
}

void tk_dirmgr_source_ok(tk_dirmgr *m, const struct tk_dirmgr_source *src)
{
	struct tk_dirmgr_srcstate *s = src_state(m, src->rsa_id, 0);
	if (s) {
		s->fails = 0;
		s->next_ok_ms = 0;
	}
}

static void auth_source(const tk_dirauth *a, struct tk_dirmgr_source *s)
{
	memset(s, 0, sizeof *s);
	snprintf(s->nickname, sizeof s->nickname, "%s",
		 a->nickname[0] ? a->nickname : "authority");
	memcpy(&s->addr, &a->or_addr, sizeof s->addr);
	memcpy(s->rsa_id, a->rsa_id, 20);
	s->is_authority = 1;
}

static void router_source(const struct tk_router *r, struct tk_dirmgr_source *s)
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

static int router_is_cache(const struct tk_router *r)
{
	const uint32_t need = TK_RF_V2DIR | TK_RF_RUNNING | TK_RF_VALID;
	return (r->flags & need) == need && r->ipv4 != 0 && r->or_port != 0;
}

/* Picks a source not in backoff, uniformly: the configured authorities,
 * plus the directory caches of the verified consensus when caches_ok.
 * 0 with *out, or -1 with *wake_at the earliest time one leaves backoff. */
int tk_dirmgr_pick_source(tk_dirmgr *m, int caches_ok, int64_t now,
		       struct tk_dirmgr_source *out, int64_t *wake_at)
{
	/* The source that just served us is connected already: certs, and
	 * the first microdescriptor batch, go there while it behaves. */
	if (m->prefer_set) {
		const struct tk_dirmgr_srcstate *ps =
			src_state(m, m->prefer.rsa_id, 0);
		m->prefer_set = 0;
		if (!ps || ps->next_ok_ms <= now) {
			*out = m->prefer;
			*wake_at = -1;
			return 0;
		}
	}
	size_t n_router = caches_ok && m->cons ? m->cons->n_routers : 0;
	size_t total = m->cfg.n_auths + n_router, n_ok = 0;
	uint64_t pick = 0;
	*wake_at = -1;
	/* Two passes: count the candidates, then find the chosen one;
	 * no candidate list is allocated. */
	for (int pass = 0; pass < 2; pass++) {
		size_t k = 0;
		if (pass == 1) {
			if (n_ok == 0)
				return -1;
			pick = m->env.random(m->env.arg) % n_ok;
		}
		for (size_t i = 0; i < total; i++) {
			const uint8_t *id;
			if (i < m->cfg.n_auths) {
				id = m->auths[i].rsa_id;
			} else {
				const struct tk_router *r =
					&m->cons->routers[i - m->cfg.n_auths];
				/* authorities are already in the first part */
				if (!router_is_cache(r) ||
				    tk_dirmgr_auth_index(m, r->rsa_id) >= 0)
					continue;
				id = r->rsa_id;
			}
			const struct tk_dirmgr_srcstate *s = src_state(m, id, 0);
			if (s && s->next_ok_ms > now) {
				if (pass == 0)
					*wake_at = tk_dirmgr_min_t(*wake_at, s->next_ok_ms);
				continue;
			}
			if (pass == 0) {
				n_ok++;
				continue;
			}
			if (k++ != pick)
				continue;
			if (i < m->cfg.n_auths)
				auth_source(&m->auths[i], out);
			else
				router_source(&m->cons->routers[i - m->cfg.n_auths],
					      out);
			return 0;
		}
	}
	return -1;
}

int tk_dirmgr_auth_index(const tk_dirmgr *m, const uint8_t rsa_id[20])
{
	for (size_t i = 0; i < m->cfg.n_auths; i++)
		if (memcmp(m->auths[i].rsa_id, rsa_id, 20) == 0)
			return (int)i;
	return -1;
}

