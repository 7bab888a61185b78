/* Guards per guard-spec, with a fake clock: the sample's bounds (count
 * and bandwidth share) under induced failures, primary guards and their
 * number from the consensus, confirmed order (and its survival across a
 * restart), the retry schedules, a guard coming back, unlisted and
 * expired members dropped, directory guards, the state-file lines (round
 * trip, unknown fields kept, damaged and excess lines refused) and the
 * state file's safe replacement: never written through a symlink
 * planted at its temporary name, fsync'd before the rename (fsync and
 * rename are wrapped, -Wl,--wrap in client.mk, to see the order). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/tap.h"
#include "onion/client/statefile.h"
#include "onion/guard/guards.h"
#include "onion/netdoc/consensus.h"

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
	if (n >= 6 && !strcmp(b + n - 6, "/state") &&
	    strlen(events) < sizeof events - 1)
		strcat(events, "R");
	return __real_rename(a, b);
}

#define NMAX 400
#define DAY 86400
static const struct tk_protoset relay12 = { .v[TK_PROTO_RELAY] = 0x6 };
static struct tk_router rts[NMAX];
static struct tk_microdesc mds[NMAX];
static struct tk_path_node nodes[NMAX];
static struct tk_consensus cons;
static struct tk_nodes table;
static struct tk_cons_param params[4];

static uint64_t splitmix(void *arg)
{
	uint64_t *s = arg;
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static uint64_t seed = 42;
static struct tk_path_rng rng = { splitmix, &seed };
static struct tk_path_opts o;

/* n relays, the first n_guard of them guards with every flag guard-spec
 * asks for; the others middles. */
static void make_net(size_t n, size_t n_guard)
{
	for (size_t i = 0; i < n; i++) {
		struct tk_router *r = &rts[i];
		snprintf(r->nickname, sizeof r->nickname, "relay%u", (unsigned)(i % 1000));
		memset(r->rsa_id, 0, 20);
		r->rsa_id[0] = (uint8_t)(i >> 8);
		r->rsa_id[1] = (uint8_t)i;
		r->rsa_id[2] = 0xaa;
		r->ipv4 = 0x0a000001 + (uint32_t)(i << 8);
		r->or_port = 9001;
		r->bandwidth = 1000;
		r->flags = TK_RF_RUNNING | TK_RF_VALID | TK_RF_FAST |
			   TK_RF_STABLE | TK_RF_V2DIR |
			   (i < n_guard ? TK_RF_GUARD : 0);
		r->protos = &relay12;
		tk_microdesc_free(&mds[i]);
		tk_microdesc_init(&mds[i]);
		nodes[i].rt = r;
		nodes[i].md = &mds[i];
	}
	cons.routers = rts;
	cons.n_routers = n;
	cons.valid_after++;
	cons.n_params = 0;
	cons.params = params;
	table.c = &cons;
	table.n = n;
	table.node = nodes;
	table.n_have = n;
}

/* A new consensus, as far as the guard layer can tell. */
static void new_consensus(void)
{
	cons.valid_after += 3600;
}

static tk_guards *fresh(void)
{
	tk_guards *g = tk_guards_new();
	struct tk_guard_params p;
	tk_guard_params_from_consensus(&p, &cons);
	tk_guards_set_params(g, &p);
	return g;
}

static long member_of_node(const tk_guards *g, long k)
{
	for (size_t i = 0; i < tk_guards_count(g); i++)
		if (!memcmp(tk_guards_rsa_id(g, i), rts[k].rsa_id, 20))
			return (long)i;
	return -1;
}

static long node_of_member(const tk_guards *g, size_t i)
{
	for (size_t k = 0; k < table.n; k++)
		if (!memcmp(tk_guards_rsa_id(g, i), rts[k].rsa_id, 20))
			return (long)k;
	return -1;
}

static long pick(tk_guards *g, int64_t now)
{
	char err[200];
	long k = tk_guards_pick(g, &table, &o, &rng, now, err, sizeof err);
	if (k < 0)
		printf("# pick: %s\n", err);
	return k;
}

