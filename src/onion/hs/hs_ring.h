/* The HSDir hash ring (rend-spec-v3 §2.2.3): where a descriptor is
 * stored, and so which relays a client asks for it.
 *
 * Each relay with the HSDir flag, HSDir=2 and a known Ed25519 identity
 * sits on the ring at
 *   hsdir_index = H("node-idx" | ed25519_id | srv | INT_8(period_num)
 *                   | INT_8(period_len)).
 * Replica r of a descriptor sits at
 *   hs_index(r) = H("store-at-idx" | blinded_key | INT_8(r)
 *                   | INT_8(period_len) | INT_8(period_num)),
 * and is held by the spread relays that follow it on the ring, skipping
 * relays an earlier replica already took. A client fetches from one of
 * the hsdir_spread_fetch relays of each replica. */
#ifndef TK_ONION_HS_HS_RING_H
#define TK_ONION_HS_HS_RING_H

#include <stddef.h>
#include <stdint.h>

struct tk_nodes;

void tk_hs_hsdir_index(const uint8_t ed25519_id[32], const uint8_t srv[32],
		       uint64_t period_num, uint64_t period_len_min,
		       uint8_t out[32]);
void tk_hs_store_index(const uint8_t blinded[32], uint64_t replica,
		       uint64_t period_num, uint64_t period_len_min,
		       uint8_t out[32]);

/* The ring of one consensus, one period and one SRV: HSDirs sorted by
 * their index. Build it once per consensus; it points into nothing. */
struct tk_hs_ring_entry {
	uint8_t index[32];
	size_t node; /* index into tk_nodes.node[] */
};
struct tk_hs_ring {
	uint64_t period_num, period_len_min;
	size_t n;
	struct tk_hs_ring_entry *e;
};

/* 1 if the node may hold descriptors: HSDir flag, HSDir=2 in its
 * protocols, an Ed25519 identity in its microdescriptor. */
int tk_hs_ring_eligible(const struct tk_nodes *t, size_t node);

/* Builds the ring of the eligible nodes of t. 0, or -1 (out of memory).
 * An empty ring (no eligible node) is not an error. */
int tk_hs_ring_build(struct tk_hs_ring *ring, const struct tk_nodes *t,
		     const uint8_t srv[32], uint64_t period_num,
		     uint64_t period_len_min);
void tk_hs_ring_free(struct tk_hs_ring *ring);

/* The relays responsible for the descriptor of blinded in the ring's
 * period: for each replica 1..n_replicas, the first `spread` relays at or
 * after hs_index(replica) (wrapping around), skipping relays already
 * chosen. Writes node indexes, replica by replica, into out[0..cap) and
 * returns how many there are (at most n_replicas * spread, fewer on a
 * small ring). */
size_t tk_hs_ring_responsible(const struct tk_hs_ring *ring,
			      const uint8_t blinded[32], int n_replicas,
			      int spread, size_t *out, size_t cap);

/* The path to GET from an HSDir over BEGIN_DIR (rend-spec-v3 §2.2.6):
 * "/tor/hs/3/" and the blinded key in base64 without padding, as Tor
 * writes it. Returns its length (53). */
#define TK_HS_DESC_PATH_LEN 53
int tk_hs_desc_path(const uint8_t blinded[32],
		    char out[TK_HS_DESC_PATH_LEN + 1]);

#endif
