/* Fuzz the DirAuthority and FallbackDir line parsers (configuration
 * text, and the built-in lists). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "onion/netdoc/dirauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char line[2048], err[128];
	tk_dirauth a;
	tk_dirfallback f;
	if (size >= sizeof line)
		size = sizeof line - 1;
	memcpy(line, data, size);
	line[size] = '\0';
	(void)tk_dirauth_parse(line, &a, err, sizeof err);
	(void)tk_dirfallback_parse(line, &f, err, sizeof err);
	return 0;
}
