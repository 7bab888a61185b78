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
#include "onion/dir/dirmgr.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/dir/certstore.h"
#include "onion/dir/dircache.h"
#include "onion/dir/dirsrc.h"
#include "onion/dir/mdstore.h"
#include "onion/netdir/path.h"
#include "onion/netdoc/netdoc.h"

#define MAX_REQS 64
#define MAX_MD_BATCH 92 /* dir-spec: what proxies accept */

enum req_kind { REQ_CONSENSUS, REQ_CERTS, REQ_MDS };

struct req {
	uint64_t id;
	enum req_kind kind;
	struct tk_dirsource src;
	uint32_t *slots; /* mds: router indexes asked for */
	size_t n_slots;
	const struct tk_consensus *cons; /* mds: table the slots refer to */
};

struct tk_dirmgr {
	struct tk_dirmgr_config cfg;
	struct tk_dirmgr_env env;
	tk_dirauth *auths;
	uint8_t (*v3ids)[20];
	char *data_dir; /* NULL: no cache */
	int started;
	tk_dirsources *srcs;

	/* the verified consensus and its node table */
	struct tk_consensus *cons;
	char *cons_text;
	size_t cons_len;
	struct tk_nodes nodes;
	struct tk_mdstore mds; /* slot by slot of nodes */
	int has_nodes;
	int live, usable, ever_usable, from_cache, mds_dirty, cons_dirty;
	int64_t refetch_at_ms;

	/* a fetched consensus waiting for certificates */
	struct tk_consensus *pend;
	char *pend_text;
	size_t pend_len;
	int pend_from_cache;
	unsigned pend_cert_tries;
	struct tk_dirsource pend_src;

	struct tk_certstore certs;

	/* cached microdescriptors not yet matched to a consensus */
	char *spare_md;
	size_t spare_len;

	struct req reqs[MAX_REQS];
	size_t n_reqs;
	uint64_t next_id;

	int progress_pct; /* last reported, -1 before 0% */
	int64_t wake_at;
	struct tk_dirmgr_stats stats;
};

static void step(tk_dirmgr *m);
static void consensus_received(tk_dirmgr *m, char *text, size_t len,
			       const struct tk_dirsource *src, int from_cache);

/* ---- small helpers ---- */

static int64_t
now_ms(tk_dirmgr *m)
{
	return m->env.now_ms(m->env.arg);
}

