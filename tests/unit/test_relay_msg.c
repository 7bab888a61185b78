/* Relay message bodies: encodings checked against published vectors,
 * round trips, and malformed input rejected with the right error.
 *
 * Vectors marked [arti] are data from Arti's
 * crates/tor-cell/tests/testvec_relaymsg.rs (MIT OR Apache-2.0), most of
 * them dumped from tor 0.4.5 in a chutney network; the test code is ours. */
#include <stdio.h>
#include <string.h>

#include "onion/cell/relay_msg.h"
#include "../unit/tap.h"

static unsigned char want[1024];
static uint8_t out[1024];

static size_t unhex(const char *h)
{
	return tap_unhex(h, want, sizeof want);
}

static int addr_is(const tk_relay_addr *a, int fam, const char *text)
{
	char buf[64];
	if (a->family != fam)
		return 0;
	if (fam == 0)
		return 1;
	return tk_relay_addr_format(a, buf, sizeof buf) > 0 &&
	       strcmp(buf, text) == 0;
}

static void set_addr(tk_relay_addr *a, int fam, const char *hex)
{
	memset(a, 0, sizeof *a);
	a->family = (uint8_t)fam;
	tap_unhex(hex, a->a, 16);
}

static void test_begin(void)
{
	int n;
	size_t wl;
	tk_relay_begin b;

	wl = unhex("3132372E302E302E313A3730303300"); /* [arti] */
	n = tk_relay_begin_encode("127.0.0.1", 7003, 0, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, want, wl,
		     "BEGIN 127.0.0.1:7003 matches tor's bytes");
	tap_eq_long(tk_relay_begin_decode(want, wl, &b), 0, "decodes");
	tap_ok(b.host_len == 9 && memcmp(b.host, "127.0.0.1", 9) == 0 &&
		       b.port == 7003 && b.flags == 0 && !b.host_is_ipv6,
	       "host, port, no flags");

	wl = unhex("7777772e786b63642e636f6d3a34343300 00000003"); /* [arti] */
	n = tk_relay_begin_encode("www.xkcd.com", 443, 3, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, want, wl,
		     "BEGIN with flags 3");
	tap_ok(tk_relay_begin_decode(want, wl, &b) == 0 && b.flags == 3 &&
		       b.port == 443,
	       "flags decoded");

	wl = unhex("5b323030313a6462383a3a315d3a323200"); /* [arti] */
	n = tk_relay_begin_encode("2001:db8::1", 22, 0, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, want, wl,
		     "BEGIN IPv6 gets brackets");
	n = tk_relay_begin_encode("[2001:DB8:0::1]", 22, 0, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, want, wl,
		     "bracketed, upper-case, uncompressed IPv6 canonicalised");
	tap_ok(tk_relay_begin_decode(want, wl, &b) == 0 && b.host_is_ipv6 &&
		       b.host_len == 11 &&
		       memcmp(b.host, "2001:db8::1", 11) == 0 && b.port == 22,
	       "IPv6 decoded without brackets");

	n = tk_relay_begin_encode("WWW.Example.COM", 80, 0, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, "www.example.com:80", 19,
		     "host lower-cased, NUL-terminated");

	/* Failure cases. */
	wl = unhex("5b3a3a5d21"); /* [arti] "[::]!" no NUL, no port */
	tap_eq_long(tk_relay_begin_decode(want, wl, &b), TK_RELAY_ENONUL,
		    "no NUL rejected");
	wl = unhex("5b3a3a5d2100");
	tap_eq_long(tk_relay_begin_decode(want, wl, &b), TK_RELAY_EPORT,
		    "\"[::]!\" has no port");
	/* [arti] torproject™.org:443 -- not ASCII */
	wl = unhex("746f7270726f6a656374e284a22e6f72673a34343300");
	tap_eq_long(tk_relay_begin_decode(want, wl, &b), TK_RELAY_EADDR,
		    "non-ASCII host rejected");
	tap_eq_long(tk_relay_begin_decode((const uint8_t *)"host:0", 7, &b),
		    TK_RELAY_EPORT, "port 0 rejected");
	tap_eq_long(tk_relay_begin_decode((const uint8_t *)"host:65536", 11,
					  &b),
		    TK_RELAY_EPORT, "port 65536 rejected");
	tap_eq_long(tk_relay_begin_decode((const uint8_t *)"host", 5, &b),
		    TK_RELAY_EPORT, "missing port rejected");
	tap_eq_long(tk_relay_begin_decode((const uint8_t *)":80", 4, &b),
		    TK_RELAY_EADDR, "empty host rejected");
	tap_eq_long(tk_relay_begin_decode((const uint8_t *)"[zz::1]:80", 11,
					  &b),
		    TK_RELAY_EADDR, "bad bracketed IPv6 rejected");
	tap_eq_long(tk_relay_begin_decode((const uint8_t *)"a:8x", 5, &b),
		    TK_RELAY_EPORT, "non-digit port rejected");
	tap_eq_long(tk_relay_begin_decode(NULL, 0, &b), TK_RELAY_ENONUL,
		    "empty body rejected");
	/* Flags need all four bytes; three are ignored, as in Tor. */
	tap_ok(tk_relay_begin_decode((const uint8_t *)"a:1\0\0\0\7", 7, &b) ==
			       0 &&
		       b.flags == 0,
	       "3 trailing bytes: no flags");

	tap_eq_long(tk_relay_begin_encode("example.com", 0, 0, out, sizeof out),
		    TK_RELAY_EPORT, "encode: port 0 refused");
	tap_eq_long(tk_relay_begin_encode("", 80, 0, out, sizeof out),
		    TK_RELAY_EADDR, "encode: empty host refused");
	tap_eq_long(tk_relay_begin_encode("a b", 80, 0, out, sizeof out),
		    TK_RELAY_EADDR, "encode: space refused");
	tap_eq_long(tk_relay_begin_encode("1:2:3", 80, 0, out, sizeof out),
		    TK_RELAY_EADDR, "encode: colon in a non-IPv6 refused");
	tap_eq_long(tk_relay_begin_encode("example.com", 80, 0, out, 5),
		    TK_RELAY_ESPACE, "encode: small buffer");
	char longname[600];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	tap_eq_long(tk_relay_begin_encode(longname, 80, 0, out, sizeof out),
		    TK_RELAY_ETOOBIG, "encode: over 498 bytes refused");
	longname[498 - 4] = 0; /* "a...a:80\0" = 494 + 4 = 498 */
	tap_eq_long(tk_relay_begin_encode(longname, 80, 0, out, sizeof out),
		    498, "encode: exactly 498 bytes fits");
	tap_eq_long(tk_relay_begin_encode(longname, 80, 1, out, sizeof out),
		    TK_RELAY_ETOOBIG, "encode: 498 + flags does not");
}

