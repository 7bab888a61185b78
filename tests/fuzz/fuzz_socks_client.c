/* libFuzzer harness: the SOCKS client's reply parser.
 *
 * Input: [config] [split seed] [bytes a proxy answers...]. config picks
 * SOCKS4/5, the command, credentials and a target; the answer is fed
 * whole and in network-like pieces, and both runs must agree. Invariants:
 * consumed <= bytes fed, send_len <= TK_SOCKS_REPLY_MAX, messages are
 * NUL-terminated, an ERROR says why in words, a DONE reply's host is
 * NUL-terminated with host_len <= 255, and nothing is accepted afterwards. */
#include "lib/socks_proto.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                             \
	do {                                                                 \
		if (!(x))                                                    \
			abort();                                             \
	} while (0)

struct run {
	int status;
	int error;
	size_t consumed;
	size_t sent;
	struct tk_socks_client_reply reply;
};

static const char *const hosts[] = {"example.com", "1.2.3.4", "::1",
				    "[2001:db8::1]", "x.onion"};
static const uint8_t cmds[] = {TK_SOCKS_CMD_CONNECT, TK_SOCKS_CMD_RESOLVE,
			       TK_SOCKS_CMD_RESOLVE_PTR, TK_SOCKS_CMD_BIND};

static void drive(uint8_t sel, const uint8_t *in, size_t len, unsigned seed,
		  int split, struct run *o)
{
	static uint8_t buf[1 << 16];
	static struct tk_socks_client_result res;
	struct tk_socks_client c;
	struct tk_socks_client_config cfg = {
		.version = (sel & 1) ? 4 : 5,
		.command = cmds[(sel >> 1) & 3],
		.port = 443,
		.host = hosts[((sel >> 3) & 7) % 5],
		.username = (const uint8_t *)"user",
		.username_len = 4,
		.password = (const uint8_t *)"pw",
		.password_len = 2,
		.use_auth = (sel >> 6) & 1,
	};
	size_t have = 0, pos = 0;

	memset(o, 0, sizeof *o);
	tk_socks_client_start(&c, &cfg, &res);
	CHECK(res.send_len <= TK_SOCKS_REPLY_MAX);
	o->status = res.status;
	if (res.status == TK_SOCKS_ERROR) {
		CHECK(res.msg[0] != '\0');
		return;
	}
	while (pos < len) {
		size_t take = len - pos;
		if (split) {
			seed = seed * 1103515245u + 12345u;
			size_t k = 1 + (seed >> 16) % 9;
			if (take > k)
				take = k;
		}
		memcpy(buf + have, in + pos, take);
		have += take;
		pos += take;
		tk_socks_client_feed(&c, buf, have, &res);
		CHECK(res.consumed <= have);
		CHECK(res.send_len <= TK_SOCKS_REPLY_MAX);
		CHECK(memchr(res.msg, 0, sizeof res.msg) != NULL);
		o->sent += res.send_len;
		o->status = res.status;
		o->error = res.error;
		o->consumed += res.consumed;
		if (res.status == TK_SOCKS_ERROR)
			CHECK(res.msg[0] != '\0' &&
			      res.error != TK_SOCKS_CLIENT_OK);
		if (res.status != TK_SOCKS_NEED_MORE)
			break;
		memmove(buf, buf + res.consumed, have - res.consumed);
		have -= res.consumed;
	}
	if (o->status == TK_SOCKS_DONE) {
		o->reply = res.reply;
		CHECK(res.reply.host_len <= 255);
		CHECK(memchr(res.reply.host, 0, sizeof res.reply.host) != NULL);
		CHECK(res.reply.version == 4 || res.reply.version == 5);
	}
	if (o->status != TK_SOCKS_NEED_MORE) {
		tk_socks_client_feed(&c, in, len, &res);
		CHECK(res.status == TK_SOCKS_ERROR && res.consumed == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, pieces;
	if (size < 2 || size > (1 << 15))
		return 0;
	drive(data[0], data + 2, size - 2, 0, 0, &whole);
	drive(data[0], data + 2, size - 2, data[1], 1, &pieces);
	CHECK(whole.status == pieces.status);
	CHECK(whole.error == pieces.error);
	CHECK(whole.sent == pieces.sent);
	if (whole.status == TK_SOCKS_DONE) {
		CHECK(whole.consumed == pieces.consumed);
		CHECK(memcmp(&whole.reply, &pieces.reply, sizeof whole.reply) ==
		      0);
	}
	return 0;
}