static void logf_(tk_dirmgr *m, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
logf_(tk_dirmgr *m, int level, const char *fmt, ...)
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

/* The log as a tk_log_fn, for the stores. */
static void
log_line(void *arg, int level, const char *msg)
{
	tk_dirmgr *m = arg;
	if (m->env.log)
		m->env.log(m->env.arg, level, msg);
}

static void
progress(tk_dirmgr *m, int pct, const char *tag, const char *summary)
{
	if (pct <= m->progress_pct)
		return;
	m->progress_pct = pct;
	if (m->env.progress)
		m->env.progress(m->env.arg, pct, tag, summary);
}

static void
changed(tk_dirmgr *m)
{
	if (m->env.changed)
		m->env.changed(m->env.arg);
}

/* The earlier of two times, -1 meaning none. */
static int64_t
min_t(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static void
fmt_time(int64_t t, char *buf, size_t len)
{
	tk_netdoc_time_fmt(t, buf, len);
}

/* ---- requests ---- */

static struct req *
req_find(tk_dirmgr *m, uint64_t id)
{
	for (size_t i = 0; i < m->n_reqs; i++)
		if (m->reqs[i].id == id)
			return &m->reqs[i];
	return NULL;
}

static size_t
req_count(const tk_dirmgr *m, enum req_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_reqs; i++)
		n += m->reqs[i].kind == kind;
	return n;
}

static void
req_drop(tk_dirmgr *m, struct req *r)
{
	free(r->slots);
	*r = m->reqs[--m->n_reqs];
}

static const char *
kind_name(enum req_kind k)
{
	switch (k) {
	case REQ_CONSENSUS:
		return "consensus";
	case REQ_CERTS:
		return "authority certificates";
	case REQ_MDS:
		return "microdescriptors";
	}
	return "?";
}

/* Starts a request; on success the request is recorded (slots owned by
 * it), otherwise the source is backed off and slots freed. */
static int
launch(tk_dirmgr *m, enum req_kind kind, const struct tk_dirsource *src,
       const char *path, uint32_t *slots, size_t n_slots)
{
	struct req *r;
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
	logf_(m, TK_LOG_INFO, "fetching %s from %s%s: %.60s%s", kind_name(kind),
	      src->nickname, src->is_authority ? " (authority)" : "", path,
	      strlen(path) > 60 ? "..." : "");
	rc = m->env.fetch(m->env.arg, r->id, src, path);
	if (rc < 0) {
		logf_(m, TK_LOG_WARN, "cannot fetch %s from %s",
		      kind_name(kind), src->nickname);
		m->stats.failures++;
		tk_dirsources_failed(m->srcs, src, now_ms(m));
		req_drop(m, r);
		return -1;
	}
	return 0;
}

/* ---- adopting a verified consensus ---- */

/* Offers every microdescriptor of body to the node table; from_net:
 * refusals are loud. Returns how many were new. */
static size_t
offer_mds(tk_dirmgr *m, const char *body, size_t len, const char *origin,
	  int from_net)
{
	size_t added;
	if (!m->has_nodes)
		return 0;
	added = tk_mdstore_offer(&m->mds, &m->nodes, body, len, origin,
				 from_net, &m->stats.refused_docs);
	if (added)
		m->mds_dirty = 1;
	return added;
}

static void update_usable(tk_dirmgr *m, int64_t now);

static int
adopt(tk_dirmgr *m, struct tk_consensus *c, char *text, size_t len,
      int from_cache)
{
	struct tk_nodes nn;
	struct tk_mdstore ms;
	char va[32], vu[32];

	if (tk_nodes_init(&nn, c) != 0)
		return -1;
	if (tk_mdstore_init(&ms, nn.n, log_line, m) != 0) {
		tk_nodes_free(&nn);
		return -1;
	}
	if (m->has_nodes) {
		tk_nodes_adopt(&nn, &m->nodes);
		tk_mdstore_adopt(&ms, &nn, &m->mds, m->cons);
		tk_mdstore_free(&m->mds);
		tk_nodes_free(&m->nodes);
	}
	tk_consensus_free(m->cons);
	free(m->cons_text);
	m->cons = c;
	m->cons_text = text;
	m->cons_len = len;
	m->nodes = nn;
	m->mds = ms;
	m->has_nodes = 1;
	/* Requests in flight for the old table refer to its slots. */
	for (size_t i = 0; i < m->n_reqs; i++)
		if (m->reqs[i].kind == REQ_MDS)
			m->reqs[i].cons = NULL;
	m->from_cache = from_cache;
	if (!from_cache)
		m->stats.consensus_fetched++;
	m->refetch_at_ms =
		tk_consensus_refetch_time(c, m->env.random(m->env.arg)) * 1000;
	fmt_time(c->valid_after, va, sizeof va);
	fmt_time(c->valid_until, vu, sizeof vu);
	logf_(m, TK_LOG_NOTICE,
	      "%s consensus of %s verified "
	      "(valid until %s UTC): %zu relays, %zu "
	      "microdescriptors already held",
	      from_cache ? "cached" : "new", va, vu, c->n_routers,
	      m->nodes.n_have);
	if (!from_cache && !m->ever_usable)
		tk_dirsources_prefer(m->srcs, &m->pend_src);
	if (m->spare_md) {
		size_t got = offer_mds(m, m->spare_md, m->spare_len,
				       "the cache", 0);
		logf_(m, TK_LOG_INFO,
		      "%zu microdescriptors from the "
		      "cache",
		      got);
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
		logf_(m, TK_LOG_INFO, "next consensus fetch at %s UTC", at);
	}
	/* Written at the end of step(), after the next requests left:
	 * fsync is slow and the network need not wait for the disk. */
	if (!from_cache)
		m->cons_dirty = 1;
	changed(m);
	return 0;
}

/* Decides about the pending consensus once certificates may suffice. */
static void
try_verify_pending(tk_dirmgr *m, int after_cert_fetch)
{
	struct tk_cert_ref refs[TK_CONS_MAX_SOURCES];
	char err[512];
	int64_t now = now_ms(m) / 1000;
	size_t missing =
		tk_consensus_missing_certs(m->pend,
					   (const uint8_t(*)[20])m->v3ids,
					   m->cfg.n_auths, m->certs.certs,
					   m->certs.n, refs,
					   TK_CONS_MAX_SOURCES);
	if (missing > 0 && !after_cert_fetch)
		return; /* step() fetches them first */
	if (!m->ever_usable)
		progress(m, 40, "loading_keys", "Loading authority key certs");
	if (tk_consensus_verify(m->pend, (const uint8_t(*)[20])m->v3ids,
				m->cfg.n_auths, m->certs.certs, m->certs.n, now,
				m->cfg.skew_s, err, sizeof err) == 0) {
		struct tk_consensus *c = m->pend;
		char *t = m->pend_text;
		size_t l = m->pend_len;
		int fc = m->pend_from_cache;
		m->pend = NULL;
		m->pend_text = NULL;
		if (!fc)
			tk_dirsources_succeeded(m->srcs, &m->pend_src);
		if (adopt(m, c, t, l, fc) != 0) {
			logf_(m, TK_LOG_WARN,
			      "out of memory adopting "
			      "a consensus");
			tk_consensus_free(c);
			free(t);
		}
		return;
	}
	if (missing > 0 && m->pend_cert_tries < 2 * m->cfg.n_auths + 2)
		return; /* more certificates may still come from elsewhere */
	m->stats.refused_docs++;
	logf_(m, TK_LOG_WARN, "refused %s consensus%s%s: %s",
	      m->pend_from_cache ? "cached" : "fetched",
	      m->pend_from_cache ? "" : " from ",
	      m->pend_from_cache ? "" : m->pend_src.nickname, err);
	if (!m->pend_from_cache)
		tk_dirsources_failed(m->srcs, &m->pend_src, now_ms(m));
	tk_consensus_free(m->pend);
	free(m->pend_text);
	m->pend = NULL;
	m->pend_text = NULL;
}

/* Takes ownership of text. */
void
consensus_received(tk_dirmgr *m, char *text, size_t len,
		   const struct tk_dirsource *src, int from_cache)
{
	struct tk_consensus *c;
	char err[TK_NETDOC_ERRLEN];
	const char *origin = from_cache ? "the cache" : src->nickname;
	if (tk_consensus_parse(text, len, &c, err, sizeof err) != 0) {
		m->stats.refused_docs++;
		logf_(m, TK_LOG_WARN, "refused consensus from %s: %s", origin,
		      err);
		if (!from_cache)
			tk_dirsources_failed(m->srcs, src, now_ms(m));
		free(text);
		return;
	}
	if (m->cons && c->valid_after <= m->cons->valid_after) {
		char va[32];
		fmt_time(c->valid_after, va, sizeof va);
		logf_(m, TK_LOG_INFO,
		      "consensus from %s (valid-after "
		      "%s) is not newer than ours; trying elsewhere",
		      origin, va);
		if (!from_cache)
			tk_dirsources_failed(m->srcs, src, now_ms(m));
		tk_consensus_free(c);
		free(text);
		return;
	}
	if (now_ms(m) / 1000 > c->valid_until) {
		/* no certificate fetch for a dead document */
		char vu[32];
		fmt_time(c->valid_until, vu, sizeof vu);
		m->stats.refused_docs++;
		logf_(m, TK_LOG_WARN,
		      "refused %s consensus%s%s: "
		      "expired (valid-until %s UTC is past)",
		      from_cache ? "cached" : "fetched",
		      from_cache ? "" : " from ", from_cache ? "" : origin, vu);
		if (!from_cache)
			tk_dirsources_failed(m->srcs, src, now_ms(m));
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
		tk_dirsources_prefer(m->srcs, src);
	} else {
		memset(&m->pend_src, 0, sizeof m->pend_src);
	}
	/* A cached consensus is tried with the cached certificates first
	 * (enough of them may be there). */
	try_verify_pending(m, from_cache);
}

/* ---- usability ---- */

static void
update_usable(tk_dirmgr *m, int64_t now)
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
		logf_(m, TK_LOG_NOTICE,
		      "directory usable: %zu of %zu "
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
		logf_(m, TK_LOG_WARN, "directory no longer usable: %s",
		      m->has_nodes && now / 1000 >
					      m->cons->valid_until +
						      m->cfg.reasonably_live_s
			      ? "the consensus is too old"
			      : "too few microdescriptors");
	}
	changed(m);
}

