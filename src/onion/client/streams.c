/* streams.h: connect / resolve / resolve_ptr requests and client streams
 * over the circuit manager's circuits. Every user callback runs from the
 * manager's deferred work (service()), never from inside an API call or
 * a cell callback, so the stream table and the circuit never see
 * re-entrancy from the application. */
#include "onion/client/streams.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/util.h"
#include "onion/cell/relay_msg.h"
#include "onion/circ/flowctl.h"
#include "onion/circ/stream.h"
#include "onion/client/begin_flags.h"
#include "onion/client/hs_client.h"
#include "onion/hs/hs_addr.h"

/* Cells kept for a reader that is not reading before we stop sending
 * stream SENDMEs (the exit then stops after its window, 500 cells). */
#define READ_HIGH (64 * 1024)
#define READ_LOW (16 * 1024)
/* With congestion control the exit stops on our XOFF (sent past
 * cc_xoff_client cells held), but what it had in flight still comes.
 * Beyond this much more, it ignored the XOFF: the stream is ended. */
#define READ_CC_SLACK (8u << 20)

enum os_kind { K_CONNECT, K_RESOLVE, K_PTR };
enum os_phase { P_WAIT_CIRC, P_SENT, P_OPEN, P_DONE };

struct wbuf {
	struct wbuf *next;
	uint8_t *buf;
	size_t len, off;
};

struct rchunk {
	struct rchunk *next;
	size_t len, off;
	uint8_t data[];
};

/* The streams and requests alive, for ticks and shutdown. */
struct link {
	struct link *next, *prev;
};

struct tk_streams {
	tk_circmgr *cm;
	tk_hs_client *hs; /* NULL: onion names are refused */
	struct tk_streams_config cfg;
	struct link all;
	size_t held; /* what every stream holds (queued()) */
	/* One timer for every stream waiting on its exit's advised rate
	 * (out of tokens), armed for the earliest of them and only while
	 * one waits: what an exit's XON can make us keep is one timer,
	 * however many streams it limits. Allocated apart, since
	 * uv_close() finishes after ss_shutdown() frees ss. */
	uv_timer_t *rate_timer;
	uint64_t rate_due; /* loop ms it fires at; 0: not armed */
};

/* What one queued entry costs beyond its bytes: the allocator's header
 * and our own. */
#define ALLOC_OVERHEAD 16
#define RCHUNK_COST(len) (sizeof(struct rchunk) + (len) + ALLOC_OVERHEAD)
#define WBUF_COST (sizeof(struct wbuf) + ALLOC_OVERHEAD)

struct tk_onion_stream {
	struct link link;
	tk_streams *ss;
	struct tk_circreq creq;
	struct tk_defer d;
	enum os_kind kind;
	enum os_phase phase;
	char host[256];
	uint16_t port;
	int onion;	 /* host is an onion service: circuits from ss->hs */
	int prefer_ipv6; /* the SocksPort's PreferIPv6 (BEGIN flags) */
	uint8_t onion_id[TK_HS_ID_LEN];
	int families;
	tk_relay_addr ptr_addr;
	uint8_t *iso;
	size_t iso_len;
	tk_onion_connect_cb ccb;
	tk_onion_resolve_cb rcb;
	void *arg;
	unsigned tries, policy_tries;
	uint64_t req_deadline, try_deadline;
	tk_ocirc *oc;
	tk_ostream *os;
	uint32_t serial;
	/* the request's answer, delivered by service() */
	int done_pending, done_reason;
	struct tk_onion_resolved res;
	/* the open stream */
	int started, reading, user_closed, shut, eof_got, eof_sent;
	int error_reason, error_sent, backed_up;
	struct tk_onion_stream_cbs cbs;
	void *uarg;
	struct wbuf *wq, *wq_tail, *wdone, *wdone_tail;
	struct rchunk *rq, *rq_tail;
	size_t rq_bytes;
	size_t held;	 /* bytes of memory in rq and the write queue entries */
	int peer_family; /* the address CONNECTED named, 0 if none */
	uint8_t peer_addr[16];
	uint64_t last_activity;
	uint64_t bytes_up, bytes_down;
	unsigned xoff_sent, xon_sent, xoff_got, xon_got;
	uint32_t xon_rate; /* KB/s in the last XON we sent */
	/* the exit's advice in its last XON (prop 324 §4.1.2) */
	tk_send_bucket bucket;
	int rate_wait; /* out of tokens: ss->rate_timer kicks it */
};

