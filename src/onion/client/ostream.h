/* Client streams over the circuit manager: what the daemon's tor engine
 * adapter calls. It mirrors daemon/engine.h so the adapter is a thin
 * translation (no SOCKS here; failures are Tor END reasons, the numbers
 * of TK_RELAY_END_* and of engine.h's enum tk_end_reason alike).
 *
 *   tk_onion_stream_connect(cm, "echo.test", 7, key, keylen, cb, arg, &req)
 *     -> cb(arg, 0, stream) once CONNECTED, or cb(arg, reason, NULL)
 *   tk_onion_stream_start(stream, &cbs, arg)   alloc/read/written/error/
 *                                              closed, as engine.h
 *   tk_onion_stream_write / _shutdown / _read_stop / _read_start / _close
 *   tk_onion_stream_resolve / _resolve_ptr  -> cb(arg, 0, &answers)
 *   tk_onion_stream_cancel(req)
 *
 * The rules of engine.h hold: nothing calls back from inside the call
 * that started it; each request's callback runs once unless cancelled;
 * a stream's `closed` runs once after tk_onion_stream_close() and is its
 * last callback.
 *
 * Failures and retries (as tor's connection_ap_process_end_not_open):
 *  - END EXITPOLICY before CONNECTED: the exit is excluded and the
 *    request retried on a circuit to another exit whose summary allows
 *    the port; when none is left, EXITPOLICY. (Tor retries until
 *    SocksTimeout; we stop as soon as no exit is left.)
 *  - END RESOLVEFAILED / TIMEOUT / MISC / NOROUTE before CONNECTED: the
 *    circuit takes no new streams and the request is retried on another
 *    circuit, stream_attempts tries in all, then that reason.
 *  - END HIBERNATING / RESOURCELIMIT: that exit is excluded, retried.
 *  - no CONNECTED/RESOLVED within stream_timeout_ms: END sent, the
 *    circuit takes no new streams, retried; last try fails TIMEOUT.
 *  - the circuit dies before CONNECTED: retried (nothing was sent that
 *    could be lost); after CONNECTED: error(DESTROY).
 *  - no circuit could be built in build_attempts builds: MISC; no exit
 *    allows the port at all: EXITPOLICY; no answer in
 *    request_timeout_ms: TIMEOUT.
 *  - other END reasons (CONNECTREFUSED, DONE, ...) are the answer.
 * A lookup that got a RESOLVED with only errors (NXDOMAIN, internal PTR
 * refused by the exit) or no usable answer fails RESOLVEFAILED.
 *
 * Data: writes are copied into DATA cells while the stream and circuit
 * package windows allow; a buffer is given back (`written`) when all of
 * it is packaged, so the windows reach the application. Reads: while the
 * application does not read (read_stop) or is slow, cells are kept here
 * and no stream SENDME is sent, so the exit stops after its window.
 *
 * Half-close: Tor's relay protocol has none. After
 * tk_onion_stream_shutdown() the queued bytes still go out, the stream
 * stays open and keeps delivering what the exit sends until the exit
 * ends it (EOF), the application closes, or nothing moved either way for
 * linger_ms (circmgr.h): then END is sent and the reader gets EOF.
 * A remote END DONE is EOF; any other END on an open stream is
 * error(reason). */
#ifndef TK_ONION_CLIENT_OSTREAM_H
#define TK_ONION_CLIENT_OSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "onion/client/circmgr.h"

typedef struct tk_onion_stream tk_onion_stream;
typedef struct tk_onion_req tk_onion_req;

enum {
	TK_ONION_RESOLVE_IPV4 = 1, /* as engine.h's TK_RESOLVE_IPV4 */
	TK_ONION_RESOLVE_IPV6 = 2,
};

#define TK_ONION_RESOLVED_MAX 16
struct tk_onion_resolved {
	size_t n_addrs;			/* resolve: >= 1 on success */
	struct {
		int family;		/* AF_INET or AF_INET6 */
		uint8_t addr[16];
	} addrs[TK_ONION_RESOLVED_MAX];
	char name[256];			/* resolve_ptr: the name */
	uint32_t ttl;			/* of the first answer used */
};

typedef void (*tk_onion_connect_cb)(void *arg, int end_reason,
				    tk_onion_stream *s);
typedef void (*tk_onion_resolve_cb)(void *arg, int end_reason,
				    const struct tk_onion_resolved *res);

/* Same meaning as engine.h's struct tk_stream_cbs. */
struct tk_onion_stream_cbs {
	void (*alloc)(void *arg, size_t suggested, uint8_t **buf, size_t *cap);
	void (*read)(void *arg, uint8_t *buf, size_t len, int eof);
	void (*written)(void *arg, uint8_t *buf, size_t len, int status);
	void (*error)(void *arg, int end_reason);
	void (*closed)(void *arg);
};

/* host: a DNS name or an IP literal (IPv6 without brackets); the exit
 * resolves names. iso/iso_len: the isolation key (copied; may be empty).
 * 0 and *req, or a negative errno-style code (-EINVAL bad target,
 * -ENOMEM). */
int tk_onion_stream_connect(tk_circmgr *cm, const char *host, uint16_t port,
			    const void *iso, size_t iso_len,
			    tk_onion_connect_cb cb, void *arg,
			    tk_onion_req **req);
/* families: TK_ONION_RESOLVE_* bits; answers of other families are left
 * out (all of them missing -> RESOLVEFAILED). */
int tk_onion_stream_resolve(tk_circmgr *cm, const char *name, int families,
			    const void *iso, size_t iso_len,
			    tk_onion_resolve_cb cb, void *arg,
			    tk_onion_req **req);
/* family AF_INET or AF_INET6, addr in network order: asks the exit for
 * the in-addr.arpa / ip6.arpa name. */
int tk_onion_stream_resolve_ptr(tk_circmgr *cm, int family,
				const uint8_t addr[16], const void *iso,
				size_t iso_len, tk_onion_resolve_cb cb,
				void *arg, tk_onion_req **req);
/* The callback will not run; the request is freed (END sent if a BEGIN
 * was out). */
void tk_onion_stream_cancel(tk_onion_req *req);

void tk_onion_stream_start(tk_onion_stream *s,
			   const struct tk_onion_stream_cbs *cbs, void *arg);
void tk_onion_stream_read_stop(tk_onion_stream *s);
void tk_onion_stream_read_start(tk_onion_stream *s);
/* Queues buf (len > 0; the caller keeps it alive until `written`).
 * 0, or -EPIPE after shutdown/error/close. */
int tk_onion_stream_write(tk_onion_stream *s, uint8_t *buf, size_t len);
void tk_onion_stream_shutdown(tk_onion_stream *s);
void tk_onion_stream_close(tk_onion_stream *s);

/* The circuit carrying s (tk_circmgr_describe), 0 once it is gone. */
uint32_t tk_onion_stream_circuit(const tk_onion_stream *s);
/* How many tries the request took (1 = first). */
unsigned tk_onion_stream_tries(const tk_onion_stream *s);

#endif
