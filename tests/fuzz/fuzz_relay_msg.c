/* libFuzzer harness for the relay message decoders, the circuit SENDME
 * check (fixed windows and congestion control), XON/XOFF, and what comes
 * back from an exit in an ntor v3 handshake (the reply, and the message
 * in it). Input: CMD[1] then the relay body. Every decoder must stay
 * inside the body; whatever decodes must re-encode to a body that decodes
 * to the same message (checked with abort() so libFuzzer reports it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/crypto.h"
#include "onion/cell/relay_msg.h"
#include "onion/circ/flowctl.h"
#include "onion/circ/ntor_v3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

static void fuzz_begin(const uint8_t *b, size_t n)
{
	tk_relay_begin m;
	if (tk_relay_begin_decode(b, n, &m) != 0)
		return;
	char host[TK_RELAY_DATA_MAX + 1];
	CHECK(m.host_len < sizeof host);
	memcpy(host, m.host, m.host_len);
	host[m.host_len] = 0;
	uint8_t out[TK_RELAY_DATA_MAX];
	int len = tk_relay_begin_encode(host, m.port, m.flags, out, sizeof out);
	if (len < 0)
		return; /* e.g. a colon-bearing non-IPv6 name: decode accepts */
	tk_relay_begin again;
	CHECK(tk_relay_begin_decode(out, (size_t)len, &again) == 0);
	CHECK(again.port == m.port && again.flags == m.flags);
	CHECK(again.host_is_ipv6 == m.host_is_ipv6);
}

static void fuzz_connected(const uint8_t *b, size_t n)
{
	tk_relay_connected m;
	if (tk_relay_connected_decode(b, n, &m) != 0)
		return;
	uint8_t out[64];
	int len = tk_relay_connected_encode(&m.addr, m.ttl, out, sizeof out);
	CHECK(len >= 0);
	tk_relay_connected again;
	CHECK(tk_relay_connected_decode(out, (size_t)len, &again) == 0);
	CHECK(again.addr.family == m.addr.family &&
	      memcmp(again.addr.a, m.addr.a, 16) == 0);
	if (m.addr.family)
		CHECK(again.ttl == m.ttl);
}

static void fuzz_end(const uint8_t *b, size_t n)
{
	tk_relay_end m;
	CHECK(tk_relay_end_decode(b, n, &m) == 0 || n > TK_RELAY_DATA_MAX);
	if (n > TK_RELAY_DATA_MAX)
		return;
	uint8_t out[64];
	int len = tk_relay_end_encode(m.reason, &m.addr, m.ttl, out, sizeof out);
	CHECK(len >= 1);
	tk_relay_end again;
	CHECK(tk_relay_end_decode(out, (size_t)len, &again) == 0);
	CHECK(again.reason == m.reason && again.addr.family == m.addr.family);
	(void)tk_relay_end_reason_name(m.reason);
}

static void fuzz_resolved(const uint8_t *b, size_t n)
{
	static tk_relay_resolved m, again;
	if (tk_relay_resolved_decode(b, n, &m) != 0) {
		CHECK(m.n == 0);
		return;
	}
	uint8_t out[TK_RELAY_DATA_MAX];
	size_t used = 0;
	for (size_t i = 0; i < m.n; i++) {
		const tk_relay_resolved_answer *a = &m.ans[i];
		CHECK(a->value >= b && a->value + a->len <= b + n);
		CHECK(tk_relay_resolved_append(a->type, a->value, a->len,
					       a->ttl, out, &used,
					       sizeof out) >= 0);
	}
	CHECK(used == n);
	CHECK(memcmp(out, b, n) == 0 || n == 0);
	CHECK(tk_relay_resolved_decode(out, used, &again) == 0);
	CHECK(again.n == m.n && again.error == m.error);
}

static void fuzz_extend2(const uint8_t *b, size_t n)
{
	static tk_relay_extend2 m;
	if (tk_relay_extend2_decode(b, n, &m) != 0)
		return;
	CHECK(m.hdata >= b && m.hdata + m.hlen <= b + n);
	uint8_t out[TK_RELAY_DATA_MAX];
	int len = tk_relay_extend2_encode(&m, out, sizeof out);
	if (len < 0)
		return; /* decoded fine but not what relays accept */
	static tk_relay_extend2 again;
	CHECK(tk_relay_extend2_decode(out, (size_t)len, &again) == 0);
	CHECK(again.n_specs == m.n_specs && again.hlen == m.hlen);
	CHECK(memcmp(out, b, (size_t)len) == 0);
}

