/* Channel, circuit and directory client against a scripted relay on
 * loopback (tests/unit/fake_relay.c): the good path, and each way a relay
 * can fail us during the link handshake, CREATE_FAST and BEGIN_DIR. */
#include <stdlib.h>
#include <signal.h>
#include <string.h>

#include "../unit/tap.h"
#include "fake_relay.h"
#include "onion/link/channel.h"
#include "onion/link/padding.h"
#include "onion/circ/circuit.h"
#include "onion/base/crypto.h"
#include "onion/dir/dirclient.h"

enum step {
	STEP_CHANNEL, STEP_CIRCUIT, STEP_FETCH, STEP_IDLE, STEP_SINK, STEP_WINDOW
};

/* -Wl,--wrap=uv_timer_init (link.mk): fails the next call when set. */
static int fail_next_timer_init;
int __real_uv_timer_init(uv_loop_t *loop, uv_timer_t *t);
int __wrap_uv_timer_init(uv_loop_t *loop, uv_timer_t *t);
int __wrap_uv_timer_init(uv_loop_t *loop, uv_timer_t *t)
{
	if (fail_next_timer_init) {
		fail_next_timer_init = 0;
		return UV_ENOMEM;
	}
	return __real_uv_timer_init(loop, t);
}

struct run {
	/* inputs */
	struct fr_opts fr;
	enum step upto;
	int fail_timer; /* the fetch's uv_timer_init fails */
	int wrong_id;
	unsigned chan_timeout, circ_timeout;
	unsigned ext_timeout; /* the EXTEND2's alone (0: the default) */
	/* the relay starves the loop past chan_timeout (circ_timeout) with
	 * its handshake cells (CREATED_FAST) unread in our socket */
	int starve_handshake, starve_created;
	/* outputs */
	int chan_status, circ_status, dir_status;
	int chan_lost;
	int early_test, early_results[9];
	int use_ntor, extend;
	int v3, request_cc; /* ntor v3 (to hop 1, or the extended hop) */
	int cc_inc[2];	    /* per hop: negotiated sendme_inc, 0 fixed */
	unsigned long cwnd_after;
	int ext_status, hops;
	int sink_cmd, sink_stream_ok, sink_end_status;
	const char *path;
	int sent_before_block, window_rc, writable_calls, lost_status;
	int http_status;
	char errmsg[300];
	char *body;
	size_t body_len;
	tk_channel_info info;
	struct fr_seen seen;
	uint8_t rsa_id[20];
	/* state */
	fake_relay *relay;
	tk_channel *ch;
	tk_circuit *circ;
};

static void finish(struct run *r)
{
	if (r->circ) {
		tk_circuit_close(r->circ);
		r->circ = NULL;
	}
	if (r->ch) {
		tk_channel_close(r->ch, NULL);
		r->ch = NULL;
	}
}

static void on_dir(tk_dir_req *d, int status, const tk_http_response *resp,
		   void *arg)
{
	struct run *r = arg;
	r->dir_status = status;
	if (status == 0) {
		r->http_status = resp->status;
		r->body = malloc(resp->body_len + 1);
		memcpy(r->body, resp->body, resp->body_len + 1);
		r->body_len = resp->body_len;
	} else {
		snprintf(r->errmsg, sizeof r->errmsg, "%s", tk_dir_errmsg(d));
	}
	finish(r);
}

static void on_built(tk_circuit *c, int status, void *arg);

static void on_writable(tk_circuit *c, void *arg)
{
	struct run *r = arg;
	const tk_circ_flow *f = tk_circuit_flow(c, -1);
	r->writable_calls++;
	r->hops = tk_circuit_package_window(c, -1);
	r->cwnd_after = f && f->has_cc ? (unsigned long)f->cc.cwnd : 0;
	finish(r);
}

/* What the handshake of a test asks for, and the real network's
 * defaults for what congestion control needs. */
static void set_handshake(struct run *r, tk_circuit_hop_target *t,
			  const uint8_t ed[32])
{
	t->has_ed_id = 1;
	memcpy(t->ed_id, ed, 32);
	t->ntor_v3 = r->v3;
	t->request_cc = r->request_cc;
	tk_cc_params_load(&t->params, NULL, NULL);
}

/* A stream layer with its own ids (stream.h) sees its messages here. */
static void on_sink(void *arg, int status, int hop, uint8_t cmd,
		    const uint8_t *data, size_t len)
{
	struct run *r = arg;
	(void)hop;
	(void)data;
	(void)len;
	if (status < 0) {
		r->sink_end_status = status;
		return;
	}
	r->sink_cmd = cmd;
	finish(r);
}

static void on_extended(tk_circuit *c, int status, void *arg)
{
	struct run *r = arg;
	r->ext_status = status;
	if (status < 0) {
		snprintf(r->errmsg, sizeof r->errmsg, "%s", tk_circuit_errmsg(c));
		finish(r);
		return;
	}
	on_built(c, 0, r);
}

static void on_built(tk_circuit *c, int status, void *arg)
{
	struct run *r = arg;
	tk_dir_req *d;
	r->circ_status = status;
	if (status < 0) {
		snprintf(r->errmsg, sizeof r->errmsg, "%s", tk_circuit_errmsg(c));
		finish(r);
		return;
	}
	if (r->early_test) {
		/* RELAY_EARLY: 8 go out, the 9th is refused locally. DROP
		 * cells are ignored by relays. */
		for (int i = 0; i < 9; i++)
			r->early_results[i] = tk_circuit_send(c, 0, TK_RELAY_DROP, 0,
							      NULL, 0, 1);
	}
	if (r->extend && tk_circuit_n_hops(c) == 1) {
		tk_circuit_hop_target t;
		struct sockaddr_in sa;
		memset(&t, 0, sizeof t);
		fake_relay_next_hop(r->relay, t.rsa_id, t.ntor_key);
		if (r->v3) {
			uint8_t ed[32], next_ed[32];
			fake_relay_ed_ids(r->relay, ed, next_ed);
			set_handshake(r, &t, next_ed);
		}
		uv_ip4_addr("127.0.0.1", 9, &sa);
		memcpy(&t.addr, &sa, sizeof sa);
		r->ext_status = tk_circuit_extend(c, &t, r->ext_timeout,
						  on_extended, r);
		if (r->ext_status < 0)
			finish(r);
		return;
	}
	r->hops = tk_circuit_n_hops(c);
	for (int i = 0; i < r->hops && i < 2; i++) {
		const tk_circ_flow *f = tk_circuit_flow(c, i);
		r->cc_inc[i] = f->has_cc ? f->inc : 0;
	}
	if (r->upto == STEP_WINDOW) {
		uint8_t junk[TK_RELAY_DATA_MAX] = {0};
		tk_circuit_set_stream_sink(c, on_sink, on_writable, r);
		/* Fill the package window (1000 cells, or cwnd) in one go. */
		while ((r->window_rc = tk_circuit_send(c, 0, TK_RELAY_DATA, 0x42,
						       junk, sizeof junk, 0)) == 0)
			r->sent_before_block++;
		return;
	}
	if (r->upto == STEP_SINK) {
		tk_circuit_set_stream_sink(c, on_sink, NULL, r);
		r->sink_stream_ok = tk_circuit_send(c, -1, TK_RELAY_BEGIN_DIR,
						    0x1234, NULL, 0, 0) == 0;
		return;
	}
	if (r->upto == STEP_CIRCUIT) {
		finish(r);
		return;
	}
	fail_next_timer_init = r->fail_timer;
	r->dir_status = tk_dir_get(c, r->path ? r->path : "/tor/keys/all", 0,
				   5000, on_dir, r, &d);
	fail_next_timer_init = 0;
	if (r->dir_status < 0)
		finish(r);
}

