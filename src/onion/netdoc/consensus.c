/* Microdesc consensus parser (dir-spec §3.4.1, §3.9.2). The document is
 * read as a sequence of sections — preamble, authority entries, router
 * entries, footer, signatures — and an item in the wrong section is an
 * error, since a signed document from a real authority never has one.
 * Unknown keywords are ignored wherever they appear (forward
 * compatibility, dir-spec §1.2). */
#include "onion/netdoc/consensus.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/netdoc/netdoc.h"

enum section { SEC_PREAMBLE, SEC_SOURCES, SEC_ROUTERS, SEC_FOOTER, SEC_SIGS };

static const struct {
	const char *name;
	uint32_t bit;
} flag_names[] = {
	{ "Authority", TK_RF_AUTHORITY },
	{ "BadExit", TK_RF_BADEXIT },
	{ "Exit", TK_RF_EXIT },
	{ "Fast", TK_RF_FAST },
	{ "Guard", TK_RF_GUARD },
	{ "HSDir", TK_RF_HSDIR },
	{ "MiddleOnly", TK_RF_MIDDLEONLY },
	{ "NoEdConsensus", TK_RF_NOEDCONSENSUS },
	{ "Running", TK_RF_RUNNING },
	{ "Stable", TK_RF_STABLE },
	{ "StaleDesc", TK_RF_STALEDESC },
	{ "Sybil", TK_RF_SYBIL },
	{ "V2Dir", TK_RF_V2DIR },
	{ "Valid", TK_RF_VALID },
};

/* The arguments of an item as one string, single spaces between them
 * (malloc'ed). */
static int
args_text(const struct tk_netdoc_item *it, char **out)
{
	size_t cur = 0, len = 0;
	struct tk_netdoc_span a;
	char *t;
	while (tk_netdoc_arg_next(it, &cur, &a))
		len += a.len + 1;
	t = malloc(len + 1);
	if (!t)
		return -1;
	len = 0;
	cur = 0;
	while (tk_netdoc_arg_next(it, &cur, &a)) {
		if (len)
			t[len++] = ' ';
		memcpy(t + len, a.p, a.len);
		len += a.len;
	}
	t[len] = '\0';
	*out = t;
	return 0;
}

static int
cmp_param(const void *a, const void *b)
{
	return strcmp(((const struct tk_cons_param *)a)->name,
		      ((const struct tk_cons_param *)b)->name);
}

/* "k=v k=v ...", values int32. */
static int
parse_kv(const struct tk_netdoc_item *it, struct tk_cons_param **out,
	 size_t *n_out, char *err, size_t errlen)
{
	size_t cur = 0, n = 0;
	struct tk_netdoc_span a;
	if (it->argc > TK_CONS_MAX_PARAMS)
		return tk_netdoc_err(err, errlen,
				     "line %zu: more than %d "
				     "parameters",
				     it->lineno, TK_CONS_MAX_PARAMS);
	struct tk_cons_param *p = calloc(it->argc ? it->argc : 1, sizeof *p);
	if (!p)
		return tk_netdoc_err(err, errlen, "out of memory");
	while (tk_netdoc_arg_next(it, &cur, &a)) {
		const char *eq = memchr(a.p, '=', a.len);
		long long v;
		size_t nl = eq ? (size_t)(eq - a.p) : 0;
		struct tk_netdoc_span vs = { eq ? eq + 1 : a.p,
					     eq ? a.len - nl - 1 : 0 };
		if (!eq || nl == 0 || nl >= sizeof p[n].name ||
		    tk_netdoc_int(vs, INT32_MIN, INT32_MAX, &v) < 0) {
			free(p);
			return tk_netdoc_err(err, errlen,
					     "line %zu: malformed %.*s entry "
					     "'%.*s'",
					     it->lineno, (int)it->kw.len,
					     it->kw.p,
					     (int)(a.len > 40 ? 40 : a.len),
					     a.p);
		}
		memcpy(p[n].name, a.p, nl);
		p[n].name[nl] = '\0';
		p[n].value = (int32_t)v;
		n++;
	}
	qsort(p, n, sizeof *p, cmp_param);
	*out = p;
	*n_out = n;
	return 0;
}

