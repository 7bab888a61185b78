/* The onion-service client over the fakes of hs_client_fakes.h when
 * the service moves: a service whose tor restarted has new introduction
 * points while the client holds the old descriptor, which is then
 * fetched again (once per attempt); an introduction point that acks and
 * whose service never answers; a time period that ends during an
 * attempt; a service whose points all ack and never answer. */
#include <stdlib.h>
#include <string.h>

#include "../unit/hs_client_fakes.h"
#include "onion/base/crypto.h"
#include "onion/client/hs_client_int.h"
#include "onion/hs/hs_cell.h"

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
	struct fcirc *rend;

	svc_setup(2);
	rend = first_contact(hc, &r, "on the first contact");
	if (!rend) {
		client_free(hc);
		return;
	}
	/* The service goes away: the joined circuit dies. */
	lose(rend);
	refetch_attempt(hc, 0);
	/* two minutes later: the failures of points 1 and 2 forgotten */
	ipfail_age(hc);
	refetch_attempt(hc, 1);
	client_free(hc);
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
	if (!(rend = first_contact(hc, &r, "stale ack: first contact"))) {
		client_free(hc);
		return;
	}
	/* The service's tor is killed: the joined circuit dies; it comes
	 * back with points 3 and 4 and a new descriptor. */
	lose(rend);
	old_text = strdup(desc_text);
	svc_setup_at(3, 2, 2);
	intro = introduce(hc, &r, &rend);
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
	if (!(rend = first_contact(hc, &r, "new period: first contact"))) {
		client_free(hc);
		return;
	}
	lose(rend);
	intro = introduce(hc, &r, &rend);
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

int
main(void)
{
	if (tk_crypto_init() < 0)
		return 1;
	net_setup();
	test_refetch();
	test_stale_intro_ack();
	test_silent_service();
	test_refetch_new_period();
	net_teardown();
	return tap_done();
}
