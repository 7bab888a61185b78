/* tkmkdir: a synthetic directory of many relays, built from the real
 * entries of a public-network consensus and signed by test authorities,
 * written as a DataDirectory's cache (for scale tests and benchmarks).
 *
 *   tkmkdir -n RELAYS -r REALDIR -k AUTHDIR [-k AUTHDIR...] -o OUTDIR
 *           [-a DIRAUTHLINES] [-s SEED] [-t VALID-AFTER]
 *
 * REALDIR holds a microdesc consensus and its microdescriptors as in
 * tests/data/realnet (consensus-microdesc, consensus-microdesc--desc--NAME).
 * Relay i is a copy of real entry i mod 5: its flags, version, protocols,
 * bandwidth and exit policy; a fresh identity, nickname and ntor key
 * (so a microdescriptor of its own, with its own digest); an Ed25519 id;
 * a family of two (relays 2k and 2k+1, by family-ids); and an address in
 * 127.0.0.0/8: a different /16 every 250 relays, so that nothing is ever
 * reachable outside this machine and connections fail at once. Copies of
 * an authority lose the Authority flag and the DirPort. The preamble
 * (protocols, params, known-flags) and the bandwidth weights are the real
 * ones; valid-after is VALID-AFTER (default: now, minus 5 minutes),
 * fresh-until an hour later, valid-until three hours later.
 *
 * AUTHDIR holds an authority's authority_signing_key and
 * authority_certificate (tor-gencert, or tools/tornet's
 * nodes/authN/data/keys); each signs. DIRAUTHLINES, if given, is the file
 * of their DirAuthority lines: the dir-source lines take names, addresses
 * and ports from it.
 *
 * Writes OUTDIR/cached-microdesc-consensus, cached-microdescs (with tor's
 * "@last-listed" annotations, so tor keeps them too) and cached-certs;
 * prints the sizes. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dirsign.h"
#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/netdoc/dirauth.h"
#include "onion/netdoc/netdoc.h"

#define MAX_KEYS 9
#define N_REAL 5

static const char *progname = "tkmkdir";

struct buf {
	char *p;
	size_t len, cap;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p) {
			fprintf(stderr, "%s: out of memory\n", progname);
			exit(1);
		}
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void putf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#include <stdarg.h>

static void
putf(struct buf *b, const char *fmt, ...)
{
	char tmp[8192];
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n
						   : sizeof tmp - 1);
}

static char *
slurp(const char *dir, const char *name, size_t *len)
{
	char path[4096];
	FILE *f;
	long n;
	char *p;
	if (dir)
		snprintf(path, sizeof path, "%s/%s", dir, name);
	else
		snprintf(path, sizeof path, "%s", name);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: cannot read %s: %s\n", progname, path,
			strerror(errno));
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)n + 1);
	if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "%s: cannot read %s\n", progname, path);
		exit(1);
	}
	p[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void
write_file(const char *dir, const char *name, const struct buf *b)
{
	char path[4096];
	FILE *f;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(b->p, 1, b->len, f) != b->len || fclose(f) != 0) {
		fprintf(stderr, "%s: cannot write %s: %s\n", progname, path,
			strerror(errno));
		exit(1);
	}
	chmod(path, 0600);
}

static uint64_t rng_state;

static uint64_t
rnd(void)
{
	/* splitmix64: reproducible from -s */
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static void
rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static void
b64(const uint8_t *p, size_t n, char *out, size_t cap)
{
	tk_base64_encode(p, n, 0, out, cap);
}

/* A real entry: its consensus lines and its microdescriptor. */
struct real {
	char nick[20];
	char *lines; /* "s ..", "v ..", "pr ..", "w .." (no r, a, m) */
	char *md;
	int is_auth;
};

struct relay {
	uint8_t id[20];
	char text[2048]; /* the entry without its m line, then the m line */
	size_t len;
};

