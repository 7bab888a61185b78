/* The bootstrap state machine driven with canned documents and a fake
 * fetcher and clock: the happy path, tampered and expired documents,
 * retries across authorities with backoff, microdescriptor retries and
 * the refresh before valid-until. */
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
		       strstr(err, "no DirAuthority"),
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

/* A refused consensus: the reason is logged, the source is not asked
 * again at once, and another authority is. */
static void refused_case(const char *file, const char *why_part,
			 const char *label)
{
	struct fk f;
	struct fk_req first;
	struct tk_dirmgr_stats st;

	fk_init(&f, NULL);
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

/* Failures rotate across the authorities, then back off exponentially
 * up to the cap; no request is made while every source is backed off. */
static void t_backoff(void)
{
	struct fk f;
	int asked[3] = {0, 0, 0}, busy = 0;
	int64_t max_gap = 0, last_gap = 0;
	unsigned rounds = 0;

	fk_init(&f, NULL);
	f.cfg.backoff_base_ms = 1000;
	f.cfg.backoff_max_ms = 16000;
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	for (int i = 0; i < 3; i++) {
		if (f.n_req != 1) {
			busy = 1;
			break;
		}
		struct fk_req r = fk_answer(&f, NULL, i == 1 ? 404 : -1);
		for (int a = 0; a < 3; a++)
			asked[a] += memcmp(r.src.rsa_id, f.auths[a].rsa_id, 20) == 0;
	}
	tap_ok(!busy && asked[0] == 1 && asked[1] == 1 && asked[2] == 1,
	       "three failures (transport, HTTP 404, transport) went to the "
	       "three authorities in turn");
	tap_ok(f.n_req == 0 && f.wake_at > f.now_ms &&
		       f.wake_at <= f.now_ms + 1000,
	       "then nothing until the first backoff ends (%lld ms)",
	       (long long)(f.wake_at - f.now_ms));
	/* keep failing; follow the wake-ups */
	int64_t last[3] = {-1, -1, -1}, prev_gap[3] = {0, 0, 0};
	for (int i = 0; i < 60; i++) {
		int64_t gap;
		if (f.n_req == 0) {
			gap = f.wake_at - f.now_ms;
			if (gap <= 0 || f.wake_at < 0) {
				busy = 1;
				break;
			}
			f.now_ms = f.wake_at;
			tk_dirmgr_tick(f.m);
			rounds++;
		}
		if (f.n_req != 1) {
			busy = 1;
			break;
		}
		struct fk_req r = fk_answer(&f, NULL, -1);
		for (int a = 0; a < 3; a++) {
			if (memcmp(r.src.rsa_id, f.auths[a].rsa_id, 20) != 0)
				continue;
			if (last[a] >= 0) {
				prev_gap[a] = f.now_ms - last[a];
				if (prev_gap[a] > max_gap)
					max_gap = prev_gap[a];
			}
			last[a] = f.now_ms;
		}
	}
	last_gap = prev_gap[0];
	for (int a = 1; a < 3; a++)
		if (prev_gap[a] < last_gap)
			last_gap = prev_gap[a];
	tap_ok(!busy && rounds > 10, "every wake-up starts exactly one request");
	tap_ok(max_gap <= 16000 + 1000,
	       "one authority is asked again at most every 16 s, the cap "
	       "(max gap %lld ms)", (long long)max_gap);
	tap_ok(last_gap >= 8000,
	       "after many failures each authority waits at least half the "
	       "cap (shortest last gap %lld ms)", (long long)last_gap);
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
	tap_ok(f.n_req == 0 && st.failures == 3 && f.wake_at > f.now_ms,
	       "fetch that cannot start: each authority tried once, then a "
	       "backoff wait (no busy loop)");
	f.refuse_fetch = 0;
	f.now_ms = f.wake_at;
	tk_dirmgr_tick(f.m);
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

static void t_md_tampered(void)
{
	struct fk f;
	struct fk_req r;
	fk_init(&f, NULL);
	if (to_mds(&f) != 0) {
		tap_ok(0, "microdescriptor request");
		return;
	}
	fk_answer(&f, "microdescs-tampered.txt", 200);
	tap_ok(fk_log_has(&f, "refused microdescriptor") &&
		       fk_log_has(&f, "no m line"),
	       "tampered microdescriptor refused: digest on no m line");
	tap_eq_long((long)tk_dirmgr_nodes(f.m)->n_have, 6,
		    "the six good ones are kept");
	tap_ok(f.n_req == 0 && f.wake_at > f.now_ms &&
		       f.wake_at <= f.now_ms + 1000,
	       "missing one retried after a backoff, not at once");
	f.now_ms = f.wake_at;
	tk_dirmgr_tick(f.m);
	tap_ok(f.n_req == 1 && fk_md_count(&f.req[0]) == 1 &&
		       f.req[0].src.is_authority,
	       "retry asks an authority for just the missing digest");
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
	f.cfg.md_batch = 2;
	f.cfg.max_parallel = 2;
	if (to_mds(&f) != 0) {
		tap_ok(0, "microdescriptor requests");
		return;
	}
	tap_ok(f.n_req == 2 && fk_md_count(&f.req[0]) == 2 &&
		       fk_md_count(&f.req[1]) == 2 &&
		       strcmp(f.req[0].path, f.req[1].path) != 0,
	       "batches of 2, two in flight, different digests");
	a = fk_answer(&f, NULL, -1);
	tap_ok(f.n_req == 2 && strcmp(f.req[1].path, a.path) == 0 &&
		       memcmp(f.req[1].src.rsa_id, a.src.rsa_id, 20) != 0 &&
		       f.req[1].src.is_authority,
	       "a failed batch is asked again at once, of another authority");
	while (f.n_req)
		fk_answer(&f, "microdescs.txt", 200);
	tap_ok(tk_dirmgr_usable(f.m) && tk_dirmgr_nodes(f.m)->n_have == 7,
	       "then complete");
	tk_dirmgr_free(f.m);
}

static void t_md_404(void)
{
	struct fk f;
	struct fk_req a;
	fk_init(&f, NULL);
	if (to_mds(&f) != 0) {
		tap_ok(0, "microdescriptor request");
		return;
	}
	a = fk_answer(&f, NULL, 404);
	tap_ok(f.n_req == 1 && memcmp(f.req[0].src.rsa_id, a.src.rsa_id, 20) != 0 &&
		       f.req[0].src.is_authority,
	       "404 for microdescriptors: asked again at once, of an authority "
	       "(a cache may simply not have them yet)");
	a = fk_answer(&f, NULL, 404);
	tap_ok(f.n_req == 1 && memcmp(f.req[0].src.rsa_id, a.src.rsa_id, 20) != 0,
	       "and again elsewhere");
	int n = 2;
	while (f.n_req && n < 50) {
		fk_answer(&f, NULL, 404);
		n++;
	}
	tap_ok(f.n_req == 0 && f.wake_at > f.now_ms && n <= 7,
	       "once every source (3 authorities, 4 caches) said 404: wait "
	       "for a backoff (%d requests)", n);
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
	t_md_404();
	t_refresh();
	t_caches_used();
	return tap_done();
}
