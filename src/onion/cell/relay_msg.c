/* Relay message bodies: encoders and bounds-checked decoders. */
#include "onion/cell/relay_msg.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "onion/base/bytes.h"

const char *
tk_relay_strerror(int err)
{
	switch (err) {
	case TK_RELAY_OK:
		return "ok";
	case TK_RELAY_ETRUNC:
		return "relay message truncated: a field runs past the end of the body";
	case TK_RELAY_ETOOBIG:
		return "relay message too long (a relay body holds at most 498 bytes)";
	case TK_RELAY_ESPACE:
		return "output buffer too small for the relay message";
	case TK_RELAY_ENONUL:
		return "string in relay message lacks its NUL terminator";
	case TK_RELAY_EADDR:
		return "bad host, address or address type in relay message";
	case TK_RELAY_EPORT:
		return "missing, zero or out-of-range port in relay message";
	case TK_RELAY_ELEN:
		return "length field does not match its type in relay message";
	case TK_RELAY_EVERSION:
		return "SENDME version not supported";
	case TK_RELAY_ELINKSPEC:
		return "malformed link specifiers in EXTEND2";
	case TK_RELAY_EINVAL:
		return "invalid argument to relay message encoder";
	}
	return "unknown relay message error";
}

const char *
tk_relay_end_reason_name(uint8_t reason)
{
	static const char *const names[] = {
		[TK_RELAY_END_MISC] = "MISC",
		[TK_RELAY_END_RESOLVEFAILED] = "RESOLVEFAILED",
		[TK_RELAY_END_CONNECTREFUSED] = "CONNECTREFUSED",
		[TK_RELAY_END_EXITPOLICY] = "EXITPOLICY",
		[TK_RELAY_END_DESTROY] = "DESTROY",
		[TK_RELAY_END_DONE] = "DONE",
		[TK_RELAY_END_TIMEOUT] = "TIMEOUT",
		[TK_RELAY_END_NOROUTE] = "NOROUTE",
		[TK_RELAY_END_HIBERNATING] = "HIBERNATING",
		[TK_RELAY_END_INTERNAL] = "INTERNAL",
		[TK_RELAY_END_RESOURCELIMIT] = "RESOURCELIMIT",
		[TK_RELAY_END_CONNRESET] = "CONNRESET",
		[TK_RELAY_END_TORPROTOCOL] = "TORPROTOCOL",
		[TK_RELAY_END_NOTDIRECTORY] = "NOTDIRECTORY",
	};
	if (reason < ARRAY_SIZE(names) && names[reason])
		return names[reason];
	return "UNKNOWN";
}

int
tk_relay_addr_format(const tk_relay_addr *addr, char *out, size_t cap)
{
	char buf[INET6_ADDRSTRLEN];
	const char *s = NULL;
	if (addr->family == 4)
		s = inet_ntop(AF_INET, addr->a, buf, sizeof buf);
	else if (addr->family == 6)
		s = inet_ntop(AF_INET6, addr->a, buf, sizeof buf);
	if (!s)
		return -1;
	size_t n = strlen(s);
	if (n + 1 > cap)
		return -1;
	memcpy(out, s, n + 1);
	return (int)n;
}

/* Copies s lower-cased; Tor normalises stream targets this way before
 * they go on the wire, so the exit sees one spelling per name. */
static void
put_lower(uint8_t *dst, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		dst[i] = (uint8_t)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
}

/* Printable ASCII without space: what a DNS name or address literal can
 * hold. Anything else in a target is a caller bug or an attack. */
static int
host_chars_ok(const char *s, size_t n, int allow_colon)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f)
			return 0;
		if (c == ':' && !allow_colon)
			return 0;
		if (c == '[' || c == ']')
			return 0;
	}
	return 1;
}