static int
item_time(const struct tk_netdoc_item *it, int64_t *t, char *err, size_t errlen)
{
	if (it->argc != 2 || tk_netdoc_time(it->argv[0], it->argv[1], t) < 0)
		return tk_netdoc_err(err, errlen,
				     "line %zu: %.*s wants YYYY-MM-DD HH:MM:SS",
				     it->lineno, (int)it->kw.len, it->kw.p);
	return 0;
}

static int
nickname(struct tk_netdoc_span s, char out[20])
{
	if (s.len < 1 || s.len > 19)
		return -1;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.p[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9')))
			return -1;
	}
	memcpy(out, s.p, s.len);
	out[s.len] = '\0';
	return 0;
}

static int
parse_r(const struct tk_netdoc_item *it, struct tk_router *r, char *err,
	size_t errlen)
{
	int64_t published;
	memset(r, 0, sizeof *r);
	if (it->argc != 7)
		return tk_netdoc_err(err, errlen,
				     "line %zu: r line has %zu arguments, want "
				     "7 (microdesc flavour)",
				     it->lineno, it->argc);
	if (nickname(it->argv[0], r->nickname) < 0)
		return tk_netdoc_err(err, errlen, "line %zu: bad nickname",
				     it->lineno);
	if (tk_netdoc_b64_exact(it->argv[1], r->rsa_id, 20) < 0)
		return tk_netdoc_err(err, errlen,
				     "line %zu: identity of %s is not 20 "
				     "bytes of base64",
				     it->lineno, r->nickname);
	/* "published" is a fixed date since method 33; checked for form. */
	if (tk_netdoc_time(it->argv[2], it->argv[3], &published) < 0 ||
	    tk_netdoc_ipv4(it->argv[4], &r->ipv4) < 0 ||
	    tk_netdoc_port(it->argv[5], &r->or_port) < 0 ||
	    tk_netdoc_port(it->argv[6], &r->dir_port) < 0 || r->or_port == 0)
		return tk_netdoc_err(err, errlen,
				     "line %zu: bad date, address or port for "
				     "%s",
				     it->lineno, r->nickname);
	return 0;
}

static void
parse_a(const struct tk_netdoc_item *it, struct tk_router *r)
{
	/* The first IPv6 ORPort only; IPv4 and unreadable ones are ignored,
	 * as tor does. */
	if (r->has_ipv6 || it->argc < 1)
		return;
	if (tk_netdoc_ipv6_orport(it->argv[0], r->ipv6, &r->ipv6_port) < 0) {
		memset(r->ipv6, 0, sizeof r->ipv6);
		r->ipv6_port = 0;
		return;
	}
	r->has_ipv6 = 1;
}

static void
parse_s(const struct tk_netdoc_item *it, struct tk_router *r)
{
	struct tk_netdoc_args st = { 0, 0 };
	struct tk_netdoc_span a;
	while (tk_netdoc_args_next(it, &st, &a))
		for (size_t i = 0; i < ARRAY_SIZE(flag_names); i++)
			if (tk_netdoc_span_is(a, flag_names[i].name)) {
				r->flags |= flag_names[i].bit;
				break;
			}
}

static int
parse_w(const struct tk_netdoc_item *it, struct tk_router *r)
{
	struct tk_netdoc_args st = { 0, 0 };
	struct tk_netdoc_span a;
	long long v;
	while (tk_netdoc_args_next(it, &st, &a)) {
		if (a.len > 10 && memcmp(a.p, "Bandwidth=", 10) == 0) {
			struct tk_netdoc_span n = { a.p + 10, a.len - 10 };
			if (tk_netdoc_int(n, 0, UINT32_MAX, &v) < 0)
				return -1;
			r->bandwidth = (uint32_t)v;
		} else if (tk_netdoc_span_is(a, "Unmeasured=1")) {
			r->bw_unmeasured = 1;
		}
	}
	return 0;
}

/* The routers' pr sets, each kept once: blocks that never move (the
 * routers point into them), the newest first. */
#define PROTOSET_BLOCK 32
struct tk_protoset_block {
	struct tk_protoset_block *next;
	size_t n;
	struct tk_protoset s[PROTOSET_BLOCK];
};

