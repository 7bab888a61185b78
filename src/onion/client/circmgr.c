/* circmgr.h: building, sharing and retiring 3-hop client circuits. */
#include "onion/client/circmgr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"
#include "onion/base/crypto.h"
#include "onion/client/cbt.h"
#include "onion/client/hop.h"
#include "onion/client/ocirc.h"
#include "onion/client/portpred.h"
#include "onion/client/statefile.h"
#include "onion/guard/guards.h"
#include "onion/netdir/path.h"

#define TICK_MS 500
#define BAD_RELAY_MS 60000
#define MAX_BAD 32
#define STATE_SAVE_MS 60000 /* the state file at most once a minute */

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

/* A preemptive circuit that failed is not replaced at once: with no
 * guard reachable (the network went away after the directory was
 * loaded) that would be a busy loop. tor launches them from its
 * once-a-second housekeeping; here the wait doubles from 1 s to a
 * minute while they keep failing. */
#define PREEMPT_BACKOFF_MIN_MS 1000
#define PREEMPT_BACKOFF_MAX_MS 60000
/* Clean circuits at most, open or building: path-spec 2.1.1's 12, so a
 * client cycling through ports cannot make us build without end. */
#define MAX_CLEAN 12

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
	 * stall_service(). */
	struct tk_defer stall_d;
	uint8_t stalled[4][20];
	size_t n_stalled;
};

/* ------------------------------------------------------------ basics */

void
tk_circmgr_config_init(struct tk_circmgr_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->enforce_distinct_subnets = 1;
	cfg->build_timeout_ms = 0; /* learned (cbt.h) */
	cfg->max_dirtiness_s = 600;
	cfg->max_pending_builds = 4;
	cfg->build_attempts = 4;
	cfg->preemptive = 1;
	cfg->preemptive_port = 80;
	cfg->congestion_control = -1;
	{
		static const uint16_t dflt[] = TK_CIRCMGR_LONG_LIVED_DEFAULT;
		memcpy(cfg->long_lived_ports, dflt, sizeof dflt);
		cfg->n_long_lived_ports = sizeof dflt / sizeof dflt[0];
	}
}

static void cm_log(tk_circmgr *cm, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
cm_log(tk_circmgr *cm, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!cm->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cm->cfg.log(cm->cfg.log_arg, level, msg);
}

static uint64_t
system_random(void *arg)
{
	return tk_path_rng_system(arg);
}

static int64_t
system_wall_s(void *arg)
{
	(void)arg;
	return (int64_t)time(NULL);
}

/* The wall clock, for the guard set's dates and retry times. */
static int64_t
wall_s(const tk_circmgr *cm)
{
	return cm->cfg.wall_s(cm->cfg.env_arg);
}

/* A fixed CircuitBuildTimeout, or the learned one. */
static unsigned
build_timeout_ms(const tk_circmgr *cm)
{
	return cm->cfg.build_timeout_ms ? cm->cfg.build_timeout_ms
					: tk_cbt_timeout_ms(cm->cbt);
}

/* The guard and build-timeout parameters come from the consensus. */
static void
follow_consensus(tk_circmgr *cm, const struct tk_consensus *c)
{
	struct tk_guard_params gp;
	struct tk_cbt_params bp;
	tk_guard_params_from_consensus(&gp, c);
	tk_guards_set_params(cm->guards, &gp);
	tk_cbt_params_from_consensus(&bp, c);
	tk_cbt_set_params(cm->cbt, &bp);
}

/* Writes the state file if something in it changed. */
static void
save_state(tk_circmgr *cm)
{
	char why[200];
	cm->state_saved_at = uv_now(cm->loop);
	if (!cm->state_path ||
	    (!tk_guards_dirty(cm->guards) && !tk_cbt_dirty(cm->cbt)))
		return;
	if (tk_statefile_save(cm->state_path, cm->guards, cm->cbt, wall_s(cm),
			      why, sizeof why) != 0)
		cm_log(cm, TK_LOG_WARN, "state file: %s", why);
}

uv_loop_t *
tk_circmgr_loop(const tk_circmgr *cm)
{
	return cm->loop;
}

const struct tk_nodes *
tk_circmgr_nodes(tk_circmgr *cm)
{
	return cm->cfg.nodes ? cm->cfg.nodes(cm->cfg.nodes_arg) : NULL;
}

struct tk_guards *
tk_circmgr_guards(tk_circmgr *cm)
{
	return cm->guards;
}

struct tk_cbt *
tk_circmgr_cbt(tk_circmgr *cm)
{
	return cm->cbt;
}

static void do_free(tk_circmgr *cm);

static void
kick_cb(uv_timer_t *t)
{
	tk_circmgr *cm = t->data;
	cm->in_kick = 1;
	/* Items queued while running run in this pass too. */
	while (cm->dq && !cm->freeing && !cm->free_pending) {
		struct tk_defer *d = cm->dq;
		cm->dq = d->next;
		if (!cm->dq)
			cm->dq_tail = NULL;
		d->next = NULL;
		d->queued = 0;
		d->fn(d);
	}
	cm->in_kick = 0;
	if (cm->free_pending)
		do_free(cm);
}

int
tk_circmgr_dying(const tk_circmgr *cm)
{
	return cm->freeing || cm->free_pending;
}

void
tk_circmgr_defer(tk_circmgr *cm, struct tk_defer *d)
{
	if (d->queued || cm->freeing || cm->free_pending)
		return;
	d->queued = 1;
	d->next = NULL;
	if (cm->dq_tail)
		cm->dq_tail->next = d;
	else
		cm->dq = d;
	cm->dq_tail = d;
	if (!uv_is_active((uv_handle_t *)&cm->kick))
		uv_timer_start(&cm->kick, kick_cb, 0, 0);
}

void
tk_circmgr_undefer(tk_circmgr *cm, struct tk_defer *d)
{
	struct tk_defer **pp, *prev = NULL;
	if (!d->queued)
		return;
	for (pp = &cm->dq; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			if (cm->dq_tail == d)
				cm->dq_tail = prev;
			break;
		}
	}
	d->queued = 0;
	d->next = NULL;
}

static void
kick_requests(tk_circmgr *cm)
{
	tk_circmgr_defer(cm, &cm->svc);
}

/* --------------------------------------------------------- bad relays */

static void
mark_bad(tk_circmgr *cm, const uint8_t id[20])
{
	size_t i;
	for (i = 0; i < cm->n_bad; i++)
		if (memcmp(cm->bad[i].id, id, 20) == 0)
			break;
	if (i == cm->n_bad) {
		if (cm->n_bad == MAX_BAD)
			i = 0; /* forget the oldest slot */
		else
			cm->n_bad++;
	}
	memcpy(cm->bad[i].id, id, 20);
	cm->bad[i].until = uv_now(cm->loop) + BAD_RELAY_MS;
}

static void
expire_bad(tk_circmgr *cm, uint64_t now)
{
	for (size_t i = 0; i < cm->n_bad;) {
		if (cm->bad[i].until <= now)
			cm->bad[i] = cm->bad[--cm->n_bad];
		else
			i++;
	}
}

static void oc_fail(struct tk_ocirc *oc, const char *why);
static void adopted_cb(struct tk_defer *d);

/* ----------------------------------------------------------- circuits */

static struct oc_full *
full(struct tk_ocirc *oc)
{
	return (struct oc_full *)oc;
}

