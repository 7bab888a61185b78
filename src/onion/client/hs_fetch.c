/* hs_fetch.h: a descriptor fetch from several HSDirs at once. */
#include "onion/client/hs_fetch.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/base/logf.h"
#include "onion/client/hop.h"
#include "onion/client/ocirc.h"
#include "onion/dir/dirclient.h"
#include "onion/hs/hs_ring.h"
#include "onion/netdir/nodes.h"
#include "onion/onion.h"

#define DIR_TIMEOUT_MS 30000

struct slot {
	tk_hs_fetch *f;
	size_t hsdir; /* its index in f->hsdir, for the log */
	tk_ocirc *oc;
	tk_dir_req *req;
	/* oc is a pool circuit still building, to be extended to the HSDir
	 * (t, nick) once built (tk_circ_pool_take_or_wait) */
	int extend;
	tk_circuit_hop_target t;
	char nick[20];
};

struct tk_hs_fetch {
	tk_circmgr *cm;
	struct tk_hs_keys keys;
	uint8_t sk[32];
	int has_sk;
	int64_t now;
	uint8_t hsdir[TK_HS_FETCH_MAX_HSDIRS][20];
	size_t n_hsdirs, next;
	struct slot slot[TK_HS_FETCH_MAX_HSDIRS];
	size_t n_slots; /* the parallelism */
	tk_circ_pool *pool;
	int took; /* a pool circuit (open or building) went to one HSDir: the
		   * rest are built */
	int desc_err; /* a descriptor did not decode */
	/* a refetch: descriptors at or below stale_rev are kept aside (the
	 * first one in `kept`) while other HSDirs are asked */
	int has_stale, has_kept;
	uint64_t stale_rev;
	struct tk_hs_desc kept;
	char name[80];
	tk_log_fn log;
	void *log_arg;
	tk_hs_fetch_cb cb;
	void *arg;
};

/* The log, each line naming the service (its name as SafeLogging
 * allows). fmt is a literal with at least one argument. */
#define f_log(f, level, fmt, ...)                                          \
	tk_logf((f)->log, (f)->log_arg, (level), "onion service %s: " fmt, \
		(f)->name, __VA_ARGS__)

/* Stops hearing of the slot's circuit and request and lets them go. */
static void
slot_clear(struct slot *s)
{
	tk_circuit *c;
	if (s->req) {
		tk_dir_cancel(s->req);
		s->req = NULL;
	}
	if (s->oc) {
		if ((c = tk_ocirc_circuit(s->oc)) != NULL)
			tk_circuit_set_control_cb(c, NULL, NULL);
		tk_ocirc_close(s->oc);
		s->oc = NULL;
	}
}

static int
slot_busy(const struct slot *s)
{
	return s->oc || s->req;
}

static void
f_free(tk_hs_fetch *f)
{
	for (size_t i = 0; i < f->n_slots; i++)
		slot_clear(&f->slot[i]);
	tk_wipe(f->sk, sizeof f->sk);
	tk_wipe(&f->keys, sizeof f->keys);
	if (f->has_kept)
		tk_hs_desc_free(&f->kept);
	free(f);
}

/* Reports and frees: the other slots' requests are cancelled first, so
 * that no answer arrives for a fetch that is gone. */
static void
finish(tk_hs_fetch *f, int reason, const char *why, struct tk_hs_desc *desc)
{
	tk_hs_fetch_cb cb = f->cb;
	void *arg = f->arg;
	for (size_t i = 0; i < f->n_slots; i++)
		slot_clear(&f->slot[i]);
	f_free(f);
	cb(arg, reason, why, desc);
}

static void on_oc_event(void *arg, tk_ocirc *oc, int ev, const char *why);

/* A circuit to HSDir i on slot s: with pool, a clean internal circuit
 * extended to it, or one still building whose last hop alone is missing
 * (extended once built: launched earlier, it is ready sooner than one
 * built now); else one built to it. 0, or -1 (i is gone from the
 * consensus, or no circuit). */
