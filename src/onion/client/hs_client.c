/* hs_client.h: the services and their requests, each one's attempt
 * from state to state (the descriptor, then the introduction and the
 * rendezvous side by side, then joined), the answers, the tick. The top
 * of the onion-service client's files (hs_client_svc.h says how they
 * stack): the descriptor is hs_client_desc.c's, the introduction
 * hs_client_intro.c's, the rendezvous hs_client_rend.c's; they report
 * back through hc->hooks. */
#include "onion/client/hs_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "onion/client/hs_client_desc.h"
#include "onion/client/hs_client_int.h"
#include "onion/client/hs_client_intro.h"
#include "onion/client/hs_client_rend.h"
#include "onion/client/hs_client_svc.h"
#include "onion/client/hs_fetch.h"
#include "onion/client/ocirc.h"
#include "onion/hs/hs_auth.h"
#include "onion/hs/hs_cache.h"
#include "onion/hs/hs_ipfail.h"
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

static void
svc_free(struct tk_hs_svc *v)
{
	tk_hs_client *hc = v->hc;
	struct tk_hs_waiter *w, *n;
	tk_hs_svc_reset(v);
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

/* ------------------------------------------------------------ the join */

/* hooks.desc_ready: the descriptor is in the cache. The rendezvous
 * circuit and the first introduction circuit are built at once, as tor
 * builds them, so that contact costs one circuit build rather than two
 * in a row. A refetched descriptor keeps the rendezvous circuit there
 * is. */
static void
join_start(struct tk_hs_svc *v)
{
	v->st = S_CONNECT;
	v->intro_next = 0;
	/* the introduction circuit first: with no point left to try (a
	 * refetched descriptor whose points all failed) no rendezvous
	 * circuit is built for nothing */
	tk_hs_intro_next(v);
	if (v->st == S_CONNECT && !v->rend_oc)
		tk_hs_rend_launch(v);
}

/* hooks.rend_ready: RENDEZVOUS_ESTABLISHED is in. */
static void
rend_ready(struct tk_hs_svc *v)
{
	/* the introduction circuit may have been waiting for this */
	if (v->intro_built && !v->intro_sent)
		tk_hs_intro_send(v);
}

/* oc's event if it is v's rendezvous or introduction circuit: 1, else
 * 0. */
static int
join_event(struct tk_hs_svc *v, tk_ocirc *oc, int ev, const char *why)
{
	if (oc == v->rend_oc) {
		tk_hs_rend_event(v, oc, ev, why);
		return 1;
	}
	if (oc == v->intro_oc) {
		tk_hs_intro_event(v, oc, ev);
		return 1;
	}
	return 0;
}

/* The timeouts of the introduction and the rendezvous. */
static void
join_tick(struct tk_hs_svc *v, uint64_t now)
{
	if (v->st != S_CONNECT)
		return;
	if (v->rend_deadline && now >= v->rend_deadline) {
		tk_hs_rend_retry(v, "no RENDEZVOUS_ESTABLISHED in time");
	} else if (v->intro_deadline && now >= v->intro_deadline) {
		v->intro_deadline = 0;
		v->n_intro_timeouts++;
		tk_hs_intro_failed(v, TK_HS_IPFAIL_TIMEOUT);
		if (v->intro_acked)
			tk_hs_rend_silent(v);
		tk_hs_intro_next(v);
		/* the next point's, or the refetched descriptor's */
		if ((v->st == S_CONNECT || v->st == S_FETCH) && !v->rend_oc)
			tk_hs_rend_launch(v);
	}
}

/* ------------------------------------------------------- circuit events */

/* The owner callback of every circuit built for a service
 * (hooks.oc_event): the joined one is this file's, the others the
 * introduction's or the rendezvous'. */
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
	join_event(v, oc, ev, why);
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
			tk_hs_desc_start(v);
			continue;
		}
		if (v->st != S_CONNECT)
			continue;
		join_tick(v, now);
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
		tk_hs_desc_start(v);
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
	hc->hooks.oc_event = tk_hs_on_oc_event;
	hc->hooks.desc_ready = join_start;
	hc->hooks.rend_ready = rend_ready;
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
