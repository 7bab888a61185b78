/* The onion-service client's state machine (src/onion/client/hs_client.c
 * and hs_fetch.c) against fakes of the circuit manager, the circuits and
 * the directory client, with tornet's sample consensus as the network
 * and hs_testsvc.c as the service: its descriptor, its introduction
 * points and its half of hs-ntor. What tornet's real tor service cannot
 * be made to do is done here: HSDirs that serve an invalid descriptor
 * (F1), introduction points that refuse (another is tried, as tor does;
 * all of them: F2), a rendezvous that fails (F3), introduction points
 * that never answer (F7); and the parallel fetch (three HSDirs at once,
 * the first valid answer wins), the introduction circuit built beside
 * the rendezvous circuit, and the bound of 64 services. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "../unit/hs_testsvc.h"
#include "../unit/netdoc_testutil.h"
#include "../unit/tap.h"
#include "common/util.h"
#include "onion/base/crypto.h"
#include "onion/client/hop.h"
#include "onion/client/hs_client.h"
#include "onion/client/hs_client_int.h"
#include "onion/client/hs_fetch.h"
#include "onion/client/ocirc.h"
#include "onion/dir/dirclient.h"
#include "onion/hs/hs_cell.h"
#include "onion/hs/hs_keys.h"
#include "onion/hs/hs_period.h"
#include "onion/netdir/nodes.h"
#include "onion/netdoc/consensus.h"
#include "onion/netdoc/microdesc.h"
#include "onion/onion.h"

/* ---- fakes ------------------------------------------------------------ */

struct tk_circmgr {
	uv_loop_t *loop;
	struct tk_nodes *nodes;
	struct tk_defer *deferred;
};

static tk_circmgr *cm_of_test(void);
#define MAX_FC 512
struct fcirc {
	tk_ocirc oc; /* first: tk_ocirc * and struct fcirc * are one */
	char kind;   /* 'D' HSDir, 'R' rendezvous, 'I' introduction, 'P' an
		      * internal circuit of the pool (circ_pool.c) */
	int built, closed;
	tk_circuit_hop_target t;
	void (*ev)(void *arg, tk_ocirc *oc, int event, const char *why);
	void *evarg;
	tk_circuit_stream_cb ctl;
	void *ctlarg;
	uint8_t cmd; /* the last cell sent */
	uint8_t body[TK_RELAY_DATA_MAX];
	size_t len;
	int n_sent;
	/* the virtual hop: congestion control, SENDME increment, Vegas
	 * alpha; whether the stream table was told */
	int hop_cc, joined_cc;
	unsigned hop_sendme_inc;
	int32_t hop_alpha;
	/* its directory request */
	int has_req, req_cancelled;
	tk_dir_done_cb dir_cb;
	void *dir_arg;
	/* adopted from the pool without a new hop: BUILT from here */
	struct tk_defer adopted;
};
static struct fcirc *fc[MAX_FC];
static size_t n_fc;
/* tk_ocirc_adopt: pool circuits handed over with a hop to add (one
 * EXTEND2 each, in circmgr.c) and as they are */
static int n_adopt_ext, n_adopt_plain;
static struct tk_nodes nodes;

int
tk_circmgr_build_to(tk_circmgr *cm, const tk_circuit_hop_target *last,
		    const char *nick,
		    void (*ev)(void *arg, tk_ocirc *oc, int event,
			       const char *why),
		    void *arg, tk_ocirc **out, char *err, size_t errlen)
{
	struct fcirc *f;
	(void)cm;
	if (n_fc == MAX_FC || !(f = calloc(1, sizeof *f))) {
		snprintf(err, errlen, "test: too many circuits");
		return -1;
	}
	f->oc.serial = (uint32_t)n_fc + 1;
	f->oc.state = TK_OCIRC_BUILDING;
	f->oc.n_hops = 3; /* once built: the chosen hop is the third */
	/* the rendezvous circuits are the service's own; the HSDir
	 * circuits the fetch's; the pool's have no chosen last hop */
	f->kind = !last			       ? 'P'
		  : strcmp(nick, "intro") == 0 ? 'I'
		  : ev == tk_hs_on_oc_event    ? 'R'
					       : 'D';
	if (last) {
		f->t = *last;
	} else {
		size_t k = n_fc % nodes.n;
		while (!nodes.node[k].md)
			k = (k + 1) % nodes.n;
		tk_hop_from_node(&nodes.node[k], &f->t);
	}
	f->oc.hop[2] = f->t;
	f->oc.private_use = 1;
	f->ev = ev;
	f->evarg = arg;
	fc[n_fc++] = f;
	*out = &f->oc;
	return 0;
}
static void
adopted_cb(struct tk_defer *d)
{
	struct fcirc *f = container_of(d, struct fcirc, adopted);
	if (!f->closed)
		f->ev(f->evarg, &f->oc, TK_OCIRC_EV_BUILT, NULL);
}
int
tk_ocirc_adopt(tk_ocirc *oc, const tk_circuit_hop_target *last,
	       const char *nick,
	       void (*ev)(void *arg, tk_ocirc *oc, int event, const char *why),
	       void *arg)
{
	struct fcirc *f = (struct fcirc *)oc;
	if (!f->built || f->closed || f->kind != 'P')
		return -1;
	f->kind = nick && strcmp(nick, "intro") == 0 ? 'I'
		  : ev == tk_hs_on_oc_event	     ? 'R'
						     : 'D';
	f->ev = ev;
	f->evarg = arg;
	if (!last) {
		n_adopt_plain++;
		f->adopted.fn = adopted_cb;
		tk_circmgr_defer(cm_of_test(), &f->adopted);
		return 0;
	}
	/* extending: open again once the test "builds" it */
	n_adopt_ext++;
	f->t = *last;
	f->oc.hop[3] = *last;
	f->oc.n_hops = 4;
	f->built = 0;
	f->oc.state = TK_OCIRC_BUILDING;
	return 0;
}
int
tk_circmgr_distinct_subnets(const tk_circmgr *cm)
{
	(void)cm;
	return 0;
}
const struct tk_nodes *
tk_circmgr_nodes(tk_circmgr *cm)
{
	return cm->nodes;
}
uv_loop_t *
tk_circmgr_loop(const tk_circmgr *cm)
{
	return cm->loop;
}
int
tk_circmgr_dying(const tk_circmgr *cm)
{
	(void)cm;
	return 0;
}
void
tk_circmgr_defer(tk_circmgr *cm, struct tk_defer *d)
{
	if (d->queued)
		return;
	d->queued = 1;
	d->next = cm->deferred;
	cm->deferred = d;
}
void
tk_circmgr_undefer(tk_circmgr *cm, struct tk_defer *d)
{
	for (struct tk_defer **pp = &cm->deferred; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			d->queued = 0;
			return;
		}
}
tk_circuit *
tk_ocirc_circuit(tk_ocirc *oc)
{
	struct fcirc *f = (struct fcirc *)oc;
	return f->built && !f->closed ? (tk_circuit *)f : NULL;
}
void
tk_ocirc_close(tk_ocirc *oc)
{
	((struct fcirc *)oc)->closed = 1;
	oc->closed = 1;
}
void
tk_ocirc_joined(tk_ocirc *oc, const struct tk_cc_params *cc)
{
	((struct fcirc *)oc)->joined_cc = cc != NULL;
}
uint32_t
tk_ocirc_serial(const tk_ocirc *oc)
{
	return oc->serial;
}
void
tk_circuit_set_control_cb(tk_circuit *c, tk_circuit_stream_cb cb, void *arg)
{
	struct fcirc *f = (struct fcirc *)c;
	f->ctl = cb;
	f->ctlarg = arg;
}
int
tk_circuit_send(tk_circuit *c, int hop, uint8_t cmd, uint16_t stream_id,
		const uint8_t *data, size_t len, int early)
{
	struct fcirc *f = (struct fcirc *)c;
	(void)hop, (void)stream_id, (void)early;
	f->cmd = cmd;
	memcpy(f->body, data, len);
	f->len = len;
	f->n_sent++;
	return 0;
}
int
tk_circuit_add_virtual_hop(tk_circuit *c,
			   const uint8_t keys[TK_RELAY_HS_KEYS_LEN],
			   const struct tk_cc_params *cc, unsigned sendme_inc)
{
	struct fcirc *f = (struct fcirc *)c;
	(void)keys;
	f->hop_cc = cc != NULL;
	f->hop_sendme_inc = sendme_inc;
	if (cc)
		f->hop_alpha = cc->cc_vegas_alpha_exit;
	return 0;
}
const char *
tk_circuit_strerror(int rc)
{
	(void)rc;
	return "test";
}
int
tk_dir_get(tk_circuit *c, const char *path, int deflate, unsigned stall_ms,
	   tk_dir_done_cb cb, void *arg, tk_dir_req **out)
{
	struct fcirc *f = (struct fcirc *)c;
	(void)path, (void)deflate, (void)stall_ms;
	f->has_req = 1;
	f->dir_cb = cb;
	f->dir_arg = arg;
	*out = (tk_dir_req *)f;
	return 0;
}
void
tk_dir_cancel(tk_dir_req *r)
{
	struct fcirc *f = (struct fcirc *)r;
	f->has_req = 0;
	f->req_cancelled = 1;
}