typedef struct tk_onion_stream ostrm;

static void service(struct tk_defer *d);
static void on_circ(struct tk_circreq *r, int reason, tk_ocirc *oc);

/* Asks for a circuit: the manager's, or for an onion service the
 * onion-service client's (a circuit joined to it). 0, or an answer. */
static int
ask_circ(ostrm *s)
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

static void
hold(ostrm *s, size_t n)
{
	s->held += n;
	s->ss->held += n;
}

static void
unhold(ostrm *s, size_t n)
{
	s->held -= n;
	s->ss->held -= n;
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

static void ss_log(tk_streams *ss, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
ss_log(tk_streams *ss, int level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!ss->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ss->cfg.log(ss->cfg.log_arg, level, msg);
}

/* host, or "[scrubbed]" when destinations stay out of the log. */
static const char *
ss_host(const tk_streams *ss, const char *host)
{
	return ss->cfg.scrub_hosts ? "[scrubbed]" : host;
}

static uint64_t
now_ms(tk_streams *ss)
{
	return uv_now(tk_circmgr_loop(ss->cm));
}

/* For drain rates: finer than the loop's millisecond clock. */
static uint64_t
now_usec(void)
{
	return uv_hrtime() / 1000;
}

static void
kick(ostrm *s)
{
	tk_circmgr_defer(s->ss->cm, &s->d);
}

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
	s->d.fn = service;
	s->creq.cb = on_circ;
	s->creq.iso = s->iso;
	s->creq.iso_len = s->iso_len;
	s->tries = 1;
	s->req_deadline = now_ms(ss) + ss->cfg.request_timeout_ms;
	s->link.next = head->next;
	s->link.prev = head;
	head->next->prev = &s->link;
	head->next = &s->link;
	return s;
}

static void
os_free(ostrm *s)
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
static void
ss_shutdown(void *arg)
{
	tk_streams *ss = arg;
	struct link *head = &ss->all;
	while (head->next != head)
		os_free(container_of(head->next, ostrm, link));
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
static void
finish(ostrm *s, int reason)
{
	s->done_pending = 1;
	s->done_reason = reason;
	if (reason)
		s->phase = P_DONE;
	kick(s);
}

static void
requeue(ostrm *s)
{
	s->phase = P_WAIT_CIRC;
	s->oc = NULL;
	s->os = NULL;
	s->creq.builds_failed = 0;
	int refusal = ask_circ(s);
	if (refusal)
		finish(s, refusal);
}

/* Tries again on another circuit, or gives up with reason. exclude: the
 * exit refused the request for itself (policy, resources). */
static void
retry(ostrm *s, tk_ocirc *oc, int reason, int exclude)
{
	const struct tk_streams_config *cfg = &s->ss->cfg;
	if (exclude && oc && !s->onion) {
		if (s->creq.n_excluded == TK_CIRCREQ_MAX_EXCLUDED) {
			finish(s, reason);
			return;
		}
		memcpy(s->creq.excluded[s->creq.n_excluded++],
		       tk_ocirc_exit_id(oc), 20);
		s->policy_tries++;
	} else if (++s->tries > cfg->stream_attempts) {
		s->tries--;
		finish(s, reason);
		return;
	}
	ss_log(s->ss, TK_LOG_INFO,
	       "stream to %s:%u: %s on circ %u, trying "
	       "another circuit",
	       ss_host(s->ss, s->host), s->port,
	       tk_relay_end_reason_name((uint8_t)reason), s->serial);
	requeue(s);
}

static void
on_circ(struct tk_circreq *r, int reason, tk_ocirc *oc)
{
	ostrm *s = container_of(r, ostrm, creq);
	uint16_t sid;
	int rc;

	if (reason) {
		finish(s, reason);
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
			finish(s, TK_RELAY_END_TORPROTOCOL);
			return;
		}
		tk_ocirc_retire(oc);
		retry(s, NULL, TK_RELAY_END_MISC, 0);
		return;
	}
	s->oc = oc;
	s->serial = tk_ocirc_serial(oc);
	s->phase = P_SENT;
	ss_log(s->ss, TK_LOG_INFO, "%s %s:%u sent on circ %u (try %u)",
	       s->kind == K_CONNECT   ? "BEGIN"
	       : s->kind == K_RESOLVE ? "RESOLVE"
				      : "RESOLVE_PTR",
	       ss_host(s->ss, s->host), s->port, s->serial,
	       s->tries + s->policy_tries);
	s->try_deadline = now_ms(s->ss) + s->ss->cfg.stream_timeout_ms;
	tk_ocirc_attached(oc);
}

/* The stream's last word in the log: what it carried, its XON/XOFF
 * (congestion control) and the circuit's state. */
static void
log_closed(ostrm *s)
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
	ss_log(s->ss, TK_LOG_INFO,
	       "stream to %s:%u closed after %llu bytes up, %llu down%s; %s",
	       ss_host(s->ss, s->host), s->port,
	       (unsigned long long)s->bytes_up,
	       (unsigned long long)s->bytes_down, xon, circ);
}

