/* control_proto.h — the syntax of Tor's control protocol (control-spec
 * §2): command lines out of a byte stream, their arguments, and quoting
 * for replies. Pure: no I/O and no allocation, so a controller's bytes
 * can be fuzzed through it alone (tests/fuzz/fuzz_control.c). */
#ifndef TK_DAEMON_CONTROL_PROTO_H
#define TK_DAEMON_CONTROL_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* The spec sets no limit on a line; a controller could make us hold
 * anything. A command line (keyword and arguments, without CRLF) may be
 * this long, and the data of a multi-line ("+KEYWORD") command, which no
 * command here takes, this long in all. Past either: the connection is
 * closed. */
#define TK_CTL_LINE_MAX 4096
#define TK_CTL_DATA_MAX (64 * 1024)

enum tk_ctl_status {
	TK_CTL_MORE,	/* every byte taken, no whole command yet */
	TK_CTL_COMMAND, /* *cmd holds one; call again with the rest */
	TK_CTL_TOO_LONG /* a line or a data section past its bound */
};

struct tk_ctl_cmd {
	const char *keyword; /* as sent, without a leading '+' */
	const char *args;    /* after the keyword and its space; "" if none */
	int multiline;	     /* "+KEYWORD": its data section was skipped */
	int has_nul;	     /* a NUL byte was in the line */
};

struct tk_ctl_parser {
	char line[TK_CTL_LINE_MAX + 2]; /* + CR and NUL */
	size_t len;
	int in_data;	 /* skipping a data section up to "." */
	int data_state;	 /* where in a data line (control_proto.c) */
	size_t data_len; /* bytes of that section so far */
	int failed;	 /* TOO_LONG was returned: nothing more */
	int has_nul;	 /* of the line in line[] */
};

void tk_ctl_parser_init(struct tk_ctl_parser *p);

/* Takes bytes from buf[0..n) until one command is whole, stores its
 * count in *used and returns TK_CTL_COMMAND with *cmd pointing into p
 * (valid until the next call), or TK_CTL_MORE with all taken. LF alone
 * ends a line as CRLF does (the spec allows it). */
enum tk_ctl_status tk_ctl_parse(struct tk_ctl_parser *p, const uint8_t *buf,
				size_t n, size_t *used, struct tk_ctl_cmd *cmd);

/* The next argument of *s: skips spaces, then reads a QuotedString (a
 * backslash takes the next byte as it is) or a run of non-space bytes,
 * NUL-terminated into out. 1 and *s past it, 0 at the end, -1 when it is
 * malformed (an unterminated quote) or does not fit in cap. *quoted says
 * which form it was; on -1, out holds what was read of it. */
int tk_ctl_next_arg(const char **s, char *out, size_t cap, int *quoted);

/* Hex digits (either case, an even count) into bytes: the count, or -1
 * when hex is not that or does not fit in cap. */
int tk_ctl_hex_decode(const char *hex, uint8_t *out, size_t cap);
/* Upper-case hex, as tor writes it; out needs 2 * n + 1 bytes. */
void tk_ctl_hex_encode(const uint8_t *in, size_t n, char *out);

/* in as a QuotedString for a reply: quotes around it, backslashes before
 * '"' and '\\', C escapes (\n, \r, \t, octal) for other control bytes as
 * tor's CStrings. The length written, or 0 when it does not fit (out gets
 * "" then). */
size_t tk_ctl_quote(const char *in, char *out, size_t cap);

#endif
