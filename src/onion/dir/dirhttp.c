/* dirhttp.h: directory HTTP/1.0 request line and response parser. */
#include "onion/dir/dirhttp.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

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

/* Header lines: "Name: value" CRLF each, printable, no empty line. */
static int
headers_ok(const char *h)
{
	while (*h) {
		const char *colon = NULL, *p = h;
		for (; *p && *p != '\r'; p++) {
			if (*p == ':' && !colon)
				colon = p;
			if ((*p < ' ' || *p > '~') && *p != '\t')
				return 0;
		}
		if (*p != '\r' || p[1] != '\n' || !colon || colon == h)
			return 0;
		h = p + 2;
	}
	return 1;
}

long
tk_http_request_hdrs(const char *path, int deflate, const char *headers,
		     char *out, size_t cap)
{
	int n;
	if (!path || path[0] != '/')
		return -1;
	for (const char *p = path; *p; p++)
		if (*p <= ' ' || *p > '~')
			return -1;
	if (!headers)
		headers = "";
	if (!headers_ok(headers))
		return -1;
	/* No Host header: tor's directory server does not need one, and
	 * tor's own client sends none over BEGIN_DIR either. */
	n = snprintf(out, cap, "GET %s HTTP/1.0\r\n%s%s\r\n", path,
		     deflate ? "Accept-Encoding: deflate\r\n" : "", headers);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return n;
}

long
tk_http_request(const char *path, int deflate, char *out, size_t cap)
{
	return tk_http_request_hdrs(path, deflate, NULL, out, cap);
}

