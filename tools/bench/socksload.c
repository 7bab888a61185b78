/* socksload — a SOCKS5 load generator on libuv, for tools/bench/socks-bench.
 *
 *   socksload -m cps|down|up -p TARGET_PORT [-x PROXY_PORT] [-c CONC]
 *             [-s SECONDS]
 *
 * Everything is on 127.0.0.1. Without -x the target is reached directly
 * (the baseline). Modes:
 *   cps   C concurrent loops of: connect, greet (05 01 00), read 2,
 *         CONNECT 127.0.0.1:TARGET, read 10, send 1 byte, read the echo,
 *         wait for the server's close, close. Prints connections/s.
 *         The target must echo one byte and close first ("once"), so
 *         TIME_WAIT lands on the fixed ports.
 *   down  C streams reading from a source target; prints MB/s.
 *   up    C streams writing 256 KiB chunks to a sink target; MB/s.
 * Output: one line "MODE RATE UNIT".
 *
 *   socksload -S once|sink|source -p PORT
 * serves the targets instead (one libuv process, no fork per
 * connection, so the target is never the bottleneck): once echoes the
 * first read and closes, sink discards, source sends without end. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

enum st { ST_CONNECT, ST_GREET, ST_REQ, ST_PING, ST_WAITCLOSE, ST_DATA };

struct conn {
	uv_tcp_t tcp;
	uv_connect_t creq;
	uv_write_t wreq;
	enum st st;
	uint8_t in[16];
	size_t have;
	int id;
};

static uv_loop_t *loop;
static int mode;		/* 0 cps, 1 down, 2 up */
static int proxy_port, target_port, conc = 50, secs = 5;
static int stopping;
static unsigned long long done_conns, bytes;
static uint64_t t_start, t_end;
static char bigbuf[256 * 1024];
static char readbuf[256 * 1024];

static void start_conn(struct conn *c);

static void
closed_cb(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (!stopping)
		start_conn(c);
	else
		free(c);
}

static void
finish(struct conn *c, int ok)
{
	if (uv_is_closing((uv_handle_t *)&c->tcp))
		return;
	if (ok && mode == 0 && !stopping)
		done_conns++;
	uv_close((uv_handle_t *)&c->tcp, closed_cb);
}

static void write_more(struct conn *c);

static void
written_cb(uv_write_t *w, int status)
{
	struct conn *c = w->data;

	if (status < 0) {
		if (status != UV_ECANCELED)
			finish(c, 0);
		return;
	}
	if (mode == 2 && c->st == ST_DATA && !stopping) {
		bytes += sizeof(bigbuf);
		write_more(c);
	}
}

static void
send_bytes(struct conn *c, const void *p, size_t n)
{
	static uint8_t tmp[64];
	uv_buf_t b;

	memcpy(tmp, p, n);	/* uv_write copies nothing; these are tiny
				 * and sent before the next call */
	b = uv_buf_init((char *)tmp, (unsigned)n);
	c->wreq.data = c;
	if (uv_try_write((uv_stream_t *)&c->tcp, &b, 1) == (int)n)
		return;
	fprintf(stderr, "socksload: short write\n");
	finish(c, 0);
}

static void
write_more(struct conn *c)
{
	uv_buf_t b = uv_buf_init(bigbuf, sizeof(bigbuf));

	c->wreq.data = c;
	if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, written_cb) < 0)
		finish(c, 0);
}

static void
start_data(struct conn *c)
{
	c->st = ST_DATA;
	if (mode == 2)
		write_more(c);
}

static void
send_request(struct conn *c)
{
	uint8_t req[10] = { 5, 1, 0, 1, 127, 0, 0, 1,
			    (uint8_t)(target_port >> 8),
			    (uint8_t)target_port };

	c->st = ST_REQ;
	c->have = 0;
	send_bytes(c, req, sizeof(req));
}

static void
after_socks(struct conn *c)
{
	if (mode == 0) {
		c->st = ST_PING;
		c->have = 0;
		send_bytes(c, "x", 1);
	} else
		start_data(c);
}

static void
alloc_cb(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	struct conn *c = h->data;

	(void)sz;
	if (c->st == ST_DATA || c->st == ST_WAITCLOSE)
		*b = uv_buf_init(readbuf, sizeof(readbuf));
	else
		*b = uv_buf_init((char *)c->in + c->have,
				 (unsigned)(sizeof(c->in) - c->have));
}

static void
read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = s->data;

	(void)b;
	if (n < 0) {
		finish(c, n == UV_EOF && c->st == ST_WAITCLOSE);
		return;
	}
	switch (c->st) {
	case ST_DATA:
		if (!stopping)
			bytes += (unsigned long long)n;
		return;
	case ST_WAITCLOSE:
		return;
	case ST_GREET:
		c->have += (size_t)n;
		if (c->have >= 2) {
			if (c->in[0] != 5 || c->in[1] != 0) {
				fprintf(stderr, "socksload: bad method reply\n");
				exit(1);
			}
			send_request(c);
		}
		return;
	case ST_REQ:
		c->have += (size_t)n;
		if (c->have >= 10) {
			if (c->in[1] != 0) {
				fprintf(stderr, "socksload: CONNECT refused "
					"(REP %u)\n", c->in[1]);
				exit(1);
			}
			after_socks(c);
		}
		return;
	case ST_PING:
		c->st = ST_WAITCLOSE;
		return;
	default:
		return;
	}
}