void
tk_consensus_free(struct tk_consensus *c)
{
	if (!c)
		return;
	free(c->params);
	free(c->weights);
	free(c->sources);
	free(c->routers);
	free(c->sigs);
	free(c->md_index);
	while (c->protosets) {
		struct tk_protoset_block *b = c->protosets;
		c->protosets = b->next;
		free(b);
	}
	free(c->required_client_text);
	free(c->recommended_client_text);
	free(c);
}

/* "shared-rand-*-value NumReveals Value": Value is 32 bytes in base64.
 * A malformed line leaves the value absent instead of failing the
 * consensus, as Tor does. */
static void
srv_value(const struct tk_netdoc_item *it, int *has, uint8_t out[32])
{
	long long reveals;
	*has = it->argc >= 2 &&
	       tk_netdoc_int(it->argv[0], 0, INT64_MAX, &reveals) == 0 &&
	       it->argv[1].len == 44 &&
	       tk_netdoc_b64_exact(it->argv[1], out, 32) == 0;
	if (!*has)
		memset(out, 0, 32);
}

/* What the router entry being read has seen so far. */
struct rstate {
	int m, s, w, pr, v;
};

/* The shared copy of *s, or NULL if out of memory. Only the newest
 * blocks are searched (a real consensus has a few dozen sets): a
 * consensus of all-different sets costs a copy each, not a search
 * through them all. */
static const struct tk_protoset *
intern_protoset(struct tk_consensus *c, const struct tk_protoset *s)
{
	struct tk_protoset_block *b = c->protosets;
	for (int k = 0; b && k < 8; b = b->next, k++)
		for (size_t i = 0; i < b->n; i++)
			if (memcmp(&b->s[i], s, sizeof *s) == 0)
				return &b->s[i];
	b = c->protosets;
	if (!b || b->n == PROTOSET_BLOCK) {
		b = malloc(sizeof *b);
		if (!b)
			return NULL;
		b->next = c->protosets;
		b->n = 0;
		c->protosets = b;
	}
	b->s[b->n] = *s;
	return &b->s[b->n++];
}

