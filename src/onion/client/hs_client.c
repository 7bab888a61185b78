/* hs_client.h: the services and their requests, the descriptor cache
 * and the fetch (hs_fetch.h); then, below, the introduction and the
 * rendezvous that follow a cached descriptor (rend-spec-v3 §3, §4). One
 * file: the two halves call each other (a service's circuits report to
 * its state, which starts and times out the join), and tools/layers
 * allows no circle between files. */
#include "onion/client/hs_client.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/client/hop.h"
#include "onion/client/hs_client_int.h"
#include "onion/client/hs_fetch.h"
#include "onion/client/ocirc.h"
#include "onion/hs/hs_auth.h"
#include "onion/hs/hs_cache.h"
#include "onion/hs/hs_cell.h"
#include "onion/hs/hs_desc.h"
#include "onion/hs/hs_keys.h"
#include "onion/hs/hs_linkspec.h"
#include "onion/hs/hs_period.h"
#include "onion/netdir/path.h"
#include "onion/netdoc/consensus.h"
#include "onion/onion.h"

#define TICK_MS 500

void
tk_hs_client_config_init(struct tk_hs_client_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->intro_timeout_ms = 20000;
	cfg->rend_timeout_ms = 10000;
	cfg->congestion_control = -1;
	cfg->scrub_hosts = 1;
}

/* The service's address for the log, or "[scrubbed]" (SafeLogging). */
const char *
tk_hs_svc_name(const struct tk_hs_svc *v, char buf[TK_HS_ADDR_LEN + 7])
{
	if (v->hc->cfg.scrub_hosts)
		return "[scrubbed]";
	tk_hs_addr_encode(v->id, buf);
	strcat(buf, ".onion");
	return buf;
}

uint64_t
tk_hs_now_ms(const tk_hs_client *hc)
{
	return uv_now(tk_circmgr_loop(hc->cm));
}

/* ------------------------------------------------------------ cleanup */

/* Stops hearing of *ocp and lets it go. The circuit's control callback
 * points at v: cleared before anything else. */
void
tk_hs_drop_oc(tk_ocirc **ocp)
{
	tk_ocirc *oc = *ocp;
	tk_circuit *c;
	if (!oc)
		return;
	*ocp = NULL;
	if ((c = tk_ocirc_circuit(oc)) != NULL)
		tk_circuit_set_control_cb(c, NULL, NULL);
	tk_ocirc_close(oc);
}

static void
svc_reset(struct tk_hs_svc *v)
{
	tk_hs_fetch_cancel(v->fetch);
	v->fetch = NULL;
	tk_hs_drop_oc(&v->rend_oc);
	tk_hs_drop_oc(&v->intro_oc);
	tk_hs_ntor_client_wipe(&v->ntor);
	tk_wipe(v->cookie, sizeof v->cookie);
	v->rend_ready = v->intro_built = v->intro_sent = v->intro_acked = 0;
	v->intro_extend = 0;
	v->rend_deadline = v->intro_deadline = 0;
}

static void
svc_free(struct tk_hs_svc *v)
{
	tk_hs_client *hc = v->hc;
	struct tk_hs_waiter *w, *n;
	svc_reset(v);
	tk_hs_drop_oc(&v->joined);
	tk_circmgr_undefer(hc->cm, &v->d);
	for (w = v->waiters; w; w = n) {
		n = w->next;
		free(w);
	}
	if (v->prev)
		v->prev->next = v->next;
	else
		hc->svcs = v->next;
	if (v->next)
		v->next->prev = v->prev;
	hc->n_svcs--;
	free(v);
}

/* ------------------------------------------------------------ answers */

static void
deliver(struct tk_defer *d)
{
	struct tk_hs_svc *v = container_of(d, struct tk_hs_svc, d);
	struct tk_hs_waiter *w;
	int ok = v->result == 0 && v->joined;

	while ((w = v->waiters) != NULL) {
		struct tk_circreq *r = w->r;
		v->waiters = w->next;
		free(w);
		if (ok)
			r->cb(r, 0, v->joined);
		else
			r->cb(r,
			      v->result ? v->result : TK_ONION_HS_REND_FAILED,
			      NULL);
	}
	if (!v->joined && v->st == S_IDLE)
		svc_free(v);
}

void
tk_hs_svc_answer(struct tk_hs_svc *v, int reason)
{
	v->result = reason;
	tk_circmgr_defer(v->hc->cm, &v->d);
}

void
tk_hs_svc_fail(struct tk_hs_svc *v, int reason, const char *why)
{
	char nb[TK_HS_ADDR_LEN + 7];
	tk_hs_log(v->hc, TK_LOG_NOTICE, "onion service %s: %s",
		  tk_hs_svc_name(v, nb), why);
	svc_reset(v);
	v->st = S_IDLE;
	tk_hs_svc_answer(v, reason);
}

/* ----------------------------------------------------- descriptor fetch */

