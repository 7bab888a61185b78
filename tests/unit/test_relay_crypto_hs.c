/* The virtual hop of an onion-service circuit (rend-spec-v3 §4.2.1):
 * relay crypto with SHA3-256 running digests and AES-256-CTR, seeded
 * from hs-ntor's 128 bytes Df Db Kf Kb, behind an ordinary tor1 hop.
 *
 * The expected bytes are computed here independently of relay_crypto.c:
 * the digest field is the first 4 bytes of SHA3-256 over Df and every
 * payload so far (digest field zeroed), the encryption AES-256-CTR with a
 * zero IV (tk_hs_stream); the service's side (its forward direction is
 * our backward one) is played with the same primitives. */
#include <stdlib.h>
#include <string.h>

#include "../unit/tap.h"
#include "onion/base/keccak.h"
#include "onion/cell/relay_msg.h"
#include "onion/circ/relay_crypto.h"
#include "onion/hs/hs_crypto.h"

static void
fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 7 * i);
}

/* A plaintext relay payload: cmd DATA, stream 5, some bytes. */
static void
payload(uint8_t p[TK_CELL_PAYLOAD_LEN], uint8_t seed)
{
	memset(p, 0, TK_CELL_PAYLOAD_LEN);
	p[0] = 2; /* DATA */
	p[3] = 0;
	p[4] = 5;
	p[9] = 0;
	p[10] = 40;
	fill(p + 11, 40, seed);
}

int
main(void)
{
	uint8_t keys[TK_RELAY_HS_KEYS_LEN], tor1[72];
	fill(keys, sizeof keys, 3);
	fill(tor1, sizeof tor1, 99);
	const uint8_t *df = keys, *db = keys + 32, *kf = keys + 64,
		      *kb = keys + 96;

	tk_relay_hop hops[2];
	tap_ok(tk_relay_hop_init(&hops[0], tor1) == 0, "tor1 hop in front");
	tap_ok(tk_relay_hop_init_hs(&hops[1], keys) == 0,
	       "virtual hop from 128 bytes of hs-ntor keys");

	/* The relay in front: the same tor1 hop, peeling our layer. */
	tk_relay_hop relay;
	tk_relay_hop_init(&relay, tor1);

	/* Outbound, twice: the digest runs over both payloads. */
	tk_keccak run;
	tk_sha3_256_init(&run);
	tk_keccak_absorb(&run, df, 32);
	size_t ks_off = 0;
	uint8_t keystream[2 * TK_CELL_PAYLOAD_LEN], zero[sizeof keystream];
	memset(zero, 0, sizeof zero);
	tk_hs_stream(kf, NULL, zero, keystream, sizeof keystream);
	for (int i = 0; i < 2; i++) {
		uint8_t p[TK_CELL_PAYLOAD_LEN], want[TK_CELL_PAYLOAD_LEN];
		uint8_t tag[TK_RELAY_TAG_LEN], d[32];
		payload(p, (uint8_t)(10 + i));
		memcpy(want, p, sizeof want);
		tk_keccak_absorb(&run, want, sizeof want);
		tk_keccak copy = run;
		tk_sha3_256_final(&copy, d);
		memcpy(want + TK_RELAY_DIGEST_OFF, d, 4);
		tap_ok(tk_relay_crypt_seal(hops, 2, 1, p, tag) == 0,
		       "cell %d sealed for the virtual hop", i);
		tap_eq_bytes(tag, sizeof tag, d, TK_RELAY_TAG_LEN,
			     "cell %d: SENDME tag = first 20 bytes of the "
			     "SHA3-256 running digest",
			     i);
		tk_relay_dir_crypt(&relay.fwd, p); /* the rendezvous point */
		for (size_t j = 0; j < TK_CELL_PAYLOAD_LEN; j++)
			p[j] ^= keystream[ks_off + j];
		ks_off += TK_CELL_PAYLOAD_LEN;
		tap_eq_bytes(p, sizeof p, want, sizeof want,
			     "cell %d: AES-256-CTR(Kf) layer, SHA3 digest "
			     "field",
			     i);
	}

	/* Inbound: the service seals with its forward keys (our Db, Kb). */
	uint8_t svc_keys[TK_RELAY_HS_KEYS_LEN];
	memcpy(svc_keys, db, 32);
	memcpy(svc_keys + 32, df, 32);
	memcpy(svc_keys + 64, kb, 32);
	memcpy(svc_keys + 96, kf, 32);
	tk_relay_hop svc;
	tap_ok(tk_relay_hop_init_hs(&svc, svc_keys) == 0, "service's hop");
	for (int i = 0; i < 3; i++) {
		uint8_t p[TK_CELL_PAYLOAD_LEN], orig[TK_CELL_PAYLOAD_LEN];
		uint8_t tag_s[TK_RELAY_TAG_LEN], tag_c[TK_RELAY_TAG_LEN];
		size_t from = 9;
		payload(p, (uint8_t)(50 + i));
		tk_relay_dir_set_digest(&svc.fwd, p, tag_s);
		memcpy(orig, p, sizeof orig);
		tk_relay_dir_crypt(&svc.fwd, p);
		tk_relay_dir_crypt(&relay.bwd, p); /* rendezvous point adds */
		tap_ok(tk_relay_crypt_open(hops, 2, p, &from, tag_c) == 0 &&
			       from == 1,
		       "service cell %d recognized at the virtual hop", i);
		tap_eq_bytes(p, sizeof p, orig, sizeof orig,
			     "service cell %d decrypted", i);
		tap_eq_bytes(tag_c, sizeof tag_c, tag_s, sizeof tag_s,
			     "service cell %d: both sides' tags agree", i);
	}

	/* A cell whose digest field is wrong for the virtual hop is not
	 * recognized, and does not advance its digest: the next good cell
	 * still is. Play the virtual hop's backward direction alone. */
	{
		uint8_t p[TK_CELL_PAYLOAD_LEN], q[TK_CELL_PAYLOAD_LEN];
		payload(p, 77);
		tk_relay_dir_set_digest(&svc.fwd, p, NULL);
		memcpy(q, p, sizeof q);
		q[TK_RELAY_DIGEST_OFF] ^= 0x80;
		tap_ok(tk_relay_dir_check_digest(&hops[1].bwd, q, NULL) == 0,
		       "a wrong SHA3 digest is not recognized");
		tap_ok(tk_relay_dir_check_digest(&hops[1].bwd, p, NULL) == 1,
		       "the right one still is: the failed try left the "
		       "running digest alone");
	}

	tk_relay_hop_free(&svc);
	tk_relay_hop_free(&relay);
	tk_relay_hop_free(&hops[0]);
	tk_relay_hop_free(&hops[1]);
	return tap_done();
}
