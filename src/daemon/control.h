/* control.h — torkitd's ControlPort and ControlSocket: a subset of Tor's
 * control protocol (control-spec), for stem, nyx-style tools and
 * scripts. The conversation itself is control_session.c; here are the
 * sockets, the cookie file and the daemon's answers.
 *
 * Bounds: TK_CONTROL_CONN_MAX connections (a new one past it closes the
 * oldest that has not authenticated, else it is refused), a command line
 * of TK_CTL_LINE_MAX bytes, and per connection no more reading while
 * TK_CONTROL_OUT_HIGH bytes of replies wait to be read. */
#ifndef TK_DAEMON_CONTROL_H
#define TK_DAEMON_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#include "daemon/engine.h"

#define TK_CONTROL_CONN_MAX 64
#define TK_CONTROL_OUT_HIGH (64 * 1024)

struct tk_server;
struct tk_config;

/* What the daemon does for SIGNAL RELOAD and SHUTDOWN (main.c's). */
struct tk_control_hooks {
	void (*reload)(void);
	void (*shutdown)(const char *why);
};

/* The control options together: a TCP ControlPort needs
 * CookieAuthentication (a ControlSocket may go without: its file mode is
 * the authentication), and a cookie needs CookieAuthFile or a
 * DataDirectory. 0, or -1 with err (--verify-config says it too). */
int tk_control_check(const struct tk_config *cfg, char *err, size_t errlen);

/* Writes the cookie file and opens the ports, while torkitd may still be
 * root: what it creates is given to uid/gid (User). 0, or -1 with the
 * reason logged. Nothing to open is 0. */
int tk_control_open(struct tk_server *srv, const struct tk_config *cfg,
		    uid_t uid, gid_t gid, const struct tk_control_hooks *hooks);

/* SIGHUP: control options are read once; a change is logged as needing a
 * restart. */
void tk_control_reload(const struct tk_config *next);

/* The engine moved on: STATUS_CLIENT BOOTSTRAP events. */
void tk_control_progress(const struct tk_engine_status *st);

/* Close every control listener and connection. */
void tk_control_close_all(void);

#endif
