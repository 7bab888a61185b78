/* admit.c — see admit.h.
 *
 * MaxClients is one shared atomic count, not a share per loop:
 * SO_REUSEPORT spreads clients by a hash of their addresses and ports,
 * so one loop may hold many more than another, and a share would
 * refuse clients on a busy loop while the daemon as a whole has room
 * (and cannot divide a MaxClients smaller than the number of loops).
 * A client is counted from here to its close (session.c).
 *
 * When MaxClients is reached, the oldest lingering session of all makes
 * room (session_shed.c; each loop publishes since when its oldest one
 * lingers, on uv_hrtime's clock). Sessions belong to their loop's
 * thread, so when that one is another loop's, that loop is asked
 * through its wake-up (uv_async) to close it, and the new client waits,
 * parked, until a wake-up says room was made, or PARK_MS at most. */
#include "daemon/admit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/addrcount.h"
#include "daemon/log.h"

/* How long a parked client waits for another loop to make room. */
#define PARK_MS 1000

struct tk_parked {
	struct tk_parked *next;
	uv_stream_t *client;
	struct tk_port_info pi;
	char peer[128];
};

/* Held while a wake-up is sent or closed: no uv_async_send to a loop
 * whose handle is going. */
static pthread_mutex_t wake_lock = PTHREAD_MUTEX_INITIALIZER;

static int
count_one(struct tk_server *srv)
{
	unsigned max = srv->cfg->max_clients;
	unsigned n = atomic_load_explicit(srv->clients_all,
					  memory_order_relaxed);

	do
		if (n >= max)
			return 0;
	while (!atomic_compare_exchange_weak(srv->clients_all, &n, n + 1));
	return 1;
}

static void
refuse_full(struct tk_server *srv, uv_stream_t *client)
{
	uint64_t now = uv_now(srv->loop);

	srv->refused_full++;
	if (now - srv->last_full_log >= 5000 || srv->last_full_log == 0) {
		tk_warn("MaxClients (%u) reached: refusing new connections "
			"(%llu so far)",
			srv->cfg->max_clients,
			(unsigned long long)srv->refused_full);
		srv->last_full_log = now;
	}
	tk_session_free_handle(client);
}

static void
wake(struct tk_server *to)
{
	pthread_mutex_lock(&wake_lock);
	if (to->wake_open)
		uv_async_send(&to->wake);
	pthread_mutex_unlock(&wake_lock);
}

/* The other loop whose oldest lingering session is the oldest of all,
 * and since when it lingers; NULL if none has one. */
static struct tk_server *
oldest_elsewhere(struct tk_server *srv, uint64_t *since)
{
	struct tk_server *best = NULL;

	for (unsigned i = 0; srv->all != NULL && i < srv->n_loops; i++) {
		struct tk_server *o = srv->all[i];
		uint64_t t = atomic_load_explicit(&o->linger_oldest,
						  memory_order_relaxed);

		if (o == srv || t == 0 || (best != NULL && t >= *since))
			continue;
		best = o;
		*since = t;
	}
	return best;
}

/* Counted in clients_all already: MaxClientsPerAddress, then start. */
static void
start_counted(struct tk_server *srv, uv_stream_t *client,
	      const struct tk_port_info *pi, const char *peer)
{
	int rc = tk_addrcount_take(pi->family, pi->addr,
				   srv->cfg->max_clients_per_address);

	if (rc <= 0) {
		uint64_t now = uv_now(srv->loop);

		atomic_fetch_sub(srv->clients_all, 1);
		if (rc == 0 && (now - srv->last_full_log >= 5000 ||
				srv->last_full_log == 0)) {
			tk_warn("MaxClientsPerAddress (%u) reached for %s: "
				"refusing its new connections",
				srv->cfg->max_clients_per_address,
				tk_dlog_safe(peer));
			srv->last_full_log = now;
		}
		tk_session_free_handle(client);
		return;
	}
	tk_session_start(srv, client, pi, peer);
}

static void park_expired(uv_timer_t *t);

/* Ask loop o to close its oldest lingering session; the client waits
 * here meanwhile. 0: it cannot wait. */
