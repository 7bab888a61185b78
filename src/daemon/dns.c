/* dns.c — c-ares driven by libuv: one uv_poll per resolver socket and one
 * timer for c-ares' retransmissions (the pattern Node.js uses). */
#include "daemon/dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dns_sock {
	uv_poll_t poll; /* first: the handle's address is ours */
	struct tk_dns *dns;
	ares_socket_t fd;
	struct dns_sock *next;
};

struct tk_dns_query {
	struct tk_dns *dns;
	tk_dns_cb cb;
	void *arg;
	int cancelled;
	int done; /* c-ares answered */
	int status;
	struct tk_resolved res;
	struct tk_dns_query *next_deferred;
};

struct tk_dns {
	uv_loop_t *loop;
	ares_channel channel;
	uv_timer_t timer; /* c-ares timeouts */
	uv_timer_t defer; /* delivers answers c-ares gave synchronously */
	struct dns_sock *socks;
	struct tk_dns_query *deferred;
	int starting; /* inside tk_dns_lookup/reverse */
	int closing;
	int open_handles;
	void (*done)(void *);
	void *done_arg;
};

const char *
tk_dns_strerror(int status)
{
	return ares_strerror(status);
}

static void update_timer(struct tk_dns *d);

static void
poll_cb(uv_poll_t *h, int status, int events)
{
	struct dns_sock *s = (struct dns_sock *)h;
	ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;

	/* On a poll error let c-ares read the socket: it sees the error
	 * itself and fails over to the next server. */
	if (status < 0 || (events & UV_READABLE))
		rfd = s->fd;
	if (status >= 0 && (events & UV_WRITABLE))
		wfd = s->fd;
	ares_process_fd(s->dns->channel, rfd, wfd);
	update_timer(s->dns);
}

static void
timer_cb(uv_timer_t *t)
{
	struct tk_dns *d = t->data;

	ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	update_timer(d);
}

static void
update_timer(struct tk_dns *d)
{
	struct timeval tv, *tvp;

	if (d->closing)
		return;
	tvp = ares_timeout(d->channel, NULL, &tv);
	if (tvp == NULL) {
		uv_timer_stop(&d->timer);
		return;
	}
	uv_timer_start(&d->timer, timer_cb,
		       (uint64_t)tvp->tv_sec * 1000 +
			       (uint64_t)tvp->tv_usec / 1000,
		       0);
}

static void
handle_closed(uv_handle_t *h)
{
	struct tk_dns *d;

	if (h->type == UV_POLL) {
		struct dns_sock *s = (struct dns_sock *)h;

		d = s->dns;
		free(s);
	} else
		d = h->data;
	if (--d->open_handles == 0 && d->closing) {
		void (*done)(void *) = d->done;
		void *arg = d->done_arg;

		free(d);
		if (done != NULL)
			done(arg);
	}
}

static void
sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct tk_dns *d = data;
	struct dns_sock **pp, *s;

	for (pp = &d->socks; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->fd == fd)
			break;
	s = *pp;
	if (!readable && !writable) {
		/* c-ares closes fd right after this: stop polling now. */
		if (s != NULL) {
			*pp = s->next;
			uv_poll_stop(&s->poll);
			uv_close((uv_handle_t *)&s->poll, handle_closed);
		}
		return;
	}
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return; /* c-ares times the query out */
		if (uv_poll_init_socket(d->loop, &s->poll, fd) < 0) {
			free(s);
			return;
		}
		s->dns = d;
		s->fd = fd;
		s->next = d->socks;
		d->socks = s;
		d->open_handles++;
	}
	uv_poll_start(&s->poll,
		      (readable ? UV_READABLE : 0) |
			      (writable ? UV_WRITABLE : 0),
		      poll_cb);
}

static void
deliver(struct tk_dns_query *q)
{
	if (!q->cancelled)
		q->cb(q->arg, q->status,
		      q->status == ARES_SUCCESS ? &q->res : NULL);
	free(q);
}

static void
defer_cb(uv_timer_t *t)
{
	struct tk_dns *d = t->data;

	while (d->deferred != NULL) {
		struct tk_dns_query *q = d->deferred;

		d->deferred = q->next_deferred;
		deliver(q);
	}
}

/* Called by c-ares when a query ends. */
static void
finish(struct tk_dns_query *q, int status)
{
	struct tk_dns *d = q->dns;

	q->status = status;
	q->done = 1;
	if (status == ARES_EDESTRUCTION) {
		/* tk_dns_close: the owner is going away. */
		free(q);
		return;
	}
	if (d->starting) {
		q->next_deferred = d->deferred;
		d->deferred = q;
		uv_timer_start(&d->defer, defer_cb, 0, 0);
		return;
	}
	deliver(q);
}

