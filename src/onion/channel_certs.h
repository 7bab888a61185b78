/* Checks a relay's CERTS cell for the channel (tor-spec §4.2): which
 * identity does the relay prove, and does the proof cover the TLS
 * certificate it actually presented? Internal to channel.c and tests. */
#ifndef TK_ONION_CHANNEL_CERTS_H
#define TK_ONION_CHANNEL_CERTS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "onion/cell.h"

struct tk_chan_certs_result {
	uint8_t rsa_id[20];
	int ed_verified;
	uint8_t ed_id[32];
};

/* RSA path: exactly one link (type 1) and one identity (type 2) cert,
 * both time-valid at now; the link cert is the TLS peer certificate byte
 * for byte; the identity key is RSA-1024, self-signed, and signed the
 * link cert. On success fills res->rsa_id (SHA-1 of the identity key) and
 * returns 0; otherwise -1 with the reason in err. */
int tk_chan_certs_check(const tk_certs *certs, const uint8_t *tls_der,
			size_t tls_len, time_t now,
			struct tk_chan_certs_result *res, char *err,
			size_t errlen);

#endif
