/* guards.h: guard-spec's sampled, filtered, confirmed and primary sets. */
#include "onion/guard/guards.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/guard/guards_int.h"
#include "onion/netdoc/consensus.h"

#define DAY (86400)
#define HOUR (3600)

/* guard-spec 4.0: flags every guard needs, so that any guard serves
 * any circuit and directory request. */
#define GUARD_FLAGS                                              \
	(TK_RF_GUARD | TK_RF_STABLE | TK_RF_FAST | TK_RF_V2DIR | \
	 TK_RF_RUNNING | TK_RF_VALID)

void
tk_guard_params_init(struct tk_guard_params *p)
{
	p->min_filtered_sample = 20;
	p->max_sample_size = 60;
	p->max_sample_threshold_pct = 20;
	p->lifetime_s = 120 * (int64_t)DAY;
	p->remove_unlisted_after_s = 20 * (int64_t)DAY;
	p->confirmed_min_lifetime_s = 60 * (int64_t)DAY;
	p->internet_likely_down_s = 600;
	p->n_primary = 3;
	p->n_primary_to_use = 1;
	p->n_primary_dir_to_use = 3;
}

void
tk_guard_params_from_consensus(struct tk_guard_params *p,
			       const struct tk_consensus *c)
{
	tk_guard_params_init(p);
	if (!c)
		return;
	/* Ranges as tor clamps them; the sample caps stay under ours. */
	p->min_filtered_sample =
		(unsigned)tk_consensus_param(c,
					     "guard-min-filtered-sample-size",
					     20, 1, TK_GUARDS_MAX);
	p->max_sample_size =
		(unsigned)tk_consensus_param(c, "guard-max-sample-size", 60, 1,
					     TK_GUARDS_MAX);
	p->max_sample_threshold_pct = (unsigned)
		tk_consensus_param(c, "guard-max-sample-threshold-percent", 20,
				   1, 100);
	p->lifetime_s = (int64_t)tk_consensus_param(c, "guard-lifetime-days",
						    120, 1, 3650) *
			DAY;
	p->remove_unlisted_after_s =
		(int64_t)tk_consensus_param(
			c, "guard-remove-unlisted-guards-after-days", 20, 1,
			365) *
		DAY;
	p->confirmed_min_lifetime_s =
		(int64_t)tk_consensus_param(c,
					    "guard-confirmed-min-lifetime-days",
					    60, 1, 3650) *
		DAY;
	p->internet_likely_down_s =
		tk_consensus_param(c, "guard-internet-likely-down-interval",
				   600, 1, 86400);
	p->n_primary = (unsigned)tk_consensus_param(c, "guard-n-primary-guards",
						    3, 1, 32);
	p->n_primary_to_use =
		(unsigned)tk_consensus_param(c, "guard-n-primary-guards-to-use",
					     1, 1, 32);
	p->n_primary_dir_to_use = (unsigned)
		tk_consensus_param(c, "guard-n-primary-dir-guards-to-use", 3, 1,
				   32);
}

tk_guards *
tk_guards_new(void)
{
	tk_guards *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	tk_guard_params_init(&g->p);
	g->rng.next = tk_path_rng_system;
	return g;
}

void
tk_guards_free(tk_guards *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n_other; i++)
		free(g->other[i]);
	free(g);
}

void
tk_guards_set_params(tk_guards *g, const struct tk_guard_params *p)
{
	g->p = *p;
}

const struct tk_guard_params *
tk_guards_params(const tk_guards *g)
{
	return &g->p;
}

uint64_t
tk__guards_below(tk_guards *g, uint64_t n)
{
	/* 64-bit draws: the modulo bias is far below anything observable. */
	return n ? g->rng.next(g->rng.arg) % n : 0;
}

static struct tk__guard *
find_member(tk_guards *g, const uint8_t id[20])
{
	for (size_t i = 0; i < g->n; i++)
		if (memcmp(g->m[i].rsa_id, id, 20) == 0)
			return &g->m[i];
	return NULL;
}