static void test_connected(void)
{
	tk_relay_connected c;
	tk_relay_addr a;
	int n;
	size_t wl;

	tap_ok(tk_relay_connected_decode(NULL, 0, &c) == 0 &&
		       c.addr.family == 0 && c.ttl == TK_TTL_NONE,
	       "CONNECTED empty [arti]");
	tap_eq_long(tk_relay_connected_encode(NULL, 0, out, sizeof out), 0,
		    "encode empty");

	wl = unhex("7F000001 00000E10"); /* [arti] */
	set_addr(&a, 4, "7f000001");
	n = tk_relay_connected_encode(&a, 0xe10, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, want, wl,
		     "CONNECTED IPv4 + TTL");
	tap_ok(tk_relay_connected_decode(want, wl, &c) == 0 &&
		       addr_is(&c.addr, 4, "127.0.0.1") && c.ttl == 0xe10,
	       "decodes 127.0.0.1 ttl 3600");
	tap_ok(tk_relay_connected_decode(want, 4, &c) == 0 &&
		       addr_is(&c.addr, 4, "127.0.0.1") &&
		       c.ttl == TK_TTL_NONE,
	       "IPv4 without TTL accepted (as tor)");

	/* [arti] */
	wl = unhex("00000000 06 20010db8 00000000 00000000 00001122 00000E10");
	set_addr(&a, 6, "20010db8000000000000000000001122");
	n = tk_relay_connected_encode(&a, 0xe10, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, want, wl,
		     "CONNECTED IPv6 + TTL");
	tap_ok(tk_relay_connected_decode(want, wl, &c) == 0 &&
		       addr_is(&c.addr, 6, "2001:db8::1122") &&
		       c.ttl == 0xe10,
	       "decodes 2001:db8::1122");
	tap_eq_long(tk_relay_connected_decode(want, 24, &c), TK_RELAY_ETRUNC,
		    "IPv6 form one byte short");
	tap_eq_long(tk_relay_connected_decode(want, 3, &c), TK_RELAY_ETRUNC,
		    "3 bytes rejected");

	/* [arti] bogus address type */
	wl = unhex("00000000 07 20010db8 00000000 00000000 00001122 00000E10");
	tap_eq_long(tk_relay_connected_decode(want, wl, &c), TK_RELAY_EADDR,
		    "address type 7 rejected");
	set_addr(&a, 4, "00000000");
	tap_eq_long(tk_relay_connected_encode(&a, 1, out, sizeof out),
		    TK_RELAY_EADDR, "encode: 0.0.0.0 would read as IPv6");
}

static void test_end(void)
{
	tk_relay_end e;
	tk_relay_addr a;
	int n;
	size_t wl;

	n = tk_relay_end_encode(TK_RELAY_END_MISC, NULL, 0, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, "\x01", 1, "END MISC [arti]");
	n = tk_relay_end_encode(TK_RELAY_END_DONE, NULL, 0, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, "\x06", 1, "END DONE [arti]");

	wl = unhex("04 7f000007 00000100"); /* [arti] */
	set_addr(&a, 4, "7f000007");
	n = tk_relay_end_encode(TK_RELAY_END_EXITPOLICY, &a, 256, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, want, wl,
		     "END EXITPOLICY IPv4 + TTL");
	tap_ok(tk_relay_end_decode(want, wl, &e) == 0 &&
		       e.reason == TK_RELAY_END_EXITPOLICY &&
		       addr_is(&e.addr, 4, "127.0.0.7") && e.ttl == 256,
	       "decodes address and TTL");
	tap_ok(tk_relay_end_decode(want, 5, &e) == 0 &&
		       addr_is(&e.addr, 4, "127.0.0.7") &&
		       e.ttl == TK_TTL_NONE,
	       "EXITPOLICY without TTL [arti]");

	wl = unhex("04 20010db8 00000000 00000000 0000f00b 00000200"); /* [arti] */
	set_addr(&a, 6, "20010db80000000000000000 0000f00b");
	n = tk_relay_end_encode(TK_RELAY_END_EXITPOLICY, &a, 512, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, want, wl,
		     "END EXITPOLICY IPv6 + TTL");
	tap_ok(tk_relay_end_decode(want, wl, &e) == 0 &&
		       addr_is(&e.addr, 6, "2001:db8::f00b") && e.ttl == 512,
	       "decodes IPv6 address");
	tap_ok(tk_relay_end_decode(want, 17, &e) == 0 &&
		       addr_is(&e.addr, 6, "2001:db8::f00b") &&
		       e.ttl == TK_TTL_NONE,
	       "IPv6 without TTL");
	tap_ok(tk_relay_end_decode(want, 7, &e) == 0 &&
		       e.reason == TK_RELAY_END_EXITPOLICY && e.addr.family == 0,
	       "odd EXITPOLICY length: reason kept, address ignored");

	tap_ok(tk_relay_end_decode(NULL, 0, &e) == 0 &&
		       e.reason == TK_RELAY_END_MISC,
	       "empty END means MISC [arti]");
	tap_ok(tk_relay_end_decode((const uint8_t *)"\xc8", 1, &e) == 0 &&
		       e.reason == 200,
	       "unknown reason 200 accepted");
	tap_ok(tk_relay_end_decode((const uint8_t *)"\x0f", 1, &e) == 0 &&
		       e.reason == 15,
	       "reason 15 passed through");
	tap_ok(tk_relay_end_decode((const uint8_t *)"\x03zz", 3, &e) == 0 &&
		       e.reason == TK_RELAY_END_CONNECTREFUSED &&
		       e.addr.family == 0,
	       "trailing bytes after a plain reason ignored");
	tap_eq_str(tk_relay_end_reason_name(TK_RELAY_END_EXITPOLICY), "EXITPOLICY",
		   "reason names");
	tap_eq_str(tk_relay_end_reason_name(99), "UNKNOWN", "unknown reason name");
}

