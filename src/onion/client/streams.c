/* streams.h: connect / resolve / resolve_ptr requests and client streams
 * over the circuit manager's circuits. Every user callback runs from the
 * manager's deferred work (tk_ss_service() in streams_io.c), never from
 * inside an API call or a cell callback, so the stream table and the
 * circuit never see re-entrancy from the application.
 *
 * This part: a request's life until it is answered (its circuit, the
 * BEGIN or RESOLVE, the exit's answer, retries and deadlines), freeing a
 * stream, and the log. streams_int.h says how the parts stack. */
#include "onion/client/streams.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/util.h"
#include "onion/client/begin_flags.h"
#include "onion/client/streams_int.h"

/* Asks for a circuit: the manager's, or for an onion service the
 * onion-service client's (a circuit joined to it). 0, or an answer. */
int
tk_ss_ask_circ(ostrm *s)
{
	if (!s->onion) {
		tk_circmgr_request(s->ss->cm, &s->creq);
		return 0;
	}
	return tk_hs_client_request(s->ss->hs, s->onion_id, &s->creq) == 0
		       ? 0
		       : TK_ONION_HS_NOT_FOUND;
}

static void
cancel_circ(ostrm *s)
{
	if (s->onion)
		tk_hs_client_cancel(s->ss->hs, &s->creq);
	else
		tk_circmgr_request_cancel(&s->creq);
}

void
tk_streams_config_init(struct tk_streams_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->stream_timeout_ms = 10000;
	cfg->stream_attempts = 3;
	cfg->request_timeout_ms = 120000;
	cfg->linger_ms = 30000;
	cfg->scrub_hosts = 1;
}

/* host, or "[scrubbed]" when destinations stay out of the log. */
const char *
tk_ss_host(const tk_streams *ss, const char *host)
{
	return ss->cfg.scrub_hosts ? "[scrubbed]" : host;
}

uint64_t
tk_ss_now_ms(tk_streams *ss)
{
	return uv_now(tk_circmgr_loop(ss->cm));
}

void
tk_ss_kick(ostrm *s)
{
	tk_circmgr_defer(s->ss->cm, &s->d);
}

void
tk_ss_free(ostrm *s)
{
	struct wbuf *w, *wn;
	struct rchunk *c, *cn;

	tk_circmgr_undefer(s->ss->cm, &s->d);
	cancel_circ(s);
	s->link.prev->next = s->link.next;
	s->link.next->prev = s->link.prev;
	for (w = s->wq; w; w = wn) {
		wn = w->next;
		free(w);
	}
	for (w = s->wdone; w; w = wn) {
		wn = w->next;
		free(w);
	}
	for (c = s->rq; c; c = cn) {
		cn = c->next;
		free(c);
	}
	s->ss->held -= s->held;
	free(s->iso);
	free(s);
}

static void
free_handle(uv_handle_t *h)
{
	free(h);
}

/* tk_circmgr_free(): every stream and request goes, without callbacks,
 * and so does ss. */
void
tk_ss_shutdown(void *arg)
{
	tk_streams *ss = arg;
	struct link *head = &ss->all;
	while (head->next != head)
		tk_ss_free(container_of(head->next, ostrm, link));
	uv_close((uv_handle_t *)ss->rate_timer, free_handle);
	tk_hs_client_free(ss->hs);
	free(ss);
}

void
tk_streams_set_hs(tk_streams *ss, tk_hs_client *hs)
{
	ss->hs = hs;
}

/* The request is answered (success only for lookups or, with reason 0,
 * for a connect that got CONNECTED). */
void
tk_ss_finish(ostrm *s, int reason)
{
	s->done_pending = 1;
	s->done_reason = reason;
	if (reason)
		s->phase = P_DONE;
	tk_ss_kick(s);
}

static void
requeue(ostrm *s)
{
	s->phase = P_WAIT_CIRC;
	s->oc = NULL;
	s->os = NULL;
	s->creq.builds_failed = 0;
	int refusal = tk_ss_ask_circ(s);
	if (refusal)
		tk_ss_finish(s, refusal);
}

/* Tries again on another circuit, or gives up with reason. exclude: the
 * exit refused the request for itself (policy, resources). */
