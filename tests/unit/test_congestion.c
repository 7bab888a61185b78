/* Congestion control (prop 324): the consensus parameters, TOR_VEGAS on
 * scripted RTT traces, and flowctl's congestion-controlled hop (SENDME
 * every sendme_inc cells, tags, RTTs from send times, the bound on cells
 * in flight).
 *
 * The expected windows were worked out from the proposal's pseudocode
 * (§2.1 RTT and N_EWMA, §3.3 TOR_VEGAS with RFC 3742 slow start) with
 * integer arithmetic as the proposal asks, by hand for the first steps
 * and with a small independent model of that pseudocode for the longer
 * traces. Each trace keeps the window full before every SENDME (a bulk
 * sender), unless it says otherwise. */
#include <stdlib.h>
#include <string.h>

#include "../unit/tap.h"
#include "onion/cell/relay_msg.h"
#include "onion/circ/congestion.h"
#include "onion/circ/flowctl.h"

/* The real network's consensus (2026-07-27): the cc_* it sets. */
static const struct {
	const char *name;
	int32_t v;
} real_net[] = {
	{ "cc_alg", 2 },
	{ "cc_cwnd_full_gap", 4 },
	{ "cc_cwnd_full_minpct", 25 },
	{ "cc_cwnd_inc", 1 },
	{ "cc_cwnd_inc_rate", 31 },
	{ "cc_cwnd_min", 124 },
	{ "cc_sscap_exit", 600 },
	{ "cc_vegas_alpha_exit", 186 },
	{ "cc_vegas_delta_exit", 310 },
	{ "sendme_accept_min_version", 1 },
	{ "cc_xoff_client", 0 }, /* out of range: clamped to 1 */
};

static int32_t real_get(void *arg, const char *name, int32_t dflt, int32_t min,
			int32_t max)
{
	(void)arg;
	for (size_t i = 0; i < sizeof real_net / sizeof real_net[0]; i++)
		if (strcmp(real_net[i].name, name) == 0) {
			int32_t v = real_net[i].v;
			return v < min ? min : v > max ? max : v;
		}
	return dflt;
}

static void fill(tk_cc *cc)
{
	while (tk_cc_package_window(cc) > 0)
		tk_cc_cell_sent(cc);
}

static void test_params(void)
{
	struct tk_cc_params d, r;
	tk_cc_params_load(&d, NULL, NULL);
	tap_eq_long(d.cc_alg, 0, "tor's built-in cc_alg is 0 (fixed windows)");
	tap_ok(d.cc_sendme_inc == 31 && d.cc_cwnd_init == 124 &&
		       d.cc_cwnd_min == 62 && d.cc_cwnd_inc == 31 &&
		       d.cc_cwnd_inc_rate == 1 && d.cc_ss_max == 5000,
	       "built-in window defaults (sendme_inc 31, init 124, min 62)");
	tap_ok(d.cc_vegas_alpha_exit == 124 && d.cc_vegas_beta_exit == 248 &&
		       d.cc_vegas_gamma_exit == 186 &&
		       d.cc_vegas_delta_exit == 372 && d.cc_sscap_exit == 500,
	       "built-in Vegas exit defaults: 2, 4, 3, 6 x 62 cells, cap 500");
	tap_ok(d.cc_xoff_client == 500 && d.cc_xon_rate == 500 &&
		       d.cc_xon_change_pct == 25 && d.cc_xon_ewma_cnt == 2,
	       "built-in XON/XOFF defaults");
	tap_ok(d.cellq_high == 256 && d.cellq_low == 10 &&
		       d.sendme_accept_min_version == 0,
	       "blocked-channel marks 256/10 cells; any SENDME version");
	tk_cc_params_load(&r, real_get, NULL);
	tap_ok(r.cc_alg == 2 && r.cc_cwnd_inc == 1 && r.cc_cwnd_inc_rate == 31 &&
		       r.cc_cwnd_min == 124 && r.cc_sscap_exit == 600 &&
		       r.cc_vegas_alpha_exit == 186 &&
		       r.cc_vegas_delta_exit == 310 &&
		       r.cc_vegas_beta_exit == 248,
	       "real consensus values taken, the rest default");
	tap_eq_long(r.cc_xoff_client, 1, "out-of-range value clamped");
	tap_ok(tk_cc_sendme_inc_ok(&r, 31) && tk_cc_sendme_inc_ok(&r, 62) &&
		       tk_cc_sendme_inc_ok(&r, 15) && !tk_cc_sendme_inc_ok(&r, 63) &&
		       !tk_cc_sendme_inc_ok(&r, 14) && !tk_cc_sendme_inc_ok(&r, 0),
	       "exit's sendme_inc accepted within a factor of 2 of ours");
}

