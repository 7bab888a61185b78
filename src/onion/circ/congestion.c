/* congestion.h: consensus parameters and TOR_VEGAS (prop 324 §2-3). The
 * arithmetic follows the proposal's pseudocode and tor's integer rounding
 * (N_EWMA in its second form, products before quotients), so that our
 * windows move as tor's do for the same RTTs. */
#include "onion/circ/congestion.h"

#include <string.h>

#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

#define I32MAX 2147483647

/* Name, tor's default, range: congestion_control_common.c,
 * congestion_control_vegas.c, congestion_control_flow.c, sendme.c. The
 * defaults for Vegas on exit circuits are multiples of OUTBUF_CELLS = 62,
 * two TLS records of cells. */
static const struct param_row {
	const char *name;
	size_t off;
	int32_t dflt, min, max;
} rows[] = {
#define ROW(n, d, lo, hi)                                       \
	{                                                       \
#n, offsetof(struct tk_cc_params, n), d, lo, hi \
	}
	ROW(cc_alg, 0, 0, 3),
	ROW(cc_sendme_inc, 31, 1, 255),
	ROW(cc_cwnd_init, 124, 31, 10000),
	ROW(cc_cwnd_inc_pct_ss, 100, 1, 500),
	ROW(cc_cwnd_inc, 31, 1, 1000),
	ROW(cc_cwnd_inc_rate, 1, 1, 250),
	ROW(cc_cwnd_min, 62, 31, 1000),
	ROW(cc_cwnd_max, I32MAX, 500, I32MAX),
	ROW(cc_ewma_cwnd_pct, 50, 1, 255),
	ROW(cc_ewma_max, 10, 2, I32MAX),
	ROW(cc_ewma_ss, 2, 2, I32MAX),
	ROW(cc_rtt_reset_pct, 100, 0, 100),
	ROW(cc_vegas_alpha_exit, 2 * 62, 0, 1000),
	ROW(cc_vegas_beta_exit, 4 * 62, 0, 1000),
	ROW(cc_vegas_gamma_exit, 3 * 62, 0, 1000),
	ROW(cc_vegas_delta_exit, 6 * 62, 0, I32MAX),
	ROW(cc_sscap_exit, 500, 100, I32MAX),
	/* rendezvous circuits are six hops: six outbufs of cells */
	ROW(cc_vegas_alpha_onion, 3 * 62, 0, 1000),
	ROW(cc_vegas_beta_onion, 6 * 62, 0, 1000),
	ROW(cc_vegas_gamma_onion, 4 * 62, 0, 1000),
	ROW(cc_vegas_delta_onion, 7 * 62, 0, I32MAX),
	ROW(cc_sscap_onion, 475, 100, I32MAX),
	ROW(cc_ss_max, 5000, 500, I32MAX),
	ROW(cc_cwnd_full_gap, 1, 0, 32767),
	ROW(cc_cwnd_full_minpct, 75, 0, 100),
	ROW(cc_cwnd_full_per_cwnd, 1, 0, 1),
	ROW(cc_xoff_client, 500, 1, 10000),
	ROW(cc_xoff_exit, 500, 1, 10000),
	ROW(cc_xon_rate, 500, 1, 5000),
	ROW(cc_xon_change_pct, 25, 1, 99),
	ROW(cc_xon_ewma_cnt, 2, 2, 100),
	ROW(sendme_accept_min_version, 0, 0, 255),
	ROW(cellq_high, 256, 1, 1000),
	ROW(cellq_low, 10, 1, 1000),
#undef ROW
};

void
tk_cc_params_load(struct tk_cc_params *p, tk_cc_param_fn get, void *arg)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct param_row *r = &rows[i];
		int32_t v = get ? get(arg, r->name, r->dflt, r->min, r->max)
				: r->dflt;
		memcpy((char *)p + r->off, &v, sizeof v);
	}
}

void
tk_cc_params_onion(struct tk_cc_params *p)
{
	p->cc_vegas_alpha_exit = p->cc_vegas_alpha_onion;
	p->cc_vegas_beta_exit = p->cc_vegas_beta_onion;
	p->cc_vegas_gamma_exit = p->cc_vegas_gamma_onion;
	p->cc_vegas_delta_exit = p->cc_vegas_delta_onion;
	p->cc_sscap_exit = p->cc_sscap_onion;
}

int
tk_cc_sendme_inc_ok(const struct tk_cc_params *p, unsigned sendme_inc)
{
	unsigned ours = (unsigned)p->cc_sendme_inc;
	return sendme_inc != 0 && sendme_inc <= 2 * ours &&
	       sendme_inc >= ours / 2;
}

