/* socks_server.c — the server role: parse what a SOCKS client sent.
 *
 * Each call re-parses the unconsumed bytes from the start of the first
 * incomplete message: messages are at most 513 bytes, so keeping no
 * partial-parse state is cheaper than getting it wrong. Validation runs in
 * real Tor's order (proto_socks.c as of 0.4.9) so that the same input
 * gives the same bytes on the wire; tests/unit/test_socks_server.c and
 * test_socks_captures.c hold the cases.
 */
#include "lib/socks_proto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "lib/socks_int.h"

/* Tor's MAX_SOCKS_MESSAGE_LEN: a SOCKS4 message must end within this. */
#define S4_MSG_MAX 512
#define S4_HEADER 8

enum srv_state {
	SRV_START = 0,
	SRV_S5_NOAUTH,	 /* method 00 chosen; RFC 1929 still accepted */
	SRV_S5_USERPASS, /* method 02 chosen; RFC 1929 must come next */
	SRV_S5_AUTHED,	 /* RFC 1929 done; the request comes next */
	SRV_DONE,
	SRV_FAILED,
};

enum msg_result { MSG_NEED, MSG_OK, MSG_BAD };

void
tk_socks_server_init(struct tk_socks_server *s,
		     const struct tk_socks_server_config *cfg)
{
	memset(s, 0, sizeof *s);
	if (cfg)
		s->cfg = *cfg;
	s->state = SRV_START;
}

/* ---- results */

