/* The DataDirectory cache: verified directory documents kept on disk so a
 * restart needs no fetch while they are still valid.
 *
 *   cached-microdesc-consensus  the consensus, as fetched (signed text)
 *   cached-certs                authority key certificates, back to back
 *   cached-microdescs           microdescriptors, back to back
 *
 * Files are replaced atomically (written to NAME.tmp, flushed to disk,
 * renamed over NAME), so a crash leaves the old file or the new one, never
 * half of one. Nothing read from here is trusted: the directory manager
 * checks it exactly as it checks documents from the network. Plain
 * blocking stdio: the files are small and written rarely. */
#ifndef TK_ONION_DIR_DIRCACHE_H
#define TK_ONION_DIR_DIRCACHE_H

#include <stddef.h>

enum tk_dircache_file {
	TK_DIRCACHE_CONSENSUS,
	TK_DIRCACHE_CERTS,
	TK_DIRCACHE_MICRODESCS,
};

/* Refuse to load anything larger (a corrupted or hostile file). */
#define TK_DIRCACHE_MAX_FILE (64u << 20)

const char *tk_dircache_name(enum tk_dircache_file f);

/* Creates dir (mode 0700) if it does not exist. 0, or -1 with err. */
int tk_dircache_prepare(const char *dir, char *err, size_t errlen);

/* Reads a whole file into *buf (malloc'ed, NUL-terminated, *len without
 * the NUL). 1 if read, 0 if the file does not exist (*buf NULL), -1 on
 * any other error (err says which file and why). */
int tk_dircache_read(const char *dir, enum tk_dircache_file f, char **buf,
		     size_t *len, char *err, size_t errlen);

/* Writes the concatenation of parts[0..n) as the file, atomically. 0, or
 * -1 with err (the old file, if any, is left in place). */
int tk_dircache_write(const char *dir, enum tk_dircache_file f,
		      const char *const *parts, const size_t *lens, size_t n,
		      char *err, size_t errlen);

/* Removes the file (no error if absent). */
int tk_dircache_remove(const char *dir, enum tk_dircache_file f);

#endif
