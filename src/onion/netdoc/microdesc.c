/* Microdescriptor parser. The digest covers the exact bytes, so the text
 * is hashed before it is looked at: a caller can always tell which
 * consensus entry a bad one was meant for. Unknown items are ignored
 * (dir-spec: clients must accept new keywords). */
#include "onion/netdoc/microdesc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/netdoc/netdoc.h"

void
tk_microdesc_init(struct tk_microdesc *md)
{
	memset(md, 0, sizeof *md);
	tk_policy_summary_init(&md->p);
	tk_policy_summary_init(&md->p6);
}

/* The family lists live after a reference count in one allocation, as
 * exit summaries' ranges do: the members of a family publish the same
 * lists (each lists them all, itself included), and the node table keeps
 * one copy of each (tk_microdesc_share_family). On the public network
 * a family of fifty relays would otherwise hold fifty copies of a
 * kilobyte-long list. */
static void *
counted_new(size_t bytes)
{
	size_t *h = malloc(sizeof *h + (bytes ? bytes : 1));
	if (!h)
		return NULL;
	*h = 1;
	return h + 1;
}

static void
counted_ref(const void *p)
{
	if (p)
		((size_t *)(uintptr_t)p)[-1]++;
}

static void
counted_unref(void *p)
{
	size_t *h = p;
	if (h && --h[-1] == 0)
		free(h - 1);
}

void
tk_microdesc_free(struct tk_microdesc *md)
{
	counted_unref(md->family);
	counted_unref(md->family_ids); /* the ids live in the same block */
	tk_policy_summary_free(&md->p);
	tk_policy_summary_free(&md->p6);
	tk_microdesc_init(md);
}

static int
cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, 20);
}

static int
parse_family(struct tk_microdesc *md, const struct tk_netdoc_item *it,
	     char *err, size_t errlen)
{
	size_t cur = 0, n = 0;
	struct tk_netdoc_span a;
	md->family = counted_new(it->argc * sizeof *md->family);
	if (!md->family)
		return tk_netdoc_err(err, errlen, "out of memory");
	while (tk_netdoc_arg_next(it, &cur, &a) && n < TK_MD_MAX_FAMILY) {
		/* "$HEX", optionally "$HEX=nick" / "$HEX~nick" (old
		 * forms); bare nicknames are unverifiable: skip. */
		if (a.len < 41 || a.p[0] != '$')
			continue;
		if (a.len > 41 && a.p[41] != '=' && a.p[41] != '~')
			continue;
		struct tk_netdoc_span hex = { a.p + 1, 40 };
		if (tk_netdoc_hex_exact(hex, md->family[n], 20) < 0)
			return tk_netdoc_err(err, errlen,
					     "line %zu: bad family member "
					     "'%.*s'",
					     it->lineno,
					     (int)(a.len > 60 ? 60 : a.len),
					     a.p);
		n++;
	}
	/* Sorted so that "does a list b" is a binary search: path selection
	 * asks it for every candidate, and big families list hundreds. */
	qsort(md->family, n, sizeof *md->family, cmp_id);
	md->n_family = (uint16_t)n;
	return 0;
}

/* The ids and the array pointing at them in one allocation: one malloc
 * per microdescriptor instead of one per id, and no per-chunk overhead
 * for strings of some fifty bytes. */
static int
parse_family_ids(struct tk_microdesc *md, const struct tk_netdoc_item *it,
		 char *err, size_t errlen)
{
	size_t cur = 0, n = 0, bytes = 0;
	struct tk_netdoc_span a;
	char *s;
	while (tk_netdoc_arg_next(it, &cur, &a) && n < TK_MD_MAX_FAMILY) {
		bytes += a.len + 1;
		n++;
	}
	md->family_ids =
		counted_new((n ? n : 1) * sizeof *md->family_ids + bytes);
	if (!md->family_ids)
		return tk_netdoc_err(err, errlen, "out of memory");
	s = (char *)(md->family_ids + (n ? n : 1));
	cur = 0;
	for (size_t i = 0; i < n && tk_netdoc_arg_next(it, &cur, &a); i++) {
		memcpy(s, a.p, a.len);
		s[a.len] = '\0';
		md->family_ids[i] = s;
		s += a.len + 1;
	}
	md->n_family_ids = (uint16_t)n;
	return 0;
}

static int
span_eq(struct tk_netdoc_span a, struct tk_netdoc_span b)
{
	return a.len == b.len && memcmp(a.p, b.p, a.len) == 0;
}

