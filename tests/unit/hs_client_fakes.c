/* hs_client_fakes.h: the circuit manager, circuits and directory
 * requests the onion-service client's tests script, tornet's sample
 * consensus as the network, hs_testsvc.c as the service, and the steps
 * the tests drive them with. */
#include "../unit/hs_client_fakes.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/netdoc_testutil.h"
#include "common/util.h"
#include "onion/base/crypto.h"
#include "onion/client/hop.h"
#include "onion/client/hs_client_int.h"
#include "onion/client/hs_fetch.h"
#include "onion/hs/hs_cell.h"
#include "onion/netdoc/microdesc.h"

/* ---- fakes ------------------------------------------------------------ */

struct fcirc *fc[MAX_FC];
size_t n_fc;
/* tk_ocirc_adopt: pool circuits handed over with a hop to add (one
 * EXTEND2 each, in circmgr.c) and as they are */
int n_adopt_ext, n_adopt_plain;
struct tk_nodes nodes;

/* A pool circuit's last hop: the relays in turn, but none of the
 * service's HSDirs while another relay is left. The fetch picks its
 * first HSDir at random, and a pool circuit ending at that relay does not
 * fit it (tk_path_conflict): the fetch then took the next pool circuit,
 * one a test meant for the introduction, in 1 run of 6. */
static size_t
pool_last_hop(size_t n)
{
	uint8_t hs[TK_HS_FETCH_MAX_HSDIRS][20];
	size_t n_hs = tk_hs_fetch_hsdirs(&nodes, &dp, svc_keys.blinded, hs);
	size_t k = n % nodes.n, first = SIZE_MAX;

	for (size_t tries = 0; tries < nodes.n; tries++, k = (k + 1) % nodes.n) {
		int hsdir = 0;
		if (!nodes.node[k].md)
			continue;
		if (first == SIZE_MAX)
			first = k;
		for (size_t i = 0; i < n_hs; i++)
			if (memcmp(hs[i], nodes.node[k].rt->rsa_id, 20) == 0)
				hsdir = 1;
		if (!hsdir)
			return k;
	}
	return first;
}

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
	/* hops built: none yet; once built, the chosen hop is the third */
	f->oc.n_hops = 0;
	/* the rendezvous circuits are the service's own; the HSDir
	 * circuits the fetch's; the pool's have no chosen last hop */
	f->kind = !last			       ? 'P'
		  : strcmp(nick, "intro") == 0 ? 'I'
		  : ev == tk_hs_on_oc_event    ? 'R'
					       : 'D';
	if (last) {
		f->t = *last;
	} else {
		tk_hop_from_node(&nodes.node[pool_last_hop(n_fc)], &f->t);
	}
	f->oc.hop[2] = f->t;
	f->oc.private_use = 1;
	f->ev = ev;
	f->evarg = arg;
	f->oc.owner_ev = ev;
	f->oc.owner_arg = arg;
	fc[n_fc++] = f;
	*out = &f->oc;
	return 0;
}
static void
adopted_cb(struct tk_defer *d)
{
	struct fcirc *f = container_of(d, struct fcirc, adopted);
	if (!f->closed && f->oc.owner_ev)
		f->oc.owner_ev(f->oc.owner_arg, &f->oc, TK_OCIRC_EV_BUILT,
			       NULL);
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
	f->oc.owner_ev = ev;
	f->oc.owner_arg = arg;
	if (!last) {
		n_adopt_plain++;
		f->adopted.fn = adopted_cb;
		tk_circmgr_defer(&the_cm, &f->adopted);
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
	oc->owner_ev = NULL;
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

struct tk_circmgr the_cm;
struct tk_consensus *cons;
uv_loop_t loop;
struct tk_hs_dirparams dp;
struct tsvc_key id_key, sign_key;
struct tsvc_intro ips[8]; /* point n is ips[n - 1] */
struct tk_hs_keys svc_keys;
char *desc_text;

void
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
	the_cm.loop = &loop;
	the_cm.nodes = &nodes;
}

const char *svc_flow_control; /* its FlowCtrl versions; NULL: no
			       * flow-control line */

/* The service's descriptor, revision rev, with n_ip introduction points
 * numbered from first: a restarted service has new ones. */
void
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

void
svc_setup(size_t n_ip)
{
	svc_setup_at(1, n_ip, 1);
}

/* ---- driving --------------------------------------------------------- */

int answered, answer_reason;
tk_ocirc *answer_oc;

void
on_answer(struct tk_circreq *r, int reason, tk_ocirc *oc)
{
	(void)r;
	answered++;
	answer_reason = reason;
	answer_oc = oc;
}

unsigned rend_timeout_ms; /* the next client's; 0: default */
int cc_option = -1;	  /* the next client's congestion_control */

tk_hs_client *
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
	return tk_hs_client_new(&the_cm, &cfg, err, sizeof err);
}

void
run_deferred(void)
{
	struct tk_defer *d;
	while ((d = the_cm.deferred) != NULL) {
		the_cm.deferred = d->next;
		d->queued = 0;
		d->fn(d);
	}
}