void
tk_cc_init(tk_cc *cc, const struct tk_cc_params *p, unsigned sendme_inc)
{
	memset(cc, 0, sizeof *cc);
	cc->sendme_inc = sendme_inc ? sendme_inc : 1;
	cc->cwnd = (uint64_t)p->cc_cwnd_init;
	cc->cwnd_inc_pct_ss = (uint64_t)p->cc_cwnd_inc_pct_ss;
	cc->cwnd_inc = (uint64_t)p->cc_cwnd_inc;
	cc->cwnd_inc_rate = (uint64_t)p->cc_cwnd_inc_rate;
	cc->cwnd_min = (uint64_t)p->cc_cwnd_min;
	cc->cwnd_max = (uint64_t)p->cc_cwnd_max;
	cc->ewma_cwnd_pct = (uint64_t)p->cc_ewma_cwnd_pct;
	cc->ewma_max = (uint64_t)p->cc_ewma_max;
	cc->ewma_ss = (uint64_t)p->cc_ewma_ss;
	cc->rtt_reset_pct = (uint64_t)p->cc_rtt_reset_pct;
	cc->alpha = (uint64_t)p->cc_vegas_alpha_exit;
	cc->beta = (uint64_t)p->cc_vegas_beta_exit;
	cc->gamma = (uint64_t)p->cc_vegas_gamma_exit;
	cc->delta = (uint64_t)p->cc_vegas_delta_exit;
	cc->ss_cap = (uint64_t)p->cc_sscap_exit;
	cc->ss_max = (uint64_t)p->cc_ss_max;
	cc->full_gap = (uint64_t)p->cc_cwnd_full_gap;
	cc->full_minpct = (uint64_t)p->cc_cwnd_full_minpct;
	cc->full_per_cwnd = p->cc_cwnd_full_per_cwnd != 0;
	cc->in_slow_start = 1;
	cc->next_cc_event = 1; /* CWND_UPDATE_RATE in slow start */
}

uint64_t
tk_cc_package_window(const tk_cc *cc)
{
	/* inflight exceeds cwnd right after a decrease */
	return cc->inflight >= cc->cwnd ? 0 : cc->cwnd - cc->inflight;
}

int
tk_cc_next_is_acked(const tk_cc *cc)
{
	return (cc->inflight + 1) % cc->sendme_inc == 0;
}

void
tk_cc_cell_sent(tk_cc *cc)
{
	cc->inflight++;
}

/* Acks between window updates: every ack in slow start, then once per
 * cc_cwnd_inc_rate windows, rounded (prop 324 CWND_UPDATE_RATE). */
static uint64_t
update_rate(const tk_cc *cc)
{
	uint64_t per = cc->cwnd_inc_rate * cc->sendme_inc;
	if (cc->in_slow_start)
		return 1;
	return (cc->cwnd + per / 2) / per;
}

static uint64_t
sendmes_per_cwnd(const tk_cc *cc)
{
	return (cc->cwnd + cc->sendme_inc / 2) / cc->sendme_inc;
}

/* N of the N-EWMA over RTT samples (prop 324 §2.1.2). */
static uint64_t
ewma_n(const tk_cc *cc)
{
	uint64_t n;
	if (cc->in_slow_start)
		n = cc->ewma_ss;
	else
		n = MIN(update_rate(cc) * cc->ewma_cwnd_pct / 100,
			cc->ewma_max);
	return MAX(n, 2);
}

static uint64_t
n_ewma(uint64_t cur, uint64_t prev, uint64_t n)
{
	return prev == 0 ? cur : (2 * cur + (n - 1) * prev) / (n + 1);
}

/* prop 324 §2.1.1: a zero RTT is a stalled clock; once past slow start
 * an RTT 5000 times off the average is a jump (or, downwards, trusted
 * unless the clock has stalled before). Tor also trusts the heuristics
 * once its SENDME-rate estimator has data; Vegas does not use that
 * estimator and we do not keep it, so before the end of slow start every
 * non-zero RTT counts. */
static int
clock_suspect(tk_cc *cc, uint64_t old_rtt, uint64_t rtt)
{
	if (rtt == 0) {
		cc->clock_broken = 1;
		return 1;
	}
	if (cc->in_slow_start || !cc->ewma_rtt)
		return 0;
	if (old_rtt > rtt * 5000)
		return cc->clock_broken;
	if (rtt > old_rtt * 5000)
		return 1;
	cc->clock_broken = 0;
	return 0;
}

/* Returns the RTT used, or 0 if the sample was thrown away. */
static uint64_t
update_rtt(tk_cc *cc, uint64_t rtt)
{
	if (clock_suspect(cc, cc->ewma_rtt, rtt)) {
		cc->rtt_discarded++;
		return 0;
	}
	cc->ewma_rtt = n_ewma(rtt, cc->ewma_rtt, ewma_n(cc));
	if (rtt > cc->max_rtt)
		cc->max_rtt = rtt;
	if (cc->min_rtt == 0) {
		cc->min_rtt = cc->ewma_rtt;
	} else if (cc->cwnd == cc->cwnd_min && !cc->in_slow_start) {
		/* Stuck at the minimum window: the minimum RTT was probably
		 * too low. Raise it towards the average. */
		uint64_t hi = MAX(cc->ewma_rtt, cc->min_rtt);
		uint64_t lo = MIN(cc->ewma_rtt, cc->min_rtt);
		cc->min_rtt = cc->rtt_reset_pct * hi / 100 +
			      (100 - cc->rtt_reset_pct) * lo / 100;
	} else if (cc->ewma_rtt < cc->min_rtt) {
		cc->min_rtt = cc->ewma_rtt;
	}
	return rtt;
}

