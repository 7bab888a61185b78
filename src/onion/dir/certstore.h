/* The authority key certificates we hold: only those of the configured
 * authorities, each verified (authcert.h) and current, with its exact
 * text for the DataDirectory cache. */
#ifndef TK_ONION_DIR_CERTSTORE_H
#define TK_ONION_DIR_CERTSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/log_level.h"
#include "onion/netdoc/authcert.h"

#define TK_CERTSTORE_MAX 64

struct tk_certstore {
	const uint8_t (*v3ids)[20]; /* the configured authorities' */
	size_t n_auths;
	struct tk_authcert *certs; /* [TK_CERTSTORE_MAX] */
	char **text;
	size_t *len;
	size_t n;
	tk_log_fn log; /* why a certificate was refused */
	void *log_arg;
};

/* v3ids must outlive cs. 0, or -1 if out of memory. */
int tk_certstore_init(struct tk_certstore *cs, const uint8_t (*v3ids)[20],
		      size_t n_auths, tk_log_fn log, void *log_arg);
void tk_certstore_free(struct tk_certstore *cs);

/* Adds every certificate of text that is new, checks out, belongs to a
 * configured authority and is current at now_s. origin names where text
 * came from in log lines. Returns how many were added; *refused (may be
 * NULL) grows by the number refused. */
size_t tk_certstore_add(struct tk_certstore *cs, const char *text, size_t len,
			int64_t now_s, const char *origin, unsigned *refused);

#endif
