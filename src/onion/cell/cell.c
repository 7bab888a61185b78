/* Cell framing and payload codecs (tor-spec §3-§6.1). */
#include "onion/cell/cell.h"

#include <string.h>

#include "common/util.h"
#include "onion/base/bytes.h"
#include "onion/base/crypto.h"

const char *
tk_cell_strerror(int err)
{
	switch (err) {
	case TK_CELL_OK:
		return "ok";
	case TK_CELL_NEED_MORE:
		return "incomplete cell: more bytes needed";
	case TK_CELL_ETRUNC:
		return "cell payload truncated: a field runs past its end";
	case TK_CELL_ETOOLONG:
		return "field too long for a cell payload";
	case TK_CELL_EBADLEN:
		return "length field has an impossible value";
	case TK_CELL_ENOSPACE:
		return "output buffer too small";
	case TK_CELL_EDUP:
		return "CERTS cell lists a certificate type twice";
	case TK_CELL_ETOOMANY:
		return "too many entries";
	case TK_CELL_EBADCIRC:
		return "circuit id width must be 2 or 4 bytes";
	case TK_CELL_ENOVERSION:
		return "no link protocol version in common";
	case TK_CELL_EBADVALUE:
		return "field value not allowed";
	}
	return "unknown cell error";
}

int
tk_cell_cmd_is_var(uint8_t cmd)
{
	return cmd == TK_CELL_VERSIONS || cmd >= 128;
}

const char *
tk_cell_cmd_name(uint8_t cmd)
{
	/* clang-format off */
	switch (cmd) {
	case TK_CELL_PADDING: return "PADDING";
	case TK_CELL_CREATE: return "CREATE";
	case TK_CELL_CREATED: return "CREATED";
	case TK_CELL_RELAY: return "RELAY";
	case TK_CELL_DESTROY: return "DESTROY";
	case TK_CELL_CREATE_FAST: return "CREATE_FAST";
	case TK_CELL_CREATED_FAST: return "CREATED_FAST";
	case TK_CELL_VERSIONS: return "VERSIONS";
	case TK_CELL_NETINFO: return "NETINFO";
	case TK_CELL_RELAY_EARLY: return "RELAY_EARLY";
	case TK_CELL_CREATE2: return "CREATE2";
	case TK_CELL_CREATED2: return "CREATED2";
	case TK_CELL_PADDING_NEGOTIATE: return "PADDING_NEGOTIATE";
	case TK_CELL_VPADDING: return "VPADDING";
	case TK_CELL_CERTS: return "CERTS";
	case TK_CELL_AUTH_CHALLENGE: return "AUTH_CHALLENGE";
	case TK_CELL_AUTHENTICATE: return "AUTHENTICATE";
	case TK_CELL_AUTHORIZE: return "AUTHORIZE";
	}
	/* clang-format on */
	return "unknown";
}

/* ---- framing ------------------------------------------------------ */

int
tk_cell_frame(const uint8_t *buf, size_t len, int circ_id_len, tk_cell_view *v,
	      size_t *used)
{
	if (circ_id_len != 2 && circ_id_len != 4)
		return TK_CELL_EBADCIRC;
	size_t cid = (size_t)circ_id_len;
	if (len < cid + 1)
		return TK_CELL_NEED_MORE;
	uint8_t cmd = buf[cid];
	size_t hdr, plen;
	if (tk_cell_cmd_is_var(cmd)) {
		hdr = cid + 3;
		if (len < hdr)
			return TK_CELL_NEED_MORE;
		plen = tk_get_u16(buf + cid + 1);
	} else {
		hdr = cid + 1;
		plen = TK_CELL_PAYLOAD_LEN;
	}
	if (len - hdr < plen)
		return TK_CELL_NEED_MORE;
	v->circ_id = cid == 4 ? tk_get_u32(buf) : tk_get_u16(buf);
	v->cmd = cmd;
	v->is_var = tk_cell_cmd_is_var(cmd);
	v->payload = buf + hdr;
	v->payload_len = plen;
	*used = hdr + plen;
	return TK_CELL_OK;
}

