/* tor-connect — netcat through a SOCKS proxy: stdin -> host:port ->
 * stdout, with real half-close; -z probes, -L forwards a local port.
 * Host names always travel to the proxy; see tor-connect(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "cli/cli_opts.h"
#include "cli/cli_out.h"
#include "cli/cli_pump.h"
#include "lib/socks_client.h"

union any_handle {
	uv_handle_t handle;
	uv_stream_t stream;
	uv_tcp_t tcp;
	uv_pipe_t pipe;
	uv_tty_t tty;
};

/* Everything lives here, not on a stack: exit() from a callback leaves
 * nothing unreachable behind (LeakSanitizer stays quiet). */
static struct {
	struct cli_opts o;
	uv_loop_t loop;
	struct tk_socks_proxy proxy;
	const char *host;
	uint16_t port;
	char target[300]; /* "host:port" for messages */
	struct cli_trace_ctx trace;

	/* stdio mode */
	struct tk_socks_session session;
	union any_handle in_h, out_h;
	struct cli_end in, out;
	struct cli_pump up, down; /* stdin->proxy, proxy->stdout */
	int fl_in, fl_out;	  /* fcntl flags to restore */

	/* -L mode */
	uv_tcp_t listener;
	uv_signal_t sigint, sigterm;
	unsigned long conn_seq;
} g;

struct fwd {
	unsigned long id;
	uv_tcp_t client;
	struct tk_socks_session s;
	struct cli_pump up, down; /* client->proxy, proxy->client */
	int pumps_done;
	int closing, pending;
	char label[64];
	struct cli_trace_ctx trace;
};

static void
restore_fd_flags(void)
{
	/* libuv made stdin/stdout non-blocking; the shell that shares them
	 * should not inherit that. */
	if (g.fl_in >= 0)
		(void)fcntl(0, F_SETFL, g.fl_in);
	if (g.fl_out >= 0)
		(void)fcntl(1, F_SETFL, g.fl_out);
	uv_tty_reset_mode();
}

static void
session_config(struct tk_socks_session_config *cfg, struct cli_trace_ctx *t)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->proxy = &g.proxy;
	cfg->req.version = (uint8_t)g.o.socks_version;
	cfg->req.command = TK_SOCKS_CMD_CONNECT;
	cfg->req.port = g.port;
	cfg->req.host = g.host;
	if (g.o.use_auth) {
		cfg->req.use_auth = 1;
		cfg->req.username = g.o.user;
		cfg->req.username_len = g.o.user_len;
		cfg->req.password = g.o.pass;
		cfg->req.password_len = g.o.pass_len;
	}
	cfg->connect_timeout_ms = g.o.connect_timeout_ms;
	cfg->answer_timeout_ms = g.o.answer_timeout_ms;
	if (g.o.verbose) {
		cfg->trace = cli_trace;
		cfg->trace_arg = t;
	}
}

static void
report_failure(struct tk_socks_session *s, const char *who)
{
	cli_warn(&g.o, "%s%s%s: %s", who ? who : "", who ? ": " : "", g.target,
		 s->msg);
}

/* ---- stdio mode ---------------------------------------------------- */

static int
open_end(int fd, int readable, union any_handle *h, struct cli_end *e)
{
	int r;

	e->stream = NULL;
	e->fd = fd;
	switch (uv_guess_handle(fd)) {
	case UV_TTY:
		r = uv_tty_init(&g.loop, &h->tty, fd, readable);
		break;
	case UV_NAMED_PIPE:
		r = uv_pipe_init(&g.loop, &h->pipe, 0);
		if (r == 0 && (r = uv_pipe_open(&h->pipe, fd)) < 0)
			uv_close(&h->handle, NULL);
		break;
	case UV_TCP:
		r = uv_tcp_init(&g.loop, &h->tcp);
		if (r == 0 && (r = uv_tcp_open(&h->tcp, fd)) < 0)
			uv_close(&h->handle, NULL);
		break;
	case UV_FILE:
		return 0; /* files and /dev/null: uv_fs_* */
	default:
		e->fd = -1; /* closed: EOF for stdin, a sink for stdout */
		return 0;
	}
	if (r < 0)
		return 0; /* fall back to plain fd I/O */
	e->stream = &h->stream;
	return 0;
}

