/* The microdesc-flavoured network status consensus (dir-spec §3.4.1,
 * §3.9.2): parsing into a router table, and the signature check that
 * decides whether the configured authorities vouch for it.
 *
 * Usage:
 *   struct tk_consensus *c;
 *   if (tk_consensus_parse(body, len, &c, err, sizeof err) < 0) ...
 *   // fetch certificates for tk_consensus_missing_certs(), then
 *   if (tk_consensus_verify(c, v3idents, n, certs, ncerts, now, err, ..))
 *   ... c->routers[i] ...
 *   tk_consensus_free(c);
 * Nothing here reads the clock: `now` always comes from the caller. */
#ifndef TK_ONION_NETDOC_CONSENSUS_H
#define TK_ONION_NETDOC_CONSENSUS_H

#include <stddef.h>
#include <stdint.h>

#include "onion/netdoc/authcert.h"
#include "onion/netdoc/protoset.h"

#define TK_CONS_MAX_ROUTERS 100000
#define TK_CONS_MAX_PARAMS 1024
#define TK_CONS_MAX_SIGS 64
#define TK_CONS_MAX_SOURCES 64
#define TK_CONS_MAX_SIGLEN 512 /* RSA-4096 */

/* Relay flags (s lines). Unknown flags are ignored. */
enum tk_router_flag {
	TK_RF_AUTHORITY = 1u << 0,
	TK_RF_BADEXIT = 1u << 1,
	TK_RF_EXIT = 1u << 2,
	TK_RF_FAST = 1u << 3,
	TK_RF_GUARD = 1u << 4,
	TK_RF_HSDIR = 1u << 5,
	TK_RF_MIDDLEONLY = 1u << 6,
	TK_RF_NOEDCONSENSUS = 1u << 7,
	TK_RF_RUNNING = 1u << 8,
	TK_RF_STABLE = 1u << 9,
	TK_RF_STALEDESC = 1u << 10,
	TK_RF_SYBIL = 1u << 11,
	TK_RF_V2DIR = 1u << 12,
	TK_RF_VALID = 1u << 13,
};

struct tk_router {	   /* fields by size: a consensus holds thousands */
	char nickname[20]; /* 1..19 chars, NUL-terminated */
	uint8_t rsa_id[20];
	uint8_t md_digest[32]; /* from the m line */
	uint8_t ipv6[16];
	uint32_t ipv4;	    /* host byte order */
	uint32_t flags;	    /* TK_RF_* */
	uint32_t bandwidth; /* w Bandwidth=, kilobytes/s */
	uint16_t or_port, dir_port;
	uint16_t ipv6_port;
	uint8_t has_ipv6;      /* first "a" line with an IPv6 */
	uint8_t bw_unmeasured; /* w Unmeasured=1 */
	/* pr: one of the consensus's shared sets (relays run a few
	 * versions of tor, so a few dozen sets serve thousands of relays);
	 * NULL, as no pr line, is the empty set. */
	const struct tk_protoset *protos;
};

struct tk_cons_param {
	char name[64];
	int32_t value;
};

struct tk_dir_source {
	char nickname[20];
	uint8_t v3ident[20];
	uint32_t ipv4;
	uint16_t dir_port, or_port;
};

enum tk_sig_alg { TK_SIG_SHA1, TK_SIG_SHA256, TK_SIG_UNKNOWN };

struct tk_cons_sig {
	enum tk_sig_alg alg;
	uint8_t v3ident[20];
	uint8_t signing_digest[20];
	size_t siglen;
	uint8_t sig[TK_CONS_MAX_SIGLEN];
};