/* The estimates tor updates before Vegas runs. Returns 0 when Vegas must
 * skip this ack (no usable RTT and the channel is not blocked). */
static int
update_estimates(tk_cc *cc, uint64_t rtt_sample, int blocked)
{
	uint64_t rtt = update_rtt(cc, rtt_sample);
	if (!cc->ewma_rtt) {
		/* Never measured: all Vegas can go on is the window. */
		cc->bdp = cc->cwnd;
		cc->blocked_chan = blocked;
		return blocked;
	}
	cc->bdp = cc->cwnd * cc->min_rtt / cc->ewma_rtt;
	/* A channel that blocks or unblocks is a congestion event now, not
	 * at the next scheduled update. */
	if (blocked && !cc->blocked_chan) {
		cc->next_cc_event = 0;
		cc->blocked_chan = 1;
	} else if (!blocked && cc->blocked_chan) {
		cc->next_cc_event = 0;
		cc->blocked_chan = 0;
	}
	return blocked || rtt != 0;
}

/* RFC 3742 limited slow start: a sendme_inc-sized step per ack (scaled
 * by cc_cwnd_inc_pct_ss) up to the cap, smaller steps above it. */
static uint64_t
ss_increment(const tk_cc *cc)
{
	if (cc->cwnd <= cc->ss_cap)
		return (cc->cwnd_inc_pct_ss * cc->sendme_inc + 50) / 100;
	return MAX((cc->sendme_inc * cc->ss_cap + cc->cwnd) / (2 * cc->cwnd),
		   1);
}

static uint64_t
sub_floor(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static void
exit_slow_start(tk_cc *cc)
{
	cc->in_slow_start = 0;
	cc->ss_exit_cwnd = cc->cwnd;
}

void
tk_cc_sendme(tk_cc *cc, uint64_t rtt_usec, int chan_blocked)
{
	uint64_t queue_use;

	cc->sendmes++;
	if (chan_blocked)
		cc->blocked_acks++;
	if (cc->next_cc_event)
		cc->next_cc_event--;
	if (cc->next_cwnd_event)
		cc->next_cwnd_event--;

	if (!update_estimates(cc, rtt_usec, chan_blocked))
		goto acked;

	queue_use = cc->bdp > cc->cwnd ? 0 : cc->cwnd - cc->bdp;

	if (cc->inflight + cc->full_gap * cc->sendme_inc >= cc->cwnd)
		cc->cwnd_full = 1;
	else if (100 * cc->inflight < cc->full_minpct * cc->cwnd)
		cc->cwnd_full = 0;

	if (cc->in_slow_start) {
		if (queue_use < cc->gamma && !cc->blocked_chan) {
			/* grow only a window that is actually used */
			if (cc->cwnd_full) {
				uint64_t inc = ss_increment(cc);
				cc->cwnd += inc;
				if (inc * sendmes_per_cwnd(cc) <=
				    cc->cwnd_inc * cc->cwnd_inc_rate)
					exit_slow_start(cc);
			}
		} else {
			/* queues are building: settle at the gamma mark */
			cc->cwnd = cc->bdp + cc->gamma;
			exit_slow_start(cc);
		}
		if (cc->cwnd >= cc->ss_max) {
			cc->cwnd = cc->ss_max;
			exit_slow_start(cc);
		}
	} else if (cc->next_cc_event == 0) {
		/* Tor's unsigned arithmetic would wrap below zero with
		 * odd parameters (cc_cwnd_inc above the window); we stop at
		 * the minimum instead. */
		if (queue_use > cc->delta)
			cc->cwnd = sub_floor(cc->bdp + cc->delta, cc->cwnd_inc);
		else if (queue_use > cc->beta || cc->blocked_chan)
			cc->cwnd = sub_floor(cc->cwnd, cc->cwnd_inc);
		else if (cc->cwnd_full && queue_use < cc->alpha)
			cc->cwnd += cc->cwnd_inc;
		cc->cwnd = MAX(cc->cwnd, cc->cwnd_min);
	}

	if (cc->next_cwnd_event == 0)
		cc->next_cwnd_event = sendmes_per_cwnd(cc);
	if (cc->next_cc_event == 0)
		cc->next_cc_event = update_rate(cc);
	/* How long a window counts as full: one window of acks, or one
	 * update period (cc_cwnd_full_per_cwnd). */
	if (cc->full_per_cwnd ? cc->next_cwnd_event == sendmes_per_cwnd(cc)
			      : cc->next_cc_event == update_rate(cc))
		cc->cwnd_full = 0;
	if (cc->cwnd > cc->cwnd_max)
		cc->cwnd = cc->cwnd_max;
acked:
	cc->inflight = cc->inflight >= cc->sendme_inc
			       ? cc->inflight - cc->sendme_inc
			       : 0;
}
