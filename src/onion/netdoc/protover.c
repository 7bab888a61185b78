/* protover.h: subprotocol lists. Each entry is parsed into ranges; a
 * version is supported if one range of the supported entry with the same
 * name (case-sensitive, as tor) holds it. */
#include "onion/netdoc/protover.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_RANGES 64
#define MAX_NAME 64

struct entry {
	char name[MAX_NAME];
	size_t n;
	struct {
		uint32_t lo, hi;
	} r[MAX_RANGES];
};

static int
parse_u32(const char **p, const char *end, uint32_t *out)
{
	uint64_t v = 0;
	const char *s = *p;
	if (s == end || !isdigit((unsigned char)*s))
		return -1;
	while (s < end && isdigit((unsigned char)*s)) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
		s++;
	}
	*p = s;
	*out = (uint32_t)v;
	return 0;
}

/* One "Name=ranges" word [w, end). */
static int
parse_entry(const char *w, const char *end, struct entry *e)
{
	const char *eq = memchr(w, '=', (size_t)(end - w)), *p;
	size_t nl;
	if (!eq || eq == w || (size_t)(eq - w) >= MAX_NAME)
		return -1;
	nl = (size_t)(eq - w);
	for (size_t i = 0; i < nl; i++)
		if (!isalnum((unsigned char)w[i]) && w[i] != '-' && w[i] != '_')
			return -1;
	memcpy(e->name, w, nl);
	e->name[nl] = '\0';
	e->n = 0;
	p = eq + 1;
	if (p == end)
		return 0; /* "Name=": no version */
	for (;;) {
		uint32_t lo, hi;
		if (parse_u32(&p, end, &lo) < 0)
			return -1;
		hi = lo;
		if (p < end && *p == '-') {
			p++;
			if (parse_u32(&p, end, &hi) < 0 || hi < lo)
				return -1;
		}
		if (e->n == MAX_RANGES)
			return -1;
		e->r[e->n].lo = lo;
		e->r[e->n].hi = hi;
		e->n++;
		if (p == end)
			return 0;
		if (*p != ',' || ++p == end)
			return -1;
	}
}

/* Calls fn for each entry of list; -1 at the first malformed word. */
static int
each_entry(const char *list, int (*fn)(const struct entry *, void *), void *arg,
	   char *err, size_t cap)
{
	const char *p = list;
	struct entry e;
	for (;;) {
		const char *w;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return 0;
		w = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (parse_entry(w, p, &e) < 0) {
			snprintf(err, cap, "malformed protocol entry \"%.*s\"",
				 (int)(p - w > 40 ? 40 : p - w), w);
			return -1;
		}
		if (fn(&e, arg) < 0)
			return -1;
	}
}

struct find {
	const char *name;
	const struct entry *found; /* copy below */
	struct entry copy;
};

static int
find_fn(const struct entry *e, void *arg)
{
	struct find *f = arg;
	if (strcmp(e->name, f->name) == 0) {
		f->copy = *e;
		f->found = &f->copy;
	}
	return 0;
}

static int
has(const struct entry *s, uint32_t v)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (v >= s->r[i].lo && v <= s->r[i].hi)
			return 1;
	return 0;
}

struct check {
	const char *supported;
	char *missing;
	size_t cap, len;
	int all, cut;
	char err[96];
};

/* Appends s to the missing list; what does not fit is cut, and the list
 * then ends with "...". */
static void
append(struct check *c, const char *s)
{
	size_t n = strlen(s);
	if (c->cap < 4 || c->cut)
		return;
	if (c->len + n < c->cap) {
		memcpy(c->missing + c->len, s, n + 1);
		c->len += n;
		return;
	}
	memcpy(c->missing + c->cap - 4, "...", 4);
	c->len = c->cap - 1;
	c->cut = 1;
}

/* Names the versions of e the supported list lacks, as ranges. */
static int
check_fn(const struct entry *e, void *arg)
{
	struct check *c = arg;
	struct find f = { .name = e->name };
	char ranges[256] = "", one[48];
	size_t rl = 0;
	if (each_entry(c->supported, find_fn, &f, c->err, sizeof c->err) < 0)
		return -1;
	for (size_t i = 0; i < e->n; i++) {
		uint64_t v = e->r[i].lo;
		while (v <= e->r[i].hi) {
			uint64_t lo = v;
			if (has(f.found, (uint32_t)v)) {
				v++;
				continue;
			}
			while (v < e->r[i].hi &&
			       !has(f.found, (uint32_t)(v + 1)))
				v++;
			if (v > lo)
				snprintf(one, sizeof one, "%s%llu-%llu",
					 rl ? "," : "", (unsigned long long)lo,
					 (unsigned long long)v);
			else
				snprintf(one, sizeof one, "%s%llu",
					 rl ? "," : "", (unsigned long long)lo);
			if (rl + strlen(one) < sizeof ranges) {
				memcpy(ranges + rl, one, strlen(one) + 1);
				rl += strlen(one);
			}
			v++;
		}
	}
	if (!rl)
		return 0;
	if (!c->all)
		append(c, " ");
	c->all = 0;
	append(c, e->name);
	append(c, "=");
	append(c, ranges);
	return 0;
}

int
tk_protover_all_supported(const char *list, const char *supported,
			  char *missing, size_t cap)
{
	struct check c = {
		.supported = supported,
		.missing = missing,
		.cap = cap,
		.all = 1,
	};
	if (cap)
		missing[0] = '\0';
	if (each_entry(list, check_fn, &c, c.err, sizeof c.err) < 0) {
		if (cap)
			snprintf(missing, cap, "%s", c.err);
		return -1;
	}
	return c.all;
}
