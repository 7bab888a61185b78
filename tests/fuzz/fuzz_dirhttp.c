/* Fuzz the directory HTTP response parser (bytes from a relay). */
#include <stddef.h>
#include <stdint.h>

#include "onion/dir/dirhttp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tk_http_response r;
	char err[128], v[32];
	if (tk_http_parse(data, size, &r, err, sizeof err) == 0) {
		(void)tk_http_header(&r, "Content-Type", v, sizeof v);
		tk_http_response_free(&r);
	}
	return 0;
}
