/* Tor directory documents: the meta-format tokenizer (dir-spec §1.2).
 *
 * A document is a sequence of items; an item is a keyword line
 * ("keyword arg arg ...\n") optionally followed by one object
 * ("-----BEGIN LABEL-----\n" base64 lines "-----END LABEL-----\n").
 * The tokenizer never copies or allocates: items point into the caller's
 * buffer, which must outlive them. Every length is bounded (TK_NETDOC_*)
 * so hostile input costs at most linear time and no memory.
 *
 * Errors are written as a sentence into a caller buffer ("line 12: object
 * 'SIGNATURE' is not terminated by an END line") so they can be logged as
 * they are. */
#ifndef TK_ONION_NETDOC_NETDOC_H
#define TK_ONION_NETDOC_NETDOC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TK_NETDOC_MAX_DOC (32u << 20)	  /* whole document */
#define TK_NETDOC_MAX_LINE (64u << 10)	  /* one keyword line */
#define TK_NETDOC_MAX_OBJECT (128u << 10) /* one object, armor included */
#define TK_NETDOC_MAX_LABEL 64		  /* BEGIN/END label */
#define TK_NETDOC_ARGV 16		  /* args kept in tk_netdoc_item.argv */

/* Size of the error buffers the parsers take. */
#define TK_NETDOC_ERRLEN 160

struct tk_netdoc_span {
	const char *p;
	size_t len;
};

struct tk_netdoc_item {
	struct tk_netdoc_span kw;   /* keyword */
	struct tk_netdoc_span args; /* after keyword and blanks, to EOL */
	/* First TK_NETDOC_ARGV arguments; argc counts all of them (use
	 * tk_netdoc_arg_next() for the rest). */
	struct tk_netdoc_span argv[TK_NETDOC_ARGV];
	size_t argc;
	int has_obj;
	struct tk_netdoc_span obj_label; /* "SIGNATURE", "RSA PUBLIC KEY" */
	struct tk_netdoc_span obj_body;	 /* base64 lines, newlines kept */
	size_t start;  /* offset of the keyword line in the document */
	size_t end;    /* offset just past the item (object included) */
	size_t lineno; /* 1-based line number of the keyword line */
};

struct tk_netdoc_reader {
	const char *doc;
	size_t len;
	size_t pos;
	size_t lineno;
};

/* Starts reading doc[0..len). */
void tk_netdoc_reader_init(struct tk_netdoc_reader *rd, const char *doc,
			   size_t len);

/* Reads the next item. Returns 1 and fills *it, 0 at the end of the
 * document, -1 on malformed input (err says what and where; the reader
 * then stays at the bad item). Lines starting with '@' (annotations, as in
 * tor's cached-microdescs) are not items: tk_netdoc_next() returns them
 * like any keyword line with kw starting with '@'; callers decide. */
int tk_netdoc_next(struct tk_netdoc_reader *rd, struct tk_netdoc_item *it,
		   char *err, size_t errlen);

/* Peeks at the keyword of the next line without consuming it. Returns 0 at
 * the end of the document. */
int tk_netdoc_peek_kw(const struct tk_netdoc_reader *rd,
		      struct tk_netdoc_span *kw);

/* Iterates over the arguments of it: start with *cursor = 0; returns 1 and
 * sets *arg for each, 0 at the end. */
int tk_netdoc_arg_next(const struct tk_netdoc_item *it, size_t *cursor,
		       struct tk_netdoc_span *arg);

/* The same walk from argv while the item's arguments all fit there (the
 * tokenizer split them already): zero *st before the first call. */
struct tk_netdoc_args {
	size_t i, cur;
};
static inline int
tk_netdoc_args_next(const struct tk_netdoc_item *it, struct tk_netdoc_args *st,
		    struct tk_netdoc_span *arg)
{
	if (it->argc > TK_NETDOC_ARGV)
		return tk_netdoc_arg_next(it, &st->cur, arg);
	if (st->i >= it->argc)
		return 0;
	*arg = it->argv[st->i++];
	return 1;
}

/* 1 if the span equals the NUL-terminated string s. Inline: called for
 * every keyword and flag of large documents, and mostly rejected on the
 * first byte before strlen is paid for. */
static inline int
tk_netdoc_span_is(struct tk_netdoc_span s, const char *str)
{
	if (s.len == 0 || s.p[0] != str[0])
		return s.len == 0 && str[0] == '\0';
	size_t n = strlen(str);
	return s.len == n && memcmp(s.p, str, n) == 0;
}

/* 1 if the item's keyword is kw. */
static inline int
tk_netdoc_kw_is(const struct tk_netdoc_item *it, const char *kw)
{
	return tk_netdoc_span_is(it->kw, kw);
}

/* Decodes the object of it into out (base64 over several lines, as tor writes
 * it). Returns the decoded length or -1 (not base64, or more than cap). */
long tk_netdoc_obj_decode(const struct tk_netdoc_item *it, uint8_t *out,
			  size_t cap);

/* Decodes one base64 argument (padding optional, as in microdesc digests
 * and keys) into exactly want bytes. Returns 0 or -1. */
int tk_netdoc_b64_exact(struct tk_netdoc_span s, uint8_t *out, size_t want);

/* Decodes want bytes of hex (either case) from s, which must be exactly
 * 2*want digits. Returns 0 or -1. */
int tk_netdoc_hex_exact(struct tk_netdoc_span s, uint8_t *out, size_t want);

/* Upper-case hex of in[0..n) into out (2n+1 bytes), as Tor prints
 * fingerprints. */
void tk_netdoc_hex(const uint8_t *in, size_t n, char *out);

/* Parses a decimal integer in [min,max] from the whole span. 0 or -1. */
int tk_netdoc_int(struct tk_netdoc_span s, long long min, long long max,
		  long long *out);

/* Dotted-quad IPv4 (no leading zeros) into host byte order. 0 or -1. */
int tk_netdoc_ipv4(struct tk_netdoc_span s, uint32_t *out);
/* Port 0..65535 in decimal. 0 or -1. */
int tk_netdoc_port(struct tk_netdoc_span s, uint16_t *out);
/* IPv6 text (without brackets, no embedded IPv4 tail) into 16 bytes. */
int tk_netdoc_ipv6(const char *p, size_t n, uint8_t out[16]);
/* An IPv6 ORPort as the "a" lines of consensuses and microdescriptors
 * write it, "[ADDR]:PORT". 0, or -1 if s is not that form, or names the
 * unspecified address or port 0 (tor never connects to those). An IPv4
 * "ADDR:PORT" is -1 too: both "a" lines ignore it. */
int tk_netdoc_ipv6_orport(struct tk_netdoc_span s, uint8_t addr[16],
			  uint16_t *port);

/* Parses "YYYY-MM-DD" and "HH:MM:SS" (two arguments, UTC) into seconds
 * since the epoch. 0 or -1. */
int tk_netdoc_time(struct tk_netdoc_span date, struct tk_netdoc_span hms,
		   int64_t *out);

/* Formats t as "YYYY-MM-DD HH:MM:SS" (buf of >= 20 bytes). */
void tk_netdoc_time_fmt(int64_t t, char *buf, size_t len);

/* printf into err (if errlen > 0); returns -1 so parsers can
 * `return tk_netdoc_err(...)`. */
int tk_netdoc_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
