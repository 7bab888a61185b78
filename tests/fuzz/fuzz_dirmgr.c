/* libFuzzer harness: the directory manager fed hostile directory answers.
 *
 * Input: one mode byte, then answer bodies separated by "\n=====\n". The
 * manager runs against a fake clock and fetcher; each request it makes is
 * answered with the next body (HTTP 200; mode bit 4: HTTP 404 for odd
 * ones; mode bit 8: transport failure for every third one; bit 16: 503
 * for every fifth; bit 32: progress reports before each answer; bit 64:
 * the clock jumps past the stall time before every fourth answer; bit
 * 128: fallbacks configured too). A body may be a consensus diff. With
 * $TK_SRCDIR set (make check sets it), mode bit 1 answers the first
 * consensus request with the real sample consensus and bit 2 the first
 * certificate request with the real certificates, so the fuzzed bodies
 * reach the microdescriptor handling of a verified consensus.
 *
 * Checks: no crash, no leak, the node table stays consistent, and the
 * manager never asks for more than it may have in flight. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/crypto.h"
#include "onion/netdoc/dirauth.h"
#include "onion/dir/dirmgr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_MS (1795761190LL * 1000) /* inside the sample's validity */
#define MAX_PENDING 16

static const char *const auth_lines[3] = {
	"DirAuthority tnauth0 orport=15100 v3ident=66073B891425BB39A2A7BA4251D709847F0A1B53 127.0.0.1:15150 1E0D83A7D1FFB0347D898D17FC520F65474FE950",
	"DirAuthority tnauth1 orport=15101 v3ident=08B14E4205D3CB4C8B0EC49B77757E31F7CA0988 127.0.0.1:15151 66727691665E1401174A7F8251F117D4D704181D",
	"DirAuthority tnauth2 orport=15102 v3ident=CA111EE2381B4354040663C695A6B7030E874F3D 127.0.0.1:15152 B27CB59CD3AF51A07A5BBE317A501D751CFA847E",
};

static struct {
	int64_t now;
	uint64_t rng;
	uint64_t ids[MAX_PENDING];
	int kind[MAX_PENDING]; /* 'c' consensus, 'k' keys, 'm' mds */
	size_t n;
	int64_t wake;
} w;

static char *fx_cons, *fx_certs;
static size_t fx_cons_len, fx_certs_len;
static int fx_loaded;