/* In {GUARDS}: what the consensus must say for a relay to be sampled. */
static int
eligible(const struct tk_path_node *n, const struct tk_path_opts *o)
{
	struct tk_path_opts po = *o;
	po.need_stable = 1;
	po.need_fast = 1;
	return (n->rt->flags & GUARD_FLAGS) == GUARD_FLAGS &&
	       tk_path_flags_ok(n->rt, TK_PATH_GUARD, &po);
}

static void
remove_member(tk_guards *g, size_t i)
{
	memmove(&g->m[i], &g->m[i + 1], (g->n - i - 1) * sizeof g->m[0]);
	g->n--;
	g->dirty = 1;
}

/* Compacts confirmed_idx to 0.. in the current order. */
static void
renumber(tk_guards *g)
{
	size_t ord[TK_GUARDS_MAX], n = 0;

	/* Confirmed members by index, ties (a damaged file) in sample
	 * order; then 0, 1, 2... */
	for (size_t i = 0; i < g->n; i++) {
		size_t j;
		if (g->m[i].confirmed_idx < 0)
			continue;
		for (j = n; j > 0 && g->m[ord[j - 1]].confirmed_idx >
					     g->m[i].confirmed_idx;
		     j--)
			ord[j] = ord[j - 1];
		ord[j] = i;
		n++;
	}
	for (size_t r = 0; r < n; r++)
		g->m[ord[r]].confirmed_idx = (long)r;
}

/* guard-spec 4.10: listed state and expiry, once per consensus. */
static void
update_listed(tk_guards *g, const struct tk_nodes *t,
	      const struct tk_path_opts *o, int64_t now_s)
{
	int removed = 0;

	if (g->seen_cons == t->c && g->seen_valid_after == t->c->valid_after)
		return;
	g->seen_cons = t->c;
	g->seen_valid_after = t->c->valid_after;
	for (size_t i = 0; i < g->n; i++) {
		struct tk__guard *m = &g->m[i];
		long k = tk_nodes_find(t, m->rsa_id);
		int listed = k >= 0 && eligible(&t->node[k], o);
		if (listed && !m->listed) {
			m->listed = 1;
			m->unlisted_since = 0;
			g->dirty = 1;
		} else if (!listed && m->listed) {
			m->listed = 0;
			m->unlisted_since =
				now_s -
				(int64_t)tk__guards_below(
					g,
					(uint64_t)g->p.remove_unlisted_after_s /
						5);
			g->dirty = 1;
		}
		if (listed && strcmp(m->nickname, t->node[k].rt->nickname)) {
			snprintf(m->nickname, sizeof m->nickname, "%s",
				 t->node[k].rt->nickname);
			g->dirty = 1;
		}
	}
	for (size_t i = g->n; i-- > 0;) {
		struct tk__guard *m = &g->m[i];
		int unlisted_long = !m->listed &&
				    now_s - m->unlisted_since >
					    g->p.remove_unlisted_after_s;
		int old = now_s - m->sampled_on > g->p.lifetime_s &&
			  (!m->confirmed_on ||
			   now_s - m->confirmed_on >
				   g->p.confirmed_min_lifetime_s);
		if (unlisted_long || old) {
			remove_member(g, i);
			removed = 1;
		}
	}
	if (removed)
		renumber(g);
}

/* guard-spec A.1: how long a failing guard stays "no", by how long it
 * has been failing. */
static int64_t
retry_delay(int primary, int64_t failing_for)
{
	static const int64_t prim[4] = { 10 * 60, 90 * 60, 4 * HOUR, 9 * HOUR };
	static const int64_t other[4] = { HOUR, 4 * HOUR, 18 * HOUR,
					  36 * HOUR };
	const int64_t *s = primary ? prim : other;
	if (failing_for < 6 * HOUR)
		return s[0];
	if (failing_for < 4 * DAY)
		return s[1];
	if (failing_for < 7 * DAY)
		return s[2];
	return s[3];
}