/* ---- the network and the service ------------------------------------ */

static struct tk_circmgr cm;
static struct tk_consensus *cons;
static tk_circmgr *
cm_of_test(void)
{
	return &cm;
}
static uv_loop_t loop;
static struct tk_hs_dirparams dp;
static struct tsvc_key id_key, sign_key;
static struct tsvc_intro ips[8]; /* point n is ips[n - 1] */
static struct tk_hs_keys svc_keys;
static char *desc_text;

static void
net_setup(void)
{
	char err[2048], *doc;
	size_t len, pos = 0;
	struct tk_microdesc md;
	const char *text;
	size_t textlen;
	int r;

	doc = nd_load("consensus-microdesc.txt", &len);
	tk_consensus_parse(doc, len, &cons, err, sizeof err);
	free(doc);
	tk_nodes_init(&nodes, cons);
	doc = nd_load("microdescs.txt", &len);
	tk_microdesc_init(&md);
	while ((r = tk_microdesc_next(doc, len, &pos, &md, &text, &textlen, err,
				      sizeof err)) != 0)
		if (r > 0) {
			uint8_t dg[32];
			tk_microdesc_digest(text, textlen, dg);
			tk_nodes_add_md(&nodes, &md, dg, err, sizeof err);
		}
	free(doc);
	tk_microdesc_free(&md);
	tk_hs_dirparams_init(&dp, cons, 1);
	uv_loop_init(&loop);
	cm.loop = &loop;
	cm.nodes = &nodes;
}

static const char *svc_flow_control; /* its FlowCtrl versions; NULL: no
				      * flow-control line */

/* The service's descriptor, revision rev, with n_ip introduction points
 * numbered from first: a restarted service has new ones. */
static void
svc_setup_at(uint8_t first, size_t n_ip, uint64_t rev)
{
	uint8_t seed[32];
	struct tsvc_buf b = { 0 };
	struct tsvc_desc d;
	uint32_t exp = (uint32_t)((cons->valid_after + 86400) / 3600);

	memset(seed, 0x5a, 32);
	tsvc_key_from_seed(seed, &id_key);
	memset(seed, 0x6b, 32);
	tsvc_key_from_seed(seed, &sign_key);
	tsvc_printf(&b, "create2-formats 2\n");
	if (svc_flow_control)
		tsvc_printf(&b, "flow-control %s 31\n", svc_flow_control);
	for (size_t i = first - 1u; i < first - 1u + n_ip; i++) {
		tsvc_intro_make((uint8_t)(i + 1), &ips[i]);
		tsvc_intro_text(&b, &ips[i], &sign_key, exp);
	}
	memset(&d, 0, sizeof d);
	d.identity = &id_key;
	d.period_num = dp.period_num;
	d.period_len = dp.period_len_min;
	d.signing = &sign_key;
	d.cert_exp_hours = exp;
	d.revision = rev;
	d.lifetime_min = 180;
	d.inner = b.p;
	free(desc_text);
	desc_text = tsvc_desc_build(&d, NULL, NULL);
	tsvc_buf_free(&b);
	tk_hs_keys_derive(id_key.pub, dp.period_num, dp.period_len_min,
			  &svc_keys);
}

static void
svc_setup(size_t n_ip)
{
	svc_setup_at(1, n_ip, 1);
}

/* ---- driving --------------------------------------------------------- */

static int answered, answer_reason;
static tk_ocirc *answer_oc;