static void
on_fetched(void *arg, int reason, const char *why, struct tk_hs_desc *desc)
{
	struct tk_hs_svc *v = arg;
	tk_hs_client *hc = v->hc;

	v->fetch = NULL;
	if (reason) {
		tk_hs_svc_fail(v, reason, why);
		return;
	}
	if (desc->n_intro == 0) {
		tk_hs_desc_free(desc);
		tk_hs_svc_fail(
			v, TK_ONION_HS_INTRO_FAILED,
			"the descriptor lists no usable introduction point");
		return;
	}
	if (tk_hs_cache_put(hc->cache, v->keys.period_num, desc, v->period_end,
			    v->now) < 0) {
		tk_hs_desc_free(desc);
		tk_hs_svc_fail(v, TK_ONION_HS_BAD_DESC,
			       "cannot cache the descriptor");
		return;
	}
	tk_hs_join_start(v);
}

/* The descriptor from the cache, or fetched. Also the refetch of an
 * attempt whose introduction points all failed (intro_next): the
 * rendezvous circuit, if any, stays. */
static void
svc_start(struct tk_hs_svc *v)
{
	tk_hs_client *hc = v->hc;
	const struct tk_nodes *t = tk_circmgr_nodes(hc->cm);
	struct tk_hs_dirparams p;
	struct tk_hs_fetch_params fp;
	size_t n;
	uint8_t hsdir[TK_HS_FETCH_MAX_HSDIRS][20];
	char nb[TK_HS_ADDR_LEN + 7], why[200];
	int reason;

	if (!t) {
		v->st = S_WAITDIR; /* the tick tries again */
		return;
	}
	tk_hs_dirparams_init(&p, t->c, hc->cfg.testing);
	if (tk_hs_keys_derive(v->id, p.period_num, p.period_len_min,
			      &v->keys) != 0) {
		tk_hs_svc_fail(v, TK_ONION_HS_BAD_ADDRESS, "not a valid key");
		return;
	}
	v->now = t->c->valid_after;
	v->period_end = p.period_end;
	if (tk_hs_cache_get(hc->cache, v->keys.blinded, v->keys.period_num,
			    v->now)) {
		tk_hs_join_start(v);
		return;
	}
	n = tk_hs_fetch_hsdirs(t, &p, v->keys.blinded, hsdir);
	memset(&fp, 0, sizeof fp);
	fp.cm = hc->cm;
	fp.keys = &v->keys;
	fp.client_sk = tk_hs_auth_set_find(&hc->auth, v->id);
	fp.now = v->now;
	fp.hsdirs = (const uint8_t(*)[20])hsdir;
	fp.n_hsdirs = n;
	fp.parallel = hc->cfg.fetch_parallel;
	/* A period that began since has its own blinded key and a revision
	 * counter of its own: nothing to compare with. */
	fp.has_stale = v->refetched && v->has_stale &&
		       v->stale_period == p.period_num;
	fp.stale_revision = v->stale_rev;
	fp.pool = hc->pool;
	fp.name = tk_hs_svc_name(v, nb);
	fp.log = hc->cfg.log;
	fp.log_arg = hc->cfg.log_arg;
	fp.cb = on_fetched;
	fp.arg = v;
	v->st = S_FETCH;
	v->fetch = tk_hs_fetch_start(&fp, &reason, why, sizeof why);
	if (!v->fetch)
		tk_hs_svc_fail(v, reason, why);
}

/* ------------------------------------------------------- circuit events */

void
tk_hs_on_oc_event(void *arg, tk_ocirc *oc, int ev, const char *why)
{
	struct tk_hs_svc *v = arg;
	if (oc == v->joined) {
		if (ev != TK_OCIRC_EV_BUILT) {
			v->joined = NULL; /* the manager closed it */
			v->st = S_IDLE;
			if (!v->waiters && !v->d.queued)
				svc_free(v);
		}
		return;
	}
	tk_hs_join_event(v, oc, ev, why);
}

static void
on_tick(uv_timer_t *tm)
{
	tk_hs_client *hc = tm->data;
	uint64_t now = tk_hs_now_ms(hc);
	struct tk_hs_svc *v, *next;

	for (v = hc->svcs; v; v = next) {
		next = v->next;
		if (v->st == S_WAITDIR && tk_circmgr_nodes(hc->cm)) {
			svc_start(v);
			continue;
		}
		if (v->st != S_CONNECT)
			continue;
		tk_hs_join_tick(v, now);
	}
	tk_hs_ipfail_expire(&hc->ipfail, now);
}

/* ------------------------------------------------------------- requests */

int
tk_hs_client_request(tk_hs_client *hc, const uint8_t id[TK_HS_ID_LEN],
		     struct tk_circreq *r)
{
	struct tk_hs_svc *v;
	struct tk_hs_waiter *w = calloc(1, sizeof *w);