static int
cmp_relay(const void *a, const void *b)
{
	return memcmp(((const struct relay *)a)->id,
		      ((const struct relay *)b)->id, 20);
}

/* The lines of entry `r NICK ...` up to the next r line or footer, minus
 * the r, a and m lines, into *out. */
static void
take_entry(const char *cons, const char *nick, struct real *re)
{
	char key[64];
	const char *p, *end;
	struct buf b = { 0 };
	snprintf(key, sizeof key, "\nr %s ", nick);
	p = strstr(cons, key);
	if (!p) {
		fprintf(stderr, "%s: no entry for %s\n", progname, nick);
		exit(1);
	}
	p = strchr(p + 1, '\n') + 1; /* past the r line */
	for (;;) {
		end = strchr(p, '\n');
		if (!end || strncmp(p, "r ", 2) == 0 ||
		    strncmp(p, "directory-footer", 16) == 0)
			break;
		if (strncmp(p, "a ", 2) != 0 && strncmp(p, "m ", 2) != 0) {
			if (strncmp(p, "s ", 2) == 0 &&
			    strstr(p, " Authority") &&
			    strstr(p, " Authority") < end) {
				/* copies of an authority are no authority */
				const char *a = strstr(p, " Authority");
				put(&b, p, (size_t)(a - p));
				put(&b, a + 10, (size_t)(end - (a + 10)) + 1);
				re->is_auth = 1;
			} else {
				put(&b, p, (size_t)(end - p) + 1);
			}
		}
		p = end + 1;
	}
	re->lines = b.p;
}

/* The real microdescriptor with a fresh ntor key and Ed25519 id, a
 * family of two by family-ids, and no "family" line (its members are
 * not in this directory). */
static void
make_md(const char *tmpl, size_t fam, struct buf *out)
{
	const char *p = tmpl;
	uint8_t k[32], fam_id[32];
	char e[64];
	uint64_t saved = rng_state;
	/* the family id depends on the pair only */
	rng_state = 0xFA1 + fam;
	rnd_bytes(fam_id, 32);
	rng_state = saved;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (strncmp(p, "ntor-onion-key ", 15) == 0) {
			rnd_bytes(k, 32);
			b64(k, 32, e, sizeof e);
			putf(out, "ntor-onion-key %s\n", e);
		} else if (strncmp(p, "id ed25519 ", 11) == 0) {
			rnd_bytes(k, 32);
			b64(k, 32, e, sizeof e);
			putf(out, "id ed25519 %s\n", e);
		} else if (strncmp(p, "family ", 7) == 0) {
			;
		} else if (strncmp(p, "family-ids ", 11) == 0) {
			b64(fam_id, 32, e, sizeof e);
			putf(out, "family-ids ed25519:%s\n", e);
		} else {
			put(out, p, n);
		}
		p += n;
	}
	if (!strstr(out->p, "family-ids ")) {
		b64(fam_id, 32, e, sizeof e);
		putf(out, "family-ids ed25519:%s\n", e);
	}
}

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: %s -n RELAYS -r REALDIR -k AUTHDIR [-k AUTHDIR...] "
		"-o OUTDIR [-a DIRAUTHLINES] [-s SEED] [-t VALID-AFTER]\n",
		progname);
}

