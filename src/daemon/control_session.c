/* control_session.c — see control_session.h. Reply texts are tor's
 * (0.4.9), so controllers written against tor read ours the same way. */
#include "daemon/control_session.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* An argument of ours is never longer: a 32-byte hash in hex, a nonce, a
 * GETINFO key, an event or signal name. */
#define ARG_MAX 256

static const char not_http[] =
	"HTTP/1.0 501 torkitd ControlPort is not an HTTP proxy\r\n"
	"Content-Type: text/plain; charset=us-ascii\r\n"
	"\r\n"
	"This port speaks Tor's control protocol, not HTTP. To use torkitd\r\n"
	"as a proxy, point the application at its SocksPort (SOCKS 4a or "
	"5).\r\n";

static void
out(struct tk_ctl_session *s, const char *text)
{
	s->host->write(s->host->arg, text, strlen(text));
}

static void outf(struct tk_ctl_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
outf(struct tk_ctl_session *s, const char *fmt, ...)
{
	char buf[TK_CTL_LINE_MAX + 512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	s->host->write(s->host->arg, buf, (size_t)n);
}

/* Answer, then hang up, as tor does after an authentication failure or a
 * command it does not take before authentication. */
static void
fail_close(struct tk_ctl_session *s, const char *line)
{
	outf(s, "%s\r\n", line);
	s->closing = 1;
	s->host->close(s->host->arg);
}

void
tk_ctl_session_init(struct tk_ctl_session *s, const struct tk_ctl_host *host,
		    const struct tk_ctl_auth *auth)
{
	memset(s, 0, sizeof(*s));
	s->host = host;
	s->auth = auth;
}

void
tk_ctl_bootstrap_line(int percent, const char *tag, const char *summary,
		      char *buf, size_t cap)
{
	char q[256];

	if (tk_ctl_quote(summary != NULL ? summary : "", q, sizeof(q)) == 0)
		strcpy(q, "\"\"");
	snprintf(buf, cap, "NOTICE BOOTSTRAP PROGRESS=%d TAG=%s SUMMARY=%s",
		 percent, tag != NULL ? tag : "starting", q);
}

/* An argument of AUTHENTICATE or AUTHCHALLENGE: a QuotedString's bytes,
 * or hex. The count, -1 when it is neither, -2 when it is too long. */
static int
token_bytes(const char *arg, int quoted, uint8_t *buf, size_t cap)
{
	size_t len = strlen(arg);

	if (quoted) {
		if (len > cap)
			return -2;
		memcpy(buf, arg, len);
		return (int)len;
	}
	if (len / 2 > cap)
		return -2;
	return tk_ctl_hex_decode(arg, buf, cap);
}

/* HMAC-SHA256(key, cookie | client nonce | server nonce): control-spec
 * §3.24, the key being one of its two constant strings. */
static void
safecookie_hmac(const struct tk_ctl_session *s, const char *key,
		uint8_t mac[32])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)key,
				    strlen(key));
	crypto_auth_hmacsha256_update(&st, s->auth->cookie_value,
				      TK_CTL_COOKIE_LEN);
	crypto_auth_hmacsha256_update(&st, s->client_nonce,
				      s->client_nonce_len);
	crypto_auth_hmacsha256_update(&st, s->server_nonce,
				      sizeof(s->server_nonce));
	crypto_auth_hmacsha256_final(&st, mac);
}

static const char server_key[] =
	"Tor safe cookie authentication server-to-controller hash";
static const char client_key[] =
	"Tor safe cookie authentication controller-to-server hash";

