/* libFuzzer harness for .auth_private files: any content parses or is
 * refused, and a parsed key is for a valid address and not all zeros. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/crypto.h"
#include "onion/hs/hs_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_hs_client_auth a;
	static const uint8_t zero[32];
	char err[160];
	if (tk_hs_auth_parse((const char *)data, size, &a, err, sizeof err) ==
	    0) {
		CHECK(tk_ed25519_pub_valid(a.id));
		CHECK(memcmp(a.sk, zero, 32) != 0);
	} else {
		CHECK(memcmp(a.sk, zero, 32) == 0);
	}
	return 0;
}
