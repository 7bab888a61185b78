/* streams.h, the requests: connect, resolve and resolve_ptr, where onion
 * names are decided, and tk_streams_new(), which registers the parts
 * below (streams_io.c, streams.c) with the circuit manager. The top of
 * the parts (streams_int.h). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/util.h"
#include "onion/client/streams_int.h"

/* ---------------------------------------------------------- requests */

static ostrm *
os_new(tk_streams *ss, enum os_kind kind, const void *iso, size_t iso_len,
       void *arg)
{
	ostrm *s = calloc(1, sizeof *s);
	struct link *head = &ss->all;
	if (!s)
		return NULL;
	if (iso_len) {
		s->iso = malloc(iso_len);
		if (!s->iso) {
			free(s);
			return NULL;
		}
		memcpy(s->iso, iso, iso_len);
		s->iso_len = iso_len;
	}
	s->ss = ss;
	s->kind = kind;
	s->arg = arg;
	s->d.fn = tk_ss_service;
	s->creq.cb = tk_ss_on_circ;
	s->creq.iso = s->iso;
	s->creq.iso_len = s->iso_len;
	s->tries = 1;
	s->req_deadline = tk_ss_now_ms(ss) + ss->cfg.request_timeout_ms;
	s->link.next = head->next;
	s->link.prev = head;
	head->next->prev = &s->link;
	head->next = &s->link;
	return s;
}

/* The one place onion names are decided, before any circuit is asked
 * for, so that none can reach an exit in a BEGIN or RESOLVE: a malformed
 * one fails here (F6); a valid one is a CONNECT's to the onion-service
 * client (*id filled, -1 returned), while a lookup of one is refused as
 * tor refuses it, and so is a CONNECT without the client
 * (directory_only). 0 for any other name. */
static int
onion_refusal(tk_streams *ss, const char *host, int connect,
	      uint8_t id[TK_HS_ID_LEN])
{
	int k = tk_hs_host_parse(host, strlen(host), id);

	if (k == 0)
		return 0;
	if (k < 0) {
		tk_ss_log(ss, TK_LOG_WARN,
			  "Invalid onion hostname %s; rejecting",
			  tk_ss_host(ss, host));
		return TK_ONION_HS_BAD_ADDRESS;
	}
	if (connect && ss->hs)
		return -1;
	tk_ss_log(ss, TK_LOG_NOTICE,
		  connect ? "%s: no onion-service client here; refused, "
			    "nothing was sent"
			  : "Resolve requests to onion services (%s) are not "
			    "allowed; refused, nothing was sent",
		  tk_ss_host(ss, host));
	return TK_ONION_HS_NOT_FOUND;
}

int
tk_streams_connect(tk_streams *ss, const char *host, uint16_t port,
		   unsigned prefs, const void *iso, size_t iso_len,
		   tk_onion_connect_cb cb, void *arg, tk_onion_req **req)
{
	uint8_t body[TK_RELAY_DATA_MAX];
	ostrm *s;
	int refusal;

	*req = NULL;
	if (!host || !host[0] || strlen(host) >= sizeof s->host || !port ||
	    tk_relay_begin_encode(host, port, 0, body, sizeof body) < 0)
		return -EINVAL;
	s = os_new(ss, K_CONNECT, iso, iso_len, arg);
	if (!s)
		return -ENOMEM;
	snprintf(s->host, sizeof s->host, "%s", host);
	s->port = port;
	s->prefer_ipv6 = (prefs & TK_ONION_PREFER_IPV6) != 0;
	s->ccb = cb;
	s->creq.port = port;
	refusal = onion_refusal(ss, host, 1, s->onion_id);
	if (refusal < 0) {
		s->onion = 1;
		refusal = tk_ss_ask_circ(s);
	} else if (refusal == 0) {
		refusal = tk_ss_ask_circ(s);
	}
	if (refusal)
		tk_ss_finish(s, refusal); /* answered from the deferred work */
	*req = (tk_onion_req *)s;
	return 0;
}

int
tk_streams_resolve(tk_streams *ss, const char *name, int families,
		   const void *iso, size_t iso_len, tk_onion_resolve_cb cb,
		   void *arg, tk_onion_req **req)
{
	uint8_t body[TK_RELAY_DATA_MAX];
	ostrm *s;
	int refusal;

	*req = NULL;
	if (!name || !name[0] || strlen(name) >= sizeof s->host || !families ||
	    tk_relay_resolve_encode(name, body, sizeof body) < 0)
		return -EINVAL;
	s = os_new(ss, K_RESOLVE, iso, iso_len, arg);
	if (!s)
		return -ENOMEM;
	snprintf(s->host, sizeof s->host, "%s", name);
	s->families = families;
	s->rcb = cb;
	uint8_t id[TK_HS_ID_LEN];
	if ((refusal = onion_refusal(ss, name, 0, id)) != 0)
		tk_ss_finish(s, refusal);
	else
		tk_circmgr_request(ss->cm, &s->creq);
	*req = (tk_onion_req *)s;
	return 0;
}

int
tk_streams_resolve_ptr(tk_streams *ss, int family, const uint8_t addr[16],
		       const void *iso, size_t iso_len, tk_onion_resolve_cb cb,
		       void *arg, tk_onion_req **req)
{
	ostrm *s;
	tk_relay_addr a;

	*req = NULL;
	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	memset(&a, 0, sizeof a);
	a.family = family == AF_INET ? 4 : 6;
	memcpy(a.a, addr, family == AF_INET ? 4 : 16);
	s = os_new(ss, K_PTR, iso, iso_len, arg);
	if (!s)
		return -ENOMEM;
	s->ptr_addr = a;
	(void)tk_relay_reverse_name(&a, s->host, sizeof s->host);
	s->families = TK_ONION_RESOLVE_IPV4 | TK_ONION_RESOLVE_IPV6;
	s->rcb = cb;
	tk_circmgr_request(ss->cm, &s->creq);
	*req = (tk_onion_req *)s;
	return 0;
}

void
tk_onion_stream_cancel(tk_onion_req *req)
{
	ostrm *s = (ostrm *)req;
	tk_ss_end_os(s);
	tk_ss_free(s);
}

/* ------------------------------------------------------------- setup */

tk_streams *
tk_streams_new(tk_circmgr *cm, const struct tk_streams_config *cfg)
{
	struct tk_circmgr_user u;
	tk_streams *ss = calloc(1, sizeof *ss);
	if (!ss)
		return NULL;
	ss->rate_timer = malloc(sizeof *ss->rate_timer);
	if (!ss->rate_timer) {
		free(ss);
		return NULL;
	}
	uv_timer_init(tk_circmgr_loop(cm), ss->rate_timer);
	ss->rate_timer->data = ss;
	ss->cm = cm;
	ss->cfg = *cfg;
	if (!ss->cfg.stream_attempts)
		ss->cfg.stream_attempts = 1;
	ss->all.next = ss->all.prev = &ss->all;
	memset(&u, 0, sizeof u);
	u.connected = tk_ss_connected;
	u.data = tk_ss_data;
	u.resolved = tk_ss_resolved;
	u.closed = tk_ss_closed;
	u.writable = tk_ss_writable;
	u.tick = tk_ss_tick;
	u.shutdown = tk_ss_shutdown;
	u.arg = ss;
	tk_circmgr_set_user(cm, &u);
	return ss;
}
