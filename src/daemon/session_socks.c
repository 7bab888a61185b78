/* session_socks.c — a SOCKS client's handshake through the codec, the
 * request to the engine and the reply (session.c holds the connection,
 * session_relay.c what comes after a CONNECT). */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/policy.h"
#include "daemon/server.h"
#include "daemon/session_int.h"

/* ---- replies */

static uint8_t
rep_for(struct tk_session *s, int end_reason)
{
	if (TK_END_IS_EXT(end_reason)) {
		if (s->port.flags & TK_PORT_EXTENDED_ERRORS)
			return (uint8_t)TK_END_EXT_REP(end_reason);
		end_reason = TK_END_BASE(end_reason);
	}
	return tk_socks5_rep_from_end_reason(end_reason);
}

static void
reply_connect_failed(struct tk_session *s, int end_reason)
{
	uint8_t buf[32];
	size_t n = tk_socks_reply_connect(buf, sizeof(buf), s->codec.version,
					  rep_for(s, end_reason),
					  s->port.family);

	tk__session_finish(s, buf, n);
}

/* Tor answers every RESOLVE failure with REP 04 ("host unreachable"). */
static void
reply_resolve_failed(struct tk_session *s)
{
	uint8_t buf[32];
	size_t n = tk_socks_reply_resolve_error(buf, sizeof(buf),
						s->codec.version,
						TK_SOCKS5_HOST_UNREACHABLE);

	tk__session_finish(s, buf, n);
}

static void
reply_address(struct tk_session *s, int family, const uint8_t *a)
{
	uint8_t buf[64];
	size_t n;

	if (family == AF_INET)
		n = tk_socks_reply_resolved_ipv4(buf, sizeof(buf),
						 s->codec.version, a);
	else
		n = tk_socks_reply_resolved_ipv6(buf, sizeof(buf),
						 s->codec.version, a);
	tk__session_finish(s, buf, n);
}

/* ---- engine callbacks */

static void
connect_done(void *arg, int end_reason, struct tk_stream *stream)
{
	struct tk_session *s = arg;

	s->req = NULL;
	if (end_reason != TK_END_NONE) {
		tk_info("CONNECT to %s failed: END reason %d",
			tk_dlog_safe(s->target), TK_END_BASE(end_reason));
		reply_connect_failed(s, end_reason);
		return;
	}
	s->stream = stream;
	s->open_handles++; /* released by tk__stream_closed */
	tk__start_relay(s);
}

static void
resolve_done(void *arg, int end_reason, const struct tk_resolved *res)
{
	struct tk_session *s = arg;
	const struct tk_resolved_addr *v4 = NULL, *v6 = NULL, *pick;

	s->req = NULL;
	if (end_reason != TK_END_NONE || res == NULL) {
		reply_resolve_failed(s);
		return;
	}
	if (s->codec.req.command == TK_SOCKS_CMD_RESOLVE_PTR) {
		uint8_t buf[TK_SOCKS_REPLY_MAX];
		size_t n = tk_socks_reply_resolved_name(buf, sizeof(buf),
							s->codec.version,
							res->name);

		tk__session_finish(s, buf, n);
		return;
	}
	/* Tor's choice: the first IPv4 answer, else the first IPv6 one
	 * (the other way round on PreferIPv6 ports). */
	for (size_t i = 0; i < res->n_addrs; i++) {
		if (res->addrs[i].family == AF_INET && v4 == NULL)
			v4 = &res->addrs[i];
		if (res->addrs[i].family == AF_INET6 && v6 == NULL)
			v6 = &res->addrs[i];
	}
	if (s->port.flags & TK_PORT_PREFER_IPV6)
		pick = v6 ? v6 : v4;
	else
		pick = v4 ? v4 : v6;
	if (pick == NULL) {
		reply_resolve_failed(s);
		return;
	}
	reply_address(s, pick->family, pick->addr);
}

/* ---- the request */

static int
has_suffix(const char *host, const char *suffix)
{
	size_t n = strlen(host), m = strlen(suffix);

	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n == m - 1 && strncmp(host, suffix + 1, n) == 0)
		return 1;
	return n >= m && strncmp(host + n - m, suffix, m) == 0;
}

