/* cbt.h: the adaptive circuit build timeout. */
#include "onion/client/cbt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/fmath.h"
#include "onion/netdoc/consensus.h"

#define NBINS (TK_CBT_MAX_TIMEOUT_MS / TK_CBT_BIN_MS + 1)

struct tk_cbt {
	struct tk_cbt_params p;
	uint32_t ms[TK_CBT_NCIRCUITS];
	uint8_t censored[TK_CBT_NCIRCUITS];
	size_t n, next; /* held; slot written next (the oldest when full) */
	uint8_t recent[TK_CBT_MAX_RECENT]; /* 1: timed out */
	size_t n_recent, recent_next;
	uint32_t timeout_ms, close_ms;
	int learned;
	double xm, alpha;
	int dirty;
};

void
tk_cbt_params_init(struct tk_cbt_params *p)
{
	p->disabled = 0;
	p->num_modes = 10;
	p->recent_count = 20;
	p->max_timeouts = 18;
	p->min_circs = 100;
	p->quantile = 80;
	p->close_quantile = 99;
	p->min_timeout_ms = 10;
	p->initial_timeout_ms = 60000;
}

void
tk_cbt_params_from_consensus(struct tk_cbt_params *p,
			     const struct tk_consensus *c)
{
	tk_cbt_params_init(p);
	if (!c)
		return;
	/* path-spec 2.4.6's ranges; the timeouts also stay under our cap,
	 * which bounds how long a build timer can hold a circuit. */
	p->disabled = tk_consensus_param(c, "cbtdisabled", 0, 0, 1);
	p->num_modes = (unsigned)tk_consensus_param(c, "cbtnummodes", 10, 1,
						    20);
	p->recent_count = (unsigned)tk_consensus_param(c, "cbtrecentcount", 20,
						       3, TK_CBT_MAX_RECENT);
	p->max_timeouts = (unsigned)tk_consensus_param(c, "cbtmaxtimeouts", 18,
						       3, 10000);
	p->min_circs = (unsigned)tk_consensus_param(c, "cbtmincircs", 100, 1,
						    10000);
	p->quantile = (unsigned)tk_consensus_param(c, "cbtquantile", 80, 10,
						   99);
	p->close_quantile =
		(unsigned)tk_consensus_param(c, "cbtclosequantile", 99,
					     (int32_t)p->quantile, 99);
	p->min_timeout_ms = (uint32_t)tk_consensus_param(c, "cbtmintimeout", 10,
							 10,
							 TK_CBT_MAX_TIMEOUT_MS);
	p->initial_timeout_ms =
		(uint32_t)tk_consensus_param(c, "cbtinitialtimeout", 60000,
					     (int32_t)p->min_timeout_ms,
					     TK_CBT_MAX_TIMEOUT_MS);
}

tk_cbt *
tk_cbt_new(void)
{
	tk_cbt *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	tk_cbt_params_init(&b->p);
	b->timeout_ms = b->close_ms = b->p.initial_timeout_ms;
	return b;
}

void
tk_cbt_free(tk_cbt *b)
{
	free(b);
}

static void
forget(tk_cbt *b)
{
	b->n = b->next = 0;
	b->n_recent = b->recent_next = 0;
	b->learned = 0;
	b->xm = b->alpha = 0;
	b->dirty = 1;
}

/* ceil() for the fit's results, finite and within 0..TK_CBT_MAX_TIMEOUT_MS
 * by then (without libm: see base/fmath.h) */
static uint32_t
ceil_ms(double t)
{
	uint32_t i = (uint32_t)t;
	return i + (t > (double)i);
}

