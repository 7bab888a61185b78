/* control.c — see control.h. */
#include "daemon/control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "config.h"
#include "daemon/conf.h"
#include "daemon/control_session.h"
#include "daemon/log.h"
#include "daemon/loops.h"
#include "daemon/server.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0"
#endif

/* What GETINFO version and PROTOCOLINFO's VERSION Tor= say: the tor
 * release whose control protocol this subset follows and was compared
 * with, then ours. Controllers (stem) decide what they may ask by the
 * tor version; "(torkit-X)" is the part tor gives its git revision. */
#define TOR_CONTROL_VERSION "0.4.9.11"

struct ctl_listener {
	union {
		uv_tcp_t tcp;
		uv_pipe_t pipe;
		uv_handle_t handle;
		uv_stream_t stream;
	} h;
	struct ctl_listener *next;
	int is_unix;
	char name[128]; /* "127.0.0.1:9051" or "unix:/path" */
	char path[108];
};

struct ctl_conn {
	union {
		uv_tcp_t tcp;
		uv_pipe_t pipe;
		uv_handle_t handle;
		uv_stream_t stream;
	} h;
	struct ctl_conn *prev, *next; /* oldest first */
	struct tk_ctl_session s;
	struct tk_ctl_host host; /* host_ops, with this connection as arg */
	struct tk_ctl_parser p;
	size_t queued;	 /* reply bytes handed to libuv, not yet out */
	int closing;	 /* closed once queued is 0 */
	int handle_shut; /* uv_close was called */
	int reading;
	char peer[136];
};

struct wreq {
	uv_write_t req;
	struct ctl_conn *c;
	size_t len;
	char data[];
};

static struct {
	struct tk_server *srv;
	struct tk_control_hooks hooks;
	struct ctl_listener *listeners;
	struct ctl_conn *head, *tail;
	unsigned n_conns;
	struct tk_ctl_auth auth;
	char cookie_path[4096];
	char version[64];
	char *started_with; /* the control options at startup (reload) */
} ctl;

static const struct tk_ctl_host host_ops;
static char *options_text(const struct tk_config *cfg);

/* ---- one connection */

static void
conn_closed(uv_handle_t *h)
{
	struct ctl_conn *c = h->data;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ctl.head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		ctl.tail = c->prev;
	ctl.n_conns--;
	sodium_memzero(&c->p, sizeof(c->p)); /* it may hold a cookie */
	free(c);
}

static void
conn_shut(struct ctl_conn *c)
{
	if (c->handle_shut)
		return;
	c->handle_shut = 1;
	c->closing = 1;
	uv_close(&c->h.handle, conn_closed);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf);

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	/* One buffer for everyone: sessions copy what they keep, and a
	 * small one bounds the replies one read can produce. */
	static char rbuf[4096];

	(void)h;
	(void)suggested;
	buf->base = rbuf;
	buf->len = sizeof(rbuf);
}

static void
reading(struct ctl_conn *c, int on)
{
	if (c->handle_shut || c->reading == on)
		return;
	c->reading = on;
	if (on)
		uv_read_start(&c->h.stream, on_alloc, on_read);
	else
		uv_read_stop(&c->h.stream);
}

static void
written(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;
	struct ctl_conn *c = w->c;

	c->queued -= w->len;
	free(w);
	if (status < 0) {
		conn_shut(c);
		return;
	}
	if (c->queued == 0 && c->closing)
		conn_shut(c);
	else if (!c->closing && c->queued < TK_CONTROL_OUT_HIGH / 2)
		reading(c, 1);
}

static void
h_write(void *arg, const char *buf, size_t len)
{
	struct ctl_conn *c = arg;
	struct wreq *w;
	uv_buf_t b;

	if (c->handle_shut || len == 0)
		return;
	w = malloc(sizeof(*w) + len);
	if (w == NULL) {
		tk_warn("Control connection from %s: out of memory; closing it",
			c->peer);
		conn_shut(c);
		return;
	}
	w->c = c;
	w->len = len;
	memcpy(w->data, buf, len);
	b = uv_buf_init(w->data, (unsigned)len);
	if (uv_write(&w->req, &c->h.stream, &b, 1, written) < 0) {
		free(w);
		conn_shut(c);
		return;
	}
	c->queued += len;
	/* A controller that does not read its answers stops being read. */
	if (c->queued >= TK_CONTROL_OUT_HIGH)
		reading(c, 0);
}

