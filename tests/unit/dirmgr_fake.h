/* A fake world for the directory manager: a settable clock, a seeded
 * random generator, and a fetcher that queues requests for the test to
 * answer with canned documents from tests/data/netdoc (the tornet sample,
 * valid 2026-11-27 06:33:00 .. 06:33:40 UTC), or with documents signed
 * at run time by the test authorities (testdocs.h, fk_init_signed). It
 * also records what a directory guard and a fatal stop would see. */
#ifndef TK_TESTS_DIRMGR_FAKE_H
#define TK_TESTS_DIRMGR_FAKE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/netdoc/dirauth.h"
#include "onion/dir/dirmgr.h"
#include "netdoc_testutil.h"
#include "tap.h"

#define FK_MAX_REQ 64

struct fk_req {
	uint64_t id;
	struct tk_dirsource src;
	char path[16384];
	char headers[256];
	int64_t at; /* fake time it was made */
	int cancelled;
};

struct fk {
	int64_t now_ms;
	uint64_t rng;
	struct fk_req req[FK_MAX_REQ];
	size_t n_req;		/* pending, in order */
	unsigned total_req;
	int refuse_fetch;	/* fetch() returns -1 */
	int64_t wake_at;
	unsigned wakes, changes;
	int pct[32];
	size_t n_pct;
	char log[65536];
	size_t log_len;
	tk_dirauth auths[16];
	tk_dirfallback fbs[256];
	const char *fb_names[256];
	struct tk_dirmgr_config cfg;
	tk_dirmgr *m;
	char fatal[1024];
	unsigned n_fatal;
	int have_guard; /* dir_guard() answers guard */
	struct tk_dirsource guard;
	unsigned guard_asked;
};

static inline int64_t fk_now(void *arg)
{
	return ((struct fk *)arg)->now_ms;
}

static inline uint64_t fk_random(void *arg)
{
	struct fk *f = arg;
	/* xorshift64: reproducible runs */
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return f->rng;
}

static inline int fk_fetch(void *arg, uint64_t id, const struct tk_dirsource *src,
		    const char *path, const char *headers)
{
	struct fk *f = arg;
	if (f->refuse_fetch || f->n_req == FK_MAX_REQ)
		return -1;
	struct fk_req *r = &f->req[f->n_req++];
	memset(r, 0, sizeof *r);
	r->id = id;
	r->src = *src;
	r->at = f->now_ms;
	snprintf(r->path, sizeof r->path, "%s", path);
	snprintf(r->headers, sizeof r->headers, "%s", headers);
	f->total_req++;
	return 0;
}

static inline int fk_dir_guard(void *arg, const struct tk_nodes *t,
			       struct tk_dirsource *out)
{
	struct fk *f = arg;
	(void)t;
	f->guard_asked++;
	if (!f->have_guard)
		return -1;
	*out = f->guard;
	return 0;
}

static inline void fk_fatal(void *arg, const char *msg)
{
	struct fk *f = arg;
	snprintf(f->fatal, sizeof f->fatal, "%s", msg);
	f->n_fatal++;
}

static inline void fk_cancel(void *arg, uint64_t id)
{
	struct fk *f = arg;
	for (size_t i = 0; i < f->n_req; i++)
		if (f->req[i].id == id)
			f->req[i].cancelled = 1;
}

static inline void fk_wake(void *arg, int64_t at)
{
	struct fk *f = arg;
	f->wake_at = at;
	f->wakes++;
}

static inline void fk_log(void *arg, int level, const char *msg)
{
	struct fk *f = arg;
	(void)level;
	int n = snprintf(f->log + f->log_len, sizeof f->log - f->log_len,
			 "%s\n", msg);
	if (n > 0 && f->log_len + (size_t)n < sizeof f->log)
		f->log_len += (size_t)n;
	if (getenv("TK_TEST_VERBOSE"))
		tap_diag("log: %s", msg);
}

static inline void fk_progress(void *arg, int pct, const char *tag, const char *s)
{
	struct fk *f = arg;
	(void)tag;
	(void)s;
	if (f->n_pct < sizeof f->pct / sizeof f->pct[0])
		f->pct[f->n_pct++] = pct;
}

static inline void fk_changed(void *arg)
{
	((struct fk *)arg)->changes++;
}

static inline int fk_has_pct(const struct fk *f, int pct)
{
	for (size_t i = 0; i < f->n_pct; i++)
		if (f->pct[i] == pct)
			return 1;
	return 0;
}

static inline int fk_log_has(const struct fk *f, const char *s)
{
	return strstr(f->log, s) != NULL;
}

static inline void fk_log_clear(struct fk *f)
{
	f->log[0] = '\0';
	f->log_len = 0;
}

/* Sets up f (clock at ND_NOW) with the sample's three authorities and
 * the default configuration; data_dir may be NULL. */
