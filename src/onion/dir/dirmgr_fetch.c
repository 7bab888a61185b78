/* dirmgr.h: what to fetch, from where, and when.
 *
 * Consensus, bootstrapping (no reasonably live consensus), as tor 0.4.9:
 * two attempt schedules run side by side, the fallbacks' (first attempt
 * at once) and the authorities' (first attempt after 6 s, or at once when
 * there are no fallbacks); each launches an attempt when it is due and
 * then waits a growing random delay (dlsched.h). At most 3 attempts are in
 * flight, and none is added once one is receiving a document. A failure
 * only frees a slot; a 503 ("busy") makes the next attempt due at once.
 * The first consensus that verifies ends the others. With a consensus
 * held, one refresh at a time at the refetch time, to a directory guard
 * or a cache, asking for a diff; after a failure it waits per tor's retry
 * schedule.
 *
 * Microdescriptors, as tor's launch_descriptor_downloads(): what is
 * missing is split into requests of a third each, 32 to 500 digests (over
 * BEGIN_DIR), spread over different caches; a cache that lacked a digest
 * is not asked for it again. Once usable, fewer than 16 missing wait up
 * to md_delay_ms to be asked for together.
 *
 * A request without a byte for stall_ms is given up and counted as a
 * failure of its source. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/dir/dirmgr_int.h"
#include "onion/netdoc/consdiff.h"
#include "onion/netdoc/netdoc.h"

/* tor: below this many missing microdescriptors, wait for more */
#define MD_MAX_TO_DELAY 16
/* tor: at least this many requests for what is missing */
#define MD_MIN_REQUESTS 3

void
tk__fetch_init(tk_dirmgr *m)
{
	int64_t now = tk__now(m);
	int have_fb = m->cfg.n_fallbacks > 0;
	tk_dlsched_init(&m->boot_fb, m->cfg.boot_fallback_delay_ms,
			m->cfg.boot_max_delay_ms, 1, now);
	tk_dlsched_init(&m->boot_auth,
			have_fb ? m->cfg.boot_authority_delay_ms
				: m->cfg.boot_authority_only_delay_ms,
			m->cfg.boot_max_delay_ms, 1, now);
	tk_dlsched_init(&m->cons_dl, 0, 5 * m->cfg.boot_max_delay_ms, 0, now);
	m->booting = 1;
}

/* The source's keys from the node table, when we hold its
 * microdescriptor: then its circuit is made with ntor. */
static void
fill_keys(const tk_dirmgr *m, struct tk_dirsource *s)
{
	const struct tk_router *r;
	const struct tk_microdesc *md;
	if (!m->has_nodes || s->has_ntor)
		return;
	r = tk_consensus_router_by_id(m->cons, s->rsa_id);
	if (!r)
		return;
	md = m->nodes.node[r - m->cons->routers].md;
	if (!md)
		return;
	s->has_ntor = 1;
	memcpy(s->ntor_key, md->ntor_key, 32);
	if (md->has_ed25519) {
		s->has_ed = 1;
		memcpy(s->ed_id, md->ed25519_id, 32);
	}
}

/* Identities with a request of that kind in flight (to spread requests
 * over sources). */
static size_t
busy_sources(const tk_dirmgr *m, enum tk__req_kind kind, uint8_t (*out)[20],
	     size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_reqs && n < cap; i++)
		if (m->reqs[i].kind == kind)
			memcpy(out[n++], m->reqs[i].src.rsa_id, 20);
	return n;
}

static int
avoided(const uint8_t *id, const uint8_t (*avoid)[20], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(avoid[i], id, 20) == 0)
			return 1;
	return 0;
}

/* Once usable: a directory guard, else a cache of the consensus; with
 * dirservers, then the fallbacks pool, then the authorities (without a
 * consensus, only those). avoid[0..n_strict) are never asked (they
 * lacked what is wanted) unless nothing else is left, the next n_soft
 * only if all others are (they are busy with the same kind of request).
 * 0 with *src, or -1 (*wake lowered). */