static int
parse_items(struct tk_netdoc_reader *rd, struct tk_consensus *c,
	    size_t *signed_end, char *err, size_t errlen)
{
	struct tk_netdoc_item it;
	char why[TK_NETDOC_ERRLEN];
	enum section sec = SEC_PREAMBLE;
	struct rstate rs = { 0, 0, 0, 0, 0 };
	struct tk_netdoc_span last_pr = { NULL, 0 }; /* pr line parsed last */
	const struct tk_protoset *last_protos = NULL;
	size_t cap_routers = c->n_routers; /* allocated by the caller */
	int seen_status = 0, seen_method = 0, seen_va = 0, seen_fu = 0;
	int seen_vu = 0, seen_delay = 0, seen_flags = 0, seen_params = 0;
	int seen_weights = 0, r;
	int seen_srv_cur = 0, seen_srv_prev = 0;
	struct tk_router *cur = NULL;

	c->n_routers = 0;
	r = tk_netdoc_next(rd, &it, why, sizeof why);
	if (r <= 0)
		return tk_netdoc_err(err, errlen, "%s",
				     r < 0 ? why : "empty document");
	if (!tk_netdoc_kw_is(&it, "network-status-version") || it.start != 0 ||
	    it.kw.p != rd->doc)
		return tk_netdoc_err(err, errlen,
				     "line 1: not a network status document");
	if (it.argc < 1 || !tk_netdoc_span_is(it.argv[0], "3"))
		return tk_netdoc_err(err, errlen,
				     "line 1: network-status-version is not 3");
	if (it.argc < 2 || !tk_netdoc_span_is(it.argv[1], "microdesc"))
		return tk_netdoc_err(err, errlen,
				     "line 1: not a microdesc-flavoured "
				     "consensus (flavour '%.*s')",
				     it.argc < 2 ? 2 : (int)it.argv[1].len,
				     it.argc < 2 ? "ns" : it.argv[1].p);

	while ((r = tk_netdoc_next(rd, &it, why, sizeof why)) == 1) {
#define ONCE(flag)                                                           \
	do {                                                                 \
		if ((flag)++)                                                \
			return tk_netdoc_err(err, errlen,                    \
					     "line %zu: %.*s appears twice", \
					     it.lineno, (int)it.kw.len,      \
					     it.kw.p);                       \
	} while (0)
#define IN(cond, what)                                                         \
	do {                                                                   \
		if (!(cond))                                                   \
			return tk_netdoc_err(                                  \
				err, errlen,                                   \
				"line %zu: %.*s outside the " what, it.lineno, \
				(int)it.kw.len, it.kw.p);                      \
	} while (0)
		if (sec == SEC_SIGS &&
		    !tk_netdoc_kw_is(&it, "directory-signature"))
			return tk_netdoc_err(err, errlen,
					     "line %zu: %.*s after the "
					     "signatures",
					     it.lineno, (int)it.kw.len,
					     it.kw.p);
		if (tk_netdoc_kw_is(&it, "vote-status")) {
			IN(sec == SEC_PREAMBLE, "preamble");
			ONCE(seen_status);
			if (it.argc != 1 ||
			    !tk_netdoc_span_is(it.argv[0], "consensus"))
				return tk_netdoc_err(err, errlen,
						     "line %zu: vote-status is "
						     "not 'consensus'",
						     it.lineno);
		} else if (tk_netdoc_kw_is(&it, "shared-rand-current-value") ||
			   tk_netdoc_kw_is(&it, "shared-rand-previous-value")) {
			int now = it.kw.p[12] ==
				  'c'; /* "shared-rand-current" */
			IN(sec == SEC_PREAMBLE, "preamble");
			if (now)
				ONCE(seen_srv_cur);
			else
				ONCE(seen_srv_prev);
			srv_value(&it,
				  now ? &c->has_srv_current
				      : &c->has_srv_previous,
				  now ? c->srv_current : c->srv_previous);
		} else if (tk_netdoc_kw_is(&it, "consensus-method")) {
			long long v;
			IN(sec == SEC_PREAMBLE, "preamble");
			ONCE(seen_method);
			if (it.argc != 1 ||
			    tk_netdoc_int(it.argv[0], 1, 100000, &v) < 0)
				return tk_netdoc_err(err, errlen,
						     "line %zu: bad "
						     "consensus-method",
						     it.lineno);
			c->consensus_method = (int)v;
		} else if (tk_netdoc_kw_is(&it, "valid-after")) {
			IN(sec == SEC_PREAMBLE, "preamble");
			ONCE(seen_va);
			if (item_time(&it, &c->valid_after, err, errlen) < 0)
				return -1;
		} else if (tk_netdoc_kw_is(&it, "fresh-until")) {
			IN(sec == SEC_PREAMBLE, "preamble");
			ONCE(seen_fu);
			if (item_time(&it, &c->fresh_until, err, errlen) < 0)
				return -1;
		} else if (tk_netdoc_kw_is(&it, "valid-until")) {
			IN(sec == SEC_PREAMBLE, "preamble");
			ONCE(seen_vu);
			if (item_time(&it, &c->valid_until, err, errlen) < 0)
				return -1;
		} else if (tk_netdoc_kw_is(&it, "voting-delay")) {
			long long v1, v2;
			IN(sec == SEC_PREAMBLE, "preamble");
			ONCE(seen_delay);
			if (it.argc != 2 ||
			    tk_netdoc_int(it.argv[0], 0, 86400, &v1) < 0 ||
			    tk_netdoc_int(it.argv[1], 0, 86400, &v2) < 0)
				return tk_netdoc_err(
					err, errlen,
					"line %zu: bad voting-delay",
					it.lineno);
			c->vote_delay = (int)v1;
			c->dist_delay = (int)v2;
		} else if (tk_netdoc_kw_is(&it, "known-flags")) {
			IN(sec == SEC_PREAMBLE, "preamble");
			ONCE(seen_flags);
		} else if (tk_netdoc_kw_is(&it, "params")) {
			IN(sec == SEC_PREAMBLE, "preamble");
			ONCE(seen_params);
			if (parse_kv(&it, &c->params, &c->n_params, err,
				     errlen) < 0)
				return -1;
		} else if (tk_netdoc_kw_is(&it, "required-client-protocols") ||
			   tk_netdoc_kw_is(&it,
					   "recommended-client-protocols")) {
			int req = it.kw.p[2] == 'q'; /* "required" */
			char **text = req ? &c->required_client_text
					  : &c->recommended_client_text;
			IN(sec == SEC_PREAMBLE, "preamble");
			if (*text)
				return tk_netdoc_err(err, errlen,
						     "line %zu: %.*s repeated",
						     it.lineno, (int)it.kw.len,
						     it.kw.p);
			if (tk_protoset_parse(&it,
					      req ? &c->required_client
						  : &c->recommended_client) < 0)
				return tk_netdoc_err(err, errlen,
						     "line %zu: malformed "
						     "protocol list",
						     it.lineno);
			if (args_text(&it, text) < 0)
				return tk_netdoc_err(err, errlen,
						     "out of memory");
		} else if (tk_netdoc_kw_is(&it, "dir-source")) {
			struct tk_dir_source *d;
			IN(sec == SEC_PREAMBLE || sec == SEC_SOURCES,
			   "authority section");
			sec = SEC_SOURCES;
			if (c->n_sources == TK_CONS_MAX_SOURCES)
				return tk_netdoc_err(err, errlen,
						     "line %zu: more than %d "
						     "dir-source entries",
						     it.lineno,
						     TK_CONS_MAX_SOURCES);
			/* Legacy-key entries ("nick-legacy") are the same
			 * authority under an old key: not counted. */
			if (it.argc >= 1 && it.argv[0].len > 7 &&
			    memcmp(it.argv[0].p + it.argv[0].len - 7, "-legacy",
				   7) == 0)
				continue;
			d = &c->sources[c->n_sources];
			memset(d, 0, sizeof *d);
			if (it.argc != 6 ||
			    nickname(it.argv[0], d->nickname) < 0 ||
			    tk_netdoc_hex_exact(it.argv[1], d->v3ident, 20) <
				    0 ||
			    tk_netdoc_ipv4(it.argv[3], &d->ipv4) < 0 ||
			    tk_netdoc_port(it.argv[4], &d->dir_port) < 0 ||
			    tk_netdoc_port(it.argv[5], &d->or_port) < 0)
				return tk_netdoc_err(err, errlen,
						     "line %zu: malformed "
						     "dir-source",
						     it.lineno);
			c->n_sources++;
		} else if (tk_netdoc_kw_is(&it, "contact") ||
			   tk_netdoc_kw_is(&it, "vote-digest")) {
			IN(sec == SEC_SOURCES, "authority section");
		} else if (tk_netdoc_kw_is(&it, "r")) {
			IN(sec != SEC_FOOTER, "router section");
			if (cur && (!rs.m || !rs.s))
				return tk_netdoc_err(err, errlen,
						     "line %zu: router %s has "
						     "no %s line",
						     it.lineno, cur->nickname,
						     !rs.m ? "m" : "s");
			sec = SEC_ROUTERS;
			if (c->n_routers == cap_routers) {
				/* tk_consensus_parse() sized the table from
				 * the document's length; this is for more
				 * "r" lines than that allows (none in a
				 * well-formed document) */
				if (cap_routers >= TK_CONS_MAX_ROUTERS)
					return tk_netdoc_err(
						err, errlen,
						"line %zu: more than %d "
						"routers",
						it.lineno, TK_CONS_MAX_ROUTERS);
				size_t ncap = cap_routers ? cap_routers * 2
							  : 64;
				if (ncap > TK_CONS_MAX_ROUTERS)
					ncap = TK_CONS_MAX_ROUTERS;
				struct tk_router *nr =
					realloc(c->routers, ncap * sizeof *nr);
				if (!nr)
					return tk_netdoc_err(err, errlen,
							     "out of memory");
				c->routers = nr;
				cap_routers = ncap;
			}
			cur = &c->routers[c->n_routers];
			if (parse_r(&it, cur, err, errlen) < 0)
				return -1;
			if (c->n_routers > 0 &&
			    memcmp(cur[-1].rsa_id, cur->rsa_id, 20) >= 0)
				return tk_netdoc_err(err, errlen,
						     "line %zu: router %s is "
						     "out of identity order or "
						     "listed twice",
						     it.lineno, cur->nickname);
			c->n_routers++;
			memset(&rs, 0, sizeof rs);
		} else if (tk_netdoc_kw_is(&it, "a")) {
			IN(sec == SEC_ROUTERS, "router section");
			parse_a(&it, cur);
		} else if (tk_netdoc_kw_is(&it, "m")) {
			IN(sec == SEC_ROUTERS, "router section");
			ONCE(rs.m);
			if (it.argc < 1 ||
			    tk_netdoc_b64_exact(it.argv[0], cur->md_digest,
						32) < 0)
				return tk_netdoc_err(
					err, errlen,
					"line %zu: m line of %s is "
					"not a base64 SHA-256 "
					"digest",
					it.lineno, cur->nickname);
		} else if (tk_netdoc_kw_is(&it, "s")) {
			IN(sec == SEC_ROUTERS, "router section");
			ONCE(rs.s);
			parse_s(&it, cur);
		} else if (tk_netdoc_kw_is(&it, "v")) {
			IN(sec == SEC_ROUTERS, "router section");
			ONCE(rs.v);
		} else if (tk_netdoc_kw_is(&it, "pr")) {
			IN(sec == SEC_ROUTERS, "router section");
			ONCE(rs.pr);
			/* Relays run a few versions of tor: most pr lines
			 * repeat the one before, parsed once. */
			if (last_pr.p && it.args.len == last_pr.len &&
			    memcmp(it.args.p, last_pr.p, last_pr.len) == 0) {
				cur->protos = last_protos;
			} else {
				struct tk_protoset ps;
				if (tk_protoset_parse(&it, &ps) < 0)
					return tk_netdoc_err(
						err, errlen,
						"line %zu: malformed pr "
						"line for %s",
						it.lineno, cur->nickname);
				cur->protos = intern_protoset(c, &ps);
				if (!cur->protos)
					return tk_netdoc_err(err, errlen,
							     "out of memory");
			}
			last_pr = it.args;
			last_protos = cur->protos;
		} else if (tk_netdoc_kw_is(&it, "w")) {
			IN(sec == SEC_ROUTERS, "router section");
			ONCE(rs.w);
			if (parse_w(&it, cur) < 0)
				return tk_netdoc_err(
					err, errlen,
					"line %zu: malformed w line "
					"for %s",
					it.lineno, cur->nickname);
		} else if (tk_netdoc_kw_is(&it, "directory-footer")) {
			IN(sec != SEC_FOOTER, "document body");
			sec = SEC_FOOTER;
		} else if (tk_netdoc_kw_is(&it, "bandwidth-weights")) {
			IN(sec == SEC_FOOTER, "footer");
			ONCE(seen_weights);
			if (parse_kv(&it, &c->weights, &c->n_weights, err,
				     errlen) < 0)
				return -1;
		} else if (tk_netdoc_kw_is(&it, "directory-signature")) {
			struct tk_cons_sig *s;
			int has_alg = it.argc == 3;
			if (sec != SEC_SIGS) {
				/* The signed text ends with the space after
				 * the first signature's keyword. */
				if (it.kw.p != rd->doc + it.start ||
				    rd->doc[it.start + it.kw.len] != ' ')
					return tk_netdoc_err(
						err, errlen,
						"line %zu: malformed "
						"directory-signature line",
						it.lineno);
				*signed_end = it.start + it.kw.len + 1;
				sec = SEC_SIGS;
			}
			if (c->n_sigs == TK_CONS_MAX_SIGS)
				return tk_netdoc_err(err, errlen,
						     "line %zu: more than %d "
						     "signatures",
						     it.lineno,
						     TK_CONS_MAX_SIGS);
			s = &c->sigs[c->n_sigs];
			memset(s, 0, sizeof *s);
			if ((it.argc != 2 && it.argc != 3) ||
			    tk_netdoc_hex_exact(it.argv[has_alg], s->v3ident,
						20) < 0 ||
			    tk_netdoc_hex_exact(it.argv[has_alg + 1],
						s->signing_digest, 20) < 0)
				return tk_netdoc_err(err, errlen,
						     "line %zu: malformed "
						     "directory-signature line",
						     it.lineno);
			s->alg = !has_alg ? TK_SIG_SHA1
				 : tk_netdoc_span_is(it.argv[0], "sha256")
					 ? TK_SIG_SHA256
				 : tk_netdoc_span_is(it.argv[0], "sha1")
					 ? TK_SIG_SHA1
					 : TK_SIG_UNKNOWN;
			long n = -1;
			if (it.has_obj &&
			    tk_netdoc_span_is(it.obj_label, "SIGNATURE"))
				n = tk_netdoc_obj_decode(&it, s->sig,
							 sizeof s->sig);
			if (n <= 0)
				return tk_netdoc_err(
					err, errlen,
					"line %zu: directory-"
					"signature has no valid "
					"SIGNATURE object (at most "
					"%d bytes)",
					it.lineno, TK_CONS_MAX_SIGLEN);
			s->siglen = (size_t)n;
			c->n_sigs++;
		}
		/* Anything else: unknown to us, ignored. */
#undef ONCE
#undef IN
	}
	if (r < 0)
		return tk_netdoc_err(err, errlen, "%s", why);
	if (cur && (!rs.m || !rs.s))
		return tk_netdoc_err(err, errlen, "router %s has no %s line",
				     cur->nickname, !rs.m ? "m" : "s");
	static const char *const names[] = {
		"vote-status", "consensus-method", "valid-after", "fresh-until",
		"valid-until", "voting-delay",	   "known-flags",
	};
	const int seen[] = { seen_status, seen_method, seen_va,	  seen_fu,
			     seen_vu,	  seen_delay,  seen_flags };
	for (size_t i = 0; i < ARRAY_SIZE(seen); i++)
		if (!seen[i])
			return tk_netdoc_err(err, errlen,
					     "consensus has no %s line",
					     names[i]);
	if (c->n_sigs == 0)
		return tk_netdoc_err(err, errlen,
				     "consensus is not signed (no "
				     "directory-signature; truncated?)");
	if (!(c->valid_after < c->fresh_until &&
	      c->fresh_until <= c->valid_until))
		return tk_netdoc_err(err, errlen,
				     "valid-after, fresh-until and valid-until "
				     "are not in order");
	return 0;
}

