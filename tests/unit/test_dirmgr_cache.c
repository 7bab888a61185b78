/* The DataDirectory cache: atomic files, a restart without any fetch
 * while the cached consensus is valid, re-checks of everything loaded
 * (tampered, corrupt and expired files are refused and fetched anew),
 * certificates and microdescriptors reused with a new consensus; and the
 * facade's DirAuthority configuration. */
#include <sys/stat.h>
#include <unistd.h>

#include "dirmgr_fake.h"

#include "onion/dir/dircache.h"
#include "onion/onion.h"

#define VU (1795761180LL + 40)

static char dir[256];

static void rm_cache(void)
{
	tk_dircache_remove(dir, TK_DIRCACHE_CONSENSUS);
	tk_dircache_remove(dir, TK_DIRCACHE_CERTS);
	tk_dircache_remove(dir, TK_DIRCACHE_MICRODESCS);
}

static int file_equals(enum tk_dircache_file which, const char *fixture)
{
	char *a, *b, err[256];
	size_t la, lb;
	int eq;
	if (tk_dircache_read(dir, which, &a, &la, err, sizeof err) != 1)
		return 0;
	b = nd_load(fixture, &lb);
	eq = la == lb && memcmp(a, b, la) == 0;
	free(a);
	free(b);
	return eq;
}

static void put_file(enum tk_dircache_file which, const char *data, size_t len)
{
	char err[256];
	if (tk_dircache_write(dir, which, &data, &len, 1, err, sizeof err) != 0)
		tap_diag("write: %s", err);
}

static void t_files(void)
{
	char err[256], *buf, path[512];
	size_t len;
	const char *parts[2] = {"hello ", "world\n"};
	size_t lens[2] = {6, 6};
	struct stat st;

	rm_cache();
	tap_eq_long(tk_dircache_read(dir, TK_DIRCACHE_CERTS, &buf, &len, err,
				     sizeof err),
		    0, "absent file: 0, no error");
	tap_eq_long(tk_dircache_write(dir, TK_DIRCACHE_CERTS, parts, lens, 2,
				      err, sizeof err),
		    0, "write two parts");
	tap_ok(tk_dircache_read(dir, TK_DIRCACHE_CERTS, &buf, &len, err,
				sizeof err) == 1 &&
		       len == 12 && memcmp(buf, "hello world\n", 12) == 0 &&
		       buf[12] == '\0',
	       "read back, NUL-terminated");
	free(buf);
	lens[0] = 3;
	tk_dircache_write(dir, TK_DIRCACHE_CERTS, parts, lens, 1, err,
			  sizeof err);
	tap_ok(tk_dircache_read(dir, TK_DIRCACHE_CERTS, &buf, &len, err,
				sizeof err) == 1 &&
		       len == 3,
	       "rewrite replaces the whole file");
	free(buf);
	snprintf(path, sizeof path, "%s/cached-certs.tmp", dir);
	tap_ok(stat(path, &st) != 0, "no temporary file left behind");
	snprintf(path, sizeof path, "%s/cached-certs", dir);
	tap_ok(stat(path, &st) == 0 && (st.st_mode & 077) == 0,
	       "cache files are private (0600)");
	tap_ok(tk_dircache_write("/nonexistent-dir-h9", TK_DIRCACHE_CERTS,
				 parts, lens, 1, err, sizeof err) < 0 &&
		       strstr(err, "cannot create") &&
		       strstr(err, "nonexistent-dir-h9"),
	       "unwritable: error names the file (%s)", err);
	rm_cache();
}

/* Pieces: memory and ranges of the file as it was, in one atomic
 * rewrite; chunks: records that straddle reads come whole. */
static size_t chunk_calls, chunk_bytes;
static char chunk_seen[256];
static size_t on_chunk(void *arg, const char *data, size_t len, uint64_t off,
		       int last)
{
	/* use whole lines only (the rest comes again) */
	size_t used = len;
	(void)arg;
	if (!last)
		while (used > 0 && data[used - 1] != '\n')
			used--;
	if (off != chunk_bytes)
		tap_diag("chunk at %llu, expected %zu", (unsigned long long)off,
			 chunk_bytes);
	if (chunk_bytes + used < sizeof chunk_seen)
		memcpy(chunk_seen + chunk_bytes, data, used);
	chunk_bytes += used;
	chunk_calls++;
	return used;
}

