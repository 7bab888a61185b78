/* dirfetch.h: a small pool of one-hop directory circuits. */
#include "onion/dir/dirfetch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/circ/circuit.h"
#include "onion/dir/dirclient.h"
#include "onion/link/channel.h"

enum conn_state {
	CONN_HANDSHAKE, /* channel opening */
	CONN_BUILDING,	/* CREATE_FAST or CREATE2 sent */
	CONN_OPEN,	/* requests go straight to the circuit */
	CONN_DEAD,	/* failed or closing: takes no new requests */
};

struct job;

struct conn {
	struct conn *next;
	tk_dirfetch *f;
	enum conn_state state;
	uint8_t rsa_id[20];
	char nick[20];
	struct tk_dirsource src; /* its keys decide the handshake */
	tk_channel *ch;
	tk_circuit *circ;
	struct job *jobs;
	uint64_t idle_since; /* uv_now when the last job ended */
};

struct job {
	struct job *next;
	struct conn *conn; /* NULL: failed before it started (f->failed) */
	uint64_t id;
	char *path;
	char *headers;
	tk_dir_req *req; /* once sent */
};

struct tk_dirfetch {
	uv_loop_t *loop;
	struct tk_dirfetch_config cfg;
	tk_dirfetch_done_cb done;
	tk_dirfetch_stage_cb stage;
	tk_dirfetch_progress_cb progress;
	void *arg;
	struct conn *conns;
	uv_timer_t sweep;
	/* Requests that failed inside tk_dirfetch_get() (a connect refused
	 * at once: no route in this network), answered from the loop. */
	struct job *failed;
	uv_timer_t defer;
	int freeing;
};

void
tk_dirfetch_config_init(struct tk_dirfetch_config *c)
{
	c->timeout_ms = 10000;
	c->stall_ms = 60000;
	c->idle_ms = 60000;
	c->deflate = 1;
}

static void
job_free(struct job *j)
{
	free(j->path);
	free(j->headers);
	free(j);
}

