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

#endif