static void fuzz_sendme(const uint8_t *b, size_t n)
{
	tk_relay_sendme m;
	if (tk_relay_sendme_decode(b, n, &m) == 0 && m.version == 1) {
		uint8_t out[32];
		CHECK(tk_relay_sendme_encode(1, m.tag, out, sizeof out) == 23);
	}
	/* A circuit that has sent 200 cells, checking the fuzzed SENDME. */
	tk_circ_flow f;
	tk_circ_flow_init(&f);
	uint8_t tag[20] = { 0 };
	for (int i = 0; i < 200; i++)
		CHECK(tk_circ_flow_data_sent(&f, tag, 0) == 0);
	int before = f.package_window;
	int rc = tk_circ_flow_sendme_received(&f, b, n, 0, 0);
	CHECK(rc == 0 ? f.package_window == before + 100
		      : f.package_window == before);
	CHECK(f.package_window <= TK_CIRCWINDOW_START);

	/* The same SENDME at a congestion-controlled hop with 62 cells out:
	 * whatever it says, inflight never underflows and cwnd stays
	 * within its bounds. */
	struct tk_cc_params p;
	tk_cc_params_load(&p, NULL, NULL);
	tk_circ_flow_init_cc(&f, &p, 31);
	for (int i = 0; i < 62; i++)
		CHECK(tk_circ_flow_prepare(&f) == 0 &&
		      tk_circ_flow_data_sent(&f, tag, (uint64_t)i) == 0);
	rc = tk_circ_flow_sendme_received(&f, b, n, 100000, n & 1);
	CHECK(rc == 0 ? f.cc.inflight == 31 : f.cc.inflight == 62);
	CHECK(f.cc.cwnd >= (uint64_t)p.cc_cwnd_min ||
	      f.cc.cwnd == (uint64_t)p.cc_cwnd_init);
	tk_circ_flow_free(&f);
}

static void fuzz_xon(const uint8_t *b, size_t n)
{
	uint32_t kbps;
	uint8_t out[8];
	if (tk_relay_xon_decode(b, n, &kbps) == 0) {
		CHECK(n >= 5 && b[0] == 0);
		CHECK(tk_relay_xon_encode(kbps, out, sizeof out) == 5);
		CHECK(memcmp(out, b, 5) == 0);
	}
	if (tk_relay_xoff_decode(b, n) == 0)
		CHECK(n >= 1 && b[0] == 0);
}

/* What an exit answers an ntor v3 handshake with: the reply (almost
 * never authentic here, but every length must be handled) and the
 * extension message inside an authentic one. */
static void fuzz_ntor3(const uint8_t *b, size_t n)
{
	static tk_ntor3_state st;
	static int ready;
	uint8_t keys[72], msg[TK_NTOR3_MSG_MAX];
	const uint8_t *body;
	size_t mlen, blen;
	if (!ready) {
		uint8_t id[32] = { 1 }, x[32] = { 2 }, B[32], bb[32] = { 3 };
		uint8_t skin[256];
		tk_x25519_public(bb, B);
		CHECK(tk_ntor3_client_create_with(&st, id, B, x, "v", 1, NULL,
						  0, skin, sizeof skin) == 128);
		ready = 1;
	}
	if (tk_ntor3_client_finish(&st, b, n, keys, sizeof keys, msg,
				   sizeof msg, &mlen) == 0)
		CHECK(mlen + 64 == n);
	int found = tk_ntor3_msg_find(b, n, TK_NTOR3_EXT_CC_RESPONSE, &body,
				      &blen);
	if (found == 1)
		CHECK(body >= b + 3 && body + blen <= b + n);
	CHECK(found >= -1 && found <= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t cmd = data[0];
	const uint8_t *b = data + 1;
	size_t n = size - 1;
	switch (cmd % 16) {
	case TK_RELAY_BEGIN:
		fuzz_begin(b, n);
		break;
	case TK_RELAY_CONNECTED:
		fuzz_connected(b, n);
		break;
	case TK_RELAY_END:
		fuzz_end(b, n);
		break;
	case TK_RELAY_SENDME:
		fuzz_sendme(b, n);
		break;
	case TK_RELAY_RESOLVE: {
		tk_relay_resolve m;
		if (tk_relay_resolve_decode(b, n, &m) == 0)
			CHECK(m.name_len > 0 && m.name_len < n);
		break;
	}
	case TK_RELAY_RESOLVED:
		fuzz_resolved(b, n);
		break;
	case TK_RELAY_EXTEND2:
		fuzz_extend2(b, n);
		break;
	case TK_RELAY_EXTENDED2: {
		tk_relay_extended2 m;
		if (tk_relay_extended2_decode(b, n, &m) == 0)
			CHECK(m.hdata + m.hlen <= b + n);
		break;
	}
	case TK_RELAY_DROP:
		fuzz_xon(b, n);
		break;
	case TK_RELAY_EXTEND:
		fuzz_ntor3(b, n);
		break;
	case TK_RELAY_TRUNCATED: {
		uint8_t reason;
		(void)tk_relay_truncated_decode(b, n, &reason);
		break;
	}
	default:
		/* Other commands: exercise the address helpers on the bytes. */
		if (n >= 17) {
			tk_relay_addr a = { .family = (b[0] & 1) ? 6 : 4 };
			memcpy(a.a, b + 1, 16);
			char name[80];
			uint8_t out[TK_RELAY_DATA_MAX];
			CHECK(tk_relay_reverse_name(&a, name, sizeof name) > 0);
			CHECK(tk_relay_resolve_ptr_encode(&a, out, sizeof out) >
			      0);
			CHECK(tk_relay_addr_format(&a, name, sizeof name) > 0);
		}
		break;
	}
	return 0;
}