/* Slow start on the real network's parameters, RTT 100 ms throughout:
 * +31 per SENDME up to the cap of 600, then RFC 3742's smaller steps. */
static void test_slow_start(void)
{
	struct tk_cc_params p;
	tk_cc cc;
	static const unsigned want[19] = { 155, 186, 217, 248, 279, 310, 341,
					   372, 403, 434, 465, 496, 527, 558,
					   589, 620, 635, 650, 664 };
	int ok = 1;
	tk_cc_params_load(&p, real_get, NULL);
	tk_cc_init(&cc, &p, 31);
	tap_eq_long((long)tk_cc_package_window(&cc), 124,
		    "initial window: cc_cwnd_init 124");
	for (int i = 0; i < 19; i++) {
		fill(&cc);
		tk_cc_sendme(&cc, 100000, 0);
		if (cc.cwnd != want[i] || !cc.in_slow_start) {
			tap_diag("ack %d: cwnd %lu, want %u", i + 1,
				 (unsigned long)cc.cwnd, want[i]);
			ok = 0;
		}
	}
	tap_ok(ok, "slow start: 124 + 31 per ack to 620, then 635 650 664");
	tap_ok(cc.min_rtt == 100000 && cc.ewma_rtt == 100000,
	       "min and smoothed RTT 100 ms");

	/* The RTT doubles: smoothed over 2 acks 166.666 ms, BDP 664 *
	 * 100/166.666 = 398, 266 cells queued >= gamma 186: slow start ends
	 * at BDP + gamma. */
	fill(&cc);
	tk_cc_sendme(&cc, 200000, 0);
	tap_ok(!cc.in_slow_start && cc.cwnd == 584 && cc.ewma_rtt == 166666 &&
		       cc.bdp == 398,
	       "RTT 200 ms: slow start ends at 398 + 186 = 584 (cwnd %lu)",
	       (unsigned long)cc.cwnd);
	/* Steady state, one update per ack with these parameters: BDP 309,
	 * 275 queued > beta 248: one cell off. */
	fill(&cc);
	tk_cc_sendme(&cc, 200000, 0);
	tap_ok(cc.cwnd == 583 && cc.ewma_rtt == 188888 && cc.bdp == 309,
	       "queue above beta: cwnd - cc_cwnd_inc = 583 (cwnd %lu)",
	       (unsigned long)cc.cwnd);
	/* The RTT falls back: below alpha with the window full, +1 per
	 * ack; the smoothed RTT returns to 100 ms after about 10 acks. */
	static const struct {
		int after;
		unsigned cwnd;
	} rec[] = { { 1, 584 }, { 2, 585 }, { 3, 586 }, { 11, 594 },
		    { 51, 634 }, { 200, 783 } };
	ok = 1;
	for (int i = 1, k = 0; i <= 200; i++) {
		fill(&cc);
		tk_cc_sendme(&cc, 100000, 0);
		if (i == rec[k].after) {
			if (cc.cwnd != rec[k].cwnd) {
				tap_diag("after %d acks: cwnd %lu, want %u", i,
					 (unsigned long)cc.cwnd, rec[k].cwnd);
				ok = 0;
			}
			k++;
		}
	}
	tap_ok(ok, "RTT back at 100 ms: +1 per ack (584 ... 783 after 200)");
}

/* Above delta (310 cells queued) the window falls to BDP + delta - 1. */
static void test_delta(void)
{
	struct tk_cc_params p;
	tk_cc cc;
	tk_cc_params_load(&p, real_get, NULL);
	tk_cc_init(&cc, &p, 31);
	for (int i = 0; i < 19; i++) {
		fill(&cc);
		tk_cc_sendme(&cc, 100000, 0);
	}
	fill(&cc);
	tk_cc_sendme(&cc, 200000, 0);
	static const unsigned want[3] = { 490, 439, 421 };
	int ok = cc.cwnd == 584;
	for (int i = 0; i < 3; i++) {
		fill(&cc);
		tk_cc_sendme(&cc, 400000, 0);
		if (cc.cwnd != want[i]) {
			tap_diag("ack %d at 400 ms: cwnd %lu, want %u", i + 1,
				 (unsigned long)cc.cwnd, want[i]);
			ok = 0;
		}
	}
	tap_ok(ok, "RTT 400 ms: BDP + delta - 1 each ack: 490 439 421");
}

