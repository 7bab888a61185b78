/* Path selection (path-spec §2.2, §2.2.1; dir-spec §3.8.3 weights):
 * pure functions over a table of usable relays. No clock, no I/O, and
 * randomness only through the caller's tk_path_rng, so tests can draw
 * many paths from a seeded generator and check the statistics.
 *
 * A path is chosen exit first, then guard (unless the caller brings one
 * from its guard set), then middle, each bandwidth-weighted for its
 * position with the consensus weights (Wgg/Wgd/Wgm, Wmg/Wmm/Wme/Wmd,
 * Wee/Weg/Wem/Wed), uniformly when every candidate weighs zero (fresh
 * test networks list Bandwidth=0). No relay twice, no two of one family,
 * and (when enforced) no two in one IPv4 /16 or IPv6 /32. */
#ifndef TK_ONION_NETDIR_PATH_H
#define TK_ONION_NETDIR_PATH_H

#include <stddef.h>
#include <stdint.h>

#include "onion/netdir/reach.h"
#include "onion/netdoc/consensus.h"
#include "onion/netdoc/microdesc.h"

/* A relay: its consensus entry and its microdescriptor (NULL if not yet
 * fetched: such a relay is never chosen). */
struct tk_path_node {
	const struct tk_router *rt;
	const struct tk_microdesc *md;
};

/* Source of uniform 64-bit random numbers. */
struct tk_path_rng {
	uint64_t (*next)(void *arg);
	void *arg;
};
/* tk_random()-backed generator for production (arg unused). */
uint64_t tk_path_rng_system(void *arg);

enum tk_path_role { TK_PATH_GUARD, TK_PATH_MIDDLE, TK_PATH_EXIT };

/* Position weights, from bandwidth-weights (10000 where absent). */
struct tk_path_weights {
	int32_t scale;		    /* bwweightscale, default 10000 */
	int32_t wgg, wgd, wgm;	    /* guard position */
	int32_t wmg, wmm, wme, wmd; /* middle position */
	int32_t weg, wee, wem, wed; /* exit position */
};
void tk_path_weights_init(struct tk_path_weights *w,
			  const struct tk_consensus *c);

struct tk_path_opts {
	int enforce_distinct_subnets; /* no two relays in one /16 */
	int need_fast;		      /* all hops Fast (tor's default) */
	int need_stable;	      /* all hops Stable (long-lived) */
	/* Exit must allow this port per its "p" summary; 0 means any exit
	 * whose summary is not reject-all (RESOLVE, or a port unknown yet). */
	uint16_t exit_port;
	/* ClientUseIPv4/6, ClientPreferIPv6ORPort: a guard (a first hop)
	 * must have an ORPort we may connect to (tor's guard filter). */
	struct tk_reach reach;
};
/* Defaults: subnets enforced, Fast required, Stable not, any port,
 * IPv4 first hops (tk_reach_init). */
void tk_path_opts_init(struct tk_path_opts *o);

/* 1 if the consensus entry alone (flags, protocols) allows role. */
int tk_path_flags_ok(const struct tk_router *r, enum tk_path_role role,
		     const struct tk_path_opts *o);

/* 1 if node may hold role at all (flags, microdescriptor, exit policy),
 * ignoring the other hops. */
int tk_path_usable(const struct tk_path_node *node, enum tk_path_role role,
		   const struct tk_path_opts *o);

/* Weight of node for role: Bandwidth x position weight. */
uint64_t tk_path_weight(const struct tk_path_node *node, enum tk_path_role role,
			const struct tk_path_weights *w);

/* 1 if a and b may not share a path: same relay, same family, or (when
 * enforced) same IPv4 /16 or IPv6 /32. */
int tk_path_conflict(const struct tk_path_node *a, const struct tk_path_node *b,
		     const struct tk_path_opts *o);

/* Picks one relay for role among nodes[0..n), skipping any that conflicts
 * with nodes[avoid[0..n_avoid)]. Returns its index, or -1 if none fits. */
long tk_path_pick(const struct tk_path_node *nodes, size_t n,
		  enum tk_path_role role, const struct tk_path_weights *w,
		  const struct tk_path_opts *o, const size_t *avoid,
		  size_t n_avoid, struct tk_path_rng *rng);

/* Chooses a 3-hop path: out[0] guard, out[1] middle, out[2] exit (indexes
 * into nodes). guard >= 0 imposes that guard (from a guard set); -1 lets
 * the function pick one. 0, or -1 with err naming the position that could
 * not be filled and why. */
int tk_path_choose(const struct tk_path_node *nodes, size_t n,
		   const struct tk_path_weights *w,
		   const struct tk_path_opts *o, long guard,
		   struct tk_path_rng *rng, size_t out[3], char *err,
		   size_t errlen);

#endif
