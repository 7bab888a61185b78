/* The circuit manager and client streams against a scripted exit.
 *
 * The real transport (channels, CREATE2, EXTEND2, tor1 crypto) is tested
 * by test_link_channel and the interop suite; here a scripted transport
 * stands in for it (ocirc.h's seam) so every decision of
 * circmgr.c / streams.c can be driven exactly: which path is built,
 * reuse by port and isolation key, the preemptive circuit, build
 * failures (guard down, bad middle), retries on END reasons and
 * timeouts, exit-policy exclusion, DESTROY before and after CONNECTED,
 * lookups, stream windows and backpressure both ways (the stream table
 * and stream SENDMEs are real), half-close linger, cancel, and freeing
 * the manager from inside a callback. Everything runs on a real libuv
 * loop; waits are bounded loops on conditions, never on wall time. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../unit/tap.h"
#include "onion/client/circ_pool.h"
#include "onion/client/circmgr.h"
#include "onion/client/hop.h"
#include "onion/client/ocirc.h"
#include "onion/client/portpred.h"
#include "onion/client/streams.h"

/* ---------------------------------------------------------- the net */

#define NN 7
static const struct tk_protoset relay12 = { .v[TK_PROTO_RELAY] = 0x6 };
static struct tk_router rts[NN];
static struct tk_microdesc mds[NN];
static struct tk_path_node nodes[NN];
static struct tk_consensus cons;
static struct tk_nodes table;
static int dir_ready;

static void add(size_t i, const char *nick, uint32_t flags, const char *accept)
{
	struct tk_router *r = &rts[i];
	snprintf(r->nickname, sizeof r->nickname, "%s", nick);
	memset(r->rsa_id, (int)i + 1, 20);
	r->ipv4 = 0x7f000001;
	r->or_port = (uint16_t)(9000 + i);
	r->flags = flags | TK_RF_RUNNING | TK_RF_VALID | TK_RF_FAST |
		   TK_RF_STABLE | TK_RF_V2DIR;
	r->protos = &relay12;
	tk_microdesc_init(&mds[i]);
	memset(mds[i].ntor_key, 0x40 + (int)i, 32);
	if (accept) {
		char err[256];
		tk_policy_summary_parse(&mds[i].p, "accept", 6, accept,
					strlen(accept), err, sizeof err);
	}
	nodes[i].rt = r;
	nodes[i].md = &mds[i];
}

static void make_net(void)
{
	add(0, "g0", TK_RF_GUARD, NULL);
	add(1, "g1", TK_RF_GUARD, NULL);
	add(2, "m0", 0, NULL);
	add(3, "m1", 0, NULL);
	add(4, "badmid", 0, NULL);
	add(5, "exitA", TK_RF_EXIT, "1-65535");
	add(6, "exitB", TK_RF_EXIT, "80,443");
	cons.routers = rts;
	cons.n_routers = NN;
	table.c = &cons;
	table.n = NN;
	table.node = nodes;
	table.n_have = NN;
}

static const struct tk_nodes *nodes_fn(void *arg)
{
	(void)arg;
	return dir_ready ? &table : NULL;
}

/* ------------------------------------------------- scripted transport */

#define MAXSTREAMS 64

struct xs {			/* the exit's view of one stream */
	int reg;		/* registered by the client (stream_add) */
	int used;		/* the exit has not ended it */
	uint16_t sid;
	tk_circuit_stream_cb cb;
	void *slot;
	int pkg;		/* exit's package window for this stream */
	int recv_since_sendme;
	int echo, blackhole, connected;
	uint8_t *pending;	/* echo bytes waiting for window */
	size_t npending;
	size_t data_cells_sent;
	int got_end;
	/* congestion control (cc_mode): what the client said, and the XOFF
	 * this exit sends a "slow" destination's stream */
	int xoff_from_client, xoffs_got, xons_got, xoff_sent;
	uint32_t last_xon_kbps;
	size_t data_cells_got;
};

struct fc {			/* a scripted circuit */
	struct tk_ocirc *oc;
	int built, dead, closed;
	int circ_pkg;		/* client's circuit package window */
	int circ_recv;
	struct xs s[MAXSTREAMS];
	struct fc *next;
};

struct msg {
	struct fc *fc;
	int to_exit;
	uint8_t cmd;
	uint16_t sid;
	size_t len;
	uint8_t body[TK_RELAY_DATA_MAX];
	struct msg *next;
};

static uv_loop_t *loop;
static uv_timer_t pump_timer;
static struct msg *mq, *mq_tail;
static struct fc *circs;
static int guard_down[NN];
static int n_builds, n_begins, flaky_left, destroy_left, badmid_on;
static int builds_silent; /* builds never finish (build timeout test) */
/* circ_pool: EXTEND2s asked of the transport for adopted circuits (each
 * one cell on the wire in ocirc_chan.c), private circuits built, and
 * whether the next extension is refused */
static int n_extends, n_private_builds, extend_fail;
static int enforce_subnets; /* the next manager's */
/* The exit negotiated congestion control: no stream windows, XON/XOFF
 * (the transport's exit_flow says so, the scripted exit acts so). */
static int cc_mode;
static tk_circ_flow cc_flow;
static int n_stream_sendmes_got;
/* test_cc_rate: the longest pause between DATA cells on one stream, in
 * loop ms (printed, not asserted: it is a time) */
static struct xs *gap_xs;
static uint64_t gap_at, gap_max;
static char exit_of_last_begin[20];
static unsigned connect_prefs; /* tk_streams_connect's prefs */
static uint32_t last_begin_flags; /* and its body's length */
static size_t last_begin_len;
static char last_exit_refused[2][20];
static int n_refused;

static void schedule(void);

static void push(struct fc *fc, int to_exit, uint8_t cmd, uint16_t sid,
		 const void *body, size_t len)
{
	struct msg *m = calloc(1, sizeof *m);
	m->fc = fc;
	m->to_exit = to_exit;
	m->cmd = cmd;
	m->sid = sid;
	m->len = len;
	if (len)
		memcpy(m->body, body, len);
	if (mq_tail)
		mq_tail->next = m;
	else
		mq = m;
	mq_tail = m;
	schedule();
}

static const struct tk_ocirc_events *fx_ev;

static void *fx_create(uv_loop_t *l, unsigned channel_timeout_ms,
		       const struct tk_ocirc_events *ev)
{
	(void)l, (void)channel_timeout_ms;
	fx_ev = ev;
	return &circs;
}

static void fx_destroy(void *st)
{
	(void)st;
}

static int fx_build(void *st, struct tk_ocirc *oc)
{
	struct fc *fc = calloc(1, sizeof *fc);
	(void)st;
	fc->oc = oc;
	fc->circ_pkg = 1000;
	fc->next = circs;
	circs = fc;
	oc->tp = fc;
	n_builds++;
	if (oc->private_use)
		n_private_builds++;
	if (!builds_silent)
		push(fc, 1, 0xff, 0, NULL, 0); /* "build step" marker */
	return 0;
}

static struct xs *find_xs(struct fc *fc, uint16_t sid)
{
	for (int i = 0; i < MAXSTREAMS; i++)
		if (fc->s[i].used && fc->s[i].sid == sid)
			return &fc->s[i];
	return NULL;
}

static int fx_extend(struct tk_ocirc *oc)
{
	struct fc *fc = oc->tp;
	if (!fc || fc->dead)
		return -1;
	n_extends++;
	push(fc, 1, 0xfe, 0, NULL, 0); /* "extension" marker */
	return 0;
}

static int fx_send(struct tk_ocirc *oc, uint8_t cmd, uint16_t sid,
		   const uint8_t *body, size_t len)
{
	struct fc *fc = oc->tp;
	if (!fc || fc->dead)
		return -1;
	if (cmd == TK_RELAY_DATA) {
		if (fc->circ_pkg <= 0)
			return -1;
		fc->circ_pkg--;
	}
	push(fc, 1, cmd, sid, body, len);
	return 0;
}

static int fx_can_package(struct tk_ocirc *oc)
{
	struct fc *fc = oc->tp;
	return fc && !fc->dead && fc->circ_pkg > 0;
}

static int fx_stream_add(struct tk_ocirc *oc, tk_circuit_stream_cb cb,
			 void *slot, uint16_t *sid)
{
	struct fc *fc = oc->tp;
	static uint16_t next_sid = 1;
	for (int i = 0; i < MAXSTREAMS; i++)
		if (!fc->s[i].reg) {
			free(fc->s[i].pending);
			memset(&fc->s[i], 0, sizeof fc->s[i]);
			fc->s[i].reg = 1;
			fc->s[i].used = 1;
			fc->s[i].sid = next_sid++;
			if (!next_sid)
				next_sid = 1;
			fc->s[i].cb = cb;
			fc->s[i].slot = slot;
			fc->s[i].pkg = 500;
			*sid = fc->s[i].sid;
			return 0;
		}
	return -1;
}

static void fx_stream_remove(struct tk_ocirc *oc, uint16_t sid)
{
	struct fc *fc = oc->tp;
	for (int i = 0; fc && i < MAXSTREAMS; i++)
		if (fc->s[i].reg && fc->s[i].sid == sid) {
			free(fc->s[i].pending);
			memset(&fc->s[i], 0, sizeof fc->s[i]);
		}
}

/* The circuit goes away: registered streams hear it first (as
 * circuit.c's notify_streams does). */
static void notify_gone(struct fc *fc)
{
	for (int i = 0; i < MAXSTREAMS; i++)
		if (fc->s[i].reg) {
			struct xs x = fc->s[i];
			memset(&fc->s[i], 0, sizeof fc->s[i]);
			free(x.pending);
			x.cb(x.slot, -1, -1, 0, NULL, 0);
		}
}

static void fx_close(struct tk_ocirc *oc)
{
	struct fc *fc = oc->tp;
	if (!fc)
		return;
	oc->tp = NULL;
	fc->closed = 1;
	fc->dead = 1;
	fc->oc = NULL;
	notify_gone(fc);
}

static unsigned fx_channels(void *st)
{
	(void)st;
	return 0;
}

static const tk_circ_flow *fx_exit_flow(struct tk_ocirc *oc)
{
	(void)oc;
	return cc_mode ? &cc_flow : NULL;
}

static const struct tk_ocirc_transport fake_tp = {
	.create = fx_create,
	.destroy = fx_destroy,
	.build = fx_build,
	.extend = fx_extend,
	.send = fx_send,
	.can_package = fx_can_package,
	.stream_add = fx_stream_add,
	.stream_remove = fx_stream_remove,
	.close = fx_close,
	.channels = fx_channels,
	.exit_flow = fx_exit_flow,
};

/* Kills a built circuit from the relay side (DESTROY). */
static void kill_circ(struct fc *fc)
{
	struct tk_ocirc *oc = fc->oc;
	fc->dead = 1;
	notify_gone(fc);
	fx_ev->lost(oc, "scripted DESTROY");
}

static void to_client(struct fc *fc, uint8_t cmd, uint16_t sid,
		      const void *body, size_t len)
{
	push(fc, 0, cmd, sid, body, len);
}

