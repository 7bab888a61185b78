/* cli_pump.h — copy one direction of a connection: source -> sink, one
 * buffer in flight (natural backpressure), and on the source's EOF shut
 * the sink's write side (half-close) instead of closing everything.
 *
 * Either end is a libuv stream (TCP, pipe, TTY) or a plain descriptor
 * (regular file, /dev/null) driven with uv_fs_read/uv_fs_write, because
 * stdin and stdout of a command-line tool can be any of these.
 */
#ifndef TK_CLI_PUMP_H
#define TK_CLI_PUMP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define CLI_PUMP_BUF (64 * 1024)

struct cli_end {
	uv_stream_t *stream; /* NULL: use fd through uv_fs_* */
	int fd;		     /* with stream NULL; -1: always EOF / sink */
};

struct cli_pump;
/* status 0: the source ended and everything was written (and the sink
 * shut down if asked); < 0: a libuv error, `failed_on_read` says where. */
typedef void (*cli_pump_cb)(struct cli_pump *p, int status);

struct cli_pump {
	void *data;
	uv_loop_t *loop;
	struct cli_end src, dst;
	int shutdown_dst; /* uv_shutdown(dst) on source EOF */
	cli_pump_cb done_cb;
	uint64_t bytes; /* copied so far */
	int failed_on_read;

	/* private */
	int stopped;
	size_t len, off;
	uv_write_t wreq;
	uv_shutdown_t sreq;
	uv_fs_t rfs, wfs;
	uint8_t buf[CLI_PUMP_BUF];
};

/* Starts copying; `prime` bytes (may be NULL) are written to the sink
 * first (stream bytes that arrived with the SOCKS reply). The caller set
 * src, dst, shutdown_dst, done_cb, loop. The source stream's `data` is
 * taken over. */
void cli_pump_start(struct cli_pump *p, const uint8_t *prime, size_t prime_len);

/* Stops reading; callbacks of requests in flight still arrive but do
 * nothing further. */
void cli_pump_stop(struct cli_pump *p);

#endif
