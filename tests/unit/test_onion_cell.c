/* Cell framing and payload codecs: encodings against vectors, round
 * trips, and truncated/oversized input rejected with a reason.
 *
 * Payload vectors (data only) are cells a chutney network of tor 0.4.5
 * sent, as collected in arti crates/tor-cell/tests/testvec_chanmsg.rs
 * (MIT/Apache-2.0); the "bogus NETINFO" and PADDING_NEGOTIATE ones were
 * written by hand there. Framing vectors follow tor-spec §3. */
#include <stdlib.h>
#include <string.h>

#include "../unit/tap.h"
#include "onion/base/bytes.h"
#include "onion/cell/cell.h"
#include "onion/base/crypto.h"

static uint8_t pay[TK_CELL_PAYLOAD_LEN];

/* Decodes hex and zero-pads to a fixed payload. */
static size_t fixed_payload(const char *hex)
{
	memset(pay, 0, sizeof pay);
	return tap_unhex(hex, pay, sizeof pay);
}

static void test_framing(void)
{
	uint8_t buf[1200], out[TK_CELL_LEN];
	tk_cell_view v;
	size_t used, n;

	/* Our VERSIONS cell: 00 00 | 07 | 00 04 | 00 04 00 05 */
	uint8_t want[9];
	tap_unhex("0000 07 0004 00040005", want, sizeof want);
	tap_ok(tk_versions_write_ours(buf, sizeof buf, &n) == TK_CELL_OK,
	       "VERSIONS encodes");
	tap_eq_bytes(buf, n, want, 9, "VERSIONS offering 4,5 with 2-byte circ id");
	tap_eq_long(tk_versions_write_ours(buf, 8, &n), TK_CELL_ENOSPACE,
		    "VERSIONS into a short buffer refused");

	/* Frame it back: needs exactly 9 bytes with a 2-byte circ id. */
	tap_eq_long(tk_cell_frame(want, 8, 2, &v, &used), TK_CELL_NEED_MORE,
		    "VERSIONS minus one byte: need more");
	tap_ok(tk_cell_frame(want, 9, 2, &v, &used) == TK_CELL_OK &&
		       used == 9 && v.cmd == TK_CELL_VERSIONS && v.is_var &&
		       v.payload_len == 4 && v.circ_id == 0,
	       "VERSIONS frames as a 9-byte variable cell");

	/* Fixed cell, 4-byte circ id */
	uint8_t p[3] = { 1, 2, 3 };
	tap_ok(tk_cell_write_fixed(out, 0x80000001u, TK_CELL_DESTROY, p, 3) ==
		       TK_CELL_OK,
	       "fixed cell encodes");
	tap_ok(out[0] == 0x80 && out[3] == 1 && out[4] == 4 && out[5] == 1 &&
		       out[8] == 0 && out[513] == 0,
	       "fixed cell layout: circ id, cmd, payload, zero padding");
	tap_eq_long(tk_cell_frame(out, 513, 4, &v, &used), TK_CELL_NEED_MORE,
		    "513 bytes of a fixed cell: need more");
	tap_ok(tk_cell_frame(out, TK_CELL_LEN, 4, &v, &used) == TK_CELL_OK &&
		       used == 514 && v.circ_id == 0x80000001u && !v.is_var &&
		       v.payload_len == 509 && v.payload == out + 5,
	       "fixed cell frames: 514 bytes, payload view");
	tap_eq_long(tk_cell_frame(out, 0, 4, &v, &used), TK_CELL_NEED_MORE,
		    "empty input: need more");
	tap_eq_long(tk_cell_frame(out, 514, 3, &v, &used), TK_CELL_EBADCIRC,
		    "circ id width 3 refused");
	tap_eq_long(tk_cell_write_fixed(out, 1, TK_CELL_DESTROY, buf, 510),
		    TK_CELL_ETOOLONG, "fixed payload of 510 bytes refused");
	tap_eq_long(tk_cell_write_fixed(out, 1, TK_CELL_CERTS, p, 3),
		    TK_CELL_EBADVALUE, "variable command in a fixed cell refused");

	/* Variable cell, 4-byte circ id; two cells back to back */
	uint8_t pad10[10] = { 0 };
	tap_ok(tk_cell_write_var(buf, sizeof buf, 4, 0, TK_CELL_VPADDING, pad10,
				 10, &n) == TK_CELL_OK &&
		       n == 17,
	       "VPADDING(10) encodes to 17 bytes");
	memcpy(buf + 17, out, TK_CELL_LEN);
	tap_ok(tk_cell_frame(buf, 17 + 514, 4, &v, &used) == TK_CELL_OK &&
		       used == 17 && v.cmd == TK_CELL_VPADDING &&
		       v.payload_len == 10,
	       "first of two cells framed");
	tap_ok(tk_cell_frame(buf + used, 514, 4, &v, &used) == TK_CELL_OK &&
		       v.cmd == TK_CELL_DESTROY,
	       "second cell framed after it");
	tap_eq_long(tk_cell_frame(buf, 6, 4, &v, &used), TK_CELL_NEED_MORE,
		    "variable header incomplete: need more");
	tap_eq_long(tk_cell_write_var(buf, sizeof buf, 2, 0x10000,
				      TK_CELL_VERSIONS, p, 2, &n),
		    TK_CELL_EBADVALUE, "circ id too wide for 2 bytes refused");
	tap_eq_long(tk_cell_write_var(buf, sizeof buf, 4, 1, TK_CELL_RELAY, p,
				      2, &n),
		    TK_CELL_EBADVALUE, "fixed command in a variable cell refused");
	tap_eq_long(tk_cell_write_var(buf, 16, 4, 0, TK_CELL_VPADDING, pad10,
				      10, &n),
		    TK_CELL_ENOSPACE, "variable cell into a short buffer refused");

	/* A declared length of 65535 is framed (need more until it all
	 * arrives): the framer never reads beyond what it was given. */
	uint8_t big[7] = { 0, 0, 0, 0, TK_CELL_CERTS, 0xff, 0xff };
	tap_eq_long(tk_cell_frame(big, sizeof big, 4, &v, &used),
		    TK_CELL_NEED_MORE, "CERTS declaring 65535 bytes: need more");

	tap_ok(tk_cell_cmd_is_var(7) && tk_cell_cmd_is_var(128) &&
		       tk_cell_cmd_is_var(255) && !tk_cell_cmd_is_var(12) &&
		       !tk_cell_cmd_is_var(127),
	       "variable iff cmd 7 or >= 128");
	tap_eq_str(tk_cell_cmd_name(TK_CELL_CREATED2), "CREATED2", "command name");
	tap_eq_str(tk_cell_cmd_name(101), "unknown", "unknown command name");
}

