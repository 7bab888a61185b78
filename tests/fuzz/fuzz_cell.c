/* libFuzzer harness: cell framing over a byte stream, then each framed
 * cell handed to the payload codec its command selects, as the channel
 * does. The first input byte picks the circuit-id width (2 or 4). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onion/cell/cell.h"
#include "onion/base/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void dispatch(const tk_cell_view *v)
{
	uint16_t vers[TK_VERSIONS_MAX];
	size_t n, hlen;
	tk_certs certs;
	tk_auth_challenge ac;
	tk_netinfo ni;
	tk_padding_negotiate pn;
	tk_relay_header rh;
	const uint8_t *a, *b;
	uint16_t htype;
	uint8_t reason;

	switch (v->cmd) {
	case TK_CELL_VERSIONS:
		if (tk_versions_parse(v->payload, v->payload_len, vers,
				      TK_VERSIONS_MAX, &n) == 0) {
			uint16_t ours[] = { 4, 5 }, chosen;
			if (tk_versions_choose(ours, 2, vers, n, &chosen) == 0 &&
			    chosen != 4 && chosen != 5)
				abort();
		}
		break;
	case TK_CELL_CERTS:
		if (tk_certs_parse(v->payload, v->payload_len, &certs) == 0) {
			for (size_t i = 0; i < certs.n; i++) {
				const uint8_t *end = certs.e[i].body +
						     certs.e[i].len;
				if (certs.e[i].body < v->payload ||
				    end > v->payload + v->payload_len)
					abort();
			}
		}
		break;
	case TK_CELL_AUTH_CHALLENGE:
		if (tk_auth_challenge_parse(v->payload, v->payload_len, &ac) ==
		    0)
			(void)tk_auth_challenge_has_method(&ac, 3);
		break;
	case TK_CELL_NETINFO:
		(void)tk_netinfo_parse(v->payload, v->payload_len, &ni);
		break;
	case TK_CELL_CREATED_FAST:
		(void)tk_created_fast_parse(v->payload, v->payload_len, &a, &b);
		break;
	case TK_CELL_CREATE2:
		if (tk_create2_parse(v->payload, v->payload_len, &htype, &a,
				     &hlen) == 0 &&
		    a + hlen > v->payload + v->payload_len)
			abort();
		break;
	case TK_CELL_CREATED2:
		if (tk_created2_parse(v->payload, v->payload_len, &a, &hlen) ==
			    0 &&
		    a + hlen > v->payload + v->payload_len)
			abort();
		break;
	case TK_CELL_DESTROY:
		if (tk_destroy_parse(v->payload, v->payload_len, &reason) == 0)
			(void)tk_destroy_reason_str(reason);
		break;
	case TK_CELL_PADDING_NEGOTIATE:
		(void)tk_padding_negotiate_parse(v->payload, v->payload_len,
						 &pn);
		break;
	case TK_CELL_RELAY:
	case TK_CELL_RELAY_EARLY:
		if (v->payload_len == TK_CELL_PAYLOAD_LEN &&
		    tk_relay_header_parse(v->payload, &rh, &a) == 0 &&
		    a + rh.length > v->payload + v->payload_len)
			abort();
		break;
	default:
		(void)tk_cell_cmd_name(v->cmd);
	}
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
	int width = (data[0] & 1) ? 4 : 2;
	const uint8_t *p = data + 1;
	size_t left = size - 1;
	for (;;) {
		tk_cell_view v;
		size_t used = 0;
		int rc = tk_cell_frame(p, left, width, &v, &used);
		if (rc != TK_CELL_OK)
			break;
		if (used == 0 || used > left ||
		    v.payload + v.payload_len != p + used)
			abort();
		dispatch(&v);
		p += used;
		left -= used;
		/* like the channel: only the first cell uses 2-byte ids */
		width = 4;
	}
	return 0;
}
