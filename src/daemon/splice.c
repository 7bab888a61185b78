/* splice.c — see splice.h.
 *
 * Each direction is a small pump: while its pipe holds bytes and the
 * destination may take them, splice pipe → destination; while the pipe
 * has room and the source may have bytes, splice source → pipe. The
 * epoll set is edge-triggered, so "may" is remembered per socket and is
 * cleared only by EAGAIN; an event sets it again. A pump that keeps
 * moving bytes gives the loop back after a budget of rounds and goes on
 * from an idle handle on the next turn, as libuv's own reads stop after
 * 32 of them.
 *
 * EAGAIN splicing into a pipe that holds bytes is ambiguous (the socket
 * is empty, or the pipe's slots are all used: a slot per segment read),
 * so the source stays "may read" and is asked again once the pipe has
 * drained; with an empty pipe, EAGAIN means the socket is empty.
 *
 * For tests, TK_TEST_SPLICE_FAULT forces each way of falling back to
 * copying (tests/bats/daemon_splice.bats):
 *   einval-in   the first splice from a socket into a pipe of each
 *               relay fails with EINVAL (nothing is in the pipes yet)
 *   einval-out  the first splice from a pipe into a socket of each
 *               relay fails with EINVAL (a pipe holds bytes to hand over)
 *   enosys      splice fails with ENOSYS: never tried again
 *   emfile      creating a pipe fails with EMFILE
 */
#include "daemon/splice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/privs.h"
#include "daemon/relayq.h"

#ifdef __linux__

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Spare pipes kept for the next relays (two descriptors each). */
#define POOL_MAX 32
/* Rounds of both directions per event before the loop gets a turn. */
#define ROUNDS 16
#define EVENTS 64
/* A direction that fills its pipe in one splice is a bulk transfer: its
 * pipe grows to PIPE_BIG, for a sixteenth of the system calls per byte
 * (socks-bench: some 10-20 % less CPU per GB than at 256 KiB). The kernel
 * charges a pipe's size to its user, and past
 * /proc/sys/fs/pipe-user-pages-soft gives that user's new pipes two
 * pages: so the big ones, all loops together, stay within half of that
 * (big_budget), and past it a pipe grows to PIPE_BULK only. Either way it
 * counts for MaxMemInQueues at its size while it holds bytes, and is
 * shrunk back before it goes to the pool. Interactive traffic keeps the
 * default (64 KiB). */
#define PIPE_BULK (256 * 1024)
#define PIPE_BIG (1024 * 1024)
/* Descriptors left for clients, targets, the resolver and logs: a relay
 * only takes new pipes while this many stay free after them (listener.c
 * keeps 16 for a client's target and the rest). */
#define FD_RESERVE 32

enum { F_NONE, F_EINVAL_IN, F_EINVAL_OUT, F_ENOSYS, F_EMFILE };

/* ENOSYS/EPERM once, on any loop: never again (the kernel's). */
static atomic_int broken;
/* Bytes of PIPE_BIG pipes, all loops; the most there may be. */
static atomic_size_t big_bytes;
static atomic_size_t big_budget;

/* One reactor and pool per loop's thread (NumCPUs). */
static _Thread_local struct {
	uv_loop_t *loop;
	int epfd;
	uv_poll_t poll;
	uv_idle_t idle;
	int open;
	int fault;
	size_t page;	/* a pipe has a slot per page of its size */
	size_t def_cap; /* a new pipe's size: the pool shrinks to it */
	struct tk_splice *again_head, *again_tail;
	struct tk_splice_pipe pool[POOL_MAX];
	int n_pool;
} R = { .epfd = -1 };

static void poll_cb(uv_poll_t *h, int status, int events);
static void idle_cb(uv_idle_t *h);

static void
read_fault(void)
{
	const char *f = getenv("TK_TEST_SPLICE_FAULT");

	if (f == NULL)
		return;
	if (strcmp(f, "einval-in") == 0)
		R.fault = F_EINVAL_IN;
	else if (strcmp(f, "einval-out") == 0)
		R.fault = F_EINVAL_OUT;
	else if (strcmp(f, "enosys") == 0)
		R.fault = F_ENOSYS;
	else if (strcmp(f, "emfile") == 0)
		R.fault = F_EMFILE;
	if (R.fault != F_NONE)
		tk_notice("TK_TEST_SPLICE_FAULT=%s: splice(2) fails on purpose",
			  f);
}

