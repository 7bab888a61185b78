/* Reply builders and Tor's END reason -> REP table.
 *
 * Row names: D-* are the bytes Tor's connection layer sends (read from
 * Tor's source, connection_edge.c and reasons.c: no Tor unit test pins
 * them); A-* are the reply halves of arti's tor-socksproto proxy tests;
 * the END reason table is Tor's stream_end_reason_to_socks5_response().
 * Where torkit differs on purpose (doc/differences.md) the row says
 * DIFFERENCE and asserts our bytes. */
#include "lib/socks_proto.h"

#include "lib/addr.h"

#include "../unit/tap.h"

#include <sys/socket.h>

#define Z6 "00 00 00 00 00 00"
#define Z16 Z6 Z6 "00 00 00 00"

static uint8_t out[600], want[600];

static void eq(size_t n, const char *hex, const char *what)
{
	size_t wl = tap_unhex(hex, want, sizeof want);
	tap_eq_bytes(out, n, want, wl, "%s", what);
}

static void test_connect(void)
{
	eq(tk_socks_reply_connect(out, sizeof out, 4, 0, AF_INET),
	   "00 5a" Z6, "D-01: SOCKS4 CONNECT succeeded");
	eq(tk_socks_reply_connect(out, sizeof out, 5, 0, AF_INET),
	   "05 00 00 01 00 00 00 00 00 00", "D-02: SOCKS5 CONNECT, IPv4 client");
	eq(tk_socks_reply_connect(out, sizeof out, 5, 0, AF_INET6),
	   "05 00 00 04" Z16 "00 00", "D-03: SOCKS5 CONNECT, IPv6 client");
	eq(tk_socks_reply_connect(out, sizeof out, 5, 0, AF_UNIX),
	   "05 00 00 04" Z16 "00 00", "D-03: SOCKS5 CONNECT, AF_UNIX client");
	eq(tk_socks_reply_connect(out, sizeof out, 5, 0, 0),
	   "05 00 00 01" Z6, "unset family: the 10-byte form");
	eq(tk_socks_reply_connect(out, sizeof out, 4, 0x04, AF_INET),
	   "00 5b" Z6, "SOCKS4 CONNECT failed: 5B");
	eq(tk_socks_reply_connect(out, sizeof out, 5, 0xf6, AF_INET),
	   "05 f6 00 01" Z6, "D-22: extended error F6");
	tap_eq_long((long)tk_socks_reply_connect(out, 9, 5, 0, AF_INET), 0,
		    "a buffer one byte short: 0, nothing written");
	tap_eq_long((long)tk_socks_reply_connect(out, 21, 5, 0, AF_INET6), 0,
		    "... also for the 22-byte form");

	/* arti echoes addresses/ports into replies; Tor (and torkit) send
	 * zeros. The arti reply bytes are shown for comparison. */
	eq(tk_socks_reply_connect(out, sizeof out, 4, 0x01, AF_INET),
	   "00 5b 00 00 00 00 00 00",
	   "A-01: SOCKS4 failure is 00 5b + zeros (arti: 00 5b 00 50 7f 00 00 "
	   "01, echoing; we follow Tor)");
	eq(tk_socks_reply_connect(out, sizeof out, 4, 0x00, AF_INET),
	   "00 5a 00 00 00 00 00 00", "A-02: SOCKS4 success, same as arti");
	eq(tk_socks_reply_connect(out, sizeof out, 5, 0x04, AF_INET),
	   "05 04 00 01" Z6,
	   "A-07: host unreachable with a zero address (arti echoes a "
	   "hostname; we follow Tor)");
	eq(tk_socks_reply_connect(out, sizeof out, 5, 0x01, AF_INET),
	   "05 01 00 01" Z6,
	   "A-08: general failure, zero IPv4 for an IPv4 client (arti "
	   "echoes the IPv6 target)");
	eq(tk_socks_reply_connect(out, sizeof out, 5, 0x00, AF_INET),
	   "05 00 00 01 00 00 00 00 00 00", "A-09: success, same as arti");
	eq(tk_socks_reply_connect(out, sizeof out, 5, 0x01, AF_INET6),
	   "05 01 00 04" Z16 "00 00",
	   "A-10: IPv6 zero form, as arti, but chosen by the client's "
	   "family (Tor), not the request's");
}

