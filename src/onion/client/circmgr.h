/* The circuit manager: 3-hop circuits for client streams.
 *
 * Circuits are guard -> middle -> exit: CREATE2 (ntor) to a member of the
 * persistent guard set (guards.h), then EXTEND2 to a middle and to an
 * exit chosen with path.h (exit first among those whose policy summary
 * allows the port, then the middle; no relay twice, no family, subnets
 * when enforced). Channels to a guard are shared by its circuits.
 *
 * Streams (ostream.h) ask for a circuit that fits: open, not retired,
 * the exit's summary allows the port (any exit for lookups), the same
 * isolation key (an opaque byte string: two requests may share a circuit
 * only if their keys are equal; a clean circuit takes the key of the
 * first request it serves), and not an exit the request excluded. If none
 * fits, a building circuit that fits is awaited, else a new one is built
 * (at most max_pending_builds at once; a request survives
 * build_attempts failed builds). As in tor:
 *  - one clean circuit (exit allowing preemptive_port) is kept ready so
 *    the first request does not wait for a build;
 *  - a circuit is dirty from its first stream on and takes no new stream
 *    after max_dirtiness_s (tor's MaxCircuitDirtiness, 10 min); a dirty
 *    circuit without streams is then closed;
 *  - DESTROY, TRUNCATED, a lost channel or a protocol error kill the
 *    circuit: its streams fail with END DESTROY (ostream.h retries the
 *    ones not yet connected) and later requests get another circuit;
 *  - a relay that failed an extension is avoided for a minute, a guard
 *    that failed is skipped per guards.h.
 *
 * The directory comes from the caller: nodes() returns the current node
 * table (path.h) or NULL while there is no usable one. Call
 * tk_circmgr_dir_changed() when it changes (dirmgr's env->changed);
 * without that the manager polls nodes() every tick (500 ms) while it
 * has work waiting. Node pointers are never kept across calls.
 *
 * Logging: one line per event, levels as enum tk_onion_log_level
 * (0 debug, 1 info, 2 notice, 3 warn). */
#ifndef TK_ONION_CLIENT_CIRCMGR_H
#define TK_ONION_CLIENT_CIRCMGR_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "onion/netdir/path.h"

typedef struct tk_circmgr tk_circmgr;

struct tk_circmgr_config {
	const struct tk_nodes *(*nodes)(void *arg);
	void *nodes_arg;
	const char *data_dir;		/* guard state file; NULL: memory */
	int enforce_distinct_subnets;	/* default 1; 0 on test networks */
	unsigned build_timeout_ms;	/* whole build, default 60000 */
	unsigned max_dirtiness_s;	/* default 600 */
	unsigned max_pending_builds;	/* default 4 */
	unsigned build_attempts;	/* builds a request waits for, 4 */
	unsigned stream_timeout_ms;	/* CONNECTED/RESOLVED wait per try,
					   10000 (tor: 10 s) */
	unsigned stream_attempts;	/* tries per stream, 3 (tor's
					   MAX_RESOLVE_FAILURES) */
	unsigned request_timeout_ms;	/* whole request, 120000 (tor's
					   SocksTimeout) */
	unsigned linger_ms;		/* after shutdown, idle this long ->
					   closed (DESIGN.md), 30000 */
	unsigned preemptive;		/* clean circuits kept ready, 1 */
	uint16_t preemptive_port;	/* their exits allow it, 80 */
	unsigned n_guards;		/* guard set size, 3 */
	int scrub_hosts;		/* log "[scrubbed]" for destinations,
					 * default 1 (tor's SafeLogging) */
	void (*log)(void *arg, int level, const char *msg);
	void *log_arg;
};
void tk_circmgr_config_init(struct tk_circmgr_config *cfg);

/* Copies cfg (data_dir included). Loads the guard set. 0, or -1 with
 * err. Nothing is built before the first tick, request or dir_changed. */
int tk_circmgr_new(uv_loop_t *loop, const struct tk_circmgr_config *cfg,
		   tk_circmgr **out, char *err, size_t errlen);

/* A nodes() for the directory manager (dirmgr.h): its node table while
 * it is usable, else NULL. arg is the struct tk_dirmgr *, e.g.
 * tk_onion_dirmgr(onion). */
const struct tk_nodes *tk_circmgr_dirmgr_nodes(void *dirmgr);

/* The directory changed: circuits waiting for one are built now. */
void tk_circmgr_dir_changed(tk_circmgr *cm);

/* Closes every circuit and channel. Streams and requests still held are
 * freed without callbacks: close them first. Memory is released while
 * the loop closes the handles: run the loop afterwards. */
void tk_circmgr_free(tk_circmgr *cm);

struct tk_circmgr_stats {
	unsigned launched;	/* builds started */
	unsigned built;		/* builds that completed */
	unsigned failed;	/* builds that failed (timeout, refused...) */
	unsigned lost;		/* built circuits that died (DESTROY...) */
	unsigned open;		/* open now */
	unsigned building;	/* building now */
	unsigned channels;	/* channels open or opening */
	double last_build_ms;	/* time of the last successful build */
	double total_build_ms;	/* sum over `built` */
};
void tk_circmgr_get_stats(const tk_circmgr *cm, struct tk_circmgr_stats *st);

/* Describes circuit `serial` ("circ 3 guard0~middle1~exit0 open dirty
 * 12s"); returns the length, or -1 if there is no such circuit. */
int tk_circmgr_describe(const tk_circmgr *cm, uint32_t serial, char *buf,
			size_t cap);

/* The guard set (guards.h), for status output and tests. */
struct tk_guards *tk_circmgr_guards(tk_circmgr *cm);

#endif