/* Keeps the stream's XON/XOFF counts for log_closed: the table's stream
 * (and its counters) go with the stream id. */
static void
note_xon(ostrm *s)
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

/* ------------------------------------------------- stream table side */

static void
os_connected(void *ud, tk_ostream *os, const tk_relay_connected *c)
{
	ostrm *s = tk_ostream_data(os);
	(void)ud;
	if (c != NULL && (c->addr.family == 4 || c->addr.family == 6)) {
		s->peer_family = c->addr.family == 4 ? AF_INET : AF_INET6;
		memcpy(s->peer_addr, c->addr.a, c->addr.family == 4 ? 4 : 16);
	}
	s->phase = P_OPEN;
	s->last_activity = now_ms(s->ss);
	ss_log(s->ss, TK_LOG_DEBUG, "stream to %s:%u open on circ %u",
	       ss_host(s->ss, s->host), s->port, s->serial);
	finish(s, 0);
}

static void
set_backed_up(ostrm *s, int on)
{
	if (s->backed_up == on || !s->os || !s->oc)
		return;
	s->backed_up = on;
	(void)tk_ostream_set_backed_up(tk_ocirc_streams(s->oc), s->os, on);
}

static void
os_data(void *ud, tk_ostream *os, const uint8_t *p, size_t len)
{
	ostrm *s = tk_ostream_data(os);
	tk_ocirc *oc = ud;
	size_t before = s->rq_bytes;
	struct rchunk *c;
	if (s->user_closed || !len)
		return;
	if (tk_ostream_table_uses_cc(tk_ocirc_streams(oc)) &&
	    s->rq_bytes > tk_ostream_xon(os)->xoff_limit + READ_CC_SLACK) {
		ss_log(s->ss, TK_LOG_INFO,
		       "stream to %s:%u on circ %u: the exit sent %zu bytes "
		       "after our XOFF; ending the stream",
		       ss_host(s->ss, s->host), s->port, s->serial,
		       s->rq_bytes);
		s->error_reason = TK_RELAY_END_RESOURCELIMIT;
		kick(s);
		return;
	}
	c = malloc(sizeof *c + len);
	if (!c) {
		s->error_reason = TK_RELAY_END_RESOURCELIMIT;
		kick(s);
		return;
	}
	c->next = NULL;
	c->len = len;
	c->off = 0;
	memcpy(c->data, p, len);
	hold(s, RCHUNK_COST(len));
	if (s->rq_tail)
		s->rq_tail->next = c;
	else
		s->rq = c;
	s->rq_tail = c;
	s->rq_bytes += len;
	s->bytes_down += len;
	s->last_activity = now_ms(s->ss);
	if (!s->started || !s->reading || s->rq_bytes > READ_HIGH)
		set_backed_up(s, 1);
	/* Congestion control: XOFF once too much waits because the reader
	 * cannot take it. Bytes that arrived in this loop turn while the
	 * reader reads are handed over by service() in the next: they are
	 * not backed up, however many one burst of cells brought (libuv
	 * reads up to 32 x 64 KiB from one socket in a turn). */
	(void)tk_ostream_data_queued(tk_ocirc_streams(oc), os,
				     s->started && s->reading ? 0 : before,
				     now_usec());
	note_xon(s);
	kick(s);
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

static void
os_resolved(void *ud, tk_ostream *os, const tk_relay_resolved *r)
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
	ss_log(s->ss, TK_LOG_DEBUG, "lookup of %s on circ %u: %s",
	       ss_host(s->ss, s->host), s->serial,
	       found					     ? "answered"
	       : r->error == TK_RELAY_RESOLVED_ERR_TRANSIENT ? "transient error"
							     : "no answer");
	finish(s, found ? 0 : TK_RELAY_END_RESOLVEFAILED);
}