/* tor's built-in parameters (cc_cwnd_inc 31, cc_cwnd_inc_rate 1): after
 * slow start the window moves once per window of acks. */
static void test_update_cadence(void)
{
	struct tk_cc_params p;
	tk_cc cc;
	tk_cc_params_load(&p, NULL, NULL);
	tk_cc_init(&cc, &p, 31);
	for (int i = 0; i < 30; i++) {
		fill(&cc);
		tk_cc_sendme(&cc, 50000, 0);
	}
	tap_ok(cc.in_slow_start && cc.cwnd == 738,
	       "built-in parameters, 30 acks at 50 ms: slow start, cwnd 738");
	fill(&cc);
	tk_cc_sendme(&cc, 80000, 0);
	tap_ok(!cc.in_slow_start && cc.cwnd == 713 && cc.next_cc_event == 23,
	       "RTT 80 ms: exit at 713; next update in 23 acks (713/31)");
	int ok = 1;
	for (int i = 1; i <= 40; i++) {
		fill(&cc);
		tk_cc_sendme(&cc, 50000, 0);
		unsigned want = i < 23 ? 713 : 744;
		if (cc.cwnd != want) {
			tap_diag("ack %d: cwnd %lu, want %u", i,
				 (unsigned long)cc.cwnd, want);
			ok = 0;
		}
	}
	tap_ok(ok, "steady state: unchanged for 22 acks, then +31 to 744");
}

static void test_signals(void)
{
	struct tk_cc_params p;
	tk_cc cc;
	tk_cc_params_load(&p, real_get, NULL);

	/* A blocked channel ends slow start at BDP + gamma at once. */
	tk_cc_init(&cc, &p, 31);
	for (int i = 0; i < 5; i++) {
		fill(&cc);
		tk_cc_sendme(&cc, 100000, 0);
	}
	tap_eq_long((long)cc.cwnd, 279, "5 acks: 279");
	fill(&cc);
	tk_cc_sendme(&cc, 100000, 1);
	tap_ok(!cc.in_slow_start && cc.cwnd == 279 + 186 && cc.blocked_chan,
	       "blocked channel: slow start ends at BDP 279 + gamma = 465");

	/* A clock that did not move: no update, the cells still acked. */
	tk_cc_init(&cc, &p, 31);
	fill(&cc);
	tk_cc_sendme(&cc, 100000, 0);
	fill(&cc);
	uint64_t in = cc.inflight;
	tk_cc_sendme(&cc, 0, 0);
	tap_ok(cc.cwnd == 155 && cc.inflight == in - 31 &&
		       cc.rtt_discarded == 1 && cc.clock_broken,
	       "RTT 0 (stalled clock): window kept, inflight - 31");

	/* After slow start an RTT 5000 times the average is a clock jump. */
	tk_cc_init(&cc, &p, 31);
	for (int i = 0; i < 20; i++) {
		fill(&cc);
		tk_cc_sendme(&cc, i < 19 ? 100000 : 200000, 0);
	}
	uint64_t w = cc.cwnd, e = cc.ewma_rtt;
	fill(&cc);
	tk_cc_sendme(&cc, e * 5001, 0);
	tap_ok(cc.cwnd == w && cc.ewma_rtt == e,
	       "RTT jump x5001 after slow start: ignored");

	/* An application-limited sender does not grow the window. */
	struct tk_cc_params d;
	tk_cc_params_load(&d, NULL, NULL);
	tk_cc_init(&cc, &d, 31);
	for (int i = 0; i < 31; i++)
		tk_cc_cell_sent(&cc);
	tk_cc_sendme(&cc, 100000, 0);
	tap_ok(cc.cwnd == 124 && cc.in_slow_start && cc.inflight == 0,
	       "window a quarter used: no growth in slow start");

	/* cc_ss_max caps slow start. */
	struct tk_cc_params big = p;
	big.cc_sscap_exit = 100000;
	tk_cc_init(&cc, &big, 31);
	int n = 0;
	while (cc.in_slow_start && n < 1000) {
		fill(&cc);
		tk_cc_sendme(&cc, 100000, 0);
		n++;
	}
	tap_ok(cc.cwnd == 5000 && n == 158,
	       "no RTT signal: slow start stops at cc_ss_max 5000 (ack %d)", n);

	/* At cwnd_min the minimum RTT is raised to the average
	 * (cc_rtt_reset_pct 100), to get out of a too-low estimate. */
	struct tk_cc_params f = d;
	f.cc_cwnd_inc_rate = 31;
	tk_cc_init(&cc, &f, 31);
	for (int i = 0; i < 2; i++) {
		fill(&cc);
		tk_cc_sendme(&cc, 100000, 0);
	}
	fill(&cc);
	tk_cc_sendme(&cc, 150000, 1);
	for (int i = 0; i < 3; i++) {
		fill(&cc);
		tk_cc_sendme(&cc, 150000, 1);
	}
	tap_ok(cc.cwnd == 62 && cc.min_rtt == 100000,
	       "blocked channel every ack: down to cc_cwnd_min 62");
	fill(&cc);
	tk_cc_sendme(&cc, 150000, 1);
	tap_ok(cc.cwnd == 62 && cc.min_rtt == 149794 &&
		       cc.ewma_rtt == 149794,
	       "at the minimum window: min RTT reset to the average");
}

