/* The adaptive circuit build timeout (proposal 151, path-spec 2.4): the
 * time after which a circuit still building is given up, learned from
 * the times our recent 3-hop circuits took.
 *
 * Up to 1000 recent build times are kept. Until cbtmincircs of them are
 * in, the timeout is cbtinitialtimeout (60 s). Then, after every build,
 * a Pareto tail is fitted: Xm is the weighted average of the midpoints
 * of the cbtnummodes most frequent 10 ms bins, alpha its maximum
 * likelihood estimate, and the timeout the cbtquantile point of the
 * curve, Xm / (1 - q)^(1/alpha), at most the longest build seen and at
 * least cbtmintimeout. Circuits given up at the timeout after their
 * first hop was up enter the fit as right-censored at that time (they
 * took at least that long). If cbtmaxtimeouts of the last
 * cbtrecentcount such circuits timed out, the network changed: the
 * history goes and the timeout is reset to cbtinitialtimeout (doubled
 * if it was that already, up to TK_CBT_MAX_TIMEOUT_MS).
 *
 * Persisted as tor's state-file lines: "CircuitBuildTimeBin MS COUNT"
 * (bin midpoints), "CircuitBuildAbandonedCount N", "TotalBuildTimes N";
 * loaded back in shuffled order, so that the oldest are still the first
 * to go. */
#ifndef TK_ONION_CLIENT_CBT_H
#define TK_ONION_CLIENT_CBT_H

#include <stddef.h>
#include <stdint.h>

#define TK_CBT_NCIRCUITS 1000 /* build times kept */
#define TK_CBT_BIN_MS 10
#define TK_CBT_MAX_RECENT 1000
#define TK_CBT_MAX_TIMEOUT_MS 300000

/* path-spec 2.4.6, with tor's defaults from tk_cbt_params_init. */
struct tk_cbt_params {
	int disabled;		     /* cbtdisabled 0 */
	unsigned num_modes;	     /* cbtnummodes 10 */
	unsigned recent_count;	     /* cbtrecentcount 20 */
	unsigned max_timeouts;	     /* cbtmaxtimeouts 18 */
	unsigned min_circs;	     /* cbtmincircs 100 */
	unsigned quantile;	     /* cbtquantile 80 */
	unsigned close_quantile;     /* cbtclosequantile 99 */
	uint32_t min_timeout_ms;     /* cbtmintimeout 10 */
	uint32_t initial_timeout_ms; /* cbtinitialtimeout 60000 */
};
struct tk_consensus;
void tk_cbt_params_init(struct tk_cbt_params *p);
void tk_cbt_params_from_consensus(struct tk_cbt_params *p,
				  const struct tk_consensus *c);

typedef struct tk_cbt tk_cbt;

tk_cbt *tk_cbt_new(void);
void tk_cbt_free(tk_cbt *b);
/* Refits when the parameters differ (cbtdisabled drops the history). */
void tk_cbt_set_params(tk_cbt *b, const struct tk_cbt_params *p);

/* A 3-hop circuit was built in ms. */
void tk_cbt_built(tk_cbt *b, uint32_t ms);
/* A circuit whose first hop was up was given up after ms. */
void tk_cbt_timed_out(tk_cbt *b, uint32_t ms);

/* The timeout to use now, and the fitted close timeout (path-spec
 * 2.4.3; the initial timeout while learning). */
uint32_t tk_cbt_timeout_ms(const tk_cbt *b);
uint32_t tk_cbt_close_ms(const tk_cbt *b);
/* 1 once a fit is in use. */
int tk_cbt_learned(const tk_cbt *b);
/* Build times held (completed, and censored). */
size_t tk_cbt_count(const tk_cbt *b);
/* The last fit's parameters (0 before any). */
double tk_cbt_xm(const tk_cbt *b);
double tk_cbt_alpha(const tk_cbt *b);

/* One state-file line (without its newline). 1 if it was ours, 0 if it
 * is not a CBT line, -1 (err) if it is one but damaged. */
int tk_cbt_load_line(tk_cbt *b, const char *line, char *err, size_t errlen);
/* After the lines: shuffles what was loaded (rand: uniform 64-bit
 * numbers) and fits. */
void tk_cbt_load_done(tk_cbt *b, uint64_t (*rand)(void *arg), void *arg);
/* The lines for the state file, malloc'd ("\n" ended). NULL: no memory. */
char *tk_cbt_state_text(const tk_cbt *b);
int tk_cbt_dirty(const tk_cbt *b);
void tk_cbt_saved(tk_cbt *b);

#endif