/* The md index: an open-addressed table (linear probing) of router
 * index + 1, at most half full, keyed by the m digest. 4 bytes a slot
 * instead of a sorted copy of every digest, and one probe instead of a
 * binary search of 32-byte compares: every microdescriptor loaded is
 * looked up here. The digests come from a document not yet verified, so
 * the hash is keyed with a secret drawn once per process and covers all
 * 32 bytes: a peer cannot line thousands of entries up on one chain. An
 * entry whose digest is already there is not added (a lookup finds the
 * first router listing it, whatever the key). */
static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t
md_hash(const uint8_t d[32])
{
	static uint64_t key;
	static int keyed;
	uint64_t h, w;
	if (!keyed) {
		tk_random(&key, sizeof key);
		keyed = 1;
	}
	h = key;
	for (int i = 0; i < 4; i++) {
		memcpy(&w, d + 8 * i, 8);
		h = mix64(h ^ w);
	}
	return h;
}

static int
build_md_index(struct tk_consensus *c)
{
	/* At most two thirds full: linear probing stays short (under two
	 * probes a hit), and 9,000 relays take 64 KB, not 128 at half. */
	size_t cap = 16;
	while (cap < c->n_routers + c->n_routers / 2)
		cap *= 2;
	c->md_index = calloc(cap, sizeof *c->md_index);
	if (!c->md_index)
		return -1;
	c->md_mask = cap - 1;
	for (size_t i = 0; i < c->n_routers; i++) {
		const uint8_t *d = c->routers[i].md_digest;
		size_t s = (size_t)md_hash(d) & c->md_mask;
		while (c->md_index[s] &&
		       memcmp(c->routers[c->md_index[s] - 1].md_digest, d,
			      32) != 0)
			s = (s + 1) & c->md_mask;
		if (!c->md_index[s])
			c->md_index[s] = (uint32_t)(i + 1);
	}
	return 0;
}

