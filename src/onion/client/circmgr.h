/* The circuit manager: 3-hop circuits for client streams.
 *
 * Circuits are guard -> middle -> exit: CREATE2 (ntor) to a member of the
 * persistent guard set (guards.h), then EXTEND2 to a middle and to an
 * exit chosen with path.h (exit first among those whose policy summary
 * allows the port, then the middle; no relay twice, no family, subnets
 * when enforced). Channels to a guard are shared by its circuits.
 *
 * The manager hands out circuits and never sees a stream. Its user (the
 * stream layer, streams.h) embeds a struct tk_circreq in each request and
 * asks for a circuit that fits: open, not retired, the exit's summary
 * allows the port (any exit for lookups), the same isolation key (an
 * opaque byte string: two requests may share a circuit only if their
 * keys are equal; a clean circuit takes the key of the first request it
 * serves), and not an exit the request excluded. If none fits, a building
 * circuit that fits is awaited, else a new one is built (at most
 * max_pending_builds at once; a request survives build_attempts failed
 * builds). The user registers its callbacks once (tk_circmgr_set_user):
 * they receive what the exit says about streams, through each circuit's
 * stream table (stream.h), which the manager keeps with the circuit. As
 * in tor:
 *  - clean circuits are kept ready so that a request does not wait for
 *    a build: `preemptive` whose exits allow preemptive_port, and as
 *    many for each port requested within the last hour (port
 *    prediction, path-spec 2.1.1; portpred.h), at most 12 in all;
 *  - a circuit is dirty from its first stream on and takes no new stream
 *    after max_dirtiness_s (tor's MaxCircuitDirtiness, 10 min); a dirty
 *    circuit without streams is then closed;
 *  - DESTROY, TRUNCATED, a lost channel or a protocol error kill the
 *    circuit: its streams fail with END DESTROY and later requests get
 *    another circuit;
 *  - a relay that failed an extension is avoided for a minute, a guard
 *    that failed is skipped per guards.h (guard-spec); the first hop is
 *    a primary guard, a circuit built through a guard confirms it;
 *  - a build still going after the learned timeout (cbt.h, tor's
 *    CircuitBuildTimeout learning) fails; DataDirectory/state keeps the
 *    guard sample and the build times, as tor's state file does.
 *
 * The directory comes from the caller: nodes() returns the current node
 * table (nodes.h) or NULL while there is no usable one. Call
 * tk_circmgr_dir_changed() when it changes (dirmgr's env->changed);
 * without that the manager polls nodes() every tick (500 ms) while it
 * has work waiting. Node pointers are never kept across calls.
 *
 * Every callback into the user runs from the manager's deferred work
 * (tk_circmgr_defer), never from inside an API call. */
#ifndef TK_ONION_CLIENT_CIRCMGR_H
#define TK_ONION_CLIENT_CIRCMGR_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/log_level.h"
#include "onion/circ/circuit.h"
#include "onion/circ/stream.h"
#include "onion/netdir/nodes.h"

typedef struct tk_circmgr tk_circmgr;
#define TK_CIRCMGR_MAX_LONG_LIVED 64
#define TK_CIRCMGR_LONG_LIVED_DEFAULT                                        \
	{                                                                    \
		21, 22, 706, 1863, 5050, 5190, 5222, 5223, 6523, 6667, 6697, \
			8300                                                 \
	}
struct tk_ocirc_transport;

struct tk_circmgr_config {
	const struct tk_nodes *(*nodes)(void *arg);
	void *nodes_arg;
	const char *data_dir;	      /* its "state" file; NULL: memory */
	int enforce_distinct_subnets; /* default 1; 0 on test networks */
	unsigned build_timeout_ms;    /* whole build; 0 (default): cbt.h */
	unsigned max_dirtiness_s;     /* default 600 */
	unsigned max_pending_builds;  /* default 4 */
	unsigned build_attempts;      /* builds a request waits for, 4 */
	unsigned preemptive;	      /* clean circuits kept ready per
				       * predicted port, 1 */
	uint16_t preemptive_port;     /* their exits allow it, 80 */
	/* Tor's LongLivedPorts: a stream to one of these ports wants a
	 * circuit whose every hop is Stable (path-spec 2.2). Default:
	 * tor's list (TK_CIRCMGR_LONG_LIVED_DEFAULT). */
	uint16_t long_lived_ports[TK_CIRCMGR_MAX_LONG_LIVED];
	size_t n_long_lived_ports;
	/* -1 (default): negotiate congestion control (prop 324) with exits
	 * that support it when the consensus says cc_alg != 0; 0: never;
	 * 1: also without cc_alg (tk_onion_config.congestion_control) */
	int congestion_control;
	/* ClientUseIPv4/6, ClientPreferIPv6ORPort (reach.h): which guards
	 * may be first hops and which of their ORPorts we connect to.
	 * Zero: tor's defaults (IPv4). */
	struct tk_reach reach;
	tk_log_fn log; /* enum tk_log_level; NULL: silent */
	void *log_arg;
	/* NULL: tk_ocirc_chan_transport (ocirc.h); tests script one */
	const struct tk_ocirc_transport *transport;
	/* Uniform 64-bit numbers for paths and guards, and the wall clock
	 * (seconds) for the guard set; NULL: tk_random() and time(). Tests
	 * script both. Timers run on the loop's clock. */
	uint64_t (*random)(void *arg);
	int64_t (*wall_s)(void *arg);
	void *env_arg;
};
void tk_circmgr_config_init(struct tk_circmgr_config *cfg);