static void test_versions(void)
{
	uint8_t v[8];
	uint16_t vs[TK_VERSIONS_MAX], chosen;
	size_t n;
	size_t len = tap_unhex("000300040005", v, sizeof v);
	tap_ok(tk_versions_parse(v, len, vs, TK_VERSIONS_MAX, &n) == 0 &&
		       n == 3 && vs[0] == 3 && vs[2] == 5,
	       "VERSIONS 3,4,5 parses");
	uint16_t ours[] = { 4, 5 };
	tap_ok(tk_versions_choose(ours, 2, vs, n, &chosen) == 0 && chosen == 5,
	       "highest common version is 5");
	uint16_t old[] = { 1, 2, 3 };
	tap_eq_long(tk_versions_choose(ours, 2, old, 3, &chosen),
		    TK_CELL_ENOVERSION, "relay offering only 1-3: no version");
	tap_eq_long(tk_versions_parse(v, 5, vs, TK_VERSIONS_MAX, &n),
		    TK_CELL_EBADLEN, "odd-length VERSIONS rejected");
	tap_ok(tk_versions_parse(v, 6, vs, 2, &n) == 0 && n == 2,
	       "versions beyond the caller's array are dropped");
	tap_ok(tk_versions_parse(v, 0, vs, 2, &n) == 0 && n == 0,
	       "empty VERSIONS parses to nothing");
}