static void
retry(ostrm *s, tk_ocirc *oc, int reason, int exclude)
{
	const struct tk_streams_config *cfg = &s->ss->cfg;
	if (exclude && oc && !s->onion) {
		if (s->creq.n_excluded == TK_CIRCREQ_MAX_EXCLUDED) {
			tk_ss_finish(s, reason);
			return;
		}
		memcpy(s->creq.excluded[s->creq.n_excluded++],
		       tk_ocirc_exit_id(oc), 20);
		s->policy_tries++;
	} else if (++s->tries > cfg->stream_attempts) {
		s->tries--;
		tk_ss_finish(s, reason);
		return;
	}
	tk_ss_log(s->ss, TK_LOG_INFO,
		  "stream to %s:%u: %s on circ %u, trying "
		  "another circuit",
		  tk_ss_host(s->ss, s->host), s->port,
		  tk_relay_end_reason_name((uint8_t)reason), s->serial);
	requeue(s);
}

void
tk_ss_on_circ(struct tk_circreq *r, int reason, tk_ocirc *oc)
{
	ostrm *s = container_of(r, ostrm, creq);
	uint16_t sid;
	int rc;

	if (reason) {
		tk_ss_finish(s, reason);
		return;
	}
	if (tk_ocirc_stream_id(oc, &sid) != 0) {
		tk_ocirc_retire(oc);
		retry(s, NULL, TK_RELAY_END_MISC, 0);
		return;
	}
	switch (s->kind) {
	case K_CONNECT: {
		uint32_t flags = 0;
		if (s->onion) {
			/* the name stays here: the service gets ":PORT" */
			rc = tk_ostream_begin_onion(tk_ocirc_streams(oc),
						    s->port, sid, s, &s->os);
			break;
		}
		flags = tk_begin_flags(s->host, s->port, tk_ocirc_exit_p6(oc),
				       s->prefer_ipv6);
		rc = tk_ostream_begin(tk_ocirc_streams(oc), s->host, s->port,
				      flags, sid, s, &s->os);
		break;
	}
	case K_RESOLVE:
		rc = tk_ostream_resolve(tk_ocirc_streams(oc), s->host, sid, s,
					&s->os);
		break;
	default:
		rc = tk_ostream_resolve_ptr(tk_ocirc_streams(oc), &s->ptr_addr,
					    sid, s, &s->os);
		break;
	}
	if (rc != 0) {
		s->os = NULL;
		tk_ocirc_stream_id_drop(oc, sid);
		if (rc == TK_OSTREAM_EINVAL) {
			tk_ss_finish(s, TK_RELAY_END_TORPROTOCOL);
			return;
		}
		tk_ocirc_retire(oc);
		retry(s, NULL, TK_RELAY_END_MISC, 0);
		return;
	}
	s->oc = oc;
	s->serial = tk_ocirc_serial(oc);
	s->phase = P_SENT;
	tk_ss_log(s->ss, TK_LOG_INFO, "%s %s:%u sent on circ %u (try %u)",
		  s->kind == K_CONNECT	 ? "BEGIN"
		  : s->kind == K_RESOLVE ? "RESOLVE"
					 : "RESOLVE_PTR",
		  tk_ss_host(s->ss, s->host), s->port, s->serial,
		  s->tries + s->policy_tries);
	s->try_deadline = tk_ss_now_ms(s->ss) + s->ss->cfg.stream_timeout_ms;
	tk_ocirc_attached(oc);
}

/* The stream's last word in the log: what it carried, its XON/XOFF
 * (congestion control) and the circuit's state. */
void
tk_ss_log_closed(ostrm *s)
{
	char circ[300], xon[120] = "";
	if (s->kind != K_CONNECT || !s->serial ||
	    tk_circmgr_describe(s->ss->cm, s->serial, circ, sizeof circ) <= 0)
		return;
	if (s->xoff_sent || s->xon_sent || s->xoff_got || s->xon_got)
		snprintf(xon, sizeof xon,
			 "; XOFF/XON sent %u/%u (last advice %u KB/s), "
			 "received %u/%u",
			 s->xoff_sent, s->xon_sent, s->xon_rate, s->xoff_got,
			 s->xon_got);
	tk_ss_log(s->ss, TK_LOG_INFO,
		  "stream to %s:%u closed after %llu bytes up, %llu down%s; %s",
		  tk_ss_host(s->ss, s->host), s->port,
		  (unsigned long long)s->bytes_up,
		  (unsigned long long)s->bytes_down, xon, circ);
}