static void
unlink_job(struct job *j)
{
	struct job **pp;
	for (pp = &j->conn->jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	if (!j->conn->jobs)
		j->conn->idle_since = uv_now(j->conn->f->loop);
}

static void
unlink_conn(struct conn *c)
{
	struct conn **pp;
	for (pp = &c->f->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			return;
		}
}

/* Closes the circuit and channel and frees c. Its jobs must be gone. */
static void
conn_destroy(struct conn *c)
{
	unlink_conn(c);
	if (c->circ)
		tk_circuit_close(c->circ);
	if (c->ch)
		tk_channel_close(c->ch, NULL);
	free(c);
}

/* Fails every job of c: only called before the circuit is built, when
 * none has been sent. Callbacks may start new fetches: c is dead by then,
 * so they go to a new connection. */
static void
fail_pending(struct conn *c, const char *why)
{
	struct job *j;
	c->state = CONN_DEAD;
	while ((j = c->jobs) != NULL) {
		unlink_job(j);
		uint64_t id = j->id;
		job_free(j);
		c->f->done(c->f->arg, id, -1, 0, NULL, 0, why);
	}
}

static void
on_dir_done(tk_dir_req *r, int status, const tk_http_response *resp, void *arg)
{
	struct job *j = arg;
	struct conn *c = j->conn;
	tk_dirfetch *f = c->f;
	uint64_t id = j->id;
	char why[400];

	unlink_job(j);
	job_free(j);
	if (status < 0) {
		snprintf(why, sizeof why, "%s from %s: %s", "request", c->nick,
			 tk_dir_errmsg(r));
		f->done(f->arg, id, status, 0, NULL, 0, why);
	} else {
		f->done(f->arg, id, 0, resp->status, resp->body, resp->body_len,
			NULL);
	}
	if (c->state == CONN_DEAD && !c->jobs)
		conn_destroy(c);
}

static void
on_dir_progress(void *arg, size_t bytes)
{
	struct job *j = arg;
	tk_dirfetch *f = j->conn->f;
	if (f->progress)
		f->progress(f->arg, j->id, bytes);
}

static int
send_job(struct conn *c, struct job *j)
{
	return tk_dir_get_hdrs(c->circ, j->path, j->headers, c->f->cfg.deflate,
			       c->f->cfg.stall_ms, on_dir_progress, on_dir_done,
			       j, &j->req);
}

static void
on_circ_lost(tk_circuit *circ, int status, void *arg)
{
	struct conn *c = arg;
	(void)circ;
	(void)status;
	/* Requests on it were told first. */
	c->state = CONN_DEAD;
	if (!c->jobs)
		conn_destroy(c);
}

static void
on_built(tk_circuit *circ, int status, void *arg)
{
	struct conn *c = arg;
	tk_dirfetch *f = c->f;
	char why[300];
	(void)circ;
	if (status < 0) {
		snprintf(why, sizeof why, "one-hop circuit to %s: %s", c->nick,
			 tk_circuit_errmsg(circ));
		fail_pending(c, why);
		conn_destroy(c);
		return;
	}
	c->state = CONN_OPEN;
	/* Send each queued job; a failed send is answered at once. Done
	 * callbacks may add jobs (sent directly, the conn being open). */
	for (;;) {
		struct job *j;
		for (j = c->jobs; j && j->req; j = j->next)
			;
		if (!j)
			break;
		if (f->stage)
			f->stage(f->arg, j->id, TK_DIRSTAGE_CIRCUIT);
		if (send_job(c, j) != 0) {
			uint64_t id = j->id;
			unlink_job(j);
			job_free(j);
			snprintf(why, sizeof why, "cannot send a request to %s",
				 c->nick);
			f->done(f->arg, id, -1, 0, NULL, 0, why);
			if (c->state == CONN_DEAD)
				break;
		}
	}
	if (c->state == CONN_DEAD && !c->jobs)
		conn_destroy(c);
}

static void
on_lost(tk_channel *ch, int status, void *arg)
{
	struct conn *c = arg;
	(void)ch;
	(void)status;
	/* Runs only if the circuit's lost callback did not already close
	 * the channel (conn_destroy does), so c is still ours. */
	c->state = CONN_DEAD;
	if (!c->jobs)
		conn_destroy(c);
}

static void
on_open(tk_channel *ch, int status, void *arg)
{
	struct conn *c = arg;
	tk_dirfetch *f = c->f;
	char why[300];
	if (status < 0) {
		snprintf(why, sizeof why, "link handshake with %s failed: %s",
			 c->nick, tk_channel_errmsg(ch));
		fail_pending(c, why);
		conn_destroy(c);
		return;
	}
	if (f->stage)
		for (struct job *j = c->jobs; j; j = j->next)
			f->stage(f->arg, j->id, TK_DIRSTAGE_HANDSHAKE_DONE);
	c->state = CONN_BUILDING;
	if (c->src.has_ntor) {
		tk_circuit_hop_target hop;
		memset(&hop, 0, sizeof hop);
		memcpy(hop.rsa_id, c->src.rsa_id, 20);
		memcpy(hop.ntor_key, c->src.ntor_key, 32);
		hop.has_ed_id = c->src.has_ed;
		memcpy(hop.ed_id, c->src.ed_id, 32);
		hop.addr = *tk_dirsource_addr(&c->src);
		status = tk_circuit_create_ntor(ch, &hop, f->cfg.timeout_ms,
						on_built, on_circ_lost, c,
						&c->circ);
	} else {
		status = tk_circuit_create_fast(ch, f->cfg.timeout_ms, on_built,
						on_circ_lost, c, &c->circ);
	}
	if (status != 0) {
		c->circ = NULL;
		snprintf(why, sizeof why, "cannot start a circuit to %s",
			 c->nick);
		fail_pending(c, why);
		conn_destroy(c);
	}
}

static void
on_defer(uv_timer_t *t)
{
	tk_dirfetch *f = t->data;
	struct job *j;
	while ((j = f->failed) != NULL) {
		uint64_t id = j->id;
		char why[300];
		f->failed = j->next;
		snprintf(why, sizeof why, "%s", j->path);
		job_free(j);
		f->done(f->arg, id, -1, 0, NULL, 0, why);
	}
}

/* "1.2.3.4:9001" or "[::1]:9001", for messages. */
static void
addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof a);
		snprintf(buf, len, "%s:%u", a, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof a);
		snprintf(buf, len, "[%s]:%u", a, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}

/* The connection could not even start: the answer (a failure saying
 * why) comes from the loop, as every other. */
static int
fail_later(tk_dirfetch *f, struct job *j, const struct tk_dirsource *src,
	   int rc)
{
	char addr[64] = "?", why[300];
	addr_text(tk_dirsource_addr(src), addr, sizeof addr);
	snprintf(why, sizeof why, "cannot connect to %s at %s: %s",
		 src->nickname, addr, tk_channel_strerror(rc));
	free(j->path);
	j->path = strdup(why); /* the message rides in the job */
	if (!j->path) {
		job_free(j);
		return -1;
	}
	j->conn = NULL;
	j->next = f->failed;
	f->failed = j;
	uv_timer_start(&f->defer, on_defer, 0, 0);
	return 0;
}