static void
update_retries(tk_guards *g, int64_t now_s)
{
	for (size_t i = 0; i < g->n; i++) {
		struct tk__guard *m = &g->m[i];
		if (m->reach != TK__REACH_NO)
			continue;
		if (now_s >=
		    m->last_tried + retry_delay(m->primary_rank != 0,
						now_s - m->failing_since))
			m->reach = TK__REACH_MAYBE;
	}
}

/* The node index of each member in t (-1: not in it, or not usable as
 * first hop now): FILTERED membership. */
static void
map_nodes(const tk_guards *g, const struct tk_nodes *t,
	  const struct tk_path_opts *o, long *node_of)
{
	for (size_t i = 0; i < g->n; i++) {
		long k = g->m[i].listed ? tk_nodes_find(t, g->m[i].rsa_id) : -1;
		if (k >= 0 && (!eligible(&t->node[k], o) ||
			       !tk_path_usable(&t->node[k], TK_PATH_GUARD, o)))
			k = -1;
		node_of[i] = k;
	}
}

/* guard-spec 4.1/4.2: grows the sample while fewer than
 * min_filtered_sample members are usable, up to the count and
 * bandwidth-share bounds. */
static void
expand_sample(tk_guards *g, const struct tk_nodes *t,
	      const struct tk_path_opts *o, int64_t now_s, long *node_of)
{
	struct tk_path_weights w;
	unsigned char *in;
	uint64_t total_bw = 0, sampled_bw = 0;
	size_t n_usable = 0;
	size_t cap = g->p.max_sample_size;

	if (cap < g->p.min_filtered_sample)
		cap = g->p.min_filtered_sample;
	if (cap > TK_GUARDS_MAX)
		cap = TK_GUARDS_MAX;
	for (size_t i = 0; i < g->n; i++)
		if (node_of[i] >= 0 && g->m[i].reach != TK__REACH_NO)
			n_usable++;
	if (n_usable >= g->p.min_filtered_sample || g->n >= cap)
		return;
	in = calloc(t->n ? t->n : 1, 1);
	if (!in)
		return;
	tk_path_weights_init(&w, t->c);
	for (size_t i = 0; i < g->n; i++) {
		long k = tk_nodes_find(t, g->m[i].rsa_id);
		if (k >= 0) {
			in[k] = 1;
			sampled_bw += tk_path_weight(&t->node[k], TK_PATH_GUARD,
						     &w);
		}
	}
	for (size_t k = 0; k < t->n; k++)
		if (eligible(&t->node[k], o))
			total_bw += tk_path_weight(&t->node[k], TK_PATH_GUARD,
						   &w);
	while (n_usable < g->p.min_filtered_sample && g->n < cap) {
		uint64_t avail = 0, count = 0, x;
		long pick = -1;
		/* Past min_filtered_sample members, the sample may not hold
		 * more than its share of the guard bandwidth. */
		if (g->n >= g->p.min_filtered_sample && total_bw &&
		    sampled_bw * 100 >=
			    total_bw * (uint64_t)g->p.max_sample_threshold_pct)
			break;
		for (size_t k = 0; k < t->n; k++)
			if (!in[k] && eligible(&t->node[k], o)) {
				count++;
				avail += tk_path_weight(&t->node[k],
							TK_PATH_GUARD, &w);
			}
		if (!count)
			break;
		/* All weights zero (a fresh network): uniform. */
		x = tk__guards_below(g, avail ? avail : count);
		for (size_t k = 0; k < t->n && pick < 0; k++) {
			uint64_t wk;
			if (in[k] || !eligible(&t->node[k], o))
				continue;
			wk = avail ? tk_path_weight(&t->node[k], TK_PATH_GUARD,
						    &w)
				   : 1;
			if (x < wk)
				pick = (long)k;
			else
				x -= wk;
		}
		if (pick < 0)
			break;
		in[pick] = 1;
		sampled_bw += tk_path_weight(&t->node[pick], TK_PATH_GUARD, &w);
		{
			struct tk__guard *m = &g->m[g->n];
			memset(m, 0, sizeof *m);
			memcpy(m->rsa_id, t->node[pick].rt->rsa_id, 20);
			snprintf(m->nickname, sizeof m->nickname, "%s",
				 t->node[pick].rt->nickname);
			m->sampled_on = now_s -
					(int64_t)tk__guards_below(
						g,
						(uint64_t)g->p.lifetime_s / 10);
			snprintf(m->sampled_by, sizeof m->sampled_by, "torkit");
			m->listed = 1;
			m->confirmed_idx = -1;
			m->reach = TK__REACH_MAYBE;
			node_of[g->n] = tk_path_usable(&t->node[pick],
						       TK_PATH_GUARD, o)
						? pick
						: -1;
			if (node_of[g->n] >= 0)
				n_usable++;
			g->n++;
			g->dirty = 1;
		}
	}
	free(in);
}