static void test_resolve(void)
{
	tk_relay_addr a;
	tk_relay_resolve r;
	char name[128];
	int n;

	n = tk_relay_resolve_encode("www.torproject.org", out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, "www.torproject.org", 19,
		     "RESOLVE name [arti]");
	n = tk_relay_resolve_encode("Host2.TEST", out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, "host2.test", 11,
		     "RESOLVE lower-cases");

	set_addr(&a, 4, "7f000001");
	n = tk_relay_resolve_ptr_encode(&a, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, "1.0.0.127.in-addr.arpa", 23,
		     "PTR 127.0.0.1 [arti]");
	set_addr(&a, 4, "08080404");
	tap_eq_long(tk_relay_reverse_name(&a, name, sizeof name), 20,
		    "reverse name length");
	tap_eq_str(name, "4.4.8.8.in-addr.arpa", "8.8.4.4 reversed");

	set_addr(&a, 6, "20010000000000000000000000000000");
	n = tk_relay_resolve_ptr_encode(&a, out, sizeof out);
	const char *v6 = "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
			 "0.0.0.0.1.0.0.2.ip6.arpa";
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, v6, strlen(v6) + 1,
		     "PTR 2001:: nibbles [arti]");
	set_addr(&a, 6, "20010db8000000000000000000abcdef");
	tap_ok(tk_relay_reverse_name(&a, name, sizeof name) == 72 &&
		       strncmp(name, "f.e.d.c.b.a.0.0.", 16) == 0 &&
		       strcmp(name + 48, "8.b.d.0.1.0.0.2.ip6.arpa") == 0,
	       "nibble order, lower-case hex");
	tap_eq_long(tk_relay_reverse_name(&a, name, 72), TK_RELAY_ESPACE,
		    "reverse name needs 73 bytes");
	a.family = 5;
	tap_eq_long(tk_relay_reverse_name(&a, name, sizeof name),
		    TK_RELAY_EADDR, "bad family");

	tap_ok(tk_relay_resolve_decode((const uint8_t *)"a.b\0", 4, &r) == 0 &&
		       r.name_len == 3,
	       "RESOLVE decodes");
	tap_eq_long(tk_relay_resolve_decode((const uint8_t *)"a.b", 3, &r),
		    TK_RELAY_ENONUL, "RESOLVE without NUL");
	tap_eq_long(tk_relay_resolve_decode((const uint8_t *)"\0", 1, &r),
		    TK_RELAY_EADDR, "RESOLVE empty name");
	tap_eq_long(tk_relay_resolve_encode("", out, sizeof out),
		    TK_RELAY_EADDR, "encode empty name refused");
}

