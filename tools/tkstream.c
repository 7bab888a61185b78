/* tkstream: developer tool for the onion engine's circuits and streams.
 * Bootstraps from DirAuthority lines (onion.h), then over 3-hop circuits:
 *
 *   tkstream [opts] resolve NAME...     "NAME ADDR..." or "NAME error R"
 *   tkstream [opts] ptr ADDR...         "ADDR NAME" or "ADDR error R"
 *   tkstream [opts] connect HOST PORT   stdin -> stream -> stdout
 *   tkstream [opts] echo HOST PORT      -n streams at once, each sends -b
 *                                       bytes and checks they come back
 *   tkstream [opts] iso HOST PORT       streams with keys a, b, a: prints
 *                                       the circuit each one got
 *   tkstream [opts] survive HOST PORT   echoes until the stream fails
 *                                       (kill a relay of the printed
 *                                       circuit), then opens a new stream
 *                                       and checks one round trip
 *
 * Options: -f FILE / -a LINE DirAuthority lines, -d DATADIR, -S (no
 * distinct subnets), -i KEY isolation key, -4 / -6 families for resolve,
 * -n N, -b BYTES, -w BYTES in flight (echo), -L MS linger after shutdown, -t SEC overall timeout,
 * -v log, -W wait for the first (preemptive) circuit before the
 * requests, -T timings on stderr (bootstrap, first circuit, time to first
 * byte, MB/s).
 *
 * Exit status: 0 success, 1 a request failed, 2 usage, 4 timeout. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "onion/onion.h"
#include "onion/cell/relay_msg.h"

static const char *progname = "tkstream";

#define MAXS 256

struct st {
	int idx;
	tk_onion_req *req;
	tk_onion_stream *s;
	uint8_t *out;		/* what we send (echo modes) */
	size_t sent, got, total;
	uint8_t rbuf[16384];
	int ok, done, eof;
	uint64_t t_req, t_conn, t_first;
	const char *key;
	uint8_t *wbuf;		/* connect mode: stdin chunk in flight */
};

static struct {
	int verbose, timing, warm;
	uv_timer_t warm_timer;
	const char *mode;
	char **args;
	int nargs;
	const char *iso;
	int families;
	unsigned n, timeout_s, linger_ms;
	size_t bytes, window;
	uv_loop_t *loop;
	tk_onion *o;
	uv_timer_t deadline;
	int started, finishing, exit_code, pending;
	uint64_t t0, t_boot;
	struct st s[MAXS];
	/* connect mode */
	uv_pipe_t in;
	int in_open, in_reading;
	size_t in_flight;
	/* survive mode */
	int phase;
} g;

static void stdin_resume(void);
static void p_read(void *arg, uint8_t *buf, size_t len, int eof);
static void p_error(void *arg, int reason);

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-vTW] [-S] [-d DIR] [-i KEY] [-4|-6] [-n N] [-b BYTES]"
		" [-w BYTES] [-L MS] [-t SEC]\n"
		"          (-f FILE | -a LINE)... COMMAND ARGS\n"
		"commands: resolve NAME... | ptr ADDR... | connect HOST PORT |\n"
		"          echo HOST PORT | iso HOST PORT | survive HOST PORT\n",
		progname);
}

static double ms_since(uint64_t t)
{
	return (double)(uv_hrtime() - t) / 1e6;
}

static void on_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (g.verbose || level >= TK_LOG_WARN)
		fprintf(stderr, "%s: %s\n", progname, msg);
}

static void on_closed_handle(uv_handle_t *h)
{
	(void)h;
}

static void finish_all(int code)
{
	if (g.finishing)
		return;
	g.finishing = 1;
	if (!g.exit_code)
		g.exit_code = code;
	for (unsigned i = 0; i < MAXS; i++) {
		if (g.s[i].req)
			tk_onion_stream_cancel(g.s[i].req);
		g.s[i].req = NULL;
		if (g.s[i].s && !g.s[i].done)
			tk_onion_stream_close(g.s[i].s);
		g.s[i].s = NULL;
	}
	if (g.timing && g.o) {
		struct tk_onion_status st;
		tk_onion_get_status(g.o, &st);
		fprintf(stderr, "timing: circuits built %u, failed %u, mean "
				"build %.1f ms\n", st.circuits.built,
			st.circuits.failed,
			st.circuits.built ? st.circuits.total_build_ms /
						    st.circuits.built : 0.0);
	}
	if (g.in_open) {
		g.in_open = 0;
		uv_close((uv_handle_t *)&g.in, on_closed_handle);
	}
	uv_close((uv_handle_t *)&g.deadline, on_closed_handle);
	tk_onion_free(g.o);
	g.o = NULL;
}