static void exit_send_echo(struct fc *fc, struct xs *x)
{
	while (x->npending && (cc_mode ? !x->xoff_from_client : x->pkg > 0)) {
		size_t n = x->npending > TK_RELAY_DATA_MAX ? TK_RELAY_DATA_MAX :
							    x->npending;
		to_client(fc, TK_RELAY_DATA, x->sid, x->pending, n);
		memmove(x->pending, x->pending + n, x->npending - n);
		x->npending -= n;
		if (!cc_mode)
			x->pkg--;
		x->data_cells_sent++;
	}
}

static void exit_begin(struct fc *fc, struct xs *x, const char *host)
{
	uint8_t b[64];
	int n;
	const char *exit_nick = fc->oc ? fc->oc->nick[2] : "?";
	n_begins++;
	snprintf(exit_of_last_begin, sizeof exit_of_last_begin, "%s",
		 exit_nick);
	if (!strcmp(host, "blocked.test")) {
		if (n_refused < 2)
			snprintf(last_exit_refused[n_refused++], 20, "%s",
				 exit_nick);
		n = tk_relay_end_encode(TK_RELAY_END_EXITPOLICY, NULL, 0, b,
					sizeof b);
		to_client(fc, TK_RELAY_END, x->sid, b, (size_t)n);
		x->used = 0;
		return;
	}
	if (!strcmp(host, "refused.test") ||
	    (!strcmp(host, "flaky.test") && flaky_left > 0)) {
		if (!strcmp(host, "flaky.test"))
			flaky_left--;
		n = tk_relay_end_encode(!strcmp(host, "refused.test") ?
					TK_RELAY_END_CONNECTREFUSED :
					TK_RELAY_END_RESOLVEFAILED, NULL, 0, b,
					sizeof b);
		to_client(fc, TK_RELAY_END, x->sid, b, (size_t)n);
		x->used = 0;
		return;
	}
	if (!strcmp(host, "silent.test"))
		return;
	if (!strcmp(host, "destroy.test") && destroy_left > 0) {
		destroy_left--;
		kill_circ(fc);
		return;
	}
	{
		tk_relay_addr a = { 4, { 127, 0, 0, 1 } };
		n = tk_relay_connected_encode(&a, 60, b, sizeof b);
		to_client(fc, TK_RELAY_CONNECTED, x->sid, b, (size_t)n);
	}
	x->connected = 1;
	x->echo = !strcmp(host, "echo.test") || !strcmp(host, "destroy.test") ||
		  !strcmp(host, "flaky.test");
	x->blackhole = !strcmp(host, "blackhole.test") ||
		       !strcmp(host, "slow.test");
	if (!strcmp(host, "done.test")) {
		to_client(fc, TK_RELAY_DATA, x->sid, "bye", 3);
		n = tk_relay_end_encode(TK_RELAY_END_DONE, NULL, 0, b, sizeof b);
		to_client(fc, TK_RELAY_END, x->sid, b, (size_t)n);
		x->used = 0;
	}
}

static void exit_resolve(struct fc *fc, struct xs *x, const char *name)
{
	uint8_t b[TK_RELAY_DATA_MAX];
	size_t used = 0;
	if (!strcmp(name, "echo.test")) {
		uint8_t v4[4] = { 127, 0, 0, 1 }, v6[16] = { 0 };
		v6[15] = 1;
		tk_relay_resolved_append(TK_RELAY_RESOLVED_IPV4, v4, 4, 60, b,
					 &used, sizeof b);
		tk_relay_resolved_append(TK_RELAY_RESOLVED_IPV6, v6, 16, 60, b,
					 &used, sizeof b);
	} else if (!strcmp(name, "10.2.0.192.in-addr.arpa")) {
		tk_relay_resolved_append(TK_RELAY_RESOLVED_HOSTNAME, "ptr.test",
					 8, 60, b, &used, sizeof b);
	} else {
		/* NXDOMAIN, and internal reverse names (the exit refuses) */
		tk_relay_resolved_append(TK_RELAY_RESOLVED_ERR_NONTRANSIENT, "",
					 0, 0, b, &used, sizeof b);
	}
	to_client(fc, TK_RELAY_RESOLVED, x->sid, b, used);
	x->used = 0;
}

static void exit_handle(struct msg *m)
{
	struct fc *fc = m->fc;
	struct xs *x;

	if (fc->closed)
		return;
	if (m->cmd == 0xff) { /* finish the build */
		struct tk_ocirc *oc = fc->oc;
		if (guard_down[oc->hop[0].rsa_id[0] - 1]) {
			fc->dead = 1;
			fx_ev->build_done(oc, -1, 0, "scripted: guard down");
			return;
		}
		fx_ev->first_hop_ok(oc);
		for (int h = 1; h < 3; h++)
			if (badmid_on && !strcmp(oc->nick[h], "badmid")) {
				fc->dead = 1;
				fx_ev->build_done(oc, -1, h,
						  "scripted: extend refused");
				return;
			}
		fc->built = 1;
		fx_ev->build_done(oc, 0, -1, NULL);
		return;
	}
	if (m->cmd == 0xfe) { /* the EXTENDED2, or a refusal */
		if (extend_fail) {
			fc->dead = 1;
			fx_ev->extended(fc->oc, -1, "scripted: extend refused");
		} else {
			fx_ev->extended(fc->oc, 0, NULL);
		}
		return;
	}
	if (fc->dead)
		return;
	if (m->sid == 0)
		return;
	x = find_xs(fc, m->sid);
	if (!x) {
		/* a stream the exit already ended; END answers nothing */
		return;
	}
	switch (m->cmd) {
	case TK_RELAY_BEGIN: {
		tk_relay_begin bg;
		char host[256];
		if (tk_relay_begin_decode(m->body, m->len, &bg) != 0)
			return;
		last_begin_flags = bg.flags;
		last_begin_len = m->len;
		memcpy(host, bg.host, bg.host_len);
		host[bg.host_len] = '\0';
		exit_begin(fc, x, host);
		break;
	}
	case TK_RELAY_RESOLVE: {
		tk_relay_resolve rs;
		char name[256];
		if (tk_relay_resolve_decode(m->body, m->len, &rs) != 0)
			return;
		memcpy(name, rs.name, rs.name_len);
		name[rs.name_len] = '\0';
		exit_resolve(fc, x, name);
		break;
	}
	case TK_RELAY_DATA:
		if (++fc->circ_recv % 100 == 0) {
			int was = fc->circ_pkg;
			fc->circ_pkg += 100;
			if (was <= 0)
				fx_ev->writable(fc->oc);
		}
		x->data_cells_got++;
		if (x == gap_xs) {
			uint64_t t = uv_now(loop);
			if (gap_at && t - gap_at > gap_max)
				gap_max = t - gap_at;
			gap_at = t;
		}
		if (cc_mode && x->blackhole) {
			/* a destination slower than the circuit: past
			 * cc_xoff_exit (500 cells) the exit says XOFF */
			if (x->data_cells_got > 500 && !x->xoff_sent) {
				uint8_t b[8];
				int n = tk_relay_xoff_encode(b, sizeof b);
				x->xoff_sent = 1;
				to_client(fc, TK_RELAY_XOFF, x->sid, b,
					  (size_t)n);
			}
			break;
		}
		if (x->blackhole)
			break; /* never acknowledges: the client's window ends */
		if (cc_mode) {
			/* no stream window: echo at once */
		} else if (++x->recv_since_sendme == 50) {
			x->recv_since_sendme = 0;
			to_client(fc, TK_RELAY_SENDME, x->sid, NULL, 0);
		}
		if (x->echo) {
			x->pending = realloc(x->pending, x->npending + m->len);
			memcpy(x->pending + x->npending, m->body, m->len);
			x->npending += m->len;
			exit_send_echo(fc, x);
		}
		break;
	case TK_RELAY_SENDME:
		if (cc_mode)
			n_stream_sendmes_got++; /* C tor: protocol error */
		x->pkg += 50;
		exit_send_echo(fc, x);
		break;
	case TK_RELAY_XOFF:
		x->xoffs_got++;
		x->xoff_from_client = 1;
		break;
	case TK_RELAY_XON:
		x->xons_got++;
		(void)tk_relay_xon_decode(m->body, m->len, &x->last_xon_kbps);
		x->xoff_from_client = 0;
		exit_send_echo(fc, x);
		break;
	case TK_RELAY_END:
		x->got_end = 1;
		x->used = 0;
		break;
	default:
		break;
	}
}

static void client_handle(struct msg *m)
{
	struct fc *fc = m->fc;
	struct xs *x;
	if (fc->dead || fc->closed)
		return;
	/* the registered stream gets it (stream ids the exit closed are
	 * still registered on the client side until released) */
	x = NULL;
	for (int i = 0; i < MAXSTREAMS; i++)
		if (fc->s[i].reg && fc->s[i].sid == m->sid) {
			x = &fc->s[i];
			break;
		}
	if (x)
		x->cb(x->slot, 0, 2, m->cmd, m->body, m->len);
}

static void pump_cb(uv_timer_t *t)
{
	(void)t;
	/* one batch per turn: what is queued now */
	struct msg *end = mq_tail;
	while (mq) {
		struct msg *m = mq;
		int last = m == end;
		mq = m->next;
		if (!mq)
			mq_tail = NULL;
		if (m->to_exit)
			exit_handle(m);
		else
			client_handle(m);
		free(m);
		if (last)
			break;
	}
	if (mq)
		schedule();
}

static void schedule(void)
{
	if (!uv_is_active((uv_handle_t *)&pump_timer))
		uv_timer_start(&pump_timer, pump_cb, 0, 0);
}

/* ------------------------------------------------------ the harness */

static tk_circmgr *cm;
static tk_streams *ss;
static char tmpdir[64];

/* The manager's randomness and wall clock, scripted: a seeded xorshift,
 * or a constant where a test needs one exact choice (every relay here
 * weighs zero, so a constant k picks candidate k mod n, in table order). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL, rng_value;
static int rng_fixed;

static uint64_t fx_random(void *arg)
{
	(void)arg;
	if (rng_fixed)
		return rng_value;
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int64_t fx_wall_s(void *arg)
{
	(void)arg;
	return 1700000000;
}

/* Every destination here ends in ".test": with the default config
 * (scrub_hosts) none may reach the log. */
static unsigned n_host_logged, n_scrubbed;

static void log_cb(void *arg, int level, const char *msg)
{
	(void)arg;
	if (strstr(msg, ".test"))
		n_host_logged++;
	if (strstr(msg, "[scrubbed]"))
		n_scrubbed++;
	if (getenv("TK_TEST_VERBOSE") || level >= TK_LOG_WARN)
		printf("# %s\n", msg);
}

static unsigned build_timeout_ms;
static unsigned n_preemptive; /* 0: the default */

/* ClientUseIPv4/6, ClientPreferIPv6ORPort for the next new_cm(). */
static struct tk_reach next_reach;

/* LongLivedPorts for the next new_cm(); n_ll_ports 0: the default. */
static uint16_t ll_ports[4];
static size_t n_ll_ports;

