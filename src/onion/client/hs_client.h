/* The onion-service client (rend-spec-v3 §2, §3, §4): from a v3 address
 * to a circuit joined to the service, on which streams BEGIN with an
 * empty address and the virtual port.
 *
 * For a service it is not yet joined to, it:
 *  1. derives the blinded key and subcredential of the current time
 *     period (hs_keys.h, hs_period.h: from the live consensus, never the
 *     local clock), and finds the descriptor in its cache or fetches it
 *     from the responsible HSDirs (hs_ring.h, in random order), a few at
 *     once (hs_fetch.h); the first one that decodes wins, opened with our
 *     ClientOnionAuthDir key when the service wants one;
 *  2. builds, side by side, a circuit to a rendezvous point (where it
 *     sends ESTABLISH_RENDEZVOUS with a fresh cookie; a circuit that
 *     fails or a point that does not answer gives way to another, three
 *     at most) and one to an introduction point (named by its link
 *     specifiers and ntor key);
 *  3. once both are ready (RENDEZVOUS_ESTABLISHED in), sends INTRODUCE1
 *     (hs-ntor); a refusing INTRODUCE_ACK, a failed build or no answer in
 *     time moves on to the next introduction point, the rendezvous
 *     circuit staying as it is (an ack with no RENDEZVOUS2 in time: a
 *     new rendezvous circuit too); when none is left, the descriptor is
 *     fetched again, once per attempt; points that failed lately, in
 *     this request or an earlier one, are skipped (hs_ipfail.h, as
 *     tor's client remembers them for two minutes);
 *  4. RENDEZVOUS2 on the rendezvous circuit completes hs-ntor: the
 *     service's virtual hop joins that circuit (SHA3-256, AES-256), with
 *     congestion control (Vegas, XON/XOFF streams) when INTRODUCE1 asked
 *     for it: the descriptor offered it (flow-control) and we do it.
 * Every circuit here is built by the circuit manager
 * (tk_circmgr_build_to) and never given to exit streams.
 *
 * Requests are the stream layer's tk_circreq: cb(r, 0, oc) with the
 * joined circuit, or cb(r, TK_ONION_HS_*, NULL) (onion.h: F0..F7), from
 * the manager's deferred work. Requests for one service share one
 * attempt and, once joined, its circuit (until the manager retires it).
 * At most TK_HS_CLIENT_MAX_SERVICES services are in progress or joined
 * at once; a request beyond that fails as "descriptor not found". */
#ifndef TK_ONION_CLIENT_HS_CLIENT_H
#define TK_ONION_CLIENT_HS_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/log_level.h"
#include "onion/client/circmgr.h"
#include "onion/client/hs_client_config.h"
#include "onion/hs/hs_addr.h"

#define TK_HS_CLIENT_MAX_SERVICES 64

void tk_hs_client_config_init(struct tk_hs_client_config *cfg);

/* NULL with err if the auth directory cannot be loaded or no memory. */
tk_hs_client *tk_hs_client_new(tk_circmgr *cm,
			       const struct tk_hs_client_config *cfg, char *err,
			       size_t errlen);
/* Frees everything, closes its circuits; no callbacks. */
void tk_hs_client_free(tk_hs_client *hc);

/* Asks for a circuit joined to the service id. r is the caller's (zeroed
 * but for cb); its manager fields are not used. 0, or -1 when too many
 * services are in progress (or no memory): r's cb will not run. */
int tk_hs_client_request(tk_hs_client *hc, const uint8_t id[TK_HS_ID_LEN],
			 struct tk_circreq *r);
/* r's cb will not run. */
void tk_hs_client_cancel(tk_hs_client *hc, struct tk_circreq *r);
/* (Re)reads the ClientOnionAuthDir dir (NULL: no keys), as tor does at
 * start and on every reload: 0 and the new keys in use for the next
 * descriptor decoded, or -1 with err and the keys held so far kept. */
int tk_hs_client_load_auth(tk_hs_client *hc, const char *dir, char *err,
			   size_t errlen);
/* NEWNYM: forgets every cached descriptor (tor's hs_client_purge_state);
 * joined circuits are retired by the manager's own NEWNYM. */
void tk_hs_client_purge(tk_hs_client *hc);
/* SafeLogging changed. */
void tk_hs_client_set_scrub(tk_hs_client *hc, int on);

#endif
