/* libFuzzer harness for onion host names and addresses: any host is
 * classified without reading past it; a valid address re-encodes to the
 * label it came from (in lower case), and a decoded key is a valid
 * point. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/crypto.h"
#include "onion/hs/hs_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t id[TK_HS_ID_LEN], id2[TK_HS_ID_LEN];
	char addr[TK_HS_ADDR_LEN + 1];
	int r;

	r = tk_hs_host_parse((const char *)data, size, id);
	CHECK(r >= TK_HS_ADDR_ESYNTAX && r <= 1);
	CHECK(tk_hs_addr_strerror(r) != NULL);
	if (r == 1) {
		CHECK(tk_ed25519_pub_valid(id));
		tk_hs_addr_encode(id, addr);
		CHECK(tk_hs_addr_decode(addr, TK_HS_ADDR_LEN, id2) == 0);
		CHECK(memcmp(id, id2, sizeof id) == 0);
	}
	r = tk_hs_addr_decode((const char *)data, size, id);
	if (r == TK_HS_ADDR_OK) {
		tk_hs_addr_encode(id, addr);
		for (size_t i = 0; i < TK_HS_ADDR_LEN; i++) {
			char c = (char)data[i];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			CHECK(addr[i] == c);
		}
	}
	return 0;
}