int
tk_cell_write_fixed(uint8_t out[TK_CELL_LEN], uint32_t circ_id, uint8_t cmd,
		    const uint8_t *payload, size_t len)
{
	if (tk_cell_cmd_is_var(cmd))
		return TK_CELL_EBADVALUE;
	if (len > TK_CELL_PAYLOAD_LEN)
		return TK_CELL_ETOOLONG;
	tk_put_u32(out, circ_id);
	out[4] = cmd;
	if (len)
		memcpy(out + 5, payload, len);
	memset(out + 5 + len, 0, TK_CELL_PAYLOAD_LEN - len);
	return TK_CELL_OK;
}

int
tk_cell_write_var(uint8_t *out, size_t cap, int circ_id_len, uint32_t circ_id,
		  uint8_t cmd, const uint8_t *payload, size_t len,
		  size_t *written)
{
	if (circ_id_len != 2 && circ_id_len != 4)
		return TK_CELL_EBADCIRC;
	if (circ_id_len == 2 && circ_id > 0xffff)
		return TK_CELL_EBADVALUE;
	if (!tk_cell_cmd_is_var(cmd))
		return TK_CELL_EBADVALUE;
	if (len > TK_CELL_VAR_MAX_PAYLOAD)
		return TK_CELL_ETOOLONG;
	tk_writer w;
	tk_writer_init(&w, out, cap);
	if (circ_id_len == 4)
		tk_writer_u32(&w, circ_id);
	else
		tk_writer_u16(&w, (uint16_t)circ_id);
	tk_writer_u8(&w, cmd);
	tk_writer_u16(&w, (uint16_t)len);
	tk_writer_bytes(&w, payload, len);
	if (w.err)
		return TK_CELL_ENOSPACE;
	*written = w.len;
	return TK_CELL_OK;
}

/* ---- VERSIONS ----------------------------------------------------- */

int
tk_versions_write_ours(uint8_t *out, size_t cap, size_t *written)
{
	static const uint8_t offer[] = { 0, 4, 0, 5 };
	return tk_cell_write_var(out, cap, 2, 0, TK_CELL_VERSIONS, offer,
				 sizeof offer, written);
}

int
tk_versions_parse(const uint8_t *p, size_t len, uint16_t *versions, size_t max,
		  size_t *n)
{
	if (len % 2)
		return TK_CELL_EBADLEN;
	size_t k = 0;
	for (size_t i = 0; i + 1 < len; i += 2)
		if (k < max)
			versions[k++] = tk_get_u16(p + i);
	*n = k;
	return TK_CELL_OK;
}

int
tk_versions_choose(const uint16_t *ours, size_t n_ours, const uint16_t *theirs,
		   size_t n_theirs, uint16_t *chosen)
{
	int found = 0;
	uint16_t best = 0;
	for (size_t i = 0; i < n_ours; i++)
		for (size_t j = 0; j < n_theirs; j++)
			if (ours[i] == theirs[j] &&
			    (!found || ours[i] > best)) {
				best = ours[i];
				found = 1;
			}
	if (!found)
		return TK_CELL_ENOVERSION;
	*chosen = best;
	return TK_CELL_OK;
}

/* ---- CERTS -------------------------------------------------------- */

int
tk_certs_parse(const uint8_t *p, size_t len, tk_certs *out)
{
	tk_reader r;
	uint8_t n;
	tk_reader_init(&r, p, len);
	out->n = 0;
	if (tk_reader_u8(&r, &n) < 0)
		return TK_CELL_ETRUNC;
	if (n > TK_CERTS_MAX)
		return TK_CELL_ETOOMANY;
	for (unsigned i = 0; i < n; i++) {
		uint8_t type;
		uint16_t clen;
		tk_reader_u8(&r, &type);
		tk_reader_u16(&r, &clen);
		const uint8_t *body = tk_reader_view(&r, clen);
		if (!body) {
			out->n = 0;
			return TK_CELL_ETRUNC;
		}
		if (tk_certs_find(out, type)) {
			out->n = 0;
			return TK_CELL_EDUP;
		}
		out->e[out->n].type = type;
		out->e[out->n].body = body;
		out->e[out->n].len = clen;
		out->n++;
	}
	return TK_CELL_OK;
}

const tk_cert_entry *
tk_certs_find(const tk_certs *c, uint8_t type)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].type == type)
			return &c->e[i];
	return NULL;
}

