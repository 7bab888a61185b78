/* engine_tor.c — the onion-routing engine: torkitd's engine interface
 * (engine.h) on top of the Tor client library, through its facade
 * onion/onion.h (the directory, 3-hop circuits, streams and lookups).
 *
 * onion.h was shaped after engine.h, so this file mostly translates:
 * the same callbacks, the same END reason numbers (passed through
 * untouched so the front-end's one table maps them), the same
 * written-when-packaged rule that carries Tor's flow-control windows to
 * the application. What it adds is the daemon's side: configuration
 * (DirAuthority, DataDirectory, EnforceDistinctSubnets, SocksTimeout,
 * HalfCloseLinger, ConnectionPadding, ReducedConnectionPadding), the
 * isolation key built from struct tk_isolation,
 * logging into torkitd's log, and an orderly close. */
#include "daemon/engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/conf.h"
#include "daemon/log.h"
#include "lib/addr.h"
#include "onion/onion.h"

struct tor_engine {
	struct tk_engine base;
	tk_onion *o;
	uv_timer_t done_timer; /* calls done() on the loop */
	void (*done)(void *);
	void *done_arg;
	unsigned n_streams; /* open wrappers close() waits for */
	unsigned n_reqs;
	struct tk_engine_req *reqs;	/* outstanding, for close() */
	struct tk_engine_req *deferred; /* refused here, answered from
					   done_timer on the next turn */
	int closing;
	int ready_logged;
	uv_timer_t newnym_timer; /* a NEWNYM held back by the rate limit */
	uint64_t last_newnym;	 /* uv_now of the last one done, 0: none */
	int newnym_pending;
	int reject_internal;	 /* ClientRejectInternalAddresses */
	int dns_reject_internal; /* ClientDNSRejectInternalAddresses */
	uint64_t last_private_log;
};

struct tor_stream {
	struct tk_stream base;
	tk_onion_stream *os;
	const struct tk_stream_cbs *cbs;
	void *arg;
	uint32_t circ;
	char target[TK_SOCKS_HOST_MAX + 8];
};

enum { REQ_CONNECT, REQ_RESOLVE, REQ_PTR };

struct tk_engine_req {
	struct tor_engine *e;
	int kind;
	tk_onion_req *oreq;
	tk_engine_connect_cb ccb;
	tk_engine_resolve_cb rcb;
	void *arg;
	struct tk_engine_req *prev, *next;
	struct tk_engine_req *dnext; /* on e->deferred */
	int is_deferred, reason;
	char what[TK_SOCKS_HOST_MAX + 8]; /* for the log */
};

/* ---- isolation */

/* The isolation key: the session group (each SocksPort is its own),
 * the SOCKS credentials, and whatever else the port's Isolate* rules
 * name (engine.h). Every field is tagged and carries its whole length
 * (two bytes), so ("ab","c") and ("a","bc") differ, no field can pass
 * for another, and two SOCKS4 userids of 512 bytes differ wherever
 * their bytes do. */
static size_t
iso_put(uint8_t *key, size_t n, uint8_t tag, const void *p, size_t len)
{
	if (len > TK_ISO_FIELD_MAX)
		len = TK_ISO_FIELD_MAX; /* no field is longer (engine.h) */
	key[n++] = tag;
	key[n++] = (uint8_t)(len >> 8);
	key[n++] = (uint8_t)len;
	if (len > 0)
		memcpy(key + n, p, len);
	return n + len;
}

static size_t
iso_put_str(uint8_t *key, size_t n, uint8_t tag, const char *s)
{
	return iso_put(key, n, tag, s, s != NULL ? strlen(s) : 0);
}

