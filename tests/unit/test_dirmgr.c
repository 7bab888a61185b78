/* The bootstrap state machine driven with canned documents and a fake
 * fetcher and clock: the happy path, tampered and expired documents,
 * tor's bootstrap schedule with authorities only, microdescriptor retries
 * and batches, and the refresh before valid-until. (test_dirmgr_boot.c:
 * fallbacks, 503, stalls, protocols, diffs.) */
#include "dirmgr_fake.h"

#include "onion/dir/dirmgr.h"

#define VA 1795761180LL /* 06:33:00 */
#define FU (VA + 20)
#define VU (VA + 40)

static void t_new_errors(void)
{
	struct fk f;
	struct tk_dirmgr_env env = {0};
	char err[256];
	tk_dirmgr *m;

	fk_init(&f, NULL);
	env.now_ms = fk_now;
	env.random = fk_random;
	env.fetch = fk_fetch;
	env.arg = &f;
	f.cfg.n_auths = 0;
	tap_ok(tk_dirmgr_new(&f.cfg, &env, &m, err, sizeof err) < 0 &&
		       strstr(err, "no directory authority"),
	       "no authorities: refused (%s)", err);
	f.cfg.n_auths = 3;
	f.auths[1].has_v3ident = 0;
	tap_ok(tk_dirmgr_new(&f.cfg, &env, &m, err, sizeof err) < 0 &&
		       strstr(err, "v3ident"),
	       "authority without v3ident: refused (%s)", err);
	f.auths[1].has_v3ident = 1;
	memcpy(f.auths[2].v3ident, f.auths[0].v3ident, 20);
	tap_ok(tk_dirmgr_new(&f.cfg, &env, &m, err, sizeof err) < 0 &&
		       strstr(err, "repeats"),
	       "repeated v3ident: refused (%s)", err);
}

static int monotonic(const struct fk *f)
{
	for (size_t i = 1; i < f->n_pct; i++)
		if (f->pct[i] <= f->pct[i - 1])
			return 0;
	return 1;
}

static void t_cold(void)
{
	struct fk f;
	struct fk_req r;
	struct tk_dirmgr_stats st;

	fk_init(&f, NULL);
	if (fk_new(&f) != 0)
		return;
	tap_eq_long(tk_dirmgr_phase(f.m), TK_DIRMGR_IDLE, "idle before start");
	tk_dirmgr_start(f.m);
	tap_eq_long((long)f.n_req, 1, "start: one request");
	tap_eq_long(tk_dirmgr_phase(f.m), TK_DIRMGR_NEED_CONSENSUS,
		    "phase: fetching the consensus");
	tap_eq_str(f.req[0].path,
		   "/tor/status-vote/current/consensus-microdesc/"
		   "66073B+08B14E+CA111E",
		   "consensus path names our authorities' v3ident prefixes");
	tap_ok(f.req[0].src.is_authority, "first fetch goes to an authority");
	r = fk_answer(&f, "consensus-microdesc.txt", 200);
	tap_eq_long((long)f.n_req, 1, "consensus in: one request (certs)");
	tap_eq_long(tk_dirmgr_phase(f.m), TK_DIRMGR_NEED_CERTS,
		    "phase: fetching certificates");
	tap_ok(fk_path_is(&f.req[0], "/tor/keys/fp/") &&
		       strlen(f.req[0].path) == 13 + 3 * 40 + 2,
	       "certs asked for by the three fingerprints: %s", f.req[0].path);
	tap_ok(memcmp(f.req[0].src.rsa_id, r.src.rsa_id, 20) == 0,
	       "certs from the source of the consensus (its circuit is open)");
	tap_ok(!tk_dirmgr_usable(f.m), "not usable yet");
	fk_answer(&f, "authority-certs.txt", 200);
	tap_ok(fk_log_has(&f, "verified"), "consensus verified");
	tap_eq_long((long)f.n_req, 1, "one microdescriptor request");
	tap_ok(fk_path_is(&f.req[0], "/tor/micro/d/") && fk_md_count(&f.req[0]) == 7,
	       "it asks for the 7 digests: %s", f.req[0].path);
	tap_eq_long(tk_dirmgr_phase(f.m), TK_DIRMGR_NEED_MICRODESCS,
		    "phase: fetching microdescriptors");
	tap_ok(tk_dirmgr_nodes(f.m) && tk_dirmgr_nodes(f.m)->n == 7 &&
		       tk_dirmgr_nodes(f.m)->n_have == 0,
	       "node table of 7 relays, none with a microdescriptor");
	fk_answer(&f, "microdescs.txt", 200);
	tap_ok(tk_dirmgr_usable(f.m), "usable after microdescriptors");
	tap_eq_long(tk_dirmgr_phase(f.m), TK_DIRMGR_READY, "phase: ready");
	tap_eq_long((long)tk_dirmgr_nodes(f.m)->n_have, 7, "7 microdescriptors held");
	tap_ok(f.changes >= 2, "changed reported (new table, usable)");
	tap_ok(monotonic(&f) && fk_has_pct(&f, 0) && fk_has_pct(&f, 5) &&
		       fk_has_pct(&f, 30) && fk_has_pct(&f, 40) &&
		       fk_has_pct(&f, 45) && fk_has_pct(&f, 75) &&
		       f.pct[f.n_pct - 1] == 75,
	       "progress 0, 5, 30, 40, 45, .. 75, increasing");
	tk_dirmgr_get_stats(f.m, &st);
	tap_eq_long(st.fetches, 3, "three fetches");
	tap_eq_long(st.fetches_before_usable, 3, "three before usable");
	tap_eq_long(st.consensus_fetched, 1, "one consensus fetched");
	tap_ok(!st.from_cache, "not from a cache");
	/* dir-spec 5.1: FU + 3/4 (FU - VA) .. + 7/8 of the rest to VU */
	tap_ok(f.wake_at >= (FU + 15) * 1000 && f.wake_at < VU * 1000 &&
		       f.wake_at == st.refetch_at_ms,
	       "refresh scheduled in [FU+15s, VU): %lld",
	       (long long)f.wake_at);
	tap_eq_long((long)f.n_req, 0, "nothing more to fetch");
	tk_dirmgr_free(f.m);
}

