/* engine_direct.c — the zero-hop engine: resolve with c-ares, connect with
 * libuv, relay through a plain TCP socket. It plays the part of a Tor exit
 * (ExitPolicy, no reverse lookups of internal addresses, END reasons) so
 * the front-end behaves the same whichever engine runs. */
#include "daemon/engine.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf.h"
#include "daemon/dns.h"
#include "daemon/log.h"

struct direct_engine {
	struct tk_engine base;
	struct tk_dns *dns;
	struct tk_policy policy; /* private rejects + ExitPolicy */
	/* ExitPolicyRejectLocalInterfaces: this host's own addresses that
	 * the private rejects do not cover, read again when a second old */
	int reject_ifaces;
	struct tk_policy ifaces;
	uint64_t ifaces_at;
	uv_timer_t defer; /* delivers failures asynchronously */
	struct tk_engine_req *deferred;
	void (*done)(void *);
	void *done_arg;
	int open; /* things close() waits for */
};

struct direct_stream {
	struct tk_stream base;
	uv_tcp_t tcp;
	uv_connect_t creq;
	uv_shutdown_t sreq;
	const struct tk_stream_cbs *cbs;
	void *arg;
	struct tk_engine_req *connecting; /* while connecting */
	int closing;
};

struct write_req {
	uv_write_t w;
	struct direct_stream *s;
	uint8_t *buf;
	size_t len;
};

enum { REQ_CONNECT, REQ_RESOLVE, REQ_PTR };
enum { WAIT_NONE, WAIT_DNS, WAIT_CONNECT, WAIT_DEFER };

struct tk_engine_req {
	struct direct_engine *e;
	int kind;
	int waiting;
	int cancelled;
	tk_engine_connect_cb ccb;
	tk_engine_resolve_cb rcb;
	void *arg;
	struct tk_dns_query *q;
	int reason; /* to deliver, when deferred */
	struct tk_engine_req *next;
	/* connect */
	char host[TK_SOCKS_HOST_MAX];
	uint16_t port;
	struct tk_resolved cand; /* addresses to try, in order */
	size_t next_cand;
	struct direct_stream *s;
};

/* connect(2) errors as Tor END reasons. Tor's exit reports a refused
 * connection as MISC in practice (captures: REP 01); we report
 * CONNECTREFUSED, which Tor's own table maps to REP 05 — a deliberate
 * difference (doc/differences.md): the client learns the port is closed. */
static int
end_reason_from_uv(int err)
{
	switch (err) {
	case UV_ECONNREFUSED:
		return TK_END_CONNECTREFUSED;
	case UV_ENETUNREACH:
	case UV_EADDRNOTAVAIL:
	case UV_EAFNOSUPPORT:
		return TK_END_NET_UNREACHABLE;
	case UV_EHOSTUNREACH:
		return TK_END_NOROUTE;
	case UV_ETIMEDOUT:
		return TK_END_TIMEOUT;
	case UV_ECONNRESET:
	case UV_EPIPE:
		return TK_END_CONNRESET;
	case UV_EMFILE:
	case UV_ENFILE:
	case UV_ENOBUFS:
	case UV_ENOMEM:
		return TK_END_RESOURCELIMIT;
	default:
		return TK_END_MISC;
	}
}

/* Every DNS failure is RESOLVEFAILED, as a Tor exit reports it, except
 * running out of memory. */
static int
end_reason_from_ares(int status)
{
	return status == ARES_ENOMEM ? TK_END_RESOURCELIMIT
				     : TK_END_RESOLVEFAILED;
}

static void
req_free(struct tk_engine_req *r)
{
	free(r);
}

static void
defer_cb(uv_timer_t *t)
{
	struct direct_engine *e = t->data;

	while (e->deferred != NULL) {
		struct tk_engine_req *r = e->deferred;

		e->deferred = r->next;
		r->waiting = WAIT_NONE;
		if (!r->cancelled) {
			if (r->kind == REQ_CONNECT)
				r->ccb(r->arg, r->reason, NULL);
			else
				r->rcb(r->arg, r->reason, NULL);
		}
		req_free(r);
	}
}

/* Fail a request on the next loop turn, never from inside the call. */
static void
fail_later(struct tk_engine_req *r, int reason)
{
	struct direct_engine *e = r->e;

	r->reason = reason;
	r->waiting = WAIT_DEFER;
	r->next = e->deferred;
	e->deferred = r;
	uv_timer_start(&e->defer, defer_cb, 0, 0);
}