int
tk_relay_begin_encode(const char *host, uint16_t port, uint32_t flags,
		      uint8_t *out, size_t cap)
{
	if (!host || port == 0)
		return port == 0 ? TK_RELAY_EPORT : TK_RELAY_EINVAL;
	size_t hlen = strlen(host);
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	if (hlen == 0)
		return TK_RELAY_EADDR;

	char v6[INET6_ADDRSTRLEN];
	int is_v6 = memchr(host, ':', hlen) != NULL;
	if (is_v6) {
		/* Canonical text form, as Tor prints an IPv6 target. */
		char tmp[64];
		uint8_t bin[16];
		if (hlen >= sizeof tmp)
			return TK_RELAY_EADDR;
		memcpy(tmp, host, hlen);
		tmp[hlen] = '\0';
		if (inet_pton(AF_INET6, tmp, bin) != 1 ||
		    !inet_ntop(AF_INET6, bin, v6, sizeof v6))
			return TK_RELAY_EADDR;
		host = v6;
		hlen = strlen(v6);
	} else if (!host_chars_ok(host, hlen, 0)) {
		return TK_RELAY_EADDR;
	}

	char portbuf[8];
	int plen = snprintf(portbuf, sizeof portbuf, ":%u", (unsigned)port);
	size_t need = hlen + (is_v6 ? 2 : 0) + (size_t)plen + 1 +
		      (flags ? 4 : 0);
	if (need > TK_RELAY_DATA_MAX)
		return TK_RELAY_ETOOBIG;
	if (need > cap)
		return TK_RELAY_ESPACE;

	size_t o = 0;
	if (is_v6)
		out[o++] = '[';
	put_lower(out + o, host, hlen);
	o += hlen;
	if (is_v6)
		out[o++] = ']';
	memcpy(out + o, portbuf, (size_t)plen);
	o += (size_t)plen;
	out[o++] = 0;
	if (flags) {
		tk_put_u32(out + o, flags);
		o += 4;
	}
	return (int)o;
}

/* Decimal port 1..65535 from exactly n digits. */
static int
parse_port(const uint8_t *p, size_t n, uint16_t *port)
{
	if (n == 0 || n > 5)
		return TK_RELAY_EPORT;
	unsigned long v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return TK_RELAY_EPORT;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v == 0 || v > 65535)
		return TK_RELAY_EPORT;
	*port = (uint16_t)v;
	return TK_RELAY_OK;
}

int
tk_relay_begin_decode(const uint8_t *body, size_t len, tk_relay_begin *out)
{
	memset(out, 0, sizeof *out);
	if (len > TK_RELAY_DATA_MAX)
		return TK_RELAY_ETOOBIG;
	const uint8_t *nul = len ? memchr(body, 0, len) : NULL;
	if (!nul)
		return TK_RELAY_ENONUL;
	size_t slen = (size_t)(nul - body);

	/* The port follows the last ':' (an IPv6 literal has its own). */
	size_t colon = slen;
	while (colon > 0 && body[colon - 1] != ':')
		colon--;
	if (colon == 0)
		return TK_RELAY_EPORT;
	colon--; /* index of the ':' */
	int rc = parse_port(body + colon + 1, slen - colon - 1, &out->port);
	if (rc < 0)
		return rc;

	const char *host = (const char *)body;
	size_t hlen = colon;
	if (hlen > 0 && host[0] == '[') {
		if (hlen < 3 || host[hlen - 1] != ']')
			return TK_RELAY_EADDR;
		host++;
		hlen -= 2;
		char tmp[64];
		uint8_t bin[16];
		if (hlen >= sizeof tmp)
			return TK_RELAY_EADDR;
		memcpy(tmp, host, hlen);
		tmp[hlen] = '\0';
		if (inet_pton(AF_INET6, tmp, bin) != 1)
			return TK_RELAY_EADDR;
		out->host_is_ipv6 = 1;
	} else if (hlen == 0 || !host_chars_ok(host, hlen, 0)) {
		return TK_RELAY_EADDR;
	}
	out->host = host;
	out->host_len = hlen;

	/* Tor reads FLAGS only when all four bytes are there. */
	size_t rest = len - slen - 1;
	if (rest >= 4)
		out->flags = tk_get_u32(nul + 1);
	return TK_RELAY_OK;
}

