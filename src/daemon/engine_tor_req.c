/* engine_tor_req.c — CONNECT, RESOLVE and RESOLVE_PTR through the onion
 * library: what the daemon's options refuse before any circuit is asked,
 * and the answers translated back (onion-service errors, internal
 * addresses an exit names). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/engine_tor_int.h"
#include "daemon/log.h"
#include "lib/addr.h"

/* ---- refusals made here, answered on the next loop turn */

static void
deferred_cb(uv_timer_t *t)
{
	struct tor_engine *e = t->data;

	while (e->deferred != NULL) {
		struct tk_engine_req *r = e->deferred;

		e->deferred = r->dnext;
		r->is_deferred = 0;
		if (r->kind == REQ_CONNECT)
			r->ccb(r->arg, r->reason, NULL);
		else
			r->rcb(r->arg, r->reason, NULL);
		tk_et_req_free(r);
	}
}

/* Fails r with `reason` from the loop, never from inside the call. */
static int
fail_later(struct tk_engine_req *r, int reason, struct tk_engine_req **out)
{
	struct tor_engine *e = r->e;

	r->reason = reason;
	r->is_deferred = 1;
	r->dnext = e->deferred;
	e->deferred = r;
	uv_timer_start(&e->done_timer, deferred_cb, 0, 0);
	*out = r;
	return 0;
}

/* ClientRejectInternalAddresses, as Tor: a CONNECT to an internal
 * address literal, or to "localhost", "local" or a *.local name, is
 * refused here instead of being sent to exit after exit. */
static int
is_private_target(const struct tk_target *t)
{
	if (t->family == AF_INET || t->family == AF_INET6)
		return tk_addr_is_internal(t->family, t->addr);
	return tk_addr_name_is_local(t->host);
}

static void
log_private(struct tor_engine *e, const char *what)
{
	uint64_t now = uv_now(e->base.loop);

	/* Tor's message, at most once in 5 minutes as Tor. */
	if (e->last_private_log != 0 && now - e->last_private_log < 300000)
		return;
	e->last_private_log = now;
	tk_warn("Rejecting SOCKS request for anonymous connection to private "
		"address %s.",
		tk_dlog_safe(what));
}

/* ---- connect */

/* An onion-service failure (onion.h) as Tor answers it: the extended
 * code F0-F7 on ExtendedErrors ports, else the plain reply of the END
 * reason Tor ends the stream with (TORPROTOCOL for a malformed address,
 * REP 01; RESOLVEFAILED otherwise, REP 04). */
static int
hs_reason(int reason)
{
	int code;

	if (!TK_ONION_IS_HS_ERROR(reason))
		return reason;
	code = 0xF0 + (reason - TK_ONION_HS_NOT_FOUND);
	return TK_END_EXT(code, reason == TK_ONION_HS_BAD_ADDRESS
					? TK_END_TORPROTOCOL
					: TK_END_RESOLVEFAILED);
}

