/* Private to circmgr.c and its parts, one way down:
 *
 *   circmgr_new.c    tk_circmgr_new(), which wires the parts below to
 *                    the transport and the stream table, and the tick:
 *                    build timeouts, dirty circuits retired, the state
 *                    file saved
 *   circmgr_req.c    requests: which circuit a request gets (fits,
 *                    isolation keys), building when none fits, and the
 *                    clean circuits kept ready (preemptive, predicted
 *                    ports, through a guard that holds cells for us)
 *   circmgr_build.c  paths and builds: guard, middle and exit picked
 *                    (relays that failed an extension avoided), the
 *                    build started, its outcome (tk_circmgr_build_to
 *                    for a chosen last hop too)
 *   circmgr_adopt.c  private circuits once built: handed to a new owner
 *                    (with one more hop or none), closed, joined to an
 *                    onion service
 *   circmgr_table.c  the circuit side of a circuit's stream table:
 *                    stream ids, sending, the accessors streams.c uses
 *   circmgr.c        the manager's state, the deferred work, a
 *                    circuit's end (failed, lost, torn down), freeing,
 *                    the log, stats and descriptions
 *
 * A part calls only the parts below it, never up (tools/layers): so
 * the end of a circuit and tk_circmgr_free(), which the deferred work
 * may run, are in circmgr.c, and tk_circmgr_new(), which names every
 * part's callbacks, is at the top. */
#ifndef TK_ONION_CLIENT_CIRCMGR_INT_H
#define TK_ONION_CLIENT_CIRCMGR_INT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "onion/base/logf.h"
#include "onion/circ/stream.h"
#include "onion/client/cbt.h"
#include "onion/client/circmgr.h"
#include "onion/client/ocirc.h"
#include "onion/client/portpred.h"
#include "onion/guard/guards.h"

#define MAX_BAD 32

struct tk_ocirc_slot {
	struct tk_ocirc *oc;
	struct tk_ocirc_slot *next;
	uint16_t sid;
	int reg;
};

struct oc_full {
	struct tk_ocirc oc;
	struct tk_defer teardown;
	int preemptive; /* launched with no request, by keep_preemptive() */
	/* tk_ocirc_adopt: the new owner's BUILT, when no hop is added */
	struct tk_defer adopted;
	int extending; /* adopted with a hop to add: the EXTEND2 is out */
};

struct tk_circmgr {
	uv_loop_t *loop;
	struct tk_circmgr_config cfg;
	char *data_dir;
	char *state_path; /* DataDirectory/state, or NULL */
	tk_guards *guards;
	tk_cbt *cbt;
	uint64_t state_saved_at;
	const struct tk_ocirc_transport *tp;
	void *tp_state;
	struct tk_circmgr_user user;
	tk_ostream_ops table_ops;
	struct tk_ocirc *circs;
	struct tk_circreq *reqs, *reqs_tail;
	struct tk_defer *dq, *dq_tail;
	struct tk_defer svc;
	uv_timer_t kick, tick;
	int handles_open;
	int freeing;
	int in_kick, free_pending;
	uint32_t serial;
	struct tk_circmgr_stats st;
	struct {
		uint8_t id[20];
		uint64_t until;
	} bad[MAX_BAD];
	size_t n_bad;
	int warned_nopath;
	unsigned preempt_fails;	 /* in a row */
	uint64_t preempt_ok_at;	 /* uv_now before which none is launched */
	struct tk_portpred pred; /* ports requested lately */
	/* Guards that seem to hold cells for us (guard_stalled), for
	 * tk_cm_stall_service(). */
	struct tk_defer stall_d;
	uint8_t stalled[4][20];
	size_t n_stalled;
};

static inline struct oc_full *
tk_cm_full(struct tk_ocirc *oc)
{
	return (struct oc_full *)oc;
}

/* ------------------------------------------------------------ circmgr.c */

/* A line to the configuration's log (logf.h). */
#define tk_cm_log(cm, level, ...) \
	tk_logf((cm)->cfg.log, (cm)->cfg.log_arg, (level), __VA_ARGS__)