static void new_cm(unsigned dirt_s, unsigned stream_timeout_ms,
		   unsigned linger_ms)
{
	struct tk_circmgr_config cfg;
	struct tk_streams_config sc;
	char err[200];
	tk_circmgr_config_init(&cfg);
	tk_streams_config_init(&sc);
	cfg.nodes = nodes_fn;
	cfg.data_dir = tmpdir;
	cfg.enforce_distinct_subnets = enforce_subnets;
	cfg.preemptive_port = 80;
	cfg.log = log_cb;
	cfg.transport = &fake_tp;
	cfg.random = fx_random;
	cfg.wall_s = fx_wall_s;
	cfg.reach = next_reach;
	sc.log = log_cb;
	if (dirt_s)
		cfg.max_dirtiness_s = dirt_s;
	if (stream_timeout_ms)
		sc.stream_timeout_ms = stream_timeout_ms;
	if (linger_ms)
		sc.linger_ms = linger_ms;
	if (build_timeout_ms)
		cfg.build_timeout_ms = build_timeout_ms;
	if (n_preemptive)
		cfg.preemptive = n_preemptive;
	if (n_ll_ports) {
		memcpy(cfg.long_lived_ports, ll_ports, sizeof ll_ports);
		cfg.n_long_lived_ports = n_ll_ports;
	}
	if (tk_circmgr_new(loop, &cfg, &cm, err, sizeof err) != 0 ||
	    (ss = tk_streams_new(cm, &sc)) == NULL) {
		printf("Bail out! %s\n", err);
		exit(1);
	}
}

static void free_cm(void)
{
	tk_circmgr_free(cm);
	cm = NULL;
	ss = NULL;
	uv_run(loop, UV_RUN_NOWAIT);
	while (mq) {
		struct msg *m = mq;
		mq = m->next;
		free(m);
	}
	mq_tail = NULL;
	while (circs) {
		struct fc *f = circs;
		circs = f->next;
		for (int i = 0; i < MAXSTREAMS; i++)
			free(f->s[i].pending);
		free(f);
	}
}

/* Runs the loop until *flag, at most `turns` iterations (each iteration
 * runs whatever is ready; timers fire on loop time). */
static int run_until(const int *flag, int turns)
{
	for (int i = 0; i < turns && !*flag; i++)
		uv_run(loop, UV_RUN_ONCE);
	return *flag;
}

/* Keeps the loop alive (the manager's tick timer is unreferenced), so
 * UV_RUN_ONCE waits at most 5 ms of loop time. */
static uv_timer_t heartbeat;
static void beat(uv_timer_t *t)
{
	(void)t;
}

/* ---- request results */

struct res {
	int done, reason;
	tk_onion_stream *s;
	struct tk_onion_resolved r;
	/* stream side */
	uint8_t *rx;
	size_t nrx, caprx;
	int eof, err, closed, written_ok, written_fail, started;
	size_t written_bytes;
	uint8_t abuf[4096];
};

static void on_conn(void *arg, int reason, tk_onion_stream *s)
{
	struct res *r = arg;
	r->done = 1;
	r->reason = reason;
	r->s = s;
}

static void on_res(void *arg, int reason, const struct tk_onion_resolved *x)
{
	struct res *r = arg;
	r->done = 1;
	r->reason = reason;
	if (x)
		r->r = *x;
}

static void c_alloc(void *arg, size_t sugg, uint8_t **buf, size_t *cap)
{
	struct res *r = arg;
	(void)sugg;
	*buf = r->abuf;
	*cap = sizeof r->abuf;
}

static void c_read(void *arg, uint8_t *buf, size_t len, int eof)
{
	struct res *r = arg;
	if (len) {
		if (r->nrx + len > r->caprx) {
			r->caprx = (r->nrx + len) * 2;
			r->rx = realloc(r->rx, r->caprx);
		}
		memcpy(r->rx + r->nrx, buf, len);
		r->nrx += len;
	}
	if (eof)
		r->eof = 1;
}

static void c_written(void *arg, uint8_t *buf, size_t len, int status)
{
	struct res *r = arg;
	(void)buf;
	if (status == 0) {
		r->written_ok++;
		r->written_bytes += len;
	} else {
		r->written_fail++;
	}
}

static void c_error(void *arg, int reason)
{
	struct res *r = arg;
	r->err = reason;
}

static void c_closed(void *arg)
{
	struct res *r = arg;
	r->closed = 1;
}

static const struct tk_onion_stream_cbs cbs = {
	c_alloc, c_read, c_written, c_error, c_closed
};

static void start(struct res *r)
{
	r->started = 1;
	tk_onion_stream_start(r->s, &cbs, r);
}

static void connect_to(const char *host, uint16_t port, const char *key,
		       struct res *r, tk_onion_req **req)
{
	tk_onion_req *q;
	memset(r, 0, sizeof *r);
	if (tk_streams_connect(ss, host, port, connect_prefs, key,
			       key ? strlen(key) : 0,
				    on_conn, r, req ? req : &q) != 0)
		tap_ok(0, "connect %s accepted", host);
}

/* A stream never started has no callbacks: closing it is silent. */
static void close_stream(struct res *r)
{
	int started = r->started;
	tk_onion_stream_close(r->s);
	if (started)
		run_until(&r->closed, 1000);
	else
		for (int i = 0; i < 5; i++)
			uv_run(loop, UV_RUN_NOWAIT);
	free(r->rx);
	r->rx = NULL;
}

static struct fc *circ_of(uint32_t serial)
{
	for (struct fc *f = circs; f; f = f->next)
		if (f->oc && f->oc->serial == serial)
			return f;
	return NULL;
}

/* ----------------------------------------------------------- tests */

static void test_preemptive_and_reuse(void)
{
	struct res a, b, c, d;
	struct tk_circmgr_stats st;
	uint32_t ca, cb2;
	int built;

	/* Candidate 1 of every choice: the exits allowing port 80 are exitA
	 * and exitB, in that order, so every port-80 circuit ends at exitB,
	 * which rejects port 7. */
	rng_fixed = 1;
	rng_value = 1;
	new_cm(0, 0, 0);
	dir_ready = 1;
	tk_circmgr_dir_changed(cm);
	built = 0;
	for (int i = 0; i < 200 && !built; i++) {
		uv_run(loop, UV_RUN_ONCE);
		tk_circmgr_get_stats(cm, &st);
		built = st.built >= 1;
	}
	tap_ok(built, "a preemptive circuit is built before any request");
	tap_eq_long(st.launched, 1, "exactly one preemptive circuit");

	connect_to("echo.test", 80, "k1", &a, NULL);
	run_until(&a.done, 500);
	tap_eq_long(a.reason, 0, "CONNECTED through the preemptive circuit");
	tap_eq_long(tk_onion_stream_circuit(a.s), 1, "it used circuit 1");
	tk_circmgr_get_stats(cm, &st);
	tap_ok(st.launched <= 2,
	       "no build for the request (one more preemptive at most)");

	connect_to("echo.test", 80, "k1", &b, NULL);
	run_until(&b.done, 500);
	ca = tk_onion_stream_circuit(a.s);
	tap_eq_long(tk_onion_stream_circuit(b.s), ca,
		    "same key, same port: same circuit");

	connect_to("echo.test", 80, "k2", &c, NULL);
	run_until(&c.done, 500);
	cb2 = tk_onion_stream_circuit(c.s);
	tap_ok(c.reason == 0 && cb2 != ca, "another key: another circuit");

	/* exitB only allows 80,443: port 7 must be on exitA */
	connect_to("echo.test", 7, "k2", &d, NULL);
	run_until(&d.done, 500);
	tap_eq_long(d.reason, 0, "port 7 connected");
	{
		struct fc *f = circ_of(tk_onion_stream_circuit(d.s));
		struct fc *f2 = circ_of(cb2);
		tap_ok(f && !strcmp(f->oc->nick[2], "exitA"),
		       "port 7 went to the exit whose summary allows it");
		tap_ok(f2 && !strcmp(f2->oc->nick[2], "exitB") &&
			       !tk_policy_summary_allows(&f2->oc->exit_p, 7) &&
			       tk_onion_stream_circuit(d.s) != cb2,
		       "k2's first circuit (exitB) was not reused because "
		       "its exit rejects port 7");
	}
	close_stream(&a);
	close_stream(&b);
	close_stream(&c);
	close_stream(&d);
	free_cm();

	/* Candidate 0: every circuit ends at exitA, which allows port 7, so
	 * k2's circuit is reused for it. */
	rng_value = 0;
	new_cm(0, 0, 0);
	tk_circmgr_dir_changed(cm);
	connect_to("echo.test", 80, "k2", &c, NULL);
	run_until(&c.done, 500);
	cb2 = tk_onion_stream_circuit(c.s);
	connect_to("echo.test", 7, "k2", &d, NULL);
	run_until(&d.done, 500);
	{
		struct fc *f = circ_of(cb2);
		tap_ok(c.reason == 0 && d.reason == 0 && f &&
			       !strcmp(f->oc->nick[2], "exitA") &&
			       tk_onion_stream_circuit(d.s) == cb2,
		       "k2's circuit (exitA) allows port 7 and was reused");
	}
	close_stream(&c);
	close_stream(&d);
	free_cm();
	rng_fixed = 0;
}

static void test_echo_and_windows(void)
{
	struct res a;
	size_t total = 3 * 1000 * 1000;
	uint8_t *src = malloc(total);
	struct fc *f;
	struct xs *x = NULL;
	int got_all = 0, stalled;

	for (size_t i = 0; i < total; i++)
		src[i] = (uint8_t)(i * 31 + (i >> 11));
	new_cm(0, 0, 0);
	connect_to("echo.test", 7, NULL, &a, NULL);
	run_until(&a.done, 500);
	tap_eq_long(a.reason, 0, "echo stream open");
	start(&a);
	/* one big write: given back only once all of it is packaged */
	tk_onion_stream_write(a.s, src, total);
	for (int i = 0; i < 100000 && !got_all; i++) {
		uv_run(loop, UV_RUN_ONCE);
		got_all = a.nrx == total;
	}
	tap_ok(got_all, "3 MB echoed through one stream (stream and circuit "
			"windows reopened by SENDMEs many times)");
	tap_ok(a.nrx == total && memcmp(a.rx, src, total) == 0,
	       "the bytes are the same, in order");
	tap_eq_long(a.written_ok, 1, "the buffer was given back once");

	/* backpressure to the exit: stop reading, the exit runs out of its
	 * 500-cell stream window and stops */
	f = circ_of(tk_onion_stream_circuit(a.s));
	for (int i = 0; f && i < MAXSTREAMS; i++)
		if (f->s[i].used && f->s[i].echo)
			x = &f->s[i];
	tk_onion_stream_read_stop(a.s);
	a.nrx = 0;
	tk_onion_stream_write(a.s, src, total);
	stalled = 0;
	for (int i = 0; i < 100000 && !stalled; i++) {
		uv_run(loop, UV_RUN_ONCE);
		stalled = x && x->pkg == 0 && !mq;
	}
	tap_ok(stalled, "reader stopped: the exit's stream window ran out "
			"(no stream SENDME while backed up)");
	tap_eq_long((long)a.nrx, 0, "nothing was delivered while stopped");
	tap_ok(x && x->npending > 0, "the exit holds the rest");
	tk_onion_stream_read_start(a.s);
	got_all = 0;
	for (int i = 0; i < 100000 && !got_all; i++) {
		uv_run(loop, UV_RUN_ONCE);
		got_all = a.nrx == total;
	}
	tap_ok(got_all && memcmp(a.rx, src, total) == 0,
	       "read_start: SENDMEs flow again and everything arrives");
	close_stream(&a);
	tap_ok(a.closed, "closed callback after close");
	free(src);
	free_cm();
}

