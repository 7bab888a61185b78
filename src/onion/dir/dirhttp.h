/* HTTP/1.0 for Tor directory requests: the request line and a parser for
 * the whole response (pure: bytes in, a response out, no I/O).
 *
 * A directory response over BEGIN_DIR ends when the stream ends, so the
 * parser sees the complete response at once. It accepts the status line,
 * headers, an optional Content-Length (which must then match), and the
 * body in identity or deflate (zlib) encoding; anything else is a clear
 * error. */
#ifndef TK_ONION_DIR_DIRHTTP_H
#define TK_ONION_DIR_DIRHTTP_H

#include <stddef.h>
#include <stdint.h>

/* Limits that keep a hostile directory from exhausting memory. */
#define TK_HTTP_MAX_HEAD 16384
#define TK_HTTP_MAX_BODY (64u << 20) /* decoded */

typedef struct tk_http_response {
	int status;    /* 100..599 */
	char *reason;  /* NUL-terminated, may be "" */
	char *head;    /* the header lines, NUL-terminated, CRLF as sent */
	uint8_t *body; /* decoded; NUL-terminated for convenience */
	size_t body_len;
	size_t wire_body_len; /* as received, before decoding */
	int deflated;	      /* the body came with Content-Encoding: deflate */
} tk_http_response;

/* Writes "GET <path> HTTP/1.0\r\n\r\n" (with Accept-Encoding: deflate when
 * deflate is set) into out. Returns the length, or -1 if the path is not
 * a plain absolute path (must start with '/', printable ASCII, no space)
 * or out is too small. */
long tk_http_request(const char *path, int deflate, char *out, size_t cap);
/* The same with extra header lines (each "Name: value\r\n", printable
 * ASCII; NULL or "" for none), e.g. X-Or-Diff-From-Consensus. -1 also if
 * a header line is malformed. */
long tk_http_request_hdrs(const char *path, int deflate, const char *headers,
			  char *out, size_t cap);

/* Parses a complete response. Returns 0, or -1 with a message in err
 * (e.g. "truncated body: Content-Length 1000, got 12 bytes"). On success
 * free the response with tk_http_response_free(). */
int tk_http_parse(const uint8_t *buf, size_t len, tk_http_response *r,
		  char *err, size_t errlen);

/* The value of the first header named name (case-insensitive), copied into
 * out (NUL-terminated, truncated to cap). Returns 1 if found, else 0. */
int tk_http_header(const tk_http_response *r, const char *name, char *out,
		   size_t cap);

void tk_http_response_free(tk_http_response *r);

#endif
