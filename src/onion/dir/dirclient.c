/* dirclient.h: one HTTP/1.0 GET over a BEGIN_DIR stream. */
#include "onion/dir/dirclient.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "onion/base/deadline.h"
#include "onion/cell/cell.h"
#include "onion/circ/flowctl.h"

enum dir_state {
	DIR_CONNECTING, /* BEGIN_DIR and the request sent, awaiting CONNECTED */
	DIR_RECEIVING,	/* CONNECTED: collecting the response */
	DIR_DONE,	/* callback ran or cancelled; deadline closing */
};

struct tk_dir_req {
	tk_circuit *circ;
	uint16_t stream_id;
	int registered;
	enum dir_state state;
	/* the stall wait: each cell restarts it, and it is decided after a
	 * poll (deadline.h), so a starved daemon reads a cell already here */
	tk_deadline stall;
	char *request;
	size_t request_len;
	uint8_t *buf;
	size_t len, cap;
	tk_stream_flow flow;
	unsigned stall_ms;
	tk_dir_progress_cb progress;
	tk_dir_done_cb cb;
	void *arg;
	char errmsg[256];
};

/* The most we keep before parsing: the decoded-body limit plus a head. */
#define DIR_MAX_WIRE ((size_t)TK_HTTP_MAX_BODY + TK_HTTP_MAX_HEAD)

static const char *
end_reason(uint8_t r)
{
	static const char *const names[] = {
		"",	      "MISC",	     "RESOLVEFAILED", "CONNECTREFUSED",
		"EXITPOLICY", "DESTROY",     "DONE",	      "TIMEOUT",
		"NOROUTE",    "HIBERNATING", "INTERNAL",      "RESOURCELIMIT",
		"CONNRESET",  "TORPROTOCOL", "NOTDIRECTORY",
	};
	return r < ARRAY_SIZE(names) && r ? names[r] : "unknown";
}

const char *
tk_dir_strerror(int status)
{
	switch (status) {
	case TK_DIR_EREFUSED:
		return "relay refused the directory stream";
	case TK_DIR_EHTTP:
		return "bad HTTP response";
	case TK_DIR_ETIMEDOUT:
		return "directory request timed out";
	case TK_DIR_ENOMEM:
		return "out of memory";
	case TK_DIR_ETOOBIG:
		return "directory response too large";
	case TK_DIR_EPROTO:
		return "directory stream protocol violation";
	case TK_DIR_EBADPATH:
		return "bad directory path";
	default:
		return tk_circuit_strerror(status);
	}
}

const char *
tk_dir_errmsg(const tk_dir_req *r)
{
	return r->errmsg;
}

