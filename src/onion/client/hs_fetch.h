/* One onion-service descriptor fetch (rend-spec-v3 §2.2.3): the
 * responsible HSDirs of a blinded key are asked over BEGIN_DIR, GET
 * /tor/hs/3/<key>, up to `parallel` of them at once (a circuit each, built
 * by the circuit manager). The first descriptor that decodes and verifies
 * wins: the requests still under way are cancelled and their circuits
 * closed. A 404, a failed circuit or a descriptor that does not decode
 * frees the slot for the next HSDir of the list. A descriptor that needs
 * client authorization we lack, or that our key does not open, ends the
 * fetch at once (every HSDir serves the same descriptor).
 *
 * Tor asks one HSDir at a time and moves to the next only once the last
 * one failed; asking a few at once makes an unknown address's F0, and a
 * descriptor held by only some HSDirs, arrive after about one circuit
 * build instead of one per HSDir. */
#ifndef TK_ONION_CLIENT_HS_FETCH_H
#define TK_ONION_CLIENT_HS_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/log_level.h"
#include "onion/client/circ_pool.h"
#include "onion/client/circmgr.h"
#include "onion/hs/hs_desc.h"
#include "onion/hs/hs_keys.h"
#include "onion/hs/hs_period.h"

#define TK_HS_FETCH_MAX_HSDIRS 32
#define TK_HS_FETCH_PARALLEL 3 /* HSDirs asked at once */

typedef struct tk_hs_fetch tk_hs_fetch;

/* The end of a fetch: reason 0 and *desc (the callee takes it over, and
 * must tk_hs_desc_free it), or a TK_ONION_HS_* reason (onion.h) with why
 * for the log and desc NULL. Called at most once, never from inside
 * tk_hs_fetch_start; the fetch is freed right after it returns. */
typedef void (*tk_hs_fetch_cb)(void *arg, int reason, const char *why,
			       struct tk_hs_desc *desc);

struct tk_hs_fetch_params {
	tk_circmgr *cm;
	const struct tk_hs_keys *keys; /* copied */
	const uint8_t *client_sk;      /* copied; NULL: no key */
	int64_t now;		       /* the consensus's valid-after */
	const uint8_t (*hsdirs)[20];   /* RSA ids, in the order to ask */
	size_t n_hsdirs;	       /* at most TK_HS_FETCH_MAX_HSDIRS */
	size_t parallel;	       /* 0: TK_HS_FETCH_PARALLEL */
	/* A refetch of a descriptor that failed us: one at or below
	 * stale_revision is set aside while the other HSDirs are asked
	 * (one may not have the service's new descriptor yet); it wins
	 * only if none has a newer one. */
	int has_stale;
	uint64_t stale_revision;
	/* Clean internal circuits: the first HSDir whose circuit can be
	 * one takes one (extended to it), an open one or else one whose
	 * last hop alone is missing (extended once built:
	 * tk_circ_pool_take_or_wait); the others are built, so that the
	 * introduction and the rendezvous find the rest. NULL: none. */
	tk_circ_pool *pool;
	const char *name; /* the service, for the log */
	tk_log_fn log;
	void *log_arg;
	tk_hs_fetch_cb cb;
	void *arg;
};

/* The HSDirs responsible for blinded in p's period (hs_ring.h), in
 * random order, as tor picks them: their RSA ids into out; how many (0
 * also when out of memory). */
size_t tk_hs_fetch_hsdirs(const struct tk_nodes *t,
			  const struct tk_hs_dirparams *p,
			  const uint8_t blinded[32],
			  uint8_t out[TK_HS_FETCH_MAX_HSDIRS][20]);

/* NULL with *reason and why filled when no HSDir could be asked (or no
 * memory); cb will not run then. */
tk_hs_fetch *tk_hs_fetch_start(const struct tk_hs_fetch_params *p, int *reason,
			       char *why, size_t whylen);
/* Ends it: requests cancelled, circuits closed, cb not run. */
void tk_hs_fetch_cancel(tk_hs_fetch *f);
/* The manager is going away and closes every circuit itself: forget
 * ours, then cancel. */
void tk_hs_fetch_abandon(tk_hs_fetch *f);

#endif
