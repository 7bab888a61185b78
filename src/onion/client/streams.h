/* Requests and client streams over the circuit manager's circuits: the
 * connect, resolve and resolve_ptr of onion.h, and the streams they open
 * (onion.h says what they promise). The streams register with the
 * circuit manager as its user (tk_circmgr_set_user): it hands them
 * circuits and passes on what the exits say; the manager's deferred
 * work orders every callback, so neither the stream table nor a circuit
 * ever sees re-entrancy from the application. */
#ifndef TK_ONION_CLIENT_STREAMS_H
#define TK_ONION_CLIENT_STREAMS_H

#include <stddef.h>
#include <stdint.h>

#include "common/log_level.h"
#include "onion/client/circmgr.h"
#include "onion/onion.h"

typedef struct tk_streams tk_streams;

struct tk_streams_config {
	unsigned stream_timeout_ms;  /* CONNECTED/RESOLVED wait per try,
					10000 (tor: 10 s) */
	unsigned stream_attempts;    /* tries per stream, 3 (tor's
					MAX_RESOLVE_FAILURES) */
	uint64_t request_timeout_ms; /* whole request, 120000 (tor's
					SocksTimeout) */
	uint64_t linger_ms;	     /* after shutdown, idle this long ->
					closed (see onion.h), 30000 */
	int scrub_hosts;	     /* log "[scrubbed]" for destinations,
				      * default 1 (tor's SafeLogging) */
	tk_log_fn log;		     /* NULL: silent */
	void *log_arg;
};
void tk_streams_config_init(struct tk_streams_config *cfg);

/* Streams over cm's circuits, registered as its user. cm owns the result:
 * tk_circmgr_free() frees it with every stream and request still held,
 * without callbacks. NULL if out of memory. */
tk_streams *tk_streams_new(tk_circmgr *cm, const struct tk_streams_config *cfg);

/* As onion.h's tk_onion_stream_connect, resolve and resolve_ptr. */
int tk_streams_connect(tk_streams *ss, const char *host, uint16_t port,
		       unsigned prefs, const void *iso, size_t iso_len,
		       tk_onion_connect_cb cb, void *arg, tk_onion_req **req);
int tk_streams_resolve(tk_streams *ss, const char *name, int families,
		       const void *iso, size_t iso_len, tk_onion_resolve_cb cb,
		       void *arg, tk_onion_req **req);
/* The onion-service client CONNECTs to onion names go to (taken over:
 * freed with ss). Without one they are refused. */
struct tk_hs_client;
void tk_streams_set_hs(tk_streams *ss, struct tk_hs_client *hs);
/* SafeLogging changed: destinations in the log from now on, or not. */
void tk_streams_set_scrub_hosts(tk_streams *ss, int on);
/* Bytes of memory every stream holds for its reader and writer. */
size_t tk_streams_queued(const tk_streams *ss);
int tk_streams_resolve_ptr(tk_streams *ss, int family, const uint8_t addr[16],
			   const void *iso, size_t iso_len,
			   tk_onion_resolve_cb cb, void *arg,
			   tk_onion_req **req);

#endif