static void test_create_created(void)
{
	uint8_t out[TK_CELL_PAYLOAD_LEN], hs[84];
	const uint8_t *hd, *y, *kh;
	size_t hlen, n;
	uint16_t htype;

	/* CREATE2 (ntor) from the chutney run */
	n = fixed_payload("0002 0054 09164430E84D3BC56EC7E1D22734742345E2DECE0DE535B66B8E8A0EBBDAE3263C53E02EC2215685CD3A977DC7946FF47F84CD7025F75D252D1B35DEA28F32FA912513889A207E5049992DBC9BC541194C13624A");
	tap_eq_long((long)n, 88, "CREATE2 vector is 88 bytes");
	memcpy(hs, pay + 4, 84);
	tap_ok(tk_create2_write(TK_HTYPE_NTOR, hs, 84, out) == 0,
	       "CREATE2 encodes");
	tap_eq_bytes(out, 509, pay, 509, "CREATE2 matches the relay's bytes");
	tap_ok(tk_create2_parse(pay, 509, &htype, &hd, &hlen) == 0 &&
		       htype == 2 && hlen == 84 && hd == pay + 4,
	       "CREATE2 parses: htype 2, 84 bytes");
	pay[2] = 0x01;
	pay[3] = 0xfa; /* HLEN 506 > 505 */
	tap_eq_long(tk_create2_parse(pay, 509, &htype, &hd, &hlen),
		    TK_CELL_ETOOLONG, "CREATE2 HLEN 506 rejected");
	pay[2] = 0;
	pay[3] = 0x54;
	tap_eq_long(tk_create2_parse(pay, 60, &htype, &hd, &hlen),
		    TK_CELL_ETRUNC, "CREATE2 cut short rejected");
	tap_eq_long(tk_create2_parse(pay, 3, &htype, &hd, &hlen),
		    TK_CELL_ETRUNC, "CREATE2 without HLEN rejected");
	tap_eq_long(tk_create2_write(2, out, 506, out), TK_CELL_ETOOLONG,
		    "CREATE2 with 506 bytes of HDATA refused");

	/* CREATED2 */
	n = fixed_payload("0040 0108907A701030ADB6CA9C6AF097DC4855614655659B6A7BF21C1097DCE7C66EE0E4EF287DE7CED40BEECA8B90140C05DB6138AEB551CE0C037068C315E307A0");
	tap_ok(tk_created2_parse(pay, 509, &hd, &hlen) == 0 && hlen == 64 &&
		       hd[0] == 0x01 && hd[63] == 0xa0,
	       "CREATED2 parses: 64 bytes Y|AUTH");
	uint8_t y64[64];
	memcpy(y64, pay + 2, 64);
	tk_created2_write(y64, 64, out);
	tap_eq_bytes(out, 509, pay, 509, "CREATED2 round trip");
	pay[0] = 0x01;
	pay[1] = 0xfc; /* 508 > 507 */
	tap_eq_long(tk_created2_parse(pay, 509, &hd, &hlen), TK_CELL_ETOOLONG,
		    "CREATED2 HLEN 508 rejected");
	tap_eq_long(tk_created2_parse(pay, 1, &hd, &hlen), TK_CELL_ETRUNC,
		    "CREATED2 of one byte rejected");

	/* CREATE_FAST / CREATED_FAST */
	fixed_payload("0DC2A5EB921EF4B71F41184A99F4FAD99620A648");
	uint8_t x[20];
	memcpy(x, pay, 20);
	tk_create_fast_write(x, out);
	tap_eq_bytes(out, 509, pay, 509, "CREATE_FAST matches the relay's bytes");
	fixed_payload("03B74250B01D09FDA72B70D63AE7994926F13055BED23485F6B3C8C3CEAFE1DF48A9FF8BAC4993FC");
	tap_ok(tk_created_fast_parse(pay, 509, &y, &kh) == 0 && y == pay &&
		       kh == pay + 20,
	       "CREATED_FAST parses Y and KH");
	tap_eq_long(tk_created_fast_parse(pay, 39, &y, &kh), TK_CELL_ETRUNC,
		    "CREATED_FAST of 39 bytes rejected");

	/* DESTROY */
	uint8_t reason;
	fixed_payload("04");
	tk_destroy_write(4, out);
	tap_eq_bytes(out, 509, pay, 509, "DESTROY(4) encoding");
	tap_ok(tk_destroy_parse(pay, 509, &reason) == 0 && reason == 4,
	       "DESTROY reason 4 parses");
	tap_eq_str(tk_destroy_reason_str(reason), "hibernating",
		   "DESTROY reason text");
	tap_eq_str(tk_destroy_reason_str(200), "unknown reason",
		   "unknown DESTROY reason text");
	tap_eq_long(tk_destroy_parse(pay, 0, &reason), TK_CELL_ETRUNC,
		    "empty DESTROY rejected");
}