static void test_resolve(void)
{
	uint8_t a4[4] = {1, 2, 3, 4}, a6[16];
	tk_ip_parse("2001:db8::1", a6);
	eq(tk_socks_reply_resolved_ipv4(out, sizeof out, 4, a4),
	   "00 5a 00 00 01 02 03 04", "D-05: SOCKS4 RESOLVE answer");
	eq(tk_socks_reply_resolve_error(out, sizeof out, 4, 0x04),
	   "00 5b" Z6, "D-06: SOCKS4 RESOLVE error");
	eq(tk_socks_reply_resolved_ipv6(out, sizeof out, 4, a6), "00 5b" Z6,
	   "D-06: SOCKS4 cannot carry an IPv6 answer");
	eq(tk_socks_reply_resolved_name(out, sizeof out, 4, "x.test"),
	   "00 5b" Z6, "SOCKS4 cannot carry a name either");
	eq(tk_socks_reply_resolved_ipv4(out, sizeof out, 5, a4),
	   "05 00 00 01 01 02 03 04 00 00", "D-07: SOCKS5 RESOLVE IPv4");
	eq(tk_socks_reply_resolved_ipv6(out, sizeof out, 5, a6),
	   "05 00 00 04 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 00 00",
	   "D-08: SOCKS5 RESOLVE IPv6");
	eq(tk_socks_reply_resolved_name(out, sizeof out, 5, "www.example.com"),
	   "05 00 00 03 0f 77 77 77 2e 65 78 61 6d 70 6c 65 2e 63 6f 6d 00 00",
	   "D-09: SOCKS5 RESOLVE_PTR answer");
	tap_diag("D-10/D-12: DIFFERENCE: RESOLVE errors carry ATYP 01 (Tor: "
		 "ATYP 00, which Tor's own tor-resolve cannot parse)");
	eq(tk_socks_reply_resolve_error(out, sizeof out, 5, 0x04),
	   "05 04 00 01" Z6, "D-10: SOCKS5 RESOLVE error, ATYP 01");
	eq(tk_socks_reply_resolve_error(out, sizeof out, 5,
					tk_socks5_rep_from_end_reason(
						TK_END_RESOLVEFAILED)),
	   "05 04 00 01" Z6, "D-12: .onion RESOLVE refused: REP 04");
	eq(tk_socks_reply_resolve_error(out, sizeof out, 5, 0x00),
	   "05 04 00 01" Z6, "an error never says 'succeeded': 00 -> 04");
	eq(tk_socks_reply_resolve_error(out, sizeof out, 5, 0x06),
	   "05 06 00 01" Z6, "a caller-chosen REP is kept (TTL expired)");
	eq(tk_socks_reply_resolved_name(out, sizeof out, 5, ""),
	   "05 00 00 03 00 00 00", "empty PTR name");
	char name[300];
	memset(name, 'n', 255);
	name[255] = '\0';
	tap_eq_long((long)tk_socks_reply_resolved_name(out, sizeof out, 5,
						       name),
		    4 + 1 + 255 + 2, "a 255-byte name fits");
	name[255] = 'n';
	name[256] = '\0';
	eq(tk_socks_reply_resolved_name(out, sizeof out, 5, name),
	   "05 04 00 01" Z6, "a 256-byte name becomes an error, as in Tor");
	tap_eq_long((long)tk_socks_reply_resolved_name(out, 10, 5,
						       "www.example.com"),
		    0, "name reply: small buffer gives 0");
}

static void test_reasons(void)
{
	/* D-04: Tor's stream_end_reason_to_socks5_response() */
	static const struct {
		int reason;
		uint8_t rep;
	} t[] = {
		{TK_END_NONE, 0x00},	       {TK_END_MISC, 0x01},
		{TK_END_RESOLVEFAILED, 0x04},  {TK_END_CONNECTREFUSED, 0x05},
		{TK_END_EXITPOLICY, 0x02},     {TK_END_DESTROY, 0x01},
		{TK_END_DONE, 0x05},	       {TK_END_TIMEOUT, 0x06},
		{TK_END_NOROUTE, 0x04},	       {TK_END_HIBERNATING, 0x01},
		{TK_END_INTERNAL, 0x01},       {TK_END_RESOURCELIMIT, 0x01},
		{TK_END_CONNRESET, 0x05},      {TK_END_TORPROTOCOL, 0x01},
		{TK_END_NOTDIRECTORY, 0x01},   {TK_END_ENTRYPOLICY, 0x02},
		{TK_END_CANT_ATTACH, 0x01},    {TK_END_NET_UNREACHABLE, 0x03},
		{TK_END_SOCKSPROTOCOL, 0x01},  {260, 0x01},
		{261, 0x01},		       {TK_END_PRIVATE_ADDR, 0x01},
		{263, 0x01},		       {999, 0x01},
		/* flag bits (REMOTE 512, ALREADY_SOCKS_REPLIED 2048) masked */
		{512 | TK_END_EXITPOLICY, 0x02},
		{2048 | 512 | TK_END_TIMEOUT, 0x06},
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		uint8_t rep = tk_socks5_rep_from_end_reason(t[i].reason);
		tap_eq_long(rep, t[i].rep, "D-04: END reason %d -> REP %02x",
			    t[i].reason, t[i].rep);
		eq(tk_socks_reply_connect(out, sizeof out, 5, rep, AF_INET),
		   t[i].rep == 0x00   ? "05 00 00 01" Z6
		   : t[i].rep == 0x01 ? "05 01 00 01" Z6
		   : t[i].rep == 0x02 ? "05 02 00 01" Z6
		   : t[i].rep == 0x03 ? "05 03 00 01" Z6
		   : t[i].rep == 0x04 ? "05 04 00 01" Z6
		   : t[i].rep == 0x05 ? "05 05 00 01" Z6
				      : "05 06 00 01" Z6,
		   "D-04: ... and the CONNECT reply carries it");
	}
	tap_eq_long(tk_socks4_rep_from_rep5(0), 0x5a, "SOCKS4: 00 -> 5A");
	int all5b = 1;
	for (int r = 1; r < 256; r++)
		all5b &= tk_socks4_rep_from_rep5((uint8_t)r) == 0x5b;
	tap_ok(all5b, "SOCKS4: every failure -> 5B");
}

int main(void)
{
	test_connect();
	test_resolve();
	test_reasons();
	return tap_done();
}
