/* cli_out.c — traces and safe output for the clients. */
#include "cli/cli_out.h"

#include <stdio.h>
#include <string.h>

#include "lib/socks_client.h"

void
cli_trace(void *arg, int dir, const uint8_t *b, size_t n, const char *note)
{
	const struct cli_trace_ctx *t = arg;
	size_t i;

	/* One fprintf per line would interleave badly with -j; build the line
	 * first and write it once. */
	char line[4 * 1100 + 256];
	size_t len = 0;

	len += (size_t)snprintf(line, sizeof(line), "%s: %s%s%s ", t->progname,
				t->label ? t->label : "", t->label ? ": " : "",
				dir == TK_SOCKS_TRACE_SENT	 ? ">"
				: dir == TK_SOCKS_TRACE_RECEIVED ? "<"
								 : "*");
	if (dir == TK_SOCKS_TRACE_NOTE) {
		snprintf(line + len, sizeof(line) - len, "%s", note);
	} else {
		for (i = 0; i < n && len + 4 < sizeof(line); i++)
			len += (size_t)snprintf(line + len, sizeof(line) - len,
						"%s%02x", i ? " " : "", b[i]);
	}
	fprintf(stderr, "%s\n", line);
}

void
cli_json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p >= 0x7f)
			/* Bytes from the network need not be UTF-8: keep the
			 * output valid JSON whatever came in. */
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

void
cli_safe_text(const char *s, char *out, size_t cap)
{
	const unsigned char *p;
	size_t len = 0;

	if (cap == 0)
		return;
	for (p = (const unsigned char *)s; *p && len + 5 < cap; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			out[len++] = (char)*p;
		else
			len += (size_t)snprintf(out + len, cap - len, "\\x%02x",
						*p);
	}
	out[len] = '\0';
}
