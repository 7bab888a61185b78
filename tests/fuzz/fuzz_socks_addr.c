/* libFuzzer harness: address text parsers (addr.c). Endpoints come from
 * the command line, config files and the environment; IP literals and
 * hostnames from SOCKS requests. Checks: no crash, NUL-terminated outputs,
 * and that every IP literal formats back to text that parses to the same
 * bytes. */
#include "lib/addr.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CHECK(x)                                                             \
	do {                                                                 \
		if (!(x))                                                    \
			abort();                                             \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[600];
	if (size < 1 || size >= sizeof s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';

	struct tk_endpoint ep;
	char err[160], fmt[400];
	if (tk_endpoint_parse(&ep, s, NULL, 9050, data[0] & 0x1f, err,
			      sizeof err) == 0) {
		CHECK(ep.kind == TK_ENDPOINT_TCP || ep.kind == TK_ENDPOINT_UNIX);
		CHECK(memchr(ep.host, 0, sizeof ep.host) != NULL);
		CHECK(memchr(ep.path, 0, sizeof ep.path) != NULL);
		CHECK(tk_endpoint_format(&ep, fmt, sizeof fmt) > 0);
	} else {
		CHECK(err[0] != '\0' && memchr(err, 0, sizeof err) != NULL);
	}

	uint8_t a[16], b[16];
	int fam = tk_ip_parse_n((const char *)data + 1, size - 1, a);
	if (fam) {
		char txt[TK_IP_STR_MAX], rev[TK_REVERSE_NAME_MAX];
		CHECK(tk_ip_format(fam, a, txt, sizeof txt) > 0);
		CHECK(tk_ip_parse(txt, b) == fam);
		CHECK(memcmp(a, b, fam == AF_INET ? 4 : 16) == 0);
		CHECK(tk_addr_is_valid_dest(txt));
		CHECK(tk_addr_reverse_name(fam, a, rev, sizeof rev) > 0);
		(void)tk_addr_is_internal(fam, a);
	}
	(void)tk_addr_is_valid_dest(s);
	(void)tk_addr_name_is_local(s);
	return 0;
}
