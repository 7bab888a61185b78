/* socks_reply.c — every answer torkitd sends, Tor's END-reason table, REP
 * names, and our HTTP-resistance page. Byte layouts are Tor's; each is
 * pinned by tests/unit/test_socks_reply.c.
 */
#include "lib/socks_proto.h"

#include <string.h>
#include <sys/socket.h>

#include "lib/socks_int.h"

/* Deliberate difference (doc/differences.md): Tor's page says "Tor is not an
 * HTTP Proxy", points at HTTPTunnelPort and ends with a stray NUL byte. Ours
 * says what this port is and how to point a client at it; no NUL. It must
 * stay well under TK_SOCKS_REPLY_MAX together with a few SOCKS replies. */
#define HTTP_BODY                                                            \
	"<!DOCTYPE html>\n"                                                  \
	"<html>\n"                                                           \
	"<head><title>This is a SOCKS proxy, not an HTTP proxy</title>"      \
	"</head>\n"                                                          \
	"<body>\n"                                                           \
	"<h1>This is a SOCKS proxy, not an HTTP proxy</h1>\n"                \
	"<p>You reached the SOCKS port of torkit (torkitd). It speaks "      \
	"SOCKS4, SOCKS4a and SOCKS5, not HTTP.</p>\n"                        \
	"<p>Configure your client to use this address as a SOCKS5 proxy "    \
	"that resolves names itself: for example "                           \
	"<code>curl --proxy socks5h://127.0.0.1:9050 URL</code> (with this " \
	"port's address), or in a browser &quot;SOCKS v5&quot; with "        \
	"&quot;Proxy DNS when using SOCKS v5&quot;.</p>\n"                   \
	"</body>\n"                                                          \
	"</html>\n"

const char tk__socks_http_page[] =
	"HTTP/1.0 501 torkit is a SOCKS proxy, not an HTTP proxy\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"Connection: close\r\n"
	"\r\n" HTTP_BODY;
const size_t tk__socks_http_page_len = sizeof tk__socks_http_page - 1;

static size_t
put(uint8_t *out, size_t cap, const uint8_t *p, size_t n)
{
	if (!out || cap < n)
		return 0;
	memcpy(out, p, n);
	return n;
}

static size_t
s4_reply(uint8_t *out, size_t cap, uint8_t cd, const uint8_t a[4])
{
	/* VN is 0 and DSTPORT 0, as Tor sends them. */
	uint8_t r[8] = { 0, cd, 0, 0, 0, 0, 0, 0 };
	if (a)
		memcpy(r + 4, a, 4);
	return put(out, cap, r, sizeof r);
}

uint8_t
tk_socks4_rep_from_rep5(uint8_t rep5)
{
	return rep5 == TK_SOCKS5_SUCCEEDED ? TK_SOCKS4_GRANTED
					   : TK_SOCKS4_REJECTED;
}

size_t
tk_socks_reply_connect(uint8_t *out, size_t cap, uint8_t version, uint8_t rep5,
		       int client_family)
{
	if (version == 4)
		return s4_reply(out, cap, tk_socks4_rep_from_rep5(rep5), NULL);
	uint8_t r[22] = { 5, rep5, 0, TK_SOCKS_ATYP_IPV4 };
	size_t n = 10;
	/* BND.ADDR is always zero; its family is the client's own (Tor
	 * sends the IPv6 form to IPv6 and AF_UNIX clients). */
	if (client_family == AF_INET6 || client_family == AF_UNIX) {
		r[3] = TK_SOCKS_ATYP_IPV6;
		n = 22;
	}
	return put(out, cap, r, n);
}

size_t
tk_socks_reply_resolved_ipv4(uint8_t *out, size_t cap, uint8_t version,
			     const uint8_t a[4])
{
	if (version == 4)
		return s4_reply(out, cap, TK_SOCKS4_GRANTED, a);
	uint8_t r[10] = { 5, 0, 0, TK_SOCKS_ATYP_IPV4 };
	memcpy(r + 4, a, 4);
	return put(out, cap, r, sizeof r);
}

size_t
tk_socks_reply_resolved_ipv6(uint8_t *out, size_t cap, uint8_t version,
			     const uint8_t a[16])
{
	if (version == 4) /* SOCKS4 cannot carry it: Tor says 5B */
		return s4_reply(out, cap, TK_SOCKS4_REJECTED, NULL);
	uint8_t r[22] = { 5, 0, 0, TK_SOCKS_ATYP_IPV6 };
	memcpy(r + 4, a, 16);
	return put(out, cap, r, sizeof r);
}