/* Answers the cert request that follows a consensus, if one came. */
static void certs_if_asked(struct fk *f)
{
	if (f->n_req == 1 && fk_path_is(&f->req[0], "/tor/keys/"))
		fk_answer(f, "authority-certs.txt", 200);
}

/* A refused consensus: the reason is logged, the source is left alone
 * (a backoff longer than the schedule's step), and the next attempt, on
 * tor's schedule a second later, goes to another authority. */
static void refused_case(const char *file, const char *why_part,
			 const char *label)
{
	struct fk f;
	struct fk_req first;
	struct tk_dirmgr_stats st;

	fk_init(&f, NULL);
	f.cfg.backoff_base_ms = 20000;
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	first = fk_answer(&f, file, 200);
	certs_if_asked(&f);
	tk_dirmgr_get_stats(f.m, &st);
	tap_ok(fk_log_has(&f, "refused") && fk_log_has(&f, why_part) &&
		       st.refused_docs >= 1 && !tk_dirmgr_usable(f.m),
	       "%s: refused, reason names '%s'", label, why_part);
	if (!fk_log_has(&f, why_part))
		tap_diag("log: %s", f.log);
	tap_ok(f.n_req == 0 && f.wake_at > f.now_ms &&
		       f.wake_at <= f.now_ms + 2000,
	       "%s: no new attempt at once; the schedule's next one within "
	       "2 s",
	       label);
	fk_advance(&f);
	tap_ok(f.n_req == 1 &&
		       fk_path_is(&f.req[0], "/tor/status-vote/current/") &&
		       memcmp(f.req[0].src.rsa_id, first.src.rsa_id, 20) != 0,
	       "%s: next consensus asked of another authority", label);
	/* the good one from there is taken */
	fk_answer(&f, "consensus-microdesc.txt", 200);
	certs_if_asked(&f);
	if (f.n_req == 1 && fk_path_is(&f.req[0], "/tor/micro/d/"))
		fk_answer(&f, "microdescs.txt", 200);
	tap_ok(tk_dirmgr_usable(f.m), "%s: then a good one is used", label);
	tk_dirmgr_free(f.m);
}

static void t_refused(void)
{
	refused_case("consensus-tampered-body.txt", "signature",
		     "tampered body");
	refused_case("consensus-badsig2.txt", "signature",
		     "two of three signatures bad");
	refused_case("consensus-onesig.txt", "signature", "one signature only");
	refused_case("consensus-truncated.txt", "not terminated", "truncated");
	refused_case("consensus-ns.txt", "microdesc", "ns flavour");
}