	for (v = hc->svcs; v; v = v->next)
		if (memcmp(v->id, id, TK_HS_ID_LEN) == 0)
			break;
	if (!v && hc->n_svcs < TK_HS_CLIENT_MAX_SERVICES &&
	    (v = calloc(1, sizeof *v)) != NULL) {
		v->hc = hc;
		memcpy(v->id, id, TK_HS_ID_LEN);
		v->d.fn = deliver;
		v->next = hc->svcs;
		if (hc->svcs)
			hc->svcs->prev = v;
		hc->svcs = v;
		hc->n_svcs++;
	}
	if (!v || !w) {
		free(w);
		if (v && !v->waiters && v->st == S_IDLE && !v->joined)
			svc_free(v);
		tk_hs_log(hc, TK_LOG_WARN, "onion service request refused: %s",
			  w ? "too many services at once" : "out of memory");
		return -1;
	}
	w->r = r;
	w->next = v->waiters;
	v->waiters = w;
	if (v->joined) {
		if (v->joined->state == TK_OCIRC_OPEN && !v->joined->unusable &&
		    !v->joined->closed) {
			tk_hs_svc_answer(v, 0);
			return 0;
		}
		/* retired: its streams live on, the manager closes it */
		v->joined->owner_ev = NULL;
		v->joined = NULL;
		v->st = S_IDLE;
	}
	if (v->st == S_IDLE) {
		/* a new attempt: its own refetch and introduction points */
		v->refetched = 0;
		v->n_tried = 0;
		v->n_intro_timeouts = 0;
		v->n_rend_timeouts = 0;
		v->n_rend = 0;
		svc_start(v);
	}
	/* onion use: keep clean internal circuits for the next ones */
	tk_circ_pool_note_use(hc->pool);
	return 0;
}

void
tk_hs_client_cancel(tk_hs_client *hc, struct tk_circreq *r)
{
	for (struct tk_hs_svc *v = hc->svcs; v; v = v->next)
		for (struct tk_hs_waiter **pp = &v->waiters; *pp;
		     pp = &(*pp)->next)
			if ((*pp)->r == r) {
				struct tk_hs_waiter *w = *pp;
				*pp = w->next;
				free(w);
				return;
			}
}

void
tk_hs_client_purge(tk_hs_client *hc)
{
	size_t n = tk_hs_cache_expire(hc->cache, INT64_MAX);
	size_t k = tk_hs_ipfail_clear(&hc->ipfail);
	tk_hs_log(hc, TK_LOG_INFO,
		  "NEWNYM: %zu onion service descriptor%s dropped", n,
		  n == 1 ? "" : "s");
	tk_hs_log(hc, TK_LOG_INFO,
		  "NEWNYM: %zu introduction point failure%s forgotten", k,
		  k == 1 ? "" : "s");
}

void
tk_hs_client_set_scrub(tk_hs_client *hc, int on)
{
	hc->cfg.scrub_hosts = on;
}

static void
auth_warn(void *arg, const char *msg)
{
	tk_hs_client *hc = arg;
	tk_hs_log(hc, TK_LOG_WARN, "ClientOnionAuthDir: %s", msg);
}

int
tk_hs_client_load_auth(tk_hs_client *hc, const char *dir, char *err,
		       size_t errlen)
{
	struct tk_hs_auth_set set = { 0, NULL };
	if (dir &&
	    tk_hs_auth_load_dir(dir, &set, auth_warn, hc, err, errlen) != 0)
		return -1;
	/* Keys already used stay with what they opened: a cached
	 * descriptor, a joined circuit. */
	tk_hs_auth_set_free(&hc->auth);
	hc->auth = set;
	if (dir)
		tk_hs_log(hc, TK_LOG_NOTICE,
			  "ClientOnionAuthDir: %zu client authorization key%s",
			  hc->auth.n, hc->auth.n == 1 ? "" : "s");
	return 0;
}