static void
cmd_protocolinfo(struct tk_ctl_session *s, const char *args)
{
	char word[ARG_MAX], path[1024];
	int q, rc;

	if (!s->authenticated && s->protocolinfo_seen) {
		fail_close(s, "514 Authentication required.");
		return;
	}
	while ((rc = tk_ctl_next_arg(&args, word, sizeof(word), &q)) == 1)
		if (q || word[strspn(word, "0123456789")] != '\0')
			break;
	if (rc != 0) {
		outf(s, "513 No such version \"%.64s\"\r\n", word);
		if (!s->authenticated) {
			s->closing = 1;
			s->host->close(s->host->arg);
		}
		return;
	}
	if (!s->authenticated)
		s->protocolinfo_seen = 1;
	out(s, "250-PROTOCOLINFO 1\r\n");
	if (s->auth->cookie) {
		if (tk_ctl_quote(s->auth->cookie_file, path, sizeof(path)) == 0)
			strcpy(path, "\"\"");
		outf(s, "250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE=%s\r\n",
		     path);
	} else {
		out(s, "250-AUTH METHODS=NULL\r\n");
	}
	outf(s, "250-VERSION Tor=\"%s\"\r\n", s->auth->version);
	out(s, "250 OK\r\n");
}

static void
cmd_authchallenge(struct tk_ctl_session *s, const char *args)
{
	char method[ARG_MAX], nonce[2 * TK_CTL_NONCE_MAX + 8], extra[8];
	char hash_hex[65], nonce_hex[65];
	uint8_t mac[32];
	int q, q2, n;

	if (tk_ctl_next_arg(&args, method, sizeof(method), &q) != 1 ||
	    tk_ctl_next_arg(&args, nonce, sizeof(nonce), &q2) != 1 ||
	    tk_ctl_next_arg(&args, extra, sizeof(extra), &q) != 0) {
		fail_close(s, "512 Wrong number of arguments for "
			      "AUTHCHALLENGE");
		return;
	}
	if (strcasecmp(method, "SAFECOOKIE") != 0) {
		fail_close(s, "513 AUTHCHALLENGE only supports SAFECOOKIE "
			      "authentication");
		return;
	}
	if (!s->auth->cookie) {
		fail_close(s, "515 Cookie authentication is disabled");
		return;
	}
	n = token_bytes(nonce, q2, s->client_nonce, sizeof(s->client_nonce));
	if (n < 0) {
		fail_close(s, n == -2 ? "513 Client nonce too long"
				      : "513 Invalid base16 client nonce");
		return;
	}
	s->client_nonce_len = (size_t)n;
	s->host->random(s->host->arg, s->server_nonce, sizeof(s->server_nonce));
	s->challenge_seen = 1;
	safecookie_hmac(s, server_key, mac);
	tk_ctl_hex_encode(mac, sizeof(mac), hash_hex);
	tk_ctl_hex_encode(s->server_nonce, sizeof(s->server_nonce), nonce_hex);
	outf(s, "250 AUTHCHALLENGE SERVERHASH=%s SERVERNONCE=%s\r\n", hash_hex,
	     nonce_hex);
}

static void
authenticated(struct tk_ctl_session *s)
{
	s->authenticated = 1;
	s->challenge_seen = 0;
	out(s, "250 OK\r\n");
	if (s->host->authenticated != NULL)
		s->host->authenticated(s->host->arg);
}

static void
cmd_authenticate(struct tk_ctl_session *s, const char *args)
{
	char arg[ARG_MAX] = "";
	uint8_t got[TK_CTL_COOKIE_LEN + 1], mac[32];
	int q = 0, n, rc;

	rc = tk_ctl_next_arg(&args, arg, sizeof(arg), &q);
	if (!s->auth->cookie && !s->challenge_seen) {
		/* No method configured (a ControlSocket, whose file mode is
		 * the authentication): any AUTHENTICATE will do. */
		authenticated(s);
		return;
	}
	if (rc < 0)
		n = -2;
	else
		n = token_bytes(arg, q, got, sizeof(got));
	if (n == -1) {
		fail_close(s, "551 Invalid hexadecimal encoding.  Maybe you "
			      "tried a plain text password?  If so, the "
			      "standard requires that you put it in double "
			      "quotes.");
		return;
	}
	if (s->challenge_seen) {
		if (n != sizeof(mac)) {
			fail_close(s, "515 Authentication failed: Wrong length "
				      "for safe cookie response.");
			return;
		}
		safecookie_hmac(s, client_key, mac);
		if (sodium_memcmp(mac, got, sizeof(mac)) != 0) {
			fail_close(s, "515 Authentication failed: Safe cookie "
				      "response did not match expected value.");
			return;
		}
		authenticated(s);
		return;
	}
	if (n != TK_CTL_COOKIE_LEN) {
		fail_close(s, "515 Authentication failed: Wrong length on "
			      "authentication cookie.");
		return;
	}
	if (sodium_memcmp(got, s->auth->cookie_value, TK_CTL_COOKIE_LEN) != 0) {
		fail_close(s, "515 Authentication failed: Authentication "
			      "cookie did not match expected value.");
		return;
	}
	authenticated(s);
}