static void on_deadline(uv_timer_t *t)
{
	(void)t;
	fprintf(stderr, "%s: timed out after %u s\n", progname, g.timeout_s);
	for (unsigned i = 0; i < MAXS; i++)
		if (g.s[i].s && !g.s[i].done)
			fprintf(stderr, "%s: stream %u: sent %zu, got %zu of "
					"%zu\n", progname, i, g.s[i].sent,
				g.s[i].got, g.s[i].total);
	finish_all(4);
}

static const char *reason_name(int r)
{
	return tk_relay_end_reason_name((uint8_t)r);
}

static void one_done(int failed)
{
	if (failed)
		g.exit_code = 1;
	if (--g.pending == 0)
		finish_all(0);
}

/* --------------------------------------------------------- lookups */

static void on_resolved(void *arg, int reason, const struct tk_onion_resolved *r)
{
	struct st *s = arg;
	const char *q = g.args[s->idx];
	s->req = NULL;
	if (reason) {
		printf("%s error %s\n", q, reason_name(reason));
	} else if (r->name[0]) {
		printf("%s %s\n", q, r->name);
	} else {
		printf("%s", q);
		for (size_t i = 0; i < r->n_addrs; i++) {
			char buf[64];
			inet_ntop(r->addrs[i].family, r->addrs[i].addr, buf,
				  sizeof buf);
			printf(" %s", buf);
		}
		printf("\n");
	}
	fflush(stdout);
	if (g.timing)
		fprintf(stderr, "timing: %s answered in %.1f ms\n", q,
			ms_since(s->t_req));
	one_done(reason != 0);
}

static void start_lookups(int ptr)
{
	g.pending = g.nargs;
	for (int i = 0; i < g.nargs; i++) {
		struct st *s = &g.s[i];
		int rc;
		s->idx = i;
		s->t_req = uv_hrtime();
		if (ptr) {
			uint8_t a[16] = { 0 };
			int fam = strchr(g.args[i], ':') ? AF_INET6 : AF_INET;
			if (inet_pton(fam, g.args[i], a) != 1) {
				fprintf(stderr, "%s: not an address: %s\n",
					progname, g.args[i]);
				finish_all(2);
				return;
			}
			rc = tk_onion_stream_resolve_ptr(g.o, fam, a, g.iso,
							 g.iso ? strlen(g.iso) : 0,
							 on_resolved, s, &s->req);
		} else {
			rc = tk_onion_stream_resolve(g.o, g.args[i], g.families,
						     g.iso,
						     g.iso ? strlen(g.iso) : 0,
						     on_resolved, s, &s->req);
		}
		if (rc) {
			fprintf(stderr, "%s: %s: %s\n", progname, g.args[i],
				strerror(-rc));
			finish_all(2);
			return;
		}
	}
}

/* --------------------------------------------------------- streams */

static void s_alloc(void *arg, size_t sugg, uint8_t **buf, size_t *cap)
{
	struct st *s = arg;
	(void)sugg;
	*buf = s->rbuf;
	*cap = sizeof s->rbuf;
}

static void s_written(void *arg, uint8_t *buf, size_t len, int status)
{
	struct st *s = arg;
	(void)status;
	if (buf == s->wbuf) {
		free(s->wbuf);
		s->wbuf = NULL;
		g.in_flight -= len;
		if (g.in_open && !g.in_reading && !g.finishing)
			stdin_resume();
	}
}

static void s_closed(void *arg)
{
	(void)arg;
}

static void open_stream(struct st *s, const char *key);
static void pump_echo(struct st *s);

static void stream_end(struct st *s, int failed)
{
	if (s->done)
		return;
	s->done = 1;
	if (s->s)
		tk_onion_stream_close(s->s);
	s->s = NULL;
	one_done(failed);
}

