/* Where directory documents come from, and when each source may be asked
 * again after it failed. Pure bookkeeping: the caller brings the time and
 * the consensus.
 *
 * Three pools, as tor's (dir-spec §5.1, tor's dirlist.c):
 *  - fallbacks: the fallback directory mirrors, with the authorities
 *    among them at a tenth of a mirror's weight (tor's
 *    DirAuthorityFallbackRate 0.1: with 200 mirrors, 1 bootstrap in 200
 *    asks an authority); empty without fallbacks;
 *  - authorities: the configured (or built-in) authorities, uniformly;
 *  - caches: the relays a verified consensus lists as directory caches
 *    (V2Dir, Running, Valid), the authorities left out unless the
 *    consensus lists no other cache (a small test network).
 * A source that failed is left alone for a while (exponential backoff
 * with jitter, per source), and a pick can avoid given identities (those
 * already asked for the same thing). */
#ifndef TK_ONION_DIR_DIRSRC_H
#define TK_ONION_DIR_DIRSRC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "onion/link/channel.h"
#include "onion/netdir/reach.h"
#include "onion/netdoc/consensus.h"
#include "onion/netdoc/dirauth.h"

/* A directory server reached over its ORPort with BEGIN_DIR. With an
 * ntor key (from its microdescriptor) the one-hop circuit is made with
 * CREATE2/ntor, otherwise with CREATE_FAST, as tor does. */
struct tk_dirsource {
	char nickname[20];
	struct sockaddr_storage addr;  /* IPv4 ORPort */
	struct sockaddr_storage addr6; /* IPv6 ORPort, or ss_family 0 */
	int use_ipv6; /* connect to addr6 (tk_dirsource_choose) */
	uint8_t rsa_id[20];
	int is_authority, is_fallback, is_guard;
	int has_ntor;
	uint8_t ntor_key[32];
	int has_ed;
	uint8_t ed_id[32];
};

void tk_dirsource_from_auth(const tk_dirauth *a, struct tk_dirsource *s);
void tk_dirsource_from_fallback(const tk_dirfallback *f, const char *nickname,
				struct tk_dirsource *s);
void tk_dirsource_from_router(const struct tk_router *r,
			      struct tk_dirsource *s);
/* Chooses which of the source's ORPorts to connect to (reach.h): sets
 * use_ipv6 and returns the family, or 0 if r allows neither. */
int tk_dirsource_choose(struct tk_dirsource *s, const struct tk_reach *r);
/* The ORPort chosen (IPv4 unless tk_dirsource_choose said IPv6). */
const struct sockaddr_storage *tk_dirsource_addr(const struct tk_dirsource *s);
/* The channel target for that ORPort and the source's RSA identity. */
void tk_dirsource_target(const struct tk_dirsource *s, tk_channel_target *t);

/* What a request asks a source for. */
enum tk_dirdoc { TK_DIRDOC_CONSENSUS, TK_DIRDOC_CERTS, TK_DIRDOC_MDS };

typedef struct tk_dirsources tk_dirsources;

enum tk_dirsrc_pool {
	TK_DIRSRC_FALLBACKS,
	TK_DIRSRC_AUTHORITIES,
	TK_DIRSRC_CACHES,
};

struct tk_dirsources_config {
	const tk_dirauth *auths; /* copied */
	size_t n_auths;
	const tk_dirfallback *fallbacks;   /* copied */
	const char *const *fallback_names; /* may be NULL; copied */
	size_t n_fallbacks;
	double authority_weight; /* in the fallback pool, tor: 0.1 */
	int64_t backoff_base_ms; /* first retry delay of a source */
	int64_t backoff_max_ms;
	uint64_t (*random)(void *arg); /* uniform 64-bit numbers */
	void *random_arg;
	/* ClientUseIPv4/6, ClientPreferIPv6ORPort: a source none of whose
	 * ORPorts these allow is never picked (as tor's directory server
	 * choice); a picked one connects over the preferred family. */
	struct tk_reach reach;
};

/* NULL if out of memory. */
tk_dirsources *tk_dirsources_new(const struct tk_dirsources_config *cfg);
void tk_dirsources_free(tk_dirsources *ds);

size_t tk_dirsources_n_fallbacks(const tk_dirsources *ds);
size_t tk_dirsources_n_authorities(const tk_dirsources *ds);

/* The delay before the fails-th retry: base * 2^(fails-1), capped, then a
 * random point in its upper half so clients that failed together do not
 * retry together. */
int64_t tk_dirsources_backoff_ms(tk_dirsources *ds, unsigned fails);

/* A source failed (backed off from now_ms) or served us (its backoff
 * is forgotten). */
void tk_dirsources_failed(tk_dirsources *ds, const struct tk_dirsource *s,
			  int64_t now_ms);
void tk_dirsources_succeeded(tk_dirsources *ds, const struct tk_dirsource *s);
/* 1 if s may be asked at now_ms. */
int tk_dirsources_ready(tk_dirsources *ds, const struct tk_dirsource *s,
			int64_t now_ms);

/* Picks a source of the pool (caches: those of consensus c), weighted as
 * the pool says, not in backoff and not among avoid[0..n_avoid). 0 with
 * *out; -1 if none is ready, *wake_at the earliest time one leaves
 * backoff (-1: never); -2 if some are ready but all of them are to be
 * avoided. */
int tk_dirsources_pick(tk_dirsources *ds, enum tk_dirsrc_pool pool,
		       const struct tk_consensus *c, int64_t now_ms,
		       const uint8_t (*avoid)[20], size_t n_avoid,
		       struct tk_dirsource *out, int64_t *wake_at);

/* The index of the authority with that RSA identity, or -1. */
int tk_dirsources_authority(const tk_dirsources *ds, const uint8_t rsa_id[20]);

#endif