static void
handle_request(struct tk_session *s)
{
	struct tk_socks_request *rq = &s->codec.req;
	struct tk_server *srv = s->srv;
	struct tk_isolation iso = { 0 };
	struct tk_target t = { 0 };
	char host[TK_SOCKS_HOST_MAX];
	char client_addr[sizeof(s->peer)], *colon;
	int rc = 0;

	/* Tor lowercases the address before anything looks at it. */
	for (size_t i = 0; i < sizeof(host); i++) {
		host[i] = (char)tolower((unsigned char)rq->host[i]);
		if (host[i] == '\0')
			break;
	}
	host[sizeof(host) - 1] = '\0';
	t.family = tk_ip_parse(host, t.addr);
	if (t.family == AF_INET6 && host[0] == '[') {
		/* The engine gets the address without brackets. */
		size_t n = strlen(host);

		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	if (t.family == 0)
		t.family = AF_UNSPEC;
	t.host = host;
	t.port = rq->port;
	t.prefer_ipv6 = (s->port.flags & TK_PORT_PREFER_IPV6) != 0;
	snprintf(s->target, sizeof(s->target),
		 t.family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, rq->port);

	iso.listener_id = s->port.id;
	iso.socks_version = rq->version;
	iso.rules =
		(s->port.flags & TK_PORT_ISOLATE_DEST_ADDR ? TK_ISO_DEST_ADDR
							   : 0) |
		(s->port.flags & TK_PORT_ISOLATE_DEST_PORT ? TK_ISO_DEST_PORT
							   : 0) |
		(s->port.flags & TK_PORT_ISOLATE_CLIENT_ADDR
			 ? TK_ISO_CLIENT_ADDR
			 : 0) |
		(s->port.flags & TK_PORT_ISOLATE_CLIENT_PROTOCOL
			 ? TK_ISO_CLIENT_PROTOCOL
			 : 0);
	/* s->peer is "ADDR:PORT" or "[ADDR]:PORT" ("unix" for a socket):
	 * the client's address is all before the last colon. */
	snprintf(client_addr, sizeof(client_addr), "%s", s->peer);
	if (!s->is_unix && (colon = strrchr(client_addr, ':')) != NULL)
		*colon = '\0';
	iso.client_addr = client_addr;
	iso.dest_host = host;
	iso.dest_port = rq->port;
	if (!(s->port.flags & TK_PORT_NO_ISOLATE_AUTH) && rq->has_auth) {
		iso.has_auth = 1;
		iso.has_password = rq->has_password;
		iso.username = rq->username;
		iso.username_len = rq->username_len;
		iso.password = rq->password;
		iso.password_len = rq->password_len;
	}

	if (has_suffix(host, ".exit")) {
		tk_warn("The \".exit\" notation is disabled in torkitd, as "
			"in Tor, due to security risks.");
		if (rq->command == TK_SOCKS_CMD_CONNECT)
			reply_connect_failed(s, TK_END_TORPROTOCOL);
		else
			reply_resolve_failed(s);
		return;
	}

	tk__set_state(s, S_ENGINE);
	switch (rq->command) {
	case TK_SOCKS_CMD_CONNECT:
		if (rq->port == 0) {
			tk_warn("Application asked to connect to port 0. "
				"Refusing.");
			reply_connect_failed(s, TK_END_TORPROTOCOL);
			return;
		}
		if (rq->version == 4 && t.family == AF_INET6) {
			tk_warn("Rejecting SOCKS4 request for an IPv6 "
				"address.");
			reply_connect_failed(s, TK_END_ENTRYPOLICY);
			return;
		}
		tk_info("CONNECT %s (socks%d)", tk_dlog_safe(s->target),
			rq->version);
		rc = tk_engine_connect(srv->engine, &t, &iso, connect_done, s,
				       &s->req);
		break;
	case TK_SOCKS_CMD_RESOLVE:
		/* An IP literal is its own answer: no network (as Tor). */
		if (t.family == AF_INET || t.family == AF_INET6) {
			reply_address(s, t.family, t.addr);
			return;
		}
		if (has_suffix(host, ".onion")) {
			tk_warn("Resolve requests to hidden services not "
				"allowed. Failing.");
			reply_resolve_failed(s);
			return;
		}
		tk_info("RESOLVE %s (socks%d)", tk_dlog_safe(host),
			rq->version);
		rc = tk_engine_resolve(srv->engine, host,
				       rq->version == 4
					       ? TK_RESOLVE_IPV4
					       : TK_RESOLVE_IPV4 |
							 TK_RESOLVE_IPV6,
				       &iso, resolve_done, s, &s->req);
		break;
	case TK_SOCKS_CMD_RESOLVE_PTR:
		if (t.family != AF_INET && t.family != AF_INET6) {
			/* The codec refuses these; never guess. */
			reply_resolve_failed(s);
			return;
		}
		tk_info("RESOLVE_PTR %s", tk_dlog_safe(host));
		rc = tk_engine_resolve_ptr(srv->engine, t.family, t.addr, &iso,
					   resolve_done, s, &s->req);
		break;
	default:
		/* The codec answers BIND and UDP ASSOCIATE itself. */
		reply_connect_failed(s, TK_END_MISC);
		return;
	}
	if (rc < 0) {
		s->req = NULL;
		tk_warn("cannot start the request: %s", uv_strerror(rc));
		if (rq->command == TK_SOCKS_CMD_CONNECT)
			reply_connect_failed(s, TK_END_RESOURCELIMIT);
		else
			reply_resolve_failed(s);
	}
}

/* ---- handshake */

/* The codec's messages are Tor's; the only one that quotes the client's
 * hostname is "...malformed hostname: NAME. Rejecting...". Scrub NAME
 * while SafeLogging is on, as Tor does. */
static void
log_codec_message(const struct tk_socks_server_result *res)
{
	static const char key[] = "hostname: ";
	int level = res->log_level == TK_SOCKS_LOG_WARN ? TK_LOG_WARN
							: TK_LOG_NOTICE;
	const char *at = strstr(res->log, key);

	if (at != NULL && tk_dlog_scrubbing()) {
		const char *end = strstr(at, ". Rejecting");

		tk_dlog(level, "%.*s[scrubbed]%s",
			(int)(at - res->log + sizeof(key) - 1), res->log,
			end != NULL ? end : ".");
		return;
	}
	tk_dlog(level, "%s", res->log);
}

static void
hs_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct tk_session *s = h->data;

	(void)suggested;
	*b = uv_buf_init((char *)s->in + s->in_len,
			 (unsigned)(sizeof(s->in) - s->in_len));
}

