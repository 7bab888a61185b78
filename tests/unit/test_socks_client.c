/* Client role of the SOCKS codec: the cases of Tor's own SOCKS client
 * tests (C-*, from Tor's src/test/test_socks.c), of arti's tor-socksproto
 * client tests (AC-*), what Tor's tor-resolve sends and expects (R-*,
 * read from its source), the bytes Debian's tor-resolve 0.4.9.11 was seen
 * sending to a scripted SOCKS server (capture/...), and the classification
 * of answers that are not SOCKS. Each exchange is replayed with every
 * proxy message fed whole, then one byte at a time; every proper prefix of
 * a proxy message must be NEED_MORE, and bytes after the final reply must
 * be left for the caller. */
#include "lib/socks_proto.h"

#include "lib/addr.h"

#include "../unit/tap.h"

#include <sys/socket.h>

#define ERR TK_SOCKS_ERROR
#define NEED TK_SOCKS_NEED_MORE
#define DONE TK_SOCKS_DONE
#define C TK_SOCKS_CMD_CONNECT
#define R TK_SOCKS_CMD_RESOLVE
#define P TK_SOCKS_CMD_RESOLVE_PTR

#define NOAUTH NULL, NULL, 0
#define AUTH(u, p) u, p, 1

struct crow {
	const char *id;
	uint8_t version, command;
	const char *host;
	uint16_t port;
	const char *user, *pass;
	uint8_t use_auth;
	/* "S hex" = we must send exactly this next; "R hex" = the proxy's
	 * bytes, fed to the parser. */
	const char *steps[8];
	int status;
	int error;
	int rep;	   /* -1: not checked */
	const char *answer; /* address as text, or ATYP 03 host */
	int port_out;	   /* -1: not checked */
	const char *msg;   /* substring of msg, or NULL */
	const char *note;
};