tk_hs_client *
tk_hs_client_new(tk_circmgr *cm, const struct tk_hs_client_config *cfg,
		 char *err, size_t errlen)
{
	tk_hs_client *hc = calloc(1, sizeof *hc);
	if (!hc) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	hc->cm = cm;
	hc->cfg = *cfg;
	hc->cfg.auth_dir = NULL; /* only read here */
	if (!hc->cfg.intro_timeout_ms)
		hc->cfg.intro_timeout_ms = 20000;
	if (!hc->cfg.rend_timeout_ms)
		hc->cfg.rend_timeout_ms = 10000;
	hc->cache = tk_hs_cache_new(0, 0);
	hc->tick = calloc(1, sizeof *hc->tick);
	if (cfg->internal_circs)
		hc->pool = tk_circ_pool_new(cm, cfg->internal_circs);
	if (!hc->cache || !hc->tick || (cfg->internal_circs && !hc->pool)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (tk_hs_client_load_auth(hc, cfg->auth_dir, err, errlen) != 0)
		goto fail;
	uv_timer_init(tk_circmgr_loop(cm), hc->tick);
	hc->tick->data = hc;
	uv_timer_start(hc->tick, on_tick, TICK_MS, TICK_MS);
	uv_unref((uv_handle_t *)hc->tick);
	return hc;
fail:
	tk_circ_pool_free(hc->pool);
	tk_hs_cache_free(hc->cache);
	free(hc->tick);
	tk_hs_auth_set_free(&hc->auth);
	free(hc);
	return NULL;
}

static void
tick_closed(uv_handle_t *h)
{
	free(h);
}

void
tk_hs_client_free(tk_hs_client *hc)
{
	if (!hc)
		return;
	while (hc->svcs) {
		if (tk_circmgr_dying(hc->cm)) {
			/* the manager closes every circuit itself */
			tk_hs_fetch_abandon(hc->svcs->fetch);
			hc->svcs->fetch = NULL;
			hc->svcs->rend_oc = NULL;
			hc->svcs->intro_oc = hc->svcs->joined = NULL;
		}
		svc_free(hc->svcs);
	}
	tk_circ_pool_free(hc->pool);
	uv_close((uv_handle_t *)hc->tick, tick_closed);
	tk_hs_cache_free(hc->cache);
	tk_hs_auth_set_free(&hc->auth);
	free(hc);
}

/* ---- the introduction and the rendezvous ---- */

/* Rendezvous circuits an attempt builds at most: one that fails, or
 * whose point does not answer ESTABLISH_RENDEZVOUS in rend_timeout_ms,
 * gives way to another (tor builds a new one too) as long as no
 * INTRODUCE1 named its point. */
#define REND_TRIES 3

static void intro_next(struct tk_hs_svc *v);

/* The point being tried (v->ip_auth) failed: remembered for the next
 * requests too, as tor remembers it (hs_ipfail.h). */
static void
ip_failed(struct tk_hs_svc *v, enum tk_hs_ipfail_kind kind)
{
	tk_hs_ipfail_note(&v->hc->ipfail, v->id, v->ip_auth, kind,
			  tk_hs_now_ms(v->hc));
}

static void
joined(struct tk_hs_svc *v)
{
	char nb[TK_HS_ADDR_LEN + 7];
	v->joined = v->rend_oc;
	v->rend_oc = NULL;
	tk_hs_drop_oc(&v->intro_oc);
	tk_hs_ntor_client_wipe(&v->ntor);
	v->rend_deadline = v->intro_deadline = 0;
	v->st = S_JOINED;
	if (v->cc)
		tk_hs_log(v->hc, TK_LOG_INFO,
			  "onion service %s: congestion control with the "
			  "service: Vegas, sendme_inc %u",
			  tk_hs_svc_name(v, nb), v->cc_sendme_inc);
	tk_hs_log(v->hc, TK_LOG_INFO, "onion service %s: joined on circ %u",
		  tk_hs_svc_name(v, nb), tk_ocirc_serial(v->joined));
	tk_hs_svc_answer(v, 0);
}

static void intro_send(struct tk_hs_svc *v);

static void
on_rend_cell(void *arg, int status, int hop, uint8_t cmd, const uint8_t *data,
	     size_t len)
{
	struct tk_hs_svc *v = arg;
	uint8_t info[TK_HS_NTOR_REPLY_LEN], seed[32], keys[TK_HS_NTOR_KEYS_LEN];
	tk_circuit *c;
	(void)status;
	if (!v->rend_oc || hop != v->rend_hop)
		return;
	if (cmd == TK_RELAY_RENDEZVOUS_ESTABLISHED && !v->rend_ready) {
		tk_hs_rendezvous_established_decode(data, len);
		v->rend_ready = 1;
		v->rend_deadline = 0;
		/* the introduction circuit may have been waiting for this */
		if (v->intro_built && !v->intro_sent)
			intro_send(v);
		return;
	}
	/* RENDEZVOUS2 answers our INTRODUCE1: none is expected before */
	if (cmd != TK_RELAY_RENDEZVOUS2 || !v->intro_sent)
		return;
	c = tk_ocirc_circuit(v->rend_oc);
	if (!c || tk_hs_rendezvous2_decode(data, len, info) != 0 ||
	    tk_hs_ntor_client_finish(&v->ntor, info, seed) != 0) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED,
			       "RENDEZVOUS2 did not verify (hs-ntor)");
		return;
	}
	tk_hs_ntor_expand(seed, keys);
	tk_wipe(seed, sizeof seed);
	tk_circuit_set_control_cb(c, NULL, NULL);
	int rc = tk_circuit_add_virtual_hop(c, keys,
					    v->cc ? &v->cc_params : NULL,
					    v->cc_sendme_inc);
	tk_wipe(keys, sizeof keys);
	if (rc != 0) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED,
			       tk_circuit_strerror(rc));
		return;
	}
	tk_ocirc_joined(v->rend_oc, v->cc ? &v->cc_params : NULL);
	joined(v);
}

