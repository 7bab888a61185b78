/* addr.c — endpoint and IP-literal parsing, formatting, classification.
 * No resolver, no sockets, no allocation (see addr.h). */
#include "lib/addr.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Strict dotted quad as Tor's tor_inet_aton() accepts it: exactly four
 * groups of 1-3 digits, each <= 255, no leading zero (which some libcs
 * would read as octal). */
static int
parse_ipv4(const char *s, size_t len, uint8_t out[4])
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= len || s[i] != '.')
				return 0;
			i++;
		}
		size_t start = i;
		unsigned v = 0;
		while (i < len && is_digit((unsigned char)s[i]) &&
		       i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		size_t n = i - start;
		if (n == 0 || v > 255 || (n > 1 && s[start] == '0'))
			return 0;
		out[part] = (uint8_t)v;
	}
	return i == len;
}

static int
parse_ipv6(const char *s, size_t len, uint8_t out[16])
{
	char buf[TK_IP_STR_MAX + 2];
	if (len == 0 || len >= sizeof buf || memchr(s, '\0', len))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	/* inet_pton is pure text work (no resolver) and agrees with Tor on
	 * everything but exotic corner cases. */
	return inet_pton(AF_INET6, buf, out) == 1;
}

int
tk_ip_parse_n(const char *s, size_t len, uint8_t out[16])
{
	if (!s)
		return 0;
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']')
		return parse_ipv6(s + 1, len - 2, out) ? AF_INET6 : 0;
	if (parse_ipv4(s, len, out))
		return AF_INET;
	if (memchr(s, ':', len) && parse_ipv6(s, len, out))
		return AF_INET6;
	return 0;
}

int
tk_ip_parse(const char *s, uint8_t out[16])
{
	return s ? tk_ip_parse_n(s, strlen(s), out) : 0;
}

size_t
tk_ip_format(int family, const uint8_t *a, char *out, size_t cap)
{
	char buf[TK_IP_STR_MAX];
	if (family != AF_INET && family != AF_INET6)
		return 0;
	if (!inet_ntop(family, a, buf, sizeof buf))
		return 0;
	size_t n = strlen(buf);
	if (n + 1 > cap)
		return 0;
	memcpy(out, buf, n + 1);
	return n;
}

size_t
tk_addr_reverse_name(int family, const uint8_t *a, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	char buf[TK_REVERSE_NAME_MAX];
	size_t n = 0;

	if (family == AF_INET) {
		int w = snprintf(buf, sizeof buf, "%u.%u.%u.%u.in-addr.arpa",
				 a[3], a[2], a[1], a[0]);
		n = (size_t)w;
	} else if (family == AF_INET6) {
		for (int i = 15; i >= 0; i--) {
			buf[n++] = hex[a[i] & 0x0f];
			buf[n++] = '.';
			buf[n++] = hex[a[i] >> 4];
			buf[n++] = '.';
		}
		memcpy(buf + n, "ip6.arpa", sizeof "ip6.arpa");
		n += sizeof "ip6.arpa" - 1;
	} else {
		return 0;
	}
	if (n + 1 > cap)
		return 0;
	memcpy(out, buf, n + 1);
	return n;
}

/* Tor's string_is_valid_nonrfc_hostname(). */
static int
valid_nonrfc_hostname(const char *s, size_t len)
{
	uint8_t ip[4];
	if (len == 0 || parse_ipv4(s, len, ip))
		return 0;
	/* One terminating dot marks an FQDN; only if something precedes it
	 * ("." alone leaves one empty label, which fails below). */
	if (len > 1 && s[len - 1] == '.')
		len--;
	size_t i = 0;
	for (;;) {
		size_t start = i;
		while (i < len && s[i] != '.')
			i++;
		if (i == start || s[start] == '-' || s[start] == '_')
			return 0;
		for (size_t k = start; k < i; k++) {
			int c = (unsigned char)s[k];
			if (!is_alnum(c) && c != '-' && c != '_')
				return 0;
		}
		if (i == len)
			return 1;
		i++; /* the dot */
		if (i == len)
			return 0; /* "a.." after trimming one dot */
	}
}