static void t_pieces_and_chunks(void)
{
	char err[256], *buf, big[10000];
	size_t len;
	const char *a = "line one\nline two\n";
	struct tk_dircache_piece pc[3] = {
		{ "head\n", 0, 5 }, { NULL, 9, 9 }, { NULL, 0, 9 }
	};

	put_file(TK_DIRCACHE_MICRODESCS, a, strlen(a));
	tap_eq_long(tk_dircache_write_pieces(dir, TK_DIRCACHE_MICRODESCS, pc,
					     3, err, sizeof err),
		    0, "write pieces: memory and two ranges of the old file");
	tap_ok(tk_dircache_read(dir, TK_DIRCACHE_MICRODESCS, &buf, &len, err,
				sizeof err) == 1 &&
		       strcmp(buf, "head\nline two\nline one\n") == 0,
	       "the new file: the piece, then the ranges in order");
	free(buf);
	pc[1].off = 100; /* past the end of the file */
	tap_ok(tk_dircache_write_pieces(dir, TK_DIRCACHE_MICRODESCS, pc, 3, err,
					sizeof err) < 0 &&
		       strstr(err, "read back"),
	       "a range past the end fails: %s", err);
	tap_ok(tk_dircache_read(dir, TK_DIRCACHE_MICRODESCS, &buf, &len, err,
				sizeof err) == 1 &&
		       strcmp(buf, "head\nline two\nline one\n") == 0,
	       "and the old file stays");
	free(buf);

	chunk_calls = chunk_bytes = 0;
	tap_eq_long(tk_dircache_read_chunks(dir, TK_DIRCACHE_MICRODESCS, 7,
					    on_chunk, NULL, err, sizeof err),
		    1, "read in chunks of 7 bytes (a minimum of 4096 applies)");
	tap_ok(chunk_bytes == 23 &&
		       memcmp(chunk_seen, "head\nline two\nline one\n",
			      23) == 0,
	       "everything came, in order");
	/* lines longer than a chunk: the buffer grows */
	memset(big, 'x', sizeof big);
	big[5000] = '\n';
	big[sizeof big - 1] = '\n';
	put_file(TK_DIRCACHE_MICRODESCS, big, sizeof big);
	chunk_calls = chunk_bytes = 0;
	tap_eq_long(tk_dircache_read_chunks(dir, TK_DIRCACHE_MICRODESCS, 4096,
					    on_chunk, NULL, err, sizeof err),
		    1, "a record larger than a chunk");
	tap_eq_long((long)chunk_bytes, (long)sizeof big, "... comes whole");
	tap_eq_long(tk_dircache_read_chunks("/nonexistent-dir-h9",
					    TK_DIRCACHE_MICRODESCS, 4096,
					    on_chunk, NULL, err, sizeof err),
		    0, "absent file: 0");
	tk_dircache_remove(dir, TK_DIRCACHE_MICRODESCS);
}

static void t_warm(void)
{
	struct fk f;
	struct tk_dirmgr_stats st;

	rm_cache();
	fk_init(&f, dir);
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	tap_ok(fk_bootstrap(&f) == 0, "cold bootstrap with a DataDirectory");
	tk_dirmgr_free(f.m);
	tap_ok(file_equals(TK_DIRCACHE_CONSENSUS, "consensus-microdesc.txt"),
	       "the consensus is cached as fetched");
	tap_ok(file_equals(TK_DIRCACHE_CERTS, "authority-certs.txt"),
	       "the certificates are cached as fetched");
	{
		char *b, err[256];
		size_t l;
		int n = 0;
		if (tk_dircache_read(dir, TK_DIRCACHE_MICRODESCS, &b, &l, err,
				     sizeof err) == 1) {
			for (char *p = b; (p = strstr(p, "onion-key")); p++)
				n += p == b || p[-1] == '\n';
			free(b);
		}
		tap_eq_long(n, 7, "7 microdescriptors cached");
	}

	/* restart, 5 s later, inside the validity */
	fk_init(&f, dir);
	f.now_ms += 5000;
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	tk_dirmgr_get_stats(f.m, &st);
	tap_ok(tk_dirmgr_usable(f.m), "warm start: usable at once");
	tap_eq_long((long)f.total_req, 0, "warm start: no fetch at all");
	tap_ok(st.from_cache && st.fetches_before_usable == 0,
	       "stats: from the cache, 0 fetches before usable");
	tap_ok(fk_has_pct(&f, 30) && fk_has_pct(&f, 40) && fk_has_pct(&f, 75) &&
		       !fk_has_pct(&f, 5),
	       "progress: loading steps, no connection step");
	tap_ok(f.wake_at == st.refetch_at_ms && f.wake_at > f.now_ms,
	       "next wake-up is the refresh");
	tk_dirmgr_free(f.m);
}

/* Microdescriptors held as places in the file: a rewrite mixes them
 * with new texts, and the next start reads them all back. */