static void
connect_cb(uv_connect_t *r, int status)
{
	struct conn *c = r->data;

	if (status == UV_ECANCELED)
		return;
	if (status < 0) {
		fprintf(stderr, "socksload: connect: %s\n", uv_strerror(status));
		finish(c, 0);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
	if (proxy_port) {
		c->st = ST_GREET;
		c->have = 0;
		send_bytes(c, "\x05\x01\x00", 3);
	} else
		after_socks(c);
}

static void
start_conn(struct conn *c)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)(proxy_port ? proxy_port : target_port));
	uv_tcp_init(loop, &c->tcp);
	c->tcp.data = c;
	c->creq.data = c;
	c->st = ST_CONNECT;
	if (uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&sin,
			   connect_cb) < 0)
		finish(c, 0);
}

static void
walk_close(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, h->type == UV_TCP ? closed_cb : NULL);
}

static void
stop_cb(uv_timer_t *t)
{
	t_end = uv_hrtime();
	stopping = 1;
	uv_walk(loop, walk_close, NULL);
	(void)t;
}

/* ---- target server */

static int serve_mode;	/* 0 once, 1 sink, 2 source */

static void
srv_closed(uv_handle_t *h)
{
	free(h);
}

static void
srv_written(uv_write_t *w, int status)
{
	uv_stream_t *s = w->handle;

	free(w);
	if (status < 0) {
		if (!uv_is_closing((uv_handle_t *)s))
			uv_close((uv_handle_t *)s, srv_closed);
		return;
	}
	if (serve_mode == 0) {
		if (!uv_is_closing((uv_handle_t *)s))
			uv_close((uv_handle_t *)s, srv_closed);
	} else if (serve_mode == 2) {
		uv_write_t *n = malloc(sizeof(*n));
		uv_buf_t b = uv_buf_init(bigbuf, sizeof(bigbuf));

		if (uv_write(n, s, &b, 1, srv_written) < 0) {
			free(n);
			if (!uv_is_closing((uv_handle_t *)s))
				uv_close((uv_handle_t *)s, srv_closed);
		}
	}
}

static void
srv_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
	(void)h;
	(void)sz;
	*b = uv_buf_init(readbuf, sizeof(readbuf));
}

static void
srv_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	if (n < 0) {
		if (!uv_is_closing((uv_handle_t *)s))
			uv_close((uv_handle_t *)s, srv_closed);
		return;
	}
	if (n > 0 && serve_mode == 0) {
		uv_buf_t o = uv_buf_init(b->base, (unsigned)n);

		/* one tiny write always fits the socket buffer; then we
		 * close first, so TIME_WAIT stays on this fixed port */
		uv_try_write(s, &o, 1);
		uv_close((uv_handle_t *)s, srv_closed);
	}
}

static void
srv_conn(uv_stream_t *l, int status)
{
	uv_tcp_t *c;

	if (status < 0)
		return;
	c = malloc(sizeof(*c));
	uv_tcp_init(loop, c);
	if (uv_accept(l, (uv_stream_t *)c) < 0) {
		uv_close((uv_handle_t *)c, srv_closed);
		return;
	}
	uv_tcp_nodelay(c, 1);
	uv_read_start((uv_stream_t *)c, srv_alloc, srv_read);
	if (serve_mode == 2) {
		uv_write_t *w = malloc(sizeof(*w));
		uv_buf_t b = uv_buf_init(bigbuf, sizeof(bigbuf));

		if (uv_write(w, (uv_stream_t *)c, &b, 1, srv_written) < 0)
			free(w);
	}
}

static int
serve(const char *what)
{
	static uv_tcp_t l;
	struct sockaddr_in sin;

	serve_mode = strcmp(what, "once") == 0 ? 0 :
		     strcmp(what, "sink") == 0 ? 1 : 2;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)target_port);
	uv_tcp_init(loop, &l);
	if (uv_tcp_bind(&l, (struct sockaddr *)&sin, 0) < 0 ||
	    uv_listen((uv_stream_t *)&l, 4096, srv_conn) < 0) {
		fprintf(stderr, "socksload: cannot listen on %d\n",
			target_port);
		return 1;
	}
	return uv_run(loop, UV_RUN_DEFAULT);
}

int
main(int argc, char **argv)
{
	uv_timer_t timer;
	const char *serve_what = NULL;
	double dt;
	int opt;

	while ((opt = getopt(argc, argv, "m:p:x:c:s:S:")) != -1) {
		switch (opt) {
		case 'S': serve_what = optarg; break;
		case 'm':
			mode = strcmp(optarg, "cps") == 0 ? 0 :
			       strcmp(optarg, "down") == 0 ? 1 : 2;
			break;
		case 'p': target_port = atoi(optarg); break;
		case 'x': proxy_port = atoi(optarg); break;
		case 'c': conc = atoi(optarg); break;
		case 's': secs = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: socksload -m cps|down|up -p "
				"PORT [-x PROXY] [-c N] [-s SECS]\n");
			return 2;
		}
	}
	if (target_port <= 0)
		return 2;
	memset(bigbuf, 'u', sizeof(bigbuf));
	loop = uv_default_loop();
	signal(SIGPIPE, SIG_IGN);
	if (serve_what != NULL)
		return serve(serve_what);
	for (int i = 0; i < conc; i++) {
		struct conn *c = calloc(1, sizeof(*c));

		c->id = i;
		start_conn(c);
	}
	uv_timer_init(loop, &timer);
	uv_timer_start(&timer, stop_cb, (uint64_t)secs * 1000, 0);
	t_start = uv_hrtime();
	uv_run(loop, UV_RUN_DEFAULT);
	dt = (double)(t_end - t_start) / 1e9;
	if (mode == 0)
		printf("cps %.0f conn/s %.0f conns\n",
		       (double)done_conns / dt, (double)done_conns);
	else
		printf("%s %.1f MB/s %.0f bytes\n", mode == 1 ? "down" : "up",
		       (double)bytes / dt / 1e6, (double)bytes);
	return 0;
}
