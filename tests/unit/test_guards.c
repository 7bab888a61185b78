/* The persistent guard set: drawn from Guard-flagged relays, saved in
 * the state file and loaded back in the same order, the first usable
 * member used, failed members skipped with backoff, members that lost
 * the Guard flag skipped and replaced, expired and damaged entries
 * dropped. The state file is replaced safely: never written through a
 * symlink planted at its temporary name, and fsync'd before the rename
 * (fsync and rename are wrapped, -Wl,--wrap in client.mk, to see the
 * order). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/tap.h"
#include "onion/guard/guards.h"

/* Calls to fsync, and renames onto a file named "guards", in order:
 * 'F' and 'R'. */
static char events[256];
int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __real_rename(const char *a, const char *b);
int __wrap_rename(const char *a, const char *b);
int __wrap_fsync(int fd)
{
	if (strlen(events) < sizeof events - 1)
		strcat(events, "F");
	return __real_fsync(fd);
}
int __wrap_rename(const char *a, const char *b)
{
	size_t n = strlen(b);
	if (n >= 7 && !strcmp(b + n - 7, "/guards") &&
	    strlen(events) < sizeof events - 1)
		strcat(events, "R");
	return __real_rename(a, b);
}

#define NN 8
static struct tk_router rts[NN];
static struct tk_microdesc mds[NN];
static struct tk_path_node nodes[NN];
static struct tk_consensus cons;
static struct tk_nodes table;