/* The next space-separated word of *p, as it is (GETINFO keys are not
 * unquoted, as in tor): 1, or 0 at the end. A word longer than cap is
 * cut, which makes it a key nobody knows. */
static int
next_word(const char **p, char *buf, size_t cap)
{
	size_t n;

	*p += strspn(*p, " ");
	n = strcspn(*p, " ");
	if (n == 0)
		return 0;
	snprintf(buf, cap, "%.*s", (int)n, *p);
	*p += n;
	return 1;
}

static void
cmd_getinfo(struct tk_ctl_session *s, const char *args)
{
	char key[ARG_MAX], value[1024];
	const char *p;

	/* Every key first: one unknown key is the whole answer. */
	for (p = args; next_word(&p, key, sizeof(key));) {
		if (strcmp(key, "version") != 0 &&
		    s->host->getinfo(s->host->arg, key, value, sizeof(value)) <
			    0) {
			outf(s, "552 Unrecognized key \"%s\"\r\n", key);
			return;
		}
	}
	for (p = args; next_word(&p, key, sizeof(key));) {
		if (strcmp(key, "version") == 0)
			snprintf(value, sizeof(value), "%s", s->auth->version);
		else if (s->host->getinfo(s->host->arg, key, value,
					  sizeof(value)) < 0)
			value[0] = '\0';
		outf(s, "250-%s=%s\r\n", key, value);
	}
	out(s, "250 OK\r\n");
}

static void
cmd_setevents(struct tk_ctl_session *s, const char *args)
{
	char name[ARG_MAX];
	unsigned events = 0;
	int q, rc;

	while ((rc = tk_ctl_next_arg(&args, name, sizeof(name), &q)) == 1) {
		if (strcasecmp(name, "EXTENDED") == 0)
			continue; /* always on since tor 0.2.2.1-alpha */
		if (strcasecmp(name, "STATUS_CLIENT") == 0) {
			events |= TK_CTL_EV_STATUS_CLIENT;
			continue;
		}
		break;
	}
	if (rc != 0) {
		outf(s, "552 Unrecognized event \"%.64s\"\r\n",
		     rc < 0 ? args : name);
		return;
	}
	s->events = events;
	out(s, "250 OK\r\n");
}

static void
cmd_signal(struct tk_ctl_session *s, const char *args)
{
	static const struct {
		const char *name;
		enum tk_ctl_signal sig;
	} names[] = {
		{ "NEWNYM", TK_CTL_SIG_NEWNYM },
		{ "RELOAD", TK_CTL_SIG_RELOAD },
		{ "HUP", TK_CTL_SIG_RELOAD },
		{ "SHUTDOWN", TK_CTL_SIG_SHUTDOWN },
		{ "INT", TK_CTL_SIG_SHUTDOWN },
		{ "HALT", TK_CTL_SIG_HALT },
		{ "TERM", TK_CTL_SIG_HALT },
		{ "CLEARDNSCACHE", TK_CTL_SIG_CLEARDNSCACHE },
	};
	char name[ARG_MAX], extra[8];
	int q;

	if (tk_ctl_next_arg(&args, name, sizeof(name), &q) != 1) {
		out(s, "512 Bad arguments to SIGNAL: Need at least 1 "
		       "argument(s)\r\n");
		return;
	}
	if (tk_ctl_next_arg(&args, extra, sizeof(extra), &q) != 0) {
		out(s, "512 Bad arguments to SIGNAL: Cannot accept more than "
		       "1 argument(s)\r\n");
		return;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(name, names[i].name) == 0) {
			out(s, "250 OK\r\n");
			s->host->signal(s->host->arg, names[i].sig);
			return;
		}
	outf(s, "552 Unrecognized signal code \"%s\"\r\n", name);
}