int
tk_certs_write(const tk_certs *c, uint8_t *out, size_t cap, size_t *written)
{
	if (c->n > 255)
		return TK_CELL_ETOOMANY;
	tk_writer w;
	tk_writer_init(&w, out, cap);
	tk_writer_u8(&w, (uint8_t)c->n);
	for (size_t i = 0; i < c->n; i++) {
		tk_writer_u8(&w, c->e[i].type);
		tk_writer_u16(&w, c->e[i].len);
		tk_writer_bytes(&w, c->e[i].body, c->e[i].len);
	}
	if (w.err)
		return TK_CELL_ENOSPACE;
	*written = w.len;
	return TK_CELL_OK;
}

/* ---- AUTH_CHALLENGE ----------------------------------------------- */

int
tk_auth_challenge_parse(const uint8_t *p, size_t len, tk_auth_challenge *out)
{
	tk_reader r;
	tk_reader_init(&r, p, len);
	tk_reader_copy(&r, out->challenge, sizeof out->challenge);
	tk_reader_u16(&r, &out->n_methods);
	out->methods = tk_reader_view(&r, (size_t)out->n_methods * 2);
	if (r.err) {
		out->n_methods = 0;
		out->methods = NULL;
		return TK_CELL_ETRUNC;
	}
	return TK_CELL_OK;
}

int
tk_auth_challenge_has_method(const tk_auth_challenge *a, uint16_t m)
{
	for (size_t i = 0; i < a->n_methods; i++)
		if (tk_get_u16(a->methods + 2 * i) == m)
			return 1;
	return 0;
}

/* ---- NETINFO ------------------------------------------------------ */

static int
netinfo_addr_read(tk_reader *r, tk_netinfo_addr *a)
{
	memset(a, 0, sizeof *a);
	tk_reader_u8(r, &a->type);
	tk_reader_u8(r, &a->len);
	const uint8_t *v = tk_reader_view(r, a->len);
	if (!v)
		return TK_CELL_ETRUNC;
	/* An address of an unknown type or the wrong length for its type is
	 * skipped, not fatal (as arti and tor's parser do): a client uses
	 * NETINFO addresses only as hints. */
	if (tk_netinfo_addr_usable(a))
		memcpy(a->addr, v, a->len);
	return TK_CELL_OK;
}

int
tk_netinfo_parse(const uint8_t *p, size_t len, tk_netinfo *out)
{
	tk_reader r;
	uint8_t n;
	int rc;
	memset(out, 0, sizeof *out);
	tk_reader_init(&r, p, len);
	tk_reader_u32(&r, &out->time);
	if ((rc = netinfo_addr_read(&r, &out->other)) != TK_CELL_OK)
		return rc;
	if (tk_reader_u8(&r, &n) < 0)
		return TK_CELL_ETRUNC;
	for (unsigned i = 0; i < n; i++) {
		tk_netinfo_addr a;
		if ((rc = netinfo_addr_read(&r, &a)) != TK_CELL_OK)
			return rc;
		if (out->n_my < TK_NETINFO_MAX_MYADDRS)
			out->my[out->n_my++] = a;
	}
	return TK_CELL_OK;
}

static void
netinfo_addr_write(tk_writer *w, const tk_netinfo_addr *a)
{
	tk_writer_u8(w, a->type);
	tk_writer_u8(w, a->len);
	tk_writer_bytes(w, a->addr, a->len);
}

int
tk_netinfo_addr_usable(const tk_netinfo_addr *a)
{
	return (a->type == TK_NETINFO_ADDR_IPV4 && a->len == 4) ||
	       (a->type == TK_NETINFO_ADDR_IPV6 && a->len == 16);
}

int
tk_netinfo_write(const tk_netinfo *ni, uint8_t out[TK_CELL_PAYLOAD_LEN])
{
	if (ni->n_my > TK_NETINFO_MAX_MYADDRS)
		return TK_CELL_ETOOMANY;
	if (!tk_netinfo_addr_usable(&ni->other))
		return TK_CELL_EBADVALUE;
	for (unsigned i = 0; i < ni->n_my; i++)
		if (!tk_netinfo_addr_usable(&ni->my[i]))
			return TK_CELL_EBADVALUE;
	tk_writer w;
	memset(out, 0, TK_CELL_PAYLOAD_LEN);
	tk_writer_init(&w, out, TK_CELL_PAYLOAD_LEN);
	tk_writer_u32(&w, ni->time);
	netinfo_addr_write(&w, &ni->other);
	tk_writer_u8(&w, ni->n_my);
	for (unsigned i = 0; i < ni->n_my; i++)
		netinfo_addr_write(&w, &ni->my[i]);
	/* 8 addresses of 18 bytes always fit; kept for safety. */
	return w.err ? TK_CELL_ENOSPACE : TK_CELL_OK;
}

