/* hop.h: one conversion, shared by the circuit manager and the
 * onion-service client's HSDir, introduction and rendezvous circuits. */
#include "onion/client/hop.h"

#include <arpa/inet.h>
#include <string.h>

void
tk_hop_from_node(const struct tk_path_node *n, tk_circuit_hop_target *h)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&h->addr;

	memset(h, 0, sizeof *h);
	memcpy(h->rsa_id, n->rt->rsa_id, 20);
	if (n->md->has_ed25519) {
		h->has_ed_id = 1;
		memcpy(h->ed_id, n->md->ed25519_id, 32);
	}
	memcpy(h->ntor_key, n->md->ntor_key, 32);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(n->rt->ipv4);
	sin->sin_port = htons(n->rt->or_port);
}
