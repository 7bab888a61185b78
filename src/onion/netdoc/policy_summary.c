/* Port-range summaries of exit policies. Stored normalised (sorted,
 * merged) so that "allows port P" is a binary search and two summaries
 * that mean the same thing look the same. */
#include "onion/netdoc/policy_summary.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "onion/netdoc/netdoc.h"

void
tk_policy_summary_init(struct tk_policy_summary *p)
{
	p->accept = 1;
	p->n = 0;
	p->r = NULL;
}

/* The ranges live after a reference count in one allocation. */
struct ranges {
	size_t refs;
	struct tk_port_range r[];
};

static struct ranges *
ranges_of(const struct tk_port_range *r)
{
	return (struct ranges *)(void *)((char *)(uintptr_t)r -
					 offsetof(struct ranges, r));
}

void
tk_policy_summary_free(struct tk_policy_summary *p)
{
	if (p->r) {
		struct ranges *b = ranges_of(p->r);
		if (--b->refs == 0)
			free(b);
	}
	tk_policy_summary_init(p);
}

void
tk_policy_summary_share(struct tk_policy_summary *dst,
			const struct tk_policy_summary *src)
{
	if (dst == src)
		return;
	if (src->r)
		ranges_of(src->r)->refs++;
	tk_policy_summary_free(dst);
	*dst = *src;
}

int
tk_policy_summary_equal(const struct tk_policy_summary *a,
			const struct tk_policy_summary *b)
{
	return a->accept == b->accept && a->n == b->n &&
	       (a->r == b->r || memcmp(a->r, b->r, a->n * sizeof *a->r) == 0);
}

static int
parse_port(const char *s, size_t n, uint16_t *out)
{
	unsigned v = 0;
	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int
cmp_range(const void *a, const void *b)
{
	const struct tk_port_range *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

int
tk_policy_summary_parse(struct tk_policy_summary *p, const char *verb,
			size_t verblen, const char *list, size_t listlen,
			char *err, size_t errlen)
{
	int accept;
	tk_policy_summary_free(p);
	if (verblen == 6 && memcmp(verb, "accept", 6) == 0)
		accept = 1;
	else if (verblen == 6 && memcmp(verb, "reject", 6) == 0)
		accept = 0;
	else
		return tk_netdoc_err(err, errlen,
				     "policy summary must start with accept "
				     "or reject");
	size_t count = 1;
	for (size_t i = 0; i < listlen; i++)
		count += list[i] == ',';
	struct ranges *b = malloc(sizeof *b + count * sizeof *b->r);
	if (!b)
		return tk_netdoc_err(err, errlen, "out of memory");
	b->refs = 1;
	struct tk_port_range *r = b->r;
	size_t n = 0, s = 0;
	int unsorted = 0;
	for (size_t i = 0; i <= listlen; i++) {
		if (i < listlen && list[i] != ',')
			continue;
		const char *e = list + s;
		size_t elen = i - s;
		const char *dash = memchr(e, '-', elen);
		uint16_t lo, hi;
		if (dash) {
			size_t l1 = (size_t)(dash - e);
			if (parse_port(e, l1, &lo) < 0 ||
			    parse_port(dash + 1, elen - l1 - 1, &hi) < 0 ||
			    lo > hi)
				goto bad;
		} else {
			if (parse_port(e, elen, &lo) < 0)
				goto bad;
			hi = lo;
		}
		if (n > 0 &&
		    cmp_range(&r[n - 1], &(struct tk_port_range){ lo, hi }) > 0)
			unsorted = 1;
		r[n].lo = lo;
		r[n].hi = hi;
		n++;
		s = i + 1;
	}
	/* Authorities write the list in order: sort only what is not. */
	if (unsorted)
		qsort(r, n, sizeof *r, cmp_range);
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && (uint32_t)r[i].lo <= (uint32_t)r[m - 1].hi + 1) {
			if (r[i].hi > r[m - 1].hi)
				r[m - 1].hi = r[i].hi;
		} else {
			r[m++] = r[i];
		}
	}
	p->accept = accept;
	p->n = m;
	p->r = r;
	return 0;
bad:
	free(b);
	return tk_netdoc_err(err, errlen,
			     "malformed port list in policy summary "
			     "(want N or N-M, comma-separated, 1..65535)");
}

static int
listed(const struct tk_policy_summary *p, uint16_t port)
{
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (port < p->r[mid].lo)
			hi = mid;
		else if (port > p->r[mid].hi)
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

int
tk_policy_summary_allows(const struct tk_policy_summary *p, uint16_t port)
{
	if (port == 0)
		return 0;
	return listed(p, port) ? p->accept : !p->accept;
}

int
tk_policy_summary_rejects_all(const struct tk_policy_summary *p)
{
	if (p->accept)
		return p->n == 0;
	return p->n == 1 && p->r[0].lo == 1 && p->r[0].hi == 65535;
}