static uint64_t splitmix(void *arg)
{
	uint64_t *s = arg;
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void make_net(void)
{
	for (size_t i = 0; i < NN; i++) {
		struct tk_router *r = &rts[i];
		snprintf(r->nickname, sizeof r->nickname, "relay%zu", i);
		memset(r->rsa_id, (int)i + 1, 20);
		r->ipv4 = 0x0a000001 + (uint32_t)(i << 16);
		r->or_port = 9001;
		r->flags = TK_RF_RUNNING | TK_RF_VALID | TK_RF_FAST |
			   (i < 5 ? TK_RF_GUARD : 0);
		r->protos.v[TK_PROTO_RELAY] = 0x6;
		tk_microdesc_init(&mds[i]);
		nodes[i].rt = r;
		nodes[i].md = &mds[i];
	}
	cons.routers = rts;
	cons.n_routers = NN;
	table.c = &cons;
	table.n = NN;
	table.node = nodes;
	table.n_have = NN;
}

static int is_member(const tk_guards *g, long k)
{
	for (size_t i = 0; i < tk_guards_count(g); i++)
		if (!memcmp(tk_guards_rsa_id(g, i), rts[k].rsa_id, 20))
			return 1;
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/tk-guards-XXXXXX", path[128], err[200];
	uint64_t seed = 42;
	struct tk_path_rng rng = { splitmix, &seed };
	struct tk_path_opts o;
	tk_guards *g, *g2;
	long k, k2, k3;
	int64_t now = 1800000000;
	FILE *f;

	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(path, sizeof path, "%s/guards", dir);
	make_net();
	tk_path_opts_init(&o);
	o.enforce_distinct_subnets = 0;

	{
		/* someone planted a symlink at the temporary name */
		char victim[160], tmp[160];
		snprintf(victim, sizeof victim, "%s/victim", dir);
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		f = fopen(victim, "w");
		fputs("victim\n", f);
		fclose(f);
		if (symlink(victim, tmp) != 0)
			printf("Bail out! symlink\n");
		g = tk_guards_new(path, 3, 0, now);
		tap_ok(g && tk_guards_count(g) == 0, "no file: empty set");
		k = tk_guards_pick(g, &table, &o, &rng, now, err, sizeof err);
		tap_ok(k >= 0 && k < 5, "the pick has the Guard flag (%ld)", k);
		f = fopen(victim, "r");
		tap_ok(f && fgets(err, sizeof err, f) &&
			       !strcmp(err, "victim\n"),
		       "the symlink's target is untouched");
		if (f)
			fclose(f);
		tap_ok(access(tmp, F_OK) != 0, "no temporary file left");
		unlink(victim);
	}
	{
		int ok = strchr(events, 'R') != NULL;
		for (size_t i = 0; events[i]; i++)
			if (events[i] == 'R' && (i == 0 || events[i - 1] != 'F'))
				ok = 0;
		tap_ok(ok, "each save fsyncs before its rename (%s)", events);
	}
	tap_eq_long((long)tk_guards_count(g), 3, "three members drawn");
	tap_ok(!memcmp(tk_guards_rsa_id(g, 0), rts[k].rsa_id, 20),
	       "the first member is the one used");
	for (size_t i = 0; i < 3; i++)
		for (size_t j = i + 1; j < 3; j++)
			tap_ok(memcmp(tk_guards_rsa_id(g, i),
				      tk_guards_rsa_id(g, j), 20) != 0,
			       "members %zu and %zu differ", i, j);

	g2 = tk_guards_new(path, 3, 0, now + 10);
	tap_eq_long((long)tk_guards_count(g2), 3, "the file holds the set");
	for (size_t i = 0; i < 3; i++)
		tap_ok(!memcmp(tk_guards_rsa_id(g, i), tk_guards_rsa_id(g2, i),
			       20) &&
		       !strcmp(tk_guards_nickname(g, i),
			       tk_guards_nickname(g2, i)),
		       "member %zu loaded back in order", i);
	k2 = tk_guards_pick(g2, &table, &o, &rng, now + 10, err, sizeof err);
	tap_eq_long(k2, k, "a restart uses the same first guard");
	tk_guards_free(g2);

	/* failure: skipped until the retry time, then used again */
	tk_guards_failed(g, rts[k].rsa_id, now);
	tap_ok(tk_guards_is_down(g, 0, now), "a failed member is down");
	k2 = tk_guards_pick(g, &table, &o, &rng, now + 1, err, sizeof err);
	tap_ok(k2 >= 0 && k2 != k && is_member(g, k2),
	       "while down, the next member is used");
	k3 = tk_guards_pick(g, &table, &o, &rng, now + 31, err, sizeof err);
	tap_eq_long(k3, k, "after 30 s the first member is tried again");
	tk_guards_failed(g, rts[k].rsa_id, now + 31);
	tap_ok(tk_guards_is_down(g, 0, now + 31 + 59) &&
	       !tk_guards_is_down(g, 0, now + 31 + 61),
	       "the second failure backs off 60 s");
	tk_guards_succeeded(g, rts[k].rsa_id);
	tap_ok(!tk_guards_is_down(g, 0, now + 32), "success clears it");

	/* the first member loses its Guard flag: skipped, replaced */
	rts[k].flags &= ~(uint32_t)TK_RF_GUARD;
	k2 = tk_guards_pick(g, &table, &o, &rng, now + 40, err, sizeof err);
	tap_ok(k2 >= 0 && k2 != k, "a member without the Guard flag is "
				   "not used");
	tap_eq_long((long)tk_guards_count(g), 4, "a fourth member keeps three "
						 "usable");
	rts[k].flags |= TK_RF_GUARD;
	k2 = tk_guards_pick(g, &table, &o, &rng, now + 50, err, sizeof err);
	tap_eq_long(k2, k, "flag back: the first member is first again");

	/* the exit is chosen first: the guard may not be that relay */
	k2 = tk_guards_pick_beside(g, &table, &o, &rng, now + 50, k, err,
				   sizeof err);
	tap_ok(k2 >= 0 && k2 != k && is_member(g, k2),
	       "beside exit = first member: the next member serves");
	tap_eq_long((long)tk_guards_count(g), 4, "and the set is unchanged");
	k2 = tk_guards_pick_beside(g, &table, &o, &rng, now + 50, 7, err,
				   sizeof err);
	tap_eq_long(k2, k, "beside another exit: the first member");
	o.enforce_distinct_subnets = 1;
	rts[7].ipv4 = rts[k].ipv4 + 1; /* the exit in the guard's /16 */
	k2 = tk_guards_pick_beside(g, &table, &o, &rng, now + 50, 7, err,
				   sizeof err);
	tap_ok(k2 >= 0 && k2 != k, "an exit in the first member's /16: the "
				   "next member");
	rts[7].ipv4 = 0x0a000001 + (7u << 16);
	o.enforce_distinct_subnets = 0;
	tk_guards_free(g);

	/* a set of one, which is the exit: no guard, and err says why */
	unlink(path);
	g = tk_guards_new(path, 1, 0, now);
	k = tk_guards_pick(g, &table, &o, &rng, now, err, sizeof err);
	k2 = tk_guards_pick_beside(g, &table, &o, &rng, now, k, err,
				   sizeof err);
	tap_eq_long(k2, -1, "a set of one beside itself: no guard");
	tap_ok(strstr(err, "shares relay, family or subnet with exit") != NULL,
	       "err: %s", err);
	tk_guards_free(g);

	/* expiry: members older than the lifetime are dropped on load */
	g = tk_guards_new(path, 3, 100, now + 1000);
	tap_eq_long((long)tk_guards_count(g), 0, "expired members dropped");
	tk_guards_free(g);

	/* damaged file: ignored with a reason, then rewritten */
	f = fopen(path, "w");
	fputs("guard NOTHEX relayX 5\n", f);
	fclose(f);
	g = tk_guards_new(path, 3, 0, now);
	tap_ok(tk_guards_count(g) == 0 &&
	       strstr(tk_guards_errmsg(g), "line 1") != NULL,
	       "damaged file ignored: %s", tk_guards_errmsg(g));
	k = tk_guards_pick(g, &table, &o, &rng, now, err, sizeof err);
	tk_guards_free(g);
	g = tk_guards_new(path, 3, 0, now);
	tap_ok(k >= 0 && tk_guards_count(g) == 3 && !tk_guards_errmsg(g)[0],
	       "and rewritten whole");
	tk_guards_free(g);

	/* no Guard-flagged relay at all */
	for (size_t i = 0; i < NN; i++)
		rts[i].flags &= ~(uint32_t)TK_RF_GUARD;
	g = tk_guards_new(NULL, 3, 0, now);
	k = tk_guards_pick(g, &table, &o, &rng, now, err, sizeof err);
	tap_ok(k == -1 && strstr(err, "Guard") != NULL,
	       "no guard possible: -1 with a reason (%s)", err);
	tk_guards_free(g);

	for (size_t i = 0; i < NN; i++)
		tk_microdesc_free(&mds[i]);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