static void
h_close(void *arg)
{
	struct ctl_conn *c = arg;

	c->closing = 1;
	reading(c, 0);
	if (c->queued == 0)
		conn_shut(c);
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct ctl_conn *c = st->data;

	if (n < 0) {
		conn_shut(c);
		return;
	}
	if (n == 0)
		return;
	tk_ctl_session_input(&c->s, &c->p, (const uint8_t *)buf->base,
			     (size_t)n);
}

/* ---- what the daemon answers */

static void
add_name(char *out, size_t cap, const char *name)
{
	size_t used = strlen(out);
	char q[300];

	if (tk_ctl_quote(name, q, sizeof(q)) == 0)
		return;
	if (used + strlen(q) + 2 > cap)
		return;
	snprintf(out + used, cap - used, "%s%s", used > 0 ? " " : "", q);
}

struct names {
	char *out;
	size_t cap;
};

static void
socks_name(void *arg, const char *name)
{
	struct names *n = arg;

	add_name(n->out, n->cap, name);
}

static int
h_getinfo(void *arg, const char *key, char *out, size_t cap)
{
	struct tk_engine_status st;

	(void)arg;
	out[0] = '\0';
	if (strcmp(key, "status/bootstrap-phase") == 0 ||
	    strcmp(key, "status/circuit-established") == 0) {
		if (ctl.srv->engine == NULL)
			return -1;
		tk_engine_status(ctl.srv->engine, &st);
		if (key[7] == 'b')
			tk_ctl_bootstrap_line(st.percent, st.tag, st.summary,
					      out, cap);
		else
			snprintf(out, cap, "%d", st.circuit_established);
		return 0;
	}
	if (strcmp(key, "net/listeners/socks") == 0) {
		struct names n = { out, cap };

		tk_listeners_foreach(ctl.srv, socks_name, &n);
		return 0;
	}
	if (strncmp(key, "torkit/", 7) == 0)
		return tk_loops_getinfo(key, out, cap);
	if (strcmp(key, "net/listeners/control") == 0) {
		for (struct ctl_listener *l = ctl.listeners; l != NULL;
		     l = l->next)
			add_name(out, cap, l->name);
		return 0;
	}
	return -1;
}

static void
h_signal(void *arg, enum tk_ctl_signal sig)
{
	struct ctl_conn *c = arg;

	switch (sig) {
	case TK_CTL_SIG_NEWNYM:
		tk_info("Control connection from %s: SIGNAL NEWNYM", c->peer);
		if (ctl.srv->engine != NULL &&
		    ctl.srv->engine->ops->newnym != NULL)
			ctl.srv->engine->ops->newnym(ctl.srv->engine);
		break;
	case TK_CTL_SIG_RELOAD:
		ctl.hooks.reload();
		break;
	case TK_CTL_SIG_SHUTDOWN:
	case TK_CTL_SIG_HALT:
		/* A client has nothing to wind down: both are immediate, as
		 * tor's SHUTDOWN is for a client. */
		ctl.hooks.shutdown(sig == TK_CTL_SIG_HALT ? "TERM" : "INT");
		break;
	case TK_CTL_SIG_CLEARDNSCACHE:
		/* Nothing to clear: torkitd keeps no client DNS cache. */
		break;
	}
}

static void
h_random(void *arg, uint8_t *buf, size_t n)
{
	(void)arg;
	randombytes_buf(buf, n);
}

static void
h_authenticated(void *arg)
{
	struct ctl_conn *c = arg;

	tk_info("Control connection from %s authenticated", c->peer);
}

static const struct tk_ctl_host host_ops = {
	.write = h_write,
	.close = h_close,
	.getinfo = h_getinfo,
	.signal = h_signal,
	.random = h_random,
	.authenticated = h_authenticated,
};

/* ---- listeners */