static void
on_intro_cell(void *arg, int status, int hop, uint8_t cmd, const uint8_t *data,
	      size_t len)
{
	struct tk_hs_svc *v = arg;
	struct tk_hs_intro_ack ack;
	char nb[TK_HS_ADDR_LEN + 7];
	(void)status;
	if (!v->intro_oc || hop != v->intro_hop ||
	    cmd != TK_RELAY_INTRODUCE_ACK)
		return;
	if (tk_hs_introduce_ack_decode(data, len, &ack) == 0 &&
	    ack.status == TK_HS_INTRO_ACK_SUCCESS) {
		/* The service has it: only RENDEZVOUS2 is missing now. As
		 * tor, the introduction circuit is done. */
		v->intro_acked = 1;
		tk_hs_drop_oc(&v->intro_oc);
		return;
	}
	tk_hs_log(v->hc, TK_LOG_INFO,
		  "onion service %s: introduction point %zu refused (status "
		  "%u)",
		  tk_hs_svc_name(v, nb), v->intro_next, ack.status);
	ip_failed(v, TK_HS_IPFAIL_ERROR);
	tk_hs_drop_oc(&v->intro_oc);
	intro_next(v);
}

static int32_t
cons_param(void *arg, const char *name, int32_t dflt, int32_t min, int32_t max)
{
	return tk_consensus_param(arg, name, dflt, min, max);
}

/* Whether a FlowCtrl version list ("1-2", "2", "1,2") holds 2. */
static int
flowctrl_has_2(const char *s)
{
	while (*s) {
		char *e;
		unsigned long lo = strtoul(s, &e, 10), hi = lo;
		if (e == s)
			return 0;
		if (*e == '-') {
			s = e + 1;
			hi = strtoul(s, &e, 10);
			if (e == s)
				return 0;
		}
		if (lo <= 2 && 2 <= hi)
			return 1;
		if (*e != ',')
			return 0;
		s = e + 1;
	}
	return 0;
}

/* Congestion control with the service (prop 324 for onion services, as
 * tor 0.4.8 clients ask for it): its descriptor says it does FlowCtrl=2,
 * and we do (the consensus's cc_alg, or the CongestionControl option).
 * Then v->cc_params are the onion circuits' Vegas parameters and
 * v->cc_sendme_inc the descriptor's increment. */
static int
cc_with_service(struct tk_hs_svc *v, const struct tk_hs_desc *d)
{
	const struct tk_nodes *t = tk_circmgr_nodes(v->hc->cm);
	int want = v->hc->cfg.congestion_control;
	if (!d || !d->has_flow_control || !flowctrl_has_2(d->flow_control) ||
	    want == 0 || !t)
		return 0;
	tk_cc_params_load(&v->cc_params, cons_param, (void *)t->c);
	if (want < 0 && v->cc_params.cc_alg == 0)
		return 0;
	tk_cc_params_onion(&v->cc_params);
	v->cc_sendme_inc = d->sendme_inc;
	return 1;
}

/* Both circuits are ready: INTRODUCE1 (rend-spec-v3 §3.2), which names
 * the rendezvous point the service is to reach, so it goes only once the
 * point has our cookie (RENDEZVOUS_ESTABLISHED). */
static void
intro_send(struct tk_hs_svc *v)
{
	struct tk_hs_intro1 in;
	uint8_t body[TK_RELAY_DATA_MAX];
	tk_circuit *c = tk_ocirc_circuit(v->intro_oc);
	long n;

	if (!c || tk_hs_ntor_client_init(&v->ntor, NULL, v->ip_enc, v->ip_auth,
					 v->keys.subcred) != 0) {
		tk_hs_drop_oc(&v->intro_oc);
		intro_next(v);
		return;
	}
	memset(&in, 0, sizeof in);
	v->cc = cc_with_service(v,
				tk_hs_cache_get(v->hc->cache, v->keys.blinded,
						v->keys.period_num, v->now));
	in.cc_request = v->cc;
	memcpy(in.auth_key, v->ip_auth, 32);
	memcpy(in.rend_cookie, v->cookie, sizeof in.rend_cookie);
	memcpy(in.rp_onion_key, v->rp_onion_key, 32);
	in.rp_linkspecs = v->rp_ls;
	in.rp_linkspecs_len = v->rp_ls_len;
	n = tk_hs_introduce1_encode(&in, &v->ntor, body, sizeof body);
	tk_circuit_set_control_cb(c, on_intro_cell, v);
	if (n < 0 || tk_circuit_send(c, -1, TK_RELAY_INTRODUCE1, 0, body,
				     (size_t)n, 0) < 0) {
		tk_hs_drop_oc(&v->intro_oc);
		intro_next(v);
		return;
	}
	v->intro_sent = 1;
	v->intro_deadline = tk_hs_now_ms(v->hc) + v->hc->cfg.intro_timeout_ms;
}

static int
intro_tried(const struct tk_hs_svc *v, const uint8_t auth_key[32])
{
	for (size_t i = 0; i < v->n_tried; i++)
		if (memcmp(v->tried[i], auth_key, 32) == 0)
			return 1;
	return 0;
}

/* Every introduction point of the descriptor failed (or it left the
 * cache): the service may have moved them — its tor restarted, or the
 * relays that held them did — and published a new descriptor. As tor
 * (hs_client_refetch_hsdesc once no introduction point is usable), the
 * cached one is dropped and fetched again, once per attempt; the
 * rendezvous circuit waits. 1 if the fetch is under way. */
