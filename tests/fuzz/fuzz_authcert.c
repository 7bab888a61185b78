/* libFuzzer harness: a /tor/keys/... response (key certificates back to
 * back), every certificate parsed and checked. */
#include <stddef.h>
#include <stdint.h>

#include "onion/netdoc/authcert.h"
#include "onion/base/crypto.h"
#include "onion/netdoc/netdoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	struct tk_authcert c;
	char err[TK_NETDOC_ERRLEN];
	size_t pos = 0;

	if (!inited) {
		tk_crypto_init();
		inited = 1;
	}
	tk_authcert_init(&c);
	while (pos < size) {
		size_t used = 0;
		if (tk_authcert_parse((const char *)data + pos, size - pos,
				      &used, &c, err, sizeof err) == 0)
			tk_authcert_current(&c, c.published);
		if (used == 0 || used > size - pos)
			__builtin_trap();	/* must make progress, in bounds */
		pos += used;
	}
	tk_authcert_free(&c);
	return 0;
}
