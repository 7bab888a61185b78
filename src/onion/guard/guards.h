/* Entry guards as guard-spec (proposal 271) describes them: the first hop
 * of every circuit is drawn from a small, slowly changing set, so that an
 * adversary running relays does not get a fresh chance to be our first
 * hop on every circuit.
 *
 *  - SAMPLED: relays seen with the Guard, Stable, Fast, V2Dir, Running
 *    and Valid flags, in the order they were drawn (bandwidth-weighted,
 *    path.h). Grown only while fewer than min_filtered_sample are usable,
 *    and never past max_sample_size members nor (once min_filtered_sample
 *    are in) max_sample_threshold_pct of the guard-position bandwidth.
 *    A member is dropped when unlisted for remove_unlisted_after_s, or
 *    sampled more than lifetime_s ago unless confirmed within
 *    confirmed_min_lifetime_s. Dates are set back by a random amount
 *    (guard-spec RAND) so they do not tell when we chose.
 *  - FILTERED: sampled members the current directory lists and we could
 *    use as first hop (a microdescriptor, path flags); USABLE_FILTERED:
 *    those not known to be down.
 *  - CONFIRMED: members through which a circuit was built, in that
 *    order; the preference order from then on.
 *  - PRIMARY: the first n_primary filtered members, confirmed ones first
 *    then in sample order; a member stays primary until a confirmed one
 *    displaces it. A circuit goes through one of the first
 *    n_primary_to_use primary guards that are not down, at random; only
 *    when all primary guards are down, through the first confirmed, then
 *    the first sampled, usable member not already being tried.
 *  - A guard that failed is down until its retry time, by the schedules
 *    of guard-spec A.1 (primary: every 10 min for 6 h, 90 min to 4 days,
 *    4 h to 7 days, then 9 h; others 1 h, 4 h, 18 h, 36 h). When every
 *    usable member is down, all become worth a try again.
 *
 * The persistent part (sampled members and their dates, confirmed
 * order) is tor's state-file form, one "Guard" line per member
 * (guards_state.c); the caller stores the lines (statefile.h). Unknown
 * K=V fields and lines of other guard instances are kept. Everything a
 * state file or a directory can make us hold is bounded (TK_GUARDS_MAX
 * members, TK_GUARDS_MAX_OTHER foreign lines). */
#ifndef TK_ONION_GUARD_GUARDS_H
#define TK_ONION_GUARD_GUARDS_H

#include <stddef.h>
#include <stdint.h>

#include "onion/netdir/nodes.h"

typedef struct tk_guards tk_guards;

/* Hard caps whatever the consensus or a state file says. */
#define TK_GUARDS_MAX 256
#define TK_GUARDS_MAX_OTHER 64

/* guard-spec's parameters; tk_guard_params_init gives tor's defaults,
 * tk_guard_params_from_consensus the consensus' values (tor's names:
 * guard-min-filtered-sample-size, guard-max-sample-size,
 * guard-max-sample-threshold-percent, guard-lifetime-days,
 * guard-remove-unlisted-guards-after-days,
 * guard-confirmed-min-lifetime-days, guard-internet-likely-down-interval,
 * guard-n-primary-guards, guard-n-primary-guards-to-use,
 * guard-n-primary-dir-guards-to-use). */
struct tk_guard_params {
	unsigned min_filtered_sample;	   /* 20 */
	unsigned max_sample_size;	   /* 60 */
	unsigned max_sample_threshold_pct; /* 20 */
	int64_t lifetime_s;		   /* 120 days */
	int64_t remove_unlisted_after_s;   /* 20 days */
	int64_t confirmed_min_lifetime_s;  /* 60 days */
	int64_t internet_likely_down_s;	   /* 600 */
	unsigned n_primary;		   /* 3 */
	unsigned n_primary_to_use;	   /* 1 */
	unsigned n_primary_dir_to_use;	   /* 3 */
};
struct tk_consensus;
void tk_guard_params_init(struct tk_guard_params *p);
void tk_guard_params_from_consensus(struct tk_guard_params *p,
				    const struct tk_consensus *c);

/* An empty set with tor's default parameters. NULL on allocation
 * failure. */
