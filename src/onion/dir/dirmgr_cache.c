/* dirmgr.h: the DataDirectory. Verified documents are written there
 * (atomically, dircache.h); at start they are read back and checked
 * exactly as documents from the network. A cached consensus too old to
 * use is kept as the base of a diff. Once a document is in its file, the
 * memory holding it is given back: the file is read again in the rare
 * case it is needed (a diff, the next rewrite of the microdescriptors). */
#include <stdlib.h>
#include <string.h>

#include "onion/dir/dircache.h"
#include "onion/dir/dirmgr_int.h"

static int
cache_write(tk_dirmgr *m, enum tk_dircache_file f, const char *const *parts,
	    const size_t *lens, size_t n)
{
	char err[256];
	if (tk_dircache_write(m->data_dir, f, parts, lens, n, err,
			      sizeof err) == 0)
		return 0;
	tk__log(m, TK_LOG_WARN, "%s (the cache is not updated)", err);
	return -1;
}

void
tk__save_consensus_and_certs(tk_dirmgr *m)
{
	const char *p = m->cons_text;
	size_t l = m->cons_len;
	if (!m->data_dir || !p)
		return;
	if (cache_write(m, TK_DIRCACHE_CONSENSUS, &p, &l, 1) == 0) {
		/* the file has it now: the memory can go */
		free(m->cons_text);
		m->cons_text = NULL;
		m->cons_in_file = 1;
	}
	cache_write(m, TK_DIRCACHE_CERTS, (const char *const *)m->certs.text,
		    m->certs.len, m->certs.n);
}

int
tk__consensus_text(tk_dirmgr *m, const char **text, size_t *len, int *owned)
{
	char err[256], *buf;
	*owned = 0;
	if (!m->cons)
		return -1;
	if (m->cons_text) {
		*text = m->cons_text;
		*len = m->cons_len;
		return 0;
	}
	if (!m->cons_in_file ||
	    tk_dircache_read(m->data_dir, TK_DIRCACHE_CONSENSUS, &buf, len, err,
			     sizeof err) != 1)
		return -1;
	*text = buf;
	*owned = 1;
	return 0;
}

/* The microdescriptors in the file and the new ones, as one new file;
 * then only their places in it are kept. */
void
tk__save_mds(tk_dirmgr *m)
{
	struct tk_dircache_piece *pieces;
	uint32_t *slots;
	size_t n;
	char err[256];
	if (!m->data_dir || !m->has_nodes)
		return;
	pieces = malloc((m->nodes.n ? m->nodes.n : 1) * sizeof *pieces);
	slots = malloc((m->nodes.n ? m->nodes.n : 1) * sizeof *slots);
	if (pieces && slots) {
		n = tk_mdstore_pieces(&m->mds, &m->nodes, pieces, slots);
		if (tk_dircache_write_pieces(m->data_dir,
					     TK_DIRCACHE_MICRODESCS, pieces, n,
					     err, sizeof err) == 0) {
			tk_mdstore_saved(&m->mds, pieces, slots, n);
			m->mds_dirty = 0;
		} else {
			tk__log(m, TK_LOG_WARN, "%s (the cache is not updated)",
				err);
			/* not again at every step: at the next change */
			m->mds_dirty = 0;
		}
	}
	free(pieces);
	free(slots);
}

/* A chunk of the cache file: offered up to the start of its last
 * microdescriptor (which may go on in the next chunk). */
static size_t
md_chunk(void *arg, const char *data, size_t len, uint64_t off, int last)
{
	tk_dirmgr *m = arg;
	size_t cut = len;
	if (!last) {
		/* the last line that starts a record: "onion-key" or an
		 * annotation */
		cut = 0;
		for (size_t i = len; i-- > 1;)
			if (data[i - 1] == '\n' &&
			    (data[i] == '@' ||
			     (len - i >= 9 &&
			      memcmp(data + i, "onion-key", 9) == 0))) {
				cut = i;
				break;
			}
		/* the record before the cut may have annotations right
		 * before it: they belong to the next record, fine either
		 * way (annotations are no part of a digest) */
	}
	if (cut)
		m->stats.mds_cached +=
			tk_mdstore_offer(&m->mds, &m->nodes, data, cut,
					 "the cache", 0, &m->stats.refused_docs,
					 (int64_t)off);
	return cut;
}

void
tk__load_cached_mds(tk_dirmgr *m)
{
	char err[256];
	int rc;
	if (!m->has_nodes)
		return;
	rc = tk_dircache_read_chunks(m->data_dir, TK_DIRCACHE_MICRODESCS,
				     256 * 1024, md_chunk, m, err, sizeof err);
	if (rc < 0)
		tk__log(m, TK_LOG_WARN, "%s", err);
	if (rc > 0)
		tk__log(m, TK_LOG_INFO, "%u microdescriptors from the cache",
			m->stats.mds_cached);
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
