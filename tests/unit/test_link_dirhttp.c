/* dirhttp: request line and response parser, on hand-written responses
 * shaped like what tor's directory server sends. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "../unit/tap.h"
#include "onion/dir/dirhttp.h"

static int parse(const char *s, tk_http_response *r, char *err, size_t n)
{
	return tk_http_parse((const uint8_t *)s, strlen(s), r, err, n);
}

static void test_request(void)
{
	char buf[256];
	long n = tk_http_request("/tor/keys/all", 0, buf, sizeof buf);
	tap_eq_str(buf, "GET /tor/keys/all HTTP/1.0\r\n\r\n", "plain GET");
	tap_eq_long(n, (long)strlen(buf), "length returned");
	tk_http_request("/tor/micro/d/abc", 1, buf, sizeof buf);
	tap_eq_str(buf,
		   "GET /tor/micro/d/abc HTTP/1.0\r\nAccept-Encoding: "
		   "deflate\r\n\r\n",
		   "deflate asks with Accept-Encoding");
	tap_eq_long(tk_http_request("tor/keys", 0, buf, sizeof buf), -1,
		    "relative path refused");
	tap_eq_long(tk_http_request("/a b", 0, buf, sizeof buf), -1,
		    "space in path refused");
	tap_eq_long(tk_http_request("/a\r\nX: y", 0, buf, sizeof buf), -1,
		    "CRLF injection refused");
	tk_http_request_hdrs("/tor/status-vote/current/consensus-microdesc", 1,
			     "X-Or-Diff-From-Consensus: 0A1B\r\n", buf,
			     sizeof buf);
	tap_eq_str(buf,
		   "GET /tor/status-vote/current/consensus-microdesc "
		   "HTTP/1.0\r\nAccept-Encoding: deflate\r\n"
		   "X-Or-Diff-From-Consensus: 0A1B\r\n\r\n",
		   "extra header line after Accept-Encoding");
	tap_eq_long(tk_http_request_hdrs("/a", 0, "X: y\r\n\r\nGET /b", buf,
					 sizeof buf),
		    -1, "a header that ends the head early is refused");
	tap_eq_long(tk_http_request_hdrs("/a", 0, "X: y", buf, sizeof buf), -1,
		    "a header line without CRLF is refused");
	tap_eq_long(tk_http_request_hdrs("/a", 0, "no colon\r\n", buf,
					 sizeof buf),
		    -1, "a header line without a colon is refused");
	tap_eq_long(tk_http_request("/tor/keys/all", 0, buf, 20), -1,
		    "too small buffer refused");
}

static void test_ok(void)
{
	tk_http_response r;
	char err[200], v[64];
	const char *resp = "HTTP/1.0 200 OK\r\n"
			   "Date: Fri, 27 Nov 2026 08:00:08 GMT\r\n"
			   "Content-Type: text/plain\r\n"
			   "Content-Encoding: identity\r\n"
			   "\r\n"
			   "network-status-version 3 microdesc\n";
	tap_eq_long(parse(resp, &r, err, sizeof err), 0, "200 parses");
	tap_eq_long(r.status, 200, "status 200");
	tap_eq_str(r.reason, "OK", "reason");
	tap_eq_bytes(r.body, r.body_len, "network-status-version 3 microdesc\n",
		     35, "identity body kept as is");
	tap_ok(tk_http_header(&r, "content-type", v, sizeof v) &&
		       strcmp(v, "text/plain") == 0,
	       "header lookup is case-insensitive");
	tap_ok(!tk_http_header(&r, "Content-Length", v, sizeof v),
	       "absent header not found");
	tk_http_response_free(&r);

	tap_eq_long(parse("HTTP/1.0 404 Consensus not signed by sufficient "
			  "number of requested authorities\r\n\r\n",
			  &r, err, sizeof err),
		    0, "404 with a long reason parses");
	tap_eq_long(r.status, 404, "status 404");
	tap_eq_long((long)r.body_len, 0, "empty body");
	tk_http_response_free(&r);

	tap_eq_long(parse("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello",
			  &r, err, sizeof err),
		    0, "matching Content-Length");
	tk_http_response_free(&r);
	tap_eq_long(parse("HTTP/1.0 503\n\nbusy", &r, err, sizeof err), 0,
		    "bare LF line ends and no reason");
	tap_eq_long(r.status, 503, "status 503");
	tk_http_response_free(&r);
}

static void test_bad(void)
{
	tk_http_response r;
	char err[200];
	static const struct {
		const char *in, *why;
	} bad[] = {
		{"", "empty"},
		{"HTTP/1.0 200 OK\r\nDate: x\r\n", "no blank line"},
		{"SSH-2.0-OpenSSH\r\n\r\n", "not HTTP"},
		{"HTTP/2.0 200 OK\r\n\r\n", "HTTP/2 status line"},
		{"HTTP/1.0 2x0 OK\r\n\r\n", "non-digit status"},
		{"HTTP/1.0 099 Hm\r\n\r\n", "status below 100"},
		{"HTTP/1.0 200 OK\r\nNoColonHere\r\n\r\n", "header without colon"},
		{"HTTP/1.0 200 OK\r\n: empty\r\n\r\n", "header without name"},
		{"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nshort",
		 "truncated body"},
		{"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nlonger", "oversized body"},
		{"HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n", "negative length"},
		{"HTTP/1.0 200 OK\r\nContent-Encoding: x-zstd\r\n\r\nxx",
		 "unasked encoding"},
		{"HTTP/1.0 200 OK\r\nContent-Encoding: deflate\r\n\r\nnot zlib",
		 "bad deflate data"},
		{"HTTP/1.0 200 OK\r\nX: \x01\r\n\r\n", "control byte in head"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		int rc = parse(bad[i].in, &r, err, sizeof err);
		tap_ok(rc == -1 && err[0], "refused: %s (%s)", bad[i].why, err);
	}
	err[0] = '\0';
	tap_ok(parse("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nshort", &r,
		     err, sizeof err) == -1 &&
		       strstr(err, "truncated"),
	       "truncation is named: %s", err);
	{
		/* a head longer than the limit, without a blank line */
		size_t n = TK_HTTP_MAX_HEAD + 100;
		uint8_t *big = malloc(n);
		memcpy(big, "HTTP/1.0 200 OK\r\n", 17);
		memset(big + 17, 'a', n - 17);
		tap_ok(tk_http_parse(big, n, &r, err, sizeof err) == -1 &&
			       strstr(err, "longer"),
		       "endless head refused: %s", err);
		free(big);
	}
}

static void test_deflate(void)
{
	tk_http_response r;
	char err[200];
	const char *doc = "onion-key\nntor-onion-key AAAA\np accept 1-65535\n";
	uint8_t z[256], buf[512];
	uLongf zlen = sizeof z;
	compress(z, &zlen, (const Bytef *)doc, strlen(doc));
	const char *head = "HTTP/1.0 200 OK\r\nContent-Encoding: deflate\r\n\r\n";
	memcpy(buf, head, strlen(head));
	memcpy(buf + strlen(head), z, zlen);
	size_t n = strlen(head) + zlen;
	tap_eq_long(tk_http_parse(buf, n, &r, err, sizeof err), 0,
		    "deflate body parses");
	tap_eq_bytes(r.body, r.body_len, doc, strlen(doc), "inflated body");
	tap_ok(r.deflated && r.wire_body_len == zlen, "wire size kept");
	tk_http_response_free(&r);
	tap_ok(tk_http_parse(buf, n - 3, &r, err, sizeof err) == -1,
	       "truncated deflate refused: %s", err);
}

int main(void)
{
	test_request();
	test_ok();
	test_bad();
	test_deflate();
	return tap_done();
}
