/* begin_flags.h: the FLAGS field of a BEGIN, as tor's client sets it. */
#include "onion/client/begin_flags.h"

#include <string.h>

#include "onion/cell/relay_msg.h"

uint32_t
tk_begin_flags(const char *host, uint16_t port,
	       const struct tk_policy_summary *exit_p6, int prefer_ipv6)
{
	uint32_t flags = 0;

	/* Tor picks an exit whose p6 allows the port for an IPv6 literal;
	 * ours are chosen by their IPv4 summary only, and without the flag
	 * the exit would refuse the literal outright. */
	if (strchr(host, ':'))
		flags = TK_BEGIN_FLAG_IPV6_OK;
	/* Saying "IPv6 OK" to an exit that may not exit to IPv6 on this
	 * port gains nothing, so tor says it only when the exit's IPv6
	 * policy summary allows the port. */
	else if (exit_p6 && tk_policy_summary_allows(exit_p6, port))
		flags = TK_BEGIN_FLAG_IPV6_OK;
	/* A preference means something only where both families may be
	 * used, so tor states it only then. */
	if (flags == TK_BEGIN_FLAG_IPV6_OK && prefer_ipv6)
		flags |= TK_BEGIN_FLAG_IPV6_PREFERRED;
	return flags;
}
