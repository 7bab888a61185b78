/* reach.h: the OR address a client connects to. */
#include "onion/netdir/reach.h"

#include <netinet/in.h>
#include <string.h>

#include "onion/netdoc/consensus.h"
#include "onion/netdoc/microdesc.h"

void
tk_reach_init(struct tk_reach *r)
{
	memset(r, 0, sizeof *r);
}

int
tk_reach_uses_ipv6(const struct tk_reach *r)
{
	return r->use_ipv6 || r->no_ipv4 || r->prefer_ipv6;
}

int
tk_reach_prefers_ipv6(const struct tk_reach *r)
{
	if (!tk_reach_uses_ipv6(r))
		return 0;
	return r->no_ipv4 || r->prefer_ipv6;
}

int
tk_reach_choose(const struct tk_reach *r, int has4, int has6)
{
	int ok4 = has4 && !r->no_ipv4;
	int ok6 = has6 && tk_reach_uses_ipv6(r);
	/* Tor prefers IPv6 for a relay that has it when IPv6 is preferred
	 * (or when the relay has no IPv4 address), and otherwise takes
	 * whichever allowed address there is. */
	if (ok6 && (tk_reach_prefers_ipv6(r) || !has4))
		return AF_INET6;
	if (ok4)
		return AF_INET;
	return ok6 ? AF_INET6 : 0;
}

int
tk_reach_node_ipv6(const struct tk_router *rt, const struct tk_microdesc *md,
		   uint8_t addr[16], uint16_t *port)
{
	/* As tor's node_get_pref_ipv6_orport: the consensus first. */
	if (rt && rt->has_ipv6 && rt->ipv6_port) {
		memcpy(addr, rt->ipv6, 16);
		*port = rt->ipv6_port;
		return 1;
	}
	if (md && md->ipv6_port) {
		memcpy(addr, md->ipv6, 16);
		*port = md->ipv6_port;
		return 1;
	}
	return 0;
}

int
tk_reach_node_orport(const struct tk_reach *r, const struct tk_router *rt,
		     const struct tk_microdesc *md,
		     struct sockaddr_storage *out)
{
	uint8_t a6[16] = { 0 };
	uint16_t p6 = 0;
	int has4 = rt && rt->ipv4 != 0 && rt->or_port != 0;
	int has6 = tk_reach_node_ipv6(rt, md, a6, &p6);
	int fam = tk_reach_choose(r, has4, has6);

	memset(out, 0, sizeof *out);
	if (fam == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)out;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(rt->ipv4);
		sin->sin_port = htons(rt->or_port);
	} else if (fam == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a6, 16);
		sin6->sin6_port = htons(p6);
	}
	return fam;
}

int
tk_reach_pick(const struct tk_reach *r, const struct sockaddr_storage *v4,
	      const struct sockaddr_storage *v6, struct sockaddr_storage *out)
{
	int has4 = v4 && v4->ss_family == AF_INET;
	int has6 = v6 && v6->ss_family == AF_INET6;
	int fam = tk_reach_choose(r, has4, has6);

	memset(out, 0, sizeof *out);
	if (fam == AF_INET)
		memcpy(out, v4, sizeof(struct sockaddr_in));
	else if (fam == AF_INET6)
		memcpy(out, v6, sizeof(struct sockaddr_in6));
	return fam;
}