/* path-spec 2.4.3 */
static void
fit(tk_cbt *b)
{
	size_t n_done = 0, top[20];
	uint32_t max_ms = 0, nb, *bins;
	double wsum = 0, cnt = 0, logs = 0, xm, alpha, q, t, c;
	unsigned modes = b->p.num_modes < 20 ? b->p.num_modes : 20, nt = 0;

	if (b->p.disabled) {
		b->timeout_ms = b->close_ms = b->p.initial_timeout_ms;
		b->learned = 0;
		return;
	}
	for (size_t i = 0; i < b->n; i++)
		if (!b->censored[i])
			n_done++;
	if (n_done < b->p.min_circs || n_done == 0)
		return; /* keep what we have: initial, or a reset's */
	/* The histogram is scratch, as long as the slowest build needs:
	 * kept in the struct at its largest (NBINS), it was 120 KB resident
	 * for the daemon's life, before any circuit was built. */
	for (size_t i = 0; i < b->n; i++)
		if (!b->censored[i] && b->ms[i] > max_ms)
			max_ms = b->ms[i];
	nb = max_ms / TK_CBT_BIN_MS + 1;
	if (nb > NBINS)
		nb = NBINS;
	bins = calloc(nb, sizeof *bins);
	if (!bins)
		return; /* keep what we have, as with too few builds */
	for (size_t i = 0; i < b->n; i++) {
		uint32_t bin;
		if (b->censored[i])
			continue;
		bin = b->ms[i] / TK_CBT_BIN_MS;
		if (bin >= nb)
			bin = nb - 1;
		bins[bin]++;
	}
	/* The most frequent bins; ties go to the earlier (shorter) bin. */
	for (unsigned k = 0; k < modes; k++) {
		long best = -1;
		for (uint32_t i = 0; i < nb; i++) {
			int taken = 0;
			for (unsigned j = 0; j < nt; j++)
				taken |= top[j] == i;
			if (!taken && bins[i] &&
			    (best < 0 || bins[i] > bins[best]))
				best = (long)i;
		}
		if (best < 0)
			break;
		top[nt++] = (size_t)best;
	}
	for (unsigned j = 0; j < nt; j++) {
		double mid = (double)top[j] * TK_CBT_BIN_MS +
			     TK_CBT_BIN_MS / 2.0;
		wsum += mid * bins[top[j]];
		cnt += bins[top[j]];
	}
	free(bins);
	xm = wsum / cnt;
	/* alpha = n / (sum ln(max(Xm, x_i)) - N ln Xm): the sum runs over
	 * censored times too (they lasted at least that long), n only over
	 * completed builds; without censored times this is path-spec's. */
	for (size_t i = 0; i < b->n; i++)
		logs += tk_ln(b->ms[i] > xm ? (double)b->ms[i] : xm);
	logs -= (double)b->n * tk_ln(xm);
	if (!(logs > 0))
		return; /* every build at Xm: no tail to fit */
	alpha = (double)n_done / logs;
	q = b->p.quantile / 100.0;
	t = xm / tk_pow(1.0 - q, 1.0 / alpha);
	c = xm / tk_pow(1.0 - b->p.close_quantile / 100.0, 1.0 / alpha);
	if (!isfinite(t) || !isfinite(c))
		return;
	if (t > max_ms)
		t = max_ms;
	if (c > 2.0 * max_ms)
		c = 2.0 * max_ms;
	if (c < b->p.initial_timeout_ms)
		c = b->p.initial_timeout_ms;
	if (t < b->p.min_timeout_ms)
		t = b->p.min_timeout_ms;
	if (t > TK_CBT_MAX_TIMEOUT_MS)
		t = TK_CBT_MAX_TIMEOUT_MS;
	if (c > TK_CBT_MAX_TIMEOUT_MS)
		c = TK_CBT_MAX_TIMEOUT_MS;
	b->xm = xm;
	b->alpha = alpha;
	b->timeout_ms = ceil_ms(t);
	b->close_ms = ceil_ms(c);
	b->learned = 1;
}

void
tk_cbt_set_params(tk_cbt *b, const struct tk_cbt_params *p)
{
	if (!memcmp(&b->p, p, sizeof *p))
		return;
	b->p = *p;
	if (p->disabled)
		forget(b);
	if (!b->learned)
		b->timeout_ms = b->close_ms = p->initial_timeout_ms;
	fit(b);
}

