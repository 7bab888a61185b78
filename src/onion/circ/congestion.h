/* Congestion control (proposal 324) at the client end of a circuit: the
 * consensus parameters, and TOR_VEGAS, as the real network runs it
 * (cc_alg=2 since 2022).
 *
 * When an exit accepted congestion control in the ntor v3 handshake, the
 * circuit's package window to it is no longer 1000 cells opened 100 at a
 * time: it is cwnd - inflight, and every `sendme_inc` (negotiated, 31 on
 * the real network) DATA cells the exit sends a SENDME. The time from
 * sending the cell a SENDME acknowledges to the SENDME's arrival is the
 * circuit's RTT; Vegas compares the congestion window with the
 * bandwidth-delay product the RTTs give (cwnd * min RTT / smoothed RTT)
 * and grows or shrinks the window by how many cells it sees queued.
 *
 * Pure arithmetic: no clock (RTT samples come from the caller, in
 * microseconds), no I/O, no allocation. flowctl.c keeps the SENDME tags
 * and send times and calls in here. */
#ifndef TK_ONION_CIRC_CONGESTION_H
#define TK_ONION_CIRC_CONGESTION_H

#include <stddef.h>
#include <stdint.h>

/* The consensus parameters, under their consensus names (prop 324 §6.5,
 * tor's congestion_control_*.c). Those for Vegas are the exit-circuit
 * ones (cc_vegas_*_exit, cc_sscap_exit). */
struct tk_cc_params {
	int32_t cc_alg; /* 0: fixed windows; otherwise negotiate */
	int32_t cc_sendme_inc;
	int32_t cc_cwnd_init;
	int32_t cc_cwnd_inc_pct_ss;
	int32_t cc_cwnd_inc;
	int32_t cc_cwnd_inc_rate;
	int32_t cc_cwnd_min;
	int32_t cc_cwnd_max;
	int32_t cc_ewma_cwnd_pct;
	int32_t cc_ewma_max;
	int32_t cc_ewma_ss;
	int32_t cc_rtt_reset_pct;
	int32_t cc_vegas_alpha_exit;
	int32_t cc_vegas_beta_exit;
	int32_t cc_vegas_gamma_exit;
	int32_t cc_vegas_delta_exit;
	int32_t cc_sscap_exit;
	/* the same for onion-service rendezvous circuits (six hops) */
	int32_t cc_vegas_alpha_onion;
	int32_t cc_vegas_beta_onion;
	int32_t cc_vegas_gamma_onion;
	int32_t cc_vegas_delta_onion;
	int32_t cc_sscap_onion;
	int32_t cc_ss_max;
	int32_t cc_cwnd_full_gap;
	int32_t cc_cwnd_full_minpct;
	int32_t cc_cwnd_full_per_cwnd;
	/* stream flow control (prop 324 §4) */
	int32_t cc_xoff_client; /* cells */
	int32_t cc_xoff_exit;	/* cells */
	int32_t cc_xon_rate;	/* cells */
	int32_t cc_xon_change_pct;
	int32_t cc_xon_ewma_cnt;
	/* circuit SENDMEs (prop 289) */
	int32_t sendme_accept_min_version;
	/* A circuit is "blocked on its channel" (tor: its cell queue to
	 * the channel reached cellq_high cells, until it falls to
	 * cellq_low): here, our channel's output queue, in cells. */
	int32_t cellq_high;
	int32_t cellq_low;
};

/* Looks up a consensus parameter, clamped to [min, max], dflt if absent
 * (the shape of tk_consensus_param). */
typedef int32_t (*tk_cc_param_fn)(void *arg, const char *name, int32_t dflt,
				  int32_t min, int32_t max);
/* Fills p from a consensus through get (NULL: no consensus, tor's
 * built-in defaults, which say cc_alg=0). */
void tk_cc_params_load(struct tk_cc_params *p, tk_cc_param_fn get, void *arg);
/* An onion-service circuit's Vegas (prop 324: tor's CC_PATH_ONION): the
 * _onion alpha, beta, gamma, delta and slow-start cap put in place of
 * the _exit ones, which tk_cc_init reads. */
void tk_cc_params_onion(struct tk_cc_params *p);

/* The exit's sendme_inc from its CC response is acceptable if within a
 * factor of two of ours (prop 324 §10.5; tor closes the circuit). */
int tk_cc_sendme_inc_ok(const struct tk_cc_params *p, unsigned sendme_inc);

/* One circuit hop's Vegas state. */
typedef struct tk_cc {
	/* fixed at negotiation */
	uint64_t sendme_inc, cwnd_min, cwnd_max, cwnd_inc, cwnd_inc_rate;
	uint64_t cwnd_inc_pct_ss, ewma_cwnd_pct, ewma_max, ewma_ss;
	uint64_t rtt_reset_pct;
	uint64_t alpha, beta, gamma, delta, ss_cap, ss_max;
	uint64_t full_gap, full_minpct;
	int full_per_cwnd;
	/* state */
	uint64_t cwnd, inflight;
	uint64_t next_cc_event, next_cwnd_event;
	int in_slow_start, cwnd_full, blocked_chan;
	int clock_broken; /* a zero RTT was seen (tor keeps this globally) */
	uint64_t ewma_rtt, min_rtt, max_rtt; /* microseconds */
	uint64_t bdp;			     /* cwnd * min_rtt / ewma_rtt */
	/* counters for logs and tests */
	uint64_t sendmes, rtt_discarded, ss_exit_cwnd, blocked_acks;
} tk_cc;

void tk_cc_init(tk_cc *cc, const struct tk_cc_params *p, unsigned sendme_inc);
/* Cells that may be sent now: cwnd - inflight, or 0. */
uint64_t tk_cc_package_window(const tk_cc *cc);
/* 1 if the next DATA cell sent is one the hop will acknowledge with a
 * SENDME (the sendme_inc-th, 2*sendme_inc-th... of those in flight). */
int tk_cc_next_is_acked(const tk_cc *cc);
void tk_cc_cell_sent(tk_cc *cc);
/* A SENDME came: rtt_usec is now minus the send time of the cell it
 * acknowledges (0 if the clock did not move), chan_blocked whether our
 * channel to the guard is backed up. Runs Vegas (prop 324 §3.3) and
 * takes sendme_inc cells off inflight. */
void tk_cc_sendme(tk_cc *cc, uint64_t rtt_usec, int chan_blocked);

#endif