static const struct crow rows[] = {
	/* ---- Tor as a SOCKS client (test_socks.c, the client tests) */
	{"C-01", 4, C, "1.2.3.4", 80, NOAUTH,
	 {"S 04 01 00 50 01 02 03 04 00", "R 04 5a 20 25 01 02 03 04"}, DONE,
	 0, 0x5a, "1.2.3.4", 0x2025, NULL,
	 "a version byte of 4 is accepted, as Tor's client does"},
	{"C-02", 4, C, "1.2.3.4", 80, NOAUTH,
	 {"S 04 01 00 50 01 02 03 04 00", "R 04 5b 20 25 01 02 03 04"}, DONE,
	 0, 0x5b, NULL, -1, "request rejected or failed",
	 "DIFFERENCE (API): the refusal is a parsed final reply (DONE, rep "
	 "5B) with words, not a parse error"},
	{"C-03", 5, C, "example.com", 80, NOAUTH,
	 {"S 05 01 00", "R 05 00",
	  "S 05 01 00 03 0b 65 78 61 6d 70 6c 65 2e 63 6f 6d 00 50"},
	 NEED, 0, -1, NULL, -1, NULL, NULL},
	{"C-04", 5, C, "example.com", 80, AUTH("u", "p"),
	 {"S 05 02 00 02", "R 05 00",
	  "S 05 01 00 03 0b 65 78 61 6d 70 6c 65 2e 63 6f 6d 00 50"},
	 NEED, 0, -1, NULL, -1, NULL, NULL},
	{"C-05", 5, C, "example.com", 80, AUTH("u", "pw"),
	 {"S 05 02 00 02", "R 05 02", "S 01 01 75 02 70 77"}, NEED, 0, -1, NULL,
	 -1, NULL, NULL},
	{"C-06", 5, C, "example.com", 80, NOAUTH,
	 {"S 05 01 00", "R 05 ff"}, ERR, TK_SOCKS_CLIENT_NO_METHOD, -1, NULL,
	 -1, "none of the authentication methods", NULL},
	{"C-07", 5, C, "example.com", 80, AUTH("u", "p"),
	 {"S 05 02 00 02", "R 05 ff"}, ERR, TK_SOCKS_CLIENT_NO_METHOD, -1,
	 NULL, -1, "none of the authentication methods", NULL},
	{"C-08", 5, C, "1.2.3.4", 80, AUTH("u", "p"),
	 {"S 05 02 00 02", "R 05 02", "S 01 01 75 01 70", "R 01 00",
	  "S 05 01 00 01 01 02 03 04 00 50"},
	 NEED, 0, -1, NULL, -1, NULL, NULL},
	{"C-09", 5, C, "1.2.3.4", 80, AUTH("u", "p"),
	 {"S 05 02 00 02", "R 05 02", "S 01 01 75 01 70", "R 01 f0"}, ERR,
	 TK_SOCKS_CLIENT_AUTH_FAILED, -1, NULL, -1,
	 "rejected the username/password (status 0xf0)", NULL},
	{"C-10", 5, C, "1.2.3.4", 80, NOAUTH,
	 {"S 05 01 00", "R 05 00", "S 05 01 00 01 01 02 03 04 00 50",
	  "R 05 00 00 01 01 02 03 04 00 05"},
	 DONE, 0, 0, "1.2.3.4", 5, NULL, NULL},
	{"C-11", 5, C, "1.2.3.4", 80, NOAUTH,
	 {"S 05 01 00", "R 05 00", "S 05 01 00 01 01 02 03 04 00 50",
	  "R 05 00 00 04 61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 00 "
	  "05"},
	 DONE, 0, 0, "6162:6364:6566:6768:696a:6b6c:6d6e:6f70", 5, NULL, NULL},
	{"C-12", 5, C, "1.2.3.4", 80, NOAUTH,
	 {"S 05 01 00", "R 05 00", "S 05 01 00 01 01 02 03 04 00 50",
	  "R 05 00 00 03 12 67 6f 70 68 65 72 2e 65 78 61 6d 70 6c 65 2e 63 6f "
	  "6d 00 05"},
	 DONE, 0, 0, "gopher.example.com", 5, NULL, NULL},
	{"C-13", 5, C, "1.2.3.4", 80, NOAUTH,
	 {"S 05 01 00", "R 05 00", "S 05 01 00 01 01 02 03 04 00 50",
	  "R 05 03 00 03 12 67 6f 70 68 65 72 2e 65 78 61 6d 70 6c 65 2e 63 6f "
	  "6d 00 05"},
	 DONE, 0, 3, "gopher.example.com", 5, "network is unreachable",
	 "DIFFERENCE (API): a parsed failure reply is DONE with rep 03"},
	{"C-14", 5, C, "1.2.3.4", 80, NOAUTH,
	 {"S 05 01 00", "R 05 00", "S 05 01 00 01 01 02 03 04 00 50",
	  "R 05 03 00 17 12 20 62 6c 61 68 20 62 6c 61 68"},
	 ERR, TK_SOCKS_CLIENT_NOT_SOCKS, -1, NULL, -1,
	 "address type 0x17 (status 0x03: network is unreachable)", NULL},

	/* ---- arti's client (zydou/arti@cadcd0d handshake/client.rs) */
	{"AC-01", 4, C, "192.0.2.15", 443, NOAUTH,
	 {"S 04 01 01 bb c0 00 02 0f 00", "R 00 5a 01 bb c0 00 02 0f"}, DONE,
	 0, 0x5a, "192.0.2.15", 443, NULL, NULL},
	{"AC-02", 4, C, "www.torproject.org", 443, AUTH("hello", NULL),
	 {"S 04 01 01 bb 00 00 00 01 68 65 6c 6c 6f 00 77 77 77 2e 74 6f 72 70 "
	  "72 6f 6a 65 63 74 2e 6f 72 67 00",
	  "R 00 5a 01 bb c0 00 02 15"},
	 DONE, 0, 0x5a, "192.0.2.21", 443, NULL, NULL},
	{"AC-03", 5, C, "www.torproject.org", 443, NOAUTH,
	 {"S 05 01 00", "R 05 00",
	  "S 05 01 00 03 12 77 77 77 2e 74 6f 72 70 72 6f 6a 65 63 74 2e 6f 72 "
	  "67 01 bb",
	  "R 05 00 00 01 c0 00 02 15 01 bb"},
	 DONE, 0, 0, "192.0.2.21", 443, NULL, NULL},
	{"AC-04", 5, C, "www.torproject.org", 443, AUTH("hello", "world"),
	 {"S 05 02 00 02", "R 05 02", "S 01 05 68 65 6c 6c 6f 05 77 6f 72 6c 64",
	  "R 01 00",
	  "S 05 01 00 03 12 77 77 77 2e 74 6f 72 70 72 6f 6a 65 63 74 2e 6f 72 "
	  "67 01 bb",
	  "R 05 00 00 01 c0 00 02 15 01 bb"},
	 DONE, 0, 0, "192.0.2.21", 443, NULL,
	 "DIFFERENCE: methods offered as 00 02 (curl's order; arti sends "
	 "02 00), same meaning"},

	/* ---- tor-resolve (R-*, read from its source, and capture/...: the
	 * bytes Debian's tor-resolve sent to a scripted SOCKS server) */
	{"R-01", 4, R, "example.com", 0, NOAUTH,
	 {"S 04 f0 00 00 00 00 00 01 00 65 78 61 6d 70 6c 65 2e 63 6f 6d 00",
	  "R 00 5a 00 00 5d b8 d8 22"},
	 DONE, 0, 0x5a, "93.184.216.34", 0, NULL, NULL},
	{"R-01/fail", 4, R, "example.com", 0, NOAUTH,
	 {"S 04 f0 00 00 00 00 00 01 00 65 78 61 6d 70 6c 65 2e 63 6f 6d 00",
	  "R 00 5b 00 00 00 00 00 00"},
	 DONE, 0, 0x5b, NULL, -1, "status 91 (0x5b)", NULL},
	{"R-02", 5, R, "example.com", 0, NOAUTH,
	 {"S 05 01 00", "R 05 00",
	  "S 05 f0 00 03 0b 65 78 61 6d 70 6c 65 2e 63 6f 6d 00 00",
	  "R 05 00 00 01 5d b8 d8 22 00 00"},
	 DONE, 0, 0, "93.184.216.34", 0, NULL, NULL},
	{"R-03", 5, R, "1.2.3.4", 0, NOAUTH,
	 {"S 05 01 00", "R 05 00", "S 05 f0 00 03 07 31 2e 32 2e 33 2e 34 00 00",
	  "R 05 00 00 01 01 02 03 04 00 00"},
	 DONE, 0, 0, "1.2.3.4", 0, NULL, NULL},
	{"R-04", 5, P, "1.2.3.4", 0, NOAUTH,
	 {"S 05 01 00", "R 05 00", "S 05 f1 00 01 01 02 03 04 00 00",
	  "R 05 00 00 03 0b 65 78 61 6d 70 6c 65 2e 63 6f 6d 00 00"},
	 DONE, 0, 0, "example.com", 0, NULL, NULL},
	{"R-05", 5, P, "::1", 0, NOAUTH,
	 {"S 05 01 00", "R 05 00",
	  "S 05 f1 00 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00"},
	 NEED, 0, -1, NULL, -1, NULL, NULL},
	{"R-05/brackets", 5, P, "[2001:db8::6]", 0, NOAUTH,
	 {"S 05 01 00", "R 05 00",
	  "S 05 f1 00 04 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 06 00 00",
	  "R 05 00 00 03 0b 76 36 6f 6e 6c 79 2e 74 65 73 74 00 00"},
	 DONE, 0, 0, "v6only.test", 0, NULL, NULL},
	{"R-06", 5, R, "nx.test", 0, NOAUTH,
	 {"S 05 01 00", "R 05 00", "S 05 f0 00 03 07 6e 78 2e 74 65 73 74 00 00",
	  "R 05 04 00 00 00 00 00 00 00 00"},
	 DONE, 0, 4, NULL, 0, "host is unreachable",
	 "DIFFERENCE: Tor's ATYP-00 error reply is understood (tor-resolve "
	 "prints 'Failed parsing SOCKS5 response')"},
	{"R-07", 5, R, "nx.test", 0, NOAUTH,
	 {"S 05 01 00", "R 05 00", "S 05 f0 00 03 07 6e 78 2e 74 65 73 74 00 00",
	  "R 05 04 00 01 00 00 00 00 00 00"},
	 DONE, 0, 4, "0.0.0.0", 0, "SOCKS5 status 4 (0x04): host is unreachable",
	 NULL},
	{"R-08", 4, P, "1.2.3.4", 0, NOAUTH, {NULL}, ERR,
	 TK_SOCKS_CLIENT_BAD_REQUEST, -1, NULL, -1, "need SOCKS5", NULL},
	{"capture/echo.test", 5, R, "echo.test", 0, NOAUTH,
	 {"S 05 01 00", "R 05 00", "S 05 f0 00 03 09 65 63 68 6f 2e 74 65 73 74 00 00",
	  "R 05 00 00 01 7f 00 00 01 00 00"},
	 DONE, 0, 0, "127.0.0.1", 0, NULL, NULL},
	{"capture/v6.test", 5, R, "v6.test", 0, NOAUTH,
	 {"S 05 01 00", "R 05 00", "S 05 f0 00 03 07 76 36 2e 74 65 73 74 00 00",
	  "R 05 00 00 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00"},
	 DONE, 0, 0, "::1", 0, NULL, NULL},
	{"capture/-x 192.0.2.10", 5, P, "192.0.2.10", 0, NOAUTH,
	 {"S 05 01 00", "R 05 00", "S 05 f1 00 01 c0 00 02 0a 00 00",
	  "R 05 00 00 03 08 70 74 72 2e 74 65 73 74 00 00"},
	 DONE, 0, 0, "ptr.test", 0, NULL, NULL},
	{"capture/-4 echo.test", 4, R, "echo.test", 0, NOAUTH,
	 {"S 04 f0 00 00 00 00 00 01 00 65 63 68 6f 2e 74 65 73 74 00",
	  "R 00 5a 00 00 7f 00 00 01"},
	 DONE, 0, 0x5a, "127.0.0.1", 0, NULL, NULL},

	/* ---- answers that are not SOCKS */
	{"http-proxy", 5, C, "example.com", 80, NOAUTH,
	 {"S 05 01 00",
	  "R 48 54 54 50 2f 31 2e 31 20 34 30 30 20 42 61 64 20 52 65 71 75 65 "
	  "73 74 0d 0a 0d 0a"},
	 ERR, TK_SOCKS_CLIENT_HTTP, -1, NULL, -1,
	 "answered HTTP (\"HTTP/1.1 400 Bad Request\")", NULL},
	{"http-socks4", 4, C, "example.com", 80, NOAUTH,
	 {"S 04 01 00 50 00 00 00 01 00 65 78 61 6d 70 6c 65 2e 63 6f 6d 00",
	  "R 48 54 54 50 2f 31 2e 30 20 35 30 31 20 54 6f 72"},
	 ERR, TK_SOCKS_CLIENT_HTTP, -1, NULL, -1, "HTTP/1.0 501 Tor", NULL},
	{"http-after-method", 5, C, "example.com", 80, NOAUTH,
	 {"S 05 01 00", "R 05 00",
	  "S 05 01 00 03 0b 65 78 61 6d 70 6c 65 2e 63 6f 6d 00 50",
	  "R 48 54 54 50 2f 31 2e 30 20 35 30 31"},
	 ERR, TK_SOCKS_CLIENT_HTTP, -1, NULL, -1, "HTTP", NULL},
	{"tls-garbage", 5, C, "example.com", 80, NOAUTH,
	 {"S 05 01 00", "R 16 03 01 00 05 68 65 6c 6c 6f"}, ERR,
	 TK_SOCKS_CLIENT_NOT_SOCKS, -1, NULL, -1,
	 "did not answer with a SOCKS5 method choice (got 16 03 01 00 05 68 65 "
	 "6c ...)",
	 NULL},
	{"socks4-answer-to-socks5", 5, C, "example.com", 80, NOAUTH,
	 {"S 05 01 00", "R 00 5b"}, ERR, TK_SOCKS_CLIENT_NOT_SOCKS, -1, NULL,
	 -1, "(got 00 5b)", NULL},
	{"method-not-offered", 5, C, "example.com", 80, NOAUTH,
	 {"S 05 01 00", "R 05 02"}, ERR, TK_SOCKS_CLIENT_NOT_SOCKS, -1, NULL,
	 -1, "method 0x02, which was not offered", NULL},
	{"atyp0-success", 5, R, "x.test", 0, NOAUTH,
	 {"S 05 01 00", "R 05 00", "S 05 f0 00 03 06 78 2e 74 65 73 74 00 00",
	  "R 05 00 00 00 00 00 00 00 00 00"},
	 ERR, TK_SOCKS_CLIENT_NOT_SOCKS, -1, NULL, -1, "address type 0x00",
	 NULL},
	{"userpass-status-v5", 5, C, "1.2.3.4", 80, AUTH("", ""),
	 {"S 05 02 00 02", "R 05 02", "S 01 00 00", "R 05 00",
	  "S 05 01 00 01 01 02 03 04 00 50"},
	 NEED, 0, -1, NULL, -1, NULL,
	 "a status with version 5 is tolerated (seen in the wild)"},
	{"extended-F6", 5, C, "bad.onion", 80, NOAUTH,
	 {"S 05 01 00", "R 05 00",
	  "S 05 01 00 03 09 62 61 64 2e 6f 6e 69 6f 6e 00 50",
	  "R 05 f6 00 01 00 00 00 00 00 00"},
	 DONE, 0, 0xf6, NULL, -1, "onion service invalid address", NULL},

	/* ---- requests that cannot be encoded */
	{"v4-ipv6", 4, C, "::1", 80, NOAUTH, {NULL}, ERR,
	 TK_SOCKS_CLIENT_BAD_REQUEST, -1, NULL, -1, "cannot carry an IPv6",
	 NULL},
	{"ptr-name", 5, P, "example.com", 0, NOAUTH, {NULL}, ERR,
	 TK_SOCKS_CLIENT_BAD_REQUEST, -1, NULL, -1,
	 "needs an IPv4 or IPv6 address", NULL},
	{"empty-host", 5, C, "", 80, NOAUTH, {NULL}, ERR,
	 TK_SOCKS_CLIENT_BAD_REQUEST, -1, NULL, -1, "1-255 bytes", NULL},
	{"version-6", 6, C, "x", 80, NOAUTH, {NULL}, ERR,
	 TK_SOCKS_CLIENT_BAD_REQUEST, -1, NULL, -1, "must be 4 or 5", NULL},
	{"v4-resolve-literal", 4, R, "1.2.3.4", 0, NOAUTH,
	 {"S 04 f0 00 00 00 00 00 01 00 31 2e 32 2e 33 2e 34 00"}, NEED, 0, -1,
	 NULL, -1, NULL, "RESOLVE is always 4a, as tor-resolve -4 does"},
	{"v5-connect-v6", 5, C, "[2001:db8::1]", 443, NOAUTH,
	 {"S 05 01 00", "R 05 00",
	  "S 05 01 00 04 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 01 bb"},
	 NEED, 0, -1, NULL, -1, NULL, NULL},
};