/* guard-spec 4.4: confirmed and filtered first, then the previous
 * primary guards, then filtered members in sample order. */
static void
update_primary(tk_guards *g, const long *node_of)
{
	size_t pick[32], n = 0;
	unsigned want = g->p.n_primary < 32 ? g->p.n_primary : 32;
	unsigned char chosen[TK_GUARDS_MAX] = { 0 };

	for (long idx = 0; n < want; idx++) {
		long found = -1;
		for (size_t i = 0; i < g->n; i++)
			if (g->m[i].confirmed_idx == idx)
				found = (long)i;
		if (found < 0)
			break;
		if (node_of[found] >= 0) {
			pick[n++] = (size_t)found;
			chosen[found] = 1;
		}
	}
	for (unsigned rank = 1; n < want && rank <= 32; rank++)
		for (size_t i = 0; i < g->n && n < want; i++)
			if (g->m[i].primary_rank == rank && !chosen[i] &&
			    node_of[i] >= 0) {
				pick[n++] = i;
				chosen[i] = 1;
			}
	for (size_t i = 0; i < g->n && n < want; i++)
		if (!chosen[i] && node_of[i] >= 0 &&
		    g->m[i].confirmed_idx < 0) {
			pick[n++] = i;
			chosen[i] = 1;
		}
	for (size_t i = 0; i < g->n; i++)
		g->m[i].primary_rank = 0;
	for (size_t r = 0; r < n; r++)
		g->m[pick[r]].primary_rank = (unsigned)r + 1;
}

static int
beside(const struct tk_nodes *t, long k, long exit,
       const struct tk_path_opts *o)
{
	return exit < 0 || !tk_path_conflict(&t->node[k], &t->node[exit], o);
}

/* guard-spec 4.6. n_use: how many of the first usable primary guards
 * to choose among. */
static long
select_guard(tk_guards *g, const struct tk_nodes *t, const long *node_of,
	     const struct tk_path_opts *o, long exit, unsigned n_use,
	     int64_t now_s, size_t *n_filtered, size_t *n_beside)
{
	size_t cand[32], nc = 0;
	long first_pending = -1;

	*n_filtered = *n_beside = 0;
	for (size_t i = 0; i < g->n; i++)
		if (node_of[i] >= 0) {
			(*n_filtered)++;
			if (beside(t, node_of[i], exit, o))
				(*n_beside)++;
		}
	for (unsigned rank = 1; rank <= 32 && nc < n_use && nc < 32; rank++)
		for (size_t i = 0; i < g->n; i++)
			if (g->m[i].primary_rank == rank && node_of[i] >= 0 &&
			    g->m[i].reach != TK__REACH_NO &&
			    beside(t, node_of[i], exit, o))
				cand[nc++] = i;
	if (nc) {
		size_t i = cand[tk__guards_below(g, nc)];
		g->m[i].last_tried = now_s;
		return (long)i;
	}
	/* Confirmed, in confirmed order, then the rest in sample order:
	 * one exploratory circuit at a time through each (is_pending). */
	for (int pass = 0; pass < 2; pass++) {
		for (long idx = -1;;) {
			long best = -1;
			for (size_t i = 0; i < g->n; i++) {
				const struct tk__guard *m = &g->m[i];
				int conf = m->confirmed_idx >= 0;
				if (node_of[i] < 0 ||
				    m->reach == TK__REACH_NO ||
				    !beside(t, node_of[i], exit, o))
					continue;
				if (pass == 0 && conf &&
				    m->confirmed_idx > idx &&
				    (best < 0 ||
				     m->confirmed_idx <
					     g->m[best].confirmed_idx))
					best = (long)i;
				if (pass == 1 && !conf && (long)i > idx) {
					best = (long)i;
					break;
				}
			}
			if (best < 0)
				break;
			if (first_pending < 0)
				first_pending = best;
			if (!g->m[best].pending) {
				g->m[best].pending = 1;
				g->m[best].last_tried = now_s;
				return best;
			}
			idx = pass == 0 ? g->m[best].confirmed_idx : best;
		}
	}
	if (first_pending >= 0)
		g->m[first_pending].last_tried = now_s;
	return first_pending;
}