/* ---- circuit creation --------------------------------------------- */

int
tk_create_fast_write(const uint8_t x[TK_CREATE_FAST_LEN],
		     uint8_t out[TK_CELL_PAYLOAD_LEN])
{
	memset(out, 0, TK_CELL_PAYLOAD_LEN);
	memcpy(out, x, TK_CREATE_FAST_LEN);
	return TK_CELL_OK;
}

int
tk_created_fast_parse(const uint8_t *p, size_t len, const uint8_t **y,
		      const uint8_t **kh)
{
	if (len < TK_CREATED_FAST_LEN)
		return TK_CELL_ETRUNC;
	*y = p;
	*kh = p + 20;
	return TK_CELL_OK;
}

int
tk_create2_write(uint16_t htype, const uint8_t *hdata, size_t hlen,
		 uint8_t out[TK_CELL_PAYLOAD_LEN])
{
	if (hlen > TK_CREATE2_MAX_HLEN)
		return TK_CELL_ETOOLONG;
	memset(out, 0, TK_CELL_PAYLOAD_LEN);
	tk_put_u16(out, htype);
	tk_put_u16(out + 2, (uint16_t)hlen);
	if (hlen)
		memcpy(out + 4, hdata, hlen);
	return TK_CELL_OK;
}

int
tk_create2_parse(const uint8_t *p, size_t len, uint16_t *htype,
		 const uint8_t **hdata, size_t *hlen)
{
	tk_reader r;
	uint16_t l;
	tk_reader_init(&r, p, len);
	tk_reader_u16(&r, htype);
	if (tk_reader_u16(&r, &l) < 0)
		return TK_CELL_ETRUNC;
	if (l > TK_CREATE2_MAX_HLEN)
		return TK_CELL_ETOOLONG;
	if (!(*hdata = tk_reader_view(&r, l)))
		return TK_CELL_ETRUNC;
	*hlen = l;
	return TK_CELL_OK;
}

int
tk_created2_write(const uint8_t *hdata, size_t hlen,
		  uint8_t out[TK_CELL_PAYLOAD_LEN])
{
	if (hlen > TK_CREATED2_MAX_HLEN)
		return TK_CELL_ETOOLONG;
	memset(out, 0, TK_CELL_PAYLOAD_LEN);
	tk_put_u16(out, (uint16_t)hlen);
	if (hlen)
		memcpy(out + 2, hdata, hlen);
	return TK_CELL_OK;
}

int
tk_created2_parse(const uint8_t *p, size_t len, const uint8_t **hdata,
		  size_t *hlen)
{
	tk_reader r;
	uint16_t l;
	tk_reader_init(&r, p, len);
	if (tk_reader_u16(&r, &l) < 0)
		return TK_CELL_ETRUNC;
	if (l > TK_CREATED2_MAX_HLEN)
		return TK_CELL_ETOOLONG;
	if (!(*hdata = tk_reader_view(&r, l)))
		return TK_CELL_ETRUNC;
	*hlen = l;
	return TK_CELL_OK;
}

int
tk_destroy_write(uint8_t reason, uint8_t out[TK_CELL_PAYLOAD_LEN])
{
	memset(out, 0, TK_CELL_PAYLOAD_LEN);
	out[0] = reason;
	return TK_CELL_OK;
}

int
tk_destroy_parse(const uint8_t *p, size_t len, uint8_t *reason)
{
	if (len < 1)
		return TK_CELL_ETRUNC;
	*reason = p[0];
	return TK_CELL_OK;
}

const char *
tk_destroy_reason_str(uint8_t reason)
{
	static const char *const names[] = {
		"none",
		"protocol violation",
		"internal error",
		"requested",
		"hibernating",
		"resource limit",
		"connect failed",
		"OR identity mismatch",
		"channel closed",
		"finished",
		"timeout",
		"destroyed",
		"no such service",
	};
	if (reason < ARRAY_SIZE(names))
		return names[reason];
	return "unknown reason";
}