int
tk_relay_connected_encode(const tk_relay_addr *addr, uint32_t ttl, uint8_t *out,
			  size_t cap)
{
	tk_writer w;
	tk_writer_init(&w, out, cap);
	if (!addr || addr->family == 0)
		return 0;
	if (addr->family == 4) {
		if (tk_get_u32(addr->a) == 0)
			return TK_RELAY_EADDR; /* reads as the IPv6 form */
		tk_writer_bytes(&w, addr->a, 4);
	} else if (addr->family == 6) {
		tk_writer_u32(&w, 0);
		tk_writer_u8(&w, 6);
		tk_writer_bytes(&w, addr->a, 16);
	} else {
		return TK_RELAY_EADDR;
	}
	tk_writer_u32(&w, ttl);
	return w.err ? TK_RELAY_ESPACE : (int)w.len;
}

/* C tor ignores a CONNECTED TTL above INT32_MAX (it reads as unknown). */
static uint32_t
connected_ttl(const uint8_t *p)
{
	uint32_t ttl = tk_get_u32(p);
	return ttl > INT32_MAX ? TK_TTL_NONE : ttl;
}

int
tk_relay_connected_decode(const uint8_t *body, size_t len,
			  tk_relay_connected *out)
{
	memset(out, 0, sizeof *out);
	out->ttl = TK_TTL_NONE;
	if (len > TK_RELAY_DATA_MAX)
		return TK_RELAY_ETOOBIG;
	if (len == 0)
		return TK_RELAY_OK;
	if (len < 4)
		return TK_RELAY_ETRUNC;
	if (tk_get_u32(body) != 0) {
		out->addr.family = 4;
		memcpy(out->addr.a, body, 4);
		/* Tor takes the TTL only when present and treats the rest as
		 * slack, so do we. */
		if (len >= 8)
			out->ttl = connected_ttl(body + 4);
		return TK_RELAY_OK;
	}
	if (len < 5)
		return TK_RELAY_ETRUNC;
	if (body[4] != 6)
		return TK_RELAY_EADDR;
	if (len < 25)
		return TK_RELAY_ETRUNC;
	out->addr.family = 6;
	memcpy(out->addr.a, body + 5, 16);
	out->ttl = connected_ttl(body + 21);
	return TK_RELAY_OK;
}

int
tk_relay_data_check(size_t len)
{
	return len > TK_RELAY_DATA_MAX ? TK_RELAY_ETOOBIG : TK_RELAY_OK;
}

int
tk_relay_end_encode(uint8_t reason, const tk_relay_addr *addr, uint32_t ttl,
		    uint8_t *out, size_t cap)
{
	tk_writer w;
	tk_writer_init(&w, out, cap);
	tk_writer_u8(&w, reason);
	if (reason == TK_RELAY_END_EXITPOLICY && addr && addr->family) {
		if (addr->family == 4)
			tk_writer_bytes(&w, addr->a, 4);
		else if (addr->family == 6)
			tk_writer_bytes(&w, addr->a, 16);
		else
			return TK_RELAY_EADDR;
		tk_writer_u32(&w, ttl);
	}
	return w.err ? TK_RELAY_ESPACE : (int)w.len;
}

int
tk_relay_end_decode(const uint8_t *body, size_t len, tk_relay_end *out)
{
	memset(out, 0, sizeof *out);
	out->ttl = TK_TTL_NONE;
	if (len > TK_RELAY_DATA_MAX)
		return TK_RELAY_ETOOBIG;
	if (len == 0) {
		/* tor-spec: an END without a reason means MISC. */
		out->reason = TK_RELAY_END_MISC;
		return TK_RELAY_OK;
	}
	out->reason = body[0];
	if (out->reason != TK_RELAY_END_EXITPOLICY)
		return TK_RELAY_OK;
	/* Tor recognises exactly these lengths and ignores the address
	 * otherwise; the reason alone still stands. */
	switch (len) {
	case 5:
	case 9:
		out->addr.family = 4;
		memcpy(out->addr.a, body + 1, 4);
		if (len == 9)
			out->ttl = tk_get_u32(body + 5);
		break;
	case 17:
	case 21:
		out->addr.family = 6;
		memcpy(out->addr.a, body + 1, 16);
		if (len == 21)
			out->ttl = tk_get_u32(body + 17);
		break;
	default:
		break;
	}
	return TK_RELAY_OK;
}

