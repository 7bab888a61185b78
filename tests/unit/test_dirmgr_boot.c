/* The directory manager as tor 0.4.9 bootstraps, in a fake world
 * (dirmgr_fake.h): the fallbacks asked at once and the authorities only
 * after 6 s, at most 3 attempts at once, a 503 as "try another", a stall
 * time instead of a fixed one, the report when nothing can be reached,
 * required protocols that stop the manager, consensus diffs applied or
 * refused, and the directory guard once the directory is usable. The
 * signed documents come from testdocs.h. */
#include "dirmgr_fake.h"
#include "testdocs.h"

#include "onion/dir/builtin.h"
#include "onion/dir/dirmgr.h"
#include "onion/dir/dircache.h"
#include "onion/netdoc/consdiff.h"

/* The public network's lists, as built in (the fake fetcher connects
 * nowhere). */
static void fk_init_public(struct fk *f)
{
	size_t na, nf;
	const char *const *a = tk_builtin_authorities(&na);
	const struct tk_builtin_fallback *b = tk_builtin_fallbacks(&nf);
	char err[256];
	fk_init(f, NULL);
	for (size_t i = 0; i < na; i++)
		tk_dirauth_parse(a[i], &f->auths[i], err, sizeof err);
	for (size_t i = 0; i < nf && i < 256; i++) {
		tk_dirfallback_parse(b[i].line, &f->fbs[i], err, sizeof err);
		f->fb_names[i] = b[i].nickname;
	}
	f->cfg.auths = f->auths;
	f->cfg.n_auths = na;
	f->cfg.fallbacks = f->fbs;
	f->cfg.fallback_names = f->fb_names;
	f->cfg.n_fallbacks = nf;
}

/* The test authorities of testdocs.h, the clock 10 minutes after
 * TD_VA. */
static void fk_init_signed(struct fk *f, const char *data_dir)
{
	char err[256];
	fk_init(f, data_dir);
	for (int i = 0; i < 3; i++)
		if (tk_dirauth_parse(td_auth_lines[i], &f->auths[i], err,
				     sizeof err) != 0) {
			printf("Bail out! %s\n", err);
			exit(1);
		}
	f->now_ms = (TD_VA + 600) * 1000;
}

/* Answers the oldest request with a buffer. */
static struct fk_req answer(struct fk *f, const char *body, size_t len)
{
	return fk_answer_buf(f, 0, body, len, 200);
}

/* A signed bootstrap: the consensus o, the test certificates, the
 * sample's microdescriptors. 0 when usable. */
static int boot_signed(struct fk *f, const struct td_opts *o)
{
	size_t len;
	char *doc = td_consensus(o, &len), *certs;
	if (f->n_req < 1 ||
	    !fk_path_is(&f->req[0], "/tor/status-vote/current/")) {
		free(doc);
		return -1;
	}
	answer(f, doc, len);
	free(doc);
	if (f->n_req == 1 && fk_path_is(&f->req[0], "/tor/keys/")) {
		certs = td_certs(&len);
		answer(f, certs, len);
		free(certs);
	}
	while (f->n_req && fk_path_is(&f->req[0], "/tor/micro/d/"))
		fk_answer(f, "microdescs.txt", 200);
	return tk_dirmgr_usable(f->m) ? 0 : -1;
}

/* ---- tor's bootstrap schedule with fallbacks ---- */

static void t_fallbacks_first(void)
{
	struct fk f;
	int64_t t0, first_auth = -1;
	size_t n_fb_before = 0, n_before = 0, auth_before = 0;

	fk_init_public(&f);
	if (fk_new(&f) != 0)
		return;
	t0 = f.now_ms;
	tk_dirmgr_start(f.m);
	tap_ok(f.n_req == 1 && f.req[0].src.is_fallback && f.req[0].at == t0,
	       "the first consensus request goes out at once, to a fallback "
	       "(%s)",
	       f.n_req ? f.req[0].src.nickname : "none");
	/* every attempt fails at once: the schedules alone decide */
	while (f.now_ms < t0 + 20000) {
		while (f.n_req) {
			struct fk_req r = f.req[0];
			if (r.at < t0 + 6000) {
				n_before++;
				n_fb_before += r.src.is_fallback;
				auth_before += r.src.is_authority;
			} else if (first_auth < 0 && r.src.is_authority) {
				first_auth = r.at;
			}
			fk_answer(&f, NULL, -1);
		}
		if (fk_advance(&f) != 0)
			break;
	}
	tap_ok(n_before >= 3 && n_fb_before == n_before && auth_before == 0,
	       "before 6 s: %zu attempts, all to fallbacks, none to an "
	       "authority",
	       n_before);
	tap_ok(first_auth >= t0 + 6000 && first_auth < t0 + 7000,
	       "the first authority attempt at 6 s, tor's delay (%lld ms)",
	       (long long)(first_auth - t0));
	tk_dirmgr_free(f.m);
}