static int
slot_connect(struct slot *s, size_t i, int pool)
{
	tk_hs_fetch *f = s->f;
	const struct tk_nodes *t = tk_circmgr_nodes(f->cm);
	long k = t ? tk_nodes_find(t, f->hsdir[i]) : -1;
	char err[200];

	if (k < 0 || !t->node[k].md)
		return -1; /* gone from the consensus since */
	tk_hop_from_node(&t->node[k], &s->t);
	snprintf(s->nick, sizeof s->nick, "%s", t->node[k].rt->nickname);
	s->hsdir = i;
	s->extend = 0;
	if (pool &&
	    tk_circ_pool_take_or_wait(f->pool, &s->t, s->nick, on_oc_event, s,
				      &s->oc, &s->extend) == 0) {
		f->took = 1;
		return 0;
	}
	if (tk_circmgr_build_to(f->cm, &s->t, s->nick, on_oc_event, s, &s->oc,
				err, sizeof err) == 0)
		return 0;
	f_log(f, TK_LOG_INFO, "HSDir %zu: %s", i, err);
	return -1;
}

/* Puts the next HSDir of the list on slot s. 0, or -1 when the list is
 * used up. */
static int
slot_launch(struct slot *s)
{
	tk_hs_fetch *f = s->f;
	while (tk_circmgr_nodes(f->cm) && f->next < f->n_hsdirs)
		if (slot_connect(s, f->next++, !f->took) == 0)
			return 0;
	return -1;
}

/* Slot s is free again: the next HSDir on it, or, when none is left and
 * no other slot is still waiting, the end. */
static void
slot_next(struct slot *s)
{
	tk_hs_fetch *f = s->f;
	if (slot_launch(s) == 0)
		return;
	for (size_t i = 0; i < f->n_slots; i++)
		if (slot_busy(&f->slot[i]))
			return;
	if (f->has_kept) {
		/* no HSDir has a newer one: the one we had, after all */
		struct tk_hs_desc d = f->kept;
		f->has_kept = 0;
		finish(f, 0, NULL, &d);
		return;
	}
	if (f->desc_err)
		finish(f, f->desc_err, "no HSDir had a valid descriptor", NULL);
	else
		finish(f, TK_ONION_HS_NOT_FOUND, "no HSDir had the descriptor",
		       NULL);
}

static void
on_dir(tk_dir_req *r, int status, const tk_http_response *resp, void *arg)
{
	struct slot *s = arg;
	tk_hs_fetch *f = s->f;
	struct tk_hs_desc desc;
	struct tk_hs_desc_opts o;
	char err[200];
	int rc;

	(void)r;
	s->req = NULL;
	slot_clear(s);
	if (status != 0 || resp->status != 200) {
		f_log(f, TK_LOG_INFO, "HSDir %zu: %s %d", s->hsdir,
		      status ? "request failed" : "HTTP",
		      status ? status : resp->status);
		slot_next(s);
		return;
	}
	memset(&o, 0, sizeof o);
	o.now = (time_t)f->now;
	tk_hs_desc_init(&desc);
	rc = tk_hs_desc_decode((const char *)resp->body, resp->body_len,
			       &f->keys, f->has_sk ? f->sk : NULL, &o, &desc,
			       err, sizeof err);
	if (rc == TK_HS_DESC_ENEEDAUTH) {
		tk_hs_desc_free(&desc);
		finish(f, TK_ONION_HS_MISSING_AUTH,
		       "the descriptor needs client authorization and we have "
		       "no key for it",
		       NULL);
		return;
	}
	if (rc == TK_HS_DESC_EBADAUTH) {
		tk_hs_desc_free(&desc);
		finish(f, TK_ONION_HS_BAD_AUTH,
		       "our client authorization key does not open the "
		       "descriptor",
		       NULL);
		return;
	}
	if (rc != TK_HS_DESC_OK) {
		tk_hs_desc_free(&desc);
		f_log(f, TK_LOG_NOTICE, "descriptor does not decode: %s", err);
		f->desc_err = TK_ONION_HS_BAD_DESC;
		slot_next(s);
		return;
	}
	if (f->has_stale && desc.revision <= f->stale_rev) {
		f_log(f, TK_LOG_INFO,
		      "HSDir %zu: the descriptor we had (revision %llu): asking "
		      "the next one",
		      s->hsdir, (unsigned long long)desc.revision);
		if (f->has_kept) {
			tk_hs_desc_free(&desc);
		} else {
			f->kept = desc;
			f->has_kept = 1;
		}
		slot_next(s);
		return;
	}
	f_log(f, TK_LOG_INFO, "descriptor from HSDir %zu", s->hsdir);
	finish(f, 0, NULL, &desc);
}