/* The wall clock, for the guard set's dates and retry times. */
int64_t tk_cm_wall_s(const tk_circmgr *cm);
/* A fixed CircuitBuildTimeout, or the learned one. */
unsigned tk_cm_build_timeout_ms(const tk_circmgr *cm);
/* Writes the state file if something in it changed. */
void tk_cm_save_state(tk_circmgr *cm);
/* Runs tk_cm_service() from the deferred work. */
void tk_cm_kick_requests(tk_circmgr *cm);
/* A private circuit's owner hears of it; every event but BUILT is the
 * last one it gets. */
void tk_cm_owner_event(struct tk_ocirc *oc, int ev, const char *why);
/* oc_full.teardown's work: oc goes. */
void tk_cm_teardown_cb(struct tk_defer *d);
/* Queues the teardown: callers are often inside the circuit's callbacks. */
void tk_cm_close_later(struct tk_ocirc *oc);
/* A preemptive circuit failed: the next waits longer. */
void tk_cm_preempt_failed(tk_circmgr *cm);
/* The build failed: requests waiting on it count a failed build. */
void tk_cm_oc_fail(struct tk_ocirc *oc, const char *why);
/* The built circuit died: its streams fail with DESTROY. */
void tk_cm_oc_kill(struct tk_ocirc *oc, const char *why);
void tk_cm_oc_lost(struct tk_ocirc *oc, const char *why);
/* r leaves the queue of requests (if it is in it). */
void tk_cm_dequeue(tk_circmgr *cm, struct tk_circreq *r);
/* The user until one registers, and after tk_circmgr_free(). */
extern const struct tk_circmgr_user tk_cm_no_user;

/* ------------------------------------------------------ circmgr_table.c */

/* The stream table's circuit side (tk_ostream_ops). */
int tk_cm_t_send(void *ud, uint8_t cmd, uint16_t sid, const uint8_t *body,
		 size_t len);
int tk_cm_t_can_package(void *ud);
void tk_cm_t_released(void *ud, uint16_t sid);
/* The transport's writable event: the table's streams may send. */
void tk_cm_writable(struct tk_ocirc *oc);

/* ------------------------------------------------------ circmgr_adopt.c */

/* oc_full.adopted's work: the new owner's BUILT. */
void tk_cm_adopted_cb(struct tk_defer *d);
/* The transport's extended event for an adopted circuit. */
void tk_cm_extended(struct tk_ocirc *oc, int status, const char *why);

/* ------------------------------------------------------ circmgr_build.c */

enum {
	LAUNCH_OK = 0,
	LAUNCH_NODIR = -1,
	LAUNCH_NOEXIT = -2,
	LAUNCH_NOPATH = -3
};

/* Picks guard, exit (allowing port, not excluded), middle, and starts the
 * build. want_guard: that guard or nothing (guard_stalled). LAUNCH_OK
 * and *out (which may have failed at once), or why not. */
int tk_cm_launch(tk_circmgr *cm, uint16_t port, const struct tk_circreq *r,
		 const uint8_t *want_guard, struct tk_ocirc **out);
/* A stream to port wants a circuit of Stable relays (LongLivedPorts). */
int tk_cm_long_lived(const tk_circmgr *cm, uint16_t port);
/* Relays that failed an extension are avoided until their time is up. */
void tk_cm_expire_bad(tk_circmgr *cm, uint64_t now);
/* The transport's events for a build. */
void tk_cm_first_hop_ok(struct tk_ocirc *oc);
void tk_cm_build_done(struct tk_ocirc *oc, int status, int failed_hop,
		      const char *why);

/* -------------------------------------------------------- circmgr_req.c */

/* The deferred work that serves the requests (cm->svc). */
void tk_cm_service(struct tk_defer *d);
/* The transport's guard_stalled event, and the deferred work that
 * builds through those guards (cm->stall_d). */
void tk_cm_guard_stalled(struct tk_ocirc *oc);
void tk_cm_stall_service(struct tk_defer *d);

#endif