static struct tk_engine_req *
req_new(struct direct_engine *e, int kind, void *arg)
{
	struct tk_engine_req *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->e = e;
	r->kind = kind;
	r->arg = arg;
	return r;
}

/* Streams, attempts and (while closing) the resolver and timer each hold
 * the engine open; the last one out finishes tk_engine close. */
static void
engine_unref(struct direct_engine *e)
{
	if (--e->open > 0 || e->done == NULL)
		return;
	{
		void (*done)(void *) = e->done;
		void *arg = e->done_arg;

		tk_policy_free(&e->policy);
		tk_policy_free(&e->ifaces);
		free(e);
		done(arg);
	}
}

/* ---- streams */

static void
stream_closed(uv_handle_t *h)
{
	struct direct_stream *s = h->data;
	struct direct_engine *e = (struct direct_engine *)s->base.engine;

	if (s->cbs != NULL && s->cbs->closed != NULL)
		s->cbs->closed(s->arg);
	free(s);
	engine_unref(e);
}

static void
alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct direct_stream *s = h->data;
	uint8_t *buf = NULL;
	size_t cap = 0;

	s->cbs->alloc(s->arg, suggested, &buf, &cap);
	*b = uv_buf_init((char *)buf, (unsigned)cap);
}

static void
read_cb(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
	struct direct_stream *s = st->data;

	if (nread > 0) {
		s->cbs->read(s->arg, (uint8_t *)b->base, (size_t)nread, 0);
		return;
	}
	if (nread == UV_EOF) {
		uv_read_stop(st);
		s->cbs->read(s->arg, (uint8_t *)b->base, 0, 1);
		return;
	}
	/* give back the unused buffer */
	s->cbs->read(s->arg, (uint8_t *)b->base, 0, 0);
	if (nread < 0) {
		uv_read_stop(st);
		s->cbs->error(s->arg, end_reason_from_uv((int)nread));
	}
}

static void
d_stream_start(struct tk_stream *base, const struct tk_stream_cbs *cbs,
	       void *arg)
{
	struct direct_stream *s = (struct direct_stream *)base;

	s->cbs = cbs;
	s->arg = arg;
	uv_read_start((uv_stream_t *)&s->tcp, alloc_cb, read_cb);
}

static int
d_stream_socket(struct tk_stream *base, const struct tk_stream_cbs *cbs,
		void *arg)
{
	struct direct_stream *s = (struct direct_stream *)base;
	uv_os_fd_t fd;

	s->cbs = cbs;
	s->arg = arg;
	return uv_fileno((uv_handle_t *)&s->tcp, &fd) == 0 ? (int)fd : -1;
}

static void
d_stream_read_stop(struct tk_stream *base)
{
	struct direct_stream *s = (struct direct_stream *)base;

	uv_read_stop((uv_stream_t *)&s->tcp);
}

static void
d_stream_read_start(struct tk_stream *base)
{
	struct direct_stream *s = (struct direct_stream *)base;

	if (!s->closing)
		uv_read_start((uv_stream_t *)&s->tcp, alloc_cb, read_cb);
}

static void
write_cb(uv_write_t *w, int status)
{
	struct write_req *wr = (struct write_req *)w;
	struct direct_stream *s = wr->s;

	s->cbs->written(s->arg, wr->buf, wr->len, status);
	free(wr);
	if (status < 0 && status != UV_ECANCELED && !s->closing)
		s->cbs->error(s->arg, end_reason_from_uv(status));
}

static int
d_stream_write(struct tk_stream *base, uint8_t *buf, size_t len)
{
	struct direct_stream *s = (struct direct_stream *)base;
	struct write_req *wr;
	uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
	int rc;

	if (s->closing)
		return UV_EPIPE;
	wr = malloc(sizeof(*wr));
	if (wr == NULL)
		return UV_ENOMEM;
	wr->s = s;
	wr->buf = buf;
	wr->len = len;
	rc = uv_write(&wr->w, (uv_stream_t *)&s->tcp, &b, 1, write_cb);
	if (rc < 0)
		free(wr);
	return rc;
}

static void
shutdown_cb(uv_shutdown_t *r, int status)
{
	(void)r;
	(void)status; /* a failed shutdown shows up as a read error */
}

