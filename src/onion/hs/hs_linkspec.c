/* Link specifier blocks. */
#include "onion/hs/hs_linkspec.h"

#include <string.h>

#include "onion/base/bytes.h"

/* Calls each specifier of the block in turn; -1 on a framing error. */
static int
walk(const uint8_t *blk, size_t len,
     int (*fn)(void *arg, uint8_t type, uint8_t slen, const uint8_t *data),
     void *arg)
{
	tk_reader r;
	uint8_t n;
	tk_reader_init(&r, blk, len);
	if (tk_reader_u8(&r, &n) < 0)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		uint8_t type, slen;
		const uint8_t *data;
		tk_reader_u8(&r, &type);
		tk_reader_u8(&r, &slen);
		data = tk_reader_view(&r, slen);
		if (r.err || (slen > 0 && !data))
			return -1;
		if (fn(arg, type, slen, data) < 0)
			return -1;
	}
	return tk_reader_left(&r) == 0 ? 0 : -1;
}

static int
summarise(void *arg, uint8_t type, uint8_t slen, const uint8_t *d)
{
	struct tk_hs_linkspecs *s = arg;
	s->n++;
	switch (type) {
	case TK_LS_IPV4:
		if (slen != 6)
			return -1;
		if (!s->has_ipv4) {
			s->has_ipv4 = 1;
			memcpy(s->ipv4, d, 4);
			s->ipv4_port = (uint16_t)(d[4] << 8 | d[5]);
		}
		break;
	case TK_LS_IPV6:
		if (slen != 18)
			return -1;
		if (!s->has_ipv6) {
			s->has_ipv6 = 1;
			memcpy(s->ipv6, d, 16);
			s->ipv6_port = (uint16_t)(d[16] << 8 | d[17]);
		}
		break;
	case TK_LS_LEGACY_ID:
		if (slen != 20 || s->has_legacy_id)
			return -1;
		s->has_legacy_id = 1;
		memcpy(s->legacy_id, d, 20);
		break;
	case TK_LS_ED25519_ID:
		if (slen != 32 || s->has_ed25519_id)
			return -1;
		s->has_ed25519_id = 1;
		memcpy(s->ed25519_id, d, 32);
		break;
	default:
		break; /* unknown: passed on as it is */
	}
	return 0;
}

int
tk_hs_linkspecs_parse(const uint8_t *blk, size_t len,
		      struct tk_hs_linkspecs *out)
{
	memset(out, 0, sizeof *out);
	if (walk(blk, len, summarise, out) < 0) {
		memset(out, 0, sizeof *out);
		return -1;
	}
	return 0;
}

static int
collect(void *arg, uint8_t type, uint8_t slen, const uint8_t *d)
{
	tk_relay_extend2 *m = arg;
	tk_linkspec *ls;
	if (m->n_specs == TK_EXTEND2_MAX_SPECS)
		return -1;
	ls = &m->specs[m->n_specs++];
	ls->type = type;
	ls->len = slen;
	if (slen)
		memcpy(ls->data, d, slen);
	return 0;
}

int
tk_hs_linkspecs_to_extend2(const uint8_t *blk, size_t len, tk_relay_extend2 *m)
{
	struct tk_hs_linkspecs s;
	if (tk_hs_linkspecs_parse(blk, len, &s) < 0)
		return -1;
	m->n_specs = 0;
	if (walk(blk, len, collect, m) < 0) {
		m->n_specs = 0;
		return -1;
	}
	return 0;
}

long
tk_hs_linkspecs_encode(const tk_linkspec *specs, size_t n, uint8_t *out,
		       size_t cap)
{
	tk_writer w;
	if (n > 255)
		return -1;
	tk_writer_init(&w, out, cap);
	tk_writer_u8(&w, (uint8_t)n);
	for (size_t i = 0; i < n; i++) {
		tk_writer_u8(&w, specs[i].type);
		tk_writer_u8(&w, specs[i].len);
		tk_writer_bytes(&w, specs[i].data, specs[i].len);
	}
	return w.err ? -1 : (long)w.len;
}
