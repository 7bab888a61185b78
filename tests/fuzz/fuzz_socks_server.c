/* libFuzzer harness: the SOCKS server parser, stateful.
 *
 * Input: [flags] [split seed] [bytes a client sends...]. flags picks
 * SafeSocks / TestSocks / PreferSOCKSNoAuth / the client's family; the
 * seed splits the stream into reads the way a network would. The stream is
 * fed twice, whole and in pieces (through a caller-side buffer that drops
 * what is consumed), and both runs must agree. Invariants checked on every
 * call: consumed <= bytes fed, reply_len <= TK_SOCKS_REPLY_MAX, a log line
 * is NUL-terminated; on DONE the request is sane (NUL-terminated host that
 * passes Tor's valid-dest rule, known command/version, lengths in range);
 * after DONE/ERROR the parser refuses more bytes. */
#include "lib/socks_proto.h"

#include "lib/addr.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CHECK(x)                                                             \
	do {                                                                 \
		if (!(x))                                                    \
			abort();                                             \
	} while (0)

struct run {
	int status;
	size_t consumed;
	size_t reply_len;
	uint8_t reply[4 * TK_SOCKS_REPLY_MAX];
	struct tk_socks_server srv;
};

static void check_result(const struct tk_socks_server_result *res,
			 size_t fed)
{
	CHECK(res->consumed <= fed);
	CHECK(res->reply_len <= TK_SOCKS_REPLY_MAX);
	CHECK(memchr(res->log, 0, sizeof res->log) != NULL);
	CHECK(res->status == TK_SOCKS_NEED_MORE || res->status == TK_SOCKS_DONE ||
	      res->status == TK_SOCKS_ERROR);
}

static void check_request(const struct tk_socks_request *q)
{
	CHECK(memchr(q->host, 0, sizeof q->host) != NULL);
	CHECK(strlen(q->host) <= 255);
	CHECK(tk_addr_is_valid_dest(q->host));
	CHECK(q->version == 4 || q->version == 5);
	if (q->version == 4) {
		CHECK(q->command == TK_SOCKS_CMD_CONNECT ||
		      q->command == TK_SOCKS_CMD_RESOLVE);
		CHECK(q->username_len < TK_SOCKS_USER_MAX);
		CHECK(!q->has_password);
	} else {
		CHECK(q->command == TK_SOCKS_CMD_CONNECT ||
		      q->command == TK_SOCKS_CMD_RESOLVE ||
		      q->command == TK_SOCKS_CMD_RESOLVE_PTR);
		CHECK(q->username_len <= 255);
	}
	CHECK(q->atyp == TK_SOCKS_ATYP_IPV4 || q->atyp == TK_SOCKS_ATYP_IPV6 ||
	      q->atyp == TK_SOCKS_ATYP_DOMAIN);
	if (q->atyp == TK_SOCKS_ATYP_IPV4)
		CHECK(q->family == AF_INET);
	if (q->atyp == TK_SOCKS_ATYP_IPV6)
		CHECK(q->family == AF_INET6);
	if (q->command == TK_SOCKS_CMD_RESOLVE_PTR)
		CHECK(q->family == AF_INET || q->family == AF_INET6);
	if (q->command == TK_SOCKS_CMD_CONNECT && q->version == 4)
		CHECK(q->port != 0);
}

static void drive(const struct tk_socks_server_config *cfg,
		  const uint8_t *in, size_t len, unsigned seed, int split,
		  struct run *o)
{
	static uint8_t buf[1 << 16];
	static struct tk_socks_server_result res;
	size_t have = 0, pos = 0;

	memset(o, 0, offsetof(struct run, reply));
	tk_socks_server_init(&o->srv, cfg);
	do {
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
		tk_socks_server_feed(&o->srv, buf, have, &res);
		check_result(&res, have);
		if (o->reply_len + res.reply_len <= sizeof o->reply)
			memcpy(o->reply + o->reply_len, res.reply,
			       res.reply_len);
		o->reply_len += res.reply_len;
		o->status = res.status;
		o->consumed += res.consumed;
		if (res.status != TK_SOCKS_NEED_MORE)
			break;
		memmove(buf, buf + res.consumed, have - res.consumed);
		have -= res.consumed;
	} while (pos < len);

	if (o->status == TK_SOCKS_DONE)
		check_request(&o->srv.req);
	if (o->status != TK_SOCKS_NEED_MORE) {
		tk_socks_server_feed(&o->srv, in, len, &res);
		CHECK(res.status == TK_SOCKS_ERROR && res.reply_len == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, pieces;
	if (size < 2 || size > (1 << 15))
		return 0;
	struct tk_socks_server_config cfg = {
		.safe_socks = data[0] & 1,
		.test_socks = (data[0] >> 1) & 1,
		.prefer_no_auth = (data[0] >> 2) & 1,
		.log_addresses = (data[0] >> 3) & 1,
		.client_family = (data[0] & 0x30) == 0x10   ? AF_INET6
				 : (data[0] & 0x30) == 0x20 ? AF_UNIX
							    : AF_INET,
	};
	const uint8_t *in = data + 2;
	size_t len = size - 2;

	drive(&cfg, in, len, 0, 0, &whole);
	drive(&cfg, in, len, data[1], 1, &pieces);
	CHECK(whole.status == pieces.status);
	CHECK(whole.reply_len == pieces.reply_len);
	CHECK(whole.reply_len > sizeof whole.reply ||
	      memcmp(whole.reply, pieces.reply, whole.reply_len) == 0);
	if (whole.status != TK_SOCKS_ERROR)
		CHECK(whole.consumed == pieces.consumed);
	if (whole.status == TK_SOCKS_DONE) {
		CHECK(strcmp(whole.srv.req.host, pieces.srv.req.host) == 0);
		CHECK(whole.srv.req.port == pieces.srv.req.port);
		CHECK(whole.srv.req.command == pieces.srv.req.command);
		CHECK(whole.consumed <= len);
	}
	return 0;
}
