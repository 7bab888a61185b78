/* dirmgr.h: the bootstrap state machine.
 *
 * Everything is need-driven: after any event (start, a fetch answered, a
 * timer) step() looks at what is held and launches what is missing:
 *   no live consensus, or the refetch time has come -> a consensus fetch;
 *   a fetched consensus whose signers' certificates we lack -> certs;
 *   a verified consensus with microdescriptors missing -> md batches;
 * and asks to be woken for the earliest of: the refetch time, the end of a
 * source's backoff, a microdescriptor's retry time, the end of the
 * consensus's usable life. */
#include "onion/dirmgr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "onion/bytes.h"
#include "onion/dircache.h"
#include "onion/dirmgr_int.h"
#include "onion/netdoc.h"

#define MAX_REQS TK_DIRMGR_MAX_REQS
#define MAX_MD_BATCH 92		/* dir-spec: what proxies accept */
#define MAX_CERTS 64

static void step(tk_dirmgr *m);

/* ---- small helpers ---- */

static int64_t now_ms(tk_dirmgr *m)
{
	return m->env.now_ms(m->env.arg);
}

void tk_dirmgr_logf(tk_dirmgr *m, int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	if (!m->env.log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	m->env.log(m->env.arg, level, buf);
}

static void progress(tk_dirmgr *m, int pct, const char *tag,
		     const char *summary)
{
	if (pct <= m->progress_pct)
		return;
	m->progress_pct = pct;
	if (m->env.progress)
		m->env.progress(m->env.arg, pct, tag, summary);
}

static void changed(tk_dirmgr *m)
{
	if (m->env.changed)
		m->env.changed(m->env.arg);
}

static int64_t min_t(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* Exponential backoff with jitter: base * 2^(fails-1), capped, then a
 * random point in its upper half so clients that failed together do not
 * retry together. */
static int64_t backoff_ms(tk_dirmgr *m, unsigned fails)
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

static void fmt_time(int64_t t, char *buf, size_t len)
{
	tk_netdoc_time_fmt(t, buf, len);
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

static void source_failed(tk_dirmgr *m, const struct tk_dirmgr_source *src)
{
	struct tk_dirmgr_srcstate *s = src_state(m, src->rsa_id, 1);
	if (!s)
		return;
	s->fails++;
	s->next_ok_ms = now_ms(m) + backoff_ms(m, s->fails);
}

static void source_ok(tk_dirmgr *m, const struct tk_dirmgr_source *src)
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
static int pick_source(tk_dirmgr *m, int caches_ok, int64_t now,
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
					*wake_at = min_t(*wake_at, s->next_ok_ms);
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

/* ---- requests ---- */

static struct tk_dirmgr_req *req_find(tk_dirmgr *m, uint64_t id)
{
	for (size_t i = 0; i < m->n_reqs; i++)
		if (m->reqs[i].id == id)
			return &m->reqs[i];
	return NULL;
}

static size_t req_count(const tk_dirmgr *m, enum tk_dirmgr_req_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_reqs; i++)
		n += m->reqs[i].kind == kind;
	return n;
}

static void req_drop(tk_dirmgr *m, struct tk_dirmgr_req *r)
{
	free(r->slots);
	*r = m->reqs[--m->n_reqs];
}

static const char *kind_name(enum tk_dirmgr_req_kind k)
{
	switch (k) {
	case TK_DIRREQ_CONSENSUS:
		return "consensus";
	case TK_DIRREQ_CERTS:
		return "authority certificates";
	case TK_DIRREQ_MDS:
		return "microdescriptors";
	}
	return "?";
}

/* Starts a request; on success the request is recorded (slots owned by
 * it), otherwise the source is backed off and slots freed. */
static int launch(tk_dirmgr *m, enum tk_dirmgr_req_kind kind,
		  const struct tk_dirmgr_source *src, const char *path,
		  uint32_t *slots, size_t n_slots)
{
	struct tk_dirmgr_req *r;
	int rc;
	if (m->n_reqs == MAX_REQS) {
		free(slots);
		return -2;
	}
	r = &m->reqs[m->n_reqs++];
	memset(r, 0, sizeof *r);
	r->id = ++m->next_id;
	r->kind = kind;
	r->src = *src;
	r->slots = slots;
	r->n_slots = n_slots;
	r->cons = m->cons;
	m->stats.fetches++;
	if (!m->ever_usable)
		progress(m, 5, "conn", "Connecting to a relay");
	tk_dirmgr_logf(m, TK_DLOG_INFO, "fetching %s from %s%s: %.60s%s",
		       kind_name(kind), src->nickname,
		       src->is_authority ? " (authority)" : "", path,
		       strlen(path) > 60 ? "..." : "");
	rc = m->env.fetch(m->env.arg, r->id, src, path);
	if (rc < 0) {
		tk_dirmgr_logf(m, TK_DLOG_WARN, "cannot fetch %s from %s",
			       kind_name(kind), src->nickname);
		m->stats.failures++;
		source_failed(m, src);
		req_drop(m, r);
		return -1;
	}
	return 0;
}

/* ---- certificates ---- */

static int cert_known(const tk_dirmgr *m, const struct tk_authcert *c)
{
	for (size_t i = 0; i < m->n_certs; i++)
		if (memcmp(m->certs[i].fingerprint, c->fingerprint, 20) == 0 &&
		    memcmp(m->certs[i].signing_digest, c->signing_digest, 20) ==
			    0)
			return 1;
	return 0;
}

static int is_configured(const tk_dirmgr *m, const uint8_t v3[20])
{
	for (size_t i = 0; i < m->cfg.n_auths; i++)
		if (memcmp(m->v3ids[i], v3, 20) == 0)
			return 1;
	return 0;
}

/* Adds every certificate of text that is new, checks out, belongs to a
 * configured authority and is current. Returns how many were added. */
size_t tk_dirmgr_add_certs(tk_dirmgr *m, const char *text, size_t len,
			   const char *origin)
{
	size_t pos = 0, added = 0;
	int64_t now = now_ms(m) / 1000;
	while (pos < len) {
		struct tk_authcert c;
		size_t used = 0;
		char err[TK_NETDOC_ERRLEN], hex[41];
		/* skip blank lines between certificates */
		if (text[pos] == '\n') {
			pos++;
			continue;
		}
		tk_authcert_init(&c);
		int rc = tk_authcert_parse(text + pos, len - pos, &used, &c, err,
					   sizeof err);
		if (rc != 0) {
			tk_dirmgr_logf(m, TK_DLOG_WARN, "refused an authority "
				       "certificate from %s: %s", origin, err);
			m->stats.refused_docs++;
			tk_authcert_free(&c);
			if (used == 0)
				break;
			pos += used;
			continue;
		}
		tk_netdoc_hex(c.fingerprint, 20, hex);
		if (!is_configured(m, c.fingerprint)) {
			tk_dirmgr_logf(m, TK_DLOG_INFO, "ignored certificate of "
				       "%s from %s: not a configured authority",
				       hex, origin);
		} else if (!tk_authcert_current(&c, now)) {
			tk_dirmgr_logf(m, TK_DLOG_WARN, "refused certificate of "
				       "%s from %s: not current (expired or "
				       "published in the future)", hex, origin);
			m->stats.refused_docs++;
		} else if (!cert_known(m, &c) && m->n_certs < MAX_CERTS) {
			char *t = malloc(used);
			if (t) {
				memcpy(t, text + pos, used);
				m->certs[m->n_certs] = c;
				m->cert_text[m->n_certs] = t;
				m->cert_len[m->n_certs] = used;
				m->n_certs++;
				added++;
				pos += used;
				continue; /* c now owned by the table */
			}
		}
		tk_authcert_free(&c);
		pos += used;
	}
	return added;
}

/* ---- the cache ---- */

static int cache_on(const tk_dirmgr *m)
{
	return m->data_dir != NULL;
}

static void cache_write(tk_dirmgr *m, enum tk_dircache_file f,
			const char *const *parts, const size_t *lens, size_t n)
{
	char err[256];
	if (tk_dircache_write(m->data_dir, f, parts, lens, n, err, sizeof err))
		tk_dirmgr_logf(m, TK_DLOG_WARN, "%s (the cache is not updated)",
			       err);
}

static void save_consensus_and_certs(tk_dirmgr *m)
{
	const char *p = m->cons_text;
	size_t l = m->cons_len;
	if (!cache_on(m))
		return;
	cache_write(m, TK_DIRCACHE_CONSENSUS, &p, &l, 1);
	cache_write(m, TK_DIRCACHE_CERTS, (const char *const *)m->cert_text,
		    m->cert_len, m->n_certs);
}

static void save_mds(tk_dirmgr *m)
{
	const char **parts;
	size_t *lens, n = 0;
	if (!cache_on(m) || !m->has_nodes)
		return;
	parts = malloc((m->nodes.n ? m->nodes.n : 1) * sizeof *parts);
	lens = malloc((m->nodes.n ? m->nodes.n : 1) * sizeof *lens);
	if (parts && lens) {
		for (size_t i = 0; i < m->nodes.n; i++) {
			if (!m->md_text[i])
				continue;
			parts[n] = m->md_text[i];
			lens[n++] = m->md_len[i];
		}
		cache_write(m, TK_DIRCACHE_MICRODESCS, parts, lens, n);
		m->mds_dirty = 0;
	}
	free(parts);
	free(lens);
}

/* ---- microdescriptors ---- */

/* Offers every microdescriptor of body to the node table. from_net:
 * unlisted ones are refused loudly (a cache file naturally holds stale
 * ones). Returns how many were new. */
static size_t offer_mds(tk_dirmgr *m, const char *body, size_t len,
			const char *origin, int from_net)
{
	size_t pos = 0, added = 0;
	struct tk_microdesc md;
	const char *text;
	size_t tlen;
	char err[TK_NETDOC_ERRLEN], b64[48];
	int rc;

	if (!m->has_nodes)
		return 0;
	tk_microdesc_init(&md);
	while ((rc = tk_microdesc_next(body, len, &pos, &md, &text, &tlen, err,
				       sizeof err)) != 0) {
		uint8_t digest[32];
		memcpy(digest, md.digest, 32);
		tk_base64_encode(digest, 32, 0, b64, sizeof b64);
		if (rc < 0) {
			if (from_net) {
				m->stats.refused_docs++;
				tk_dirmgr_logf(m, TK_DLOG_WARN, "refused "
					       "microdescriptor %s from %s: %s",
					       b64, origin, err);
			}
			continue;
		}
		rc = tk_nodes_add_md(&m->nodes, &md, err, sizeof err);
		if (rc < 0) {
			if (from_net) {
				m->stats.refused_docs++;
				tk_dirmgr_logf(m, TK_DLOG_WARN, "refused "
					       "microdescriptor from %s: %s",
					       origin, err);
			}
			tk_microdesc_free(&md);
			tk_microdesc_init(&md);
			continue;
		}
		if (rc == 0)
			continue;
		const struct tk_router *rt =
			tk_consensus_router_by_md(m->cons, digest);
		size_t i = (size_t)(rt - m->cons->routers);
		char *t = malloc(tlen ? tlen : 1);
		if (t) {
			memcpy(t, text, tlen);
			free(m->md_text[i]);
			m->md_text[i] = t;
			m->md_len[i] = tlen;
		}
		added++;
	}
	tk_microdesc_free(&md);
	if (added)
		m->mds_dirty = 1;
	return added;
}

static int cmp_digest(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Launches microdescriptor batches while there is room in flight. */
static void launch_mds(tk_dirmgr *m, int64_t now, int64_t *wake)
{
	size_t n = m->nodes.n;
	while (req_count(m, TK_DIRREQ_MDS) < m->cfg.max_parallel) {
		uint32_t *slots = malloc(m->cfg.md_batch * sizeof *slots);
		uint8_t (*dig)[32] = malloc(m->cfg.md_batch * sizeof *dig);
		size_t k = 0;
		int retry = 0;
		if (!slots || !dig) {
			free(slots);
			free(dig);
			return;
		}
		for (size_t i = 0; i < n && k < m->cfg.md_batch; i++) {
			if (m->nodes.node[i].md || m->md_inflight[i])
				continue;
			if (m->md_retry_at[i] > now) {
				*wake = min_t(*wake, m->md_retry_at[i]);
				continue;
			}
			/* One digest per batch only once (two routers
			 * could list the same one). */
			int dup = 0;
			for (size_t j = 0; j < k && !dup; j++)
				dup = memcmp(dig[j], m->cons->routers[i].md_digest,
					     32) == 0;
			if (dup)
				continue;
			retry |= m->md_fails[i] > 0;
			memcpy(dig[k], m->cons->routers[i].md_digest, 32);
			slots[k++] = (uint32_t)i;
		}
		if (k == 0) {
			free(slots);
			free(dig);
			return;
		}
		/* Digests some cache did not have go to an authority. */
		struct tk_dirmgr_source src;
		int64_t src_wake;
		if (pick_source(m, !retry, now, &src, &src_wake) != 0 &&
		    (!retry || pick_source(m, 1, now, &src, &src_wake) != 0)) {
			*wake = min_t(*wake, src_wake);
			free(slots);
			free(dig);
			return;
		}
		qsort(dig, k, 32, cmp_digest);
		size_t plen = 16 + k * 44;
		char *path = malloc(plen);
		if (!path) {
			free(slots);
			free(dig);
			return;
		}
		size_t off = (size_t)snprintf(path, plen, "/tor/micro/d/");
		for (size_t j = 0; j < k; j++) {
			if (j)
				path[off++] = '-';
			long bl = tk_base64_encode(dig[j], 32, 0, path + off,
						   plen - off);
			off += bl > 0 ? (size_t)bl : 0;
		}
		path[off] = '\0';
		free(dig);
		for (size_t j = 0; j < k; j++)
			m->md_inflight[slots[j]] = 1;
		if (!m->ever_usable)
			progress(m, 45, "requesting_descriptors",
				 "Asking for relay descriptors");
		if (launch(m, TK_DIRREQ_MDS, &src, path, slots, k) != 0) {
			/* launch freed slots; clear from the path instead */
			for (size_t i = 0; i < n; i++)
				m->md_inflight[i] = 0;
			for (size_t i = 0; i < m->n_reqs; i++)
				if (m->reqs[i].kind == TK_DIRREQ_MDS &&
				    m->reqs[i].cons == m->cons)
					for (size_t j = 0; j < m->reqs[i].n_slots; j++)
						m->md_inflight[m->reqs[i].slots[j]] = 1;
		}
		free(path);
	}
}

/* ---- adopting a verified consensus ---- */

static void free_slots(tk_dirmgr *m)
{
	if (m->md_text)
		for (size_t i = 0; i < m->nodes.n; i++)
			free(m->md_text[i]);
	free(m->md_text);
	free(m->md_len);
	free(m->md_inflight);
	free(m->md_fails);
	free(m->md_retry_at);
	m->md_text = NULL;
	m->md_len = NULL;
	m->md_inflight = NULL;
	m->md_fails = NULL;
	m->md_retry_at = NULL;
}

static void update_usable(tk_dirmgr *m, int64_t now);

static int adopt(tk_dirmgr *m, struct tk_consensus *c, char *text, size_t len,
		 int from_cache)
{
	struct tk_nodes nn;
	size_t n = c->n_routers ? c->n_routers : 1;
	char **mt;
	size_t *ml;
	uint8_t *inf;
	unsigned *fails;
	int64_t *retry;
	char va[32], vu[32];

	if (tk_nodes_init(&nn, c) != 0)
		return -1;
	mt = calloc(n, sizeof *mt);
	ml = calloc(n, sizeof *ml);
	inf = calloc(n, 1);
	fails = calloc(n, sizeof *fails);
	retry = calloc(n, sizeof *retry);
	if (!mt || !ml || !inf || !fails || !retry) {
		free(mt);
		free(ml);
		free(inf);
		free(fails);
		free(retry);
		tk_nodes_free(&nn);
		return -1;
	}
	if (m->has_nodes) {
		tk_nodes_adopt(&nn, &m->nodes);
		for (size_t i = 0; i < nn.n; i++) {
			if (!nn.node[i].md)
				continue;
			const struct tk_router *o = tk_consensus_router_by_md(
				m->cons, nn.mds[i].digest);
			if (!o)
				continue;
			size_t oi = (size_t)(o - m->cons->routers);
			mt[i] = m->md_text[oi];
			ml[i] = m->md_len[oi];
			m->md_text[oi] = NULL;
		}
		free_slots(m);
		tk_nodes_free(&m->nodes);
	}
	tk_consensus_free(m->cons);
	free(m->cons_text);
	m->cons = c;
	m->cons_text = text;
	m->cons_len = len;
	m->nodes = nn;
	m->has_nodes = 1;
	m->md_text = mt;
	m->md_len = ml;
	m->md_inflight = inf;
	m->md_fails = fails;
	m->md_retry_at = retry;
	/* Requests in flight for the old table refer to its slots. */
	for (size_t i = 0; i < m->n_reqs; i++)
		if (m->reqs[i].kind == TK_DIRREQ_MDS)
			m->reqs[i].cons = NULL;
	m->from_cache = from_cache;
	if (!from_cache)
		m->stats.consensus_fetched++;
	m->refetch_at_ms =
		tk_consensus_refetch_time(c, m->env.random(m->env.arg)) * 1000;
	fmt_time(c->valid_after, va, sizeof va);
	fmt_time(c->valid_until, vu, sizeof vu);
	tk_dirmgr_logf(m, TK_DLOG_NOTICE, "%s consensus of %s verified "
		       "(valid until %s UTC): %zu relays, %zu "
		       "microdescriptors already held",
		       from_cache ? "cached" : "new", va, vu, c->n_routers,
		       m->nodes.n_have);
	if (!from_cache && !m->ever_usable) {
		m->prefer = m->pend_src;
		m->prefer_set = 1;
	}
	if (m->spare_md) {
		size_t got = offer_mds(m, m->spare_md, m->spare_len, "the cache",
				       0);
		tk_dirmgr_logf(m, TK_DLOG_INFO, "%zu microdescriptors from the "
			       "cache", got);
		free(m->spare_md);
		m->spare_md = NULL;
		m->spare_len = 0;
		/* They came from the file: no need to write it back. */
		if (from_cache)
			m->mds_dirty = 0;
	}
	{
		char at[32];
		fmt_time(m->refetch_at_ms / 1000, at, sizeof at);
		tk_dirmgr_logf(m, TK_DLOG_INFO, "next consensus fetch at %s UTC",
			       at);
	}
	/* Written at the end of step(), after the next requests left:
	 * fsync is slow and the network need not wait for the disk. */
	if (!from_cache)
		m->cons_dirty = 1;
	changed(m);
	return 0;
}

/* Decides about the pending consensus once certificates may suffice. */
static void try_verify_pending(tk_dirmgr *m, int after_cert_fetch)
{
	struct tk_cert_ref refs[TK_CONS_MAX_SOURCES];
	char err[512];
	int64_t now = now_ms(m) / 1000;
	size_t missing = tk_consensus_missing_certs(
		m->pend, (const uint8_t(*)[20])m->v3ids, m->cfg.n_auths,
		m->certs, m->n_certs, refs, TK_CONS_MAX_SOURCES);
	if (missing > 0 && !after_cert_fetch)
		return; /* step() fetches them first */
	if (!m->ever_usable)
		progress(m, 40, "loading_keys", "Loading authority key certs");
	if (tk_consensus_verify(m->pend, (const uint8_t(*)[20])m->v3ids,
				m->cfg.n_auths, m->certs, m->n_certs, now,
				m->cfg.skew_s, err, sizeof err) == 0) {
		struct tk_consensus *c = m->pend;
		char *t = m->pend_text;
		size_t l = m->pend_len;
		int fc = m->pend_from_cache;
		m->pend = NULL;
		m->pend_text = NULL;
		if (!fc)
			source_ok(m, &m->pend_src);
		if (adopt(m, c, t, l, fc) != 0) {
			tk_dirmgr_logf(m, TK_DLOG_WARN, "out of memory adopting "
				       "a consensus");
			tk_consensus_free(c);
			free(t);
		}
		return;
	}
	if (missing > 0 && m->pend_cert_tries < 2 * m->cfg.n_auths + 2)
		return; /* more certificates may still come from elsewhere */
	m->stats.refused_docs++;
	tk_dirmgr_logf(m, TK_DLOG_WARN, "refused %s consensus%s%s: %s",
		       m->pend_from_cache ? "cached" : "fetched",
		       m->pend_from_cache ? "" : " from ",
		       m->pend_from_cache ? "" : m->pend_src.nickname, err);
	if (!m->pend_from_cache)
		source_failed(m, &m->pend_src);
	tk_consensus_free(m->pend);
	free(m->pend_text);
	m->pend = NULL;
	m->pend_text = NULL;
}

/* Takes ownership of text. */
static void consensus_received(tk_dirmgr *m, char *text, size_t len,
			       const struct tk_dirmgr_source *src, int from_cache)
{
	struct tk_consensus *c;
	char err[TK_NETDOC_ERRLEN];
	const char *origin = from_cache ? "the cache" : src->nickname;
	if (tk_consensus_parse(text, len, &c, err, sizeof err) != 0) {
		m->stats.refused_docs++;
		tk_dirmgr_logf(m, TK_DLOG_WARN, "refused consensus from %s: %s",
			       origin, err);
		if (!from_cache)
			source_failed(m, src);
		free(text);
		return;
	}
	if (m->cons && c->valid_after <= m->cons->valid_after) {
		char va[32];
		fmt_time(c->valid_after, va, sizeof va);
		tk_dirmgr_logf(m, TK_DLOG_INFO, "consensus from %s (valid-after "
			       "%s) is not newer than ours; trying elsewhere",
			       origin, va);
		if (!from_cache)
			source_failed(m, src);
		tk_consensus_free(c);
		free(text);
		return;
	}
	if (now_ms(m) / 1000 > c->valid_until) {
		/* no certificate fetch for a dead document */
		char vu[32];
		fmt_time(c->valid_until, vu, sizeof vu);
		m->stats.refused_docs++;
		tk_dirmgr_logf(m, TK_DLOG_WARN, "refused %s consensus%s%s: "
			       "expired (valid-until %s UTC is past)",
			       from_cache ? "cached" : "fetched",
			       from_cache ? "" : " from ",
			       from_cache ? "" : origin, vu);
		if (!from_cache)
			source_failed(m, src);
		tk_consensus_free(c);
		free(text);
		return;
	}
	if (!m->ever_usable)
		progress(m, 30, "loading_status",
			 "Loading networkstatus consensus");
	if (m->pend) {
		tk_consensus_free(m->pend);
		free(m->pend_text);
	}
	m->pend = c;
	m->pend_text = text;
	m->pend_len = len;
	m->pend_from_cache = from_cache;
	m->pend_cert_tries = 0;
	if (src) {
		m->pend_src = *src;
		m->prefer = *src;
		m->prefer_set = 1;
	} else {
		memset(&m->pend_src, 0, sizeof m->pend_src);
	}
	/* A cached consensus is tried with the cached certificates first
	 * (enough of them may be there). */
	try_verify_pending(m, from_cache);
}

/* ---- usability ---- */

static void update_usable(tk_dirmgr *m, int64_t now)
{
	int usable = 0;
	double frac = 0;
	if (m->has_nodes &&
	    now / 1000 <= m->cons->valid_until + m->cfg.reasonably_live_s) {
		struct tk_path_weights w;
		struct tk_path_opts o;
		tk_path_weights_init(&w, m->cons);
		tk_path_opts_init(&o);
		o.enforce_distinct_subnets = m->cfg.enforce_distinct_subnets;
		frac = tk_nodes_path_fraction(&m->nodes, &w, &o);
		usable = frac >= m->cfg.min_path_fraction;
	}
	m->stats.path_fraction = frac;
	m->live = m->has_nodes &&
		  now / 1000 <= m->cons->valid_until + m->cfg.reasonably_live_s;
	if (!m->ever_usable && m->has_nodes && m->nodes.n) {
		/* tor: 50% + 25% x share of descriptors held */
		int pct = 50 + (int)(24.0 * (double)m->nodes.n_have /
				     (double)m->nodes.n);
		if (m->nodes.n_have)
			progress(m, pct, "loading_descriptors",
				 "Loading relay descriptors");
	}
	if (usable == m->usable)
		return;
	m->usable = usable;
	if (usable) {
		tk_dirmgr_logf(m, TK_DLOG_NOTICE, "directory usable: %zu of %zu "
			       "microdescriptors, path fraction %.2f",
			       m->nodes.n_have, m->nodes.n, frac);
		if (!m->ever_usable) {
			m->ever_usable = 1;
			m->stats.fetches_before_usable = m->stats.fetches;
			progress(m, 75, "enough_dirinfo",
				 "Loaded enough directory info to build "
				 "circuits");
		}
	} else {
		tk_dirmgr_logf(m, TK_DLOG_WARN, "directory no longer usable: %s",
			       m->has_nodes && now / 1000 > m->cons->valid_until +
							  m->cfg.reasonably_live_s
				       ? "the consensus is too old"
				       : "too few microdescriptors");
	}
	changed(m);
}

/* ---- answers ---- */

static const char *fail_reason(int status, int http_status, const char *errmsg,
			       char *buf, size_t len)
{
	if (status < 0)
		snprintf(buf, len, "%s", errmsg && *errmsg ? errmsg : "failed");
	else
		snprintf(buf, len, "HTTP status %d", http_status);
	return buf;
}

void tk_dirmgr_fetched(tk_dirmgr *m, uint64_t id, int status, int http_status,
		       const uint8_t *body, size_t len, const char *errmsg)
{
	struct tk_dirmgr_req *rp = req_find(m, id);
	struct tk_dirmgr_req r;
	char why[256];
	int ok = status == 0 && http_status == 200;

	if (!rp)
		return; /* cancelled or unknown */
	r = *rp;
	rp->slots = NULL;
	req_drop(m, rp);

	if (!ok) {
		m->stats.failures++;
		/* loud while bootstrapping: the user waits for it */
		tk_dirmgr_logf(m, m->ever_usable ? TK_DLOG_INFO : TK_DLOG_NOTICE,
			       "%s from %s failed: %s; trying elsewhere", kind_name(r.kind), r.src.nickname,
			       fail_reason(status, http_status, errmsg, why,
					   sizeof why));
		source_failed(m, &r.src);
	}
	switch (r.kind) {
	case TK_DIRREQ_CONSENSUS:
		if (ok) {
			char *t = malloc(len + 1);
			if (t) {
				memcpy(t, body, len);
				t[len] = '\0';
				consensus_received(m, t, len, &r.src, 0);
			}
		}
		break;
	case TK_DIRREQ_CERTS:
		if (!m->pend)
			break;
		m->pend_cert_tries++;
		if (ok) {
			size_t added = tk_dirmgr_add_certs(
				m, (const char *)body, len, r.src.nickname);
			tk_dirmgr_logf(m, TK_DLOG_INFO, "%zu new authority "
				       "certificates from %s", added,
				       r.src.nickname);
			struct tk_cert_ref refs[TK_CONS_MAX_SOURCES];
			if (tk_consensus_missing_certs(
				    m->pend, (const uint8_t(*)[20])m->v3ids,
				    m->cfg.n_auths, m->certs, m->n_certs, refs,
				    TK_CONS_MAX_SOURCES) > 0)
				source_failed(m, &r.src);
			else
				source_ok(m, &r.src);
		}
		try_verify_pending(m, 1);
		break;
	case TK_DIRREQ_MDS: {
		int64_t now = now_ms(m);
		size_t got = 0;
		int current = r.cons != NULL && r.cons == m->cons;
		if (current)
			for (size_t j = 0; j < r.n_slots; j++)
				m->md_inflight[r.slots[j]] = 0;
		if (ok)
			got = offer_mds(m, (const char *)body, len,
					r.src.nickname, 1);
		if (current) {
			size_t missing = 0;
			for (size_t j = 0; j < r.n_slots; j++) {
				uint32_t i = r.slots[j];
				if (m->nodes.node[i].md)
					continue;
				missing++;
				m->md_fails[i]++;
				/* The source answered without it: wait
				 * before asking anyone again. A transport
				 * failure is no fault of the digest. */
				m->md_retry_at[i] =
					ok ? now + backoff_ms(m, m->md_fails[i])
					   : 0;
			}
			if (ok && missing == r.n_slots) {
				m->stats.failures++;
				source_failed(m, &r.src);
			} else if (ok) {
				source_ok(m, &r.src);
			}
			if (ok)
				tk_dirmgr_logf(m, TK_DLOG_INFO, "%zu of %zu "
					       "microdescriptors from %s", got,
					       r.n_slots, r.src.nickname);
		}
		break;
	}
	}
	free(r.slots);
	step(m);
}

void tk_dirmgr_fetch_stage(tk_dirmgr *m, uint64_t id,
			   enum tk_dirmgr_stage stage)
{
	struct tk_dirmgr_req *r = req_find(m, id);
	if (!r || m->ever_usable)
		return;
	switch (stage) {
	case TK_DIRSTAGE_HANDSHAKE_DONE:
		progress(m, 15, "handshake_done", "Handshake with a relay done");
		break;
	case TK_DIRSTAGE_CIRCUIT:
		progress(m, 20, "onehop_create",
			 "Establishing an encrypted directory connection");
		if (r->kind == TK_DIRREQ_CONSENSUS)
			progress(m, 25, "requesting_status",
				 "Asking for networkstatus consensus");
		break;
	}
}

/* ---- the driver ---- */

static void consensus_path(const tk_dirmgr *m, char *out, size_t cap)
{
	/* Ask for a consensus only if our authorities signed it (the
	 * server answers 404 otherwise): dir-spec §4.3, 3-byte prefixes. */
	size_t off = (size_t)snprintf(out, cap,
				      "/tor/status-vote/current/"
				      "consensus-microdesc/");
	for (size_t i = 0; i < m->cfg.n_auths && off + 8 < cap; i++) {
		char hex[41];
		tk_netdoc_hex(m->v3ids[i], 20, hex);
		off += (size_t)snprintf(out + off, cap - off, "%s%.6s",
					i ? "+" : "", hex);
	}
}

static void certs_path(const tk_dirmgr *m, char *out, size_t cap)
{
	struct tk_cert_ref refs[TK_CONS_MAX_SOURCES];
	size_t n = tk_consensus_missing_certs(
		m->pend, (const uint8_t(*)[20])m->v3ids, m->cfg.n_auths,
		m->certs, m->n_certs, refs, TK_CONS_MAX_SOURCES);
	size_t off = (size_t)snprintf(out, cap, "/tor/keys/fp/");
	int any = 0;
	if (n > TK_CONS_MAX_SOURCES)
		n = TK_CONS_MAX_SOURCES;
	for (size_t i = 0; i < n && off + 42 < cap; i++) {
		int dup = 0;
		for (size_t j = 0; j < i && !dup; j++)
			dup = memcmp(refs[j].v3ident, refs[i].v3ident, 20) == 0;
		if (dup)
			continue;
		char hex[41];
		tk_netdoc_hex(refs[i].v3ident, 20, hex);
		off += (size_t)snprintf(out + off, cap - off, "%s%s",
					any ? "+" : "", hex);
		any = 1;
	}
	if (!any)
		snprintf(out, cap, "/tor/keys/all");
}

static void step(tk_dirmgr *m)
{
	int64_t now = now_ms(m), wake = -1, w;
	struct tk_dirmgr_source src;
	char path[1024];

	if (!m->started)
		return;
	/* A new consensus: when none is held, or the refetch time came. A
	 * source that cannot even be asked is backed off and the next one
	 * tried at once. */
	if (!m->pend && req_count(m, TK_DIRREQ_CONSENSUS) == 0) {
		if (!m->cons || now >= m->refetch_at_ms) {
			consensus_path(m, path, sizeof path);
			for (;;) {
				if (pick_source(m, 1, now, &src, &w) != 0) {
					wake = min_t(wake, w);
					break;
				}
				if (launch(m, TK_DIRREQ_CONSENSUS, &src, path,
					   NULL, 0) != -1)
					break;
			}
		} else {
			wake = min_t(wake, m->refetch_at_ms);
		}
	}
	/* Certificates for the consensus that waits for them. */
	if (m->pend && req_count(m, TK_DIRREQ_CERTS) == 0) {
		certs_path(m, path, sizeof path);
		for (;;) {
			if (pick_source(m, 1, now, &src, &w) != 0) {
				wake = min_t(wake, w);
				break;
			}
			if (launch(m, TK_DIRREQ_CERTS, &src, path, NULL, 0) != -1)
				break;
		}
	}
	if (m->has_nodes)
		launch_mds(m, now, &wake);
	update_usable(m, now);
	if (m->usable)
		wake = min_t(wake, (m->cons->valid_until +
				    m->cfg.reasonably_live_s) * 1000 + 1000);
	if (m->cons_dirty) {
		save_consensus_and_certs(m);
		m->cons_dirty = 0;
	}
	if (m->mds_dirty && req_count(m, TK_DIRREQ_MDS) == 0)
		save_mds(m);
	if (wake >= 0 && wake < now)
		wake = now;
	m->wake_at = wake;
	if (m->env.wake)
		m->env.wake(m->env.arg, wake);
}

void tk_dirmgr_tick(tk_dirmgr *m)
{
	step(m);
}

/* ---- life cycle ---- */

void tk_dirmgr_config_init(struct tk_dirmgr_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->enforce_distinct_subnets = 1;
	cfg->min_path_fraction = 0.6;
	cfg->md_batch = MAX_MD_BATCH;
	cfg->max_parallel = 4;
	cfg->backoff_base_ms = 1000;
	cfg->backoff_max_ms = 60000;
	cfg->skew_s = 3600;
	cfg->reasonably_live_s = 24 * 3600;
}

int tk_dirmgr_new(const struct tk_dirmgr_config *cfg,
		  const struct tk_dirmgr_env *env, tk_dirmgr **out, char *err,
		  size_t errlen)
{
	tk_dirmgr *m;
	*out = NULL;
	if (cfg->n_auths == 0) {
		snprintf(err, errlen, "no DirAuthority configured: the tor "
			 "engine needs the authorities of the network to trust");
		return -1;
	}
	if (!env->now_ms || !env->random || !env->fetch) {
		snprintf(err, errlen, "directory manager environment "
			 "incomplete (clock, random and fetch are required)");
		return -1;
	}
	for (size_t i = 0; i < cfg->n_auths; i++) {
		const tk_dirauth *a = &cfg->auths[i];
		if (!a->has_v3ident) {
			snprintf(err, errlen, "DirAuthority %s has no v3ident=: "
				 "its consensus signatures could not be checked",
				 a->nickname[0] ? a->nickname : "(unnamed)");
			return -1;
		}
		if (a->or_addr.ss_family != AF_INET) {
			snprintf(err, errlen, "DirAuthority %s has no IPv4 "
				 "orport=", a->nickname);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (memcmp(cfg->auths[j].v3ident, a->v3ident, 20) == 0) {
				snprintf(err, errlen, "DirAuthority %s repeats "
					 "the v3ident of %s", a->nickname,
					 cfg->auths[j].nickname);
				return -1;
			}
	}
	m = calloc(1, sizeof *m);
	if (!m)
		goto nomem;
	m->cfg = *cfg;
	if (m->cfg.md_batch == 0 || m->cfg.md_batch > MAX_MD_BATCH)
		m->cfg.md_batch = MAX_MD_BATCH;
	if (m->cfg.max_parallel == 0)
		m->cfg.max_parallel = 1;
	if (m->cfg.max_parallel > MAX_REQS - 4)
		m->cfg.max_parallel = MAX_REQS - 4;
	if (m->cfg.backoff_base_ms < 1)
		m->cfg.backoff_base_ms = 1;
	if (m->cfg.backoff_max_ms < m->cfg.backoff_base_ms)
		m->cfg.backoff_max_ms = m->cfg.backoff_base_ms;
	m->env = *env;
	m->auths = malloc(cfg->n_auths * sizeof *m->auths);
	m->v3ids = malloc(cfg->n_auths * sizeof *m->v3ids);
	m->certs = calloc(MAX_CERTS, sizeof *m->certs);
	m->cert_text = calloc(MAX_CERTS, sizeof *m->cert_text);
	m->cert_len = calloc(MAX_CERTS, sizeof *m->cert_len);
	if (!m->auths || !m->v3ids || !m->certs || !m->cert_text ||
	    !m->cert_len)
		goto nomem;
	memcpy(m->auths, cfg->auths, cfg->n_auths * sizeof *m->auths);
	for (size_t i = 0; i < cfg->n_auths; i++)
		memcpy(m->v3ids[i], cfg->auths[i].v3ident, 20);
	m->cfg.auths = m->auths;
	if (cfg->data_dir && cfg->data_dir[0]) {
		m->data_dir = strdup(cfg->data_dir);
		if (!m->data_dir)
			goto nomem;
	}
	m->cfg.data_dir = m->data_dir;
	m->refetch_at_ms = -1;
	m->wake_at = -1;
	m->progress_pct = -1;
	*out = m;
	return 0;
nomem:
	tk_dirmgr_free(m);
	snprintf(err, errlen, "out of memory");
	return -1;
}

static void load_cache(tk_dirmgr *m)
{
	char err[512], *buf;
	size_t len;
	int rc;

	if (tk_dircache_prepare(m->data_dir, err, sizeof err) != 0) {
		tk_dirmgr_logf(m, TK_DLOG_WARN, "%s; running without a cache",
			       err);
		free(m->data_dir);
		m->data_dir = NULL;
		return;
	}
	rc = tk_dircache_read(m->data_dir, TK_DIRCACHE_CERTS, &buf, &len, err,
			      sizeof err);
	if (rc < 0)
		tk_dirmgr_logf(m, TK_DLOG_WARN, "%s", err);
	if (rc > 0) {
		size_t n = tk_dirmgr_add_certs(m, buf, len, "the cache");
		tk_dirmgr_logf(m, TK_DLOG_INFO, "%zu authority certificates "
			       "from the cache", n);
		free(buf);
	}
	rc = tk_dircache_read(m->data_dir, TK_DIRCACHE_MICRODESCS, &buf, &len,
			      err, sizeof err);
	if (rc < 0)
		tk_dirmgr_logf(m, TK_DLOG_WARN, "%s", err);
	if (rc > 0) {
		m->spare_md = buf;
		m->spare_len = len;
	}
	rc = tk_dircache_read(m->data_dir, TK_DIRCACHE_CONSENSUS, &buf, &len,
			      err, sizeof err);
	if (rc < 0)
		tk_dirmgr_logf(m, TK_DLOG_WARN, "%s", err);
	if (rc > 0) {
		progress(m, 30, "loading_status",
			 "Loading networkstatus consensus");
		/* If signers' certificates are missing, the consensus
		 * waits for them like a fetched one. */
		consensus_received(m, buf, len, NULL, 1);
	}
}

void tk_dirmgr_start(tk_dirmgr *m)
{
	if (m->started)
		return;
	m->started = 1;
	progress(m, 0, "starting", "Starting");
	if (m->data_dir)
		load_cache(m);
	step(m);
}

void tk_dirmgr_free(tk_dirmgr *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_reqs; i++) {
		if (m->env.cancel)
			m->env.cancel(m->env.arg, m->reqs[i].id);
		free(m->reqs[i].slots);
	}
	if (m->has_nodes) {
		free_slots(m);
		tk_nodes_free(&m->nodes);
	}
	tk_consensus_free(m->cons);
	free(m->cons_text);
	tk_consensus_free(m->pend);
	free(m->pend_text);
	for (size_t i = 0; i < m->n_certs; i++) {
		tk_authcert_free(&m->certs[i]);
		free(m->cert_text[i]);
	}
	free(m->certs);
	free(m->cert_text);
	free(m->cert_len);
	free(m->spare_md);
	free(m->srcs);
	free(m->auths);
	free(m->v3ids);
	free(m->data_dir);
	free(m);
}

/* ---- queries ---- */

enum tk_dirmgr_phase tk_dirmgr_phase(const tk_dirmgr *m)
{
	if (!m->started)
		return TK_DIRMGR_IDLE;
	if (m->usable)
		return TK_DIRMGR_READY;
	if (m->pend)
		return TK_DIRMGR_NEED_CERTS;
	if (m->has_nodes && m->live)
		return TK_DIRMGR_NEED_MICRODESCS;
	return TK_DIRMGR_NEED_CONSENSUS;
}

const char *tk_dirmgr_phase_name(enum tk_dirmgr_phase p)
{
	switch (p) {
	case TK_DIRMGR_IDLE:
		return "idle";
	case TK_DIRMGR_NEED_CONSENSUS:
		return "fetching the consensus";
	case TK_DIRMGR_NEED_CERTS:
		return "fetching authority certificates";
	case TK_DIRMGR_NEED_MICRODESCS:
		return "fetching microdescriptors";
	case TK_DIRMGR_READY:
		return "ready";
	}
	return "?";
}

int tk_dirmgr_usable(const tk_dirmgr *m)
{
	return m->usable;
}

const struct tk_nodes *tk_dirmgr_nodes(const tk_dirmgr *m)
{
	return m->has_nodes ? &m->nodes : NULL;
}

void tk_dirmgr_get_stats(const tk_dirmgr *m, struct tk_dirmgr_stats *st)
{
	*st = m->stats;
	st->from_cache = m->from_cache;
	st->mds_held = m->has_nodes ? m->nodes.n_have : 0;
	st->mds_missing = m->has_nodes ? m->nodes.n - m->nodes.n_have : 0;
	st->refetch_at_ms = m->cons ? m->refetch_at_ms : -1;
}