/* Copies cfg (data_dir included). Loads the guard set. 0, or -1 with
 * err. Nothing is built before the first tick, request or dir_changed. */
int tk_circmgr_new(uv_loop_t *loop, const struct tk_circmgr_config *cfg,
		   tk_circmgr **out, char *err, size_t errlen);

/* The directory changed: circuits waiting for one are built now. */
void tk_circmgr_dir_changed(tk_circmgr *cm);

/* Closes every circuit and channel, and shuts the user down (its
 * `shutdown` frees whatever it still holds, without callbacks). Safe from
 * inside a callback: then it happens once that callback returns. Memory
 * is released while the loop closes the handles: run the loop
 * afterwards. */
void tk_circmgr_free(tk_circmgr *cm);

struct tk_circmgr_stats {
	unsigned launched;     /* builds started */
	unsigned built;	       /* builds that completed */
	unsigned failed;       /* builds that failed (timeout, refused...) */
	unsigned lost;	       /* built circuits that died (DESTROY...) */
	unsigned open;	       /* open now */
	unsigned building;     /* building now */
	unsigned channels;     /* channels open or opening */
	double last_build_ms;  /* time of the last successful build */
	double total_build_ms; /* sum over `built` */
};
void tk_circmgr_get_stats(const tk_circmgr *cm, struct tk_circmgr_stats *st);

/* SIGNAL NEWNYM: every circuit that carried a stream or was claimed by
 * an isolation key takes no new streams (it closes once its streams are
 * done); new requests get circuits that share nothing with earlier ones.
 * Returns how many were retired. */
unsigned tk_circmgr_newnym(tk_circmgr *cm);

/* Describes circuit `serial` ("circ 3 guard0~middle1~exit0 open dirty
 * 12s"); returns the length, or -1 if there is no such circuit. */
int tk_circmgr_describe(const tk_circmgr *cm, uint32_t serial, char *buf,
			size_t cap);

/* The usable node table now (the config's nodes()), or NULL. */
const struct tk_nodes *tk_circmgr_nodes(tk_circmgr *cm);

/* The guard sets (guards.h) and the build timeout (cbt.h), for status
 * output and tests. */
struct tk_guards *tk_circmgr_guards(tk_circmgr *cm);
struct tk_cbt *tk_circmgr_cbt(tk_circmgr *cm);

uv_loop_t *tk_circmgr_loop(const tk_circmgr *cm);

/* ---- deferred work: the order in which everything reaches the user */

/* Runs from a zero timer, in queue order. Embed one in the object whose
 * work it is. */
struct tk_defer {
	struct tk_defer *next;
	int queued;
	void (*fn)(struct tk_defer *d);
};
void tk_circmgr_defer(tk_circmgr *cm, struct tk_defer *d);
void tk_circmgr_undefer(tk_circmgr *cm, struct tk_defer *d);
/* tk_circmgr_free() was called: stop calling the application. */
int tk_circmgr_dying(const tk_circmgr *cm);

/* ---- circuits handed out */

typedef struct tk_ocirc tk_ocirc;

/* For log lines and tk_circmgr_describe. */
uint32_t tk_ocirc_serial(const tk_ocirc *oc);
/* The exit's RSA identity. */
const uint8_t *tk_ocirc_exit_id(const tk_ocirc *oc);
/* The exit's IPv6 policy summary ("p6"; rejects all without one). */
const struct tk_policy_summary *tk_ocirc_exit_p6(const tk_ocirc *oc);
/* The circuit's streams: open a stream there with an id from
 * tk_ocirc_stream_id(). */
tk_ostream_table *tk_ocirc_streams(tk_ocirc *oc);
/* Registers a fresh stream id with the circuit so that the exit's cells
 * for it reach the table. 0, or -1 (the circuit is going). */
int tk_ocirc_stream_id(tk_ocirc *oc, uint16_t *sid);
/* The id could not be used after all (the table refused the stream). */
void tk_ocirc_stream_id_drop(tk_ocirc *oc, uint16_t sid);
/* A stream was attached: the circuit is dirty from now on. */
void tk_ocirc_attached(tk_ocirc *oc);
/* No new streams on oc (tor's mark_circuit_unusable_for_new_conns). */
void tk_ocirc_retire(tk_ocirc *oc);

/* ---- circuits to a chosen last hop (onion services) */

