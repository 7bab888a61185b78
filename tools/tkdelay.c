/* tkdelay: a TCP forwarder that adds latency (and optionally a rate
 * limit), for tools/tornet --latency. Every relay of the test network
 * advertises an ORPort that is really this process; it forwards each
 * connection to the port the relay listens on, holding every byte back
 * for the delay in each direction, so relays and clients all see a link
 * with that round trip.
 *
 *   tkdelay -d MS [-r BYTES_PER_S] [-q BYTES] LISTEN=TARGET ...
 *
 * LISTEN and TARGET are 127.0.0.1 ports. -d is the one-way delay added
 * to each direction; -r, if given, limits each direction of each
 * connection to that many bytes a second (a link of that bandwidth: a
 * chunk leaves after the previous one has been "on the wire" for its
 * length / rate, then travels -d); -q bounds what one direction holds
 * (default 16 MiB: more than a 100 MB/s link keeps in flight over 150 ms)
 * before it stops reading from the sender, as a full link would.
 *
 * One libuv loop, no threads. Bytes are never reordered, dropped or
 * changed. A half-close is passed on after the data before it; a reset
 * or error closes both sides. SIGTERM/SIGINT stop it. */
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define READ_SIZE (64 * 1024)
#define MAX_PAIRS 64

struct chunk {
	struct chunk *next;
	uint64_t due_ns; /* when it may be written */
	size_t len;	 /* 0: the sender's EOF, to pass on */
	char data[];
};

struct conn;

/* One direction: from `src` to `dst`. */
struct dir {
	struct conn *c;
	uv_tcp_t *src, *dst;
	struct chunk *head, *tail;
	size_t held;	    /* bytes queued here and being written */
	uint64_t wire_free; /* rate limit: when the "wire" is free again */
	uv_timer_t timer;
	int reading, eof_seen, eof_sent, timer_closed;
};

struct conn {
	uv_tcp_t a, b; /* a: accepted, b: to the relay */
	uv_connect_t creq;
	struct dir up, down; /* a->b, b->a */
	int connected, closing, handles_open;
};

struct writereq {
	uv_write_t w;
	struct dir *d;
	struct chunk *ch;
};

static uv_loop_t *loop;
static uint64_t delay_ns, rate_bps, max_held = 16u << 20;
static uv_tcp_t listeners[MAX_PAIRS];
static struct sockaddr_in targets[MAX_PAIRS];
static int n_pairs;
static uv_signal_t sig_term, sig_int;
static unsigned long n_conns;

static void conn_close(struct conn *c);
static void dir_pump(struct dir *d);
static void dir_read_start(struct dir *d);

static void
free_chunks(struct dir *d)
{
	while (d->head) {
		struct chunk *n = d->head->next;
		free(d->head);
		d->head = n;
	}
	d->tail = NULL;
}

static void
handle_gone(struct conn *c)
{
	if (--c->handles_open == 0) {
		free_chunks(&c->up);
		free_chunks(&c->down);
		free(c);
	}
}

static void
on_handle_closed(uv_handle_t *h)
{
	handle_gone(h->data);
}

static void
on_timer_closed(uv_handle_t *h)
{
	struct dir *d = h->data; /* a timer's data is its direction */
	handle_gone(d->c);
}

static void
conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	uv_close((uv_handle_t *)&c->a, on_handle_closed);
	uv_close((uv_handle_t *)&c->b, on_handle_closed);
	uv_close((uv_handle_t *)&c->up.timer, on_timer_closed);
	uv_close((uv_handle_t *)&c->down.timer, on_timer_closed);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct chunk *ch = malloc(sizeof *ch + READ_SIZE);
	(void)h, (void)suggested;
	*buf = uv_buf_init(ch ? ch->data : NULL, ch ? READ_SIZE : 0);
}

static struct dir *
dir_of_src(struct conn *c, uv_stream_t *s)
{
	return s == (uv_stream_t *)&c->a ? &c->up : &c->down;
}

/* When a chunk read now may leave: after the delay, and with a rate,
 * after the bytes before it have gone through the "wire". */
static uint64_t
schedule(struct dir *d, size_t len)
{
	uint64_t now = uv_hrtime(), start = now;
	if (rate_bps) {
		if (d->wire_free > start)
			start = d->wire_free;
		d->wire_free = start + (uint64_t)len * 1000000000u / rate_bps;
		start = d->wire_free;
	}
	return start + delay_ns;
}