static inline void fk_init(struct fk *f, const char *data_dir)
{
	size_t len;
	char *lines = nd_load("dirauthority.lines", &len);
	char *save = NULL, err[256];
	size_t n = 0;
	memset(f, 0, sizeof *f);
	f->now_ms = ND_NOW * 1000;
	f->rng = 0x9E3779B97F4A7C15ull;
	f->wake_at = -2;
	lines = realloc(lines, len + 1);
	lines[len] = '\0';
	for (char *l = strtok_r(lines, "\n", &save); l && n < 3;
	     l = strtok_r(NULL, "\n", &save))
		if (tk_dirauth_parse(l, &f->auths[n], err, sizeof err) == 0)
			n++;
	free(lines);
	if (n != 3) {
		printf("Bail out! dirauthority.lines: %s\n", err);
		exit(1);
	}
	tk_dirmgr_config_init(&f->cfg);
	f->cfg.auths = f->auths;
	f->cfg.n_auths = 3;
	f->cfg.data_dir = data_dir;
	f->cfg.enforce_distinct_subnets = 0; /* every relay is 127.0.0.1 */
}

static inline int fk_new(struct fk *f)
{
	struct tk_dirmgr_env env;
	char err[256];
	memset(&env, 0, sizeof env);
	env.now_ms = fk_now;
	env.random = fk_random;
	env.fetch = fk_fetch;
	env.cancel = fk_cancel;
	env.wake = fk_wake;
	env.log = fk_log;
	env.progress = fk_progress;
	env.changed = fk_changed;
	env.dir_guard = fk_dir_guard;
	env.fatal = fk_fatal;
	env.arg = f;
	if (tk_dirmgr_new(&f->cfg, &env, &f->m, err, sizeof err) != 0) {
		tap_diag("tk_dirmgr_new: %s", err);
		return -1;
	}
	return 0;
}

/* Removes pending request i and returns a copy. */
static inline struct fk_req fk_take(struct fk *f, size_t i)
{
	struct fk_req r = f->req[i];
	memmove(&f->req[i], &f->req[i + 1], (f->n_req - i - 1) * sizeof r);
	f->n_req--;
	return r;
}

static inline int fk_path_is(const struct fk_req *r, const char *prefix)
{
	return strncmp(r->path, prefix, strlen(prefix)) == 0;
}

/* Answers pending request i with body and HTTP status http, or with a
 * transport failure when http < 0. Returns the request. */
static inline struct fk_req fk_answer_buf(struct fk *f, size_t i,
					  const char *body, size_t len,
					  int http)
{
	struct fk_req r = fk_take(f, i);
	if (http < 0)
		tk_dirmgr_fetched(f->m, r.id, -1, 0, NULL, 0,
				  "connection refused (fake)");
	else
		tk_dirmgr_fetched(f->m, r.id, 0, http,
				  (const uint8_t *)(body ? body : ""),
				  body ? len : 0, NULL);
	return r;
}

/* Moves the clock to the time the manager asked to be woken, and ticks.
 * 0, or -1 if it asked for nothing (or for the past). */
static inline int fk_advance(struct fk *f)
{
	if (f->wake_at < 0)
		return -1;
	if (f->wake_at > f->now_ms)
		f->now_ms = f->wake_at;
	else
		f->now_ms++;
	tk_dirmgr_tick(f->m);
	return 0;
}

/* Answers the oldest pending request with file (from tests/data/netdoc)
 * and HTTP 200, or with http status and no body when file is NULL, or a
 * transport failure when http < 0. Returns the request. */
static inline struct fk_req fk_answer(struct fk *f, const char *file, int http)
{
	struct fk_req r = fk_take(f, 0);
	if (http < 0) {
		tk_dirmgr_fetched(f->m, r.id, -1, 0, NULL, 0,
				  "connection refused (fake)");
	} else if (!file) {
		tk_dirmgr_fetched(f->m, r.id, 0, http, (const uint8_t *)"", 0,
				  NULL);
	} else {
		size_t len;
		char *body = nd_load(file, &len);
		tk_dirmgr_fetched(f->m, r.id, 0, http, (const uint8_t *)body,
				  len, NULL);
		free(body);
	}
	return r;
}

/* Number of '-'-separated digests in a /tor/micro/d/ path. */
static inline size_t fk_md_count(const struct fk_req *r)
{
	const char *p = r->path + strlen("/tor/micro/d/");
	size_t n = *p ? 1 : 0;
	for (; *p; p++)
		n += *p == '-';
	return n;
}

/* Runs a cold bootstrap with good documents: consensus, certs, mds. */
static inline int fk_bootstrap(struct fk *f)
{
	if (f->n_req != 1 ||
	    !fk_path_is(&f->req[0], "/tor/status-vote/current/consensus-microdesc"))
		return -1;
	fk_answer(f, "consensus-microdesc.txt", 200);
	if (f->n_req != 1 || !fk_path_is(&f->req[0], "/tor/keys/"))
		return -1;
	fk_answer(f, "authority-certs.txt", 200);
	if (f->n_req != 1 || !fk_path_is(&f->req[0], "/tor/micro/d/"))
		return -1;
	fk_answer(f, "microdescs.txt", 200);
	return tk_dirmgr_usable(f->m) ? 0 : -1;
}

#endif