static void test_write_backpressure(void)
{
	struct res a;
	static uint8_t b1[100000], b2[200000];
	int ok = 0;

	new_cm(0, 0, 0);
	connect_to("blackhole.test", 7, NULL, &a, NULL);
	run_until(&a.done, 500);
	start(&a);
	tk_onion_stream_write(a.s, b1, sizeof b1);
	tk_onion_stream_write(a.s, b2, sizeof b2);
	run_until(&a.written_ok, 5000);
	for (int i = 0; i < 200; i++)
		uv_run(loop, UV_RUN_NOWAIT);
	tap_eq_long(a.written_ok, 1, "100 KB fit the 500-cell stream window: "
				      "given back");
	tap_eq_long(a.written_bytes, sizeof b1, "... that buffer");
	tap_eq_long(a.written_fail, 0, "the 200 KB one is held: it does not "
				       "fit until the exit sends SENDMEs");
	tk_onion_stream_close(a.s);
	ok = 0;
	run_until(&a.closed, 1000);
	tap_eq_long(a.written_fail, 1, "close gives it back, failed");
	tap_ok(a.closed, "then closed");
	(void)ok;
	free(a.rx);
	free_cm();
}

/* The exit negotiated congestion control: streams.c and the stream
 * table run XON/XOFF instead of stream windows. */
static void test_cc_streams(void)
{
	struct res a, b;
	size_t total = 3 * 1000 * 1000;
	uint8_t *src = malloc(total);
	struct fc *f;
	struct xs *x = NULL;
	int got_all = 0, stopped = 0;
	struct tk_cc_params p;

	tk_cc_params_load(&p, NULL, NULL);
	tk_circ_flow_init_cc(&cc_flow, &p, 31);
	cc_mode = 1;
	n_stream_sendmes_got = 0;
	for (size_t i = 0; i < total; i++)
		src[i] = (uint8_t)(i * 7 + (i >> 9));
	new_cm(0, 0, 0);
	connect_to("echo.test", 7, NULL, &a, NULL);
	run_until(&a.done, 500);
	tap_eq_long(a.reason, 0, "echo stream open on a CC circuit");
	start(&a);
	f = circ_of(tk_onion_stream_circuit(a.s));
	tap_ok(f && tk_ostream_table_uses_cc(tk_ocirc_streams(f->oc)),
	       "the exit negotiated CC: the stream table uses XON/XOFF");
	for (int i = 0; f && i < MAXSTREAMS; i++)
		if (f->s[i].used && f->s[i].echo)
			x = &f->s[i];
	tk_onion_stream_write(a.s, src, total);
	for (int i = 0; i < 100000 && !got_all; i++) {
		uv_run(loop, UV_RUN_ONCE);
		got_all = a.nrx == total;
	}
	tap_ok(got_all && memcmp(a.rx, src, total) == 0,
	       "3 MB echoed without stream windows");
	tap_eq_long(n_stream_sendmes_got, 0, "and without a stream SENDME");
	tap_eq_long(x ? x->xoffs_got : -1, 0,
		    "nor an XOFF: the reader took everything as it came");

	/* the reader stops: what it holds passes cc_xoff_client cells'
	 * worth, XOFF goes out and the exit stops (the batches this
	 * scripted exit delivers may have made the reader XOFF before) */
	int xoffs = x ? x->xoffs_got : 0;
	tk_onion_stream_read_stop(a.s);
	a.nrx = 0;
	tk_onion_stream_write(a.s, src, total);
	for (int i = 0; i < 100000 && !stopped; i++) {
		uv_run(loop, UV_RUN_ONCE);
		stopped = x && x->xoffs_got == xoffs + 1 &&
			  x->xoff_from_client && x->npending > 0 && !mq;
	}
	tap_ok(stopped, "reader stopped: one XOFF, the exit holds the rest");
	tap_eq_long((long)a.nrx, 0, "nothing delivered while stopped");
	tk_onion_stream_read_start(a.s);
	got_all = 0;
	for (int i = 0; i < 100000 && !got_all; i++) {
		uv_run(loop, UV_RUN_ONCE);
		got_all = a.nrx == total;
	}
	tap_ok(got_all && memcmp(a.rx, src, total) == 0,
	       "read_start: drained to nothing, XON, everything arrives");
	tap_ok(x && x->xons_got >= 1 && !x->xoff_from_client,
	       "the exit got XON (%d)", x ? x->xons_got : -1);
	close_stream(&a);

	/* the exit's XOFF stops our writes: the buffer is not given back */
	static uint8_t big[600 * 498];
	connect_to("slow.test", 7, NULL, &b, NULL);
	run_until(&b.done, 500);
	start(&b);
	tk_onion_stream_write(b.s, big, sizeof big);
	run_until(&b.written_ok, 5000);
	tk_onion_stream_write(b.s, big, sizeof big);
	for (int i = 0; i < 2000; i++)
		uv_run(loop, UV_RUN_NOWAIT);
	tap_ok(b.written_ok == 1 && b.written_fail == 0,
	       "exit's XOFF after 500 cells: the second write is held");
	f = circ_of(tk_onion_stream_circuit(b.s));
	x = NULL;
	for (int i = 0; f && i < MAXSTREAMS; i++)
		if (f->s[i].used && f->s[i].blackhole)
			x = &f->s[i];
	if (x) {
		uint8_t xb[8];
		int n = tk_relay_xon_encode(0, xb, sizeof xb);
		to_client(f, TK_RELAY_XON, x->sid, xb, (size_t)n);
	}
	for (int i = 0; i < 100000 && b.written_ok < 2; i++)
		uv_run(loop, UV_RUN_ONCE);
	tap_eq_long(b.written_ok, 2, "the exit's XON: written again");
	close_stream(&b);
	free(src);
	free_cm();
	cc_mode = 0;
	tk_circ_flow_free(&cc_flow);
}

/* uv_walk: the handles tk_streams made for itself (their data is ss),
 * and how many of them are armed. */
static int ss_handles, ss_armed;
static void count_ss_handle(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (h->data == (void *)ss && !uv_is_closing(h)) {
		ss_handles++;
		ss_armed += uv_is_active(h);
	}
}
static void count_ss_timers(void)
{
	ss_handles = ss_armed = 0;
	uv_walk(loop, count_ss_handle, NULL);
}

/* The exit's XON advises a rate: our writes keep to it, woken by one
 * timer of the stream layer (armed only while a stream waits on its
 * rate, one for all of them) rather than by the manager's 500 ms tick,
 * under which a stream out of tokens sat idle until the next tick. */
static void test_cc_rate(void)
{
	enum { KBPS = 100, N = 2 };
	size_t total = 250 * 1000; /* a 100 KB burst, then 1.5 s at the rate */
	uint8_t *src = malloc(total);
	struct res r[N];
	struct xs *x[N] = { NULL };
	struct tk_cc_params p;
	int all = 0, armed_max = 0, handles_max = 0, waited = 0;

	tk_cc_params_load(&p, NULL, NULL);
	tk_circ_flow_init_cc(&cc_flow, &p, 31);
	cc_mode = 1;
	for (size_t i = 0; i < total; i++)
		src[i] = (uint8_t)(i * 13 + (i >> 8));
	new_cm(0, 0, 0);
	count_ss_timers();
	tap_ok(ss_handles == 1 && ss_armed == 0,
	       "one rate timer, not armed while no stream is limited");
	for (int k = 0; k < N; k++) {
		connect_to("echo.test", 7, NULL, &r[k], NULL);
		run_until(&r[k].done, 500);
		start(&r[k]);
		struct fc *f = circ_of(tk_onion_stream_circuit(r[k].s));
		for (int i = 0; f && i < MAXSTREAMS; i++)
			if (f->s[i].used && f->s[i].echo &&
			    (k == 0 || &f->s[i] != x[0]))
				x[k] = &f->s[i];
		if (x[k]) {
			uint8_t xb[8];
			int n = tk_relay_xon_encode(KBPS, xb, sizeof xb);
			to_client(f, TK_RELAY_XON, x[k]->sid, xb, (size_t)n);
		}
	}
	tap_ok(x[0] && x[1] && x[0] != x[1], "two echo streams on CC circuits");
	for (int i = 0; i < 100; i++)
		uv_run(loop, UV_RUN_NOWAIT);
	gap_xs = x[0];
	gap_at = gap_max = 0;
	uint64_t t0 = uv_now(loop);
	for (int k = 0; k < N; k++)
		tk_onion_stream_write(r[k].s, src, total);
	for (int i = 0; i < 200000 && !all; i++) {
		uv_run(loop, UV_RUN_ONCE);
		count_ss_timers();
		if (ss_armed)
			waited = 1;
		if (ss_armed > armed_max)
			armed_max = ss_armed;
		if (ss_handles > handles_max)
			handles_max = ss_handles;
		all = r[0].nrx == total && r[1].nrx == total;
	}
	tap_ok(all && memcmp(r[0].rx, src, total) == 0 &&
	       memcmp(r[1].rx, src, total) == 0,
	       "both streams' data went through at the advised rate");
	printf("# %zu bytes each at %d KB/s: %llu ms, longest pause between "
	       "cells %llu ms\n",
	       total, KBPS, (unsigned long long)(uv_now(loop) - t0),
	       (unsigned long long)gap_max);
	gap_xs = NULL;
	tap_ok(waited, "out of tokens, they waited on the stream layer's timer");
	tap_ok(handles_max == 1 && armed_max == 1,
	       "one timer for both rate-limited streams (%d handles, %d armed)",
	       handles_max, armed_max);
	/* the last wake finds nothing waiting and re-arms nothing */
	for (int i = 0; i < 1000; i++) {
		count_ss_timers();
		if (!ss_armed)
			break;
		uv_run(loop, UV_RUN_ONCE);
	}
	tap_ok(ss_armed == 0, "no stream waits: the timer is not armed");
	for (int k = 0; k < N; k++)
		close_stream(&r[k]);
	free(src);
	free_cm();
	cc_mode = 0;
	tk_circ_flow_free(&cc_flow);
}

