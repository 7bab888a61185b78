/* cli_pump.c — one direction of a relayed connection (see cli_pump.h).
 *
 * read -> (stop reading) -> write all -> read again: never more than one
 * buffer in memory per direction, so a slow reader slows the writer down
 * instead of growing a queue.
 */
#include "cli/cli_pump.h"

#include <string.h>

#include "common/util.h"

static void read_more(struct cli_pump *p);
static void write_out(struct cli_pump *p);

static void
done(struct cli_pump *p, int status, int on_read)
{
	if (p->stopped)
		return;
	p->stopped = 1;
	p->failed_on_read = on_read;
	p->done_cb(p, status);
}

static void
on_shutdown(uv_shutdown_t *req, int status)
{
	struct cli_pump *p = container_of(req, struct cli_pump, sreq);

	/* ENOTCONN: the peer is gone already; nothing was lost on our side. */
	done(p, status == UV_ENOTCONN ? 0 : status, 0);
}

static void
source_ended(struct cli_pump *p)
{
	if (p->stopped)
		return;
	if (p->shutdown_dst && p->dst.stream) {
		int r = uv_shutdown(&p->sreq, p->dst.stream, on_shutdown);
		if (r < 0)
			done(p, r == UV_ENOTCONN ? 0 : r, 0);
		return;
	}
	done(p, 0, 0);
}

static void
on_written(uv_write_t *req, int status)
{
	struct cli_pump *p = container_of(req, struct cli_pump, wreq);

	if (status < 0) {
		done(p, status, 0);
		return;
	}
	p->bytes += p->len;
	p->len = p->off = 0;
	read_more(p);
}

static void
on_fs_written(uv_fs_t *req)
{
	struct cli_pump *p = container_of(req, struct cli_pump, wfs);
	ssize_t r = req->result;

	uv_fs_req_cleanup(req);
	if (r < 0) {
		done(p, (int)r, 0);
		return;
	}
	p->off += (size_t)r;
	if (p->off < p->len) {
		write_out(p);
		return;
	}
	p->bytes += p->len;
	p->len = p->off = 0;
	read_more(p);
}

static void
write_out(struct cli_pump *p)
{
	uv_buf_t b = uv_buf_init((char *)p->buf + p->off,
				 (unsigned)(p->len - p->off));
	int r;

	if (p->stopped)
		return;
	if (p->dst.stream)
		r = uv_write(&p->wreq, p->dst.stream, &b, 1, on_written);
	else if (p->dst.fd < 0)
		r = 0, p->off = p->len;
	else
		r = uv_fs_write(p->loop, &p->wfs, p->dst.fd, &b, 1, -1,
				on_fs_written);
	if (r < 0) {
		done(p, r, 0);
		return;
	}
	if (!p->dst.stream && p->dst.fd < 0) {
		p->bytes += p->len;
		p->len = p->off = 0;
		read_more(p);
	}
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct cli_pump *p = h->data;

	(void)hint;
	b->base = (char *)p->buf;
	b->len = sizeof(p->buf);
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct cli_pump *p = st->data;

	(void)b;
	if (p->stopped)
		return;
	if (n == 0)
		return;
	uv_read_stop(st);
	if (n == UV_EOF) {
		source_ended(p);
		return;
	}
	if (n < 0) {
		done(p, (int)n, 1);
		return;
	}
	p->len = (size_t)n;
	p->off = 0;
	write_out(p);
}

static void
on_fs_read(uv_fs_t *req)
{
	struct cli_pump *p = container_of(req, struct cli_pump, rfs);
	ssize_t n = req->result;

	uv_fs_req_cleanup(req);
	if (p->stopped)
		return;
	if (n == 0) {
		source_ended(p);
		return;
	}
	if (n < 0) {
		done(p, (int)n, 1);
		return;
	}
	p->len = (size_t)n;
	p->off = 0;
	write_out(p);
}

static void
read_more(struct cli_pump *p)
{
	int r;

	if (p->stopped)
		return;
	if (p->src.stream) {
		r = uv_read_start(p->src.stream, on_alloc, on_read);
	} else if (p->src.fd < 0) {
		source_ended(p);
		return;
	} else {
		uv_buf_t b = uv_buf_init((char *)p->buf, sizeof(p->buf));
		r = uv_fs_read(p->loop, &p->rfs, p->src.fd, &b, 1, -1,
			       on_fs_read);
	}
	if (r < 0)
		done(p, r, 1);
}

void
cli_pump_start(struct cli_pump *p, const uint8_t *prime, size_t prime_len)
{
	p->stopped = 0;
	p->bytes = 0;
	p->len = p->off = 0;
	if (p->src.stream)
		p->src.stream->data = p;
	if (prime_len) {
		if (prime_len > sizeof(p->buf))
			prime_len = sizeof(p->buf);
		memcpy(p->buf, prime, prime_len);
		p->len = prime_len;
		write_out(p);
		return;
	}
	read_more(p);
}

void
cli_pump_stop(struct cli_pump *p)
{
	if (p->stopped)
		return;
	p->stopped = 1;
	if (p->src.stream && !uv_is_closing((uv_handle_t *)p->src.stream))
		uv_read_stop(p->src.stream);
}
