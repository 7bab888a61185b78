/* circ_pool.h: clean internal circuits kept for onion services, and
 * handed out extended by one hop or as they are. */
#include "onion/client/circ_pool.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "onion/client/ocirc.h"
#include "onion/netdir/nodes.h"
#include "onion/netdir/path.h"

#define TICK_MS 1000
/* tor predicts onion use for an hour after the last (path-spec 2.1.1:
 * no requests for an hour, no preemptive circuits). */
#define PREDICT_MS (3600 * 1000)
/* A pool circuit left unused this long is replaced: its guard and
 * middle may have left the consensus since. */
#define MAX_AGE_MS (3600 * 1000)
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000

struct entry {
	tk_ocirc *oc;
	int open;
};

struct tk_circ_pool {
	tk_circmgr *cm;
	unsigned want;
	struct entry e[TK_CIRC_POOL_MAX];
	size_t n;
	int used;	  /* onion use seen */
	uint64_t used_at; /* uv_now ms of the last */
	unsigned fails;	  /* builds failed in a row */
	uint64_t retry_at;
	uv_timer_t *timer;
};

static uint64_t
now_ms(const tk_circ_pool *p)
{
	return uv_now(tk_circmgr_loop(p->cm));
}

static void
drop(tk_circ_pool *p, size_t i)
{
	p->e[i] = p->e[--p->n];
}

static long
find(const tk_circ_pool *p, const tk_ocirc *oc)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->e[i].oc == oc)
			return (long)i;
	return -1;
}

static void refill(tk_circ_pool *p);

static void
on_event(void *arg, tk_ocirc *oc, int ev, const char *why)
{
	tk_circ_pool *p = arg;
	long i = find(p, oc);
	(void)why;
	if (i < 0)
		return;
	if (ev == TK_OCIRC_EV_BUILT) {
		p->e[i].open = 1;
		p->fails = 0;
		return;
	}
	drop(p, (size_t)i);
	if (ev == TK_OCIRC_EV_FAILED) {
		/* No guard reachable would make this a busy loop. */
		uint64_t d = BACKOFF_MIN_MS;
		for (unsigned k = 0; k < p->fails && d < BACKOFF_MAX_MS; k++)
			d *= 2;
		p->fails++;
		p->retry_at = now_ms(p) +
			      (d < BACKOFF_MAX_MS ? d : BACKOFF_MAX_MS);
	}
	refill(p);
}

static int
predicted(const tk_circ_pool *p, uint64_t now)
{
	return p->used && now - p->used_at < PREDICT_MS;
}

/* Builds until `want` are open or building. */
static void
refill(tk_circ_pool *p)
{
	uint64_t now = now_ms(p);
	char err[200];
	if (!predicted(p, now) || now < p->retry_at || tk_circmgr_dying(p->cm))
		return;
	while (p->n < p->want) {
		tk_ocirc *oc;
		if (tk_circmgr_build_to(p->cm, NULL, NULL, on_event, p, &oc,
					err, sizeof err) != 0) {
			p->retry_at = now + BACKOFF_MIN_MS; /* no directory */
			return;
		}
		p->e[p->n].oc = oc;
		p->e[p->n].open = 0;
		p->n++;
	}
}

static void
on_tick(uv_timer_t *t)
{
	tk_circ_pool *p = t->data;
	uint64_t now = now_ms(p);
	int keep = predicted(p, now);
	for (size_t i = 0; i < p->n;) {
		tk_ocirc *oc = p->e[i].oc;
		if (!keep ||
		    (p->e[i].open && now - oc->built_at >= MAX_AGE_MS)) {
			drop(p, i);
			tk_ocirc_close(oc);
			continue;
		}
		i++;
	}
	refill(p);
}

tk_circ_pool *
tk_circ_pool_new(tk_circmgr *cm, unsigned want)
{
	tk_circ_pool *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->timer = calloc(1, sizeof *p->timer);
	if (!p->timer) {
		free(p);
		return NULL;
	}
	p->cm = cm;
	p->want = want < TK_CIRC_POOL_MAX ? want : TK_CIRC_POOL_MAX;
	uv_timer_init(tk_circmgr_loop(cm), p->timer);
	p->timer->data = p;
	uv_timer_start(p->timer, on_tick, TICK_MS, TICK_MS);
	uv_unref((uv_handle_t *)p->timer);
	return p;
}

static void
timer_closed(uv_handle_t *h)
{
	free(h);
}

void
tk_circ_pool_free(tk_circ_pool *p)
{
	if (!p)
		return;
	/* a dying manager closes every circuit itself */
	if (!tk_circmgr_dying(p->cm))
		for (size_t i = 0; i < p->n; i++)
			tk_ocirc_close(p->e[i].oc);
	uv_close((uv_handle_t *)p->timer, timer_closed);
	free(p);
}