static int
is_loopback(int family, const uint8_t *a)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };

	if (family == AF_INET)
		return a[0] == 127;
	return memcmp(a, v6_loopback, 16) == 0;
}

/* Past TK_CONTROL_CONN_MAX: the oldest connection that has not
 * authenticated makes room; one that has keeps its place. */
static int
make_room(void)
{
	for (struct ctl_conn *c = ctl.head; c != NULL; c = c->next) {
		if (c->s.authenticated || c->handle_shut)
			continue;
		tk_notice("Too many control connections (%d): closing the "
			  "oldest that has not authenticated (from %s)",
			  TK_CONTROL_CONN_MAX, c->peer);
		conn_shut(c);
		return 0;
	}
	return -1;
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct ctl_listener *l = server->data;
	struct ctl_conn *c;
	unsigned live = 0;

	if (status < 0) {
		tk_warn("Failed to accept a control connection on %s: %s",
			l->name, uv_strerror(status));
		return;
	}
	for (c = ctl.head; c != NULL; c = c->next)
		live += !c->handle_shut;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return;
	if (l->is_unix)
		uv_pipe_init(server->loop, &c->h.pipe, 0);
	else
		uv_tcp_init(server->loop, &c->h.tcp);
	c->h.handle.data = c;
	c->prev = ctl.tail;
	if (ctl.tail != NULL)
		ctl.tail->next = c;
	else
		ctl.head = c;
	ctl.tail = c;
	ctl.n_conns++;
	if (uv_accept(server, &c->h.stream) < 0) {
		conn_shut(c);
		return;
	}
	snprintf(c->peer, sizeof(c->peer), "%s", l->name);
	if (!l->is_unix) {
		struct sockaddr_storage ss;
		int len = sizeof(ss);
		char a[INET6_ADDRSTRLEN] = "?";

		if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss,
				       &len) == 0) {
			if (ss.ss_family == AF_INET)
				inet_ntop(AF_INET,
					  &((struct sockaddr_in *)&ss)
						   ->sin_addr,
					  a, sizeof(a));
			else
				inet_ntop(AF_INET6,
					  &((struct sockaddr_in6 *)&ss)
						   ->sin6_addr,
					  a, sizeof(a));
		}
		snprintf(c->peer, sizeof(c->peer), "%s", a);
	}
	if (live >= TK_CONTROL_CONN_MAX && make_room() < 0) {
		tk_warn("Too many control connections (%u), all "
			"authenticated: refusing a new one from %s",
			live, c->peer);
		conn_shut(c);
		return;
	}
	tk_ctl_parser_init(&c->p);
	c->host = host_ops;
	c->host.arg = c;
	tk_ctl_session_init(&c->s, &c->host, &ctl.auth);
	tk_notice("New control connection opened from %s.", c->peer);
	reading(c, 1);
}

static void
listener_closed(uv_handle_t *h)
{
	free(h->data);
}