/* A private circuit's owner hears of it; every event but BUILT is the
 * last one it gets. */
static void
owner_event(struct tk_ocirc *oc, int ev, const char *why)
{
	void (*fn)(void *, tk_ocirc *, int, const char *) = oc->owner_ev;
	if (!fn || oc->cm->freeing)
		return;
	if (ev != TK_OCIRC_EV_BUILT)
		oc->owner_ev = NULL;
	fn(oc->owner_arg, oc, ev, why);
}

static void
oc_teardown(struct tk_ocirc *oc)
{
	tk_circmgr *cm = oc->cm;
	struct tk_ocirc_slot *s, *n;

	tk_circmgr_undefer(cm, &full(oc)->teardown);
	tk_circmgr_undefer(cm, &full(oc)->adopted);
	if (oc->tbl && oc->state == TK_OCIRC_OPEN) {
		/* Closed by us while streams were on it (retired, freed):
		 * they learn it like a DESTROY. */
		oc->state = TK_OCIRC_DEAD;
		if (!cm->freeing)
			tk_ostream_table_fail_all(oc->tbl,
						  TK_RELAY_END_DESTROY);
	}
	oc->state = TK_OCIRC_DEAD;
	cm->tp->close(oc);
	if (oc->tbl) {
		tk_ostream_table_free(oc->tbl);
		oc->tbl = NULL;
	}
	for (s = oc->slots; s; s = n) {
		n = s->next;
		free(s);
	}
	oc->slots = NULL;
	if (oc->prev)
		oc->prev->next = oc->next;
	else
		cm->circs = oc->next;
	if (oc->next)
		oc->next->prev = oc->prev;
	for (struct tk_circreq *r = cm->reqs; r; r = r->next)
		if (r->waiting_on == oc)
			r->waiting_on = NULL;
	owner_event(oc, TK_OCIRC_EV_GONE, "closed");
	tk_policy_summary_free(&oc->exit_p);
	tk_policy_summary_free(&oc->exit_p6);
	free(oc->iso);
	free(full(oc));
}

static void
teardown_cb(struct tk_defer *d)
{
	struct oc_full *f = container_of(d, struct oc_full, teardown);
	oc_teardown(&f->oc);
}

/* Queues the teardown: callers are often inside the circuit's callbacks. */
static void
oc_close_later(struct tk_ocirc *oc)
{
	if (oc->closed)
		return;
	oc->closed = 1;
	tk_circmgr_defer(oc->cm, &full(oc)->teardown);
}

static void
preempt_failed(tk_circmgr *cm)
{
	uint64_t d = PREEMPT_BACKOFF_MIN_MS;
	for (unsigned i = 0;
	     i < cm->preempt_fails && d < PREEMPT_BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > PREEMPT_BACKOFF_MAX_MS)
		d = PREEMPT_BACKOFF_MAX_MS;
	cm->preempt_fails++;
	cm->preempt_ok_at = uv_now(cm->loop) + d;
}

static void
oc_fail(struct tk_ocirc *oc, const char *why)
{
	tk_circmgr *cm = oc->cm;
	if (oc->state != TK_OCIRC_BUILDING)
		return;
	oc->state = TK_OCIRC_DEAD;
	cm->st.failed++;
	if (full(oc)->preemptive)
		preempt_failed(cm);
	cm_log(cm, TK_LOG_NOTICE,
	       "circ %u (%s~%s~%s) failed after %d hop%s: %s", oc->serial,
	       oc->nick[0], oc->nick[1], oc->nick[2], oc->n_hops,
	       oc->n_hops == 1 ? "" : "s", why);
	for (struct tk_circreq *r = cm->reqs; r; r = r->next)
		if (r->waiting_on == oc) {
			r->waiting_on = NULL;
			r->builds_failed++;
		}
	oc_close_later(oc);
	kick_requests(cm);
	owner_event(oc, TK_OCIRC_EV_FAILED, why);
}

/* The circuit died after it was built, or the exit broke the stream
 * protocol: its streams fail with DESTROY (C tor's reason). */
static void
oc_kill(struct tk_ocirc *oc, const char *why)
{
	tk_circmgr *cm = oc->cm;
	if (oc->state != TK_OCIRC_OPEN)
		return;
	oc->state = TK_OCIRC_DEAD;
	cm->st.lost++;
	cm_log(cm, TK_LOG_NOTICE, "circ %u (%s~%s~%s) closed: %s", oc->serial,
	       oc->nick[0], oc->nick[1], oc->nick[2], why);
	if (oc->tbl)
		tk_ostream_table_fail_all(oc->tbl, TK_RELAY_END_DESTROY);
	oc_close_later(oc);
	kick_requests(cm);
	owner_event(oc, TK_OCIRC_EV_LOST, why);
}

static void
oc_lost(struct tk_ocirc *oc, const char *why)
{
	oc_kill(oc, why);
}

/* ---- the stream table's circuit side */

static int
t_send(void *ud, uint8_t cmd, uint16_t sid, const uint8_t *body, size_t len)
{
	struct tk_ocirc *oc = ud;
	if (oc->state != TK_OCIRC_OPEN)
		return -1;
	return oc->cm->tp->send(oc, cmd, sid, body, len);
}

static int
t_can_package(void *ud)
{
	struct tk_ocirc *oc = ud;
	return oc->state == TK_OCIRC_OPEN && oc->cm->tp->can_package(oc);
}

static void
t_released(void *ud, uint16_t sid)
{
	struct tk_ocirc *oc = ud;
	struct tk_ocirc_slot **pp, *s;
	for (pp = &oc->slots; (s = *pp); pp = &s->next)
		if (s->sid == sid) {
			*pp = s->next;
			if (s->reg) /* the transport still knows it */
				oc->cm->tp->stream_remove(oc, sid);
			free(s);
			return;
		}
}

static void
slot_cb(void *arg, int status, int hop, uint8_t cmd, const uint8_t *data,
	size_t len)
{
	struct tk_ocirc_slot *s = arg;
	struct tk_ocirc *oc = s->oc;
	if (status < 0) {
		s->reg = 0; /* the circuit is going; its lost_cb follows */
		return;
	}
	if (hop != oc->n_hops - 1 || !oc->tbl)
		return; /* only the exit speaks for streams */
	if (tk_ostream_table_deliver(oc->tbl, cmd, s->sid, data, len) ==
	    TK_OSTREAM_EPROTO)
		oc_kill(oc, "the exit broke the stream protocol");
}

static void
oc_writable(struct tk_ocirc *oc)
{
	if (oc->tbl && oc->state == TK_OCIRC_OPEN)
		tk_ostream_table_circ_writable(oc->tbl);
}

int
tk_ocirc_stream_id(struct tk_ocirc *oc, uint16_t *sid)
{
	struct tk_ocirc_slot *s;
	int rc;
	if (oc->state != TK_OCIRC_OPEN)
		return -1;
	s = calloc(1, sizeof *s);
	if (!s)
		return -1;
	s->oc = oc;
	rc = oc->cm->tp->stream_add(oc, slot_cb, s, &s->sid);
	if (rc != 0) {
		free(s);
		return -1;
	}
	s->reg = 1;
	s->next = oc->slots;
	oc->slots = s;
	*sid = s->sid;
	return 0;
}

void
tk_ocirc_stream_id_drop(struct tk_ocirc *oc, uint16_t sid)
{
	t_released(oc, sid);
}