/* Unanswered attempts pile up to 3, no more; none is added while one is
 * receiving a document. */
static void t_three_at_once(void)
{
	struct fk f;
	size_t most = 0;
	int64_t t0;
	fk_init_public(&f);
	if (fk_new(&f) != 0)
		return;
	t0 = f.now_ms;
	tk_dirmgr_start(f.m);
	/* within the stall time: nothing is given up yet */
	while (f.wake_at < t0 + 50000 && fk_advance(&f) == 0)
		if (f.n_req > most)
			most = f.n_req;
	tap_ok(most == 3 && f.n_req == 3 && f.total_req == 3,
	       "unanswered: 3 consensus attempts at once, no more");
	/* one starts receiving; the other two fail */
	tk_dirmgr_fetch_progress(f.m, f.req[0].id, 1000);
	fk_answer_buf(&f, 1, NULL, 0, -1);
	fk_answer_buf(&f, 1, NULL, 0, -1);
	for (int i = 0; i < 10; i++) {
		tk_dirmgr_fetch_progress(f.m, f.req[0].id, 2000 + 1000 * i);
		f.now_ms += 5000;
		tk_dirmgr_tick(f.m);
	}
	tap_ok(f.n_req == 1 && f.total_req == 3,
	       "while one is receiving, no other attempt is launched");
	tk_dirmgr_free(f.m);
}

/* The pools: an authority is in the fallbacks' pool at a tenth of a
 * mirror's weight; avoided and backed-off sources are not picked. */
static void t_pools(void)
{
	struct fk f;
	tk_dirsources *ds;
	struct tk_dirsources_config c = { 0 };
	struct tk_dirsource s;
	unsigned auth = 0, n = 20000;
	int64_t wake;
	uint8_t avoid[2][20];

	fk_init_public(&f);
	c.auths = f.auths;
	c.n_auths = f.cfg.n_auths;
	c.fallbacks = f.fbs;
	c.fallback_names = f.fb_names;
	c.n_fallbacks = f.cfg.n_fallbacks;
	c.authority_weight = 0.1;
	c.backoff_base_ms = 1000;
	c.backoff_max_ms = 60000;
	c.random = fk_random;
	c.random_arg = &f;
	ds = tk_dirsources_new(&c);
	for (unsigned i = 0; i < n; i++)
		if (tk_dirsources_pick(ds, TK_DIRSRC_FALLBACKS, NULL, 0, NULL, 0,
				       &s, &wake) == 0)
			auth += s.is_authority;
	/* 9 x 0.1 / (200 + 0.9) = 0.45 % */
	tap_ok(auth >= n / 500 && auth <= n / 125,
	       "fallbacks' pool: authorities %u of %u picks (tor: ~0.45%%)",
	       auth, n);
	/* authorities only, all but one avoided */
	for (int i = 0; i < 2; i++)
		memcpy(avoid[i], f.auths[i].rsa_id, 20);
	{
		tk_dirsources *a;
		c.n_auths = 3;
		c.n_fallbacks = 0;
		a = tk_dirsources_new(&c);
		tap_ok(tk_dirsources_pick(a, TK_DIRSRC_AUTHORITIES, NULL, 0,
					  (const uint8_t(*)[20])avoid, 2, &s,
					  &wake) == 0 &&
			       memcmp(s.rsa_id, f.auths[2].rsa_id, 20) == 0,
		       "two of three avoided: the third");
		tk_dirsource_from_auth(&f.auths[2], &s);
		tk_dirsources_failed(a, &s, 0);
		tap_ok(tk_dirsources_pick(a, TK_DIRSRC_AUTHORITIES, NULL, 0,
					  (const uint8_t(*)[20])avoid, 2, &s,
					  &wake) == -2,
		       "the third backed off, the others avoided: -2");
		tap_ok(tk_dirsources_pick(a, TK_DIRSRC_FALLBACKS, NULL, 0,
					  NULL, 0, &s, &wake) == -1,
		       "no fallbacks: the fallbacks' pool is empty");
		tk_dirsources_free(a);
	}
	tk_dirsources_free(ds);
}