static int
park(struct tk_server *srv, uv_stream_t *client, const struct tk_port_info *pi,
     const char *peer, struct tk_server *o)
{
	struct tk_parked *p;

	if (!srv->wake_open || srv->stopping)
		return 0;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return 0;
	p->client = client;
	p->pi = *pi;
	strncpy(p->peer, peer, sizeof(p->peer) - 1);
	p->next = srv->parked;
	srv->parked = p;
	/* Counted as parked before the other loop is woken: once it has
	 * made room it wakes only loops that show a parked client. */
	atomic_fetch_add(&srv->parked_stat, 1);
	atomic_fetch_add(&o->shed_wanted, 1);
	wake(o);
	if (!uv_is_active((uv_handle_t *)&srv->park_timer))
		uv_timer_start(&srv->park_timer, park_expired, PARK_MS, 0);
	return 1;
}

void
tk_admit(struct tk_server *srv, uv_stream_t *client,
	 const struct tk_port_info *pi, const char *peer)
{
	struct tk_server *o;
	uint64_t own, other = 0;

	if (count_one(srv)) {
		start_counted(srv, client, pi, peer);
		return;
	}
	/* MaxClients: the oldest lingering session of all makes room, on
	 * this loop or another; else refuse at once rather than stop
	 * accepting, so one flood of idle clients cannot make the port
	 * look dead and the loop never waits on anything. */
	own = atomic_load_explicit(&srv->linger_oldest, memory_order_relaxed);
	o = oldest_elsewhere(srv, &other);
	if (o != NULL && (own == 0 || other < own)) {
		if (park(srv, client, pi, peer, o))
			return;
	} else if (tk_sessions_shed_lingering(srv, 1, "MaxClients reached") >
			   0 &&
		   count_one(srv)) {
		start_counted(srv, client, pi, peer);
		return;
	}
	refuse_full(srv, client);
}

/* Parked clients: start those there is room for now; with `expire`,
 * refuse the rest. */
static void
retry_parked(struct tk_server *srv, int expire)
{
	struct tk_parked **pp = &srv->parked, *p;

	while ((p = *pp) != NULL) {
		if (count_one(srv)) {
			*pp = p->next;
			start_counted(srv, p->client, &p->pi, p->peer);
		} else if (expire) {
			*pp = p->next;
			refuse_full(srv, p->client);
		} else {
			pp = &p->next;
			continue;
		}
		atomic_fetch_sub(&srv->parked_stat, 1);
		free(p);
	}
	if (srv->parked == NULL)
		uv_timer_stop(&srv->park_timer);
}

static void
wake_cb(uv_async_t *a)
{
	struct tk_server *srv = a->data;
	unsigned n = atomic_exchange(&srv->shed_wanted, 0);

	if (n > 0 &&
	    tk_sessions_shed_lingering(srv, n, "MaxClients reached") > 0) {
		/* Room made: whoever parked a client may take it. */
		for (unsigned i = 0; srv->all != NULL && i < srv->n_loops; i++)
			if (atomic_load(&srv->all[i]->parked_stat) > 0)
				wake(srv->all[i]);
	}
	retry_parked(srv, 0);
}

static void
park_expired(uv_timer_t *t)
{
	retry_parked(t->data, 1);
}

void
tk_admit_loop_open(struct tk_server *srv)
{
	if (srv->all == NULL || srv->wake_open)
		return;
	uv_async_init(srv->loop, &srv->wake, wake_cb);
	srv->wake.data = srv;
	uv_timer_init(srv->loop, &srv->park_timer);
	srv->park_timer.data = srv;
	pthread_mutex_lock(&wake_lock);
	srv->wake_open = 1;
	pthread_mutex_unlock(&wake_lock);
}

void
tk_admit_loop_close(struct tk_server *srv)
{
	if (!srv->wake_open)
		return;
	pthread_mutex_lock(&wake_lock);
	srv->wake_open = 0;
	pthread_mutex_unlock(&wake_lock);
	retry_parked(srv, 1);
	uv_close((uv_handle_t *)&srv->wake, NULL);
	uv_close((uv_handle_t *)&srv->park_timer, NULL);
}
