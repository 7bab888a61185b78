/* dirmgr.h: what the manager keeps: authority certificates, and the
 * DataDirectory cache (written after verification, loaded and re-checked
 * at start). */
#include "onion/dir/dirmgr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "onion/base/bytes.h"
#include "onion/dir/dircache.h"
#include "onion/dir/dirmgr_int.h"
#include "onion/netdoc/netdoc.h"

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
	int64_t now = tk_dirmgr_now(m) / 1000;
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
		} else if (!cert_known(m, &c) && m->n_certs < TK_DIRMGR_MAX_CERTS) {
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

void tk_dirmgr_save_consensus_and_certs(tk_dirmgr *m)
{
	const char *p = m->cons_text;
	size_t l = m->cons_len;
	if (!cache_on(m))
		return;
	cache_write(m, TK_DIRCACHE_CONSENSUS, &p, &l, 1);
	cache_write(m, TK_DIRCACHE_CERTS, (const char *const *)m->cert_text,
		    m->cert_len, m->n_certs);
}

void tk_dirmgr_save_mds(tk_dirmgr *m)
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

void tk_dirmgr_load_cache(tk_dirmgr *m)
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
		tk_dirmgr_progress(m, 30, "loading_status",
			 "Loading networkstatus consensus");
		/* If signers' certificates are missing, the consensus
		 * waits for them like a fetched one. */
		tk_dirmgr_consensus_received(m, buf, len, NULL, 1);
	}
}

