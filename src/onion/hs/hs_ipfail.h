/* The client's record of introduction points that failed, by service
 * and by point (its auth key), kept across requests as tor keeps its
 * client introduction-point state cache: a point that refused
 * INTRODUCE1 (an error) or timed out is not tried again while its
 * record lives; one that could not be reached (its circuit failed to
 * build) only after TK_HS_IPFAIL_UNREACHABLE_MAX such failures. A
 * record lives TK_HS_IPFAIL_AGE_MS from its first failure (tor: two
 * minutes, swept every 30 s; here exactly, on the caller's sweep and on
 * every lookup). NEWNYM forgets every record.
 *
 * Bounded: at most TK_HS_IPFAIL_MAX records, all services together (tor
 * sets no bound); noting one more first drops expired records, then the
 * oldest. No clock is read: times (ms, monotonic) come from the caller.
 * No allocation: the table is the struct. */
#ifndef TK_ONION_HS_HS_IPFAIL_H
#define TK_ONION_HS_HS_IPFAIL_H

#include <stddef.h>
#include <stdint.h>

#define TK_HS_IPFAIL_MAX 256
#define TK_HS_IPFAIL_AGE_MS (120u * 1000u)
#define TK_HS_IPFAIL_UNREACHABLE_MAX 5

enum tk_hs_ipfail_kind {
	TK_HS_IPFAIL_ERROR,	  /* INTRODUCE_ACK refused, or unusable */
	TK_HS_IPFAIL_TIMEOUT,	  /* no answer (or no RENDEZVOUS2) in time */
	TK_HS_IPFAIL_UNREACHABLE, /* its circuit could not be built */
};

struct tk_hs_ipfail_rec {
	uint8_t svc[32], ip[32]; /* service identity, point auth key */
	uint64_t created;	 /* ms: the first failure */
	uint8_t error, timed_out, unreachable;
};

struct tk_hs_ipfail {
	struct tk_hs_ipfail_rec r[TK_HS_IPFAIL_MAX];
	size_t n;
};

/* An empty record (or memset 0). */
void tk_hs_ipfail_init(struct tk_hs_ipfail *f);
/* Point ip of service svc failed (kind) at now. */
void tk_hs_ipfail_note(struct tk_hs_ipfail *f, const uint8_t svc[32],
		       const uint8_t ip[32], enum tk_hs_ipfail_kind kind,
		       uint64_t now);
/* 1 if the point may be tried at now, 0 if a live record rules it out. */
int tk_hs_ipfail_usable(struct tk_hs_ipfail *f, const uint8_t svc[32],
			const uint8_t ip[32], uint64_t now);
/* 1 if a live record says the point timed out. */
int tk_hs_ipfail_timed_out(struct tk_hs_ipfail *f, const uint8_t svc[32],
			   const uint8_t ip[32], uint64_t now);
/* Drops the records older than TK_HS_IPFAIL_AGE_MS at now: how many. */
size_t tk_hs_ipfail_expire(struct tk_hs_ipfail *f, uint64_t now);
/* Forgets every record (NEWNYM): how many. */
size_t tk_hs_ipfail_clear(struct tk_hs_ipfail *f);

#endif