int
tk_relay_resolve_encode(const char *name, uint8_t *out, size_t cap)
{
	if (!name)
		return TK_RELAY_EINVAL;
	size_t n = strlen(name);
	if (n == 0 || !host_chars_ok(name, n, 1))
		return TK_RELAY_EADDR;
	if (n + 1 > TK_RELAY_DATA_MAX)
		return TK_RELAY_ETOOBIG;
	if (n + 1 > cap)
		return TK_RELAY_ESPACE;
	put_lower(out, name, n);
	out[n] = 0;
	return (int)(n + 1);
}

int
tk_relay_reverse_name(const tk_relay_addr *addr, char *out, size_t cap)
{
	static const char hexd[] = "0123456789abcdef";
	if (!addr)
		return TK_RELAY_EINVAL;
	if (addr->family == 4) {
		int n = snprintf(out, cap, "%u.%u.%u.%u.in-addr.arpa",
				 addr->a[3], addr->a[2], addr->a[1],
				 addr->a[0]);
		if (n < 0 || (size_t)n >= cap)
			return TK_RELAY_ESPACE;
		return n;
	}
	if (addr->family != 6)
		return TK_RELAY_EADDR;
	/* 32 nibbles, low nibble of the last byte first, each with a dot,
	 * then "ip6.arpa". */
	size_t need = 32 * 2 + sizeof "ip6.arpa";
	if (cap < need)
		return TK_RELAY_ESPACE;
	size_t o = 0;
	for (int i = 15; i >= 0; i--) {
		out[o++] = hexd[addr->a[i] & 0xf];
		out[o++] = '.';
		out[o++] = hexd[addr->a[i] >> 4];
		out[o++] = '.';
	}
	memcpy(out + o, "ip6.arpa", sizeof "ip6.arpa");
	return (int)(o + sizeof "ip6.arpa" - 1);
}

int
tk_relay_resolve_ptr_encode(const tk_relay_addr *addr, uint8_t *out, size_t cap)
{
	char name[80];
	int n = tk_relay_reverse_name(addr, name, sizeof name);
	if (n < 0)
		return n;
	return tk_relay_resolve_encode(name, out, cap);
}

int
tk_relay_resolve_decode(const uint8_t *body, size_t len, tk_relay_resolve *out)
{
	memset(out, 0, sizeof *out);
	if (len > TK_RELAY_DATA_MAX)
		return TK_RELAY_ETOOBIG;
	const uint8_t *nul = len ? memchr(body, 0, len) : NULL;
	if (!nul)
		return TK_RELAY_ENONUL;
	size_t n = (size_t)(nul - body);
	if (n == 0 || !host_chars_ok((const char *)body, n, 1))
		return TK_RELAY_EADDR;
	out->name = (const char *)body;
	out->name_len = n;
	return TK_RELAY_OK;
}

int
tk_relay_resolved_decode(const uint8_t *body, size_t len,
			 tk_relay_resolved *out)
{
	out->n = 0;
	out->error = 0;
	if (len > TK_RELAY_DATA_MAX)
		return TK_RELAY_ETOOBIG;
	tk_reader r;
	tk_reader_init(&r, body, len);
	uint8_t first_err = 0;
	int have_answer = 0;
	while (tk_reader_left(&r) > 0) {
		uint8_t type, vlen;
		uint32_t ttl;
		tk_reader_u8(&r, &type);
		tk_reader_u8(&r, &vlen);
		const uint8_t *val = tk_reader_view(&r, vlen);
		tk_reader_u32(&r, &ttl);
		if (r.err) {
			out->n = 0;
			return TK_RELAY_ETRUNC;
		}
		if (out->n >= TK_RELAY_RESOLVED_MAX) {
			out->n = 0;
			return TK_RELAY_ETOOBIG; /* cannot happen in 498 */
		}
		tk_relay_resolved_answer *a = &out->ans[out->n];
		memset(a, 0, sizeof *a);
		a->type = type;
		a->value = val;
		a->len = vlen;
		a->ttl = ttl;
		switch (type) {
		case TK_RELAY_RESOLVED_IPV4:
			if (vlen != 4)
				goto badlen;
			a->addr.family = 4;
			memcpy(a->addr.a, val, 4);
			have_answer = 1;
			break;
		case TK_RELAY_RESOLVED_IPV6:
			if (vlen != 16)
				goto badlen;
			a->addr.family = 6;
			memcpy(a->addr.a, val, 16);
			have_answer = 1;
			break;
		case TK_RELAY_RESOLVED_HOSTNAME:
			if (vlen == 0)
				goto badlen;
			have_answer = 1;
			break;
		case TK_RELAY_RESOLVED_ERR_TRANSIENT:
		case TK_RELAY_RESOLVED_ERR_NONTRANSIENT:
			if (!first_err)
				first_err = type;
			break;
		default:
			break;
		}
		out->n++;
	}
	out->error = have_answer ? 0 : first_err;
	return TK_RELAY_OK;
badlen:
	out->n = 0;
	return TK_RELAY_ELEN;
}