int
tk_addr_is_valid_dest(const char *s)
{
	if (!s)
		return 0;
	size_t len = strlen(s);
	if (len == 0)
		return 0;
	/* Tor strips one bracket pair first, so "[::1]" passes — and so,
	 * quirkily, does "[foo]". */
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	uint8_t ip[16];
	if (len > 0 && (parse_ipv4(s, len, ip) ||
			(memchr(s, ':', len) && parse_ipv6(s, len, ip))))
		return 1;
	return valid_nonrfc_hostname(s, len);
}

/* Addresses a SOCKS client must not reach through us and an exit must
 * not be told about: Tor's private and local ranges, and the rest of
 * IANA's special-purpose registries (RFC 6890 and its updates) whose
 * addresses are not globally reachable, or that lead to an IPv4 address
 * of someone's own network through translation (NAT64, 6to4). Left out
 * on purpose: the documentation ranges (192.0.2.0/24, 198.51.100.0/24,
 * 203.0.113.0/24, 2001:db8::/32), which route nowhere, and which
 * examples and tests use as stand-ins for public addresses. */
#define V4(a, b, c, d, bits, what)            \
	{                                     \
		4, bits, { a, b, c, d }, what \
	}
#define V6(a0, a1, a2, a3, a4, a5, bits, what)            \
	{                                                 \
		6, bits, { a0, a1, a2, a3, a4, a5 }, what \
	}
const struct tk_addr_range tk_addr_special[] = {
	V4(0, 0, 0, 0, 8, "this network"),
	V4(10, 0, 0, 0, 8, "private use"),
	V4(100, 64, 0, 0, 10, "shared address space (CGNAT)"),
	V4(127, 0, 0, 0, 8, "loopback"),
	V4(169, 254, 0, 0, 16, "link local"),
	V4(172, 16, 0, 0, 12, "private use"),
	V4(192, 0, 0, 0, 24, "IETF protocol assignments"),
	V4(192, 88, 99, 0, 24, "6to4 relay anycast"),
	V4(192, 168, 0, 0, 16, "private use"),
	V4(198, 18, 0, 0, 15, "benchmarking"),
	V4(224, 0, 0, 0, 4, "multicast"),
	V4(240, 0, 0, 0, 4, "reserved, and broadcast"),
	V6(0, 0, 0, 0, 0, 0, 8,
	   "reserved (unspecified, loopback, "
	   "IPv4-compatible)"),
	V6(0x00, 0x64, 0xff, 0x9b, 0, 0, 96, "NAT64, well-known prefix"),
	V6(0x00, 0x64, 0xff, 0x9b, 0x00, 0x01, 48, "NAT64, local use"),
	V6(0x01, 0x00, 0, 0, 0, 0, 64, "discard only (100::/64)"),
	V6(0x20, 0x01, 0x00, 0x02, 0, 0, 48, "benchmarking (2001:2::/48)"),
	V6(0x20, 0x02, 0, 0, 0, 0, 16, "6to4"),
	V6(0x5f, 0x00, 0, 0, 0, 0, 16, "segment routing SIDs"),
	V6(0xfc, 0x00, 0, 0, 0, 0, 7, "unique local"),
	V6(0xfe, 0x80, 0, 0, 0, 0, 10, "link local"),
	V6(0xfe, 0xc0, 0, 0, 0, 0, 10, "site local (deprecated)"),
	V6(0xff, 0x00, 0, 0, 0, 0, 8, "multicast"),
};
const size_t tk_addr_n_special = sizeof tk_addr_special /
				 sizeof tk_addr_special[0];

static int
in_range(const struct tk_addr_range *r, const uint8_t *a)
{
	unsigned full = r->bits / 8, rest = r->bits % 8;

	if (memcmp(a, r->addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ r->addr[full]) & (0xff00 >> rest) & 0xff) == 0;
}

int
tk_addr_is_internal(int family, const uint8_t *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0,    0,
					    0, 0, 0, 0, 0xff, 0xff };
	int v = family == AF_INET ? 4 : family == AF_INET6 ? 6 : 0;

	if (v == 0)
		return 0;
	/* An IPv4-mapped address is the IPv4 address it carries. */
	if (v == 6 && memcmp(a, mapped, 12) == 0)
		return tk_addr_is_internal(AF_INET, a + 12);
	for (size_t i = 0; i < tk_addr_n_special; i++)
		if (tk_addr_special[i].family == v &&
		    in_range(&tk_addr_special[i], a))
			return 1;
	return 0;
}

