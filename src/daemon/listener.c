/* listener.c — the SocksPorts: open, accept, admit or refuse, close. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/admit.h"
#include "daemon/log.h"
#include "daemon/privs.h"
#include "daemon/server.h"
#include "daemon/splice.h"

struct tk_listener {
	union {
		uv_tcp_t tcp;
		uv_pipe_t pipe;
		uv_handle_t handle;
		uv_stream_t stream;
	} h;
	struct tk_server *srv;
	struct tk_listener *next;
	char *key;
	int is_unix;
	char path[108];
	int family;
	uint16_t port;		       /* actual port (after "auto") */
	struct sockaddr_storage bound; /* actual address, for mirrors */
	uint32_t id;
	unsigned flags;
	char name[128]; /* for logs */
};

/* Descriptors kept free for targets, the resolver and logs. */
#define FD_RESERVE 16

static void
format_sockaddr(const struct sockaddr *sa, char *out, size_t outlen,
		uint16_t *port)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		*port = ntohs(sin->sin_port);
		snprintf(out, outlen, "%s:%u", host, *port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		*port = ntohs(sin6->sin6_port);
		snprintf(out, outlen, "[%s]:%u", host, *port);
	} else {
		*port = 0;
		snprintf(out, outlen, "?");
	}
}

static void
listener_closed(uv_handle_t *h)
{
	struct tk_listener *l = h->data;

	free(l->key);
	free(l);
}

static void
listener_close(struct tk_listener *l)
{
	/* The main loop's listener speaks for its mirrors (NumCPUs). */
	if (l->srv->loop_id == 0)
		tk_notice("Closing Socks listener on %s", l->name);
	else
		tk_debug("Loop %u: closing its Socks listener on %s",
			 l->srv->loop_id, l->name);
	if (l->is_unix)
		unlink(l->path);
	uv_close(&l->h.handle, listener_closed);
}

static int
set_reuseport(uv_handle_t *h)
{
#ifdef SO_REUSEPORT
	uv_os_fd_t fd;
	int on = 1, rc = uv_fileno(h, &fd);

	if (rc == 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) < 0)
		rc = uv_translate_sys_error(errno);
	return rc;
#else
	(void)h;
	return UV_ENOTSUP;
#endif
}

int
tk_listeners_reuseport_works(void)
{
#ifdef SO_REUSEPORT
	int fd = socket(AF_INET, SOCK_STREAM, 0), on = 1, rc;

	if (fd < 0)
		return 0;
	rc = setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
	close(fd);
	return rc == 0;
#else
	return 0;
#endif
}

/* SocksPolicy: like Tor, judge the client's address, not its port. */
static int
client_allowed(struct tk_server *srv, const struct sockaddr_storage *ss)
{
	const struct tk_policy *p = &srv->cfg->socks_policy;
	int r;

	if (p->n == 0)
		return 1;
	if (ss->ss_family == AF_INET)
		r = tk_policy_match(p, AF_INET,
				    (const uint8_t *)&(
					    (const struct sockaddr_in *)ss)
					    ->sin_addr,
				    1);
	else if (ss->ss_family == AF_INET6)
		r = tk_policy_match(p, AF_INET6,
				    (const uint8_t *)&(
					    (const struct sockaddr_in6 *)ss)
					    ->sin6_addr,
				    1);
	else
		return 1;
	/* Tor's SocksPolicy ends in an implicit "accept *" only when it is
	 * empty; an explicit policy that matches nothing rejects. */
	return r == 1;
}