static int
refetch(struct tk_hs_svc *v)
{
	char nb[TK_HS_ADDR_LEN + 7];
	if (v->refetched)
		return 0;
	const struct tk_hs_desc *d =
		tk_hs_cache_get(v->hc->cache, v->keys.blinded,
				v->keys.period_num, v->now);
	v->refetched = 1;
	v->has_stale = d != NULL;
	v->stale_rev = d ? d->revision : 0;
	v->stale_period = v->keys.period_num;
	tk_hs_log(v->hc, TK_LOG_INFO,
		  "onion service %s: no usable introduction point left: "
		  "fetching its descriptor again",
		  tk_hs_svc_name(v, nb));
	tk_hs_cache_remove(v->hc->cache, v->keys.blinded, v->keys.period_num);
	svc_start(v);
	return 1;
}

/* Every point of d timed out lately (in this attempt or an earlier
 * one): the attempt ends F7, as tor's does when all its points' records
 * say timed out. */
static int
all_timed_out(struct tk_hs_svc *v, const struct tk_hs_desc *d)
{
	uint64_t now = tk_hs_now_ms(v->hc);
	for (size_t i = 0; i < d->n_intro; i++)
		if (!tk_hs_ipfail_timed_out(&v->hc->ipfail, v->id,
					    d->intro[i].auth_key, now))
			return 0;
	return d->n_intro > 0;
}

/* The next introduction point of the descriptor we can reach. */
static void
intro_next(struct tk_hs_svc *v)
{
	tk_hs_client *hc = v->hc;
	const struct tk_hs_desc *d;
	tk_circuit_hop_target t;
	char err[200];

	tk_hs_drop_oc(&v->intro_oc);
	tk_hs_ntor_client_wipe(&v->ntor);
	v->intro_built = v->intro_sent = v->intro_acked = 0;
	v->intro_extend = 0;
	v->intro_deadline = 0;
	d = tk_hs_cache_get(hc->cache, v->keys.blinded, v->keys.period_num,
			    v->now);
	for (; d && v->intro_next < d->n_intro; v->intro_next++) {
		const struct tk_hs_intro_point *ip = &d->intro[v->intro_next];
		struct sockaddr_in *sin = (struct sockaddr_in *)&t.addr;
		if (!ip->ls.has_legacy_id || !ip->ls.has_ipv4)
			continue; /* tor needs both to extend */
		if (intro_tried(v, ip->auth_key))
			continue; /* failed already, in the old descriptor */
		if (!tk_hs_ipfail_usable(&hc->ipfail, v->id, ip->auth_key,
					 tk_hs_now_ms(hc))) {
			char nb[TK_HS_ADDR_LEN + 7];
			tk_hs_log(hc, TK_LOG_INFO,
				  "onion service %s: introduction point %zu "
				  "failed lately: skipped",
				  tk_hs_svc_name(v, nb), v->intro_next);
			continue;
		}
		if (v->n_tried < sizeof v->tried / sizeof v->tried[0])
			memcpy(v->tried[v->n_tried++], ip->auth_key, 32);
		memset(&t, 0, sizeof t);
		memcpy(t.rsa_id, ip->ls.legacy_id, 20);
		if (ip->ls.has_ed25519_id) {
			t.has_ed_id = 1;
			memcpy(t.ed_id, ip->ls.ed25519_id, 32);
		}
		memcpy(t.ntor_key, ip->onion_key, 32);
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, ip->ls.ipv4, 4);
		sin->sin_port = htons(ip->ls.ipv4_port);
		memcpy(v->ip_auth, ip->auth_key, 32);
		memcpy(v->ip_enc, ip->enc_key, 32);
		v->intro_next++;
		/* a clean internal circuit extended to the point if one
		 * fits beside it (one still building if that is sooner),
		 * else one built to it */
		if (tk_circ_pool_take_or_wait(hc->pool, &t, "intro",
					      tk_hs_on_oc_event, v,
					      &v->intro_oc,
					      &v->intro_extend) == 0 ||
		    tk_circmgr_build_to(hc->cm, &t, "intro", tk_hs_on_oc_event,
					v, &v->intro_oc, err,
					sizeof err) == 0) {
			v->intro_t = t;
			v->intro_deadline =
				tk_hs_now_ms(hc) + hc->cfg.intro_timeout_ms +
				60000; /* the build, then the answer */
			return;
		}
	}
	if (refetch(v))
		return;
	if (!d) {
		tk_hs_svc_fail(v, TK_ONION_HS_NOT_FOUND,
			       "descriptor gone from the cache");
		return;
	}
	if (v->n_intro_timeouts > 0 &&
	    v->n_rend_timeouts == v->n_intro_timeouts)
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED,
			       "no RENDEZVOUS2 in time through any "
			       "introduction point");
	else if (v->n_intro_timeouts > 0 || all_timed_out(v, d))
		tk_hs_svc_fail(v, TK_ONION_HS_INTRO_TIMEOUT,
			       "every introduction point timed out or failed");
	else
		tk_hs_svc_fail(v, TK_ONION_HS_INTRO_FAILED,
			       "every introduction point failed");
}