void
tk_ocirc_attached(struct tk_ocirc *oc)
{
	if (!oc->dirty_since)
		oc->dirty_since = uv_now(oc->cm->loop);
	/* A clean circuit was taken: keep one ready for the next. */
	kick_requests(oc->cm);
}

void
tk_ocirc_retire(struct tk_ocirc *oc)
{
	oc->unusable = 1;
}

uint32_t
tk_ocirc_serial(const struct tk_ocirc *oc)
{
	return oc->serial;
}

const uint8_t *
tk_ocirc_exit_id(const struct tk_ocirc *oc)
{
	return oc->hop[2].rsa_id;
}

const struct tk_policy_summary *
tk_ocirc_exit_p6(const struct tk_ocirc *oc)
{
	return &oc->exit_p6;
}

tk_ostream_table *
tk_ocirc_streams(struct tk_ocirc *oc)
{
	return oc->tbl;
}

static void
oc_opened(struct tk_ocirc *oc)
{
	tk_circmgr *cm = oc->cm;
	double ms;

	oc->tbl = tk_ostream_table_new(&cm->table_ops, oc);
	if (!oc->tbl) {
		oc_fail(oc, "out of memory");
		return;
	}
	const tk_circ_flow *xf = cm->tp->exit_flow ? cm->tp->exit_flow(oc)
						   : NULL;
	if (xf && xf->has_cc)
		tk_ostream_table_set_cc(oc->tbl, &oc->hop[2].params);
	oc->state = TK_OCIRC_OPEN;
	oc->built_at = uv_now(cm->loop);
	cm->preempt_fails = 0;
	cm->preempt_ok_at = 0;
	ms = (double)(oc->built_at - oc->started);
	cm->st.built++;
	cm->st.last_build_ms = ms;
	cm->st.total_build_ms += ms;
	tk_cbt_built(cm->cbt, (uint32_t)ms);
	tk_guards_confirmed(cm->guards, oc->hop[0].rsa_id, wall_s(cm));
	for (struct tk_circreq *r = cm->reqs; r; r = r->next)
		if (r->waiting_on == oc)
			r->waiting_on = NULL; /* service() attaches them */
	cm_log(cm, TK_LOG_INFO, "circ %u built: %s~%s~%s in %.0f ms",
	       oc->serial, oc->nick[0], oc->nick[1], oc->nick[2], ms);
	if (xf && xf->has_cc)
		cm_log(cm, TK_LOG_INFO,
		       "circ %u: congestion control with exit %s: Vegas, "
		       "sendme_inc %d, cwnd %lu",
		       oc->serial, oc->nick[2], xf->inc,
		       (unsigned long)xf->cc.cwnd);
	else if (oc->cc_enabled && oc->supports_cc[2])
		cm_log(cm, TK_LOG_INFO,
		       "circ %u: exit %s did not accept congestion control: "
		       "fixed windows",
		       oc->serial, oc->nick[2]);
	kick_requests(cm);
	owner_event(oc, TK_OCIRC_EV_BUILT, NULL);
}

static void
oc_first_hop_ok(struct tk_ocirc *oc)
{
	oc->n_hops = 1;
	tk_guards_succeeded(oc->cm->guards, oc->hop[0].rsa_id, wall_s(oc->cm));
}

static void
oc_build_done(struct tk_ocirc *oc, int status, int failed_hop, const char *why)
{
	if (oc->state != TK_OCIRC_BUILDING)
		return;
	if (status == 0) {
		oc->n_hops = 3;
		oc_opened(oc);
		return;
	}
	if (failed_hop == 0)
		tk_guards_failed(oc->cm->guards, oc->hop[0].rsa_id,
				 wall_s(oc->cm));
	else if (failed_hop > 0 && failed_hop < 3)
		mark_bad(oc->cm, oc->hop[failed_hop].rsa_id);
	oc_fail(oc, why ? why : "build failed");
}

static int32_t
cons_param(void *arg, const char *name, int32_t dflt, int32_t min, int32_t max)
{
	return tk_consensus_param(arg, name, dflt, min, max);
}

/* What the consensus says about a hop's flow control: the parameters,
 * and whether the relay can do congestion control (tor's
 * supports_congestion_control: FlowCtrl=2 and ntor v3, Relay=4). */
static void
hop_flow_facts(const struct tk_nodes *t, const struct tk_path_node *n,
	       tk_circuit_hop_target *h, uint8_t *supports_cc)
{
	tk_cc_params_load(&h->params, cons_param, (void *)t->c);
	*supports_cc = tk_protoset_has(n->rt->protos, TK_PROTO_FLOWCTRL, 2) &&
		       tk_protoset_has(n->rt->protos, TK_PROTO_RELAY, 4);
}

static void
hop_from_node(const struct tk_path_node *n, tk_circuit_hop_target *h,
	      char nick[20])
{
	tk_hop_from_node(n, h);
	snprintf(nick, 20, "%s", n->rt->nickname);
}

/* The first hop is the one relay we connect to ourselves: its ORPort is
 * the one ClientUseIPv4/6 and ClientPreferIPv6ORPort choose (the guard
 * filter made sure there is one). Later hops keep the IPv4 ORPort that
 * hop_from_node gave them: tor's client names only that in EXTEND2. */
static void
first_hop_addr(const tk_circmgr *cm, const struct tk_path_node *n,
	       tk_circuit_hop_target *h)
{
	struct sockaddr_storage ss;
	if (tk_reach_node_orport(&cm->cfg.reach, n->rt, n->md, &ss) != 0)
		h->addr = ss;
}

static int
copy_summary(struct tk_policy_summary *dst, const struct tk_policy_summary *src)
{
	tk_policy_summary_init(dst);
	tk_policy_summary_share(dst, src);
	return 0;
}

/* LongLivedPorts: streams expected to stay open long want a circuit of
 * Stable relays only (path-spec 2.2). */
static int
long_lived(const tk_circmgr *cm, uint16_t port)
{
	for (size_t i = 0; i < cm->cfg.n_long_lived_ports; i++)
		if (cm->cfg.long_lived_ports[i] == port)
			return 1;
	return 0;
}

static long
node_by_id(const struct tk_nodes *t, const uint8_t id[20])
{
	for (size_t i = 0; i < t->n; i++)
		if (memcmp(t->node[i].rt->rsa_id, id, 20) == 0)
			return (long)i;
	return -1;
}

enum {
	LAUNCH_OK = 0,
	LAUNCH_NODIR = -1,
	LAUNCH_NOEXIT = -2,
	LAUNCH_NOPATH = -3
};

/* Picks guard, exit (allowing port, not excluded), middle, and starts the
 * build. want_guard: that guard or nothing (guard_stalled). */