static void test_failures_and_retries(void)
{
	struct res a, b, c, d, e, f;
	tk_onion_req *q;
	struct tk_circmgr_stats st;

	new_cm(0, 300, 0);

	n_refused = 0;
	connect_to("blocked.test", 7, NULL, &a, NULL);
	run_until(&a.done, 5000);
	tap_eq_long(a.reason, TK_RELAY_END_EXITPOLICY,
		    "EXITPOLICY when no exit is left");
	tap_eq_long(n_refused, 1, "only exitA allows port 7: asked once");

	n_refused = 0;
	connect_to("blocked.test", 80, NULL, &a, NULL);
	run_until(&a.done, 5000);
	tap_eq_long(a.reason, TK_RELAY_END_EXITPOLICY, "port 80: EXITPOLICY");
	tap_ok(n_refused == 2 && strcmp(last_exit_refused[0],
					last_exit_refused[1]) != 0,
	       "both exits allowing port 80 were tried, each once");

	connect_to("refused.test", 7, NULL, &b, NULL);
	run_until(&b.done, 5000);
	tap_eq_long(b.reason, TK_RELAY_END_CONNECTREFUSED,
		    "CONNECTREFUSED is the answer, not retried");

	flaky_left = 1;
	connect_to("flaky.test", 7, NULL, &c, NULL);
	run_until(&c.done, 5000);
	tap_eq_long(c.reason, 0, "RESOLVEFAILED once, then retried: CONNECTED");
	tap_eq_long(tk_onion_stream_tries(c.s), 2, "took two tries");
	close_stream(&c);

	flaky_left = 10;
	connect_to("flaky.test", 7, NULL, &c, NULL);
	run_until(&c.done, 5000);
	tap_eq_long(c.reason, TK_RELAY_END_RESOLVEFAILED,
		    "RESOLVEFAILED three times: given up");
	flaky_left = 0;

	connect_to("silent.test", 7, NULL, &d, NULL);
	run_until(&d.done, 100000);
	tap_eq_long(d.reason, TK_RELAY_END_TIMEOUT,
		    "no CONNECTED: TIMEOUT after the tries");

	destroy_left = 1;
	connect_to("destroy.test", 7, NULL, &e, NULL);
	run_until(&e.done, 5000);
	tap_eq_long(e.reason, 0, "circuit destroyed before CONNECTED: "
				 "retried on a new circuit");
	start(&e);
	{
		struct fc *fc = circ_of(tk_onion_stream_circuit(e.s));
		tap_ok(fc != NULL, "the stream's circuit is known");
		if (fc)
			kill_circ(fc);
	}
	run_until(&e.err, 1000);
	tap_eq_long(e.err, TK_RELAY_END_DESTROY,
		    "open stream: circuit destroyed -> error(DESTROY)");
	close_stream(&e);
	connect_to("echo.test", 7, NULL, &f, NULL);
	run_until(&f.done, 5000);
	tap_eq_long(f.reason, 0, "the next request works on another circuit");
	close_stream(&f);

	/* cancel: no callback */
	connect_to("silent.test", 7, NULL, &a, &q);
	for (int i = 0; i < 20; i++)
		uv_run(loop, UV_RUN_NOWAIT);
	tk_onion_stream_cancel(q);
	for (int i = 0; i < 50; i++)
		uv_run(loop, UV_RUN_NOWAIT);
	tap_eq_long(a.done, 0, "a cancelled request never calls back");

	tk_circmgr_get_stats(cm, &st);
	tap_ok(st.lost >= 2, "lost circuits counted (%u)", st.lost);
	free_cm();
}

/* Tor's LongLivedPorts (22 here) want Stable relays on every hop, and a
 * circuit with a relay that is not Stable serves other ports only. */
static void test_long_lived(void)
{
	struct res a, b;
	struct fc *fa = NULL, *fb = NULL;

	rts[2].flags &= ~(uint32_t)TK_RF_STABLE; /* m0 */
	rts[3].flags &= ~(uint32_t)TK_RF_STABLE; /* m1 */
	new_cm(0, 0, 0);
	connect_to("echo.test", 7, "ll", &a, NULL);
	run_until(&a.done, 5000);
	tap_eq_long(a.reason, 0, "port 7: connected");
	if (a.s)
		fa = circ_of(tk_onion_stream_circuit(a.s));
	connect_to("echo.test", 22, "ll", &b, NULL);
	run_until(&b.done, 5000);
	tap_eq_long(b.reason, 0, "port 22 (long-lived): connected");
	if (b.s)
		fb = circ_of(tk_onion_stream_circuit(b.s));
	tap_ok(fb && strcmp(fb->oc->nick[1], "m0") &&
		       strcmp(fb->oc->nick[1], "m1"),
	       "its middle is a Stable one (%s), not m0 or m1",
	       fb ? fb->oc->nick[1] : "?");
	tap_ok(fa && fb &&
		       (fa == fb) == (strcmp(fa->oc->nick[1], "m0") &&
				      strcmp(fa->oc->nick[1], "m1")),
	       "the port-7 circuit (middle %s) is shared only if it is all "
	       "Stable",
	       fa ? fa->oc->nick[1] : "?");
	if (a.s)
		close_stream(&a);
	if (b.s)
		close_stream(&b);
	free_cm();
	rts[2].flags |= TK_RF_STABLE;
	rts[3].flags |= TK_RF_STABLE;
}

/* A LongLivedPorts list of its own: its port wants Stable hops, 22 no
 * longer does. */
static void test_long_lived_option(void)
{
	struct res a, b, c;
	struct fc *fa = NULL, *fb = NULL, *fc = NULL;

	rts[2].flags &= ~(uint32_t)TK_RF_STABLE; /* m0 */
	rts[3].flags &= ~(uint32_t)TK_RF_STABLE; /* m1 */
	ll_ports[0] = 4444;
	n_ll_ports = 1;
	for (int k = 0; k < 4; k++) {
		char key[16];
		snprintf(key, sizeof key, "llo%d", k);
		new_cm(0, 0, 0);
		connect_to("echo.test", 7, key, &a, NULL);
		run_until(&a.done, 5000);
		if (a.s)
			fa = circ_of(tk_onion_stream_circuit(a.s));
		connect_to("echo.test", 22, key, &b, NULL);
		run_until(&b.done, 5000);
		if (b.s)
			fb = circ_of(tk_onion_stream_circuit(b.s));
		tap_ok(a.reason == 0 && b.reason == 0 && fa && fa == fb,
		       "LongLivedPorts 4444: port 22 shares the port-7 "
		       "circuit (middle %s)",
		       fa ? fa->oc->nick[1] : "?");
		connect_to("echo.test", 4444, key, &c, NULL);
		run_until(&c.done, 5000);
		if (c.s)
			fc = circ_of(tk_onion_stream_circuit(c.s));
		tap_ok(c.reason == 0 && fc && fc->oc->stable &&
			       strcmp(fc->oc->nick[1], "m0") &&
			       strcmp(fc->oc->nick[1], "m1"),
		       "port 4444: a circuit of Stable relays (middle %s)",
		       fc ? fc->oc->nick[1] : "?");
		tap_ok(fa && fc && (fa == fc) == (fa->oc->stable != 0),
		       "the port-7 circuit serves 4444 only if all Stable");
		if (a.s)
			close_stream(&a);
		if (b.s)
			close_stream(&b);
		if (c.s)
			close_stream(&c);
		free_cm();
		fa = fb = fc = NULL;
	}
	n_ll_ports = 0;
	rts[2].flags |= TK_RF_STABLE;
	rts[3].flags |= TK_RF_STABLE;
}

/* The first hop's ORPort follows ClientUseIPv4/6 and
 * ClientPreferIPv6ORPort; hops reached by EXTEND2 keep their IPv4
 * ORPort, as tor's client names them. g1 and exitA have IPv6 ORPorts. */
static int first_hop_family(const struct tk_reach *reach, const char *key,
			    int *guard, int *later_v4)
{
	struct res a;
	struct fc *f = NULL;
	int fam = -1;
	next_reach = *reach;
	new_cm(0, 0, 0);
	connect_to("echo.test", 7, key, &a, NULL);
	run_until(&a.done, 5000);
	if (a.reason == 0 && a.s)
		f = circ_of(tk_onion_stream_circuit(a.s));
	if (f) {
		const struct tk_ocirc *oc = f->oc;
		fam = oc->hop[0].addr.ss_family;
		*guard = oc->hop[0].rsa_id[0] - 1;
		*later_v4 = oc->hop[1].addr.ss_family == AF_INET &&
			    oc->hop[2].addr.ss_family == AF_INET;
		if (fam == AF_INET6) {
			const struct sockaddr_in6 *s6 =
				(const void *)&oc->hop[0].addr;
			if (ntohs(s6->sin6_port) != 9101 ||
			    s6->sin6_addr.s6_addr[15] != 1)
				fam = -2;
		}
	}
	if (a.s)
		close_stream(&a);
	free_cm();
	memset(&next_reach, 0, sizeof next_reach);
	return fam;
}

static void test_first_hop_ipv6(void)
{
	struct tk_reach r;
	int g = -1, later = 0, fam, ok = 1, n6 = 0;
	char key[16];

	rts[1].has_ipv6 = 1; /* g1: [::1]:9101 */
	memset(rts[1].ipv6, 0, 16);
	rts[1].ipv6[15] = 1;
	rts[1].ipv6_port = 9101;
	rts[5].has_ipv6 = 1; /* exitA */
	memcpy(rts[5].ipv6, rts[1].ipv6, 16);
	rts[5].ipv6_port = 9105;

	memset(&r, 0, sizeof r);
	for (int k = 0; k < 4; k++) {
		snprintf(key, sizeof key, "v6d%d", k);
		fam = first_hop_family(&r, key, &g, &later);
		ok &= fam == AF_INET && later;
	}
	tap_ok(ok, "ClientUseIPv6 0: the first hop over IPv4");

	r.use_ipv6 = 1;
	r.prefer_ipv6 = 1;
	ok = 1;
	for (int k = 0; k < 6; k++) {
		snprintf(key, sizeof key, "v6p%d", k);
		fam = first_hop_family(&r, key, &g, &later);
		ok &= later && fam == (g == 1 ? AF_INET6 : AF_INET);
		n6 += fam == AF_INET6;
	}
	tap_ok(ok && n6 > 0,
	       "ClientUseIPv6 1 + ClientPreferIPv6ORPort 1: a first hop with "
	       "an IPv6 ORPort over [::1]:9101 (%d of 6), one without over "
	       "IPv4, later hops over IPv4",
	       n6);

	memset(&r, 0, sizeof r);
	r.no_ipv4 = 1;
	ok = 1;
	for (int k = 0; k < 4; k++) {
		snprintf(key, sizeof key, "v6o%d", k);
		fam = first_hop_family(&r, key, &g, &later);
		ok &= fam == AF_INET6 && g == 1 && later;
	}
	tap_ok(ok, "ClientUseIPv4 0: only g1, the guard with an IPv6 "
		   "ORPort, is a first hop");

	rts[1].has_ipv6 = rts[5].has_ipv6 = 0;
	rts[1].ipv6_port = rts[5].ipv6_port = 0;
}

/* The FLAGS of a BEGIN follow the exit's "p6" line as tor's: IPv6 OK
 * when it may exit to IPv6 on the port, else no FLAGS field at all. Port
 * 7: only exitA allows it. body: the BEGIN's "host:port\0" without
 * FLAGS. */
static void begin_through_exit_a(const char *p6, const char *host,
				 const char *body, const char *key,
				 uint32_t want, const char *what)
{
	struct res a;
	char err[256];
	tk_policy_summary_free(&mds[5].p6);
	if (p6)
		tk_policy_summary_parse(&mds[5].p6, "accept", 6, p6,
					strlen(p6), err, sizeof err);
	new_cm(0, 0, 0);
	last_begin_flags = 0xdead;
	connect_to(host, 7, key, &a, NULL);
	run_until(&a.done, 5000);
	tap_ok(a.reason == 0 && !strcmp(exit_of_last_begin, "exitA"),
	       "%s: connected through exitA", what);
	tap_ok(last_begin_flags == want &&
		       last_begin_len == strlen(body) + 1 + (want ? 4 : 0),
	       "%s: BEGIN flags %#x (want %#x), %zu bytes", what,
	       (unsigned)last_begin_flags, (unsigned)want, last_begin_len);
	if (a.s)
		close_stream(&a);
	free_cm();
}