/* Half of what a user's pipes may hold before the kernel rations them
 * (0 there: no limit). Unreadable: 16 MiB, 16 big pipes. */
static size_t
read_big_budget(size_t page)
{
	FILE *f = fopen("/proc/sys/fs/pipe-user-pages-soft", "r");
	unsigned long pages;
	size_t budget = 16 * (size_t)PIPE_BIG;

	if (f == NULL)
		return budget;
	if (fscanf(f, "%lu", &pages) == 1)
		budget = pages == 0 ? SIZE_MAX : pages / 2 * page;
	fclose(f);
	return budget > 0 ? budget : 1;
}

static int
reactor_open(uv_loop_t *loop)
{
	if (R.open)
		return 0;
	read_fault();
	R.page = (size_t)sysconf(_SC_PAGESIZE);
	if (R.page == 0 || R.page == (size_t)-1)
		R.page = 4096;
	if (atomic_load(&big_budget) == 0)
		atomic_store(&big_budget, read_big_budget(R.page));
	R.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (R.epfd < 0)
		return -1;
	if (uv_poll_init(loop, &R.poll, R.epfd) < 0) {
		close(R.epfd);
		R.epfd = -1;
		return -1;
	}
	uv_poll_start(&R.poll, UV_READABLE, poll_cb);
	uv_unref((uv_handle_t *)&R.poll); /* sessions keep the loop up */
	uv_idle_init(loop, &R.idle);
	uv_unref((uv_handle_t *)&R.idle);
	R.loop = loop;
	R.open = 1;
	return 0;
}

static void
pipe_close(struct tk_splice_pipe *p)
{
	if (p->r >= 0)
		close(p->r);
	if (p->w >= 0)
		close(p->w);
	if (p->cap == PIPE_BIG)
		atomic_fetch_sub(&big_bytes, PIPE_BIG);
	p->r = p->w = -1;
	p->len = 0;
	p->cap = 0;
}

/* A direction filled its whole pipe at once: a bigger one. big_bytes
 * counts PIPE_BIG for each pipe of that size, reserved before the
 * fcntl, so loops growing pipes at once cannot overshoot the budget. */
static void
pipe_grow(struct tk_splice_pipe *p)
{
	int sz = -1;

	if (atomic_fetch_add(&big_bytes, PIPE_BIG) + PIPE_BIG <=
	    atomic_load(&big_budget))
		sz = fcntl(p->w, F_SETPIPE_SZ, PIPE_BIG);
	if (sz != PIPE_BIG) {
		atomic_fetch_sub(&big_bytes, PIPE_BIG);
		if (p->cap < PIPE_BULK)
			sz = fcntl(p->w, F_SETPIPE_SZ, PIPE_BULK);
	}
	if (sz > 0) /* else (pipe-user-pages-soft) as it is */
		p->cap = (size_t)sz;
}

void
tk_splice_pool_free(void)
{
	while (R.n_pool > 0)
		pipe_close(&R.pool[--R.n_pool]);
}

static void
closed_cb(uv_handle_t *h)
{
	(void)h;
}

void
tk_splice_shutdown(void)
{
	tk_splice_pool_free();
	if (!R.open)
		return;
	uv_close((uv_handle_t *)&R.poll, closed_cb);
	uv_close((uv_handle_t *)&R.idle, closed_cb);
	close(R.epfd);
	R.epfd = -1;
	R.open = 0;
	R.again_head = R.again_tail = NULL;
}

