/* cli_out.h — what the clients print: -v traces, JSON strings, and text
 * that came from the network made safe for a terminal. */
#ifndef TK_CLI_OUT_H
#define TK_CLI_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The trace_arg of a session: who is talking, about what. */
struct cli_trace_ctx {
	const char *progname;
	const char *label; /* the query or target; may be NULL */
};

/* tk_socks_session_config.trace for -v: one stderr line per event,
 * bytes as hex ("> 05 01 00" sent, "< 05 00" received, "* note"). */
void cli_trace(void *arg, int dir, const uint8_t *b, size_t n,
	       const char *note);

/* Writes s as a JSON string (quotes included). */
void cli_json_str(FILE *f, const char *s);

/* Copies s into out, replacing bytes that are not printable ASCII with
 * \xNN, so a proxy cannot put control sequences on a terminal. */
void cli_safe_text(const char *s, char *out, size_t cap);

#endif