static void
on_oc_event(void *arg, tk_ocirc *oc, int ev, const char *why)
{
	struct slot *s = arg;
	char path[TK_HS_DESC_PATH_LEN + 1];
	tk_circuit *c;

	if (oc != s->oc)
		return;
	if (ev == TK_OCIRC_EV_BUILT && s->extend) {
		/* the pool circuit waited for: now its EXTEND2 */
		s->extend = 0;
		if (tk_ocirc_adopt(oc, &s->t, s->nick, on_oc_event, s) != 0) {
			slot_clear(s);
			if (slot_connect(s, s->hsdir, 0) != 0)
				slot_next(s);
		}
		return;
	}
	if (ev != TK_OCIRC_EV_BUILT) {
		s->oc = NULL; /* the manager has let it go */
		if (s->req) {
			tk_dir_cancel(s->req);
			s->req = NULL;
		}
		f_log(s->f, TK_LOG_INFO, "HSDir %zu: circuit %s", s->hsdir,
		      why ? why : "failed");
		/* a pool circuit waited for failed, not the HSDir: the same
		 * HSDir again, on a circuit built to it */
		if (s->extend) {
			s->extend = 0;
			if (slot_connect(s, s->hsdir, 0) == 0)
				return;
		}
		slot_next(s);
		return;
	}
	c = tk_ocirc_circuit(oc);
	tk_hs_desc_path(s->f->keys.blinded, path);
	if (!c ||
	    tk_dir_get(c, path, 0, DIR_TIMEOUT_MS, on_dir, s, &s->req) != 0) {
		s->req = NULL;
		slot_clear(s);
		slot_next(s);
	}
}

size_t
tk_hs_fetch_hsdirs(const struct tk_nodes *t, const struct tk_hs_dirparams *p,
		   const uint8_t blinded[32],
		   uint8_t out[TK_HS_FETCH_MAX_HSDIRS][20])
{
	struct tk_hs_ring ring;
	size_t idx[TK_HS_FETCH_MAX_HSDIRS], n;

	if (tk_hs_ring_build(&ring, t, p->srv, p->period_num,
			     p->period_len_min) != 0)
		return 0;
	n = tk_hs_ring_responsible(&ring, blinded, p->n_replicas,
				   p->spread_fetch, idx,
				   TK_HS_FETCH_MAX_HSDIRS);
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
		memcpy(out[i], t->node[idx[i]].rt->rsa_id, 20);
	return n;
}

tk_hs_fetch *
tk_hs_fetch_start(const struct tk_hs_fetch_params *p, int *reason, char *why,
		  size_t whylen)
{
	tk_hs_fetch *f = calloc(1, sizeof *f);
	size_t n = p->n_hsdirs < TK_HS_FETCH_MAX_HSDIRS
			   ? p->n_hsdirs
			   : TK_HS_FETCH_MAX_HSDIRS;
	size_t launched = 0;

	if (!f) {
		*reason = TK_ONION_HS_NOT_FOUND;
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	f->cm = p->cm;
	f->pool = p->pool;
	f->keys = *p->keys;
	if (p->client_sk) {
		memcpy(f->sk, p->client_sk, 32);
		f->has_sk = 1;
	}
	f->now = p->now;
	f->has_stale = p->has_stale;
	f->stale_rev = p->stale_revision;
	memcpy(f->hsdir, p->hsdirs, n * 20);
	f->n_hsdirs = n;
	f->n_slots = p->parallel ? p->parallel : TK_HS_FETCH_PARALLEL;
	if (f->n_slots > TK_HS_FETCH_MAX_HSDIRS)
		f->n_slots = TK_HS_FETCH_MAX_HSDIRS;
	snprintf(f->name, sizeof f->name, "%s", p->name ? p->name : "?");
	f->log = p->log;
	f->log_arg = p->log_arg;
	f->cb = p->cb;
	f->arg = p->arg;
	for (size_t i = 0; i < f->n_slots; i++) {
		f->slot[i].f = f;
		if (slot_launch(&f->slot[i]) == 0)
			launched++;
	}
	if (launched == 0) {
		*reason = TK_ONION_HS_NOT_FOUND;
		snprintf(why, whylen, "no HSDir had the descriptor");
		f_free(f);
		return NULL;
	}
	return f;
}

void
tk_hs_fetch_cancel(tk_hs_fetch *f)
{
	if (f)
		f_free(f);
}

void
tk_hs_fetch_abandon(tk_hs_fetch *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_slots; i++)
		f->slot[i].oc = NULL;
	f_free(f);
}