static void
hs_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
	struct tk_session *s = st->data;
	struct tk_socks_server_result res;

	(void)b;
	if (nread == 0)
		return;
	if (nread < 0) {
		/* EOF or reset before a request: Tor closes without a
		 * reply. */
		tk_debug("client %s went away during the handshake",
			 tk_dlog_safe(s->peer));
		tk__session_close(s);
		return;
	}
	s->in_len += (size_t)nread;
	tk_socks_server_feed(&s->codec, s->in, s->in_len, &res);
	if (res.log_level != TK_SOCKS_LOG_NONE && res.log[0] != '\0')
		log_codec_message(&res);
	if (res.consumed > s->in_len)
		res.consumed = s->in_len;
	memmove(s->in, s->in + res.consumed, s->in_len - res.consumed);
	s->in_len -= res.consumed;

	switch (res.status) {
	case TK_SOCKS_ERROR:
		tk_info("Fetching socks handshake failed. Closing.");
		tk__session_finish(s, res.reply, res.reply_len);
		return;
	case TK_SOCKS_NEED_MORE:
		if (res.reply_len > 0 &&
		    tk__client_write_copy(s, res.reply, res.reply_len, 0) < 0) {
			tk__session_close(s);
			return;
		}
		if (s->in_len == sizeof(s->in)) {
			/* The codec never needs this much (its longest
			 * message is 513 bytes); give up. */
			tk_warn("handshake from %s too long; closing",
				tk_dlog_safe(s->peer));
			tk__session_close(s);
		}
		return;
	case TK_SOCKS_DONE:
		/* Replies to earlier messages (methods, auth) first. */
		if (res.reply_len > 0 &&
		    tk__client_write_copy(s, res.reply, res.reply_len, 0) < 0) {
			tk__session_close(s);
			return;
		}
		uv_read_stop(st);
		handle_request(s);
		return;
	}
}

static void
socks_timeout(uv_timer_t *t)
{
	struct tk_session *s = t->data;

	if (s->state == S_HANDSHAKE) {
		/* No command yet: Tor closes without a reply. */
		tk_info("client %s did not finish its SOCKS handshake in "
			"time (SocksTimeout); closing",
			tk_dlog_safe(s->peer));
		tk__session_close(s);
		return;
	}
	if (s->state == S_ENGINE) {
		tk_notice("request for %s timed out after SocksTimeout",
			  tk_dlog_safe(s->target));
		if (s->req != NULL) {
			tk_engine_cancel(s->srv->engine, s->req);
			s->req = NULL;
		}
		if (s->codec.req.command == TK_SOCKS_CMD_CONNECT)
			reply_connect_failed(s, TK_END_TIMEOUT);
		else
			reply_resolve_failed(s);
	}
}

void
tk_session_start(struct tk_server *srv, uv_stream_t *client,
		 const struct tk_port_info *pi, const char *peer)
{
	struct tk_session *s = client->data;
	struct tk_socks_server_config cc = { 0 };

	s->port = *pi;
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	s->open_handles = 2;
	uv_timer_init(srv->loop, &s->timer);
	s->timer.data = s;
	s->counted = 1; /* admitted: in clients_all and addrcount */
	srv->n_clients++;
	atomic_store_explicit(&srv->clients_own, srv->n_clients,
			      memory_order_relaxed);
	atomic_fetch_add_explicit(&srv->accepted, 1, memory_order_relaxed);
	s->next = srv->sessions;
	if (s->next)
		s->next->prev = s;
	srv->sessions = s;

	cc.safe_socks = (uint8_t)srv->cfg->safe_socks;
	cc.test_socks = (uint8_t)srv->cfg->test_socks;
	cc.prefer_no_auth = (pi->flags & TK_PORT_PREFER_NO_AUTH) != 0;
	cc.client_family = pi->family;
	tk_socks_server_init(&s->codec, &cc);
#ifndef __linux__
	/* Linux: inherited from the listener (listener.c). */
	if (!s->is_unix)
		uv_tcp_nodelay(&s->h.tcp, 1);
#endif
	tk__set_state(s, S_HANDSHAKE);
	uv_timer_start(&s->timer, socks_timeout,
		       (uint64_t)srv->cfg->socks_timeout * 1000, 0);
	if (uv_read_start(client, hs_alloc, hs_read) < 0)
		tk__session_close(s);
}