static void t_md_rewrite(void)
{
	struct fk f;
	char *b, err[256];
	size_t l;
	int n = 0;

	/* the cache holds 7; the file is made to lack one (the first) */
	if (tk_dircache_read(dir, TK_DIRCACHE_MICRODESCS, &b, &l, err,
			     sizeof err) != 1) {
		tap_ok(0, "cached microdescriptors");
		return;
	}
	{
		char *second = strstr(b + 1, "\nonion-key") + 1;
		put_file(TK_DIRCACHE_MICRODESCS, second,
			 l - (size_t)(second - b));
	}
	free(b);
	fk_init(&f, dir);
	f.now_ms += 5000;
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	tap_ok(f.n_req == 1 && fk_md_count(&f.req[0]) == 1,
	       "6 from the file: the seventh is fetched");
	fk_answer(&f, "microdescs.txt", 200);
	tap_ok(tk_dirmgr_usable(f.m), "usable");
	tk_dirmgr_free(f.m);
	if (tk_dircache_read(dir, TK_DIRCACHE_MICRODESCS, &b, &l, err,
			     sizeof err) == 1) {
		for (char *p = b; (p = strstr(p, "onion-key")); p++)
			n += p == b || p[-1] == '\n';
		free(b);
	}
	tap_eq_long(n, 7, "the file was rewritten with all 7 (6 copied from "
			  "the old file, 1 new)");
	fk_init(&f, dir);
	f.now_ms += 6000;
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	tap_ok(tk_dirmgr_usable(f.m) && f.total_req == 0 &&
		       tk_dirmgr_nodes(f.m)->n_have == 7,
	       "and the next start finds all 7 in it");
	tk_dirmgr_free(f.m);
}

static void t_expired(void)
{
	struct fk f;
	fk_init(&f, dir);
	f.now_ms = (VU + 5) * 1000;
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	tap_ok(!tk_dirmgr_usable(f.m) && fk_log_has(&f, "refused cached") &&
		       fk_log_has(&f, "valid-until"),
	       "expired cache: refused, reason names valid-until");
	tap_ok(f.n_req == 1 &&
		       fk_path_is(&f.req[0], "/tor/status-vote/current/"),
	       "and a consensus is fetched");
	tk_dirmgr_free(f.m);
}

static void t_reuse_certs_mds(void)
{
	struct fk f;
	fk_init(&f, dir);
	tk_dircache_remove(dir, TK_DIRCACHE_CONSENSUS);
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	tap_ok(f.n_req == 1 &&
		       fk_path_is(&f.req[0], "/tor/status-vote/current/"),
	       "no cached consensus: fetch one");
	fk_answer(&f, "consensus-microdesc.txt", 200);
	tap_ok(tk_dirmgr_usable(f.m) && f.total_req == 1,
	       "cached certificates and microdescriptors used: usable after "
	       "one fetch");
	tk_dirmgr_free(f.m);
	tap_ok(file_equals(TK_DIRCACHE_CONSENSUS, "consensus-microdesc.txt"),
	       "consensus written again");
}

static void refused_cache(const char *data, size_t len, const char *why,
			  const char *label)
{
	struct fk f;
	put_file(TK_DIRCACHE_CONSENSUS, data, len);
	fk_init(&f, dir);
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	tap_ok(!tk_dirmgr_usable(f.m) && fk_log_has(&f, why) && f.n_req == 1 &&
		       fk_path_is(&f.req[0], "/tor/status-vote/current/"),
	       "%s: refused (%s), fetched anew", label, why);
	if (!fk_log_has(&f, why))
		tap_diag("log: %s", f.log);
	tk_dirmgr_free(f.m);
}

static void t_bad_cache(void)
{
	size_t len;
	char *t = nd_load("consensus-tampered-body.txt", &len);
	refused_cache(t, len, "signature", "tampered cached consensus");
	free(t);
	refused_cache("garbage\n", 8, "refused consensus from the cache",
		      "garbage cached consensus");
	refused_cache("", 0, "refused consensus from the cache",
		      "empty cached consensus");
	/* certificates that fail their checks are refused too */
	t = nd_load("authority-certs-badcert.txt", &len);
	put_file(TK_DIRCACHE_CERTS, t, len);
	free(t);
	{
		struct fk f;
		t = nd_load("consensus-microdesc.txt", &len);
		put_file(TK_DIRCACHE_CONSENSUS, t, len);
		free(t);
		fk_init(&f, dir);
		if (fk_new(&f) == 0) {
			tk_dirmgr_start(f.m);
			tap_ok(fk_log_has(&f, "refused an authority certificate "
					      "from the cache"),
			       "tampered cached certificate refused");
			tap_ok(tk_dirmgr_usable(f.m) && f.total_req == 0,
			       "the two good ones still verify the cached "
			       "consensus (2 of 3)");
			tk_dirmgr_free(f.m);
		}
	}
}

