/* session_shed.c — which sessions go first when memory, descriptors or
 * MaxClients run short.
 *
 * Memory: every relay queue counts what it holds (relayq.h) and the
 * engine counts what it queues for its streams; past MaxMemInQueues the
 * sessions are closed, lingering ones first, then those holding the
 * most, until 3/4 of the limit is held (as Tor's OOM handler brings its
 * queues down to its low threshold). The check runs after every read
 * that adds to a queue and once a second for what the engine queues by
 * itself. Descriptors and MaxClients: listener.c closes the oldest
 * lingering session to make room for a new client. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/log.h"
#include "daemon/relayq.h"
#include "daemon/server.h"
#include "daemon/session_int.h"

#define MIB ((size_t)1 << 20)
#define CHECK_MS 1000

/* Bytes held for s: its relay queues and the engine's for its stream. */
static size_t
session_held(const struct tk_session *s)
{
	size_t n = s->up.held + s->down.held;

	if (s->stream != NULL && s->stream->engine->ops->stream_held != NULL)
		n += s->stream->engine->ops->stream_held(s->stream);
	return n;
}

static size_t
engine_held(const struct tk_server *srv)
{
	const struct tk_engine *e = srv->engine;

	return e != NULL && e->ops->held != NULL ? e->ops->held(e) : 0;
}

void
tk_pressure_configure(struct tk_server *srv)
{
	uint64_t v = srv->cfg->max_mem_in_queues;

	if (v == 0) {
		/* A quarter of the machine's memory, between 64 MiB and
		 * 1 GiB: a client needs far less than a relay (Tor's
		 * default is 3/4 of it, up to 8 GiB). */
		long pages = sysconf(_SC_PHYS_PAGES),
		     psz = sysconf(_SC_PAGESIZE);
		uint64_t ram = pages > 0 && psz > 0
				       ? (uint64_t)pages * (uint64_t)psz
				       : (uint64_t)1 << 30;

		v = ram / 4;
		if (v > 1024 * MIB)
			v = 1024 * MIB;
		if (v < 64 * MIB)
			v = 64 * MIB;
	}
	/* Each loop checks what its own sessions hold against its share
	 * (NumCPUs): no lock on the data path. */
	srv->mem_limit_all = v > SIZE_MAX ? SIZE_MAX : (size_t)v;
	if (srv->n_loops > 1)
		v /= srv->n_loops;
	srv->mem_limit = v > SIZE_MAX ? SIZE_MAX : (size_t)v;
}

struct victim {
	struct tk_session *s;
	size_t held;
};

static int
by_held_desc(const void *a, const void *b)
{
	const struct victim *x = a, *y = b;

	return x->held < y->held ? 1 : x->held > y->held ? -1 : 0;
}

void
tk_mem_check(struct tk_server *srv)
{
	size_t total = tk_relayq_total() + engine_held(srv);
	size_t goal = srv->mem_limit / 4 * 3, freed = 0, n = 0, i;
	unsigned closed = 0, lingering = 0;
	struct victim *v;
	struct tk_session *s, *next;

	if (total <= srv->mem_limit || srv->stopping)
		return;
	/* Lingering sessions first, oldest first. */
	for (s = srv->linger_head; s != NULL && total - freed > goal;
	     s = next) {
		size_t h = session_held(s);

		next = s->lnext;
		if (h == 0)
			continue;
		freed += h;
		closed++;
		lingering++;
		tk__session_close(s);
	}
	if (total - freed > goal) {
		v = malloc(srv->n_clients * sizeof(*v) + 1);
		for (s = srv->sessions; v != NULL && s != NULL; s = s->next)
			v[n++] = (struct victim){ s, session_held(s) };
		if (v != NULL)
			qsort(v, n, sizeof(*v), by_held_desc);
		for (i = 0; i < n && total - freed > goal && v[i].held > 0;
		     i++) {
			freed += v[i].held;
			closed++;
			tk__session_close(v[i].s);
		}
		free(v);
	}
	if (srv->n_loops > 1)
		tk_warn("MaxMemInQueues (%zu bytes) exceeded: %zu bytes queued; "
			"closed %u connections (%u lingering) holding %zu "
			"bytes, largest first (loop %u of %u, whose share is "
			"%zu bytes)",
			srv->mem_limit_all, total, closed, lingering, freed,
			srv->loop_id, srv->n_loops, srv->mem_limit);
	else
		tk_warn("MaxMemInQueues (%zu bytes) exceeded: %zu bytes "
			"queued; closed %u connections (%u lingering) holding "
			"%zu bytes, largest first",
			srv->mem_limit, total, closed, lingering, freed);
}

unsigned
tk_sessions_shed_lingering(struct tk_server *srv, unsigned n, const char *why)
{
	unsigned closed = 0;
	uint64_t now;

	while (closed < n && srv->linger_head != NULL) {
		tk__session_close(srv->linger_head);
		closed++;
	}
	now = uv_now(srv->loop);
	if (closed > 0 &&
	    (now - srv->last_shed_log >= 5000 || srv->last_shed_log == 0)) {
		tk_notice("%s: closed the oldest lingering connection to make "
			  "room for a new client (%u lingering left)",
			  why, srv->n_lingering);
		srv->last_shed_log = now;
	}
	return closed;
}

static void
pressure_tick(uv_timer_t *t)
{
	tk_mem_check(t->data);
}

void
tk_pressure_start(struct tk_server *srv)
{
	uv_timer_init(srv->loop, &srv->pressure_timer);
	srv->pressure_timer.data = srv;
	uv_unref((uv_handle_t *)&srv->pressure_timer);
	uv_timer_start(&srv->pressure_timer, pressure_tick, CHECK_MS, CHECK_MS);
	srv->pressure_timer_open = 1;
}

void
tk_pressure_stop(struct tk_server *srv)
{
	if (srv->pressure_timer_open) {
		uv_close((uv_handle_t *)&srv->pressure_timer, NULL);
		srv->pressure_timer_open = 0;
	}
}