/* ClientUseIPv4/6, ClientPreferIPv6ORPort in the pools (the public
 * lists: 95 of 200 fallbacks and 8 of 9 authorities have an IPv6
 * ORPort): the address connected to, and who may be picked at all. */
static unsigned pick_v6(struct fk *f, const struct tk_reach *r,
			unsigned *n_v4, unsigned *bad)
{
	tk_dirsources *ds;
	struct tk_dirsources_config c = { 0 };
	struct tk_dirsource s;
	tk_channel_target t;
	unsigned n6 = 0;
	int64_t wake;

	c.auths = f->auths;
	c.n_auths = f->cfg.n_auths;
	c.fallbacks = f->fbs;
	c.fallback_names = f->fb_names;
	c.n_fallbacks = f->cfg.n_fallbacks;
	c.authority_weight = 0.1;
	c.backoff_base_ms = 1000;
	c.backoff_max_ms = 60000;
	c.random = fk_random;
	c.random_arg = f;
	c.reach = *r;
	ds = tk_dirsources_new(&c);
	*n_v4 = *bad = 0;
	for (unsigned i = 0; i < 2000; i++) {
		if (tk_dirsources_pick(ds, TK_DIRSRC_FALLBACKS, NULL, 0, NULL,
				       0, &s, &wake) != 0) {
			(*bad)++;
			continue;
		}
		tk_dirsource_target(&s, &t);
		if (t.addr.ss_family == AF_INET6) {
			n6++;
			*bad += s.addr6.ss_family != AF_INET6;
		} else {
			(*n_v4)++;
			/* IPv4 although IPv6 is preferred and there */
			*bad += r->prefer_ipv6 &&
				s.addr6.ss_family == AF_INET6;
		}
	}
	tk_dirsources_free(ds);
	return n6;
}

static void t_pools_ipv6(void)
{
	struct fk f;
	struct tk_reach r;
	unsigned n6, n4, bad;

	fk_init_public(&f);
	memset(&r, 0, sizeof r);
	n6 = pick_v6(&f, &r, &n4, &bad);
	tap_ok(n6 == 0 && n4 == 2000 && bad == 0,
	       "defaults: every fallback over IPv4 (%u IPv6)", n6);
	r.use_ipv6 = 1;
	r.prefer_ipv6 = 1;
	n6 = pick_v6(&f, &r, &n4, &bad);
	tap_ok(n6 > 600 && n4 > 600 && bad == 0,
	       "ClientUseIPv6 1 + ClientPreferIPv6ORPort 1: IPv6 where a "
	       "source has it (%u), IPv4 elsewhere (%u)",
	       n6, n4);
	memset(&r, 0, sizeof r);
	r.no_ipv4 = 1;
	n6 = pick_v6(&f, &r, &n4, &bad);
	tap_ok(n6 == 2000 && bad == 0,
	       "ClientUseIPv4 0: only sources with an IPv6 ORPort, over it "
	       "(%u of 2000)",
	       n6);
}

/* ---- 503, stalls, the report ---- */

static void t_503(void)
{
	struct fk f;
	struct fk_req a;
	fk_init(&f, NULL);
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	a = fk_answer(&f, NULL, 503);
	tap_ok(f.n_req == 1 && f.req[0].at == a.at &&
		       memcmp(f.req[0].src.rsa_id, a.src.rsa_id, 20) != 0,
	       "503 (busy): another authority asked at once, off the "
	       "schedule");
	tap_ok(fk_log_has(&f, "HTTP status 503 (busy)"),
	       "the log says busy");
	tk_dirmgr_free(f.m);
}

