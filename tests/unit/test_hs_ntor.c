/* hs-ntor and the rendezvous-protocol cells.
 *
 * Vectors (data only): rend-spec-v3 appendix G.1, "Test vectors for
 * hs-ntor" (C tor instrumented on a chutney network; also arti
 * tor-proto hs_ntor.rs testvec): the service's keys, the INTRODUCE1
 * header H, plaintext P, x and X, ENC_KEY and MAC_KEY, the whole
 * INTRODUCE1 body, y, Y, AUTH_INPUT_MAC and NTOR_KEY_SEED. The 128 bytes
 * of key expansion were computed with Python's hashlib
 * (SHAKE-256(NTOR_KEY_SEED | m_hsexpand)). hs_testsvc.c plays the
 * service's side. */
#include <stdlib.h>
#include <string.h>

#include "../unit/hs_testsvc.h"
#include "../unit/tap.h"
#include "onion/base/crypto.h"
#include "onion/hs/hs_cell.h"
#include "onion/hs/hs_linkspec.h"
#include "onion/hs/hs_ntor.h"

static const char AUTH_KEY[] =
	"34E171E4358E501BFF21ED907E96AC6BFEF697C779D040BBAF49ACC30FC5D21F";
static const char B_PUB[] =
	"8E5127A40E83AABF6493E41F142B6EE3604B85A3961CD7E38D247239AFF71979";
static const char B_SEC[] =
	"A0ED5DBF94EEB2EDB3B514E4CF6ABFF6022051CC5F103391F1970A3FCD15296A";
static const char SUBCRED[] =
	"0085D26A9DEBA252263BF0231AEAC59B17CA11BAD8A218238AD6487CBAD68B57";
static const char H_HEX[] =
	"000000000000000000000000000000000000000002002034E171E4358E501BFF"
	"21ED907E96AC6BFEF697C779D040BBAF49ACC30FC5D21F00";
static const char P_HEX[] =
	"6BD364C12638DD5C3BE23D76ACA05B04E6CE932C0101000100200DE6130E4FCA"
	"C4EDDA24E21220CC3EADAE403EF6B7D11C8273AC71908DE565450300067F0000"
	"0113890214F823C4F8CC085C792E0AEE0283FE00AD7520B37D0320728D5DF39B"
	"7B7077A0118A900FF4456C382F0041300ACF9C58E51C392795EF870000000000"
	"0000000000000000000000000000000000000000000000000000000000000000"
	"000000000000000000000000000000000000000000000000000000000000";
static const char X_SEC[] =
	"60B4D6BF5234DCF87A4E9D7487BDF3F4A69B6729835E825CA29089CFDDA1E341";
static const char X_PUB[] =
	"BF04348B46D09AED726F1D66C618FDEA1DE58E8CB8B89738D7356A0C59111D5D";
static const char ENC_KEY[] =
	"9B8917BA3D05F3130DACCE5300C3DC27F6D012912F1C733036F822D0ED238706";
static const char MAC_KEY[] =
	"FC4058DA59D4DF61E7B40985D122F502FD59336BC21C30CAF5E7F0D4A2C38FD5";
static const char CELL_HEX[] =
	"000000000000000000000000000000000000000002002034E171E4358E501BFF"
	"21ED907E96AC6BFEF697C779D040BBAF49ACC30FC5D21F00BF04348B46D09AED"
	"726F1D66C618FDEA1DE58E8CB8B89738D7356A0C59111D5DADBECCCB38E37830"
	"4DCC179D3D9E437B452AF5702CED2CCFEC085BC02C4C175FA446525C1B9D5530"
	"563C362FDFFB802DAB8CD9EBC7A5EE17DA62E37DEEB0EB187FBB48C63298B0E8"
	"3F391B7566F42ADC97C46BA7588278273A44CE96BC68FFDAE31EF5F0913B9A9C"
	"7E0F173DBC0BDDCD4ACB4C4600980A7DDD9EAEC6E7F3FA3FC37CD95E5B8BFB3E"
	"35717012B78B4930569F895CB349A07538E42309C993223AEA77EF8AEA64F25D"
	"DEE97DA623F1AEC0A47F150002150455845C385E5606E41A9A199E7111D54EF2"
	"D1A51B7554D8B3692D85AC587FB9E69DF990EFB776D8";
static const char Y_SEC[] =
	"68CB5188CA0CD7924250404FAB54EE1392D3D2B9C049A2E446513875952F8F55";