int
main(int argc, char **argv)
{
	static const char *const names[N_REAL] = { "Akka", "Ukko", "d2d4",
						   "lisdex", "moria1" };
	const char *realdir = NULL, *outdir = NULL, *authfile = NULL;
	const char *keydirs[MAX_KEYS];
	size_t n_keys = 0, n = 0, clen, sl;
	long long va = (long long)time(NULL) - 300;
	struct real re[N_REAL];
	struct relay *rel;
	struct buf cons = { 0 }, mds = { 0 }, certs = { 0 };
	struct tk_dirsign_key keys[MAX_KEYS];
	tk_dirauth auths[MAX_KEYS];
	size_t n_auths = 0;
	char *real_cons, *signed_doc, err[256], ts[32];
	int opt;

	rng_state = 1;
	while ((opt = getopt(argc, argv, "n:r:k:o:a:s:t:h")) != -1) {
		switch (opt) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			realdir = optarg;
			break;
		case 'k':
			if (n_keys == MAX_KEYS) {
				usage(stderr);
				return 2;
			}
			keydirs[n_keys++] = optarg;
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'a':
			authfile = optarg;
			break;
		case 's':
			rng_state = strtoull(optarg, NULL, 10);
			break;
		case 't':
			va = strtoll(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!n || n > 100000 || !realdir || !outdir || !n_keys) {
		usage(stderr);
		return 2;
	}
	if (tk_crypto_init() != 0)
		return 1;
	for (size_t i = 0; i < n_keys; i++)
		if (tk_dirsign_key_load(&keys[i], keydirs[i], err,
					sizeof err) != 0) {
			fprintf(stderr, "%s: %s\n", progname, err);
			return 1;
		}
	if (authfile) {
		size_t alen;
		char *lines = slurp(NULL, authfile, &alen), *save = NULL;
		for (char *l = strtok_r(lines, "\n", &save);
		     l && n_auths < MAX_KEYS; l = strtok_r(NULL, "\n", &save))
			if (tk_dirauth_parse(l, &auths[n_auths], err,
					     sizeof err) == 0)
				n_auths++;
		free(lines);
	}
	real_cons = slurp(realdir, "consensus-microdesc", &clen);
	for (int i = 0; i < N_REAL; i++) {
		char name[64];
		size_t ml;
		memset(&re[i], 0, sizeof re[i]);
		snprintf(re[i].nick, sizeof re[i].nick, "%s", names[i]);
		take_entry(real_cons, names[i], &re[i]);
		snprintf(name, sizeof name, "consensus-microdesc--desc--%s",
			 names[i]);
		re[i].md = slurp(realdir, name, &ml);
	}

	/* the relays, each with its microdescriptor */
	rel = calloc(n, sizeof *rel);
	for (size_t i = 0; i < n; i++) {
		const struct real *r = &re[i % N_REAL];
		struct buf md = { 0 };
		uint8_t d[32];
		char id64[40], d64[48], nick[20];
		unsigned a = 1 + (unsigned)(i / 250) % 254,
			 b = (unsigned)(i % 250) + 1;
		rnd_bytes(rel[i].id, 20);
		make_md(r->md, i / 2, &md);
		/* as tor's cache file: tor drops a cached microdescriptor
		 * without a last-listed time as old */
		tk_netdoc_time_fmt(va, ts, sizeof ts);
		putf(&mds, "@last-listed %s\n", ts);
		puts_(&mds, md.p);
		tk_sha256(md.p, md.len, d);
		free(md.p);
		b64(rel[i].id, 20, id64, sizeof id64);
		b64(d, 32, d64, sizeof d64);
		snprintf(nick, sizeof nick, "%.8s%zu", r->nick, i);
		rel[i].len = (size_t)snprintf(
			rel[i].text, sizeof rel[i].text,
			"r %s %s 2038-01-01 00:00:00 127.%u.%u.1 %u 0\n"
			"m %s\n%s",
			nick, id64, a, b, 9001 + (unsigned)(i % 50), d64,
			r->lines);
	}
	qsort(rel, n, sizeof *rel, cmp_relay);

	/* the preamble: the real one, our times and our authorities */
	{
		const char *p = real_cons;
		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t ln = nl ? (size_t)(nl - p) + 1 : strlen(p);
			if (strncmp(p, "dir-source ", 11) == 0)
				break;
			if (strncmp(p, "valid-after ", 12) == 0) {
				tk_netdoc_time_fmt(va, ts, sizeof ts);
				putf(&cons, "valid-after %s\n", ts);
			} else if (strncmp(p, "fresh-until ", 12) == 0) {
				tk_netdoc_time_fmt(va + 3600, ts, sizeof ts);
				putf(&cons, "fresh-until %s\n", ts);
			} else if (strncmp(p, "valid-until ", 12) == 0) {
				tk_netdoc_time_fmt(va + 3 * 3600, ts,
						   sizeof ts);
				putf(&cons, "valid-until %s\n", ts);
			} else if (strncmp(p, "shared-rand-", 12) == 0) {
				;
			} else {
				put(&cons, p, ln);
			}
			p += ln;
		}
	}
	/* dir-source lines, sorted by identity (tor checks the order) */
	{
		size_t order[MAX_KEYS];
		for (size_t i = 0; i < n_keys; i++)
			order[i] = i;
		for (size_t i = 1; i < n_keys; i++)
			for (size_t j = i; j > 0 &&
					   memcmp(keys[order[j - 1]].v3ident,
						  keys[order[j]].v3ident,
						  20) > 0;
			     j--) {
				size_t t = order[j];
				order[j] = order[j - 1];
				order[j - 1] = t;
			}
		for (size_t k = 0; k < n_keys; k++) {
			size_t i = order[k];
			char hex[41];
			const char *name = "testauth";
			unsigned dport = 7000 + (unsigned)i,
				 oport = 7100 + (unsigned)i;
			tk_netdoc_hex(keys[i].v3ident, 20, hex);
			for (size_t j = 0; j < n_auths; j++)
				if (memcmp(auths[j].v3ident, keys[i].v3ident,
					   20) == 0) {
					const struct sockaddr_in *s =
						(const void *)&auths[j].or_addr;
					name = auths[j].nickname;
					dport = auths[j].dir_port;
					oport = ntohs(s->sin_port);
				}
			putf(&cons,
			     "dir-source %s%zu %s 127.0.0.1 127.0.0.1 %u %u\n"
			     "contact test authority %zu\n"
			     "vote-digest 0000000000000000000000000000000000"
			     "000000\n",
			     name, i, hex, dport, oport, i);
		}
	}
	for (size_t i = 0; i < n; i++)
		put(&cons, rel[i].text, rel[i].len);
	{
		const char *f = strstr(real_cons, "\ndirectory-footer\n");
		const char *sig = f ? strstr(f, "\ndirectory-signature ") : NULL;
		if (!f || !sig) {
			fprintf(stderr, "%s: no footer in the real consensus\n",
				progname);
			return 1;
		}
		put(&cons, f + 1, (size_t)(sig - f));
	}
	signed_doc = tk_dirsign_consensus(cons.p, cons.len, keys, n_keys, &sl,
					  err, sizeof err);
	if (!signed_doc) {
		fprintf(stderr, "%s: %s\n", progname, err);
		return 1;
	}
	for (size_t i = 0; i < n_keys; i++) {
		size_t cl;
		char *c = slurp(keydirs[i], "authority_certificate", &cl);
		put(&certs, c, cl);
		free(c);
	}
	mkdir(outdir, 0700);
	{
		struct buf s = { signed_doc, sl, sl + 1 };
		write_file(outdir, "cached-microdesc-consensus", &s);
	}
	write_file(outdir, "cached-microdescs", &mds);
	write_file(outdir, "cached-certs", &certs);
	printf("%zu relays: consensus %zu bytes, microdescriptors %zu bytes, "
	       "%zu certificates; valid-after %lld\n",
	       n, sl, mds.len, n_keys, va);
	for (size_t i = 0; i < n_keys; i++)
		tk_dirsign_key_free(&keys[i]);
	free(signed_doc);
	free(cons.p);
	free(mds.p);
	free(certs.p);
	free(rel);
	free(real_cons);
	for (int i = 0; i < N_REAL; i++) {
		free(re[i].lines);
		free(re[i].md);
	}
	return 0;
}
