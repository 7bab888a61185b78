/* The adaptive circuit build timeout (path-spec 2.4): the initial 60 s
 * while fewer than cbtmincircs builds are known; the Pareto fit of
 * known samples gives the timeout path-spec's formulas give (expected
 * values computed apart, by hand: Xm from the 10 most frequent 10 ms
 * bins, alpha = n / sum ln(x_i / Xm), timeout = Xm / 0.2^(1/alpha));
 * the consensus parameters; the reset when the network changes;
 * censored timeouts; the state-file lines, their round trip and their
 * bounds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/tap.h"
#include "onion/base/fmath.h"
#include "onion/client/cbt.h"
#include "onion/netdoc/consensus.h"

static uint64_t splitmix(void *arg)
{
	uint64_t *s = arg;
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* 40 builds at 1005 ms, 30 at 1015, then 2005, 2105, ... 4905. */
static void feed_known(tk_cbt *b)
{
	for (int i = 0; i < 40; i++)
		tk_cbt_built(b, 1005);
	for (int i = 0; i < 30; i++)
		tk_cbt_built(b, 1015);
	for (int i = 0; i < 30; i++)
		tk_cbt_built(b, (uint32_t)(2005 + 100 * i));
}

static int near(double a, double b, double eps)
{
	return fabs(a - b) <= eps;
}

/* base/fmath.h against libm, over the fit's range and beyond: ln of
 * 1e-300..1e300 and of the times it sees (1..300000 ms), e^x for
 * -700..700 (within 4 units in the last place), x^y for the quantiles. */
static void test_fmath(void)
{
	double worst_ln = 0, worst_exp = 0, worst_pow = 0;
	for (double x = 1e-300; x < 1e300; x *= 1.0173)
		worst_ln = fmax(worst_ln, fabs(tk_ln(x) - log(x)) /
						  fmax(fabs(log(x)), 1e-300));
	for (double x = 0.5; x <= 300000; x += 0.75) {
		double d = fabs(tk_ln(x) - log(x));
		worst_ln = fmax(worst_ln, log(x) != 0 ? d / fabs(log(x)) : d);
	}
	for (double x = -700; x <= 700; x += 0.0137)
		worst_exp = fmax(worst_exp, fabs(tk_exp(x) - exp(x)) / exp(x));
	for (double q = 0.01; q < 0.995; q += 0.01)
		for (double a = 0.05; a < 20; a *= 1.1)
			worst_pow = fmax(worst_pow,
					 fabs(tk_pow(q, 1 / a) - pow(q, 1 / a)) /
						 pow(q, 1 / a));
	tap_ok(worst_ln < 4 * 2.22e-16, "tk_ln as libm's log: %.3g", worst_ln);
	tap_ok(worst_exp < 4 * 2.22e-16, "tk_exp as libm's exp: %.3g",
	       worst_exp);
	/* e^(y ln x) carries ln x's error times |y ln x| (up to ~90
	 * here): far below what a timeout in whole milliseconds shows */
	tap_ok(worst_pow < 1e-13, "tk_pow as libm's pow: %.3g", worst_pow);
	tap_ok(tk_ln(1) == 0 && isinf(tk_ln(0)) && tk_ln(0) < 0 &&
		       isnan(tk_ln(-1)) && tk_exp(0) == 1 &&
		       isinf(tk_exp(710)) && tk_exp(-746) == 0 &&
		       isnan(tk_pow(0, 1)),
	       "edges: ln 1, ln 0, ln -1, e^0, overflow, underflow, 0^y");
}