static int
pick_source(tk_dirmgr *m, int64_t now, int dirservers,
	    const uint8_t (*avoid)[20], size_t n_strict, size_t n_soft,
	    struct tk_dirsource *src, int64_t *wake)
{
	static const enum tk_dirsrc_pool pools[3] = { TK_DIRSRC_CACHES,
						      TK_DIRSRC_FALLBACKS,
						      TK_DIRSRC_AUTHORITIES };
	int64_t w;
	if (m->usable && m->env.dir_guard &&
	    m->env.dir_guard(m->env.arg, &m->nodes, src) == 0 &&
	    tk_dirsources_ready(m->srcs, src, now) &&
	    !avoided(src->rsa_id, avoid, n_strict)) {
		src->is_guard = 1;
		fill_keys(m, src);
		return 0;
	}
	for (int p = tk__bootstrapping(m, now) ? 1 : 0; p < 3; p++) {
		size_t tries[3] = { n_strict + n_soft, n_strict, 0 };
		for (int t = 0; t < 3; t++) {
			int rc = tk_dirsources_pick(m->srcs, pools[p], m->cons,
						    now, avoid, tries[t], src,
						    &w);
			if (rc == 0) {
				fill_keys(m, src);
				return 0;
			}
			if (rc == -1) {
				*wake = tk__min_t(*wake, w);
				break;
			}
		}
		if (!dirservers)
			return -1;
	}
	return -1;
}

