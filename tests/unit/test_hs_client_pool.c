/* The onion-service client over the fakes of hs_client_fakes.h with
 * the pool of clean internal circuits (circ_pool.c, real here over the
 * fake manager): which circuits are taken from it, extended or as they
 * are, and which are built. */
#include <stdlib.h>
#include <string.h>

#include "../unit/hs_client_fakes.h"
#include "onion/base/crypto.h"
#include "onion/client/hs_client_int.h"
#include "onion/client/hs_fetch.h"
#include "onion/hs/hs_cell.h"

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
	hc = tk_hs_client_new(&the_cm, &cfg, err, sizeof err);
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

static tk_hs_client *
pool_client(void)
{
	struct tk_hs_client_config cfg;
	char err[256];
	tk_hs_client_config_init(&cfg);
	cfg.testing = 1;
	cfg.scrub_hosts = 0;
	cfg.internal_circs = 3;
	answered = answer_reason = 0;
	answer_oc = NULL;
	n_adopt_ext = n_adopt_plain = 0;
	return tk_hs_client_new(&the_cm, &cfg, err, sizeof err);
}

/* The pool's circuits, oldest first: three launched, none built. */
static int
pool_launched(tk_hs_client *hc, struct fcirc *p[3])
{
	size_t k = 0;
	tk_circ_pool_note_use(hc->pool);
	for (size_t i = 0; i < n_fc && k < 3; i++)
		if (fc[i]->kind == 'P')
			p[k++] = fc[i];
	return k == 3;
}

static int
owned_by_service(const struct fcirc *f)
{
	return f->oc.owner_ev == tk_hs_on_oc_event;
}

/* A request while the pool is still being built (the first one after a
 * while, or one right after others took its open circuits): the
 * rendezvous circuit waits for a pool circuit rather than building one,
 * launched earlier it is ready sooner; the introduction circuit waits
 * for one whose last hop alone is missing (its build and one EXTEND2:
 * two hop round trips, a new circuit three), not for one just begun. */