int
tk_consensus_parse(const char *doc, size_t len, struct tk_consensus **out,
		   char *err, size_t errlen)
{
	struct tk_netdoc_reader rd;
	size_t signed_end = 0;
	struct tk_consensus *c = calloc(1, sizeof *c);

	*out = NULL;
	if (!c)
		return tk_netdoc_err(err, errlen, "out of memory");
	c->sources = calloc(TK_CONS_MAX_SOURCES, sizeof *c->sources);
	c->sigs = calloc(TK_CONS_MAX_SIGS, sizeof *c->sigs);
	if (!c->sources || !c->sigs) {
		tk_consensus_free(c);
		return tk_netdoc_err(err, errlen, "out of memory");
	}
	/* The router table: room for as many routers as the document could
	 * hold (an entry takes well over 64 bytes: its r line alone does),
	 * cut to size once they are read. Only the pages written are ever
	 * resident, so the room costs address space, not memory; counting
	 * the "r" lines first was a pass over the whole document, and
	 * growing by doubling a third more memory at the peak.
	 * n_routers carries the capacity into parse_items(). */
	{
		size_t n = len / 64 + 1;
		if (n > TK_CONS_MAX_ROUTERS)
			n = TK_CONS_MAX_ROUTERS;
		c->routers = malloc(n * sizeof *c->routers);
		if (!c->routers) {
			tk_consensus_free(c);
			return tk_netdoc_err(err, errlen, "out of memory");
		}
		c->n_routers = n;
	}
	tk_netdoc_reader_init(&rd, doc, len);
	if (parse_items(&rd, c, &signed_end, err, errlen) < 0) {
		tk_consensus_free(c);
		return -1;
	}
	if (c->n_routers) {
		/* cut to size: in place, the rest goes back to the heap */
		struct tk_router *r =
			realloc(c->routers, c->n_routers * sizeof *c->routers);
		if (r)
			c->routers = r;
	}
	c->signed_len = signed_end;
	/* SHA-1 only if a signature needs it (no authority signs with it
	 * any more): each digest of a large consensus costs milliseconds */
	for (size_t i = 0; i < c->n_sigs; i++)
		if (c->sigs[i].alg == TK_SIG_SHA1) {
			tk_sha1(doc, signed_end, c->digest_sha1);
			break;
		}
	tk_sha256(doc, signed_end, c->digest_sha256);
	if (build_md_index(c) < 0) {
		tk_consensus_free(c);
		return tk_netdoc_err(err, errlen, "out of memory");
	}
	*out = c;
	return 0;
}

