/* hs_client.h: descriptor fetch, rendezvous and introduction over the
 * circuit manager's circuits. */
#include "onion/client/hs_client.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/client/ocirc.h"
#include "onion/dir/dirclient.h"
#include "onion/hs/hs_auth.h"
#include "onion/hs/hs_cache.h"
#include "onion/hs/hs_cell.h"
#include "onion/hs/hs_desc.h"
#include "onion/hs/hs_keys.h"
#include "onion/hs/hs_linkspec.h"
#include "onion/hs/hs_ntor.h"
#include "onion/hs/hs_period.h"
#include "onion/hs/hs_ring.h"
#include "onion/netdir/path.h"
#include "onion/onion.h"

#define TICK_MS 500
#define MAX_HSDIRS 32
#define DIR_TIMEOUT_MS 30000
#define REND_TIMEOUT_MS 30000 /* for RENDEZVOUS_ESTABLISHED */

enum svc_state {
	S_IDLE,
	S_WAITDIR, /* no usable directory yet */
	S_FETCH,
	S_REND,	 /* rendezvous circuit: building, or waiting for ESTABLISHED */
	S_INTRO, /* introduction under way, then waiting for RENDEZVOUS2 */
	S_JOINED,
};

struct waiter {
	struct waiter *next;
	struct tk_circreq *r;
};

struct svc {
	struct svc *next, *prev;
	tk_hs_client *hc;
	uint8_t id[TK_HS_ID_LEN];
	enum svc_state st;
	struct waiter *waiters;
	struct tk_defer d;
	int result;
	struct tk_hs_keys keys;
	int64_t now, period_end; /* the consensus's valid-after */
	uint64_t deadline;	 /* uv_now ms, 0: none */
	/* descriptor fetch */
	uint8_t hsdir[MAX_HSDIRS][20];
	size_t n_hsdirs, dir_next;
	tk_ocirc *dir_oc;
	tk_dir_req *dir_req;
	int desc_err;
	/* rendezvous */
	tk_ocirc *rend_oc;
	int rend_ready;
	uint8_t cookie[TK_HS_REND_COOKIE_LEN];
	uint8_t rp_onion_key[32];
	uint8_t rp_ls[128];
	size_t rp_ls_len;
	/* introduction */
	size_t intro_next;
	tk_ocirc *intro_oc;
	int intro_acked;
	uint8_t ip_auth[32], ip_enc[32];
	struct tk_hs_ntor_client ntor;
	int n_intro_timeouts;
	tk_ocirc *joined;
};

struct tk_hs_client {
	tk_circmgr *cm;
	struct tk_hs_client_config cfg;
	struct tk_hs_auth_set auth;
	struct tk_hs_cache *cache;
	struct svc *svcs;
	size_t n_svcs;
	uv_timer_t *tick;
};

void
tk_hs_client_config_init(struct tk_hs_client_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->intro_timeout_ms = 20000;
	cfg->scrub_hosts = 1;
}

static void hc_log(tk_hs_client *hc, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
hc_log(tk_hs_client *hc, int level, const char *fmt, ...)
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
static const char *
svc_name(const struct svc *v, char buf[TK_HS_ADDR_LEN + 7])
{
	if (v->hc->cfg.scrub_hosts)
		return "[scrubbed]";
	tk_hs_addr_encode(v->id, buf);
	strcat(buf, ".onion");
	return buf;
}

static uint64_t
now_ms(const tk_hs_client *hc)
{
	return uv_now(tk_circmgr_loop(hc->cm));
}

static void
hop_from_node(const struct tk_path_node *n, tk_circuit_hop_target *h)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&h->addr;
	memset(h, 0, sizeof *h);
	memcpy(h->rsa_id, n->rt->rsa_id, 20);
	if (n->md->has_ed25519) {
		h->has_ed_id = 1;
		memcpy(h->ed_id, n->md->ed25519_id, 32);
	}
	memcpy(h->ntor_key, n->md->ntor_key, 32);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(n->rt->ipv4);
	sin->sin_port = htons(n->rt->or_port);
}

static long
node_by_id(const struct tk_nodes *t, const uint8_t id[20])
{
	for (size_t i = 0; i < t->n; i++)
		if (memcmp(t->node[i].rt->rsa_id, id, 20) == 0)
			return (long)i;
	return -1;
}

/* ------------------------------------------------------------ cleanup */