/* ---- answers ---- */

static const char *
fail_reason(int status, int http_status, const char *errmsg, char *buf,
	    size_t len)
{
	if (status < 0)
		snprintf(buf, len, "%s", errmsg && *errmsg ? errmsg : "failed");
	else
		snprintf(buf, len, "HTTP status %d", http_status);
	return buf;
}

void
tk_dirmgr_fetched(tk_dirmgr *m, uint64_t id, int status, int http_status,
		  const uint8_t *body, size_t len, const char *errmsg)
{
	struct req *rp = req_find(m, id);
	struct req r;
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
		logf_(m, m->ever_usable ? TK_LOG_INFO : TK_LOG_NOTICE,
		      "%s from %s failed: %s; trying elsewhere",
		      kind_name(r.kind), r.src.nickname,
		      fail_reason(status, http_status, errmsg, why,
				  sizeof why));
		tk_dirsources_failed(m->srcs, &r.src, now_ms(m));
	}
	switch (r.kind) {
	case REQ_CONSENSUS:
		if (ok) {
			char *t = malloc(len + 1);
			if (t) {
				memcpy(t, body, len);
				t[len] = '\0';
				consensus_received(m, t, len, &r.src, 0);
			}
		}
		break;
	case REQ_CERTS:
		if (!m->pend)
			break;
		m->pend_cert_tries++;
		if (ok) {
			size_t added = tk_certstore_add(&m->certs,
							(const char *)body, len,
							now_ms(m) / 1000,
							r.src.nickname,
							&m->stats.refused_docs);
			logf_(m, TK_LOG_INFO,
			      "%zu new authority "
			      "certificates from %s",
			      added, r.src.nickname);
			struct tk_cert_ref refs[TK_CONS_MAX_SOURCES];
			if (tk_consensus_missing_certs(
				    m->pend, (const uint8_t(*)[20])m->v3ids,
				    m->cfg.n_auths, m->certs.certs, m->certs.n,
				    refs, TK_CONS_MAX_SOURCES) > 0)
				tk_dirsources_failed(m->srcs, &r.src,
						     now_ms(m));
			else
				tk_dirsources_succeeded(m->srcs, &r.src);
		}
		try_verify_pending(m, 1);
		break;
	case REQ_MDS: {
		int64_t now = now_ms(m);
		size_t got = 0;
		int current = r.cons != NULL && r.cons == m->cons;
		if (current)
			for (size_t j = 0; j < r.n_slots; j++)
				m->mds.inflight[r.slots[j]] = 0;
		if (ok)
			got = offer_mds(m, (const char *)body, len,
					r.src.nickname, 1);
		if (current) {
			size_t missing = tk_mdstore_answered(&m->mds, &m->nodes,
							     r.slots, r.n_slots,
							     ok, now, m->srcs);
			if (ok && missing == r.n_slots) {
				m->stats.failures++;
				tk_dirsources_failed(m->srcs, &r.src,
						     now_ms(m));
			} else if (ok) {
				tk_dirsources_succeeded(m->srcs, &r.src);
			}
			if (ok)
				logf_(m, TK_LOG_INFO,
				      "%zu of %zu "
				      "microdescriptors from %s",
				      got, r.n_slots, r.src.nickname);
		}
		break;
	}
	}
	free(r.slots);
	step(m);
}