int
tk_addr_name_is_local(const char *name)
{
	if (!name)
		return 0;
	size_t len = strlen(name);
	if (len > 1 && name[len - 1] == '.')
		len--;
	static const char *const exact[] = { "localhost", "local" };
	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(exact[i]);
		if (len == n) {
			size_t k = 0;
			while (k < n &&
			       lower((unsigned char)name[k]) == exact[i][k])
				k++;
			if (k == n)
				return 1;
		}
	}
	if (len > 6) {
		const char *suf = name + len - 6;
		static const char dotlocal[] = ".local";
		size_t k = 0;
		while (k < 6 && lower((unsigned char)suf[k]) == dotlocal[k])
			k++;
		if (k == 6)
			return 1;
	}
	return 0;
}

/* ---- endpoints */

static void set_err(char *err, size_t errsz, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
set_err(char *err, size_t errsz, const char *fmt, ...)
{
	if (!err || errsz == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
}

/* Digits only, no sign, no spaces; returns -1 if not a number at all,
 * else the value clamped to 65536 so callers can say "out of range". */
static long
parse_port_digits(const char *s, size_t len)
{
	if (len == 0)
		return -1;
	long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		if (v < 65536)
			v = v * 10 + (s[i] - '0');
	}
	return v > 65536 ? 65536 : v;
}

static int
set_port(struct tk_endpoint *ep, const char *p, size_t plen, const char *text,
	 unsigned flags, char *err, size_t errsz)
{
	long v = parse_port_digits(p, plen);
	int zero_ok = (flags & TK_ENDPOINT_ALLOW_PORT_ZERO) != 0;
	if (v < 0 || v > 65535 || (v == 0 && !zero_ok)) {
		set_err(err, errsz,
			"bad port \"%.*s\" in \"%s\": must be %s-65535",
			(int)(plen > 20 ? 20 : plen), p, text,
			zero_ok ? "0" : "1");
		return -1;
	}
	ep->port = (uint16_t)v;
	return 0;
}

static int
set_host(struct tk_endpoint *ep, const char *h, size_t hlen, int bracketed,
	 const char *text, unsigned flags, char *err, size_t errsz)
{
	if (hlen == 0) {
		set_err(err, errsz, "missing host in \"%s\"", text);
		return -1;
	}
	if (hlen >= sizeof ep->host) {
		set_err(err, errsz,
			"host too long in \"%.40s...\": at most %d "
			"characters",
			text, (int)sizeof ep->host - 1);
		return -1;
	}
	uint8_t a[16];
	int fam;
	if (bracketed) {
		fam = parse_ipv6(h, hlen, a) ? AF_INET6 : 0;
		if (!fam) {
			set_err(err, errsz,
				"bad IPv6 address \"%.*s\" in \"%s\"",
				(int)hlen, h, text);
			return -1;
		}
	} else {
		fam = tk_ip_parse_n(h, hlen, a);
	}
	if (!fam) {
		if (flags & TK_ENDPOINT_IP_ONLY) {
			set_err(err, errsz,
				"\"%.*s\" in \"%s\" is not an IP "
				"address (names are not resolved here)",
				(int)hlen, h, text);
			return -1;
		}
		/* A name for the caller to resolve: it must look like one. */
		for (size_t i = 0; i < hlen; i++) {
			int c = (unsigned char)h[i];
			if (!is_alnum(c) && c != '-' && c != '.' && c != '_') {
				set_err(err, errsz,
					"bad host \"%.*s\" in \"%s\": "
					"expected a name, an IPv4 address or "
					"[IPv6]",
					(int)hlen, h, text);
				return -1;
			}
		}
	}
	memcpy(ep->host, h, hlen);
	ep->host[hlen] = '\0';
	ep->family = fam;
	if (fam)
		memcpy(ep->addr, a, fam == AF_INET ? 4 : 16);
	return 0;
}

int
tk_endpoint_parse(struct tk_endpoint *ep, const char *text,
		  const char *default_host, uint16_t default_port,
		  unsigned flags, char *err, size_t errsz)
{
	memset(ep, 0, sizeof *ep);
	if (err && errsz)
		err[0] = '\0';
	if (!text || !*text) {
		set_err(err, errsz, "empty address: expected host:port");
		return -1;
	}
	size_t len = strlen(text);

	if (strncmp(text, "unix:", 5) == 0) {
		if (!(flags & TK_ENDPOINT_ALLOW_UNIX)) {
			set_err(err, errsz,
				"\"%s\": unix sockets are not "
				"allowed here",
				text);
			return -1;
		}
		size_t plen = len - 5;
		if (plen == 0) {
			set_err(err, errsz,
				"\"%s\": missing socket path "
				"after unix:",
				text);
			return -1;
		}
		if (plen >= sizeof ep->path) {
			set_err(err, errsz,
				"unix socket path too long in "
				"\"%.40s...\": at most %d bytes",
				text, (int)sizeof ep->path - 1);
			return -1;
		}
		ep->kind = TK_ENDPOINT_UNIX;
		memcpy(ep->path, text + 5, plen + 1);
		return 0;
	}

	ep->kind = TK_ENDPOINT_TCP;

	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close) {
			set_err(err, errsz,
				"\"%s\": missing ']' after IPv6 "
				"address",
				text);
			return -1;
		}
		size_t hlen = (size_t)(close - text - 1);
		if (set_host(ep, text + 1, hlen, 1, text, flags, err, errsz) <
		    0)
			return -1;
		const char *rest = close + 1;
		if (*rest == '\0') {
			if (!(flags & TK_ENDPOINT_ALLOW_NO_PORT)) {
				set_err(err, errsz,
					"missing port in \"%s\": "
					"expected [v6]:port",
					text);
				return -1;
			}
			ep->port = default_port;
			return 0;
		}
		if (*rest != ':') {
			set_err(err, errsz,
				"\"%s\": expected ':port' after "
				"']'",
				text);
			return -1;
		}
		return set_port(ep, rest + 1, strlen(rest + 1), text, flags,
				err, errsz);
	}

	const char *colon = strchr(text, ':');
	if (colon && strchr(colon + 1, ':')) {
		/* Several colons and no brackets: a bare IPv6 address. */
		if (!(flags & TK_ENDPOINT_ALLOW_NO_PORT)) {
			set_err(err, errsz,
				"\"%s\": write an IPv6 address with "
				"a port as [v6]:port",
				text);
			return -1;
		}
		uint8_t a[16];
		if (!parse_ipv6(text, len, a)) {
			set_err(err, errsz,
				"bad IPv6 address \"%s\" (with a "
				"port, write [v6]:port)",
				text);
			return -1;
		}
		if (set_host(ep, text, len, 0, text, flags, err, errsz) < 0)
			return -1;
		ep->port = default_port;
		return 0;
	}
	if (colon) {
		if (set_host(ep, text, (size_t)(colon - text), 0, text, flags,
			     err, errsz) < 0)
			return -1;
		return set_port(ep, colon + 1, strlen(colon + 1), text, flags,
				err, errsz);
	}

	/* No colon: a port alone, or a host alone. */
	if ((flags & TK_ENDPOINT_ALLOW_PORT_ONLY) &&
	    parse_port_digits(text, len) >= 0) {
		const char *dh = default_host ? default_host : "127.0.0.1";
		if (set_host(ep, dh, strlen(dh), 0, dh, flags, err, errsz) < 0)
			return -1;
		return set_port(ep, text, len, text, flags, err, errsz);
	}
	if (!(flags & TK_ENDPOINT_ALLOW_NO_PORT)) {
		set_err(err, errsz,
			"missing port in \"%s\": expected "
			"host:port",
			text);
		return -1;
	}
	if (set_host(ep, text, len, 0, text, flags, err, errsz) < 0)
		return -1;
	ep->port = default_port;
	return 0;
}

size_t
tk_endpoint_format(const struct tk_endpoint *ep, char *out, size_t cap)
{
	int w;
	if (ep->kind == TK_ENDPOINT_UNIX)
		w = snprintf(out, cap, "unix:%s", ep->path);
	else if (ep->family == AF_INET6 || strchr(ep->host, ':'))
		w = snprintf(out, cap, "[%s]:%u", ep->host, ep->port);
	else
		w = snprintf(out, cap, "%s:%u", ep->host, ep->port);
	if (w < 0 || (size_t)w >= cap)
		return 0;
	return (size_t)w;
}