/* echo / iso / survive: check what comes back */
static void e_read(void *arg, uint8_t *buf, size_t len, int eof)
{
	struct st *s = arg;
	if (eof || !len) {
		if (eof) {
			fprintf(stderr, "%s: stream %d: EOF after %zu of %zu "
					"bytes\n", progname, s->idx, s->got,
				s->total);
			stream_end(s, 1);
		}
		return;
	}
	if (!s->t_first) {
		s->t_first = uv_hrtime();
		if (g.timing && s->idx == 0)
			fprintf(stderr, "timing: first byte %.1f ms after the "
					"request\n",
				(double)(s->t_first - s->t_req) / 1e6);
	}
	if (s->got + len > s->total || memcmp(s->out + s->got, buf, len)) {
		fprintf(stderr, "%s: stream %d: echo differs at byte %zu\n",
			progname, s->idx, s->got);
		stream_end(s, 1);
		return;
	}
	s->got += len;
	if (s->got == s->total) {
		if (!strcmp(g.mode, "survive") && g.phase == 0) {
			/* keep the stream busy until it breaks */
			s->got = s->sent = 0;
			pump_echo(s);
			return;
		}
		if (g.timing && s->idx == 0)
			fprintf(stderr, "timing: %zu bytes echoed in %.1f ms: "
					"%.2f MB/s each way\n",
				s->total, (double)(uv_hrtime() - s->t_conn) / 1e6,
				(double)s->total / 1e6 /
					((double)(uv_hrtime() - s->t_conn) / 1e9));
		if (!strcmp(g.mode, "survive"))
			printf("second stream ok on circ %u\n",
			       tk_onion_stream_circuit(s->s));
		fflush(stdout);
		stream_end(s, 0);
		return;
	}
	pump_echo(s);
}

static void e_error(void *arg, int reason)
{
	struct st *s = arg;
	if (!strcmp(g.mode, "survive") && g.phase == 0) {
		printf("stream failed: %s\n", reason_name(reason));
		fflush(stdout);
		g.phase = 1;
		tk_onion_stream_close(s->s);
		s->s = NULL;
		s->done = 1;
		open_stream(&g.s[1], g.iso);
		return;
	}
	fprintf(stderr, "%s: stream %d failed: %s\n", progname, s->idx,
		reason_name(reason));
	stream_end(s, 1);
}

static void e_written(void *arg, uint8_t *buf, size_t len, int status)
{
	struct st *s = arg;
	(void)buf, (void)len, (void)status;
	pump_echo(s);
}

static const struct tk_onion_stream_cbs echo_cbs = {
	s_alloc, e_read, e_written, e_error, s_closed
};

/* At most -w bytes (default 64 KB) sent and not yet echoed, 16 KB per
 * write. */
static void pump_echo(struct st *s)
{
	while (s->s && s->sent < s->total && s->sent - s->got < g.window) {
		size_t n = s->total - s->sent;
		if (n > 16384)
			n = 16384;
		if (tk_onion_stream_write(s->s, s->out + s->sent, n) != 0)
			return;
		s->sent += n;
	}
}

static void on_connect(void *arg, int reason, tk_onion_stream *os)
{
	struct st *s = arg;
	s->req = NULL;
	if (reason) {
		printf("stream %d error %s\n", s->idx, reason_name(reason));
		fflush(stdout);
		s->done = 1;
		one_done(1);
		return;
	}
	s->s = os;
	s->t_conn = uv_hrtime();
	if (g.timing && s->idx == 0)
		fprintf(stderr, "timing: connected %.1f ms after the request "
				"(%.1f ms after start)\n",
			(double)(s->t_conn - s->t_req) / 1e6, ms_since(g.t0));
	if (!strcmp(g.mode, "iso") || !strcmp(g.mode, "survive") ||
	    g.verbose) {
		char d[160];
		if (tk_onion_describe_circuit(g.o, tk_onion_stream_circuit(os),
					      d, sizeof d) < 0)
			snprintf(d, sizeof d, "circ %u",
				 tk_onion_stream_circuit(os));
		printf("stream %d key %s: %s\n", s->idx,
		       s->key ? s->key : "-", d);
		fflush(stdout);
	}
	if (!strcmp(g.mode, "connect")) {
		static const struct tk_onion_stream_cbs pipe_cbs = {
			s_alloc, p_read, s_written, p_error, s_closed
		};
		tk_onion_stream_start(os, &pipe_cbs, s);
		stdin_resume();
		return;
	}
	tk_onion_stream_start(os, &echo_cbs, s);
	pump_echo(s);
}

static void open_stream(struct st *s, const char *key)
{
	int rc;
	s->key = key;
	s->total = g.bytes;
	s->done = 0;
	s->sent = s->got = 0;
	if (!s->out) {
		s->out = malloc(s->total ? s->total : 1);
		if (!s->out) {
			finish_all(1);
			return;
		}
		for (size_t i = 0; i < s->total; i++)
			s->out[i] = (uint8_t)(i * 7 + (size_t)s->idx * 13 + (i >> 9));
	}
	s->t_req = uv_hrtime();
	rc = tk_onion_stream_connect(g.o, g.args[0],
				     (uint16_t)atoi(g.args[1]), 0, key,
				     key ? strlen(key) : 0, on_connect, s,
				     &s->req);
	if (rc) {
		fprintf(stderr, "%s: %s: %s\n", progname, g.args[0],
			strerror(-rc));
		finish_all(2);
	}
}