static void
addrinfo_cb(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct tk_dns_query *q = arg;

	(void)timeouts;
	if (status == ARES_SUCCESS && ai != NULL) {
		struct ares_addrinfo_node *n;

		q->res.ttl = UINT32_MAX;
		for (n = ai->nodes; n != NULL; n = n->ai_next) {
			struct tk_resolved_addr ra = { .family = n->ai_family };
			int dup = 0;

			if (q->res.n_addrs == TK_RESOLVED_MAX)
				break;
			if (n->ai_family == AF_INET)
				memcpy(ra.addr,
				       &((struct sockaddr_in *)n->ai_addr)
						->sin_addr,
				       4);
			else if (n->ai_family == AF_INET6)
				memcpy(ra.addr,
				       &((struct sockaddr_in6 *)n->ai_addr)
						->sin6_addr,
				       16);
			else
				continue;
			for (size_t i = 0; i < q->res.n_addrs; i++)
				if (q->res.addrs[i].family == ra.family &&
				    memcmp(q->res.addrs[i].addr, ra.addr, 16) ==
					    0)
					dup = 1;
			if (dup)
				continue;
			q->res.addrs[q->res.n_addrs++] = ra;
			if (n->ai_ttl >= 0 && (uint32_t)n->ai_ttl < q->res.ttl)
				q->res.ttl = (uint32_t)n->ai_ttl;
		}
		if (q->res.n_addrs == 0)
			status = ARES_ENODATA;
	}
	if (ai != NULL)
		ares_freeaddrinfo(ai);
	finish(q, status);
}

static void
hostent_cb(void *arg, int status, int timeouts, struct hostent *h)
{
	struct tk_dns_query *q = arg;

	(void)timeouts;
	if (status == ARES_SUCCESS) {
		if (h == NULL || h->h_name == NULL || h->h_name[0] == '\0' ||
		    strlen(h->h_name) >= sizeof(q->res.name))
			status = ARES_ENODATA;
		else
			strcpy(q->res.name, h->h_name);
	}
	finish(q, status);
}

static struct tk_dns_query *
query_new(struct tk_dns *d, tk_dns_cb cb, void *arg)
{
	struct tk_dns_query *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->dns = d;
	q->cb = cb;
	q->arg = arg;
	return q;
}

int
tk_dns_lookup(struct tk_dns *d, const char *name, int families, tk_dns_cb cb,
	      void *arg, struct tk_dns_query **out)
{
	struct ares_addrinfo_hints hints = { 0 };
	struct tk_dns_query *q = query_new(d, cb, arg);

	if (q == NULL)
		return UV_ENOMEM;
	if (families == TK_RESOLVE_IPV4)
		hints.ai_family = AF_INET;
	else if (families == TK_RESOLVE_IPV6)
		hints.ai_family = AF_INET6;
	else
		hints.ai_family = AF_UNSPEC;
	/* No RFC 6724 sorting: it probes routes with UDP sockets, and the
	 * engine tries every address anyway. */
	hints.ai_flags = ARES_AI_NOSORT;
	*out = q;
	d->starting = 1;
	ares_getaddrinfo(d->channel, name, NULL, &hints, addrinfo_cb, q);
	d->starting = 0;
	update_timer(d);
	return 0;
}

int
tk_dns_reverse(struct tk_dns *d, int family, const uint8_t addr[16],
	       tk_dns_cb cb, void *arg, struct tk_dns_query **out)
{
	struct tk_dns_query *q = query_new(d, cb, arg);

	if (q == NULL)
		return UV_ENOMEM;
	*out = q;
	d->starting = 1;
	ares_gethostbyaddr(d->channel, addr, family == AF_INET ? 4 : 16, family,
			   hostent_cb, q);
	d->starting = 0;
	update_timer(d);
	return 0;
}

void
tk_dns_cancel(struct tk_dns_query *q)
{
	/* c-ares cannot cancel one query; it is freed when it ends. */
	q->cancelled = 1;
}

int
tk_dns_set_servers(struct tk_dns *d, const char *servers, char *err,
		   size_t errlen)
{
	int rc;

	if (servers == NULL)
		return 0;
	rc = ares_set_servers_ports_csv(d->channel, servers);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "cannot use DNS servers %s: %s", servers,
			 ares_strerror(rc));
		return -1;
	}
	return 0;
}

int
tk_dns_new(uv_loop_t *loop, const char *servers, struct tk_dns **out, char *err,
	   size_t errlen)
{
	static int lib_ready;
	struct ares_options o;
	struct tk_dns *d;
	int rc;

	if (!lib_ready) {
		rc = ares_library_init(ARES_LIB_INIT_ALL);
		if (rc != ARES_SUCCESS) {
			snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
			return -1;
		}
		lib_ready = 1;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->loop = loop;
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = sock_state_cb;
	o.sock_state_cb_data = d;
	/* No search domains: a name is asked for as given, never with
	 * the local domain appended (that would leak it upstream). */
	o.ndomains = 0;
	o.domains = NULL;
	o.timeout = 2000;
	o.tries = 3;
	rc = ares_init_options(&d->channel, &o,
			       ARES_OPT_SOCK_STATE_CB | ARES_OPT_DOMAINS |
				       ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		free(d);
		return -1;
	}
	if (tk_dns_set_servers(d, servers, err, errlen) < 0) {
		ares_destroy(d->channel);
		free(d);
		return -1;
	}
	uv_timer_init(loop, &d->timer);
	uv_timer_init(loop, &d->defer);
	d->timer.data = d;
	d->defer.data = d;
	d->open_handles = 2;
	*out = d;
	return 0;
}

void
tk_dns_close(struct tk_dns *d, void (*done)(void *), void *arg)
{
	d->closing = 1;
	d->done = done;
	d->done_arg = arg;
	while (d->deferred != NULL) {
		struct tk_dns_query *q = d->deferred;

		d->deferred = q->next_deferred;
		free(q);
	}
	/* Calls every pending query with ARES_EDESTRUCTION (freed in
	 * finish) and the socket callbacks, which close the polls. */
	ares_destroy(d->channel);
	uv_close((uv_handle_t *)&d->timer, handle_closed);
	uv_close((uv_handle_t *)&d->defer, handle_closed);
}