#define NROWS (sizeof rows / sizeof rows[0])

struct run {
	int status, error, ok_sends;
	struct tk_socks_client_result last;
	size_t last_consumed;
};

/* Plays one row. mode 0: each proxy message whole; 1: a byte at a time
 * (a caller that buffers and drops what is consumed). Returns 0 if every
 * "S" step matched. */
static void play(const struct crow *r, int mode, struct run *out, int report)
{
	struct tk_socks_client c;
	struct tk_socks_client_config cfg = {
		.version = r->version,
		.command = r->command,
		.port = r->port,
		.host = r->host,
		.username = (const uint8_t *)r->user,
		.username_len = r->user ? strlen(r->user) : 0,
		.password = (const uint8_t *)r->pass,
		.password_len = r->pass ? strlen(r->pass) : 0,
		.use_auth = r->use_auth,
	};
	static struct tk_socks_client_result res;
	static uint8_t want[600], in[600], buf[600];
	uint8_t sent[1200];
	size_t sent_len = 0;
	int step = 0;

	memset(out, 0, sizeof *out);
	out->ok_sends = 1;
	tk_socks_client_start(&c, &cfg, &res);
	memcpy(sent, res.send, res.send_len);
	sent_len = res.send_len;
	out->status = res.status;
	out->last = res;

	for (; step < 8 && r->steps[step]; step++) {
		const char *s = r->steps[step];
		if (s[0] == 'S') {
			size_t wl = tap_unhex(s + 1, want, sizeof want);
			int same = sent_len == wl && !memcmp(sent, want, wl);
			if (report)
				tap_eq_bytes(sent, sent_len, want, wl,
					     "%s: sends step %d", r->id, step);
			out->ok_sends &= same;
			sent_len = 0;
			continue;
		}
		size_t n = tap_unhex(s + 1, in, sizeof in);
		size_t have = 0;
		for (size_t pos = 0; pos < n;) {
			size_t take = mode ? 1 : n - pos;
			memcpy(buf + have, in + pos, take);
			have += take;
			pos += take;
			tk_socks_client_feed(&c, buf, have, &res);
			memcpy(sent + sent_len, res.send, res.send_len);
			sent_len += res.send_len;
			out->status = res.status;
			out->last = res;
			if (res.status != NEED)
				break;
			memmove(buf, buf + res.consumed, have - res.consumed);
			have -= res.consumed;
		}
		if (res.status == DONE)
			out->last_consumed = res.consumed;
	}
	out->error = out->last.error;
}