static void
enqueue(struct dir *d, struct chunk *ch)
{
	ch->next = NULL;
	if (d->tail)
		d->tail->next = ch;
	else
		d->head = ch;
	d->tail = ch;
	d->held += ch->len;
	dir_pump(d);
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	struct dir *d = dir_of_src(c, s);
	struct chunk *ch = buf->base ? (struct chunk *)(void *)(buf->base -
							       offsetof(
								       struct chunk,
								       data))
				     : NULL;
	if (n == 0) {
		free(ch);
		return;
	}
	if (n == UV_EOF) {
		free(ch);
		ch = malloc(sizeof *ch);
		if (!ch) {
			conn_close(c);
			return;
		}
		ch->len = 0;
		ch->due_ns = schedule(d, 0);
		d->eof_seen = 1;
		uv_read_stop(s);
		d->reading = 0;
		enqueue(d, ch);
		return;
	}
	if (n < 0 || !ch) {
		free(ch);
		conn_close(c);
		return;
	}
	/* Give back what the read did not use: reads are often small. */
	if ((size_t)n < READ_SIZE / 2) {
		struct chunk *small = realloc(ch, sizeof *ch + (size_t)n);
		if (small)
			ch = small;
	}
	ch->len = (size_t)n;
	ch->due_ns = schedule(d, ch->len);
	if (d->held + ch->len > max_held) {
		uv_read_stop(s); /* the "link" is full: push back */
		d->reading = 0;
	}
	enqueue(d, ch);
}

static void
on_written(uv_write_t *w, int status)
{
	struct writereq *r = (struct writereq *)w;
	struct dir *d = r->d;
	d->held -= r->ch->len;
	free(r->ch);
	free(r);
	if (status < 0) {
		conn_close(d->c);
		return;
	}
	if (!d->c->closing && !d->reading && !d->eof_seen &&
	    d->held <= max_held / 2)
		dir_read_start(d);
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	struct dir *d = req->data;
	free(req);
	d->eof_sent = 1;
	if (status < 0 || (d->c->up.eof_sent && d->c->down.eof_sent))
		conn_close(d->c);
}

static void
on_timer(uv_timer_t *t)
{
	dir_pump(t->data);
}

/* Writes every chunk that is due; rearms the timer for the next. */
static void
dir_pump(struct dir *d)
{
	uint64_t now = uv_hrtime();
	if (d->c->closing)
		return;
	while (d->head && d->head->due_ns <= now) {
		struct chunk *ch = d->head;
		d->head = ch->next;
		if (!d->head)
			d->tail = NULL;
		if (ch->len == 0) {
			uv_shutdown_t *sr = malloc(sizeof *sr);
			free(ch);
			if (!sr ||
			    uv_shutdown(sr, (uv_stream_t *)d->dst, on_shutdown)) {
				free(sr);
				conn_close(d->c);
				return;
			}
			sr->data = d;
			continue;
		}
		struct writereq *r = malloc(sizeof *r);
		uv_buf_t b = uv_buf_init(ch->data, (unsigned)ch->len);
		if (!r) {
			free(ch);
			conn_close(d->c);
			return;
		}
		r->d = d;
		r->ch = ch;
		if (uv_write(&r->w, (uv_stream_t *)d->dst, &b, 1, on_written)) {
			free(ch);
			free(r);
			conn_close(d->c);
			return;
		}
	}
	if (d->head) {
		uint64_t wait_ms = (d->head->due_ns - now + 999999) / 1000000;
		uv_timer_start(&d->timer, on_timer, wait_ms, 0);
	}
}

static void
dir_read_start(struct dir *d)
{
	if (uv_read_start((uv_stream_t *)d->src, on_alloc, on_read) == 0)
		d->reading = 1;
	else
		conn_close(d->c);
}

static void
on_target(uv_connect_t *req, int status)
{
	struct conn *c = req->data;
	if (c->closing)
		return;
	if (status < 0) {
		conn_close(c);
		return;
	}
	c->connected = 1;
	uv_tcp_nodelay(&c->a, 1);
	uv_tcp_nodelay(&c->b, 1);
	dir_read_start(&c->up);
	dir_read_start(&c->down);
}

