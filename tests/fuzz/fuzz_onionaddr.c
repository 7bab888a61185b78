/* libFuzzer harness: onion address classification (a SOCKS client's host
 * name reaches it). Properties: it never reads past `size`, never
 * crashes, and its answer does not depend on the case of the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/onionaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pk[32];
	char *in, *up;
	enum tk_onion_host a, b;

	if (size > 1024)
		return 0;
	in = malloc(size ? size : 1); /* exact size: overreads trip ASan */
	up = malloc(size ? size : 1);
	if (in == NULL || up == NULL)
		abort();
	memcpy(in, data, size);
	for (size_t i = 0; i < size; i++)
		up[i] = (char)(in[i] >= 'a' && in[i] <= 'z' ? in[i] - 32
							    : in[i]);
	a = tk_onion_host_classify(in, size, pk);
	b = tk_onion_host_classify(up, size, NULL);
	if (a != b)
		abort();
	free(in);
	free(up);
	return 0;
}
