/* addrcount.h — live clients per client address, across every loop
 * (MaxClientsPerAddress with NumCPUs: SO_REUSEPORT spreads one
 * address's connections over the loops by their source ports, so no
 * loop's own session list sees them all). */
#ifndef TK_DAEMON_ADDRCOUNT_H
#define TK_DAEMON_ADDRCOUNT_H

#include <stdint.h>

/* Count one more client of (family, addr) unless `limit` (> 0) of them
 * are counted already: 1 counted, 0 refused, -1 out of memory. AF_UNIX
 * clients are not counted (always 1). */
int tk_addrcount_take(int family, const uint8_t addr[16], unsigned limit);
/* One client of (family, addr) that tk_addrcount_take counted is gone. */
void tk_addrcount_drop(int family, const uint8_t addr[16]);

#endif