static void t_trickle(void)
{
	struct fk f;
	struct fk_req r;
	size_t len;
	char *doc, *certs;
	struct tk_dirmgr_stats st;

	fk_init_signed(&f, NULL);
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	r = f.req[0];
	/* 50 bytes every 30 s for 5 minutes: slow, never silent */
	for (int i = 1; i <= 10; i++) {
		f.now_ms += 30000;
		tk_dirmgr_fetch_progress(f.m, r.id, (size_t)i * 50);
		tk_dirmgr_tick(f.m);
	}
	tap_ok(f.n_req == 1 && f.req[0].id == r.id && !f.req[0].cancelled,
	       "a trickling answer is not given up after 5 minutes, and no "
	       "other attempt is made meanwhile");
	doc = td_consensus(&(struct td_opts){ .valid_after = TD_VA }, &len);
	answer(&f, doc, len);
	certs = td_certs(&len);
	if (f.n_req == 1 && fk_path_is(&f.req[0], "/tor/keys/"))
		answer(&f, certs, len);
	tk_dirmgr_get_stats(f.m, &st);
	tap_ok(st.consensus_fetched == 1 && st.stalls == 0,
	       "its consensus is used");
	free(doc);
	free(certs);
	tk_dirmgr_free(f.m);
}

static void t_stall(void)
{
	struct fk f;
	struct fk_req r;
	struct tk_dirmgr_stats st;
	fk_init_signed(&f, NULL);
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	r = f.req[0];
	tk_dirmgr_fetch_progress(f.m, r.id, 100);
	/* then nothing; the schedule's other attempts get answers */
	while (f.now_ms < r.at + 60000) {
		for (size_t i = 1; i < f.n_req;)
			if (!f.req[i].cancelled)
				fk_answer_buf(&f, i, NULL, 0, -1);
			else
				i++;
		if (fk_advance(&f) != 0)
			break;
	}
	tk_dirmgr_get_stats(f.m, &st);
	tap_ok(f.n_req >= 1 && f.req[0].id == r.id && f.req[0].cancelled &&
		       f.now_ms == r.at + 60000,
	       "silent for 60 s: the request is given up at 60 s");
	tap_ok(st.stalls == 1 && fk_log_has(&f, "stalled: no data for 60 s "
						"(100 bytes received)"),
	       "the log says it stalled");
	{
		int again = 0;
		for (size_t i = 0; i < f.n_req; i++)
			again |= !f.req[i].cancelled &&
				 fk_path_is(&f.req[i], "/tor/status-vote/");
		tap_ok(again, "and another attempt is under way");
	}
	tk_dirmgr_free(f.m);
}

static void t_unreachable(void)
{
	struct fk f;
	unsigned warns = 0;
	const char *p;
	int busy = 0;
	int64_t t0;
	fk_init_public(&f);
	if (fk_new(&f) != 0)
		return;
	t0 = f.now_ms;
	tk_dirmgr_start(f.m);
	while (f.now_ms < t0 + 10 * 60 * 1000) {
		while (f.n_req)
			fk_answer(&f, NULL, -1);
		if (f.wake_at <= f.now_ms) {
			busy = 1;
			break;
		}
		fk_advance(&f);
	}
	for (p = f.log; (p = strstr(p, "Problem bootstrapping.")); p++)
		warns++;
	tap_ok(!busy, "10 minutes unreachable: no busy loop");
	tap_ok(fk_log_has(&f, "Problem bootstrapping. Stuck at 5% (conn): no "
			      "directory source could be reached.") &&
		       fk_log_has(&f, "to fallback directory mirrors") &&
		       fk_log_has(&f, "connection refused (fake)") &&
		       fk_log_has(&f, "Check that this host can open TCP "
				      "connections to the Internet"),
	       "a clear report: what was tried, what failed, what to check");
	tap_ok(warns >= 2 && warns <= 8,
	       "repeated as failures double, not for each (%u times)", warns);
	tap_ok(f.total_req >= 20 && f.total_req <= 200,
	       "%u attempts in 10 minutes: it keeps trying, slowly",
	       f.total_req);
	tk_dirmgr_free(f.m);
}

/* ---- protocols ---- */