static long
pick(tk_guards *g, const struct tk_nodes *t, const struct tk_path_opts *o,
     struct tk_path_rng *rng, int64_t now_s, long exit, unsigned n_use,
     char *err, size_t errlen)
{
	long node_of[TK_GUARDS_MAX];
	size_t n_filtered, n_beside;
	long i;

	if (rng)
		g->rng = *rng;
	if (!t || !t->c) {
		snprintf(err, errlen, "no directory");
		return -1;
	}
	renumber(g); /* loaded indexes may have gaps */
	update_listed(g, t, o, now_s);
	update_retries(g, now_s);
	map_nodes(g, t, o, node_of);
	expand_sample(g, t, o, now_s, node_of);
	update_primary(g, node_of);
	i = select_guard(g, t, node_of, o, exit, n_use, now_s, &n_filtered,
			 &n_beside);
	if (i < 0 && n_beside > 0) {
		/* Every usable guard is down: all are worth a try again
		 * (guard-spec 4.6, last case). */
		for (size_t j = 0; j < g->n; j++)
			if (g->m[j].reach == TK__REACH_NO)
				g->m[j].reach = TK__REACH_MAYBE;
		i = select_guard(g, t, node_of, o, exit, n_use, now_s,
				 &n_filtered, &n_beside);
	}
	if (i >= 0)
		return node_of[i];
	if (n_filtered > 0 && exit >= 0)
		snprintf(err, errlen,
			 "every usable guard of the sample shares relay, "
			 "family or subnet with exit %s",
			 t->node[exit].rt->nickname);
	else
		snprintf(err, errlen,
			 "no sampled guard is usable as first hop (%zu "
			 "sampled; a guard needs the Guard, Stable, Fast and "
			 "V2Dir flags and a microdescriptor)",
			 g->n);
	return -1;
}

long
tk_guards_pick_beside(tk_guards *g, const struct tk_nodes *t,
		      const struct tk_path_opts *o, struct tk_path_rng *rng,
		      int64_t now_s, long exit, char *err, size_t errlen)
{
	return pick(g, t, o, rng, now_s, exit, g->p.n_primary_to_use, err,
		    errlen);
}

long
tk_guards_pick(tk_guards *g, const struct tk_nodes *t,
	       const struct tk_path_opts *o, struct tk_path_rng *rng,
	       int64_t now_s, char *err, size_t errlen)
{
	return pick(g, t, o, rng, now_s, -1, g->p.n_primary_to_use, err,
		    errlen);
}

long
tk_guards_pick_dir(tk_guards *g, const struct tk_nodes *t,
		   const struct tk_path_opts *o, struct tk_path_rng *rng,
		   int64_t now_s, char *err, size_t errlen)
{
	return pick(g, t, o, rng, now_s, -1, g->p.n_primary_dir_to_use, err,
		    errlen);
}

int
tk_guards_usable(tk_guards *g, const struct tk_nodes *t,
		 const struct tk_path_opts *o, int64_t now_s,
		 const uint8_t rsa_id[20], long exit)
{
	struct tk__guard *m = find_member(g, rsa_id);
	long k;
	if (!m || !t || !t->c || !m->listed)
		return 0;
	update_retries(g, now_s);
	k = tk_nodes_find(t, rsa_id);
	return k >= 0 && eligible(&t->node[k], o) &&
	       tk_path_usable(&t->node[k], TK_PATH_GUARD, o) &&
	       m->reach != TK__REACH_NO && beside(t, k, exit, o);
}