size_t
tk_socks_reply_resolved_name(uint8_t *out, size_t cap, uint8_t version,
			     const char *name)
{
	size_t len = name ? strlen(name) : 256;
	if (version == 4)
		return s4_reply(out, cap, TK_SOCKS4_REJECTED, NULL);
	/* A name that does not fit the one-byte length is an error, as in
	 * Tor. */
	if (len > 255)
		return tk_socks_reply_resolve_error(out, cap, version,
						    TK_SOCKS5_HOST_UNREACHABLE);
	if (!out || cap < 4 + 1 + len + 2)
		return 0;
	out[0] = 5;
	out[1] = 0;
	out[2] = 0;
	out[3] = TK_SOCKS_ATYP_DOMAIN;
	out[4] = (uint8_t)len;
	memcpy(out + 5, name, len);
	out[5 + len] = 0;
	out[6 + len] = 0;
	return 7 + len;
}

size_t
tk_socks_reply_resolve_error(uint8_t *out, size_t cap, uint8_t version,
			     uint8_t rep5)
{
	if (version == 4)
		return s4_reply(out, cap, TK_SOCKS4_REJECTED, NULL);
	/* Tor always sends REP 04 here; pass TK_SOCKS5_HOST_UNREACHABLE to
	 * match it. A "success" code cannot describe an error: it becomes
	 * 04 too. */
	if (rep5 == TK_SOCKS5_SUCCEEDED)
		rep5 = TK_SOCKS5_HOST_UNREACHABLE;
	/* Deliberate difference: Tor zeroes ATYP too (05 04 00 00 + six
	 * zeros), which strict parsers (Tor's own tor-resolve among them)
	 * reject as malformed instead of reporting the error. ATYP 01 with a
	 * zero address keeps the same 10 bytes and parses everywhere. */
	uint8_t r[10] = { 5, rep5, 0, TK_SOCKS_ATYP_IPV4 };
	return put(out, cap, r, sizeof r);
}

uint8_t
tk_socks5_rep_from_end_reason(int end_reason)
{
	/* Tor's stream_end_reason_to_socks5_response(); flag bits above the
	 * reason (REMOTE, ALREADY_SENT_CLOSED, ...) are masked off first. */
	switch (end_reason & 511) {
	case TK_END_NONE:
		return TK_SOCKS5_SUCCEEDED;
	case TK_END_RESOLVEFAILED:
	case TK_END_NOROUTE:
		return TK_SOCKS5_HOST_UNREACHABLE;
	case TK_END_CONNECTREFUSED:
	case TK_END_DONE:
	case TK_END_CONNRESET:
		return TK_SOCKS5_CONN_REFUSED;
	case TK_END_EXITPOLICY:
	case TK_END_ENTRYPOLICY:
		return TK_SOCKS5_NOT_ALLOWED;
	case TK_END_TIMEOUT:
		return TK_SOCKS5_TTL_EXPIRED;
	case TK_END_NET_UNREACHABLE:
		return TK_SOCKS5_NET_UNREACHABLE;
	case TK_END_MISC:
	case TK_END_DESTROY:
	case TK_END_HIBERNATING:
	case TK_END_INTERNAL:
	case TK_END_RESOURCELIMIT:
	case TK_END_TORPROTOCOL:
	case TK_END_CANT_ATTACH:
	case TK_END_SOCKSPROTOCOL:
	case TK_END_PRIVATE_ADDR:
	default: /* NOTDIRECTORY and unknown reasons too */
		return TK_SOCKS5_GENERAL_FAILURE;
	}
}

const char *
tk_socks5_rep_str(uint8_t rep)
{
	/* 00-08 as tor-resolve words them; F0-F7 as prop 304 names them. */
	/* clang-format off */
	switch (rep) {
	case 0x00: return "succeeded";
	case 0x01: return "general error";
	case 0x02: return "not allowed";
	case 0x03: return "network is unreachable";
	case 0x04: return "host is unreachable";
	case 0x05: return "connection refused";
	case 0x06: return "ttl expired";
	case 0x07: return "command not supported";
	case 0x08: return "address type not supported";
	case 0xF0: return "onion service descriptor can not be found";
	case 0xF1: return "onion service descriptor is invalid";
	case 0xF2: return "onion service introduction failed";
	case 0xF3: return "onion service rendezvous failed";
	case 0xF4: return "onion service missing client authorization";
	case 0xF5: return "onion service wrong client authorization";
	case 0xF6: return "onion service invalid address";
	case 0xF7: return "onion service introduction timed out";
	default: return "unknown SOCKS5 code";
	}
	/* clang-format on */
}

const char *
tk_socks4_rep_str(uint8_t rep)
{
	/* clang-format off */
	switch (rep) {
	case TK_SOCKS4_GRANTED: return "request granted";
	case TK_SOCKS4_REJECTED: return "request rejected or failed";
	case TK_SOCKS4_NO_IDENTD:
		return "request rejected because SOCKS server cannot connect "
		       "to identd on the client";
	case TK_SOCKS4_IDENTD_MISMATCH:
		return "request rejected because the client program and "
		       "identd report different user-ids";
	default: return "unknown SOCKS4 code";
	}
	/* clang-format on */
}
