/* Clean internal circuits kept ready for onion services, and their
 * cannibalization (path-spec 2.1.1, 2.1.4).
 *
 * Once an onion service was asked for, and for an hour after the last
 * time, the pool keeps `want` open internal circuits (guard, middle, a
 * last hop picked as a middle is: tk_circmgr_build_to with no last hop),
 * at most TK_CIRC_POOL_MAX, built ahead of need. An HSDir fetch, an
 * introduction and a rendezvous each take one instead of building a
 * circuit while the user waits: the HSDir and introduction circuits are
 * extended by one EXTEND2 to the relay they need (the circuit is then
 * four hops long, as tor's are), the rendezvous circuit's last hop is
 * the rendezvous point as it stands. A circuit whose relays conflict
 * with the relay to add (the same relay, one family, one /16 when
 * subnets are enforced: tk_path_conflict) is not taken for it. What is
 * taken is replaced at once (with none open, a building one may be
 * handed over: tk_circ_pool_take_or_wait); a failed build delays the
 * next one (1 s, doubling to a minute). Every circuit is the circuit manager's
 * private circuit, owned by the pool until taken. */
#ifndef TK_ONION_CLIENT_CIRC_POOL_H
#define TK_ONION_CLIENT_CIRC_POOL_H

#include <stddef.h>

#include "onion/client/circmgr.h"

/* The bound: clean internal circuits open or building, whatever `want`
 * says. tor keeps three for onion services. */
#define TK_CIRC_POOL_MAX 8
#define TK_CIRC_POOL_DEFAULT 3

typedef struct tk_circ_pool tk_circ_pool;

/* want: circuits kept while onion use is predicted (clamped to
 * TK_CIRC_POOL_MAX). NULL if out of memory. Nothing is built before
 * tk_circ_pool_note_use(). */
tk_circ_pool *tk_circ_pool_new(tk_circmgr *cm, unsigned want);
/* Closes the pool's own circuits (not those taken). */
void tk_circ_pool_free(tk_circ_pool *p);

/* An onion service is being reached now: keep the pool full for the
 * next hour. */
void tk_circ_pool_note_use(tk_circ_pool *p);

/* Hands an open pool circuit to (ev, arg) as tk_ocirc_adopt does:
 * extended to last, or, with last NULL, as it is (its last hop,
 * oc->hop[oc->n_hops - 1], is then the caller's to use). 0 and *out, or
 * -1 when none is ready or none fits beside last (then build one with
 * tk_circmgr_build_to). p may be NULL: -1. */
int tk_circ_pool_take(tk_circ_pool *p, const tk_circuit_hop_target *last,
		      const char *nick,
		      void (*ev)(void *arg, tk_ocirc *oc, int event,
				 const char *why),
		      void *arg, tk_ocirc **out);

/* As tk_circ_pool_take, or, when no open circuit fits, a building one
 * if waiting for it is faster than building a circuit now: the pool's
 * circuits were launched earlier, so one that will be used as it is
 * (last NULL: a rendezvous circuit) is always taken, the most advanced
 * first; one to extend only when its last hop alone is missing (then
 * its build and one EXTEND2 are two hop round trips, a new circuit
 * three). A building circuit is handed over as it is, ev and arg its
 * owner from now on: it hears BUILT (or FAILED) as for a circuit it
 * built with tk_circmgr_build_to; with last, it is then the caller's
 * to extend (tk_ocirc_adopt). Its last hop is oc->hop[2] from now.
 * *building says which: 0 as tk_circ_pool_take, 1 handed over
 * building. */
int tk_circ_pool_take_or_wait(
	tk_circ_pool *p, const tk_circuit_hop_target *last, const char *nick,
	void (*ev)(void *arg, tk_ocirc *oc, int event, const char *why),
	void *arg, tk_ocirc **out, int *building);

/* The pool's circuits: open ones, and open or building ones. */
size_t tk_circ_pool_ready(const tk_circ_pool *p);
size_t tk_circ_pool_size(const tk_circ_pool *p);

#endif