static void test_begin_flags(void)
{
	begin_through_exit_a(NULL, "echo.test", "echo.test:7", "bf0", 0,
			     "exit without p6, a name");
	begin_through_exit_a("1-65535", "echo.test", "echo.test:7", "bf1",
			     TK_BEGIN_FLAG_IPV6_OK,
			     "p6 accept 1-65535, a name");
	begin_through_exit_a("80,443", "echo.test", "echo.test:7", "bf2", 0,
			     "p6 accept 80,443 (not 7), a name");
	begin_through_exit_a("1-65535", "192.0.2.7", "192.0.2.7:7", "bf3",
			     TK_BEGIN_FLAG_IPV6_OK,
			     "p6 accept 1-65535, an IPv4 literal");
	begin_through_exit_a(NULL, "2001:db8::7", "[2001:db8::7]:7", "bf4",
			     TK_BEGIN_FLAG_IPV6_OK,
			     "exit without p6, an IPv6 literal");
	/* PreferIPv6 on the SocksPort: said only beside IPV6_OK, as tor */
	connect_prefs = TK_ONION_PREFER_IPV6;
	begin_through_exit_a("1-65535", "echo.test", "echo.test:7", "bf5",
			     TK_BEGIN_FLAG_IPV6_OK |
				     TK_BEGIN_FLAG_IPV6_PREFERRED,
			     "PreferIPv6, p6 accept 1-65535, a name");
	begin_through_exit_a("80,443", "echo.test", "echo.test:7", "bf6", 0,
			     "PreferIPv6, p6 accept 80,443 (not 7): no flags");
	begin_through_exit_a(NULL, "2001:db8::7", "[2001:db8::7]:7", "bf7",
			     TK_BEGIN_FLAG_IPV6_OK |
				     TK_BEGIN_FLAG_IPV6_PREFERRED,
			     "PreferIPv6, an IPv6 literal");
	connect_prefs = 0;
	tk_policy_summary_free(&mds[5].p6);
}

/* The list of ports used lately: bounded, most recent first, an hour. */
static void test_portpred(void)
{
	struct tk_portpred pp;
	uint16_t out[TK_PORTPRED_MAX + 4];
	size_t n;
	int has_old = 0;

	tk_portpred_init(&pp);
	for (uint16_t k = 1; k <= TK_PORTPRED_MAX + 4; k++)
		tk_portpred_note(&pp, (uint16_t)(1000 + k), 1000u * k);
	tk_portpred_note(&pp, 0, 50000); /* lookups: no port */
	n = tk_portpred_list(&pp, 30000, out, sizeof out / sizeof out[0]);
	for (size_t i = 0; i < n; i++)
		if (out[i] <= 1004)
			has_old = 1;
	tap_ok(n == TK_PORTPRED_MAX && out[0] == 1000 + TK_PORTPRED_MAX + 4 &&
		       out[n - 1] == 1005 && !has_old,
	       "%d ports used: the %d used last are kept, newest first "
	       "(%zu, %u..%u)",
	       TK_PORTPRED_MAX + 4, TK_PORTPRED_MAX, n, out[0],
	       n ? out[n - 1] : 0);
	tk_portpred_note(&pp, 1005, 2000000); /* used again */
	n = tk_portpred_list(&pp, 1000u * 19 + TK_PORTPRED_RELEVANCE_MS, out,
			     sizeof out / sizeof out[0]);
	tap_ok(n == 2 && out[0] == 1005 && out[1] == 1000 + TK_PORTPRED_MAX + 4,
	       "an hour on, only ports used within the hour remain (%zu)", n);
	n = tk_portpred_list(&pp, 2000000 + TK_PORTPRED_RELEVANCE_MS, out,
			     sizeof out / sizeof out[0]);
	tap_eq_long((long)n, 0, "then none");
}

/* A clean open circuit whose exit allows port. */
static int clean_for(uint16_t port)
{
	for (struct fc *f = circs; f; f = f->next)
		if (f->oc && f->oc->state == TK_OCIRC_OPEN && !f->dead &&
		    !f->oc->closed && !f->oc->has_iso &&
		    !f->oc->dirty_since &&
		    tk_policy_summary_allows(&f->oc->exit_p, port))
			return 1;
	return 0;
}

/* Port prediction (path-spec 2.1.1): after a request to port 7 a clean
 * circuit that can exit to 7 is kept ready. exitA refuses 80 here, so
 * the preemptive circuits for 80 all go through exitB, which refuses 7:
 * without the prediction no clean circuit would fit 7. */
static void test_predicted_ports(void)
{
	struct res a;
	char err[256];
	int ok = 1;

	tk_policy_summary_free(&mds[5].p);
	tk_policy_summary_parse(&mds[5].p, "accept", 6, "1-79,81-65535", 13,
				err, sizeof err);
	new_cm(0, 0, 0);
	for (int k = 0; k < 3; k++) {
		char key[16];
		int found = 0;
		snprintf(key, sizeof key, "pp%d", k);
		connect_to("echo.test", 7, key, &a, NULL);
		run_until(&a.done, 5000);
		if (a.reason != 0)
			ok = 0;
		for (int i = 0; i < 5000 && !found; i++) {
			uv_run(loop, UV_RUN_ONCE);
			found = clean_for(7);
		}
		if (!found)
			ok = 0;
		if (a.s)
			close_stream(&a);
	}
	tap_ok(ok, "after each request to port 7, a clean circuit through "
		   "an exit allowing 7 is made ready");
	tap_ok(clean_for(80), "and one for port 80 still");
	free_cm();
	tk_policy_summary_free(&mds[5].p);
	tk_policy_summary_parse(&mds[5].p, "accept", 6, "1-65535", 7, err,
				sizeof err);
}

/* path-spec 2.1.1: at most 12 clean circuits, open or building, however
 * many are wanted (here 20 for port 80, and more for predicted ports). */
static void test_clean_cap(void)
{
	struct res a;
	struct tk_circmgr_stats st;
	unsigned clean = 0, launched = 0;

	n_preemptive = 20;
	new_cm(0, 0, 0);
	for (int k = 0; k < 4; k++) {
		connect_to("echo.test", (uint16_t)(7000 + k), "cap", &a, NULL);
		run_until(&a.done, 5000);
		if (a.s)
			close_stream(&a);
	}
	/* until no build is started for a while */
	for (int i = 0; i < 20000; i++) {
		uv_run(loop, UV_RUN_ONCE);
		tk_circmgr_get_stats(cm, &st);
		if (st.launched != launched) {
			launched = st.launched;
			i = 0;
		}
		if (i > 2000)
			break;
	}
	for (struct fc *f = circs; f; f = f->next)
		if (f->oc && !f->dead && !f->oc->closed && !f->oc->has_iso &&
		    !f->oc->dirty_since)
			clean++;
	tap_eq_long(clean, 12, "20 clean circuits wanted: 12 kept, "
			       "path-spec's bound (%u launched in all)",
		    launched);
	free_cm();
	n_preemptive = 0;
}

static void test_build_failures(void)
{
	struct res a;
	FILE *gf;
	char path[128], line[256];
	int n_lines = 0;

	new_cm(0, 0, 0);
	/* Both guards of the set are g0/g1; take g0 down. */
	guard_down[0] = 1;
	connect_to("echo.test", 7, NULL, &a, NULL);
	run_until(&a.done, 5000);
	tap_eq_long(a.reason, 0, "guard g0 down: built through g1");
	{
		struct fc *f = circ_of(tk_onion_stream_circuit(a.s));
		tap_ok(f && !strcmp(f->oc->nick[0], "g1"), "first hop is g1");
	}
	close_stream(&a);
	guard_down[0] = 0;
	free_cm();
	snprintf(path, sizeof path, "%s/state", tmpdir);
	gf = fopen(path, "r");
	while (gf && fgets(line, sizeof line, gf))
		if (!strncmp(line, "Guard in=default rsa_id=", 24))
			n_lines++;
	if (gf)
		fclose(gf);
	tap_eq_long(n_lines, 2,
		    "the guard sample (both guards) is saved in "
		    "DataDirectory/state as tor's Guard lines");

	/* Builds through badmid fail; the request survives them. */
	badmid_on = 1;
	new_cm(0, 0, 0);
	for (int k = 0; k < 6; k++) {
		char key[16];
		snprintf(key, sizeof key, "k%d", k); /* a new circuit each */
		connect_to("echo.test", 7, key, &a, NULL);
		run_until(&a.done, 5000);
		tap_eq_long(a.reason, 0, "request %d connected despite the "
					 "failing middle", k);
		if (a.s) {
			struct fc *f = circ_of(tk_onion_stream_circuit(a.s));
			tap_ok(f && strcmp(f->oc->nick[1], "badmid") != 0,
			       "its middle is not badmid");
			close_stream(&a);
		}
	}
	badmid_on = 0;
	free_cm();

	/* Our first confirmed guard is exitA, the only exit allowing port
	 * 7: the exit is chosen first, and the next primary guard serves
	 * beside it. */
	gf = fopen(path, "w");
	if (gf) {
		fprintf(gf, "Guard in=default rsa_id=%s nickname=exitA "
			    "sampled_on=2023-11-01T00:00:00 listed=1 "
			    "confirmed_on=2023-11-02T00:00:00 confirmed_idx=0\n"
			    "Guard in=default rsa_id=%s nickname=g0 "
			    "sampled_on=2023-11-01T00:00:00 listed=1 "
			    "confirmed_on=2023-11-02T00:00:00 confirmed_idx=1\n",
			"0606060606060606060606060606060606060606",
			"0101010101010101010101010101010101010101");
		fclose(gf);
	}
	rts[5].flags |= TK_RF_GUARD;
	new_cm(0, 0, 0);
	connect_to("echo.test", 7, "exitguard", &a, NULL);
	run_until(&a.done, 5000);
	tap_eq_long(a.reason, 0, "port 7 while exitA is our first guard: "
				 "connected");
	if (a.s) {
		struct fc *f = circ_of(tk_onion_stream_circuit(a.s));
		tap_ok(f && !strcmp(f->oc->nick[2], "exitA") &&
		       !strcmp(f->oc->nick[0], "g0"),
		       "exit exitA, first hop the next guard, g0");
		close_stream(&a);
	}
	rts[5].flags &= ~(uint32_t)TK_RF_GUARD;
	free_cm();
	remove(path);
}