static void test_sample_and_primary(void)
{
	int64_t now = 1800000000;
	tk_guards *g;
	size_t prim[8], np;
	long k;
	int same = 1;

	make_net(120, 80);
	g = fresh();
	k = pick(g, now);
	tap_ok(k >= 0, "a guard for the first circuit");
	tap_eq_long((long)tk_guards_count(g), 20,
		    "the sample holds MIN_FILTERED_SAMPLE (20) guards");
	np = tk_guards_primary(g, prim, 8);
	tap_eq_long((long)np, 3, "3 primary guards (N_PRIMARY_GUARDS)");
	tap_ok(np && node_of_member(g, prim[0]) == k,
	       "the circuit goes through the first primary guard");
	for (int i = 0; i < 50; i++)
		same &= pick(g, now + i) == k;
	tap_ok(same, "guard-n-primary-guards-to-use 1: always that one");
	for (size_t i = 0; i < tk_guards_count(g); i++) {
		int64_t s = tk_guards_sampled_on(g, i);
		if (s > now || s < now - 12 * DAY) {
			tap_ok(0, "sampled_on %lld in [now - lifetime/10, now]",
			       (long long)s);
			break;
		}
		if (i + 1 == tk_guards_count(g))
			tap_ok(1, "sampled_on dates set back by at most "
				  "GUARD_LIFETIME/10");
	}
	for (size_t i = 0; i < tk_guards_count(g); i++)
		if (node_of_member(g, i) >= 80) {
			tap_ok(0, "a non-guard was sampled");
			break;
		}

	/* The consensus asks for 2 primary guards in use (the real
	 * network's value): circuits spread over the first two. */
	strcpy(params[0].name, "guard-n-primary-guards-to-use");
	params[0].value = 2;
	cons.n_params = 1;
	{
		struct tk_guard_params p;
		int seen0 = 0, seen1 = 0, other = 0;
		tk_guard_params_from_consensus(&p, &cons);
		tk_guards_set_params(g, &p);
		for (int i = 0; i < 200; i++) {
			long x = pick(g, now);
			if (x == node_of_member(g, prim[0]))
				seen0++;
			else if (x == node_of_member(g, prim[1]))
				seen1++;
			else
				other++;
		}
		tap_ok(seen0 > 50 && seen1 > 50 && other == 0,
		       "guard-n-primary-guards-to-use=2: both of the first two "
		       "primary guards, no other (%d/%d/%d)",
		       seen0, seen1, other);
		cons.n_params = 0;
		tk_guard_params_from_consensus(&p, &cons);
		tk_guards_set_params(g, &p);
	}
	tk_guards_free(g);
}