/* A pipe from the pool or a new one: 0, or a negative UV_E*. */
static int
pipe_get(struct tk_splice_pipe *p)
{
	int fds[2], sz;

	if (R.n_pool > 0) {
		*p = R.pool[--R.n_pool];
		return 0;
	}
	if (R.fault == F_EMFILE) {
		errno = EMFILE;
		return UV_EMFILE;
	}
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
		return uv_translate_sys_error(errno);
	sz = fcntl(fds[0], F_GETPIPE_SZ);
	p->r = fds[0];
	p->w = fds[1];
	p->len = 0;
	p->cap = sz > 0 ? (size_t)sz : 65536;
	if (p->cap > R.def_cap) /* not a rationed one (two pages) */
		R.def_cap = p->cap;
	return 0;
}

/* An empty pipe is as good as new; one that holds bytes is closed. */
static void
pipe_put(struct tk_splice_pipe *p)
{
	if (p->r < 0)
		return;
	if (p->len == 0 && R.n_pool < POOL_MAX && R.open) {
		/* Grown for a bulk transfer: the next one may not be. */
		if (p->cap > R.def_cap) {
			int sz = fcntl(p->w, F_SETPIPE_SZ, (int)R.def_cap);

			if (sz <= 0) {
				pipe_close(p);
				return;
			}
			if (p->cap == PIPE_BIG)
				atomic_fetch_sub(&big_bytes, PIPE_BIG);
			p->cap = (size_t)sz;
		}
		R.pool[R.n_pool++] = *p;
		p->r = p->w = -1;
		return;
	}
	pipe_close(p);
}

static void
dequeue(struct tk_splice *sp)
{
	struct tk_splice **pp, *prev = NULL;

	if (!sp->queued)
		return;
	for (pp = &R.again_head; *pp != NULL; prev = *pp, pp = &(*pp)->again)
		if (*pp == sp) {
			*pp = sp->again;
			if (R.again_tail == sp)
				R.again_tail = prev;
			break;
		}
	sp->again = NULL;
	sp->queued = 0;
}

static void
enqueue(struct tk_splice *sp)
{
	if (sp->queued)
		return;
	sp->queued = 1;
	sp->again = NULL;
	if (R.again_tail != NULL)
		R.again_tail->again = sp;
	else
		R.again_head = sp;
	R.again_tail = sp;
	uv_idle_start(&R.idle, idle_cb);
}

/* The pipe's pages count while it holds anything, as a relay queue
 * counts a whole buffer for its first byte. */
static void
account(struct tk_splice *sp, int d)
{
	struct tk_splice_dir *dr = &sp->dir[d];
	size_t want = dr->p.len > 0 ? dr->p.cap : 0;

	if (want == dr->held || dr->acct == NULL)
		return;
	if (want > dr->held) {
		tk_relayq_hold(dr->acct, want - dr->held);
		sp->grew = 1;
	} else
		tk_relayq_unhold(dr->acct, dr->held - want);
	dr->held = want;
}