static void
d_stream_shutdown(struct tk_stream *base)
{
	struct direct_stream *s = (struct direct_stream *)base;

	/* Real half-close: the target sees EOF after the queued bytes and
	 * may keep answering (Tor's relay protocol cannot do this). */
	if (!s->closing)
		uv_shutdown(&s->sreq, (uv_stream_t *)&s->tcp, shutdown_cb);
}

static void
d_stream_close(struct tk_stream *base)
{
	struct direct_stream *s = (struct direct_stream *)base;

	if (s->closing)
		return;
	s->closing = 1;
	uv_close((uv_handle_t *)&s->tcp, stream_closed);
}

/* ---- connect */

static void try_next(struct tk_engine_req *r);

static void
attempt_closed(uv_handle_t *h)
{
	struct direct_stream *s = h->data;
	struct direct_engine *e = (struct direct_engine *)s->base.engine;

	free(s);
	engine_unref(e);
}

/* A connection to one of this host's own public addresses has its own
 * address at both ends (the kernel picks the destination as the source
 * for a local route). Internal addresses are ExitPolicyRejectPrivate's.
 * The peer is the address we connected to (`a`): only our end costs a
 * system call, and none for an internal one. */
static int
connected_to_self(struct direct_stream *s, const struct tk_resolved_addr *a)
{
	struct sockaddr_storage me;
	int ml = sizeof(me);
	const uint8_t *mine;

	if (tk_addr_is_internal(a->family, a->addr) ||
	    uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&me, &ml) < 0 ||
	    me.ss_family != a->family)
		return 0;
	mine = a->family == AF_INET
		       ? (const uint8_t *)&((struct sockaddr_in *)&me)->sin_addr
		       : (const uint8_t *)&((struct sockaddr_in6 *)&me)
				 ->sin6_addr;
	return memcmp(mine, a->addr, a->family == AF_INET ? 4 : 16) == 0;
}

static void
connect_cb(uv_connect_t *c, int status)
{
	struct direct_stream *s = c->data;
	struct tk_engine_req *r = s->connecting;

	s->connecting = NULL;
	r->s = NULL;
	if (r->cancelled) {
		/* tk_engine_cancel closed the handle already. */
		req_free(r);
		return;
	}
	if (status == 0 && r->e->reject_ifaces &&
	    connected_to_self(s, &r->cand.addrs[r->next_cand - 1])) {
		/* An interface address that appeared within the last second:
		 * nothing has been relayed; refuse it as the policy would. */
		tk_info("ExitPolicyRejectLocalInterfaces: %s:%u is this host",
			tk_dlog_safe(r->host), r->port);
		r->reason = TK_END_EXITPOLICY;
		uv_close((uv_handle_t *)&s->tcp, attempt_closed);
		r->e->ifaces_at = 0;
		try_next(r);
		return;
	}
	if (status == 0) {
		tk_debug("connected to %s:%u", tk_dlog_safe(r->host), r->port);
		r->waiting = WAIT_NONE;
		r->ccb(r->arg, TK_END_NONE, &s->base);
		req_free(r);
		return;
	}
	tk_info("connecting to %s:%u failed: %s", tk_dlog_safe(r->host),
		r->port, uv_strerror(status));
	r->reason = end_reason_from_uv(status);
	uv_close((uv_handle_t *)&s->tcp, attempt_closed);
	try_next(r);
}

static void
try_next(struct tk_engine_req *r)
{
	struct direct_engine *e = r->e;

	while (r->next_cand < r->cand.n_addrs) {
		const struct tk_resolved_addr *a =
			&r->cand.addrs[r->next_cand++];
		struct sockaddr_storage ss = { 0 };
		struct direct_stream *s;
		int rc;

		if (a->family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			sin->sin_family = AF_INET;
			memcpy(&sin->sin_addr, a->addr, 4);
			sin->sin_port = htons(r->port);
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, a->addr, 16);
			sin6->sin6_port = htons(r->port);
		}
		s = calloc(1, sizeof(*s));
		if (s == NULL) {
			r->reason = TK_END_RESOURCELIMIT;
			continue;
		}
		s->base.engine = &e->base;
		uv_tcp_init(e->base.loop, &s->tcp);
		s->tcp.data = s;
		s->creq.data = s;
		e->open++;
		/* No bind before connect: the kernel picks the source, so
		 * the ephemeral ports are not exhausted by TIME_WAIT. */
		rc = uv_tcp_connect(&s->creq, &s->tcp,
				    (const struct sockaddr *)&ss, connect_cb);
		if (rc < 0) {
			tk_info("connecting to %s:%u failed: %s",
				tk_dlog_safe(r->host), r->port,
				uv_strerror(rc));
			r->reason = end_reason_from_uv(rc);
			if (rc == UV_EMFILE || rc == UV_ENFILE)
				tk_warn("out of file descriptors for outgoing "
					"connections; raise the limit "
					"(ulimit -n) or lower MaxClients");
			uv_close((uv_handle_t *)&s->tcp, attempt_closed);
			continue;
		}
		uv_tcp_nodelay(&s->tcp, 1);
		s->connecting = r;
		r->s = s;
		r->waiting = WAIT_CONNECT;
		return;
	}
	fail_later(r, r->reason ? r->reason : TK_END_MISC);
}

