/* session_int.h — a session's insides, shared by session.c and the
 * session_*.c files above it (socks, relay, shed) only. */
#ifndef TK_DAEMON_SESSION_INT_H
#define TK_DAEMON_SESSION_INT_H

#include <stdint.h>
#include <uv.h>

#include "daemon/relaybuf.h"
#include "daemon/relayq.h"
#include "daemon/server.h"
#include "daemon/splice.h"

#define HS_BUF 2048
/* Stop reading a side once its queue holds this much memory (the fill
 * buffer and one full buffer with the writer, or many small ones). */
#define RELAY_HIGH (2 * TK_RELAY_BUF)

enum sess_state {
	S_HANDSHAKE,
	S_ENGINE,
	S_RELAY,
	S_LINGER,
	S_CLOSING,
};

struct tk_session {
	union {
		uv_tcp_t tcp;
		uv_pipe_t pipe;
		uv_handle_t handle;
		uv_stream_t stream;
	} h;
	int is_unix;
	struct tk_server *srv;
	struct tk_session *prev, *next;
	struct tk_port_info port;
	char peer[128];
	enum sess_state state;
	uv_timer_t timer;
	int open_handles; /* client, timer, stream */

	struct tk_socks_server codec;
	uint8_t in[HS_BUF];
	size_t in_len;
	char target[TK_SOCKS_HOST_MAX + 8]; /* for logs */

	struct tk_engine_req *req;
	struct tk_stream *stream;
	struct tk_relayq up;   /* client -> engine */
	struct tk_relayq down; /* engine -> client */
	uint64_t last_active;  /* uv_now of the last byte either way */
	uint64_t idle_seen;    /* 0, or when IdleTimeout ran out (see
				  session_relay.c) */
	struct tk_session *lprev, *lnext; /* srv->lingering, oldest first */
	uint64_t linger_since; /* uv_hrtime when it began lingering */
	unsigned lingering : 1;
	unsigned client_reading : 1;
	unsigned client_eof : 1;
	unsigned target_eof : 1;
	unsigned client_shut : 1; /* our FIN to the client is out */
	unsigned target_reading : 1;
	unsigned counted : 1;
	unsigned splicing : 1; /* the relay is sp's (session_relay.c) */
	struct tk_splice sp;
	/* Set by the relay when it starts: session.c calls up through
	 * them, never by name (src/layers: no circle between files). A
	 * write of relayed bytes (from down) to the client finished; s is
	 * closing, the relay stops (splice's pipes go back). */
	void (*relay_written)(struct tk_session *s, int status);
	void (*relay_stop)(struct tk_session *s);
};

/* session.c */
/* Closes s: every handle, the engine's stream or request. */
void tk__session_close(struct tk_session *s);
void tk__set_state(struct tk_session *s, enum sess_state st);
void tk__linger_mark(struct tk_session *s, int on);
/* A queue grew: the memory check (MaxMemInQueues). */
void tk__mem_grew(struct tk_server *srv);
/* Writes to the client; takes buf (malloc'd, or from s->down with
 * `final` 2; `final` 1: the last bytes, linger after). */
int tk__client_write(struct tk_session *s, uint8_t *buf, size_t len, int final);
int tk__client_write_copy(struct tk_session *s, const uint8_t *data, size_t len,
			  int final);
/* The last bytes of the session (len may be 0), then linger and close. */
void tk__session_finish(struct tk_session *s, const uint8_t *reply, size_t len);
/* The engine's `closed` for s's stream. */
void tk__stream_closed(void *arg);

/* session_relay.c */
/* CONNECT succeeded: the reply, then relay both ways. */
void tk__start_relay(struct tk_session *s);

#endif