static void t_badsig1_accepted(void)
{
	struct fk f;
	fk_init(&f, NULL);
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	fk_answer(&f, "consensus-badsig1.txt", 200);
	certs_if_asked(&f);
	tap_ok(f.n_req == 1 && fk_path_is(&f.req[0], "/tor/micro/d/"),
	       "two of three good signatures: accepted");
	tk_dirmgr_free(f.m);
}

static void t_expired(void)
{
	struct fk f;
	fk_init(&f, NULL);
	f.now_ms = (VU + 10) * 1000;
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	fk_answer(&f, "consensus-microdesc.txt", 200);
	certs_if_asked(&f);
	tap_ok(!tk_dirmgr_usable(f.m) && fk_log_has(&f, "refused") &&
		       fk_log_has(&f, "valid-until"),
	       "expired consensus refused, reason names valid-until");
	if (!fk_log_has(&f, "valid-until"))
		tap_diag("log: %s", f.log);
	tk_dirmgr_free(f.m);
}

/* Authorities only (no fallbacks): tor's schedule asks one at once, then
 * about one a second, then ever more slowly (decorrelated jitter), never
 * more than 60 s apart, never more than 3 at once, and never in a busy
 * loop: every wake-up is in the future and starts at most one attempt. */
static void t_backoff(void)
{
	struct fk f;
	int64_t t0, times[512], max_gap = 0;
	size_t n = 0, in_10s = 0, max_inflight = 0;
	int busy = 0, three = 0;

	fk_init(&f, NULL);
	if (fk_new(&f) != 0)
		return;
	t0 = f.now_ms;
	tk_dirmgr_start(f.m);
	while (f.now_ms < t0 + 3600 * 1000 && n < 512) {
		size_t before = f.total_req;
		if (f.n_req > max_inflight)
			max_inflight = f.n_req;
		while (f.n_req) {
			struct fk_req r = f.req[0];
			times[n++] = r.at;
			for (int a = 0; a < 3; a++)
				if (memcmp(r.src.rsa_id, f.auths[a].rsa_id,
					   20) == 0)
					three |= 1 << a;
			fk_answer(&f, NULL, -1);
		}
		if (f.wake_at <= f.now_ms) {
			busy = 1;
			break;
		}
		f.now_ms = f.wake_at;
		tk_dirmgr_tick(f.m);
		if (f.total_req - before > 3) {
			busy = 1;
			break;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (times[i] - t0 <= 10000)
			in_10s++;
		if (i && times[i] - times[i - 1] > max_gap)
			max_gap = times[i] - times[i - 1];
	}
	tap_ok(!busy, "every wake-up lies in the future (no busy loop)");
	tap_ok(n > 0 && times[0] == t0, "the first attempt at once");
	tap_ok(in_10s >= 3 && in_10s <= 8,
	       "%zu attempts in the first 10 s (tor: at least 3)", in_10s);
	tap_ok(three == 7, "all three authorities were asked");
	tap_ok(max_gap <= 60000 && max_gap >= 20000,
	       "attempts grow apart, at most 60 s (largest gap %lld ms)",
	       (long long)max_gap);
	tap_ok(n >= 40 && n <= 400,
	       "%zu attempts in an hour of failures: it keeps trying, "
	       "slowly", n);
	tap_ok(max_inflight <= 3, "never more than 3 at once");
	tk_dirmgr_free(f.m);
}

static void t_fetch_cannot_start(void)
{
	struct fk f;
	struct tk_dirmgr_stats st;
	fk_init(&f, NULL);
	f.refuse_fetch = 1;
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	tk_dirmgr_get_stats(f.m, &st);
	tap_ok(f.n_req == 0 && st.failures == 1 && f.wake_at > f.now_ms,
	       "fetch that cannot start: one attempt, then a wait for the "
	       "schedule (no busy loop)");
	f.refuse_fetch = 0;
	fk_advance(&f);
	tap_eq_long((long)f.n_req, 1, "after the wait, one request");
	tk_dirmgr_free(f.m);
}

/* Up to the microdescriptor request; returns 0 when it is pending. */
static int to_mds(struct fk *f)
{
	if (fk_new(f) != 0)
		return -1;
	tk_dirmgr_start(f->m);
	fk_answer(f, "consensus-microdesc.txt", 200);
	certs_if_asked(f);
	return f->n_req >= 1 && fk_path_is(&f->req[0], "/tor/micro/d/") ? 0 : -1;
}

/* One microdescriptor refused (tampered): the other six make the
 * directory usable, so the last one, fewer than tor's 16, waits for the
 * next request (10 minutes after the last), then goes to another cache,
 * not to an authority. */
static void t_md_tampered(void)
{
	struct fk f;
	struct fk_req first, r;
	fk_init(&f, NULL);
	if (to_mds(&f) != 0) {
		tap_ok(0, "microdescriptor request");
		return;
	}
	tap_ok(!f.req[0].src.is_authority,
	       "microdescriptors are asked of a cache, not an authority");
	first = fk_answer(&f, "microdescs-tampered.txt", 200);
	tap_ok(fk_log_has(&f, "refused microdescriptor") &&
		       fk_log_has(&f, "no m line"),
	       "tampered microdescriptor refused: digest on no m line");
	tap_eq_long((long)tk_dirmgr_nodes(f.m)->n_have, 6,
		    "the six good ones are kept");
	tap_ok(tk_dirmgr_usable(f.m), "six of seven: usable");
	tap_ok(f.n_req == 0, "the missing one is not asked for at once");
	/* the sample consensus is refreshed meanwhile (nobody has a newer
	 * one): follow the wake-ups until the microdescriptor is asked */
	for (int i = 0; i < 200; i++) {
		while (f.n_req && !fk_path_is(&f.req[0], "/tor/micro/d/"))
			fk_answer(&f, NULL, 503);
		if (f.n_req || fk_advance(&f) != 0)
			break;
	}
	tap_ok(f.n_req == 1 && f.req[0].at >= first.at + 10 * 60 * 1000 &&
		       f.req[0].at <= first.at + 10 * 60 * 1000 + 60000,
	       "it waits 10 minutes (fewer than 16 missing): %lld ms",
	       (long long)(f.n_req ? f.req[0].at - first.at : -1));
	tap_ok(f.n_req == 1 && fk_md_count(&f.req[0]) == 1 &&
		       !f.req[0].src.is_authority &&
		       memcmp(f.req[0].src.rsa_id, first.src.rsa_id, 20) != 0,
	       "then it is asked of another cache, not an authority");
	r = fk_answer(&f, "microdescs.txt", 200);
	(void)r;
	tap_ok(tk_dirmgr_nodes(f.m)->n_have == 7 && tk_dirmgr_usable(f.m),
	       "all 7, usable");
	tk_dirmgr_free(f.m);
}

static void t_md_batches(void)
{
	struct fk f;
	struct fk_req a;
	fk_init(&f, NULL);
	f.cfg.md_batch_max = 2;
	f.cfg.md_max_parallel = 2;
	if (to_mds(&f) != 0) {
		tap_ok(0, "microdescriptor requests");
		return;
	}
	tap_ok(f.n_req == 2 && fk_md_count(&f.req[0]) == 2 &&
		       fk_md_count(&f.req[1]) == 2 &&
		       strcmp(f.req[0].path, f.req[1].path) != 0 &&
		       memcmp(f.req[0].src.rsa_id, f.req[1].src.rsa_id, 20) !=
			       0,
	       "batches of 2, two in flight, different digests, different "
	       "caches");
	a = fk_answer(&f, NULL, -1);
	tap_ok(f.n_req == 2 && strcmp(f.req[1].path, a.path) == 0 &&
		       memcmp(f.req[1].src.rsa_id, a.src.rsa_id, 20) != 0 &&
		       !f.req[1].src.is_authority,
	       "a failed batch is asked again at once, of another cache");
	while (f.n_req)
		fk_answer(&f, "microdescs.txt", 200);
	tap_ok(tk_dirmgr_usable(f.m) && tk_dirmgr_nodes(f.m)->n_have == 7,
	       "then complete");
	tk_dirmgr_free(f.m);
}

/* tor's batch sizes: a third of what is missing per request, at least
 * 32 (or all, if fewer), at most 500 over BEGIN_DIR: 7 missing digests
 * go in one request. */
static void t_md_one_request(void)
{
	struct fk f;
	fk_init(&f, NULL);
	if (to_mds(&f) != 0) {
		tap_ok(0, "microdescriptor request");
		return;
	}
	tap_ok(f.n_req == 1 && fk_md_count(&f.req[0]) == 7,
	       "7 missing: one request for all 7 (fewer than tor's 32)");
	tk_dirmgr_free(f.m);
}

/* A cache that says 404 lacks them: the next two requests go to other
 * caches at once; then the digests wait a backoff. No authority. */
static void t_md_404(void)
{
	struct fk f;
	struct fk_req a, b, c;
	int auth = 0;
	fk_init(&f, NULL);
	if (to_mds(&f) != 0) {
		tap_ok(0, "microdescriptor request");
		return;
	}
	a = fk_answer(&f, NULL, 404);
	tap_ok(f.n_req == 1 &&
		       memcmp(f.req[0].src.rsa_id, a.src.rsa_id, 20) != 0 &&
		       !f.req[0].src.is_authority,
	       "404 for microdescriptors: asked again at once, of another "
	       "cache");
	b = fk_answer(&f, NULL, 404);
	tap_ok(f.n_req == 1 &&
		       memcmp(f.req[0].src.rsa_id, a.src.rsa_id, 20) != 0 &&
		       memcmp(f.req[0].src.rsa_id, b.src.rsa_id, 20) != 0,
	       "and again, of a third cache");
	c = fk_answer(&f, NULL, 404);
	(void)c;
	tap_ok(f.n_req == 0 && f.wake_at > f.now_ms,
	       "after three caches said 404: a wait before anyone is asked "
	       "again");
	for (int i = 0; i < 20; i++) {
		if (fk_advance(&f) != 0)
			break;
		while (f.n_req) {
			auth |= f.req[0].src.is_authority;
			fk_answer(&f, NULL, 404);
		}
	}
	tap_ok(!auth, "an authority is never asked for microdescriptors "
		      "while caches are listed");
	tk_dirmgr_free(f.m);
}

static void t_refresh(void)
{
	struct fk f;
	struct tk_dirmgr_stats st;
	unsigned changes;
	fk_init(&f, NULL);
	f.cfg.reasonably_live_s = 60;
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	if (fk_bootstrap(&f) != 0) {
		tap_ok(0, "bootstrap");
		return;
	}
	f.now_ms = f.wake_at - 1;
	tk_dirmgr_tick(f.m);
	tap_eq_long((long)f.n_req, 0, "no fetch before the refetch time");
	f.now_ms = f.wake_at;
	tk_dirmgr_tick(f.m);
	tap_ok(f.n_req == 1 &&
		       fk_path_is(&f.req[0], "/tor/status-vote/current/"),
	       "at the refetch time: a consensus fetch");
	fk_answer(&f, "consensus-microdesc.txt", 200);
	tap_ok(fk_log_has(&f, "not newer") && tk_dirmgr_usable(f.m),
	       "the same consensus again: not newer, still usable");
	tk_dirmgr_get_stats(f.m, &st);
	tap_eq_long(st.consensus_fetched, 1, "not adopted twice");
	/* nobody has a newer one; past valid-until + reasonably-live the
	 * directory stops being usable */
	for (int i = 0; i < 100 && f.now_ms <= (VU + 60) * 1000; i++) {
		while (f.n_req)
			fk_answer(&f, NULL, 503);
		if (f.wake_at < 0)
			break;
		f.now_ms = f.wake_at > f.now_ms ? f.wake_at : f.now_ms + 1;
		tk_dirmgr_tick(f.m);
	}
	changes = f.changes;
	f.now_ms = (VU + 61) * 1000;
	tk_dirmgr_tick(f.m);
	tap_ok(!tk_dirmgr_usable(f.m) && fk_log_has(&f, "too old"),
	       "past valid-until + reasonably-live: no longer usable");
	tap_ok(f.changes > changes || changes > 0, "and changed was reported");
	tk_dirmgr_free(f.m);
}

/* Sources for the refresh include the directory caches of the consensus. */
static void t_caches_used(void)
{
	struct fk f;
	int cache = 0;
	fk_init(&f, NULL);
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	if (fk_bootstrap(&f) != 0) {
		tap_ok(0, "bootstrap");
		return;
	}
	for (int i = 0; i < 60 && !cache; i++) {
		f.now_ms = f.wake_at > f.now_ms ? f.wake_at : f.now_ms + 1;
		tk_dirmgr_tick(f.m);
		while (f.n_req) {
			struct fk_req r = fk_answer(&f, NULL, 503);
			cache |= !r.src.is_authority;
		}
	}
	tap_ok(cache, "refreshes go to V2Dir caches too, not only authorities");
	tk_dirmgr_free(f.m);
}

int main(void)
{
	t_new_errors();
	t_cold();
	t_refused();
	t_badsig1_accepted();
	t_expired();
	t_backoff();
	t_fetch_cannot_start();
	t_md_tampered();
	t_md_batches();
	t_md_one_request();
	t_md_404();
	t_refresh();
	t_caches_used();
	return tap_done();
}