static void check_row(const struct crow *r)
{
	struct run whole, bytes;
	if (r->note)
		tap_diag("%s: %s", r->id, r->note);
	play(r, 0, &whole, 1);
	const struct tk_socks_client_result *res = &whole.last;
	tap_eq_long(whole.status, r->status, "%s: status", r->id);
	tap_eq_long(whole.error, r->error, "%s: error class", r->id);
	if (r->msg)
		tap_ok(strstr(res->msg, r->msg) != NULL,
		       "%s: says \"%s\" (%s)", r->id, r->msg, res->msg);
	if (r->rep >= 0)
		tap_eq_long(res->reply.rep, r->rep, "%s: REP", r->id);
	if (r->answer) {
		char txt[TK_SOCKS_HOST_MAX];
		if (res->reply.atyp == TK_SOCKS_ATYP_DOMAIN)
			snprintf(txt, sizeof txt, "%s", res->reply.host);
		else
			tk_ip_format(res->reply.atyp == TK_SOCKS_ATYP_IPV6
					     ? AF_INET6
					     : AF_INET,
				     res->reply.addr, txt, sizeof txt);
		tap_eq_str(txt, r->answer, "%s: answer", r->id);
	}
	if (r->port_out >= 0)
		tap_eq_long(res->reply.port, r->port_out, "%s: port", r->id);

	play(r, 1, &bytes, 0);
	tap_ok(bytes.ok_sends && bytes.status == whole.status &&
		       bytes.error == whole.error &&
		       bytes.last.reply.rep == whole.last.reply.rep &&
		       !memcmp(&bytes.last.reply, &whole.last.reply,
			       sizeof whole.last.reply),
	       "%s: byte at a time gives the same exchange", r->id);

	/* Every proper prefix of the last proxy message is NEED_MORE with
	 * nothing consumed, and bytes after a final reply are left alone. */
	int last = -1;
	for (int i = 0; i < 8 && r->steps[i]; i++)
		if (r->steps[i][0] == 'R')
			last = i;
	if (last >= 0 && r->status == DONE) {
		struct crow copy = *r;
		static uint8_t full[600];
		static char hex[2000];
		size_t n = tap_unhex(r->steps[last] + 1, full, sizeof full);
		int all_need = 1;
		for (size_t k = 1; k < n; k++) {
			size_t o = (size_t)snprintf(hex, sizeof hex, "R");
			for (size_t j = 0; j < k; j++)
				o += (size_t)snprintf(hex + o, sizeof hex - o,
						      " %02x", full[j]);
			copy.steps[last] = hex;
			struct run pr;
			play(&copy, 0, &pr, 0);
			if (pr.status != NEED || pr.last.consumed != 0)
				all_need = 0;
		}
		tap_ok(all_need, "%s: every proper prefix of the reply is "
		       "NEED_MORE", r->id);
		size_t o = (size_t)snprintf(hex, sizeof hex, "%s 41 42 43",
					    r->steps[last]);
		(void)o;
		copy.steps[last] = hex;
		struct run pr;
		play(&copy, 0, &pr, 0);
		tap_ok(pr.status == DONE && pr.last_consumed == n,
		       "%s: stream bytes after the reply are not consumed",
		       r->id);
	}
}