static void
record(tk_cbt *b, uint32_t ms, int censored)
{
	if (ms > TK_CBT_MAX_TIMEOUT_MS)
		ms = TK_CBT_MAX_TIMEOUT_MS;
	b->ms[b->next] = ms;
	b->censored[b->next] = (uint8_t)censored;
	b->next = (b->next + 1) % TK_CBT_NCIRCUITS;
	if (b->n < TK_CBT_NCIRCUITS)
		b->n++;
	b->dirty = 1;
}

/* path-spec 2.4.5 */
static void
recent(tk_cbt *b, int timed_out)
{
	size_t window = b->p.recent_count < TK_CBT_MAX_RECENT
				? b->p.recent_count
				: TK_CBT_MAX_RECENT;
	unsigned n_to = 0;

	if (b->n_recent > window)
		b->n_recent = window; /* cbtrecentcount shrank */
	b->recent_next %= window;
	b->recent[b->recent_next] = (uint8_t)timed_out;
	b->recent_next = (b->recent_next + 1) % window;
	if (b->n_recent < window)
		b->n_recent++;
	for (size_t i = 0; i < b->n_recent; i++)
		n_to += b->recent[i];
	if (n_to < b->p.max_timeouts)
		return;
	{
		uint32_t was = b->timeout_ms;
		forget(b);
		if (was >= b->p.initial_timeout_ms)
			b->timeout_ms = was > TK_CBT_MAX_TIMEOUT_MS / 2
						? TK_CBT_MAX_TIMEOUT_MS
						: was * 2;
		else
			b->timeout_ms = b->p.initial_timeout_ms;
		b->close_ms = b->timeout_ms;
	}
}

void
tk_cbt_built(tk_cbt *b, uint32_t ms)
{
	if (b->p.disabled)
		return;
	record(b, ms, 0);
	recent(b, 0);
	fit(b);
}

void
tk_cbt_timed_out(tk_cbt *b, uint32_t ms)
{
	if (b->p.disabled)
		return;
	record(b, ms, 1);
	recent(b, 1);
	fit(b);
}

uint32_t
tk_cbt_timeout_ms(const tk_cbt *b)
{
	return b->timeout_ms;
}

uint32_t
tk_cbt_close_ms(const tk_cbt *b)
{
	return b->close_ms;
}

int
tk_cbt_learned(const tk_cbt *b)
{
	return b->learned;
}

size_t
tk_cbt_count(const tk_cbt *b)
{
	return b->n;
}

double
tk_cbt_xm(const tk_cbt *b)
{
	return b->xm;
}

double
tk_cbt_alpha(const tk_cbt *b)
{
	return b->alpha;
}

/* ---- state file */