/* Keeps the stream's XON/XOFF counts for log_closed: the table's stream
 * (and its counters) go with the stream id. */
void
tk_ss_note_xon(ostrm *s)
{
	const tk_stream_xon *x;
	if (!s->os)
		return;
	x = tk_ostream_xon(s->os);
	s->xoff_sent = x->xoffs_sent;
	s->xon_sent = x->xons_sent;
	s->xoff_got = x->xoffs_received;
	s->xon_got = x->xons_received;
	s->xon_rate = x->rate_last_sent;
}

/* ----------------------------- stream table side: the exit's answers */

void
tk_ss_connected(void *ud, tk_ostream *os, const tk_relay_connected *c)
{
	ostrm *s = tk_ostream_data(os);
	(void)ud;
	if (c != NULL && (c->addr.family == 4 || c->addr.family == 6)) {
		s->peer_family = c->addr.family == 4 ? AF_INET : AF_INET6;
		memcpy(s->peer_addr, c->addr.a, c->addr.family == 4 ? 4 : 16);
	}
	s->phase = P_OPEN;
	s->last_activity = tk_ss_now_ms(s->ss);
	tk_ss_log(s->ss, TK_LOG_DEBUG, "stream to %s:%u open on circ %u",
		  tk_ss_host(s->ss, s->host), s->port, s->serial);
	tk_ss_finish(s, 0);
}

static void
add_addr(ostrm *s, const tk_relay_addr *a)
{
	struct tk_onion_resolved *r = &s->res;
	int fam = a->family == 4 ? AF_INET : AF_INET6;
	if (r->n_addrs == TK_ONION_RESOLVED_MAX)
		return;
	if (fam == AF_INET && !(s->families & TK_ONION_RESOLVE_IPV4))
		return;
	if (fam == AF_INET6 && !(s->families & TK_ONION_RESOLVE_IPV6))
		return;
	r->addrs[r->n_addrs].family = fam;
	memset(r->addrs[r->n_addrs].addr, 0, 16);
	memcpy(r->addrs[r->n_addrs].addr, a->a, a->family == 4 ? 4 : 16);
	r->n_addrs++;
}

void
tk_ss_resolved(void *ud, tk_ostream *os, const tk_relay_resolved *r)
{
	ostrm *s = tk_ostream_data(os);
	int found = 0;
	(void)ud;
	s->os = NULL; /* terminal: the table frees it */
	memset(&s->res, 0, sizeof s->res);
	for (size_t i = 0; i < r->n; i++) {
		const tk_relay_resolved_answer *a = &r->ans[i];
		if (s->kind == K_PTR) {
			if (a->type == TK_RELAY_RESOLVED_HOSTNAME && !found) {
				memcpy(s->res.name, a->value, a->len);
				s->res.name[a->len] = '\0';
				s->res.ttl = a->ttl;
				found = 1;
			}
		} else if (a->type == TK_RELAY_RESOLVED_IPV4 ||
			   a->type == TK_RELAY_RESOLVED_IPV6) {
			size_t before = s->res.n_addrs;
			add_addr(s, &a->addr);
			if (s->res.n_addrs > before && !found) {
				s->res.ttl = a->ttl;
				found = 1;
			}
		}
	}
	tk_ss_log(s->ss, TK_LOG_DEBUG, "lookup of %s on circ %u: %s",
		  tk_ss_host(s->ss, s->host), s->serial,
		  found ? "answered"
		  : r->error == TK_RELAY_RESOLVED_ERR_TRANSIENT
			  ? "transient error"
			  : "no answer");
	tk_ss_finish(s, found ? 0 : TK_RELAY_END_RESOLVEFAILED);
}

