/* Unit tests for src/lib/addr.c: endpoints, IP literals, PTR names,
 * Tor's string_is_valid_dest rule, internal ranges. */
#include "lib/addr.h"

#include "../unit/tap.h"

#include <sys/socket.h>

#define ALL (TK_ENDPOINT_ALLOW_PORT_ONLY | TK_ENDPOINT_ALLOW_NO_PORT | \
	     TK_ENDPOINT_ALLOW_UNIX)

static const struct ep_row {
	const char *text;
	unsigned flags;
	int ok;
	const char *want; /* tk_endpoint_format() or the error text */
	int family;
} ep_rows[] = {
	{"127.0.0.1:9050", 0, 1, "127.0.0.1:9050", AF_INET},
	{"[::1]:9050", 0, 1, "[::1]:9050", AF_INET6},
	{"[2001:DB8::1]:1", 0, 1, "[2001:DB8::1]:1", AF_INET6},
	{"localhost:9150", 0, 1, "localhost:9150", 0},
	{"tor-proxy.example_1:1", 0, 1, "tor-proxy.example_1:1", 0},
	{"10.0.0.1", TK_ENDPOINT_ALLOW_NO_PORT, 1, "10.0.0.1:9050", AF_INET},
	{"::1", TK_ENDPOINT_ALLOW_NO_PORT, 1, "[::1]:9050", AF_INET6},
	{"[::1]", TK_ENDPOINT_ALLOW_NO_PORT, 1, "[::1]:9050", AF_INET6},
	{"9999", TK_ENDPOINT_ALLOW_PORT_ONLY, 1, "127.0.0.1:9999", AF_INET},
	{"unix:/run/tor/socks", ALL, 1, "unix:/run/tor/socks", 0},
	{"127.0.0.1:0", TK_ENDPOINT_ALLOW_PORT_ZERO, 1, "127.0.0.1:0", AF_INET},
	{"x:99999", 0, 0, "bad port \"99999\" in \"x:99999\": must be 1-65535", 0},
	{"x:0", 0, 0, "bad port \"0\" in \"x:0\": must be 1-65535", 0},
	{"x:-1", 0, 0, "bad port \"-1\" in \"x:-1\": must be 1-65535", 0},
	{"x: 80", 0, 0, "bad port \" 80\" in \"x: 80\": must be 1-65535", 0},
	{"x:", 0, 0, "bad port \"\" in \"x:\": must be 1-65535", 0},
	{":80", 0, 0, "missing host in \":80\"", 0},
	{"", 0, 0, "empty address: expected host:port", 0},
	{"host", 0, 0, "missing port in \"host\": expected host:port", 0},
	{"9050", 0, 0, "missing port in \"9050\": expected host:port", 0},
	{"99999", TK_ENDPOINT_ALLOW_PORT_ONLY, 0,
	 "bad port \"99999\" in \"99999\": must be 1-65535", 0},
	{"[::1:9050", 0, 0, "\"[::1:9050\": missing ']' after IPv6 address", 0},
	{"[::1]9050", 0, 0, "\"[::1]9050\": expected ':port' after ']'", 0},
	{"[nothex]:1", 0, 0, "bad IPv6 address \"nothex\" in \"[nothex]:1\"", 0},
	{"::1:9050", 0, 0,
	 "\"::1:9050\": write an IPv6 address with a port as [v6]:port", 0},
	{"a b:1", 0, 0,
	 "bad host \"a b\" in \"a b:1\": expected a name, an IPv4 address or "
	 "[IPv6]", 0},
	{"unix:/x", 0, 0, "\"unix:/x\": unix sockets are not allowed here", 0},
	{"unix:", ALL, 0, "\"unix:\": missing socket path after unix:", 0},
	{"name:1", TK_ENDPOINT_IP_ONLY, 0,
	 "\"name\" in \"name:1\" is not an IP address (names are not resolved "
	 "here)", 0},
};