void
tk_dirmgr_fetch_stage(tk_dirmgr *m, uint64_t id, enum tk_dirmgr_stage stage)
{
	struct req *r = req_find(m, id);
	if (!r || m->ever_usable)
		return;
	switch (stage) {
	case TK_DIRSTAGE_HANDSHAKE_DONE:
		progress(m, 15, "handshake_done",
			 "Handshake with a relay done");
		break;
	case TK_DIRSTAGE_CIRCUIT:
		progress(m, 20, "onehop_create",
			 "Establishing an encrypted directory connection");
		if (r->kind == REQ_CONSENSUS)
			progress(m, 25, "requesting_status",
				 "Asking for networkstatus consensus");
		break;
	}
}

/* ---- the driver ---- */

static void
consensus_path(const tk_dirmgr *m, char *out, size_t cap)
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

static void
certs_path(const tk_dirmgr *m, char *out, size_t cap)
{
	struct tk_cert_ref refs[TK_CONS_MAX_SOURCES];
	size_t n = tk_consensus_missing_certs(m->pend,
					      (const uint8_t(*)[20])m->v3ids,
					      m->cfg.n_auths, m->certs.certs,
					      m->certs.n, refs,
					      TK_CONS_MAX_SOURCES);
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

/* Launches microdescriptor batches while there is room in flight. */
static void
launch_mds(tk_dirmgr *m, int64_t now, int64_t *wake)
{
	size_t n = m->nodes.n;
	while (req_count(m, REQ_MDS) < m->cfg.max_parallel) {
		uint32_t *slots = malloc(m->cfg.md_batch * sizeof *slots);
		struct tk_dirsource src;
		int64_t src_wake;
		int retry, rc;
		size_t k;
		char *path;
		if (!slots)
			return;
		k = tk_mdstore_batch(&m->mds, &m->nodes, now, slots,
				     m->cfg.md_batch, &retry, wake);
		if (k == 0) {
			free(slots);
			return;
		}
		/* Digests some cache did not have go to an authority. */
		if (tk_dirsources_pick(m->srcs, retry ? NULL : m->cons, now,
				       &src, &src_wake) != 0 &&
		    (!retry || tk_dirsources_pick(m->srcs, m->cons, now, &src,
						  &src_wake) != 0)) {
			*wake = min_t(*wake, src_wake);
			free(slots);
			return;
		}
		path = tk_mdstore_path(&m->nodes, slots, k);
		if (!path) {
			free(slots);
			return;
		}
		for (size_t j = 0; j < k; j++)
			m->mds.inflight[slots[j]] = 1;
		if (!m->ever_usable)
			progress(m, 45, "requesting_descriptors",
				 "Asking for relay descriptors");
		rc = launch(m, REQ_MDS, &src, path, slots, k);
		if (rc != 0) {
			/* launch freed slots; clear from the path instead */
			for (size_t i = 0; i < n; i++)
				m->mds.inflight[i] = 0;
			for (size_t i = 0; i < m->n_reqs; i++)
				if (m->reqs[i].kind == REQ_MDS &&
				    m->reqs[i].cons == m->cons)
					for (size_t j = 0;
					     j < m->reqs[i].n_slots; j++)
						m->mds.inflight
							[m->reqs[i].slots[j]] =
							1;
		}
		free(path);
		if (rc == -2)
			return; /* no room for requests: wait for answers */
	}
}

/* ---- the cache: written after verification, loaded and re-checked at
 * start ---- */

static void
cache_write(tk_dirmgr *m, enum tk_dircache_file f, const char *const *parts,
	    const size_t *lens, size_t n)
{
	char err[256];
	if (tk_dircache_write(m->data_dir, f, parts, lens, n, err, sizeof err))
		logf_(m, TK_LOG_WARN, "%s (the cache is not updated)", err);
}

static void
save_consensus_and_certs(tk_dirmgr *m)
{
	const char *p = m->cons_text;
	size_t l = m->cons_len;
	if (!m->data_dir)
		return;
	cache_write(m, TK_DIRCACHE_CONSENSUS, &p, &l, 1);
	cache_write(m, TK_DIRCACHE_CERTS, (const char *const *)m->certs.text,
		    m->certs.len, m->certs.n);
}

static void
save_mds(tk_dirmgr *m)
{
	const char **parts;
	size_t *lens, n = 0;
	if (!m->data_dir || !m->has_nodes)
		return;
	parts = malloc((m->nodes.n ? m->nodes.n : 1) * sizeof *parts);
	lens = malloc((m->nodes.n ? m->nodes.n : 1) * sizeof *lens);
	if (parts && lens) {
		for (size_t i = 0; i < m->nodes.n; i++) {
			if (!m->mds.text[i])
				continue;
			parts[n] = m->mds.text[i];
			lens[n++] = m->mds.len[i];
		}
		cache_write(m, TK_DIRCACHE_MICRODESCS, parts, lens, n);
		m->mds_dirty = 0;
	}
	free(parts);
	free(lens);
}

static void
load_cache(tk_dirmgr *m)
{
	char err[512], *buf;
	size_t len;
	int rc;

	if (tk_dircache_prepare(m->data_dir, err, sizeof err) != 0) {
		logf_(m, TK_LOG_WARN, "%s; running without a cache", err);
		free(m->data_dir);
		m->data_dir = NULL;
		return;
	}
	rc = tk_dircache_read(m->data_dir, TK_DIRCACHE_CERTS, &buf, &len, err,
			      sizeof err);
	if (rc < 0)
		logf_(m, TK_LOG_WARN, "%s", err);
	if (rc > 0) {
		size_t n = tk_certstore_add(&m->certs, buf, len,
					    now_ms(m) / 1000, "the cache",
					    &m->stats.refused_docs);
		logf_(m, TK_LOG_INFO,
		      "%zu authority certificates from the "
		      "cache",
		      n);
		free(buf);
	}
	rc = tk_dircache_read(m->data_dir, TK_DIRCACHE_MICRODESCS, &buf, &len,
			      err, sizeof err);
	if (rc < 0)
		logf_(m, TK_LOG_WARN, "%s", err);
	if (rc > 0) {
		m->spare_md = buf;
		m->spare_len = len;
	}
	rc = tk_dircache_read(m->data_dir, TK_DIRCACHE_CONSENSUS, &buf, &len,
			      err, sizeof err);
	if (rc < 0)
		logf_(m, TK_LOG_WARN, "%s", err);
	if (rc > 0) {
		progress(m, 30, "loading_status",
			 "Loading networkstatus consensus");
		/* If signers' certificates are missing, the consensus
		 * waits for them like a fetched one. */
		consensus_received(m, buf, len, NULL, 1);
	}
}

static void
step(tk_dirmgr *m)
{
	int64_t now = now_ms(m), wake = -1, w;
	struct tk_dirsource src;
	char path[1024];

	if (!m->started)
		return;
	/* A new consensus: when none is held, or the refetch time came. A
	 * source that cannot even be asked is backed off and the next one
	 * tried at once. */
	if (!m->pend && req_count(m, REQ_CONSENSUS) == 0) {
		if (!m->cons || now >= m->refetch_at_ms) {
			consensus_path(m, path, sizeof path);
			for (;;) {
				if (tk_dirsources_pick(m->srcs, m->cons, now,
						       &src, &w) != 0) {
					wake = min_t(wake, w);
					break;
				}
				if (launch(m, REQ_CONSENSUS, &src, path, NULL,
					   0) != -1)
					break;
			}
		} else {
			wake = min_t(wake, m->refetch_at_ms);
		}
	}
	/* Certificates for the consensus that waits for them. */
	if (m->pend && req_count(m, REQ_CERTS) == 0) {
		certs_path(m, path, sizeof path);
		for (;;) {
			if (tk_dirsources_pick(m->srcs, m->cons, now, &src,
					       &w) != 0) {
				wake = min_t(wake, w);
				break;
			}
			if (launch(m, REQ_CERTS, &src, path, NULL, 0) != -1)
				break;
		}
	}
	if (m->has_nodes)
		launch_mds(m, now, &wake);
	update_usable(m, now);
	if (m->usable)
		wake = min_t(wake,
			     (m->cons->valid_until + m->cfg.reasonably_live_s) *
					     1000 +
				     1000);
	if (m->cons_dirty) {
		save_consensus_and_certs(m);
		m->cons_dirty = 0;
	}
	if (m->mds_dirty && req_count(m, REQ_MDS) == 0)
		save_mds(m);
	if (wake >= 0 && wake < now)
		wake = now;
	m->wake_at = wake;
	if (m->env.wake)
		m->env.wake(m->env.arg, wake);
}

void
tk_dirmgr_tick(tk_dirmgr *m)
{
	step(m);
}

/* ---- life cycle ---- */

void
tk_dirmgr_config_init(struct tk_dirmgr_config *cfg)
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

int
tk_dirmgr_new(const struct tk_dirmgr_config *cfg,
	      const struct tk_dirmgr_env *env, tk_dirmgr **out, char *err,
	      size_t errlen)
{
	tk_dirmgr *m;
	*out = NULL;
	if (cfg->n_auths == 0) {
		snprintf(
			err, errlen,
			"no DirAuthority configured: the tor "
			"engine needs the authorities of the network to trust");
		return -1;
	}
	if (!env->now_ms || !env->random || !env->fetch) {
		snprintf(err, errlen,
			 "directory manager environment "
			 "incomplete (clock, random and fetch are required)");
		return -1;
	}
	for (size_t i = 0; i < cfg->n_auths; i++) {
		const tk_dirauth *a = &cfg->auths[i];
		if (!a->has_v3ident) {
			snprintf(
				err, errlen,
				"DirAuthority %s has no v3ident=: "
				"its consensus signatures could not be checked",
				a->nickname[0] ? a->nickname : "(unnamed)");
			return -1;
		}
		if (a->or_addr.ss_family != AF_INET) {
			snprintf(err, errlen,
				 "DirAuthority %s has no IPv4 "
				 "orport=",
				 a->nickname);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (memcmp(cfg->auths[j].v3ident, a->v3ident, 20) ==
			    0) {
				snprintf(err, errlen,
					 "DirAuthority %s repeats "
					 "the v3ident of %s",
					 a->nickname, cfg->auths[j].nickname);
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
	if (!m->auths || !m->v3ids)
		goto nomem;
	memcpy(m->auths, cfg->auths, cfg->n_auths * sizeof *m->auths);
	for (size_t i = 0; i < cfg->n_auths; i++)
		memcpy(m->v3ids[i], cfg->auths[i].v3ident, 20);
	m->cfg.auths = m->auths;
	if (tk_certstore_init(&m->certs, (const uint8_t(*)[20])m->v3ids,
			      cfg->n_auths, log_line, m) != 0)
		goto nomem;
	{
		struct tk_dirsources_config sc = {
			.auths = m->auths,
			.n_auths = cfg->n_auths,
			.backoff_base_ms = m->cfg.backoff_base_ms,
			.backoff_max_ms = m->cfg.backoff_max_ms,
			.random = env->random,
			.random_arg = env->arg,
		};
		m->srcs = tk_dirsources_new(&sc);
		if (!m->srcs)
			goto nomem;
	}
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

void
tk_dirmgr_start(tk_dirmgr *m)
{
	if (m->started)
		return;
	m->started = 1;
	progress(m, 0, "starting", "Starting");
	if (m->data_dir)
		load_cache(m);
	step(m);
}

void
tk_dirmgr_free(tk_dirmgr *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_reqs; i++) {
		if (m->env.cancel)
			m->env.cancel(m->env.arg, m->reqs[i].id);
		free(m->reqs[i].slots);
	}
	if (m->has_nodes) {
		tk_mdstore_free(&m->mds);
		tk_nodes_free(&m->nodes);
	}
	tk_consensus_free(m->cons);
	free(m->cons_text);
	tk_consensus_free(m->pend);
	free(m->pend_text);
	tk_certstore_free(&m->certs);
	free(m->spare_md);
	tk_dirsources_free(m->srcs);
	free(m->auths);
	free(m->v3ids);
	free(m->data_dir);
	free(m);
}

/* ---- queries ---- */

enum tk_dirmgr_phase
tk_dirmgr_phase(const tk_dirmgr *m)
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

const char *
tk_dirmgr_phase_name(enum tk_dirmgr_phase p)
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

int
tk_dirmgr_usable(const tk_dirmgr *m)
{
	return m->usable;
}

const struct tk_nodes *
tk_dirmgr_nodes(const tk_dirmgr *m)
{
	return m->has_nodes ? &m->nodes : NULL;
}

void
tk_dirmgr_get_stats(const tk_dirmgr *m, struct tk_dirmgr_stats *st)
{
	*st = m->stats;
	st->from_cache = m->from_cache;
	st->mds_held = m->has_nodes ? m->nodes.n_have : 0;
	st->mds_missing = m->has_nodes ? m->nodes.n - m->nodes.n_have : 0;
	st->refetch_at_ms = m->cons ? m->refetch_at_ms : -1;
}
