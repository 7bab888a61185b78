/* The onion-service client's configuration and handle (hs_client.h
 * says what they do). Apart from hs_client.h so that the client's
 * lower files (hs_client_svc.h) can hold them without including the
 * header of the top one, hs_client.c: tools/layers would see a circle. */
#ifndef TK_ONION_CLIENT_HS_CLIENT_CONFIG_H
#define TK_ONION_CLIENT_HS_CLIENT_CONFIG_H

#include "common/log_level.h"

typedef struct tk_hs_client tk_hs_client;

struct tk_hs_client_config {
	const char *auth_dir;	   /* ClientOnionAuthDir; NULL: none */
	int testing;		   /* TestingTorNetwork: short time periods */
	unsigned intro_timeout_ms; /* INTRODUCE_ACK + RENDEZVOUS2, 20000 */
	unsigned rend_timeout_ms;  /* RENDEZVOUS_ESTABLISHED, 10000; then
				    * another rendezvous point (3 at most) */
	unsigned fetch_parallel;   /* HSDirs asked at once; 0: 3 */
	/* congestion control with services whose descriptor offers it:
	 * -1 (default) when the consensus's cc_alg != 0, 0 never, 1 also
	 * without cc_alg (the CongestionControl option) */
	int congestion_control;
	int scrub_hosts; /* SafeLogging */
	/* Clean internal circuits kept ready once an onion service was
	 * asked for, and taken for the HSDir, introduction and rendezvous
	 * circuits (circ_pool.h). 0 (the default here, so that a test
	 * sees only the circuits it scripts): none, every circuit is built
	 * when needed; onion.c asks for TK_CIRC_POOL_DEFAULT. */
	unsigned internal_circs;
	tk_log_fn log;
	void *log_arg;
};
#endif