static void
stdio_down_done(struct cli_pump *p, int status)
{
	(void)p;
	if (status < 0 && g.down.failed_on_read) {
		cli_warn(&g.o, "%s: connection lost: %s", g.target,
			 uv_strerror(status));
		exit(CLI_EXIT_FAILED);
	}
	if (status < 0) {
		cli_warn(&g.o, "cannot write to stdout: %s",
			 uv_strerror(status));
		exit(CLI_EXIT_FAILED);
	}
	/* The remote end finished and stdout has every byte: done, even if
	 * stdin is still open (ssh ProxyCommand expects exactly this). */
	if (g.o.verbose)
		cli_warn(&g.o,
			 "%s: closed by the remote end (%llu bytes in, "
			 "%llu out)",
			 g.target, (unsigned long long)g.down.bytes,
			 (unsigned long long)g.up.bytes);
	exit(CLI_EXIT_OK);
}

static void
stdio_up_done(struct cli_pump *p, int status)
{
	(void)p;
	if (status < 0 && g.up.failed_on_read) {
		cli_warn(&g.o, "cannot read stdin: %s", uv_strerror(status));
		exit(CLI_EXIT_FAILED);
	}
	/* A failed write means the remote end is going away; what it sent
	 * before that still arrives through g.down, which decides the end. */
	if (status < 0 && g.o.verbose)
		cli_warn(&g.o, "%s: sending stopped: %s", g.target,
			 uv_strerror(status));
	else if (g.o.verbose)
		cli_warn(&g.o, "%s: end of stdin, write side shut down",
			 g.target);
}

static void
stdio_connected(struct tk_socks_session *s)
{
	if (s->outcome != TK_SOCKS_OUT_OK) {
		report_failure(s, NULL);
		exit(s->outcome);
	}
	if (g.o.probe) {
		printf("%s open\n", g.target);
		fflush(stdout);
		exit(CLI_EXIT_OK);
	}
	if (g.o.verbose)
		cli_warn(&g.o, "%s: connected through %s", g.target,
			 g.proxy.text);
	g.fl_in = fcntl(0, F_GETFL);
	g.fl_out = fcntl(1, F_GETFL);
	atexit(restore_fd_flags);
	open_end(0, 1, &g.in_h, &g.in);
	open_end(1, 0, &g.out_h, &g.out);

	g.down.loop = &g.loop;
	g.down.src.stream = s->stream;
	g.down.dst = g.out;
	g.down.shutdown_dst = 0;
	g.down.done_cb = stdio_down_done;

	g.up.loop = &g.loop;
	g.up.src = g.in;
	g.up.dst.stream = s->stream;
	g.up.shutdown_dst = 1;
	g.up.done_cb = stdio_up_done;

	cli_pump_start(&g.down, s->early, s->early_len);
	cli_pump_start(&g.up, NULL, 0);
}

/* ---- -L forward mode ----------------------------------------------- */

static void
fwd_freed(struct fwd *f)
{
	if (--f->pending == 0)
		free(f);
}

static void
fwd_session_closed(struct tk_socks_session *s)
{
	fwd_freed(s->data);
}

static void
fwd_client_closed(uv_handle_t *h)
{
	fwd_freed(h->data);
}

static void
fwd_close(struct fwd *f)
{
	if (f->closing)
		return;
	f->closing = 1;
	f->pending = 2;
	cli_pump_stop(&f->up);
	cli_pump_stop(&f->down);
	f->client.data = f;
	uv_close((uv_handle_t *)&f->client, fwd_client_closed);
	tk_socks_session_close(&f->s, fwd_session_closed);
}

static void
fwd_pump_done(struct cli_pump *p, int status)
{
	struct fwd *f = p->data;

	if (status < 0) {
		if (g.o.verbose)
			cli_warn(&g.o, "%s: %s", f->label, uv_strerror(status));
		fwd_close(f);
		return;
	}
	if (++f->pumps_done == 2) {
		if (g.o.verbose)
			cli_warn(&g.o, "%s: done (%llu bytes out, %llu in)",
				 f->label, (unsigned long long)f->up.bytes,
				 (unsigned long long)f->down.bytes);
		fwd_close(f);
	}
}

