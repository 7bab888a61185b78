/* The DataDirectory's "state" file, as tor keeps it: one "Keyword value"
 * a line. torkit writes the guard sample ("Guard ...", guards.h) and the
 * build-time history ("CircuitBuildTimeBin ...", cbt.h), and reads a
 * tor state file's lines of those kinds, ignoring the others. */
#ifndef TK_ONION_CLIENT_STATEFILE_H
#define TK_ONION_CLIENT_STATEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "onion/client/cbt.h"
#include "onion/guard/guards.h"

/* Larger files are not read (a state file is a few kilobytes). */
#define TK_STATEFILE_MAX (1024 * 1024)

/* Loads path into g and b (either may be NULL). A missing file is no
 * error. Damaged lines are skipped; err then names the first (and the
 * return is 1). 0 fine, 1 some lines skipped, -1 unreadable. rand
 * shuffles the build times (cbt.h). */
int tk_statefile_load(const char *path, tk_guards *g, tk_cbt *b,
		      uint64_t (*rand)(void *arg), void *arg, char *err,
		      size_t errlen);

/* Replaces path (atomicfile.h) with the lines of g and b. wall_s: for
 * the LastWritten line. 0, or -1 with err. */
int tk_statefile_save(const char *path, tk_guards *g, tk_cbt *b, int64_t wall_s,
		      char *err, size_t errlen);

#endif