/* ---- connect mode: stdin -> stream -> stdout */

static void p_read(void *arg, uint8_t *buf, size_t len, int eof)
{
	struct st *s = arg;
	if (len) {
		if (!s->t_first) {
			s->t_first = uv_hrtime();
			if (g.timing)
				fprintf(stderr, "timing: first byte %.1f ms "
						"after the request\n",
					(double)(s->t_first - s->t_req) / 1e6);
		}
		if (fwrite(buf, 1, len, stdout) != len) {
			stream_end(s, 1);
			return;
		}
		fflush(stdout);
	}
	if (eof)
		stream_end(s, 0);
}

static void p_error(void *arg, int reason)
{
	struct st *s = arg;
	fprintf(stderr, "%s: stream failed: %s\n", progname,
		reason_name(reason));
	stream_end(s, 1);
}

static void in_alloc(uv_handle_t *h, size_t sugg, uv_buf_t *b)
{
	(void)h, (void)sugg;
	b->base = malloc(16384);
	b->len = b->base ? 16384 : 0;
}

static void in_read(uv_stream_t *h, ssize_t n, const uv_buf_t *b)
{
	struct st *s = &g.s[0];
	(void)h;
	if (n <= 0) {
		free(b->base);
		if (n == 0)
			return;
		uv_read_stop((uv_stream_t *)&g.in);
		g.in_reading = 0;
		if (s->s && !s->done)
			tk_onion_stream_shutdown(s->s);
		return;
	}
	if (!s->s || s->done) {
		free(b->base);
		return;
	}
	s->wbuf = (uint8_t *)b->base; /* one chunk in flight at a time */
	g.in_flight += (size_t)n;
	if (tk_onion_stream_write(s->s, s->wbuf, (size_t)n) != 0) {
		free(b->base);
		s->wbuf = NULL;
		g.in_flight -= (size_t)n;
	}
	uv_read_stop((uv_stream_t *)&g.in);
	g.in_reading = 0;
}

static void stdin_resume(void)
{
	if (!g.in_open || g.in_reading || g.s[0].wbuf || g.finishing)
		return;
	g.in_reading = 1;
	uv_read_start((uv_stream_t *)&g.in, in_alloc, in_read);
}

/* ------------------------------------------------------------ start */

static void start_work(void)
{
	if (!strcmp(g.mode, "resolve")) {
		start_lookups(0);
	} else if (!strcmp(g.mode, "ptr")) {
		start_lookups(1);
	} else if (!strcmp(g.mode, "connect")) {
		g.pending = 1;
		g.bytes = 0;
		open_stream(&g.s[0], g.iso);
	} else if (!strcmp(g.mode, "echo")) {
		g.pending = (int)g.n;
		for (unsigned i = 0; i < g.n; i++) {
			g.s[i].idx = (int)i;
			open_stream(&g.s[i], g.iso);
		}
	} else if (!strcmp(g.mode, "iso")) {
		static const char *keys[] = { "a", "b", "a" };
		g.pending = 3;
		for (int i = 0; i < 3; i++) {
			g.s[i].idx = i;
			open_stream(&g.s[i], keys[i]);
		}
	} else if (!strcmp(g.mode, "survive")) {
		g.pending = 1;
		g.s[0].idx = 0;
		g.s[1].idx = 1;
		open_stream(&g.s[0], g.iso);
	}
}

static void start_work(void);

/* -W: requests go out only once a (preemptive) circuit is built, to
 * measure a warm engine's time to first byte. */
static void on_warm(uv_timer_t *t)
{
	struct tk_onion_status st;
	if (!g.o)
		return;
	tk_onion_get_status(g.o, &st);
	if (st.circuits.open < 1)
		return;
	uv_timer_stop(t);
	uv_close((uv_handle_t *)t, on_closed_handle);
	if (g.timing)
		fprintf(stderr, "timing: first circuit open %.1f ms after start "
				"(build %.1f ms)\n", ms_since(g.t0),
			st.circuits.last_build_ms);
	start_work();
}

static void on_progress(void *arg, int pct, const char *tag,
			const char *summary)
{
	(void)arg, (void)tag;
	if (g.verbose)
		fprintf(stderr, "%s: Bootstrapped %d%%: %s\n", progname, pct,
			summary);
	if (pct == 100 && !g.started) {
		g.started = 1;
		g.t_boot = uv_hrtime();
		if (g.timing)
			fprintf(stderr, "timing: directory usable %.1f ms after "
					"start\n", ms_since(g.t0));
	}
}

