/* What we hold and still want of each router's microdescriptor, slot by
 * slot of the current node table (nodes.h): where its exact text is (for
 * the DataDirectory cache), whether a request for it is out, how often
 * the sources we asked answered without it, and when it may be asked for
 * again. The directory manager decides when and where to fetch; this
 * keeps the books and turns answers into node-table entries.
 *
 * The texts are not kept in memory longer than needed: with a cache, a
 * fetched text is held until the cache file is rewritten, and from then
 * on (and for everything read from the file) only its place in the file
 * is; without a cache, no text is kept at all. With thousands of relays
 * that is megabytes. */
#ifndef TK_ONION_DIR_MDSTORE_H
#define TK_ONION_DIR_MDSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/log_level.h"
#include "onion/dir/dirsrc.h"
#include "onion/netdir/nodes.h"

struct tk_mdstore {
	size_t n;	    /* = the node table's n */
	int keep_text;	    /* a cache file is kept (texts are needed) */
	char **text;	    /* fetched text not in the cache file yet, or NULL
			     * (the array itself NULL until a text is kept) */
	uint32_t *len;	    /* its length (in memory or in the file) */
	uint32_t *file_off; /* where the file has it, if in_file */
	uint8_t *in_file;
	uint8_t *inflight; /* asked for, no answer yet */
	unsigned *fails;   /* answers without it (NULL until one) */
	int64_t *retry_at; /* not asked for before (ms); NULL with fails */
	/* Sources that answered without a slot's microdescriptor: the next
	 * request for it goes elsewhere. Few slots ever have one. */
	struct tk_mdstore_lack {
		uint32_t slot;
		uint8_t n;
		uint8_t ids[2][20];
	} * lacks;
	size_t n_lacks, cap_lacks;
	tk_log_fn log; /* why a microdescriptor was refused */
	void *log_arg;
};

/* n slots; keep_text: texts are needed for a cache file. 0, or -1 if
 * out of memory. */
int tk_mdstore_init(struct tk_mdstore *ms, size_t n, int keep_text,
		    tk_log_fn log, void *log_arg);
void tk_mdstore_free(struct tk_mdstore *ms);

/* After tk_nodes_adopt(t, old_t): takes from old (slots of old_cons) the
 * text (or place in the file) of every microdescriptor t now holds. */
void tk_mdstore_adopt(struct tk_mdstore *ms, const struct tk_nodes *t,
		      struct tk_mdstore *old,
		      const struct tk_consensus *old_cons);

/* Offers every microdescriptor of body to t, keeping the text of those
 * that were new (or, with file_off >= 0, body being that part of the
 * cache file, their place in it). from_net: unlisted or malformed ones
 * are refused loudly (a cache file naturally holds stale ones) and
 * counted in *refused. Returns how many were new. */
size_t tk_mdstore_offer(struct tk_mdstore *ms, struct tk_nodes *t,
			const char *body, size_t len, const char *origin,
			int from_net, unsigned *refused, int64_t file_off);

/* Saving: fills pieces (room for t->n) with the microdescriptors held,
 * in slot order, as dircache.h pieces of the new cache file; returns how
 * many. After the file was written, tk_mdstore_saved() with the same
 * pieces frees the texts and keeps their new places. */
struct tk_dircache_piece;
size_t tk_mdstore_pieces(const struct tk_mdstore *ms, const struct tk_nodes *t,
			 struct tk_dircache_piece *pieces, uint32_t *slots);
void tk_mdstore_saved(struct tk_mdstore *ms,
		      const struct tk_dircache_piece *pieces,
		      const uint32_t *slots, size_t n);

/* Chooses up to max slots to ask for: missing, not in flight, not
 * waiting for a retry, one slot per digest. *retry is set if any was
 * asked for before; *wake is lowered to the earliest retry time still to
 * come. Returns how many were chosen. */
size_t tk_mdstore_batch(const struct tk_mdstore *ms, const struct tk_nodes *t,
			int64_t now_ms, uint32_t *slots, size_t max, int *retry,
			int64_t *wake);

/* How many slots tk_mdstore_batch() could choose now (missing, not in
 * flight, not waiting); *wake is lowered to the earliest retry time
 * still to come. */
size_t tk_mdstore_downloadable(const struct tk_mdstore *ms,
			       const struct tk_nodes *t, int64_t now_ms,
			       int64_t *wake);

/* "/tor/micro/d/D1-D2-..." for those slots, digests sorted (malloc'ed;
 * NULL if out of memory). */
char *tk_mdstore_path(const struct tk_nodes *t, const uint32_t *slots,
		      size_t k);

/* A request to src for slots was answered (ok: the source answered, with
 * or without them; 0: the transport failed, no fault of the digests).
 * A slot still missing after an answer is asked for again at once of
 * another source, the first two times; after that it waits a backoff.
 * Returns how many are still missing. */
size_t tk_mdstore_answered(struct tk_mdstore *ms, const struct tk_nodes *t,
			   const uint32_t *slots, size_t k, int ok,
			   int64_t now_ms, tk_dirsources *ds,
			   const uint8_t src_id[20]);

/* The sources that lacked any of slots[0..k): up to cap identities into
 * out, for tk_dirsources_pick() to avoid. Returns how many. */
size_t tk_mdstore_lacked(const struct tk_mdstore *ms, const uint32_t *slots,
			 size_t k, uint8_t (*out)[20], size_t cap);

#endif
