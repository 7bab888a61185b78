/* libFuzzer harness: a controller's bytes on torkitd's ControlPort, from
 * the framing (control_proto.c) through authentication and every command
 * (control_session.c), with a fake daemon behind it.
 *
 * Input: [flags] [split seed] [bytes a controller sends...]. flags bit 0
 * turns cookie authentication on (the cookie is bytes 0..31, so a corpus
 * entry can authenticate and reach the commands behind it). The stream
 * is fed twice, whole and split into reads by the seed; both runs must
 * write the same replies and close alike. Checked on every run: nothing
 * is written after the session closed; every reply ends in CRLF; replies
 * stay within a fixed size per byte of input; no command runs after a
 * refused authentication. */
#include "daemon/control_session.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                             \
	do {                                                                 \
		if (!(x))                                                    \
			abort();                                             \
	} while (0)

struct run {
	unsigned char out[1 << 16];
	size_t out_len, out_total;
	int closed, writes_after_close, signals;
	uint32_t rnd;
	struct tk_ctl_session s;
	struct tk_ctl_parser p;
	struct tk_ctl_host host;
};

static void
h_write(void *arg, const char *buf, size_t len)
{
	struct run *r = arg;

	if (r->closed)
		r->writes_after_close++;
	CHECK(len >= 2 && buf[len - 2] == '\r' && buf[len - 1] == '\n');
	r->out_total += len;
	for (size_t i = 0; i < len; i++)
		r->out[r->out_len++ % sizeof(r->out)] ^= (unsigned char)buf[i];
}

static void
h_close(void *arg)
{
	((struct run *)arg)->closed = 1;
}

static int
h_getinfo(void *arg, const char *key, char *out, size_t cap)
{
	(void)arg;
	if (strcmp(key, "status/bootstrap-phase") == 0) {
		tk_ctl_bootstrap_line(42, "loading_descriptors",
				      "Loading relay \"descriptors\"", out, cap);
		return 0;
	}
	if (strcmp(key, "net/listeners/socks") == 0) {
		tk_ctl_quote("127.0.0.1:9050", out, cap);
		return 0;
	}
	return -1;
}

static void
h_signal(void *arg, enum tk_ctl_signal sig)
{
	struct run *r = arg;

	CHECK(r->s.authenticated);
	CHECK(sig <= TK_CTL_SIG_CLEARDNSCACHE);
	r->signals++;
}

static void
h_random(void *arg, uint8_t *buf, size_t n)
{
	struct run *r = arg;

	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)((r->rnd = r->rnd * 1103515245u + 12345u) >> 16);
}

static const struct tk_ctl_host host = {
	.write = h_write,
	.close = h_close,
	.getinfo = h_getinfo,
	.signal = h_signal,
	.random = h_random,
};

static void
run_once(struct run *r, const struct tk_ctl_auth *auth, const uint8_t *data,
	 size_t size, unsigned seed)
{
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	r->host = host;
	r->host.arg = r;
	tk_ctl_parser_init(&r->p);
	tk_ctl_session_init(&r->s, &r->host, auth);
	while (off < size && !r->s.closing) {
		size_t n = size - off;

		if (seed != 0) {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 23;
			if (n > size - off)
				n = size - off;
		}
		tk_ctl_session_input(&r->s, &r->p, data + off, n);
		off += n;
		if (r->closed)
			CHECK(r->s.closing);
	}
	CHECK(r->writes_after_close == 0);
	/* A command of a few bytes is answered with at most a few lines. */
	CHECK(r->out_total <= 600 + 400 * size);
	if (r->signals > 0)
		CHECK(r->s.authenticated);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run a, b;
	struct tk_ctl_auth auth = {
		.cookie_file = "/var/lib/torkit/control_auth_cookie",
		.version = "0.4.9.11 (torkit-fuzz)",
	};
	unsigned seed;

	if (size < 2)
		return 0;
	auth.cookie = data[0] & 1;
	for (int i = 0; i < TK_CTL_COOKIE_LEN; i++)
		auth.cookie_value[i] = (uint8_t)i;
	seed = data[1] | 1u;
	run_once(&a, &auth, data + 2, size - 2, 0);
	run_once(&b, &auth, data + 2, size - 2, seed);
	CHECK(a.out_total == b.out_total);
	CHECK(memcmp(a.out, b.out, sizeof(a.out)) == 0);
	CHECK(a.closed == b.closed && a.signals == b.signals &&
	      a.s.authenticated == b.s.authenticated);
	return 0;
}
