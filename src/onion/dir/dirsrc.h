/* Where directory documents come from: the configured authorities and,
 * once a consensus is verified, the directory caches it lists; and when
 * each may be asked again after it failed (exponential backoff with
 * jitter). Pure bookkeeping: the caller brings the time and the
 * consensus. */
#ifndef TK_ONION_DIR_DIRSRC_H
#define TK_ONION_DIR_DIRSRC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "onion/link/channel.h"
#include "onion/netdoc/consensus.h"
#include "onion/netdoc/dirauth.h"

/* A directory server reached over its ORPort with BEGIN_DIR. */
struct tk_dirsource {
	char nickname[20];
	struct sockaddr_storage addr; /* IPv4 ORPort */
	uint8_t rsa_id[20];
	int is_authority;
};

void tk_dirsource_from_auth(const tk_dirauth *a, struct tk_dirsource *s);
void tk_dirsource_from_router(const struct tk_router *r,
			      struct tk_dirsource *s);
/* The channel target for the source's ORPort and RSA identity. */
void tk_dirsource_target(const struct tk_dirsource *s, tk_channel_target *t);

typedef struct tk_dirsources tk_dirsources;

struct tk_dirsources_config {
	const tk_dirauth *auths; /* copied */
	size_t n_auths;
	int64_t backoff_base_ms; /* first retry delay of a source */
	int64_t backoff_max_ms;
	uint64_t (*random)(void *arg); /* uniform 64-bit numbers */
	void *random_arg;
};

/* NULL if out of memory. */
tk_dirsources *tk_dirsources_new(const struct tk_dirsources_config *cfg);
void tk_dirsources_free(tk_dirsources *ds);

/* The delay before the fails-th retry: base * 2^(fails-1), capped, then a
 * random point in its upper half so clients that failed together do not
 * retry together. */
int64_t tk_dirsources_backoff_ms(tk_dirsources *ds, unsigned fails);

/* A source failed (backed off from now_ms) or served us (its backoff
 * is forgotten). */
void tk_dirsources_failed(tk_dirsources *ds, const struct tk_dirsource *s,
			  int64_t now_ms);
void tk_dirsources_succeeded(tk_dirsources *ds, const struct tk_dirsource *s);

/* The next tk_dirsources_pick() returns s, unless it is backed off by
 * then: the source that just served us is connected already. */
void tk_dirsources_prefer(tk_dirsources *ds, const struct tk_dirsource *s);

/* Picks a source not in backoff, uniformly among the authorities and, when
 * caches is not NULL, the directory caches that consensus lists. 0 with
 * *out, or -1 with *wake_at the earliest time one leaves backoff (-1 if
 * none will). */
int tk_dirsources_pick(tk_dirsources *ds, const struct tk_consensus *caches,
		       int64_t now_ms, struct tk_dirsource *out,
		       int64_t *wake_at);

/* The index of the authority with that RSA identity, or -1. */
int tk_dirsources_authority(const tk_dirsources *ds, const uint8_t rsa_id[20]);

#endif
