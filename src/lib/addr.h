/* addr.h — address helpers shared by the clients and the daemon.
 *
 * Pure text/bytes work: nothing here resolves a name, opens a socket or
 * allocates. The proxy host a client is given may be a name; resolving it
 * (uv_getaddrinfo) is the caller's business. Targets are never resolved
 * locally — that is the whole point of the toolkit.
 */
#ifndef TK_ADDR_H
#define TK_ADDR_H

#include <stddef.h>
#include <stdint.h>

enum tk_endpoint_kind {
	TK_ENDPOINT_TCP = 1,
	TK_ENDPOINT_UNIX = 2,
};

#define TK_ENDPOINT_HOST_MAX 256 /* NUL included */
#define TK_ENDPOINT_PATH_MAX 108 /* sun_path, NUL included */

/* A proxy address (client side) or a listen address (daemon). */
struct tk_endpoint {
	int kind;			 /* enum tk_endpoint_kind */
	char host[TK_ENDPOINT_HOST_MAX]; /* IP literal (no brackets) or name */
	uint16_t port;
	char path[TK_ENDPOINT_PATH_MAX]; /* TK_ENDPOINT_UNIX only */
	int family;	  /* AF_INET / AF_INET6 when host is an IP
			   * literal, AF_UNSPEC (0) for a name */
	uint8_t addr[16]; /* the literal's bytes when family != 0 */
};

/* Flags for tk_endpoint_parse(). */
enum {
	TK_ENDPOINT_ALLOW_PORT_ONLY = 1 << 0, /* "9050" -> default host */
	TK_ENDPOINT_ALLOW_NO_PORT = 1 << 1,   /* "host" -> default port */
	TK_ENDPOINT_ALLOW_UNIX = 1 << 2,      /* "unix:/path" */
	TK_ENDPOINT_ALLOW_PORT_ZERO = 1 << 3, /* port 0 (ephemeral listen) */
	TK_ENDPOINT_IP_ONLY = 1 << 4,	      /* host must be an IP literal */
};

/* Parses "host:port", "[v6]:port", "v4", "v6", "[v6]", "port" or
 * "unix:/path" (forms allowed by `flags`). `default_host` fills a
 * port-only form (NULL: "127.0.0.1"); `default_port` a host-only form.
 * Returns 0, or -1 with a one-line reason in err (e.g.
 * `bad port "99999" in "x:99999": must be 1-65535`). */
int tk_endpoint_parse(struct tk_endpoint *ep, const char *text,
		      const char *default_host, uint16_t default_port,
		      unsigned flags, char *err, size_t errsz);

/* "127.0.0.1:9050", "[::1]:9050" or "unix:/path"; returns strlen or 0 if
 * cap is too small. */
size_t tk_endpoint_format(const struct tk_endpoint *ep, char *out, size_t cap);

/* IP literal -> bytes. IPv4 must be a strict dotted quad (no shorthand,
 * no octal, no leading zeros); IPv6 may be bracketed. Returns AF_INET or
 * AF_INET6 and fills out (4 or 16 bytes), or 0 if `s` is not a literal. */
int tk_ip_parse(const char *s, uint8_t out[16]);
/* The same for a counted string (need not be NUL-terminated). */
int tk_ip_parse_n(const char *s, size_t len, uint8_t out[16]);

#define TK_IP_STR_MAX 46 /* INET6_ADDRSTRLEN */

/* Bytes -> text: dotted quad, or compressed lowercase IPv6 without
 * brackets (2001:db8::1). Returns strlen, 0 on bad family or small cap. */
size_t tk_ip_format(int family, const uint8_t *a, char *out, size_t cap);

/* The PTR owner name: "4.3.2.1.in-addr.arpa" or the 32-nibble
 * "...ip6.arpa". Returns strlen, 0 on bad family or small cap (73 bytes
 * always suffice). */
#define TK_REVERSE_NAME_MAX 73
size_t tk_addr_reverse_name(int family, const uint8_t *a, char *out,
			    size_t cap);

/* Tor's string_is_valid_dest(): an IPv4/IPv6 literal (brackets allowed,
 * stripped as a pair) or a "non-RFC hostname" (labels of [A-Za-z0-9_-],
 * non-empty, not starting with '-' or '_', one trailing dot allowed).
 * Returns 1 if valid. */
int tk_addr_is_valid_dest(const char *s);

/* Tor's private and local ranges and the rest of IANA's special-purpose
 * ranges that are not globally reachable or translate to someone's own
 * IPv4 network (NAT64, 6to4); the documentation ranges are left out
 * (addr.c says why). ExitPolicyRejectPrivate, the `private` policy word,
 * the PTR refusal and ClientRejectInternalAddresses use it. */
struct tk_addr_range {
	uint8_t family; /* 4 or 6 */
	uint8_t bits;	/* prefix length */
	uint8_t addr[16];
	const char *what;
};
extern const struct tk_addr_range tk_addr_special[];
extern const size_t tk_addr_n_special;

/* 1 if the address is in one of those ranges (an IPv4-mapped IPv6
 * address: if the IPv4 address it carries is). */
int tk_addr_is_internal(int family, const uint8_t *a);

/* Names Tor treats as local for ClientRejectInternalAddresses: "localhost",
 * "local" and "*.local" (case-insensitive, a trailing dot ignored). */
int tk_addr_name_is_local(const char *name);

#endif