static int
launch(tk_circmgr *cm, uint16_t port, const struct tk_circreq *r,
       const uint8_t *want_guard, struct tk_ocirc **out)
{
	const struct tk_nodes *t =
		cm->cfg.nodes ? cm->cfg.nodes(cm->cfg.nodes_arg) : NULL;
	struct tk_path_opts po;
	struct tk_path_weights w;
	struct tk_path_rng rng = { cm->cfg.random, cm->cfg.env_arg };
	size_t avoid[TK_CIRCREQ_MAX_EXCLUDED + 4 + MAX_BAD], n_strict = 0,
							     n_avoid;
	long g, x, m, wg = -1;
	char err[200];
	struct oc_full *f;
	struct tk_ocirc *oc;

	*out = NULL;
	if (!t || !t->n)
		return LAUNCH_NODIR;
	tk_path_opts_init(&po);
	po.enforce_distinct_subnets = cm->cfg.enforce_distinct_subnets;
	po.reach = cm->cfg.reach;
	po.exit_port = port;
	po.need_stable = long_lived(cm, port);
	tk_path_weights_init(&w, t->c);
	follow_consensus(cm, t->c);
	if (want_guard && (wg = node_by_id(t, want_guard)) < 0)
		return LAUNCH_NOPATH;

	/* The exit first, then a guard that may share its path (tor's
	 * order): a guard picked first would rule out an exit that is also
	 * our guard, and a request whose other exits refused could find
	 * none. Up to 4 exits, in case one conflicts with every guard. */
	for (size_t i = 0; r && i < r->n_excluded; i++) {
		long k = node_by_id(t, r->excluded[i]);
		if (k >= 0)
			avoid[n_strict++] = (size_t)k;
	}
	if (wg >= 0)
		avoid[n_strict++] = (size_t)wg; /* not as the exit */
	for (int tries = 0;; tries++) {
		n_avoid = n_strict;
		for (size_t i = 0; i < cm->n_bad; i++) {
			long k = node_by_id(t, cm->bad[i].id);
			if (k >= 0)
				avoid[n_avoid++] = (size_t)k;
		}
		x = tk_path_pick(t->node, t->n, TK_PATH_EXIT, &w, &po, avoid,
				 n_avoid, &rng);
		if (x < 0 && n_avoid > n_strict)
			x = tk_path_pick(t->node, t->n, TK_PATH_EXIT, &w, &po,
					 avoid, n_strict, &rng);
		if (x < 0)
			return LAUNCH_NOEXIT;
		/* A stalled guard carries our circuits already: it serves
		 * if usable, whichever primary guard a pick would give. */
		if (wg >= 0)
			g = tk_guards_usable(cm->guards, t, &po, wall_s(cm),
					     want_guard, x)
				    ? wg
				    : -1;
		else
			g = tk_guards_pick_beside(cm->guards, t, &po, &rng,
						  wall_s(cm), x, err,
						  sizeof err);
		if (g < 0 && wg >= 0)
			snprintf(err, sizeof err,
				 "guard %s is not usable beside any exit "
				 "tried",
				 t->node[wg].rt->nickname);
		else if (g >= 0)
			break;
		if (tries == 3) {
			cm_log(cm, want_guard ? TK_LOG_INFO : TK_LOG_WARN,
			       "cannot build a circuit: %s", err);
			return LAUNCH_NOPATH;
		}
		avoid[n_strict++] = (size_t)x;
	}
	/* The middle avoids guard, exit and recently failed relays. */
	avoid[0] = (size_t)g;
	avoid[1] = (size_t)x;
	n_avoid = 2;
	for (size_t i = 0; i < cm->n_bad; i++) {
		long k = node_by_id(t, cm->bad[i].id);
		if (k >= 0)
			avoid[n_avoid++] = (size_t)k;
	}
	m = tk_path_pick(t->node, t->n, TK_PATH_MIDDLE, &w, &po, avoid, n_avoid,
			 &rng);
	if (m < 0)
		m = tk_path_pick(t->node, t->n, TK_PATH_MIDDLE, &w, &po, avoid,
				 2, &rng);
	if (m < 0) {
		cm_log(cm, TK_LOG_WARN,
		       "cannot build a circuit: no middle relay "
		       "fits beside guard %s and exit %s",
		       t->node[g].rt->nickname, t->node[x].rt->nickname);
		return LAUNCH_NOPATH;
	}

	f = calloc(1, sizeof *f);
	if (!f)
		return LAUNCH_NOPATH;
	oc = &f->oc;
	f->teardown.fn = teardown_cb;
	f->adopted.fn = adopted_cb;
	oc->cm = cm;
	oc->serial = ++cm->serial;
	oc->state = TK_OCIRC_BUILDING;
	hop_from_node(&t->node[g], &oc->hop[0], oc->nick[0]);
	first_hop_addr(cm, &t->node[g], &oc->hop[0]);
	hop_from_node(&t->node[m], &oc->hop[1], oc->nick[1]);
	hop_from_node(&t->node[x], &oc->hop[2], oc->nick[2]);
	for (int i = 0; i < 3; i++)
		hop_flow_facts(t,
			       &t->node[i == 0	 ? g
					: i == 1 ? m
						 : x],
			       &oc->hop[i], &oc->supports_cc[i]);
	oc->cc_enabled = cm->cfg.congestion_control > 0 ||
			 (cm->cfg.congestion_control < 0 &&
			  oc->hop[2].params.cc_alg != 0);
	oc->stable = (t->node[g].rt->flags & t->node[m].rt->flags &
		      t->node[x].rt->flags & TK_RF_STABLE) != 0;
	if (copy_summary(&oc->exit_p, &t->node[x].md->p) != 0) {
		free(f);
		return LAUNCH_NOPATH;
	}
	if (copy_summary(&oc->exit_p6, &t->node[x].md->p6) != 0) {
		tk_policy_summary_free(&oc->exit_p);
		free(f);
		return LAUNCH_NOPATH;
	}
	oc->started = uv_now(cm->loop);
	oc->deadline = oc->started + build_timeout_ms(cm);
	oc->next = cm->circs;
	if (cm->circs)
		cm->circs->prev = oc;
	cm->circs = oc;
	cm->st.launched++;
	cm_log(cm, TK_LOG_INFO, "circ %u: building %s~%s~%s (exit port %u)",
	       oc->serial, oc->nick[0], oc->nick[1], oc->nick[2], port);

	if (cm->tp->build(cm->tp_state, oc) != 0)
		oc_fail(oc, "cannot start the build");
	*out = oc;
	return LAUNCH_OK;
}

/* ------------------------------------------- circuits to a chosen hop */