static void t_not_a_dir(void)
{
	struct fk f;
	char path[512];
	FILE *fp;
	snprintf(path, sizeof path, "%s/plainfile", dir);
	fp = fopen(path, "w");
	if (fp)
		fclose(fp);
	fk_init(&f, path);
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	tap_ok(fk_log_has(&f, "not a directory") && f.n_req == 1,
	       "DataDirectory that is a file: warning, runs without a cache");
	tk_dirmgr_free(f.m);
	unlink(path);
}

static void t_config(void)
{
	struct tk_onion_config cfg;
	char err[256], *lines, *save = NULL;
	size_t len;
	int ok = 1;

	tk_onion_config_init(&cfg);
	tap_ok(cfg.enforce_distinct_subnets == 1 && cfg.n_authorities == 0,
	       "config defaults: subnets enforced, no authority");
	lines = nd_load("dirauthority.lines", &len);
	lines = realloc(lines, len + 1);
	lines[len] = '\0';
	for (char *l = strtok_r(lines, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		ok &= tk_onion_config_add_authority(&cfg, l, err, sizeof err) == 0;
	free(lines);
	tap_ok(ok && cfg.n_authorities == 3 &&
		       strstr(cfg.authorities[2], " tnauth2 ") != NULL,
	       "tornet's DirAuthority lines parse as they are");
	tap_ok(tk_onion_config_add_authority(
		       &cfg,
		       "DirAuthority x orport=1 127.0.0.1:2 "
		       "1E0D83A7D1FFB0347D898D17FC520F65474FE950",
		       err, sizeof err) < 0 &&
		       strstr(err, "v3ident"),
	       "line without v3ident refused: %s", err);
	tap_ok(tk_onion_config_add_authority(&cfg, "DirAuthority x", err,
					     sizeof err) < 0 &&
		       err[0],
	       "truncated line refused: %s", err);
	{
		tk_onion *o;
		uv_loop_t loop;
		struct tk_onion_config empty;
		tk_onion_config_init(&empty);
		uv_loop_init(&loop);
		tap_ok(tk_onion_new(&loop, &empty, &o, err, sizeof err) == 0,
		       "engine without DirAuthority lines: the public network");
		if (o) {
			struct tk_onion_status st;
			tk_onion_get_status(o, &st);
			tap_ok(st.n_authorities == 9 && st.n_fallbacks == 200,
			       "its 9 authorities and 200 fallbacks (%zu, %zu)",
			       st.n_authorities, st.n_fallbacks);
			tk_onion_free(o); /* never started: nothing was sent */
		}
		empty.use_default_fallbacks = 0;
		tap_ok(tk_onion_new(&loop, &empty, &o, err, sizeof err) == 0,
		       "UseDefaultFallbackDirs 0");
		if (o) {
			struct tk_onion_status st;
			tk_onion_get_status(o, &st);
			tap_ok(st.n_authorities == 9 && st.n_fallbacks == 0,
			       "the authorities only");
			tk_onion_free(o);
		}
		empty.testing_tor_network = 1;
		tap_ok(tk_onion_new(&loop, &empty, &o, err, sizeof err) < 0 &&
			       strstr(err, "TestingTorNetwork"),
		       "TestingTorNetwork with the public authorities refused: "
		       "%s",
		       err);
		tap_ok(tk_onion_new(&loop, &cfg, &o, err, sizeof err) == 0,
		       "engine with the three authorities");
		if (o) {
			struct tk_onion_status st;
			tk_onion_get_status(o, &st);
			tap_ok(st.n_authorities == 3 && st.n_fallbacks == 0,
			       "configured authorities: no built-in fallbacks "
			       "(tor's rule)");
			tap_ok(st.percent == 0 && !st.dir_usable &&
				       st.n_relays == 0,
			       "status before start: 0%%, no directory");
			tk_onion_report_progress(o, 90, "circuit_create",
						 "Establishing a Tor circuit");
			tk_onion_report_progress(o, 80, "ap_handshake",
						 "lower: ignored");
			tk_onion_get_status(o, &st);
			tap_ok(st.percent == 90 &&
				       strcmp(st.tag, "circuit_create") == 0,
			       "a later layer reports 90%% (circuit_create); "
			       "lower steps ignored");
			tk_onion_free(o);
		}
		uv_run(&loop, UV_RUN_DEFAULT);
		tap_eq_long(uv_loop_close(&loop), 0,
			    "tk_onion_free leaves no handle behind");
	}
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/tk-dirmgr-XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	t_files();
	t_pieces_and_chunks();
	t_warm();
	t_md_rewrite();
	t_expired();
	t_reuse_certs_mds();
	t_bad_cache();
	t_not_a_dir();
	t_config();
	rm_cache();
	rmdir(dir);
	return tap_done();
}
