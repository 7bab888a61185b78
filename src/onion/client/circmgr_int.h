/* Between circmgr.c and ostream.c: managed circuits, circuit requests,
 * deferred work. Not for other users. */
#ifndef TK_ONION_CLIENT_CIRCMGR_INT_H
#define TK_ONION_CLIENT_CIRCMGR_INT_H

#include <stdarg.h>

#include "onion/client/circmgr.h"
#include "onion/circ/circuit.h"
#include "onion/guard/guards.h"
#include "onion/netdoc/policy_summary.h"
#include "onion/circ/stream.h"

struct cm_slot;

enum oc_state { OC_BUILDING, OC_OPEN, OC_DEAD };

/* A managed circuit. */
struct tk_ocirc {
	tk_circmgr *cm;
	struct tk_ocirc *next, *prev;
	uint32_t serial;
	enum oc_state state;
	int closed;			/* teardown queued */
	void *tp;			/* the transport's circuit */
	int n_hops;			/* hops built */
	tk_circuit_hop_target hop[3];
	char nick[3][20];
	struct tk_policy_summary exit_p; /* copy of the exit's "p" */
	int has_iso;
	uint8_t *iso;
	size_t iso_len;
	uint64_t dirty_since;		/* uv_now ms of the first stream, 0 */
	int unusable;			/* no new streams */
	uint64_t started, deadline, built_at;
	tk_ostream_table *tbl;
	struct cm_slot *slots;
	unsigned n_waiting;		/* requests waiting on this build */
};

#define CM_MAX_EXCLUDED 16

/* A request for a circuit (embedded in ostream.c's objects). */
struct tk_circreq {
	tk_circmgr *cm;
	struct tk_circreq *next, *prev;
	int queued;
	uint16_t port;			/* 0: a lookup, any exit */
	const uint8_t *iso;		/* owned by the embedding object */
	size_t iso_len;
	uint8_t excluded[CM_MAX_EXCLUDED][20];
	size_t n_excluded;
	unsigned builds_failed;
	struct tk_ocirc *waiting_on;
	/* status 0 and oc, or an END reason (MISC, EXITPOLICY). Runs from
	 * deferred work, never inside tk__cm_request(). */
	void (*cb)(struct tk_circreq *r, int reason, struct tk_ocirc *oc);
};

/* How circuits are built and carry relay messages. The real one
 * (circmgr_tp.c) uses chanmgr.h and circuit.h; tests script an exit. A
 * transport reports back with tk__oc_first_hop_ok, tk__oc_build_done
 * (once), then maybe tk__oc_lost and tk__oc_writable; never from inside
 * build() or close(). */
struct tk_cm_transport {
	void *(*create)(tk_circmgr *cm);
	void (*destroy)(void *st);	/* everything closed, no callbacks */
	/* Starts building oc->hop[0..3) (guard, middle, exit). 0 or -1. */
	int (*build)(void *st, struct tk_ocirc *oc);
	/* A relay message to the exit; DATA counts against the circuit's
	 * package window. 0 or -1 (circuit gone). */
	int (*send)(struct tk_ocirc *oc, uint8_t cmd, uint16_t sid,
		    const uint8_t *body, size_t len);
	int (*can_package)(struct tk_ocirc *oc);
	/* Registers a stream id: its relay messages go to cb(slot, ...);
	 * when the circuit goes, cb(slot, status < 0, ...) once. */
	int (*stream_add)(struct tk_ocirc *oc, tk_circuit_stream_cb cb,
			  void *slot, uint16_t *sid);
	void (*stream_remove)(struct tk_ocirc *oc, uint16_t sid);
	/* Ends oc's circuit (DESTROY if up); registered streams get their
	 * status < 0 call; nothing else runs for oc afterwards. */
	void (*close)(struct tk_ocirc *oc);
	unsigned (*channels)(void *st);
};
extern const struct tk_cm_transport tk__cm_real_transport;
/* For tests: replaces the transport; call right after tk_circmgr_new. */
int tk__cm_set_transport(tk_circmgr *cm, const struct tk_cm_transport *tp);

/* The transport's reports. failed_hop: 0 guard, 1 middle, 2 exit, -1
 * unknown (status < 0), status 0: all three hops are in. */
void tk__oc_first_hop_ok(struct tk_ocirc *oc);
void tk__oc_build_done(struct tk_ocirc *oc, int status, int failed_hop,
		       const char *why);
void tk__oc_lost(struct tk_ocirc *oc, const char *why);
void tk__oc_writable(struct tk_ocirc *oc);

/* Deferred work: runs from a zero timer, in queue order. */
struct tk_defer {
	struct tk_defer *next;
	int queued;
	void (*fn)(struct tk_defer *d);
};

void tk__cm_defer(tk_circmgr *cm, struct tk_defer *d);
void tk__cm_undefer(tk_circmgr *cm, struct tk_defer *d);
/* tk_circmgr_free() was called: stop calling the application. */
int tk__cm_dying(const tk_circmgr *cm);

void tk__cm_request(tk_circmgr *cm, struct tk_circreq *r);
void tk__cm_request_cancel(struct tk_circreq *r);

/* Opens a stream id on oc for the stream layer: registers with the
 * circuit so its cells reach the table. 0 or < 0. */
int tk__oc_stream_id(struct tk_ocirc *oc, uint16_t *sid);
/* The id could not be used after all (tk_ostream_* failed). */
void tk__oc_stream_id_drop(struct tk_ocirc *oc, uint16_t sid);
/* A stream was attached: the circuit is dirty from now on. */
void tk__oc_attached(struct tk_ocirc *oc);
/* No new streams on oc (tor's mark_circuit_unusable_for_new_conns). */
void tk__oc_unusable(struct tk_ocirc *oc);

const struct tk_circmgr_config *tk__cm_config(const tk_circmgr *cm);
/* host, or "[scrubbed]" when the configuration says to keep destinations
 * out of the log. */
const char *tk__cm_host(const tk_circmgr *cm, const char *host);
uv_loop_t *tk__cm_loop(const tk_circmgr *cm);
void tk__cm_log(tk_circmgr *cm, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ostream.c's side of each circuit's stream table (tk_ostream_ops). */
void tk__os_connected(void *ud, tk_ostream *s, const tk_relay_connected *c);
void tk__os_data(void *ud, tk_ostream *s, const uint8_t *p, size_t len);
void tk__os_resolved(void *ud, tk_ostream *s, const tk_relay_resolved *r);
void tk__os_closed(void *ud, tk_ostream *s, int remote,
		   const tk_relay_end *end);
void tk__os_writable(void *ud, tk_ostream *s);
/* Once a tick: stream timeouts and lingering streams. */
void tk__os_tick(tk_circmgr *cm, uint64_t now);
/* tk_circmgr_free: free every stream object without callbacks. */
void tk__os_free_all(tk_circmgr *cm);

/* Stream objects registered with the manager (for ticks and free). */
struct tk_os_link {
	struct tk_os_link *next, *prev;
};
struct tk_os_link *tk__cm_streams(tk_circmgr *cm);

#endif
