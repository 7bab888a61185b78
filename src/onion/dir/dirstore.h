/* The directory as the DataDirectory keeps it (dircache.h has the files):
 * the text of the consensus held, in memory until its file has it and
 * read back from the file when it is needed again (a diff, a digest);
 * the certificates and the microdescriptors, written from and read into
 * their stores. Once a document is in its file, the memory holding it is
 * given back. Without a DataDirectory (or when it cannot be prepared)
 * nothing is written, and the consensus text stays in memory.
 *
 * It knows nothing of who asks: it logs through the function it was
 * given and returns what it read. */
#ifndef TK_ONION_DIR_DIRSTORE_H
#define TK_ONION_DIR_DIRSTORE_H

#include <stddef.h>

#include "common/log_level.h"
#include "onion/dir/certstore.h"
#include "onion/dir/dircache.h"
#include "onion/dir/mdstore.h"

struct tk_dirstore {
	char *dir; /* NULL: no cache */
	/* the held consensus's text, while its file does not have it (or
	 * there is no file) */
	char *cons_text;
	size_t cons_len;
	int cons_in_file; /* the file has the held consensus */
	tk_log_fn log;
	void *log_arg;
};

/* dir NULL or "": no cache. 0, or -1 if out of memory. */
int tk_dirstore_init(struct tk_dirstore *st, const char *dir, tk_log_fn log,
		     void *log_arg);
void tk_dirstore_free(struct tk_dirstore *st);
/* Creates the directory; if it cannot, says so and goes on without a
 * cache. */
void tk_dirstore_prepare(struct tk_dirstore *st);
/* 1 if documents are kept on disk. */
int tk_dirstore_enabled(const struct tk_dirstore *st);

/* Reads a whole file (*buf malloc'ed): 1, 0 if absent or no cache, -1
 * on an error (logged). */
int tk_dirstore_read(struct tk_dirstore *st, enum tk_dircache_file f,
		     char **buf, size_t *len);
/* The consensus now held is text (taken over); in_file: read from the
 * file, so only the file keeps it (text may then be NULL: the caller
 * gave it back already). */
void tk_dirstore_hold_consensus(struct tk_dirstore *st, char *text, size_t len,
				int in_file);
/* The held consensus's text: in memory, or read back from the file
 * (*owned: the caller frees it). -1 if there is none. */
int tk_dirstore_consensus_text(struct tk_dirstore *st, const char **text,
			       size_t *len, int *owned);
/* Writes the held consensus (then frees its memory) and the
 * certificates. */
void tk_dirstore_save_consensus(struct tk_dirstore *st,
				const struct tk_certstore *certs);
/* Writes the file of microdescriptors: those in the old file and the new
 * ones; then only their places in it are kept. */
void tk_dirstore_save_mds(struct tk_dirstore *st, struct tk_mdstore *mds,
			  const struct tk_nodes *nodes);
/* Offers the file's microdescriptors to the table (read in chunks; only
 * their places in the file are kept). Returns how many were new; *refused
 * grows by the number refused. */
unsigned tk_dirstore_load_mds(struct tk_dirstore *st, struct tk_mdstore *mds,
			      struct tk_nodes *nodes, unsigned *refused);

#endif