/* Keep the addresses the exit policy accepts, IPv4 first (as a Tor exit
 * answers). Returns how many were refused. */
static size_t
filter_candidates(struct tk_engine_req *r, const struct tk_resolved *res)
{
	size_t refused = 0;

	r->cand.n_addrs = 0;
	for (int pass = 0; pass < 2; pass++) {
		int fam = pass == 0 ? AF_INET : AF_INET6;

		for (size_t i = 0; i < res->n_addrs; i++) {
			const struct tk_resolved_addr *a = &res->addrs[i];

			if (a->family != fam)
				continue;
			if (tk_policy_match(&r->e->ifaces, a->family, a->addr,
					    r->port) == 0 ||
			    tk_policy_match(&r->e->policy, a->family, a->addr,
					    r->port) == 0) {
				refused++;
				continue;
			}
			r->cand.addrs[r->cand.n_addrs++] = *a;
		}
	}
	return refused;
}

/* ExitPolicyRejectLocalInterfaces, as Tor's: every address of this
 * host's interfaces that is not internal (ExitPolicyRejectPrivate covers
 * those) is rejected, so a service listening on 0.0.0.0 is not reached
 * through the host's own public address. Interfaces come and go, so the
 * list is read again when it is more than a second old. */
static void
refresh_ifaces(struct direct_engine *e)
{
	uv_interface_address_t *ifs;
	uint64_t now = uv_now(e->base.loop);
	int n;

	if (!e->reject_ifaces ||
	    (e->ifaces_at != 0 && now - e->ifaces_at < 1000))
		return;
	e->ifaces_at = now;
	tk_policy_free(&e->ifaces);
	if (uv_interface_addresses(&ifs, &n) < 0)
		return;
	for (int i = 0; i < n; i++) {
		struct tk_policy_rule rule = { 0 };
		const struct sockaddr *sa =
			(const struct sockaddr *)&ifs[i].address;

		if (sa->sa_family == AF_INET) {
			rule.family = AF_INET;
			rule.bits = 32;
			memcpy(rule.addr,
			       &((const struct sockaddr_in *)sa)->sin_addr, 4);
		} else if (sa->sa_family == AF_INET6) {
			rule.family = AF_INET6;
			rule.bits = 128;
			memcpy(rule.addr,
			       &((const struct sockaddr_in6 *)sa)->sin6_addr,
			       16);
		} else
			continue;
		if (tk_addr_is_internal(rule.family, rule.addr))
			continue;
		rule.port_min = 1;
		rule.port_max = 65535;
		(void)tk_policy_add(&e->ifaces, &rule);
	}
	uv_free_interface_addresses(ifs, n);
}

static void
start_candidates(struct tk_engine_req *r, const struct tk_resolved *res)
{
	size_t refused;

	refresh_ifaces(r->e);
	refused = filter_candidates(r, res);

	if (r->cand.n_addrs == 0) {
		tk_info("ExitPolicy rejects every address of %s:%u (%zu)",
			tk_dlog_safe(r->host), r->port, refused);
		fail_later(r,
			   refused ? TK_END_EXITPOLICY : TK_END_RESOLVEFAILED);
		return;
	}
	try_next(r);
}

static void
connect_dns_cb(void *arg, int status, const struct tk_resolved *res)
{
	struct tk_engine_req *r = arg;

	r->q = NULL;
	r->waiting = WAIT_NONE;
	if (status != ARES_SUCCESS) {
		tk_info("resolving %s failed: %s", tk_dlog_safe(r->host),
			tk_dns_strerror(status));
		r->ccb(r->arg, end_reason_from_ares(status), NULL);
		req_free(r);
		return;
	}
	start_candidates(r, res);
}

