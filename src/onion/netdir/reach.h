/* Which OR address of a relay a client connects to: tor's ClientUseIPv4,
 * ClientUseIPv6 and ClientPreferIPv6ORPort (tor's policies.c, "reachable
 * address" rules), for the connections a client makes itself — first
 * hops (guards) and one-hop directory connections. Hops reached through
 * EXTEND2 are not chosen here: tor's client names only a relay's IPv4
 * ORPort there (extend_info_from_node for a non-direct connection), and
 * so do we.
 *
 * Tor's rules, kept as they are:
 *  - IPv6 is used when ClientUseIPv6 is 1, ClientUseIPv4 is 0 or
 *    ClientPreferIPv6ORPort is 1 (any of them);
 *  - IPv4 is used unless ClientUseIPv4 is 0;
 *  - IPv6 is preferred when ClientUseIPv4 is 0, or when
 *    ClientPreferIPv6ORPort is 1 and IPv6 is used; auto (the default)
 *    prefers IPv4;
 *  - of a relay's allowed addresses the preferred family wins, else the
 *    other; a relay with no allowed address cannot be a first hop. */
#ifndef TK_ONION_NETDIR_REACH_H
#define TK_ONION_NETDIR_REACH_H

#include <stdint.h>
#include <sys/socket.h>

struct tk_router;
struct tk_microdesc;

/* All zero is tor's defaults (IPv4 only), so a configuration that
 * does not mention these gets them. */
struct tk_reach {
	int no_ipv4;	 /* ClientUseIPv4 0 (tor's default 1) */
	int use_ipv6;	 /* ClientUseIPv6 1 (tor's default 0) */
	int prefer_ipv6; /* ClientPreferIPv6ORPort 1 (0 and auto, the
			    default, both prefer IPv4 for a relay) */
};

/* Tor's defaults: IPv4 only (all zero). */
void tk_reach_init(struct tk_reach *r);

/* 1 if IPv6 ORPorts may be used at all (tor's reachable_addr_use_ipv6). */
int tk_reach_uses_ipv6(const struct tk_reach *r);
/* 1 if IPv6 is preferred where a relay has both. */
int tk_reach_prefers_ipv6(const struct tk_reach *r);

/* The family to connect over for a relay with an IPv4 ORPort (has4)
 * and/or an IPv6 one (has6): AF_INET, AF_INET6, or 0 if neither is
 * allowed. */
int tk_reach_choose(const struct tk_reach *r, int has4, int has6);

/* A relay's IPv6 ORPort: the consensus "a" line, else its
 * microdescriptor's (md may be NULL). 1 with addr/port, or 0. */
int tk_reach_node_ipv6(const struct tk_router *rt,
		       const struct tk_microdesc *md, uint8_t addr[16],
		       uint16_t *port);

/* The ORPort to connect to for a relay, filled into out (sockaddr_in or
 * sockaddr_in6). Returns its family, or 0 (out zeroed) if the relay has
 * no address r allows. */
int tk_reach_node_orport(const struct tk_reach *r, const struct tk_router *rt,
			 const struct tk_microdesc *md,
			 struct sockaddr_storage *out);

/* The same for addresses already in socket form: v4 (AF_INET, or
 * anything else for none) and v6 (AF_INET6, or NULL/other for none). */
int tk_reach_pick(const struct tk_reach *r, const struct sockaddr_storage *v4,
		  const struct sockaddr_storage *v6,
		  struct sockaddr_storage *out);

#endif