const tk_relay_resolved_answer *
tk_relay_resolved_pick(const tk_relay_resolved *r, int ptr, int ipv4_ok,
		       int ipv6_ok, int prefer_ipv6)
{
	const tk_relay_resolved_answer *v4 = NULL, *v6 = NULL;
	if (r->error)
		return NULL; /* only errors (an address would clear it) */
	for (size_t i = 0; i < r->n; i++) {
		const tk_relay_resolved_answer *a = &r->ans[i];
		if (ptr && a->type == TK_RELAY_RESOLVED_HOSTNAME)
			return a;
		if (a->type == TK_RELAY_RESOLVED_IPV4 && ipv4_ok && !v4)
			v4 = a;
		if (a->type == TK_RELAY_RESOLVED_IPV6 && ipv6_ok && !v6)
			v6 = a;
	}
	if (ptr)
		return NULL;
	if (prefer_ipv6)
		return v6 ? v6 : v4;
	return v4 ? v4 : v6;
}

int
tk_relay_resolved_append(uint8_t type, const void *value, size_t vlen,
			 uint32_t ttl, uint8_t *out, size_t *used, size_t cap)
{
	if (vlen > 255 || (vlen && !value))
		return TK_RELAY_EINVAL;
	if ((type == TK_RELAY_RESOLVED_IPV4 && vlen != 4) ||
	    (type == TK_RELAY_RESOLVED_IPV6 && vlen != 16) ||
	    (type == TK_RELAY_RESOLVED_HOSTNAME && vlen == 0))
		return TK_RELAY_ELEN;
	if (*used > cap)
		return TK_RELAY_EINVAL;
	if (*used + 6 + vlen > TK_RELAY_DATA_MAX)
		return TK_RELAY_ETOOBIG;
	tk_writer w;
	tk_writer_init(&w, out + *used, cap - *used);
	tk_writer_u8(&w, type);
	tk_writer_u8(&w, (uint8_t)vlen);
	tk_writer_bytes(&w, value, vlen);
	tk_writer_u32(&w, ttl);
	if (w.err)
		return TK_RELAY_ESPACE;
	*used += w.len;
	return (int)*used;
}

int
tk_relay_sendme_encode(int version, const uint8_t *tag, uint8_t *out,
		       size_t cap)
{
	if (version == 0)
		return 0;
	if (version != 1 || !tag)
		return TK_RELAY_EINVAL;
	tk_writer w;
	tk_writer_init(&w, out, cap);
	tk_writer_u8(&w, 1);
	tk_writer_u16(&w, TK_SENDME_TAG_LEN);
	tk_writer_bytes(&w, tag, TK_SENDME_TAG_LEN);
	return w.err ? TK_RELAY_ESPACE : (int)w.len;
}

int
tk_relay_sendme_decode(const uint8_t *body, size_t len, tk_relay_sendme *out)
{
	memset(out, 0, sizeof *out);
	if (len > TK_RELAY_DATA_MAX)
		return TK_RELAY_ETOOBIG;
	if (len == 0)
		return TK_RELAY_OK; /* version 0 */
	tk_reader r;
	tk_reader_init(&r, body, len);
	uint8_t version;
	uint16_t dlen;
	tk_reader_u8(&r, &version);
	tk_reader_u16(&r, &dlen);
	const uint8_t *data = tk_reader_view(&r, dlen);
	if (r.err)
		return TK_RELAY_ETRUNC;
	out->version = version;
	if (version == 0)
		return TK_RELAY_OK; /* any data is meaningless: ignore it */
	if (version != 1)
		return TK_RELAY_EVERSION;
	if (dlen < TK_SENDME_TAG_LEN)
		return TK_RELAY_ELEN;
	memcpy(out->tag, data, TK_SENDME_TAG_LEN);
	return TK_RELAY_OK;
}