size_t
tk_engine_tor_iso_key(const struct tk_isolation *iso,
		      uint8_t key[TK_ISO_KEY_MAX])
{
	size_t n = 0;

	key[n++] = (uint8_t)(iso->listener_id >> 24);
	key[n++] = (uint8_t)(iso->listener_id >> 16);
	key[n++] = (uint8_t)(iso->listener_id >> 8);
	key[n++] = (uint8_t)iso->listener_id;
	if (iso->has_auth) {
		/* a SOCKS4 userid and a SOCKS5 username differ by tag */
		n = iso_put(key, n, iso->has_password ? 'P' : 'U',
			    iso->username, iso->username_len);
		if (iso->has_password)
			n = iso_put(key, n, 'W', iso->password,
				    iso->password_len);
	}
	if (iso->rules & TK_ISO_CLIENT_PROTOCOL) {
		key[n++] = 'V';
		key[n++] = iso->socks_version;
	}
	if (iso->rules & TK_ISO_CLIENT_ADDR)
		n = iso_put_str(key, n, 'C', iso->client_addr);
	if (iso->rules & TK_ISO_DEST_ADDR)
		n = iso_put_str(key, n, 'D', iso->dest_host);
	if (iso->rules & TK_ISO_DEST_PORT) {
		key[n++] = 'O';
		key[n++] = (uint8_t)(iso->dest_port >> 8);
		key[n++] = (uint8_t)iso->dest_port;
	}
	return n;
}

/* ---- logging */

static void
onion_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level < TK_LOG_DEBUG)
		level = TK_LOG_DEBUG;
	if (level > TK_LOG_ERR)
		level = TK_LOG_ERR;
	tk_dlog(level, "%s", msg);
}

static void
onion_progress(void *arg, int percent, const char *tag, const char *summary)
{
	struct tor_engine *e = arg;

	(void)tag;
	(void)summary; /* the onion log has the "Bootstrapped" line */
	if (percent == 100 && !e->ready_logged) {
		e->ready_logged = 1;
		tk_notice("Engine tor: directory ready; building circuits");
	}
	if (e->base.progress != NULL) {
		struct tk_engine_status st;

		tk_engine_status(&e->base, &st);
		e->base.progress(e->base.progress_arg, &st);
	}
}

/* The network requires what this engine lacks: tor exits, so do we
 * (through the daemon's hook, with the message already logged). */
static void
onion_fatal(void *arg, const char *msg)
{
	struct tor_engine *e = arg;

	if (e->base.fatal != NULL)
		e->base.fatal(e->base.fatal_arg, msg);
}

/* ---- requests */

static struct tk_engine_req *
req_new(struct tor_engine *e, int kind, void *arg)
{
	struct tk_engine_req *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->e = e;
	r->kind = kind;
	r->arg = arg;
	r->next = e->reqs;
	if (e->reqs != NULL)
		e->reqs->prev = r;
	e->reqs = r;
	e->n_reqs++;
	return r;
}

static void
req_free(struct tk_engine_req *r)
{
	struct tor_engine *e = r->e;

	if (r->is_deferred) {
		struct tk_engine_req **pp = &e->deferred;

		while (*pp != r)
			pp = &(*pp)->dnext;
		*pp = r->dnext;
	}
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		e->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	e->n_reqs--;
	free(r);
}

static const char *
reason_name(int reason)
{
	static const char *const names[] = {
		[TK_END_MISC] = "MISC",
		[TK_END_RESOLVEFAILED] = "RESOLVEFAILED",
		[TK_END_CONNECTREFUSED] = "CONNECTREFUSED",
		[TK_END_EXITPOLICY] = "EXITPOLICY",
		[TK_END_DESTROY] = "DESTROY",
		[TK_END_DONE] = "DONE",
		[TK_END_TIMEOUT] = "TIMEOUT",
		[TK_END_NOROUTE] = "NOROUTE",
		[TK_END_HIBERNATING] = "HIBERNATING",
		[TK_END_INTERNAL] = "INTERNAL",
		[TK_END_RESOURCELIMIT] = "RESOURCELIMIT",
		[TK_END_CONNRESET] = "CONNRESET",
		[TK_END_TORPROTOCOL] = "TORPROTOCOL",
		[TK_END_NOTDIRECTORY] = "NOTDIRECTORY",
	};

	if (reason > 0 && (size_t)reason < ARRAY_SIZE(names) &&
	    names[reason] != NULL)
		return names[reason];
	return "unknown";
}

static void
describe_circ(struct tor_engine *e, uint32_t circ, char *buf, size_t cap)
{
	if (circ == 0 || tk_onion_describe_circuit(e->o, circ, buf, cap) < 0)
		snprintf(buf, cap, "circ %u", (unsigned)circ);
}

/* ---- streams */

static void
s_alloc(void *arg, size_t suggested, uint8_t **buf, size_t *cap)
{
	struct tor_stream *s = arg;

	s->cbs->alloc(s->arg, suggested, buf, cap);
}

