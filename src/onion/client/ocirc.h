/* A circuit as the circuit manager keeps it, and the transport that
 * builds it and carries its cells. circmgr*.c decide which circuits to
 * build and who gets them; a transport only builds and carries. The real
 * transport (ocirc_chan.c) runs over channels and circuit.h; unit tests
 * script an exit in its place (tk_circmgr_config.transport). */
#ifndef TK_ONION_CLIENT_OCIRC_H
#define TK_ONION_CLIENT_OCIRC_H

#include <stdint.h>
#include <uv.h>

#include "onion/circ/circuit.h"
#include "onion/circ/stream.h"
#include "onion/netdoc/policy_summary.h"

typedef struct tk_ocirc tk_ocirc;
struct tk_circmgr;
struct tk_ocirc_slot;

enum tk_ocirc_state { TK_OCIRC_BUILDING, TK_OCIRC_OPEN, TK_OCIRC_DEAD };

/* Hops at most: three built, and one an onion service's circuit adds to
 * a clean internal circuit it takes (tk_ocirc_adopt, circ_pool.h). */
#define TK_OCIRC_MAX_HOPS 4

struct tk_ocirc {
	struct tk_circmgr *cm;
	struct tk_ocirc *next, *prev;
	uint32_t serial;
	enum tk_ocirc_state state;
	int closed; /* teardown queued */
	void *tp;   /* the transport's circuit */
	int n_hops; /* hops built */
	int stable; /* every hop has the Stable flag */
	/* guard, middle, exit (or the chosen last hop), and the hop an
	 * adopted internal circuit was extended to */
	tk_circuit_hop_target hop[TK_OCIRC_MAX_HOPS];
	/* From the consensus, for the transport's choice of handshake:
	 * which hops can do congestion control, and whether we want it
	 * (cc_alg != 0, or the CongestionControl option). */
	uint8_t supports_cc[TK_OCIRC_MAX_HOPS];
	int cc_enabled;
	char nick[TK_OCIRC_MAX_HOPS][20];
	struct tk_policy_summary exit_p;  /* copy of the exit's "p" */
	struct tk_policy_summary exit_p6; /* and of its "p6" (BEGIN flags) */
	int has_iso;
	uint8_t *iso;
	size_t iso_len;
	uint64_t dirty_since; /* uv_now ms of the first stream, 0 */
	int unusable;	      /* no new streams */
	uint64_t started, deadline, built_at;
	tk_ostream_table *tbl;
	struct tk_ocirc_slot *slots;
	/* Built for one owner (tk_circmgr_build_to: onion services) and
	 * never handed to a request; owner_ev hears of it. */
	int private_use;
	void (*owner_ev)(void *arg, tk_ocirc *oc, int event, const char *why);
	void *owner_arg;
};

/* How a transport reports back. failed_hop: 0 guard, 1 middle, 2 exit,
 * -1 unknown; status 0: all three hops are in. first_hop_ok, then
 * build_done once, then maybe lost and writable; never from inside
 * build() or close(). guard_stalled (may be NULL): oc's first hop seems
 * to hold cells for us, DESTROYs of other circuits probably
 * (channel.h, `stalled`); a circuit built through it gets them out. */
struct tk_ocirc_events {
	void (*first_hop_ok)(tk_ocirc *oc);
	void (*build_done)(tk_ocirc *oc, int status, int failed_hop,
			   const char *why);
	void (*lost)(tk_ocirc *oc, const char *why);
	void (*writable)(tk_ocirc *oc);
	void (*guard_stalled)(tk_ocirc *oc);
	/* The extension started by the transport's extend() is over:
	 * status 0 (the hop is in), or why it failed (the circuit is then
	 * dead: only close() remains). Never from inside extend(). */
	void (*extended)(tk_ocirc *oc, int status, const char *why);
};

struct tk_ocirc_transport {
	/* channel_timeout_ms bounds a channel's set-up; ev is kept. */
	void *(*create)(uv_loop_t *loop, unsigned channel_timeout_ms,
			const struct tk_ocirc_events *ev);
	void (*destroy)(void *st); /* everything closed, no callbacks */
	/* Starts building oc->hop[0..3) by oc->deadline. 0 or -1. */
	int (*build)(void *st, tk_ocirc *oc);
	/* Extends the open oc by oc->hop[oc->n_hops] (EXTEND2) by
	 * oc->deadline; events->extended follows. 0 or -1. May be NULL: no
	 * circuit is then adopted with a new hop. */
	int (*extend)(tk_ocirc *oc);
	/* A relay message to the exit; DATA counts against the circuit's
	 * package window. 0 or -1 (circuit gone). */
	int (*send)(tk_ocirc *oc, uint8_t cmd, uint16_t sid,
		    const uint8_t *body, size_t len);
	int (*can_package)(tk_ocirc *oc);
	/* Registers a stream id: its relay messages go to cb(slot, ...);
	 * when the circuit goes, cb(slot, status < 0, ...) once. */
	int (*stream_add)(tk_ocirc *oc, tk_circuit_stream_cb cb, void *slot,
			  uint16_t *sid);
	void (*stream_remove)(tk_ocirc *oc, uint16_t sid);
	/* Ends oc's circuit (DESTROY if up); registered streams get their
	 * status < 0 call; nothing else runs for oc afterwards. */
	void (*close)(tk_ocirc *oc);
	unsigned (*channels)(void *st);
	/* Once built: the exit hop's flow control (has_cc: it negotiated
	 * congestion control, and its streams use XON/XOFF). May be NULL
	 * itself, or return NULL: fixed windows. */
	const tk_circ_flow *(*exit_flow)(tk_ocirc *oc);
	/* The circuit itself, for protocols above streams (onion
	 * services); may be NULL, or return NULL. */
	tk_circuit *(*circuit)(tk_ocirc *oc);
};

/* Channels from chanmgr.h (one per guard, shared), CREATE2/ntor to the
 * guard, EXTEND2 to middle and exit. */
extern const struct tk_ocirc_transport tk_ocirc_chan_transport;

#endif
