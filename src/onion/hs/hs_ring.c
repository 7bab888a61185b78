/* The HSDir hash ring. */
#include "onion/hs/hs_ring.h"

#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/keccak.h"
#include "onion/hs/hs_crypto.h"
#include "onion/netdir/nodes.h"

void
tk_hs_hsdir_index(const uint8_t ed25519_id[32], const uint8_t srv[32],
		  uint64_t period_num, uint64_t period_len_min, uint8_t out[32])
{
	static const char prefix[] = "node-idx";
	uint8_t num[8], len[8];
	tk_keccak k;
	tk_hs_int8(period_num, num);
	tk_hs_int8(period_len_min, len);
	tk_sha3_256_init(&k);
	tk_keccak_absorb(&k, prefix, sizeof prefix - 1);
	tk_keccak_absorb(&k, ed25519_id, 32);
	tk_keccak_absorb(&k, srv, 32);
	tk_keccak_absorb(&k, num, sizeof num);
	tk_keccak_absorb(&k, len, sizeof len);
	tk_sha3_256_final(&k, out);
}

void
tk_hs_store_index(const uint8_t blinded[32], uint64_t replica,
		  uint64_t period_num, uint64_t period_len_min, uint8_t out[32])
{
	static const char prefix[] = "store-at-idx";
	uint8_t rep[8], num[8], len[8];
	tk_keccak k;
	tk_hs_int8(replica, rep);
	tk_hs_int8(period_num, num);
	tk_hs_int8(period_len_min, len);
	tk_sha3_256_init(&k);
	tk_keccak_absorb(&k, prefix, sizeof prefix - 1);
	tk_keccak_absorb(&k, blinded, 32);
	tk_keccak_absorb(&k, rep, sizeof rep);
	tk_keccak_absorb(&k, len, sizeof len);
	tk_keccak_absorb(&k, num, sizeof num);
	tk_sha3_256_final(&k, out);
}

int
tk_hs_ring_eligible(const struct tk_nodes *t, size_t node)
{
	const struct tk_path_node *n = &t->node[node];
	return (n->rt->flags & TK_RF_HSDIR) &&
	       tk_protoset_has(n->rt->protos, TK_PROTO_HSDIR, 2) && n->md &&
	       n->md->has_ed25519;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct tk_hs_ring_entry *x = a, *y = b;
	int r = memcmp(x->index, y->index, 32);
	if (r)
		return r;
	return x->node < y->node ? -1 : x->node > y->node;
}

int
tk_hs_ring_build(struct tk_hs_ring *ring, const struct tk_nodes *t,
		 const uint8_t srv[32], uint64_t period_num,
		 uint64_t period_len_min)
{
	size_t n = 0;
	memset(ring, 0, sizeof *ring);
	ring->period_num = period_num;
	ring->period_len_min = period_len_min;
	for (size_t i = 0; i < t->n; i++)
		n += tk_hs_ring_eligible(t, i);
	if (n == 0)
		return 0;
	ring->e = calloc(n, sizeof *ring->e);
	if (!ring->e)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		if (!tk_hs_ring_eligible(t, i))
			continue;
		tk_hs_hsdir_index(t->node[i].md->ed25519_id, srv, period_num,
				  period_len_min, ring->e[ring->n].index);
		ring->e[ring->n++].node = i;
	}
	qsort(ring->e, ring->n, sizeof *ring->e, cmp_entry);
	return 0;
}

void
tk_hs_ring_free(struct tk_hs_ring *ring)
{
	free(ring->e);
	memset(ring, 0, sizeof *ring);
}

/* The first entry whose index is >= key, or n if none. */
static size_t
lower_bound(const struct tk_hs_ring *ring, const uint8_t key[32])
{
	size_t lo = 0, hi = ring->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (memcmp(ring->e[mid].index, key, 32) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t
tk_hs_ring_responsible(const struct tk_hs_ring *ring, const uint8_t blinded[32],
		       int n_replicas, int spread, size_t *out, size_t cap)
{
	size_t n_out = 0;
	if (ring->n == 0)
		return 0;
	for (int replica = 1; replica <= n_replicas; replica++) {
		uint8_t key[32];
		size_t start, idx;
		int added = 0;
		tk_hs_store_index(blinded, (uint64_t)replica, ring->period_num,
				  ring->period_len_min, key);
		start = idx = lower_bound(ring, key) % ring->n;
		/* One lap at most: a small ring may hold fewer relays than
		 * replicas times spread. */
		do {
			size_t node = ring->e[idx].node, j;
			for (j = 0; j < n_out; j++)
				if (out[j] == node)
					break;
			if (j == n_out) {
				if (n_out == cap)
					return n_out;
				out[n_out++] = node;
				added++;
			}
			idx = (idx + 1) % ring->n;
		} while (added < spread && idx != start);
	}
	return n_out;
}

int
tk_hs_desc_path(const uint8_t blinded[32], char out[TK_HS_DESC_PATH_LEN + 1])
{
	static const char prefix[] = "/tor/hs/3/";
	memcpy(out, prefix, sizeof prefix - 1);
	tk_base64_encode(blinded, 32, 0, out + sizeof prefix - 1,
			 TK_HS_DESC_PATH_LEN + 1 - (sizeof prefix - 1));
	return TK_HS_DESC_PATH_LEN;
}