struct tk_consensus {
	int consensus_method;
	int64_t valid_after, fresh_until, valid_until;
	int vote_delay, dist_delay;
	struct tk_protoset required_client, recommended_client;
	/* The same lines as listed, for protover.h (NULL if absent). */
	char *required_client_text, *recommended_client_text;
	size_t n_params; /* sorted by name */
	struct tk_cons_param *params;
	size_t n_weights; /* bandwidth-weights, sorted by name */
	struct tk_cons_param *weights;
	size_t n_sources;
	struct tk_dir_source *sources;
	/* Shared random values (shared-rand-current-value,
	 * shared-rand-previous-value): where onion-service descriptors are
	 * stored. has_* is 0 when the line is absent or malformed, which Tor
	 * tolerates too (clients then compute a "disaster" value). */
	int has_srv_current, has_srv_previous;
	uint8_t srv_current[32], srv_previous[32];
	size_t n_routers; /* sorted by rsa_id */
	struct tk_router *routers;
	size_t n_sigs;
	struct tk_cons_sig *sigs;
	/* The signed part: the document from its start through the space
	 * after the first "directory-signature" keyword. */
	size_t signed_len;
	/* Digests of the signed part. */
	uint8_t digest_sha1[20];
	uint8_t digest_sha256[32];
	/* private: routers by md digest, an open-addressed table of
	 * router index + 1 (0: empty), md_mask + 1 slots */
	uint32_t *md_index;
	size_t md_mask;
	/* private: the distinct pr sets routers point to, in blocks that
	 * never move */
	struct tk_protoset_block *protosets;
};

/* Parses a microdesc consensus. 0 and *out (free with tk_consensus_free),
 * or -1 with err naming what is wrong. Signatures are NOT checked here. */
int tk_consensus_parse(const char *doc, size_t len, struct tk_consensus **out,
		       char *err, size_t errlen);
void tk_consensus_free(struct tk_consensus *c);

/* Checks that c is live at `now` (valid-until not past; valid-after not
 * more than `skew` seconds ahead) and that more than half of the n_auth
 * configured authorities (v3idents) signed it with a signing key certified
 * by one of certs (current at now, fingerprint = v3ident). 0, or -1 with
 * err naming what failed for each authority. */
int tk_consensus_verify(const struct tk_consensus *c,
			const uint8_t (*v3idents)[20], size_t n_auth,
			const struct tk_authcert *certs, size_t n_certs,
			int64_t now, int64_t skew, char *err, size_t errlen);

/* Certificates needed to check c's signatures by configured authorities
 * that certs does not have: fills up to cap (identity, signing key
 * digest) pairs (for /tor/keys/fp-sk/<id>-<sk>) and returns how many. */
struct tk_cert_ref {
	uint8_t v3ident[20];
	uint8_t signing_digest[20];
};
size_t tk_consensus_missing_certs(const struct tk_consensus *c,
				  const uint8_t (*v3idents)[20], size_t n_auth,
				  const struct tk_authcert *certs,
				  size_t n_certs, struct tk_cert_ref *out,
				  size_t cap);

/* When a client holding c should fetch the next consensus (dir-spec
 * §5.1): uniformly in [FU + 3/4 (FU - VA), that + 7/8 (VU - that)).
 * `random` is any uniform 64-bit value from the caller's generator. For
 * VA 1:00, FU 2:00, VU 4:00 that is 2:45 .. 3:50:37. */
int64_t tk_consensus_refetch_time(const struct tk_consensus *c,
				  uint64_t random);

/* Consensus parameter `name` clamped to [min,max], dflt if absent. */
int32_t tk_consensus_param(const struct tk_consensus *c, const char *name,
			   int32_t dflt, int32_t min, int32_t max);
/* Bandwidth weight (e.g. "Wgg"), dflt if absent or negative. */
int32_t tk_consensus_weight(const struct tk_consensus *c, const char *name,
			    int32_t dflt);

/* The router with RSA identity id, or NULL. */
const struct tk_router *tk_consensus_router_by_id(const struct tk_consensus *c,
						  const uint8_t id[20]);
/* The router whose m line lists digest, or NULL (a hash lookup). When
 * several list it, the first in identity order. */
const struct tk_router *tk_consensus_router_by_md(const struct tk_consensus *c,
						  const uint8_t digest[32]);

/* Like router_by_md, but a miss fills err with the reason ("microdescriptor
 * <digest> is listed by no m line of the consensus"): what a fetched
 * microdescriptor that was tampered with, or is stale, gets. */
const struct tk_router *tk_consensus_match_md(const struct tk_consensus *c,
					      const uint8_t digest[32],
					      char *err, size_t errlen);

#endif