tk_guards *tk_guards_new(void);
void tk_guards_free(tk_guards *g);
/* Parameters change when the consensus does (the caller passes them). */
void tk_guards_set_params(tk_guards *g, const struct tk_guard_params *p);
const struct tk_guard_params *tk_guards_params(const tk_guards *g);

/* ---- persistence (guards_state.c) */

/* One state-file value: what follows "Guard " (space separated K=V).
 * 0, or -1 with err (the line is then ignored). Members beyond
 * TK_GUARDS_MAX, and lines of instances other than "default" beyond
 * TK_GUARDS_MAX_OTHER, are dropped. */
int tk_guards_load_line(tk_guards *g, const char *value, char *err,
			size_t errlen);
/* The "Guard ..." lines for the state file, each ending in "\n";
 * malloc'd, NUL-terminated. NULL on allocation failure. */
char *tk_guards_state_text(const tk_guards *g);
/* 1 if the persistent part changed since the last tk_guards_saved(). */
int tk_guards_dirty(const tk_guards *g);
void tk_guards_saved(tk_guards *g);

/* ---- choosing */

/* The guard for a new circuit: a node index of t, or -1 with err. exit
 * (a node index, or -1) is a relay the guard must be able to share a
 * path with (tor picks the exit first). Updates the sets for t (listed
 * state, expiry, sampling) first. */
long tk_guards_pick_beside(tk_guards *g, const struct tk_nodes *t,
			   const struct tk_path_opts *o,
			   struct tk_path_rng *rng, int64_t now_s, long exit,
			   char *err, size_t errlen);
long tk_guards_pick(tk_guards *g, const struct tk_nodes *t,
		    const struct tk_path_opts *o, struct tk_path_rng *rng,
		    int64_t now_s, char *err, size_t errlen);
/* A directory guard: one of the first n_primary_dir_to_use primary
 * guards that are not down, at random (then as tk_guards_pick). */
long tk_guards_pick_dir(tk_guards *g, const struct tk_nodes *t,
			const struct tk_path_opts *o, struct tk_path_rng *rng,
			int64_t now_s, char *err, size_t errlen);

/* 1 if the member rsa_id may carry a circuit beside exit now: sampled,
 * filtered, not down. For a circuit that must go through a guard already
 * in use (the client's stalled guard), whichever primary guard a pick
 * would give. */
int tk_guards_usable(tk_guards *g, const struct tk_nodes *t,
		     const struct tk_path_opts *o, int64_t now_s,
		     const uint8_t rsa_id[20], long exit);

/* Outcomes (ignored for non-members). failed: the guard could not be
 * reached or refused the first hop. succeeded: the first hop is up.
 * confirmed: a circuit through it was built for use; appends it to the
 * confirmed list. */
void tk_guards_failed(tk_guards *g, const uint8_t rsa_id[20], int64_t now_s);
void tk_guards_succeeded(tk_guards *g, const uint8_t rsa_id[20], int64_t now_s);
void tk_guards_confirmed(tk_guards *g, const uint8_t rsa_id[20], int64_t now_s);

/* ---- looking (status output, tests) */

/* Sampled members, in sample order. */
size_t tk_guards_count(const tk_guards *g);
const uint8_t *tk_guards_rsa_id(const tk_guards *g, size_t i);
const char *tk_guards_nickname(const tk_guards *g, size_t i);
/* 1 if member i is marked down (not worth a try) at now_s. */
int tk_guards_is_down(const tk_guards *g, size_t i, int64_t now_s);
/* Position in the confirmed list (0-based), or -1. */
long tk_guards_confirmed_idx(const tk_guards *g, size_t i);
/* Primary guards in order: member indexes, up to cap; returns how many.
 * Valid as of the last pick. */
size_t tk_guards_primary(const tk_guards *g, size_t *out, size_t cap);
/* When member i was sampled, was confirmed (0: never), is unlisted
 * since (0: listed). */
int64_t tk_guards_sampled_on(const tk_guards *g, size_t i);
int64_t tk_guards_confirmed_on(const tk_guards *g, size_t i);
int64_t tk_guards_unlisted_since(const tk_guards *g, size_t i);

#endif
