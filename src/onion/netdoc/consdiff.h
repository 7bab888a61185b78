/* Consensus diffs (dir-spec §4.5 and appendix E, proposal 140): a cache
 * asked with "X-Or-Diff-From-Consensus: <digest>" may answer with the
 * changes from the consensus we hold instead of the whole document:
 *
 *   network-status-diff-version 1
 *   hash <FromDigest> <ToDigest>
 *   <limited ed commands, back to front>
 *
 * FromDigest is the SHA3-256 of the signed part of the consensus the diff
 * applies to, ToDigest the SHA3-256 of the whole result. The ed subset:
 * "N,Md" "N,$d" "Nd" (delete), "N,Mc" "Nc" (replace with the block that
 * follows), "Na" (append the block after line N); a block ends with a line
 * holding a single ".". Line numbers refer to the original document: each
 * command must lie before the one it follows. Anything else is refused.
 *
 * Pure functions: bytes in, bytes out. The result is only as good as its
 * digest; the caller still parses and verifies it as any consensus. */
#ifndef TK_ONION_NETDOC_CONSDIFF_H
#define TK_ONION_NETDOC_CONSDIFF_H

#include <stddef.h>
#include <stdint.h>

/* 1 if body starts like a consensus diff (so it is not a consensus). */
int tk_consdiff_is_diff(const char *body, size_t len);

/* Applies diff to base, whose signed part is base[0..signed_len): checks
 * the two header lines, that FromDigest is base's, applies the commands
 * and checks the result's digest against ToDigest. 0 with *out
 * (malloc'ed, NUL-terminated, *out_len without the NUL), or -1 with err
 * saying what failed ("line 7: commands not back to front"). */
int tk_consdiff_apply(const char *base, size_t base_len, size_t signed_len,
		      const char *diff, size_t diff_len, char **out,
		      size_t *out_len, char *err, size_t errlen);

/* The ed part alone: applies the commands of ed[0..ed_len) (no header,
 * no digests) to base. The same results and errors as above; for tests
 * and the fuzzer. */
int tk_consdiff_apply_ed(const char *base, size_t base_len, const char *ed,
			 size_t ed_len, char **out, size_t *out_len, char *err,
			 size_t errlen);

/* The SHA3-256 of a consensus's signed part, as the header of a request
 * for a diff names it (hex, 64 digits and a NUL). */
void tk_consdiff_digest_hex(const char *doc, size_t signed_len, char hex[65]);

#endif