/* flowctl with a congestion-controlled hop. */
static void test_flow_cc(void)
{
	struct tk_cc_params p;
	tk_circ_flow f;
	uint8_t tag[20], body[32];
	int ok = 1;

	tk_cc_params_load(&p, real_get, NULL);
	tk_circ_flow_init_cc(&f, &p, 31);
	tap_ok(f.has_cc && f.inc == 31 && f.accept_min_version == 1,
	       "CC hop: SENDME every 31, v1 SENDMEs required");
	tap_eq_long(tk_circ_flow_package_window(&f), 124,
		    "package window = cwnd_init");
	/* tags on the 31st, 62nd, 93rd, 124th cell */
	for (int i = 1; i <= 124; i++) {
		int need = tk_circ_flow_next_needs_tag(&f);
		if (need != (i % 31 == 0))
			ok = 0;
		memset(tag, i, sizeof tag);
		if (tk_circ_flow_prepare(&f) != 0 ||
		    tk_circ_flow_data_sent(&f, need ? tag : NULL,
					   1000000 + (uint64_t)i) != 0)
			ok = 0;
	}
	tap_ok(ok && f.ack_count == 4, "tags recorded for cells 31, 62, 93, 124");
	tap_ok(!tk_circ_flow_can_package(&f) &&
		       tk_circ_flow_prepare(&f) == TK_FLOW_EWINDOW,
	       "window full at 124 in flight");
	/* SENDME for cell 31, 100 ms after it was sent */
	memset(tag, 31, sizeof tag);
	int n = tk_relay_sendme_encode(1, tag, body, sizeof body);
	tap_eq_long(tk_circ_flow_sendme_received(&f, body, (size_t)n,
						 1000031 + 100000, 0),
		    0, "SENDME with the 31st cell's digest accepted");
	tap_ok(f.cc.ewma_rtt == 100000 && f.cc.cwnd == 155 &&
		       f.cc.inflight == 93,
	       "its RTT (100 ms) fed Vegas: cwnd 155, 93 in flight");
	tap_eq_long(tk_circ_flow_package_window(&f), 62, "62 cells may go");
	memset(tag, 99, sizeof tag);
	n = tk_relay_sendme_encode(1, tag, body, sizeof body);
	tap_eq_long(tk_circ_flow_sendme_received(&f, body, (size_t)n,
						 1200000, 0),
		    TK_FLOW_EBADTAG, "SENDME with a wrong digest refused");
	tap_eq_long(tk_circ_flow_sendme_received(&f, NULL, 0, 1200000, 0),
		    TK_FLOW_EVERSION, "v0 SENDME refused (accept_min_version 1)");
	tk_circ_flow_free(&f);

	/* The records grow with the window, up to TK_FLOW_MAX_ACKS. */
	struct tk_cc_params big = p;
	big.cc_cwnd_init = 10000;
	tk_circ_flow_init_cc(&f, &big, 31);
	f.cc.cwnd = 100000; /* as if Vegas had grown it that far */
	long sent = 0;
	while (tk_circ_flow_prepare(&f) == 0 && sent < 200000) {
		int need = tk_circ_flow_next_needs_tag(&f);
		memset(tag, (int)sent, sizeof tag);
		if (tk_circ_flow_data_sent(&f, need ? tag : NULL, 5) != 0)
			break;
		sent++;
	}
	tap_ok(f.ack_count == TK_FLOW_MAX_ACKS &&
		       sent == (long)TK_FLOW_MAX_ACKS * 31 + 30,
	       "at most %d SENDMEs owed: %ld cells in flight", TK_FLOW_MAX_ACKS,
	       sent);
	tk_circ_flow_free(&f);

	/* The deliver side answers every 31 DATA cells. */
	tk_circ_flow_init_cc(&f, &p, 31);
	uint8_t sb[23];
	size_t sl;
	int sendmes = 0;
	ok = 1;
	for (int i = 1; i <= 3100; i++) {
		memset(tag, i, sizeof tag);
		if (tk_circ_flow_data_received(&f, tag, sb, &sl) != 0)
			ok = 0;
		if (sl) {
			sendmes++;
			if (i % 31 != 0 || sb[0] != 1 || sb[3] != (uint8_t)i)
				ok = 0;
		}
	}
	tap_ok(ok && sendmes == 100,
	       "3100 DATA cells in: 100 SENDMEs, each with the 31st cell's "
	       "digest");
	tk_circ_flow_free(&f);
}

