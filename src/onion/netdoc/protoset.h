/* Subprotocol version sets as a consensus carries them: one per relay
 * (pr lines) and the client sets of the preamble (dir-spec §3.4.1). */
#ifndef TK_ONION_NETDOC_PROTOSET_H
#define TK_ONION_NETDOC_PROTOSET_H

#include <stddef.h>
#include <stdint.h>

struct tk_netdoc_item;

/* Subprotocols (pr lines, *-protocols lines); each holds a bit set of
 * versions 0..15 (no protocol has reached 10 yet; a consensus carries one
 * set per relay, so the set is kept small). Unknown names and higher
 * versions are left out here; protover.h reads whole lists. */
enum tk_proto {
	TK_PROTO_CONFLUX,
	TK_PROTO_CONS,
	TK_PROTO_DESC,
	TK_PROTO_DIRCACHE,
	TK_PROTO_FLOWCTRL,
	TK_PROTO_HSDIR,
	TK_PROTO_HSINTRO,
	TK_PROTO_HSREND,
	TK_PROTO_LINK,
	TK_PROTO_LINKAUTH,
	TK_PROTO_MICRODESC,
	TK_PROTO_PADDING,
	TK_PROTO_RELAY,
	TK_PROTO_COUNT
};

#define TK_PROTO_MAX_VERSION 15
struct tk_protoset {
	uint16_t v[TK_PROTO_COUNT];
};

/* 1 if the set has version `version` of `proto` (s NULL: the empty
 * set). */
int tk_protoset_has(const struct tk_protoset *s, enum tk_proto proto,
		    unsigned version);

/* 1 if `have` includes every version `need` lists (e.g. our supported
 * protocols against required-client-protocols). Otherwise 0, and the
 * first missing one is named in missing ("Relay=3"). */
int tk_protoset_covers(const struct tk_protoset *have,
		       const struct tk_protoset *need, char *missing,
		       size_t len);

/* Reads the arguments of a pr or *-protocols item ("Name=1-3,5
 * Name2=4") into out: unknown names and versions above
 * TK_PROTO_MAX_VERSION are left out. 0, or -1 if the list is malformed. */
int tk_protoset_parse(const struct tk_netdoc_item *it, struct tk_protoset *out);

#endif
