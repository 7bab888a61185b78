/* Bandwidth-weighted path selection. Weights are exact integers (uint64:
 * a Bandwidth of at most 2^32 times a weight of at most the scale), and
 * the draw is an exact uniform integer below the total (rejection
 * sampling), so the statistics tests measure the rule, not rounding. */
#include "onion/netdir/path.h"

#include <string.h>

#include "onion/base/crypto.h"
#include "onion/netdoc/netdoc.h"

uint64_t
tk_path_rng_system(void *arg)
{
	uint64_t v;
	(void)arg;
	tk_random(&v, sizeof v);
	return v;
}

static int32_t
weight_or(const struct tk_consensus *c, const char *name)
{
	return c ? tk_consensus_weight(c, name, 10000) : 10000;
}

void
tk_path_weights_init(struct tk_path_weights *w, const struct tk_consensus *c)
{
	w->scale = c ? tk_consensus_param(c, "bwweightscale", 10000, 1,
					  INT32_MAX)
		     : 10000;
	w->wgg = weight_or(c, "Wgg");
	w->wgd = weight_or(c, "Wgd");
	w->wgm = weight_or(c, "Wgm");
	w->wmg = weight_or(c, "Wmg");
	w->wmm = weight_or(c, "Wmm");
	w->wme = weight_or(c, "Wme");
	w->wmd = weight_or(c, "Wmd");
	w->weg = weight_or(c, "Weg");
	w->wee = weight_or(c, "Wee");
	w->wem = weight_or(c, "Wem");
	w->wed = weight_or(c, "Wed");
}

void
tk_path_opts_init(struct tk_path_opts *o)
{
	memset(o, 0, sizeof *o);
	o->enforce_distinct_subnets = 1;
	o->need_fast = 1;
	tk_reach_init(&o->reach);
}

static int
is_exit(const struct tk_router *r)
{
	return (r->flags & TK_RF_EXIT) && !(r->flags & TK_RF_BADEXIT);
}

int
tk_path_flags_ok(const struct tk_router *r, enum tk_path_role role,
		 const struct tk_path_opts *o)
{
	const uint32_t base = TK_RF_RUNNING | TK_RF_VALID;
	if (!r || (r->flags & base) != base)
		return 0;
	if (o->need_fast && !(r->flags & TK_RF_FAST))
		return 0;
	if (o->need_stable && !(r->flags & TK_RF_STABLE))
		return 0;
	/* Relay=2 is what our relay cells need; a missing pr line (no
	 * protocol at all) is read as "old but fine". */
	if (!tk_protoset_has(r->protos, TK_PROTO_RELAY, 2) && r->protos) {
		for (int p = 0; p < TK_PROTO_COUNT; p++)
			if (r->protos->v[p])
				return 0;
	}
	switch (role) {
	case TK_PATH_GUARD:
		return (r->flags & TK_RF_GUARD) &&
		       !(r->flags & TK_RF_MIDDLEONLY);
	case TK_PATH_MIDDLE:
		return 1;
	case TK_PATH_EXIT:
		return is_exit(r) && !(r->flags & TK_RF_MIDDLEONLY);
	}
	return 0;
}

int
tk_path_usable(const struct tk_path_node *node, enum tk_path_role role,
	       const struct tk_path_opts *o)
{
	const struct tk_microdesc *md = node->md;
	struct sockaddr_storage ss;
	if (!md || !tk_path_flags_ok(node->rt, role, o))
		return 0;
	if (role == TK_PATH_GUARD)
		return tk_reach_node_orport(&o->reach, node->rt, md, &ss) != 0;
	if (role != TK_PATH_EXIT)
		return 1;
	return o->exit_port ? tk_policy_summary_allows(&md->p, o->exit_port)
			    : !tk_policy_summary_rejects_all(&md->p);
}

uint64_t
tk_path_weight(const struct tk_path_node *node, enum tk_path_role role,
	       const struct tk_path_weights *w)
{
	const struct tk_router *r = node->rt;
	int g = (r->flags & TK_RF_GUARD) != 0, e = is_exit(r);
	int32_t wt;
	switch (role) {
	case TK_PATH_GUARD:
		wt = g && e ? w->wgd : g ? w->wgg : e ? 0 : w->wgm;
		break;
	case TK_PATH_MIDDLE:
		wt = g && e ? w->wmd : g ? w->wmg : e ? w->wme : w->wmm;
		break;
	default:
		wt = g && e ? w->wed : g ? w->weg : e ? w->wee : w->wem;
		break;
	}
	/* Weights outside [0, scale] are a broken consensus: clamp. Then
	 * rescale to 10000 so that Bandwidth (< 2^32) x weight summed over
	 * TK_CONS_MAX_ROUTERS relays stays below 2^64. */
	if (wt < 0)
		wt = 0;
	if (wt > w->scale)
		wt = w->scale;
	uint64_t w10k = w->scale == 10000
				? (uint64_t)wt
				: (uint64_t)wt * 10000 / (uint64_t)w->scale;
	return (uint64_t)r->bandwidth * w10k;
}

