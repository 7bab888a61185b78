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
#include <stdint.h>

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

/* A piece of a file to write: bytes in memory (p), or, with p NULL, the
 * range [off, off + len) of the file as it is before the write. */
struct tk_dircache_piece {
	const char *p;
	uint64_t off;
	size_t len;
};

/* Writes the pieces, in order, as the file, atomically: ranges of the
 * old file are copied from it without reading it all into memory. 0, or
 * -1 with err (the old file is left in place). */
int tk_dircache_write_pieces(const char *dir, enum tk_dircache_file f,
			     const struct tk_dircache_piece *pieces, size_t n,
			     char *err, size_t errlen);

/* Reads the file in chunks of at most about `chunk` bytes: cb gets the
 * data and the offset in the file of its first byte, and returns how
 * many bytes it used; the rest comes again at the start of the next
 * call (so a record need not fit in one read), and at the end of the
 * file (last 1) all of it must be used. 1 if read, 0 if absent, -1 on
 * an error (err). */
typedef size_t (*tk_dircache_chunk_cb)(void *arg, const char *data, size_t len,
				       uint64_t off, int last);
int tk_dircache_read_chunks(const char *dir, enum tk_dircache_file f,
			    size_t chunk, tk_dircache_chunk_cb cb, void *arg,
			    char *err, size_t errlen);

/* Removes the file (no error if absent). */
int tk_dircache_remove(const char *dir, enum tk_dircache_file f);

#endif
