/* dirmgr.h: microdescriptors: batched requests for the digests the
 * consensus lists, and the answers offered to the node table. */
#include "onion/dir/dirmgr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "onion/base/bytes.h"
#include "onion/dir/dircache.h"
#include "onion/dir/dirmgr_int.h"
#include "onion/netdoc/netdoc.h"

/* ---- microdescriptors ---- */

/* Offers every microdescriptor of body to the node table. from_net:
 * unlisted ones are refused loudly (a cache file naturally holds stale
 * ones). Returns how many were new. */
size_t tk_dirmgr_offer_mds(tk_dirmgr *m, const char *body, size_t len,
			const char *origin, int from_net)
{
	size_t pos = 0, added = 0, refused = 0;
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
		/* A hostile answer may hold thousands of bad ones: the
		 * first few are named, the rest counted. */
		if (rc < 0) {
			if (from_net && refused++ < 3) {
				m->stats.refused_docs++;
				tk_dirmgr_logf(m, TK_DLOG_WARN, "refused "
					       "microdescriptor %s from %s: %s",
					       b64, origin, err);
			} else if (from_net) {
				m->stats.refused_docs++;
			}
			continue;
		}
		rc = tk_nodes_add_md(&m->nodes, &md, err, sizeof err);
		if (rc < 0) {
			if (from_net && refused++ < 3)
				tk_dirmgr_logf(m, TK_DLOG_WARN, "refused "
					       "microdescriptor from %s: %s",
					       origin, err);
			if (from_net)
				m->stats.refused_docs++;
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
	if (refused > 3)
		tk_dirmgr_logf(m, TK_DLOG_WARN, "refused %zu more "
			       "microdescriptors from %s", refused - 3, origin);
	if (added)
		m->mds_dirty = 1;
	return added;
}

static int cmp_digest(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Launches microdescriptor batches while there is room in flight. */
void tk_dirmgr_launch_mds(tk_dirmgr *m, int64_t now, int64_t *wake)
{
	size_t n = m->nodes.n;
	while (tk_dirmgr_req_count(m, TK_DIRREQ_MDS) < m->cfg.max_parallel) {
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
				*wake = tk_dirmgr_min_t(*wake, m->md_retry_at[i]);
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
		if (tk_dirmgr_pick_source(m, !retry, now, &src, &src_wake) != 0 &&
		    (!retry || tk_dirmgr_pick_source(m, 1, now, &src, &src_wake) != 0)) {
			*wake = tk_dirmgr_min_t(*wake, src_wake);
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
			tk_dirmgr_progress(m, 45, "requesting_descriptors",
				 "Asking for relay descriptors");
		int rc = tk_dirmgr_launch(m, TK_DIRREQ_MDS, &src, path, slots, k);
		if (rc != 0) {
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
		if (rc == -2)
			return; /* no room for requests: wait for answers */
	}
}