static void
os_closed(void *ud, tk_ostream *os, int remote, const tk_relay_end *end)
{
	ostrm *s = tk_ostream_data(os);
	tk_ocirc *oc = ud;
	int reason = end ? end->reason : TK_RELAY_END_DESTROY;

	note_xon(s);
	s->os = NULL; /* terminal: the table frees it */
	if (s->phase == P_SENT) {
		s->oc = NULL;
		if (!remote) {
			/* Circuit gone before an answer: nothing is lost by
			 * asking again elsewhere. */
			if (reason == TK_RELAY_END_DESTROY)
				retry(s, NULL, reason, 0);
			else
				finish(s, reason);
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
			finish(s, reason);
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
	kick(s);
}

static void
os_writable(void *ud, tk_ostream *os)
{
	(void)ud;
	note_xon(tk_ostream_data(os));
	kick(tk_ostream_data(os));
}

/* Once a tick: request and try deadlines, lingering streams. */
static void
os_tick(void *arg, uint64_t now)
{
	tk_streams *ss = arg;
	const struct tk_streams_config *cfg = &ss->cfg;
	struct link *head = &ss->all, *l, *next;

	for (l = head->next; l != head; l = next) {
		ostrm *s = container_of(l, ostrm, link);
		next = l->next;
		if ((s->phase == P_WAIT_CIRC || s->phase == P_SENT) &&
		    !s->done_pending && now >= s->req_deadline) {
			if (s->os)
				(void)tk_ostream_close(tk_ocirc_streams(s->oc),
						       s->os);
			s->os = NULL;
			cancel_circ(s);
			finish(s, TK_RELAY_END_TIMEOUT);
		} else if (s->phase == P_SENT && now >= s->try_deadline) {
			tk_ocirc *oc = s->oc;
			if (s->os)
				(void)tk_ostream_close(tk_ocirc_streams(oc),
						       s->os);
			s->os = NULL;
			tk_ocirc_retire(oc);
			retry(s, NULL, TK_RELAY_END_TIMEOUT, 0);
		} else if (s->phase == P_OPEN && s->shut && !s->wq && s->os &&
			   !s->eof_got &&
			   now - s->last_activity >= cfg->linger_ms) {
			ss_log(ss, TK_LOG_INFO,
			       "stream to %s:%u idle %llu ms "
			       "after shutdown: closing it",
			       ss_host(ss, s->host), s->port,
			       (unsigned long long)cfg->linger_ms);
			note_xon(s);
			(void)tk_ostream_close(tk_ocirc_streams(s->oc), s->os);
			s->os = NULL;
			s->oc = NULL;
			s->eof_got = 1;
			kick(s);
		}
	}
}

/* ------------------------------------------------------- the service */

static void
give_back_all(ostrm *s, int status)
{
	while (s->wdone || s->wq) {
		struct wbuf *w;
		int st = 0;
		if (s->wdone) {
			w = s->wdone;
			s->wdone = w->next;
			if (!s->wdone)
				s->wdone_tail = NULL;
		} else {
			w = s->wq;
			s->wq = w->next;
			if (!s->wq)
				s->wq_tail = NULL;
			st = status;
		}
		unhold(s, WBUF_COST);
		if (s->started && s->cbs.written)
			s->cbs.written(s->uarg, w->buf, w->len, st);
		free(w);
	}
}

/* The streams out of tokens have waited long enough for at least the
 * earliest of them to send a cell: each tries again, and whichever is
 * still short re-arms the timer. */
static void
rate_timer_cb(uv_timer_t *t)
{
	tk_streams *ss = t->data;
	struct link *head = &ss->all, *l;
	ss->rate_due = 0;
	for (l = head->next; l != head; l = l->next) {
		ostrm *s = container_of(l, ostrm, link);
		if (s->rate_wait) {
			s->rate_wait = 0;
			kick(s);
		}
	}
}

/* s is out of tokens: wake it once its bucket holds a cell's worth. Not
 * sooner than RATE_MIN_WAIT_MS, which bounds the wake-ups (each walks
 * the streams) at a granularity ten times finer than tor's 100 ms. */
#define RATE_MIN_WAIT_MS 10
static void
rate_wait(ostrm *s)
{
	tk_streams *ss = s->ss;
	uint64_t now = now_ms(ss), wait_ms, due;
	wait_ms =
		(tk_send_bucket_wait_usec(&s->bucket, RATE_MIN_WAIT_MS * 1000) +
		 999) /
		1000;
	due = now + wait_ms;
	s->rate_wait = 1;
	if (ss->rate_due && ss->rate_due <= due)
		return; /* armed for an earlier stream, which kicks us all */
	ss->rate_due = due;
	uv_timer_start(ss->rate_timer, rate_timer_cb, wait_ms, 0);
}

static void
pump_writes(ostrm *s)
{
	while (s->wq && s->os && s->oc && s->phase == P_OPEN) {
		struct wbuf *w = s->wq;
		size_t want = w->len - w->off;
		size_t allow = tk_send_bucket_allow(&s->bucket,
						    tk_ostream_send_rate(s->os),
						    now_usec());
		/* less than asked and than a cell: wait for a whole cell
		 * rather than send a runt */
		if (allow < want && allow < TK_RELAY_DATA_MAX) {
			rate_wait(s);
			break;
		}
		if (want > allow)
			want = allow;
		long n = tk_ostream_write(tk_ocirc_streams(s->oc), s->os,
					  w->buf + w->off, want);
		if (n <= 0)
			break; /* windows closed (writable follows) or gone */
		if (allow != SIZE_MAX)
			tk_send_bucket_spend(&s->bucket, (size_t)n);
		s->bytes_up += (uint64_t)n;
		note_xon(s);
		w->off += (size_t)n;
		s->last_activity = now_ms(s->ss);
		if (w->off < w->len)
			break;
		s->wq = w->next;
		if (!s->wq)
			s->wq_tail = NULL;
		w->next = NULL;
		if (s->wdone_tail)
			s->wdone_tail->next = w;
		else
			s->wdone = w;
		s->wdone_tail = w;
	}
}

static void
service(struct tk_defer *d)
{
	ostrm *s = container_of(d, ostrm, d);

	if (s->done_pending) {
		s->done_pending = 0;
		if (s->kind == K_CONNECT) {
			tk_onion_connect_cb cb = s->ccb;
			if (s->done_reason) {
				cb(s->arg, s->done_reason, NULL);
				os_free(s);
				return;
			}
			cb(s->arg, 0, s); /* the application owns it now */
			if (!tk_circmgr_dying(s->ss->cm) &&
			    (s->started || s->user_closed))
				kick(s);
			return;
		}
		s->rcb(s->arg, s->done_reason, s->done_reason ? NULL : &s->res);
		os_free(s);
		return;
	}
	for (;;) {
		if (tk_circmgr_dying(s->ss->cm))
			return; /* freed with the manager */
		if (s->user_closed) {
			log_closed(s);
			give_back_all(s, -1);
			if (s->cbs.closed)
				s->cbs.closed(s->uarg);
			os_free(s);
			return;
		}
		if (!s->started)
			return;
		pump_writes(s);
		if (s->wdone) {
			struct wbuf *w = s->wdone;
			s->wdone = w->next;
			if (!s->wdone)
				s->wdone_tail = NULL;
			unhold(s, WBUF_COST);
			s->cbs.written(s->uarg, w->buf, w->len, 0);
			free(w);
			continue;
		}
		if (s->reading && s->rq) {
			uint8_t *buf = NULL;
			size_t cap = 0, n = 0;
			s->cbs.alloc(s->uarg, s->rq_bytes, &buf, &cap);
			if (!buf || !cap) {
				s->reading =
					0; /* no memory: read_start again */
				set_backed_up(s, 1);
				continue;
			}
			/* Fill the buffer from as many chunks as it holds: one
			 * per DATA cell (498 bytes) in a 64 KiB buffer would
			 * waste the memory and the writes. */
			while (s->rq && n < cap) {
				struct rchunk *c = s->rq;
				size_t k = c->len - c->off;
				if (k > cap - n)
					k = cap - n;
				memcpy(buf + n, c->data + c->off, k);
				c->off += k;
				n += k;
				if (c->off == c->len) {
					s->rq = c->next;
					if (!s->rq)
						s->rq_tail = NULL;
					unhold(s, RCHUNK_COST(c->len));
					free(c);
				}
			}
			s->rq_bytes -= n;
			if (s->backed_up && s->rq_bytes <= READ_LOW)
				set_backed_up(s, 0);
			/* congestion control: XON once drained, rate advice */
			if (s->os && s->oc)
				(void)tk_ostream_data_drained(tk_ocirc_streams(
								      s->oc),
							      s->os, n,
							      s->rq_bytes,
							      now_usec());
			s->cbs.read(s->uarg, buf, n, 0);
			continue;
		}
		if (s->reading && !s->rq && s->eof_got && !s->eof_sent) {
			s->eof_sent = 1;
			s->cbs.read(s->uarg, NULL, 0, 1);
			continue;
		}
		if (s->error_reason && !s->error_sent &&
		    (!s->rq || !s->reading)) {
			s->error_sent = 1;
			s->reading = 0;
			give_back_all(s, -1);
			s->cbs.error(s->uarg, s->error_reason);
			continue;
		}
		if ((s->error_sent || s->eof_got) && s->wq && !s->os)
			give_back_all(s, -1); /* nowhere to send them now */
		return;
	}
}

/* ---------------------------------------------------------- requests */

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
		ss_log(ss, TK_LOG_WARN, "Invalid onion hostname %s; rejecting",
		       ss_host(ss, host));
		return TK_ONION_HS_BAD_ADDRESS;
	}
	if (connect && ss->hs)
		return -1;
	ss_log(ss, TK_LOG_NOTICE,
	       connect ? "%s: no onion-service client here; refused, "
			 "nothing was sent"
		       : "Resolve requests to onion services (%s) are not "
			 "allowed; refused, nothing was sent",
	       ss_host(ss, host));
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
		refusal = ask_circ(s);
	} else if (refusal == 0) {
		refusal = ask_circ(s);
	}
	if (refusal)
		finish(s, refusal); /* answered from the deferred work */
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
		finish(s, refusal);
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
	if (s->os && s->oc)
		(void)tk_ostream_close(tk_ocirc_streams(s->oc), s->os);
	s->os = NULL;
	os_free(s);
}

