/* Link padding (padding.h) without I/O: the timeout distribution against
 * padding-spec §2.3's own figures, and a channel's padding decisions as
 * tor's client makes them, on a clock and random numbers of our own. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../unit/tap.h"
#include "onion/link/padding.h"

/* A scripted generator: returns v[0], v[1], ... */
struct script {
	const uint64_t *v;
	size_t n, i;
};

static uint64_t scripted(void *arg)
{
	struct script *s = arg;
	return s->i < s->n ? s->v[s->i++] : 0;
}

/* xorshift64*: reproducible, so the statistics below cannot flake. */
static uint64_t xs(void *arg)
{
	uint64_t *x = arg;
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ULL;
}

static void test_timeout_exact(void)
{
	static const uint64_t v[] = { 100, 7999, 3, 2, 8000 + 5, 8000 * 3 + 7 };
	struct script s = { v, 6, 0 };
	tap_eq_long(tk_padding_timeout(1500, 9500, scripted, &s), 1500 + 7999,
		    "low + the larger of two draws (100, 7999)");
	tap_eq_long(tk_padding_timeout(1500, 9500, scripted, &s), 1500 + 3,
		    "low + the larger of two draws (3, 2)");
	tap_eq_long(tk_padding_timeout(1500, 9500, scripted, &s), 1500 + 7,
		    "draws are taken modulo high - low (5, 7)");
	tap_eq_long(tk_padding_timeout(5000, 5000, scripted, &s), 5000,
		    "low == high: exactly low");
	tap_eq_long(tk_padding_timeout(5000, 4000, scripted, &s), 5000,
		    "high below low: low");
	tap_eq_long(tk_padding_timeout(0, 0, scripted, &s), 0,
		    "0, 0: padding off");
}

/* Mean of low + max(X, X), and of the smaller of two such timeouts (both
 * ends padding), over many draws; padding-spec §2.3's table gives
 * Exp[max(X,X)] and Exp[Z = min(Y,Y)] for R = high - low. */
static void test_timeout_distribution(void)
{
	static const struct {
		uint32_t low, high;
		double e_max, e_z;
	} rows[] = {
		{ 1500, 9500, 5332.8, 4266.2 },	 /* the defaults: R 8000 */
		{ 9000, 14000, 3332.8, 2666.0 }, /* reduced: R 5000 */
		{ 0, 2000, 1332.8, 1066.0 },
	};
	const int n = 400000;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
		double sum = 0, sum_z = 0;
		uint32_t lo = rows[r].low, hi = rows[r].high, min = UINT32_MAX,
			 max = 0;
		unsigned below_median = 0;
		double R = hi - lo;
		/* P(max(X,X) < m) = (m / R)^2: the median is R / sqrt(2) */
		uint32_t median = lo + (uint32_t)(R / sqrt(2.0));
		for (int i = 0; i < n; i++) {
			uint32_t a = tk_padding_timeout(lo, hi, xs, &seed);
			uint32_t b = tk_padding_timeout(lo, hi, xs, &seed);
			sum += a - lo;
			sum_z += (a < b ? a : b) - lo;
			min = a < min ? a : min;
			max = a > max ? a : max;
			below_median += a < median;
		}
		tap_ok(min >= lo && max < hi, "[%u, %u): every draw in range "
		       "(%u..%u)", lo, hi, min, max);
		tap_ok(fabs(sum / n - rows[r].e_max) < R * 0.005,
		       "[%u, %u): mean %.1f ms above low, padding-spec says "
		       "%.1f", lo, hi, sum / n, rows[r].e_max);
		tap_ok(fabs(sum_z / n - rows[r].e_z) < R * 0.005,
		       "[%u, %u): both ends padding, one cell every %.1f ms "
		       "above low, padding-spec says %.1f", lo, hi, sum_z / n,
		       rows[r].e_z);
		tap_ok(fabs((double)below_median / n - 0.5) < 0.005,
		       "[%u, %u): %.3f below R/sqrt(2): the max of two "
		       "uniforms, not one", lo, hi, (double)below_median / n);
	}
}

static void set_options(int connection_padding, int reduced)
{
	struct tk_padding_options o = { connection_padding, reduced };
	tk_padding_configure(&o);
}

