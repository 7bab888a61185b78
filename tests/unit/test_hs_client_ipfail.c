/* The onion-service client over the fakes of hs_client_fakes.h:
 * introduction points that failed are remembered across requests, as
 * tor remembers them (hs_ipfail.h) — the next request does not try a
 * point that timed out or refused first, until two minutes have passed
 * or NEWNYM; a point whose circuit failed once is still tried; a
 * service whose every point timed out lately gets F7 without a
 * circuit. */
#include <stdlib.h>
#include <string.h>

#include "../unit/hs_client_fakes.h"
#include "onion/base/crypto.h"
#include "onion/client/hs_client_int.h"
#include "onion/hs/hs_cell.h"

static struct fcirc *first_intro;

static int
intro_moved_on(void)
{
	return answered || newest('I') != first_intro;
}

/* A request that joins through whatever point comes first: which one
 * (0: none). */
static int
contact_point(tk_hs_client *hc, struct tk_circreq *r, const char *what)
{
	struct fcirc *rend = NULL, *intro = introduce(hc, r, &rend);
	int n = intro ? intro_index(intro) : 0;
	if (!intro || !join_end(intro, rend, what, what))
		return 0;
	lose(rend); /* the service's circuit goes: the next one is new */
	return n;
}

/* Point 1 takes INTRODUCE1 and never answers: point 2 joins. The next
 * request at once goes to point 2; two minutes later point 1 may be
 * first again. */
static void
test_timeout_remembered(void)
{
	tk_hs_client *hc = client_new(1);
	struct tk_circreq r;
	struct fcirc *rend = NULL, *intro;

	svc_setup(2);
	first_intro = introduce(hc, &r, &rend);
	if (!tap_ok(first_intro && intro_index(first_intro) == 1 &&
			    first_intro->cmd == TK_RELAY_INTRODUCE1,
		    "timeout: INTRODUCE1 through point 1")) {
		client_free(hc);
		return;
	}
	run_until(intro_moved_on);
	intro = newest('I');
	tap_ok(!answered && intro && intro_index(intro) == 2,
	       "timeout: no answer in time, point 2");
	if (!intro) {
		client_free(hc);
		return;
	}
	build(intro);
	join_end(intro, rend, "timeout: through point 2", "through point 2");
	lose(rend);
	tap_eq_long(contact_point(hc, &r, "timeout: the next request"), 2,
		    "timeout: the next request right after does not try "
		    "point 1 first");
	ipfail_age(hc);
	tap_eq_long(contact_point(hc, &r, "timeout: two minutes later"), 1,
		    "timeout: two minutes later point 1 is tried first again");
	client_free(hc);
}

/* Point 1 refuses INTRODUCE1: the next request starts at point 2, until
 * NEWNYM forgets it. */
static void
test_refusal_remembered(void)
{
	tk_hs_client *hc = client_new(0);
	struct tk_circreq r;
	struct fcirc *rend = NULL, *intro;

	svc_setup(3);
	intro = introduce(hc, &r, &rend);
	if (!intro) {
		tap_ok(0, "refusal: circuits launched");
		client_free(hc);
		return;
	}
	intro_ack(intro, TK_HS_INTRO_ACK_UNKNOWN_ID);
	intro = newest('I');
	if (!intro) {
		tap_ok(0, "refusal: the next point");
		client_free(hc);
		return;
	}
	build(intro);
	join_end(intro, rend, "refusal: through point 2", "through point 2");
	lose(rend);
	tap_eq_long(contact_point(hc, &r, "refusal: the next request"), 2,
		    "refusal: the next request starts at point 2");
	tk_hs_client_purge(hc); /* NEWNYM: the descriptor goes too */
	tap_eq_long(contact_point(hc, &r, "refusal: after NEWNYM"), 1,
		    "refusal: after NEWNYM point 1 is tried first again");
	client_free(hc);
}