/* guard-spec 4.7 */
void
tk_guards_failed(tk_guards *g, const uint8_t rsa_id[20], int64_t now_s)
{
	struct tk__guard *m = find_member(g, rsa_id);
	if (!m)
		return;
	m->reach = TK__REACH_NO;
	m->pending = 0;
	if (!m->failing_since)
		m->failing_since = now_s;
	m->last_tried = now_s;
}

/* guard-spec 4.8 */
void
tk_guards_succeeded(tk_guards *g, const uint8_t rsa_id[20], int64_t now_s)
{
	struct tk__guard *m = find_member(g, rsa_id);
	int was_offline;
	if (!m)
		return;
	was_offline = g->last_on_internet &&
		      now_s - g->last_on_internet > g->p.internet_likely_down_s;
	m->reach = TK__REACH_YES;
	m->failing_since = 0;
	m->pending = 0;
	/* Back after a long time offline through a lesser guard: the
	 * primary guards' failures were probably ours; try them again. */
	if (was_offline && !m->primary_rank)
		for (size_t i = 0; i < g->n; i++)
			if (g->m[i].primary_rank)
				g->m[i].reach = TK__REACH_MAYBE;
	g->last_on_internet = now_s;
}

void
tk_guards_confirmed(tk_guards *g, const uint8_t rsa_id[20], int64_t now_s)
{
	struct tk__guard *m = find_member(g, rsa_id);
	long next = 0;
	if (!m || m->confirmed_idx >= 0)
		return;
	for (size_t i = 0; i < g->n; i++)
		if (g->m[i].confirmed_idx >= next)
			next = g->m[i].confirmed_idx + 1;
	m->confirmed_idx = next;
	m->confirmed_on =
		now_s -
		(int64_t)tk__guards_below(g, (uint64_t)g->p.lifetime_s / 10);
	g->dirty = 1;
}

size_t
tk_guards_count(const tk_guards *g)
{
	return g->n;
}

const uint8_t *
tk_guards_rsa_id(const tk_guards *g, size_t i)
{
	return i < g->n ? g->m[i].rsa_id : NULL;
}

const char *
tk_guards_nickname(const tk_guards *g, size_t i)
{
	return i < g->n ? g->m[i].nickname : NULL;
}

int
tk_guards_is_down(const tk_guards *g, size_t i, int64_t now_s)
{
	const struct tk__guard *m;
	if (i >= g->n)
		return 0;
	m = &g->m[i];
	return m->reach == TK__REACH_NO &&
	       now_s < m->last_tried + retry_delay(m->primary_rank != 0,
						   now_s - m->failing_since);
}

long
tk_guards_confirmed_idx(const tk_guards *g, size_t i)
{
	return i < g->n ? g->m[i].confirmed_idx : -1;
}

size_t
tk_guards_primary(const tk_guards *g, size_t *out, size_t cap)
{
	size_t n = 0;
	for (unsigned rank = 1; rank <= 32; rank++)
		for (size_t i = 0; i < g->n; i++)
			if (g->m[i].primary_rank == rank && n < cap)
				out[n++] = i;
	return n;
}

int64_t
tk_guards_sampled_on(const tk_guards *g, size_t i)
{
	return i < g->n ? g->m[i].sampled_on : 0;
}

int64_t
tk_guards_confirmed_on(const tk_guards *g, size_t i)
{
	return i < g->n ? g->m[i].confirmed_on : 0;
}

int64_t
tk_guards_unlisted_since(const tk_guards *g, size_t i)
{
	return i < g->n ? g->m[i].unlisted_since : 0;
}

int
tk_guards_dirty(const tk_guards *g)
{
	return g->dirty;
}

void
tk_guards_saved(tk_guards *g)
{
	g->dirty = 0;
}
