/* libFuzzer harness: consensus diffs. The input is a diff applied to a
 * fixed base document: with the header, its FromDigest is overwritten
 * with the base's own (so the commands are reached, not just the digest
 * check); without, the input is taken as bare ed commands. Whatever the
 * commands, a result can never be longer than the base and the diff
 * together. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onion/netdoc/consdiff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base[] =
	"network-status-version 3 microdesc\n"
	"vote-status consensus\n"
	"valid-after 2026-11-27 06:33:00\n"
	"r a AAAAAAAAAAAAAAAAAAAAAAAAAAA 2038-01-01 00:00:00 127.0.0.1 1 0\n"
	"m AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
	"s Fast Running Valid\n"
	"r b BBBBBBBBBBBBBBBBBBBBBBBBBBB 2038-01-01 00:00:00 127.0.0.2 1 0\n"
	"directory-footer\n"
	"directory-signature sha256 AAAA BBBB\n"
	"-----BEGIN SIGNATURE-----\n"
	"AAAA\n"
	"-----END SIGNATURE-----\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char head[] = "network-status-diff-version 1\nhash ";
	size_t signed_len = (size_t)(strstr(base, "directory-signature ") -
				     base) + 20;
	char *in = malloc(size + 1), *out = NULL, err[256];
	size_t out_len = 0;

	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	if (size >= sizeof head - 1 + 64 &&
	    memcmp(in, head, sizeof head - 1) == 0) {
		char hex[65];
		tk_consdiff_digest_hex(base, signed_len, hex);
		memcpy(in + sizeof head - 1, hex, 64);
		if (tk_consdiff_apply(base, sizeof base - 1, signed_len, in,
				      size, &out, &out_len, err,
				      sizeof err) == 0 &&
		    out_len > sizeof base - 1 + size)
			__builtin_trap();
	} else if (tk_consdiff_apply_ed(base, sizeof base - 1, in, size, &out,
					&out_len, err, sizeof err) == 0) {
		if (out_len > sizeof base - 1 + size || strlen(out) != out_len)
			__builtin_trap();
	}
	(void)tk_consdiff_is_diff(in, size);
	free(out);
	free(in);
	return 0;
}
