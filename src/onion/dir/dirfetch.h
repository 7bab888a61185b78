/* Directory fetches over one-hop circuits: the directory manager's I/O.
 *
 * Each source (relay identity) gets one channel and one circuit, kept
 * while it is used and closed after an idle time, and any number of
 * BEGIN_DIR requests on it (dirclient.h). The circuit is made with
 * CREATE2/ntor when the source carries its ntor key (a relay whose
 * microdescriptor we hold: a directory guard, a cache), with CREATE_FAST
 * otherwise (a fallback or authority known only by its identity), as tor
 * does. A broken channel or circuit fails the requests on it; the next
 * request to that source opens a new one. Answers arrive through done_cb,
 * always from the loop, never from inside tk_dirfetch_get(). */
#ifndef TK_ONION_DIR_DIRFETCH_H
#define TK_ONION_DIR_DIRFETCH_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "onion/dir/dirmgr.h"

typedef struct tk_dirfetch tk_dirfetch;

/* status 0 with the HTTP status and body (valid during the call), or
 * status < 0 and errmsg ("link handshake with tnauth0 failed: ..."). */
typedef void (*tk_dirfetch_done_cb)(void *arg, uint64_t id, int status,
				    int http_status, const uint8_t *body,
				    size_t len, const char *errmsg);
/* How far the connection for request id got (may be NULL). */
typedef void (*tk_dirfetch_stage_cb)(void *arg, uint64_t id,
				     enum tk_dirmgr_stage stage);
/* Bytes of the answer to id so far (may be NULL). */
typedef void (*tk_dirfetch_progress_cb)(void *arg, uint64_t id, size_t bytes);

struct tk_dirfetch_config {
	unsigned timeout_ms; /* TCP, TLS, link handshake and circuit */
	unsigned stall_ms;   /* a request without a cell this long fails */
	unsigned idle_ms;    /* close a source's circuit unused this long */
	int deflate;	     /* ask for compressed bodies */
};
/* 10 s to connect, 60 s stall, 60 s idle, deflate on. */
void tk_dirfetch_config_init(struct tk_dirfetch_config *c);

int tk_dirfetch_new(uv_loop_t *loop, const struct tk_dirfetch_config *cfg,
		    tk_dirfetch_done_cb done, tk_dirfetch_stage_cb stage,
		    tk_dirfetch_progress_cb progress, void *arg,
		    tk_dirfetch **out);

/* Starts GET path (with extra header lines, "" for none) from src. 0, or
 * < 0 if it cannot start (done_cb will not run for id then). */
int tk_dirfetch_get(tk_dirfetch *f, uint64_t id, const struct tk_dirsource *src,
		    const char *path, const char *headers);

/* Abandons id; done_cb will not run for it. */
void tk_dirfetch_cancel(tk_dirfetch *f, uint64_t id);

/* Channels and circuits open now (for tests and status). */
size_t tk_dirfetch_open_count(const tk_dirfetch *f);

/* Cancels everything and closes every channel; f is freed once the loop
 * has closed its handles. No callback runs afterwards. */
void tk_dirfetch_free(tk_dirfetch *f);

#endif
