/* socks_client.c — the client role: build requests, parse a proxy's
 * answers incrementally, and say in words what went wrong.
 *
 * Requests follow what Tor's own tools send (tests/unit/test_socks_client.c
 * holds the bytes Tor's tor-resolve puts on the wire):
 * RESOLVE always names its target with ATYP 03, even an IP literal, so
 * SafeSocks never refuses it; RESOLVE_PTR sends the address as ATYP 01/04;
 * SOCKS4 RESOLVE is always 4a. CONNECT sends literals as literals (curl's
 * socks5h behaviour).
 */
#include "lib/socks_proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "lib/socks_int.h"

enum cli_state {
	CLI_INIT = 0,
	CLI_S4_REPLY,
	CLI_S5_METHOD,
	CLI_S5_AUTH,
	CLI_S5_REPLY,
	CLI_DONE,
	CLI_FAILED,
};

#define S4_MSG_MAX 512 /* Tor refuses longer SOCKS4 messages */

static void
reset(struct tk_socks_client_result *res)
{
	res->status = TK_SOCKS_NEED_MORE;
	res->consumed = 0;
	res->send_len = 0;
	res->error = TK_SOCKS_CLIENT_OK;
	memset(&res->reply, 0, sizeof res->reply);
	res->msg[0] = '\0';
}

static void fail(struct tk_socks_client *c, struct tk_socks_client_result *res,
		 enum tk_socks_client_error err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void
fail(struct tk_socks_client *c, struct tk_socks_client_result *res,
     enum tk_socks_client_error err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->msg, sizeof res->msg, fmt, ap);
	va_end(ap);
	res->status = TK_SOCKS_ERROR;
	res->error = err;
	c->state = CLI_FAILED;
}

static void
add_send(struct tk_socks_client_result *res, const uint8_t *p, size_t n)
{
	if (n > sizeof res->send - res->send_len)
		return; /* cannot happen: at most 513 bytes per call */
	memcpy(res->send + res->send_len, p, n);
	res->send_len += n;
}

/* ---- building */

static int
build_s4(struct tk_socks_client *c, const struct tk_socks_client_config *cfg,
	 struct tk_socks_client_result *res, uint8_t *out, size_t *outlen)
{
	uint8_t a[16];
	int fam = tk_ip_parse(cfg->host, a);
	size_t hl = strlen(cfg->host);
	size_t ul = cfg->use_auth ? cfg->username_len : 0;

	if (cfg->command == TK_SOCKS_CMD_RESOLVE_PTR) {
		fail(c, res, TK_SOCKS_CLIENT_BAD_REQUEST,
		     "reverse lookups (RESOLVE_PTR) need SOCKS5");
		return -1;
	}
	if (cfg->command != TK_SOCKS_CMD_CONNECT &&
	    cfg->command != TK_SOCKS_CMD_BIND &&
	    cfg->command != TK_SOCKS_CMD_RESOLVE) {
		fail(c, res, TK_SOCKS_CLIENT_BAD_REQUEST,
		     "command 0x%02x cannot be sent over SOCKS4", cfg->command);
		return -1;
	}
	if (fam == AF_INET6) {
		fail(c, res, TK_SOCKS_CLIENT_BAD_REQUEST,
		     "SOCKS4 cannot carry an IPv6 address (%s); use SOCKS5",
		     cfg->host);
		return -1;
	}
	if (ul && (!cfg->username || memchr(cfg->username, 0, ul))) {
		fail(c, res, TK_SOCKS_CLIENT_BAD_REQUEST,
		     "a SOCKS4 user id cannot contain a NUL byte");
		return -1;
	}
	/* Plain SOCKS4 only for an IPv4 CONNECT/BIND; RESOLVE goes as 4a
	 * even for a literal, as tor-resolve -4 does. */
	int is4a = !(fam == AF_INET && cfg->command != TK_SOCKS_CMD_RESOLVE);
	if (is4a && (hl == 0 || hl > 255)) {
		fail(c, res, TK_SOCKS_CLIENT_BAD_REQUEST,
		     "hostname must be 1-255 bytes long (got %zu)", hl);
		return -1;
	}
	size_t total = 8 + ul + 1 + (is4a ? hl + 1 : 0);
	if (total > S4_MSG_MAX) {
		fail(c, res, TK_SOCKS_CLIENT_BAD_REQUEST,
		     "SOCKS4 request would be %zu bytes; proxies accept at "
		     "most %d (shorten the user id)",
		     total, S4_MSG_MAX);
		return -1;
	}
	out[0] = 4;
	out[1] = cfg->command;
	tk_put_u16(out + 2, cfg->port);
	if (is4a) {
		static const uint8_t ip4a[4] = { 0, 0, 0, 1 };
		memcpy(out + 4, ip4a, 4);
	} else {
		memcpy(out + 4, a, 4);
	}
	size_t o = 8;
	if (ul)
		memcpy(out + o, cfg->username, ul);
	o += ul;
	out[o++] = 0;
	if (is4a) {
		memcpy(out + o, cfg->host, hl);
		o += hl;
		out[o++] = 0;
	}
	*outlen = o;
	return 0;
}