static void
connect_cb(void *arg, int reason, tk_onion_stream *os)
{
	struct tk_engine_req *r = arg;
	struct tor_engine *e = r->e;
	struct tor_stream *s;
	char circ[160];

	r->oreq = NULL;
	if (reason != TK_END_NONE || os == NULL) {
		reason = hs_reason(reason ? reason : TK_END_MISC);
		tk_info("CONNECT %s failed: END %s", tk_dlog_safe(r->what),
			tk_et_reason_name(TK_END_BASE(reason)));
		r->ccb(r->arg, reason, NULL);
		tk_et_req_free(r);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		/* The onion stream has no wrapper to report to: close it
		 * without callbacks reaching anyone. */
		tk_onion_stream_close(os);
		r->ccb(r->arg, TK_END_RESOURCELIMIT, NULL);
		tk_et_req_free(r);
		return;
	}
	s->base.engine = &e->base;
	s->os = os;
	s->circ = tk_onion_stream_circuit(os);
	if (e->dns_reject_internal) {
		uint8_t a[16];
		int fam = tk_onion_stream_peer(os, a);

		if (fam != 0 && tk_addr_is_internal(fam, a)) {
			char text[64];

			/* ClientDNSRejectInternalAddresses: the exit says the
			 * name led to an internal address. Tor closes. */
			inet_ntop(fam, a, text, sizeof(text));
			tk_info("CONNECT %s: ...but it claims the IP address "
				"was %s. Closing.",
				tk_dlog_safe(r->what), tk_dlog_safe(text));
			free(s);
			tk_onion_stream_close(os);
			r->ccb(r->arg, TK_END_TORPROTOCOL, NULL);
			tk_et_req_free(r);
			return;
		}
	}
	memcpy(s->target, r->what, sizeof(s->target));
	e->n_streams++;
	tk_et_describe_circ(e, s->circ, circ, sizeof(circ));
	tk_info("CONNECT %s open on %s (try %u)", tk_dlog_safe(r->what), circ,
		tk_onion_stream_tries(os));
	r->ccb(r->arg, TK_END_NONE, &s->base);
	tk_et_req_free(r);
}

/* The shared ends of tk_et_connect, tk_et_resolve and tk_et_resolve_ptr: a
 * request record, unless the engine is closing; then the onion request's
 * outcome (rc from tk_onion_stream_*), which either hands the record out or
 * frees it. */
static struct tk_engine_req *
req_start(struct tor_engine *e, int kind, void *arg, int *rc)
{
	struct tk_engine_req *r;

	if (e->closing) {
		*rc = UV_ECANCELED;
		return NULL;
	}
	r = tk_et_req_new(e, kind, arg);
	if (r == NULL)
		*rc = UV_ENOMEM;
	return r;
}