static int
is_http(const char *kw)
{
	static const char *const methods[] = { "GET",	 "POST",    "PUT",
					       "HEAD",	 "CONNECT", "OPTIONS",
					       "DELETE", "PATCH" };

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(kw, methods[i]) == 0)
			return 1;
	return 0;
}

void
tk_ctl_session_command(struct tk_ctl_session *s, const struct tk_ctl_cmd *cmd)
{
	const char *kw = cmd->keyword;

	if (s->closing)
		return;
	if (!s->authenticated && !cmd->multiline && is_http(kw)) {
		/* A browser pointed at the port as an HTTP proxy: say so, as
		 * tor does, and hang up. */
		out(s, not_http);
		s->closing = 1;
		s->host->close(s->host->arg);
		return;
	}
	if (cmd->multiline || cmd->has_nul) {
		/* No command here takes a data section; tor names it with
		 * its '+'. */
		outf(s, "510 Unrecognized command \"%s%.64s\"\r\n",
		     cmd->multiline ? "+" : "", kw);
		if (!s->authenticated)
			s->host->close(s->host->arg), s->closing = 1;
		return;
	}
	if (strcasecmp(kw, "QUIT") == 0) {
		out(s, "250 closing connection\r\n");
		s->closing = 1;
		s->host->close(s->host->arg);
		return;
	}
	if (strcasecmp(kw, "AUTHENTICATE") == 0) {
		cmd_authenticate(s, cmd->args);
		return;
	}
	if (s->challenge_seen) {
		/* control-spec §3.24: AUTHENTICATE must come next. */
		fail_close(s, "514 Authentication required.");
		return;
	}
	if (strcasecmp(kw, "PROTOCOLINFO") == 0) {
		cmd_protocolinfo(s, cmd->args);
		return;
	}
	if (strcasecmp(kw, "AUTHCHALLENGE") == 0) {
		cmd_authchallenge(s, cmd->args);
		return;
	}
	if (!s->authenticated) {
		fail_close(s, "514 Authentication required.");
		return;
	}
	if (strcasecmp(kw, "GETINFO") == 0)
		cmd_getinfo(s, cmd->args);
	else if (strcasecmp(kw, "SETEVENTS") == 0)
		cmd_setevents(s, cmd->args);
	else if (strcasecmp(kw, "SIGNAL") == 0)
		cmd_signal(s, cmd->args);
	else
		outf(s, "510 Unrecognized command \"%.64s\"\r\n", kw);
}

void
tk_ctl_session_input(struct tk_ctl_session *s, struct tk_ctl_parser *p,
		     const uint8_t *buf, size_t n)
{
	struct tk_ctl_cmd cmd;
	size_t used;

	while (n > 0 && !s->closing) {
		switch (tk_ctl_parse(p, buf, n, &used, &cmd)) {
		case TK_CTL_COMMAND:
			tk_ctl_session_command(s, &cmd);
			break;
		case TK_CTL_TOO_LONG:
			fail_close(s, "500 Line too long (torkitd takes "
				      "commands of up to 4096 bytes)");
			return;
		case TK_CTL_MORE:
			break;
		}
		buf += used;
		n -= used;
	}
}

void
tk_ctl_session_event(struct tk_ctl_session *s, unsigned ev, const char *line)
{
	if (s->closing || !s->authenticated || !(s->events & ev))
		return;
	outf(s, "650 %s\r\n", line);
}