static void test_channel_policy(void)
{
	struct tk_chanpad cp;
	tk_padding_negotiate neg;
	struct tk_padding_params p;
	uint64_t seed = 42, due, due2;

	tk_padding_params_init(&p);
	tk_padding_set_params(&p);
	set_options(TK_PADDING_AUTO, 0);

	tap_eq_long(tk_chanpad_open(&cp, 5, 1000, &neg), 0,
		    "auto, link 5: no PADDING_NEGOTIATE (as tor's clients)");
	tap_ok(!tk_chanpad_active(&cp) &&
		       tk_chanpad_due(&cp, xs, &seed) == UINT64_MAX,
	       "not padded before a multi-hop circuit");
	tk_chanpad_note_sent(&cp, TK_CELL_CREATE_FAST);
	tk_chanpad_note_sent(&cp, TK_CELL_RELAY); /* a BEGIN_DIR */
	tap_ok(!tk_chanpad_active(&cp), "one-hop directory traffic: still not");
	tap_ok(!tk_chanpad_relay_pads(&cp, 5), "nor does the relay");
	tk_chanpad_note_sent(&cp, TK_CELL_RELAY_EARLY); /* an EXTEND2 */
	tap_ok(tk_chanpad_active(&cp), "padded from the first RELAY_EARLY");
	tap_ok(tk_chanpad_relay_pads(&cp, 5), "and the relay pads too");
	due = tk_chanpad_due(&cp, xs, &seed);
	tap_ok(due >= 1000 + 1500 && due < 1000 + 9500,
	       "due 1.5 to 9.5 s after the last cell (+%llu ms)",
	       (unsigned long long)(due - 1000));
	due2 = tk_chanpad_due(&cp, xs, &seed);
	tap_eq_long((long)due2, (long)due, "drawn once per quiet spell");
	tk_chanpad_note_cell(&cp, 4000);
	due2 = tk_chanpad_due(&cp, xs, &seed);
	tap_ok(due2 >= 4000 + 1500 && due2 < 4000 + 9500,
	       "a cell either way starts a new spell (+%llu ms)",
	       (unsigned long long)(due2 - 4000));

	tk_chanpad_open(&cp, 4, 0, &neg);
	tk_chanpad_note_multihop(&cp);
	tap_ok(!tk_chanpad_active(&cp) && !tk_chanpad_relay_pads(&cp, 4),
	       "auto, link 4: no padding either way");

	set_options(1, 0);
	tap_eq_long(tk_chanpad_open(&cp, 4, 0, &neg), 0,
		    "ConnectionPadding 1, link 4: nothing to negotiate");
	tk_chanpad_note_multihop(&cp);
	tap_ok(tk_chanpad_active(&cp), "ConnectionPadding 1: padded anyway");

	set_options(0, 0);
	tap_eq_long(tk_chanpad_open(&cp, 5, 0, &neg), 1,
		    "ConnectionPadding 0, link 5: a PADDING_NEGOTIATE");
	tap_ok(neg.version == 0 && neg.command == TK_PADDING_NEGOTIATE_STOP &&
		       neg.ito_low_ms == 0 && neg.ito_high_ms == 0,
	       "version 0, STOP, no timeouts");
	tk_chanpad_note_multihop(&cp);
	tap_ok(!tk_chanpad_active(&cp) && !tk_chanpad_relay_pads(&cp, 5),
	       "ConnectionPadding 0: no padding either way");
	tap_eq_long(tk_chanpad_open(&cp, 4, 0, &neg), 0,
		    "ConnectionPadding 0, link 4: nothing to negotiate");

	set_options(TK_PADDING_AUTO, 1);
	tap_eq_long(tk_chanpad_open(&cp, 5, 0, &neg), 1,
		    "ReducedConnectionPadding: STOP to the relay");
	tk_chanpad_note_multihop(&cp);
	tap_ok(tk_chanpad_active(&cp) && !tk_chanpad_relay_pads(&cp, 5),
	       "ReducedConnectionPadding: we pad, the relay does not");
	due = tk_chanpad_due(&cp, xs, &seed);
	tap_ok(due >= 9000 && due < 14000,
	       "ReducedConnectionPadding: due 9 to 14 s after (%llu ms)",
	       (unsigned long long)due);

	set_options(TK_PADDING_AUTO, 0);
	p.pad_before_usage = 0;
	tk_padding_set_params(&p);
	tk_chanpad_open(&cp, 5, 0, &neg);
	tk_chanpad_note_sent(&cp, TK_CELL_RELAY_EARLY);
	tap_ok(!tk_chanpad_active(&cp),
	       "nf_pad_before_usage=0: not padded for extends alone");
	tk_chanpad_note_sent(&cp, TK_CELL_RELAY);
	tap_ok(tk_chanpad_active(&cp), "... but from the first relay data");

	tk_padding_params_init(&p);
	p.ito_low = p.ito_high = 0;
	tk_padding_set_params(&p);
	tk_chanpad_open(&cp, 5, 0, &neg);
	tk_chanpad_note_multihop(&cp);
	tap_ok(!tk_chanpad_active(&cp) && !tk_chanpad_relay_pads(&cp, 5),
	       "nf_ito_low = nf_ito_high = 0: padding off both ways");

	p.ito_low = 70000;
	p.ito_high = 100;
	tk_padding_set_params(&p);
	tap_ok(tk_padding_params()->ito_low == 60000 &&
		       tk_padding_params()->ito_high == 60000,
	       "parameters clamped as tor does (%u, %u)",
	       tk_padding_params()->ito_low, tk_padding_params()->ito_high);
	tk_padding_params_init(&p);
	tk_padding_set_params(&p);
}

int main(void)
{
	test_timeout_exact();
	test_timeout_distribution();
	test_channel_policy();
	return tap_done();
}