static int
is_onion(const char *host)
{
	size_t n = strlen(host);

	if (n > 0 && host[n - 1] == '.')
		n--;
	return (n == 5 && strncmp(host, "onion", 5) == 0) ||
	       (n > 6 && strncmp(host + n - 6, ".onion", 6) == 0);
}

static int
d_connect(struct tk_engine *base, const struct tk_target *t,
	  const struct tk_isolation *iso, tk_engine_connect_cb cb, void *arg,
	  struct tk_engine_req **out)
{
	struct direct_engine *e = (struct direct_engine *)base;
	struct tk_engine_req *r = req_new(e, REQ_CONNECT, arg);

	(void)iso; /* zero hops: nothing to isolate */
	if (r == NULL)
		return UV_ENOMEM;
	r->ccb = cb;
	r->port = t->port;
	snprintf(r->host, sizeof(r->host), "%s", t->host);
	*out = r;
	if (t->family == AF_INET || t->family == AF_INET6) {
		struct tk_resolved res = { .n_addrs = 1 };

		res.addrs[0].family = t->family;
		memcpy(res.addrs[0].addr, t->addr, 16);
		start_candidates(r, &res);
		return 0;
	}
	if (is_onion(t->host)) {
		/* Never let an onion name reach DNS. */
		tk_notice("the direct engine cannot reach onion services "
			  "(%s); use Engine tor",
			  tk_dlog_safe(t->host));
		fail_later(r, TK_END_RESOLVEFAILED);
		return 0;
	}
	r->waiting = WAIT_DNS;
	return tk_dns_lookup(e->dns, t->host, TK_RESOLVE_IPV4 | TK_RESOLVE_IPV6,
			     connect_dns_cb, r, &r->q) < 0
		       ? (req_free(r), UV_ENOMEM)
		       : 0;
}

/* ---- resolve */

static void
resolve_dns_cb(void *arg, int status, const struct tk_resolved *res)
{
	struct tk_engine_req *r = arg;

	r->q = NULL;
	r->waiting = WAIT_NONE;
	if (status != ARES_SUCCESS)
		tk_info("resolving %s failed: %s", tk_dlog_safe(r->host),
			tk_dns_strerror(status));
	r->rcb(r->arg,
	       status == ARES_SUCCESS ? TK_END_NONE
				      : end_reason_from_ares(status),
	       res);
	req_free(r);
}

static int
d_resolve(struct tk_engine *base, const char *name, int families,
	  const struct tk_isolation *iso, tk_engine_resolve_cb cb, void *arg,
	  struct tk_engine_req **out)
{
	struct direct_engine *e = (struct direct_engine *)base;
	struct tk_engine_req *r = req_new(e, REQ_RESOLVE, arg);

	(void)iso;
	if (r == NULL)
		return UV_ENOMEM;
	r->rcb = cb;
	snprintf(r->host, sizeof(r->host), "%s", name);
	*out = r;
	if (is_onion(name)) {
		fail_later(r, TK_END_RESOLVEFAILED);
		return 0;
	}
	r->waiting = WAIT_DNS;
	if (tk_dns_lookup(e->dns, name, families, resolve_dns_cb, r, &r->q) <
	    0) {
		req_free(r);
		return UV_ENOMEM;
	}
	return 0;
}

static int
d_resolve_ptr(struct tk_engine *base, int family, const uint8_t addr[16],
	      const struct tk_isolation *iso, tk_engine_resolve_cb cb,
	      void *arg, struct tk_engine_req **out)
{
	struct direct_engine *e = (struct direct_engine *)base;
	struct tk_engine_req *r = req_new(e, REQ_PTR, arg);
	char text[INET6_ADDRSTRLEN];

	(void)iso;
	if (r == NULL)
		return UV_ENOMEM;
	r->rcb = cb;
	inet_ntop(family, addr, text, sizeof(text));
	snprintf(r->host, sizeof(r->host), "%s", text);
	*out = r;
	/* A Tor exit refuses reverse lookups of internal addresses
	 * (dns.c, tor_addr_is_internal): the answer would describe the
	 * exit's own network. */
	if (tk_addr_is_internal(family, addr)) {
		tk_info("refusing a reverse lookup of internal address %s",
			tk_dlog_safe(text));
		fail_later(r, TK_END_RESOLVEFAILED);
		return 0;
	}
	r->waiting = WAIT_DNS;
	if (tk_dns_reverse(e->dns, family, addr, resolve_dns_cb, r, &r->q) <
	    0) {
		req_free(r);
		return UV_ENOMEM;
	}
	return 0;
}

