/* dirmgr.h: the DataDirectory. Verified documents are written there
 * (atomically, dircache.h); at start they are read back and checked
 * exactly as documents from the network. A cached consensus too old to
 * use is kept as the base of a diff. */
#include <stdlib.h>

#include "onion/dir/dircache.h"
#include "onion/dir/dirmgr_int.h"

static void
cache_write(tk_dirmgr *m, enum tk_dircache_file f, const char *const *parts,
	    const size_t *lens, size_t n)
{
	char err[256];
	if (tk_dircache_write(m->data_dir, f, parts, lens, n, err, sizeof err))
		tk__log(m, TK_LOG_WARN, "%s (the cache is not updated)", err);
}

void
tk__save_consensus_and_certs(tk_dirmgr *m)
{
	const char *p = m->cons_text;
	size_t l = m->cons_len;
	if (!m->data_dir)
		return;
	cache_write(m, TK_DIRCACHE_CONSENSUS, &p, &l, 1);
	cache_write(m, TK_DIRCACHE_CERTS, (const char *const *)m->certs.text,
		    m->certs.len, m->certs.n);
}

void
tk__save_mds(tk_dirmgr *m)
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

void
tk__load_cache(tk_dirmgr *m)
{
	char err[512], *buf;
	size_t len;
	int rc;

	if (tk_dircache_prepare(m->data_dir, err, sizeof err) != 0) {
		tk__log(m, TK_LOG_WARN, "%s; running without a cache", err);
		free(m->data_dir);
		m->data_dir = NULL;
		return;
	}
	rc = tk_dircache_read(m->data_dir, TK_DIRCACHE_CERTS, &buf, &len, err,
			      sizeof err);
	if (rc < 0)
		tk__log(m, TK_LOG_WARN, "%s", err);
	if (rc > 0) {
		size_t n = tk_certstore_add(&m->certs, buf, len,
					    tk__now(m) / 1000, "the cache",
					    &m->stats.refused_docs);
		tk__log(m, TK_LOG_INFO,
			"%zu authority certificates from the "
			"cache",
			n);
		free(buf);
	}
	rc = tk_dircache_read(m->data_dir, TK_DIRCACHE_MICRODESCS, &buf, &len,
			      err, sizeof err);
	if (rc < 0)
		tk__log(m, TK_LOG_WARN, "%s", err);
	if (rc > 0) {
		m->spare_md = buf;
		m->spare_len = len;
	}
	rc = tk_dircache_read(m->data_dir, TK_DIRCACHE_CONSENSUS, &buf, &len,
			      err, sizeof err);
	if (rc < 0)
		tk__log(m, TK_LOG_WARN, "%s", err);
	if (rc > 0) {
		tk__progress(m, 30, "loading_status",
			     "Loading networkstatus consensus");
		/* If signers' certificates are missing, the consensus
		 * waits for them like a fetched one. */
		tk__consensus_received(m, buf, len, NULL, 1);
	}
}