/* Stops hearing of *ocp and lets it go. The circuit's control callback
 * points at v: cleared before anything else. */
static void
drop_oc(tk_ocirc **ocp)
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
svc_reset(struct svc *v)
{
	if (v->dir_req) {
		tk_dir_cancel(v->dir_req);
		v->dir_req = NULL;
	}
	drop_oc(&v->dir_oc);
	drop_oc(&v->rend_oc);
	drop_oc(&v->intro_oc);
	tk_hs_ntor_client_wipe(&v->ntor);
	tk_wipe(v->cookie, sizeof v->cookie);
	v->rend_ready = v->intro_acked = 0;
	v->deadline = 0;
}

static void
svc_free(struct svc *v)
{
	tk_hs_client *hc = v->hc;
	struct waiter *w, *n;
	svc_reset(v);
	drop_oc(&v->joined);
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
	struct svc *v = container_of(d, struct svc, d);
	struct waiter *w;
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

static void
answer(struct svc *v, int reason)
{
	v->result = reason;
	tk_circmgr_defer(v->hc->cm, &v->d);
}

static void
fail(struct svc *v, int reason, const char *why)
{
	char nb[TK_HS_ADDR_LEN + 7];
	hc_log(v->hc, TK_LOG_NOTICE, "onion service %s: %s", svc_name(v, nb),
	       why);
	svc_reset(v);
	v->st = S_IDLE;
	answer(v, reason);
}

/* ------------------------------------------------------- introduction */

static void on_oc_event(void *arg, tk_ocirc *oc, int ev, const char *why);
static void intro_next(struct svc *v);

static void
joined(struct svc *v)
{
	char nb[TK_HS_ADDR_LEN + 7];
	v->joined = v->rend_oc;
	v->rend_oc = NULL;
	drop_oc(&v->intro_oc);
	tk_hs_ntor_client_wipe(&v->ntor);
	v->deadline = 0;
	v->st = S_JOINED;
	hc_log(v->hc, TK_LOG_INFO, "onion service %s: joined on circ %u",
	       svc_name(v, nb), tk_ocirc_serial(v->joined));
	answer(v, 0);
}

static void
on_rend_cell(void *arg, int status, int hop, uint8_t cmd, const uint8_t *data,
	     size_t len)
{
	struct svc *v = arg;
	uint8_t info[TK_HS_NTOR_REPLY_LEN], seed[32], keys[TK_HS_NTOR_KEYS_LEN];
	tk_circuit *c;
	(void)status;
	if (!v->rend_oc || hop != 2)
		return;
	if (cmd == TK_RELAY_RENDEZVOUS_ESTABLISHED && !v->rend_ready) {
		tk_hs_rendezvous_established_decode(data, len);
		v->rend_ready = 1;
		v->st = S_INTRO;
		intro_next(v);
		return;
	}
	if (cmd != TK_RELAY_RENDEZVOUS2 || v->st != S_INTRO)
		return;
	c = tk_ocirc_circuit(v->rend_oc);
	if (!c || tk_hs_rendezvous2_decode(data, len, info) != 0 ||
	    tk_hs_ntor_client_finish(&v->ntor, info, seed) != 0) {
		fail(v, TK_ONION_HS_REND_FAILED,
		     "RENDEZVOUS2 did not verify (hs-ntor)");
		return;
	}
	tk_hs_ntor_expand(seed, keys);
	tk_wipe(seed, sizeof seed);
	tk_circuit_set_control_cb(c, NULL, NULL);
	int rc = tk_circuit_add_virtual_hop(c, keys);
	tk_wipe(keys, sizeof keys);
	if (rc != 0) {
		fail(v, TK_ONION_HS_REND_FAILED, tk_circuit_strerror(rc));
		return;
	}
	tk_ocirc_joined(v->rend_oc);
	joined(v);
}

static void
on_intro_cell(void *arg, int status, int hop, uint8_t cmd, const uint8_t *data,
	      size_t len)
{
	struct svc *v = arg;
	struct tk_hs_intro_ack ack;
	char nb[TK_HS_ADDR_LEN + 7];
	(void)status;
	if (!v->intro_oc || hop != 2 || cmd != TK_RELAY_INTRODUCE_ACK)
		return;
	if (tk_hs_introduce_ack_decode(data, len, &ack) == 0 &&
	    ack.status == TK_HS_INTRO_ACK_SUCCESS) {
		/* The service has it: only RENDEZVOUS2 is missing now. As
		 * tor, the introduction circuit is done. */
		v->intro_acked = 1;
		drop_oc(&v->intro_oc);
		return;
	}
	hc_log(v->hc, TK_LOG_INFO,
	       "onion service %s: introduction point %zu refused (status "
	       "%u)",
	       svc_name(v, nb), v->intro_next, ack.status);
	drop_oc(&v->intro_oc);
	intro_next(v);
}

static void
intro_send(struct svc *v)
{
	struct tk_hs_intro1 in;
	uint8_t body[TK_RELAY_DATA_MAX];
	tk_circuit *c = tk_ocirc_circuit(v->intro_oc);
	long n;

	if (!c || tk_hs_ntor_client_init(&v->ntor, NULL, v->ip_enc, v->ip_auth,
					 v->keys.subcred) != 0) {
		drop_oc(&v->intro_oc);
		intro_next(v);
		return;
	}
	memset(&in, 0, sizeof in);
	memcpy(in.auth_key, v->ip_auth, 32);
	memcpy(in.rend_cookie, v->cookie, sizeof in.rend_cookie);
	memcpy(in.rp_onion_key, v->rp_onion_key, 32);
	in.rp_linkspecs = v->rp_ls;
	in.rp_linkspecs_len = v->rp_ls_len;
	n = tk_hs_introduce1_encode(&in, &v->ntor, body, sizeof body);
	tk_circuit_set_control_cb(c, on_intro_cell, v);
	if (n < 0 || tk_circuit_send(c, -1, TK_RELAY_INTRODUCE1, 0, body,
				     (size_t)n, 0) < 0) {
		drop_oc(&v->intro_oc);
		intro_next(v);
		return;
	}
	v->deadline = now_ms(v->hc) + v->hc->cfg.intro_timeout_ms;
}

/* The next introduction point of the descriptor we can reach. */
static void
intro_next(struct svc *v)
{
	tk_hs_client *hc = v->hc;
	const struct tk_hs_desc *d;
	tk_circuit_hop_target t;
	char err[200];

	drop_oc(&v->intro_oc);
	tk_hs_ntor_client_wipe(&v->ntor);
	v->intro_acked = 0;
	d = tk_hs_cache_get(hc->cache, v->keys.blinded, v->keys.period_num,
			    v->now);
	for (; d && v->intro_next < d->n_intro; v->intro_next++) {
		const struct tk_hs_intro_point *ip = &d->intro[v->intro_next];
		struct sockaddr_in *sin = (struct sockaddr_in *)&t.addr;
		if (!ip->ls.has_legacy_id || !ip->ls.has_ipv4)
			continue; /* tor needs both to extend */
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
		if (tk_circmgr_build_to(hc->cm, &t, "intro", on_oc_event, v,
					&v->intro_oc, err, sizeof err) == 0) {
			v->deadline = now_ms(hc) + hc->cfg.intro_timeout_ms +
				      60000; /* the build, then the answer */
			return;
		}
	}
	if (!d) {
		fail(v, TK_ONION_HS_NOT_FOUND,
		     "descriptor gone from the cache");
		return;
	}
	if (v->n_intro_timeouts > 0)
		fail(v, TK_ONION_HS_INTRO_TIMEOUT,
		     "every introduction point timed out or failed");
	else
		fail(v, TK_ONION_HS_INTRO_FAILED,
		     "every introduction point failed");
}

/* ---------------------------------------------------------- rendezvous */

static void
rend_start(struct svc *v)
{
	tk_hs_client *hc = v->hc;
	const struct tk_nodes *t = tk_circmgr_nodes(hc->cm);
	struct tk_path_opts po;
	struct tk_path_weights w;
	struct tk_path_rng rng = { tk_path_rng_system, NULL };
	tk_circuit_hop_target h;
	tk_linkspec ls[3];
	size_t n = 0;
	long rp;
	char err[200];
	long k;

	if (!t) {
		fail(v, TK_ONION_HS_REND_FAILED, "no usable directory");
		return;
	}
	tk_path_opts_init(&po);
	po.enforce_distinct_subnets = 0; /* the guard is checked later */
	tk_path_weights_init(&w, t->c);
	rp = tk_path_pick(t->node, t->n, TK_PATH_MIDDLE, &w, &po, NULL, 0,
			  &rng);
	if (rp < 0) {
		fail(v, TK_ONION_HS_REND_FAILED, "no rendezvous point");
		return;
	}
	hop_from_node(&t->node[rp], &h);
	memcpy(v->rp_onion_key, h.ntor_key, 32);
	{
		uint8_t a[4];
		uint32_t ip = htonl(t->node[rp].rt->ipv4);
		memcpy(a, &ip, 4);
		tk_linkspec_ipv4(&ls[n++], a, t->node[rp].rt->or_port);
	}
	tk_linkspec_legacy_id(&ls[n++], h.rsa_id);
	if (h.has_ed_id)
		tk_linkspec_ed25519_id(&ls[n++], h.ed_id);
	k = tk_hs_linkspecs_encode(ls, n, v->rp_ls, sizeof v->rp_ls);
	if (k < 0) {
		fail(v, TK_ONION_HS_REND_FAILED, "rendezvous point specifiers");
		return;
	}
	v->rp_ls_len = (size_t)k;
	v->st = S_REND;
	v->intro_next = 0;
	v->n_intro_timeouts = 0;
	if (tk_circmgr_build_to(hc->cm, &h, t->node[rp].rt->nickname,
				on_oc_event, v, &v->rend_oc, err,
				sizeof err) != 0) {
		fail(v, TK_ONION_HS_REND_FAILED, err);
		return;
	}
	v->deadline = now_ms(hc) + 60000 + REND_TIMEOUT_MS;
}

static void
rend_established_wait(struct svc *v)
{
	uint8_t body[TK_HS_REND_COOKIE_LEN];
	tk_circuit *c = tk_ocirc_circuit(v->rend_oc);
	if (!c) {
		fail(v, TK_ONION_HS_REND_FAILED, "rendezvous circuit gone");
		return;
	}
	tk_random(v->cookie, sizeof v->cookie);
	tk_hs_establish_rendezvous_encode(v->cookie, body, sizeof body);
	tk_circuit_set_control_cb(c, on_rend_cell, v);
	if (tk_circuit_send(c, -1, TK_RELAY_ESTABLISH_RENDEZVOUS, 0, body,
			    sizeof body, 0) < 0) {
		fail(v, TK_ONION_HS_REND_FAILED,
		     "cannot send ESTABLISH_RENDEZVOUS");
		return;
	}
	v->deadline = now_ms(v->hc) + REND_TIMEOUT_MS;
}

/* ----------------------------------------------------- descriptor fetch */

static void fetch_next(struct svc *v);

static void
on_dir(tk_dir_req *r, int status, const tk_http_response *resp, void *arg)
{
	struct svc *v = arg;
	tk_hs_client *hc = v->hc;
	struct tk_hs_desc desc;
	struct tk_hs_desc_opts o;
	char err[200], nb[TK_HS_ADDR_LEN + 7];
	const uint8_t *sk;
	int rc;

	(void)r;
	v->dir_req = NULL;
	drop_oc(&v->dir_oc);
	if (status != 0 || resp->status != 200) {
		hc_log(hc, TK_LOG_INFO, "onion service %s: HSDir %zu: %s %d",
		       svc_name(v, nb), v->dir_next,
		       status ? "request failed" : "HTTP",
		       status ? status : resp->status);
		fetch_next(v);
		return;
	}
	memset(&o, 0, sizeof o);
	o.now = (time_t)v->now;
	sk = tk_hs_auth_set_find(&hc->auth, v->id);
	tk_hs_desc_init(&desc);
	rc = tk_hs_desc_decode((const char *)resp->body, resp->body_len,
			       &v->keys, sk, &o, &desc, err, sizeof err);
	if (rc == TK_HS_DESC_ENEEDAUTH) {
		tk_hs_desc_free(&desc);
		fail(v, TK_ONION_HS_MISSING_AUTH,
		     "the descriptor needs client authorization and we have "
		     "no key for it");
		return;
	}
	if (rc == TK_HS_DESC_EBADAUTH) {
		tk_hs_desc_free(&desc);
		fail(v, TK_ONION_HS_BAD_AUTH,
		     "our client authorization key does not open the "
		     "descriptor");
		return;
	}
	if (rc != TK_HS_DESC_OK) {
		tk_hs_desc_free(&desc);
		hc_log(hc, TK_LOG_NOTICE,
		       "onion service %s: descriptor does not decode: %s",
		       svc_name(v, nb), err);
		v->desc_err = TK_ONION_HS_BAD_DESC;
		fetch_next(v);
		return;
	}
	if (desc.n_intro == 0) {
		tk_hs_desc_free(&desc);
		fail(v, TK_ONION_HS_INTRO_FAILED,
		     "the descriptor lists no usable introduction point");
		return;
	}
	if (tk_hs_cache_put(hc->cache, v->keys.period_num, &desc, v->period_end,
			    v->now) < 0) {
		tk_hs_desc_free(&desc);
		fail(v, TK_ONION_HS_BAD_DESC, "cannot cache the descriptor");
		return;
	}
	rend_start(v);
}

static void
dir_built(struct svc *v)
{
	char path[TK_HS_DESC_PATH_LEN + 1];
	tk_circuit *c = tk_ocirc_circuit(v->dir_oc);
	tk_hs_desc_path(v->keys.blinded, path);
	if (!c || tk_dir_get(c, path, 0, DIR_TIMEOUT_MS, on_dir, v,
			     &v->dir_req) != 0) {
		v->dir_req = NULL;
		drop_oc(&v->dir_oc);
		fetch_next(v);
	}
}

static void
fetch_next(struct svc *v)
{
	tk_hs_client *hc = v->hc;
	const struct tk_nodes *t = tk_circmgr_nodes(hc->cm);
	tk_circuit_hop_target h;
	char err[200];

	while (t && v->dir_next < v->n_hsdirs) {
		long k = node_by_id(t, v->hsdir[v->dir_next++]);
		if (k < 0 || !t->node[k].md)
			continue;
		hop_from_node(&t->node[k], &h);
		if (tk_circmgr_build_to(hc->cm, &h, t->node[k].rt->nickname,
					on_oc_event, v, &v->dir_oc, err,
					sizeof err) == 0)
			return;
	}
	fail(v, v->desc_err ? v->desc_err : TK_ONION_HS_NOT_FOUND,
	     v->desc_err ? "no HSDir had a valid descriptor"
			 : "no HSDir had the descriptor");
}

static void
svc_start(struct svc *v)
{
	tk_hs_client *hc = v->hc;
	const struct tk_nodes *t = tk_circmgr_nodes(hc->cm);
	struct tk_hs_dirparams p;
	struct tk_hs_ring ring;
	size_t idx[MAX_HSDIRS], n;

	if (!t) {
		v->st = S_WAITDIR; /* the tick tries again */
		return;
	}
	tk_hs_dirparams_init(&p, t->c, hc->cfg.testing);
	if (tk_hs_keys_derive(v->id, p.period_num, p.period_len_min,
			      &v->keys) != 0) {
		fail(v, TK_ONION_HS_BAD_ADDRESS, "not a valid key");
		return;
	}
	v->now = t->c->valid_after;
	v->period_end = p.period_end;
	v->desc_err = 0;
	if (tk_hs_cache_get(hc->cache, v->keys.blinded, v->keys.period_num,
			    v->now)) {
		rend_start(v);
		return;
	}
	if (tk_hs_ring_build(&ring, t, p.srv, p.period_num, p.period_len_min) !=
	    0) {
		fail(v, TK_ONION_HS_NOT_FOUND, "out of memory");
		return;
	}
	n = tk_hs_ring_responsible(&ring, v->keys.blinded, p.n_replicas,
				   p.spread_fetch, idx, MAX_HSDIRS);
	tk_hs_ring_free(&ring);
	/* Tor asks the responsible HSDirs in random order. */
	for (size_t i = n; i > 1; i--) {
		uint32_t j;
		tk_random(&j, sizeof j);
		j %= (uint32_t)i;
		size_t tmp = idx[i - 1];
		idx[i - 1] = idx[j];
		idx[j] = tmp;
	}
	for (size_t i = 0; i < n; i++)
		memcpy(v->hsdir[i], t->node[idx[i]].rt->rsa_id, 20);
	v->n_hsdirs = n;
	v->dir_next = 0;
	v->st = S_FETCH;
	fetch_next(v);
}

/* ------------------------------------------------------- circuit events */

static void
on_oc_event(void *arg, tk_ocirc *oc, int ev, const char *why)
{
	struct svc *v = arg;
	char msg[300];

	if (oc == v->joined) {
		if (ev != TK_OCIRC_EV_BUILT) {
			v->joined = NULL; /* the manager closed it */
			v->st = S_IDLE;
			if (!v->waiters && !v->d.queued)
				svc_free(v);
		}
		return;
	}
	if (oc == v->dir_oc) {
		if (ev == TK_OCIRC_EV_BUILT) {
			dir_built(v);
			return;
		}
		v->dir_oc = NULL;
		if (v->dir_req) {
			tk_dir_cancel(v->dir_req);
			v->dir_req = NULL;
		}
		fetch_next(v);
		return;
	}
	if (oc == v->rend_oc) {
		if (ev == TK_OCIRC_EV_BUILT) {
			rend_established_wait(v);
			return;
		}
		v->rend_oc = NULL;
		snprintf(msg, sizeof msg, "rendezvous circuit: %s",
			 why ? why : "failed");
		fail(v, TK_ONION_HS_REND_FAILED, msg);
		return;
	}
	if (oc == v->intro_oc) {
		if (ev == TK_OCIRC_EV_BUILT) {
			intro_send(v);
			return;
		}
		v->intro_oc = NULL;
		if (!v->intro_acked)
			intro_next(v);
	}
}

static void
on_tick(uv_timer_t *tm)
{
	tk_hs_client *hc = tm->data;
	uint64_t now = now_ms(hc);
	struct svc *v, *next;

	for (v = hc->svcs; v; v = next) {
		next = v->next;
		if (v->st == S_WAITDIR && tk_circmgr_nodes(hc->cm)) {
			svc_start(v);
			continue;
		}
		if (!v->deadline || now < v->deadline)
			continue;
		v->deadline = 0;
		if (v->st == S_INTRO && v->intro_oc && !v->intro_acked) {
			v->n_intro_timeouts++;
			intro_next(v);
		} else if (v->st == S_INTRO) {
			fail(v, TK_ONION_HS_REND_FAILED,
			     "no RENDEZVOUS2 in time");
		} else if (v->st == S_REND) {
			fail(v, TK_ONION_HS_REND_FAILED,
			     "no RENDEZVOUS_ESTABLISHED in time");
		}
	}
}

/* ------------------------------------------------------------- requests */

int
tk_hs_client_request(tk_hs_client *hc, const uint8_t id[TK_HS_ID_LEN],
		     struct tk_circreq *r)
{
	struct svc *v;
	struct waiter *w = calloc(1, sizeof *w);

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
		hc_log(hc, TK_LOG_WARN, "onion service request refused: %s",
		       w ? "too many services at once" : "out of memory");
		return -1;
	}
	w->r = r;
	w->next = v->waiters;
	v->waiters = w;
	if (v->joined) {
		if (v->joined->state == TK_OCIRC_OPEN && !v->joined->unusable &&
		    !v->joined->closed) {
			answer(v, 0);
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
	for (struct svc *v = hc->svcs; v; v = v->next)
		for (struct waiter **pp = &v->waiters; *pp; pp = &(*pp)->next)
			if ((*pp)->r == r) {
				struct waiter *w = *pp;
				*pp = w->next;
				free(w);
				return;
			}
}

void
tk_hs_client_purge(tk_hs_client *hc)
{
	size_t n = tk_hs_cache_expire(hc->cache, INT64_MAX);
	hc_log(hc, TK_LOG_INFO,
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
	hc_log(arg, TK_LOG_WARN, "ClientOnionAuthDir: %s", msg);
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
	if (cfg->auth_dir &&
	    tk_hs_auth_load_dir(cfg->auth_dir, &hc->auth, auth_warn, hc, err,
				errlen) != 0)
		goto fail;
	if (cfg->auth_dir)
		hc_log(hc, TK_LOG_NOTICE,
		       "ClientOnionAuthDir: %zu client authorization key%s",
		       hc->auth.n, hc->auth.n == 1 ? "" : "s");
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
			hc->svcs->dir_oc = hc->svcs->rend_oc = NULL;
			hc->svcs->intro_oc = hc->svcs->joined = NULL;
		}
		svc_free(hc->svcs);
	}
	uv_close((uv_handle_t *)hc->tick, tick_closed);
	tk_hs_cache_free(hc->cache);
	tk_hs_auth_set_free(&hc->auth);
	free(hc);
}
