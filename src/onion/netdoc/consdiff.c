/* consdiff.h: applying a consensus diff.
 *
 * The commands are read first, all of them, and checked to run back to
 * front; then the result is built front to back in one pass: the base's
 * lines are copied up to each command, the command's block (if any) is
 * copied from the diff, and deleted lines are skipped. So the work and
 * the output are bounded by the sizes of the base and of the diff. */
#include "onion/netdoc/consdiff.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/keccak.h"

#define DIFF_VERSION_LINE "network-status-diff-version 1"

struct cmd {
	char op;	   /* 'a', 'c', 'd' */
	size_t lo, hi;	   /* base lines (1-based); a: after line lo */
	size_t blk, blk_n; /* block: offset in the diff, bytes */
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
tk_consdiff_is_diff(const char *body, size_t len)
{
	static const char kw[] = "network-status-diff-version";
	return len > sizeof kw - 1 && memcmp(body, kw, sizeof kw - 1) == 0 &&
	       (body[sizeof kw - 1] == ' ' || body[sizeof kw - 1] == '\n');
}

/* The next line of buf from *pos: its start and length without the
 * newline. 0 at the end; -1 if the last line has no newline. */
static int
next_line(const char *buf, size_t len, size_t *pos, const char **line,
	  size_t *n)
{
	const char *nl;
	if (*pos >= len)
		return 0;
	nl = memchr(buf + *pos, '\n', len - *pos);
	if (!nl)
		return -1;
	*line = buf + *pos;
	*n = (size_t)(nl - *line);
	*pos = (size_t)(nl - buf) + 1;
	return 1;
}

/* A line number: digits only, no leading zero unless "0", < 2^31. */
static int
number(const char **p, const char *end, size_t *out)
{
	const char *s = *p;
	size_t v = 0;
	if (s == end || *s < '0' || *s > '9')
		return -1;
	if (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9')
		return -1;
	while (s < end && *s >= '0' && *s <= '9') {
		v = v * 10 + (size_t)(*s - '0');
		if (v >= 0x80000000u)
			return -1;
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

/* Parses one command line into c (its range checked later). */
static int
parse_cmd(const char *l, size_t n, size_t n_base, struct cmd *c)
{
	const char *p = l, *end = l + n;
	int dollar = 0;
	if (number(&p, end, &c->lo) < 0)
		return -1;
	c->hi = c->lo;
	if (p < end && *p == ',') {
		p++;
		if (p < end && *p == '$') {
			dollar = 1;
			c->hi = n_base;
			p++;
		} else if (number(&p, end, &c->hi) < 0) {
			return -1;
		}
		/* "N,$" too: N past the last line would let the commands
		 * after it reach beyond the base */
		if (c->hi < c->lo)
			return -1;
	}
	if (p + 1 != end)
		return -1;
	c->op = *p;
	if (c->op != 'a' && c->op != 'c' && c->op != 'd')
		return -1;
	if (dollar && c->op != 'd')
		return -1;
	if (c->op == 'a' && c->hi != c->lo)
		return -1;
	if (c->op != 'a' && c->lo == 0)
		return -1;
	return 0;
}

/* Offsets of the starts of base's lines, and one past the end. */
static size_t *
index_lines(const char *base, size_t len, size_t *n_out)
{
	size_t n = 0, *ix;
	for (size_t i = 0; i < len; i++)
		n += base[i] == '\n';
	ix = malloc((n + 1) * sizeof *ix);
	if (!ix)
		return NULL;
	ix[0] = 0;
	for (size_t i = 0, k = 1; i < len; i++)
		if (base[i] == '\n')
			ix[k++] = i + 1;
	*n_out = n;
	return ix;
}

/* line0: the number of the diff's line before ed[0], for messages. */
static int
apply_ed(const char *base, size_t base_len, const char *ed, size_t ed_len,
	 size_t line0, char **out, size_t *out_len, char *err, size_t errlen)
{
	struct cmd *cmds = NULL;
	size_t n_cmds = 0, cap = 0, n_base, *ix = NULL, pos = 0, lineno = line0;
	size_t limit, cursor, o = 0;
	const char *l;
	size_t n;
	char *res = NULL;
	int r, rc = -1;

	*out = NULL;
	if (base_len == 0 || base[base_len - 1] != '\n')
		return fail(err, errlen,
			    "the consensus we hold does not end with a "
			    "newline");
	/* A document is text: a NUL would survive into the result and cut
	 * it short for every string function downstream. */
	if (memchr(ed, '\0', ed_len) != NULL)
		return fail(err, errlen, "the diff contains a NUL byte");
	ix = index_lines(base, base_len, &n_base);
	if (!ix)
		return fail(err, errlen, "out of memory");
	limit = n_base;
	while ((r = next_line(ed, ed_len, &pos, &l, &n)) > 0) {
		struct cmd c;
		lineno++;
		if (parse_cmd(l, n, n_base, &c) < 0) {
			fail(err, errlen,
			     "line %zu: not a diff command: \"%.*s\"", lineno,
			     (int)(n > 40 ? 40 : n), l);
			goto out;
		}
		/* back to front: each command lies before the previous */
		if ((c.op == 'a' && c.lo > limit) ||
		    (c.op != 'a' && c.hi > limit)) {
			fail(err, errlen,
			     "line %zu: line %zu is past the end or after "
			     "the previous command (commands run back to "
			     "front)",
			     lineno, c.op == 'a' ? c.lo : c.hi);
			goto out;
		}
		limit = c.op == 'a' ? c.lo : c.lo - 1;
		c.blk = pos;
		c.blk_n = 0;
		if (c.op != 'd') {
			int ended = 0;
			while ((r = next_line(ed, ed_len, &pos, &l, &n)) > 0) {
				lineno++;
				if (n == 1 && l[0] == '.') {
					ended = 1;
					break;
				}
			}
			if (!ended) {
				fail(err, errlen,
				     "line %zu: block not ended with \".\"",
				     lineno);
				goto out;
			}
			c.blk_n = (size_t)(l - ed) - c.blk;
		}
		if (n_cmds == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct cmd *p = realloc(cmds, nc * sizeof *p);
			if (!p) {
				fail(err, errlen, "out of memory");
				goto out;
			}
			cmds = p;
			cap = nc;
		}
		cmds[n_cmds++] = c;
	}
	if (r < 0) {
		fail(err, errlen,
		     "line %zu: the diff does not end with a newline",
		     lineno + 1);
		goto out;
	}
	res = malloc(base_len + ed_len + 1);
	if (!res) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	/* front to back: the commands in reverse order */
	cursor = 1;
	for (size_t k = n_cmds; k-- > 0;) {
		const struct cmd *c = &cmds[k];
		size_t upto = c->op == 'a' ? c->lo : c->lo - 1;
		if (upto >= cursor) {
			size_t from = ix[cursor - 1], to = ix[upto];
			memcpy(res + o, base + from, to - from);
			o += to - from;
		}
		memcpy(res + o, ed + c->blk, c->blk_n);
		o += c->blk_n;
		if (c->op == 'a') {
			if (cursor < c->lo + 1)
				cursor = c->lo + 1;
		} else {
			cursor = c->hi + 1;
		}
	}
	if (cursor <= n_base) {
		memcpy(res + o, base + ix[cursor - 1],
		       base_len - ix[cursor - 1]);
		o += base_len - ix[cursor - 1];
	}
	res[o] = '\0';
	*out = res;
	*out_len = o;
	res = NULL;
	rc = 0;
out:
	free(res);
	free(cmds);
	free(ix);
	return rc;
}

int
tk_consdiff_apply_ed(const char *base, size_t base_len, const char *ed,
		     size_t ed_len, char **out, size_t *out_len, char *err,
		     size_t errlen)
{
	return apply_ed(base, base_len, ed, ed_len, 0, out, out_len, err,
			errlen);
}

void
tk_consdiff_digest_hex(const char *doc, size_t signed_len, char hex[65])
{
	uint8_t d[TK_SHA3_256_LEN];
	tk_sha3_256(doc, signed_len, d);
	tk_hex_encode(d, sizeof d, hex);
	/* upper case, as tor writes it */
	for (int i = 0; i < 64; i++)
		if (hex[i] >= 'a' && hex[i] <= 'f')
			hex[i] = (char)(hex[i] - 'a' + 'A');
}

static int
hex_digest(const char *p, size_t n, uint8_t out[32])
{
	return n == 64 ? tk_hex_decode(p, 64, out, 32) : -1;
}

int
tk_consdiff_apply(const char *base, size_t base_len, size_t signed_len,
		  const char *diff, size_t diff_len, char **out,
		  size_t *out_len, char *err, size_t errlen)
{
	size_t pos = 0, n;
	const char *l;
	uint8_t from[32], to[32], have[32];

	*out = NULL;
	if (signed_len > base_len)
		return fail(err, errlen, "bad signed length");
	if (next_line(diff, diff_len, &pos, &l, &n) <= 0 ||
	    n != sizeof DIFF_VERSION_LINE - 1 ||
	    memcmp(l, DIFF_VERSION_LINE, n) != 0)
		return fail(err, errlen,
			    "line 1: not \"" DIFF_VERSION_LINE "\"");
	if (next_line(diff, diff_len, &pos, &l, &n) <= 0 ||
	    n != 4 + 1 + 64 + 1 + 64 || memcmp(l, "hash ", 5) != 0 ||
	    l[69] != ' ' || hex_digest(l + 5, 64, from) < 0 ||
	    hex_digest(l + 70, 64, to) < 0)
		return fail(err, errlen,
			    "line 2: not \"hash FromDigest ToDigest\" "
			    "(64 hex digits each)");
	tk_sha3_256(base, signed_len, have);
	if (memcmp(have, from, 32) != 0)
		return fail(err, errlen,
			    "the diff is not from the consensus we hold "
			    "(FromDigest differs)");
	if (apply_ed(base, base_len, diff + pos, diff_len - pos, 2, out,
		     out_len, err, errlen) < 0)
		return -1;
	tk_sha3_256(*out, *out_len, have);
	if (memcmp(have, to, 32) != 0) {
		free(*out);
		*out = NULL;
		return fail(err, errlen,
			    "the result's digest is not the diff's "
			    "ToDigest");
	}
	return 0;
}