int
tk_circmgr_build_to(tk_circmgr *cm, const tk_circuit_hop_target *last,
		    const char *nick,
		    void (*ev)(void *arg, tk_ocirc *oc, int event,
			       const char *why),
		    void *arg, tk_ocirc **out, char *err, size_t errlen)
{
	const struct tk_nodes *t =
		cm->cfg.nodes ? cm->cfg.nodes(cm->cfg.nodes_arg) : NULL;
	struct tk_path_opts po;
	struct tk_path_weights w;
	struct tk_path_rng rng = { cm->cfg.random, cm->cfg.env_arg };
	size_t avoid[2 + MAX_BAD], n_avoid = 0;
	long g, m, x;
	struct oc_full *f;
	struct tk_ocirc *oc;
	tk_circuit_hop_target any;
	char any_nick[20];
	int internal = !last;

	*out = NULL;
	if (!t || !t->n) {
		snprintf(err, errlen, "no usable directory");
		return -1;
	}
	tk_path_opts_init(&po);
	po.enforce_distinct_subnets = cm->cfg.enforce_distinct_subnets;
	po.reach = cm->cfg.reach;
	tk_path_weights_init(&w, t->c);
	if (!last) {
		/* An internal circuit: its last hop is picked as a middle
		 * is (it may serve as a rendezvous point, or be extended
		 * to the relay an onion service names). */
		for (size_t i = 0; i < cm->n_bad; i++) {
			long k = node_by_id(t, cm->bad[i].id);
			if (k >= 0)
				avoid[n_avoid++] = (size_t)k;
		}
		x = tk_path_pick(t->node, t->n, TK_PATH_MIDDLE, &w, &po, avoid,
				 n_avoid, &rng);
		if (x < 0)
			x = tk_path_pick(t->node, t->n, TK_PATH_MIDDLE, &w, &po,
					 NULL, 0, &rng);
		if (x < 0) {
			snprintf(err, errlen, "no relay for the last hop");
			return -1;
		}
		n_avoid = 0;
		hop_from_node(&t->node[x], &any, any_nick);
		last = &any;
		nick = any_nick;
	}
	/* The last hop may be a relay of the consensus (HSDir, rendezvous
	 * point) or not (an introduction point we only know from a
	 * descriptor): avoid it as guard and middle when we know it. */
	x = node_by_id(t, last->rsa_id);
	g = tk_guards_pick_beside(cm->guards, t, &po, &rng, wall_s(cm), x, err,
				  errlen);
	if (g < 0)
		return -1;
	avoid[n_avoid++] = (size_t)g;
	if (x >= 0)
		avoid[n_avoid++] = (size_t)x;
	for (size_t i = 0; i < cm->n_bad; i++) {
		long k = node_by_id(t, cm->bad[i].id);
		if (k >= 0)
			avoid[n_avoid++] = (size_t)k;
	}
	m = tk_path_pick(t->node, t->n, TK_PATH_MIDDLE, &w, &po, avoid, n_avoid,
			 &rng);
	if (m < 0)
		m = tk_path_pick(t->node, t->n, TK_PATH_MIDDLE, &w, &po, avoid,
				 x >= 0 ? 2 : 1, &rng);
	if (m < 0) {
		snprintf(err, errlen, "no middle relay fits beside guard %s",
			 t->node[g].rt->nickname);
		return -1;
	}
	f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	oc = &f->oc;
	f->teardown.fn = teardown_cb;
	f->adopted.fn = adopted_cb;
	oc->cm = cm;
	oc->serial = ++cm->serial;
	oc->state = TK_OCIRC_BUILDING;
	oc->private_use = 1;
	hop_from_node(&t->node[g], &oc->hop[0], oc->nick[0]);
	first_hop_addr(cm, &t->node[g], &oc->hop[0]);
	hop_from_node(&t->node[m], &oc->hop[1], oc->nick[1]);
	oc->hop[2] = *last;
	snprintf(oc->nick[2], sizeof oc->nick[2], "%s", nick ? nick : "?");
	tk_policy_summary_init(&oc->exit_p); /* rejects every port */
	tk_policy_summary_init(&oc->exit_p6);
	oc->started = uv_now(cm->loop);
	oc->deadline = oc->started + build_timeout_ms(cm);
	oc->next = cm->circs;
	if (cm->circs)
		cm->circs->prev = oc;
	cm->circs = oc;
	cm->st.launched++;
	cm_log(cm, TK_LOG_INFO, "circ %u: building %s~%s~%s (%s)", oc->serial,
	       oc->nick[0], oc->nick[1], oc->nick[2],
	       internal ? "internal" : "onion service");
	if (cm->tp->build(cm->tp_state, oc) != 0) {
		snprintf(err, errlen, "cannot start the build");
		oc_fail(oc, "cannot start the build");
		return -1;
	}
	oc->owner_ev = ev;
	oc->owner_arg = arg;
	*out = oc;
	return 0;
}

static void
adopted_cb(struct tk_defer *d)
{
	struct oc_full *f = container_of(d, struct oc_full, adopted);
	if (f->oc.state == TK_OCIRC_OPEN && !f->oc.closed)
		owner_event(&f->oc, TK_OCIRC_EV_BUILT, NULL);
}

int
tk_ocirc_adopt(tk_ocirc *oc, const tk_circuit_hop_target *last,
	       const char *nick,
	       void (*ev)(void *arg, tk_ocirc *oc, int event, const char *why),
	       void *arg)
{
	tk_circmgr *cm = oc->cm;
	int h = oc->n_hops;

	if (oc->state != TK_OCIRC_OPEN || oc->closed || oc->unusable ||
	    !oc->private_use || tk_circmgr_dying(cm))
		return -1;
	if (!last) {
		oc->owner_ev = ev;
		oc->owner_arg = arg;
		tk_circmgr_defer(cm, &full(oc)->adopted);
		cm_log(cm, TK_LOG_INFO, "circ %u: taken as it is (%s~%s~%s)",
		       oc->serial, oc->nick[0], oc->nick[1], oc->nick[h - 1]);
		return 0;
	}
	if (h >= TK_OCIRC_MAX_HOPS || !cm->tp->extend)
		return -1;
	oc->hop[h] = *last;
	oc->supports_cc[h] = 0;
	snprintf(oc->nick[h], sizeof oc->nick[h], "%s", nick ? nick : "?");
	oc->started = uv_now(cm->loop);
	oc->deadline = oc->started + build_timeout_ms(cm);
	if (cm->tp->extend(oc) != 0)
		return -1; /* nothing was sent: oc is as it was */
	oc->state = TK_OCIRC_BUILDING;
	full(oc)->extending = 1;
	oc->owner_ev = ev;
	oc->owner_arg = arg;
	cm_log(cm, TK_LOG_INFO, "circ %u: extending %s~%s~%s to %s", oc->serial,
	       oc->nick[0], oc->nick[1], oc->nick[2], oc->nick[h]);
	return 0;
}

/* The adopted circuit's new hop is in, or it failed (oc_fail: the
 * owner hears FAILED). Its time is not a build time: cbt.h never sees
 * it. */
static void
oc_extended(struct tk_ocirc *oc, int status, const char *why)
{
	tk_circmgr *cm = oc->cm;
	if (oc->state != TK_OCIRC_BUILDING || !full(oc)->extending)
		return;
	full(oc)->extending = 0;
	if (status != 0) {
		oc_fail(oc, why ? why : "extension failed");
		return;
	}
	oc->n_hops++;
	oc->state = TK_OCIRC_OPEN;
	cm_log(cm, TK_LOG_INFO, "circ %u extended to %s in %.0f ms", oc->serial,
	       oc->nick[oc->n_hops - 1],
	       (double)(uv_now(cm->loop) - oc->started));
	owner_event(oc, TK_OCIRC_EV_BUILT, NULL);
}

int
tk_circmgr_distinct_subnets(const tk_circmgr *cm)
{
	return cm->cfg.enforce_distinct_subnets;
}

tk_circuit *
tk_ocirc_circuit(tk_ocirc *oc)
{
	if (oc->state != TK_OCIRC_OPEN || !oc->cm->tp->circuit)
		return NULL;
	return oc->cm->tp->circuit(oc);
}

void
tk_ocirc_close(tk_ocirc *oc)
{
	oc->owner_ev = NULL;
	if (tk_circmgr_dying(oc->cm))
		return; /* the manager tears every circuit down itself */
	if (oc->state == TK_OCIRC_OPEN && oc->tbl)
		tk_ostream_table_fail_all(oc->tbl, TK_RELAY_END_DESTROY);
	if (oc->state != TK_OCIRC_DEAD) {
		oc->state = TK_OCIRC_DEAD;
		kick_requests(oc->cm);
	}
	oc_close_later(oc);
}