/* Point 1's circuit fails to build once: tor retries such a point (five
 * failures rule it out), and so does the next request. */
static void
test_unreachable_retried(void)
{
	tk_hs_client *hc = client_new(0);
	struct tk_circreq r;
	struct fcirc *rend = NULL, *intro;

	svc_setup(2);
	request(hc, &r);
	fetch(0);
	rend = newest('R');
	intro = newest('I');
	if (!tap_ok(rend && intro && intro_index(intro) == 1,
		    "unreachable: circuits launched, point 1")) {
		client_free(hc);
		return;
	}
	build(rend);
	cell(rend, TK_RELAY_RENDEZVOUS_ESTABLISHED, NULL, 0);
	fail_build(intro);
	intro = newest('I');
	if (!intro) {
		tap_ok(0, "unreachable: the next point");
		client_free(hc);
		return;
	}
	build(intro);
	join_end(intro, rend, "unreachable: through point 2",
		 "through point 2");
	lose(rend);
	tap_eq_long(contact_point(hc, &r, "unreachable: the next request"), 1,
		    "unreachable once: the next request tries point 1 first");
	client_free(hc);
}

/* The only point timed out: the attempt ends F7 after the refetch. A
 * request right after gets F7 too, after fetching the descriptor again,
 * without an introduction circuit. */
static void
test_all_timed_out(void)
{
	tk_hs_client *hc = client_new(1);
	struct tk_circreq r;
	struct fcirc *rend = NULL;
	size_t n_intro;

	svc_setup(1);
	first_intro = introduce(hc, &r, &rend);
	for (int k = 0; k < 10 && !answered; k++) {
		run_until(intro_moved_on);
		if (count('D', 1) > 0)
			fetch(0); /* the refetch: the same descriptor */
	}
	tap_ok(answered == 1 && answer_reason == TK_ONION_HS_INTRO_TIMEOUT,
	       "all timed out: the only point timed out: F7 (reason %d)",
	       answer_reason - TK_ONION_HS_NOT_FOUND);
	n_intro = count('I', 0);
	answered = 0;
	request(hc, &r);
	for (int k = 0; k < 10 && !answered; k++) {
		fetch(0);
		run_deferred();
	}
	tap_ok(answered == 1 && answer_reason == TK_ONION_HS_INTRO_TIMEOUT &&
		       count('I', 0) == n_intro,
	       "all timed out: a request right after: F7 with no "
	       "introduction circuit (reason %d, %zu new)",
	       answer_reason - TK_ONION_HS_NOT_FOUND, count('I', 0) - n_intro);
	client_free(hc);
}

/* The bound across services: the client's record holds at most
 * TK_HS_IPFAIL_MAX failures whatever the services do. */
static void
test_bound(void)
{
	tk_hs_client *hc = client_new(0);
	uint8_t svc[32], ip[32];
	uint64_t now = tk_hs_now_ms(hc);
	memset(svc, 0, sizeof svc);
	memset(ip, 0, sizeof ip);
	for (unsigned i = 0; i < 2 * TK_HS_IPFAIL_MAX; i++) {
		svc[0] = (uint8_t)i; /* 256 services, two points each */
		ip[0] = (uint8_t)(i >> 8);
		tk_hs_ipfail_note(&hc->ipfail, svc, ip, TK_HS_IPFAIL_ERROR,
				  now);
	}
	tap_eq_long((long)hc->ipfail.n, TK_HS_IPFAIL_MAX,
		    "bound: %d failures of 256 services: %d kept",
		    2 * TK_HS_IPFAIL_MAX, TK_HS_IPFAIL_MAX);
	client_free(hc);
}

int
main(void)
{
	if (tk_crypto_init() < 0)
		return 1;
	net_setup();
	test_timeout_remembered();
	test_refusal_remembered();
	test_unreachable_retried();
	test_all_timed_out();
	test_bound();
	net_teardown();
	return tap_done();
}