static void
fwd_connected(struct tk_socks_session *s)
{
	struct fwd *f = s->data;

	if (s->outcome != TK_SOCKS_OUT_OK) {
		report_failure(s, f->label);
		fwd_close(f);
		return;
	}
	if (g.o.verbose)
		cli_warn(&g.o, "%s: connected to %s", f->label, g.target);
	f->up.data = f->down.data = f;
	f->up.loop = f->down.loop = &g.loop;
	f->up.src.stream = (uv_stream_t *)&f->client;
	f->up.dst.stream = s->stream;
	f->up.shutdown_dst = 1;
	f->up.done_cb = fwd_pump_done;
	f->down.src.stream = s->stream;
	f->down.dst.stream = (uv_stream_t *)&f->client;
	f->down.shutdown_dst = 1;
	f->down.done_cb = fwd_pump_done;
	cli_pump_start(&f->down, s->early, s->early_len);
	cli_pump_start(&f->up, NULL, 0);
}

static void
on_accept(uv_stream_t *server, int status)
{
	struct tk_socks_session_config cfg;
	struct fwd *f;
	int r;

	if (status < 0) {
		cli_warn(&g.o, "accept: %s", uv_strerror(status));
		return;
	}
	f = calloc(1, sizeof(*f));
	if (!f || uv_tcp_init(&g.loop, &f->client) < 0) {
		free(f);
		cli_warn(&g.o, "accept: out of memory");
		return;
	}
	f->client.data = f;
	if (uv_accept(server, (uv_stream_t *)&f->client) < 0) {
		f->pending = 1;
		uv_close((uv_handle_t *)&f->client, fwd_client_closed);
		return;
	}
	f->id = ++g.conn_seq;
	snprintf(f->label, sizeof(f->label), "connection %lu", f->id);
	f->trace.progname = g.o.progname;
	f->trace.label = f->label;
	session_config(&cfg, &f->trace);
	f->s.data = f;
	r = tk_socks_session_start(&g.loop, &f->s, &cfg, fwd_connected);
	if (r < 0) {
		cli_warn(&g.o, "%s: %s", f->label, uv_strerror(r));
		f->pending = 1;
		uv_close((uv_handle_t *)&f->client, fwd_client_closed);
	}
}

static void
on_signal(uv_signal_t *h, int sig)
{
	(void)h;
	if (g.o.verbose)
		cli_warn(&g.o, "signal %d: stopping", sig);
	exit(CLI_EXIT_OK);
}

/* Binds and listens; the proxy's address is known by now, so no accepted
 * connection waits for it. Exits on failure. */
static void
start_listen(void)
{
	struct tk_endpoint ep;
	struct sockaddr_storage ss;
	int namelen = sizeof(ss);
	char err[256], where[300];
	int r;

	if (tk_endpoint_parse(&ep, g.o.listen, "127.0.0.1", 0,
			      TK_ENDPOINT_ALLOW_PORT_ONLY |
				      TK_ENDPOINT_ALLOW_PORT_ZERO |
				      TK_ENDPOINT_IP_ONLY,
			      err, sizeof(err)) < 0)
		cli_usage_error(&g.o, "-L: %s", err);
	memset(&ss, 0, sizeof(ss));
	if (ep.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(ep.port);
		memcpy(&sin->sin_addr, ep.addr, 4);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(ep.port);
		memcpy(&sin6->sin6_addr, ep.addr, 16);
	}
	uv_tcp_init(&g.loop, &g.listener);
	r = uv_tcp_bind(&g.listener, (struct sockaddr *)&ss, 0);
	if (r == 0)
		r = uv_listen((uv_stream_t *)&g.listener, 128, on_accept);
	if (r < 0) {
		cli_warn(&g.o, "cannot listen on %s: %s", g.o.listen,
			 uv_strerror(r));
		exit(CLI_EXIT_USAGE);
	}
	/* Port 0 picks a free port: say which, so scripts can use it. */
	uv_tcp_getsockname(&g.listener, (struct sockaddr *)&ss, &namelen);
	ep.port = ntohs(ss.ss_family == AF_INET
				? ((struct sockaddr_in *)&ss)->sin_port
				: ((struct sockaddr_in6 *)&ss)->sin6_port);
	tk_endpoint_format(&ep, where, sizeof(where));
	cli_warn(&g.o, "listening on %s, forwarding to %s through %s", where,
		 g.target, g.proxy.text);

	uv_signal_init(&g.loop, &g.sigint);
	uv_signal_start(&g.sigint, on_signal, SIGINT);
	uv_signal_init(&g.loop, &g.sigterm);
	uv_signal_start(&g.sigterm, on_signal, SIGTERM);
}