/* The receiving side's XON/XOFF decisions and drain rate (prop 324
 * §4.1.1-4.1.2, as C tor computes them). */
static void test_xon_rate(void)
{
	struct tk_cc_params p;
	tk_stream_xon x;
	tk_cc_params_load(&p, NULL, NULL);
	tk_stream_xon_init(&x, &p);
	tap_ok(x.xoff_limit == 500 * 498 && x.xon_rate_bytes == 500 * 498,
	       "limits: 500 cells of bytes");
	int a = tk_stream_xon_data_arrived(&x, 300000, 1000000);
	tap_eq_long(a, TK_XON_SEND_XOFF, "300 kB held: XOFF");
	tk_stream_xon_sent(&x, a);
	tap_eq_long(tk_stream_xon_data_arrived(&x, 400000, 1000000),
		    TK_XON_NONE, "only once (the clock starts: data queues)");
	tap_eq_long(tk_stream_xon_drained(&x, 1000, 299000, 1000000), 0,
		    "the reader takes 1 kB");
	tap_eq_long(tk_stream_xon_drained(&x, 250000, 49000, 1100000), 0,
		    "and 250 kB more in 100 ms");
	tap_eq_long(x.ewma_rate, 2510, "drain rate 251 kB / 100 ms = 2510 KB/s");
	a = tk_stream_xon_drained(&x, 49000, 0, 1120000);
	tap_eq_long(a, TK_XON_SEND_XON, "empty: XON");
	tk_stream_xon_sent(&x, a);
	tap_ok(x.rate_last_sent == 2510 && !x.xoff_sent,
	       "XON carries 2510 KB/s");
	/* slower now: tor divides the previous count (251 kB) by the new
	 * interval, 500 ms: 502 KB/s; N-EWMA (N 2): (2 * 502 + 2510) / 3 =
	 * 1171, more than 25% below: advisory XON */
	tap_eq_long(tk_stream_xon_drained(&x, 1000, 20000, 2000000), 0,
		    "queueing again");
	a = tk_stream_xon_drained(&x, 250000, 10000, 2500000);
	tap_ok(a == TK_XON_SEND_XON && x.ewma_rate == 1171,
	       "rate 1171 KB/s: advisory XON (%u)", x.ewma_rate);
	tk_stream_xon_sent(&x, a);
	/* a reader with nothing queued for cc_xon_rate cells: the advice
	 * doubles, and the next look sends it */
	tap_eq_long(tk_stream_xon_drained(&x, 249000, 0, 2600000), 0,
		    "drained with nothing queued");
	tap_eq_long(x.ewma_rate, 2342, "rate doubled to 2342");
	tap_eq_long(tk_stream_xon_drained(&x, 0, 0, 2700000), TK_XON_SEND_XON,
		    "advisory XON with the doubled rate");
}

int main(void)
{
	test_params();
	test_slow_start();
	test_delta();
	test_update_cadence();
	test_signals();
	test_flow_cc();
	test_xon_rate();
	return tap_done();
}