int
tk_microdesc_parse(const char *text, size_t len, struct tk_microdesc *md,
		   char *err, size_t errlen)
{
	struct tk_netdoc_reader rd;
	struct tk_netdoc_item it;
	int r, seen_ntor = 0, seen_ed = 0, seen_fam = 0, seen_famid = 0;
	int seen_p = 0, seen_p6 = 0, first = 1;
	char why[TK_NETDOC_ERRLEN];
	/* the words of the p and p6 lines read (verb, ports) */
	struct tk_netdoc_span pargs[2] = { { NULL, 0 }, { NULL, 0 } };
	struct tk_netdoc_span pargs6[2] = { { NULL, 0 }, { NULL, 0 } };

	tk_microdesc_free(md);
	tk_netdoc_reader_init(&rd, text, len);
	while ((r = tk_netdoc_next(&rd, &it, why, sizeof why)) == 1) {
		int is_first = first;
		first = 0;
		if (tk_netdoc_kw_is(&it, "onion-key")) {
			/* Optional since prop 350; when present it opens the
			 * document and may or may not carry the old key. */
			if (!is_first)
				return tk_netdoc_err(err, errlen,
						     "line %zu: onion-key is "
						     "not the first item",
						     it.lineno);
			if (it.has_obj) {
				if (!tk_netdoc_span_is(it.obj_label,
						       "RSA PUBLIC KEY"))
					return tk_netdoc_err(
						err, errlen,
						"line %zu: onion-key object "
						"is not an RSA PUBLIC KEY",
						it.lineno);
				md->has_tap_key = 1;
			}
		} else if (tk_netdoc_kw_is(&it, "ntor-onion-key")) {
			if (seen_ntor++)
				return tk_netdoc_err(err, errlen,
						     "line %zu: second "
						     "ntor-onion-key",
						     it.lineno);
			if (it.argc < 1 ||
			    tk_netdoc_b64_exact(it.argv[0], md->ntor_key, 32) <
				    0)
				return tk_netdoc_err(err, errlen,
						     "line %zu: ntor-onion-key "
						     "is not 32 bytes of "
						     "base64",
						     it.lineno);
		} else if (tk_netdoc_kw_is(&it, "id")) {
			if (it.argc < 2)
				return tk_netdoc_err(err, errlen,
						     "line %zu: id needs a key "
						     "type and a key",
						     it.lineno);
			if (!tk_netdoc_span_is(it.argv[0], "ed25519"))
				continue; /* rsa1024 and future types */
			if (seen_ed++)
				return tk_netdoc_err(err, errlen,
						     "line %zu: second id "
						     "ed25519",
						     it.lineno);
			if (tk_netdoc_b64_exact(it.argv[1], md->ed25519_id,
						32) < 0)
				return tk_netdoc_err(err, errlen,
						     "line %zu: id ed25519 is "
						     "not 32 bytes of base64",
						     it.lineno);
			md->has_ed25519 = 1;
		} else if (tk_netdoc_kw_is(&it, "family")) {
			if (seen_fam++)
				return tk_netdoc_err(err, errlen,
						     "line %zu: second family "
						     "line",
						     it.lineno);
			if (parse_family(md, &it, err, errlen) < 0)
				return -1;
		} else if (tk_netdoc_kw_is(&it, "family-ids")) {
			if (seen_famid++)
				return tk_netdoc_err(err, errlen,
						     "line %zu: second "
						     "family-ids line",
						     it.lineno);
			if (parse_family_ids(md, &it, err, errlen) < 0)
				return -1;
		} else if (tk_netdoc_kw_is(&it, "p") ||
			   tk_netdoc_kw_is(&it, "p6")) {
			int six = it.kw.len == 2;
			if (six ? seen_p6++ : seen_p++)
				return tk_netdoc_err(err, errlen,
						     "line %zu: second %s line",
						     it.lineno,
						     six ? "p6" : "p");
			if (it.argc != 2)
				return tk_netdoc_err(err, errlen,
						     "line %zu: %s needs accept"
						     "|reject and a port list",
						     it.lineno,
						     six ? "p6" : "p");
			/* An exit's p6 line is mostly its p line again:
			 * the same words share the summary already read
			 * (hundreds of ports, parsed once). */
			struct tk_netdoc_span *mine = six ? pargs6 : pargs,
					      *other = six ? pargs : pargs6;
			mine[0] = it.argv[0];
			mine[1] = it.argv[1];
			if (other[1].p && span_eq(other[0], mine[0]) &&
			    span_eq(other[1], mine[1]))
				tk_policy_summary_share(six ? &md->p6 : &md->p,
							six ? &md->p : &md->p6);
			else if (tk_policy_summary_parse(six ? &md->p6 : &md->p,
							 it.argv[0].p,
							 it.argv[0].len,
							 it.argv[1].p,
							 it.argv[1].len, why,
							 sizeof why) < 0)
				return tk_netdoc_err(err, errlen,
						     "line %zu: %s", it.lineno,
						     why);
		} else if (tk_netdoc_kw_is(&it, "a")) {
			/* dir-spec: "a" SP address ":" port, any number; the
			 * first IPv6 one is the relay's IPv6 ORPort. As tor:
			 * a line without an address is malformed, IPv4 and
			 * unreadable addresses are ignored. */
			if (it.argc < 1)
				return tk_netdoc_err(err, errlen,
						     "line %zu: a needs an "
						     "address and port",
						     it.lineno);
			if (md->ipv6_port == 0 &&
			    tk_netdoc_ipv6_orport(it.argv[0], md->ipv6,
						  &md->ipv6_port) < 0) {
				memset(md->ipv6, 0, sizeof md->ipv6);
				md->ipv6_port = 0;
			}
		} else if (it.kw.p[0] == '@') {
			return tk_netdoc_err(err, errlen,
					     "line %zu: annotation inside a "
					     "microdescriptor",
					     it.lineno);
		}
	}
	if (r < 0)
		return tk_netdoc_err(err, errlen, "%s", why);
	if (first)
		return tk_netdoc_err(err, errlen, "empty microdescriptor");
	if (!seen_ntor)
		return tk_netdoc_err(err, errlen,
				     "microdescriptor has no ntor-onion-key");
	return 0;
}

