/* tkbootstrap: bootstrap the onion engine's directory and report.
 *
 *   tkbootstrap [-v] [-S] [-d DATADIR] [-t SEC] [-k SEC]
 *               (-f FILE | -a 'DirAuthority line')...
 *
 * Prints tor-style "Bootstrapped N%" lines (and the rest of the log with
 * -v) to stderr; once the directory is usable, or at the -t deadline, a
 * summary on stdout:
 *   bootstrapped: 100% in 412 ms
 *   consensus: 2026-11-27 09:01:00 .. 2026-11-27 09:01:40 UTC (fetched)
 *   relays: 9 listed, 9 usable, 9 guards, 2 exits
 *   fetches: 5 before usable, 5 in all
 * -k SEC keeps the engine running SEC seconds more (to watch consensus
 * refreshes) before printing the summary.
 *
 * Exit status: 0 usable directory, 1 failure, 2 usage, 4 timed out. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

#include <uv.h>

#include "onion/netdoc/netdoc.h"
#include "onion/onion.h"

static const char *progname = "tkbootstrap";

static struct {
	int verbose;
	unsigned timeout_s, keep_s;
	uint64_t start_ns, done_ns;
	int done;
	tk_onion *o;
	uv_timer_t deadline, keep;
	uv_loop_t *loop;
} g;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s [-v] [-S] [-d DATADIR] [-t SEC] [-k SEC] "
		"(-f FILE | -a LINE)...\n"
		"  -a LINE  a DirAuthority line (torrc syntax; repeatable)\n"
		"  -f FILE  DirAuthority lines from FILE (e.g. "
		"$TORNET_DIRAUTHORITY_FILE)\n"
		"  -d DIR   DataDirectory: cache documents there, start from "
		"them\n"
		"  -S       EnforceDistinctSubnets 0 (local test networks)\n"
		"  -t SEC   give up after SEC seconds (default 120)\n"
		"  -k SEC   keep running SEC seconds after 100%%\n"
		"  -v       log at info level\n",
		progname);
}

static void on_log(void *arg, int level, const char *msg)
{
	static const char *const names[] = {"debug", "info", "notice", "warn",
					    "err"};
	struct timeval tv;
	struct tm tm;
	char ts[32];
	(void)arg;
	if (level < TK_LOG_NOTICE && !g.verbose)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld [%s] %s\n", ts, (long)(tv.tv_usec / 1000),
		names[level >= 0 && level <= 4 ? level : 4], msg);
}

static void print_summary(void)
{
	struct tk_onion_status st;
	char va[32], vu[32];
	tk_onion_get_status(g.o, &st);
	if (g.done)
		printf("bootstrapped: %d%% in %.0f ms\n", st.percent,
		       (double)(g.done_ns - g.start_ns) / 1e6);
	else
		printf("bootstrapped: %d%% (%s) when giving up\n", st.percent,
		       st.tag);
	if (st.valid_after) {
		tk_netdoc_time_fmt(st.valid_after, va, sizeof va);
		tk_netdoc_time_fmt(st.valid_until, vu, sizeof vu);
		printf("consensus: %s .. %s UTC (%s)\n", va, vu,
		       st.from_cache ? "from the cache" : "fetched");
	}
	printf("relays: %zu listed, %zu usable, %zu guards, %zu exits\n",
	       st.n_relays, st.n_usable, st.n_guards, st.n_exits);
	printf("fetches: %u before usable, %u in all\n",
	       st.fetches_before_usable, st.fetches);
	fflush(stdout);
}

static void stop_all(void)
{
	print_summary();
	uv_timer_stop(&g.deadline);
	uv_timer_stop(&g.keep);
	uv_close((uv_handle_t *)&g.deadline, NULL);
	uv_close((uv_handle_t *)&g.keep, NULL);
	tk_onion_free(g.o);
	g.o = NULL;
}

static void on_keep(uv_timer_t *t)
{
	(void)t;
	stop_all();
}

static void on_progress(void *arg, int pct, const char *tag,
			const char *summary)
{
	(void)arg;
	(void)tag;
	(void)summary;
	if (pct < 100 || g.done)
		return;
	g.done = 1;
	g.done_ns = uv_hrtime();
	uv_timer_stop(&g.deadline);
	if (g.keep_s)
		uv_timer_start(&g.keep, on_keep, (uint64_t)g.keep_s * 1000, 0);
	else
		uv_timer_start(&g.keep, on_keep, 0, 0);
}

static void on_deadline(uv_timer_t *t)
{
	(void)t;
	fprintf(stderr, "%s: no usable directory after %u s\n", progname,
		g.timeout_s);
	stop_all();
}

static int add_file(struct tk_onion_config *cfg, const char *path)
{
	char line[2048], err[256];
	int n = 0, lineno = 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "%s: cannot read %s: %s\n", progname, path,
			strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f)) {
		char *p = line;
		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '#' || *p == '\n' || *p == '\0')
			continue;
		if (tk_onion_config_add_authority(cfg, p, err, sizeof err)) {
			fprintf(stderr, "%s: %s:%d: %s\n", progname, path,
				lineno, err);
			fclose(f);
			return -1;
		}
		n++;
	}
	fclose(f);
	if (n == 0) {
		fprintf(stderr, "%s: %s holds no DirAuthority line\n", progname,
			path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct tk_onion_config cfg;
	char err[256];
	int opt;
	char *end;

	tk_onion_config_init(&cfg);
	g.timeout_s = 120;
	while ((opt = getopt(argc, argv, "a:f:d:St:k:vh")) != -1) {
		switch (opt) {
		case 'a':
			if (tk_onion_config_add_authority(&cfg, optarg, err,
							  sizeof err)) {
				fprintf(stderr, "%s: %s\n", progname, err);
				return 2;
			}
			break;
		case 'f':
			if (add_file(&cfg, optarg) != 0)
				return 2;
			break;
		case 'd':
			cfg.data_dir = optarg;
			break;
		case 'S':
			cfg.enforce_distinct_subnets = 0;
			break;
		case 't':
		case 'k': {
			unsigned long v;
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v > 86400 || (opt == 't' && !v)) {
				fprintf(stderr, "%s: bad -%c %s: want seconds\n",
					progname, opt, optarg);
				return 2;
			}
			if (opt == 't')
				g.timeout_s = (unsigned)v;
			else
				g.keep_s = (unsigned)v;
			break;
		}
		case 'v':
			g.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || cfg.n_authorities == 0) {
		if (cfg.n_authorities == 0)
			fprintf(stderr, "%s: no DirAuthority given (-a or -f)\n",
				progname);
		usage(stderr);
		return 2;
	}
	cfg.log = on_log;
	cfg.directory_only = 1;
	cfg.progress = on_progress;
	g.loop = uv_default_loop();
	if (tk_onion_new(g.loop, &cfg, &g.o, err, sizeof err) != 0) {
		fprintf(stderr, "%s: %s\n", progname, err);
		return 1;
	}
	uv_timer_init(g.loop, &g.deadline);
	uv_timer_init(g.loop, &g.keep);
	uv_timer_start(&g.deadline, on_deadline, (uint64_t)g.timeout_s * 1000,
		       0);
	g.start_ns = uv_hrtime();
	tk_onion_start(g.o);
	uv_run(g.loop, UV_RUN_DEFAULT);
	uv_loop_close(g.loop);
	return g.done ? 0 : 4;
}
