/* Directory requests over a circuit: a BEGIN_DIR stream to the circuit's
 * last hop carrying one HTTP/1.0 GET (tor-spec §6.2.1, dir-spec §6).
 *
 * The response is everything the relay sends until it ends the stream
 * with reason DONE (any other reason is an error: the document may be
 * cut short); it is parsed with dirhttp.h (status, headers, identity or
 * deflate body). Closing the circuit completes pending requests with the
 * circuit's status. A request fails when no cell came for the stall time
 * (waiting for CONNECTED, or between DATA cells), not after a fixed time:
 * a large document over a slow relay takes as long as it takes.
 * The stream keeps its own flow-control window (500 cells, a SENDME every
 * 50) so documents of any size arrive. */
#ifndef TK_ONION_DIR_DIRCLIENT_H
#define TK_ONION_DIR_DIRCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "onion/circ/circuit.h"
#include "onion/dir/dirhttp.h"

enum {
	TK_DIR_EREFUSED = -8001, /* relay ended the stream before CONNECTED */
	TK_DIR_EHTTP = -8002,	 /* response could not be parsed */
	TK_DIR_ETIMEDOUT = -8003,
	TK_DIR_ENOMEM = -8004,
	TK_DIR_ETOOBIG = -8005, /* response exceeds the size limit */
	TK_DIR_EPROTO = -8006,	/* relay broke the stream protocol */
	TK_DIR_EBADPATH = -8007,
};

#define TK_DIR_DEFAULT_TIMEOUT_MS 60000
/* Longest path: room for ~700 microdescriptor digests (Arti asks for at
 * most 500 per request). */
#define TK_DIR_MAX_PATH 32768

typedef struct tk_dir_req tk_dir_req;

/* status 0: resp holds the parsed response (any HTTP status; check
 * resp->status), valid only during the callback. Otherwise resp is NULL
 * and tk_dir_errmsg(r) says what happened. r is freed after the
 * callback returns. */
typedef void (*tk_dir_done_cb)(tk_dir_req *r, int status,
			       const tk_http_response *resp, void *arg);

/* GETs path over a new BEGIN_DIR stream on c. deflate asks for a
 * compressed body. stall_ms: the longest wait for the next cell (0 = the
 * default). */
int tk_dir_get(tk_circuit *c, const char *path, int deflate, unsigned stall_ms,
	       tk_dir_done_cb cb, void *arg, tk_dir_req **out);

/* The same with extra header lines (dirhttp.h) and a progress callback,
 * called with the bytes received so far each time some arrive (may be
 * NULL). */
typedef void (*tk_dir_progress_cb)(void *arg, size_t bytes);
int tk_dir_get_hdrs(tk_circuit *c, const char *path, const char *headers,
		    int deflate, unsigned stall_ms, tk_dir_progress_cb progress,
		    tk_dir_done_cb cb, void *arg, tk_dir_req **out);

/* Abandons the request (END to the relay); cb will not run. */
void tk_dir_cancel(tk_dir_req *r);

const char *tk_dir_errmsg(const tk_dir_req *r);
const char *tk_dir_strerror(int status);

#endif