static void
on_connection(uv_stream_t *server, int status)
{
	struct tk_listener *l = server->data;
	struct tk_server *srv = l->srv;
	struct tk_port_info pi;
	struct sockaddr_storage ss;
	char peer[128] = "unix";
	uv_stream_t *client;
	int rc;

	if (status < 0) {
		/* EMFILE/ENFILE: libuv has already shed the pending
		 * connection with its reserve descriptor, so the loop does
		 * not spin; accepting resumes by itself once descriptors are
		 * free again. */
		tk_warn("Failed to accept a connection on %s: %s%s", l->name,
			uv_strerror(status),
			status == UV_EMFILE || status == UV_ENFILE
				? " (out of file descriptors: raise ulimit -n or lower "
				  "MaxClients)"
				: "");
		return;
	}
	client = tk_session_alloc_handle(srv, l->is_unix);
	if (client == NULL) {
		tk_warn("out of memory accepting a connection on %s", l->name);
		return;
	}
	rc = uv_accept(server, client);
	if (rc < 0) {
		tk_session_free_handle(client);
		return;
	}
	memset(&ss, 0, sizeof(ss));
	memset(&pi, 0, sizeof(pi));
	pi.family = AF_UNIX;
	if (!l->is_unix) {
		int len = sizeof(ss);
		uint16_t port;

		if (uv_tcp_getpeername((uv_tcp_t *)client,
				       (struct sockaddr *)&ss, &len) == 0) {
			format_sockaddr((struct sockaddr *)&ss, peer,
					sizeof(peer), &port);
			pi.family = ss.ss_family;
			if (ss.ss_family == AF_INET)
				memcpy(pi.addr,
				       &((struct sockaddr_in *)&ss)->sin_addr,
				       4);
			else if (ss.ss_family == AF_INET6)
				memcpy(pi.addr,
				       &((struct sockaddr_in6 *)&ss)->sin6_addr,
				       16);
		}
		if (!client_allowed(srv, &ss)) {
			tk_notice("Denying socks connection from untrusted "
				  "address %s.",
				  tk_dlog_safe(peer));
			tk_session_free_handle(client);
			return;
		}
	}
	if (srv->stopping) {
		tk_session_free_handle(client);
		return;
	}
	/* Each client needs a second descriptor for its target, and the
	 * resolver needs some: refuse clients while descriptors run short,
	 * rather than accept them and fail their requests. Descriptors are
	 * handed out lowest first, so the new one's number is the count in
	 * use. libuv's reserve-descriptor trick covers the hard EMFILE. */
	{
		uv_os_fd_t fd;
		unsigned long lim = tk_fd_limit();

		if (lim != 0 && uv_fileno((uv_handle_t *)client, &fd) == 0 &&
		    (unsigned long)fd + FD_RESERVE >= lim &&
		    (tk_splice_pool_free(), /* spare pipes: unused fds */
		     tk_sessions_shed_lingering(srv, 2, "Descriptors short") ==
			     0)) {
			uint64_t now = uv_now(srv->loop);

			if (now - srv->last_fd_log >= 5000 ||
			    srv->last_fd_log == 0) {
				tk_warn("Running out of file descriptors (%d "
					"of %lu in use): refusing new clients "
					"until some close. Raise the limit "
					"(ulimit -n) or lower MaxClients.",
					(int)fd, lim);
				srv->last_fd_log = now;
			}
			tk_session_free_handle(client);
			return;
		}
	}
	pi.id = l->id;
	pi.flags = l->flags;
	pi.port = l->port;
	tk_admit(srv, client, &pi, peer);
}

/* Tor's warnings for a SocksPort others can reach, unless a SocksPolicy
 * says who may use it (then the operator has decided). */
static void
warn_nonlocal(struct tk_server *srv, const struct tk_port_cfg *pc,
	      const char *name)
{
	const uint8_t *a;
	int fam = pc->ss.ss_family;
	int any;

	if (pc->is_unix || srv->cfg->socks_policy.n > 0)
		return;
	if (fam == AF_INET) {
		static const uint8_t zero[4];

		a = (const uint8_t *)&((const struct sockaddr_in *)&pc->ss)
			    ->sin_addr;
		if (a[0] == 127)
			return;
		any = memcmp(a, zero, 4) == 0;
	} else {
		static const uint8_t zero[16];

		a = (const uint8_t *)&((const struct sockaddr_in6 *)&pc->ss)
			    ->sin6_addr;
		if (memcmp(a, zero, 15) == 0 && a[15] == 1)
			return; /* ::1 */
		any = memcmp(a, zero, 16) == 0;
	}
	if (any || !tk_addr_is_internal(fam, a))
		tk_warn("You specified a public address '%s' for SocksPort. "
			"Other people on the Internet might find your "
			"computer and use it as an open proxy. Please don't "
			"allow this unless you have a good reason (a "
			"SocksPolicy says who may use it).",
			name);
	else
		tk_notice("You configured a non-loopback address '%s' for "
			  "SocksPort. This allows everybody on your local "
			  "network to use your machine as a proxy. Make sure "
			  "this is what you wanted.",
			  name);
}