void
tk_circ_pool_note_use(tk_circ_pool *p)
{
	if (!p)
		return;
	p->used = 1;
	p->used_at = now_ms(p);
	refill(p);
}

/* A relay as tk_path_conflict sees it: the node table's entry, or, for
 * a relay it does not list (an introduction point), its identity and
 * address alone (no family then). */
static struct tk_path_node
as_node(const struct tk_nodes *t, const tk_circuit_hop_target *h,
	struct tk_router *scratch)
{
	struct tk_path_node n = { NULL, NULL };
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&h->addr;
	long k = t ? tk_nodes_find(t, h->rsa_id) : -1;
	if (k >= 0)
		return t->node[k];
	memset(scratch, 0, sizeof *scratch);
	memcpy(scratch->rsa_id, h->rsa_id, 20);
	if (h->addr.ss_family == AF_INET)
		scratch->ipv4 = ntohl(sin->sin_addr.s_addr);
	n.rt = scratch;
	return n;
}

/* 1 if last may be added to oc: no hop of oc is last's relay, its
 * family, or (enforced) its subnet. */
static int
fits(const tk_circ_pool *p, const tk_ocirc *oc,
     const tk_circuit_hop_target *last)
{
	const struct tk_nodes *t = tk_circmgr_nodes(p->cm);
	struct tk_path_opts po;
	struct tk_router rx, rh;
	struct tk_path_node x, h;

	if (!last)
		return 1;
	if (oc->n_hops >= TK_OCIRC_MAX_HOPS)
		return 0;
	tk_path_opts_init(&po);
	po.enforce_distinct_subnets = tk_circmgr_distinct_subnets(p->cm);
	x = as_node(t, last, &rx);
	/* a building circuit's hops are all chosen already */
	int nh = oc->state == TK_OCIRC_BUILDING ? 3 : oc->n_hops;
	for (int i = 0; i < nh; i++) {
		h = as_node(t, &oc->hop[i], &rh);
		if (tk_path_conflict(&x, &h, &po))
			return 0;
	}
	return 1;
}

int
tk_circ_pool_take(tk_circ_pool *p, const tk_circuit_hop_target *last,
		  const char *nick,
		  void (*ev)(void *arg, tk_ocirc *oc, int event,
			     const char *why),
		  void *arg, tk_ocirc **out)
{
	*out = NULL;
	if (!p)
		return -1;
	tk_circ_pool_note_use(p);
	for (size_t i = 0; i < p->n;) {
		tk_ocirc *oc = p->e[i].oc;
		if (!p->e[i].open || !fits(p, oc, last)) {
			i++;
			continue;
		}
		drop(p, i);
		if (tk_ocirc_adopt(oc, last, nick, ev, arg) != 0) {
			tk_ocirc_close(oc); /* retired: of no use now */
			continue;
		}
		*out = oc;
		refill(p);
		return 0;
	}
	return -1;
}

/* Hops built of a circuit worth waiting for to extend: all but its
 * last. */
#define WAIT_EXTEND_MIN_HOPS 2

int
tk_circ_pool_take_or_wait(tk_circ_pool *p, const tk_circuit_hop_target *last,
			  const char *nick,
			  void (*ev)(void *arg, tk_ocirc *oc, int event,
				     const char *why),
			  void *arg, tk_ocirc **out, int *building)
{
	long best = -1;
	*building = 0;
	if (tk_circ_pool_take(p, last, nick, ev, arg, out) == 0 || !p)
		return *out ? 0 : -1;
	for (size_t i = 0; i < p->n; i++) {
		const tk_ocirc *oc = p->e[i].oc;
		if (p->e[i].open || oc->closed ||
		    oc->state != TK_OCIRC_BUILDING)
			continue;
		if (last &&
		    (oc->n_hops < WAIT_EXTEND_MIN_HOPS || !fits(p, oc, last)))
			continue;
		/* the most advanced, then the one launched first */
		if (best < 0 || oc->n_hops > p->e[best].oc->n_hops ||
		    (oc->n_hops == p->e[best].oc->n_hops &&
		     oc->started < p->e[best].oc->started))
			best = (long)i;
	}
	if (best < 0)
		return -1;
	*out = p->e[best].oc;
	drop(p, (size_t)best);
	(*out)->owner_ev = ev;
	(*out)->owner_arg = arg;
	*building = 1;
	refill(p);
	return 0;
}

size_t
tk_circ_pool_ready(const tk_circ_pool *p)
{
	size_t n = 0;
	for (size_t i = 0; p && i < p->n; i++)
		n += p->e[i].open != 0;
	return n;
}

size_t
tk_circ_pool_size(const tk_circ_pool *p)
{
	return p ? p->n : 0;
}