enum {
	TK_OCIRC_EV_BUILT = 1, /* open: use tk_ocirc_circuit() */
	TK_OCIRC_EV_FAILED,    /* the build failed */
	TK_OCIRC_EV_LOST,      /* it died after it was built */
	TK_OCIRC_EV_GONE,      /* retired and closed by the manager */
};
/* Builds guard -> middle -> last (an HSDir, an introduction point, a
 * rendezvous point), a circuit no request is ever given. ev hears BUILT,
 * then at most one of FAILED, LOST, GONE (after which oc is gone); none
 * after tk_ocirc_close() or tk_circmgr_free(), and none from inside this
 * call. 0 and *out, or -1 with err (no directory, no path). */
int tk_circmgr_build_to(tk_circmgr *cm, const tk_circuit_hop_target *last,
			const char *nick,
			void (*ev)(void *arg, tk_ocirc *oc, int event,
				   const char *why),
			void *arg, tk_ocirc **out, char *err, size_t errlen);
/* With last NULL, the manager picks the last hop as it picks a middle:
 * an internal circuit (circ_pool.h keeps a few ready), whose last hop
 * may serve as a rendezvous point or be extended with tk_ocirc_adopt. */

/* Hands the open private circuit oc to a new owner (ev, arg), who hears
 * BUILT, then at most one of FAILED, LOST, GONE, as from build_to; the
 * old owner hears nothing more. With last, oc is first extended to it
 * (one EXTEND2: path-spec 2.1.4's cannibalized circuit, one hop longer)
 * and BUILT comes once that hop is in, or FAILED; without, BUILT comes
 * from deferred work. Never from inside this call. 0, or -1 (oc not
 * open or retired, no room for a hop): oc and its owner are as they
 * were. */
int tk_ocirc_adopt(tk_ocirc *oc, const tk_circuit_hop_target *last,
		   const char *nick,
		   void (*ev)(void *arg, tk_ocirc *oc, int event,
			      const char *why),
		   void *arg);
/* EnforceDistinctSubnets, for those who choose a hop beside ours. */
int tk_circmgr_distinct_subnets(const tk_circmgr *cm);

/* The circuit of an open oc (NULL otherwise), for the onion-service
 * cells that go beside streams. */
tk_circuit *tk_ocirc_circuit(tk_ocirc *oc);
/* The owner is done with a private circuit: its streams fail, it goes. */
void tk_ocirc_close(tk_ocirc *oc);
/* The circuit grew the onion service's virtual hop
 * (tk_circuit_add_virtual_hop): streams are the service's from now on;
 * with cc (congestion control with the service), they use XON/XOFF with
 * those parameters instead of stream SENDMEs. */
void tk_ocirc_joined(tk_ocirc *oc, const struct tk_cc_params *cc);

/* ---- requests */

#define TK_CIRCREQ_MAX_EXCLUDED 16

/* A request for a circuit, embedded in the user's object; zero it, then
 * fill port, iso and cb. */
struct tk_circreq {
	uint16_t port;	    /* 0: a lookup, any exit */
	const uint8_t *iso; /* owned by the embedding object */
	size_t iso_len;
	uint8_t excluded[TK_CIRCREQ_MAX_EXCLUDED][20]; /* exits refused */
	size_t n_excluded;
	unsigned builds_failed; /* reset it to ask again afresh */
	/* reason 0 and oc, or an END reason (MISC, EXITPOLICY,
	 * RESOLVEFAILED). From deferred work, never inside
	 * tk_circmgr_request(). */
	void (*cb)(struct tk_circreq *r, int reason, tk_ocirc *oc);
	/* the manager's */
	tk_circmgr *cm;
	struct tk_circreq *next, *prev;
	int queued;
	tk_ocirc *waiting_on;
};
void tk_circmgr_request(tk_circmgr *cm, struct tk_circreq *r);
void tk_circmgr_request_cancel(struct tk_circreq *r);

/* ---- the user: the stream layer */

struct tk_circmgr_user {
	/* What every circuit's stream table reports (stream.h); ud is the
	 * circuit (tk_ocirc *). */
	void (*connected)(void *ud, tk_ostream *s, const tk_relay_connected *c);
	void (*data)(void *ud, tk_ostream *s, const uint8_t *p, size_t len);
	void (*resolved)(void *ud, tk_ostream *s, const tk_relay_resolved *r);
	void (*closed)(void *ud, tk_ostream *s, int remote,
		       const tk_relay_end *end);
	void (*writable)(void *ud, tk_ostream *s);
	/* Once a tick (500 ms), after the manager's own timers. */
	void (*tick)(void *arg, uint64_t now);
	/* From tk_circmgr_free(): free everything, no callbacks. */
	void (*shutdown)(void *arg);
	void *arg;
};
/* Once, before the first request. u is copied. */
void tk_circmgr_set_user(tk_circmgr *cm, const struct tk_circmgr_user *u);

#endif
