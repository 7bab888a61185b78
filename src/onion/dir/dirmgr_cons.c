/* dirmgr.h: accepting a consensus. A document (fetched whole, made from a
 * diff, or read from the cache) is parsed, must be newer than ours and
 * not expired, waits for the certificates of its signers, must carry more
 * than half of the authorities' signatures, and must not require a
 * protocol we lack; then it becomes the node table's consensus. Also the
 * answers that carry microdescriptors, and whether the directory is
 * usable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/dir/dirmgr_int.h"
#include "onion/netdir/path.h"
#include "onion/netdoc/consdiff.h"
#include "onion/netdoc/netdoc.h"
#include "onion/netdoc/protover.h"

static void
fmt_time(int64_t t, char *buf, size_t len)
{
	tk_netdoc_time_fmt(t, buf, len);
}

int
tk__bootstrapping(const tk_dirmgr *m, int64_t now)
{
	return !m->has_nodes ||
	       now / 1000 > m->cons->valid_until + m->cfg.reasonably_live_s;
}

size_t
tk__offer_mds(tk_dirmgr *m, const char *body, size_t len, const char *origin,
	      int from_net)
{
	size_t added;
	if (!m->has_nodes)
		return 0;
	added = tk_mdstore_offer(&m->mds, &m->nodes, body, len, origin,
				 from_net, &m->stats.refused_docs, -1);
	if (added)
		m->mds_dirty = 1;
	return added;
}

/* tor stops when the network requires a protocol it lacks, and warns
 * when it lacks a recommended one. 0, or -1 if we must stop. */
static int
check_protocols(tk_dirmgr *m, const struct tk_consensus *c)
{
	char missing[256], msg[600];
	int r;
	if (c->required_client_text) {
		r = tk_protover_all_supported(c->required_client_text,
					      m->cfg.supported_protocols,
					      missing, sizeof missing);
		if (r == 0) {
			snprintf(msg, sizeof msg,
				 "This version of torkit lacks protocols the "
				 "Tor network requires of every client: %s. "
				 "It cannot work as a client of this network; "
				 "upgrade torkit. Stopping.",
				 missing);
			tk__log(m, TK_LOG_ERR, "%s", msg);
			m->stopped = 1;
			if (m->env.fatal)
				m->env.fatal(m->env.arg, msg);
			return -1;
		}
		if (r < 0)
			tk__log(m, TK_LOG_WARN,
				"the consensus's required-client-protocols "
				"line does not parse (%s); ignored",
				missing);
	}
	if (c->recommended_client_text &&
	    (!m->warned_recommended ||
	     strcmp(m->warned_recommended, c->recommended_client_text) != 0)) {
		r = tk_protover_all_supported(c->recommended_client_text,
					      m->cfg.supported_protocols,
					      missing, sizeof missing);
		free(m->warned_recommended);
		m->warned_recommended = strdup(c->recommended_client_text);
		if (r == 0)
			tk__log(m, TK_LOG_WARN,
				"This version of torkit lacks protocols the "
				"Tor network recommends for clients: %s. It "
				"works today; a later network may require "
				"them.",
				missing);
	}
	return 0;
}

