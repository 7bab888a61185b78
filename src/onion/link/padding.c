/* padding.h: tor's link padding policy, its timeout and its cell. */
#include "onion/link/padding.h"

#include <string.h>

#define ITO_MAX 60000 /* tor's upper clamp for every nf_ito_* */

static struct tk_padding_options options = { TK_PADDING_AUTO, 0 };
static struct tk_padding_params params = { 1500, 9500, 9000, 14000, 1 };

void
tk_padding_params_init(struct tk_padding_params *p)
{
	p->ito_low = 1500;
	p->ito_high = 9500;
	p->ito_low_reduced = 9000;
	p->ito_high_reduced = 14000;
	p->pad_before_usage = 1;
}

static void
clamp_pair(uint32_t *lo, uint32_t *hi)
{
	if (*lo > ITO_MAX)
		*lo = ITO_MAX;
	if (*hi > ITO_MAX)
		*hi = ITO_MAX;
	if (*hi < *lo)
		*hi = *lo;
}

void
tk_padding_params_clamp(struct tk_padding_params *p)
{
	clamp_pair(&p->ito_low, &p->ito_high);
	clamp_pair(&p->ito_low_reduced, &p->ito_high_reduced);
	p->pad_before_usage = p->pad_before_usage != 0;
}

void
tk_padding_configure(const struct tk_padding_options *o)
{
	options = *o;
}

void
tk_padding_set_params(const struct tk_padding_params *p)
{
	params = *p;
	tk_padding_params_clamp(&params);
}

const struct tk_padding_options *
tk_padding_options(void)
{
	return &options;
}

const struct tk_padding_params *
tk_padding_params(void)
{
	return &params;
}

/* Uniform on [0, n), n > 0, without modulo bias. */
static uint32_t
uniform(uint32_t n, tk_padding_rng rng, void *arg)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n, v;
	do
		v = rng(arg);
	while (v >= limit);
	return (uint32_t)(v % n);
}

uint32_t
tk_padding_timeout(uint32_t low, uint32_t high, tk_padding_rng rng, void *arg)
{
	uint32_t x1, x2;
	if (low == 0 && high == 0)
		return 0;
	if (high <= low)
		return low;
	/* The larger of two draws: both ends pad, so a quiet channel sees
	 * the smaller of the two sides' timeouts, and min(max(X,X),
	 * max(X,X)) averages about the middle of the range (padding-spec
	 * §2.3). */
	x1 = uniform(high - low, rng, arg);
	x2 = uniform(high - low, rng, arg);
	return low + (x1 > x2 ? x1 : x2);
}

int
tk_chanpad_open(struct tk_chanpad *cp, unsigned link_version, uint64_t now,
		tk_padding_negotiate *neg)
{
	int enabled = link_version >= 5; /* tor: padding on from link 5 */
	int want = options.connection_padding;
	memset(cp, 0, sizeof *cp);
	memset(neg, 0, sizeof *neg);
	cp->last_xfer = now;
	cp->pads = enabled;
	if (!enabled && want != 1)
		return 0;
	if (want == 0) {
		/* Turned off: ask the relay to stop, and stop ourselves. */
		cp->pads = 0;
		cp->stop_sent = enabled;
	} else {
		/* Forced on (1) on any link; reduced: the relay stops and we
		 * pad at the reduced rate. */
		cp->pads = 1;
		cp->reduced = options.reduced;
		cp->stop_sent = enabled && options.reduced;
	}
	if (!cp->stop_sent)
		return 0;
	neg->version = 0;
	neg->command = TK_PADDING_NEGOTIATE_STOP;
	return 1;
}

void
tk_chanpad_note_cell(struct tk_chanpad *cp, uint64_t now)
{
	cp->last_xfer = now;
}

void
tk_chanpad_note_sent(struct tk_chanpad *cp, uint8_t cmd)
{
	if (cmd == TK_CELL_RELAY_EARLY && cp->usage < TK_PAD_FULL_CIRCS)
		cp->usage = TK_PAD_FULL_CIRCS;
	else if (cmd == TK_CELL_RELAY && cp->usage == TK_PAD_FULL_CIRCS)
		cp->usage = TK_PAD_USER_DATA;
}

void
tk_chanpad_note_multihop(struct tk_chanpad *cp)
{
	if (cp->usage < TK_PAD_FULL_CIRCS)
		cp->usage = TK_PAD_FULL_CIRCS;
}

static int
used_enough(const struct tk_chanpad *cp)
{
	if (cp->usage == TK_PAD_USER_DATA)
		return 1;
	return cp->usage == TK_PAD_FULL_CIRCS && params.pad_before_usage;
}

int
tk_chanpad_active(const struct tk_chanpad *cp)
{
	uint32_t hi = cp->reduced ? params.ito_high_reduced : params.ito_high;
	uint32_t lo = cp->reduced ? params.ito_low_reduced : params.ito_low;
	return cp->pads && used_enough(cp) && (lo != 0 || hi != 0);
}

uint64_t
tk_chanpad_due(struct tk_chanpad *cp, tk_padding_rng rng, void *arg)
{
	uint32_t lo, hi, t;
	if (!tk_chanpad_active(cp))
		return UINT64_MAX;
	if (cp->drawn && cp->drawn_from == cp->last_xfer)
		return cp->due;
	lo = cp->reduced ? params.ito_low_reduced : params.ito_low;
	hi = cp->reduced ? params.ito_high_reduced : params.ito_high;
	t = tk_padding_timeout(lo, hi, rng, arg);
	cp->drawn = 1;
	cp->drawn_from = cp->last_xfer;
	cp->due = cp->last_xfer + t;
	return cp->due;
}

int
tk_chanpad_relay_pads(const struct tk_chanpad *cp, unsigned link_version)
{
	return link_version >= 5 && !cp->stop_sent &&
	       (params.ito_low != 0 || params.ito_high != 0) && used_enough(cp);
}