static int
build_s5(struct tk_socks_client *c, const struct tk_socks_client_config *cfg,
	 struct tk_socks_client_result *res)
{
	uint8_t a[16];
	int fam = tk_ip_parse(cfg->host, a);
	size_t hl = strlen(cfg->host);
	uint8_t *r = c->req;
	size_t o;

	switch (cfg->command) {
	case TK_SOCKS_CMD_CONNECT:
	case TK_SOCKS_CMD_BIND:
	case TK_SOCKS_CMD_UDP_ASSOCIATE:
	case TK_SOCKS_CMD_RESOLVE:
	case TK_SOCKS_CMD_RESOLVE_PTR:
		break;
	default:
		fail(c, res, TK_SOCKS_CLIENT_BAD_REQUEST,
		     "unknown SOCKS5 command 0x%02x", cfg->command);
		return -1;
	}
	if (cfg->command == TK_SOCKS_CMD_RESOLVE_PTR && !fam) {
		fail(c, res, TK_SOCKS_CLIENT_BAD_REQUEST,
		     "a reverse lookup needs an IPv4 or IPv6 address, not "
		     "\"%.100s\"",
		     cfg->host);
		return -1;
	}
	r[0] = 5;
	r[1] = cfg->command;
	r[2] = 0;
	if (cfg->command == TK_SOCKS_CMD_RESOLVE || !fam) {
		if (hl == 0 || hl > 255) {
			fail(c, res, TK_SOCKS_CLIENT_BAD_REQUEST,
			     "hostname must be 1-255 bytes long (got %zu)", hl);
			return -1;
		}
		r[3] = TK_SOCKS_ATYP_DOMAIN;
		r[4] = (uint8_t)hl;
		memcpy(r + 5, cfg->host, hl);
		o = 5 + hl;
	} else if (fam == AF_INET) {
		r[3] = TK_SOCKS_ATYP_IPV4;
		memcpy(r + 4, a, 4);
		o = 8;
	} else {
		r[3] = TK_SOCKS_ATYP_IPV6;
		memcpy(r + 4, a, 16);
		o = 20;
	}
	tk_put_u16(r + o, cfg->port);
	c->req_len = (uint16_t)(o + 2);

	if (cfg->use_auth) {
		if (cfg->username_len > 255 || cfg->password_len > 255 ||
		    (cfg->username_len && !cfg->username) ||
		    (cfg->password_len && !cfg->password)) {
			fail(c, res, TK_SOCKS_CLIENT_BAD_REQUEST,
			     "SOCKS5 username and password must be at most "
			     "255 bytes each");
			return -1;
		}
		uint8_t *p = c->auth;
		p[0] = 1;
		p[1] = (uint8_t)cfg->username_len;
		if (cfg->username_len)
			memcpy(p + 2, cfg->username, cfg->username_len);
		p[2 + cfg->username_len] = (uint8_t)cfg->password_len;
		if (cfg->password_len)
			memcpy(p + 3 + cfg->username_len, cfg->password,
			       cfg->password_len);
		c->auth_len =
			(uint16_t)(3 + cfg->username_len + cfg->password_len);
	}
	return 0;
}

void
tk_socks_client_start(struct tk_socks_client *c,
		      const struct tk_socks_client_config *cfg,
		      struct tk_socks_client_result *res)
{
	memset(c, 0, sizeof *c);
	c->cfg = *cfg;
	reset(res);