static void
on_answer(struct tk_circreq *r, int reason, tk_ocirc *oc)
{
	(void)r;
	answered++;
	answer_reason = reason;
	answer_oc = oc;
}

static unsigned rend_timeout_ms; /* the next client's; 0: default */
static int cc_option = -1;	 /* the next client's congestion_control */

static tk_hs_client *
client_new(unsigned intro_timeout_ms)
{
	struct tk_hs_client_config cfg;
	char err[256];
	tk_hs_client_config_init(&cfg);
	cfg.testing = 1;
	cfg.scrub_hosts = 0;
	if (intro_timeout_ms)
		cfg.intro_timeout_ms = intro_timeout_ms;
	cfg.rend_timeout_ms = rend_timeout_ms;
	rend_timeout_ms = 0;
	cfg.congestion_control = cc_option;
	cc_option = -1;
	answered = answer_reason = 0;
	answer_oc = NULL;
	return tk_hs_client_new(&cm, &cfg, err, sizeof err);
}

static void
run_deferred(void)
{
	struct tk_defer *d;
	while ((d = cm.deferred) != NULL) {
		cm.deferred = d->next;
		d->queued = 0;
		d->fn(d);
	}
}

static void
client_free(tk_hs_client *hc)
{
	tk_hs_client_free(hc);
	uv_run(&loop, UV_RUN_NOWAIT); /* the tick's close */
	for (size_t i = 0; i < n_fc; i++)
		free(fc[i]);
	n_fc = 0;
	cm.deferred = NULL;
}

static size_t
count(char kind, int open_only)
{
	size_t n = 0;
	for (size_t i = 0; i < n_fc; i++)
		if (fc[i]->kind == kind && (!open_only || !fc[i]->closed))
			n++;
	return n;
}

/* The newest circuit of a kind that is not closed. */
static struct fcirc *
newest(char kind)
{
	for (size_t i = n_fc; i-- > 0;)
		if (fc[i]->kind == kind && !fc[i]->closed)
			return fc[i];
	return NULL;
}

static void
build(struct fcirc *f)
{
	f->built = 1;
	f->oc.state = TK_OCIRC_OPEN;
	f->ev(f->evarg, &f->oc, TK_OCIRC_EV_BUILT, NULL);
}

static void
fail_build(struct fcirc *f)
{
	f->closed = 1;
	f->ev(f->evarg, &f->oc, TK_OCIRC_EV_FAILED, "test");
}

/* An HSDir circuit's request answered: status, and body when 200. */
static void
dir_answer(struct fcirc *f, int http, const char *body)
{
	tk_http_response resp;
	memset(&resp, 0, sizeof resp);
	resp.status = http;
	resp.body = (uint8_t *)(body ? body : "");
	resp.body_len = body ? strlen(body) : 0;
	f->has_req = 0;
	f->dir_cb((tk_dir_req *)f, 0, &resp, f->dir_arg);
}

static void
cell(struct fcirc *f, uint8_t cmd, const uint8_t *body, size_t len)
{
	f->ctl(f->ctlarg, 0, 2, cmd, body, len);
}

static void
intro_ack(struct fcirc *f, uint16_t status)
{
	uint8_t b[3] = { (uint8_t)(status >> 8), (uint8_t)status, 0 };
	cell(f, TK_RELAY_INTRODUCE_ACK, b, sizeof b);
}

/* Which of the service's introduction points a circuit goes to: 1..n
 * (tsvc_intro_make puts point n at 127.0.0.n), 0 for none. */
static int
intro_index(const struct fcirc *f)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&f->t.addr;
	return (int)(ntohl(sin->sin_addr.s_addr) & 0xff);
}

/* Requests the service; answers the first HSDir circuits with what
 * serve(i) gives until the fetch is over. */
static int
request(tk_hs_client *hc, struct tk_circreq *r)
{
	memset(r, 0, sizeof *r);
	r->cb = on_answer;
	return tk_hs_client_request(hc, id_key.pub, r);
}

/* The fetch: HSDir circuits are built, their first `n_404` requests
 * answered 404, the next `n_old` with old_text, then the descriptor,
 * until the fetch is over (its circuits closed). */
static void
fetch_serve(size_t n_404, const char *old_text, size_t n_old)
{
	size_t answered_dirs = 0;
	struct fcirc *f;
	int progress = 1;
	while (progress && !answered) {
		progress = 0;
		for (size_t i = 0; i < n_fc; i++) {
			f = fc[i];
			if (f->kind != 'D' || f->closed)
				continue;
			if (!f->built) {
				build(f);
				progress = 1;
			} else if (f->has_req) {
				if (answered_dirs < n_404)
					dir_answer(f, 404, NULL);
				else if (answered_dirs < n_404 + n_old)
					dir_answer(f, 200, old_text);
				else
					dir_answer(f, 200, desc_text);
				answered_dirs++;
				progress = 1;
			}
		}
		run_deferred();
	}
}

static void
fetch(size_t n_404)
{
	fetch_serve(n_404, NULL, 0);
}

/* The service's answer to the INTRODUCE1 on f, as RENDEZVOUS2 on rend. */
static int
rendezvous2(struct fcirc *intro, struct fcirc *rend)
{
	const struct tsvc_intro *ip = &ips[intro_index(intro) - 1];
	uint8_t y[32], reply[64], seed[32], plain[512];
	tk_random(y, sizeof y);
	if (tsvc_ntor_server(intro->body, intro->len, ip->auth.pub, ip->enc_sk,
			     svc_keys.subcred, y, reply, seed, plain,
			     sizeof plain) < 0)
		return -1;
	cell(rend, TK_RELAY_RENDEZVOUS2, reply, sizeof reply);
	return 0;
}

/* The end of a join: INTRODUCE1 has gone on intro (when: `when`); the
 * service acknowledges it and answers on rend with RENDEZVOUS2; the
 * request is answered, joined on rend (`joined` says how). A TAP line a
 * step; 1 if all passed. */
static int
join_end(struct fcirc *intro, struct fcirc *rend, const char *when,
	 const char *joined)
{
	int ok = tap_ok(intro->cmd == TK_RELAY_INTRODUCE1, "INTRODUCE1 %s",
			when);
	intro_ack(intro, TK_HS_INTRO_ACK_SUCCESS);
	ok &= tap_ok(rendezvous2(intro, rend) == 0, "the service opens it");
	run_deferred();
	ok &= tap_ok(answered == 1 && answer_reason == 0 &&
			     answer_oc == &rend->oc,
		     "joined %s", joined);
	return ok;
}