static void set_log(struct tk_socks_server_result *res, int level,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void
set_log(struct tk_socks_server_result *res, int level, const char *fmt, ...)
{
	/* One line per call: a warning outranks an earlier notice. */
	if (level < res->log_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->log, sizeof res->log, fmt, ap);
	va_end(ap);
	res->log_level = level;
}

static void
add_reply(struct tk_socks_server_result *res, const void *p, size_t n)
{
	/* Replies per call are bounded (2+2+22 or the HTTP page after at
	 * most 4 bytes), far below TK_SOCKS_REPLY_MAX; never overflow. */
	if (n > sizeof res->reply - res->reply_len)
		return;
	memcpy(res->reply + res->reply_len, p, n);
	res->reply_len += n;
}

/* A SOCKS4 failure: Tor's parser writes no reply; its connection layer
 * then sends 5B with zeros. */
static enum msg_result
fail_s4(struct tk_socks_server_result *res)
{
	uint8_t r[8];
	size_t n = tk_socks_reply_connect(r, sizeof r, 4,
					  TK_SOCKS5_GENERAL_FAILURE, 0);
	add_reply(res, r, n);
	return MSG_BAD;
}

/* A reply Tor's SOCKS5 parser writes itself: always ATYP 01, 10 bytes. */
static enum msg_result
fail_s5_parser(struct tk_socks_server_result *res, uint8_t rep)
{
	uint8_t r[10] = { 5, rep, 0, 1, 0, 0, 0, 0, 0, 0 };
	add_reply(res, r, sizeof r);
	return MSG_BAD;
}

/* A SOCKS5 failure Tor's parser leaves unanswered: the connection layer
 * sends REP 01 with the zero address of the client's own family. */
static enum msg_result
fail_s5_generic(const struct tk_socks_server *s,
		struct tk_socks_server_result *res)
{
	uint8_t r[22];
	size_t n = tk_socks_reply_connect(r, sizeof r, 5,
					  TK_SOCKS5_GENERAL_FAILURE,
					  s->cfg.client_family);
	add_reply(res, r, n);
	return MSG_BAD;
}

static enum msg_result
http_answer(struct tk_socks_server_result *res, uint8_t first)
{
	/* Deliberate difference: Tor answers only 'G', 'H', 'P' and 'C' and
	 * sends its page with a stray trailing NUL. Any ASCII letter here
	 * (lowercase methods, OPTIONS, DELETE, PATCH, TRACE ...) gets our own
	 * page, without the NUL (doc/differences.md). */
	add_reply(res, tk__socks_http_page, tk__socks_http_page_len);
	set_log(res, TK_SOCKS_LOG_WARN,
		"Socks version %d not recognized. (This port is not an HTTP "
		"proxy; sent an HTTP 501 page explaining how to use SOCKS.)",
		first);
	return MSG_BAD;
}

/* Tor's escaped_safe_str_client(): scrubbed unless addresses may be
 * logged, else quoted with anything unprintable escaped. */
static const char *
log_host(const struct tk_socks_server *s, const char *h, char *buf, size_t cap)
{
	if (!s->cfg.log_addresses)
		return "[scrubbed]";
	size_t o = 0;
	buf[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)h;
	     *p && o + 6 < cap; p++) {
		if (*p == '"' || *p == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)*p;
		} else if (*p < 0x20 || *p >= 0x7f) {
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", *p);
		} else {
			buf[o++] = (char)*p;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static void
log_unsafe(const struct tk_socks_server *s, struct tk_socks_server_result *res,
	   int ver)
{
	/* Tor logs this only when it is about to reject (SafeSocks). Its
	 * TestSocks notice then claims "This is good" even for a bare IP;
	 * torkit's notice tells the truth, as the TestSocks documentation
	 * promises ("whether the request used a safe socks protocol"). */
	int reject = s->cfg.safe_socks;
	if (!reject && !s->cfg.test_socks)
		return;
	set_log(res, reject ? TK_SOCKS_LOG_WARN : TK_SOCKS_LOG_NOTICE,
		"Your application (using socks%d to port %u) is giving Tor "
		"only an IP address. Applications that do DNS resolves "
		"themselves may leak information. Consider using Socks4A or "
		"socks5h instead.%s",
		ver, s->req.port, reject ? " Rejecting." : "");
}

static void
log_good(const struct tk_socks_server *s, struct tk_socks_server_result *res,
	 const char *proto)
{
	if (s->cfg.test_socks && !s->req.unsafe)
		set_log(res, TK_SOCKS_LOG_NOTICE,
			"Your application (using %s to port %u) instructed "
			"Tor to take care of the DNS resolution itself if "
			"necessary. This is good.",
			proto, s->req.port);
}

static void
log_malformed(const struct tk_socks_server *s,
	      struct tk_socks_server_result *res, int ver)
{
	char buf[200];
	set_log(res, TK_SOCKS_LOG_WARN,
		"Your application (using socks%d to port %u) gave Tor a "
		"malformed hostname: %s. Rejecting the connection.",
		ver, s->req.port, log_host(s, s->req.host, buf, sizeof buf));
}

/* ---- SOCKS4 / 4a */

static int
s4_command_known(uint8_t cd)
{
	/* What Tor's wire parser accepts; F2 (long gone CONNECT_DIR) and
	 * anything else is a parse error. */
	return cd == TK_SOCKS_CMD_CONNECT || cd == TK_SOCKS_CMD_BIND ||
	       cd == TK_SOCKS_CMD_RESOLVE || cd == TK_SOCKS_CMD_RESOLVE_PTR;
}

static enum msg_result
parse_s4(struct tk_socks_server *s, const uint8_t *m, size_t n, size_t *used,
	 struct tk_socks_server_result *res)
{
	struct tk_socks_request *rq = &s->req;

	if (n >= 2 && !s4_command_known(m[1])) {
		set_log(res, TK_SOCKS_LOG_WARN,
			"socks4: parsing failed - invalid request.");
		return fail_s4(res);
	}
	if (n < S4_HEADER)
		return MSG_NEED;

	size_t lim = n < S4_MSG_MAX ? n : S4_MSG_MAX;
	const uint8_t *uid = m + S4_HEADER;
	const uint8_t *nul = memchr(uid, 0, lim - S4_HEADER);
	size_t uid_len, end;
	uint16_t port = tk_get_u16(m + 2);
	uint32_t ip = ((uint32_t)m[4] << 24) | ((uint32_t)m[5] << 16) |
		      ((uint32_t)m[6] << 8) | m[7];
	int is4a = ip != 0 && (ip >> 8) == 0;
	const uint8_t *hn = NULL;
	size_t hn_len = 0;

	if (!nul)
		goto truncated;
	uid_len = (size_t)(nul - uid);
	end = S4_HEADER + uid_len + 1;
	if (is4a) {
		hn = m + end;
		const uint8_t *hnul = memchr(hn, 0, lim - end);
		if (!hnul)
			goto truncated;
		hn_len = (size_t)(hnul - hn);
		end += hn_len + 1;
	}
	*used = end;

	rq->version = 4;
	rq->command = m[1];
	rq->port = port;
	s->version = 4;

	if ((port == 0 && m[1] != TK_SOCKS_CMD_RESOLVE) || ip == 0) {
		set_log(res, TK_SOCKS_LOG_WARN,
			"socks4: Port or DestIP is zero. Rejecting.");
		return fail_s4(res);
	}
	if (uid_len > 0) {
		rq->has_auth = 1;
		rq->username_len = (uint16_t)uid_len;
		memcpy(rq->username, uid, uid_len);
	}
	if (is4a) {
		/* Tor counts every byte after the userid, pipelined data
		 * included, against this limit; we count the hostname only,
		 * so optimistic data after a 4a request is never refused. */
		if (hn_len + 1 > TK_SOCKS_HOST_MAX) {
			set_log(res, TK_SOCKS_LOG_WARN,
				"socks4: Destaddr too long. Rejecting.");
			return fail_s4(res);
		}
		rq->atyp = TK_SOCKS_ATYP_DOMAIN;
		memcpy(rq->host, hn, hn_len);
		rq->host[hn_len] = '\0';
		rq->family = tk_ip_parse(rq->host, rq->addr);
	} else {
		rq->atyp = TK_SOCKS_ATYP_IPV4;
		memcpy(rq->addr, m + 4, 4);
		rq->family = AF_INET;
		tk_ip_format(AF_INET, rq->addr, rq->host, sizeof rq->host);
		if (rq->command == TK_SOCKS_CMD_CONNECT ||
		    rq->command == TK_SOCKS_CMD_RESOLVE)
			rq->unsafe = 1;
		/* Tor applies SafeSocks before looking at the command. */
		log_unsafe(s, res, 4);
		if (s->cfg.safe_socks)
			return fail_s4(res);
	}
	if (rq->command != TK_SOCKS_CMD_CONNECT &&
	    rq->command != TK_SOCKS_CMD_RESOLVE) {
		/* BIND, and RESOLVE_PTR: Tor has no PTR over SOCKS4. */
		set_log(res, TK_SOCKS_LOG_WARN,
			"socks4: command %d not recognized. Rejecting.",
			rq->command);
		return fail_s4(res);
	}
	if (is4a)
		log_good(s, res, "socks4a");
	if (!tk_addr_is_valid_dest(rq->host)) {
		log_malformed(s, res, 4);
		return fail_s4(res);
	}
	s->state = SRV_DONE;
	return MSG_OK;

truncated:
	/* Tor gives up once 512 bytes hold no complete message. */
	if (n >= S4_MSG_MAX) {
		set_log(res, TK_SOCKS_LOG_WARN,
			"socks4: parsing failed - invalid request.");
		return fail_s4(res);
	}
	return MSG_NEED;
}

/* ---- SOCKS5 */

static enum msg_result
parse_methods(struct tk_socks_server *s, const uint8_t *m, size_t n,
	      size_t *used, struct tk_socks_server_result *res)
{
	if (n < 2 || n < 2 + (size_t)m[1])
		return MSG_NEED;
	size_t nm = m[1];
	*used = 2 + nm;
	if (nm == 0) {
		/* Tor: invalid, no reply, version still unknown: silence. */
		set_log(res, TK_SOCKS_LOG_WARN,
			"socks5: method selection lists no methods. Closing.");
		return MSG_BAD;
	}
	int have_up = memchr(m + 2, 0x02, nm) != NULL;
	int have_none = memchr(m + 2, 0x00, nm) != NULL;
	uint8_t r[2] = { 5, 0 };

	/* Tor prefers username/password (it isolates streams by it) unless
	 * PreferSOCKSNoAuth and no-auth is offered too. */
	if (have_up && !(have_none && s->cfg.prefer_no_auth)) {
		r[1] = 0x02;
		s->state = SRV_S5_USERPASS;
	} else if (have_none) {
		r[1] = 0x00;
		s->state = SRV_S5_NOAUTH;
	} else {
		r[1] = 0xFF;
		add_reply(res, r, 2);
		set_log(res, TK_SOCKS_LOG_WARN,
			"socks5: offered methods don't include 'no auth' or "
			"username/password. Rejecting.");
		return MSG_BAD;
	}
	s->version = 5;
	s->method = r[1];
	s->req.version = 5;
	add_reply(res, r, 2);
	return MSG_OK;
}

static enum msg_result
parse_userpass(struct tk_socks_server *s, const uint8_t *m, size_t n,
	       size_t *used, struct tk_socks_server_result *res)
{
	struct tk_socks_request *rq = &s->req;
	if (n < 2)
		return MSG_NEED;
	size_t ulen = m[1];
	if (n < 3 + ulen)
		return MSG_NEED;
	size_t plen = m[2 + ulen];
	if (n < 3 + ulen + plen)
		return MSG_NEED;
	*used = 3 + ulen + plen;

	/* Prop 351 (Tor 0.4.9): a username starting "<torS0X>" carries a
	 * format byte. Format '0' with nothing after it means the password
	 * is the isolation token; any other format (C tor has no RPC object
	 * IDs), a missing one or bytes after '0' are refused as tor refuses
	 * them: no RFC 1929 status, the generic failure, close. */
	if (ulen >= 8 && memcmp(m + 2, "<torS0X>", 8) == 0 &&
	    (ulen != 9 || m[10] != '0')) {
		set_log(res, TK_SOCKS_LOG_WARN,
			"socks5: unsupported <torS0X> username format. "
			"Rejecting.");
		return fail_s5_generic(s, res);
	}

	/* Never verified (RFC 1929 would allow refusing; Tor never does):
	 * kept for stream isolation. Empty fields are allowed on purpose,
	 * as in Tor; an all-empty pair isolates like no credentials. */
	memcpy(rq->username, m + 2, ulen);
	memcpy(rq->password, m + 3 + ulen, plen);
	rq->username_len = (uint16_t)ulen;
	rq->password_len = (uint8_t)plen;
	rq->has_password = 1;
	rq->has_auth = ulen > 0 || plen > 0;
	s->state = SRV_S5_AUTHED;
	static const uint8_t ok[2] = { 1, 0 };
	add_reply(res, ok, 2);
	return MSG_OK;
}

static enum msg_result
parse_request(struct tk_socks_server *s, const uint8_t *m, size_t n,
	      size_t *used, struct tk_socks_server_result *res)
{
	struct tk_socks_request *rq = &s->req;
	size_t alen;

	/* Field checks happen as soon as the byte is there, as with Tor's
	 * wire parser: VER 5, CMD known, RSV 0, ATYP 01/03/04. Any of them
	 * failing is a general failure (never 08, even for a bad ATYP). */
	if (m[0] != 5)
		goto bad_wire;
	if (n < 2)
		return MSG_NEED;
	switch (m[1]) {
	case TK_SOCKS_CMD_CONNECT:
	case TK_SOCKS_CMD_BIND:
	case TK_SOCKS_CMD_UDP_ASSOCIATE:
	case TK_SOCKS_CMD_RESOLVE:
	case TK_SOCKS_CMD_RESOLVE_PTR:
		break;
	default:
		goto bad_wire;
	}
	if (n < 3)
		return MSG_NEED;
	if (m[2] != 0)
		goto bad_wire;
	if (n < 4)
		return MSG_NEED;
	switch (m[3]) {
	case TK_SOCKS_ATYP_IPV4:
		alen = 4;
		break;
	case TK_SOCKS_ATYP_IPV6:
		alen = 16;
		break;
	case TK_SOCKS_ATYP_DOMAIN:
		if (n < 5)
			return MSG_NEED;
		alen = 1 + (size_t)m[4];
		break;
	default:
		goto bad_wire;
	}
	if (n < 4 + alen + 2)
		return MSG_NEED;
	*used = 4 + alen + 2;

	rq->version = 5;
	rq->command = m[1];
	rq->atyp = m[3];
	rq->port = tk_get_u16(m + 4 + alen);
	if (m[3] == TK_SOCKS_ATYP_DOMAIN) {
		/* Tor copies the name with strlcpy: an embedded NUL ends it. */
		const uint8_t *name = m + 5;
		const uint8_t *nul = memchr(name, 0, alen - 1);
		size_t hl = nul ? (size_t)(nul - name) : alen - 1;
		memcpy(rq->host, name, hl);
		rq->host[hl] = '\0';
		rq->family = tk_ip_parse(rq->host, rq->addr);
	} else {
		rq->family = m[3] == TK_SOCKS_ATYP_IPV4 ? AF_INET : AF_INET6;
		memcpy(rq->addr, m + 4, alen);
		tk_ip_format(rq->family, rq->addr, rq->host, sizeof rq->host);
	}

	if (rq->command == TK_SOCKS_CMD_BIND ||
	    rq->command == TK_SOCKS_CMD_UDP_ASSOCIATE) {
		set_log(res, TK_SOCKS_LOG_WARN,
			"socks5: command %d (%s) is not supported. Rejecting.",
			rq->command,
			rq->command == TK_SOCKS_CMD_BIND ? "BIND"
							 : "UDP ASSOCIATE");
		return fail_s5_parser(res, TK_SOCKS5_CMD_NOT_SUPPORTED);
	}
	/* The PTR address may come as ATYP 03 text ("1.2.3.4", "[::1]"),
	 * but must be an IP literal; "x.in-addr.arpa" is refused too. */
	if (rq->command == TK_SOCKS_CMD_RESOLVE_PTR && rq->family == 0) {
		set_log(res, TK_SOCKS_LOG_WARN,
			"socks5 received RESOLVE_PTR command with a malformed "
			"address. Rejecting.");
		return fail_s5_parser(res, TK_SOCKS5_ADDR_NOT_SUPPORTED);
	}
	if (!tk_addr_is_valid_dest(rq->host)) {
		log_malformed(s, res, 5);
		return fail_s5_parser(res, TK_SOCKS5_GENERAL_FAILURE);
	}
	if (rq->atyp != TK_SOCKS_ATYP_DOMAIN &&
	    rq->command != TK_SOCKS_CMD_RESOLVE_PTR) {
		rq->unsafe = 1;
		log_unsafe(s, res, 5);
		if (s->cfg.safe_socks)
			return fail_s5_parser(res, TK_SOCKS5_NOT_ALLOWED);
	}
	log_good(s, res, "socks5");
	s->state = SRV_DONE;
	return MSG_OK;

bad_wire:
	set_log(res, TK_SOCKS_LOG_WARN,
		"socks5: parsing failed - invalid client request");
	return fail_s5_parser(res, TK_SOCKS5_GENERAL_FAILURE);
}

static enum msg_result
unrecognized(struct tk_socks_server *s, struct tk_socks_server_result *res,
	     uint8_t first)
{
	set_log(res, TK_SOCKS_LOG_WARN,
		"Socks version %d not recognized. (This port is not an HTTP "
		"proxy; did you want to use HTTPTunnelPort?)",
		first);
	if (s->version == 5)
		return fail_s5_generic(s, res);
	return MSG_BAD; /* version unknown: Tor closes without a word */
}

static enum msg_result
one_message(struct tk_socks_server *s, const uint8_t *m, size_t n, size_t *used,
	    struct tk_socks_server_result *res)
{
	uint8_t c = m[0];

	if (tk__is_ascii_letter(c))
		return http_answer(res, c);

	if (s->state == SRV_START) {
		if (c == 4)
			return parse_s4(s, m, n, used, res);
		if (c == 5)
			return parse_methods(s, m, n, used, res);
		if (c == 1) {
			/* Tor: invalid, version unknown, so no reply. */
			set_log(res, TK_SOCKS_LOG_WARN,
				"socks5: username/password sent before method "
				"negotiation. Closing.");
			return MSG_BAD;
		}
		return unrecognized(s, res, c);
	}

	/* After method negotiation. */
	if (s->state != SRV_S5_AUTHED &&
	    (c == 1 || s->state == SRV_S5_USERPASS)) {
		if (c == 1)
			return parse_userpass(s, m, n, used, res);
		if (c == 5) {
			/* Method 02 was chosen but the client skipped RFC
			 * 1929: Tor reads the request as user/pass, fails on
			 * the version byte, and the generic failure goes out.
			 */
			set_log(res, TK_SOCKS_LOG_WARN,
				"socks5: parsing failed - invalid user/pass "
				"authentication message.");
			return fail_s5_generic(s, res);
		}
	}
	if (c == 5 || c == 1)
		return parse_request(s, m, n, used, res);
	if (c == 4) {
		/* Deliberate difference: Tor accepts a SOCKS4 request even
		 * after a SOCKS5 method negotiation; a client that mixes the
		 * two is broken, so torkit refuses like any bad byte. */
		set_log(res, TK_SOCKS_LOG_WARN,
			"socks4 request after socks5 method negotiation. "
			"Rejecting.");
		return fail_s5_generic(s, res);
	}
	return unrecognized(s, res, c);
}

void
tk_socks_server_feed(struct tk_socks_server *s, const uint8_t *in, size_t len,
		     struct tk_socks_server_result *res)
{
	res->status = TK_SOCKS_NEED_MORE;
	res->consumed = 0;
	res->reply_len = 0;
	res->log_level = TK_SOCKS_LOG_NONE;
	res->log[0] = '\0';

	if (s->state == SRV_DONE || s->state == SRV_FAILED) {
		/* Bytes after a complete request are the caller's; feeding
		 * them here is a caller bug, refused without a reply. */
		res->status = TK_SOCKS_ERROR;
		set_log(res, TK_SOCKS_LOG_WARN,
			"socks: fed more bytes after the handshake ended");
		return;
	}

	size_t off = 0;
	while (off < len) {
		size_t used = 0;
		/* Deliberate difference: Tor keeps only the last reply when
		 * several handshake messages arrive in one read (its 05 02
		 * is lost before 01 00); every reply is appended here, in
		 * order. */
		enum msg_result r = one_message(s, in + off, len - off, &used,
						res);
		if (r == MSG_NEED)
			break;
		if (r == MSG_BAD) {
			s->state = SRV_FAILED;
			res->status = TK_SOCKS_ERROR;
			res->consumed = len;
			return;
		}
		off += used;
		if (s->state == SRV_DONE) {
			res->status = TK_SOCKS_DONE;
			res->consumed = off;
			return;
		}
	}
	res->consumed = off;
}