static void test_failures_and_retries(void)
{
	int64_t now = 1800000000;
	tk_guards *g;
	size_t prim[3];
	long k, p0, p1, p2, x, y;

	make_net(120, 80);
	g = fresh();
	pick(g, now);
	tk_guards_primary(g, prim, 3);
	p0 = node_of_member(g, prim[0]);
	p1 = node_of_member(g, prim[1]);
	p2 = node_of_member(g, prim[2]);

	tk_guards_failed(g, rts[p0].rsa_id, now);
	k = pick(g, now + 1);
	tap_eq_long(k, p1, "first primary down: the second primary");
	tap_ok(tk_guards_is_down(g, prim[0], now + 599) &&
	       !tk_guards_is_down(g, prim[0], now + 601),
	       "a primary guard is retried after 10 minutes");
	k = pick(g, now + 601);
	tap_eq_long(k, p0, "the first primary guard comes back after 10 min");

	/* All three primaries down: an exploratory circuit through the
	 * next member in sample order, one at a time per guard. */
	tk_guards_failed(g, rts[p0].rsa_id, now + 700);
	tk_guards_failed(g, rts[p1].rsa_id, now + 700);
	tk_guards_failed(g, rts[p2].rsa_id, now + 700);
	x = pick(g, now + 701);
	y = pick(g, now + 702);
	tap_ok(x >= 0 && x != p0 && x != p1 && x != p2,
	       "all primary guards down: a non-primary guard");
	tap_ok(y >= 0 && y != x && y != p0 && y != p1 && y != p2,
	       "a second circuit meanwhile: another (the first is pending)");
	tap_ok(member_of_node(g, x) < member_of_node(g, y),
	       "in sample order");
	/* The exploratory guard failed: a non-primary waits an hour. */
	tk_guards_failed(g, rts[x].rsa_id, now + 703);
	tap_ok(tk_guards_is_down(g, (size_t)member_of_node(g, x),
				 now + 703 + 3599) &&
		       !tk_guards_is_down(g, (size_t)member_of_node(g, x),
					  now + 703 + 3601),
	       "a non-primary guard is retried after an hour");
	/* It works, and its circuit confirms it: it becomes primary,
	 * ahead of the unconfirmed ones. */
	tk_guards_succeeded(g, rts[y].rsa_id, now + 710);
	tk_guards_confirmed(g, rts[y].rsa_id, now + 710);
	pick(g, now + 711);
	tk_guards_primary(g, prim, 3);
	tap_ok(node_of_member(g, prim[0]) == y &&
	       tk_guards_confirmed_idx(g, prim[0]) == 0,
	       "a confirmed guard is the first primary guard");
	tap_ok(node_of_member(g, prim[1]) == p0 &&
	       node_of_member(g, prim[2]) == p1,
	       "the old primaries follow; the last one was displaced");
	tap_eq_long(pick(g, now + 712), y, "and carries the circuits");

	/* Failing for long: the schedule slows down (90 min after 6 h). */
	tk_guards_failed(g, rts[y].rsa_id, now + 1000);
	tk_guards_failed(g, rts[y].rsa_id, now + 1000 + 6 * 3600 + 10);
	{
		int64_t t = now + 1000 + 6 * 3600 + 10;
		tap_ok(tk_guards_is_down(g, prim[0], t + 89 * 60) &&
		       !tk_guards_is_down(g, prim[0], t + 91 * 60),
		       "failing for over 6 hours: a primary is retried every "
		       "90 minutes");
	}
	tk_guards_free(g);
}

static void test_sample_bounds(void)
{
	int64_t now = 1800000000;
	tk_guards *g;
	size_t max_seen = 0;
	int ok = 1;

	/* 80 guards of equal bandwidth: 20% of them is 16, under
	 * MIN_FILTERED_SAMPLE, so the bound is 20 however many fail. */
	make_net(120, 80);
	g = fresh();
	for (int i = 0; i < 500; i++) {
		long k = pick(g, now + i);
		if (k < 0)
			break;
		tk_guards_failed(g, rts[k].rsa_id, now + i);
		if (tk_guards_count(g) > max_seen)
			max_seen = tk_guards_count(g);
	}
	tap_eq_long((long)max_seen, 20,
		    "every pick failing: the sample stays at 20 (bandwidth "
		    "share bound)");
	tk_guards_free(g);

	/* 400 guards: 20% would be 80, MAX_SAMPLE_SIZE caps it at 60. */
	make_net(400, 400);
	g = fresh();
	max_seen = 0;
	for (int i = 0; i < 2000; i++) {
		long k = pick(g, now + i);
		if (k < 0) {
			ok = 0;
			break;
		}
		tk_guards_failed(g, rts[k].rsa_id, now + i);
		if (tk_guards_count(g) > max_seen)
			max_seen = tk_guards_count(g);
	}
	tap_ok(ok, "a guard is always found (all retried when all fail)");
	tap_eq_long((long)max_seen, 60,
		    "400 guards, all failing: the sample stops at "
		    "MAX_SAMPLE_SIZE (60)");
	/* and the consensus can lower it */
	tk_guards_free(g);
	strcpy(params[0].name, "guard-max-sample-size");
	params[0].value = 30;
	cons.n_params = 1;
	g = fresh();
	max_seen = 0;
	for (int i = 0; i < 500; i++) {
		long k = pick(g, now + i);
		if (k >= 0)
			tk_guards_failed(g, rts[k].rsa_id, now + i);
		if (tk_guards_count(g) > max_seen)
			max_seen = tk_guards_count(g);
	}
	tap_eq_long((long)max_seen, 30, "guard-max-sample-size=30 is obeyed");
	cons.n_params = 0;
	tk_guards_free(g);
}

