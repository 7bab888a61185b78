/* A small persistent guard set (guard-spec, much simplified): the first
 * hop of every circuit is one of a few Guard-flagged relays chosen once
 * and kept across restarts in DataDirectory/guards, so an adversary
 * running relays does not get a fresh chance to be our first hop on
 * every circuit.
 *
 * The set is ordered; the first member that the current directory lists
 * as usable in the guard position and that has not failed recently is the
 * one used. A member that failed (channel or first-hop build error) is
 * skipped until its retry time (backoff doubling from 30 s to 10 min); a
 * success clears it. Members missing from the consensus or without the
 * Guard flag are skipped, not dropped, and members older than the
 * lifetime are replaced. When fewer than n_want members are usable, new
 * ones are drawn (bandwidth-weighted, path.h) and the file is rewritten.
 *
 * File format, one member a line ("#" starts a comment):
 *   guard <40-hex RSA fingerprint> <nickname> <added, unix seconds>
 * A damaged file is ignored (with the reason in errmsg) and rewritten. */
#ifndef TK_ONION_GUARD_GUARDS_H
#define TK_ONION_GUARD_GUARDS_H

#include <stddef.h>
#include <stdint.h>

#include "onion/netdir/nodes.h"

typedef struct tk_guards tk_guards;

#define TK_GUARDS_MAX 16
#define TK_GUARDS_DEFAULT_N 3
#define TK_GUARDS_DEFAULT_LIFETIME_S (120 * 86400)

/* path: the state file, or NULL to keep the set in memory only. Loads it
 * if present. Returns NULL on allocation failure. */
tk_guards *tk_guards_new(const char *path, unsigned n_want, int64_t lifetime_s,
			 int64_t now_s);
void tk_guards_free(tk_guards *g);
/* Why the file was not loaded or saved ("" if it was fine). */
const char *tk_guards_errmsg(const tk_guards *g);

/* The guard to use now: an index into t->node, or -1 with err saying why
 * (no Guard-flagged relay with a microdescriptor). Adds members (and
 * saves) when too few are usable. */
long tk_guards_pick(tk_guards *g, const struct tk_nodes *t,
		    const struct tk_path_opts *o, struct tk_path_rng *rng,
		    int64_t now_s, char *err, size_t errlen);
/* The same for a path whose exit (node index) is chosen already: the
 * first member that may share the path with it (tor picks the exit
 * first too). exit -1: no constraint. */
long tk_guards_pick_beside(tk_guards *g, const struct tk_nodes *t,
			   const struct tk_path_opts *o,
			   struct tk_path_rng *rng, int64_t now_s, long exit,
			   char *err, size_t errlen);

/* Outcome of using a member as first hop (ignored for non-members). */
void tk_guards_failed(tk_guards *g, const uint8_t rsa_id[20], int64_t now_s);
void tk_guards_succeeded(tk_guards *g, const uint8_t rsa_id[20]);

size_t tk_guards_count(const tk_guards *g);
/* Member i (0-based, in order of preference): identity, nickname. */
const uint8_t *tk_guards_rsa_id(const tk_guards *g, size_t i);
const char *tk_guards_nickname(const tk_guards *g, size_t i);
/* 1 if member i is skipped for failures at now_s. */
int tk_guards_is_down(const tk_guards *g, size_t i, int64_t now_s);

#endif