static void test_resolved(void)
{
	tk_relay_resolved r;
	size_t wl, used;
	uint8_t ip[4] = { 127, 0, 0, 1 }, ip2[4] = { 127, 0, 0, 2 };

	tap_ok(tk_relay_resolved_decode(NULL, 0, &r) == 0 && r.n == 0 &&
		       r.error == 0,
	       "RESOLVED empty [arti]");

	wl = unhex("F0 00 00000E10"); /* [arti] */
	tap_ok(tk_relay_resolved_decode(want, wl, &r) == 0 && r.n == 1 &&
		       r.error == TK_RELAY_RESOLVED_ERR_TRANSIENT &&
		       r.ans[0].ttl == 3600,
	       "transient error");
	used = 0;
	tk_relay_resolved_append(0xF0, NULL, 0, 3600, out, &used, sizeof out);
	tap_eq_bytes(out, used, want, wl, "transient error encodes");
	wl = unhex("F1 00 00000E10"); /* [arti] */
	tap_ok(tk_relay_resolved_decode(want, wl, &r) == 0 &&
		       r.error == TK_RELAY_RESOLVED_ERR_NONTRANSIENT,
	       "non-transient error");
	/* What a 0.4.9 exit sends for NXDOMAIN: F1 with a text value. */
	used = 0;
	tk_relay_resolved_append(0xF1, "Error resolving hostname", 24, 60, out,
				 &used, sizeof out);
	tap_ok(tk_relay_resolved_decode(out, used, &r) == 0 &&
		       r.error == TK_RELAY_RESOLVED_ERR_NONTRANSIENT && r.n == 1,
	       "error with a value: value ignored");

	wl = unhex("04 04 7f000001 00000E10 04 04 7f000002 00001c20"); /* [arti] */
	used = 0;
	tk_relay_resolved_append(4, ip, 4, 3600, out, &used, sizeof out);
	tk_relay_resolved_append(4, ip2, 4, 7200, out, &used, sizeof out);
	tap_eq_bytes(out, used, want, wl, "two IPv4 answers encode");
	tap_ok(tk_relay_resolved_decode(want, wl, &r) == 0 && r.n == 2 &&
		       addr_is(&r.ans[0].addr, 4, "127.0.0.1") &&
		       r.ans[0].ttl == 3600 &&
		       addr_is(&r.ans[1].addr, 4, "127.0.0.2") &&
		       r.ans[1].ttl == 7200 && r.error == 0,
	       "two IPv4 answers decode");

	wl = unhex("06 10 12340000000000000000000000005678 00000080"); /* [arti] */
	tap_ok(tk_relay_resolved_decode(want, wl, &r) == 0 && r.n == 1 &&
		       addr_is(&r.ans[0].addr, 6, "1234::5678") &&
		       r.ans[0].ttl == 128,
	       "IPv6 answer");

	/* [arti] */
	wl = unhex("00 12 7777772e746f7270726f6a6563742e6f7267 00000258");
	tap_ok(tk_relay_resolved_decode(want, wl, &r) == 0 && r.n == 1 &&
		       r.ans[0].type == 0 && r.ans[0].len == 18 &&
		       memcmp(r.ans[0].value, "www.torproject.org", 18) == 0 &&
		       r.ans[0].ttl == 600,
	       "hostname answer");
	/* [arti] unrecognized type kept */
	wl = unhex("63 12 7777772e746f7270726f6a6563742e6f7267 00000258");
	tap_ok(tk_relay_resolved_decode(want, wl, &r) == 0 && r.n == 1 &&
		       r.ans[0].type == 0x63 && r.ans[0].addr.family == 0 &&
		       r.error == 0,
	       "unknown answer type skipped over");
	/* What the spike saw: 8.8.4.4 PTR from a 0.4.9 exit. */
	wl = unhex("00 0a 686f7374322e74657374 0000003c");
	tap_ok(tk_relay_resolved_decode(want, wl, &r) == 0 &&
		       r.ans[0].len == 10 && r.ans[0].ttl == 60,
	       "PTR answer host2.test ttl 60");

	/* An error next to an address: the address wins (tor's rule). */
	wl = unhex("F0 00 00000000 04 04 0a010203 0000003c");
	tap_ok(tk_relay_resolved_decode(want, wl, &r) == 0 && r.n == 2 &&
		       r.error == 0,
	       "error plus address: no error");

	wl = unhex("04 03 010203 00000001"); /* [arti] wrong length */
	tap_eq_long(tk_relay_resolved_decode(want, wl, &r), TK_RELAY_ELEN,
		    "IPv4 of 3 bytes rejected");
	tap_ok(r.n == 0, "no answers reported after an error");
	wl = unhex("06 04 01020304 00000001");
	tap_eq_long(tk_relay_resolved_decode(want, wl, &r), TK_RELAY_ELEN,
		    "IPv6 of 4 bytes rejected");
	wl = unhex("00 00 00000001");
	tap_eq_long(tk_relay_resolved_decode(want, wl, &r), TK_RELAY_ELEN,
		    "empty hostname rejected");
	wl = unhex("04 04 7f000001 00000E10 04");
	tap_eq_long(tk_relay_resolved_decode(want, wl, &r), TK_RELAY_ETRUNC,
		    "second answer truncated: all rejected");
	tap_ok(r.n == 0, "truncated: no partial answers");
	wl = unhex("04 04 7f000001 0000");
	tap_eq_long(tk_relay_resolved_decode(want, wl, &r), TK_RELAY_ETRUNC,
		    "TTL cut short");
	wl = unhex("00 ff 41");
	tap_eq_long(tk_relay_resolved_decode(want, wl, &r), TK_RELAY_ETRUNC,
		    "length past the end");

	/* Which answer a SOCKS client gets. */
	wl = unhex("00 0a 686f7374322e74657374 0000003c"
		   " 06 10 20010db8000000000000000000000001 0000003c"
		   " 04 04 0a010203 0000003c 04 04 0a010204 0000003c");
	const tk_relay_resolved_answer *p;
	tap_ok(tk_relay_resolved_decode(want, wl, &r) == 0 && r.n == 4,
	       "mixed answers decode");
	p = tk_relay_resolved_pick(&r, 0, 1, 1, 0);
	tap_ok(p && p->type == 4 && p->addr.a[3] == 3,
	       "pick: first IPv4 (not the earlier IPv6)");
	p = tk_relay_resolved_pick(&r, 0, 1, 1, 1);
	tap_ok(p && p->type == 6, "pick: IPv6 when preferred");
	p = tk_relay_resolved_pick(&r, 0, 0, 1, 0);
	tap_ok(p && p->type == 6, "pick: IPv6 when IPv4 not allowed");
	p = tk_relay_resolved_pick(&r, 1, 1, 1, 0);
	tap_ok(p && p->type == 0 && p->len == 10, "pick: PTR takes the name");
	wl = unhex("04 04 0a010203 0000003c");
	tk_relay_resolved_decode(want, wl, &r);
	tap_ok(tk_relay_resolved_pick(&r, 1, 1, 1, 0) == NULL,
	       "pick: PTR with only an address: none");
	tap_ok(tk_relay_resolved_pick(&r, 0, 0, 1, 0) == NULL,
	       "pick: only a disallowed family: none");
	wl = unhex("F1 00 0000003c");
	tk_relay_resolved_decode(want, wl, &r);
	tap_ok(tk_relay_resolved_pick(&r, 0, 1, 1, 0) == NULL &&
		       r.error == 0xF1,
	       "pick: error answer: none, error F1");

	/* 83 minimal answers fill 498 bytes exactly. */
	used = 0;
	int rc = 0;
	for (int i = 0; i < 83 && rc >= 0; i++)
		rc = tk_relay_resolved_append(0xF0, NULL, 0, (uint32_t)i, out,
					      &used, sizeof out);
	tap_ok(rc == 498 && used == 498, "83 answers = 498 bytes");
	tap_ok(tk_relay_resolved_decode(out, used, &r) == 0 && r.n == 83 &&
		       r.ans[82].ttl == 82,
	       "83 answers decode");
	tap_eq_long(tk_relay_resolved_append(0xF0, NULL, 0, 0, out, &used,
					     sizeof out),
		    TK_RELAY_ETOOBIG, "84th answer refused");
	tap_eq_long(tk_relay_resolved_decode(out, 499, &r), TK_RELAY_ETOOBIG,
		    "499-byte body refused");
	used = 0;
	tap_eq_long(tk_relay_resolved_append(4, ip, 3, 0, out, &used,
					     sizeof out),
		    TK_RELAY_ELEN, "append: IPv4 must be 4 bytes");
}

/* Cases from tor's src/test/test_cell_formats.c test_cfmt_resolved_cells
 * (BSD-3-Clause), taken as data: what C tor accepts and rejects. */