void
tk_ocirc_joined(tk_ocirc *oc, const struct tk_cc_params *cc)
{
	oc->n_hops++; /* streams now speak from the virtual hop */
	if (cc && oc->tbl)
		tk_ostream_table_set_cc(oc->tbl, cc);
}

/* ----------------------------------------------------------- requests */

static int
excluded(const struct tk_circreq *r, const struct tk_ocirc *oc)
{
	for (size_t i = 0; i < r->n_excluded; i++)
		if (memcmp(r->excluded[i], oc->hop[2].rsa_id, 20) == 0)
			return 1;
	return 0;
}

static int
iso_ok(const struct tk_ocirc *oc, const struct tk_circreq *r)
{
	if (!oc->has_iso)
		return 1;
	return oc->iso_len == r->iso_len &&
	       (r->iso_len == 0 || memcmp(oc->iso, r->iso, r->iso_len) == 0);
}

static int
fits(const struct tk_ocirc *oc, const struct tk_circreq *r, uint64_t now)
{
	const tk_circmgr *cm = oc->cm;
	if (oc->closed || oc->unusable || oc->private_use ||
	    oc->state == TK_OCIRC_DEAD)
		return 0;
	if (oc->dirty_since &&
	    now - oc->dirty_since >= (uint64_t)cm->cfg.max_dirtiness_s * 1000)
		return 0;
	if (r->port && !tk_policy_summary_allows(&oc->exit_p, r->port))
		return 0;
	if (long_lived(cm, r->port) && !oc->stable)
		return 0;
	return iso_ok(oc, r) && !excluded(r, oc);
}

static void
claim(struct tk_ocirc *oc, const struct tk_circreq *r)
{
	if (oc->has_iso)
		return;
	if (r->iso_len) {
		oc->iso = malloc(r->iso_len);
		if (!oc->iso) {
			oc->unusable = 1; /* cannot record it: share nothing */
			return;
		}
		memcpy(oc->iso, r->iso, r->iso_len);
	}
	oc->iso_len = r->iso_len;
	oc->has_iso = 1;
}

static void
dequeue(tk_circmgr *cm, struct tk_circreq *r)
{
	if (!r->queued)
		return;
	if (r->prev)
		r->prev->next = r->next;
	else
		cm->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		cm->reqs_tail = r->prev;
	r->next = r->prev = NULL;
	r->queued = 0;
	r->waiting_on = NULL;
}

void
tk_circmgr_request(tk_circmgr *cm, struct tk_circreq *r)
{
	r->cm = cm;
	tk_portpred_note(&cm->pred, r->port, uv_now(cm->loop));
	if (r->queued)
		return;
	r->queued = 1;
	r->waiting_on = NULL;
	r->next = NULL;
	r->prev = cm->reqs_tail;
	if (cm->reqs_tail)
		cm->reqs_tail->next = r;
	else
		cm->reqs = r;
	cm->reqs_tail = r;
	kick_requests(cm);
}

void
tk_circmgr_request_cancel(struct tk_circreq *r)
{
	if (r->cm)
		dequeue(r->cm, r);
}

static unsigned
count_building(const tk_circmgr *cm)
{
	unsigned n = 0;
	for (struct tk_ocirc *oc = cm->circs; oc; oc = oc->next)
		if (oc->state == TK_OCIRC_BUILDING)
			n++;
	return n;
}

static struct tk_ocirc *
find_circ(tk_circmgr *cm, const struct tk_circreq *r, enum tk_ocirc_state want,
	  uint64_t now)
{
	struct tk_ocirc *clean = NULL;
	for (struct tk_ocirc *oc = cm->circs; oc; oc = oc->next) {
		if (oc->state != want || !fits(oc, r, now))
			continue;
		if (oc->has_iso)
			return oc; /* already serving this key */
		if (!clean)
			clean = oc;
	}
	return clean;
}

/* Launches clean circuits for port until `clean` of them fit it. 0, or
 * -1 when nothing more should be launched now. */
static int
preempt_port(tk_circmgr *cm, uint16_t port, unsigned *total, uint64_t now)
{
	unsigned clean = 0;
	struct tk_circreq probe;
	struct tk_ocirc *oc;

	memset(&probe, 0, sizeof probe);
	probe.port = port;
	for (oc = cm->circs; oc; oc = oc->next)
		if (!oc->has_iso && !oc->dirty_since && fits(oc, &probe, now))
			clean++;
	while (clean < cm->cfg.preemptive && *total < MAX_CLEAN &&
	       count_building(cm) < cm->cfg.max_pending_builds) {
		int rc = launch(cm, port, NULL, NULL, &oc);
		if (rc == LAUNCH_OK)
			full(oc)->preemptive = 1;
		if (rc == LAUNCH_OK && oc->state != TK_OCIRC_BUILDING) {
			/* failed at once, before it was marked */
			preempt_failed(cm);
			return -1;
		}
		if (rc == LAUNCH_NODIR)
			return -1;
		if (rc != LAUNCH_OK) {
			if (!cm->warned_nopath) {
				cm->warned_nopath = 1;
				cm_log(cm, TK_LOG_WARN,
				       "no preemptive circuit: "
				       "no path for port %u",
				       port);
			}
			return 0; /* the other ports may have one */
		}
		cm->warned_nopath = 0;
		clean++;
		(*total)++;
	}
	return 0;
}

/* Clean circuits kept ready (path-spec 2.1.1): `preemptive` of them for
 * preemptive_port, and as many for each port requested within the hour
 * (portpred.h), at most MAX_CLEAN in all. */
static void
keep_preemptive(tk_circmgr *cm)
{
	uint16_t ports[1 + TK_PORTPRED_MAX];
	size_t n_ports = 1;
	unsigned total = 0;
	uint64_t now = uv_now(cm->loop);

	if (!cm->cfg.preemptive || now < cm->preempt_ok_at)
		return; /* the tick comes back */
	ports[0] = cm->cfg.preemptive_port;
	n_ports += tk_portpred_list(&cm->pred, now, ports + 1, TK_PORTPRED_MAX);
	for (struct tk_ocirc *oc = cm->circs; oc; oc = oc->next)
		if (!oc->has_iso && !oc->dirty_since && !oc->private_use &&
		    !oc->closed && !oc->unusable && oc->state != TK_OCIRC_DEAD)
			total++;
	for (size_t i = 0; i < n_ports; i++) {
		if (i > 0 && ports[i] == ports[0])
			continue;
		if (preempt_port(cm, ports[i], &total, now) != 0)
			return;
	}
}

