/* splice.h — relaying two sockets with splice(2), Linux only: the bytes
 * go socket → pipe → socket inside the kernel and never through user
 * space. One pipe per direction, taken from a small pool of spare ones.
 *
 * The sockets stay libuv's handles (the session's and the engine's); the
 * caller must not read or write them through libuv while they are
 * spliced. Readiness comes from an epoll set of our own, edge-triggered,
 * which libuv watches as one descriptor (uv_poll): a socket is added once
 * and never modified, so backpressure costs no system call — a direction
 * whose pipe holds what its destination cannot take simply stops reading
 * its source until the destination is writable again.
 *
 * Socket A is the client, B the target: TK_SPLICE_UP reads A and writes
 * B, TK_SPLICE_DOWN the other way. */
#ifndef TK_DAEMON_SPLICE_H
#define TK_DAEMON_SPLICE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct tk_relayq;

enum { TK_SPLICE_UP, TK_SPLICE_DOWN };

struct tk_splice_cbs {
	/* Bytes moved since the last call; `grew`: the memory held went
	 * up (MaxMemInQueues). */
	void (*moved)(void *arg, int grew);
	/* dir's source sent its EOF (its bytes may still be in the pipe). */
	void (*eof_read)(void *arg, int dir);
	/* dir's pipe is empty after the EOF and its destination is shut
	 * (shutdown(SHUT_WR)): the peer sees the EOF. When this ends the
	 * second direction, the shutdown is left to the caller, which
	 * must close both sockets now (their close sends the FIN). */
	void (*eof_sent)(void *arg, int dir);
	/* Reading dir's source (`writing` 0) or writing its destination
	 * failed: errno value. The relay stopped; the caller closes. */
	void (*error)(void *arg, int dir, int writing, int err);
	/* splice(2) refused these sockets the first time it was used on
	 * them (errno value): the relay stopped and the sockets left our
	 * epoll set; the caller relays by copying from now on, starting
	 * with what tk_splice_take() gives, then calls tk_splice_stop(). */
	void (*fallback)(void *arg, int err);
};

struct tk_splice_pipe {
	int r, w;   /* -1: none */
	size_t len; /* bytes in it */
	size_t cap; /* its size */
};

struct tk_splice_dir {
	struct tk_splice_pipe p;
	struct tk_relayq *acct; /* where its memory is counted */
	size_t held;		/* what is counted there now */
	unsigned eof : 1;	/* the source sent EOF */
	unsigned shut : 1;	/* ... and the destination is shut */
	unsigned used_in : 1;	/* a splice into the pipe worked once */
	unsigned used_out : 1;	/* ... and one out of it */
};

/* One relayed pair; embedded in its owner, which must keep it (and the
 * sockets) until tk_splice_stop(). */
struct tk_splice {
	int fd[2];	      /* A, B */
	unsigned char rd[2];  /* the socket may have bytes or EOF to read */
	unsigned char wr[2];  /* ... may take bytes */
	unsigned char hup[2]; /* its EOF or error was reported already */
	struct tk_splice_dir dir[2];
	const struct tk_splice_cbs *cbs;
	void *arg;
	struct tk_splice *again; /* the run queue (budget spent) */
	unsigned inited : 1;	 /* tk_splice_start ran: pipes are set */
	unsigned active : 1;	 /* relaying */
	unsigned watched : 1;	 /* in the epoll set */
	unsigned queued : 1;	 /* on the run queue */
	unsigned moved : 1, grew : 1;
};

/* Whether to try splicing at all: the RelaySplice setting (-1 auto, 0,
 * 1) and what earlier attempts found (ENOSYS: never again). */
int tk_splice_wanted(int setting);

/* Start relaying fd_a <-> fd_b (non-blocking sockets); acct_up/down are
 * the relay queues whose `held` counts each pipe's pages. 0, or a
 * negative UV_E* and nothing started (the caller copies): UV_ENOSYS
 * where splice is unavailable, UV_EMFILE when descriptors are short
 * (the pipes need 4 more), UV_ENOMEM. */
int tk_splice_start(struct tk_splice *sp, uv_loop_t *loop, int fd_a, int fd_b,
		    struct tk_relayq *acct_up, struct tk_relayq *acct_down,
		    const struct tk_splice_cbs *cbs, void *arg);

/* Before any event: bytes for dir's destination ahead of everything it
 * will relay (the SOCKS reply, early data), at most PIPE_BUF: written at
 * once, or what the socket does not take into the pipe. 0, or the errno
 * value of a failed write (the caller closes). */
int tk_splice_send(struct tk_splice *sp, int dir, const uint8_t *p, size_t n);

/* After `fallback`: up to len bytes of what dir's pipe holds; 0 when it
 * is empty. */
size_t tk_splice_take(struct tk_splice *sp, int dir, uint8_t *buf, size_t len);

/* Stop: pipes back to the pool (or closed if they hold bytes), memory
 * no longer counted. The sockets are the caller's, to close (closing
 * them takes them out of the epoll set) or to relay by copying. Nothing
 * is called for sp afterwards. Fine on a stopped or zeroed one. */
void tk_splice_stop(struct tk_splice *sp);

/* Spare pipes: closed (the idle timer, or descriptors running short). */
void tk_splice_pool_free(void);
/* Shutdown: the epoll set and its watcher close (the loop ends). */
void tk_splice_shutdown(void);

#endif