static void test_netinfo(void)
{
	tk_netinfo ni;
	uint8_t out[TK_CELL_PAYLOAD_LEN];

	/* Client NETINFO: time 0, relay 127.0.0.1, no own addresses */
	fixed_payload("00000000 04 04 7F000001 00");
	memset(&ni, 0, sizeof ni);
	ni.other.type = 4;
	ni.other.len = 4;
	memcpy(ni.other.addr, "\x7f\0\0\1", 4);
	tap_ok(tk_netinfo_write(&ni, out) == 0, "client NETINFO encodes");
	tap_eq_bytes(out, 509, pay, 509, "client NETINFO bytes");

	/* Relay NETINFO */
	fixed_payload("5F6F80E1 04 04 7F000001 01 04 04 7F000001");
	tap_ok(tk_netinfo_parse(pay, 509, &ni) == 0 && ni.time == 0x5f6f80e1 &&
		       ni.n_my == 1 && tk_netinfo_addr_usable(&ni.my[0]) &&
		       ni.my[0].addr[0] == 0x7f,
	       "relay NETINFO parses");
	tk_netinfo_write(&ni, out);
	tap_eq_bytes(out, 509, pay, 509, "relay NETINFO round trip");

	/* IPv6 */
	fixed_payload("5F6F859C 06 10 00000000000000000000000000000001 02 "
		      "04 04 7F000001 06 10 00000000000000000000000000000001");
	tap_ok(tk_netinfo_parse(pay, 509, &ni) == 0 && ni.other.type == 6 &&
		       ni.other.addr[15] == 1 && ni.n_my == 2 &&
		       ni.my[1].type == 6,
	       "IPv6 NETINFO parses");
	tk_netinfo_write(&ni, out);
	tap_eq_bytes(out, 509, pay, 509, "IPv6 NETINFO round trip");

	/* Bogus addresses are skipped, not fatal */
	size_t n = tap_unhex("5F6F859C 06 09 000000000000000000 03 "
			     "04 06 7F0000010000 BB 02 FFFF "
			     "06 10 00000000000000000000000000000001",
			     pay, sizeof pay);
	tap_ok(tk_netinfo_parse(pay, n, &ni) == 0 &&
		       !tk_netinfo_addr_usable(&ni.other) && ni.n_my == 3 &&
		       !tk_netinfo_addr_usable(&ni.my[0]) &&
		       !tk_netinfo_addr_usable(&ni.my[1]) &&
		       tk_netinfo_addr_usable(&ni.my[2]),
	       "NETINFO with bogus addresses: only the IPv6 one usable");
	tap_eq_long(tk_netinfo_write(&ni, out), TK_CELL_EBADVALUE,
		    "encoding an unusable address refused");

	/* Truncations */
	n = tap_unhex("5F6F80E1 04 04 7F000001 01 04 04 7F00", pay, sizeof pay);
	tap_eq_long(tk_netinfo_parse(pay, n, &ni), TK_CELL_ETRUNC,
		    "NETINFO with a cut-off address rejected");
	tap_eq_long(tk_netinfo_parse(pay, 3, &ni), TK_CELL_ETRUNC,
		    "NETINFO without a full timestamp rejected");
	tap_eq_long(tk_netinfo_parse(pay, 10, &ni), TK_CELL_ETRUNC,
		    "NETINFO without its address count rejected");
	/* more own addresses than we keep: checked, then dropped */
	memset(pay, 0, sizeof pay);
	pay[4] = 4;
	pay[5] = 4;
	pay[10] = 20;
	for (int i = 0; i < 20; i++) {
		pay[11 + 6 * i] = 4;
		pay[12 + 6 * i] = 4;
	}
	tap_ok(tk_netinfo_parse(pay, 509, &ni) == 0 &&
		       ni.n_my == TK_NETINFO_MAX_MYADDRS,
	       "20 own addresses: first %d kept", TK_NETINFO_MAX_MYADDRS);
}

