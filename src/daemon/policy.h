/* policy.h — Tor-syntax address policies, for ExitPolicy and SocksPolicy.
 *
 *   accept|reject|accept6|reject6  ADDR[/MASK][:PORT[-PORT]]
 *
 * ADDR is an IPv4 address, [IPv6], `*` (any), `*4`, `*6`, or `private`
 * (Tor's private and local ranges). MASK is a prefix length or, for IPv4,
 * a dotted netmask. PORT is a number, a range, or `*`. One value may hold
 * several rules separated by commas. The first matching rule wins. */
#ifndef TK_DAEMON_POLICY_H
#define TK_DAEMON_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

struct tk_policy_rule {
	uint8_t accept;
	uint8_t family; /* 0 = any, else AF_INET / AF_INET6 */
	uint8_t bits;	/* prefix length */
	uint8_t addr[16];
	uint16_t port_min, port_max;
};

struct tk_policy {
	struct tk_policy_rule *rules;
	size_t n, cap;
};

/* Append the rules in `value`. `need_port` 0 lets ":PORT" be omitted
 * (SocksPolicy), meaning every port. 0, or -1 with err set. */
int tk_policy_parse(struct tk_policy *p, const char *value, int need_port,
		    char *err, size_t errlen);
/* Append the rules a `private` address stands for, with `accept`. */
int tk_policy_add_private(struct tk_policy *p, int accept, int port_min,
			  int port_max);
int tk_policy_add(struct tk_policy *p, const struct tk_policy_rule *r);
/* 1 accept, 0 reject, -1 no rule matched. `addr` in network order. */
int tk_policy_match(const struct tk_policy *p, int family, const uint8_t *addr,
		    uint16_t port);
void tk_policy_free(struct tk_policy *p);
int tk_policy_copy(struct tk_policy *dst, const struct tk_policy *src);

#endif