static void test_lookups(void)
{
	struct res a;
	tk_onion_req *q;
	uint8_t v4[16] = { 192, 0, 2, 10 }, lo[16] = { 127, 0, 0, 1 };

	new_cm(0, 0, 0);
	memset(&a, 0, sizeof a);
	tk_streams_resolve(ss, "echo.test",
				TK_ONION_RESOLVE_IPV4 | TK_ONION_RESOLVE_IPV6,
				NULL, 0, on_res, &a, &q);
	run_until(&a.done, 5000);
	tap_eq_long(a.reason, 0, "RESOLVE answered");
	tap_eq_long((long)a.r.n_addrs, 2, "two addresses");
	tap_ok(a.r.addrs[0].family == AF_INET && a.r.addrs[0].addr[0] == 127,
	       "IPv4 first");
	tap_ok(a.r.addrs[1].family == AF_INET6 && a.r.addrs[1].addr[15] == 1,
	       "then IPv6");

	memset(&a, 0, sizeof a);
	tk_streams_resolve(ss, "echo.test", TK_ONION_RESOLVE_IPV6, NULL,
				0, on_res, &a, &q);
	run_until(&a.done, 5000);
	tap_ok(a.reason == 0 && a.r.n_addrs == 1 &&
	       a.r.addrs[0].family == AF_INET6, "IPv6 only when asked");

	memset(&a, 0, sizeof a);
	tk_streams_resolve(ss, "nx.test", TK_ONION_RESOLVE_IPV4, NULL, 0,
				on_res, &a, &q);
	run_until(&a.done, 5000);
	tap_eq_long(a.reason, TK_RELAY_END_RESOLVEFAILED,
		    "NXDOMAIN: RESOLVEFAILED");

	memset(&a, 0, sizeof a);
	tk_streams_resolve_ptr(ss, AF_INET, v4, NULL, 0, on_res, &a, &q);
	run_until(&a.done, 5000);
	tap_ok(a.reason == 0 && !strcmp(a.r.name, "ptr.test"),
	       "PTR of 192.0.2.10 (sent as 10.2.0.192.in-addr.arpa): %s",
	       a.r.name);

	memset(&a, 0, sizeof a);
	tk_streams_resolve_ptr(ss, AF_INET, lo, NULL, 0, on_res, &a, &q);
	run_until(&a.done, 5000);
	tap_eq_long(a.reason, TK_RELAY_END_RESOLVEFAILED,
		    "internal PTR refused by the exit: RESOLVEFAILED");

	tap_eq_long(tk_streams_resolve(ss, "", 1, NULL, 0, on_res, &a,
					    &q), -22, "empty name: -EINVAL");
	free_cm();
}

/* No onion name leaves: a CONNECT or RESOLVE of one fails at once, with
 * no BEGIN and no RESOLVE cell to any exit. */
static void test_onion_names(void)
{
	static const char v3[] = "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6"
				 "twagswzczad.onion";
	static const char *const bad[] = {
		"duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczae.onion",
		"expyuzz4wqqyqhjn.onion",
		"x.onion.",
		"onion",
	};
	struct res a;
	tk_onion_req *q;
	int begins;

	new_cm(0, 0, 0);
	begins = n_begins;
	connect_to(v3, 80, NULL, &a, NULL);
	run_until(&a.done, 5000);
	tap_eq_long(a.reason, TK_ONION_HS_NOT_FOUND,
		    "a v3 onion address: HS_NOT_FOUND at once");
	connect_to("www.DuckDuckGoGG42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad"
		   ".onion",
		   443, NULL, &a, NULL);
	run_until(&a.done, 5000);
	tap_eq_long(a.reason, TK_ONION_HS_NOT_FOUND,
		    "a subdomain, any case: the same");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		connect_to(bad[i], 80, NULL, &a, NULL);
		run_until(&a.done, 5000);
		tap_eq_long(a.reason, TK_ONION_HS_BAD_ADDRESS,
			    "malformed %s: HS_BAD_ADDRESS", bad[i]);
	}
	memset(&a, 0, sizeof a);
	tk_streams_resolve(ss, v3, TK_ONION_RESOLVE_IPV4, NULL, 0, on_res, &a,
			   &q);
	run_until(&a.done, 5000);
	tap_eq_long(a.reason, TK_ONION_HS_NOT_FOUND, "RESOLVE of it: refused");
	tap_eq_long(n_begins - begins, 0, "no BEGIN reached an exit");
	/* the layer still works for other names */
	connect_to("echo.test", 7, NULL, &a, NULL);
	run_until(&a.done, 5000);
	tap_eq_long(a.reason, 0, "echo.test still connects");
	tap_eq_long(n_begins - begins, 1, "with one BEGIN");
	close_stream(&a);
	free_cm();
}

static void test_end_and_linger(void)
{
	struct res a;
	static uint8_t msg[5] = "hello";

	new_cm(0, 0, 300);
	connect_to("done.test", 7, NULL, &a, NULL);
	run_until(&a.done, 5000);
	start(&a);
	run_until(&a.eof, 5000);
	tap_ok(a.eof && a.nrx == 3 && !memcmp(a.rx, "bye", 3),
	       "END DONE after data: the data, then EOF");
	close_stream(&a);

	connect_to("echo.test", 7, NULL, &a, NULL);
	run_until(&a.done, 5000);
	start(&a);
	tk_onion_stream_write(a.s, msg, sizeof msg);
	tk_onion_stream_shutdown(a.s);
	tap_eq_long(tk_onion_stream_write(a.s, msg, sizeof msg), -32,
		    "write after shutdown: -EPIPE");
	run_until(&a.eof, 100000);
	tap_ok(a.nrx == 5 && !memcmp(a.rx, "hello", 5),
	       "after shutdown the echo still arrives (no half-close in "
	       "Tor: the stream stays open)");
	tap_ok(a.eof, "then, idle for the linger time, EOF");
	close_stream(&a);
	free_cm();
}

static void test_dirtiness(void)
{
	struct res a, b;
	int retired = 0;
	uint32_t c1;

	new_cm(1, 0, 0);
	connect_to("echo.test", 7, "d", &a, NULL);
	run_until(&a.done, 5000);
	c1 = tk_onion_stream_circuit(a.s);
	close_stream(&a);
	/* wait (on loop time) until the circuit is retired */
	for (int i = 0; i < 2000 && !retired; i++) {
		char buf[128];
		uv_run(loop, UV_RUN_ONCE);
		retired = tk_circmgr_describe(cm, c1, buf, sizeof buf) < 0;
	}
	tap_ok(retired, "a dirty circuit without streams is closed after "
			"MaxCircuitDirtiness");
	connect_to("echo.test", 7, "d", &b, NULL);
	run_until(&b.done, 5000);
	tap_ok(b.reason == 0 && tk_onion_stream_circuit(b.s) != c1,
	       "the next stream with that key gets a new circuit");
	close_stream(&b);
	free_cm();
}

static void test_build_timeout(void)
{
	struct res a;
	struct tk_circmgr_stats st;

	build_timeout_ms = 200;
	builds_silent = 1;
	new_cm(0, 0, 0);
	connect_to("echo.test", 7, NULL, &a, NULL);
	run_until(&a.done, 20000);
	tk_circmgr_get_stats(cm, &st);
	tap_eq_long(a.reason, TK_RELAY_END_MISC,
		    "no build ever finishes: MISC after the build attempts");
	tap_ok(st.failed >= 4, "each build timed out (%u failed)", st.failed);
	builds_silent = 0;
	build_timeout_ms = 0;
	free_cm();
}

/* A circuit to a chosen hop (onion services: HSDir, introduction,
 * rendezvous) gets the learned build timeout too, not a deadline of 0
 * that the next tick would take for "timed out". */
static int private_failed;
static void private_ev(void *arg, tk_ocirc *oc, int event, const char *why)
{
	(void)arg, (void)oc;
	if (event == TK_OCIRC_EV_FAILED) {
		printf("# private circuit failed: %s\n", why ? why : "?");
		private_failed = 1;
	}
}

static void test_build_to_timeout(void)
{
	tk_circuit_hop_target last;
	tk_ocirc *oc = NULL;
	char err[200];
	int never = 0;

	builds_silent = 1;
	new_cm(0, 0, 0);
	memset(&last, 0, sizeof last);
	memcpy(last.rsa_id, rts[6].rsa_id, 20);
	private_failed = 0;
	tap_eq_long(tk_circmgr_build_to(cm, &last, "exitB", private_ev, NULL,
					&oc, err, sizeof err),
		    0, "a circuit to a chosen hop is launched");
	/* about 1.5 s of loop time: three ticks */
	run_until(&never, 300);
	tap_ok(!private_failed && oc,
	       "still building after three ticks (the learned timeout)");
	if (!private_failed && oc)
		tk_ocirc_close(oc);
	builds_silent = 0;
	free_cm();
}

/* A guard holding cells for us (guard_stalled, the channel's `stalled`
 * through the transport): a circuit is built through that very guard,
 * unless a build through it has not sent its CREATE2 yet; and clean
 * circuits stay bounded however often it happens. */
static unsigned launched(void)
{
	struct tk_circmgr_stats st;
	tk_circmgr_get_stats(cm, &st);
	return st.launched;
}

static void settle(void)
{
	for (int i = 0; i < 50; i++)
		uv_run(loop, UV_RUN_ONCE);
}

static void test_guard_stalled(void)
{
	struct tk_circmgr_stats st;
	struct fc *pre;
	uint8_t guard[20];
	unsigned before;
	int built = 0;

	new_cm(0, 0, 0);
	tk_circmgr_dir_changed(cm);
	for (int i = 0; i < 500 && !built; i++) {
		uv_run(loop, UV_RUN_ONCE);
		tk_circmgr_get_stats(cm, &st);
		built = st.built >= 1 && st.building == 0;
	}
	pre = circs;
	tap_ok(built && pre && pre->oc, "stalled guard: a preemptive circuit");
	memcpy(guard, pre->oc->hop[0].rsa_id, 20);
	before = launched();
	fx_ev->guard_stalled(pre->oc);
	settle();
	tap_eq_long(launched(), before + 1, "one circuit built on the news");
	tap_ok(circs != pre && circs->oc &&
		       memcmp(circs->oc->hop[0].rsa_id, guard, 20) == 0,
	       "through that guard (%s)", circs->oc ? circs->oc->nick[0] : "?");

	free_cm();

	/* A build through it that has not reached it yet will do (one
	 * clean circuit and one building: below the bound). */
	new_cm(0, 0, 0);
	tk_circmgr_dir_changed(cm);
	settle();
	pre = circs;
	builds_silent = 1;
	before = launched();
	fx_ev->guard_stalled(pre->oc);
	settle();
	fx_ev->guard_stalled(pre->oc);
	fx_ev->guard_stalled(pre->oc);
	settle();
	tap_eq_long(launched(), before + 1,
		    "then not while a build through it waits for its first "
		    "hop");
	builds_silent = 0;
	free_cm();

	/* However often it happens: at most preemptive + 2 clean ones. */
	new_cm(0, 0, 0);
	tk_circmgr_dir_changed(cm);
	settle();
	for (int i = 0; i < 6; i++) {
		if (circs && circs->oc)
			fx_ev->guard_stalled(circs->oc);
		settle();
	}
	tk_circmgr_get_stats(cm, &st);
	tap_ok(st.open <= 3 && st.launched <= 3,
	       "six stalls: %u open, %u launched (1 preemptive + 2)", st.open,
	       st.launched);
	free_cm();
}

/* Freeing the manager from inside a request callback (tools do). */
static int freed_in_cb;
static void free_in_cb(void *arg, int reason, const struct tk_onion_resolved *x)
{
	(void)arg, (void)reason, (void)x;
	tk_circmgr_free(cm);
	cm = NULL;
	freed_in_cb = 1;
}

