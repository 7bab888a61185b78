/* protoset.h: the bit sets of versions 0..TK_PROTO_MAX_VERSION. */
#include "onion/netdoc/protoset.h"

#include <string.h>

#include "onion/netdoc/netdoc.h"

static const char *const proto_names[TK_PROTO_COUNT] = {
	[TK_PROTO_CONFLUX] = "Conflux",	    [TK_PROTO_CONS] = "Cons",
	[TK_PROTO_DESC] = "Desc",	    [TK_PROTO_DIRCACHE] = "DirCache",
	[TK_PROTO_FLOWCTRL] = "FlowCtrl",   [TK_PROTO_HSDIR] = "HSDir",
	[TK_PROTO_HSINTRO] = "HSIntro",	    [TK_PROTO_HSREND] = "HSRend",
	[TK_PROTO_LINK] = "Link",	    [TK_PROTO_LINKAUTH] = "LinkAuth",
	[TK_PROTO_MICRODESC] = "Microdesc", [TK_PROTO_PADDING] = "Padding",
	[TK_PROTO_RELAY] = "Relay",
};

int
tk_protoset_has(const struct tk_protoset *s, enum tk_proto proto,
		unsigned version)
{
	if (!s || (unsigned)proto >= TK_PROTO_COUNT ||
	    version > TK_PROTO_MAX_VERSION)
		return 0;
	return (s->v[proto] >> version) & 1;
}

int
tk_protoset_covers(const struct tk_protoset *have,
		   const struct tk_protoset *need, char *missing, size_t len)
{
	for (int p = 0; p < TK_PROTO_COUNT; p++) {
		unsigned lack = (unsigned)need->v[p] & ~(unsigned)have->v[p];
		if (!lack)
			continue;
		int v = 0;
		while (!((lack >> v) & 1))
			v++;
		tk_netdoc_err(missing, len, "%s=%d", proto_names[p], v);
		return 0;
	}
	return 1;
}

/* "Name=1-3,5 Name2=4": unknown names ignored, versions 0..63. */
int
tk_protoset_parse(const struct tk_netdoc_item *it, struct tk_protoset *out)
{
	struct tk_netdoc_args st = { 0, 0 };
	struct tk_netdoc_span a;
	memset(out, 0, sizeof *out);
	while (tk_netdoc_args_next(it, &st, &a)) {
		const char *eq = memchr(a.p, '=', a.len);
		if (!eq || eq == a.p)
			return -1;
		struct tk_netdoc_span name = { a.p, (size_t)(eq - a.p) };
		const char *v = eq + 1, *end = a.p + a.len;
		uint64_t bits = 0;
		while (v < end) {
			const char *comma = memchr(v, ',', (size_t)(end - v));
			const char *e = comma ? comma : end;
			const char *dash = memchr(v, '-', (size_t)(e - v));
			long long lo, hi;
			struct tk_netdoc_span s1 = {
				v, (size_t)((dash ? dash : e) - v)
			};
			/* Versions above 15 are valid (a consensus may
			 * require one we do not know: protover.h names it);
			 * the bit set keeps 0..15. */
			if (tk_netdoc_int(s1, 0, UINT32_MAX, &lo) < 0 ||
			    s1.p[0] == '+' || s1.p[0] == '-')
				return -1;
			hi = lo;
			if (dash) {
				struct tk_netdoc_span s2 = {
					dash + 1, (size_t)(e - dash - 1)
				};
				if (tk_netdoc_int(s2, lo, UINT32_MAX, &hi) <
					    0 ||
				    s2.p[0] == '+' || s2.p[0] == '-')
					return -1;
			}
			for (long long i = lo;
			     i <= hi && i <= TK_PROTO_MAX_VERSION; i++)
				bits |= (uint64_t)1 << i;
			if (!comma)
				break;
			v = comma + 1;
			if (v == end)
				return -1; /* trailing comma */
		}
		for (int p = 0; p < TK_PROTO_COUNT; p++)
			if (tk_netdoc_span_is(name, proto_names[p]))
				out->v[p] |= (uint16_t)bits;
	}
	return 0;
}
