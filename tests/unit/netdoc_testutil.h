/* Shared by the netdoc unit tests: loading fixtures from
 * $TK_SRCDIR/tests/data/netdoc and the sample network's authorities. */
#ifndef TK_TESTS_NETDOC_TESTUTIL_H
#define TK_TESTS_NETDOC_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/netdoc/authcert.h"
#include "onion/netdoc/netdoc.h"

/* Reads tests/data/netdoc/<name> into a malloc'ed exact-size buffer (so
 * ASan sees any overread); exits the test if it cannot. */
static inline char *nd_load(const char *name, size_t *len)
{
	const char *top = getenv("TK_SRCDIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/tests/data/netdoc/%s",
		 top ? top : ".", name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		printf("Bail out! cannot open %s (set TK_SRCDIR)\n", path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* v3idents of the DirAuthority lines in dirauthority.lines (tnauth0..2). */
static const char *const nd_v3ident_hex[3] = {
	"66073B891425BB39A2A7BA4251D709847F0A1B53",
	"08B14E4205D3CB4C8B0EC49B77757E31F7CA0988",
	"CA111EE2381B4354040663C695A6B7030E874F3D",
};

static inline void nd_v3idents(uint8_t out[3][20])
{
	for (int i = 0; i < 3; i++) {
		struct tk_netdoc_span s = {nd_v3ident_hex[i], 40};
		tk_netdoc_hex_exact(s, out[i], 20);
	}
}

/* Parses every certificate in a file; returns how many parsed (at most
 * cap), and the first error in err. */
static inline size_t nd_load_certs(const char *name, struct tk_authcert *certs,
			    size_t cap, char *err, size_t errlen)
{
	size_t len, pos = 0, n = 0;
	char *text = nd_load(name, &len);
	err[0] = '\0';
	while (pos < len && n < cap) {
		size_t used = 0;
		char e[TK_NETDOC_ERRLEN];
		tk_authcert_init(&certs[n]);
		if (tk_authcert_parse(text + pos, len - pos, &used, &certs[n],
				      e, sizeof e) == 0)
			n++;
		else if (!err[0])
			snprintf(err, errlen, "%s", e);
		if (used == 0)
			break;
		pos += used;
	}
	free(text);
	return n;
}

/* 2026-11-27 06:33:10 UTC: inside the sample consensus's validity. */
#define ND_NOW 1795761190LL

#endif