static void
d_cancel(struct tk_engine_req *r)
{
	r->cancelled = 1;
	switch (r->waiting) {
	case WAIT_DNS:
		tk_dns_cancel(r->q);
		req_free(r);
		break;
	case WAIT_CONNECT:
		/* connect_cb runs with UV_ECANCELED and frees r. */
		r->s->closing = 1;
		uv_close((uv_handle_t *)&r->s->tcp, attempt_closed);
		break;
	case WAIT_DEFER:
		break; /* defer_cb frees it */
	default:
		req_free(r);
		break;
	}
}

/* ---- lifecycle */

static int
build_policy(struct direct_engine *e, const struct tk_config *cfg)
{
	struct tk_policy p = { 0 };

	/* As Tor's ExitPolicyRejectPrivate: the private rejects come
	 * before the user's lines, then everything else is accepted. */
	if (cfg->exit_reject_private &&
	    tk_policy_add_private(&p, 0, 1, 65535) < 0)
		goto oom;
	for (size_t i = 0; i < cfg->exit_policy.n; i++)
		if (tk_policy_add(&p, &cfg->exit_policy.rules[i]) < 0)
			goto oom;
	tk_policy_free(&e->policy);
	e->policy = p;
	e->reject_ifaces = cfg->exit_reject_local_interfaces;
	e->ifaces_at = 0;
	tk_policy_free(&e->ifaces);
	return 0;
oom:
	tk_policy_free(&p);
	tk_warn("out of memory building the ExitPolicy");
	return -1;
}

static int
d_reload(struct tk_engine *base, const struct tk_config *cfg)
{
	struct direct_engine *e = (struct direct_engine *)base;
	char err[256];

	if (build_policy(e, cfg) < 0)
		return -1;
	if (cfg->dns_servers != NULL &&
	    tk_dns_set_servers(e->dns, cfg->dns_servers, err, sizeof(err)) <
		    0) {
		tk_warn("%s", err);
		return -1;
	}
	return 0;
}

static void
dns_closed(void *arg)
{
	engine_unref(arg);
}

static void
defer_closed(uv_handle_t *h)
{
	dns_closed(h->data);
}

static void
d_close(struct tk_engine *base, void (*done)(void *), void *arg)
{
	struct direct_engine *e = (struct direct_engine *)base;

	e->done = done;
	e->done_arg = arg;
	/* The front-end cancelled its requests; deliver nothing more. */
	for (struct tk_engine_req *r = e->deferred; r != NULL; r = r->next)
		r->cancelled = 1;
	defer_cb(&e->defer);
	e->open += 2;
	tk_dns_close(e->dns, dns_closed, e);
	uv_close((uv_handle_t *)&e->defer, defer_closed);
}

static const struct tk_engine_ops direct_ops = {
	.name = "direct",
	.connect = d_connect,
	.resolve = d_resolve,
	.resolve_ptr = d_resolve_ptr,
	.cancel = d_cancel,
	.stream_start = d_stream_start,
	.stream_read_stop = d_stream_read_stop,
	.stream_read_start = d_stream_read_start,
	.stream_write = d_stream_write,
	.stream_socket = d_stream_socket,
	.stream_shutdown = d_stream_shutdown,
	.stream_close = d_stream_close,
	.reload = d_reload,
	.close = d_close,
};

int
tk_engine_direct_new(uv_loop_t *loop, const struct tk_config *cfg,
		     struct tk_engine **out)
{
	struct direct_engine *e = calloc(1, sizeof(*e));
	char err[256];

	if (e == NULL) {
		tk_err("out of memory");
		return -1;
	}
	e->base.ops = &direct_ops;
	e->base.loop = loop;
	if (build_policy(e, cfg) < 0) {
		free(e);
		return -1;
	}
	if (tk_dns_new(loop, cfg->dns_servers, &e->dns, err, sizeof(err)) < 0) {
		tk_err("%s", err);
		tk_policy_free(&e->policy);
		free(e);
		return -1;
	}
	uv_timer_init(loop, &e->defer);
	e->defer.data = e;
	*out = &e->base;
	return 0;
}