static void test_words(void)
{
	int all = 1;
	for (int i = 0; i < 256; i++)
		if (!tk_socks5_rep_str((uint8_t)i) ||
		    !tk_socks4_rep_str((uint8_t)i))
			all = 0;
	tap_ok(all, "every REP has words");
	tap_eq_str(tk_socks5_rep_str(0x04), "host is unreachable", "REP 04");
	tap_eq_str(tk_socks5_rep_str(0x09), "unknown SOCKS5 code", "REP 09");
	tap_eq_str(tk_socks5_rep_str(0xf0),
		   "onion service descriptor can not be found", "REP F0");
	tap_eq_str(tk_socks5_rep_str(0xf7),
		   "onion service introduction timed out", "REP F7");
	tap_eq_str(tk_socks4_rep_str(0x5c),
		   "request rejected because SOCKS server cannot connect to "
		   "identd on the client",
		   "SOCKS4 5C");
	/* Each F0-F7 reply is parsed to a DONE with its code. */
	int ok = 1;
	for (int rep = 0xf0; rep <= 0xf7; rep++) {
		struct tk_socks_client c;
		struct tk_socks_client_config cfg = {.version = 5,
						     .command = C,
						     .port = 80,
						     .host = "x.onion"};
		static struct tk_socks_client_result res;
		tk_socks_client_start(&c, &cfg, &res);
		tk_socks_client_feed(&c, (const uint8_t *)"\x05\x00", 2, &res);
		uint8_t rep10[10] = {5, (uint8_t)rep, 0, 1};
		tk_socks_client_feed(&c, rep10, 10, &res);
		if (res.status != DONE || res.reply.rep != rep ||
		    !strstr(res.msg, tk_socks5_rep_str((uint8_t)rep)))
			ok = 0;
	}
	tap_ok(ok, "F0-F7 replies give DONE, the code and its words");
}