static void test_unlisted_and_lifetime(void)
{
	int64_t now = 1800000000;
	tk_guards *g;
	size_t prim[3];
	long p0, m;
	uint8_t id[20];

	make_net(120, 80);
	g = fresh();
	pick(g, now);
	tk_guards_primary(g, prim, 3);
	p0 = node_of_member(g, prim[0]);
	memcpy(id, rts[p0].rsa_id, 20);
	/* p0 loses its Guard flag in the next consensus */
	rts[p0].flags &= ~(uint32_t)TK_RF_GUARD;
	new_consensus();
	tap_ok(pick(g, now + 10) != p0, "an unlisted guard is not used");
	m = member_of_node(g, p0);
	tap_ok(m >= 0 && tk_guards_unlisted_since(g, (size_t)m) <= now + 10 &&
	       tk_guards_unlisted_since(g, (size_t)m) >= now + 10 - 4 * DAY,
	       "it stays in the sample, unlisted since (randomised) now");
	new_consensus();
	pick(g, now + 15 * DAY);
	tap_ok(member_of_node(g, p0) >= 0, "still sampled after 15 days");
	new_consensus();
	pick(g, now + 25 * DAY);
	tap_ok(member_of_node(g, p0) < 0,
	       "unlisted over REMOVE_UNLISTED_GUARDS_AFTER: dropped");
	/* listed again: eligible once more, but not our member any more */
	rts[p0].flags |= TK_RF_GUARD;

	/* Lifetime: a member confirmed late outlives the others. */
	{
		long c = node_of_member(g, 5), orig[20];
		int left = 0;
		for (size_t i = 0; i < 20; i++)
			orig[i] = node_of_member(g, i);
		tk_guards_confirmed(g, rts[c].rsa_id, now + 100 * DAY);
		new_consensus();
		pick(g, now + 133 * DAY);
		tap_ok(member_of_node(g, c) >= 0,
		       "sampled 133 days ago but confirmed recently: kept");
		for (size_t i = 0; i < 20; i++)
			if (orig[i] != c && tk_guards_sampled_on(g, 0) &&
			    member_of_node(g, orig[i]) >= 0 &&
			    tk_guards_sampled_on(
				    g, (size_t)member_of_node(g, orig[i])) <
				    now + DAY)
				left++;
		tap_ok(tk_guards_count(g) == 20 && left == 0,
		       "the others, older than GUARD_LIFETIME, were replaced "
		       "(%zu members, %d old left)",
		       tk_guards_count(g), left);
		new_consensus();
		pick(g, now + 175 * DAY);
		tap_ok(member_of_node(g, c) < 0,
		       "past GUARD_CONFIRMED_MIN_LIFETIME too: dropped");
	}
	tk_guards_free(g);
}

static void test_beside_and_dir(void)
{
	int64_t now = 1800000000;
	tk_guards *g;
	size_t prim[3];
	char err[200];
	long k;
	int seen[3] = { 0 }, other = 0;

	make_net(120, 80);
	g = fresh();
	pick(g, now);
	tk_guards_primary(g, prim, 3);
	k = tk_guards_pick_beside(g, &table, &o, &rng, now,
				  node_of_member(g, prim[0]), err, sizeof err);
	tap_eq_long(k, node_of_member(g, prim[1]),
		    "the exit is our first primary guard: the second serves");
	/* a guard already in use (a stalled one) may serve though not
	 * primary: sampled, listed, not down, not the exit */
	{
		long np_node = node_of_member(g, 10);
		tap_ok(tk_guards_usable(g, &table, &o, now, rts[np_node].rsa_id,
					-1),
		       "a non-primary member not down is usable on demand");
		tap_ok(!tk_guards_usable(g, &table, &o, now,
					 rts[np_node].rsa_id, np_node),
		       "but not beside itself as the exit");
		tk_guards_failed(g, rts[np_node].rsa_id, now);
		tap_ok(!tk_guards_usable(g, &table, &o, now + 1,
					 rts[np_node].rsa_id, -1),
		       "nor while down");
		tap_ok(!tk_guards_usable(g, &table, &o, now, rts[100].rsa_id,
					 -1),
		       "a relay outside the sample is not");
	}
	for (int i = 0; i < 300; i++) {
		long d = tk_guards_pick_dir(g, &table, &o, &rng, now, err,
					    sizeof err);
		int hit = 0;
		for (int j = 0; j < 3; j++)
			if (d == node_of_member(g, prim[j]))
				seen[j]++, hit = 1;
		other += !hit;
	}
	tap_ok(seen[0] && seen[1] && seen[2] && !other,
	       "directory guards: among the 3 primary guards "
	       "(guard-n-primary-dir-guards-to-use) (%d/%d/%d/%d)",
	       seen[0], seen[1], seen[2], other);
	tk_guards_free(g);
}

