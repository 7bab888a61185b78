/* hs_client.h: the services and their requests, the descriptor cache
 * and the fetch (hs_fetch.h); the introduction and the rendezvous are
 * hs_client_join.c's (hs_client_int.h). */
#include "onion/client/hs_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/client/hs_client_int.h"
#include "onion/client/hs_fetch.h"
#include "onion/client/ocirc.h"
#include "onion/hs/hs_auth.h"
#include "onion/hs/hs_cache.h"
#include "onion/hs/hs_desc.h"
#include "onion/hs/hs_keys.h"
#include "onion/hs/hs_period.h"
#include "onion/onion.h"

#define TICK_MS 500

void
tk_hs_client_config_init(struct tk_hs_client_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->intro_timeout_ms = 20000;
	cfg->scrub_hosts = 1;
}

void
tk_hs_log(tk_hs_client *hc, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!hc->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	hc->cfg.log(hc->cfg.log_arg, level, msg);
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
	if (v->st == S_IDLE)
		svc_start(v);
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
	tk_hs_log(hc, TK_LOG_INFO,
		  "NEWNYM: %zu onion service descriptor%s dropped", n,
		  n == 1 ? "" : "s");
}

void
tk_hs_client_set_scrub(tk_hs_client *hc, int on)
{
	hc->cfg.scrub_hosts = on;
}

static void
auth_warn(void *arg, const char *msg)
{
	tk_hs_log(arg, TK_LOG_WARN, "ClientOnionAuthDir: %s", msg);
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
	hc->cache = tk_hs_cache_new(0, 0);
	hc->tick = calloc(1, sizeof *hc->tick);
	if (!hc->cache || !hc->tick) {
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
	uv_close((uv_handle_t *)hc->tick, tick_closed);
	tk_hs_cache_free(hc->cache);
	tk_hs_auth_set_free(&hc->auth);
	free(hc);
}
