/* dns.h — asynchronous A/AAAA/PTR lookups with c-ares on the libuv loop,
 * for the direct engine. */
#ifndef TK_DAEMON_DNS_H
#define TK_DAEMON_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "daemon/engine.h"

struct tk_dns;
struct tk_dns_query;

/* status is an ARES_* code; on ARES_SUCCESS `res` is filled (addresses
 * for a lookup, res->name for a reverse lookup). Never called from inside
 * tk_dns_lookup / tk_dns_reverse. */
typedef void (*tk_dns_cb)(void *arg, int status, const struct tk_resolved *res);

/* servers: c-ares CSV ("127.0.0.1:53,[::1]:5353"), or NULL for the
 * system's /etc/resolv.conf. 0, or -1 with err set. */
int tk_dns_new(uv_loop_t *loop, const char *servers, struct tk_dns **out,
	       char *err, size_t errlen);
int tk_dns_set_servers(struct tk_dns *d, const char *servers, char *err,
		       size_t errlen);
int tk_dns_lookup(struct tk_dns *d, const char *name, int families,
		  tk_dns_cb cb, void *arg, struct tk_dns_query **q);
int tk_dns_reverse(struct tk_dns *d, int family, const uint8_t addr[16],
		   tk_dns_cb cb, void *arg, struct tk_dns_query **q);
/* The callback will not be called. */
void tk_dns_cancel(struct tk_dns_query *q);
/* Cancels everything; done(arg) once all handles are closed. */
void tk_dns_close(struct tk_dns *d, void (*done)(void *), void *arg);
const char *tk_dns_strerror(int status);

#endif
