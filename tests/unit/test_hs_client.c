/* The onion-service client's state machine (src/onion/client/hs_client.c
 * and hs_fetch.c) over the fakes of hs_client_fakes.h: a first contact
 * and what tornet's real tor service cannot be made to do — HSDirs that
 * serve an invalid descriptor (F1), introduction points that refuse
 * (another is tried, as tor does; all of them: F2), a rendezvous that
 * fails (F3), introduction points that never answer (F7), a rendezvous
 * point that never answers; the parallel fetch (three HSDirs at once,
 * the first valid answer wins), the introduction circuit built beside
 * the rendezvous circuit, congestion control with the service, and the
 * bound of 64 services. */
#include <stdlib.h>
#include <string.h>

#include "../unit/hs_client_fakes.h"
#include "onion/base/crypto.h"
#include "onion/client/hs_client_int.h"
#include "onion/hs/hs_cell.h"

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

/* Introduction points that take INTRODUCE1 and never answer: after
 * intro_timeout each, the next; none left: F7. The client's tick runs
 * every 500 ms: the loop runs in steps of 600 ms, at most 20 of them. */
static void
test_intro_timeout(void)
{
	tk_hs_client *hc = client_new(1);
	struct tk_circreq r;
	struct fcirc *rend, *intro;
	size_t n_intro = 1;

	svc_setup(2);
	if (!introduce(hc, &r, &rend)) {
		tap_ok(0, "intro timeout: circuits launched");
		client_free(hc);
		return;
	}
	for (int k = 0; k < 20 && !answered; k++) {
		if ((intro = newest('I')) != NULL && !intro->built) {
			build(intro);
			n_intro++;
		}
		if (count('D', 1) > 0)
			fetch(0); /* the refetch: the same descriptor */
		run_loop_ms(600);
	}
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
	*joined_cc = -1;
	if (!(intro = introduce(hc, &r, &rend))) {
		client_free(hc);
		return -1;
	}
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

	rend_timeout_ms = 1;
	hc = client_new(0);
	svc_setup(2);
	request(hc, &r);
	fetch(0);
	rend = newest('R');
	intro = newest('I');
	build(rend);
	build(intro);
	for (int k = 0; k < 10 && !answered && !rend2; k++) {
		run_loop_ms(600);
		if (newest('R') != rend)
			rend2 = newest('R');
	}
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

int
main(void)
{
	if (tk_crypto_init() < 0)
		return 1;
	net_setup();
	test_join();
	test_failures();
	test_intro_timeout();
	test_rend_retry();
	test_cc();
	test_bound();
	net_teardown();
	return tap_done();
}