int main(void)
{
	tk_cbt *b, *b2;
	struct tk_cbt_params p;
	struct tk_consensus c;
	struct tk_cons_param params[3];
	char *text, err[200];
	uint64_t seed = 7;

	memset(&c, 0, sizeof c);
	c.params = params;

	test_fmath();
	b = tk_cbt_new();
	tap_eq_long(tk_cbt_timeout_ms(b), 60000, "initial timeout: 60 s");
	for (int i = 0; i < 99; i++)
		tk_cbt_built(b, 1000 + (uint32_t)i);
	tap_ok(!tk_cbt_learned(b) && tk_cbt_timeout_ms(b) == 60000,
	       "99 builds (under cbtmincircs 100): still 60 s");
	tk_cbt_free(b);

	b = tk_cbt_new();
	feed_known(b);
	tap_ok(tk_cbt_learned(b), "100 builds: a timeout is learned");
	tap_ok(near(tk_cbt_xm(b), 1147.3077, 0.001),
	       "Xm: weighted mean of the 10 modes' midpoints (%.4f)",
	       tk_cbt_xm(b));
	tap_ok(near(tk_cbt_alpha(b), 3.117955, 0.00001),
	       "alpha: the maximum likelihood estimate (%.6f)",
	       tk_cbt_alpha(b));
	tap_eq_long(tk_cbt_timeout_ms(b), 1923,
		    "timeout: the 80%% quantile, 1922.45 ms rounded up");
	tap_eq_long(tk_cbt_close_ms(b), 60000,
		    "close timeout: at least cbtinitialtimeout");

	/* The consensus moves the quantile. */
	strcpy(params[0].name, "cbtquantile");
	params[0].value = 60;
	c.n_params = 1;
	tk_cbt_params_from_consensus(&p, &c);
	tk_cbt_set_params(b, &p);
	tap_eq_long(tk_cbt_timeout_ms(b), 1540, "cbtquantile=60: 1539.25 ms");

	/* State lines: bins at midpoints, round trip gives the same. */
	text = tk_cbt_state_text(b);
	tap_ok(text && strstr(text, "CircuitBuildTimeBin 1005 40\n") &&
	       strstr(text, "CircuitBuildTimeBin 1015 30\n") &&
	       strstr(text, "TotalBuildTimes 100\n") &&
	       strstr(text, "CircuitBuildAbandonedCount 0\n"),
	       "tor's state lines");
	b2 = tk_cbt_new();
	tk_cbt_set_params(b2, &p);
	for (char *line = text, *nl; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		*nl = '\0';
		if (tk_cbt_load_line(b2, line, err, sizeof err) != 1) {
			tap_ok(0, "line \"%s\" read", line);
			break;
		}
	}
	tk_cbt_load_done(b2, splitmix, &seed);
	tap_ok(tk_cbt_count(b2) == 100 && tk_cbt_timeout_ms(b2) == 1540,
	       "read back: 100 times, the same timeout (%u)",
	       (unsigned)tk_cbt_timeout_ms(b2));
	free(text);
	tk_cbt_free(b2);
	tk_cbt_free(b);

	/* Sampled from a Pareto (Xm 1000, alpha 2, true 80%: 2236 ms) */
	b = tk_cbt_new();
	for (int i = 0; i < 1000; i++)
		tk_cbt_built(b, (uint32_t)(1000.0 / sqrt(1.0 - (i + 0.5) /
								   1000.0)));
	tap_eq_long(tk_cbt_timeout_ms(b), 2180,
		    "a Pareto sample: 2179.17 ms (the true quantile is 2236)");
	/* more than 1000: the oldest go */
	for (int i = 0; i < 500; i++)
		tk_cbt_built(b, 1000);
	tap_eq_long((long)tk_cbt_count(b), TK_CBT_NCIRCUITS,
		    "at most 1000 build times held");
	tk_cbt_free(b);

	/* Censored timeouts lengthen the tail, never shorten it. */
	b = tk_cbt_new();
	feed_known(b);
	{
		uint32_t before = tk_cbt_timeout_ms(b);
		double a0 = tk_cbt_alpha(b);
		for (int i = 0; i < 5; i++)
			tk_cbt_timed_out(b, before);
		tap_ok(tk_cbt_alpha(b) < a0,
		       "timeouts count as censored: alpha %.3f < %.3f",
		       tk_cbt_alpha(b), a0);
	}
	/* The network changed: 18 of the last 20 timed out. */
	for (int i = 0; i < 13; i++)
		tk_cbt_timed_out(b, 3000);
	tap_ok(tk_cbt_timeout_ms(b) == 60000 && tk_cbt_count(b) == 0 &&
	       !tk_cbt_learned(b),
	       "18 of the last 20 timed out: history gone, back to 60 s");
	for (int i = 0; i < 18; i++)
		tk_cbt_timed_out(b, 60000);
	tap_eq_long(tk_cbt_timeout_ms(b), 120000,
		    "again, while at 60 s already: doubled");
	tk_cbt_free(b);

	/* cbtdisabled, cbtinitialtimeout, cbtmincircs from the consensus */
	b = tk_cbt_new();
	feed_known(b);
	strcpy(params[0].name, "cbtdisabled");
	params[0].value = 1;
	strcpy(params[1].name, "cbtinitialtimeout");
	params[1].value = 30000;
	c.n_params = 2;
	tk_cbt_params_from_consensus(&p, &c);
	tk_cbt_set_params(b, &p);
	tap_ok(tk_cbt_timeout_ms(b) == 30000 && tk_cbt_count(b) == 0,
	       "cbtdisabled: history dropped, cbtinitialtimeout (30 s)");
	strcpy(params[0].name, "cbtinitialtimeout");
	params[0].value = 30000;
	strcpy(params[1].name, "cbtmincircs");
	params[1].value = 10;
	tk_cbt_params_from_consensus(&p, &c);
	tk_cbt_set_params(b, &p);
	for (int i = 0; i < 9; i++)
		tk_cbt_built(b, 1000 + 10 * (uint32_t)i);
	tap_ok(!tk_cbt_learned(b), "cbtmincircs=10: 9 builds are too few");
	tk_cbt_built(b, 1500);
	tap_ok(tk_cbt_learned(b) && tk_cbt_timeout_ms(b) <= 1500,
	       "the 10th gives a fit (%u ms)", (unsigned)tk_cbt_timeout_ms(b));
	tk_cbt_free(b);

	/* Bounds and damage in state lines */
	b = tk_cbt_new();
	tap_eq_long(tk_cbt_load_line(b, "CircuitBuildTimeBin 1005 999999", err,
				     sizeof err),
		    1, "a huge bin count is read");
	tap_eq_long((long)tk_cbt_count(b), TK_CBT_NCIRCUITS,
		    "but at most 1000 times are held");
	tap_eq_long(tk_cbt_load_line(b, "CircuitBuildTimeBin 99999999 3", err,
				     sizeof err),
		    -1, "a time past the cap is refused");
	tap_eq_long(tk_cbt_load_line(b, "CircuitBuildTimeBin 1005", err,
				     sizeof err),
		    -1, "a bin without a count is refused");
	tap_eq_long(tk_cbt_load_line(b, "CircuitBuildTimeBin -5 2", err,
				     sizeof err),
		    -1, "a negative time is refused");
	tap_eq_long(tk_cbt_load_line(b, "Guard in=default", err, sizeof err),
		    0, "other lines are not ours");
	tk_cbt_load_done(b, splitmix, &seed);
	tk_cbt_free(b);

	/* A build at the cap is written back as a line that is read again
	 * (the bin's middle was 5 ms past the cap: fuzz_statefile) */
	char *cap_line;
	b = tk_cbt_new();
	tk_cbt_load_line(b, "CircuitBuildTimeBin 300000 2", err, sizeof err);
	tk_cbt_load_done(b, splitmix, &seed);
	text = tk_cbt_state_text(b);
	cap_line = text ? strstr(text, "CircuitBuildTimeBin ") : NULL;
	if (cap_line)
		cap_line[strcspn(cap_line, "\n")] = '\0';
	b2 = tk_cbt_new();
	tap_eq_long(cap_line ? tk_cbt_load_line(b2, cap_line, err, sizeof err) : -2, 1,
		    "a build at the cap comes back as a line read again (%s)",
		    cap_line ? cap_line : "none");
	free(text);
	tk_cbt_free(b);
	tk_cbt_free(b2);
	return tap_done();
}