static void
s_read(void *arg, uint8_t *buf, size_t len, int eof)
{
	struct tor_stream *s = arg;

	s->cbs->read(s->arg, buf, len, eof);
}

static void
s_written(void *arg, uint8_t *buf, size_t len, int status)
{
	struct tor_stream *s = arg;

	s->cbs->written(s->arg, buf, len, status);
}

static void
s_error(void *arg, int reason)
{
	struct tor_stream *s = arg;
	struct tor_engine *e = (struct tor_engine *)s->base.engine;
	char circ[160];

	describe_circ(e, s->circ, circ, sizeof(circ));
	tk_info("stream to %s failed: END %s (%s)", tk_dlog_safe(s->target),
		reason_name(reason), circ);
	s->cbs->error(s->arg, reason);
}

static void
free_on_close(uv_handle_t *h)
{
	free(h->data);
}

static void
close_done_timer(uv_handle_t *h)
{
	struct tor_engine *e = h->data;

	e->done_timer.data = e;
	uv_close((uv_handle_t *)&e->done_timer, free_on_close);
}

static void
engine_closed_cb(uv_handle_t *h)
{
	struct tor_engine *e = h->data;
	void (*done)(void *) = e->done;
	void *arg = e->done_arg;

	free(e);
	done(arg);
}

/* The engine is freed from the last of its handles to close. */
static void
newnym_timer_closed(uv_handle_t *h)
{
	struct tor_engine *e = h->data;

	uv_close((uv_handle_t *)&e->done_timer, engine_closed_cb);
}

/* The last stream is closed and close() was asked: the circuit manager
 * and the directory go now (their memory is freed as the loop closes
 * their handles), done() runs from our own handle's close. */
static void
engine_finish(struct tor_engine *e)
{
	if (!e->closing || e->n_streams > 0 || e->o == NULL)
		return;
	tk_onion_free(e->o);
	e->o = NULL;
	uv_close((uv_handle_t *)&e->newnym_timer, newnym_timer_closed);
}

static void
s_closed(void *arg)
{
	struct tor_stream *s = arg;
	struct tor_engine *e = (struct tor_engine *)s->base.engine;

	if (s->cbs != NULL && s->cbs->closed != NULL)
		s->cbs->closed(s->arg);
	free(s);
	e->n_streams--;
	engine_finish(e);
}

static const struct tk_onion_stream_cbs stream_cbs = {
	.alloc = s_alloc,
	.read = s_read,
	.written = s_written,
	.error = s_error,
	.closed = s_closed,
};

static void
t_stream_start(struct tk_stream *base, const struct tk_stream_cbs *cbs,
	       void *arg)
{
	struct tor_stream *s = (struct tor_stream *)base;

	s->cbs = cbs;
	s->arg = arg;
	tk_onion_stream_start(s->os, &stream_cbs, s);
}

static void
t_stream_read_stop(struct tk_stream *base)
{
	tk_onion_stream_read_stop(((struct tor_stream *)base)->os);
}

static void
t_stream_read_start(struct tk_stream *base)
{
	tk_onion_stream_read_start(((struct tor_stream *)base)->os);
}

static int
t_stream_write(struct tk_stream *base, uint8_t *buf, size_t len)
{
	struct tor_stream *s = (struct tor_stream *)base;

	if (len == 0)
		return 0;
	/* -EPIPE after shutdown/error is UV_EPIPE on every libuv target. */
	return tk_onion_stream_write(s->os, buf, len);
}

static void
t_stream_shutdown(struct tk_stream *base)
{
	struct tor_stream *s = (struct tor_stream *)base;

	/* Tor's relay protocol has no half-close (doc/differences.md): the
	 * queued bytes go out, the stream keeps delivering what the exit
	 * sends until the exit ends it, the client closes, or nothing moved
	 * for HalfCloseLinger; then END and EOF. The engine lingers. */
	tk_debug("stream to %s: the client finished sending; lingering",
		 tk_dlog_safe(s->target));
	tk_onion_stream_shutdown(s->os);
}

static void
t_stream_close(struct tk_stream *base)
{
	struct tor_stream *s = (struct tor_stream *)base;

	/* ostream gives back queued buffers (written, failed) and then
	 * calls s_closed, which frees the wrapper. */
	tk_onion_stream_close(s->os);
}

