/* tor1 relay cell crypto (tor-spec §5.5, §6.1): per hop, AES-128-CTR with
 * a zero IV and a running SHA-1 digest, one of each per direction.
 *
 * A client circuit holds one tk_relay_hop per hop, first hop first.
 * Outbound: tk_relay_crypt_seal() sets the digest for the target hop and
 * adds the layers of encryption. Inbound: tk_relay_crypt_open() peels
 * layers until a hop recognizes the cell. The per-direction primitives
 * are public too, so tests (and any relay-side code) can play the hops. */
#ifndef TK_ONION_CIRC_RELAY_CRYPTO_H
#define TK_ONION_CIRC_RELAY_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "onion/base/crypto.h"
#include "onion/base/keccak.h"
#include "onion/cell/cell.h"

#define TK_RELAY_TAG_LEN 20 /* full SHA-1 digest: the SENDME v1 tag */

/* One direction of one hop. An onion service's virtual hop (rend-spec-v3
 * §4.2.1) runs the same protocol with a SHA3-256 running digest (sha3
 * set, digest3 used) and AES-256; its SENDME tags are the first 20
 * bytes of that digest, as Tor takes them. */
typedef struct tk_relay_dir {
	tk_aes_ctr cipher;
	tk_sha1_ctx digest;
	int sha3;
	tk_keccak digest3;
} tk_relay_dir;

typedef struct tk_relay_hop {
	tk_relay_dir fwd; /* client -> relay: Kf, Df */
	tk_relay_dir bwd; /* relay -> client: Kb, Db */
} tk_relay_hop;

/* keys = Df[20] Db[20] Kf[16] Kb[16] (the first 72 bytes from ntor's
 * HKDF or CREATE_FAST's KDF-TOR). Returns 0 or -1. */
int tk_relay_hop_init(tk_relay_hop *hop, const uint8_t keys[72]);
/* The virtual hop to an onion service: keys = Df[32] Db[32] Kf[32]
 * Kb[32] from hs-ntor (hs_ntor.h's tk_hs_ntor_expand). 0 or -1. */
#define TK_RELAY_HS_KEYS_LEN 128
int tk_relay_hop_init_hs(tk_relay_hop *hop,
			 const uint8_t keys[TK_RELAY_HS_KEYS_LEN]);
void tk_relay_hop_free(tk_relay_hop *hop);

/* Primitives on one direction. */
/* Zeroes Recognized and Digest, adds the payload to the running digest,
 * writes the first 4 digest bytes into the cell; tag (optional) gets the
 * full 20-byte digest. Does not encrypt. */
void tk_relay_dir_set_digest(tk_relay_dir *d,
			     uint8_t payload[TK_CELL_PAYLOAD_LEN],
			     uint8_t tag[TK_RELAY_TAG_LEN]);
/* If Recognized is zero and the Digest matches the running digest with
 * this payload added, commits that digest and returns 1 (tag, optional,
 * gets the 20-byte digest); otherwise leaves the state untouched and
 * returns 0. Does not decrypt. */
int tk_relay_dir_check_digest(tk_relay_dir *d,
			      const uint8_t payload[TK_CELL_PAYLOAD_LEN],
			      uint8_t tag[TK_RELAY_TAG_LEN]);
/* One layer of AES-CTR over the 509 bytes (encrypt == decrypt). */
void tk_relay_dir_crypt(tk_relay_dir *d, uint8_t payload[TK_CELL_PAYLOAD_LEN]);

/* Client: a plaintext payload (tk_relay_payload_build) to hops[target]
 * (0-based, < n_hops) is given its digest and encrypted with the forward
 * keys of hops target..0, in place. tag (optional): the 20-byte digest to
 * remember if this is a DATA cell whose SENDME we must check later. */
int tk_relay_crypt_seal(tk_relay_hop *hops, size_t n_hops, size_t target,
			uint8_t payload[TK_CELL_PAYLOAD_LEN],
			uint8_t tag[TK_RELAY_TAG_LEN]);
/* Client: decrypts an inbound payload layer by layer from hops[0]; on
 * the first hop that recognizes it returns 0 with *from = its index, the
 * payload in plaintext and tag (optional) its 20-byte digest. Returns -1
 * if no hop recognizes it: a protocol violation, destroy the circuit
 * (the cipher states have advanced, so the circuit is unusable anyway). */
int tk_relay_crypt_open(tk_relay_hop *hops, size_t n_hops,
			uint8_t payload[TK_CELL_PAYLOAD_LEN], size_t *from,
			uint8_t tag[TK_RELAY_TAG_LEN]);

#endif