static void test_free_in_callback(void)
{
	tk_onion_req *q, *q2;
	struct res other;
	new_cm(0, 0, 0);
	memset(&other, 0, sizeof other);
	tk_streams_resolve(ss, "echo.test", 1, NULL, 0, free_in_cb, NULL,
				&q);
	tk_streams_resolve(ss, "echo.test", 1, NULL, 0, on_res, &other,
				&q2);
	run_until(&freed_in_cb, 5000);
	for (int i = 0; i < 50; i++)
		uv_run(loop, UV_RUN_NOWAIT);
	tap_ok(freed_in_cb, "tk_circmgr_free from a callback is safe (ASan "
			    "checks the rest)");
	tap_ok(!other.done || other.reason == 0,
	       "other requests are dropped silently or were answered");
	free_cm();
}

/* ---- circ_pool.h: clean internal circuits for onion services */

static int adopt_built, adopt_failed;
static void adopt_ev(void *arg, tk_ocirc *oc, int event, const char *why)
{
	(void)arg, (void)oc, (void)why;
	if (event == TK_OCIRC_EV_BUILT)
		adopt_built++;
	else if (event == TK_OCIRC_EV_FAILED)
		adopt_failed++;
}

static int pool_ready(tk_circ_pool *p, size_t n)
{
	for (int i = 0; i < 2000 && tk_circ_pool_ready(p) < n; i++)
		uv_run(loop, UV_RUN_ONCE);
	return tk_circ_pool_ready(p) == n;
}

static int wait_count(const int *c, int n)
{
	for (int i = 0; i < 2000 && *c < n; i++)
		uv_run(loop, UV_RUN_ONCE);
	return *c == n;
}

/* An introduction point the consensus does not list, at 10.<b>.0.9. */
static void intro_target(tk_circuit_hop_target *t, uint8_t b)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&t->addr;
	memset(t, 0, sizeof *t);
	memset(t->rsa_id, 0xee, 20);
	memset(t->ntor_key, 0x77, 32);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(0x0a000009u | (uint32_t)b << 16);
	sin->sin_port = htons(9001);
}

/* The pool's one open circuit (owned by p). */
static tk_ocirc *pool_circ(tk_circ_pool *p)
{
	for (struct fc *f = circs; f; f = f->next)
		if (f->oc && f->oc->private_use && f->oc->owner_arg == p &&
		    f->oc->state == TK_OCIRC_OPEN)
			return f->oc;
	return NULL;
}

static void test_circ_pool(void)
{
	tk_circ_pool *p;
	tk_circuit_hop_target ip;
	tk_ocirc *oc = NULL, *oc2 = NULL;
	int b0, e0, rc;

	new_cm(0, 0, 0);
	settle();
	p = tk_circ_pool_new(cm, 2);
	b0 = n_private_builds;
	settle();
	tap_ok(tk_circ_pool_size(p) == 0 && n_private_builds == b0,
	       "pool: nothing is built before an onion service is asked for");
	tk_circ_pool_note_use(p);
	tap_ok(pool_ready(p, 2),
	       "pool: two clean internal circuits once one is");

	b0 = n_private_builds;
	e0 = n_extends;
	adopt_built = 0;
	intro_target(&ip, 1);
	rc = tk_circ_pool_take(p, &ip, "intro", adopt_ev, NULL, &oc);
	tap_ok(rc == 0 && oc && oc->state == TK_OCIRC_BUILDING &&
		       !tk_ocirc_circuit(oc),
	       "pool: an introduction circuit is taken; not open until the "
	       "new hop is in");
	wait_count(&adopt_built, 1);
	tap_ok(adopt_built == 1 && n_extends == e0 + 1 && oc->n_hops == 4 &&
		       oc->state == TK_OCIRC_OPEN &&
		       memcmp(oc->hop[3].rsa_id, ip.rsa_id, 20) == 0,
	       "pool: the introduction circuit costs exactly one EXTEND2 "
	       "(%d), and is 4 hops long",
	       n_extends - e0);
	tap_eq_long(n_private_builds - b0, 1,
		    "pool: no circuit built for it, one to refill the pool");

	e0 = n_extends;
	b0 = n_private_builds;
	rc = tk_circ_pool_take(p, NULL, NULL, adopt_ev, NULL, &oc2);
	tap_ok(rc == 0 && oc2 && oc2->n_hops == 3 && oc2 != oc,
	       "pool: a rendezvous circuit is taken as it is (its last hop "
	       "is the point)");
	wait_count(&adopt_built, 2);
	tap_ok(adopt_built == 2 && n_extends == e0,
	       "pool: its new owner hears BUILT, and no EXTEND2 was sent");
	tap_ok(pool_ready(p, 2) && n_private_builds == b0 + 1,
	       "pool: refilled to two after each use");
	tk_ocirc_close(oc);
	tk_ocirc_close(oc2);
	tk_circ_pool_free(p);
	settle();

	/* a hop of the circuit's own, or of its family: not taken */
	p = tk_circ_pool_new(cm, 1);
	tk_circ_pool_note_use(p);
	pool_ready(p, 1);
	oc = pool_circ(p);
	if (tap_ok(oc != NULL, "pool: one circuit ready")) {
		tk_circuit_hop_target mid = oc->hop[1], other;
		size_t k = 0, m = (size_t)(oc->hop[1].rsa_id[0] - 1);
		e0 = n_extends;
		tap_ok(tk_circ_pool_take(p, &mid, "m", adopt_ev, NULL, &oc2) ==
				       -1 &&
			       n_extends == e0 && tk_circ_pool_ready(p) == 1,
		       "pool: a circuit is not extended to one of its own "
		       "relays");
		/* a relay not on the circuit, made family of its middle */
		for (k = 0; k < NN; k++) {
			int on = 0;
			for (int h = 0; h < 3; h++)
				on |= memcmp(oc->hop[h].rsa_id, rts[k].rsa_id,
					     20) == 0;
			if (!on)
				break;
		}
		tk_microdesc_set_family(&mds[k], &rts[m].rsa_id, 1);
		tk_microdesc_set_family(&mds[m], &rts[k].rsa_id, 1);
		tk_hop_from_node(&nodes[k], &other);
		tap_ok(tk_circ_pool_take(p, &other, rts[k].nickname, adopt_ev,
					 NULL, &oc2) == -1 &&
			       n_extends == e0,
		       "pool: nor to a relay of its middle's family (%s, %s)",
		       rts[k].nickname, rts[m].nickname);
		tk_microdesc_set_family(&mds[k], NULL, 0);
		tk_microdesc_set_family(&mds[m], NULL, 0);
		adopt_built = 0;
		tap_ok(tk_circ_pool_take(p, &other, rts[k].nickname, adopt_ev,
					 NULL, &oc2) == 0 &&
			       wait_count(&adopt_built, 1) &&
			       n_extends == e0 + 1,
		       "pool: the same relay without that family is taken");
		tk_ocirc_close(oc2);
	}

	/* a refused EXTEND2: the owner hears FAILED */
	pool_ready(p, 1);
	extend_fail = 1;
	adopt_failed = 0;
	intro_target(&ip, 1);
	rc = tk_circ_pool_take(p, &ip, "intro", adopt_ev, NULL, &oc);
	tap_ok(rc == 0 && wait_count(&adopt_failed, 1),
	       "pool: a refused extension is the new owner's FAILED");
	extend_fail = 0;
	tap_ok(pool_ready(p, 1), "pool: and the pool is full again");
	tk_circ_pool_free(p);

	/* the bound: asked for more, it keeps TK_CIRC_POOL_MAX */
	p = tk_circ_pool_new(cm, 1000);
	tk_circ_pool_note_use(p);
	tap_ok(tk_circ_pool_size(p) == TK_CIRC_POOL_MAX &&
		       pool_ready(p, TK_CIRC_POOL_MAX),
	       "pool: bounded at %d circuits, whatever is asked",
	       TK_CIRC_POOL_MAX);
	for (int i = 0; i < 3; i++) {
		if (tk_circ_pool_take(p, NULL, NULL, adopt_ev, NULL, &oc) == 0)
			tk_ocirc_close(oc);
		tk_circ_pool_note_use(p);
	}
	tap_eq_long((long)tk_circ_pool_size(p), TK_CIRC_POOL_MAX,
		    "pool: taken and refilled, still at the bound");
	tk_circ_pool_free(p);
	free_cm();

	/* EnforceDistinctSubnets: not beside a hop of the same /16 */
	for (int i = 0; i < NN; i++)
		rts[i].ipv4 = 0x0a000001u | (uint32_t)(i + 1) << 16;
	enforce_subnets = 1;
	new_cm(0, 0, 0);
	p = tk_circ_pool_new(cm, 1);
	tk_circ_pool_note_use(p);
	pool_ready(p, 1);
	oc = pool_circ(p);
	if (tap_ok(oc != NULL, "pool: one circuit ready, subnets enforced")) {
		uint8_t g16 = (uint8_t)(oc->hop[0].rsa_id[0]);
		e0 = n_extends;
		intro_target(&ip, g16); /* the guard's /16 */
		tap_ok(tk_circ_pool_take(p, &ip, "intro", adopt_ev, NULL,
					 &oc2) == -1 &&
			       n_extends == e0,
		       "pool: not extended to a point in its guard's /16");
		intro_target(&ip, 200);
		adopt_built = 0;
		tap_ok(tk_circ_pool_take(p, &ip, "intro", adopt_ev, NULL,
					 &oc2) == 0 &&
			       wait_count(&adopt_built, 1) &&
			       n_extends == e0 + 1,
		       "pool: extended to one in another /16");
		tk_ocirc_close(oc2);
	}
	tk_circ_pool_free(p);
	free_cm();
	enforce_subnets = 0;
	for (int i = 0; i < NN; i++)
		rts[i].ipv4 = 0x7f000001;
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/tk-circmgr-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	loop = uv_default_loop();
	uv_timer_init(loop, &pump_timer);
	uv_timer_init(loop, &heartbeat);
	uv_timer_start(&heartbeat, beat, 5, 5);
	make_net();
	test_preemptive_and_reuse();
	dir_ready = 1;
	test_echo_and_windows();
	test_write_backpressure();
	test_cc_streams();
	test_cc_rate();
	test_failures_and_retries();
	test_build_failures();
	test_long_lived();
	test_long_lived_option();
	test_first_hop_ipv6();
	test_begin_flags();
	test_portpred();
	test_predicted_ports();
	test_clean_cap();
	test_lookups();
	test_onion_names();
	test_end_and_linger();
	test_dirtiness();
	test_build_timeout();
	test_build_to_timeout();
	test_guard_stalled();
	test_free_in_callback();
	test_circ_pool();
	tap_eq_long(n_host_logged, 0, "no destination in the log (scrub_hosts "
				      "by default)");
	tap_ok(n_scrubbed > 0, "stream lines say [scrubbed] (%u)", n_scrubbed);
	uv_close((uv_handle_t *)&pump_timer, NULL);
	uv_close((uv_handle_t *)&heartbeat, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
	for (int i = 0; i < NN; i++)
		tk_microdesc_free(&mds[i]);
	{
		char p[128];
		snprintf(p, sizeof p, "%s/state", tmpdir);
		unlink(p);
		rmdir(tmpdir);
	}
	return tap_done();
}