/* Length of the line at body[pos] including its newline (or to EOF). */
static size_t
line_len(const char *body, size_t len, size_t pos)
{
	const char *nl = memchr(body + pos, '\n', len - pos);
	return nl ? (size_t)(nl - (body + pos)) + 1 : len - pos;
}

static int
is_md_start(const char *p, size_t n)
{
	return n >= 9 && memcmp(p, "onion-key", 9) == 0 &&
	       (n == 9 || p[9] == '\n' || p[9] == ' ' || p[9] == '\t');
}

int
tk_microdesc_next(const char *body, size_t len, size_t *pos,
		  struct tk_microdesc *md, const char **text, size_t *textlen,
		  char *err, size_t errlen)
{
	size_t p = *pos;
	/* Annotations ("@last-listed ...") belong to no microdescriptor. */
	while (p < len && body[p] == '@')
		p += line_len(body, len, p);
	if (p >= len) {
		*pos = len;
		return 0;
	}
	size_t start = p;
	p += line_len(body, len, p);
	while (p < len && body[p] != '@' && !is_md_start(body + p, len - p))
		p += line_len(body, len, p);
	*pos = p;
	*text = body + start;
	*textlen = p - start;
	if (tk_microdesc_parse(body + start, p - start, md, err, errlen) < 0)
		return -1;
	return 1;
}

void
tk_microdesc_digest(const char *text, size_t len, uint8_t out[32])
{
	tk_sha256(text, len, out);
}

static int
lists(const struct tk_microdesc *md, const uint8_t id[20])
{
	return md->n_family && bsearch(id, md->family, md->n_family,
				       sizeof *md->family, cmp_id) != NULL;
}

int
tk_microdesc_same_family(const struct tk_microdesc *a, const uint8_t id_a[20],
			 const struct tk_microdesc *b, const uint8_t id_b[20])
{
	if (lists(a, id_b) && lists(b, id_a))
		return 1;
	for (size_t i = 0; i < a->n_family_ids; i++)
		for (size_t j = 0; j < b->n_family_ids; j++)
			if (strcmp(a->family_ids[i], b->family_ids[j]) == 0)
				return 1;
	return 0;
}

int
tk_microdesc_set_family(struct tk_microdesc *md, const uint8_t (*ids)[20],
			size_t n)
{
	uint8_t(*f)[20];
	if (n > TK_MD_MAX_FAMILY)
		n = TK_MD_MAX_FAMILY;
	f = counted_new(n * sizeof *f);
	if (!f)
		return -1;
	if (n)
		memcpy(f, ids, n * sizeof *f);
	qsort(f, n, sizeof *f, cmp_id);
	counted_unref(md->family);
	md->family = f;
	md->n_family = (uint16_t)n;
	return 0;
}

int
tk_microdesc_family_equal(const struct tk_microdesc *a,
			  const struct tk_microdesc *b)
{
	if (a->n_family != b->n_family || a->n_family_ids != b->n_family_ids)
		return 0;
	if (a->family != b->family && a->n_family &&
	    memcmp(a->family, b->family, a->n_family * sizeof *a->family) != 0)
		return 0;
	if (a->family_ids != b->family_ids)
		for (size_t i = 0; i < a->n_family_ids; i++)
			if (strcmp(a->family_ids[i], b->family_ids[i]) != 0)
				return 0;
	return 1;
}

void
tk_microdesc_share_family(struct tk_microdesc *dst,
			  const struct tk_microdesc *src)
{
	if (dst == src)
		return;
	counted_ref(src->family);
	counted_ref(src->family_ids);
	counted_unref(dst->family);
	counted_unref(dst->family_ids);
	dst->family = src->family;
	dst->n_family = src->n_family;
	dst->family_ids = src->family_ids;
	dst->n_family_ids = src->n_family_ids;
}