static size_t
t_stream_held(const struct tk_stream *base)
{
	return tk_onion_stream_queued(((const struct tor_stream *)base)->os);
}

static size_t
t_held(const struct tk_engine *base)
{
	const struct tor_engine *e = (const struct tor_engine *)base;

	return e->o != NULL ? tk_onion_queued(e->o) : 0;
}

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
		req_free(r);
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
			reason_name(TK_END_BASE(reason)));
		r->ccb(r->arg, reason, NULL);
		req_free(r);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		/* The onion stream has no wrapper to report to: close it
		 * without callbacks reaching anyone. */
		tk_onion_stream_close(os);
		r->ccb(r->arg, TK_END_RESOURCELIMIT, NULL);
		req_free(r);
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
			req_free(r);
			return;
		}
	}
	memcpy(s->target, r->what, sizeof(s->target));
	e->n_streams++;
	describe_circ(e, s->circ, circ, sizeof(circ));
	tk_info("CONNECT %s open on %s (try %u)", tk_dlog_safe(r->what), circ,
		tk_onion_stream_tries(os));
	r->ccb(r->arg, TK_END_NONE, &s->base);
	req_free(r);
}

/* The shared ends of t_connect, t_resolve and t_resolve_ptr: a request
 * record, unless the engine is closing; then the onion request's outcome
 * (rc from tk_onion_stream_*), which either hands the record out or
 * frees it. */
static struct tk_engine_req *
req_start(struct tor_engine *e, int kind, void *arg, int *rc)
{
	struct tk_engine_req *r;

	if (e->closing) {
		*rc = UV_ECANCELED;
		return NULL;
	}
	r = req_new(e, kind, arg);
	if (r == NULL)
		*rc = UV_ENOMEM;
	return r;
}

static int
req_launched(struct tk_engine_req *r, int rc, struct tk_engine_req **out)
{
	if (rc < 0) {
		req_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static int
t_connect(struct tk_engine *base, const struct tk_target *t,
	  const struct tk_isolation *iso, tk_engine_connect_cb cb, void *arg,
	  struct tk_engine_req **out)
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
			tk_dlog_safe(r->what), reason_name(reason));
	r->rcb(r->arg, reason, reason == TK_END_NONE ? &res : NULL);
	req_free(r);
}

static int
t_resolve(struct tk_engine *base, const char *name, int families,
	  const struct tk_isolation *iso, tk_engine_resolve_cb cb, void *arg,
	  struct tk_engine_req **out)
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

