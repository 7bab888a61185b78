/* Microdescriptors (dir-spec §3.3): the per-relay keys and exit summary a
 * client needs to extend to a relay. A microdescriptor is identified by
 * the SHA-256 of its exact text, which the consensus lists on the relay's
 * "m" line; only one whose digest is listed may be used. */
#ifndef TK_ONION_NETDOC_MICRODESC_H
#define TK_ONION_NETDOC_MICRODESC_H

#include <stddef.h>
#include <stdint.h>

#include "onion/netdoc/policy_summary.h"

#define TK_MD_MAX_FAMILY 1024 /* entries kept from family / family-ids */

/* Its digest is not kept: the consensus's m line, which a node table
 * joins it by, holds the same 32 bytes (tk_microdesc_digest makes it
 * from the text). */
struct tk_microdesc {	      /* fields by size: a table holds one per relay */
	uint8_t ntor_key[32]; /* curve25519, always present */
	uint8_t ed25519_id[32];
	/* "family": RSA identities of the relays listed as $HEX (nickname
	 * entries cannot be matched to relays safely and are dropped),
	 * sorted. A counted block, shared by equal lists in a node table
	 * (tk_microdesc_share_family). */
	uint8_t (*family)[20];
	/* "family-ids": opaque family identifiers (e.g. "ed25519:..."),
	 * NUL-terminated, compared as strings; one counted allocation holds
	 * the array and the strings. */
	char **family_ids;
	struct tk_policy_summary p;  /* IPv4 exit summary; absent: reject */
	struct tk_policy_summary p6; /* IPv6 exit summary; absent: reject */
	/* "a": the first IPv6 ORPort, ipv6_port 0 if none. Only documents
	 * of consensus methods 14..27 carry it; later methods put it on
	 * the consensus's own "a" line (tk_router), which wins. */
	uint8_t ipv6[16];
	uint16_t ipv6_port;
	uint16_t n_family;     /* at most TK_MD_MAX_FAMILY */
	uint16_t n_family_ids; /* at most TK_MD_MAX_FAMILY */
	uint8_t has_ed25519;
	uint8_t has_tap_key; /* onion-key carried an RSA key */
};

void tk_microdesc_init(struct tk_microdesc *md);
void tk_microdesc_free(struct tk_microdesc *md);

/* Parses exactly one microdescriptor text[0..len) (no annotation lines)
 * into md. 0, or -1 with err saying what is wrong. md must have been
 * tk_microdesc_init()ed; it is freed and refilled. */
int tk_microdesc_parse(const char *text, size_t len, struct tk_microdesc *md,
		       char *err, size_t errlen);

/* Iterates over a response body or cache file holding many
 * microdescriptors (each begins with an "onion-key" line; "@" annotation
 * lines between them are skipped and are not part of any digest).
 * Start with *pos = 0. Returns 1 with md parsed and [*text, *text+*textlen)
 * its exact bytes; 0 at the end; -1 if this one is malformed (err says
 * why, *text still identifies it, *pos is past it so the
 * caller can go on with the next). */
int tk_microdesc_next(const char *body, size_t len, size_t *pos,
		      struct tk_microdesc *md, const char **text,
		      size_t *textlen, char *err, size_t errlen);

/* The digest of a microdescriptor's text (what an m line lists): its
 * SHA-256. */
void tk_microdesc_digest(const char *text, size_t len, uint8_t out[32]);

/* 1 if a and b declare each other family: a lists b's identity and b
 * lists a's (id_a/id_b are their RSA identities), or they share a
 * family-ids entry. */
int tk_microdesc_same_family(const struct tk_microdesc *a,
			     const uint8_t id_a[20],
			     const struct tk_microdesc *b,
			     const uint8_t id_b[20]);

/* Sets md's "family" list to the n identities (copied, sorted, at most
 * TK_MD_MAX_FAMILY), as the parser would. 0, or -1 out of memory (md
 * untouched). */
int tk_microdesc_set_family(struct tk_microdesc *md, const uint8_t (*ids)[20],
			    size_t n);

/* 1 if a and b have the same family and family-ids lists (as parsed:
 * sorted identities, ids in document order). */
int tk_microdesc_family_equal(const struct tk_microdesc *a,
			      const struct tk_microdesc *b);

/* dst gives up its family lists and shares src's (a reference each):
 * for equal lists (tk_microdesc_family_equal), so that a table holds one
 * copy. Both stay valid until the last holder is freed. */
void tk_microdesc_share_family(struct tk_microdesc *dst,
			       const struct tk_microdesc *src);

#endif