#define TOR_LONG_NAME \
	"this-hostname-has-255-characters.in-order-to-test-whether-very-long.ho" \
	"stnames-are-accepted.i-am-putting-it-in-a-macro-because-although.this-" \
	"function-is-already-very-full.of-copy-and-pasted-stuff.having-this-app" \
	"ear-more-than-once-would-bother-me-somehow.is"
#define TOR_LONG_NAME2 \
	"this-name-has-231-characters.so-that-it-plus-LONG_NAME-can-completely-" \
	"fill-up-the-payload-of-a-cell.its-important-to-check-for-the-full-thin" \
	"g-case.to-avoid-off-by-one-errors.where-full-things-are-misreported-as" \
	".overflowing-by-one.z"
#define C(s) (const uint8_t *)(s), sizeof(s) - 1

static void test_resolved_tor_cases(void)
{
	static tk_relay_resolved r;
	char buf[64];

	tap_ok(tk_relay_resolved_decode(C("\x04\x04\x7f\x00\x02\x0a\x00\x00\x01\x00"),
					&r) == 0 &&
		       r.n == 1 && tk_relay_addr_format(&r.ans[0].addr, buf, 64) > 0 &&
		       strcmp(buf, "127.0.2.10") == 0 && r.ans[0].ttl == 256,
	       "tor: one IPv4, ttl 256");
	tap_ok(tk_relay_resolved_decode(
		       C("\x06\x10\x20\x02\x90\x90\x00\x00\x00\x00"
			 "\x00\x00\x00\x00\xf0\xf0\xab\xcd\x02\x00\x00\x01"),
		       &r) == 0 &&
		       tk_relay_addr_format(&r.ans[0].addr, buf, 64) > 0 &&
		       strcmp(buf, "2002:9090::f0f0:abcd") == 0 &&
		       r.ans[0].ttl == 0x2000001,
	       "tor: one IPv6");
	tap_ok(tk_relay_resolved_decode(
		       C("\x00\xff" TOR_LONG_NAME "\x00\x01\x00\x00"), &r) == 0 &&
		       r.n == 1 && r.ans[0].len == 255 && r.ans[0].ttl == 65536,
	       "tor: 255-character hostname");
	tap_ok(tk_relay_resolved_decode(
		       C("\xf0\x2b" "I'm sorry, Dave. I'm afraid I can't do that"
			 "\x00\x11\x22\x33"),
		       &r) == 0 &&
		       r.error == 0xF0,
	       "tor: transient error with text");
	tap_ok(tk_relay_resolved_decode(
		       C("\xee\x16" "fault in the AE35 unit" "\x09\x09\x01\x01"),
		       &r) == 0 &&
		       r.error == 0 && tk_relay_resolved_pick(&r, 0, 1, 1, 0) == NULL,
	       "tor: unrecognized type alone: no error, no answer");
	tap_ok(tk_relay_resolved_decode(
		       C("\xee\x16" "fault in the AE35 unit" "\x09\x09\x01\x01"
			 "\xf0\x2b" "I'm sorry, Dave. I'm afraid I can't do that"
			 "\x00\x11\x22\x33"
			 "\x06\x10\x20\x02\x90\x90\x00\x00\x00\x00"
			 "\x00\x00\x00\x00\xf0\xf0\xab\xcd\x02\x00\x00\x01"
			 "\x04\x04\x7f\x00\x02\x0a\x00\x00\x01\x00"
			 "\x00\x11" "motherbrain.zebes" "\x00\x00\x00\x00"),
		       &r) == 0 &&
		       r.n == 5 && r.error == 0 &&
		       tk_relay_resolved_pick(&r, 0, 1, 1, 0)->ttl == 256 &&
		       tk_relay_resolved_pick(&r, 1, 1, 1, 0)->len == 17,
	       "tor: one of each: answers win over the error");
	tap_ok(tk_relay_resolved_decode(
		       C("\x00\xff" TOR_LONG_NAME "\x00\x01\x00\x00"
			 "\x00\xe7" TOR_LONG_NAME2 "\x00\x01\x00\x00"),
		       &r) == 0 &&
		       r.n == 2 && r.ans[1].len == 231,
	       "tor: a full 498-byte cell");

	static const struct {
		const char *b;
		size_t n;
		const char *what;
	} bad[] = {
		{ "\x04\x03zzz1234", 9, "IPv4 of length 3" },
		{ "\x04\x04\x7f\x00\x02\x0a\x00\x00\x01\x00\x04\x05zzzzz1234", 21,
		  "second IPv4 of length 5" },
		{ "\x06\x03zzz1234", 9, "IPv6 of length 3" },
		{ "\x04\x04\x7f\x00\x02\x0a\x00\x00\x01\x00"
		  "\x06\x17wwwwwwwwwwwwwwwww1234",
		  33, "IPv6 of length 23" },
		{ "\x04\x04\x7f\x00\x02\x0a\x00\x00\x01\x00\x06\x10xxxx", 16,
		  "IPv6 cut short" },
		{ "\x00\x00xxxx", 6, "empty hostname" },
		{ "\x04\x04\x7f\x00\x02\x0a\x00\x00\x01", 9, "TTL one byte short" },
		{ "\x04", 1, "type only" },
		{ "\xee", 1, "unknown type only" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		tap_ok(tk_relay_resolved_decode((const uint8_t *)bad[i].b,
						bad[i].n, &r) < 0 &&
			       r.n == 0,
		       "tor rejects: %s", bad[i].what);
	uint8_t full[300];
	size_t fl = sizeof("\x00\xff" TOR_LONG_NAME "\x00\x01\x00\x00") - 1;
	memcpy(full, "\x00\xff" TOR_LONG_NAME "\x00\x01\x00\x00", fl);
	tap_ok(tk_relay_resolved_decode(full, fl - 1, &r) < 0 &&
		       tk_relay_resolved_decode(full, fl - 6, &r) < 0,
	       "tor rejects: item longer than the body");
}

/* BEGIN and CONNECTED cases from tor's src/test/test_cell_formats.c
 * (test_cfmt_begin_cells, test_cfmt_connected_cells; BSD-3-Clause),
 * taken as data. */
static void test_begin_connected_tor_cases(void)
{
	tk_relay_begin b;
	tk_relay_connected c;
	char buf[64];

	tap_ok(tk_relay_begin_decode(C("a.b:9\0"), &b) == 0 &&
		       b.host_len == 3 && b.port == 9 && b.flags == 0,
	       "tor: short BEGIN a.b:9");
	tap_ok(tk_relay_begin_decode(C("here-is-a-nice-long.hostname.com:65535\0"),
				     &b) == 0 &&
		       b.port == 65535 && b.host_len == 32,
	       "tor: port 65535");
	tap_ok(tk_relay_begin_decode(C("[2620::6b0:b:1a1a:0:26e5:480e]:80\0"),
				     &b) == 0 &&
		       b.host_is_ipv6 && b.port == 80 &&
		       b.host_len == strlen("2620::6b0:b:1a1a:0:26e5:480e"),
	       "tor: IPv6 with its colons");
	tap_ok(tk_relay_begin_decode(C("another.example.com:80\0\x01\x02"),
				     &b) == 0 &&
		       b.flags == 0,
	       "tor: 2 junk bytes are not flags");
	tap_ok(tk_relay_begin_decode(
		       C("another.example.com:443\0\x01\x02\x03\x04"), &b) == 0 &&
		       b.flags == 0x01020304,
	       "tor: flags 0x01020304");
	tap_ok(tk_relay_begin_decode(
		       C("a-further.example.com:22\0\xee\xaa\x00\xffHi mom"),
		       &b) == 0 &&
		       b.flags == 0xeeaa00ff && b.port == 22,
	       "tor: flags then cruft");
	tap_ok(tk_relay_begin_decode(C("a.b:80\0\x42\x43\x44"), &b) == 0 &&
		       b.flags == 0,
	       "tor #41245: 3 flag bytes are not read");
	tap_ok(tk_relay_begin_decode(C("a.b\0"), &b) < 0, "tor rejects: no colon");
	tap_ok(tk_relay_begin_decode(C("a.b:\0"), &b) < 0, "tor rejects: no port");
	tap_ok(tk_relay_begin_decode(C("a.b:xyz\0"), &b) < 0,
	       "tor rejects: bad port");
	tap_ok(tk_relay_begin_decode(C("a.b:100000\0"), &b) < 0,
	       "tor rejects: port 100000");
	tap_ok(tk_relay_begin_decode(C("a.b:80"), &b) < 0, "tor rejects: no NUL");

	tap_ok(tk_relay_connected_decode(C("\x20\x30\x40\x50"), &c) == 0 &&
		       tk_relay_addr_format(&c.addr, buf, 64) > 0 &&
		       strcmp(buf, "32.48.64.80") == 0 && c.ttl == TK_TTL_NONE,
	       "tor: CONNECTED with only an IPv4 address");
	tap_ok(tk_relay_connected_decode(C("\x11\x12\x13\x14\x15"), &c) == 0 &&
		       c.addr.family == 4 && c.ttl == TK_TTL_NONE,
	       "tor: truncated TTL ignored");
	tap_ok(tk_relay_connected_decode(C("\x02\x03\x04\x05\x00\x00\x0e\x10"),
					 &c) == 0 &&
		       c.ttl == 3600,
	       "tor: IPv4 ttl 3600");
	tap_ok(tk_relay_connected_decode(C("\x02\x03\x04\x05\xf0\x00\x00\x00"),
					 &c) == 0 &&
		       c.addr.family == 4 && c.ttl == TK_TTL_NONE,
	       "tor: IPv4 TTL above INT32_MAX reads as none");
	tap_ok(tk_relay_connected_decode(
		       C("\x00\x00\x00\x00\x06\x26\x07\xf8\xb0\x40\x0c\x0c\x02"
			 "\x00\x00\x00\x00\x00\x00\x00\x68\x00\x00\x02\x58"),
		       &c) == 0 &&
		       tk_relay_addr_format(&c.addr, buf, 64) > 0 &&
		       strcmp(buf, "2607:f8b0:400c:c02::68") == 0 && c.ttl == 600,
	       "tor: IPv6 ttl 600");
	tap_ok(tk_relay_connected_decode(
		       C("\x00\x00\x00\x00\x06\x26\x07\xf8\xb0\x40\x0c\x0c\x02"
			 "\x00\x00\x00\x00\x00\x00\x00\x68\x90\x00\x02\x58"),
		       &c) == 0 &&
		       c.addr.family == 6 && c.ttl == TK_TTL_NONE,
	       "tor: IPv6 TTL too big reads as none");
	tap_ok(tk_relay_connected_decode(C("\x00\x01\x02"), &c) < 0,
	       "tor rejects: 3 bytes");
	tap_ok(tk_relay_connected_decode(
		       C("\x00\x00\x00\x00\x07\x26\x07\xf8\xb0\x40\x0c\x0c\x02"
			 "\x00\x00\x00\x00\x00\x00\x00\x68\x90\x00\x02\x58"),
		       &c) < 0,
	       "tor rejects: family 7");
	tap_ok(tk_relay_connected_decode(
		       C("\x00\x00\x00\x00\x06\x26\x07\xf8\xb0\x40\x0c\x0c\x02"
			 "\x00\x00\x00\x00\x00\x00\x00\x68\x00\x00\x02"),
		       &c) < 0,
	       "tor rejects: IPv6 form of 24 bytes");
	tk_relay_addr a = { .family = 4, .a = { 30, 40, 50, 60 } };
	int n = tk_relay_connected_encode(&a, 1024, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, "\x1e\x28\x32\x3c\x00\x00\x04\x00",
		     8, "tor: CONNECTED 30.40.50.60 ttl 1024 encodes");
	a.family = 6;
	tap_unhex("2620000006b0000b1a1a000026e5480e", a.a, 16);
	n = tk_relay_connected_encode(&a, 3600, out, sizeof out);
	size_t wl = unhex("00000000 06 2620000006b0000b1a1a000026e5480e 00000e10");
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, want, wl,
		     "tor: CONNECTED IPv6 ttl 3600 encodes");
}

static void test_sendme(void)
{
	tk_relay_sendme s;
	uint8_t tag[20];
	size_t wl;
	int n;

	tap_ok(tk_relay_sendme_decode(NULL, 0, &s) == 0 && s.version == 0,
	       "empty SENDME is v0 [arti]");
	tap_eq_long(tk_relay_sendme_encode(0, NULL, out, sizeof out), 0,
		    "v0 / stream SENDME encodes empty");

	wl = unhex("01 0014 F01234989823478bcdefabcdef01234567890123"); /* [arti] */
	tap_unhex("F01234989823478bcdefabcdef01234567890123", tag, 20);
	n = tk_relay_sendme_encode(1, tag, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, want, wl, "SENDME v1");
	tap_ok(tk_relay_sendme_decode(want, wl, &s) == 0 && s.version == 1 &&
		       memcmp(s.tag, tag, 20) == 0,
	       "v1 tag decoded");
	tap_eq_long(tk_relay_sendme_decode(want, wl - 1, &s), TK_RELAY_ETRUNC,
		    "v1 one byte short");
	tap_eq_long(tk_relay_sendme_decode(want, 2, &s), TK_RELAY_ETRUNC,
		    "v1 header cut");
	wl = unhex("01 0013 F01234989823478bcdefabcdef012345678901");
	tap_eq_long(tk_relay_sendme_decode(want, wl, &s), TK_RELAY_ELEN,
		    "v1 with 19-byte data rejected");
	wl = unhex("01 0015 F01234989823478bcdefabcdef01234567890123 ff");
	tap_ok(tk_relay_sendme_decode(want, wl, &s) == 0 &&
		       memcmp(s.tag, tag, 20) == 0,
	       "v1 with longer data: first 20 bytes");
	wl = unhex("02 0000");
	tap_eq_long(tk_relay_sendme_decode(want, wl, &s), TK_RELAY_EVERSION,
		    "version 2 refused");
	wl = unhex("00 0003 aabbcc");
	tap_ok(tk_relay_sendme_decode(want, wl, &s) == 0 && s.version == 0,
	       "explicit v0 with data accepted");
	tap_eq_long(tk_relay_sendme_encode(1, tag, out, 22), TK_RELAY_ESPACE,
		    "v1 needs 23 bytes");
	tap_eq_long(tk_relay_sendme_encode(2, tag, out, sizeof out),
		    TK_RELAY_EINVAL, "cannot encode v2");
}

static const char *ntor_hs =
	"03479E93EBF3FF2C58C1C9DBF2DE9DE9C2801B3E36A3E0BDB1F1A10579820243DD2E2"
	"28B902940EB49EF842646E3926768C28410074BEE50A535116D657C6BFB7E5114119D"
	"C69F05DF907EF62002EA782B0A357F";

static void test_extend2(void)
{
	tk_relay_extend2 m, d;
	uint8_t hs[84], rsa[20], ed[32], ip[4] = { 127, 0, 0, 1 };
	uint8_t ip6[16];
	char body[600];
	size_t wl;
	int n;

	tap_unhex(ntor_hs, hs, sizeof hs);
	tap_unhex("03479E93EBF3FF2C58C1C9DBF2DE9DE9C2801B3E", rsa, 20);
	snprintf(body, sizeof body,
		 "02 00 06 7F0000011388 02 14 "
		 "03479E93EBF3FF2C58C1C9DBF2DE9DE9C2801B3E 0002 0054 %s",
		 ntor_hs);
	wl = unhex(body); /* Arti's EXTEND2 test vector */

	memset(&m, 0, sizeof m);
	m.n_specs = 2;
	tk_linkspec_ipv4(&m.specs[0], ip, 5000);
	tk_linkspec_legacy_id(&m.specs[1], rsa);
	m.htype = TK_HTYPE_NTOR;
	m.hlen = 84;
	m.hdata = hs;
	n = tk_relay_extend2_encode(&m, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, want, wl,
		     "EXTEND2 IPv4 + RSA + ntor matches tor's bytes");
	tap_eq_long(tk_relay_extend2_decode(want, wl, &d), 0, "decodes");
	tap_ok(d.n_specs == 2 && d.specs[0].type == TK_LS_IPV4 &&
		       d.specs[0].len == 6 &&
		       memcmp(d.specs[0].data, "\x7f\0\0\1\x13\x88", 6) == 0 &&
		       d.specs[1].type == TK_LS_LEGACY_ID &&
		       memcmp(d.specs[1].data, rsa, 20) == 0,
	       "link specifiers decoded");
	tap_ok(d.htype == 2 && d.hlen == 84 && memcmp(d.hdata, hs, 84) == 0,
	       "handshake decoded");
	tap_eq_long(tk_relay_extend2_decode(want, wl - 1, &d),
		    TK_RELAY_ETRUNC, "handshake one byte short");
	tap_eq_long(tk_relay_extend2_decode(want, 10, &d), TK_RELAY_ETRUNC,
		    "cut inside a link specifier");
	tap_ok(d.n_specs == 0 && d.hdata == NULL, "nothing reported on error");
	tap_eq_long(tk_relay_extend2_decode(want, 0, &d), TK_RELAY_ETRUNC,
		    "empty body");

	/* All four specifier kinds, in tor's order 00 02 03 01. */
	memset(ed, 0xed, sizeof ed);
	tap_unhex("20010db8000000000000000000000001", ip6, 16);
	m.n_specs = 4;
	tk_linkspec_ipv4(&m.specs[0], ip, 5000);
	tk_linkspec_legacy_id(&m.specs[1], rsa);
	tk_linkspec_ed25519_id(&m.specs[2], ed);
	tk_linkspec_ipv6(&m.specs[3], ip6, 443);
	n = tk_relay_extend2_encode(&m, out, sizeof out);
	tap_eq_long(n, 1 + 8 + 22 + 34 + 20 + 4 + 84, "4 specifiers: length");
	tap_ok(n > 0 && out[0] == 4 && out[1] == 0 && out[9] == 2 &&
		       out[31] == 3 && out[32] == 32 && out[65] == 1 &&
		       out[66] == 18,
	       "4 specifiers: types and lengths in place");
	tap_ok(n > 0 && tk_relay_extend2_decode(out, (size_t)n, &d) == 0 &&
		       d.n_specs == 4 && d.specs[2].type == TK_LS_ED25519_ID &&
		       memcmp(d.specs[2].data, ed, 32) == 0 &&
		       d.specs[3].type == TK_LS_IPV6 &&
		       memcmp(d.specs[3].data, ip6, 16) == 0 &&
		       d.specs[3].data[16] == 1 && d.specs[3].data[17] == 0xbb,
	       "4 specifiers round trip");

	/* What relays refuse, the encoder refuses. */
	m.n_specs = 1;
	tk_linkspec_ipv4(&m.specs[0], ip, 5000);
	tap_eq_long(tk_relay_extend2_encode(&m, out, sizeof out),
		    TK_RELAY_ELINKSPEC, "encode: no RSA id refused");
	m.n_specs = 1;
	tk_linkspec_legacy_id(&m.specs[0], rsa);
	tap_eq_long(tk_relay_extend2_encode(&m, out, sizeof out),
		    TK_RELAY_ELINKSPEC, "encode: no address refused");
	m.n_specs = 3;
	tk_linkspec_ipv4(&m.specs[0], ip, 5000);
	tk_linkspec_legacy_id(&m.specs[1], rsa);
	tk_linkspec_legacy_id(&m.specs[2], rsa);
	tap_eq_long(tk_relay_extend2_encode(&m, out, sizeof out),
		    TK_RELAY_ELINKSPEC, "encode: two RSA ids refused");
	m.n_specs = 2;
	m.specs[0].len = 5;
	tap_eq_long(tk_relay_extend2_encode(&m, out, sizeof out),
		    TK_RELAY_ELINKSPEC, "encode: IPv4 spec of 5 bytes");
	tk_linkspec_ipv4(&m.specs[0], ip, 5000);
	tap_eq_long(tk_relay_extend2_encode(&m, out, 50), TK_RELAY_ESPACE,
		    "encode: small buffer");
	m.hlen = 480;
	uint8_t bighs[480] = { 0 };
	m.hdata = bighs;
	tap_eq_long(tk_relay_extend2_encode(&m, out, sizeof out),
		    TK_RELAY_ETOOBIG, "encode: over 498 bytes");

	/* Decoder: wrong length for a known type, unknown type kept. */
	wl = unhex("01 00 05 7F00000113 0002 0000");
	tap_eq_long(tk_relay_extend2_decode(want, wl, &d), TK_RELAY_ELINKSPEC,
		    "IPv4 specifier of 5 bytes rejected");
	wl = unhex("02 02 14 000102030405060708090a0b0c0d0e0f10111213"
		   " 2a 02 abcd 0002 0001 ff");
	tap_ok(tk_relay_extend2_decode(want, wl, &d) == 0 && d.n_specs == 2 &&
		       d.specs[1].type == 0x2a && d.specs[1].len == 2 &&
		       d.hlen == 1,
	       "unknown specifier type kept");
	wl = unhex("09");
	tap_eq_long(tk_relay_extend2_decode(want, wl, &d), TK_RELAY_ELINKSPEC,
		    "more than 8 specifiers rejected");
}

static void test_extended2_and_small(void)
{
	tk_relay_extended2 e;
	uint8_t reason;
	size_t wl;
	int n;

	/* [arti] */
	wl = unhex("0040 0026619058EB2661834D54C2624828728F28915587CDAD1AD3373B85"
		   "F33A480EEA9D3B2CEF8D39C1DBD2FA519E75296B96960690C79A28D6A0"
		   "D9454F8E9634BD");
	tap_ok(tk_relay_extended2_decode(want, wl, &e) == 0 && e.hlen == 64 &&
		       e.hdata == want + 2,
	       "EXTENDED2 decodes");
	n = tk_relay_extended2_encode(want + 2, 64, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, want, wl,
		     "EXTENDED2 round trip");
	tap_eq_long(tk_relay_extended2_decode(want, wl - 1, &e),
		    TK_RELAY_ETRUNC, "EXTENDED2 short by one");
	tap_eq_long(tk_relay_extended2_decode(want, 1, &e), TK_RELAY_ETRUNC,
		    "EXTENDED2 without length");
	tap_ok(tk_relay_extended2_decode(want, 0, &e) == TK_RELAY_ETRUNC &&
		       e.hdata == NULL,
	       "EXTENDED2 empty");

	tap_ok(tk_relay_truncated_decode((const uint8_t *)"\x08", 1,
					 &reason) == 0 &&
		       reason == 8,
	       "TRUNCATED reason 8 [arti]");
	tap_ok(tk_relay_truncated_decode(NULL, 0, &reason) == 0 && reason == 0,
	       "TRUNCATED empty: reason NONE");
	n = tk_relay_truncated_encode(8, out, sizeof out);
	tap_eq_bytes(out, n > 0 ? (size_t)n : 0, "\x08", 1, "TRUNCATED encode");

	tap_eq_long(tk_relay_data_check(498), 0, "DATA of 498 ok");
	tap_eq_long(tk_relay_data_check(499), TK_RELAY_ETOOBIG,
		    "DATA of 499 refused");
	tap_ok(strlen(tk_relay_strerror(TK_RELAY_ELINKSPEC)) > 10 &&
		       strcmp(tk_relay_strerror(-99),
			      "unknown relay message error") == 0,
	       "error strings");
	tap_ok(TK_RELAY_DATA_MAX == 498, "relay body maximum is 498");
}

int main(void)
{
	test_begin();
	test_connected();
	test_end();
	test_resolve();
	test_resolved();
	test_resolved_tor_cases();
	test_begin_connected_tor_cases();
	test_sendme();
	test_extend2();
	test_extended2_and_small();
	return tap_done();
}
