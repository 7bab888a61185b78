/* circmgr.h, paths and builds: guard, exit and middle picked, the
 * build started, its outcome; relays that failed an extension avoided
 * for a while; circuits to a chosen last hop (tk_circmgr_build_to).
 * Above circmgr_adopt.c (circmgr_int.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/client/circmgr_int.h"
#include "onion/client/hop.h"
#include "onion/netdir/path.h"

#define BAD_RELAY_MS 60000

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

void
tk_cm_expire_bad(tk_circmgr *cm, uint64_t now)
{
	for (size_t i = 0; i < cm->n_bad;) {
		if (cm->bad[i].until <= now)
			cm->bad[i] = cm->bad[--cm->n_bad];
		else
			i++;
	}
}

static void
oc_opened(struct tk_ocirc *oc)
{
	tk_circmgr *cm = oc->cm;
	double ms;

	oc->tbl = tk_ostream_table_new(&cm->table_ops, oc);
	if (!oc->tbl) {
		tk_cm_oc_fail(oc, "out of memory");
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
	tk_guards_confirmed(cm->guards, oc->hop[0].rsa_id, tk_cm_wall_s(cm));
	for (struct tk_circreq *r = cm->reqs; r; r = r->next)
		if (r->waiting_on == oc)
			r->waiting_on = NULL; /* tk_cm_service() attaches */
	tk_cm_log(cm, TK_LOG_INFO, "circ %u built: %s~%s~%s in %.0f ms",
		  oc->serial, oc->nick[0], oc->nick[1], oc->nick[2], ms);
	if (xf && xf->has_cc)
		tk_cm_log(cm, TK_LOG_INFO,
			  "circ %u: congestion control with exit %s: Vegas, "
			  "sendme_inc %d, cwnd %lu",
			  oc->serial, oc->nick[2], xf->inc,
			  (unsigned long)xf->cc.cwnd);
	else if (oc->cc_enabled && oc->supports_cc[2])
		tk_cm_log(cm, TK_LOG_INFO,
			  "circ %u: exit %s did not accept congestion control: "
			  "fixed windows",
			  oc->serial, oc->nick[2]);
	tk_cm_kick_requests(cm);
	tk_cm_owner_event(oc, TK_OCIRC_EV_BUILT, NULL);
}

void
tk_cm_first_hop_ok(struct tk_ocirc *oc)
{
	oc->n_hops = 1;
	tk_guards_succeeded(oc->cm->guards, oc->hop[0].rsa_id,
			    tk_cm_wall_s(oc->cm));
}

void
tk_cm_build_done(struct tk_ocirc *oc, int status, int failed_hop,
		 const char *why)
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
				 tk_cm_wall_s(oc->cm));
	else if (failed_hop > 0 && failed_hop < 3)
		mark_bad(oc->cm, oc->hop[failed_hop].rsa_id);
	tk_cm_oc_fail(oc, why ? why : "build failed");
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

/* dst shares src's ranges (counted references), so copying cannot
 * fail. */
static void
copy_summary(struct tk_policy_summary *dst, const struct tk_policy_summary *src)
{
	tk_policy_summary_init(dst);
	tk_policy_summary_share(dst, src);
}

/* LongLivedPorts: streams expected to stay open long want a circuit of
 * Stable relays only (path-spec 2.2). */
int
tk_cm_long_lived(const tk_circmgr *cm, uint16_t port)
{
	for (size_t i = 0; i < cm->cfg.n_long_lived_ports; i++)
		if (cm->cfg.long_lived_ports[i] == port)
			return 1;
	return 0;
}

/* Appends the relays that failed an extension lately to avoid[n..);
 * the new count. */
static size_t
avoid_bad(const tk_circmgr *cm, const struct tk_nodes *t, size_t *avoid,
	  size_t n)
{
	for (size_t i = 0; i < cm->n_bad; i++) {
		long k = tk_nodes_find(t, cm->bad[i].id);
		if (k >= 0)
			avoid[n++] = (size_t)k;
	}
	return n;
}

/* A middle beside none of avoid[0..n), else beside none of
 * avoid[0..must): the relays that failed lately come after `must`, and
 * avoiding them is a wish, not a rule. */
static long
pick_middle(const struct tk_nodes *t, const struct tk_path_weights *w,
	    const struct tk_path_opts *po, const size_t *avoid, size_t n,
	    size_t must, struct tk_path_rng *rng)
{
	long m = tk_path_pick(t->node, t->n, TK_PATH_MIDDLE, w, po, avoid, n,
			      rng);
	if (m < 0)
		m = tk_path_pick(t->node, t->n, TK_PATH_MIDDLE, w, po, avoid,
				 must, rng);
	return m;
}

/* A circuit to build through guard g and middle m (its first two hops);
 * the caller sets its last hop, then oc_enlist(). NULL: no memory. */
static struct oc_full *
oc_new(tk_circmgr *cm, const struct tk_nodes *t, long g, long m)
{
	struct oc_full *f = calloc(1, sizeof *f);
	struct tk_ocirc *oc;
	if (!f)
		return NULL;
	oc = &f->oc;
	f->teardown.fn = tk_cm_teardown_cb;
	f->adopted.fn = tk_cm_adopted_cb;
	oc->cm = cm;
	oc->serial = ++cm->serial;
	oc->state = TK_OCIRC_BUILDING;
	hop_from_node(&t->node[g], &oc->hop[0], oc->nick[0]);
	first_hop_addr(cm, &t->node[g], &oc->hop[0]);
	hop_from_node(&t->node[m], &oc->hop[1], oc->nick[1]);
	return f;
}

