/* Client authorization keys (rend-spec-v3 appendix G.1.3): the
 * ClientOnionAuthDir holds one "<name>.auth_private" file per service,
 * whose content is
 *   <56-char-onion-addr-without-.onion>:descriptor:x25519:<base32 key>
 * with the client's x25519 secret key (52 base32 characters). Parsing and
 * loading follow Tor's hs_client.c: the whole file is split at ':' into
 * exactly four fields, each stripped of surrounding white space; only the
 * first 56 characters of the address field count (so ".onion" may
 * follow); an all-zero key is refused; files with another suffix are
 * ignored; a file that does not parse is skipped with a warning; two
 * files for one service fail the whole load. */
#ifndef TK_ONION_HS_HS_AUTH_H
#define TK_ONION_HS_HS_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "onion/hs/hs_addr.h"

#define TK_HS_AUTH_FILE_MAX 4096 /* larger files are not key files */
#define TK_HS_AUTH_DIR_MAX 4096	 /* at most this many keys are loaded */
#define TK_HS_AUTH_SUFFIX ".auth_private"

struct tk_hs_client_auth {
	uint8_t id[TK_HS_ID_LEN]; /* the service */
	uint8_t sk[32];		  /* our x25519 secret key for it */
};

/* Parses one file's content. 0, or -1 with err saying why and *out
 * zeroed. */
int tk_hs_auth_parse(const char *text, size_t len,
		     struct tk_hs_client_auth *out, char *err, size_t errlen);

/* The keys of a ClientOnionAuthDir. */
struct tk_hs_auth_set {
	size_t n;
	struct tk_hs_client_auth *v; /* allocated; sorted by id */
};
void tk_hs_auth_set_free(struct tk_hs_auth_set *s);
/* Our secret key for the service id, or NULL. */
const uint8_t *tk_hs_auth_set_find(const struct tk_hs_auth_set *s,
				   const uint8_t id[TK_HS_ID_LEN]);

/* Called with one line for each file skipped and for each fix made. */
typedef void (*tk_hs_auth_warn_fn)(void *arg, const char *msg);

/* Loads dir: it must exist, be a directory (not a symbolic link) and
 * belong to us; if group or others may use it, those permissions are
 * removed with a warning, as Tor does. 0 and *out filled, or -1 with
 * err (the directory cannot be used, two files name one service, more
 * than TK_HS_AUTH_DIR_MAX keys, no memory). */
int tk_hs_auth_load_dir(const char *dir, struct tk_hs_auth_set *out,
			tk_hs_auth_warn_fn warn, void *warn_arg, char *err,
			size_t errlen);

#endif