static const char REPLY_HEX[] =
	"8FBE0DB4D4A9C7FF46701E3E0EE7FD05CD28BE4F302460ADDEEC9E93354EE700"
	"4A92E8437B8424D5E5EC279245D5C72B25A0327ACF6DAF902079FCB643D8B208";
static const char SEED_HEX[] =
	"4D0C72FE8AFF35559D95ECC18EB5A36883402B28CDFD48C8A530A5A3D7D578DB";
static const char EXPAND_HEX[] =
	"d02a24dfe70151ba16fc67a623bdb26b9715ec40628d3c06fa285bfc308c4a80"
	"8af14bebae313947d8d3820c85c273ae2cb14e24e796251571db7163bdd992f8"
	"f191044c02bb743cd58e1ea9aa117bca975afe8207b791210ae4ab82a04e556a"
	"6fb0d1b019e7a548ab9eed89dc5762b8e9ee72a4787a51b3534561e0f4c1f343";

struct buf {
	uint8_t b[600];
	size_t n;
};
static struct buf
hx(const char *hex)
{
	struct buf v;
	v.n = tap_unhex(hex, v.b, sizeof v.b);
	return v;
}

/* The INTRODUCE1 fields of the vector, read back out of P. */
static void
vector_intro1(struct tk_hs_intro1 *in, uint8_t ls[128])
{
	struct buf p = hx(P_HEX), a = hx(AUTH_KEY);
	memset(in, 0, sizeof *in);
	memcpy(in->auth_key, a.b, 32);
	memcpy(in->rend_cookie, p.b, 20);
	in->cc_request = 1;		  /* 01 01 00: one extension, CC */
	memcpy(in->rp_onion_key, p.b + 26, 32); /* after 01 0020 */
	memcpy(ls, p.b + 58, 1 + 8 + 22 + 34);	/* NSPEC 3 ... */
	in->rp_linkspecs = ls;
	in->rp_linkspecs_len = 1 + 8 + 22 + 34;
}

static void
test_vector(void)
{
	struct tk_hs_ntor_client st;
	struct tk_hs_intro1 in;
	struct buf a = hx(AUTH_KEY), b = hx(B_PUB), s = hx(SUBCRED);
	struct buf x = hx(X_SEC), X = hx(X_PUB), h = hx(H_HEX), p = hx(P_HEX);
	struct buf cell = hx(CELL_HEX), reply = hx(REPLY_HEX);
	struct buf seed = hx(SEED_HEX), exp = hx(EXPAND_HEX);
	uint8_t out[600], ls[128], key_seed[32], keys[128];
	long n;

	tap_ok(tk_hs_ntor_client_init(&st, x.b, b.b, a.b, s.b) == 0,
	       "client state from the vector's x");
	tap_eq_bytes(st.X, 32, X.b, X.n, "X = x * base point");
	tap_eq_bytes(st.enc_key, 32, hx(ENC_KEY).b, 32, "ENC_KEY (rend-spec G.1)");
	tap_eq_bytes(st.mac_key, 32, hx(MAC_KEY).b, 32, "MAC_KEY (rend-spec G.1)");

	n = tk_hs_ntor_client_encrypt(&st, h.b, h.n, p.b, p.n, out, sizeof out);
	tap_eq_long(n, (long)(32 + p.n + 32), "encrypted part: X | C | MAC");
	tap_eq_bytes(out, (size_t)n, cell.b + h.n, cell.n - h.n,
		     "equals the vector's, byte for byte");
	tap_ok(tk_hs_ntor_client_encrypt(&st, h.b, h.n, p.b, p.n, out, 100) < 0,
	       "refuses a short buffer");

	/* The cell codec builds the same plaintext and the same cell. */
	vector_intro1(&in, ls);
	n = tk_hs_intro1_plaintext(&in, h.n, out, sizeof out);
	tap_eq_bytes(out, n < 0 ? 0 : (size_t)n, p.b, p.n,
		     "INTRODUCE1 plaintext from its fields, padded to 246 "
		     "as C tor pads: P");
	n = tk_hs_introduce1_encode(&in, &st, out, TK_RELAY_DATA_MAX);
	tap_eq_bytes(out, n < 0 ? 0 : (size_t)n, cell.b, cell.n,
		     "the whole INTRODUCE1 body: the vector's");

	/* The service's side, then the client's finish. */
	{
		uint8_t srv_reply[64], srv_seed[32], plain[600];
		long pl = tsvc_ntor_server(cell.b, cell.n, a.b, hx(B_SEC).b,
					   s.b, hx(Y_SEC).b, srv_reply,
					   srv_seed, plain, sizeof plain);
		tap_eq_bytes(plain, pl < 0 ? 0 : (size_t)pl, p.b, p.n,
			     "test service recovers P");
		tap_eq_bytes(srv_reply, 64, reply.b, reply.n,
			     "test service replies Y | AUTH_INPUT_MAC "
			     "(rend-spec G.1)");
		tap_eq_bytes(srv_seed, 32, seed.b, seed.n,
			     "test service's NTOR_KEY_SEED (rend-spec G.1)");
	}
	tap_ok(tk_hs_ntor_client_finish(&st, reply.b, key_seed) == 0,
	       "client accepts the service's reply");
	tap_eq_bytes(key_seed, 32, seed.b, seed.n,
		     "NTOR_KEY_SEED (rend-spec G.1)");
	tk_hs_ntor_expand(key_seed, keys);
	tap_eq_bytes(keys, 128, exp.b, exp.n,
		     "Df | Db | Kf | Kb (hashlib's SHAKE-256)");

	reply.b[40] ^= 1;
	tap_ok(tk_hs_ntor_client_finish(&st, reply.b, key_seed) < 0,
	       "a reply with AUTH altered is refused");
	reply.b[40] ^= 1;
	reply.b[3] ^= 1;
	tap_ok(tk_hs_ntor_client_finish(&st, reply.b, key_seed) < 0,
	       "a reply with Y altered is refused");
	memset(reply.b, 0, 32);
	tap_ok(tk_hs_ntor_client_finish(&st, reply.b, key_seed) < 0,
	       "a small-order Y is refused");
	tk_hs_ntor_client_wipe(&st);
	{
		uint8_t zero[32] = { 0 };
		tap_ok(tk_hs_ntor_client_init(&st, x.b, zero, a.b, s.b) < 0,
		       "a small-order service key B is refused");
	}
}

