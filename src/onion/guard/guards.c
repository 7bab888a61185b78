/* guards.h: a small persistent guard set. */
#include "onion/guard/guards.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/atomicfile.h"
#include "onion/base/bytes.h"

#define RETRY_MIN_S 30
#define RETRY_MAX_S 600

struct member {
	uint8_t rsa_id[20];
	char nickname[20];
	int64_t added;
	int64_t retry_at; /* skipped before this (0: never failed) */
	int64_t backoff;  /* next delay after a failure */
};

struct tk_guards {
	char *path;
	unsigned n_want;
	int64_t lifetime_s;
	struct member m[TK_GUARDS_MAX];
	size_t n;
	char errmsg[160];
};

static void
load(tk_guards *g, int64_t now_s)
{
	FILE *f = fopen(g->path, "r");
	char line[256];
	unsigned lineno = 0;

	if (!f) {
		if (errno != ENOENT)
			snprintf(g->errmsg, sizeof g->errmsg, "%.100s: %s",
				 g->path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof line, f)) {
		char fp[64], nick[64];
		long long added;
		struct member mb;
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "guard %63s %63s %lld", fp, nick, &added) !=
			    3 ||
		    strlen(fp) != 40 || strlen(nick) >= sizeof mb.nickname ||
		    tk_hex_decode(fp, 40, mb.rsa_id, 20) != 0) {
			snprintf(
				g->errmsg, sizeof g->errmsg,
				"%.60s line %u is not \"guard FINGERPRINT NICK "
				"TIME\": ignoring the file",
				g->path, lineno);
			g->n = 0;
			break;
		}
		if (g->n == TK_GUARDS_MAX)
			continue;
		if (now_s - added > g->lifetime_s)
			continue; /* expired: a fresh member replaces it */
		strcpy(mb.nickname, nick);
		mb.added = added;
		mb.retry_at = 0;
		mb.backoff = RETRY_MIN_S;
		g->m[g->n++] = mb;
	}
	fclose(f);
}

/* Replaced whole: a new file (never through a symlink), fsync'd before
 * the rename, so a crash leaves the old set or the new one. */
static void
save(tk_guards *g)
{
	static const char head[] = "# torkit guard set: first usable member "
				   "is the first hop of every circuit\n";
	char text[sizeof head + TK_GUARDS_MAX * 96];
	size_t len = sizeof head - 1;
	const void *part = text;

	if (!g->path)
		return;
	memcpy(text, head, len);
	for (size_t i = 0; i < g->n; i++) {
		char hex[41];
		int w;
		tk_hex_encode(g->m[i].rsa_id, 20, hex);
		for (char *p = hex; *p; p++)
			if (*p >= 'a' && *p <= 'f')
				*p = (char)(*p - 'a' + 'A');
		w = snprintf(text + len, sizeof text - len,
			     "guard %s %s %lld\n", hex, g->m[i].nickname,
			     (long long)g->m[i].added);
		if (w < 0 || (size_t)w >= sizeof text - len)
			return;
		len += (size_t)w;
	}
	if (tk_file_replace(g->path, &part, &len, 1, g->errmsg,
			    sizeof g->errmsg) != 0)
		return;
}

tk_guards *
tk_guards_new(const char *path, unsigned n_want, int64_t lifetime_s,
	      int64_t now_s)
{
	tk_guards *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	if (path) {
		g->path = strdup(path);
		if (!g->path) {
			free(g);
			return NULL;
		}
	}
	g->n_want = n_want ? n_want : TK_GUARDS_DEFAULT_N;
	if (g->n_want > TK_GUARDS_MAX / 2)
		g->n_want = TK_GUARDS_MAX / 2;
	g->lifetime_s = lifetime_s > 0 ? lifetime_s
				       : TK_GUARDS_DEFAULT_LIFETIME_S;
	if (g->path)
		load(g, now_s);
	return g;
}

void
tk_guards_free(tk_guards *g)
{
	if (!g)
		return;
	free(g->path);
	free(g);
}

const char *
tk_guards_errmsg(const tk_guards *g)
{
	return g->errmsg;
}

static long
find_node(const struct tk_nodes *t, const uint8_t id[20])
{
	for (size_t i = 0; i < t->n; i++)
		if (memcmp(t->node[i].rt->rsa_id, id, 20) == 0)
			return (long)i;
	return -1;
}

static struct member *
find_member(tk_guards *g, const uint8_t id[20])
{
	for (size_t i = 0; i < g->n; i++)
		if (memcmp(g->m[i].rsa_id, id, 20) == 0)
			return &g->m[i];
	return NULL;
}

/* Node index of member i if the directory lets it be a guard now. */
static long
usable(const tk_guards *g, size_t i, const struct tk_nodes *t,
       const struct tk_path_opts *o)
{
	long k = find_node(t, g->m[i].rsa_id);
	if (k < 0 || !tk_path_usable(&t->node[k], TK_PATH_GUARD, o))
		return -1;
	return k;
}

/* Draws a new member (not one we have) and appends it. */
static int
add_member(tk_guards *g, const struct tk_nodes *t, const struct tk_path_opts *o,
	   struct tk_path_rng *rng, int64_t now_s)
{
	struct tk_path_weights w;
	size_t avoid[TK_GUARDS_MAX];
	size_t n_avoid = 0;
	struct tk_path_opts po = *o;
	long k;