/* ---------------------------------------------------------- rendezvous */

/* What INTRODUCE1 says of the rendezvous point h: its ntor key and link
 * specifiers (IPv4 ORPort, RSA and Ed25519 identities). 0 or -1. */
static int
rend_point(struct tk_hs_svc *v, const tk_circuit_hop_target *h)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&h->addr;
	tk_linkspec ls[3];
	size_t n = 0;
	long k;

	if (h->addr.ss_family != AF_INET)
		return -1;
	memcpy(v->rp_onion_key, h->ntor_key, 32);
	tk_linkspec_ipv4(&ls[n++], (const uint8_t *)&sin->sin_addr,
			 ntohs(sin->sin_port));
	tk_linkspec_legacy_id(&ls[n++], h->rsa_id);
	if (h->has_ed_id)
		tk_linkspec_ed25519_id(&ls[n++], h->ed_id);
	k = tk_hs_linkspecs_encode(ls, n, v->rp_ls, sizeof v->rp_ls);
	if (k < 0)
		return -1;
	v->rp_ls_len = (size_t)k;
	return 0;
}

/* A circuit to a rendezvous point: a clean internal circuit as it is,
 * its last hop the point (path-spec 2.1.4), or one built to a random
 * point; -1 (the attempt failed F3) if none can be had. */
static int
rend_launch(struct tk_hs_svc *v)
{
	tk_hs_client *hc = v->hc;
	const struct tk_nodes *t = tk_circmgr_nodes(hc->cm);
	struct tk_path_opts po;
	struct tk_path_weights w;
	struct tk_path_rng rng = { tk_path_rng_system, NULL };
	tk_circuit_hop_target h;
	long rp;
	char err[200];
	int building;

	if (!t) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED,
			       "no usable directory");
		return -1;
	}
	v->rend_ready = 0;
	/* an open pool circuit, or one still building: launched earlier,
	 * it is ready sooner than one built now */
	if (tk_circ_pool_take_or_wait(hc->pool, NULL, NULL, tk_hs_on_oc_event,
				      v, &v->rend_oc, &building) == 0) {
		if (rend_point(v, &v->rend_oc->hop[2]) == 0) {
			v->n_rend++;
			v->rend_deadline = tk_hs_now_ms(hc) +
					   (building ? 60000 : 0) +
					   hc->cfg.rend_timeout_ms;
			return 0;
		}
		tk_hs_drop_oc(&v->rend_oc);
	}
	tk_path_opts_init(&po);
	po.enforce_distinct_subnets = 0; /* the guard is checked later */
	tk_path_weights_init(&w, t->c);
	rp = tk_path_pick(t->node, t->n, TK_PATH_MIDDLE, &w, &po, NULL, 0,
			  &rng);
	if (rp < 0) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED,
			       "no rendezvous point");
		return -1;
	}
	tk_hop_from_node(&t->node[rp], &h);
	if (rend_point(v, &h) != 0) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED,
			       "rendezvous point specifiers");
		return -1;
	}
	v->n_rend++;
	if (tk_circmgr_build_to(hc->cm, &h, t->node[rp].rt->nickname,
				tk_hs_on_oc_event, v, &v->rend_oc, err,
				sizeof err) != 0) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED, err);
		return -1;
	}
	v->rend_deadline = tk_hs_now_ms(hc) + 60000 + hc->cfg.rend_timeout_ms;
	return 0;
}

/* The rendezvous circuit failed, or its point did not answer: another
 * one while no INTRODUCE1 named this point, and tries are left; else
 * F3. */
static void
rend_retry(struct tk_hs_svc *v, const char *why)
{
	char nb[TK_HS_ADDR_LEN + 7];
	tk_hs_drop_oc(&v->rend_oc);
	v->rend_deadline = 0;
	if (v->intro_sent || v->n_rend >= REND_TRIES) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED, why);
		return;
	}
	tk_hs_log(v->hc, TK_LOG_INFO,
		  "onion service %s: %s: another rendezvous point",
		  tk_hs_svc_name(v, nb), why);
	rend_launch(v);
}

/* The introduction point acked INTRODUCE1 but no RENDEZVOUS2 came in
 * time. The point may hold a circuit of a service that is gone (its tor
 * restarted, and a relay on the way has not passed the DESTROY on yet:
 * the ack then means nothing), or the service could not reach our
 * rendezvous point. As tor (its acked rendezvous circuit times out, the
 * point is noted as timed out, the stream introduces again): this
 * rendezvous circuit goes, its cookie with it, and the next point gets
 * a fresh one (the caller launches it). Each point is tried once per
 * attempt, so this happens at most once per point. */