static void test_endpoints(void)
{
	for (size_t i = 0; i < sizeof ep_rows / sizeof ep_rows[0]; i++) {
		const struct ep_row *r = &ep_rows[i];
		struct tk_endpoint ep;
		char err[200], fmt[300];
		int rc = tk_endpoint_parse(&ep, r->text, NULL, 9050, r->flags,
					   err, sizeof err);
		if (r->ok) {
			tap_eq_long(rc, 0, "endpoint \"%s\" parses", r->text);
			tk_endpoint_format(&ep, fmt, sizeof fmt);
			tap_eq_str(fmt, r->want, "endpoint \"%s\" formats back",
				   r->text);
			tap_eq_long(ep.family, r->family,
				    "endpoint \"%s\" family", r->text);
		} else {
			tap_eq_long(rc, -1, "endpoint \"%s\" refused", r->text);
			tap_eq_str(err, r->want, "endpoint \"%s\" error text",
				   r->text);
		}
	}
	/* A unix path that does not fit sun_path. */
	char longp[200] = "unix:/";
	memset(longp + 6, 'p', 150);
	longp[156] = '\0';
	struct tk_endpoint ep;
	char err[200];
	tap_eq_long(tk_endpoint_parse(&ep, longp, NULL, 1, ALL, err,
				      sizeof err),
		    -1, "unix path over 107 bytes refused");
	tap_ok(strstr(err, "too long") != NULL, "... says too long: %s", err);
	tap_eq_long(tk_endpoint_parse(&ep, "unix:/tmp/s", NULL, 1, ALL, err,
				      sizeof err),
		    0, "unix endpoint");
	tap_eq_long(ep.kind, TK_ENDPOINT_UNIX, "... kind unix");
	tap_eq_str(ep.path, "/tmp/s", "... path");
	tap_eq_long(tk_endpoint_parse(&ep, "9150", "::1", 1,
				      TK_ENDPOINT_ALLOW_PORT_ONLY, err,
				      sizeof err),
		    0, "port alone with a default host");
	tap_eq_str(ep.host, "::1", "... default host used");
	tap_eq_long(ep.port, 9150, "... port");
}

static const struct ip_row {
	const char *text;
	int family;
	const char *fmt; /* formatted back */
} ip_rows[] = {
	{"1.2.3.4", AF_INET, "1.2.3.4"},
	{"0.0.0.0", AF_INET, "0.0.0.0"},
	{"255.255.255.255", AF_INET, "255.255.255.255"},
	{"256.1.1.1", 0, NULL},
	{"01.2.3.4", 0, NULL},  /* leading zero: octal in some libcs */
	{"1.2.3", 0, NULL},	/* no shorthand */
	{"1.2.3.4.", 0, NULL},
	{"1.2.3.4 ", 0, NULL},
	{"1.2.3.-4", 0, NULL},
	{"1234.1.1.1", 0, NULL},
	{"", 0, NULL},
	{"::", AF_INET6, "::"},
	{"::1", AF_INET6, "::1"},
	{"[::1]", AF_INET6, "::1"},
	{"2001:0DB8:0000:0000:0000:0000:0000:0001", AF_INET6, "2001:db8::1"},
	{"2001:db8:85a3::8a2e:370:7334", AF_INET6,
	 "2001:db8:85a3::8a2e:370:7334"},
	{"2001:db8:0:1:0:0:0:1", AF_INET6, "2001:db8:0:1::1"},
	{"::ffff:1.2.3.4", AF_INET6, "::ffff:1.2.3.4"},
	{"[1.2.3.4]", 0, NULL}, /* brackets are for IPv6 only */
	{"[::1", 0, NULL},
	{"::1]", 0, NULL},
	{"1:2:3:4:5:6:7:8:9", 0, NULL},
	{"example.com", 0, NULL},
};

static void test_ip(void)
{
	for (size_t i = 0; i < sizeof ip_rows / sizeof ip_rows[0]; i++) {
		const struct ip_row *r = &ip_rows[i];
		uint8_t a[16];
		int fam = tk_ip_parse(r->text, a);
		tap_eq_long(fam, r->family, "ip \"%s\" family", r->text);
		if (fam) {
			char buf[TK_IP_STR_MAX];
			tk_ip_format(fam, a, buf, sizeof buf);
			tap_eq_str(buf, r->fmt, "ip \"%s\" formats", r->text);
		}
	}
	uint8_t a[16];
	tap_eq_long(tk_ip_parse_n("1.2.3.4xyz", 7, a), AF_INET,
		    "counted parse stops at len");
	tap_eq_long(tk_ip_parse_n("1.2\0.3.4", 8, a), 0,
		    "counted parse refuses an embedded NUL");
	char small[8];
	tap_eq_long((long)tk_ip_format(AF_INET6, a, small, sizeof small), 0,
		    "format refuses a small buffer");
}

static void test_reverse(void)
{
	uint8_t a[16];
	char buf[TK_REVERSE_NAME_MAX];
	tk_ip_parse("192.0.2.10", a);
	tk_addr_reverse_name(AF_INET, a, buf, sizeof buf);
	tap_eq_str(buf, "10.2.0.192.in-addr.arpa", "IPv4 PTR name");
	tk_ip_parse("2001:db8::6", a);
	size_t n = tk_addr_reverse_name(AF_INET6, a, buf, sizeof buf);
	tap_eq_str(buf,
		   "6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1."
		   "0.0.2.ip6.arpa",
		   "IPv6 PTR name");
	tap_eq_long((long)n, TK_REVERSE_NAME_MAX - 1,
		    "IPv6 PTR name fills TK_REVERSE_NAME_MAX exactly");
	tap_eq_long((long)tk_addr_reverse_name(AF_INET6, a, buf, 72), 0,
		    "PTR name refuses a small buffer");
	tap_eq_long((long)tk_addr_reverse_name(12345, a, buf, sizeof buf), 0,
		    "PTR name refuses an unknown family");
}