/* A fresh handshake with random x, end to end with the test service. */
static void
test_round_trip(void)
{
	struct tk_hs_ntor_client st;
	struct tk_hs_intro1 in;
	uint8_t b_sk[32], b_pk[32], auth[32], sub[32], y[32], ls[128];
	uint8_t body[TK_RELAY_DATA_MAX], reply[64], srv_seed[32], seed[32];
	uint8_t plain[600], ck[32];
	long n, pl;

	tk_random(b_sk, 32);
	tk_x25519_public(b_sk, b_pk);
	tk_random(auth, 32);
	tk_random(sub, 32);
	tk_random(y, 32);
	vector_intro1(&in, ls);
	memcpy(in.auth_key, auth, 32);
	in.cc_request = 0;
	tap_ok(tk_hs_ntor_client_init(&st, NULL, b_pk, auth, sub) == 0,
	       "fresh handshake");
	n = tk_hs_introduce1_encode(&in, &st, body, sizeof body);
	tap_ok(n > 0, "INTRODUCE1 of %ld bytes", n);
	pl = tsvc_ntor_server(body, (size_t)n, auth, b_sk, sub, y, reply,
			      srv_seed, plain, sizeof plain);
	tap_ok(pl > 0 && memcmp(plain, in.rend_cookie, 20) == 0 &&
		       plain[20] == 0,
	       "the service reads our cookie and no extension");
	tap_ok(tk_hs_ntor_client_finish(&st, reply, seed) == 0 &&
		       memcmp(seed, srv_seed, 32) == 0,
	       "both sides agree on NTOR_KEY_SEED");
	body[n - 1] ^= 1;
	tap_ok(tsvc_ntor_server(body, (size_t)n, auth, b_sk, sub, y, reply,
				srv_seed, plain, sizeof plain) < 0,
	       "the service refuses a cell with its MAC altered");
	body[n - 1] ^= 1;
	body[30] ^= 1; /* inside AUTH_KEY: covered by the MAC */
	tap_ok(tsvc_ntor_server(body, (size_t)n, auth, b_sk, sub, y, reply,
				srv_seed, plain, sizeof plain) < 0,
	       "or with its header altered");
	memcpy(ck, sub, 32);
	ck[0] ^= 1;
	body[30] ^= 1;
	tap_ok(tsvc_ntor_server(body, (size_t)n, auth, b_sk, ck, y, reply,
				srv_seed, plain, sizeof plain) < 0,
	       "a service with another subcredential cannot read it");
	tk_hs_ntor_client_wipe(&st);
}