static void
consensus_path(const tk_dirmgr *m, char *out, size_t cap)
{
	/* Ask for a consensus only if our authorities signed it (the
	 * server answers 404 otherwise): dir-spec §4.3, 3-byte prefixes.
	 * Nine authorities fit easily. */
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

/* X-Or-Diff-From-Consensus when we hold a consensus younger than tor's
 * try-diff-for-consensus-newer-than (72 h by default), unless the last
 * diff failed. The digest (SHA3-256 of megabytes) is computed the first
 * time it is needed, not when the consensus arrives. */
static void
consensus_headers(tk_dirmgr *m, int64_t now, char *out, size_t cap)
{
	int64_t va, max_age = 72 * 3600;
	char *hex;

	out[0] = '\0';
	if (m->cfg.no_diffs || m->diff_failed)
		return;
	if (m->cons) {
		va = m->cons->valid_after;
		max_age = 3600 * (int64_t)tk_consensus_param(
					 m->cons,
					 "try-diff-for-consensus-newer-than",
					 72, 0, 8192);
		hex = m->cons_sha3;
	} else if (m->base_text) {
		va = m->base_va;
		hex = m->base_sha3;
	} else {
		return;
	}
	if (va < now / 1000 - max_age)
		return;
	if (!hex[0]) {
		const char *text;
		size_t len;
		int owned = 0;
		if (m->cons) {
			if (tk__consensus_text(m, &text, &len, &owned) != 0)
				return;
			tk_consdiff_digest_hex(text, m->cons->signed_len, hex);
		} else {
			tk_consdiff_digest_hex(m->base_text, m->base_signed,
					       hex);
		}
		if (owned)
			free((char *)text);
	}
	snprintf(out, cap, "X-Or-Diff-From-Consensus: %s\r\n", hex);
}

/* One bootstrap attempt from the pool; 0 launched, -1 no source ready
 * (*wake lowered), -2 no room. */
static int
boot_attempt(tk_dirmgr *m, enum tk_dirsrc_pool pool, int sched, int64_t now,
	     const char *path, int64_t *wake)
{
	char hdrs[128];
	uint8_t busy[8][20];
	size_t nb = busy_sources(m, TK__REQ_CONSENSUS, busy, 8);
	struct tk_dirsource src;
	struct tk__req *r;
	int64_t w;
	int rc;

	if (tk_dirsources_pick(m->srcs, pool, NULL, now,
			       (const uint8_t(*)[20])busy, nb, &src, &w) != 0) {
		*wake = tk__min_t(*wake, w);
		return -1;
	}
	fill_keys(m, &src);
	consensus_headers(m, now, hdrs, sizeof hdrs);
	rc = tk__launch(m, TK__REQ_CONSENSUS, &src, path, hdrs, NULL, 0, &r);
	if (rc == -2)
		return -2;
	if (rc == 0) {
		r->boot = sched;
		r->asked_diff = hdrs[0] != '\0';
	}
	if (pool == TK_DIRSRC_FALLBACKS && !src.is_authority)
		m->tried_fb++;
	else
		m->tried_auth++;
	return 0;
}

void
tk__launch_consensus(tk_dirmgr *m, int64_t now, int64_t *wake)
{
	char path[512], hdrs[128];
	size_t n = tk__req_count(m, TK__REQ_CONSENSUS);
	struct tk_dirsource src;
	struct tk__req *r;
	int boot = tk__bootstrapping(m, now);

	if (boot && !m->booting) {
		/* the consensus we had is too old now: start over */
		tk_dlsched_reset(&m->boot_fb, now);
		tk_dlsched_reset(&m->boot_auth, now);
		m->booting = 1;
	}
	m->booting = boot;
	if (m->pend)
		return; /* its certificates first */
	consensus_path(m, path, sizeof path);
	if (boot) {
		unsigned max = m->cfg.boot_max_in_progress;
		/* tor: no more attempts once one is downloading */
		for (size_t i = 0; i < m->n_reqs; i++)
			if (m->reqs[i].kind == TK__REQ_CONSENSUS &&
			    m->reqs[i].bytes > 0)
				return;
		if (m->cfg.n_fallbacks) {
			while (n < max && tk_dlsched_ready(&m->boot_fb, now)) {
				int rc = boot_attempt(m, TK_DIRSRC_FALLBACKS, 1,
						      now, path, wake);
				if (rc != 0)
					break;
				tk_dlsched_attempted(&m->boot_fb, now,
						     tk__rand(m));
				n++;
			}
			/* a due schedule without a ready source waits for
			 * the source (boot_attempt lowered *wake) */
			if (n < max && m->boot_fb.next_ms > now)
				*wake = tk__min_t(*wake, m->boot_fb.next_ms);
		}
		while (n < max && tk_dlsched_ready(&m->boot_auth, now)) {
			int rc = boot_attempt(m, TK_DIRSRC_AUTHORITIES, 2, now,
					      path, wake);
			if (rc != 0)
				break;
			tk_dlsched_attempted(&m->boot_auth, now, tk__rand(m));
			n++;
		}
		if (n < max && m->boot_auth.next_ms > now)
			*wake = tk__min_t(*wake, m->boot_auth.next_ms);
		return;
	}
	if (n > 0)
		return;
	if (now < m->refetch_at_ms) {
		*wake = tk__min_t(*wake, m->refetch_at_ms);
		return;
	}
	if (!tk_dlsched_ready(&m->cons_dl, now)) {
		*wake = tk__min_t(*wake, m->cons_dl.next_ms);
		return;
	}
	if (pick_source(m, now, 1, NULL, 0, 0, &src, wake) != 0)
		return;
	consensus_headers(m, now, hdrs, sizeof hdrs);
	if (tk__launch(m, TK__REQ_CONSENSUS, &src, path, hdrs, NULL, 0, &r) ==
	    0)
		r->asked_diff = hdrs[0] != '\0';
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
		char hex[41];
		for (size_t j = 0; j < i && !dup; j++)
			dup = memcmp(refs[j].v3ident, refs[i].v3ident, 20) == 0;
		if (dup)
			continue;
		tk_netdoc_hex(refs[i].v3ident, 20, hex);
		off += (size_t)snprintf(out + off, cap - off, "%s%s",
					any ? "+" : "", hex);
		any = 1;
	}
	if (!any)
		snprintf(out, cap, "/tor/keys/all");
}

