/* control_session.h — one controller's conversation on a ControlPort or
 * ControlSocket: authentication and the commands torkitd answers (a
 * subset of control-spec §3). It knows nothing of sockets or of the
 * daemon: replies go out through host->write, and what only the daemon
 * knows (GETINFO values, signals, random bytes) comes through `host`.
 * So the whole exchange, authentication included, runs in unit tests and
 * under the fuzzer without a daemon.
 *
 * The rules, as tor's:
 *  - before AUTHENTICATE succeeds only PROTOCOLINFO (once), AUTHCHALLENGE
 *    (once), AUTHENTICATE and QUIT are taken; anything else is answered
 *    "514 Authentication required." and the connection closed;
 *  - a failed AUTHENTICATE is answered 515 and the connection closed;
 *  - after AUTHCHALLENGE the next command must be AUTHENTICATE;
 *  - an unknown command is answered 510 Unrecognized command "X".
 */
#ifndef TK_DAEMON_CONTROL_SESSION_H
#define TK_DAEMON_CONTROL_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/control_proto.h"

#define TK_CTL_COOKIE_LEN 32 /* control-spec §3.21 */
#define TK_CTL_NONCE_MAX 64  /* the longest client nonce taken */

enum tk_ctl_signal {
	TK_CTL_SIG_NEWNYM,
	TK_CTL_SIG_RELOAD,   /* RELOAD, HUP */
	TK_CTL_SIG_SHUTDOWN, /* SHUTDOWN, INT */
	TK_CTL_SIG_HALT,     /* HALT, TERM */
	TK_CTL_SIG_CLEARDNSCACHE,
};

/* Events a controller may ask for with SETEVENTS. */
enum {
	TK_CTL_EV_STATUS_CLIENT = 1 << 0,
};

struct tk_ctl_host {
	/* Bytes of a reply, in order. */
	void (*write)(void *arg, const char *buf, size_t len);
	/* Close once what was written is out. */
	void (*close)(void *arg);
	/* A GETINFO value: 0 with a NUL-terminated single line in out, or
	 * -1 when the key is not one the daemon answers. */
	int (*getinfo)(void *arg, const char *key, char *out, size_t cap);
	/* A signal, after "250 OK" was written. */
	void (*signal)(void *arg, enum tk_ctl_signal sig);
	/* n random bytes (the SAFECOOKIE server nonce). */
	void (*random)(void *arg, uint8_t *buf, size_t n);
	/* The connection authenticated (for the log and the limits). */
	void (*authenticated)(void *arg);
	void *arg;
};

/* What every connection is checked against; the daemon's, shared. */
struct tk_ctl_auth {
	int cookie;				 /* CookieAuthentication */
	uint8_t cookie_value[TK_CTL_COOKIE_LEN]; /* when `cookie` */
	const char *cookie_file; /* absolute, for PROTOCOLINFO */
	const char *version;	 /* GETINFO version, VERSION Tor= */
};

struct tk_ctl_session {
	const struct tk_ctl_host *host;
	const struct tk_ctl_auth *auth;
	int authenticated;
	int protocolinfo_seen; /* before authenticating */
	int challenge_seen;    /* AUTHCHALLENGE was answered */
	int closing;	       /* nothing more is read or answered */
	unsigned events;       /* TK_CTL_EV_* */
	uint8_t client_nonce[TK_CTL_NONCE_MAX];
	size_t client_nonce_len;
	uint8_t server_nonce[32];
};

void tk_ctl_session_init(struct tk_ctl_session *s,
			 const struct tk_ctl_host *host,
			 const struct tk_ctl_auth *auth);

/* Answers one command. */
void tk_ctl_session_command(struct tk_ctl_session *s,
			    const struct tk_ctl_cmd *cmd);

/* Feeds bytes from the controller through a parser to the session: the
 * whole of buf is taken. A line or data section past its bound is
 * answered "500 ..." and closes. */
void tk_ctl_session_input(struct tk_ctl_session *s, struct tk_ctl_parser *p,
			  const uint8_t *buf, size_t n);

/* An asynchronous event line (without "650 " and CRLF) for those that
 * asked for `ev`. */
void tk_ctl_session_event(struct tk_ctl_session *s, unsigned ev,
			  const char *line);

/* The STATUS_CLIENT BOOTSTRAP line of a phase, as GETINFO
 * status/bootstrap-phase and the event give it. */
void tk_ctl_bootstrap_line(int percent, const char *tag, const char *summary,
			   char *out, size_t cap);

#endif