void
tk_linkspec_ipv4(tk_linkspec *ls, const uint8_t addr[4], uint16_t port)
{
	ls->type = TK_LS_IPV4;
	ls->len = 6;
	memcpy(ls->data, addr, 4);
	tk_put_u16(ls->data + 4, port);
}

void
tk_linkspec_ipv6(tk_linkspec *ls, const uint8_t addr[16], uint16_t port)
{
	ls->type = TK_LS_IPV6;
	ls->len = 18;
	memcpy(ls->data, addr, 16);
	tk_put_u16(ls->data + 16, port);
}

void
tk_linkspec_legacy_id(tk_linkspec *ls, const uint8_t id[20])
{
	ls->type = TK_LS_LEGACY_ID;
	ls->len = 20;
	memcpy(ls->data, id, 20);
}

void
tk_linkspec_ed25519_id(tk_linkspec *ls, const uint8_t key[32])
{
	ls->type = TK_LS_ED25519_ID;
	ls->len = 32;
	memcpy(ls->data, key, 32);
}

/* Known link specifier types have one legal length each. */
static int
linkspec_len_ok(uint8_t type, uint8_t len)
{
	switch (type) {
	case TK_LS_IPV4:
		return len == 6;
	case TK_LS_IPV6:
		return len == 18;
	case TK_LS_LEGACY_ID:
		return len == 20;
	case TK_LS_ED25519_ID:
		return len == 32;
	default:
		return 1;
	}
}

int
tk_relay_extend2_encode(const tk_relay_extend2 *m, uint8_t *out, size_t cap)
{
	if (!m || m->n_specs == 0 || m->n_specs > TK_EXTEND2_MAX_SPECS ||
	    (m->hlen && !m->hdata))
		return TK_RELAY_EINVAL;
	int n_legacy = 0, n_addr = 0;
	for (size_t i = 0; i < m->n_specs; i++) {
		const tk_linkspec *ls = &m->specs[i];
		if (!linkspec_len_ok(ls->type, ls->len))
			return TK_RELAY_ELINKSPEC;
		n_legacy += ls->type == TK_LS_LEGACY_ID;
		n_addr += ls->type == TK_LS_IPV4 || ls->type == TK_LS_IPV6;
	}
	/* Relays destroy the circuit ("Can't parse extend cell") otherwise. */
	if (n_legacy != 1 || n_addr == 0)
		return TK_RELAY_ELINKSPEC;

	uint8_t tmp[TK_RELAY_DATA_MAX];
	tk_writer w;
	tk_writer_init(&w, tmp, sizeof tmp);
	tk_writer_u8(&w, (uint8_t)m->n_specs);
	for (size_t i = 0; i < m->n_specs; i++) {
		tk_writer_u8(&w, m->specs[i].type);
		tk_writer_u8(&w, m->specs[i].len);
		tk_writer_bytes(&w, m->specs[i].data, m->specs[i].len);
	}
	tk_writer_u16(&w, m->htype);
	tk_writer_u16(&w, m->hlen);
	tk_writer_bytes(&w, m->hdata, m->hlen);
	if (w.err)
		return TK_RELAY_ETOOBIG;
	if (w.len > cap)
		return TK_RELAY_ESPACE;
	memcpy(out, tmp, w.len);
	return (int)w.len;
}