static ssize_t
do_splice(struct tk_splice *sp, int d, int in, int out, size_t len, int writing)
{
	const struct tk_splice_dir *dr = &sp->dir[d];
	ssize_t n;

	if (R.fault == F_ENOSYS ||
	    (R.fault == F_EINVAL_IN && !writing && !dr->used_in) ||
	    (R.fault == F_EINVAL_OUT && writing && !dr->used_out)) {
		errno = R.fault == F_ENOSYS ? ENOSYS : EINVAL;
		return -1;
	}
	do
		n = splice(in, NULL, out, NULL, len,
			   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
	while (n < 0 && errno == EINTR);
	return n;
}

static void
detach(struct tk_splice *sp)
{
	struct epoll_event ev = { 0 };

	sp->active = 0;
	dequeue(sp);
	if (sp->watched) {
		epoll_ctl(R.epfd, EPOLL_CTL_DEL, sp->fd[0], &ev);
		epoll_ctl(R.epfd, EPOLL_CTL_DEL, sp->fd[1], &ev);
		sp->watched = 0;
	}
}

/* A splice failed with err: a fallback if splice refused these sockets
 * before it ever worked on them, else an error. Returns -1 (stopped). */
static int
fail(struct tk_splice *sp, int d, int writing, int err)
{
	const struct tk_splice_dir *dr = &sp->dir[d];
	int first = writing ? !dr->used_out : !dr->used_in;

	if (first && (err == ENOSYS || err == EPERM)) {
		/* Not in this kernel (or filtered): say so once. */
		if (atomic_exchange(&broken, 1) == 0)
			tk_notice("splice(2) is not available here (%s): "
				  "relaying by copying from now on",
				  strerror(err));
	}
	if (first && (err == ENOSYS || err == EPERM || err == EINVAL ||
		      err == EOPNOTSUPP)) {
		detach(sp);
		sp->cbs->fallback(sp->arg, err);
		return -1;
	}
	sp->active = 0;
	dequeue(sp);
	sp->cbs->error(sp->arg, d, writing, err);
	return -1;
}

/* One round of direction d: 1 if anything moved or changed, 0 if not,
 * -1 if the relay stopped (the callbacks have run). */
static int
step(struct tk_splice *sp, int d)
{
	struct tk_splice_dir *dr = &sp->dir[d];
	int src = sp->fd[d], dst = sp->fd[!d], did = 0;
	ssize_t n;

	if (dr->p.len > 0 && sp->wr[!d]) {
		n = do_splice(sp, d, dr->p.r, dst, dr->p.len, 1);
		if (n > 0) {
			dr->p.len -= (size_t)n;
			dr->used_out = 1;
			sp->moved = 1;
			did = 1;
		} else if (n < 0 && errno == EAGAIN)
			sp->wr[!d] = 0;
		else
			return fail(sp, d, 1, n < 0 ? errno : EPIPE);
	}
	if (dr->p.len == 0 && dr->eof && !dr->shut) {
		const struct tk_splice_dir *other = &sp->dir[!d];

		dr->shut = 1;
		account(sp, d);
		/* A target that is gone shows it on the next read; a client
		 * that is gone is an error, as for uv_shutdown. When the
		 * other way is over too, the owner closes both sockets now
		 * (splice.h), with nothing left unread: close() sends the
		 * FIN, a system call fewer per connection. */
		if (!(other->eof && other->shut) &&
		    shutdown(dst, SHUT_WR) < 0 && d == TK_SPLICE_DOWN)
			return fail(sp, d, 1, errno);
		sp->cbs->eof_sent(sp->arg, d);
		if (!sp->active)
			return -1;
		did = 1;
	}
	if (!dr->eof && sp->rd[d] && dr->p.len < dr->p.cap) {
		size_t room = dr->p.cap - dr->p.len, was = dr->p.len;

		n = do_splice(sp, d, src, dr->p.w, room, 0);
		if (n > 0 && (size_t)n == room && room == dr->p.cap &&
		    dr->p.cap < PIPE_BIG)
			pipe_grow(&dr->p);
		if (n > 0) {
			dr->p.len += (size_t)n;
			dr->used_in = 1;
			sp->moved = 1;
			did = 1;
			/* A nonblocking splice from a TCP socket takes all
			 * it holds, unless the pipe's room or its slots (one
			 * per segment, a byte at least each) run out first.
			 * Fewer bytes than an empty pipe has slots: neither
			 * did, the socket is empty, and the next bytes bring
			 * a new event (edge-triggered: a wakeup after
			 * epoll_wait queues one). That saves the EAGAIN
			 * splice a short request or reply would cost in each
			 * direction. Not once EOF was reported: no event
			 * follows it, and it is still to be read. */
			if (was == 0 && (size_t)n < dr->p.cap / R.page &&
			    !sp->hup[d])
				sp->rd[d] = 0;
		} else if (n == 0) {
			dr->eof = 1;
			sp->rd[d] = 0;
			sp->cbs->eof_read(sp->arg, d);
			if (!sp->active)
				return -1;
			did = 1;
		} else if (errno == EAGAIN) {
			if (dr->p.len == 0)
				sp->rd[d] = 0;
		} else
			return fail(sp, d, 0, errno);
	}
	account(sp, d);
	return did;
}

static void
pump(struct tk_splice *sp)
{
	int rounds = 0, did;

	do {
		did = 0;
		for (int d = 0; d < 2; d++) {
			int r = step(sp, d);

			if (r < 0)
				return;
			did |= r;
		}
	} while (did && ++rounds < ROUNDS);
	if (did)
		enqueue(sp); /* more to do: after the loop's other work */
	if (sp->moved) {
		int grew = sp->grew;

		sp->moved = sp->grew = 0;
		sp->cbs->moved(sp->arg, grew); /* may stop sp */
	}
}

static void
poll_cb(uv_poll_t *h, int status, int events)
{
	struct epoll_event ev[EVENTS];
	int n;

	(void)h;
	(void)status;
	(void)events;
	for (int batch = 0; batch < 4; batch++) {
		n = epoll_wait(R.epfd, ev, EVENTS, 0);
		for (int i = 0; i < n; i++) {
			uintptr_t tag = (uintptr_t)ev[i].data.u64;
			struct tk_splice *sp =
				(struct tk_splice *)(tag & ~(uintptr_t)1);
			int side = (int)(tag & 1), e = (int)ev[i].events;

			/* A relay stopped earlier in this batch is still
			 * in memory (its owner frees it after the loop's
			 * close callbacks). */
			if (!sp->active)
				continue;
			if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				sp->rd[side] = 1;
			if (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				sp->hup[side] = 1;
			if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
				sp->wr[side] = 1;
			pump(sp);
		}
		if (n < EVENTS)
			break;
	}
}

static void
idle_cb(uv_idle_t *h)
{
	struct tk_splice *sp;
	size_t n = 0;

	/* Only what is queued now: a pump that queues itself again runs on
	 * the next turn. One at a time from the head, as a pump may stop
	 * (and unlink) any other relay. */
	for (sp = R.again_head; sp != NULL; sp = sp->again)
		n++;
	while (n-- > 0 && (sp = R.again_head) != NULL) {
		R.again_head = sp->again;
		if (R.again_head == NULL)
			R.again_tail = NULL;
		sp->again = NULL;
		sp->queued = 0;
		if (sp->active)
			pump(sp);
	}
	if (R.again_head == NULL)
		uv_idle_stop(h);
}

int
tk_splice_wanted(int setting)
{
	return setting != 0 && !atomic_load(&broken);
}

int
tk_splice_start(struct tk_splice *sp, uv_loop_t *loop, int fd_a, int fd_b,
		struct tk_relayq *acct_up, struct tk_relayq *acct_down,
		const struct tk_splice_cbs *cbs, void *arg)
{
	struct epoll_event ev = { 0 };
	unsigned long limit = tk_fd_limit();
	int rc = 0;

	memset(sp, 0, sizeof(*sp));
	sp->dir[0].p.r = sp->dir[0].p.w = -1;
	sp->dir[1].p.r = sp->dir[1].p.w = -1;
	sp->inited = 1;
	if (atomic_load(&broken) || reactor_open(loop) < 0)
		return UV_ENOSYS;
	/* Descriptors are handed out lowest first: the highest of ours is
	 * about how many are in use. New pipes take 4. */
	if (R.n_pool < 2 && limit != 0 &&
	    (unsigned long)(fd_a > fd_b ? fd_a : fd_b) + 4 + FD_RESERVE >=
		    limit)
		return UV_EMFILE;
	for (int d = 0; d < 2 && rc == 0; d++)
		rc = pipe_get(&sp->dir[d].p);
	if (rc < 0) {
		pipe_put(&sp->dir[0].p);
		pipe_put(&sp->dir[1].p);
		return rc;
	}
	sp->fd[0] = fd_a;
	sp->fd[1] = fd_b;
	sp->dir[TK_SPLICE_UP].acct = acct_up;
	sp->dir[TK_SPLICE_DOWN].acct = acct_down;
	sp->cbs = cbs;
	sp->arg = arg;
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.u64 = (uintptr_t)sp;
	if (epoll_ctl(R.epfd, EPOLL_CTL_ADD, fd_a, &ev) < 0) {
		rc = uv_translate_sys_error(errno);
		goto fail;
	}
	ev.data.u64 = (uintptr_t)sp | 1;
	if (epoll_ctl(R.epfd, EPOLL_CTL_ADD, fd_b, &ev) < 0) {
		rc = uv_translate_sys_error(errno);
		epoll_ctl(R.epfd, EPOLL_CTL_DEL, fd_a, &ev);
		goto fail;
	}
	/* Readable when an event says so (one comes at once for bytes
	 * already there); a fresh socket takes bytes until EAGAIN. */
	sp->wr[0] = sp->wr[1] = 1;
	sp->watched = sp->active = 1;
	return 0;
fail:
	pipe_put(&sp->dir[0].p);
	pipe_put(&sp->dir[1].p);
	return rc;
}

int
tk_splice_send(struct tk_splice *sp, int d, const uint8_t *p, size_t n)
{
	struct tk_splice_dir *dr = &sp->dir[d];
	ssize_t w = 0;

	if (n == 0)
		return 0;
	if (dr->p.len == 0) {
		w = send(sp->fd[!d], p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno != EAGAIN)
			return errno;
		if (w < 0)
			w = 0;
	}
	if ((size_t)w < n) {
		/* At most PIPE_BUF into a pipe with room: all of it. */
		ssize_t q = n - (size_t)w <= PIPE_BUF &&
					    dr->p.len + PIPE_BUF <= dr->p.cap
				    ? write(dr->p.w, p + w, n - (size_t)w)
				    : -1;

		if (q != (ssize_t)(n - (size_t)w))
			return ENOBUFS;
		dr->p.len += (size_t)q;
		sp->wr[!d] = 0;
		account(sp, d);
	}
	return 0;
}

size_t
tk_splice_take(struct tk_splice *sp, int d, uint8_t *buf, size_t len)
{
	struct tk_splice_dir *dr = &sp->dir[d];
	ssize_t n;

	if (dr->p.len == 0 || dr->p.r < 0)
		return 0;
	n = read(dr->p.r, buf, len < dr->p.len ? len : dr->p.len);
	if (n <= 0)
		return 0;
	dr->p.len -= (size_t)n;
	account(sp, d);
	return (size_t)n;
}

void
tk_splice_stop(struct tk_splice *sp)
{
	if (!sp->inited)
		return;
	sp->active = 0;
	dequeue(sp);
	/* The sockets are closed next, which takes them out of the epoll
	 * set: no epoll_ctl for that. */
	sp->watched = 0;
	for (int d = 0; d < 2; d++) {
		struct tk_splice_dir *dr = &sp->dir[d];

		if (dr->acct != NULL && dr->held > 0)
			tk_relayq_unhold(dr->acct, dr->held);
		dr->held = 0;
		if (dr->p.r >= 0 || dr->p.w >= 0)
			pipe_put(&dr->p);
	}
}

#else /* !__linux__: no splice(2); every relay copies */

int
tk_splice_wanted(int setting)
{
	static int said;

	if (setting == 1 && !said) {
		tk_notice("RelaySplice 1: splice(2) is Linux only; relaying "
			  "by copying");
		said = 1;
	}
	return 0;
}

int
tk_splice_start(struct tk_splice *sp, uv_loop_t *loop, int fd_a, int fd_b,
		struct tk_relayq *acct_up, struct tk_relayq *acct_down,
		const struct tk_splice_cbs *cbs, void *arg)
{
	(void)loop, (void)fd_a, (void)fd_b, (void)acct_up, (void)acct_down;
	(void)cbs, (void)arg;
	memset(sp, 0, sizeof(*sp));
	return UV_ENOSYS;
}

int
tk_splice_send(struct tk_splice *sp, int d, const uint8_t *p, size_t n)
{
	(void)sp, (void)d, (void)p, (void)n;
	return ENOSYS;
}

size_t
tk_splice_take(struct tk_splice *sp, int d, uint8_t *buf, size_t len)
{
	(void)sp, (void)d, (void)buf, (void)len;
	return 0;
}

void
tk_splice_stop(struct tk_splice *sp)
{
	(void)sp;
}

void
tk_splice_pool_free(void)
{
}

void
tk_splice_shutdown(void)
{
}

#endif