static void on_lost_circ(tk_circuit *c, int status, void *arg)
{
	struct run *r = arg;
	r->lost_status = status;
	snprintf(r->errmsg, sizeof r->errmsg, "%s", tk_circuit_errmsg(c));
	finish(r);
}

static void on_open(tk_channel *ch, int status, void *arg)
{
	struct run *r = arg;
	r->chan_status = status;
	r->info = *tk_channel_get_info(ch);
	if (status < 0) {
		snprintf(r->errmsg, sizeof r->errmsg, "%s", tk_channel_errmsg(ch));
		finish(r);
		return;
	}
	if (r->upto == STEP_CHANNEL) {
		finish(r);
		return;
	}
	if (r->upto == STEP_IDLE)
		return; /* keep the channel open until the relay drops it */
	if (r->starve_created)
		fake_relay_starve(r->relay, 0,
				  uv_hrtime() +
					  (r->circ_timeout + 200) * 1000000ull);
	if (r->use_ntor) {
		tk_circuit_hop_target t;
		memset(&t, 0, sizeof t);
		memcpy(t.rsa_id, r->rsa_id, 20);
		fake_relay_ntor_key(r->relay, t.ntor_key);
		if (r->v3 && !r->extend) {
			uint8_t ed[32], next_ed[32];
			fake_relay_ed_ids(r->relay, ed, next_ed);
			set_handshake(r, &t, ed);
		}
		if (r->use_ntor == 2)
			t.ntor_key[0] ^= 1; /* not the relay's key */
		r->circ_status = tk_circuit_create_ntor(ch, &t, r->circ_timeout,
							on_built, on_lost_circ,
							r, &r->circ);
	} else {
		r->circ_status = tk_circuit_create_fast(ch, r->circ_timeout,
							on_built, on_lost_circ,
							r, &r->circ);
	}
	if (r->circ_status < 0)
		finish(r);
}

static void on_lost(tk_channel *ch, int status, void *arg)
{
	struct run *r = arg;
	(void)ch;
	r->chan_lost = status;
	finish(r);
}

static void run(struct run *r)
{
	uv_loop_t loop;
	tk_channel_target t;
	struct sockaddr_in sa;
	int port, rc;
	uv_loop_init(&loop);
	r->chan_status = r->circ_status = r->dir_status = 1; /* not reached */
	if (fake_relay_start(&loop, &r->fr, &r->relay, &port, r->rsa_id) != 0) {
		tap_ok(0, "fake relay started");
		return;
	}
	memset(&t, 0, sizeof t);
	uv_ip4_addr("127.0.0.1", port, &sa);
	memcpy(&t.addr, &sa, sizeof sa);
	memcpy(t.rsa_id, r->rsa_id, 20);
	if (r->wrong_id)
		t.rsa_id[19] ^= 0x01;
	if (r->starve_handshake)
		fake_relay_starve(r->relay,
				  uv_hrtime() +
					  (r->chan_timeout + 200) * 1000000ull,
				  0);
	rc = tk_channel_open(&loop, &t, r->chan_timeout, on_open, on_lost, r,
			     &r->ch);
	if (rc < 0)
		r->chan_status = rc;
	/* Run until the client side is done, then stop the relay and drain. */
	while ((r->ch || r->circ || fake_relay_busy(r->relay)) &&
	       uv_run(&loop, UV_RUN_ONCE))
		;
	r->seen = *fake_relay_seen(r->relay);
	fake_relay_stop(r->relay);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
}

static void test_good_handshake(void)
{
	struct run r = {.fr = {.close_after_cells = -1}};
	run(&r);
	tap_eq_long(r.chan_status, 0, "handshake with the right identity: %s",
		    r.errmsg);
	tap_eq_long(r.info.link_version, 5, "link protocol 5 chosen from 3,4,5");
	tap_ok(r.seen.client_versions_ok, "we offered exactly 4 and 5");
	tap_ok(r.info.n_certs == 2 && r.info.cert_types[0] == 1 &&
		       r.info.cert_types[1] == 2,
	       "CERTS types 1 and 2 seen");
	tap_eq_bytes(r.info.rsa_id, 20, r.rsa_id, 20, "proved RSA identity");
	tap_ok(r.info.got_auth_challenge && r.info.n_auth_methods == 1 &&
		       r.info.auth_methods[0] == 3,
	       "AUTH_CHALLENGE recorded and ignored");
	tap_eq_long(r.info.netinfo.time, 1700000000, "relay's NETINFO time");
	tap_ok(r.seen.got_netinfo && r.seen.netinfo_time == 0,
	       "our NETINFO was sent, with TIME 0");
	tap_ok(r.info.tls_version && strcmp(r.info.tls_version, "TLSv1.2") == 0,
	       "TLS 1.2");
}

static void test_wrong_identity(void)
{
	struct run r = {.fr = {.close_after_cells = -1}, .wrong_id = 1};
	run(&r);
	tap_eq_long(r.chan_status, TK_CHAN_EIDENTITY, "wrong identity refused");
	tap_ok(strstr(r.errmsg, "wrong relay identity") != NULL,
	       "clear message: %s", r.errmsg);
	tap_ok(!r.seen.got_netinfo, "no NETINFO sent to an impostor");
}