	if (g->n == TK_GUARDS_MAX)
		return -1;
	/* Avoid only the very same relays: two guards may share a family
	 * or subnet (they are alternatives, never on one path). */
	po.enforce_distinct_subnets = 0;
	tk_path_weights_init(&w, t->c);
	for (size_t i = 0; i < g->n; i++) {
		long j = find_node(t, g->m[i].rsa_id);
		if (j >= 0)
			avoid[n_avoid++] = (size_t)j;
	}
	for (int tries = 0; tries < 8; tries++) {
		k = tk_path_pick(t->node, t->n, TK_PATH_GUARD, &w, &po, avoid,
				 n_avoid, rng);
		if (k < 0)
			return -1;
		if (!find_member(g, t->node[k].rt->rsa_id))
			break;
		k = -1;
	}
	if (k < 0)
		return -1;
	memcpy(g->m[g->n].rsa_id, t->node[k].rt->rsa_id, 20);
	snprintf(g->m[g->n].nickname, sizeof g->m[g->n].nickname, "%s",
		 t->node[k].rt->nickname);
	g->m[g->n].added = now_s;
	g->m[g->n].retry_at = 0;
	g->m[g->n].backoff = RETRY_MIN_S;
	g->n++;
	return 0;
}

long
tk_guards_pick(tk_guards *g, const struct tk_nodes *t,
	       const struct tk_path_opts *o, struct tk_path_rng *rng,
	       int64_t now_s, char *err, size_t errlen)
{
	return tk_guards_pick_beside(g, t, o, rng, now_s, -1, err, errlen);
}

/* 1 if node k may share a path with the exit (exit -1: no exit yet). */
static int
beside(const struct tk_nodes *t, long k, long exit,
       const struct tk_path_opts *o)
{
	return exit < 0 || !tk_path_conflict(&t->node[k], &t->node[exit], o);
}

long
tk_guards_pick_beside(tk_guards *g, const struct tk_nodes *t,
		      const struct tk_path_opts *o, struct tk_path_rng *rng,
		      int64_t now_s, long exit, char *err, size_t errlen)
{
	size_t n_usable = 0, n_beside = 0;
	int added = 0;
	long best = -1, soonest = -1;
	int64_t soonest_at = 0;

	for (;;) {
		n_usable = 0;
		for (size_t i = 0; i < g->n; i++)
			if (usable(g, i, t, o) >= 0)
				n_usable++;
		if (n_usable >= g->n_want || add_member(g, t, o, rng, now_s))
			break;
		added = 1;
	}
	if (added)
		save(g);
	for (size_t i = 0; i < g->n; i++) {
		long k = usable(g, i, t, o);
		if (k < 0)
			continue;
		/* A member that may not share the path with the exit is
		 * passed over for this circuit, as tor does: the next member
		 * serves, and the set stays as it is. */
		if (!beside(t, k, exit, o))
			continue;
		n_beside++;
		if (g->m[i].retry_at <= now_s) {
			best = k;
			break;
		}
		if (soonest < 0 || g->m[i].retry_at < soonest_at) {
			soonest = k;
			soonest_at = g->m[i].retry_at;
		}
	}
	if (best < 0 && soonest >= 0) {
		/* Every member is down: a fresh one may be up. */
		if (g->n < TK_GUARDS_MAX &&
		    add_member(g, t, o, rng, now_s) == 0) {
			long k = usable(g, g->n - 1, t, o);
			save(g);
			if (k >= 0 && beside(t, k, exit, o))
				return k;
		}
		best = soonest; /* all failed recently: retry the oldest */
	}
	if (best < 0 && n_usable > 0 && n_beside == 0)
		snprintf(err, errlen,
			 "every guard of the set shares relay, "
			 "family or subnet with exit %s",
			 t->node[exit].rt->nickname);
	else if (best < 0)
		snprintf(err, errlen,
			 "no relay with the Guard flag and a "
			 "microdescriptor to use as first hop");
	return best;
}

void
tk_guards_failed(tk_guards *g, const uint8_t rsa_id[20], int64_t now_s)
{
	struct member *m = find_member(g, rsa_id);
	if (!m)
		return;
	m->retry_at = now_s + m->backoff;
	m->backoff *= 2;
	if (m->backoff > RETRY_MAX_S)
		m->backoff = RETRY_MAX_S;
}

void
tk_guards_succeeded(tk_guards *g, const uint8_t rsa_id[20])
{
	struct member *m = find_member(g, rsa_id);
	if (!m)
		return;
	m->retry_at = 0;
	m->backoff = RETRY_MIN_S;
}

size_t
tk_guards_count(const tk_guards *g)
{
	return g->n;
}

const uint8_t *
tk_guards_rsa_id(const tk_guards *g, size_t i)
{
	return i < g->n ? g->m[i].rsa_id : NULL;
}

const char *
tk_guards_nickname(const tk_guards *g, size_t i)
{
	return i < g->n ? g->m[i].nickname : NULL;
}

int
tk_guards_is_down(const tk_guards *g, size_t i, int64_t now_s)
{
	return i < g->n && g->m[i].retry_at > now_s;
}