static void t_required_protocol(void)
{
	struct fk f;
	struct td_opts o = {
		.required = "Cons=2 Desc=2 FlowCtrl=1 Link=4 Microdesc=2 "
			    "Relay=2,99",
	};
	fk_init_signed(&f, NULL);
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	boot_signed(&f, &o);
	tap_ok(f.n_fatal == 1 && strstr(f.fatal, "Relay=99") &&
		       strstr(f.fatal, "requires"),
	       "a consensus requiring Relay=99 stops the manager: %s",
	       f.fatal);
	tap_ok(fk_log_has(&f, "Relay=99"), "the log names Relay=99");
	tap_ok(tk_dirmgr_phase(f.m) == TK_DIRMGR_STOPPED &&
		       !tk_dirmgr_usable(f.m) && !tk_dirmgr_nodes(f.m) &&
		       f.n_req == 0,
	       "nothing adopted, nothing more fetched");
	f.now_ms += 3600 * 1000;
	tk_dirmgr_tick(f.m);
	tap_ok(f.n_req == 0, "even an hour later");
	tk_dirmgr_free(f.m);
}

static void t_recommended_protocol(void)
{
	struct fk f;
	struct td_opts o = { .recommended = "Cons=2 Relay=2-4 Foo=7" };
	fk_init_signed(&f, NULL);
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	tap_ok(boot_signed(&f, &o) == 0 && f.n_fatal == 0,
	       "a missing recommended protocol: usable all the same");
	tap_ok(fk_log_has(&f, "recommends for clients: Relay=3-4 Foo=7"),
	       "with a warning naming what we lack");
	tk_dirmgr_free(f.m);
}

/* ---- consensus diffs ---- */

/* Follows wake-ups until a consensus request is pending. */
static int to_refresh(struct fk *f)
{
	for (int i = 0; i < 50; i++) {
		if (f->n_req == 1 &&
		    fk_path_is(&f->req[0], "/tor/status-vote/current/"))
			return 0;
		if (fk_advance(f) != 0)
			return -1;
	}
	return -1;
}

static void t_diffs(void)
{
	struct fk f;
	struct td_opts oa = { 0 }, ob = { .valid_after = TD_VA + 3600,
					  .bump = 7 },
		       oc = { .valid_after = TD_VA + 7200, .bump = 9 };
	size_t la, lb, lc, ld;
	char *a = td_consensus(&oa, &la), *b = td_consensus(&ob, &lb);
	char *c = td_consensus(&oc, &lc), *d, want[100], hex[65];
	struct tk_consensus *ca, *cb, *cc;
	struct tk_dirmgr_stats st;
	char err[256];

	tk_consensus_parse(a, la, &ca, err, sizeof err);
	tk_consensus_parse(b, lb, &cb, err, sizeof err);
	tk_consensus_parse(c, lc, &cc, err, sizeof err);
	fk_init_signed(&f, NULL);
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	tap_ok(f.req[0].headers[0] == '\0',
	       "bootstrap without a consensus: no diff asked for");
	if (boot_signed(&f, &oa) != 0 || to_refresh(&f) != 0) {
		tap_ok(0, "bootstrap, then the refresh");
		return;
	}
	tk_consdiff_digest_hex(a, ca->signed_len, hex);
	snprintf(want, sizeof want, "X-Or-Diff-From-Consensus: %s\r\n", hex);
	tap_eq_str(f.req[0].headers, want,
		   "the refresh asks for a diff from the consensus held");
	/* answer with the diff A -> B; the clock must be in B's life */
	if (f.now_ms < (TD_VA + 3600 + 60) * 1000)
		f.now_ms = (TD_VA + 3600 + 60) * 1000;
	d = td_diff(a, la, ca->signed_len, b, lb, cb->signed_len, &ld);
	answer(&f, d, ld);
	free(d);
	tk_dirmgr_get_stats(f.m, &st);
	tap_ok(st.diffs_applied == 1 && st.consensus_fetched == 2 &&
		       fk_log_has(&f, "consensus diff from"),
	       "the diff applied: consensus B verified and used");
	tap_ok(tk_dirmgr_nodes(f.m)->c->valid_after == TD_VA + 3600,
	       "the node table is B's");

	/* next refresh: a diff that does not check out */
	if (to_refresh(&f) != 0) {
		tap_ok(0, "second refresh");
		return;
	}
	tk_consdiff_digest_hex(b, cb->signed_len, hex);
	tap_ok(strstr(f.req[0].headers, hex) != NULL,
	       "the next refresh asks for a diff from B");
	if (f.now_ms < (TD_VA + 7200 + 60) * 1000)
		f.now_ms = (TD_VA + 7200 + 60) * 1000;
	d = td_diff(b, lb, cb->signed_len, c, lc, cc->signed_len, &ld);
	d[100] ^= 1; /* inside the ToDigest */
	answer(&f, d, ld);
	free(d);
	tk_dirmgr_get_stats(f.m, &st);
	tap_ok(st.diffs_refused == 1 &&
		       fk_log_has(&f, "refused the consensus diff") &&
		       fk_log_has(&f, "ToDigest"),
	       "a bad diff is refused, saying why");
	tap_ok(f.n_req == 1 && fk_path_is(&f.req[0], "/tor/status-vote/") &&
		       f.req[0].headers[0] == '\0',
	       "and the whole consensus is asked for at once, without the "
	       "header");
	answer(&f, c, lc);
	tk_dirmgr_get_stats(f.m, &st);
	tap_ok(st.consensus_fetched == 3 &&
		       tk_dirmgr_nodes(f.m)->c->valid_after == TD_VA + 7200,
	       "the whole C is used");
	tk_consensus_free(ca);
	tk_consensus_free(cb);
	tk_consensus_free(cc);
	free(a);
	free(b);
	free(c);
	tk_dirmgr_free(f.m);
}