static void
test_cells(void)
{
	uint8_t cookie[20], out[64], hi[64];
	struct tk_hs_intro_ack ack;
	uint8_t big[TK_RELAY_DATA_MAX];

	memset(cookie, 0x5a, 20);
	tap_eq_long(tk_hs_establish_rendezvous_encode(cookie, out, sizeof out),
		    20, "ESTABLISH_RENDEZVOUS is the 20-byte cookie");
	tap_ok(memcmp(out, cookie, 20) == 0, "verbatim");
	tap_eq_long(tk_hs_establish_rendezvous_encode(cookie, out, 19),
		    TK_RELAY_ESPACE, "refuses a short buffer");
	tap_eq_long(tk_hs_rendezvous_established_decode(NULL, 0), 0,
		    "RENDEZVOUS_ESTABLISHED empty");
	tap_eq_long(tk_hs_rendezvous_established_decode(cookie, 20), 0,
		    "RENDEZVOUS_ESTABLISHED with extra bytes: ignored");

	tap_ok(tk_hs_introduce_ack_decode((const uint8_t *)"\0\0\0", 3,
					  &ack) == 0 &&
		       ack.status == TK_HS_INTRO_ACK_SUCCESS,
	       "INTRODUCE_ACK success");
	tap_ok(tk_hs_introduce_ack_decode((const uint8_t *)"\0\1\0", 3,
					  &ack) == 0 &&
		       ack.status == TK_HS_INTRO_ACK_UNKNOWN_ID,
	       "INTRODUCE_ACK service ID not recognised");
	tap_ok(tk_hs_introduce_ack_decode((const uint8_t *)"\0\3\1\7\2ab", 7,
					  &ack) == 0 &&
		       ack.status == 3 && ack.n_ext == 1,
	       "INTRODUCE_ACK with an extension");
	tap_eq_long(tk_hs_introduce_ack_decode((const uint8_t *)"\0\3\1\7\3ab",
					       7, &ack),
		    TK_RELAY_ETRUNC, "INTRODUCE_ACK with a cut extension");
	tap_eq_long(tk_hs_introduce_ack_decode((const uint8_t *)"\0", 1, &ack),
		    TK_RELAY_ETRUNC, "INTRODUCE_ACK of one byte");
	tap_eq_long(tk_hs_introduce_ack_decode((const uint8_t *)"\0\0", 2,
					       &ack),
		    TK_RELAY_ETRUNC, "INTRODUCE_ACK without N_EXTENSIONS");

	memset(big, 0x33, sizeof big);
	tap_eq_long(tk_hs_rendezvous2_decode(big, 148, hi), 0,
		    "RENDEZVOUS2 padded to 148 bytes");
	tap_ok(memcmp(hi, big, 64) == 0, "HANDSHAKE_INFO is its first 64");
	tap_eq_long(tk_hs_rendezvous2_decode(big, 63, hi), TK_RELAY_ETRUNC,
		    "RENDEZVOUS2 of 63 bytes: truncated");
}

static void
test_intro1_limits(void)
{
	struct tk_hs_ntor_client st;
	struct tk_hs_intro1 in;
	uint8_t ls[600], out[TK_RELAY_DATA_MAX], b_pk[32], sub[32] = { 1 };
	tk_linkspec specs[6];
	long n;

	vector_intro1(&in, ls);
	tk_random(b_pk, 32);
	tk_hs_ntor_client_init(&st, NULL, b_pk, in.auth_key, sub);
	/* Six unknown specifiers of 60 bytes: the plaintext no longer
	 * fits one relay message. */
	for (int i = 0; i < 6; i++) {
		specs[i].type = 0x80;
		specs[i].len = 60;
		memset(specs[i].data, i, 60);
	}
	n = tk_hs_linkspecs_encode(specs, 6, ls, sizeof ls);
	in.rp_linkspecs_len = (size_t)n;
	tap_eq_long(tk_hs_introduce1_encode(&in, &st, out, sizeof out),
		    TK_RELAY_ETOOBIG,
		    "link specifiers that cannot fit: refused, not cut");
	in.rp_linkspecs_len = 5;
	tap_eq_long(tk_hs_introduce1_encode(&in, &st, out, sizeof out),
		    TK_RELAY_ELINKSPEC, "a malformed block: refused");
	tk_hs_ntor_client_wipe(&st);
}

int
main(void)
{
	if (tk_crypto_init() < 0)
		return 1;
	test_vector();
	test_round_trip();
	test_cells();
	test_intro1_limits();
	return tap_done();
}