static int
t_resolve_ptr(struct tk_engine *base, int family, const uint8_t addr[16],
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

static void
t_cancel(struct tk_engine_req *r)
{
	if (r->oreq != NULL)
		tk_onion_stream_cancel(r->oreq);
	r->oreq = NULL;
	req_free(r);
}

/* ---- lifecycle */

static void
apply_client_options(struct tor_engine *e, const struct tk_config *cfg)
{
	e->reject_internal = cfg->client_reject_internal;
	e->dns_reject_internal = cfg->client_dns_reject_internal;
}

static int
t_reload(struct tk_engine *base, const struct tk_config *cfg)
{
	struct tor_engine *e = (struct tor_engine *)base;

	/* What only filters requests or the log changes at once; the
	 * directory authorities, DataDirectory and circuit options are read
	 * once: a Tor client cannot swap its trust roots under live
	 * circuits. SocksPort changes are the front-end's. */
	apply_client_options(e, cfg);
	if (e->o != NULL) {
		char err[256];
		tk_onion_set_scrub_hosts(e->o, cfg->safe_logging != 0);
		/* tor re-reads the client authorization keys on a reload */
		if (tk_onion_reload_onion_auth(e->o, cfg->client_onion_auth_dir,
					       err, sizeof err) != 0)
			tk_warn("ClientOnionAuthDir: %s; keeping the keys read "
				"before",
				err);
	}
	tk_info("Engine tor keeps its DirAuthority, DataDirectory and "
		"circuit settings until restarted");
	return 0;
}

static void
t_close(struct tk_engine *base, void (*done)(void *), void *arg)
{
	struct tor_engine *e = (struct tor_engine *)base;

	e->done = done;
	e->done_arg = arg;
	e->closing = 1;
	/* The front-end cancelled its requests; anything left is dropped
	 * without a callback, as engine.h allows after close. */
	while (e->reqs != NULL)
		t_cancel(e->reqs);
	engine_finish(e);
}

static void
t_status(const struct tk_engine *base, struct tk_engine_status *st)
{
	const struct tor_engine *e = (const struct tor_engine *)base;
	struct tk_onion_status os;

	memset(st, 0, sizeof(*st));
	st->tag = "starting";
	st->summary = "Starting";
	if (e->o == NULL)
		return;
	tk_onion_get_status(e->o, &os);
	st->percent = os.percent;
	if (os.tag != NULL)
		st->tag = os.tag;
	if (os.summary != NULL)
		st->summary = os.summary;
	st->circuit_established = os.circuits.built > 0;
}

/* tor's MAX_SIGNAL_NEWNYM_INTERVAL: one NEWNYM in 10 s; a later one waits
 * for the rest of that time (tor delays it the same way). */
#define NEWNYM_INTERVAL_MS 10000

static void
newnym_now(struct tor_engine *e)
{
	unsigned n;

	e->newnym_pending = 0;
	e->last_newnym = uv_now(e->base.loop);
	if (e->last_newnym == 0)
		e->last_newnym = 1;
	n = tk_onion_newnym(e->o);
	tk_notice("NEWNYM: new requests get new circuits (%u in use retired "
		  "once their streams end)",
		  n);
}

static void
newnym_timer_cb(uv_timer_t *t)
{
	struct tor_engine *e = t->data;

	if (e->o != NULL && !e->closing)
		newnym_now(e);
}

static void
t_newnym(struct tk_engine *base)
{
	struct tor_engine *e = (struct tor_engine *)base;
	uint64_t now = uv_now(base->loop), wait;

	if (e->o == NULL || e->closing || e->newnym_pending)
		return;
	if (e->last_newnym == 0 || now - e->last_newnym >= NEWNYM_INTERVAL_MS) {
		newnym_now(e);
		return;
	}
	wait = NEWNYM_INTERVAL_MS - (now - e->last_newnym);
	tk_notice("Rate limiting NEWNYM request: delaying by %u second(s)",
		  (unsigned)((wait + 999) / 1000));
	e->newnym_pending = 1;
	uv_timer_start(&e->newnym_timer, newnym_timer_cb, wait, 0);
}

static const struct tk_engine_ops tor_ops = {
	.name = "tor",
	.connect = t_connect,
	.resolve = t_resolve,
	.resolve_ptr = t_resolve_ptr,
	.cancel = t_cancel,
	.stream_start = t_stream_start,
	.stream_read_stop = t_stream_read_stop,
	.stream_read_start = t_stream_read_start,
	.stream_write = t_stream_write,
	.stream_shutdown = t_stream_shutdown,
	.stream_close = t_stream_close,
	.stream_held = t_stream_held,
	.held = t_held,
	.reload = t_reload,
	.status = t_status,
	.newnym = t_newnym,
	.close = t_close,
};

/* Fills an onion configuration from torkitd's (log callbacks aside). */
int
tk_engine_tor_config(const struct tk_config *cfg, struct tk_onion_config *oc,
		     char *err, size_t errlen)
{
	char e2[256];

	tk_onion_config_init(oc);
	/* No DirAuthority line: the public Tor network, built in. */
	for (size_t i = 0; i < cfg->n_dir_authorities; i++) {
		if (tk_onion_config_add_authority(oc, cfg->dir_authorities[i],
						  e2, sizeof(e2)) < 0) {
			snprintf(err, errlen, "DirAuthority \"%s\": %s",
				 cfg->dir_authorities[i], e2);
			return -1;
		}
	}
	for (size_t i = 0; i < cfg->n_fallback_dirs; i++) {
		if (tk_onion_config_add_fallback(oc, cfg->fallback_dirs[i], e2,
						 sizeof(e2)) < 0) {
			snprintf(err, errlen, "FallbackDir \"%s\": %s",
				 cfg->fallback_dirs[i], e2);
			return -1;
		}
	}
	oc->use_default_fallbacks = cfg->use_default_fallback_dirs;
	oc->testing_tor_network = cfg->testing_tor_network;
	oc->data_dir = cfg->data_dir;
	oc->enforce_distinct_subnets = cfg->enforce_distinct_subnets;
	_Static_assert(TK_CONFIG_MAX_LONG_LIVED_PORTS <=
			       TK_ONION_MAX_LONG_LIVED_PORTS,
		       "LongLivedPorts fit the engine's config");
	memcpy(oc->long_lived_ports, cfg->long_lived_ports,
	       cfg->n_long_lived_ports * sizeof cfg->long_lived_ports[0]);
	oc->n_long_lived_ports = cfg->n_long_lived_ports;
	oc->client_use_ipv4 = cfg->client_use_ipv4;
	oc->client_use_ipv6 = cfg->client_use_ipv6;
	oc->client_prefer_ipv6_orport = cfg->client_prefer_ipv6_orport;
	oc->client_onion_auth_dir = cfg->client_onion_auth_dir;
	/* In 64 bits: a year of seconds does not fit in 32 bits of ms. */
	oc->linger_ms = (uint64_t)cfg->half_close_linger * 1000;
	oc->congestion_control = cfg->congestion_control;
	oc->connection_padding = cfg->connection_padding;
	oc->reduced_connection_padding = cfg->reduced_connection_padding;
	oc->scrub_hosts = cfg->safe_logging != 0;
	if (cfg->socks_timeout > 0)
		oc->request_timeout_ms = (uint64_t)cfg->socks_timeout * 1000;
	return 0;
}

int
tk_engine_tor_check(const struct tk_config *cfg, char *err, size_t errlen)
{
	struct tk_onion_config oc;

	return tk_engine_tor_config(cfg, &oc, err, errlen);
}

int
tk_engine_tor_new(uv_loop_t *loop, const struct tk_config *cfg,
		  struct tk_engine **out)
{
	struct tor_engine *e;
	struct tk_onion_config oc;
	char err[512];

	if (tk_engine_tor_config(cfg, &oc, err, sizeof(err)) < 0) {
		tk_err("%s", err);
		return -1;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		tk_err("out of memory");
		return -1;
	}
	e->base.ops = &tor_ops;
	e->base.loop = loop;
	apply_client_options(e, cfg);
	oc.log = onion_log;
	oc.log_arg = e;
	oc.progress = onion_progress;
	oc.progress_arg = e;
	oc.fatal = onion_fatal;
	oc.fatal_arg = e;
	if (tk_onion_new(loop, &oc, &e->o, err, sizeof(err)) < 0) {
		tk_err("Engine tor: %s", err);
		free(e);
		return -1;
	}
	uv_timer_init(loop, &e->done_timer);
	e->done_timer.data = e;
	{
		struct tk_onion_status st;
		char net[160];

		tk_onion_get_status(e->o, &st);
		if (tk_onion_config_is_public(&oc))
			snprintf(net, sizeof(net),
				 "the public Tor network (%zu authorities, "
				 "%zu fallback directory mirrors)",
				 st.n_authorities, st.n_fallbacks);
		else
			snprintf(net, sizeof(net),
				 "%zu configured directory authorit%s, %zu "
				 "fallback%s%s",
				 st.n_authorities,
				 st.n_authorities == 1 ? "y" : "ies",
				 st.n_fallbacks, st.n_fallbacks == 1 ? "" : "s",
				 cfg->testing_tor_network
					 ? " (TestingTorNetwork)"
					 : "");
		tk_notice("Engine tor: %s, DataDirectory %s, "
			  "EnforceDistinctSubnets %d, HalfCloseLinger %u s, "
			  "CongestionControl %s",
			  net,
			  cfg->data_dir ? cfg->data_dir
					: "(none: nothing cached)",
			  cfg->enforce_distinct_subnets, cfg->half_close_linger,
			  cfg->congestion_control < 0	 ? "auto"
			  : cfg->congestion_control == 0 ? "0"
							 : "1");
	}
	uv_timer_init(loop, &e->newnym_timer);
	e->newnym_timer.data = e;
	if (tk_onion_start(e->o) < 0) {
		tk_err("Engine tor: cannot start bootstrapping");
		tk_onion_free(e->o);
		/* One handle after the other: the last frees e. */
		uv_close((uv_handle_t *)&e->newnym_timer, close_done_timer);
		return -1;
	}
	*out = &e->base;
	return 0;
}
