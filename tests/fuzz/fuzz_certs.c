/* libFuzzer harness: a CERTS cell payload through the parser and the full
 * validator (both paths), and every body through the Ed25519 cert and
 * RSA cross-cert parsers. The TLS certificate is taken to be the type-1
 * body when there is one, so mutated chains reach the RSA-path checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onion/cell/cell.h"
#include "onion/cell/certs.h"
#include "onion/base/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* When the seed certs were valid: the chutney relay's (2020-09-26) and
 * the tor 0.4.9.11 relay's (2026-11-27), so both seeds reach the deep
 * checks. */
#define CHECK_TIME ((time_t)1601143280)
static const time_t check_times[] = { CHECK_TIME, 1795767048 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		if (tk_crypto_init() != 0)
			abort();
		init = 1;
	}
	uint8_t *p = malloc(size ? size : 1);
	if (!p)
		return 0;
	memcpy(p, data, size);

	tk_certs certs;
	if (tk_certs_parse(p, size, &certs) == 0) {
		static const uint8_t no_cert[] = { 0x30, 0x00 };
		const tk_cert_entry *t1 = tk_certs_find(&certs, 1);
		const uint8_t *tls = t1 ? t1->body : no_cert;
		size_t tls_len = t1 ? t1->len : sizeof no_cert;
		for (size_t t = 0; t < 2; t++) {
			tk_certs_result res;
			char err[160] = "";
			int rc = tk_certs_check(&certs, tls, tls_len,
						check_times[t], &res, err,
						sizeof err);
			/* a failure must say why and prove nothing */
			if (rc != 0 && (err[0] == '\0' || res.ed_verified))
				abort();
		}

		for (size_t i = 0; i < certs.n; i++) {
			tk_ed_cert ec;
			tk_rsa_crosscert cc;
			const char *why = NULL;
			if (tk_ed_cert_parse(certs.e[i].body, certs.e[i].len,
					     &ec, &why) == 0) {
				if (ec.signed_len + 64 != certs.e[i].len)
					abort();
				(void)tk_ed_cert_check(&ec, NULL, CHECK_TIME,
						       &why);
			} else if (!why) {
				abort();
			}
			(void)tk_rsa_crosscert_parse(certs.e[i].body,
						     certs.e[i].len, &cc, &why);
		}
	}
	free(p);
	return 0;
}