static void set_errmsg(tk_dir_req *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void
set_errmsg(tk_dir_req *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
	va_end(ap);
}

static void
on_stall_closed(tk_deadline *d)
{
	tk_dir_req *r = d->data;
	free(r->request);
	free(r->buf);
	free(r);
}

/* Stops everything and frees r once the deadline is closed. */
static void
finish(tk_dir_req *r, int send_end)
{
	r->state = DIR_DONE;
	if (r->registered) {
		if (send_end && tk_circuit_is_open(r->circ)) {
			uint8_t reason = 1; /* MISC, as tor's client sends */
			(void)tk_circuit_send(r->circ, -1, TK_RELAY_END,
					      r->stream_id, &reason, 1, 0);
		}
		tk_circuit_stream_remove(r->circ, r->stream_id);
		r->registered = 0;
	}
	tk_deadline_close(&r->stall, on_stall_closed);
}

static void
complete(tk_dir_req *r, int status, int send_end)
{
	tk_http_response resp;
	if (r->state == DIR_DONE)
		return;
	if (status == 0) {
		char perr[200];
		if (tk_http_parse(r->buf, r->len, &resp, perr, sizeof perr) !=
		    0) {
			snprintf(r->errmsg, sizeof r->errmsg, "%s", perr);
			status = TK_DIR_EHTTP;
		} else {
			finish(r, send_end);
			r->cb(r, 0, &resp, r->arg);
			tk_http_response_free(&resp);
			return;
		}
	}
	if (!r->errmsg[0])
		set_errmsg(r, "%s", tk_dir_strerror(status));
	finish(r, send_end);
	r->cb(r, status, NULL, r->arg);
}

/* The request goes out right behind BEGIN_DIR, before CONNECTED, as
 * tor's client sends it (optimistic data, prop 181): a relay opens a
 * BEGIN_DIR stream as soon as it reads the cell, so the GET saves a
 * round trip of the whole circuit. A relay that refuses the stream drops
 * the DATA as data for a stream it does not know. Long requests (many
 * microdescriptor digests) span several DATA cells; TK_DIR_MAX_PATH keeps
 * them well inside the windows. */
static int
send_request(tk_dir_req *r)
{
	for (size_t off = 0; off < r->request_len; off += TK_RELAY_DATA_MAX) {
		size_t n = r->request_len - off;
		int rc;
		if (n > TK_RELAY_DATA_MAX)
			n = TK_RELAY_DATA_MAX;
		rc = tk_circuit_send(r->circ, -1, TK_RELAY_DATA, r->stream_id,
				     (const uint8_t *)r->request + off, n, 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void
on_stream(void *arg, int status, int hop, uint8_t cmd, const uint8_t *data,
	  size_t len)
{
	tk_dir_req *r = arg;
	(void)hop;
	if (r->state == DIR_DONE)
		return;
	if (status == 0) /* a cell: the stall time starts over */
		tk_deadline_restart(&r->stall);
	if (status < 0) {
		r->registered = 0; /* the circuit already forgot the stream */
		set_errmsg(r,
			   "circuit went away during the directory request: "
			   "%s",
			   tk_circuit_strerror(status));
		complete(r, status, 0);
		return;
	}
	switch (cmd) {
	case TK_RELAY_CONNECTED:
		if (r->state != DIR_CONNECTING) {
			set_errmsg(r,
				   "second CONNECTED on the directory stream");
			complete(r, TK_DIR_EPROTO, 1);
			return;
		}
		r->state = DIR_RECEIVING;
		return;
	case TK_RELAY_DATA:
		if (r->state != DIR_RECEIVING) {
			set_errmsg(r, "DATA before CONNECTED on the directory "
				      "stream");
			complete(r, TK_DIR_EPROTO, 1);
			return;
		}
		if (tk_stream_flow_data_received(&r->flow) != TK_FLOW_OK) {
			set_errmsg(r, "relay overran the stream window");
			complete(r, TK_DIR_EPROTO, 1);
			return;
		}
		if (r->len + len > DIR_MAX_WIRE) {
			set_errmsg(r, "response exceeds %zu bytes",
				   DIR_MAX_WIRE);
			complete(r, TK_DIR_ETOOBIG, 1);
			return;
		}
		if (r->len + len > r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 16384;
			uint8_t *b;
			while (cap < r->len + len)
				cap *= 2;
			b = realloc(r->buf, cap);
			if (!b) {
				complete(r, TK_DIR_ENOMEM, 1);
				return;
			}
			r->buf = b;
			r->cap = cap;
		}
		memcpy(r->buf + r->len, data, len);
		r->len += len;
		if (r->progress)
			r->progress(r->arg, r->len);
		/* We keep everything in memory: never backed up. Stream
		 * SENDMEs are empty (tor-spec §7.4). */
		for (int due = tk_stream_flow_sendmes_due(&r->flow, 0); due > 0;
		     due--) {
			status = tk_circuit_send(r->circ, -1, TK_RELAY_SENDME,
						 r->stream_id, NULL, 0, 0);
			if (status < 0) {
				complete(r, status, 1);
				return;
			}
		}
		return;
	case TK_RELAY_END: {
		uint8_t reason = len ? data[0] : 1;
		if (r->state == DIR_CONNECTING) {
			set_errmsg(
				r,
				"relay refused BEGIN_DIR: END reason %u (%s)",
				reason, end_reason(reason));
			complete(r, TK_DIR_EREFUSED, 0);
			return;
		}
		/* The relay ends the stream once the response is out. */
		r->registered = 0;
		tk_circuit_stream_remove(r->circ, r->stream_id);
		if (reason != 6) {
			/* Anything but DONE means the directory gave up
			 * mid-response: without a Content-Length we could
			 * not tell a truncated document from a whole one. */
			set_errmsg(
				r,
				"relay ended the directory stream with "
				"reason %u (%s) after %zu bytes: the response "
				"may be incomplete",
				reason, end_reason(reason), r->len);
			complete(r, TK_DIR_EPROTO, 0);
			return;
		}
		complete(r, 0, 0);
		return;
	}
	case TK_RELAY_SENDME:
		return; /* we send one DATA cell: nothing to unblock */
	default:
		return; /* unknown relay commands are dropped */
	}
}

static void
on_timeout(tk_deadline *d)
{
	tk_dir_req *r = d->data;
	set_errmsg(r,
		   "directory request stalled: nothing for %u s %s (%zu "
		   "bytes received)",
		   r->stall_ms / 1000,
		   r->state == DIR_CONNECTING ? "waiting for CONNECTED"
					      : "while receiving",
		   r->len);
	complete(r, TK_DIR_ETIMEDOUT, 1);
}

int
tk_dir_get(tk_circuit *c, const char *path, int deflate, unsigned stall_ms,
	   tk_dir_done_cb cb, void *arg, tk_dir_req **out)
{
	return tk_dir_get_hdrs(c, path, NULL, deflate, stall_ms, NULL, cb, arg,
			       out);
}

int
tk_dir_get_hdrs(tk_circuit *c, const char *path, const char *headers,
		int deflate, unsigned stall_ms, tk_dir_progress_cb progress,
		tk_dir_done_cb cb, void *arg, tk_dir_req **out)
{
	tk_dir_req *r;
	long n;
	int rc;
	*out = NULL;
	if (!cb)
		return UV_EINVAL;
	if (!tk_circuit_is_open(c))
		return TK_CIRC_ESTATE;
	r = calloc(1, sizeof *r);
	if (!r)
		return TK_DIR_ENOMEM;
	{
		size_t cap = strlen(path) + (headers ? strlen(headers) : 0) +
			     64;
		if (strlen(path) > TK_DIR_MAX_PATH ||
		    !(r->request = malloc(cap)) ||
		    (n = tk_http_request_hdrs(path, deflate, headers,
					      r->request, cap)) < 0) {
			free(r->request);
			free(r);
			return TK_DIR_EBADPATH;
		}
	}
	r->request_len = (size_t)n;
	r->circ = c;
	r->cb = cb;
	r->arg = arg;
	r->progress = progress;
	r->stall_ms = stall_ms ? stall_ms : TK_DIR_DEFAULT_TIMEOUT_MS;
	tk_stream_flow_init(&r->flow);
	r->state = DIR_CONNECTING;
	r->stall.data = r;
	rc = tk_deadline_init(tk_circuit_loop(c), &r->stall);
	if (rc < 0) {
		free(r->request);
		free(r);
		return rc;
	}
	rc = tk_circuit_stream_add(c, on_stream, r, &r->stream_id);
	if (rc == 0) {
		r->registered = 1;
		rc = tk_circuit_send(c, -1, TK_RELAY_BEGIN_DIR, r->stream_id,
				     NULL, 0, 0);
	}
	if (rc == 0)
		rc = send_request(r);
	if (rc == 0)
		tk_deadline_start(&r->stall, r->stall_ms, on_timeout);
	if (rc < 0) {
		finish(r, 0);
		return rc;
	}
	*out = r;
	return 0;
}

void
tk_dir_cancel(tk_dir_req *r)
{
	if (!r || r->state == DIR_DONE)
		return;
	finish(r, 1);
}