/* ---- main ---------------------------------------------------------- */

static void
start_stdio(void)
{
	struct tk_socks_session_config cfg;
	int r;

	session_config(&cfg, &g.trace);
	r = tk_socks_session_start(&g.loop, &g.session, &cfg, stdio_connected);
	if (r < 0) {
		cli_warn(&g.o, "%s: %s", g.target, uv_strerror(r));
		exit(CLI_EXIT_UNREACHABLE);
	}
}

static void
proxy_resolved(struct tk_socks_proxy *p, int status)
{
	if (status < 0) {
		cli_warn(&g.o, "cannot resolve the proxy's host name %s: %s",
			 p->ep.host, uv_strerror(status));
		exit(CLI_EXIT_UNREACHABLE);
	}
	if (g.o.listen)
		start_listen();
	else
		start_stdio();
}

int
main(int argc, char **argv)
{
	uint8_t a[16];
	char *end;
	long port;
	int fam;

	signal(SIGPIPE, SIG_IGN);
	g.fl_in = g.fl_out = -1;
	cli_opts_parse(&g.o, CLI_CONNECT, argc, argv);
	g.host = g.o.args[0];
	errno = 0;
	port = strtol(g.o.args[1], &end, 10);
	if (errno || end == g.o.args[1] || *end || port < 1 || port > 65535)
		cli_usage_error(&g.o,
				"bad port \"%s\": must be 1-65535 "
				"(service names are not looked up)",
				g.o.args[1]);
	g.port = (uint16_t)port;
	if (!*g.host || strlen(g.host) > 255)
		cli_usage_error(&g.o, "bad host \"%s\": 1-255 bytes", g.host);
	fam = tk_ip_parse(g.host, a);
	/* Plain SOCKS4 carries only an IPv4 address, and we never resolve a
	 * target ourselves: the user must say -4a or -5 for a name. */
	if (g.o.socks_version == 4 && !g.o.socks4a && fam != AF_INET)
		cli_usage_error(&g.o,
				"-4 (SOCKS4) needs an IPv4 address, not "
				"\"%s\"; use -4a or -5 to let the proxy "
				"resolve a name",
				g.host);
	snprintf(g.target, sizeof(g.target),
		 fam == AF_INET6 ? "[%s]:%u" : "%s:%u", g.host,
		 (unsigned)g.port);
	if (fam == AF_INET6 && g.host[0] == '[')
		snprintf(g.target, sizeof(g.target), "%s:%u", g.host,
			 (unsigned)g.port);
	g.trace.progname = g.o.progname;
	g.trace.label = NULL;
	if (g.o.verbose)
		cli_warn(&g.o, "%s: %s", g.target,
			 fam == AF_INET	   ? "an IPv4 address, sent as such"
			 : fam == AF_INET6 ? "an IPv6 address, sent as such"
			 : g.o.socks_version == 4
				 ? "a name, sent to the proxy to resolve "
				   "(SOCKS4a)"
				 : "a name, sent to the proxy to resolve "
				   "(SOCKS5 address type 3)");

	if (uv_loop_init(&g.loop) < 0) {
		cli_warn(&g.o, "cannot start the event loop");
		return CLI_EXIT_UNREACHABLE;
	}
	if (tk_socks_proxy_init(&g.proxy, &g.o.proxy)) {
		int r = tk_socks_proxy_resolve(&g.loop, &g.proxy,
					       proxy_resolved);
		if (r < 0)
			proxy_resolved(&g.proxy, r);
	} else if (g.o.listen) {
		start_listen();
	} else {
		start_stdio();
	}
	uv_run(&g.loop, UV_RUN_DEFAULT);
	return CLI_EXIT_OK;
}