static void
test_pool_wait(void)
{
	tk_hs_client *hc = pool_client();
	struct tk_circreq r;
	struct fcirc *p[3], *intro;

	svc_setup(2);
	if (!hc || !tap_ok(pool_launched(hc, p), "wait: three launched")) {
		if (hc)
			client_free(hc);
		return;
	}
	build(p[0]);	     /* open: the fetch's first HSDir takes it */
	p[1]->oc.n_hops = 2; /* its last hop alone missing */
	request(hc, &r);
	fetch(0);
	tap_ok(count('R', 0) == 0 && count('I', 0) == 0 &&
		       owned_by_service(p[1]) && owned_by_service(p[2]) &&
		       !p[1]->closed && !p[2]->closed,
	       "wait: no circuit built for the introduction or the "
	       "rendezvous: both wait for pool circuits still building");
	build(p[2]);
	tap_ok(p[2]->cmd == TK_RELAY_ESTABLISH_RENDEZVOUS,
	       "wait: once built, ESTABLISH_RENDEZVOUS to its last hop");
	cell(p[2], TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
	build(p[1]);
	tap_ok(n_adopt_ext == 2 && p[1]->kind == 'I' && p[1]->oc.n_hops == 4 &&
		       p[1]->n_sent == 0,
	       "wait: once built, the introduction circuit's EXTEND2 to the "
	       "point");
	build(p[1]);
	join_end(p[1], p[2], "wait: once extended",
		 "wait: on the pool circuit");
	client_free(hc);

	/* none but circuits just begun: the introduction circuit is built
	 * anew, the rendezvous circuit still waits */
	hc = pool_client();
	pool_launched(hc, p);
	request(hc, &r);
	fetch(0);
	tap_ok(count('I', 0) == 1 && count('R', 0) == 0,
	       "wait: a pool circuit just begun is not waited for to extend; "
	       "the rendezvous circuit waits for it");
	client_free(hc);

	/* the pool circuit waited for fails: not the point's fault, the
	 * same point again on another circuit */
	hc = pool_client();
	pool_launched(hc, p);
	build(p[0]);
	p[1]->oc.n_hops = 2;
	request(hc, &r);
	fetch(0);
	fail_build(p[1]);
	intro = newest('I');
	tap_ok(intro && intro != p[1] && intro_index(intro) == 1 &&
		       tk_hs_ipfail_usable(&hc->ipfail, id_key.pub,
					   ips[0].auth.pub, 0),
	       "wait: its circuit failed: point 1 again, on a new circuit, "
	       "and no failure noted against it");
	client_free(hc);
}

/* An HSDir circuit of the fetch taken from the pool. */
static int
owned_by_fetch(const struct fcirc *f)
{
	return f->oc.owner_ev && f->oc.owner_ev != tk_hs_on_oc_event;
}

/* The descriptor fetch, like the introduction, waits for a pool circuit
 * whose last hop alone is missing rather than building one: once built,
 * one EXTEND2 to the HSDir, then the request. When that circuit fails,
 * it was not the HSDir's fault: the same HSDir is asked again, on a
 * circuit built to it, and no HSDir is skipped. */
static void
test_pool_wait_fetch(void)
{
	tk_hs_client *hc = pool_client();
	struct tk_circreq r;
	struct fcirc *p[3];
	uint8_t hsdir[TK_HS_FETCH_MAX_HSDIRS][20];
	size_t n_hsdirs, n_d = 0;
	int distinct = 1;

	svc_setup(2);
	if (!hc || !pool_launched(hc, p)) {
		tap_ok(0, "fetch wait: three launched");
		if (hc)
			client_free(hc);
		return;
	}
	p[0]->oc.n_hops = 2; /* its last hop alone missing; none open */
	request(hc, &r);
	tap_ok(owned_by_fetch(p[0]) && !p[0]->closed && p[0]->kind == 'P' &&
		       count('D', 0) == 2,
	       "fetch wait: the first HSDir waits for a pool circuit still "
	       "building, the two others are built");
	build(p[0]);
	tap_ok(n_adopt_ext == 1 && p[0]->kind == 'D' && p[0]->oc.n_hops == 4 &&
		       !p[0]->has_req,
	       "fetch wait: once built, its EXTEND2 to the HSDir");
	build(p[0]);
	tap_ok(p[0]->has_req && !p[0]->req_cancelled,
	       "fetch wait: once extended, the request to the HSDir");
	dir_answer(p[0], 200, desc_text);
	run_deferred();
	tap_ok(count('D', 1) == 0 && count('R', 0) + count('I', 0) >= 1 &&
		       !answered,
	       "fetch wait: the descriptor came over it, the join begins");
	client_free(hc);

	hc = pool_client();
	pool_launched(hc, p);
	p[0]->oc.n_hops = 2;
	request(hc, &r);
	fail_build(p[0]);
	fetch(TK_HS_FETCH_MAX_HSDIRS); /* every HSDir answers 404 */
	n_hsdirs = tk_hs_fetch_hsdirs(&nodes, &dp, svc_keys.blinded, hsdir);
	for (size_t i = 0; i < n_fc; i++) {
		if (fc[i]->kind != 'D' || fc[i] == p[0])
			continue;
		n_d++;
		for (size_t j = 0; j < i; j++)
			if (fc[j]->kind == 'D' && fc[j] != p[0] &&
			    memcmp(fc[j]->t.rsa_id, fc[i]->t.rsa_id, 20) == 0)
				distinct = 0;
	}
	tap_ok(n_hsdirs > 3 && n_d == n_hsdirs && distinct && answered == 1 &&
		       answer_reason == TK_ONION_HS_NOT_FOUND,
	       "fetch wait: its pool circuit failed: that HSDir asked on a "
	       "new circuit, every HSDir asked once (%zu of %zu), then F0",
	       n_d, n_hsdirs);
	client_free(hc);
}

int
main(void)
{
	if (tk_crypto_init() < 0)
		return 1;
	net_setup();
	test_pool();
	test_pool_wait();
	test_pool_wait_fetch();
	net_teardown();
	return tap_done();
}
