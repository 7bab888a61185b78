/* atomicfile.h — replace a file's contents all at once, safely. */
#ifndef TK_ONION_BASE_ATOMICFILE_H
#define TK_ONION_BASE_ATOMICFILE_H

#include <stddef.h>

/* Writes the n parts to "PATH.tmp" — created new (O_EXCL) and never
 * through a symlink (O_NOFOLLOW): a stale one is unlinked first, which
 * removes a link itself, not what it points to — fsyncs it, so the data
 * is on disk before the rename makes it visible, and renames it over
 * path. 0, or -1 with err ("cannot write PATH: ..."). */
int tk_file_replace(const char *path, const void *const *parts,
		    const size_t *lens, size_t n, char *err, size_t errlen);

/* The same in steps, for a writer that makes the data as it goes (the
 * directory cache copies ranges of the old file): tk_file_replace_open
 * creates PATH.tmp as above and gives its descriptor (-1, err set);
 * tk_file_write_all writes to it (0 or -1, errno set); then
 * tk_file_replace_finish fsyncs, closes and renames it over path if ok,
 * or closes and removes it. 0, or -1 with err. */
int tk_file_replace_open(const char *path, char *err, size_t errlen);
int tk_file_write_all(int fd, const void *p, size_t n);
int tk_file_replace_finish(int fd, const char *path, int ok, char *err,
			   size_t errlen);

#endif
