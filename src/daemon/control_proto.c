/* control_proto.c — see control_proto.h. */
#include "daemon/control_proto.h"

#include <string.h>

/* Where a data line of a "+" command stands: only a line that is "." and
 * nothing else ends the section (control-spec §2.4, CmdData). */
enum { D_BOL, D_DOT, D_DOTCR, D_MID };

void
tk_ctl_parser_init(struct tk_ctl_parser *p)
{
	memset(p, 0, sizeof(*p));
}

static void
split(struct tk_ctl_parser *p, struct tk_ctl_cmd *cmd)
{
	char *kw = p->line, *sp;

	cmd->multiline = kw[0] == '+';
	if (cmd->multiline)
		kw++;
	sp = strchr(kw, ' ');
	if (sp != NULL) {
		*sp = '\0';
		cmd->args = sp + 1;
	} else {
		cmd->args = "";
	}
	cmd->keyword = kw;
	cmd->has_nul = p->has_nul;
}

/* One byte of a data section: 1 when it ended the section. */
static int
data_byte(struct tk_ctl_parser *p, uint8_t c)
{
	switch (p->data_state) {
	case D_BOL:
		p->data_state = c == '.' ? D_DOT : c == '\n' ? D_BOL : D_MID;
		return 0;
	case D_DOT:
		if (c == '\n')
			return 1;
		p->data_state = c == '\r' ? D_DOTCR : D_MID;
		return 0;
	case D_DOTCR:
		if (c == '\n')
			return 1;
		p->data_state = D_MID;
		return 0;
	default:
		if (c == '\n')
			p->data_state = D_BOL;
		return 0;
	}
}

enum tk_ctl_status
tk_ctl_parse(struct tk_ctl_parser *p, const uint8_t *buf, size_t n,
	     size_t *used, struct tk_ctl_cmd *cmd)
{
	size_t i = 0;

	if (p->failed) {
		*used = n;
		return TK_CTL_TOO_LONG;
	}
	while (i < n) {
		uint8_t c = buf[i++];

		if (p->in_data) {
			if (++p->data_len > TK_CTL_DATA_MAX) {
				p->failed = 1;
				*used = n;
				return TK_CTL_TOO_LONG;
			}
			if (!data_byte(p, c))
				continue;
			p->in_data = 0;
			split(p, cmd);
			p->len = 0;
			p->has_nul = 0;
			*used = i;
			return TK_CTL_COMMAND;
		}
		if (c != '\n') {
			/* One byte beyond the bound may be the CR of CRLF. */
			if (p->len > TK_CTL_LINE_MAX ||
			    (p->len == TK_CTL_LINE_MAX && c != '\r')) {
				p->failed = 1;
				*used = n;
				return TK_CTL_TOO_LONG;
			}
			if (c == '\0')
				p->has_nul = 1;
			p->line[p->len++] = (char)c;
			continue;
		}
		if (p->len > 0 && p->line[p->len - 1] == '\r')
			p->len--;
		p->line[p->len] = '\0';
		if (p->line[0] == '+') {
			/* The command runs once its data is skipped. */
			p->in_data = 1;
			p->data_state = D_BOL;
			p->data_len = 0;
			continue;
		}
		split(p, cmd);
		p->len = 0;
		p->has_nul = 0;
		*used = i;
		return TK_CTL_COMMAND;
	}
	*used = n;
	return TK_CTL_MORE;
}

/* A refused argument still leaves a string in out (what was read of it):
 * callers quote it in their error reply, and stack bytes past it must
 * never reach a controller (fuzz_control found one that did). */
static int
bad_arg(char *out, size_t n)
{
	out[n] = '\0';
	return -1;
}

int
tk_ctl_next_arg(const char **s, char *out, size_t cap, int *quoted)
{
	const char *p = *s;
	size_t n = 0;

	while (*p == ' ')
		p++;
	if (*p == '\0') {
		*s = p;
		return 0;
	}
	*quoted = *p == '"';
	if (*quoted) {
		for (p++;; p++) {
			if (*p == '\0')
				return bad_arg(out, n); /* no closing quote */
			if (*p == '"')
				break;
			if (*p == '\\' && *++p == '\0')
				return bad_arg(out, n);
			if (n + 1 >= cap)
				return bad_arg(out, n);
			out[n++] = *p;
		}
		p++;
		/* A quoted string is a whole argument. */
		if (*p != '\0' && *p != ' ')
			return bad_arg(out, n);
	} else {
		for (; *p != '\0' && *p != ' '; p++) {
			if (n + 1 >= cap)
				return bad_arg(out, n);
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	*s = p;
	return 1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
tk_ctl_hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t len = strlen(hex);

	if (len % 2 != 0 || len / 2 > cap)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(len / 2);
}

void
tk_ctl_hex_encode(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

size_t
tk_ctl_quote(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	/* The worst case of one byte is 4 ("\ooo"), then '"' and NUL. */
	if (cap < 3)
		goto full;
	out[n++] = '"';
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		if (n + 4 + 2 > cap)
			goto full;
		if (*p == '"' || *p == '\\') {
			out[n++] = '\\';
			out[n++] = (char)*p;
		} else if (*p == '\n' || *p == '\r' || *p == '\t') {
			out[n++] = '\\';
			out[n++] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
		} else if (*p < 0x20 || *p == 0x7f) {
			out[n++] = '\\';
			out[n++] = (char)('0' + (*p >> 6));
			out[n++] = (char)('0' + ((*p >> 3) & 7));
			out[n++] = (char)('0' + (*p & 7));
		} else {
			out[n++] = (char)*p;
		}
	}
	out[n++] = '"';
	out[n] = '\0';
	return n;
full:
	if (cap > 0)
		out[0] = '\0';
	return 0;
}
