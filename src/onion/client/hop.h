/* hop.h: a relay of the node table as a hop to build a circuit to. */
#ifndef TK_ONION_CLIENT_HOP_H
#define TK_ONION_CLIENT_HOP_H

#include "onion/circ/circuit.h"
#include "onion/netdir/path.h"

/* n's identities, ntor key and IPv4 ORPort: what tor's client names in
 * EXTEND2 (only a first hop may go to an IPv6 ORPort, circmgr_build.c). */
void tk_hop_from_node(const struct tk_path_node *n, tk_circuit_hop_target *h);

#endif