static char *load(const char *name, size_t *len)
{
	const char *top = getenv("TK_SRCDIR");
	char path[4096];
	FILE *f;
	long n;
	char *b;
	if (!top)
		return NULL;
	snprintf(path, sizeof path, "%s/tests/data/netdoc/%s", top, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc(n > 0 ? (size_t)n : 1);
	if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return b;
}

static int64_t f_now(void *a)
{
	(void)a;
	return w.now;
}

static uint64_t f_random(void *a)
{
	(void)a;
	w.rng ^= w.rng << 13;
	w.rng ^= w.rng >> 7;
	w.rng ^= w.rng << 17;
	return w.rng;
}

static int f_fetch(void *a, uint64_t id, const struct tk_dirsource *src,
		   const char *path, const char *headers)
{
	(void)a;
	(void)src;
	(void)headers;
	if (w.n == MAX_PENDING)
		abort(); /* more in flight than max_parallel + 2 allows */
	w.ids[w.n] = id;
	w.kind[w.n] = strncmp(path, "/tor/status-vote/", 17) == 0 ? 'c'
		      : strncmp(path, "/tor/keys/", 10) == 0	 ? 'k'
								 : 'm';
	w.n++;
	return 0;
}

static void f_cancel(void *a, uint64_t id)
{
	(void)a;
	for (size_t i = 0; i < w.n; i++)
		if (w.ids[i] == id) {
			memmove(w.ids + i, w.ids + i + 1,
				(w.n - i - 1) * sizeof w.ids[0]);
			memmove(w.kind + i, w.kind + i + 1,
				(w.n - i - 1) * sizeof w.kind[0]);
			w.n--;
			return;
		}
}

static void f_wake(void *a, int64_t at)
{
	(void)a;
	w.wake = at;
}

/* Next part of the input after *pos, split on the separator. */
static int next_part(const uint8_t *d, size_t size, size_t *pos,
		     const uint8_t **p, size_t *len)
{
	static const char sep[] = "\n=====\n";
	if (*pos > size)
		return 0;
	const uint8_t *start = d + *pos;
	size_t left = size - *pos;
	size_t i;
	for (i = 0; i + 7 <= left; i++)
		if (memcmp(start + i, sep, 7) == 0)
			break;
	if (i + 7 > left)
		i = left;
	*p = start;
	*len = i;
	*pos += i + 7;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tk_dirauth auths[3];
	tk_dirfallback fbs[2];
	struct tk_dirmgr_config cfg;
	struct tk_dirmgr_env env;
	tk_dirmgr *m;
	char err[256];
	unsigned mode, answered = 0;
	int used_cons = 0, used_certs = 0;
	size_t pos = 1;

	if (size < 1)
		return 0;
	if (!fx_loaded) {
		tk_crypto_init();
		fx_cons = load("consensus-microdesc.txt", &fx_cons_len);
		fx_certs = load("authority-certs.txt", &fx_certs_len);
		fx_loaded = 1;
	}
	mode = data[0];
	for (int i = 0; i < 3; i++)
		if (tk_dirauth_parse(auth_lines[i], &auths[i], err, sizeof err))
			abort();
	memset(&w, 0, sizeof w);
	w.now = NOW_MS;
	w.rng = 0x9E3779B97F4A7C15ull;
	w.wake = -1;
	tk_dirmgr_config_init(&cfg);
	cfg.auths = auths;
	cfg.n_auths = 3;
	cfg.enforce_distinct_subnets = 0;
	cfg.md_batch_max = 4;
	cfg.md_batch_min = 1;
	cfg.md_max_parallel = 2;
	if (mode & 128) {
		if (tk_dirfallback_parse("127.0.0.1 orport=15103 id=75"
					 "08D014650DA0C3C3EB0E1AFE0F84BF678F"
					 "3D50",
					 &fbs[0], err, sizeof err) ||
		    tk_dirfallback_parse("127.0.0.1 orport=15104 id=41"
					 "F0DD18A431888DC30A8FCE1C8B5694BE28"
					 "9C1A",
					 &fbs[1], err, sizeof err))
			abort();
		cfg.fallbacks = fbs;
		cfg.n_fallbacks = 2;
	}
	memset(&env, 0, sizeof env);
	env.now_ms = f_now;
	env.random = f_random;
	env.fetch = f_fetch;
	env.cancel = f_cancel;
	env.wake = f_wake;
	env.arg = &w;
	if (tk_dirmgr_new(&cfg, &env, &m, err, sizeof err) != 0)
		abort();
	tk_dirmgr_start(m);
	for (int round = 0; round < 40; round++) {
		const uint8_t *body = NULL;
		size_t len = 0;
		int status = 0, http = 200;
		if (w.n == 0) {
			if (w.wake < 0)
				break;
			w.now = w.wake > w.now ? w.wake : w.now + 1;
			tk_dirmgr_tick(m);
			continue;
		}
		uint64_t id = w.ids[0];
		int kind = w.kind[0];
		memmove(w.ids, w.ids + 1, (w.n - 1) * sizeof w.ids[0]);
		memmove(w.kind, w.kind + 1, (w.n - 1) * sizeof w.kind[0]);
		w.n--;
		if (kind == 'c' && (mode & 1) && fx_cons && !used_cons) {
			body = (const uint8_t *)fx_cons;
			len = fx_cons_len;
			used_cons = 1;
		} else if (kind == 'k' && (mode & 2) && fx_certs && !used_certs) {
			body = (const uint8_t *)fx_certs;
			len = fx_certs_len;
			used_certs = 1;
		} else if (!next_part(data, size, &pos, &body, &len)) {
			status = -1;
		}
		answered++;
		if ((mode & 4) && answered % 2)
			http = 404;
		if ((mode & 16) && answered % 5 == 0)
			http = 503;
		if ((mode & 8) && answered % 3 == 0)
			status = -1;
		if (mode & 32)
			tk_dirmgr_fetch_progress(m, id, len / 2);
		if ((mode & 64) && answered % 4 == 0) {
			w.now += 61000;
			tk_dirmgr_tick(m);
		}
		tk_dirmgr_fetched(m, id, status, http, status ? NULL : body,
				  status ? 0 : len, "fuzz");
		const struct tk_nodes *t = tk_dirmgr_nodes(m);
		if (t) {
			size_t have = 0;
			for (size_t i = 0; i < t->n; i++)
				have += t->node[i].md != NULL;
			if (have != t->n_have || t->n_have > t->n)
				abort();
		}
		if (tk_dirmgr_usable(m) && !t)
			abort();
	}
	tk_dirmgr_free(m);
	return 0;
}
