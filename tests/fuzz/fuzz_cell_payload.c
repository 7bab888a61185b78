/* libFuzzer harness: each payload codec on arbitrary bytes, and the
 * encoders on what the decoders accept (decode -> encode -> decode must
 * give the same thing), and tor1 decryption of inbound relay cells. The
 * first byte selects the codec. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onion/cell/cell.h"
#include "onion/base/crypto.h"
#include "onion/circ/relay_crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void certs_roundtrip(const uint8_t *p, size_t len)
{
	tk_certs c, c2;
	static uint8_t buf[70000];
	size_t n;
	if (tk_certs_parse(p, len, &c) != 0)
		return;
	if (tk_certs_write(&c, buf, sizeof buf, &n) != 0)
		abort();
	if (n > len || tk_certs_parse(buf, n, &c2) != 0 || c2.n != c.n)
		abort();
	for (size_t i = 0; i < c.n; i++)
		if (c.e[i].type != c2.e[i].type || c.e[i].len != c2.e[i].len ||
		    memcmp(c.e[i].body, c2.e[i].body, c.e[i].len) != 0)
			abort();
}

static void netinfo_roundtrip(const uint8_t *p, size_t len)
{
	tk_netinfo ni, ni2;
	uint8_t out[TK_CELL_PAYLOAD_LEN];
	if (tk_netinfo_parse(p, len, &ni) != 0)
		return;
	if (tk_netinfo_write(&ni, out) != 0)
		return; /* unusable addresses are not re-encoded */
	if (tk_netinfo_parse(out, sizeof out, &ni2) != 0 ||
	    ni2.time != ni.time || ni2.n_my != ni.n_my ||
	    memcmp(&ni2.other, &ni.other, sizeof ni.other) != 0)
		abort();
}

static void create2_roundtrip(const uint8_t *p, size_t len)
{
	uint16_t htype, htype2;
	const uint8_t *hd, *hd2;
	size_t hlen, hlen2;
	uint8_t out[TK_CELL_PAYLOAD_LEN];
	if (tk_create2_parse(p, len, &htype, &hd, &hlen) != 0)
		return;
	if (tk_create2_write(htype, hd, hlen, out) != 0 ||
	    tk_create2_parse(out, sizeof out, &htype2, &hd2, &hlen2) != 0 ||
	    htype2 != htype || hlen2 != hlen || memcmp(hd, hd2, hlen) != 0)
		abort();
}

static void created2_roundtrip(const uint8_t *p, size_t len)
{
	const uint8_t *hd, *hd2;
	size_t hlen, hlen2;
	uint8_t out[TK_CELL_PAYLOAD_LEN];
	if (tk_created2_parse(p, len, &hd, &hlen) != 0)
		return;
	if (tk_created2_write(hd, hlen, out) != 0 ||
	    tk_created2_parse(out, sizeof out, &hd2, &hlen2) != 0 ||
	    hlen2 != hlen || memcmp(hd, hd2, hlen) != 0)
		abort();
}

static void relay_roundtrip(const uint8_t *p, size_t len)
{
	uint8_t cell[TK_CELL_PAYLOAD_LEN] = { 0 }, out[TK_CELL_PAYLOAD_LEN];
	tk_relay_header h, h2;
	const uint8_t *d, *d2;
	memcpy(cell, p, len < sizeof cell ? len : sizeof cell);
	if (tk_relay_header_parse(cell, &h, &d) != 0)
		return;
	if (tk_relay_payload_build(out, h.cmd, h.stream_id, d, h.length) != 0 ||
	    tk_relay_header_parse(out, &h2, &d2) != 0 || h2.cmd != h.cmd ||
	    h2.stream_id != h.stream_id || h2.length != h.length ||
	    memcmp(d, d2, h.length) != 0)
		abort();
}

/* An inbound relay cell through three hops of tor1 crypto: whatever the
 * bytes, it is either attributed to one hop with a sane header or refused. */
static void relay_open(const uint8_t *p, size_t len)
{
	static const uint8_t k[3][72] = { { 1 }, { 2 }, { 3 } };
	tk_relay_hop hops[3];
	uint8_t cell[TK_CELL_PAYLOAD_LEN] = { 0 };
	size_t from = 99;
	uint8_t tag[TK_RELAY_TAG_LEN];
	for (int i = 0; i < 3; i++)
		if (tk_relay_hop_init(&hops[i], k[i]) != 0)
			abort();
	memcpy(cell, p, len < sizeof cell ? len : sizeof cell);
	if (tk_relay_crypt_open(hops, 3, cell, &from, tag) == 0) {
		tk_relay_header h;
		if (from >= 3 || cell[1] != 0 || cell[2] != 0)
			abort();
		(void)tk_relay_header_parse(cell, &h, NULL);
	}
	for (int i = 0; i < 3; i++)
		tk_relay_hop_free(&hops[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		if (tk_crypto_init() != 0)
			abort();
		init = 1;
	}
	if (size < 1)
		return 0;
	/* Copy to an exact-size buffer so ASan catches any overread. */
	size_t len = size - 1;
	uint8_t *p = malloc(len ? len : 1);
	if (!p)
		return 0;
	memcpy(p, data + 1, len);
	uint16_t vers[TK_VERSIONS_MAX];
	size_t n;
	tk_auth_challenge ac;
	tk_padding_negotiate pn;
	const uint8_t *a, *b;
	uint8_t reason;

	switch (data[0] % 10) {
	case 0:
		(void)tk_versions_parse(p, len, vers, TK_VERSIONS_MAX, &n);
		break;
	case 1:
		certs_roundtrip(p, len);
		break;
	case 2:
		if (tk_auth_challenge_parse(p, len, &ac) == 0)
			(void)tk_auth_challenge_has_method(&ac, 1);
		break;
	case 3:
		netinfo_roundtrip(p, len);
		break;
	case 4:
		(void)tk_created_fast_parse(p, len, &a, &b);
		break;
	case 5:
		create2_roundtrip(p, len);
		break;
	case 6:
		created2_roundtrip(p, len);
		break;
	case 7:
		(void)tk_destroy_parse(p, len, &reason);
		(void)tk_padding_negotiate_parse(p, len, &pn);
		break;
	case 8:
		relay_roundtrip(p, len);
		break;
	case 9:
		relay_open(p, len);
		break;
	}
	free(p);
	return 0;
}