	if (!cfg->host) {
		fail(c, res, TK_SOCKS_CLIENT_BAD_REQUEST, "no target host");
		return;
	}
	if (cfg->version == 4) {
		uint8_t buf[S4_MSG_MAX];
		size_t n = 0;
		if (build_s4(c, cfg, res, buf, &n) < 0)
			return;
		add_send(res, buf, n);
		c->state = CLI_S4_REPLY;
		return;
	}
	if (cfg->version != 5) {
		fail(c, res, TK_SOCKS_CLIENT_BAD_REQUEST,
		     "SOCKS version must be 4 or 5 (got %u)", cfg->version);
		return;
	}
	if (build_s5(c, cfg, res) < 0)
		return;
	/* Offer no-auth too when we have credentials: a proxy without
	 * RFC 1929 still works (curl does the same). */
	static const uint8_t m_none[3] = { 5, 1, 0 };
	static const uint8_t m_both[4] = { 5, 2, 0, 2 };
	if (cfg->use_auth)
		add_send(res, m_both, sizeof m_both);
	else
		add_send(res, m_none, sizeof m_none);
	c->state = CLI_S5_METHOD;
}

/* ---- parsing */

/* Bytes that cannot start the SOCKS answer we wait for: an HTTP server
 * or proxy, or something else entirely. Returns 0 when more bytes are
 * needed to tell. */
static int
classify(struct tk_socks_client *c, struct tk_socks_client_result *res,
	 const uint8_t *in, size_t len, const char *wanted)
{
	static const char http[] = "HTTP/";
	size_t k = len < 5 ? len : 5;
	if (memcmp(in, http, k) == 0) {
		if (len < 5)
			return 0;
		char line[64];
		size_t o = 0;
		for (size_t i = 0; i < len && o + 1 < sizeof line; i++) {
			if (in[i] == '\r' || in[i] == '\n')
				break;
			line[o++] = (in[i] >= 0x20 && in[i] < 0x7f)
					    ? (char)in[i]
					    : '?';
		}
		line[o] = '\0';
		fail(c, res, TK_SOCKS_CLIENT_HTTP,
		     "the proxy answered HTTP (\"%s\"): it is an HTTP proxy or "
		     "web server, not a SOCKS proxy",
		     line);
		return 1;
	}
	char hex[3 * 8 + 1];
	size_t o = 0;
	for (size_t i = 0; i < len && i < 8; i++)
		o += (size_t)snprintf(hex + o, sizeof hex - o, "%s%02x",
				      i ? " " : "", in[i]);
	hex[o] = '\0';
	fail(c, res, TK_SOCKS_CLIENT_NOT_SOCKS,
	     "the proxy did not answer with %s (got %s%s)", wanted, hex,
	     len > 8 ? " ..." : "");
	return 1;
}

static void
final_words(struct tk_socks_client_result *res)
{
	const struct tk_socks_client_reply *r = &res->reply;
	if (r->version == 4) {
		if (r->rep != TK_SOCKS4_GRANTED)
			snprintf(
				res->msg, sizeof res->msg,
				"the proxy refused: SOCKS4 status %u (0x%02x): "
				"%s",
				r->rep, r->rep, tk_socks4_rep_str(r->rep));
	} else if (r->rep != TK_SOCKS5_SUCCEEDED) {
		snprintf(res->msg, sizeof res->msg,
			 "the proxy refused: SOCKS5 status %u (0x%02x): %s",
			 r->rep, r->rep, tk_socks5_rep_str(r->rep));
	}
}

/* One message; returns bytes used, 0 for need-more or failure (state
 * tells which). */
static size_t
one(struct tk_socks_client *c, const uint8_t *in, size_t len,
    struct tk_socks_client_result *res)
{
	struct tk_socks_client_reply *r = &res->reply;