int
tk_relay_extend2_decode(const uint8_t *body, size_t len, tk_relay_extend2 *out)
{
	out->n_specs = 0;
	out->htype = out->hlen = 0;
	out->hdata = NULL;
	if (len > TK_RELAY_DATA_MAX)
		return TK_RELAY_ETOOBIG;
	tk_reader r;
	tk_reader_init(&r, body, len);
	uint8_t nspec;
	if (tk_reader_u8(&r, &nspec) < 0)
		return TK_RELAY_ETRUNC;
	if (nspec > TK_EXTEND2_MAX_SPECS)
		return TK_RELAY_ELINKSPEC;
	for (unsigned i = 0; i < nspec; i++) {
		tk_linkspec *ls = &out->specs[i];
		tk_reader_u8(&r, &ls->type);
		tk_reader_u8(&r, &ls->len);
		if (tk_reader_copy(&r, ls->data, ls->len) < 0) {
			out->n_specs = 0;
			return TK_RELAY_ETRUNC;
		}
		if (!linkspec_len_ok(ls->type, ls->len)) {
			out->n_specs = 0;
			return TK_RELAY_ELINKSPEC;
		}
		out->n_specs = i + 1;
	}
	tk_reader_u16(&r, &out->htype);
	tk_reader_u16(&r, &out->hlen);
	out->hdata = tk_reader_view(&r, out->hlen);
	if (r.err) {
		out->n_specs = 0;
		out->hdata = NULL;
		return TK_RELAY_ETRUNC;
	}
	return TK_RELAY_OK;
}

int
tk_relay_extended2_encode(const uint8_t *hdata, uint16_t hlen, uint8_t *out,
			  size_t cap)
{
	if (hlen && !hdata)
		return TK_RELAY_EINVAL;
	if ((size_t)hlen + 2 > TK_RELAY_DATA_MAX)
		return TK_RELAY_ETOOBIG;
	tk_writer w;
	tk_writer_init(&w, out, cap);
	tk_writer_u16(&w, hlen);
	tk_writer_bytes(&w, hdata, hlen);
	return w.err ? TK_RELAY_ESPACE : (int)w.len;
}

int
tk_relay_extended2_decode(const uint8_t *body, size_t len,
			  tk_relay_extended2 *out)
{
	out->hlen = 0;
	out->hdata = NULL;
	if (len > TK_RELAY_DATA_MAX)
		return TK_RELAY_ETOOBIG;
	tk_reader r;
	tk_reader_init(&r, body, len);
	tk_reader_u16(&r, &out->hlen);
	out->hdata = tk_reader_view(&r, out->hlen);
	if (r.err) {
		out->hlen = 0;
		out->hdata = NULL;
		return TK_RELAY_ETRUNC;
	}
	return TK_RELAY_OK;
}

int
tk_relay_truncated_decode(const uint8_t *body, size_t len, uint8_t *reason)
{
	if (len > TK_RELAY_DATA_MAX)
		return TK_RELAY_ETOOBIG;
	*reason = len ? body[0] : 0;
	return TK_RELAY_OK;
}

int
tk_relay_truncated_encode(uint8_t reason, uint8_t *out, size_t cap)
{
	if (cap < 1)
		return TK_RELAY_ESPACE;
	out[0] = reason;
	return 1;
}

int
tk_relay_xoff_encode(uint8_t *out, size_t cap)
{
	if (cap < 1)
		return TK_RELAY_ESPACE;
	out[0] = 0;
	return 1;
}

int
tk_relay_xoff_decode(const uint8_t *body, size_t len)
{
	if (len < 1)
		return TK_RELAY_ETRUNC;
	return body[0] == 0 ? TK_RELAY_OK : TK_RELAY_EVERSION;
}

int
tk_relay_xon_encode(uint32_t kbps_ewma, uint8_t *out, size_t cap)
{
	tk_writer w;
	tk_writer_init(&w, out, cap);
	tk_writer_u8(&w, 0);
	tk_writer_u32(&w, kbps_ewma);
	return w.err ? TK_RELAY_ESPACE : (int)w.len;
}

int
tk_relay_xon_decode(const uint8_t *body, size_t len, uint32_t *kbps_ewma)
{
	tk_reader r;
	uint8_t version;
	*kbps_ewma = 0;
	tk_reader_init(&r, body, len);
	tk_reader_u8(&r, &version);
	if (r.err)
		return TK_RELAY_ETRUNC;
	if (version != 0)
		return TK_RELAY_EVERSION;
	tk_reader_u32(&r, kbps_ewma);
	return r.err ? TK_RELAY_ETRUNC : TK_RELAY_OK;
}