static void
rend_silent(struct tk_hs_svc *v)
{
	char nb[TK_HS_ADDR_LEN + 7];
	tk_hs_log(v->hc, TK_LOG_INFO,
		  "onion service %s: introduction point %zu acked, but no "
		  "RENDEZVOUS2 in time: a new rendezvous circuit, the next "
		  "introduction point",
		  tk_hs_svc_name(v, nb), v->intro_next);
	v->n_rend_timeouts++;
	tk_hs_drop_oc(&v->rend_oc);
	tk_wipe(v->cookie, sizeof v->cookie);
	v->rend_ready = 0;
	v->rend_deadline = 0;
	v->n_rend = 0; /* a new point: its own REND_TRIES */
}

/* The descriptor is in the cache: the rendezvous circuit and the first
 * introduction circuit are built at once, as tor builds them, so that
 * contact costs one circuit build rather than two in a row. A refetched
 * descriptor keeps the rendezvous circuit there is. */
void
tk_hs_join_start(struct tk_hs_svc *v)
{
	v->st = S_CONNECT;
	v->intro_next = 0;
	/* the introduction circuit first: with no point left to try (a
	 * refetched descriptor whose points all failed) no rendezvous
	 * circuit is built for nothing */
	intro_next(v);
	if (v->st == S_CONNECT && !v->rend_oc)
		rend_launch(v);
}

static void
rend_established_wait(struct tk_hs_svc *v)
{
	uint8_t body[TK_HS_REND_COOKIE_LEN];
	tk_circuit *c = tk_ocirc_circuit(v->rend_oc);
	if (!c) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED,
			       "rendezvous circuit gone");
		return;
	}
	tk_random(v->cookie, sizeof v->cookie);
	tk_hs_establish_rendezvous_encode(v->cookie, body, sizeof body);
	tk_circuit_set_control_cb(c, on_rend_cell, v);
	if (tk_circuit_send(c, -1, TK_RELAY_ESTABLISH_RENDEZVOUS, 0, body,
			    sizeof body, 0) < 0) {
		tk_hs_svc_fail(v, TK_ONION_HS_REND_FAILED,
			       "cannot send ESTABLISH_RENDEZVOUS");
		return;
	}
	v->rend_deadline = tk_hs_now_ms(v->hc) + v->hc->cfg.rend_timeout_ms;
}

/* ------------------------------------------------------- circuit events */

int
tk_hs_join_event(struct tk_hs_svc *v, tk_ocirc *oc, int ev, const char *why)
{
	char msg[300];

	if (oc == v->rend_oc) {
		if (ev == TK_OCIRC_EV_BUILT) {
			v->rend_hop = oc->n_hops - 1;
			rend_established_wait(v);
			return 1;
		}
		v->rend_oc = NULL; /* the manager's now */
		snprintf(msg, sizeof msg, "rendezvous circuit: %s",
			 why ? why : "failed");
		rend_retry(v, msg);
		return 1;
	}
	if (oc == v->intro_oc) {
		if (ev == TK_OCIRC_EV_BUILT && v->intro_extend) {
			/* the pool circuit waited for: now its EXTEND2 */
			v->intro_extend = 0;
			if (tk_ocirc_adopt(oc, &v->intro_t, "intro",
					   tk_hs_on_oc_event, v) != 0) {
				tk_hs_drop_oc(&v->intro_oc);
				intro_next(v);
			}
			return 1;
		}
		if (ev == TK_OCIRC_EV_BUILT) {
			v->intro_hop = oc->n_hops - 1;
			v->intro_built = 1;
			if (v->rend_ready)
				intro_send(v);
			else
				v->intro_deadline = 0; /* the rendezvous'
							* deadline runs */
			return 1;
		}
		v->intro_oc = NULL;
		if (v->intro_extend) {
			/* the pool circuit failed, not the point: the same
			 * point again, on another circuit */
			v->intro_extend = 0;
			if (v->n_tried && memcmp(v->tried[v->n_tried - 1],
						 v->ip_auth, 32) == 0)
				v->n_tried--;
			v->intro_next--;
			intro_next(v);
			return 1;
		}
		if (!v->intro_acked) {
			/* never built: unreachable (tor retries such a
			 * point in later requests, up to five failures) */
			ip_failed(v, v->intro_built ? TK_HS_IPFAIL_ERROR
						    : TK_HS_IPFAIL_UNREACHABLE);
			intro_next(v);
		}
		return 1;
	}
	return 0;
}

void
tk_hs_join_tick(struct tk_hs_svc *v, uint64_t now)
{
	if (v->st != S_CONNECT)
		return;
	if (v->rend_deadline && now >= v->rend_deadline) {
		rend_retry(v, "no RENDEZVOUS_ESTABLISHED in time");
	} else if (v->intro_deadline && now >= v->intro_deadline) {
		v->intro_deadline = 0;
		v->n_intro_timeouts++;
		ip_failed(v, TK_HS_IPFAIL_TIMEOUT);
		if (v->intro_acked)
			rend_silent(v);
		intro_next(v);
		/* the next point's, or the refetched descriptor's */
		if ((v->st == S_CONNECT || v->st == S_FETCH) && !v->rend_oc)
			rend_launch(v);
	}
}
