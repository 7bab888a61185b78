/* server.h — the running daemon: listeners, sessions, the engine. */
#ifndef TK_DAEMON_SERVER_H
#define TK_DAEMON_SERVER_H

#include <stdatomic.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/conf.h"
#include "daemon/engine.h"

struct tk_session;
struct tk_listener;
struct tk_parked;

/* One per event loop (NumCPUs, loops.c): the main loop's, which also
 * owns signals, the ControlPort and the configuration, and one per
 * worker thread. Nothing here is touched by another loop's thread but
 * the atomics and what loops.c reads while the others are held. */
struct tk_server {
	uv_loop_t *loop;
	unsigned loop_id; /* 0: the main loop */
	unsigned n_loops; /* how many loops run (MaxMemInQueues' share) */
	/* Live clients of every loop, shared (MaxClients): a client is
	 * counted from its admission (listener.c) to its close. */
	atomic_uint *clients_all;
	atomic_uint clients_own; /* live clients, for statistics */
	atomic_ullong accepted;	 /* clients admitted since start */
	/* Making room across loops (admit.c): every loop's server (NULL
	 * with one loop), this one's wake-up, the lingering sessions it
	 * could close for another, and its clients waiting for room. */
	struct tk_server *const *all;
	uv_async_t wake;
	int wake_open;
	atomic_uint shed_wanted;
	atomic_uint lingering_stat;
	atomic_ullong linger_oldest; /* uv_hrtime; 0: none lingers */
	atomic_uint parked_stat;
	struct tk_parked *parked;
	uv_timer_t park_timer;
	struct tk_config *cfg; /* current configuration */
	struct tk_engine *engine;
	struct tk_listener *listeners;
	struct tk_session *sessions; /* every live client */
	unsigned n_clients;
	uint32_t next_listener_id;
	int stopping;
	uint64_t refused_full;	/* MaxClients refusals, for logs */
	uint64_t last_full_log; /* uv_now of the last such log */
	uint64_t last_fd_log;	/* ... of the last fd shortage log */
	uint64_t last_shed_log; /* ... of the last "lingering closed" log */
	/* Lingering sessions, oldest first (session.c): the first to go
	 * when descriptors, MaxClients or memory run short. */
	struct tk_session *linger_head, *linger_tail;
	unsigned n_lingering;
	size_t mem_limit;     /* this loop's share of MaxMemInQueues */
	size_t mem_limit_all; /* MaxMemInQueues in bytes, resolved */
	void (*mem_grew)(struct tk_server *srv); /* after a queue grew */
	uv_timer_t pressure_timer;
	int pressure_timer_open;
};

/* Open the listeners cfg names that are not open yet, close the ones it
 * no longer names, and update the flags of the others. At startup
 * (`strict`) any failure is fatal: -1. On reload failures are logged and
 * the rest applied. */
int tk_listeners_apply(struct tk_server *srv, const struct tk_config *cfg,
		       int strict);
void tk_listeners_close_all(struct tk_server *srv);
/* A worker loop (NumCPUs): open, close and update srv's listeners so it
 * listens beside each of model's (the main loop's) TCP SocksPorts, with
 * SO_REUSEPORT; unix sockets stay the main loop's. Called while model's
 * thread waits (loops.c). -1 if one failed (logged). */
int tk_listeners_mirror(struct tk_server *srv, const struct tk_server *model);
/* Whether SO_REUSEPORT can be set here (else NumCPUs runs one loop). */
int tk_listeners_reuseport_works(void);
/* fn(arg, name) for each open SocksPort: "127.0.0.1:9050", "[::1]:9050"
 * or "unix:/path", with the port a listener actually got ("auto"). */
void tk_listeners_foreach(const struct tk_server *srv,
			  void (*fn)(void *arg, const char *name), void *arg);

/* What a session needs to know about the port it came in on, copied so a
 * reload may close the listener under it. */
struct tk_port_info {
	uint32_t id;
	unsigned flags;
	int family;	  /* of the client: AF_INET, AF_INET6, AF_UNIX */
	uint16_t port;	  /* the SocksPort's own port, for logs */
	uint8_t addr[16]; /* the client's address (AF_INET: 4 bytes) */
};

/* A new client: takes ownership of the accepted handle (heap, from
 * tk_session_alloc_handle). */
void tk_session_start(struct tk_server *srv, uv_stream_t *client,
		      const struct tk_port_info *pi, const char *peer);
uv_stream_t *tk_session_alloc_handle(struct tk_server *srv, int is_unix);
void tk_session_free_handle(uv_stream_t *h);
/* SIGTERM: close every session now (and stop the relay buffers' idle
 * timer). */
void tk_sessions_close_all(struct tk_server *srv);

/* session_shed.c: which sessions go first when resources run short. */
/* MaxMemInQueues from cfg (0: from the machine's memory). */
void tk_pressure_configure(struct tk_server *srv);
/* A 1 s check of memory, for what the engine queues on its own. */
void tk_pressure_start(struct tk_server *srv);
void tk_pressure_stop(struct tk_server *srv);
/* Past MaxMemInQueues: close lingering sessions, then the ones holding
 * the most, until 3/4 of it is held, with a log line. Cheap when under. */
void tk_mem_check(struct tk_server *srv);
/* Close up to n lingering sessions, oldest first, because `why` ran
 * short; returns how many. */
unsigned tk_sessions_shed_lingering(struct tk_server *srv, unsigned n,
				    const char *why);
#endif