static void
service(struct tk_defer *d)
{
	tk_circmgr *cm = container_of(d, struct tk_circmgr, svc);
	uint64_t now = uv_now(cm->loop);
	struct tk_circreq *r;
	struct tk_ocirc *oc;

again:
	for (r = cm->reqs; r; r = r->next) {
		int rc;
		if (r->waiting_on)
			continue;
		if (r->builds_failed >= cm->cfg.build_attempts) {
			dequeue(cm, r);
			cm_log(cm, TK_LOG_NOTICE,
			       "giving up on a request after %u "
			       "failed circuit builds",
			       r->builds_failed);
			r->cb(r, TK_RELAY_END_MISC, NULL);
			goto again;
		}
		oc = find_circ(cm, r, TK_OCIRC_OPEN, now);
		if (oc) {
			dequeue(cm, r);
			claim(oc, r);
			r->cb(r, 0, oc);
			goto again;
		}
		oc = find_circ(cm, r, TK_OCIRC_BUILDING, now);
		if (oc) {
			claim(oc, r);
			r->waiting_on = oc;
			continue;
		}
		if (count_building(cm) >= cm->cfg.max_pending_builds)
			continue;
		rc = launch(cm, r->port, r, NULL, &oc);
		if (rc == LAUNCH_NODIR)
			continue; /* the tick polls the directory */
		if (rc == LAUNCH_NOEXIT) {
			dequeue(cm, r);
			cm_log(cm, TK_LOG_NOTICE, "no exit allows port %u%s",
			       r->port,
			       r->n_excluded ? " (besides those that "
					       "refused)"
					     : "");
			r->cb(r,
			      r->port ? TK_RELAY_END_EXITPOLICY
				      : TK_RELAY_END_RESOLVEFAILED,
			      NULL);
			goto again;
		}
		if (rc != LAUNCH_OK) {
			dequeue(cm, r);
			r->cb(r, TK_RELAY_END_MISC, NULL);
			goto again;
		}
		if (oc->state == TK_OCIRC_BUILDING) {
			claim(oc, r);
			r->waiting_on = oc;
		} else {
			r->builds_failed++; /* failed at once */
			goto again;
		}
	}
	keep_preemptive(cm);
}

/* ------------------------------------------------------ stalled guards */

/* A guard that lost a link to the next hop queues the DESTROYs of our
 * circuits over that link and may send none of them until a circuit
 * cell for us is queued too (channel.c says how the channel notices).
 * What tor's clients do anyway, build a circuit through their guard,
 * makes it send them: so build one, a clean circuit like the preemptive
 * ones, unless a build through that guard is about to send its CREATE2
 * anyway. At most preemptive + 2 clean circuits, so a guard that keeps
 * stalling costs no more. */
static void
flush_through(tk_circmgr *cm, const uint8_t id[20])
{
	unsigned clean = 0;
	struct tk_ocirc *oc;
	int rc;

	for (oc = cm->circs; oc; oc = oc->next) {
		if (oc->closed || oc->state == TK_OCIRC_DEAD)
			continue;
		if (oc->state == TK_OCIRC_BUILDING && oc->n_hops == 0 &&
		    memcmp(oc->hop[0].rsa_id, id, 20) == 0)
			return;
		if (!oc->has_iso && !oc->dirty_since && !oc->private_use)
			clean++;
	}
	if (clean >= cm->cfg.preemptive + 2 ||
	    count_building(cm) >= cm->cfg.max_pending_builds)
		return;
	rc = launch(cm, cm->cfg.preemptive_port, NULL, id, &oc);
	if (rc == LAUNCH_OK)
		cm_log(cm, TK_LOG_INFO,
		       "circ %u: through guard %s, which seems to hold cells "
		       "for us (DESTROYs of a lost link?)",
		       oc->serial, oc->nick[0]);
}

static void
stall_service(struct tk_defer *d)
{
	tk_circmgr *cm = container_of(d, struct tk_circmgr, stall_d);
	for (size_t i = 0; i < cm->n_stalled; i++)
		flush_through(cm, cm->stalled[i]);
	cm->n_stalled = 0;
}

static void
oc_guard_stalled(struct tk_ocirc *oc)
{
	tk_circmgr *cm = oc->cm;
	for (size_t i = 0; i < cm->n_stalled; i++)
		if (memcmp(cm->stalled[i], oc->hop[0].rsa_id, 20) == 0)
			return;
	if (cm->n_stalled == ARRAY_SIZE(cm->stalled))
		return;
	memcpy(cm->stalled[cm->n_stalled++], oc->hop[0].rsa_id, 20);
	tk_circmgr_defer(cm, &cm->stall_d);
}

/* --------------------------------------------------------------- tick */

static void
tick_cb(uv_timer_t *t)
{
	tk_circmgr *cm = t->data;
	uint64_t now = uv_now(cm->loop);
	struct tk_ocirc *oc, *next;
	uint64_t maxd = (uint64_t)cm->cfg.max_dirtiness_s * 1000;

	expire_bad(cm, now);
	for (oc = cm->circs; oc; oc = next) {
		next = oc->next;
		if (oc->state == TK_OCIRC_BUILDING && now >= oc->deadline) {
			/* Past the first hop, a timeout says how slow paths
			 * are; before it, only that the guard is away. */
			if (oc->n_hops >= 1 && !cm->cfg.build_timeout_ms &&
			    !full(oc)->extending)
				tk_cbt_timed_out(cm->cbt,
						 (uint32_t)(now - oc->started));
			oc_fail(oc, "build timed out");
			continue;
		}
		if (oc->state != TK_OCIRC_OPEN || oc->closed)
			continue;
		if (oc->dirty_since && now - oc->dirty_since >= maxd)
			oc->unusable = 1;
		/* Claimed by a key whose request went away before using it:
		 * nobody else may use it, so it goes too. */
		if (!oc->dirty_since && oc->has_iso &&
		    now - oc->built_at >= maxd)
			oc->unusable = 1;
		if (oc->unusable && tk_ostream_table_live(oc->tbl) == 0) {
			cm_log(cm, TK_LOG_INFO, "circ %u retired (%s)",
			       oc->serial,
			       oc->dirty_since && now - oc->dirty_since >= maxd
				       ? "dirty too long"
				       : "no new streams");
			oc_close_later(oc);
		}
	}
	if (now - cm->state_saved_at >= STATE_SAVE_MS)
		save_state(cm);
	if (cm->user.tick)
		cm->user.tick(cm->user.arg, now);
	kick_requests(cm);
}

/* --------------------------------------------------------- lifecycle */

static const struct tk_ocirc_events events = {
	.first_hop_ok = oc_first_hop_ok,
	.build_done = oc_build_done,
	.lost = oc_lost,
	.writable = oc_writable,
	.guard_stalled = oc_guard_stalled,
	.extended = oc_extended,
};

/* Until a user registers, nobody opens streams; closed() is the one
 * stream.h calls unconditionally. */
static void
no_closed(void *ud, tk_ostream *s, int remote, const tk_relay_end *end)
{
	(void)ud, (void)s, (void)remote, (void)end;
}

static const struct tk_circmgr_user no_user = { .closed = no_closed };

