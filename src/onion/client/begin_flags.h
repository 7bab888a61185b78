/* begin_flags.h: the FLAGS field of a BEGIN, as tor's client sets it. */
#ifndef TK_ONION_CLIENT_BEGIN_FLAGS_H
#define TK_ONION_CLIENT_BEGIN_FLAGS_H

#include <stdint.h>

#include "onion/netdoc/policy_summary.h"

/* TK_BEGIN_FLAG_* (relay_msg.h, tor-spec 6.2) for a BEGIN to host:port
 * through an exit whose microdescriptor's IPv6 policy summary ("p6"; an
 * absent line rejects every port) is exit_p6. As tor's client on a
 * SocksPort with IPv4Traffic and IPv6Traffic on (tor's default, and the
 * only kind torkit has): IPV6_OK when the exit may exit to IPv6 on that
 * port, whatever the target, and then IPV6_PREFERRED too on a PreferIPv6
 * port (prefer_ipv6); never IPV4_NOT_OK. One difference: an IPv6 literal
 * always gets IPV6_OK (doc/differences.md). */
uint32_t tk_begin_flags(const char *host, uint16_t port,
			const struct tk_policy_summary *exit_p6,
			int prefer_ipv6);

#endif