/* ---- tests ------------------------------------------------------------ */

static void
test_join(void)
{
	tk_hs_client *hc = client_new(0);
	struct tk_circreq r;
	struct fcirc *rend, *intro, *intro2;
	size_t n_dirs;

	svc_setup(2);
	tap_ok(request(hc, &r) == 0, "a request for the service is taken");
	if (!tap_eq_long((long)count('D', 0), 3,
			 "three HSDirs are asked at once")) {
		client_free(hc);
		return;
	}
	/* One 404: its slot goes to a fourth HSDir; the next answer wins. */
	for (size_t i = 0; i < 3; i++)
		build(fc[i]);
	dir_answer(fc[0], 404, NULL);
	tap_eq_long((long)count('D', 0), 4,
		    "a 404 frees its slot for the next HSDir");
	dir_answer(fc[1], 200, desc_text);
	n_dirs = count('D', 0);
	tap_ok(count('D', 1) == 0 && !fc[2]->has_req && fc[2]->req_cancelled,
	       "the first valid descriptor wins: the other requests are "
	       "cancelled and their circuits closed");
	tap_ok(count('R', 0) == 1 && count('I', 0) == 1,
	       "the rendezvous and introduction circuits are launched "
	       "together");
	rend = newest('R');
	intro = newest('I');
	build(intro);
	tap_eq_long(intro->n_sent, 0,
		    "INTRODUCE1 waits for the rendezvous point");
	build(rend);
	tap_ok(rend->cmd == TK_RELAY_ESTABLISH_RENDEZVOUS,
	       "ESTABLISH_RENDEZVOUS on the rendezvous circuit");
	cell(rend, TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
	tap_ok(intro->n_sent == 1 && intro->cmd == TK_RELAY_INTRODUCE1,
	       "RENDEZVOUS_ESTABLISHED: INTRODUCE1 goes at once");
	/* The first introduction point refuses: tor tries another. */
	intro_ack(intro, TK_HS_INTRO_ACK_UNKNOWN_ID);
	intro2 = newest('I');
	tap_ok(intro->closed && intro2 && intro2 != intro &&
		       intro_index(intro2) != intro_index(intro) &&
		       !rend->closed,
	       "a refusing INTRODUCE_ACK: the next introduction point, the "
	       "rendezvous circuit kept");
	if (!intro2 || intro2 == intro) {
		client_free(hc);
		return;
	}
	build(intro2);
	join_end(intro2, rend, "through the second introduction point",
		 "on the rendezvous circuit");
	tap_eq_long((long)count('D', 0), (long)n_dirs,
		    "no HSDir asked after the descriptor came");
	client_free(hc);
}

static size_t failure_n_intro; /* introduction circuits it built */
static size_t failure_n_rend;  /* rendezvous circuits */

/* Runs a failure to its answer; returns the reason. */
static int
failure(const char *what, size_t n_ip)
{
	tk_hs_client *hc = client_new(0);
	struct tk_circreq r;
	struct fcirc *rend, *intro;
	int reason;
	svc_setup(n_ip ? n_ip : 2);
	request(hc, &r);
	if (strcmp(what, "bad desc") == 0) {
		/* every HSDir serves something that does not verify */
		for (int k = 0; k < 20 && !answered; k++) {
			for (size_t i = 0; i < n_fc; i++) {
				if (fc[i]->closed)
					continue;
				if (!fc[i]->built)
					build(fc[i]);
				else if (fc[i]->has_req)
					dir_answer(fc[i], 200,
						   "hs-descriptor 3\n");
			}
			run_deferred();
		}
		goto out;
	}
	if (strcmp(what, "not found") == 0) {
		fetch(1000);
		run_deferred();
		goto out;
	}
	fetch(0);
	rend = newest('R');
	build(rend);
	if (strcmp(what, "rend circuit") == 0) {
		/* each failure: another rendezvous point, three at most */
		for (int k = 0; k < 10 && !answered && rend; k++) {
			fail_build(rend);
			run_deferred();
			rend = newest('R');
		}
		failure_n_rend = count('R', 0);
		goto out;
	}
	cell(rend, TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
	for (int k = 0; k < 10 && !answered; k++) {
		intro = newest('I');
		if (!intro && count('D', 1) > 0) {
			fetch(0); /* the refetch: the same descriptor */
			run_deferred();
			continue;
		}
		if (!intro)
			break;
		build(intro);
		if (strcmp(what, "refused") == 0) {
			intro_ack(intro, TK_HS_INTRO_ACK_CANT_RELAY);
		} else if (strcmp(what, "bad rendezvous2") == 0) {
			uint8_t junk[64];
			intro_ack(intro, TK_HS_INTRO_ACK_SUCCESS);
			memset(junk, 7, sizeof junk);
			cell(rend, TK_RELAY_RENDEZVOUS2, junk, sizeof junk);
		} else if (strcmp(what, "intro build") == 0) {
			intro->built = 0;
			fail_build(intro);
		}
		run_deferred();
	}
out:
	reason = answered == 1 ? answer_reason : -1;
	failure_n_intro = count('I', 0);
	client_free(hc);
	return reason;
}

static void
test_failures(void)
{
	tap_eq_long(failure("not found", 0) - TK_ONION_HS_NOT_FOUND, 0,
		    "every HSDir answers 404: F0");
	tap_eq_long(failure("bad desc", 0) - TK_ONION_HS_NOT_FOUND, 1,
		    "every HSDir serves an invalid descriptor: F1");
	tap_eq_long(failure("refused", 3) - TK_ONION_HS_NOT_FOUND, 2,
		    "all three introduction points refuse: F2");
	tap_eq_long((long)failure_n_intro, 3,
		    "each tried once: the refetched descriptor lists the "
		    "same three");
	tap_eq_long(failure("intro build", 2) - TK_ONION_HS_NOT_FOUND, 2,
		    "no introduction circuit can be built: F2");
	tap_eq_long(failure("rend circuit", 2) - TK_ONION_HS_NOT_FOUND, 3,
		    "every rendezvous circuit fails: F3");
	tap_eq_long((long)failure_n_rend, 3, "after three rendezvous circuits");
	tap_eq_long(failure("bad rendezvous2", 2) - TK_ONION_HS_NOT_FOUND, 3,
		    "a RENDEZVOUS2 that does not verify: F3");
}

static void
stop_loop(uv_timer_t *t)
{
	uv_stop(t->loop);
}

/* Introduction points that take INTRODUCE1 and never answer: after
 * intro_timeout each, the next; none left: F7. The client's tick runs
 * every 500 ms: the loop runs in steps of 600 ms, at most 20 of them. */
static void
test_intro_timeout(void)
{
	tk_hs_client *hc = client_new(1);
	struct tk_circreq r;
	struct fcirc *rend, *intro;
	uv_timer_t t;
	size_t n_intro = 0;

	svc_setup(2);
	request(hc, &r);
	fetch(0);
	rend = newest('R');
	build(rend);
	cell(rend, TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
	uv_timer_init(&loop, &t);
	for (int k = 0; k < 20 && !answered; k++) {
		if ((intro = newest('I')) != NULL && !intro->built) {
			build(intro);
			n_intro++;
		}
		if (count('D', 1) > 0) {
			fetch(0); /* the refetch: the same descriptor */
		}
		uv_timer_start(&t, stop_loop, 600, 0);
		uv_run(&loop, UV_RUN_DEFAULT);
		run_deferred();
	}
	uv_close((uv_handle_t *)&t, NULL);
	tap_ok(answered == 1 && answer_reason == TK_ONION_HS_INTRO_TIMEOUT &&
		       n_intro == 2,
	       "both introduction points time out, one after the other: F7 "
	       "(reason %d after %zu points)",
	       answer_reason - TK_ONION_HS_NOT_FOUND, n_intro);
	client_free(hc);
}

/* Joins a service whose descriptor says flow-control flowctl (NULL: no
 * line) with CongestionControl opt: whether INTRODUCE1 asked for
 * congestion control (its CC_REQUEST extension), and *joined_cc whether
 * the virtual hop then does Vegas with the onion parameters, SENDMEs
 * every 31 cells, and the streams XON/XOFF. */
static int
cc_join(const char *flowctl, int opt, int *joined_cc)
{
	tk_hs_client *hc;
	struct tk_circreq r;
	struct fcirc *rend, *intro;
	const struct tsvc_intro *ip;
	uint8_t y[32], reply[64], seed[32], plain[512];
	long n;
	int asked = -1;

	cc_option = opt;
	hc = client_new(0);
	svc_flow_control = flowctl;
	svc_setup(1);
	svc_flow_control = NULL;
	request(hc, &r);
	fetch(0);
	rend = newest('R');
	intro = newest('I');
	build(rend);
	cell(rend, TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
	build(intro);
	*joined_cc = -1;
	ip = &ips[intro_index(intro) - 1];
	tk_random(y, sizeof y);
	n = tsvc_ntor_server(intro->body, intro->len, ip->auth.pub, ip->enc_sk,
			     svc_keys.subcred, y, reply, seed, plain,
			     sizeof plain);
	/* COOKIE, N_EXTENSIONS, then its extensions */
	if (n > 21)
		asked = plain[20] == 1 &&
			plain[21] == TK_HS_INTRO_EXT_CC_REQUEST;
	intro_ack(intro, TK_HS_INTRO_ACK_SUCCESS);
	cell(rend, TK_RELAY_RENDEZVOUS2, reply, sizeof reply);
	run_deferred();
	if (answered == 1 && answer_reason == 0)
		*joined_cc = rend->hop_cc && rend->joined_cc &&
			     rend->hop_sendme_inc == 31 &&
			     rend->hop_alpha == 3 * 62;
	client_free(hc);
	return asked;
}

static void
test_cc(void)
{
	int joined_cc;
	tap_eq_long(cc_join("1-2", 1, &joined_cc), 1,
		    "the descriptor offers FlowCtrl=2: INTRODUCE1 asks for "
		    "congestion control");
	tap_eq_long(joined_cc, 1,
		    "the joined circuit's last hop: Vegas with the onion "
		    "parameters, the descriptor's SENDME increment, XON/XOFF "
		    "streams");
	tap_eq_long(cc_join("1", 1, &joined_cc), 0,
		    "FlowCtrl=1 only: no request");
	tap_eq_long(joined_cc, 0, "and fixed windows");
	tap_eq_long(cc_join(NULL, 1, &joined_cc), 0,
		    "no flow-control line: no request");
	tap_eq_long(cc_join("1-2", 0, &joined_cc), 0,
		    "CongestionControl 0: no request");
	tap_eq_long(joined_cc, 0, "and fixed windows");
	tap_eq_long(cc_join("1-2", -1, &joined_cc), 0,
		    "the consensus says no cc_alg: no request");
}

/* A rendezvous point that never answers ESTABLISH_RENDEZVOUS: after
 * rend_timeout another one, as tor builds a new rendezvous circuit; the
 * introduction circuit waits for it. */
static void
test_rend_retry(void)
{
	tk_hs_client *hc;
	struct tk_circreq r;
	struct fcirc *rend, *rend2 = NULL, *intro;
	uv_timer_t t;

	rend_timeout_ms = 1;
	hc = client_new(0);
	svc_setup(2);
	request(hc, &r);
	fetch(0);
	rend = newest('R');
	intro = newest('I');
	build(rend);
	build(intro);
	uv_timer_init(&loop, &t);
	for (int k = 0; k < 10 && !answered && !rend2; k++) {
		uv_timer_start(&t, stop_loop, 600, 0);
		uv_run(&loop, UV_RUN_DEFAULT);
		run_deferred();
		if (newest('R') != rend)
			rend2 = newest('R');
	}
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	tap_ok(rend2 && rend->closed && answered == 0 && !intro->closed &&
		       intro->n_sent == 0,
	       "no RENDEZVOUS_ESTABLISHED in time: another rendezvous "
	       "circuit, the introduction circuit waiting (answered %d)",
	       answered);
	if (!rend2) {
		client_free(hc);
		return;
	}
	build(rend2);
	cell(rend2, TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
	join_end(intro, rend2, "once the second point answered",
		 "on the second rendezvous circuit");
	client_free(hc);
}

/* A request while the descriptor of introduction points 1 and 2 is
 * cached, which both fail; the HSDirs then serve the same descriptor, or
 * (restarted) one with points 3 and 4. */
static void
refetch_attempt(tk_hs_client *hc, int restarted)
{
	struct tk_circreq r;
	struct fcirc *rend, *intro;
	size_t n_dirs = count('D', 0), n_rend = count('R', 0), n_intro = 0;
	char *old_text = NULL;
	int refused_old = 1;

	answered = 0;
	request(hc, &r);
	tap_ok(count('D', 0) == n_dirs && count('R', 1) == 1,
	       "the descriptor is cached: no HSDir asked, the rendezvous "
	       "circuit launched");
	rend = newest('R');
	build(rend);
	cell(rend, TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
	if (restarted) {
		old_text = strdup(desc_text);
		svc_setup_at(3, 2, 2); /* new introduction points 3 and 4 */
	}
	/* Points 1 and 2 are gone: one refuses, one cannot be reached. */
	for (int k = 0; k < 2 && (intro = newest('I')) != NULL; k++) {
		refused_old &= intro_index(intro) <= 2;
		n_intro++;
		if (k == 0) {
			build(intro);
			intro_ack(intro, TK_HS_INTRO_ACK_UNKNOWN_ID);
		} else {
			fail_build(intro);
		}
		run_deferred();
	}
	tap_ok(refused_old && n_intro == 2 && answered == 0 &&
		       count('D', 1) > 0 && !rend->closed,
	       "every introduction point of the cached descriptor failed: "
	       "the descriptor is fetched again, the rendezvous circuit "
	       "waits (answered %d)",
	       answered);
	n_dirs = count('D', 0);
	/* an HSDir the service did not reach again serves the old one: it
	 * is set aside, the next HSDir asked */
	fetch_serve(0, old_text, 1);
	free(old_text);
	run_deferred();
	intro = newest('I');
	if (!restarted) {
		tap_ok(answered == 1 &&
			       answer_reason == TK_ONION_HS_INTRO_FAILED &&
			       count('D', 0) > n_dirs && !intro,
		       "every HSDir has the same descriptor: it is used after "
		       "all of them were asked, F2 at once, no point tried "
		       "twice (answered %d reason %d, %zu HSDirs)",
		       answered, answer_reason - TK_ONION_HS_NOT_FOUND,
		       count('D', 0) - n_dirs);
		return;
	}
	if (!tap_ok(intro && intro_index(intro) >= 3 &&
			    count('R', 0) == n_rend + 1 && !rend->closed,
		    "the new descriptor from the next HSDir: its introduction "
		    "points, the same rendezvous circuit")) {
		return;
	}
	build(intro);
	join_end(intro, rend, "at once: the rendezvous point was ready",
		 "through the new descriptor, without a restart");
}

/* A service whose tor restarted has new introduction points, while the
 * client holds its old descriptor (tor drops a descriptor whose points
 * all failed and fetches it again: hs_client_refetch_hsdesc). Once per
 * attempt: the same descriptor again gives F2. */
static void
test_refetch(void)
{
	tk_hs_client *hc = client_new(0);
	struct tk_circreq r;
	struct fcirc *rend, *intro;

	svc_setup(2);
	request(hc, &r);
	fetch(0);
	rend = newest('R');
	intro = newest('I');
	build(rend);
	cell(rend, TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
	build(intro);
	join_end(intro, rend, "on the first contact", "on the first contact");
	/* The service goes away: the joined circuit dies. */
	rend->closed = 1;
	rend->ev(rend->evarg, &rend->oc, TK_OCIRC_EV_LOST, "test");
	refetch_attempt(hc, 0);
	refetch_attempt(hc, 1);
	client_free(hc);
}

/* Runs the loop (the client's 500 ms tick) until pred() or 20 steps of
 * 600 ms. */
static void
run_until(int (*pred)(void))
{
	uv_timer_t t;
	uv_timer_init(&loop, &t);
	for (int k = 0; k < 20 && !pred(); k++) {
		uv_timer_start(&t, stop_loop, 600, 0);
		uv_run(&loop, UV_RUN_DEFAULT);
		run_deferred();
	}
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
}

static struct fcirc *silent_rend; /* the rendezvous circuit that waits */

static int
rend_replaced(void)
{
	return answered || newest('R') != silent_rend || count('D', 1) > 0;
}

/* tornet's interop failure (CI, and reproduced): the service's tor was
 * killed and started again with new introduction points; the client
 * holds the old descriptor (points 1 and 2). Point 1 refuses (it has
 * seen its circuit's DESTROY), but point 2's relay has not yet (tor
 * relays may hold a DESTROY a long time): it takes INTRODUCE1, acks it,
 * and the INTRODUCE2 goes nowhere, so no RENDEZVOUS2 ever comes. As tor
 * (which times out the acked rendezvous circuit, notes the point as
 * timed out and introduces again), the client gives up on that point
 * and that rendezvous circuit, not on the service: a new rendezvous
 * circuit, and with no point of the old descriptor left the descriptor
 * is fetched again; the restarted service's point 3 joins. */
static void
test_stale_intro_ack(void)
{
	tk_hs_client *hc = client_new(1);
	struct tk_circreq r;
	struct fcirc *rend, *rend2, *intro;
	char *old_text;

	svc_setup(2);
	request(hc, &r);
	fetch(0);
	rend = newest('R');
	intro = newest('I');
	build(rend);
	cell(rend, TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
	build(intro);
	intro_ack(intro, TK_HS_INTRO_ACK_SUCCESS);
	rendezvous2(intro, rend);
	run_deferred();
	tap_ok(answered == 1 && answer_reason == 0, "stale ack: first contact");
	/* The service's tor is killed: the joined circuit dies; it comes
	 * back with points 3 and 4 and a new descriptor. */
	rend->closed = 1;
	rend->ev(rend->evarg, &rend->oc, TK_OCIRC_EV_LOST, "test");
	old_text = strdup(desc_text);
	svc_setup_at(3, 2, 2);
	answered = 0;
	request(hc, &r);
	rend = newest('R');
	build(rend);
	cell(rend, TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
	intro = newest('I');
	build(intro);
	intro_ack(intro, TK_HS_INTRO_ACK_UNKNOWN_ID); /* point 1 */
	intro = newest('I');
	build(intro);
	tap_ok(intro && intro_index(intro) == 2 &&
		       intro->cmd == TK_RELAY_INTRODUCE1,
	       "stale ack: point 1 refused, INTRODUCE1 through point 2");
	intro_ack(intro, TK_HS_INTRO_ACK_SUCCESS); /* a stale circuit */
	silent_rend = rend;
	run_until(rend_replaced);
	rend2 = newest('R');
	tap_ok(answered == 0 && rend->closed && rend2 && rend2 != rend &&
		       count('D', 1) > 0,
	       "stale ack: no RENDEZVOUS2 in time: that rendezvous circuit "
	       "closed, a new one, the descriptor fetched again (answered "
	       "%d reason %d)",
	       answered, answer_reason - TK_ONION_HS_NOT_FOUND);
	if (answered || !rend2 || rend2 == rend) {
		free(old_text);
		client_free(hc);
		return;
	}
	/* an HSDir the service did not reach again serves the old one */
	fetch_serve(0, old_text, 1);
	free(old_text);
	run_deferred();
	build(rend2);
	tap_ok(rend2->cmd == TK_RELAY_ESTABLISH_RENDEZVOUS,
	       "stale ack: a fresh cookie on the new rendezvous circuit");
	cell(rend2, TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
	intro = newest('I');
	if (!tap_ok(intro && intro_index(intro) >= 3 && count('R', 1) == 1,
		    "stale ack: the new descriptor's point, one rendezvous "
		    "circuit")) {
		client_free(hc);
		return;
	}
	build(intro);
	intro_ack(intro, TK_HS_INTRO_ACK_SUCCESS);
	tap_ok(rendezvous2(intro, rend2) == 0,
	       "stale ack: the service answers");
	run_deferred();
	tap_ok(answered == 1 && answer_reason == 0 && answer_oc == &rend2->oc,
	       "stale ack: joined through the new descriptor");
	client_free(hc);
}

/* Moves the network by `periods` time periods (the consensus's times,
 * the voting interval kept) and recomputes dp. */
static void
net_shift(long periods)
{
	int64_t d = periods * (int64_t)dp.period_len_min * 60;
	cons->valid_after += d;
	cons->fresh_until += d;
	cons->valid_until += d;
	tk_hs_dirparams_init(&dp, cons, 1);
}

/* A time period ends while the client tries the cached descriptor's
 * points: the refetch is of the new period's descriptor, another blinded
 * key, whose revision counter has nothing to do with the old one's
 * (tor's counter counts seconds from the start of an SRV run, and the
 * new period's is the younger one: a lower number). It is not "the
 * descriptor we had": the first HSDir's answer wins, no HSDir is asked
 * after it. */
static void
test_refetch_new_period(void)
{
	tk_hs_client *hc = client_new(0);
	struct tk_circreq r;
	struct fcirc *rend, *intro;
	size_t n_dirs;
	uint64_t p0 = dp.period_num;

	svc_setup_at(1, 2, 1000);
	request(hc, &r);
	fetch(0);
	rend = newest('R');
	intro = newest('I');
	build(rend);
	cell(rend, TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
	build(intro);
	intro_ack(intro, TK_HS_INTRO_ACK_SUCCESS);
	rendezvous2(intro, rend);
	run_deferred();
	tap_ok(answered == 1 && answer_reason == 0,
	       "new period: first contact");
	rend->closed = 1;
	rend->ev(rend->evarg, &rend->oc, TK_OCIRC_EV_LOST, "test");
	answered = 0;
	request(hc, &r);
	rend = newest('R');
	build(rend);
	cell(rend, TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
	intro = newest('I');
	build(intro);
	intro_ack(intro, TK_HS_INTRO_ACK_UNKNOWN_ID); /* point 1 */
	/* the next period begins; the service's descriptor for it: points
	 * 3 and 4, revision 5 */
	net_shift(1);
	svc_setup_at(3, 2, 5);
	intro = newest('I');
	build(intro);
	intro_ack(intro, TK_HS_INTRO_ACK_UNKNOWN_ID); /* point 2 */
	n_dirs = count('D', 0);
	tap_ok(dp.period_num == p0 + 1 && count('D', 1) == 3 && !answered,
	       "new period: every point failed, the new period's descriptor "
	       "fetched");
	fetch(0);
	run_deferred();
	tap_eq_long((long)(count('D', 0) - n_dirs), 0,
		    "new period: its revision 5 is not the old period's 1000: "
		    "the first answer wins, no HSDir asked after the first "
		    "three");
	intro = newest('I');
	tap_ok(intro && intro_index(intro) == 3,
	       "new period: its introduction point");
	net_shift(-1);
	client_free(hc);
}

static int
answered_p(void)
{
	return answered;
}

/* The bound of the above: points that all ack and never answer. Each is
 * tried once, with a rendezvous circuit of its own; the refetched
 * descriptor has the same points: F3 (the service never reached our
 * rendezvous point), after n_ip + 1 rendezvous circuits (the last one
 * built while the descriptor was fetched again). */
static void
test_silent_service(void)
{
	tk_hs_client *hc = client_new(1);
	struct tk_circreq r;
	struct fcirc *f;
	size_t n_intro = 0;

	svc_setup(3);
	request(hc, &r);
	fetch(0);
	for (int k = 0; k < 40 && !answered; k++) {
		if (count('D', 1) > 0)
			fetch(0); /* the refetch: the same descriptor */
		if ((f = newest('R')) != NULL && !f->built) {
			build(f);
			cell(f, TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
		}
		if ((f = newest('I')) != NULL && !f->built) {
			build(f);
			n_intro++;
			intro_ack(f, TK_HS_INTRO_ACK_SUCCESS);
		}
		run_until(answered_p);
	}
	tap_ok(answered == 1 && answer_reason == TK_ONION_HS_REND_FAILED &&
		       n_intro == 3 && count('R', 0) == 4,
	       "silent service: each point once, a rendezvous circuit each "
	       "and one beside the refetch, then F3 (reason %d, %zu points, "
	       "%zu rendezvous circuits)",
	       answer_reason - TK_ONION_HS_NOT_FOUND, n_intro, count('R', 0));
	client_free(hc);
}

/* TK_HS_CLIENT_MAX_SERVICES services in progress at once; one more is
 * refused (the stream layer answers it F0) until one is done. */
static void
test_bound(void)
{
	tk_hs_client *hc = client_new(0);
	static struct tk_circreq r[TK_HS_CLIENT_MAX_SERVICES + 2];
	static struct tsvc_key k[TK_HS_CLIENT_MAX_SERVICES + 2];
	uint8_t seed[32];
	int ok = 1;

	for (size_t i = 0; i < TK_HS_CLIENT_MAX_SERVICES + 2; i++) {
		memset(seed, (int)i + 1, 32);
		tsvc_key_from_seed(seed, &k[i]);
		memset(&r[i], 0, sizeof r[i]);
		r[i].cb = on_answer;
	}
	for (size_t i = 0; i < TK_HS_CLIENT_MAX_SERVICES; i++)
		ok &= tk_hs_client_request(hc, k[i].pub, &r[i]) == 0;
	tap_ok(ok && answered == 0, "%d services at once are taken",
	       TK_HS_CLIENT_MAX_SERVICES);
	tap_eq_long(tk_hs_client_request(hc, k[TK_HS_CLIENT_MAX_SERVICES].pub,
					 &r[TK_HS_CLIENT_MAX_SERVICES]),
		    -1, "one more service is refused");
	tap_eq_long(tk_hs_client_request(hc, k[0].pub,
					 &r[TK_HS_CLIENT_MAX_SERVICES + 1]),
		    0, "another request for a service in progress shares it");
	/* The first service's HSDir circuits all fail (its fetch slots are
	 * the owners of the first three circuits): it ends F0 and is
	 * freed, and a new service fits. */
	void *slot[3] = { fc[0]->evarg, fc[1]->evarg, fc[2]->evarg };
	for (int n = 0; n < 20 && !answered; n++) {
		for (size_t i = 0; i < n_fc; i++)
			if (!fc[i]->closed && (fc[i]->evarg == slot[0] ||
					       fc[i]->evarg == slot[1] ||
					       fc[i]->evarg == slot[2]))
				fail_build(fc[i]);
		run_deferred();
	}
	tap_ok(answered == 2 && answer_reason == TK_ONION_HS_NOT_FOUND,
	       "its HSDirs all failed: both its requests answered F0");
	tap_eq_long(tk_hs_client_request(hc, k[TK_HS_CLIENT_MAX_SERVICES].pub,
					 &r[TK_HS_CLIENT_MAX_SERVICES]),
		    0, "then the refused service is taken");
	client_free(hc);
}

/* With the pool of clean internal circuits (circ_pool.c, real here over
 * the fake manager): once a service was asked for and the pool is
 * built, a request costs one EXTEND2 for the first HSDir, one for the
 * introduction circuit and none for the rendezvous circuit, whose last
 * hop is the point; and the cells of the 4-hop introduction circuit
 * count only from its fourth hop, the point. */
static void
test_pool(void)
{
	struct tk_hs_client_config cfg;
	tk_hs_client *hc;
	struct tk_circreq r;
	struct fcirc *rend, *intro;
	uint8_t ack[3] = { 0, 2, 0 }; /* status 2: refused */
	char err[256];

	tk_hs_client_config_init(&cfg);
	cfg.testing = 1;
	cfg.scrub_hosts = 0;
	cfg.internal_circs = 3;
	answered = answer_reason = 0;
	answer_oc = NULL;
	n_adopt_ext = n_adopt_plain = 0;
	hc = tk_hs_client_new(&cm, &cfg, err, sizeof err);
	svc_setup(2);
	if (!tap_ok(hc && hc->pool && count('P', 0) == 0,
		    "pool: no internal circuit before an onion service is "
		    "asked for")) {
		if (hc)
			client_free(hc);
		return;
	}
	/* a service was asked for a while ago: the pool is built */
	tk_circ_pool_note_use(hc->pool);
	for (size_t i = 0; i < n_fc; i++)
		if (fc[i]->kind == 'P')
			build(fc[i]);
	tap_eq_long((long)count('P', 0), 3,
		    "pool: three internal circuits once one was asked for");
	request(hc, &r);
	tap_ok(n_adopt_ext == 1 && count('D', 0) == 3 && count('P', 1) == 3,
	       "pool: the first HSDir gets an internal circuit extended to "
	       "it, two more are built, and the pool is refilled");
	fetch(0);
	rend = newest('R');
	intro = newest('I');
	tap_ok(rend && intro && count('R', 0) == 1 && count('I', 0) == 1 &&
		       n_adopt_plain == 1 && n_adopt_ext == 2 &&
		       intro->oc.n_hops == 4 && rend->oc.n_hops == 3,
	       "pool: the rendezvous circuit is an internal one as it is, "
	       "the introduction circuit one extended to the point: no "
	       "circuit built for either");
	if (!rend || !intro) {
		client_free(hc);
		return;
	}
	run_deferred(); /* the rendezvous circuit's BUILT */
	tap_ok(rend->cmd == TK_RELAY_ESTABLISH_RENDEZVOUS &&
		       memcmp(&rend->t, &rend->oc.hop[2], sizeof rend->t) == 0,
	       "pool: ESTABLISH_RENDEZVOUS to the circuit's last hop");
	cell(rend, TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
	build(intro); /* the EXTEND2 answered */
	tap_ok(intro->cmd == TK_RELAY_INTRODUCE1,
	       "pool: INTRODUCE1 once the point is reached");
	intro->ctl(intro->ctlarg, 0, 2, TK_RELAY_INTRODUCE_ACK, ack,
		   sizeof ack);
	tap_ok(!intro->closed && count('I', 0) == 1,
	       "pool: an INTRODUCE_ACK from the hop before the point is "
	       "ignored");
	ack[1] = 0; /* success */
	intro->ctl(intro->ctlarg, 0, 3, TK_RELAY_INTRODUCE_ACK, ack,
		   sizeof ack);
	tap_ok(intro->closed, "pool: the point's INTRODUCE_ACK is heard");
	rendezvous2(intro, rend);
	run_deferred();
	tap_ok(answered == 1 && answer_reason == 0 && answer_oc == &rend->oc,
	       "pool: joined on the circuit taken from the pool");
	client_free(hc);
}

int
main(void)
{
	if (tk_crypto_init() < 0)
		return 1;
	net_setup();
	test_join();
	test_failures();
	test_intro_timeout();
	test_refetch();
	test_stale_intro_ack();
	test_silent_service();
	test_refetch_new_period();
	test_rend_retry();
	test_cc();
	test_bound();
	test_pool();
	free(desc_text);
	tk_nodes_free(&nodes);
	tk_consensus_free(cons);
	uv_loop_close(&loop);
	return tap_done();
}