void
client_free(tk_hs_client *hc)
{
	tk_hs_client_free(hc);
	uv_run(&loop, UV_RUN_NOWAIT); /* the tick's close */
	for (size_t i = 0; i < n_fc; i++)
		free(fc[i]);
	n_fc = 0;
	the_cm.deferred = NULL;
}

size_t
count(char kind, int open_only)
{
	size_t n = 0;
	for (size_t i = 0; i < n_fc; i++)
		if (fc[i]->kind == kind && (!open_only || !fc[i]->closed))
			n++;
	return n;
}

/* The newest circuit of a kind that is not closed. */
struct fcirc *
newest(char kind)
{
	for (size_t i = n_fc; i-- > 0;)
		if (fc[i]->kind == kind && !fc[i]->closed)
			return fc[i];
	return NULL;
}

/* The circuit's owner hears ev, as the manager's owner_event() tells
 * it: whoever oc->owner_ev names now (the pool hands circuits over by
 * setting it); after anything but BUILT, no one. */
static void
owner_event(struct fcirc *f, int ev, const char *why)
{
	void (*fn)(void *, tk_ocirc *, int, const char *) = f->oc.owner_ev;
	if (!fn)
		return;
	if (ev != TK_OCIRC_EV_BUILT)
		f->oc.owner_ev = NULL;
	fn(f->oc.owner_arg, &f->oc, ev, why);
}

void
build(struct fcirc *f)
{
	f->built = 1;
	f->oc.state = TK_OCIRC_OPEN;
	if (f->oc.n_hops < 3)
		f->oc.n_hops = 3;
	owner_event(f, TK_OCIRC_EV_BUILT, NULL);
}

void
fail_build(struct fcirc *f)
{
	f->closed = 1;
	owner_event(f, TK_OCIRC_EV_FAILED, "test");
}

/* An HSDir circuit's request answered: status, and body when 200. */
void
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

void
cell(struct fcirc *f, uint8_t cmd, const uint8_t *body, size_t len)
{
	f->ctl(f->ctlarg, 0, 2, cmd, body, len);
}

void
intro_ack(struct fcirc *f, uint16_t status)
{
	uint8_t b[3] = { (uint8_t)(status >> 8), (uint8_t)status, 0 };
	cell(f, TK_RELAY_INTRODUCE_ACK, b, sizeof b);
}

/* Which of the service's introduction points a circuit goes to: 1..n
 * (tsvc_intro_make puts point n at 127.0.0.n), 0 for none. */
int
intro_index(const struct fcirc *f)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&f->t.addr;
	return (int)(ntohl(sin->sin_addr.s_addr) & 0xff);
}

/* Requests the service; answers the first HSDir circuits with what
 * serve(i) gives until the fetch is over. */
int
request(tk_hs_client *hc, struct tk_circreq *r)
{
	memset(r, 0, sizeof *r);
	r->cb = on_answer;
	return tk_hs_client_request(hc, id_key.pub, r);
}

/* The fetch: HSDir circuits are built, their first `n_404` requests
 * answered 404, the next `n_old` with old_text, then the descriptor,
 * until the fetch is over (its circuits closed). */
void
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

void
fetch(size_t n_404)
{
	fetch_serve(n_404, NULL, 0);
}

/* The service's answer to the INTRODUCE1 on f, as RENDEZVOUS2 on rend. */
int
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

void
net_teardown(void)
{
	free(desc_text);
	desc_text = NULL;
	tk_nodes_free(&nodes);
	tk_consensus_free(cons);
	uv_loop_close(&loop);
}

static void
stop_loop(uv_timer_t *t)
{
	uv_stop(t->loop);
}

void
run_loop_ms(unsigned ms)
{
	uv_timer_t t;
	uv_timer_init(&loop, &t);
	uv_timer_start(&t, stop_loop, ms, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	run_deferred();
}

void
run_until(int (*pred)(void))
{
	for (int k = 0; k < 20 && !pred(); k++)
		run_loop_ms(600);
}

int
answered_p(void)
{
	return answered;
}

void
net_shift(long periods)
{
	int64_t d = periods * (int64_t)dp.period_len_min * 60;
	cons->valid_after += d;
	cons->fresh_until += d;
	cons->valid_until += d;
	tk_hs_dirparams_init(&dp, cons, 1);
}

void
lose(struct fcirc *f)
{
	f->closed = 1;
	owner_event(f, TK_OCIRC_EV_LOST, "test");
}

struct fcirc *
introduce(tk_hs_client *hc, struct tk_circreq *r, struct fcirc **rend)
{
	struct fcirc *intro;
	answered = 0;
	request(hc, r);
	fetch(0);
	*rend = newest('R');
	intro = newest('I');
	if (!*rend || !intro)
		return NULL;
	build(*rend);
	cell(*rend, TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
	build(intro);
	return intro;
}

void
ipfail_age(tk_hs_client *hc)
{
	tk_hs_ipfail_expire(&hc->ipfail,
			    tk_hs_now_ms(hc) + TK_HS_IPFAIL_AGE_MS);
}