/* A cached consensus too old to use still makes the first request ask
 * for a diff from it. */
static void t_diff_from_cache(void)
{
	struct fk f;
	char dir[] = "/tmp/tk-dirmgr-boot-XXXXXX", err[256], hex[65];
	struct td_opts oa = { 0 };
	size_t la;
	char *a = td_consensus(&oa, &la);
	struct tk_consensus *ca;
	const char *p = a;

	tk_consensus_parse(a, la, &ca, err, sizeof err);
	if (!mkdtemp(dir)) {
		tap_ok(0, "mkdtemp");
		return;
	}
	tk_dircache_write(dir, TK_DIRCACHE_CONSENSUS, &p, &la, 1, err,
			  sizeof err);
	fk_init_signed(&f, dir);
	f.now_ms = (TD_VA + 4 * 3600) * 1000; /* A expired an hour ago */
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	tk_consdiff_digest_hex(a, ca->signed_len, hex);
	tap_ok(fk_log_has(&f, "refused cached consensus: expired") &&
		       f.n_req == 1 && strstr(f.req[0].headers, hex),
	       "an expired cached consensus is not used, but the first "
	       "request asks for a diff from it");
	tk_dirmgr_free(f.m);
	tk_dircache_remove(dir, TK_DIRCACHE_CONSENSUS);
	rmdir(dir);
	tk_consensus_free(ca);
	free(a);
}

/* ---- the directory guard ---- */

static void t_dir_guard(void)
{
	struct fk f;
	const struct tk_nodes *t;
	const struct tk_router *r;
	fk_init_signed(&f, NULL);
	if (fk_new(&f) != 0)
		return;
	tk_dirmgr_start(f.m);
	if (boot_signed(&f, &(struct td_opts){ 0 }) != 0) {
		tap_ok(0, "bootstrap");
		return;
	}
	tap_ok(f.guard_asked == 0 || !f.have_guard,
	       "before usable, no directory guard");
	t = tk_dirmgr_nodes(f.m);
	r = NULL;
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->c->routers[i].nickname, "tnmid0") == 0)
			r = &t->c->routers[i];
	if (!r) {
		tap_ok(0, "tnmid0 in the consensus");
		return;
	}
	tk_dirsource_from_router(r, &f.guard);
	f.have_guard = 1;
	if (to_refresh(&f) != 0) {
		tap_ok(0, "refresh");
		return;
	}
	tap_ok(f.req[0].src.is_guard && f.req[0].src.has_ntor &&
		       memcmp(f.req[0].src.rsa_id, r->rsa_id, 20) == 0,
	       "once usable, the refresh goes to the directory guard, over "
	       "ntor (its key from its microdescriptor)");
	tk_dirmgr_free(f.m);
}

int main(void)
{
	tk_crypto_init();
	t_fallbacks_first();
	t_three_at_once();
	t_pools();
	t_pools_ipv6();
	t_503();
	t_trickle();
	t_stall();
	t_unreachable();
	t_required_protocol();
	t_recommended_protocol();
	t_diffs();
	t_diff_from_cache();
	t_dir_guard();
	return tap_done();
}
