/* The control protocol's framing and argument reader (control_proto.c),
 * and the session's replies to malformed arguments (control_session.c),
 * without a daemon. */
#include <string.h>

#include "daemon/control_session.h"
#include "tap.h"

static char reply[4096];
static size_t reply_len;
static int closed;

static void
h_write(void *arg, const char *buf, size_t len)
{
	(void)arg;
	if (reply_len + len < sizeof(reply)) {
		memcpy(reply + reply_len, buf, len);
		reply_len += len;
		reply[reply_len] = '\0';
	}
}

static void
h_close(void *arg)
{
	(void)arg;
	closed = 1;
}

static int
h_getinfo(void *arg, const char *key, char *out, size_t cap)
{
	(void)arg, (void)key, (void)out, (void)cap;
	return -1;
}

static void
h_signal(void *arg, enum tk_ctl_signal sig)
{
	(void)arg, (void)sig;
}

static void
h_random(void *arg, uint8_t *buf, size_t n)
{
	(void)arg;
	memset(buf, 7, n);
}

static const struct tk_ctl_host host = {
	.write = h_write,
	.close = h_close,
	.getinfo = h_getinfo,
	.signal = h_signal,
	.random = h_random,
};

static const struct tk_ctl_auth auth = {
	.version = "0.4.9.11 (torkit-test)",
};

/* The replies a controller's bytes get, fed in reads of `step` bytes
 * (0: all at once). */
static const char *
converse(const char *in, size_t len, size_t step)
{
	struct tk_ctl_session s;
	struct tk_ctl_parser p;

	reply_len = 0;
	reply[0] = '\0';
	closed = 0;
	tk_ctl_parser_init(&p);
	tk_ctl_session_init(&s, &host, &auth);
	for (size_t off = 0; off < len && !s.closing;) {
		size_t n = step == 0 || step > len - off ? len - off : step;

		tk_ctl_session_input(&s, &p, (const uint8_t *)in + off, n);
		off += n;
	}
	return reply;
}

static void
test_next_arg(void)
{
	char out[16];
	const char *s;
	int q;

	s = "  plain \"quo ted\" \"a\\\"b\"";
	tap_ok(tk_ctl_next_arg(&s, out, sizeof(out), &q) == 1 && !q &&
		       strcmp(out, "plain") == 0,
	       "next_arg: a bare word");
	tap_ok(tk_ctl_next_arg(&s, out, sizeof(out), &q) == 1 && q &&
		       strcmp(out, "quo ted") == 0,
	       "next_arg: a quoted string with a space");
	tap_ok(tk_ctl_next_arg(&s, out, sizeof(out), &q) == 1 && q &&
		       strcmp(out, "a\"b") == 0,
	       "next_arg: a backslash takes the next byte");
	tap_ok(tk_ctl_next_arg(&s, out, sizeof(out), &q) == 0,
	       "next_arg: 0 at the end");

	/* Each refusal leaves what was read, terminated: callers quote it
	 * in their error reply (the stack bytes after it once went out). */
	static const struct {
		const char *in, *left, *what;
	} bad[] = {
		{ "\"abc", "abc", "an unterminated quote" },
		{ "\"ab\\", "ab", "a trailing backslash" },
		{ "\"ab\"c", "ab", "bytes after a closing quote" },
		{ "0123456789abcdefghij", "0123456789abcde",
		  "a word longer than out" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(out, 'X', sizeof(out));
		s = bad[i].in;
		tap_ok(tk_ctl_next_arg(&s, out, sizeof(out), &q) == -1 &&
			       strcmp(out, bad[i].left) == 0,
		       "next_arg refuses %s; out holds \"%s\"", bad[i].what,
		       bad[i].left);
	}
}

static void
test_protocolinfo_bad_version(void)
{
	/* fuzz_control's input: the reply quoted stack bytes, so it
	 * differed between two runs of the same input. */
	static const char in[] = "PROTOCOLINFO \"POOLINFO\r\nQUIT\r\n";
	char whole[sizeof(reply)];

	strcpy(whole, converse(in, sizeof(in) - 1, 0));
	tap_eq_str(whole, "513 No such version \"POOLINFO\"\r\n",
		   "PROTOCOLINFO with an unterminated quote: 513 quoting "
		   "what was read, then closed");
	tap_ok(closed, "the unauthenticated controller is closed");
	tap_eq_str(converse(in, sizeof(in) - 1, 1), whole,
		   "the same reply when the bytes come one at a time");
}

static void
test_framing(void)
{
	static const char in[] = "PROTOCOLINFO 1\nQUIT\r\n";

	tap_ok(strstr(converse(in, sizeof(in) - 1, 3),
		      "250-AUTH METHODS=NULL\r\n") != NULL &&
		       strstr(reply, "250 closing connection\r\n") != NULL,
	       "LF alone ends a line as CRLF does; reads of 3 bytes");
	tap_ok(strncmp(converse("+PROTOCOLINFO\r\nx\r\n.\r\n", 21, 0),
		       "510 Unrecognized command \"+PROTOCOLINFO\"", 40) == 0,
	       "a data section is skipped to its \".\" and the command "
	       "named with its '+'");
}

int
main(void)
{
	test_next_arg();
	test_protocolinfo_bad_version();
	test_framing();
	return tap_done();
}