	switch (c->state) {
	case CLI_S4_REPLY:
		/* Version 0 per the protocol; 4 from a few servers, and
		 * Tor's own client does not look at it. */
		if (in[0] != 0 && in[0] != 4) {
			classify(c, res, in, len, "a SOCKS4 reply");
			return 0;
		}
		if (len < 8)
			return 0;
		r->version = 4;
		r->rep = in[1];
		r->port = tk_get_u16(in + 2);
		r->atyp = TK_SOCKS_ATYP_IPV4;
		memcpy(r->addr, in + 4, 4);
		c->state = CLI_DONE;
		return 8;

	case CLI_S5_METHOD:
		if (in[0] != 5) {
			classify(c, res, in, len, "a SOCKS5 method choice");
			return 0;
		}
		if (len < 2)
			return 0;
		if (in[1] == 0x00) {
			add_send(res, c->req, c->req_len);
			c->state = CLI_S5_REPLY;
		} else if (in[1] == 0x02 && c->cfg.use_auth) {
			add_send(res, c->auth, c->auth_len);
			c->state = CLI_S5_AUTH;
		} else if (in[1] == 0xFF) {
			fail(c, res, TK_SOCKS_CLIENT_NO_METHOD,
			     "the proxy accepts none of the authentication "
			     "methods offered (%s)",
			     c->cfg.use_auth ? "none, username/password"
					     : "none; try -u user:pass");
			return 0;
		} else {
			fail(c, res, TK_SOCKS_CLIENT_NOT_SOCKS,
			     "the proxy chose authentication method 0x%02x, "
			     "which was not offered",
			     in[1]);
			return 0;
		}
		return 2;

	case CLI_S5_AUTH:
		/* RFC 1929 says version 1; some servers echo 5. */
		if (in[0] != 1 && in[0] != 5) {
			classify(c, res, in, len,
				 "a SOCKS5 username/password status");
			return 0;
		}
		if (len < 2)
			return 0;
		if (in[1] != 0) {
			fail(c, res, TK_SOCKS_CLIENT_AUTH_FAILED,
			     "the proxy rejected the username/password "
			     "(status 0x%02x)",
			     in[1]);
			return 0;
		}
		add_send(res, c->req, c->req_len);
		c->state = CLI_S5_REPLY;
		return 2;

	case CLI_S5_REPLY: {
		if (in[0] != 5) {
			classify(c, res, in, len, "a SOCKS5 reply");
			return 0;
		}
		if (len < 4)
			return 0;
		size_t total;
		switch (in[3]) {
		case TK_SOCKS_ATYP_IPV4:
			total = 10;
			break;
		case TK_SOCKS_ATYP_IPV6:
			total = 22;
			break;
		case TK_SOCKS_ATYP_DOMAIN:
			if (len < 5)
				return 0;
			total = 7 + (size_t)in[4];
			break;
		case 0:
			/* Tor's RESOLVE errors: ATYP 00, still 10 bytes.
			 * Accepted so the real reason reaches the user
			 * (tor-resolve only says "Failed parsing"). */
			total = 10;
			if (in[1] != TK_SOCKS5_SUCCEEDED)
				break;
			goto bad_atyp; /* a success needs an address */
		default:
		bad_atyp:
			fail(c, res, TK_SOCKS_CLIENT_NOT_SOCKS,
			     "malformed SOCKS5 reply: address type 0x%02x "
			     "(status 0x%02x: %s)",
			     in[3], in[1], tk_socks5_rep_str(in[1]));
			r->version = 5;
			r->rep = in[1];
			return 0;
		}
		if (len < total)
			return 0;
		r->version = 5;
		r->rep = in[1];
		r->atyp = in[3];
		r->port = tk_get_u16(in + total - 2);
		if (in[3] == TK_SOCKS_ATYP_IPV4)
			memcpy(r->addr, in + 4, 4);
		else if (in[3] == TK_SOCKS_ATYP_IPV6)
			memcpy(r->addr, in + 4, 16);
		else if (in[3] == TK_SOCKS_ATYP_DOMAIN) {
			r->host_len = in[4];
			memcpy(r->host, in + 5, in[4]);
			r->host[in[4]] = '\0';
		}
		c->state = CLI_DONE;
		return total;
	}
	default:
		fail(c, res, TK_SOCKS_CLIENT_BAD_REQUEST,
		     c->state == CLI_INIT ? "feed before start"
					  : "feed after the exchange ended");
		return 0;
	}
}

void
tk_socks_client_feed(struct tk_socks_client *c, const uint8_t *in, size_t len,
		     struct tk_socks_client_result *res)
{
	reset(res);
	if (c->state == CLI_INIT || c->state == CLI_DONE ||
	    c->state == CLI_FAILED) {
		one(c, in, len, res);
		return;
	}
	size_t off = 0;
	while (off < len) {
		size_t used = one(c, in + off, len - off, res);
		if (c->state == CLI_FAILED) {
			res->consumed = len;
			return;
		}
		if (used == 0)
			break;
		off += used;
		if (c->state == CLI_DONE) {
			res->status = TK_SOCKS_DONE;
			res->consumed = off;
			final_words(res);
			return;
		}
	}
	res->consumed = off;
}