int
tk_circmgr_new(uv_loop_t *loop, const struct tk_circmgr_config *cfg,
	       tk_circmgr **out, char *err, size_t errlen)
{
	tk_circmgr *cm;
	char path[4096];

	*out = NULL;
	if (tk_crypto_init() != 0) {
		snprintf(err, errlen, "cannot initialise the random generator");
		return -1;
	}
	cm = calloc(1, sizeof *cm);
	if (!cm) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cm->loop = loop;
	cm->cfg = *cfg;
	if (cm->cfg.n_long_lived_ports > TK_CIRCMGR_MAX_LONG_LIVED)
		cm->cfg.n_long_lived_ports = TK_CIRCMGR_MAX_LONG_LIVED;
	if (!cm->cfg.random || !cm->cfg.wall_s) {
		cm->cfg.random = system_random;
		cm->cfg.wall_s = system_wall_s;
		cm->cfg.env_arg = NULL;
	}
	if (!cm->cfg.build_attempts)
		cm->cfg.build_attempts = 1;
	if (!cm->cfg.max_pending_builds)
		cm->cfg.max_pending_builds = 1;
	if (cfg->data_dir && cfg->data_dir[0]) {
		cm->data_dir = strdup(cfg->data_dir);
		if (!cm->data_dir ||
		    snprintf(path, sizeof path, "%s/state", cfg->data_dir) >=
			    (int)sizeof path) {
			free(cm->data_dir);
			free(cm);
			snprintf(err, errlen, "DataDirectory path too long");
			return -1;
		}
		cm->state_path = strdup(path);
	}
	cm->cfg.data_dir = cm->data_dir;
	cm->guards = tk_guards_new();
	cm->cbt = tk_cbt_new();
	cm->tp = cfg->transport ? cfg->transport : &tk_ocirc_chan_transport;
	if (cm->guards && cm->cbt && (!cm->data_dir || cm->state_path))
		cm->tp_state = cm->tp->create(loop, build_timeout_ms(cm),
					      &events);
	if (!cm->tp_state) {
		tk_guards_free(cm->guards);
		tk_cbt_free(cm->cbt);
		free(cm->state_path);
		free(cm->data_dir);
		free(cm);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (cm->state_path) {
		char why[200];
		int rc = tk_statefile_load(cm->state_path, cm->guards, cm->cbt,
					   cm->cfg.random, cm->cfg.env_arg, why,
					   sizeof why);
		if (rc != 0)
			cm_log(cm, TK_LOG_WARN, "state file %s: %s",
			       cm->state_path, why);
	}
	cm->state_saved_at = uv_now(loop);
	cm->svc.fn = service;
	cm->stall_d.fn = stall_service;
	cm->table_ops.send = t_send;
	cm->table_ops.circ_can_package = t_can_package;
	cm->table_ops.released = t_released;
	tk_circmgr_set_user(cm, &no_user);
	uv_timer_init(loop, &cm->kick);
	uv_timer_init(loop, &cm->tick);
	cm->kick.data = cm->tick.data = cm;
	cm->handles_open = 2;
	uv_timer_start(&cm->tick, tick_cb, TICK_MS, TICK_MS);
	uv_unref((uv_handle_t *)&cm->tick);
	kick_requests(cm);
	*out = cm;
	return 0;
}

void
tk_circmgr_set_user(tk_circmgr *cm, const struct tk_circmgr_user *u)
{
	cm->user = *u;
	cm->table_ops.connected = u->connected;
	cm->table_ops.data = u->data;
	cm->table_ops.resolved = u->resolved;
	cm->table_ops.closed = u->closed;
	cm->table_ops.writable = u->writable;
}

void
tk_circmgr_dir_changed(tk_circmgr *cm)
{
	cm->warned_nopath = 0;
	kick_requests(cm);
}

static void
on_handle_closed(uv_handle_t *h)
{
	tk_circmgr *cm = h->data;
	if (--cm->handles_open == 0) {
		free(cm->data_dir);
		free(cm);
	}
}

void
tk_circmgr_free(tk_circmgr *cm)
{
	if (!cm)
		return;
	if (cm->in_kick) {
		/* From an application callback: the object being served is
		 * still in use; free once the pass ends. */
		cm->free_pending = 1;
		return;
	}
	do_free(cm);
}

static void
do_free(tk_circmgr *cm)
{
	cm->free_pending = 0;
	cm->freeing = 1;
	if (cm->user.shutdown)
		cm->user.shutdown(cm->user.arg);
	tk_circmgr_set_user(cm, &no_user);
	while (cm->reqs)
		dequeue(cm, cm->reqs);
	while (cm->circs)
		oc_teardown(cm->circs);
	cm->tp->destroy(cm->tp_state);
	cm->tp_state = NULL;
	cm->dq = cm->dq_tail = NULL;
	save_state(cm);
	tk_guards_free(cm->guards);
	cm->guards = NULL;
	tk_cbt_free(cm->cbt);
	cm->cbt = NULL;
	free(cm->state_path);
	cm->state_path = NULL;
	uv_timer_stop(&cm->kick);
	uv_timer_stop(&cm->tick);
	uv_close((uv_handle_t *)&cm->kick, on_handle_closed);
	uv_close((uv_handle_t *)&cm->tick, on_handle_closed);
}

unsigned
tk_circmgr_newnym(tk_circmgr *cm)
{
	unsigned n = 0;

	/* tor's circuit_mark_all_dirty_circs_as_unusable: what carried a
	 * stream, or was promised to one (claimed by its key), takes no new
	 * streams; the tick closes each once its streams are done. Clean
	 * circuits stay: nothing links them to anyone yet. */
	for (struct tk_ocirc *oc = cm->circs; oc; oc = oc->next) {
		if (oc->closed || oc->unusable || oc->state == TK_OCIRC_DEAD)
			continue;
		if (!oc->dirty_since && !oc->has_iso)
			continue;
		oc->unusable = 1;
		n++;
	}
	cm_log(cm, TK_LOG_INFO, "NEWNYM: %u circuit%s take no new streams", n,
	       n == 1 ? "" : "s");
	/* A request queued from now on finds no old circuit; keep a clean
	 * one ready. */
	kick_requests(cm);
	return n;
}

void
tk_circmgr_get_stats(const tk_circmgr *cm, struct tk_circmgr_stats *st)
{
	*st = cm->st;
	st->open = st->building = st->channels = 0;
	for (const struct tk_ocirc *oc = cm->circs; oc; oc = oc->next) {
		if (oc->state == TK_OCIRC_OPEN)
			st->open++;
		else if (oc->state == TK_OCIRC_BUILDING)
			st->building++;
	}
	st->channels = cm->tp_state ? cm->tp->channels(cm->tp_state) : 0;
}

int
tk_circmgr_describe(const tk_circmgr *cm, uint32_t serial, char *buf,
		    size_t cap)
{
	static const char *names[] = { "building", "open", "dead" };
	for (const struct tk_ocirc *oc = cm->circs; oc; oc = oc->next) {
		const tk_circ_flow *f;
		char cc[160] = "";
		if (oc->serial != serial)
			continue;
		/* congestion control's state, as tor's CIRC_BW event has it */
		f = oc->state == TK_OCIRC_OPEN && cm->tp->exit_flow
			    ? cm->tp->exit_flow((struct tk_ocirc *)oc)
			    : NULL;
		if (f && f->has_cc)
			snprintf(cc, sizeof cc,
				 " cc%s cwnd %lu rtt %lu/%lu ms inflight %lu"
				 " acks %lu (%lu blocked)",
				 f->cc.in_slow_start ? " slow-start" : "",
				 (unsigned long)f->cc.cwnd,
				 (unsigned long)(f->cc.min_rtt / 1000),
				 (unsigned long)(f->cc.ewma_rtt / 1000),
				 (unsigned long)f->cc.inflight,
				 (unsigned long)f->cc.sendmes,
				 (unsigned long)f->cc.blocked_acks);
		return snprintf(buf, cap, "circ %u %s~%s~%s %s%s%s%s",
				oc->serial, oc->nick[0], oc->nick[1],
				oc->nick[2], names[oc->state],
				oc->dirty_since ? " dirty" : "",
				oc->unusable ? " retired" : "", cc);
	}
	return -1;
}