static int
req_launched(struct tk_engine_req *r, int rc, struct tk_engine_req **out)
{
	if (rc < 0) {
		tk_et_req_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int
tk_et_connect(struct tk_engine *base, const struct tk_target *t,
	      const struct tk_isolation *iso, tk_engine_connect_cb cb,
	      void *arg, struct tk_engine_req **out)
{
	struct tor_engine *e = (struct tor_engine *)base;
	struct tk_engine_req *r;
	uint8_t key[TK_ISO_KEY_MAX];
	size_t klen = tk_engine_tor_iso_key(iso, key);
	int rc;

	if ((r = req_start(e, REQ_CONNECT, arg, &rc)) == NULL)
		return rc;
	r->ccb = cb;
	snprintf(r->what, sizeof(r->what),
		 t->family == AF_INET6 ? "[%s]:%u" : "%s:%u", t->host, t->port);
	if (e->reject_internal && is_private_target(t)) {
		log_private(e, t->host);
		return fail_later(r, TK_END_PRIVATE_ADDR, out);
	}
	rc = tk_onion_stream_connect(e->o, t->host, t->port,
				     t->prefer_ipv6 ? TK_ONION_PREFER_IPV6 : 0,
				     key, klen, connect_cb, r, &r->oreq);
	return req_launched(r, rc, out);
}

/* ---- resolve */

static void
resolve_cb(void *arg, int reason, const struct tk_onion_resolved *ores)
{
	struct tk_engine_req *r = arg;
	struct tk_resolved res;

	r->oreq = NULL;
	memset(&res, 0, sizeof(res));
	if (reason == TK_END_NONE && ores != NULL) {
		size_t n = ores->n_addrs;

		if (n > TK_RESOLVED_MAX)
			n = TK_RESOLVED_MAX;
		res.n_addrs = 0;
		for (size_t i = 0; i < n; i++) {
			/* ClientDNSRejectInternalAddresses: an exit's answer
			 * naming an internal address is dropped (Tor). */
			if (r->e->dns_reject_internal &&
			    tk_addr_is_internal(ores->addrs[i].family,
						ores->addrs[i].addr)) {
				tk_info("RESOLVE %s: dropping a private "
					"answer",
					tk_dlog_safe(r->what));
				continue;
			}
			res.addrs[res.n_addrs].family = ores->addrs[i].family;
			memcpy(res.addrs[res.n_addrs].addr, ores->addrs[i].addr,
			       16);
			res.n_addrs++;
		}
		n = res.n_addrs;
		snprintf(res.name, sizeof(res.name), "%s", ores->name);
		res.ttl = ores->ttl;
		if (r->kind == REQ_RESOLVE && n == 0)
			reason = TK_END_RESOLVEFAILED;
		if (r->kind == REQ_PTR && res.name[0] == '\0')
			reason = TK_END_RESOLVEFAILED;
	} else if (reason == TK_END_NONE) {
		reason = TK_END_RESOLVEFAILED;
	}
	reason = TK_END_BASE(hs_reason(reason)); /* lookups: REP 04 */
	if (reason != TK_END_NONE)
		tk_info("%s %s failed: END %s",
			r->kind == REQ_PTR ? "RESOLVE_PTR" : "RESOLVE",
			tk_dlog_safe(r->what), tk_et_reason_name(reason));
	r->rcb(r->arg, reason, reason == TK_END_NONE ? &res : NULL);
	tk_et_req_free(r);
}

int
tk_et_resolve(struct tk_engine *base, const char *name, int families,
	      const struct tk_isolation *iso, tk_engine_resolve_cb cb,
	      void *arg, struct tk_engine_req **out)
{
	struct tor_engine *e = (struct tor_engine *)base;
	struct tk_engine_req *r;
	uint8_t key[TK_ISO_KEY_MAX];
	size_t klen = tk_engine_tor_iso_key(iso, key);
	int of = 0, rc;

	if ((r = req_start(e, REQ_RESOLVE, arg, &rc)) == NULL)
		return rc;
	r->rcb = cb;
	snprintf(r->what, sizeof(r->what), "%s", name);
	if (families & TK_RESOLVE_IPV4)
		of |= TK_ONION_RESOLVE_IPV4;
	if (families & TK_RESOLVE_IPV6)
		of |= TK_ONION_RESOLVE_IPV6;
	rc = tk_onion_stream_resolve(e->o, name, of, key, klen, resolve_cb, r,
				     &r->oreq);
	return req_launched(r, rc, out);
}

int
tk_et_resolve_ptr(struct tk_engine *base, int family, const uint8_t addr[16],
		  const struct tk_isolation *iso, tk_engine_resolve_cb cb,
		  void *arg, struct tk_engine_req **out)
{
	struct tor_engine *e = (struct tor_engine *)base;
	struct tk_engine_req *r;
	uint8_t key[TK_ISO_KEY_MAX];
	size_t klen = tk_engine_tor_iso_key(iso, key);
	int rc;

	if ((r = req_start(e, REQ_PTR, arg, &rc)) == NULL)
		return rc;
	r->rcb = cb;
	inet_ntop(family, addr, r->what, sizeof(r->what));
	/* ClientDNSRejectInternalAddresses: as Tor, a reverse lookup of an
	 * internal address is answered with an error here; without it the
	 * exit decides (a Tor exit refuses them too). */
	if (e->dns_reject_internal && tk_addr_is_internal(family, addr)) {
		tk_info("RESOLVE_PTR %s: an internal address; refused here",
			tk_dlog_safe(r->what));
		return fail_later(r, TK_END_RESOLVEFAILED, out);
	}
	rc = tk_onion_stream_resolve_ptr(e->o, family, addr, key, klen,
					 resolve_cb, r, &r->oreq);
	return req_launched(r, rc, out);
}

void
tk_et_cancel(struct tk_engine_req *r)
{
	if (r->oreq != NULL)
		tk_onion_stream_cancel(r->oreq);
	r->oreq = NULL;
	tk_et_req_free(r);
}
