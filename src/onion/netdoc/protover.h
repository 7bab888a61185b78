/* Subprotocol versions (dir-spec §3.4.1, "required-client-protocols" and
 * "recommended-client-protocols"; tor-spec §9): what this client speaks,
 * and what a consensus asks of clients that it does not.
 *
 * A list is "Name=V[-V][,V[-V]...] ..." with versions up to 2^32 - 1.
 * Any name and any version a list holds counts: a protocol we never heard
 * of, or a version above the ones we know, is simply not supported. */
#ifndef TK_ONION_NETDOC_PROTOVER_H
#define TK_ONION_NETDOC_PROTOVER_H

#include <stddef.h>

/* What the tor engine implements as a client. Link=4-5: 4-byte circuit
 * ids, and padding cells are understood (dropped); Relay=2: ntor,
 * CREATE2/EXTEND2; FlowCtrl=1: authenticated SENDMEs; DirCache=2:
 * consensus diffs; Cons=2, Desc=2, Microdesc=2: the documents with
 * Ed25519 identities. Change it in the commit that implements more. */
#define TK_PROTOVER_CLIENT                                                \
	"Cons=1-2 Desc=1-2 DirCache=2 FlowCtrl=1 Link=4-5 Microdesc=1-2 " \
	"Relay=2"

/* Checks that `supported` has every version `list` names. 1 if so; 0
 * if not, with the missing ones in missing ("FlowCtrl=2 HSDir=2", in
 * list order, versions merged into ranges, cut to cap with "..."); -1 if
 * either list is malformed (missing says where). */
int tk_protover_all_supported(const char *list, const char *supported,
			      char *missing, size_t cap);

#endif
