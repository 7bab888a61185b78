/* admit.h — whether a new client may start: MaxClients and
 * MaxClientsPerAddress, counted across every loop (NumCPUs). */
#ifndef TK_DAEMON_ADMIT_H
#define TK_DAEMON_ADMIT_H

#include <uv.h>

#include "daemon/server.h"

/* A client accepted on srv's loop (its port, address and peer text in
 * pi and peer): started (tk_session_start) or refused and closed, at
 * once or, when only another loop has a lingering session to give up
 * for it, once that loop has closed it. */
void tk_admit(struct tk_server *srv, uv_stream_t *client,
	      const struct tk_port_info *pi, const char *peer);
/* Each loop's cross-loop wake-up, opened on its thread before it runs
 * and closed with its listeners (parked clients are refused). */
void tk_admit_loop_open(struct tk_server *srv);
void tk_admit_loop_close(struct tk_server *srv);

#endif