static const struct dest_row {
	const char *s;
	int valid;
} dest_rows[] = {
	/* Tor's string_is_valid_dest() rules, and the cases of Tor's own
	 * test_socks and address tests */
	{"", 0},
	{"---", 0},
	{"\"\"\"\"\"\".com", 0},
	{"a..b", 0},
	{"1.2.3", 1},
	{"[::1]", 1},
	{"[foo]", 1}, /* Tor's quirk: the bracket pair is stripped first */
	{"[]", 0},
	{"[", 0},
	{"torproject.org", 1},
	{"torproject.org.", 1},
	{"torproject.org..", 0},
	{".", 0},
	{".torproject.org", 0},
	{"-a.com", 0},
	{"_a.com", 0},
	{"a_b-c.com", 1},
	{"a.-b", 0},
	{"8.8.8.8", 1},
	{"01.2.3.4", 1}, /* not an IP, but a fine non-RFC hostname */
	{"2001:0db8:85a3:0000:0000:8a2e:0370:7334", 1},
	{"[2001:0db8:85a3:0000:0000:8a2e:0370:7334]", 1},
	{"a b", 0},
	{"a\tb", 0},
	{"caf\xc3\xa9.example", 0},
	{"localhost", 1},
	{"x", 1},
};

static void test_valid_dest(void)
{
	for (size_t i = 0; i < sizeof dest_rows / sizeof dest_rows[0]; i++)
		tap_eq_long(tk_addr_is_valid_dest(dest_rows[i].s),
			    dest_rows[i].valid, "valid_dest(\"%s\")",
			    dest_rows[i].s);
	tap_eq_long(tk_addr_is_valid_dest(NULL), 0, "valid_dest(NULL)");
}

static const struct internal_row {
	const char *ip;
	int internal;
} internal_rows[] = {
	{"127.0.0.1", 1},   {"127.255.255.254", 1}, {"10.1.2.3", 1},
	{"172.16.0.1", 1},  {"172.31.255.255", 1},  {"172.15.0.1", 0},
	{"172.32.0.1", 0},  {"192.168.1.1", 1},	    {"192.169.1.1", 0},
	{"169.254.3.4", 1}, {"169.253.3.4", 0},	    {"100.64.0.1", 1},
	{"100.127.255.255", 1}, {"100.128.0.1", 0}, {"100.63.255.255", 0},
	{"0.1.2.3", 1},	    {"0.0.0.0", 1},	    {"8.8.8.8", 0},
	{"192.0.2.10", 0},  {"::1", 1},		    {"::", 1},
	{"::2", 1},	    {"fc00::1", 1},	    {"fdff::1", 1},
	{"fe80::1", 1},	    {"febf::1", 1},	    {"fec0::1", 1},
	{"ff02::1", 1},	    {"2001:db8::6", 0},	    {"::ffff:127.0.0.1", 1},
	{"::ffff:10.0.0.1", 1}, {"::ffff:8.8.8.8", 0},
	/* IANA special-purpose ranges beyond Tor's list */
	{"192.0.0.1", 1},   {"192.0.1.1", 0},	    {"192.88.99.1", 1},
	{"198.18.0.1", 1},  {"198.19.255.255", 1},  {"198.20.0.1", 0},
	{"198.17.255.255", 0}, {"224.0.0.1", 1},    {"239.255.255.255", 1},
	{"240.0.0.1", 1},   {"255.255.255.255", 1}, {"223.255.255.255", 0},
	{"198.51.100.1", 0}, {"203.0.113.1", 0},
	{"64:ff9b::808:808", 1}, {"64:ff9b:1::1", 1}, {"64:ff9b:2::1", 1}, /* ::/8 */
	{"100::1", 1},	    {"100:0:0:1::1", 0},    {"2001:2::1", 1},
	{"2001:3::1", 0},   {"2002:808:808::1", 1}, {"2003::1", 0},
	{"5f00::1", 1},	    {"2600::1", 0},
};

static void test_internal(void)
{
	for (size_t i = 0;
	     i < sizeof internal_rows / sizeof internal_rows[0]; i++) {
		uint8_t a[16];
		int fam = tk_ip_parse(internal_rows[i].ip, a);
		tap_eq_long(tk_addr_is_internal(fam, a),
			    internal_rows[i].internal, "is_internal(%s)",
			    internal_rows[i].ip);
	}
	static const struct {
		const char *n;
		int local;
	} names[] = {{"localhost", 1}, {"LOCALHOST.", 1}, {"local", 1},
		     {"printer.local", 1}, {"x.LOCAL", 1}, {"local.com", 0},
		     {"notlocal", 0}, {"example.com", 0}};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		tap_eq_long(tk_addr_name_is_local(names[i].n), names[i].local,
			    "name_is_local(%s)", names[i].n);
}

int main(void)
{
	test_endpoints();
	test_ip();
	test_reverse();
	test_valid_dest();
	test_internal();
	return tap_done();
}
