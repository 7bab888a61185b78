/* The onion-service client's shared state (hs_client.h): one service's
 * attempt, shared by the requests for it, and what every part of the
 * client does to it (its log, its end). Internal to hs_client*.c and its
 * unit tests: nothing else includes it.
 *
 * The client's files stack one way, each using only those below it
 * (tools/layers allows no circle between files, so a part that must
 * report upward calls a hook, struct tk_hs_hooks, set by hs_client.c):
 *   hs_client.c        the API, the requests, each service's attempt
 *                      from state to state and its answers, the join
 *                      (rendezvous and introduction side by side, their
 *                      timeouts), the owner callback of every circuit
 *   hs_client_intro.c  introduction points, INTRODUCE1, INTRODUCE_ACK;
 *                      none left: the refetch, through
 *   hs_client_desc.c   keys, the descriptor from the cache or fetched
 *   hs_client_rend.c   rendezvous points, ESTABLISH_RENDEZVOUS,
 *                      RENDEZVOUS2 and the joined circuit
 *   hs_client_svc.c    this state, the log, an attempt's end
 * rend and desc know nothing of the other parts but this one. */
#ifndef TK_ONION_CLIENT_HS_CLIENT_SVC_H
#define TK_ONION_CLIENT_HS_CLIENT_SVC_H

#include <stddef.h>
#include <stdint.h>

#include "onion/base/logf.h"
#include "onion/circ/congestion.h"
#include "onion/client/circ_pool.h"
#include "onion/client/circmgr.h"
#include "onion/client/hs_client_config.h"
#include "onion/client/hs_fetch.h"
#include "onion/client/ocirc.h"
#include "onion/hs/hs_addr.h"
#include "onion/hs/hs_auth.h"
#include "onion/hs/hs_cache.h"
#include "onion/hs/hs_cell.h"
#include "onion/hs/hs_desc.h"
#include "onion/hs/hs_ipfail.h"
#include "onion/hs/hs_keys.h"
#include "onion/hs/hs_ntor.h"

struct tk_hs_svc;

/* What a lower part tells hs_client.c; set by tk_hs_client_new. */
struct tk_hs_hooks {
	/* The owner callback of every circuit built for a service
	 * (tk_hs_on_oc_event). */
	void (*oc_event)(void *arg, tk_ocirc *oc, int ev, const char *why);
	/* The descriptor is cached (hs_client_desc.c): the join starts. */
	void (*desc_ready)(struct tk_hs_svc *v);
	/* RENDEZVOUS_ESTABLISHED is in (hs_client_rend.c): INTRODUCE1 may
	 * go. */
	void (*rend_ready)(struct tk_hs_svc *v);
};

enum tk_hs_svc_state {
	S_IDLE,
	S_WAITDIR, /* no usable directory yet */
	S_FETCH,
	/* the rendezvous and the introduction circuits, built side by side;
	 * INTRODUCE1 once both are ready, then RENDEZVOUS2 */
	S_CONNECT,
	S_JOINED,
};

struct tk_hs_waiter {
	struct tk_hs_waiter *next;
	struct tk_circreq *r;
};

struct tk_hs_svc {
	struct tk_hs_svc *next, *prev;
	tk_hs_client *hc;
	uint8_t id[TK_HS_ID_LEN];
	enum tk_hs_svc_state st;
	struct tk_hs_waiter *waiters;
	struct tk_defer d;
	int result;
	struct tk_hs_keys keys;
	int64_t now, period_end; /* the consensus's valid-after */
	tk_hs_fetch *fetch;
	/* rendezvous */
	tk_ocirc *rend_oc;
	int rend_ready;		/* RENDEZVOUS_ESTABLISHED is in */
	int n_rend;		/* rendezvous circuits this attempt built */
	uint64_t rend_deadline; /* uv_now ms, 0: none */
	uint8_t cookie[TK_HS_REND_COOKIE_LEN];
	uint8_t rp_onion_key[32];
	uint8_t rp_ls[128];
	size_t rp_ls_len;
	int rend_hop; /* the rendezvous point's hop on rend_oc */
	/* introduction */
	size_t intro_next;
	tk_ocirc *intro_oc;
	int intro_hop; /* the introduction point's: 3 if cannibalized */
	/* intro_oc is a pool circuit still building, to be extended to
	 * intro_t once built (tk_circ_pool_take_or_wait) */
	int intro_extend;
	tk_circuit_hop_target intro_t;
	int intro_built, intro_sent, intro_acked;
	uint64_t intro_deadline; /* uv_now ms, 0: none */
	uint8_t ip_auth[32], ip_enc[32];
	struct tk_hs_ntor_client ntor;
	/* congestion control asked for in INTRODUCE1 (cc_with_service) */
	int cc;
	unsigned cc_sendme_inc;
	struct tk_cc_params cc_params;
	int n_intro_timeouts;
	int n_rend_timeouts; /* of which acked, then no RENDEZVOUS2 */
	/* Once every introduction point of the cached descriptor failed,
	 * the descriptor is dropped and fetched again, once per attempt
	 * (tor: hs_client_refetch_hsdesc when no introduction point is
	 * usable). The points tried in this attempt, by auth key, are not
	 * tried again from the new descriptor; those that failed lately,
	 * in any attempt, are skipped too (hc->ipfail, hs_ipfail.h). */
	int refetched;
	int has_stale;	       /* the refetched one's revision: */
	uint64_t stale_rev;    /* HSDirs with a newer one are preferred */
	uint64_t stale_period; /* ...in its period only */
	size_t n_tried;
	uint8_t tried[2 * TK_HS_DESC_MAX_INTRO][32];
	tk_ocirc *joined;
};

struct tk_hs_client {
	tk_circmgr *cm;
	struct tk_hs_client_config cfg;
	struct tk_hs_auth_set auth;
	struct tk_hs_cache *cache;
	tk_circ_pool *pool; /* NULL: internal_circs 0 */
	/* introduction points that failed lately, across requests */
	struct tk_hs_ipfail ipfail;
	struct tk_hs_svc *svcs;
	size_t n_svcs;
	uv_timer_t *tick;
	struct tk_hs_hooks hooks;
};

/* The log, with the service's name as SafeLogging allows. */
#define tk_hs_log(hc, level, ...) \
	tk_logf((hc)->cfg.log, (hc)->cfg.log_arg, (level), __VA_ARGS__)
const char *tk_hs_svc_name(const struct tk_hs_svc *v,
			   char buf[TK_HS_ADDR_LEN + 7]);
uint64_t tk_hs_now_ms(const tk_hs_client *hc);
/* Stops hearing of *ocp and lets it go. */
void tk_hs_drop_oc(tk_ocirc **ocp);
/* The attempt's fetch and circuits dropped, its secrets wiped. */
void tk_hs_svc_reset(struct tk_hs_svc *v);
/* Answers the waiting requests (from deferred work, v->d, whose fn is
 * hs_client.c's): reason 0, joined. */
void tk_hs_svc_answer(struct tk_hs_svc *v, int reason);
/* Ends the attempt: circuits dropped, requests answered reason. */
void tk_hs_svc_fail(struct tk_hs_svc *v, int reason, const char *why);

#endif