static int
listen_on(uv_loop_t *loop, const struct tk_port_cfg *pc, uid_t uid, gid_t gid)
{
	struct ctl_listener *l = calloc(1, sizeof(*l));
	int rc;

	if (l == NULL)
		return UV_ENOMEM;
	l->h.handle.data = l;
	l->is_unix = pc->is_unix;
	if (pc->is_unix) {
		struct stat st;
		mode_t mode = 0600;

		snprintf(l->path, sizeof(l->path), "%s", pc->path);
		snprintf(l->name, sizeof(l->name), "unix:%s", pc->path);
		uv_pipe_init(loop, &l->h.pipe, 0);
		/* A socket left behind by a dead torkitd would block us. */
		if (lstat(pc->path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(pc->path);
		rc = uv_pipe_bind(&l->h.pipe, pc->path);
		if (pc->flags & TK_PORT_GROUP_WRITABLE)
			mode |= 0060;
		if (pc->flags & TK_PORT_WORLD_WRITABLE)
			mode |= 0066;
		if (rc == 0 && chmod(pc->path, mode) < 0)
			rc = uv_translate_sys_error(errno);
		/* Created as root, used by User: give it to User. */
		if (rc == 0 && uid != geteuid() &&
		    chown(pc->path, uid, gid) < 0)
			rc = uv_translate_sys_error(errno);
	} else {
		struct sockaddr_storage ss;
		int len = sizeof(ss);
		char a[INET6_ADDRSTRLEN] = "?";
		const uint8_t *ip;
		int fam = pc->ss.ss_family;

		uv_tcp_init(loop, &l->h.tcp);
		rc = uv_tcp_bind(&l->h.tcp, (const struct sockaddr *)&pc->ss,
				 fam == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
		if (rc == 0)
			rc = uv_tcp_getsockname(&l->h.tcp,
						(struct sockaddr *)&ss, &len);
		if (rc != 0)
			ss = pc->ss;
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			ip = (const uint8_t *)&sin->sin_addr;
			inet_ntop(AF_INET, ip, a, sizeof(a));
			snprintf(l->name, sizeof(l->name), "%s:%u", a,
				 ntohs(sin->sin_port));
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

			ip = (const uint8_t *)&sin6->sin6_addr;
			inet_ntop(AF_INET6, ip, a, sizeof(a));
			snprintf(l->name, sizeof(l->name), "[%s]:%u", a,
				 ntohs(sin6->sin6_port));
		}
		if (rc == 0 && !is_loopback(ss.ss_family, ip))
			tk_warn("You have a ControlPort set to accept "
				"connections from a non-local address (%s). "
				"Programs on other computers could then "
				"control torkitd, and the control protocol "
				"is not encrypted. Maybe you should use a "
				"ControlSocket instead?",
				l->name);
	}
	if (rc == 0)
		rc = uv_listen(&l->h.stream, 16, on_connection);
	if (rc < 0) {
		tk_err("Could not bind the control listener %s: %s.%s", l->name,
		       uv_strerror(rc),
		       rc == UV_EADDRINUSE ? " Is torkitd (or tor) already "
					     "running on that port?"
					   : "");
		uv_close(&l->h.handle, listener_closed);
		return rc;
	}
	tk_notice("Opened Control listener connection (ready) on %s", l->name);
	{
		struct ctl_listener **pp = &ctl.listeners;

		while (*pp != NULL) /* in the configuration's order */
			pp = &(*pp)->next;
		*pp = l;
	}
	return 0;
}

/* ---- the cookie, as tor writes it: 32 random bytes, nothing else,
 * in a new file (mode 0600, 0640 when group-readable) renamed over the
 * old one, so a link planted there is replaced, never followed. */

static int
write_cookie(const char *path, int group_readable, uid_t uid, gid_t gid)
{
	char tmp[4200];
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		tk_err("CookieAuthFile %s: path too long", path);
		return -1;
	}
	randombytes_buf(ctl.auth.cookie_value, TK_CTL_COOKIE_LEN);
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		tk_err("Error writing the authentication cookie to %s: %s", tmp,
		       strerror(errno));
		return -1;
	}
	if (write(fd, ctl.auth.cookie_value, TK_CTL_COOKIE_LEN) !=
		    TK_CTL_COOKIE_LEN ||
	    (uid != geteuid() && fchown(fd, uid, gid) < 0) ||
	    fchmod(fd, group_readable ? 0640 : 0600) < 0 || fsync(fd) < 0 ||
	    close(fd) < 0 || rename(tmp, path) < 0) {
		tk_err("Error writing the authentication cookie to %s: %s",
		       path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- the daemon's side */

int
tk_control_check(const struct tk_config *cfg, char *err, size_t errlen)
{
	for (size_t i = 0; i < cfg->n_control_ports; i++) {
		if (cfg->control_ports[i].is_unix || cfg->cookie_auth)
			continue;
		snprintf(err, errlen,
			 "ControlPort %s needs CookieAuthentication 1: any "
			 "program on this computer (and a web page, through "
			 "the browser) could otherwise control torkitd. A "
			 "ControlSocket may go without (its file mode decides "
			 "who may connect).",
			 cfg->control_ports[i].key);
		return -1;
	}
	if (cfg->cookie_auth && cfg->cookie_auth_file == NULL &&
	    cfg->data_dir == NULL) {
		snprintf(err, errlen,
			 "CookieAuthentication needs a CookieAuthFile or a "
			 "DataDirectory to write the cookie in");
		return -1;
	}
	return 0;
}

int
tk_control_open(struct tk_server *srv, const struct tk_config *cfg, uid_t uid,
		gid_t gid, const struct tk_control_hooks *hooks)
{
	ctl.srv = srv;
	ctl.hooks = *hooks;
	free(ctl.started_with);
	ctl.started_with = options_text(cfg);
	snprintf(ctl.version, sizeof(ctl.version), "%s (torkit-%s)",
		 TOR_CONTROL_VERSION, PACKAGE_VERSION);
	ctl.auth.version = ctl.version;
	ctl.auth.cookie = cfg->cookie_auth;
	if (cfg->n_control_ports == 0 && !cfg->cookie_auth)
		return 0;
	if (sodium_init() < 0) {
		tk_err("Cannot initialise libsodium for the control port");
		return -1;
	}
	if (cfg->cookie_auth) {
		if (cfg->cookie_auth_file != NULL)
			snprintf(ctl.cookie_path, sizeof(ctl.cookie_path), "%s",
				 cfg->cookie_auth_file);
		else
			snprintf(ctl.cookie_path, sizeof(ctl.cookie_path),
				 "%s/control_auth_cookie", cfg->data_dir);
		ctl.auth.cookie_file = ctl.cookie_path;
		if (write_cookie(ctl.cookie_path,
				 cfg->cookie_auth_group_readable, uid, gid) < 0)
			return -1;
	}
	for (size_t i = 0; i < cfg->n_control_ports; i++)
		if (listen_on(srv->loop, &cfg->control_ports[i], uid, gid) < 0)
			return -1;
	return 0;
}

/* The control options as one string, to tell a reload that changes them. */
static char *
options_text(const struct tk_config *cfg)
{
	size_t cap = 64 + (cfg->cookie_auth_file != NULL
				   ? strlen(cfg->cookie_auth_file)
				   : 0);
	char *t;

	for (size_t i = 0; i < cfg->n_control_ports; i++)
		cap += strlen(cfg->control_ports[i].key) + 16;
	t = malloc(cap);
	if (t == NULL)
		return NULL;
	snprintf(t, cap, "%d %d %s", cfg->cookie_auth,
		 cfg->cookie_auth_group_readable,
		 cfg->cookie_auth_file != NULL ? cfg->cookie_auth_file : "-");
	for (size_t i = 0; i < cfg->n_control_ports; i++)
		snprintf(t + strlen(t), cap - strlen(t), " %s/%u",
			 cfg->control_ports[i].key,
			 cfg->control_ports[i].flags);
	return t;
}

void
tk_control_reload(const struct tk_config *next)
{
	char *t = options_text(next);
	int same = t != NULL && ctl.started_with != NULL &&
		   strcmp(t, ctl.started_with) == 0;

	free(t);
	if (!same)
		tk_warn("ControlPort, ControlSocket and CookieAuthentication "
			"are read at startup; restart torkitd for the new "
			"ones");
}

void
tk_control_progress(const struct tk_engine_status *st)
{
	char line[512];

	memcpy(line, "STATUS_CLIENT ", 14);
	tk_ctl_bootstrap_line(st->percent, st->tag, st->summary, line + 14,
			      sizeof(line) - 14);
	for (struct ctl_conn *c = ctl.head; c != NULL; c = c->next)
		if (!c->handle_shut)
			tk_ctl_session_event(&c->s, TK_CTL_EV_STATUS_CLIENT,
					     line);
}

void
tk_control_close_all(void)
{
	while (ctl.listeners != NULL) {
		struct ctl_listener *l = ctl.listeners;

		ctl.listeners = l->next;
		tk_notice("Closing Control listener on %s", l->name);
		if (l->is_unix)
			(void)unlink(l->path);
		uv_close(&l->h.handle, listener_closed);
	}
	for (struct ctl_conn *c = ctl.head; c != NULL; c = c->next)
		conn_shut(c);
	sodium_memzero(ctl.auth.cookie_value, sizeof(ctl.auth.cookie_value));
	free(ctl.started_with);
	ctl.started_with = NULL;
}