int
tk_padding_negotiate_write(const tk_padding_negotiate *pn,
			   uint8_t out[TK_CELL_PAYLOAD_LEN])
{
	memset(out, 0, TK_CELL_PAYLOAD_LEN);
	out[0] = pn->version;
	out[1] = pn->command;
	tk_put_u16(out + 2, pn->ito_low_ms);
	tk_put_u16(out + 4, pn->ito_high_ms);
	return TK_CELL_OK;
}

int
tk_padding_negotiate_parse(const uint8_t *p, size_t len,
			   tk_padding_negotiate *out)
{
	tk_reader r;
	tk_reader_init(&r, p, len);
	tk_reader_u8(&r, &out->version);
	tk_reader_u8(&r, &out->command);
	tk_reader_u16(&r, &out->ito_low_ms);
	tk_reader_u16(&r, &out->ito_high_ms);
	return r.err ? TK_CELL_ETRUNC : TK_CELL_OK;
}

/* ---- relay header ------------------------------------------------- */

int
tk_relay_payload_build(uint8_t out[TK_CELL_PAYLOAD_LEN], uint8_t cmd,
		       uint16_t stream_id, const uint8_t *data, size_t len)
{
	if (len > TK_RELAY_DATA_MAX)
		return TK_CELL_ETOOLONG;
	out[0] = cmd;
	tk_put_u16(out + 1, 0);
	tk_put_u16(out + 3, stream_id);
	memset(out + TK_RELAY_DIGEST_OFF, 0, 4);
	tk_put_u16(out + 9, (uint16_t)len);
	if (len)
		memcpy(out + TK_RELAY_HDR_LEN, data, len);
	/* Prop 289: four zero bytes after the data, the rest random, so the
	 * SENDME digest the exit echoes back cannot be predicted. */
	size_t pad = TK_RELAY_DATA_MAX - len;
	uint8_t *p = out + TK_RELAY_HDR_LEN + len;
	size_t zeros = pad < 4 ? pad : 4;
	memset(p, 0, zeros);
	if (pad > zeros)
		tk_random_fast(p + zeros, pad - zeros);
	return TK_CELL_OK;
}

int
tk_relay_header_parse(const uint8_t payload[TK_CELL_PAYLOAD_LEN],
		      tk_relay_header *h, const uint8_t **data)
{
	h->cmd = payload[0];
	h->recognized = tk_get_u16(payload + 1);
	h->stream_id = tk_get_u16(payload + 3);
	memcpy(h->digest, payload + TK_RELAY_DIGEST_OFF, 4);
	h->length = tk_get_u16(payload + 9);
	if (h->length > TK_RELAY_DATA_MAX)
		return TK_CELL_EBADLEN;
	if (data)
		*data = payload + TK_RELAY_HDR_LEN;
	return TK_CELL_OK;
}

const char *
tk_relay_cmd_name(uint8_t cmd)
{
	/* clang-format off */
	switch (cmd) {
	case TK_RELAY_BEGIN: return "BEGIN";
	case TK_RELAY_DATA: return "DATA";
	case TK_RELAY_END: return "END";
	case TK_RELAY_CONNECTED: return "CONNECTED";
	case TK_RELAY_SENDME: return "SENDME";
	case TK_RELAY_EXTEND: return "EXTEND";
	case TK_RELAY_EXTENDED: return "EXTENDED";
	case TK_RELAY_TRUNCATE: return "TRUNCATE";
	case TK_RELAY_TRUNCATED: return "TRUNCATED";
	case TK_RELAY_DROP: return "DROP";
	case TK_RELAY_RESOLVE: return "RESOLVE";
	case TK_RELAY_RESOLVED: return "RESOLVED";
	case TK_RELAY_BEGIN_DIR: return "BEGIN_DIR";
	case TK_RELAY_EXTEND2: return "EXTEND2";
	case TK_RELAY_EXTENDED2: return "EXTENDED2";
	case TK_RELAY_XON: return "XON";
	case TK_RELAY_XOFF: return "XOFF";
	}
	/* clang-format on */
	return "unknown";
}