/* Finds the end of the head: the offset just past the blank line. */
static size_t
head_end(const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Finds header name in head (lines after the status line). Returns a
 * pointer to the value (leading blanks skipped) and its length. */
static const char *
find_header(const char *head, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);
	const char *line = head;
	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t llen = eol ? (size_t)(eol - line) : strlen(line);
		if (llen > nlen && strncasecmp(line, name, nlen) == 0 &&
		    line[nlen] == ':') {
			const char *v = line + nlen + 1;
			const char *e = line + llen;
			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			while (e > v &&
			       (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
				e--;
			*vlen = (size_t)(e - v);
			return v;
		}
		if (!eol)
			break;
		line = eol + 1;
	}
	return NULL;
}

int
tk_http_header(const tk_http_response *r, const char *name, char *out,
	       size_t cap)
{
	size_t vlen;
	const char *v = r->head ? find_header(r->head, name, &vlen) : NULL;
	if (!v)
		return 0;
	if (cap) {
		if (vlen >= cap)
			vlen = cap - 1;
		memcpy(out, v, vlen);
		out[vlen] = '\0';
	}
	return 1;
}

static int
inflate_body(const uint8_t *in, size_t inlen, uint8_t **out, size_t *outlen,
	     char *err, size_t errlen)
{
	z_stream z;
	size_t cap = inlen * 4 + 1024, len = 0;
	uint8_t *buf = NULL;
	int rc;
	memset(&z, 0, sizeof z);
	if (inflateInit(&z) != Z_OK)
		return fail(err, errlen, "zlib: cannot initialise inflate");
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)inlen;
	if (inlen > UINT32_MAX / 2) {
		inflateEnd(&z);
		return fail(err, errlen, "deflated body too large");
	}
	for (;;) {
		if (cap > TK_HTTP_MAX_BODY + 1)
			cap = TK_HTTP_MAX_BODY + 1;
		if (len == cap) {
			inflateEnd(&z);
			free(buf);
			return fail(err, errlen,
				    "inflated body exceeds %u bytes",
				    TK_HTTP_MAX_BODY);
		}
		uint8_t *nb = realloc(buf, cap + 1);
		if (!nb) {
			inflateEnd(&z);
			free(buf);
			return fail(err, errlen,
				    "out of memory inflating body");
		}
		buf = nb;
		z.next_out = buf + len;
		z.avail_out = (uInt)(cap - len);
		rc = inflate(&z, Z_NO_FLUSH);
		len = cap - z.avail_out;
		if (rc == Z_STREAM_END)
			break;
		if (rc == Z_BUF_ERROR && z.avail_in == 0) {
			inflateEnd(&z);
			free(buf);
			return fail(err, errlen, "deflated body is truncated");
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			inflateEnd(&z);
			free(buf);
			return fail(err, errlen, "bad deflate data: %s",
				    z.msg ? z.msg : "zlib error");
		}
		if (z.avail_out == 0)
			cap *= 2;
	}
	inflateEnd(&z);
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

int
tk_http_parse(const uint8_t *buf, size_t len, tk_http_response *r, char *err,
	      size_t errlen)
{
	size_t hend, i, vlen;
	const char *v;
	char tmp[64];
	const uint8_t *body;
	size_t body_len;

	memset(r, 0, sizeof *r);
	hend = head_end(buf, len < TK_HTTP_MAX_HEAD ? len : TK_HTTP_MAX_HEAD);
	if (hend == 0) {
		if (len >= TK_HTTP_MAX_HEAD)
			return fail(err, errlen,
				    "response head longer than %d bytes",
				    TK_HTTP_MAX_HEAD);
		return fail(
			err, errlen,
			len ? "response ends inside the HTTP head (%zu bytes)"
			    : "empty response (%zu bytes)",
			len);
	}
	for (i = 0; i < hend; i++)
		if (buf[i] == '\0' || (buf[i] >= 0x7f) ||
		    (buf[i] < ' ' && buf[i] != '\r' && buf[i] != '\n' &&
		     buf[i] != '\t'))
			return fail(err, errlen,
				    "control or non-ASCII byte 0x%02x in the "
				    "HTTP head at offset %zu",
				    buf[i], i);
	/* Status line: HTTP/1.x SP 3DIGIT [SP reason] */
	if (hend < 13 || memcmp(buf, "HTTP/1.", 7) != 0 || !isdigit(buf[7]) ||
	    buf[8] != ' ' || !isdigit(buf[9]) || !isdigit(buf[10]) ||
	    !isdigit(buf[11]) ||
	    (buf[12] != ' ' && buf[12] != '\r' && buf[12] != '\n'))
		return fail(err, errlen, "not an HTTP/1.x status line");
	r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 +
		    (buf[11] - '0');
	if (r->status < 100)
		return fail(err, errlen, "bad HTTP status %d", r->status);
	{
		size_t rs = buf[12] == ' ' ? 13 : 12, re = rs;
		while (re < hend && buf[re] != '\r' && buf[re] != '\n')
			re++;
		r->reason = malloc(re - rs + 1);
		if (!r->reason)
			return fail(err, errlen, "out of memory");
		memcpy(r->reason, buf + rs, re - rs);
		r->reason[re - rs] = '\0';
		while (re < hend && buf[re] != '\n')
			re++;
		/* head holds the header lines only */
		r->head = malloc(hend - re);
		if (!r->head)
			goto oom;
		memcpy(r->head, buf + re + 1, hend - re - 1);
		r->head[hend - re - 1] = '\0';
	}
	/* Every header line needs a name and a colon. */
	for (const char *line = r->head; *line;) {
		const char *eol = strchr(line, '\n');
		size_t llen = eol ? (size_t)(eol - line) : strlen(line);
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		if (llen > 0) {
			const char *colon = memchr(line, ':', llen);
			if (!colon || colon == line) {
				tk_http_response_free(r);
				return fail(err, errlen,
					    "malformed HTTP header line");
			}
		}
		if (!eol)
			break;
		line = eol + 1;
	}

	body = buf + hend;
	body_len = len - hend;
	r->wire_body_len = body_len;
	v = find_header(r->head, "Content-Length", &vlen);
	if (v) {
		unsigned long long cl = 0;
		if (vlen == 0 || vlen > 18) {
			tk_http_response_free(r);
			return fail(err, errlen, "bad Content-Length");
		}
		for (i = 0; i < vlen; i++) {
			if (!isdigit((unsigned char)v[i])) {
				tk_http_response_free(r);
				return fail(err, errlen, "bad Content-Length");
			}
			cl = cl * 10 + (unsigned)(v[i] - '0');
		}
		if (cl != body_len) {
			tk_http_response_free(r);
			return fail(
				err, errlen,
				"%s body: Content-Length %llu, got %zu bytes",
				cl > body_len ? "truncated" : "oversized", cl,
				body_len);
		}
	}
	v = find_header(r->head, "Content-Encoding", &vlen);
	if (v && vlen < sizeof tmp) {
		memcpy(tmp, v, vlen);
		tmp[vlen] = '\0';
	} else if (v) {
		tk_http_response_free(r);
		return fail(err, errlen, "unsupported Content-Encoding");
	}
	if (v && strcasecmp(tmp, "deflate") == 0) {
		r->deflated = 1;
		if (inflate_body(body, body_len, &r->body, &r->body_len, err,
				 errlen) != 0) {
			tk_http_response_free(r);
			return -1;
		}
		return 0;
	}
	if (v && strcasecmp(tmp, "identity") != 0) {
		tk_http_response_free(r);
		return fail(err, errlen,
			    "unsupported Content-Encoding \"%s\" (we only "
			    "ask for identity or deflate)",
			    tmp);
	}
	if (body_len > TK_HTTP_MAX_BODY) {
		tk_http_response_free(r);
		return fail(err, errlen, "body exceeds %u bytes",
			    TK_HTTP_MAX_BODY);
	}
	r->body = malloc(body_len + 1);
	if (!r->body)
		goto oom;
	memcpy(r->body, body, body_len);
	r->body[body_len] = '\0';
	r->body_len = body_len;
	return 0;
oom:
	tk_http_response_free(r);
	return fail(err, errlen, "out of memory");
}

void
tk_http_response_free(tk_http_response *r)
{
	free(r->reason);
	free(r->head);
	free(r->body);
	memset(r, 0, sizeof *r);
}