static void test_state_lines(const char *dir)
{
	int64_t now = 1800000000;
	tk_guards *g, *g2;
	char *text, *text2, err[200], path[160];
	size_t prim[3], prim2[3];
	int same = 1;
	FILE *f;

	make_net(120, 80);
	g = fresh();
	pick(g, now);
	tk_guards_confirmed(g, tk_guards_rsa_id(g, 7), now);
	tk_guards_confirmed(g, tk_guards_rsa_id(g, 3), now);
	pick(g, now);
	tk_guards_primary(g, prim, 3);
	tap_ok(tk_guards_dirty(g), "the sample changed: to be saved");
	snprintf(path, sizeof path, "%s/state", dir);
	events[0] = '\0';
	tap_eq_long(tk_statefile_save(path, g, NULL, now, err, sizeof err), 0,
		    "state file written");
	tap_ok(strstr(events, "FR") != NULL,
	       "fsync before the rename (%s)", events);
	tap_ok(!tk_guards_dirty(g), "clean once saved");

	g2 = tk_guards_new();
	tap_eq_long(tk_statefile_load(path, g2, NULL, NULL, NULL, err,
				      sizeof err),
		    0, "state file read back");
	tap_eq_long((long)tk_guards_count(g2), 20, "all 20 members");
	for (size_t i = 0; i < 20; i++)
		same &= !memcmp(tk_guards_rsa_id(g, i), tk_guards_rsa_id(g2, i),
				20) &&
			tk_guards_sampled_on(g, i) == tk_guards_sampled_on(g2, i) &&
			tk_guards_confirmed_idx(g, i) ==
				tk_guards_confirmed_idx(g2, i) &&
			!strcmp(tk_guards_nickname(g, i),
				tk_guards_nickname(g2, i));
	tap_ok(same, "same members, order, dates, nicknames, confirmed "
		     "order");
	tap_eq_long(tk_guards_confirmed_idx(g2, 7), 0,
		    "confirmed order survives the restart");
	pick(g2, now + 60);
	tk_guards_primary(g2, prim2, 3);
	tap_ok(!memcmp(prim, prim2, sizeof prim),
	       "and the primary guards are the same after the restart");
	text = tk_guards_state_text(g);
	text2 = tk_guards_state_text(g2);
	tap_ok(text && text2 && !strcmp(text, text2),
	       "the lines are written back the same");
	tap_ok(text && !strncmp(text, "Guard in=default rsa_id=", 24) &&
	       strstr(text, " sampled_on=") && strstr(text, " listed=1") &&
	       strstr(text, " confirmed_idx=0"),
	       "tor's Guard K=V fields");
	free(text);
	free(text2);
	tk_guards_free(g2);
	tk_guards_free(g);

	/* A line as tor writes it, unknown fields, another instance */
	g = tk_guards_new();
	tap_eq_long(tk_guards_load_line(
			    g,
			    "in=default rsa_id="
			    "0102030405060708090A0B0C0D0E0F1011121314 "
			    "nickname=abc sampled_on=2016-11-29T19:39:31 "
			    "sampled_by=0.4.8.10 listed=1 pb_use_attempts=3.0 "
			    "pb_circ_successes=2.5",
			    err, sizeof err),
		    0, "tor's line accepted");
	tap_eq_long(tk_guards_sampled_on(g, 0), 1480448371,
		    "its date read as UTC");
	tap_eq_long(tk_guards_load_line(g,
					"in=bridges rsa_id="
					"AA02030405060708090A0B0C0D0E0F1011121314 "
					"bridge_addr=1.2.3.4:5 sampled_on="
					"2016-11-29T19:39:31 listed=1",
					err, sizeof err),
		    0, "another instance's line accepted");
	tap_eq_long((long)tk_guards_count(g), 1, "but not a member");
	text = tk_guards_state_text(g);
	tap_ok(text && strstr(text, "pb_use_attempts=3.0 pb_circ_successes=2.5") &&
	       strstr(text, "Guard in=bridges rsa_id=AA02") &&
	       strstr(text, "sampled_on=2016-11-29T19:39:31"),
	       "unknown fields and other instances are written back");
	free(text);
	tap_ok(tk_guards_load_line(g, "in=default rsa_id=zz sampled_on=x",
				   err, sizeof err) < 0,
	       "a damaged line is refused (%s)", err);
	tap_ok(tk_guards_load_line(g,
				   "in=default rsa_id="
				   "0102030405060708090A0B0C0D0E0F1011121314 "
				   "sampled_on=2016-11-29T19:39:31",
				   err, sizeof err) < 0,
	       "a member twice is refused (%s)", err);
	tap_ok(tk_guards_load_line(g,
				   "in=default rsa_id="
				   "0102030405060708090A0B0C0D0E0F1011121399 "
				   "sampled_on=2016-13-29T19:39:31",
				   err, sizeof err) < 0,
	       "a bad date is refused (%s)", err);
	tk_guards_free(g);

	/* Bounds: 300 member lines and 100 foreign ones */
	f = fopen(path, "w");
	for (int i = 0; f && i < 300; i++)
		fprintf(f,
			"Guard in=default rsa_id=%08X0000000000000000000000000000"
			"0000 sampled_on=2026-01-01T00:00:00 listed=1\n",
			(unsigned)i);
	for (int i = 0; f && i < 100; i++)
		fprintf(f,
			"Guard in=restricted rsa_id=%08X00000000000000000000000"
			"000000000 sampled_on=2026-01-01T00:00:00 listed=1\n",
			(unsigned)i);
	if (f)
		fclose(f);
	g = tk_guards_new();
	tk_statefile_load(path, g, NULL, NULL, NULL, err, sizeof err);
	tap_eq_long((long)tk_guards_count(g), TK_GUARDS_MAX,
		    "a state file holds at most TK_GUARDS_MAX members");
	text = tk_guards_state_text(g);
	{
		int n_other = 0;
		for (char *p = text; p && (p = strstr(p, "in=restricted"));
		     p++)
			n_other++;
		tap_eq_long(n_other, TK_GUARDS_MAX_OTHER,
			    "and TK_GUARDS_MAX_OTHER foreign lines");
	}
	free(text);
	tk_guards_free(g);

	{
		/* someone planted a symlink at the temporary name */
		char victim[200], tmp[200];
		make_net(120, 80);
		g = fresh();
		pick(g, now);
		snprintf(victim, sizeof victim, "%s/victim", dir);
		snprintf(tmp, sizeof tmp, "%s.tmp", path);
		f = fopen(victim, "w");
		if (f) {
			fputs("precious\n", f);
			fclose(f);
		}
		unlink(tmp);
		tap_ok(symlink(victim, tmp) == 0, "symlink planted");
		tk_statefile_save(path, g, NULL, now, err, sizeof err);
		f = fopen(victim, "r");
		{
			char buf[32] = "";
			if (f) {
				if (!fgets(buf, sizeof buf, f))
					buf[0] = '\0';
				fclose(f);
			}
			tap_ok(!strcmp(buf, "precious\n"),
			       "the symlink's target is untouched");
		}
		unlink(victim);
		unlink(tmp);
		tk_guards_free(g);
	}
	unlink(path);
}

int main(void)
{
	char dir[] = "/tmp/tk-guards-XXXXXX";

	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	tk_path_opts_init(&o);
	o.enforce_distinct_subnets = 0;
	test_sample_and_primary();
	test_failures_and_retries();
	test_sample_bounds();
	test_unlisted_and_lifetime();
	test_beside_and_dir();
	test_state_lines(dir);
	for (size_t i = 0; i < NMAX; i++)
		tk_microdesc_free(&mds[i]);
	rmdir(dir);
	return tap_done();
}