int
tk_path_conflict(const struct tk_path_node *a, const struct tk_path_node *b,
		 const struct tk_path_opts *o)
{
	if (memcmp(a->rt->rsa_id, b->rt->rsa_id, 20) == 0)
		return 1;
	/* Tor's EnforceDistinctSubnets: IPv4 /16, and IPv6 /32 for relays
	 * that have an IPv6 ORPort. */
	if (o->enforce_distinct_subnets &&
	    ((a->rt->ipv4 >> 16) == (b->rt->ipv4 >> 16) ||
	     (a->rt->has_ipv6 && b->rt->has_ipv6 &&
	      memcmp(a->rt->ipv6, b->rt->ipv6, 4) == 0)))
		return 1;
	if (a->md && b->md &&
	    tk_microdesc_same_family(a->md, a->rt->rsa_id, b->md,
				     b->rt->rsa_id))
		return 1;
	return 0;
}

/* Uniform integer in [0, n), n > 0. */
static uint64_t
below(struct tk_path_rng *rng, uint64_t n)
{
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	for (;;) {
		uint64_t v = rng->next(rng->arg);
		if (v < limit)
			return v % n;
	}
}

static int
candidate(const struct tk_path_node *nodes, size_t i, enum tk_path_role role,
	  const struct tk_path_opts *o, const size_t *avoid, size_t n_avoid)
{
	if (!tk_path_usable(&nodes[i], role, o))
		return 0;
	for (size_t k = 0; k < n_avoid; k++)
		if (tk_path_conflict(&nodes[i], &nodes[avoid[k]], o))
			return 0;
	return 1;
}

long
tk_path_pick(const struct tk_path_node *nodes, size_t n, enum tk_path_role role,
	     const struct tk_path_weights *w, const struct tk_path_opts *o,
	     const size_t *avoid, size_t n_avoid, struct tk_path_rng *rng)
{
	uint64_t total = 0;
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		if (!candidate(nodes, i, role, o, avoid, n_avoid))
			continue;
		count++;
		total += tk_path_weight(&nodes[i], role, w);
	}
	if (count == 0)
		return -1;
	/* All weights zero: uniform, as tor does for fresh networks. */
	int uniform = total == 0;
	uint64_t x = below(rng, uniform ? count : total);
	for (size_t i = 0; i < n; i++) {
		if (!candidate(nodes, i, role, o, avoid, n_avoid))
			continue;
		uint64_t wt = uniform ? 1 : tk_path_weight(&nodes[i], role, w);
		if (x < wt)
			return (long)i;
		x -= wt;
	}
	return -1; /* not reached: x < total */
}

int
tk_path_choose(const struct tk_path_node *nodes, size_t n,
	       const struct tk_path_weights *w, const struct tk_path_opts *o,
	       long guard, struct tk_path_rng *rng, size_t out[3], char *err,
	       size_t errlen)
{
	size_t chosen[3] = { 0, 0, 0 };
	size_t k = 0;
	if (guard >= (long)n)
		return tk_netdoc_err(err, errlen, "guard index out of range");
	if (guard >= 0) {
		if (!tk_path_usable(&nodes[guard], TK_PATH_GUARD, o))
			return tk_netdoc_err(err, errlen,
					     "guard %s is not usable now (not "
					     "Running/Valid/Guard, or no "
					     "microdescriptor)",
					     nodes[guard].rt
						     ? nodes[guard].rt->nickname
						     : "?");
		chosen[k++] = (size_t)guard;
	}
	long ex = tk_path_pick(nodes, n, TK_PATH_EXIT, w, o, chosen, k, rng);
	if (ex < 0) {
		if (o->exit_port)
			return tk_netdoc_err(err, errlen,
					     "no usable exit allows port %u%s",
					     o->exit_port,
					     guard >= 0 ? " apart from the "
							  "guard's family"
							: "");
		return tk_netdoc_err(err, errlen, "no usable exit relay%s",
				     guard >= 0 ? " outside the guard's family"
						: "");
	}
	chosen[k++] = (size_t)ex;
	long g = guard;
	if (g < 0) {
		g = tk_path_pick(nodes, n, TK_PATH_GUARD, w, o, chosen, k, rng);
		if (g < 0)
			return tk_netdoc_err(err, errlen,
					     "no usable guard relay distinct "
					     "from the exit%s",
					     o->enforce_distinct_subnets
						     ? " (family, /16)"
						     : " (family)");
		chosen[k++] = (size_t)g;
	}
	long m = tk_path_pick(nodes, n, TK_PATH_MIDDLE, w, o, chosen, k, rng);
	if (m < 0)
		return tk_netdoc_err(err, errlen,
				     "no usable middle relay distinct from "
				     "guard and exit%s",
				     o->enforce_distinct_subnets
					     ? " (family, /16)"
					     : " (family)");
	out[0] = (size_t)g;
	out[1] = (size_t)m;
	out[2] = (size_t)ex;
	return 0;
}