int64_t
tk_consensus_refetch_time(const struct tk_consensus *c, uint64_t random)
{
	int64_t start = c->fresh_until +
			(c->fresh_until - c->valid_after) * 3 / 4;
	int64_t window = (c->valid_until - start) * 7 / 8;
	if (window < 1)
		return start < c->valid_until ? start : c->valid_until;
	return start + (int64_t)(random % (uint64_t)window);
}

static const struct tk_cons_param *
find_param(const struct tk_cons_param *p, size_t n, const char *name)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(name, p[mid].name);
		if (d == 0)
			return &p[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

int32_t
tk_consensus_param(const struct tk_consensus *c, const char *name, int32_t dflt,
		   int32_t min, int32_t max)
{
	const struct tk_cons_param *p = find_param(c->params, c->n_params,
						   name);
	if (!p)
		return dflt;
	return p->value < min ? min : p->value > max ? max : p->value;
}

int32_t
tk_consensus_weight(const struct tk_consensus *c, const char *name,
		    int32_t dflt)
{
	const struct tk_cons_param *p = find_param(c->weights, c->n_weights,
						   name);
	return !p || p->value < 0 ? dflt : p->value;
}

const struct tk_router *
tk_consensus_router_by_id(const struct tk_consensus *c, const uint8_t id[20])
{
	size_t lo = 0, hi = c->n_routers;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = memcmp(id, c->routers[mid].rsa_id, 20);
		if (d == 0)
			return &c->routers[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct tk_router *
tk_consensus_router_by_md(const struct tk_consensus *c,
			  const uint8_t digest[32])
{
	size_t s = (size_t)md_hash(digest) & c->md_mask;
	uint32_t r;
	while ((r = c->md_index[s]) != 0) {
		if (memcmp(c->routers[r - 1].md_digest, digest, 32) == 0)
			return &c->routers[r - 1];
		s = (s + 1) & c->md_mask;
	}
	return NULL;
}

const struct tk_router *
tk_consensus_match_md(const struct tk_consensus *c, const uint8_t digest[32],
		      char *err, size_t errlen)
{
	const struct tk_router *r = tk_consensus_router_by_md(c, digest);
	if (!r) {
		char b64[48];
		if (tk_base64_encode(digest, 32, 0, b64, sizeof b64) < 0)
			b64[0] = '\0';
		tk_netdoc_err(
			err, errlen,
			"microdescriptor %s is listed by no m line of the "
			"consensus (tampered with, or stale)",
			b64);
	}
	return r;
}
