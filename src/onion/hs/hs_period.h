/* Time periods and shared random values (rend-spec-v3 §2.2.1, §2.2.4,
 * §2.3): which period a client is in, which shared random value places
 * descriptors in it, and the consensus parameters of the hash ring.
 *
 * Everything is a function of the consensus, never of the local clock:
 * Tor uses the valid-after time of its live consensus so that clients
 * and services with skewed clocks still agree. The rotation offset is 12
 * voting intervals (12 h on the public network); on a test network
 * (TestingTorNetwork) a period is one shared-random protocol run, 24
 * voting intervals, instead of hsdir_interval, so that it rotates within
 * minutes. */
#ifndef TK_ONION_HS_HS_PERIOD_H
#define TK_ONION_HS_HS_PERIOD_H

#include <stddef.h>
#include <stdint.h>

struct tk_consensus;

#define TK_HS_PERIOD_LEN_DEFAULT 1440 /* minutes */

/* The period number of time t (seconds since the epoch) for periods of
 * len_min minutes starting offset_s seconds after a multiple of len_min
 * (rend-spec-v3 §2.2.1). 0 for times before the first period. */
uint64_t tk_hs_period_num(int64_t t, uint64_t len_min, int64_t offset_s);
/* When period num begins, in seconds since the epoch. */
int64_t tk_hs_period_start(uint64_t num, uint64_t len_min, int64_t offset_s);

/* Period length (minutes) and rotation offset (seconds) that c implies. */
uint64_t tk_hs_period_len(const struct tk_consensus *c, int testing);
int64_t tk_hs_period_offset(const struct tk_consensus *c);

/* SRV = H("shared-random-disaster" | INT_8(len_min) | INT_8(num)): what
 * replaces a shared random value the consensus lacks. */
void tk_hs_srv_disaster(uint64_t num, uint64_t len_min, uint8_t srv[32]);

/* What a client needs to find a descriptor with consensus c. */
struct tk_hs_dirparams {
	uint64_t period_num;	 /* the current period: fetch in it */
	uint64_t period_len_min; /* its length */
	int64_t period_start;	 /* [start, end) in seconds */
	int64_t period_end;
	uint8_t srv[32];      /* the shared random value to fetch with */
	int srv_is_current;   /* 1 the current SRV, 0 the previous one */
	int srv_is_disaster;  /* the consensus lacked it: computed */
	int n_replicas;	      /* hsdir_n_replicas, 1..16 (2) */
	int spread_fetch;     /* hsdir_spread_fetch, 1..128 (3) */
	int spread_store;     /* hsdir_spread_store, 1..128 (4) */
	size_t max_desc_size; /* HSV3MaxDescriptorSize (50000) */
};

/* Fills p from c (rend-spec-v3 §2.2.4.1): the current period at c's
 * valid-after; the current SRV if valid-after lies between the start of
 * the current SRV protocol run and the start of the next period, else the
 * previous SRV (the client stays on the SRV its period began with). */
void tk_hs_dirparams_init(struct tk_hs_dirparams *p,
			  const struct tk_consensus *c, int testing);

#endif