static int
listener_open(struct tk_server *srv, const struct tk_port_cfg *pc,
	      struct tk_listener **out)
{
	struct tk_listener *l = calloc(1, sizeof(*l));
	int rc;

	if (l == NULL)
		return UV_ENOMEM;
	l->srv = srv;
	l->key = strdup(pc->key);
	l->flags = pc->flags;
	l->is_unix = pc->is_unix;
	l->id = ++srv->next_listener_id;
	l->h.handle.data = l;
	if (l->key == NULL) {
		free(l);
		return UV_ENOMEM;
	}
	if (pc->is_unix) {
		struct stat st;

		strcpy(l->path, pc->path);
		snprintf(l->name, sizeof(l->name), "unix:%s", pc->path);
		uv_pipe_init(srv->loop, &l->h.pipe, 0);
		/* A socket left behind by a dead torkitd would block us. */
		if (lstat(pc->path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(pc->path);
		rc = uv_pipe_bind(&l->h.pipe, pc->path);
		if (rc == 0) {
			mode_t mode = 0600;

			if (pc->flags & TK_PORT_GROUP_WRITABLE)
				mode |= 0060;
			if (pc->flags & TK_PORT_WORLD_WRITABLE)
				mode |= 0066;
			chmod(pc->path, mode);
		}
	} else {
		struct sockaddr_storage ss;
		int len = sizeof(ss);

		l->family = pc->ss.ss_family;
		uv_tcp_init(srv->loop, &l->h.tcp);
		rc = uv_tcp_bind(&l->h.tcp, (const struct sockaddr *)&pc->ss,
				 l->family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
		format_sockaddr((const struct sockaddr *)&pc->ss, l->name,
				sizeof(l->name), &l->port);
		/* Other loops will listen beside this one (NumCPUs). Set
		 * after the bind, so a port some other process holds is
		 * still refused, and a second torkitd cannot join ours:
		 * its own first socket is bound without the option. */
		if (rc == 0 && srv->n_loops > 1)
			rc = set_reuseport(&l->h.handle);
		if (rc == 0)
			rc = uv_tcp_getsockname(&l->h.tcp,
						(struct sockaddr *)&ss, &len);
		if (rc == 0)
			memcpy(&l->bound, &ss, sizeof(ss));
#ifdef __linux__
		/* Accepted sockets inherit TCP_NODELAY from the listener on
		 * Linux: one system call here instead of one per client. */
		if (rc == 0)
			rc = uv_tcp_nodelay(&l->h.tcp, 1);
#endif
		if (rc == 0)
			format_sockaddr((struct sockaddr *)&ss, l->name,
					sizeof(l->name), &l->port);
	}
	if (rc == 0)
		rc = uv_listen(&l->h.stream, 511, on_connection);
	if (rc < 0) {
		tk_err("Could not bind to %s: %s.%s", l->name, uv_strerror(rc),
		       rc == UV_EADDRINUSE ? " Is torkitd (or tor) already "
					     "running on that port?"
					   : "");
		if (l->is_unix)
			l->is_unix = 0; /* do not unlink what is not ours */
		uv_close(&l->h.handle, listener_closed);
		return rc;
	}
	warn_nonlocal(srv, pc, l->name);
	tk_notice("Opened Socks listener connection (ready) on %s", l->name);
	*out = l;
	return 0;
}

static int
same_port(const struct tk_listener *l, const struct tk_port_cfg *pc)
{
	/* "auto" ports are never the same twice; everything else is named
	 * by its normalised address text. */
	if (strcasecmp(pc->key, "auto") == 0 || strstr(pc->key, ":auto"))
		return 0;
	return strcmp(l->key, pc->key) == 0 && l->is_unix == pc->is_unix;
}

int
tk_listeners_apply(struct tk_server *srv, const struct tk_config *cfg,
		   int strict)
{
	struct tk_listener **pp, *l, *opened = NULL;
	uint8_t *kept = calloc(cfg->n_ports + 1, 1);
	int failed = 0;

	if (kept == NULL)
		return -1;
	/* Close what is gone; update the flags of what stays. */
	for (pp = &srv->listeners; (l = *pp) != NULL;) {
		size_t i;

		for (i = 0; i < cfg->n_ports; i++)
			if (!kept[i] && same_port(l, &cfg->ports[i]))
				break;
		if (i < cfg->n_ports) {
			kept[i] = 1;
			l->flags = cfg->ports[i].flags;
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		listener_close(l);
	}
	for (size_t i = 0; i < cfg->n_ports; i++) {
		if (kept[i])
			continue;
		if (listener_open(srv, &cfg->ports[i], &l) < 0) {
			failed = 1;
			if (strict)
				break;
			continue;
		}
		l->next = opened;
		opened = l;
	}
	free(kept);
	while (opened != NULL) {
		l = opened;
		opened = l->next;
		l->next = srv->listeners;
		srv->listeners = l;
	}
	return failed && strict ? -1 : 0;
}

void
tk_listeners_close_all(struct tk_server *srv)
{
	tk_admit_loop_close(srv);
	while (srv->listeners != NULL) {
		struct tk_listener *l = srv->listeners;

		srv->listeners = l->next;
		listener_close(l);
	}
}

void
tk_listeners_foreach(const struct tk_server *srv,
		     void (*fn)(void *arg, const char *name), void *arg)
{
	for (const struct tk_listener *l = srv->listeners; l != NULL;
	     l = l->next)
		fn(arg, l->name);
}

/* A worker loop's copy of the main loop's TCP listener m: the same
 * address and port, beside it through SO_REUSEPORT. */
static int
mirror_open(struct tk_server *srv, const struct tk_listener *m)
{
	struct tk_listener *l = calloc(1, sizeof(*l));
	int rc;

	if (l == NULL)
		return UV_ENOMEM;
	l->srv = srv;
	l->key = strdup(m->key);
	l->flags = m->flags;
	l->id = m->id;
	l->family = m->family;
	l->port = m->port;
	l->bound = m->bound;
	memcpy(l->name, m->name, sizeof(l->name));
	l->h.handle.data = l;
	if (l->key == NULL) {
		free(l);
		return UV_ENOMEM;
	}
	rc = uv_tcp_init_ex(srv->loop, &l->h.tcp, (unsigned)m->family);
	if (rc < 0) {
		free(l->key);
		free(l);
		return rc;
	}
	rc = set_reuseport(&l->h.handle);
	if (rc == 0)
		rc = uv_tcp_bind(&l->h.tcp, (const struct sockaddr *)&m->bound,
				 m->family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
#ifdef __linux__
	if (rc == 0)
		rc = uv_tcp_nodelay(&l->h.tcp, 1);
#endif
	if (rc == 0)
		rc = uv_listen(&l->h.stream, 511, on_connection);
	if (rc < 0) {
		tk_err("Loop %u could not listen beside the main loop on %s: "
		       "%s.",
		       srv->loop_id, l->name, uv_strerror(rc));
		uv_close(&l->h.handle, listener_closed);
		return rc;
	}
	tk_debug("Loop %u: listening on %s", srv->loop_id, l->name);
	l->next = srv->listeners;
	srv->listeners = l;
	return 0;
}

int
tk_listeners_mirror(struct tk_server *srv, const struct tk_server *model)
{
	struct tk_listener **pp, *l;
	const struct tk_listener *m;
	int failed = 0;

	for (pp = &srv->listeners; (l = *pp) != NULL;) {
		for (m = model->listeners; m != NULL && m->id != l->id;
		     m = m->next)
			;
		if (m != NULL) {
			l->flags = m->flags;
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		listener_close(l);
	}
	for (m = model->listeners; m != NULL; m = m->next) {
		if (m->is_unix)
			continue; /* the main loop alone accepts there */
		for (l = srv->listeners; l != NULL && l->id != m->id;
		     l = l->next)
			;
		if (l == NULL && mirror_open(srv, m) < 0)
			failed = 1;
	}
	return failed ? -1 : 0;
}