static void
on_connection(uv_stream_t *server, int status)
{
	int i = (int)(intptr_t)server->data;
	struct conn *c;
	if (status < 0)
		return;
	c = calloc(1, sizeof *c);
	if (!c)
		return;
	uv_tcp_init(loop, &c->a);
	uv_tcp_init(loop, &c->b);
	uv_timer_init(loop, &c->up.timer);
	uv_timer_init(loop, &c->down.timer);
	c->handles_open = 4;
	c->a.data = c->b.data = c;
	c->up.timer.data = &c->up;
	c->down.timer.data = &c->down;
	c->up.c = c->down.c = c;
	c->up.src = c->down.dst = &c->a;
	c->up.dst = c->down.src = &c->b;
	if (uv_accept(server, (uv_stream_t *)&c->a) != 0) {
		conn_close(c);
		return;
	}
	n_conns++;
	c->creq.data = c;
	if (uv_tcp_connect(&c->creq, &c->b,
			   (const struct sockaddr *)&targets[i], on_target))
		conn_close(c);
}

static void
on_signal(uv_signal_t *s, int signum)
{
	(void)s, (void)signum;
	uv_stop(loop);
}

static int
parse_port(const char *s, int *port)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v < 1 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

static void usage(void) __attribute__((noreturn));
static void
usage(void)
{
	fprintf(stderr, "usage: tkdelay -d MS [-r BYTES_PER_S] [-q BYTES] "
			"LISTEN_PORT=TARGET_PORT ...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	int i, have_delay = 0;
	signal(SIGPIPE, SIG_IGN);
	loop = uv_default_loop();
	for (i = 1; i < argc && argv[i][0] == '-'; i += 2) {
		char *end;
		unsigned long long v;
		if (i + 1 >= argc)
			usage();
		v = strtoull(argv[i + 1], &end, 10);
		if (*argv[i + 1] == '\0' || *end != '\0')
			usage();
		if (strcmp(argv[i], "-d") == 0) {
			delay_ns = v * 1000000u;
			have_delay = 1;
		} else if (strcmp(argv[i], "-r") == 0) {
			rate_bps = v;
		} else if (strcmp(argv[i], "-q") == 0 && v >= READ_SIZE) {
			max_held = v;
		} else {
			usage();
		}
	}
	if (!have_delay || i >= argc)
		usage();
	for (; i < argc; i++) {
		/* argv stays as it was: tornet checks /proc/PID/cmdline
		 * before it stops us */
		char arg[32], *eq;
		int lp = 0, tp = 0;
		struct sockaddr_in la;
		if (strlen(argv[i]) >= sizeof arg || n_pairs == MAX_PAIRS)
			usage();
		strcpy(arg, argv[i]);
		eq = strchr(arg, '=');
		if (!eq)
			usage();
		*eq = '\0';
		if (parse_port(arg, &lp) || parse_port(eq + 1, &tp))
			usage();
		uv_ip4_addr("127.0.0.1", lp, &la);
		uv_ip4_addr("127.0.0.1", tp, &targets[n_pairs]);
		uv_tcp_init(loop, &listeners[n_pairs]);
		listeners[n_pairs].data = (void *)(intptr_t)n_pairs;
		if (uv_tcp_bind(&listeners[n_pairs],
				(const struct sockaddr *)&la, 0) ||
		    uv_listen((uv_stream_t *)&listeners[n_pairs], 128,
			      on_connection)) {
			fprintf(stderr, "tkdelay: cannot listen on 127.0.0.1:%d\n",
				lp);
			return 1;
		}
		n_pairs++;
	}
	uv_signal_init(loop, &sig_term);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_init(loop, &sig_int);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	fprintf(stderr,
		"tkdelay: %d port%s, %llu ms each way, rate %s%llu B/s\n",
		n_pairs, n_pairs == 1 ? "" : "s",
		(unsigned long long)(delay_ns / 1000000),
		rate_bps ? "" : "unlimited ", (unsigned long long)rate_bps);
	uv_run(loop, UV_RUN_DEFAULT);
	fprintf(stderr, "tkdelay: stopping after %lu connections\n", n_conns);
	return 0;
}