int
tk_dirfetch_get(tk_dirfetch *f, uint64_t id, const struct tk_dirsource *src,
		const char *path, const char *headers)
{
	struct conn *c;
	struct job *j;
	int rc;

	if (f->freeing)
		return -1;
	for (c = f->conns; c; c = c->next)
		if (c->state != CONN_DEAD &&
		    memcmp(c->rsa_id, src->rsa_id, 20) == 0)
			break;
	j = calloc(1, sizeof *j);
	if (!j || !(j->path = strdup(path)) ||
	    !(j->headers = strdup(headers ? headers : ""))) {
		if (j)
			free(j->path);
		free(j);
		return -1;
	}
	j->id = id;
	if (!c) {
		tk_channel_target t;
		c = calloc(1, sizeof *c);
		if (!c) {
			job_free(j);
			return -1;
		}
		c->f = f;
		c->src = *src;
		memcpy(c->rsa_id, src->rsa_id, 20);
		snprintf(c->nick, sizeof c->nick, "%s", src->nickname);
		tk_dirsource_target(src, &t);
		c->state = CONN_HANDSHAKE;
		rc = tk_channel_open(f->loop, &t, f->cfg.timeout_ms, on_open,
				     on_lost, c, &c->ch);
		if (rc != 0) {
			free(c);
			return fail_later(f, j, src, rc);
		}
		c->next = f->conns;
		f->conns = c;
	}
	j->conn = c;
	/* append: requests go out in the order they were made */
	struct job **pp = &c->jobs;
	while (*pp)
		pp = &(*pp)->next;
	*pp = j;
	if (c->state == CONN_OPEN && send_job(c, j) != 0) {
		unlink_job(j);
		job_free(j);
		return -1;
	}
	return 0;
}

void
tk_dirfetch_cancel(tk_dirfetch *f, uint64_t id)
{
	for (struct job **pp = &f->failed; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			struct job *j = *pp;
			*pp = j->next;
			job_free(j);
			return;
		}
	for (struct conn *c = f->conns; c; c = c->next)
		for (struct job *j = c->jobs; j; j = j->next) {
			if (j->id != id)
				continue;
			if (j->req)
				tk_dir_cancel(j->req);
			unlink_job(j);
			job_free(j);
			if (c->state == CONN_DEAD && !c->jobs)
				conn_destroy(c);
			return;
		}
}

size_t
tk_dirfetch_open_count(const tk_dirfetch *f)
{
	size_t n = 0;
	for (const struct conn *c = f->conns; c; c = c->next)
		n += c->state == CONN_OPEN;
	return n;
}

static void
on_sweep(uv_timer_t *t)
{
	tk_dirfetch *f = t->data;
	uint64_t now = uv_now(f->loop);
	struct conn *c = f->conns, *next;
	for (; c; c = next) {
		next = c->next;
		if (!c->jobs && c->state == CONN_OPEN &&
		    now - c->idle_since >= f->cfg.idle_ms)
			conn_destroy(c);
	}
}

int
tk_dirfetch_new(uv_loop_t *loop, const struct tk_dirfetch_config *cfg,
		tk_dirfetch_done_cb done, tk_dirfetch_stage_cb stage,
		tk_dirfetch_progress_cb progress, void *arg, tk_dirfetch **out)
{
	tk_dirfetch *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	f->loop = loop;
	f->cfg = *cfg;
	f->done = done;
	f->stage = stage;
	f->progress = progress;
	f->arg = arg;
	uv_timer_init(loop, &f->sweep);
	f->sweep.data = f;
	uv_timer_init(loop, &f->defer);
	f->defer.data = f;
	uint64_t every = cfg->idle_ms / 4 + 1;
	uv_timer_start(&f->sweep, on_sweep, every, every);
	uv_unref((uv_handle_t *)&f->sweep);
	*out = f;
	return 0;
}

/* The two timers close one after the other; the second frees f. */
static void
on_defer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
on_sweep_closed(uv_handle_t *h)
{
	tk_dirfetch *f = h->data;
	uv_close((uv_handle_t *)&f->defer, on_defer_closed);
}

void
tk_dirfetch_free(tk_dirfetch *f)
{
	if (!f)
		return;
	f->freeing = 1;
	while (f->failed) {
		struct job *j = f->failed;
		f->failed = j->next;
		job_free(j);
	}
	while (f->conns) {
		struct conn *c = f->conns;
		struct job *j;
		while ((j = c->jobs) != NULL) {
			if (j->req)
				tk_dir_cancel(j->req);
			c->jobs = j->next;
			job_free(j);
		}
		conn_destroy(c);
	}
	uv_close((uv_handle_t *)&f->sweep, on_sweep_closed);
}