void
tk_ss_closed(void *ud, tk_ostream *os, int remote, const tk_relay_end *end)
{
	ostrm *s = tk_ostream_data(os);
	tk_ocirc *oc = ud;
	int reason = end ? end->reason : TK_RELAY_END_DESTROY;

	tk_ss_note_xon(s);
	s->os = NULL; /* terminal: the table frees it */
	if (s->phase == P_SENT) {
		s->oc = NULL;
		if (!remote) {
			/* Circuit gone before an answer: nothing is lost by
			 * asking again elsewhere. */
			if (reason == TK_RELAY_END_DESTROY)
				retry(s, NULL, reason, 0);
			else
				tk_ss_finish(s, reason);
			return;
		}
		switch (reason) {
		case TK_RELAY_END_EXITPOLICY:
		case TK_RELAY_END_HIBERNATING:
		case TK_RELAY_END_RESOURCELIMIT:
			retry(s, oc, reason, 1);
			return;
		case TK_RELAY_END_RESOLVEFAILED:
		case TK_RELAY_END_TIMEOUT:
		case TK_RELAY_END_MISC:
		case TK_RELAY_END_NOROUTE:
			tk_ocirc_retire(oc);
			retry(s, NULL, reason, 0);
			return;
		default:
			tk_ss_finish(s, reason);
			return;
		}
	}
	if (s->phase != P_OPEN)
		return;
	s->oc = NULL;
	if (remote && reason == TK_RELAY_END_DONE)
		s->eof_got = 1;
	else
		s->error_reason = reason ? reason : TK_RELAY_END_MISC;
	tk_ss_kick(s);
}

/* s's stream in the circuit's table, if it has one, is ended (END to
 * the exit); s keeps its circuit. */
void
tk_ss_end_os(ostrm *s)
{
	if (s->os && s->oc)
		(void)tk_ostream_close(tk_ocirc_streams(s->oc), s->os);
	s->os = NULL;
}

/* Once a tick: request and try deadlines, lingering streams. */
void
tk_ss_tick(void *arg, uint64_t now)
{
	tk_streams *ss = arg;
	const struct tk_streams_config *cfg = &ss->cfg;
	struct link *head = &ss->all, *l, *next;

	for (l = head->next; l != head; l = next) {
		ostrm *s = container_of(l, ostrm, link);
		next = l->next;
		if ((s->phase == P_WAIT_CIRC || s->phase == P_SENT) &&
		    !s->done_pending && now >= s->req_deadline) {
			tk_ss_end_os(s);
			cancel_circ(s);
			tk_ss_finish(s, TK_RELAY_END_TIMEOUT);
		} else if (s->phase == P_SENT && now >= s->try_deadline) {
			tk_ocirc *oc = s->oc;
			tk_ss_end_os(s);
			tk_ocirc_retire(oc);
			retry(s, NULL, TK_RELAY_END_TIMEOUT, 0);
		} else if (s->phase == P_OPEN && s->shut && !s->wq && s->os &&
			   !s->eof_got &&
			   now - s->last_activity >= cfg->linger_ms) {
			tk_ss_log(ss, TK_LOG_INFO,
				  "stream to %s:%u idle %llu ms "
				  "after shutdown: closing it",
				  tk_ss_host(ss, s->host), s->port,
				  (unsigned long long)cfg->linger_ms);
			tk_ss_note_xon(s);
			tk_ss_end_os(s);
			s->oc = NULL;
			s->eof_got = 1;
			tk_ss_kick(s);
		}
	}
}

/* --------------------------------------------------------- accessors */

int
tk_onion_stream_peer(const tk_onion_stream *s, uint8_t addr[16])
{
	if (s->peer_family)
		memcpy(addr, s->peer_addr, 16);
	return s->peer_family;
}

size_t
tk_onion_stream_queued(const tk_onion_stream *s)
{
	return s->held;
}

void
tk_streams_set_scrub_hosts(tk_streams *ss, int on)
{
	ss->cfg.scrub_hosts = on;
	if (ss->hs)
		tk_hs_client_set_scrub(ss->hs, on);
}

size_t
tk_streams_queued(const tk_streams *ss)
{
	return ss->held;
}

uint32_t
tk_onion_stream_circuit(const tk_onion_stream *s)
{
	return s->serial;
}

unsigned
tk_onion_stream_tries(const tk_onion_stream *s)
{
	return s->tries + s->policy_tries;
}