static void test_limits(void)
{
	struct tk_socks_client c;
	static struct tk_socks_client_result res;
	char name[300];
	memset(name, 'a', 255);
	name[255] = '\0';
	struct tk_socks_client_config cfg = {.version = 5, .command = R,
					     .host = name};
	tk_socks_client_start(&c, &cfg, &res);
	tap_eq_long(res.status, NEED, "R-09: a 255-byte name can be sent");
	tap_diag("R-09: DIFFERENCE: tor-resolve refuses 255 (its limit is "
		 "254); SOCKS5's length byte carries 255 and Tor accepts it");
	tk_socks_client_feed(&c, (const uint8_t *)"\x05\x00", 2, &res);
	tap_ok(res.send_len == 4 + 1 + 255 + 2 && res.send[4] == 255,
	       "R-09: ... as ATYP 03 with length 255");
	name[255] = 'a';
	name[256] = '\0';
	tk_socks_client_start(&c, &cfg, &res);
	tap_ok(res.status == ERR && res.error == TK_SOCKS_CLIENT_BAD_REQUEST,
	       "a 256-byte name cannot be encoded");
	cfg.version = 4;
	tk_socks_client_start(&c, &cfg, &res);
	tap_ok(res.status == ERR, "SOCKS4a: 256-byte name refused");
	/* SOCKS4 messages must fit 512 bytes. */
	static uint8_t uid[600];
	memset(uid, 'u', sizeof uid);
	struct tk_socks_client_config c4 = {.version = 4, .command = C,
					    .port = 80, .host = "1.2.3.4",
					    .username = uid,
					    .username_len = 503,
					    .use_auth = 1};
	tk_socks_client_start(&c, &c4, &res);
	tap_ok(res.status == NEED && res.send_len == 512,
	       "SOCKS4 with a 503-byte user id: 512 bytes");
	c4.username_len = 504;
	tk_socks_client_start(&c, &c4, &res);
	tap_ok(res.status == ERR && strstr(res.msg, "at most 512"),
	       "SOCKS4 over 512 bytes refused: %s", res.msg);
	c4.username = (const uint8_t *)"a\0b";
	c4.username_len = 3;
	tk_socks_client_start(&c, &c4, &res);
	tap_ok(res.status == ERR, "SOCKS4 user id with a NUL refused");
	struct tk_socks_client_config c5 = {.version = 5, .command = C,
					    .port = 80, .host = "x",
					    .username = uid,
					    .username_len = 256,
					    .use_auth = 1};
	tk_socks_client_start(&c, &c5, &res);
	tap_ok(res.status == ERR && res.error == TK_SOCKS_CLIENT_BAD_REQUEST,
	       "RFC 1929 username over 255 bytes refused");
	c5.username_len = 255;
	c5.password = uid;
	c5.password_len = 255;
	tk_socks_client_start(&c, &c5, &res);
	tk_socks_client_feed(&c, (const uint8_t *)"\x05\x02", 2, &res);
	tap_ok(res.status == NEED && res.send_len == 513,
	       "RFC 1929 with 255+255 bytes: a 513-byte message");
	/* Feeding after the end. */
	tk_socks_client_feed(&c, (const uint8_t *)"\x01\x00", 2, &res);
	tk_socks_client_feed(&c, (const uint8_t *)"\x05\x00\x00\x01\0\0\0\0\0\0",
			     10, &res);
	tap_eq_long(res.status, DONE, "exchange done");
	tk_socks_client_feed(&c, (const uint8_t *)"\x05", 1, &res);
	tap_ok(res.status == ERR && res.consumed == 0,
	       "feeding after the end is refused");
	/* The config's strings need not outlive start(). */
	char host[16] = "echo.test";
	struct tk_socks_client_config tmp = {.version = 5, .command = C,
					     .port = 7, .host = host};
	tk_socks_client_start(&c, &tmp, &res);
	memset(host, 'X', sizeof host - 1);
	tk_socks_client_feed(&c, (const uint8_t *)"\x05\x00", 2, &res);
	tap_ok(res.send_len == 4 + 1 + 9 + 2 &&
		       !memcmp(res.send + 5, "echo.test", 9),
	       "the request was prepared by start()");
}

int main(void)
{
	for (size_t i = 0; i < NROWS; i++)
		check_row(&rows[i]);
	test_words();
	test_limits();
	return tap_done();
}