static int add_file(struct tk_onion_config *cfg, const char *path)
{
	char line[2048], err[256];
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "%s: cannot read %s: %s\n", progname, path,
			strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (tk_onion_config_add_authority(cfg, line, err, sizeof err)) {
			fprintf(stderr, "%s: %s: %s\n", progname, path, err);
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	struct tk_onion_config cfg;
	char err[256];
	int opt, subnets = 1;
	const char *data_dir = NULL;

	tk_onion_config_init(&cfg);
	g.timeout_s = 120;
	g.n = 1;
	g.bytes = 100000;
	g.window = 65536;
	g.families = TK_ONION_RESOLVE_IPV4 | TK_ONION_RESOLVE_IPV6;
	g.linger_ms = 30000;
	while ((opt = getopt(argc, argv, "a:f:d:Si:46n:b:w:L:t:vTWh")) != -1) {
		switch (opt) {
		case 'a':
			if (tk_onion_config_add_authority(&cfg, optarg, err,
							  sizeof err)) {
				fprintf(stderr, "%s: %s\n", progname, err);
				return 2;
			}
			break;
		case 'f':
			if (add_file(&cfg, optarg))
				return 2;
			break;
		case 'd': data_dir = optarg; break;
		case 'S': subnets = 0; break;
		case 'i': g.iso = optarg; break;
		case '4': g.families = TK_ONION_RESOLVE_IPV4; break;
		case '6': g.families = TK_ONION_RESOLVE_IPV6; break;
		case 'n': g.n = (unsigned)atoi(optarg); break;
		case 'b': g.bytes = (size_t)strtoull(optarg, NULL, 10); break;
		case 'w': g.window = (size_t)strtoull(optarg, NULL, 10); break;
		case 'L': g.linger_ms = (unsigned)atoi(optarg); break;
		case 't': g.timeout_s = (unsigned)atoi(optarg); break;
		case 'v': g.verbose = 1; break;
		case 'T': g.timing = 1; break;
		case 'W': g.warm = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc || cfg.n_authorities == 0 || g.n < 1 ||
	    g.n > MAXS || !g.timeout_s) {
		usage(stderr);
		return 2;
	}
	g.mode = argv[optind];
	g.args = argv + optind + 1;
	g.nargs = argc - optind - 1;
	if (!strcmp(g.mode, "resolve") || !strcmp(g.mode, "ptr")) {
		if (g.nargs < 1 || g.nargs > MAXS) {
			usage(stderr);
			return 2;
		}
	} else if (!strcmp(g.mode, "connect") || !strcmp(g.mode, "echo") ||
		   !strcmp(g.mode, "iso") || !strcmp(g.mode, "survive")) {
		if (g.nargs != 2 || atoi(g.args[1]) <= 0 ||
		    atoi(g.args[1]) > 65535) {
			usage(stderr);
			return 2;
		}
	} else {
		usage(stderr);
		return 2;
	}
	g.loop = uv_default_loop();
	cfg.data_dir = data_dir;
	cfg.enforce_distinct_subnets = subnets;
	cfg.log = on_log;
	cfg.progress = on_progress;
	cfg.linger_ms = g.linger_ms;
	cfg.scrub_hosts = 0; /* a test tool: its logs name the targets */
	if (tk_onion_new(g.loop, &cfg, &g.o, err, sizeof err)) {
		fprintf(stderr, "%s: %s\n", progname, err);
		return 1;
	}
	if (!strcmp(g.mode, "connect")) {
		uv_pipe_init(g.loop, &g.in, 0);
		if (uv_pipe_open(&g.in, 0) != 0) {
			fprintf(stderr, "%s: connect mode wants stdin to be a "
					"pipe\n", progname);
			return 2;
		}
		g.in_open = 1;
	}
	uv_timer_init(g.loop, &g.deadline);
	uv_timer_start(&g.deadline, on_deadline, (uint64_t)g.timeout_s * 1000,
		       0);
	g.t0 = uv_hrtime();
	tk_onion_start(g.o);
	/* Requests wait inside the circuit manager until the directory is
	 * usable: no need to hold them back here, unless -W. */
	if (g.warm) {
		uv_timer_init(g.loop, &g.warm_timer);
		uv_timer_start(&g.warm_timer, on_warm, 10, 10);
	} else {
		start_work();
	}
	uv_run(g.loop, UV_RUN_DEFAULT);
	uv_loop_close(g.loop);
	return g.exit_code;
}