/* ----------------------------------------------------------- streams */

void
tk_onion_stream_start(tk_onion_stream *s, const struct tk_onion_stream_cbs *cbs,
		      void *arg)
{
	s->cbs = *cbs;
	s->uarg = arg;
	s->started = 1;
	s->reading = 1;
	kick(s);
}

void
tk_onion_stream_read_stop(tk_onion_stream *s)
{
	s->reading = 0;
	set_backed_up(s, 1);
}

void
tk_onion_stream_read_start(tk_onion_stream *s)
{
	s->reading = 1;
	if (s->rq_bytes <= READ_LOW)
		set_backed_up(s, 0);
	kick(s);
}

int
tk_onion_stream_write(tk_onion_stream *s, uint8_t *buf, size_t len)
{
	struct wbuf *w;
	if (s->user_closed || s->shut || s->error_reason || s->eof_got || !len)
		return -EPIPE;
	w = calloc(1, sizeof *w);
	if (!w)
		return -ENOMEM;
	w->buf = buf;
	w->len = len;
	hold(s, WBUF_COST);
	if (s->wq_tail)
		s->wq_tail->next = w;
	else
		s->wq = w;
	s->wq_tail = w;
	kick(s);
	return 0;
}

void
tk_onion_stream_shutdown(tk_onion_stream *s)
{
	if (s->shut)
		return;
	s->shut = 1;
	s->last_activity = now_ms(s->ss);
	kick(s);
}

void
tk_onion_stream_close(tk_onion_stream *s)
{
	if (s->user_closed)
		return;
	s->user_closed = 1;
	note_xon(s);
	if (s->os && s->oc)
		(void)tk_ostream_close(tk_ocirc_streams(s->oc), s->os);
	s->os = NULL;
	s->oc = NULL;
	kick(s);
}

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
	u.connected = os_connected;
	u.data = os_data;
	u.resolved = os_resolved;
	u.closed = os_closed;
	u.writable = os_writable;
	u.tick = os_tick;
	u.shutdown = ss_shutdown;
	u.arg = ss;
	tk_circmgr_set_user(cm, &u);
	return ss;
}