static int
adopt(tk_dirmgr *m, struct tk_consensus *c, char *text, size_t len,
      int from_cache)
{
	struct tk_nodes nn;
	struct tk_mdstore ms;
	char va[32], vu[32], at[32];

	if (tk_nodes_init(&nn, c) != 0)
		return -1;
	if (tk_mdstore_init(&ms, nn.n, m->data_dir != NULL, tk__log_line, m) !=
	    0) {
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
	m->cons_sha3[0] = '\0';
	m->cons_in_file = from_cache;
	if (from_cache) {
		/* the file has it: no need to hold 3 MB of text */
		free(m->cons_text);
		m->cons_text = NULL;
	}
	m->nodes = nn;
	m->mds = ms;
	m->has_nodes = 1;
	/* A held consensus is the base of the next diff. */
	free(m->base_text);
	m->base_text = NULL;
	/* Requests in flight for the old table refer to its slots. */
	for (size_t i = 0; i < m->n_reqs; i++)
		if (m->reqs[i].kind == TK__REQ_MDS)
			m->reqs[i].cons = NULL;
	m->from_cache = from_cache;
	if (!from_cache)
		m->stats.consensus_fetched++;
	m->refetch_at_ms = tk_consensus_refetch_time(c, tk__rand(m)) * 1000;
	fmt_time(c->valid_after, va, sizeof va);
	fmt_time(c->valid_until, vu, sizeof vu);
	tk__log(m, TK_LOG_NOTICE,
		"%s consensus of %s verified (valid until %s UTC): %zu "
		"relays, %zu microdescriptors already held",
		from_cache ? "cached" : "new", va, vu, c->n_routers,
		m->nodes.n_have);
	if (m->data_dir && !m->md_file_loaded) {
		m->md_file_loaded = 1;
		tk__load_cached_mds(m);
	}
	fmt_time(m->refetch_at_ms / 1000, at, sizeof at);
	tk__log(m, TK_LOG_INFO, "next consensus fetch at %s UTC", at);
	/* Written at the end of step(), after the next requests left:
	 * fsync is slow and the network need not wait for the disk. */
	if (!from_cache)
		m->cons_dirty = 1;
	tk__consensus_done(m);
	tk__changed(m);
	return 0;
}

/* Decides about the pending consensus once certificates may suffice. */
static void
try_verify_pending(tk_dirmgr *m, int after_cert_fetch)
{
	struct tk_cert_ref refs[TK_CONS_MAX_SOURCES];
	char err[512];
	int64_t now = tk__now(m) / 1000;
	size_t missing =
		tk_consensus_missing_certs(m->pend,
					   (const uint8_t(*)[20])m->v3ids,
					   m->cfg.n_auths, m->certs.certs,
					   m->certs.n, refs,
					   TK_CONS_MAX_SOURCES);
	if (missing > 0 && !after_cert_fetch)
		return; /* step() fetches them first */
	if (!m->ever_usable)
		tk__progress(m, 40, "loading_keys",
			     "Loading authority key certs");
	if (tk_consensus_verify(m->pend, (const uint8_t(*)[20])m->v3ids,
				m->cfg.n_auths, m->certs.certs, m->certs.n, now,
				m->cfg.skew_s, err, sizeof err) == 0) {
		struct tk_consensus *c = m->pend;
		char *t = m->pend_text;
		size_t l = m->pend_len;
		int fc = m->pend_from_cache;
		m->pend = NULL;
		m->pend_text = NULL;
		if (check_protocols(m, c) != 0) {
			tk_consensus_free(c);
			free(t);
			return;
		}
		if (!fc)
			tk_dirsources_succeeded(m->srcs, &m->pend_src);
		if (adopt(m, c, t, l, fc) != 0) {
			tk__log(m, TK_LOG_WARN,
				"out of memory adopting a consensus");
			tk_consensus_free(c);
			free(t);
		}
		return;
	}
	if (missing > 0 && m->pend_cert_tries < 2 * m->cfg.n_auths + 2)
		return; /* more certificates may still come from elsewhere */
	m->stats.refused_docs++;
	tk__log(m, TK_LOG_WARN, "refused %s consensus%s%s: %s",
		m->pend_from_cache ? "cached" : "fetched",
		m->pend_from_cache ? "" : " from ",
		m->pend_from_cache ? "" : m->pend_src.nickname, err);
	if (!m->pend_from_cache)
		tk__fetch_failed(m, TK__REQ_CONSENSUS, &m->pend_src, 0,
				 "its consensus did not verify");
	tk_consensus_free(m->pend);
	free(m->pend_text);
	m->pend = NULL;
	m->pend_text = NULL;
}

/* Keeps an expired cached consensus as the base of a diff: what a cache
 * sends to a client that was away a day is a fraction of the whole. */
static void
keep_as_base(tk_dirmgr *m, struct tk_consensus *c, char *text, size_t len)
{
	int64_t max_age = 72 * 3600; /* tor's try-diff-for-consensus-newer-than
				      */
	if (c->valid_after < tk__now(m) / 1000 - max_age || m->cons) {
		free(text);
		return;
	}
	free(m->base_text);
	m->base_text = text;
	m->base_len = len;
	m->base_signed = c->signed_len;
	m->base_va = c->valid_after;
	m->base_sha3[0] = '\0';
}

/* Takes ownership of text. */
void
tk__consensus_received(tk_dirmgr *m, char *text, size_t len,
		       const struct tk_dirsource *src, int from_cache)
{
	struct tk_consensus *c;
	char err[TK_NETDOC_ERRLEN], why[TK_NETDOC_ERRLEN + 64];
	const char *origin = from_cache ? "the cache" : src->nickname;
	if (tk_consensus_parse(text, len, &c, err, sizeof err) != 0) {
		m->stats.refused_docs++;
		tk__log(m, TK_LOG_WARN, "refused consensus from %s: %s", origin,
			err);
		if (!from_cache) {
			snprintf(why, sizeof why, "bad consensus: %s", err);
			tk__fetch_failed(m, TK__REQ_CONSENSUS, src, 0, why);
		}
		free(text);
		return;
	}
	if (m->cons && c->valid_after <= m->cons->valid_after) {
		char va[32];
		fmt_time(c->valid_after, va, sizeof va);
		tk__log(m, TK_LOG_INFO,
			"consensus from %s (valid-after %s) is not newer than "
			"ours; trying elsewhere",
			origin, va);
		if (!from_cache)
			tk__fetch_failed(
				m, TK__REQ_CONSENSUS, src, 0,
				"its consensus is not newer than ours");
		tk_consensus_free(c);
		free(text);
		return;
	}
	if (tk__now(m) / 1000 > c->valid_until) {
		/* no certificate fetch for a dead document */
		char vu[32];
		fmt_time(c->valid_until, vu, sizeof vu);
		m->stats.refused_docs++;
		tk__log(m, TK_LOG_WARN,
			"refused %s consensus%s%s: expired (valid-until %s UTC "
			"is past)",
			from_cache ? "cached" : "fetched",
			from_cache ? "" : " from ", from_cache ? "" : origin,
			vu);
		if (!from_cache)
			tk__fetch_failed(m, TK__REQ_CONSENSUS, src, 0,
					 "its consensus is expired");
		else
			keep_as_base(m, c, text, len), text = NULL;
		tk_consensus_free(c);
		free(text);
		return;
	}
	if (!m->ever_usable)
		tk__progress(m, 30, "loading_status",
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
	if (src)
		m->pend_src = *src;
	else
		memset(&m->pend_src, 0, sizeof m->pend_src);
	/* A cached consensus is tried with the cached certificates first
	 * (enough of them may be there). */
	try_verify_pending(m, from_cache);
}

/* The document a diff starts from: the consensus held (read back from
 * the cache if need be), or the older one kept from the cache. */
static int
diff_base(tk_dirmgr *m, const char **text, size_t *len, size_t *sig, int *owned)
{
	*owned = 0;
	if (m->cons) {
		*sig = m->cons->signed_len;
		return tk__consensus_text(m, text, len, owned);
	}
	if (m->base_text) {
		*text = m->base_text;
		*len = m->base_len;
		*sig = m->base_signed;
		return 0;
	}
	return -1;
}

void
tk__consensus_answer(tk_dirmgr *m, const struct tk__req *r, int ok,
		     const uint8_t *body, size_t len)
{
	char *t;
	if (!ok)
		return;
	if (tk_consdiff_is_diff((const char *)body, len)) {
		const char *base;
		size_t blen, bsig, olen;
		char err[256];
		int owned, rc;
		if (!r->asked_diff ||
		    diff_base(m, &base, &blen, &bsig, &owned) != 0) {
			tk__fetch_failed(m, TK__REQ_CONSENSUS, &r->src, 0,
					 "a consensus diff we did not ask for");
			return;
		}
		rc = tk_consdiff_apply(base, blen, bsig, (const char *)body,
				       len, &t, &olen, err, sizeof err);
		if (owned)
			free((char *)base);
		if (rc != 0) {
			m->stats.diffs_refused++;
			m->diff_failed = 1;
			tk__log(m, TK_LOG_NOTICE,
				"refused the consensus diff from %s: %s; "
				"asking for the whole consensus",
				r->src.nickname, err);
			/* no fault of the schedule: the whole document is
			 * asked for at once */
			tk_dlsched_reset(&m->cons_dl, tk__now(m));
			m->cons_dl.next_ms = tk__now(m);
			return;
		}
		m->stats.diffs_applied++;
		tk__log(m, TK_LOG_INFO,
			"consensus diff from %s: %zu bytes made a %zu-byte "
			"consensus",
			r->src.nickname, len, olen);
		tk__consensus_received(m, t, olen, &r->src, 0);
		return;
	}
	t = malloc(len + 1);
	if (!t)
		return;
	memcpy(t, body, len);
	t[len] = '\0';
	if (!r->asked_diff)
		m->diff_failed = 0;
	tk__consensus_received(m, t, len, &r->src, 0);
}

void
tk__certs_answer(tk_dirmgr *m, const struct tk__req *r, int ok,
		 const uint8_t *body, size_t len)
{
	struct tk_cert_ref refs[TK_CONS_MAX_SOURCES];
	size_t added;
	if (!m->pend)
		return;
	m->pend_cert_tries++;
	if (ok) {
		added = tk_certstore_add(&m->certs, (const char *)body, len,
					 tk__now(m) / 1000, r->src.nickname,
					 &m->stats.refused_docs);
		tk__log(m, TK_LOG_INFO,
			"%zu new authority certificates from %s", added,
			r->src.nickname);
		if (tk_consensus_missing_certs(m->pend,
					       (const uint8_t(*)[20])m->v3ids,
					       m->cfg.n_auths, m->certs.certs,
					       m->certs.n, refs,
					       TK_CONS_MAX_SOURCES) > 0)
			tk__fetch_failed(
				m, TK__REQ_CERTS, &r->src, 0,
				"certificates missing from the answer");
		else
			tk_dirsources_succeeded(m->srcs, &r->src);
	}
	try_verify_pending(m, 1);
}

void
tk__mds_answer(tk_dirmgr *m, const struct tk__req *r, int ok, int http_status,
	       const uint8_t *body, size_t len)
{
	int64_t now = tk__now(m);
	size_t got = 0, missing;
	int current = r->cons != NULL && r->cons == m->cons;
	/* The source answered (a 404 too: it lacks them); a 503 (busy) or
	 * no answer is no fault of the digests. */
	int answered = http_status != 0 && http_status != 503;

	if (current)
		for (size_t j = 0; j < r->n_slots; j++)
			m->mds.inflight[r->slots[j]] = 0;
	if (ok)
		got = tk__offer_mds(m, (const char *)body, len, r->src.nickname,
				    1);
	if (!current)
		return;
	missing = tk_mdstore_answered(&m->mds, &m->nodes, r->slots, r->n_slots,
				      answered, now, m->srcs, r->src.rsa_id);
	if (ok) {
		tk_dirsources_succeeded(m->srcs, &r->src);
		tk__log(m, TK_LOG_INFO, "%zu of %zu microdescriptors from %s%s",
			got, r->n_slots, r->src.nickname,
			missing ? "; the rest are asked of another cache" : "");
	}
}

/* ---- usability ---- */

void
tk__update_usable(tk_dirmgr *m, int64_t now)
{
	int usable = 0;
	double frac = 0;
	int live = m->has_nodes &&
		   now / 1000 <=
			   m->cons->valid_until + m->cfg.reasonably_live_s;
	if (live) {
		struct tk_path_weights w;
		struct tk_path_opts o;
		tk_path_weights_init(&w, m->cons);
		tk_path_opts_init(&o);
		o.enforce_distinct_subnets = m->cfg.enforce_distinct_subnets;
		frac = tk_nodes_path_fraction(&m->nodes, &w, &o);
		usable = frac >= m->cfg.min_path_fraction;
	}
	m->stats.path_fraction = frac;
	m->live = live;
	if (!m->ever_usable && m->has_nodes && m->nodes.n && m->nodes.n_have) {
		/* tor: 50% + 25% x share of descriptors held */
		int pct = 50 + (int)(24.0 * (double)m->nodes.n_have /
				     (double)m->nodes.n);
		tk__progress(m, pct, "loading_descriptors",
			     "Loading relay descriptors");
	}
	if (usable == m->usable)
		return;
	m->usable = usable;
	if (usable) {
		tk__log(m, TK_LOG_NOTICE,
			"directory usable: %zu of %zu microdescriptors, path "
			"fraction %.2f",
			m->nodes.n_have, m->nodes.n, frac);
		if (!m->ever_usable) {
			m->ever_usable = 1;
			m->stats.fetches_before_usable = m->stats.fetches;
			tk__progress(m, 75, "enough_dirinfo",
				     "Loaded enough directory info to build "
				     "circuits");
		}
	} else {
		tk__log(m, TK_LOG_WARN, "directory no longer usable: %s",
			!live ? "the consensus is too old"
			      : "too few microdescriptors");
	}
	tk__changed(m);
}