void
tk__launch_certs(tk_dirmgr *m, int64_t now, int64_t *wake)
{
	char path[1024];
	struct tk_dirsource src;
	if (!m->pend || tk__req_count(m, TK__REQ_CERTS) > 0)
		return;
	certs_path(m, path, sizeof path);
	/* the source of the consensus first: its circuit is open */
	if (!m->pend_from_cache && m->pend_src.nickname[0] &&
	    tk_dirsources_ready(m->srcs, &m->pend_src, now) &&
	    m->pend_cert_tries == 0)
		src = m->pend_src;
	else if (pick_source(m, now, 1, NULL, 0, 0, &src, wake) != 0)
		return;
	(void)tk__launch(m, TK__REQ_CERTS, &src, path, "", NULL, 0, NULL);
}

void
tk__launch_mds(tk_dirmgr *m, int64_t now, int64_t *wake)
{
	size_t n_down, per;
	uint8_t avoid[48][20];

	n_down = tk_mdstore_downloadable(&m->mds, &m->nodes, now, wake);
	if (n_down == 0)
		return;
	if (m->usable && n_down < MD_MAX_TO_DELAY &&
	    now < m->last_md_req_ms + m->cfg.md_delay_ms) {
		*wake = tk__min_t(*wake,
				  m->last_md_req_ms + m->cfg.md_delay_ms);
		return;
	}
	per = (n_down + MD_MIN_REQUESTS - 1) / MD_MIN_REQUESTS;
	if (per > m->cfg.md_batch_max)
		per = m->cfg.md_batch_max;
	if (per < m->cfg.md_batch_min)
		per = n_down < m->cfg.md_batch_min ? n_down
						   : m->cfg.md_batch_min;
	while (tk__req_count(m, TK__REQ_MDS) < m->cfg.md_max_parallel) {
		uint32_t *slots = malloc(per * sizeof *slots);
		struct tk_dirsource src;
		size_t k, nl, nb;
		int retry, rc;
		char *path;
		if (!slots)
			return;
		k = tk_mdstore_batch(&m->mds, &m->nodes, now, slots, per,
				     &retry, wake);
		if (k == 0) {
			free(slots);
			return;
		}
		/* not a cache that lacked one of them; preferably one not
		 * busy with another batch */
		nl = tk_mdstore_lacked(&m->mds, slots, k, avoid, 24);
		nb = busy_sources(m, TK__REQ_MDS, avoid + nl, 24);
		if (pick_source(m, now, 0, (const uint8_t(*)[20])avoid, nl, nb,
				&src, wake) != 0) {
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
			tk__progress(m, 45, "requesting_descriptors",
				     "Asking for relay descriptors");
		m->last_md_req_ms = now;
		{
			/* launch frees slots on failure: keep a copy to
			 * clear what was marked in flight */
			uint32_t *copy = malloc(k * sizeof *copy);
			if (copy)
				memcpy(copy, slots, k * sizeof *copy);
			rc = tk__launch(m, TK__REQ_MDS, &src, path, "", slots,
					k, NULL);
			if (rc != 0 && copy)
				for (size_t j = 0; j < k; j++)
					m->mds.inflight[copy[j]] = 0;
			free(copy);
		}
		free(path);
		if (rc == -2)
			return; /* no room for requests: wait for answers */
		(void)retry;
	}
}

void
tk__check_stalls(tk_dirmgr *m, int64_t now, int64_t *wake)
{
	for (size_t i = 0; i < m->n_reqs;) {
		struct tk__req *r = &m->reqs[i], copy;
		char why[160];
		if (now - r->progress_ms < m->cfg.stall_ms) {
			*wake = tk__min_t(*wake,
					  r->progress_ms + m->cfg.stall_ms);
			i++;
			continue;
		}
		snprintf(why, sizeof why,
			 "stalled: no data for %lld s (%zu bytes received)",
			 (long long)((now - r->progress_ms) / 1000), r->bytes);
		copy = *r;
		r->slots = NULL;
		m->stats.stalls++;
		if (m->env.cancel)
			m->env.cancel(m->env.arg, copy.id);
		*r = m->reqs[--m->n_reqs];
		tk__fetch_failed(m, copy.kind, &copy.src, 0, why);
		if (copy.kind == TK__REQ_MDS)
			tk__mds_answer(m, &copy, 0, 0, NULL, 0);
		else if (copy.kind == TK__REQ_CERTS)
			tk__certs_answer(m, &copy, 0, NULL, 0);
		free(copy.slots);
	}
}

/* The report when bootstrap gets nowhere: once after a few failures,
 * then each time their number doubles. */
static void
report_stuck(tk_dirmgr *m)
{
	char who[160];
	if (m->boot_fails < 4 || m->boot_fails < m->boot_fail_report)
		return;
	m->boot_fail_report = m->boot_fails * 2;
	if (m->cfg.n_fallbacks)
		snprintf(who, sizeof who,
			 "%u made to fallback directory mirrors, %u to "
			 "directory authorities",
			 m->tried_fb, m->tried_auth);
	else
		snprintf(who, sizeof who, "all made to directory authorities");
	tk__log(m, TK_LOG_WARN,
		"Problem bootstrapping. Stuck at %d%% (%s): no directory "
		"source could be reached. %u attempts failed (%s); the last: "
		"%s. Check that this host can open TCP connections to the "
		"Internet (relays listen on ports such as 443 and 9001), and "
		"that no firewall blocks them. Still trying, at most %lld s "
		"apart.",
		m->progress_pct < 0 ? 0 : m->progress_pct, m->progress_tag,
		m->boot_fails, who, m->last_fail,
		(long long)(m->cfg.boot_max_delay_ms / 1000));
}

void
tk__fetch_failed(tk_dirmgr *m, enum tk__req_kind kind,
		 const struct tk_dirsource *src, int http_status,
		 const char *why)
{
	int64_t now = tk__now(m);
	int loud = !m->ever_usable && m->stats.failures < 10;

	m->stats.failures++;
	/* loud while bootstrapping: the user waits for it */
	tk__log(m, loud ? TK_LOG_NOTICE : TK_LOG_INFO,
		"%s from %s failed: %s; trying elsewhere", tk__kind_name(kind),
		src->nickname, why);
	/* A 404 for microdescriptors: that cache lacks them (mdstore.h
	 * remembers); it is no reason to leave the cache alone. */
	if (!(kind == TK__REQ_MDS && http_status == 404))
		tk_dirsources_failed(m->srcs, src, now);
	if (kind != TK__REQ_CONSENSUS)
		return;
	if (!m->booting) {
		tk_dlsched_failed(&m->cons_dl, now, tk__rand(m));
		return;
	}
	m->boot_fails++;
	snprintf(m->last_fail, sizeof m->last_fail, "%s: %s", src->nickname,
		 why);
	/* busy: another source at once, off the schedule */
	if (http_status == 503) {
		if (m->cfg.n_fallbacks)
			m->boot_fb.next_ms = now;
		else
			m->boot_auth.next_ms = now;
	}
	report_stuck(m);
}

void
tk__consensus_done(tk_dirmgr *m)
{
	int64_t now = tk__now(m);
	for (size_t i = 0; i < m->n_reqs;)
		if (m->reqs[i].kind == TK__REQ_CONSENSUS)
			tk__req_cancel(m, &m->reqs[i]);
		else
			i++;
	if (m->boot_fail_report)
		tk__log(m, TK_LOG_NOTICE,
			"a directory source answered after %u failed "
			"attempts",
			m->boot_fails);
	m->boot_fails = 0;
	m->boot_fail_report = 0;
	tk_dlsched_reset(&m->boot_fb, now);
	tk_dlsched_reset(&m->boot_auth, now);
	tk_dlsched_reset(&m->cons_dl, now);
}