static void test_handshake_failures(void)
{
	static const struct {
		struct fr_opts fr;
		int want;
		const char *msg, *what;
	} cases[] = {
		{{.versions = FR_VERSIONS_OLD, .close_after_cells = -1},
		 TK_CHAN_ENOVERSION, "no common link protocol",
		 "relay speaking only link 1,2"},
		{{.versions = FR_VERSIONS_NETINFO_FIRST, .close_after_cells = -1},
		 TK_CHAN_EPROTO, "before VERSIONS", "NETINFO before VERSIONS"},
		{{.certs = FR_CERTS_NO_ID, .close_after_cells = -1},
		 TK_CHAN_ECERTS, "type 2", "CERTS without identity cert"},
		{{.certs = FR_CERTS_OTHER_LINK, .close_after_cells = -1},
		 TK_CHAN_ECERTS, "not the certificate", "link cert not the TLS cert"},
		{{.certs = FR_CERTS_WRONG_SIGNER, .close_after_cells = -1},
		 TK_CHAN_ECERTS, "not signed by the identity",
		 "link cert signed by a stranger"},
		{{.certs = FR_CERTS_MALFORMED, .close_after_cells = -1},
		 TK_CHAN_ECERTS, "malformed CERTS", "CERTS lengths lie"},
		{{.close_after_cells = 0}, UV_EOF, "during the link handshake",
		 "relay closes before VERSIONS"},
		{{.close_after_cells = 1}, UV_EOF, "during the link handshake",
		 "relay closes after VERSIONS"},
		{{.close_after_cells = 3}, UV_EOF, "during the link handshake",
		 "relay closes before NETINFO"},
		{{.oversized = 1, .close_after_cells = -1}, UV_EOF,
		 "during the link handshake",
		 "truncated oversized CERTS then close"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct run r = {.fr = cases[i].fr};
		run(&r);
		tap_eq_long(r.chan_status, cases[i].want, "%s: %s", cases[i].what,
			    tk_channel_strerror(r.chan_status));
		tap_ok(strstr(r.errmsg, cases[i].msg) != NULL, "%s: message: %s",
		       cases[i].what, r.errmsg);
	}
}

static void test_lost(void)
{
	struct run r = {.fr = {.close_after_netinfo = 1,
			       .close_after_cells = -1},
			.upto = STEP_IDLE};
	run(&r);
	tap_eq_long(r.chan_status, 0, "channel opened");
	tap_eq_long(r.chan_lost, UV_EOF, "relay hangs up later: lost_cb(EOF)");
}

static void test_timeout(void)
{
	struct run r = {.fr = {.silent = 1, .close_after_cells = -1},
			.chan_timeout = 1500};
	run(&r);
	tap_eq_long(r.chan_status, TK_CHAN_ETIMEDOUT,
		    "silent relay: handshake times out");
	/* Which step it waited for depends on the machine's speed. */
	tap_ok(strstr(r.errmsg, "timed out waiting for") != NULL, "message: %s",
	       r.errmsg);
}

/* The relay answers at once, but the OS does not run us until after the
 * timeout (here: the relay blocks the shared loop past it with its
 * answer written). libuv runs the due timer before it polls the socket:
 * the timeout must wait for that poll, which reads the answer. */
static void test_starved_timeouts(void)
{
	struct run r = {.fr = {.close_after_cells = -1},
			.chan_timeout = 1000, .starve_handshake = 1};
	struct run c = {.fr = {.close_after_cells = -1},
			.upto = STEP_CIRCUIT, .circ_timeout = 300,
			.starve_created = 1};
	struct run n = {.fr = {.close_after_cells = -1},
			.upto = STEP_CIRCUIT, .circ_timeout = 300,
			.use_ntor = 1, .starve_created = 1};
	run(&r);
	tap_eq_long(r.seen.n_starved, 1,
		    "the relay starved us past the link handshake timeout");
	tap_eq_long(r.chan_status, 0,
		    "with VERSIONS..NETINFO unread: the handshake succeeds "
		    "(%s)", r.errmsg);
	run(&c);
	tap_eq_long(c.seen.n_starved, 1,
		    "the relay starved us past the circuit build timeout");
	tap_eq_long(c.circ_status, 0,
		    "with CREATED_FAST unread: the circuit is built (%s)",
		    c.errmsg);
	run(&n);
	tap_ok(n.seen.n_starved == 1 && n.circ_status == 0,
	       "the same with CREATED2 (%d, %s)", n.circ_status, n.errmsg);
}

static void test_padding(void)
{
	struct run r = {.fr = {.padding = 1, .close_after_cells = -1},
			.upto = STEP_FETCH};
	run(&r);
	tap_eq_long(r.chan_status, 0, "handshake with padding interleaved");
	tap_ok(r.info.padding_dropped >= 3, "padding dropped (%zu)",
	       r.info.padding_dropped);
	tap_eq_long(r.dir_status, 0, "fetch works after padding");
	free(r.body);
}

static void test_fetch(void)
{
	struct run r = {.fr = {.close_after_cells = -1}, .upto = STEP_FETCH};
	run(&r);
	tap_eq_long(r.circ_status, 0, "CREATE_FAST circuit built: %s", r.errmsg);
	tap_eq_long(r.seen.circ_ids_high_bit, 1, "circuit id has the high bit");
	tap_eq_long(r.dir_status, 0, "BEGIN_DIR fetch: %s", r.errmsg);
	tap_eq_long(r.http_status, 200, "HTTP 200");
	tap_eq_bytes(r.body, r.body_len, "hello", 5, "body");
	tap_eq_str(r.seen.request, "GET /tor/keys/all HTTP/1.0\r\n\r\n",
		   "request line as tor expects");
	tap_ok(r.seen.n_destroy == 1 && r.seen.destroy_reason == 0,
	       "circuit closed with DESTROY reason NONE");
	free(r.body);
}

/* The request goes out behind BEGIN_DIR without waiting for CONNECTED,
 * as tor's client sends it: a relay that answers only once the request
 * is in gets it (waiting for CONNECTED would stall until the timeout). */
static void test_fetch_optimistic(void)
{
	struct run r = {.fr = {.close_after_cells = -1, .connected_late = 1},
			.upto = STEP_FETCH};
	run(&r);
	tap_eq_long(r.dir_status, 0, "request sent before CONNECTED: %s",
		    r.errmsg);
	tap_eq_str(r.seen.request, "GET /tor/keys/all HTTP/1.0\r\n\r\n",
		   "the relay had the whole request before its CONNECTED");
	tap_eq_bytes(r.body, r.body_len, "hello", 5, "body after a late CONNECTED");
	free(r.body);
}

/* An error path of tk_dir_get after the request line is built: nothing
 * may leak (LeakSanitizer checks this in the ASan build). */
static void test_fetch_setup_fails(void)
{
	struct run r = {.fr = {.close_after_cells = -1}, .upto = STEP_FETCH,
			.fail_timer = 1};
	run(&r);
	tap_ok(r.dir_status < 0, "tk_dir_get fails when its timer cannot be "
				 "set up (%d)", r.dir_status);
	free(r.body);
}

static void test_long_request(void)
{
	/* 30 microdescriptor digests: the request spans several DATA cells */
	static char path[2048];
	size_t off = (size_t)snprintf(path, sizeof path, "/tor/micro/d/");
	for (int i = 0; i < 30; i++)
		off += (size_t)snprintf(path + off, sizeof path - off, "%s%043d",
					i ? "-" : "", i);
	struct run r = {.fr = {.close_after_cells = -1}, .upto = STEP_FETCH,
			.path = path};
	run(&r);
	tap_eq_long(r.dir_status, 0, "%zu-byte path over BEGIN_DIR: %s", off,
		    r.errmsg);
	tap_eq_long((long)r.seen.request_len, (long)(off + 17), /* GET, HTTP/1.0 */
		    "whole request line arrived across DATA cells");
	free(r.body);
}

static void test_big_fetch(void)
{
	size_t n = 120000;
	char *big = malloc(n);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('a' + i % 26);
	struct run r = {.fr = {.close_after_cells = -1, .body = big,
			       .body_len = n},
			.upto = STEP_FETCH};
	run(&r);
	tap_eq_long(r.dir_status, 0, "120 kB document: %s", r.errmsg);
	tap_eq_bytes(r.body, r.body_len, big, n, "document intact");
	tap_ok(r.seen.n_stream_sendme >= 4, "stream SENDMEs sent (%d)",
	       r.seen.n_stream_sendme);
	tap_ok(r.seen.n_circ_sendme >= 2, "circuit SENDMEs sent (%d)",
	       r.seen.n_circ_sendme);
	free(r.body);
	free(big);
}

static void test_ntor_and_extend(void)
{
	struct run r1 = {.fr = {.close_after_cells = -1}, .upto = STEP_FETCH,
			 .use_ntor = 1};
	run(&r1);
	tap_eq_long(r1.circ_status, 0, "CREATE2/ntor first hop: %s", r1.errmsg);
	tap_eq_long(r1.seen.n_create2, 1, "relay saw CREATE2");
	tap_eq_long(r1.dir_status, 0, "fetch over the ntor hop");
	free(r1.body);

	struct run r2 = {.fr = {.close_after_cells = -1}, .upto = STEP_CIRCUIT,
			 .use_ntor = 2};
	run(&r2);
	tap_ok(r2.circ_status == TK_CIRC_EDESTROYED ||
		       r2.circ_status == TK_CIRC_EHANDSHAKE,
	       "CREATE2 with a wrong ntor key fails: %s", r2.errmsg);

	struct run r3 = {.fr = {.close_after_cells = -1}, .upto = STEP_FETCH,
			 .extend = 1};
	run(&r3);
	tap_eq_long(r3.ext_status, 0, "EXTEND2 to a second hop: %s", r3.errmsg);
	tap_eq_long(r3.hops, 2, "two hops");
	tap_ok(r3.seen.extend2_was_early, "EXTEND2 went in RELAY_EARLY");
	tap_ok(r3.seen.extend2_specs_ok, "link specifiers: IPv4 and RSA id");
	tap_eq_long(r3.dir_status, 0, "fetch from the second hop: %s",
		    r3.errmsg);
	tap_eq_long(r3.seen.dir_served_by_hop, 2,
		    "BEGIN_DIR went to the last hop");
	tap_eq_bytes(r3.body, r3.body_len, "hello", 5, "two-layer crypto both "
		     "ways");
	free(r3.body);

	struct run r4 = {.fr = {.close_after_cells = -1,
				.extend = FR_EXTEND_TRUNCATED},
			 .upto = STEP_CIRCUIT, .extend = 1};
	run(&r4);
	tap_eq_long(r4.ext_status, TK_CIRC_ETRUNCATED, "TRUNCATED during "
		    "EXTEND2: %s", r4.errmsg);

	struct run r5 = {.fr = {.close_after_cells = -1,
				.extend = FR_EXTEND_BAD_REPLY},
			 .upto = STEP_CIRCUIT, .extend = 1};
	run(&r5);
	tap_eq_long(r5.ext_status, TK_CIRC_EHANDSHAKE,
		    "EXTENDED2 that does not authenticate: %s", r5.errmsg);
	tap_ok(r5.seen.n_destroy == 1 && r5.seen.destroy_reason == 1,
	       "circuit destroyed with PROTOCOL");

	struct run r6 = {.fr = {.close_after_cells = -1,
				.extend = FR_EXTEND_SILENT},
			 .upto = STEP_CIRCUIT, .extend = 1, .ext_timeout = 1500};
	run(&r6);
	tap_eq_long(r6.ext_status, TK_CIRC_ETIMEDOUT, "no EXTENDED2: %s",
		    r6.errmsg);
}

/* ntor v3 and the congestion-control negotiation (prop 324 §10). */
static void test_ntor_v3_cc(void)
{
	struct run a = {.fr = {.close_after_cells = -1, .sink_data = 1},
			.upto = STEP_WINDOW, .use_ntor = 1, .v3 = 1,
			.request_cc = 1};
	run(&a);
	tap_eq_long(a.circ_status, 0, "CREATE2 ntor v3 with CC request: %s",
		    a.errmsg);
	tap_ok(a.seen.n_ntor_v3 == 1 && a.seen.cc_requested,
	       "relay got HTYPE 3 and the CC request extension");
	tap_eq_long(a.cc_inc[0], 31, "congestion control on, sendme_inc 31");
	tap_eq_long(a.sent_before_block, 124,
		    "package window = cc_cwnd_init 124, not 1000");
	tap_eq_long(a.writable_calls, 1,
		    "SENDME v1 after the 31st cell reopens it (%s)", a.errmsg);
	tap_ok(a.cwnd_after == 155 && a.hops == 62,
	       "Vegas slow start: cwnd 155, 93 in flight, 62 may go (%lu, %d)",
	       a.cwnd_after, a.hops);

	struct run b = {.fr = {.close_after_cells = -1, .cc_sendme_inc = 20},
			.upto = STEP_CIRCUIT, .use_ntor = 1, .v3 = 1,
			.request_cc = 1};
	run(&b);
	tap_ok(b.circ_status == 0 && b.cc_inc[0] == 20,
	       "the exit's sendme_inc 20 is used: %s", b.errmsg);

	struct run c = {.fr = {.close_after_cells = -1, .sink_data = 1,
			       .cc = FR_CC_REFUSE},
			.upto = STEP_WINDOW, .use_ntor = 1, .v3 = 1,
			.request_cc = 1};
	run(&c);
	tap_ok(c.circ_status == 0 && c.cc_inc[0] == 0 &&
		       c.sent_before_block == 1000,
	       "no CC response: fixed windows, 1000 cells (%s)", c.errmsg);

	struct run d = {.fr = {.close_after_cells = -1, .cc = FR_CC_UNASKED},
			.upto = STEP_CIRCUIT, .use_ntor = 1, .v3 = 1};
	run(&d);
	tap_eq_long(d.circ_status, TK_CIRC_EHANDSHAKE,
		    "CC response to no request refused: %s", d.errmsg);
	tap_ok(d.seen.n_ntor_v3 == 1 && !d.seen.cc_requested,
	       "(ntor v3 without the request)");

	struct run e = {.fr = {.close_after_cells = -1, .cc_sendme_inc = 63},
			.upto = STEP_CIRCUIT, .use_ntor = 1, .v3 = 1,
			.request_cc = 1};
	run(&e);
	tap_eq_long(e.circ_status, TK_CIRC_EHANDSHAKE,
		    "sendme_inc 63 (more than twice ours) refused: %s",
		    e.errmsg);
	tap_ok(e.seen.n_destroy == 1, "and the circuit destroyed");

	struct run f = {.fr = {.close_after_cells = -1, .cc = FR_CC_MALFORMED},
			.upto = STEP_CIRCUIT, .use_ntor = 1, .v3 = 1,
			.request_cc = 1};
	run(&f);
	tap_eq_long(f.circ_status, TK_CIRC_EHANDSHAKE,
		    "malformed server message refused: %s", f.errmsg);

	struct run g = {.fr = {.close_after_cells = -1}, .upto = STEP_CIRCUIT,
			.use_ntor = 2, .v3 = 1, .request_cc = 1};
	run(&g);
	tap_ok(g.circ_status == TK_CIRC_EDESTROYED ||
		       g.circ_status == TK_CIRC_EHANDSHAKE,
	       "ntor v3 to the wrong onion key fails: %s", g.errmsg);

	struct run h = {.fr = {.close_after_cells = -1}, .upto = STEP_FETCH,
			.extend = 1, .v3 = 1, .request_cc = 1};
	run(&h);
	tap_eq_long(h.ext_status, 0, "EXTEND2 ntor v3 + CC to a second hop: %s",
		    h.errmsg);
	tap_ok(h.cc_inc[0] == 0 && h.cc_inc[1] == 31,
	       "first hop fixed windows (CREATE_FAST), second hop CC");
	tap_eq_long(h.dir_status, 0, "fetch through the ntor v3 hop: %s",
		    h.errmsg);
	tap_eq_bytes(h.body, h.body_len, "hello", 5,
		     "ntor v3 keys work both ways");
	free(h.body);
}

static void test_stream_sink(void)
{
	struct run r = {.fr = {.close_after_cells = -1}, .upto = STEP_SINK};
	run(&r);
	tap_ok(r.sink_stream_ok, "BEGIN_DIR on a stream id of our own");
	tap_eq_long(r.sink_cmd, TK_RELAY_CONNECTED,
		    "the stream sink got CONNECTED");
	tap_eq_long(r.sink_end_status, TK_CIRC_ECLOSED,
		    "and was told when the circuit closed");
}

static void test_package_window(void)
{
	struct run r = {.fr = {.close_after_cells = -1, .sink_data = 1},
			.upto = STEP_WINDOW};
	run(&r);
	tap_eq_long(r.sent_before_block, 1000, "1000 DATA cells fit the window");
	tap_eq_long(r.window_rc, TK_CIRC_EWINDOW, "the 1001st must wait");
	tap_eq_long(r.writable_calls, 1, "SENDME v1 with the right tag: "
		    "writable again (%s)", r.errmsg);
	tap_eq_long(r.hops, 100, "window reopened by 100");

	struct run b = {.fr = {.close_after_cells = -1, .sink_data = 1,
			       .bad_sendme_tag = 1},
			.upto = STEP_WINDOW};
	run(&b);
	tap_eq_long(b.lost_status, TK_CIRC_EPROTO,
		    "SENDME with a wrong tag kills the circuit");
	tap_ok(strstr(b.errmsg, "SENDME") != NULL, "message: %s", b.errmsg);
	tap_eq_long(b.writable_calls, 0, "no writable callback");
}

static void test_relay_early_budget(void)
{
	struct run r = {.fr = {.close_after_cells = -1}, .upto = STEP_CIRCUIT,
			.early_test = 1};
	int ok = 1;
	run(&r);
	for (int i = 0; i < 8; i++)
		ok &= r.early_results[i] == 0;
	tap_ok(ok, "8 RELAY_EARLY cells sent");
	tap_eq_long(r.early_results[8], TK_CIRC_EEARLY, "the 9th is refused");
}

static void test_circuit_failures(void)
{
	struct run r1 = {.fr = {.create = FR_CREATE_DESTROY,
				.close_after_cells = -1},
			 .upto = STEP_CIRCUIT};
	run(&r1);
	tap_eq_long(r1.circ_status, TK_CIRC_EDESTROYED,
		    "DESTROY during CREATE_FAST");
	tap_ok(strstr(r1.errmsg, "reason 5") != NULL, "message: %s", r1.errmsg);

	struct run r2 = {.fr = {.create = FR_CREATE_BAD_KH,
				.close_after_cells = -1},
			 .upto = STEP_CIRCUIT};
	run(&r2);
	tap_eq_long(r2.circ_status, TK_CIRC_EHANDSHAKE, "bad CREATED_FAST KH");
	tap_ok(r2.seen.n_destroy == 1 && r2.seen.destroy_reason == 1,
	       "we DESTROY with PROTOCOL");

	struct run r3 = {.fr = {.create = FR_CREATE_SILENT,
				.close_after_cells = -1},
			 .upto = STEP_CIRCUIT, .circ_timeout = 1500};
	run(&r3);
	tap_eq_long(r3.circ_status, TK_CIRC_ETIMEDOUT, "silent relay: "
		    "CREATE_FAST times out");

	struct run r4 = {.fr = {.end_before_connected = 1,
				.close_after_cells = -1},
			 .upto = STEP_FETCH};
	run(&r4);
	tap_eq_long(r4.dir_status, TK_DIR_EREFUSED, "BEGIN_DIR refused");
	tap_ok(strstr(r4.errmsg, "NOTDIRECTORY") != NULL, "message: %s",
	       r4.errmsg);

	struct run r4b = {.fr = {.end_reason = 1, .close_after_cells = -1},
			  .upto = STEP_FETCH};
	run(&r4b);
	tap_eq_long(r4b.dir_status, TK_DIR_EPROTO,
		    "END MISC after the response: not taken as complete");
	tap_ok(strstr(r4b.errmsg, "may be incomplete") != NULL, "message: %s",
	       r4b.errmsg);

	struct run r5 = {.fr = {.create = FR_CREATE_CLOSE,
				.close_after_cells = -1},
			 .upto = STEP_CIRCUIT};
	run(&r5);
	tap_eq_long(r5.circ_status, UV_EOF,
		    "relay hangs up during CREATE_FAST: circuit told");
	tap_ok(strstr(r5.errmsg, "channel to the relay went away") != NULL,
	       "message: %s", r5.errmsg);
	/* The circuit's callback closed the channel: no lost_cb after that. */
	tap_eq_long(r5.chan_lost, 0, "no channel callback after our close");

	struct run r6 = {.fr = {.close_on_begin_dir = 1,
				.close_after_cells = -1},
			 .upto = STEP_FETCH};
	run(&r6);
	tap_eq_long(r6.dir_status, UV_EOF,
		    "relay hangs up during BEGIN_DIR: request fails");
	tap_ok(strstr(r6.errmsg, "circuit went away") != NULL, "message: %s",
	       r6.errmsg);
}

/* The relay loses its next hop under two of our circuits and, as tor's
 * circuitmux does, holds the second DESTROY (or both) until it has a
 * circuit cell to send. The channel never pokes it itself: it tells its
 * owner (`stalled`) after the first DESTROY, or after a silence from a
 * relay that should pad, and the owner here builds a circuit with
 * CREATE2, as tor's clients build circuits, whose CREATED2 flushes the
 * held DESTROYs. Without the owner's circuit the circuits never learn
 * (the deadline ends the test). */
struct held {
	fake_relay *relay;
	tk_channel *ch;
	tk_circuit *c[2];
	tk_circuit *flush; /* the owner's answer to `stalled` */
	int built, lost[2];
	int hooked;	    /* set the hooks (1: the owner builds, 2: no
			       `stalled` hook) */
	int multihop;	    /* the channel carries multi-hop circuits */
	unsigned stall_ms;  /* hooks.stall_first_ms */
	int stalls[3];	    /* by enum tk_channel_stall */
	int run_to_deadline; /* do not stop when both circuits are gone */
	/* Stop instead once the relay sent this many PADDING, or once the
	 * channel reported this many silences (0: not). */
	int until_padding_out, until_silences;
	size_t until_chan_stalls; /* the channel's own count (info.stalls) */
	/* Starve the loop: the test's own callback blocks it this long,
	 * block_after_ms after the hooks are set (0: never). */
	unsigned block_ms, block_after_ms;
	uint64_t hooks_at;	/* loop time the hooks were set */
	uint64_t silence_at[3]; /* loop time of the first silences */
	uint8_t rsa_id[20];
	uv_timer_t deadline, block;
	struct fr_seen seen;
	tk_channel_info info;
};

static void held_finish(struct held *h)
{
	for (int i = 0; i < 2; i++)
		if (h->c[i]) {
			tk_circuit_close(h->c[i]);
			h->c[i] = NULL;
		}
	if (h->flush) {
		tk_circuit_close(h->flush);
		h->flush = NULL;
	}
	if (h->ch) {
		h->info = *tk_channel_get_info(h->ch);
		tk_channel_close(h->ch, NULL);
		h->ch = NULL;
	}
	uv_timer_stop(&h->deadline);
	uv_timer_stop(&h->block);
}

static void held_lost(tk_circuit *c, int status, void *arg)
{
	struct held *h = arg;
	int i;
	if (c == h->flush) {
		tk_circuit_close(c);
		h->flush = NULL;
		return;
	}
	i = c == h->c[1];
	h->lost[i] = status;
	tk_circuit_close(c);
	h->c[i] = NULL;
}

/* Done once both circuits are gone and the relay saw every circuit the
 * owner built. */
static int held_done(const struct held *h)
{
	if (h->until_padding_out &&
	    fake_relay_seen(h->relay)->n_padding_out >= h->until_padding_out)
		return 1;
	if (h->until_silences &&
	    h->stalls[TK_CHAN_STALL_SILENCE] >= h->until_silences)
		return 1;
	if (h->until_chan_stalls &&
	    tk_channel_get_info(h->ch)->stalls >= h->until_chan_stalls)
		return 1;
	return !h->run_to_deadline && h->built == 2 && !h->c[0] && !h->c[1];
}

static void held_built(tk_circuit *c, int status, void *arg)
{
	struct held *h = arg;
	if (c == h->flush)
		return; /* the owner's circuit: kept until the end */
	if (status < 0)
		held_finish(h);
	else
		h->built++;
}

static void held_stalled(tk_channel *ch, enum tk_channel_stall why,
			 void *arg)
{
	struct held *h = arg;
	tk_circuit_hop_target t;
	if (why == TK_CHAN_STALL_SILENCE && h->stalls[why] < 3)
		h->silence_at[h->stalls[why]] = uv_now(h->deadline.loop);
	h->stalls[why]++;
	if (h->flush)
		return;
	memset(&t, 0, sizeof t);
	memcpy(t.rsa_id, h->rsa_id, 20);
	fake_relay_ntor_key(h->relay, t.ntor_key);
	if (tk_circuit_create_ntor(ch, &t, 5000, held_built, held_lost, h,
				   &h->flush) != 0)
		h->flush = NULL;
}

/* The whole process stops, as when the OS does not schedule it: the
 * relay (on this loop too) cannot pad meanwhile, and both sides' timers
 * are overdue once it returns. */
static void held_block(uv_timer_t *t)
{
	struct held *h = t->data;
	uv_sleep(h->block_ms);
}

static void held_open(tk_channel *ch, int status, void *arg)
{
	struct held *h = arg;
	if (status == 0 && h->hooked) {
		struct tk_channel_hooks hk = {
			.stalled = h->hooked == 1 ? held_stalled : NULL,
			.arg = h,
			.stall_first_ms = h->stall_ms,
		};
		tk_channel_set_hooks(ch, &hk);
		h->hooks_at = uv_now(h->deadline.loop);
		if (h->block_ms)
			uv_timer_start(&h->block, held_block, h->block_after_ms,
				       0);
	}
	if (status == 0 && h->multihop)
		tk_channel_note_multihop(ch);
	if (status < 0 ||
	    tk_circuit_create_fast(ch, 5000, held_built, held_lost, h,
				   &h->c[0]) != 0 ||
	    tk_circuit_create_fast(ch, 5000, held_built, held_lost, h,
				   &h->c[1]) != 0)
		held_finish(h);
}

static void held_timeout(uv_timer_t *t)
{
	held_finish(t->data);
}

static void run_held(struct held *hp, const struct fr_opts *fo_in,
		     unsigned deadline_ms)
{
	struct held h = *hp;
	struct fr_opts fo = *fo_in;
	uv_loop_t loop;
	tk_channel_target t;
	struct sockaddr_in sa;
	int port;
	uv_loop_init(&loop);
	if (fake_relay_start(&loop, &fo, &h.relay, &port, h.rsa_id) != 0) {
		tap_ok(0, "fake relay started");
		return;
	}
	memset(&t, 0, sizeof t);
	uv_ip4_addr("127.0.0.1", port, &sa);
	memcpy(&t.addr, &sa, sizeof sa);
	memcpy(t.rsa_id, h.rsa_id, 20);
	uv_timer_init(&loop, &h.deadline);
	uv_timer_init(&loop, &h.block);
	h.deadline.data = h.block.data = &h;
	uv_timer_start(&h.deadline, held_timeout, deadline_ms, 0);
	if (tk_channel_open(&loop, &t, 0, held_open, NULL, &h, &h.ch) != 0)
		held_finish(&h);
	while ((h.ch || fake_relay_busy(h.relay)) && uv_run(&loop, UV_RUN_ONCE))
		if (h.ch && held_done(&h))
			held_finish(&h);
	*hp = h;
	hp->relay = NULL;
	hp->seen = *fake_relay_seen(h.relay);
	fake_relay_stop(h.relay);
	uv_close((uv_handle_t *)&h.deadline, NULL);
	uv_close((uv_handle_t *)&h.block, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
}

static void test_held_destroys(void)
{
	struct fr_opts fo = {.close_after_cells = -1, .destroy_after = 2};
	struct held h;
	const struct fr_seen *seen = &h.seen;

	memset(&h, 0, sizeof h);
	h.hooked = 1;
	run_held(&h, &fo, 60000); /* the deadline only bounds a hang */
	tap_eq_long(h.built, 2, "two circuits built");
	tap_eq_long(h.lost[0], TK_CIRC_EDESTROYED, "the first DESTROY arrives");
	tap_eq_long(h.stalls[TK_CHAN_STALL_DESTROY], 1,
		    "a DESTROY for a lost link, others remain: one `stalled`");
	tap_eq_long(h.lost[1], TK_CIRC_EDESTROYED,
		    "the held DESTROY arrives too, after the owner's CREATE2");
	tap_eq_long(seen->n_create2, 1, "the owner built one circuit");
	tap_eq_long(seen->n_held_flushed, 1, "its CREATED2 came after the "
		    "held DESTROY");
	tap_eq_long(seen->n_create_fast, 2,
		    "no CREATE_FAST from the channel itself (only our two)");

	/* Both DESTROYs held by a relay that pads: it falls silent. */
	fo.destroy_hold_all = 1;
	fo.pad_ms = 50;
	memset(&h, 0, sizeof h);
	h.hooked = h.multihop = 1;
	h.stall_ms = 300;
	run_held(&h, &fo, 60000);
	tap_eq_long(h.built, 2, "all held: two circuits built");
	tap_ok(h.stalls[TK_CHAN_STALL_SILENCE] >= 1,
	       "a padding relay fell silent: `stalled` (%d)",
	       h.stalls[TK_CHAN_STALL_SILENCE]);
	tap_ok(h.lost[0] == TK_CIRC_EDESTROYED &&
		       h.lost[1] == TK_CIRC_EDESTROYED,
	       "the owner's circuit brought both DESTROYs (%d, %d)",
	       h.lost[0], h.lost[1]);
	tap_eq_long(seen->n_held_flushed, 2, "its CREATED2 flushed both");
	tap_eq_long(seen->n_create_fast, 2, "no CREATE_FAST from the channel");

	/* The same without an owner that builds: nobody learns, and the
	 * channel itself sends no circuit cell at all, though it found the
	 * relay silent twice (the run ends there). */
	memset(&h, 0, sizeof h);
	h.hooked = 2;
	h.multihop = 1;
	h.stall_ms = 300;
	h.run_to_deadline = 1;
	h.until_chan_stalls = 2;
	run_held(&h, &fo, 60000);
	tap_eq_long(h.built, 2, "no owner: two circuits built");
	tap_eq_long((long)h.info.stalls, 2,
		    "no owner: the channel found the relay silent twice");
	tap_ok(h.lost[0] != TK_CIRC_EDESTROYED &&
		       h.lost[1] != TK_CIRC_EDESTROYED,
	       "no owner: no DESTROY meanwhile (%d, %d)", h.lost[0],
	       h.lost[1]);
	tap_ok(seen->n_create_fast == 2 && seen->n_create2 == 0,
	       "no owner: no CREATE_FAST or CREATE2 from the channel (%d, %d)",
	       seen->n_create_fast, seen->n_create2);

	/* A relay that pads is alive: its padding keeps `stalled` away.
	 * The run lasts until the relay padded 20 times (a second at the
	 * least, over the 600 ms wait), however slow the machine; the
	 * deadline only bounds a hang. */
	fo.destroy_after = 0;
	fo.destroy_hold_all = 0;
	memset(&h, 0, sizeof h);
	h.hooked = h.multihop = 1;
	h.stall_ms = 600;
	h.run_to_deadline = 1;
	h.until_padding_out = 20;
	run_held(&h, &fo, 60000);
	tap_ok(seen->n_padding_out >= 20,
	       "a relay padding every 50 ms (%d PADDING) ...",
	       seen->n_padding_out);
	tap_eq_long(h.stalls[TK_CHAN_STALL_SILENCE], 0,
		    "... is never taken for stalled");
	tap_eq_long(seen->n_create2, 0, "and nothing is built");

	/* Nor when the OS does not run us for longer than the wait: the
	 * relay's padding waits in the socket while our timers come due
	 * first. The silence was ours, and the channel reads before it
	 * decides. */
	memset(&h, 0, sizeof h);
	h.hooked = h.multihop = 1;
	h.stall_ms = 300;
	h.run_to_deadline = 1;
	h.until_padding_out = 20;
	h.block_after_ms = 100;
	h.block_ms = 700;
	run_held(&h, &fo, 60000);
	tap_ok(seen->n_padding_out >= 20,
	       "a padding relay, our process starved 700 ms (%d PADDING) ...",
	       seen->n_padding_out);
	tap_eq_long(h.stalls[TK_CHAN_STALL_SILENCE], 0,
		    "... is not taken for stalled either");

	/* A silent one is, after 300 ms; the owner's CREATED2 restarts the
	 * wait, and after it the wait doubles: 300 ms, then 600 ms. The run
	 * ends at the third report. The loop's clock says only "not before"
	 * (a timer never fires early), so those are the bounds checked. */
	fo.pad_ms = 0;
	memset(&h, 0, sizeof h);
	h.hooked = h.multihop = 1;
	h.stall_ms = 300;
	h.run_to_deadline = 1;
	h.until_silences = 3;
	run_held(&h, &fo, 60000);
	tap_eq_long(h.stalls[TK_CHAN_STALL_SILENCE], 3,
		    "a silent relay: `stalled` (three times, then the run "
		    "ends)");
	tap_ok(h.silence_at[0] >= h.hooks_at + 300,
	       "the first after the 300 ms wait (%llu ms)",
	       (unsigned long long)(h.silence_at[0] - h.hooks_at));
	tap_ok(h.silence_at[1] >= h.silence_at[0] + 300,
	       "the second 300 ms after the owner's CREATED2 (%llu ms)",
	       (unsigned long long)(h.silence_at[1] - h.silence_at[0]));
	tap_ok(h.silence_at[2] >= h.silence_at[1] + 600,
	       "the third after twice that (%llu ms)",
	       (unsigned long long)(h.silence_at[2] - h.silence_at[1]));
}

/* ---- link padding against the fake relay */

struct padrun {
	struct fr_opts fr;
	unsigned keepalive_ms; /* hooks.keepalive_ms, 0: none set */
	int multihop;	    /* note a multi-hop circuit once open */
	int want_padding;   /* stop once the relay saw this many PADDING */
	unsigned deadline_ms;
	int chan_status;
	tk_channel_info info;
	struct fr_seen seen;
	/* state */
	fake_relay *relay;
	tk_channel *ch;
	uv_timer_t deadline, poll;
};

static void pad_finish(struct padrun *p)
{
	if (p->ch) {
		p->info = *tk_channel_get_info(p->ch);
		tk_channel_close(p->ch, NULL);
		p->ch = NULL;
	}
	uv_timer_stop(&p->deadline);
	uv_timer_stop(&p->poll);
}

static void pad_deadline(uv_timer_t *t);

static void pad_open(tk_channel *ch, int status, void *arg)
{
	struct padrun *p = arg;
	p->chan_status = status;
	if (status < 0) {
		pad_finish(p);
		return;
	}
	if (p->keepalive_ms) {
		struct tk_channel_hooks h = {.keepalive_ms = p->keepalive_ms};
		tk_channel_set_hooks(ch, &h);
	}
	if (p->multihop)
		tk_channel_note_multihop(ch);
	uv_timer_start(&p->deadline, pad_deadline, p->deadline_ms, 0);
}

static void pad_lost(tk_channel *ch, int status, void *arg)
{
	struct padrun *p = arg;
	(void)ch;
	p->chan_status = status;
	pad_finish(p);
}

static void pad_deadline(uv_timer_t *t)
{
	pad_finish(t->data);
}

static void pad_poll(uv_timer_t *t)
{
	struct padrun *p = t->data;
	if (p->want_padding &&
	    fake_relay_seen(p->relay)->n_padding_in >= p->want_padding)
		pad_finish(p);
}

static void run_pad(struct padrun *p)
{
	uv_loop_t loop;
	tk_channel_target t;
	struct sockaddr_in sa;
	uint8_t id[20];
	int port;
	uv_loop_init(&loop);
	p->chan_status = 1;
	if (fake_relay_start(&loop, &p->fr, &p->relay, &port, id) != 0) {
		tap_ok(0, "fake relay started");
		return;
	}
	memset(&t, 0, sizeof t);
	uv_ip4_addr("127.0.0.1", port, &sa);
	memcpy(&t.addr, &sa, sizeof sa);
	memcpy(t.rsa_id, id, 20);
	uv_timer_init(&loop, &p->deadline);
	uv_timer_init(&loop, &p->poll);
	p->deadline.data = p->poll.data = p;
	/* The handshake gets time of its own (slow under sanitizers and
	 * load); the test's deadline counts from the channel's opening. */
	uv_timer_start(&p->deadline, pad_deadline, 60000, 0);
	uv_timer_start(&p->poll, pad_poll, 20, 20);
	if (tk_channel_open(&loop, &t, 0, pad_open, pad_lost, p, &p->ch) != 0)
		pad_finish(p);
	while ((p->ch || fake_relay_busy(p->relay)) &&
	       uv_run(&loop, UV_RUN_ONCE))
		;
	p->seen = *fake_relay_seen(p->relay);
	fake_relay_stop(p->relay);
	uv_close((uv_handle_t *)&p->deadline, NULL);
	uv_close((uv_handle_t *)&p->poll, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
}

/* Fast padding for the tests: 50 to 100 ms instead of 1.5 to 9.5 s. */
static void fast_padding(int connection_padding, int reduced)
{
	struct tk_padding_params pp = { 50, 100, 60, 120, 1 };
	struct tk_padding_options po = { connection_padding, reduced };
	tk_padding_set_params(&pp);
	tk_padding_configure(&po);
}

static void tor_padding_defaults(void)
{
	struct tk_padding_params pp;
	struct tk_padding_options po = { TK_PADDING_AUTO, 0 };
	tk_padding_params_init(&pp);
	tk_padding_set_params(&pp);
	tk_padding_configure(&po);
}

static void test_link_padding(void)
{
	struct padrun a = {.fr = {.close_after_cells = -1}, .multihop = 1,
			   .want_padding = 5, .deadline_ms = 10000};
	fast_padding(TK_PADDING_AUTO, 0);
	run_pad(&a);
	tap_eq_long(a.chan_status, 0, "padding: channel open");
	tap_ok(a.seen.n_padding_in >= 5,
	       "default (auto) on link 5: the relay got PADDING cells (%d)",
	       a.seen.n_padding_in);
	tap_eq_long(a.seen.n_padneg_in, 0,
		    "and no PADDING_NEGOTIATE (tor's clients send none)");
	tap_ok(a.info.padding_sent >= 5, "counted as sent (%zu)",
	       a.info.padding_sent);

	struct padrun b = {.fr = {.close_after_cells = -1}, .multihop = 0,
			   .deadline_ms = 1000};
	run_pad(&b);
	tap_eq_long(b.seen.n_padding_in, 0,
		    "no multi-hop circuit (a directory channel): no padding "
		    "in 1 s");

	struct padrun c = {.fr = {.close_after_cells = -1}, .multihop = 1,
			   .deadline_ms = 1000};
	fast_padding(0, 0);
	run_pad(&c);
	tap_ok(c.seen.n_padneg_in == 1 &&
		       c.seen.padneg_cmd == TK_PADDING_NEGOTIATE_STOP,
	       "ConnectionPadding 0: PADDING_NEGOTIATE STOP sent (%d, cmd %u)",
	       c.seen.n_padneg_in, c.seen.padneg_cmd);
	tap_eq_long(c.seen.n_padding_in, 0,
		    "ConnectionPadding 0: no PADDING in 1 s");

	/* Unpadded, a keepalive after KeepalivePeriod without a cell sent
	 * (300 s; 200 ms here). */
	struct padrun k = {.fr = {.close_after_cells = -1}, .multihop = 1,
			   .keepalive_ms = 200, .want_padding = 3,
			   .deadline_ms = 10000};
	run_pad(&k);
	tap_ok(k.seen.n_padding_in >= 3 && k.seen.n_padneg_in == 1,
	       "ConnectionPadding 0: keepalive PADDING after quiet spells "
	       "(%d), STOP sent once", k.seen.n_padding_in);

	struct padrun d = {.fr = {.close_after_cells = -1}, .multihop = 1,
			   .want_padding = 3, .deadline_ms = 10000};
	fast_padding(TK_PADDING_AUTO, 1);
	run_pad(&d);
	tap_ok(d.seen.n_padneg_in == 1 &&
		       d.seen.padneg_cmd == TK_PADDING_NEGOTIATE_STOP &&
		       d.seen.padneg_before_padding,
	       "ReducedConnectionPadding: STOP first, as the channel opens");
	tap_ok(d.seen.n_padding_in >= 3,
	       "ReducedConnectionPadding: we still pad (%d)",
	       d.seen.n_padding_in);

	/* A relay that tries to turn our padding off is ignored. */
	struct padrun e = {.fr = {.close_after_cells = -1,
				  .send_padneg = TK_PADDING_NEGOTIATE_STOP},
			   .multihop = 1, .want_padding = 5,
			   .deadline_ms = 10000};
	fast_padding(TK_PADDING_AUTO, 0);
	run_pad(&e);
	tap_ok(e.info.padneg_received == 1 &&
		       e.info.padneg_last == TK_PADDING_NEGOTIATE_STOP,
	       "PADDING_NEGOTIATE STOP from the relay seen (%zu, cmd %u)",
	       e.info.padneg_received, e.info.padneg_last);
	tap_ok(e.seen.n_padding_in >= 5,
	       "and ignored: we keep padding (%d PADDING)",
	       e.seen.n_padding_in);
	tap_eq_long(e.chan_status, 0, "and the channel stays open");
	tor_padding_defaults();
}

int main(void)
{
	/* A peer that hung up must not kill us when we write (libuv uses
	 * write(2)): the error comes back as EPIPE instead. */
	signal(SIGPIPE, SIG_IGN);
	tk_crypto_init();
	test_good_handshake();
	test_wrong_identity();
	test_handshake_failures();
	test_timeout();
	test_starved_timeouts();
	test_lost();
	test_padding();
	test_fetch();
	test_fetch_optimistic();
	test_big_fetch();
	test_fetch_setup_fails();
	test_long_request();
	test_circuit_failures();
	test_relay_early_budget();
	test_stream_sink();
	test_package_window();
	test_ntor_and_extend();
	test_ntor_v3_cc();
	test_held_destroys();
	test_link_padding();
	return tap_done();
}
