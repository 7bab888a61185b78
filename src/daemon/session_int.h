/* session_int.h — a session's insides, shared by session.c and
 * session_shed.c only. */
#ifndef TK_DAEMON_SESSION_INT_H
#define TK_DAEMON_SESSION_INT_H

#include <stdint.h>
#include <uv.h>

#include "daemon/relayq.h"
#include "daemon/server.h"

#define HS_BUF 2048

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
	struct tk_session *lprev, *lnext; /* srv->lingering, oldest first */
	unsigned lingering : 1;
	unsigned client_reading : 1;
	unsigned client_eof : 1;
	unsigned target_eof : 1;
	unsigned client_shut : 1; /* our FIN to the client is out */
	unsigned target_reading : 1;
	unsigned counted : 1;
};

/* Closes s: every handle, the engine's stream or request (session.c). */
void tk__session_close(struct tk_session *s);

#endif
