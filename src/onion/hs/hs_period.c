/* Time periods and the shared random value a client fetches with. */
#include "onion/hs/hs_period.h"

#include <string.h>

#include "onion/base/keccak.h"
#include "onion/hs/hs_crypto.h"
#include "onion/netdoc/consensus.h"

/* One shared-random protocol run: a commit phase and a reveal phase of 12
 * voting rounds each (srv-spec). */
#define SR_ROUNDS_PER_PHASE 12
#define SR_ROUNDS_PER_RUN (2 * SR_ROUNDS_PER_PHASE)

uint64_t
tk_hs_period_num(int64_t t, uint64_t len_min, int64_t offset_s)
{
	int64_t minutes = t / 60, offset_min = offset_s / 60;
	if (len_min == 0 || minutes <= offset_min)
		return 0;
	return (uint64_t)(minutes - offset_min) / len_min;
}

int64_t
tk_hs_period_start(uint64_t num, uint64_t len_min, int64_t offset_s)
{
	return (int64_t)(num * len_min * 60) + offset_s;
}

static int64_t
voting_interval(const struct tk_consensus *c)
{
	/* The parser guarantees valid-after < fresh-until. */
	return c->fresh_until - c->valid_after;
}

uint64_t
tk_hs_period_len(const struct tk_consensus *c, int testing)
{
	if (testing) {
		int64_t run = SR_ROUNDS_PER_RUN * voting_interval(c) / 60;
		return run > 0 ? (uint64_t)run : 1;
	}
	return (uint64_t)tk_consensus_param(c, "hsdir_interval",
					    TK_HS_PERIOD_LEN_DEFAULT, 30,
					    60 * 24 * 10);
}

int64_t
tk_hs_period_offset(const struct tk_consensus *c)
{
	return SR_ROUNDS_PER_PHASE * voting_interval(c);
}

void
tk_hs_srv_disaster(uint64_t num, uint64_t len_min, uint8_t srv[32])
{
	static const char prefix[] = "shared-random-disaster";
	uint8_t len8[8], num8[8];
	tk_keccak k;
	tk_hs_int8(len_min, len8);
	tk_hs_int8(num, num8);
	tk_sha3_256_init(&k);
	tk_keccak_absorb(&k, prefix, sizeof prefix - 1);
	tk_keccak_absorb(&k, len8, sizeof len8);
	tk_keccak_absorb(&k, num8, sizeof num8);
	tk_sha3_256_final(&k, srv);
}

/* 1 if valid-after lies in the part of a period after its start and
 * before the next SRV run begins (the "-" segments of rend-spec-v3
 * §2.2.4's picture), where the current SRV already belongs to the
 * current period. */
static int
between_tp_and_srv(const struct tk_consensus *c, uint64_t len_min,
		   int64_t offset_s)
{
	int64_t vi = voting_interval(c), va = c->valid_after;
	int64_t round = (va / vi) % SR_ROUNDS_PER_RUN;
	int64_t srv_start = va - round * vi;
	uint64_t next = tk_hs_period_num(srv_start, len_min, offset_s) + 1;
	int64_t tp_start = tk_hs_period_start(next, len_min, offset_s);
	return !(va >= srv_start && va < tp_start);
}

void
tk_hs_dirparams_init(struct tk_hs_dirparams *p, const struct tk_consensus *c,
		     int testing)
{
	int64_t offset = tk_hs_period_offset(c);
	memset(p, 0, sizeof *p);
	p->period_len_min = tk_hs_period_len(c, testing);
	p->period_num = tk_hs_period_num(c->valid_after, p->period_len_min,
					 offset);
	p->period_start = tk_hs_period_start(p->period_num, p->period_len_min,
					     offset);
	p->period_end = tk_hs_period_start(p->period_num + 1, p->period_len_min,
					   offset);
	p->srv_is_current = between_tp_and_srv(c, p->period_len_min, offset);
	if (p->srv_is_current ? c->has_srv_current : c->has_srv_previous) {
		memcpy(p->srv,
		       p->srv_is_current ? c->srv_current : c->srv_previous,
		       32);
	} else {
		tk_hs_srv_disaster(p->period_num, p->period_len_min, p->srv);
		p->srv_is_disaster = 1;
	}
	p->n_replicas = tk_consensus_param(c, "hsdir_n_replicas", 2, 1, 16);
	p->spread_fetch = tk_consensus_param(c, "hsdir_spread_fetch", 3, 1,
					     128);
	p->spread_store = tk_consensus_param(c, "hsdir_spread_store", 4, 1,
					     128);
	p->max_desc_size = (size_t)tk_consensus_param(c,
						      "HSV3MaxDescriptorSize",
						      50000, 1, INT32_MAX);
}