static int
parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *e;
	unsigned long v;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &e, 10);
	while (*e == ' ' || *e == '\t' || *e == '\r')
		e++;
	if (*e || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int
tk_cbt_load_line(tk_cbt *b, const char *line, char *err, size_t errlen)
{
	static const char bin_kw[] = "CircuitBuildTimeBin ",
			  ab_kw[] = "CircuitBuildAbandonedCount ",
			  tot_kw[] = "TotalBuildTimes ";
	uint32_t ms, count;

	if (!strncmp(line, bin_kw, sizeof bin_kw - 1)) {
		char msbuf[16];
		const char *p = line + sizeof bin_kw - 1;
		size_t len = strcspn(p, " ");
		if (len == 0 || len >= sizeof msbuf || !p[len]) {
			snprintf(err, errlen, "CircuitBuildTimeBin: not MS N");
			return -1;
		}
		memcpy(msbuf, p, len);
		msbuf[len] = '\0';
		if (parse_u32(msbuf, TK_CBT_MAX_TIMEOUT_MS, &ms) ||
		    parse_u32(p + len + 1, 1000000, &count)) {
			snprintf(err, errlen, "CircuitBuildTimeBin: not MS N");
			return -1;
		}
		/* Bounded: what would not fit in the ring is dropped. */
		while (count-- && b->n < TK_CBT_NCIRCUITS)
			record(b, ms, 0);
		return 1;
	}
	if (!strncmp(line, ab_kw, sizeof ab_kw - 1)) {
		if (parse_u32(line + sizeof ab_kw - 1, 1000000, &count)) {
			snprintf(err, errlen,
				 "CircuitBuildAbandonedCount: not a number");
			return -1;
		}
		/* Their times are not stored: they count at the longest
		 * build once loading is done. */
		while (count-- && b->n < TK_CBT_NCIRCUITS)
			record(b, 0, 1);
		return 1;
	}
	if (!strncmp(line, tot_kw, sizeof tot_kw - 1))
		return 1; /* informative only */
	return 0;
}

void
tk_cbt_load_done(tk_cbt *b, uint64_t (*rand)(void *arg), void *arg)
{
	uint32_t max_ms = 0;
	/* The abandoned ones count at the longest completed build. */
	for (size_t i = 0; i < b->n; i++)
		if (!b->censored[i] && b->ms[i] > max_ms)
			max_ms = b->ms[i];
	for (size_t i = 0; i < b->n; i++)
		if (b->censored[i])
			b->ms[i] = max_ms ? max_ms : b->p.initial_timeout_ms;
	for (size_t i = b->n; i > 1; i--) {
		size_t j = (size_t)(rand(arg) % i);
		uint32_t t = b->ms[i - 1];
		uint8_t c = b->censored[i - 1];
		b->ms[i - 1] = b->ms[j];
		b->censored[i - 1] = b->censored[j];
		b->ms[j] = t;
		b->censored[j] = c;
	}
	b->next = b->n % TK_CBT_NCIRCUITS;
	fit(b);
	b->dirty = 0;
}

char *
tk_cbt_state_text(const tk_cbt *b)
{
	/* One line a distinct bin at most, plus two. */
	size_t cap = 128 + b->n * 48;
	char *text = malloc(cap), *p;
	size_t abandoned = 0, done = 0;
	unsigned char *seen;

	if (!text)
		return NULL;
	seen = calloc(b->n ? b->n : 1, 1);
	if (!seen) {
		free(text);
		return NULL;
	}
	p = text;
	for (size_t i = 0; i < b->n; i++) {
		if (b->censored[i]) {
			abandoned++;
			continue;
		}
		done++;
	}
	p += sprintf(p, "TotalBuildTimes %zu\n", done);
	p += sprintf(p, "CircuitBuildAbandonedCount %zu\n", abandoned);
	/* Bins in order of first appearance; each once with its count. */
	for (size_t i = 0; i < b->n; i++) {
		uint32_t bin, mid, count = 0;
		if (b->censored[i] || seen[i])
			continue;
		bin = b->ms[i] / TK_CBT_BIN_MS;
		for (size_t j = i; j < b->n; j++)
			if (!b->censored[j] &&
			    b->ms[j] / TK_CBT_BIN_MS == bin) {
				seen[j] = 1;
				count++;
			}
		/* The bin's middle, but never past the longest time the
		 * loader takes: a build of TK_CBT_MAX_TIMEOUT_MS would
		 * otherwise come back as a line we refuse (fuzz_statefile) */
		mid = bin * TK_CBT_BIN_MS + TK_CBT_BIN_MS / 2;
		if (mid > TK_CBT_MAX_TIMEOUT_MS)
			mid = TK_CBT_MAX_TIMEOUT_MS;
		p += sprintf(p, "CircuitBuildTimeBin %u %u\n", (unsigned)mid,
			     (unsigned)count);
	}
	free(seen);
	return text;
}

int
tk_cbt_dirty(const tk_cbt *b)
{
	return b->dirty;
}

void
tk_cbt_saved(tk_cbt *b)
{
	b->dirty = 0;
}