static void test_auth_challenge_padding(void)
{
	uint8_t p[64];
	tk_auth_challenge ac;
	size_t n = tap_unhex("00DA5C085DEE4F3656710DA3B73652E48ACD5BAE608335FCA3"
			     "FB6C4DEE104A51 0002 0001 0003",
			     p, sizeof p);
	tap_ok(tk_auth_challenge_parse(p, n, &ac) == 0 && ac.n_methods == 2 &&
		       ac.challenge[0] == 0 && ac.challenge[31] == 0x51,
	       "AUTH_CHALLENGE parses, 2 methods");
	tap_ok(tk_auth_challenge_has_method(&ac, 3) &&
		       tk_auth_challenge_has_method(&ac, 1) &&
		       !tk_auth_challenge_has_method(&ac, 2),
	       "AUTH_CHALLENGE methods 1 and 3");
	tap_eq_long(tk_auth_challenge_parse(p, n - 1, &ac), TK_CELL_ETRUNC,
		    "AUTH_CHALLENGE with a cut method list rejected");
	tap_eq_long(tk_auth_challenge_parse(p, 31, &ac), TK_CELL_ETRUNC,
		    "AUTH_CHALLENGE shorter than the challenge rejected");

	tk_padding_negotiate pn = { 0, 2, 256, 512 }, back;
	uint8_t out[TK_CELL_PAYLOAD_LEN];
	tk_padding_negotiate_write(&pn, out);
	fixed_payload("00 02 0100 0200");
	tap_eq_bytes(out, 509, pay, 509, "PADDING_NEGOTIATE start(256,512)");
	tap_ok(tk_padding_negotiate_parse(pay, 509, &back) == 0 &&
		       back.command == 2 && back.ito_high_ms == 512,
	       "PADDING_NEGOTIATE parses");
	tap_eq_long(tk_padding_negotiate_parse(pay, 5, &back), TK_CELL_ETRUNC,
		    "PADDING_NEGOTIATE of 5 bytes rejected");
}

static void test_relay_header(void)
{
	uint8_t p[TK_CELL_PAYLOAD_LEN], data[TK_RELAY_DATA_MAX + 1];
	tk_relay_header h;
	const uint8_t *d;
	memset(data, 'x', sizeof data);

	tap_ok(tk_relay_payload_build(p, TK_RELAY_BEGIN_DIR, 0x1234, NULL, 0) ==
		       0,
	       "empty BEGIN_DIR builds");
	tap_ok(p[0] == 13 && p[1] == 0 && p[2] == 0 && p[3] == 0x12 &&
		       p[4] == 0x34 && p[9] == 0 && p[10] == 0 &&
		       memcmp(p + 11, "\0\0\0\0", 4) == 0,
	       "relay header layout, 4 zero bytes of padding after the data");
	tap_ok(tk_relay_header_parse(p, &h, &d) == 0 && h.cmd == 13 &&
		       h.stream_id == 0x1234 && h.length == 0 && d == p + 11,
	       "relay header parses");

	tap_ok(tk_relay_payload_build(p, TK_RELAY_DATA, 1, data, 498) == 0 &&
		       p[9] == 0x01 && p[10] == 0xf2 && p[508] == 'x',
	       "DATA of 498 bytes fills the cell");
	tap_eq_long(tk_relay_payload_build(p, TK_RELAY_DATA, 1, data, 499),
		    TK_CELL_ETOOLONG, "DATA of 499 bytes refused");
	tk_relay_payload_build(p, TK_RELAY_DATA, 1, data, 496);
	tap_ok(p[507] == 0 && p[508] == 0, "2 bytes of padding, both zero");

	/* random padding beyond the first 4 bytes: two builds differ */
	uint8_t q[TK_CELL_PAYLOAD_LEN];
	tk_relay_payload_build(p, TK_RELAY_DATA, 1, data, 1);
	tk_relay_payload_build(q, TK_RELAY_DATA, 1, data, 1);
	tap_ok(memcmp(p, q, 16) == 0 && memcmp(p + 16, q + 16, 493) != 0,
	       "padding after 4 zero bytes is random (prop 289)");

	p[9] = 0x01;
	p[10] = 0xf3; /* 499 */
	tap_eq_long(tk_relay_header_parse(p, &h, &d), TK_CELL_EBADLEN,
		    "relay Length 499 rejected");
	tap_eq_str(tk_relay_cmd_name(TK_RELAY_EXTENDED2), "EXTENDED2",
		   "relay command name");
}

static void test_strerror(void)
{
	int ok = 1;
	for (int e = -9; e <= 1; e++)
		if (!tk_cell_strerror(e) || !*tk_cell_strerror(e) ||
		    strcmp(tk_cell_strerror(e), "unknown cell error") == 0)
			ok = 0;
	tap_ok(ok, "every cell error has a message");
	tap_eq_str(tk_cell_strerror(TK_CELL_ETRUNC),
		   "cell payload truncated: a field runs past its end",
		   "ETRUNC message");
}

int main(void)
{
	if (tk_crypto_init() != 0) {
		tap_ok(0, "libsodium initialises");
		return tap_done();
	}
	test_framing();
	test_versions();
	test_create_created();
	test_netinfo();
	test_auth_challenge_padding();
	test_relay_header();
	test_strerror();
	return tap_done();
}