/* oc joins the manager's circuits; its build deadline runs from now. */
static void
oc_enlist(tk_circmgr *cm, struct tk_ocirc *oc)
{
	oc->started = uv_now(cm->loop);
	oc->deadline = oc->started + tk_cm_build_timeout_ms(cm);
	oc->next = cm->circs;
	if (cm->circs)
		cm->circs->prev = oc;
	cm->circs = oc;
	cm->st.launched++;
}

/* Picks guard, exit (allowing port, not excluded), middle, and starts the
 * build. want_guard: that guard or nothing (guard_stalled). */
int
tk_cm_launch(tk_circmgr *cm, uint16_t port, const struct tk_circreq *r,
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
	po.need_stable = tk_cm_long_lived(cm, port);
	tk_path_weights_init(&w, t->c);
	follow_consensus(cm, t->c);
	if (want_guard && (wg = tk_nodes_find(t, want_guard)) < 0)
		return LAUNCH_NOPATH;

	/* The exit first, then a guard that may share its path (tor's
	 * order): a guard picked first would rule out an exit that is also
	 * our guard, and a request whose other exits refused could find
	 * none. Up to 4 exits, in case one conflicts with every guard. */
	for (size_t i = 0; r && i < r->n_excluded; i++) {
		long k = tk_nodes_find(t, r->excluded[i]);
		if (k >= 0)
			avoid[n_strict++] = (size_t)k;
	}
	if (wg >= 0)
		avoid[n_strict++] = (size_t)wg; /* not as the exit */
	for (int tries = 0;; tries++) {
		n_avoid = avoid_bad(cm, t, avoid, n_strict);
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
			g = tk_guards_usable(cm->guards, t, &po,
					     tk_cm_wall_s(cm), want_guard, x)
				    ? wg
				    : -1;
		else
			g = tk_guards_pick_beside(cm->guards, t, &po, &rng,
						  tk_cm_wall_s(cm), x, err,
						  sizeof err);
		if (g < 0 && wg >= 0)
			snprintf(err, sizeof err,
				 "guard %s is not usable beside any exit "
				 "tried",
				 t->node[wg].rt->nickname);
		else if (g >= 0)
			break;
		if (tries == 3) {
			tk_cm_log(cm, want_guard ? TK_LOG_INFO : TK_LOG_WARN,
				  "cannot build a circuit: %s", err);
			return LAUNCH_NOPATH;
		}
		avoid[n_strict++] = (size_t)x;
	}
	/* The middle avoids guard, exit and recently failed relays. */
	avoid[0] = (size_t)g;
	avoid[1] = (size_t)x;
	n_avoid = avoid_bad(cm, t, avoid, 2);
	m = pick_middle(t, &w, &po, avoid, n_avoid, 2, &rng);
	if (m < 0) {
		tk_cm_log(cm, TK_LOG_WARN,
			  "cannot build a circuit: no middle relay "
			  "fits beside guard %s and exit %s",
			  t->node[g].rt->nickname, t->node[x].rt->nickname);
		return LAUNCH_NOPATH;
	}

	f = oc_new(cm, t, g, m);
	if (!f)
		return LAUNCH_NOPATH;
	oc = &f->oc;
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
	copy_summary(&oc->exit_p, &t->node[x].md->p);
	copy_summary(&oc->exit_p6, &t->node[x].md->p6);
	oc_enlist(cm, oc);
	tk_cm_log(cm, TK_LOG_INFO, "circ %u: building %s~%s~%s (exit port %u)",
		  oc->serial, oc->nick[0], oc->nick[1], oc->nick[2], port);

	if (cm->tp->build(cm->tp_state, oc) != 0)
		tk_cm_oc_fail(oc, "cannot start the build");
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
		n_avoid = avoid_bad(cm, t, avoid, 0);
		x = pick_middle(t, &w, &po, avoid, n_avoid, 0, &rng);
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
	x = tk_nodes_find(t, last->rsa_id);
	g = tk_guards_pick_beside(cm->guards, t, &po, &rng, tk_cm_wall_s(cm), x,
				  err, errlen);
	if (g < 0)
		return -1;
	avoid[n_avoid++] = (size_t)g;
	if (x >= 0)
		avoid[n_avoid++] = (size_t)x;
	n_avoid = avoid_bad(cm, t, avoid, n_avoid);
	m = pick_middle(t, &w, &po, avoid, n_avoid, x >= 0 ? 2 : 1, &rng);
	if (m < 0) {
		snprintf(err, errlen, "no middle relay fits beside guard %s",
			 t->node[g].rt->nickname);
		return -1;
	}
	f = oc_new(cm, t, g, m);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	oc = &f->oc;
	oc->private_use = 1;
	oc->hop[2] = *last;
	snprintf(oc->nick[2], sizeof oc->nick[2], "%s", nick ? nick : "?");
	tk_policy_summary_init(&oc->exit_p); /* rejects every port */
	tk_policy_summary_init(&oc->exit_p6);
	oc_enlist(cm, oc);
	tk_cm_log(cm, TK_LOG_INFO, "circ %u: building %s~%s~%s (%s)",
		  oc->serial, oc->nick[0], oc->nick[1], oc->nick[2],
		  internal ? "internal" : "onion service");
	if (cm->tp->build(cm->tp_state, oc) != 0) {
		snprintf(err, errlen, "cannot start the build");
		tk_cm_oc_fail(oc, "cannot start the build");
		return -1;
	}
	oc->owner_ev = ev;
	oc->owner_arg = arg;
	*out = oc;
	return 0;
}
